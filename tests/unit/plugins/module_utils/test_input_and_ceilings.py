# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input is refused before any request, naming the option and the value; retention above Azure's ceilings too."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import (
    RetentionError,
    check_minimum,
    normalise_policy,
    raise_policy,
    validate_minimum,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef
from tests.fixtures import load_real
from tests.unit.builders import SUB

RS_ID = '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-1' % SUB


@pytest.mark.parametrize('params, option, shown', [
    ({'name': 'rsv-1\n', 'resource_group': 'rg', 'vault_type': 'recovery_services'}, 'name', "'rsv-1\\n'"),
    ({'name': 'rsv-1', 'resource_group': 'rg\n', 'vault_type': 'recovery_services'}, 'resource_group', "'rg\\n'"),
    ({'name': 'rsv\x00-1', 'resource_group': 'rg', 'vault_type': 'backup'}, 'name', "'rsv\\x00-1'"),
    ({'name': 'rsv-1', 'resource_group': 'rg\u2028', 'vault_type': 'backup'}, 'resource_group', "'rg\\u2028'"),
    ({'id': RS_ID + '\n'}, 'id', "\\n'"),
    ({'id': RS_ID.replace(SUB, SUB + '\n')}, 'id', "\\n"),
])
def test_control_characters_are_refused_naming_option_and_value(params, option, shown):
    with pytest.raises(InputError) as err:
        VaultRef.from_params(params, lambda: SUB)
    assert str(err.value).startswith(option + ':') and shown in str(err.value)


def test_subscription_with_a_trailing_newline_is_refused():
    with pytest.raises(InputError, match=r"subscription_id: subscription id '.*\\n' is not a GUID"):
        VaultRef.from_params({'name': 'rsv-1', 'resource_group': 'rg', 'vault_type': 'backup'}, lambda: SUB + '\n')


def test_surrounding_spaces_of_an_id_are_still_fine():
    assert VaultRef.from_params({'id': '  %s/ ' % RS_ID}, lambda: SUB).name == 'rsv-1'


@pytest.mark.parametrize('value', ['', '   '])
def test_empty_subscription_id_is_an_error_not_the_environment(value):
    session = AzureSession({'subscription_id': value}, env={'AZURE_SUBSCRIPTION_ID': SUB})
    with pytest.raises(InputError, match="subscription_id: '.*' is empty"):
        session.default_subscription()
    assert AzureSession({'subscription_id': None}, env={'AZURE_SUBSCRIPTION_ID': SUB}).default_subscription() == SUB


# --------------------------------------------------------------------------- ceilings

@pytest.mark.parametrize('minimum, message', [
    ({'daily': '99999999d'}, 'more than 6 digits'),
    ({'daily': '9' * 400 + 'd'}, 'more than 6 digits'),
    ({'daily': '9' * 5000 + 'd'}, 'more than 6 digits'),
    ({'yearly': 'P99999999Y'}, 'more than 6 digits'),
    ({'daily': '10000d'}, 'above the longest daily retention Azure accepts for any policy (9999 days)'),
    ({'daily': '28y'}, '(9999 days)'),
    ({'default': '10000d'}, '(9999 days)'),
    ({'weekly': '5164w'}, '(5163 weeks)'),
    ({'monthly': '1189m'}, '(1188 months)'),
    ({'monthly': '100y'}, '(1188 months)'),
    ({'yearly': '100y'}, '(99 years)'),
    ({'default': {'VaultStore': 'P100Y'}}, 'minimum.default.VaultStore'),
])
def test_minimum_above_azures_ceiling_is_refused(minimum, message):
    with pytest.raises(RetentionError) as err:
        validate_minimum(minimum)
    assert message in str(err.value)


@pytest.mark.parametrize('minimum', [{'daily': '9999d'}, {'weekly': '5163w'}, {'monthly': '1188m'}, {'monthly': '99y'},
                                     {'yearly': '99y'}, {'daily': '27y'}])
def test_minimum_at_the_ceiling_is_accepted(minimum):
    assert validate_minimum(minimum)


def _long_term(**tiers):
    policy = {'retentionPolicyType': 'LongTermRetentionPolicy'}
    for name, (count, unit) in tiers.items():
        policy[name + 'Schedule'] = {'retentionTimes': ['2024-01-01T02:00:00Z'], 'retentionDuration': {'count': count, 'durationType': unit}}
    return policy


