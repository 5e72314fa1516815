# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every shared policy example normalises to the tiers a person reading the JSON writes down.

The expected values below were written by hand from the JSON files in tests/fixtures/azure-reference/.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
from tests.fixtures import REFERENCE

SHARED = REFERENCE

RSB = 'recoveryservicesbackup'
DP = 'dataprotection'


def load(relative):
    with open(SHARED / relative, encoding='utf-8') as handle:
        return json.load(handle)


def t(tier, duration, count, unit, days, sub_policy=None, datastore=None):
    """A tier as written by hand (every field literal, nothing computed)."""
    return {'tier': tier, 'sub_policy': sub_policy, 'datastore': datastore, 'duration': duration, 'count': count, 'unit': unit, 'days': days}


def check(record, name, workload, tiers, policy_type=None, protected_items=None, workload_type=None, vault_type='recovery_services', policy_id=None):
    assert record['name'] == name
    assert record['workload'] == workload
    assert record['workload_type'] == workload_type
    assert record['policy_type'] == policy_type
    assert record['protected_items'] == protected_items
    assert record['vault_type'] == vault_type
    assert record['unknown'] is False
    assert record['unreadable'] == []
    assert record['tiers'] == tiers
    if policy_id is not None:
        assert record['id'] == policy_id


def test_iaasvm_v1_get_2024():
    body = load(RSB + '/2024-04-01/examples/AzureIaasVm/ProtectionPolicies_Get.json')['responses']['200']['body']
    check(normalise_policy(body, 'recovery_services'), 'testPolicy1', 'AzureIaasVM',
          [t('daily', 'P1D', 1, 'days', 1)], policy_type='V1', protected_items=0,
          policy_id='/Subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/SwaggerTestRg/providers/'
                    'Microsoft.RecoveryServices/vaults/NetSDKTestRsVault/backupPolicies/testPolicy1')


def test_iaasvm_list_2026():
    values = load(RSB + '/2026-05-01/examples/AzureIaasVm/BackupPolicies_List.json')['responses']['200']['body']['value']
    assert len(values) == 2
    check(normalise_policy(values[0], 'recovery_services'), 'DefaultPolicy', 'AzureIaasVM',
          [t('daily', 'P30D', 30, 'days', 30)], policy_type='V1', protected_items=0)
    check(normalise_policy(values[1], 'recovery_services'), 'testPolicy1', 'AzureIaasVM',
          [t('daily', 'P1D', 1, 'days', 1)], policy_type='V1', protected_items=0)


def test_iaasvm_v2_get():
    body = load(RSB + '/2026-05-01/examples/AzureIaasVm/V2Policy/v2-Get-Policy.json')['responses']['200']['body']
    check(normalise_policy(body, 'recovery_services'), 'v2-daily-sample', 'AzureIaasVM',
          [t('daily', 'P1D', 1, 'days', 1), t('instant', 'P30D', 30, 'days', 30)], policy_type='V2', protected_items=0)


def test_iaasvm_v1_complex_weekly_schedule():
    example = load(RSB + '/2026-10-01/examples/AzureIaasVm/ProtectionPolicies_CreateOrUpdate_Complex.json')
    expected = [
        t('weekly', 'P1W', 1, 'weeks', 7),
        t('monthly', 'P2M', 2, 'months', 56),
        t('yearly', 'P4Y', 4, 'years', 1460),
    ]
    check(normalise_policy(example['responses']['200']['body'], 'recovery_services'), 'testPolicy1', 'AzureIaasVM', expected,
          policy_type='V1', protected_items=0)
    # the request body (as it would be PUT) reads the same, without name or count
    check(normalise_policy(example['parameters']['parameters'], 'recovery_services'), None, 'AzureIaasVM', expected, policy_type='V1')


def test_iaasvm_v2_daily_full():
    example = load(RSB + '/2026-10-01/examples/AzureIaasVm/V2Policy/IaaS_v2_daily.json')
    expected = [
        t('daily', 'P180D', 180, 'days', 180),
        t('weekly', 'P12W', 12, 'weeks', 84),
        t('monthly', 'P60M', 60, 'months', 1825),
        t('yearly', 'P10Y', 10, 'years', 3650),
        t('instant', 'P30D', 30, 'days', 30),
    ]
    check(normalise_policy(example['responses']['200']['body'], 'recovery_services'), 'v2-daily-sample', 'AzureIaasVM', expected,
          policy_type='V2', protected_items=0)
    check(normalise_policy(example['parameters']['parameters'], 'recovery_services'), None, 'AzureIaasVM', expected, policy_type='V2')


