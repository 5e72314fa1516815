# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The storage redundancy rule (report only): the vault's storage redundancy is one of a list of allowed values.

Recovery Services vaults: ``properties.redundancySettings.standardTierStorageRedundancy``; Backup vaults: the
``type`` of ``properties.storageSettings`` (the VaultStore entry, else the first) (SDK models; the built-in policy
AzBackuprecoveryServicesVault_RedudancySettings_Deny). Redundancy is fixed once items are protected (Learn,
backup-create-recovery-services-vault), so the collection never changes it: a baseline list only reports.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import shown
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import _security
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import DriftError, Setting

VALUES = ('GeoRedundant', 'LocallyRedundant', 'ZoneRedundant')
_BY_LOWER = dict((value.lower(), value) for value in VALUES)


def read_redundancy(vault_type, props, resource):
    if vault_type == 'recovery_services':
        value = _security.nested(props, ('redundancySettings', 'standardTierStorageRedundancy'), resource)
        return value if isinstance(value, str) else None
    settings = _security.nested(props, ('storageSettings',), resource)
    settings = [item for item in settings if isinstance(item, Mapping)] if isinstance(settings, list) else []
    vault_store = [item for item in settings if str(item.get('datastoreType') or '').lower() == 'vaultstore']
    chosen = (vault_store or settings or [{}])[0].get('type')
    return chosen if isinstance(chosen, str) else None


def normalise(value, where):
    """A list of allowed redundancies (any casing) in API casing, or None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise DriftError('%s must be a non-empty list of %s or null, got %s' % (where, ', '.join(VALUES), shown(value)))
    out = []
    for item in value:
        known = _BY_LOWER.get(str(item).strip().lower().replace('_', ''))
        if known is None:
            raise DriftError("%s must list only %s, got %s" % (where, ', '.join(VALUES), shown(item)))
        if known not in out:
            out.append(known)
    return out


class StorageRedundancyRule(_security.ReportOnlyRule):
    key = 'storage_redundancy'
    choices = {}     # a list of Azure's own spellings, any casing (the role's spec gives it no choices)
    read_value = staticmethod(read_redundancy)
    normalise = staticmethod(normalise)
    manual = ('storage redundancy is fixed once the vault protects items; a vault with another redundancy is replaced by '
              'a new vault, by a person')
    settings = (Setting('storage_redundancy', 'storage redundancy', None, (
        'VaultStorageRedundancyNotAllowed', 'The vault\'s storage redundancy is not one the baseline allows',
        'Locally redundant storage keeps backups in one datacenter; geo- or zone-redundant storage survives the loss of '
        'a zone or a region.', '4.3'),
        azure_policy={'recovery_services': ('8f09fda1-91a2-4e14-96a2-67c6281158f7',)}),)

    def state(self, vault, baseline, findings):
        # As Azure spells it (GeoRedundant, ZoneRedundant, LocallyRedundant), the word a reader looks for.
        value = vault.get(self.key)
        return {'state': value if isinstance(value, str) else 'not_reported'}

    def meets(self, vault, want):
        # want: the baseline's allowed redundancies (normalise: a non-empty list in API casing).
        return str(self.have(vault) or '').lower() in [value.lower() for value in want]


RULE = StorageRedundancyRule()
