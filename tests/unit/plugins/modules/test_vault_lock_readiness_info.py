# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vault_lock_readiness_info in process (conftest.py): scopes, requirements, items read per vault, errors, no writes."""

from __future__ import annotations

import datetime

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._readiness import add_duration
from ansible_collections.vaultlock.azure.plugins.modules import vault_lock_readiness_info

from tests.unit.builders import BV, RG, RS, SUB, arm_vault, dp_policy, iaas, lifecycle


def fleet(azure):
    rsv = azure.add(arm_vault('rsv-prod', immutability='enabled', soft_delete='on', tags={'env': 'prod'}, mua=True),
                    [iaas('VMDaily', instant=2, daily=(30, 'Days'), yearly=(10, 'Years')), iaas('VMShort', daily=(7, 'Days'))])
    azure.protect(rsv, 'VMDaily', 'vm-app-01')
    azure.protect(rsv, 'VMShort', 'vm-app-02')
    azure.protect(rsv, 'VMShort', 'db-host', 'SQLDataBase')
    bv = azure.add(arm_vault('bv-prod', BV, soft_delete='off', rg='rg-other', tags={'env': 'prod'}),
                   [dp_policy('DiskOps', {'Default': [lifecycle('OperationalStore', 'P7D')]})])
    azure.protect(bv, 'DiskOps', 'disk-01', 'Microsoft.Compute/disks')
    azure.add(arm_vault('rsv-empty', soft_delete='always_on'))


def by_name(result):
    return {vault['name']: vault for vault in result['vaults']}


def test_every_vault_of_the_subscription_with_its_items_and_commitments(run_module, azure):
    fleet(azure)
    result = run_module(vault_lock_readiness_info, {}, check_mode=True)
    assert result['changed'] is False and result['errors'] == [] and result['subscriptions'] == [SUB]
    assert azure.writes == []
    vaults = by_name(result)
    assert list(vaults) == ['rsv-empty', 'rsv-prod', 'bv-prod']
    today = datetime.date.fromisoformat(vaults['rsv-prod']['as_of'])
    rsv = vaults['rsv-prod']
    assert rsv['ready'] is True and rsv['vault_type'] == RS
    assert rsv['protected_items']['count'] == 3
    assert rsv['protected_items']['by_datasource_type'] == {'SQLDataBase': 1, 'VM': 2}
    assert {(i['friendly_name'], i['policy']) for i in rsv['protected_items']['items']} == {
        ('vm-app-01', 'VMDaily'), ('vm-app-02', 'VMShort'), ('db-host', 'VMShort')}
    assert rsv['held_until'] == add_duration(today, 'P10Y').isoformat()
    assert rsv['held_by'] == {'policy': 'VMDaily', 'tier': 'yearly', 'datastore': None, 'duration': 'P10Y'}
    assert 'stop protection with delete data impossible for 3 items until %s' % rsv['held_until'] in rsv['commitments']
    assert 'retention of policies VMDaily and VMShort can never be reduced' in rsv['commitments']
    # The module has no baseline, so it says which requirement it could not evaluate.
    assert rsv['not_evaluated'][0]['requirement'] == 'no_unfixable_findings'
    # Soft delete is off (the default requirement is on); the disk is backed up to the operational store only.
    bv = vaults['bv-prod']
    assert bv['ready'] is False and [b['requirement'] for b in bv['blockers']] == ['require_soft_delete']
    assert bv['held_until'] is None and bv['policies'][0]['tiers'][0]['protected_by_immutability'] is False
    assert vaults['rsv-empty']['ready'] is True and vaults['rsv-empty']['protected_items']['count'] == 0
    assert result['summary'] == {'vaults': 3, 'ready': 2, 'not_ready': 1}
    assert result['requirements'] == {'max_retention': None, 'require_soft_delete': 'on', 'require_mua': False, 'no_unfixable_findings': True}


