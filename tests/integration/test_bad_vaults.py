# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One bad vault never hides the others: the info module, the inventory plugin and the role each read, judge and
report every other vault of the subscription, and name the bad one with its field."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from tests.integration.batching import Batch
from tests.integration.conftest import PlaybookPart, part
from tests.integration.fleets import RG, SUB1, vault, vault_id
from tests.integration.role_steps import step

BIN = os.path.dirname(sys.executable)


def bad_fleet():
    frozen = vault('rsv-frozen', 'recovery_services', 'enabled')
    frozen['body'] = {'location': 'westeurope', 'properties': {'provisioningState': 'Succeeded', 'securitySettings': {
        'immutabilitySettings': {'state': 'Frozen'}, 'softDeleteSettings': {'softDeleteState': 'Enabled', 'softDeleteRetentionPeriodInDays': 14}}}}
    fractional = vault('bv-fraction', 'backup', 'enabled')
    fractional['body'] = {'location': 'westeurope', 'properties': {'provisioningState': 'Succeeded', 'securitySettings': {
        'softDeleteSettings': {'state': 'On', 'retentionDurationInDays': 14.5}}}}
    bare = vault('rsv-bare', 'recovery_services', 'enabled')
    bare['body'] = {'location': 'westeurope'}
    good = [vault('rsv-good', 'recovery_services', 'disabled'), vault('bv-good', 'backup', 'enabled'),
            vault('rsv-fine', 'recovery_services', 'locked')]
    return {'subscriptions': [{'id': SUB1, 'display_name': 'bad', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': good + [frozen, fractional, bare]}]}]}


BAD = {
    vault_id('rsv-frozen'): 'properties.securitySettings.immutabilitySettings.state',
    vault_id('bv-fraction', 'backup'): 'properties.securitySettings.softDeleteSettings.retentionDurationInDays',
    vault_id('rsv-bare'): 'properties',
}


def test_bad_vaults_are_errors_of_their_own(runner, emulator, tmp_path):
    emulator.load_fleet(bad_fleet())
    emulator.clear_journal()
    # The modules' tasks and the role's check (what ansible-playbook vaultlock.azure.harden_backup_vaults --check ran) in
    # one run (batching.Batch); none writes, so the inventory below reads the fleet as loaded.
    batch = Batch(runner).tasks(part('modules', [{'name': 'info', 'vaultlock.azure.vault_immutability_info': {}},
                                                 {'name': 'one bad vault', 'vaultlock.azure.vault_immutability': {'id': vault_id('rsv-frozen')}}]))
    shared = batch.role_steps([step('role', check=True, harden_backup_vaults_report_dir=str(tmp_path / 'reports'))]).play()
    run = PlaybookPart(shared, 'modules')
    info = run['r0']
    assert info.get('failed') is not True, info
    assert sorted(v['name'] for v in info['vaults']) == ['bv-good', 'rsv-fine', 'rsv-good']
    assert {e['scope']: e['field'] for e in info['errors']} == BAD
    assert all(e['scope'] in e['message'] and e['field'] in e['message'] for e in info['errors'])
    assert 'invalid literal' not in json.dumps(info)
    # A state module on the bad vault fails clearly, naming it and the field, before any write.
    assert run['r1']['failed'] is True and BAD[vault_id('rsv-frozen')] in run['r1']['msg'] and 'Traceback' not in run.output
    assert run.writes('r0') + run.writes('r1') == []

    # The inventory: the good vaults as usual, the bad ones in group unreadable only, and a non-empty inventory.
    path = tmp_path / 'bad.backup_vaults.yml'
    path.write_text(yaml.safe_dump({'plugin': 'vaultlock.azure.backup_vaults'}))
    proc = subprocess.run([os.path.join(BIN, 'ansible-inventory'), '-i', str(path), '--list'],
                          env=runner.env({'ANSIBLE_INVENTORY_UNPARSED_FAILED': '1', 'ANSIBLE_INVENTORY_ENABLED': 'vaultlock.azure.backup_vaults'}),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert sorted(doc['unreadable']['hosts']) == ['bv-fraction', 'rsv-bare', 'rsv-frozen']
    assert sorted(doc['immutability_enabled']['hosts'] + doc['immutability_disabled']['hosts'] + doc['immutability_locked']['hosts']) == [
        'bv-good', 'rsv-fine', 'rsv-good']
    unreadable = doc['_meta']['hostvars']['rsv-frozen']['vaultlock_vault']
    field = unreadable['unreadable']['field']
    assert (field.get('__ansible_unsafe') if isinstance(field, dict) else field) == BAD[vault_id('rsv-frozen')]
    assert 'rsv-frozen' in proc.stderr

    # The role: the good vaults are judged and reported, each bad one is an error in the reports.
    reports = tmp_path / 'reports'
    role = shared.steps['role']
    assert role.failed is not None, role.output     # errors fail the run (harden_backup_vaults_fail_on_error), after the reports
    report = json.loads((reports / 'drift.json').read_text())
    assert report['summary']['vaults'] == 3 and sorted(v['name'] for v in report['vaults']) == ['bv-good', 'rsv-fine', 'rsv-good']
    assert sorted(e['scope'] for e in report['errors']) == sorted(BAD)
    assert '3 errors' in role.output and 'of 3 vaults drift' in (reports / 'drift.md').read_text()
    assert role.writes == []
