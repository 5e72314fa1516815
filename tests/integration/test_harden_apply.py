# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure.harden_apply against the emulator: the lock gate holds at the moment of the lock (ARM re-read right
before it, not the plan), a vault whose earlier step failed is never locked, consent is the task's own, a plan is applied
once and in its own mode, and the whole fleet is changed at once under ARM's throttling without one answer 429."""

from __future__ import annotations

import json

import pytest

from tests.emulator import generator as templates
from tests.integration.batching import Batch
from tests.integration.conftest import fresh_fleet
from tests.integration.fleets import RG, SUB1, vault, vault_id
from tests.integration.role_steps import step
from tests.integration.test_discovery_sources import REPO, _change, harden
from tests.integration.test_harden_role import immutability
from tests.integration.test_lock_readiness import DENIED, LOCKED_BASELINE, long_vm, readiness_fleet


def _after_plan(tmp_path, emulator, changes):
    """Environment that makes the change_after_task callback send ``changes`` right after the plan task."""
    endpoint_file = tmp_path / 'endpoint.json'
    endpoint_file.write_text(json.dumps(emulator.endpoint))
    return {'ANSIBLE_CALLBACK_PLUGINS': str(REPO / 'tests' / 'integration' / 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': 'change_after_task', 'VAULTLOCK_CHANGE_AFTER': 'Discover vaults and plan the run',
            'VAULTLOCK_REPO': str(REPO), 'VAULTLOCK_EMULATOR_ENDPOINT': str(endpoint_file),
            'VAULTLOCK_CHANGES': json.dumps(changes), 'VAULTLOCK_CHANGES_OUT': str(tmp_path / 'changes.json')}


def _lock_writes(journal, name, kind='recovery_services'):
    """The immutability states sent to the vault; ``journal``: the emulator's journal, or a step's requests."""
    path = vault_id(name, kind).lower()
    states = []
    for entry in journal:
        if entry['method'] != 'PATCH' or entry['path'].lower() != path or entry['status'] >= 300:
            continue
        settings = ((entry.get('body') or {}).get('properties') or {}).get('securitySettings') or {}
        if 'immutabilitySettings' in settings:
            states.append(settings['immutabilitySettings']['state'])
    return states


@pytest.fixture
def readiness(emulator):
    emulator.load_fleet(readiness_fleet())
    emulator.fault(**DENIED)
    emulator.clear_journal()


@pytest.mark.usefixtures('readiness')
def test_a_vault_that_stops_meeting_its_lock_requirements_after_the_plan_is_not_locked(runner, emulator, tmp_path):
    """The plan judged rsv-ready and bv-ready ready (10 years at most). Right after the plan, someone sets one of
    rsv-ready's policies in use to keep 20 years. The apply re-reads rsv-ready's policies and items before the lock and
    does not lock it; bv-ready, unchanged, is locked. The reports say why the planned lock was not made."""
    policy = vault_id('rsv-ready') + '/backupPolicies/VMDaily'
    body = {'properties': long_vm()}
    env = _after_plan(tmp_path, emulator, [_change('PUT', policy, '2026-10-01', body)])
    # A run of its own: the change_after_task callback, set by the run's environment, changes the fleet after the plan.
    rc, out, report, markdown = harden(runner, tmp_path, 'gate', extra_env=env, **LOCKED_BASELINE)
    assert json.loads((tmp_path / 'changes.json').read_text())[0]['status'] == 200, out
    assert report is not None, out
    planned = {v['name']: v['actions']['immutability'] for v in report['vaults']}
    assert planned['rsv-ready'] == 'locked' and planned['bv-ready'] == 'locked'
    # rsv-ready: enabled already, so no write at all; bv-ready: disabled -> enabled -> locked.
    assert _lock_writes(emulator.journal(), 'rsv-ready') == []
    assert immutability(emulator, 'rsv-ready') == 'Unlocked'
    assert _lock_writes(emulator.journal(), 'bv-ready', 'backup') == ['Unlocked', 'Locked']
    rows = {row['name']: row for row in report['lock_readiness']}
    assert rows['rsv-ready']['ready'] is False and rows['rsv-ready']['status'] == 'not ready'
    assert [b['requirement'] for b in rows['rsv-ready']['blockers']] == ['max_retention']
    assert rows['bv-ready']['status'] == 'locked'
    finding = [f for f in report['vaults'] if f['name'] == 'rsv-ready'][0]['findings'][0]
    assert finding['want'] == 'locked' and finding['resolved'] is False and finding['fixable'] is False
    assert 'planned lock not made' in finding['reason'] and 'lock requirements' in finding['reason']
    assert 'planned lock not made' in markdown


# test_a_vault_whose_earlier_step_failed_is_not_locked: bv-ready's soft delete PATCH refused (with DENIED, as the
# readiness fixture sets).
SOFT_DELETE_REFUSED = {'method': 'PATCH', 'path_regex': '/backupVaults/bv-ready$', 'status': 400, 'times': 1, 'content_type': 'application/json',
                       'raw_body': json.dumps({'error': {'code': 'BadRequest', 'message': 'soft delete refused for the test'}})}


def test_a_vault_whose_earlier_step_failed_is_not_locked(lock_run):
    """bv-ready has soft delete to raise first (14 -> 30 days); Azure refuses that PATCH. The lock of bv-ready must not
    follow: the vault is enabled (reversible) and the report names the failed step and the lock not made.

    The role step failed_step of lock_run (a run of the collection's playbook before), on the readiness fleet loaded in
    the run with DENIED and SOFT_DELETE_REFUSED."""
    run = lock_run.steps['failed_step']
    assert run.failed is None, run.output
    report = run.report
    assert report is not None, run.output
    # The first PATCH (soft delete) was refused; then only the reversible step to Unlocked, never Locked.
    assert _lock_writes(run.requests, 'bv-ready', 'backup') == ['Unlocked']
    assert immutability(run.after, 'bv-ready', 'backup') == 'Unlocked'
    errors = [(e['vault'], e['action']) for e in report['errors']]
    assert ('bv-ready', 'soft_delete') in errors
    row = [r for r in report['lock_readiness'] if r['name'] == 'bv-ready'][0]
    assert row['status'] == 'not ready'
    assert any('an earlier change of this vault failed' in b['message'] for b in row['blockers'])
    # rsv-ready met everything and was locked in the same run.
    assert _lock_writes(run.requests, 'rsv-ready') == ['Locked']


def _plan_apply_report(plan_args, apply_args, report_dir, prefix):
    """Plan, apply and report, registered as PREFIX_planned, PREFIX_applied and PREFIX_report."""
    return [
        {'vaultlock.azure.harden_plan': dict(plan_args, report_dir=str(report_dir)), 'register': '%s_planned' % prefix},
        {'vaultlock.azure.harden_apply': dict(apply_args, plan='{{ %s_planned.plan }}' % prefix), 'register': '%s_applied' % prefix},
        {'vaultlock.azure.harden_report': {'plan': '{{ %s_planned.plan }}' % prefix}, 'register': '%s_report' % prefix},
    ]


def lock_fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'consent', 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
        vault('rsv-a', 'recovery_services', 'enabled', soft_delete='always_on',
              policies=[{'name': 'VMDaily', 'properties': templates.iaas_v1(False)}]),
    ]}]}]}


