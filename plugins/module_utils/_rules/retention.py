# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The policy retention rule: every tier of every backup policy at least the baseline's minimum.

The baseline ``{minimum, mode}``: ``minimum`` a duration per tier (_retention.validate_minimum), ``mode`` report (the
default) or enforce; weak tiers are raised (backup_policy_retention, with the value _retention.plan_raises gives) only
in enforce mode. On a Locked vault a raised retention can never be lowered again, so it needs ``allow_irreversible``;
operational tiers are not held by immutability and stay reversible. VM instant restore and workload snapshot tiers,
which no Microsoft source names as operational, are treated as held (the refusing side) and their findings say so.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import shown, type_name
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import (
    RETENTION_MODES,
    UNSOURCED_NOTE,
    Duration,
    Minimum,
    RetentionError,
    checked_minimum,
    is_operational,
    is_unsourced,
    meets,
    parse_duration,
    plan_raises,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import (
    OPTION_CONSENT,
    OPTION_ENFORCE,
    DriftError,
    Requirement,
    Rule,
    Setting,
    change,
    finding,
    lower,
    plain_dict,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.immutability import IMMUTABLE
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.immutability import RULE as IMMUTABILITY

_KEYS = ('minimum', 'mode')

# Microsoft Learn (MicrosoftDocs/azure-docs articles/backup/backup-azure-immutable-vault-concept.md at b7a53cae1a5e,
# Restricted operations, Recovery Services vault): on an immutable vault "the increase in retention can't be applied if
# any item has its backups suspended (stop backup)". A raise of a policy one of whose items has its backups suspended is
# not planned on such a vault (a finding no run fixes). Assumed: the items that count are the policy's own (those the raise
# applies to); Learn's Backup vault tab has no such note.
SUSPENDED = 'backupssuspended'


def suspended_reason(reason, suspended):
    """A finding's (or violation's) reason when Azure does not apply its raise: ``suspended`` names the items."""
    return ("%s; Azure does not apply a retention increase on an immutable vault while an item has its backups suspended (%s): resume "
            "their backups, or move them to another policy, first" % (reason, ', '.join(suspended)))


def suspended_items(vault, policy_name):
    """Names of the vault's protected items on ``policy_name`` whose backups are suspended (a Recovery Services vault)."""
    if vault.get('vault_type') != 'recovery_services':
        return []
    names = []
    for item in vault.get('protected_items') or []:
        if not isinstance(item, Mapping):
            continue
        if lower(item.get('protection_state')) == SUSPENDED and lower(item.get('policy')) == lower(policy_name):
            names.append(str(item.get('friendly_name') or item.get('name')))
    return sorted(names)


# Azure keeps no recovery point longer than 99 years (_retention.TIER_CEILINGS): a longer max_retention can never block.
MAX_RETENTION_CEILING = Duration.of(100, 'years')


class RetentionRule(Rule):
    key = 'retention'
    # retention_mode: a tier's, and the role's default of every tier.
    choices = {('retention', 'mode'): RETENTION_MODES, ('retention_mode',): RETENTION_MODES}
    action = 'raise_policies'
    task = 'retention'
    module = 'backup_policy_retention'
    module_targets = ('mode', 'minimum', 'policies')
    apply_rank = 1
    settings = (
        Setting('retention', 'retention', 'retention', (
            'PolicyRetentionTooShort', 'A backup policy keeps recovery points for less time than the baseline',
            'An immutable vault keeps recovery points only as long as its policies do: an attacker who waits out a short '
            'retention wins.', '6.5'), per_policy=True),
    )

    def validate_baseline(self, baseline):
        retention = self.baseline_mapping(baseline, _KEYS)
        if retention is None:
            return None
        mode = lower(retention.get('mode')) or 'report'
        if mode not in RETENTION_MODES:
            raise DriftError("baseline.retention.mode must be report or enforce, got %s" % shown(retention.get('mode')))
        minimum = retention.get('minimum')
        if minimum is None:
            minimum = {}
        if not isinstance(minimum, Mapping):
            raise DriftError("baseline.retention.minimum must be a dictionary of tier: duration%s" % self.dict_hint('retention.minimum'))
        try:
            # Parsed here, once (a minimum checked before is taken as it is): the checked value carries the parsed form
            # (Minimum.parsed) to weaker(), evaluate()'s raises and the tiers (_tiers.datastore_only_warnings).
            minimum = checked_minimum(minimum if isinstance(minimum, Minimum) else plain_dict(minimum))
        except ValueError as exc:
            raise DriftError("baseline.retention.minimum: %s" % exc) from exc
        return {'minimum': minimum, 'mode': mode}

    # The tier form (and the role's variables): retention_minimum and retention_mode.
    tier_paths = {'retention.minimum': 'retention_minimum', 'retention.mode': 'retention_mode'}
    role_default = {'daily': '30d'}

    def shown_baseline(self, value):
        return dict(value['minimum']) if value else None

    unchecked_why = 'checks no retention (the default holds every daily tier to at least 30d)'

    def checks_value(self, value):
        # An empty minimum checks no retention either.
        return bool(value and value.get('minimum'))

    def weaker(self, value):
        """The default minimum holds every daily tier (and simple retention, which daily covers) to 30 days: a minimum that
        checks no daily tier, holds it to less, gives it only per datastore (which no Recovery Services VM, SQL or SAP HANA
        tier has), or holds simple retention (``default``) to less is weaker. Retention is never lowered by a run."""
        minimum = checked_minimum(value['minimum']).parsed
        floor = parse_duration(self.role_default['daily'])
        why = []
        for key in ('daily', 'default'):
            have = minimum.get(key)
            if key == 'default' and have is None:
                continue
            if have is None:
                why.append('checks no daily tier (the default holds it to at least %s)' % floor.short)
            elif isinstance(have, Mapping):
                why.append('gives %s only per datastore (%s): the tiers without a datastore (Recovery Services VM, SQL and SAP HANA '
                           'policies) are not held to it (the default holds them to at least %s)'
                           % (key, ', '.join(sorted(have)), floor.short))
            elif not meets(have, floor):
                what = 'daily tiers' if key == 'daily' else 'simple retention (default)'
                why.append('holds %s to %s, less than the default %s' % (what, have.short, floor.short))
        return '; '.join(why), False

    # harden_backup_vaults_retention_mode: the mode of tiers that give none when the top level checks no retention.
    tier_default_keys = ('retention_mode',)
    # Lock readiness: no policy in use keeps recovery points longer on a protected tier (locking commits their storage).
    requirement = Requirement('max_retention', None, True, 1)

    def check_requirement(self, value, where):
        """ISO-8601 (``P10Y``) or None. An empty text is refused, not taken as no limit (a variable that came out empty)."""
        if value is None:
            return None
        if isinstance(value, str) and not value.strip():
            raise DriftError('%s.max_retention is %s (from a variable that came out empty?): write a duration such as 10y, or null '
                             'for no limit' % (where, shown(value)))
        try:
            duration = parse_duration(value)
        except RetentionError as exc:
            raise DriftError('%s.max_retention: %s' % (where, exc)) from None
        if not meets(MAX_RETENTION_CEILING, duration):
            raise DriftError('%s.max_retention is %s, longer than any retention Azure keeps (99 years): leave it null for no limit'
                             % (where, duration.short))
        return duration.iso

    def looser_requirement(self, value, default):
        """No limit is looser than a limit; a limit is looser unless the default surely keeps at least as long (meets)."""
        return default is not None and (value is None or not meets(default, value))

    def blocker(self, vault, want, context):
        limit = context['until'](want)
        over = [(v, t) for v in context['in_use'] for t in v['tiers'] if t['protected_by_immutability'] and t['held_until'] > limit]
        if not over:
            return None
        over.sort(key=lambda vt: vt[1]['held_until'], reverse=True)
        longest = over[0][1]
        detail = ', '.join('policy %s keeps its %s tier %s' % (v['name'], t['tier'], t['duration']) for v, t in over)
        return want, longest['duration'], 'max_retention %s: %s (held until %s, later than %s)' % (
            want, detail, context['iso'](longest['held_until']), context['iso'](limit))

    def tier_defaults(self, default, given):
        mode = given.get('retention_mode')
        mode = mode if mode is not None else default['retention_mode']
        if mode is not None and (not isinstance(mode, str) or mode.strip().lower() not in RETENTION_MODES):
            raise DriftError('retention_mode must be report or enforce, got %s' % shown(mode))
        return {'retention_mode': mode}

    def tier_value(self, resolved, defaults):
        if resolved['retention_mode'] is None:
            resolved['retention_mode'] = defaults.get('retention_mode')
        mode = resolved['retention_mode']
        if mode is not None and (not isinstance(mode, str) or mode.strip().lower() not in RETENTION_MODES):
            raise DriftError("retention_mode must be report or enforce, got %s" % shown(mode))
        resolved['retention_mode'] = mode.strip().lower() if mode else 'report'
        minimum = resolved['retention_minimum']
        if minimum is None:
            minimum = {}
        if not isinstance(minimum, Mapping):
            raise DriftError('retention_minimum must be a dict of tier: duration ({} checks no retention), got %s'
                             % type_name(minimum))
        return {'minimum': minimum, 'mode': resolved['retention_mode']} if minimum else None

    tier_heading = 'Retention minimum'

    def tier_cell(self, tier, text):
        minimum = tier.get('retention_minimum') or {}
        return ('%s (%s)' % (text(minimum), tier.get('retention_mode') or 'report')) if minimum else 'not checked'

    def to_tier(self, value):
        return {'retention_minimum': value['minimum'].copy() if value else {}, 'retention_mode': value['mode'] if value else None}

    def from_tier(self, tier):
        minimum = tier.get('retention_minimum')
        return {'minimum': minimum.copy(), 'mode': tier.get('retention_mode') or 'report'} if minimum else None

    def resolved_tier(self, value):
        # The mode was resolved by tier_value (the tier's, else the role's default, else report).
        return {'retention_minimum': value['minimum'] if value else {}}

    def reads(self, value):
        return ('policies',) if value else ()

    def report_action(self, action):
        return action or []

    posture_key = 'retention'

    def state(self, vault, baseline, findings):
        """``meets_minimum`` / ``below_minimum`` (some tier of a policy below the baseline's minimum) / ``not_read`` (the
        policies were not read) / ``not_checked`` (the baseline has no minimum), with the number of policies and weak tiers."""
        policies = vault.get('policies')
        if not self.checks(baseline):
            state = 'not_checked'
        elif policies is None:
            state = 'not_read'
        else:
            state = 'below_minimum' if findings else 'meets_minimum'
        return {'state': state, 'policies': len(policies) if isinstance(policies, list) else None,
                'weak_tiers': sum(1 for f in findings if f.get('policy'))}

    def posture_after(self, posture, changes, open_findings):
        if posture.get('state') == 'below_minimum':
            return dict(posture, state='below_minimum' if open_findings else 'meets_minimum', weak_tiers=len(open_findings))
        return posture

    def evaluate(self, vault, baseline, context):
        """Return (findings, names of the policies to raise, changes)."""
        want = baseline['retention']
        if want is None:
            return [], [], []
        policies = vault.get('policies')
        if policies is None:
            return [finding('retention', None, None, False,
                            "the vault's policies were not read: discover with vault_immutability_info include_policies: true")], [], []
        enforce = want['mode'] == 'enforce'
        # On a Locked vault a raised retention can never be lowered again (Azure refuses any reduction there).
        locked = lower(vault.get(IMMUTABILITY.key)) in IMMUTABILITY.irreversible
        # Immutable now, or made so by this run's immutability step (which comes before the raises).
        immutable = lower(vault.get(IMMUTABILITY.key)) in IMMUTABLE or lower(baseline.get(IMMUTABILITY.key)) in IMMUTABLE
        findings = []
        raise_policies = []
        changes = []
        for policy in policies:
            suspended = suspended_items(vault, policy.get('name')) if immutable else []
            for violation, raised in plan_raises(policy, want['minimum']):
                # A raise Azure does not apply (SUSPENDED): no option of a run makes it, a person acts first.
                raisable = bool(violation.get('fixable')) and not suspended
                fixable = raisable and enforce
                reason = violation.get('reason')
                if violation.get('fixable') and suspended:
                    reason = suspended_reason(reason, suspended)
                # The options that would let a run raise it: enforce mode, and the consent where the raise is irreversible.
                options = []
                # Immutability does not hold operational tiers: raising one can be undone, even on a Locked vault.
                operational = bool(violation.get('tier')) and is_operational(policy, violation)
                if raisable and not enforce:
                    reason = 'retention mode is report: weak policies are reported, not raised'
                    options.append(OPTION_ENFORCE)
                    if locked and not operational and not baseline['allow_irreversible']:
                        options.append(OPTION_CONSENT)
                elif fixable and locked and not operational and not baseline['allow_irreversible']:
                    fixable = False
                    options.append(OPTION_CONSENT)
                    reason = ('%s; the vault is Locked, where a raised retention can never be lowered again: set allow_irreversible '
                              'to consent' % reason)
                if operational:
                    reason = '%s; an operational backup tier, not protected by immutability' % reason
                elif bool(violation.get('tier')) and is_unsourced(policy, violation):
                    # Predicted as held by immutability (the refusing side): no Microsoft source says either way.
                    reason = '%s; treated as held by immutability, %s' % (reason, UNSOURCED_NOTE)
                name = violation.get('policy') or policy.get('name')
                findings.append(finding('retention', violation.get('have'), violation.get('need'), fixable, reason,
                                        policy=name, tier=violation.get('tier'),
                                        sub_policy=violation.get('sub_policy'), datastore=violation.get('datastore'),
                                        irreversible=locked and not operational and raisable,
                                        option=' and '.join(options) or None))
                if fixable:
                    if name not in raise_policies:
                        raise_policies.append(name)
                    changes.append(change('retention', 'retention', violation.get('have'), raised, locked and not operational,
                                          policy=name, tier=violation.get('tier'), sub_policy=violation.get('sub_policy'),
                                          datastore=violation.get('datastore')))
        return findings, raise_policies, changes


RULE = RetentionRule()
