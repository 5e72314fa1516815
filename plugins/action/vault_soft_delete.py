# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vaultlock.azure.vault_soft_delete: consent to irreversible changes is task-scoped, then
the module runs: in the process of ansible-playbook over a local connection, as a module on the target otherwise
(plugin_utils/_module_action.py)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.modules import vault_soft_delete
from ansible_collections.vaultlock.azure.plugins.plugin_utils._consent_action import ConsentActionBase
from ansible_collections.vaultlock.azure.plugins.plugin_utils._preload import DATA_PROTECTION, RECOVERY_SERVICES, RECOVERY_SERVICES_BACKUP, preload


# The SDKs this module writes with, imported once per play (_preload).
preload(RECOVERY_SERVICES, RECOVERY_SERVICES_BACKUP, DATA_PROTECTION)


class ActionModule(ConsentActionBase):
    MODULE = 'vault_soft_delete'
    IMPLEMENTATION = vault_soft_delete
