# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vault security setting rules of issue 27 (module_utils/_rules): read from ARM bodies and Resource Graph rows,
baseline validation, findings, changes and the one-way cross subscription restore."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import validate_baseline, vault_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import UnreadableResourceError
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import alerts, cross_subscription_restore, mua, public_network_access
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import DriftError
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import TargetError, check_baseline
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from tests.emulator import graph, store

SUB = '11111111-1111-1111-1111-111111111111'
ALL = {'cross_subscription_restore': 'disabled', 'public_network_access': 'disabled',
       'alerts': {'job_failure_alerts': 'enabled', 'classic_alerts': 'disabled'},
       'cmk_key_uri': 'https://kv-one.vault.azure.net/keys/k1', 'infrastructure_encryption': 'enabled',
       'private_endpoints': 1, 'storage_redundancy': 'ZoneRedundant', 'cross_region_restore': 'enabled'}


def body(kind='rs', **keys):
    spec = dict({'name': 'v1'}, **keys)
    if kind == 'rs':
        return store.rs_vault_body(SUB, 'rg', spec, 'westeurope')
    return store.dp_vault_body(SUB, 'rg', spec, 'westeurope', 'tenant')


def row(raw):
    """The vault as a Resource Graph row (tests/emulator/graph.py: properties whole)."""
    return graph._row({'id': SUB}, 'rg', 'tenant', raw['id'], raw['name'], raw['type'], copy.deepcopy(raw['properties']),
                      raw.get('location'), raw.get('tags'))


def records(kind='rs', **keys):
    raw = body(kind, **keys)
    vtype = 'recovery_services' if kind == 'rs' else 'backup'
    return vault_record(raw, vtype), vault_record(row(raw), vtype)


def drift(record, **baseline):
    return vault_drift(record, validate_baseline(baseline))


@pytest.mark.parametrize('kind', ['rs', 'dp'])
def test_read_from_arm_bodies_and_graph_rows_alike(kind):
    arm, rg = records(kind, **ALL)
    keys = ('cross_subscription_restore', 'public_network_access', 'alerts', 'customer_managed_keys', 'infrastructure_encryption',
            'private_endpoints', 'storage_redundancy', 'cross_region_restore')
    assert dict((k, arm[k]) for k in keys) == dict((k, rg[k]) for k in keys)
    assert arm['cross_subscription_restore'] == 'disabled'
    assert arm['customer_managed_keys'] == {'enabled': True, 'key_uri': 'https://kv-one.vault.azure.net/keys/k1'}
    assert arm['infrastructure_encryption'] == 'enabled'
    assert arm['storage_redundancy'] == 'ZoneRedundant'
    assert arm['cross_region_restore'] == 'enabled'
    if kind == 'rs':
        assert arm['public_network_access'] == 'disabled'
        assert arm['alerts'] == {'job_failure_alerts': 'enabled', 'classic_alerts': 'disabled'}
        assert arm['private_endpoints'] == {'approved': 1, 'connections': 1, 'state_for_backup': 'enabled'}
    else:
        # The DataProtection API has no public network access, classic alerts or private endpoints.
        assert arm['public_network_access'] is None and arm['private_endpoints'] is None
        assert arm['alerts'] == {'job_failure_alerts': 'enabled', 'classic_alerts': None}


def test_read_defaults_and_permanently_disabled():
    arm, _rg = records('rs')
    # Every recorded Recovery Services vault GET shows restoreSettings Enabled (ps-rs-immutability, ps-rs-enhancedpolicy).
    assert arm['cross_subscription_restore'] == 'enabled'
    raw = body('rs')
    del raw['properties']['restoreSettings']   # as an api-version before 2023-02-01 answers it
    assert vault_record(raw, 'recovery_services')['cross_subscription_restore'] is None
    assert arm['alerts'] == {'job_failure_alerts': None, 'classic_alerts': None}
    assert arm['customer_managed_keys'] == {'enabled': False, 'key_uri': None}
    arm, _rg = records('dp', cross_subscription_restore='permanently_disabled')
    assert arm['cross_subscription_restore'] == 'permanently_disabled'


