# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: protected items (Recovery Services) and backup instances (Backup vaults) through the real SDKs,
shaped after the REST spec examples; the generator's protected items and benchmark presets."""
from __future__ import annotations

import contextlib
import io
import json
import pathlib

import pytest
import yaml
from azure.core.exceptions import HttpResponseError

from tests.emulator import cli, generator
from tests.emulator.store import FleetError, Store
from tests.fixtures import load_reference

ERRORS = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "azure_errors"

SUB = "44444444-aaaa-4000-8000-000000000004"
RG = "rg-items"
RS_EXAMPLE = "recoveryservicesbackup/2026-10-01/examples/AzureIaasVm/BackupProtectedItems_List.json"
DP_EXAMPLE = "dataprotection/2026-06-01/examples/BackupInstanceOperations/ListBackupInstances.json"


def _fleet(rs_items=None, dp_items=None):
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv-items", "type": "recovery_services",
         "policies": [{"name": "VMDaily", "properties": generator.iaas_v2(False)},
                      {"name": "SQLDaily", "properties": generator.sql(False)},
                      {"name": "FilesDaily", "properties": generator.azure_files(False)}],
         "protected_items": rs_items if rs_items is not None else [
             {"name": "vm-app-1", "policy": "VMDaily", "datasource_type": "VM"},
             {"name": "vm-app-2", "policy": "VMDaily", "datasource_type": "AzureIaasVM"},
             {"name": "salesdb", "policy": "SQLDaily", "datasource_type": "SQLDataBase"},
             {"name": "share1", "policy": "FilesDaily", "datasource_type": "AzureFileShare"}]},
        {"name": "bv-items", "type": "backup",
         "policies": [{"name": "DiskHourly", "properties": generator.dp_disk(False)},
                      {"name": "BlobDaily", "properties": generator.dp_blob(False)}],
         "protected_items": dp_items if dp_items is not None else [
             {"name": "disk-os", "policy": "DiskHourly", "datasource_type": "Microsoft.Compute/disks"},
             {"name": "stblobs", "policy": "BlobDaily", "datasource_type": "Microsoft.Storage/storageAccounts/blobServices"}]},
    ]}]}]}


def test_recovery_services_protected_items_through_the_sdk(emulator):
    emulator.load_fleet(_fleet())
    client = emulator.backup_client(SUB)
    items = list(client.backup_protected_items.list("rsv-items", RG))
    assert len(items) == 4
    example = load_reference(RS_EXAMPLE)["responses"]["200"]["body"]["value"][0]
    raw = emulator.arm_request("GET", "subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-items/"
                               "backupProtectedItems" % (SUB, RG), "2026-10-01").json()["value"]
    vm = [i for i in raw if i["properties"]["friendlyName"] == "vm-app-1"][0]
    assert set(vm) == set(example) and set(example["properties"]) <= set(vm["properties"])
    assert vm["type"] == example["type"]
    assert vm["name"] == "VM;iaasvmcontainerv2;%s;vm-app-1" % RG.lower()
    assert "/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;" in vm["id"]
    assert vm["properties"]["policyId"].endswith("/vaults/rsv-items/backupPolicies/VMDaily")
    assert vm["properties"]["policyName"] == "VMDaily" and vm["properties"]["policyType"] == "V2"
    kinds = {i["properties"]["friendlyName"]: tuple(i["properties"][k] for k in ("backupManagementType", "workloadType",
                                                                                 "protectedItemType")) for i in raw}
    assert kinds == {"vm-app-1": ("AzureIaasVM", "VM", "Microsoft.Compute/virtualMachines"),
                     "vm-app-2": ("AzureIaasVM", "VM", "Microsoft.Compute/virtualMachines"),
                     "salesdb": ("AzureWorkload", "SQLDataBase", "AzureVmWorkloadSQLDatabase"),
                     "share1": ("AzureStorage", "AzureFileShare", "AzureFileShareProtectedItem")}
    # The SDK's own models read them (item names end with the data source's name).
    by_sdk = {i.name.rsplit(";", 1)[1]: i.properties for i in items}
    assert by_sdk["vm-app-1"].protected_item_type == "Microsoft.Compute/virtualMachines"
    assert by_sdk["salesdb"].protected_item_type == "AzureVmWorkloadSQLDatabase"
    assert by_sdk["share1"].policy_name == "FilesDaily" and by_sdk["share1"].workload_type == "AzureFileShare"
    # The policy counts the items on it.
    assert client.protection_policies.get("rsv-items", RG, "VMDaily").properties.protected_items_count == 2


