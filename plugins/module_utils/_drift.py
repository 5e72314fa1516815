# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Drift of backup vaults from a hardening baseline (pure: no I/O, no SDK import).

Input: vault records as ``vault_immutability_info`` returns them (with ``policies`` when
``include_policies`` was set) and a baseline. Output: one drift entry per vault with its findings
and the actions a run may take, so a role calls the state modules only for vaults with actions.

The baseline is a minimum:

- immutability ``enabled`` or ``locked``: a vault at that state or stronger (disabled < enabled
  < locked) does not drift; a locked vault satisfies ``enabled``. ``disabled`` asks for
  immutability to be off, so an enabled or locked vault drifts (a locked one cannot be fixed).
- soft delete ``on`` or ``always_on`` likewise (off < on < always_on), ``retention_days`` a
  minimum; ``off`` asks for soft delete to be off.
- retention: every policy tier at least the minimum (``_retention.check_minimum``); raised only
  in ``enforce`` mode.

Reaching ``locked`` or ``always_on`` needs ``allow_irreversible``; without it the finding stays
and is not fixable. So does raising retention of a vault that is Locked: a raised retention can
never be lowered again there. Each finding says whether fixing it is ``irreversible``.
Weakening a setting of a vault protected by multi-user authorization (a Resource Guard) needs an
approval this collection cannot give, so it is reported as not fixable.

Each entry also lists the ``changes`` a run makes, computed with the state modules' own planning
functions (immutability steps, the soft delete plan with the Recovery Services enhanced security
that moves with it, the value each raised tier gets), so check mode predicts what apply does.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils import _immutability
from ansible_collections.vaultlock.azure.plugins.module_utils import _soft_delete
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import VAULT_TYPES
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import (
    RETENTION_MODES,
    is_operational,
    plan_raises,
    validate_minimum,
)

SETTINGS = ('immutability', 'soft_delete', 'soft_delete_retention_days', 'retention')

_BASELINE_KEYS = ('immutability', 'allow_irreversible', 'retention', 'soft_delete')
_RETENTION_KEYS = ('minimum', 'mode')
_SOFT_DELETE_KEYS = ('state', 'retention_days')

_MUA_REASON = ("the vault is protected by multi-user authorization (Resource Guard %s): "
               "weakening %s needs an approval through the Resource Guard, so this run leaves it alone")


class DriftError(VaultlockError, ValueError):
    """A baseline or a vault record that cannot be used."""


def _is_bool(value):
    return isinstance(value, bool)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _lower(value):
    return None if value is None else str(value).strip().lower()


def _normalised(normalise, value, where):
    """A state of a baseline or a vault record through the state module's own normaliser; null or '' is null."""
    if value is None or str(value).strip() == '':
        return None
    try:
        return normalise(value, where)
    except VaultlockError as exc:
        raise DriftError(str(exc)) from None


def _norm_immutability(value, where):
    return _normalised(_immutability.normalise_choice, value, where)


def _norm_soft_delete_state(value, where):
    return _normalised(_soft_delete.normalise_choice, value, where)


def _plain_dict(mapping):
    """A plain dict copy of nested mappings (Ansible hands over dict subclasses)."""
    return dict((k, _plain_dict(v) if isinstance(v, Mapping) else v) for k, v in mapping.items())


def _check_keys(mapping, allowed, where):
    unknown = sorted(str(k) for k in mapping if k not in allowed)
    if unknown:
        raise DriftError("%s has unknown key(s) %s; allowed: %s" % (where, ', '.join(unknown), ', '.join(allowed)))


