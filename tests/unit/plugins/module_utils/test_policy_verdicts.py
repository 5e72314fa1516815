# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Policy verdicts, third pass: where the collection's verdict could differ from Azure's.

- Vaults configured alike are judged once (the memo of ``_policy.evaluate``): values Python calls equal but Azure Policy
  does not (``true`` and ``1``, ``false`` and ``0``) are two configurations, each with its own verdict.
- A vault whose body the collection's hardening rules cannot read (a state they have never seen, a day count that is not
  a whole number) is still a resource Azure Policy judges: its verdicts are the definitions' on its body, not left out.
- Azure Policy refuses an assignment whose parameter value is an allowed value in another letter case
  (``PolicyParameterValueNotAllowed``), so such a value has no verdict: the role variable is refused before any request.
- ``match``'s ``#`` is a decimal digit; ``like`` takes one ``*`` (Learn, "Conditions").

Every expected verdict comes from the tests' own evaluator (tests/unit/policy_oracle.py) on the vault's body, or from
the Microsoft source named beside it.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils import _policy
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import read_records
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.resource_graph import read_vault_rows
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._evaluator import Context, PolicyRuleError, evaluate
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import plan_run
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record

from tests.fixtures import load_real
from tests.unit import policy_oracle as oracle

SUB = '11111111-1111-1111-1111-111111111111'
RS, BV = 'recovery_services', 'backup'
BV_MUA = 'c58e083e-7982-4e24-afdc-be14d312389e'
DINE = 'c717fb0c-d118-4c43-ab3d-ece30ac81fb3'
PROPERTY_DEFINITIONS = dict((d['name'], d) for _f, d in oracle.load_definitions())


def vid(name, kind):
    provider = 'Microsoft.RecoveryServices/vaults' if kind == RS else 'Microsoft.DataProtection/backupVaults'
    return '/subscriptions/%s/resourceGroups/rg-a/providers/%s/%s' % (SUB, provider, name)


def body(kind, name, **properties):
    """A real body (tests/fixtures/azure-real: azure-powershell's Recovery Services vault with Unlocked immutability,
    azure-cli-extensions' Backup vault On/Disabled) under a new name, its properties changed as given."""
    base = copy.deepcopy(load_real('ps-rs-immutability/get-unlocked.json' if kind == RS else 'cliext-dp-vault-update/get-vault-initial.json'))
    base.update(id=vid(name, kind), name=name)
    base['properties'].update(properties)
    return base


def verdicts(records, given):
    """{definition name: (evaluated, sorted non-compliant ids)} of the collection."""
    section = _policy.evaluate(records, _policy.check_assignments(given))
    return dict((row['name'], (row['evaluated'], row['non_compliant'], row['vaults'])) for row in section['definitions'])


def expected(bodies, given):
    """The same, by the tests' evaluator on the bodies; ``vaults`` counts the bodies of the definition's kind."""
    out = {}
    for name, params in given.items():
        definition = PROPERTY_DEFINITIONS[name]
        found = [(b['id'], oracle.verdict(definition, b, params)) for b in bodies]
        if any(v is None for _i, v in found):
            out[name] = (False, [], 0)
            continue
        kind = definition['properties']['policyRule']['if']['allOf'][0]['equals'].lower()
        mine = [(i, v) for (i, v), b in zip(found, bodies) if b['type'].lower() == kind]
        out[name] = (True, sorted((i for i, v in mine if v), key=str.lower), len(mine))
    return out


# --------------------------------------------------------------------------- the memo: Python's equal is not Azure's

@pytest.mark.parametrize('first, second', [(True, 1), (True, 1.0)])
def test_values_python_calls_equal_are_judged_each_on_its_own(first, second):
    """``isVaultProtectedByResourceGuard`` true and 1 are one dictionary key in Python (True == 1, same hash): the second
    vault was given the first one's verdict. Azure Policy compares a boolean with a boolean (Learn, "Conditions"); the
    tests' evaluator says 1 is not true, so the MUA definition flags the vault with 1 and passes the one with true, in
    either order."""
    bodies = [body(BV, 'bv-first', isVaultProtectedByResourceGuard=first), body(BV, 'bv-second', isVaultProtectedByResourceGuard=second)]
    records = [vault_record(b, BV) for b in bodies]
    given = {BV_MUA: {}}
    assert verdicts(records, given) == expected(bodies, given)
    assert verdicts(list(reversed(records)), given) == expected(bodies, given)