@pytest.mark.parametrize("filt,names", [
    ("backupManagementType eq 'AzureIaasVM' and itemType eq 'VM'", {"vm-app-1", "vm-app-2"}),
    ("backupManagementType eq 'AzureWorkload'", {"salesdb"}),
    ("policyName eq 'FilesDaily'", {"share1"}),
    ("backupManagementType eq 'AzureIaasVM' and policyName eq 'SQLDaily'", set()),
])
def test_protected_items_filter_as_the_sdk_sends_it(emulator, filt, names):
    emulator.load_fleet(_fleet())
    client = emulator.backup_client(SUB)
    found = {i.name.rsplit(";", 1)[1] for i in client.backup_protected_items.list("rsv-items", RG, filter=filt)}
    assert found == names
    assert emulator.journal()[-1]["query"]["$filter"] == filt


def test_protected_items_refuse_an_unknown_filter_and_page(emulator):
    emulator.load_fleet(_fleet())
    client = emulator.backup_client(SUB)
    with pytest.raises(HttpResponseError) as err:
        list(client.backup_protected_items.list("rsv-items", RG, filter="protectionState eq 'Protected'"))
    assert err.value.status_code == 400 and err.value.error.code == "BMSUserErrorInvalidInput"
    emulator.settings(page_size=3)
    assert len(list(client.backup_protected_items.list("rsv-items", RG))) == 4
    assert len([e for e in emulator.journal() if e["path"].endswith("/backupProtectedItems")]) >= 2


def test_backup_instances_through_the_sdk(emulator):
    emulator.load_fleet(_fleet())
    client = emulator.dp_client(SUB)
    listed = list(client.backup_instances.list(RG, "bv-items"))
    assert sorted(i.name for i in listed) == ["disk-os", "stblobs"]
    example = load_reference(DP_EXAMPLE)["responses"]["200"]["body"]["value"][0]
    raw = emulator.arm_request("GET", "subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/bv-items/"
                               "backupInstances" % (SUB, RG), "2026-06-01").json()["value"]
    disk = [i for i in raw if i["name"] == "disk-os"][0]
    assert set(disk) == set(example) and set(example["properties"]) <= set(disk["properties"])
    assert set(example["properties"]["dataSourceInfo"]) == set(disk["properties"]["dataSourceInfo"])
    assert disk["properties"]["dataSourceInfo"]["datasourceType"] == "Microsoft.Compute/disks"
    assert disk["properties"]["policyInfo"]["policyId"].endswith("/backupVaults/bv-items/backupPolicies/DiskHourly")
    blob = [i for i in raw if i["name"] == "stblobs"][0]["properties"]
    assert blob["dataSourceSetInfo"]["resourceType"] == "Microsoft.Storage/storageAccounts"
    one = client.backup_instances.get(RG, "bv-items", "disk-os")
    assert one.properties.current_protection_state == "ProtectionConfigured"
    with pytest.raises(HttpResponseError) as err:
        client.backup_instances.get(RG, "bv-items", "nope")
    assert err.value.status_code == 404


def test_vaults_without_items_list_none(emulator):
    emulator.load_fleet(_fleet(rs_items=[], dp_items=[]))
    assert list(emulator.backup_client(SUB).backup_protected_items.list("rsv-items", RG)) == []
    assert list(emulator.dp_client(SUB).backup_instances.list(RG, "bv-items")) == []


