# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure.harden_apply with its subscriptions split between worker processes (max_processes), against the
emulator under Azure's throttling: every planned change made once, no answer 429, one result per vault, and a plan made
again afterwards finds nothing to change; a max_processes below 1 is refused before any request."""

from __future__ import annotations

import collections
import json

import pytest

from tests.emulator.client import is_write
from tests.integration.batching import Batch, PartState


def _tasks(subs, report_dir, processes, prefix):
    """Plan, apply, report and plan again; registered as PREFIX_planned, PREFIX_applied, PREFIX_again."""
    plan = {'baseline': {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14}},
            'subscription_ids': subs, 'report_dir': str(report_dir)}
    planned = '{{ %s_planned.plan }}' % prefix
    return [
        {'vaultlock.azure.harden_plan': dict(plan, return_actions=False), 'register': prefix + '_planned'},
        {'vaultlock.azure.harden_apply': {'plan': planned, 'max_processes': processes, 'max_concurrency': 12},
         'register': prefix + '_applied'},
        {'vaultlock.azure.harden_report': {'plan': planned}, 'register': prefix + '_report'},
        {'vaultlock.azure.harden_plan': dict(plan, report_dir=str(report_dir) + '-again'), 'register': prefix + '_again', 'check_mode': True},
    ]


@pytest.fixture(scope='module')
def processes_run(module_runner):
    """One run (batching.Batch): on 6 generated vaults in 2 subscriptions, a max_processes of 0; then, on 90 generated
    vaults in 3 subscriptions generated in the run under Azure's throttling, the plan applied by 3 worker processes, and
    planned again once Resource Graph has caught up.
    Each part's subscriptions are the ones its generate answered (registered, read by the tasks)."""
    emulator = module_runner.emulator
    emulator.reset()
    emulator.clear_journal()
    tmp = module_runner.tmp_path
    batch = Batch(module_runner)
    batch.emulator(register='bad_fleet', reset=True, generate={'vaults': 6, 'subscriptions': 2, 'seed': 'apply-processes-bad'})
    batch.tasks(_tasks('{{ bad_fleet.generated.subscription_ids }}', tmp / 'bad-reports', 0, 'bad')[:2])
    batch.emulator(register='workers_fleet', reset=True, generate={'vaults': 90, 'subscriptions': 3, 'seed': 'apply-processes'},
                   settings={'throttle': 'azure'})
    workers = _tasks('{{ workers_fleet.generated.subscription_ids }}', tmp / 'reports', 3, 'workers')
    batch.tasks(workers[:3])
    # Resource Graph lags ARM (the emulator by its graph_lag_s): a plan made the moment the last write ended may still
    # see rows from before it, as in Azure. The plan again is made once the index has caught up.
    batch.emulator(clock={'advance_s': 2})
    batch.tasks(workers[3:])
    return batch.play()


def test_worker_processes_apply_each_subscription_once_without_a_429(processes_run):
    run = processes_run
    subs = run['workers_fleet']['generated']['subscription_ids']
    assert run['workers_fleet']['settings']['throttle'] == 'azure'
    assert run.rc == 0, run.output
    planned, applied = run['workers_planned'], run['workers_applied']
    assert applied['processes'] == 3, applied
    assert planned['with_actions'] > 20 and planned['actions'] == [], planned    # return_actions false: counted, not listed
    assert applied['vaults'] == planned['with_actions'] and applied['vaults_failed'] == 0, applied
    assert applied['pacing']['throttled'] == 0 and applied['pacing']['requests'] > applied['vaults'], applied
    journal = PartState(run, 'workers_planned', 'workers_again').journal()
    assert [entry for entry in journal if entry['status'] == 429] == []
    # One PATCH per vault and setting at most: soft delete and immutability of a vault are one PATCH each.
    patches = collections.Counter(entry['path'].lower() for entry in journal if entry['method'] == 'PATCH')
    assert patches and max(patches.values()) <= 2
    changed_subs = set(path.split('/')[2] for path in patches)
    assert changed_subs == set(sub.lower() for sub in subs)
    report = json.loads((run.tmp_path / 'reports' / 'drift.json').read_text())
    assert report['errors'] == [] and report['summary']['changed'] == applied['vaults_changed']
    assert run['workers_again']['with_actions'] == 0 and run['workers_again']['actions'] == [], run['workers_again']


def test_max_processes_below_one_is_refused_before_any_request(processes_run):
    run = processes_run
    assert len(run['bad_fleet']['generated']['subscription_ids']) == 2
    refused = run['bad_applied']
    assert refused.get('failed') and 'max_processes must be at least 1' in refused['msg'], refused
    assert [e for e in PartState(run, 'bad_planned', 'bad_applied').journal() if is_write(e)] == []
