# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Baselines, raising, reductions and robustness (plugins/module_utils/_retention.py)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.vaultlock.azure.plugins.module_utils._retention import (
    OPERATIONAL_TIERS,
    Duration,
    RetentionError,
    check_minimum,
    datastore_only_warning,
    find_reductions,
    is_operational,
    is_unsourced,
    normalise_policy,
    plan_raises,
    raise_policy,
    unchecked_by_datastore,
    validate_minimum,
)

from tests.unit.builders import BV, RS, dp_policy, files_vault, iaas, lifecycle, ltr, rd, workload


def v(policy, tier, have, need, fixable, sub_policy=None, datastore=None):
    return {'policy': policy, 'tier': tier, 'sub_policy': sub_policy, 'datastore': datastore, 'have': have, 'need': need, 'fixable': fixable}


def strip(violations):
    """Violations without the human reason (checked separately)."""
    result = []
    for item in violations:
        assert isinstance(item['reason'], str) and item['reason']
        result.append({key: value for key, value in item.items() if key != 'reason'})
    return result


# ------------------------------------------------------------------ validate_minimum

def test_validate_minimum_parses_both_forms():
    parsed = validate_minimum({'daily': '30d', 'weekly': 'P12W', 'monthly': None, 'default': {'operationalstore': '7d', 'VaultStore': 'P30D'},
                               'Yearly': Duration.of(7, 'years')})
    assert parsed == {'daily': Duration.of(30, 'days'), 'weekly': Duration.of(12, 'weeks'),
                      'default': {'OperationalStore': Duration.of(7, 'days'), 'VaultStore': Duration.of(30, 'days')},
                      'yearly': Duration.of(7, 'years')}
    assert validate_minimum(parsed) == parsed
    assert validate_minimum(None) == {}
    assert validate_minimum({}) == {}


@pytest.mark.parametrize('minimum, words', [
    ({'hourly': '1d'}, ['hourly', 'daily']),
    ({'vault_store': {'daily': '30d'}}, ['vault_store']),
    ({'daily': '30x'}, ['daily', '30x']),
    ({'daily': 30}, ['daily']),
    ({'daily': '0d'}, ['daily', '0d']),
    ({'weekly': '5d'}, ['weekly', '1w']),
    ({'monthly': '4w'}, ['monthly', '1m']),
    ({'monthly': '30d'}, ['monthly', '1m']),
    ({'yearly': '11m'}, ['yearly', '1y']),
    ({'yearly': '365d'}, ['yearly', '1y']),
    ({'log': '3d'}, ['log', '7d']),
    ({'default': {'TapeStore': '7d'}}, ['TapeStore', 'OperationalStore']),
    ({'default': {'VaultStore': 'PT4H'}}, ['default.VaultStore', 'PT4H']),
    (['daily'], ['dict']),
    ('30d', ['dict']),
])
def test_validate_minimum_refuses(minimum, words):
    with pytest.raises(RetentionError) as info:
        validate_minimum(minimum)
    for word in words:
        assert word in str(info.value)


def test_floors_accept_their_own_value():
    validate_minimum({'daily': '1d', 'weekly': '1w', 'monthly': '1m', 'yearly': '12m', 'default': '1d', 'instant': '1d', 'snapshot': '1d', 'log': '1w'})


# ------------------------------------------------------------------ check_minimum

def test_compliant_policy_has_no_violations():
    record = normalise_policy(iaas(daily=(180, 'Days'), weekly=(12, 'Weeks'), monthly=(60, 'Months'), yearly=(10, 'Years'), instant=5), RS)
    assert check_minimum(record, {'daily': '30d', 'weekly': '12w', 'monthly': '5y', 'yearly': 'P10Y', 'instant': '5d'}) == []
    # tiers a kind does not have do not concern it
    assert check_minimum(record, {'log': '15d', 'default': '30d', 'snapshot': '5d'}) == []


