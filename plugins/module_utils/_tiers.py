# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Baselines per tier: which baseline each vault is judged against (pure, no I/O).

A tier is ``{name, match, <the tier keys of each rule of _rules.RULES>, lock_requirements}`` (``TIER_KEYS``). Tiers are
tried in order and the first whose ``match`` holds wins; a vault no tier matches gets the default tier (the baseline
given at the top level, named ``default``).

``match`` selects vaults by any of four criteria; every criterion given must hold (AND), and a list within a criterion
is any-of:

- ``tags``: a dict of tag name to value. Tag names are compared case-insensitively and values case-sensitively, as
  Azure Resource Manager does (learn.microsoft.com/azure/azure-resource-manager/management/tag-resources: "Tag names
  are case-insensitive for operations ... Tag values are case-sensitive"). A value may be a string, a list of strings
  (any of them), or null (the tag only needs to exist). Every tag listed must be on the vault.
- ``names``: vault name patterns, ``*`` any text and ``?`` one character, case-insensitive (matched with fnmatch, as
  the exclusions of _targets.py are);
- ``subscriptions``: subscription GUIDs, any case;
- ``resource_groups``: resource group names, case-insensitive, as ARM treats them.

A key a tier leaves out is inherited from the default tier; a key the tier gives replaces the default's value as a
whole (``soft_delete: {state: always_on}`` has no minimum retention days unless it says so). As at the top level,
``immutability: null``, ``soft_delete: {}`` and ``retention_minimum: {}`` turn that check off for the tier.
``lock_requirements`` is checked once (_readiness.validate_requirements) and kept as given for the lock readiness check,
or None: the role's default.

``resolve_tiers`` returns every tier with all its keys (inheritance applied, values normalised). That form is valid input
again and resolves to itself, so a checked baseline can be checked twice. Consent to irreversible changes is not a tier
setting: it stays the caller's one ``allow_irreversible`` (the role's task-scoped consent).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import DriftError, sort_key, validate_baseline, vault_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError, escaped, tag_names, type_name
from ansible_collections.vaultlock.azure.plugins.module_utils._readiness import ReadinessError, validate_requirements
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import checked_minimum, datastore_only_warning, unchecked_by_datastore
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import RULES
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import CONSENT
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.retention import RULE as RETENTION
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import GUID, RG_NAME, has_control, parse_resource_id, shown

DEFAULT_TIER = 'default'
TIER_KEYS = ('name', 'match') + tuple(key for rule in RULES for key in rule.tier_keys) + ('lock_requirements',)
MATCH_KEYS = ('tags', 'names', 'subscriptions', 'resource_groups')
WHERE = 'harden_backup_vaults_baselines'

# Tier names show in every report: letters, digits and . _ - (up to 64 characters).
_TIER_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,63}')
# Vault names are letters, digits and hyphens; a pattern adds * and ? (the same rule as the exclusion patterns).
_NAME_PATTERN = re.compile(r'[A-Za-z0-9*?-]+')

_REFUSED = {
    'allow_irreversible': 'consent to irreversible changes is not a tier setting: it is harden_backup_vaults_allow_irreversible, '
                          'given once for the run',
    'exclude': 'exclusions apply to the run before any tier: use harden_backup_vaults_exclude',
}


class TierError(VaultlockError, ValueError):
    """A tier that cannot be used; raised before any request."""


def _label(index, tier):
    name = tier.get('name') if isinstance(tier, Mapping) else None
    if isinstance(name, str) and name and not has_control(name):
        return '%s[%d] (%s)' % (WHERE, index, escaped(name))
    return '%s[%d]' % (WHERE, index)


