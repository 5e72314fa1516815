# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault references and records, against the Azure examples in tests/fixtures/azure-reference."""

from __future__ import annotations

import json

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.immutability import immutability_patch
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, _as_dict, vault_record
from tests.fixtures import REFERENCE
from tests.unit.builders import SUB


def example(*parts):
    return json.loads(REFERENCE.joinpath(*parts).read_text(encoding='utf-8'))


def test_parse_ids_case_insensitively():
    ref = VaultRef.parse_id('/SUBSCRIPTIONS/%s/resourcegroups/RG-1/providers/microsoft.recoveryservices/VAULTS/rsv-1/' % SUB)
    assert (ref.subscription_id, ref.resource_group, ref.name, ref.vault_type) == (SUB, 'RG-1', 'rsv-1', 'recovery_services')
    ref = VaultRef.parse_id('/subscriptions/%s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/bv-1' % SUB)
    assert ref.vault_type == 'backup'
    assert ref.id.endswith('/providers/Microsoft.DataProtection/backupVaults/bv-1')


@pytest.mark.parametrize('arm_id,message', [
    ('rsv-1', 'not an ARM id'),
    ('/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1' % SUB, 'not a Recovery Services'),
    ('/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1', 'not a GUID'),
    ('/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/1bad' % SUB, 'vault name'),
    ('/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/%s' % (SUB, 'a' * 51), 'vault name'),
])
def test_bad_ids(arm_id, message):
    with pytest.raises(InputError, match=message):
        VaultRef.parse_id(arm_id)


def test_type_mismatch():
    with pytest.raises(InputError, match='vault_type is backup'):
        VaultRef.parse_id('/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1' % SUB, 'backup')


def test_from_params():
    ref = VaultRef.from_params({'name': 'v1', 'resource_group': 'rg', 'vault_type': 'backup'}, lambda: SUB)
    assert ref.subscription_id == SUB
    with pytest.raises(InputError, match='missing: vault_type'):
        VaultRef.from_params({'name': 'v1', 'resource_group': 'rg'}, lambda: SUB)
    with pytest.raises(InputError, match='resource group name'):
        VaultRef.from_params({'name': 'v1', 'resource_group': 'rg.', 'vault_type': 'backup'}, lambda: SUB)


def test_rs_example_record():
    body = example('recoveryservices', '2026-11-01', 'examples', 'GETVault.json')['responses']['200']['body']
    record = vault_record(body, 'recovery_services')
    assert record['name'] == 'swaggerExample'
    assert record['resource_group'] == 'Default-RecoveryServices-ResourceGroup'
    assert record['subscription_id'] == '77777777-b0c6-47a2-b37c-d8e65a629c18'
    assert record['immutability'] == 'disabled'
    assert record['soft_delete'] == {'state': 'on', 'retention_days': 14, 'enforced_by_azure': False}
    assert record['mua'] == {'protected': False, 'resource_guard_id': None, 'protected_operations': []}


def test_rs_time_based_example():
    body = example('recoveryservices', '2026-11-01', 'examples', 'PUTVault_WithImmutabilityConfig.json')['responses']['200']['body']
    record = vault_record(body, 'recovery_services')
    settings = body['properties']['securitySettings']['immutabilitySettings']
    assert record['immutability'] == {'Unlocked': 'enabled', 'Locked': 'locked', 'Disabled': 'disabled'}[settings['state']]
    assert record['immutability_retention_days'] == settings['configuration'].get('durationInDays')


def test_backup_vault_example_record():
    body = example('dataprotection', '2026-06-01', 'examples', 'VaultCRUD', 'GetBackupVault.json')['responses']['200']['body']
    record = vault_record(body, 'backup')
    assert record['vault_type'] == 'backup'
    assert record['immutability_retention_days'] is None


def test_missing_immutability_is_disabled_and_soft_delete_float():
    raw = {'id': '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.DataProtection/BackupVaults/bv' % SUB, 'name': 'bv',
           'properties': {'securitySettings': {'softDeleteSettings': {'state': 'AlwaysOn', 'retentionDurationInDays': 14.0}}}}
    record = vault_record(raw, 'backup')
    assert record['immutability'] == 'disabled'
    assert record['soft_delete'] == {'state': 'always_on', 'retention_days': 14, 'enforced_by_azure': False}


def test_rs_always_on_capital_n():
    raw = {'id': '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v' % SUB,
           'properties': {'securitySettings': {'softDeleteSettings': {'softDeleteState': 'AlwaysON', 'softDeleteRetentionPeriodInDays': 30}},
                          'resourceGuardOperationRequests': [
                              '/subscriptions/%s/resourcegroups/g/providers/Microsoft.DataProtection/resourceGuards/rg1/op/default' % SUB]}}
    record = vault_record(raw, 'recovery_services')
    assert record['soft_delete'] == {'state': 'always_on', 'retention_days': 30, 'enforced_by_azure': False}
    assert record['mua']['resource_guard_id'].endswith('/resourceGuards/rg1')


def test_patch_body_only_immutability():
    assert immutability_patch('backup', 'enabled') == {'properties': {'securitySettings': {'immutabilitySettings': {'state': 'Unlocked'}}}}
    body = immutability_patch('recovery_services', 'locked', 90)
    assert body['properties']['securitySettings']['immutabilitySettings'] == {
        'state': 'Locked', 'configuration': {'type': 'TimeBased', 'durationInDays': 90}}


@pytest.mark.parametrize('arm_id,message', [
    # Parsed by azure.mgmt.core.tools, then held to Azure's naming rules: control characters never pass.
    ('/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv\x01bad' % SUB, 'control character'),
    ('/subscriptions/%s/resourceGroups/rg\nx/providers/Microsoft.RecoveryServices/vaults/rsv-1' % SUB, 'control character'),
    ('/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-1/backupPolicies/p1' % SUB, 'not an ARM id'),
    ('/subscriptions/%s/resourceGroups/rg' % SUB, 'not an ARM id'),
    ('subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-1' % SUB, 'not an ARM id'),
    ('/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-1//' % SUB, 'not an ARM id'),
    ('', 'not an ARM id'),
])
def test_bad_ids_after_sdk_parsing(arm_id, message):
    with pytest.raises(InputError, match=message):
        VaultRef.parse_id(arm_id)


def test_records_take_ids_apart_with_the_sdk_parser():
    from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import parse_resource_id, vault_record
    vid = '/subscriptions/%s/resourceGroups/RG-x/providers/Microsoft.DataProtection/backupVaults/bv-1' % SUB
    guard = '/subscriptions/%s/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/g1' % SUB
    record = vault_record({'id': vid, 'properties': {'resourceGuardOperationRequests': [guard + '/deleteResourceGuardProxyRequests/default'],
                                                     'isVaultProtectedByResourceGuard': True}}, 'backup')
    assert (record['subscription_id'], record['resource_group'], record['name']) == (SUB, 'RG-x', 'bv-1')
    assert record['mua'] == {'protected': True, 'resource_guard_id': guard, 'protected_operations': ['deleteResourceGuardProxyRequests']}
    assert parse_resource_id(vid + '/backupPolicies/p1') == {}
    assert parse_resource_id(None) == {}


def test_an_sdk_answer_becomes_a_plain_dict_whatever_its_form():
    """_as_dict: an SDK model through as_dict(), a JSON answer the SDK returned as a dict as it is, no body as None."""
    class Model:
        def as_dict(self):
            return {'status': 'Succeeded'}

    body = {'status': 'InProgress'}
    assert _as_dict(body) is body
    assert _as_dict(Model()) == {'status': 'Succeeded'}
    assert _as_dict(None) is None