LOCK = {'baseline': {'immutability': 'locked', 'allow_irreversible': True}, 'subscription_ids': [SUB1],
        'lock_requirements': {'require_soft_delete': None, 'no_unfixable_findings': False}}
SCOPES = [
    ({'harden_backup_vaults_tags': {'owner': 'nobody-has-this-tag'}}, 'the scope matched no vault'),
    ({'harden_backup_vaults_subscription_ids': ['0badc0de-0000-4000-8000-000000000000']}, 'could not read'),
]
# The plan file the edit test rewrites, under the run's local temporary directory (ANSIBLE_HOME, the runner's).
EDIT = ('import glob, json, sys; [p] = glob.glob(sys.argv[1]); d = json.load(open(p)); d["report_dir"] = sys.argv[2]; '
        'json.dump(d, open(p, "w"))')


def _edited_plan_tasks(tmp_path):
    return [
        {'vaultlock.azure.harden_plan': dict(LOCK, report_dir=str(tmp_path / 'reports-edited')), 'register': 'edited_planned'},
        {'ansible.builtin.command': {'argv': ['python3', '-c', EDIT,
                                              str(tmp_path / 'ansible-home' / 'tmp' / '*' / 'vaultlock-harden-plan-{{ edited_planned.plan }}.json'),
                                              str(tmp_path / 'elsewhere')]}, 'register': 'edited_r1'},
        {'vaultlock.azure.harden_apply': {'plan': '{{ edited_planned.plan }}', 'allow_irreversible': True}, 'register': 'edited_r2'},
        {'vaultlock.azure.harden_report': {'plan': '{{ edited_planned.plan }}'}, 'register': 'edited_r3'},
    ]


