# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several plays in one ansible-playbook run (issue 24, eighth round).

``Runner.play`` writes one play; ``role_steps.play_role_steps`` one play of the role's steps. Tests whose runs differ only
by a play keyword (a play's ``module_defaults``) or mix role steps with tasks of the collection's actions on the same fleet
can be plays of one playbook instead: ``Batch`` writes them, with the journal_marks callback on, and runs
``ansible-playbook`` once. Each play keeps its own keywords, so what a play of its own tested (``module_defaults`` of the
play, say) is still what runs.

- ``batch.tasks(tasks, **play_keywords)``: a play of tasks, each with a register of its own (``conftest.part``); like
  ``Runner.play``, every task ignores errors unless it says otherwise, and ``run[register]``, ``run.writes(register)`` and
  ``run.after(register)`` read it.
- ``batch.role_steps(steps, **play_keywords)``: a play of the role's steps (``role_steps.step``), each read back as
  ``run.steps[name]``, a ``role_steps.StepRun`` as ``play_role_steps`` gives it (a step that fails is rescued and kept).

Register names and step names must be unique across the whole batch.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import yaml

from tests.integration.conftest import PlaybookRun, Snapshot, collect_results
from tests.integration.role_steps import StepRun, role_step_tasks

CALLBACKS = pathlib.Path(__file__).resolve().parent / 'callback_plugins'
REPO = pathlib.Path(__file__).resolve().parents[2]


class BatchRun(PlaybookRun):
    """The PlaybookRun of the whole batch, plus ``steps``: {step name: StepRun} of its role steps, and ``tmp_path``: the
    runner's directory (where the tasks were told to write)."""

    steps = None
    tmp_path = None


class Batch:
    """Plays added one by one, then played in one ansible-playbook run (``play``)."""

    def __init__(self, runner):
        self.runner = runner
        self.plays = []
        self.names = []             # every register, for the results play
        self.groups = []            # the role steps of each role-steps play: (group index, [step names], {name: report dir})

    def tasks(self, tasks, **play_keywords):
        body = []
        for task in tasks:
            task = dict(task)
            assert 'register' in task, task
            task.setdefault('ignore_errors', True)
            self.names.append(task['register'])
            body.append(task)
        self._add(body, play_keywords)
        return self

    def role_steps(self, steps, **play_keywords):
        """The steps as play_role_steps plays them: a debug task marks where each starts, the role in a block with the
        step's check_mode and diff, a rescue keeps what failed; the play's last task gathers the rescues' results."""
        group = len(self.groups)
        report_dirs = {}
        body = []
        for item in steps:
            step_tasks, report_dirs[item['name']] = role_step_tasks(self.runner.tmp_path, item)
            body.extend(step_tasks)
            self.names.append('%s__start' % item['name'])
        failures = '{{ {%s} }}' % ', '.join("'%s': (%s__failed | default(None))" % (i['name'], i['name']) for i in steps)
        body.append({'name': 'steps end %d' % group, 'ansible.builtin.debug': {'msg': failures}, 'register': 'steps__end_%d' % group})
        self.names.append('steps__end_%d' % group)
        play_keywords = dict(play_keywords)
        play_keywords.setdefault('vars', {})
        play_keywords['vars'] = dict(play_keywords['vars'], ansible_python_interpreter='{{ ansible_playbook_python }}')
        self._add(body, play_keywords)
        self.groups.append((group, [item['name'] for item in steps], report_dirs))
        return self

    def _add(self, body, play_keywords):
        play = {'name': 'play %d' % len(self.plays), 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': body}
        play.update(play_keywords)
        self.plays.append(play)

    def play(self, marks=(), args=(), extra_env=None):
        """Run the plays (and a last one that saves every registered result); ``marks``: the ARM ids whose stored documents
        each marked task's ``after`` holds. Clear the emulator's journal before: positions count from its start."""
        runner = self.runner
        runner.count += 1
        tag = 'batch-%d' % runner.count
        marks_out = runner.tmp_path / ('marks-%s.jsonl' % tag)
        endpoint = runner.tmp_path / ('endpoint-%s.json' % tag)
        endpoint.write_text(json.dumps(runner.emulator.endpoint))
        extra_env = dict(extra_env or {})
        enabled = [c for c in extra_env.get('ANSIBLE_CALLBACKS_ENABLED', '').split(',') if c] + ['journal_marks']
        extra_env.update({
            'ANSIBLE_CALLBACK_PLUGINS': str(CALLBACKS), 'ANSIBLE_CALLBACKS_ENABLED': ','.join(enabled),
            'VAULTLOCK_REPO': str(REPO), 'VAULTLOCK_EMULATOR_ENDPOINT': str(endpoint),
            'VAULTLOCK_MARKS_OUT': str(marks_out), 'VAULTLOCK_MARK_RESOURCES': json.dumps(list(marks)),
        })
        out = runner.tmp_path / ('results-%s.json' % tag)
        collect = '{{ {%s} | to_json }}' % ', '.join("'%s': (%s | default(None))" % (n, n) for n in self.names)
        last = {'name': 'results', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
                'tasks': [collect_results(collect, out)]}
        path = runner.tmp_path / ('play-%s.yml' % tag)
        path.write_text(yaml.safe_dump(self.plays + [last], sort_keys=False))
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(path), *args]
        proc = subprocess.run(command, env=runner.env(extra_env), capture_output=True, text=True, timeout=600, check=False)
        results = json.loads(out.read_text()) if out.exists() else {}
        records = [json.loads(line) for line in marks_out.read_text().splitlines()] if marks_out.exists() else []
        run = BatchRun(proc, results, None, marks={r['register']: r for r in records if r['register']}, journal=runner.emulator.journal())
        assert run.rc == 0 and out.exists(), run.output[-4000:]
        run.steps = {}
        run.tmp_path = runner.tmp_path
        for group, names, report_dirs in self.groups:
            run.steps.update(_step_runs(run, group, names, report_dirs))
        return run


def _step_runs(run, group, names, report_dirs):
    """Each step of one role-steps play read as a run of its own (what play_role_steps returns)."""
    steps = {}
    end = 'steps__end_%d' % group
    for index, name in enumerate(names):
        following = '%s__start' % names[index + 1] if index + 1 < len(names) else end
        start, stop = run.marks['%s__start' % name]['start'], run.marks[following]['start']
        text = run.stdout.split('TASK [step %s]' % name, 1)[1]
        if index + 1 < len(names):
            text = text.split('TASK [step %s]' % names[index + 1], 1)[0]
        else:
            text = text.split('TASK [steps end %d]' % group, 1)[0]
        failed = run[end]['msg'][name]
        steps[name] = StepRun(name, failed['ansible_failed_result'] if failed and not failed.get('skipped') else None,
                              text, report_dirs[name], run.journal[start:stop], Snapshot(run.marks[following]['resources']))
    return steps
