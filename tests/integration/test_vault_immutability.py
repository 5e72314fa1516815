# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure.vault_immutability through ansible-playbook, the real SDKs and the emulator."""

from __future__ import annotations

import pytest

from tests.integration.batching import Batch
from tests.integration.conftest import PlaybookPart, fresh_fleet, part, step
from tests.emulator import generator as templates
from tests.integration.fleets import RG, SUB1, states_fleet, vault, vault_id

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


IDEMPOTENT = [('recovery_services', 'rsv-unset'), ('backup', 'bv-disabled')]


def idempotent_tasks():
    """Both vaults' check mode with --diff (r0), apply (r1) and apply again (r2): parts (``part``), each on its own vault."""
    tasks = []
    for kind, name in IDEMPOTENT:
        entry = by_name(name, kind, immutability='enabled')
        tasks += part(name.replace('-', '_'), [step(entry, check=True, diff=True), entry, entry])
    return tasks


@pytest.fixture(scope='module')
def immutability_run(module_runner):
    """One run (batching.Batch): the idempotent parts on a fresh states fleet, then the shared tasks on the states fleet
    with rsv-busy (``busy_fleet``), loaded afresh in the run right before them."""
    fresh_fleet(module_runner, states_fleet())
    batch = Batch(module_runner).tasks(idempotent_tasks())
    batch.emulator(reset=True, load_fleet=busy_fleet())
    batch.tasks(shared_tasks())
    # An earlier task's operation still running: every vault write's operation runs 1000 s on a frozen clock.
    batch.emulator(reset=True, load_fleet=slow_fleet(), settings={'lro_retry_after': 1000}, clock={'freeze': True})
    batch.tasks(slow_tasks())
    batch.emulator(settings={'lro_retry_after': 0}, clock={'advance_s': 2000})   # the operations end
    batch.tasks([named('slow_lock_after', slow(by_name('rsv-slow', immutability='locked', allow_irreversible=True)))])
    return batch.play(marks=sorted(set([vault_id(name, kind) for kind, name in IDEMPOTENT] + MARKED + SLOW)))


@pytest.fixture(scope='module')
def idempotent_run(immutability_run):
    return immutability_run


@pytest.mark.parametrize('kind,name', IDEMPOTENT)
def test_check_mode_then_apply_then_idempotent(idempotent_run, kind, name):
    run = PlaybookPart(idempotent_run, name.replace('-', '_'))
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


# The shared tasks (the ``shared`` fixture, a part of immutability_run): each test asserts on its own tasks, registered by name, with
# the requests each sent (``run.writes(name)``) and the vaults as stored right after it (``run.after(name)``). Tasks on
# the same vault are ordered so that each finds the vault as its test's fleet has it: the refused and read-only ones first.
BAD_INPUT = [
    by_name('rsv-missing', immutability='enabled'),
    task(id='/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/x' % (SUB1, RG), immutability='enabled'),
    task(id='not-an-id', immutability='enabled'),
    task(id=vault_id('rsv-unset'), vault_type='backup', immutability='enabled'),
    by_name('bv-disabled', 'backup', immutability='enabled', immutability_retention_days=90),
    by_name('rsv-unset', immutability='enabled', immutability_retention_days=10),
    by_name('rsv-unset', immutability='sealed'),
    # A Recovery Services vault asked for as a Backup vault, and a resource group that does not exist: both said only
    # 'the vault does not exist'.
    by_name('rsv-unset', 'backup', immutability='enabled'),
    task(name='rsv-unset', resource_group='rg-absent', vault_type='recovery_services', immutability='enabled'),
]
MIXED_CASE_ID = vault_id('RSV-ENABLED').replace('/resourceGroups/', '/RESOURCEGROUPS/').replace(
    'Microsoft.RecoveryServices', 'microsoft.recoveryservices')
LOCKED = [('recovery_services', 'rsv-locked'), ('backup', 'bv-locked')]
MARKED = [vault_id('rsv-unset'), vault_id('rsv-enabled'), vault_id('bv-enabled', 'backup')] + [vault_id(n, k) for k, n in LOCKED]


def named(key, entry):
    return dict(entry, register=key)


