# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark phases: each runs real ansible-playbook / ansible-inventory commands against the emulator and
stores its figures in ``results`` (see bench/run.py for what each phase measures)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time

from runner import (  # pylint: disable=wrong-import-position
    BASELINE,
    COLLECTIONS,
    REPO,
    Runner,
    arm_floor_s,
    classify,
    count_calls,
    graph_floor_s,
    journal_floor_s,
    median,
    minimum_calls,
    minimum_graph_calls,
    needs_action,
    policy_count,
    settle,
    vault_ids,
)


def task_seconds(result):
    """{task name (without the role prefix): seconds, added up over loop items} of a timed run."""
    tasks = {}
    for task in result['tasks']:
        name = task['task'].split(' : ', 1)[-1]
        tasks[name] = tasks.get(name, 0.0) + task['seconds']
    return tasks


class Bench(Runner):
    """The phases, each a method phase_<name>."""

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
        if self.args.quick:
            # A smoke run: only the sets no other set contains (every module named above is still imported once).
            sets = [(name, modules) for name, modules in sets if not any(set(modules) < set(other) for _name, other in sets)]
        env = dict(os.environ, PYTHONPATH=COLLECTIONS)
        rows = []
        for name, modules in sets:
            samples = []
            for _attempt in range(self.args.import_samples):
                out = subprocess.run([sys.executable, '-c', probe] + modules, capture_output=True, text=True, timeout=120, env=env, check=False)
                if out.returncode != 0:
                    samples = None
                    self.log('import probe failed: %s' % out.stderr[-500:])
                    break
                samples.append(json.loads(out.stdout))
            if samples:
                rows.append({'set': name, 'seconds': median([s['s'] for s in samples]), 'mib': median([s['kib'] for s in samples]) / 1024.0,
                             'samples': len(samples)})
        azcollection = None
        if self.args.quick:
            self.results['imports'] = rows  # no azure.azcollection probe in a smoke run
            return
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
            'ping_mib': max(mem['ping'] or [0]), 'arm_calls': emu_calls,
            # Over a local connection the module runs in the task worker (no module process, so no wrapper figure): its peak
            # is then the largest process ansible-playbook forked.
            'info_mib': max(mem['vault_immutability_info']) if mem['vault_immutability_info'] else None,
            'worker_mib': result.get('children_mib'),
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
            # Issue 8's measure: the ARM path without throttling (the scale phase measures Resource Graph under throttling).
            extra = {'harden_backup_vaults_subscription_ids': subs, 'harden_backup_vaults_report_dir': report_dir,
                     'ansible_python_interpreter': self.wrapper, 'harden_backup_vaults_discovery': 'arm'}
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
            'calls_by_kind': classify(journal), 'page_size': page_size,
            # Without a module process (the role plans in a task worker), the largest child of ansible-playbook.
            'module_mib': max(module_mem) if module_mem else result.get('children_mib'),
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
        steady = {'wall': None, 'arm_calls': None, 'drifting': None}
        if not self.args.quick:  # a smoke run: the audit phase already runs audit_run on a settled fleet
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
            kinds = (('debug', {'ansible.builtin.debug': {'msg': '{{ vaultlock_vault.immutability }}'}}),
                     ('module', {'vaultlock.azure.vault_immutability_info': {'id': '{{ vaultlock_vault.id }}'}, 'delegate_to': 'localhost'}))
            if self.args.quick:
                kinds = kinds[1:]  # a smoke run: the module task reads the hostvars too
            for forks in self.args.forks:
                for kind, task in kinds:
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

    # ------------------------------------------------------------------------------------------ issue 15: scale

    def role_run(self, label, fleet, variables, args=(), reports_of=None):
        """The role playbook against the emulator with Azure's throttling and latency: (result, journal, report dir, drift.json).
        ``reports_of``: the label of an earlier run whose report directory this run uses as it is (the previous drift.json
        in place, as in a pipeline's second run); else a report directory of this run's own, empty."""
        subs = [s['id'] for s in fleet['subscriptions']]
        self.log('  %s: starting the emulator (%d vaults, throttling azure, %d ms per call)' % (label, len(vault_ids(fleet)), self.args.latency_ms))
        proc, emu = self.emulator(fleet, self.args.latency_ms, throttle='azure')
        try:
            page_size = emu._call('GET', 'settings').json().get('page_size', 200)  # pylint: disable=protected-access
            emu.clear_journal()
            report_dir = self.path('reports-%s' % (reports_of or label))
            if not reports_of:
                shutil.rmtree(report_dir, ignore_errors=True)
            varfile = self.write_json('vars-%s.json' % label, dict({
                'harden_backup_vaults_subscription_ids': subs, 'harden_backup_vaults_report_dir': report_dir,
                'ansible_python_interpreter': self.wrapper}, **variables))
            result = self.run(label, ['ansible-playbook', '-i', 'localhost,', 'vaultlock.azure.harden_backup_vaults'] + list(args)
                              + ['-e', '@' + varfile], emu, timeout=3600)
            journal = emu.journal()
        finally:
            proc.stop()
        doc = {}
        if os.path.exists(os.path.join(report_dir, 'drift.json')):
            with open(os.path.join(report_dir, 'drift.json'), encoding='utf-8') as handle:
                doc = json.load(handle)
        result['page_size'] = page_size
        return result, journal, report_dir, doc

    def scale_run(self, label, fleet, discovery, drifting, reports_of=None):
        """The role in check mode (a complete drift report) with Azure's throttling on and latency on every call;
        ``reports_of``: see role_run (the row's discovery then says it is a second run)."""
        subs = [s['id'] for s in fleet['subscriptions']]
        result, journal, report_dir, doc = self.role_run(label, fleet, {'harden_backup_vaults_discovery': discovery}, ['--check'],
                                                         reports_of=reports_of)
        page_size = result['page_size']
        sizes = {name: os.path.getsize(os.path.join(report_dir, name)) for name in ('drift.json', 'drift.md', 'drift.junit.xml', 'drift.html', 'drift.sarif')
                 if os.path.exists(os.path.join(report_dir, name))}
        md_lines = 0
        if os.path.exists(os.path.join(report_dir, 'drift.md')):
            with open(os.path.join(report_dir, 'drift.md'), encoding='utf-8') as handle:
                md_lines = sum(1 for _line in handle)
        tasks = task_seconds(result)
        wall = [m['seconds'] for m in result['mem'] if m['what'] == 'ansible-playbook']
        tree = [m['maxrss_mib'] for m in result['mem'] if m['what'] == 'ansible-playbook']
        calls = count_calls(journal)
        vaults = len(vault_ids(fleet))
        return {
            'label': label, 'discovery': discovery + (', again' if reports_of else ''), 'vaults': vaults, 'subscriptions': len(subs),
            'policies': policy_count(fleet),
            'drifting': drifting, 'rc': result['rc'], 'wall': wall[0] if wall else result['wall'], 'tasks': tasks,
            'calls': calls, 'minimum_graph': minimum_graph_calls(fleet) if discovery != 'arm' else 0,
            'minimum_arm': minimum_calls(fleet, page_size) if discovery == 'arm' else 0,
            'graph_floor_s': graph_floor_s(minimum_graph_calls(fleet)) if discovery != 'arm' else 0.0,
            'arm_floor_s': arm_floor_s(fleet, page_size) if discovery == 'arm' else 0.0,
            # The fleet is read and planned by the harden_plan action in a task worker (no module process): in check mode
            # no state module runs, so the largest child of ansible-playbook is that worker.
            'module_mib': result.get('children_mib'),
            'module_s': tasks.get('Discover vaults and plan the run'),
            'controller_mib': result['controller_mib'], 'children_mib': result.get('children_mib'), 'tree_mib': max(tree) if tree else None,
            'summary': doc.get('summary', {}), 'discovery_block': doc.get('discovery'), 'report_sizes': sizes, 'md_lines': md_lines,
            'page_size': page_size, 'latency_ms': self.args.latency_ms,
        }

    def phase_scale(self):
        """Issue 15: tenant scale under Azure's throttling (ARM token buckets, Resource Graph quota) and latency."""
        rows = []
        for size, subs in self.args.scale_fleets:
            fleet = self.generate_fleet(size, subs, seed='scale-%d-%d' % (size, subs))
            drifting = settle(fleet, self.args.drift_percent)
            self.log('scale: %d vaults over %d subscriptions (%d policies), %d with an action' % (size, subs, policy_count(fleet), drifting))
            sources = ['auto'] + (['arm'] if (size, subs) in self.args.scale_arm else [])
            # The largest fleet once more into the same report directory: a pipeline's every run after its first finds the
            # previous scope record (drift.scope.json, beside drift.json) there, which harden_plan reads to see which vaults left
            # the scope (plugin_utils/_scope_loss.py).
            again = (size, subs) == self.args.scale_fleets[-1]
            for discovery in sources + (['auto, again'] if again else []):
                first = 'scale-%d-%d-auto' % (size, subs)
                if discovery == 'auto, again':
                    row = self.scale_run(first + '-again', fleet, 'auto', drifting, reports_of=first)
                else:
                    row = self.scale_run('scale-%d-%d-%s' % (size, subs, discovery), fleet, discovery, drifting)
                rows.append(row)
                self.log('  discovery %s: %.1f s, %d Resource Graph queries (minimum %d), %d ARM requests (minimum %d), %d answers 429, '
                         'module peak %s MiB, ansible-playbook peak %s MiB (its children %s MiB)'
                         % (discovery, row['wall'], row['calls']['graph'], row['minimum_graph'], row['calls']['arm'], row['minimum_arm'],
                            row['calls']['throttled'], row['module_mib'], row['controller_mib'], row['children_mib']))
            del fleet
        self.results['scale'] = rows

    def apply_run(self, label, fleet, changing, variables=None):
        """The role for real (retention mode enforce: every fixable finding applied) with Azure's throttling and latency."""
        subs = [s['id'] for s in fleet['subscriptions']]
        result, journal, _report_dir, doc = self.role_run(label, fleet, dict({
            'harden_backup_vaults_retention_mode': 'enforce', 'harden_backup_vaults_fail_on_error': False}, **(variables or {})))
        tasks = task_seconds(result)
        wall = [m['seconds'] for m in result['mem'] if m['what'] == 'ansible-playbook']
        floor, write_floor, read_floor, _per_sub = journal_floor_s(journal)
        calls = count_calls(journal)
        return {
            'label': label, 'vaults': len(vault_ids(fleet)), 'subscriptions': len(subs), 'changing': changing, 'rc': result['rc'],
            'wall': wall[0] if wall else result['wall'], 'apply_s': tasks.get('Change the vaults that drift'),
            'plan_s': tasks.get('Discover vaults and plan the run'), 'calls': calls,
            'writes': calls['writes'], 'reads': calls['arm_get'], 'floor_s': floor, 'write_floor_s': write_floor,
            'read_floor_s': read_floor, 'summary': doc.get('summary', {}), 'errors': len(doc.get('errors') or []),
            'controller_mib': result['controller_mib'], 'children_mib': result.get('children_mib'), 'latency_ms': self.args.latency_ms,
        }

    def phase_apply(self):
        """Issue 23: a first hardening applied from the controller under Azure's throttling and latency."""
        rows = []
        for size, subs, percent in self.args.apply_fleets:
            fleet = self.generate_fleet(size, subs, seed='apply-%d-%d' % (size, subs))
            changing = settle(fleet, percent) if percent < 100 else needs_action(fleet)
            self.log('apply: %d vaults over %d subscriptions, %d with an action' % (size, subs, changing))
            # Every fixable finding (retention mode enforce) on a fleet as generated; the role's defaults on a settled one, so
            # that the share of vaults that change is the one asked for (weak retention stays a finding in report mode).
            variables = {} if percent >= 100 else {'harden_backup_vaults_retention_mode': 'report'}
            if self.args.apply_processes is not None:
                variables['harden_backup_vaults_apply_processes'] = self.args.apply_processes
            if self.args.apply_concurrency is not None:
                variables['harden_backup_vaults_apply_concurrency'] = self.args.apply_concurrency
            row = self.apply_run('apply-%d-%d' % (size, subs), fleet, changing, variables)
            rows.append(row)
            self.log('  %.1f s (apply task %.1f s; floor %.1f s: writes %.1f s, reads %.1f s); %d writes, %d ARM reads, %d answers 429, '
                     '%d vaults changed, %d errors; ansible-playbook peak %s MiB, worker peak %s MiB'
                     % (row['wall'], row['apply_s'] or 0.0, row['floor_s'], row['write_floor_s'], row['read_floor_s'], row['writes'],
                        row['reads'], row['calls']['throttled'], row['summary'].get('changed', 0), row['errors'],
                        row['controller_mib'], row['children_mib']))
            del fleet
        self.results['apply'] = rows
        if self.args.apply_loop:
            self.results['apply_loop'] = self.apply_loop(self.args.apply_loop)

    def apply_loop(self, size):
        """The per-vault module loop (one vault_immutability task per vault, as the role ran before harden_apply) beside
        the role on the same fleet, both enabling immutability only, with throttling and latency."""
        fleet = self.generate_fleet(size, 1, seed='apply-loop-%d' % size)
        for sub in fleet['subscriptions']:
            for group in sub['resource_groups']:
                for spec in group['vaults']:
                    spec['immutability'] = 'disabled'
        ids = vault_ids(fleet)
        self.log('apply loop: %d vaults, one vault_immutability task per vault vs harden_apply' % size)
        proc, emu = self.emulator(fleet, self.args.latency_ms, throttle='azure')
        try:
            emu.clear_journal()
            play = [{'name': 'module loop', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': [
                {'name': 'One task per vault', 'loop': ids, 'loop_control': {'label': '{{ item | basename }}'}, 'ignore_errors': True,
                 'vaultlock.azure.vault_immutability': {'id': '{{ item }}', 'immutability': 'enabled'}}]}]
            loop = self.playbook('apply-loop-%d' % size, play, emu)
            loop_writes = count_calls(emu.journal())['writes']
        finally:
            proc.stop()
        only = {'harden_backup_vaults_soft_delete': {}, 'harden_backup_vaults_retention_minimum': {}}
        role = self.apply_run('apply-loop-role-%d' % size, fleet, size, only)
        ratio = loop['wall'] / role['wall'] if role['wall'] else None
        self.log('  module loop %.1f s (%d writes), harden_apply role %.1f s (%d writes): %.1fx'
                 % (loop['wall'], loop_writes, role['wall'], role['writes'], ratio or 0))
        return {'vaults': size, 'loop_s': loop['wall'], 'loop_writes': loop_writes, 'loop_rc': loop['rc'], 'role_s': role['wall'],
                'role_writes': role['writes'], 'ratio': ratio}

    def phase_html(self):
        """drift.html at 20,000 vaults in headless Chromium: each filter and sort beside the 300 ms target. The scenario is
        tests/integration/test_html_report_scale.py, which asserts what the page shows, never how fast: this runs it and
        reads the figures it writes. Not in --quick runs (the page alone is 20,000 vaults)."""
        if self.args.quick:
            self.log('html: skipped in a quick run')
            return
        self.log('html: drift.html at 20,000 vaults in headless Chromium')
        figures = os.path.join(str(REPO), 'tests', 'output', 'html-scale.json')
        if os.path.exists(figures):
            os.remove(figures)
        proc = subprocess.run([sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-q', '-n', '0',
                               'tests/integration/test_html_report_scale.py'], cwd=str(REPO), capture_output=True, text=True,
                              timeout=1800, check=False)
        result = {'rc': proc.returncode, 'target_ms': 300}
        if proc.returncode == 0 and os.path.exists(figures):
            with open(figures, encoding='utf-8') as handle:
                result.update(json.load(handle))
        else:
            self.log('html: the browser run failed:\n%s' % (proc.stdout[-3000:] + proc.stderr[-2000:]))
        self.results['html'] = result
