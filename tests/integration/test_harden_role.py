# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harden_backup_vaults role, through `ansible-playbook vaultlock.azure.harden_backup_vaults`, against the emulator."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import jsonschema
import pytest

from tests.emulator import generator as templates
from tests.integration.batching import Batch
from tests.integration.conftest import fresh_fleet
from tests.integration.fleets import RG, SUB1, SUB2, vault, vault_id
from tests.integration.role_steps import ReportFiles, step
from tests.unit.builders import SECURITY_NULL

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / 'docs' / 'drift-report-schema.json').read_text())
PLAYBOOK = 'vaultlock.azure.harden_backup_vaults'
GUARD = '/subscriptions/%s/resourceGroups/rg-security/providers/Microsoft.DataProtection/resourceGuards/guard' % SUB1


def weekly_vm():
    """An IaaS VM policy that backs up weekly: it has no daily tier, so a daily minimum cannot be fixed."""
    body = templates.iaas_v1(False)
    body['schedulePolicy'] = {'schedulePolicyType': 'SimpleSchedulePolicy', 'scheduleRunFrequency': 'Weekly',
                              'scheduleRunDays': ['Sunday'], 'scheduleRunTimes': [templates.RUN_TIME]}
    body['retentionPolicy'] = {'retentionPolicyType': 'LongTermRetentionPolicy', 'weeklySchedule': {
        'daysOfTheWeek': ['Sunday'], 'retentionTimes': [templates.RUN_TIME], 'retentionDuration': {'count': 12, 'durationType': 'Weeks'}}}
    return body


def sd(name, kind, state, soft_delete='on', days=30, **extra):
    """A fleet vault with soft delete retention days of choice (the drift tests want 30)."""
    doc = vault(name, kind, state, **extra)
    doc['soft_delete'] = {'state': soft_delete, 'retention_days': days}
    return doc


def pol(name, body):
    return {'name': name, 'properties': body}


def drift_fleet():
    """Every kind of drift: immutability (both kinds, unset and disabled, one MUA-protected), weak policies of both
    kinds, soft delete off and too short, a missing tier (not fixable), and compliant vaults."""
    return {'subscriptions': [
        {'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
            {'name': RG, 'location': 'westeurope', 'vaults': [
                sd('rsv-unset', 'recovery_services', 'unset', policies=[pol('VMDaily', templates.iaas_v1(False))]),
                sd('rsv-weak', 'recovery_services', 'enabled', policies=[pol('SQLWeak', templates.sql(True))]),
                sd('rsv-guarded', 'recovery_services', 'disabled', resource_guard_id=GUARD,
                   policies=[pol('VMDaily', templates.iaas_v1(False))]),
                sd('rsv-locked', 'recovery_services', 'locked', soft_delete='always_on',
                   policies=[pol('HanaDaily', templates.saphana(False))]),
                sd('rsv-softoff', 'recovery_services', 'enabled', soft_delete='off',
                   policies=[pol('VMDaily', templates.iaas_v1(False))]),
                sd('rsv-weekly', 'recovery_services', 'enabled', policies=[pol('VMWeekly', weekly_vm())]),
                sd('bv-disabled', 'backup', 'disabled', policies=[pol('DiskWeak', templates.dp_disk(True))]),
                sd('bv-locked', 'backup', 'locked', policies=[pol('BlobDaily', templates.dp_blob(False))]),
                sd('bv-short', 'backup', 'enabled', days=14, policies=[pol('BlobDaily', templates.dp_blob(False))]),
            ]},
        ]},
        {'id': SUB2, 'display_name': 'vaultlock-test-2', 'resource_groups': [
            {'name': 'rg-two', 'location': 'westeurope', 'vaults': [
                sd('bv-two', 'backup', 'unset', policies=[pol('PostgresWeak', templates.dp_postgres(True))]),
            ]},
        ]},
    ]}


