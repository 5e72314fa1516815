# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vaultlock.azure.vault_soft_delete: task-scoped consent to irreversible changes, then the module
(plugin_utils/_consent_action.py)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._state import soft_delete as _state_soft_delete
from ansible_collections.vaultlock.azure.plugins.plugin_utils._consent_action import ConsentActionBase
from ansible_collections.vaultlock.azure.plugins.plugin_utils._preload import DATA_PROTECTION, RECOVERY_SERVICES, RECOVERY_SERVICES_BACKUP


class ActionModule(ConsentActionBase):
    MODULE = 'vault_soft_delete'
    IMPLEMENTATION = _state_soft_delete
    # The SDKs the module writes with, imported once per play (_preload).
    PRELOAD = (RECOVERY_SERVICES, RECOVERY_SERVICES_BACKUP, DATA_PROTECTION)