SWAP = 'import glob, shutil, sys; [a] = glob.glob(sys.argv[1]); [b] = glob.glob(sys.argv[2]); shutil.copyfile(b, a)'


def _swapped_plan_tasks(tmp_path):
    """Another plan of the same run, sealed with the same key, copied over a plan before its apply."""
    def kept(register):
        return str(tmp_path / 'ansible-home' / 'tmp' / '*' / ('vaultlock-harden-plan-{{ %s.plan }}.json' % register))
    return [
        {'vaultlock.azure.harden_plan': dict(LOCK, report_dir=str(tmp_path / 'reports-swapped')), 'register': 'swapped_planned'},
        {'vaultlock.azure.harden_plan': dict(LOCK, report_dir=str(tmp_path / 'elsewhere-swapped')), 'register': 'swapped_other'},
        {'ansible.builtin.command': {'argv': ['python3', '-c', SWAP, kept('swapped_planned'), kept('swapped_other')]},
         'register': 'swapped_r1'},
        {'vaultlock.azure.harden_apply': {'plan': '{{ swapped_planned.plan }}', 'allow_irreversible': True}, 'register': 'swapped_r2'},
        {'vaultlock.azure.harden_report': {'plan': '{{ swapped_planned.plan }}'}, 'register': 'swapped_r3'},
    ]


