# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a fleet was read from, all the way to the reports: _discovery (the discovery block, the failure rule),
_targets.merge_discovery (the role's reads merged), the drift report's ``discovery`` and the Markdown summary that stays
readable at 20,000 vaults; the vault_targets filter's ``vaults=false``."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest

from ansible_collections.vaultlock.azure.plugins.filter.targets import vault_targets
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import scope as _discovery
from ansible_collections.vaultlock.azure.plugins.module_utils._drift import compute_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.pacing import SubscriptionPacer
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import (
    MD_MAX_ERRORS,
    MD_MAX_VAULTS,
    ReportError,
    build_report,
    render_markdown,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import merge_discovery, plan_run

from tests.unit.builders import SUB, SUB2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
with open(os.path.join(ROOT, 'docs', 'drift-report-schema.json'), encoding='utf-8') as _handle:
    SCHEMA = json.load(_handle)
BASELINE = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14}}


def block(sources, fallbacks=(), data_time='2026-11-30T10:00:00Z', requested='auto', calls=2, arm=0, waited=0.0):
    return {'requested': requested, 'source_by_subscription': dict(sources), 'fallbacks': list(fallbacks), 'data_time': data_time,
            'resource_graph': {'calls': calls, 'throttled': 0, 'waited_s': 0.0}, 'arm': {'requests': arm, 'waited_s': waited, 'throttled': 0},
            'elapsed_s': 1.0}


def record(name, sub=SUB, immutability='disabled', rg='rg-a', index=0):
    return {'id': '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s' % (sub, rg, name),
            'name': name, 'resource_group': rg, 'subscription_id': sub, 'location': 'westeurope', 'vault_type': 'recovery_services',
            'immutability': immutability, 'immutability_retention_days': None,
            'soft_delete': {'state': 'on' if index % 3 else 'off', 'retention_days': 14},
            'mua': {'protected': False, 'resource_guard_id': None}, 'tags': {}, 'provisioning_state': 'Succeeded'}


# ---------------------------------------------------------------- _discovery


def test_discovery_choices_are_checked():
    assert [_discovery.check_discovery(v) for v in (None, 'AUTO', ' arm ', 'resource_graph')] == ['auto', 'auto', 'arm', 'resource_graph']
    with pytest.raises(InputError, match='discovery must be one of auto, resource_graph, arm'):
        _discovery.check_discovery('graph')


def test_the_discovery_block_says_source_time_and_cost():
    session = type('Session', (), {'pacer': SubscriptionPacer(probe=False)})()
    session.pacer.acquire(SUB)
    described = _discovery.describe('auto', {SUB: 'resource_graph', SUB2: 'arm'}, [{'subscription_id': SUB2, 'reason': 'no access'}],
                                    '2026-11-30T10:00:00Z', 0.0, session, {'calls': 3, 'throttled': 0, 'waited_s': 0.5, 'partial_scope': False})
    assert described['source_by_subscription'] == {SUB: 'resource_graph', SUB2: 'arm'}
    assert described['resource_graph'] == {'calls': 3, 'throttled': 0, 'waited_s': 0.5, 'requeried': []}
    assert described['arm'] == {'requests': 1, 'waited_s': 0.0, 'throttled': 0} and described['elapsed_s'] > 0
    # A session without a pacer (a test double) says nothing of ARM's cost rather than inventing it.
    assert _discovery.describe('arm', {}, [], None, 0.0, object())['arm'] == {'requests': None, 'waited_s': None, 'throttled': None}


@pytest.mark.parametrize('errors, failed', [
    ([{'scope': 'subscription %s' % SUB, 'code': 'NotVisibleInResourceGraph'}], True),
    ([{'scope': 'subscriptions %s, %s' % (SUB, SUB2), 'code': 'SubscriptionNotFound'}], True),
    ([{'scope': 'subscription %s (Backup vaults)' % SUB, 'code': 'AuthorizationFailed', 'vault_type': 'backup'}], False),
    ([{'scope': '/subscriptions/%s/resourceGroups/rg/providers/x/y/z' % SUB, 'code': 'UnreadableVault'}], False),
    ([], False),
])
def test_a_task_fails_only_when_every_subscription_failed(errors, failed):
    subs = [SUB, SUB2] if 'subscriptions' in str(errors) else [SUB]
    assert _discovery._every_subscription_failed(subs, errors) is failed  # pylint: disable=protected-access


# ---------------------------------------------------------------- merge_discovery


