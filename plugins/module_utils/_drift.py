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

What a baseline holds and how a vault drifts from it is each hardening rule's own (module_utils/_rules, one file per
setting: its baseline key, findings, action and changes); this module loops over the rules in order and names no
setting. The baseline is a minimum; a finding says whether fixing it is ``irreversible``, and each entry lists the
``changes`` a run makes, computed with the state modules' own planning functions, so check mode predicts what apply does.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import escaped, shown, type_name
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import VAULT_TYPES
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._preset import PRESET_DEFERRED
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import BASELINE_KEYS, PER_POLICY, RULES, SETTING_NAMES, applied, context
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import CONSENT, DriftError, check_keys, is_bool, lower

SETTINGS = SETTING_NAMES


def validate_baseline(baseline):
    """Check a baseline and return it normalised (every key present): each rule checks its own key. Raises DriftError."""
    if baseline is None:
        baseline = {}
    if not isinstance(baseline, Mapping):
        raise DriftError("the baseline must be a dictionary, got %s" % type_name(baseline))
    deferred = baseline.get(PRESET_DEFERRED)
    if deferred is not None:
        # Written by the azure_policy preset (_policy/_preset.py): the settings it raised to an irreversible target.
        if not isinstance(deferred, (list, tuple)) or not all(isinstance(key, str) for key in deferred):
            raise DriftError('baseline.%s must be a list of setting names, got %r' % (PRESET_DEFERRED, deferred))
        baseline = dict((key, value) for key, value in baseline.items() if key != PRESET_DEFERRED)
    check_keys(baseline, BASELINE_KEYS, 'baseline')

    allow = baseline.get(CONSENT, False)
    if allow is None:
        allow = False
    if not is_bool(allow):
        raise DriftError("baseline.allow_irreversible must be true or false, got %s" % shown(allow))
    result = {CONSENT: allow}
    for rule in RULES:
        if rule.key:
            result[rule.key] = rule.validate_baseline(baseline)
    if deferred:
        result[PRESET_DEFERRED] = list(deferred)
    return result


def vault_drift(vault, baseline):
    """Drift entry of one vault against a baseline already passed through validate_baseline: each rule's findings (in
    report order), actions and changes (in the order a run applies them), and the keys a rule adds of its own."""
    if not isinstance(vault, Mapping):
        raise DriftError("every vault must be a dictionary (a vault_immutability_info record), got %s" % type_name(vault))
    shared = context(vault)
    findings = []
    actions = {}
    changes = {}
    posture = {}
    for rule in RULES:
        found, action, planned = rule.evaluate(vault, baseline, shared)
        findings.extend(found)
        if rule.posture_key:
            posture[rule.posture_key] = rule.posture(vault, baseline, found)
        if rule.action:
            actions[rule.action] = action
            changes[rule.action] = planned
    entry = {
        'id': vault.get('id'),
        'name': vault.get('name'),
        'vault_type': vault.get('vault_type'),
        'subscription_id': vault.get('subscription_id'),
        'resource_group': vault.get('resource_group'),
        'location': vault.get('location'),
        # Each rule's state of the vault, compliant or not (Rule.posture).
        'posture': posture,
        'drift': bool(findings),
        'findings': findings,
        'actions': actions,
        'changes': [change for rule in applied() for change in changes[rule.action]],
    }
    for rule in RULES:
        entry.update(rule.entry(vault))
    return entry


def sort_key(entry):
    """Stable report order: subscription, resource group, name, kind (case-insensitive like ARM)."""
    return tuple(lower(entry.get(key)) or '' for key in ('subscription_id', 'resource_group', 'name', 'vault_type'))


def compute_drift(vaults, baseline):
    """Drift entries for a list of vault records, in a stable order."""
    if vaults is None:
        vaults = []
    if isinstance(vaults, Mapping) and 'vaults' in vaults:
        # A registered vault_immutability_info result.
        vaults = vaults['vaults']
    if isinstance(vaults, (str, bytes)) or not isinstance(vaults, (list, tuple)):
        raise DriftError("vaults must be a list of vault records, got %s" % type_name(vaults))
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
        raise DriftError("drift must be the list that vault_drift returns, got %s" % type_name(drift))
    by_setting = dict((s, {'vaults': 0, 'findings': 0, 'fixable': 0, 'unfixable': 0, 'option': 0, 'person': 0}) for s in SETTINGS)
    by_type = dict((t, {'vaults': 0, 'drifting': 0, 'findings': 0}) for t in VAULT_TYPES)
    counts = {'vaults': 0, 'drifting': 0, 'clean': 0, 'findings': 0, 'fixable': 0, 'unfixable': 0,
              'resolved': 0, 'vaults_with_actions': 0, 'vaults_with_unfixable': 0}
    for rule in RULES:
        counts.update(dict.fromkeys(rule.counts({}), 0))
    for entry in drift:
        if not isinstance(entry, Mapping):
            raise DriftError("every drift entry must be a dictionary, got %s" % type_name(entry))
        open_findings = [f for f in entry.get('findings') or [] if not f.get('resolved')]
        counts['resolved'] += len(entry.get('findings') or []) - len(open_findings)
        counts['vaults'] += 1
        kind = by_type.setdefault(entry.get('vault_type') or 'unknown', {'vaults': 0, 'drifting': 0, 'findings': 0})
        kind['vaults'] += 1
        for rule in RULES:
            for key, count in rule.counts(entry).items():
                counts[key] += count
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
            bucket = by_setting.setdefault(setting, {'vaults': 0, 'findings': 0, 'fixable': 0, 'unfixable': 0, 'option': 0, 'person': 0})
            bucket['findings'] += 1
            counts['findings'] += 1
            key = 'fixable' if finding.get('fixable') else 'unfixable'
            bucket[key] += 1
            counts[key] += 1
            if not finding.get('fixable'):
                # Of those not fixable here: a named option would fix it, or a person must act (_reports.FIX_KINDS).
                bucket['option' if finding.get('option') else 'person'] += 1
            if setting not in seen:
                seen.add(setting)
                bucket['vaults'] += 1
    counts['by_setting'] = by_setting
    counts['by_vault_type'] = by_type
    return counts


