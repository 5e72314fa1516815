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
(cross subscription restore, public network access, alerts: one step each), then immutability (_state_retention,
_state_soft_delete, _state_security and _state_immutability, each of which re-reads what it changes from ARM, refuses
what it must refuse, never re-sends a write whose outcome is unknown without reading again, and says truthfully what
changed). What only a fleet run has to decide is decided here, right before the irreversible write:

* a vault whose earlier step failed in this run is never locked;
* a lock is judged again on what ARM says now: the vault, its backup policies and its protected items are re-read, the
  vault's drift is planned again against its tier of the baseline, and the lock requirements are checked again
  (_targets.gate_locks, the same code the plan used). A vault that no longer meets them is not locked; the reversible
  step (enabled) still happens, and the reports say why the planned lock did not;
* consent: an irreversible step needs ``allow_irreversible`` written in this task (the action plugin decides that),
  besides the baseline's own.

Nothing here imports an Azure SDK: the session does, lazily, when it first needs one.
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.vaultlock.azure.plugins.module_utils import _state_immutability, _state_retention, _state_security, _state_soft_delete
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._fleet import attach_policies, interleaved
from ansible_collections.vaultlock.azure.plugins.module_utils._items import attach_items
from ansible_collections.vaultlock.azure.plugins.module_utils._module import failure
from ansible_collections.vaultlock.azure.plugins.module_utils._readiness import validate_requirements
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import applied
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import check_baseline, gate_locks
from ansible_collections.vaultlock.azure.plugins.module_utils._tiers import drift_entries
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend

# Each vault's steps, in the registry's order (Rule.apply_rank): its task (the results' key) and its action (the plan's).
# Retention, soft delete and immutability have state code of their own; every other rule that changes vaults is a vault
# security setting (_state_security), set through the vault_security_settings option it names (Rule.option).
STEPS = tuple((rule.task, rule.action) for rule in applied())
ACTIONS = tuple(task for task, _action in STEPS)
SECURITY_OPTIONS = dict((rule.action, rule.option) for rule in applied() if rule.task not in ('retention', 'soft_delete', 'immutability'))
SECURITY_ACTIONS = tuple(SECURITY_OPTIONS)

# The keys of a state module result worth keeping for the reports (the vault record and the diff are not).
_RESULT_KEYS = ('changed', 'failed', 'msg', 'changes', 'error', 'api', 'violations', 'note', 'outcome')


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
    ``consent``: allow_irreversible as written in the apply task; ``today``: the day readiness counts from."""

    def __init__(self, session, baseline, lock_requirements, consent, check_mode=False, max_concurrency=16, today=None,
                 diff_mode=False):
        self.session = session
        self.baseline = check_baseline(baseline)
        self.requirements = validate_requirements(lock_requirements, 'harden_backup_vaults_lock_requirements')
        self.consent = bool(consent)
        self.check_mode = bool(check_mode)
        self.max_concurrency = max(1, int(max_concurrency))
        self.today = today
        self.diff_mode = bool(diff_mode)

    def apply(self, entries):
        """Apply every entry with changes; returns {results: {action: [result]}, gates: {vault id: gate}, warnings, diffs}
        (``diffs``: the state modules' own diffs of each step that changed, with diff_mode)."""
        todo = [entry for entry in entries if entry.get('changes')]
        results = {action: [] for action in ACTIONS}
        gates = {}
        warnings = []
        diffs = []
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, max(1, len(todo)))) as pool:
            for outcome in pool.map(self.apply_vault, interleaved(todo)):
                for action, result in outcome['results']:
                    results[action].append(result)
                if outcome['gate']:
                    gates[str(outcome['id']).lower()] = outcome['gate']
                warnings.extend(outcome['warnings'])
                diffs.extend(outcome['diffs'])
        return {'results': results, 'gates': gates, 'warnings': warnings, 'diffs': diffs}

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
        failed = False
        if actions.get('raise_policies'):
            result = self._step(session, entry, 'retention', _state_retention.run, retention_params(entry, self.consent), outcome)
            failed = failed or result['failed']
        if actions.get('soft_delete'):
            result = self._step(session, entry, 'soft_delete', _state_soft_delete.run, soft_delete_params(entry, self.consent),
                                outcome)
            failed = failed or result['failed']
        for action in SECURITY_ACTIONS:
            if actions.get(action):
                result = self._step(session, entry, action, _state_security.run, security_params(entry, action, self.consent), outcome)
                failed = failed or result['failed']
        target = actions.get('immutability')
        if not target:
            return outcome
        gate = None
        if target == 'locked':
            target, gate = self.lock_gate(session, entry, failed)
        if gate:
            outcome['gate'] = gate
        if target:
            result = self._step(session, entry, 'immutability', _state_immutability.run,
                                immutability_params(entry, target, self.consent), outcome)
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

    def lock_gate(self, session, entry, earlier_failed):
        """(the immutability target to apply now, the gate or None): ``locked`` only when the vault may be locked now."""
        label = entry.get('name') or entry['id']
        if earlier_failed:
            return 'enabled', {'reason': 'planned lock not made: an earlier change of this vault failed in this run, so it was '
                                         'not locked (the reversible step to enabled was applied)', 'lock_readiness': None}
        if not self.consent:
            return 'enabled', {'reason': 'planned lock not made: the apply task does not consent (allow_irreversible is not true '
                                         'in the task itself)', 'lock_readiness': None, 'failed': True}
        if self.check_mode:
            # Check mode sends no write and predicts what the plan decided (the plan judged readiness on the same reads).
            return 'locked', None
        try:
            fresh = self._fresh_entry(session, entry)
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