def test_too_short_and_missing_tiers():
    record = normalise_policy(iaas(name='weekly-only', instant=None, weekly=(1, 'Weeks'), monthly=(2, 'Months')), RS)
    violations = check_minimum(record, {'daily': '30d', 'weekly': '4w', 'monthly': '60d', 'yearly': '1y', 'instant': '2d'})
    assert strip(violations) == [
        v('weekly-only', 'weekly', 'P1W', 'P4W', True),
        v('weekly-only', 'monthly', 'P2M', 'P60D', True),     # 2 months may be 56 days
        v('weekly-only', 'daily', None, 'P30D', False),
        v('weekly-only', 'yearly', None, 'P1Y', False),
        v('weekly-only', 'instant', None, 'P2D', False),
    ]
    assert 'no daily retention tier' in violations[2]['reason']
    assert 'keeps 1w, less than minimum.weekly 4w' in violations[0]['reason']


def test_unit_change_comparisons_are_conservative():
    record = normalise_policy(iaas(name='p', daily=(30, 'Days'), monthly=(1, 'Months')), RS)
    assert strip(check_minimum(record, {'daily': '4w', 'monthly': '5w'})) == [v('p', 'monthly', 'P1M', 'P5W', True)]
    assert strip(check_minimum(record, {'daily': '1m'})) == [v('p', 'daily', 'P30D', 'P1M', True)]


def test_workload_sub_policies():
    record = normalise_policy(workload(full={'daily': (30, 'Days')}, differential=(7, 'Days'), log=(15, 'Days')), RS)
    # daily applies to Full's daily tier, not to the Differential simple retention
    assert check_minimum(record, {'daily': '30d'}) == []
    assert strip(check_minimum(record, {'daily': '60d', 'log': '30d', 'default': '14d'})) == [
        v('sql', 'daily', 'P30D', 'P60D', True, sub_policy='Full'),
        v('sql', 'default', 'P7D', 'P14D', True, sub_policy='Differential'),
        v('sql', 'log', 'P15D', 'P30D', True, sub_policy='Log'),
    ]
    # Azure keeps logs at most 35 days: a longer minimum cannot be reached by raising
    violations = check_minimum(record, {'log': '60d'})
    assert strip(violations) == [v('sql', 'log', 'P15D', 'P60D', False, sub_policy='Log')]
    assert '35 days' in violations[0]['reason']


def test_workload_without_log_and_snapshot_tier():
    record = normalise_policy(workload(full={'daily': (30, 'Days')}, snapshot=2), RS)
    assert record['tiers'][1] == {'tier': 'snapshot', 'sub_policy': 'SnapshotFull', 'datastore': None, 'duration': 'P2D', 'count': 2, 'unit': 'days', 'days': 2}
    assert strip(check_minimum(record, {'log': '15d', 'snapshot': '5d'})) == [
        v('sql', 'snapshot', 'P2D', 'P5D', True, sub_policy='SnapshotFull'),
        v('sql', 'log', None, 'P15D', False),
    ]


def test_instant_restore_ceilings():
    v1 = normalise_policy(iaas(name='v1', policy_type='V1', instant=2, daily=(30, 'Days')), RS)
    assert strip(check_minimum(v1, {'instant': '5d'})) == [v('v1', 'instant', 'P2D', 'P5D', True)]
    assert strip(check_minimum(v1, {'instant': '7d'})) == [v('v1', 'instant', 'P2D', 'P7D', False)]
    v2 = normalise_policy(iaas(name='v2', instant=2, daily=(30, 'Days')), RS)
    assert strip(check_minimum(v2, {'instant': '7d'})) == [v('v2', 'instant', 'P2D', 'P7D', True)]
    assert strip(check_minimum(v2, {'instant': '5w'})) == [v('v2', 'instant', 'P2D', 'P5W', False)]


def test_backup_vault_default_rule_and_datastores():
    disk = normalise_policy(dp_policy(name='disk', rules={'Default': [lifecycle('OperationalStore', 'P7D')]}), BV)
    # daily stands in for default when default is not given
    # Not fixable: Azure updates no Backup vault policy (_retention.DP_NO_UPDATE)
    assert strip(check_minimum(disk, {'daily': '30d'})) == [v('disk', 'default', 'P7D', 'P30D', False, datastore='OperationalStore')]
    assert 'create a policy that keeps at least 30d and move the backup instances to it' in check_minimum(disk, {'daily': '30d'})[0]['reason']
    assert check_minimum(disk, {'daily': '7d'}) == []
    # per-datastore: only datastores the policy uses
    assert check_minimum(disk, {'default': {'VaultStore': '30d'}}) == []
    assert strip(check_minimum(disk, {'default': {'OperationalStore': '14d', 'VaultStore': '30d'}})) == [
        v('disk', 'default', 'P7D', 'P14D', False, datastore='OperationalStore')]
    # with an explicit default, daily asks for a Daily tag the policy does not have
    assert strip(check_minimum(disk, {'default': '7d', 'daily': '30d', 'weekly': '12w'})) == [
        v('disk', 'daily', None, 'P30D', False), v('disk', 'weekly', None, 'P12W', False)]
    # instant / log / snapshot are not Backup vault tiers
    assert check_minimum(disk, {'instant': '5d', 'log': '15d', 'snapshot': '5d'}) == []


