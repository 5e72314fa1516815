# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 25: the read after an accepted write is retried, and a resource that still cannot be read back is reported as
changed with outcome unknown, never as `changed: false`: vault_immutability and backup_policy_retention (as
vault_soft_delete already does), on the module path and through the role's harden_apply, with real ansible-playbook runs
against the emulator. The faults answer the re-read with a truncated body (HTTP 200), which no transport retry hides."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.emulator import generator as templates
from tests.integration.batching import Batch, PartState
from tests.integration.conftest import PlaybookPart, fresh_fleet, part
from tests.integration.fleets import RG, SUB1, vault, vault_id

IMM = 'vaultlock.azure.vault_immutability'
RET = 'vaultlock.azure.backup_policy_retention'
TRUNCATED = '{"id": "/subscriptions/'


def fleet():
    weak = [{'name': 'VMDaily', 'properties': templates.iaas_v1(True)}]
    vaults = [vault(name, 'recovery_services', 'disabled') for name in ('rsv-once', 'rsv-never', 'rsv-role')]
    vaults += [vault(name, 'recovery_services', 'enabled', policies=weak) for name in ('rsv-pol-once', 'rsv-pol-never', 'rsv-pol-role')]
    return {'subscriptions': [{'id': SUB1, 'display_name': 'reread', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': vaults}]}]}


def state(emulator, name):
    return ((emulator.resource(vault_id(name))['properties'].get('securitySettings') or {}).get('immutabilitySettings') or {}).get('state')


def daily(emulator, name):
    return emulator.resource(vault_id(name) + '/backupPolicies/VMDaily')['properties']['retentionPolicy']['dailySchedule'][
        'retentionDuration']['count']


def sent(emulator, name, method):
    return [j for j in emulator.journal() if j['method'] == method and j['path'].rstrip('/').endswith('/' + name)]


@pytest.fixture
def reread_fleet(emulator):
    emulator.load_fleet(fleet())
    emulator.settings(policy_put_async=True)      # the policy PUT answers 202: the policy is read back after it
    emulator.clear_journal()


def vault_fault(name, skip, times):
    return {'method': 'GET', 'path_regex': '/vaults/%s$' % name, 'skip': skip, 'times': times, 'status': 200, 'raw_body': TRUNCATED,
            'content_type': 'application/json'}


def unreadable_vault_after_patch(name, times):
    # A vault task reads the vault, PATCHes it, the SDK's poller reads it at the end of the operation, then the module
    # reads it back: the fault answers that read back (and the ones after it) with a truncated body.
    return vault_fault(name, 2, times)


def unreadable_policy_after_put(name, times):
    return {'method': 'GET', 'path_regex': '/vaults/%s/backupPolicies/VMDaily$' % name, 'times': times, 'status': 200,
            'raw_body': TRUNCATED, 'content_type': 'application/json'}


MARKED = [vault_id(name) for name in ('rsv-once', 'rsv-never')]
MARKED += [vault_id(name) + '/backupPolicies/VMDaily' for name in ('rsv-pol-once', 'rsv-pol-never')]


@pytest.fixture(scope='module')
def modules_run(module_runner):
    """The modules' four tasks, then (on a fresh fleet, its own fault) vault_security_settings' task: one run
    (batching.Batch), each part's faults set in the run right before it, on the fleet of reread_fleet."""
    fresh_fleet(module_runner, fleet())
    batch = Batch(module_runner)
    batch.emulator(reset=True, load_fleet=fleet(), settings={'policy_put_async': True},
                   faults=[unreadable_vault_after_patch('rsv-once', 1), unreadable_vault_after_patch('rsv-never', 20),
                           unreadable_policy_after_put('rsv-pol-once', 1), unreadable_policy_after_put('rsv-pol-never', 20)])
    batch.tasks(part('modules', [
        {IMM: {'id': vault_id('rsv-once'), 'immutability': 'enabled'}},
        {IMM: {'id': vault_id('rsv-never'), 'immutability': 'enabled'}},
        {RET: {'id': vault_id('rsv-pol-once'), 'minimum': {'daily': '30d'}, 'mode': 'enforce'}},
        {RET: {'id': vault_id('rsv-pol-never'), 'minimum': {'daily': '30d'}, 'mode': 'enforce'}},
    ]))
    batch.emulator(reset=True, load_fleet=fleet(), settings={'policy_put_async': True}, faults=[vault_fault('rsv-once', 1, 20)])
    batch.tasks(part('settings', [{'vaultlock.azure.vault_security_settings': {'id': vault_id('rsv-once'),
                                                                               'public_network_access': 'disabled'}}]))
    return batch.play(marks=MARKED)


def test_the_modules_read_again_after_an_accepted_write_and_report_an_unreadable_result_as_unknown(modules_run):
    run = PlaybookPart(modules_run, 'modules')
    emulator = PartState(modules_run, 'modules_r0', 'modules_r3')
    enabled = [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled', 'irreversible': False}]
    # One unreadable answer: read again, and the task succeeds with what the second read shows.
    assert run['r0'].get('failed') is not True and run['r0']['changed'] is True, run['r0']
    assert run['r0']['changes'] == enabled and run['r0']['vault']['immutability'] == 'enabled'
    assert state(emulator, 'rsv-once') == 'Unlocked' and len(sent(emulator, 'rsv-once', 'PATCH')) == 1
    # Never readable again: failed, changed, outcome unknown; the PATCH was sent once, never again.
    never = run['r1']
    assert never['failed'] is True and never['changed'] is True and never['outcome'] == 'unknown', never
    assert never['changes'] == enabled
    assert 'whether it changed is unknown' in never['msg'] and 'rsv-never' in never['msg'], never['msg']
    assert state(emulator, 'rsv-never') == 'Unlocked' and len(sent(emulator, 'rsv-never', 'PATCH')) == 1
    assert len(sent(emulator, 'rsv-never', 'GET')) >= 5         # the read, the poller's, and three reads back
    # The same for a policy PUT that Azure accepted (202).
    once = run['r2']
    assert once.get('failed') is not True and once['changed'] is True, once
    assert [c['after'] for c in once['changes']] == ['P30D'] and daily(emulator, 'rsv-pol-once') == 30
    never = run['r3']
    assert never['failed'] is True and never['changed'] is True and never['outcome'] == 'unknown', never
    assert [(c['policy'], c['after']) for c in never['changes']] == [('VMDaily', 'P30D')]
    assert 'whether it changed is unknown' in never['msg'], never['msg']
    assert daily(emulator, 'rsv-pol-never') == 30
    assert len(sent(emulator, 'rsv-pol-never', 'PUT')) == 0 and len(sent(emulator, 'VMDaily', 'PUT')) == 2   # one PUT each


@pytest.mark.usefixtures('reread_fleet')
def test_the_role_reports_an_unreadable_result_after_an_accepted_write_as_changed(runner, emulator, tmp_path):
    """harden_apply runs the same state code: the vault and the policy it changed and cannot read back are in the
    report's changes (outcome unknown) and its errors, never reported unchanged."""
    variables = {'harden_backup_vaults_report_dir': str(tmp_path / 'reports'), 'harden_backup_vaults_immutability': 'enabled',
                 'harden_backup_vaults_retention_mode': 'enforce', 'harden_backup_vaults_soft_delete': {},
                 'harden_backup_vaults_vaults': [{'id': vault_id('rsv-role')}, {'id': vault_id('rsv-pol-role')}],
                 'harden_backup_vaults_discovery': 'arm'}
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,',
               'vaultlock.azure.harden_backup_vaults', '-e', json.dumps(variables)]
    # A check run first counts the reads of the vault before any write (check mode sends none).
    subprocess.run(command + ['--check'], env=runner.env(), capture_output=True, text=True, timeout=300, check=True)
    reads_before = len(sent(emulator, 'rsv-role', 'GET'))
    emulator.clear_journal()
    # The apply reads the vault as often as the check run did, then once more before the PATCH (the state task's read):
    # every read after those is unreadable, the poller's own read of the vault once the PATCH succeeded included (harden_apply
    # takes that read as its confirming re-read, so it is the one that must fail here).
    emulator.fault(method='GET', path_regex='/vaults/rsv-role$', skip=reads_before + 1, times=20, status=200, raw_body=TRUNCATED,
                   content_type='application/json')
    emulator.fault(**unreadable_policy_after_put('rsv-pol-role', 20))
    proc = subprocess.run(command, env=runner.env(), capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert len(sent(emulator, 'rsv-role', 'PATCH')) == 1, emulator.journal()
    report = json.loads((tmp_path / 'reports' / 'drift.json').read_text())
    changed = {c['name']: c for c in report['changed']}
    assert set(changed) == {'rsv-role', 'rsv-pol-role'}, (report['changed'], report['errors'])
    assert [(c['setting'], c['after']) for c in changed['rsv-role']['changes']] == [('immutability', 'enabled')]
    assert [c['after'] for c in changed['rsv-pol-role']['changes']] == ['P30D']
    errors = {e['vault']: e for e in report['errors']}
    assert set(errors) == {'rsv-role', 'rsv-pol-role'}, report['errors']
    assert all('whether it changed is unknown' in e['message'] for e in errors.values()), report['errors']
    assert state(emulator, 'rsv-role') == 'Unlocked' and daily(emulator, 'rsv-pol-role') == 30


def test_vault_security_settings_reports_an_unreadable_result_after_an_accepted_patch_as_unknown(modules_run):
    """The same rule for vault_security_settings: once Azure accepted its PATCH, a vault that cannot be read back (here from
    the poller's final read on) is changed with outcome unknown, the PATCH sent once (its fault: vault_fault('rsv-once', 1, 20))."""
    run = PlaybookPart(modules_run, 'settings')
    emulator = PartState(modules_run, 'settings_r0', 'settings_r0')
    result = run['r0']
    assert result['failed'] is True and result['changed'] is True and result['outcome'] == 'unknown', result
    assert [(c['setting'], c['after']) for c in result['changes']] == [('public_network_access', 'disabled')]
    assert 'whether it changed is unknown' in result['msg'], result['msg']
    assert len(sent(emulator, 'rsv-once', 'PATCH')) == 1
    assert emulator.resource(vault_id('rsv-once'))['properties']['publicNetworkAccess'] == 'Disabled'
