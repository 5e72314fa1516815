# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What backup_policy_retention does: check the arguments no argument spec can (the minimum, a proposed body), read the
vault and its policies, compare (compare_to), plan the raises (_retention, pure), refuse before any write, PUT only
changed policies, and say truthfully what changed."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.items import list_items
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    InputError,
    PartialChangeError,
    ResultError,
    UnreadAfterWriteError,
    check_filter,
    shown,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._module import VAULT_REF_CONSTRAINTS, state_argument_spec
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import (
    RETENTION_MODES,
    TIERS,
    UNSOURCED_NOTE,
    RetentionError,
    check_minimum,
    datastore_only_warning,
    find_reductions,
    is_operational,
    normalise_policy,
    plan_raises,
    raise_policy,
    unchecked_by_datastore,
    validate_minimum,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.immutability import IMMUTABLE, IRREVERSIBLE as IMMUTABILITY_IRREVERSIBLE
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.retention import suspended_items, suspended_reason
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend, check_settled, vault_record

# Read-only values that GET returns and a PUT must not carry back.
_READ_ONLY_PROPERTIES = ('protectedItemsCount',)


def _tier_key(tier):
    return '/'.join(part for part in (tier['tier'], tier.get('sub_policy'), tier.get('datastore')) if part)


def _tiers_view(record):
    return {_tier_key(t): t['duration'] for t in record.get('tiers') or []}


def _listed(reductions):
    return ', '.join('%s %s -> %s' % (_tier_key(r), r['before'], r['after'] or 'dropped') for r in reductions)


def _put_body(resource):
    body = {k: v for k, v in resource.items() if k not in ('id', 'name', 'type', 'systemData')}
    body['properties'] = {k: v for k, v in (resource.get('properties') or {}).items() if k not in _READ_ONLY_PROPERTIES}
    return body


def _select(resources, names, ref):
    """The policies named (case-insensitive, each once, in the order asked), or all of them."""
    if not names:
        return sorted(resources, key=lambda r: str(r.get('name')).lower())
    by_name = {str(r.get('name')).lower(): r for r in resources}
    missing = [n for n in names if n.lower() not in by_name]
    if missing:
        known = ', '.join(sorted(str(r.get('name')) for r in resources)) or 'none'
        raise InputError("%s has no backup policy named %s (its policies: %s)"
                         % (ref.label, ', '.join(shown(m) for m in missing), known))
    selected = []
    for name in names:
        if by_name[name.lower()] not in selected:
            selected.append(by_name[name.lower()])
    return selected


def check_arguments(params):
    """The checks that need no request and that the argument spec cannot declare (which options go together is declared
    there: required_one_of, required_by, compare_to's mutually_exclusive). Returns the parsed minimum (None when not given)."""
    minimum = params['minimum']
    spec = params['compare_to']
    check_filter(params['policies'], 'policies', 'every policy of the vault', 'backup policy')
    if spec is not None:
        proposed = spec.get('proposed')
        if proposed is not None and not isinstance(proposed.get('properties'), dict):
            raise InputError('compare_to.proposed must be a policy body as it would be PUT, with a properties object; got keys %s'
                             % (', '.join(sorted(str(k) for k in proposed)) or 'none'))
    if minimum is None:
        return None
    try:
        parsed = validate_minimum(minimum)
    except RetentionError as exc:
        raise InputError(str(exc)) from None
    if not parsed:
        raise InputError('minimum names no tier: give at least one of %s' % ', '.join(TIERS))
    return parsed


def compare(params, ref, resources, immutability):
    spec = params['compare_to']
    base = _select(resources, [params['policy']], ref)[0]
    before = normalise_policy(base, ref.vault_type)
    if spec.get('proposed') is not None:
        after = normalise_policy(dict(spec['proposed'], name=params['policy']), ref.vault_type)
        what = "changing policy '%s' as proposed" % base['name']
    else:
        other = _select(resources, [spec['policy']], ref)[0]
        after = normalise_policy(other, ref.vault_type)
        what = "moving protected items from policy '%s' to '%s'" % (base['name'], other['name'])
    if after['unknown'] and not before['unknown']:
        raise InputError('compare_to: the %s policy kind is not understood (%s), so retention reductions cannot be detected'
                         % ('proposed' if spec.get('proposed') is not None else "'%s'" % spec['policy'], after['workload'] or 'no kind given'))
    reductions = find_reductions(before, after)
    if ref.vault_type == 'backup' and spec.get('proposed') is not None:
        # Azure updates no Backup vault policy, whatever the body (_retention.DP_NO_UPDATE).
        msg = ('Azure will reject %s: Azure does not update an existing Backup vault policy (UserErrorBMSUpdatePolicyNotSupported); '
               'create a new policy and move the backup instances to it' % what)
        if reductions:
            msg += '; the proposed body also keeps less in %d tier(s): %s' % (len(reductions), _listed(reductions))
        return {'reductions': reductions, 'rejected_by_azure': True, 'msg': msg}
    immutable = immutability in IMMUTABLE
    protected = [r for r in reductions if not r['operational']]
    # Tiers no Microsoft source names as operational (VM instant restore, workload snapshots) are predicted as held by
    # immutability, the refusing side, and said to be unsourced (_retention.UNSOURCED_TIERS).
    unsourced = [r for r in protected if r.get('unsourced')]
    sourced = [r for r in protected if not r.get('unsourced')]
    operational = [r for r in reductions if r['operational']]
    rejected = bool(protected) and immutable
    unprotected = ('%d operational tier(s) (%s) not protected by immutability: operational backups are kept outside the '
                   'vault and Azure accepts shortening them' % (len(operational), _listed(operational))) if operational else ''
    assumed = ('%d tier(s) (%s) %s' % (len(unsourced), _listed(unsourced), UNSOURCED_NOTE)) if unsourced else ''
    if rejected and sourced:
        msg = ('Azure will reject %s: %s is immutable (%s) and %d retention tier(s) would keep less: %s'
               % (what, ref.label, immutability, len(sourced), _listed(sourced)))
        if assumed:
            msg += '; also %s' % assumed
        if unprotected:
            msg += '; also %s' % unprotected
    elif rejected:
        msg = ('Azure may refuse %s: %s is immutable (%s) and %s' % (what, ref.label, immutability, assumed))
        if unprotected:
            msg += '; also %s' % unprotected
    elif protected:
        msg = '%s reduces %d retention tier(s) (%s); allowed only because %s is not immutable' % (what, len(protected), _listed(protected), ref.label)
        if unprotected:
            msg += '; also %s' % unprotected
    elif operational:
        msg = '%s reduces only %s' % (what, unprotected)
    else:
        msg = '%s reduces no retention' % what
    return {'reductions': reductions, 'rejected_by_azure': rejected, 'msg': msg}


def _plan(params, ref, selected, locked=False):
    """[(resource, record, new resource or None, changes)] and the violations that remain."""
    violations = []
    plans = []
    for resource in selected:
        record = normalise_policy(resource, ref.vault_type)
        if params['mode'] == 'enforce':
            new, changes, unfixable = raise_policy(resource, ref.vault_type, params['minimum'])
            violations.extend(unfixable)
            # Immutability does not hold operational tiers, so raising one can be undone even on a Locked vault.
            plans.append((resource, record, new, [dict(change, policy=record['name'], irreversible=locked and not is_operational(record, change))
                                                  for change in changes]))
        else:
            violations.extend(check_minimum(record, params['minimum']))
            plans.append((resource, record, None, []))
    return plans, violations


def _suspended_lookup(session, vault):
    """The items with suspended backups of each policy name (_rules.retention.suspended_items), from one read of the vault's
    protected items (ARM, every page): on an immutable Recovery Services vault Azure does not apply a retention increase to a
    policy with such an item (_rules.retention.SUSPENDED, as harden_plan judges it)."""
    view = {'vault_type': vault['vault_type'], 'protected_items': list_items(session, vault)}
    found = {}

    def of(name):
        if name not in found:
            found[name] = suspended_items(view, name)
        return found[name]
    return of


def _held(violation, items):
    """``violation`` as one no run fixes, naming the items with suspended backups."""
    return dict(violation, fixable=False, reason=suspended_reason(violation['reason'], items))


def _hold_suspended(session, vault, plans, violations, minimum):
    """(plans, violations) with no raise of a policy one of whose protected items has its backups suspended (_suspended_lookup):
    each tier such a policy would have raised is a violation no run fixes. Called only on an immutable Recovery Services vault
    with a raise planned."""
    suspended_of = _suspended_lookup(session, vault)
    kept = []
    for resource, record, new, changes in plans:
        suspended = suspended_of(record['name']) if changes else []
        if not suspended:
            kept.append((resource, record, new, changes))
            continue
        violations = violations + [_held(violation, suspended) for violation, raised in plan_raises(record, minimum) if raised is not None]
        kept.append((resource, record, None, []))
    return kept, violations


def _held_in_report(session, vault, violations):
    """The violations of report mode, where a fixable one of a policy that has a protected item with suspended backups is
    not fixable (mode=enforce would not raise it: _hold_suspended). Called only on an immutable Recovery Services vault with
    a fixable violation."""
    suspended_of = _suspended_lookup(session, vault)
    return [_held(violation, suspended_of(violation['policy'])) if violation.get('fixable') and suspended_of(violation['policy'])
            else violation for violation in violations]


def _check_consent(params, ref, plans, locked):
    """On a Locked vault a raised retention can never be lowered again: refuse before any write without consent."""
    raised = [change for _resource, _record, _new, changes in plans for change in changes if change['irreversible']]
    if locked and raised and not params['allow_irreversible']:
        names = sorted({change['policy'] for change in raised})
        raise InputError("%s is Locked: raising the retention of %s (%d tier(s)) can never be undone, the policies could never "
                         "keep less again. Set allow_irreversible=true to consent." % (
                             ref.label, ', '.join("'%s'" % name for name in names), len(raised)))


def _same_tiers(record):
    """A check: does a policy (ARM JSON) keep exactly the tiers of this normalised record?"""
    wanted = _tiers_view(record)

    def check(resource):
        return _tiers_view(normalise_policy(resource, record['vault_type'])) == wanted
    return check


def _summary(mod, result, violations):
    messages = []
    changes = result['changes']
    if changes:
        messages.append('%s %d retention tier(s) in %d policy(ies)' % (
            'would raise' if mod.check_mode else 'raised', len(changes), len({c['policy'] for c in changes})))
    if not violations:
        messages.append('every checked policy meets the minimum')
    elif mod.params['mode'] == 'enforce':
        messages.append('%d retention violation(s) remain in %d policy(ies) that raising cannot fix' % (
            len(violations), len({v['policy'] for v in violations})))
    else:
        messages.append('%d retention violation(s) in %d policy(ies), %d fixable by mode=enforce' % (
            len(violations), len({v['policy'] for v in violations}), sum(1 for v in violations if v['fixable'])))
    return '; '.join(messages)


def run(mod):
    params = mod.params
    session = mod.session
    ref = VaultRef.from_params(params, session.default_subscription)
    minimum = check_arguments(params)
    store = backend(session, ref.vault_type)
    vault = vault_record(store.get(ref), ref.vault_type)
    immutability = vault['immutability']
    resources = store.list_policies(ref)
    result = {'changed': False, 'changes': [], 'policies': [], 'immutability': immutability}
    messages = []
    if params['compare_to'] is not None:
        try:
            outcome = compare(params, ref, resources, immutability)
        except RetentionError as exc:
            raise InputError('compare_to: %s' % exc) from None
        result.update(outcome)
        messages.append(outcome['msg'])
    if minimum is None:
        result['msg'] = '; '.join(messages)
        return result

    locked = immutability in IMMUTABILITY_IRREVERSIBLE
    plans, violations = _plan(params, ref, _select(resources, params['policies'], ref), locked)
    # A key of the minimum given only per datastore checks no tier of a Recovery Services VM or workload policy (no datastore),
    # whatever the other keys are: such a tier meets it with nothing checked, which is said (one warning a key) rather than
    # left to read as compliant.
    unchecked = {}
    for _resource, record, _new, _changes in plans:
        for key in unchecked_by_datastore(record, minimum):
            unchecked.setdefault(key, []).append(record['name'])
    for key in sorted(unchecked):
        mod.warn(datastore_only_warning('minimum', key, minimum[key], unchecked[key], ' of %s' % ref.label))
    immutable_rs = immutability in IMMUTABLE and ref.vault_type == 'recovery_services'
    if immutable_rs and any(changes for _resource, _record, _new, changes in plans):
        # Before the consent: a raise Azure would not apply asks no consent (check mode reads and predicts the same).
        plans, violations = _hold_suspended(session, vault, plans, violations, params['minimum'])
    elif immutable_rs and params['mode'] != 'enforce' and any(violation.get('fixable') for violation in violations):
        # Report mode says what mode=enforce would fix: not a policy it would hold for a suspended item.
        violations = _held_in_report(session, vault, violations)
    _check_consent(params, ref, plans, locked)
    if any(changes for _resource, _record, _new, changes in plans):
        # A raise only on a vault that reads settled (_vaults.SETTLED_STATE): whether it can be undone is judged from the
        # vault's immutability, which a running operation may still change. Check mode predicts the same refusal.
        check_settled(ref.label, vault['provisioning_state'])
    diff_before, diff_after = {}, {}
    for resource, record, new, changes in plans:
        name = record['name']
        after_record = record
        if new is not None:
            if mod.check_mode:
                after_record = normalise_policy(new, ref.vault_type)
            else:
                predicted = normalise_policy(new, ref.vault_type)
                try:
                    kept = store.reconcile_policy(ref, name, _put_body(new), _same_tiers(predicted), _same_tiers(record),
                                                  irreversible=any(change['irreversible'] for change in changes))
                    after_record = normalise_policy(kept, ref.vault_type)
                except UnreadAfterWriteError as exc:
                    # The PUT was sent (accepted, or its answer lost) and the policy cannot be read back, also when read
                    # again: whether it changed is unknown, never "no".
                    raise PartialChangeError(exc, {'changed': True, 'outcome': 'unknown', 'changes': result['changes'] + changes,
                                                   'immutability': immutability}) from exc
                except AzureOperationError as exc:
                    # Report what was already raised: those policies did change.
                    raise PartialChangeError(exc, {'changed': bool(result['changes']), 'changes': result['changes'],
                                                   'immutability': immutability}) from exc
            result['changes'].extend(changes)
            diff_before[name] = _tiers_view(record)
            diff_after[name] = _tiers_view(after_record)
        after_record['vault'] = ref.id
        result['policies'].append(after_record)
    result['changed'] = bool(result['changes'])
    result['violations'] = violations
    result['compliant'] = not violations
    if mod.diff_mode and result['changed']:
        result['diff'] = {'before': diff_before, 'after': diff_after}
        if any(change['irreversible'] for change in result['changes']):
            result['diff']['after_header'] = '%s (%s) - IRREVERSIBLE: retention of a locked vault' % (ref.name, ref.vault_type)
    messages.append(_summary(mod, result, violations))
    result['msg'] = '; '.join(messages)
    if violations and params['fail_on_violation']:
        details = '; '.join("policy '%s': %s" % (v['policy'], v['reason']) for v in violations[:10])
        if len(violations) > 10:
            details += '; and %d more' % (len(violations) - 10)
        raise ResultError('%s does not meet the retention minimum (fail_on_violation): %s' % (ref.label, details), result)
    return result


ARGUMENT_SPEC = state_argument_spec({
    'policies': {'type': 'list', 'elements': 'str'},
    'minimum': {'type': 'dict'},
    'mode': {'type': 'str', 'choices': list(RETENTION_MODES), 'default': 'report'},
    'fail_on_violation': {'type': 'bool', 'default': False},
    'compare_to': {'type': 'dict', 'options': {'policy': {'type': 'str'}, 'proposed': {'type': 'dict'}},
                   'mutually_exclusive': [('policy', 'proposed')], 'required_one_of': [('policy', 'proposed')]},
    'policy': {'type': 'str'},
})
CONSTRAINTS = {
    'required_one_of': VAULT_REF_CONSTRAINTS['required_one_of'] + [('minimum', 'compare_to')],
    'required_by': dict(VAULT_REF_CONSTRAINTS['required_by'], policy='compare_to', compare_to='policy'),
    'mutually_exclusive': VAULT_REF_CONSTRAINTS['mutually_exclusive'],
}
