# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Results tell the truth after a partial failure, and writes with an unknown outcome are settled by a re-read
(an irreversible one is never sent twice): real ansible-playbook runs against the emulator."""

from __future__ import annotations

import pytest

from tests.emulator import generator as templates
from tests.integration.batching import Batch, PartState
from tests.integration.conftest import PlaybookPart, fresh_fleet, part
from tests.integration.fleets import RG, SUB1, vault, vault_id
from tests.integration.role_steps import step

IMM = 'vaultlock.azure.vault_immutability'
RET = 'vaultlock.azure.backup_policy_retention'


def fleet():
    names = ['rsv-%s' % n for n in ('refused', 'lro', 'lost-lock', 'dropped-lock', 'lost-applied')]
    vaults = [vault(name, 'recovery_services', 'disabled') for name in names]
    weak = [{'name': 'VMDaily', 'properties': templates.iaas_v1(True)}]
    vaults += [vault('rsv-put-lost', 'recovery_services', 'enabled', policies=weak),
               vault('rsv-put-dropped', 'recovery_services', 'enabled', policies=weak),
               vault('rsv-put-locked', 'recovery_services', 'locked', policies=weak)]
    return {'subscriptions': [{'id': SUB1, 'display_name': 'truth', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': vaults}]}]}


def state(emulator, name):
    return ((emulator.resource(vault_id(name))['properties'].get('securitySettings') or {}).get('immutabilitySettings') or {}).get('state')


def sent(emulator, name, method):
    return [j for j in emulator.journal() if j['method'] == method and j['path'].rstrip('/').endswith('/' + name)]


def daily(emulator, name):
    return emulator.resource(vault_id(name) + '/backupPolicies/VMDaily')['properties']['retentionPolicy']['dailySchedule'][
        'retentionDuration']['count']


def lock(name):
    return {'name': name, IMM: {'id': vault_id(name), 'immutability': 'locked', 'allow_irreversible': True}}


def raise_daily(name, **extra):
    args = {'id': vault_id(name), 'minimum': {'daily': '30d'}, 'mode': 'enforce'}
    args.update(extra)
    return {'name': name, RET: args}


FAULTS = [
    # The second PATCH (the lock) is refused; the first (disabled -> enabled) was applied.
    {'method': 'PATCH', 'path_regex': '/vaults/rsv-refused$', 'skip': 1, 'status': 409, 'code': 'UserErrorConflict', 'message': 'busy'},
    # The lock is applied, but its answer is lost: a re-read settles it, nothing is sent again.
    {'method': 'PATCH', 'path_regex': '/vaults/rsv-lost-lock$', 'skip': 1, 'after': True, 'drop': True},
    # The lock never arrives (connection dropped): it is irreversible, so it is not sent a second time.
    {'method': 'PATCH', 'path_regex': '/vaults/rsv-dropped-lock$', 'skip': 1, 'drop': True},
    # A reversible step applied with its answer lost: re-read, then the next step.
    {'method': 'PATCH', 'path_regex': '/vaults/rsv-lost-applied$', 'after': True, 'status': 500},
    # Policy PUTs: applied then answered 500; dropped before arriving; and on a Locked vault, dropped (never resent).
    {'method': 'PUT', 'path_regex': '/vaults/rsv-put-lost/backupPolicies/VMDaily$', 'after': True, 'status': 500},
    {'method': 'PUT', 'path_regex': '/vaults/rsv-put-dropped/backupPolicies/VMDaily$', 'drop': True},
    {'method': 'PUT', 'path_regex': '/vaults/rsv-put-locked/backupPolicies/VMDaily$', 'drop': True},
]
# The lock's long-running operation ends Failed.
LRO_FAIL = {'code': 'UserErrorVaultUpdateFailed', 'message': 'The lock failed.', 'times': 1, 'skip': 1, 'path_regex': '/vaults/rsv-lro$'}
MODULE_TASKS = [lock('rsv-refused'), lock('rsv-lro'), lock('rsv-lost-lock'), lock('rsv-dropped-lock'), lock('rsv-lost-applied'),
                raise_daily('rsv-put-lost'), raise_daily('rsv-put-dropped'), raise_daily('rsv-put-locked', allow_irreversible=True)]
MARKED = [vault_id(t['name']) for t in MODULE_TASKS] + [vault_id(t['name']) + '/backupPolicies/VMDaily' for t in MODULE_TASKS[5:]]


@pytest.fixture(scope='module')
def truth_run(module_runner):
    """One run (batching.Batch): the modules' tasks on the fleet with FAULTS and LRO_FAIL, then the role (the collection's
    playbook's role, with the same variables) on the fleet loaded again with rsv-refused's fault alone."""
    fresh_fleet(module_runner, fleet())
    batch = Batch(module_runner)
    batch.emulator(reset=True, load_fleet=fleet(), faults=FAULTS, settings={'lro_fail': LRO_FAIL})
    batch.tasks(part('modules', MODULE_TASKS))
    batch.emulator(reset=True, load_fleet=fleet(), faults=FAULTS[:1])
    batch.role_steps([step('role', harden_backup_vaults_immutability='locked', harden_backup_vaults_allow_irreversible=True,
                           harden_backup_vaults_vaults=[{'id': vault_id('rsv-refused')}], harden_backup_vaults_retention_minimum={},
                           harden_backup_vaults_soft_delete={})])
    return batch.play(marks=MARKED)


def test_partial_failures_and_unknown_outcomes_are_reported_as_they_happened(truth_run):
    run = PlaybookPart(truth_run, 'modules')
    emulator = PartState(truth_run, 'modules_r0', 'modules_r%d' % (len(MODULE_TASKS) - 1))
    enabled = [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled', 'irreversible': False}]
    for key, name, text in (('r0', 'rsv-refused', 'UserErrorConflict'), ('r1', 'rsv-lro', 'UserErrorVaultUpdateFailed'),
                            ('r3', 'rsv-dropped-lock', 'never sent twice')):
        result = run[key]
        assert result['failed'] is True and result['changed'] is True, (name, result)
        assert result['changes'] == enabled, name
        assert result['vault']['immutability'] == 'enabled' and state(emulator, name) == 'Unlocked', name
        assert text in result['msg'] and name in result['msg'], (name, result['msg'])
    assert 'HTTP 200' not in run['r1']['msg']
    assert len(sent(emulator, 'rsv-dropped-lock', 'PATCH')) == 2            # unlock + one lock, never a second lock
    assert run['r2']['failed'] is False and run['r2']['changed'] is True and state(emulator, 'rsv-lost-lock') == 'Locked'
    assert len(sent(emulator, 'rsv-lost-lock', 'PATCH')) == 2
    assert run['r4']['changed'] is True and state(emulator, 'rsv-lost-applied') == 'Locked'
    assert len(sent(emulator, 'rsv-lost-applied', 'PATCH')) == 2             # the lost answer was not re-sent
    assert run['r5']['changed'] is True and daily(emulator, 'rsv-put-lost') == 30
    assert len(sent(emulator, 'VMDaily', 'PUT')) == 4                        # lost 1 + dropped 2 + locked 1
    assert run['r6']['changed'] is True and daily(emulator, 'rsv-put-dropped') == 30
    assert run['r7']['failed'] is True and run['r7']['changed'] is False and daily(emulator, 'rsv-put-locked') == 7
    assert 'never sent twice' in run['r7']['msg']


def test_role_reports_a_partly_applied_change_under_changed_with_its_error(truth_run):
    # The role's step of truth_run: its failure is what a failed run of the collection's playbook was.
    role = truth_run.steps['role']
    assert role.failed is not None, role.output
    report = role.report
    [changed] = report['changed']
    assert changed['name'] == 'rsv-refused'
    assert [(c['setting'], c['before'], c['after']) for c in changed['changes']] == [('immutability', 'disabled', 'enabled')]
    assert [(e['vault'], e['action']) for e in report['errors']] == [('rsv-refused', 'immutability')]
    assert 'UserErrorConflict' in report['errors'][0]['message']
    assert report['summary']['changed'] == 1 and report['vaults'][0]['status'] == 'drift'
