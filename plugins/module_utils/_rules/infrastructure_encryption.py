# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The infrastructure encryption rule (report only): a second layer of encryption of the backup data.

Recovery Services vaults: ``properties.encryption.infrastructureEncryption``; Backup vaults:
``properties.securitySettings.encryptionSettings.infrastructureEncryption`` (SDK models). It is chosen with the
customer-managed key and cannot be set on a vault later on its own, so ``required`` only reports.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._rules import _security
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import Setting
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.customer_managed_keys import CMK_DEFINITIONS


class InfrastructureEncryptionRule(_security.ReportOnlyRule):
    key = 'infrastructure_encryption'
    paths = {'recovery_services': ('encryption', 'infrastructureEncryption'),
             'backup': ('securitySettings', 'encryptionSettings', 'infrastructureEncryption')}
    manual = ('infrastructure encryption is chosen with the customer-managed key encryption of the vault (Learn, '
              'encryption-at-rest-with-cmk), by a person')
    settings = (Setting('infrastructure_encryption', 'infrastructure encryption', None, (
        'VaultInfrastructureEncryptionDisabled', 'The vault\'s backup data has no infrastructure (double) encryption',
        'Infrastructure encryption adds a second layer of encryption with a platform key under the customer-managed key.',
        '3.1'),
        azure_policy=CMK_DEFINITIONS),)


RULE = InfrastructureEncryptionRule()
