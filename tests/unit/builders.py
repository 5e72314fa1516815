# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared test constants and builders: ARM JSON of vaults and policies as Azure returns them (hand-written after the
REST API specs' examples in tests/fixtures/azure-reference), and the records the collection makes of them.

One place for what unit tests build, instead of a copy per test file.
"""

from __future__ import annotations

SUB = '11111111-1111-1111-1111-111111111111'
SUB2 = '22222222-2222-2222-2222-222222222222'
RG = 'rg-backup'
RS = 'recovery_services'
BV = 'backup'
PROVIDER = {RS: 'Microsoft.RecoveryServices/vaults', BV: 'Microsoft.DataProtection/backupVaults'}


def vault_id(name, kind=RS, rg=RG, sub=SUB):
    return '/subscriptions/%s/resourceGroups/%s/providers/%s/%s' % (sub, rg, PROVIDER[kind], name)


# ------------------------------------------------------------------ vaults (ARM JSON)

_RS_SOFT = {'off': 'Disabled', 'on': 'Enabled', 'always_on': 'AlwaysON'}
_DP_SOFT = {'off': 'Off', 'on': 'On', 'always_on': 'AlwaysOn'}
_IMMUTABILITY = {'disabled': 'Disabled', 'enabled': 'Unlocked', 'locked': 'Locked'}


def arm_vault(name, kind=RS, immutability=None, soft_delete=None, days=14, enhanced=None, rg=RG, sub=SUB, location='westeurope',
              provisioning='Succeeded', tags=None, mua=False):
    """A vault's ARM JSON. immutability: disabled | enabled | locked (None: never set); soft_delete: off | on | always_on."""
    security = {}
    if immutability is not None:
        security['immutabilitySettings'] = {'state': _IMMUTABILITY[immutability]}
    if soft_delete is not None:
        if kind == RS:
            security['softDeleteSettings'] = {'softDeleteState': _RS_SOFT[soft_delete], 'softDeleteRetentionPeriodInDays': days,
                                              'enhancedSecurityState': _RS_SOFT[enhanced or soft_delete]}
        else:
            security['softDeleteSettings'] = {'state': _DP_SOFT[soft_delete], 'retentionDurationInDays': float(days)}
    props = {'provisioningState': provisioning, 'securitySettings': security}
    if mua and kind == RS:
        security['multiUserAuthorization'] = 'Enabled'
    if mua and kind == BV:
        props['isVaultProtectedByResourceGuard'] = True
    return {'id': vault_id(name, kind, rg, sub), 'name': name, 'type': PROVIDER[kind], 'location': location,
            'tags': dict(tags or {}), 'properties': props}


# ------------------------------------------------------------------ policies (ARM JSON)

def rd(count, unit):
    return {'count': count, 'durationType': unit}


def ltr(daily=None, weekly=None, monthly=None, yearly=None):
    policy = {'retentionPolicyType': 'LongTermRetentionPolicy'}
    for name, value in (('daily', daily), ('weekly', weekly), ('monthly', monthly), ('yearly', yearly)):
        if value is not None:
            policy[name + 'Schedule'] = {'retentionTimes': ['2021-12-17T08:00:00+00:00'], 'retentionDuration': rd(*value)}
    return policy


def iaas(name='vm', policy_type='V2', instant=5, vault=None, **tiers):
    """An Azure VM policy; tiers as daily=(30, 'Days'), weekly=(12, 'Weeks'), ..."""
    props = {'backupManagementType': 'AzureIaasVM', 'policyType': policy_type, 'retentionPolicy': ltr(**tiers), 'protectedItemsCount': 3}
    if instant is not None:
        props['instantRpRetentionRangeInDays'] = instant
    return {'id': (vault or '/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v') + '/backupPolicies/' + name,
            'name': name, 'type': 'Microsoft.RecoveryServices/vaults/backupPolicies', 'properties': props}


def workload(name='sql', full=None, differential=None, log=None, snapshot=None):
    subs = []
    if full is not None:
        subs.append({'policyType': 'Full', 'retentionPolicy': ltr(**full)})
    if differential is not None:
        subs.append({'policyType': 'Differential', 'retentionPolicy': {'retentionPolicyType': 'SimpleRetentionPolicy', 'retentionDuration': rd(*differential)}})
    if log is not None:
        subs.append({'policyType': 'Log', 'retentionPolicy': {'retentionPolicyType': 'SimpleRetentionPolicy', 'retentionDuration': rd(*log)}})
    if snapshot is not None:
        subs.append({'policyType': 'SnapshotFull', 'snapshotBackupAdditionalDetails': {'instantRpRetentionRangeInDays': snapshot}})
    return {'name': name, 'properties': {'backupManagementType': 'AzureWorkload', 'workLoadType': 'SQLDataBase', 'subProtectionPolicy': subs}}


