# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What vault_lock_readiness_info does: read the vaults of its scope with their policies and protected items
(_discovery.scope_result) and judge what locking each commits to and whether it is ready (_readiness, pure)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.scope import scope_result
from ansible_collections.vaultlock.azure.plugins.module_utils._module import SCOPE_ARGSPEC, SCOPE_CONSTRAINTS
from ansible_collections.vaultlock.azure.plugins.module_utils._readiness import readiness, utc_today, validate_requirements


def run(mod):
    # Checked before any request.
    requirements = validate_requirements(mod.params['requirements'])
    # Readiness needs each vault's policies and protected items, from the same source as the vault.
    result = scope_result(mod, dict(mod.params, include_policies=True, include_items=True))
    today = utc_today()
    vaults = [readiness(record, requirements, today=today) for record in result['vaults']]
    ready = sum(1 for vault in vaults if vault['ready'])
    return dict(result, vaults=vaults, requirements=requirements,
                summary={'vaults': len(vaults), 'ready': ready, 'not_ready': len(vaults) - ready})


ARGUMENT_SPEC = dict(SCOPE_ARGSPEC, requirements={
    'type': 'dict', 'default': {},
    'options': {
        'max_retention': {'type': 'str'},
        'require_soft_delete': {'type': 'raw', 'default': 'on'},
        'require_mua': {'type': 'bool', 'default': False},
        'no_unfixable_findings': {'type': 'bool', 'default': True},
    },
})
CONSTRAINTS = SCOPE_CONSTRAINTS
