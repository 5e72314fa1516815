# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lock readiness (module_utils/_readiness.py): calendar arithmetic, requirements, operational tiers, each blocker, and
how the role's plan (_targets.plan_run) locks only the ready vaults."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError, VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._readiness import (
    DEFAULT_REQUIREMENTS,
    ReadinessError,
    REQUIRING,
    add_duration,
    looser_requirements,
    readiness,
    validate_requirements,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import gate_locks, lock_requirements_for, plan_run

from tests.unit.builders import BV, RG, RS, SUB, dp_policy, files_vault, iaas, lifecycle, vault_id, workload

D = datetime.date
TODAY = D(2026, 3, 2)


# ------------------------------------------------------------------ calendar

@pytest.mark.parametrize('start, duration, end', [
    (D(2026, 3, 2), 'P30D', D(2026, 4, 1)),
    (D(2026, 3, 2), '2w', D(2026, 3, 16)),
    (D(2026, 3, 2), 'P10Y', D(2036, 3, 2)),
    # Month ends: the day is clamped to the last day of the target month.
    (D(2024, 1, 31), 'P1M', D(2024, 2, 29)),
    (D(2023, 1, 31), 'P1M', D(2023, 2, 28)),
    (D(2026, 3, 31), 'P1M', D(2026, 4, 30)),
    (D(2025, 11, 30), 'P3M', D(2026, 2, 28)),
    (D(2025, 12, 31), '12m', D(2026, 12, 31)),
    # Leap years: a year from 29 February is 28 February, four years from it is 29 February again.
    (D(2024, 2, 29), 'P1Y', D(2025, 2, 28)),
    (D(2024, 2, 29), 'P4Y', D(2028, 2, 29)),
    (D(2024, 2, 29), '12m', D(2025, 2, 28)),
    (D(2023, 3, 1), '365d', D(2024, 2, 29)),
    # Years and months first, then weeks and days.
    (D(2024, 8, 31), 'P1Y6M', D(2026, 2, 28)),
    (D(2024, 1, 31), 'P1M1D', D(2024, 3, 1)),
    (D(2023, 12, 31), '1y6m2w3d', D(2025, 7, 17)),
])
def test_durations_are_added_by_the_calendar(start, duration, end):
    assert add_duration(start, duration) == end


def test_a_date_beyond_the_year_9999_is_none():
    assert add_duration(D(2026, 1, 1), 'P9000Y') is None
    assert add_duration(D(9999, 12, 1), 'P40D') is None


# ------------------------------------------------------------------ requirements

def test_defaults_and_normal_forms():
    assert validate_requirements(None) == DEFAULT_REQUIREMENTS == {
        'max_retention': None, 'require_soft_delete': 'on', 'require_mua': False, 'no_unfixable_findings': True}
    assert validate_requirements({}) == DEFAULT_REQUIREMENTS
    assert validate_requirements({'max_retention': '3650d', 'require_soft_delete': 'Always-On', 'require_mua': True}) == {
        'max_retention': 'P3650D', 'require_soft_delete': 'always_on', 'require_mua': True, 'no_unfixable_findings': True}
    # YAML's unquoted on is true; false and an explicit null mean no soft delete requirement; a null boolean is its default.
    assert validate_requirements({'require_soft_delete': True})['require_soft_delete'] == 'on'
    assert validate_requirements({'require_soft_delete': False})['require_soft_delete'] is None
    assert validate_requirements({'require_soft_delete': None, 'require_mua': None}) == dict(DEFAULT_REQUIREMENTS, require_soft_delete=None)
    assert validate_requirements({'max_retention': 'P10Y'})['max_retention'] == 'P10Y'
    # Validating what validation returned changes nothing.
    done = validate_requirements({'max_retention': '10y', 'require_soft_delete': 'always_on'})
    assert validate_requirements(done) == done