def validate_baseline(baseline):
    """Check a baseline and return it normalised (every key present). Raises DriftError."""
    if baseline is None:
        baseline = {}
    if not isinstance(baseline, Mapping):
        raise DriftError("the baseline must be a dictionary, got %s" % type(baseline).__name__)
    _check_keys(baseline, _BASELINE_KEYS, 'baseline')

    allow = baseline.get('allow_irreversible', False)
    if allow is None:
        allow = False
    if not _is_bool(allow):
        raise DriftError("baseline.allow_irreversible must be true or false, got '%s'" % (allow,))

    result = {
        'immutability': _norm_immutability(baseline.get('immutability'), 'baseline.immutability'),
        'allow_irreversible': allow,
        'retention': None,
        'soft_delete': None,
    }

    retention = baseline.get('retention')
    if retention is not None:
        if not isinstance(retention, Mapping):
            raise DriftError("baseline.retention must be a dictionary {minimum, mode} or null")
        _check_keys(retention, _RETENTION_KEYS, 'baseline.retention')
        mode = _lower(retention.get('mode')) or 'report'
        if mode not in RETENTION_MODES:
            raise DriftError("baseline.retention.mode must be report or enforce, got '%s'" % retention.get('mode'))
        minimum = retention.get('minimum')
        if minimum is None:
            minimum = {}
        if not isinstance(minimum, Mapping):
            raise DriftError("baseline.retention.minimum must be a dictionary of tier: duration")
        minimum = _plain_dict(minimum)
        try:
            validate_minimum(minimum)
        except ValueError as exc:
            raise DriftError("baseline.retention.minimum: %s" % exc) from exc
        result['retention'] = {'minimum': minimum, 'mode': mode}

    soft_delete = baseline.get('soft_delete')
    if soft_delete is not None:
        if not isinstance(soft_delete, Mapping):
            raise DriftError("baseline.soft_delete must be a dictionary {state, retention_days} or null")
        _check_keys(soft_delete, _SOFT_DELETE_KEYS, 'baseline.soft_delete')
        state = _norm_soft_delete_state(soft_delete.get('state'), 'baseline.soft_delete.state')
        days = soft_delete.get('retention_days')
        if days is not None:
            if not _is_int(days) or not _soft_delete.MIN_DAYS <= days <= _soft_delete.MAX_DAYS:
                raise DriftError("baseline.soft_delete.retention_days must be a whole number of days from %d to %d, got '%s'"
                                 % (_soft_delete.MIN_DAYS, _soft_delete.MAX_DAYS, days))
            if state == 'off':
                raise DriftError("baseline.soft_delete.retention_days cannot be set when baseline.soft_delete.state is off")
        if state is not None or days is not None:
            result['soft_delete'] = {'state': state, 'retention_days': days}
    return result


def _finding(setting, have, want, fixable, reason, policy=None, tier=None, sub_policy=None, datastore=None, irreversible=False):
    return {
        'setting': setting,
        'policy': policy,
        'tier': tier,
        'sub_policy': sub_policy,
        'datastore': datastore,
        'have': have,
        'want': want,
        'fixable': bool(fixable),
        'reason': reason,
        'irreversible': bool(irreversible),
    }


def _change(action, setting, before, after, irreversible, policy=None, tier=None, sub_policy=None, datastore=None):
    """One change a run makes, as the state modules report it."""
    return {'action': action, 'setting': setting, 'policy': policy, 'tier': tier, 'sub_policy': sub_policy,
            'datastore': datastore, 'before': before, 'after': after, 'irreversible': bool(irreversible)}


def _mua(vault):
    mua = vault.get('mua')
    if not isinstance(mua, Mapping):
        return {'protected': False, 'resource_guard_id': None}
    return {'protected': bool(mua.get('protected')), 'resource_guard_id': mua.get('resource_guard_id')}


def _guard_name(mua):
    guard = mua.get('resource_guard_id')
    if not guard:
        return 'not visible'
    return "'%s'" % str(guard).rstrip('/').rsplit('/', 1)[-1]


def _immutability_finding(vault, baseline, mua):
    """Return (finding or None, action or None, changes)."""
    want = baseline['immutability']
    if want is None:
        return None, None, []
    raw = vault.get('immutability')
    try:
        have = _norm_immutability(raw, 'immutability') or 'disabled'
    except DriftError:
        return _finding('immutability', raw, want, False,
                        "the vault reports an unknown immutability state '%s'" % raw), None, []
    if want == 'disabled':
        if have == 'disabled':
            return None, None, []
    elif _immutability.RANK[have] >= _immutability.RANK[want]:
        # The baseline is a minimum: locked satisfies enabled.
        return None, None, []

    irreversible = want == 'locked'
    if _immutability.RANK[want] < _immutability.RANK[have] and mua['protected']:
        return _finding('immutability', have, want, False, _MUA_REASON % (_guard_name(mua), 'immutability')), None, []
    try:
        steps = _immutability.plan_transition(vault.get('vault_type'), have, want,
                                              allow_irreversible=baseline['allow_irreversible'],
                                              vault_name=vault.get('name') or '?')
    except _immutability.ImmutabilityError as exc:
        return _finding('immutability', have, want, False, str(exc), irreversible=irreversible), None, []
    path = ' -> '.join([have] + [after for _before, after in steps])
    changes = [_change('immutability', 'immutability', before, after, after == 'locked') for before, after in steps]
    return _finding('immutability', have, want, True, 'set immutability %s' % path, irreversible=irreversible), want, changes


