# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Backup policy retention: durations, normalisation to tiers, baselines, reductions (pure, no I/O).

Durations
    ``parse_duration`` reads ``30d``, ``12w``, ``12m``, ``7y`` (also concatenated, ``1y6m``) and
    ISO-8601 date durations ``P30D``, ``P12W``, ``P3M``, ``P1Y``, ``P1Y6M``; both case-insensitive.
    A ``Duration`` keeps its parts exactly. It has two day counts: ``min_days`` (the shortest it
    can be: a month 28 days, a year 365) and ``max_days`` (the longest: a month 31, a year 366);
    twelve months count as a year in both.

Comparison (``meets``, ``is_reduction``)
    Exact where the calendar decides (a year is 12 months, a week 7 days: ``12m`` meets ``1y``,
    ``4w`` meets ``28d``). Otherwise conservative: what a policy keeps counts at its ``min_days``
    and what it is compared with at its ``max_days``.
    ``is_reduction(before, after)``: anything that could keep less is a reduction (``30d`` -> ``4w``,
    ``P1M`` -> ``P4W``, even ``30d`` -> ``1m``); across units it counts each unit on its own (a month 28..31 days,
    a year 365..366, twelve months not folded into a year), the refusing side of an unpublished rule (assumed).

Policy records (``normalise_policy``)
    ``{name, id, vault_type, workload, workload_type, policy_type, tiers, unreadable, unknown,
    protected_items}``; each tier ``{tier, sub_policy, datastore, duration, count, unit, days}``.
    See ``normalise_policy`` for which JSON value becomes which tier.

Baselines (``validate_minimum``, ``check_minimum``, ``raise_policy``)
    See ``validate_minimum`` for the schema and ``check_minimum`` for what applies where.

Reductions (``find_reductions``)
    Tiers are matched on ``(tier, sub_policy, datastore)``. Each reduction says whether the tier is an
    operational backup (``is_operational``): immutability does not protect those, so Azure lets them shrink; and whether
    that is an assumption (``is_unsourced``: VM instant restore and workload snapshot tiers, predicted as held).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError, first_named
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import VAULT_TYPES

UNITS = ('years', 'months', 'weeks', 'days')

_ISO_LETTER = {'years': 'Y', 'months': 'M', 'weeks': 'W', 'days': 'D'}
_MIN_DAYS = {'years': 365, 'months': 28, 'weeks': 7, 'days': 1}
_RS_UNIT = {'days': 'Days', 'weeks': 'Weeks', 'months': 'Months', 'years': 'Years'}
_FROM_RS_UNIT = {'days': 'days', 'weeks': 'weeks', 'months': 'months', 'years': 'years'}

_ISO_RE = re.compile(r'^P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?$')
_SHORT_RE = re.compile(r'^(?:([0-9]+)\s*y)?\s*(?:([0-9]+)\s*m)?\s*(?:([0-9]+)\s*w)?\s*(?:([0-9]+)\s*d)?$')

_ACCEPTED = 'accepted forms: 30d, 12w, 12m, 7y (days, weeks, months, years) or ISO-8601 such as P30D, P12W, P3M, P1Y, P1Y6M'

# What a baseline does with a policy that keeps less than the minimum: report it, or raise it (the module option
# backup_policy_retention.mode, the role's harden_backup_vaults_retention_mode and a baseline's retention.mode).
RETENTION_MODES = ('report', 'enforce')

# Tier names a record can carry, and the keys a minimum may use.
TIERS = ('daily', 'weekly', 'monthly', 'yearly', 'default', 'instant', 'snapshot', 'log')

# Datastores: Backup vault data stores, and the two Azure Files tiers of a Recovery Services vault.
DATASTORES = ('OperationalStore', 'VaultStore', 'ArchiveStore', 'Snapshot', 'VaultStandard')

_RS_KINDS = ('AzureIaasVM', 'AzureSql', 'AzureWorkload', 'AzureStorage', 'MAB')

_SUB_POLICIES = ('Full', 'Differential', 'Log', 'CopyOnlyFull', 'Incremental', 'SnapshotFull', 'SnapshotCopyOnlyFull')

# Sub-policies whose simple retention is not a stand-in for daily retention (partial backups).
_PARTIAL_SUB_POLICIES = ('Differential', 'Incremental')

# Tiers a policy of each kind can have. A minimum for one of these tiers that the policy does not
# have is a violation (not fixable); a minimum for any other tier does not concern that kind.
_KIND_TIERS = {
    'AzureIaasVM': ('daily', 'weekly', 'monthly', 'yearly', 'instant'),
    'AzureStorage': ('daily', 'weekly', 'monthly', 'yearly', 'snapshot'),
    'AzureWorkload': ('daily', 'weekly', 'monthly', 'yearly', 'log'),
    'AzureSql': ('daily', 'weekly', 'monthly', 'yearly'),
    'MAB': ('daily', 'weekly', 'monthly', 'yearly'),
    'backup': ('default', 'daily', 'weekly', 'monthly', 'yearly'),
}


