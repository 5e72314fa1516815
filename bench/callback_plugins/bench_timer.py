# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark callback: wall time of every task on every host, written as JSON lines.

Not part of the collection (bench/ is in galaxy.yml build_ignore). Enabled by bench/run.py with
ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins and ANSIBLE_CALLBACKS_ENABLED=bench_timer; the output
file is BENCH_TIMER_OUT. Each line: {"task", "host", "start", "end", "seconds", "status"} for one
task result (a loop task: one line for the whole loop), and {"task": null, "play_start", "play_end",
"controller_maxrss_mib"} at the end.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r'''
name: bench_timer
type: aggregate
short_description: Wall time of each task result, for vaultlock.azure benchmarks
description: Writes one JSON line per task result to the file named by E(BENCH_TIMER_OUT).
requirements: [enable in ansible.cfg or ANSIBLE_CALLBACKS_ENABLED]
'''


class CallbackModule(CallbackBase):
    """Records when each task started (per host) and when its result arrived."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._out = os.environ.get('BENCH_TIMER_OUT')
        self._lines = []
        self._task_start = {}
        self._host_start = {}
        self._play_start = time.time()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start[task._uuid] = time.time()

    def v2_runner_on_start(self, host, task):
        self._host_start[(task._uuid, host.get_name())] = time.time()

    def _record(self, result, status):
        task = result._task
        host = result._host.get_name()
        end = time.time()
        start = self._host_start.pop((task._uuid, host), None) or self._task_start.get(task._uuid, end)
        self._lines.append({'task': task.get_name(), 'host': host, 'start': start, 'end': end,
                            'seconds': round(end - start, 6), 'status': status})

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        if not self._out:
            return
        with open(self._out, 'a', encoding='utf-8') as handle:
            for line in self._lines:
                handle.write(json.dumps(line) + '\n')
            # Peak resident memory of the controller process itself (KiB on Linux, bytes on macOS).
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            mib = peak / 1048576.0 if sys.platform == 'darwin' else peak / 1024.0
            # The largest of the processes it forked and waited for (task workers, and through them the modules).
            children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            children_mib = children / 1048576.0 if sys.platform == 'darwin' else children / 1024.0
            handle.write(json.dumps({'task': None, 'play_start': self._play_start, 'play_end': time.time(),
                                     'controller_maxrss_mib': round(mib, 1), 'children_maxrss_mib': round(children_mib, 1)}) + '\n')