# --------------------------------------------------------------------------- vaults the hardening rules cannot read

ODD = [
    # (kind, what is odd, properties): each a body vault_record refuses (UnreadableResourceError); Azure Policy judges it.
    (RS, 'soft delete days not a whole number', {'securitySettings': {
        'immutabilitySettings': {'state': 'Locked'}, 'multiUserAuthorization': 'Enabled',
        'softDeleteSettings': {'softDeleteState': 'AlwaysON', 'softDeleteRetentionPeriodInDays': 14.5, 'enhancedSecurityState': 'AlwaysON'}}}),
    (RS, 'an immutability state the rules have never seen', {'securitySettings': {
        'immutabilitySettings': {'state': 'Enabled'}, 'softDeleteSettings': {'softDeleteState': 'Enabled', 'softDeleteRetentionPeriodInDays': 14}}}),
    (RS, 'public network access a number', {'publicNetworkAccess': 3}),
    (BV, 'an immutability state the rules have never seen', {'securitySettings': {
        'immutabilitySettings': {'state': 'Enabled'}, 'softDeleteSettings': {'state': 'AlwaysOn', 'retentionDurationInDays': 14.0}}}),
    (BV, 'soft delete days not a whole number', {'isVaultProtectedByResourceGuard': True, 'securitySettings': {
        'immutabilitySettings': {'state': 'Locked'}, 'softDeleteSettings': {'state': 'AlwaysOn', 'retentionDurationInDays': 14.5}}}),
]


def _reads(bodies):
    """One vault_immutability_info result per kind of the bodies, as discovery makes it (fleet.read_records: a vault the
    rules cannot read is an error carrying what is known of the vault)."""
    reads = []
    for kind in (RS, BV):
        mine = [b for b in bodies if oracle.KIND_TYPE[kind].lower() == b['type'].lower()]
        records, errors = read_records(mine, kind)
        reads.append({'vaults': records, 'errors': errors, 'subscriptions': [SUB], 'item': ''})
    return reads


def test_a_vault_the_rules_cannot_read_is_judged_on_its_body_as_azure_policy_judges_it():
    """Before, such a vault was an error of the run and absent from every definition's verdict (neither compliant nor
    non-compliant nor counted): Azure Policy judges its body all the same."""
    readable = [body(RS, 'rsv-good'), body(BV, 'bv-good')]
    odd = [body(kind, '%s-odd-%d' % ('rsv' if kind == RS else 'bv', index), **props) for index, (kind, _why, props) in enumerate(ODD)]
    for raw, (kind, why, _props) in zip(odd, ODD):
        assert read_records([raw], kind)[0] == [], why
    run = plan_run(_reads(readable + odd), [], {'immutability': 'enabled'})
    assert len(run['report_errors']) == len(ODD)
    given = dict((name, {}) for name in PROPERTY_DEFINITIONS)
    got = verdicts(run['vaults'] + run['unreadable_vaults'], given)
    assert got == expected(readable + odd, given)
    # The odd vaults are flagged where their bodies say so (the first: Locked, AlwaysON, MUA on, yet public network access
    # enabled and no private endpoint).
    assert odd[0]['id'] in got['9ebbbba3-4d65-4da9-bb67-b22cfaaff090'][1]
    assert odd[0]['id'] not in got['d6f6f560-14b7-49a4-9fc8-d2c3a9807868'][1]
    # With other parameters too.
    rng = oracle.random_rng(33)
    other = dict((name, oracle.random_parameters(definition, rng)) for name, definition in PROPERTY_DEFINITIONS.items())
    assert verdicts(run['vaults'] + run['unreadable_vaults'], other) == expected(readable + odd, other)


def test_an_excluded_or_unidentifiable_unreadable_vault_is_not_judged():
    odd = [body(kind, 'odd-%d' % index, **props) for index, (kind, _why, props) in enumerate(ODD)]
    run = plan_run(_reads(odd), [odd[0]['id'], '/subscriptions/%s/resourceGroups/rg-a/providers/Microsoft.DataProtection/backupVaults/odd-3' % SUB],
                   {'immutability': 'enabled'})
    assert sorted(v['id'] for v in run['unreadable_vaults']) == sorted(b['id'] for index, b in enumerate(odd) if index not in (0, 3))
    # A body without an id names no vault Azure Policy could be said to judge: an error of the run only.
    nameless = dict(body(RS, 'x', publicNetworkAccess=3), id=None)
    run = plan_run(_reads([nameless]), [], {'immutability': 'enabled'})
    assert run['unreadable_vaults'] == [] and len(run['report_errors']) == 1