@pytest.mark.parametrize("items,message", [
    ([{"name": "x", "policy": "Nope", "datasource_type": "VM"}], "does not have"),
    ([{"name": "x", "policy": "VMDaily", "datasource_type": "Oracle"}], "datasource_type must be one of"),
    ([{"name": "x", "policy": "VMDaily"}, {"name": "x", "policy": "VMDaily"}], "listed twice"),
    ([{"name": "bad name", "policy": "VMDaily"}], "must be 1 to 80"),
    ([{"name": "x"}], "needs a name and a policy"),
])
def test_fleet_errors_for_items(items, message):
    with pytest.raises(FleetError, match=message):
        Store("t", _fleet(rs_items=items))


def test_generator_items_are_deterministic_and_leave_the_rest_alone():
    plain = generator.generate_fleet(200, 2, seed="items")
    with_items = generator.generate_fleet(200, 2, seed="items", protected_items=3)
    assert with_items == generator.generate_fleet(200, 2, seed="items", protected_items=3)
    vaults = [v for s in with_items["subscriptions"] for rg in s["resource_groups"] for v in rg["vaults"]]
    counts = [len(v["protected_items"]) for v in vaults]
    assert set(counts) == {0, 1, 2, 3}
    for vault in vaults:
        policies = {p["name"] for p in vault["policies"]}
        assert all(i["policy"] in policies for i in vault["protected_items"])
        vault.pop("protected_items")
    assert with_items == plain
    store = Store("t", generator.generate_fleet(200, 2, seed="items", protected_items=3, graph_denied=1))
    assert store.count()["protected_items"] == sum(counts)
    assert [s["graph_denied"] for s in store.subs.values()] == [False, True]


def test_generate_command_writes_yaml_json_and_presets():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["generate", "--vaults", "5", "--protected-items", "2", "--seed", "c"]) == 0
    assert yaml.safe_load(out.getvalue()) == generator.generate_fleet(5, seed="c", protected_items=2)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["generate", "--preset", "vaults-1k", "--format", "json"]) == 0
    fleet = json.loads(out.getvalue())
    assert fleet == generator.generate_fleet(1000, 1, seed="0", protected_items=3)
    assert sorted(generator.PRESETS) == ["vaults-1k", "vaults-20k-20-subscriptions", "vaults-5k-one-subscription"]
    assert generator.PRESETS["vaults-5k-one-subscription"]["subscriptions"] == 1
    assert (generator.PRESETS["vaults-20k-20-subscriptions"]["vaults"], generator.PRESETS["vaults-20k-20-subscriptions"]["subscriptions"]) == (20000, 20)


def test_a_vault_with_protected_items_cannot_be_deleted(emulator):
    """Learn, backup-azure-delete-vault: a Recovery Services vault holding backup items (soft deleted ones too) cannot be
    deleted; the code is the live service's (Azure/azure-cli#7619), and with only soft deleted items left the answer is
    the live one a user quoted (status, code and message). Until this test the emulator deleted it; until the fifth
    sources pass it answered the soft deleted case with the other case's code and Learn's older wording."""
    emulator.load_fleet(_fleet())
    client = emulator.rs_client(SUB)
    with pytest.raises(HttpResponseError) as err:
        client.vaults.begin_delete(RG, "rsv-items").result()
    assert err.value.status_code == 400 and err.value.error.code == "ServiceResourceNotEmptyWithContainerDetails"
    assert "existing resources within the vault" in err.value.error.message
    assert "iaasvmcontainerv2;%s;vm-app-1" % RG.lower() in err.value.error.message
    assert client.vaults.get(RG, "rsv-items").name == "rsv-items"
    # Only soft deleted items left: refused as the live service answered a user (tests/fixtures/azure_errors/SOURCE.txt).
    emulator.load_fleet(_fleet(rs_items=[{"name": "vm-old", "policy": "VMDaily", "datasource_type": "VM", "soft_deleted": True}]))
    item = list(emulator.backup_client(SUB).backup_protected_items.list("rsv-items", RG))[0]
    assert item.properties.is_scheduled_for_deferred_delete is True
    with pytest.raises(HttpResponseError) as err:
        client.vaults.begin_delete(RG, "rsv-items").result()
    quoted = json.loads((ERRORS / "rs_vault_delete_soft_deleted_items.json").read_text(encoding="utf-8"))
    assert (err.value.status_code, err.value.error.code, err.value.error.message) == (quoted["status"], quoted["code"], quoted["message"])
    assert client.vaults.get(RG, "rsv-items").name == "rsv-items"
    # An empty vault goes.
    emulator.load_fleet(_fleet(rs_items=[]))
    client.vaults.begin_delete(RG, "rsv-items", polling_interval=0).result()
    with pytest.raises(HttpResponseError) as err:
        client.vaults.get(RG, "rsv-items")
    assert err.value.status_code == 404


