# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Policy verdicts on the vault bodies real tenants have: each of the 14 definitions, every combination of its
allowed parameter values, on bodies recorded from Microsoft's clients (tests/fixtures/azure-real) with one property at a
time absent, null, an empty object, in another letter case, or at each value Azure writes; arrays absent, null, empty,
with members missing their fields. The collection's verdict (non-compliant, compliant, or not applicable: a vault of
the other kind) through ARM bodies and through Resource Graph rows must be the tests' own evaluator's
(tests/unit/policy_oracle.py); the oracle is itself checked first on what Microsoft Learn documents."""

from __future__ import annotations

import copy
import itertools

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils import _policy
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError, UnreadableResourceError
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.resource_graph import vault_records
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record

from tests.fixtures import load_real
from tests.unit import policy_oracle as oracle

SUB = '11111111-1111-1111-1111-111111111111'
RS, BV = 'recovery_services', 'backup'
ABSENT = object()
PEC_ID = '/subscriptions/%s/resourceGroups/rg-a/providers/Microsoft.RecoveryServices/vaults/v/privateEndpointConnections/' % SUB
KEY = 'https://kv-backup.vault.azure.net/keys/cmk/0123abcd'


def vid(name, kind):
    provider = 'Microsoft.RecoveryServices/vaults' if kind == RS else 'Microsoft.DataProtection/backupVaults'
    return '/subscriptions/%s/resourceGroups/rg-a/providers/%s/%s' % (SUB, provider, name)


def connection(name, status='Approved', state='Succeeded'):
    return {'id': PEC_ID + name, 'properties': {'provisioningState': state, 'privateEndpoint': {'id': '/x/pe'},
                                                'privateLinkServiceConnectionState': {'status': status}}}


# Real bodies (tests/fixtures/azure-real, each folder's SOURCE.txt): a Recovery Services vault with Unlocked immutability
# (azure-powershell), one created without soft delete (softDeleteSettings null, multiUserAuthorization and redundancy
# "Invalid"), one created AlwaysON (azure-cli); Backup vaults On/Disabled and AlwaysOn/Locked (azure-cli-extensions) and
# one with no securitySettings at all (azure-powershell).
BASES = {
    RS: ['ps-rs-immutability/get-unlocked.json', 'ps-rs-immutability/put-create-disabled.response.json',
         'cli-rs-softdelete-basic/put-create-alwayson.response.json', 'ps-rs-enhancedpolicy/get-hiagaVault.json'],
    BV: ['cliext-dp-vault-update/get-vault-initial.json', 'cliext-dp-vault-update/get-vault-final-locked-alwayson.json',
         'ps-dp-getvault/get-sarath-vault.json'],
}

# One property at a time: the values Azure writes, other letter cases, null, absent, an empty object in its place.
EDGES = {
    RS: {
        'properties.securitySettings': [ABSENT, None, {}],
        'properties.securitySettings.immutabilitySettings': [ABSENT, None, {}],
        'properties.securitySettings.immutabilitySettings.state': [
            'Disabled', 'Unlocked', 'UnLocked', 'unlocked', 'Locked', 'locked', 'LOCKED', None, ABSENT],
        'properties.securitySettings.softDeleteSettings': [None, {}],
        'properties.securitySettings.softDeleteSettings.softDeleteState': [
            'Enabled', 'enabled', 'AlwaysON', 'AlwaysOn', 'alwayson', 'Disabled', 'Invalid', None, ABSENT],
        'properties.securitySettings.multiUserAuthorization': ['Enabled', 'enabled', 'ENABLED', 'Disabled', 'Invalid', None, ABSENT],
        'properties.redundancySettings': [ABSENT, None, {}],
        'properties.redundancySettings.standardTierStorageRedundancy': [
            'GeoRedundant', 'georedundant', 'LocallyRedundant', 'locallyredundant', 'ZoneRedundant', 'Invalid', None, ABSENT],
        'properties.restoreSettings': [ABSENT, None, {}],
        'properties.restoreSettings.crossSubscriptionRestoreSettings.crossSubscriptionRestoreState': [
            'Enabled', 'Disabled', 'disabled', 'PermanentlyDisabled', 'permanentlydisabled', None, ABSENT],
        'properties.publicNetworkAccess': ['Enabled', 'Disabled', 'disabled', 'DISABLED', None, ABSENT],
        'properties.encryption': [
            ABSENT, None, {},
            {'keyVaultProperties': {'keyUri': KEY}, 'kekIdentity': {'useSystemAssignedIdentity': True}},
            {'keyVaultProperties': {'keyUri': KEY}, 'infrastructureEncryption': 'Enabled'},
            {'keyVaultProperties': {'keyUri': KEY}, 'infrastructureEncryption': 'enabled'},
            {'keyVaultProperties': {'keyUri': KEY}, 'infrastructureEncryption': 'Disabled'},
            {'keyVaultProperties': {'keyUri': None}, 'infrastructureEncryption': 'Enabled'},
            {'keyVaultProperties': {}, 'infrastructureEncryption': 'Enabled'},
            {'keyVaultProperties': None, 'infrastructureEncryption': 'Enabled'},
            {'KeyVaultProperties': {'KeyUri': KEY}, 'InfrastructureEncryption': 'ENABLED'}],
        'properties.privateEndpointConnections': [
            ABSENT, None, [],
            [connection('pe1.a1b2.backup')],
            [connection('pe1.a1b2.Backup', 'approved', 'succeeded')],
            [connection('pe1.a1b2.siterecovery')],
            [connection('pe1.a1b2.backup', status='Pending')],
            [connection('pe1.a1b2.backup', state='Failed')],
            [{'id': PEC_ID + 'pe1.a1b2.backup', 'properties': None}],
            [{'id': PEC_ID + 'pe1.a1b2.backup'}],
            [{'properties': connection('x')['properties']}],
            [None],
            [{}, connection('pe2.a1b2.backup')],
            [connection('pe1.a1b2.siterecovery'), connection('pe2.c3d4.backup', status='Rejected'), connection('pe3.c3d4.backup')],
            [{'ID': PEC_ID + 'pe1.a1b2.backup', 'Properties': {'ProvisioningState': 'Succeeded',
                                                               'PrivateLinkServiceConnectionState': {'Status': 'Approved'}}}]],
    },
    BV: {
        'properties.securitySettings': [ABSENT, None, {}],
        'properties.securitySettings.immutabilitySettings': [ABSENT, None, {}],
        'properties.securitySettings.immutabilitySettings.state': [
            'Disabled', 'Unlocked', 'unlocked', 'UnLocked', 'Locked', 'locked', None, ABSENT],
        'properties.securitySettings.softDeleteSettings': [ABSENT, None, {}],
        'properties.securitySettings.softDeleteSettings.state': ['On', 'on', 'Off', 'AlwaysOn', 'alwayson', 'ALWAYSON', None, ABSENT],
        'properties.securitySettings.encryptionSettings': [
            ABSENT, None, {}, {'state': 'Enabled'}, {'state': 'enabled', 'infrastructureEncryption': 'enabled'},
            {'state': 'Enabled', 'infrastructureEncryption': 'Enabled'},
            {'state': 'Enabled', 'infrastructureEncryption': 'Disabled'}, {'state': 'Disabled'}, {'state': 'Inconsistent'},
            {'state': None, 'infrastructureEncryption': 'Enabled'}],
        # A boolean in every recorded body; the strings are what a hand-made fleet file or an export may hold (Azure
        # Policy compares a boolean with a string as its text: see test_the_oracle_follows_learn).
        'properties.isVaultProtectedByResourceGuard': [True, False, None, ABSENT, 'true', 'True', 'false', 'False'],
        'properties.featureSettings': [ABSENT, None, {}],
        'properties.featureSettings.crossSubscriptionRestoreSettings.state': [
            'Enabled', 'Disabled', 'disabled', 'PermanentlyDisabled', 'PERMANENTLYDISABLED', None, ABSENT],
    },
}
TYPES = {RS: ['Microsoft.RecoveryServices/vaults', 'microsoft.recoveryservices/vaults', 'Microsoft.RecoveryServices/Vaults'],
         BV: ['Microsoft.DataProtection/backupVaults', 'microsoft.dataprotection/backupvaults', 'Microsoft.DataProtection/BackupVaults']}


def _set(body, path, value):
    parts = path.split('.')
    node = body
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if value is ABSENT:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = copy.deepcopy(value)


def edge_bodies(kind):
    """(label, body) for every base body with one edge applied (and each base as recorded, under each type spelling)."""
    for base_index, name in enumerate(BASES[kind]):
        base = load_real(name)
        for type_index, spelling in enumerate(TYPES[kind]):
            body = dict(copy.deepcopy(base), type=spelling)
            yield '%s type=%s' % (name, spelling), body, 'v%d-t%d' % (base_index, type_index)
        for path, values in EDGES[kind].items():
            for index, value in enumerate(values):
                body = copy.deepcopy(base)
                _set(body, path, value)
                yield '%s %s=%r' % (name, path, 'ABSENT' if value is ABSENT else value), body, 'v%d-%s-%d' % (
                    base_index, path.rsplit('.', 1)[-1], index)


def parameter_sets(definition):
    """Every combination of the allowed values of the definition's parameters (effects included)."""
    specs = definition['properties']['parameters']
    keys = sorted(key for key, spec in specs.items() if spec.get('allowedValues'))
    for values in itertools.product(*[specs[key]['allowedValues'] for key in keys]):
        yield dict(zip(keys, values))


