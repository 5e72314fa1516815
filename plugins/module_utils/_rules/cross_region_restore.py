# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The cross region restore rule (report only): backups can be restored in the paired region.

Recovery Services vaults: ``properties.redundancySettings.crossRegionRestore``; Backup vaults:
``properties.featureSettings.crossRegionRestoreSettings.state`` (SDK models). It needs geo-redundant storage, and once
enabled it cannot be disabled again (Learn, backup-create-recovery-services-vault), so this collection never sets it:
``required`` only reports.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._rules import _security
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import Setting


class CrossRegionRestoreRule(_security.ReportOnlyRule):
    key = 'cross_region_restore'
    paths = {'recovery_services': ('redundancySettings', 'crossRegionRestore'),
             'backup': ('featureSettings', 'crossRegionRestoreSettings', 'state')}
    manual = ('cross region restore needs geo-redundant storage and cannot be disabled once enabled; a person decides '
              'and enables it on the vault')
    settings = (Setting('cross_region_restore', 'cross region restore', None, (
        'VaultCrossRegionRestoreDisabled', 'Backups of the vault cannot be restored in the paired region',
        'Cross region restore lets a restore run in the Azure paired region when the primary region is down.', '3.1')),)


RULE = CrossRegionRestoreRule()