def test_an_unreadable_field_names_itself():
    raw = body('rs')
    raw['properties']['restoreSettings'] = 'Enabled'
    with pytest.raises(UnreadableResourceError, match='properties.restoreSettings'):
        vault_record(raw, 'recovery_services')
    raw = body('rs')
    raw['properties']['publicNetworkAccess'] = 7
    with pytest.raises(UnreadableResourceError, match='properties.publicNetworkAccess'):
        vault_record(raw, 'recovery_services')


def test_baseline_spellings_and_errors():
    got = validate_baseline({'cross_subscription_restore': 'Permanently-Disabled', 'public_network_access': 'DISABLED',
                             'alerts': {'job_failure_alerts': 'Enabled'}, 'customer_managed_keys': 'Required',
                             'storage_redundancy': ['georedundant', 'ZoneRedundant'], 'allow_irreversible': True})
    assert got['cross_subscription_restore'] == 'permanently_disabled' and got['public_network_access'] == 'disabled'
    assert got['alerts'] == {'job_failure_alerts': 'enabled', 'classic_alerts': None}
    assert got['customer_managed_keys'] == 'required' and got['storage_redundancy'] == ['GeoRedundant', 'ZoneRedundant']
    for baseline, message in (({'cross_subscription_restore': 'off'}, 'baseline.cross_subscription_restore must be enabled'),
                              ({'public_network_access': 'permanently_disabled'}, 'baseline.public_network_access must be'),
                              ({'alerts': 'on'}, 'baseline.alerts must be a dictionary'),
                              ({'alerts': {'sms': 'enabled'}}, 'unknown key'),
                              ({'alerts': {'classic_alerts': 'maybe'}}, 'baseline.alerts.classic_alerts must be'),
                              ({'private_endpoints': 'yes'}, 'baseline.private_endpoints must be required'),
                              ({'storage_redundancy': ['Tape']}, 'baseline.storage_redundancy must list only')):
        with pytest.raises(DriftError, match=message):
            validate_baseline(baseline)


def test_permanently_disabled_in_a_baseline_needs_consent():
    with pytest.raises(TargetError, match='harden_backup_vaults_cross_subscription_restore: permanently_disabled is irreversible'):
        check_baseline({'cross_subscription_restore': 'PermanentlyDisabled'})
    assert check_baseline({'cross_subscription_restore': 'PermanentlyDisabled', 'allow_irreversible': True})[
        'cross_subscription_restore'] == 'permanently_disabled'


def test_cross_subscription_restore_findings_and_changes():
    arm, _rg = records('rs', cross_subscription_restore='enabled')
    entry = drift(arm, cross_subscription_restore='disabled')
    assert [(f['setting'], f['have'], f['want'], f['fixable']) for f in entry['findings']] == [
        ('cross_subscription_restore', 'enabled', 'disabled', True)]
    assert entry['actions']['cross_subscription_restore'] == 'disabled'
    assert [(c['action'], c['before'], c['after'], c['irreversible']) for c in entry['changes']] == [
        ('cross_subscription_restore', 'enabled', 'disabled', False)]
    # permanently_disabled meets disabled; leaving it is never fixable.
    arm, _rg = records('dp', cross_subscription_restore='permanently_disabled')
    assert drift(arm, cross_subscription_restore='disabled')['findings'] == []
    stuck = drift(arm, cross_subscription_restore='enabled')
    assert stuck['findings'][0]['fixable'] is False and 'irreversible' in stuck['findings'][0]['reason']
    assert stuck['changes'] == [] and stuck['actions']['cross_subscription_restore'] is None
    # Without consent the irreversible target is a finding that is not fixed; with it, an irreversible change.
    arm, _rg = records('rs')
    refused = drift(arm, cross_subscription_restore='permanently_disabled')
    assert refused['findings'][0]['fixable'] is False and refused['findings'][0]['irreversible'] is True
    assert refused['changes'] == []
    consented = drift(arm, cross_subscription_restore='permanently_disabled', allow_irreversible=True)
    assert [(c['after'], c['irreversible']) for c in consented['changes']] == [('permanently_disabled', True)]