@pytest.mark.parametrize('requirements, words', [
    ({'max_retentoin': '10y'}, ['unknown key(s) max_retentoin', 'allowed: max_retention, require_soft_delete']),
    # Empty text (a variable that came out empty) was taken as no requirement: vaults with soft delete off, or keeping
    # recovery points for any time, were then locked. Null still means no requirement.
    ({'require_soft_delete': ''}, ["requirements.require_soft_delete is '' (from a variable that came out empty?)", 'null for no']),
    ({'require_soft_delete': '  '}, ["require_soft_delete is '  '"]),
    ({'max_retention': ''}, ["requirements.max_retention is '' (from a variable that came out empty?)", 'null for no limit']),
    ({'max_retention': 'ten years'}, ["requirements.max_retention: invalid duration 'ten years'", 'P1Y']),
    ({'max_retention': 'PT10H'}, ['requirements.max_retention']),
    ({'max_retention': '101y'}, ['requirements.max_retention is 101y', '99 years']),
    ({'require_soft_delete': 'off'}, ["require_soft_delete must be on, always_on or null (no requirement), got 'off'"]),
    ({'require_soft_delete': 'sometimes'}, ["got 'sometimes'"]),
    ({'require_mua': 'yes'}, ["requirements.require_mua must be true or false, got 'yes'"]),
    ({'no_unfixable_findings': 1}, ['no_unfixable_findings must be true or false']),
    (['max_retention'], ['requirements must be a dictionary']),
])
def test_bad_requirements_are_refused_with_clear_errors(requirements, words):
    with pytest.raises(ReadinessError) as raised:
        validate_requirements(requirements)
    assert isinstance(raised.value, InputError) and isinstance(raised.value, VaultlockError)
    for word in words:
        assert word in str(raised.value)


def test_looser_requirements_are_those_that_may_let_a_vault_lock_that_the_defaults_keep_unlocked():
    assert looser_requirements(None) == looser_requirements({}) == []
    assert looser_requirements({'max_retention': '10y', 'require_soft_delete': 'always_on', 'require_mua': True}) == []
    assert looser_requirements({'require_soft_delete': False, 'no_unfixable_findings': False}) == [
        ('require_soft_delete', None, 'on'), ('no_unfixable_findings', False, True)]
    with pytest.raises(ReadinessError):
        looser_requirements({'require_soft_delete': 'sometimes'})


@pytest.mark.parametrize('key, value, default, looser', [
    # max_retention: no limit is looser than any; a longer limit, or one not surely as short (1m against 30d), is looser.
    ('max_retention', None, 'P10Y', True),
    ('max_retention', 'P11Y', 'P10Y', True),
    ('max_retention', 'P1M', 'P30D', True),
    ('max_retention', 'P10Y', 'P10Y', False),
    ('max_retention', 'P7Y', 'P10Y', False),
    ('max_retention', 'P10Y', None, False),
    ('max_retention', None, None, False),
    # require_soft_delete: none < on < always_on.
    ('require_soft_delete', None, 'on', True),
    ('require_soft_delete', 'on', 'always_on', True),
    ('require_soft_delete', 'always_on', 'on', False),
    ('require_soft_delete', 'on', None, False),
    # require_mua: a yes/no requirement.
    ('require_mua', False, True, True),
    ('require_mua', True, False, False),
    ('require_mua', False, False, False),
])
def test_each_rule_says_when_its_requirement_is_looser(key, value, default, looser):
    rule = next(rule for rule in REQUIRING if rule.requirement.key == key)
    assert rule.looser_requirement(value, default) is looser


def test_the_error_names_where_the_requirements_came_from():
    with pytest.raises(ReadinessError, match=r'^harden_backup_vaults_lock_requirements\.max_retention'):
        validate_requirements({'max_retention': 'x'}, 'harden_backup_vaults_lock_requirements')


# ------------------------------------------------------------------ readiness

def item(name, policy, datasource_type='VM'):
    return {'name': name, 'friendly_name': name, 'datasource_type': datasource_type, 'policy': policy, 'protection_state': 'Protected'}


def rs_vault(name='rsv', policies=(), items=(), soft_delete='on', mua=False, immutability='enabled', days=None):
    return {'id': vault_id(name), 'name': name, 'vault_type': RS, 'subscription_id': SUB, 'resource_group': RG,
            'immutability': immutability, 'immutability_retention_days': days,
            'soft_delete': {'state': soft_delete, 'retention_days': 14}, 'mua': {'protected': mua, 'resource_guard_id': None},
            'policies': [normalise_policy(p, RS) for p in policies], 'protected_items': list(items)}


def bv_vault(name='bv', policies=(), items=(), soft_delete='on'):
    return {'id': vault_id(name, BV), 'name': name, 'vault_type': BV, 'subscription_id': SUB, 'resource_group': RG,
            'immutability': 'disabled', 'immutability_retention_days': None,
            'soft_delete': {'state': soft_delete, 'retention_days': 14.0}, 'mua': {'protected': False, 'resource_guard_id': None},
            'policies': [normalise_policy(p, BV) for p in policies], 'protected_items': list(items)}


def vm_policy(name='VMDaily', daily=30, yearly=None, instant=5):
    tiers = {'daily': (daily, 'Days')}
    if yearly:
        tiers['yearly'] = (yearly, 'Years')
    return iaas(name, instant=instant, **tiers)