def test_azure_files_datastores():
    record = normalise_policy(files_vault(snapshot_days=5, daily=(30, 'Days')), RS)
    assert strip(check_minimum(record, {'snapshot': '10d', 'daily': {'VaultStandard': '60d'}})) == [
        v('files', 'snapshot', 'P5D', 'P10D', True, datastore='Snapshot'),
        v('files', 'daily', 'P30D', 'P60D', True, datastore='VaultStandard'),
    ]
    assert check_minimum(record, {'daily': {'Snapshot': '60d'}}) == []


def test_unknown_and_unreadable():
    record = normalise_policy({'name': 'gen', 'properties': {'backupManagementType': 'GenericProtectionPolicy', 'subProtectionPolicy': []}}, RS)
    assert record['unknown'] is True and record['tiers'] == [] and record['workload'] == 'GenericProtectionPolicy'
    assert strip(check_minimum(record, {'daily': '30d'})) == [v('gen', 'daily', None, 'P30D', False)]
    broken = iaas(name='b', daily=(30, 'Days'), weekly=(4, 'Weeks'))
    broken['properties']['retentionPolicy']['weeklySchedule']['retentionDuration'] = {'count': None, 'durationType': 'Weeks'}
    record = normalise_policy(broken, RS)
    assert [tier['tier'] for tier in record['tiers']] == ['daily', 'instant']
    assert record['unreadable'] == [{'tier': 'weekly', 'sub_policy': None, 'datastore': None, 'value': {'count': None, 'durationType': 'Weeks'}}]
    assert strip(check_minimum(record, {'weekly': '4w'})) == [v('b', 'weekly', None, 'P4W', False)]


@pytest.mark.parametrize('resource', [
    None, {}, [], 'policy', {'properties': None}, {'properties': {}}, {'properties': {'backupManagementType': None}},
    {'properties': {'backupManagementType': 'AzureIaasVM', 'retentionPolicy': None}},
    {'properties': {'backupManagementType': 'AzureIaasVM', 'retentionPolicy': {'retentionPolicyType': 'Future'}}},
    {'properties': {'backupManagementType': 'AzureIaasVM', 'retentionPolicy': {'dailySchedule': None}}},
    {'properties': {'backupManagementType': 'AzureWorkload', 'subProtectionPolicy': [None, 3, {'policyType': None}]}},
    {'properties': {'backupManagementType': 'AzureStorage', 'vaultRetentionPolicy': {'snapshotRetentionInDays': 0}}},
    {'properties': {'backupManagementType': 'MAB', 'retentionPolicy': {'retentionDuration': {'count': 10, 'durationType': 'Days'}}}},
    {'properties': {'backupManagementType': 'AzureSql', 'retentionPolicy': {'retentionPolicyType': 'SimpleRetentionPolicy', 'retentionDuration': None}}},
])
def test_odd_rs_input_never_crashes(resource):
    record = normalise_policy(resource, RS)
    assert isinstance(record['tiers'], list)
    check_minimum(record, {'daily': '30d', 'log': '15d'})
    raise_policy(resource, RS, {'daily': '30d'})