def test_cross_subscription_restore_plan_refuses_before_any_request():
    with pytest.raises(cross_subscription_restore.SecuritySettingError, match='permanently disabled is irreversible'):
        cross_subscription_restore.plan('backup', 'permanently_disabled', 'enabled', True, 'bv')
    with pytest.raises(cross_subscription_restore.SecuritySettingError, match='Set allow_irreversible=true to consent'):
        cross_subscription_restore.plan('recovery_services', 'enabled', 'permanently_disabled', False, 'rsv')
    assert cross_subscription_restore.patch('recovery_services', 'permanently_disabled') == {'properties': {'restoreSettings': {
        'crossSubscriptionRestoreSettings': {'crossSubscriptionRestoreState': 'PermanentlyDisabled'}}}}
    assert cross_subscription_restore.patch('backup', 'disabled') == {'properties': {'featureSettings': {
        'crossSubscriptionRestoreSettings': {'state': 'Disabled'}}}}


def test_public_network_access_applies_to_recovery_services_only():
    arm, _rg = records('rs')
    entry = drift(arm, public_network_access='disabled')
    assert entry['findings'][0]['fixable'] is True and 'private endpoints' in entry['findings'][0]['reason']
    assert entry['actions']['public_network_access'] == 'disabled'
    arm, _rg = records('dp')
    assert drift(arm, public_network_access='disabled')['findings'] == []
    with pytest.raises(cross_subscription_restore.SecuritySettingError, match='no public network access setting'):
        public_network_access.plan('backup', None, 'disabled', 'bv')


def test_alerts_findings_changes_and_patch():
    arm, _rg = records('rs', alerts={'job_failure_alerts': 'disabled', 'classic_alerts': 'disabled'})
    entry = drift(arm, alerts={'job_failure_alerts': 'enabled', 'classic_alerts': 'disabled'})
    assert [(f['have'], f['want'], f['fixable']) for f in entry['findings']] == [
        ({'job_failure_alerts': 'disabled'}, {'job_failure_alerts': 'enabled'}, True)]
    assert entry['actions']['alerts'] == {'job_failure_alerts': 'enabled', 'classic_alerts': None}
    assert alerts.patch('recovery_services', entry['actions']['alerts']) == {'properties': {'monitoringSettings': {
        'azureMonitorAlertSettings': {'alertsForAllJobFailures': 'Enabled'}}}}
    # Classic alerts do not apply to a Backup vault: no finding, and the module refuses them.
    arm, _rg = records('dp', alerts={'job_failure_alerts': 'enabled'})
    assert drift(arm, alerts={'job_failure_alerts': 'enabled', 'classic_alerts': 'disabled'})['findings'] == []
    with pytest.raises(cross_subscription_restore.SecuritySettingError, match='no classic alerts'):
        alerts.plan('backup', {}, {'classic_alerts': 'disabled'}, 'bv')


@pytest.mark.parametrize('kind', ['rs', 'dp'])
def test_report_only_settings_are_findings_a_person_fixes(kind):
    arm, _rg = records(kind, storage_redundancy='LocallyRedundant')
    entry = drift(arm, customer_managed_keys='required', infrastructure_encryption='required', private_endpoints='required',
                  storage_redundancy=['GeoRedundant', 'ZoneRedundant'], cross_region_restore='required')
    found = dict((f['setting'], f) for f in entry['findings'])
    expected = {'customer_managed_keys', 'infrastructure_encryption', 'storage_redundancy', 'cross_region_restore'}
    if kind == 'rs':
        expected.add('private_endpoints')
    assert set(found) == expected
    assert all(f['fixable'] is False and f['reason'].startswith('report only: ') for f in found.values())
    assert found['storage_redundancy']['have'] == 'LocallyRedundant'
    assert entry['changes'] == []
    arm, _rg = records(kind, **ALL)
    assert drift(arm, customer_managed_keys='required', infrastructure_encryption='required', private_endpoints='required',
                 storage_redundancy=['ZoneRedundant'], cross_region_restore='required')['findings'] == []


