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
_DS = 'microsoft.insights/diagnosticsettings/'
_PEC = 'properties.privateEndpointConnections[*]'


def _default_paths(resource_type, names):
    """{alias (lower-cased): path} for aliases whose path is ``properties.`` and the alias' own name, as written in the
    alias list (the rule the module docstring states)."""
    return dict((resource_type + name.lower(), 'properties.' + name) for name in names)


# alias (lower-cased) -> property path in the resource's ARM body; '[*]' is every member of an array.
ALIASES = _default_paths(_RS, (
    'encryption.keyVaultProperties.keyUri', 'encryption.infrastructureEncryption',
    'securitySettings.multiUserAuthorization', 'securitySettings.softDeleteSettings.softDeleteState',
    'securitySettings.immutabilitySettings.state', 'redundancySettings.standardTierStorageRedundancy',
    'restoreSettings.crossSubscriptionRestoreSettings.crossSubscriptionRestoreState', 'publicNetworkAccess',
    'privateEndpointConnections[*]'))
# The private endpoint connection's own aliases skip its 'properties' level but read there (and its id is the
# connection's own).
ALIASES.update({
    _RS + 'privateendpointconnections[*].id': _PEC + '.id',
    _RS + 'privateendpointconnections[*].provisioningstate': _PEC + '.properties.provisioningState',
    _RS + 'privateendpointconnections[*].privatelinkserviceconnectionstate.status':
        _PEC + '.properties.privateLinkServiceConnectionState.status',
})
ALIASES.update(_default_paths(_BV, (
    'securitySettings.encryptionSettings.state', 'securitySettings.encryptionSettings.infrastructureEncryption',
    'isVaultProtectedByResourceGuard', 'featureSettings.crossSubscriptionRestoreSettings.state',
    'securitySettings.immutabilitySettings.state', 'securitySettings.softDeleteSettings.state')))

# The aliases of related resources (lower-cased) -> property path in the related resource's ARM body.
RELATED_ALIASES = _default_paths(_DS, ('logs[*]', 'logs[*].category', 'logs[*].enabled', 'workspaceId',
                                       'logAnalyticsDestinationType'))

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
