# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vaultlock.azure.vault_immutability_info: the module runs in the process of
ansible-playbook over a local connection, as a module on the target otherwise (plugin_utils/_module_action.py)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._info import immutability as _info_immutability
from ansible_collections.vaultlock.azure.plugins.plugin_utils._module_action import ModuleActionBase


class ActionModule(ModuleActionBase):
    MODULE = 'vault_immutability_info'
    IMPLEMENTATION = _info_immutability