def _as_list(value, where, what):
    """A list of non-empty strings (one string counts as a list of one), surrounding spaces removed."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise TierError('%s must be a list of %s, got %s' % (where, what, type_name(value)))
    if not value:
        raise TierError('%s is an empty list, which matches no vault: give at least one of %s, or leave the criterion out'
                        % (where, what))
    items = []
    for item in value:
        if not isinstance(item, str):
            raise TierError('%s: %s is not a string' % (where, shown(item)))
        if has_control(item):
            raise TierError('%s: %s contains a control character (a newline, say)' % (where, shown(item)))
        text = item.strip(' \t')
        if not text:
            raise TierError('%s: an entry is empty' % where)
        items.append(text)
    return items


def _tag_values(value, where):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if not value:
            raise TierError('%s is an empty list, which matches no vault' % where)
        values = list(value)
    else:
        values = [value]
    for item in values:
        if not isinstance(item, str):
            raise TierError('%s: %s is not a string: tag values are strings, quote it in YAML' % (where, shown(item)))
        if has_control(item):
            raise TierError('%s: %s contains a control character' % (where, shown(item)))
    return values


def _match_tags(tags, where):
    if not isinstance(tags, Mapping):
        raise TierError('%s must be a dict of tag name: value (a string, a list of strings, or null for any value), got %s'
                        % (where, type_name(tags)))
    if not tags:
        raise TierError('%s is empty: give at least one tag, or leave the criterion out' % where)
    result = {}
    for key, value in tag_names(tags, where, TierError):
        result[key.strip()] = _tag_values(value, '%s.%s' % (where, key))
    return result


def validate_match(match, where):
    """A tier's match normalised: only the criteria given, lists of strings; raises TierError."""
    if not isinstance(match, Mapping):
        got = 'null' if match is None else type_name(match)
        raise TierError('%s must be a dict with one or more of %s, got %s' % (where, ', '.join(MATCH_KEYS), got))
    unknown = sorted(str(key) for key in match if key not in MATCH_KEYS)
    if unknown:
        raise TierError('%s has unknown key(s) %s; allowed: %s' % (where, ', '.join(escaped(key) for key in unknown), ', '.join(MATCH_KEYS)))
    given = dict((key, value) for key, value in match.items() if value is not None)
    if not given:
        raise TierError('%s is empty: a tier must select vaults by %s (a tier for every vault is the top-level baseline)'
                        % (where, ', '.join(MATCH_KEYS)))
    result = {}
    if 'tags' in given:
        result['tags'] = _match_tags(given['tags'], where + '.tags')
    if 'names' in given:
        result['names'] = _checked_list(given, 'names', where, 'vault name patterns', _NAME_PATTERN,
                                        'a vault name pattern (letters, digits, hyphens, * and ?)')
    if 'subscriptions' in given:
        subs = _checked_list(given, 'subscriptions', where, 'subscription GUIDs', GUID,
                             'a subscription GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)')
        result['subscriptions'] = [sub.lower() for sub in subs]
    if 'resource_groups' in given:
        result['resource_groups'] = _checked_list(given, 'resource_groups', where, 'resource group names', RG_NAME,
                                                  'a resource group name')
    return result


def _checked_list(given, key, where, what, pattern, expected):
    """given[key] as a list of strings (``what``), each matching ``pattern`` in full (else TierError: not ``expected``)."""
    values = _as_list(given[key], '%s.%s' % (where, key), what)
    for value in values:
        if not pattern.fullmatch(value):
            raise TierError('%s.%s: %s is not %s' % (where, key, shown(value), expected))
    return values


def default_tier(normalised):
    """The top-level baseline (already through validate_baseline) in the tier form, named ``default``."""
    tier = {'name': DEFAULT_TIER, 'match': None}
    for rule in RULES:
        tier.update(rule.to_tier(normalised.get(rule.key)))
    tier['lock_requirements'] = None
    return tier


def tier_baseline(tier, allow_irreversible):
    """The baseline of a resolved tier, as _drift.validate_baseline returns it."""
    baseline = {CONSENT: bool(allow_irreversible)}
    for rule in RULES:
        if rule.key:
            baseline[rule.key] = rule.from_tier(tier)
    return baseline


def _message(exc):
    # validate_baseline names its keys baseline.<path>; a tier's keys are the role's (Rule.tier_paths).
    text = str(exc)
    for rule in RULES:
        for path, key in rule.tier_paths.items():
            text = text.replace('baseline.' + path, key)
    return text.replace('baseline.', '')


def resolve_tier(tier, index, default, allow_irreversible, defaults):
    """One tier with every key (inherited from the default tier when left out), normalised; raises TierError."""
    where = _label(index, tier)
    if not isinstance(tier, Mapping):
        raise TierError('%s must be a dict {%s}, got %s' % (where, ', '.join(TIER_KEYS), type_name(tier)))
    for key, reason in _REFUSED.items():
        if key in tier:
            raise TierError('%s: %s is not a tier key: %s' % (where, key, reason))
    unknown = sorted(str(key) for key in tier if key not in TIER_KEYS)
    if unknown:
        raise TierError('%s has unknown key(s) %s; allowed: %s' % (where, ', '.join(escaped(key) for key in unknown), ', '.join(TIER_KEYS)))
    name = tier.get('name')
    if not isinstance(name, str) or not _TIER_NAME.fullmatch(name):
        raise TierError('%s: name %s must be 1 to 64 letters, digits, dots, underscores or hyphens, starting with a letter or '
                        'digit' % (where, 'is missing' if name is None else shown(name)))
    if name.lower() == DEFAULT_TIER:
        raise TierError('%s: the name %s is taken by the top-level baseline (the tier of the vaults no tier matches)'
                        % (where, shown(name)))
    match = validate_match(tier.get('match'), where + '.match')

    resolved = dict(default, name=name, match=match)
    for key in TIER_KEYS[2:]:
        if key in tier:
            resolved[key] = tier[key]
    given = {CONSENT: bool(allow_irreversible)}
    for rule in RULES:
        if rule.key:
            try:
                given[rule.key] = rule.tier_value(resolved, defaults)
            except DriftError as exc:
                raise TierError('%s: %s' % (where, exc)) from None
    requirements = resolved['lock_requirements']
    if requirements is not None and not isinstance(requirements, Mapping):
        raise TierError('%s: lock_requirements must be a dict (the keys of harden_backup_vaults_lock_requirements), got %s'
                        % (where, type_name(requirements)))
    try:
        checked = validate_baseline(given)
    except DriftError as exc:
        raise TierError('%s: %s' % (where, _message(exc))) from None
    for rule in RULES:
        if rule.key:
            resolved.update(rule.resolved_tier(checked[rule.key]))
    if requirements is not None:
        # Checked here, once, before any request: a tier whose vaults lock nothing this run is still refused when wrong.
        try:
            validate_requirements(requirements, '%s: lock_requirements' % where)
        except ReadinessError as exc:
            raise TierError(str(exc)) from None
    resolved['lock_requirements'] = dict(requirements) if requirements is not None else None
    return resolved


