# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What vault_immutability does: read the vault, plan the steps (pure), refuse before any write, apply one step at
a time from a fresh read, and say truthfully what changed."""

from __future__ import annotations

import copy

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    InputError,
    BOOLEAN_HINT,
    PartialChangeError,
    UnreadAfterWriteError,
    VaultlockError,
    shown,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._immutability import (
    TransitionError,
    from_api,
    normalise_choice,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._module import VAULT_REF_CONSTRAINTS, state_argument_spec
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import mua
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.immutability import IRREVERSIBLE, immutability_patch, plan_transition
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import (
    VaultBusyError,
    VaultRef,
    backend,
    check_settled,
    patched_policy_fields,
    reread,
    vault_record,
)

MIN_DAYS = 30
MAX_DAYS = 36135
OPERATION = 'update immutability'


def _diff_view(record):
    return {
        'immutability': record['immutability'],
        'immutability_retention_days': record['immutability_retention_days'],
    }


def read_vault(store, ref):
    """The vault before any write: refused unless it reads provisioningState Succeeded (_vaults.SETTLED_STATE)."""
    return store.read_settled(ref)[1]


def read_current(store, ref):
    """The vault after a write, as it now reads (whatever its provisioningState: the read says what the write did)."""
    return store.read_existing(ref)[1]


def _change(setting, before, after, irreversible):
    return {'setting': setting, 'before': before, 'after': after, 'irreversible': bool(irreversible)}


def plan_steps(ref, record, params):
    """[(PATCH body, [changes it makes]), ...] in order. Raises before any write when impossible or not consented.

    Irreversible, and so refused without allow_irreversible: locking; and on a vault that is (or ends) Locked, any
    change of the time-based immutability days (they can never be shortened or removed again).
    """
    desired = normalise_choice(params['immutability'])
    days = params['immutability_retention_days']
    if days is not None:
        if ref.vault_type != 'recovery_services':
            raise InputError('immutability_retention_days (time-based immutability) exists for Recovery Services vaults only; '
                             '%s is a Backup vault' % ref.label)
        # A boolean is no day count (Python counts true as 1): shown as written, never as 'got 1'.
        if isinstance(days, bool) or not MIN_DAYS <= days <= MAX_DAYS:
            raise InputError('immutability_retention_days must be a whole number of days between %d and %d; got %s%s'
                             % (MIN_DAYS, MAX_DAYS, shown(days), BOOLEAN_HINT if isinstance(days, bool) else ''))
    steps = plan_transition(ref.vault_type, record['immutability'], desired, params['allow_irreversible'], ref.name)
    target = desired or record['immutability']
    if days is not None and target in ('disabled', None):
        # Assumed (no Microsoft source says how Azure answers a period for a vault without immutability; the spec example
        # sends it to an Unlocked vault): contradictory options send nothing, as vault_soft_delete's retention_days with
        # soft delete off.
        raise InputError('immutability_retention_days applies only while immutability is enabled or locked; %s would have '
                         'immutability disabled' % ref.label)
    current_days = record['immutability_retention_days']
    days_change = days is not None and days != current_days
    locked = record['immutability'] in IRREVERSIBLE
    if days_change and locked and current_days is not None and days < current_days:
        raise InputError('%s is Locked: its time-based immutability of %s days cannot be shortened to %s'
                         % (ref.label, current_days, days))
    if days_change and locked and not params['allow_irreversible']:
        raise TransitionError(
            '%s is Locked: time-based immutability of %s days (now %s) can never be shortened or removed once set. '
            'Set allow_irreversible=true to consent.' % (ref.label, days, current_days if current_days is not None else 'none'))
    days_irreversible = locked or target in IRREVERSIBLE
    plan = []
    for index, (before, after) in enumerate(steps):
        # The time-based configuration travels with the first request.
        with_days = index == 0 and days_change
        changes = [_change('immutability', before, after, after in IRREVERSIBLE)]
        if with_days:
            changes.append(_change('immutability_retention_days', current_days, days, days_irreversible))
        plan.append((immutability_patch(ref.vault_type, after, days if with_days else None), changes))
    if days_change and not steps:
        plan.append((immutability_patch(ref.vault_type, target, days),
                     [_change('immutability_retention_days', current_days, days, days_irreversible)]))
    return plan


def plan(ref, record, params):
    """(PATCH bodies, changes) of plan_steps, flattened."""
    steps = plan_steps(ref, record, params)
    return [body for body, _changes in steps], [change for _body, changes in steps for change in changes]


def predict(record, changes):
    predicted = copy.deepcopy(record)
    for change in changes:
        predicted[change['setting']] = change['after']
    return predicted


def _applied(ref, body):
    """Whether a vault (ARM JSON) already has what an immutability PATCH body asks for."""
    wanted = body['properties']['securitySettings']['immutabilitySettings']

    def check(raw):
        record = vault_record(raw, ref.vault_type)
        if record['immutability'] != from_api(wanted['state']):
            return False
        config = wanted.get('configuration')
        return config is None or record['immutability_retention_days'] == config.get('durationInDays')
    return check


def guard_requests(store, ref, record, changes):
    """The Resource Guard operation request ids a step carries: for disabling immutability (enabled -> disabled, the
    guard's ``reduceImmutabilityState``, mua.IMMUTABILITY_OPERATION) of a vault a guard protects (or may), read from the
    vault's proxy; [] otherwise (no read)."""
    if not any(c['setting'] == 'immutability' and c['before'] == 'enabled' and c['after'] == 'disabled' for c in changes):
        return []
    return store.guard_requests(ref, record, [mua.IMMUTABILITY_OPERATION[ref.vault_type]])


def _happened(changes, record):
    """The changes a fresh read of the vault confirms (each setting now at its 'after' value)."""
    return [change for change in changes if record.get(change['setting']) == change['after']]


def apply(store, ref, params, before):
    """Send one request at a time, re-planning from a fresh read before each further step; returns (vault, sent).

    If someone else changes the vault between our steps, the next step is planned from what Azure now says (and
    refused if it became impossible), so no one's update is lost or overridden blindly; `sent` lists every write
    actually sent, with the values it changed. An irreversible step whose outcome is unknown is never sent twice.
    When a step fails after others were accepted, the vault is read again and PartialChangeError reports what did
    change (changed: true) with the error. The read after an accepted step is retried (reread); a vault that still
    cannot be read is reported as changed with outcome unknown, never as no change.
    """
    current = before
    sent = []
    confirmed = []
    try:
        for _attempt in range(4):
            steps = plan_steps(ref, current, params)
            if not steps:
                break
            if getattr(store, 'unfinished', None) is not None:
                # The step before did not finish within wait_timeout (a read shows its change): the next one (the lock,
                # say) is not sent while that operation may still be running or end Failed.
                late = store.unfinished
                why = AzureOperationError(late.operation, late.resource, late.status, late.code,
                                          '%s; a fresh read shows the vault %s, but that operation had not ended, so the next '
                                          'step (%s) was not sent: run again once Azure has finished (it reads the vault first)'
                                          % (late.azure_message, current.get('immutability'), ', '.join(c['after'] for c in steps[0][1])),
                                          late.request_id)
                raise PartialChangeError(why, {'changed': True, 'outcome': 'unknown', 'changes': confirmed, 'vault': current})
            try:
                # Each step only on a vault that reads settled: the read after the step before must say Succeeded too.
                check_settled(ref.label, current.get('provisioning_state'))
            except VaultBusyError as busy:
                if not confirmed:
                    raise
                raise PartialChangeError(busy, {'changed': True, 'changes': confirmed, 'vault': current}) from None
            stopped = getattr(store.session, 'run_stopped', None)
            if sent and stopped is not None and stopped():
                # harden_apply's run was stopped (Ctrl-C, a signal, ansible-playbook gone) between two steps (Unlocked, then
                # Locked): the next step is not sent.
                why = VaultlockError('the run was stopped (Ctrl-C, a signal, or ansible-playbook is gone) after %s, so the next '
                                     'step (%s) was not sent: run again to plan from what Azure holds now'
                                     % (', '.join(c['after'] for c in confirmed) or 'the first step', ', '.join(c['after'] for c in steps[0][1])))
                raise PartialChangeError(why, {'changed': bool(confirmed), 'changes': confirmed, 'vault': current})
            body, changes = steps[0]
            requests = guard_requests(store, ref, current, changes)
            sent.extend(changes)
            store.reconcile_patch(ref, mua.with_requests(body, requests), OPERATION, _applied(ref, body),
                                  irreversible=any(change['irreversible'] for change in changes))
            confirmed.extend(changes)
            current = reread(lambda: read_current(store, ref), OPERATION, ref.label)
    except UnreadAfterWriteError as exc:
        # Azure accepted a step (or may have), and the vault cannot be read back: whether it changed is unknown, never "no".
        raise PartialChangeError(exc, {'changed': True, 'outcome': 'unknown', 'changes': sent, 'vault': current}) from exc
    except PartialChangeError:
        raise   # already says what changed (a step whose operation had not ended)
    except VaultlockError as exc:
        if not sent:
            raise
        try:
            fresh = reread(lambda: read_current(store, ref), OPERATION, ref.label)
        except UnreadAfterWriteError:
            fresh = None
        if fresh is None and isinstance(exc, AzureOperationError) and exc.outcome_unknown:
            raise PartialChangeError(exc, {'changed': True, 'outcome': 'unknown', 'changes': sent, 'vault': current}) from exc
        happened = confirmed + _happened([c for c in sent if c not in confirmed], fresh) if fresh is not None else confirmed
        raise PartialChangeError(exc, {'changed': bool(happened), 'changes': happened,
                                       'vault': fresh if fresh is not None else current}) from exc
    return current, sent


def run(mod):
    params = mod.params
    session = mod.session
    ref = VaultRef.from_params(params, session.default_subscription)
    store = backend(session, ref.vault_type)
    before = read_vault(store, ref)
    if params['immutability'] is None and params['immutability_retention_days'] is None:
        return {'changed': False, 'vault': before, 'changes': []}
    bodies, changes = plan(ref, before, params)
    after = predict(before, changes)
    after['policy_fields'] = patched_policy_fields(before, bodies, ref.vault_type)
    if bodies and mod.check_mode:
        # The read a real run makes before disabling immutability of a guarded vault, so that check mode fails as it would.
        guard_requests(store, ref, before, changes)
    if bodies and not mod.check_mode:
        after, changes = apply(store, ref, params, before)
    result = {'changed': bool(changes), 'vault': after, 'changes': changes}
    if before['immutability'] == 'locked' and normalise_choice(params['immutability']) == 'enabled':
        result['note'] = '%s is Locked, which satisfies enabled (Locked is enabled for good): nothing to change' % ref.label
    if mod.diff_mode:
        result['diff'] = diff(ref, before, after, changes)
    return result


def diff(ref, before, after, changes):
    """Before/after of the immutability settings; the header says when a change cannot be undone."""
    header = '%s (%s)' % (ref.name, ref.vault_type)
    irreversible = [c['setting'] for c in changes if c.get('irreversible')]
    after_header = header + (' - IRREVERSIBLE: %s' % ', '.join(sorted(set(irreversible))) if irreversible else '')
    return {'before': _diff_view(before), 'after': _diff_view(after), 'before_header': header, 'after_header': after_header}


ARGUMENT_SPEC = state_argument_spec({
    'immutability': {'type': 'str', 'choices': ['disabled', 'enabled', 'unlocked', 'locked']},
    'immutability_retention_days': {'type': 'int'},
})
CONSTRAINTS = VAULT_REF_CONSTRAINTS
