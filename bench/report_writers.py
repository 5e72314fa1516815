# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report writers' time and memory for a large fleet, in process (no emulator, no ansible-playbook).

    python bench/report_writers.py [--vaults 20000] [--subscriptions 20] [--collections DIR] [--out DIR]

Builds vault records (a seeded mix: immutability 30 % locked, 40 % enabled, 30 % disabled; soft delete on 14 days;
one IaaS VM policy each whose daily tier keeps 7 days), judges them against the role's default-like baseline
(immutability enabled, soft delete on / 14 days, daily retention 30 days in report mode: one finding a vault, more on
the disabled ones), then times (CPU seconds of the process, so a busy machine changes them less than wall time) the drift (what the plan
task does), build_report, and each writer, and writes the files
to --out to give their sizes. Memory: the peak traced by tracemalloc over build_report and the writers (a second pass,
as tracing slows Python down) and the process's peak resident set. --collections points at another checkout's
collections directory to measure it the same way (for a before/after comparison). Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
POLICY = {
    'name': 'vm-daily', 'properties': {
        'backupManagementType': 'AzureIaasVM',
        'schedulePolicy': {'schedulePolicyType': 'SimpleSchedulePolicy', 'scheduleRunFrequency': 'Daily',
                           'scheduleRunTimes': ['2024-01-01T02:00:00Z']},
        'retentionPolicy': {'retentionPolicyType': 'LongTermRetentionPolicy',
                            'dailySchedule': {'retentionTimes': ['2024-01-01T02:00:00Z'],
                                              'retentionDuration': {'count': 7, 'durationType': 'Days'}}},
        'instantRpRetentionRangeInDays': 2,
    },
}
BASELINE = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14},
            'retention': {'minimum': {'daily': '30d'}, 'mode': 'report'}}


def records(count, subscriptions, normalise_policy):
    rng = random.Random(26)
    policy = normalise_policy(POLICY, 'recovery_services')
    vaults = []
    for index in range(count):
        sub = '00000000-0000-4000-8000-%012d' % (index % subscriptions)
        name = 'rsv-%05d' % index
        vaults.append({
            'id': '/subscriptions/%s/resourceGroups/rg-%02d/providers/Microsoft.RecoveryServices/vaults/%s' % (sub, index % 7, name),
            'name': name, 'resource_group': 'rg-%02d' % (index % 7), 'subscription_id': sub, 'location': 'westeurope',
            'vault_type': 'recovery_services', 'immutability': rng.choices(['locked', 'enabled', 'disabled'], [3, 4, 3])[0],
            'immutability_retention_days': None, 'soft_delete': {'state': 'on', 'retention_days': 14}, 'enhanced_security': 'on',
            'mua': {'protected': index % 10 == 0, 'resource_guard_id': None}, 'tags': {}, 'provisioning_state': 'Succeeded',
            'policies': [dict(policy)],
        })
    return vaults


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--vaults', type=int, default=20000)
    parser.add_argument('--subscriptions', type=int, default=20)
    parser.add_argument('--collections', default=os.path.join(os.path.dirname(HERE), '.cache', 'collections'))
    parser.add_argument('--out', default=None, help='write the five files here (default: a temporary directory)')
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.abspath(args.collections))
    # The collection is imported from --collections, so the same script measures another checkout.
    from ansible_collections.vaultlock.azure.plugins.module_utils._drift import compute_drift  # pylint: disable=import-outside-toplevel
    from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy  # pylint: disable=import-outside-toplevel
    from ansible_collections.vaultlock.azure.plugins.module_utils._reports import document as _reports  # pylint: disable=import-outside-toplevel
    from ansible_collections.vaultlock.azure.plugins.module_utils._reports import html as _report_html
    from ansible_collections.vaultlock.azure.plugins.module_utils._reports import sarif as _report_sarif
    import tempfile  # pylint: disable=import-outside-toplevel
    out = args.out or tempfile.mkdtemp(prefix='report-writers-')
    os.makedirs(out, exist_ok=True)
    vaults = records(args.vaults, args.subscriptions, normalise_policy)
    meta = {'check_mode': True, 'timestamp': '2026-12-06T02:00:00+00:00', 'baseline': BASELINE, 'predict': True}
    writers = [('drift.md', _reports.render_markdown), ('drift.junit.xml', _reports.render_junit),
               ('drift.html', _report_html.render_html), ('drift.sarif', _report_sarif.render_sarif)]
    timings = {}
    start = time.process_time()
    drift = compute_drift(vaults, BASELINE)
    timings['drift'] = time.process_time() - start
    start = time.process_time()
    report = _reports.build_report(drift, meta)
    timings['build_report'] = time.process_time() - start
    sizes = {}
    start = time.process_time()
    with open(os.path.join(out, 'drift.json'), 'w', encoding='utf-8') as handle:
        if hasattr(_reports, 'write_json'):
            _reports.write_json(report, handle)
        else:  # a checkout from before drift.json's layout of a line per vault (--collections)
            json.dump(report, handle, sort_keys=True, indent=2, separators=(',', ': '), ensure_ascii=False)
    timings['drift.json'] = time.process_time() - start
    for name, render in writers:
        start = time.process_time()
        text = render(report)
        with open(os.path.join(out, name), 'w', encoding='utf-8') as handle:
            handle.write(text)
        timings[name] = time.process_time() - start
        del text
    for name in ['drift.json'] + [n for n, _r in writers]:
        sizes[name] = round(os.path.getsize(os.path.join(out, name)) / 1e6, 1)
    del report
    tracemalloc.start()
    report = _reports.build_report(drift, meta)
    for _name, render in writers:
        render(report)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    summary = report['summary']
    print(json.dumps({
        'vaults': args.vaults, 'subscriptions': args.subscriptions, 'findings': summary['findings'],
        'seconds': dict((k, round(v, 2)) for k, v in timings.items()),
        'writers_s': round(sum(v for k, v in timings.items() if k != 'drift'), 2),
        'sizes_mb': sizes, 'report_and_writers_traced_peak_mib': round(peak / 2 ** 20),
        'process_peak_rss_mib': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        'out': out if args.out else None,
    }, indent=1))


if __name__ == '__main__':
    main()
