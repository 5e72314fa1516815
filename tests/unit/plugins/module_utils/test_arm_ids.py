# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""split_resource_id: azure-mgmt-core's is_valid_resource_id and parse_resource_id, with the id parsed once."""

from __future__ import annotations

import pytest
from azure.mgmt.core import tools

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.arm_ids import split_resource_id

SUB = '00000000-0000-4000-8000-000000000001'
VAULT = '/subscriptions/%s/resourceGroups/rg-a/providers/Microsoft.RecoveryServices/vaults/rsv-1' % SUB


def the_sdks_way(arm_id):
    text = str(arm_id or '')
    text = text[:-1] if text.endswith('/') else text
    if not text.startswith('/') or not tools.is_valid_resource_id(text):
        return {}
    return dict(tools.parse_resource_id(text))


@pytest.mark.parametrize('arm_id', [
    VAULT, VAULT + '/', VAULT.upper(), VAULT + '/backupPolicies/daily', VAULT + '/backupFabrics/Azure/protectionContainers/c/protectedItems/i',
    '/subscriptions/%s/resourceGroups/rg-a/providers/Microsoft.DataProtection/backupVaults/bv-1' % SUB,
    '/subscriptions/%s/resourceGroups/rg-a' % SUB, '/subscriptions/%s' % SUB, '/subscriptions/%s/providers/Microsoft.Foo/bars/b' % SUB,
    VAULT + '//', VAULT[1:], 'rsv-1', '', None, '/', '/subscriptions//resourceGroups/rg/providers/Microsoft.X/y/z',
    VAULT.replace('/providers/', '/provider/'), VAULT + '/backupPolicies', VAULT + ' ', ' ' + VAULT,
])
def test_split_resource_id_is_the_sdks_validation_and_parse(arm_id):
    assert split_resource_id(arm_id) == the_sdks_way(arm_id)


def test_a_vault_id_splits_into_its_parts():
    parts = split_resource_id(VAULT)
    assert (parts['subscription'], parts['resource_group'], parts['namespace'], parts['type'], parts['name']) == \
        (SUB, 'rg-a', 'Microsoft.RecoveryServices', 'vaults', 'rsv-1')