@pytest.mark.parametrize('resource', [
    {'properties': {'policyRules': None}},
    {'properties': {'policyRules': [None, 'x', {'objectType': 'AzureRetentionRule'}]}},
    {'properties': {'policyRules': [{'objectType': 'AzureRetentionRule', 'name': 'Default', 'lifecycles': [None, {'deleteAfter': None}]}]}},
    {'properties': {'policyRules': [{'objectType': 'AzureRetentionRule', 'name': None, 'lifecycles': [{'deleteAfter': {'duration': 'PT4H'}}]}]}},
    {'properties': {'policyRules': [{'objectType': 'AzureBackupRule', 'trigger': {'taggingCriteria': [None, {'tagInfo': None}]}}]}},
])
def test_odd_dp_input_never_crashes(resource):
    record = normalise_policy(resource, BV)
    assert isinstance(record['tiers'], list)
    check_minimum(record, {'daily': '30d', 'default': {'VaultStore': '7d'}})
    raise_policy(resource, BV, {'daily': '30d'})


def test_mab_simple_retention_counts_as_daily():
    record = normalise_policy({'name': 'mab', 'properties': {'backupManagementType': 'MAB', 'retentionPolicy': {
        'retentionPolicyType': 'SimpleRetentionPolicy', 'retentionDuration': rd(10, 'Days')}}}, RS)
    assert record['tiers'] == [{'tier': 'default', 'sub_policy': None, 'datastore': None, 'duration': 'P10D', 'count': 10, 'unit': 'days', 'days': 10}]
    assert strip(check_minimum(record, {'daily': '30d'})) == [v('mab', 'default', 'P10D', 'P30D', True)]


def test_bad_vault_type():
    with pytest.raises(ValueError):
        normalise_policy({}, 'vault')


# ------------------------------------------------------------------ raise_policy

def test_raise_rs_keeps_units_and_is_idempotent():
    original = iaas(name='p', daily=(7, 'Days'), weekly=(12, 'Weeks'), monthly=(60, 'Months'), yearly=(1, 'Years'), instant=2)
    before = copy.deepcopy(original)
    minimum = {'daily': '30d', 'weekly': '6m', 'monthly': '5y', 'yearly': '7y', 'instant': '5d'}
    new, changes, unfixable = raise_policy(original, RS, minimum)
    assert original == before, 'the input must not be modified'
    assert changes == [
        {'tier': 'daily', 'sub_policy': None, 'datastore': None, 'before': 'P7D', 'after': 'P30D'},
        {'tier': 'weekly', 'sub_policy': None, 'datastore': None, 'before': 'P12W', 'after': 'P27W'},   # 6 months may be 186 days
        {'tier': 'yearly', 'sub_policy': None, 'datastore': None, 'before': 'P1Y', 'after': 'P7Y'},
        {'tier': 'instant', 'sub_policy': None, 'datastore': None, 'before': 'P2D', 'after': 'P5D'},
    ]
    assert unfixable == []
    retention = new['properties']['retentionPolicy']
    assert retention['dailySchedule'] == {'retentionTimes': ['2021-12-17T08:00:00+00:00'], 'retentionDuration': {'count': 30, 'durationType': 'Days'}}
    assert retention['weeklySchedule']['retentionDuration'] == {'count': 27, 'durationType': 'Weeks'}
    assert retention['monthlySchedule']['retentionDuration'] == {'count': 60, 'durationType': 'Months'}
    assert retention['yearlySchedule']['retentionDuration'] == {'count': 7, 'durationType': 'Years'}
    assert new['properties']['instantRpRetentionRangeInDays'] == 5
    # everything else is untouched
    expected = copy.deepcopy(before)
    expected['properties']['retentionPolicy'] = retention
    expected['properties']['instantRpRetentionRangeInDays'] = 5
    assert new == expected
    assert raise_policy(new, RS, minimum) == (None, [], [])
    assert check_minimum(normalise_policy(new, RS), minimum) == []


def test_raise_never_lowers_nor_invents():
    strong = iaas(name='s', weekly=(104, 'Weeks'), instant=5)
    new, changes, unfixable = raise_policy(strong, RS, {'daily': '30d', 'weekly': '12w'})
    assert new is None and changes == []
    assert strip(unfixable) == [v('s', 'daily', None, 'P30D', False)]
    assert 'dailySchedule' not in strong['properties']['retentionPolicy']