def ordinary():
    """Two VM policies (one unused), SQL items, soft delete on: what an ordinary vault looks like."""
    return rs_vault(policies=[vm_policy('VMDaily', 30, yearly=10), vm_policy('VMLong', 30, yearly=20),
                              dict(workload('SQLDaily', full={'daily': (35, 'Days')}, log=(15, 'Days')))],
                    items=[item('vm-a', 'VMDaily'), item('vm-b', 'vmdaily'), item('db-1', 'SQLDaily', 'SQLDataBase')])


def test_an_ordinary_vault_is_ready_with_the_defaults_and_says_what_locking_commits_to():
    result = readiness(ordinary(), findings=[], today=TODAY)
    assert result['ready'] is True and result['blockers'] == [] and result['not_evaluated'] == []
    assert result['as_of'] == '2026-03-02' and result['immutability'] == 'enabled' and result['locked'] is False
    assert result['protected_items']['count'] == 3
    assert result['protected_items']['by_datasource_type'] == {'SQLDataBase': 1, 'VM': 2}
    assert [(i['name'], i['policy'], i['held_until']) for i in result['protected_items']['items']] == [
        ('vm-a', 'VMDaily', '2036-03-02'), ('vm-b', 'vmdaily', '2036-03-02'), ('db-1', 'SQLDaily', '2026-04-06')]
    # Only the policies in use count; VMLong keeps 20 years but protects nothing.
    assert [(p['name'], p['items'], p['held_until']) for p in result['policies']] == [('SQLDaily', 1, '2026-04-06'), ('VMDaily', 2, '2036-03-02')]
    vm = result['policies'][1]
    # VM instant restore snapshots: held by immutability by assumption (Microsoft does not name them operational)
    assert [(t['tier'], t['duration'], t['held_until'], t['protected_by_immutability'], t['protection_unsourced']) for t in vm['tiers']] == [
        ('yearly', 'P10Y', '2036-03-02', True, False), ('daily', 'P30D', '2026-04-01', True, False),
        ('instant', 'P5D', '2026-03-07', True, True)]
    assert result['held_until'] == '2036-03-02'
    assert result['held_by'] == {'policy': 'VMDaily', 'tier': 'yearly', 'datastore': None, 'duration': 'P10Y'}
    assert result['commitments'] == [
        'immutability can never be disabled again',
        'stop protection with delete data impossible for 3 items until 2036-03-02',
        'retention of policies SQLDaily, VMDaily and VMLong can never be reduced',
        'items can never move to a policy that keeps less',
    ]


def test_the_module_without_findings_lists_the_requirement_it_could_not_evaluate():
    result = readiness(ordinary(), today=TODAY)
    assert result['ready'] is True
    assert result['not_evaluated'] == [{'requirement': 'no_unfixable_findings',
                                        'reason': 'no drift findings were given (the harden_backup_vaults role gives them)'}]
    assert readiness(ordinary(), {'no_unfixable_findings': False}, today=TODAY)['not_evaluated'] == []


def test_operational_tiers_are_not_held_and_never_block():
    disk = dp_policy('DiskOps', {'Default': [lifecycle('OperationalStore', 'P1Y')]})
    blob = dp_policy('BlobMixed', {'Default': [lifecycle('OperationalStore', 'P2Y'), lifecycle('VaultStore', 'P30D')]})
    vault = bv_vault(policies=[disk, blob], items=[item('disk-1', 'DiskOps', 'Microsoft.Compute/disks'),
                                                   item('blob-1', 'BlobMixed', 'Microsoft.Storage/storageAccounts/blobServices')])
    result = readiness(vault, {'max_retention': '60d'}, findings=[], today=TODAY)
    assert result['ready'] is True, result['blockers']
    ops, mixed = sorted(result['policies'], key=lambda p: p['name'])[::-1]
    assert ops['name'] == 'DiskOps' and ops['held_until'] is None
    assert [(t['datastore'], t['protected_by_immutability']) for t in ops['tiers']] == [('OperationalStore', False)]
    assert [(t['datastore'], t['duration'], t['protected_by_immutability']) for t in mixed['tiers']] == [
        ('VaultStore', 'P30D', True), ('OperationalStore', 'P2Y', False)]
    assert result['held_until'] == '2026-04-01'
    assert result['commitments'] == [
        'immutability can never be disabled again',
        'stop protection with delete data impossible for 1 item until 2026-04-01',
        '1 item is backed up to operational tiers only, which immutability does not hold',
    ]
    # Azure Files snapshots are operational too; VM instant restore snapshots are not named by Microsoft, so they are held
    # by assumption (the refusing side) and count for max_retention.
    files = rs_vault(policies=[dict(files_vault(30, daily=(7, 'Days')), name='files')], items=[item('share', 'files', 'AzureFileShare')])
    tiers = readiness(files, today=TODAY)['policies'][0]['tiers']
    assert {(t['tier'], t['datastore'], t['protected_by_immutability']) for t in tiers} == {
        ('snapshot', 'Snapshot', False), ('daily', 'VaultStandard', True)}
    vm = rs_vault(policies=[vm_policy('VM', daily=7, instant=30)], items=[item('vm', 'VM')])
    held = readiness(vm, {'max_retention': '10d'}, today=TODAY)
    assert held['ready'] is False and 'instant tier P30D' in held['blockers'][0]['message']
    assert readiness(vm, {'max_retention': '30d'}, today=TODAY)['ready'] is True


