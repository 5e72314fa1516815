# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harden_plan and harden_report actions used directly in a playbook (not through the role), through real
ansible-playbook, the real SDKs and the emulator: check mode plans without writing, a real run changes only the vaults
with actions and the reports say what was resolved, bad input fails before any request, module_defaults give the auth.

Few playbook runs: each test is one or two runs, and the cases of one kind share a play.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading

import pytest

from ansible_collections.vaultlock.azure.plugins.plugin_utils._apply_journal import ApplyJournal
from tests.integration.batching import Batch, PartState
from tests.integration.conftest import PlaybookPart, Runner, fresh_fleet, part, step
from tests.integration.fleets import RG, SUB1, vault, vault_id
from tests.unit.builders import SECURITY_ACTIONS_NULL

PLAN = 'vaultlock.azure.harden_plan'
REPORT = 'vaultlock.azure.harden_report'
APPLY = 'vaultlock.azure.harden_apply'
IMM = 'vaultlock.azure.vault_immutability'
REPORTS = ['drift.html', 'drift.json', 'drift.junit.xml', 'drift.md', 'drift.sarif']
# The reports and the scope record the next run compares with (plugin_utils/_scope_loss.py).
FILES = REPORTS + ['drift.scope.json']
BASELINE = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14}}
# Soft delete kept longer: a change for every vault whose soft delete is on for 14 days.
LONGER = {'soft_delete': {'state': 'on', 'retention_days': 30}}
# Longer again: changes after LONGER was applied.
LONGER_STILL = {'soft_delete': {'state': 'on', 'retention_days': 45}}


def fleet():
    """Two vaults whose immutability drifts (one of each kind), one whose soft delete is off, three compliant."""
    return {'subscriptions': [{'id': SUB1, 'display_name': 'harden-actions', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-open', 'recovery_services', 'disabled'),
            vault('bv-unset', 'backup', 'unset'),
            vault('rsv-soft-off', 'recovery_services', 'enabled', soft_delete='off'),
            vault('rsv-ok', 'recovery_services', 'enabled'),
            vault('rsv-locked', 'recovery_services', 'locked', soft_delete='always_on'),
            vault('bv-ok', 'backup', 'enabled'),
        ]}]}]}


@pytest.fixture(name='actions_fleet')
def actions_fleet_fixture(emulator):
    emulator.load_fleet(fleet())
    emulator.clear_journal()


def immutability(emulator, name, kind='recovery_services'):
    body = emulator.resource(vault_id(name, kind))
    return ((body['properties'].get('securitySettings') or {}).get('immutabilitySettings') or {}).get('state')


def no_traceback(run, result):
    """The action failed on purpose: its own message. An exception escaping an action plugin gives, in ansible-core 2.19,
    'Task failed: <the exception's text>' as the message (and a traceback with -vvv)."""
    assert 'Traceback' not in run.output, run.output[-3000:]
    assert not str(result.get('msg', '')).startswith(('Task failed', 'Unexpected failure')), result


def plan_files(tmp_path):
    """Plan files left under the runner's ANSIBLE_HOME (its local tmp)."""
    return [name for _root, _dirs, names in os.walk(tmp_path / 'ansible-home') for name in names if name.startswith('vaultlock-harden-plan-')]


@pytest.fixture(scope='module', name='plans')
def plans_fixture(module_runner):
    """The bad input test's tasks (bad_r0 to bad_r10), the check-mode test's (check_r0, check_r1: what --check --diff did
    for a run of their own, as each task's check_mode and diff), then the real run's (run_r0 to run_r3), in one
    ansible-playbook run (batching.Batch) on a fresh actions fleet: neither the bad part nor the check part writes, so the
    real part finds the fleet as a run of its own did."""
    fresh_fleet(module_runner, fleet())
    tmp_path = module_runner.tmp_path
    check = [
        step({'name': 'plan in check mode', PLAN: {'baseline': BASELINE, 'report_dir': str(tmp_path / 'reports-check')}}, check=True, diff=True),
        step({'name': 'report in check mode', REPORT: {'plan': '{{ check_r0.plan }}'}}, check=True, diff=True),
        # check_r2: applying in check mode writes nothing, and leaves the reports of r1 in place.
        step({'name': 'apply in check mode', APPLY: {'plan': '{{ check_r0.plan }}'}}, check=True),
    ]
    reports = str(tmp_path / 'reports-run')
    # An apply into reports-run that was interrupted (Ctrl-C) after it changed rsv-gone, while it was changing rsv-half: its
    # journal, as harden_apply writes it. run_r0's plan says so and keeps it aside.
    os.makedirs(reports, exist_ok=True)
    journal, _kept = ApplyJournal.start(reports, 'f' * 32, 2)
    for name, settled in (('rsv-gone', True), ('rsv-half', False)):
        entry = {'id': vault_id(name), 'name': name}
        journal.started(entry)
        if settled:
            journal.settled(entry, [('soft_delete', {'changed': True, 'changes': [{'setting': 'soft_delete', 'before': 'off', 'after': 'on'}]})])
    journal.close()
    # An earlier run's reports where run_r4's plan reports: the real apply removes them before its first write, so a run
    # cut off during its writes leaves no report describing vaults as they were (harden_report is not run here).
    earlier = tmp_path / 'reports-earlier'
    earlier.mkdir(exist_ok=True)
    # (Reports only: a scope record that says 'an earlier run' is a broken one, which harden_plan refuses.)
    for name in REPORTS + ['notes.txt']:
        (earlier / name).write_text('an earlier run')
    # Two report directories holding an earlier run's reports, and a symlink to the first.
    link, first, second = tmp_path / 'reports-link', tmp_path / 'reports-first', tmp_path / 'reports-second'
    for directory in (first, second):
        directory.mkdir(exist_ok=True)
        for name in REPORTS:
            (directory / name).write_text('an earlier run')
    if link.is_symlink():
        link.unlink()
    link.symlink_to(first, target_is_directory=True)
    real = [
        {'name': 'plan', PLAN: {'baseline': BASELINE, 'report_dir': reports}},
        {'name': 'immutability where the plan says so',
         IMM: {'id': '{{ item.id }}', 'immutability': '{{ item.actions.immutability }}'},
         'loop': '{{ run_r0.actions | selectattr("actions.immutability") | list }}', 'loop_control': {'label': '{{ item.name }}'}},
        # No soft delete task: rsv-soft-off stays drifting, and the report must say so.
        {'name': 'report', REPORT: {'plan': '{{ run_r0.plan }}', 'results': {'immutability': '{{ run_r1 }}'}}},
        # Resource Graph lags ARM (the emulator by its graph_lag_s): a plan made the moment after the writes reads ARM
        # (discovery arm), as docs/role.md tells a run that checks an apply at once to do.
        {'name': 'plan again', PLAN: {'baseline': BASELINE, 'report_dir': reports, 'discovery': 'arm'}},
        # run_r4, run_r5: plan into the earlier run's report directory, and apply for real (soft delete of rsv-soft-off).
        {'name': 'plan into the earlier reports', PLAN: {'baseline': BASELINE, 'report_dir': str(earlier)}},
        {'name': 'apply the plan', APPLY: {'plan': '{{ run_r4.plan }}'}},
        # run_r6 to run_r9: report_dir is a symlink (to reports-first), repointed (to reports-second) between the plan and
        # the apply: the apply retires, and the report writes, the reports of the directory the plan resolved.
        {'name': 'plan through a symlink', PLAN: {'baseline': {'soft_delete': {'state': 'on', 'retention_days': 30}},
                                                  'vaults': [{'id': vault_id('rsv-ok')}], 'report_dir': str(link)}},
        {'name': 'repoint the symlink', 'ansible.builtin.file': {'src': str(second), 'dest': str(link), 'state': 'link', 'force': True}},
        {'name': 'apply through the repointed symlink', APPLY: {'plan': '{{ run_r6.plan }}'}},
        {'name': 'report through the repointed symlink', REPORT: {'plan': '{{ run_r6.plan }}'}},
    ]
    return Batch(module_runner).tasks(part('bad', bad_input_tasks(tmp_path)) + part('check', check) + part('run', real)).play(
        marks=[vault_id('rsv-open'), vault_id('bv-unset', 'backup')])


