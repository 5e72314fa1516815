# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The vault-level Azure Backup built-in Azure Policy definitions, as data (no code).

Source: GitHub Azure/azure-policy, commit f4a50bacae07ddb096943c597669bcae494a6e29 (2026-04-29),
built-in-policies/policyDefinitions/Backup/<file>.json (``file`` below). Index: Microsoft Learn, "Azure Policy built-in
definitions for Azure Backup" (azure/backup/policy-reference). Of the 15 vault-level definitions of the Backup category,
EnableRecoveryServiceVaultDiagnosticSetting_DINE.json is left out: it deploys diagnostic settings, which are not a vault
property. tests/fixtures/azure_policy/ holds the files themselves; tests/unit/plugins/module_utils/test_policy.py checks
that this data is theirs (name, displayName, metadata.version, mode, parameters, policyRule.if, policyRule.then.effect;
``then.details`` of the Modify definitions says what Azure would write, which a report does not need).
"""

from __future__ import annotations

DEFINITIONS = [
    {
        'name': 'd6588149-9f06-462c-a076-56aece45b5ba',
        'file': 'AzBackupBackupVault_CMK_Audit.json',
        'display_name': (
            '[Preview]: Azure Backup Vaults should use customer-managed keys for encrypting backup data. Also an option to enforce Infra Encryption.'
        ),
        'version': '1.0.0-preview',
        'mode': 'Indexed',
        'parameters': {
            'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Audit', 'Deny', 'Disabled'], 'default': 'Audit'},
            'checkInfrastructureEncryption': {
                'type': 'Boolean',
                'display_name': 'Check if Infrastructure Encryption is enabled on Backup vaults.',
                'allowed_values': [True, False],
                'default': False,
            },
        },
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.DataProtection/backupvaults'},
                {
                    'anyOf': [
                        {'field': 'Microsoft.DataProtection/backupVaults/securitySettings.encryptionSettings.state', 'notEquals': 'Enabled'},
                        {
                            'allOf': [
                                {'value': "[parameters('checkInfrastructureEncryption')]", 'equals': True},
                                {
                                    'field': 'Microsoft.DataProtection/backupVaults/securitySettings.encryptionSettings.infrastructureEncryption',
                                    'notEquals': 'Enabled',
                                },
                            ],
                        },
                    ],
                },
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': 'c58e083e-7982-4e24-afdc-be14d312389e',
        'file': 'AzBackupBackupVault_MUAEnabled_Audit.json',
        'display_name': '[Preview]: Multi-User Authorization (MUA) must be enabled for Backup Vaults.',
        'version': '1.0.0-preview',
        'mode': 'Indexed',
        'parameters': {'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Audit', 'Disabled'], 'default': 'Audit'}},
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.DataProtection/backupVaults'},
                {'field': 'Microsoft.DataProtection/backupVaults/isVaultProtectedByResourceGuard', 'notEquals': True},
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': '2e94d99a-8a36-4563-bc77-810d8893b671',
        'file': 'AzBackupRSVault_CMKEnabled_Audit.json',
        'display_name': '[Preview]: Azure Recovery Services vaults should use customer-managed keys for encrypting backup data',
        'version': '1.0.0-preview',
        'mode': 'Indexed',
        'parameters': {
            'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Audit', 'Deny', 'Disabled'], 'default': 'Audit'},
            'enableDoubleEncryption': {
                'type': 'Boolean',
                'display_name': 'Double encryption should be enabled on Recovery Services vaults for Backup',
                'allowed_values': [True, False],
                'default': False,
            },
        },
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.RecoveryServices/vaults'},
                {
                    'anyOf': [
                        {'field': 'Microsoft.RecoveryServices/vaults/encryption.keyVaultProperties.keyUri', 'exists': 'false'},
                        {
                            'allOf': [
                                {'value': "[parameters('enableDoubleEncryption')]", 'equals': True},
                                {'field': 'Microsoft.RecoveryServices/vaults/encryption.infrastructureEncryption', 'notEquals': 'Enabled'},
                            ],
                        },
                    ],
                },
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': 'c7031eab-0fc0-4cd9-acd0-4497bd66d91a',
        'file': 'AzBackupRecoveryServicesVault_MUA_Audit.json',
        'display_name': '[Preview]: Multi-User Authorization (MUA) must be enabled for Recovery Services Vaults.',
        'version': '1.0.0-preview',
        'mode': 'Indexed',
        'parameters': {'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Audit', 'Disabled'], 'default': 'Audit'}},
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.RecoveryServices/vaults'},
                {'field': 'Microsoft.RecoveryServices/vaults/securitySettings.multiUserAuthorization', 'notEquals': 'Enabled'},
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': '31b8092a-36b8-434b-9af7-5ec844364148',
        'file': 'AzBackupRecoveryServicesVault_SoftDelete_Audit.json',
        'display_name': '[Preview]: Soft delete must be enabled for Recovery Services Vaults.',
        'version': '1.0.0-preview',
        'mode': 'Indexed',
        'parameters': {
            'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Audit', 'Disabled'], 'default': 'Audit'},
            'checkAlwaysOnSoftDeleteOnly': {
                'type': 'Boolean',
                'display_name': 'CheckAlwaysOnSoftDeleteOnly',
                'allowed_values': [True, False],
                'default': True,
            },
        },
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.RecoveryServices/Vaults'},
                {
                    'anyOf': [
                        {
                            'field': 'Microsoft.RecoveryServices/vaults/securitySettings.softDeleteSettings.softDeleteState',
                            'notIn': ['Enabled', 'AlwaysOn'],
                        },
                        {
                            'allOf': [
                                {'value': "[parameters('checkAlwaysOnSoftDeleteOnly')]", 'equals': True},
                                {
                                    'field': 'Microsoft.RecoveryServices/vaults/securitySettings.softDeleteSettings.softDeleteState',
                                    'notEquals': 'AlwaysOn',
                                },
                            ],
                        },
                    ],
                },
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': '8f09fda1-91a2-4e14-96a2-67c6281158f7',
        'file': 'AzBackuprecoveryServicesVault_RedudancySettings_Deny.json',
        'display_name': '[Preview]: Do not allow creation of Recovery Services vaults of chosen storage redundancy.',
        'version': '1.0.0-preview',
        'mode': 'Indexed',
        'parameters': {
            'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Deny', 'Disabled'], 'default': 'Deny'},
            'BackupStorageRedundancy': {
                'type': 'String',
                'display_name': 'Backup Storage Redundancy',
                'allowed_values': ['GeoRedundant', 'ZoneRedundant', 'LocallyRedundant'],
                'default': 'GeoRedundant',
            },
        },
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.RecoveryServices/vaults'},
                {
                    'field': 'Microsoft.RecoveryServices/vaults/redundancySettings.standardTierStorageRedundancy',
                    'equals': "[parameters('BackupStorageRedundancy')]",
                },
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': 'f19b0c83-716f-4b81-85e3-2dbf057c35d6',
        'file': 'RecoveryServices_CrossSubscriptionRestore_Modify.json',
        'display_name': '[Preview]: Disable Cross Subscription Restore for Azure Recovery Services vaults',
        'version': '1.1.0-preview',
        'mode': 'Indexed',
        'parameters': {
            'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Modify', 'Disabled'], 'default': 'Modify'},
            'crossSubscriptionRestoreState': {
                'type': 'String',
                'display_name': 'Cross Subscription Restore State',
                'allowed_values': ['Disable', 'PermanentlyDisable'],
                'default': 'Disable',
                'deprecated': True,
            },
            'crossSubscriptionRestoreStateParameter': {
                'type': 'String',
                'display_name': 'Cross Subscription Restore State',
                'allowed_values': ['Disabled', 'PermanentlyDisabled'],
                'default': 'Disabled',
            },
        },
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.RecoveryServices/vaults'},
                {
                    'field': 'Microsoft.RecoveryServices/vaults/restoreSettings.crossSubscriptionRestoreSettings.crossSubscriptionRestoreState',
                    'notEquals': "[parameters('crossSubscriptionRestoreStateParameter')]",
                },
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': 'd6f6f560-14b7-49a4-9fc8-d2c3a9807868',
        'file': 'RecoveryServices_Immutability_Audit.json',
        'display_name': '[Preview]: Immutability must be enabled for Recovery Services vaults',
        'version': '1.0.0-preview',
        'mode': 'Indexed',
        'parameters': {
            'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Audit', 'Disabled'], 'default': 'Audit'},
            'checkLockedImmutabilityOnly': {
                'type': 'Boolean',
                'display_name': 'CheckLockedImmutabilityOnly',
                'allowed_values': [True, False],
                'default': True,
            },
        },
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.RecoveryServices/vaults'},
                {
                    'anyOf': [
                        {'field': 'Microsoft.RecoveryServices/vaults/securitySettings.immutabilitySettings.state', 'notIn': ['Locked', 'UnLocked']},
                        {
                            'allOf': [
                                {'value': "[parameters('checkLockedImmutabilityOnly')]", 'equals': True},
                                {'field': 'Microsoft.RecoveryServices/vaults/securitySettings.immutabilitySettings.state', 'notEquals': 'Locked'},
                            ],
                        },
                    ],
                },
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': 'deeddb44-9f94-4903-9fa0-081d524406e3',
        'file': 'RecoveryServices_PrivateEndpoint_Audit.json',
        'display_name': '[Preview]: Azure Recovery Services vaults should use private link for backup',
        'version': '2.0.0-preview',
        'mode': 'Indexed',
        'parameters': {'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Audit', 'Disabled'], 'default': 'Audit'}},
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.RecoveryServices/vaults'},
                {
                    'count': {
                        'field': 'Microsoft.RecoveryServices/vaults/privateEndpointConnections[*]',
                        'where': {
                            'allOf': [
                                {
                                    'field': (
                                        'Microsoft.RecoveryServices/vaults/privateEndpointConnections[*].privateLinkServiceConnectionState.status'
                                    ),
                                    'equals': 'Approved',
                                },
                                {'field': 'Microsoft.RecoveryServices/vaults/privateEndpointConnections[*].provisioningState', 'equals': 'Succeeded'},
                                {'field': 'Microsoft.RecoveryServices/vaults/privateEndpointConnections[*].id', 'contains': '.backup'},
                            ],
                        },
                    },
                    'less': 1,
                },
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': '9ebbbba3-4d65-4da9-bb67-b22cfaaff090',
        'file': 'RecoveryServices_PublicNetworkAccess_AuditDeny.json',
        'display_name': '[Preview]: Azure Recovery Services vaults should disable public network access',
        'version': '1.0.0-preview',
        'mode': 'Indexed',
        'parameters': {'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Audit', 'Deny', 'Disabled'], 'default': 'Audit'}},
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.RecoveryServices/vaults'},
                {'field': 'Microsoft.RecoveryServices/vaults/publicNetworkAccess', 'notEquals': 'Disabled'},
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': '04726aae-4e8d-427c-af7d-ecf56d490022',
        'file': 'RecoveryServices_PublicNetworkAccess_Modify.json',
        'display_name': '[Preview]: Configure Azure Recovery Services vaults to disable public network access',
        'version': '1.0.0-preview',
        'mode': 'Indexed',
        'parameters': {'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Modify', 'Disabled'], 'default': 'Modify'}},
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.RecoveryServices/vaults'},
                {'field': 'Microsoft.RecoveryServices/vaults/publicNetworkAccess', 'notEquals': 'Disabled'},
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': '4d479a11-f2b5-4f0a-bb1e-d2332aa95cda',
        'file': 'Vaults_CrossSubscriptionRestore_Modify.json',
        'display_name': '[Preview]: Disable Cross Subscription Restore for Backup Vaults',
        'version': '1.1.0-preview',
        'mode': 'Indexed',
        'parameters': {
            'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Modify', 'Disabled'], 'default': 'Modify'},
            'crossSubscriptionRestoreState': {
                'type': 'String',
                'display_name': 'Cross Subscription Restore State',
                'allowed_values': ['Disable', 'PermanentlyDisable'],
                'default': 'Disable',
                'deprecated': True,
            },
            'crossSubscriptionRestoreStateParameter': {
                'type': 'String',
                'display_name': 'Cross Subscription Restore State',
                'allowed_values': ['Disabled', 'PermanentlyDisabled'],
                'default': 'Disabled',
            },
        },
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.DataProtection/backupVaults'},
                {
                    'field': 'Microsoft.DataProtection/backupVaults/featureSettings.crossSubscriptionRestoreSettings.state',
                    'notEquals': "[parameters('crossSubscriptionRestoreStateParameter')]",
                },
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': '2514263b-bc0d-4b06-ac3e-f262c0979018',
        'file': 'Vaults_Immutability_Audit.json',
        'display_name': '[Preview]: Immutability must be enabled for backup vaults',
        'version': '1.0.1-preview',
        'mode': 'Indexed',
        'parameters': {
            'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Audit', 'Disabled'], 'default': 'Audit'},
            'checkLockedImmutabilityOnly': {
                'type': 'Boolean',
                'display_name': 'CheckLockedImmutabilityOnly',
                'allowed_values': [True, False],
                'default': True,
            },
        },
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.DataProtection/backupvaults'},
                {
                    'anyOf': [
                        {
                            'field': 'Microsoft.DataProtection/backupVaults/securitySettings.immutabilitySettings.State',
                            'notIn': ['Locked', 'Unlocked'],
                        },
                        {
                            'allOf': [
                                {'value': "[parameters('checkLockedImmutabilityOnly')]", 'equals': True},
                                {'field': 'Microsoft.DataProtection/backupVaults/securitySettings.immutabilitySettings.State', 'notEquals': 'Locked'},
                            ],
                        },
                    ],
                },
            ],
        },
        'effect': "[parameters('effect')]",
    },
    {
        'name': '9798d31d-6028-4dee-8643-46102185c016',
        'file': 'Vaults_SoftDelete_Audit.json',
        'display_name': '[Preview]: Soft delete should be enabled for Backup Vaults',
        'version': '1.0.0-preview',
        'mode': 'Indexed',
        'parameters': {
            'effect': {'type': 'String', 'display_name': 'Effect', 'allowed_values': ['Audit', 'Disabled'], 'default': 'Audit'},
            'checkAlwaysOnSoftDeleteOnly': {
                'type': 'Boolean',
                'display_name': 'CheckAlwaysOnSoftDeleteOnly',
                'allowed_values': [True, False],
                'default': True,
            },
        },
        'if': {
            'allOf': [
                {'field': 'type', 'equals': 'Microsoft.DataProtection/backupvaults'},
                {
                    'anyOf': [
                        {'field': 'Microsoft.DataProtection/backupVaults/securitySettings.softDeleteSettings.state', 'notIn': ['On', 'AlwaysOn']},
                        {
                            'allOf': [
                                {'value': "[parameters('checkAlwaysOnSoftDeleteOnly')]", 'equals': True},
                                {'field': 'Microsoft.DataProtection/backupVaults/securitySettings.softDeleteSettings.state', 'notEquals': 'AlwaysOn'},
                            ],
                        },
                    ],
                },
            ],
        },
        'effect': "[parameters('effect')]",
    },
]
