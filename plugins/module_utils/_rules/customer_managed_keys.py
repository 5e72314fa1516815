# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The customer-managed keys rule (report only): the vault's backup data is encrypted with a key of the customer's.

Recovery Services vaults: ``properties.encryption.keyVaultProperties.keyUri``; Backup vaults:
``properties.securitySettings.encryptionSettings`` (``state`` Enabled, ``keyVaultProperties.keyUri``) (SDK models; the
built-in policies AzBackupRSVault_CMKEnabled_Audit and AzBackupBackupVault_CMK_Audit read the same). The key is the
customer's (a Key Vault, an identity with access to it), so a person sets it up: ``required`` only reports.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._rules import _security
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import Setting


# The vault-level built-in definitions that audit encryption with a customer-managed key; a parameter of each also
# checks infrastructure (double) encryption, so the infrastructure_encryption rule answers to them too.
CMK_DEFINITIONS = {'recovery_services': ('2e94d99a-8a36-4563-bc77-810d8893b671',), 'backup': ('d6588149-9f06-462c-a076-56aece45b5ba',)}


def read_cmk(vault_type, props, resource):
    if vault_type == 'recovery_services':
        uri = _security.nested(props, ('encryption', 'keyVaultProperties', 'keyUri'), resource)
        enabled = bool(uri)
    else:
        base = ('securitySettings', 'encryptionSettings')
        state = _security.state(_security.nested(props, base + ('state',), resource), resource,
                                'properties.securitySettings.encryptionSettings.state')
        uri = _security.nested(props, base + ('keyVaultProperties', 'keyUri'), resource)
        enabled = state == 'enabled'
    return {'enabled': enabled, 'key_uri': uri if isinstance(uri, str) else None}


class CustomerManagedKeysRule(_security.ReportOnlyRule):
    key = 'customer_managed_keys'
    read_value = staticmethod(read_cmk)
    manual = ('encrypting with a customer-managed key needs a key in the customer\'s Key Vault and an identity with access '
              'to it; set it up on the vault (Learn, encryption-at-rest-with-cmk)')
    settings = (Setting('customer_managed_keys', 'customer-managed keys', None, (
        'VaultNotEncryptedWithCustomerManagedKey', 'The vault\'s backup data is not encrypted with a customer-managed key',
        'With a customer-managed key the customer controls (and can revoke) the key of the backup data.', '4.0'),
        azure_policy=CMK_DEFINITIONS),)

    def posture_value(self, vault):
        return self.have(vault)

    def posture_details(self, vault):
        return {'key_uri': (vault.get('customer_managed_keys') or {}).get('key_uri')}

    def have(self, vault):
        return 'enabled' if (vault.get('customer_managed_keys') or {}).get('enabled') else 'disabled'


RULE = CustomerManagedKeysRule()