def test_raising_to_the_ceiling_writes_it_in_the_tiers_own_unit():
    vm = {'name': 'vm', 'properties': {'backupManagementType': 'AzureIaasVM', 'retentionPolicy': _long_term(
        daily=(30, 'Days'), weekly=(4, 'Weeks'))}}
    # 99 years kept weekly would need 5177 weeks: more than Azure's 5163, refused as a minimum already.
    with pytest.raises(RetentionError, match='5163 weeks'):
        validate_minimum({'weekly': '99y'})
    new, changes, unfixable = raise_policy(vm, 'recovery_services', {'weekly': '5163w', 'daily': '9999d'})
    assert unfixable == []
    assert [(c['tier'], c['after']) for c in changes] == [('daily', 'P9999D'), ('weekly', 'P5163W')]
    assert new['properties']['retentionPolicy']['weeklySchedule']['retentionDuration'] == {'count': 5163, 'durationType': 'Weeks'}


def test_azure_files_snapshot_tiers_have_their_own_ceiling():
    files = {'name': 'afs', 'properties': {'backupManagementType': 'AzureStorage', 'retentionPolicy': _long_term(daily=(5, 'Days'))}}
    [violation] = check_minimum(normalise_policy(files, 'recovery_services'), {'daily': '365d'})
    assert violation['fixable'] is False and 'at most 200 days' in violation['reason']
    assert check_minimum(normalise_policy(files, 'recovery_services'), {'daily': '200d'})[0]['fixable'] is True


def _recorded_sql(partial='Differential'):
    """The SQL policy Azure PowerShell's tests recorded (differential kept 31 days); with ``partial`` Incremental, the same
    as an SAP HANA policy with an incremental sub-policy."""
    body = copy.deepcopy(load_real('ps-rs-workloadpolicy/get-testSqlPolicy-weekly-full-diff-log.json'))
    if partial != 'Differential':
        body['properties']['workLoadType'] = 'SAPHanaDatabase'
        body['properties']['subProtectionPolicy'][1]['policyType'] = partial
    return body


@pytest.mark.parametrize('partial', ['Differential', 'Incremental'])
def test_workload_differential_and_incremental_tiers_are_held_to_180_days(partial):
    """Learn (backup-sql-server-database-azure-vms, backup-azure-sap-hana-database): differential and incremental backups
    are kept at most 180 days. Before (fourth sources pass), a minimum of 181 days raised the recorded policy's differential
    tier to 181 days, a PUT Azure refuses."""
    policy = _recorded_sql(partial)
    [violation] = check_minimum(normalise_policy(policy, 'recovery_services'), {'default': '181d'})
    assert (violation['sub_policy'], violation['fixable']) == (partial, False)
    assert 'at most 180 days' in violation['reason']
    new, changes, unfixable = raise_policy(policy, 'recovery_services', {'default': '181d'})
    assert (new, changes, len(unfixable)) == (None, [], 1)
    new, changes, unfixable = raise_policy(policy, 'recovery_services', {'default': '180d'})
    assert [(c['sub_policy'], c['after']) for c in changes] == [(partial, 'P180D')] and unfixable == []
    assert new['properties']['subProtectionPolicy'][1]['retentionPolicy']['retentionDuration'] == {'count': 180, 'durationType': 'Days'}


# --------------------------------------------------------------------------- Backup vault policies

def _dp(datasource, *lifecycles, interval=None):
    """A Backup vault policy: (rule name, datastore, duration) per retention rule; ``interval`` (``PT4H``, ``P1D``) adds
    a backup rule on the first rule's datastore with that frequency."""
    rules = [{'name': name, 'objectType': 'AzureRetentionRule', 'isDefault': name.startswith('Default'), 'lifecycles': [
        {'deleteAfter': {'objectType': 'AbsoluteDeleteOption', 'duration': duration},
         'sourceDataStore': {'dataStoreType': store, 'objectType': 'DataStoreInfoBase'}}]} for name, store, duration in lifecycles]
    if interval:
        rules.insert(0, {'name': 'Backup', 'objectType': 'AzureBackupRule',
                         'backupParameters': {'backupType': 'Incremental', 'objectType': 'AzureBackupParams'},
                         'dataStore': {'dataStoreType': lifecycles[0][1], 'objectType': 'DataStoreInfoBase'},
                         'trigger': {'objectType': 'ScheduleBasedTriggerContext',
                                     'schedule': {'repeatingTimeIntervals': ['R/2024-01-15T02:00:00+00:00/' + interval]}}})
    return {'name': 'p', 'properties': {'objectType': 'BackupPolicy', 'datasourceTypes': [datasource], 'policyRules': rules}}


