# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Discovery through Resource Graph returns the records discovery through ARM returns (``_fleet.list_vaults`` +
``attach_policies``, ``_items.attach_items``), over real HTTPS to the emulator: paging past 1,000 rows, a subscription
Resource Graph cannot see, a failing Resource Graph, Azure's throttling on (and not one 429), and ARM reads paced."""

from __future__ import annotations

import time

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import fleet as _fleet
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import items as _items
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import resource_graph as rg
from ansible_collections.vaultlock.azure.plugins.module_utils._drift import drift_entries, validate_baseline
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.pacing import OPERATION_TYPES, SubscriptionPacer

BOTH = ('recovery_services', 'backup')


@pytest.fixture
def session_for(monkeypatch):
    def make(emulator):
        for key, value in emulator.env.items():
            monkeypatch.setenv(key, value)
        return AzureSession({'auth_source': 'env'})
    return make


def arm_discovery(session, subs, kinds=BOTH, resource_groups=None, items=True):
    """The ARM path, with policies in name order (Resource Graph discovery's order): the records a test expects.

    Read through a session of its own whose pacer never waits (the emulator's throttling is off then): how ARM reads
    are paced is not what these expected records check (test_arm_reads_paced_per_subscription_get_no_429 does), and
    paced, one subscription's 1,100 policy reads would wait 34 s for ARM's read tokens (250, then 25 a second).
    """
    session = AzureSession(session.params, session.env)
    session.pacer = SubscriptionPacer(limits={op: (10 ** 9, 10.0 ** 9) for op in OPERATION_TYPES}, probe=False)
    records, errors = _fleet.list_vaults(session, subs, kinds, resource_groups)
    assert errors == []
    assert _fleet.attach_policies(session, records) == []
    for record in records:
        record['policies'].sort(key=lambda p: p['name'].lower())
    if items:
        assert _items.attach_items(session, records) == []
    return records


BASELINE = validate_baseline({'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14},
                              'retention': {'minimum': {'daily': '30d', 'weekly': '12w'}, 'mode': 'enforce'}})


def same_drift(found, expected):
    """The drift (findings and planned changes) of both record sets is the same, and there is drift to compare."""
    through_graph, through_arm = drift_entries(found, BASELINE), drift_entries(expected, BASELINE)
    assert through_graph == through_arm
    assert sum(len(e['findings']) for e in through_graph) > 0 and any(e['changes'] for e in through_graph)


def statuses(emulator):
    return [e['status'] for e in emulator.journal()]


def graph_calls(emulator):
    return [e for e in emulator.journal() if e['path'].lower().endswith('/microsoft.resourcegraph/resources')]


def test_resource_graph_and_arm_discover_the_same_fleet(emulator, session_for):
    subs = emulator.generate(120, 2, seed='same-fleet', protected_items=3)['subscription_ids']
    session = session_for(emulator)
    expected = arm_discovery(session, subs)
    emulator.clear_journal()
    emulator.throttle('azure')
    found = rg.discover(session, subs, BOTH, items=True)
    assert found['vaults'] == expected
    same_drift(found['vaults'], expected)
    assert found['errors'] == [] and found['fallbacks'] == [] and found['sources'] == {s: 'resource_graph' for s in subs}
    # One query for the vaults with their policies, one for the items; no ARM read at all; nothing throttled.
    assert len(graph_calls(emulator)) == 2 == found['resource_graph']['calls'] and len(emulator.journal()) == 2
    assert 429 not in statuses(emulator) and found['resource_graph']['throttled'] == 0
    assert sum(len(r['protected_items']) for r in found['vaults']) > 100
    assert emulator.writes() == []


