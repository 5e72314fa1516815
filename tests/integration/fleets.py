# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small fleets for the integration tests, in the emulator's fleet format."""

from __future__ import annotations

SUB1 = '11111111-1111-1111-1111-111111111111'
SUB2 = '22222222-2222-2222-2222-222222222222'
RG = 'rg-backup-prod'

RS = 'Microsoft.RecoveryServices/vaults'
BV = 'Microsoft.DataProtection/backupVaults'


def vault_id(name, kind='recovery_services', sub=SUB1, rg=RG):
    provider = RS if kind == 'recovery_services' else BV
    return '/subscriptions/%s/resourceGroups/%s/providers/%s/%s' % (sub, rg, provider, name)


def vault(name, kind, immutability, soft_delete='on', tags=None, **extra):
    doc = {'name': name, 'type': kind, 'immutability': immutability,
           'soft_delete': {'state': soft_delete, 'retention_days': 14}, 'tags': tags or {}}
    doc.update(extra)
    return doc


def states_fleet():
    """Both kinds in every immutability state, in one subscription, plus a second subscription."""
    return {'subscriptions': [
        {'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
            {'name': RG, 'location': 'westeurope', 'vaults': [
                vault('rsv-unset', 'recovery_services', 'unset', tags={'env': 'prod'}),
                vault('rsv-enabled', 'recovery_services', 'enabled', tags={'env': 'prod', 'team': 'a'}),
                vault('rsv-locked', 'recovery_services', 'locked', soft_delete='always_on'),
                vault('bv-disabled', 'backup', 'disabled', tags={'env': 'dev'}),
                vault('bv-enabled', 'backup', 'enabled'),
                vault('bv-locked', 'backup', 'locked'),
            ]},
            {'name': 'rg-other', 'location': 'northeurope', 'vaults': [
                vault('rsv-other', 'recovery_services', 'disabled'),
            ]},
        ]},
        {'id': SUB2, 'display_name': 'vaultlock-test-2', 'resource_groups': [
            {'name': 'rg-two', 'location': 'westeurope', 'vaults': [
                vault('rsv-two', 'recovery_services', 'enabled'),
                vault('bv-two', 'backup', 'disabled'),
            ]},
        ]},
    ]}