GUARD = '/subscriptions/%s/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/guard-01' % SUB


@pytest.mark.parametrize('kind', ['rs', 'dp'])
def test_resource_guard_association(kind):
    got = validate_baseline({'resource_guard_id': GUARD.upper().replace('SUBSCRIPTIONS', 'subscriptions')})
    assert got['resource_guard_id'].lower() == GUARD.lower()
    with pytest.raises(DriftError, match='baseline.resource_guard_id must be the ARM id of a Resource Guard'):
        validate_baseline({'resource_guard_id': '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/s'})
    arm, rg = records(kind)
    entry = drift(arm, resource_guard_id=GUARD)
    assert [(f['setting'], f['fixable']) for f in entry['findings']] == [('mua', True)]
    assert entry['actions']['resource_guard'] == GUARD
    assert [(c['action'], c['setting'], c['after']) for c in entry['changes']] == [('resource_guard', 'mua', GUARD)]
    # Protected by that guard: nothing to do; by another: a finding that cannot be fixed here. The vault's body says only
    # that a guard protects it (as a live GET: tests/fixtures/azure-real/ps-rs-mua); its proxy says which (with_proxy, what
    # harden_plan and vault_security_settings read for such a vault: mua.needs_proxy).
    arm, rg = records(kind, resource_guard_id=GUARD)
    assert arm['mua'] == {'protected': True, 'resource_guard_id': None, 'protected_operations': []} and mua.needs_proxy(arm)
    assert mua.RULE.vault_reads(arm, GUARD) == ('resource_guard',) and mua.RULE.vault_reads(arm, None) == ()
    unseen = drift(arm, resource_guard_id=GUARD)['findings']
    assert [(f['setting'], f['fixable']) for f in unseen] == [('mua', False)] and 'not visible' in unseen[0]['reason']
    proxy = {'properties': {'resourceGuardResourceId': GUARD, 'resourceGuardOperationDetails': [
        {'vaultCriticalOperation': 'Microsoft.RecoveryServices/vaults/backupconfig/write',
         'defaultResourceRequest': GUARD + '/disableSoftDeleteRequests/default'}]}}
    arm = dict(arm, mua=mua.with_proxy(arm, [proxy]))
    assert arm['mua'] == {'protected': True, 'resource_guard_id': GUARD, 'protected_operations': ['disableSoftDeleteRequests']}
    assert not mua.needs_proxy(arm) and mua.RULE.vault_reads(arm, GUARD) == ()
    assert drift(arm, resource_guard_id=GUARD.lower())['findings'] == []
    rg = dict(rg, mua=mua.with_proxy(rg, [proxy]))
    other = GUARD.replace('guard-01', 'guard-02')
    stuck = drift(rg, resource_guard_id=other)
    assert stuck['findings'][0]['fixable'] is False and 'already protected' in stuck['findings'][0]['reason']
    assert stuck['changes'] == []


