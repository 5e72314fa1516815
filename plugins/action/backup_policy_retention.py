# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vaultlock.azure.backup_policy_retention: task-scoped consent to irreversible changes, then the module
(plugin_utils/_consent_action.py)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._state import retention as _state_retention
from ansible_collections.vaultlock.azure.plugins.plugin_utils._consent_action import ConsentActionBase
from ansible_collections.vaultlock.azure.plugins.plugin_utils._preload import DATA_PROTECTION, RECOVERY_SERVICES_BACKUP


class ActionModule(ConsentActionBase):
    MODULE = 'backup_policy_retention'
    IMPLEMENTATION = _state_retention
    # The SDKs the module writes with, imported once per play (_preload).
    PRELOAD = (RECOVERY_SERVICES_BACKUP, DATA_PROTECTION)