def test_azure_files_snapshot_tier():
    example = load(RSB + '/2026-01-01/examples/AzureStorage/ProtectionPolicies_CreateOrUpdate_Daily.json')
    expected = [
        t('daily', 'P5D', 5, 'days', 5, datastore='Snapshot'),
        t('weekly', 'P12W', 12, 'weeks', 84, datastore='Snapshot'),
        t('monthly', 'P60M', 60, 'months', 1825, datastore='Snapshot'),
        t('yearly', 'P10Y', 10, 'years', 3650, datastore='Snapshot'),
    ]
    check(normalise_policy(example['responses']['200']['body'], 'recovery_services'), 'dailyPolicy2', 'AzureStorage', expected, protected_items=0)
    check(normalise_policy(example['parameters']['parameters'], 'recovery_services'), None, 'AzureStorage', expected,
          workload_type='AzureFileShare')


def test_azure_files_vault_standard_tier():
    example = load(RSB + '/2026-10-01/examples/AzureStorage/ProtectionPolicies_CreateOrUpdate_Hardened.json')
    expected = [
        t('snapshot', 'P5D', 5, 'days', 5, datastore='Snapshot'),
        t('daily', 'P30D', 30, 'days', 30, datastore='VaultStandard'),
        t('weekly', 'P12W', 12, 'weeks', 84, datastore='VaultStandard'),
        t('monthly', 'P60M', 60, 'months', 1825, datastore='VaultStandard'),
        t('yearly', 'P10Y', 10, 'years', 3650, datastore='VaultStandard'),
    ]
    # the response body carries no workLoadType; the request body does
    check(normalise_policy(example['responses']['200']['body'], 'recovery_services'), 'newPolicyV2', 'AzureStorage', expected, protected_items=0)
    check(normalise_policy(example['parameters']['parameters'], 'recovery_services'), None, 'AzureStorage', expected,
          workload_type='AzureFileShare')


def test_iaasvm_operation_result_is_the_policy():
    body = load(RSB + '/2026-10-01/examples/AzureIaasVm/ProtectionPolicyOperationResults_Get.json')['responses']['200']['body']
    check(normalise_policy(body, 'recovery_services'), 'testPolicy1', 'AzureIaasVM', [t('daily', 'P1D', 1, 'days', 1)],
          policy_type='V1', protected_items=1)


def test_operation_status_is_not_a_policy():
    body = load(RSB + '/2026-10-01/examples/AzureIaasVm/ProtectionPolicyOperationStatuses_Get.json')['responses']['200']['body']
    record = normalise_policy(body, 'recovery_services')
    assert record['unknown'] is True
    assert record['tiers'] == []
    assert record['workload'] is None


def test_sql_workload_full_and_log():
    values = load(RSB + '/2026-01-01/examples/AzureWorkload/BackupPolicies_List.json')['responses']['200']['body']['value']
    assert len(values) == 1
    check(normalise_policy(values[0], 'recovery_services'), 'HourlyLogBackup', 'AzureWorkload', [
        t('daily', 'P30D', 30, 'days', 30, sub_policy='Full'),
        t('log', 'P30D', 30, 'days', 30, sub_policy='Log'),
    ], protected_items=0, workload_type='SQLDataBase')


def test_sap_hana_recording():
    interaction = load('recordings/recoveryservicesbackup_saphana_policy_get.excerpt.json')['interactions'][0]
    body = json.loads(interaction['response']['body'])
    check(normalise_policy(body, 'recovery_services'), 'hana-policy-ccy', 'AzureWorkload', [
        t('daily', 'P180D', 180, 'days', 180, sub_policy='Full'),
        t('weekly', 'P104W', 104, 'weeks', 728, sub_policy='Full'),
        t('monthly', 'P60M', 60, 'months', 1825, sub_policy='Full'),
        t('yearly', 'P10Y', 10, 'years', 3650, sub_policy='Full'),
        t('log', 'P15D', 15, 'days', 15, sub_policy='Log'),
    ], protected_items=0, workload_type='SAPHanaDatabase')


OSS_TIERS = [
    t('default', 'P1W', 1, 'weeks', 7, datastore='VaultStore'),
    t('weekly', 'P12W', 12, 'weeks', 84, datastore='VaultStore'),
]


