# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES run as written (taken from ansible-doc, unchanged) against the emulator.

Each module's examples are the tasks of one play whose module_defaults carry the emulator's authentication, against a
fleet that has the vaults, resource groups and subscriptions the examples name. The play must finish with every task ok.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.emulator import generator as templates
from tests.emulator.client import is_write
from tests.integration.conftest import fresh_fleet, results_task
from tests.integration.fleets import SUB1, SUB2, vault, vault_id

MODULES = ('vault_immutability', 'vault_immutability_info', 'vault_soft_delete', 'backup_policy_retention',
           'backup_policy_retention_info', 'drift_diff', 'vault_lock_readiness_info', 'vault_security_settings')


def pol(name, body):
    return {'name': name, 'properties': body}


def examples_fleet():
    """The vaults the EXAMPLES name: rsv-prod-01 and rsv-locked-01 (rg-backup-prod), bv-prod (rg-backup), rsv-a and bv-b
    (rg), in the subscriptions 1111... and 2222..."""
    return {'subscriptions': [
        {'id': SUB1, 'display_name': 'examples-1', 'resource_groups': [
            {'name': 'rg-backup-prod', 'location': 'westeurope', 'vaults': [
                vault('rsv-prod-01', 'recovery_services', 'disabled', tags={'env': 'prod'},
                      policies=[pol('DailyPolicy', templates.iaas_v1(False)), pol('SQLWeak', templates.sql(True))],
                      protected_items=[{'name': 'vm-app-01', 'policy': 'DailyPolicy', 'datasource_type': 'VM'},
                                       {'name': 'db-01', 'policy': 'SQLWeak', 'datasource_type': 'SQLDataBase'}]),
                vault('rsv-locked-01', 'recovery_services', 'locked', policies=[pol('SQLWeak', templates.sql(True))]),
            ]},
            {'name': 'rg-backup', 'location': 'westeurope', 'vaults': [
                vault('bv-prod', 'backup', 'disabled', tags={'env': 'prod'},
                      policies=[pol('DiskHourly', templates.dp_disk(True)), pol('BlobDaily', templates.dp_blob(True))]),
            ]},
            {'name': 'rg', 'location': 'northeurope', 'vaults': [
                vault('rsv-a', 'recovery_services', 'enabled', policies=[pol('VMDaily', templates.iaas_v1(False))]),
                vault('bv-b', 'backup', 'enabled', policies=[pol('BlobDaily', templates.dp_blob(False))]),
            ]},
        ]},
        {'id': SUB2, 'display_name': 'examples-2', 'resource_groups': [
            {'name': 'rg-two', 'location': 'westeurope', 'vaults': [
                vault('rsv-two', 'recovery_services', 'enabled', tags={'env': 'prod'}),
            ]},
        ]},
    ]}


@pytest.fixture(scope='module')
def examples():
    """{module: [tasks]} from ansible-doc, the way a reader sees them."""
    from tests.integration.conftest import ensure_collection_link  # pylint: disable=import-outside-toplevel
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ensure_collection_link()))
    exe = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
    docs = json.loads(subprocess.run([exe, '-t', 'module', '--json'] + ['vaultlock.azure.' + m for m in MODULES], env=env,
                                     capture_output=True, text=True, check=True).stdout)
    return {name.split('.')[-1]: yaml.safe_load(data['examples']) for name, data in docs.items()}


def examples_play(emulator, tasks, name):
    ep = emulator.endpoint
    auth = {'cloud_environment': ep['arm_url'], 'tenant': ep['tenant_id'], 'client_id': ep['client_id'],
            'secret': ep['client_secret'], 'subscription_id': SUB1}
    return {'name': 'EXAMPLES of %s' % name, 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
            'module_defaults': {'group/vaultlock.azure.all': auth}, 'tasks': tasks}


