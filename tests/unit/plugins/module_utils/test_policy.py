# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Policy parity: the definitions' data, the condition language, the role variable's checks, the parity of the
collection's verdicts with the tests' own evaluator (tests/unit/policy_oracle.py) over random vaults, and the reports."""

from __future__ import annotations

import json
import os
import random
import re

import jsonschema
import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils import _policy
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._aliases import ALIASES
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._definitions import DEFINITIONS
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._evaluator import (
    MISSING,
    Context,
    PolicyRuleError,
    evaluate,
    read_path,
    resolve,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.html import render_html
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import build_sarif
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report, render_markdown
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.resource_graph import vault_records
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import plan_run
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import build_run_report, load_plan, save_plan, write_reports

from tests.unit import policy_oracle as oracle

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
SUB = '11111111-1111-1111-1111-111111111111'
RS_IMMUTABILITY = 'd6f6f560-14b7-49a4-9fc8-d2c3a9807868'
RS_SOFT_DELETE = '31b8092a-36b8-434b-9af7-5ec844364148'
RS_PRIVATE_LINK = 'deeddb44-9f94-4903-9fa0-081d524406e3'
RS_REDUNDANCY = '8f09fda1-91a2-4e14-96a2-67c6281158f7'
DINE = 'c717fb0c-d118-4c43-ab3d-ece30ac81fb3'
BV_IMMUTABILITY = '2514263b-bc0d-4b06-ac3e-f262c0979018'


def vid(name, kind='recovery_services'):
    provider = 'Microsoft.RecoveryServices/vaults' if kind == 'recovery_services' else 'Microsoft.DataProtection/backupVaults'
    return '/subscriptions/%s/resourceGroups/rg-a/providers/%s/%s' % (SUB, provider, name)


def holds(condition, body=None, parameters=None):
    return evaluate(condition, Context(body or {}, parameters or {}))


# --------------------------------------------------------------------------- the definitions are the files'

def test_the_definitions_are_the_fixture_files():
    files = oracle.load_definitions()
    # The 14 that judge a vault property; the 15th (diagnostic settings, deployIfNotExists): test_policy_dine.py.
    assert len(files) == 14 and len(DEFINITIONS) == 15
    by_file = dict((d['file'], d) for d in DEFINITIONS)
    for name, doc in files:
        mine, props = by_file[name], doc['properties']
        assert mine['name'] == doc['name'] and mine['display_name'] == props['displayName']
        assert mine['version'] == props['metadata']['version'] and mine['mode'] == props['mode']
        assert mine['if'] == props['policyRule']['if'] and mine['effect'] == props['policyRule']['then']['effect']
        assert set(mine['parameters']) == set(props['parameters'])
        for key, spec in props['parameters'].items():
            assert mine['parameters'][key].get('allowed_values') == spec.get('allowedValues')
            assert mine['parameters'][key].get('default') == spec.get('defaultValue')


def test_every_alias_the_definitions_read_has_azures_path():
    """The collection's alias table agrees with Azure's alias list (the fixture tables) for every alias used."""
    used = set()
    for definition in DEFINITIONS:
        # A template expression (the diagnostic settings definition's tag exclusion) is not an alias.
        used |= set(name.lower() for name in _policy._fields(definition['if'], set()) if name.lower() != 'type' and not name.startswith('['))
    assert used == set(ALIASES)
    for alias in used:
        assert ALIASES[alias] == oracle.ALIASES[alias], alias


# --------------------------------------------------------------------------- the condition language

BODY = {'type': 'Microsoft.RecoveryServices/vaults', 'name': 'rsv-1', 'location': 'westeurope', 'tags': {'Env': 'Prod'},
        'properties': {'publicNetworkAccess': 'Enabled', 'securitySettings': {'immutabilitySettings': {'state': 'Locked'}},
                       'privateEndpointConnections': [
                           {'id': 'pe1.backup', 'properties': {'provisioningState': 'Succeeded',
                                                               'privateLinkServiceConnectionState': {'status': 'Approved'}}},
                           {'id': 'pe2.siterecovery', 'properties': {'provisioningState': 'Succeeded',
                                                                     'privateLinkServiceConnectionState': {'status': 'approved'}}},
                           {'id': 'pe3.backup', 'properties': {'provisioningState': 'Pending',
                                                               'privateLinkServiceConnectionState': {'status': 'Pending'}}}]}}
PNA = 'Microsoft.RecoveryServices/vaults/publicNetworkAccess'
IMM = 'Microsoft.RecoveryServices/vaults/securitySettings.immutabilitySettings.state'
CMK = 'Microsoft.RecoveryServices/vaults/encryption.keyVaultProperties.keyUri'
PEC = 'Microsoft.RecoveryServices/vaults/privateEndpointConnections[*]'


@pytest.mark.parametrize('condition, expected', [
    ({'field': 'type', 'equals': 'microsoft.recoveryservices/VAULTS'}, True),
    ({'field': PNA, 'equals': 'ENABLED'}, True),
    ({'field': PNA.upper(), 'notEquals': 'enabled'}, False),
    ({'field': IMM, 'in': ['locked', 'UnLocked']}, True),
    ({'field': IMM, 'notIn': ['Unlocked']}, True),
    ({'field': CMK, 'exists': 'false'}, True),
    ({'field': CMK, 'exists': True}, False),
    ({'field': CMK, 'equals': 'x'}, False),
    ({'field': CMK, 'notEquals': 'x'}, True),
    ({'field': CMK, 'notIn': ['x']}, True),
    ({'field': PNA, 'contains': 'NAB'}, True),
    ({'field': PNA, 'notContains': 'nab'}, False),
    ({'field': PNA, 'like': 'en*'}, True),
    ({'field': PNA, 'notLike': '*ed'}, False),
    ({'field': PNA, 'match': 'E??????'}, True),
    ({'field': PNA, 'match': 'e??????'}, False),
    ({'field': PNA, 'matchInsensitively': 'e??????'}, True),
    ({'field': 'name', 'match': 'rsv-#'}, True),
    ({'field': 'tags', 'containsKey': 'env'}, True),
    ({'field': "tags['env']", 'equals': 'prod'}, True),
    ({'field': 'tags.Env', 'notEquals': 'Prod'}, False),
    ({'field': 'location', 'equals': 'WestEurope'}, True),
    ({'value': 3, 'less': 4}, True),
    ({'value': 3, 'greaterOrEquals': 4}, False),
    ({'value': "[[parameters('x')]", 'equals': "[[parameters('x')]"}, True),
    ({'allOf': [{'field': PNA, 'equals': 'enabled'}, {'field': CMK, 'exists': 'true'}]}, False),
    ({'anyOf': [{'field': PNA, 'equals': 'disabled'}, {'field': CMK, 'exists': 'false'}]}, True),
    ({'not': {'field': PNA, 'equals': 'enabled'}}, False),
    ({'ALLOF': [{'field': PNA, 'EQUALS': 'enabled'}]}, True),
])
def test_each_condition_form(condition, expected):
    assert holds(condition, BODY) is expected


def test_count_with_and_without_where():
    where = {'allOf': [
        {'field': PEC + '.privateLinkServiceConnectionState.status', 'equals': 'Approved'},
        {'field': PEC + '.provisioningState', 'equals': 'Succeeded'},
        {'field': PEC + '.id', 'contains': '.backup'}]}
    assert holds({'count': {'field': PEC}, 'equals': 3}, BODY)
    assert holds({'count': {'field': PEC, 'where': where}, 'equals': 1}, BODY)
    assert holds({'count': {'field': PEC, 'where': where}, 'less': 1}, {'properties': {}})
    # A [*] alias outside count holds when every member meets the condition.
    assert holds({'field': PEC + '.provisioningState', 'in': ['Succeeded', 'Pending']}, BODY)
    assert not holds({'field': PEC + '.provisioningState', 'equals': 'Succeeded'}, BODY)


def test_array_aliases_select_as_learn_documents():
    """Microsoft Learn, "Author policies for array properties" (Referencing the array members collection): a field
    condition on an [*] alias holds when every selected value meets it; a missing array's [*] (and [*].property) selects
    an empty collection, as an empty array does; nested [*] select the members' members; field() returns the selected
    values as an array ([] for a missing array) and "" for a missing property."""
    pec_id = PEC + '.id'
    for body in ({'properties': {}}, {'properties': {'privateEndpointConnections': []}}, {},
                 {'properties': {'privateEndpointConnections': None}}):
        assert holds({'field': pec_id, 'equals': 'nothing'}, body), body
        assert holds({'field': pec_id, 'notEquals': 'pe1.backup'}, body), body
        assert holds({'field': PEC, 'exists': 'true'}, body), body
        assert resolve("[field('%s')]" % pec_id, Context(body, {})) == []
        assert resolve("[length(field('%s'))]" % PEC, Context(body, {})) == 0
    assert not holds({'field': pec_id, 'equals': 'pe1.backup'}, BODY)
    assert holds({'field': pec_id, 'like': 'pe*'}, BODY)
    assert resolve("[field('%s')]" % pec_id, Context(BODY, {})) == ['pe1.backup', 'pe2.siterecovery', 'pe3.backup']
    assert resolve("[field('%s')]" % PNA, Context({'properties': {}}, {})) == ''
    assert resolve("[length(field('%s'))]" % PNA, Context({'properties': {}}, {})) == 0
    # A member without the property selects null (it equals nothing).
    one_without = {'properties': {'privateEndpointConnections': [{'id': 'pe1.backup'}, {'properties': {}}]}}
    assert not holds({'field': pec_id, 'equals': 'pe1.backup'}, one_without)
    assert holds({'field': pec_id, 'notEquals': 'other'}, one_without)


def test_parameters_and_template_functions():
    params = {'Flag': True, 'state': 'Locked'}
    assert holds({'value': "[parameters('flag')]", 'equals': True}, parameters=params)
    assert holds({'field': IMM, 'equals': "[parameters('state')]"}, BODY, params)
    assert resolve("[concat('a', toLower('B'), string(1))]", Context({}, {})) == 'ab1'
    assert resolve("[if(equals(1, 1), 'yes', 'no')]", Context({}, {})) == 'yes'
    assert resolve("[field('name')]", Context(BODY, {})) == 'rsv-1'
    with pytest.raises(PolicyRuleError, match='utcNow'):
        resolve('[utcNow()]', Context({}, {}))
    with pytest.raises(PolicyRuleError, match='no such parameter'):
        resolve("[parameters('missing')]", Context({}, {}))
    with pytest.raises(PolicyRuleError, match='unknown Azure Policy alias'):
        holds({'field': 'Microsoft.RecoveryServices/vaults/nothing', 'equals': 1})
    with pytest.raises(PolicyRuleError, match='exactly one operator'):
        holds({'field': PNA, 'equals': 1, 'notEquals': 2})


# --------------------------------------------------------------------------- the role variable

def test_assignments_default_to_every_definition_and_empty_turns_them_off():
    assignments = _policy.check_assignments(None)
    # Every definition but the opt-in one (diagnostic settings: one ARM read a vault; test_policy_dine.py).
    assert [d['name'] for d, _p in assignments] == [d['name'] for d in DEFINITIONS if d['name'] != DINE] != []
    assert len(assignments) == 14
    params = dict((d['name'], p) for d, p in assignments)
    assert params[RS_IMMUTABILITY] == {'effect': 'Audit', 'checkLockedImmutabilityOnly': True}
    assert _policy.check_assignments({}) == []
    # Definition names in any letter case; parameter names and values as the definition spells them (Azure Policy refuses
    # another spelling of a value, test_policy_verdicts.py, and does not use a parameter named in another letter case,
    # test_policy_empty_and_order.py).
    one = _policy.check_assignments({RS_REDUNDANCY.upper(): {'BackupStorageRedundancy': 'LocallyRedundant', 'effect': 'Disabled'}})
    assert one[0][1] == {'effect': 'Disabled', 'BackupStorageRedundancy': 'LocallyRedundant'}
    with pytest.raises(InputError, match='spelt BackupStorageRedundancy'):
        _policy.check_assignments({RS_REDUNDANCY: {'backupstorageredundancy': 'LocallyRedundant'}})
    with pytest.raises(InputError, match='PolicyParameterValueNotAllowed'):
        _policy.check_assignments({RS_REDUNDANCY: {'effect': 'DISABLED'}})


@pytest.mark.parametrize('value, message', [
    ([], 'harden_backup_vaults_azure_policy must be a dictionary'),
    ({'00000000-0000-0000-0000-000000000000': {}}, "harden_backup_vaults_azure_policy: '00000000-0000-0000-0000-000000000000' is not"),
    ({RS_IMMUTABILITY: {'lockedOnly': True}}, 'harden_backup_vaults_azure_policy.%s: unknown parameter' % RS_IMMUTABILITY),
    ({RS_IMMUTABILITY: {'effect': 'Deny'}}, r"effect: 'Deny' is not one of the values the definition allows \(Audit, Disabled\)"),
    ({RS_IMMUTABILITY: {'checkLockedImmutabilityOnly': 'yes'}}, 'checkLockedImmutabilityOnly must be true or false'),
    ({RS_REDUNDANCY: {'BackupStorageRedundancy': 3}}, 'BackupStorageRedundancy must be a string'),
    ({RS_REDUNDANCY: []}, 'must be a dictionary of the definition'),
])
def test_bad_assignments_are_refused_naming_the_variable(value, message):
    with pytest.raises(InputError, match=message):
        _policy.check_assignments(value)


def test_a_disabled_definition_is_not_evaluated():
    record = vault_record(oracle.random_body('recovery_services', 'rsv-a', vid('rsv-a'), oracle.random_rng(1)), 'recovery_services')
    section = _policy.evaluate([record], _policy.check_assignments({RS_SOFT_DELETE: {'effect': 'Disabled'}, RS_PRIVATE_LINK: {}}))
    disabled, audited = section['definitions']
    assert disabled['evaluated'] is False and disabled['non_compliant'] == [] and disabled['vaults'] == 0
    assert audited['evaluated'] is True and audited['vaults'] == 1 and audited['effect'] == 'Audit'


# --------------------------------------------------------------------------- parity with the tests' own evaluator

def _fleet(seed, count=60, empties=False):
    rng = oracle.random_rng(seed)
    bodies = []
    for index in range(count):
        kind = rng.choice(['recovery_services', 'backup'])
        name = '%s-%03d' % ('rsv' if kind == 'recovery_services' else 'bv', index)
        bodies.append((kind, oracle.random_body(kind, name, vid(name, kind), rng, empties=empties)))
    return bodies


def _expected(bodies, given):
    """{definition name: (evaluated, sorted non-compliant ids)} by the oracle."""
    out = {}
    for _file, definition in oracle.load_definitions():
        if definition['name'] not in given:
            continue
        verdicts = [(body['id'], oracle.verdict(definition, body, given[definition['name']])) for _kind, body in bodies]
        evaluated = all(v is not None for _i, v in verdicts)
        out[definition['name']] = (evaluated, sorted((i for i, v in verdicts if v), key=str.lower))
    return out


def _collection(records, given):
    section = _policy.evaluate(records, _policy.check_assignments(given))
    return dict((row['name'], (row['evaluated'], row['non_compliant'])) for row in section['definitions'])


@pytest.mark.parametrize('seed', [1, 2, 3, 4, 5, 6])
def test_verdicts_equal_the_oracles_through_arm_bodies_and_graph_rows(seed):
    bodies = _fleet(seed)
    rng = oracle.random_rng(1000 + seed)
    defaults = dict((d['name'], {}) for _f, d in oracle.load_definitions())
    non_default = dict((d['name'], oracle.random_parameters(d, rng)) for _f, d in oracle.load_definitions())
    arm = [vault_record(body, kind) for kind, body in bodies]
    # A Resource Graph row: the same properties, the type lower-cased, the row's other columns.
    rows = [dict(body, type=body['type'].lower(), kind='', managedBy='', resourceGroup='rg-a', subscriptionId=SUB)
            for _kind, body in bodies]
    graph = vault_records(rows)
    for given in (defaults, non_default):
        expected = _expected(bodies, given)
        assert _collection(arm, given) == expected
        assert _collection(graph, given) == expected
    # The random fleet has both verdicts for most definitions.
    mixed = [name for name, (_e, ids) in _expected(bodies, defaults).items() if 0 < len(ids)]
    assert len(mixed) >= 10


@pytest.mark.parametrize('seed', [21, 22, 23, 24])
def test_verdicts_equal_the_oracles_when_properties_are_present_but_empty(seed):
    """Learn lists ``"exists": "bool"`` and says nothing of "", [] or {}: the collection reads a rule both ways
    (_evaluator.EMPTY_READING) and so does the oracle; a vault is non-compliant when either reading says so. Before, the
    oracle read "" as existing only, and its verdicts differed from the collection's wherever a definition asks whether
    a property exists (the customer-managed key built-ins' keyUri, say)."""
    bodies = _fleet(seed, empties=True)
    empties = [body['id'] for _kind, body in bodies if "''" in repr(body['properties']) or '{}' in repr(body['properties'])]
    assert len(empties) >= 20
    defaults = dict((d['name'], {}) for _f, d in oracle.load_definitions())
    records = [vault_record(body, kind) for kind, body in bodies]
    assert _collection(records, defaults) == _expected(bodies, defaults)


def test_the_oracle_reads_an_empty_key_uri_both_ways_as_the_collection_does():
    """The customer-managed key built-in for Recovery Services vaults (keyUri exists false, with encryption configured):
    a keyUri of "" exists under the reading as written and does not under the empty reading, so the vault is
    non-compliant; an absent keyUri is non-compliant under both, a real one under neither."""
    definition = dict((d['name'], d) for _f, d in oracle.load_definitions())
    reading_key = [d for d in definition.values() if 'keyUri' in json.dumps(d['properties']['policyRule']['if'])]
    keyed = [d for d in reading_key if oracle.RS_TYPE.lower() in json.dumps(d['properties']['policyRule']['if']).lower()]
    assert keyed, 'no Recovery Services definition reads keyUri'
    for rule in keyed:
        verdicts = {}
        for label, key_uri in (('empty', ''), ('absent', None), ('set', 'https://kv.vault.azure.net/keys/k/1')):
            encryption = {'kekIdentity': {'useSystemAssignedIdentity': True}, 'infrastructureEncryption': 'Enabled'}
            if key_uri is not None:
                encryption['keyVaultProperties'] = {'keyUri': key_uri}
            body = {'id': vid('rsv-k'), 'name': 'rsv-k', 'type': oracle.RS_TYPE, 'location': 'westeurope', 'tags': {},
                    'properties': {'provisioningState': 'Succeeded', 'securitySettings': {}, 'encryption': encryption}}
            verdicts[label] = oracle.verdict(rule, body)
            literal = oracle.Oracle(body, oracle.parameters(rule, None)).holds(rule['properties']['policyRule']['if'])
            if label == 'empty':
                assert literal is False, 'as written, a keyUri of "" exists'
            assert _collection([vault_record(body, 'recovery_services')], {rule['name']: {}})[rule['name']][1] == (
                [body['id']] if verdicts[label] else [])
        assert verdicts == {'empty': True, 'absent': True, 'set': False}, (rule['name'], verdicts)


def test_vaults_configured_alike_are_judged_once_with_the_same_verdicts(monkeypatch):
    """The memo of evaluate(): twins (the same body under another name) get their own verdicts, equal to the oracle's,
    for one judgement per configuration; a field that is not hashable (an object) is judged without the memo."""
    bodies = _fleet(7, count=30)
    twins = []
    for kind, body in bodies:
        twin = json.loads(json.dumps(body))
        twin['name'] = body['name'] + '-twin'
        twin['id'] = vid(twin['name'], kind)
        twins.append((kind, twin))
    fleet = bodies + twins
    defaults = dict((d['name'], {}) for _f, d in oracle.load_definitions())
    records = [vault_record(body, kind) for kind, body in fleet]
    calls = []
    real = _policy.non_compliant
    monkeypatch.setattr(_policy, 'non_compliant', lambda *args: calls.append(args[0]) or real(*args))
    assert _collection(records, defaults) == _expected(fleet, defaults)
    configurations = len(set(_policy._memo_key(r['vault_type'], r['policy_fields']) for r in records))  # pylint: disable=protected-access
    assert configurations <= len(bodies)
    per_kind = dict((kind, sum(1 for d in DEFINITIONS if _policy.KIND[d['name']] == kind and d['name'] in defaults))
                    for kind in ('recovery_services', 'backup'))
    assert len(calls) <= configurations * max(per_kind.values()) < len(records) * min(per_kind.values())
    # An object where the definitions read a value cannot be a key: that vault is judged, and judged right.
    odd = dict(records[0], id=records[0]['id'] + '-odd', policy_fields=dict(records[0]['policy_fields'], **{'properties.publicNetworkAccess': {'x': 1}}))
    assert _policy._memo_key(odd['vault_type'], odd['policy_fields']) is None  # pylint: disable=protected-access
    section = _policy.evaluate([odd], _policy.check_assignments(defaults))
    alone = _policy.evaluate([dict(odd, id='other')], _policy.check_assignments(defaults))
    assert [r['vaults'] for r in section['definitions']] == [r['vaults'] for r in alone['definitions']]
    assert sum(r['vaults'] for r in section['definitions']) >= 1


def test_policy_fields_keep_only_what_the_definitions_read():
    body = oracle.random_body('recovery_services', 'rsv-a', vid('rsv-a'), oracle.random_rng(7))
    body['properties']['privateEndpointConnections'] = [{'id': 'pe.backup', 'properties': {
        'provisioningState': 'Succeeded', 'groupIds': ['AzureBackup'], 'privateLinkServiceConnectionState': {'status': 'Approved', 'description': 'x'}}}]
    fields = vault_record(body, 'recovery_services')['policy_fields']
    pec = 'properties.privateEndpointConnections[*]'
    assert fields[pec + '.id'] == ('pe.backup',) and fields[pec + '.properties.provisioningState'] == ('Succeeded',)
    assert fields[pec + '.properties.privateLinkServiceConnectionState.status'] == ('Approved',)
    assert set(fields) <= set(['type'] + list(_policy._KEYS)) and 'softDeleteRetentionPeriodInDays' not in json.dumps(fields)
    # The body the definitions read again: only these fields, in the ARM shape.
    rebuilt = _policy.body_of(fields)
    assert rebuilt['properties']['privateEndpointConnections'] == [
        {'id': 'pe.backup', 'properties': {'provisioningState': 'Succeeded', 'privateLinkServiceConnectionState': {'status': 'Approved'}}}]
    # An empty array stays an empty array; a Resource Graph row (type lower-cased) gives the same fields.
    body['properties']['privateEndpointConnections'] = []
    assert _policy.body_of(vault_record(body, 'recovery_services')['policy_fields'])['properties']['privateEndpointConnections'] == []
    row = dict(body, type=body['type'].lower())
    assert vault_record(row, 'recovery_services')['policy_fields'] == vault_record(body, 'recovery_services')['policy_fields']


def _fields_path_by_path(raw, vault_type):
    """policy_fields as the definitions' paths say it, one path at a time with the evaluator's read_path."""
    raw = raw if isinstance(raw, dict) else {}
    fields = {'type': _policy._TYPES.get(vault_type) or raw.get('type')}   # pylint: disable=protected-access
    for key, parts in zip(_policy._KEYS, _policy._PATHS):                   # pylint: disable=protected-access
        if '[*]' in parts:
            cut = parts.index('[*]')
            array = read_path(raw, list(parts[:cut]))
            if isinstance(array, list):
                fields[key] = tuple(None if leaf is MISSING else leaf for leaf in (read_path(m, list(parts[cut + 1:])) for m in array))
        else:
            value = read_path(raw, list(parts))
            if value is not MISSING:
                fields[key] = value
    return fields


def test_policy_fields_read_in_one_walk_what_each_path_reads():
    """policy_fields walks a body once for all paths: the same fields, in the same order, as reading path by path, for
    bodies with other casings, nulls, odd array members and odd values where objects belong."""
    rng = random.Random(11)
    odd_members = [{'id': 'a'}, None, 'x', {'ID': 'b', 'properties': {'provisioningState': 'S', 'PrivateLinkServiceConnectionState': {'status': None}}}]
    for index in range(600):
        kind = rng.choice(['recovery_services', 'backup'])
        body = oracle.random_body(kind, 'v%d' % index, vid('v%d' % index), oracle.random_rng(index))
        props = body['properties']
        if rng.random() < 0.3:
            props['PublicNetworkAccess'] = rng.choice(['Enabled', None, 'x'])
        if rng.random() < 0.3:
            props['privateEndpointConnections'] = [rng.choice(odd_members) for _member in range(rng.randint(0, 3))]
        if rng.random() < 0.2:
            props['securitySettings'] = rng.choice([None, [], 'x', {'SoftDeleteSettings': {'State': 'On', 'state': 'Off'}}])
        if rng.random() < 0.05:
            body = rng.choice([None, [], 'x'])
        fields = _policy.policy_fields(body, kind)
        expected = _fields_path_by_path(body, kind)
        assert fields == expected and list(fields) == list(expected), index


# --------------------------------------------------------------------------- the reports

@pytest.fixture(scope='module')
def schema():
    with open(os.path.join(ROOT, 'docs', 'drift-report-schema.json'), encoding='utf-8') as handle:
        return json.load(handle)


def _entry(name, kind, immutability):
    return {'id': vid(name, kind), 'name': name, 'vault_type': kind, 'subscription_id': SUB, 'resource_group': 'rg-a',
            'location': 'westeurope', 'drift': True,
            'findings': [{'setting': 'immutability', 'have': immutability, 'want': 'enabled', 'fixable': True, 'reason': None}],
            'changes': [], 'actions': {}}


def test_reports_carry_the_section(schema):
    hostile = '<script>alert(1)</script>|`x`'
    section = {'definitions': [
        {'name': RS_IMMUTABILITY, 'id': _policy.definition_id(RS_IMMUTABILITY), 'display_name': hostile, 'version': '1.0.0-preview',
         'parameters': {'effect': 'Audit', 'checkLockedImmutabilityOnly': True}, 'effect': 'Audit', 'evaluated': True,
         'vault_type': 'recovery_services', 'vaults': 1, 'non_compliant': [vid('rsv-a')], 'help_uri': 'https://example.test/d.json'},
        {'name': BV_IMMUTABILITY, 'id': _policy.definition_id(BV_IMMUTABILITY), 'display_name': 'BV', 'version': '1.0.1-preview',
         'parameters': {'effect': 'Disabled', 'checkLockedImmutabilityOnly': True}, 'effect': 'Disabled', 'evaluated': False,
         'vault_type': 'backup', 'vaults': 0, 'non_compliant': [], 'help_uri': 'https://example.test/e.json'}]}
    drift = [_entry('rsv-a', 'recovery_services', 'disabled'), _entry('bv-a', 'backup', 'disabled')]
    report = build_report(drift, {'azure_policy': section, 'timestamp': '2026-01-02T03:04:05+00:00'})
    jsonschema.validate(report, schema)
    assert report['azure_policy'] == section
    findings = dict((v['name'], v['findings'][0]) for v in report['vaults'])
    # The backup vault's definition is disabled here: its finding answers to no evaluated definition.
    assert findings['rsv-a']['azure_policy'] == [RS_IMMUTABILITY] and findings['bv-a']['azure_policy'] == []
    markdown = render_markdown(report)
    assert '## Azure Policy' in markdown and '1 of 1 non-compliant' in markdown and 'not evaluated (effect Disabled)' in markdown
    assert '<script>' not in markdown.replace('\\<', '') and '\\|' in markdown
    html = render_html(report)
    assert 'id="azure-policy"' in html and '<script>alert' not in html and '&lt;script&gt;' in html
    # Self-contained: no address in the page (the definitions' sources are named, not linked).
    assert not re.search(r'https?://(?!www\.w3\.org/2000/svg)', html) and 'Azure/azure-policy example.test/d.json' in html
    sarif = build_sarif(report)
    with open(os.path.join(ROOT, 'tests', 'fixtures', 'sarif', 'sarif-schema-2.1.0.json'), encoding='utf-8') as handle:
        jsonschema.Draft4Validator(json.load(handle), format_checker=jsonschema.FormatChecker()).validate(sarif)
    rules = sarif['runs'][0]['tool']['driver']['rules']
    policy_rules = [r for r in rules if r['id'].startswith('azure-policy/')]
    assert [r['id'] for r in policy_rules] == ['azure-policy/' + RS_IMMUTABILITY, 'azure-policy/' + BV_IMMUTABILITY]
    assert all(r['helpUri'].startswith('https://') for r in policy_rules)
    # Counted per definition, not one result per vault (drift.sarif stays within what code scanning takes at fleet scale).
    assert not [r for r in sarif['runs'][0]['results'] if r['ruleId'].startswith('azure-policy/')]
    assert [(r['properties']['vaults'], r['properties']['non_compliant']) for r in policy_rules] == [
        (row['vaults'], len(row['non_compliant'])) for row in report['azure_policy']['definitions']]
    # Without the section (harden_backup_vaults_azure_policy: {}) the report has none and findings name nothing.
    plain = build_report(drift, {})
    assert 'azure_policy' not in plain and 'azure_policy' not in plain['vaults'][0]['findings'][0]
    jsonschema.validate(plain, schema)


def test_a_finding_says_which_of_its_definitions_judge_the_vault_non_compliant(schema):
    """azure_policy names the definitions that check a finding's setting, which is no verdict: with
    checkLockedImmutabilityOnly false, an Unlocked vault the baseline wants locked has a finding the immutability definition
    answers to while that definition (the evaluator, on the vault's body) lists it compliant. azure_policy_non_compliant
    and every rendering tell the two apart."""
    states = {'rsv-disabled': 'Disabled', 'rsv-unlocked': 'Unlocked'}
    bodies = [{'id': vid(name).upper().replace('/PROVIDERS/', '/providers/'), 'name': name, 'type': 'Microsoft.RecoveryServices/vaults',
               'location': 'westeurope', 'properties': {'securitySettings': {'immutabilitySettings': {'state': state}}}}
              for name, state in states.items()]
    records = [vault_record(body, 'recovery_services') for body in bodies]
    section = _policy.evaluate(records, _policy.check_assignments({RS_IMMUTABILITY: {'checkLockedImmutabilityOnly': False}}))
    # The evaluator: Disabled is non-compliant, Unlocked compliant (ids in the bodies' casing, upper case here).
    assert section['definitions'][0]['non_compliant'] == [bodies[0]['id']]
    drift = []
    for name, state in states.items():
        entry = _entry(name, 'recovery_services', state.lower().replace('unlocked', 'enabled'))
        entry['findings'][0]['want'] = 'locked'
        drift.append(entry)
    report = build_report(drift, {'azure_policy': section, 'timestamp': '2026-01-02T03:04:05+00:00'})
    jsonschema.validate(report, schema)
    findings = dict((v['name'], v['findings'][0]) for v in report['vaults'])
    assert findings['rsv-unlocked']['azure_policy'] == [RS_IMMUTABILITY]
    assert findings['rsv-unlocked']['azure_policy_non_compliant'] == []
    assert findings['rsv-disabled']['azure_policy'] == findings['rsv-disabled']['azure_policy_non_compliant'] == [RS_IMMUTABILITY]
    title = section['definitions'][0]['display_name']
    markdown = render_markdown(report)
    header = [line for line in markdown.splitlines() if line.startswith('| Vault | Type |')][0]
    assert '| Fixable | Azure Policy |' in header
    rows = dict((line.split(' | ')[0].lstrip('| '), line) for line in markdown.splitlines() if line.startswith('| rsv-'))
    assert 'non-compliant with %s' % title.replace('[', '\\[').replace(']', '\\]') in rows['rsv-disabled']
    assert 'compliant with' in rows['rsv-unlocked'] and 'non-compliant' not in rows['rsv-unlocked']
    assert '(checks the same setting)' in rows['rsv-unlocked']
    page = render_html(report)
    data = json.loads(page.split('<script type="application/json" id="findings-data">', 1)[1].split('</script>', 1)[0])
    why = dict((v[1], v[9][0][7]) for v in data['vaults'])
    assert why['rsv-disabled'].endswith('Azure Policy: non-compliant with %s' % title)
    assert why['rsv-unlocked'].endswith('Azure Policy: compliant with %s (checks the same setting)' % title)
    results = dict((r['properties']['vault_id'].rsplit('/', 1)[-1], r) for r in build_sarif(report)['runs'][0]['results'])
    assert results['rsv-unlocked']['properties']['azure_policy'] == [RS_IMMUTABILITY]
    assert results['rsv-unlocked']['properties']['azure_policy_non_compliant'] == []
    assert results['rsv-disabled']['properties']['azure_policy_non_compliant'] == [RS_IMMUTABILITY]
    assert 'Azure Policy: compliant with %s (checks the same setting).' % title in results['rsv-unlocked']['message']['text']
    assert 'Azure Policy: non-compliant with %s.' % title in results['rsv-disabled']['message']['text']
    # Without the section nothing is added anywhere.
    plain = build_report(drift, {})
    assert 'azure_policy_non_compliant' not in plain['vaults'][0]['findings'][0] and 'Azure Policy' not in render_markdown(plain)
    assert 'azure_policy' not in build_sarif(plain)['runs'][0]['results'][0]['properties']


def test_the_plan_file_carries_the_section_into_every_report(tmp_path, schema):
    """harden_plan keeps the section in the sealed plan; harden_report writes it into all five reports."""
    rng = oracle.random_rng(11)
    bodies = [oracle.random_body(kind, name, vid(name, kind), rng) for kind, name in
              (('recovery_services', 'rsv-a'), ('recovery_services', 'rsv-b'), ('backup', 'bv-a'), ('backup', 'bv-b'))]
    records = [vault_record(body, 'recovery_services' if 'RecoveryServices' in body['id'] else 'backup') for body in bodies]
    run = plan_run([{'vaults': records, 'errors': [], 'subscriptions': [SUB], 'item': ''}], [], {'immutability': 'enabled'})
    run['azure_policy'] = _policy.evaluate(run['vaults'], _policy.check_assignments(None))
    plan = load_plan(str(tmp_path), save_plan(str(tmp_path), run, str(tmp_path / 'reports'), True))
    report = build_run_report(plan, {})
    jsonschema.validate(report, schema)
    assert report['azure_policy'] == run['azure_policy']
    assert reported_ids(report) == dict((name, ids) for name, (_e, ids) in _expected([(None, b) for b in bodies], dict(
        (d['name'], {}) for d in DEFINITIONS)).items())
    _path, written = write_reports(report, str(tmp_path / 'reports'))
    # The five reports, and the scope record beside them.
    assert len(written) == 6 and written[-1] == 'drift.scope.json'
    sarif = json.loads((tmp_path / 'reports' / 'drift.sarif').read_text())
    assert len([r for r in sarif['runs'][0]['tool']['driver']['rules'] if r['id'].startswith('azure-policy/')]) == 14


def reported_ids(report):
    return dict((row['name'], row['non_compliant']) for row in report['azure_policy']['definitions'])