def _verdict(records, definition, given):
    """The collection's verdict of one vault: None (not evaluated), 'n/a' (not its kind), True (non-compliant) or False."""
    row = _policy.evaluate(records, _policy.check_assignments({definition['name']: given}))['definitions'][0]
    if not row['evaluated']:
        return None
    if row['vaults'] == 0:
        return 'n/a'
    assert row['vaults'] == 1
    return bool(row['non_compliant'])


def _oracle_verdict(definition, body, given):
    """The oracle's verdict, with 'n/a' when the definition's type condition (its first allOf member) does not hold."""
    result = oracle.verdict(definition, body, given)
    if result is None:
        return None
    type_condition = definition['properties']['policyRule']['if']['allOf'][0]
    assert type_condition['field'].lower() == 'type'
    if not oracle.Oracle(body, oracle.parameters(definition, given)).holds(type_condition):
        return 'n/a'
    return result


def _records(kind, body, name):
    body = dict(body, id=vid(name, kind), name=name)
    arm = [vault_record(body, kind)]
    row = dict(copy.deepcopy(body), type=str(body['type']).lower(), kind='', managedBy='', resourceGroup='rg-a', subscriptionId=SUB)
    graph = vault_records([row])
    assert len(graph) == 1 and 'policy_fields' in graph[0], graph
    return body, arm, graph