def files_vault(snapshot_days=5, **tiers):
    return {'name': 'files', 'properties': {'backupManagementType': 'AzureStorage', 'workLoadType': 'AzureFileShare',
                                            'vaultRetentionPolicy': {'snapshotRetentionInDays': snapshot_days, 'vaultRetention': ltr(**tiers)}}}


def lifecycle(store, duration, copy_to=None):
    item = {'deleteAfter': {'duration': duration, 'objectType': 'AbsoluteDeleteOption'},
            'sourceDataStore': {'dataStoreType': store, 'objectType': 'DataStoreInfoBase'}}
    if copy_to:
        item['targetDataStoreCopySettings'] = [{'copyAfter': {'objectType': 'CopyOnExpiryOption'},
                                                'dataStore': {'dataStoreType': copy_to, 'objectType': 'DataStoreInfoBase'}}]
    return item


def dp_policy(name='dp', rules=None, tags=('Default',), vault=None, datasource='Microsoft.Compute/disks'):
    """A Backup vault policy (of a disk unless ``datasource`` says otherwise); rules: {rule name: [lifecycle, ...]}."""
    criteria = [{'isDefault': tag == 'Default', 'taggingPriority': 99 if tag == 'Default' else 20, 'tagInfo': {'tagName': tag}} for tag in tags]
    policy_rules = [{'name': 'BackupDaily', 'objectType': 'AzureBackupRule',
                     'backupParameters': {'backupType': 'Discrete', 'objectType': 'AzureBackupParams'},
                     'dataStore': {'dataStoreType': 'VaultStore', 'objectType': 'DataStoreInfoBase'},
                     'trigger': {'objectType': 'ScheduleBasedTriggerContext', 'schedule': {'repeatingTimeIntervals': ['R/2023-06-28T07:30:00+00:00/P1D']},
                                 'taggingCriteria': criteria}}]
    for rule_name, lifecycles in (rules or {}).items():
        policy_rules.append({'name': rule_name, 'objectType': 'AzureRetentionRule', 'isDefault': rule_name == 'Default', 'lifecycles': lifecycles})
    return {'name': name, 'id': (vault or '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/b') + '/backupPolicies/' + name,
            'properties': {'datasourceTypes': [datasource], 'objectType': 'BackupPolicy', 'policyRules': policy_rules}}


# The security settings of issue 27: null in a baseline that does not check them, no action in a drift entry, and no
# finding in a summary.
SECURITY_BASELINE_KEYS = ('cross_subscription_restore', 'public_network_access', 'alerts', 'customer_managed_keys',
                          'infrastructure_encryption', 'private_endpoints', 'storage_redundancy', 'cross_region_restore')
SECURITY_NULL = dict.fromkeys(SECURITY_BASELINE_KEYS + ('resource_guard_id',))
SECURITY_ACTIONS_NULL = dict.fromkeys(('resource_guard', 'cross_subscription_restore', 'public_network_access', 'alerts'))
SECURITY_COUNTS_ZERO = dict((key, {'vaults': 0, 'findings': 0, 'fixable': 0, 'unfixable': 0, 'option': 0, 'person': 0})
                            for key in SECURITY_BASELINE_KEYS + ('mua',))

# The vault security settings of a Recovery Services vault whose body carries none of them.
SECURITY_POSTURE_UNSET = {
    'cross_subscription_restore': {'state': 'not_reported', 'compliant': None},
    'public_network_access': {'state': 'not_reported', 'compliant': None},
    'alerts': {'state': 'not_reported', 'classic_alerts': None, 'compliant': None},
    'customer_managed_keys': {'state': 'disabled', 'key_uri': None, 'compliant': None},
    'infrastructure_encryption': {'state': 'not_reported', 'compliant': None},
    'private_endpoints': {'state': 'none', 'approved': 0, 'connections': 0, 'compliant': None},
    'storage_redundancy': {'state': 'not_reported', 'compliant': None},
    'cross_region_restore': {'state': 'not_reported', 'compliant': None},
}


class LockedStream:
    """sys.stdout or sys.stderr of a task's worker forked by ansible-core before 2.19: writes take the display lock, which
    the fork left held by the main thread. A write that cannot take it within a second is counted in ``blocked``
    instead of waiting for good (tests/unit/plugins/plugin_utils/test_stdio.py)."""

    def __init__(self, lock):
        self.lock = lock
        self.parts = []
        self.blocked = 0

    def write(self, text):
        if not self.lock.acquire(timeout=1):
            self.blocked += 1
            return 0
        try:
            self.parts.append(text)
            return len(text)
        finally:
            self.lock.release()

    def flush(self):
        pass


def emulator_session(emulator, monkeypatch, fleet):
    """An AzureSession (no SDK retries, fast polls) pointed at the emulator, which now holds ``fleet``."""
    from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession  # pylint: disable=import-outside-toplevel
    emulator.load_fleet(fleet)
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    return AzureSession({'api_retries': 0, 'polling_interval': 0.1, 'wait_timeout': 10})