def test_check_mode_plans_without_writing_and_returns_only_vaults_with_actions(plans):
    reports = plans.tmp_path / 'reports-check'
    run = PlaybookPart(plans, 'check')
    plan = run['r0']
    assert not plan.get('failed'), plan
    no_traceback(run, plan)
    assert re.fullmatch(r'[0-9a-f]{32}', plan['plan'])
    assert plan['changed'] is True
    assert sorted(entry['name'] for entry in plan['actions']) == ['bv-unset', 'rsv-open', 'rsv-soft-off']
    by_name = {entry['name']: entry for entry in plan['actions']}
    assert by_name['rsv-open']['actions']['immutability'] == 'enabled'
    assert by_name['bv-unset']['actions']['immutability'] == 'enabled'
    assert by_name['rsv-soft-off']['actions'] == {'immutability': None, 'raise_policies': [],
                                                  'soft_delete': {'state': 'on', 'retention_days': 14}, **SECURITY_ACTIONS_NULL}
    assert (plan['vaults'], plan['drifting'], plan['with_actions'], plan['errors'], plan['excluded']) == (6, 3, 3, 0, 0)
    assert plan['blocked'] == ''
    assert plan['msg'] == '3 of 6 vaults drift; a run would change 3'
    assert plan['discovery']['source_by_subscription'] == {SUB1: 'resource_graph'}
    # One diff per drifting vault, shown with --diff.
    assert sorted(diff['before_header'].split(' ')[0] for diff in plan['diff']) == ['bv-unset', 'rsv-open', 'rsv-soft-off']
    assert 'rsv-open (recovery_services' in plans.stdout.split('TASK [plan in check mode]', 1)[1].split('TASK [', 1)[0]
    # The vault records stay on the controller: `vaults` is a count, no compliant vault is named, and the result is small.
    assert isinstance(plan['vaults'], int)
    text = json.dumps(plan)
    assert 'rsv-ok' not in text and 'bv-ok' not in text and 'rsv-locked' not in text
    assert len(text) < 20000, len(text)
    # Reads only: Resource Graph queries and ARM reads reached the emulator, no write.
    assert run.requests('r0') and run.writes('r0') + run.writes('r1') + run.writes('r2') == []
    assert run['r2']['changed'] is True and not run['r2'].get('failed'), run['r2']
    assert immutability(run.after('r1'), 'rsv-open') == 'Disabled'
    # The reports are written in check mode too, and predict the changes.
    result = run['r1']
    assert not result.get('failed'), result
    assert sorted(result['files']) == FILES and sorted(os.listdir(reports)) == FILES
    report = json.loads((reports / 'drift.json').read_text())
    assert report['check_mode'] is True and result['check_mode'] is True
    assert sorted(change['name'] for change in report['changed']) == ['bv-unset', 'rsv-open', 'rsv-soft-off']
    assert (report['summary']['vaults'], report['summary']['drifting'], report['summary']['resolved']) == (6, 3, 0)
    assert result['summary'] == report['summary']
    # The plan lived only as long as the ansible-playbook run.
    assert plan_files(plans.tmp_path) == []


def test_plan_change_and_report_in_one_play(plans):
    # The real part of the plans run (run_r0 to run_r3), after the check part that wrote nothing.
    reports = plans.tmp_path / 'reports-run'
    run = PlaybookPart(plans, 'run')
    plan, changes, result, again = run['r0'], run['r1'], run['r2'], run['r3']
    assert not plan.get('failed'), plan
    assert plan['changed'] is False and 'diff' not in plan
    assert plan['msg'] == '3 of 6 vaults drift; changing 3'
    assert sorted(item['item']['name'] for item in changes['results']) == ['bv-unset', 'rsv-open']
    assert all(item['changed'] for item in changes['results'])
    # Azure: only the two vaults with an immutability action were written.
    after = run.after('r3')
    assert immutability(after, 'rsv-open') == 'Unlocked' and immutability(after, 'bv-unset', 'backup') == 'Unlocked'
    writes = [entry for key in ('r0', 'r1', 'r2', 'r3') for entry in run.writes(key)]
    written = {entry['path'].rstrip('/').split('/')[-1].lower() for entry in writes}
    assert written == {'rsv-open', 'bv-unset'}, writes
    # The report.
    assert not result.get('failed'), result
    no_traceback(run, result)
    assert result['changed'] is False and result['check_mode'] is False
    assert result['report_dir'] == os.path.realpath(str(reports))
    assert result['files'] == ['drift.json', 'drift.md', 'drift.junit.xml', 'drift.html', 'drift.sarif', 'drift.scope.json']
    # The interrupted apply's journal, found by the plan, kept aside under the time it was found.
    # (run-claim.json: the claim of the plan after it, run_r3, whose run wrote no report after it.)
    kept = [name for name in os.listdir(reports) if name not in FILES + ['run-claim.json']]
    assert len(kept) == 1 and re.fullmatch(r'apply-journal\.\d{8}T\d{6}Z\.jsonl', kept[0]), kept
    interrupted = [warning for warning in plan.get('warnings') or [] if 'earlier harden_apply' in warning]
    assert interrupted == ['an earlier harden_apply into this report directory (started %s) was interrupted (it did not finish: '
                           'Ctrl-C, a cancelled job or a killed process): it changed 1 vault(s): rsv-gone; 1 vault(s) were being '
                           'changed when it stopped, whether they changed is unknown: rsv-half; its journal (apply-journal.jsonl) '
                           'is kept as %s; this plan reads the vaults as Azure holds them now'
                           % (json.loads((reports / kept[0]).read_text().splitlines()[0])['started_at'], kept[0])], plan.get('warnings')
    report = json.loads((reports / 'drift.json').read_text())
    assert interrupted[0] in report['warnings']
    assert 'rsv-gone' in (reports / 'drift.md').read_text().split('rsv-half')[0]
    # Said once: the plan after it found no journal.
    assert not [warning for warning in again.get('warnings') or [] if 'earlier harden_apply' in warning]
    summary = report['summary']
    assert (summary['vaults'], summary['drifting'], summary['resolved'], summary['fixed'], summary['changed'], summary['errors']) == \
        (6, 1, 2, 2, 2, 0)
    assert result['summary'] == summary
    status = {v['name']: v['status'] for v in report['vaults']}
    assert status == {'rsv-open': 'fixed', 'bv-unset': 'fixed', 'rsv-soft-off': 'drift', 'rsv-ok': 'compliant',
                      'rsv-locked': 'compliant', 'bv-ok': 'compliant'}
    assert sorted(c['name'] for c in report['changed']) == ['bv-unset', 'rsv-open']
    for change in report['changed']:
        assert [(c['action'], c['setting'], c['after']) for c in change['changes']] == [('immutability', 'immutability', 'enabled')], change
    assert 'rsv-soft-off' in (reports / 'drift.md').read_text()
    # A second plan, read from ARM, sees the changes at once: only the soft delete drift is left.
    assert [entry['name'] for entry in again['actions']] == ['rsv-soft-off']
    # Its real apply removed the earlier run's reports (and only them) before it wrote.
    applied = run['r5']
    assert not applied.get('failed') and applied['changed'] is True, applied
    assert {entry['path'].lower().split('/vaults/')[1].split('/')[0] for entry in run.writes('r5')} == {'rsv-soft-off'}
    # ... and kept its journal there: no harden_report into that directory ran, so the journal (and the run's claim of the
    # directory, run-claim.json) stays for the next plan.
    assert sorted(os.listdir(plans.tmp_path / 'reports-earlier')) == ['apply-journal.jsonl', 'notes.txt', 'run-claim.json']
    lines = [json.loads(line) for line in (plans.tmp_path / 'reports-earlier' / 'apply-journal.jsonl').read_text().splitlines()]
    assert lines[0]['plan'] == run['r4']['plan'] and lines[-1]['event'] == 'ended', lines
    settled = {line['name']: line for line in lines if line.get('event') == 'settled'}
    assert sorted(settled) == sorted(line['name'] for line in lines if line.get('event') == 'started')
    assert sorted(settled) == sorted(entry['name'] for entry in run['r4']['actions']), lines
    assert settled['rsv-soft-off']['outcome'] == 'changed', lines
    assert ('soft_delete', 'on') in [(c['setting'], c['after']) for c in settled['rsv-soft-off']['changes']], lines
    assert plan_files(plans.tmp_path) == []


