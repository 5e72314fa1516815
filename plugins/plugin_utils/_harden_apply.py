# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Apply a harden_backup_vaults plan on the controller: every vault's changes in one process, many vaults at once.

Why here and not one module task per vault: a module task is a process, an SDK import, a token and one vault, one after
another (0.9 s a write). ARM's own limits are per subscription and principal (writes: a bucket of 200 refilled at 10 a
second; reads: 250 at 25 a second, long-running operation polls included), so the fleet goes as fast as those buckets
allow: one Azure session (one token, one connection pool, one pacer that mirrors ARM's buckets per subscription) and a
bounded pool of workers, the vaults of every subscription taking turns.

Per vault, the state modules' own code runs, in their order: retention raises, soft delete, the vault security settings
(cross subscription restore, public network access, alerts: one step each), then immutability (_state/: retention,
soft_delete, security and immutability, each of which re-reads what it changes from ARM, refuses
what it must refuse, never re-sends a write whose outcome is unknown without reading again, and says truthfully what
changed). What only a fleet run has to decide is decided here, right before the irreversible write:

* a vault whose earlier step failed in this run is never locked;
* a lock is judged again on what ARM says now: the vault, its backup policies and its protected items are re-read, the
  vault's drift is planned again against its tier of the baseline, and the lock requirements are checked again
  (_targets.gate_locks, the same code the plan used). A vault that no longer meets them is not locked; the reversible
  step (enabled) still happens, and the reports say why the planned lock did not;
* consent: an irreversible step needs ``allow_irreversible`` written in this task (the action plugin decides that),
  besides the baseline's own;
* a vault whose fresh read does not say provisioningState Succeeded (an operation on it still running in Azure, another
  task's or another tool's: _vaults.SETTLED_STATE) gets no write: the step that read it says so, and no later step of
  that vault is sent (the planned lock is reported not made, with the reason). Check mode predicts the same.

Many processes: one interpreter sends a few hundred requests a second at most (every request costs it milliseconds of
Python in azure-core, requests and the SDK models), well under what ARM's buckets allow a fleet of subscriptions. With
``processes`` above 1 the subscriptions are split between that many worker processes (forked from this one, each with a
session of its own: its own token, connections and pacer). ARM's buckets are per subscription and principal, and every
subscription belongs to exactly one process, so each pacer still sees every request of its subscriptions. A process
reports each vault as it finishes; a vault it did not report (the process died) is an error whose outcome is unknown,
never "unchanged". A process whose parent is gone starts no further vault.

The run that stopped: ansible-playbook forwards SIGINT and SIGTERM to the task process, whose handler (ansible-core's)
sends them on to its process group (the task process and every worker process end with it). No write leaves after the
signal was sent (_azure/stop.py): while the apply runs the signals are blocked, so they stay pending where every thread
sees them, the transport refuses writes from then on, and the waiting main thread halts the apply and lets the signal
through to that handler (watch_stop). A SIGKILL of
ansible-playbook (a CI runner's last resort) leaves the task process and its workers running, unobserved: they went on
starting vaults and locking them. With ``controller`` (the pid of ansible-playbook, the task process's parent), every
process checks before each vault and before each step that it is still there; once it is gone no further vault starts
and no further step of a started vault is sent (a request already on its way is not called back, and the long-running
operation it started is still followed by reads).

Nothing here imports an Azure SDK: the session does, lazily, when it first needs one.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from ansible_collections.vaultlock.azure.plugins.module_utils._state import immutability as _state_immutability
from ansible_collections.vaultlock.azure.plugins.module_utils._state import retention as _state_retention
from ansible_collections.vaultlock.azure.plugins.module_utils._state import security as _state_security
from ansible_collections.vaultlock.azure.plugins.module_utils._state import soft_delete as _state_soft_delete
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.stop import STOP, STOP_POLL_S
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import PartialChangeError, VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import attach_policies, interleaved
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.items import attach_items
from ansible_collections.vaultlock.azure.plugins.module_utils._module import failure
from ansible_collections.vaultlock.azure.plugins.module_utils._readiness import validate_requirements
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import applied
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import check_baseline, gate_locks
from ansible_collections.vaultlock.azure.plugins.module_utils._tiers import drift_entries
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultBusyError, VaultRef, backend
from ansible_collections.vaultlock.azure.plugins.plugin_utils._preload import DATA_PROTECTION, RECOVERY_SERVICES, RECOVERY_SERVICES_BACKUP, preload

# Each vault's steps, in the registry's order (Rule.apply_rank): its task (the results' key) and its action (the plan's).
# Retention, soft delete and immutability have state code of their own; every other rule that changes vaults is a vault
# security setting (_state/security.py), set through the vault_security_settings option it names (Rule.option).
STEPS = tuple((rule.task, rule.action) for rule in applied())
ACTIONS = tuple(task for task, _action in STEPS)
SECURITY_OPTIONS = dict((rule.action, rule.option) for rule in applied() if rule.task not in ('retention', 'soft_delete', 'immutability'))
SECURITY_ACTIONS = tuple(SECURITY_OPTIONS)

# The keys of a state module result worth keeping for the reports (the vault record and the diff are not).
_RESULT_KEYS = ('changed', 'failed', 'msg', 'changes', 'error', 'api', 'violations', 'note', 'outcome')

# Most worker processes an apply forks (harden_apply's max_processes caps it lower).
MAX_PROCESSES = 8


class StepContext:
    """What a state module's run() needs of its module (params, session, check and diff mode, warnings), on the
    controller: the same run() functions serve the module tasks and this apply."""

    def __init__(self, params, session, check_mode, diff_mode=False):
        self.params = params
        self.session = session
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


class VaultSession:
    """The shared AzureSession as one vault's steps see it: every call goes to the session, except that a step's first read
    of the vault may take the read that ended the step before it.

    That read was made by this worker after the earlier step's last write (its confirming re-read, or the lock gate's
    fresh read), a few milliseconds before: reading the vault again would cost one of ARM's read tokens per step and tell
    nothing newer. Only a step that ended without an error hands its last read on; a read is handed on once; every other
    read (policies, items, the re-reads that settle an unknown outcome) goes to ARM.

    In the same way, a step's confirming re-read after a long-running PATCH takes the GET of the vault the SDK made
    when the operation succeeded (AzureSession.take_sdk_read), if that was this worker's last answer: Azure's own
    clients read the resource at that point, so the step's re-read would be a second identical GET.
    """

    def __init__(self, session, vault_path):
        self._session = session
        self._path = vault_path.lower()
        self._last = None
        self._handed = None
        self.unfinished = None   # a write of this vault whose operation had not ended within wait_timeout (note_unfinished)
        self.busy = None         # the VaultBusyError a step met: the vault did not read Succeeded, nothing more is sent to it

    def note_unfinished(self, exc):
        """A step's write was settled by a read while its long-running operation had not ended (_Backend.reconcile)."""
        self.unfinished = exc

    def __getattr__(self, name):
        return getattr(self._session, name)

    def arm_get(self, path, api_version, operation, resource=None):
        if path.lower() == self._path and self._handed is not None and self._handed[0] == api_version:
            body, self._handed = self._handed[1], None
            self._last = (api_version, body)
            return copy.deepcopy(body)
        # A write that ended with the SDK reading the vault (a long-running PATCH's final GET, after the operation
        # succeeded): that read is the fresh one this step asks for. Taken once; any other read forgets it.
        take = getattr(self._session, 'take_sdk_read', None)
        body = take(path if path.lower() == self._path else None, api_version) if take is not None else None
        if body is not None:
            self._last = (api_version, copy.deepcopy(body))
            return body
        body = self._session.arm_get(path, api_version, operation, resource)
        if path.lower() == self._path:
            self._last = (api_version, copy.deepcopy(body))
        return body

    def step_done(self, succeeded):
        """The step ended: hand its last read of the vault to the next step if it succeeded, else nothing."""
        self._handed = self._last if succeeded else None
        self._last = None
        if hasattr(self._session, 'take_sdk_read'):
            self._session.take_sdk_read()


def _ref_params(entry):
    return {'id': entry['id'], 'name': None, 'resource_group': None, 'vault_type': entry.get('vault_type'),
            'subscription_id': None}


def retention_params(entry, consent):
    return dict(_ref_params(entry), policies=list(entry['actions']['raise_policies']), minimum=entry.get('retention_minimum'),
                mode='enforce', fail_on_violation=False, compare_to=None, policy=None, allow_irreversible=consent)


def soft_delete_params(entry, consent):
    target = entry['actions']['soft_delete']
    return dict(_ref_params(entry), soft_delete=target.get('state'), retention_days=target.get('retention_days'),
                allow_irreversible=consent)


def security_params(entry, action, consent):
    """vault_security_settings' arguments for one security setting of the plan (the others are left alone)."""
    params = dict(_ref_params(entry), allow_irreversible=consent, **dict.fromkeys(SECURITY_OPTIONS.values()))
    params[SECURITY_OPTIONS[action]] = entry['actions'][action]
    return params


def immutability_params(entry, target, consent):
    return dict(_ref_params(entry), immutability=target, immutability_retention_days=None, allow_irreversible=consent)


class PlanApplier:
    """Applies the vaults with actions of one plan. ``session``: the AzureSession (shared by every worker);
    ``baseline`` and ``lock_requirements``: the plan's inputs as the harden_plan task took them (checked again here);
    ``consent``: allow_irreversible as written in the apply task; ``today``: the day readiness counts from.
    ``processes``: how many worker processes may share the subscriptions (1: every vault in this process);
    ``session_factory``: builds each worker process's own session (without it, everything runs in this process);
    ``controller``: the pid of the process (ansible-playbook) whose end stops the apply (no further vault or step);
    ``journal``: the _apply_journal.ApplyJournal each vault is written to as it starts and as it is settled (by the process
    that applied it, so a stop loses no settled vault)."""

    def __init__(self, session, baseline, lock_requirements, consent, check_mode=False, max_concurrency=16, today=None,
                 diff_mode=False, processes=1, session_factory=None, controller=None, journal=None):
        self.session = session
        self.journal = journal
        self.controller = controller
        self.processes = max(1, min(MAX_PROCESSES, int(processes or 1)))
        self.session_factory = session_factory
        self.baseline = check_baseline(baseline)
        self.requirements = validate_requirements(lock_requirements, 'harden_backup_vaults_lock_requirements')
        self.consent = bool(consent)
        self.check_mode = bool(check_mode)
        self.max_concurrency = max(1, int(max_concurrency))
        self.today = today
        self.diff_mode = bool(diff_mode)

    def apply(self, entries):
        """Apply every entry with changes; returns {results: {action: [result]}, gates: {vault id: gate}, warnings, diffs,
        pacing, processes} (``diffs``: the state modules' own diffs of each step that changed, with diff_mode; ``pacing``:
        what ARM's limits cost, every process's added up; ``processes``: how many processes applied vaults)."""
        todo = interleaved([entry for entry in entries if entry.get('changes')])
        groups = self.split(todo)
        # From here on a Ctrl-C or SIGTERM is seen the moment it is sent, by every thread and worker process (stop.STOP):
        # no write leaves after it.
        previous = STOP.arm(self.controller)
        try:
            if len(groups) > 1:
                outcomes, pacing = self._in_processes(todo, groups)
            else:
                outcomes = self._in_threads(self.session, todo, self.max_concurrency)
                pacing = self.session.pacer.summary()
        finally:
            STOP.disarm(previous)
        results = {action: [] for action in ACTIONS}
        gates = {}
        warnings = []
        diffs = []
        for outcome in outcomes:
            for action, result in outcome['results']:
                results[action].append(result)
            if outcome['gate']:
                gates[str(outcome['id']).lower()] = outcome['gate']
            warnings.extend(outcome['warnings'])
            diffs.extend(outcome['diffs'])
        return {'results': results, 'gates': gates, 'warnings': warnings, 'diffs': diffs, 'pacing': pacing,
                'processes': max(1, len(groups))}

    def split(self, todo):
        """The entries as groups for worker processes, whole subscriptions each, the largest first onto the least loaded
        (each group in turn order); one group when this apply runs in one process."""
        by_sub = {}
        for entry in todo:
            by_sub.setdefault(str(entry.get('subscription_id')).lower(), []).append(entry)
        count = min(self.processes, len(by_sub))
        if count < 2 or self.session_factory is None or not hasattr(os, 'fork'):
            return [todo] if todo else []
        groups = [[] for _index in range(count)]
        for _sub, members in sorted(by_sub.items(), key=lambda pair: (-len(pair[1]), pair[0])):
            smallest = min(range(count), key=lambda index: len(groups[index]))
            groups[smallest].extend(members)
        return [interleaved(group) for group in groups]

    def _in_threads(self, session, todo, threads, each=None):
        """Every entry of ``todo`` applied by ``threads`` threads through ``session``; the outcomes in ``todo``'s order.
        ``each(index, outcome)`` is called as each vault ends (on its thread), when given."""
        applier = self
        if session is not self.session:
            applier = copy.copy(self)
            applier.session = session

        def one(index):
            entry = todo[index]
            if entry is None:   # a worker process whose parent is gone starts no further vault
                return None
            if applier.stopped():
                # Reported like any other vault: a worker process's parent would otherwise take it for one whose outcome is
                # unknown (a write may have been sent) and count it changed.
                outcome = applier.not_sent(entry, None, {'id': entry['id'], 'results': [], 'gate': None, 'warnings': [], 'diffs': []})
            else:
                if applier.journal is not None:
                    applier.journal.started(entry)
                outcome = applier.apply_vault(entry)
                if applier.journal is not None:
                    applier.journal.settled(entry, outcome['results'])
            if each is not None:
                each(index, outcome)
            return outcome

        pool = ThreadPoolExecutor(max_workers=min(max(1, threads), max(1, len(todo))))
        try:
            futures = [pool.submit(one, index) for index in range(len(todo))]
            while True:
                done, waiting = wait(futures, STOP_POLL_S, FIRST_EXCEPTION)
                if not waiting or any(future.exception() is not None for future in done):
                    break
                applier.watch_stop()
            return [future.result() for future in futures]
        except BaseException:
            # A Ctrl-C that reached this process's main thread as KeyboardInterrupt (ansible-core 2.17 and 2.18 leave
            # SIGINT to it; 2.19 ends the process group): the threads finish what is in flight, but start no further vault
            # or step (stopped) and send no further write (the pacer and the transport refuse it before it leaves).
            applier.halt()
            raise
        finally:
            pool.shutdown(wait=True)

    @staticmethod
    def halt():
        """No further vault, step or write in this process (stop.STOP: the pacer and the transport refuse every write)."""
        STOP.halt()

    def watch_stop(self):
        """In the waiting main thread: once a stop signal is pending (or reached ansible-playbook), halt, then let the
        signal's handler run (ansible-core's: the process group ends, or KeyboardInterrupt is raised here)."""
        if STOP.signalled():
            self.halt()
            STOP.deliver()

    def _in_processes(self, todo, groups):
        """Fork a worker process per group; (outcomes in ``todo``'s order, pacing added up)."""
        position = {id(entry): index for index, entry in enumerate(todo)}
        threads = max(1, self.max_concurrency // len(groups))
        # Imported once here rather than in every worker process (_preload): what the steps write with.
        preload(RECOVERY_SERVICES, RECOVERY_SERVICES_BACKUP, DATA_PROTECTION)
        parent = os.getpid()
        children = []
        for group in groups:
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:   # the worker process: never returns
                os.close(read_end)
                for _pid, other_end, _group, _lines in children:
                    os.close(other_end)
                self._worker(group, [position[id(entry)] for entry in group], write_end, parent, threads)
            os.close(write_end)
            children.append((pid, read_end, group, []))
        readers = [threading.Thread(target=_read_lines, args=(read_end, lines)) for _pid, read_end, _group, lines in children]
        for reader in readers:
            reader.start()
        outcomes = [None] * len(todo)
        pacing = {'requests': 0, 'waited_s': 0.0, 'throttled': 0}
        for (pid, _read_end, group, lines), reader in zip(children, readers):
            while reader.is_alive():
                reader.join(STOP_POLL_S)
                self.watch_stop()
            _pid, status = os.waitpid(pid, 0)
            ended = None
            last_words = None
            for line in lines:
                if 'pacing' in line:
                    ended = line
                elif 'index' in line:
                    outcomes[line['index']] = line['outcome']
                elif 'crashed' in line:
                    last_words = line['crashed']
            if ended:
                pacing['requests'] += ended['pacing'].get('requests') or 0
                pacing['throttled'] += ended['pacing'].get('throttled') or 0
                # Wall time some request waited: the processes waited side by side, so the longest of them.
                pacing['waited_s'] = max(pacing['waited_s'], ended['pacing'].get('waited_s') or 0.0)
            why = _ended_early(status, ended, last_words)
            for entry in group:
                index = position[id(entry)]
                if outcomes[index] is None:
                    outcomes[index] = self._unknown(entry, why)
                    if self.journal is not None:
                        self.journal.settled(entry, outcomes[index]['results'])
        return outcomes, pacing

    def _worker(self, group, indices, write_end, parent, threads):
        """In a forked worker process: apply ``group`` with a session of its own, one JSON line per vault as it ends, then
        the pacing; exit without returning (no handler of the parent's runs here)."""
        code = 1
        try:
            out = os.fdopen(write_end, 'w', encoding='utf-8')
            lock = threading.Lock()
            session = self.session_factory()

            def each(index, outcome):
                line = json.dumps({'index': indices[index], 'outcome': outcome}, separators=(',', ':'))
                with lock:
                    out.write(line + '\n')
                    out.flush()

            live = _WhileParent(group, parent)
            self._in_threads(session, live, threads, each)
            out.write(json.dumps({'pacing': session.pacer.summary()}) + '\n')
            out.flush()
            code = 0
        except BaseException as exc:  # pylint: disable=broad-except
            # Whatever went wrong, the parent reports every vault not reported here as unknown; say why on the way out.
            try:
                os.write(write_end, (json.dumps({'crashed': '%s: %s' % (type(exc).__name__, exc)}) + '\n').encode('utf-8'))
            except Exception:  # pylint: disable=broad-except
                code = 2
        finally:
            os._exit(code)  # pylint: disable=protected-access

    def _unknown(self, entry, why):
        """The result of a vault its worker process did not report: an error whose outcome is unknown (a write may have
        been sent), never "unchanged"."""
        actions = entry.get('actions') or {}
        first = next((task for task, action in STEPS if actions.get(action)), 'immutability')
        raw = {'changed': True, 'failed': True, 'outcome': 'unknown', 'changes': [],
               'msg': '%s before it reported this vault, so whether it changed is unknown: run the check again to see its state'
                      % why}
        return {'id': entry['id'], 'results': [(first, self._result(entry, raw))], 'gate': None, 'warnings': [], 'diffs': []}

    def stopped(self):
        """True once the run was stopped (a Ctrl-C reached this process) or the controller process (ansible-playbook) is
        gone: nothing more is sent. ``apply`` arms stop.STOP with the controller, which sees both (its worker processes
        inherit it)."""
        return STOP.requested()

    def not_sent(self, entry, task, outcome):
        """``outcome`` with the result of the step ``task`` (None: the vault's first) that was not sent because the run was
        stopped; the vault's later steps are not sent either."""
        actions = entry.get('actions') or {}
        task = task or next((name for name, action in STEPS if actions.get(action)), 'immutability')
        raw = {'changed': False, 'failed': True, 'changes': [], 'outcome': 'not_sent',
               'msg': 'not sent: the run was stopped (Ctrl-C, a signal, or ansible-playbook is gone) before this change, so it and the later changes '
                      'of this vault were not made; run again to plan from what Azure holds now'}
        outcome['results'].append((task, self._result(entry, raw)))
        return outcome

    def apply_vault(self, entry):
        """One vault's steps in order; never raises for the vault's own failures (they are its results)."""
        actions = entry.get('actions') or {}
        outcome = {'id': entry['id'], 'results': [], 'gate': None, 'warnings': [], 'diffs': []}
        try:
            ref = VaultRef.parse_id(entry['id'], entry.get('vault_type'))
        except VaultlockError as exc:
            first = next((task for task, action in STEPS if actions.get(action)), 'immutability')
            outcome['results'].append((first, self._result(entry, dict(failure(exc)[1], failed=True, msg=failure(exc)[0]))))
            return outcome
        session = VaultSession(self.session, backend(self.session, ref.vault_type).vault_path(ref))
        session.run_stopped = self.stopped
        failed = False
        for task, run, params in self._steps_before_immutability(entry, actions):
            if self.stopped():
                return self.not_sent(entry, task, outcome)
            failed = self._step(session, entry, task, run, params, outcome)['failed'] or failed
            if session.busy is not None:
                return self.busy_stop(entry, task, outcome, session.busy)
        target = actions.get('immutability')
        if not target:
            return outcome
        if self.stopped():
            return self.not_sent(entry, 'immutability', outcome)
        gate = None
        if target == 'locked':
            target, gate = self.lock_gate(session, entry, failed)
        if gate:
            outcome['gate'] = gate
        if session.busy is not None:
            return self.busy_stop(entry, None, outcome, session.busy)
        if target:
            result = self._step(session, entry, 'immutability', _state_immutability.run,
                                immutability_params(entry, target, self.consent), outcome)
            if session.busy is not None and actions.get('immutability') == 'locked' and not gate:
                # Check mode, or a busy vault met by the step itself: the planned lock is reported not made, as the gate does.
                outcome['gate'] = self.busy_gate(session.busy)
            if gate and gate.get('failed'):
                # The planned lock was refused here (no consent in this task): an error of the vault, after the reversible step.
                result['msg'] = '%s%s' % (gate['reason'], ('; ' + result['msg']) if result.get('msg') else '')
                result['failed'] = True
            elif gate and not result['failed']:
                result['note'] = gate['reason']
        elif gate:
            skipped = {'changed': False, 'failed': bool(gate.get('failed')), 'changes': [], 'msg': gate['reason'], 'note': gate['reason']}
            outcome['results'].append(('immutability', self._result(entry, skipped)))
        return outcome

    @staticmethod
    def busy_gate(busy):
        """The gate of a planned lock not made because the vault did not read settled."""
        return {'reason': 'planned lock not made: %s' % busy, 'lock_readiness': None, 'failed': True}

    def busy_stop(self, entry, task, outcome, busy):
        """``outcome`` once a fresh read found the vault not settled (``busy``, a VaultBusyError) at the step ``task`` (None:
        the lock gate's read): every later planned step gets a result saying it was not sent and why, and a planned lock
        is reported not made."""
        actions = entry.get('actions') or {}
        tasks = [name for name, action in STEPS if actions.get(action)]
        later = tasks[tasks.index(task) + 1:] if task in tasks else [name for name in tasks if name == 'immutability']
        for name in later:
            # task None: the lock gate's read found it, as the immutability step's own read would have (check mode).
            raw = {'changed': False, 'failed': True, 'changes': [], 'outcome': 'not_sent',
                   'msg': str(busy) if task is None else 'not sent: the %s step found that %s' % (task.replace('_', ' '), busy)}
            outcome['results'].append((name, self._result(entry, raw)))
        if actions.get('immutability') == 'locked':
            outcome['gate'] = self.busy_gate(busy)
        return outcome

    def lock_gate(self, session, entry, earlier_failed):
        """(the immutability target to apply now, the gate or None): ``locked`` only when the vault may be locked now."""
        label = entry.get('name') or entry['id']
        if earlier_failed:
            return 'enabled', {'reason': 'planned lock not made: an earlier change of this vault failed in this run, so it was '
                                         'not locked (the reversible step to enabled was applied)', 'lock_readiness': None}
        if getattr(session, 'unfinished', None) is not None:
            # No write of this vault while an earlier one may still be running (or end Failed): not even the reversible one.
            return None, {'reason': 'planned lock not made: the long-running operation of an earlier change of this vault had not '
                                    'ended (%s), so nothing more was sent to it: run again once Azure has finished'
                                    % session.unfinished.describe(), 'lock_readiness': None, 'failed': True}
        if not self.consent:
            return 'enabled', {'reason': 'planned lock not made: the apply task does not consent (allow_irreversible is not true '
                                         'in the task itself)', 'lock_readiness': None, 'failed': True}
        if self.check_mode:
            # Check mode sends no write and predicts what the plan decided (the plan judged readiness on the same reads).
            return 'locked', None
        try:
            fresh = self._fresh_entry(session, entry)
        except VaultBusyError as exc:
            # An operation on the vault has not ended (another task's, another tool's): no write at all, not even enabled.
            session.step_done(False)
            session.busy = exc
            return None, None
        except VaultlockError as exc:
            session.step_done(False)
            msg, _extra = failure(exc)
            return 'enabled', {'reason': 'planned lock not made: %s could not be read again right before the lock (%s)' % (label, msg),
                               'lock_readiness': None}
        # The lock step starts from the vault as the gate just read it.
        session.step_done(True)
        now = (fresh.get('actions') or {}).get('immutability')
        if now == 'locked':
            return 'locked', None
        readiness = fresh.get('lock_readiness')
        if readiness and not readiness.get('ready'):
            why = '; '.join(blocker['message'] for blocker in readiness.get('blockers') or []) or 'not ready'
            reason = 'planned lock not made: at the moment of the lock the vault does not meet its lock requirements: %s' % why
        elif now is None:
            reason = 'planned lock not made: the vault changed since the plan and needs no immutability change now'
        else:
            reason = 'planned lock not made: the vault changed since the plan (a fresh read plans %s)' % now
        return now, {'reason': reason, 'lock_readiness': readiness}

    def _fresh_entry(self, session, entry):
        """The vault's drift entry planned again from ARM: the vault, its policies and its protected items, read now."""
        ref = VaultRef.parse_id(entry['id'], entry.get('vault_type'))
        session.step_done(False)   # the gate reads the vault itself, whatever the steps before it read
        _raw, record = backend(session, ref.vault_type).read_settled(ref)
        records = [record]
        errors = attach_policies(session, records, 1) + attach_items(session, records, 1)
        if errors:
            raise VaultlockError('; '.join('%s: %s' % (error.get('scope'), error.get('message')) for error in errors))
        fresh = drift_entries(records, self.baseline, self.baseline.get('tiers'))
        gate_locks(fresh, records, self.requirements, self.today)
        return fresh[0]

    def _steps_before_immutability(self, entry, actions):
        """``(task, run, params)`` of the vault's steps before immutability, in their order: retention raises, soft delete,
        then the security settings (each one's params made right before it runs)."""
        if actions.get('raise_policies'):
            yield 'retention', _state_retention.run, retention_params(entry, self.consent)
        if actions.get('soft_delete'):
            yield 'soft_delete', _state_soft_delete.run, soft_delete_params(entry, self.consent)
        for action in SECURITY_ACTIONS:
            if actions.get(action):
                yield action, _state_security.run, security_params(entry, action, self.consent)

    def _step(self, session, entry, action, run, params, outcome):
        context = StepContext(params, session, self.check_mode, self.diff_mode)
        try:
            raw = run(context)
            raw = dict(raw, failed=False)
            if raw.get('changed') and raw.get('diff'):
                outcome['diffs'].append(raw['diff'])
        except VaultlockError as exc:
            msg, extra = failure(exc)
            raw = dict(extra, failed=True, msg=msg, changed=bool(extra.get('changed')))
            cause = exc.cause if isinstance(exc, PartialChangeError) else exc
            if isinstance(cause, VaultBusyError):
                session.busy = cause
                if not raw['changed']:
                    raw['outcome'] = 'not_sent'
        outcome['warnings'].extend(context.warnings)
        session.step_done(not raw['failed'])
        result = self._result(entry, raw)
        outcome['results'].append((action, result))
        return result

    @staticmethod
    def _result(entry, raw):
        """A state module result as the reports take it (harden_report: results per action)."""
        result = {key: raw[key] for key in _RESULT_KEYS if key in raw}
        result.setdefault('changed', False)
        result.setdefault('failed', False)
        result['changes'] = list(result.get('changes') or [])
        result['id'] = entry['id']
        result['item'] = {'id': entry['id'], 'name': entry.get('name')}
        return result


class _WhileParent:
    """A worker process's entries, as a sequence whose items are handed out only while the process that forked it lives:
    once it is gone (the run was stopped), no further vault starts (``skipped`` counts those)."""

    def __init__(self, entries, parent):
        self._entries = entries
        self._parent = parent
        self.skipped = 0

    def __len__(self):
        return len(self._entries)

    def __getitem__(self, index):
        if os.getppid() != self._parent:
            self.skipped += 1
            return None
        return self._entries[index]


def _read_lines(read_end, lines):
    """Read a worker process's JSON lines until it closes its end (an unreadable line ends the reading)."""
    with os.fdopen(read_end, 'r', encoding='utf-8') as stream:
        for text in stream:
            try:
                lines.append(json.loads(text))
            except ValueError:
                return


def _ended_early(status, ended, last_words=None):
    """Why a worker process left vaults unreported: its exit status, and its own last words if it said any."""
    code = os.waitstatus_to_exitcode(status)
    if ended is not None and code == 0:
        return 'the worker process applying this subscription stopped early (the run was stopped)'
    how = 'killed by signal %d' % -code if code < 0 else 'exit status %d' % code
    if last_words:
        how = '%s, %s' % (how, last_words)
    return 'the worker process applying this subscription ended unexpectedly (%s)' % how