def test_max_retention_blocks_a_policy_in_use_that_keeps_longer_and_names_each():
    result = readiness(ordinary(), {'max_retention': '5y'}, findings=[], today=TODAY)
    assert result['ready'] is False
    assert result['blockers'] == [{
        'requirement': 'max_retention', 'want': 'P5Y', 'found': 'P10Y',
        'message': 'max_retention P5Y: policy VMDaily keeps its yearly tier P10Y (held until 2036-03-02, later than 2031-03-02)'}]
    # An unused policy that keeps longer does not block (VMLong, 20 years); exactly the limit does not block either.
    assert readiness(ordinary(), {'max_retention': '10y'}, findings=[], today=TODAY)['ready'] is True
    assert readiness(ordinary(), {'max_retention': 'P120M'}, findings=[], today=TODAY)['ready'] is True


def test_max_retention_is_compared_by_the_calendar():
    # 10 years are at least 3652 days: 3650d blocks a 10-year policy on any day.
    for today in (D(2026, 3, 2), D(2027, 1, 1), D(2028, 2, 29)):
        assert not readiness(ordinary(), {'max_retention': '3650d'}, findings=[], today=today)['ready']
    yearly = rs_vault(policies=[iaas('Y', instant=None, yearly=(1, 'Years'))], items=[item('vm', 'Y')])
    # 365 days are less than a year when the year holds 29 February, and exactly a year when it does not.
    assert not readiness(yearly, {'max_retention': '365d'}, findings=[], today=D(2024, 1, 1))['ready']
    assert readiness(yearly, {'max_retention': '365d'}, findings=[], today=D(2025, 3, 1))['ready']


def test_retention_the_run_raises_first_counts():
    raise_daily = [{'action': 'retention', 'setting': 'retention', 'policy': 'SQLDaily', 'tier': 'daily', 'sub_policy': 'Full',
                    'datastore': None, 'before': 'P35D', 'after': 'P400D'}]
    result = readiness(ordinary(), {'max_retention': '1y'}, findings=[], raises=raise_daily, today=TODAY)
    assert [b['requirement'] for b in result['blockers']] == ['max_retention']
    assert 'policy SQLDaily keeps its daily tier P400D' in result['blockers'][0]['message']
    assert [p['held_until'] for p in result['policies'] if p['name'] == 'SQLDaily'] == ['2027-04-06']


@pytest.mark.parametrize('soft_delete, want, ready', [
    ('on', 'on', True), ('always_on', 'on', True), ('off', 'on', False), (None, 'on', False),
    ('on', 'always_on', False), ('always_on', 'always_on', True), ('off', None, True),
])
def test_require_soft_delete(soft_delete, want, ready):
    result = readiness(rs_vault(soft_delete=soft_delete), {'require_soft_delete': want}, findings=[], today=TODAY)
    assert result['ready'] is ready
    if not ready:
        assert result['blockers'] == [{'requirement': 'require_soft_delete', 'want': want, 'found': soft_delete,
                                       'message': 'require_soft_delete %s: soft delete is %s' % (want, soft_delete or 'unknown')}]


def test_require_mua():
    assert readiness(rs_vault(mua=True), {'require_mua': True}, findings=[], today=TODAY)['ready'] is True
    result = readiness(bv_vault(), {'require_mua': True}, findings=[], today=TODAY)
    assert result['blockers'] == [{'requirement': 'require_mua', 'want': True, 'found': False,
                                   'message': 'require_mua: the vault is not protected by multi-user authorization (no Resource Guard)'}]