DISKS, BLOBS = 'Microsoft.Compute/disks', 'Microsoft.Storage/storageAccounts/blobServices'
PG_FLEX, AKS = 'Microsoft.DBforPostgreSQL/flexibleServers', 'Microsoft.ContainerService/managedClusters'
PG, MYSQL = 'Microsoft.DBforPostgreSQL/servers/databases', 'Microsoft.DBforMySQL/flexibleServers'
COSMOS, ESAN = 'Microsoft.DocumentDB/databaseAccounts', 'Microsoft.ElasticSan/elasticSans/volumeGroups'


# (policy, minimum, within the limit, limit named in the reason): before, every Backup vault tier was held to the Recovery
# Services ceilings (9999 days...), so each raise below was planned as fixable and its PUT refused by Azure.
DP_CASES = [
    (_dp(DISKS, ('Default', 'OperationalStore', 'P7D'), interval='P1D'), {'default': '2y'}, False, 'at most 1 year'),
    (_dp(DISKS, ('Default', 'OperationalStore', 'P7D'), interval='P1D'), {'default': '400d'}, False, 'at most 1 year'),
    (_dp(DISKS, ('Default', 'OperationalStore', 'P7D'), interval='P1D'), {'default': '1y'}, True, None),
    (_dp(BLOBS, ('Default_OperationalStore', 'OperationalStore', 'P30D')), {'default': '1y'}, False, 'at most 360 days'),
    (_dp(BLOBS, ('Default_OperationalStore', 'OperationalStore', 'P30D')), {'default': '360d'}, True, None),
    (_dp(BLOBS, ('Default', 'VaultStore', 'P30D')), {'default': '3651d'}, False, 'at most 3650 days'),
    (_dp(BLOBS, ('Default', 'VaultStore', 'P30D'), ('Yearly', 'VaultStore', 'P1Y')), {'yearly': '11y'}, False, 'at most 10 years'),
    (_dp(BLOBS, ('Default', 'VaultStore', 'P30D'), ('Yearly', 'VaultStore', 'P1Y')), {'yearly': '10y'}, True, None),
    (_dp(PG_FLEX, ('Default', 'VaultStore', 'P3M'), ('Weekly', 'VaultStore', 'P12W')), {'weekly': '600w'}, False, 'at most 521 weeks'),
    (_dp(PG, ('Default', 'VaultStore', 'P3M'), ('Monthly', 'ArchiveStore', 'P12M')), {'monthly': '121m'}, False, 'at most 120 months'),
    (_dp(PG, ('Default', 'VaultStore', 'P3M'), ('Monthly', 'ArchiveStore', 'P12M')), {'monthly': '120m'}, True, None),
    (_dp(AKS, ('Default', 'OperationalStore', 'P7D')), {'default': '361d'}, False, 'at most 360 days'),
    (_dp('Microsoft.Example/unknown', ('Default', 'OperationalStore', 'P7D')), {'default': '361d'}, False, 'at most 360 days'),
]