def test_reads_merge_into_one_discovery():
    reads = [
        {'vaults': [], 'discovery': block({SUB: 'resource_graph', SUB2: 'arm'}, [{'subscription_id': SUB2, 'reason': 'not visible'}],
                                          data_time='2026-11-30T10:00:05Z', calls=3, arm=40, waited=1.5)},
        # A listed vault of SUB, read from ARM: that subscription is now mixed; the older time wins.
        {'vaults': [], 'discovery': block({SUB.upper(): 'arm'}, requested='arm', data_time='2026-11-30T10:00:01Z', calls=0, arm=1)},
        {'vaults': [], 'discovery': block({SUB2: 'arm'}, [{'subscription_id': SUB2, 'reason': 'not visible'}], calls=1)},
        {'skipped': True},
        {'failed': True, 'msg': 'boom'},
    ]
    merged = merge_discovery(reads)
    assert merged['source_by_subscription'] == {SUB: 'mixed', SUB2: 'arm'} and merged['sources'] == {'mixed': 1, 'arm': 1}
    assert merged['fallbacks'] == [{'subscription_id': SUB2, 'reason': 'not visible'}]
    assert merged['data_time'] == '2026-11-30T10:00:00Z' and merged['requested'] == ['auto', 'arm']
    assert merged['resource_graph'] == {'calls': 4, 'throttled': 0, 'waited_s': 0.0}
    assert merged['arm'] == {'requests': 41, 'waited_s': 1.5, 'throttled': 0}
    assert merge_discovery([{'vaults': []}]) is None and merge_discovery({'results': []}) is None


def test_plan_run_carries_the_discovery_and_the_filter_can_leave_the_records_out():
    reads = [{'vaults': [record('rsv-a')], 'errors': [], 'discovery': block({SUB: 'resource_graph'})}]
    plan = plan_run(reads, None, BASELINE)
    assert plan['discovery']['source_by_subscription'] == {SUB: 'resource_graph'} and len(plan['vaults']) == 1
    small = vault_targets(reads, baseline=BASELINE, vaults=False)
    assert small['vaults'] == [] and small['drift'] == plan['drift'] and small['discovery'] == plan['discovery']


# ---------------------------------------------------------------- the report


def test_the_report_states_its_source_and_the_time_of_the_data():
    merged = merge_discovery([{'discovery': block({SUB: 'resource_graph', SUB2: 'arm'}, [{'subscription_id': SUB2, 'reason': 'no access'}])}])
    report = build_report(compute_drift([record('rsv-a'), record('rsv-b', sub=SUB2)], BASELINE), {'check_mode': True, 'discovery': merged})
    jsonschema.validate(json.loads(json.dumps(report)), SCHEMA)
    assert report['discovery']['sources'] == {'resource_graph': 1, 'arm': 1}
    assert report['discovery']['data_time'] == '2026-11-30T10:00:00Z' and report['discovery']['requested'] == ['auto']
    text = render_markdown(report)
    assert ('**Data:** read from Azure Resource Graph for 1 subscription, Azure Resource Manager for 1 subscription, as of '
            '2026-11-30T10:00:00Z (UTC).') in text
    assert 'Resource Graph can lag Azure Resource Manager by minutes' in text
    assert 'Read from Azure Resource Manager instead of Resource Graph (1 subscription):' in text and '- %s: no access' % SUB2 in text
    # ARM only: no word about Resource Graph's lag.
    arm_only = build_report([], {'discovery': merge_discovery([{'discovery': block({SUB: 'arm'}, requested='arm')}])})
    assert 'lag' not in render_markdown(arm_only) and 'Azure Resource Manager for 1 subscription' in render_markdown(arm_only)
    # Without a discovery the document is as before (the key is optional).
    assert 'discovery' not in build_report([], {}) and '**Data:**' not in render_markdown(build_report([], {}))
    with pytest.raises(ReportError, match='meta.discovery must be a dictionary'):
        build_report([], {'discovery': 'resource_graph'})


def test_the_markdown_is_a_summary_a_person_can_read_at_20000_vaults():
    subs = ['%08d-0000-4000-8000-000000000000' % i for i in range(25)]
    vaults = [record('rsv-%05d' % i, sub=subs[i % 25], immutability='disabled' if i % 2 else 'enabled', index=i) for i in range(20000)]
    errors = [{'scope': 'resource group rg-%d' % i, 'message': 'AuthorizationFailed: no'} for i in range(120)]
    report = build_report(compute_drift(vaults, BASELINE), {'check_mode': True, 'predict': True, 'errors': errors,
                                                            'warnings': ['w%d' % i for i in range(30)]})
    assert len(report['vaults']) == 20000 and report['summary']['drifting'] > 10000
    text = render_markdown(report)
    lines = text.splitlines()
    assert len(lines) < 400 and len(text) < 100000
    drifting = report['summary']['drifting']
    assert '... and %d more drifting vaults: the full list is in drift.json.' % (drifting - MD_MAX_VAULTS) in text
    assert '... and %d more vaults that would change: the full list is in drift.json.' % (len(report['changed']) - MD_MAX_VAULTS) in text
    assert '... and %d more errors: the full list is in drift.json.' % (120 - MD_MAX_ERRORS) in text
    assert '... and 10 more warnings' in text and '... and 5 more subscriptions' in text
    # The counts still cover every vault; the listed vaults are the worst: two findings (immutability and soft delete) first.
    assert '| Vaults | 20000 |' in text
    section = text.split('## Drift', 1)[1].split('## Would change', 1)[0]
    listed = {line.split(' | ')[0].strip('| ') for line in section.splitlines() if line.startswith('| rsv-')}
    assert len(listed) == MD_MAX_VAULTS
    by_name = {v['name']: v for v in report['vaults']}
    assert all(len([f for f in by_name[name]['findings'] if not f['resolved']]) == 2 for name in listed)


