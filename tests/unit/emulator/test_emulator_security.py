# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: the vault security settings of issue 27 (tests/emulator/security.py) through the real SDKs: fleet keys,
PATCH merging them, PermanentlyDisabled one way, read-only properties, Resource Graph rows, random_security fleets,
and a Backup vault's Resource Guard proxy."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from tests.emulator import security
from tests.emulator.generator import generate_fleet
from tests.emulator.store import Store

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-sec"
GUARD = "/subscriptions/%s/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/guard-01" % SUB
RS_KEYS = {"cross_subscription_restore": "disabled", "public_network_access": "disabled",
           "alerts": {"job_failure_alerts": "enabled", "classic_alerts": "disabled"},
           "cmk_key_uri": "https://kv-one.vault.azure.net/keys/k1", "infrastructure_encryption": "enabled",
           "private_endpoints": 2, "storage_redundancy": "ZoneRedundant", "cross_region_restore": "enabled"}


def fleet(*vaults, **top):
    return dict({"subscriptions": [{"id": SUB, "display_name": "sec", "resource_groups": [
        {"name": RG, "location": "westeurope", "vaults": list(vaults)}]}]}, **top)


def vid(name, kind="rs"):
    provider = "Microsoft.RecoveryServices/vaults" if kind == "rs" else "Microsoft.DataProtection/backupVaults"
    return "/subscriptions/%s/resourceGroups/%s/providers/%s/%s" % (SUB, RG, provider, name)


def test_fleet_keys_become_the_properties_of_both_kinds(emulator):
    emulator.load_fleet(fleet(dict({"name": "rsv"}, **RS_KEYS), dict({"name": "bv", "type": "backup"}, **RS_KEYS)))
    rs = emulator.rs_client(SUB).vaults.get(RG, "rsv").as_dict()["properties"]
    assert rs["restoreSettings"] == {"crossSubscriptionRestoreSettings": {"crossSubscriptionRestoreState": "Disabled"}}
    assert rs["publicNetworkAccess"] == "Disabled"
    assert rs["monitoringSettings"] == {"azureMonitorAlertSettings": {"alertsForAllJobFailures": "Enabled"},
                                        "classicAlertSettings": {"alertsForCriticalOperations": "Disabled"}}
    assert rs["encryption"]["keyVaultProperties"] == {"keyUri": "https://kv-one.vault.azure.net/keys/k1"}
    assert rs["encryption"]["infrastructureEncryption"] == "Enabled"
    assert len(rs["privateEndpointConnections"]) == 2 and rs["privateEndpointStateForBackup"] == "Enabled"
    assert rs["redundancySettings"] == {"standardTierStorageRedundancy": "ZoneRedundant", "crossRegionRestore": "Enabled"}
    dp = emulator.dp_client(SUB).backup_vaults.get(RG, "bv").as_dict()["properties"]
    assert dp["featureSettings"] == {"crossSubscriptionRestoreSettings": {"state": "Disabled"},
                                     "crossRegionRestoreSettings": {"state": "Enabled"}}
    assert dp["monitoringSettings"] == {"azureMonitorAlertSettings": {"alertsForAllJobFailures": "Enabled"}}
    assert dp["securitySettings"]["encryptionSettings"]["state"] == "Enabled"
    assert dp["securitySettings"]["encryptionSettings"]["infrastructureEncryption"] == "Enabled"
    assert dp["storageSettings"] == [{"datastoreType": "VaultStore", "type": "ZoneRedundant"}]
    assert "publicNetworkAccess" not in dp and "privateEndpointConnections" not in dp


def test_a_bad_fleet_value_is_refused():
    with pytest.raises(ValueError, match="cross_region_restore"):
        Store("t", fleet({"name": "rsv", "cross_region_restore": "permanently_disabled"}))
    with pytest.raises(ValueError, match="storage_redundancy"):
        Store("t", fleet({"name": "rsv", "storage_redundancy": "tape"}))


