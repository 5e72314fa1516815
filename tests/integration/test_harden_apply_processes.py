# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure.harden_apply with its subscriptions split between worker processes (max_processes), against the
emulator under Azure's throttling: every planned change made once, no answer 429, one result per vault, and a plan made
again afterwards finds nothing to change; a max_processes below 1 is refused before any request."""

from __future__ import annotations

import collections
import json


def _tasks(subs, report_dir, processes):
    plan = {'baseline': {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14}},
            'subscription_ids': subs, 'report_dir': str(report_dir)}
    return [
        {'vaultlock.azure.harden_plan': dict(plan, return_actions=False), 'register': 'planned'},
        {'vaultlock.azure.harden_apply': {'plan': '{{ planned.plan }}', 'max_processes': processes, 'max_concurrency': 12},
         'register': 'applied'},
        {'vaultlock.azure.harden_report': {'plan': '{{ planned.plan }}'}},
        {'vaultlock.azure.harden_plan': dict(plan, report_dir=str(report_dir) + '-again'), 'register': 'again', 'check_mode': True},
    ]


def test_worker_processes_apply_each_subscription_once_without_a_429(runner, emulator, tmp_path):
    subs = emulator.generate(90, 3, seed='apply-processes')['subscription_ids']
    emulator.throttle('azure')
    emulator.clear_journal()
    run = runner.play(_tasks(subs, tmp_path / 'reports', 3))
    assert run.rc == 0, run.output
    planned, applied = run['planned'], run['applied']
    assert applied['processes'] == 3, applied
    assert planned['with_actions'] > 20 and planned['actions'] == [], planned    # return_actions false: counted, not listed
    assert applied['vaults'] == planned['with_actions'] and applied['vaults_failed'] == 0, applied
    assert applied['pacing']['throttled'] == 0 and applied['pacing']['requests'] > applied['vaults'], applied
    journal = emulator.journal()
    assert [entry for entry in journal if entry['status'] == 429] == []
    # One PATCH per vault and setting at most: soft delete and immutability of a vault are one PATCH each.
    patches = collections.Counter(entry['path'].lower() for entry in journal if entry['method'] == 'PATCH')
    assert patches and max(patches.values()) <= 2
    changed_subs = set(path.split('/')[2] for path in patches)
    assert changed_subs == set(sub.lower() for sub in subs)
    report = json.loads((tmp_path / 'reports' / 'drift.json').read_text())
    assert report['errors'] == [] and report['summary']['changed'] == applied['vaults_changed']
    assert run['again']['with_actions'] == 0 and run['again']['actions'] == [], run['again']


def test_max_processes_below_one_is_refused_before_any_request(runner, emulator, tmp_path):
    subs = emulator.generate(6, 2, seed='apply-processes-bad')['subscription_ids']
    tasks = _tasks(subs, tmp_path / 'reports', 0)[:2]
    emulator.clear_journal()
    run = runner.play(tasks)
    refused = run['applied']
    assert refused.get('failed') and 'max_processes must be at least 1' in refused['msg'], refused
    assert emulator.writes() == []