@pytest.mark.parametrize('name', ['GetBackupPolicy.json', 'CreateOrUpdateBackupPolicy.json'])
def test_backup_vault_oss_policy(name):
    example = load(DP + '/2026-06-01/examples/PolicyCRUD/' + name)
    check(normalise_policy(example['responses']['200']['body'], 'backup'), 'OSSDBPolicy', 'OssDB', OSS_TIERS, vault_type='backup')
    if 'parameters' in example['parameters']:
        check(normalise_policy(example['parameters']['parameters'], 'backup'), None, 'OssDB', OSS_TIERS, vault_type='backup')


@pytest.mark.parametrize('name, policy, workload, tiers', [
    ('AzureBlob.defaultPolicy.json', 'BlobPolicy1', 'Microsoft.Storage/storageAccounts/blobServices',
     [t('default', 'P7D', 7, 'days', 7, datastore='VaultStore')]),
    ('AzureDatabaseForPostgreSQLFlexibleServer.defaultPolicy.json', 'OssFlexiblePolicy1', 'Microsoft.DBforPostgreSQL/flexibleServers',
     [t('default', 'P3M', 3, 'months', 84, datastore='VaultStore')]),
    ('AzureDisk.defaultPolicy.json', 'DiskPolicy1', 'Microsoft.Compute/disks',
     [t('default', 'P7D', 7, 'days', 7, datastore='OperationalStore')]),
])
def test_backup_vault_cli_templates(name, policy, workload, tiers):
    template = load(DP + '/cli-default-policy-templates/' + name)
    # the templates are bare policy bodies (no "properties" wrapper); both shapes read the same
    check(normalise_policy(template, 'backup'), policy, workload, tiers, vault_type='backup')
    wrapped = {'name': template['name'], 'properties': template}
    check(normalise_policy(wrapped, 'backup'), policy, workload, tiers, vault_type='backup')


def test_every_policy_example_is_covered():
    """A new policy example in the fixture folder must get a hand-written test above."""
    covered = {
        RSB + '/2024-04-01/examples/AzureIaasVm/ProtectionPolicies_Get.json',
        RSB + '/2026-05-01/examples/AzureIaasVm/BackupPolicies_List.json',
        RSB + '/2026-05-01/examples/AzureIaasVm/V2Policy/v2-Get-Policy.json',
        RSB + '/2026-10-01/examples/AzureIaasVm/ProtectionPolicies_CreateOrUpdate_Complex.json',
        RSB + '/2026-10-01/examples/AzureIaasVm/V2Policy/IaaS_v2_daily.json',
        RSB + '/2026-01-01/examples/AzureStorage/ProtectionPolicies_CreateOrUpdate_Daily.json',
        RSB + '/2026-10-01/examples/AzureStorage/ProtectionPolicies_CreateOrUpdate_Hardened.json',
        RSB + '/2026-01-01/examples/AzureWorkload/BackupPolicies_List.json',
        DP + '/2026-06-01/examples/PolicyCRUD/GetBackupPolicy.json',
        DP + '/2026-06-01/examples/PolicyCRUD/CreateOrUpdateBackupPolicy.json',
        DP + '/cli-default-policy-templates/AzureBlob.defaultPolicy.json',
        DP + '/cli-default-policy-templates/AzureDatabaseForPostgreSQLFlexibleServer.defaultPolicy.json',
        DP + '/cli-default-policy-templates/AzureDisk.defaultPolicy.json',
    }
    covered.add(RSB + '/2026-10-01/examples/AzureIaasVm/ProtectionPolicyOperationResults_Get.json')
    # an operation status is not a policy (it is checked to read as unknown)
    not_policies = {RSB + '/2026-10-01/examples/AzureIaasVm/ProtectionPolicyOperationStatuses_Get.json',
                    # protected items, not policies (tests/unit/emulator/test_emulator_items.py reads it)
                    RSB + '/2026-10-01/examples/AzureIaasVm/BackupProtectedItems_List.json'}
    found = {str(path.relative_to(SHARED)) for path in (SHARED / RSB).rglob('*.json')}
    policy_folders = ('PolicyCRUD', 'cli-default-policy-templates')
    found |= {str(path.relative_to(SHARED)) for path in (SHARED / DP).rglob('*.json') if any(folder in path.parts for folder in policy_folders)}
    assert found - not_policies == covered
