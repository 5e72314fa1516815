# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet whose vaults carry the backup policies of tests/fixtures/azure-reference, verbatim.

The policy ``properties`` are taken from the Azure spec examples, recordings and az CLI templates copied
into the repository (see tests/fixtures/azure-reference/SOURCE.md) as they are; only the policy names of
two examples that share a name are changed.
"""

from __future__ import annotations

import copy
import json

from tests.fixtures import REFERENCE
from tests.integration.fleets import RG, SUB1, SUB2, vault, vault_id


RSB = 'recoveryservicesbackup'
DPR = 'dataprotection'

# (policy name in the fleet, file, how to find the body)
RS_SOURCES = [
    ('testPolicy1', RSB + '/2024-04-01/examples/AzureIaasVm/ProtectionPolicies_Get.json', 'response'),
    ('v2-daily-sample', RSB + '/2026-10-01/examples/AzureIaasVm/V2Policy/IaaS_v2_daily.json', 'response'),
    ('complexPolicy', RSB + '/2026-10-01/examples/AzureIaasVm/ProtectionPolicies_CreateOrUpdate_Complex.json', 'response'),
    ('HourlyLogBackup', RSB + '/2026-01-01/examples/AzureWorkload/BackupPolicies_List.json', 'list'),
    ('hana-policy-ccy', 'recordings/recoveryservicesbackup_saphana_policy_get.excerpt.json', 'recording'),
    ('dailyPolicy2', RSB + '/2026-01-01/examples/AzureStorage/ProtectionPolicies_CreateOrUpdate_Daily.json', 'response'),
    ('newPolicyV2', RSB + '/2026-10-01/examples/AzureStorage/ProtectionPolicies_CreateOrUpdate_Hardened.json', 'response'),
]
DP_SOURCES = [
    ('DiskPolicy1', DPR + '/cli-default-policy-templates/AzureDisk.defaultPolicy.json', 'template'),
    ('BlobPolicy1', DPR + '/cli-default-policy-templates/AzureBlob.defaultPolicy.json', 'template'),
    ('OSSDBPolicy', DPR + '/2026-06-01/examples/PolicyCRUD/GetBackupPolicy.json', 'response'),
]

RS_VAULTS = {'rsv-open': 'disabled', 'rsv-immutable': 'enabled', 'rsv-locked': 'locked'}
BV_VAULTS = {'bv-open': 'disabled', 'bv-immutable': 'enabled', 'bv-locked': 'locked'}


def _load(relative):
    with open(REFERENCE / relative, encoding='utf-8') as handle:
        return json.load(handle)


def properties(relative, how):
    """The verbatim policy ``properties`` of one reference file."""
    doc = _load(relative)
    if how == 'response':
        return doc['responses']['200']['body']['properties']
    if how == 'list':
        return doc['responses']['200']['body']['value'][0]['properties']
    if how == 'recording':
        return json.loads(doc['interactions'][0]['response']['body'])['properties']
    if how == 'template':
        # The az CLI templates are bare policy bodies: everything but the name is the properties object.
        return {k: v for k, v in doc.items() if k != 'name'}
    raise ValueError(how)


def rs_policies():
    return [{'name': name, 'properties': properties(path, how)} for name, path, how in RS_SOURCES]


def dp_policies():
    return [{'name': name, 'properties': properties(path, how)} for name, path, how in DP_SOURCES]


def retention_fleet():
    rs = rs_policies()
    dp = dp_policies()
    vaults = [vault(name, 'recovery_services', state, policies=copy.deepcopy(rs)) for name, state in RS_VAULTS.items()]
    vaults += [vault(name, 'backup', state, policies=copy.deepcopy(dp)) for name, state in BV_VAULTS.items()]
    vaults.append(vault('rsv-empty', 'recovery_services', 'disabled'))
    return {'subscriptions': [
        {'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
            {'name': RG, 'location': 'westeurope', 'vaults': vaults},
        ]},
        {'id': SUB2, 'display_name': 'vaultlock-test-2', 'resource_groups': [
            {'name': 'rg-two', 'location': 'westeurope', 'vaults': [
                vault('rsv-two', 'recovery_services', 'enabled', policies=copy.deepcopy(rs[:1])),
            ]},
        ]},
    ]}


def policy_id(vault_name, policy, kind='recovery_services', sub=SUB1, rg=RG):
    return vault_id(vault_name, kind, sub=sub, rg=rg) + '/backupPolicies/' + policy


def stored(emulator, vault_name, policy, kind='recovery_services'):
    """The policy ``properties`` the emulator keeps."""
    resource = emulator.resource(policy_id(vault_name, policy, kind))
    assert resource is not None, 'policy %s of %s not in the emulator' % (policy, vault_name)
    return resource['properties']


def t(tier, duration, count, unit, days, sub_policy=None, datastore=None):
    """A tier written by hand."""
    return {'tier': tier, 'sub_policy': sub_policy, 'datastore': datastore, 'duration': duration,
            'count': count, 'unit': unit, 'days': days}
