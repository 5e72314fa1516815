# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Which vaults a run is about: one canonical key for targets, discovery results and exclusions (pure, no I/O).

ARM compares ids case-insensitively and users write them in many equivalent forms (other case, a trailing ``/``,
surrounding spaces). ``vault_key`` turns each form into one key, so an exclusion always means the vault it names.

Exclusion entries (``parse_exclusions``):

- the ARM id of a vault: that vault;
- a scope id, ``/subscriptions/<guid>`` or ``/subscriptions/<guid>/resourceGroups/<name>``: every vault under it;
- a vault name pattern, ``*`` any text and ``?`` one character, case-insensitive: every vault so named.

An entry that is none of these (a typo'd id, a storage account id, a pattern with characters no vault name has) is an
error before any request. An entry that matches no vault is reported (``unmatched``) so a run can warn, or refuse to do
anything irreversible.

``plan_run`` is what the harden_backup_vaults role decides, in one tested function: the baseline checked once (with the
role's consent rule), the discovery merged, the exclusions applied, the errors shaped for the reports, the drift of every
vault, whether each vault the baseline would lock is ready for it (``gate_locks``), and whether an unmatched exclusion
blocks this run's irreversible changes.
"""

from __future__ import annotations

import fnmatch
import json
import re
import unicodedata
from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import validate_baseline
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError, first_named, type_name
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import resource_type, vault_type_from_provider
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._preset import PRESET_DEFERRED
from ansible_collections.vaultlock.azure.plugins.module_utils._readiness import readiness, validate_requirements
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import LOCK_RULES, RULES
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import CONSENT, ROLE_PREFIX
from ansible_collections.vaultlock.azure.plugins.module_utils._tiers import (
    WHERE as TIERS_WHERE,
    datastore_only_warnings,
    drift_entries,
    reads_items,
    reads_policies,
    resolve_tiers,
    tier_baseline,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import GUID as _GUID
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import RG_NAME as _RG
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import _VAULT_NAME
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import has_control, parse_resource_id, shown

_SCOPE = re.compile(r'/subscriptions/(?P<sub>[^/]+)(?:/resourceGroups/(?P<rg>[^/]+))?/?', re.IGNORECASE)
_VAULT_ID = re.compile(r'/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/(?P<ns>[^/]+)/(?P<type>[^/]+)'
                       r'/(?P<name>[^/]+)/?', re.IGNORECASE)
# Vault names are letters, digits and hyphens; a pattern adds * and ?.
_PATTERN = re.compile(r'[A-Za-z0-9*?-]+')


class TargetError(VaultlockError, ValueError):
    """A target or an exclusion that cannot be understood; raised before any request."""


_NAME_CHARACTER = re.compile(r'[A-Za-z0-9-]')
_RG_CHARACTER = re.compile(r'[-\w.()]')


def _odd(text, allowed):
    """'' or ': it holds U+0430 CYRILLIC SMALL LETTER A, ...': the characters of ``text`` that ``allowed`` refuses, by code
    point and name, since a look-alike or an invisible one does not show in the value itself."""
    odd = []
    for char in text:
        if not allowed.fullmatch(char):
            label = 'U+%04X %s' % (ord(char), unicodedata.name(char, 'unnamed'))
            if label not in odd:
                odd.append(label)
    return (': it holds %s' % ', '.join(odd)) if odd else ''


def _clean(value):
    """Surrounding spaces and tabs go; control characters anywhere (a newline, say) make the value unusable."""
    if not isinstance(value, str):
        return None
    text = value.strip(' \t')
    if has_control(text):
        return None
    return text


def vault_key(value, vault_type=None):
    """The canonical key of a vault from its ARM id (any case, a trailing ``/``, surrounding spaces), or None.

    ``/subscriptions/<guid>/resourcegroups/<group>/providers/<namespace>/<type>/<name>``, all lowercase. With
    ``vault_type``, the id must be of that kind. A vault record (a dict with ``id``) is accepted too.
    """
    if isinstance(value, dict):
        vault_type = vault_type or value.get('vault_type')
        value = value.get('id')
    text = _clean(value)
    match = _VAULT_ID.fullmatch(text) if text else None
    if not match or not _GUID.fullmatch(match.group('sub')):
        return None
    kind = vault_type_from_provider(match.group('ns'), match.group('type'))
    if kind is None or (vault_type and kind != vault_type):
        return None
    return '/subscriptions/%s/resourcegroups/%s/providers/%s/%s' % (
        match.group('sub').lower(), match.group('rg').lower(), resource_type(kind), match.group('name').lower())


def parse_exclusion(entry, index=None):
    """One exclusion entry -> ``{entry, kind, key | regex}``; raises TargetError when it cannot be understood.

    kind: ``vault`` (key: vault_key), ``subscription`` (key: the GUID, lowercase), ``resource_group`` (key:
    ``(guid, group)`` lowercase) or ``pattern`` (key: a shell-style pattern over vault names, lowercase; matched with
    fnmatch, as vault_immutability_info matches its name filter).
    """
    where = 'harden_backup_vaults_exclude[%s]' % index if index is not None else 'exclusion'
    if not isinstance(entry, str):
        raise TargetError('%s: %s is not a string: give an ARM id, a subscription or resource group id, or a vault name '
                          'pattern' % (where, shown(entry)))
    text = _clean(entry)
    if text is None:
        raise TargetError('%s: %s contains a control character (a newline, say)' % (where, shown(entry)))
    if not text:
        raise TargetError('%s: the entry is empty' % where)
    if text.startswith('/'):
        scope = _SCOPE.fullmatch(text)
        if scope:
            if not _GUID.fullmatch(scope.group('sub')):
                raise TargetError('%s: %s: %s is not a subscription GUID' % (where, shown(entry), shown(scope.group('sub'))))
            if scope.group('rg') is None:
                return {'entry': entry, 'kind': 'subscription', 'key': scope.group('sub').lower()}
            if not _RG.fullmatch(scope.group('rg')):
                raise TargetError('%s: %s: %s is not a resource group name' % (where, shown(entry), shown(scope.group('rg'))))
            return {'entry': entry, 'kind': 'resource_group', 'key': (scope.group('sub').lower(), scope.group('rg').lower())}
        key = vault_key(text)
        if key is None:
            raise TargetError('%s: %s is not the id of a subscription (/subscriptions/<guid>), a resource group '
                              '(/subscriptions/<guid>/resourceGroups/<name>), a Recovery Services vault or a Backup vault'
                              % (where, shown(entry)))
        # An id whose name no vault can have (a look-alike letter, an invisible character, '?' or '%') excludes nothing, and
        # its vault, the one the operator reads in the entry, would be changed: refused as the name patterns are.
        parts = _VAULT_ID.fullmatch(text)
        if not _RG.fullmatch(parts.group('rg')):
            raise TargetError('%s: %s cannot name a vault: %s is not a resource group name%s, so it would exclude nothing'
                              % (where, shown(entry), shown(parts.group('rg')), _odd(parts.group('rg'), _RG_CHARACTER)))
        if not _VAULT_NAME.fullmatch(parts.group('name')):
            raise TargetError('%s: %s cannot name a vault: %s is not a vault name (2 to 50 letters A-Z, digits or hyphens, '
                              'starting with a letter)%s, so it would exclude nothing'
                              % (where, shown(entry), shown(parts.group('name')), _odd(parts.group('name'), _NAME_CHARACTER)))
        return {'entry': entry, 'kind': 'vault', 'key': key}
    if not _PATTERN.fullmatch(text):
        raise TargetError('%s: %s is neither an id (starting with /subscriptions/) nor a vault name pattern (letters, digits, '
                          'hyphens, * and ?)' % (where, shown(entry)))
    return {'entry': entry, 'kind': 'pattern', 'key': text.lower()}


def parse_exclusions(entries):
    """A list of exclusion entries (a single string counts as a list of one); raises TargetError for the first bad one."""
    if entries is None:
        return []
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, (list, tuple)):
        raise TargetError('harden_backup_vaults_exclude must be a list of ids and name patterns, got %s' % type_name(entries))
    return [parse_exclusion(entry, index) for index, entry in enumerate(entries)]


def excluded_by(exclusion, record):
    """True when the exclusion covers the vault record (``{id, name, vault_type, ...}``)."""
    kind = exclusion['kind']
    if kind == 'pattern':
        name = record.get('name')
        return isinstance(name, str) and fnmatch.fnmatchcase(name.lower(), exclusion['key'])
    ids = parse_resource_id(record.get('id')) if isinstance(record.get('id'), str) else {}
    if kind == 'vault':
        return vault_key(record) == exclusion['key']
    sub = str(ids.get('subscription_id') or record.get('subscription_id') or '').lower()
    if kind == 'subscription':
        return sub == exclusion['key']
    rg = str(ids.get('resource_group') or record.get('resource_group') or '').lower()
    return (sub, rg) == exclusion['key']


def _result_vaults(read):
    vaults = read.get('vaults')
    return vaults if isinstance(vaults, list) else []


def _read_scope(read):
    """What one vault_immutability_info result (a registered loop item) read, for an error of it."""
    target = read.get('item')
    if isinstance(target, dict):
        return str(target.get('id') or 'vault %s/%s' % (target.get('resource_group') or '', target.get('name') or ''))
    return str('resource group %s' % target if target else 'discovery')


def _malformed(read, what, value, meaning):
    """An error of a result part that is not what vault_immutability_info returns: never dropped without a word."""
    return {'scope': _read_scope(read), 'message': 'the discovery result is not one vault_immutability_info returns: %s is %s, '
            'so %s' % (what, shown(value) if not isinstance(value, (dict, list)) else type_name(value), meaning)}, None


def _read_errors(read):
    """Errors of one vault_immutability_info result (a registered loop item): its own errors, or its failure; a part of it
    that is not what the module returns (``vaults`` or ``errors`` not a list, an entry not a dictionary, a vault without
    an id) is an error too, never left out.

    Each is ``(error, vault record or None)``: an unreadable vault carries what is known of it, so an exclusion
    can still apply to it.
    """
    errors = []
    given = read.get('errors')
    if given is not None and not isinstance(given, list):
        errors.append(_malformed(read, 'errors', given, 'what could not be read is unknown'))
        given = []
    if 'vaults' in read and not isinstance(read['vaults'], list):
        errors.append(_malformed(read, 'vaults', read['vaults'], 'its vaults were not read'))
    for index, vault in enumerate(_result_vaults(read)):
        if not isinstance(vault, dict) or not isinstance(vault.get('id'), str) or not vault['id'].strip():
            errors.append(_malformed(read, 'vaults[%d]' % index, vault if not isinstance(vault, dict) else 'a vault without an id',
                                     'that vault was not read'))
    for index, error in enumerate(given or []):
        if not isinstance(error, dict):
            errors.append(_malformed(read, 'errors[%d]' % index, error, 'what could not be read is unknown'))
            continue
        code = error.get('code')
        message = error.get('message') or 'unknown error'
        entry = {'scope': str(error.get('scope') or 'unknown'), 'message': ('%s: %s' % (code, message)) if code else message}
        vault = error.get('vault') if isinstance(error.get('vault'), dict) else None
        if vault is not None:
            entry['vault'] = vault.get('name')
        errors.append((entry, vault))
    if 'vaults' not in read:
        errors.append(({'scope': _read_scope(read), 'message': str(read.get('msg') or 'could not be read')}, None))
    return errors


def select_vaults(reads, exclude=None):
    """Merge discovery results, drop exclusions, collect errors: what the harden_backup_vaults role checks.

    reads: registered results of vault_immutability_info (loop items with ``vaults`` and ``errors``; failed or skipped
    items allowed). Returns ``{vaults, errors, excluded, unmatched, warnings}``: the vault records, each once (by
    vault_key) and sorted; the errors as the drift report takes them (``{scope, message}``, ``vault`` for an
    unreadable vault); the ids of the excluded vaults; the exclusion entries that matched no vault, and a warning
    sentence for each; and ``unreadable_vaults``: the records of the vaults whose bodies could not be read (an error
    each), not excluded, for the azure_policy section (Azure Policy judges their bodies all the same). A vault whose policies could not
    be listed gets ``policies: None`` (its retention is reported as unchecked, not as compliant).
    """
    exclusions = parse_exclusions(exclude)
    if reads is None:
        reads = []
    if isinstance(reads, dict) and 'results' in reads:
        reads = reads['results']
    if not isinstance(reads, (list, tuple)):
        raise TargetError('the discovery results must be a list of vault_immutability_info results')
    seen = {}
    found_errors = []
    for index, read in enumerate(reads):
        if not isinstance(read, dict):
            # Never left out without a word: "no vaults, no errors" is a fleet without drift.
            found_errors.append(({'scope': 'discovery', 'message': 'the discovery result is not one vault_immutability_info returns: '
                                  'results[%d] is %s, so what it read is unknown' % (index, shown(read))}, None))
            continue
        if read.get('skipped'):
            continue
        found_errors.extend(_read_errors(read))
        for vault in _result_vaults(read):
            if not isinstance(vault, dict) or not isinstance(vault.get('id'), str) or not vault['id'].strip():
                continue    # an error of the run (_read_errors)
            key = vault_key(vault) or str(vault.get('id')).lower()
            if key not in seen:
                seen[key] = dict(vault, policies=None) if vault.get('policies_error') else vault
    used = set()
    kept = []
    excluded = []
    # (vault id, the entries that excluded it), for the reports: an exclusion is never silent there.
    excluded_by_entries = []
    for key in sorted(seen):
        vault = seen[key]
        hits = [index for index, exclusion in enumerate(exclusions) if excluded_by(exclusion, vault)]
        if hits:
            used.update(hits)
            excluded.append(vault.get('id'))
            excluded_by_entries.append((vault.get('id'), [exclusions[index]['entry'] for index in hits]))
        else:
            kept.append(vault)
    errors = []
    reported = set()
    unreadable = []
    for error, vault in found_errors:
        if vault is not None:
            hits = [index for index, exclusion in enumerate(exclusions) if excluded_by(exclusion, vault)]
            if hits:
                used.update(hits)
                excluded.append(vault.get('id'))
                excluded_by_entries.append((vault.get('id'), [exclusions[index]['entry'] for index in hits]))
                continue
            key = vault_key(vault) or error['scope'].lower()
            if key in reported:
                continue
            reported.add(key)
            # A vault whose body the rules cannot read is still judged by Azure Policy (_policy.evaluate): kept with its
            # policy_fields, unless it has no id to be named by or was read elsewhere.
            if vault_key(vault) and key not in seen and isinstance(vault.get('policy_fields'), dict):
                unreadable.append(vault)
        errors.append(error)
    unmatched = [exclusion['entry'] for index, exclusion in enumerate(exclusions) if index not in used]
    return {'vaults': kept, 'errors': errors, 'excluded': excluded, 'unmatched': unmatched, 'warnings': unmatched_warnings(unmatched),
            'unreadable_vaults': sorted(unreadable, key=vault_key), 'excluded_warning': excluded_warning(excluded_by_entries)}


# How many unmatched exclusion entries the warnings and a refusal name one by one; the rest are counted (vault_targets
# returns them all in `unmatched`): a list of 50,000 retired vault names was 50,000 lines of output.
LISTED_UNMATCHED = 20


def unmatched_warnings(unmatched):
    """One warning an exclusion entry that matched no vault, the first LISTED_UNMATCHED of them, then one that counts the rest."""
    warnings = ['exclusion %s matched no vault, so it protected nothing' % shown(entry) for entry in unmatched[:LISTED_UNMATCHED]]
    if len(unmatched) > LISTED_UNMATCHED:
        warnings.append('%d more exclusions matched no vault, so they protected nothing' % (len(unmatched) - LISTED_UNMATCHED))
    return warnings


def excluded_warning(excluded_by_entries):
    """The reports' sentence naming the vaults the exclusions left out (the first LISTED_UNMATCHED, each with the entries
    that excluded it), or None when none was. The reports list only the vaults they judge, so without it an exclusion,
    from any variable source, took a drifting vault out of the drift report and its gate without a trace there."""
    if not excluded_by_entries:
        return None
    return ('harden_backup_vaults_exclude left %d %s out of this report, not checked: %s'
            % (len(excluded_by_entries), 'vault' if len(excluded_by_entries) == 1 else 'vaults',
               first_named(excluded_by_entries, LISTED_UNMATCHED,
                           lambda pair: '%s (by %s)' % (pair[0], ', '.join(shown(entry) for entry in pair[1])))))


TLS_WARNING = ('TLS certificate validation was off (cert_validation_mode or AZURE_CERT_VALIDATION_MODE is ignore): the identity of '
               'the Azure endpoint was not verified')


def _role_paths():
    """{path under the baseline: the role variable behind it} of the baseline the role builds (roles/harden_backup_vaults/
    vars/main.yml): each rule's (Rule.role_variables) and its tier defaults' (``retention_mode``), the consent and the tiers."""
    paths = {CONSENT: ROLE_PREFIX + CONSENT, 'tiers': TIERS_WHERE}
    for rule in RULES:
        paths.update(rule.role_variables)
        paths.update((key, ROLE_PREFIX + key) for key in rule.tier_default_keys)
    return paths


# A message about baseline.<path> names the variable the user set instead (role_variable_names). A dotted path may be
# followed by the name of its last part (validate_minimum's ``baseline.retention.minimum: minimum.daily is 20000d``).
_ROLE_PATHS = _role_paths()
_ROLE_BASELINE_PATH = re.compile(r'\bbaseline\.(%s[a-z_]+)' % ''.join(
    r'%s(?:: %s(?=\.))?|' % (re.escape(path), re.escape(path.rsplit('.', 1)[1]))
    for path in sorted((path for path in _ROLE_PATHS if '.' in path), key=len, reverse=True)))


def role_variable_names(message):
    """``message`` with each ``baseline.<key>`` path it names written as the role variable behind it, for the errors of a
    harden_plan task the role built its baseline for: ``baseline.retention.minimum: minimum.daily is 20000d`` becomes
    ``harden_backup_vaults_retention_minimum.daily is 20000d``, ``baseline.soft_delete.retention_days`` becomes
    ``harden_backup_vaults_soft_delete.retention_days``. Keys no role variable gives stay as they are."""
    return _ROLE_BASELINE_PATH.sub(lambda match: _ROLE_PATHS.get(match.group(1).split(':')[0], match.group(0)), message)


# harden_plan's options the role sets from a variable of its own (roles/harden_backup_vaults/tasks/main.yml), for a message
# that starts with the option's name (role_option_names).
_ROLE_OPTIONS = {'max_concurrency': 'harden_backup_vaults_discovery_concurrency'}
_ROLE_OPTION_AT_START = re.compile(r'^(report_dir|vaults|subscription_ids|resource_groups|tags|vault_types|discovery|max_concurrency|'
                                   r'azure_policy|baseline_preset)(?=[\[.: ]|$)')


def role_option_names(message):
    """``message`` with the harden_plan option it starts with (``subscription_ids[0]: 'prod' is not a subscription id``)
    written as the role variable the role sets it from (``harden_backup_vaults_subscription_ids[0]: ...``)."""
    return _ROLE_OPTION_AT_START.sub(lambda match: _ROLE_OPTIONS.get(match.group(1), 'harden_backup_vaults_' + match.group(1)), message)


def _json_text(value):
    """A value as the role's variables write it, in one line (JSON: null, true, {"daily": "7d"})."""
    return json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value


def weakened_baseline(normalised, given_tiers=None):
    """The keys of a checked baseline (check_baseline's, after any preset) weaker than the role's defaults, each
    ``{variable, key, tier, value, default, why, lowers}`` (Rule.weakens): the top level's, then each tier's for the keys
    the tier itself gives (``given_tiers``: harden_backup_vaults_baselines as given; a key a tier inherits is the top
    level's). ``lowers``: the value asks a run to lower a vault's setting, not only to check less. Pure: where each value
    came from is the action plugin's to say (plugin_utils/_run_scoped.py)."""
    found = []

    def add(rule, value, variable, tier):
        why, lowers = rule.weakens(value)
        if why:
            found.append({'variable': variable, 'key': rule.key, 'tier': tier, 'value': rule.shown_baseline(value),
                          'default': rule.role_default, 'why': why, 'lowers': bool(lowers)})
    for rule in RULES:
        if rule.key:
            add(rule, normalised.get(rule.key), rule.variable, None)
    resolved = normalised.get('tiers') or []
    given = given_tiers if isinstance(given_tiers, list) else []
    for index, tier in enumerate(resolved):
        raw = given[index] if index < len(given) and isinstance(given[index], Mapping) else {}
        checked = tier_baseline(tier, normalised.get('allow_irreversible'))
        for rule in RULES:
            if rule.key and any(key in raw for key in rule.tier_keys):
                add(rule, checked.get(rule.key), '%s[%d]' % (TIERS_WHERE, index), tier.get('name'))
    return found


def weakened_subject(entry):
    """'harden_backup_vaults_immutability' or "harden_backup_vaults_baselines[0] (tier 'dev') immutability": what a
    weakened_baseline entry names."""
    if entry.get('tier') is None:
        return entry['variable']
    return '%s (tier %s) %s' % (entry['variable'], shown(entry['tier']), entry['key'])


def weakened_warning(entry):
    """The warning of a weakened_baseline entry with its ``source`` (where its value came from)."""
    return ('%s is %s, weaker than the role\'s default %s: it %s; from %s' % (
        weakened_subject(entry), _json_text(entry.get('value')), _json_text(entry.get('default')), entry['why'],
        entry.get('source') or 'an unknown source'))


def check_baseline(baseline):
    """The baseline normalised (_drift.validate_baseline), and the role's consent rule: a baseline that asks for an
    irreversible state (a value a hardening rule names irreversible) must consent with allow_irreversible.

    The baseline may carry ``tiers`` (harden_backup_vaults_baselines: module_utils/_tiers.py) and the rules' tier defaults
    (Rule.tier_default_keys: ``retention_mode``, the mode of tiers when the top level checks no retention). Each tier is
    checked once here too, with the same consent rule (consent stays the one allow_irreversible of the run); the result
    then holds ``tiers``, resolved.
    """
    tiers = None
    given = None
    # Settings a preset raised to an irreversible target (_policy/_preset.py): without consent they are findings that name
    # harden_backup_vaults_allow_irreversible, not a refusal of the run (the variables themselves never asked for them).
    deferred = ()
    if isinstance(baseline, Mapping) and PRESET_DEFERRED in baseline:
        deferred = tuple(baseline.get(PRESET_DEFERRED) or ())
        baseline = dict((key, value) for key, value in baseline.items() if key != PRESET_DEFERRED)
    defaults = tuple(key for rule in RULES for key in rule.tier_default_keys)
    if isinstance(baseline, Mapping) and ('tiers' in baseline or any(key in baseline for key in defaults)):
        tiers = baseline.get('tiers')
        given = dict((key, baseline.get(key)) for key in defaults)
        baseline = dict((key, value) for key, value in baseline.items() if key != 'tiers' and key not in defaults)
    normalised = validate_baseline(baseline)
    consent = 'set harden_backup_vaults_allow_irreversible: true to consent'
    for rule in RULES:
        for path, value in rule.irreversible_targets(normalised):
            if not normalised['allow_irreversible'] and path.split('.')[0] not in deferred:
                raise TargetError('harden_backup_vaults_%s: %s is irreversible%s: %s' % (path, value, rule.irreversible_why, consent))
    if deferred:
        # Kept, so that checking the checked baseline again (harden_plan, harden_apply) defers the same settings.
        normalised = dict(normalised, **{PRESET_DEFERRED: list(deferred)})
    if tiers is None:
        return normalised
    resolved = resolve_tiers(tiers, normalised, given)
    for index, tier in enumerate(resolved):
        where = '%s[%d] (%s)' % (TIERS_WHERE, index, tier['name'])
        for rule in RULES:
            for path, value in rule.irreversible_targets(tier):
                # A tier that inherits a target the preset raised is deferred as the default tier is.
                inherited = path.split('.')[0] in deferred and dict(rule.irreversible_targets(normalised)).get(path) == value
                if not normalised['allow_irreversible'] and not inherited:
                    raise TargetError('%s: %s %s is irreversible%s: %s' % (where, path, value, rule.irreversible_why, consent))
    return dict(normalised, tiers=resolved)


def _reads(reads):
    if isinstance(reads, dict) and 'results' in reads:
        return reads['results']
    return reads if isinstance(reads, (list, tuple)) else []


def merge_discovery(reads):
    """Where a run's vaults came from: the ``discovery`` blocks of vault_immutability_info results merged, or None.

    ``{requested, source_by_subscription, sources, fallbacks, data_time, resource_graph, arm}``: ``source_by_subscription``
    maps each subscription to ``resource_graph``, ``arm``, or ``mixed`` (some of its vaults from each: named vaults are
    always read from ARM); ``sources`` counts subscriptions per source; ``fallbacks`` are the subscriptions read from ARM
    instead of Resource Graph, with the reason; ``data_time`` is the earliest time any read began (UTC);
    ``resource_graph`` and ``arm`` add up the requests, waits and 429 answers of the reads.
    """
    sources, names, fallbacks, seen, times, requested = {}, {}, [], set(), [], []
    graph = {'calls': 0, 'throttled': 0, 'waited_s': 0.0}
    arm = {'requests': 0, 'waited_s': 0.0, 'throttled': 0}
    found = False
    for read in _reads(reads):
        block = read.get('discovery') if isinstance(read, dict) else None
        if not isinstance(block, dict):
            continue
        found = True
        if block.get('requested') and block['requested'] not in requested:
            requested.append(block['requested'])
        for sub, source in (block.get('source_by_subscription') or {}).items():
            key = str(sub).lower()
            names.setdefault(key, str(sub))
            sources[key] = source if sources.get(key) in (None, source) else 'mixed'
        for fallback in block.get('fallbacks') or []:
            if isinstance(fallback, dict):
                marker = (str(fallback.get('subscription_id')).lower(), str(fallback.get('reason')))
                if marker not in seen:
                    seen.add(marker)
                    fallbacks.append({'subscription_id': fallback.get('subscription_id'), 'reason': fallback.get('reason')})
        if isinstance(block.get('data_time'), str):
            times.append(block['data_time'])
        for total, part in ((graph, block.get('resource_graph')), (arm, block.get('arm'))):
            for key in total:
                value = (part or {}).get(key) if isinstance(part, dict) else None
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    total[key] += value
    if not found:
        return None
    graph['waited_s'] = round(graph['waited_s'], 3)
    arm['waited_s'] = round(arm['waited_s'], 3)
    by_sub = {names[key]: sources[key] for key in sorted(sources)}
    counts = {}
    for source in by_sub.values():
        counts[source] = counts.get(source, 0) + 1
    return {'requested': requested, 'source_by_subscription': by_sub, 'sources': counts, 'fallbacks': fallbacks,
            'data_time': min(times) if times else None, 'resource_graph': graph, 'arm': arm}


def lock_requirements_for(entry, default):
    """The lock requirements a drift entry is judged by: those of the vault's tier when the entry carries them
    (``lock_requirements``, as written, from the baselines per tier), else ``default`` (the role's
    harden_backup_vaults_lock_requirements, already validated). The one place that chooses."""
    raw = entry.get('lock_requirements')
    if raw is None:
        return default
    return validate_requirements(raw, 'lock_requirements of the tier of %s' % (entry.get('name') or entry.get('id')))


def gate_locks(drift, vaults, default_requirements, today=None):
    """Lock only the vaults that are ready: a drift entry whose changes lock its vault gets ``lock_readiness`` (the
    vault's _readiness.readiness against lock_requirements_for the entry, with its other findings and the retention the
    run raises first). An entry that is not ready loses the lock (and only the lock: the reversible step to enabled, and
    every other change, stay); its lock finding becomes not fixable, ``not ready: <blockers>``. The lock is the
    irreversible target of the rule that is the lock (Rule.is_lock: immutability locked). Changes the entries in place
    and returns them."""
    by_key = {}
    for vault in vaults:
        by_key.setdefault(vault_key(vault) or str(vault.get('id')).lower(), vault)
    for rule in LOCK_RULES:
        settings = [setting.name for setting in rule.settings]
        for entry in drift:
            locks = [change for change in entry['changes'] if change.get('setting') in settings and change.get('after') in rule.irreversible]
            if not locks:
                continue
            vault = by_key.get(vault_key(entry) or str(entry.get('id')).lower()) or dict(entry)
            result = readiness(vault, lock_requirements_for(entry, default_requirements), findings=entry['findings'],
                               raises=entry['changes'], today=today)
            entry['lock_readiness'] = result
            if result['ready']:
                continue
            entry['changes'] = [change for change in entry['changes'] if change not in locks]
            steps = [change for change in entry['changes'] if change.get('setting') in settings]
            entry['actions'][rule.action] = steps[-1]['after'] if steps else None
            reason = 'not ready: %s' % '; '.join(blocker['message'] for blocker in result['blockers'])
            for finding in entry['findings']:
                if finding.get('setting') in settings and finding.get('want') in rule.irreversible:
                    finding['fixable'] = False
                    finding['reason'] = reason
    return drift


def _at(mapping, path):
    for part in path:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(part)
    return mapping


def check_written_choices(baseline):
    """Raise TargetError for a choice of ``baseline`` (or of one of its ``tiers``) not written as the role's argument spec
    takes it (each rule's ``choices``): ansible-core compares an option's choices exactly, so ``ENFORCE``, ``Enabled``,
    `` on`` and '' fail its check of the role's variables. harden_plan checks them so whatever skipped that check
    (``--skip-tags always``, ``rolespec_validate: false``, a play that calls harden_plan itself): the rules' normalisers,
    which read any casing (vault records, the filters), took ``ENFORCE`` as enforce, and the run raised policies. A boolean
    (``off`` unquoted in YAML) is not checked here: ansible-core's check maps it back to the one choice it can spell
    (``off`` for soft delete), and where that check did not run the rule's own check refuses it, saying to quote it."""
    if not isinstance(baseline, Mapping):
        return
    parts = [('baseline', baseline)]
    tiers = baseline.get('tiers')
    if isinstance(tiers, (list, tuple)):
        parts += [('%s[%d]' % (TIERS_WHERE, index), tier) for index, tier in enumerate(tiers)]
    for where, part in parts:
        for rule in RULES:
            for path, allowed in rule.choices.items():
                value = _at(part, path)
                if not isinstance(value, str) or value in allowed:
                    continue
                name = '%s.%s' % (where, '.'.join(path))
                if not value.strip():
                    raise TargetError('%s is %s (from a variable that came out empty?): write one of %s, or leave it out; nothing was '
                                      'sent to Azure' % (name, shown(value), ', '.join(allowed)))
                raise TargetError('%s must be one of %s, written so (choices are compared exactly, as the role\'s argument spec '
                                  'compares them), got %s; nothing was sent to Azure' % (name, ', '.join(allowed), shown(value)))


def plan_run(reads, exclude=None, baseline=None, lock_requirements=None, today=None):
    """select_vaults, and with a baseline everything a harden_backup_vaults run decides before it changes anything.

    Adds to select_vaults' result: ``baseline`` (checked once, see check_baseline), ``lock_requirements`` (checked once:
    _readiness.validate_requirements), ``drift`` (one _drift entry per vault, with the ``changes`` a run makes: the one
    place "would change" is computed; each vault judged against its own tier's baseline, _tiers.drift_entries; a vault
    its tier locks is locked only when it is ready, see gate_locks; ``today`` is the day readiness dates count from,
    default today in UTC), ``include_policies`` (whether any tier checks retention, so discovery must read the
    policies), ``include_items`` (whether any tier locks, so discovery must read the protected items), ``blocked`` (a sentence, or ''
    when nothing blocks: an exclusion entry that matched no vault may be a typo for a vault meant to be protected, so a
    run that would make an irreversible change then makes no change at all), ``report_errors`` (the errors, and the
    block), ``report_warnings`` (the warnings, and TLS validation being off for a discovery task) and ``discovery``
    (where the vaults came from: merge_discovery).
    """
    selected = select_vaults(reads, exclude)
    if baseline is None:
        return selected
    normalised = check_baseline(baseline)
    requirements = validate_requirements(lock_requirements, 'harden_backup_vaults_lock_requirements')
    # One vault that cannot be judged (an odd policy) is an error of that vault, never a stop of the whole plan.
    unjudged = []
    drift = gate_locks(drift_entries(selected['vaults'], normalised, normalised.get('tiers'), unjudged), selected['vaults'],
                       requirements, today)
    selected = dict(selected, errors=selected['errors'] + unjudged)
    irreversible = [change for entry in drift for change in entry['changes'] if change.get('irreversible')]
    blocked = ''
    if selected['unmatched'] and irreversible:
        blocked = ('harden_backup_vaults_exclude: %s matched no vault, and this run would make %d irreversible change(s): nothing '
                   'was changed. Fix the exclusion (or remove it) and run again.' % (first_named(selected['unmatched'], LISTED_UNMATCHED), len(irreversible)))
    insecure = any(isinstance(read, dict) and 'cert_validation_mode' in read for read in _reads(reads))
    excluded_note = [selected['excluded_warning']] if selected['excluded_warning'] else []
    # A minimum given only per datastore that checks no tier of some policies (Recovery Services VM and workload tiers have
    # no datastore): a warning of the run, in its result and in every report.
    unchecked = datastore_only_warnings(selected['vaults'], drift, normalised)
    selected = dict(selected, warnings=selected['warnings'] + unchecked)
    return dict(selected, baseline=normalised, lock_requirements=requirements, drift=drift, blocked=blocked,
                include_policies=reads_policies(normalised, normalised.get('tiers')),
                include_items=reads_items(normalised, normalised.get('tiers')),
                report_errors=selected['errors'] + ([{'scope': 'harden_backup_vaults_exclude', 'message': blocked}] if blocked else []),
                report_warnings=selected['warnings'] + excluded_note + ([TLS_WARNING] if insecure else []),
                discovery=merge_discovery(reads))
