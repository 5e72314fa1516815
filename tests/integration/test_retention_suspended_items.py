# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup_policy_retention on an immutable Recovery Services vault whose policy has an item with its backups suspended
(stop backup, data kept), through ansible-playbook, the real SDKs and the emulator.

Microsoft Learn (MicrosoftDocs/azure-docs articles/backup/backup-azure-immutable-vault-concept.md at b7a53cae1a5e,
Restricted operations, Recovery Services vault): "the increase in retention can't be applied if any item has its backups
suspended (stop backup)"; the emulator refuses such a PUT (tests/emulator/rules.py, check_raise_with_suspended_items).
The module read no item and sent the raise, which Azure refuses; now it reads the vault's protected items (once, only
when an immutable vault would be raised), sends nothing for that policy and says why, in check mode too, as
harden_plan does (tests/unit/plugins/module_utils/test_suspended_items_raise.py).
"""

from __future__ import annotations

import pytest

from tests.emulator import generator
from tests.integration.fleets import RG, SUB1, vault, vault_id

MOD = 'vaultlock.azure.backup_policy_retention'
MINIMUM = {'daily': '365d'}
HELD_REASON = ('; Azure does not apply a retention increase on an immutable vault while an item has its backups suspended (vm-stopped-{name}): '
               'resume their backups, or move them to another policy, first')


def _vault(name, immutability):
    """Two policies keeping 180 days daily: 'held' protects a VM whose backups are suspended and one still protected,
    'free' one protected VM."""
    policies = [{'name': 'held', 'properties': generator.iaas_v2(False)}, {'name': 'free', 'properties': generator.iaas_v2(False)}]
    items = [{'name': 'vm-stopped-' + name, 'policy': 'held', 'datasource_type': 'VM', 'backups_suspended': True},
             {'name': 'vm-running-' + name, 'policy': 'held', 'datasource_type': 'VM'},
             {'name': 'vm-other-' + name, 'policy': 'free', 'datasource_type': 'VM'}]
    return vault(name, 'recovery_services', immutability, policies=policies, protected_items=items)


def fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'suspended', 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
        _vault('rsv-imm', 'enabled'), _vault('rsv-locked', 'locked'), _vault('rsv-open', 'disabled')]}]}]}


def task(name, check=False, **args):
    done = {'name': 'retention %s' % name, MOD: dict({'id': vault_id(name), 'minimum': MINIMUM, 'mode': 'enforce'}, **args)}
    if check:
        done['check_mode'] = True
    return done


TASKS = [
    task('rsv-imm', check=True),                                   # r0: check mode
    task('rsv-imm'),                                               # r1: for real
    task('rsv-imm'),                                               # r2: again
    task('rsv-locked', policies=['held']),                         # r3: Locked, its only raise held: no consent asked
    task('rsv-locked', allow_irreversible=True),                   # r4: Locked, with consent: only 'free'
    task('rsv-open'),                                              # r5: not immutable: Azure applies both raises
]
MARKED = [vault_id(name) + '/backupPolicies/' + policy for name in ('rsv-imm', 'rsv-locked', 'rsv-open') for policy in ('held', 'free')]


@pytest.fixture(scope='module')
def run(module_runner):
    emulator = module_runner.emulator
    emulator.reset()
    emulator.load_fleet(fleet())
    emulator.clear_journal()
    return module_runner.play(TASKS, marks=MARKED)


def puts(run, key):
    return sorted(w['path'].rsplit('/', 1)[-1] for w in run.writes(key) if w['method'] == 'PUT')


def item_reads(run, key):
    return [r for r in run.requests(key) if r['method'] == 'GET' and r['path'].rstrip('/').lower().endswith('/backupprotecteditems')]


def daily(run, key, name, policy):
    return run.after(key).resource(vault_id(name) + '/backupPolicies/' + policy)['properties']['retentionPolicy']['dailySchedule'][
        'retentionDuration']['count']


def held_violation(result, name):
    [held] = [v for v in result['violations'] if v['policy'] == 'held' and v['tier'] == 'daily']
    assert (held['have'], held['need'], held['fixable']) == ('P180D', 'P365D', False), held
    assert held['reason'].endswith(HELD_REASON.format(name=name)), held['reason']


@pytest.mark.parametrize('key', ['r0', 'r1'])
def test_no_put_for_a_policy_with_suspended_items_in_check_mode_and_for_real(run, key):
    result = run[key]
    assert run.rc == 0, run.output
    assert not result.get('failed'), result
    assert result['changed'] is True and sorted({c['policy'] for c in result['changes']}) == ['free']
    held_violation(result, 'rsv-imm')
    assert result['compliant'] is False
    # The request journal: no PUT of 'held' (Azure would refuse it), 'free' raised only for real; the items read once.
    assert puts(run, key) == ([] if key == 'r0' else ['free'])
    assert len(item_reads(run, key)) == 1
    assert daily(run, key, 'rsv-imm', 'held') == 180
    assert daily(run, key, 'rsv-imm', 'free') == (180 if key == 'r0' else 365)


def test_check_mode_predicts_what_the_real_run_does(run):
    predicted, applied = run['r0'], run['r1']
    assert predicted['changes'] == applied['changes'] and predicted['violations'] == applied['violations']


def test_the_run_again_sends_nothing(run):
    """'held' is still below the minimum, so a raise of it is planned and the items are read again (once): nothing is sent."""
    again = run['r2']
    assert not again.get('failed'), again
    assert again['changed'] is False and again['changes'] == []
    held_violation(again, 'rsv-imm')
    assert run.writes('r2') == [] and len(item_reads(run, 'r2')) == 1


def test_a_locked_vault_whose_only_raise_is_held_asks_no_consent_and_sends_nothing(run):
    result = run['r3']
    assert not result.get('failed'), result
    assert result['changed'] is False and run.writes('r3') == []
    held_violation(result, 'rsv-locked')
    with_consent = run['r4']
    assert not with_consent.get('failed'), with_consent
    assert puts(run, 'r4') == ['free'] and [c['irreversible'] for c in with_consent['changes']] == [True]
    assert daily(run, 'r4', 'rsv-locked', 'held') == 180 and daily(run, 'r4', 'rsv-locked', 'free') == 365


def test_a_vault_that_is_not_immutable_is_raised_without_reading_its_items(run):
    result = run['r5']
    assert not result.get('failed'), result
    assert puts(run, 'r5') == ['free', 'held'] and item_reads(run, 'r5') == []
    assert daily(run, 'r5', 'rsv-open', 'held') == 365