def shared_tasks():
    lock = by_name('rsv-enabled', immutability='locked')
    timed = by_name('rsv-enabled', immutability='enabled', immutability_retention_days=90)
    tasks = [named('bad_%d' % index, entry) for index, entry in enumerate(BAD_INPUT)]
    tasks += [named('busy', by_name('rsv-busy', immutability='enabled'))]
    tasks += [named(key, by_name(name, kind, immutability='enabled')) for key, kind, name, _state, _shown in ODD_STATES]
    tasks += [named('lock_no_consent', lock), named('lock_no_consent_check', step(lock, check=True)),
              named('mixed_case', task(id=MIXED_CASE_ID, immutability='enabled')),
              named('time_based', timed), named('time_based_again', timed),
              named('lock_two_steps', by_name('rsv-unset', immutability='locked', allow_irreversible=True)),
              named('lock_by_id', task(id=vault_id('bv-enabled', 'backup'), immutability='locked', allow_irreversible=True))]
    for kind, name in LOCKED:
        tasks += [named('leave_%s' % name.replace('-', '_'), by_name(name, kind, immutability='disabled', allow_irreversible=True)),
                  named('enabled_%s' % name.replace('-', '_'), by_name(name, kind, immutability='enabled'))]
    return tasks


# (register, kind, vault, provisioningState ARM answers, how the refusal shows it): odd values of both kinds
# (test_odd_provisioning_states_send_nothing_and_are_shown_escaped).
ODD_STATES = [
    ('odd_rtl', 'recovery_services', 'rsv-odd', 'Updating\u202eSucceeded', "'Updating\\u202eSucceeded'"),
    ('odd_list', 'backup', 'bv-odd', ['Succeeded'], "'['Succeeded']'"),
    ('odd_spaces', 'backup', 'bv-odd-spaces', ' SUCCEEDED ', "' SUCCEEDED '"),
]


def busy_fleet():
    """The states fleet, rsv-busy, a vault still provisioning (test_vault_still_provisioning_fails_clearly), and the
    vaults of ODD_STATES."""
    fleet = states_fleet()
    vaults = fleet['subscriptions'][0]['resource_groups'][0]['vaults']
    vaults.append({'name': 'rsv-busy', 'type': 'recovery_services', 'immutability': 'disabled', 'provisioning_state': 'Updating'})
    vaults.extend({'name': name, 'type': kind, 'immutability': 'disabled', 'provisioning_state': state}
                  for _key, kind, name, state, _shown in ODD_STATES)
    return fleet


SLOW = [vault_id('rsv-slow'), vault_id('rsv-slow-locked')]


def slow_fleet():
    """rsv-slow (disabled) and rsv-slow-locked (Locked, a policy keeping daily points 7 days), for the tasks of
    test_a_later_task_sends_nothing_while_an_earlier_tasks_operation_runs."""
    fleet = states_fleet()
    fleet['subscriptions'][0]['resource_groups'][0]['vaults'] += [
        vault('rsv-slow', 'recovery_services', 'disabled'),
        vault('rsv-slow-locked', 'recovery_services', 'locked', policies=[{'name': 'VMWeak', 'properties': templates.iaas_v1(True)}])]
    return fleet


def slow(entry):
    """A task that waits at most 1 s for its long-running operation."""
    module = next(key for key in entry if key.startswith('vaultlock.azure.'))
    return dict(entry, **{module: dict(entry[module], wait_timeout=1, polling_interval=0.2)})


def slow_tasks():
    """Each earlier task's write is accepted and shows in a read, but its operation outlives the task's wait_timeout;
    the later tasks on the same vault (check mode, then for real) find it Updating."""
    lock = slow(by_name('rsv-slow', immutability='locked', allow_irreversible=True))
    raise_ = {'name': 'raise', 'vaultlock.azure.backup_policy_retention': {
        'name': 'rsv-slow-locked', 'resource_group': RG, 'vault_type': 'recovery_services', 'minimum': {'daily': '30d'},
        'mode': 'enforce', 'allow_irreversible': True}}
    network = {'name': 'network', 'vaultlock.azure.vault_security_settings': {
        'name': 'rsv-slow-locked', 'resource_group': RG, 'vault_type': 'recovery_services', 'public_network_access': 'disabled'}}
    return [named('slow_enable', slow(by_name('rsv-slow', immutability='enabled'))),
            named('slow_lock_check', step(lock, check=True)), named('slow_lock', lock),
            named('slow_network', slow(network)),
            named('slow_raise_check', step(raise_, check=True)), named('slow_raise', raise_)]