def test_patch_merges_the_settings_and_keeps_read_only_ones(emulator):
    emulator.load_fleet(fleet({"name": "rsv", "private_endpoints": 1}, {"name": "bv", "type": "backup"}))
    rs = emulator.rs_client(SUB)
    before = rs.vaults.get(RG, "rsv").as_dict()["properties"]
    rs.vaults.begin_update(RG, "rsv", {"properties": {
        "publicNetworkAccess": "Disabled", "privateEndpointConnections": [],
        "monitoringSettings": {"classicAlertSettings": {"alertsForCriticalOperations": "Disabled"}},
        "restoreSettings": {"crossSubscriptionRestoreSettings": {"crossSubscriptionRestoreState": "PermanentlyDisabled"}}}}).result()
    after = emulator.resource(vid("rsv"))["properties"]
    assert after["publicNetworkAccess"] == "Disabled"
    assert after["monitoringSettings"] == {"classicAlertSettings": {"alertsForCriticalOperations": "Disabled"}}
    assert after["restoreSettings"]["crossSubscriptionRestoreSettings"]["crossSubscriptionRestoreState"] == "PermanentlyDisabled"
    assert after["privateEndpointConnections"] == before["privateEndpointConnections"]
    assert after["securitySettings"]["multiUserAuthorization"] == "Disabled"
    dp = emulator.dp_client(SUB)
    dp.backup_vaults.begin_update(RG, "bv", {"properties": {
        "isVaultProtectedByResourceGuard": True,
        "monitoringSettings": {"azureMonitorAlertSettings": {"alertsForAllJobFailures": "Disabled"}},
        "featureSettings": {"crossSubscriptionRestoreSettings": {"state": "Disabled"}}}}).result()
    got = emulator.resource(vid("bv", "dp"))["properties"]
    assert got["isVaultProtectedByResourceGuard"] is False
    assert got["monitoringSettings"]["azureMonitorAlertSettings"]["alertsForAllJobFailures"] == "Disabled"
    assert got["featureSettings"]["crossSubscriptionRestoreSettings"]["state"] == "Disabled"


READ_ONLY_RS = {"provisioningState": "Failed", "secureScore": "Maximum", "bcdrSecurityLevel": "Excellent",
                "privateEndpointStateForBackup": "Enabled", "privateEndpointStateForSiteRecovery": "Enabled",
                "backupStorageVersion": "V1", "moveState": "MoveSucceeded",
                "securitySettings": {"multiUserAuthorization": "Enabled"}}
READ_ONLY_DP = {"provisioningState": "Failed", "secureScore": "Maximum", "bcdrSecurityLevel": "Excellent",
                "isVaultProtectedByResourceGuard": True, "resourceMoveState": "MoveSucceeded"}


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_read_only_values_in_a_write_change_nothing(emulator, method):
    """Read-only properties (SDK models: vis read; spec readOnly) sent in a vault PUT or PATCH of either kind are ignored:
    the stored values stay, and the service's own ones (score, provisioning state) are computed as before."""
    emulator.load_fleet(fleet({"name": "rsv"}, {"name": "bv", "type": "backup"}))
    for kind, name, sent in (("rs", "rsv", READ_ONLY_RS), ("dp", "bv", READ_ONLY_DP)):
        before = emulator.resource(vid(name, kind))
        api = "2026-11-01" if kind == "rs" else "2026-06-01"
        body = {"properties": sent}
        if method == "PUT":
            body = {"location": before["location"], "properties": dict(sent)}
            if kind == "rs":
                body["sku"] = before["sku"]
        answer = emulator.arm_request(method, vid(name, kind), api, body=body)
        assert answer.status_code in (200, 201, 202), answer.text
        after = emulator.resource(vid(name, kind))["properties"]
        for key in sent:
            if key == "securitySettings":
                assert after[key]["multiUserAuthorization"] == before["properties"][key]["multiUserAuthorization"]
            else:
                assert after.get(key) == before["properties"].get(key), (kind, key)


