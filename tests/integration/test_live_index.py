# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 28, a live index: Resource Graph rows move between pages while a query is paged (the emulator's
``graph_live`` setting: a vault added, removed or reordered). Discovery sees it (a row twice, fewer rows than
``totalRecords``, pages that disagree), asks again, and reads from ARM what still does not add up; the result says so."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import fleet as _fleet
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import resource_graph as rg
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession

BOTH = ('recovery_services', 'backup')
SUB = '55555555-aaaa-4000-8000-000000000005'
OTHER = '66666666-aaaa-4000-8000-000000000006'
RG = 'rg-live'
NAMES = ['rsv-%02d' % n for n in range(7)]
FLEET = {'subscriptions': [
    {'id': SUB, 'resource_groups': [{'name': RG, 'vaults': [{'name': n, 'type': 'recovery_services'} for n in NAMES]}]},
    {'id': OTHER, 'resource_groups': [{'name': 'rg-other', 'vaults': [{'name': 'bv-other', 'type': 'backup'}]}]},
]}


@pytest.fixture
def live(emulator, monkeypatch):
    emulator.load_fleet(FLEET)
    emulator.settings(graph_page_size=3)
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    return emulator


def arm_truth(session):
    records, errors = _fleet.list_vaults(session, [SUB, OTHER], BOTH)
    assert errors == []
    return sorted(r['id'].lower() for r in records)


def graph_posts(emulator):
    return [e for e in emulator.journal() if e['path'].lower().endswith('/microsoft.resourcegraph/resources')]


@pytest.mark.parametrize('mode', ['add', 'remove', 'reorder'])
def test_a_moving_index_is_asked_again_and_the_second_answer_is_used(live, mode):
    live.settings(graph_live={'mode': mode})
    session = AzureSession({'auth_source': 'env'})
    found = rg.discover(session, [SUB, OTHER], BOTH, policies=False)
    requeried = found['resource_graph']['requeried']
    assert [(r['query'], r['attempt'], r['outcome']) for r in requeried] == [('vaults', 1, 'asked again')]
    assert requeried[0]['code'] in rg.MOVING_INDEX_CODES
    assert found['sources'] == {SUB: 'resource_graph', OTHER: 'resource_graph'} and found['fallbacks'] == []
    # The second answer is the index as it now is, and ARM agrees with it (the added vault in, the removed one out).
    ids = [v['id'].lower() for v in found['vaults']]
    assert ids == arm_truth(session) and len(ids) == len(set(ids))
    assert len(ids) == {'add': 9, 'remove': 7, 'reorder': 8}[mode]
    assert live.writes() == []


def test_an_index_that_keeps_moving_is_read_from_arm_and_the_result_says_so(live):
    live.settings(graph_live={'mode': 'remove', 'times': 2})
    session = AzureSession({'auth_source': 'env'})
    live.clear_journal()
    found = rg.discover(session, [SUB, OTHER], BOTH, policies=True)
    assert [(r['query'], r['attempt'], r['outcome']) for r in found['resource_graph']['requeried']] == [
        ('vaults', 1, 'asked again'), ('vaults', 2, 'not settled')]
    assert found['sources'] == {SUB: 'arm', OTHER: 'arm'}     # one query spans both: both are read from ARM
    assert [f['subscription_id'] for f in found['fallbacks']] == [SUB, OTHER]
    assert "pages did not make one answer twice" in found['fallbacks'][0]['reason']
    assert sorted(v['id'].lower() for v in found['vaults']) == arm_truth(session) and len(found['vaults']) == 6
    assert all('policies' in v for v in found['vaults'])
    assert len(graph_posts(live)) >= 4 and live.writes() == []


def test_with_resource_graph_only_a_moving_index_is_an_error_of_those_subscriptions(live):
    live.settings(graph_live={'mode': 'add', 'times': 2})
    found = rg.discover(AzureSession({'auth_source': 'env'}), [SUB], BOTH, policies=False, fallback=None)
    assert found['vaults'] == [] and found['fallbacks'] == []
    assert [(e['scope'], e['code']) for e in found['errors']] == [('subscription %s' % SUB, 'ResourceGraphIndexMoving')]


def test_the_info_module_reports_the_requery_and_the_fallback(live, runner):
    live.settings(graph_live={'mode': 'reorder', 'times': 2})
    run = runner.play([{'vaultlock.azure.vault_immutability_info': {'subscription_ids': [SUB]}}])
    assert run.rc == 0, run.output
    result = run['r0']
    discovery = result['discovery']
    assert discovery['source_by_subscription'] == {SUB: 'arm'}
    assert [r['outcome'] for r in discovery['resource_graph']['requeried']] == ['asked again', 'not settled']
    assert "pages did not make one answer twice" in discovery['fallbacks'][0]['reason']
    assert sorted(v['name'] for v in result['vaults']) == NAMES
    assert any('read subscription %s from ARM instead of Resource Graph' % SUB in w for w in result.get('warnings') or [])


def test_a_moving_policy_query_is_asked_again_then_read_from_arm(emulator, monkeypatch):
    policy = {'name': 'daily', 'properties': {'backupManagementType': 'AzureIaasVM', 'instantRpRetentionRangeInDays': 2,
                                              'retentionPolicy': {'retentionPolicyType': 'LongTermRetentionPolicy', 'dailySchedule': {
                                                  'retentionTimes': ['2024-01-15T02:00:00Z'],
                                                  'retentionDuration': {'count': 30, 'durationType': 'Days'}}}}}
    fleet = {'subscriptions': [{'id': SUB, 'resource_groups': [{'name': RG, 'vaults': [
        {'name': n, 'type': 'recovery_services', 'policies': [policy]} for n in NAMES]}]}]}
    emulator.load_fleet(fleet)
    # The policies have a query of their own where Resource Graph refuses the join that brings them with the vaults.
    emulator.settings(graph_page_size=3, graph_live={'mode': 'reorder', 'table': 'recoveryservicesresources'}, graph_unserved=['join'])
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    session = AzureSession({'auth_source': 'env'})

    def requeried(found):
        # The refused join comes first (the vaults asked again alone), then what the policy query did.
        refused, *rest = found['resource_graph']['requeried']
        assert refused['query'] == 'vaults' and refused['code'] == 'InvalidQueryLanguage'
        return [(r['query'], r['outcome']) for r in rest]

    settled = rg.discover(session, [SUB], BOTH, policies=True)
    assert requeried(settled) == [('policies', 'asked again')]
    assert settled['sources'] == {SUB: 'resource_graph'} and [len(v['policies']) for v in settled['vaults']] == [1] * 7
    emulator.settings(graph_live={'mode': 'reorder', 'table': 'recoveryservicesresources', 'times': 2})
    moved = rg.discover(session, [SUB], BOTH, policies=True)
    assert requeried(moved) == [('policies', 'asked again'), ('policies', 'not settled')]
    assert moved['sources'] == {SUB: 'arm'} and "(the index changed while it was paged: policies)" in moved['fallbacks'][0]['reason']
    assert [len(v['policies']) for v in moved['vaults']] == [1] * 7 and [v['name'] for v in moved['vaults']] == NAMES