def clean_fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-ok', 'recovery_services', 'enabled', policies=[pol('VMDaily', templates.iaas_v1(False))]),
            vault('rsv-ok-locked', 'recovery_services', 'locked', policies=[pol('SQLDaily', templates.sql(False))]),
            vault('bv-ok', 'backup', 'enabled', policies=[pol('BlobDaily', templates.dp_blob(False))]),
        ]}]}]}


ENFORCE_ALL = {'harden_backup_vaults_subscription_ids': ['all'], 'harden_backup_vaults_retention_mode': 'enforce',
               'harden_backup_vaults_soft_delete': {'state': 'on', 'retention_days': 30}}


class Harden:
    """Runs the collection playbook with -e variables and reads the reports it wrote."""

    def __init__(self, runner, tmp_path):
        self.runner = runner
        self.tmp_path = tmp_path
        self.count = 0

    def __call__(self, *args, **variables):
        self.count += 1
        report_dir = self.tmp_path / ('reports-%d' % self.count)
        variables.setdefault('harden_backup_vaults_report_dir', str(report_dir))
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), PLAYBOOK, '-e', json.dumps(variables)] + list(args)
        proc = subprocess.run(cmd, env=self.runner.env(), capture_output=True, text=True, timeout=300, check=False)
        return Run(proc, pathlib.Path(variables['harden_backup_vaults_report_dir']))


def drift_harden(emulator_server, tmp_path_factory, name):
    """For a module fixture: the session's emulator reset to the drift fleet with an empty journal, and a Harden of a
    temporary directory of its own (``name``). Returns (emulator, harden, directory)."""
    from tests.emulator.client import EmulatorClient  # pylint: disable=import-outside-toplevel
    from tests.integration.conftest import Runner  # pylint: disable=import-outside-toplevel
    emulator = EmulatorClient(emulator_server.endpoint)
    emulator.reset()
    emulator.load_fleet(drift_fleet())
    emulator.clear_journal()
    tmp = tmp_path_factory.mktemp(name)
    return emulator, Harden(Runner(emulator, tmp), tmp), tmp


class Run(ReportFiles):
    def __init__(self, proc, report_dir):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.report_dir = report_dir


def immutability(emulator, name, kind='recovery_services', sub=SUB1, rg=RG):
    body = emulator.resource(vault_id(name, kind, sub=sub, rg=rg))
    return ((body['properties'].get('securitySettings') or {}).get('immutabilitySettings') or {}).get('state')


def policy_retention(emulator, name, policy, kind='recovery_services', sub=SUB1, rg=RG):
    return emulator.resource(vault_id(name, kind, sub=sub, rg=rg) + '/backupPolicies/' + policy)['properties']


def check_reports(run):
    """drift.json validates against its schema; the JUnit XML parses and agrees with it (a testcase per vault, excluded
    vault, vault the run could not read and error); drift.md too."""
    report = run.report
    jsonschema.validate(report, SCHEMA)
    root = run.junit
    suite = root.find('testsuite')
    cases = suite.findall('testcase')
    excluded = report.get('excluded_vaults') or []
    unread = report.get('unread_vaults') or []
    assert int(suite.get('tests')) == len(cases) == len(report['vaults']) + len(excluded) + len(unread) + len(report['errors'])
    # Each excluded vault a skipped testcase, never a failure.
    assert int(suite.get('skipped')) == len([c for c in cases if c.find('skipped') is not None]) == len(excluded)
    assert int(suite.get('failures')) == len([c for c in cases if c.find('failure') is not None]) == report['summary']['drifting']
    # Each vault the run could not read (the previous report judged it) an error testcase, as each error of the run.
    assert int(suite.get('errors')) == len([c for c in cases if c.find('error') is not None]) == report['summary']['errors'] + len(unread)
    assert '# Backup vault drift report' in run.markdown
    return report


@pytest.fixture
def drift(emulator):
    emulator.load_fleet(drift_fleet())
    emulator.clear_journal()


