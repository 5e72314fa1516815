# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bodies the collection writes carry no read-only property.

Read-only fields, from the SDK model dumps of the shared Azure reference (sdk-models/, `vis=['read']`: azure-mgmt-
recoveryservices 4.3.0, azure-mgmt-dataprotection 2.2.0, azure-mgmt-recoveryservicesbackup 11.2.0), copied here:
the vault properties and ``securitySettings.multiUserAuthorization``; a resource's ``id``, ``name``, ``type``,
``systemData``; a Backup vault policy's ``RetentionTag.id`` and ``RetentionTag.eTag`` (``tagInfo``).

The collection writes no Backup vault policy: Azure updates none (400 UserErrorBMSUpdatePolicyNotSupported,
``_retention.DP_NO_UPDATE``). Until it knew that, its PUT of one was the policy as read with its retention raised,
``tagInfo.id`` included (as the az CLI dataprotection extension's default policies send it).
"""
from __future__ import annotations

import copy

from ansible_collections.vaultlock.azure.plugins.module_utils._rules import alerts, cross_subscription_restore
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.immutability import immutability_patch
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.public_network_access import patch as pna_patch
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.soft_delete import config_body, vault_patch
from ansible_collections.vaultlock.azure.plugins.module_utils._state.retention import _put_body
from tests.emulator import generator
from tests.emulator.arm import DP_PATCH_PROPS

VAULT_READ_ONLY = {
    'recovery_services': ('provisioningState', 'privateEndpointConnections', 'privateEndpointStateForBackup',
                          'privateEndpointStateForSiteRecovery', 'moveState', 'backupStorageVersion', 'secureScore', 'bcdrSecurityLevel'),
    'backup': ('provisioningState', 'resourceMoveState', 'resourceMoveDetails', 'isVaultProtectedByResourceGuard', 'secureScore',
               'bcdrSecurityLevel'),
}
RESOURCE_READ_ONLY = ('id', 'name', 'type', 'systemData')


def _vault_bodies(vault_type):
    target = {'state': 'on', 'enhanced_security': 'on', 'retention_days': 14}
    bodies = [immutability_patch(vault_type, 'enabled'), immutability_patch(vault_type, 'locked', 30), vault_patch(vault_type, target),
              cross_subscription_restore.patch(vault_type, 'disabled'),
              alerts.patch(vault_type, dict.fromkeys(alerts.KEYS, 'enabled'))]
    if vault_type == 'recovery_services':
        bodies += [pna_patch(vault_type, 'disabled'), config_body(target)]
    return bodies


def test_vault_writes_carry_no_read_only_property():
    for vault_type, read_only in VAULT_READ_ONLY.items():
        for body in _vault_bodies(vault_type):
            assert not set(body) & set(RESOURCE_READ_ONLY), body
            props = body['properties']
            assert not set(props) & set(read_only), (vault_type, body)
            assert 'multiUserAuthorization' not in (props.get('securitySettings') or {}), body
            if vault_type == 'backup':
                # A Backup vault PATCH holds PatchBackupVaultInput only (the emulator ignores anything else: arm.DP_PATCH_PROPS).
                assert set(props) <= set(DP_PATCH_PROPS), body


def test_policy_puts_carry_no_read_only_property_and_a_backup_vault_policy_is_never_put(emulator):
    sub = '11111111-1111-1111-1111-111111111111'
    emulator.load_fleet({'subscriptions': [{'id': sub, 'resource_groups': [{'name': 'rg-ro', 'location': 'westeurope', 'vaults': [
        {'name': 'rsv', 'type': 'recovery_services', 'policies': [{'name': 'VMDaily', 'properties': generator.iaas_v2(False)}]},
        {'name': 'bv', 'type': 'backup', 'policies': [{'name': 'DiskHourly', 'properties': generator.dp_disk(False)}]}]}]}]})
    base = '/subscriptions/%s/resourceGroups/rg-ro/providers/' % sub
    rs = emulator.arm_request('GET', base + 'Microsoft.RecoveryServices/vaults/rsv/backupPolicies/VMDaily', '2026-10-01').json()
    dp = emulator.arm_request('GET', base + 'Microsoft.DataProtection/backupVaults/bv/backupPolicies/DiskHourly', '2026-06-01').json()
    rs_body = _put_body(copy.deepcopy(rs))
    assert not set(rs_body) & set(RESOURCE_READ_ONLY)
    assert 'protectedItemsCount' not in rs_body['properties']
    answer = emulator.arm_request('PUT', base + 'Microsoft.RecoveryServices/vaults/rsv/backupPolicies/VMDaily', '2026-10-01', body=rs_body)
    assert answer.status_code == 200, answer.text
    # Azure updates no Backup vault policy, even the body it gave back unchanged: the collection never sends one.
    answer = emulator.arm_request('PUT', base + 'Microsoft.DataProtection/backupVaults/bv/backupPolicies/DiskHourly', '2026-06-01',
                                  body=_put_body(copy.deepcopy(dp)))
    assert answer.status_code == 400 and answer.json()['error']['code'] == 'UserErrorBMSUpdatePolicyNotSupported', answer.text
