# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The Azure Policy aliases the vault-level Backup definitions read, each with the property path it names.

Source of every path: Azure's own alias list (Get-AzPolicyAlias, the same list as ``az provider show --namespace <ns>
--expand resourceTypes/aliases``) as published by GitHub maciejporebski/azure-policy-aliases, commit
92a03715147cba9f2cb77d69ac913e84cc7c47d1 (2026-08-22), aliases/Microsoft.RecoveryServices/vaults.md and
aliases/Microsoft.DataProtection/BackupVaults.md ("Default Path" column). Every alias of these definitions is there:
none is assumed. Most read ``properties.<the alias' path>``; the private endpoint connection aliases are the exception
(``privateEndpointConnections[*].provisioningState`` reads ``properties.privateEndpointConnections[*].properties.
provisioningState``, while ``privateEndpointConnections[*].id`` reads the connection's own ``id``).

The deployIfNotExists definition for diagnostic settings reads a related resource, ``Microsoft.Insights/diagnosticSettings``
(an extension resource of the vault, read by ``GET {vault id}/providers/Microsoft.Insights/diagnosticSettings``), in its
``existenceCondition``: ``RELATED_ALIASES`` holds those aliases, from the same list, same commit,
aliases/microsoft.insights/diagnosticSettings.md ("Default Path" column). They are kept apart from ``ALIASES`` because
they are never read from a vault body (``_policy.policy_fields`` reads the paths of ``ALIASES`` only).

Alias names are case-insensitive (Microsoft Learn, "Azure Policy definition structure": aliases; the backup vault
immutability definition writes ``immutabilitySettings.State``); the keys below are lower-cased.
"""

from __future__ import annotations

_RS = 'microsoft.recoveryservices/vaults/'
_BV = 'microsoft.dataprotection/backupvaults/'
_PEC = 'properties.privateEndpointConnections[*]'

# alias (lower-cased) -> property path in the resource's ARM body; '[*]' is every member of an array.
ALIASES = {
    _RS + 'encryption.keyvaultproperties.keyuri': 'properties.encryption.keyVaultProperties.keyUri',
    _RS + 'encryption.infrastructureencryption': 'properties.encryption.infrastructureEncryption',
    _RS + 'securitysettings.multiuserauthorization': 'properties.securitySettings.multiUserAuthorization',
    _RS + 'securitysettings.softdeletesettings.softdeletestate': 'properties.securitySettings.softDeleteSettings.softDeleteState',
    _RS + 'securitysettings.immutabilitysettings.state': 'properties.securitySettings.immutabilitySettings.state',
    _RS + 'redundancysettings.standardtierstorageredundancy': 'properties.redundancySettings.standardTierStorageRedundancy',
    _RS + 'restoresettings.crosssubscriptionrestoresettings.crosssubscriptionrestorestate':
        'properties.restoreSettings.crossSubscriptionRestoreSettings.crossSubscriptionRestoreState',
    _RS + 'publicnetworkaccess': 'properties.publicNetworkAccess',
    _RS + 'privateendpointconnections[*]': _PEC,
    _RS + 'privateendpointconnections[*].id': _PEC + '.id',
    _RS + 'privateendpointconnections[*].provisioningstate': _PEC + '.properties.provisioningState',
    _RS + 'privateendpointconnections[*].privatelinkserviceconnectionstate.status':
        _PEC + '.properties.privateLinkServiceConnectionState.status',
    _BV + 'securitysettings.encryptionsettings.state': 'properties.securitySettings.encryptionSettings.state',
    _BV + 'securitysettings.encryptionsettings.infrastructureencryption':
        'properties.securitySettings.encryptionSettings.infrastructureEncryption',
    _BV + 'isvaultprotectedbyresourceguard': 'properties.isVaultProtectedByResourceGuard',
    _BV + 'featuresettings.crosssubscriptionrestoresettings.state': 'properties.featureSettings.crossSubscriptionRestoreSettings.state',
    _BV + 'securitysettings.immutabilitysettings.state': 'properties.securitySettings.immutabilitySettings.state',
    _BV + 'securitysettings.softdeletesettings.state': 'properties.securitySettings.softDeleteSettings.state',
}

# The aliases of related resources (lower-cased) -> property path in the related resource's ARM body, by resource type.
_DS = 'microsoft.insights/diagnosticsettings/'
RELATED_ALIASES = {
    _DS + 'logs[*]': 'properties.logs[*]',
    _DS + 'logs[*].category': 'properties.logs[*].category',
    _DS + 'logs[*].enabled': 'properties.logs[*].enabled',
    _DS + 'workspaceid': 'properties.workspaceId',
    _DS + 'loganalyticsdestinationtype': 'properties.logAnalyticsDestinationType',
}

# Fields that are not aliases (Microsoft Learn, "Azure Policy definition structure", policy rule: fields).
TOP_LEVEL = ('name', 'fullName', 'kind', 'type', 'location', 'id', 'identity.type', 'tags')


def split_path(path):
    """'properties.a[*].b' -> ['properties', 'a', '[*]', 'b']."""
    parts = []
    for part in path.split('.'):
        if part.endswith('[*]'):
            parts.extend([part[:-3], '[*]'])
        else:
            parts.append(part)
    return parts