def test_raise_workload_and_files():
    new, changes, unfixable = raise_policy(workload(full={'daily': (7, 'Days')}, differential=(7, 'Days'), log=(7, 'Days')), RS,
                                           {'daily': '30d', 'log': '2w', 'default': '60d'})
    assert changes == [
        {'tier': 'daily', 'sub_policy': 'Full', 'datastore': None, 'before': 'P7D', 'after': 'P30D'},
        {'tier': 'default', 'sub_policy': 'Differential', 'datastore': None, 'before': 'P7D', 'after': 'P60D'},
        {'tier': 'log', 'sub_policy': 'Log', 'datastore': None, 'before': 'P7D', 'after': 'P14D'},
    ]
    subs = new['properties']['subProtectionPolicy']
    assert subs[2]['retentionPolicy'] == {'retentionPolicyType': 'SimpleRetentionPolicy', 'retentionDuration': {'count': 14, 'durationType': 'Days'}}
    new, changes, unfixable = raise_policy(files_vault(snapshot_days=5, daily=(10, 'Days')), RS, {'snapshot': '2w', 'daily': {'VaultStandard': '1m'}})
    assert changes == [
        {'tier': 'snapshot', 'sub_policy': None, 'datastore': 'Snapshot', 'before': 'P5D', 'after': 'P14D'},
        {'tier': 'daily', 'sub_policy': None, 'datastore': 'VaultStandard', 'before': 'P10D', 'after': 'P31D'},
    ]
    assert new['properties']['vaultRetentionPolicy']['snapshotRetentionInDays'] == 14


def test_raise_leaves_unfixable_alone():
    new, changes, unfixable = raise_policy(iaas(name='v1', policy_type='V1', instant=2, daily=(7, 'Days')), RS, {'daily': '30d', 'instant': '7d'})
    assert changes == [{'tier': 'daily', 'sub_policy': None, 'datastore': None, 'before': 'P7D', 'after': 'P30D'}]
    assert strip(unfixable) == [v('v1', 'instant', 'P2D', 'P7D', False)]
    assert new['properties']['instantRpRetentionRangeInDays'] == 2


def test_a_backup_vault_policy_is_never_raised():
    """Azure updates no Backup vault policy (400 UserErrorBMSUpdatePolicyNotSupported): raise_policy plans no write for one,
    and every weak tier is a violation it cannot fix, saying what to do instead. Before, the three tiers below were raised
    (P30D, P12M, P6M) and the PUT that Azure refuses was sent."""
    # PostgreSQL single server: a vaulted and an archive tier (a disk keeps neither, nor a flexible server an archive
    # tier: _retention.DP_DATASTORES).
    policy = dp_policy(name='oss', tags=('Default', 'Weekly'), rules={
        'Default': [lifecycle('VaultStore', 'P1W', copy_to='ArchiveStore'), lifecycle('ArchiveStore', 'P6M')],
        'Weekly': [lifecycle('VaultStore', 'P12W')],
    }, datasource='Microsoft.DBforPostgreSQL/servers/databases')
    record = normalise_policy(policy, BV)
    assert [(t['tier'], t['datastore'], t['duration']) for t in record['tiers']] == [
        ('default', 'VaultStore', 'P1W'), ('default', 'ArchiveStore', 'P6M'), ('weekly', 'VaultStore', 'P12W')]
    minimum = {'default': {'VaultStore': '30d', 'ArchiveStore': '1y'}, 'weekly': '6m'}
    before = copy.deepcopy(policy)
    new, changes, unfixable = raise_policy(policy, BV, minimum)
    assert (new, changes) == (None, [])
    assert strip(unfixable) == [
        v('oss', 'default', 'P1W', 'P30D', False, datastore='VaultStore'),
        v('oss', 'default', 'P6M', 'P1Y', False, datastore='ArchiveStore'),
        v('oss', 'weekly', 'P12W', 'P6M', False, datastore='VaultStore'),
    ]
    assert [u['reason'].split('; ', 1)[1] for u in unfixable] == [
        'Azure does not update an existing Backup vault policy (UserErrorBMSUpdatePolicyNotSupported): create a policy that '
        'keeps at least %s and move the backup instances to it' % need for need in ('30d', '1y', '6m')]
    assert policy == before
    assert [entry[1] for entry in plan_raises(record, minimum)] == [None, None, None]
    for rules in ({'Default': [lifecycle('OperationalStore', 'P1W')]}, {'Default': [lifecycle('OperationalStore', 'P7D')]}):
        assert raise_policy(dp_policy(rules=rules), BV, {'daily': '4w'})[:2] == (None, [])
    # A policy that already keeps 4 weeks meets 28 days: no violation at all.
    assert raise_policy(dp_policy(rules={'Default': [lifecycle('OperationalStore', 'P4W')]}), BV, {'daily': '28d'}) == (None, [], [])
    # The same weak tier of a Recovery Services policy is raised as before.
    new, changes, unfixable = raise_policy(iaas(name='vm', daily=(7, 'Days')), RS, {'daily': '30d'})
    assert new is not None and [(c['tier'], c['before'], c['after']) for c in changes] == [('daily', 'P7D', 'P30D')] and unfixable == []


