# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmark says: the machine, the tables it prints, the targets, and docs/performance.md."""

from __future__ import annotations

import datetime
import json
import os
import platform
from importlib import metadata

from runner import BIN, SDK_PACKAGES, fmt_mib, fmt_s  # pylint: disable=wrong-import-position


def machine():
    mem = None
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/meminfo', encoding='utf-8') as handle:
            for line in handle:
                if line.startswith('MemTotal:'):
                    mem = '%.1f GiB' % (int(line.split()[1]) / 1024.0 / 1024.0)
        with open('/proc/cpuinfo', encoding='utf-8') as handle:
            for line in handle:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    for package in SDK_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = 'not installed'
    return {'nproc': os.cpu_count(), 'memory': mem, 'load': ' / '.join('%.2f' % v for v in os.getloadavg()), 'cpu': cpu,
            'os': platform.platform(), 'python': platform.python_version(),
            'versions': versions}


def _steady(naive):
    """', N.Nx in steady state' of the naive phase, or nothing when it had no steady-state run (--quick)."""
    if naive.get('steady_s') is None:
        return ''
    return ', %.1fx in steady state' % (naive.get('steady_ratio') or 0)


def tables(bench):
    """[(title, header, rows, notes)] from the results."""
    out = []
    res = bench.results
    if 'imports' in res:
        samples = res['imports'][0].get('samples', 3) if res['imports'] else 3
        out.append(('Import time and peak memory (fresh interpreter, %s)' % ('median of %d' % samples if samples > 1 else 'one sample'),
                    ['what is imported', 'time', 'peak RSS'],
                    [[r['set'], fmt_s(r['seconds']), fmt_mib(r['mib'])] for r in res['imports']], []))
    if res.get('apply'):
        out.append(('Apply from the controller (harden_apply), throttling azure, latency per call',
                    ['fleet', 'changing', 'wall', 'apply task', 'floor (writes / reads)', 'writes', 'ARM reads', '429', 'changed', 'errors'],
                    [['%d x %d' % (r['vaults'], r['subscriptions']), r['changing'], fmt_s(r['wall']), fmt_s(r['apply_s'] or 0.0),
                      '%s (%s / %s)' % (fmt_s(r['floor_s']), fmt_s(r['write_floor_s']), fmt_s(r['read_floor_s'])), r['writes'], r['reads'],
                      r['calls']['throttled'], r['summary'].get('changed', 0), r['errors']] for r in res['apply']],
                    ['floor: per subscription max(0, writes - 200) / 10 s and max(0, reads - 250) / 25 s (ARM\'s documented buckets; '
                     'long-running operation polls are reads), subscriptions in parallel']))
    if 'overhead' in res:
        o = res['overhead']
        out.append(('Task overhead: one task, same playbook run, median of %d (emulator latency 0)' % o['runs'],
                    ['task', 'task wall (callback)', 'module process wall', 'module peak RSS'],
                    [['ansible.builtin.ping', fmt_s(o['ping_s']), fmt_s(o['ping_proc_s']), fmt_mib(o['ping_mib'])],
                     ['vault_immutability_info, one vault', fmt_s(o['info_s']), fmt_s(o['info_proc_s']), fmt_mib(o['info_mib'])]],
                    ['info / ping = %.2f (target <= 2); module peak %s (target <= 80 MB)' % (o['ratio'] or 0, fmt_mib(o['info_mib'])),
                     'over a local connection vault_immutability_info runs in the task worker, in the Python of ansible-playbook: no '
                     'module process (its columns show -); the largest task worker peaked at %s' % fmt_mib(o.get('worker_mib'))]))
    if res.get('html', {}).get('ms_to_next_frame'):
        h = res['html']
        frames, handlers = h['ms_to_next_frame'], h['ms_in_handler_with_layout']
        out.append(('drift.html in headless Chromium: %d vaults, %d findings, %s MB' % (h['vaults'], h['findings'], h['html_mb']),
                    ['operation', 'ms to the next frame', 'ms in the handler, layout included'],
                    [[name, '%.0f' % frames[name], '%.0f' % handlers[name]] for name in frames],
                    ['target: every filter and sort under %d ms (best of 3 each); %s; rendered in %.1f s, loaded in %.1f s'
                     % (h['target_ms'], 'met' if max(frames.values()) < h['target_ms'] else 'NOT met', h['render_s'], h['load_s'])]))
    if 'emulator' in res:
        e = res['emulator']
        out.append(('Emulator throughput (latency 0, %d keep-alive client threads)' % e['threads'], ['requests served', 'seconds', 'requests/s'],
                    [[str(e['requests']), '%.1f' % e['seconds'], '%.0f' % e['rps']]],
                    ['non-200 answers: %d' % e['bad']]))
    if 'audit' in res:
        rows = []
        for a in res['audit']:
            p = a['phases']
            rows.append(['%d / %d' % (a['vaults'], a['subscriptions']), str(a['concurrency']), str(a['drifting']), fmt_s(a['wall']), fmt_s(p['discover']),
                         fmt_s(p['drift']), fmt_s(p['state tasks']), fmt_s(p['reports']), '%d / %d' % (a['arm_calls'], a['minimum']),
                         '%.0f' % (a['rps'] or 0), fmt_mib(a['module_mib']), fmt_mib(a['controller_mib']),
                         'ok' if a['rc'] == 0 and len(a['reports']) == 3 else 'rc %s, %d reports' % (a['rc'], len(a['reports']))])
        notes = ['%s in check mode, discovery arm, no throttling; %d ms injected per ARM call; list page size %s (emulator default: Azure does not document '
                 'its page size for vault lists)' % (res['audit'][0]['how'], res['audit'][0]['latency_ms'], res['audit'][0]['page_size'])]
        for a in res['audit']:
            notes.append('%d vaults: ARM calls by kind %s' % (a['vaults'], json.dumps(a['calls_by_kind'], sort_keys=True)))
        out.append(('Fleet audit: complete drift report (targets: 15 s at 1,000, 60 s at 5,000, 200 MB)',
                    ['vaults / subs', 'concurrency', 'with action', 'wall', 'discover', 'drift', 'state tasks', 'reports', 'ARM calls / min',
                     'ARM req/s', 'module peak', 'controller peak', 'result'], rows, notes))
    if 'naive' in res:
        n = res['naive']
        out.append(('Naive loop vs discover-first, %d vaults (%d with an action)' % (n['vaults'], n['drifting']),
                    ['approach', 'wall', 'ARM calls'],
                    [['one vault_immutability task per vault (check mode, ignore_errors: locked vaults fail)', fmt_s(n['naive_s']),
                      str(n['naive_calls'])],
                     ['role: discover once, state tasks only for the %d vaults with an action' % n['drifting'], fmt_s(n['role_s']),
                      str(n['role_calls'])]]
                    + ([['role, same fleet in steady state (%d vaults with an action)' % n['steady_drifting'], fmt_s(n['steady_s']),
                         str(n['steady_calls'])]] if n['steady_s'] is not None else []),  # no steady-state run with --quick
                    ['naive / discover-first = %.1fx as generated%s (the naive loop costs the same either way)' % (n['ratio'] or 0, _steady(n))]))
    if 'inventory' in res:
        i = res['inventory']
        rows = [['ansible-inventory --list (cold, fills the cache)', '-', '-', fmt_s(i['cold_s']), str(i['cold_calls'])],
                ['ansible-inventory --list (from the cache)', '-', '-', fmt_s(i['cached_s']), str(i['cached_calls'])]]
        for r in i['rows']:
            rows.append(['playbook, one %s task per vault host' % r['task'], str(r['forks']), str(r['hosts_ok']), fmt_s(r['wall']),
                         str(r['arm_calls'])])
        out.append(('Inventory plugin: %d vault hosts' % i['hosts'], ['run', 'forks', 'hosts ok', 'wall', 'ARM calls'], rows,
                    ['playbooks use the cached inventory; the module task runs vault_immutability_info for the vault of each host '
                     '(by id), delegate_to localhost']))
    if 'scale' in res:
        rows = []
        for r in res['scale']:
            calls = r['calls']
            rows.append(['%d / %d' % (r['vaults'], r['subscriptions']), r['discovery'], str(r['drifting']), fmt_s(r['wall']),
                         fmt_s(r['module_s']), '%d / %d' % (calls['graph'], r['minimum_graph']),
                         '%d / %d' % (calls['arm'], r['minimum_arm']), str(calls['throttled']),
                         fmt_mib(r['module_mib']), fmt_mib(r['controller_mib']), fmt_mib(r['children_mib']), str(r['md_lines']),
                         'ok' if r['rc'] == 0 and len(r['report_sizes']) == 5 else 'rc %s, %d reports' % (r['rc'], len(r['report_sizes']))])
        notes = ["role playbook in check mode (a complete drift report, 5 files); the emulator with Azure's throttling on (`--throttle azure`: "
                 "ARM's token buckets, Resource Graph's 15 queries per 5 s) and %d ms added to every call (a benchmark setting, not Azure "
                 "behaviour); fleets in steady state (%s%% of the vaults with an action), policies included, no protected items"
                 % (res['scale'][0]['latency_ms'], bench.args.drift_percent),
                 'calls are counted by the emulator; the minimum through Resource Graph is one query per 1,000 vault rows, each '
                 'with its policies (no ARM read); through ARM one list per subscription, vault kind and page of %d, plus one '
                 'policy list per vault' % res['scale'][0]['page_size'],
                 "plan task = the role's `Discover vaults and plan the run` task (vaultlock.azure.harden_plan: it reads the fleet, plans "
                 "and keeps the plan, in a task worker on the controller); plan worker peak = that worker, the largest process "
                 "ansible-playbook forked (RUSAGE_CHILDREN: in check mode no module runs); ansible-playbook = its main process (RUSAGE_SELF)",
                 "discovery `auto, again`: the largest fleet run once more into the same report directory, as every pipeline run "
                 "after the first: harden_plan reads the previous scope record there (drift.scope.json, beside drift.json) to see which "
                 "vaults left the scope"]
        for r in res['scale']:
            floor = r['graph_floor_s'] if r['discovery'] != 'arm' else r['arm_floor_s']
            what = ("Resource Graph's quota alone allows no less than %.0f s for %d queries" % (floor, r['minimum_graph'])
                    if r['discovery'] != 'arm' else "ARM's read bucket alone allows no less than %.0f s ((reads - 250) / 25 per subscription)" % floor)
            slow = sorted(r['tasks'].items(), key=lambda kv: -kv[1])[:4]
            notes.append('%d vaults, %s: %s; slowest tasks %s; report sizes %s; %s'
                         % (r['vaults'], r['discovery'], what, ', '.join('%s %.1f s' % kv for kv in slow),
                            ', '.join('%s %.1f MB' % (k, v / 1e6) for k, v in r['report_sizes'].items()),
                            'discovery %s' % json.dumps((r['discovery_block'] or {}).get('sources'))))
        out.append(("Tenant scale under Azure's throttling (issue 15)",
                    ['vaults / subs', 'discovery', 'with action', 'wall', 'plan task', 'ARG queries / min', 'ARM calls / min', '429s',
                     'plan worker peak', 'ansible-playbook peak', 'its children peak', 'drift.md lines', 'result'], rows, notes))
    return out


