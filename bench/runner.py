# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running things for the benchmarks: the emulator, ansible commands under bench/rss.py, their timings and memory.

bench/run.py runs the phases (bench/measure.py) and writes the figures (bench/writedocs.py) with this.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
COLLECTIONS = os.path.join(REPO, '.cache', 'collections')
BIN = os.path.dirname(sys.executable)
ROLE_PLAYBOOK = os.path.join(REPO, 'playbooks', 'harden_backup_vaults.yml')
ROLE_TASKS = os.path.join(REPO, 'roles', 'harden_backup_vaults', 'tasks', 'main.yml')
PHASES = ('imports', 'overhead', 'emulator', 'audit', 'naive', 'inventory', 'scale', 'apply', 'html')
SDK_PACKAGES = ('ansible-core', 'azure-core', 'azure-mgmt-core', 'azure-identity', 'msal', 'azure-mgmt-recoveryservices',
                'azure-mgmt-recoveryservicesbackup', 'azure-mgmt-dataprotection', 'requests')
BASELINE = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14},
            'retention': {'minimum': {'daily': '30d'}, 'mode': 'report'}}
PROVIDER = {'recovery_services': 'Microsoft.RecoveryServices/vaults', 'backup': 'Microsoft.DataProtection/backupVaults'}


def _emulator_api():
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from tests.emulator import client, generator  # pylint: disable=import-outside-toplevel
    return client.EmulatorProcess, client.EmulatorClient, generator.generate_fleet


def median(values):
    return statistics.median(values) if values else float('nan')


def fmt_s(value):
    return '-' if value is None or math.isnan(value) else '%.2f s' % value


def fmt_mib(value):
    return '-' if value is None else '%.0f MiB' % value


# ---------------------------------------------------------------------------------------------- fleets

def vault_ids(fleet):
    out = []
    for sub in fleet['subscriptions']:
        for rg in sub['resource_groups']:
            for vault in rg['vaults']:
                out.append('/subscriptions/%s/resourceGroups/%s/providers/%s/%s' % (sub['id'], rg['name'], PROVIDER[vault['type']], vault['name']))
    return out


def settle(fleet, drift_percent):
    """A fleet in steady state: all but drift_percent of the vaults already meet the role's default baseline.

    The generator makes about half the vaults non-immutable and a fifth with soft delete off; a fleet that
    has been hardened once drifts only where new vaults appeared. drift_percent of the vaults keep their generated
    state (spread evenly over the fleet, so every subscription has its share); the others that would need a change get
    immutability enabled and soft delete on. Weak retention stays as generated (reported; no action with retention mode
    `report`). Returns how many vaults keep an action.
    """
    vaults = [v for sub in fleet['subscriptions'] for rg in sub['resource_groups'] for v in rg['vaults']]
    candidates = [v for v in vaults
                  if v.get('immutability') in ('unset', 'disabled') or (v.get('soft_delete') or {}).get('state') == 'off']
    keep = min(len(candidates), int(round(len(vaults) * drift_percent / 100.0)))
    # Every (len / keep)-th candidate keeps its drift: evenly spread, the same choice for the same fleet.
    kept = set(id(candidates[int(i * len(candidates) / keep)]) for i in range(keep)) if keep else set()
    for vault in candidates:
        if id(vault) in kept:
            continue
        if vault.get('immutability') in ('unset', 'disabled'):
            vault['immutability'] = 'enabled'
        if (vault.get('soft_delete') or {}).get('state') == 'off':
            vault['soft_delete']['state'] = 'on'
    return keep


def needs_action(fleet):
    return sum(1 for s in fleet['subscriptions'] for rg in s['resource_groups'] for v in rg['vaults']
               if v.get('immutability') in ('unset', 'disabled') or (v.get('soft_delete') or {}).get('state') == 'off')


def minimum_calls(fleet, page_size, kinds=('recovery_services', 'backup'), policies=True):
    """The fewest ARM requests that give a complete report: one list per subscription, kind and page,
    plus one policy list per vault when policies are read."""
    calls = 0
    vaults = 0
    for sub in fleet['subscriptions']:
        for kind in kinds:
            count = sum(1 for rg in sub['resource_groups'] for v in rg['vaults'] if v['type'] == kind)
            calls += max(1, int(math.ceil(count / float(page_size))))
            vaults += count
    return calls + (vaults if policies else 0)


