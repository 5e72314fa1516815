# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The vaults a run's exclusions left out, with what the last report that checked them found (drift.json
``excluded_vaults``).

An excluded vault is not checked, so it has no findings in this run's report. drift.sarif had results for it while it was
checked, and a code scanning service closes an alert whose result is absent from the next analysis of the same category
as fixed (module_utils/_reports/sarif.py cites GitHub's documentation): excluding a drifting vault would read as fixing
it. So harden_plan carries each excluded vault's open findings from the previous drift.json in the report directory (its
``vaults`` when the vault was checked then, its ``excluded_vaults`` when it was excluded already), with the time of the
report that checked it; drift.sarif writes them as suppressed results, and drift.md and drift.html list the vault as not
checked. Only the vaults this run read and excluded are carried: a vault gone from Azure is not.

A vault the previous report judged that this run could not read (read access taken away: _scope_loss's ``unreadable``; a
scope the run could not read: its ``not_compared``; or a vault named by an error of the run) would lose its results the
same way. Its open findings are carried too (drift.json ``unread_vaults``, ``unread_section``), and drift.sarif keeps
them as open results, not suppressed: nobody decided to stop checking the vault, and its drift is not known to be gone. A
vault deleted from Azure (_scope_loss's ``gone``) is not carried: its alerts may close.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import vault_type_from_provider
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import excluded_by, vault_key
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import parse_resource_id

# What an excluded vault's entry keeps of the vault, and what the reader keeps of every other object of the report.
_VAULT_KEYS = ('id', 'name', 'vault_type', 'subscription_id', 'resource_group', 'tier')
_KEPT = frozenset(('schema_version', 'generated_at', 'vaults', 'excluded_vaults', 'unread_vaults', 'excluded_by', 'checked_at',
                   'findings', *_VAULT_KEYS))


def _vault_type(key):
    """The vault kind of a canonical vault key (vault_key), or None."""
    parts = key.split('/') if key else []
    return vault_type_from_provider(parts[6], parts[7]) if len(parts) > 8 else None


def keeper(exclusions, keys=None):
    """The object_pairs_hook with which _scope_loss.read_record's one parse of the previous drift.json keeps what
    carried_findings reads (its ``carry``), or None without exclusions or ``keys`` (nothing is carried). Of the vaults,
    only those ``exclusions`` (parse_exclusions) name, or whose vault_key is in ``keys`` (the vaults this run could not
    read), keep their findings: each other vault's are dropped as soon as it is parsed, so a report of 20,000 vaults is
    read without holding them."""
    if not exclusions and not keys:
        return None
    keys = keys or set()
    exclusions = exclusions or []

    def wanted(vault_id, name):
        return vault_key(vault_id) in keys or any(excluded_by(exclusion, {'id': vault_id, 'name': name}) for exclusion in exclusions)

    def kept(pairs):
        doc = dict(pairs)
        if 'setting' in doc:
            return doc      # a finding: its vault decides
        if 'id' in doc and 'findings' in doc:
            vault_id = doc.get('id')
            if not isinstance(vault_id, str) or not wanted(vault_id, doc.get('name')):
                return {}
            return dict((key, doc.get(key)) for key in _VAULT_KEYS + ('findings', 'checked_at'))
        return dict((key, value) for key, value in doc.items() if key in _KEPT)
    return kept


def carried_findings(doc, why):
    """``(previous, note)``: ``{vault key: {checked_at, vault, findings}}`` of the excluded vaults in the previous drift.json
    as keeper kept it (``doc``, read_record's ``carried`` with _load_report's ``why``), with their open findings; ``note``
    says why it could not be read ('' when there is no drift.json, or no exclusion). A vault keeper did not keep (the
    parse serves the scope comparison too, which keeps every vault's id) has no findings and is not carried."""
    if not isinstance(doc, dict):
        return {}, ('%s: the findings of the excluded vaults were not carried' % why) if why else ''
    generated = doc.get('generated_at') if isinstance(doc.get('generated_at'), str) else None
    previous = {}
    for vault in doc.get('vaults') if isinstance(doc.get('vaults'), list) else []:
        key = vault_key(vault.get('id')) if isinstance(vault, dict) and 'findings' in vault and vault.get('id') else None
        if key:
            findings = [finding for finding in _findings(vault) if not finding.get('resolved')]
            previous[key] = {'checked_at': generated, 'vault': vault, 'findings': findings}
    # A vault the previous run excluded, or could not read, is carried with the findings and date it carried.
    carried = [vault for field in ('excluded_vaults', 'unread_vaults') for vault in (doc.get(field) if isinstance(doc.get(field), list) else [])]
    for vault in carried:
        key = vault_key(vault.get('id')) if isinstance(vault, dict) and 'findings' in vault and vault.get('id') else None
        if key and key not in previous:
            findings = _findings(vault)
            checked = vault.get('checked_at') if isinstance(vault.get('checked_at'), str) else None
            previous[key] = {'checked_at': checked, 'vault': vault, 'findings': findings}
    return previous, ''


def _findings(vault):
    """The findings of a vault of the previous drift.json that the reports can show: objects whose ``setting`` is a text (a
    finding edited by hand into something else is not carried; every report keys it by its setting)."""
    found = vault.get('findings')
    return [finding for finding in found if isinstance(finding, dict) and isinstance(finding.get('setting'), str)] if isinstance(found, list) else []


def _text(value):
    """A vault's ``vault_type`` or ``tier`` from the previous drift.json when it is a text, else None (edited by hand)."""
    return value if isinstance(value, str) else None


def section(excluded_ids, exclusions, previous):
    """drift.json ``excluded_vaults``: one entry a vault this run excluded (``excluded_ids``: plan_run's ``excluded``), with
    the entries that excluded it and what ``previous`` (carried_findings) carried for it (no findings, ``checked_at`` null,
    when no report in the directory checked it)."""
    rows = []
    seen = set()
    for vault_id in excluded_ids or []:
        key = vault_key(vault_id) if isinstance(vault_id, str) else None
        if key is None or key in seen:
            continue
        seen.add(key)
        ids = parse_resource_id(vault_id)
        before = previous.get(key) or {}
        old = before.get('vault') or {}
        rows.append({
            'id': vault_id.strip(), 'name': ids.get('name'), 'vault_type': _text(old.get('vault_type')) or _vault_type(key),
            'subscription_id': ids.get('subscription_id'), 'resource_group': ids.get('resource_group'), 'tier': _text(old.get('tier')),
            'excluded_by': [exclusion['entry'] for exclusion in exclusions
                            if excluded_by(exclusion, {'id': vault_id, 'name': ids.get('name')})],
            'checked_at': before.get('checked_at'), 'findings': list(before.get('findings') or []),
        })
    return sorted(rows, key=lambda row: row['id'].lower())


def unread_keys(loss, errors, judged, excluded):
    """``{vault key: why}`` of the vaults the previous report judged that this run could not read: those the scope
    comparison (``loss``, _scope_loss.compare, or None) found unreadable or could not compare, and those named by an error
    of the run (``errors``: report_errors, whose ``scope`` is a vault's ARM id for a vault that could not be read), none
    of them judged (``judged``: vault keys) or excluded (``excluded``: vault keys) by this run. Only those the previous
    report had are carried (unread_section). A vault gone from Azure (404) is not one: its alerts may close."""
    found = {}
    for vault in (loss or {}).get('unreadable', []) + (loss or {}).get('not_compared', []):
        key = vault_key(vault.get('id'))
        if key and key not in judged and key not in excluded:
            found.setdefault(key, vault.get('why') or 'it could not be read')
    for error in errors or []:
        key = vault_key(error.get('scope')) if isinstance(error, dict) and isinstance(error.get('scope'), str) else None
        if key and key not in judged and key not in excluded:
            found.setdefault(key, str(error.get('message') or 'it could not be read'))
    return found


def unread_section(unread, previous):
    """drift.json ``unread_vaults``: one entry a vault of ``unread`` (unread_keys) the previous report had
    (``previous``: carried_findings of a parse kept for those keys), with why this run could not read it and the open
    findings as that report carried them (``checked_at``: the report that last checked it)."""
    rows = []
    for key, why in sorted(unread.items()):
        before = previous.get(key)
        if before is None:
            continue        # not in the previous report (its vaults only are carried)
        old = before.get('vault') or {}
        ids = parse_resource_id(old.get('id'))
        rows.append({
            'id': str(old.get('id')).strip(), 'name': ids.get('name'), 'vault_type': _text(old.get('vault_type')) or _vault_type(key),
            'subscription_id': ids.get('subscription_id'), 'resource_group': ids.get('resource_group'), 'tier': _text(old.get('tier')),
            'why': why, 'checked_at': before.get('checked_at'), 'findings': list(before.get('findings') or []),
        })
    return rows
