# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator with odd stored bodies and over-long retention: every handler answers in ARM's shape, none crashes,
and a policy that keeps longer than Azure allows is refused as Azure refuses it."""
from __future__ import annotations

import copy

import pytest
import requests

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-edge"
RS = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%%s" % (SUB, RG)
DP = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/%%s" % (SUB, RG)
RS_API, RS_BACKUP_API, DP_API = "2026-11-01", "2026-10-01", "2026-06-01"


def fleet():
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv-bare", "type": "recovery_services", "body": {"location": "westeurope"}},
        {"name": "bv-bare", "type": "backup", "body": {"location": "westeurope"}},
        {"name": "rsv-ok", "type": "recovery_services", "immutability": "enabled"},
        {"name": "bv-ok", "type": "backup", "immutability": "enabled"},
    ]}]}]}


def call(emulator, method, path, api, body=None):
    token = emulator.mint_token()
    response = requests.request(method, emulator.arm_url.rstrip("/") + path, params={"api-version": api}, json=body,
                                headers={"Authorization": "Bearer " + token}, verify=emulator.ca_bundle, timeout=30)
    return response


RS_POLICY = {"properties": {"backupManagementType": "AzureIaasVM", "schedulePolicy": {
    "schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily", "scheduleRunTimes": ["2026-01-01T02:00:00Z"]},
    "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": {
        "retentionTimes": ["2026-01-01T02:00:00Z"], "retentionDuration": {"count": 30, "durationType": "Days"}}}}}


def dp_policy(duration):
    return {"properties": {"objectType": "BackupPolicy", "datasourceTypes": ["Microsoft.Compute/disks"], "policyRules": [
        {"name": "Default", "objectType": "AzureRetentionRule", "isDefault": True, "lifecycles": [
            {"deleteAfter": {"objectType": "AbsoluteDeleteOption", "duration": duration},
             "sourceDataStore": {"dataStoreType": "OperationalStore", "objectType": "DataStoreInfoBase"}}]}]}}


def test_a_vault_body_without_properties_crashes_no_handler(emulator):
    emulator.load_fleet(fleet())
    requests_to_make = [
        ("GET", RS % "rsv-bare", RS_API, None),
        ("GET", "/subscriptions/%s/providers/Microsoft.RecoveryServices/vaults" % SUB, RS_API, None),
        ("GET", "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults" % (SUB, RG), RS_API, None),
        ("GET", RS % "rsv-bare" + "/backupconfig/vaultconfig", RS_BACKUP_API, None),
        ("PATCH", RS % "rsv-bare" + "/backupconfig/vaultconfig", RS_BACKUP_API,
         {"properties": {"softDeleteFeatureState": "Enabled", "enhancedSecurityState": "Enabled", "softDeleteRetentionPeriodInDays": 30}}),
        ("PUT", RS % "rsv-bare" + "/backupconfig/vaultconfig", RS_BACKUP_API,
         {"properties": {"softDeleteFeatureState": "Enabled", "enhancedSecurityState": "Enabled"}}),
        ("GET", RS % "rsv-bare" + "/backupPolicies", RS_BACKUP_API, None),
        ("PUT", RS % "rsv-bare" + "/backupPolicies/p1", RS_BACKUP_API, RS_POLICY),
        ("PATCH", RS % "rsv-bare", RS_API, {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Unlocked"}}}}),
        ("GET", DP % "bv-bare", DP_API, None),
        ("GET", "/subscriptions/%s/providers/Microsoft.DataProtection/backupVaults" % SUB, DP_API, None),
        ("PUT", DP % "bv-bare" + "/backupPolicies/p1", DP_API, dp_policy("P30D")),
        ("PATCH", DP % "bv-bare", DP_API, {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Unlocked"}}}}),
        ("DELETE", RS % "rsv-bare" + "/backupPolicies/p1", RS_BACKUP_API, None),
    ]
    for method, path, api, body in requests_to_make:
        response = call(emulator, method, path, api, body)
        assert response.status_code < 500, (method, path, response.status_code, response.text[:300])
        if response.status_code >= 400:
            assert set(response.json()["error"]) >= {"code", "message"}, (method, path)
    assert all(entry["status"] and entry["status"] < 500 for entry in emulator.journal())


@pytest.mark.parametrize("duration, status", [
    ({"count": 9999, "durationType": "Days"}, 200),
    ({"count": 10000, "durationType": "Days"}, 400),
    ({"count": 5163, "durationType": "Weeks"}, 200),
    ({"count": 5164, "durationType": "Weeks"}, 400),
    ({"count": 1189, "durationType": "Months"}, 400),
    ({"count": 100, "durationType": "Years"}, 400),
    ({"count": "30", "durationType": "Days"}, 400),
    ({"count": 10 ** 400, "durationType": "Days"}, 400),
])
def test_recovery_services_policy_above_azures_ceiling_is_refused(emulator, duration, status):
    emulator.load_fleet(fleet())
    body = {"properties": dict(RS_POLICY["properties"], retentionPolicy={
        "retentionPolicyType": "LongTermRetentionPolicy",
        "dailySchedule": {"retentionTimes": ["2026-01-01T02:00:00Z"], "retentionDuration": duration}})}
    response = call(emulator, "PUT", RS % "rsv-ok" + "/backupPolicies/long", RS_BACKUP_API, body)
    assert response.status_code == status, response.text[:300]
    if status == 400:
        assert response.json()["error"]["code"] == "BMSUserErrorInvalidPolicyInput"


@pytest.mark.parametrize("duration, status", [("P1Y", 200), ("P100Y", 400), ("P99999999Y", 400), ("P36500D", 400), ("nonsense", 400)])
def test_backup_vault_policy_above_azures_ceiling_is_refused(emulator, duration, status):
    emulator.load_fleet(fleet())
    response = call(emulator, "PUT", DP % "bv-ok" + "/backupPolicies/long", DP_API, dp_policy(duration))
    assert response.status_code == status, response.text[:300]
    if status == 400:
        assert response.json()["error"]["code"] == "BMSUserErrorInvalidInput"


DISKS, BLOBS, ADLS = "Microsoft.Compute/disks", "Microsoft.Storage/storageAccounts/blobServices", "Microsoft.Storage/storageAccounts/adlsBlobServices"
PG, PG_FLEX, MYSQL, AKS = ("Microsoft.DBforPostgreSQL/servers/databases", "Microsoft.DBforPostgreSQL/flexibleServers",
                           "Microsoft.DBforMySQL/flexibleServers", "Microsoft.ContainerService/managedClusters")
COSMOS, ESAN = "Microsoft.DocumentDB/databaseAccounts", "Microsoft.ElasticSan/elasticSans/volumeGroups"


def _dp_rules(datasource, *lifecycles):
    """A Backup vault policy of one datasource type: (rule name, datastore, duration) per retention rule."""
    rules = [{"name": name, "objectType": "AzureRetentionRule", "isDefault": name.startswith("Default"), "lifecycles": [
        {"deleteAfter": {"objectType": "AbsoluteDeleteOption", "duration": duration},
         "sourceDataStore": {"dataStoreType": store, "objectType": "DataStoreInfoBase"}}]} for name, store, duration in lifecycles]
    return {"objectType": "BackupPolicy", "datasourceTypes": [datasource], "policyRules": rules}


# (id, policy, accepted): each datasource type and datastore at its limit and past it (rules.DP_RANGES and its sources).
DP_LIMIT_CASES = [
    ("disk-op-1y", _dp_rules(DISKS, ("Default", "OperationalStore", "P1Y")), True),
    ("disk-op-365d", _dp_rules(DISKS, ("Default", "OperationalStore", "P365D")), True),
    ("disk-op-366d", _dp_rules(DISKS, ("Default", "OperationalStore", "P366D")), False),
    ("disk-op-13m", _dp_rules(DISKS, ("Default", "OperationalStore", "P13M")), False),
    ("disk-weekly-2y", _dp_rules(DISKS, ("Default", "OperationalStore", "P7D"), ("Weekly", "OperationalStore", "P2Y")), False),
    ("blob-op-360d", _dp_rules(BLOBS, ("Default_OperationalStore", "OperationalStore", "P360D")), True),
    ("blob-op-361d", _dp_rules(BLOBS, ("Default_OperationalStore", "OperationalStore", "P361D")), False),
    ("blob-vault-3650d", _dp_rules(BLOBS, ("Default", "VaultStore", "P3650D")), True),
    ("blob-vault-3651d", _dp_rules(BLOBS, ("Default", "VaultStore", "P3651D")), False),
    ("blob-vault-yearly-10y", _dp_rules(BLOBS, ("Default", "VaultStore", "P30D"), ("Yearly", "VaultStore", "P10Y")), True),
    ("blob-vault-yearly-11y", _dp_rules(BLOBS, ("Default", "VaultStore", "P30D"), ("Yearly", "VaultStore", "P11Y")), False),
    ("adls-weekly-521w", _dp_rules(ADLS, ("Default", "VaultStore", "P30D"), ("Weekly", "VaultStore", "P521W")), True),
    ("adls-weekly-522w", _dp_rules(ADLS, ("Default", "VaultStore", "P30D"), ("Weekly", "VaultStore", "P522W")), False),
    ("adls-monthly-121m", _dp_rules(ADLS, ("Default", "VaultStore", "P30D"), ("Monthly", "VaultStore", "P121M")), False),
    ("pg-vault-10y-yearly", _dp_rules(PG, ("Default", "VaultStore", "P3M"), ("Yearly", "VaultStore", "P10Y")), True),
    ("pg-archive-11y", _dp_rules(PG, ("Default", "VaultStore", "P3M"), ("Yearly", "ArchiveStore", "P11Y")), False),
    ("pg-archive-90d", _dp_rules(PG, ("Default", "VaultStore", "P3M"), ("Monthly", "ArchiveStore", "P90D")), False),
    ("pg-archive-180d", _dp_rules(PG, ("Default", "VaultStore", "P3M"), ("Monthly", "ArchiveStore", "P180D")), True),
    ("pg-flex-default-20y", _dp_rules(PG_FLEX, ("Default", "VaultStore", "P20Y")), False),
    ("mysql-monthly-120m", _dp_rules(MYSQL, ("Default", "VaultStore", "P30D"), ("Monthly", "VaultStore", "P120M")), True),
    ("aks-op-400d", _dp_rules(AKS, ("Default", "OperationalStore", "P400D")), False),
    ("aks-vault-99y", _dp_rules(AKS, ("Default", "OperationalStore", "P7D"), ("Yearly", "VaultStore", "P99Y")), False),
    ("disk-op-0d", _dp_rules(DISKS, ("Default", "OperationalStore", "P0D")), False),
]


def _stored_or_refused(emulator, name, props, accepted):
    """A Backup vault policy PUT through the SDK: stored when ``accepted``, else refused with Azure's 400 and not stored."""
    from azure.core.exceptions import HttpResponseError
    emulator.load_fleet(fleet())
    client = emulator.dp_client(SUB)
    if accepted:
        client.backup_policies.create_or_update(RG, "bv-ok", name, {"properties": props})
        assert client.backup_policies.get(RG, "bv-ok", name).name == name
        return
    with pytest.raises(HttpResponseError) as err:
        client.backup_policies.create_or_update(RG, "bv-ok", name, {"properties": props})
    assert err.value.status_code == 400 and err.value.error.code == "BMSUserErrorInvalidInput"
    assert call(emulator, "GET", DP % "bv-ok" + "/backupPolicies/" + name, DP_API).status_code == 404


