# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The soft delete rule: off < on < always_on, and a minimum of retention days; always_on is one-way.

The baseline ``{state, retention_days}`` is a minimum like immutability's; ``off`` asks for soft delete to be off.
Reaching ``always_on`` needs ``allow_irreversible``. The changes are vault_soft_delete's own plan (plan, below):
on a Recovery Services vault the enhanced security (hybrid workloads) moves with the state.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils import _soft_delete
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import shown, type_name
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import VAULT_TYPES, vault_label
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import (
    OPTION_CONSENT,
    DriftError,
    Requirement,
    Rule,
    Setting,
    UnreadableResourceError,
    change,
    finding,
    guarded,
    is_int,
    latest_after,
    lower,
    mapping,
    mua_reason,
    whole_days,
)

_KEYS = ('state', 'retention_days')
REQUIREMENTS = ('on', 'always_on')


# The one-way target: Azure never turns an AlwaysOn soft delete (or enhanced security) down or off again.
IRREVERSIBLE = ('always_on',)

_RS_SOFT_DELETE_KEYS = ('softDeleteState', 'softDeleteRetentionPeriodInDays')
_DP_SOFT_DELETE_KEYS = ('state', 'retentionDurationInDays')


# A vault that reports no soft delete state (softDeleteSettings absent or null, or its state "Invalid") has not said what
# its soft delete is: it is not off. Recorded (tests/fixtures/azure-real/ps-rs-immutability): the 201 answer to the
# create of hiagaImmutableVault says ``softDeleteSettings: null``, and the next GET of the same vault, with no soft delete
# request in between, says Enabled with 14 days. A Backup vault read at api-version 2023-05-01 (ps-dp-getvault) carries
# no securitySettings at all. What such a vault keeps no Microsoft source says (assumed, the safe side): the drift is a
# finding no run can fix (never "compliant" with an ``off`` baseline, never a write planned from a guess), lock readiness
# is blocked (require_soft_delete: unknown), and vault_soft_delete writes to it only the retention days it is given.
NOT_REPORTED = ("the vault reports no soft delete state (properties.securitySettings.softDeleteSettings is absent, null or "
                "Invalid, as Azure answers while a vault is created), so it cannot be checked and nothing is planned from it: "
                "read the vault again once it has settled")


def _soft_delete_state(value, resource, field):
    try:
        return _soft_delete.from_api(value)
    except _soft_delete.SoftDeleteError:
        raise UnreadableResourceError(resource, field, value,
                                      'Enabled, Disabled or AlwaysON (On, Off or AlwaysOn for Backup vaults)') from None


def _read(vault_type, security, resource, location=None):
    base = 'properties.securitySettings.softDeleteSettings'
    settings = mapping(security.get('softDeleteSettings'), resource, base)
    state_key, days_key = _RS_SOFT_DELETE_KEYS if vault_type == 'recovery_services' else _DP_SOFT_DELETE_KEYS
    return {'state': _soft_delete_state(settings.get(state_key), resource, '%s.%s' % (base, state_key)),
            'retention_days': whole_days(settings.get(days_key), resource, '%s.%s' % (base, days_key)),
            'enforced_by_azure': _soft_delete.enforced_by_azure(vault_type, location)}


def _enhanced_security(vault_type, security, resource):
    """Recovery Services enhancedSecurityState (soft delete and security for hybrid workloads); None for Backup vaults."""
    if vault_type != 'recovery_services':
        return None
    field = 'properties.securitySettings.softDeleteSettings.enhancedSecurityState'
    settings = mapping(security.get('softDeleteSettings'), resource, 'properties.securitySettings.softDeleteSettings')
    return _soft_delete_state(settings.get('enhancedSecurityState'), resource, field)


