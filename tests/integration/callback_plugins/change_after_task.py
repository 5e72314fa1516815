# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test callback: someone else changes Azure while a playbook runs, right after a named task.

Not part of the collection (tests/ is not built). tests/integration/test_discovery_sources.py enables it with
ANSIBLE_CALLBACK_PLUGINS=tests/integration/callback_plugins and ANSIBLE_CALLBACKS_ENABLED=change_after_task. When the
first task whose name ends with VAULTLOCK_CHANGE_AFTER returns, it sends the ARM requests of VAULTLOCK_CHANGES (a JSON
list of {method, path, api_version, body}) to the emulator of VAULTLOCK_EMULATOR_ENDPOINT (its endpoint file), with a
token the emulator mints, and writes the status of each to VAULTLOCK_CHANGES_OUT. So the state of a vault in ARM changes
between the read that planned a run (discovery) and the tasks that change vaults.
"""

from __future__ import annotations

import json
import os
import sys

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r'''
name: change_after_task
type: aggregate
short_description: Change the emulator's Azure after a named task (vaultlock.azure tests)
description: Sends the ARM requests of E(VAULTLOCK_CHANGES) to the emulator when the task named by E(VAULTLOCK_CHANGE_AFTER) returns.
requirements: [enable with ANSIBLE_CALLBACKS_ENABLED]
'''


class CallbackModule(CallbackBase):
    """Changes the emulator's state once, after the named task."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'change_after_task'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._done = False

    def v2_runner_on_ok(self, result):
        after = os.environ.get('VAULTLOCK_CHANGE_AFTER')
        if self._done or not after or not result._task.get_name().endswith(after):
            return
        self._done = True
        repo = os.environ['VAULTLOCK_REPO']
        if repo not in sys.path:
            sys.path.insert(0, repo)
        from tests.emulator.client import EmulatorClient  # pylint: disable=import-outside-toplevel

        with open(os.environ['VAULTLOCK_EMULATOR_ENDPOINT'], encoding='utf-8') as handle:
            client = EmulatorClient(json.load(handle))
        statuses = []
        for change in json.loads(os.environ['VAULTLOCK_CHANGES']):
            answer = client.arm_request(change['method'], change['path'], change['api_version'], body=change.get('body'))
            statuses.append({'path': change['path'], 'method': change['method'], 'status': answer.status_code})
        with open(os.environ['VAULTLOCK_CHANGES_OUT'], 'w', encoding='utf-8') as handle:
            json.dump(statuses, handle)
