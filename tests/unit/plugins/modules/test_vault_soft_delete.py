# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vault_soft_delete in process (conftest.py): the API each kind is written through, check mode, consent, truthful results."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils import _vaults
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.modules import vault_soft_delete

from tests.unit.builders import BV, RG, RS, arm_vault


def soft(azure, vault):
    return azure.vault(vault['id'])['properties']['securitySettings']['softDeleteSettings']


def test_recovery_services_goes_through_the_vault_config_with_the_whole_set(run_module, azure):
    vault = azure.add(arm_vault('rsv-1', soft_delete='off'))
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'on', 'retention_days': 30})
    assert result['changed'] is True and result['api'] == 'vault_config'
    assert [(c['setting'], c['before'], c['after']) for c in result['changes']] == [
        ('soft_delete', 'off', 'on'), ('enhanced_security', 'off', 'on'), ('soft_delete_retention_days', 14, 30)]
    assert azure.writes == [('PATCH vaultconfig', 'rsv-1', {'properties': {
        'softDeleteFeatureState': 'Enabled', 'enhancedSecurityState': 'Enabled', 'softDeleteRetentionPeriodInDays': 30}})]
    assert result['vault']['soft_delete']['retention_days'] == 30


def test_use_vault_api_answer_falls_back_to_a_vault_patch(run_module, azure):
    vault = azure.add(arm_vault('rsv-1', soft_delete='off'))
    azure.faults[('update soft delete', 'rsv-1')] = AzureOperationError('update soft delete', 'rsv-1', 400,
                                                                        'BMSUserErrorSoftDeleteUseVaultApi', 'use the vault API')
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'on'})
    assert result['api'] == 'vault' and [w[0] for w in azure.writes] == ['PATCH']
    assert soft(azure, vault)['softDeleteState'] == 'Enabled'


def test_backup_vault_patch_sends_a_float(run_module, azure):
    vault = azure.add(arm_vault('bv-1', BV, soft_delete='on'))
    result = run_module(vault_soft_delete, {'id': vault['id'], 'retention_days': 60}, diff=True)
    assert azure.writes == [('PATCH', 'bv-1', {'properties': {'securitySettings': {'softDeleteSettings': {
        'state': 'On', 'retentionDurationInDays': 60.0}}}})]
    assert result['diff']['before'] == {'soft_delete': 'on', 'retention_days': 14}
    assert result['diff']['after'] == {'soft_delete': 'on', 'retention_days': 60}


def test_check_mode_predicts_and_writes_nothing(run_module, azure):
    vault = azure.add(arm_vault('bv-1', BV, soft_delete='off'))
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'on'}, check_mode=True)
    assert result['changed'] is True and azure.writes == [] and result['api'] is None
    assert result['vault']['soft_delete']['state'] == 'on'


def test_idempotent(run_module, azure):
    vault = azure.add(arm_vault('rsv-1', soft_delete='on'))
    result = run_module(vault_soft_delete, {'name': 'rsv-1', 'resource_group': RG, 'vault_type': RS, 'soft_delete': 'on'})
    assert result['changed'] is False and azure.writes == [] and vault


@pytest.mark.parametrize('check_mode', [False, True])
def test_always_on_needs_consent(run_module, azure, check_mode):
    vault = azure.add(arm_vault('rsv-1', soft_delete='on'))
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'always_on'}, check_mode=check_mode)
    assert result['failed'] is True and 'allow_irreversible=true' in result['msg'] and azure.writes == []
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'always_on', 'allow_irreversible': True},
                        check_mode=check_mode)
    assert result['changed'] is True and all(c['irreversible'] for c in result['changes'][:2])


def test_leaving_always_on_and_enforced_regions_are_refused(run_module, azure):
    vault = azure.add(arm_vault('rsv-1', soft_delete='always_on'))
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'on'})
    assert result['failed'] is True and 'AlwaysOn is irreversible' in result['msg']
    enforced = azure.add(arm_vault('bv-1', BV, soft_delete='on', location='australiaeast'))
    result = run_module(vault_soft_delete, {'id': enforced['id'], 'soft_delete': 'off'})
    assert result['failed'] is True and 'enforced by Azure' in result['msg'] and azure.writes == []


