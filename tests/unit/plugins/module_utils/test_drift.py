# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift rules: expected values are written by hand, one table row per rule."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import (
    DriftError,
    compute_drift,
    summarize,
    validate_baseline,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
from tests.unit.builders import SECURITY_ACTIONS_NULL, SECURITY_COUNTS_ZERO, SECURITY_NULL, SECURITY_POSTURE_UNSET

SUB = '00000000-0000-0000-0000-000000000001'
PROVIDER = {'recovery_services': 'Microsoft.RecoveryServices/vaults', 'backup': 'Microsoft.DataProtection/backupVaults'}


def vault(name='v1', vault_type='recovery_services', immutability='disabled', soft_delete=None, mua=None, policies=None, rg='rg-a', sub=SUB,
          enhanced_security='same'):
    soft_delete = soft_delete or {'state': 'on', 'retention_days': 14}
    if enhanced_security == 'same':
        # Recovery Services vaults report enhancedSecurityState; it moves with the soft delete state.
        enhanced_security = soft_delete.get('state') if vault_type == 'recovery_services' else None
    record = {
        'id': '/subscriptions/%s/resourceGroups/%s/providers/%s/%s' % (sub, rg, PROVIDER[vault_type], name),
        'name': name, 'resource_group': rg, 'subscription_id': sub, 'location': 'westeurope',
        'vault_type': vault_type, 'immutability': immutability, 'immutability_retention_days': None,
        'soft_delete': soft_delete, 'enhanced_security': enhanced_security,
        'mua': mua or {'protected': False, 'resource_guard_id': None},
        'tags': {}, 'provisioning_state': 'Succeeded',
    }
    if policies is not None:
        record['policies'] = policies
    return record


def one(v, baseline):
    [entry] = compute_drift([v], baseline)
    return entry


# --------------------------------------------------------------------------- immutability
# (current, wanted, consent) -> (drift, fixable, action)
IMMUTABILITY = [
    ('disabled', None, False, False, None, None),
    ('enabled', None, False, False, None, None),
    ('locked', None, True, False, None, None),
    ('disabled', 'disabled', False, False, None, None),
    ('disabled', 'disabled', True, False, None, None),
    ('enabled', 'disabled', False, True, True, 'disabled'),
    ('enabled', 'disabled', True, True, True, 'disabled'),
    ('locked', 'disabled', False, True, False, None),
    ('locked', 'disabled', True, True, False, None),
    ('disabled', 'enabled', False, True, True, 'enabled'),
    ('disabled', 'enabled', True, True, True, 'enabled'),
    ('enabled', 'enabled', False, False, None, None),
    ('enabled', 'enabled', True, False, None, None),
    ('locked', 'enabled', False, False, None, None),   # locked is stronger than enabled: no drift
    ('locked', 'enabled', True, False, None, None),
    ('disabled', 'locked', False, True, False, None),  # consent needed
    ('disabled', 'locked', True, True, True, 'locked'),
    ('enabled', 'locked', False, True, False, None),
    ('enabled', 'locked', True, True, True, 'locked'),
    ('locked', 'locked', False, False, None, None),
    ('locked', 'locked', True, False, None, None),
]


@pytest.mark.parametrize('vault_type', ['recovery_services', 'backup'])
@pytest.mark.parametrize('current,wanted,consent,drift,fixable,action', IMMUTABILITY)
def test_immutability_rules(vault_type, current, wanted, consent, drift, fixable, action):
    entry = one(vault(vault_type=vault_type, immutability=current), {'immutability': wanted, 'allow_irreversible': consent})
    assert entry['drift'] is drift
    assert entry['actions']['immutability'] == action
    if not drift:
        assert entry['findings'] == []
        return
    [finding] = entry['findings']
    assert finding['setting'] == 'immutability'
    assert (finding['have'], finding['want'], finding['fixable']) == (current, wanted, fixable)
    assert finding['policy'] is None and finding['tier'] is None
    assert finding['reason']


def test_locked_without_consent_reason_asks_for_consent():
    entry = one(vault(name='vault-x', immutability='enabled'), {'immutability': 'locked'})
    reason = entry['findings'][0]['reason']
    assert 'allow_irreversible' in reason and 'vault-x' in reason


