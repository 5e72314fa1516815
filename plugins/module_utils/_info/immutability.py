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

import time

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.guards import guard_warning, read_guards
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.scope import pacing, scope_result
from ansible_collections.vaultlock.azure.plugins.module_utils._module import SCOPE_ARGSPEC, SCOPE_CONSTRAINTS
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import mua as mua_rule
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import MAX_CONCURRENCY


def run(mod):
    result = scope_result(mod, mod.params)
    # One proxy read a vault that reports a guard and names none (every vault Azure returns so), none for the others;
    # paced and retried like the module's other ARM reads (the session's), max_concurrency at once.
    guarded = [record for record in result['vaults'] if mua_rule.needs_proxy(record)]
    if guarded:
        concurrency = mod.params.get('max_concurrency') or MAX_CONCURRENCY
        started = time.monotonic()
        warning = guard_warning(read_guards(mod.session, guarded, concurrency))
        if warning:
            mod.warn(warning)
        discovery = result['discovery']
        discovery['arm'] = pacing(mod.session)
        discovery['elapsed_s'] = round(discovery['elapsed_s'] + time.monotonic() - started, 3)
    return result


ARGUMENT_SPEC = dict(SCOPE_ARGSPEC, **{
    'include_policies': {'type': 'bool', 'default': False},
    'include_items': {'type': 'bool', 'default': False},
})
CONSTRAINTS = SCOPE_CONSTRAINTS
