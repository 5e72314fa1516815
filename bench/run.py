# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure benchmarks: `make bench` (or `.venv/bin/python bench/run.py --help`).

This file parses the command line and runs the phases (bench/measure.py) with bench/runner.py, then prints and writes
the figures (bench/writedocs.py).

Every figure comes from real ansible-playbook / ansible-inventory runs against the ARM emulator
(tests/emulator), on loopback only. Nothing here asserts a time: it prints a table and, for full runs,
writes docs/performance.md with the machine, the commands and the figures.

Phases (--only to pick some):
  imports     import time and peak memory of ansible's module basics and of the Azure SDKs a task imports
  overhead    one vault_immutability_info task for one vault vs one ansible.builtin.ping task (median of N)
  emulator    the emulator's own request throughput, so it is shown not to be the bottleneck
  audit       the complete drift report (role playbook in check mode) for each --sizes fleet, with latency
  naive       100 vaults: one vault_immutability task per vault in a loop vs the role's discover-first run
  inventory   the backup_vaults inventory plugin: 200 vault hosts at forks 1, 10 and 50
  apply       issue 23: a first hardening applied for real (retention mode enforce) under Azure's throttling and latency,
              from the controller (harden_apply): wall time beside the floor of ARM's write and read buckets
  scale       issue 15: the complete drift report under Azure's throttling (--throttle azure) and latency, through Resource
              Graph (discovery auto) for 1,000 / 5,000 (one subscription) / 20,000 (20 subscriptions) vaults, and through
              ARM only (discovery arm) beside it for the 5,000-vault subscription; calls beside their minimum, peak memory
  html        drift.html at 20,000 vaults in headless Chromium: each filter and sort, ms to the next frame beside the 300 ms
              target (the scenario of tests/integration/test_html_report_scale.py; not in --quick runs)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import writedocs  # noqa: E402  pylint: disable=wrong-import-position
from measure import Bench  # noqa: E402  pylint: disable=wrong-import-position
from runner import PHASES, REPO  # noqa: E402  pylint: disable=wrong-import-position