def _soft_delete_findings(vault, baseline, mua):
    """Return (findings, action or None, changes)."""
    findings, action = _soft_delete_drift(vault, baseline, mua)
    if action is None:
        return findings, None, []
    # What vault_soft_delete will do with this action, from its own plan: on a Recovery Services vault the enhanced
    # security (hybrid workloads) moves with the state, and an AlwaysON one cannot be brought back to On, so such a
    # write would fail; the findings it was to fix are then not fixable.
    settings = _soft_delete.settings_of(vault)
    try:
        planned, _target = _soft_delete.plan(vault.get('vault_type'), settings, action['state'], action['retention_days'],
                                             baseline['allow_irreversible'], vault.get('name') or '?')
    except _soft_delete.SoftDeleteError as exc:
        for finding in findings:
            if finding['fixable']:
                finding['fixable'] = False
                finding['reason'] = str(exc)
        return findings, None, []
    changes = [_change('soft_delete', c['setting'], c['before'], c['after'], c.get('irreversible')) for c in planned]
    return findings, (action if changes else None), changes


def _soft_delete_drift(vault, baseline, mua):
    """Return (findings, action or None) from the vault record and the baseline."""
    want = baseline['soft_delete']
    if want is None:
        return [], None
    current = vault.get('soft_delete')
    if not isinstance(current, Mapping):
        current = {}
    raw_state = current.get('state')
    try:
        have_state = _norm_soft_delete_state(raw_state, 'soft_delete.state') or 'off'
    except DriftError:
        finding = _finding('soft_delete', raw_state, want['state'], False,
                           "the vault reports an unknown soft delete state '%s'" % raw_state)
        return [finding], None
    have_days = current.get('retention_days')
    if isinstance(have_days, float) and have_days.is_integer():
        # Backup vaults report retentionDurationInDays as a float (14.0).
        have_days = int(have_days)

    findings = []
    target_state = have_state
    state_fixed = False
    want_state = want['state']
    if want_state is not None and want_state != have_state:
        weaker = _soft_delete.RANK[want_state] < _soft_delete.RANK[have_state]
        if want_state == 'off' or not weaker:
            if have_state == 'always_on':
                findings.append(_finding('soft_delete', have_state, want_state, False,
                                         "soft delete is always_on, which is irreversible: Azure never turns it off again"))
            elif weaker and mua['protected']:
                findings.append(_finding('soft_delete', have_state, want_state, False, _MUA_REASON % (_guard_name(mua), 'soft delete')))
            elif want_state == 'always_on' and not baseline['allow_irreversible']:
                findings.append(_finding('soft_delete', have_state, want_state, False,
                                         "soft delete always_on cannot be undone: set allow_irreversible to consent", irreversible=True))
            else:
                findings.append(_finding('soft_delete', have_state, want_state, True,
                                         'set soft delete %s -> %s' % (have_state, want_state), irreversible=want_state == 'always_on'))
                target_state = want_state
                state_fixed = True

    want_days = want['retention_days']
    target_days = None
    if want_days is not None and target_state != 'off':
        if not _is_int(have_days) or have_days < want_days:
            findings.append(_finding('soft_delete_retention_days', have_days, want_days, True,
                                     'raise soft delete retention to %d days' % want_days))
            target_days = want_days
        elif state_fixed:
            target_days = have_days

    action = None
    if state_fixed or target_days is not None:
        action = {'state': target_state, 'retention_days': target_days}
    return findings, action


