# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Backup vault policy is created only with the retention tags and backup schedules its datasource type has
(rules.DP_RETENTION_TAGS, DP_BACKUP_FREQUENCIES, DP_HOURLY_INTERVALS): the policySettings of Microsoft's clients'
manifests (tests/fixtures/azure-reference/dataprotection/client-manifests/policySettings.json, SOURCE.md) and Learn's
hourly intervals for disks and AKS. Every default policy those manifests create is still accepted. Through the real
azure-mgmt-dataprotection SDK."""
from __future__ import annotations

import copy

import pytest

from tests.emulator import rules
from tests.fixtures import load_reference

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-dp-tags"
MANIFESTS = load_reference("dataprotection/client-manifests/policySettings.json")
DISKS, BLOBS, ADLS = "Microsoft.Compute/disks", "Microsoft.Storage/storageAccounts/blobServices", "Microsoft.Storage/storageAccounts/adlsBlobServices"
PG, PG_FLEX, MYSQL = "Microsoft.DBforPostgreSQL/servers/databases", "Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.DBforMySQL/flexibleServers"
AKS, COSMOS, ESAN = "Microsoft.ContainerService/managedClusters", "Microsoft.DocumentDB/databaseAccounts", "Microsoft.ElasticSan/elasticSans/volumeGroups"
STORE = {DISKS: "OperationalStore", AKS: "OperationalStore", ESAN: "OperationalStore", BLOBS: "VaultStore", ADLS: "VaultStore",
         PG: "VaultStore", PG_FLEX: "VaultStore", MYSQL: "VaultStore", COSMOS: "VaultStore", "OssDB": "VaultStore"}


def fleet():
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "bv", "type": "backup", "immutability": "enabled"}]}]}]}


def _policy(datasource, interval="P1W", tags=(), rules_named=None):
    """A policy of ``datasource``: a backup rule every ``interval`` tagging Default and ``tags`` (each on Sundays), the
    Default retention rule and one retention rule per name of ``rules_named`` (``tags`` when None), all on its datastore."""
    store = STORE[datasource]
    criteria = [{"isDefault": True, "taggingPriority": 99, "tagInfo": {"tagName": "Default"}}]
    criteria += [{"isDefault": False, "taggingPriority": 20, "tagInfo": {"tagName": tag}, "criteria": [
        {"objectType": "ScheduleBasedBackupCriteria", "daysOfTheWeek": ["Sunday"]}]} for tag in tags]
    lifecycle = {"deleteAfter": {"objectType": "AbsoluteDeleteOption", "duration": "P7D"},
                 "sourceDataStore": {"dataStoreType": store, "objectType": "DataStoreInfoBase"}}
    policy_rules = [
        {"name": "Backup", "objectType": "AzureBackupRule", "backupParameters": {"backupType": "Incremental", "objectType": "AzureBackupParams"},
         "dataStore": {"dataStoreType": store, "objectType": "DataStoreInfoBase"},
         "trigger": {"objectType": "ScheduleBasedTriggerContext", "schedule": {"repeatingTimeIntervals": ["R/2026-01-04T02:00:00+00:00/" + interval]},
                     "taggingCriteria": criteria}},
        {"name": "Default", "objectType": "AzureRetentionRule", "isDefault": True, "lifecycles": [copy.deepcopy(lifecycle)]}]
    policy_rules += [{"name": name, "objectType": "AzureRetentionRule", "isDefault": False, "lifecycles": [copy.deepcopy(lifecycle)]}
                     for name in (tags if rules_named is None else rules_named)]
    return {"objectType": "BackupPolicy", "datasourceTypes": [datasource], "policyRules": policy_rules}


def _create(emulator, name, props):
    emulator.load_fleet(fleet())
    return emulator.dp_client(SUB).backup_policies.create_or_update(RG, "bv", name, {"properties": props})


def _refused(emulator, name, props, target):
    from azure.core.exceptions import HttpResponseError  # pylint: disable=import-outside-toplevel
    with pytest.raises(HttpResponseError) as err:
        _create(emulator, name, props)
    assert err.value.status_code == 400 and err.value.error.code == "BMSUserErrorInvalidInput"
    assert err.value.error.target == target
    assert [p.name for p in emulator.dp_client(SUB).backup_policies.list(RG, "bv")] == []   # nothing stored


def test_the_emulators_tables_are_the_client_manifests():
    """Every datasource type of the manifests has exactly their tags and frequencies in the emulator's tables (AKS: also weekly)."""
    assert len(MANIFESTS) == len(rules.DP_RETENTION_TAGS) == len(rules.DP_BACKUP_FREQUENCIES) == 9
    for manifest in MANIFESTS.values():
        key = manifest["datasourceType"].lower()
        settings = manifest["policySettings"]
        assert rules.DP_RETENTION_TAGS[key] == tuple(settings["supportedRetentionTags"]), key
        # The one exception the service's own answers make: AKS weekly (Terraform's acceptance tests against Azure).
        extra = {"Weekly"} if key == "microsoft.containerservice/managedclusters" else set()
        assert set(rules.DP_BACKUP_FREQUENCIES[key]) == set(settings["supportedBackupFrequency"]) | extra, key
        for name in (settings.get("defaultRetentionRuleNames") or {}).values():
            assert name in rules.DP_DEFAULT_RULE_NAMES


