# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run real ansible-playbook against the emulator and collect what each task returned."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / '.cache' / 'collections'


def ensure_collection_link():
    """The checkout as ansible_collections/vaultlock/azure under COLLECTIONS (what `make link` does).

    Safe when several pytest-xdist workers call it at once: the link is made under a name of this process and renamed
    into place (rename replaces atomically), so no worker sees a half-made link or fails on one another made first.
    """
    link = COLLECTIONS / 'ansible_collections' / 'vaultlock' / 'azure'
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        tmp = link.with_name('.azure-link-%d' % os.getpid())
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(REPO)
        os.replace(tmp, link)
    return COLLECTIONS


class PlaybookRun:
    def __init__(self, proc, results, report_dir):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.results = results
        self.report_dir = report_dir

    def __getitem__(self, key):
        return self.results[key]

    @property
    def output(self):
        return self.stdout + self.stderr


class Runner:
    """Writes a playbook of tasks (each registered as r0, r1, ...) and runs ansible-playbook on it."""

    def __init__(self, emulator, tmp_path):
        self.emulator = emulator
        self.tmp_path = tmp_path
        self.count = 0

    def env(self, extra=None):
        env = dict(os.environ)
        for key in list(env):
            if key.startswith('AZURE_'):
                del env[key]
        env.update(self.emulator.env)
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': str(ensure_collection_link()),
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_LOCALHOST_WARNING': '0',
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_HOME': str(self.tmp_path / 'ansible-home'),
            # Fast LRO polling against the emulator (it also answers Retry-After: 0).
            'PATH': os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', ''),
        })
        env.update(extra or {})
        return env

    def play(self, tasks, args=(), extra_env=None, play_extra=None, ignore_errors=True):
        """Run tasks; every task is registered as r<i>. Returns a PlaybookRun."""
        self.count += 1
        out = self.tmp_path / ('results-%d.json' % self.count)
        body = []
        names = []
        for index, task in enumerate(tasks):
            task = dict(task)
            task.setdefault('register', 'r%d' % index)
            if ignore_errors:
                task.setdefault('ignore_errors', True)
            names.append(task['register'])
            body.append(task)
        collect = '{{ {%s} | to_json }}' % ', '.join("'%s': (%s | default(None))" % (n, n) for n in names)
        body.append({'name': 'collect results', 'ansible.builtin.copy': {'content': collect, 'dest': str(out)},
                     'check_mode': False, 'diff': False})
        play = {'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': body}
        play.update(play_extra or {})
        path = self.tmp_path / ('play-%d.yml' % self.count)
        path.write_text(yaml.safe_dump([play], sort_keys=False))
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(path)]
                              + list(args), env=self.env(extra_env), capture_output=True, text=True, timeout=300, check=False)
        results = json.loads(out.read_text()) if out.exists() else {}
        return PlaybookRun(proc, results, None)


@pytest.fixture
def runner(emulator, tmp_path):
    return Runner(emulator, tmp_path)