def test_no_unfixable_findings_counts_what_the_run_cannot_fix_but_not_the_lock_itself():
    findings = [
        {'setting': 'immutability', 'have': 'enabled', 'want': 'locked', 'fixable': False},
        {'setting': 'retention', 'policy': 'VMWeekly', 'tier': 'daily', 'fixable': False},
        {'setting': 'soft_delete', 'fixable': True},
    ]
    result = readiness(ordinary(), findings=findings, today=TODAY)
    assert result['blockers'] == [{'requirement': 'no_unfixable_findings', 'want': 0, 'found': 1,
                                   'message': 'no_unfixable_findings: 1 finding this run cannot fix: retention VMWeekly/daily'}]
    assert readiness(ordinary(), {'no_unfixable_findings': False}, findings=findings, today=TODAY)['ready'] is True
    assert readiness(ordinary(), findings=findings[:1], today=TODAY)['ready'] is True


def test_what_could_not_be_read_blocks_whatever_the_requirements():
    loose = {'require_soft_delete': None, 'no_unfixable_findings': False}
    unread = dict(ordinary())
    del unread['protected_items']
    failed = dict(ordinary(), protected_items=[], protected_items_error=True)
    no_policies = dict(ordinary(), policies=None)
    policy_error = dict(ordinary(), policies=[], policies_error=True)
    missing = rs_vault(policies=[vm_policy()], items=[item('vm', 'Gone'), item('vm2', 'Gone')])
    odd = rs_vault(policies=[{'name': 'Odd', 'properties': {'backupManagementType': 'Mystery'}}], items=[item('x', 'Odd')])
    cases = [
        (unread, "the vault's protected items were not read"),
        (failed, "the vault's protected items could not be read"),
        (no_policies, "the vault's backup policies were not read"),
        (policy_error, "the vault's backup policies could not be read"),
        (missing, "policy Gone (used by 2 items) is not among the vault's policies"),
        (odd, 'policy Odd is of a kind this collection cannot read (Mystery)'),
    ]
    for vault, message in cases:
        result = readiness(vault, loose, findings=[], today=TODAY)
        assert result['ready'] is False, message
        assert {'requirement': 'readable', 'want': 'protected items and policies read', 'found': 'not read', 'message': message} \
            in result['blockers'], result['blockers']


def test_no_items_time_based_immutability_and_items_without_a_policy():
    empty = rs_vault(policies=[vm_policy()], days=90)
    result = readiness(empty, findings=[], today=TODAY)
    assert result['ready'] is True and result['held_until'] is None and result['held_by'] is None
    assert result['immutability_days'] == 90 and result['immutable_until'] == '2026-05-31'
    assert result['commitments'] == [
        'immutability can never be disabled again',
        'no item is protected today: the commitments start with the first item protected',
        'retention of policy VMDaily can never be reduced',
        'items can never move to a policy that keeps less',
        'recovery points are immutable for 90 days after they are taken (time-based immutability): the newest until 2026-05-31',
    ]
    stopped = rs_vault(policies=[vm_policy()], items=[dict(item('old', None), protection_state='ProtectionStopped')])
    result = readiness(stopped, findings=[], today=TODAY)
    assert result['ready'] is True and result['protected_items']['items'][0]['held_until'] is None
    assert '1 item has no policy (protection stopped): its recovery points cannot be deleted before they expire' in result['commitments']


def test_backup_vault_commitments_name_only_what_azure_refuses_there():
    vault = bv_vault(policies=[dp_policy('Disk', {'Default': [lifecycle('VaultStore', 'P90D')]})],
                     items=[item('disk-1', 'Disk', 'Microsoft.Compute/disks')])
    result = readiness(vault, today=TODAY)
    assert result['commitments'] == ['immutability can never be disabled again',
                                     'stop protection with delete data impossible for 1 item until 2026-05-31']


def test_a_bad_vault_or_date_is_an_error():
    with pytest.raises(ReadinessError):
        readiness(['not a vault'])
    with pytest.raises(ReadinessError, match='today must be a date'):
        readiness(ordinary(), today='next tuesday')
    assert readiness(ordinary(), today='2026-03-02')['as_of'] == '2026-03-02'


# ------------------------------------------------------------------ the role's plan

def state_record(name, immutability, **extra):
    vault = ordinary()
    vault.update(id=vault_id(name), name=name, immutability=immutability, **extra)
    return vault


LOCK = {'immutability': 'locked', 'allow_irreversible': True}


