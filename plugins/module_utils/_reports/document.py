# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Drift reports: the drift.json document, and its Markdown and JUnit XML renderings (pure, no I/O).

``build_report(drift, meta)`` makes the document described by docs/drift-report-schema.json;
``render_markdown`` and ``render_junit`` take that document, so all three files say the same thing.
"""

from __future__ import annotations

import datetime
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import escaped, first_named, shown, type_name, visible
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import kind_label
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.policy import annotate_findings, finding_verdicts, markdown_lines, section
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import (
    FLAGS,
    LOCK_RULES,
    LOCK_TASKS,
    PER_POLICY,
    POSTURE_RULES,
    RULES,
    SETTING_ACTION,
    SETTING_LABEL,
    TASKS,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._drift import (
    DriftError,
    check_entries,
    sort_key,
    summarize,
    validate_baseline,
)

SCHEMA_VERSION = '2.4'
ACTIONS = TASKS
# The rules' columns of the table of baseline tiers.
TIER_HEADINGS = tuple(rule.tier_heading for rule in RULES if rule.tier_heading)
JUNIT_SUITE = 'harden_backup_vaults'

FINDING_KEYS = ('setting', 'policy', 'tier', 'sub_policy', 'datastore', 'have', 'want', 'fixable', 'reason', 'irreversible', 'option')

# The three kinds of finding (a finding's ``fix``), in the order the reports show them: ``run``: this run fixes it (after a
# real run, ``resolved`` says it did); ``option``: a named option (the finding's ``option``) would let a run fix it;
# ``person``: the playbook cannot fix it, a person must act (``reason`` says why).
FIX_KINDS = ('run', 'option', 'person')
FIX_LABEL = {'run': 'fixed by this run', 'option': 'fixable with an option', 'person': 'needs a person'}
# A rule's name in the posture tables (Rule.posture_label).
POSTURE_LABEL = dict((rule.posture_key, rule.posture_label) for rule in POSTURE_RULES)

# The Markdown is a summary a person reads: per section at most this many rows (vaults with the most open findings
# first when there are more), then "and N more"; drift.json always holds everything.
MD_MAX_VAULTS = 50
MD_MAX_ERRORS = 50
MD_MAX_LINES = 20
SOURCE_LABEL = {'resource_graph': 'Azure Resource Graph', 'arm': 'Azure Resource Manager',
                'mixed': 'both Resource Graph and Azure Resource Manager'}


class ReportError(DriftError):
    """Report input that cannot be used."""


_ATOMS = (str, bool, int, float, type(None))


def _plain(value):
    """A JSON-ready copy: plain dict / list / str / int / float / bool / None."""
    # Plain values first, by exact type, without a call for each (a report holds hundreds of thousands of them); a
    # subclass, such as a tagged string of Ansible's, takes the conversions below.
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        return {str(k): (v if type(v) in _ATOMS else _plain(v)) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _ATOMS else _plain(v) for v in value]
    if isinstance(value, Mapping):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return str(value)


def _lower(value):
    return None if value is None else str(value).strip().lower()


def _as_list(value, what):
    if value is None:
        return []
    if isinstance(value, Mapping) and 'results' in value:
        # A registered loop result.
        value = value['results']
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
        raise ReportError("%s must be a list, got %s" % (what, type_name(value)))
    return list(value)


def result_vault(item):
    """The vault a module result is about: {id, name, ...} from the result, its loop item or its vault."""
    for key in ('item', 'vault'):
        candidate = item.get(key)
        if isinstance(candidate, Mapping) and candidate.get('id'):
            info = dict(candidate)
            if item.get('id'):
                info['id'] = item['id']
            return info
    return {'id': item.get('id'), 'name': item.get('name')}


def _normalise_results(results):
    """meta.results -> [{action, vault: {...}, failed, changed, changes, message}] (skipped items dropped).

    Accepted: a dict keyed by action (immutability, soft_delete, retention) whose values are
    registered loop results or lists of module results; or a flat list of results that each
    carry ``action``.
    """
    if results is None:
        return []
    items = []
    if isinstance(results, Mapping):
        unknown = sorted(str(k) for k in results if k not in ACTIONS)
        if unknown:
            raise ReportError("meta.results has unknown action(s) %s; allowed: %s" % (', '.join(escaped(key) for key in unknown), ', '.join(ACTIONS)))
        for action in ACTIONS:
            for item in _as_list(results.get(action), 'meta.results.%s' % action):
                items.append((action, item))
    else:
        for item in _as_list(results, 'meta.results'):
            action = item.get('action') if isinstance(item, Mapping) else None
            if action not in ACTIONS:
                raise ReportError("every item of a meta.results list needs action: one of %s" % ', '.join(ACTIONS))
            items.append((action, item))
    normalised = []
    for action, item in items:
        if not isinstance(item, Mapping):
            raise ReportError("every result in meta.results must be a dictionary, got %s" % type_name(item))
        if item.get('skipped'):
            continue
        vault = result_vault(item)
        if not vault.get('id'):
            raise ReportError("a result for %s names no vault: give it id (or loop over drift entries so it has item.id)" % action)
        changes = item.get('changes')
        normalised.append({
            'action': action,
            'vault': vault,
            'failed': bool(item.get('failed')),
            'changed': bool(item.get('changed')),
            'changes': list(changes) if isinstance(changes, (list, tuple)) else [],
            'message': item.get('msg') or item.get('message'),
        })
    return normalised


def _change(action, change):
    if not isinstance(change, Mapping):
        change = {'after': change}
    return {
        'action': action,
        'setting': str(change.get('setting') or action),
        'policy': change.get('policy'),
        'tier': change.get('tier'),
        'sub_policy': change.get('sub_policy'),
        'datastore': change.get('datastore'),
        'before': _plain(change.get('before')),
        'after': _plain(change.get('after')),
        'irreversible': bool(change.get('irreversible')),
    }


def _vault_ref(entry):
    ref = dict((key, _plain(entry.get(key))) for key in ('id', 'name', 'vault_type', 'subscription_id', 'resource_group'))
    if entry.get('tier') is not None:
        ref['tier'] = str(_plain(entry.get('tier')))
    return ref


def _normalise_errors(errors):
    normalised = []
    for error in _as_list(errors, 'meta.errors'):
        if isinstance(error, Mapping):
            message = error.get('message') or error.get('msg')
            normalised.append({
                'scope': str(_plain(error.get('scope')) or 'unknown'),
                'message': str(_plain(message)) if message is not None else 'unknown error',
                'action': _plain(error.get('action')),
                'vault': _plain(error.get('vault')),
            })
        else:
            normalised.append({'scope': 'unknown', 'message': str(error), 'action': None, 'vault': None})
    return normalised


def _normalise_discovery(discovery):
    """meta.discovery (the role's merged vault_immutability_info ``discovery`` blocks, _targets.merge_discovery) ->
    the report's ``discovery``: where the data came from and when."""
    if not isinstance(discovery, Mapping):
        raise ReportError("meta.discovery must be a dictionary (vault_targets' discovery), got %s" % type_name(discovery))
    by_sub = discovery.get('source_by_subscription') or {}
    if not isinstance(by_sub, Mapping):
        raise ReportError("meta.discovery.source_by_subscription must be a dictionary")
    sources = {}
    for source in by_sub.values():
        sources[str(source)] = sources.get(str(source), 0) + 1
    fallbacks = []
    for item in _as_list(discovery.get('fallbacks'), 'meta.discovery.fallbacks'):
        if isinstance(item, Mapping):
            fallbacks.append({'subscription_id': _plain(item.get('subscription_id')), 'reason': _plain(item.get('reason'))})
    requested = discovery.get('requested')
    return {
        'requested': [str(r) for r in _as_list(requested, 'meta.discovery.requested')] if not isinstance(requested, str) else [requested],
        'data_time': _plain(discovery.get('data_time')),
        'sources': sources,
        'source_by_subscription': dict((str(k), str(v)) for k, v in by_sub.items()),
        'fallbacks': fallbacks,
        'resource_graph': _plain(discovery.get('resource_graph')) if isinstance(discovery.get('resource_graph'), Mapping) else None,
        'arm': _plain(discovery.get('arm')) if isinstance(discovery.get('arm'), Mapping) else None,
    }


def _timestamp(meta):
    stamp = meta.get('timestamp') or meta.get('generated_at')
    if stamp is None:
        return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    return _plain(stamp)


def _check_mode(meta):
    """The run's check mode from meta.check_mode (true or false); the 1.0 documents' meta.mode is refused by name."""
    if 'mode' in meta:
        raise ReportError("meta.mode (check | apply) was replaced by meta.check_mode (true | false) in report schema %s"
                          % SCHEMA_VERSION)
    check_mode = meta.get('check_mode', True)
    if not isinstance(check_mode, bool):
        raise ReportError("meta.check_mode must be true or false, got %s" % shown(check_mode))
    return check_mode


def _entries(drift):
    entries = _as_list(drift, 'drift')
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ReportError("every drift entry must be a dictionary (from vault_drift), got %s" % type_name(entry))
    return check_entries(entries)


def _ran(results, entries, errors):
    """What the state modules did: ({(vault id, action): succeeded}, {vault id: changed vault}); failures go in errors."""
    done = {}
    changed = {}
    by_id = dict((_lower(e.get('id')), e) for e in entries if e.get('id'))
    for result in results:
        vid = _lower(result['vault']['id'])
        key = (vid, result['action'])
        done[key] = done.get(key, True) and not result['failed']
        vault = by_id.get(vid) or result['vault']
        if result['failed']:
            errors.append({
                'scope': str(_plain(vault.get('id'))),
                'message': str(_plain(result['message']) or '%s failed' % result['action']),
                'action': result['action'],
                'vault': _plain(vault.get('name')),
            })
        if result['changed']:
            changes = [_change(result['action'], c) for c in result['changes']] or [_change(result['action'], {})]
            changed.setdefault(vid, dict(_vault_ref(vault), changes=[]))['changes'].extend(changes)
    return done, changed


def _predicted(entries):
    """{vault id: vault with the changes a run would make}: each drift entry's ``changes``, as vault_drift planned them with
    the state modules' own planning (the one place "would change" is computed)."""
    changed = {}
    for entry in entries:
        changes = entry.get('changes') if isinstance(entry.get('changes'), (list, tuple)) else []
        predicted = [_change(c.get('action') or SETTING_ACTION.get(c.get('setting'), 'soft_delete'), c)
                     for c in changes if isinstance(c, Mapping)]
        if predicted:
            changed[_lower(entry.get('id'))] = dict(_vault_ref(entry), changes=predicted)
    return changed


def _report_vault(entry, check_mode, done, changed=None):
    """One vaults[] row: the entry's findings (``resolved`` after an apply whose fixing action succeeded) and status."""
    vid = _lower(entry.get('id'))
    findings = []
    for raw in entry.get('findings') or []:
        if not isinstance(raw, Mapping):
            raise ReportError("every finding must be a dictionary (from vault_drift), got %s" % type_name(raw))
        finding = dict((key, _plain(raw.get(key))) for key in FINDING_KEYS)
        finding['fixable'] = bool(raw.get('fixable'))
        finding['irreversible'] = bool(raw.get('irreversible'))
        finding['option'] = None if finding['fixable'] or not finding['option'] else str(finding['option'])
        finding['fix'] = fix_kind(finding)
        action = SETTING_ACTION.get(finding['setting'])
        finding['resolved'] = bool(not check_mode and finding['fixable'] and done.get((vid, action)))
        findings.append(finding)
    open_findings = [f for f in findings if not f['resolved']]
    vault = dict((key, _plain(entry.get(key))) for key in ('id', 'name', 'vault_type', 'subscription_id', 'resource_group', 'location'))
    if entry.get('tier') is not None:
        # The baseline tier the vault was judged against (harden_backup_vaults_baselines), not a retention tier.
        vault['tier'] = str(_plain(entry.get('tier')))
    actions = entry.get('actions') if isinstance(entry.get('actions'), Mapping) else {}
    vault.update({
        'drift': bool(open_findings),
        'status': 'drift' if open_findings else ('fixed' if findings else 'compliant'),
        'findings': findings,
        'actions': dict((rule.action, _plain(rule.report_action(actions.get(rule.action)))) for rule in RULES if rule.action),
    })
    for rule in RULES:
        vault.update(rule.report_entry(entry, _plain))
    vault['posture'] = _vault_posture(entry, open_findings, None if check_mode else (changed or {}).get(vid))
    return vault


def fix_kind(finding):
    """``run``, ``option`` or ``person`` (FIX_KINDS) of a finding."""
    if finding.get('fixable'):
        return 'run'
    return 'option' if finding.get('option') else 'person'


def _posture_rules():
    """(rule, the names of its settings) of every posture rule, computed once."""
    return tuple((rule, frozenset(setting.name for setting in rule.settings)) for rule in POSTURE_RULES)


_POSTURE_RULES = _posture_rules()
_UNKNOWN_STATE = {'state': 'unknown', 'compliant': None}


def _vault_posture(entry, open_findings, changed):
    """A report vault row's ``posture``: each rule's state of the vault (Rule.posture, from the drift entry), ``compliant``
    judged on the findings left open; after a real run the state the run's changes (``changed``) left."""
    given = entry.get('posture') if isinstance(entry.get('posture'), Mapping) else {}
    changes = (changed or {}).get('changes') or []
    open_settings = set(f.get('setting') for f in open_findings)
    posture = {}
    for rule, settings in _POSTURE_RULES:
        state = given.get(rule.posture_key)
        state = dict(state) if isinstance(state, Mapping) else dict(_UNKNOWN_STATE)
        left = [f for f in open_findings if f.get('setting') in settings] if not open_settings.isdisjoint(settings) else []
        if changed is not None:
            state = dict(rule.posture_after(state, [c for c in changes if c.get('setting') in settings or c.get('action') == rule.action],
                                            left))
        if state.get('compliant') is not None:
            state['compliant'] = not left
        state['state'] = str(state.get('state') or 'unknown')
        posture[rule.posture_key] = _plain(state)
    return posture


def is_locked(vault):
    """Whether a report vault row is at every lock rule's irreversible state (Rule.is_lock: immutability locked)."""
    posture = vault.get('posture') or {}
    return bool(LOCK_RULES) and all((posture.get(rule.posture_key) or {}).get('state') in rule.irreversible for rule in LOCK_RULES)


def _state_counts():
    return dict((rule.posture_key, {'states': {}, 'compliant': 0, 'not_compliant': 0, 'not_checked': 0}) for rule in POSTURE_RULES)


def posture_summary(vaults):
    """The report's ``posture``: every vault in scope counted by each rule's state (compliant or not), how many are
    locked, and the same per subscription (the reports' chart of states)."""
    # One count per (subscription, rule, state, compliant or not) first, in the order first seen; the totals after.
    tally = {}
    subs = {}
    for vault in vaults:
        sub_id = str(vault.get('subscription_id') or 'unknown')
        sub = subs.get(sub_id)
        if sub is None:
            sub = subs[sub_id] = [0, 0]
        sub[0] += 1
        sub[1] += is_locked(vault)
        for key, state in (vault.get('posture') or {}).items():
            compliant = state.get('compliant')
            column = 'not_checked' if compliant is None else ('compliant' if compliant else 'not_compliant')
            cell = (sub_id, key, state.get('state'), column)
            tally[cell] = tally.get(cell, 0) + 1
    rules = _state_counts()
    by_sub = dict((sub_id, {'vaults': counts[0], 'locked': counts[1], 'rules': _state_counts()}) for sub_id, counts in subs.items())
    for (sub_id, key, name, column), count in tally.items():
        for counts in (rules.get(key), by_sub[sub_id]['rules'].get(key)):
            if counts is not None:
                states = counts['states']
                states[name] = states.get(name, 0) + count
                counts[column] += count
    locked = sum(counts[1] for counts in subs.values())
    return {
        'vaults': len(vaults),
        'locked': locked,
        'not_locked': len(vaults) - locked,
        'all_locked': bool(vaults) and locked == len(vaults),
        'lock_rules': [rule.posture_key for rule in LOCK_RULES],
        'rules': rules,
        'by_subscription': dict(sorted(by_sub.items())),
    }


def fix_counts(vaults):
    """``{run, option, person}``: open findings per kind (FIX_KINDS), and ``fixed``: findings this run resolved."""
    counts = dict.fromkeys(FIX_KINDS, 0)
    counts['fixed'] = 0
    for vault in vaults:
        for finding in vault.get('findings') or []:
            if finding.get('resolved'):
                counts['fixed'] += 1
            else:
                counts[finding.get('fix') or fix_kind(finding)] += 1
    return counts


def _split_baseline(baseline):
    """meta.baseline -> (the top-level baseline, the tiers or None): the role's checked baseline carries its tiers."""
    if baseline is None:
        return None, None
    if isinstance(baseline, Mapping) and 'tiers' in baseline:
        tiers = _as_list(baseline.get('tiers'), 'meta.baseline.tiers')
        for tier in tiers:
            if not isinstance(tier, Mapping) or not isinstance(tier.get('name'), str):
                raise ReportError("every tier of meta.baseline.tiers must be a dictionary with a name (a checked tier)")
        return validate_baseline(dict((k, v) for k, v in baseline.items() if k != 'tiers')), [_plain(tier) for tier in tiers]
    return validate_baseline(baseline), None


def by_tier(vaults, tiers=None):
    """{tier name: {vaults, drifting, findings}} over report vaults (open findings only): the tiers in their order (a tier
    that matched no vault shows 0), then ``default``, then any other tier a vault names."""
    counts = dict((str(tier.get('name')), {'vaults': 0, 'drifting': 0, 'findings': 0}) for tier in tiers or [])
    counts.setdefault('default', {'vaults': 0, 'drifting': 0, 'findings': 0})
    for vault in vaults:
        tier = counts.setdefault(vault.get('tier') or 'default', {'vaults': 0, 'drifting': 0, 'findings': 0})
        tier['vaults'] += 1
        open_findings = [f for f in vault.get('findings') or [] if not f.get('resolved')]
        if open_findings:
            tier['drifting'] += 1
            tier['findings'] += len(open_findings)
    return counts


def _lock_status(entry, ready, check_mode, predict, done):
    if not ready:
        return 'not ready'
    if check_mode:
        return 'would lock' if predict else 'not locked'
    return 'locked' if any(done.get((_lower(entry.get('id')), task)) for task in LOCK_TASKS) else 'not locked'


def lock_readiness_rows(entries, check_mode, predict, done):
    """The lock readiness section: one row per vault the baseline would lock (its drift entry has ``lock_readiness``).

    ``status``: ``not ready`` (never locked), ``would lock`` (check mode), ``locked`` (the lock ran without failing) or
    ``not locked`` (ready, but this run did not lock it: its change failed, or the run was blocked; see errors).
    """
    rows = []
    for entry in sorted(entries, key=sort_key):
        readiness = entry.get('lock_readiness')
        if not isinstance(readiness, Mapping):
            continue
        items = readiness.get('protected_items') if isinstance(readiness.get('protected_items'), Mapping) else {}
        ready = bool(readiness.get('ready'))
        row = _vault_ref(entry)
        row.update({
            'ready': ready,
            'status': _lock_status(entry, ready, check_mode, predict, done),
            'as_of': _plain(readiness.get('as_of')),
            'blockers': [dict((key, _plain(b.get(key))) for key in ('requirement', 'want', 'found', 'message'))
                         for b in readiness.get('blockers') or [] if isinstance(b, Mapping)],
            'protected_items': {'count': int(items.get('count') or 0), 'by_datasource_type': _plain(items.get('by_datasource_type') or {})},
            'policies': [{'name': _plain(p.get('name')), 'items': int(p.get('items') or 0), 'held_until': _plain(p.get('held_until'))}
                         for p in readiness.get('policies') or [] if isinstance(p, Mapping)],
            'held_until': _plain(readiness.get('held_until')),
            'held_by': _plain(readiness.get('held_by')),
            'immutability_days': _plain(readiness.get('immutability_days')),
            'immutable_until': _plain(readiness.get('immutable_until')),
            'commitments': [str(c) for c in readiness.get('commitments') or []],
            'requirements': _plain(readiness.get('requirements') or {}),
        })
        rows.append(row)
    return rows


# What drift.json's weakened_baseline says of each weaker key of the baseline.
WEAKENED_KEYS = ('variable', 'key', 'tier', 'value', 'default', 'why', 'lowers', 'source', 'for_run')
# What drift.json's excluded_vaults says of each excluded vault (plugin_utils/_excluded.py).
EXCLUDED_KEYS = ('id', 'name', 'vault_type', 'subscription_id', 'resource_group', 'tier', 'excluded_by', 'checked_at', 'findings')
# What drift.json's unread_vaults says of each vault the previous report judged that this run could not read (plugin_utils/_excluded.py).
UNREAD_KEYS = ('id', 'name', 'vault_type', 'subscription_id', 'resource_group', 'tier', 'why', 'checked_at', 'findings')


def build_report(drift, meta=None):
    """The drift.json document (schema_version 2.4) from vault_drift entries and run metadata.

    meta: ``check_mode`` (true | false, default true: whether the play ran in Ansible's check mode), ``timestamp``
    (default now, UTC), ``baseline``, ``errors`` (discovery errors ``{scope, message}``), ``results`` (module results,
    see _normalise_results), ``predict`` (check mode without module results: list in ``changed`` the ``changes`` of the
    drift entries), ``discovery`` (where the vaults were read from and when, _targets.merge_discovery: the document then
    has ``discovery``), ``scope_changes`` (what left the scope since the previous report, _scope_loss.section: the
    document then has ``scope_changes``). After a real run a fixable finding is ``resolved`` when the action that fixes it ran for that vault
    without failing; ``vaults[].drift`` and the summary count what is left. ``lock_readiness`` lists the vaults the
    baseline would lock, ready or not (lock_readiness_rows).
    """
    if meta is None:
        meta = {}
    if not isinstance(meta, Mapping):
        raise ReportError("meta must be a dictionary, got %s" % type_name(meta))
    check_mode = _check_mode(meta)
    entries = _entries(drift)
    baseline, tiers = _split_baseline(meta.get('baseline'))
    results = _normalise_results(meta.get('results'))
    errors = _normalise_errors(meta.get('errors'))
    done, changed = _ran(results, entries, errors)
    if check_mode and meta.get('predict') and not results:
        # No state module ran (the role's default check mode): what a run would change.
        changed = _predicted(entries)
    vaults = [_report_vault(entry, check_mode, done, changed) for entry in sorted(entries, key=sort_key)]
    summary = summarize(vaults)
    summary['by_fix'] = fix_counts(vaults)
    summary['fixed'] = sum(1 for v in vaults if v['status'] == 'fixed')
    summary['changed'] = len(changed)
    summary['errors'] = len(errors)
    if tiers is not None or any('tier' in vault for vault in vaults):
        summary['by_tier'] = by_tier(vaults, tiers)
    warnings = [str(_plain(w)) for w in _as_list(meta.get('warnings'), 'meta.warnings')]
    report = {
        'schema_version': SCHEMA_VERSION,
        'generated_at': _timestamp(meta),
        'check_mode': check_mode,
        'baseline': _plain(baseline),
        'summary': summary,
        'posture': posture_summary(vaults),
        'vaults': vaults,
        'changed': sorted(changed.values(), key=sort_key),
        'errors': errors,
        'warnings': warnings,
        # In check mode a ready vault "would lock" when the run predicts its changes (drift_diff) or ran the modules in check mode.
        'lock_readiness': lock_readiness_rows(entries, check_mode, bool(results) or bool(meta.get('predict')), done),
    }
    if tiers is not None:
        report['tiers'] = tiers
    if meta.get('discovery') is not None:
        report['discovery'] = _normalise_discovery(meta['discovery'])
    if meta.get('scope_changes') is not None:
        report['scope_changes'] = _plain(meta['scope_changes'])
    # The vaults the exclusions left out, not checked, with the open findings the last report that checked them had (drift.sarif
    # keeps them as suppressed results: a code scanning service would otherwise close their alerts as fixed).
    excluded = _as_list(meta.get('excluded_vaults'), 'meta.excluded_vaults')
    if excluded:
        report['excluded_vaults'] = [_plain(dict((key, entry.get(key)) for key in EXCLUDED_KEYS)) for entry in excluded
                                     if isinstance(entry, Mapping)]
    # The vaults the previous report judged that this run could not read, with the open findings it had (drift.sarif keeps
    # them as open results: losing read access is not fixing a vault).
    unread = _as_list(meta.get('unread_vaults'), 'meta.unread_vaults')
    if unread:
        report['unread_vaults'] = [_plain(dict((key, entry.get(key)) for key in UNREAD_KEYS)) for entry in unread if isinstance(entry, Mapping)]
    # The keys of the baseline weaker than the role's defaults, each with its value and where it came from (its warning is
    # in ``warnings`` too): a weaker baseline is never a silent pass (_targets.weakened_baseline).
    weakened = _as_list(meta.get('weakened_baseline'), 'meta.weakened_baseline')
    if weakened:
        report['weakened_baseline'] = [_plain(dict((key, entry.get(key)) for key in WEAKENED_KEYS)) for entry in weakened
                                       if isinstance(entry, Mapping)]
    # What Azure Policy would say (_policy.evaluate), and the definitions each finding answers to.
    policy = section(meta.get('azure_policy'))
    if policy is not None:
        report['azure_policy'] = policy
        annotate_findings(vaults, policy)
    return report


def check_report(report):
    """The drift_report_json document at all (summary and vaults) and of this schema_version, or ReportError."""
    if not isinstance(report, Mapping) or 'vaults' not in report or 'summary' not in report:
        raise ReportError("expected the document that drift_report_json returns (with summary and vaults)")
    if report.get('schema_version') != SCHEMA_VERSION:
        raise ReportError("unsupported drift report schema_version %s (this collection writes %s)"
                          % (shown(report.get('schema_version')), SCHEMA_VERSION))


# ---------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r'([\\`*_\[\]<|~])')
# Line breaks of every kind (\x85, \u2028 too) and control characters: a table cell is one line.
_NEWLINES = re.compile('[\\s\x00-\x1f\x7f-\x9f\u2028\u2029]+')


def md_escape(value):
    """Text safe in a GitHub-flavoured Markdown table cell: one line, no markup, '|' escaped, nothing hidden."""
    if value is None:
        return '-'
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    # Characters that show nothing or turn the text around them (U+202E, U+200B) as their code: visible().
    text = visible(_NEWLINES.sub(' ', str(value))).replace('&', '&amp;')
    # '@' as an entity: '@org/team' in a report posted as a pull request comment must not notify anyone (GitHub does not
    # treat an entity as a mention).
    return _MD_SPECIAL.sub(r'\\\1', text).replace('@', '&#64;')


def _value(value):
    """A have / want / before / after value as short text."""
    if value is None:
        return 'none'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, Mapping):
        return ', '.join('%s=%s' % (k, _value(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ', '.join(_value(v) for v in value)
    return str(value)


def finding_label(finding):
    """'retention: policy X, tier daily, sub-policy Full, datastore VaultStore' and the like."""
    label = SETTING_LABEL.get(finding.get('setting'), str(finding.get('setting')))
    parts = []
    for key, word in (('policy', 'policy'), ('tier', 'tier'), ('sub_policy', 'sub-policy'), ('datastore', 'datastore')):
        if finding.get(key) not in (None, ''):
            parts.append('%s %s' % (word, finding[key]))
    return '%s: %s' % (label, ', '.join(parts)) if parts else label


def plural(count, word, words=None):
    return '%d %s' % (count, word if count == 1 else (words or word + 's'))


def _row(cells):
    return '| ' + ' | '.join(cells) + ' |'


def _table(header, rows):
    lines = [_row(header), _row(['---'] * len(header))]
    lines.extend(_row(r) for r in rows)
    return lines


def has_tiers(report):
    """Whether the report names each vault's baseline tier (a harden_backup_vaults run; the renderings then show it)."""
    return 'tiers' in report or any(vault.get('tier') for vault in report.get('vaults') or [])


def with_tier(cells, tier, tiered):
    """A table row (or header) with the baseline tier as its second cell when the report has tiers."""
    return cells[:1] + [tier] + cells[1:] if tiered else cells


def tier_label(vault):
    """'baseline tier prod' for a vault that names its tier, else ''."""
    return 'baseline tier %s' % vault['tier'] if vault.get('tier') else ''


def match_text(match):
    """A tier's match in words: 'tags env=prod; names *-prod-*, rsv-?' (criteria AND, values any-of)."""
    parts = []
    for key, value in (match or {}).items():
        if key == 'tags' and isinstance(value, Mapping):
            tags = ['%s=%s' % (k, '|'.join(str(x) for x in v)) if isinstance(v, (list, tuple)) else
                    ('%s (any value)' % k if v is None else '%s=%s' % (k, v)) for k, v in value.items()]
            parts.append('tags %s' % ', '.join(tags))
        else:
            parts.append('%s %s' % (key.replace('_', ' '), ', '.join(str(x) for x in value) if isinstance(value, (list, tuple)) else value))
    return '; '.join(parts) or 'every vault no tier matches'


def tier_rows(report):
    """One row per tier and one for the default tier: name, match, each rule's cell (TIER_HEADINGS), lock requirements."""
    rows = []
    baseline = report.get('baseline') or {}
    tiers = list(report.get('tiers') or [])
    default = {'name': 'default', 'match': None}
    for rule in RULES:
        default.update(rule.to_tier(baseline.get(rule.key)) if rule.key else {})
    default['lock_requirements'] = None
    tiers.append(default)
    for tier in tiers:
        cells = [rule.tier_cell(tier, _value) for rule in RULES if rule.tier_heading]
        lock = _value(tier.get('lock_requirements')) if tier.get('lock_requirements') else 'role default'
        rows.append([tier.get('name'), match_text(tier.get('match')), *cells, lock])
    return rows


def _more(shown_count, total, what):
    """'... and N more <what>: see drift.json.' when rows were left out, else None."""
    if total <= shown_count:
        return None
    return '... and %d more %s: the full list is in drift.json.' % (total - shown_count, what)


def _open_findings(vault):
    return [f for f in vault.get('findings') or [] if not f.get('resolved')]


def _top_drifting(vaults, limit):
    """The drifting vaults to list: all of them in report order when they fit, else the ``limit`` with the most open
    findings (irreversible and unfixable ones first), in that order."""
    drifting = [v for v in vaults if v.get('drift')]
    if len(drifting) <= limit:
        return drifting, len(drifting)

    def weight(vault):
        found = _open_findings(vault)
        return (-sum(1 for f in found if f.get('irreversible')), -sum(1 for f in found if not f.get('fixable')), -len(found))

    ranked = sorted(enumerate(drifting), key=lambda pair: (weight(pair[1]), pair[0]))
    return [vault for _index, vault in ranked[:limit]], len(drifting)


def discovery_text(discovery, escape=str):
    """'read from Azure Resource Graph for 2 subscriptions, as of <time> (UTC). Resource Graph can lag...': where the data
    came from and when (report['discovery']), its values written by ``escape``."""
    sources = discovery.get('sources') or {}
    parts = ['%s for %s' % (SOURCE_LABEL.get(source, escape(source)), plural(count, 'subscription'))
             for source, count in sorted(sources.items(), key=lambda kv: (kv[0] != 'resource_graph', kv[0]))]
    line = 'read from %s' % (', '.join(parts) if parts else 'no subscription')
    if discovery.get('data_time'):
        line += ', as of %s (UTC)' % escape(discovery['data_time'])
    line += '.'
    if sources.get('resource_graph') or sources.get('mixed'):
        line += (' Resource Graph can lag Azure Resource Manager by minutes; every change is planned from a fresh Azure '
                 'Resource Manager read of the vault or policy it changes.')
    return line


def discovery_lines(discovery):
    """Markdown lines: where the data came from and when (report['discovery'])."""
    if not isinstance(discovery, Mapping):
        return []
    lines = ['**Data:** ' + discovery_text(discovery, md_escape)]
    fallbacks = discovery.get('fallbacks') or []
    if fallbacks:
        lines.append('')
        lines.append('Read from Azure Resource Manager instead of Resource Graph (%s):' % plural(len(fallbacks), 'subscription'))
        lines.extend('- %s: %s' % (md_escape(f.get('subscription_id')), md_escape(f.get('reason'))) for f in fallbacks[:MD_MAX_LINES])
        more = _more(MD_MAX_LINES, len(fallbacks), 'subscriptions')
        if more:
            lines.append('- %s' % more)
    return lines


def json_chunks(value, levels, sort_keys=True, indent='', compact=False):
    """``value`` as JSON text, in pieces: each member of a non-empty object or list on a line of its own down to ``levels``
    levels, anything deeper whole on its line (written by the C encoder: a 20,000-vault report in a second, where
    ``json.dump(indent=2)`` takes several). ``compact``: ASCII, no spaces and no line breaks (the pieces are the same,
    so that no more than one member at that depth is ever encoded at a time). ``json.loads`` of the joined pieces is
    ``value``."""
    if levels <= 0 or not value or not isinstance(value, (dict, list)):
        yield json.dumps(value, sort_keys=sort_keys, ensure_ascii=compact, separators=(',', ':') if compact else (', ', ': '))
        return
    inner = '' if compact else '\n' + indent + '  '
    close = '' if compact else '\n' + indent
    if isinstance(value, dict):
        yield '{'
        for position, key in enumerate(sorted(value) if sort_keys else value):
            yield '%s%s%s:%s' % (',' if position else '', inner, json.dumps(str(key), ensure_ascii=compact), '' if compact else ' ')
            yield from json_chunks(value[key], levels - 1, sort_keys, inner[1:], compact)
        yield close + '}'
        return
    yield '['
    for position, member in enumerate(value):
        yield (',' if position else '') + inner
        yield from json_chunks(member, levels - 1, sort_keys, inner[1:], compact)
    yield close + ']'


def write_json(report, handle):
    """drift.json: the report, keys sorted, a line per top-level key and per member of each top-level list or object
    (each vault whole on its line, so a report reads and diffs a line per vault), and a final newline."""
    for chunk in json_chunks(report, 2):
        handle.write(chunk)
    handle.write('\n')


def render_markdown(report):
    """Markdown for a person reading a pull request: summary, counts, drift rows, changes, errors.

    It stays readable at any fleet size: the counts cover every vault, while the drift, change and error sections list at
    most MD_MAX_VAULTS vaults (MD_MAX_ERRORS errors), the worst first when there are more, and say how many were left out
    (drift.json has them all).
    """
    check_report(report)
    summary = report['summary']
    check_mode = report.get('check_mode', True)
    errors = report.get('errors') or []
    already = already_met(report)
    lines = ['# Backup vault drift report', '']
    lines.append('%s, generated %s, report schema %s.' % (
        'Check mode' if check_mode else 'Real run', md_escape(report.get('generated_at')), md_escape(report.get('schema_version'))))
    lines.append('')
    if report.get('discovery') is not None:
        lines.extend(discovery_lines(report.get('discovery')))
        lines.append('')
    lines.extend(_markdown_posture(report))
    if summary['drifting']:
        lines.append('**Drift:** %d of %s drift from the baseline: %s, %d fixable, %d not fixable.' % (
            summary['drifting'], plural(summary['vaults'], 'vault'), plural(summary['findings'], 'finding'),
            summary['fixable'], summary['unfixable']))
    elif not summary['vaults']:
        # Not "no drift": a run that judged no vault (a scope that matched nothing, every vault excluded) says nothing of a fleet.
        lines.append('**No vault checked.** This report judges no vault, so it says nothing about drift.')
    else:
        lines.append('**No drift.** %s checked, all meet the baseline.' % plural(summary['vaults'], 'vault'))
    if summary['findings'] or (summary.get('by_fix') or {}).get('fixed'):
        lines.append('')
        lines.append('**Findings by who fixes them:** %s.' % md_escape(fix_text(summary, check_mode, already)))
    if not check_mode:
        lines.append('')
        lines.append('Changed %s; %s.' % (plural(summary.get('changed', 0), 'vault'), fixed_text(summary, already)))
    if errors:
        lines.append('')
        lines.append('**%s:** some vaults may not have been checked or changed; see Errors.' % plural(len(errors), 'error'))
    irreversible = sum(1 for c in report.get('changed') or [] for x in c.get('changes') or [] if x.get('irreversible'))
    if irreversible:
        lines.append('')
        lines.append('**Irreversible:** %s %s never be undone.' % (
            plural(irreversible, 'change'), 'would' if check_mode else 'made here can'))
    lines.append('')

    lines.extend(_table(['Vaults', 'Count'], [
        ['Vaults', str(summary['vaults'])],
        ['Drifting', str(summary['drifting'])],
        ['Clean', str(summary['clean'])],
        ['With fixable findings', str(summary['vaults_with_actions'])],
        ['With findings that cannot be fixed here', str(summary['vaults_with_unfixable'])],
    ] + [[flag.summary, str(summary.get(flag.count, 0))] for flag in FLAGS]))
    lines.append('')
    lines.extend(_table(['Setting', 'Vaults', 'Findings', 'Fixable', 'Not fixable', 'Fixable with an option', 'Needs a person'], [
        [md_escape(SETTING_LABEL.get(s, s)), str(c['vaults']), str(c['findings']), str(c['fixable']), str(c['unfixable']),
         str(c.get('option', 0)), str(c.get('person', 0))]
        for s, c in summary['by_setting'].items()
    ]))
    lines.append('')
    lines.extend(_table(['Vault type', 'Vaults', 'Drifting', 'Findings'], [
        [md_escape(kind_label(t)), str(c['vaults']), str(c['drifting']), str(c['findings'])]
        for t, c in summary['by_vault_type'].items()
    ]))
    tiered = has_tiers(report)
    if summary.get('by_tier'):
        lines.append('')
        lines.extend(_table(['Baseline tier', 'Vaults', 'Drifting', 'Findings'], [
            [md_escape(t), str(c['vaults']), str(c['drifting']), str(c['findings'])] for t, c in summary['by_tier'].items()
        ]))

    if report.get('tiers'):
        lines.extend(['', '## Baseline tiers', '', 'Tried in order, the first match wins; a vault no tier matches is judged '
                      'against the default tier.', ''])
        lines.extend(_table(['Baseline tier', 'Match'] + list(TIER_HEADINGS) + ['Lock requirements'],
                            [[md_escape(cell) for cell in row] for row in tier_rows(report)]))

    by_sub = {}
    for vault in report['vaults']:
        counts = by_sub.setdefault(str(vault.get('subscription_id')), [0, 0, 0])
        counts[0] += 1
        if vault.get('drift'):
            counts[1] += 1
            counts[2] += len(_open_findings(vault))
    if len(by_sub) > 1 and summary['drifting']:
        ranked = sorted(by_sub.items(), key=lambda kv: (-kv[1][1], kv[0]))
        lines.append('')
        lines.extend(_table(['Subscription', 'Vaults', 'Drifting', 'Findings'], [
            [md_escape(sub), str(c[0]), str(c[1]), str(c[2])] for sub, c in ranked[:MD_MAX_LINES]]))
        more = _more(MD_MAX_LINES, len(ranked), 'subscriptions')
        if more:
            lines.extend(['', more])

    listed, drifting = _top_drifting(report['vaults'], MD_MAX_VAULTS)
    # With an azure_policy section, a column says which of the definitions that check a finding's setting judge the vault
    # non-compliant and which compliant: the finding's azure_policy names them all and is no verdict.
    policy = ['Azure Policy'] if report.get('azure_policy') is not None else []
    rows = []
    for vault in listed:
        flags = ['yes' if flag.of(vault) else 'no' for flag in FLAGS]
        for finding in vault.get('findings') or []:
            if finding.get('resolved'):
                continue
            fixable = md_escape(fix_cell(finding, check_mode))
            if finding.get('reason'):
                fixable += ': ' + md_escape(finding['reason'])
            rows.append(with_tier([md_escape(vault.get('name')), md_escape(kind_label(vault.get('vault_type'))),
                                   md_escape(vault.get('subscription_id')), md_escape(vault.get('resource_group')),
                                   md_escape(finding_label(finding) + (' (IRREVERSIBLE)' if finding.get('irreversible') else '')),
                                   '%s → %s' % (md_escape(_value(finding.get('have'))), md_escape(_value(finding.get('want')))),
                                   fixable] + [md_escape(finding_verdicts(report, finding) or None) for _c in policy] + flags,
                                  md_escape(vault.get('tier')), tiered))
    if rows:
        lines.extend(['', '## Drift', ''])
        if len(listed) < drifting:
            lines.extend(['The %d drifting vaults with the most open findings (irreversible and unfixable ones first):' % len(listed), ''])
        lines.extend(_table(with_tier(['Vault', 'Type', 'Subscription', 'Resource group', 'Finding', 'Have → want', 'Fixable',
                                       *policy, *[flag.column for flag in FLAGS]],
                                      'Baseline tier', tiered), rows))
        more = _more(len(listed), drifting, 'drifting vaults')
        if more:
            lines.extend(['', more])

    changed = report.get('changed') or []
    if changed:
        lines.extend(['', '## Would change' if check_mode else '## Changed', ''])
        rows = []
        for vault in changed[:MD_MAX_VAULTS]:
            for change in vault.get('changes') or []:
                what = SETTING_LABEL.get(change.get('setting'), change.get('setting'))
                extra = ', '.join('%s %s' % (k, change[k]) for k in ('policy', 'tier') if change.get(k))
                what = ('%s: %s' % (what, extra) if extra else what) + (' (IRREVERSIBLE)' if change.get('irreversible') else '')
                rows.append(with_tier([md_escape(vault.get('name')), md_escape(kind_label(vault.get('vault_type'))),
                                       md_escape(vault.get('subscription_id')), md_escape(vault.get('resource_group')),
                                       md_escape(what),
                                       '%s → %s' % (md_escape(_value(change.get('before'))), md_escape(_value(change.get('after'))))],
                                      md_escape(vault.get('tier')), tiered))
        lines.extend(_table(with_tier(['Vault', 'Type', 'Subscription', 'Resource group', 'Change', 'Before → after'],
                                      'Baseline tier', tiered), rows))
        more = _more(MD_MAX_VAULTS, len(changed), 'vaults %s' % ('that would change' if check_mode else 'changed'))
        if more:
            lines.extend(['', more])

    lines.extend(_markdown_lock_readiness(report.get('lock_readiness') or []))
    lines.extend(markdown_lines(report, md_escape, _table))

    lines.extend(_markdown_scope_changes(report.get('scope_changes')))
    lines.extend(_markdown_excluded(report))

    warnings = report.get('warnings') or []
    if warnings:
        lines.extend(['', '## Warnings', ''])
        lines.extend('- %s' % md_escape(w) for w in warnings[:MD_MAX_LINES])
        more = _more(MD_MAX_LINES, len(warnings), 'warnings')
        if more:
            lines.append('- %s' % more)
    if errors:
        lines.extend(['', '## Errors', ''])
        lines.extend(_table(['Scope', 'Action', 'Message'], [
            [md_escape(e.get('scope')), md_escape(e.get('action') or 'discovery'), md_escape(e.get('message'))] for e in errors[:MD_MAX_ERRORS]
        ]))
        more = _more(MD_MAX_ERRORS, len(errors), 'errors')
        if more:
            lines.extend(['', more])
    lines.append('')
    return '\n'.join(lines)


SCOPE_REASON = {'unreadable': 'no longer readable by this identity', 'gone': 'gone from Azure',
                'untagged': 'its tags no longer match', 'read_again': 'missed by the discovery; read from ARM and judged',
                'not_compared': 'not compared: this run could not read its scope'}


SCOPE_HEADER = ['Vault', 'Id', 'Why', 'Azure answered']


def scope_changed(changes):
    """Whether drift.json's scope_changes has anything to show: a vault or subscription that left the scope, or was read again."""
    return isinstance(changes, Mapping) and any(changes.get(key) for key in ('left', 'read_again', 'subscriptions_left', 'not_compared'))


def scope_intro(changes):
    """'Compared with the previous report in this directory (<when>, N vaults judged).'"""
    previous = changes.get('previous_report') or {}
    return 'Compared with the previous report in this directory (%s, %s judged).' % (
        previous.get('generated_at') or 'time unknown', plural(int(previous.get('vaults') or 0), 'vault'))


def scope_rows(changes):
    """The table rows (SCOPE_HEADER) of the vaults that left the scope, were read again or not compared, as text."""
    return [[vault.get('name'), vault.get('id'), SCOPE_REASON.get(vault.get('reason'), vault.get('reason')), vault.get('why')]
            for vault in list(changes.get('left') or []) + list(changes.get('read_again') or []) + list(changes.get('not_compared') or [])
            if isinstance(vault, Mapping)]


def _markdown_scope_changes(changes):
    """The vaults that left the scope since the previous report (and those read again), with why."""
    if not scope_changed(changes):
        return []
    lines = ['', '## Left the scope', '', md_escape(scope_intro(changes)), '']
    rows = [[md_escape(cell) for cell in row] for row in scope_rows(changes)]
    if rows:
        lines.extend(_table(SCOPE_HEADER, rows[:MD_MAX_VAULTS]))
        more = _more(MD_MAX_VAULTS, len(rows), 'vaults')
        if more:
            lines.extend(['', more])
    subs = changes.get('subscriptions_left') or []
    if subs:
        # The first MD_MAX_LINES, then how many more (before, the list stopped there without saying so).
        lines.extend(['', 'Subscriptions no longer listed for this identity: %s.' % first_named(subs, MD_MAX_LINES, md_escape)])
    return lines


EXCLUDED_NOTE = ('harden_backup_vaults_exclude left these vaults out of this run: they were not checked, and are in no count of this '
                 'report. Their open findings are those of the last report in this directory that checked them (drift.sarif keeps '
                 'them as suppressed results, so a code scanning service does not close them as fixed).')


EXCLUDED_HEADER = ['Vault', 'Kind', 'Subscription', 'Resource group', 'Excluded by', 'Last checked', 'Open findings then']


def excluded_tiered(report):
    """Whether the table of excluded vaults has a baseline tier column: the report has tiers, or an excluded vault names one
    (drift.json, drift.junit.xml and drift.sarif give each excluded vault's tier; the tables said none before)."""
    return has_tiers(report) or any(isinstance(vault, Mapping) and vault.get('tier') for vault in report.get('excluded_vaults') or [])


def excluded_row(vault, tiered=False):
    """A row of the reports' table of excluded vaults (drift.json excluded_vaults): name, (baseline tier,) kind, subscription,
    resource group, the entries that excluded it, when it was last checked, and its open findings then (their settings)."""
    findings = vault.get('findings') or []
    settings = sorted(set(str(finding.get('setting')) for finding in findings if isinstance(finding, Mapping)))
    return with_tier([vault.get('name') or vault.get('id'), kind_label(vault.get('vault_type')), vault.get('subscription_id'),
                      vault.get('resource_group'), ', '.join(str(entry) for entry in vault.get('excluded_by') or []) or '-',
                      vault.get('checked_at') or 'never in this directory',
                      ('%d (%s)' % (len(findings), ', '.join(settings))) if findings else 'none'], vault.get('tier'), tiered)


def _markdown_excluded(report):
    """The vaults the exclusions left out (drift.json excluded_vaults): not checked."""
    vaults = report.get('excluded_vaults')
    if not vaults:
        return []
    tiered = excluded_tiered(report)
    lines = ['', '## Not checked (excluded)', '', md_escape(EXCLUDED_NOTE), '']
    rows = [[md_escape(cell) for cell in excluded_row(vault, tiered)] for vault in vaults]
    lines.extend(_table(with_tier(EXCLUDED_HEADER, 'Baseline tier', tiered), rows[:MD_MAX_VAULTS]))
    more = _more(MD_MAX_VAULTS, len(rows), 'vaults')
    if more:
        lines.extend(['', more])
    return lines


# An open finding of a real run that the run fixes (fix "run"): its change failed or was not made (drift.json's summary counts
# it in by_fix.run, "not fixed (their change failed)"). The reports said "yes" / "fixable" of it, as of a check run.
NOT_FIXED_CELL = "not fixed: this run's change failed or was not made (see Errors)"
NOT_FIXED_LINE = 'not fixed by this run (its change failed or was not made)'


def fix_cell(finding, check_mode=True):
    """A finding's kind in a table cell: 'yes' (this run fixes it; after a real run NOT_FIXED_CELL: it did not), 'with
    <option>', or 'no, needs a person'."""
    kind = finding.get('fix') or fix_kind(finding)
    if kind == 'run':
        return 'yes' if check_mode else NOT_FIXED_CELL
    if kind == 'option':
        return 'with %s' % finding.get('option')
    return 'no, needs a person'


def already_met(report):
    """How many findings a real run resolved with no change of its own: its action read the vault again from ARM right before
    writing and found the setting met (Resource Graph still showing an earlier run's vault, or someone else's change since the
    plan), so it sent nothing. Such a finding is ``resolved`` (the vault meets it) and drift.json's ``changed`` has no change
    of its setting (of its policy, for retention) on that vault."""
    if report.get('check_mode', True):
        return 0
    made = {}
    for vault in report.get('changed') or []:
        if isinstance(vault, Mapping):
            made.setdefault(_lower(vault.get('id')), set()).update(
                _made_key(change) for change in vault.get('changes') or [] if isinstance(change, Mapping))
    count = 0
    for vault in report.get('vaults') or []:
        done = made.get(_lower(vault.get('id')), set())
        count += sum(1 for finding in vault.get('findings') or [] if finding.get('resolved') and _made_key(finding) not in done)
    return count


def _made_key(item):
    """(setting, policy): what a change set, matched with the finding it fixes (a policy's tiers are raised together)."""
    setting = item.get('setting')
    return setting, (item.get('policy') if setting in PER_POLICY else None)


def fixed_text(summary, already):
    """'1 finding fixed by this run, 3 already met': the resolved findings of a real run, those it changed first."""
    resolved = summary.get('resolved', 0)
    text = '%s fixed by this run' % plural(resolved - already, 'finding')
    return text + (', %d already met' % already if already else '')


def fix_text(summary, check_mode=True, already=0):
    """'3 fixable by this run, 2 fixable with an option, 1 needs a person' (check mode) or '3 fixed by this run, 0 not
    fixed (their change failed), ...' (real run) from a report's summary; ``already``: of the fixed ones, those the vault
    already met when the run read it again (already_met), said apart."""
    counts = summary.get('by_fix') or {}
    if check_mode:
        parts = ['%d fixable by this run' % counts.get('run', 0)]
    else:
        parts = ['%d fixed by this run' % (counts.get('fixed', 0) - already)]
        if already:
            parts.append('%d already met when this run read the vault again (nothing sent)' % already)
        parts.append('%d not fixed (their change failed)' % counts.get('run', 0))
    parts.extend('%d %s' % (counts.get(kind, 0), FIX_LABEL[kind]) for kind in FIX_KINDS[1:])
    return ', '.join(parts)


def state_text(states):
    """'locked 3, enabled 2, disabled 1': vaults per state, the most common first."""
    return ', '.join('%s %d' % (str(state).replace('_', ' '), count) for state, count in sorted(states.items(), key=lambda kv: (-kv[1], kv[0]))) or 'none'


def posture_headline(posture):
    """'3 of 5 vaults locked; 2 not locked.' from a report's posture."""
    if not posture.get('vaults'):
        return 'No vault in scope.'
    if posture.get('all_locked'):
        return 'All %s locked.' % plural(posture['vaults'], 'vault')
    return '%d of %s locked; %d not locked.' % (posture.get('locked', 0), plural(posture['vaults'], 'vault'), posture.get('not_locked', 0))


def posture_rows(posture):
    """One row per rule: its label, vaults per state, compliant, not compliant, not checked."""
    return [[POSTURE_LABEL.get(key, key), state_text(counts.get('states') or {}), str(counts.get('compliant', 0)),
             str(counts.get('not_compliant', 0)), str(counts.get('not_checked', 0))]
            for key, counts in (posture.get('rules') or {}).items()]


def _markdown_posture(report):
    """The posture section the Markdown leads with: locked or not, vaults per state of each rule, per subscription."""
    posture = report.get('posture')
    if not isinstance(posture, Mapping):
        return []
    headline = '**Locked:** %s Each vault\'s state of every rule is in drift.json (vaults[].posture).' % md_escape(posture_headline(posture))
    lines = ['## Posture', '', headline, '']
    lines.extend(_table(['Rule', 'Vaults per state', 'Compliant', 'Not compliant', 'Not checked'],
                        [[md_escape(cell) for cell in row] for row in posture_rows(posture)]))
    subs = sorted((posture.get('by_subscription') or {}).items(), key=lambda kv: (kv[1].get('locked', 0) - kv[1].get('vaults', 0), kv[0]))
    if subs:
        lines.append('')
        keys = list(posture.get('rules') or {})[:2]
        rows = []
        for sub, counts in subs[:MD_MAX_LINES]:
            states = [md_escape(state_text(((counts.get('rules') or {}).get(k) or {}).get('states') or {})) for k in keys]
            rows.append([md_escape(sub), str(counts.get('vaults', 0)), str(counts.get('locked', 0))] + states)
        lines.extend(_table(['Subscription', 'Vaults', 'Locked'] + [POSTURE_LABEL.get(k, k) for k in keys], rows))
        more = _more(MD_MAX_LINES, len(subs), 'subscriptions')
        if more:
            lines.extend(['', more])
    lines.extend(['', '## Summary', ''])
    return lines


def blockers_text(row):
    """'not ready: <blocker>; <blocker>' or 'ready'."""
    if row.get('ready'):
        return 'ready'
    return 'not ready: %s' % '; '.join(str(b.get('message')) for b in row.get('blockers') or [])


def items_text(row):
    """'3 (VM 2, SQLDataBase 1)'."""
    items = row.get('protected_items') or {}
    counts = sorted((items.get('by_datasource_type') or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    kinds = ', '.join('%s %s' % (kind, count) for kind, count in counts)
    return '%d%s' % (items.get('count') or 0, ' (%s)' % kinds if kinds else '')


def _markdown_lock_readiness(rows):
    """The lock readiness section: a summary line, then at most MD_MAX_VAULTS vaults (those not ready first, as they
    need a person), and how many more are in drift.json."""
    if not rows:
        return []
    ready = sum(1 for row in rows if row.get('ready'))
    lines = ['', '## Lock readiness', '',
             '%s the baseline would lock: %d ready, %d not ready (never locked). Locking can never be undone.' % (
                 plural(len(rows), 'vault'), ready, len(rows) - ready), '']
    listed = sorted(rows, key=lambda row: bool(row.get('ready')))[:MD_MAX_VAULTS]
    lines.extend(_table(['Vault', 'Type', 'Subscription', 'Resource group', 'Ready', 'Status', 'Items', 'Held until', 'Blockers'], [
        [md_escape(row.get('name')), md_escape(kind_label(row.get('vault_type'))), md_escape(row.get('subscription_id')),
         md_escape(row.get('resource_group')), 'yes' if row.get('ready') else 'no', md_escape(row.get('status')),
         md_escape(items_text(row)), md_escape(row.get('held_until') or 'nothing held'),
         md_escape('; '.join(str(b.get('message')) for b in row.get('blockers') or []) or '-')]
        for row in listed]))
    lines.extend(['', 'What locking commits to, per vault (for a sign-off):', ''])
    for row in listed:
        lines.append('- **%s** (%s): %s.' % (md_escape(row.get('name')), md_escape(kind_label(row.get('vault_type'))),
                                             md_escape('; '.join(row.get('commitments') or []))))
    more = _more(len(listed), len(rows), 'vaults the baseline would lock')
    if more:
        lines.extend(['', more])
    return lines


# ---------------------------------------------------------------- JUnit XML

# Characters XML 1.0 cannot carry at all; ElementTree would write them and produce a broken file.
_XML_INVALID = re.compile('[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]')


def xml_text(value):
    if value is None:
        return ''
    return _XML_INVALID.sub('\ufffd', str(value))


def _finding_line(finding, check_mode=True):
    """A finding as a line of text; ``check_mode`` false: an open finding of a real run (a fixable one was not fixed)."""
    fixable = 'fixable' if check_mode else NOT_FIXED_LINE
    line = '%s: have %s, want %s; %s' % (finding_label(finding), _value(finding.get('have')), _value(finding.get('want')),
                                         fixable if finding.get('fixable') else 'not fixable')
    if finding.get('irreversible'):
        line += '; IRREVERSIBLE'
    return _with_reason(line, finding)


def _with_reason(line, finding):
    if finding.get('reason'):
        line += ' (%s)' % finding['reason']
    return line


def _junit_case(suite, vault, seen):
    """A vault's testcase: classname subscription/resource group, name the vault's (with its kind when another vault of the
    same resource group has that name), and its baseline tier as a property."""
    classname = '%s/%s' % (vault.get('subscription_id') or '-', vault.get('resource_group') or '-')
    name = vault.get('name') or vault.get('id') or '-'
    if (classname.lower(), name.lower()) in seen:
        name = '%s (%s)' % (name, vault.get('vault_type'))
    seen.add((classname.lower(), name.lower()))
    case = ET.SubElement(suite, 'testcase', classname=xml_text(classname), name=xml_text(name), time='0')
    if vault.get('tier'):
        # The baseline tier the vault was judged against, as a testcase property (as pytest's record_property writes).
        ET.SubElement(ET.SubElement(case, 'properties'), 'property', name='baseline_tier', value=xml_text(vault['tier']))
    return case


def _junit_skipped(case, vault):
    """An excluded vault (drift.json excluded_vaults) is a skipped testcase: not checked by this run, with the open findings
    of the last report in the directory that checked it."""
    entries = ', '.join(str(entry) for entry in vault.get('excluded_by') or []) or 'an exclusion'
    findings = [finding for finding in vault.get('findings') or [] if isinstance(finding, Mapping)]
    if vault.get('checked_at'):
        then = 'last checked %s: %s' % (vault['checked_at'], plural(len(findings), 'open finding'))
        if findings:
            then += ' (%s)' % ', '.join(sorted(set(SETTING_LABEL.get(f.get('setting'), str(f.get('setting'))) for f in findings)))
    else:
        then = 'never checked in this report directory'
    skipped = ET.SubElement(case, 'skipped', message=xml_text('Not checked: excluded by %s; %s' % (entries, then)))
    skipped.text = xml_text('\n'.join([str(vault.get('id'))] + [_finding_line(f) for f in findings]))


def _junit_unread(case, vault):
    """A vault the previous report judged that this run could not read (drift.json unread_vaults) is a testcase with an
    error: it could not be checked, with the open findings that report had."""
    findings = [finding for finding in vault.get('findings') or [] if isinstance(finding, Mapping)]
    then = 'last checked %s: %s' % (vault.get('checked_at') or 'by an earlier run', plural(len(findings), 'open finding'))
    if findings:
        then += ' (%s)' % ', '.join(sorted(set(SETTING_LABEL.get(f.get('setting'), str(f.get('setting'))) for f in findings)))
    error = ET.SubElement(case, 'error', message=xml_text('Not checked: this run could not read the vault (%s); %s'
                                                          % (vault.get('why') or 'it could not be read', then)), type='unread')
    error.text = xml_text('\n'.join([str(vault.get('id'))] + [_finding_line(f) for f in findings]))


def render_junit(report):
    """JUnit XML: one testcase per vault, a failure per drifting vault, a skipped testcase per excluded vault, an error
    testcase per error."""
    check_report(report)
    vaults = report['vaults']
    errors = report.get('errors') or []
    excluded = [vault for vault in report.get('excluded_vaults') or [] if isinstance(vault, Mapping)]
    unread = [vault for vault in report.get('unread_vaults') or [] if isinstance(vault, Mapping)]
    failures = sum(1 for v in vaults if v.get('drift'))
    counts = {'tests': str(len(vaults) + len(excluded) + len(unread) + len(errors)), 'failures': str(failures),
              'errors': str(len(errors) + len(unread))}

    root = ET.Element('testsuites', dict(name=JUNIT_SUITE, time='0', **counts))
    suite = ET.SubElement(root, 'testsuite', dict(name=JUNIT_SUITE, skipped=str(len(excluded)), time='0',
                                                  timestamp=xml_text(report.get('generated_at')), **counts))
    props = ET.SubElement(suite, 'properties')
    ET.SubElement(props, 'property', name='schema_version', value=xml_text(report.get('schema_version')))
    ET.SubElement(props, 'property', name='check_mode', value='true' if report.get('check_mode', True) else 'false')
    for warning in report.get('warnings') or []:
        ET.SubElement(props, 'property', name='warning', value=xml_text(warning))

    lock_rows = dict((_lower(row.get('id')), row) for row in report.get('lock_readiness') or [])
    seen = set()
    for vault in vaults:
        case = _junit_case(suite, vault, seen)
        if vault.get('drift'):
            open_findings = [f for f in vault.get('findings') or [] if not f.get('resolved')]
            fixable = sum(1 for f in open_findings if f.get('fixable'))
            # After a real run a fixable finding still open was not fixed: its change failed or was not made (_finding_line).
            message = '%s, %s, %d not fixable: %s' % (
                plural(len(open_findings), 'finding'),
                '%d fixable' % fixable if report.get('check_mode', True) else
                '%d not fixed by this run (%s change failed or was not made)' % (fixable, 'its' if fixable == 1 else 'their'),
                len(open_findings) - fixable,
                ', '.join(sorted(set(SETTING_LABEL.get(f.get('setting'), str(f.get('setting'))) for f in open_findings))))
            irreversible = sum(1 for f in open_findings if f.get('irreversible'))
            if irreversible:
                message += ' (%d irreversible)' % irreversible
            failure = ET.SubElement(case, 'failure', message=xml_text(message), type='drift')
            first = str(vault.get('id')) + (' (%s)' % tier_label(vault) if vault.get('tier') else '')
            failure.text = xml_text('\n'.join([first] + [_finding_line(f, report.get('check_mode', True)) for f in open_findings]))
        # What this run fixed (a real run's resolved findings): the testcase of a vault the run fixed is no plain pass.
        out_lines = ['fixed by this run: %s: was %s, wanted %s' % (finding_label(f), _value(f.get('have')), _value(f.get('want')))
                     for f in vault.get('findings') or [] if f.get('resolved')]
        readiness = lock_rows.get(_lower(vault.get('id')))
        if readiness is not None:
            out_lines += [
                'lock readiness: %s (%s)' % (blockers_text(readiness), readiness.get('status')),
                'protected items: %s; held until: %s' % (items_text(readiness), readiness.get('held_until') or 'nothing held'),
            ] + ['commits to: %s' % c for c in readiness.get('commitments') or []]
        if out_lines:
            ET.SubElement(case, 'system-out').text = xml_text('\n'.join(out_lines))
    for vault in excluded:
        _junit_skipped(_junit_case(suite, vault, seen), vault)
    for vault in unread:
        _junit_unread(_junit_case(suite, vault, seen), vault)
    for error in errors:
        kind = error.get('action') or 'discovery'
        case = ET.SubElement(suite, 'testcase', classname=xml_text('errors/%s' % kind), name=xml_text(error.get('scope')), time='0')
        element = ET.SubElement(case, 'error', message=xml_text(error.get('message')), type=xml_text(kind))
        element.text = xml_text(error.get('message'))
    if hasattr(ET, 'indent'):
        ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding='unicode') + '\n'
