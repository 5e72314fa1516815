# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The public network access rule (Recovery Services vaults only): ``properties.publicNetworkAccess``.

The DataProtection API (azure-mgmt-dataprotection 2026-06-01, ``BackupVault``) has no public network access property, so
a Backup vault has no value (None) and no finding: the setting does not apply to it. Disabling public network access
means backups and restores of the vault then go through private endpoints only (Learn, private-endpoints; the built-in
policy RecoveryServices_PublicNetworkAccess_AuditDeny). The change is vault_security_settings' own plan.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import vault_label
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import _security
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import Rule, Setting, change, finding
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.cross_subscription_restore import SecuritySettingError

CHOICES = ('disabled', 'enabled')
PRIVATE_ENDPOINTS_NOTE = 'backups and restores of the vault then need private endpoints'


def patch(vault_type, target):
    del vault_type
    return {'properties': {'publicNetworkAccess': _security.to_api(target)}}


def plan(vault_type, have, want, vault_name='?'):
    if want is None or have == want:
        return []
    if vault_type != 'recovery_services':
        raise SecuritySettingError('%s: Backup vaults have no public network access setting (the DataProtection API has none); '
                                   'nothing was sent' % vault_label(vault_type, vault_name))
    return [{'setting': 'public_network_access', 'before': have, 'after': want, 'irreversible': False}]


def normalise(value, where='public_network_access'):
    return _security.choice(value, where, CHOICES)


class PublicNetworkAccessRule(_security.SecurityPosture, Rule):
    applies_to = ('recovery_services',)   # the DataProtection API has no publicNetworkAccess
    paths = {'recovery_services': ('publicNetworkAccess',)}
    normalise = staticmethod(normalise)

    key = 'public_network_access'
    choices = {('public_network_access',): CHOICES}
    apply_rank = 2.6

    def weakens(self, value):
        if value == 'enabled':
            return ('asks for public network access enabled: a run enables it on every Recovery Services vault that has it '
                    'disabled'), True
        return '', False

    settings = (Setting('public_network_access', 'public network access', 'public_network_access', (
        'VaultPublicNetworkAccessEnabled', 'The vault accepts backup traffic from public networks',
        'With public network access disabled, the vault is reached only through private endpoints: backups and restores '
        'then need private endpoints.', '5.3'),
        azure_policy={'recovery_services': ('9ebbbba3-4d65-4da9-bb67-b22cfaaff090', '04726aae-4e8d-427c-af7d-ecf56d490022')}),)

    def evaluate(self, vault, baseline, context):
        want = baseline.get(self.key)
        if want is None or vault.get('vault_type') != 'recovery_services':
            return [], None, []
        have = vault.get('public_network_access')
        if have == want:
            return [], None, []
        why = 'set public network access %s -> %s' % (have or 'unset', want)
        if want == 'disabled':
            why += ': %s' % PRIVATE_ENDPOINTS_NOTE
        planned = plan(vault.get('vault_type'), have, want, vault.get('name') or '?')
        changes = [change(self.action, c['setting'], c['before'], c['after'], False) for c in planned]
        return [finding(self.key, have, want, True, why)], want, changes


RULE = PublicNetworkAccessRule()
