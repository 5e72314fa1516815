# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planning worker's peak memory of a repeated check run, without the rest of `make bench`.

    .venv/bin/python bench/plan_peak.py [--vaults 20000] [--subscriptions 20] [--workdir DIR]

Runs the role in check mode twice into one report directory (as bench/measure.py's scale phase does for its largest fleet:
Azure's throttling and 100 ms a call), the second run finding the first one's reports and scope record there, and prints
for each run the time of the task `Discover vaults and plan the run` and the peak resident memory (VmHWM, read from /proc
every 20 ms) of the ansible-playbook worker that ran it. make bench's figure is the largest child of ansible-playbook over
the whole run (the report writer's too); this one is the planning worker's alone. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench_run  # noqa: E402  pylint: disable=wrong-import-position
from measure import Bench  # noqa: E402  pylint: disable=wrong-import-position
from runner import settle  # noqa: E402  pylint: disable=wrong-import-position

PLAN_TASK = 'Discover vaults and plan the run'


def descendants(root):
    """The process ids below ``root``."""
    parents = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name, encoding='utf-8') as handle:
                    parents[int(name)] = int(handle.read().rsplit(')', 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found.add(child)
                todo.append(child)
    return found


class Peaks:
    """Each descendant's peak resident memory (KiB) and when it was seen, polled from /proc."""

    def __init__(self):
        self.seen = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _poll(self):
        me = os.getpid()
        while not self._stop.is_set():
            now = time.time()
            for pid in descendants(me):
                try:
                    with open('/proc/%d/status' % pid, encoding='utf-8') as handle:
                        hwm = [line for line in handle if line.startswith('VmHWM:')]
                except OSError:
                    continue
                if hwm:
                    entry = self.seen.setdefault(pid, {'first': now, 'last': now, 'kib': 0})
                    entry['last'] = now
                    entry['kib'] = max(entry['kib'], int(hwm[0].split()[1]))
            time.sleep(0.02)

    def during(self, start, end):
        """The largest peak (MiB) of the processes that lived within [start, end] (a task's worker)."""
        kib = [entry['kib'] for entry in self.seen.values() if entry['first'] <= end and start <= entry['last'] <= end + 1.0]
        return round(max(kib) / 1024.0, 1) if kib else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--vaults', type=int, default=20000)
    parser.add_argument('--subscriptions', type=int, default=20)
    parser.add_argument('--workdir', default=None, help='keep fleets and reports here (default: a temporary directory)')
    args = parser.parse_args(argv)
    options = ['--only', 'scale', '--scale-fleets', '%dx%d' % (args.vaults, args.subscriptions), '--scale-arm', 'none', '--no-write']
    bench = Bench(bench_run.parse_args(options + (['--workdir', args.workdir] if args.workdir else [])))
    fleet = bench.generate_fleet(args.vaults, args.subscriptions, seed='scale-%d-%d' % (args.vaults, args.subscriptions))
    settle(fleet, bench.args.drift_percent)
    for label, reports_of in (('first', None), ('again', 'first')):
        with Peaks() as peaks:
            result, _journal, _report_dir, _doc = bench.role_run(label, fleet, {'harden_backup_vaults_discovery': 'auto'}, ['--check'],
                                                                 reports_of=reports_of)
        plan = [task for task in result['tasks'] if task['task'].endswith(PLAN_TASK)]
        row = {'run': label, 'rc': result['rc'], 'plan_task_s': round(plan[0]['seconds'], 2) if plan else None,
               'plan_worker_peak_mib': peaks.during(plan[0]['start'], plan[0]['end']) if plan else None,
               'largest_child_mib': result.get('children_mib')}
        print(json.dumps(row), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
