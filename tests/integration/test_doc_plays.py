# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every example play of README.md and docs/*.md applies as written, with an interpreter that has no Azure SDK.

Users run their plays as the docs do (``ansible-playbook -i localhost, play.yml``), without setting
``ansible_python_interpreter``; the discovered Python of localhost (/usr/bin/python3, say) seldom has the Azure SDKs.
Each play found in the docs (a YAML code block that is a list of plays, each with ``hosts:``) runs unchanged, check
mode then apply, with ANSIBLE_PYTHON_INTERPRETER set to a virtualenv without any package: a task of the collection
that still needed the SDKs in the target's Python fails. Only the authentication comes from the emulator (its
``AZURE_*`` variables), and the emulator holds the vaults, resource groups and subscriptions the examples name.
The ``import_role`` examples of docs/role.md run the same way, as the tasks of a user's play on localhost.

Check mode and apply are parts of one ansible-playbook run for all of them (issue 24, ``doc_run``): per example, a play
that loads the examples' fleet afresh, the plays with ``check_mode`` and ``diff`` set on each play (what ``--check
--diff`` does to every task of a run), a marker play, then the plays as written (a file of their own, imported). The
journal_marks callback gives the markers' places in the emulator's journal, so each example's check and apply requests
are its own. A role example that fails the check run on purpose (``harden_backup_vaults_fail_on_drift``) would end the
run there: its check and apply stay two runs of their own.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

from tests.emulator import tokens
from tests.emulator.client import is_write
from tests.integration.conftest import REPO, PlaybookPart, fresh_fleet, part, results_task, step
from tests.integration.fleets import SUB1, SUB2, vault_id
from tests.integration.test_module_examples import examples_fleet

DOCS = [REPO / 'README.md'] + sorted((REPO / 'docs').glob('*.md'))   # docs/plugins is generated from the plugins
BLOCK = re.compile(r'^```ya?ml\n(.*?)^```', re.M | re.S)
# The pages that hold example plays (a play added elsewhere, or one this test stops finding, fails the first test).
EXPECTED = {'README.md', 'docs/role.md', 'docs/scale-out.md'}


def doc_plays():
    """[(where, text of the play)] for each YAML code block of the docs that is a list of plays."""
    found = []
    for path in DOCS:
        text = path.read_text(encoding='utf-8')
        for match in BLOCK.finditer(text):
            try:
                data = yaml.safe_load(match.group(1))
            except yaml.YAMLError:
                continue
            if isinstance(data, list) and data and all(isinstance(item, dict) and 'hosts' in item for item in data):
                line = text.count('\n', 0, match.start()) + 1
                found.append(('%s:%d' % (path.relative_to(REPO), line), match.group(1)))
    return found


def doc_block(path, starts_with):
    """The YAML code block of a doc that starts with the given text (an inventory file, say)."""
    text = (REPO / path).read_text(encoding='utf-8')
    blocks = [m.group(1) for m in BLOCK.finditer(text) if m.group(1).startswith(starts_with)]
    assert len(blocks) == 1, (path, starts_with)
    return blocks[0]


def role_snippets():
    """[(where, tasks)] for each YAML code block of docs/role.md that imports the role: tasks for a user's play."""
    text = (REPO / 'docs' / 'role.md').read_text(encoding='utf-8')
    found = []
    for match in BLOCK.finditer(text):
        data = yaml.safe_load(match.group(1))
        if isinstance(data, list) and any(isinstance(task, dict) and 'ansible.builtin.import_role' in task for task in data):
            found.append(('docs/role.md:%d' % (text.count('\n', 0, match.start()) + 1), data))
    return found


PLAYS = doc_plays()
SNIPPETS = role_snippets()


def test_the_docs_have_the_example_plays():
    assert {where.split(':')[0] for where, _text in PLAYS} == EXPECTED
    assert len(SNIPPETS) == 5


@pytest.fixture(scope='session')
def bare_python(tmp_path_factory):
    """A Python with no package at all (a virtualenv without pip): what /usr/bin/python3 is on most controllers."""
    venv = tmp_path_factory.mktemp('bare-python') / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], check=True, capture_output=True)
    python = venv / 'bin' / 'python'
    probe = subprocess.run([str(python), '-c', 'import azure.core'], capture_output=True, text=True, check=False)
    assert probe.returncode != 0, 'the bare virtualenv imports azure.core'
    return str(python)