GRAPH_PATH = '/providers/microsoft.resourcegraph/resources'
GRAPH_PAGE = 1000           # rows per Resource Graph page (its maximum $top)
GRAPH_QUOTA = (15, 5.0)     # Resource Graph queries per window, window seconds (Learn: guidance-for-throttled-requests)
ARM_READS = (250, 25.0)     # ARM reads per subscription and principal: burst, refill per second (Learn: request-limits-and-throttling)


def policy_count(fleet):
    return sum(len(v.get('policies') or []) for s in fleet['subscriptions'] for rg in s['resource_groups'] for v in rg['vaults'])


def minimum_graph_calls(fleet):
    """The fewest Resource Graph queries for a complete report: the vault rows, each with its policies, 1,000 a page
    (up to 1,000 subscriptions a query)."""
    vaults = sum(len(rg['vaults']) for s in fleet['subscriptions'] for rg in s['resource_groups'])
    batches = max(1, int(math.ceil(len(fleet['subscriptions']) / 1000.0)))
    return max(batches, int(math.ceil(vaults / float(GRAPH_PAGE))))


def graph_floor_s(queries):
    """The least time Resource Graph's quota allows for this many queries (15 per 5-second window)."""
    per, window = GRAPH_QUOTA
    return max(0, int(math.ceil(queries / float(per))) - 1) * window


def arm_floor_s(fleet, page_size):
    """The least time ARM's read buckets allow for the ARM-only path: per subscription, (reads - 250) / 25 s."""
    burst, rate = ARM_READS
    worst = 0.0
    for sub in fleet['subscriptions']:
        reads = 0
        for kind in ('recovery_services', 'backup'):
            count = sum(1 for rg in sub['resource_groups'] for v in rg['vaults'] if v['type'] == kind)
            reads += max(1, int(math.ceil(count / float(page_size)))) + count
        worst = max(worst, 0.0, (reads - burst) / rate)
    return worst


ARM_WRITES = (200, 10.0)


def journal_floor_s(journal):
    """The least time ARM's documented buckets allow for the ARM requests of a journal, subscriptions in parallel:
    per subscription max(0, writes - 200) / 10 s and max(0, reads - 250) / 25 s (long-running operation polls are reads).
    Returns (floor, write floor, read floor, {subscription: (reads, writes)})."""
    per_sub = {}
    for entry in journal:
        path = entry['path'].lower()
        if not path.startswith('/subscriptions/'):
            continue
        sub = path.split('/')[2]
        reads, writes = per_sub.get(sub, (0, 0))
        if entry['method'] == 'GET':
            reads += 1
        else:
            writes += 1
        per_sub[sub] = (reads, writes)
    write_floor = max([max(0.0, (w - ARM_WRITES[0]) / ARM_WRITES[1]) for _r, w in per_sub.values()] or [0.0])
    read_floor = max([max(0.0, (r - ARM_READS[0]) / ARM_READS[1]) for r, _w in per_sub.values()] or [0.0])
    return max(write_floor, read_floor), write_floor, read_floor, per_sub


def count_calls(journal):
    """{'arm': ARM requests, 'graph': Resource Graph queries, 'throttled': 429 answers, 'arm_get', 'writes'}."""
    graph = [e for e in journal if e['path'].lower() == GRAPH_PATH]
    arm = [e for e in journal if e['path'].lower() != GRAPH_PATH]
    return {'arm': len(arm), 'graph': len(graph), 'throttled': sum(1 for e in journal if e['status'] == 429),
            'arm_get': sum(1 for e in arm if e['method'] == 'GET'), 'writes': sum(1 for e in arm if e['method'] != 'GET')}


def classify(journal):
    out = {'list': 0, 'policies': 0, 'vault GET': 0, 'other': 0, 'write': 0}
    for entry in journal:
        path = entry['path'].lower()
        if entry['method'] != 'GET':
            out['write'] += 1
        elif '/backuppolicies' in path:
            out['policies'] += 1
        elif path.endswith('/vaults') or path.endswith('/backupvaults'):
            out['list'] += 1
        elif '/vaults/' in path or '/backupvaults/' in path:
            out['vault GET'] += 1
        else:
            out['other'] += 1
    return out


