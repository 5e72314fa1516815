# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure.backup_policy_retention_info through ansible-playbook, the real SDKs and the emulator.

The vaults carry the policy examples of tests/fixtures/azure-reference verbatim; the expected tiers are written
by hand from those JSON files.
"""

from __future__ import annotations

import pytest

from tests.integration.batching import Batch
from tests.integration.conftest import PlaybookPart, fresh_fleet, part
from tests.integration.fleets import RG, SUB1, SUB2, vault, vault_id
from tests.integration.retention_fleet import policy_id, retention_fleet, t

MOD = 'vaultlock.azure.backup_policy_retention_info'

# Expected tiers, written by hand from the JSON files (see retention_fleet.RS_SOURCES / DP_SOURCES).
RS_EXPECTED = {
    # ProtectionPolicies_Get (2024-04-01): dailySchedule 1 Days, nothing else.
    'testPolicy1': ('AzureIaasVM', None, 'V1', [t('daily', 'P1D', 1, 'days', 1)]),
    # IaaS_v2_daily: 180 Days, 12 Weeks, 60 Months, 10 Years, instantRpRetentionRangeInDays 30.
    'v2-daily-sample': ('AzureIaasVM', None, 'V2', [
        t('daily', 'P180D', 180, 'days', 180),
        t('weekly', 'P12W', 12, 'weeks', 84),
        t('monthly', 'P60M', 60, 'months', 1825),
        t('yearly', 'P10Y', 10, 'years', 3650),
        t('instant', 'P30D', 30, 'days', 30),
    ]),
    # ProtectionPolicies_CreateOrUpdate_Complex: weekly schedule, 1 Weeks / 2 Months / 4 Years, no daily tier.
    'complexPolicy': ('AzureIaasVM', None, 'V1', [
        t('weekly', 'P1W', 1, 'weeks', 7),
        t('monthly', 'P2M', 2, 'months', 56),
        t('yearly', 'P4Y', 4, 'years', 1460),
    ]),
    # AzureWorkload BackupPolicies_List: SQL, Full daily 30 Days, Log 30 Days.
    'HourlyLogBackup': ('AzureWorkload', 'SQLDataBase', None, [
        t('daily', 'P30D', 30, 'days', 30, sub_policy='Full'),
        t('log', 'P30D', 30, 'days', 30, sub_policy='Log'),
    ]),
    # SAP HANA recording: Full 180 Days / 104 Weeks / 60 Months / 10 Years, Log 15 Days.
    'hana-policy-ccy': ('AzureWorkload', 'SAPHanaDatabase', None, [
        t('daily', 'P180D', 180, 'days', 180, sub_policy='Full'),
        t('weekly', 'P104W', 104, 'weeks', 728, sub_policy='Full'),
        t('monthly', 'P60M', 60, 'months', 1825, sub_policy='Full'),
        t('yearly', 'P10Y', 10, 'years', 3650, sub_policy='Full'),
        t('log', 'P15D', 15, 'days', 15, sub_policy='Log'),
    ]),
    # Azure Files daily: snapshot tier 5 Days / 12 Weeks / 60 Months / 10 Years.
    'dailyPolicy2': ('AzureStorage', None, None, [
        t('daily', 'P5D', 5, 'days', 5, datastore='Snapshot'),
        t('weekly', 'P12W', 12, 'weeks', 84, datastore='Snapshot'),
        t('monthly', 'P60M', 60, 'months', 1825, datastore='Snapshot'),
        t('yearly', 'P10Y', 10, 'years', 3650, datastore='Snapshot'),
    ]),
    # Azure Files hardened (vault-standard): snapshots 5 days, vault tier 30 Days / 12 Weeks / 60 Months / 10 Years.
    'newPolicyV2': ('AzureStorage', None, None, [
        t('snapshot', 'P5D', 5, 'days', 5, datastore='Snapshot'),
        t('daily', 'P30D', 30, 'days', 30, datastore='VaultStandard'),
        t('weekly', 'P12W', 12, 'weeks', 84, datastore='VaultStandard'),
        t('monthly', 'P60M', 60, 'months', 1825, datastore='VaultStandard'),
        t('yearly', 'P10Y', 10, 'years', 3650, datastore='VaultStandard'),
    ]),
}

DP_EXPECTED = {
    # az CLI disk template: Default rule, OperationalStore P7D.
    'DiskPolicy1': ('Microsoft.Compute/disks', [t('default', 'P7D', 7, 'days', 7, datastore='OperationalStore')]),
    # az CLI blob (vaulted) template: Default rule, VaultStore P7D.
    'BlobPolicy1': ('Microsoft.Storage/storageAccounts/blobServices', [t('default', 'P7D', 7, 'days', 7, datastore='VaultStore')]),
    # GetBackupPolicy example: Default VaultStore P1W, Weekly (tagged) VaultStore P12W.
    'OSSDBPolicy': ('OssDB', [
        t('default', 'P1W', 1, 'weeks', 7, datastore='VaultStore'),
        t('weekly', 'P12W', 12, 'weeks', 84, datastore='VaultStore'),
    ]),
}


def key(tier):
    return (tier['tier'], tier['sub_policy'] or '', tier['datastore'] or '')


def same_tiers(got, want):
    return sorted(got, key=key) == sorted(want, key=key)


@pytest.fixture(autouse=True)
def fleet(emulator):
    emulator.load_fleet(retention_fleet())
    emulator.clear_journal()


def task(**args):
    return {'name': 'retention info', MOD: args}


def by_name(name, kind='recovery_services', **args):
    return task(name=name, resource_group=RG, vault_type=kind, **args)


def test_reader_identity_can_read(runner, emulator):
    ep = emulator.endpoint
    env = {'AZURE_CLIENT_ID': ep['readonly_client_id'], 'AZURE_SECRET': ep['readonly_client_secret'],
           'AZURE_CLIENT_SECRET': ep['readonly_client_secret']}
    run = runner.play([by_name('bv-immutable', 'backup', policies=['OSSDBPolicy'])], extra_env=env)
    assert run.rc == 0, run.output
    assert same_tiers(run['r0']['policies'][0]['tiers'], DP_EXPECTED['OSSDBPolicy'][1])
    assert SUB1 in run['r0']['policies'][0]['id']


def odd_fleet():
    """retention_fleet plus rsv-odd, whose policies are of kinds and retentions the module does not know."""
    doc = retention_fleet()
    odd = [
        {'name': 'generic', 'properties': {'backupManagementType': 'GenericProtectionPolicy', 'fabricName': 'Azure',
                                           'subProtectionPolicy': [], 'timeZone': 'UTC'}},
        {'name': 'future', 'properties': {'backupManagementType': 'AzureFutureWorkload',
                                          'retentionPolicy': {'retentionPolicyType': 'SimpleRetentionPolicy',
                                                              'retentionDuration': {'count': 7, 'durationType': 'Days'}}}},
        {'name': 'odd-retention', 'properties': {'backupManagementType': 'AzureIaasVM',
                                                 'retentionPolicy': {'retentionPolicyType': 'FutureRetentionPolicy'}}},
    ]
    doc['subscriptions'][0]['resource_groups'][0]['vaults'].append(vault('rsv-odd', 'recovery_services', 'enabled', policies=odd))
    return doc


ODD_TASKS = [
    by_name('rsv-odd'),
    {'name': 'check', 'vaultlock.azure.backup_policy_retention': {
        'name': 'rsv-odd', 'resource_group': RG, 'vault_type': 'recovery_services', 'minimum': {'daily': '30d'}, 'mode': 'enforce'}},
]


def test_unknown_policy_kinds_are_reported_not_fatal(shared):
    # A part of the shared run, on odd_fleet loaded in the run after the shared tasks.
    run = PlaybookPart(shared, 'odd')
    assert run.rc == 0, run.output
    records = {r['name']: r for r in run['r0']['policies']}
    assert records['generic']['unknown'] is True and records['generic']['tiers'] == []
    assert records['future']['unknown'] is True and records['future']['workload'] == 'AzureFutureWorkload'
    assert records['odd-retention']['unknown'] is False and records['odd-retention']['tiers'] == []
    assert records['odd-retention']['unreadable'] == [{'tier': None, 'sub_policy': None, 'datastore': None, 'value': 'FutureRetentionPolicy'}]
    check = run['r1']
    assert check['changed'] is False
    assert {(v['policy'], v['tier'], v['fixable']) for v in check['violations']} == {
        ('generic', 'daily', False), ('future', 'daily', False), ('odd-retention', 'daily', False)}
    assert run.writes('r0') + run.writes('r1') == []


# One playbook for the tests below and the unknown kinds test (the ``shared`` fixture, batching.Batch): each test asserts
# on its own tasks, registered by name, with the requests each sent (``run.writes(name)``). None of them writes. The
# reader identity keeps its run (the credentials are the run's environment).
def named(name, entry):
    return dict(entry, register=name)


def shared_tasks():
    several = [vault_id('rsv-locked'), vault_id('bv-open', 'backup'), vault_id('rsv-two', sub=SUB2, rg='rg-two'), vault_id('rsv-empty')]
    past_missing = [vault_id('rsv-gone'), vault_id('rsv-open'), vault_id('bv-open', 'backup')]
    return [named('rs_normalised', dict(by_name('rsv-open'), check_mode=True)),
            named('bv_normalised', task(id=vault_id('bv-locked', 'backup'))),
            named('case_insensitive', by_name('rsv-immutable', policies=['V2-DAILY-SAMPLE', 'newpolicyv2', 'newPolicyV2'])),
            named('several', task(vaults=several)),
            named('past_missing', task(vaults=past_missing, policies=['testPolicy1'])),
            named('error_0', by_name('rsv-open', policies=['testPolicy1', 'no-such-policy'])),
            named('error_1', by_name('rsv-gone')),
            named('error_2', task()),
            named('error_3', task(id=vault_id('rsv-open'), vaults=[vault_id('rsv-open')])),
            named('error_4', by_name('rsv-empty')),
            # One vault listed twice, in two spellings of its id (ARM ids are case-insensitive).
            named('twice', task(vaults=[vault_id('rsv-open'), vault_id('rsv-open').upper().replace('/SUBSCRIPTIONS/', '/subscriptions/')]))]


@pytest.fixture(scope='module')
def shared(module_runner):
    fresh_fleet(module_runner, retention_fleet())
    batch = Batch(module_runner).tasks(shared_tasks())
    batch.emulator(reset=True, load_fleet=odd_fleet()).tasks(part('odd', ODD_TASKS))
    return batch.play()


def test_recovery_services_policies_normalised(shared):
    # In check mode (what --check did for the whole run).
    run = shared
    assert run.rc == 0, run.output
    result = run['rs_normalised']
    assert result['changed'] is False
    assert result['errors'] == []
    records = result['policies']
    # Sorted by name, case-insensitive.
    assert [r['name'] for r in records] == ['complexPolicy', 'dailyPolicy2', 'hana-policy-ccy', 'HourlyLogBackup',
                                            'newPolicyV2', 'testPolicy1', 'v2-daily-sample']
    for record in records:
        workload, workload_type, policy_type, tiers = RS_EXPECTED[record['name']]
        assert record['workload'] == workload, record['name']
        assert record['workload_type'] == workload_type, record['name']
        assert record['policy_type'] == policy_type, record['name']
        assert same_tiers(record['tiers'], tiers), (record['name'], record['tiers'])
        assert record['unknown'] is False and record['unreadable'] == []
        assert record['protected_items'] == 0
        assert record['vault_type'] == 'recovery_services'
        assert record['vault'] == vault_id('rsv-open')
        assert record['id'].lower() == policy_id('rsv-open', record['name']).lower()
    assert run.writes('rs_normalised') == []


def test_backup_vault_policies_normalised(shared):
    run = shared
    assert run.rc == 0, run.output
    records = run['bv_normalised']['policies']
    assert [r['name'] for r in records] == ['BlobPolicy1', 'DiskPolicy1', 'OSSDBPolicy']
    for record in records:
        workload, tiers = DP_EXPECTED[record['name']]
        assert record['workload'] == workload
        assert record['workload_type'] is None and record['policy_type'] is None
        assert same_tiers(record['tiers'], tiers), (record['name'], record['tiers'])
        assert record['vault_type'] == 'backup'
        assert record['protected_items'] is None
        assert record['vault'] == vault_id('bv-locked', 'backup')
    assert run.writes('bv_normalised') == []


def test_policies_filter_is_case_insensitive(shared):
    run = shared
    assert run.rc == 0, run.output
    records = run['case_insensitive']['policies']
    assert [r['name'] for r in records] == ['newPolicyV2', 'v2-daily-sample']
    assert same_tiers(records[1]['tiers'], RS_EXPECTED['v2-daily-sample'][3])


def test_several_vaults_across_subscriptions(shared):
    run = shared
    assert run.rc == 0, run.output
    result = run['several']
    assert result['errors'] == []
    by_vault = {}
    for record in result['policies']:
        by_vault.setdefault(record['vault'], []).append(record['name'])
    assert by_vault == {
        vault_id('rsv-locked'): ['complexPolicy', 'dailyPolicy2', 'hana-policy-ccy', 'HourlyLogBackup', 'newPolicyV2', 'testPolicy1',
                                 'v2-daily-sample'],
        vault_id('bv-open', 'backup'): ['BlobPolicy1', 'DiskPolicy1', 'OSSDBPolicy'],
        vault_id('rsv-two', sub=SUB2, rg='rg-two'): ['testPolicy1'],
    }
    two = [r for r in result['policies'] if r['vault'] == vault_id('rsv-two', sub=SUB2, rg='rg-two')][0]
    assert two['tiers'] == [t('daily', 'P1D', 1, 'days', 1)]
    assert run.writes('several') == []


def test_several_vaults_go_on_past_a_missing_vault_or_policy(shared):
    run = shared
    assert run.rc == 0, run.output
    result = run['past_missing']
    assert [(r['vault'], r['name']) for r in result['policies']] == [(vault_id('rsv-open'), 'testPolicy1')]
    errors = {e['code']: e for e in result['errors']}
    assert set(errors) == {'ResourceNotFound', 'PolicyNotFound'}
    assert errors['ResourceNotFound']['status'] == 404 and "'rsv-gone'" in errors['ResourceNotFound']['scope']
    assert "'bv-open'" in errors['PolicyNotFound']['message'] and "'testPolicy1'" in errors['PolicyNotFound']['message']
    assert any('rsv-gone' in w for w in result.get('warnings', []))


def test_a_vault_listed_twice_is_read_once(shared):
    """vaults with one vault twice (another case of its id, from two inventory sources, say) listed each of its policies
    twice: a report counting them counted the vault's weak policies twice."""
    result = shared['twice']
    assert result['errors'] == [], result
    names = [r['name'] for r in result['policies']]
    assert {r['vault'] for r in result['policies']} == {vault_id('rsv-open')}
    assert 'testPolicy1' in names and len(names) == len(set(names)), names


def test_unknown_policy_name_and_vault_are_clear_errors(shared):
    run = shared
    first = run['error_0']
    assert first['failed'] is True
    assert "no backup policy named 'no-such-policy'" in first['msg'] and "'rsv-open'" in first['msg']
    assert run['error_1']['failed'] is True
    assert 'rsv-gone' in run['error_1']['msg'] and 'ResourceNotFound' in run['error_1']['msg']
    assert run['error_2']['failed'] is True and 'identify the vaults' in run['error_2']['msg']
    assert run['error_3']['failed'] is True and 'mutually exclusive' in run['error_3']['msg']
    assert run['error_4'].get('failed') is not True and run['error_4']['policies'] == []
    assert 'Traceback' not in run.output
    assert [w for index in range(5) for w in run.writes('error_%d' % index)] == []
