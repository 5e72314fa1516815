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

from tests.emulator.client import EmulatorClient, is_write
from tests.integration import scheduling

REPO = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / '.cache' / 'collections'
ACTION_PLUGINS = pathlib.Path(__file__).resolve().parent / 'action_plugins'


@pytest.fixture(scope='session', autouse=True)
def fork_freeze():
    """Every Python process the tests start loads fork_freeze/sitecustomize.py (gc.freeze before each fork of
    ansible-playbook; its docstring says why and what it saves), but no pytest process does.

    Set when the first integration test starts, in the process that runs it, not when this file is imported: pytest
    imports it in the process that starts the pytest-xdist workers too (a run of tests/unit and tests/integration at
    once), whose workers would then inherit it, and a unit test that forks (test_apply_journal, test_harden_run) would
    leave its worker's objects frozen for the tests after it (test_controller_action counts on nothing frozen).
    """
    os.environ['PYTHONPATH'] = os.pathsep.join(path for path in (str(REPO / 'tests' / 'integration' / 'fork_freeze'),
                                                                 os.environ.get('PYTHONPATH')) if path)


def pytest_configure(config):
    """pytest-xdist hands out the files in the collection's order (what --no-loadscope-reorder does), the order below,
    where it would order them by their number of tests. Set here, not in pytest.ini: a run of tests/unit alone keeps
    xdist's own order."""
    if hasattr(config.option, 'loadscopereorder'):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items):
    """Longest files first (scheduling.py, file_weights.json): under pytest-xdist's --dist loadfile no worker is left
    with a long file while the other has run out of work."""
    order = {nodeid: index for index, nodeid in enumerate(scheduling.ordered([item.nodeid for item in items], scheduling.load_weights()))}
    items.sort(key=lambda item: order[item.nodeid])


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


def step(task, check=False, diff=False):
    """A task as one step of a merged playbook: ``check`` and ``diff`` do for this task what --check and --diff did for
    a whole ansible-playbook run (per-task ``check_mode`` and ``diff``)."""
    task = dict(task)
    if check:
        task['check_mode'] = True
    if diff:
        task['diff'] = True
    return task


def collect_results(content, dest):
    """The last task of a test playbook: writes ``content`` (the registered results as JSON text) to ``dest``.

    vaultlock_test_results (action_plugins/, on ``ANSIBLE_ACTION_PLUGINS`` of ``Runner.env``) writes it in the task
    worker; ansible.builtin.copy, which did this before, started a Python process for its module in every run.
    """
    return {'name': 'collect results', 'vaultlock_test_results': {'content': content, 'dest': str(dest)},
            'check_mode': False, 'diff': False}


def results_task(names, dest):
    """collect_results of the registered results ``names`` (each None where its task did not register)."""
    return collect_results('{{ {%s} | to_json }}' % ', '.join("'%s': (%s | default(None))" % (n, n) for n in names), dest)


class Snapshot:
    """The stored documents of the marked resources right after one task (``PlaybookRun.after``)."""

    def __init__(self, resources):
        self.resources = resources

    def resource(self, arm_id):
        """Like EmulatorClient.resource: the stored document, None when there is none."""
        return self.resources[arm_id]


class PlaybookRun:
    def __init__(self, proc, results, report_dir, marks=None, journal=None, tokens=None):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.results = results
        self.report_dir = report_dir
        self.marks = marks          # register -> the journal_marks record of that task (play(..., marks=...))
        self.journal = journal      # the emulator's journal after the run (play(..., marks=...))
        self.tokens = tokens        # its token journal after the run (play(..., marks=...))

    def __getitem__(self, key):
        return self.results[key]

    @property
    def output(self):
        return self.stdout + self.stderr

    def _mark(self, key):
        assert self.marks is not None, 'play(..., marks=...) records where each task starts and ends'
        return self.marks[key]

    def requests(self, key):
        """The ARM requests the task registered as ``key`` sent (its span of the emulator's journal)."""
        mark = self._mark(key)
        return self.journal[mark['start']:mark['end']]

    def writes(self, key):
        """Like EmulatorClient.writes, for the task registered as ``key`` only."""
        return [e for e in self.requests(key) if is_write(e)]

    def token_requests(self, first, last=None):
        """The token requests sent from the start of the task registered as ``first`` to the end of ``last`` (default
        ``first``): their span of the emulator's token journal."""
        return self.tokens[self._mark(first)['token_start']:self._mark(last or first)['token_end']]

    def after(self, key):
        """The marked resources as the emulator stored them right after the task registered as ``key``."""
        return Snapshot(self._mark(key)['resources'])


def fresh_fleet(runner, fleet):
    """The runner's emulator reset, with ``fleet`` loaded and an empty journal (a module-scoped playbook's start)."""
    emulator = runner.emulator
    emulator.reset()
    emulator.load_fleet(fleet)
    emulator.clear_journal()
    return emulator


def part(prefix, tasks):
    """The tasks of one test (or one parameter of a test) in a playbook shared with others: registered as PREFIX_r0,
    PREFIX_r1, ... where a playbook of their own registered them r0, r1, ... (read them back with ``PlaybookPart``)."""
    return [dict(task, register='%s_r%d' % (prefix, index)) for index, task in enumerate(tasks)]


