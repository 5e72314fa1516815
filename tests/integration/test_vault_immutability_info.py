# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure.vault_immutability_info at every scope, through ansible-playbook and the emulator."""

from __future__ import annotations

import pytest

from tests.integration.batching import Batch
from tests.integration.conftest import fresh_fleet, step
from tests.integration.fleets import RG, SUB1, SUB2, states_fleet, vault_id

MOD = 'vaultlock.azure.vault_immutability_info'


@pytest.fixture(autouse=True)
def fleet(emulator):
    emulator.load_fleet(states_fleet())
    emulator.clear_journal()


def info(**args):
    return {'name': 'info', MOD: args}


def names(result):
    return sorted(v['name'] for v in result['vaults'])


MANY = {'subscriptions': [{'id': SUB1, 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
    {'name': 'rsv-%03d' % i, 'type': 'recovery_services', 'immutability': 'enabled'} for i in range(250)]}]}]}
FAILING_SUB2 = {'method': 'GET', 'path_regex': '/subscriptions/%s/providers/Microsoft.RecoveryServices/vaults' % SUB2, 'status': 500,
                'times': 50}


def test_paging_follows_next_link(shared):
    # A part of the shared run, after the 250 vaults of MANY were loaded.
    run = shared
    assert run.rc == 0, run.output
    assert len(run['paging']['vaults']) == 250
    gets = [j for j in run.requests('paging') if j['method'] == 'GET']
    assert len(gets) >= 2


def test_one_failing_subscription_does_not_hide_the_others(shared):
    # A part of the shared run, on a fresh fleet with FAILING_SUB2's fault.
    run = shared
    assert run.rc == 0, run.output
    result = run['failing_subscription']
    assert 'rsv-two' not in names(result) and 'bv-two' in names(result) and 'rsv-enabled' in names(result)
    assert len(result['errors']) == 1
    assert SUB2 in result['errors'][0]['scope'] and result['errors'][0]['status'] == 500


def test_denied_subscription_is_reported_and_the_others_still_read(runner, emulator):
    emulator.fault(path_regex='/subscriptions/%s/providers/' % SUB2, status=403, code='AuthorizationFailed',
                   message="The client 'x' does not have authorization to perform action 'Microsoft.RecoveryServices/vaults/read'",
                   times=10)
    run = runner.play([info(subscription_ids=[SUB1, SUB2], discovery='arm')])
    assert run.rc == 0, run.output
    result = run['r0']
    assert {v['subscription_id'] for v in result['vaults']} == {SUB1}
    # Both vault kinds failed the same way there: one error for the subscription, not one per kind.
    assert len(result['errors']) == 1
    assert all(e['status'] == 403 and e['code'] == 'AuthorizationFailed' and SUB2 in e['scope'] for e in result['errors'])
    assert '[WARNING]' in run.output


# One playbook for the tests below and the two above (the ``shared`` fixture, batching.Batch): each test asserts on its own
# tasks, registered by name, with the requests each sent (``run.requests(name)``). None of them writes. The denied
# subscription keeps its run: its test looks for a warning in the run's output, which any part's warning would give.
SCOPES = [
    info(resource_group='rg-other'),
    info(name='rsv-*'),
    info(tags={'env': 'prod'}),
    info(tags={'team': None}),
    info(vault_types=['backup']),
    info(id=vault_id('bv-enabled', 'backup')),
    info(name='rsv-locked', resource_group=RG, vault_type='recovery_services'),
    info(subscription_ids=[SUB1, SUB2]),
    info(subscription_ids='all', vault_types=['recovery_services']),
]


def named(name, entry):
    return dict(entry, register=name)


def shared_tasks():
    tasks = [named('auto', step(info(), check=True)), named('arm', step(info(discovery='arm'), check=True)),
             named('listed', info()), named('one', {'name': 'one', 'vaultlock.azure.vault_immutability': {'id': vault_id('rsv-enabled')}})]
    tasks += [named('scope_%d' % index, entry) for index, entry in enumerate(SCOPES)]
    tasks += [named('no_such_subscription', info(subscription_ids=['33333333-3333-3333-3333-333333333333']))]
    return tasks