def _retention_findings(vault, baseline):
    """Return (findings, names of the policies to raise, changes)."""
    want = baseline['retention']
    if want is None:
        return [], [], []
    policies = vault.get('policies')
    if policies is None:
        return [_finding('retention', None, None, False,
                         "the vault's policies were not read: discover with vault_immutability_info include_policies: true")], [], []
    enforce = want['mode'] == 'enforce'
    # On a Locked vault a raised retention can never be lowered again (Azure refuses any reduction there).
    locked = _lower(vault.get('immutability')) == 'locked'
    findings = []
    raise_policies = []
    changes = []
    for policy in policies:
        for violation, raised in plan_raises(policy, want['minimum']):
            fixable = bool(violation.get('fixable')) and enforce
            reason = violation.get('reason')
            # Immutability does not hold operational tiers: raising one can be undone, even on a Locked vault.
            operational = bool(violation.get('tier')) and is_operational(policy, violation)
            if violation.get('fixable') and not enforce:
                reason = 'retention mode is report: weak policies are reported, not raised'
            elif fixable and locked and not operational and not baseline['allow_irreversible']:
                fixable = False
                reason = ('%s; the vault is Locked, where a raised retention can never be lowered again: set allow_irreversible '
                          'to consent' % reason)
            if operational:
                reason = '%s; an operational backup tier, not protected by immutability' % reason
            name = violation.get('policy') or policy.get('name')
            findings.append(_finding('retention', violation.get('have'), violation.get('need'), fixable, reason,
                                     policy=name, tier=violation.get('tier'),
                                     sub_policy=violation.get('sub_policy'), datastore=violation.get('datastore'),
                                     irreversible=locked and not operational and bool(violation.get('fixable'))))
            if fixable:
                if name not in raise_policies:
                    raise_policies.append(name)
                changes.append(_change('retention', 'retention', violation.get('have'), raised, locked and not operational, policy=name,
                                       tier=violation.get('tier'), sub_policy=violation.get('sub_policy'),
                                       datastore=violation.get('datastore')))
    return findings, raise_policies, changes


def vault_drift(vault, baseline):
    """Drift entry of one vault against a baseline already passed through validate_baseline."""
    if not isinstance(vault, Mapping):
        raise DriftError("every vault must be a dictionary (a vault_immutability_info record), got %s" % type(vault).__name__)
    mua = _mua(vault)
    findings = []
    imm_finding, imm_action, imm_changes = _immutability_finding(vault, baseline, mua)
    if imm_finding:
        findings.append(imm_finding)
    sd_findings, sd_action, sd_changes = _soft_delete_findings(vault, baseline, mua)
    findings.extend(sd_findings)
    ret_findings, raise_policies, ret_changes = _retention_findings(vault, baseline)
    findings.extend(ret_findings)
    return {
        'id': vault.get('id'),
        'name': vault.get('name'),
        'vault_type': vault.get('vault_type'),
        'subscription_id': vault.get('subscription_id'),
        'resource_group': vault.get('resource_group'),
        'location': vault.get('location'),
        'drift': bool(findings),
        'findings': findings,
        'actions': {
            'immutability': imm_action,
            'soft_delete': sd_action,
            'raise_policies': raise_policies,
        },
        # In the order the role applies them: retention, soft delete, immutability.
        'changes': ret_changes + sd_changes + imm_changes,
        'mua': mua,
    }


def sort_key(entry):
    """Stable report order: subscription, resource group, name, kind (case-insensitive like ARM)."""
    return tuple(_lower(entry.get(key)) or '' for key in ('subscription_id', 'resource_group', 'name', 'vault_type'))


def compute_drift(vaults, baseline):
    """Drift entries for a list of vault records, in a stable order."""
    if vaults is None:
        vaults = []
    if isinstance(vaults, Mapping) and 'vaults' in vaults:
        # A registered vault_immutability_info result.
        vaults = vaults['vaults']
    if isinstance(vaults, (str, bytes)) or not isinstance(vaults, (list, tuple)):
        raise DriftError("vaults must be a list of vault records, got %s" % type(vaults).__name__)
    return drift_entries(vaults, validate_baseline(baseline))


def drift_entries(vaults, normalised):
    """Drift entries for a list of vault records and a baseline that validate_baseline already returned."""
    return sorted((vault_drift(vault, normalised) for vault in vaults), key=sort_key)