def test_an_unreadable_vault_is_not_evaluated_by_the_definition_that_reads_related_resources():
    """The diagnostic settings definition reads each vault's settings; an unreadable vault's were never read: it is listed
    in the row's not_evaluated with why, never compliant."""
    odd = body(RS, 'rsv-odd', publicNetworkAccess=3)
    run = plan_run(_reads([odd]), [], {'immutability': 'enabled'})
    section = _policy.evaluate(run['vaults'] + run['unreadable_vaults'], _policy.check_assignments({DINE: {}}))
    row = section['definitions'][0]
    assert row['non_compliant'] == [] and row['vaults'] == 0
    assert [item['id'] for item in row['not_evaluated']] == [odd['id']]
    assert 'could not be read' in row['not_evaluated'][0]['reason']


def test_unreadable_vaults_through_resource_graph_rows_are_judged_the_same():
    odd = [body(kind, 'odd-%d' % index, **props) for index, (kind, _why, props) in enumerate(ODD)]
    rows = [dict(copy.deepcopy(b), type=b['type'].lower(), kind='', managedBy='', resourceGroup='rg-a', subscriptionId=SUB) for b in odd]
    records, errors = read_vault_rows(rows)
    assert records == [] and len(errors) == len(ODD)
    run = plan_run([{'vaults': records, 'errors': errors, 'subscriptions': [SUB], 'item': ''}], [], {'immutability': 'enabled'})
    given = dict((name, {}) for name in PROPERTY_DEFINITIONS)
    assert verdicts(run['unreadable_vaults'], given) == expected(odd, given)


# --------------------------------------------------------------------------- parameter values: Azure's spelling only

@pytest.mark.parametrize('name, params, allowed', [
    ('9ebbbba3-4d65-4da9-bb67-b22cfaaff090', {'effect': 'audit'}, 'Audit, Deny, Disabled'),
    ('9ebbbba3-4d65-4da9-bb67-b22cfaaff090', {'effect': 'DENY'}, 'Audit, Deny, Disabled'),
    ('31b8092a-36b8-434b-9af7-5ec844364148', {'effect': 'disabled'}, 'Audit, Disabled'),
    ('04726aae-4e8d-427c-af7d-ecf56d490022', {'effect': 'modify'}, 'Modify, Disabled'),
    ('8f09fda1-91a2-4e14-96a2-67c6281158f7', {'BackupStorageRedundancy': 'locallyredundant'}, 'GeoRedundant, ZoneRedundant, LocallyRedundant'),
    ('4d479a11-f2b5-4f0a-bb1e-d2332aa95cda', {'crossSubscriptionRestoreStateParameter': 'permanentlyDisabled'}, 'Disabled, PermanentlyDisabled'),
])
def test_an_allowed_value_in_another_letter_case_is_refused_as_azure_refuses_the_assignment(name, params, allowed):
    """Azure Policy checks a parameter value against allowedValues case-sensitively and refuses the assignment
    (PolicyParameterValueNotAllowed, "The value 'deny' is not allowed for policy parameter 'effect' ... The allowed values
    are 'Audit, Deny, Disabled'": Azure/Azure-Landing-Zones#442, Azure/azure-policy#721, #736, #885): there is no verdict
    to predict. Before, 'audit' was taken for 'Audit' and judged the vaults."""
    with pytest.raises(InputError) as caught:
        _policy.check_assignments({name: params})
    message = str(caught.value)
    assert 'harden_backup_vaults_azure_policy.%s.%s' % (name, next(iter(params))) in message
    assert allowed in message and 'letter case' in message and 'PolicyParameterValueNotAllowed' in message
    # Azure's own spelling is taken.
    spelt = dict((key, next(v for v in PROPERTY_DEFINITIONS[name]['properties']['parameters'][key]['allowedValues']
                            if str(v).lower() == str(value).lower())) for key, value in params.items())
    assert _policy.check_assignments({name: spelt})[0][1][next(iter(params))] == spelt[next(iter(params))]


# --------------------------------------------------------------------------- match and like as Learn words them

def holds(condition, properties=None):
    return evaluate(condition, Context({'type': 'Microsoft.RecoveryServices/vaults', 'properties': properties or {}}, {}))


PNA = 'Microsoft.RecoveryServices/vaults/publicNetworkAccess'


