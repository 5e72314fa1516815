# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The cross subscription restore rule: enabled < disabled < permanently_disabled; permanently_disabled is one-way.

Recovery Services vaults: ``properties.restoreSettings.crossSubscriptionRestoreSettings.crossSubscriptionRestoreState``;
Backup vaults: ``properties.featureSettings.crossSubscriptionRestoreSettings.state`` (SDK models; the built-in Azure
Policy definitions "...CrossSubscriptionRestore_Modify" set the same fields). Learn (backup-azure-restore-cross-subscription):
once permanently disabled, cross subscription restore cannot be enabled again, so reaching it needs
``allow_irreversible``, and a vault there never moves. ``disabled`` is met by ``permanently_disabled`` (it is stronger).
The change is vault_security_settings' own plan (``plan``), so check mode predicts what the module does.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import vault_label
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import _security
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import Rule, Setting, change, finding

CHOICES = ('enabled', 'disabled', 'permanently_disabled')
RANK = {'enabled': 0, 'disabled': 1, 'permanently_disabled': 2}
# The one-way target: Azure never enables (or changes) a permanently disabled cross subscription restore again.
IRREVERSIBLE = ('permanently_disabled',)
_RS_PATH = ('restoreSettings', 'crossSubscriptionRestoreSettings', 'crossSubscriptionRestoreState')
_DP_PATH = ('featureSettings', 'crossSubscriptionRestoreSettings', 'state')


class SecuritySettingError(VaultlockError, ValueError):
    """A vault security setting change this collection refuses before any request."""


def _path(vault_type):
    return _RS_PATH if vault_type == 'recovery_services' else _DP_PATH


def patch(vault_type, target):
    """The vault PATCH body that changes only the cross subscription restore state."""
    leaf = {_path(vault_type)[-1]: _security.to_api(target)}
    return {'properties': {_path(vault_type)[0]: {_path(vault_type)[1]: leaf}}}


def met(have, want):
    """True when a vault's state meets a wanted one (``disabled`` is met by ``permanently_disabled``)."""
    return have == want or (want == 'disabled' and have == 'permanently_disabled')


def plan(vault_type, have, want, allow_irreversible, vault_name='?'):
    """The changes ``[{setting, before, after, irreversible}]`` that take a vault from ``have`` to ``want``; raises
    SecuritySettingError before any request for what Azure refuses or what needs consent."""
    label = vault_label(vault_type, vault_name)
    if want is None or met(have, want):
        return []
    if have in IRREVERSIBLE:
        raise SecuritySettingError(
            "%s has cross subscription restore permanently disabled and cross_subscription_restore=%s was requested: "
            "permanently disabled is irreversible, Azure never enables or changes it again; nothing was sent" % (label, want))
    if want in IRREVERSIBLE and not allow_irreversible:
        raise SecuritySettingError(
            "Setting cross subscription restore of %s to permanently_disabled cannot be undone: restores to another "
            "subscription can never be enabled again on this vault. Set allow_irreversible=true to consent." % label)
    return [{'setting': 'cross_subscription_restore', 'before': have, 'after': want, 'irreversible': want in IRREVERSIBLE}]


def normalise(value, where='cross_subscription_restore'):
    return _security.choice(value, where, CHOICES)


class CrossSubscriptionRestoreRule(_security.SecurityPosture, Rule):
    key = 'cross_subscription_restore'
    choices = {('cross_subscription_restore',): CHOICES}
    paths = {'recovery_services': _RS_PATH, 'backup': _DP_PATH}
    normalise = staticmethod(normalise)
    apply_rank = 2.5
    irreversible = IRREVERSIBLE
    irreversible_why = ' (cross subscription restore can never be enabled again)'
    module = 'vault_security_settings'
    option = 'cross_subscription_restore'
    module_targets = ('cross_subscription_restore', 'public_network_access', 'alerts', 'resource_guard_id')

    def weakens(self, value):
        if value == 'enabled':
            return ('asks for cross subscription restore enabled: a run enables it on every vault that has it disabled (not '
                    'permanently)'), True
        return '', False

    settings = (Setting('cross_subscription_restore', 'cross subscription restore', 'cross_subscription_restore', (
        'CrossSubscriptionRestoreNotRestricted', 'Backups of the vault can be restored into another subscription',
        'With cross subscription restore enabled, anyone with restore rights can restore the vault\'s backups into a '
        'subscription outside it. Disable it (or disable it permanently) where restores must stay in the subscription.',
        '5.3'),
        azure_policy={'recovery_services': ('f19b0c83-716f-4b81-85e3-2dbf057c35d6',), 'backup': ('4d479a11-f2b5-4f0a-bb1e-d2332aa95cda',)}),)

    def evaluate(self, vault, baseline, context):
        want = baseline.get(self.key)
        if want is None:
            return [], None, []
        have = vault.get('cross_subscription_restore')
        if met(have, want):
            return [], None, []
        if have in IRREVERSIBLE:
            return [finding(self.key, have, want, False, 'cross subscription restore is permanently disabled, which is '
                            'irreversible: Azure never enables it again')], None, []
        if want in IRREVERSIBLE and not baseline.get('allow_irreversible'):
            return [finding(self.key, have, want, False, 'permanently disabling cross subscription restore cannot be undone: '
                            'set allow_irreversible to consent', irreversible=True)], None, []
        planned = plan(vault.get('vault_type'), have, want, baseline.get('allow_irreversible'), vault.get('name') or '?')
        found = [finding(self.key, have, want, True, 'set cross subscription restore %s -> %s' % (have or 'unset', want),
                         irreversible=want in IRREVERSIBLE)]
        changes = [change(self.action, c['setting'], c['before'], c['after'], c['irreversible']) for c in planned]
        return found, want, changes


RULE = CrossSubscriptionRestoreRule()
