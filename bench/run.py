# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure benchmarks: `make bench` (or `.venv/bin/python bench/run.py --help`).

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
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
COLLECTIONS = os.path.join(REPO, '.cache', 'collections')
BIN = os.path.dirname(sys.executable)
ROLE_PLAYBOOK = os.path.join(REPO, 'playbooks', 'harden_backup_vaults.yml')
ROLE_TASKS = os.path.join(REPO, 'roles', 'harden_backup_vaults', 'tasks', 'main.yml')
PHASES = ('imports', 'overhead', 'emulator', 'audit', 'naive', 'inventory')
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
    has been hardened once drifts only where new vaults appeared. The first drift_percent of the vaults
    that would need a change keep their generated state; the others get immutability enabled and soft
    delete on. Weak retention stays as generated (reported; no action with retention mode `report`).
    Returns how many vaults keep an action.
    """
    vaults = [v for sub in fleet['subscriptions'] for rg in sub['resource_groups'] for v in rg['vaults']]
    keep = int(round(len(vaults) * drift_percent / 100.0))
    drifting = 0
    for vault in vaults:
        soft_off = (vault.get('soft_delete') or {}).get('state') == 'off'
        if vault.get('immutability') in ('unset', 'disabled') or soft_off:
            if drifting < keep:
                drifting += 1
                continue
            if vault.get('immutability') in ('unset', 'disabled'):
                vault['immutability'] = 'enabled'
            if soft_off:
                vault['soft_delete']['state'] = 'on'
    return drifting


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

class Bench:
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

    def emulator(self, fleet, latency_ms=0):
        path = self.write_json('fleet-%d.json' % id(fleet), fleet)
        proc = self.emulator_process(fleet=path, latency_ms=latency_ms, workdir=tempfile.mkdtemp(prefix='emu-', dir=self.workdir), timeout=120)
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
        return {'rc': proc.returncode, 'wall': wall, 'tasks': [t for t in tasks if t.get('task')], 'mem': mem,
                'controller_mib': max(controller) if controller else None,
                'stdout': proc.stdout, 'stderr': proc.stderr}

    def playbook(self, label, plays, emu, args=(), **kwargs):
        path = self.path('%s.yml' % label)
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump(plays, handle, indent=1)
        return self.run(label, ['ansible-playbook', '-i', 'localhost,', path] + list(args), emu, **kwargs)

    # ------------------------------------------------------------------------------------------ phases

    def phase_imports(self):
        self.log('imports: import time and peak memory of ansible basics and the SDKs')
        probe = ('import importlib, json, resource, sys, time\n'
                 't = time.perf_counter()\n'
                 'for name in sys.argv[1:]:\n'
                 '    importlib.import_module(name)\n'
                 'kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n'
                 'try:\n'
                 '    # VmHWM: the peak of this program alone (ru_maxrss may keep the peak of the process it was forked from)\n'
                 '    with open("/proc/self/status") as handle:\n'
                 '        kib = [int(l.split()[1]) for l in handle if l.startswith("VmHWM:")][0]\n'
                 'except (OSError, IndexError):\n'
                 '    pass\n'
                 'print(json.dumps({"s": time.perf_counter() - t, "kib": kib}))\n')
        basics = ['ansible.module_utils.basic']
        sets = [
            ('Python alone', []),
            ('ansible module basics', basics),
            ('+ the collection module base (no SDK)',
             basics + ['ansible_collections.vaultlock.azure.plugins.module_utils._module', 'ansible_collections.vaultlock.azure.plugins.module_utils._vaults']),
            ('+ azure-identity', basics + ['azure.identity']),
            ('+ identity + Recovery Services (vault task on a RS vault)', basics + ['azure.identity', 'azure.mgmt.recoveryservices']),
            ('+ identity + Data Protection (vault task on a Backup vault)', basics + ['azure.identity', 'azure.mgmt.dataprotection']),
            ('+ identity + both Recovery Services SDKs (the issue\'s comparison)',
             basics + ['azure.identity', 'azure.mgmt.recoveryservices', 'azure.mgmt.recoveryservicesbackup']),
            ('+ identity + all three SDKs',
             basics + ['azure.identity', 'azure.mgmt.recoveryservices', 'azure.mgmt.recoveryservicesbackup', 'azure.mgmt.dataprotection']),
        ]
        env = dict(os.environ, PYTHONPATH=COLLECTIONS)
        rows = []
        for name, modules in sets:
            samples = []
            for _attempt in range(3):
                out = subprocess.run([sys.executable, '-c', probe] + modules, capture_output=True, text=True, timeout=120, env=env, check=False)
                if out.returncode != 0:
                    samples = None
                    self.log('import probe failed: %s' % out.stderr[-500:])
                    break
                samples.append(json.loads(out.stdout))
            if samples:
                rows.append({'set': name, 'seconds': median([s['s'] for s in samples]), 'mib': median([s['kib'] for s in samples]) / 1024.0})
        azcollection = None
        try:
            found = subprocess.run([sys.executable, '-c', probe, 'ansible_collections.azure.azcollection.plugins.module_utils.azure_rm_common'],
                                   capture_output=True, text=True, timeout=120, env=env, check=False)
            if found.returncode == 0:
                doc = json.loads(found.stdout)
                azcollection = {'set': "azure.azcollection's azure_rm_common", 'seconds': doc['s'], 'mib': doc['kib'] / 1024.0}
        except (subprocess.SubprocessError, ValueError):
            azcollection = None
        if azcollection:
            rows.append(azcollection)
        else:
            self.notes.append("azure.azcollection is not installed here; the issue measured its azure_rm_common import at about 1.9 s "
                              "and 168 MB on this kind of machine.")
        self.results['imports'] = rows

    def phase_overhead(self):
        runs = self.args.runs
        self.log('overhead: %d x (ping, vault_immutability_info for one vault), latency 0' % runs)
        fleet = self.generate_fleet(1, 1, seed='overhead')
        vid = vault_ids(fleet)[0]
        proc, emu = self.emulator(fleet)
        try:
            tasks = [{'name': 'warm ping', 'ansible.builtin.ping': {}},
                     {'name': 'warm info', 'vaultlock.azure.vault_immutability_info': {'id': vid}}]
            for index in range(runs):
                tasks.append({'name': 'ping %d' % index, 'ansible.builtin.ping': {}})
                tasks.append({'name': 'info %d' % index, 'vaultlock.azure.vault_immutability_info': {'id': vid}})
            for index in range(min(runs, 5)):
                for name, task in (('mem ping', {'ansible.builtin.ping': {}}),
                                   ('mem info', {'vaultlock.azure.vault_immutability_info': {'id': vid}})):
                    task = dict(task, name='%s %d' % (name, index), vars={'ansible_python_interpreter': self.wrapper})
                    tasks.append(task)
            play = [{'name': 'task overhead', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}]
            result = self.playbook('overhead', play, emu)
            emu_calls = emu.stats()['arm_requests']
        finally:
            proc.stop()
        times = {'ping': [], 'info': []}
        for task in result['tasks']:
            kind, _sep, rest = task["task"].partition(" ")
            if kind in times and rest.isdigit():
                times[kind].append(task['seconds'])
        mem = {'ping': [], 'vault_immutability_info': []}
        proc_s = {'ping': [], 'vault_immutability_info': []}
        for line in result['mem']:
            if line['what'] in mem:
                mem[line['what']].append(line['maxrss_mib'])
                proc_s[line['what']].append(line['seconds'])
        ping, info = median(times['ping']), median(times['info'])
        self.results['overhead'] = {
            'runs': runs, 'rc': result['rc'], 'ping_s': ping, 'info_s': info, 'ratio': info / ping if ping else None,
            'ping_proc_s': median(proc_s['ping']), 'info_proc_s': median(proc_s['vault_immutability_info']),
            'ping_mib': max(mem['ping'] or [0]), 'info_mib': max(mem['vault_immutability_info'] or [0]), 'arm_calls': emu_calls,
        }

    def phase_emulator(self):
        seconds = self.args.throughput_seconds
        threads = 8
        self.log('emulator: %d client threads for up to %.0f s, latency 0' % (threads, seconds))
        fleet = self.generate_fleet(50, 1, seed='throughput')
        ids = vault_ids(fleet)
        proc, emu = self.emulator(fleet)
        try:
            token = emu.mint_token()
            host, port = emu.arm_url.split('//', 1)[1].rstrip('/').split(':')
            context = ssl.create_default_context(cafile=emu.ca_bundle)
            sub = fleet['subscriptions'][0]['id']
            paths = ['/subscriptions/%s/providers/Microsoft.RecoveryServices/vaults?api-version=2026-11-01' % sub]
            for vid in ids[:20]:
                version = '2026-10-01' if 'RecoveryServices' in vid else '2026-06-01'
                paths.append('%s/backupPolicies?api-version=%s' % (vid, version))
            limit = 20000
            counter = {'ok': 0, 'bad': 0}
            lock = threading.Lock()
            deadline = time.time() + seconds

            def worker(offset):
                conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
                index = offset
                try:
                    while time.time() < deadline:
                        with lock:
                            if counter['ok'] + counter['bad'] >= limit:
                                return
                        conn.request('GET', paths[index % len(paths)], headers={'Authorization': 'Bearer ' + token})
                        response = conn.getresponse()
                        response.read()
                        with lock:
                            counter['ok' if response.status == 200 else 'bad'] += 1
                        index += 1
                finally:
                    conn.close()

            before = emu.stats()['arm_requests']
            started = time.time()
            pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join(seconds + 60)
            elapsed = time.time() - started
            served = emu.stats()['arm_requests'] - before
        finally:
            proc.stop()
        self.results['emulator'] = {'threads': threads, 'seconds': elapsed, 'requests': served, 'ok': counter['ok'], 'bad': counter['bad'],
                                    'rps': served / elapsed if elapsed else 0.0}

    def audit_run(self, label, fleet, latency_ms, drifting, concurrency=None):
        subs = [s['id'] for s in fleet['subscriptions']]
        proc, emu = self.emulator(fleet, latency_ms)
        try:
            page_size = emu._call('GET', 'settings').json().get('page_size', 200)  # pylint: disable=protected-access
            minimum = minimum_calls(fleet, page_size)
            emu.clear_journal()
            before = emu.stats()['arm_requests']
            report_dir = self.path('reports-%s' % label)
            shutil.rmtree(report_dir, ignore_errors=True)
            extra = {'harden_backup_vaults_subscription_ids': subs, 'harden_backup_vaults_report_dir': report_dir,
                     'ansible_python_interpreter': self.wrapper}
            if concurrency:
                extra['harden_backup_vaults_discovery_concurrency'] = concurrency
            varfile = self.write_json('vars-%s.json' % label, extra)
            if self.role:
                result = self.run(label, ['ansible-playbook', '-i', 'localhost,', 'vaultlock.azure.harden_backup_vaults', '--check',
                                          '-e', '@' + varfile], emu, timeout=1800)
            else:
                result = self.playbook(label, self.filters_playbook(subs, report_dir), emu, ['--check', '-e', '@' + varfile], timeout=1800)
            served = emu.stats()['arm_requests'] - before
            journal = emu.journal()
        finally:
            proc.stop()
        reports = [name for name in ('drift.json', 'drift.md', 'drift.junit.xml') if os.path.exists(os.path.join(report_dir, name))]
        summary = {}
        if 'drift.json' in reports:
            with open(os.path.join(report_dir, 'drift.json'), encoding='utf-8') as handle:
                summary = json.load(handle).get('summary', {})
        phases = {'discover': 0.0, 'drift': 0.0, 'state tasks': 0.0, 'reports': 0.0}
        for task in result['tasks']:
            name = task['task'].lower()
            if 'discover' in name or 'read the listed' in name:
                key = 'discover'
            elif 'raise' in name or 'set immutability' in name or 'set soft delete' in name:
                key = 'state tasks'
            elif 'report' in name or 'summary' in name:
                key = 'reports'
            else:
                key = 'drift'
            phases[key] += task['seconds']
        module_mem = [m['maxrss_mib'] for m in result['mem'] if m['what'] == 'vault_immutability_info']
        wall = [m['seconds'] for m in result['mem'] if m['what'] == 'ansible-playbook']
        return {
            'label': label, 'vaults': sum(len(rg['vaults']) for s in fleet['subscriptions'] for rg in s['resource_groups']),
            'subscriptions': len(subs), 'latency_ms': latency_ms, 'drifting': drifting, 'rc': result['rc'],
            'wall': wall[0] if wall else result['wall'], 'phases': phases, 'arm_calls': served, 'minimum': minimum,
            'calls_by_kind': classify(journal), 'page_size': page_size, 'module_mib': max(module_mem) if module_mem else None,
            'controller_mib': result['controller_mib'], 'reports': reports, 'summary_vaults': summary.get('vaults'),
            'summary_drifting': summary.get('drifting'), 'rps': served / wall[0] if wall and wall[0] else None,
            'how': 'role playbook' if self.role else 'filters playbook (role not present)', 'concurrency': concurrency or 'role default',
        }

    def filters_playbook(self, subs, report_dir):
        """Stand-in for the role (discover -> drift -> reports) while the role is not in the tree."""
        return [{'name': 'fleet audit (filters)', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
                 'vars': {'baseline': BASELINE},
                 'tasks': [
                     {'name': 'Discover vaults', 'register': 'fleet', 'check_mode': False,
                      'vaultlock.azure.vault_immutability_info': {'subscription_ids': subs, 'include_policies': True}},
                     {'name': 'Compute the drift', 'ansible.builtin.set_fact': {
                         'report': "{{ fleet.vaults | vaultlock.azure.vault_drift(baseline) | "
                                   "vaultlock.azure.drift_report_json({'check_mode': true, 'baseline': baseline}) }}"}},
                     {'name': 'Write the reports', 'check_mode': False, 'ansible.builtin.copy': {
                         'content': '{{ item.content }}', 'dest': report_dir + '/{{ item.file }}'},
                      'loop': [{'file': 'drift.json', 'content': '{{ report | to_nice_json(indent=2) }}'},
                               {'file': 'drift.md', 'content': '{{ report | vaultlock.azure.drift_report_markdown }}'},
                               {'file': 'drift.junit.xml', 'content': '{{ report | vaultlock.azure.drift_report_junit }}'}]},
                 ],
                 'pre_tasks': [{'name': 'report directory', 'check_mode': False, 'ansible.builtin.file': {'path': report_dir, 'state': 'directory'}}]}]

    def phase_audit(self):
        rows = []
        for size in self.args.sizes:
            subs = min(self.args.subscriptions, max(1, size))
            fleet = self.generate_fleet(size, subs, seed='bench-%d' % size)
            drifting = settle(fleet, self.args.drift_percent)
            self.log('audit: %d vaults over %d subscriptions, %d ms per ARM call, %d vaults with an action (immutability or soft delete)'
                     % (size, subs, self.args.latency_ms, drifting))
            for concurrency in self.args.concurrency:
                rows.append(self.audit_run('audit-%d-%s' % (size, concurrency or 'role'), fleet, self.args.latency_ms, drifting, concurrency))
                self.log('  concurrency %s: %.1f s, %d ARM calls (minimum %d)' % (concurrency or 'role default', rows[-1]['wall'],
                                                                                  rows[-1]['arm_calls'], rows[-1]['minimum']))
        self.results['audit'] = rows

    def phase_naive(self):
        size = self.args.naive_size
        subs = min(2, size)
        fleet = self.generate_fleet(size, subs, seed='naive-%d' % size)
        ids = vault_ids(fleet)
        self.log('naive: %d vaults, one vault_immutability task per vault vs the role, %d ms per ARM call' % (size, self.args.latency_ms))
        proc, emu = self.emulator(fleet, self.args.latency_ms)
        try:
            emu.clear_journal()
            play = [{'name': 'naive audit', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': [
                # Locked vaults fail (enabled would leave locked): a naive loop has to ignore errors.
                {'name': 'One task per vault', 'loop': ids, 'loop_control': {'label': '{{ item | basename }}'}, 'ignore_errors': True,
                 'vaultlock.azure.vault_immutability': {'id': '{{ item }}', 'immutability': 'enabled'}}]}]
            naive = self.playbook('naive-%d' % size, play, emu, ['--check'])
            naive_calls = len(emu.journal())
        finally:
            proc.stop()
        role = self.audit_run('discover-first-%d' % size, fleet, self.args.latency_ms, needs_action(fleet))
        # The same fleet in steady state (drift_percent of the vaults with an action): the naive loop costs the same
        # (one task per vault either way), the role's cost follows the drift.
        settled = json.loads(json.dumps(fleet))
        steady = self.audit_run('discover-first-steady-%d' % size, settled, self.args.latency_ms, settle(settled, self.args.drift_percent))
        self.results['naive'] = {'vaults': size, 'naive_s': naive['wall'], 'naive_calls': naive_calls, 'naive_rc': naive['rc'],
                                 'role_s': role['wall'], 'role_calls': role['arm_calls'], 'role_rc': role['rc'], 'drifting': role['drifting'],
                                 'role_phases': role['phases'], 'ratio': naive['wall'] / role['wall'] if role['wall'] else None,
                                 'steady_s': steady['wall'], 'steady_calls': steady['arm_calls'], 'steady_drifting': steady['drifting'],
                                 'steady_ratio': naive['wall'] / steady['wall'] if steady['wall'] else None}

    def phase_inventory(self):
        hosts = self.args.inventory_hosts
        fleet = self.generate_fleet(hosts, 2, seed='inventory-%d' % hosts)
        self.log('inventory: %d vault hosts, forks %s, %d ms per ARM call' % (hosts, self.args.forks, self.args.latency_ms))
        proc, emu = self.emulator(fleet, self.args.latency_ms)
        rows = []
        try:
            config = self.path('bench.backup_vaults.yml')
            cache = self.path('inventory-cache')
            with open(config, 'w', encoding='utf-8') as handle:
                json.dump({'plugin': 'vaultlock.azure.backup_vaults', 'subscription_ids': ['all'], 'cache': True,
                           'cache_plugin': 'ansible.builtin.jsonfile', 'cache_connection': cache, 'cache_timeout': 3600}, handle)
            shutil.rmtree(cache, ignore_errors=True)
            emu.clear_journal()
            cold = self.run('inventory-cold', ['ansible-inventory', '-i', config, '--list', '--output', self.path('inventory.json')], emu)
            cold_calls = len(emu.journal())
            emu.clear_journal()
            warm = self.run('inventory-cached', ['ansible-inventory', '-i', config, '--list', '--output', self.path('inventory.json')], emu)
            warm_calls = len(emu.journal())
            count = 0
            if os.path.exists(self.path('inventory.json')):
                with open(self.path('inventory.json'), encoding='utf-8') as handle:
                    count = len(json.load(handle).get('_meta', {}).get('hostvars', {}))
            for forks in self.args.forks:
                for kind, task in (('debug', {'ansible.builtin.debug': {'msg': '{{ vaultlock_vault.immutability }}'}}),
                                   ('module', {'vaultlock.azure.vault_immutability_info': {'id': '{{ vaultlock_vault.id }}'},
                                               'delegate_to': 'localhost'})):
                    play = [{'name': 'per vault host', 'hosts': 'all', 'gather_facts': False, 'tasks': [dict(task, name='per host %s' % kind)]}]
                    path = self.path('inventory-play-%s.yml' % kind)
                    with open(path, 'w', encoding='utf-8') as handle:
                        json.dump(play, handle)
                    emu.clear_journal()
                    result = self.run('inventory-%s-%d' % (kind, forks), ['ansible-playbook', '-i', config, '--forks', str(forks), '--check', path],
                                      emu, record=forks == self.args.forks[0])
                    wall = [m['seconds'] for m in result['mem'] if m['what'] == 'ansible-playbook']
                    ok = sum(1 for t in result['tasks'] if t['status'] == 'ok')
                    rows.append({'forks': forks, 'task': kind, 'wall': wall[0] if wall else result['wall'], 'hosts_ok': ok,
                                 'arm_calls': len(emu.journal()), 'rc': result['rc']})
                    self.log('  forks %d %s: %.1f s' % (forks, kind, rows[-1]['wall']))
        finally:
            proc.stop()
        self.results['inventory'] = {'hosts': hosts, 'inventory_hosts': count, 'cold_s': cold['wall'], 'cold_calls': cold_calls,
                                     'cached_s': warm['wall'], 'cached_calls': warm_calls, 'rows': rows}

    # ------------------------------------------------------------------------------------------ output

    def machine(self):
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

    def tables(self):
        """[(title, header, rows, notes)] from the results."""
        out = []
        res = self.results
        if 'imports' in res:
            out.append(('Import time and peak memory (fresh interpreter, median of 3)', ['what is imported', 'time', 'peak RSS'],
                        [[r['set'], fmt_s(r['seconds']), fmt_mib(r['mib'])] for r in res['imports']], []))
        if 'overhead' in res:
            o = res['overhead']
            out.append(('Task overhead: one task, same playbook run, median of %d (emulator latency 0)' % o['runs'],
                        ['task', 'task wall (callback)', 'module process wall', 'module peak RSS'],
                        [['ansible.builtin.ping', fmt_s(o['ping_s']), fmt_s(o['ping_proc_s']), fmt_mib(o['ping_mib'])],
                         ['vault_immutability_info, one vault', fmt_s(o['info_s']), fmt_s(o['info_proc_s']), fmt_mib(o['info_mib'])]],
                        ['info / ping = %.2f (target <= 2); module peak %.0f MiB (target <= 80 MB)' % (o['ratio'] or 0, o['info_mib'])]))
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
            notes = ['%s in check mode; %d ms injected per ARM call; list page size %s (emulator default: Azure does not document '
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
                          str(n['role_calls'])],
                         ['role, same fleet in steady state (%d vaults with an action)' % n['steady_drifting'], fmt_s(n['steady_s']),
                          str(n['steady_calls'])]],
                        ['naive / discover-first = %.1fx as generated, %.1fx in steady state (the naive loop costs the same either way)'
                         % (n['ratio'] or 0, n['steady_ratio'] or 0)]))
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
        return out

    def targets(self):
        """(target, measured) rows for the summary."""
        out = []
        o = self.results.get('overhead')
        if o:
            out.append(('info task <= 2x a ping task', '%.2fx (%.2f s vs %.2f s)' % (o['ratio'] or 0, o['info_s'], o['ping_s'])))
            out.append(('module peak memory, one vault <= 80 MB', fmt_mib(o['info_mib'])))
        for a in self.results.get('audit', []):
            goal = {1000: '15 s', 5000: '60 s'}.get(a['vaults'], '-')
            out.append(('%d vaults, complete report, %s (concurrency %s)' % (a['vaults'], goal, a['concurrency']),
                        '%s in all; %s without the state tasks for %d vaults with an action; module peak %s'
                        % (fmt_s(a['wall']), fmt_s(a['wall'] - a['phases']['state tasks']), a['drifting'], fmt_mib(a['module_mib']))))
        n = self.results.get('naive')
        if n:
            out.append(('naive loop vs discover-first, 100 vaults', '%.1fx as generated, %.1fx in steady state'
                        % (n['ratio'] or 0, n.get('steady_ratio') or 0)))
        e = self.results.get('emulator')
        if e:
            peak = max([a['rps'] or 0 for a in self.results.get('audit', [])] or [0])
            out.append(('emulator never the bottleneck', '%.0f requests/s capacity vs at most %.0f/s asked in the audits' % (e['rps'], peak)))
        return out

    def print_tables(self):
        for title, header, rows, notes in self.tables():
            widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
            print('\n' + title)
            print('  '.join(h.ljust(w) for h, w in zip(header, widths)))
            print('  '.join('-' * w for w in widths))
            for row in rows:
                print('  '.join(str(c).ljust(w) for c, w in zip(row, widths)))
            for note in notes:
                print('  * ' + note)
        for note in self.notes:
            print('* ' + note)

    def markdown(self, machine, argv):
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
        lines += ['$ ' + c.replace(self.workdir, '$WORKDIR').replace(BIN + '/', '') for c in self.commands]
        lines += ['```', '', '## Targets (issue 8)', '', '| target | measured |', '| --- | --- |']
        lines += ['| %s | %s |' % row for row in self.targets()]
        lines += ['', '## Figures', '']
        for title, header, rows, notes in self.tables():
            lines += ['### ' + title, '', '| ' + ' | '.join(header) + ' |', '|' + ' --- |' * len(header)]
            lines += ['| ' + ' | '.join(str(c).replace('|', '\\|') for c in row) + ' |' for row in rows]
            lines += [''] + ['- ' + n for n in notes] + ([''] if notes else [])
        if self.notes:
            lines += ['### Notes', ''] + ['- ' + n for n in self.notes] + ['']
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
'''

MD_TAIL = '''
## What was changed for speed (issue 8), and why

Profiling `vault_immutability_info` (cProfile of the module process, and of its worker threads' calls) showed:

- **A one-vault task spent most of its time importing.** About 0.2 s of a module process went to importing the
  management SDK (`azure-mgmt-dataprotection` or `-recoveryservices`) for a single GET, on top of ansible's basics
  (0.15 s) and azure-identity (0.2 s; unavoidable for a credential).
- **Fleet discovery was CPU-bound in SDK model deserialization.** With 1,000 vaults over 10 subscriptions and no
  injected latency, the module used 3.2 s of CPU; about 2 ms per policy list went to building SDK models and turning
  them back into dicts (`as_dict`). On 2 cores shared with the emulator, that CPU is what bounds 5,000 vaults.
- **Concurrency 8 made 5,000 vaults latency-bound**: 5,000 policy lists at 100 ms each need 62 s at 8 in flight.

Changes (all in `plugins/module_utils/_vaults.py`, `_client.py` and `plugins/modules/vault_immutability_info.py`):

1. Reads (one vault, vault lists, policy lists) are plain ARM GETs through the session's one ARM pipeline
   (`AzureSession.arm_get`, which follows `nextLink`), at the api-versions the pinned SDKs use. No SDK is imported
   for a read and no model is built; Azure's JSON goes straight to `vault_record` / `normalise_policy`, which
   already took that shape. Writes (PATCH, policy PUT, long-running operations) still go through the SDKs.
   Measured on the same fleet and machine: discovery CPU 3.2 s -> 1.6 s (no latency); with 100 ms latency and 32
   in flight, the module's discovery took 6.6 s (4.3 s CPU) before and 4.0 s (2.0 s CPU) after.
2. That shared pipeline gets a 64-connection pool: requests keeps 10 per host, and parallel reads beyond 10 would
   open, and TLS-handshake, a new connection each time.
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


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='smoke run at a small size (CI); writes no docs unless --output is given')
    parser.add_argument('--only', default=','.join(PHASES), help='comma-separated phases: %s' % ', '.join(PHASES))
    parser.add_argument('--sizes', default=None, help='fleet sizes for the audit (default 1000,5000; quick 50)')
    parser.add_argument('--subscriptions', type=int, default=10, help='subscriptions the audit fleets spread over (default 10)')
    parser.add_argument('--latency-ms', type=int, default=100, help='latency injected per ARM call in audit, naive, inventory (default 100)')
    parser.add_argument('--drift-percent', type=float, default=1.0, help='share of audit vaults left needing an action (default 1)')
    parser.add_argument('--concurrency', default='role',
                        help="comma-separated harden_backup_vaults_discovery_concurrency values for the audit; 'role' = the role's default "
                             "(default: role)")
    parser.add_argument('--runs', type=int, default=None, help='task pairs in the overhead playbook (default 15; quick 3)')
    parser.add_argument('--naive-size', type=int, default=None, help='vaults in the naive comparison (default 100; quick 10)')
    parser.add_argument('--inventory-hosts', type=int, default=None, help='vault hosts for the inventory phase (default 200; quick 20)')
    parser.add_argument('--forks', default=None, help='forks for the inventory phase (default 1,10,50; quick 1,10)')
    parser.add_argument('--throughput-seconds', type=float, default=None, help='emulator throughput probe length (default 5; quick 1)')
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
    if quick:
        args.subscriptions = min(args.subscriptions, 2)
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
    machine = bench.machine()
    bench.log('workdir %s; %s CPUs, %s, Python %s, ansible-core %s, load %s'
              % (bench.workdir, machine['nproc'], machine['memory'], machine['python'], machine['versions']['ansible-core'], machine['load']))
    started = time.time()
    for phase in PHASES:
        if phase in args.phases:
            getattr(bench, 'phase_' + phase)()
    bench.log('done in %.0f s' % (time.time() - started))
    bench.print_tables()
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as handle:
            json.dump({'machine': machine, 'results': bench.results}, handle, indent=1, default=str)
    if args.output:
        with open(args.output, 'w', encoding='utf-8') as handle:
            handle.write(bench.markdown(machine, argv))
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