FIXABLE = {('rsv-unset', 'immutability'), ('rsv-guarded', 'immutability'), ('bv-disabled', 'immutability'),
           ('bv-two', 'immutability'), ('rsv-weak', 'retention'),
           ('rsv-softoff', 'soft_delete'), ('bv-short', 'soft_delete_retention_days')}
# Azure updates no Backup vault policy: bv-disabled's and bv-two's weak policies are not fixable (before, both were raised).
UNFIXABLE = {('rsv-weekly', 'retention'), ('bv-disabled', 'retention'), ('bv-two', 'retention')}


def findings(report, **match):
    return {(v['name'], f['setting']) for v in report['vaults'] for f in v['findings']
            if all(f[k] == value for k, value in match.items())}


LISTED = [{'id': vault_id('rsv-unset')}, {'name': 'bv-disabled', 'resource_group': RG, 'vault_type': 'backup'},
          {'name': 'rsv-missing', 'resource_group': RG, 'vault_type': 'recovery_services'}]
LISTED_AND_DISCOVERED = {'harden_backup_vaults_vaults': [{'id': vault_id('rsv-unset')}], 'harden_backup_vaults_discover': True,
                         'harden_backup_vaults_exclude': ['RSV-W*', vault_id('bv-disabled', 'backup').upper()],
                         'harden_backup_vaults_resource_groups': [RG, 'rg-absent'], 'harden_backup_vaults_tags': {}}


@pytest.fixture(scope='module')
def role_run(module_runner):
    """One ansible-playbook run (batching.Batch), its steps read back as ``run.steps[name]``:

    - the check-mode steps on the drift fleet (``checks``): none of them writes, so each finds the fleet as a run of its
      own did;
    - test_one_failing_vault...'s two role runs (the collection's playbook's role, with the same variables), on the drift
      fleet loaded again with FAILING_PATCH set, then the faults cleared between them;
    - the clean fleet's steps (``clean``), on the clean fleet loaded in the run: fail_on_drift (a play of its own), then
      the module_defaults test's three steps in a play with those module_defaults. None of them writes.

    Each test asserts on its own steps: ``failed`` where a run of its own had ``rc != 0``, its part of the output, its
    reports, its requests and writes."""
    fresh_fleet(module_runner, drift_fleet())
    batch = Batch(module_runner).role_steps([
        step('check', check=True, diff=True, **ENFORCE_ALL),
        step('with_modules', check=True, diff=True, harden_backup_vaults_check_with_modules=True, **ENFORCE_ALL),
        step('fail_on_drift', check=True, harden_backup_vaults_fail_on_drift=True, **ENFORCE_ALL),
        step('listed', check=True, harden_backup_vaults_vaults=LISTED, harden_backup_vaults_fail_on_error=False),
        step('listed_and_discovered', check=True, **LISTED_AND_DISCOVERED),
        step('nulls', check=True, harden_backup_vaults_immutability=None, harden_backup_vaults_discover=None,
             harden_backup_vaults_soft_delete={}, harden_backup_vaults_retention_minimum={}),
        step('null_dict', check=True, harden_backup_vaults_soft_delete=None),
        step('per_datastore', check=True, harden_backup_vaults_subscription_ids=['all'],
             harden_backup_vaults_retention_minimum={'daily': {'VaultStore': '30d'}, 'log': '7d'}),
    ])
    batch.emulator(reset=True, load_fleet=drift_fleet(), faults=[FAILING_PATCH])
    batch.role_steps([step('failing', harden_backup_vaults_auth={'api_retries': 0}, **ENFORCE_ALL)])
    batch.emulator(clear_faults=True)
    batch.role_steps([step('tolerant', harden_backup_vaults_fail_on_error=False, **ENFORCE_ALL)])
    batch.emulator(reset=True, load_fleet=clean_fleet())
    batch.role_steps([step('clean', check=True, diff=True, harden_backup_vaults_fail_on_drift=True)])
    batch.role_steps([
        step('not_read', check=True, harden_backup_vaults_fail_on_error=False),
        step('empty_allowed', check=True, harden_backup_vaults_fail_on_error=False, harden_backup_vaults_allow_empty_scope=True),
        step('auth', check=True, harden_backup_vaults_auth={'subscription_id': SUB1}),
    ], module_defaults={'group/vaultlock.azure.all': {'subscription_id': BOGUS, 'api_retries': 0}})
    return batch.play(marks=[vault_id('rsv-unset'), vault_id('bv-two', 'backup', sub=SUB2, rg='rg-two')])


