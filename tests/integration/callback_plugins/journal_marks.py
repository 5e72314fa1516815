# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test callback: where each task starts and ends in the emulator's journal, and what given resources hold after it.

Not part of the collection (tests/ is not built). The Runner of tests/integration/conftest.py enables it
(``runner.play(..., marks=...)``) so that one playbook run can stand for several: check mode, apply and a second
apply become tasks of one play (per-task ``check_mode``), and the test still sees the requests of each task and the
state of the emulator after each task, as it did between separate ansible-playbook runs.

Environment: VAULTLOCK_REPO (the checkout, for tests.emulator.client), VAULTLOCK_EMULATOR_ENDPOINT (the emulator's
endpoint file), VAULTLOCK_MARKS_OUT (a file; one JSON line per task that has a register: register, name, status, start
and end positions in the journal, token_start and token_end in the token journal, resources), VAULTLOCK_MARK_RESOURCES
(a JSON list of ARM ids whose stored documents are read after each task; empty or unset: none).
"""

from __future__ import annotations

import json
import os
import sys

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r'''
name: journal_marks
type: aggregate
short_description: Journal positions and resource snapshots per task (vaultlock.azure tests)
description: Writes, for each task, where it started and ended in the ARM emulator's journal to E(VAULTLOCK_MARKS_OUT).
requirements: [enable with ANSIBLE_CALLBACKS_ENABLED]
'''


class CallbackModule(CallbackBase):
    """Marks each task's span of the emulator's journal."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'journal_marks'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._client = None
        self._start = None

    def _emulator(self):
        if self._client is None:
            repo = os.environ['VAULTLOCK_REPO']
            if repo not in sys.path:
                sys.path.insert(0, repo)
            from tests.emulator.client import EmulatorClient  # pylint: disable=import-outside-toplevel

            with open(os.environ['VAULTLOCK_EMULATOR_ENDPOINT'], encoding='utf-8') as handle:
                self._client = EmulatorClient(json.load(handle))
        return self._client

    def _position(self):
        """(the ARM journal's length, the token journal's length): one request for both."""
        stats = self._emulator().stats()
        return stats['journal_entries'], stats['token_requests']

    def v2_playbook_on_task_start(self, task, is_conditional):
        # Only a task with a register is marked (the Runner keys the marks by register): a role's other tasks, most of
        # a run's tasks, cost no request to the emulator.
        self._start = self._position() if task.register else None

    def _mark(self, result, status):
        if not result._task.register:
            return
        client = self._emulator()
        ids = json.loads(os.environ.get('VAULTLOCK_MARK_RESOURCES') or '[]')
        end = self._position()
        record = {'register': result._task.register, 'name': result._task.get_name(), 'status': status,
                  'start': self._start[0], 'end': end[0], 'token_start': self._start[1], 'token_end': end[1],
                  'resources': client.resources(ids) if ids else {}}     # one request for all of them
        with open(os.environ['VAULTLOCK_MARKS_OUT'], 'a', encoding='utf-8') as handle:
            handle.write(json.dumps(record) + '\n')

    def v2_runner_on_ok(self, result):
        self._mark(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._mark(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._mark(result, 'skipped')