def test_a_report_dir_symlink_repointed_during_the_run_moves_no_report(plans):
    """harden_plan resolves report_dir once and keeps the real path in the sealed plan: harden_apply retires, and
    harden_report writes, the reports of that directory, even when the symlink was repointed between the tasks."""
    run = PlaybookPart(plans, 'run')
    first, second = plans.tmp_path / 'reports-first', plans.tmp_path / 'reports-second'
    assert not run['r6'].get('failed') and run['r6']['with_actions'] == 1, run['r6']
    assert os.readlink(plans.tmp_path / 'reports-link') == str(second)
    assert run['r8']['changed'] is True and not run['r8'].get('failed'), run['r8']
    result = run['r9']
    assert not result.get('failed'), result
    assert result['report_dir'] == os.path.realpath(str(first))
    report = json.loads((first / 'drift.json').read_text())
    assert [vault['name'] for vault in report['vaults']] == ['rsv-ok'] and report['summary']['changed'] == 1
    # The run ended with its reports: harden_report removed its apply's journal.
    assert sorted(os.listdir(first)) == FILES
    # The directory the symlink points at now was neither emptied nor written.
    assert sorted(os.listdir(second)) == REPORTS and {(second / name).read_text() for name in REPORTS} == {'an earlier run'}


def bad_input_tasks(tmp_path):
    """The tasks of test_bad_input_fails_cleanly_before_any_request (r0 to r10), each refused before any request: the first
    part of the plans run."""
    blocker = tmp_path / 'a-file'
    blocker.write_text('not a directory')
    reports = str(tmp_path / 'reports-bad')
    taken = tmp_path / 'reports-taken'
    (taken / 'drift.md').mkdir(parents=True)
    (taken / 'drift.json').write_text('an earlier run')
    return [
        # r0: an empty report_dir (an unset variable given with -e).
        {'name': 'empty report dir', PLAN: {'baseline': BASELINE, 'report_dir': ''}},
        # r1: an irreversible state without consent.
        {'name': 'lock without consent', PLAN: {'baseline': {'immutability': 'locked'}, 'report_dir': reports}},
        # r2: an option the action does not have.
        {'name': 'unknown option', PLAN: {'baseline': BASELINE, 'report_dir': reports, 'colour': 'blue'}},
        # r3: a plan id that no harden_plan task returned.
        {'name': 'no such plan', REPORT: {'plan': '0123456789abcdef0123456789abcdef'}},
        # r4: a plan id that is a path.
        {'name': 'plan id as a path', REPORT: {'plan': '../../etc/passwd'}},
        # r5: a report directory that cannot be created.
        {'name': 'report dir under a file', PLAN: {'baseline': BASELINE, 'report_dir': str(blocker / 'reports')}},
        # r6: a named vault that names nothing.
        {'name': 'half a vault', PLAN: {'baseline': BASELINE, 'report_dir': reports, 'vaults': [{'name': 'rsv-open'}]}},
        # r7: an exclusion that is not understood.
        {'name': 'bad exclusion', PLAN: {'baseline': BASELINE, 'report_dir': reports, 'exclude': ['rsv prod']}},
        # r8, r9: a subscription id in braces, and all beside an id: refused here, not at discovery (which wrote the reports).
        {'name': 'subscription in braces', PLAN: {'baseline': BASELINE, 'report_dir': reports, 'subscription_ids': ['{%s}' % SUB1]}},
        {'name': 'all and an id', PLAN: {'baseline': BASELINE, 'report_dir': reports, 'subscription_ids': ['all', SUB1]}},
        # r10: a directory where drift.md goes: the renames stopped at it after this run's drift.json, beside an earlier
        # run's other reports (check mode retires none), and a temporary file was left.
        {'name': 'a directory named drift.md', PLAN: {'baseline': BASELINE, 'report_dir': str(taken)}},
    ]


def test_bad_input_fails_cleanly_before_any_request(plans):
    """The first part of the plans run (bad_r0 to bad_r10), on the actions fleet, before any other task of the run."""
    run = PlaybookPart(plans, 'bad')
    tmp_path = plans.tmp_path
    blocker, reports, taken = tmp_path / 'a-file', str(tmp_path / 'reports-bad'), tmp_path / 'reports-taken'
    expected = [
        'report_dir is empty',
        'locked is irreversible',
        'harden_plan) module: colour. Supported parameters include',
        'no plan 0123456789abcdef0123456789abcdef on this controller',
        'plan must be the plan value a vaultlock.azure.harden_plan task returned',
        'cannot create the report directory',
        'vaults[0]: name a vault by id, or by name, resource_group and vault_type',
        'neither an id',
        "subscription_ids[0]: '{%s}' is not a subscription id" % SUB1,
        "subscription_ids[0] is 'all', which means every subscription the identity can see: give it alone",
        'drift.md, where a report goes, is a directory',
    ]
    for index, fragment in enumerate(expected):
        result = run['r%d' % index]
        assert result.get('failed') is True, (index, result)
        assert fragment in result['msg'], (index, result['msg'])
        assert result.get('changed') is False, (index, result)
        assert 'plan' not in result and 'actions' not in result, (index, result)
        no_traceback(run, result)
    # Nothing reached Azure, not even a token request (the run's journals from the first task's start to the last's end);
    # no report directory was made.
    assert PartState(plans, 'bad_r0', 'bad_r10').journal() == [] and plans.token_requests('bad_r0', 'bad_r10') == []
    assert not os.path.exists(reports) and blocker.read_text() == 'not a directory'
    assert sorted(os.listdir(taken)) == ['drift.json', 'drift.md'] and (taken / 'drift.json').read_text() == 'an earlier run'


@pytest.mark.usefixtures('actions_fleet')
def test_module_defaults_of_the_action_group_give_harden_plan_its_auth(runner, emulator, tmp_path):
    env = emulator.env
    auth = {'client_id': env['AZURE_CLIENT_ID'], 'secret': env['AZURE_SECRET'], 'tenant': env['AZURE_TENANT'],
            'subscription_id': env['AZURE_SUBSCRIPTION_ID']}
    # No credential in the environment, and auth_source=env: the task's options are the only place left to find one.
    no_credentials = {name: '' for name in ('AZURE_CLIENT_ID', 'AZURE_SECRET', 'AZURE_CLIENT_SECRET', 'AZURE_TENANT',
                                            'AZURE_TENANT_ID', 'AZURE_SUBSCRIPTION_ID')}
    no_credentials['ANSIBLE_AZURE_AUTH_SOURCE'] = 'env'
    reports = str(tmp_path / 'reports-defaults')
    run = runner.play([
        {'name': 'auth from the group', PLAN: {'baseline': BASELINE, 'report_dir': reports},
         'module_defaults': {'group/vaultlock.azure.all': auth}},
        {'name': 'no auth at all', PLAN: {'baseline': BASELINE, 'report_dir': reports}},
        {'name': 'report of that', REPORT: {'plan': '{{ r1.plan }}'}},
    ], extra_env=no_credentials)
    with_defaults, without = run['r0'], run['r1']
    assert not with_defaults.get('failed'), with_defaults
    assert (with_defaults['vaults'], with_defaults['with_actions'], with_defaults['errors']) == (6, 3, 0)
    # Without them no credential is found: the read fails, which the plan records as an error of the run (the report
    # says which), not as a failure of the task.
    assert (without['vaults'], without['errors']) == (0, 1), without
    report = json.loads((tmp_path / 'reports-defaults' / 'drift.json').read_text())
    assert len(report['errors']) == 1 and 'auth_source=env needs AZURE_CLIENT_ID' in report['errors'][0]['message'], report['errors']
    # The secret never shows in the output or the results.
    assert auth['secret'] not in run.output and auth['secret'] not in json.dumps(run.results)
    assert emulator.writes() == []