# ---------------------------------------------------------------------------------------------- running


class Runner:
    """A work directory, the emulator API, and ansible commands run and measured."""

    def __init__(self, args):
        self.args = args
        self.workdir = args.workdir or tempfile.mkdtemp(prefix='vaultlock-bench-')
        os.makedirs(self.workdir, exist_ok=True)
        self.results = {}
        self.commands = []
        self.notes = []
        self.emulator_process, self.emulator_client, self.generate_fleet = _emulator_api()
        self.wrapper = os.path.join(self.workdir, 'python-rss')
        with open(self.wrapper, 'w', encoding='utf-8') as handle:
            handle.write('#!/bin/sh\nexec "%s" "%s" "%s" "$@"\n' % (sys.executable, os.path.join(BENCH, 'rss.py'), sys.executable))
        os.chmod(self.wrapper, 0o755)
        link = os.path.join(COLLECTIONS, 'ansible_collections', 'vaultlock', 'azure')
        if not os.path.exists(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(REPO, link)
        self.role = os.path.exists(ROLE_PLAYBOOK) and os.path.exists(ROLE_TASKS)

    def log(self, message):
        print('[bench %s] %s' % (time.strftime('%H:%M:%S'), message), flush=True)

    def path(self, name):
        return os.path.join(self.workdir, name)

    def write_json(self, name, doc):
        path = self.path(name)
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump(doc, handle)
        return path

    def emulator(self, fleet, latency_ms=0, throttle=None):
        path = self.write_json('fleet-%d.json' % id(fleet), fleet)
        proc = self.emulator_process(fleet=path, latency_ms=latency_ms, workdir=tempfile.mkdtemp(prefix='emu-', dir=self.workdir), timeout=300,
                                     throttle=throttle)
        return proc, self.emulator_client(proc.endpoint)

    def env(self, emu, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(('AZURE_', 'ANSIBLE_'))}
        env.update(emu.env)
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS,
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_LOCALHOST_WARNING': '0',
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_DEPRECATION_WARNINGS': '0',
            'ANSIBLE_HOME': self.path('ansible-home'),
            'ANSIBLE_CALLBACK_PLUGINS': os.path.join(BENCH, 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': 'bench_timer',
            'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
        })
        env.update(extra or {})
        return env

    def run(self, label, cmd, emu, extra_env=None, timeout=900, record=True):
        """Run an ansible command under rss.py; returns wall time, the task timings and the memory log."""
        timer = self.path('timer-%s.jsonl' % label)
        rss = self.path('rss-%s.jsonl' % label)
        for name in (timer, rss):
            if os.path.exists(name):
                os.remove(name)
        env = self.env(emu, dict(extra_env or {}, BENCH_TIMER_OUT=timer, BENCH_RSS_LOG=rss))
        full = [sys.executable, os.path.join(BENCH, 'rss.py'), os.path.join(BIN, cmd[0])] + cmd[1:]
        if record:
            self.commands.append(' '.join(cmd))
        started = time.time()
        proc = subprocess.run(full, env=env, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.workdir)
        wall = time.time() - started
        if proc.returncode != 0:
            self.log('%s failed (rc %s):\n%s\n%s' % (label, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
        tasks = []
        if os.path.exists(timer):
            with open(timer, encoding='utf-8') as handle:
                tasks = [json.loads(line) for line in handle if line.strip()]
        mem = []
        if os.path.exists(rss):
            with open(rss, encoding='utf-8') as handle:
                mem = [json.loads(line) for line in handle if line.strip()]
        controller = [t['controller_maxrss_mib'] for t in tasks if t.get('controller_maxrss_mib')]
        children = [t['children_maxrss_mib'] for t in tasks if t.get('children_maxrss_mib')]
        return {'rc': proc.returncode, 'wall': wall, 'tasks': [t for t in tasks if t.get('task')], 'mem': mem,
                'controller_mib': max(controller) if controller else None, 'children_mib': max(children) if children else None,
                'stdout': proc.stdout, 'stderr': proc.stderr}

    def playbook(self, label, plays, emu, args=(), **kwargs):
        path = self.path('%s.yml' % label)
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump(plays, handle, indent=1)
        return self.run(label, ['ansible-playbook', '-i', 'localhost,', path] + list(args), emu, **kwargs)