def test_raise_refuses_bad_minimum():
    with pytest.raises(RetentionError):
        raise_policy(iaas(daily=(7, 'Days')), RS, {'hourly': '1d'})


# ------------------------------------------------------------------ find_reductions

def red(tier, before, after, sub_policy=None, datastore=None, operational=False, unsourced=False):
    return {'tier': tier, 'sub_policy': sub_policy, 'datastore': datastore, 'before': before, 'after': after, 'operational': operational,
            'unsourced': unsourced}


def test_reduction_unit_changes():
    days30 = normalise_policy(iaas(daily=(30, 'Days'), monthly=(1, 'Months')), RS)
    weeks4 = normalise_policy(iaas(daily=(4, 'Weeks'), monthly=(4, 'Weeks')), RS)
    assert find_reductions(days30, weeks4) == [red('daily', 'P30D', 'P4W'), red('monthly', 'P1M', 'P4W')]
    assert find_reductions(weeks4, days30) == []
    assert find_reductions(days30, days30) == []


def test_reduction_dropped_tier_and_increase():
    before = normalise_policy(iaas(daily=(30, 'Days'), weekly=(12, 'Weeks'), yearly=(10, 'Years'), instant=5), RS)
    after = normalise_policy(iaas(daily=(60, 'Days'), weekly=(12, 'Weeks'), instant=2), RS)
    assert find_reductions(before, after) == [red('yearly', 'P10Y', None), red('instant', 'P5D', 'P2D', unsourced=True)]
    assert find_reductions(after, before) == [red('daily', 'P60D', 'P30D')]


def test_reduction_backup_vault_lifecycle_moved_to_other_datastore():
    before = normalise_policy(dp_policy(rules={'Default': [lifecycle('VaultStore', 'P30D')]}), BV)
    after = normalise_policy(dp_policy(rules={'Default': [lifecycle('ArchiveStore', 'P1Y')]}), BV)
    assert find_reductions(before, after) == [red('default', 'P30D', None, datastore='VaultStore')]
    longer = normalise_policy(dp_policy(rules={'Default': [lifecycle('vaultstore', 'P1M2D')]}), BV)
    assert longer['tiers'][0]['datastore'] == 'VaultStore'
    assert find_reductions(before, longer) == []     # a month and 2 days is at least 30 days
    maybe_shorter = normalise_policy(dp_policy(rules={'Default': [lifecycle('VaultStore', 'P1M1D')]}), BV)
    assert find_reductions(before, maybe_shorter) == [red('default', 'P30D', 'P1M1D', datastore='VaultStore')]


def test_reduction_workload_sub_policy_matching():
    before = normalise_policy(workload(full={'daily': (30, 'Days')}, log=(30, 'Days')), RS)
    after = normalise_policy(workload(full={'daily': (30, 'Days')}, differential=(30, 'Days'), log=(15, 'Days')), RS)
    assert find_reductions(before, after) == [red('log', 'P30D', 'P15D', sub_policy='Log')]