def reader_env(emulator):
    """The environment of a run as the emulator's read-only identity."""
    endpoint = emulator.endpoint
    return {'AZURE_CLIENT_ID': endpoint['readonly_client_id'], 'AZURE_SECRET': endpoint['readonly_client_secret'],
            'AZURE_CLIENT_SECRET': endpoint['readonly_client_secret']}


def report_dir_and_link(tmp_path):
    """A report directory and a symlink to it."""
    reports, link = tmp_path / 'reports', tmp_path / 'reports-link'
    reports.mkdir()
    link.symlink_to(reports, target_is_directory=True)
    return reports, link


def second_run_tasks(reports, link, planned, journal, event):
    """The second run of two on one report directory: it plans and reports (which ends its claim of the directory), says
    so (``planned``), waits for the first run's journal to say ``event``, then plans in check mode (through ``link``) and
    for real, applies its earlier plan and reports it: r0 to r7, the last four to be refused."""
    return [
        {'name': 'plan before the other run applies', PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}},
        # Its report ends this run's claim of the directory: the other run may plan into it, and this run's apply of that
        # plan comes after the other run's plan.
        {'name': 'report it', REPORT: {'plan': '{{ r0.plan }}'}},
        {'name': 'say so', 'ansible.builtin.file': {'path': str(planned), 'state': 'touch'}},
        {'name': 'wait for the other run\'s journal to say %s' % event,
         'ansible.builtin.wait_for': {'path': str(journal), 'search_regex': '"event":"%s"' % event, 'timeout': 120}},
        step({'name': 'plan in check mode through the symlink', PLAN: {'baseline': BASELINE, 'report_dir': str(link)}}, check=True),
        {'name': 'plan for real', PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}},
        {'name': 'apply the earlier plan', APPLY: {'plan': '{{ r0.plan }}'}},
        {'name': 'report the earlier plan', REPORT: {'plan': '{{ r0.plan }}'}},
    ]


def second_run_refused(second, refusal):
    """The second run's first plan and report passed, and its last four tasks were refused, each with ``refusal`` (a
    format of the task's name), before any request or report, nothing called interrupted."""
    assert not second['r0'].get('failed') and second['r0']['with_actions'] == 3, second['r0']
    assert not second['r1'].get('failed') and not second['r3'].get('failed'), (second['r1'], second['r3'])
    for key, task in (('r4', 'harden_plan'), ('r5', 'harden_plan'), ('r6', 'harden_apply'), ('r7', 'harden_report')):
        result = second[key]
        assert result.get('failed'), (key, result)
        no_traceback(second, result)
        assert result['msg'].startswith(refusal % task), (key, result['msg'])
        assert ('nothing was sent to Azure' if task != 'harden_report' else 'no report was written') in result['msg'], result['msg']
        assert 'interrupted' not in result['msg'] and not any('earlier harden_apply' in w for w in result.get('warnings') or []), result


@contextlib.contextmanager
def first_run_beside(emulator, tmp_path, tasks, release):
    """The first of two ansible-playbook runs on one report directory: its ``tasks`` run in a thread while the with block
    runs the second; ``release`` lets it go on (its held writes answered, or its pause ended) when the block ends, however
    it ends. Yields {'run': its PlaybookRun}, set once it has ended."""
    first = Runner(emulator, tmp_path / 'first')
    (tmp_path / 'first').mkdir()
    ran = {}
    thread = threading.Thread(target=lambda: ran.update(run=first.play(tasks)))
    thread.start()
    try:
        yield ran
    finally:
        release()
        thread.join(timeout=240)


def test_a_run_beside_a_live_apply_in_one_report_dir_is_refused_and_the_apply_keeps_its_journal(runner, emulator, tmp_path):
    """Two ansible-playbook runs on one report directory (the second through a symlink to it): while the first run's
    harden_apply is applying (its PATCHes held by the emulator), the second run's plan in check mode and for real, its
    apply of a plan it made before, and its report are each refused, naming the directory and the other run's apply; the
    live apply's journal is never moved nor called interrupted, and the first run ends with its own reports."""
    emulator.load_fleet(fleet())
    emulator.clear_journal()
    reports, link = report_dir_and_link(tmp_path)
    planned, journal = tmp_path / 'second-planned', reports / 'apply-journal.jsonl'
    # Every PATCH (the first run's apply: the second run sends none) waits unanswered until the second run has ended, so the
    # first run's apply is live for all of the second run's tasks however long they take (a fixed 15 s delay before).
    emulator.hold(True, 'PATCH')
    reader = reader_env(emulator)
    with first_run_beside(emulator, tmp_path, [
        {'name': 'wait for the second run to plan', 'ansible.builtin.wait_for': {'path': str(planned), 'timeout': 120}},
        {'name': 'plan', PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}},
        {'name': 'apply', APPLY: {'plan': '{{ r1.plan }}'}},
        {'name': 'report', REPORT: {'plan': '{{ r1.plan }}'}},
    ], release=lambda: emulator.hold(False)) as ran:
        second = runner.play(marks=[], extra_env=reader, tasks=second_run_tasks(reports, link, planned, journal, 'started'))
    run = ran['run']
    real = os.path.realpath(str(reports))
    second_run_refused(second, "%s refused: another run's harden_apply is applying into the report directory '" + real.replace('%', '%%') + "' right now")
    # The first run applied, reported, and removed its own journal: it was never moved aside.
    for key in ('r0', 'r1', 'r2', 'r3'):
        assert not run[key].get('failed'), (key, run[key])
    assert run['r2']['changed'] is True and run['r3']['summary']['changed'] == 3, (run['r2'], run['r3'])
    assert sorted(os.listdir(reports)) == FILES
    assert json.loads((reports / 'drift.json').read_text())['summary']['changed'] == 3
    # The second run (its own identity, a Reader) sent nothing from its refused tasks on.
    for key in ('r4', 'r5', 'r6', 'r7'):
        assert [entry for entry in second.requests(key) if entry['client_id'] == reader['AZURE_CLIENT_ID']] == [], key
    assert [entry for entry in second.requests('r0') if entry['client_id'] == reader['AZURE_CLIENT_ID']]


def test_a_run_between_another_run_s_apply_and_its_report_is_refused_and_that_run_s_reports_are_its_own(runner, emulator, tmp_path):
    """Two ansible-playbook runs on one report directory: the first run's harden_apply has ended (its journal no longer
    locked) and its play waits before its harden_report. The second run's plan in check mode and for real, its apply of a
    plan it made before, and its report are each refused, naming the directory and saying a run of it has not written its
    reports yet; nothing is called interrupted and no journal is kept aside. The first run then writes its own reports and
    removes its journal. Before, the second run's plan warned that the first apply "did not end with its reports", kept its
    journal aside as apply-journal.<time>.jsonl (never removed by the first run's report), and said so in its reports."""
    emulator.load_fleet(fleet())
    emulator.clear_journal()
    reports, link = report_dir_and_link(tmp_path)
    planned, resume, journal = tmp_path / 'second-planned', tmp_path / 'resume', reports / 'apply-journal.jsonl'
    reader = reader_env(emulator)
    with first_run_beside(emulator, tmp_path, [
        {'name': 'wait for the second run to plan', 'ansible.builtin.wait_for': {'path': str(planned), 'timeout': 120}},
        {'name': 'plan', PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}},
        {'name': 'apply', APPLY: {'plan': '{{ r1.plan }}'}},
        # The pause between the role's apply and report tasks, held until the second run's tasks are done.
        {'name': 'wait before the report', 'ansible.builtin.wait_for': {'path': str(resume), 'timeout': 180}},
        {'name': 'report', REPORT: {'plan': '{{ r1.plan }}'}},
    ], release=resume.touch) as ran:
        second = runner.play(marks=[], extra_env=reader, tasks=second_run_tasks(reports, link, planned, journal, 'ended'))
    run = ran['run']
    real = os.path.realpath(str(reports))
    second_run_refused(second, "%s refused: a run of the report directory '" + real.replace('%', '%%') + "' has not written its reports yet: its harden_apply "
                               "(started 20")
    # The first run applied, reported, and removed its own journal: nothing was kept aside, no warning of an earlier apply.
    for key in ('r0', 'r1', 'r2', 'r3', 'r4'):
        assert not run[key].get('failed'), (key, run[key])
    assert run['r2']['changed'] is True and run['r4']['summary']['changed'] == 3, (run['r2'], run['r4'])
    assert sorted(os.listdir(reports)) == FILES
    document = json.loads((reports / 'drift.json').read_text())
    assert document['summary']['changed'] == 3 and not any('earlier harden_apply' in w for w in document.get('warnings') or []), document
    # The second run (its own identity, a Reader) sent nothing from its refused tasks on.
    for key in ('r4', 'r5', 'r6', 'r7'):
        assert [entry for entry in second.requests(key) if entry['client_id'] == reader['AZURE_CLIENT_ID']] == [], key
    assert [entry for entry in second.requests('r0') if entry['client_id'] == reader['AZURE_CLIENT_ID']]