def test_a_backup_vault_with_backup_instances_cannot_be_deleted(emulator):
    emulator.load_fleet(_fleet(dp_items=[{"name": "disk-os", "policy": "DiskHourly", "datasource_type": "Microsoft.Compute/disks",
                                          "soft_deleted": True}]))
    client = emulator.dp_client(SUB)
    assert client.deleted_backup_instances.get(RG, "bv-items", "disk-os").properties.current_protection_state == "SoftDeleted"
    with pytest.raises(HttpResponseError) as err:
        client.backup_vaults.begin_delete(RG, "bv-items").result()
    assert err.value.status_code == 400 and "disk-os" in err.value.error.message
    assert client.backup_vaults.get(RG, "bv-items").name == "bv-items"
    emulator.load_fleet(_fleet(dp_items=[]))
    client.backup_vaults.begin_delete(RG, "bv-items", polling_interval=0).result()
    assert [v.name for v in client.backup_vaults.get_in_resource_group(RG)] == []


def test_a_backup_vaults_soft_deleted_instances_are_the_deleted_backup_instances_resource(emulator):
    """DataProtection spec: soft deleted backup instances are ``backupVaults/{v}/deletedBackupInstances`` (DeletedBackupInstances
    List/Get, the GetDeletedBackupInstance example's shape); backupInstances lists the others. The emulator served soft deleted
    instances under backupInstances and had no deletedBackupInstances route (404 InvalidResourceType)."""
    emulator.load_fleet(_fleet(dp_items=[
        {"name": "disk-os", "policy": "DiskHourly", "datasource_type": "Microsoft.Compute/disks"},
        {"name": "disk-old", "policy": "DiskHourly", "datasource_type": "Microsoft.Compute/disks", "soft_deleted": True}]))
    client = emulator.dp_client(SUB)
    assert [i.name for i in client.backup_instances.list(RG, "bv-items")] == ["disk-os"]
    with pytest.raises(HttpResponseError) as err:
        client.backup_instances.get(RG, "bv-items", "disk-old")
    assert err.value.status_code == 404
    deleted = list(client.deleted_backup_instances.list(RG, "bv-items"))
    assert [d.name for d in deleted] == ["disk-old"]
    one = client.deleted_backup_instances.get(RG, "bv-items", "disk-old")
    assert one.type == "Microsoft.DataProtection/backupVaults/deletedBackupInstances"
    assert one.id.endswith("/backupVaults/bv-items/deletedBackupInstances/disk-old")
    assert one.properties.object_type == "DeletedBackupInstance" and one.properties.protection_status.status == "SoftDeleted"
    assert one.properties.deletion_info.scheduled_purge_time is not None
    with pytest.raises(HttpResponseError) as err:
        client.deleted_backup_instances.get(RG, "bv-items", "disk-os")
    assert err.value.status_code == 404
    # Still refused: a vault whose only instances are soft deleted cannot be deleted.
    emulator.load_fleet(_fleet(dp_items=[{"name": "disk-old", "policy": "DiskHourly", "datasource_type": "Microsoft.Compute/disks",
                                          "soft_deleted": True}]))
    with pytest.raises(HttpResponseError) as err:
        client.backup_vaults.begin_delete(RG, "bv-items").result()
    assert err.value.status_code == 400 and "disk-old" in err.value.error.message