@pytest.mark.parametrize('kind', [RS, BV])
def test_every_definition_judges_the_edges_as_the_oracle(kind):
    definitions = oracle.load_definitions()
    judged, wrong, unreadable = 0, [], []
    for label, raw, name in edge_bodies(kind):
        try:
            body, arm, graph = _records(kind, raw, name)
        except UnreadableResourceError:
            # A body the collection cannot read (an immutability state it has never seen) is an error of the run,
            # not a verdict; none of the edges above is one.
            unreadable.append(label)
            continue
        for _file, definition in definitions:
            for given in parameter_sets(definition):
                want = _oracle_verdict(definition, body, given)
                for source, records in (('arm', arm), ('graph', graph)):
                    got = _verdict(records, definition, given)
                    judged += 1
                    if got != want:
                        wrong.append('%s %s %s %s: collection %r, oracle %r' % (_file, given, source, label, got, want))
    assert not unreadable
    assert not wrong, '\n'.join(wrong[:20]) + ('\n... %d in all' % len(wrong))
    assert judged > 3000


def _recased(node, fn):
    if isinstance(node, dict):
        return dict((fn(key), _recased(value, fn)) for key, value in node.items())
    return [_recased(member, fn) for member in node] if isinstance(node, list) else node


@pytest.mark.parametrize('kind', [RS, BV])
def test_property_names_and_parameter_values_in_other_letter_case_are_judged_as_the_oracle(kind):
    """Every property name under ``properties`` in lower and in upper case (an alias names a property case-insensitively,
    Learn "Aliases"): the verdict is the oracle's on the body as Azure writes it. A parameter value in another letter case
    than the definition's allowed value ("audit" for "Audit") is refused, as Azure Policy refuses such an assignment
    (PolicyParameterValueNotAllowed; test_policy_verdicts.py): it has no verdict."""
    judged, wrong = 0, []
    for base_index, name in enumerate(BASES[kind]):
        base = load_real(name)
        for case in (str.lower, str.upper):
            raw = dict(copy.deepcopy(base), properties=_recased(base['properties'], case))
            body, arm, graph = _records(kind, raw, 'v%d-%s' % (base_index, case.__name__))
            for _file, definition in oracle.load_definitions():
                for given in parameter_sets(definition):
                    want = _oracle_verdict(definition, dict(body, properties=base['properties']), given)
                    spelt = dict((key, case(value) if isinstance(value, str) else value) for key, value in given.items())
                    if spelt != given:
                        with pytest.raises(InputError, match='PolicyParameterValueNotAllowed'):
                            _policy.check_assignments({definition['name']: spelt})
                    for source, records, params in (('arm', arm, given), ('graph', graph, given)):
                        got = _verdict(records, definition, params)
                        judged += 1
                        if got != want:
                            wrong.append('%s %s %s %s %s: collection %r, oracle %r' % (_file, params, source, name, case.__name__, got, want))
    assert not wrong, '\n'.join(wrong[:20]) + ('\n... %d in all' % len(wrong))
    assert judged > 500