@pytest.mark.parametrize("name, props, accepted", DP_LIMIT_CASES, ids=[case[0] for case in DP_LIMIT_CASES])
def test_backup_vault_policy_beyond_its_datasources_limits_is_refused_through_the_sdk(emulator, name, props, accepted):
    """Before, the emulator held every Backup vault policy to one assumed 99-year ceiling and no floor: a disk policy
    keeping its snapshots 99 years, a vaulted blob tier of 11 years and an archive tier of 90 days were all stored."""
    _stored_or_refused(emulator, name, props, accepted)


def _with_backup_rule(props, interval, store=None):
    """``props`` with a backup rule taking backups every ``interval`` (PT4H, P1D) on ``store`` (the first lifecycle's)."""
    props = copy.deepcopy(props)
    store = store or props["policyRules"][0]["lifecycles"][0]["sourceDataStore"]["dataStoreType"]
    props["policyRules"].insert(0, {
        "name": "Backup", "objectType": "AzureBackupRule", "backupParameters": {"backupType": "Incremental", "objectType": "AzureBackupParams"},
        "dataStore": {"dataStoreType": store, "objectType": "DataStoreInfoBase"},
        "trigger": {"objectType": "ScheduleBasedTriggerContext", "schedule": {"repeatingTimeIntervals": ["R/2024-01-15T02:00:00+00:00/" + interval]},
                    "taggingCriteria": [{"isDefault": True, "taggingPriority": 99, "tagInfo": {"id": "Default_", "tagName": "Default"}}]}})
    return props


