# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test action: changes the ARM emulator between the plays of one playbook run, on the controller.

Not part of the collection (tests/ is not built). ``batching.Batch.emulator`` and test_doc_plays.py add it between parts
of a shared run, so parts that needed a fleet or faults of their own no longer need an ansible-playbook run of their own.
It reaches the emulator as the journal_marks callback does: VAULTLOCK_REPO (for tests.emulator.client) and
VAULTLOCK_EMULATOR_ENDPOINT (the emulator's endpoint file). The journal is never cleared, so the journal positions the
callback records stay valid. It acts in check mode too (the emulator is the test's set-up, not what a task changes).

Arguments, applied in this order: ``reset`` (true: the emulator's start fleet, no faults, default settings),
``load_fleet`` (a fleet document), ``generate`` (EmulatorClient.generate arguments; its answer returned as ``generated``),
``clear_faults`` (true), ``faults`` (a list of EmulatorClient.fault arguments),
``settings`` (EmulatorClient.settings arguments), ``clock`` (EmulatorClient.clock arguments: freeze, advance_s; a part whose
operations must outlive its tasks), ``read`` (ARM ids: their stored documents, returned as ``resources``).
"""

from __future__ import annotations

import json
import os
import sys

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


def _client():
    repo = os.environ['VAULTLOCK_REPO']
    if repo not in sys.path:
        sys.path.insert(0, repo)
    from tests.emulator.client import EmulatorClient  # pylint: disable=import-outside-toplevel

    with open(os.environ['VAULTLOCK_EMULATOR_ENDPOINT'], encoding='utf-8') as handle:
        return EmulatorClient(json.load(handle))


class ActionModule(ActionBase):
    """Resets the emulator, loads a fleet, sets or clears faults and settings, reads stored documents."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        unknown = set(args) - {'reset', 'load_fleet', 'generate', 'clear_faults', 'faults', 'settings', 'clock', 'read'}
        if unknown:
            raise AnsibleActionFail('vaultlock_test_emulator: unknown arguments %s' % ', '.join(sorted(unknown)))
        client = _client()
        done = []
        try:
            if args.get('reset'):
                client.reset(keep_journal=True)
                done.append('reset')
            if args.get('load_fleet'):
                result['fleet'] = client.load_fleet(args['load_fleet'], keep_journal=True)
                done.append('load_fleet')
            if args.get('generate'):
                result['generated'] = client.generate(keep_journal=True, **args['generate'])
                done.append('generate')
            if args.get('clear_faults'):
                client.clear_faults()
                done.append('clear_faults')
            for fault in args.get('faults') or []:
                client.fault(**fault)
                done.append('fault')
            if args.get('settings'):
                result['settings'] = client.settings(**args['settings'])
                done.append('settings')
            if args.get('clock'):
                result['clock'] = client.clock(**args['clock'])
                done.append('clock')
            if args.get('read'):
                result['resources'] = client.resources(args['read'])
        except RuntimeError as exc:
            raise AnsibleActionFail('vaultlock_test_emulator after %s: %s' % (done, exc)) from exc
        result['done'] = done
        result['changed'] = False
        return result
