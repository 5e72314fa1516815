# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Lock readiness: what locking a vault commits to, and whether it may be locked (pure, no I/O).

A locked vault can never be unlocked. From then on Azure refuses, for as long as the vault exists, the operations an
immutable vault blocks (Learn, backup-azure-immutable-vault-concept, "Restricted operations"): stop protection with
delete data (both kinds: a protected item's recovery points cannot be deleted before they expire); on Recovery Services
vaults also modifying a policy so that it keeps less, and moving an item to a policy that keeps less. Immutability does
not hold operational backups (``_retention.OPERATIONAL_TIERS``).

``readiness(vault, requirements, findings, raises, today)`` takes a vault record with its ``policies`` (normalised,
``_retention.normalise_policy``) and its ``protected_items`` (``_items.item_record``) and returns what a reviewer signs:
the items and their policies, per policy in use the longest retention of each tier (and whether immutability protects
that tier), ``held_until`` (today plus the longest protected retention of any policy in use: the day the newest recovery
point of the vault can be deleted at the earliest), the commitments in words, and ``ready`` with the ``blockers``: each
requirement that fails, with the value found.

Requirements (``validate_requirements``, defaults in ``DEFAULT_REQUIREMENTS``: an ordinary vault is ready):

- ``max_retention``: a duration (``10y``, ``P10Y``, ``3650d``): no policy in use keeps recovery points longer on a
  protected tier, since locking commits their storage for that long. Compared as calendar dates from today.
- ``require_soft_delete``: ``on`` (on or always_on) or ``always_on``; null (or false) for no requirement.
- ``require_mua``: the vault must be protected by multi-user authorization (a Resource Guard; ``_rules.mua``).
- ``no_unfixable_findings``: the vault has no drift finding that the run cannot fix (the role passes them).

Durations are added to dates by the calendar: years and months first (a month from 31 January is the last day of
February, a year from 29 February is 28 February), then weeks and days.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError, VaultlockError, escaped, shown, type_name
from ansible_collections.vaultlock.azure.plugins.module_utils._immutability import normalise_choice as _immutability_state
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import Duration, RetentionError, is_operational, is_unsourced, parse_duration
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import LOCK_RULES, LOCK_SETTINGS, PER_POLICY, RULES
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import DriftError, must_be_bool

# The rules that add a lock requirement, in the order of their requirements; then the one readiness has of its own.
REQUIRING = tuple(sorted((rule for rule in RULES if rule.requirement), key=lambda rule: rule.requirement.rank))
NO_UNFIXABLE = 'no_unfixable_findings'
REQUIREMENT_KEYS = tuple(rule.requirement.key for rule in REQUIRING) + (NO_UNFIXABLE,)
DEFAULT_REQUIREMENTS = dict([(rule.requirement.key, rule.requirement.default) for rule in REQUIRING] + [(NO_UNFIXABLE, True)])
# The targets of the lock readiness decides (the lock rules' irreversible values: immutability locked).
LOCKED = tuple(value for rule in LOCK_RULES for value in rule.irreversible)
# The blockers every readiness can have, whatever the requirements: what was needed to judge it could not be read.
READABLE = 'readable'


class ReadinessError(InputError, ValueError):
    """Lock requirements that cannot be used; raised before any request."""


def validate_requirements(requirements, where='requirements'):
    """Check lock requirements and return them complete and normalised (``DEFAULT_REQUIREMENTS`` for what is unset).

    Each requirement is its hardening rule's (Rule.requirement, normalised by Rule.check_requirement: ``max_retention``
    becomes ISO-8601 or None, ``require_soft_delete`` on, always_on or None). Raises ReadinessError naming the key.
    """
    if requirements is None:
        return dict(DEFAULT_REQUIREMENTS)
    if not isinstance(requirements, Mapping):
        raise ReadinessError('%s must be a dictionary of %s, got %s' % (where, ', '.join(REQUIREMENT_KEYS), type_name(requirements)))
    unknown = sorted(str(key) for key in requirements if key not in REQUIREMENT_KEYS)
    if unknown:
        raise ReadinessError('%s has unknown key(s) %s; allowed: %s' % (where, ', '.join(escaped(key) for key in unknown), ', '.join(REQUIREMENT_KEYS)))
    result = dict(DEFAULT_REQUIREMENTS)
    nullable = [rule.requirement.key for rule in REQUIRING if rule.requirement.nullable]
    for key in REQUIREMENT_KEYS:
        # An explicit null is "no requirement" where the requirement allows it (max_retention: no limit); otherwise null
        # takes the default.
        if key in requirements and (requirements[key] is not None or key in nullable):
            result[key] = requirements[key]
    try:
        for rule in REQUIRING:
            result[rule.requirement.key] = rule.check_requirement(result[rule.requirement.key], where)
        must_be_bool(result[NO_UNFIXABLE], where, NO_UNFIXABLE)
    except DriftError as exc:
        raise ReadinessError(str(exc)) from None
    return result


def looser_requirements(requirements, where='requirements'):
    """The requirements of ``requirements`` (validated, see validate_requirements) that may let a vault lock which the
    defaults would keep unlocked, as ``[(key, value, default)]`` in the requirements' order; [] when every one is the
    default or stricter. Each rule says what looser is (Rule.looser_requirement); ``no_unfixable_findings`` is readiness's."""
    checked = validate_requirements(requirements, where)
    defaults = validate_requirements({}, 'the default lock requirements')
    looser = [(rule.requirement.key, checked[rule.requirement.key], defaults[rule.requirement.key]) for rule in REQUIRING
              if rule.looser_requirement(checked[rule.requirement.key], defaults[rule.requirement.key])]
    if defaults[NO_UNFIXABLE] and not checked[NO_UNFIXABLE]:
        looser.append((NO_UNFIXABLE, checked[NO_UNFIXABLE], defaults[NO_UNFIXABLE]))
    return looser


# ---------------------------------------------------------------------------------------------
# Calendar

def add_duration(start, duration):
    """The date ``duration`` after ``start``: years and months by the calendar (the day clamped to the month's last day),
    then weeks and days. None when the date would be beyond the year 9999."""
    months, days = parse_duration(duration).calendar
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    if year > datetime.MAXYEAR:
        return None
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    try:
        return datetime.date(year, month + 1, day) + datetime.timedelta(days=days)
    except OverflowError:
        return None


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def _as_date(value):
    if value is None:
        return utc_today()
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ReadinessError("today must be a date (YYYY-MM-DD), got %s" % shown(value)) from None


def _iso(day):
    return day.isoformat() if day is not None else None


# ---------------------------------------------------------------------------------------------
# Readiness

def _lower(value):
    return str(value).strip().lower() if value is not None else ''


def _plural(count, word, words=None):
    return '%d %s' % (count, word if count == 1 else (words or word + 's'))


def _names(names):
    names = list(names)
    if len(names) <= 1:
        return ''.join(names)
    return '%s and %s' % (', '.join(names[:-1]), names[-1])


def _blocker(requirement, want, found, message):
    return {'requirement': requirement, 'want': want, 'found': found, 'message': message}


def _raised_policies(policies, raises):
    """The policies with the retention changes a run makes first (``_drift`` changes: policy, tier, sub_policy, datastore,
    after): what the vault keeps when it is locked. Raising never shortens a tier."""
    wanted = {}
    for change in raises or []:
        if isinstance(change, Mapping) and change.get('setting') in PER_POLICY and change.get('after'):
            key = (_lower(change.get('policy')), change.get('tier'), change.get('sub_policy'), _lower(change.get('datastore')))
            wanted[key] = change['after']
    if not wanted:
        return policies
    planned = []
    for policy in policies:
        tiers = []
        for tier in policy.get('tiers') or []:
            key = (_lower(policy.get('name')), tier.get('tier'), tier.get('sub_policy'), _lower(tier.get('datastore')))
            tiers.append(dict(tier, duration=wanted[key]) if key in wanted else tier)
        planned.append(dict(policy, tiers=tiers))
    return planned


def _policy_view(policy, today, problems):
    """One policy in use: the longest retention of each (tier, datastore), its date, and whether immutability protects it."""
    name = policy.get('name')
    if policy.get('unknown'):
        problems.append('policy %s is of a kind this collection cannot read (%s)' % (name, policy.get('workload') or 'unknown'))
    if policy.get('unreadable'):
        problems.append('policy %s has retention values that cannot be read' % name)
    longest = {}
    for tier in policy.get('tiers') or []:
        try:
            until = add_duration(today, tier['duration'])
        except (RetentionError, KeyError, TypeError):
            until = None
        if until is None:
            problems.append('policy %s keeps its %s tier %s, which is beyond any calendar date' % (name, tier.get('tier'), tier.get('duration')))
            continue
        key = (tier.get('tier'), _lower(tier.get('datastore')))
        if key not in longest or until > longest[key][1]:
            longest[key] = (tier, until)
    tiers = []
    for tier, until in longest.values():
        tiers.append({'tier': tier.get('tier'), 'datastore': tier.get('datastore'), 'duration': tier.get('duration'),
                      'held_until': until, 'protected_by_immutability': not is_operational(policy, tier),
                      # Held by immutability by assumption (the refusing side): no Microsoft source says either way.
                      'protection_unsourced': is_unsourced(policy, tier)})
    tiers.sort(key=lambda t: (not t['protected_by_immutability'], -t['held_until'].toordinal(), str(t['tier']), str(t['datastore'])))
    protected = [t for t in tiers if t['protected_by_immutability']]
    return {'name': name, 'workload': policy.get('workload'), 'items': 0, 'tiers': tiers,
            'held_until': protected[0]['held_until'] if protected else None,
            'longest': protected[0] if protected else None}


def _unfixable(findings):
    """The findings a run cannot fix, other than the lock itself (the settings of the rule that is the lock being decided)."""
    return [f for f in findings or [] if isinstance(f, Mapping) and not f.get('fixable') and f.get('setting') not in LOCK_SETTINGS]


def _finding_text(finding):
    where = '/'.join(str(finding[k]) for k in ('policy', 'tier', 'sub_policy', 'datastore') if finding.get(k))
    return '%s%s' % (finding.get('setting'), ' ' + where if where else '')


def readiness(vault, requirements=None, findings=None, raises=None, today=None):
    """What locking ``vault`` commits to, and whether it is ready (see the module docstring).

    ``requirements``: as validate_requirements returns them (validated here when not). ``findings``: the vault's drift
    findings (``no_unfixable_findings`` is not evaluated without them: it is listed in ``not_evaluated``). ``raises``: the
    retention changes a run makes before it locks. ``today``: a date (default: today in UTC).

    Returns ``{id, name, vault_type, subscription_id, resource_group, immutability, locked, as_of, ready, blockers,
    not_evaluated, requirements, protected_items {count, by_datasource_type, items}, policies, held_until, held_by,
    immutability_days, immutable_until, commitments}``; dates are ISO-8601 strings.
    """
    if not isinstance(vault, Mapping):
        raise ReadinessError('a vault must be a dictionary (a vault_immutability_info record), got %s' % type_name(vault))
    wanted = validate_requirements(requirements)
    today = _as_date(today)
    problems = []

    items = vault.get('protected_items')
    if items is None or not isinstance(items, list):
        problems.append("the vault's protected items were not read")
        items = []
    elif vault.get('protected_items_error'):
        problems.append("the vault's protected items could not be read")
    policies = vault.get('policies')
    if not isinstance(policies, list) or vault.get('policies_error'):
        problems.append("the vault's backup policies were not read" if policies is None and not vault.get('policies_error')
                        else "the vault's backup policies could not be read")
        policies = []
    policies = _raised_policies([p for p in policies if isinstance(p, Mapping)], raises)
    by_name = {}
    for policy in policies:
        by_name.setdefault(_lower(policy.get('name')), policy)

    views = {}
    missing = {}
    item_rows = []
    by_type = {}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        kind = item.get('datasource_type') or 'unknown'
        by_type[kind] = by_type.get(kind, 0) + 1
        name = item.get('policy')
        view = None
        if name:
            key = _lower(name)
            if key in by_name:
                if key not in views:
                    views[key] = _policy_view(by_name[key], today, problems)
                view = views[key]
                view['items'] += 1
            else:
                missing[name] = missing.get(name, 0) + 1
        item_rows.append({'name': item.get('name'), 'friendly_name': item.get('friendly_name'), 'datasource_type': item.get('datasource_type'),
                          'policy': name, 'protection_state': item.get('protection_state'),
                          'held_until': _iso(view['held_until']) if view else None})
    for name, count in sorted(missing.items()):
        problems.append('policy %s (used by %s) is not among the vault\'s policies' % (name, _plural(count, 'item')))

    in_use = sorted(views.values(), key=lambda v: _lower(v['name']))
    held = [v for v in in_use if v['held_until'] is not None]
    top = max(held, key=lambda v: v['held_until']) if held else None
    held_until = top['held_until'] if top else None

    blockers = [_blocker(READABLE, 'protected items and policies read', 'not read', problem) for problem in problems]
    context = {'today': today, 'in_use': in_use, 'until': lambda duration: add_duration(today, duration), 'iso': _iso}
    for rule in REQUIRING:
        want = wanted[rule.requirement.key]
        found = rule.blocker(vault, want, context) if want else None
        if found:
            blockers.append(_blocker(rule.requirement.key, *found))
    not_evaluated = []
    if wanted[NO_UNFIXABLE]:
        if findings is None:
            not_evaluated.append({'requirement': NO_UNFIXABLE,
                                  'reason': 'no drift findings were given (the harden_backup_vaults role gives them)'})
        else:
            unfixable = _unfixable(findings)
            if unfixable:
                blockers.append(_blocker('no_unfixable_findings', 0, len(unfixable), 'no_unfixable_findings: %s this run cannot fix: %s' % (
                    _plural(len(unfixable), 'finding'), ', '.join(_finding_text(f) for f in unfixable))))

    days = vault.get('immutability_retention_days')
    days = days if isinstance(days, int) and not isinstance(days, bool) and days > 0 else None
    immutable_until = add_duration(today, Duration.of(days, 'days')) if days else None
    try:
        state = _immutability_state(vault.get('immutability')) or 'disabled'
    except VaultlockError:
        state = vault.get('immutability')
    return {
        'id': vault.get('id'),
        'name': vault.get('name'),
        'vault_type': vault.get('vault_type'),
        'subscription_id': vault.get('subscription_id'),
        'resource_group': vault.get('resource_group'),
        'immutability': state,
        'locked': state in LOCKED,
        'as_of': today.isoformat(),
        'ready': not blockers,
        'blockers': blockers,
        'not_evaluated': not_evaluated,
        'requirements': wanted,
        'protected_items': {'count': len(item_rows), 'by_datasource_type': dict(sorted(by_type.items())), 'items': item_rows},
        'policies': [_policy_out(v) for v in in_use],
        'held_until': _iso(held_until),
        'held_by': ({'policy': top['name'], 'tier': top['longest']['tier'], 'datastore': top['longest']['datastore'],
                     'duration': top['longest']['duration']} if top else None),
        'immutability_days': days,
        'immutable_until': _iso(immutable_until),
        'commitments': _commitments(vault, in_use, item_rows, policies, held_until, days, immutable_until),
    }


def _policy_out(view):
    return {'name': view['name'], 'workload': view['workload'], 'items': view['items'], 'held_until': _iso(view['held_until']),
            'tiers': [dict(t, held_until=_iso(t['held_until'])) for t in view['tiers']]}


def _commitments(vault, in_use, items, policies, held_until, days, immutable_until):
    """The sentences a reviewer signs: what Azure refuses for ever once the vault is locked."""
    lines = ['immutability can never be disabled again']
    held_names = {_lower(v['name']) for v in in_use if v['held_until'] is not None}
    held_items = [i for i in items if _lower(i['policy']) in held_names]
    if held_items:
        lines.append('stop protection with delete data impossible for %s until %s' % (_plural(len(held_items), 'item'), _iso(held_until)))
    elif not items:
        lines.append('no item is protected today: the commitments start with the first item protected')
    in_use_names = {_lower(v['name']) for v in in_use}
    operational = [i for i in items if i['policy'] and _lower(i['policy']) in in_use_names - held_names]
    if operational:
        lines.append('%s backed up to operational tiers only, which immutability does not hold' % (
            _plural(len(operational), 'item is', 'items are')))
    unassigned = [i for i in items if not i['policy']]
    if unassigned:
        lines.append('%s no policy (protection stopped): %s recovery points cannot be deleted before they expire' % (
            _plural(len(unassigned), 'item has', 'items have'), 'its' if len(unassigned) == 1 else 'their'))
    if vault.get('vault_type') == 'recovery_services':
        protected = sorted({str(p.get('name')) for p in policies
                            if any(not is_operational(p, t) for t in p.get('tiers') or [])}, key=str.lower)
        if protected:
            lines.append('retention of %s %s can never be reduced' % ('policy' if len(protected) == 1 else 'policies', _names(protected)))
        lines.append('items can never move to a policy that keeps less')
    if days:
        lines.append('recovery points are immutable for %s after they are taken (time-based immutability): the newest until %s'
                     % (_plural(days, 'day'), _iso(immutable_until)))
    return lines
