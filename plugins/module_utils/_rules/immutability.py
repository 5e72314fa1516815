# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The immutability rule: disabled < enabled < locked (time-based days on Recovery Services vaults); locked is one-way.

The baseline is a minimum: a vault at the wanted state or stronger does not drift (a locked vault satisfies
``enabled``); ``disabled`` asks for immutability to be off, so an enabled or locked vault drifts (a locked one cannot be
fixed). Reaching ``locked`` needs ``allow_irreversible``. The steps are the state module's own plan
(plan_transition), so check mode predicts what vault_immutability does.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils import _immutability
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import VAULT_TYPES, vault_label
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import (
    OPTION_CONSENT,
    Rule,
    Setting,
    change,
    finding,
    UnreadableResourceError,
    guarded,
    latest_after,
    mapping,
    mua_reason,
    whole_days,
)


def _read(vault_type, security, resource):
    base = 'properties.securitySettings.immutabilitySettings'
    settings = mapping(security.get('immutabilitySettings'), resource, base)
    try:
        state = _immutability.from_api(settings.get('state'))
    except ValueError:
        raise UnreadableResourceError(resource, base + '.state', settings.get('state'), 'Disabled, Unlocked or Locked') from None
    config = mapping(settings.get('configuration'), resource, base + '.configuration')
    days = None
    if vault_type == 'recovery_services' and config:
        kind = config.get('type')
        if not isinstance(kind, str) or kind.lower() not in ('timebased', 'asperpolicy'):
            raise UnreadableResourceError(resource, base + '.configuration.type', kind, 'TimeBased or AsPerPolicy')
        if kind.lower() == 'timebased':
            days = whole_days(config.get('durationInDays'), resource, base + '.configuration.durationInDays')
    return state, days


# The one-way target: Azure never unlocks or disables a Locked vault.
IRREVERSIBLE = ('locked',)
# The immutable states (Enabled and Locked): Azure holds recovery points and policy retention in both.
IMMUTABLE = ('enabled', 'locked')


def immutability_patch(vault_type, state, retention_days=None):
    """The PATCH body that changes only the immutability settings (never a full PUT)."""
    settings = {'state': _immutability.to_api(state)}
    if vault_type == 'recovery_services' and retention_days is not None:
        settings['configuration'] = {'type': 'TimeBased', 'durationInDays': int(retention_days)}
    return {'properties': {'securitySettings': {'immutabilitySettings': settings}}}


def plan_transition(vault_type, current, desired, allow_irreversible=False, vault_name='?'):
    """Return the list of steps [(before, after), ...] that take a vault from current to desired.

    A locked vault satisfies ``enabled``: Locked is Enabled that can no longer be turned off, so there is nothing to do
    (a view that saw the vault Disabled, Resource Graph lagging ARM, say, must not fail a vault that meets the baseline).

    Raises TransitionError, before any request is sent, when:
    - the vault is locked and ``disabled`` is asked for (locked is irreversible);
    - locked is asked for without allow_irreversible (locking cannot be undone).

    Both vault kinds go disabled -> enabled -> locked in two requests: Azure refuses
    Disabled -> Locked in one Recovery Services request
    (UserErrorUnsupportedVaultImmutabilityStateChange), and the only Backup vault lock
    on record (az CLI recording) went through Unlocked too.
    """
    if vault_type not in VAULT_TYPES:
        raise _immutability.ImmutabilityError("unknown vault_type '%s'" % vault_type)
    current = _immutability.normalise_choice(current) or 'disabled'
    desired = _immutability.normalise_choice(desired)
    label = vault_label(vault_type, vault_name)
    if desired is None or desired == current or (current in IRREVERSIBLE and desired == 'enabled'):
        return []
    if current in IRREVERSIBLE:
        raise _immutability.TransitionError(
            "%s has immutability Locked and %s was requested: Locked is irreversible, "
            "Azure never unlocks or disables an immutable vault once it is locked." % (label, desired))
    if desired in IRREVERSIBLE:
        if not allow_irreversible:
            raise _immutability.TransitionError(
                "Locking immutability of %s cannot be undone: once Locked it can never be disabled or unlocked, "
                "and backup retention can no longer be reduced. Set allow_irreversible=true to consent." % label)
        if current == 'disabled':
            return [('disabled', 'enabled'), ('enabled', 'locked')]
        return [('enabled', 'locked')]
    return [(current, desired)]


