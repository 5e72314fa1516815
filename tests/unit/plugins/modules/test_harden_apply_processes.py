# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/_harden_apply.py with its subscriptions split over forked worker processes (the fake Azure of conftest.py,
copied into each process by the fork): the same results as one process, whole subscriptions per process, and a vault a
process did not report is an error whose outcome is unknown, never "unchanged"."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.vaultlock.azure.plugins.action.harden_apply import worker_processes
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_apply import PlanApplier, _WhileParent
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import apply_summary

from tests.unit.builders import BV, RS, arm_vault, iaas
from tests.unit.plugins.modules.conftest import FakeSession
from tests.unit.plugins.modules.test_harden_apply import LOCK, REQUIREMENTS, plan

SUBS = ['11111111-1111-1111-1111-11111111111%d' % n for n in range(1, 4)]

pytestmark = pytest.mark.skipif(not hasattr(os, 'fork'), reason='worker processes are forked')


def fleet(azure):
    """Three subscriptions: 3, 2 and 1 vaults needing changes (weak retention, soft delete and immutability)."""
    for sub, count in zip(SUBS, (3, 2, 1)):
        for number in range(count):
            name = 'rsv-%s-%d' % (sub[-1], number)
            vault = azure.add(arm_vault(name, immutability='disabled', soft_delete='on', days=10, sub=sub),
                              [iaas('VMWeak', daily=(7, 'Days'))])
            azure.protect(vault, 'VMWeak', 'vm-%s' % name)
        azure.add(arm_vault('bv-%s' % sub[-1], BV, immutability='disabled', soft_delete='on', sub=sub))


def applier(session, processes, factory=None, concurrency=4):
    return PlanApplier(session, LOCK, REQUIREMENTS, True, max_concurrency=concurrency, processes=processes,
                       session_factory=factory)


def comparable(done):
    """Each action's results in order, without what differs between two runs by nature (nothing should)."""
    return {action: [(r['item']['name'], r['changed'], r['failed'], r['changes'], r.get('msg')) for r in results]
            for action, results in done['results'].items()}


def test_worker_processes_give_the_results_of_one_process(azure):
    fleet(azure)
    session = FakeSession({}, subscriptions=SUBS, azure=azure)
    drift = plan(azure, session)
    before = {key: dict(raw) for key, raw in azure.vaults.items()}
    forked = applier(session, 2, lambda: FakeSession({}, subscriptions=SUBS, azure=azure)).apply(drift)
    # The workers changed their own copies of the fake Azure: this process's copy is untouched.
    assert azure.vaults == before and azure.writes == []
    alone = applier(session, 1).apply(drift)
    assert forked['processes'] == 2 and alone['processes'] == 1
    assert comparable(forked) == comparable(alone)
    assert forked['gates'] == alone['gates'] and forked['warnings'] == alone['warnings']
    # The workers' pacers, summed: the reads of the fake's ARM read pipeline (arm_get), the lock gate's item list of each of
    # the 9 vaults.
    assert forked['pacing'] == {'requests': 9, 'waited_s': 0.0, 'throttled': 0}
    summary = apply_summary(forked)
    assert summary['vaults'] == 9 and summary['vaults_changed'] == 9 and summary['vaults_failed'] == 0
    assert summary['processes'] == 2
    # Every vault of the one run was locked (this process's copy shows it), and the forked run reported the same.
    assert all(vault_record(raw, RS if 'RecoveryServices' in raw['type'] else BV)['immutability'] == 'locked'
               for raw in azure.vaults.values())


def test_subscriptions_are_split_whole_the_largest_first_onto_the_least_loaded(azure):
    fleet(azure)
    session = FakeSession({}, subscriptions=SUBS, azure=azure)
    todo = [entry for entry in plan(azure, session) if entry.get('changes')]
    groups = applier(session, 2, FakeSession).split(todo)
    subs = [sorted(set(entry['subscription_id'] for entry in group)) for group in groups]
    # 4, 3 and 2 vaults: 4 alone, then 3 and 2 together (no subscription is split between processes).
    assert sorted(len(group) for group in groups) == [4, 5]
    assert sorted(subs) == sorted([[SUBS[0]], [SUBS[1], SUBS[2]]])
    assert len(applier(session, 8, FakeSession).split(todo)) == 3        # never more processes than subscriptions
    assert applier(session, 1, FakeSession).split(todo) == [todo]
    assert len(applier(session, 2, None).split(todo)) == 1                # no way to build a session: this process only
    assert applier(session, 2, FakeSession).split([]) == []


