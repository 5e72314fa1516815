# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vault_immutability_info in process (conftest.py): scopes, filters, per-scope and per-vault errors."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.modules import vault_immutability_info

from tests.unit.builders import BV, RG, RS, SUB, arm_vault, iaas


def fleet(azure):
    azure.add(arm_vault('rsv-prod', immutability='enabled', tags={'env': 'prod'}), [iaas('vm', daily=(30, 'Days'))])
    azure.add(arm_vault('rsv-test', tags={'Env': 'test'}))
    azure.add(arm_vault('bv-prod', BV, rg='rg-other', tags={'env': 'prod'}))


def test_a_subscription_both_kinds_sorted_by_id(run_module, azure):
    fleet(azure)
    result = run_module(vault_immutability_info, {})
    assert [v['name'] for v in result['vaults']] == ['rsv-prod', 'rsv-test', 'bv-prod']
    assert result['subscriptions'] == [SUB] and result['errors'] == [] and result['changed'] is False


def test_filters_name_glob_tags_resource_group_and_kinds(run_module, azure):
    fleet(azure)
    assert [v['name'] for v in run_module(vault_immutability_info, {'name': 'RSV-*'})['vaults']] == ['rsv-prod', 'rsv-test']
    assert [v['name'] for v in run_module(vault_immutability_info, {'tags': {'ENV': 'prod'}})['vaults']] == ['rsv-prod', 'bv-prod']
    assert [v['name'] for v in run_module(vault_immutability_info, {'resource_group': 'rg-other'})['vaults']] == ['bv-prod']
    assert [v['name'] for v in run_module(vault_immutability_info, {'vault_types': ['backup']})['vaults']] == ['bv-prod']


def test_one_vault_by_name_with_its_policies(run_module, azure):
    fleet(azure)
    result = run_module(vault_immutability_info, {'name': 'rsv-prod', 'resource_group': RG, 'vault_type': RS, 'include_policies': True})
    (vault,) = result['vaults']
    assert vault['immutability'] == 'enabled' and [p['name'] for p in vault['policies']] == ['vm']
    assert vault['policies'][0]['vault'] == vault['id']


def test_a_scope_that_fails_is_an_error_and_hides_nothing_else(run_module, azure):
    fleet(azure)
    azure.unreadable_scopes[(SUB, BV)] = AzureOperationError('list Backup vaults', None, 403, 'AuthorizationFailed', 'no access')
    result = run_module(vault_immutability_info, {})
    assert [v['name'] for v in result['vaults']] == ['rsv-prod', 'rsv-test']
    assert result['errors'] == [{'scope': 'subscription %s (Backup vaults)' % SUB, 'operation': 'list Backup vaults', 'status': 403,
                                 'code': 'AuthorizationFailed', 'message': 'no access', 'vault_type': BV}]
    assert any('could not read' in w for w in result['warnings'])


def test_every_scope_failing_fails_the_task(run_module, azure):
    for kind in (RS, BV):
        azure.unreadable_scopes[(SUB, kind)] = AzureOperationError('list', None, 403, 'AuthorizationFailed', 'no access')
    result = run_module(vault_immutability_info, {})
    assert result['failed'] is True and 'AuthorizationFailed' in result['msg']


def test_an_unreadable_vault_is_an_error_of_its_own(run_module, azure):
    fleet(azure)
    odd = arm_vault('rsv-odd')
    odd['properties']['securitySettings']['immutabilitySettings'] = {'state': 'Frozen'}
    azure.add(odd)
    result = run_module(vault_immutability_info, {})
    assert 'rsv-odd' not in [v['name'] for v in result['vaults']] and len(result['vaults']) == 3
    (error,) = result['errors']
    assert error['code'] == 'UnreadableVault' and error['vault']['name'] == 'rsv-odd'


def test_vault_type_alone_is_refused(run_module, azure):
    result = run_module(vault_immutability_info, {'vault_type': RS})
    assert result['failed'] is True and 'use vault_types to filter' in result['msg']


def test_include_items_adds_each_vault_s_protected_items_with_their_policy(run_module, azure):
    fleet(azure)
    azure.protect(azure.vault(arm_vault('rsv-prod')['id']), 'vm', 'vm-app-01')
    result = run_module(vault_immutability_info, {'include_items': True, 'vault_types': [RS]})
    items = {v['name']: v['protected_items'] for v in result['vaults']}
    assert items['rsv-test'] == []
    (item,) = items['rsv-prod']
    assert (item['friendly_name'], item['policy'], item['datasource_type'], item['vault_type']) == ('vm-app-01', 'vm', 'VM', RS)
    assert item['vault'] == arm_vault('rsv-prod')['id'] and item['protection_state'] == 'Protected'
    assert 'protected_items' not in run_module(vault_immutability_info, {})['vaults'][0]
