# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection writes to stdout or stderr in a task's worker becomes a warning of the task (plugin_utils/_stdio),
in the controller-side actions and in the modules run in process, where the worker's streams are the real ones
(ansible-core before 2.19)."""

from __future__ import annotations

import sys
import threading
import types

from ansible_collections.vaultlock.azure.plugins.action.drift_diff import ActionModule as DriftDiff
from ansible_collections.vaultlock.azure.plugins.plugin_utils._module_action import ModuleActionBase

from tests.unit.builders import LockedStream


def in_a_thread(text):
    thread = threading.Thread(target=sys.stderr.write, args=(text,))
    thread.start()
    thread.join()


class Noisy(DriftDiff):
    def work(self, tmp=None, task_vars=None):
        in_a_thread('InsecureRequestWarning: Unverified HTTPS request\n')
        return super().work(tmp, task_vars)


class NoisyModule(ModuleActionBase):
    MODULE = 'noisy'
    IMPLEMENTATION = types.SimpleNamespace(ARGUMENT_SPEC={}, CONSTRAINTS={},
                                           run=lambda mod: in_a_thread('a line from a thread\n') or {'changed': False})


def locked_streams():
    lock = threading.RLock()
    lock.acquire()      # held by the main thread, as the fork left it
    return lock, LockedStream(lock), LockedStream(lock)


def test_a_controller_action_hands_what_a_thread_wrote_to_the_task_warnings(action):
    lock, out, err = locked_streams()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        plugin = action(Noisy, {'drift': []})
        result = plugin.run(task_vars={})
    finally:
        sys.stdout, sys.stderr = saved
        lock.release()
    assert err.blocked == 0 and err.parts == []
    assert result['warnings'] == ['written to stderr while the task ran: InsecureRequestWarning: Unverified HTTPS request']
    assert result['drifting'] == 0


def test_a_module_run_in_process_hands_what_a_thread_wrote_to_the_task_warnings(action):
    plugin = action(NoisyModule, {})
    plugin._connection.transport = 'local'
    plugin._play_context.become = False
    assert plugin.runs_in_process()
    plugin._task.environment = None
    lock, out, err = locked_streams()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        result = plugin.run_module({}, {})
    finally:
        sys.stdout, sys.stderr = saved
        lock.release()
    assert err.blocked == 0 and err.parts == []
    assert result['warnings'] == ['written to stderr while the task ran: a line from a thread']