def test_leaving_locked_reason_says_irreversible():
    entry = one(vault(immutability='locked'), {'immutability': 'disabled'})
    assert 'irreversible' in entry['findings'][0]['reason']


def test_disabled_to_locked_reason_shows_both_steps():
    entry = one(vault(immutability='disabled'), {'immutability': 'locked', 'allow_irreversible': True})
    assert entry['findings'][0]['reason'] == 'set immutability disabled -> enabled -> locked'


def test_unlocked_is_an_alias_of_enabled():
    assert validate_baseline({'immutability': 'Unlocked'})['immutability'] == 'enabled'
    assert one(vault(immutability='enabled'), {'immutability': 'unlocked'})['drift'] is False


def test_mua_protected_vault_is_not_weakened():
    guard = '/subscriptions/x/resourceGroups/g/providers/Microsoft.DataProtection/resourceGuards/guard-1'
    entry = one(vault(immutability='enabled', mua={'protected': True, 'resource_guard_id': guard}), {'immutability': 'disabled'})
    [finding] = entry['findings']
    assert finding['fixable'] is False
    assert "'guard-1'" in finding['reason'] and 'multi-user authorization' in finding['reason']
    assert entry['actions']['immutability'] is None
    assert entry['mua'] == {'protected': True, 'resource_guard_id': guard}


def test_mua_protected_vault_can_be_strengthened():
    entry = one(vault(immutability='disabled', mua={'protected': True, 'resource_guard_id': None}), {'immutability': 'enabled'})
    assert entry['actions']['immutability'] == 'enabled'


def test_unknown_immutability_state_is_an_unfixable_finding():
    entry = one(vault(immutability='Frozen'), {'immutability': 'enabled'})
    assert entry['findings'][0]['fixable'] is False
    assert 'Frozen' in entry['findings'][0]['reason']


# --------------------------------------------------------------------------- soft delete
# (have state, wanted state, consent, mua) -> (finding present, fixable, action state)
SOFT_DELETE = [
    ('off', 'on', False, False, True, True, 'on'),
    ('on', 'on', False, False, False, None, None),
    ('always_on', 'on', False, False, False, None, None),   # stronger: no drift
    ('off', 'always_on', False, False, True, False, None),  # consent needed
    ('off', 'always_on', True, False, True, True, 'always_on'),
    ('on', 'always_on', False, False, True, False, None),
    ('on', 'always_on', True, False, True, True, 'always_on'),
    ('always_on', 'always_on', False, False, False, None, None),
    ('on', 'off', False, False, True, True, 'off'),
    ('on', 'off', False, True, True, False, None),          # MUA: no weakening
    ('always_on', 'off', True, False, True, False, None),   # irreversible
    ('off', 'off', False, False, False, None, None),
    ('on', None, False, False, False, None, None),
]


@pytest.mark.parametrize('have,want,consent,mua,present,fixable,action', SOFT_DELETE)
def test_soft_delete_state_rules(have, want, consent, mua, present, fixable, action):
    v = vault(soft_delete={'state': have, 'retention_days': 30}, mua={'protected': mua, 'resource_guard_id': None})
    entry = one(v, {'soft_delete': {'state': want}, 'allow_irreversible': consent})
    findings = [f for f in entry['findings'] if f['setting'] == 'soft_delete']
    assert bool(findings) is present
    if present:
        assert (findings[0]['have'], findings[0]['want'], findings[0]['fixable']) == (have, want, fixable)
    sd_action = entry['actions']['soft_delete']
    assert (sd_action or {}).get('state') == action


def test_soft_delete_reasons():
    reason = one(vault(soft_delete={'state': 'on', 'retention_days': 14}), {'soft_delete': {'state': 'always_on'}})['findings'][0]['reason']
    assert 'allow_irreversible' in reason
    reason = one(vault(soft_delete={'state': 'always_on', 'retention_days': 14}), {'soft_delete': {'state': 'off'}})['findings'][0]['reason']
    assert 'irreversible' in reason