@pytest.fixture(autouse=True)
def fleet(emulator):
    emulator.load_fleet(examples_fleet())
    emulator.clear_journal()


def bare_env(runner, bare_python, tmp_path, **extra):
    """The runner's environment with the bare Python as every host's interpreter and HOME in tmp (an example's cache)."""
    env = {'ANSIBLE_PYTHON_INTERPRETER': bare_python, 'HOME': str(tmp_path / 'home')}
    env.update(extra)
    env = runner.env(env)
    # A user's run: Ansible's own inventory plugins (an example's inventory file needs more than the runner's host list).
    env.pop('ANSIBLE_INVENTORY_ENABLED', None)
    return env


def playbook(args, env, cwd):
    exe = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    proc = subprocess.run([exe] + list(args), env=env, cwd=str(cwd), capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr


CALLBACKS = pathlib.Path(__file__).resolve().parent / 'callback_plugins'


def recap(output):
    match = re.findall(r'^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', output, re.M)
    assert match, output
    return {host: {'ok': int(ok), 'changed': int(changed), 'unreachable': int(unreachable), 'failed': int(failed)}
            for host, ok, changed, unreachable, failed in match}


def workload_identity_env(emulator, tmp_path):
    """A federated token file (the emulator accepts an assertion whose subject is a known client id)."""
    token = tmp_path / 'federated-token'
    token.write_text(tokens.encode({'sub': emulator.endpoint['client_id'], 'aud': 'api://AzureADTokenExchange'},
                                   b'an unused key: the emulator does not verify assertions'))
    return {'AZURE_FEDERATED_TOKEN_FILE': str(token)}


def immutability(emulator, name, kind, rg):
    settings = emulator.resource(vault_id(name, kind, rg=rg))['properties']['securitySettings'].get('immutabilitySettings')
    return settings.get('state') if settings else None


# The example plays and the role snippets (but the one that fails on drift) are parts of one run (``doc_run``): each part
# a play that loads the examples' fleet afresh (vaultlock_test_emulator, the journal kept), the part's plays in check mode
# with diff, a marker, its plays as written (imported from a file of their own, unchanged), and a marker that reads
# back the vaults every part asserts on. The markers' journal_marks records split the journal into each part's check and
# apply. The snippets come first: each marker copies the part's drift.json and removes it, so the next part writes its own.
CHECKED_SNIPPETS = [(where, tasks) for where, tasks in SNIPPETS
                    if not tasks[0].get('vars', {}).get('harden_backup_vaults_fail_on_drift')]
IMMUTABLE = [vault_id('rsv-prod-01', 'recovery_services', rg='rg-backup-prod'), vault_id('bv-prod', 'backup', rg='rg-backup')]


def snippet_report_dir(work, tasks):
    return work / (tasks[0].get('vars', {}).get('harden_backup_vaults_report_dir') and 'drift' or 'reports/harden_backup_vaults')


def user_play(tasks):
    """A role snippet as the tasks of a user's play on localhost (connection local, no interpreter set)."""
    return [{'name': 'A user play', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}]


class DocRun:
    """The shared run: rc, output, the journal, the marks by register, the markers' results; ``part(where)``."""

    def __init__(self, rc, output, journal, marks, results, tmp):
        self.rc, self.output, self.journal, self.marks, self.results, self.tmp = rc, output, journal, marks, results, tmp
        self.keys = {}

    def own_output(self, where):
        """The part's output: from its fresh-fleet play to the next part's (or the results play)."""
        after = self.output.split('PLAY [fresh fleet: %s]' % where, 1)[1]
        return re.split(r'^PLAY \[(fresh fleet: |results\])', after, flags=re.M)[0]

    def _span(self, begin, end):
        assert begin in self.marks and end in self.marks, (begin, end, self.output[-4000:])
        return [e for e in self.journal[self.marks[begin]['end']:self.marks[end]['start']] if is_write(e)]

    def check_writes(self, where):
        key = self.keys[where]
        return self._span(key + '__fresh', key + '__checked')

    def apply_writes(self, where):
        key = self.keys[where]
        return self._span(key + '__checked', key + '__applied')

    def immutability(self, where, arm_id):
        applied = self.results[self.keys[where] + '__applied']
        assert applied and not applied.get('failed'), (where, applied)
        settings = applied['resources'][arm_id]['properties']['securitySettings'].get('immutabilitySettings')
        return settings.get('state') if settings else None


def localhost_play(name, tasks):
    return {'name': name, 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}


@pytest.fixture(scope='module')
def doc_run(module_runner, bare_python, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('doc-run')
    work = tmp / 'work'
    work.mkdir()
    emulator = fresh_fleet(module_runner, examples_fleet())
    # CI_PROJECT_DIR: the pipeline variable a snippet writes its reports under; the federated token: a play's
    # auth_source (the snippets authenticate with the emulator's service principal, which comes first).
    env = bare_env(module_runner, bare_python, tmp, CI_PROJECT_DIR=str(work), **workload_identity_env(emulator, tmp))
    # The scale-out play runs over the vault hosts of the inventory file the same page shows.
    (work / 'vaults.backup_vaults.yml').write_text(doc_block('docs/scale-out.md', '# vaults.backup_vaults.yml'))
    fleet = examples_fleet()
    steps, names, keys = [], [], {}
    parts = [('snippet%d' % i, where, None, user_play(tasks), tasks) for i, (where, tasks) in enumerate(CHECKED_SNIPPETS)]
    parts += [('play%d' % i, where, text, yaml.safe_load(text), None) for i, (where, text) in enumerate(PLAYS)]
    for key, where, text, plays, tasks in parts:
        keys[where] = key
        (work / (key + '.yml')).write_text(text if text is not None else yaml.safe_dump(plays, sort_keys=False))
        (work / (key + '-check.yml')).write_text(yaml.safe_dump([dict(play, check_mode=True, diff=True) for play in plays],
                                                                sort_keys=False))
        checked = {'ansible.builtin.debug': {'msg': 'checked'}}
        applied = {'vaultlock_test_emulator': {'read': IMMUTABLE}, 'check_mode': False}
        if tasks is not None:
            drift = str(snippet_report_dir(work, tasks) / 'drift.json')
            checked = {'vaultlock_test_results': {'content': "{{ lookup('ansible.builtin.file', '%s') }}" % drift,
                                                  'dest': str(tmp / (key + '-check-drift.json')), 'remove': [drift]}}
            applied = [applied, {'vaultlock_test_results': {'content': "{{ lookup('ansible.builtin.file', '%s') }}" % drift,
                                                            'dest': str(tmp / (key + '-apply-drift.json')), 'remove': [drift]},
                                 'ignore_errors': True}]
        applied = applied if isinstance(applied, list) else [applied]
        applied[0] = dict(applied[0], register=key + '__applied', ignore_errors=True)
        names.append(key + '__applied')
        fresh = [{'name': 'fresh fleet', 'vaultlock_test_emulator': {'reset': True, 'load_fleet': fleet}, 'check_mode': False,
                  'register': key + '__fresh'},
                 {'meta': 'clear_host_errors'}]
        steps += [localhost_play('fresh fleet: %s' % where, fresh),
                  {'ansible.builtin.import_playbook': key + '-check.yml'},
                  localhost_play('between check and apply', [dict(checked, name='checked', register=key + '__checked',
                                                                  ignore_errors=True)]),
                  {'ansible.builtin.import_playbook': key + '.yml'},
                  localhost_play('after apply', applied)]
    out = tmp / 'results.json'
    steps.append(localhost_play('results', [results_task(names, out)]))
    (work / 'steps.yml').write_text(yaml.safe_dump(steps, sort_keys=False))
    endpoint = tmp / 'endpoint.json'
    endpoint.write_text(json.dumps(emulator.endpoint))
    marks = tmp / 'marks.jsonl'
    env = dict(env, ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS), ANSIBLE_CALLBACKS_ENABLED='journal_marks', VAULTLOCK_REPO=str(REPO),
               VAULTLOCK_EMULATOR_ENDPOINT=str(endpoint), VAULTLOCK_MARKS_OUT=str(marks))
    emulator.clear_journal()
    rc, output = playbook(['-i', 'localhost,', '-i', 'vaults.backup_vaults.yml', 'steps.yml'], env, work)
    records = [json.loads(line) for line in marks.read_text().splitlines()] if marks.exists() else []
    results = json.loads(out.read_text()) if out.exists() else {}
    run = DocRun(rc, output, emulator.journal(), {r['register']: r for r in records}, results, tmp)
    run.keys = keys
    return run


def assert_run_ok(run, where):
    own = run.own_output(where)
    assert 'Failed to import' not in own, own
    assert run.rc == 0, own + run.output[-4000:]
    assert 'Failed to import' not in run.output
    # The recap adds up every part: no failure in any.
    assert all(counts['failed'] == 0 and counts['unreachable'] == 0 for counts in recap(run.output).values()), run.output
    return own


@pytest.mark.slow
@pytest.mark.parametrize('where,text', PLAYS, ids=[where for where, _text in PLAYS])
def test_doc_play_checks_then_applies_as_written(doc_run, where, text):
    assert (doc_run.tmp / 'work' / (doc_run.keys[where] + '.yml')).read_text() == text
    own = assert_run_ok(doc_run, where)
    assert doc_run.check_writes(where) == [], own
    assert doc_run.apply_writes(where), own
    # Every example play enables immutability on rsv-prod-01 (the README by name, the role by its baseline, the
    # vault hosts play on the vaults of the group immutability_disabled).
    assert doc_run.immutability(where, IMMUTABLE[0]) == 'Unlocked', own
    if not where.startswith('README.md'):
        assert doc_run.immutability(where, IMMUTABLE[1]) == 'Unlocked', own


# The three tests below share one ansible-playbook run (``bare_run``, -vvv, the bare Python as the interpreter), each test's
# tasks a part of it (``part``): the secret's tasks, the async task, then the in-process check, diff and apply. The async
# task's failure says "Failed to import", so the in-process test looks for it in its own tasks' output only.
IN_PROCESS_TASKS = [
    {'name': 'in-process vault_immutability',
     'vaultlock.azure.vault_immutability': {'name': 'rsv-prod-01', 'resource_group': 'rg-backup-prod',
                                            'vault_type': 'recovery_services', 'immutability': 'enabled'}},
    {'name': 'in-process vault_immutability_info', 'vaultlock.azure.vault_immutability_info': {'resource_group': 'rg-two'},
     'environment': {'AZURE_SUBSCRIPTION_ID': SUB2}},
]


def secret_tasks(ep):
    auth = {'client_id': ep['client_id'], 'secret': ep['client_secret'], 'tenant': ep['tenant_id'],
            'cloud_environment': ep['arm_url'], 'subscription_id': SUB1}
    return [
        {'vaultlock.azure.vault_immutability_info': dict(auth, name='rsv-prod-01', resource_group='rg-backup-prod',
                                                         vault_type='recovery_services')},
        # A failure whose message would carry the secret (a resource group named like it).
        {'vaultlock.azure.vault_immutability_info': dict(auth, name='rsv-prod-01', resource_group=ep['client_secret'],
                                                         vault_type='recovery_services')},
    ]


MODULE_PATH_TASK = {'vaultlock.azure.vault_immutability_info': {'name': 'rsv-prod-01', 'resource_group': 'rg-backup-prod',
                                                                'vault_type': 'recovery_services'},
                    'async': 60, 'poll': 1}


@pytest.fixture(scope='module')
def bare_run(module_runner, bare_python):
    """(the shared run, rsv-prod-01's immutability state after it)."""
    emulator = fresh_fleet(module_runner, examples_fleet())
    # Check mode and diff per task (what --check --diff did for a run of their own), then the first task for real.
    in_process = [step(IN_PROCESS_TASKS[0], check=True, diff=True), step(IN_PROCESS_TASKS[1], check=True, diff=True), IN_PROCESS_TASKS[0]]
    tasks = part('secret', secret_tasks(emulator.endpoint)) + part('path', [MODULE_PATH_TASK]) + part('inproc', in_process)
    run = module_runner.play(tasks, ['-vvv'], extra_env={'ANSIBLE_PYTHON_INTERPRETER': bare_python}, marks=[])
    return run, immutability(emulator, 'rsv-prod-01', 'recovery_services', 'rg-backup-prod')


def test_in_process_task_honours_check_mode_diff_and_environment(bare_run):
    """A module task over a local connection runs in the process of ansible-playbook: check mode sends no write, --diff
    gives the module's diff, and the task's environment: decides the subscription (AZURE_SUBSCRIPTION_ID)."""
    shared, state = bare_run
    run = PlaybookPart(shared, 'inproc')
    assert run.rc == 0, run.output
    result = run['r0']
    assert result['changed'] is True and result['vault']['immutability'] == 'enabled', (result, run.output)
    assert result['diff']['before']['immutability'] == 'disabled' and result['diff']['after']['immutability'] == 'enabled'
    own_output = shared.stdout.split('TASK [in-process vault_immutability]', 1)[1]
    assert 'Failed to import' not in own_output + shared.stderr
    assert run.writes('r0') == [] and run.writes('r1') == []
    assert [v['name'] for v in run['r1']['vaults']] == ['rsv-two']
    assert run['r1']['subscriptions'] == [SUB2]

    assert run['r2']['changed'] is True, run.output
    assert [w['method'] for w in run.writes('r2')] == ['PATCH']
    assert state == 'Unlocked'


def test_secret_never_in_an_in_process_result(bare_run, emulator):
    """secret is a no_log option: an in-process task never returns it, in a result, a message or a warning."""
    shared = bare_run[0]
    run = PlaybookPart(shared, 'secret')
    ep = emulator.endpoint
    assert run['r0']['vaults'][0]['name'] == 'rsv-prod-01', run.output
    assert run['r1']['failed'] is True, run.output
    assert ep['client_secret'] not in run.output
    assert ep['client_secret'] not in str(shared.results)


def test_module_path_says_what_to_set_when_the_target_lacks_the_sdks(bare_run, bare_python):
    """async keeps the module path (an AnsiballZ process on the target); there a Python without the SDKs fails with
    what to do: requirements.txt on that host, ansible_python_interpreter, or localhost."""
    run = PlaybookPart(bare_run[0], 'path')
    result = run['r0']
    assert result['failed'] is True, run.output
    msg = result['msg']
    assert 'Failed to import the required Python library (azure-' in msg, msg
    assert bare_python in msg and 'requirements.txt' in msg and 'ansible_python_interpreter' in msg and 'localhost' in msg, msg
    assert run.writes('r0') == []


@pytest.mark.slow
@pytest.mark.parametrize('where,tasks', SNIPPETS, ids=[where for where, _tasks in SNIPPETS])
def test_role_snippet_checks_then_applies_in_a_users_play(runner, emulator, bare_python, tmp_path, where, tasks, request):
    """Each import_role example of docs/role.md, unchanged, as the tasks of a user's play on localhost (connection
    local, no interpreter set): check mode, then apply. The role's own end-of-run failure on remaining drift is what an
    example with harden_backup_vaults_fail_on_drift asks for; any error in the reports is not."""
    fails_on_drift = bool(tasks[0].get('vars', {}).get('harden_backup_vaults_fail_on_drift'))
    if not fails_on_drift:
        # A part of doc_run; its check's drift.json and its apply's were copied by the markers after them.
        run = request.getfixturevalue('doc_run')
        assert yaml.safe_load((run.tmp / 'work' / (run.keys[where] + '.yml')).read_text()) == user_play(tasks)
        own = assert_run_ok(run, where)
        for drift in (run.tmp / (run.keys[where] + '-check-drift.json'), run.tmp / (run.keys[where] + '-apply-drift.json')):
            assert json.loads(drift.read_text())['summary']['errors'] == 0, own
        assert run.check_writes(where) == [], own
        assert run.apply_writes(where), own
        return
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'play.yml').write_text(yaml.safe_dump(user_play(tasks), sort_keys=False))
    # CI_PROJECT_DIR: the pipeline variable an example writes its reports under.
    env = bare_env(runner, bare_python, tmp_path, CI_PROJECT_DIR=str(work))
    report_dir = snippet_report_dir(work, tasks)
    # Its check run fails on purpose at its end: the apply would not run after it in the same run.
    for args in (['--check', '--diff'], []):
        rc, output = playbook(['-i', 'localhost,', 'play.yml'] + args, env, work)
        assert 'Failed to import' not in output, output
        summary = json.loads((report_dir / 'drift.json').read_text())['summary']
        assert summary['errors'] == 0, output
        counts = recap(output)['localhost']
        if rc != 0:
            assert summary['drifting'] > 0 and counts['failed'] == 1, output
            assert 'Fail on errors or remaining drift' in output, output
        if args:
            assert emulator.writes() == [], output
    assert emulator.writes(), output