def test_the_plan_locks_ready_vaults_and_withholds_the_lock_from_the_others():
    reads = [{'vaults': [state_record('rsv-ready', 'disabled'), state_record('rsv-soft-off', 'disabled', soft_delete={'state': 'off'}),
                         state_record('rsv-enabled-long', 'enabled'), state_record('rsv-locked', 'locked')], 'errors': []}]
    plan = plan_run(reads, None, LOCK, {'max_retention': '20y'}, today=TODAY)
    assert plan['lock_requirements'] == dict(DEFAULT_REQUIREMENTS, max_retention='P20Y')
    entries = {e['name']: e for e in plan['drift']}
    ready = entries['rsv-ready']
    assert ready['lock_readiness']['ready'] is True and ready['actions']['immutability'] == 'locked'
    assert [(c['before'], c['after'], c['irreversible']) for c in ready['changes']] == [('disabled', 'enabled', False), ('enabled', 'locked', True)]
    # Not ready: the reversible step to enabled stays, the lock goes, and the finding says why.
    soft = entries['rsv-soft-off']
    assert soft['lock_readiness']['ready'] is False
    assert soft['actions']['immutability'] == 'enabled'
    assert [(c['before'], c['after']) for c in soft['changes']] == [('disabled', 'enabled')]
    (finding,) = [f for f in soft['findings'] if f['setting'] == 'immutability']
    assert finding['fixable'] is False and finding['reason'] == 'not ready: require_soft_delete on: soft delete is off'
    assert 'lock_readiness' not in entries['rsv-locked'] and entries['rsv-locked']['changes'] == []
    assert entries['rsv-enabled-long']['lock_readiness']['ready'] is True

    strict = plan_run(reads, None, LOCK, {'max_retention': '5y'}, today=TODAY)
    entries = {e['name']: e for e in strict['drift']}
    assert entries['rsv-enabled-long']['changes'] == [] and entries['rsv-enabled-long']['actions']['immutability'] is None
    assert [f['reason'] for f in entries['rsv-enabled-long']['findings']] == [
        'not ready: max_retention P5Y: policy VMDaily keeps its yearly tier P10Y (held until 2036-03-02, later than 2031-03-02)']
    # Nothing irreversible is left, so an unmatched exclusion no longer blocks the run.
    assert plan_run(reads, ['rsv-typo'], LOCK, {'max_retention': '5y'}, today=TODAY)['blocked'] == ''
    assert plan_run(reads, ['rsv-typo'], LOCK, {'max_retention': '20y'}, today=TODAY)['blocked'] != ''


def test_a_backup_vault_whose_weak_policy_cannot_be_raised_is_not_ready_and_no_raise_is_counted():
    """Azure updates no Backup vault policy: with retention mode enforce the plan raises the Recovery Services vault's weak
    policy before its lock (readiness counts the raised 30 days), but not the Backup vault's. Its weak tier is a finding
    the run cannot fix, so it is not ready (no_unfixable_findings) and readiness shows the 7 days it keeps, never a raise
    that cannot happen, and no consent is asked for it. Before, the Backup vault's raise was planned, counted and its lock
    made after a PUT that Azure refuses."""
    rsv = rs_vault('rsv-weak', policies=[vm_policy('VMWeak', 7)], items=[item('vm-a', 'VMWeak')], immutability='disabled')
    bv = bv_vault('bv-weak', policies=[dp_policy('DiskWeak', {'Default': [lifecycle('OperationalStore', 'P7D')]})],
                  items=[item('disk-1', 'DiskWeak', 'Microsoft.Compute/disks')])
    baseline = dict(LOCK, retention={'minimum': {'daily': '30d'}, 'mode': 'enforce'})
    entries = {e['name']: e for e in plan_run([{'vaults': [rsv, bv], 'errors': []}], None, baseline, None, today=TODAY)['drift']}
    ready = entries['rsv-weak']
    assert ready['lock_readiness']['ready'] is True and ready['actions']['raise_policies'] == ['VMWeak']
    assert ready['lock_readiness']['policies'][0]['tiers'][0]['duration'] == 'P30D'
    weak = entries['bv-weak']
    assert weak['actions']['raise_policies'] == [] and weak['actions']['immutability'] == 'enabled'
    assert [(c['setting'], c['after']) for c in weak['changes']] == [('immutability', 'enabled')]
    readiness_of = weak['lock_readiness']
    assert readiness_of['ready'] is False
    assert [b['requirement'] for b in readiness_of['blockers']] == ['no_unfixable_findings']
    assert 'retention DiskWeak/default/OperationalStore' in readiness_of['blockers'][0]['message']
    assert readiness_of['policies'][0]['tiers'][0]['duration'] == 'P7D'
    [retention] = [f for f in weak['findings'] if f['setting'] == 'retention']
    assert retention['fixable'] is False and retention['irreversible'] is False and retention['option'] is None
    assert 'Azure does not update an existing Backup vault policy' in retention['reason']


