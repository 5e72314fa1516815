# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Consent to irreversible changes is task-scoped (pure, no I/O).

Ansible merges ``module_defaults`` into every task's arguments before a module sees them, so a module alone cannot
tell ``allow_irreversible: true`` written in the task from one set once for a whole play. The state modules' action
plugins compare the task's own arguments with the merged ones and call ``scope_arguments``:

1. ``allow_irreversible`` that only ``module_defaults`` supplies never counts: it is set to false (with a warning),
   so the module refuses every irreversible step unless the task itself consents.
2. An irreversible target that only ``module_defaults`` supplies (a value the module's hardening rule calls
   irreversible, in any spelling the module accepts: module_utils/_rules) is refused before any request.
3. When the task itself consents, every option that decides what changes (``SCOPED_TARGETS``) must come from the
   task too: consent covers what the task asks, not what a default adds to it (a time-based immutability period or a
   retention minimum that would become permanent on a Locked vault, say).
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError, escaped, shown
from ansible_collections.vaultlock.azure.plugins.module_utils._readiness import ReadinessError, looser_requirements, validate_requirements
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import RULES
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import CONSENT

# Options that decide what a state module changes (each hardening rule names its module's).
SCOPED_TARGETS = dict((rule.module, rule.module_targets) for rule in RULES if rule.module)


class ConsentError(VaultlockError, ValueError):
    """An irreversible change whose consent or target does not come from the task itself."""


def _truthy(value):
    """Whether the module takes ``value`` as true: Ansible's own conversion of a bool option (ansible.module_utils.parsing.
    convert_bool, which the module's argument spec runs), so that every value that consents in the module counts as consent
    here. A list of spellings of its own left out the float 1.0 (``allow_irreversible: 1.0``, or a variable holding it),
    which the module takes as true: the task consented, and options from module_defaults went with it unchecked."""
    return boolean(value, strict=False)


def scope_arguments(module, merged, own_keys):
    """Return (arguments for the module, warnings); raise ConsentError when the task must not run.

    module: the short module name; merged: the task's arguments after module_defaults; own_keys: the argument names
    written in the task itself, or None when they could not be told apart (then nothing from the merge is trusted:
    consent counts as not given).
    """
    args = dict(merged)
    warnings = []
    if own_keys is None:
        from_defaults = set(args)
    else:
        from_defaults = {key for key in args if key not in own_keys}
    targets = SCOPED_TARGETS.get(module, ())
    # Values that are irreversible whatever the vault (each rule's, in any spelling its module accepts): never accepted
    # from module_defaults.
    for rule in RULES:
        key = rule.option
        if rule.module == module and key in from_defaults and rule.is_irreversible(args.get(key)):
            raise ConsentError('%s: %s comes from module_defaults, but an irreversible target must be written in the task itself '
                               '(module_defaults never change a vault beyond recall); nothing was sent to Azure'
                               % (key, args.get(key)))
    if CONSENT in from_defaults:
        if _truthy(args.get(CONSENT)):
            warnings.append('%s: true from module_defaults is ignored: consent to an irreversible change counts only when it is '
                            'written in the task itself' % CONSENT)
        args[CONSENT] = False
    elif _truthy(args.get(CONSENT, False)):
        borrowed = sorted(key for key in targets if key in from_defaults)
        if borrowed:
            raise ConsentError('%s: true in this task consents to what the task itself asks, but %s %s from module_defaults: '
                               'write %s in the task too; nothing was sent to Azure'
                               % (CONSENT, ', '.join(borrowed), 'comes' if len(borrowed) == 1 else 'come',
                                  'it' if len(borrowed) == 1 else 'them'))
    return args, warnings


def scope_plan_arguments(merged, own_keys):
    """harden_plan's arguments, or ConsentError: its ``baseline`` holds the consent (``allow_irreversible``) with the
    targets it covers, so a baseline that consents must be written in the task itself, never supplied by module_defaults
    (rules 1 and 2 above: harden_apply would apply such a plan with its own task's consent). Its ``lock_requirements``
    gate the lock, so requirements looser than the defaults (a lock the defaults would refuse) must be written in the task
    too; stricter ones may come from module_defaults. ``own_keys`` as for scope_arguments."""
    baseline = merged.get('baseline')
    own = own_keys or ()
    if 'baseline' not in own and isinstance(baseline, dict) and _truthy(baseline.get(CONSENT, False)):
        raise ConsentError('baseline comes from module_defaults, but it consents to irreversible changes (%s: %s): write the '
                           'baseline in the task itself (module_defaults never change a vault beyond recall); nothing was sent '
                           'to Azure' % (CONSENT, _plain(baseline.get(CONSENT))))
    if 'lock_requirements' not in own:
        looser = _looser_text(merged.get('lock_requirements'), 'lock_requirements')
        if looser:
            raise ConsentError('lock_requirements comes from module_defaults, but it is looser than the defaults (%s): write '
                               'lock_requirements in the task itself to lock vaults the defaults would keep unlocked '
                               '(module_defaults may only make the lock gate stricter); nothing was sent to Azure' % looser)
    return merged


