# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """How a task names one vault (module_utils._module.VAULT_REF_ARGSPEC is the matching argument spec)."""

    DOCUMENTATION = r'''
options:
  id:
    description:
      - ARM id of the vault. The vault kind comes from its provider, the subscription from the id.
      - Mutually exclusive with O(name) and O(resource_group).
    type: str
  name:
    description: Name of the vault. Needs O(resource_group) and O(vault_type).
    type: str
  resource_group:
    description: Resource group of the vault.
    type: str
  vault_type:
    description:
      - V(recovery_services) for C(Microsoft.RecoveryServices/vaults), V(backup) for C(Microsoft.DataProtection/backupVaults).
      - With O(id), it must match the id's provider if given.
    type: str
    choices: [recovery_services, backup]
'''