def _fleets(text):
    fleets = []
    for part in text.split(','):
        if part.strip():
            size, _x, subs = part.strip().lower().partition('x')
            fleets.append((max(1, min(int(size), 20000)), max(1, min(int(subs or 1), 100))))
    return fleets


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true',
                        help='smoke run at a small size (CI), fewer processes: only the import sets no other set contains, no steady-state '
                             'run in naive, no debug-task playbook in inventory; writes no docs unless --output is given')
    parser.add_argument('--only', default=','.join(PHASES), help='comma-separated phases: %s' % ', '.join(PHASES))
    parser.add_argument('--sizes', default=None, help='fleet sizes for the audit (default 1000,5000; quick 50)')
    parser.add_argument('--subscriptions', type=int, default=10, help='subscriptions the audit fleets spread over (default 10)')
    parser.add_argument('--latency-ms', type=int, default=100, help='latency injected per ARM call in audit, naive, inventory (default 100)')
    parser.add_argument('--drift-percent', type=float, default=1.0, help='share of audit vaults left needing an action (default 1)')
    parser.add_argument('--concurrency', default='role',
                        help="comma-separated harden_backup_vaults_discovery_concurrency values for the audit; 'role' = the role's default "
                             "(default: role)")
    parser.add_argument('--import-samples', type=int, default=None,
                        help='fresh interpreters per import set in the imports phase, the median shown (default 3; quick 1)')
    parser.add_argument('--runs', type=int, default=None, help='task pairs in the overhead playbook (default 15; quick 3)')
    parser.add_argument('--naive-size', type=int, default=None, help='vaults in the naive comparison (default 100; quick 10)')
    parser.add_argument('--inventory-hosts', type=int, default=None, help='vault hosts for the inventory phase (default 200; quick 20)')
    parser.add_argument('--forks', default=None, help='forks for the inventory phase (default 1,10,50; quick 1,10)')
    parser.add_argument('--throughput-seconds', type=float, default=None, help='emulator throughput probe length (default 5; quick 1)')
    parser.add_argument('--scale-fleets', default=None,
                        help="scale phase fleets as VAULTSxSUBSCRIPTIONS, comma-separated (default 1000x1,5000x1,20000x20; quick 60x1,120x2)")
    parser.add_argument('--scale-arm', default=None,
                        help='scale fleets also read through ARM only, for comparison (default 5000x1; quick 60x1; none for none)')
    parser.add_argument('--apply-fleets', default=None,
                        help='apply phase fleets as VAULTSxSUBSCRIPTIONSxPERCENT changing, comma-separated '
                             '(default 400x4x100,2000x1x100,20000x20x20; quick 40x2x100)')
    parser.add_argument('--apply-loop', type=int, default=None,
                        help='vaults for the per-vault module loop beside harden_apply (default 200; quick 10; 0 for none)')
    parser.add_argument('--apply-processes', type=int, default=None,
                        help="harden_backup_vaults_apply_processes for the apply phase (default: the role's, the controller's cores)")
    parser.add_argument('--apply-concurrency', type=int, default=None,
                        help="harden_backup_vaults_apply_concurrency for the apply phase (default: the role's)")
    parser.add_argument('--output', default=None, help='Markdown file to write (default docs/performance.md; none with --quick)')
    parser.add_argument('--no-write', action='store_true', help='print only')
    parser.add_argument('--workdir', default=None, help='keep playbooks, fleets and reports here (default: a temporary directory)')
    parser.add_argument('--json', default=None, help='also write the raw results as JSON to this file')
    args = parser.parse_args(argv)
    quick = args.quick
    args.phases = [p.strip() for p in args.only.split(',') if p.strip()]
    try:
        args.concurrency = [None if c.strip() == 'role' else max(1, min(int(c), 256)) for c in args.concurrency.split(',') if c.strip()] or [None]
    except ValueError:
        parser.error("--concurrency takes numbers or 'role'")
    unknown = [p for p in args.phases if p not in PHASES]
    if unknown:
        parser.error('unknown phase(s) %s; choose from %s' % (', '.join(unknown), ', '.join(PHASES)))
    args.sizes = [int(s) for s in (args.sizes or ('50' if quick else '1000,5000')).split(',') if s.strip()]
    if any(s < 1 or s > 20000 for s in args.sizes):
        parser.error('--sizes must be between 1 and 20000')
    try:
        args.scale_fleets = _fleets(args.scale_fleets or ('60x1,120x2' if quick else '1000x1,5000x1,20000x20'))
        args.scale_arm = [] if args.scale_arm == 'none' else _fleets(args.scale_arm or ('60x1' if quick else '5000x1'))
    except ValueError:
        parser.error('--scale-fleets and --scale-arm take VAULTSxSUBSCRIPTIONS, comma-separated (1000x1,20000x20)')
    try:
        args.apply_fleets = [(max(1, min(int(a), 20000)), max(1, min(int(b), 100)), max(0.0, min(float(c), 100.0)))
                             for a, b, c in (part.strip().lower().split('x') for part in
                                             (args.apply_fleets or ('40x2x100' if quick else '400x4x100,2000x1x100,20000x20x20')).split(',')
                                             if part.strip())]
    except ValueError:
        parser.error('--apply-fleets takes VAULTSxSUBSCRIPTIONSxPERCENT, comma-separated (400x4x100)')
    args.apply_loop = max(0, min(args.apply_loop if args.apply_loop is not None else (10 if quick else 200), 2000))
    if quick:
        args.subscriptions = min(args.subscriptions, 2)
    args.import_samples = max(1, min(args.import_samples or (1 if quick else 3), 15))
    args.runs = max(1, min(args.runs or (3 if quick else 15), 100))
    args.naive_size = max(1, min(args.naive_size or (10 if quick else 100), 1000))
    args.inventory_hosts = max(1, min(args.inventory_hosts or (20 if quick else 200), 2000))
    args.forks = [max(1, min(int(f), 200)) for f in (args.forks or ('1,10' if quick else '1,10,50')).split(',') if f.strip()]
    args.throughput_seconds = max(0.5, min(args.throughput_seconds or (1.0 if quick else 5.0), 30.0))
    if args.output is None and not quick:
        args.output = os.path.join(REPO, 'docs', 'performance.md')
    if args.no_write:
        args.output = None
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    bench = Bench(args)
    machine = writedocs.machine()
    bench.log('workdir %s; %s CPUs, %s, Python %s, ansible-core %s, load %s'
              % (bench.workdir, machine['nproc'], machine['memory'], machine['python'], machine['versions']['ansible-core'], machine['load']))
    started = time.time()
    for phase in PHASES:
        if phase in args.phases:
            getattr(bench, 'phase_' + phase)()
    bench.log('done in %.0f s' % (time.time() - started))
    writedocs.print_tables(bench)
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as handle:
            json.dump({'machine': machine, 'results': bench.results}, handle, indent=1, default=str)
    if args.output:
        with open(args.output, 'w', encoding='utf-8') as handle:
            handle.write(writedocs.markdown(bench, machine, argv))
        bench.log('wrote %s' % args.output)
    if not args.workdir:
        shutil.rmtree(bench.workdir, ignore_errors=True)
    failed = [name for name, value in bench.results.items() if isinstance(value, dict) and value.get('rc')]
    failed += ['audit %s' % a['label'] for a in bench.results.get('audit', []) if a['rc']]
    if failed:
        bench.log('runs that failed: %s' % ', '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