# (have state, have days, want state, want days) -> (findings as (setting, have, want, fixable), action)
SOFT_DELETE_DAYS = [
    ('on', 7, 'on', 14, [('soft_delete_retention_days', 7, 14, True)], {'state': 'on', 'retention_days': 14}),
    ('on', 14, 'on', 14, [], None),
    ('on', 14.0, 'on', 14, [], None),  # Backup vaults report a float
    ('on', 30, 'on', 14, [], None),    # a minimum: more is fine
    ('on', None, 'on', 14, [('soft_delete_retention_days', None, 14, True)], {'state': 'on', 'retention_days': 14}),
    ('off', 7, None, 14, [], None),    # soft delete off and unmanaged: days do not apply
    ('off', 7, 'on', 14, [('soft_delete', 'off', 'on', True), ('soft_delete_retention_days', 7, 14, True)],
     {'state': 'on', 'retention_days': 14}),
    ('off', 30, 'on', 14, [('soft_delete', 'off', 'on', True)], {'state': 'on', 'retention_days': 30}),
    ('off', 30, 'on', None, [('soft_delete', 'off', 'on', True)], {'state': 'on', 'retention_days': None}),
    ('always_on', 7, 'on', 14, [('soft_delete_retention_days', 7, 14, True)], {'state': 'always_on', 'retention_days': 14}),
    # always_on refused (no consent): the state stays on, the days are still raised
    ('on', 7, 'always_on', 14, [('soft_delete', 'on', 'always_on', False), ('soft_delete_retention_days', 7, 14, True)],
     {'state': 'on', 'retention_days': 14}),
]


@pytest.mark.parametrize('have_state,have_days,want_state,want_days,findings,action', SOFT_DELETE_DAYS)
def test_soft_delete_retention_days(have_state, have_days, want_state, want_days, findings, action):
    entry = one(vault(soft_delete={'state': have_state, 'retention_days': have_days}),
                {'soft_delete': {'state': want_state, 'retention_days': want_days}})
    assert [(f['setting'], f['have'], f['want'], f['fixable']) for f in entry['findings']] == findings
    assert entry['actions']['soft_delete'] == action


# --------------------------------------------------------------------------- retention (real _retention)

IAAS_POLICY = {
    'name': 'weak-vm', 'id': '/subscriptions/x/resourceGroups/rg-a/providers/Microsoft.RecoveryServices/vaults/v1/backupPolicies/weak-vm',
    'properties': {
        'backupManagementType': 'AzureIaasVM',
        'schedulePolicy': {'schedulePolicyType': 'SimpleSchedulePolicy', 'scheduleRunFrequency': 'Daily', 'scheduleRunTimes': ['2024-01-01T02:00:00Z']},
        'retentionPolicy': {
            'retentionPolicyType': 'LongTermRetentionPolicy',
            'dailySchedule': {'retentionTimes': ['2024-01-01T02:00:00Z'], 'retentionDuration': {'count': 7, 'durationType': 'Days'}},
            'weeklySchedule': {'daysOfTheWeek': ['Sunday'], 'retentionTimes': ['2024-01-01T02:00:00Z'],
                               'retentionDuration': {'count': 12, 'durationType': 'Weeks'}},
        },
        'instantRpRetentionRangeInDays': 2,
    },
}

STRONG_IAAS_POLICY = {
    'name': 'strong-vm', 'id': '/subscriptions/x/resourceGroups/rg-a/providers/Microsoft.RecoveryServices/vaults/v1/backupPolicies/strong-vm',
    'properties': {
        'backupManagementType': 'AzureIaasVM',
        'schedulePolicy': {'schedulePolicyType': 'SimpleSchedulePolicy', 'scheduleRunFrequency': 'Daily', 'scheduleRunTimes': ['2024-01-01T02:00:00Z']},
        'retentionPolicy': {
            'retentionPolicyType': 'LongTermRetentionPolicy',
            'dailySchedule': {'retentionTimes': ['2024-01-01T02:00:00Z'], 'retentionDuration': {'count': 60, 'durationType': 'Days'}},
        },
    },
}