@pytest.mark.usefixtures('actions_fleet')
def test_the_reports_and_the_journal_follow_the_umask_of_ansible_playbook(runner, tmp_path):
    """Under a umask of 007 (a team that shares its reports with its group and no one else), the report directory the plan
    makes, the five reports and the apply journal are 0770 and 0660: before, the reports were 0644 whatever the umask (and
    the journal 0644 less it), so the group could not replace them and everyone could read them."""
    applied, checked = tmp_path / 'applied', tmp_path / 'checked' / 'reports'
    old = os.umask(0o007)
    try:
        run = runner.play([
            {'name': 'plan', PLAN: {'baseline': BASELINE, 'report_dir': str(applied)}},
            # No report after the apply: its journal stays, for the next plan.
            {'name': 'apply', APPLY: {'plan': '{{ r0.plan }}'}},
            step({'name': 'plan in check mode', PLAN: {'baseline': BASELINE, 'report_dir': str(checked)}}, check=True),
            step({'name': 'report in check mode', REPORT: {'plan': '{{ r2.plan }}'}}, check=True),
        ])
    finally:
        os.umask(old)
    for key in ('r0', 'r1', 'r2', 'r3'):
        assert not run[key].get('failed'), (key, run[key])
    modes = {name: oct(os.stat(checked / name).st_mode & 0o777) for name in FILES}
    modes['apply-journal.jsonl'] = oct(os.stat(applied / 'apply-journal.jsonl').st_mode & 0o777)
    assert modes == dict.fromkeys(FILES + ['apply-journal.jsonl'], '0o660')
    assert [oct(os.stat(path).st_mode & 0o777) for path in (applied, checked, checked.parent)] == ['0o770'] * 3


# The first plans of test_a_run_between_another_run_s_apply_without_changes_and_its_report_is_refused: nothing to change (no
# setting checked), and blocked (an exclusion that matches no vault beside a planned lock).
FIRST_PLANS = {
    'nothing-to-change': {'baseline': {'immutability': None, 'soft_delete': {}}},
    'blocked': {'baseline': {'immutability': 'locked', 'allow_irreversible': True}, 'exclude': [vault_id('rsv-no-such-vault', 'recovery_services')]},
}


class WithoutChanges:
    """The two runs of that test for both first plans at once: ``first`` and ``second`` (PlaybookRuns), each case's
    report directory (``reports[case]``) and the emulator's writes once both runs had ended (``writes``)."""

    first = second = reports = writes = None


@pytest.fixture(scope='module')
def without_changes(module_runner):
    """The two ansible-playbook runs of the test below, both first plans in each (two runs, where a run of each case for each
    first plan made four): neither first plan writes (nothing to change, a blocked plan) and every task of the second run is
    refused or follows a refused one, so each case finds the actions fleet as a pair of runs of its own did. Each case has
    a report directory of its own; its tasks are registered CASE_rN (``part``) under the numbers a run of their own gave
    them. The first run plans and applies both cases, says so, waits before its reports, then reports both; the second
    waits for that, then plans, applies and reports into each case's directory."""
    emulator = fresh_fleet(module_runner, fleet())
    tmp_path = module_runner.tmp_path / 'without-changes'
    tmp_path.mkdir()
    applied, resume = tmp_path / 'first-applied', tmp_path / 'resume'
    found = WithoutChanges()
    found.reports = {case: tmp_path / ('reports-%s' % case) for case in FIRST_PLANS}
    first, second, reports_first = [], [], []
    for case, first_plan in FIRST_PLANS.items():
        reports = found.reports[case]
        reports.mkdir()
        key = case.replace('-', '_')
        # Registered as a run of the case's own registered them: r0 plan, r1 apply, r2 say so, r3 wait, r4 report.
        first += [
            {'name': '%s: plan' % case, PLAN: dict(first_plan, report_dir=str(reports)), 'register': '%s_r0' % key},
            {'name': '%s: apply' % case, APPLY: {'plan': '{{ %s_r0.plan }}' % key}, 'register': '%s_r1' % key},
        ]
        reports_first.append({'name': '%s: report' % case, REPORT: {'plan': '{{ %s_r0.plan }}' % key}, 'register': '%s_r4' % key})
        second += part(key, [
            {'name': 'wait for the other run\'s apply to end', 'ansible.builtin.wait_for': {'path': str(applied), 'timeout': 120}},
            {'name': '%s: plan' % case, PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}},
            {'name': '%s: apply' % case, APPLY: {'plan': '{{ %s_r1.plan }}' % key}},
            {'name': '%s: report' % case, REPORT: {'plan': '{{ %s_r1.plan }}' % key}},
        ])
    first += [
        {'name': 'say so', 'ansible.builtin.file': {'path': str(applied), 'state': 'touch'}, 'register': 'said'},
        # The pause between the role's apply and report tasks, held until the second run's tasks are done.
        {'name': 'wait before the report', 'ansible.builtin.wait_for': {'path': str(resume), 'timeout': 180}, 'register': 'waited'},
    ] + reports_first
    with first_run_beside(emulator, tmp_path, first, release=resume.touch) as ran:
        found.second = Runner(emulator, tmp_path).play(second)
    found.first = ran['run']
    found.writes = emulator.writes()
    return found


@pytest.mark.parametrize('case', list(FIRST_PLANS))
def test_a_run_between_another_run_s_apply_without_changes_and_its_report_is_refused(without_changes, case):
    """The first run's plan changes nothing (no setting checked, or a blocked plan), so its harden_apply sends no write; its
    play then waits before its harden_report. A second run's plan is refused there, as it is after an apply that changed
    vaults, and the first run's reports are its own. Before, such an apply wrote no journal, so nothing named the first run:
    the second run planned, enabled immutability and turned soft delete on (three writes), and wrote its reports, and the
    first run's report then replaced them with reports of the fleet before those writes, saying nothing had changed: the
    second run's writes were in no report.

    Both cases are parts of the same two runs (``without_changes``)."""
    first_plan, reports = FIRST_PLANS[case], without_changes.reports[case]
    run, second = PlaybookPart(without_changes.first, case.replace('-', '_')), PlaybookPart(without_changes.second, case.replace('-', '_'))
    for key in ('r0', 'r1', 'r4'):
        assert not run[key].get('failed'), (key, run[key])
    assert run['r1']['changed'] is False and bool(run['r0']['blocked']) == ('exclude' in first_plan), (run['r0'], run['r1'])
    assert run['r0']['with_actions'] == 0 or run['r1'].get('skipped'), (run['r0'], run['r1'])
    result = second['r1']
    assert result.get('failed'), result
    no_traceback(second, result)
    assert result['msg'].startswith("harden_plan refused: a run of the report directory '%s' has not written its reports yet"
                                    % os.path.realpath(str(reports))), result['msg']
    assert without_changes.writes == [], without_changes.writes
    # The first run reported and removed its own journal.
    assert sorted(os.listdir(reports)) == FILES
    assert json.loads((reports / 'drift.json').read_text())['summary']['changed'] == 0


