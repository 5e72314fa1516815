# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The two vault kinds: their names, ARM resource types and labels (pure, no I/O). The one place they are defined."""

from __future__ import annotations

VAULT_TYPES = ('recovery_services', 'backup')

# ARM resource provider namespace and resource type of each kind.
PROVIDERS = {
    'recovery_services': ('Microsoft.RecoveryServices', 'vaults'),
    'backup': ('Microsoft.DataProtection', 'backupVaults'),
}

LABELS = {'recovery_services': 'Recovery Services vault', 'backup': 'Backup vault'}
PLURALS = {'recovery_services': 'Recovery Services vaults', 'backup': 'Backup vaults'}


def resource_type(vault_type):
    """'microsoft.recoveryservices/vaults' or 'microsoft.dataprotection/backupvaults' (lowercase, as ARM compares)."""
    namespace, rtype = PROVIDERS[vault_type]
    return ('%s/%s' % (namespace, rtype)).lower()


def kind_label(vault_type):
    """'Recovery Services vault', 'Backup vault', or the value itself for anything else."""
    return LABELS.get(vault_type, vault_type or 'vault')


def plural_label(vault_type):
    return PLURALS.get(vault_type, vault_type or 'vaults')


def vault_label(vault_type, vault_name):
    """"Recovery Services vault 'rsv-01'" and the like: how an error names a vault."""
    return "%s '%s'" % (LABELS.get(vault_type, 'vault'), vault_name)


def vault_type_from_provider(namespace, rtype):
    """The kind of an ARM provider namespace and resource type (any case), or None."""
    for vault_type, (ns, name) in PROVIDERS.items():
        if str(namespace).lower() == ns.lower() and str(rtype).lower() == name.lower():
            return vault_type
    return None