# The Backup vault policy of the DataProtection GetBackupPolicy example: Default keeps P1W, Weekly P12W, both VaultStore.
BACKUP_POLICY = {
    'name': 'OSSDBPolicy', 'id': '/subscriptions/x/resourceGroups/rg-a/providers/Microsoft.DataProtection/backupVaults/b1/backupPolicies/OSSDBPolicy',
    'properties': {
        'datasourceTypes': ['OssDB'], 'objectType': 'BackupPolicy',
        'policyRules': [
            {'name': 'BackupWeekly', 'objectType': 'AzureBackupRule',
             'backupParameters': {'backupType': 'Full', 'objectType': 'AzureBackupParams'},
             'dataStore': {'dataStoreType': 'VaultStore', 'objectType': 'DataStoreInfoBase'},
             'trigger': {'objectType': 'ScheduleBasedTriggerContext',
                         'schedule': {'repeatingTimeIntervals': ['R/2019-11-20T08:00:00-08:00/P1W']},
                         'taggingCriteria': [
                             {'isDefault': True, 'tagInfo': {'id': 'Default_', 'tagName': 'Default'}, 'taggingPriority': 99},
                             {'isDefault': False, 'tagInfo': {'id': 'Weekly_', 'tagName': 'Weekly'}, 'taggingPriority': 20,
                              'criteria': [{'daysOfTheWeek': ['Sunday'], 'objectType': 'ScheduleBasedBackupCriteria',
                                            'scheduleTimes': ['2019-03-01T13:00:00Z']}]}]}},
            {'name': 'Default', 'isDefault': True, 'objectType': 'AzureRetentionRule',
             'lifecycles': [{'deleteAfter': {'duration': 'P1W', 'objectType': 'AbsoluteDeleteOption'},
                             'sourceDataStore': {'dataStoreType': 'VaultStore', 'objectType': 'DataStoreInfoBase'}}]},
            {'name': 'Weekly', 'isDefault': False, 'objectType': 'AzureRetentionRule',
             'lifecycles': [{'deleteAfter': {'duration': 'P12W', 'objectType': 'AbsoluteDeleteOption'},
                             'sourceDataStore': {'dataStoreType': 'VaultStore', 'objectType': 'DataStoreInfoBase'}}]},
        ],
    },
}


def rs_policies():
    return [normalise_policy(IAAS_POLICY, 'recovery_services'), normalise_policy(STRONG_IAAS_POLICY, 'recovery_services')]


def test_retention_enforce_on_recovery_services_policies():
    entry = one(vault(policies=rs_policies()), {'retention': {'minimum': {'daily': '30d', 'weekly': '12w'}, 'mode': 'enforce'}})
    assert [(f['setting'], f['policy'], f['tier'], f['have'], f['want'], f['fixable']) for f in entry['findings']] == [
        ('retention', 'weak-vm', 'daily', 'P7D', 'P30D', True),
        # strong-vm has no weekly schedule: a tier is never invented
        ('retention', 'strong-vm', 'weekly', None, 'P12W', False),
    ]
    assert entry['actions']['raise_policies'] == ['weak-vm']
    assert entry['findings'][0]['reason'] == 'daily retention keeps 7d, less than minimum.daily 30d'


def test_retention_report_mode_is_not_fixable():
    entry = one(vault(policies=rs_policies()), {'retention': {'minimum': {'daily': '30d'}, 'mode': 'report'}})
    [finding] = entry['findings']
    assert finding['fixable'] is False
    assert 'report' in finding['reason']
    assert entry['actions']['raise_policies'] == []
    assert entry['drift'] is True


def test_retention_missing_tier_is_never_fixable():
    # weak-vm and strong-vm have no monthly tier: Azure cannot raise what the schedule does not produce.
    entry = one(vault(policies=rs_policies()), {'retention': {'minimum': {'monthly': '12m'}, 'mode': 'enforce'}})
    assert [(f['policy'], f['tier'], f['have'], f['want'], f['fixable']) for f in entry['findings']] == [
        ('weak-vm', 'monthly', None, 'P12M', False),
        ('strong-vm', 'monthly', None, 'P12M', False),
    ]
    assert entry['actions']['raise_policies'] == []


def test_retention_backup_vault_datastore():
    policies = [normalise_policy(BACKUP_POLICY, 'backup')]
    entry = one(vault(name='b1', vault_type='backup', policies=policies),
                {'retention': {'minimum': {'daily': '30d', 'weekly': '12w'}, 'mode': 'enforce'}})
    # Azure updates no Backup vault policy: the weak tier is a finding no run fixes, and nothing is planned for it.
    assert [(f['policy'], f['tier'], f['datastore'], f['have'], f['want'], f['fixable']) for f in entry['findings']] == [
        ('OSSDBPolicy', 'default', 'VaultStore', 'P1W', 'P30D', False),
    ]
    assert 'Azure does not update an existing Backup vault policy' in entry['findings'][0]['reason']
    assert 'create a policy that keeps at least 30d' in entry['findings'][0]['reason']
    assert entry['findings'][0]['option'] is None and entry['findings'][0]['irreversible'] is False
    assert entry['actions']['raise_policies'] == []
    assert [c for c in entry['changes'] if c['setting'] == 'retention'] == []