def targets(bench):
    """(target, measured) rows for the summary."""
    out = []
    o = bench.results.get('overhead')
    if o:
        out.append(('info task <= 2x a ping task', '%.2fx (%.2f s vs %.2f s)' % (o['ratio'] or 0, o['info_s'], o['ping_s'])))
        out.append(('module peak memory, one vault <= 80 MB', fmt_mib(o['info_mib']) if o.get('info_mib') is not None else
                    'no module process: over a local connection the task runs in the task worker (largest worker %s)'
                    % fmt_mib(o.get('worker_mib'))))
    for a in bench.results.get('audit', []):
        goal = {1000: '15 s', 5000: '60 s'}.get(a['vaults'], '-')
        out.append(('%d vaults, complete report, %s (concurrency %s)' % (a['vaults'], goal, a['concurrency']),
                    '%s in all; %s without the state tasks for %d vaults with an action; module peak %s'
                    % (fmt_s(a['wall']), fmt_s(a['wall'] - a['phases']['state tasks']), a['drifting'], fmt_mib(a['module_mib']))))
    scale = bench.results.get('scale') or []
    for r in scale:
        if r['discovery'] == 'arm':
            continue
        arm = [a for a in scale if a['discovery'] == 'arm' and a['vaults'] == r['vaults'] and a['subscriptions'] == r['subscriptions']]
        goal = {(1000, 1): '5 s', (5000, 1): '15 s, 0 answers 429', (20000, 20): '30 s, module and ansible-playbook each <= 400 MiB'}.get(
            (r['vaults'], r['subscriptions']), '-')
        text = '%s, %d answers 429, plan worker (what a discovery module was) peak %s, ansible-playbook peak %s' % (
            fmt_s(r['wall']), r['calls']['throttled'], fmt_mib(r['module_mib']), fmt_mib(r['controller_mib']))
        if arm:
            text += '; ARM only: %s, %d answers 429' % (fmt_s(arm[0]['wall']), arm[0]['calls']['throttled'])
        again = ' (again, the previous reports and scope record in the report directory)' if r['discovery'].endswith('again') else ''
        out.append(('%d vaults in %d subscription(s)%s, throttled, 100 ms a call: %s' % (r['vaults'], r['subscriptions'], again, goal), text))
    for r in bench.results.get('apply') or []:
        goal = {(400, 4): '30 s, 0 answers 429', (2000, 1): '1.1 x the floor, 0 answers 429',
                (20000, 20): '60 s, ansible-playbook and each worker <= 400 MiB'}.get((r['vaults'], r['subscriptions']), '-')
        out.append(('apply %d vaults in %d subscription(s), throttled, 100 ms a call: %s' % (r['vaults'], r['subscriptions'], goal),
                    '%s (%.2f x the floor of %s: writes %s, reads %s); %d writes, %d ARM reads, %d answers 429; %d vaults changed, '
                    '%d errors; ansible-playbook peak %s, worker peak %s'
                    % (fmt_s(r['wall']), (r['wall'] / r['floor_s']) if r['floor_s'] else 0.0, fmt_s(r['floor_s']),
                       fmt_s(r['write_floor_s']), fmt_s(r['read_floor_s']), r['writes'], r['reads'], r['calls']['throttled'],
                       r['summary'].get('changed', 0), r['errors'], fmt_mib(r['controller_mib']), fmt_mib(r['children_mib']))))
    loop = bench.results.get('apply_loop')
    if loop:
        out.append(('per-vault module loop beside harden_apply, %d vaults enabling immutability, throttled, 100 ms a call' % loop['vaults'],
                    '%.1fx: module loop %s (%d writes), role with harden_apply %s (%d writes)'
                    % (loop['ratio'] or 0, fmt_s(loop['loop_s']), loop['loop_writes'], fmt_s(loop['role_s']), loop['role_writes'])))
    n = bench.results.get('naive')
    if n:
        out.append(('naive loop vs discover-first, 100 vaults', '%.1fx as generated%s' % (n['ratio'] or 0, _steady(n))))
    e = bench.results.get('emulator')
    if e:
        peak = max([a['rps'] or 0 for a in bench.results.get('audit', [])] or [0])
        out.append(('emulator never the bottleneck', '%.0f requests/s capacity vs at most %.0f/s asked in the audits' % (e['rps'], peak)))
    return out