class ImmutabilityRule(Rule):
    key = 'immutability'
    choices = {('immutability',): _immutability.STATES}
    apply_rank = 3
    irreversible = IRREVERSIBLE
    is_lock = True
    irreversible_why = ' (a locked vault can never be unlocked)'
    module = 'vault_immutability'
    module_targets = ('immutability', 'immutability_retention_days')
    settings = (
        Setting('immutability', 'immutability', 'immutability', (
            'VaultNotImmutable', 'The vault is less immutable than the baseline asks',
            'While a vault is immutable, Azure refuses to delete recovery points before they expire, to stop protection with '
            '"delete data" and to reduce policy retention. A vault below the baseline leaves its backups to whoever gets '
            'write access to it.', '8.8'),
            azure_policy={'recovery_services': ('d6f6f560-14b7-49a4-9fc8-d2c3a9807868',), 'backup': ('2514263b-bc0d-4b06-ac3e-f262c0979018',)}),
    )

    def read(self, vault_type, raw, security, resource):
        state, days = _read(vault_type, security, resource)
        return {'immutability': state, 'immutability_retention_days': days}

    def validate_baseline(self, baseline):
        return self.state_of(baseline.get('immutability'), 'baseline.immutability')

    role_default = 'enabled'
    unchecked_why = 'checks no immutability (the default checks that every vault is at least enabled)'
    lowering_values = {'disabled': 'asks for immutability disabled: a run turns immutability off on every vault that has it enabled '
                                   '(not locked, and without a Resource Guard)'}

    tier_heading = 'Immutability'

    def tier_cell(self, tier, text):
        return tier.get('immutability') or 'not checked'

    posture_key = 'immutability'

    def state(self, vault, baseline, findings):
        state = self.recorded_state(vault.get('immutability'), 'immutability', 'disabled') or 'unknown'
        return {'state': state, 'retention_days': vault.get('immutability_retention_days')}

    def posture_after(self, posture, changes, open_findings):
        after = latest_after(changes, 'immutability')
        return dict(posture, state=after) if after else posture

    def reads(self, value):
        # Locking needs lock readiness, which counts the vault's protected items.
        return ('items',) if value in self.irreversible else ()

    normalise = staticmethod(_immutability.normalise_choice)

    def evaluate(self, vault, baseline, context):
        want = baseline['immutability']
        if want is None:
            return [], None, []
        mua = context['mua']
        raw = vault.get('immutability')
        have = self.recorded_state(raw, 'immutability', 'disabled')
        if have is None:
            return [finding('immutability', raw, want, False, "the vault reports an unknown immutability state '%s'" % raw)], None, []
        if want == 'disabled':
            if have == 'disabled':
                return [], None, []
        elif _immutability.RANK[have] >= _immutability.RANK[want]:
            # The baseline is a minimum: locked satisfies enabled.
            return [], None, []

        irreversible = want in self.irreversible
        if _immutability.RANK[want] < _immutability.RANK[have] and guarded(mua):
            return [finding('immutability', have, want, False, mua_reason(mua, 'immutability'))], None, []
        try:
            steps = plan_transition(vault.get('vault_type'), have, want, allow_irreversible=baseline['allow_irreversible'],
                                    vault_name=vault.get('name') or '?')
        except _immutability.ImmutabilityError as exc:
            # Only the consent is missing when the vault is not locked yet and the baseline locks it.
            option = OPTION_CONSENT if irreversible and have not in self.irreversible and not baseline['allow_irreversible'] else None
            return [finding('immutability', have, want, False, str(exc), irreversible=irreversible, option=option)], None, []
        path = ' -> '.join([have] + [after for _before, after in steps])
        changes = [change('immutability', 'immutability', before, after, after in self.irreversible) for before, after in steps]
        return [finding('immutability', have, want, True, 'set immutability %s' % path, irreversible=irreversible)], want, changes


RULE = ImmutabilityRule()
