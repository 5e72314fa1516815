# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harden_apply when the run is stopped under it, in process through the real SDKs against the emulator.

ansible-playbook forwards SIGINT and SIGTERM to the task's process group, so the task process and its worker processes
end with it; a SIGKILL of ansible-playbook (a CI runner's last resort) did not reach them, and they went on changing and
locking vaults that nobody watched any more. Here a stand-in for ansible-playbook (a ``sleep`` process: its pid is the
apply's ``controller``, as the action plugin passes os.getppid()) is killed while every thread of the apply waits for a
read of a vault that the emulator holds (before the first write, or between the lock's two steps), with the vaults
applied by the task's own threads and by two worker processes. No write is journaled after the kill (the journal's
length when it was killed, not a time window); the next run plans from ARM and finishes, sending no step twice."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import yaml

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import attach_policies, list_vaults
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.items import attach_items
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import plan_run
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_apply import PlanApplier
from tests.emulator.client import is_write
from tests.integration.fleets import SUB1, SUB2, vault

BASELINE = {'immutability': 'locked', 'allow_irreversible': True, 'soft_delete': {'state': 'on', 'retention_days': 14}, 'tiers': []}
REQUIREMENTS = {'require_soft_delete': None, 'no_unfixable_findings': False, 'max_retention': '30y'}
LATENCY_MS = 400
SUBS = (SUB1, SUB2)
# The Ctrl-C test's requests take this long until the signal, so that it comes while vaults are in flight.
SLOW_MS = 1000
# harden_apply's threads in the Ctrl-C test: 2 worker processes, max_concurrency 2 (one thread each).
APPLY_THREADS = 2
VAULT_PATH = r'/vaults/[^/]+$'
# ansible-playbook started with SIGINT at its default action, as a terminal's foreground job has it. A process started in
# the background by a shell without job control (`cmd &` in a script, a CI runner's step) inherits SIGINT ignored, and
# ansible-core 2.17 and 2.18 keep it so (2.19 installs a handler of its own): such a run cannot be stopped with SIGINT, so
# the test would find it ran to its end (rc 0, every vault changed; seen once in a whole make integration-compat run).
FOREGROUND = ('import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); '
              'signal.signal(signal.SIGTERM, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])')


def fleet():
    """3 Recovery Services vaults in each of 2 subscriptions, soft delete off and immutability disabled: three writes
    each (soft delete, Unlocked, Locked)."""
    return {'subscriptions': [
        {'id': sub, 'display_name': 'interrupted-%d' % index, 'resource_groups': [{'name': 'rg-%d' % index, 'location': 'westeurope', 'vaults': [
            vault('rsv-%d-%d' % (index, number), 'recovery_services', 'disabled', soft_delete='off') for number in range(3)]}]}
        for index, sub in enumerate(SUBS)]}


def new_session():
    return AzureSession({'polling_interval': 0.05, 'api_retries': 0})


def plan():
    session = new_session()
    records, errors = list_vaults(session, list(SUBS), ['recovery_services'])
    errors += attach_policies(session, records) + attach_items(session, records)
    assert errors == []
    reads = [{'vaults': records, 'errors': [], 'subscriptions': list(SUBS), 'discovery': None, 'item': ''}]
    return plan_run(reads, [], BASELINE, REQUIREMENTS)['drift']


def immutability_patches(journal):
    """{vault name: [state sent, ...]} of every immutability PATCH, in order."""
    sent = collections.defaultdict(list)
    for entry in journal:
        settings = ((entry.get('body') or {}).get('properties') or {}).get('securitySettings') or {}
        if entry['method'] == 'PATCH' and 'immutabilitySettings' in settings:
            sent[entry['path'].rsplit('/', 1)[1]].append(settings['immutabilitySettings']['state'])
    return dict(sent)


# When ansible-playbook is killed: once every thread of the apply waits for its first read of a vault (each has decided to
# start its vault: the next request is the read its first step makes right before that step's write), or once the first
# Unlocked PATCH arrived (soft delete done, the lock's first step in flight: the read between the lock's two steps).
MOMENTS = {'before the first write': None, 'between the lock steps': 'Unlocked'}


@pytest.mark.parametrize('processes, moment', [(1, 'before the first write'), (1, 'between the lock steps'), (2, 'between the lock steps')])
def test_no_write_after_ansible_playbook_is_killed_and_the_next_run_finishes(emulator, monkeypatch, processes, moment):
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    emulator.load_fleet(fleet())
    drift = plan()
    assert len([entry for entry in drift if entry.get('changes')]) == 6
    emulator.clear_journal()
    if MOMENTS[moment]:
        emulator.latency(LATENCY_MS)   # the apply's threads slow enough for the watcher to hold them soon after that PATCH
    else:
        emulator.hold(True, 'GET', VAULT_PATH)
    controller = subprocess.Popen(['sleep', '120'])
    killed = {}

    def kill_while_every_thread_waits():
        # From the moment on, every read of a vault waits unanswered (the read a step makes right before its write, and the
        # read between the lock's two steps). Once each of the apply's threads waits for one, none is between deciding to
        # send a write and sending it: the controller is killed and reaped there, and the journal's length at that moment
        # marks the kill. A write journaled after that mark was sent after the kill, however long the machine took to run
        # anything; and each thread, answered, would send a write next unless it sees that ansible-playbook is gone.
        try:
            deadline = time.time() + 60
            while MOMENTS[moment] and time.time() < deadline and not any(immutability_patches(emulator.journal()).values()):
                time.sleep(0.02)
            emulator.hold(True, 'GET', VAULT_PATH)
            while time.time() < deadline and emulator.held() < APPLY_THREADS:
                time.sleep(0.02)
            killed['held'] = emulator.held()
        finally:
            controller.kill()
            controller.wait()   # reaped, as the shell or the CI runner reaps a killed ansible-playbook
            killed['mark'] = len(emulator.journal())
            emulator.hold(False)

    watcher = threading.Thread(target=kill_while_every_thread_waits)
    watcher.start()
    applier = PlanApplier(new_session(), BASELINE, REQUIREMENTS, True, max_concurrency=2, processes=processes,
                          session_factory=new_session, controller=controller.pid)
    try:
        done = applier.apply(drift)
    finally:
        watcher.join()
        emulator.hold(False)
    # apply() returns once its threads have ended and its worker processes have been reaped: nothing of it is left to send.
    assert killed['held'] == APPLY_THREADS, killed
    journal = emulator.journal()
    late = [entry for entry in journal[killed['mark']:] if is_write(entry)]
    assert late == [], ['%s %s' % (entry['method'], entry['path']) for entry in late]
    first = immutability_patches(journal)
    assert sum(states.count('Locked') for states in first.values()) < 6, first
    results = [result for rows in done['results'].values() for result in rows]
    stopped = [result for result in results if 'the run was stopped' in (result.get('msg') or '')]
    assert stopped and all(result['failed'] for result in stopped), results

    # The next run reads ARM, plans what is left and finishes: across both runs each vault got Unlocked once and Locked once.
    emulator.latency(0)
    again = plan()
    left = [entry for entry in again if entry.get('changes')]
    assert 0 < len(left) <= 6
    done = PlanApplier(new_session(), BASELINE, REQUIREMENTS, True, max_concurrency=4).apply(again)
    assert not [r for rows in done['results'].values() for r in rows if r['failed']], done['results']
    both = immutability_patches(emulator.journal())
    assert sorted(both) == sorted('rsv-%d-%d' % (i, n) for i in range(2) for n in range(3)), both
    assert all(states == ['Unlocked', 'Locked'] for states in both.values()), both
    assert [entry for entry in plan() if entry.get('changes')] == []


def vault_state(emulator, name):
    """(soft delete state, immutability state) of a vault of fleet() as the emulator holds it."""
    sub = SUBS[int(name.split('-')[1])]
    body = emulator.resource('/subscriptions/%s/resourceGroups/rg-%s/providers/Microsoft.RecoveryServices/vaults/%s'
                             % (sub, name.split('-')[1], name))
    settings = body['properties'].get('securitySettings') or {}
    return (settings.get('softDeleteSettings') or {}).get('softDeleteState'), (settings.get('immutabilitySettings') or {}).get('state')


def process_state(pid):
    """The state letter of process ``pid`` (/proc/<pid>/stat: T when stopped)."""
    with open('/proc/%d/stat' % pid, encoding='ascii') as stream:
        return stream.read().rsplit(')', 1)[1].split()[0]


def group_members(pgid):
    """The live processes of process group ``pgid`` (zombies left out: they send nothing more)."""
    members = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry, encoding='ascii', errors='replace') as stream:
                fields = stream.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != 'Z':
            members.append(int(entry))
    return members


def settled_or_gone(journal, pgid, controller):
    """Whether the apply can send nothing more: every vault its journal says started has settled, or no process of the
    run is left but the (stopped) controller."""
    lines = [json.loads(text) for text in journal.read_text(encoding='utf-8').splitlines() if text.strip()]
    started = {line['name'] for line in lines if line.get('event') == 'started'}
    settled = {line['name'] for line in lines if line.get('event') == 'settled'}
    return started <= settled or set(group_members(pgid)) <= {controller}


def test_ctrl_c_during_the_apply_leaves_a_journal_of_what_it_did(runner, emulator, tmp_path):
    """ansible-playbook, its harden_apply forking two worker processes, gets SIGINT as Ctrl-C sends it (to its process
    group) once the first vault is settled: no write after it, and apply-journal.jsonl in the report directory lists every
    vault a write was sent to, each settled one with the changes the emulator holds."""
    emulator.load_fleet(fleet())
    emulator.clear_journal()
    emulator.latency(SLOW_MS)
    reports = tmp_path / 'reports'
    journal = reports / 'apply-journal.jsonl'
    baseline = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14}}
    planning = {'baseline': baseline, 'report_dir': str(reports), 'discovery': 'arm', 'subscription_ids': list(SUBS),
                'vault_types': ['recovery_services']}
    play = [{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': [
        {'name': 'plan', 'register': 'planned', 'vaultlock.azure.harden_plan': planning},
        {'name': 'apply', 'vaultlock.azure.harden_apply': {'plan': '{{ planned.plan }}', 'max_processes': 2, 'max_concurrency': 2}},
        {'name': 'report', 'vaultlock.azure.harden_report': {'plan': '{{ planned.plan }}'}},
    ]}]
    path = tmp_path / 'interrupted.yml'
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    proc = subprocess.Popen([sys.executable, '-c', FOREGROUND, os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
                             '-i', 'localhost,', str(path)],
                            env=runner.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if journal.exists() and '"event":"settled"' in journal.read_text(encoding='utf-8'):
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        # Every read of a vault from here on waits unanswered (the read a step makes right before its write); once each of the
        # apply's threads waits for one, none of them is between deciding to send and sending: a write the emulator
        # journals after the signal was sent after it.
        emulator.hold(True, 'GET', VAULT_PATH)
        while time.time() < deadline and proc.poll() is None and emulator.held() < APPLY_THREADS:
            time.sleep(0.02)
        assert emulator.held() == APPLY_THREADS, proc.poll()
        emulator.latency(0)
        # ansible-playbook not yet scheduled when the Ctrl-C comes (a loaded machine): stopped, it runs no signal handler until
        # it is continued, and ansible-core 2.19 sends the stop on to the task process only from that handler.
        os.kill(proc.pid, signal.SIGSTOP)
        while time.time() < deadline and process_state(proc.pid) != 'T':
            # Stopped, not only sent SIGSTOP: a process that has both pending takes SIGINT first (the lower number) and
            # runs its C-level handler, which leaves nothing pending for anyone to see until its Python handler has run.
            time.sleep(0.01)
        assert process_state(proc.pid) == 'T'
        os.killpg(proc.pid, signal.SIGINT)   # Ctrl-C: the terminal signals the foreground process group
        signalled = time.time()
        # The answers go back at once: each thread would send its next request (a write, for most) right after the signal.
        emulator.hold(False)
        # What the apply's threads would send, they send before this ends: each vault in flight settles (2.19: the apply
        # ends on its own while ansible-playbook is stopped) or the run's processes end (2.17 and 2.18: the signal ends
        # them). Before, a fixed second.
        while time.time() < deadline and not settled_or_gone(journal, proc.pid, proc.pid):
            time.sleep(0.02)
        assert settled_or_gone(journal, proc.pid, proc.pid), 'the apply neither settled its vaults nor ended'
        os.kill(proc.pid, signal.SIGCONT)
        out = proc.communicate(timeout=60)[0]
    finally:
        emulator.hold(False)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
            proc.wait()
    # A process of the run still applying could still send: wait until none is left (before, a fixed second).
    while time.time() < deadline and group_members(proc.pid):
        time.sleep(0.02)
    assert group_members(proc.pid) == [], 'processes of the run left: %s' % group_members(proc.pid)
    assert proc.returncode != 0 and 'Traceback' not in out, out[-3000:]
    writes = [entry for entry in emulator.journal() if is_write(entry)]
    late = [entry for entry in writes if entry['time'] > signalled]
    assert late == [], ['%.3f s after: %s %s' % (entry['time'] - signalled, entry['method'], entry['path']) for entry in late]
    written = {entry['path'].split('?')[0].split('/vaults/')[1].split('/')[0] for entry in writes}
    # No report (harden_report never ran), the journal with its header and no end; the run's claim of the directory stays (its
    # ansible-playbook is gone: the next plan takes it over, its journal's warning saying what the apply did).
    assert sorted(os.listdir(reports)) == ['apply-journal.jsonl', 'run-claim.json']
    lines = [json.loads(text) for text in journal.read_text(encoding='utf-8').splitlines()]
    assert lines[0]['journal'] == 'vaultlock.azure harden_apply' and lines[0]['vaults'] == 6
    # ansible-core 2.19: the apply saw the stop while ansible-playbook was stopped and ended on its own (every vault in flight
    # settled, none started after), so its journal may end; 2.17 and 2.18 end its process first.
    assert [line for line in lines if line.get('event') == 'ended'] in ([], [lines[-1]]), lines
    started = {line['name'] for line in lines if line.get('event') == 'started'}
    settled = {line['name']: line for line in lines if line.get('event') == 'settled'}
    # Every vault a write was sent to is in the journal; not every vault was reached.
    assert settled and written <= started and started <= {'rsv-%d-%d' % (i, n) for i in range(2) for n in range(3)}, (written, started)
    assert len(settled) < 6, lines
    for name, line in settled.items():
        # A vault in flight at the stop sends no further write and settles failed, with the changes it made (its outcome
        # says changed when it made some); a vault that ended before it has both.
        after = {change['setting']: change['after'] for change in line['changes']}
        done = (after.get('soft_delete'), after.get('immutability'))
        assert line['outcome'] in ('changed', 'failed') and (line['failed'] or done == ('on', 'enabled')), line
        assert vault_state(emulator, name) == ('Enabled' if after.get('soft_delete') == 'on' else 'Disabled',
                                               'Unlocked' if after.get('immutability') == 'enabled' else 'Disabled'), (name, line)
    for name in {'rsv-%d-%d' % (i, n) for i in range(2) for n in range(3)} - started:
        assert vault_state(emulator, name) == ('Disabled', 'Disabled'), name
