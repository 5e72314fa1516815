# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Policy verdicts where Learn's words stop: empty values, ordering across types, text compared ignoring case, and
parameter names in another letter case.

- ``exists`` and ``equals ""``: Learn gives what an absent property selects (null) and what ``field()`` returns for it
  (``""``), not whether ``""``, ``[]`` or ``{}`` exists or whether an absent property equals ``""``. Both readings are
  taken (``_evaluator.EMPTY_READING``): a vault is non-compliant when either matches it.
- less, lessOrEquals, greater, greaterOrEquals: "if the property type doesn't match the condition type, an error is
  thrown" (Learn, "Conditions"): no verdict (PolicyRuleError), never compliant. ISO 8601 dates order as times.
- Strings compare with InvariantCultureIgnoreCase (Learn, "Conditions"); where Python's two approximations of it disagree,
  no verdict.
- A parameter named in another letter case is refused (Azure/Enterprise-Scale#833: Azure did not use such a value).
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils import _policy
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._evaluator import (
    Context, PolicyRuleError, evaluate, existence, non_compliant,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record

from tests.fixtures import load_real

SUB = '11111111-1111-1111-1111-111111111111'
RS_CMK = '2e94d99a-8a36-4563-bc77-810d8893b671'
RS_TYPE = 'Microsoft.RecoveryServices/vaults'
PNA = 'Microsoft.RecoveryServices/vaults/publicNetworkAccess'
KEY = 'https://kv-backup.vault.azure.net/keys/cmk/0123abcd'


def rs_body(name, **properties):
    """azure-powershell's recorded Recovery Services vault (tests/fixtures/azure-real) under a new name, properties changed."""
    base = copy.deepcopy(load_real('ps-rs-immutability/get-unlocked.json'))
    base.update(id='/subscriptions/%s/resourceGroups/rg-a/providers/%s/%s' % (SUB, RS_TYPE, name), name=name)
    base['properties'].update(properties)
    return base


def failing(bodies, given):
    section = _policy.evaluate([vault_record(b, 'recovery_services') for b in bodies], _policy.check_assignments(given))
    return dict((row['name'], [i.rsplit('/', 1)[-1] for i in row['non_compliant']]) for row in section['definitions'])


def props(**properties):
    return {'type': RS_TYPE, 'properties': properties}


# --------------------------------------------------------------------------- exists and empty values

@pytest.mark.parametrize('key_uri', ['', [], {}])
def test_an_empty_key_uri_is_not_taken_for_a_customer_managed_key(key_uri):
    """The built-in "Azure Recovery Services vaults should use customer-managed keys" flags a vault whose
    ``encryption.keyVaultProperties.keyUri`` does not exist. An empty value made the vault compliant, as a vault with a key
    is; whether Azure Policy takes ``""`` as existing is not written, so the vault is non-compliant (the safe side)."""
    with_key = rs_body('rsv-key', encryption={'keyVaultProperties': {'keyUri': KEY}, 'kekIdentity': {'useSystemAssignedIdentity': True}})
    empty = rs_body('rsv-empty', encryption={'keyVaultProperties': {'keyUri': key_uri}, 'kekIdentity': {'useSystemAssignedIdentity': True}})
    absent = rs_body('rsv-absent')
    assert failing([with_key, empty, absent], {RS_CMK: {}})[RS_CMK] == ['rsv-absent', 'rsv-empty']


def test_an_absent_property_meets_equals_empty_in_one_reading():
    """``{"field": ..., "equals": ""}`` on an absent property: it selects null (Learn), which may or may not equal "" (not
    written). The condition matches (non-compliant) under either reading; ``notEquals ""`` also matches (the reading as
    written), and a related resource satisfies neither unless every reading does."""
    assert non_compliant({'field': PNA, 'equals': ''}, props(), {})
    assert non_compliant({'field': PNA, 'notEquals': ''}, props(), {})
    assert not non_compliant({'field': PNA, 'equals': ''}, props(publicNetworkAccess='Enabled'), {})
    assert non_compliant({'field': PNA, 'exists': 'false'}, props(publicNetworkAccess=''), {})
    assert non_compliant({'field': PNA, 'exists': 'true'}, props(publicNetworkAccess=''), {})
    assert not non_compliant({'field': PNA, 'exists': 'false'}, props(publicNetworkAccess='Enabled'), {})
    assert not existence({'field': PNA, 'exists': 'true'}, props(publicNetworkAccess=''), {})
    assert existence({'field': PNA, 'exists': 'true'}, props(publicNetworkAccess='Enabled'), {})


# --------------------------------------------------------------------------- ordering across types

def holds(condition, properties=None):
    return evaluate(condition, Context(props(**(properties or {})), {}))


@pytest.mark.parametrize('operator, value, wanted', [
    ('less', 'Enabled', 3), ('greater', 3, 'Enabled'), ('lessOrEquals', True, 1), ('greaterOrEquals', [1], 0),
    ('less', None, 3), ('greater', '2026-01-01T00:00:00Z', 'Enabled'), ('less', '2026-01-01T00:00:00', '2026-01-01T00:00:00Z'),
    ('less', 'a-b', 'ab'),
])
def test_ordering_values_of_types_that_do_not_match_is_no_verdict(operator, value, wanted):
    """Learn, "Conditions": for these four, "if the property type doesn't match the condition type, an error is thrown".
    Before, such a condition was false: an audit on it said compliant."""
    properties = {} if value is None else {'publicNetworkAccess': value}
    with pytest.raises(PolicyRuleError):
        holds({'field': PNA, operator: wanted}, properties)
    with pytest.raises(PolicyRuleError):
        non_compliant({'field': PNA, operator: wanted}, props(**properties), {})


def test_dates_order_as_times_not_as_text():
    """A fraction of a second sorts before the 'Z' as text, so the later time compared as the smaller one."""
    later = {'publicNetworkAccess': '2026-01-01T00:00:00.5Z'}
    assert holds({'field': PNA, 'greater': '2026-01-01T00:00:00Z'}, later)
    assert not holds({'field': PNA, 'less': '2026-01-01T00:00:00Z'}, later)
    assert holds({'field': PNA, 'greaterOrEquals': '2026-01-01T01:00:00+01:00'}, {'publicNetworkAccess': '2026-01-01T00:00:00Z'})
    assert holds({'field': PNA, 'less': 'b2'}, {'publicNetworkAccess': 'A1'})
    assert holds({'field': PNA, 'less': 10}, {'publicNetworkAccess': 9})


# --------------------------------------------------------------------------- InvariantCultureIgnoreCase

def test_text_equal_under_invariant_culture_ignoring_case():
    """Learn, "Conditions": InvariantCultureIgnoreCase, a culture-aware comparison. Full case folding takes the sharp s as
    "ss" and the Kelvin sign as "k", as it does (OrdinalIgnoreCase would not)."""
    assert holds({'field': PNA, 'equals': 'STRASSE'}, {'publicNetworkAccess': 'stra\u00dfe'})
    assert holds({'field': PNA, 'equals': 'k'}, {'publicNetworkAccess': '\u212a'})
    assert holds({'field': PNA, 'notEquals': 'Disabled'}, {'publicNetworkAccess': 'Enabled'})
    assert holds({'field': PNA, 'contains': 'STRASS'}, {'publicNetworkAccess': 'stra\u00dfe'})


@pytest.mark.parametrize('value, wanted', [
    ('caf\u00e9', 'cafe\u0301'),            # precomposed and decomposed e-acute: canonically equal
    ('Dis\u200babled', 'Disabled'),         # a zero-width space
    ('Dis\u00adabled', 'Disabled'),         # a soft hyphen
])
def test_text_python_cannot_compare_as_dotnet_does_is_no_verdict(value, wanted):
    """A linguistic comparison takes these as equal, casefold does not: which answer Azure gives is not known here, so no
    verdict. Before, they were simply unequal (a notEquals audit flagged, an equals exclusion did not exclude)."""
    for operator in ('equals', 'notEquals', 'in', 'contains'):
        with pytest.raises(PolicyRuleError):
            holds({'field': PNA, operator: [wanted] if operator == 'in' else wanted}, {'publicNetworkAccess': value})


# --------------------------------------------------------------------------- parameter names

@pytest.mark.parametrize('key', ['Effect', 'EFFECT', 'enabledoubleencryption'])
def test_a_parameter_named_in_another_letter_case_is_refused(key):
    """The role variable took ``Effect: Disabled`` for the definition's ``effect`` and said not evaluated, while Azure
    Policy, matching names in their case, left the default Audit in force (Azure/Enterprise-Scale#833)."""
    value = False if key == 'enabledoubleencryption' else 'Disabled'
    with pytest.raises(InputError, match='spelt'):
        _policy.check_assignments({RS_CMK: {key: value}})
    assert _policy.check_assignments({RS_CMK: {'effect': 'Disabled'}})[0][1]['effect'] == 'Disabled'


# --------------------------------------------------------------------------- one undecidable vault among others

PNA_AUDIT = '9ebbbba3-4d65-4da9-bb67-b22cfaaff090'


def test_a_vault_whose_own_text_is_undecidable_is_not_evaluated_and_the_others_are_judged():
    """A value only the vault carries (here a zero-width space in publicNetworkAccess, which a linguistic comparison may
    ignore) gives no verdict on that vault: it is listed as not evaluated with the reason, never compliant, and the
    fleet's other vaults keep their verdicts. Before, the PolicyRuleError left the whole evaluation, and with it the
    fleet's compliance section."""
    bodies = [rs_body('rsv-open', publicNetworkAccess='Enabled'), rs_body('rsv-closed', publicNetworkAccess='Disabled'),
              rs_body('rsv-odd', publicNetworkAccess='Dis\u200babled')]
    section = _policy.evaluate([vault_record(b, 'recovery_services') for b in bodies], _policy.check_assignments({PNA_AUDIT: {}}))
    (row,) = section['definitions']
    assert [i.rsplit('/', 1)[-1] for i in row['non_compliant']] == ['rsv-open']
    assert row['vaults'] == 2
    assert [item['id'].rsplit('/', 1)[-1] for item in row['not_evaluated']] == ['rsv-odd']
    assert 'InvariantCultureIgnoreCase' in row['not_evaluated'][0]['reason']


def test_a_tag_value_that_is_undecidable_leaves_that_vault_not_evaluated_by_the_deploy_if_not_exists_definition():
    """The diagnostic settings definition excludes vaults by a tag; a tag value only a linguistic comparison could
    match to the exclusion's value makes that vault not evaluated, and the others are still judged."""
    dine = 'c717fb0c-d118-4c43-ab3d-ece30ac81fb3'
    records = []
    for name, tags in (('rsv-plain', {}), ('rsv-excluded', {'diag': 'off'}), ('rsv-odd', {'diag': 'o\u200bff'})):
        record = vault_record(dict(rs_body(name), tags=tags), 'recovery_services')
        record['related'] = {'microsoft.insights/diagnosticsettings': []}
        records.append(record)
    section = _policy.evaluate(records, _policy.check_assignments({dine: {'tagName': 'diag', 'tagValue': 'off'}}))
    (row,) = section['definitions']
    assert [i.rsplit('/', 1)[-1] for i in row['non_compliant']] == ['rsv-plain']
    assert row['vaults'] == 2
    assert [item['id'].rsplit('/', 1)[-1] for item in row['not_evaluated']] == ['rsv-odd']


def test_a_boolean_property_compared_with_a_string_compares_as_its_text():
    """Microsoft's own built-in "Secure transfer to storage accounts should be enabled" (Azure/azure-policy,
    built-in-policies/policyDefinitions/Storage/Storage_AuditForHTTPSEnabled_Audit.json at 8f5ad30e2356) audits a storage
    account whose boolean ``supportsHttpsTrafficOnly`` ``"equals": "false"``: the definition can only ever match if a
    boolean property equals the text of its value. The same condition on a Backup vault's boolean
    ``isVaultProtectedByResourceGuard``, written as Microsoft writes it."""
    bv_type = 'Microsoft.DataProtection/backupVaults'
    guard = 'Microsoft.DataProtection/backupVaults/isVaultProtectedByResourceGuard'
    condition = {'field': guard, 'equals': 'false'}
    assert non_compliant(condition, {'type': bv_type, 'properties': {'isVaultProtectedByResourceGuard': False}}, {})
    assert not non_compliant(condition, {'type': bv_type, 'properties': {'isVaultProtectedByResourceGuard': True}}, {})
    assert non_compliant({'field': guard, 'equals': 'True'}, {'type': bv_type, 'properties': {'isVaultProtectedByResourceGuard': True}}, {})