@pytest.fixture(scope='module')
def lock_run(module_runner):
    """The tests below on the lock fleet, as plays of one ansible-playbook run (batching.Batch), each test's tasks registered
    under names of its own and asserted on with the requests each sent and rsv-a as stored right after it:

    1. the check-mode role steps of the scope tests (none writes): per scope of SCOPES, the run that fails (empty_N) and the
       run that allows it (allowed_N); then the empty scope whose SARIF is read (sarif);
    2. consent from module_defaults: a play of its own, with those module_defaults (defaults_*); it writes nothing;
    3. a plan made in check mode, applied (check_*): refused, no write;
    4. a plan file edited between plan and apply (edited_*), or replaced by another plan of the run (swapped_*): refused,
       no write;
    5. the one that locks rsv-a: the task consents, and the plan is applied once (consents_*);
    6. on the readiness fleet loaded in the run with DENIED and SOFT_DELETE_REFUSED, the role step failed_step;
    7. on 300 vaults over 2 subscriptions generated in the run under Azure's throttling (their subscriptions the ones the
       generate answered, registered as throttled_fleet), the role steps fleet (apply) and again (check).
    """
    fresh_fleet(module_runner, lock_fleet())
    tmp_path = module_runner.tmp_path
    steps = []
    for index, (variables, _cause) in enumerate(SCOPES):
        scope = dict({'harden_backup_vaults_subscription_ids': [SUB1]}, **variables)
        steps += [step('empty_%d' % index, check=True, **scope),
                  step('allowed_%d' % index, check=True, harden_backup_vaults_allow_empty_scope=True,
                       harden_backup_vaults_fail_on_error=False, **scope)]
    steps.append(step('sarif', check=True, harden_backup_vaults_subscription_ids=[SUB1],
                      harden_backup_vaults_tags={'owner': 'nobody-has-this-tag'}))
    consents = _plan_apply_report(LOCK, {'allow_irreversible': True}, tmp_path / 'reports-consents', 'consents')
    consents.append({'vaultlock.azure.harden_apply': {'plan': '{{ consents_planned.plan }}', 'allow_irreversible': True},
                     'register': 'consents_again'})
    batch = Batch(module_runner).role_steps(steps)
    batch.tasks(_plan_apply_report(LOCK, {}, tmp_path / 'reports-defaults', 'defaults'),
                module_defaults={'vaultlock.azure.harden_apply': {'allow_irreversible': True}})
    batch.tasks([
        {'vaultlock.azure.harden_plan': dict(LOCK, report_dir=str(tmp_path / 'r')), 'register': 'check_planned', 'check_mode': True},
        {'vaultlock.azure.harden_apply': {'plan': '{{ check_planned.plan }}', 'allow_irreversible': True}, 'register': 'check_r1'},
    ] + _edited_plan_tasks(tmp_path) + _swapped_plan_tasks(tmp_path) + consents)
    batch.emulator(reset=True, load_fleet=readiness_fleet(), faults=[DENIED, SOFT_DELETE_REFUSED])
    batch.role_steps([step('failed_step', harden_backup_vaults_soft_delete={'state': 'on', 'retention_days': 30},
                           harden_backup_vaults_fail_on_error=False, **LOCKED_BASELINE)])
    batch.emulator(register='throttled_fleet', reset=True, generate={'vaults': 300, 'subscriptions': 2, 'seed': 'apply-fleet'},
                   settings={'throttle': 'azure'})
    variables = {'harden_backup_vaults_subscription_ids': '{{ throttled_fleet.generated.subscription_ids }}',
                 'harden_backup_vaults_retention_mode': 'enforce'}
    batch.role_steps([step('fleet', harden_backup_vaults_fail_on_error=False, **variables), step('again', check=True, **variables)])
    return batch.play(marks=[vault_id('rsv-a'), vault_id('bv-ready', 'backup')])


def _writes(run, *registers):
    return [w for register in registers for w in run.writes(register)]


def test_consent_from_module_defaults_does_not_lock(lock_run):
    run = lock_run
    assert run.rc == 0, run.output
    applied = run['defaults_applied']
    assert applied['vaults_failed'] == 1 and applied['locks_not_made'] == 1, applied
    assert any('module_defaults is ignored' in w for w in applied.get('warnings') or []), applied
    assert _writes(run, 'defaults_planned', 'defaults_applied', 'defaults_report') == []
    assert immutability(run.after('defaults_report'), 'rsv-a') == 'Unlocked'
    report = json.loads((run.tmp_path / 'reports-defaults' / 'drift.json').read_text())
    assert [e['action'] for e in report['errors']] == ['immutability']
    assert 'does not consent' in report['errors'][0]['message']


def test_the_task_consents_and_locks_once_a_plan_is_applied_once(lock_run):
    run = lock_run
    applied = run['consents_applied']
    assert applied['changed'] is True and applied['vaults_changed'] == 1 and applied['writes'] == 1, applied
    assert applied['pacing']['throttled'] == 0
    assert immutability(run.after('consents_again'), 'rsv-a') == 'Locked'
    again = run['consents_again']
    assert again.get('failed') and 'applied already' in again['msg']
    report = check_reports_dir(run.tmp_path / 'reports-consents')
    assert report['summary']['changed'] == 1 and report['errors'] == []


def check_reports_dir(report_dir):
    return json.loads((report_dir / 'drift.json').read_text())


def test_check_mode_plan_is_not_applied_for_real(lock_run):
    run = lock_run
    assert run['check_r1'].get('failed') and 'made in check mode' in run['check_r1']['msg']
    assert _writes(run, 'check_planned', 'check_r1') == []