def test_operational_tiers_are_marked():
    """Immutability does not apply to operational backups: the one rule (OPERATIONAL_TIERS) marks them per kind."""
    before = normalise_policy(dp_policy(rules={'Default': [lifecycle('OperationalStore', 'P30D'), lifecycle('VaultStore', 'P90D')]}), BV)
    after = normalise_policy(dp_policy(rules={'Default': [lifecycle('OperationalStore', 'P7D'), lifecycle('VaultStore', 'P30D')]}), BV)
    assert find_reductions(before, after) == [red('default', 'P30D', 'P7D', datastore='OperationalStore', operational=True),
                                              red('default', 'P90D', 'P30D', datastore='VaultStore')]
    before = normalise_policy(files_vault(snapshot_days=10, daily=(30, 'Days')), RS)
    after = normalise_policy(files_vault(snapshot_days=2, daily=(10, 'Days')), RS)
    assert find_reductions(before, after) == [red('snapshot', 'P10D', 'P2D', datastore='Snapshot', operational=True),
                                              red('daily', 'P30D', 'P10D', datastore='VaultStandard')]
    before = normalise_policy(workload(full={'daily': (30, 'Days')}, snapshot=5), RS)
    after = normalise_policy(workload(full={'daily': (30, 'Days')}, snapshot=1), RS)
    # Workload and VM instant restore snapshots: Microsoft does not name them as operational, so they are predicted as
    # held by immutability (the refusing side) and marked unsourced.
    assert find_reductions(before, after) == [red('snapshot', 'P5D', 'P1D', sub_policy='SnapshotFull', unsourced=True)]
    vm = normalise_policy(iaas(daily=(30, 'Days')), RS)
    assert [is_operational(vm, t) for t in vm['tiers']] == [False, False]  # daily, instant
    assert [is_unsourced(vm, t) for t in vm['tiers']] == [False, True]
    assert set(OPERATIONAL_TIERS) == {'backup', 'AzureStorage'}
    sql = normalise_policy({'properties': {'backupManagementType': 'AzureSql', 'retentionPolicy': {
        'retentionPolicyType': 'SimpleRetentionPolicy', 'retentionDuration': {'count': 7, 'durationType': 'Days'}}}}, RS)
    assert not any(is_operational(sql, t) for t in sql['tiers'])


def test_reduction_to_unknown_kind_drops_everything():
    before = normalise_policy(iaas(daily=(30, 'Days'), instant=None), RS)
    after = normalise_policy({'properties': {'backupManagementType': 'Future'}}, RS)
    assert find_reductions(before, after) == [red('daily', 'P30D', None)]


# ------------------------------------------------------------------ fuzzing

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 400), st.sampled_from(
    ['P7D', 'P1W', '7d', 'Days', 'Weeks', 'Months', 'Years', 'Log', 'Full', 'VaultStore', 'Default', 'AzureIaasVM', 'AzureWorkload',
     'AzureStorage', 'AzureSql', 'MAB', 'LongTermRetentionPolicy', 'SimpleRetentionPolicy', 'AzureRetentionRule', 'x']))
json_keys = st.sampled_from(
    ['properties', 'backupManagementType', 'retentionPolicy', 'retentionPolicyType', 'dailySchedule', 'weeklySchedule', 'retentionDuration',
     'count', 'durationType', 'subProtectionPolicy', 'policyType', 'vaultRetentionPolicy', 'vaultRetention', 'snapshotRetentionInDays',
     'instantRpRetentionRangeInDays', 'snapshotBackupAdditionalDetails', 'policyRules', 'objectType', 'name', 'isDefault', 'lifecycles',
     'deleteAfter', 'duration', 'sourceDataStore', 'dataStoreType', 'trigger', 'taggingCriteria', 'tagInfo', 'tagName', 'datasourceTypes'])
json_trees = st.recursive(json_leaf, lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(json_keys, children, max_size=5)),
                          max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(json_trees, st.sampled_from([RS, BV]))
def test_fuzz_never_crashes(resource, vault_type):
    record = normalise_policy(resource, vault_type)
    minimum = {'daily': '30d', 'weekly': '12w', 'default': {'VaultStore': '7d'}, 'log': '15d', 'instant': '3d'}
    check_minimum(record, minimum)
    new, changes, dummy = raise_policy(resource, vault_type, minimum)
    if new is not None:
        assert changes
        again = raise_policy(new, vault_type, minimum)
        assert again[0] is None and again[1] == []
        assert find_reductions(record, normalise_policy(new, vault_type)) == []