def summarize(drift):
    """Counts over drift entries: vaults, drifting, findings (fixable/unfixable), by setting and kind.

    A finding with ``resolved: true`` (set by the report after an apply) is counted as resolved,
    not as drift.
    """
    if drift is None:
        drift = []
    if isinstance(drift, (str, bytes, Mapping)) or not isinstance(drift, (list, tuple)):
        raise DriftError("drift must be the list that vault_drift returns, got %s" % type(drift).__name__)
    by_setting = dict((s, {'vaults': 0, 'findings': 0, 'fixable': 0, 'unfixable': 0}) for s in SETTINGS)
    by_type = dict((t, {'vaults': 0, 'drifting': 0, 'findings': 0}) for t in VAULT_TYPES)
    counts = {'vaults': 0, 'drifting': 0, 'clean': 0, 'findings': 0, 'fixable': 0, 'unfixable': 0,
              'resolved': 0, 'vaults_with_actions': 0, 'vaults_with_unfixable': 0, 'mua_protected': 0}
    for entry in drift:
        if not isinstance(entry, Mapping):
            raise DriftError("every drift entry must be a dictionary, got %s" % type(entry).__name__)
        open_findings = [f for f in entry.get('findings') or [] if not f.get('resolved')]
        counts['resolved'] += len(entry.get('findings') or []) - len(open_findings)
        counts['vaults'] += 1
        kind = by_type.setdefault(entry.get('vault_type') or 'unknown', {'vaults': 0, 'drifting': 0, 'findings': 0})
        kind['vaults'] += 1
        if (entry.get('mua') or {}).get('protected'):
            counts['mua_protected'] += 1
        if not open_findings:
            counts['clean'] += 1
            continue
        counts['drifting'] += 1
        kind['drifting'] += 1
        kind['findings'] += len(open_findings)
        if any(f.get('fixable') for f in open_findings):
            counts['vaults_with_actions'] += 1
        if any(not f.get('fixable') for f in open_findings):
            counts['vaults_with_unfixable'] += 1
        seen = set()
        for finding in open_findings:
            setting = finding.get('setting') or 'unknown'
            bucket = by_setting.setdefault(setting, {'vaults': 0, 'findings': 0, 'fixable': 0, 'unfixable': 0})
            bucket['findings'] += 1
            counts['findings'] += 1
            key = 'fixable' if finding.get('fixable') else 'unfixable'
            bucket[key] += 1
            counts[key] += 1
            if setting not in seen:
                seen.add(setting)
                bucket['vaults'] += 1
    counts['by_setting'] = by_setting
    counts['by_vault_type'] = by_type
    return counts


def _finding_key(finding):
    if finding.get('setting') != 'retention':
        return finding.get('setting')
    parts = [finding.get('policy'), finding.get('tier'), finding.get('sub_policy'), finding.get('datastore')]
    return 'retention ' + '/'.join(str(part) for part in parts if part)


def would_change(entries):
    """The drift entries a run changes: those whose planned ``changes`` are not empty."""
    return [entry for entry in entries or [] if entry.get('changes')]


def drift_diffs(drift):
    """Ansible diff entries, one per drifting vault: what a run would change (the entry's planned changes, first
    before -> last after per setting; a change that can never be undone is marked IRREVERSIBLE in its key and in the
    header), and, under a "not fixable" key that is the same before and after, what it cannot change and why."""
    diffs = []
    for entry in drift or []:
        if not entry.get('drift'):
            continue
        before = {}
        after = {}
        unfixable = {}
        planned = entry.get('changes') if isinstance(entry.get('changes'), list) else []
        irreversible = sorted({_finding_key(change) for change in planned if change.get('irreversible')})
        for change in planned:
            key = _finding_key(change)
            if key in irreversible:
                key += ' (IRREVERSIBLE)'
            before.setdefault(key, change.get('before'))
            after[key] = change.get('after')
        for finding in entry.get('findings') or []:
            if not finding.get('fixable'):
                key = _finding_key(finding)
                unfixable[key] = '%s (wanted %s): %s' % (finding.get('have'), finding.get('want'), finding.get('reason'))
        if unfixable:
            before['not fixable'] = unfixable
            after['not fixable'] = unfixable
        header = '%s (%s, %s/%s%s)' % (entry.get('name'), entry.get('vault_type'), entry.get('subscription_id'), entry.get('resource_group'),
                                       ', baseline tier %s' % entry['tier'] if entry.get('tier') else '')
        after_header = header + (' - IRREVERSIBLE: %s' % ', '.join(irreversible) if irreversible else '')
        diffs.append({'before_header': header, 'after_header': after_header,
                      'before': _yaml_like(before), 'after': _yaml_like(after)})
    return diffs


def _yaml_like(mapping, indent=0):
    lines = []
    for key in sorted(mapping, key=str):
        value = mapping[key]
        if isinstance(value, dict):
            lines.append('%s%s:' % (' ' * indent, key))
            lines.append(_yaml_like(value, indent + 2).rstrip('\n'))
        else:
            lines.append('%s%s: %s' % (' ' * indent, key, 'null' if value is None else value))
    return '\n'.join(lines) + '\n'
