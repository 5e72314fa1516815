# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The action plugin behind the state modules: consent to irreversible changes comes from the task, never from
module_defaults (module_utils/_consent.py has the rules). It runs on the controller, then runs the module where
plugin_utils/_module_action.py says (in process over a local connection, on the target otherwise)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.vaultlock.azure.plugins.module_utils._consent import CONSENT, ConsentError, scope_arguments
from ansible_collections.vaultlock.azure.plugins.module_utils._module import with_check_mode
from ansible_collections.vaultlock.azure.plugins.plugin_utils._module_action import ModuleActionBase, task_own_keys


class ConsentActionBase(ModuleActionBase):
    """Runs MODULE with the task's arguments, after scope_arguments decided what module_defaults may supply."""

    def own_keys(self):
        """The argument names written in the task itself (see task_own_keys)."""
        return task_own_keys(self._task, self._templar)

    def run(self, tmp=None, task_vars=None):
        result = ActionBase.run(self, tmp, task_vars)  # ModuleActionBase.run would run the module with the merged arguments
        del tmp  # no longer has any effect
        try:
            args, warnings = scope_arguments(self.MODULE, self._task.args, self.own_keys())
        except ConsentError as exc:
            result.update(failed=True, changed=False, msg=str(exc))
            return with_check_mode(result, self._task.check_mode)
        result = merge_hash(result, self.run_module(args, task_vars))
        if 'check_mode' not in result:
            # No module work made this result (the task's arguments refused before it, an async task's start): the module
            # sets check_mode on every result of its work (_module.outcome), this says it for the others.
            result = with_check_mode(result, self._task.check_mode)
        if warnings:
            result['warnings'] = list(result.get('warnings') or []) + warnings
            # Only a refusal that asks for consent gets the hint: one no consent lifts (a Locked vault asked to unlock, an
            # Azure error) would read as if writing allow_irreversible in the task made it pass.
            if result.get('failed') and CONSENT in str(result.get('msg') or ''):
                result['msg'] = '%s (%s from module_defaults was ignored: write it in the task to consent)' % (result['msg'], CONSENT)
        return result