@pytest.fixture(scope='module')
def checks(role_run):
    """The check-mode steps on the drift fleet, the first play of role_run."""
    return role_run.steps


def test_check_mode_sends_no_write_and_reports_the_drift(checks):
    run = checks['check']
    assert run.failed is None, run.output
    assert run.writes == []
    report = check_reports(run)
    assert report['check_mode'] is True
    assert findings(report, fixable=True) == FIXABLE
    assert findings(report, fixable=False) == UNFIXABLE
    assert report['summary']['vaults'] == 10 and report['summary']['resolved'] == 0
    assert run.vault('rsv-softoff')['actions']['soft_delete'] == {'state': 'on', 'retention_days': 30}
    # What a real run would change, per vault, in the report and as --diff output.
    assert {c['name'] for c in report['changed']} == {'rsv-unset', 'rsv-guarded', 'bv-disabled', 'bv-two', 'rsv-weak', 'rsv-softoff', 'bv-short'}
    # One controller-side task shows every drifting vault's diff; no module runs per vault in check mode.
    assert '--- before: rsv-unset (recovery_services' in run.output
    assert '-immutability: disabled' in run.output and '+immutability: enabled' in run.output
    assert re.search(r'\+retention \S+/daily/Full: P30D', run.output)
    assert 'rsv-locked' not in run.markdown.split('## Drift', 1)[1].split('##', 1)[0]
    assert (run.after.resource(vault_id('rsv-unset'))['properties'].get('securitySettings') or {}).get('immutabilitySettings') is None
    vault_reads = [j for j in run.requests if '/vaults/' in j['path'].lower() and j['method'] == 'GET']
    assert not [j for j in vault_reads if not j['path'].lower().endswith('/backuppolicies')]


def test_check_mode_with_modules_predicts_through_the_state_modules(checks):
    run = checks['with_modules']
    assert run.failed is None, run.output
    assert run.writes == []
    report = check_reports(run)
    assert {c['name'] for c in report['changed']} == {'rsv-unset', 'rsv-guarded', 'bv-disabled', 'bv-two', 'rsv-weak', 'rsv-softoff', 'bv-short'}
    assert '-    "immutability": "disabled",' in run.output and '+    "immutability": "enabled",' in run.output
    assert '"daily/Full": "P30D"' in run.output


# Apply, then check again: tests/integration/test_harden_role_steps.py (one ansible-playbook run).


BV_WEAK = {('bv-disabled', 'DiskWeak', 'OperationalStore', 'P7D'), ('bv-two', 'PostgresWeak', 'VaultStore', 'P7D')}