def test_match_hash_is_a_decimal_digit_only():
    """Learn, "Conditions": '#' matches a digit. A superscript two or a circled one is a Unicode digit to Python's
    isdigit() but no decimal digit (.NET's char.IsDigit, which Azure Policy runs on, is the decimal digit category Nd)."""
    assert holds({'field': PNA, 'match': 'v#'}, {'publicNetworkAccess': 'v7'})
    assert holds({'field': PNA, 'match': 'v#'}, {'publicNetworkAccess': 'v\u0667'})   # ARABIC-INDIC DIGIT SEVEN: Nd
    for text in ('v\u00b2', 'v\u2460'):
        assert not holds({'field': PNA, 'match': 'v#'}, {'publicNetworkAccess': text}), text
        assert holds({'field': PNA, 'notMatch': 'v#'}, {'publicNetworkAccess': text}), text


def test_like_with_more_than_one_wildcard_is_not_judged():
    """Learn, "Conditions": like's value "shouldn't have more than one wildcard" (*). How Azure Policy answers one with
    two is not written: no verdict rather than a guess (assumed)."""
    assert holds({'field': PNA, 'like': 'En*'}, {'publicNetworkAccess': 'Enabled'})
    assert holds({'field': PNA, 'notLike': '*ed'}, {'publicNetworkAccess': 'Disable'})
    with pytest.raises(PolicyRuleError, match='one wildcard'):
        holds({'field': PNA, 'like': 'E*b*'}, {'publicNetworkAccess': 'Enabled'})
    with pytest.raises(PolicyRuleError, match='one wildcard'):
        holds({'field': PNA, 'notLike': '**'}, {'publicNetworkAccess': 'Enabled'})


# --------------------------------------------------------------------------- count over nested arrays

GROUPS = 'Microsoft.RecoveryServices/vaults/privateEndpointConnections[*].groupIds[*]'
PEC_ALIAS = 'Microsoft.RecoveryServices/vaults/privateEndpointConnections[*]'


@pytest.fixture
def group_ids_alias(monkeypatch):
    """Azure's alias of each private endpoint connection's groupIds members (tests/fixtures/azure_policy/aliases/
    Microsoft.RecoveryServices-vaults.md), which no vault-level definition reads, so the collection's table leaves it out."""
    from ansible_collections.vaultlock.azure.plugins.module_utils._policy import _aliases  # pylint: disable=import-outside-toplevel
    monkeypatch.setitem(_aliases.ALIASES, GROUPS.lower(), 'properties.privateEndpointConnections[*].properties.groupIds[*]')


def _connections(*groups):
    return {'privateEndpointConnections': [{'id': 'pe%d.backup' % n, 'properties': {'groupIds': list(g)} if g is not None else {}}
                                           for n, g in enumerate(groups)]}


def test_count_over_a_nested_array_counts_every_member_of_every_inner_array(group_ids_alias):
    """Learn, "Azure Policy definition structure: policy rule", field count: a count over ``a[*].b[*]`` counts the members
    of every ``b`` of every ``a`` (two connections with two group ids each: 4), not the ``a`` members (it said 2)."""
    properties = _connections(['AzureBackup', 'AzureSiteRecovery'], ['AzureBackup', 'AzureBackup_Secondary'])
    assert holds({'count': {'field': GROUPS}, 'equals': 4}, properties)
    assert holds({'count': {'field': GROUPS, 'where': {'field': GROUPS, 'like': 'AzureBackup*'}}, 'equals': 3}, properties)
    # A member without the inner array adds none; no outer array: 0.
    assert holds({'count': {'field': GROUPS}, 'equals': 2}, _connections(['AzureBackup', 'x'], None))
    assert holds({'count': {'field': GROUPS}, 'equals': 0}, {})


def test_a_count_inside_where_counts_the_current_members_inner_array(group_ids_alias):
    """Learn, field count: a count in a ``where`` over a path below the current member enumerates that member's inner
    array. Connections with at least two group ids: one of three (it counted every connection's)."""
    properties = _connections(['AzureBackup', 'AzureSiteRecovery'], ['AzureBackup'], [])
    condition = {'count': {'field': PEC_ALIAS, 'where': {'count': {'field': GROUPS}, 'greaterOrEquals': 2}}, 'equals': 1}
    assert holds(condition, properties)
    # The same array counted again inside its own where is the whole array (3 connections for each of 3).
    again = {'count': {'field': PEC_ALIAS, 'where': {'count': {'field': PEC_ALIAS}, 'equals': 3}}, 'equals': 3}
    assert holds(again, properties)