# Each: (what is wrong with it, the id, what the refusal must say). azure-mgmt-core's parser, which the check used, took
# every one of them as a Resource Guard id.
BAD_GUARDS = [
    ('a query', GUARD + '?api-version=1', "it holds '?' (U+003F QUESTION MARK), '=' (U+003D EQUALS SIGN)"),
    ('a fragment', GUARD + '#x', "it holds '#' (U+0023 NUMBER SIGN)"),
    ('a variation selector', GUARD + '\ufe0f', "it holds '\\ufe0f' (U+FE0F VARIATION SELECTOR-16)"),
    ('a supplementary variation selector', GUARD.replace('guard-01', 'guard\U000e0100-01'),
     "it holds '\\U000e0100' (U+E0100 VARIATION SELECTOR-17)"),
    ('a zero-width space', GUARD.replace('rg-guard', 'rg\u200b-guard'), "it holds '\\u200b' (U+200B ZERO WIDTH SPACE)"),
    ('a right-to-left override', GUARD + '\u202e', "it holds '\\u202e' (U+202E RIGHT-TO-LEFT OVERRIDE)"),
    ('a word joiner', GUARD.replace('guard-01', 'guard\u2060-01'), "it holds '\\u2060' (U+2060 WORD JOINER)"),
    ('a space inside', GUARD.replace('rg-guard', 'rg guard'), "it holds ' ' (U+0020 SPACE)"),
    ('a no-break space', GUARD.replace('guard-01', 'guard\u00a001'), "it holds '\\xa0' (U+00A0 NO-BREAK SPACE)"),
    ('a leading space', ' ' + GUARD, "it holds ' ' (U+0020 SPACE)"),
    ('a trailing newline', GUARD + '\n', "it holds '\\n' (U+000A)"),
    ('a tab', GUARD.replace('/providers', '\t/providers'), "it holds '\\t' (U+0009)"),
    ('a percent escape', GUARD.replace('guard-01', 'guard%2F01'), "it holds '%' (U+0025 PERCENT SIGN)"),
    ('a subscription that is no GUID', GUARD.replace(SUB, 'sub-1'), "'sub-1' is not a subscription id (a GUID)"),
    ('a guard name ending with a period', GUARD.replace('guard-01', 'guard-01.'), "'guard-01.' is not a Resource Guard name"),
    ('a guard name of another script', GUARD.replace('guard-01', 'gu\u0430rd-01'), "'gu\u0430rd-01' is not a Resource Guard name"),
    ('a child resource', GUARD + '/operations/x', ''),
    ('another resource type', GUARD.replace('resourceGuards', 'backupVaults'), ''),
    ('another provider', GUARD.replace('DataProtection', 'RecoveryServices'), ''),
    ('no resource group', GUARD.replace('/resourceGroups/rg-guard', ''), ''),
    ('two slashes', GUARD.replace('/providers', '//providers'), ''),
]


@pytest.mark.parametrize('what, value, words', BAD_GUARDS, ids=[case[0] for case in BAD_GUARDS])
def test_a_resource_guard_id_that_is_not_well_formed_is_refused_with_its_characters_escaped(what, value, words):
    """The baseline key (the role's harden_backup_vaults_resource_guard_id) and vault_security_settings' option both read the
    id with mua.guard_id: before, any id azure-mgmt-core's parser could split passed, '?', '#', spaces and invisible
    characters included, and reached the guard association's PUT body."""
    del what
    with pytest.raises(DriftError) as raised:
        validate_baseline({'resource_guard_id': value})
    message = str(raised.value)
    assert message.startswith('baseline.resource_guard_id must be the ARM id of a Resource Guard'), message
    assert words in message, message
    # The value is shown escaped: no invisible or control character of it reaches the message.
    assert all(char.isprintable() and char not in '\u00a0\u200b\u2060\u202e\ufe0f\U000e0100' for char in message), message


@pytest.mark.parametrize('value', [
    GUARD, GUARD + '/', GUARD.lower(), GUARD.upper().replace('SUBSCRIPTIONS', 'subscriptions'),
    GUARD.replace('rg-guard', 'rg.(prod)_1'), GUARD.replace('guard-01', 'VaultGuardTestNew'), GUARD.replace('guard-01', 'g.1_x'),
    GUARD.replace('guard-01', 'ResourceGuard38-1')])