def test_a_small_report_lists_every_drifting_vault_in_report_order():
    vaults = [record('rsv-%02d' % i, index=i) for i in range(5)]
    text = render_markdown(build_report(compute_drift(vaults, BASELINE), {'check_mode': True}))
    assert 'more drifting vaults' not in text and 'with the most open findings' not in text
    names = [line.split(' | ')[0].strip('| ') for line in text.split('## Drift', 1)[1].splitlines() if line.startswith('| rsv-')]
    assert list(dict.fromkeys(names)) == ['rsv-%02d' % i for i in range(5)]


class NoRequests:
    """A session that fails the test on any use: the scope must be refused before anything is asked of Azure."""

    def __getattr__(self, name):
        raise AssertionError('the session was used (%s) before the scope was checked' % name)


@pytest.mark.parametrize('group', ['', ' ', ' rg-a', 'rg-a\n', 'rg-a.'])
def test_a_resource_group_that_is_not_a_name_is_refused_before_any_request(group):
    # An empty name read every resource group of the subscription (a variable that is not set widened the scope).
    params = {'resource_group': group, 'vault_types': ['recovery_services'], 'discovery': 'arm'}
    with pytest.raises(InputError, match=r"resource_group: resource group name '.*' is not valid"):
        _discovery.read_scope(NoRequests(), params)
    with pytest.raises(InputError, match=r"resource_groups\[1\]: resource group name '.*' is not valid"):
        _discovery.read_fleet(NoRequests(), None, ['backup'], ['rg-a', group], discovery='auto')


@pytest.mark.parametrize('kinds', [[], None])
def test_no_vault_kind_is_refused_before_any_request(kinds):
    """vault_types: [] (a variable that came out empty) read no vault and reported a clean, empty fleet: the info
    modules, harden_plan and the inventory plugin all read through read_fleet, which now refuses it."""
    message = r'^vault_types is empty .*leave it out to read both kinds.*; nothing was sent to Azure$'
    with pytest.raises(InputError, match=message):
        _discovery.read_fleet(NoRequests(), None, kinds, discovery='auto')
    with pytest.raises(InputError, match=message):
        _discovery.read_scope(NoRequests(), {'vault_types': kinds, 'discovery': 'arm', 'max_concurrency': 4})


@pytest.mark.parametrize('count', [0, -1])
def test_a_concurrency_below_one_is_refused_before_any_request(count):
    # 0 read with the default of 32 in the info modules and with 1 in the inventory plugin, without a word.
    message = r'^max_concurrency must be at least 1; got %d; nothing was sent to Azure$' % count
    with pytest.raises(InputError, match=message):
        _discovery.read_scope(NoRequests(), {'vault_types': ['backup'], 'discovery': 'arm', 'max_concurrency': count})
    with pytest.raises(InputError, match=message):
        _discovery.read_scope(NoRequests(), {'id': '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.DataProtection/'
                                                   'backupVaults/bv' % SUB, 'vault_types': ['backup'], 'max_concurrency': count})
    with pytest.raises(InputError, match=message):
        _discovery.read_fleet(NoRequests(), None, ['backup'], max_concurrency=count)


@pytest.mark.parametrize('tags, words', [
    # Unquoted YAML: yes / true are booleans, matched as the text 'True': vaults tagged 'yes' were left out without a word.
    ({'backup': True}, "tags.backup: true is not text (bool), and Azure tag values are text: it would match only the text 'True'"),
    ({'version': 1.0}, "tags.version: 1.0 is not text (float)"),
    ({'owners': ['a', 'b']}, "tags.owners: '['a', 'b']' is not text (list)"),
    ({'Env': 'prod', 'env': 'dev'}, "tags: 'Env' and 'env' are the same tag (Azure compares tag names case-insensitively)"),
    ({'': 'x'}, "tags: '' is not a tag name"),
    ({'env': 'prod\n'}, "tags.env: 'prod\\n' contains a control character"),
])
def test_a_tag_filter_that_cannot_mean_what_it_shows_is_refused_before_any_request(tags, words):
    from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import tags_match
    if isinstance(tags.get('backup'), bool):
        # What the filter did: a vault tagged backup=yes (as Azure stores every tag value: text) did not match.
        assert tags_match({'tags': {'backup': 'yes'}}, tags) is False
    with pytest.raises(InputError) as err:
        _discovery.read_fleet(NoRequests(), None, ['backup'], tags=tags, discovery='auto')
    assert words in str(err.value) and 'nothing was sent to Azure' in str(err.value)
    with pytest.raises(InputError):
        _discovery.read_scope(NoRequests(), {'vault_types': ['backup'], 'discovery': 'arm', 'tags': tags})


def test_tag_filters_of_text_whole_numbers_and_null_pass():
    from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import check_tags, tags_match
    wanted = {'env': 'prod', 'costcenter': 1234, 'owner': None}
    assert check_tags(wanted) == wanted
    assert tags_match({'tags': {'Env': 'prod', 'CostCenter': '1234', 'owner': 'x'}}, wanted) is True