def config_body(target):
    """Recovery Services backup resource vault config body (backupconfig/vaultconfig) carrying the whole soft delete set.

    The whole set travels together: a PATCH with only the retention period is reported to answer 200 and change
    nothing (azure-rest-api-specs#34530); az CLI and azure.azcollection send the set the same way.
    """
    props = {'softDeleteFeatureState': _soft_delete.to_api('recovery_services', target['state']),
             'enhancedSecurityState': _soft_delete.to_api('recovery_services', target['enhanced_security'] or target['state'])}
    if target.get('retention_days') is not None:
        props['softDeleteRetentionPeriodInDays'] = int(target['retention_days'])
    return {'properties': props}


def vault_patch(vault_type, target):
    """The vault PATCH body that changes only securitySettings.softDeleteSettings."""
    if vault_type == 'recovery_services':
        settings = {'softDeleteState': _soft_delete.to_api(vault_type, target['state']),
                    'enhancedSecurityState': _soft_delete.to_api(vault_type, target['enhanced_security'] or target['state'])}
        if target.get('retention_days') is not None:
            settings['softDeleteRetentionPeriodInDays'] = int(target['retention_days'])
    else:
        settings = {'state': _soft_delete.to_api(vault_type, target['state'])}
        if target.get('retention_days') is not None:
            settings['retentionDurationInDays'] = float(target['retention_days'])
    return {'properties': {'securitySettings': {'softDeleteSettings': settings}}}


def plan(vault_type, current, desired_state=None, desired_days=None, allow_irreversible=False, vault_name='?', enforced=False):
    """Return (changes, target) that take a vault's soft delete from current to what was asked.

    current: {'state', 'retention_days', 'enhanced_security'} (_soft_delete.settings_of).
    changes: [{'setting', 'before', 'after'}, ...], empty when nothing has to change.
    target: the complete settings to write, {'state', 'retention_days', 'enhanced_security'}.

    Raises SoftDeleteError, before any request is sent, when:
    - the vault is AlwaysOn and anything else is asked for (AlwaysOn is irreversible);
    - soft delete is enforced by Azure (``enforced``, see _soft_delete.enforced_by_azure) and off is asked for;
    - always_on is asked for without allow_irreversible;
    - retention_days is outside 14..180, or is given while soft delete is (or is to be) off.
    """
    if vault_type not in VAULT_TYPES:
        raise _soft_delete.SoftDeleteError("unknown vault_type '%s'" % vault_type)
    label = vault_label(vault_type, vault_name)
    desired_state = _soft_delete.normalise_choice(desired_state)
    desired_days = _soft_delete.validate_days(desired_days)
    cur_state = current.get('state')
    cur_days = current.get('retention_days')
    rs = vault_type == 'recovery_services'
    cur_enhanced = current.get('enhanced_security') if rs else None
    state = desired_state or cur_state
    if enforced and state == 'off' and cur_state != 'off':
        raise _soft_delete.SoftDeleteError('%s: Azure refuses to disable it, so no request is sent' % _soft_delete.enforced_message(label))
    always_now = any(value in IRREVERSIBLE for value in (cur_state, cur_enhanced))
    if always_now and state not in IRREVERSIBLE:
        which = 'soft delete' if cur_state in IRREVERSIBLE else 'enhanced security (soft delete for hybrid workloads)'
        raise _soft_delete.SoftDeleteError(
            "%s has %s AlwaysOn and soft_delete=%s was requested: AlwaysOn is irreversible, Azure never turns soft delete "
            "of such a vault down or off again." % (label, which, state))
    if desired_days is not None and state in ('off', None):
        raise _soft_delete.SoftDeleteError('retention_days applies only while soft delete is on or always_on; %s would have soft '
                                           'delete off' % label)
    if state is None:
        # Azure reported no soft delete state and none was asked for: nothing to manage.
        return [], dict(current)
    if cur_state is None and state != 'off' and desired_days is None:
        # What the vault keeps is not known (NOT_REPORTED): the default days written to it could shorten it.
        raise _soft_delete.SoftDeleteError(
            '%s reports no soft delete state (softDeleteSettings absent, null or Invalid), so how many days it keeps deleted '
            'backup data is not known: give retention_days, or read it again once it has settled; nothing was sent' % label)
    needs_consent = state in IRREVERSIBLE and (cur_state != state or (rs and cur_enhanced != state))
    if needs_consent and not allow_irreversible:
        raise _soft_delete.SoftDeleteError(
            "Setting soft delete of %s to AlwaysOn cannot be undone: once AlwaysOn it can never be turned off or back to On. "
            "Set allow_irreversible=true to consent." % label)
    days = cur_days
    kept = cur_days
    if cur_state == 'off' and (cur_days is None or not _soft_delete.MIN_DAYS <= cur_days <= _soft_delete.MAX_DAYS):
        # A vault with soft delete off may report days Azure never keeps while it is on: a Backup vault's Resource Graph
        # row says 0.0 (recorded, tests/fixtures/azure-real/cliext-dp-graph). Turned on, it gets Azure's default; an off
        # vault keeps nothing deleted, so no retention is shortened.
        kept = None
    if state != 'off':
        days = desired_days if desired_days is not None else (kept if kept is not None else _soft_delete.DEFAULT_DAYS)
    target = {'state': state, 'retention_days': days, 'enhanced_security': state if rs else None}
    changes = []
    if state != cur_state:
        changes.append({'setting': 'soft_delete', 'before': cur_state, 'after': state, 'irreversible': state in IRREVERSIBLE})
    if rs and state != cur_enhanced:
        changes.append({'setting': 'enhanced_security', 'before': cur_enhanced, 'after': state, 'irreversible': state in IRREVERSIBLE})
    if days != cur_days:
        changes.append({'setting': 'soft_delete_retention_days', 'before': cur_days, 'after': days, 'irreversible': False})
    return changes, target


