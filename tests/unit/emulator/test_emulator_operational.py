# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: immutability does not apply to operational backups (Microsoft Learn), so shortening them is
accepted on an immutable vault, while shortening a vaulted tier is refused."""
from __future__ import annotations

import copy

import pytest
from azure.core.exceptions import HttpResponseError

from tests.emulator import rules
from tests.fixtures import load_reference

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-ops"


def fleet(kind, immutability, name, props):
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "v", "type": kind, "immutability": immutability, "policies": [{"name": name, "properties": props}]}]}]}]}


def _code(err):
    return err.value.error.code


@pytest.mark.parametrize("immutability", ["enabled", "locked"])
def test_backup_vault_policies_are_not_updated_operational_store_or_vault_store(emulator, immutability):
    """Immutability does not hold a Backup vault's operational store, but Azure updates no Backup vault policy at all
    (rules.DP_POLICY_UPDATE_CODE): shortening either store of an existing policy is refused with that code. Before,
    the emulator took the operational cut and refused the vaulted one as an immutable vault's reduction."""
    # The az CLI's default disk policy: operational store, 7 days.
    disk = load_reference("dataprotection/cli-default-policy-templates/AzureDisk.defaultPolicy.json")
    props = {k: v for k, v in disk.items() if k != "name"}
    emulator.load_fleet(fleet("backup", immutability, "disk", props))
    client = emulator.dp_client()
    shorter = copy.deepcopy(props)
    for rule in shorter["policyRules"]:
        for life in rule.get("lifecycles") or []:
            assert life["sourceDataStore"]["dataStoreType"] == "OperationalStore"
            life["deleteAfter"]["duration"] = "P1D"
    with pytest.raises(HttpResponseError) as err:
        client.backup_policies.create_or_update(RG, "v", "disk", {"properties": shorter})
    assert _code(err) == rules.DP_POLICY_UPDATE_CODE
    # Disks keep no vaulted tier (the emulator refuses it, rules.DP_DATASTORES): the same policy for blobs, vaulted, backed
    # up daily (blobs are never backed up hourly: rules.DP_BACKUP_FREQUENCIES).
    vaulted = copy.deepcopy(props)
    vaulted["datasourceTypes"] = ["Microsoft.Storage/storageAccounts/blobServices"]
    for rule in vaulted["policyRules"]:
        if rule.get("dataStore"):
            rule["dataStore"]["dataStoreType"] = "VaultStore"
            rule["trigger"]["schedule"]["repeatingTimeIntervals"] = ["R/2020-04-05T13:00:00+00:00/P1D"]
        for life in rule.get("lifecycles") or []:
            life["sourceDataStore"]["dataStoreType"] = "VaultStore"
            life["deleteAfter"]["duration"] = "P30D"
    client.backup_policies.create_or_update(RG, "v", "vaulted", {"properties": vaulted})
    less = copy.deepcopy(vaulted)
    for rule in less["policyRules"]:
        for life in rule.get("lifecycles") or []:
            life["deleteAfter"]["duration"] = "P7D"
    with pytest.raises(HttpResponseError) as err:
        client.backup_policies.create_or_update(RG, "v", "vaulted", {"properties": less})
    assert _code(err) == rules.DP_POLICY_UPDATE_CODE
    # A new policy may keep less on the operational store of an immutable vault: immutability does not hold it.
    got = client.backup_policies.create_or_update(RG, "v", "disk-short", {"properties": shorter})
    assert [life.delete_after.duration for rule in got.properties.policy_rules for life in getattr(rule, "lifecycles", None) or []] == ["P1D"]


def test_azure_files_snapshot_tier_shortens_vaulted_tier_does_not(emulator):
    example = load_reference("recoveryservicesbackup/2026-10-01/examples/AzureStorage/ProtectionPolicies_CreateOrUpdate_Hardened.json")
    props = copy.deepcopy(example["parameters"]["parameters"]["properties"])
    emulator.load_fleet(fleet("recovery_services", "locked", "files", props))
    backup = emulator.backup_client()
    fewer = copy.deepcopy(props)
    fewer["vaultRetentionPolicy"]["snapshotRetentionInDays"] = 1
    got = backup.protection_policies.create_or_update("v", RG, "files", {"properties": fewer})
    assert got.properties.vault_retention_policy.snapshot_retention_in_days == 1
    less = copy.deepcopy(fewer)
    less["vaultRetentionPolicy"]["vaultRetention"]["dailySchedule"]["retentionDuration"]["count"] = 1
    with pytest.raises(HttpResponseError) as err:
        backup.protection_policies.create_or_update("v", RG, "files", {"properties": less})
    assert _code(err) == rules.RETENTION_CODE


def test_azure_files_snapshot_only_policy_is_operational(emulator):
    example = load_reference("recoveryservicesbackup/2026-01-01/examples/AzureStorage/ProtectionPolicies_CreateOrUpdate_Daily.json")
    props = copy.deepcopy(example["parameters"]["parameters"]["properties"])
    assert "vaultRetentionPolicy" not in props
    emulator.load_fleet(fleet("recovery_services", "enabled", "snap", props))
    shorter = copy.deepcopy(props)
    shorter["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 1
    got = emulator.backup_client().protection_policies.create_or_update("v", RG, "snap", {"properties": shorter})
    assert got.properties.retention_policy.daily_schedule.retention_duration.count == 1


def test_operational_keys_rule():
    from tests.emulator.operational import operational_keys  # pylint: disable=import-outside-toplevel

    vm = {"backupManagementType": "AzureIaasVM"}
    tiers = {"retentionPolicy.dailySchedule": 30.0, "instantRpRetentionRangeInDays": 2.0}
    assert operational_keys(vm, tiers) == set()  # VM instant restore snapshots: not operational (the refusing side)
    files = {"backupManagementType": "AzureStorage"}
    tiers = {"retentionPolicy.dailySchedule": 30.0, "vaultRetentionPolicy.snapshotRetentionInDays": 5.0,
             "vaultRetentionPolicy.vaultRetention.dailySchedule": 30.0}
    assert operational_keys(files, tiers) == {"retentionPolicy.dailySchedule", "vaultRetentionPolicy.snapshotRetentionInDays"}
    assert operational_keys({"backupManagementType": "AzureWorkload"}, {"subProtectionPolicy[Full].dailySchedule": 30.0}) == set()