def _plain(value):
    """A requirement's value as YAML writes it: shown() without quotes around text (10y, on)."""
    return escaped(value) if isinstance(value, str) else shown(value)


# ---------------------------------------------------------------------------------------------
# Role variables: consent and a looser lock gate only from what is written for the run
#
# A role cannot see module_defaults in its variables, but it sees the inventory: group_vars, host_vars, inventory file
# variables and vars plugins reach it like any other variable, and so do facts (set_fact, include_vars). Those are shared,
# lasting configuration, written by whoever may edit the inventory: ambient, like module_defaults. harden_plan's
# ``run_scoped_variables`` names the variables its consent, lock requirements, tiers and baseline come from; for each, the
# action plugin (plugin_utils/_run_scoped.py) reads the variable's value from the sources written for the run (extra vars,
# the play's vars, role parameters, the vars of the role's invocation, task and blocks: the trusted layer) and from the
# ambient layer (inventory, vars plugins, facts), and run_scoped_refusal decides.

RUN_SCOPED_PARTS = ('allow_irreversible', 'lock_requirements', 'tiers', 'baseline', 'allow_scope_loss')

# Where a refused value came from, in general terms (the action plugin tells facts from the inventory).
FROM_INVENTORY = 'the inventory (group_vars, host_vars, inventory file variables or a vars plugin)'
FROM_FACTS = 'facts (set_fact, include_vars or gathered facts)'
# A value neither layer gives (then no source written for the run gave it either): a play's vars_files, another role's
# vars/ or defaults, a loop variable, or dictionaries of several sources merged (hash_behaviour = merge).
FROM_ELSEWHERE = ('a source not written for the run (a play\'s vars_files, another role\'s vars or defaults, a loop variable, '
                  'or dictionaries merged with hash_behaviour = merge)')
WHERE_INSTEAD = ('give it for the run instead: with -e (JSON for a dictionary), in the play\'s vars, as a role parameter or in '
                 'the vars of the task that imports the role (or of a block around it)')

TEMPLATE_INSTEAD = ('write the value itself there rather than a template, or give each variable the template reads for the run '
                    'too (with -e, in the play\'s vars, as a role parameter or in the vars of the task that imports the role)')


class _Missing(object):
    """A layer that does not give the variable."""

    def __repr__(self):
        return 'MISSING'


MISSING = _Missing()


def run_scoped_effective(part, args):
    """What harden_plan received for ``part`` (one of RUN_SCOPED_PARTS): the value its variable gave the task."""
    baseline = args.get('baseline') if isinstance(args.get('baseline'), dict) else {}
    if part == 'allow_irreversible':
        return _truthy(baseline.get(CONSENT, False))
    if part == 'lock_requirements':
        return args.get('lock_requirements')
    if part == 'tiers':
        return baseline.get('tiers') or []
    if part == 'baseline':
        return args.get('baseline')
    if part == 'allow_scope_loss':
        return args.get('allow_scope_loss') is True
    raise ValueError('unknown part %r' % (part,))


def _looser_text(requirements, where):
    """'key: value where the default is default; ...' for requirements looser than the defaults, '' when none are (or
    when they cannot be used: harden_plan refuses those with their own message)."""
    if requirements is None:
        return ''
    try:
        looser = looser_requirements(requirements, where)
    except ReadinessError:
        return ''
    return '; '.join('%s: %s where the default is %s' % (key, _plain(value), _plain(default)) for key, value, default in looser)


def _loose_tiers(tiers):
    """'tier NAME: ...' for each tier whose lock_requirements are looser than the defaults."""
    found = []
    for index, tier in enumerate(tiers if isinstance(tiers, list) else []):
        if isinstance(tier, dict) and isinstance(tier.get('lock_requirements'), dict):
            text = _looser_text(tier['lock_requirements'], 'tiers[%d].lock_requirements' % index)
            if text:
                found.append('tier %s: %s' % (escaped(str(tier.get('name', index))), text))
    return '; '.join(found)


def run_scoped_matters(part, effective):
    """Why ``effective`` (run_scoped_effective) must come from a source written for the run, or '' when it need not: it
    consents to irreversible changes, or it loosens the lock gate."""
    if part == 'allow_irreversible':
        return 'consents to irreversible changes' if effective is True else ''
    if part == 'lock_requirements':
        looser = _looser_text(effective, 'lock_requirements')
        return ('is looser than the default lock requirements (%s)' % looser) if looser else ''
    if part == 'tiers':
        looser = _loose_tiers(effective)
        return ('gives lock requirements looser than the defaults (%s)' % looser) if looser else ''
    if part == 'baseline':
        baseline = effective if isinstance(effective, dict) else {}
        why = []
        if _truthy(baseline.get(CONSENT, False)):
            why.append('consents to irreversible changes (%s: %s)' % (CONSENT, _plain(baseline.get(CONSENT))))
        looser = _loose_tiers(baseline.get('tiers') or [])
        if looser:
            why.append('gives lock requirements looser than the defaults (%s)' % looser)
        return ' and '.join(why)
    if part == 'allow_scope_loss':
        # Whoever can edit the inventory must not be able to let vaults this identity can no longer read leave the drift gate.
        return ('lets the vaults this identity can no longer read leave the scope and the drift gate' if effective is True else '')
    raise ValueError('unknown part %r' % (part,))


