# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of vaultlock.azure.vault_immutability: consent to irreversible changes is task-scoped, then the module runs."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.plugin_utils._consent_action import ConsentActionBase


class ActionModule(ConsentActionBase):
    MODULE = 'vault_immutability'