def test_a_well_formed_resource_guard_id_in_any_casing_is_taken(value):
    """ARM compares provider namespaces and types case-insensitively: any casing of Microsoft.DataProtection/resourceGuards."""
    got = validate_baseline({'resource_guard_id': value})['resource_guard_id']
    assert got.lower() == value.rstrip('/').lower()


def test_every_rule_reports_its_state_of_every_vault_for_the_posture():
    """Issue 26: drift.json lists every vault with its state for every rule the registry holds, the security ones too."""
    from ansible_collections.vaultlock.azure.plugins.module_utils import _rules
    assert [rule.posture_key for rule in _rules.RULES] == [
        'immutability', 'soft_delete', 'retention', 'mua', 'cross_subscription_restore', 'public_network_access', 'alerts',
        'customer_managed_keys', 'infrastructure_encryption', 'private_endpoints', 'storage_redundancy', 'cross_region_restore']
    rs = {'vault_type': 'recovery_services', 'cross_subscription_restore': 'permanently_disabled', 'public_network_access': 'disabled',
          'alerts': {'job_failure_alerts': 'enabled', 'classic_alerts': 'disabled'},
          'customer_managed_keys': {'enabled': True, 'key_uri': 'https://kv.example/keys/k'}, 'infrastructure_encryption': 'enabled',
          'private_endpoints': {'approved': 1, 'connections': 2, 'state_for_backup': 'enabled'}, 'storage_redundancy': 'GeoRedundant',
          'cross_region_restore': None}
    bv = {'vault_type': 'backup', 'cross_subscription_restore': 'enabled', 'public_network_access': None,
          'alerts': {'job_failure_alerts': None, 'classic_alerts': None}, 'customer_managed_keys': {'enabled': False},
          'infrastructure_encryption': None, 'private_endpoints': None, 'storage_redundancy': None, 'cross_region_restore': 'disabled'}
    by_key = dict((rule.posture_key, rule) for rule in _rules.RULES)
    states = dict((key, by_key[key].state(rs, {}, [])) for key in list(by_key)[4:])
    assert states == {
        'cross_subscription_restore': {'state': 'permanently_disabled'}, 'public_network_access': {'state': 'disabled'},
        'alerts': {'state': 'enabled', 'classic_alerts': 'disabled'},
        'customer_managed_keys': {'state': 'enabled', 'key_uri': 'https://kv.example/keys/k'},
        'infrastructure_encryption': {'state': 'enabled'}, 'private_endpoints': {'state': 'approved', 'approved': 1, 'connections': 2},
        'storage_redundancy': {'state': 'GeoRedundant'}, 'cross_region_restore': {'state': 'not_reported'}}
    assert [by_key[key].state(bv, {}, [])['state'] for key in list(by_key)[4:]] == [
        'enabled', 'not_applicable', 'not_reported', 'disabled', 'not_reported', 'not_applicable', 'not_reported', 'disabled']
    # A baseline that checks a setting makes the vault compliant or not; one that does not leaves it null.
    csr = by_key['cross_subscription_restore']
    assert csr.posture(rs, {'cross_subscription_restore': 'disabled'}, [])['compliant'] is True
    assert csr.posture(rs, {'cross_subscription_restore': None}, [])['compliant'] is None
    # After a real run: the value the run wrote.
    after = csr.posture_after({'state': 'enabled', 'compliant': False}, [{'setting': 'cross_subscription_restore', 'after': 'disabled'}], [])
    assert after['state'] == 'disabled'
    alerts = by_key['alerts'].posture_after({'state': 'disabled', 'classic_alerts': 'enabled'},
                                            [{'setting': 'alerts', 'after': {'job_failure_alerts': 'enabled'}},
                                             {'setting': 'alerts', 'after': {'classic_alerts': 'disabled'}}], [])
    assert alerts == {'state': 'enabled', 'classic_alerts': 'disabled'}