class SoftDeleteRule(Rule):
    key = 'soft_delete'
    choices = {('soft_delete', 'state'): _soft_delete.STATES}
    apply_rank = 2
    irreversible = IRREVERSIBLE
    irreversible_field = 'state'
    module = 'vault_soft_delete'
    module_targets = ('soft_delete', 'retention_days')
    settings = (
        Setting('soft_delete', 'soft delete', 'soft_delete', (
            'SoftDeleteBelowBaseline', 'Soft delete of the vault is weaker than the baseline asks',
            'With soft delete on, deleted backup data is kept, recoverable, for the retention days before Azure purges it.',
            '7.5'),
            azure_policy={'recovery_services': ('31b8092a-36b8-434b-9af7-5ec844364148',), 'backup': ('9798d31d-6028-4dee-8643-46102185c016',)}),
        Setting('soft_delete_retention_days', 'soft delete retention days', 'soft_delete', (
            'SoftDeleteRetentionTooShort', 'Soft delete keeps deleted backup data for fewer days than the baseline',
            'Deleted backup data is purged after the soft delete retention: a short retention shortens the time to notice a deletion.',
            '5.3')),
    )

    def read(self, vault_type, raw, security, resource):
        return {'soft_delete': _read(vault_type, security, resource, raw.get('location')),
                'enhanced_security': _enhanced_security(vault_type, security, resource)}

    def validate_baseline(self, baseline):
        soft_delete = self.baseline_mapping(baseline, _KEYS)
        if soft_delete is None:
            return None
        state = self.state_of(soft_delete.get('state'), 'baseline.soft_delete.state')
        days = soft_delete.get('retention_days')
        if days is not None:
            if not is_int(days) or not _soft_delete.MIN_DAYS <= days <= _soft_delete.MAX_DAYS:
                raise DriftError("baseline.soft_delete.retention_days must be a whole number of days from %d to %d, got %s"
                                 % (_soft_delete.MIN_DAYS, _soft_delete.MAX_DAYS, shown(days)))
            if state == 'off':
                raise DriftError("baseline.soft_delete.retention_days cannot be set when baseline.soft_delete.state is off")
        if state is not None or days is not None:
            return {'state': state, 'retention_days': days}
        return None

    role_default = {'state': 'on', 'retention_days': _soft_delete.MIN_DAYS}

    unchecked_why = 'checks no soft delete (the default checks that it is on, keeping deleted backup data at least 14 days)'
    lowering_values = {'off': 'asks for soft delete off: a run turns soft delete off on every vault that has it on (not always_on, '
                              'and without a Resource Guard), and deleted backup data is then gone at once'}

    def lowering_key(self, value):
        return value.get('state')

    def weaker(self, value):
        why = []
        if value.get('state') is None:
            why.append('checks no soft delete state (the default checks that it is on)')
        if value.get('retention_days') is None:
            why.append('checks no soft delete retention days (the default checks at least %d)' % _soft_delete.MIN_DAYS)
        return '; '.join(why), False

    # Lock readiness: soft delete must be at least on (or always_on) before a vault is locked.
    requirement = Requirement('require_soft_delete', 'on', True, 2)

    def check_requirement(self, value, where):
        """``on``, ``always_on`` or None (YAML's unquoted ``on`` is true, which means ``on``; false means no requirement).
        An empty text is refused: it is a variable that came out empty far more often than a wish for no requirement, and
        taken as none it let vaults with soft delete off be locked."""
        if value is True:
            value = 'on'
        elif value is False:
            value = None
        elif isinstance(value, str) and value.strip() == '':
            raise DriftError("%s.require_soft_delete is %s (from a variable that came out empty?): write on, always_on, or null "
                             "for no requirement" % (where, shown(value)))
        if value is not None:
            key = str(value).strip().lower().replace('-', '_').replace(' ', '_')
            key = 'always_on' if key == 'alwayson' else key
            if key not in REQUIREMENTS:
                raise DriftError("%s.require_soft_delete must be on, always_on or null (no requirement), got %s" % (where, shown(value)))
            value = key
        return value

    def looser_requirement(self, value, default):
        """No requirement is looser than any; ``on`` is looser than ``always_on``."""
        return default is not None and (value is None or _soft_delete.RANK[value] < _soft_delete.RANK[default])

    def blocker(self, vault, want, context):
        state = (vault.get('soft_delete') or {}).get('state') if isinstance(vault.get('soft_delete'), Mapping) else None
        state = lower(state or '').replace('alwayson', 'always_on') or None
        if state in _soft_delete.RANK and _soft_delete.RANK[state] >= _soft_delete.RANK[want]:
            return None
        return want, state, 'require_soft_delete %s: soft delete is %s' % (want, state or 'unknown')

    tier_heading = 'Soft delete'

    def tier_cell(self, tier, text):
        return text(tier.get('soft_delete')) if tier.get('soft_delete') else 'not checked'

    def tier_value(self, resolved, defaults):
        soft_delete = resolved.get(self.key)
        if soft_delete is not None and not isinstance(soft_delete, Mapping):
            raise DriftError('soft_delete must be a dict {state, retention_days} ({} checks no soft delete), got %s'
                             % type_name(soft_delete))
        return soft_delete

    normalise = staticmethod(_soft_delete.normalise_choice)

    posture_key = 'soft_delete'

    def state(self, vault, baseline, findings):
        current = vault.get('soft_delete') if isinstance(vault.get('soft_delete'), Mapping) else {}
        state = self.recorded_state(current.get('state'), 'soft_delete.state', 'unknown') or 'unknown'
        days = current.get('retention_days')
        if isinstance(days, float) and days.is_integer():
            days = int(days)
        posture = {'state': state, 'retention_days': days}
        if vault.get('vault_type') == 'recovery_services':
            posture['enhanced_security'] = vault.get('enhanced_security')
        return posture

    def posture_after(self, posture, changes, open_findings):
        posture = dict(posture)
        for key, setting in (('state', 'soft_delete'), ('retention_days', 'soft_delete_retention_days'),
                             ('enhanced_security', 'enhanced_security')):
            after = latest_after(changes, setting)
            if after is not None and (key != 'enhanced_security' or key in posture):
                posture[key] = after
        return posture

    def evaluate(self, vault, baseline, context):
        findings, action = self._drift(vault, baseline, context['mua'])
        if action is None:
            return findings, None, []
        # What vault_soft_delete will do with this action, from its own plan: on a Recovery Services vault the enhanced
        # security (hybrid workloads) moves with the state, and an AlwaysON one cannot be brought back to On, so such a
        # write would fail; the findings it was to fix are then not fixable.
        settings = _soft_delete.settings_of(vault)
        try:
            planned, _target = plan(vault.get('vault_type'), settings, action['state'], action['retention_days'],
                                    baseline['allow_irreversible'], vault.get('name') or '?')
        except _soft_delete.SoftDeleteError as exc:
            for item in findings:
                if item['fixable']:
                    item['fixable'] = False
                    item['reason'] = str(exc)
            return findings, None, []
        changes = [change('soft_delete', c['setting'], c['before'], c['after'], c.get('irreversible')) for c in planned]
        return findings, (action if changes else None), changes

    def _drift(self, vault, baseline, mua):
        """Return (findings, action or None) from the vault record and the baseline."""
        want = baseline['soft_delete']
        if want is None:
            return [], None
        current = vault.get('soft_delete')
        if not isinstance(current, Mapping):
            current = {}
        raw_state = current.get('state')
        if raw_state is None:
            if want['state'] is None:
                return [finding('soft_delete_retention_days', None, want['retention_days'], False, NOT_REPORTED)], None
            return [finding('soft_delete', None, want['state'], False, NOT_REPORTED)], None
        have_state = self.recorded_state(raw_state, 'soft_delete.state', 'off')
        if have_state is None:
            return [finding('soft_delete', raw_state, want['state'], False,
                            "the vault reports an unknown soft delete state '%s'" % raw_state)], None
        have_days = current.get('retention_days')
        if isinstance(have_days, float) and have_days.is_integer():
            # Backup vaults report retentionDurationInDays as a float (14.0).
            have_days = int(have_days)

        findings = []
        target_state = have_state
        state_fixed = False
        want_state = want['state']
        if want_state is not None and want_state != have_state:
            weaker = _soft_delete.RANK[want_state] < _soft_delete.RANK[have_state]
            if want_state == 'off' or not weaker:
                if have_state in self.irreversible:
                    findings.append(finding('soft_delete', have_state, want_state, False,
                                            "soft delete is always_on, which is irreversible: Azure never turns it off again"))
                elif weaker and guarded(mua):
                    findings.append(finding('soft_delete', have_state, want_state, False, mua_reason(mua, 'soft delete')))
                elif want_state in self.irreversible and not baseline['allow_irreversible']:
                    findings.append(finding('soft_delete', have_state, want_state, False,
                                            "soft delete always_on cannot be undone: set allow_irreversible to consent", irreversible=True,
                                            option=OPTION_CONSENT))
                else:
                    findings.append(finding('soft_delete', have_state, want_state, True,
                                            'set soft delete %s -> %s' % (have_state, want_state),
                                            irreversible=want_state in self.irreversible))
                    target_state = want_state
                    state_fixed = True

        want_days = want['retention_days']
        target_days = None
        if want_days is not None and target_state != 'off':
            if not is_int(have_days) or have_days < want_days:
                findings.append(finding('soft_delete_retention_days', have_days, want_days, True,
                                        'raise soft delete retention to %d days' % want_days))
                target_days = want_days
            elif state_fixed:
                target_days = have_days

        action = None
        if state_fixed or target_days is not None:
            action = {'state': target_state, 'retention_days': target_days}
        return findings, action


RULE = SoftDeleteRule()