def _normalised(part, value):
    """``value`` as the plan uses it, for comparing two sources: lock requirements complete and normalised (10y and P10Y
    are the same requirement), everything else as it is (allow_irreversible arrives converted as the role converts it)."""
    if part == 'lock_requirements' and value is not MISSING:
        try:
            return validate_requirements(value, 'lock_requirements')
        except ReadinessError:
            return value
    return value


def run_scoped_refusal(part, name, effective, trusted, ambient, origin=FROM_INVENTORY, templated=MISSING, reads=''):
    """The message refusing ``part`` of harden_plan's arguments, or None when it may be used.

    name: the variable it came from; effective: what the task received (run_scoped_effective); trusted: the variable's
    value from the sources written for the run, templated with nothing but those sources (MISSING when none gives it, or
    when its template reads anything else); ambient: its value from the inventory, vars plugins and facts (MISSING when
    none gives it); both converted as the role converts them; origin: where the ambient layer's value came from
    (FROM_INVENTORY or FROM_FACTS); templated: the trusted sources' value templated with every variable of the task, when
    that differs from ``trusted``, with ``reads`` what its template reads that is not written for the run ('reads lock_ok',
    'calls lookup(env)').

    A value counts as written for the run only when the trusted sources give the effective value by themselves: a literal,
    or a template whose every variable is itself written for the run (a lookup never is). A template of those sources that
    gives the effective value only with the inventory's or facts' variables, another host's, or a lookup, is refused
    (before, ``"{{ lock_ok }}"`` in the play's vars with ``lock_ok: true`` in group_vars consented). Otherwise it is
    refused, whatever gave it: the inventory, facts, a play's vars_files, another role's vars, a loop variable or a merge
    of several of those (hash_behaviour = merge). The role's own internal baseline (``part`` 'baseline') is the exception:
    the role's vars/main.yml builds it from the variables checked under their own names, and only the ambient layer ranks
    above that file without being written for the run, so it is refused only when the ambient layer gives it.
    """
    why = run_scoped_matters(part, effective)
    if not why:
        return None
    wanted = _normalised(part, effective)
    if trusted is not MISSING and _normalised(part, trusted) == wanted:
        return None
    subject = ('%s: %s' % (name, _plain(effective))) if part in ('allow_irreversible', 'allow_scope_loss') else name
    if templated is not MISSING and _normalised(part, templated) == wanted:
        return ('%s is given for the run as a template that %s, and %s; a template counts only when every variable it '
                'reads is itself written for the run, and never with a lookup (the inventory, facts, another host\'s variables, '
                'the controller\'s environment and files are not a decision for this run): %s; nothing was sent to Azure'
                % (subject, reads or 'reads values no source written for the run gives', why, TEMPLATE_INSTEAD))
    from_ambient = ambient is not MISSING and _normalised(part, ambient) == wanted
    if part == 'baseline' and not from_ambient:
        return None
    if not from_ambient:
        return ('%s comes from %s and %s; only what is written for this run counts: %s; nothing was sent to Azure'
                % (subject, FROM_ELSEWHERE, why, WHERE_INSTEAD))
    return ('%s comes from %s and %s; the inventory and facts are lasting, shared configuration, not a decision for this run: '
            '%s; nothing was sent to Azure' % (subject, origin, why, WHERE_INSTEAD))


def run_scoped_unknown(part, name, effective):
    """The message refusing ``part`` when where its variable came from cannot be told (no variable manager), or None
    when the value needs no such check."""
    why = run_scoped_matters(part, effective)
    if not why:
        return None
    return ('%s %s, but where its value came from cannot be told here, so it is refused; %s; nothing was sent to Azure'
            % (name, why, WHERE_INSTEAD))


def weakening_refusal(entries):
    """The message refusing a baseline whose values that make a run weaken vaults (weakened_baseline entries with
    ``lowers``: immutability disabled, soft delete off, public network access enabled, ...) came from a source not written
    for the run (``source``, ``for_run``: plugin_utils/_run_scoped.py weakened_sources). A weaker value that only checks
    less is kept and warned of; one that lowers vaults is a decision of the run, as consent is."""
    named = '; '.join('%s is %s (it %s), from %s' % (
        entry['variable'] if entry.get('tier') is None else '%s (tier %s) %s' % (entry['variable'], shown(entry['tier']), entry['key']),
        _plain(entry.get('value')), entry['why'], entry.get('source')) for entry in entries)
    return ('the baseline asks a run to weaken vaults, and the value that asks it is not written for this run: %s. A value '
            'that lowers a vault\'s setting counts only when it is written for the run (the inventory and facts are lasting, '
            'shared configuration): %s; nothing was sent to Azure' % (named, WHERE_INSTEAD))
