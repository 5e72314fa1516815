# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What vault_immutability_info does: read the vaults of its scope, each as the state modules' vault record, with
their policies and protected items when asked (_discovery.scope_result), and the Resource Guard of each vault that says
a guard protects it from the vault's proxy (_discovery.guards: a vault read never names the guard)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.scope import scope_result
from ansible_collections.vaultlock.azure.plugins.module_utils._module import SCOPE_ARGSPEC, SCOPE_CONSTRAINTS


def run(mod):
    # The Resource Guard of each vault that reports one and names none (every vault Azure returns so): one proxy read such
    # a vault, none for the others, read in the scope read (paced and retried like its other ARM reads, max_concurrency at
    # once), so the discovery block counts them and their time.
    return scope_result(mod, dict(mod.params, include_guards=True))


ARGUMENT_SPEC = dict(SCOPE_ARGSPEC, **{
    'include_policies': {'type': 'bool', 'default': False},
    'include_items': {'type': 'bool', 'default': False},
})
CONSTRAINTS = SCOPE_CONSTRAINTS