def test_a_weak_backup_vault_policy_is_reported_not_fixable_and_never_sent(role_run, emulator):
    """The collection playbook with retention mode enforce, in check mode and for real: each Backup vault's weak policy is
    a finding no run fixes, with what to do instead, no raise is planned or predicted, and no policy PUT reaches a Backup
    vault; the Recovery Services vault's weak policy is raised as before. Azure (the emulator) refuses the update the run
    does not send, through azure-mgmt-dataprotection. Before, both Backup vault policies were raised: two PUTs Azure
    refuses."""
    from azure.core.exceptions import HttpResponseError  # the SDK's error, imported where the SDK is used
    for name in ('check', 'tolerant'):
        run = role_run.steps[name]
        assert run.failed is None, run.output
        report = check_reports(run)
        weak = {(v['name'], f['policy'], f['datastore'], f['have']) for v in report['vaults'] for f in v['findings']
                if f['setting'] == 'retention' and v['vault_type'] == 'backup'}
        assert weak == BV_WEAK, (name, weak)
        for vault_name in ('bv-disabled', 'bv-two'):
            entry = run.vault(vault_name)
            [retention] = [f for f in entry['findings'] if f['setting'] == 'retention']
            assert retention['fixable'] is False and retention['option'] is None and retention['irreversible'] is False
            assert 'Azure does not update an existing Backup vault policy' in retention['reason']
            assert 'create a policy that keeps at least 30d and move the backup instances to it' in retention['reason']
            assert entry['actions']['raise_policies'] == []
            assert not [c for c in entry.get('changes') or [] if c['setting'] == 'retention'], entry
        by_setting = report['summary']['by_setting']['retention']
        # The Recovery Services weak policy is fixable in check mode and resolved (out of the counts) after the real run.
        assert (by_setting['fixable'], by_setting['unfixable'], by_setting['option']) == ((1 if name == 'check' else 0), 3, 0), by_setting
        # The Markdown and JUnit renderings follow the finding: not fixable there too.
        assert 'Azure does not update an existing Backup vault policy' in run.markdown
        policy_writes = [(e['method'], e['path']) for e in run.writes if '/backuppolicies/' in e['path'].lower()]
        assert not [w for w in policy_writes if '/backupvaults/' in w[1].lower()], policy_writes
        if name == 'tolerant':
            # The first real run of the fleet (the step before, whose one failure is rsv-unset's PATCH) raised rsv-weak's
            # policy; neither sent a policy PUT to a Backup vault.
            first = [(e['method'], e['path'].lower()) for e in role_run.steps['failing'].writes if '/backuppolicies/' in e['path'].lower()]
            assert [m for m, path in first if path.endswith('/vaults/rsv-weak/backuppolicies/sqlweak')] == ['PUT'], first
            assert not [w for w in first if '/backupvaults/' in w[1]], first
        else:
            assert run.vault('rsv-weak')['actions']['raise_policies'] == ['SQLWeak']
            assert run.writes == []
    emulator.load_fleet(drift_fleet())
    client = emulator.dp_client(SUB1)
    current = client.backup_policies.get(RG, 'bv-disabled', 'DiskWeak').as_dict()
    with pytest.raises(HttpResponseError) as refused:
        client.backup_policies.create_or_update(RG, 'bv-disabled', 'DiskWeak', {'properties': current['properties']})
    assert refused.value.status_code == 400 and refused.value.error.code == 'UserErrorBMSUpdatePolicyNotSupported'


def test_fail_on_drift_fails_after_writing_the_reports(checks):
    run = checks['fail_on_drift']
    assert run.failed is not None
    assert '8 of 10 vaults drift from the baseline' in run.output, run.output[-3000:]
    report = check_reports(run)
    assert report['summary']['drifting'] == 8
    assert run.writes == []


BOGUS = '99999999-9999-9999-9999-999999999999'


@pytest.fixture(scope='module')
def clean(role_run):
    """The clean fleet's steps of role_run."""
    return role_run.steps


# test_one_failing_vault_does_not_stop_the_others: every PATCH of rsv-unset fails.
FAILING_PATCH = {'method': 'PATCH', 'path_regex': '/vaults/rsv-unset$', 'status': 500, 'times': 20}