def resolve_tiers(tiers, normalised, given=None):
    """Every tier resolved against the default tier (the top-level baseline, through validate_baseline); raises TierError.

    given: the role's defaults for every tier (``{key: value}`` of the rules' ``tier_default_keys``, each rule's
    Rule.tier_defaults: ``retention_mode``, the mode of tiers that do not give one when the top-level baseline checks no
    retention, the role's harden_backup_vaults_retention_mode; by default the top-level one, else report).
    """
    if tiers is None:
        return []
    if not isinstance(tiers, (list, tuple)):
        raise TierError('%s must be a list of tiers {name, match, ...}, got %s' % (WHERE, type_name(tiers)))
    default = default_tier(normalised)
    defaults = {}
    for rule in RULES:
        try:
            defaults.update(rule.tier_defaults(default, given or {}))
        except DriftError as exc:
            raise TierError(str(exc)) from None
    resolved = []
    names = {}
    for index, tier in enumerate(tiers):
        one = resolve_tier(tier, index, default, normalised.get('allow_irreversible'), defaults)
        if one['name'].lower() in names:
            raise TierError('%s: the name %s is already the name of %s[%d]; tier names must be unique (any case)'
                            % (_label(index, tier), shown(one['name']), WHERE, names[one['name'].lower()]))
        names[one['name'].lower()] = index
        resolved.append(one)
    return resolved


def _vault_place(vault):
    """(subscription, resource group) of a vault record, lowercase; from its id when the record lacks them."""
    sub = vault.get('subscription_id')
    group = vault.get('resource_group')
    if not (sub and group) and isinstance(vault.get('id'), str):
        ids = parse_resource_id(vault['id'])
        sub = sub or ids.get('subscription_id')
        group = group or ids.get('resource_group')
    return str(sub or '').lower(), str(group or '').lower()


def matches(match, vault):
    """True when every criterion of a validated match holds for the vault record."""
    if 'tags' in match:
        tags = dict((str(key).lower(), value) for key, value in (vault.get('tags') or {}).items()) \
            if isinstance(vault.get('tags'), Mapping) else {}
        for key, values in match['tags'].items():
            key = key.lower()
            if key not in tags:
                return False
            if values is not None and tags[key] not in values:
                return False
    if 'names' in match:
        name = vault.get('name')
        if not isinstance(name, str) or not any(fnmatch.fnmatchcase(name.lower(), pattern.lower()) for pattern in match['names']):
            return False
    sub, group = _vault_place(vault)
    if 'subscriptions' in match and sub not in [s.lower() for s in match['subscriptions']]:
        return False
    if 'resource_groups' in match and group not in [g.lower() for g in match['resource_groups']]:
        return False
    return True


def match_tier(vault, tiers):
    """The first resolved tier whose match holds for the vault record, or None (the default tier)."""
    for tier in tiers or []:
        if matches(tier['match'], vault):
            return tier
    return None


def _reads(normalised, tiers, what):
    """Whether a rule of any tier, the default one included, needs ``what`` read (Rule.reads)."""
    for rule in RULES:
        values = [normalised.get(rule.key) if rule.key else None] + [rule.from_tier(tier) for tier in tiers or []]
        if any(what in rule.reads(value) for value in values):
            return True
    return False


def reads_policies(normalised, tiers):
    """Whether any tier, the default one included, checks retention (so discovery must read the vaults' policies)."""
    return _reads(normalised, tiers, 'policies')


def reads_items(normalised, tiers):
    """Whether any tier, the default one included, locks (so discovery must read the vaults' protected items: lock
    readiness counts them)."""
    return _reads(normalised, tiers, 'items')


