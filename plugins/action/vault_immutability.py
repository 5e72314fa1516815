# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vaultlock.azure.vault_immutability: task-scoped consent to irreversible changes, then the module
(plugin_utils/_consent_action.py)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._state import immutability as _state_immutability
from ansible_collections.vaultlock.azure.plugins.plugin_utils._consent_action import ConsentActionBase
from ansible_collections.vaultlock.azure.plugins.plugin_utils._preload import DATA_PROTECTION, RECOVERY_SERVICES


class ActionModule(ConsentActionBase):
    MODULE = 'vault_immutability'
    IMPLEMENTATION = _state_immutability
    # The SDKs the module writes with, imported once per play (_preload).
    PRELOAD = (RECOVERY_SERVICES, DATA_PROTECTION)
