# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup_policy_retention_info in process (conftest.py): one vault or several, selected policies, errors."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.modules import backup_policy_retention_info

from tests.unit.builders import BV, RG, RS, arm_vault, dp_policy, iaas, lifecycle, vault_id


def vaults(azure):
    rsv = azure.add(arm_vault('rsv-1'), [iaas('vm', daily=(30, 'Days'), weekly=(12, 'Weeks'))])
    bv = azure.add(arm_vault('bv-1', BV), [dp_policy('disks', {'Default': [lifecycle('OperationalStore', 'P7D')]})])
    return rsv, bv


def test_one_vault_normalised(run_module, azure):
    rsv, _bv = vaults(azure)
    result = run_module(backup_policy_retention_info, {'name': 'rsv-1', 'resource_group': RG, 'vault_type': RS})
    (policy,) = result['policies']
    assert policy['vault'] == rsv['id'] and [(t['tier'], t['duration']) for t in policy['tiers']][:2] == [('daily', 'P30D'), ('weekly', 'P12W')]
    assert result['changed'] is False and result['errors'] == []


def test_several_vaults_and_a_missing_policy_is_an_error_entry(run_module, azure):
    rsv, bv = vaults(azure)
    result = run_module(backup_policy_retention_info, {'vaults': [rsv['id'], bv['id']], 'policies': ['VM']})
    assert [p['name'] for p in result['policies']] == ['vm']
    assert [e['code'] for e in result['errors']] == ['PolicyNotFound'] and "'bv-1'" in result['errors'][0]['message']


def test_one_vault_missing_a_policy_fails(run_module, azure):
    rsv, _bv = vaults(azure)
    result = run_module(backup_policy_retention_info, {'id': rsv['id'], 'policies': ['nope']})
    assert result['failed'] is True and "no backup policy named 'nope'" in result['msg']


def test_several_vaults_one_unreadable(run_module, azure):
    rsv, _bv = vaults(azure)
    result = run_module(backup_policy_retention_info, {'vaults': [rsv['id'], vault_id('rsv-gone')]})
    assert [p['name'] for p in result['policies']] == ['vm']
    assert result['errors'][0]['status'] == 404 and any('rsv-gone' in w for w in result['warnings'])


def test_no_vault_named_is_refused(run_module, azure):
    result = run_module(backup_policy_retention_info, {})
    assert result['failed'] is True and 'identify the vaults' in result['msg']


def test_empty_vaults_or_policies_lists_are_refused_before_any_request(run_module, azure):
    # An empty list never widens the read: policies [] read every policy of the vault, as leaving it out does.
    rsv, _bv = vaults(azure)
    result = run_module(backup_policy_retention_info, {'id': rsv['id'] + '-missing', 'policies': []})
    assert result['failed'] is True and 'policies is empty' in result['msg'] and 'every policy of each vault' in result['msg']
    result = run_module(backup_policy_retention_info, {'vaults': []})
    assert result['failed'] is True and 'vaults is empty' in result['msg'] and 'nothing was sent to Azure' in result['msg']
    result = run_module(backup_policy_retention_info, {'vaults': [rsv['id'] + '-missing'], 'policies': ['vm', ' ']})
    assert result['failed'] is True and "policies[1] is ' ': each entry names one backup policy" in result['msg']