def run_plays(runner, plays, tmp_path, name, extra_env=None):
    """ansible-playbook on the plays; asserts it succeeded with no task unreachable, failed or skipped. Returns (the
    recap's ok count, the output)."""
    path = tmp_path / ('examples-%s.yml' % name)
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(path)]
    proc = subprocess.run(cmd, env=runner.env(extra_env), capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    recap = re.search(r'localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)', output)
    assert recap, output
    ok, _changed, unreachable, failed, skipped = (int(g) for g in recap.groups())
    assert (unreachable, failed, skipped) == (0, 0, 0), output
    return ok, output


def count_tasks(tasks):
    return sum(count_tasks(t['block']) if 'block' in t else 1 for t in tasks)


# Every module's play is a part of one ansible-playbook run (``examples_run``): first the modules whose examples only read,
# one play each on the examples' fleet, which none of them changes; then each module that writes, after a play that loads
# the examples' fleet afresh (vaultlock_test_emulator; the journal kept) and before one that reads back what its test
# asserts on. Journal marks on those helper plays give each part its own span of the journal.
READ_ONLY = ('vault_immutability_info', 'backup_policy_retention_info', 'drift_diff', 'vault_lock_readiness_info')
WRITING = tuple(m for m in MODULES if m not in READ_ONLY)
RSV_PROD = vault_id('rsv-prod-01', 'recovery_services', rg='rg-backup-prod')
BV_PROD = vault_id('bv-prod', 'backup', rg='rg-backup')
BLOB_DAILY = BV_PROD + '/backupPolicies/BlobDaily'


def helper_play(name, task):
    return {'name': name, 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
            'tasks': [dict(task, check_mode=False)]}


class ExamplesRun:
    """The shared run: the recap's ok count, the output, the journal, the marks and the read-back documents."""

    def __init__(self, ok, output, journal, marks, results):
        self.ok, self.output, self.journal, self.marks, self.results = ok, output, journal, marks, results

    def writes(self, part):
        """The writes of a part: from the end of its fresh-fleet task to the start of its read-back."""
        return [e for e in self.journal[self.marks['fresh__%s' % part]['end']:self.marks['after__%s' % part]['start']] if is_write(e)]

    def resource(self, module, arm_id):
        return self.results['after__%s' % module]['resources'][arm_id]

    def state(self, module, arm_id):
        return self.resource(module, arm_id)['properties']['securitySettings']


@pytest.fixture(scope='module')
def examples_run(module_runner, examples, tmp_path_factory):
    emulator = fresh_fleet(module_runner, examples_fleet())
    fleet = examples_fleet()
    tmp = tmp_path_factory.mktemp('examples-run')
    fresh = {'vaultlock_test_emulator': {'reset': True, 'load_fleet': fleet}}
    plays = [helper_play('fresh fleet: read-only', dict(fresh, register='fresh__read_only'))]
    plays += [examples_play(emulator, examples[m], m) for m in READ_ONLY]
    read = {'vaultlock_test_emulator': {'read': [RSV_PROD, BV_PROD, BLOB_DAILY]}}
    plays.append(helper_play('read back: read-only', dict(read, register='after__read_only')))
    names = ['after__read_only']
    for module in WRITING:
        plays.append(helper_play('fresh fleet: %s' % module, dict(fresh, register='fresh__%s' % module)))
        plays.append(examples_play(emulator, examples[module], module))
        plays.append(helper_play('read back: %s' % module, dict(read, register='after__%s' % module)))
        names.append('after__%s' % module)
    out = tmp / 'results.json'
    plays.append(helper_play('results', results_task(names, out)))
    extra_env, marks_out = module_runner.with_marks('examples', [])
    ok, output = run_plays(module_runner, plays, tmp, 'all', extra_env)
    records = [json.loads(line) for line in marks_out.read_text().splitlines()]
    # The helper tasks are ok too: a fresh fleet and a read-back per part (the read-only modules are one), the results task.
    helpers = 2 * (1 + len(WRITING)) + 1
    return ExamplesRun(ok - helpers, output, emulator.journal(), {r['register']: r for r in records},
                       json.loads(out.read_text()))


def play_output(output, name):
    """The part of a run's output from the play 'EXAMPLES of NAME' to the next play or the recap."""
    return re.split(r'^PLAY ', output.split('PLAY [EXAMPLES of %s]' % name, 1)[1], flags=re.M)[0]


@pytest.mark.parametrize('module', MODULES)
def test_examples_run_as_written(examples, module, examples_run):
    tasks = examples[module]
    assert isinstance(tasks, list) and tasks, 'no EXAMPLES for %s' % module
    run = examples_run
    # The run's ok count is every module's tasks; in this module's play, each task ran once and ended ok.
    assert run.ok == sum(count_tasks(examples[m]) for m in MODULES), run.output
    output = play_output(run.output, module)
    assert output.count('\nTASK [') == count_tasks(tasks), output
    assert not re.search(r'^(fatal|failed|skipping): \[|\.\.\.ignoring', output, re.M), output
    if module in READ_ONLY:
        assert run.writes('read_only') == [], output
        if module == 'vault_lock_readiness_info':
            # The sign-off example prints the commitments of rsv-prod-01 (two items on two policies).
            assert 'stop protection with delete data impossible for 2 items until' in output
            assert 'retention of policies DailyPolicy and SQLWeak can never be reduced' in output
        return
    if module == 'vault_immutability':
        rsv = run.state(module, RSV_PROD)['immutabilitySettings']
        assert rsv['state'] == 'Unlocked' and rsv['configuration']['durationInDays'] == 90
        assert run.state(module, BV_PROD)['immutabilitySettings']['state'] == 'Locked'
    elif module == 'vault_soft_delete':
        bv = run.state(module, BV_PROD)['softDeleteSettings']
        assert bv['state'] == 'AlwaysOn' and bv['retentionDurationInDays'] == 60
    elif module == 'backup_policy_retention':
        # Azure updates no Backup vault policy: the Backup vault example reports, and nothing is sent to a Backup vault.
        policy = run.resource(module, BLOB_DAILY)
        assert 'P30D' not in json.dumps(policy['properties'])
        assert not any('/backupvaults/' in w['path'].lower() for w in run.writes(module)), run.writes(module)
        # The Recovery Services vaults' weak policies were raised, the locked vault's with the task's own consent.
        for name in ('rsv-prod-01', 'rsv-locked-01'):
            assert any(w['method'] == 'PUT' and w['path'].lower().endswith('/vaults/%s/backuppolicies/sqlweak' % name)
                       for w in run.writes(module)), name
    else:
        assert module == 'vault_security_settings', module
        rsv = run.resource(module, RSV_PROD)['properties']
        assert rsv['publicNetworkAccess'] == 'Disabled'
        bv = run.resource(module, BV_PROD)['properties']
        assert bv['featureSettings']['crossSubscriptionRestoreSettings']['state'] == 'PermanentlyDisabled'