def test_a_vault_a_dead_worker_did_not_report_is_unknown_never_unchanged(azure, monkeypatch):
    fleet(azure)
    session = FakeSession({}, subscriptions=SUBS, azure=azure)
    drift = plan(azure, session)
    # The worker process that writes to rsv-1-1 dies (exit status 9) as it sends the write.
    real_fail = azure.fail
    parent = os.getpid()

    def fail(operation, name):
        if name == 'rsv-1-1' and os.getpid() != parent:
            os._exit(9)  # pylint: disable=protected-access
        return real_fail(operation, name)

    monkeypatch.setattr(azure, 'fail', fail)
    # One thread per process: each process applies its vaults one after another, in turn order.
    done = applier(session, 2, lambda: FakeSession({}, subscriptions=SUBS, azure=azure), concurrency=2).apply(drift)
    by_vault = {}
    for action, results in done['results'].items():
        for result in results:
            by_vault.setdefault(result['item']['name'], []).append((action, result))
    dead = by_vault['rsv-1-1']
    assert len(dead) == 1
    _action, result = dead[0]
    assert result['failed'] is True and result['changed'] is True and result['outcome'] == 'unknown'
    assert 'ended unexpectedly (exit status 9)' in result['msg'] and 'unknown' in result['msg']
    # Subscription 1 (4 vaults) had a process of its own; the vaults it reported before dying keep their results, the
    # ones after it are unknown too; the other process's vaults are all applied.
    sub1 = sorted(name for name in by_vault if name == 'bv-1' or name.startswith('rsv-1-'))
    unknown = sorted(name for name, results in by_vault.items() if any(r.get('outcome') == 'unknown' for _a, r in results))
    assert set(unknown) <= set(sub1) and 'rsv-1-1' in unknown and len(sub1) == 4
    others = [name for name in by_vault if name not in sub1]
    assert others and all(not r['failed'] for name in others for _a, r in by_vault[name])
    assert apply_summary(done)['vaults'] == 9


def test_a_worker_that_cannot_start_reports_each_of_its_vaults_unknown_with_its_last_words(azure):
    fleet(azure)
    session = FakeSession({}, subscriptions=SUBS, azure=azure)
    drift = plan(azure, session)

    def no_session():
        raise RuntimeError('no credential here')

    done = applier(session, 2, no_session).apply(drift)
    results = [result for results in done['results'].values() for result in results]
    assert len(results) == 9
    assert all(r['failed'] and r['changed'] and r['outcome'] == 'unknown' for r in results)
    assert all('exit status 1, RuntimeError: no credential here' in r['msg'] for r in results)


def test_a_worker_whose_parent_is_gone_starts_no_further_vault(monkeypatch):
    entries = [{'id': 'a'}, {'id': 'b'}, {'id': 'c'}]
    parent = os.getppid()
    live = _WhileParent(entries, parent)
    assert len(live) == 3 and live[0] == {'id': 'a'}
    monkeypatch.setattr(os, 'getppid', lambda: 1)        # the task's process died: the worker was re-parented
    assert live[1] is None and live[2] is None and live.skipped == 2


def test_the_default_is_the_cores_this_controller_may_use_and_below_one_is_refused(monkeypatch):
    monkeypatch.setattr(os, 'sched_getaffinity', lambda _pid: {0, 1, 2}, raising=False)
    monkeypatch.setattr(sys, 'platform', 'linux')
    assert worker_processes(None) == 3 and worker_processes(1) == 1 and worker_processes(12) == 12
    monkeypatch.setattr(sys, 'platform', 'darwin')
    assert worker_processes(None) == 1 and worker_processes(2) == 2
    with pytest.raises(InputError, match='max_processes must be at least 1'):
        worker_processes(0)
