# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The base of the actions that run on the controller only (drift_diff, harden_plan, harden_apply, harden_report): no
connection, no file transfer, no module; check mode is theirs to honour."""

from __future__ import annotations

import contextlib
import gc

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import non_finite_refusal, text_option_refusal
from ansible_collections.vaultlock.azure.plugins.plugin_utils._module_action import defaults_refusal
from ansible_collections.vaultlock.azure.plugins.plugin_utils._preload import Preloading
from ansible_collections.vaultlock.azure.plugins.plugin_utils._stdio import add_warnings, worker_stdio


@contextlib.contextmanager
def without_cyclic_gc():
    """Python's cycle collector off while a fleet's data is built, on again after, with one collection of what the block
    made.

    Building tens of thousands of records, drift entries and report rows allocates millions of containers; each time
    they outnumber the collector's thresholds it walks every live container again, and none of them is garbage (they are
    freed by reference counting). At 20,000 vaults that walking was about a third of the CPU of parsing the plan and
    building the report. What a cycle holds while the collector is off is freed by the collection at the end.

    That collection leaves out what the process held before the block (``gc.freeze``): a task's worker inherits Ansible,
    the Azure SDK, the collection and the play from ansible-playbook, several hundred thousand objects, and walking them
    took 0.1 to 0.2 s of CPU at the end of every task. In a forked worker the walk also writes into every inherited
    object, so the kernel copied each memory page the worker shared with ansible-playbook. When something else has frozen
    objects already (``gc.get_freeze_count``), that is left as it is.
    """
    enabled = gc.isenabled()
    gc.disable()
    freeze = not gc.get_freeze_count()
    if freeze:
        gc.freeze()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect()
        if freeze:
            gc.unfreeze()


def refused(exc):
    """The task result of a refusal (an AnsibleActionFail raised by the action): failed, with its message, as ansible-core
    2.19 makes it. ansible-core 2.17 and 2.18 also put ``traceback.format_exc()`` in the exception's result as
    ``exception``, taken when the exception is made: for a refusal made while another is handled (a message reworded in an
    ``except`` block) that is the handled exception's traceback, which the play then showed. A refusal is the user's
    input, never a traceback."""
    result = {key: value for key, value in (getattr(exc, 'result', None) or {}).items() if key != 'exception'}
    result.update(failed=True, msg=exc.message)
    return result


class ControllerActionBase(Preloading, ActionBase):
    """An action plugin that does its work in the task worker on the controller (``PRELOAD``: what it imports once per
    play, _preload)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        """``work``'s result; what was written to the worker's stdout or stderr while it ran is a warning of the task
        (``_stdio.worker_stdio``: on ansible-core before 2.19 a thread writing there would hang the worker)."""
        with worker_stdio() as written:
            try:
                result = self.work(tmp, task_vars)
            except AnsibleActionFail as exc:
                result = refused(exc)
        return add_warnings(result, written)

    def work(self, tmp=None, task_vars=None):
        """The action's own work; each action defines its own. This one is ActionBase's checks alone."""
        return self._base_run(tmp, task_vars)

    def _base_run(self, tmp, task_vars):
        """ActionBase.run's result (the task's common checks)."""
        return super().run(tmp, task_vars)

    def _start(self, tmp, task_vars, argument_spec):
        """The result of ActionBase.run and the task's arguments, validated against argument_spec."""
        result = self._base_run(tmp, task_vars)
        # A float that is no finite number (.inf) raised OverflowError in ansible-core's int conversion: a traceback.
        # A dictionary, list or boolean for a text option (report_dir, plan) became its Python text in ansible-core's
        # conversion (a directory named {'a': 1}): refused here, before the conversion, whatever checked the task before.
        refusal = non_finite_refusal(dict(self._task.args)) or text_option_refusal(dict(self._task.args), argument_spec)
        if refusal:
            raise AnsibleActionFail(refusal)
        refusal = defaults_refusal(self._task, self._templar, task_vars, argument_spec)
        if refusal:
            raise AnsibleActionFail(refusal)
        _validation, args = self.validate_argument_spec(argument_spec)
        return result, args

    @property
    def _check_mode(self):
        return bool(self._play_context.check_mode)

    @staticmethod
    def _failed(result, msg):
        """result as a failed task that changed nothing, with msg."""
        result.update(failed=True, changed=False, msg=msg)
        return result
