# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What every hardening rule is made of, and the finding and change shapes they share (pure, no I/O).

A rule (one file per setting in this package, listed in order in ``RULES``) says in one place:

- ``key``: its key in a baseline (None: the rule only reads and reports), ``validate_baseline`` its check and default;
  ``tier_paths`` its keys in a baseline tier (harden_backup_vaults_baselines, _tiers) and so its role variables
  (``role_variables``, ``variable``), ``tier_value`` / ``to_tier`` / ``from_tier`` / ``resolved_tier`` the conversions
  between the two forms, ``tier_default_keys`` / ``tier_defaults`` the role's defaults for every tier (``retention_mode``);
  ``role_default`` the role's default of its variable, ``weakens`` how a value is weaker than it;
- ``action``: its key in a drift entry's ``actions``, ``apply_rank`` its turn in a run, ``task`` the state task that
  applies it (the key of its results in a report's ``meta.results``);
- ``evaluate``: its findings (have, want, fixable, why), the action and the changes a run makes;
- ``irreversible``: the target values that can never be undone (the one place a setting says so), found in a baseline
  by ``irreversible_targets`` and in a state module's arguments by ``is_irreversible``;
- ``module``, ``option``, ``module_targets``: the state module that applies it, its option of the target value, and
  the options that decide what it changes (consent counts only for what a task itself asks);
- ``requirement``: the lock requirement it adds to lock readiness (_readiness), checked by ``check_requirement``
  and judged by ``blocker``; ``is_lock``: its findings are the lock being decided (readiness leaves them out);
- ``reads``: what discovery must read besides the vault for a baseline value (``policies``, ``items``);
- ``entry``: keys it adds to a drift entry of its own (multi-user authorization adds ``mua``);
- ``settings``: the settings its findings and changes name, with their report labels and SARIF rule metadata;
  ``tier_heading`` / ``tier_cell``: its column of the reports' table of baseline tiers; ``counts``: what it adds to
  the summary of a drift (``_drift.summarize``); ``flags``: yes/no facts of a vault the reports show (a column of
  the findings tables, a line of the summary, a SARIF property), ``report_entry`` its keys in a report's vault row;
- ``posture_key`` / ``posture``: the rule's state of every vault, compliant or not (a drift entry's and a report's
  ``posture``, the reports' posture summary), and ``posture_after`` that state once a real run's changes are made.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import UnreadableResourceError, VaultlockError, escaped, shown

CONSENT = 'allow_irreversible'
# The prefix of the role's variables: harden_backup_vaults_<tier key> gives a rule's baseline value (Rule.tier_paths).
ROLE_PREFIX = 'harden_backup_vaults_'


class DriftError(VaultlockError, ValueError):
    """A baseline or a vault record that cannot be used."""


# Setting, Requirement and Flag are plain records: dataclasses that keep identity equality and hashing (eq=False).
@dataclass(eq=False)
class Setting:
    """A setting a finding or a change names: its label in the reports, the action that fixes it, and its SARIF rule
    (``sarif``: ``(id, short description, help text, security-severity)``, None for a setting that is never a finding);
    ``per_policy``: its findings and changes are per policy tier (policy, tier, sub_policy, datastore);
    ``azure_policy``: the vault-level Azure Backup built-in Azure Policy definitions (names, _policy/definitions) its
    findings answer to, per vault kind: those that check the same property of a vault of that kind."""

    name: str
    label: str
    action: str
    sarif: Any = None
    per_policy: bool = False
    azure_policy: Any = None


@dataclass(eq=False)
class Requirement:
    """A lock requirement (harden_backup_vaults_lock_requirements): its key, default, whether an explicit null means
    "no requirement" (else null takes the default), and its place among the requirements (``rank``)."""

    key: str
    default: Any
    nullable: bool
    rank: int


@dataclass(eq=False)
class Flag:
    """A yes/no fact of a vault that the reports show: ``key`` (the HTML column), ``column`` (its heading), ``count``
    (its key in the summary), ``summary`` (the Markdown summary's line), ``figure`` (the HTML figure), ``sarif`` (the
    SARIF result property), and ``of(vault)``: the fact of a report's vault row."""

    key: str
    column: str
    count: str
    summary: str
    figure: str
    sarif: str
    of: Callable


class Rule:
    """The interface of a hardening rule (see the module docstring); a rule file subclasses it once."""

    key = None
    apply_rank = None
    irreversible = ()
    irreversible_field = None    # the key of the rule's baseline value holding the target (None: the value itself)
    irreversible_why = ''        # said after "<value> is irreversible" when a baseline asks for it without consent
    # The baseline's values that are choices, {path under the baseline (or a tier): the values, as the role's argument spec
    # writes them}: the role's plan takes them only as written (_targets.check_written_choices), as ansible-core's check of
    # the spec does, whatever skipped that check; the filters' normalisers read any casing.
    choices = {}
    module = None
    module_targets = ()
    settings = ()
    requirement = None
    is_lock = False
    flags = ()
    posture_key = None           # the rule's key in a vault's ``posture`` (None: the rule reports no state)

    # The role's default of the rule's variable (``variable``) as roles/harden_backup_vaults/defaults/main.yml writes it (None:
    # not checked by default): what ``weakens`` compares with, and the example of a message saying a dictionary variable is
    # none (``dict_hint``); tests/unit/plugins/module_utils/test_weakened_baseline.py keeps the two the same.
    role_default = None

    @property
    def tier_paths(self):
        """``{path under the baseline: tier key}``: the rule's baseline values that a baseline tier (and the role, as the
        variable ROLE_PREFIX + tier key) gives, the rule's own first; its key itself unless the tier form differs (retention:
        ``retention.minimum`` is ``retention_minimum``). The one place a rule's tier keys and role variables are named."""
        return {self.key: self.key} if self.key else {}

    @property
    def tier_keys(self):
        return tuple(self.tier_paths.values())

    @property
    def role_variables(self):
        """``{path under the baseline: the role variable that gives it}`` (harden_backup_vaults__baseline in the role's
        vars/main.yml builds the baseline from them), from ``tier_paths``."""
        return dict((path, ROLE_PREFIX + tier_key) for path, tier_key in self.tier_paths.items())

    @property
    def role_path(self):
        """The path under the baseline of the rule's own variable (``variable``), or None for a rule that has none."""
        return next(iter(self.tier_paths), None)

    @property
    def variable(self):
        """The role variable of the rule's own baseline value (``role_path``), or None for a rule that has none."""
        return self.role_variables.get(self.role_path)

    def dict_hint(self, path):
        """'' or the role variable behind ``baseline.<path>`` and its JSON form for -e (the role's default as the example),
        for a message saying it is no dictionary: for the rule's own variable when its default is a dictionary."""
        if path != self.role_path or not isinstance(self.role_default, Mapping):
            return ''
        return "; in the role that is %s, which on the command line is given as JSON: -e '%s'" % (
            self.variable, json.dumps({self.variable: self.role_default}))

    def baseline_mapping(self, baseline, allowed):
        """The baseline's value of a rule whose value is a dictionary of ``allowed`` keys, or None when it is null."""
        value = baseline.get(self.key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise DriftError("baseline.%s must be a dictionary {%s} or null%s" % (self.key, ', '.join(allowed), self.dict_hint(self.key)))
        check_keys(value, allowed, 'baseline.' + self.key)
        return value

    # Why a baseline value that checks nothing (``checks_value`` false: null) is weaker than the role's default; None for a
    # rule whose default checks nothing (role_default None).
    unchecked_why = None
    # Baseline values that ask a run to lower a vault's setting, each with why (keyed by ``lowering_key`` of the value).
    lowering_values = {}

    def checks_value(self, value):
        """Whether the rule's checked baseline value (validate_baseline's) checks anything: not null."""
        return value is not None

    def lowering_key(self, value):
        """The part of the rule's checked baseline value that ``lowering_values`` is keyed by: the value itself."""
        return value

    def weakens(self, value):
        """How the rule's checked baseline value ``value`` (validate_baseline's) is weaker than the role's default:
        ``(why, lowers)``; ``why`` is '' when it is not weaker. ``lowers``: the value asks a run to lower the setting of a
        vault (a write that weakens it), not only to check less. A value that checks nothing is weaker by ``unchecked_why``
        (none for a rule whose default checks nothing); a value of ``lowering_values`` lowers vaults; any other value is as
        ``weaker`` says."""
        if not self.checks_value(value):
            return self.unchecked_why or '', False
        key = self.lowering_key(value)
        if isinstance(key, str) and key in self.lowering_values:
            return self.lowering_values[key], True
        return self.weaker(value)

    def weaker(self, value):
        """``(why, lowers)`` of a checked value that checks something and is none of ``lowering_values`` (see ``weakens``):
        the base says it is not weaker (its values only check more)."""
        return '', False

    def shown_baseline(self, value):
        """The rule's checked baseline value as the reports show it (the role variable's form)."""
        return value

    @property
    def posture_label(self):
        """The rule's name in the reports' posture tables: its first setting's label, else its posture key."""
        return self.settings[0].label if self.settings else str(self.posture_key)

    @property
    def action(self):
        """The key of the rule's action in a drift entry's ``actions``: its baseline key unless the rule sets another; None
        for a rule that only reports (no ``apply_rank``)."""
        return self.key if self.apply_rank is not None else None

    @property
    def task(self):
        """The state task that applies the rule (the key of its results in ``meta.results``): its baseline key unless
        the rule sets another; None for a rule that only reports."""
        return self.key if self.apply_rank is not None else None

    @property
    def option(self):
        """The state module's option of the rule's target value: its baseline key unless the rule sets another."""
        return self.key

    def normalise(self, value, where):
        """A target value as the state module reads it; raises a VaultlockError for one it refuses."""
        return value

    def state_of(self, value, where):
        """A state of a baseline or a vault record through ``normalise`` (the state module's own normaliser); null or ''
        is null; a value it refuses raises DriftError naming ``where``."""
        return normalised(self.normalise, value, where)

    def recorded_state(self, value, where, default):
        """A vault record's state through ``state_of``: ``default`` when the vault reports none, None when ``normalise``
        refuses it (a state the rule does not know: an ``unknown`` posture, a finding no run can fix)."""
        try:
            return self.state_of(value, where) or default
        except DriftError:
            return None

    def read(self, vault_type, raw, security, resource):
        """The rule's fields of a vault record (_vaults.vault_record) from the vault's ARM body or Resource Graph row
        (``security``: its ``properties.securitySettings``; ``resource``: how errors name the vault). Raises
        UnreadableResourceError naming the field it cannot read."""
        return {}

    def validate_baseline(self, baseline):
        """The rule's part of a baseline (``baseline`` is the whole mapping), checked and with its defaults; raises
        DriftError."""
        return None

    tier_default_keys = ()

    def tier_defaults(self, default, given):
        """The rule's defaults for every tier (``{key: value}`` of ``tier_default_keys``) from what the role gives
        (``given``) and the default tier (``default``: the top-level baseline in the tier form); raises DriftError."""
        return {}

    def tier_value(self, resolved, defaults):
        """The rule's part of a tier (``resolved``: the tier with what it inherits), in the baseline form that
        ``validate_baseline`` checks; raises DriftError for a value of the wrong shape. ``defaults``: the role's tier
        defaults (``retention_mode``)."""
        return resolved.get(self.key)

    def to_tier(self, value):
        """The rule's part of a normalised baseline in the tier form (``{tier key: value}``)."""
        return {self.key: value} if self.key else {}

    def from_tier(self, tier):
        """The rule's part of a resolved tier in the normalised baseline form."""
        return tier.get(self.key) if self.key else None

    def resolved_tier(self, value):
        """The tier keys a resolved tier gets from the rule's checked baseline value."""
        return self.to_tier(value)

    def irreversible_targets(self, normalised):
        """``[(path, value)]`` of the rule's part of a normalised baseline (or tier) that can never be undone."""
        value = normalised.get(self.key) if self.key else None
        path = self.key
        if self.irreversible_field:
            value = (value or {}).get(self.irreversible_field)
            path = '%s.%s' % (self.key, self.irreversible_field)
        return [(path, value)] if value is not None and value in self.irreversible else []

    def is_irreversible(self, value):
        """True when a state module's target value (any spelling it accepts) can never be undone."""
        try:
            return self.state_of(value, self.option) in self.irreversible
        except DriftError:
            return False

    def check_requirement(self, value, where):
        """The rule's lock requirement normalised; raises DriftError naming ``where``."""
        return value

    def looser_requirement(self, value, default):
        """True when the rule's lock requirement ``value`` may let a vault lock that ``default`` would keep unlocked (both
        as check_requirement returns them). This base is a yes/no requirement (true requires)."""
        return bool(default) and not value

    def blocker(self, vault, want, context):
        """``(want, found, message)`` when the vault fails the rule's lock requirement ``want`` (set), else None.
        ``context``: ``today``, ``in_use`` (the policy views of the policies in use), ``until(duration)`` (the date a
        duration after today), ``iso(date)``."""
        return None

    def reads(self, value):
        """What discovery must read besides the vault records for the rule's baseline value: ``policies`` and/or ``items``."""
        return ()

    def vault_reads(self, vault, value):
        """What must be read for one vault record before it is judged against the rule's baseline value, beyond what
        ``reads`` has discovery read for every vault (multi-user authorization: ``resource_guard``, the vault's proxy)."""
        return ()

    def evaluate(self, vault, baseline, context):
        """``(findings, action or None, changes)`` of a vault record against a normalised baseline. ``context`` holds
        what rules share about the vault (``mua``)."""
        return [], None, []

    def report_action(self, action):
        """The rule's action as a report's vault row shows it."""
        return action

    tier_heading = None

    def tier_cell(self, tier, text):
        """The rule's cell of a tier (tier form) in the reports' table of baseline tiers; ``text`` formats a value."""
        return None

    def counts(self, entry):
        """``{summary key: count}`` the rule adds to the summary of a drift for one drift entry (every key, 0 or more)."""
        return {}

    def report_entry(self, entry, plain):
        """Keys of the rule's own in a report's vault row (``_reports``), from its drift entry; ``plain`` makes a value
        plain JSON."""
        return {}

    def state(self, vault, baseline, findings):
        """``{state, ...}``: the rule's state of a vault record (``state`` a short word the reports count vaults by, the
        rest details), from the record, the normalised baseline and the rule's own findings of the vault. A rule with a
        ``posture_key`` implements it."""
        return {'state': 'unknown'}

    def checks(self, baseline):
        """Whether the baseline checks the rule (its value is not null); a rule without a baseline key checks nothing."""
        return bool(self.key) and baseline.get(self.key) is not None

    def posture(self, vault, baseline, findings):
        """The rule's posture of a vault: its ``state`` (and details), and ``compliant``: true when the baseline checks
        the rule and the rule found nothing, false when it found something, null when the baseline does not check it.
        ``findings``: the rule's own findings of the vault. None for a rule without a ``posture_key``."""
        if not self.posture_key:
            return None
        posture = dict(self.state(vault, baseline, findings))
        posture['compliant'] = (not findings) if self.checks(baseline) else None
        return posture

    def posture_after(self, posture, changes, open_findings):
        """The posture once a real run made ``changes`` (the rule's own, in order) and left ``open_findings`` (the rule's
        findings the run did not resolve), as far as they tell."""
        return posture

    def context(self, vault):
        """What the rule tells the other rules about a vault while they evaluate it (``evaluate``'s ``context``)."""
        return {}

    def entry(self, vault):
        """Keys of the rule's own in the vault's drift entry (after ``actions`` and ``changes``)."""
        return {}


def must_be_bool(value, where, key):
    if not is_bool(value):
        raise DriftError("%s.%s must be true or false, got %s" % (where, key, shown(value)))
    return value


def mapping(value, resource, field):
    """A JSON object that may be absent (None -> {}); anything else that is not an object is unreadable."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UnreadableResourceError(resource, field, value, 'a JSON object')
    return value


def whole_days(value, resource, field):
    """A day count as Azure sends it (14, or 14.0 for Backup vaults) -> int; None stays None; anything else is unreadable."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not value.is_integer()):
        raise UnreadableResourceError(resource, field, value, 'a whole number of days')
    return int(value)


def is_bool(value):
    return isinstance(value, bool)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def lower(value):
    return None if value is None else str(value).strip().lower()


def normalised(normalise, value, where):
    """A state of a baseline or a vault record through the state module's own normaliser; null or '' is null."""
    if value is None or str(value).strip() == '':
        return None
    try:
        return normalise(value, where)
    except VaultlockError as exc:
        raise DriftError(str(exc)) from None


def plain_dict(mapping):
    """A plain dict copy of nested mappings (Ansible hands over dict subclasses)."""
    return dict((k, plain_dict(v) if isinstance(v, Mapping) else v) for k, v in mapping.items())


def check_keys(mapping, allowed, where):
    unknown = sorted(str(k) for k in mapping if k not in allowed)
    if unknown:
        raise DriftError("%s has unknown key(s) %s; allowed: %s" % (where, ', '.join(escaped(key) for key in unknown), ', '.join(allowed)))


def finding(setting, have, want, fixable, reason, policy=None, tier=None, sub_policy=None, datastore=None, irreversible=False,
            option=None):
    """One finding. ``option``: for a finding this run cannot fix, the option that would let it (``retention_mode:
    enforce``, ``allow_irreversible: true``); None when the playbook fixes it as configured, or when only a person can
    (``reason`` says why)."""
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
        'option': None if fixable else option,
    }


# The options a finding can name (finding's ``option``): the role's variables and a baseline tier's keys of the same name.
OPTION_ENFORCE = 'retention_mode: enforce'
OPTION_CONSENT = CONSENT + ': true'


def latest_after(changes, setting):
    """The ``after`` of the last change of ``setting`` among a run's changes, or None."""
    after = None
    for item in changes:
        if item.get('setting') == setting and item.get('after') is not None:
            after = item['after']
    return after


def change(action, setting, before, after, irreversible, policy=None, tier=None, sub_policy=None, datastore=None):
    """One change a run makes, as the state modules report it."""
    return {'action': action, 'setting': setting, 'policy': policy, 'tier': tier, 'sub_policy': sub_policy,
            'datastore': datastore, 'before': before, 'after': after, 'irreversible': bool(irreversible)}


MUA_REASON = ("the vault is protected by multi-user authorization (Resource Guard %s): "
              "weakening %s needs an approval through the Resource Guard, so this run leaves it alone")


def guard_name(mua):
    guard = mua.get('resource_guard_id')
    if not guard:
        return 'not visible'
    return "'%s'" % str(guard).rstrip('/').rsplit('/', 1)[-1]


# A vault's multi-user authorization state that cannot be told (_rules/mua.py, mua_state).
UNKNOWN = 'unknown'
MUA_UNKNOWN_REASON = ("the vault names the Resource Guard %s but does not report multi-user authorization as enabled: a guard "
                      "may protect it, and weakening %s would then need an approval through the guard, so this run leaves it alone")


def guarded(mua):
    """Whether weakening a setting of the vault may need an approval through a Resource Guard (the ``mua`` of a rule's
    context): protected, or not known not to be."""
    return bool(mua.get('protected')) or mua.get('state') == UNKNOWN


def mua_reason(mua, what):
    """Why a weakening of ``what`` is left alone on a guarded vault (MUA_REASON, MUA_UNKNOWN_REASON)."""
    return (MUA_UNKNOWN_REASON if mua.get('state') == UNKNOWN else MUA_REASON) % (guard_name(mua), what)