def judged(vaults, normalised, tiers):
    """Each of ``vaults`` as ``(vault, tier, baseline)``: the first resolved tier whose match holds for it (None: the default
    tier, and for anything that is not a vault record) and the baseline it is judged against (that tier's, tier_baseline,
    built once a tier; else ``normalised``). The one place a vault is matched to its tier's baseline."""
    baselines = dict((tier['name'], tier_baseline(tier, normalised.get('allow_irreversible'))) for tier in tiers or [])
    for vault in vaults:
        tier = match_tier(vault, tiers) if isinstance(vault, Mapping) else None
        yield vault, tier, baselines[tier['name']] if tier else normalised


def vault_reads(vaults, normalised, what):
    """The vault records for which ``what`` must be read before they are judged (Rule.vault_reads, each vault against
    its own tier's baseline: ``resource_guard``, the vault's Resource Guard proxy, _discovery.guards); none when no rule
    of the vault's tier asks, so a baseline that needs no such read costs no request."""
    wanted = []
    for vault, _tier, baseline in judged(vaults, normalised, normalised.get('tiers') or []):
        if not isinstance(vault, Mapping):
            continue
        if any(what in rule.vault_reads(vault, baseline.get(rule.key) if rule.key else None) for rule in RULES):
            wanted.append(vault)
    return wanted


def drift_entries(vaults, normalised, tiers=None, errors=None):
    """_drift entries, each vault against its own tier's baseline (``judged``), in a stable order.

    Each entry gains ``tier`` (the name of the tier that matched, or ``default``), ``lock_requirements`` (that tier's
    raw ``lock_requirements``, or None for the role default) and ``retention_minimum`` (the minimum its policies are
    raised to, {} when retention is not checked). With ``errors`` (a list), a vault whose record cannot be judged (a
    policy no rule can read, say) becomes an error of that vault there, ``{scope, message, vault}``, instead of stopping
    every other vault's plan; without it the error is raised.
    """
    default = default_tier(normalised)
    entries = []
    for vault, tier, baseline in judged(vaults, normalised, tiers or []):
        try:
            entry = vault_drift(vault, baseline)
        except VaultlockError as exc:
            if errors is None or not isinstance(vault, Mapping):
                raise
            errors.append({'scope': str(vault.get('id') or vault.get('name')), 'vault': vault.get('name'),
                           'message': 'the vault cannot be judged against the baseline: %s' % exc})
            continue
        chosen = tier or default
        entry['tier'] = chosen['name']
        entry['lock_requirements'] = chosen['lock_requirements']
        entry['retention_minimum'] = dict(chosen['retention_minimum'])
        entries.append(entry)
    return sorted(entries, key=sort_key)


def datastore_only_warnings(vaults, drift, normalised):
    """Warnings of a run whose retention minimum (the role's, or a tier's) has keys given only per datastore that check no
    tier of some policies of the vaults in scope, as those policies' tiers have no datastore
    (_retention.unchecked_by_datastore), whether the minimum's other keys are plain durations or not: one warning a key of a
    minimum, naming the minimum and the key, counting the policies and vaults, and naming the first of them. ``drift`` is
    drift_entries' result (each vault's tier), ``normalised`` the checked baseline it was judged against (check_baseline:
    each tier's minimum, parsed when it was checked)."""
    records = dict((vault.get('id'), vault) for vault in vaults if isinstance(vault, Mapping))
    minimums = dict((tier['name'], checked_minimum(tier['retention_minimum']).parsed)
                    for tier in [default_tier(normalised)] + list(normalised.get('tiers') or []) if tier['retention_minimum'])
    found = {}
    for entry in drift:
        name = entry.get('tier') or DEFAULT_TIER
        minimum = minimums.get(name)
        if not minimum:
            continue
        vault = records.get(entry.get('id'))
        if vault is None or not isinstance(vault.get('policies'), list):
            continue
        for policy in vault['policies']:
            if not isinstance(policy, Mapping):
                continue
            for key in unchecked_by_datastore(policy, minimum):
                found.setdefault((name, key), {}).setdefault(vault.get('name'), []).append(policy)
    warnings = []
    for name, key in sorted(found, key=lambda pair: (pair[0] != DEFAULT_TIER, pair[0], pair[1])):
        what = (RETENTION.variable if name == DEFAULT_TIER
                else 'the %s of tier %s (%s)' % (RETENTION.tier_paths[RETENTION.role_path], shown(name), WHERE))
        by_vault = found[(name, key)]
        names = ['%s/%s' % (vault_name, policy.get('name')) for vault_name in by_vault for policy in by_vault[vault_name]]
        where = ' in %d %s' % (len(by_vault), 'vault' if len(by_vault) == 1 else 'vaults')
        warnings.append(datastore_only_warning(what, key, minimums[name][key], names, where))
    return warnings