def test_paging_over_1000_rows(emulator, session_for):
    subs = emulator.generate(1100, 1, seed='paging')['subscription_ids']
    session = session_for(emulator)
    expected = arm_discovery(session, subs, items=False)
    emulator.clear_journal()
    emulator.throttle('azure')
    found = rg.discover(session, subs, BOTH)
    assert len(found['vaults']) == 1100 and found['vaults'] == expected
    same_drift(found['vaults'], expected)
    policies = sum(len(r['policies']) for r in expected)
    assert policies > 2000
    # ceil(1100 / 1000) pages of vaults, each vault row with its policies, each page at most 1,000 rows: fewer than one
    # row per policy would take (2 + ceil(policies / 1000)).
    assert found['resource_graph']['calls'] == 2 < 2 + -(-policies // 1000)
    assert all(e['body']['options']['$top'] == 1000 for e in graph_calls(emulator))
    # One query: its first page, then the pages that carry its token.
    assert sum(1 for e in graph_calls(emulator) if '$skipToken' in e['body']['options']) == found['resource_graph']['calls'] - 1
    # Pages after the first are asked for at once: each with the first page's token and its own offset, every offset once.
    skips = sorted((e['body']['query'], e['body']['options'].get('$skip', 0)) for e in graph_calls(emulator))
    for query in {q for q, _skip in skips}:
        offsets = [skip for q, skip in skips if q == query]
        assert offsets == list(range(0, 1000 * len(offsets), 1000))
    assert 429 not in statuses(emulator)


def test_a_subscription_resource_graph_cannot_see_is_read_from_arm(emulator, session_for):
    subs = emulator.generate(60, 3, seed='denied', protected_items=2, graph_denied=1)['subscription_ids']
    denied = subs[-1]
    session = session_for(emulator)
    expected = arm_discovery(session, subs)
    emulator.clear_journal()
    emulator.throttle('azure')
    found = rg.discover(session, subs, BOTH, items=True)
    assert found['vaults'] == expected
    same_drift(found['vaults'], expected)
    assert found['sources'] == {subs[0]: 'resource_graph', subs[1]: 'resource_graph', denied: 'arm'}
    assert [f['subscription_id'] for f in found['fallbacks']] == [denied]
    assert 429 not in statuses(emulator) and found['errors'] == []
    arm_reads = [e for e in emulator.journal() if e['method'] == 'GET']
    assert arm_reads and all(denied in e['path'] for e in arm_reads)
    # Without the fallback, the subscription is reported instead, and its vaults are missing.
    found = rg.discover(session, subs, BOTH, fallback=None)
    assert {r['subscription_id'] for r in found['vaults']} == set(subs[:2])
    assert [(e['scope'], e['code']) for e in found['errors']] == [('subscription %s' % denied, 'NotVisibleInResourceGraph')]


def test_when_resource_graph_fails_every_subscription_is_read_from_arm(emulator, session_for):
    subs = emulator.generate(30, 2, seed='failing')['subscription_ids']
    session = session_for(emulator)
    expected = arm_discovery(session, subs, items=False)
    emulator.fault(method='POST', path_regex='Microsoft.ResourceGraph', status=503, times=20)
    found = rg.discover(session, subs, BOTH, graph=rg.ResourceGraph(session, retries=1, sleep=lambda s: None))
    assert found['vaults'] == expected
    assert found['sources'] == {s: 'arm' for s in subs}
    assert all('Resource Graph failed' in f['reason'] and 'HTTP 503' in f['reason'] for f in found['fallbacks'])
    with pytest.raises(Exception) as err:
        rg.discover(session, subs, BOTH, fallback=None, graph=rg.ResourceGraph(session, retries=0))
    assert 'HTTP 503' in str(err.value)


def test_resource_group_and_tag_filters_match_the_arm_path(emulator, session_for):
    fleet = {'subscriptions': [{'id': '6a6a6a6a-0000-4000-8000-000000000001', 'resource_groups': [
        {'name': "rg-o'brien", 'vaults': [
            {'name': 'rsv-quoted', 'type': 'recovery_services', 'tags': {"Owner's": "o'brien | x"}},
            {'name': 'rsv-case', 'type': 'recovery_services', 'tags': {"owner's": "O'BRIEN | X"}},
            {'name': 'bv-plain', 'type': 'backup', 'tags': {'env': 'prod'}}]},
        {'name': 'rg-other', 'vaults': [{'name': 'rsv-other', 'type': 'recovery_services', 'tags': {"Owner's": "o'brien | x"}}]}]}]}
    emulator.load_fleet(fleet)
    sub = fleet['subscriptions'][0]['id']
    session = session_for(emulator)
    wanted = {"OWNER'S": "o'brien | x"}
    expected = [r for r in arm_discovery(session, [sub], resource_groups=["RG-O'BRIEN"], items=False)
                if _fleet.tags_match(r, wanted)]
    found = rg.discover(session, [sub], BOTH, resource_groups=["RG-O'BRIEN"], tags=wanted)
    assert [r['name'] for r in found['vaults']] == ['rsv-quoted'] and found['vaults'] == expected
    # The vaults with their policies, whether the resource group exists.
    assert found['resource_graph']['calls'] == 2 and found['errors'] == []
    found = rg.discover(session, [sub], ['backup'], tags={'env': None}, policies=False)
    assert [r['name'] for r in found['vaults']] == ['bv-plain'] and 'policies' not in found['vaults'][0]


def test_throttling_on_resource_graph_paces_itself_and_gets_no_429(emulator, session_for):
    subs = emulator.generate(300, 1, seed='quota')['subscription_ids']
    session = session_for(emulator)
    emulator.throttle('azure')
    # 15 rows a page: 20 pages of vaults (with their policies), more than the 15 queries a 5-second window allows.
    graph = rg.ResourceGraph(session, page_size=15)
    began = time.monotonic()
    found = rg.discover(session, subs, BOTH, graph=graph)
    elapsed = time.monotonic() - began
    assert len(found['vaults']) == 300
    assert found['resource_graph']['calls'] > 15 and found['resource_graph']['throttled'] == 0
    assert 429 not in statuses(emulator)
    assert found['resource_graph']['waited_s'] > 0 and elapsed >= found['resource_graph']['waited_s']


def test_arm_reads_paced_per_subscription_get_no_429(emulator, session_for):
    subs = emulator.generate(400, 1, seed='paced')['subscription_ids']
    session = session_for(emulator)
    emulator.throttle('azure')
    pacer = session.pacer     # every pipeline of the session paces through it
    began = time.monotonic()
    records, errors = _fleet.list_vaults(session, subs, BOTH)
    assert errors == [] and len(records) == 400
    assert _fleet.attach_policies(session, records) == []
    elapsed = time.monotonic() - began
    reads = len(emulator.journal())
    # More reads than the 250-token burst and what 25 tokens a second add meanwhile: the pacer had to wait, and
    # not one read was refused.
    assert reads >= 402 and 429 not in statuses(emulator)
    assert pacer.stats['waits'] > 0 and pacer.stats['throttled'] == 0
    assert elapsed >= (reads - 250) / 25.0 - 0.5


def test_a_resource_group_resource_graph_does_not_have_is_an_error(emulator, session_for):
    subs = emulator.generate(40, 1, seed='groups')['subscription_ids']
    session = session_for(emulator)
    group = emulator.generate(40, 1, seed='groups')['resource_groups'][subs[0]][0]
    emulator.clear_journal()
    found = rg.discover(session, subs, BOTH, resource_groups=[group.upper(), 'rg-absent'])
    assert found['vaults'] and {r['resource_group'] for r in found['vaults']} == {group}
    assert [(e['scope'], e['code']) for e in found['errors']] == [("resource group 'rg-absent' in subscription %s" % subs[0],
                                                                  'ResourceGroupNotFound')]
    # The ARM path reports the same resource group as not found.
    _records, errors = _fleet.list_vaults(session, subs, BOTH, [group, 'rg-absent'])
    assert [e['scope'] for e in errors] == ["resource group 'rg-absent' in subscription %s" % subs[0]]
    assert errors[0]['code'] == 'ResourceGroupNotFound'


GRAPH = r'/providers/Microsoft\.ResourceGraph/resources$'


@pytest.mark.parametrize('fault', [
    # Rows that are not objects.
    {'status': 200, 'content_type': 'application/json',
     'raw_body': '{"totalRecords": 2, "count": 2, "data": [1, "two"], "resultTruncated": "false"}'},
    # A $skipToken that starts over, with empty pages (47,022 queries in a minute before).
    {'status': 200, 'content_type': 'application/json', 'times': 10000,
     'raw_body': '{"totalRecords": 0, "count": 0, "data": [], "resultTruncated": "false", "$skipToken": "again"}'},
    # A 429 whose Retry-After is not a number of seconds.
    {'status': 429, 'headers': {'Retry-After': 'nan'}, 'times': 10},
])
def test_an_answer_that_does_not_add_up_falls_back_to_arm(emulator, session_for, fault):
    """Issue 25: whatever Resource Graph answers, the fleet is read (from ARM, said in the fallbacks), in bounded time."""
    subs = emulator.generate(30, 2, seed='hostile-graph')['subscription_ids']
    expected = sorted(r['id'].lower() for r in arm_discovery(session_for(emulator), subs, items=False))
    emulator.fault(method='POST', path_regex=GRAPH, **dict({'times': 1}, **fault))
    emulator.clear_journal()
    session = session_for(emulator)
    started = time.monotonic()
    found = rg.discover(session, subs, BOTH, policies=True, items=False)
    assert time.monotonic() - started < 60
    assert sorted(r['id'].lower() for r in found['vaults']) == expected
    assert set(found['sources'].values()) == {'arm'}
    assert all('Resource Graph failed' in f['reason'] for f in found['fallbacks'])
    queries = [e for e in emulator.journal() if e['method'] == 'POST']
    assert len(queries) <= 10, len(queries)
