# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure.vault_immutability through ansible-playbook, the real SDKs and the emulator."""

from __future__ import annotations

import pytest

from tests.integration.conftest import step
from tests.integration.fleets import RG, SUB1, states_fleet, vault_id

MOD = 'vaultlock.azure.vault_immutability'


@pytest.fixture(autouse=True)
def fleet(emulator):
    emulator.load_fleet(states_fleet())
    emulator.clear_journal()


def api_state(emulator, name, kind='recovery_services'):
    """The stored immutability state; ``emulator`` may also be the emulator right after a task (``run.after('r1')``)."""
    resource = emulator.resource(vault_id(name, kind))
    settings = resource['properties'].get('securitySettings', {}).get('immutabilitySettings')
    return settings.get('state') if settings else None


def task(**args):
    return {'name': 'immutability', MOD: args}


def by_name(name, kind='recovery_services', **args):
    return task(name=name, resource_group=RG, vault_type=kind, **args)


@pytest.mark.parametrize('kind,name', [('recovery_services', 'rsv-unset'), ('backup', 'bv-disabled')])
def test_check_mode_then_apply_then_idempotent(runner, emulator, kind, name):
    # One playbook for three runs: check mode with --diff (r0), apply (r1), apply again (r2).
    task = by_name(name, kind, immutability='enabled')
    run = runner.play([step(task, check=True, diff=True), task, task], marks=[vault_id(name, kind)])
    result = run['r0']
    assert run.rc == 0, run.output
    assert not result.get('failed'), result
    assert result['changed'] is True
    assert result['vault']['immutability'] == 'enabled'          # predicted
    assert result['changes'] == [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled', 'irreversible': False}]
    assert result['diff'] == {'before': {'immutability': 'disabled', 'immutability_retention_days': None},
                              'after': {'immutability': 'enabled', 'immutability_retention_days': None},
                              'before_header': '%s (%s)' % (name, kind), 'after_header': '%s (%s)' % (name, kind)}
    assert run.writes('r0') == []
    assert api_state(run.after('r0'), name, kind) in (None, 'Disabled')

    assert not run['r1'].get('failed'), run['r1']
    assert run['r1']['changed'] is True
    assert run['r1']['vault']['immutability'] == 'enabled'
    writes = run.writes('r1')
    assert [w['method'] for w in writes] == ['PATCH']
    assert api_state(run.after('r1'), name, kind) == 'Unlocked'

    assert not run['r2'].get('failed') and run['r2']['changed'] is False
    assert run.writes('r2') == []


def test_lock_without_consent_fails_before_any_write(runner, emulator):
    # One playbook: the task (r0) and the same in check mode (r1).
    task = by_name('rsv-enabled', immutability='locked')
    run = runner.play([task, step(task, check=True)])
    for key in ('r0', 'r1'):
        result = run[key]
        assert result['failed'] is True
        assert 'cannot be undone' in result['msg'] and "'rsv-enabled'" in result['msg']
    assert 'Traceback' not in run.output
    assert emulator.writes() == []
    assert api_state(emulator, 'rsv-enabled') == 'Unlocked'


def test_lock_with_consent_takes_two_steps_on_recovery_services(runner, emulator):
    run = runner.play([by_name('rsv-unset', immutability='locked', allow_irreversible=True)])
    result = run['r0']
    assert run.rc == 0, run.output
    assert result['changes'] == [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled', 'irreversible': False},
                                 {'setting': 'immutability', 'before': 'enabled', 'after': 'locked', 'irreversible': True}]
    patches = [w for w in emulator.writes() if w['method'] == 'PATCH']
    assert len(patches) == 2
    assert api_state(emulator, 'rsv-unset') == 'Locked'
    assert result['vault']['immutability'] == 'locked'


def test_lock_backup_vault_by_id(runner, emulator):
    run = runner.play([task(id=vault_id('bv-enabled', 'backup'), immutability='locked', allow_irreversible=True)])
    assert run.rc == 0, run.output
    assert run['r0']['changed'] is True
    assert api_state(emulator, 'bv-enabled', 'backup') == 'Locked'


@pytest.mark.parametrize('kind,name,want', [('recovery_services', 'rsv-locked', 'disabled'), ('backup', 'bv-locked', 'disabled')])
def test_leaving_locked_is_refused_without_writes(runner, emulator, kind, name, want):
    run = runner.play([by_name(name, kind, immutability=want, allow_irreversible=True)])
    result = run['r0']
    assert result['failed'] is True
    assert 'irreversible' in result['msg'] and name in result['msg'] and want in result['msg']
    assert emulator.writes() == []


@pytest.mark.parametrize('kind,name', [('recovery_services', 'rsv-locked'), ('backup', 'bv-locked')])
def test_enabled_on_a_locked_vault_is_met_without_writes(runner, emulator, kind, name):
    """Issue 25: Locked is enabled for good, so enabled asks for nothing (before, the task failed as if it left Locked)."""
    run = runner.play([by_name(name, kind, immutability='enabled')])
    result = run['r0']
    assert not result.get('failed') and result['changed'] is False and 'satisfies enabled' in result['note']
    assert emulator.writes() == []


def test_reader_identity_gets_a_clear_permission_error(runner, emulator):
    ep = emulator.endpoint
    env = {'AZURE_CLIENT_ID': ep['readonly_client_id'], 'AZURE_SECRET': ep['readonly_client_secret'],
           'AZURE_CLIENT_SECRET': ep['readonly_client_secret']}
    run = runner.play([by_name('rsv-unset', immutability='enabled')], extra_env=env)
    result = run['r0']
    assert result['failed'] is True
    assert 'AuthorizationFailed' in result['msg'] and 'rsv-unset' in result['msg']
    assert 'Microsoft.RecoveryServices/vaults/write' in result['msg']
    assert 'Traceback' not in run.output
    assert result['error']['status'] == 403
    assert api_state(emulator, 'rsv-unset') is None


def test_not_found_and_bad_input(runner, emulator):
    run = runner.play([
        by_name('rsv-missing', immutability='enabled'),
        task(id='/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/x' % (SUB1, RG), immutability='enabled'),
        task(id='not-an-id', immutability='enabled'),
        task(id=vault_id('rsv-unset'), vault_type='backup', immutability='enabled'),
        by_name('bv-disabled', 'backup', immutability='enabled', immutability_retention_days=90),
        by_name('rsv-unset', immutability='enabled', immutability_retention_days=10),
        by_name('rsv-unset', immutability='sealed'),
    ])
    msgs = [run['r%d' % i]['msg'] for i in range(7)]
    assert all(run['r%d' % i]['failed'] for i in range(7))
    assert 'does not exist' in msgs[0] and run['r0']['error']['status'] == 404
    assert 'not a Recovery Services vault or a Backup vault' in msgs[1]
    assert 'not an ARM id' in msgs[2]
    assert 'vault_type is backup' in msgs[3]
    assert 'Recovery Services vaults only' in msgs[4]
    assert 'between 30 and 36135' in msgs[5]
    assert 'sealed' in msgs[6]
    assert 'Traceback' not in run.output
    assert emulator.writes() == []


def test_mixed_case_id_is_the_same_vault(runner, emulator):
    mixed = vault_id('RSV-ENABLED').replace('/resourceGroups/', '/RESOURCEGROUPS/').replace('Microsoft.RecoveryServices', 'microsoft.recoveryservices')
    run = runner.play([task(id=mixed, immutability='enabled')])
    assert run.rc == 0, run.output
    assert run['r0']['changed'] is False
    assert run['r0']['vault']['name'] == 'rsv-enabled'
    assert emulator.writes() == []


def test_time_based_immutability(runner, emulator):
    # One playbook: the task (r0) and the same again (r1).
    task = by_name('rsv-enabled', immutability='enabled', immutability_retention_days=90)
    run = runner.play([task, task], marks=[vault_id('rsv-enabled')])
    assert run.rc == 0, run.output
    assert not run['r0'].get('failed'), run['r0']
    assert run['r0']['changes'] == [{'setting': 'immutability_retention_days', 'before': None, 'after': 90, 'irreversible': False}]
    settings = run.after('r0').resource(vault_id('rsv-enabled'))['properties']['securitySettings']['immutabilitySettings']
    assert settings['configuration'] == {'type': 'TimeBased', 'durationInDays': 90}
    assert run['r1']['changed'] is False


def test_module_defaults_group_for_auth(runner, emulator):
    ep = emulator.endpoint
    env = {k: '' for k in ('AZURE_CLIENT_ID', 'AZURE_SECRET', 'AZURE_CLIENT_SECRET', 'AZURE_TENANT', 'AZURE_TENANT_ID',
                           'AZURE_SUBSCRIPTION_ID', 'AZURE_CLOUD_ENVIRONMENT')}
    defaults = {'group/vaultlock.azure.all': {
        'auth_source': 'env', 'client_id': ep['client_id'], 'secret': ep['client_secret'], 'tenant': ep['tenant_id'],
        'subscription_id': SUB1, 'cloud_environment': ep['arm_url']}}
    run = runner.play([by_name('bv-disabled', 'backup', immutability='enabled'),
                       {'name': 'info', 'vaultlock.azure.vault_immutability_info': {'vault_types': ['backup']}}],
                      extra_env=env, play_extra={'module_defaults': defaults})
    assert run.rc == 0, run.output
    assert run['r0']['changed'] is True
    assert {v['name'] for v in run['r1']['vaults']} == {'bv-disabled', 'bv-enabled', 'bv-locked'}
    assert ep['client_secret'] not in run.output


def test_vault_still_provisioning_fails_clearly(runner, emulator):
    fleet = states_fleet()
    fleet['subscriptions'][0]['resource_groups'][0]['vaults'].append(
        {'name': 'rsv-busy', 'type': 'recovery_services', 'immutability': 'disabled', 'provisioning_state': 'Updating'})
    emulator.load_fleet(fleet)
    emulator.clear_journal()
    run = runner.play([by_name('rsv-busy', immutability='enabled')])
    assert run['r0']['failed'] is True
    assert 'still Updating' in run['r0']['msg'] and 'rsv-busy' in run['r0']['msg']
    assert emulator.writes() == []