def print_tables(bench):
    for title, header, rows, notes in tables(bench):
        widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
        print('\n' + title)
        print('  '.join(h.ljust(w) for h, w in zip(header, widths)))
        print('  '.join('-' * w for w in widths))
        for row in rows:
            print('  '.join(str(c).ljust(w) for c, w in zip(row, widths)))
        for note in notes:
            print('  * ' + note)
    for note in bench.notes:
        print('* ' + note)


def markdown(bench, machine, argv):
    lines = [MD_HEAD.strip(), '', '## Machine', '',
             '| | |', '| --- | --- |',
             '| CPUs (nproc) | %s |' % machine['nproc'], '| CPU | %s |' % machine['cpu'], '| memory | %s |' % machine['memory'],
             '| OS | %s |' % machine['os'], '| Python | %s |' % machine['python'],
             '| load average at start (1 / 5 / 15 min) | %s |' % machine['load'],
             '| load average at end | %s |' % ' / '.join('%.2f' % v for v in os.getloadavg())]
    for package, version in machine['versions'].items():
        lines.append('| %s | %s |' % (package, version))
    lines += ['', 'Measured %s with:' % datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'), '', '```console',
              '$ .venv/bin/python bench/run.py ' + ' '.join(argv) + '    # make bench runs it without arguments', '```', '',
              'The commands it ran (one of each kind; paths shortened):', '', '```console']
    lines += ['$ ' + c.replace(bench.workdir, '$WORKDIR').replace(BIN + '/', '') for c in bench.commands]
    lines += ['```', '', '## Targets (issues 8, 15 and 23)', '', '| target | measured |', '| --- | --- |']
    lines += ['| %s | %s |' % row for row in targets(bench)]
    lines += ['', '## Figures', '']
    for title, header, rows, notes in tables(bench):
        lines += ['### ' + title, '', '| ' + ' | '.join(header) + ' |', '|' + ' --- |' * len(header)]
        lines += ['| ' + ' | '.join(str(c).replace('|', '\\|') for c in row) + ' |' for row in rows]
        lines += [''] + ['- ' + n for n in notes] + ([''] if notes else [])
    if bench.notes:
        lines += ['### Notes', ''] + ['- ' + n for n in bench.notes] + ['']
    lines += [MD_TAIL.strip(), '']
    return '\n'.join(lines)