def test_the_plan_refuses_bad_lock_requirements_before_anything_else():
    with pytest.raises(ReadinessError, match=r"harden_backup_vaults_lock_requirements has unknown key\(s\) max_age"):
        plan_run([], None, LOCK, {'max_age': '1y'})


def test_a_tier_s_own_lock_requirements_win_over_the_default():
    default = validate_requirements(None)
    assert lock_requirements_for({'name': 'v'}, default) is default
    assert lock_requirements_for({'name': 'v', 'lock_requirements': {'require_mua': True}}, default)['require_mua'] is True
    with pytest.raises(ReadinessError, match='lock_requirements of the tier of v.max_retention'):
        lock_requirements_for({'name': 'v', 'lock_requirements': {'max_retention': 'x'}}, default)
    vault = state_record('rsv-a', 'enabled')
    entries = plan_run([{'vaults': [vault]}], None, LOCK, None, today=TODAY)['drift']
    assert entries[0]['lock_readiness']['ready'] is True and entries[0]['changes'][-1]['after'] == 'locked'
    # The baselines per tier put the tier's raw requirements on the entry: the same vault is judged by them instead.
    entries[0]['lock_requirements'] = {'require_mua': True}
    gate_locks(entries, [vault], default, today=TODAY)
    assert entries[0]['lock_readiness']['blockers'][0]['requirement'] == 'require_mua' and entries[0]['changes'] == []


# ------------------------------------------------------------------ the reports

def test_every_report_format_has_the_lock_readiness_section():
    import json  # pylint: disable=import-outside-toplevel
    import os  # pylint: disable=import-outside-toplevel
    import xml.etree.ElementTree as ET  # pylint: disable=import-outside-toplevel

    import jsonschema  # pylint: disable=import-outside-toplevel

    from ansible_collections.vaultlock.azure.plugins.module_utils._reports.html import render_html  # pylint: disable=import-outside-toplevel
    from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import build_sarif  # pylint: disable=import-outside-toplevel
    from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import (  # pylint: disable=import-outside-toplevel
        build_report,
        render_junit,
        render_markdown,
    )

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    with open(os.path.join(root, 'docs', 'drift-report-schema.json'), encoding='utf-8') as handle:
        schema = json.load(handle)
    reads = [{'vaults': [state_record('rsv-ready', 'enabled'), state_record('rsv-soft-off', 'enabled', soft_delete={'state': 'off'}),
                         state_record('rsv-locked', 'locked')]}]
    plan = plan_run(reads, None, LOCK, None, today=TODAY)
    check = build_report(plan['drift'], {'check_mode': True, 'predict': True, 'baseline': plan['baseline'], 'timestamp': '2026-03-02T00:00:00+00:00'})
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(check)))
    rows = {row['name']: row for row in check['lock_readiness']}
    assert list(rows) == ['rsv-ready', 'rsv-soft-off']
    assert (rows['rsv-ready']['ready'], rows['rsv-ready']['status'], rows['rsv-ready']['held_until']) == (True, 'would lock', '2036-03-02')
    assert rows['rsv-ready']['protected_items'] == {'count': 3, 'by_datasource_type': {'SQLDataBase': 1, 'VM': 2}}
    assert rows['rsv-soft-off']['status'] == 'not ready'
    assert rows['rsv-soft-off']['blockers'] == [{'requirement': 'require_soft_delete', 'want': 'on', 'found': 'off',
                                                 'message': 'require_soft_delete on: soft delete is off'}]
    assert [c['name'] for c in check['changed']] == ['rsv-ready']

    markdown = render_markdown(check)
    section = markdown.split('## Lock readiness', 1)[1]
    assert '2 vaults the baseline would lock: 1 ready, 1 not ready (never locked).' in section
    assert '| rsv-soft-off | Recovery Services vault |' in section and 'require\\_soft\\_delete on: soft delete is off' in section
    assert '3 (VM 2, SQLDataBase 1) | 2036-03-02 |' in section
    assert '- **rsv-ready** (Recovery Services vault): immutability can never be disabled again; stop protection' in section
    junit = ET.fromstring(render_junit(check))
    outs = {case.get('name'): case.find('system-out').text for case in junit.iter('testcase') if case.find('system-out') is not None}
    assert sorted(outs) == ['rsv-ready', 'rsv-soft-off']
    assert outs['rsv-soft-off'].startswith('lock readiness: not ready: require_soft_delete on: soft delete is off (not ready)')
    html = render_html(check)
    assert '<section id="lock-readiness">' in html and 'require_soft_delete on: soft delete is off' in html
    sarif = build_sarif(check)['runs'][0]
    assert sarif['properties']['lock_readiness'] == {'vaults': 2, 'ready': 1, 'not_ready': 1}
    readiness = [r for r in sarif['results'] if r['properties'].get('lock_readiness')]
    (blocked,) = [r for r in readiness if r['properties']['vault_id'].endswith('/rsv-soft-off')]
    assert blocked['level'] == 'error' and blocked['properties']['lock_readiness']['blockers'][0]['requirement'] == 'require_soft_delete'

    # After a real run: the ready vault was locked, unless its change failed.
    ready_entry = [e for e in plan['drift'] if e['name'] == 'rsv-ready'][0]
    for failed, status in ((False, 'locked'), (True, 'not locked')):
        results = {'immutability': [{'item': ready_entry, 'changed': not failed, 'failed': failed,
                                     'changes': [{'setting': 'immutability', 'before': 'enabled', 'after': 'locked'}]}]}
        applied = build_report(plan['drift'], {'check_mode': False, 'baseline': plan['baseline'], 'results': results})
        jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(applied)))
        assert [(r['name'], r['status']) for r in applied['lock_readiness']] == [('rsv-ready', status), ('rsv-soft-off', 'not ready')]
    # A run blocked before any change (check mode without predictions) locks nothing.
    blocked_run = build_report(plan['drift'], {'check_mode': True, 'predict': False, 'baseline': plan['baseline']})
    assert [r['status'] for r in blocked_run['lock_readiness']] == ['not locked', 'not ready']
    # The baseline enables only: no lock decision, an empty section, and no Markdown heading.
    plain = build_report(plan_run(reads, None, {'immutability': 'enabled'})['drift'], {'check_mode': True})
    assert plain['lock_readiness'] == [] and '## Lock readiness' not in render_markdown(plain)