@pytest.fixture(scope='module')
def shared(immutability_run):
    """The shared tasks, a part of immutability_run, on the states fleet with rsv-busy (which no other task names)."""
    return immutability_run


def test_lock_without_consent_fails_before_any_write(shared):
    # The task (lock_no_consent) and the same in check mode (lock_no_consent_check).
    run = shared
    for key in ('lock_no_consent', 'lock_no_consent_check'):
        result = run[key]
        assert result['failed'] is True
        assert 'cannot be undone' in result['msg'] and "'rsv-enabled'" in result['msg']
        assert run.writes(key) == []
    assert 'Traceback' not in run.output
    assert api_state(run.after('lock_no_consent_check'), 'rsv-enabled') == 'Unlocked'


def test_lock_with_consent_takes_two_steps_on_recovery_services(shared):
    run = shared
    result = run['lock_two_steps']
    assert run.rc == 0, run.output
    assert result['changes'] == [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled', 'irreversible': False},
                                 {'setting': 'immutability', 'before': 'enabled', 'after': 'locked', 'irreversible': True}]
    patches = [w for w in run.writes('lock_two_steps') if w['method'] == 'PATCH']
    assert len(patches) == 2
    assert api_state(run.after('lock_two_steps'), 'rsv-unset') == 'Locked'
    assert result['vault']['immutability'] == 'locked'


def test_lock_backup_vault_by_id(shared):
    run = shared
    assert run.rc == 0, run.output
    assert run['lock_by_id']['changed'] is True
    assert api_state(run.after('lock_by_id'), 'bv-enabled', 'backup') == 'Locked'


@pytest.mark.parametrize('kind,name,want', [('recovery_services', 'rsv-locked', 'disabled'), ('backup', 'bv-locked', 'disabled')])
def test_leaving_locked_is_refused_without_writes(shared, kind, name, want):
    result = shared['leave_%s' % name.replace('-', '_')]
    assert result['failed'] is True
    assert 'irreversible' in result['msg'] and name in result['msg'] and want in result['msg']
    assert shared.writes('leave_%s' % name.replace('-', '_')) == []
    assert api_state(shared.after('leave_%s' % name.replace('-', '_')), name, kind) == 'Locked'


@pytest.mark.parametrize('kind,name', LOCKED)
def test_enabled_on_a_locked_vault_is_met_without_writes(shared, kind, name):
    """Issue 25: Locked is enabled for good, so enabled asks for nothing (before, the task failed as if it left Locked)."""
    result = shared['enabled_%s' % name.replace('-', '_')]
    assert not result.get('failed') and result['changed'] is False and 'satisfies enabled' in result['note']
    assert shared.writes('enabled_%s' % name.replace('-', '_')) == []


def test_reader_identity_gets_a_clear_permission_error(runner, emulator):
    # A run of its own: the reader identity's credentials are the run's environment.
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


def test_not_found_and_bad_input(shared):
    run = shared
    keys = ['bad_%d' % i for i in range(len(BAD_INPUT))]
    msgs = [run[key]['msg'] for key in keys]
    assert all(run[key]['failed'] for key in keys)
    assert 'does not exist' in msgs[0] and run['bad_0']['error']['status'] == 404
    assert 'not a Recovery Services vault or a Backup vault' in msgs[1]
    assert 'not an ARM id' in msgs[2]
    assert 'vault_type is backup' in msgs[3]
    assert 'Recovery Services vaults only' in msgs[4]
    assert 'between 30 and 36135' in msgs[5]
    assert 'sealed' in msgs[6]
    assert msgs[7].endswith("the vault does not exist (or the identity cannot see it): there is no Backup vault of this name in "
                            "the resource group; check the name and vault_type (a Recovery Services vault of the same name is "
                            "another resource)"), msgs[7]
    assert msgs[8].endswith("(HTTP 404, ResourceGroupNotFound): the resource group 'rg-absent' does not exist in subscription %s "
                            "(or the identity cannot see it): check resource_group" % SUB1), msgs[8]
    assert 'Traceback' not in run.output
    assert [w for key in keys for w in run.writes(key)] == []


