# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""More real Azure answers, served verbatim by the emulator (raw_body faults) and read through the collection's own
pipeline (azure-mgmt-core's ARM pipeline for reads, the service SDKs' long-running-operation pollers for writes, the
Resource Graph client), then judged as a run would judge them.

Every body, header and sequence comes from a recording of Microsoft's own clients; tests/fixtures/azure-real/<folder>/
SOURCE.txt names the repository, the file and the commit each was read from:

- cli-rs-encryption: azure-cli test_backup_encryption (api 2021-03-01): a vault created without security settings, a
  vault with a customer-managed key, identity "SystemAssigned, UserAssigned" and infrastructure encryption, a PATCH
  answered 202 with no body, then operation status answers pretty-printed with percentComplete;
- cli-rs-csr: azure-cli test_backup_csr: a vault whose public network access sits under networkSettings (api 2021-03-01);
- cliext-dp-cmk, cliext-dp-mua-vault: the dataprotection extension: Backup vaults with a customer-managed key, with soft
  delete Off, create and update answers that say Provisioning or Updating (the update's answer still shows the old key),
  operation status answers "Inprogress" (that spelling) with endTime 0001-01-01T00:00:00Z;
- cliext-dp-graph: Resource Graph answers (a Backup vault row whose soft delete is Off with 0.0 days, a backup instance
  row with the extension's projected columns, resultTruncated as the string "false", the quota headers);
- ps-rs-vaultcrud: Azure PowerShell's 404 ResourceGroupNotFound (x-ms-failure-cause: gateway).

The one change made to what is served: the operation URLs of recorded headers name management.azure.com, and are
pointed at the emulator (the collection calls only the ARM endpoint in use, by design).
"""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.resource_graph import (
    QuotaPacer,
    ResourceGraph,
    attach_item_rows,
    in_scope,
    read_vault_rows,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._drift import validate_baseline, vault_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import soft_delete as soft_delete_rule
from ansible_collections.vaultlock.azure.plugins.module_utils._soft_delete import settings_of
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultBusyError, VaultRef, backend, vault_record
from tests.fixtures import load_real
from tests.unit.builders import SUB, emulator_session
from tests.unit.plugins.module_utils.test_real_shapes import _path

RS = 'recovery_services'
DP = 'backup'
RECORDED_SUB = '00000000-0000-0000-0000-000000000000'


def fleet():
    return {'subscriptions': [
        {'id': SUB, 'resource_groups': [{'name': 'rg-t', 'location': 'westeurope', 'vaults': [
            {'name': 'bv-a', 'type': 'backup', 'immutability': 'disabled'}]}]},
        {'id': RECORDED_SUB, 'resource_groups': [{'name': 'clitest.rg000001', 'location': 'westus', 'vaults': [
            {'name': 'clitest-vault000003', 'type': 'recovery_services', 'immutability': 'disabled'}]}]}]}


@pytest.fixture
def session(emulator, monkeypatch):
    return emulator_session(emulator, monkeypatch, fleet())


def serve_and_read(emulator, session, body, kind):
    emulator.fault(method='GET', path_regex=_path(body), status=200, raw_body=json.dumps(body, separators=(',', ':')))
    return backend(session, kind).read_existing(VaultRef.parse_id(body['id'], kind))[1]


BASELINE = {'immutability': 'enabled', 'soft_delete': {'state': 'on'}, 'customer_managed_keys': 'required',
            'infrastructure_encryption': 'required', 'public_network_access': 'disabled'}

# (case, recorded body, kind) -> the record's fields as read, and the findings against BASELINE as
# {setting: (have, fixable)}.
VAULTS = [
    ('rs created at 2021-03-01 without security settings', 'cli-rs-encryption/put-create-2021-03-01.response.json', RS,
     {'immutability': 'disabled', 'soft_delete': {'enforced_by_azure': False, 'retention_days': None, 'state': None},
      'customer_managed_keys': {'enabled': False, 'key_uri': None}, 'infrastructure_encryption': None,
      'public_network_access': None, 'provisioning_state': 'Succeeded'},
     {'immutability': ('disabled', True), 'soft_delete': (None, False), 'customer_managed_keys': ('disabled', False),
      'infrastructure_encryption': (None, False), 'public_network_access': (None, True)}),
    ('rs customer-managed key, identity "SystemAssigned, UserAssigned"', 'cli-rs-encryption/get-cmk-system-and-user-identity.json', RS,
     {'customer_managed_keys': {'enabled': True,
                                'key_uri': 'https://clitest000004.vault.azure.net/keys/clitest-key2000006/68818945377f4c7fb1cf709299b45196'},
      'infrastructure_encryption': 'enabled', 'soft_delete': {'enforced_by_azure': False, 'retention_days': None, 'state': None}},
     {'immutability': ('disabled', True), 'soft_delete': (None, False), 'public_network_access': (None, True)}),
    ('rs public network access under networkSettings (2021-03-01)', 'cli-rs-csr/put-create-network-settings.response.json', RS,
     {'public_network_access': None},
     {'immutability': ('disabled', True), 'soft_delete': (None, False), 'customer_managed_keys': ('disabled', False),
      'infrastructure_encryption': (None, False), 'public_network_access': (None, True)}),
    ('dp customer-managed key, user-assigned identity', 'cliext-dp-cmk/get-cmk-key1.json', DP,
     {'customer_managed_keys': {'enabled': True,
                                'key_uri': 'https://cmk-cli-test-keyvault.vault.azure.net/keys/cmk-cli-key1/24efffaddbe84838a1c39b6135edbdf5'},
      'infrastructure_encryption': 'enabled', 'storage_redundancy': 'GeoRedundant', 'immutability': 'disabled',
      'soft_delete': {'enforced_by_azure': False, 'retention_days': 14, 'state': 'on'}},
     {'immutability': ('disabled', True)}),
    ('dp after the key change', 'cliext-dp-cmk/get-cmk-key2.json', DP,
     {'customer_managed_keys': {'enabled': True,
                                'key_uri': 'https://cmk-cli-test-keyvault.vault.azure.net/keys/cmk-cli-key2/864fe3c0fcf14d75bd7d576a148ba51c'}},
     {'immutability': ('disabled', True)}),
    ('dp soft delete Off with 14.0 days', 'cliext-dp-mua-vault/get-softdelete-off.json', DP,
     {'soft_delete': {'enforced_by_azure': False, 'retention_days': 14, 'state': 'off'}, 'storage_redundancy': 'LocallyRedundant',
      'mua': {'protected': False, 'protected_operations': [], 'resource_guard_id': None}},
     {'immutability': ('disabled', True), 'soft_delete': ('off', True), 'customer_managed_keys': ('disabled', False),
      'infrastructure_encryption': (None, False)}),
]


def _findings(entry):
    return {f['setting']: (f['have'], f['fixable']) for f in entry['findings']}


@pytest.mark.parametrize('case, path, kind, fields, findings', VAULTS, ids=[v[0] for v in VAULTS])
def test_recorded_vaults_are_read_and_judged_as_azure_means_them(emulator, session, case, path, kind, fields, findings):
    record = serve_and_read(emulator, session, load_real(path), kind)
    assert {key: record[key] for key in fields} == fields
    entry = vault_drift(record, validate_baseline(BASELINE))
    assert _findings(entry) == findings, entry['findings']
    # No soft delete write is planned for a vault that reports no soft delete state (the days it keeps are unknown);
    # public network access not reported is set to the baseline's value (a write that needs no current value).
    if findings.get('soft_delete', ('', True))[0] is None:
        assert not [c for c in entry['changes'] if c['setting'].startswith('soft_delete')]


@pytest.mark.parametrize('path', ['cliext-dp-cmk/put-create.response.json', 'cliext-dp-cmk/put-update.response.json',
                                  'cliext-dp-mua-vault/put-create-softdelete-off.response.json'],
                         ids=['create Provisioning', 'update Updating (old key)', 'create Provisioning, soft delete Off'])
def test_a_vault_that_reads_as_a_recorded_write_answer_is_not_written_to(emulator, session, path):
    """The answers of a create and an update say Provisioning / Updating (the update's still shows the key it replaces):
    read back as the vault, they are an operation still running, and nothing may be sent."""
    body = load_real(path)
    emulator.fault(method='GET', path_regex=_path(body), status=200, raw_body=json.dumps(body, separators=(',', ':')))
    with pytest.raises(VaultBusyError) as err:
        backend(session, DP).read_settled(VaultRef.parse_id(body['id'], DP))
    assert body['properties']['provisioningState'] in str(err.value)
    assert emulator.writes() == []


def _here(url, emulator):
    return url.replace('https://management.azure.com', emulator.arm_url.rstrip('/'))


def test_the_recorded_recovery_services_patch_and_its_pretty_printed_status_answers(emulator, session):
    """PATCH 202 with no body, Azure-AsyncOperation and Location; the status answers InProgress then Succeeded as Azure
    writes them (CRLF, two-space indent, percentComplete 0.0); then the vault as recorded."""
    lro = load_real('cli-rs-encryption/patch-lro.json')
    vault = load_real('cli-rs-encryption/get-cmk-system-and-user-identity.json')
    headers = {k: _here(v, emulator) for k, v in lro['patch']['headers'].items() if k != 'content-length'}
    emulator.fault(method='PATCH', path_regex=_path(vault), status=202, raw_body='', headers=headers)
    running = dict(lro['status_inprogress']['headers'])
    running = {k: _here(v, emulator) for k, v in running.items() if k != 'content-type'}
    emulator.fault(method='GET', path_regex='(?i)/operationStatus/', status=200, raw_body=lro['status_inprogress']['raw_body'],
                   headers=dict(running, **{'Retry-After': '0'}))
    emulator.fault(method='GET', path_regex='(?i)/operationStatus/', status=200, raw_body=lro['status_succeeded']['raw_body'])
    emulator.fault(method='GET', path_regex=_path(vault), status=200, raw_body=json.dumps(vault, separators=(',', ':')), times=5)
    ref = VaultRef.parse_id(vault['id'], RS)
    backend(session, RS).patch(ref, {'properties': {'securitySettings': {'immutabilitySettings': {'state': 'Unlocked'}}}},
                               'set immutability')
    polled = [e for e in emulator.journal() if e['method'] == 'GET' and 'operationstatus' in e['path'].lower()]
    assert len(polled) == 2
    raw, record = backend(session, RS).read_settled(ref)
    assert raw['name'] == 'clitest-vault000003' and record['customer_managed_keys']['enabled'] is True


@pytest.mark.parametrize('running', ['cliext-dp-mua-vault/operation-status-inprogress.json',
                                     'cliext-dp-cmk/operation-status-delete-inprogress.json'])
def test_a_backup_vault_write_waits_through_the_recorded_inprogress_status(emulator, session, running):
    """"Inprogress" (lower-case p) with endTime 0001-01-01T00:00:00Z is a running operation, then the recorded Succeeded
    ends it: the write returns once, after both status answers were read."""
    ref = VaultRef(SUB, 'rg-t', 'bv-a', DP)
    emulator.fault(method='GET', path_regex='(?i)/operationStatus/', status=200,
                   raw_body=json.dumps(load_real(running), separators=(',', ':')), headers={'Retry-After': '0'})
    emulator.fault(method='GET', path_regex='(?i)/operationStatus/', status=200,
                   raw_body=json.dumps(load_real('cliext-dp-mua-vault/operation-status-succeeded.json'), separators=(',', ':')))
    backend(session, DP).patch(ref, {'properties': {'securitySettings': {'immutabilitySettings': {'state': 'Unlocked'}}}},
                               'set immutability')
    polled = [e for e in emulator.journal() if e['method'] == 'GET' and 'operationstatus' in e['path'].lower()]
    assert len(polled) >= 2
    assert backend(session, DP).read_settled(ref)[1]['immutability'] == 'enabled'


def _graph(emulator, session, path):
    recorded = load_real(path)
    emulator.fault(method='POST', path_regex='(?i)/providers/Microsoft.ResourceGraph/resources$', status=200,
                   raw_body=json.dumps(recorded, separators=(',', ':')),
                   headers={'x-ms-user-quota-remaining': '14', 'x-ms-user-quota-resets-after': '00:00:05',
                            'x-ms-ratelimit-remaining-tenant-resource-requests': '14'})
    graph = ResourceGraph(session, pacer=QuotaPacer())
    return graph, graph.query('resources | where type =~ "microsoft.dataprotection/backupvaults"', [RECORDED_SUB])


def test_the_recorded_resource_graph_vault_row_with_soft_delete_off_and_zero_days(emulator, session):
    """resultTruncated is the string "false" (not a truncated answer); the row's soft delete is Off with 0.0 days."""
    graph, rows = _graph(emulator, session, 'cliext-dp-graph/graph-backup-vault.response.json')
    assert len(rows) == 1 and graph.calls == 1
    records, errors = read_vault_rows(rows)
    assert errors == [] and len(records) == 1
    record = records[0]
    assert record['soft_delete'] == {'enforced_by_azure': False, 'retention_days': 0, 'state': 'off'}
    assert (record['immutability'], record['storage_redundancy'], record['name']) == (
        'disabled', 'LocallyRedundant', 'clitest-bkp-vault-persistent-bi-donotdelete')
    # The recorder scrubbed the id's subscription but not the subscriptionId column: such a row is never planned.
    dropped = []
    assert in_scope(rows, [RECORDED_SUB], dropped) == [] and 'subscription' in dropped[0]['reason']


def test_turning_on_soft_delete_of_a_vault_that_reports_zero_days_writes_azures_default_not_zero(emulator, session):
    """Azure keeps 14..180 days while soft delete is on; a vault whose Off state says 0.0 days (recorded row) turned on
    without retention_days must get 14 (Azure's default and least), never 0, which Azure refuses."""
    _graph_client, rows = _graph(emulator, session, 'cliext-dp-graph/graph-backup-vault.response.json')
    record = read_vault_rows(rows)[0][0]
    changes, target = soft_delete_rule.plan(DP, settings_of(record), 'on', vault_name=record['name'])
    assert target['state'] == 'on' and target['retention_days'] == 14
    assert {c['setting']: (c['before'], c['after']) for c in changes} == {'soft_delete': ('off', 'on'), 'soft_delete_retention_days': (0, 14)}
    body = soft_delete_rule.vault_patch(DP, target)
    assert body['properties']['securitySettings']['softDeleteSettings']['retentionDurationInDays'] == 14
    # Check mode says the same: the drift entry's changes are the plan's.
    entry = vault_drift(record, validate_baseline({'soft_delete': {'state': 'on'}}))
    assert [(c['setting'], c['before'], c['after']) for c in entry['changes']] == [
        ('soft_delete', 'off', 'on'), ('soft_delete_retention_days', 0, 14)]


def test_the_recorded_resource_graph_backup_instance_row_attaches_to_its_vault(emulator, session):
    _graph_client, rows = _graph(emulator, session, 'cliext-dp-graph/graph-backup-instance.response.json')
    vault_id = ('/subscriptions/%s/resourceGroups/clitest-dpp-rg/providers/Microsoft.DataProtection/backupVaults/'
                'clitest-bkp-vault-crr-donotdelete' % RECORDED_SUB)
    record = vault_record({'id': vault_id, 'name': 'clitest-bkp-vault-crr-donotdelete', 'type': 'Microsoft.DataProtection/backupVaults',
                           'location': 'eastus2euap', 'properties': {}}, DP)
    attach_item_rows([record], rows)
    assert not record.get('protected_items_error')
    assert [i['policy'] for i in record['protected_items']] == ['crrclitestbackuppolicy']


def test_the_recorded_resource_group_not_found_answer_is_a_clear_error(emulator, session):
    recorded = load_real('ps-rs-vaultcrud/get-resource-group-not-found.json')
    emulator.fault(method='GET', path_regex='(?i)/resourceGroups/PSTestRGe1c78ca2/providers/Microsoft.RecoveryServices/vaults$',
                   status=recorded['status'], raw_body=recorded['raw_body'], headers=recorded['headers'])
    with pytest.raises(AzureOperationError) as err:
        backend(session, RS).list(SUB, 'PSTestRGe1c78ca2')
    assert (err.value.status, err.value.code) == (404, 'ResourceGroupNotFound')
    assert "Resource group 'PSTestRGe1c78ca2' could not be found." in str(err.value)
    assert re.search('PSTestRGe1c78ca2', err.value.resource or '')