# Azure Disks' 450 snapshots by backup frequency (Learn, disk-backup-overview.md: daily 450 days, hourly 18 days), and
# a tier on a datastore the datasource type has no backups in (az dataprotection's manifests, supportedDatastoreTypes).
# Before, each raise below was planned as fixable and its PUT sent.
DP_SNAPSHOT_AND_DATASTORE_CASES = [
    (_dp(DISKS, ('Default', 'OperationalStore', 'P7D'), interval='PT4H'), {'default': '76d'}, False,
     'at most 75 days here (a disk keeps at most 450 snapshots: 75 days at 6 backups a day)'),
    (_dp(DISKS, ('Default', 'OperationalStore', 'P7D'), interval='PT4H'), {'default': '75d'}, True, None),
    (_dp(DISKS, ('Default', 'OperationalStore', 'P7D'), interval='PT1H'), {'default': '19d'}, False,
     'at most 18 days here (a disk keeps at most 450 snapshots: 18 days at 24 backups a day)'),
    (_dp(DISKS, ('Default', 'OperationalStore', 'P7D'), interval='PT1H'), {'default': '18d'}, True, None),
    (_dp(DISKS, ('Default', 'OperationalStore', 'P7D'), interval='PT12H'), {'default': '226d'}, False, 'at most 225 days'),
    (_dp(DISKS, ('Default', 'OperationalStore', 'P7D'), ('Weekly', 'OperationalStore', 'P4W'), interval='PT8H'), {'weekly': '151d'},
     False, 'at most 150 days'),
    (_dp(DISKS, ('Default', 'OperationalStore', 'P7D')), {'default': '19d'}, False, 'taken as hourly'),
    (_dp(DISKS, ('Default', 'VaultStore', 'P7D'), interval='P1D'), {'default': '30d'}, False,
     'Azure Backup keeps no VaultStore backups of Microsoft.Compute/disks (only OperationalStore)'),
    (_dp(PG_FLEX, ('Default', 'OperationalStore', 'P7D'), interval='P1W'), {'default': '30d'}, False,
     'keeps no OperationalStore backups of Microsoft.DBforPostgreSQL/flexibleServers (only VaultStore)'),
    # Flexible servers keep no ArchiveStore tier (Az.DataProtection's manifests; az dataprotection's list one: assumed).
    (_dp(PG_FLEX, ('Default', 'VaultStore', 'P3M'), ('Monthly', 'ArchiveStore', 'P6M'), interval='P1W'), {'monthly': '1y'}, False,
     'keeps no ArchiveStore backups of Microsoft.DBforPostgreSQL/flexibleServers (only VaultStore)'),
    (_dp(MYSQL, ('Default', 'VaultStore', 'P3M'), ('Monthly', 'ArchiveStore', 'P6M'), interval='P1W'), {'monthly': '1y'}, False,
     'keeps no ArchiveStore backups of Microsoft.DBforMySQL/flexibleServers (only VaultStore)'),
    # Cosmos DB keeps vaulted backups only, Elastic SAN operational ones only (both clients' manifests).
    (_dp(COSMOS, ('Default', 'OperationalStore', 'P7D'), interval='P1W'), {'default': '30d'}, False,
     'keeps no OperationalStore backups of Microsoft.DocumentDB/databaseAccounts (only VaultStore)'),
    (_dp(COSMOS, ('Default', 'VaultStore', 'P3M'), interval='P1W'), {'default': '1y'}, True, None),
    (_dp(ESAN, ('Default', 'VaultStore', 'P7D'), interval='P1D'), {'default': '30d'}, False,
     'keeps no VaultStore backups of Microsoft.ElasticSan/elasticSans/volumeGroups (only OperationalStore)'),
    (_dp(ESAN, ('Default', 'OperationalStore', 'P7D'), interval='P1D'), {'default': '30d'}, True, None),
    (_dp(BLOBS, ('Default', 'ArchiveStore', 'P180D'), interval='P1D'), {'default': '1y'}, False, 'keeps no ArchiveStore backups'),
]


@pytest.mark.parametrize('policy, minimum, within, limit', DP_CASES + DP_SNAPSHOT_AND_DATASTORE_CASES)
def test_a_backup_vault_tier_is_held_to_its_datasources_limit(policy, minimum, within, limit):
    """``within``: a policy of the datasource type may keep the minimum there (before this, such a tier was a fixable
    raise). Azure updates no Backup vault policy, so no tier is fixable either way: within the limit the finding says to
    create a policy that keeps it; beyond it, the limit (a new policy could not keep it either)."""
    [violation] = check_minimum(normalise_policy(policy, 'backup'), minimum)
    assert violation['fixable'] is False, violation['reason']
    assert ('create a policy that keeps at least' in violation['reason']) is within, violation['reason']
    if within:
        assert 'Azure does not update an existing Backup vault policy' in violation['reason']
    if limit:
        assert limit in violation['reason']
    new, changes, unfixable = raise_policy(policy, 'backup', minimum)
    assert (new, changes, len(unfixable)) == (None, [], 1)


@pytest.mark.parametrize('minimum, message', [
    ({'default': {'OperationalStore': '2y'}}, 'a Backup vault policy keeps on OperationalStore (1 year)'),
    ({'daily': {'OperationalStore': '400d'}}, 'on OperationalStore (1 year)'),
    ({'default': {'VaultStore': '3651d'}}, 'on VaultStore (3650 days)'),
    ({'weekly': {'VaultStore': '522w'}}, 'on VaultStore (521 weeks)'),
    ({'monthly': {'ArchiveStore': '121m'}}, 'on ArchiveStore (120 months)'),
    ({'yearly': {'ArchiveStore': '11y'}}, 'on ArchiveStore (10 years)'),
])
def test_a_minimum_above_every_backup_vault_datastores_ceiling_is_refused_before_any_request(minimum, message):
    with pytest.raises(RetentionError) as err:
        validate_minimum(minimum)
    assert message in str(err.value)


@pytest.mark.parametrize('minimum', [{'default': {'OperationalStore': '1y'}}, {'default': {'VaultStore': '3650d'}},
                                     {'yearly': {'ArchiveStore': '10y'}}, {'default': {'Snapshot': '1y'}}, {'daily': '20y'}])
def test_a_minimum_within_the_backup_vault_datastores_ceiling_is_accepted(minimum):
    assert validate_minimum(minimum)