def test_mixed_case_id_is_the_same_vault(shared):
    run = shared
    assert run.rc == 0, run.output
    assert run['mixed_case']['changed'] is False
    assert run['mixed_case']['vault']['name'] == 'rsv-enabled'
    assert run.writes('mixed_case') == []


def test_time_based_immutability(shared):
    # The task (time_based) and the same again (time_based_again).
    run = shared
    assert run.rc == 0, run.output
    assert not run['time_based'].get('failed'), run['time_based']
    assert run['time_based']['changes'] == [{'setting': 'immutability_retention_days', 'before': None, 'after': 90, 'irreversible': False}]
    settings = run.after('time_based').resource(vault_id('rsv-enabled'))['properties']['securitySettings']['immutabilitySettings']
    assert settings['configuration'] == {'type': 'TimeBased', 'durationInDays': 90}
    assert run['time_based_again']['changed'] is False
    assert run.writes('time_based_again') == []


def test_module_defaults_group_for_auth(runner, emulator):
    # A run of its own: no credentials in its environment, only the play's module_defaults.
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


def test_vault_still_provisioning_fails_clearly(shared):
    # The shared run's task on rsv-busy (busy_fleet).
    run = shared
    assert run['busy']['failed'] is True
    assert 'provisioningState Updating' in run['busy']['msg'] and 'rsv-busy' in run['busy']['msg']
    assert run.writes('busy') == []


@pytest.mark.parametrize('key, kind, name, state, shown', ODD_STATES, ids=[case[0] for case in ODD_STATES])
def test_odd_provisioning_states_send_nothing_and_are_shown_escaped(shared, key, kind, name, state, shown):
    """A provisioningState that is not the word Succeeded (a right-to-left override inside it, a list, spaces around it)
    is no settled vault: nothing is sent, and the message shows the value escaped (the override reordered it before)."""
    run = shared
    result = run[key]
    assert result['failed'] is True, result
    assert 'provisioningState %s, not Succeeded' % shown in result['msg'], result['msg']
    assert '\u202e' not in result['msg'] and 'nothing was sent' in result['msg']
    assert run.writes(key) == []
    assert 'Traceback' not in run.output


def test_a_later_task_sends_nothing_while_an_earlier_tasks_operation_runs(shared):
    """Gap of issue "operations that are still running": slow_enable's PATCH (Disabled -> Unlocked) is accepted and a read
    shows it, but its operation runs on past the task's wait_timeout. The emulator reads the vault Updating meanwhile
    (Arm.vault_view), and the later lock task, in check mode and for real, refuses before any write, naming the vault, the
    state and what to do. The same for a retention raise on a Locked vault after a vault_security_settings task. Once the
    operations have ended, the lock goes through."""
    run = shared
    assert not run['slow_enable'].get('failed') and run['slow_enable']['changed'] is True, run['slow_enable']
    assert [w['method'] for w in run.writes('slow_enable')] == ['PATCH']
    for key, name in (('slow_lock_check', 'rsv-slow'), ('slow_lock', 'rsv-slow'),
                      ('slow_raise_check', 'rsv-slow-locked'), ('slow_raise', 'rsv-slow-locked')):
        result = run[key]
        assert result['failed'] is True, (key, result)
        assert "'%s'" % name in result['msg'] and 'provisioningState Updating' in result['msg'], (key, result['msg'])
        assert 'nothing was sent' in result['msg'] and 'then run again' in result['msg'], (key, result['msg'])
        assert run.writes(key) == [], key
    assert api_state(run.after('slow_lock'), 'rsv-slow') == 'Unlocked'
    assert not run['slow_network'].get('failed') and run['slow_network']['changed'] is True, run['slow_network']
    assert 'Traceback' not in run.output
    # The operations ended (the clock moved 2000 s): the same lock task now locks.
    assert not run['slow_lock_after'].get('failed'), run['slow_lock_after']
    assert [c['after'] for c in run['slow_lock_after']['changes']] == ['locked']
    assert api_state(run.after('slow_lock_after'), 'rsv-slow') == 'Locked'