def _copy_to(props, store):
    props = copy.deepcopy(props)
    props["policyRules"][-1]["lifecycles"][0]["targetDataStoreCopySettings"] = [
        {"copyAfter": {"objectType": "CopyOnExpiryOption"}, "dataStore": {"dataStoreType": store, "objectType": "DataStoreInfoBase"}}]
    return props


# (id, policy, accepted): datastores per datasource type (az dataprotection's and Az.DataProtection's manifests,
# supportedDatastoreTypes: rules.DP_DATASTORES; PostgreSQL and MySQL flexible servers keep no ArchiveStore tier, Cosmos DB
# the VaultStore only, Elastic SAN the OperationalStore only) and disks' 450 snapshots by backup frequency (Learn,
# disk-backup-overview.md: daily 450 days, hourly 18 days; the year of DP_DISK_MAX when shorter).
DP_DATASTORE_CASES = [
    ("disk-vault-tier", _with_backup_rule(_dp_rules(DISKS, ("Default", "VaultStore", "P30D")), "P1D"), False),
    ("disk-vault-backup-rule", _with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P7D")), "P1D", "VaultStore"), False),
    ("disk-copy-to-archive", _copy_to(_with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P7D")), "P1D"), "ArchiveStore"), False),
    ("pg-operational", _with_backup_rule(_dp_rules(PG_FLEX, ("Default", "OperationalStore", "P7D")), "P1W"), False),
    ("adls-operational", _dp_rules(ADLS, ("Default", "OperationalStore", "P7D")), False),
    ("blob-archive", _dp_rules(BLOBS, ("Default", "VaultStore", "P30D"), ("Monthly", "ArchiveStore", "P1Y")), False),
    ("pg-flex-copy-to-archive", _copy_to(_with_backup_rule(_dp_rules(PG_FLEX, ("Default", "VaultStore", "P3M")), "P1W"), "ArchiveStore"), False),
    ("pg-copy-to-archive", _copy_to(_with_backup_rule(_dp_rules(PG, ("Default", "VaultStore", "P3M")), "P1W"), "ArchiveStore"), True),
    ("mysql-archive-tier", _with_backup_rule(_dp_rules(MYSQL, ("Default", "VaultStore", "P3M"), ("Monthly", "ArchiveStore", "P1Y")), "P1W"), False),
    ("cosmos-vault", _with_backup_rule(_dp_rules(COSMOS, ("Default", "VaultStore", "P3M")), "P1W"), True),
    ("cosmos-operational", _with_backup_rule(_dp_rules(COSMOS, ("Default", "OperationalStore", "P7D")), "P1W"), False),
    ("esan-operational", _with_backup_rule(_dp_rules(ESAN, ("Default", "OperationalStore", "P30D")), "P1D"), True),
    ("esan-vault", _with_backup_rule(_dp_rules(ESAN, ("Default", "VaultStore", "P30D")), "P1D"), False),
    ("esan-copy-to-vault", _copy_to(_with_backup_rule(_dp_rules(ESAN, ("Default", "OperationalStore", "P7D")), "P1D"), "VaultStore"), False),
    ("blob-both", _dp_rules(BLOBS, ("Default_OperationalStore", "OperationalStore", "P30D"), ("Default", "VaultStore", "P30D")), True),
    ("disk-4h-75d", _with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P75D")), "PT4H"), True),
    ("disk-4h-76d", _with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P76D")), "PT4H"), False),
    # backup-managed-disks.md's own example: 12-hourly backups kept at most 225 days.
    ("disk-12h-225d", _with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P225D")), "PT12H"), True),
    ("disk-12h-226d", _with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P226D")), "PT12H"), False),
    ("disk-1h-18d", _with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P18D")), "PT1H"), True),
    ("disk-1h-19d", _with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P19D")), "PT1H"), False),
    ("disk-12h-weekly-33w",
     _with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P7D"), ("Weekly", "OperationalStore", "P33W")), "PT12H"), False),
    ("disk-daily-1y", _with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P1Y")), "P1D"), True),
    ("disk-daily-366d", _with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P366D")), "P1D"), False),
]


@pytest.mark.parametrize("name, props, accepted", DP_DATASTORE_CASES, ids=[case[0] for case in DP_DATASTORE_CASES])
def test_backup_vault_policy_on_a_datastore_or_past_the_snapshots_its_datasource_has_is_refused(emulator, name, props, accepted):
    """Before, a policy keeping a disk's backups in the VaultStore, a PostgreSQL server's in the OperationalStore, or an
    hourly disk policy's snapshots a year (8,760 snapshots) was stored."""
    _stored_or_refused(emulator, name, props, accepted)


def _microsofts_default(datasource, weekly_start):
    """The default policy Microsoft's clients send for ``datasource`` (written after the ``defaultPolicy`` of
    Az.DataProtection's manifests: a weekly full backup to the VaultStore, the Default rule keeping it ``P10Y``)."""
    props = _with_backup_rule(_dp_rules(datasource, ("Default", "VaultStore", "P10Y")), "P1W")
    props["policyRules"][0]["backupParameters"]["backupType"] = "Full"
    props["policyRules"][0]["trigger"]["schedule"] = {"repeatingTimeIntervals": ["R/%s+00:00/P1W" % weekly_start], "timeZone": "UTC"}
    return props


# (id, policy, accepted): the Default rule of the policies Microsoft's own clients create keeps vaulted backups P10Y (Cosmos
# DB: az dataprotection's manual/Manifests/AzureCosmosDB.py and Az.DataProtection's custom/manifests/AzureCosmosDB.json;
# PostgreSQL and MySQL flexible servers: Az.DataProtection's AzureDatabaseForPGFlexServer.json, AzureDatabaseForMySQL.json).
# Azure takes what its clients send by default; ten years is at most 3,653 days, so the Default rule of these types is
# held to ten years (P3650D, P120M, P10Y), no longer to 3,650 days alone (rules.DP_TEN_YEAR_DEFAULT).
DP_DEFAULT_POLICY_CASES = [
    ("cosmos-default", _microsofts_default(COSMOS, "2026-02-08T10:00:00"), True),
    ("pg-flex-default", _microsofts_default(PG_FLEX, "2024-01-07T23:00:00"), True),
    ("mysql-default", _microsofts_default(MYSQL, "2024-01-07T23:00:00"), True),
    ("cosmos-default-120m", _with_backup_rule(_dp_rules(COSMOS, ("Default", "VaultStore", "P120M")), "P1W"), True),
    ("cosmos-default-3650d", _with_backup_rule(_dp_rules(COSMOS, ("Default", "VaultStore", "P3650D")), "P1W"), True),
    ("cosmos-default-3651d", _with_backup_rule(_dp_rules(COSMOS, ("Default", "VaultStore", "P3651D")), "P1W"), False),
    ("cosmos-default-11y", _with_backup_rule(_dp_rules(COSMOS, ("Default", "VaultStore", "P11Y")), "P1W"), False),
    ("pg-flex-default-121m", _with_backup_rule(_dp_rules(PG_FLEX, ("Default", "VaultStore", "P121M")), "P1W"), False),
]


@pytest.mark.parametrize("name, props, accepted", DP_DEFAULT_POLICY_CASES, ids=[case[0] for case in DP_DEFAULT_POLICY_CASES])
def test_the_default_policies_microsofts_clients_create_are_accepted(emulator, name, props, accepted):
    """Before, the emulator refused the default policy of Cosmos DB (both clients) and of PostgreSQL and MySQL flexible
    servers (Az.DataProtection): their Default rule keeps P10Y, which it held to 3,650 days."""
    _stored_or_refused(emulator, name, props, accepted)


def _kind_policies():
    from tests.emulator import generator
    files = generator.azure_files(False)
    files_over = generator.azure_files(False)
    files_over["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 201
    files_years = generator.azure_files(False)
    files_years["retentionPolicy"]["yearlySchedule"]["retentionDuration"]["count"] = 11
    hardened = generator.azure_files_hardened(False)
    hardened["vaultRetentionPolicy"]["vaultRetention"]["dailySchedule"]["retentionDuration"]["count"] = 9999
    v1, v1_over, v2, v2_over = (generator.iaas_v1(False), generator.iaas_v1(False), generator.iaas_v2(False), generator.iaas_v2(False))
    v1["instantRpRetentionRangeInDays"], v1_over["instantRpRetentionRangeInDays"] = 5, 6
    v2["instantRpRetentionRangeInDays"], v2_over["instantRpRetentionRangeInDays"] = 30, 10000
    sql, sql_long, sql_short = generator.sql(False), generator.sql(False), generator.sql(False)
    sql["subProtectionPolicy"][1]["retentionPolicy"]["retentionDuration"]["count"] = 35
    sql_long["subProtectionPolicy"][1]["retentionPolicy"]["retentionDuration"]["count"] = 36
    sql_short["subProtectionPolicy"][1]["retentionPolicy"]["retentionDuration"]["count"] = 6
    # The SQL policy Azure PowerShell's tests recorded (full, differential kept 31 days, log), its differential kept 180 and
    # 181 days, and as an SAP HANA policy with an incremental sub-policy instead (Learn: both kept at most 180 days).
    diff = [_recorded_sql(180), _recorded_sql(181), _recorded_sql(6), _recorded_sql(180, "Incremental"), _recorded_sql(181, "Incremental")]
    diff_target = "subProtectionPolicy[1].retentionPolicy.retentionDuration.count"
    return [("files", files, None), ("files-201d", files_over, "retentionPolicy.dailySchedule.retentionDuration.count"),
            ("files-11y", files_years, "retentionPolicy.yearlySchedule.retentionDuration.count"), ("files-vault-9999d", hardened, None),
            ("vm-v1-5", v1, None), ("vm-v1-6", v1_over, "instantRpRetentionRangeInDays"), ("vm-v2-30", v2, None),
            ("vm-v2-10000", v2_over, "instantRpRetentionRangeInDays"), ("sql-log-35", sql, None),
            ("sql-log-36", sql_long, "subProtectionPolicy[1].retentionPolicy.retentionDuration.count"),
            ("sql-log-6", sql_short, "subProtectionPolicy[1].retentionPolicy.retentionDuration.count"),
            ("sql-recorded-diff-180", diff[0], None), ("sql-recorded-diff-181", diff[1], diff_target), ("sql-recorded-diff-6", diff[2], diff_target),
            ("hana-incremental-180", diff[3], None), ("hana-incremental-181", diff[4], diff_target)]


def _recorded_sql(days, partial="Differential"):
    """The recorded SQL policy's properties (tests/fixtures/azure-real/ps-rs-workloadpolicy), its differential sub-policy
    kept ``days`` days; with ``partial`` Incremental, an SAP HANA policy whose second sub-policy is an incremental one."""
    from tests.fixtures import load_real
    props = copy.deepcopy(load_real("ps-rs-workloadpolicy/get-testSqlPolicy-weekly-full-diff-log.json")["properties"])
    props.pop("protectedItemsCount", None)
    assert props["subProtectionPolicy"][1]["policyType"] == "Differential"
    props["subProtectionPolicy"][1]["retentionPolicy"]["retentionDuration"]["count"] = days
    if partial != "Differential":
        props["workLoadType"] = "SAPHanaDatabase"
        props["subProtectionPolicy"][1]["policyType"] = partial
    return props


def _rs_policy_put_answers(emulator, name, props, target):
    """A Recovery Services policy PUT through the SDK: stored when ``target`` is None, else refused with 400
    BMSUserErrorInvalidPolicyInput naming ``target``, and nothing stored."""
    from azure.core.exceptions import HttpResponseError
    emulator.load_fleet(fleet())
    client = emulator.backup_client(SUB)
    if target is None:
        client.protection_policies.create_or_update("rsv-ok", RG, name, {"properties": props})
        assert client.protection_policies.get("rsv-ok", RG, name).name == name
        return
    with pytest.raises(HttpResponseError) as err:
        client.protection_policies.create_or_update("rsv-ok", RG, name, {"properties": props})
    assert err.value.status_code == 400 and err.value.error.code == "BMSUserErrorInvalidPolicyInput"
    assert err.value.error.target == target
    assert call(emulator, "GET", RS % "rsv-ok" + "/backupPolicies/" + name, RS_BACKUP_API).status_code == 404


@pytest.mark.parametrize("name, props, target", _kind_policies(), ids=[case[0] for case in _kind_policies()])
def test_recovery_services_policy_beyond_its_kinds_range_is_refused_through_the_sdk(emulator, name, props, target):
    """Azure Files snapshot tiers (PowerShell PolicyConstants Afs*), VM instant restore and workload log ranges (Learn):
    the emulator accepted all of them up to 9999 days (instant restore without any bound). Workload differential and
    incremental backups kept 7..180 days (Learn, backup-sql-server-database-azure-vms and backup-azure-sap-hana-database):
    until the fourth sources pass the emulator stored a recorded SQL policy whose differential tier was raised to 181 days."""
    _rs_policy_put_answers(emulator, name, props, target)


def _files_hourly(interval=6, start="2026-01-01T06:00:00Z", window=14, hourly=True):
    from tests.emulator import generator
    props = generator.azure_files(False)
    props["schedulePolicy"] = {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Hourly"}
    if hourly:
        props["schedulePolicy"]["hourlySchedule"] = {"interval": interval, "scheduleWindowStartTime": start, "scheduleWindowDuration": window}
    return props


HOURLY = "schedulePolicy.hourlySchedule"
FILES_HOURLY_CASES = [
    ("every-6h-06:00-14h", _files_hourly(), None),
    ("every-12h-00:00-23h", _files_hourly(12, "2026-01-01T00:00:00Z", 23), None),
    ("every-4h-19:30-4h", _files_hourly(4, "2026-01-01T19:30:00.0000000Z", 4), None),
    ("every-5h", _files_hourly(interval=5), HOURLY + ".interval"),
    ("every-24h", _files_hourly(interval=24, window=23), HOURLY + ".interval"),
    ("window-3h", _files_hourly(interval=4, window=3), HOURLY + ".scheduleWindowDuration"),
    ("window-24h", _files_hourly(start="2026-01-01T00:00:00Z", window=24), HOURLY + ".scheduleWindowDuration"),
    ("window-shorter-than-interval", _files_hourly(interval=8, window=6), HOURLY + ".scheduleWindowDuration"),
    ("start-20:00", _files_hourly(interval=4, start="2026-01-01T20:00:00Z", window=4), HOURLY + ".scheduleWindowStartTime"),
    ("start-06:15", _files_hourly(start="2026-01-01T06:15:00Z"), HOURLY + ".scheduleWindowStartTime"),
    ("last-backup-after-23:30", _files_hourly(start="2026-01-01T10:00:00Z", window=14), HOURLY + ".scheduleWindowStartTime"),
    ("no-hourly-schedule", _files_hourly(hourly=False), HOURLY),
]


@pytest.mark.parametrize("name, props, target", FILES_HOURLY_CASES, ids=[case[0] for case in FILES_HOURLY_CASES])
def test_azure_files_hourly_schedule_outside_what_azure_powershell_allows_is_refused(emulator, name, props, target):
    """Azure Files hourly schedules (Azure PowerShell SimpleSchedulePolicy.Validate: interval 4, 6, 8 or 12 hours, window 4 to
    23 hours and not shorter than the interval, start 00:00 to 19:30 on a half hour, last backup by 23:30): the emulator
    accepted any hourly schedule, a missing one included."""
    _rs_policy_put_answers(emulator, name, props, target)


def test_a_vault_put_without_properties_is_answered_as_the_specs_models_say(emulator):
    """The spec's models (shared reference sdk-models/, copied in the docstring of arm.check_vault_put): a Backup vault
    PUT needs ``properties`` (BackupVaultResource.properties is not optional); a Recovery Services vault PUT does not
    (Vault.properties is optional), and the vault gets the service's defaults. Before, a Backup vault PUT without
    ``properties`` was taken (a new vault created, an existing one answered 201), and ``properties`` that was no object was
    taken by both kinds."""
    emulator.load_fleet(fleet())
    for name, body in (("bv-new", {"location": "westeurope"}), ("bv-new", {"location": "westeurope", "properties": None}),
                       ("bv-ok", {"location": "westeurope"}), ("bv-new", {"location": "westeurope", "properties": "Standard"})):
        response = call(emulator, "PUT", DP % name, DP_API, body)
        assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidRequestContent", (name, body, response.text)
    assert call(emulator, "GET", DP % "bv-new", DP_API).status_code == 404
    kept = call(emulator, "GET", DP % "bv-ok", DP_API).json()["properties"]["securitySettings"]["immutabilitySettings"]
    assert kept == {"state": "Unlocked"}
    response = call(emulator, "PUT", RS % "rsv-new", RS_API, {"location": "westeurope", "properties": ["Enabled"]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidRequestContent", response.text
    # Recovery Services, through the SDK: no properties sent, the vault created with the defaults.
    client = emulator.rs_client(SUB)
    vault = client.vaults.begin_create_or_update(RG, "rsv-new", {"location": "westeurope", "sku": {"name": "Standard"}}).result()
    assert vault.properties.provisioning_state == "Succeeded"
    soft_delete = client.vaults.get(RG, "rsv-new").properties.security_settings.soft_delete_settings
    assert (soft_delete.soft_delete_state, soft_delete.soft_delete_retention_period_in_days) == ("Enabled", 14)


def _odd_schedule(how):
    """A disk policy (operational tier kept 7 days, or a year and a day) whose backup rule's schedule is malformed ``how``."""
    props = _with_backup_rule(_dp_rules(DISKS, ("Default", "OperationalStore", "P7D")), "PT4H")
    trigger = props["policyRules"][0]["trigger"]
    if how == "trigger-list":
        props["policyRules"][0]["trigger"] = ["R/2024-01-15T02:00:00+00:00/PT4H"]
    elif how == "intervals-number":
        trigger["schedule"]["repeatingTimeIntervals"] = 4
    elif how == "intervals-dict":
        trigger["schedule"]["repeatingTimeIntervals"] = {"R/2024-01-15T02:00:00+00:00/PT1H": 1}
    elif how == "schedule-text":
        trigger["schedule"] = "R/2024-01-15T02:00:00+00:00/PT1H"
    return props


@pytest.mark.parametrize("how", ["trigger-list", "intervals-number", "intervals-dict", "schedule-text"])
def test_a_disk_policy_whose_schedule_is_malformed_is_answered_never_dropped(emulator, how):
    """A backup rule whose trigger is a list, or whose repeatingTimeIntervals is a number: the emulator's handler raised
    (AttributeError, TypeError) while counting the backups a day, and the client saw the connection dropped. Now it reads
    no frequency from it (rules.dp_backups_per_day), so the disk's operational tier is held to the year as for any
    frequency it cannot read: 7 days stored, a year and a day refused with Azure's 400."""
    emulator.load_fleet(fleet())
    props = _odd_schedule(how)
    assert call(emulator, "PUT", DP % "bv-ok" + "/backupPolicies/odd-7d", DP_API, {"properties": props}).status_code == 200
    props["policyRules"][1]["lifecycles"][0]["deleteAfter"]["duration"] = "P366D"
    answer = call(emulator, "PUT", DP % "bv-ok" + "/backupPolicies/odd-366d", DP_API, {"properties": props})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "BMSUserErrorInvalidInput", answer.text