# --------------------------------------------------------------------------- the oracle, on what Microsoft Learn documents

PNA = 'Microsoft.RecoveryServices/vaults/publicNetworkAccess'
PEC = 'Microsoft.RecoveryServices/vaults/privateEndpointConnections[*]'
GUARD = 'Microsoft.DataProtection/backupVaults/isVaultProtectedByResourceGuard'


def _holds(condition, properties=None, params=None):
    return oracle.Oracle({'type': oracle.RS_TYPE, 'properties': properties or {}}, params or {}).holds(condition)


def test_the_oracle_follows_learn():
    """Each expectation is written from Microsoft Learn, not from the collection's code."""
    # "Azure Policy definition structure: policy rule", Conditions: every condition on a string value but match and
    # notMatch is case-insensitive.
    assert _holds({'field': PNA, 'equals': 'ENABLED'}, {'publicNetworkAccess': 'Enabled'})
    assert _holds({'field': PNA, 'in': ['disabled']}, {'publicNetworkAccess': 'DISABLED'})
    assert not _holds({'field': PNA, 'notIn': ['Disabled', 'enabled']}, {'publicNetworkAccess': 'Enabled'})
    # Same page, Value examples: "[less(length(field('tags')), 3)]" (a boolean) "equals": "true" denies a resource with
    # fewer than three tags: a boolean equals the string of its value. (Microsoft's built-in
    # EnableRecoveryServiceVaultDiagnosticSetting_DINE compares the boolean logs[*].enabled with "True" the same way.)
    assert _holds({'value': True, 'equals': 'true'})
    assert _holds({'value': True, 'equals': 'True'})
    assert not _holds({'value': False, 'equals': 'true'})
    assert _holds({'value': "[parameters('flag')]", 'notEquals': 'true'}, params={'flag': False})
    bv = oracle.Oracle({'type': oracle.BV_TYPE, 'properties': {'isVaultProtectedByResourceGuard': 'True'}}, {})
    assert not bv.holds({'field': GUARD, 'notEquals': True})
    # "Author policies for array properties": a missing property selects null, which equals no string and so is not
    # in any list; a missing array's [*] is an empty collection (count 0); count with where counts the members that
    # match, each evaluated as if it were the array's only member.
    assert not _holds({'field': PNA, 'equals': 'Enabled'})
    assert _holds({'field': PNA, 'notEquals': 'Disabled'})
    assert _holds({'field': PNA, 'notIn': ['Enabled', 'Disabled']})
    assert _holds({'field': PNA, 'exists': 'false'}) and not _holds({'field': PNA, 'exists': 'true'})
    assert _holds({'count': {'field': PEC}, 'equals': 0})
    assert _holds({'count': {'field': PEC}, 'equals': 0}, {'privateEndpointConnections': []})
    members = {'privateEndpointConnections': [connection('a.backup'), connection('b.backup', 'Pending'), {}]}
    assert _holds({'count': {'field': PEC}, 'equals': 3}, members)
    where = {'field': PEC + '.privateLinkServiceConnectionState.status', 'equals': 'approved'}
    assert _holds({'count': {'field': PEC, 'where': where}, 'equals': 1}, members)
    assert _holds({'count': {'field': PEC, 'where': {'field': PEC + '.id', 'contains': '.BACKUP'}}, 'equals': 2}, members)