@pytest.fixture(scope='module')
def shared(module_runner):
    """The shared tasks on the states fleet; then, on a fresh one, the failing subscription (its fault set in the run);
    then the paging task on the 250 vaults of MANY."""
    fresh_fleet(module_runner, states_fleet())
    batch = Batch(module_runner).tasks(shared_tasks())
    batch.emulator(reset=True, load_fleet=states_fleet(), faults=[FAILING_SUB2])
    batch.tasks([named('failing_subscription', info(subscription_ids=[SUB1, SUB2], api_retries=0, discovery='arm'))])
    batch.emulator(reset=True, load_fleet=MANY)
    batch.tasks([named('paging', info(vault_types=['recovery_services'], discovery='arm'))])
    return batch.play()


def test_subscription_scope_both_kinds_and_record_shape(shared):
    # In check mode: discovery auto (auto), then through ARM (arm).
    run = shared
    assert run.rc == 0, run.output
    result = run['auto']
    assert names(result) == ['bv-disabled', 'bv-enabled', 'bv-locked', 'rsv-enabled', 'rsv-locked', 'rsv-other', 'rsv-unset']
    by = {v['name']: v for v in result['vaults']}
    assert by['rsv-unset']['immutability'] == 'disabled'
    assert by['rsv-enabled']['immutability'] == 'enabled'
    assert by['bv-locked']['immutability'] == 'locked'
    assert by['rsv-locked']['soft_delete']['state'] == 'always_on'
    assert set(by['rsv-enabled']) >= {'id', 'name', 'resource_group', 'subscription_id', 'location', 'vault_type', 'immutability',
                                      'immutability_retention_days', 'soft_delete', 'mua', 'tags'}
    assert by['rsv-enabled']['id'].lower() == vault_id('rsv-enabled').lower()
    assert result['errors'] == []
    # discovery auto: one Resource Graph query for the vaults, no ARM read at all.
    assert [(j['method'], j['path']) for j in run.requests('auto')] == [('POST', '/providers/Microsoft.ResourceGraph/resources')]
    assert result['discovery']['source_by_subscription'] == {SUB1: 'resource_graph'} and result['discovery']['fallbacks'] == []
    assert run.writes('auto') == []
    # Through ARM: one list call per kind, never one GET per vault; the same records.
    assert run['arm']['vaults'] == result['vaults'] and run['arm']['discovery']['source_by_subscription'] == {SUB1: 'arm'}
    gets = [j for j in run.requests('arm') if j['method'] == 'GET']
    assert len(gets) == 2 and len(run.requests('arm')) == 2, gets
    assert run.writes('arm') == []


def test_the_same_record_as_the_state_module(shared):
    listed = [v for v in shared['listed']['vaults'] if v['name'] == 'rsv-enabled'][0]
    assert listed == shared['one']['vault']


def test_scopes_and_filters(shared):
    run = shared
    assert run.rc == 0, run.output
    assert names(run['scope_0']) == ['rsv-other']
    assert names(run['scope_1']) == ['rsv-enabled', 'rsv-locked', 'rsv-other', 'rsv-unset']
    assert names(run['scope_2']) == ['rsv-enabled', 'rsv-unset']
    assert names(run['scope_3']) == ['rsv-enabled']
    assert names(run['scope_4']) == ['bv-disabled', 'bv-enabled', 'bv-locked']
    assert names(run['scope_5']) == ['bv-enabled']
    assert names(run['scope_6']) == ['rsv-locked']
    assert len(run['scope_7']['vaults']) == 9 and sorted(run['scope_7']['subscriptions']) == [SUB1, SUB2]
    assert names(run['scope_8']) == ['rsv-enabled', 'rsv-locked', 'rsv-other', 'rsv-two', 'rsv-unset']


def test_every_scope_failing_fails_the_task(shared, emulator):
    ep = emulator.endpoint
    run = shared
    assert run['no_such_subscription']['failed'] is True
    assert 'SubscriptionNotFound' in run['no_such_subscription']['msg'] or '404' in run['no_such_subscription']['msg']
    assert ep['client_secret'] not in run.output
