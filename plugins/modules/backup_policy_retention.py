#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: backup_policy_retention
short_description: Hold Azure Backup policies to a minimum retention, detect reductions, raise weak policies
version_added: 0.1.0
description:
  - An immutable vault is only as strong as its policies. This module checks every policy of a vault (or the named ones)
    against a minimum retention per tier, and with O(mode=enforce) raises each too-short tier to the minimum.
  - It never lowers a value and never adds a tier the policy's schedule cannot produce; such gaps stay violations,
    reported as not fixable. A policy that needs no change is never sent back to Azure (re-sending an unchanged policy
    is known to fail on immutable vaults).
  - Raising retention is allowed on immutable vaults, locked ones included; on a locked vault it is irreversible (the policy can
    never keep less again) and needs O(allow_irreversible=true). Operational tiers (snapshots kept beside the data source, a
    Backup vault's operational store) are not held by immutability, so raising them is never irreversible.
  - A policy update whose outcome is unknown (a server error, a broken connection, a timeout) is settled by reading the policy
    again; it is sent a second time only when it did not take effect, the policy is unchanged and the raise is not irreversible.
  - With O(compare_to), reports which tiers a proposed policy body, or another policy, would keep for less time. On an
    immutable vault Azure rejects such a policy change and blocks moving protected items to a policy that keeps less;
    the result says so before anything is tried.
  - Immutability does not apply to operational backups (Microsoft Learn). Tiers kept outside the vault, namely a Backup
    vault's operational store (blobs, disks), Azure Files share snapshots and Azure VM / SAP HANA instant restore
    snapshots, are reported as operational and not protected by immutability. Azure accepts shortening them even on
    an immutable vault.
author:
  - vaultlock.azure maintainers (@vaultlock)
extends_documentation_fragment:
  - vaultlock.azure.azure_auth
  - vaultlock.azure.vault_ref
requirements:
  - azure-mgmt-recoveryservicesbackup >= 11.2.0 (writes to Recovery Services policies)
  - azure-mgmt-dataprotection >= 2.2.0 (writes to Backup vault policies)
attributes:
  check_mode:
    support: full
    description: Sends no write request; the result shows what O(mode=enforce) would change.
  diff_mode:
    support: full
    description: Returns the tiers of each changed policy before and after.
  idempotent:
    support: full
    description: Once raised, a second run finds nothing to change and sends no write.
  action_group:
    support: full
    membership: [vaultlock.azure.all]
    description: Use C(group/vaultlock.azure.all) in C(module_defaults) to set the authentication options once.
options:
  policies:
    description: Only these policies (by name, case-insensitive). Default every policy of the vault. A name the vault does not have is an error.
    type: list
    elements: str
  minimum:
    description:
      - Minimum retention per tier. Keys C(daily), C(weekly), C(monthly), C(yearly), C(default), C(instant), C(snapshot), C(log).
      - "Each value is a duration written C(30d), C(12w), C(12m), C(7y), or ISO-8601 (C(P30D), C(P1Y6M)); or, per datastore,
        a dict such as C({OperationalStore: 7d, VaultStore: 30d}) (datastores C(OperationalStore), C(VaultStore),
        C(ArchiveStore), and C(Snapshot) / C(VaultStandard) for Azure Files)."
      - C(daily) also applies to simple (default) retention when no C(default) minimum is given, except to Differential and
        Incremental sub-policies.
      - Across units the check is conservative. What a policy keeps counts at its shortest (a month 28 days, a year 365)
        and what the minimum asks for at its longest (a month 31 days, a year 366).
    type: dict
  mode:
    description:
      - V(check) reports violations only. V(enforce) also raises each fixable too-short tier to the minimum.
    type: str
    choices: [check, enforce]
    default: check
  fail_on_violation:
    description: Fail the task when violations remain (after enforcing, in V(enforce) mode).
    type: bool
    default: false
  compare_to:
    description:
      - Detect retention reductions of the policy named by O(policy).
      - "With C(proposed), a policy body as it would be PUT (C({properties: {...}})); the reductions of tiers that are not
        operational are what Azure rejects on an immutable vault."
      - With C(policy), another policy of the vault; the reductions are why Azure blocks moving protected items from
        O(policy) to that policy on an immutable vault.
    type: dict
    suboptions:
      policy:
        description: Name of the other policy.
        type: str
      proposed:
        description: Proposed policy body.
        type: dict
  policy:
    description:
      - The policy that O(compare_to) compares against (its current state is the "before").
      - Used only with O(compare_to); to choose the policies checked against O(minimum), use O(policies).
    type: str
  allow_irreversible:
    description:
      - Consent to raise retention of a vault whose immutability is V(locked). On a locked vault a raised retention can never
        be lowered again, so without this consent O(mode=enforce) fails before any write, in check mode too, when a policy
        would be raised. Raising retention of any other vault, or an operational tier, needs no consent.
      - Consent counts only when it is written in the task itself; a value from C(module_defaults) is ignored (see the
        collection's C(docs/reliability.md)).
    type: bool
    default: false
notes:
  - A O(minimum) below the shortest retention Azure accepts for that tier in any policy kind is refused before any request
    (daily, default, instant and snapshot 1 day; weekly 1 week; monthly 1 month; yearly 1 year; log 7 days).
  - Azure VM instant restore keeps at most 5 days (V1) or 30 days (Enhanced), and SQL / SAP HANA log backups at most 35 days;
    a minimum above these is reported as a violation that is not fixable.
  - A O(minimum) above the longest retention Azure keeps for that tier in any policy kind is refused before any request
    (daily and default 9999 days, weekly 5163 weeks, monthly 1188 months, yearly 99 years; the limits Microsoft's clients
    enforce, see C(docs/reliability.md)); Azure Files snapshot tiers keep at most 200 days, 200 weeks, 120 months or 10 years.
  - These limits are taken from Azure Backup's support matrices and are conservative.
  - O(compare_to) sends nothing to Azure; the module only reads the vault and its policies.
'''

EXAMPLES = r'''
- name: Report policies that keep less than the baseline
  vaultlock.azure.backup_policy_retention:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    minimum: {daily: 30d, weekly: 12w, monthly: 12m, yearly: 1y}
  register: retention

- name: Raise weak policies of a Backup vault, vault store 30 days, operational store 7 days
  vaultlock.azure.backup_policy_retention:
    id: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-prod
    minimum:
      default: {OperationalStore: 7d, VaultStore: 30d}
    mode: enforce

- name: Raise the policies of a locked vault (a raised retention can never be lowered there again)
  vaultlock.azure.backup_policy_retention:
    name: rsv-locked-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    minimum: {daily: 30d}
    mode: enforce
    allow_irreversible: true

- name: Will Azure accept this policy change (daily retention 14 days)?
  vaultlock.azure.backup_policy_retention:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    policy: DailyPolicy
    compare_to:
      proposed:
        properties:
          backupManagementType: AzureIaasVM
          policyType: V1
          timeZone: UTC
          instantRpRetentionRangeInDays: 2
          schedulePolicy:
            schedulePolicyType: SimpleSchedulePolicy
            scheduleRunFrequency: Daily
            scheduleRunTimes: ["2026-01-01T02:00:00Z"]
          retentionPolicy:
            retentionPolicyType: LongTermRetentionPolicy
            dailySchedule:
              retentionTimes: ["2026-01-01T02:00:00Z"]
              retentionDuration: {count: 14, durationType: Days}
  register: proposal

- name: Stop before a change Azure would reject
  ansible.builtin.assert:
    that: not proposal.rejected_by_azure
    fail_msg: "{{ proposal.msg }}"
'''

RETURN = r'''
compliant:
  description: True when no violation remains (in check mode, when none would remain after enforcing).
  returned: when minimum is given
  type: bool
  sample: false
violations:
  description:
    - Violations that remain (in check mode, that would remain), each with the policy, tier, sub-policy, datastore, what it
      keeps and what is needed (ISO-8601; C(have) null when the policy has no such tier), C(fixable) (whether O(mode=enforce)
      can raise it; a missing tier, an unreadable value or a value above Azure's maximum is not) and a C(reason) sentence.
    - With O(mode=enforce) only the violations that raising cannot fix remain.
  returned: when minimum is given
  type: list
  elements: dict
  sample: [{"policy": "DailyPolicy", "tier": "daily", "sub_policy": null, "datastore": null, "have": "P7D", "need": "P30D",
            "fixable": true, "reason": "daily retention keeps 7d, less than minimum.daily 30d"}]
changes:
  description:
    - Tiers raised (or that would be raised in check mode), each with its policy. Empty with O(mode=check).
    - C(irreversible) is true when the vault is locked and the tier is not operational (such a raise can never be undone).
    - When the task fails after some policies were raised, the ones that were are listed (and C(changed) is true).
  returned: always
  type: list
  elements: dict
  sample: [{"policy": "DailyPolicy", "tier": "daily", "sub_policy": null, "datastore": null, "before": "P7D", "after": "P30D",
            "irreversible": false}]
policies:
  description: Normalised records of the policies checked, after the task (predicted in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "DailyPolicy", "workload": "AzureIaasVM", "tiers": [{"tier": "daily", "duration": "P30D", "days": 30}]}]
reductions:
  description:
    - Tiers that the compared policy or proposal keeps for less time (C(after) null when it drops the tier).
    - C(operational) is true for an operational backup tier (Backup vault operational store, Azure Files snapshots, VM
      and SAP HANA instant restore snapshots), which immutability does not protect.
  returned: when compare_to is given
  type: list
  elements: dict
  sample: [{"tier": "weekly", "sub_policy": null, "datastore": null, "before": "P12W", "after": "P4W", "operational": false}]
rejected_by_azure:
  description:
    - True when the vault is immutable and the comparison found reductions of tiers that are not operational, so Azure will
      refuse the change or the move.
    - Reductions of operational tiers alone never make it true; the message says they are not protected by immutability.
  returned: when compare_to is given
  type: bool
  sample: true
immutability:
  description: The vault's immutability state (V(disabled), V(enabled), V(locked)).
  returned: always
  type: str
  sample: enabled
msg:
  description: A sentence summarising the outcome.
  returned: always
  type: str
  sample: 2 retention violations in 1 policy, 2 fixable
diff:
  description: Tiers of each changed policy before and after.
  returned: when diff mode is on and something changes
  type: dict
  sample: {"before": {"DailyPolicy": {"daily": "P7D"}}, "after": {"DailyPolicy": {"daily": "P30D"}}}
cert_validation_mode:
  description:
    - V(ignore) when TLS certificate validation was turned off for this task (O(cert_validation_mode=ignore) or
      E(AZURE_CERT_VALIDATION_MODE=ignore)); a warning says so too. Absent when certificates were validated.
  returned: when certificate validation was off
  type: str
  sample: ignore
'''

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, InputError, PartialChangeError
from ansible_collections.vaultlock.azure.plugins.module_utils._module import VAULT_REF_ARGSPEC, VAULT_REF_EXCLUSIVE, VaultlockModule
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import (
    TIERS,
    RetentionError,
    check_minimum,
    find_reductions,
    is_operational,
    normalise_policy,
    raise_policy,
    validate_minimum,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend, vault_record

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
                         % (ref.label, ', '.join("'%s'" % m for m in missing), known))
    selected = []
    for name in names:
        if by_name[name.lower()] not in selected:
            selected.append(by_name[name.lower()])
    return selected


def check_arguments(params):
    """Every check that needs no request. Returns the parsed minimum (None when not given)."""
    minimum = params['minimum']
    spec = params['compare_to']
    if minimum is None and spec is None:
        raise InputError('give minimum (a retention baseline to check or enforce), compare_to (to detect retention reductions), or both')
    if params['policy'] and spec is None:
        raise InputError('policy names the policy that compare_to compares against and is used only with compare_to; '
                         'to choose the policies checked against minimum, use policies')
    if spec is not None:
        if not params['policy']:
            raise InputError('compare_to needs policy: the name of the policy whose current retention is the "before"')
        has_policy = bool(spec.get('policy'))
        has_proposed = spec.get('proposed') is not None
        if has_policy == has_proposed:
            raise InputError('compare_to needs exactly one of policy (another policy of the vault) or proposed (a policy body); got %s'
                             % ('both' if has_policy else 'neither'))
        proposed = spec.get('proposed')
        if has_proposed and not isinstance(proposed.get('properties'), dict):
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
    immutable = immutability in ('enabled', 'locked')
    protected = [r for r in reductions if not r['operational']]
    operational = [r for r in reductions if r['operational']]
    rejected = bool(protected) and immutable
    unprotected = ('%d operational tier(s) (%s) not protected by immutability: operational backups are kept outside the '
                   'vault and Azure accepts shortening them' % (len(operational), _listed(operational))) if operational else ''
    if rejected:
        msg = ('Azure will reject %s: %s is immutable (%s) and %d retention tier(s) would keep less: %s'
               % (what, ref.label, immutability, len(protected), _listed(protected)))
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
    immutability = vault_record(store.get(ref), ref.vault_type)['immutability']
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

    locked = immutability == 'locked'
    plans, violations = _plan(params, ref, _select(resources, params['policies'], ref), locked)
    _check_consent(params, ref, plans, locked)
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
        failure = dict(result)
        failure['msg'] = '%s does not meet the retention minimum (fail_on_violation): %s' % (ref.label, details)
        mod.module.fail_json(**failure)
    return result


def main():
    mod = VaultlockModule(
        argument_spec=dict(VAULT_REF_ARGSPEC, **{
            'policies': {'type': 'list', 'elements': 'str'},
            'minimum': {'type': 'dict'},
            'mode': {'type': 'str', 'choices': ['check', 'enforce'], 'default': 'check'},
            'fail_on_violation': {'type': 'bool', 'default': False},
            'compare_to': {'type': 'dict', 'options': {'policy': {'type': 'str'}, 'proposed': {'type': 'dict'}}},
            'policy': {'type': 'str'},
            'allow_irreversible': {'type': 'bool', 'default': False},
        }),
        mutually_exclusive=VAULT_REF_EXCLUSIVE,
    )
    mod.run(run)


if __name__ == '__main__':
    main()