def _finding_key(finding):
    if finding.get('setting') not in PER_POLICY:
        return finding.get('setting')
    parts = [finding.get('policy'), finding.get('tier'), finding.get('sub_policy'), finding.get('datastore')]
    return '%s %s' % (finding.get('setting'), '/'.join(str(part) for part in parts if part))


def check_entries(drift, where='drift'):
    """``drift`` as the vault_drift filter returns it (a list; None is []), or DriftError naming the first entry that is
    not a drift entry. Every drift entry says ``drift`` true or false: a list of vault records (vault_immutability_info's
    ``vaults``, not passed through vault_drift) has none, and was counted as a fleet without drift."""
    if drift is None:
        return []
    if isinstance(drift, (str, bytes, Mapping)) or not isinstance(drift, (list, tuple)):
        raise DriftError('%s must be the list that the vaultlock.azure.vault_drift filter returns, got %s' % (where, type_name(drift)))
    for index, entry in enumerate(drift):
        if not isinstance(entry, Mapping):
            raise DriftError('%s[%d] must be a drift entry (a dictionary from the vaultlock.azure.vault_drift filter), got %s'
                             % (where, index, type_name(entry)))
        if not is_bool(entry.get('drift')):
            raise DriftError('%s[%d] (%s) is not a drift entry: it has no drift true or false. Pass vault records through the '
                             'vaultlock.azure.vault_drift filter first (a vault record never counts as a vault without drift)'
                             % (where, index, entry.get('id') or entry.get('name') or 'no id'))
        for key in ('findings', 'changes'):
            value = entry.get(key)
            if value is not None and (not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value)):
                raise DriftError('%s[%d].%s must be a list of dictionaries (as vault_drift makes it), got %s'
                                 % (where, index, key, type_name(value) if not isinstance(value, list) else 'a list with other values'))
        for key in ('actions', 'mua', 'lock_readiness'):
            if entry.get(key) is not None and not isinstance(entry[key], Mapping):
                raise DriftError('%s[%d].%s must be a dictionary (as vault_drift makes it), got %s' % (where, index, key, type_name(entry[key])))
        # Counted by (summarize): text, never a list or a dictionary (which failed with Python's "unhashable type").
        if entry.get('vault_type') is not None and not isinstance(entry['vault_type'], str):
            raise DriftError('%s[%d].vault_type must be text (as vault_drift makes it), got %s' % (where, index, type_name(entry['vault_type'])))
        for number, item in enumerate(entry.get('findings') or []):
            if item.get('setting') is not None and not isinstance(item['setting'], str):
                raise DriftError('%s[%d].findings[%d].setting must be text (as vault_drift makes it), got %s'
                                 % (where, index, number, type_name(item['setting'])))
        if entry['drift'] and not entry.get('findings'):
            # vault_drift says drift true only with findings: an entry whose findings were cut off (a truncated or edited
            # list) was counted clean, and the report called the fleet compliant.
            raise DriftError('%s[%d] (%s) says drift true but lists no finding: it is not a whole drift entry (truncated or '
                             'edited?), and a drifting vault never counts as one without drift'
                             % (where, index, entry.get('id') or entry.get('name') or 'no id'))
    return list(drift)


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
        # Names come from Azure and from the play: control characters escaped, as in error messages (Ansible prints the
        # diff to the terminal; a line break would forge a line of it).
        header = escaped('%s (%s, %s/%s%s)' % (entry.get('name'), entry.get('vault_type'), entry.get('subscription_id'),
                                               entry.get('resource_group'), ', baseline tier %s' % entry['tier'] if entry.get('tier') else ''))
        after_header = header + (' - IRREVERSIBLE: %s' % escaped(', '.join(irreversible)) if irreversible else '')
        diffs.append({'before_header': header, 'after_header': after_header,
                      'before': _yaml_like(before), 'after': _yaml_like(after)})
    return diffs


def _yaml_like(mapping, indent=0):
    lines = []
    for key in sorted(mapping, key=str):
        value = mapping[key]
        if isinstance(value, dict):
            lines.append('%s%s:' % (' ' * indent, escaped(key)))
            lines.append(_yaml_like(value, indent + 2).rstrip('\n'))
        else:
            lines.append('%s%s: %s' % (' ' * indent, escaped(key), 'null' if value is None else escaped(value)))
    return '\n'.join(lines) + '\n'