def test_a_backup_vault_patch_changes_only_what_the_patch_contract_holds(emulator):
    """A Backup vault PATCH carries PatchBackupVaultInput (monitoringSettings, securitySettings, featureSettings,
    costManagementSettings, resourceGuardOperationRequests; SDK azure-mgmt-dataprotection, api-notes): anything else in
    it, storage redundancy included, leaves the vault as it was (ignored, assumed). The emulator merged the whole body,
    so a PATCH changed storageSettings, which only a PUT can."""
    emulator.load_fleet(fleet({"name": "bv", "type": "backup"}))
    before = emulator.resource(vid("bv", "dp"))["properties"]
    emulator.dp_client(SUB).backup_vaults.begin_update(RG, "bv", {"properties": {
        "storageSettings": [{"datastoreType": "VaultStore", "type": "GeoRedundant"}], "replicatedRegions": ["northeurope"],
        "monitoringSettings": {"azureMonitorAlertSettings": {"alertsForAllJobFailures": "Disabled"}}}}).result()
    after = emulator.resource(vid("bv", "dp"))["properties"]
    assert after["storageSettings"] == before["storageSettings"]
    assert "replicatedRegions" not in after or after.get("replicatedRegions") == before.get("replicatedRegions")
    assert after["monitoringSettings"]["azureMonitorAlertSettings"]["alertsForAllJobFailures"] == "Disabled"


@pytest.mark.parametrize("kind", ["rs", "dp"])
def test_permanently_disabled_is_one_way(emulator, kind):
    spec = {"name": "v1", "cross_subscription_restore": "permanently_disabled"}
    if kind == "dp":
        spec["type"] = "backup"
    emulator.load_fleet(fleet(spec))
    before = emulator.resource(vid("v1", kind))
    for state in ("Enabled", "Disabled"):
        with pytest.raises(HttpResponseError) as err:
            if kind == "rs":
                emulator.rs_client(SUB).vaults.begin_update(RG, "v1", {"properties": {"restoreSettings": {
                    "crossSubscriptionRestoreSettings": {"crossSubscriptionRestoreState": state}}}}).result()
            else:
                emulator.dp_client(SUB).backup_vaults.begin_update(RG, "v1", {"properties": {"featureSettings": {
                    "crossSubscriptionRestoreSettings": {"state": state}}}}).result()
        assert err.value.error.code == security.CSR_CODE
    assert emulator.resource(vid("v1", kind))["properties"] == before["properties"]
    # Writing PermanentlyDisabled again, or anything else, is fine.
    if kind == "rs":
        emulator.rs_client(SUB).vaults.begin_update(RG, "v1", {"properties": {"publicNetworkAccess": "Disabled"}}).result()
        assert emulator.resource(vid("v1"))["properties"]["publicNetworkAccess"] == "Disabled"


def test_resource_graph_rows_carry_the_same_properties(emulator):
    emulator.load_fleet(fleet(dict({"name": "rsv"}, **RS_KEYS), dict({"name": "bv", "type": "backup"}, **RS_KEYS)))
    rows = emulator.graph_query("resources | where type in~ ('microsoft.recoveryservices/vaults', "
                                "'microsoft.dataprotection/backupvaults') | project id, properties",
                                subscriptions=[SUB]).json()["data"]
    by_id = {row["id"].lower(): row["properties"] for row in rows}
    for name, kind in (("rsv", "rs"), ("bv", "dp")):
        assert by_id[vid(name, kind).lower()] == emulator.resource(vid(name, kind))["properties"]


def test_random_security_fleets_are_deterministic_and_cover_every_value():
    one = Store("t", generate_fleet(200, seed="7", random_security=True))
    two = Store("t", generate_fleet(200, seed="7", random_security=True))
    plain = Store("t", generate_fleet(200, seed="7"))

    def bodies(store):
        return {n: v["body"]["properties"] for s in store.subs.values() for g in s["rgs"].values() for k in ("rs", "dp")
                for n, v in g[k].items()}
    a, b, c = bodies(one), bodies(two), bodies(plain)
    assert a == b and set(a) == set(c)
    states = {security.csr_state("rs" if n.startswith("rsv") else "dp", p) for n, p in a.items()}
    assert states == {"Enabled", "Disabled", "PermanentlyDisabled"}
    assert {p.get("publicNetworkAccess") for n, p in a.items() if n.startswith("rsv")} == {"Enabled", "Disabled"}
    assert any(p.get("privateEndpointConnections") for p in a.values())
    # The rest of the fleet is the same vaults with the same immutability and soft delete.
    for name, props in c.items():
        assert a[name]["securitySettings"]["softDeleteSettings"] == props["securitySettings"]["softDeleteSettings"]
    # A vault that sets a key keeps it; a body: vault is served as stored.
    doc = fleet({"name": "rsv-set", "cross_subscription_restore": "enabled"},
                {"name": "rsv-body", "body": {"location": "westeurope", "properties": {"publicNetworkAccess": "Enabled"}}},
                random_security={"seed": "1"})
    store = Store("t", doc)
    vaults = store.subs[SUB]["rgs"][RG]["rs"]
    assert security.csr_state("rs", vaults["rsv-set"]["body"]["properties"]) == "Enabled"
    assert vaults["rsv-body"]["body"]["properties"] == {"publicNetworkAccess": "Enabled"}