@pytest.mark.parametrize("manifest", sorted(MANIFESTS))
def test_every_default_policy_of_microsofts_clients_is_created(emulator, manifest):
    """The defaultPolicy of each manifest (Cosmos DB's Default rule keeps P10Y) is created and stored as sent."""
    props = {key: value for key, value in copy.deepcopy(MANIFESTS[manifest]["defaultPolicy"]).items() if key != "name"}
    name = "default-" + manifest.lower()
    assert _create(emulator, name, props).name == name
    stored = emulator.resource("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/bv/backupPolicies/%s"
                               % (SUB, RG, name))
    assert stored["properties"] == props   # the clients send the tag ids the service would add


# (id, policy, target of the refusal or None when created). Retention tags: disks, AKS and Elastic SAN Daily and Weekly;
# blobs, ADLS, PostgreSQL, MySQL and Cosmos DB Weekly, Monthly and Yearly (the manifests' supportedRetentionTags).
RULE, TAG = "policyRules[%d].name", "policyRules[0].trigger.taggingCriteria[%d].tagInfo.tagName"
TAG_CASES = [
    ("disk-monthly-rule", _policy(DISKS, "P1D", rules_named=["Monthly"]), RULE % 2),
    ("disk-yearly-tag", _policy(DISKS, "P1D", tags=["Yearly"], rules_named=[]), TAG % 1),
    ("disk-daily-weekly", _policy(DISKS, "PT4H", tags=["Daily", "Weekly"]), None),
    ("aks-monthly", _policy(AKS, "PT4H", tags=["Monthly"]), TAG % 1),
    ("aks-weekly", _policy(AKS, "PT4H", tags=["Weekly"]), None),
    ("esan-yearly", _policy(ESAN, "P1D", tags=["Yearly"]), TAG % 1),
    ("esan-daily", _policy(ESAN, "P1D", tags=["Daily"]), None),
    ("blob-daily", _policy(BLOBS, "P1D", tags=["Daily"]), TAG % 1),
    ("blob-weekly-monthly-yearly", _policy(BLOBS, "P1D", tags=["Weekly", "Monthly", "Yearly"]), None),
    ("blob-operational-default", dict(_policy(BLOBS, "P1D"), policyRules=_policy(BLOBS, "P1D")["policyRules"] + [
        {"name": "Default_OperationalStore", "objectType": "AzureRetentionRule", "isDefault": True, "lifecycles": [
            {"deleteAfter": {"objectType": "AbsoluteDeleteOption", "duration": "P30D"},
             "sourceDataStore": {"dataStoreType": "OperationalStore", "objectType": "DataStoreInfoBase"}}]}]), None),
    ("adls-daily", _policy(ADLS, "P1W", tags=["Daily"]), TAG % 1),
    ("pg-daily", _policy(PG, "P1W", tags=["Daily"]), TAG % 1),
    ("pg-flex-hourly-tag", _policy(PG_FLEX, "P1W", tags=["Hourly"]), TAG % 1),
    ("mysql-monthly", _policy(MYSQL, "P1W", tags=["Monthly"]), None),
    ("cosmos-daily", _policy(COSMOS, "P1W", tags=["Daily"]), TAG % 1),
    ("cosmos-yearly", _policy(COSMOS, "P1W", tags=["Yearly"]), None),
    ("disk-custom-name", _policy(DISKS, "P1D", rules_named=["Keep90"]), RULE % 2),
    ("disk-lower-case-weekly", _policy(DISKS, "P1D", tags=["weekly"]), None),
    ("unknown-type-monthly", _policy("OssDB", "P1W", tags=["Monthly"]), None),   # the spec example's type: not checked
]
# Backup schedules: disks and AKS hourly or daily (AKS also weekly: Terraform acceptance tests against Azure), blobs, ADLS
# and Elastic SAN daily or weekly, PostgreSQL, MySQL and Cosmos DB weekly (supportedBackupFrequency); disks' hourly
# intervals 1, 2, 4, 6, 8, 12 hours, AKS's 4, 8, 12 (Learn).
SCHEDULE = "policyRules[0].trigger.schedule.repeatingTimeIntervals[0]"
SCHEDULE_CASES = [
    ("esan-hourly", _policy(ESAN, "PT4H"), SCHEDULE), ("esan-daily", _policy(ESAN, "P1D"), None), ("esan-weekly", _policy(ESAN, "P1W"), None),
    ("blob-hourly", _policy(BLOBS, "PT4H"), SCHEDULE), ("blob-daily", _policy(BLOBS, "P1D"), None), ("blob-weekly", _policy(BLOBS, "P1W"), None),
    ("adls-hourly", _policy(ADLS, "PT12H"), SCHEDULE), ("adls-weekly", _policy(ADLS, "P1W"), None),
    ("disk-weekly", _policy(DISKS, "P1W"), SCHEDULE), ("disk-3h", _policy(DISKS, "PT3H"), SCHEDULE), ("disk-24h", _policy(DISKS, "PT24H"), SCHEDULE),
    ("disk-1h", _policy(DISKS, "PT1H"), None), ("disk-2h", _policy(DISKS, "PT2H"), None), ("disk-12h", _policy(DISKS, "PT12H"), None),
    ("disk-daily", _policy(DISKS, "P1D"), None), ("disk-every-2-days", _policy(DISKS, "P2D"), SCHEDULE),
    ("aks-6h", _policy(AKS, "PT6H"), SCHEDULE), ("aks-1h", _policy(AKS, "PT1H"), SCHEDULE), ("aks-8h", _policy(AKS, "PT8H"), None),
    ("aks-daily", _policy(AKS, "P1D"), None), ("aks-weekly", _policy(AKS, "P1W"), None),
    ("pg-daily", _policy(PG, "P1D"), SCHEDULE), ("pg-flex-daily", _policy(PG_FLEX, "P1D"), SCHEDULE), ("pg-flex-weekly", _policy(PG_FLEX, "P1W"), None),
    ("mysql-hourly", _policy(MYSQL, "PT4H"), SCHEDULE), ("cosmos-daily", _policy(COSMOS, "P1D"), SCHEDULE),
    ("cosmos-every-2-weeks", _policy(COSMOS, "P2W"), SCHEDULE), ("disk-not-an-interval", _policy(DISKS, "daily"), SCHEDULE),
    ("unknown-type-hourly", _policy("OssDB", "PT4H"), None),
]


@pytest.mark.parametrize("name, props, target", TAG_CASES + SCHEDULE_CASES,
                         ids=["tag-" + case[0] for case in TAG_CASES] + ["schedule-" + case[0] for case in SCHEDULE_CASES])
def test_a_policy_with_a_tag_or_schedule_its_datasource_type_has_not_is_refused(emulator, name, props, target):
    """Before, every one of these was created: a disk policy with a Monthly rule, an hourly Elastic SAN or blob policy."""
    if target is None:
        assert _create(emulator, name, props).name == name
    else:
        _refused(emulator, name, props, target)