def test_fail_on_drift_passes_on_a_clean_fleet_that_costs_one_discovery(clean):
    run = clean['clean']
    assert run.failed is None, run.output
    report = check_reports(run)
    assert report['summary']['drifting'] == 0 and report['summary']['vaults'] == 3
    journal = run.requests
    # One Resource Graph query (the vaults, their policies joined); no ARM read of a vault, no write.
    assert [(e['method'], e['path']) for e in journal] == [('POST', '/providers/Microsoft.ResourceGraph/resources')]
    assert report['discovery']['source_by_subscription'] == {SUB1: 'resource_graph'}
    # The apply task did not run (nothing to change; check mode).
    applied = run.output.split('Change the vaults that drift] ***', 1)[1].split('TASK [')[0]
    assert 'skipping: [localhost]' in applied and '(item=' not in run.output


def test_one_failing_vault_does_not_stop_the_others(role_run):
    # Two role steps of role_run (runs of the collection's playbook before): FAILING_PATCH set, then cleared.
    run = role_run.steps['failing']
    assert run.failed is not None
    assert '1 error: a vault or a scope could not be read or changed; see ' in run.output
    report = check_reports(run)
    # The summary line counts in words that agree with the numbers ('1 errors' before).
    summary = re.search(r'"(Apply: \d+ of 10 vaults drift \(.*?)"', run.output)
    assert summary, run.output
    changed, resolved = len(report['changed']), report['summary']['resolved']
    assert summary.group(1).endswith('; %d vault%s changed, %d finding%s resolved, 1 error.' % (
        changed, '' if changed == 1 else 's', resolved, '' if resolved == 1 else 's')), summary.group(1)
    assert [(e['vault'], e['action']) for e in report['errors']] == [('rsv-unset', 'immutability')]
    assert run.vault('rsv-unset')['status'] == 'drift'
    assert immutability(run.after, 'bv-two', 'backup', SUB2, 'rg-two') == 'Unlocked'
    assert immutability(run.after, 'rsv-unset') is None

    tolerant = role_run.steps['tolerant']
    assert tolerant.failed is None, tolerant.output
    assert immutability(tolerant.after, 'rsv-unset') == 'Unlocked'


def test_listed_vaults_exclusions_and_discovery_errors(checks):
    run = checks['listed']
    assert run.failed is None, run.output
    report = check_reports(run)
    assert sorted(v['name'] for v in report['vaults']) == ['bv-disabled', 'rsv-unset']
    assert len(report['errors']) == 1 and 'rsv-missing' in report['errors'][0]['scope'] + report['errors'][0]['message']

    run = checks['listed_and_discovered']
    assert run.failed is not None  # rg-absent cannot be read: an error, after the reports
    report = check_reports(run)
    assert sorted(v['name'] for v in report['vaults']) == ['bv-locked', 'bv-short', 'rsv-guarded', 'rsv-locked', 'rsv-softoff', 'rsv-unset']
    assert any('rg-absent' in e['scope'] + e['message'] for e in report['errors'])
    # The role's failure names the scope it could not read (harden_plan's scope_errors), not only a count.
    assert '1 error: could not read resource group rg-absent: ' in ' '.join(run.failed['msg'].split()), run.failed
    assert '.; see ' not in run.failed['msg'] and 'it); see ' in ' '.join(run.failed['msg'].split())


# Bad role variables: tests/integration/test_role_bad_variables.py (all the cases in one ansible-playbook run).


def test_play_module_defaults_reach_the_role_and_auth_overrides_them(clean):
    """module_defaults group/vaultlock.azure.all of the play apply inside the role; harden_backup_vaults_auth wins.
    The three check runs are steps of one play with those module_defaults (the ``clean`` fixture's second play)."""
    steps = clean

    # A run that read no vault fails with the cause first (issue 26), whatever fail_on_error says...
    result = steps['not_read']
    assert result.failed is not None and 'The run did not read its scope: could not read' in ' '.join(result.output.split()), result.output
    # ... unless an empty scope is allowed; the reports say why either way.
    result = steps['empty_allowed']
    assert result.failed is None, result.output
    report = result.report
    assert report['vaults'] == [] and 'SubscriptionNotFound' in report['errors'][0]['message']
    assert len(report['errors']) == 1          # one error for the subscription, not one per vault kind
    result = steps['auth']
    assert result.failed is None, result.output
    report = result.report
    assert len(report['vaults']) == 3 and report['errors'] == []