def test_emulator_generate_control_takes_random_security(emulator):
    emulator.generate(20, seed="5", random_security=True)
    counts = {}
    rows = emulator.graph_query("resources | where type =~ 'microsoft.recoveryservices/vaults' | project properties").json()["data"]
    for row in rows:
        state = security.csr_state("rs", row["properties"])
        counts[state] = counts.get(state, 0) + 1
    assert rows and len(counts) >= 2


def test_backup_vault_resource_guard_proxy_through_the_sdk(emulator):
    emulator.load_fleet(fleet({"name": "bv", "type": "backup"}))
    dp = emulator.dp_client(SUB)
    made = dp.dpp_resource_guard_proxy.create_or_update(RG, "bv", "DppResourceGuardProxy",
                                                        {"properties": {"resourceGuardResourceId": GUARD}})
    assert made.properties.resource_guard_resource_id == GUARD
    # The type as the live service and the spec example give it (tests/fixtures/azure-real/cliext-dp-guard-proxy).
    assert made.type == "Microsoft.DataProtection/vaults/backupResourceGuardProxies"
    assert dp.backup_vaults.get(RG, "bv").properties.is_vault_protected_by_resource_guard is True
    assert [p.name for p in dp.dpp_resource_guard_proxy.list(RG, "bv")] == ["DppResourceGuardProxy"]
    # Removing the protection is a critical operation the guard itself protects (multi-user authorization): refused
    # without a token of the guard's tenant in x-ms-authorization-auxiliary (tests/unit/emulator/test_emulator_mua.py).
    with pytest.raises(HttpResponseError) as refused:
        dp.dpp_resource_guard_proxy.delete(RG, "bv", "DppResourceGuardProxy")
    assert refused.value.status_code == 403 and refused.value.error.code == "UserErrorResourceGuardAuthorizationRequired"
    assert dp.backup_vaults.get(RG, "bv").properties.is_vault_protected_by_resource_guard is True


# ------------------------------------------------------------------ one-way storage settings (security.check_redundancy)
def _protected(name, kind="rs", **keys):
    from tests.emulator import generator
    if kind == "rs":
        policy, item = {"name": "VMDaily", "properties": generator.iaas_v1(False)}, "VM"
    else:
        policy, item = {"name": "DiskHourly", "properties": generator.dp_disk(False)}, "Microsoft.Compute/disks"
    return dict({"name": name, "type": "recovery_services" if kind == "rs" else "backup", "policies": [policy],
                 "protected_items": [{"name": "item-1", "policy": policy["name"], "datasource_type": item}]}, **keys)