def test_requirements_each_blocker_with_the_value_found(run_module, azure):
    fleet(azure)
    result = run_module(vault_lock_readiness_info, {'requirements': {'max_retention': '5y', 'require_soft_delete': 'always_on',
                                                                     'require_mua': True}})
    vaults = by_name(result)
    assert [(b['requirement'], b['want'], b['found']) for b in vaults['rsv-prod']['blockers']] == [
        ('max_retention', 'P5Y', 'P10Y'), ('require_soft_delete', 'always_on', 'on')]
    assert [(b['requirement'], b['found']) for b in vaults['bv-prod']['blockers']] == [('require_soft_delete', 'off'), ('require_mua', False)]
    assert [(b['requirement'], b['found']) for b in vaults['rsv-empty']['blockers']] == [('require_mua', False)]
    assert result['summary'] == {'vaults': 3, 'ready': 0, 'not_ready': 3}


def test_one_vault_by_name_and_the_scope_filters(run_module, azure):
    fleet(azure)
    one = run_module(vault_lock_readiness_info, {'name': 'rsv-prod', 'resource_group': RG, 'vault_type': RS})
    assert [v['name'] for v in one['vaults']] == ['rsv-prod']
    assert [v['name'] for v in run_module(vault_lock_readiness_info, {'resource_group': 'rg-other'})['vaults']] == ['bv-prod']
    assert [v['name'] for v in run_module(vault_lock_readiness_info, {'tags': {'env': 'prod'}, 'vault_types': [RS]})['vaults']] == ['rsv-prod']
    assert [v['name'] for v in run_module(vault_lock_readiness_info, {'name': 'RSV-*'})['vaults']] == ['rsv-empty', 'rsv-prod']


def test_bad_requirements_fail_before_any_request(run_module, azure):
    fleet(azure)
    for requirements, words in (({'max_retention': 'forever'}, "requirements.max_retention: invalid duration 'forever'"),
                                ({'require_soft_delete': 'off'}, 'require_soft_delete must be on, always_on or null')):
        result = run_module(vault_lock_readiness_info, {'requirements': requirements})
        assert result['failed'] is True and words in result['msg']
    result = run_module(vault_lock_readiness_info, {'requirements': {'max_age': '1y'}})
    assert result['failed'] is True and 'max_age' in result['msg']


def test_items_that_cannot_be_read_are_an_error_and_a_blocker_and_hide_no_other_vault(run_module, azure):
    fleet(azure)
    azure.unreadable_items['rsv-prod'] = AzureOperationError('list protected items', "Recovery Services vault 'rsv-prod'", 403,
                                                             'AuthorizationFailed', 'no access')
    # A list ARM refuses for one vault (through Resource Graph a principal sees a vault's items or not at all).
    result = run_module(vault_lock_readiness_info, {'discovery': 'arm'})
    assert [(e['scope'], e['code']) for e in result['errors']] == [
        ("Recovery Services vault 'rsv-prod' (resource group '%s', subscription %s)" % (RG, SUB), 'AuthorizationFailed')]
    assert any('could not read' in w for w in result['warnings'])
    vaults = by_name(result)
    assert vaults['rsv-prod']['ready'] is False
    assert vaults['rsv-prod']['blockers'][0] == {'requirement': 'readable', 'want': 'protected items and policies read',
                                                 'found': 'not read', 'message': "the vault's protected items could not be read"}
    assert vaults['rsv-empty']['ready'] is True


def test_yaml_on_is_read_as_on(run_module, azure):
    fleet(azure)
    result = run_module(vault_lock_readiness_info, {'requirements': {'require_soft_delete': True}})
    assert result['requirements']['require_soft_delete'] == 'on'
    result = run_module(vault_lock_readiness_info, {'requirements': {'require_soft_delete': None}})
    assert result['requirements']['require_soft_delete'] is None and by_name(result)['bv-prod']['ready'] is True


def test_resource_graph_and_arm_give_the_same_readiness(run_module, azure):
    fleet(azure)
    through_graph = run_module(vault_lock_readiness_info, {})
    assert through_graph['discovery']['source_by_subscription'] == {SUB: 'resource_graph'}
    queries = len(azure.graph_queries)
    assert queries == 2    # the vaults with their policies, then the items
    through_arm = run_module(vault_lock_readiness_info, {'discovery': 'arm'})
    assert len(azure.graph_queries) == queries and through_arm['discovery']['source_by_subscription'] == {SUB: 'arm'}
    assert through_graph['vaults'] == through_arm['vaults'] and through_graph['summary'] == through_arm['summary']
