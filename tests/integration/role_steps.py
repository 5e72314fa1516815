# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harden_backup_vaults role's steps (check, apply, check again...) as blocks of one ansible-playbook run (issue 24).

Each step imports the role with the step's variables, in a block with the step's ``check_mode`` and ``diff`` (what
``--check`` and ``--diff`` did for a run of its own) and a rescue that keeps what failed, so a step that fails (the role's
fail_on_error, fail_on_drift) does not end the run. A debug task named after the step marks where it starts: the
journal_marks callback (Runner.play with ``marks=``) gives each step its span of the emulator's journal, and the step's
part of the output is the text from its marker to the next one. The role decides check mode from its planning task
(``harden_plan`` returns ``check_mode``), so a step's ``check_mode`` is a check run of the role as ``--check`` is.

A step's result reads like a run of its own (``Harden`` in test_harden_role.py): ``failed`` where a run had ``rc != 0``,
``output``, ``report``, ``markdown``, ``junit``, ``vault(name)``, plus ``writes`` and ``requests``, what
``emulator.writes()`` and ``emulator.journal()`` said after a run of its own.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from tests.emulator.client import is_write
from tests.integration.conftest import Snapshot

ROLE = 'vaultlock.azure.harden_backup_vaults'


def step(name, check=False, diff=False, **variables):
    """One step: its name (a register name: letters, digits, _), check and diff mode, and the role's variables."""
    return {'name': name, 'check': check, 'diff': diff, 'variables': variables}


def role_case(name, report_dir, role_vars=None):
    """A block that imports the role (its vars: role_vars and report_dir) and sets the fact ``name`` on the host: passed, or
    what failed (the failed task's name and result), so that one run tries several cases."""
    variables = dict(role_vars or {}, harden_backup_vaults_report_dir=report_dir)
    return {'name': name, 'block': [
        {'name': '%s: the role' % name, 'ansible.builtin.import_role': {'name': ROLE}, 'vars': variables},
        {'name': '%s: passed' % name, 'ansible.builtin.set_fact': {name: {'failed': False}}},
    ], 'rescue': [
        {'name': '%s: failed' % name, 'ansible.builtin.set_fact': {
            name: {'failed': True, 'task': '{{ ansible_failed_task.name }}', 'result': '{{ ansible_failed_result }}'}}},
    ]}


class ReportFiles:
    """The five reports of a role run (``report_dir``), read when asked."""

    report_dir = None

    @property
    def report(self):
        return json.loads((self.report_dir / 'drift.json').read_text())

    @property
    def markdown(self):
        return (self.report_dir / 'drift.md').read_text()

    @property
    def junit(self):
        return ET.fromstring((self.report_dir / 'drift.junit.xml').read_text())

    def vault(self, name):
        return [v for v in self.report['vaults'] if v['name'] == name][0]


class StepRun(ReportFiles):
    def __init__(self, name, failed, output, report_dir, requests, after):
        self.name = name
        self.after = after              # Snapshot: the resources given to play_role_steps as the step left them
        self.failed = failed            # the failed result of the role's task that failed, or None
        self.output = output            # this step's part of the run's output
        self.report_dir = report_dir
        self.requests = requests        # the ARM requests this step sent (its span of the emulator's journal)

    @property
    def writes(self):
        return [e for e in self.requests if is_write(e)]


def role_step_tasks(tmp_path, item):
    """The tasks of one step (``step()``): a debug task registered as ``NAME__start`` that marks where the step starts, then
    the role in a block with the step's check_mode and diff, whose rescue keeps what failed (``NAME__failed``). Returns
    (the tasks, the step's report directory under tmp_path)."""
    name = item['name']
    report_dir = tmp_path / ('reports-%s' % name)
    variables = dict(item['variables'])
    variables.setdefault('harden_backup_vaults_report_dir', str(report_dir))
    block = {'name': 'the role, step %s' % name,
             'block': [{'name': 'the role', 'ansible.builtin.import_role': {'name': ROLE}, 'vars': variables}],
             'rescue': [{'name': 'step %s failed' % name, 'ansible.builtin.debug': {'var': 'ansible_failed_result'},
                         'register': '%s__failed' % name}]}
    if item['check']:
        block['check_mode'] = True
    if item['diff']:
        block['diff'] = True
    start = {'name': 'step %s' % name, 'ansible.builtin.debug': {'msg': 'step %s' % name}, 'register': '%s__start' % name}
    return [start, block], report_dir


def play_role_steps(runner, steps, args=(), extra_env=None, resources=(), play_extra=None):
    """Play the steps in one ansible-playbook run; returns (the PlaybookRun, {step name: StepRun}).

    ``resources``: ARM ids whose stored documents each step's ``after`` holds as the step left them (what
    ``emulator.resource(id)`` said after a run of its own). Clear the emulator's journal before: the journal positions
    count from its start (Runner.play with ``marks=``). ``play_extra``: keywords of the play (its ``module_defaults``, say).
    """
    tasks = []
    report_dirs = {}
    for item in steps:
        step_tasks, report_dirs[item['name']] = role_step_tasks(runner.tmp_path, item)
        tasks.extend(step_tasks)
    tasks.append(steps_end_task(steps))
    run = runner.play(tasks, list(args), extra_env=extra_env, ignore_errors=False, marks=list(resources),
                      play_extra=dict(play_extra or {}, vars={'ansible_python_interpreter': '{{ ansible_playbook_python }}'}))
    assert run.rc == 0, run.output[-4000:]
    return run, step_runs(run, [item['name'] for item in steps], report_dirs)


def steps_end_task(steps, suffix=''):
    """The task after the steps (``steps end`` + suffix, registered ``steps__end`` + suffix): the rescues' results are
    registered inside blocks, which the runs do not collect, so this task gathers them."""
    failures = '{{ {%s} }}' % ', '.join("'%s': (%s__failed | default(None))" % (i['name'], i['name']) for i in steps)
    return {'name': 'steps end%s' % suffix, 'ansible.builtin.debug': {'msg': failures}, 'register': 'steps__end%s' % suffix}


def step_runs(run, names, report_dirs, suffix=''):
    """{step name: StepRun}: each step of a run read as a run of its own, from its span of the journal and of the output
    up to the next step's start (or the steps_end_task with that suffix)."""
    end = 'steps__end%s' % suffix
    results = {}
    for index, name in enumerate(names):
        following = '%s__start' % names[index + 1] if index + 1 < len(names) else end
        start, stop = run.marks['%s__start' % name]['start'], run.marks[following]['start']
        text = run.stdout.split('TASK [step %s]' % name, 1)[1]
        text = text.split('TASK [step %s]' % names[index + 1], 1)[0] if index + 1 < len(names) else text.split('TASK [steps end%s]' % suffix, 1)[0]
        failed = run[end]['msg'][name]
        results[name] = StepRun(name, failed['ansible_failed_result'] if failed and not failed.get('skipped') else None,
                                text, report_dirs[name], run.journal[start:stop], Snapshot(run.marks[following]['resources']))
    return results
