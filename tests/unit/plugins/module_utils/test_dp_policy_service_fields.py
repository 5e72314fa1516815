# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Backup vault policy as Azure keeps it after creating it: the fields the service adds (each tag's ``tagInfo.id``,
BackupPolicies_CreateOrUpdate's example, tests/fixtures/azure-reference/SOURCE.md) are in what the collection reads, and
it reads the policy's tiers as before. The policy is created through azure-mgmt-dataprotection from the example's request
(which sends no id) and read back through the collection's own discovery (attach_policies)."""

from __future__ import annotations

import copy

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import attach_policies
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import check_minimum
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend, vault_record
from tests.fixtures import load_reference
from tests.unit.builders import SUB, emulator_session

EXAMPLE = 'dataprotection/2026-06-01/examples/PolicyCRUD/CreateOrUpdateBackupPolicy.json'
RG, VAULT = 'rg-fields', 'bv-fields'


def _fleet():
    return {'subscriptions': [{'id': SUB, 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
        {'name': VAULT, 'type': 'backup', 'immutability': 'enabled'}]}]}]}


def _tag_infos(props):
    return [criterion['tagInfo'] for rule in props['policyRules'] for criterion in (rule.get('trigger') or {}).get('taggingCriteria') or []]


def test_a_created_policy_carries_the_tag_ids_azure_adds_and_the_collection_reads_it(emulator, monkeypatch):
    example = load_reference(EXAMPLE)
    request = copy.deepcopy(example['parameters']['parameters'])
    assert all('id' not in info for info in _tag_infos(request['properties']))   # the example's request sends none
    session = emulator_session(emulator, monkeypatch, _fleet())
    emulator.dp_client(SUB).backup_policies.create_or_update(RG, VAULT, 'OSSDBPolicy', request)
    vault_id = '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/%s' % (SUB, RG, VAULT)
    stored = emulator.resource(vault_id + '/backupPolicies/OSSDBPolicy')
    answer = example['responses']['200']['body']
    assert _tag_infos(stored['properties']) == _tag_infos(answer['properties']) == [
        {'id': 'Default_', 'tagName': 'Default'}, {'id': 'Weekly_', 'tagName': 'Weekly'}]
    assert stored['properties'] == answer['properties']
    record = vault_record(backend(session, 'backup').get(VaultRef.parse_id(vault_id, 'backup')), 'backup')
    assert attach_policies(session, [record]) == []
    [policy] = record['policies']
    assert policy['name'] == 'OSSDBPolicy' and not policy['unknown'] and policy['unreadable'] == []
    assert [(tier['tier'], tier['datastore'], tier['duration']) for tier in policy['tiers']] == [
        ('default', 'VaultStore', 'P1W'), ('weekly', 'VaultStore', 'P12W')]
    assert [(v['tier'], v['have'], v['fixable']) for v in check_minimum(policy, {'weekly': '26w'})] == [('weekly', 'P12W', False)]
