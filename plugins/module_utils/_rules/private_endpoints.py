# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The private endpoints rule (report only, Recovery Services vaults): at least one approved private endpoint connection.

``properties.privateEndpointConnections`` (read-only; each ``properties.privateLinkServiceConnectionState.status``) and
``properties.privateEndpointStateForBackup`` (SDK VaultProperties; the built-in policy RecoveryServices_PrivateEndpoint_Audit).
A Backup vault has no private endpoints in the DataProtection API: the setting does not apply to it. Endpoints live in
the customer's virtual networks, so a person creates them: ``required`` only reports.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._rules import _security
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import Setting, UnreadableResourceError


def read_endpoints(vault_type, props, resource):
    if vault_type != 'recovery_services':
        return None
    connections = _security.nested(props, ('privateEndpointConnections',), resource)
    if connections is not None and not isinstance(connections, list):
        raise UnreadableResourceError(resource, 'properties.privateEndpointConnections', connections, 'a list')
    approved = 0
    for connection in connections or []:
        status = _security.nested(connection, ('properties', 'privateLinkServiceConnectionState', 'status'), resource,
                                  'properties.privateEndpointConnections[]')
        if str(status or '').lower() == 'approved':
            approved += 1
    state = _security.state(_security.nested(props, ('privateEndpointStateForBackup',), resource), resource,
                            'properties.privateEndpointStateForBackup')
    return {'approved': approved, 'connections': len(connections or []), 'state_for_backup': state}


class PrivateEndpointsRule(_security.ReportOnlyRule):
    key = 'private_endpoints'
    applies_to = ('recovery_services',)
    read_value = staticmethod(read_endpoints)
    manual = ('private endpoints are created in the customer\'s virtual networks and approved on the vault (Learn, '
              'private-endpoints), by a person')
    settings = (Setting('private_endpoints', 'private endpoints', None, (
        'VaultWithoutPrivateEndpoint', 'The vault has no approved private endpoint for backup',
        'A private endpoint keeps backup traffic on the customer\'s network; with public network access disabled it is '
        'the only way to reach the vault.', '4.0'),
        azure_policy={'recovery_services': ('deeddb44-9f94-4903-9fa0-081d524406e3',)}),)

    def meets(self, vault, want):
        if vault.get('vault_type') != 'recovery_services':
            return None
        return bool(self.have(vault))

    def posture_value(self, vault):
        return 'approved' if self.have(vault) else 'none'

    def posture_details(self, vault):
        endpoints = vault.get('private_endpoints') or {}
        return {'approved': endpoints.get('approved', 0), 'connections': endpoints.get('connections', 0)}

    def have(self, vault):
        return (vault.get('private_endpoints') or {}).get('approved', 0)


RULE = PrivateEndpointsRule()
