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
  ``run.after(register)`` read it. An ``import_role`` registers nothing: it goes without a register, and ignores errors
  only when it says so (registered tasks before and after it mark its span: ``PartState``). ``name=`` names the play, whose
  output ``play_output(run, name)`` reads.
- ``batch.role_steps(steps, **play_keywords)``: a play of the role's steps (``role_steps.step``), each read back as
  ``run.steps[name]``, a ``role_steps.StepRun`` as ``play_role_steps`` gives it (a step that fails is rescued and kept).
- ``batch.emulator(reset=..., load_fleet=..., clear_faults=..., faults=..., settings=..., clock=...)``: a play of one task that
  changes the emulator before the next play (action_plugins/vaultlock_test_emulator.py), in check mode off, the journal
  kept: parts that needed another fleet, faults or settings share the run. It also clears the host's errors, so a part
  that failed does not take localhost out of the plays after it.

Register names and step names must be unique across the whole batch.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import yaml

from tests.emulator.client import is_write
from tests.integration.conftest import PlaybookRun, results_task
from tests.integration.role_steps import role_step_tasks, step_runs, steps_end_task


IMPORTS = {'ansible.builtin.import_role', 'import_role'}


def play_output(run, name):
    """The output of the play named ``name`` (``batch.tasks(..., name=name)``): its stdout, from its PLAY line to the next
    play's, and the whole run's stderr (Ansible's warnings and errors, which name no play)."""
    header = 'PLAY [%s]' % name
    assert run.stdout.count(header) == 1, (header, run.stdout[-4000:])
    return re.split(r'^PLAY \[', run.stdout.split(header, 1)[1], flags=re.M)[0] + run.stderr


class BatchRun(PlaybookRun):
    """The PlaybookRun of the whole batch, plus ``steps``: {step name: StepRun} of its role steps, and ``tmp_path``: the
    runner's directory (where the tasks were told to write)."""

    steps = None
    tmp_path = None


class PartState:
    """What a part of a shared run (tasks registered ``first`` to ``last``) left, read like an EmulatorClient after a run
    of its own: ``journal()`` is the part's span of the journal (from ``first``'s start to ``last``'s end), ``writes()`` its
    writes, ``resource(id)`` a marked document right after ``last``. Helpers written for the emulator
    (``state(emulator, name)``) read it as is."""

    def __init__(self, run, first, last):
        self.run, self.first, self.last = run, first, last

    def journal(self):
        return self.run.journal[self.run.marks[self.first]['start']:self.run.marks[self.last]['end']]

    def writes(self):
        return [e for e in self.journal() if is_write(e)]

    def resource(self, arm_id):
        return self.run.after(self.last).resource(arm_id)


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
            if IMPORTS & set(task):
                assert 'register' not in task, task
            else:
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
        body.append(steps_end_task(steps, '_%d' % group))
        self.names.append('steps__end_%d' % group)
        play_keywords = dict(play_keywords)
        play_keywords.setdefault('vars', {})
        play_keywords['vars'] = dict(play_keywords['vars'], ansible_python_interpreter='{{ ansible_playbook_python }}')
        self._add(body, play_keywords)
        self.groups.append((group, [item['name'] for item in steps], report_dirs))
        return self

    def emulator(self, register=None, **changes):
        """A play that changes the emulator (vaultlock_test_emulator's arguments) before the plays added after it;
        ``register``: its result is kept under that name (what ``settings`` answered, say)."""
        task = {'name': 'emulator %s' % ', '.join(sorted(changes)), 'vaultlock_test_emulator': changes, 'check_mode': False}
        if register:
            task['register'] = register
            self.names.append(register)
        self._add([task, {'meta': 'clear_host_errors'}], {})
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
        extra_env, marks_out = runner.with_marks(tag, list(marks), extra_env)
        out = runner.tmp_path / ('results-%s.json' % tag)
        last = {'name': 'results', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
                'tasks': [results_task(self.names, out)]}
        path = runner.tmp_path / ('play-%s.yml' % tag)
        path.write_text(yaml.safe_dump(self.plays + [last], sort_keys=False))
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(path), *args]
        proc = subprocess.run(command, env=runner.env(extra_env), capture_output=True, text=True, timeout=600, check=False)
        run = runner.finished(proc, out, marks_out, BatchRun)
        assert run.rc == 0 and out.exists(), run.output[-4000:]
        run.steps = {}
        run.tmp_path = runner.tmp_path
        for group, names, report_dirs in self.groups:
            run.steps.update(step_runs(run, names, report_dirs, '_%d' % group))
        return run