MD_HEAD = '''
# Performance

How fast vaultlock.azure is at fleet scale, measured by `make bench` (`bench/run.py`). Every figure below comes from
real `ansible-playbook` / `ansible-inventory` runs against the ARM emulator (`tests/emulator/`) on loopback, with the
real Azure SDKs. The benchmark prints the same tables; nothing asserts a time (CI runs `bench/run.py --quick` only so
the script cannot rot).

How to read them:

- **Task overhead**: a playbook with N pairs of tasks, `ansible.builtin.ping` then `vaultlock.azure.vault_immutability_info`
  for one vault (by id), timed per task by a small callback (`bench/callback_plugins/bench_timer.py`). A few more pairs run
  with `ansible_python_interpreter` set to a wrapper (`bench/rss.py`) that records the module process's wall time and
  peak resident memory (AnsiballZ runs the module inside that process).
- **Import figures**: a fresh interpreter imports the named packages; time and peak RSS of that process.
- **Fleet audit**: `ansible-playbook vaultlock.azure.harden_backup_vaults --check` (the role with its defaults:
  immutability `enabled`, soft delete `on` / 14 days, daily retention 30 days in `report` mode) over a generated fleet
  (`python -m tests.emulator generate`) with latency injected on every ARM call. The fleet is in steady state: all but
  `--drift-percent` of the vaults already have immutability and soft delete on (weak policies stay as generated: in
  report mode they are reported, not changed). In check mode one `drift_diff` task reports the vaults with an action.
  ARM calls are counted by the emulator; the minimum is one list per subscription, vault kind and page, plus one policy
  list per vault (a state task, when one runs, adds one vault GET). Columns: discover = the discovery and merge tasks, drift =
  the drift filter, state tasks = the loops over vaults with actions, reports = building and writing drift.json/md/junit.
  "Module peak" is the `vault_immutability_info` process, "controller peak" the `ansible-playbook` process itself.
- **Naive vs discover-first**: a 100-vault fleet as generated (more than half of it needs an action), one
  `vault_immutability` task per vault in a loop vs the role; then the role on the same fleet in steady state.
- **Emulator throughput**: keep-alive HTTPS clients hammering list calls with no injected latency, to show the
  emulator serves far more requests per second than any benchmark asks of it.
- **Inventory**: `ansible-inventory` with the `vaultlock.azure.backup_vaults` plugin (cold, then from Ansible's
  inventory cache), then a one-task play over every vault host at several `forks`.
- **drift.html in the browser**: the scenario of `tests/integration/test_html_report_scale.py` (a drift.html of 20,000
  vaults built in process, opened in headless Chromium), each filter, sort and page change timed from the change to the
  next frame, best of three, beside the 300 ms target. The test asserts what the page shows; only this phase reads the
  times.
'''