def test_tiers_through_the_plan_each_vault_judged_by_its_tier_s_lock_requirements():
    """harden_backup_vaults_baselines and lock readiness together: the prod tier locks and requires MUA, the default
    tier locks with the role's requirements; the same vault state is ready in one and not in the other."""
    tiers = [{'name': 'prod', 'match': {'names': ['*-prod-*']}, 'immutability': 'locked', 'lock_requirements': {'require_mua': True}},
             {'name': 'dev', 'match': {'names': ['*-dev-*']}, 'immutability': 'enabled'}]
    reads = [{'vaults': [state_record('rsv-prod-01', 'disabled'), state_record('rsv-prod-02', 'disabled', mua={'protected': True, 'resource_guard_id': None}),
                         state_record('rsv-dev-01', 'disabled'), state_record('rsv-other', 'disabled')], 'errors': []}]
    plan = plan_run(reads, None, dict(LOCK, tiers=tiers), None, today=TODAY)
    assert plan['include_items'] is True
    entries = {e['name']: e for e in plan['drift']}
    assert {name: e['tier'] for name, e in entries.items()} == {
        'rsv-prod-01': 'prod', 'rsv-prod-02': 'prod', 'rsv-dev-01': 'dev', 'rsv-other': 'default'}
    assert [b['requirement'] for b in entries['rsv-prod-01']['lock_readiness']['blockers']] == ['require_mua']
    assert entries['rsv-prod-01']['changes'][-1]['after'] == 'enabled'
    assert entries['rsv-prod-02']['lock_readiness']['ready'] is True and entries['rsv-prod-02']['changes'][-1]['after'] == 'locked'
    # The default tier (the top-level baseline) locks with the role's default requirements: ready without MUA.
    assert entries['rsv-other']['lock_readiness']['ready'] is True and entries['rsv-other']['changes'][-1]['after'] == 'locked'
    assert 'lock_readiness' not in entries['rsv-dev-01'] and entries['rsv-dev-01']['changes'][-1]['after'] == 'enabled'
    # Nothing locks: no protected items to read.
    no_lock = dict(LOCK, immutability='enabled', tiers=[dict(tiers[1])])
    assert plan_run(reads, None, no_lock, None, today=TODAY)['include_items'] is False
    assert plan_run(reads, None, dict(no_lock, tiers=[dict(tiers[0])]), None, today=TODAY)['include_items'] is True


def test_a_tier_s_bad_lock_requirements_are_refused_even_when_it_locks_nothing():
    tiers = [{'name': 'dev', 'match': {'names': ['*-dev-*']}, 'immutability': 'enabled', 'lock_requirements': {'max_age': '1y'}}]
    with pytest.raises(VaultlockError, match=r'dev.*lock_requirements has unknown key\(s\) max_age'):
        plan_run([{'vaults': [state_record('rsv-other', 'disabled')]}], None, dict(LOCK, tiers=tiers), None, today=TODAY)