def test_days_outside_the_range_or_with_off_are_refused(run_module, azure):
    vault = azure.add(arm_vault('rsv-1', soft_delete='on'))
    result = run_module(vault_soft_delete, {'id': vault['id'], 'retention_days': 7})
    assert result['failed'] is True and 'between 14 and 180' in result['msg']
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'off', 'retention_days': 30})
    assert result['failed'] is True and 'only while soft delete is on' in result['msg'] and azure.writes == []


def test_a_change_azure_accepts_but_does_not_apply_fails(run_module, azure):
    vault = azure.add(arm_vault('rsv-1', soft_delete='off'))
    azure.ignored.add('rsv-1')   # Azure answers 200 and keeps the old values (azure-rest-api-specs#34530)
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'on'})
    assert result['failed'] is True and 'still reports' in result['msg'] and result['error']['code'] == 'ChangeNotApplied'
    assert [w[0] for w in azure.writes] == ['PATCH vaultconfig']


def test_an_unknown_outcome_is_settled_by_a_read(run_module, azure):
    vault = azure.add(arm_vault('bv-1', BV, soft_delete='off'))
    azure.fail_after[('update soft delete', 'bv-1')] = AzureOperationError('update soft delete', 'bv-1', 500, 'InternalError', 'boom')
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'on'})
    assert not result.get('failed') and result['changed'] is True and len(azure.writes) == 1


def test_a_write_that_failed_after_it_was_applied_reports_changed(run_module, azure):
    vault = azure.add(arm_vault('bv-1', BV, soft_delete='off'))
    azure.fail_after[('update soft delete', 'bv-1')] = AzureOperationError('update soft delete', 'bv-1', None, 'UntrustedEndpoint',
                                                                           'status link refused')
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'on', 'retention_days': 30})
    assert result['failed'] is True and result['changed'] is True
    assert {c['setting'] for c in result['changes']} == {'soft_delete', 'soft_delete_retention_days'}


def test_an_accepted_write_whose_vault_cannot_be_read_back_is_an_unknown_outcome_never_unchanged(run_module, azure, monkeypatch):
    """Issue 25: Azure accepts the write, then every read of the vault is truncated: the task fails with changed true and
    outcome unknown (it did send a write), never changed false."""
    vault = azure.add(arm_vault('bv-1', BV, soft_delete='off'))
    backend_class = _vaults.BACKENDS['backup']
    original = backend_class.get
    state = {'written': False}

    def get(self, ref):
        if state['written']:
            raise AzureOperationError('read vault', ref.label, 200, 'InvalidResponseBody', 'Azure answered HTTP 200 with a truncated body')
        return original(self, ref)

    original_patch = backend_class.patch

    def patch(self, ref, body, operation, **kwargs):
        result = original_patch(self, ref, body, operation, **kwargs)
        state['written'] = True
        return result

    monkeypatch.setattr(backend_class, 'get', get)
    monkeypatch.setattr(backend_class, 'patch', patch)
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'on'})
    assert result['failed'] is True and result['changed'] is True and result['outcome'] == 'unknown'
    assert [c['after'] for c in result['changes']] == ['on']
    assert len(azure.writes) == 1


def test_days_given_as_a_boolean_are_refused_as_written(run_module, azure):
    """retention_days: true passes Ansible's int check (Python counts true as 1) and was refused with 'got True'."""
    vault = azure.add(arm_vault('rsv-1', soft_delete='on'))
    result = run_module(vault_soft_delete, {'id': vault['id'], 'retention_days': True})
    assert result['failed'] is True and 'between 14 and 180; got true, a boolean (an unquoted yes' in result['msg'], result['msg']
    assert azure.writes == []