def claim_refused(result, task, report_dir, check_mode=False):
    """The refusal of a task of another run while a run's claim of the report directory holds (no journal there yet)."""
    assert result.get('failed'), result
    assert 'Traceback' not in json.dumps(result), result
    assert result['msg'].startswith("%s refused: another run has claimed the report directory '%s': its harden_plan planned "
                                    "into it 20" % (task, os.path.realpath(str(report_dir)))), result['msg']
    assert ('(in check mode) and its harden_report' in result['msg']) == check_mode, result['msg']
    assert ' is still running. ' in result['msg'] and 'ansible-playbook' in result['msg'].split('(pid ', 1)[1], result['msg']
    assert "remove '%s' and run again;" % os.path.join(os.path.realpath(str(report_dir)), 'run-claim.json') in result['msg'], result['msg']
    assert result['msg'].endswith('no report was written' if task == 'harden_report' else 'nothing was sent to Azure'), result['msg']


def test_a_real_run_between_a_check_mode_run_s_apply_and_its_report_is_refused(runner, emulator, tmp_path):
    """A check-mode run (which writes no journal) waits between its apply and its report; a real run into the same report
    directory is refused at its plan, before any request, naming the check-mode run's claim. Before, the real run planned,
    applied (three writes) and wrote its reports, and the check-mode run's report then replaced them with reports of the
    fleet before those writes: the real run's changes were in no report."""
    emulator.load_fleet(fleet())
    emulator.clear_journal()
    reports = tmp_path / 'reports'
    applied, resume = tmp_path / 'first-applied', tmp_path / 'resume'
    with first_run_beside(emulator, tmp_path, [
        step({'name': 'plan', PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}}, check=True),
        step({'name': 'apply', APPLY: {'plan': '{{ r0.plan }}'}}, check=True),
        {'name': 'say so', 'ansible.builtin.file': {'path': str(applied), 'state': 'touch'}},
        # The pause between the role's apply and report tasks, held until the second run's tasks are done.
        {'name': 'wait before the report', 'ansible.builtin.wait_for': {'path': str(resume), 'timeout': 180}},
        step({'name': 'report', REPORT: {'plan': '{{ r0.plan }}'}}, check=True),
    ], release=resume.touch) as ran:
        second = runner.play(marks=[], tasks=[
            {'name': 'wait for the other run\'s apply to end', 'ansible.builtin.wait_for': {'path': str(applied), 'timeout': 120}},
            {'name': 'plan', PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}},
            {'name': 'apply', APPLY: {'plan': '{{ r1.plan }}'}},
            {'name': 'report', REPORT: {'plan': '{{ r1.plan }}'}},
        ])
    run = ran['run']
    for key in ('r0', 'r1', 'r4'):
        assert not run[key].get('failed'), (key, run[key])
    claim_refused(second['r1'], 'harden_plan', reports, check_mode=True)
    assert second.requests('r1') == []
    assert emulator.writes() == [], emulator.writes()
    # The check-mode run's reports, and no claim left behind.
    assert sorted(os.listdir(reports)) == FILES
    document = json.loads((reports / 'drift.json').read_text())
    assert document['check_mode'] is True and document['summary']['changed'] == 3, document['summary']


def test_a_run_between_another_run_s_plan_and_apply_is_refused_and_that_run_s_reports_are_its_own(runner, emulator, tmp_path):
    """The first run has planned (and not applied yet) when a second run, through a symlink to the same report directory,
    plans in check mode and for real, and applies and reports a plan it made (and reported) before the first run's plan:
    each is refused before any request, naming the first run's claim. The first run then applies and writes its own
    reports. Before, the second run planned, and its apply and report went ahead; the first run's apply then removed the
    second run's reports and applied from a plan made before the second run's writes."""
    emulator.load_fleet(fleet())
    emulator.clear_journal()
    reports, link = report_dir_and_link(tmp_path)
    ready, planned, resume = tmp_path / 'second-ready', tmp_path / 'first-planned', tmp_path / 'resume'
    reader = reader_env(emulator)
    with first_run_beside(emulator, tmp_path, [
        {'name': 'wait for the second run', 'ansible.builtin.wait_for': {'path': str(ready), 'timeout': 120}},
        {'name': 'plan', PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}},
        {'name': 'say so', 'ansible.builtin.file': {'path': str(planned), 'state': 'touch'}},
        # A pause between the plan and the apply (a slow task, an approval), held until the second run's tasks are done.
        {'name': 'wait before the apply', 'ansible.builtin.wait_for': {'path': str(resume), 'timeout': 180}},
        {'name': 'apply', APPLY: {'plan': '{{ r1.plan }}'}},
        {'name': 'report', REPORT: {'plan': '{{ r1.plan }}'}},
    ], release=resume.touch) as ran:
        second = runner.play(marks=[], extra_env=reader, tasks=[
            {'name': 'plan before the other run plans', PLAN: {'baseline': BASELINE, 'report_dir': str(link)}},
            # Its report ends this run's claim: the other run may plan into the directory.
            {'name': 'report it', REPORT: {'plan': '{{ r0.plan }}'}},
            {'name': 'say so', 'ansible.builtin.file': {'path': str(ready), 'state': 'touch'}},
            {'name': 'wait for the other run to plan', 'ansible.builtin.wait_for': {'path': str(planned), 'timeout': 120}},
            step({'name': 'plan in check mode through the symlink', PLAN: {'baseline': BASELINE, 'report_dir': str(link)}}, check=True),
            {'name': 'plan for real', PLAN: {'baseline': BASELINE, 'report_dir': str(link)}},
            {'name': 'apply the earlier plan', APPLY: {'plan': '{{ r0.plan }}'}},
            {'name': 'report the earlier plan', REPORT: {'plan': '{{ r0.plan }}'}},
        ])
    run = ran['run']
    assert not second['r0'].get('failed') and not second['r1'].get('failed'), (second['r0'], second['r1'])
    for key, task in (('r4', 'harden_plan'), ('r5', 'harden_plan'), ('r6', 'harden_apply'), ('r7', 'harden_report')):
        claim_refused(second[key], task, reports)
        assert [entry for entry in second.requests(key) if entry['client_id'] == reader['AZURE_CLIENT_ID']] == [], key
    for key in ('r1', 'r4', 'r5'):
        assert not run[key].get('failed'), (key, run[key])
    assert run['r4']['changed'] is True and run['r5']['summary']['changed'] == 3, (run['r4'], run['r5'])
    # The first run's reports alone, no journal and no claim left.
    assert sorted(os.listdir(reports)) == FILES
    assert json.loads((reports / 'drift.json').read_text())['summary']['changed'] == 3


def test_two_plans_of_one_run_into_one_report_dir_hold_it_until_the_last_is_reported(runner, emulator, tmp_path):
    """One ansible-playbook run (a user's own play, not the role) plans twice into one report directory before either
    report. Its first report does not end its claim: the second plan is still to be reported, so another run's plan,
    apply and report there are refused before any request until then, and the first run's second report writes its own
    reports. Before, the first report removed the claim: the other run planned, applied (three writes) and reported, and
    the first run's second report then replaced those reports with ones of the fleet before the other run's writes."""
    emulator.load_fleet(fleet())
    emulator.clear_journal()
    reports = tmp_path / 'reports'
    reported, resume = tmp_path / 'first-reported-once', tmp_path / 'resume'
    with first_run_beside(emulator, tmp_path, [
        {'name': 'plan', PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}},
        {'name': 'plan again into the same directory', PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}},
        {'name': 'report the first plan', REPORT: {'plan': '{{ r0.plan }}'}},
        {'name': 'say so', 'ansible.builtin.file': {'path': str(reported), 'state': 'touch'}},
        # A pause before the second plan's report (another task, an approval), held until the other run's tasks are done.
        {'name': 'wait before the second report', 'ansible.builtin.wait_for': {'path': str(resume), 'timeout': 180}},
        {'name': 'report the second plan', REPORT: {'plan': '{{ r1.plan }}'}},
    ], release=resume.touch) as ran:
        second = runner.play(marks=[], tasks=[
            {'name': 'wait for the other run\'s first report', 'ansible.builtin.wait_for': {'path': str(reported), 'timeout': 120}},
            step({'name': 'plan in check mode', PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}}, check=True),
            {'name': 'plan', PLAN: {'baseline': BASELINE, 'report_dir': str(reports)}},
            {'name': 'apply', APPLY: {'plan': '{{ r2.plan }}'}},
            {'name': 'report', REPORT: {'plan': '{{ r2.plan }}'}},
        ])
    run = ran['run']
    for key in ('r0', 'r1', 'r2', 'r5'):
        assert not run[key].get('failed'), (key, run[key])
    # The other run's plans were refused before any request, naming this run's claim; its apply and report had no plan.
    claim_refused(second['r1'], 'harden_plan', reports)
    claim_refused(second['r2'], 'harden_plan', reports)
    for key in ('r1', 'r2', 'r3', 'r4'):
        assert second.requests(key) == [], key
    assert emulator.writes() == [], emulator.writes()
    # The second plan's reports, and no claim left once both plans were reported.
    assert sorted(os.listdir(reports)) == FILES
    assert run['r5']['files'] == run['r2']['files'] and run['r5']['summary']['changed'] == 0
    document = json.loads((reports / 'drift.json').read_text())
    assert document['summary']['drifting'] == 3 and document['summary']['changed'] == 0, document['summary']