def test_a_minimum_only_per_datastore_checks_no_recovery_services_vm_or_workload_tier():
    """Recovery Services VM and workload tiers have no datastore: a key of the minimum given only per datastore checks none
    of them, and unchecked_by_datastore names it (the runs' warning), whatever the other keys are; it changes no check."""
    per_store = validate_minimum({'daily': {'VaultStore': '30d'}})
    vm = normalise_policy(iaas(name='vm7', daily=(7, 'Days')), RS)
    assert check_minimum(vm, per_store) == []
    assert unchecked_by_datastore(vm, per_store) == ['daily']
    sql = normalise_policy(workload(full={'daily': (7, 'Days')}, log=(7, 'Days')), RS)
    assert check_minimum(sql, per_store) == []
    assert unchecked_by_datastore(sql, per_store) == ['daily']
    assert unchecked_by_datastore(sql, validate_minimum({'log': {'VaultStore': '30d'}})) == ['log']
    assert unchecked_by_datastore(sql, validate_minimum({'log': {'VaultStore': '30d'}, 'daily': {'VaultStore': '30d'}})) == ['daily', 'log']
    # A plain duration checks them: nothing named.
    assert unchecked_by_datastore(vm, validate_minimum({'daily': '30d'})) == []
    assert strip(check_minimum(vm, {'daily': '30d'})) == [v('vm7', 'daily', 'P7D', 'P30D', True)]
    # A plain key beside a per-datastore one checks its own tiers, never those the per-datastore key names: the daily tier of
    # the VM policy is still unchecked (before, one plain value among per-datastore ones hid it).
    mixed = validate_minimum({'daily': {'VaultStore': '30d'}, 'weekly': '4w'})
    assert unchecked_by_datastore(vm, mixed) == ['daily']
    assert unchecked_by_datastore(sql, validate_minimum({'daily': {'VaultStore': '30d'}, 'log': '7d'})) == ['daily']
    assert unchecked_by_datastore(sql, validate_minimum({'daily': '30d', 'log': {'VaultStore': '30d'}})) == ['log']
    # A minimum naming no tier the policy has: nothing (the missing weekly tier is a violation of its own).
    assert unchecked_by_datastore(vm, validate_minimum({'weekly': {'VaultStore': '4w'}})) == []
    assert unchecked_by_datastore(vm, {}) == []
    assert unchecked_by_datastore({'name': 'odd', 'unknown': True, 'tiers': []}, per_store) == []


def test_a_minimum_per_datastore_checks_azure_files_and_backup_vault_tiers():
    """Azure Files' tiers (Snapshot, VaultStandard) and Backup vault tiers have a datastore: never counted as unchecked,
    whether the datastore the minimum names is theirs or not (a disk has no VaultStore: documented, not this warning)."""
    snapshot_only = {'name': 'files-snap', 'properties': {'backupManagementType': 'AzureStorage', 'workLoadType': 'AzureFileShare',
                                                          'retentionPolicy': ltr(daily=(7, 'Days'))}}
    files = normalise_policy(snapshot_only, RS)
    minimum = validate_minimum({'daily': {'Snapshot': '30d'}})
    assert strip(check_minimum(files, minimum)) == [v('files-snap', 'daily', 'P7D', 'P30D', True, datastore='Snapshot')]
    assert not unchecked_by_datastore(files, minimum)
    assert not unchecked_by_datastore(normalise_policy(files_vault(daily=(30, 'Days')), RS), minimum)
    disk = normalise_policy(dp_policy(name='disk', rules={'Default': [lifecycle('OperationalStore', 'P7D')]}), BV)
    assert not unchecked_by_datastore(disk, validate_minimum({'daily': {'VaultStore': '30d'}}))
    assert not unchecked_by_datastore(disk, validate_minimum({'daily': {'OperationalStore': '30d'}}))


def test_datastore_only_warning_names_the_first_twenty():
    text = datastore_only_warning('minimum', 'daily', {'VaultStore': '30d'}, ['p%02d' % index for index in range(23)], ' of vault x')
    assert text.startswith("minimum.daily is given only per datastore (VaultStore), so it checks no daily tier of 23 policies of "
                           "vault x ('p00', 'p01'")
    assert "'p19' and 3 more)" in text and "'p20'" not in text
    assert 'a plain duration (daily: 30d) applies to every datastore and to tiers without one' in text
    assert datastore_only_warning('minimum', 'log', {'VaultStore': '30d'}, ['one']).startswith(
        "minimum.log is given only per datastore (VaultStore), so it checks no log tier of 1 policy ('one'): ")