def test_a_minimum_only_per_datastore_that_checks_no_vm_or_workload_tier_is_a_warning(role_run, checks):
    """harden_backup_vaults_retention_minimum {daily: {VaultStore: 30d}, log: 7d}: its daily key, given only per datastore,
    checks no daily tier of the Recovery Services VM, SQL and SAP HANA policies (their tiers have no datastore), though its
    log key is a plain duration (before, only a minimum whose every value was per datastore was warned of): the run warns,
    in its output and in every report, naming the minimum's key, the policies and how to write it; it writes nothing and
    finds nothing more. The weekly-only VM policy (no daily tier: a finding of its own) and the Backup vault policies
    (their tiers have a datastore) are not named."""
    run = checks['per_datastore']
    assert run.failed is None, run.output[-3000:]
    assert run.writes == []
    report = check_reports(run)
    warned = [w for w in report['warnings'] if w.startswith('harden_backup_vaults_retention_minimum.')]
    assert warned == [
        "harden_backup_vaults_retention_minimum.daily is given only per datastore (VaultStore), so it checks no daily tier of 5 "
        "policies in 5 vaults ('rsv-guarded/VMDaily', 'rsv-locked/HanaDaily', 'rsv-softoff/VMDaily', 'rsv-unset/VMDaily', "
        "'rsv-weak/SQLWeak'): the retention tiers of Recovery Services VM, SQL and SAP HANA policies have no datastore, and a "
        "value given per datastore applies to none of them; a plain duration (daily: 30d) applies to every datastore and to "
        "tiers without one"], report['warnings']
    # harden_plan's result warnings: Ansible writes them to the run's stderr (no other step of the run has this minimum).
    assert 'harden_backup_vaults_retention_minimum.daily is given only per datastore (VaultStore), so it checks no daily tier of 5' \
        in ' '.join(role_run.stderr.split())
    # Every report says it: drift.md, drift.html, drift.sarif (a notification), drift.junit.xml.
    needle = 'harden_backup_vaults_retention_minimum.daily is given only per datastore'
    assert needle in run.markdown.replace('\\', '')
    assert needle in (run.report_dir / 'drift.html').read_text()
    assert needle in (run.report_dir / 'drift.junit.xml').read_text()
    sarif = json.loads((run.report_dir / 'drift.sarif').read_text())
    assert [n for n in sarif['runs'][0]['invocations'][0]['toolExecutionNotifications'] if n['message']['text'].startswith(needle)]
    retention = {(v['name'], f['policy']) for v in report['vaults'] for f in v['findings'] if f['setting'] == 'retention'}
    assert not [name for name, _policy in retention if name in ('rsv-guarded', 'rsv-locked', 'rsv-softoff', 'rsv-unset', 'rsv-weak')]


def test_documented_null_values_work_and_null_dicts_are_refused_clearly(checks):
    """harden_backup_vaults_immutability and harden_backup_vaults_discover take null; the dict variables take {}."""
    run = checks['nulls']
    assert run.failed is None, run.output[-3000:]
    report = check_reports(run)
    assert report['baseline'] == dict({'immutability': None, 'allow_irreversible': False, 'retention': None, 'soft_delete': None},
                                      **SECURITY_NULL)
    assert report['summary']['findings'] == 0 and report['summary']['vaults'] == 9
    assert not [e for e in run.requests if e['path'].lower().endswith('/backuppolicies')]   # retention unchecked: no policy read
    run = checks['null_dict']
    assert run.failed is not None and 'harden_backup_vaults_soft_delete must be a dictionary, got NoneType' in run.output
    assert run.writes == []