def test_retention_operational_tier_says_not_protected_by_immutability():
    ops = copy.deepcopy(BACKUP_POLICY)
    ops['properties']['policyRules'][1]['lifecycles'][0]['sourceDataStore']['dataStoreType'] = 'OperationalStore'
    entry = one(vault(name='b1', vault_type='backup', immutability='locked', policies=[normalise_policy(ops, 'backup')]),
                {'retention': {'minimum': {'daily': '30d'}, 'mode': 'report'}})
    [finding] = entry['findings']
    assert finding['datastore'] == 'OperationalStore'
    assert finding['reason'].endswith('an operational backup tier, not protected by immutability')
    vaulted = one(vault(name='b1', vault_type='backup', immutability='locked', policies=[normalise_policy(BACKUP_POLICY, 'backup')]),
                  {'retention': {'minimum': {'daily': '30d'}, 'mode': 'report'}})
    assert 'immutability' not in vaulted['findings'][0]['reason']


def test_retention_without_policies_is_reported():
    entry = one(vault(), {'retention': {'minimum': {'daily': '30d'}, 'mode': 'enforce'}})
    [finding] = entry['findings']
    assert finding['setting'] == 'retention' and finding['fixable'] is False
    assert 'include_policies' in finding['reason']


def test_retention_clean():
    entry = one(vault(policies=[normalise_policy(STRONG_IAAS_POLICY, 'recovery_services')]),
                {'retention': {'minimum': {'daily': '30d'}, 'mode': 'enforce'}})
    assert entry['drift'] is False and entry['findings'] == []


# --------------------------------------------------------------------------- baseline validation

@pytest.mark.parametrize('baseline,message', [
    ('enabled', 'must be a dictionary'),
    ({'immutability': 'frozen'}, 'baseline.immutability'),
    ({'immutabilty': 'enabled'}, 'unknown key(s) immutabilty'),
    ({'allow_irreversible': 'yes'}, 'allow_irreversible'),
    ({'retention': {'minimum': {'daily': '30d'}, 'mode': 'fix'}}, 'report or enforce'),
    ({'retention': {'minimum': {'dayly': '30d'}}}, 'baseline.retention.minimum'),
    ({'retention': {'minimum': {'daily': 'thirty days'}}}, 'baseline.retention.minimum'),
    ({'retention': ['daily']}, 'baseline.retention must be a dictionary'),
    ({'soft_delete': {'state': 'sometimes'}}, 'baseline.soft_delete.state'),
    ({'soft_delete': {'state': 'on', 'retention_days': 7}}, '14 to 180'),
    ({'soft_delete': {'state': 'on', 'retention_days': 181}}, '14 to 180'),
    ({'soft_delete': {'state': 'off', 'retention_days': 14}}, 'cannot be set'),
    ({'soft_delete': {'state': 'on', 'days': 14}}, 'unknown key(s) days'),
])
def test_bad_baselines(baseline, message):
    with pytest.raises(DriftError, match=message.replace('(', r'\(').replace(')', r'\)')):
        compute_drift([vault()], baseline)


def test_baseline_normalised():
    assert validate_baseline({'immutability': 'Enabled', 'soft_delete': {'state': 'AlwaysOn'}, 'retention': {'minimum': {'daily': '30d'}}}) == {
        'immutability': 'enabled', 'allow_irreversible': False,
        'retention': {'minimum': {'daily': '30d'}, 'mode': 'report'},
        'soft_delete': {'state': 'always_on', 'retention_days': None}, **SECURITY_NULL,
    }
    assert validate_baseline(None) == dict({'immutability': None, 'allow_irreversible': False, 'retention': None, 'soft_delete': None},
                                           **SECURITY_NULL)


def test_bad_vault_input():
    with pytest.raises(DriftError, match='list of vault records'):
        compute_drift('vault', {})
    with pytest.raises(DriftError, match='every vault must be a dictionary'):
        compute_drift(['vault'], {})