@pytest.mark.usefixtures('actions_fleet')
def test_a_plan_reported_after_a_later_plan_of_the_run_into_its_report_dir_writes_no_report_and_says_so(runner, emulator, tmp_path):
    """One run plans twice into a report directory (all six vaults, then rsv-open alone) and reports the plans out of order:
    the later plan's reports stay, and the earlier plan's report writes none, warns which plan's reports are there, and
    returns its summary (superseded_by names the later plan). Reported in order, each plan's report is written, the later
    last. An apply of the earlier plan once the later plan is made is refused before any request, for real and in check
    mode (superseded_by; before, it wrote three changes from the older reading, and its report then replaced the later
    plan's). No claim is left once every plan is reported. Before, the last report written won, whatever its plan read: the
    reports of the fleet as read first replaced those of the fleet read after.

    In the same run: a check-mode plan after a real apply of the run, before that apply's report, leaves the apply's journal
    for its report (which removes it) and says the report is still to come (before, it said the apply's reports were not
    written); and a run whose claim was made a directory between its plan and its apply (a directory in place of
    run-claim.json: the rename of a file over it fails, whoever runs the play, root included) has its apply refused before
    any request (before, it wrote), and its report writes the reports and says the claim could not be read."""
    one = {'baseline': BASELINE, 'vaults': [{'id': vault_id('rsv-open')}]}
    names = ('out-of-order', 'in-order', 'superseded-apply', 'applied-then-superseded', 'check-superseded', 'check-after-apply', 'claim-gone')
    dirs = {name: str(tmp_path / name) for name in names}
    gone = os.path.join(dirs['claim-gone'], 'run-claim.json')
    run = runner.play(marks=[], tasks=[
        {'name': 'plan all', PLAN: {'baseline': BASELINE, 'report_dir': dirs['out-of-order']}},
        {'name': 'plan one', PLAN: dict(one, report_dir=dirs['out-of-order'])},
        {'name': 'report the later plan', REPORT: {'plan': '{{ r1.plan }}'}},
        {'name': 'report the earlier plan', REPORT: {'plan': '{{ r0.plan }}'}},
        {'name': 'plan all', PLAN: {'baseline': BASELINE, 'report_dir': dirs['in-order']}},
        {'name': 'plan one', PLAN: dict(one, report_dir=dirs['in-order'])},
        {'name': 'report the earlier plan', REPORT: {'plan': '{{ r4.plan }}'}},
        {'name': 'report the later plan', REPORT: {'plan': '{{ r5.plan }}'}},
        # r8 to r12: the earlier plan applied after the later plan was made (and reported): refused, and its report writes none.
        {'name': 'plan all', PLAN: {'baseline': BASELINE, 'report_dir': dirs['superseded-apply']}},
        {'name': 'plan one', PLAN: dict(one, report_dir=dirs['superseded-apply'])},
        {'name': 'report the later plan', REPORT: {'plan': '{{ r9.plan }}'}},
        {'name': 'apply the earlier plan', APPLY: {'plan': '{{ r8.plan }}'}},
        {'name': 'report the earlier plan', REPORT: {'plan': '{{ r8.plan }}'}},
        # Applied, then a later plan reported first: the earlier plan's report writes none and leaves its apply's journal.
        {'name': 'plan all', PLAN: {'baseline': LONGER, 'report_dir': dirs['applied-then-superseded']}},
        {'name': 'apply it', APPLY: {'plan': '{{ r13.plan }}'}},
        {'name': 'plan one', PLAN: {'baseline': LONGER, 'vaults': [{'id': vault_id('rsv-open')}], 'report_dir': dirs['applied-then-superseded']}},
        {'name': 'report the later plan', REPORT: {'plan': '{{ r15.plan }}'}},
        {'name': 'report the earlier plan', REPORT: {'plan': '{{ r13.plan }}'}},
        # r18 to r22: the same in check mode: the check-mode apply of the earlier plan predicts the refusal.
        step({'name': 'plan all in check mode', PLAN: {'baseline': BASELINE, 'report_dir': dirs['check-superseded']}}, check=True),
        step({'name': 'plan one in check mode', PLAN: dict(one, report_dir=dirs['check-superseded'])}, check=True),
        step({'name': 'apply the earlier plan in check mode', APPLY: {'plan': '{{ r18.plan }}'}}, check=True),
        step({'name': 'report the later plan', REPORT: {'plan': '{{ r19.plan }}'}}, check=True),
        step({'name': 'report the earlier plan', REPORT: {'plan': '{{ r18.plan }}'}}, check=True),
        # r23 to r28: a real apply, then a check-mode plan before the apply's report.
        {'name': 'plan', PLAN: {'baseline': LONGER_STILL, 'report_dir': dirs['check-after-apply']}},
        {'name': 'apply', APPLY: {'plan': '{{ r23.plan }}'}},
        step({'name': 'plan in check mode', PLAN: {'baseline': LONGER_STILL, 'report_dir': dirs['check-after-apply']}}, check=True),
        {'name': 'the apply journal', 'ansible.builtin.stat': {'path': os.path.join(dirs['check-after-apply'], 'apply-journal.jsonl')}},
        {'name': 'report the apply', REPORT: {'plan': '{{ r23.plan }}'}},
        step({'name': 'report the check-mode plan', REPORT: {'plan': '{{ r25.plan }}'}}, check=True),
        # r29 to r32: the claim made a directory between the plan and the apply.
        {'name': 'plan', PLAN: {'baseline': {'soft_delete': {'state': 'on', 'retention_days': 60}}, 'report_dir': dirs['claim-gone']}},
        {'name': 'make the claim a directory', 'ansible.builtin.shell': 'rm {0} && mkdir {0} && touch {0}/kept'.format(gone)},
        {'name': 'apply', APPLY: {'plan': '{{ r29.plan }}'}},
        {'name': 'report', REPORT: {'plan': '{{ r29.plan }}'}},
    ])
    for key in set(range(33)) - {11, 20, 31}:
        result = run['r%d' % key]
        assert not result.get('failed'), (key, result)
    skipped = run['r3']
    no_traceback(run, skipped)
    assert skipped['files'] == [] and skipped['superseded_by'] == run['r1']['plan'] and skipped['summary']['vaults'] == 6, skipped
    said = ('the reports of plan %s were not written: the report directory %r holds the reports of plan %s'
            % (run['r0']['plan'], dirs['out-of-order'], run['r1']['plan']))
    assert [warning for warning in skipped['warnings'] if warning.startswith(said)], skipped
    for key in ('r2', 'r6', 'r7', 'r10', 'r16', 'r21', 'r27', 'r28'):
        assert sorted(run[key]['files']) == FILES and 'superseded_by' not in run[key], (key, run[key])
    summaries = {name: json.loads((tmp_path / name / 'drift.json').read_text())['summary'] for name in dirs}
    assert (summaries['out-of-order']['vaults'], summaries['in-order']['vaults']) == (1, 1), summaries
    for name in ('out-of-order', 'in-order', 'superseded-apply', 'check-superseded', 'check-after-apply'):
        assert sorted(os.listdir(tmp_path / name)) == FILES, name
    # The earlier plan's apply, superseded by the later plan: refused before any request (no token either), for real and in
    # check mode, naming both plans; its report wrote none, and the later plan's reports stay.
    for key, later, check_mode in (('r11', 'r9', False), ('r20', 'r19', True)):
        refused = run[key]
        no_traceback(run, refused)
        earlier = run['r%d' % (int(later[1:]) - 1)]['plan']
        assert refused['failed'] and not refused.get('skipped') and refused['superseded_by'] == run[later]['plan'], (key, refused)
        assert refused['msg'].startswith('harden_apply refused: plan %s is superseded: plan %s%s of this ansible-playbook run into the '
                                         'same report directory %r was made, or applied for real, after it'
                                         % (earlier, run[later]['plan'], ' (in check mode)' if check_mode else '',
                                            dirs['check-superseded' if check_mode else 'superseded-apply'])), refused['msg']
        assert 'nothing was sent to Azure' in refused['msg'], refused['msg']
        assert refused['msg'].endswith('(check mode: a real apply of it is refused the same way)') == check_mode, refused['msg']
        assert run.requests(key) == [] and run.token_requests(key) == [], key
    for key, later in (('r12', 'r9'), ('r22', 'r19')):
        assert run[key]['files'] == [] and run[key]['superseded_by'] == run[later]['plan'], (key, run[key])
    assert summaries['superseded-apply']['vaults'] == 1 and summaries['superseded-apply']['changed'] == 0, summaries
    # The later plan's reports (read after the apply), which say what the earlier plan's apply changed (the later plan kept
    # its journal aside), and that journal: the earlier plan's report wrote nothing and removed nothing.
    superseded = run['r17']
    assert run['r14']['vaults_changed'] >= 1 and superseded['files'] == [] and superseded['superseded_by'] == run['r15']['plan'], superseded
    document = json.loads((tmp_path / 'applied-then-superseded' / 'drift.json').read_text())
    assert document['summary']['vaults'] == 1
    assert [warning for warning in document['warnings'] if ', by this ansible-playbook run) finished its writes' in warning], document['warnings']
    kept = [name for name in os.listdir(tmp_path / 'applied-then-superseded') if name not in FILES]
    assert len(kept) == 1 and re.fullmatch(r'apply-journal\.\d{8}T\d{6}Z\.jsonl', kept[0]), kept
    journal = tmp_path / 'applied-then-superseded' / kept[0]
    assert json.loads(journal.read_text().splitlines()[0])['plan'] == run['r13']['plan']
    # The check-mode plan after the real apply: the journal stayed for the apply's report, which wrote its reports and
    # removed it; the check-mode plan said the report was still to come (in its result and its reports), and wrote nothing.
    assert run['r24']['vaults_changed'] >= 1 and run['r28']['check_mode'] is True, (run['r24'], run['r28'])
    assert run['r26']['stat']['exists'], run['r26']
    pending = ("this ansible-playbook run's harden_apply of plan %s into this report directory (started " % run['r23']['plan'])
    assert [warning for warning in run['r25']['warnings'] if warning.startswith(pending) and 'its report was still to come' in warning], run['r25']
    assert not [warning for warning in run['r25']['warnings'] if 'reports were not written' in warning], run['r25']
    assert run.writes('r25') == [] and run.writes('r28') == []
    document = json.loads((tmp_path / 'check-after-apply' / 'drift.json').read_text())
    assert document['check_mode'] is True and [warning for warning in document['warnings'] if warning.startswith(pending)], document['warnings']
    # The claim made a directory: the apply of a plan with changes is refused before any request; the report writes the
    # reports and says the claim could not be read (its result and its reports).
    assert run['r29']['with_actions'] >= 1, run['r29']
    refused = run['r31']
    no_traceback(run, refused)
    assert refused['failed'] and refused['msg'].startswith("harden_apply refused: this run's claim on the report directory %r "
                                                           '(run-claim.json) can no longer be read: it is not a regular file.'
                                                           % dirs['claim-gone']), refused
    assert run.requests('r31') == []
    unreadable = "the run's claim on the report directory (run-claim.json) can no longer be read: it is not a regular file."
    assert sorted(run['r32']['files']) == FILES and [warning for warning in run['r32']['warnings'] if warning.startswith(unreadable)], run['r32']
    document = json.loads((tmp_path / 'claim-gone' / 'drift.json').read_text())
    assert [warning for warning in document['warnings'] if warning.startswith(unreadable)], document['warnings']
    assert len(emulator.writes()) == len(run.writes('r14')) + len(run.writes('r24')), emulator.writes()


