# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What vault_immutability_info does: read the vaults of its scope, each as the state modules' vault record, with
their policies and protected items when asked (_discovery.scope_result)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.scope import scope_result
from ansible_collections.vaultlock.azure.plugins.module_utils._module import SCOPE_ARGSPEC, SCOPE_CONSTRAINTS


def run(mod):
    return scope_result(mod, mod.params)


ARGUMENT_SPEC = dict(SCOPE_ARGSPEC, **{
    'include_policies': {'type': 'bool', 'default': False},
    'include_items': {'type': 'bool', 'default': False},
})
CONSTRAINTS = SCOPE_CONSTRAINTS