MD_TAIL = '''
## Applying a first hardening (issue 23): from the controller, as fast as ARM allows

What the "Apply from the controller" table measures: the role for real (`harden_backup_vaults_retention_mode: enforce`, so
every fixable finding is applied) against the emulator with `--throttle azure` and 100 ms added to every call, on fleets
as generated (`PERCENT` 100: every fixable finding, Recovery Services retention raises included; a weak Backup vault policy is
a finding no run fixes, since Azure updates no Backup vault policy, so it sends nothing) or settled to a share of them (the
role's defaults: weak retention stays a finding in `report` mode, so that share of the vaults changes). The floor beside each
wall time is what ARM's documented buckets allow for the requests the run actually sent, per subscription (subscriptions
in parallel): writes `max(0, writes - 200) / 10` s, reads `max(0, reads - 250) / 25` s, long-running operation polls
counted as reads. Before, each change was one `ansible-playbook` loop item (a module process, an SDK import, a token, one
vault, one after another: 0.9 s a write), so 400 vaults with 421 changes took 381 s on this machine.

- **One task changes the fleet** (`plugins/action/harden_apply.py`, `plugins/plugin_utils/_harden_apply.py`): the plan
  kept by `harden_plan` is applied on the controller, `harden_backup_vaults_apply_concurrency` vaults at once (64), the
  vaults of every subscription taking turns, the subscriptions split between worker processes
  (`harden_backup_vaults_apply_processes`, the controller's cores by default), each with one Azure session (one token,
  one connection pool, one pacer). Each vault runs the state modules' own `run()` for retention, soft delete and
  immutability, in that order.
- **Paced, not throttled**: the session's pacer mirrors ARM's buckets per subscription and operation type (reads, writes)
  from the `x-ms-ratelimit-remaining-subscription-*` answers, so requests wait for a token instead of being answered
  429. With one subscription the apply is bound by its read bucket, as the floor column says.
- **Reads saved**: a vault's next step starts from the read that ended the step before (its confirming re-read after the
  last write, or the lock gate's fresh read) instead of reading the vault again; every read saved lowers the read floor.
- **The lock gate at the moment of the lock** costs three reads per vault to lock (the vault, its policies, its protected
  items), and only for those vaults.
- The per-vault module loop is shown beside it on the same fleet (immutability only), as the ratio.

### CPU per request, client and emulator (issue 23, second round)

The 20,000-vault apply was bound by CPU: the task worker (one interpreter, 64 threads) and the emulator share two cores.
Profiled with py-spy (`--gil --subprocesses --format raw`: samples per process and function), then cut where work
repeated per request, without changing what is sent or answered:

- **One connection pool per task** (`_client.AzureSession._transport_shared`): the ARM read pipeline and every SDK client
  (one per SDK and subscription, about 60 here) send through one pooled transport instead of one each, so a connection
  opened for one subscription serves the next vault's write instead of another TLS handshake on both sides. Up to 256
  connections per host (`_transport.ARM_POOL_SIZE`, was 64 per client), opened only when needed.
- **requests' preparation** (`_transport._settled_session`): while neither the request nor the session holds a cookie (ARM
  sets none), no cookie jar merging, and headers merged without requests' runtime protocol checks: 200 to 100 microseconds
  a request. The prepared request is the one requests makes (a unit test compares them); with a cookie requests prepares it.
- **Each vault id parsed once** (`_arm_ids.split_resource_id` keeps azure-mgmt-core's parse per id).
- **Emulator**: the claims of tokens whose signature was verified are kept (PyJWT's HMAC and key checks were about 40 % of
  its CPU per ARM request; expiry and audience are still checked every request, a refused token is refused every time),
  and vault reads copy the stored body with `bodies.json_copy` instead of `copy.deepcopy`. Answers are byte for byte the
  same (the emulator's unit tests and the replay of recorded traffic pass unchanged).

Measured in CPU seconds, since two other engineers shared the cores: each process's user plus system time from
`/proc/<pid>/stat`, polled every 0.5 s until it ended. `bench/run.py --only apply --apply-fleets 20000x20x20 --apply-loop 0
--no-write`, before (the tree at ffae073) and after, one after the other:

| run | load (1 min) start / end | wall | plan task | apply task | reports | apply worker CPU | emulator CPU (start included) |
| --- | --- | --- | --- | --- | --- | --- | --- |
| before | 1.7 / 6.6 | 104.1 s | 30.0 s | 55.9 s | 15.0 s | 50.2 s | 35.5 s |
| pool, preparation, token cache; concurrency 64 | 6.7 / 7.2 | 106.7 s | 40.2 s | 48.4 s | 13.6 s | 42.2 s | 27.0 s |
| the same, concurrency 128 | 7.0 / 16.0 | 105.7 s | 36.9 s | 53.0 s | 12.7 s | 43.3 s | 26.8 s |
| all of the above (id cache, emulator copy), concurrency 64 | 4.8 / 3.0 | 83.4 s | 27.9 s | 45.9 s | 7.6 s | 39.8 s | 25.4 s |

Every run sent 4,634 writes and 12,472 ARM reads (floor 16.6 s), 0 answers 429, 4,000 vaults changed, 0 errors; largest
worker 434 to 440 MiB (the report worker). The same state module steps in one process (`_state/immutability.py` `run` enabling
1,000 vaults over 20 subscriptions, 16 threads, 4,000 requests, no latency or throttling; `getrusage` and `/proc`), twice
each, alternating: client 2.38 and 2.48 ms of CPU a request before, 2.09 and 2.13 after (-13 %); emulator 0.77 and 0.80
ms before, 0.50 and 0.51 after (-35 %).

The smaller cases after these changes (`--apply-fleets 400x4x100,2000x1x100`, load 2.8 at the start): 400 vaults over 4
subscriptions 7.5 s (apply task 4.8 s; 413 writes, 913 ARM reads, 0 answers 429, 280 vaults changed); 2,000 in one
subscription 192.4 s (apply task 187.5 s) against a floor of 185.1 s (1.04 x; writes 185.1 s, reads 169.6 s), 2,051 writes,
4,489 ARM reads, 0 answers 429, 1,379 vaults changed, 0 errors.

- The apply worker's CPU fell by a fifth (50.2 s to 39.8 s), the apply task from 55.9 s to 45.9 s: still about three times
  ARM's floor, and the worker is bound by its one interpreter (40 s of CPU in a 46 s task). What remains per request is
  spread over azure-core's pipeline, the SDK models and long-running operation pollers (a thread each), requests, urllib3,
  http.client and ssl, none more than a few percent; loading and checking the sealed plan adds about 2 s
  (`_harden_run.load_plan`). Going further needs the requests spread over more than one interpreter (say the
  subscriptions split between two worker processes, each with its own session and pacer, which keeps pacing per
  subscription exact), not a cheaper request.
- `harden_backup_vaults_apply_concurrency` stays 64: with the worker bound by its interpreter, 128 threads were not faster
  and spent slightly more CPU.
- The whole 20,000-vault run stays above its 60 s target (83.4 s at best here); the plan task alone takes 28 to 40 s.
- On the final tree of that round, on the quiet machine: the `make bench` run then behind the tables took 100.6 s for the
  20,000-vault apply (apply task 63.8 s, largest worker 387 MiB); the same case run alone right after it
  (`--only apply --apply-fleets 20000x20x20 --apply-loop 0`) took 89.0 s (plan task 28.2 s, apply task 51.8 s, reports
  6.9 s). Run to run the apply task varies by a fifth here; it stays bound by the one interpreter of its worker.

### Worker processes, and what the play carried (issue 23, third round)

After the second round the 20,000-vault apply was bound by its one interpreter: the task worker spent about 40 s of CPU
in a 46 s apply task, spread over azure-core, requests, urllib3, the SDK models and the collection's own steps, none more
than a few percent. A profile of this round (py-spy, `--gil`) showed requests' own layer above urllib3 at about a third
of the worker's Python time; replacing the SDK's transport was not worth its risk (proxies, `REQUESTS_CA_BUNDLE`, the
exception types the unknown-outcome rules depend on). What changed instead:

- **The subscriptions are split between worker processes** (`plugin_utils/_harden_apply.PlanApplier.split`,
  `harden_apply`'s `max_processes`, role variable `harden_backup_vaults_apply_processes`). The task's process forks one
  worker per group of whole subscriptions (the largest first onto the least loaded). Each worker builds its own session,
  so it has its own token, connections and pacer. ARM's buckets are per subscription and principal, so pacing stays
  exact: no subscription is paced by two processes. A worker writes one JSON line per vault as it finishes, and the task
  reassembles them in the order of one process. Unit tests show the same results as one process. A vault a worker did not
  report (its process died, or could not start) is failed with outcome unknown and the worker's exit status, never
  reported unchanged. A worker whose parent is gone starts no further vault. The default is the controller's cores (1 on
  macOS, where a forked process may crash in the system's frameworks), at most the subscriptions with changes and 8.
  Measured back to back while another engineer's tests loaded the machine (load 4.5 to 5.5):
  `--apply-processes 1` 81.1 s (apply task 49.1 s), `--apply-processes 2` 73.7 s (apply task 38.3 s). Each worker then
  spent about 21 s of CPU, the emulator about 11 s: on two cores the apply is now bound by the machine, not by one
  interpreter.
- **The role's plan no longer lists the 4,000 actions in its task result** (`harden_plan`'s new `return_actions`, false in
  the role, which applies from the kept plan). The list took 2.5 to 3.1 s after the plan task had finished its work (the
  result went through Ansible's result queue, copies and the registered variable), and `ansible-playbook` peaked at
  149 MiB instead of 64 MiB.
- **A second process writes about half of the reports** (`_harden_run.write_reports`, from 2,000 vaults on: drift.sarif,
  drift.junit.xml and drift.md in the fork, drift.json and drift.html in the task, by their measured costs). The five files
  are now replaced together or not at all.
- **Where the 20,000-vault run's time goes now**, from the emulator's journal and marks in the tasks (one run, loaded
  machine): Resource Graph takes 61 queries here (20,000 vault rows and 40,052 policy rows at 1,000 a page), so its quota
  (15 queries per 5 s) holds the last query until 20 s and the reading ends at about 21.6 s. Planning 20,000 vaults takes
  about 3.7 s more, and writing the sealed plan 1.1 to 1.7 s. The apply task's first request goes out about 1 s after it
  starts, since loading the plan takes 0.6 s. The reports take 3 to 5 s.
- **The Azure SDK imported once per play** (`plugins/plugin_utils/_preload.py`): Ansible's strategy loads a task's action
  plugin class in `ansible-playbook` itself before forking the task's worker, so the collection's action plugins import
  the SDK's core (and a state module its write SDKs) then, and every task's worker inherits them instead of importing
  them again: the "Task overhead" table's info task now costs 0.07 s against a ping's 0.39 s (the last round's run: 0.25 s against 0.35 s).
- **What the fifth round's `make bench` measured** (09:03 UTC, quiet machine): the 20,000-vault apply took
  69.8 s against the 60 s target (apply task 37.7 s, largest worker 370 MiB, `ansible-playbook` 72 MiB), down from
  100.6 s; check mode at 20,000 vaults 27.3 s. The same case run alone right after (`--only apply --apply-fleets
  20000x20x20 --apply-loop 0`): 65.9 s with `--apply-concurrency 128` (two processes), 59.7 s and then 67.8 s with
  `--apply-processes 4 --apply-concurrency 128`, 66.8 s with four processes and 64 at once. One setting moved by 8 s
  between two runs, as much as the settings differ from each other, so these runs cannot tell the settings apart: the
  defaults stay (the cores, 64 at once). The target is not met.

### Resource Graph: the policies in the vault rows (issue 23, sixth round)

- **One query for the vaults and their policies** (`_resource_graph.vaults_query(policies=True)`): the vault query joins
  (`join kind=leftouter ... on vaultId`) the vaults' backup policies, grouped a row per vault (`summarize policies =
  make_list(pack('id', id, 'name', name, 'type', type, 'properties', properties)) by vaultId`), so a fleet takes only its
  vaults' pages of Resource Graph's quota. At 20,000 vaults over 20 subscriptions with about 40,000 policies: 20 queries
  instead of 61, all within the first two 5-second windows. Measured in process (`discover()` alone, throttling on, another
  engineer's tests running beside it): 60 queries, 17.1 s, 10.1 s of it held for the quota; policies a row per vault in a
  query of their own, 40 queries, 13.6 s, 4.1 s held; joined, 20 queries, 10.4 s, nothing held. The read is now bound by
  the CPU that decodes the pages and builds the records.
- **What Azure has not told us**: that Resource Graph serves this join and pages its answer as any other is what Learn's
  pages say (its tables join, `leftouter` among the flavours, one cross-table join a query; only an answer whose columns
  are all dynamic cannot be paged), not something a recording shows. Should it refuse the query's text (a 400 naming the
  query), the vaults are asked alone and the policies on their own, a row per vault, and should that be refused too, a
  row per policy as before; `resource_graph.requeried` says which (the emulator's `graph_unserved` setting tests each).
- **Each page's policies are read with the page** (`_VaultPages`): a first version kept every vault's raw policies until
  the last page and its plan worker peaked at 470 MiB at 20,000 vaults; reading them page by page it peaks at 368 MiB.
- **`policy_fields` walks a vault body once** for all the Azure Policy definitions' paths (each object's keys lower-cased
  at most once) instead of once per path: 58 to 26 microseconds a vault, the same fields in the same order (a unit test
  compares it with reading path by path).
- **What this round's `make bench` measured** (12:11 to 12:25 UTC, quiet machine; the tables above): the 20,000-vault apply
  took 53.3 s against the 60 s target (apply task 35.2 s, largest worker 381 MiB, `ansible-playbook` 72 MiB); check mode
  at 20,000 vaults 18.5 s (was 27.3 s); 5,000 vaults in one subscription 6.6 s; 400 vaults over 4 subscriptions 5.6 s;
  2,000 changes in one subscription 1.03 x the floor; the module loop 6.4 x. A run of the same `make bench` an hour before,
  with the first version above and another engineer's tests beside it, took 60.4 s for the 20,000-vault apply: this
  VM's speed moves by 10 to 20 % between runs, so the margin to 60 s is about one such swing.
- **The `make bench` of 2026-12-06, 21:33 to 21:45 UTC** (quiet machine, after module_utils moved
  into sub-packages and after the rule that sends no write to a vault that does not read `provisioningState`
  Succeeded): the 20,000-vault apply took 43.8 s (worker peak 389 MiB, `ansible-playbook` 75 MiB), with the same 4,634
  writes and 12,472 ARM reads as before that rule (the state code's fresh read before each write was already there);
  400 vaults over 4 subscriptions 4.4 s (913 ARM reads, as before); 2,000 changes in one subscription 1.04 x the floor;
  check mode at 20,000 vaults 14.1 s and 5,000 in one subscription 4.2 s; the module loop 6.6 x.
- **The `make bench` of 2026-12-07, 00:08 to 00:21 UTC** (quiet machine, commit c12de14: the
  emulator's Resource Graph now lags ARM by 0.2 s, Retry-After may be an HTTP date, a policy 202 is first polled after its
  Retry-After, harden_apply keeps a journal of each vault as it settles): the 20,000-vault apply took 43.0 s (worker peak
  385 MiB, `ansible-playbook` 75 MiB), the same 4,634 writes and 12,472 ARM reads; 400 vaults over 4 subscriptions 4.7 s;
  2,000 changes in one subscription 1.02 x the floor; check mode at 20,000 vaults 12.3 s and 5,000 in one subscription
  3.3 s; the module loop 6.5 x.
- **The `make bench` behind the tables above** (2026-12-07, 03:02 to 03:15 UTC, quiet machine, commit e107abc: no write
  after Ctrl-C (signals blocked in the apply's threads, the controller watched through /proc, the transport's last check),
  the apply journal locked while the apply runs, Backup vault retention limits, Azure Policy's two readings of empty
  values, the emulator's clock in nanoseconds): the 20,000-vault apply took 46.0 s (worker peak 387 MiB,
  `ansible-playbook` 75 MiB), the same 4,634 writes and 12,472 ARM reads; 400 vaults over 4 subscriptions 5.3 s; 2,000
  changes in one subscription 1.03 x the floor (190.0 s against 185.1 s); check mode at 20,000 vaults 12.2 s and 5,000
  in one subscription 4.0 s; the module loop 6.6 x.

## Tenant scale under Azure's throttling (issue 15): what was built, and where the time goes

What the "Tenant scale" table measures: the role in check mode with its defaults, `harden_backup_vaults_discovery: auto`,
against the emulator with `--throttle azure` (ARM's token buckets per subscription and principal: 250 reads refilled at
25 a second; Resource Graph's 15 queries per 5-second window, both as Microsoft Learn documents them) and 100 ms added to
every call. The 5,000-vault subscription is also read with `harden_backup_vaults_discovery: arm`, the path every fleet took
before: one policy list per vault, paced per subscription.

- **The fleet stays out of Ansible's variables** (`plugins/action/harden_plan.py`, `harden_report.py`,
  `plugins/plugin_utils/_harden_run.py`). The role's first task reads the fleet, plans every vault's drift and keeps the
  plan in a private file in Ansible's local temporary directory, all in the task worker on the controller (the inventory
  plugin already read in process); the play gets only the vaults with actions, and the report task writes the five
  files from the plan and the change tasks' results. Before, the fleet went through a module's result (about 50 MB of
  JSON at 20,000 vaults), a `set_fact` plan (13 MB of drift entries) and a fact holding drift.json (17 MB), and
  ansible-core 2.19 inspects every value of those one by one (result clean-up and callbacks, lazy templating of a
  filter's input, finalising a `set_fact` result): measured during development at 20,000 vaults, the "Plan the run",
  "Build the drift report" and "Write the reports" tasks took 162 s, 53 s and 89 s for Python work of about 14 s (py-spy
  showed `_finalize_template_result`, `transform_to_native_types` and the lazy containers at the top), and the
  `ansible-playbook` process peaked at 589 MiB. The change tasks now skip once in check mode instead of once per vault
  with an action (a skipped loop of 200 items cost over a second).
- **Discovery through Resource Graph** (`plugins/module_utils/_discovery/resource_graph.py`, `scope.py`): two queries (vault
  rows, policy rows) per 1,000 subscriptions, 1,000 rows a page, so 20,000 vaults with 40,000 policies take 60 queries
  instead of about 20,000 ARM requests. Resource Graph's quota then allows no less than 15 s (four windows of 15 queries).
  The first page of an answer gives `totalRecords` and a `$skipToken`; the other pages are asked for at once, each with
  that token and its own `$skip` (the API's QueryRequestOptions: `$skip` "overrides the next page offset when
  `$skipToken` is present", so every page comes from the same result), eight at a time, and a page that does not hold
  the rows it should is an error. The quota pacer is shared by those threads: one query opens each window and the others
  wait for its answer, then the window is filled and never overrun (0 answers 429). Each page is turned into records
  while the next ones are on their way, and no more than eight pages wait to be handed over (without that bound a run
  measured 414 MiB). Pages were asked for one after the other before: 60 round trips in a row, about 21 s of the 29 s a
  20,000-vault read took in process.
- **The retention analysis of 40,000 policies** parsed the same few durations hundreds of thousands of times; durations
  are immutable, so a parsed duration and its calendar are now computed once (`_retention.py`).
- **The ARM path waits for ARM's tokens** (`_azure/pacing.py`, in every pipeline of the session): from the
  `x-ms-ratelimit-remaining-subscription-*` headers, minus the requests still on their way, so not one request is
  answered 429; 5,000 vaults of one subscription cannot take less than (5,000 - 250) / 25 = 190 s through ARM on real
  Azure, and the table shows what it took here.
- **The audit table (issue 8's measure) reads through ARM** without the emulator's throttling, but the collection paces
  itself to ARM's documented buckets whatever the server says: 5,000 vaults over 10 subscriptions are about 500 reads a
  subscription, twice the 250-token burst, so each subscription waits for ARM's refill (as it would have to on real
  Azure) instead of being answered at once by an emulator that does not throttle.
- **What is left at 20,000 vaults**: Resource Graph's quota (15 s, plus the answers of the last window), turning 60,000
  rows into records and planning them (single-threaded Python, on 2 cores shared with the emulator here), and writing
  17 MB of indented JSON and as much SARIF. Resource Graph can lag ARM; the emulator serves rows as ARM was a fixed
  `graph_lag_s` earlier (0.2 s by default: Learn gives no figure), and every write is still made from a fresh ARM read.

## Reports an auditor can sign (issue 26): the cost at 20,000 vaults

The posture (every vault's state for every rule, and its summary), the kind of each finding, the SARIF policy locations and
drift.html's vault groups were measured with the report writers in process, not with the benchmark's check-mode phase: the
machine was not quiet enough for a wall-time run (load average about 20 on 2 cores, shared with other work), so the
20,000-vault check-mode figure above (25.95 s against the 30 s target) was not measured again. `bench/report_writers.py`
builds 20,000 vault records in 20 subscriptions (one weak daily tier each, a third not immutable: 25,990 findings, every
vault drifting, a worse case than the benchmark's settled fleets), then takes the CPU seconds of the process (less sensitive
to a busy machine than wall time) for the drift, `build_report` and each writer, and tracemalloc's peak over `build_report`
and the writers. Before is the collection at the commit this work started from, measured the same way the same hour:

| 20,000 vaults, 25,990 findings | before | after |
| --- | --- | --- |
| drift of the vault records (the plan's part) | 2.08 s | 1.94 s |
| `build_report` | 1.59 s | 1.78 s |
| drift.json / .md / .junit.xml / .html / .sarif | 1.55 / 0.12 / 0.81 / 0.94 / 2.70 s | 1.44 / 0.07 / 0.60 / 0.67 / 1.92 s |
| report and the five files, in all | 7.70 s | 6.48 s |
| traced peak of the report and the writers | 293 MiB | 354 MiB |
| peak resident set of the whole process (records, drift, report) | 685 MiB | 800 MiB |
| drift.json / drift.html / drift.sarif | 26.7 / 17.0 / 47.3 MB | 40.6 / 14.0 / 56.2 MB |

The CPU figures moved within the machine's noise (the after column is lower, which no change here explains): the posture
adds no measurable time. It adds size and memory: drift.json grows by half (a `posture` block per vault, about 700 bytes
indented) and the traced peak by 61 MiB in this every-vault-drifting case. drift.html shrinks: the findings travel as a
JSON data block and only the first 50 vaults are written as table rows. In the browser (headless Chromium, same load,
`tests/integration/test_html_report_scale.py`), a 12.9 MB page of 20,000 vaults and 28,735 findings loaded in about 2 s,
and every filter, sort and page change took 8 to 220 ms to the next frame (best of three runs each, two runs of the test; the
target is 300 ms).

### Check mode at 20,000 vaults within 30 s again (issue 26, third round)

After the posture, the Azure Policy section and the security settings were added to every vault's report row, the
20,000-vault check-mode run took 33.8 s (plan task 24.8 s, reports 7.9 s) and its largest worker 422 MiB, above the 30 s
and 400 MiB targets. Profiled with py-spy (`--gil`: only the thread holding the interpreter, so CPU), then cut:

- **The Azure Policy verdicts are judged once per vault configuration** (`_policy.evaluate`): a verdict depends only on the
  vault's kind and its `policy_fields` (the parameters are the same for every vault), so vaults configured alike share
  one. It was a third of the plan task's CPU after the read (the condition language interpreted for 20,000 vaults times
  14 definitions); a unit test holds the shared verdicts to the tests' own evaluator on twins of a random fleet.
- **drift.json and drift.sarif are written by the C JSON encoder** (`_reports.json_chunks`): `json.dump(indent=2)` encodes
  in Python. drift.json is now laid out a line per vault (keys sorted, each top-level key and each member of a top-level
  list or object on its own line: the same document, 25 % smaller, and a diff between two runs reads a line per vault),
  drift.sarif a line per result.
- **The plan file is encoded once and parsed once** (`_harden_run`): its seal is an HMAC over the document's bytes, written
  in front of them and checked before they are parsed, instead of an HMAC over a second, canonical encoding of the
  parsed document. It is written a drift entry at a time, so the whole document is never one string: the plan worker's
  peak went from 424 to 358 MiB.
- **No cycle collector while a fleet's data is built** (`_controller_action.without_cyclic_gc`, in harden_plan,
  harden_report and harden_apply's plan load): millions of containers, none of them garbage, made Python's collector walk
  every live object again and again; in process, parsing a 20,000-vault plan took 1.92 s with it and 1.22 s without,
  building the report 2.81 s and 1.77 s. One collection runs at the end.
- Smaller: the report's posture rows take each rule's settings once and the posture summary tallies (subscription, rule,
  state, compliance) once per vault; `_plain` copies plain leaves without a call each; `split_resource_id` parses an id
  once (azure-mgmt-core's `is_valid_resource_id` parsed it, then `parse_resource_id` again).

| 20,000 vaults, 20 subscriptions, check mode | before this round | after |
| --- | --- | --- |
| wall (the benchmark's run above; a run of that phase alone just before it: 26.7 s) | 33.8 s | 28.6 s (plan task 21.3 s, reports 5.7 s) |
| largest worker (the plan task's) | 422 MiB | 359 MiB |
| drift.json | 74.8 MB | 57.5 MB (drift.sarif 15.7 MB) |

The report writers in process (`bench/report_writers.py`: 20,000 vaults, every one drifting, 25,990 findings; CPU seconds
of the process, the collection before this round and after, one after the other on the quiet machine):

| 20,000 vaults, 25,990 findings, CPU seconds | before (c68241f) | after |
| --- | --- | --- |
| drift of the vault records (the plan's part) | 2.80 s | 3.13 s |
| `build_report` | 4.34 s | 2.49 s |
| drift.json / .md / .junit.xml / .html / .sarif | 3.85 / 0.13 / 0.96 / 1.35 / 3.44 s | 0.84 / 0.12 / 0.69 / 1.16 / 1.21 s |
| report and the five files, in all | 14.08 s | 6.52 s |
| traced peak of the report and the writers | 389 MiB | 199 MiB |
| peak resident set of the whole process | 900 MiB | 511 MiB |
| drift.json / drift.sarif | 62.6 / 56.2 MB | 43.0 / 40.2 MB |

These in-process figures vary by a fifth from run to run on this machine (the same "before" took 10.0 s in all an hour
earlier); the script calls the functions directly, so the cycle collector stays on in both columns. The Azure Policy
evaluation is not in this script (its fleet has no `policy_fields` worth judging): in the profile of the plan task it
went from about 5 s of CPU to a few tenths.

## What was changed for speed (issue 8), and why

Profiling `vault_immutability_info` (cProfile of the module process, and of its worker threads' calls) showed:

- **A one-vault task spent most of its time importing.** About 0.2 s of a module process went to importing the
  management SDK (`azure-mgmt-dataprotection` or `-recoveryservices`) for a single GET, on top of ansible's basics
  (0.15 s) and azure-identity (0.2 s; unavoidable for a credential).
- **Fleet discovery was CPU-bound in SDK model deserialization.** With 1,000 vaults over 10 subscriptions and no
  injected latency, the module used 3.2 s of CPU; about 2 ms per policy list went to building SDK models and turning
  them back into dicts (`as_dict`). On 2 cores shared with the emulator, that CPU is what bounds 5,000 vaults.
- **Concurrency 8 made 5,000 vaults latency-bound**: 5,000 policy lists at 100 ms each need 62 s at 8 in flight.

Changes (all in `plugins/module_utils/_vaults.py`, `_azure/client.py` and `plugins/modules/vault_immutability_info.py`):

1. Reads (one vault, vault lists, policy lists) are plain ARM GETs through the session's one ARM pipeline
   (`AzureSession.arm_get`, which follows `nextLink`), at the api-versions the pinned SDKs use. No SDK is imported
   for a read and no model is built; Azure's JSON goes straight to `vault_record` / `normalise_policy`, which
   already took that shape. Writes (PATCH, policy PUT, long-running operations) still go through the SDKs.
   Measured on the same fleet and machine: discovery CPU 3.2 s -> 1.6 s (no latency); with 100 ms latency and 32
   in flight, the module's discovery took 6.6 s (4.3 s CPU) before and 4.0 s (2.0 s CPU) after.
2. That shared pipeline gets a 64-connection pool: requests keeps 10 per host, and parallel reads beyond 10 would
   open, and TLS-handshake, a new connection each time. (Since issue 23's CPU round, one pool of 256 serves the read
   pipeline and every SDK client of a task.)
3. `max_concurrency` defaults to 32 (was 8), and the per-vault policy lists take turns across subscriptions, because
   Azure Resource Manager throttles reads per subscription and principal (a bucket of 250 requests refilled at 25
   per second since 2024: https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling).
   Spread over subscriptions, 32 in flight stays under that; against one subscription Azure answers 429 with
   `Retry-After`, which the retry policy honours, so a single huge subscription is bounded by Azure, not by us.
   The role passes its own `harden_backup_vaults_discovery_concurrency` (default 8 at the time of writing): the
   audit table shows the role's default and 32 side by side.

Not changed here, and where the remaining time goes (see the audit columns):

- **State tasks.** In check mode the role reports every vault with an action through one controller-side
  `drift_diff` task; module runs per vault happen only when applying (or with `harden_backup_vaults_check_with_modules`),
  at 0.6 to 0.8 s each here, so that cost grows with drift, not with fleet size.
- **Controller-side Jinja over the whole fleet** (merging discovery results, the drift filter, the report filters)
  and writing three report files with `ansible.builtin.copy` (a `stat` and a `copy` module process per file) grow
  linearly with the fleet; they are the role's, measured here.
- The emulator's list page size is 200 (`--page-size`); Azure does not document its page size for these lists, so
  the default was kept. The minimum ARM call count depends on it only through the list calls (a handful).
'''