@pytest.mark.usefixtures('actions_fleet')
def test_a_report_dir_replaced_by_a_symlink_after_the_plan_refuses_the_apply_in_check_mode_as_a_real_apply_does(runner, emulator, tmp_path):
    """The directory holding report_dir is replaced by a symlink (to the same directory, moved) between the plan and the
    apply. A real apply refuses it before any request (it would remove the earlier reports and write its journal in a
    directory the plan did not resolve), and so does a check-mode apply: check mode says what a real apply would do, and
    its message says so. The reports tasks refuse it too; nothing is sent to Azure, and the earlier reports stay."""
    parents = {mode: tmp_path / mode for mode in ('check', 'real')}
    for parent in parents.values():
        (parent / 'reports').mkdir(parents=True)
        (parent / 'reports' / 'drift.json').write_text('an earlier run')
    swap = ' && '.join('mv {0} {0}-moved && ln -s {0}-moved {0}'.format(parent) for parent in parents.values())
    run = runner.play(marks=[], tasks=[
        step({'name': 'plan in check mode', PLAN: {'baseline': BASELINE, 'report_dir': str(parents['check'] / 'reports')}}, check=True),
        {'name': 'plan', PLAN: {'baseline': BASELINE, 'report_dir': str(parents['real'] / 'reports')}},
        {'name': 'replace the directories by symlinks', 'ansible.builtin.shell': swap},
        step({'name': 'apply in check mode', APPLY: {'plan': '{{ r0.plan }}'}}, check=True),
        {'name': 'apply', APPLY: {'plan': '{{ r1.plan }}'}},
        step({'name': 'report in check mode', REPORT: {'plan': '{{ r0.plan }}'}}, check=True),
        {'name': 'report', REPORT: {'plan': '{{ r1.plan }}'}},
    ])
    for key in ('r0', 'r1', 'r2'):
        assert not run[key].get('failed'), (key, run[key])
    for key, mode, task in (('r3', 'check', 'harden_apply'), ('r4', 'real', 'harden_apply'), ('r5', 'check', 'harden_report'),
                            ('r6', 'real', 'harden_report')):
        result = run[key]
        assert result.get('failed'), (key, result)
        no_traceback(run, result)
        resolved = str(parents[mode] / 'reports')
        assert result['msg'].startswith("%s refused: the report directory '%s' that harden_plan resolved now leads to '%s' (a directory "
                                        "on its path was replaced by a symlink during the run): "
                                        % (task, resolved, os.path.realpath(resolved))), (key, result['msg'])
        if task == 'harden_apply':
            assert 'nothing was sent to Azure and no report was written or removed there' in result['msg'], result['msg']
        else:
            assert 'no report was written or removed there' in result['msg'], result['msg']
        assert ('(check mode: a real apply refuses it the same way, as it would remove the earlier reports and write its journal '
                'there)' in result['msg']) == (key == 'r3'), (key, result['msg'])
        assert result['msg'].endswith('; plan again'), result['msg']
        assert run.requests(key) == [], key
    assert emulator.writes() == []
    for parent in parents.values():
        assert sorted(os.listdir(parent / 'reports')) == ['drift.json', 'run-claim.json']
        assert (parent / 'reports' / 'drift.json').read_text() == 'an earlier run'
