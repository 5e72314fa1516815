# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin behind vaultlock.azure.drift_diff: runs on the controller, sends nothing to Azure."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import check_entries, drift_diffs, would_change
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.plugin_utils._controller_action import ControllerActionBase


class ActionModule(ControllerActionBase):
    _VALID_ARGS = frozenset(('drift',))

    def work(self, tmp=None, task_vars=None):
        result = self._base_run(tmp, task_vars)
        try:
            drift = check_entries(self._task.args.get('drift'))
        except VaultlockError as exc:
            raise AnsibleActionFail(str(exc)) from None
        diffs = drift_diffs(drift)
        actionable = would_change(drift)
        result.update({
            'changed': bool(actionable),
            'diff': diffs,
            'drifting': len(diffs),
            'vaults_to_change': len(actionable),
            'msg': '%d of %d vaults drift; a run would change %d' % (len(diffs), len(drift), len(actionable)),
        })
        return result