def test_storage_redundancy_is_fixed_once_items_are_protected(emulator):
    """Learn: the storage redundancy can be changed only before items are protected; the emulator refuses the change
    (the refusing side; code assumed) through the vault API of both kinds and the storage config, and the vault without
    items may still change it."""
    emulator.load_fleet(fleet(_protected("rsv", storage_redundancy="GeoRedundant"),
                              _protected("bv", "dp", storage_redundancy="GeoRedundant"),
                              {"name": "empty", "storage_redundancy": "GeoRedundant"}))
    rs, dp, backup = emulator.rs_client(SUB), emulator.dp_client(SUB), emulator.backup_client(SUB)
    with pytest.raises(HttpResponseError) as err:
        rs.vaults.begin_update(RG, "rsv", {"properties": {"redundancySettings": {
            "standardTierStorageRedundancy": "LocallyRedundant"}}}).result()
    # Recovery Services: the live answer quoted in hashicorp/terraform-provider-azurerm#8813 (the emulator had an assumed code).
    assert err.value.status_code == 400 and err.value.error.code == "StorageModelModifyError"
    assert err.value.error.message.startswith("Storage Redundancy option is locked when the first machine is registered")
    with pytest.raises(HttpResponseError) as err:
        backup.backup_resource_storage_configs_non_crr.patch("rsv", RG, {"properties": {"storageType": "LocallyRedundant"}})
    assert err.value.error.code == "StorageModelModifyError"
    assert emulator.resource(vid("rsv"))["properties"]["redundancySettings"]["standardTierStorageRedundancy"] == "GeoRedundant"
    with pytest.raises(HttpResponseError) as err:
        # A PUT: a Backup vault PATCH has no storageSettings (PatchBackupVaultInput), the emulator leaves them as they are.
        dp.backup_vaults.begin_create_or_update(RG, "bv", {"location": "westeurope", "properties": {"storageSettings": [
            {"datastoreType": "VaultStore", "type": "LocallyRedundant"}]}}).result()
    assert err.value.error.code == security.REDUNDANCY_CODE
    assert emulator.resource(vid("bv", "dp"))["properties"]["storageSettings"][0]["type"] == "GeoRedundant"
    # The same redundancy again is no change; a vault without items changes it.
    rs.vaults.begin_update(RG, "rsv", {"properties": {"redundancySettings": {"standardTierStorageRedundancy": "GeoRedundant"}}}).result()
    backup.backup_resource_storage_configs_non_crr.patch("empty", RG, {"properties": {"storageType": "LocallyRedundant"}})
    assert emulator.resource(vid("empty"))["properties"]["redundancySettings"]["standardTierStorageRedundancy"] == "LocallyRedundant"


def test_cross_region_restore_cannot_be_disabled_once_enabled(emulator):
    """Learn: cross region restore, once enabled, cannot be disabled; the emulator refuses it, both kinds and the storage
    config, with the Backup vault's recorded answer (test_emulator_recorded_refusals.py; for Recovery Services assumed);
    enabling it stays allowed."""
    emulator.load_fleet(fleet({"name": "rsv", "cross_region_restore": "enabled"},
                              {"name": "bv", "type": "backup", "cross_region_restore": "enabled"},
                              {"name": "off", "cross_region_restore": "disabled"}))
    rs, dp, backup = emulator.rs_client(SUB), emulator.dp_client(SUB), emulator.backup_client(SUB)
    with pytest.raises(HttpResponseError) as err:
        rs.vaults.begin_update(RG, "rsv", {"properties": {"redundancySettings": {"crossRegionRestore": "Disabled"}}}).result()
    assert err.value.status_code == 400 and err.value.error.code == security.CRR_CODE
    with pytest.raises(HttpResponseError) as err:
        backup.backup_resource_storage_configs_non_crr.patch("rsv", RG, {"properties": {"crossRegionRestoreFlag": False}})
    assert err.value.error.code == security.CRR_CODE
    assert emulator.resource(vid("rsv"))["properties"]["redundancySettings"]["crossRegionRestore"] == "Enabled"
    with pytest.raises(HttpResponseError) as err:
        dp.backup_vaults.begin_update(RG, "bv", {"properties": {"featureSettings": {
            "crossRegionRestoreSettings": {"state": "Disabled"}}}}).result()
    assert err.value.error.code == security.CRR_CODE
    assert emulator.resource(vid("bv", "dp"))["properties"]["featureSettings"]["crossRegionRestoreSettings"]["state"] == "Enabled"
    rs.vaults.begin_update(RG, "off", {"properties": {"redundancySettings": {"crossRegionRestore": "Enabled"}}}).result()
    assert emulator.resource(vid("off"))["properties"]["redundancySettings"]["crossRegionRestore"] == "Enabled"