class RetentionError(VaultlockError, ValueError):
    """A duration or a minimum that cannot be used; the message says what was wrong."""


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True)
class Duration:
    """A retention duration, its parts kept exactly.

    ``parts`` is a tuple of ``(unit, count)`` pairs, units from ``UNITS`` in that order (years,
    months, weeks, days), each count a positive int. Use ``Duration.of(30, 'days')``,
    ``parse_duration('P1Y6M')``, ``Duration.from_days(5)`` or ``Duration.from_rs({...})``.
    """

    parts: tuple

    def __post_init__(self):
        parts = self.parts
        if not isinstance(parts, tuple) or not parts:
            raise RetentionError('a duration needs at least one (unit, count) part, got %r' % (parts,))
        last = -1
        for part in parts:
            if not isinstance(part, tuple) or len(part) != 2 or part[0] not in UNITS or not _positive_int(part[1]):
                raise RetentionError('invalid duration part %r: expected (unit, positive count), unit one of %s' % (part, ', '.join(UNITS)))
            index = UNITS.index(part[0])
            if index <= last:
                raise RetentionError('duration parts %r must be in the order years, months, weeks, days, each at most once' % (parts,))
            last = index

    @classmethod
    def of(cls, count, unit):
        """A single-unit duration: ``Duration.of(30, 'days')``."""
        unit = str(unit).lower()
        if not unit.endswith('s'):
            unit += 's'
        return cls(((unit, count),))

    @classmethod
    def from_days(cls, days):
        """From a day count such as ``instantRpRetentionRangeInDays`` or ``snapshotRetentionInDays``."""
        if isinstance(days, float) and days.is_integer():
            days = int(days)
        if not _positive_int(days):
            raise RetentionError('invalid day count %r: expected a positive whole number of days' % (days,))
        _check_count(days)
        return cls((('days', days),))

    @classmethod
    def from_rs(cls, value):
        """From a Recovery Services ``RetentionDuration`` ``{count, durationType}``."""
        if not isinstance(value, dict):
            raise RetentionError('invalid retention duration %r: expected {count, durationType}' % (value,))
        count = value.get('count')
        unit = _FROM_RS_UNIT.get(str(value.get('durationType') or '').lower())
        if unit is None or not _positive_int(count):
            raise RetentionError('invalid retention duration %r: expected a positive count and durationType Days, Weeks, Months or Years' % (value,))
        _check_count(count)
        return _single(cls, unit, count)

    @property
    def single(self):
        """True when the duration has one unit (every Recovery Services duration has)."""
        return len(self.parts) == 1

    @property
    def count(self):
        """The count of a single-unit duration, None for a multi-unit one."""
        return self.parts[0][1] if self.single else None

    @property
    def unit(self):
        """The unit (days, weeks, months, years) of a single-unit duration, None for a multi-unit one."""
        return self.parts[0][0] if self.single else None

    @cached_property
    def calendar(self):
        """``(months, days)``, exact: a year is 12 months, a week 7 days. Computed once per duration (durations are
        immutable, and a fleet's policies ask for it hundreds of thousands of times)."""
        months = sum(count * (12 if unit == 'years' else 1) for unit, count in self.parts if unit in ('years', 'months'))
        days = sum(count * (7 if unit == 'weeks' else 1) for unit, count in self.parts if unit in ('weeks', 'days'))
        return months, days

    @property
    def min_days(self):
        """The shortest this can last: what a policy surely keeps.

        Each whole year (12 months) 365 days, each other month 28 days, a week 7 days.
        """
        months, days = self.calendar
        return 365 * (months // 12) + 28 * (months % 12) + days

    @property
    def max_days(self):
        """The longest this can last: what a minimum may ask for.

        Each whole year (12 months) 366 days, each other month 31 days, a week 7 days.
        """
        months, days = self.calendar
        return 366 * (months // 12) + 31 * (months % 12) + days

    @property
    def iso(self):
        """ISO-8601, e.g. ``P12W``, ``P1Y6M``."""
        return 'P' + ''.join('%d%s' % (count, _ISO_LETTER[unit]) for unit, count in self.parts)

    @property
    def short(self):
        """Short form, e.g. ``12w``, ``1y6m``."""
        return ''.join('%d%s' % (count, _ISO_LETTER[unit].lower()) for unit, count in self.parts)

    def to_rs(self):
        """As a Recovery Services ``RetentionDuration``; only for single-unit durations."""
        if not self.single:
            raise RetentionError('%s has several units; a Recovery Services retention duration has one' % self.iso)
        return {'count': self.count, 'durationType': _RS_UNIT[self.unit]}

    def __str__(self):
        return self.short


@lru_cache(maxsize=1024)
def _single(cls, unit, count):
    """One immutable single-unit Duration per (unit, count): a fleet's policies repeat a handful of them."""
    return cls(((unit, count),))


# No retention Azure keeps needs more than 5 digits (9999 days is the longest day count); a longer count is refused.
MAX_COUNT_DIGITS = 6


def _check_count(count):
    """A count read from a policy body (Recovery Services {count, durationType}, a day count) is held to the digits an ISO
    8601 duration is: a policy answering a 7-digit count is unreadable there as it is in a Backup vault policy."""
    if count >= 10 ** MAX_COUNT_DIGITS:
        raise RetentionError('invalid retention count %d: a count of more than %d digits is longer than any retention Azure keeps'
                             % (count, MAX_COUNT_DIGITS))


def _short_text(text):
    return text if len(text) <= 40 else text[:37] + '...'


def parse_duration(text):
    """Parse ``30d``, ``12w``, ``12m``, ``7y`` or ISO-8601 ``P30D``, ``P12W``, ``P3M``, ``P1Y``, ``P1Y6M``.

    Case-insensitive. Short forms may be concatenated in the order y, m, w, d (``1y6m``).
    Counts must be positive; time parts (``PT1H``), signs, fractions and zero are refused with
    a ``RetentionError`` that quotes the input. A ``Duration`` is returned as it is.
    """
    if isinstance(text, Duration):
        return text
    if not isinstance(text, str):
        raise RetentionError('invalid duration %r: expected a string; %s' % (text, _ACCEPTED))
    return _parse_text(text)


@lru_cache(maxsize=4096)
def _parse_text(text):
    """parse_duration of a string; the same few texts recur across a fleet's policies, and a Duration is immutable."""
    value = text.strip()
    if value[:1] in ('P', 'p'):
        match = _ISO_RE.fullmatch(value.upper())
    else:
        match = _SHORT_RE.fullmatch(value.lower()) if value else None
    if match is None or not any(match.groups()):
        raise RetentionError('invalid duration %r; %s' % (text, _ACCEPTED))
    parts = []
    for unit, group in zip(UNITS, match.groups()):
        if group is None:
            continue
        if len(group.lstrip('0')) > MAX_COUNT_DIGITS:
            # Checked on the digits: a count of hundreds of digits is refused before Python converts it.
            raise RetentionError('invalid duration %r: a count of more than %d digits is longer than any retention Azure keeps'
                                 % (_short_text(text), MAX_COUNT_DIGITS))
        if int(group) == 0:
            raise RetentionError('invalid duration %r: counts must be positive; %s' % (text, _ACCEPTED))
        parts.append((unit, int(group)))
    return Duration(tuple(parts))


def meets(have, need):
    """True when retention ``have`` surely keeps at least as long as ``need``.

    Exact where the calendar decides it: a duration is ``(months, days)`` (a year is 12 months, a
    week 7 days), and ``have`` meets ``need`` when it has at least as many of both, so ``12m``
    meets ``1y`` and ``4w`` meets ``28d``. Otherwise conservative: ``have.min_days >=
    need.max_days`` (what a policy keeps counts at its shortest, a month 28 days and a year 365;
    what is needed at its longest, a month 31 and a year 366). So ``1m`` does not meet ``30d``
    and ``30d`` does not meet ``1m``, but ``31d`` meets ``1m`` and ``1y`` meets ``365d``.
    The relation is reflexive and transitive, and ``min_days >= max_days`` always implies it.
    """
    have = parse_duration(have)
    need = parse_duration(need)
    return _calendar_meets(have, need) or have.min_days >= need.max_days


def _calendar_meets(have, need):
    """True when the calendar alone decides that ``have`` keeps at least as long as ``need`` (both parsed): it has at
    least as many months and at least as many days."""
    have_months, have_days = have.calendar
    need_months, need_days = need.calendar
    return have_months >= need_months and have_days >= need_days


def is_reduction(before, after):
    """True when ``after`` could keep less than ``before``, as an immutable vault might judge it.

    Exact where the calendar decides (``12m`` -> ``1y``, ``28d`` -> ``4w`` are not reductions). Across units Azure's
    comparison is not published (**assumed**, docs/reliability.md), so the prediction takes the refusing side and counts
    each unit on its own, a month 28..31 days and a year 365..366, never folding twelve months into a year: a reduction
    unless what ``after`` keeps at its shortest reaches what ``before`` keeps at its longest. ``30d`` -> ``1m``,
    ``1m`` -> ``30d``, ``1y`` -> ``365d`` and ``365d`` -> ``12m`` are reductions; ``365d`` -> ``1y``, ``4w`` -> ``1m``,
    ``1m`` -> ``31d`` are not. The emulator's rule (tests/emulator/rules.py ``is_shorter``) gives the same verdicts, and
    anything ``meets`` calls short is a reduction here too.
    """
    before = parse_duration(before)
    after = parse_duration(after)
    if _calendar_meets(after, before):
        return False
    return _unit_days(after, _MIN_DAYS) < _unit_days(before, _MAX_UNIT_DAYS)


# The longest a unit can last, each unit on its own (``is_reduction``).
_MAX_UNIT_DAYS = {'years': 366, 'months': 31, 'weeks': 7, 'days': 1}


def _unit_days(duration, per_unit):
    """Days of ``duration`` with each part counted at ``per_unit`` (months not folded into years)."""
    return sum(count * per_unit[unit] for unit, count in duration.parts)


@lru_cache(maxsize=4096)
def _smallest_in_unit(unit, need, keeps=False):
    """The smallest count of ``unit`` that meets ``need`` (``meets`` is monotone in the count); with ``keeps``, the
    smallest that is no reduction from ``need`` (``is_reduction``, stricter: what an immutable vault may refuse). A fleet's
    policies ask it of the same few minimums, and a Duration is immutable: cached."""
    low, high = 1, -(-_unit_days(need, _MAX_UNIT_DAYS) // _MIN_DAYS[unit])
    while low < high:
        middle = (low + high) // 2
        candidate = Duration.of(middle, unit)
        if (not is_reduction(need, candidate)) if keeps else meets(candidate, need):
            high = middle
        else:
            low = middle + 1
    return low


def raised_duration(have, need, tier):
    """The value ``raise_policy`` writes for a Recovery Services tier keeping ``have`` when ``need`` is required: the
    tier's own unit, smallest count that meets ``need`` and keeps no less than before (each long-term schedule has its own
    unit: a monthly schedule counts Months; day-count fields count days), so ``7 Days`` needing ``30d`` becomes
    ``30 Days`` and a monthly tier needing ``30d`` becomes 2 Months (conservative). A Backup vault policy is never
    raised (``DP_NO_UPDATE``), so no ISO ``deleteAfter`` is ever written.
    """
    have = parse_duration(have)
    need = parse_duration(need)
    if tier in ('instant', 'snapshot'):
        return _covering('days', need, have)
    return _covering(have.unit, need, have)


def _covering(unit, need, have):
    """The smallest count of ``unit`` that meets ``need`` and is no reduction from ``have`` (so raising never lowers)."""
    return Duration.of(max(_smallest_in_unit(unit, need), _smallest_in_unit(unit, have, keeps=True)), unit)


# ---------------------------------------------------------------------------------------------
# Normalisation

def _canonical(value, choices):
    if not isinstance(value, str):
        return None
    lowered = value.lower()
    for choice in choices:
        if choice.lower() == lowered:
            return choice
    return value


class _Slot:
    """One retention value in a policy body, and where it lives (for raising it)."""

    __slots__ = ('tier', 'sub_policy', 'datastore', 'container', 'key', 'encoding', 'duration', 'raw')

    def __init__(self, tier, sub_policy, datastore, container, key, encoding):
        self.tier = tier
        self.sub_policy = sub_policy
        self.datastore = datastore
        self.container = container
        self.key = key
        self.encoding = encoding
        self.raw = container.get(key)
        try:
            if encoding == 'rs':
                self.duration = Duration.from_rs(self.raw)
            elif encoding == 'days':
                self.duration = Duration.from_days(self.raw)
            elif encoding == 'unknown':
                self.duration = None
            else:
                self.duration = parse_duration(self.raw)
        except RetentionError:
            self.duration = None

    def write(self, duration):
        """Write a raised Recovery Services value (``rs`` or ``days``: the encodings of _rs_slots; a Backup vault's ISO
        slots are read, never written, as raise_policy writes no Backup vault policy)."""
        if self.encoding == 'rs':
            value = dict(self.raw) if isinstance(self.raw, dict) else {}
            value.update(duration.to_rs())
        else:
            value = duration.count
        self.container[self.key] = value
        self.raw = value
        self.duration = duration


def _retention_slots(policy, sub_policy, datastore, simple_tier):
    """Slots of a Recovery Services RetentionPolicy (long-term or simple)."""
    if not isinstance(policy, dict):
        return []
    kind = str(policy.get('retentionPolicyType') or '').lower()
    slots = []
    if kind == 'longtermretentionpolicy' or (not kind and any(policy.get(n + 'Schedule') for n in ('daily', 'weekly', 'monthly', 'yearly'))):
        for name in ('daily', 'weekly', 'monthly', 'yearly'):
            schedule = policy.get(name + 'Schedule')
            if isinstance(schedule, dict):
                slots.append(_Slot(name, sub_policy, datastore, schedule, 'retentionDuration', 'rs'))
    elif kind == 'simpleretentionpolicy' or (not kind and 'retentionDuration' in policy):
        slots.append(_Slot(simple_tier, sub_policy, datastore, policy, 'retentionDuration', 'rs'))
    else:
        slots.append(_Slot(None, sub_policy, datastore, policy, 'retentionPolicyType', 'unknown'))
    return slots


def _rs_slots(kind, props):
    slots = []
    if kind == 'AzureIaasVM':
        slots.extend(_retention_slots(props.get('retentionPolicy'), None, None, 'default'))
        if props.get('instantRpRetentionRangeInDays') is not None:
            slots.append(_Slot('instant', None, None, props, 'instantRpRetentionRangeInDays', 'days'))
    elif kind == 'AzureStorage':
        slots.extend(_retention_slots(props.get('retentionPolicy'), None, 'Snapshot', 'default'))
        vault = props.get('vaultRetentionPolicy')
        if isinstance(vault, dict):
            if vault.get('snapshotRetentionInDays') is not None:
                slots.append(_Slot('snapshot', None, 'Snapshot', vault, 'snapshotRetentionInDays', 'days'))
            slots.extend(_retention_slots(vault.get('vaultRetention'), None, 'VaultStandard', 'default'))
    elif kind == 'AzureWorkload':
        subs = props.get('subProtectionPolicy')
        for sub in subs if isinstance(subs, list) else []:
            if not isinstance(sub, dict):
                continue
            sub_policy = _canonical(sub.get('policyType'), _SUB_POLICIES)
            simple_tier = 'log' if sub_policy == 'Log' else 'default'
            slots.extend(_retention_slots(sub.get('retentionPolicy'), sub_policy, None, simple_tier))
            details = sub.get('snapshotBackupAdditionalDetails')
            if isinstance(details, dict) and details.get('instantRpRetentionRangeInDays') is not None:
                slots.append(_Slot('snapshot', sub_policy, None, details, 'instantRpRetentionRangeInDays', 'days'))
    else:  # AzureSql, MAB
        slots.extend(_retention_slots(props.get('retentionPolicy'), None, None, 'default'))
    return slots


def _dp_slots(props):
    rules = props.get('policyRules')
    tags = {}
    for rule in rules:
        trigger = rule.get('trigger') if isinstance(rule, dict) else None
        criteria = trigger.get('taggingCriteria') if isinstance(trigger, dict) else None
        for criterion in criteria if isinstance(criteria, list) else []:
            info = criterion.get('tagInfo') if isinstance(criterion, dict) else None
            name = info.get('tagName') if isinstance(info, dict) else None
            if isinstance(name, str):
                tags[name.lower()] = name
    slots = []
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        kind = str(rule.get('objectType') or '').lower()
        if kind != 'azureretentionrule' and not (not kind and 'lifecycles' in rule):
            continue
        name = rule.get('name') if isinstance(rule.get('name'), str) else ''
        if rule.get('isDefault') is True or name.lower() == 'default':
            tier = 'default'
        else:
            tier = tags.get(name.lower(), name).lower()
        lifecycles = rule.get('lifecycles')
        for lifecycle in lifecycles if isinstance(lifecycles, list) else []:
            if not isinstance(lifecycle, dict):
                continue
            source = lifecycle.get('sourceDataStore')
            datastore = _canonical(source.get('dataStoreType') if isinstance(source, dict) else None, DATASTORES)
            delete_after = lifecycle.get('deleteAfter')
            if isinstance(delete_after, dict):
                slots.append(_Slot(tier, None, datastore, delete_after, 'duration', 'iso'))
            else:
                slots.append(_Slot(tier, None, datastore, lifecycle, 'deleteAfter', 'iso'))
    return slots


def _properties(resource):
    """The policy properties of an ARM resource, or of a bare body (as the az CLI templates are)."""
    if not isinstance(resource, dict):
        return {}
    props = resource.get('properties')
    if isinstance(props, dict):
        return props
    if 'policyRules' in resource or 'backupManagementType' in resource:
        return resource
    return {}


def _check_vault_type(vault_type):
    if vault_type not in VAULT_TYPES:
        raise RetentionError('vault_type must be one of %s, got %r' % (', '.join(VAULT_TYPES), vault_type))


def _analyse(resource, vault_type):
    """(record skeleton, slots); slots is None when the policy kind is not understood."""
    _check_vault_type(vault_type)
    props = _properties(resource)
    resource = resource if isinstance(resource, dict) else {}
    record = {
        'name': resource.get('name') if isinstance(resource.get('name'), str) else None,
        'id': resource.get('id') if isinstance(resource.get('id'), str) else None,
        'vault_type': vault_type,
        'workload': None,
        'workload_type': None,
        'policy_type': None,
        'tiers': [],
        'unreadable': [],
        'unknown': True,
        'protected_items': None,
    }
    count = props.get('protectedItemsCount')
    if isinstance(count, int) and not isinstance(count, bool):
        record['protected_items'] = count
    slots = None
    if vault_type == 'recovery_services':
        kind = _canonical(props.get('backupManagementType'), _RS_KINDS)
        record['workload'] = kind
        if isinstance(props.get('workLoadType'), str):
            record['workload_type'] = props['workLoadType']
        if kind == 'AzureIaasVM':
            record['policy_type'] = _canonical(props.get('policyType'), ('V1', 'V2')) or 'V1'
        if kind in _RS_KINDS:
            slots = _rs_slots(kind, props)
    else:
        types = props.get('datasourceTypes')
        if isinstance(types, list) and types:
            record['workload'] = ', '.join(str(item) for item in types)
        if isinstance(props.get('policyRules'), list):
            slots = _dp_slots(props)
            record['backups_per_day'] = backups_per_day(props)
    if slots is not None:
        record['unknown'] = False
        for slot in slots:
            if slot.duration is None:
                record['unreadable'].append({'tier': slot.tier, 'sub_policy': slot.sub_policy, 'datastore': slot.datastore, 'value': slot.raw})
            else:
                record['tiers'].append(_tier(slot.tier, slot.sub_policy, slot.datastore, slot.duration))
    return record, slots


def _tier(tier, sub_policy, datastore, duration):
    return {
        'tier': tier,
        'sub_policy': sub_policy,
        'datastore': datastore,
        'duration': duration.iso,
        'count': duration.count,
        'unit': duration.unit,
        'days': duration.min_days,
    }


def normalise_policy(resource, vault_type):
    """Normalise the ARM JSON of a backup policy to a record of retention tiers.

    ``vault_type`` is ``recovery_services`` or ``backup``. ``resource`` is ``{id, name, type,
    properties}``; a bare policy body (``properties`` content at the top, as the az CLI templates
    are) is accepted too. Never raises for odd input: an unrecognised kind gives ``unknown: true``
    and no tiers; a value that cannot be read goes to ``unreadable`` instead of ``tiers``.

    Record: ``{name, id, vault_type, workload, workload_type, policy_type, tiers, unreadable,
    unknown, protected_items}``. ``workload`` is ``backupManagementType`` (Recovery Services) or the
    ``datasourceTypes`` joined by ``, `` (Backup vaults); ``workload_type`` is ``workLoadType``
    (``SQLDataBase``, ``AzureFileShare``...) or None; ``policy_type`` is ``V1``/``V2`` for IaaS VM
    (``V1`` when absent), else None; ``protected_items`` is ``protectedItemsCount`` or None.
    ``unreadable`` entries are ``{tier, sub_policy, datastore, value}`` (tier None when even the
    retention policy type is unknown).

    Tier: ``{tier, sub_policy, datastore, duration, count, unit, days}``: ``duration`` ISO-8601,
    ``count``/``unit`` (days, weeks, months, years) exact or None for a multi-unit ISO duration,
    ``days`` the conservative (shortest) day count.

    Recovery Services:
      - long-term retention ``dailySchedule``..``yearlySchedule`` -> ``daily``..``yearly``;
        hourly schedules keep their points under ``daily``, so there is no hourly tier;
      - a ``SimpleRetentionPolicy`` -> ``default`` (``log`` for a Log sub-policy);
      - IaaS VM ``instantRpRetentionRangeInDays`` -> ``instant``;
      - workloads (SQL, SAP HANA, ASE): one set of tiers per ``subProtectionPolicy``,
        ``sub_policy`` its ``policyType`` (Full, Differential, Incremental, Log, SnapshotFull...);
        ``snapshotBackupAdditionalDetails.instantRpRetentionRangeInDays`` -> ``snapshot``;
      - Azure Files: ``retentionPolicy`` tiers have datastore ``Snapshot``;
        ``vaultRetentionPolicy.snapshotRetentionInDays`` -> ``snapshot`` (datastore ``Snapshot``)
        and ``vaultRetentionPolicy.vaultRetention`` tiers have datastore ``VaultStandard``;
      - other datastores are None; ``tieringPolicy`` (moving to archive) is not retention.
    Backup vaults: one tier per lifecycle of each ``AzureRetentionRule``; ``tier`` is ``default``
    for the default rule, else the backup rule's tag of the same name lowercased (``Weekly`` ->
    ``weekly``); ``datastore`` is ``sourceDataStore.dataStoreType``; ``duration`` is
    ``deleteAfter.duration``. ``targetDataStoreCopySettings`` adds no tier: a copy is kept by the
    target datastore's own lifecycle, which Azure lists in the same rule. ``sub_policy`` is None.
    Their record also has ``backups_per_day`` (``backups_per_day``: from the backup rules' intervals, None when none can
    be read), which bounds a disk's operational tier (450 snapshots).
    """
    return _analyse(resource, vault_type)[0]


# ---------------------------------------------------------------------------------------------
# Baselines

# Smallest value Azure accepts for each tier in ANY policy kind it can apply to. A minimum is
# checked across kinds, so a floor only refuses values no policy could be held to: one unit of
# each tier (Azure Files keeps daily, weekly, monthly and yearly points from 1 of each: Azure
# PowerShell PolicyConstants Afs*RetentionMin, src/RecoveryServices/RecoveryServices.Backup.Models/
# CommonModels/Utils.cs at 070e222f80b0; its share snapshots from 1 day, PolicyRetentionObjects.cs
# VaultRetentionPolicy.Validate at 0ff9167d5517), VM instant restore from 1 day (Microsoft Learn,
# MicrosoftDocs/azure-docs articles/backup/backup-instant-restore-capability.md at 02d00dc8728a: "a
# minimum of 1"), and SQL / SAP HANA logs from 7 days (Learn, backup-sql-server-database-azure-vms.md
# at 025127781aa6 and backup-azure-sap-hana-database.md at 002c8cf3203e: "Minimum retention period
# for any type of backup (full, differential, and log) is seven days").
FLOORS = {
    'daily': Duration.of(1, 'days'),
    'weekly': Duration.of(1, 'weeks'),
    'monthly': Duration.of(1, 'months'),
    'yearly': Duration.of(1, 'years'),
    'default': Duration.of(1, 'days'),
    'instant': Duration.of(1, 'days'),
    'snapshot': Duration.of(1, 'days'),
    'log': Duration.of(7, 'days'),
}

# Longest retention Azure accepts, per tier. Azure's REST specs give no maximum (RetentionDuration.count is a plain
# int32 in azure-rest-api-specs, specification/recoveryservicesbackup; DataProtection deleteAfter.duration a plain
# ISO 8601 string). The limits are the ones Microsoft's own clients enforce "as per backup service"
# (Azure/azure-powershell PR #14006, src/RecoveryServices/RecoveryServices.Backup.Models/CommonModels/Utils.cs,
# PolicyConstants: MaxAllowedRetentionDurationCount 9999, ...Weekly 5163, ...Monthly 1188, ...Yearly 99) and the
# azurerm Terraform provider (hashicorp/terraform-provider-azurerm, backup_policy_vm_resource.go:
# retention_daily 7..9999, retention_weekly 1..5163, retention_monthly 1..1188, retention_yearly 1..99), the
# ranges of Azure Backup's support matrix for Azure VMs. All four are the same span, about 27 years plus a day
# (9999 days; 5163 weeks = 36141 days is the one exception and is kept as Azure counts it).
# Simple (default) retention and every day-count tier are held to the daily limit. A minimum above these can
# never be met by any policy kind, so it is refused before any request.
TIER_CEILINGS = {
    'daily': Duration.of(9999, 'days'),
    'weekly': Duration.of(5163, 'weeks'),
    'monthly': Duration.of(1188, 'months'),
    'yearly': Duration.of(99, 'years'),
    'default': Duration.of(9999, 'days'),
    'instant': Duration.of(9999, 'days'),
    'snapshot': Duration.of(9999, 'days'),
    'log': Duration.of(9999, 'days'),
}

# Longest retention Azure accepts for a tier of one policy kind, where it is shorter than TIER_CEILINGS. A too-short
# tier that would have to exceed its ceiling is reported as not fixable. The third element of a key is the policy type
# (V1, V2), the datastore or the sub-policy. Sources (Microsoft Learn, MicrosoftDocs/azure-docs articles/backup/):
# Azure VM instant restore 1-5 days for a standard (V1) policy (backup-instant-restore-capability.md at 02d00dc8728a:
# "a minimum of 1 and a maximum of five days") and 1-30 for an enhanced one (backup-azure-vms-enhanced-policy.md at
# 00819bb82dd1: "from 1 to 30 days"); SQL log backups "retained for up to 35 days" (backup-sql-server-database-azure-
# vms.md at 025127781aa6), held for SAP HANA logs too; SQL and SAP HANA differential, and SAP HANA incremental, backups
# "retained for a maximum of 180 days" (the same SQL page; backup-azure-sap-hana-database.md at 002c8cf3203e);
# Azure Files (AzureStorage) daily 200 days, weekly 200 weeks, monthly 120 months, yearly 10 years for the snapshot
# tiers (PolicyConstants Afs*RetentionMax in the Azure PowerShell file above; the vault-standard tiers of Azure Files
# are held to TIER_CEILINGS).
_CEILINGS = {
    ('AzureIaasVM', 'instant', 'V1'): Duration.of(5, 'days'),
    ('AzureIaasVM', 'instant', 'V2'): Duration.of(30, 'days'),
    ('AzureWorkload', 'log', None): Duration.of(35, 'days'),
    ('AzureWorkload', 'default', 'Differential'): Duration.of(180, 'days'),
    ('AzureWorkload', 'default', 'Incremental'): Duration.of(180, 'days'),
    ('AzureStorage', 'daily', 'Snapshot'): Duration.of(200, 'days'),
    ('AzureStorage', 'weekly', 'Snapshot'): Duration.of(200, 'weeks'),
    ('AzureStorage', 'monthly', 'Snapshot'): Duration.of(120, 'months'),
    ('AzureStorage', 'yearly', 'Snapshot'): Duration.of(10, 'years'),
}


# Longest retention of a Backup vault (DataProtection) policy tier, per datasource type and datastore. The REST spec has
# no maximum (deleteAfter.duration is a plain string) and neither az dataprotection nor Az.DataProtection checks one.
# Microsoft Learn (MicrosoftDocs/azure-docs, articles/backup/): Azure Disks keep operational backups at most one year
# (or 450 snapshots, whichever comes first: backup-managed-disks.md); vaulted tiers keep daily points 3,650 days,
# weekly 521 weeks, monthly 120 months, yearly 10 years (azure-data-lake-storage-backup-support-matrix.md). Assumed, on
# the short side: the ADLS table for the vaulted tier of every other datasource type (blobs, PostgreSQL, MySQL: "up to
# 10 years") and for the ArchiveStore; 360 days for every OperationalStore but disks' (blobs, AKS: only third-party
# pages give it). A Default rule is held to the daily limit. A tier that would have to exceed its limit is not fixable.
DP_VAULTED_CEILINGS = {
    'daily': Duration.of(3650, 'days'),
    'weekly': Duration.of(521, 'weeks'),
    'monthly': Duration.of(120, 'months'),
    'yearly': Duration.of(10, 'years'),
}
_DP_STORE_CEILINGS = {
    'OperationalStore': {'microsoft.compute/disks': Duration.of(1, 'years'), None: Duration.of(360, 'days')},
    'VaultStore': {None: DP_VAULTED_CEILINGS},
    'ArchiveStore': {None: DP_VAULTED_CEILINGS},
}


def _dp_limit(limit, tier):
    if isinstance(limit, dict):
        return limit.get(tier, limit['daily'])
    return limit


# Azure Disks' operational tier keeps at most 450 snapshots (50 more kept aside for on-demand backups): a daily policy
# 450 days, an hourly one (every hour) 18 days (Learn, MicrosoftDocs/azure-docs articles/backup/disk-backup-overview.md;
# hourly frequencies 1, 2, 4, 6, 8 or 12 hours). backup-managed-disks.md (2024-05-09) gives the same: 500 incremental
# snapshots a disk, 450 of them for the policy's backups, "1 year or 450 disk snapshots, whichever reaches first" (12-hourly:
# 225 days); the 200 and 180 of the 2021 disk-backup-support-matrix.md date from the Compute limit of 200 incremental
# snapshots a disk, since raised to 500 (today's support matrix: 500 and 450). The limit is whole days of 450 / backups
# per day, and the year above when shorter. Learn states it for the backups' retention (the Default rule); a Daily or
# Weekly tag of a disk policy is held to the same days, and a policy whose frequency cannot be read to the hourly 18 days
# (both **assumed**, the safe side: a raise past them is reported not fixable, never sent). A tag taken at most as often
# as the backups and kept no longer than those days keeps the count across all rules within 450, the way Learn counts
# Elastic SAN's 450 recovery points "across your retention rules" (azure-elastic-san-backup-configure.md).
DISK_SNAPSHOTS = 450
DISK_HOURLY = (1, 2, 4, 6, 8, 12)
_INTERVAL = re.compile(r'R/[^/]+/P(?:T(\d+)H|(\d+)D)', re.IGNORECASE)
_DISKS = 'microsoft.compute/disks'


def backups_per_day(props):
    """Backups a day of a Backup vault policy's backup rules (the most frequent ``repeatingTimeIntervals``), or None."""
    found = []
    rules = props.get('policyRules') if isinstance(props, dict) else None
    for rule in rules if isinstance(rules, list) else []:
        trigger = rule.get('trigger') if isinstance(rule, dict) else None
        schedule = trigger.get('schedule') if isinstance(trigger, dict) else None
        intervals = schedule.get('repeatingTimeIntervals') if isinstance(schedule, dict) else None
        for interval in intervals if isinstance(intervals, list) else []:
            match = _INTERVAL.fullmatch(interval.strip()) if isinstance(interval, str) else None
            if match and match.group(1) and int(match.group(1)) in DISK_HOURLY:
                found.append(24 // int(match.group(1)))
            elif match and match.group(2) and int(match.group(2)) >= 1:
                found.append(1 / int(match.group(2)))
    return max(found) if found else None


def disk_snapshot_ceiling(per_day):
    """The days a disk policy's operational tier keeps at most for ``per_day`` backups a day (None: hourly, the most)."""
    return Duration.of(int(DISK_SNAPSHOTS // (per_day or 24)), 'days')


def dp_ceiling(workload, tier, datastore, per_day=None):
    """The longest retention Azure keeps for a tier of a Backup vault policy (a Duration), or None when no datastore of
    the table is named. ``workload`` is the record's ``datasourceTypes`` joined by ``, ``; of several, the shortest.
    ``per_day``: the policy's backups a day (``backups_per_day``), which bound a disk's operational tier."""
    store = _canonical(datastore, tuple(_DP_STORE_CEILINGS))
    if store not in _DP_STORE_CEILINGS:
        return None
    table = _DP_STORE_CEILINGS[store]
    types = [item.strip().lower() for item in str(workload or '').split(',') if item.strip()] or [None]
    limits = [_dp_limit(table.get(item, table[None]), tier) for item in types]
    if store == 'OperationalStore' and _DISKS in types:
        limits.append(disk_snapshot_ceiling(per_day))
    return min(limits, key=lambda limit: limit.min_days)


# The datastores Azure Backup keeps each datasource type's backups in: the manifests of Microsoft's two clients,
# policySettings.supportedDatastoreTypes (az dataprotection: Azure/azure-cli-extensions,
# src/dataprotection/azext_dataprotection/manual/Manifests/*.py; Az.DataProtection: Azure/azure-powershell,
# src/DataProtection/DataProtection.Autorest/custom/manifests/*.json). Disks the OperationalStore only (Learn's
# disk-backup-support-matrix.md: "The backups aren't copied to the backup vault"), blobs OperationalStore and VaultStore,
# ADLS VaultStore, PostgreSQL single server VaultStore and ArchiveStore, Cosmos DB VaultStore, Elastic SAN volume groups
# OperationalStore; AKS OperationalStore and VaultStore (Learn's AKS vaulted backup). PostgreSQL and MySQL flexible
# servers: VaultStore (Az.DataProtection; az dataprotection lists an ArchiveStore too, so the shorter list is **assumed**,
# the safe side). A tier on another datastore is reported not fixable: Azure would refuse the PUT that raised it.
DP_DATASTORES = {
    'microsoft.compute/disks': ('OperationalStore',),
    'microsoft.storage/storageaccounts/blobservices': ('OperationalStore', 'VaultStore'),
    'microsoft.storage/storageaccounts/adlsblobservices': ('VaultStore',),
    'microsoft.dbforpostgresql/servers/databases': ('VaultStore', 'ArchiveStore'),
    'microsoft.dbforpostgresql/flexibleservers': ('VaultStore',),
    'microsoft.dbformysql/flexibleservers': ('VaultStore',),
    'microsoft.containerservice/managedclusters': ('OperationalStore', 'VaultStore'),
    'microsoft.documentdb/databaseaccounts': ('VaultStore',),
    'microsoft.elasticsan/elasticsans/volumegroups': ('OperationalStore',),
}


def _frequency(per_day):
    if per_day is None:
        return 'a backup frequency that cannot be read, taken as hourly'
    if per_day >= 1:
        return '%d backups a day' % per_day
    return 'one backup every %d days' % round(1 / per_day)


def unsupported_datastore(workload, datastore):
    """``(datasource type, its datastores)`` when a Backup vault policy of ``workload`` cannot keep backups in
    ``datastore`` (DP_DATASTORES), else None."""
    for item in str(workload or '').split(','):
        supported = DP_DATASTORES.get(item.strip().lower())
        if supported is not None and datastore not in supported:
            return item.strip(), supported
    return None


def dp_store_ceiling(tier, datastore):
    """The longest retention any Backup vault policy keeps for ``tier`` on ``datastore`` (None: not a Backup vault store)."""
    if datastore not in _DP_STORE_CEILINGS:
        return None
    return max((_dp_limit(limit, tier) for limit in _DP_STORE_CEILINGS[datastore].values()), key=lambda limit: limit.max_days)


def ceiling_for(kind, tier, policy_type=None, datastore=None, sub_policy=None):
    """The longest retention Azure keeps for a tier of a policy kind (a Duration)."""
    for key in ((kind, tier, policy_type), (kind, tier, datastore), (kind, tier, sub_policy), (kind, tier, None)):
        if key[2] is not None or key == (kind, tier, None):
            if key in _CEILINGS:
                return _CEILINGS[key]
    return TIER_CEILINGS[tier]


def _spelled(duration):
    """'30 days', '5163 weeks', '99 years'."""
    if duration.single:
        return '%d %s' % (duration.count, duration.unit if duration.count != 1 else duration.unit[:-1])
    return duration.short


class Minimum(dict):
    """A checked minimum (``checked_minimum``): the mapping as given, which baselines, tiers, reports and the plan show and
    JSON writes as any dictionary, with ``parsed``, its ``validate_minimum`` form, so that nothing that reads it parses it
    again (``validate_minimum`` of a Minimum is its ``parsed``). ``copy()`` keeps it a Minimum."""

    def __init__(self, given, parsed):
        super().__init__(given)
        self.parsed = parsed

    def copy(self):
        return Minimum(self, self.parsed)


def checked_minimum(minimum):
    """``minimum`` checked and parsed once (``validate_minimum``) as a Minimum; raises RetentionError."""
    if isinstance(minimum, Minimum):
        return minimum
    return Minimum(minimum or {}, validate_minimum(minimum))


def validate_minimum(minimum):
    """Check and parse a minimum; returns ``{tier: Duration | {datastore: Duration}}`` (a Minimum's ``parsed``, as it was
    checked).

    Schema: keys from ``TIERS`` (``daily``, ``weekly``, ``monthly``, ``yearly``, ``default``,
    ``instant``, ``snapshot``, ``log``); each value a duration (``30d``, ``P30D``, a ``Duration``)
    applying to every datastore, or a dict ``{datastore: duration}`` with datastores from
    ``DATASTORES`` (case-insensitive), e.g. ``{'default': {'OperationalStore': '7d', 'VaultStore': '30d'}}``.
    Keys whose value is None are dropped (unset module options). Raises ``RetentionError`` for a
    non-dict, an unknown tier or datastore, a tier or datastore given twice (in two spellings), an unparsable duration, or
    a value below ``FLOORS``.
    """
    if minimum is None:
        return {}
    if isinstance(minimum, Minimum):
        return minimum.parsed
    if not isinstance(minimum, dict):
        raise RetentionError('minimum must be a dict of tier: duration, got %r' % (minimum,))
    result = {}
    # Keys are case-insensitive, so two spellings of one tier or datastore (daily and DAILY) are two minimums for it: the
    # one written last was taken without a word. Refused, naming both.
    given = {}
    for key, value in minimum.items():
        if value is None:
            continue
        tier = key.lower() if isinstance(key, str) else key
        if tier not in TIERS:
            raise RetentionError('unknown tier %r in minimum: expected one of %s' % (key, ', '.join(TIERS)))
        if tier in given:
            raise RetentionError('minimum names the %s tier twice (%r and %r): keep one' % (tier, given[tier], key))
        given[tier] = key
        if isinstance(value, dict):
            per_store = {}
            stores = {}
            for store, store_value in value.items():
                if store_value is None:
                    continue
                name = _canonical(store, DATASTORES)
                if name not in DATASTORES:
                    raise RetentionError('unknown datastore %r in minimum.%s: expected one of %s' % (store, tier, ', '.join(DATASTORES)))
                if name in stores:
                    raise RetentionError('minimum.%s names the datastore %s twice (%r and %r): keep one' % (tier, name, stores[name], store))
                stores[name] = store
                per_store[name] = _checked(tier + '.' + name, tier, store_value, name)
            if per_store:
                result[tier] = per_store
        else:
            result[tier] = _checked(tier, tier, value)
    return result


def _checked(label, tier, value, datastore=None):
    try:
        duration = parse_duration(value)
    except RetentionError as exc:
        raise RetentionError('minimum.%s: %s' % (label, exc)) from None
    floor = FLOORS[tier]
    if not meets(duration, floor):
        raise RetentionError('minimum.%s is %s, below the shortest %s retention Azure accepts (%s)' % (label, duration.short, tier, floor.short))
    ceiling = TIER_CEILINGS[tier]
    if not meets(ceiling, duration):
        raise RetentionError('minimum.%s is %s, above the longest %s retention Azure accepts for any policy (%s)'
                             % (label, duration.short, tier, _spelled(ceiling)))
    store_ceiling = dp_store_ceiling(tier, datastore)
    if store_ceiling is not None and not meets(store_ceiling, duration):
        raise RetentionError('minimum.%s is %s, above the longest %s retention a Backup vault policy keeps on %s (%s)'
                             % (label, duration.short, tier, datastore, _spelled(store_ceiling)))
    return duration


# Azure updates no Backup vault (DataProtection) policy: a PUT naming one that exists is answered 400
# UserErrorBMSUpdatePolicyNotSupported "Update of existing policy is not supported.", recommended action "Please create a
# new policy." (a user's recording, MicrosoftDocs/azure-docs#78532; Learn, "Create Azure Disk backup policies using REST
# API": "updating or modifying an existing policy isn't supported", create a new policy and assign it to the backup
# instance; the AKS and disk support matrices: a backup policy can't be modified; users report the same code for an
# unchanged template's re-deployment, Azure/bicep#4834, #5063). So a Backup vault tier that keeps less than the minimum
# is a violation no run fixes in place: it is reported with these words and no write is planned. Recovery Services
# policies are updated (and raised) as before.
DP_NO_UPDATE = ('Azure does not update an existing Backup vault policy (UserErrorBMSUpdatePolicyNotSupported): create a '
                'policy that keeps at least %(need)s and move the backup instances to it')


def _requirement(minimum, tier, sub_policy, datastore):
    """(key, Duration) that a tier is held to, or (None, None).

    A tier is held to the minimum of its own name. A ``default`` tier that is not a Differential
    or Incremental sub-policy is held to ``daily`` when the minimum has no ``default``: it keeps
    every backup no other tier claims (the Backup vault Default rule; SQL / MAB simple retention).
    A per-datastore value applies only to tiers on those datastores.
    """
    key = tier
    if tier == 'default' and 'default' not in minimum and sub_policy not in _PARTIAL_SUB_POLICIES:
        key = 'daily'
    value = minimum.get(key)
    if isinstance(value, dict):
        value = value.get(datastore) if datastore else None
    if value is None:
        return None, None
    return key, value


def _covers(minimum, key, tier):
    if tier['tier'] == key:
        return True
    return key == 'daily' and tier['tier'] == 'default' and 'default' not in minimum and tier['sub_policy'] not in _PARTIAL_SUB_POLICIES


def _label(tier, sub_policy, datastore):
    extra = [item for item in (sub_policy, datastore) if item]
    return '%s retention%s' % (tier, ' (%s)' % ', '.join(extra) if extra else '')


def _violation(record, tier, sub_policy, datastore, have, need, fixable, reason):
    return {
        'policy': record.get('name'),
        'tier': tier,
        'sub_policy': sub_policy,
        'datastore': datastore,
        'have': have,
        'need': need,
        'fixable': fixable,
        'reason': reason,
    }


def _plan(record, minimum):
    """[(violation, tier index or None, raised Duration or None)] for a record."""
    vault_type = record.get('vault_type')
    kind = record.get('workload') if vault_type == 'recovery_services' else 'backup'
    plan = []
    if record.get('unknown'):
        for key, value in minimum.items():
            need = value if isinstance(value, Duration) else None
            reason = 'policy kind %r is not understood, so its %s retention cannot be checked or raised' % (record.get('workload'), key)
            plan.append((_violation(record, key, None, None, None, need.iso if need else None, False, reason), None, None))
        return plan
    tiers = record.get('tiers') or []
    for index, tier in enumerate(tiers):
        key, need = _requirement(minimum, tier['tier'], tier['sub_policy'], tier['datastore'])
        if need is None:
            continue
        have = parse_duration(tier['duration'])
        if meets(have, need):
            continue
        label = _label(tier['tier'], tier['sub_policy'], tier['datastore'])
        odd_store = unsupported_datastore(record.get('workload'), tier['datastore']) if vault_type == 'backup' else None
        if odd_store:
            store = tier['datastore'] or 'unnamed datastore'
            reason = ('%s keeps %s, less than minimum.%s %s, but Azure Backup keeps no %s backups of %s (only %s), so Azure would '
                      'refuse the policy; it is not raised' % (label, have.short, key, need.short, store, odd_store[0], ', '.join(odd_store[1])))
            plan.append((_violation(record, tier['tier'], tier['sub_policy'], tier['datastore'], have.iso, need.iso, False, reason), index, None))
            continue
        # A Backup vault tier is never raised in place (DP_NO_UPDATE): whether a new policy could keep ``need`` is the question.
        raised = need if vault_type == 'backup' else raised_duration(have, need, tier['tier'])
        ceiling = ceiling_for(kind, tier['tier'], record.get('policy_type'), tier['datastore'], tier['sub_policy'])
        if vault_type == 'backup':
            ceiling = dp_ceiling(record.get('workload'), tier['tier'], tier['datastore'], record.get('backups_per_day')) or ceiling
        if not meets(ceiling, raised):
            reason = '%s keeps %s, less than minimum.%s %s, and Azure allows at most %s here' % (
                label, have.short, key, need.short, _spelled(ceiling))
            if vault_type == 'backup' and ceiling == dp_ceiling(_DISKS, tier['tier'], tier['datastore'], record.get('backups_per_day')) \
                    and _DISKS in str(record.get('workload') or '').lower() and tier['datastore'] == 'OperationalStore':
                reason += ' (a disk keeps at most %d snapshots: %s at %s)' % (DISK_SNAPSHOTS, _spelled(ceiling), _frequency(record.get('backups_per_day')))
            plan.append((_violation(record, tier['tier'], tier['sub_policy'], tier['datastore'], have.iso, need.iso, False, reason), index, None))
            continue
        reason = '%s keeps %s, less than minimum.%s %s' % (label, have.short, key, need.short)
        if vault_type == 'backup':
            # Azure updates no Backup vault policy (DP_NO_UPDATE): the tier is reported, never raised in place.
            reason = '%s; %s' % (reason, DP_NO_UPDATE % {'need': need.short})
            plan.append((_violation(record, tier['tier'], tier['sub_policy'], tier['datastore'], have.iso, need.iso, False, reason), index, None))
            continue
        plan.append((_violation(record, tier['tier'], tier['sub_policy'], tier['datastore'], have.iso, need.iso, True, reason), index, raised))
    for entry in record.get('unreadable') or []:
        key, need = _requirement(minimum, entry['tier'], entry['sub_policy'], entry['datastore'])
        if need is None:
            continue
        label = _label(entry['tier'], entry['sub_policy'], entry['datastore'])
        reason = '%s has a value that cannot be read (%r), so it cannot be checked or raised' % (label, entry['value'])
        plan.append((_violation(record, entry['tier'], entry['sub_policy'], entry['datastore'], None, need.iso, False, reason), None, None))
    applicable = _KIND_TIERS.get(kind, ())
    for key, value in minimum.items():
        if key not in applicable:
            continue
        if any(_covers(minimum, key, tier) for tier in tiers) or any(_covers(minimum, key, entry) for entry in record.get('unreadable') or []):
            continue
        need = value if isinstance(value, Duration) else None
        reason = 'policy has no %s retention tier; its schedule does not produce one, so it cannot be raised' % key
        if need is None:
            reason += ' (needed: %s)' % ', '.join('%s %s' % (store, dur.short) for store, dur in value.items())
        plan.append((_violation(record, key, None, None, None, need.iso if need else None, False, reason), None, None))
    return plan


def unchecked_by_datastore(record, minimum):
    """The keys of ``minimum`` (validated: ``validate_minimum``) given only per datastore that leave tiers of a normalised
    policy record unchecked, sorted: tiers the key names that have no datastore (Recovery Services VM and workload policies:
    ``normalise_policy``), which a per-datastore value never applies to. Such a tier passes with nothing checked: no
    violation, no raise, whether the other keys of the minimum are plain durations or not (``{daily: {VaultStore: 30d},
    weekly: 4w}`` checks the weekly tiers of a VM policy, never its daily one). A tier on a named datastore (Azure Files, a
    Backup vault policy), a policy of an unknown kind, or a key that names no tier the policy has is not counted. Empty when
    none is."""
    if not minimum or record.get('unknown'):
        return []
    keys = set()
    for entry in list(record.get('tiers') or []) + list(record.get('unreadable') or []):
        if entry['datastore'] is not None or _requirement(minimum, entry['tier'], entry['sub_policy'], entry['datastore'])[1] is not None:
            continue
        keys.update(key for key, value in minimum.items() if isinstance(value, dict) and _covers(minimum, key, entry))
    return sorted(keys)


DATASTORE_ONLY_HINT = ('the retention tiers of Recovery Services VM, SQL and SAP HANA policies have no datastore, and a value given '
                       'per datastore applies to none of them; a plain duration (%(key)s: 30d) applies to every datastore and to '
                       'tiers without one')


DATASTORE_ONLY_LISTED = 20


def datastore_only_warning(what, key, stores, names, where=''):
    """The warning that the key ``key`` of ``what`` (the minimum, named as the user wrote it), given only for the datastores
    ``stores``, checks no ``key`` tier of the policies ``names`` (``unchecked_by_datastore``): the first
    DATASTORE_ONLY_LISTED names, then how many more; ``where`` (`` in 3 vaults``) says where they are."""
    return '%s.%s is given only per datastore (%s), so it checks no %s tier of %d %s%s (%s): %s' % (
        what, key, ', '.join(sorted(str(store) for store in stores)) or 'no datastore', key, len(names),
        'policy' if len(names) == 1 else 'policies', where, first_named(names, DATASTORE_ONLY_LISTED),
        DATASTORE_ONLY_HINT % {'key': key})


def check_minimum(record, minimum):
    """Violations of ``minimum`` (see ``validate_minimum``) by a normalised policy record.

    What applies where:
      - each tier is held to the minimum of its own name (``daily`` to daily tiers of every
        sub-policy and datastore, ``log`` to Log sub-policies, ``instant`` to IaaS VM instant
        restore, ``snapshot`` to Azure Files and workload snapshot tiers, ``default`` to simple
        retention and Backup vault Default rules);
      - ``daily`` also applies to ``default`` tiers when the minimum has no ``default``, except
        Differential / Incremental sub-policies (see ``_requirement``);
      - a per-datastore value applies to tiers on those datastores only; a datastore the policy
        does not use is not a violation (disks have no VaultStore);
      - a tier the policy's kind can have (``_KIND_TIERS``) but this policy lacks is a violation
        with ``have: None`` and ``fixable: False``: a tier is never invented;
      - an unknown policy kind gives one not-fixable violation per minimum key.

    Violation: ``{policy, tier, sub_policy, datastore, have, need, fixable, reason}``; ``have`` and
    ``need`` are ISO-8601 strings (``have`` None when missing or unreadable; ``need`` None for a
    missing tier whose minimum is per datastore). ``fixable`` is False when the tier is missing,
    unreadable, of an unknown kind, would have to exceed Azure's maximum for it, or is a Backup vault's (Azure
    updates no Backup vault policy: ``DP_NO_UPDATE``).
    """
    minimum = validate_minimum(minimum)
    return [item[0] for item in _plan(record, minimum)]


def plan_raises(record, minimum):
    """[(violation, raised ISO-8601 or None)] of a normalised record: check_minimum's violations, each with the value
    raise_policy writes for it when it is fixable (the same plan, so a prediction matches what a run writes)."""
    minimum = validate_minimum(minimum)
    return [(violation, raised.iso if raised is not None else None) for violation, _index, raised in _plan(record, minimum)]


def raise_policy(resource, vault_type, minimum):
    """Raise too-short retention to ``minimum``: ``(new_resource or None, changes, unfixable)``.

    ``new_resource`` is a deep copy of ``resource`` with only the too-short values raised (see
    ``raised_duration`` for the unit written); nothing is lowered and no tier is added. It is None
    when nothing changes: callers must not PUT an unchanged policy. ``changes`` is a list of
    ``{tier, sub_policy, datastore, before, after}`` (ISO-8601); ``unfixable`` the violations
    (``check_minimum`` shape) that raising cannot resolve. ``resource`` is not modified. A Backup vault policy is never
    raised (``DP_NO_UPDATE``): its ``new_resource`` is always None and every violation is in ``unfixable``.
    """
    minimum = validate_minimum(minimum)
    if vault_type == 'backup':
        # Azure updates no Backup vault policy (DP_NO_UPDATE): nothing to write, every violation is one no run fixes.
        return None, [], [item[0] for item in _plan(_analyse(resource, vault_type)[0], minimum)]
    new = copy.deepcopy(resource)
    record, slots = _analyse(new, vault_type)
    readable = [slot for slot in slots or [] if slot.duration is not None]
    changes = []
    unfixable = []
    for violation, index, raised in _plan(record, minimum):
        if raised is None:
            unfixable.append(violation)
            continue
        slot = readable[index]
        before = slot.duration
        slot.write(raised)
        changes.append({'tier': slot.tier, 'sub_policy': slot.sub_policy, 'datastore': slot.datastore, 'before': before.iso, 'after': raised.iso})
    return (new if changes else None), changes, unfixable


# ---------------------------------------------------------------------------------------------
# Operational tiers

# Which retention tiers are operational backups, per policy kind: the one place in the collection that says so.
#
# Microsoft Learn, backup-azure-immutable-vault-concept: "Immutable vault applies to all the data in the vault"
# and "Immutability doesn't apply to operational backups, such as operational backup of blobs, files, and disks."
# Operational backups are kept outside the vault, with the data source, so an immutable vault neither protects
# them nor refuses a policy change that keeps them for less time.
#
# - Backup vaults: every lifecycle whose source data store is the OperationalStore (blobs, disks, ...).
# - Azure Files (Recovery Services): the share snapshots (datastore Snapshot: the retention of a snapshot-only
#   policy, and vaultRetentionPolicy.snapshotRetentionInDays). The vaulted tiers (VaultStandard) are protected.
# Not operational here, on purpose: Azure VM instant restore snapshots (instantRpRetentionRangeInDays) and SAP HANA /
# workload snapshot tiers (snapshotBackupAdditionalDetails.instantRpRetentionRangeInDays). Learn names only blobs,
# files and disks as operational backups that immutability does not cover. That VM instant restore snapshots are
# operational too is a reading (Learn, backup-instant-restore-capability: "Snapshots are stored along with the disks";
# secure-by-default: they "can be directly accessed and deleted"), not something Microsoft states. Where the
# collection predicts Azure's answer from an assumed rule it predicts the safe side: these tiers are treated as held
# by immutability (a reduction on an immutable vault "Azure may refuse", a raise on a Locked vault needs consent), and
# every such prediction says it is unsourced (UNSOURCED_TIERS, ``is_unsourced``). The emulator leans the same way.
OPERATIONAL_TIERS = {
    'backup': {'datastores': ('OperationalStore',), 'tiers': ()},
    'AzureStorage': {'datastores': ('Snapshot',), 'tiers': ()},
}

# Tiers whose treatment by an immutable vault no Microsoft source states: predicted as held (the refusing side).
UNSOURCED_TIERS = {
    'AzureIaasVM': ('instant',),
    'AzureWorkload': ('snapshot',),
}

# What a report says of a prediction that rests on UNSOURCED_TIERS.
UNSOURCED_NOTE = ('unsourced (assumed): Microsoft does not name VM instant restore or workload snapshot tiers as operational '
                  'backups, so Azure may refuse shortening them on an immutable vault')


def is_unsourced(record, tier):
    """True when whether immutability holds ``tier`` of ``record`` is an assumption (see UNSOURCED_TIERS)."""
    if record.get('vault_type') == 'backup':
        return False
    return tier.get('tier') in UNSOURCED_TIERS.get(record.get('workload'), ())


def is_operational(record, tier):
    """True when ``tier`` of the policy ``record`` is an operational backup (see OPERATIONAL_TIERS).

    ``record`` is a normalised policy record (its ``vault_type`` and ``workload``), ``tier`` one of its tiers (or a
    reduction / violation with ``tier`` and ``datastore``).
    """
    kind = 'backup' if record.get('vault_type') == 'backup' else record.get('workload')
    rule = OPERATIONAL_TIERS.get(kind)
    if rule is None:
        return False
    datastore = tier.get('datastore')
    if isinstance(datastore, str) and datastore.lower() in (d.lower() for d in rule['datastores']):
        return True
    return tier.get('tier') in rule['tiers']


# ---------------------------------------------------------------------------------------------
# Reductions

def _key(tier):
    datastore = tier.get('datastore')
    return (tier.get('tier'), tier.get('sub_policy'), datastore.lower() if isinstance(datastore, str) else datastore)


def find_reductions(before_record, after_record):
    """Tiers that ``after_record`` could keep shorter than ``before_record``, or drops.

    Tiers are matched on ``(tier, sub_policy, datastore)`` (datastore case-insensitive), in order
    when a key repeats. Returns ``[{tier, sub_policy, datastore, before, after, operational}]`` with
    ISO-8601 strings; ``after`` None means the tier is gone (or unreadable) in ``after_record``, which
    includes a Backup vault lifecycle moved to another datastore. Added tiers are not reductions.
    ``operational`` is True for an operational backup tier (``is_operational`` of ``before_record``):
    immutability does not protect it. ``unsourced`` is True when treating the tier as held by immutability is an
    assumption (``is_unsourced``): Azure may refuse its reduction on an immutable vault, and no source says it will.
    """
    remaining = {}
    for tier in after_record.get('tiers') or []:
        remaining.setdefault(_key(tier), []).append(tier)
    reductions = []
    for tier in before_record.get('tiers') or []:
        matches = remaining.get(_key(tier))
        after = matches.pop(0) if matches else None
        if after is not None and not is_reduction(tier['duration'], after['duration']):
            continue
        reductions.append({
            'tier': tier['tier'],
            'sub_policy': tier['sub_policy'],
            'datastore': tier['datastore'],
            'before': tier['duration'],
            'after': after['duration'] if after is not None else None,
            'operational': is_operational(before_record, tier),
            'unsourced': is_unsourced(before_record, tier),
        })
    return reductions