def test_a_fleet_is_changed_at_once_under_arm_throttling(lock_run):
    """300 generated vaults over 2 subscriptions under Azure's throttling: every fixable finding applied, not one 429.

    The apply, then a second check: the role steps fleet and again of lock_run, on the fleet generated in the run."""
    steps = lock_run.steps
    assert len(lock_run['throttled_fleet']['generated']['subscription_ids']) == 2
    report = steps['fleet'].report
    assert report is not None, steps['fleet'].output
    journal = steps['fleet'].requests
    assert [j for j in journal if j['status'] == 429] == []
    writes = [j for j in journal if j['method'] in ('PATCH', 'PUT')]
    assert len(writes) >= report['summary']['changed'] > 100
    assert report['errors'] == []
    # A second check finds nothing a run could fix.
    assert steps['again'].failed is None, steps['again'].output
    assert steps['again'].report['summary']['changed'] == 0


def test_a_plan_file_edited_between_plan_and_apply_is_refused(lock_run):
    """Someone on the controller rewrites the kept plan (its report directory, its mode): the apply and the report refuse
    it, nothing is written to Azure and no report is written where the edit pointed."""
    run = lock_run
    elsewhere = run.tmp_path / 'elsewhere'
    assert run['edited_r1'].get('rc') == 0, run['edited_r1']['stderr']
    assert run['edited_r2'].get('failed') and 'was changed after this run wrote it' in run['edited_r2']['msg'], run['edited_r2']
    assert run['edited_r3'].get('failed') and 'was changed after this run wrote it' in run['edited_r3']['msg'], run['edited_r3']
    assert _writes(run, 'edited_planned', 'edited_r1', 'edited_r2', 'edited_r3') == []
    assert not elsewhere.exists()


def test_a_plan_file_replaced_by_another_plan_of_the_run_is_refused(lock_run):
    """The seal is the run's: another plan of the same run (its baseline, its vaults, its report directory) copied over the
    kept plan passed the seal and was applied and reported as that plan. Refused now: no write, no report."""
    run = lock_run
    assert run['swapped_r1'].get('rc') == 0, run['swapped_r1']['stderr']
    for key in ('swapped_r2', 'swapped_r3'):
        assert run[key].get('failed') and 'was replaced by another plan of this run: it is not used' in run[key]['msg'], run[key]
    assert _writes(run, 'swapped_r1', 'swapped_r2', 'swapped_r3') == []
    assert not (run.tmp_path / 'reports-swapped' / 'drift.json').exists()
    assert not (run.tmp_path / 'elsewhere-swapped' / 'drift.json').exists()


@pytest.mark.parametrize('index', range(len(SCOPES)), ids=['variables%d-%s' % (i, cause) for i, (_v, cause) in enumerate(SCOPES)])
def test_a_run_that_does_not_read_its_scope_fails_with_the_cause_first(lock_run, index):
    """Issue 26: an empty scope, or a subscription that is not visible, never passes as a compliant fleet."""
    _variables, cause = SCOPES[index]
    run = lock_run.steps['empty_%d' % index]
    assert run.failed is not None
    assert 'The run did not read its scope: ' + cause in ' '.join(run.output.split()), run.output
    # The hint to allow an empty scope only where it is what to do: a subscription that could not be read still fails the
    # run on its error (harden_backup_vaults_fail_on_error) with the variable set.
    hint = 'set harden_backup_vaults_allow_empty_scope: true if an empty scope is expected'
    assert (hint in ' '.join(run.failed['msg'].split())) == (cause == 'the scope matched no vault'), run.failed
    assert run.report is not None                  # the reports are written all the same
    allowed = lock_run.steps['allowed_%d' % index]
    assert allowed.failed is None, allowed.output


def test_an_empty_scope_never_writes_a_successful_sarif_with_no_result(lock_run):
    """Issue 26: uploading a 0-result SARIF of a run that read nothing would close every open code-scanning alert."""
    run = lock_run.steps['sarif']
    assert run.failed is not None
    sarif = json.loads((run.report_dir / 'drift.sarif').read_text())
    invocation = sarif['runs'][0]['invocations'][0]
    assert invocation['executionSuccessful'] is False
    assert any('did not read its scope' in n['message']['text'] for n in invocation['toolExecutionNotifications'])
    assert run.report['summary']['errors'] == 1
