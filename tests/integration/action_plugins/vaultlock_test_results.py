# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test action: writes the registered results of a test playbook to a file, on the controller.

Not part of the collection (tests/ is not built). The Runner of tests/integration/conftest.py ends every playbook it
writes with this task (``ANSIBLE_ACTION_PLUGINS`` points here). It replaces an ``ansible.builtin.copy`` of the same
content: copy runs its module in a Python process of its own (AnsiballZ), about 0.8 s of CPU per playbook run, only to
write a file the test reads; this action writes it in the task worker. It sends nothing to Azure or the emulator and
changes nothing the tests assert on: ``content`` is the same templated JSON text copy wrote.

Arguments: ``content`` (text, written as it is) and ``dest`` (the file); ``remove`` (optional, a list of files): deleted
once ``dest`` is written (a report the next part of a shared run must write anew, test_doc_plays.py).
"""

from __future__ import annotations

import json
import os

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Writes ``content`` to ``dest``."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        content = args['content']
        if not isinstance(content, str):
            # ansible-core before 2.19 may template a JSON text (a file read with lookup) into the data it holds.
            content = json.dumps(content)
        with open(args['dest'], 'w', encoding='utf-8') as handle:
            handle.write(content)
        for path in args.get('remove') or []:
            if os.path.exists(path):
                os.remove(path)
        result['changed'] = False
        return result