def test_registered_info_result_is_accepted_and_order_is_stable():
    vaults = [vault(name='zeta', rg='RG-B'), vault(name='Alpha', rg='rg-b'), vault(name='beta', rg='rg-a')]
    drift = compute_drift({'changed': False, 'vaults': vaults, 'errors': []}, {'immutability': 'enabled'})
    assert [e['name'] for e in drift] == ['beta', 'Alpha', 'zeta']


def test_entry_shape():
    entry = one(vault(), {})
    assert entry == {
        'id': '/subscriptions/%s/resourceGroups/rg-a/providers/Microsoft.RecoveryServices/vaults/v1' % SUB,
        'name': 'v1', 'vault_type': 'recovery_services', 'subscription_id': SUB, 'resource_group': 'rg-a',
        'location': 'westeurope', 'drift': False, 'findings': [],
        'actions': dict({'immutability': None, 'soft_delete': None, 'raise_policies': []}, **SECURITY_ACTIONS_NULL), 'changes': [],
        'mua': {'protected': False, 'resource_guard_id': None},
        # Nothing checked, every state still reported.
        'posture': {'immutability': {'state': entry['posture']['immutability']['state'], 'retention_days': None, 'compliant': None},
                    'soft_delete': entry['posture']['soft_delete'],
                    'retention': {'state': 'not_checked', 'policies': entry['posture']['retention']['policies'], 'weak_tiers': 0,
                                  'compliant': None},
                    'mua': {'state': 'not_protected', 'resource_guard_id': None, 'compliant': None}, **SECURITY_POSTURE_UNSET},
    }
    assert entry['posture']['soft_delete']['compliant'] is None


# --------------------------------------------------------------------------- summary

def test_summary_counts():
    baseline = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14},
                'retention': {'minimum': {'daily': '30d', 'monthly': '12m'}, 'mode': 'enforce'}}
    fleet = [
        # clean: locked meets enabled, soft delete on 14 days, no policies
        vault(name='clean', immutability='locked', policies=[]),
        # immutability (fixable), weak-vm daily 7d (fixable), no monthly tier in weak-vm nor strong-vm (unfixable)
        vault(name='weak', immutability='disabled', policies=rs_policies()),
        # soft delete off (fixable), 7 days (fixable), default tier P1W (unfixable: Azure updates no Backup vault policy),
        # no monthly tier (unfixable)
        vault(name='b1', vault_type='backup', immutability='enabled', soft_delete={'state': 'off', 'retention_days': 7},
              policies=[normalise_policy(BACKUP_POLICY, 'backup')], mua={'protected': True, 'resource_guard_id': None}),
    ]
    drift = compute_drift(fleet, baseline)
    summary = summarize(drift)
    assert summary == {
        'vaults': 3, 'drifting': 2, 'clean': 1, 'findings': 8, 'fixable': 4, 'unfixable': 4, 'resolved': 0,
        'vaults_with_actions': 2, 'vaults_with_unfixable': 2, 'mua_protected': 1,
        'by_setting': {
            'immutability': {'vaults': 1, 'findings': 1, 'fixable': 1, 'unfixable': 0, 'option': 0, 'person': 0},
            'soft_delete': {'vaults': 1, 'findings': 1, 'fixable': 1, 'unfixable': 0, 'option': 0, 'person': 0},
            'soft_delete_retention_days': {'vaults': 1, 'findings': 1, 'fixable': 1, 'unfixable': 0, 'option': 0, 'person': 0},
            # A tier the schedule does not produce, and a Backup vault policy's weak tier: no option fixes them.
            'retention': {'vaults': 2, 'findings': 5, 'fixable': 1, 'unfixable': 4, 'option': 0, 'person': 4},
            **SECURITY_COUNTS_ZERO,
        },
        'by_vault_type': {
            'recovery_services': {'vaults': 2, 'drifting': 1, 'findings': 4},
            'backup': {'vaults': 1, 'drifting': 1, 'findings': 4},
        },
    }


def test_summary_empty_and_resolved():
    assert summarize([])['vaults'] == 0
    entry = one(vault(immutability='disabled'), {'immutability': 'enabled'})
    entry['findings'][0]['resolved'] = True
    summary = summarize([entry])
    assert (summary['drifting'], summary['clean'], summary['resolved'], summary['findings']) == (0, 1, 1, 0)
    with pytest.raises(DriftError):
        summarize({'vaults': []})
