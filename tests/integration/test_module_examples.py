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
from tests.integration.conftest import fresh_fleet
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


def run_plays(runner, plays, tmp_path, name):
    """ansible-playbook on the plays; asserts it succeeded with no task unreachable, failed or skipped. Returns (the
    recap's ok count, the output)."""
    path = tmp_path / ('examples-%s.yml' % name)
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(path)]
    proc = subprocess.run(cmd, env=runner.env(), capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    recap = re.search(r'localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)', output)
    assert recap, output
    ok, _changed, unreachable, failed, skipped = (int(g) for g in recap.groups())
    assert (unreachable, failed, skipped) == (0, 0, 0), output
    return ok, output


def run_examples(runner, emulator, tasks, tmp_path, name):
    return run_plays(runner, [examples_play(emulator, tasks, name)], tmp_path, name)


def count_tasks(tasks):
    return sum(count_tasks(t['block']) if 'block' in t else 1 for t in tasks)


@pytest.fixture(autouse=True)
def fleet(emulator):
    emulator.load_fleet(examples_fleet())
    emulator.clear_journal()


def state(emulator, name, kind, rg):
    return emulator.resource(vault_id(name, kind, rg=rg))['properties']['securitySettings']


# The modules whose examples only read: their plays run one after the other in one ansible-playbook run (``read_only``),
# on the examples' fleet, which none of them changes (the run's journal holds no write, asserted by each test).
READ_ONLY = ('vault_immutability_info', 'backup_policy_retention_info', 'drift_diff', 'vault_lock_readiness_info')


@pytest.fixture(scope='module')
def read_only(module_runner, examples, tmp_path_factory):
    """(the recap's ok count, the output, the emulator's journal) of the read-only modules' plays in one run."""
    emulator = fresh_fleet(module_runner, examples_fleet())
    ok, output = run_plays(module_runner, [examples_play(emulator, examples[m], m) for m in READ_ONLY],
                           tmp_path_factory.mktemp('read-only-examples'), 'read-only')
    return ok, output, emulator.journal()


def play_output(output, name):
    """The part of a run's output from the play 'EXAMPLES of NAME' to the next play or the recap."""
    return re.split(r'^PLAY ', output.split('PLAY [EXAMPLES of %s]' % name, 1)[1], flags=re.M)[0]


@pytest.mark.parametrize('module', MODULES)
def test_examples_run_as_written(runner, emulator, examples, tmp_path, module, request):
    tasks = examples[module]
    assert isinstance(tasks, list) and tasks, 'no EXAMPLES for %s' % module
    if module in READ_ONLY:
        total, run_output, journal = request.getfixturevalue('read_only')
        # The run's ok count is every read-only module's tasks; in this module's play, each task ran once and ended ok.
        assert total == sum(count_tasks(examples[m]) for m in READ_ONLY), run_output
        output = play_output(run_output, module)
        assert output.count('\nTASK [') == count_tasks(tasks), output
        assert not re.search(r'^(fatal|failed|skipping): \[|\.\.\.ignoring', output, re.M), output
        assert [e for e in journal if is_write(e)] == []
        if module == 'vault_lock_readiness_info':
            # The sign-off example prints the commitments of rsv-prod-01 (two items on two policies).
            assert 'stop protection with delete data impossible for 2 items until' in output
            assert 'retention of policies DailyPolicy and SQLWeak can never be reduced' in output
        return
    ok, output = run_examples(runner, emulator, tasks, tmp_path, module)
    assert ok == count_tasks(tasks), output
    if module == 'vault_immutability':
        rsv = state(emulator, 'rsv-prod-01', 'recovery_services', 'rg-backup-prod')['immutabilitySettings']
        assert rsv['state'] == 'Unlocked' and rsv['configuration']['durationInDays'] == 90
        assert state(emulator, 'bv-prod', 'backup', 'rg-backup')['immutabilitySettings']['state'] == 'Locked'
    elif module == 'vault_soft_delete':
        bv = state(emulator, 'bv-prod', 'backup', 'rg-backup')['softDeleteSettings']
        assert bv['state'] == 'AlwaysOn' and bv['retentionDurationInDays'] == 60
    elif module == 'backup_policy_retention':
        policy = emulator.resource(vault_id('bv-prod', 'backup', rg='rg-backup') + '/backupPolicies/BlobDaily')
        assert 'P30D' in json.dumps(policy['properties'])
        # The locked vault's weak policy was raised with the task's own consent.
        assert any(w['method'] == 'PUT' and w['path'].lower().endswith('/vaults/rsv-locked-01/backuppolicies/sqlweak')
                   for w in emulator.writes())
    else:
        assert module == 'vault_security_settings', module
        rsv = emulator.resource(vault_id('rsv-prod-01', 'recovery_services', rg='rg-backup-prod'))['properties']
        assert rsv['publicNetworkAccess'] == 'Disabled'
        bv = emulator.resource(vault_id('bv-prod', 'backup', rg='rg-backup'))['properties']
        assert bv['featureSettings']['crossSubscriptionRestoreSettings']['state'] == 'PermanentlyDisabled'