class PlaybookPart:
    """One test's tasks (``part``) of a shared PlaybookRun, read as a run of its own: ``part['r1']``, ``part.writes('r1')``,
    ``part.after('r1')``. ``rc`` and ``output`` are the whole run's (every task of a test run registers ignore_errors)."""

    def __init__(self, run, prefix):
        self.run = run
        self.prefix = prefix

    @property
    def rc(self):
        return self.run.rc

    @property
    def output(self):
        return self.run.output

    def _key(self, key):
        return '%s_%s' % (self.prefix, key)

    def __getitem__(self, key):
        return self.run[self._key(key)]

    def requests(self, key):
        return self.run.requests(self._key(key))

    def writes(self, key):
        return self.run.writes(self._key(key))

    def after(self, key):
        return self.run.after(self._key(key))


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
            # Every playbook here runs on localhost (-i localhost, or the implicit localhost): only the host list plugin,
            # instead of loading every enabled inventory plugin's documentation for its options (about 0.25 s of each run).
            # A test of an inventory source (the collection's inventory plugin) sets its own.
            'ANSIBLE_INVENTORY_ENABLED': 'host_list',
            'ANSIBLE_HOME': str(self.tmp_path / 'ansible-home'),
            # vaultlock_test_results (action_plugins/): the last task of a written playbook, which saves its results.
            'ANSIBLE_ACTION_PLUGINS': str(ACTION_PLUGINS),
            # Fast LRO polling against the emulator (it also answers Retry-After: 0).
            'PATH': os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', ''),
        })
        env.update(extra or {})
        return env

    def play(self, tasks, args=(), extra_env=None, play_extra=None, ignore_errors=True, marks=None):
        """Run tasks; every task is registered as r<i>. Returns a PlaybookRun.

        marks: a list of ARM ids (may be empty) turns on the journal_marks callback (callback_plugins/): the run then
        knows each task's requests (``run.writes('r1')``) and the stored documents of those ids after each task
        (``run.after('r1').resource(arm_id)``), so one playbook of check mode, apply and apply again (per-task
        ``check_mode``) asserts what three runs did. The journal positions count from the start of the emulator's journal:
        clear it before the run.
        """
        self.count += 1
        extra_env, marks_out = self.with_marks(str(self.count), marks, extra_env)
        out = self.tmp_path / ('results-%d.json' % self.count)
        body = []
        names = []
        for index, task in enumerate(tasks):
            task = dict(task)
            if 'block' not in task:     # a block has no result to register (tests/integration/role_steps.py)
                task.setdefault('register', 'r%d' % index)
                names.append(task['register'])
            if ignore_errors:
                task.setdefault('ignore_errors', True)
            body.append(task)
        body.append(results_task(names, out))
        play = {'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': body}
        play.update(play_extra or {})
        path = self.tmp_path / ('play-%d.yml' % self.count)
        path.write_text(yaml.safe_dump([play], sort_keys=False))
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(path), *args]
        proc = subprocess.run(command, env=self.env(extra_env), capture_output=True, text=True, timeout=300, check=False)
        return self.finished(proc, out, marks_out)

    def with_marks(self, tag, marks, extra_env=None):
        """(extra_env with the journal_marks callback on, the file of its marks) for a run named ``tag``; with ``marks``
        None, (extra_env, None): no callback. ``marks``: the ARM ids whose stored documents each marked task's ``after``
        holds."""
        extra_env = dict(extra_env or {})
        if marks is None:
            return extra_env, None
        marks_out = self.tmp_path / ('marks-%s.jsonl' % tag)
        endpoint = self.tmp_path / ('endpoint-%s.json' % tag)
        endpoint.write_text(json.dumps(self.emulator.endpoint))
        enabled = [c for c in extra_env.get('ANSIBLE_CALLBACKS_ENABLED', '').split(',') if c] + ['journal_marks']
        extra_env.update({
            'ANSIBLE_CALLBACK_PLUGINS': str(pathlib.Path(__file__).resolve().parent / 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': ','.join(enabled),
            'VAULTLOCK_REPO': str(REPO), 'VAULTLOCK_EMULATOR_ENDPOINT': str(endpoint),
            'VAULTLOCK_MARKS_OUT': str(marks_out), 'VAULTLOCK_MARK_RESOURCES': json.dumps(list(marks)),
        })
        return extra_env, marks_out

    def finished(self, proc, out, marks_out, run_class=PlaybookRun):
        """The run_class of a finished ansible-playbook: the results ``results_task`` saved in ``out``, and the marks and the
        emulator's journal when ``marks_out`` (with_marks) is set."""
        results = json.loads(out.read_text()) if out.exists() else {}
        if marks_out is None:
            return run_class(proc, results, None)
        records = [json.loads(line) for line in marks_out.read_text().splitlines()] if marks_out.exists() else []
        return run_class(proc, results, None, marks={r['register']: r for r in records if r['register']},
                         journal=self.emulator.journal(), tokens=self.emulator.token_journal())


@pytest.fixture
def runner(emulator, tmp_path):
    return Runner(emulator, tmp_path)


@pytest.fixture(scope='module')
def module_runner(emulator_server, tmp_path_factory):
    """A Runner for a module-scoped fixture: one playbook run whose tasks several tests of a file assert on.

    Its ``emulator`` is a client of the session's emulator that nothing resets: the fixture using it resets the emulator,
    loads its fleet and clears the journal itself before it plays, and registers each task under a name of its own, so each
    test reads its tasks' results, requests (``run.writes(name)``) and stored documents after them (``run.after(name)``).
    The ``emulator`` fixture of each test still resets the emulator before that test, after the shared run.
    """
    return Runner(EmulatorClient(emulator_server.endpoint), tmp_path_factory.mktemp('module-runner'))
