# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vault_targets filter: discovery results and exclusions -> the vaults a run is about.

A thin wrapper: the logic is in module_utils/_targets.py. Documentation: vault_targets.yml next to this file.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import plan_run

display = Display()


def vault_targets(reads, exclude=None, warn=False, baseline=None, lock_requirements=None, vaults=True):
    """{vaults, errors, excluded, unmatched, warnings} from vault_immutability_info results and exclusion entries; with a
    baseline also {baseline, lock_requirements, drift, blocked, report_errors, report_warnings, discovery}
    (module_utils/_targets.py plan_run). vaults=False leaves the vault records out (an empty list): the drift entries
    name every vault."""
    try:
        selected = plan_run(reads, exclude, baseline, lock_requirements)
        if not vaults:
            selected = dict(selected, vaults=[])
    except VaultlockError as exc:
        raise AnsibleFilterError('vaultlock.azure.vault_targets: %s' % exc) from exc
    if warn:
        for warning in selected['warnings']:
            display.warning('vaultlock.azure.vault_targets: %s' % warning)
    return selected


class FilterModule:
    """vaultlock.azure target filters."""

    def filters(self):
        return {'vault_targets': vault_targets}
