# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator against the Azure reference examples copied into tests/fixtures/azure-reference.

Every example request is accepted through the SDK, and every example response body, stored in the
emulator, comes back through the SDK with the same values.
"""
from __future__ import annotations

import copy
import glob
import json
import os

import pytest
import requests
from azure.mgmt.dataprotection import models as dp_models
from azure.mgmt.recoveryservices import models as rs_models
from azure.mgmt.recoveryservicesbackup import models as bk_models

from tests.fixtures import REFERENCE

REF = str(REFERENCE)


def load(rel):
    with open(os.path.join(REF, rel), encoding="utf-8") as handle:
        return json.load(handle)


def examples(pattern):
    return sorted(os.path.relpath(p, REF) for p in glob.glob(os.path.join(REF, pattern), recursive=True))


def fleet_for(sub, rg, vaults=()):
    return {"subscriptions": [{"id": sub, "resource_groups": [{"name": rg, "location": "westus", "vaults": list(vaults)}]}]}


def same(actual: dict, expected: dict):
    actual, expected = copy.deepcopy(actual), copy.deepcopy(expected)
    for doc in (actual, expected):
        if "id" in doc:
            doc["id"] = doc["id"].lower()
    assert actual == expected


def split_id(arm_id):
    parts = arm_id.split("/")
    return parts[2], parts[4], parts[8]


# ------------------------------------------------------------------ Recovery Services vaults
@pytest.mark.parametrize("rel", examples("recoveryservices/*/examples/PUTVault*.json"))
def test_rs_put_examples(emulator, rel):
    ex = load(rel)
    params = ex["parameters"]
    emulator.load_fleet(fleet_for(params["subscriptionId"], params["resourceGroupName"]))
    client = emulator.rs_client(params["subscriptionId"])
    vault = client.vaults.begin_create_or_update(params["resourceGroupName"], params["vaultName"], params["vault"]).result()
    expected = rs_models.Vault(ex["responses"]["201"]["body"])
    assert vault.name == expected.name and vault.type == expected.type and vault.location == expected.location
    assert vault.id.lower() == expected.id.lower()
    assert vault.identity.type == expected.identity.type
    want_sec = (ex["responses"]["201"]["body"]["properties"].get("securitySettings") or {}).get("immutabilitySettings")
    got_sec = vault.as_dict()["properties"]["securitySettings"].get("immutabilitySettings")
    assert got_sec == want_sec
    answered = ex["responses"]["201"]["body"]["properties"]
    for key, value in params["vault"]["properties"].items():
        if key == "resourceGuardOperationRequests":
            # What the write carries for its Resource Guard: the example's answers do not show it, nor does the vault.
            assert key not in answered and key not in vault.as_dict()["properties"]
        elif key != "securitySettings":
            assert vault.as_dict()["properties"][key] == value
    assert vault.properties.provisioning_state == "Succeeded"


@pytest.mark.parametrize("rel", examples("recoveryservices/*/examples/PATCHVault*.json"))
def test_rs_patch_examples(emulator, rel):
    ex = load(rel)
    params = ex["parameters"]
    # the vault starts in the immutability state the example's answer shows (the PATCH only sends the configuration)
    shown = ((ex["responses"]["200"]["body"]["properties"].get("securitySettings") or {}).get("immutabilitySettings") or {}).get("state")
    start = {"Unlocked": "enabled", "Locked": "locked"}.get(shown, "disabled")
    emulator.load_fleet(fleet_for(params["subscriptionId"], params["resourceGroupName"], [
        {"name": params["vaultName"], "immutability": start, "tags": {"old": "tag"}}]))
    client = emulator.rs_client(params["subscriptionId"])
    vault = client.vaults.begin_update(params["resourceGroupName"], params["vaultName"], params["vault"]).result()
    expected = ex["responses"]["200"]["body"]
    assert vault.tags == expected["tags"]
    want = (expected["properties"].get("securitySettings") or {}).get("immutabilitySettings")
    if want:
        assert vault.as_dict()["properties"]["securitySettings"]["immutabilitySettings"] == want


@pytest.mark.parametrize("rel", examples("recoveryservices/*/examples/GETVault.json") + examples("recoveryservices/*/examples/List*.json"))
def test_rs_get_and_list_examples_round_trip(emulator, rel):
    ex = load(rel)
    body = ex["responses"]["200"]["body"]
    bodies = body["value"] if "value" in body else [body]
    subs: dict = {}
    for item in bodies:
        sub, rg, name = split_id(item["id"])
        subs.setdefault(sub, {}).setdefault(rg, []).append({"name": name, "type": "recovery_services", "body": item})
    emulator.load_fleet({"subscriptions": [{"id": s, "resource_groups": [{"name": rg, "vaults": v} for rg, v in rgs.items()]}
                                           for s, rgs in subs.items()]})
    sub = ex["parameters"]["subscriptionId"]
    client = emulator.rs_client(sub)
    if "value" in body:
        if "resourceGroupName" in ex["parameters"]:
            got = list(client.vaults.list_by_resource_group(ex["parameters"]["resourceGroupName"]))
        else:
            got = list(client.vaults.list_by_subscription_id())
    else:
        got = [client.vaults.get(ex["parameters"]["resourceGroupName"], ex["parameters"]["vaultName"])]
    assert len(got) == len(bodies)
    for vault, item in zip(got, bodies):
        same(vault.as_dict(), rs_models.Vault(item).as_dict())


def test_rs_operation_status_and_result_shapes(emulator):
    status_ex = load("recoveryservices/2026-11-01/examples/GetOperationStatus.json")["responses"]["200"]["body"]
    result_ex = load("recoveryservices/2026-11-01/examples/GetOperationResult.json")["responses"]
    token = emulator.mint_token()
    hdr = {"Authorization": "Bearer " + token}
    sub = emulator.endpoint["subscription_ids"][0]
    url = emulator.arm_url + "subscriptions/%s/resourceGroups/rg-vaultlock/providers/Microsoft.RecoveryServices/vaults/opv" % sub
    requests.put(url, params={"api-version": "2026-11-01"}, headers=hdr, json={"location": "westus"}, verify=emulator.ca_bundle, timeout=10)
    emulator.settings(lro_retry_after=60)  # Retry-After of real vault operations (recording ps-rs-immutability)
    emulator.clock(freeze=True)
    resp = requests.patch(url, params={"api-version": "2026-11-01"}, headers=hdr, json={"tags": {"PatchKey": "PatchKeyUpdated"}},
                          verify=emulator.ca_bundle, timeout=10)
    assert resp.status_code == 202
    assert set(resp.headers) >= set(result_ex["202"]["headers"])
    status = requests.get(resp.headers["Azure-AsyncOperation"], headers=hdr, verify=emulator.ca_bundle, timeout=10).json()
    assert status["status"] == "InProgress"  # polled at once (recording); the example shows a finished operation
    emulator.clock(advance_s=60)
    status = requests.get(resp.headers["Azure-AsyncOperation"], headers=hdr, verify=emulator.ca_bundle, timeout=10).json()
    assert set(status) == set(status_ex)
    result = requests.get(resp.headers["Location"], headers=hdr, verify=emulator.ca_bundle, timeout=10).json()
    assert set(result_ex["200"]["body"]) - {"identity"} <= set(result)
    assert result["tags"] == result_ex["200"]["body"]["tags"]


# ------------------------------------------------------------------ Backup (DataProtection) vaults
def test_dp_put_example(emulator):
    ex = load("dataprotection/2026-06-01/examples/VaultCRUD/PutBackupVault.json")
    params = ex["parameters"]
    emulator.load_fleet(fleet_for(params["subscriptionId"], params["resourceGroupName"]))
    client = emulator.dp_client(params["subscriptionId"])
    vault = client.backup_vaults.begin_create_or_update(params["resourceGroupName"], params["vaultName"], params["parameters"]).result()
    expected = dp_models.BackupVaultResource(ex["responses"]["200"]["body"]).as_dict()
    got = vault.as_dict()
    for key in ("name", "location", "tags"):
        assert got[key] == expected[key]
    for key in ("monitoringSettings", "securitySettings", "storageSettings"):
        assert got["properties"][key] == expected["properties"][key], key
    # featureSettings as the example sends and answers it: no crossSubscriptionRestoreSettings, as the recorded creates
    # without it (bodies.dp_defaults); the emulator added Enabled until the fourth sources pass.
    assert got["properties"]["featureSettings"] == expected["properties"]["featureSettings"]
    assert got["properties"]["provisioningState"] == "Succeeded"


def test_dp_patch_and_operation_result_examples(emulator):
    ex = load("dataprotection/2026-06-01/examples/VaultCRUD/PatchBackupVault.json")
    params = ex["parameters"]
    emulator.load_fleet(fleet_for(params["subscriptionId"], params["resourceGroupName"], [
        {"name": params["vaultName"], "type": "backup", "tags": {"key1": "val1"}}]))
    client = emulator.dp_client(params["subscriptionId"])
    captured = {}

    def hook(response):
        if response.http_request.method == "PATCH":
            captured.update(response.http_response.headers)

    vault = client.backup_vaults.begin_update(params["resourceGroupName"], params["vaultName"], params["parameters"],
                                              raw_response_hook=hook).result()
    expected = ex["responses"]["200"]["body"]
    assert vault.tags == expected["tags"]
    assert vault.as_dict()["properties"]["monitoringSettings"] == expected["properties"]["monitoringSettings"]
    op_id = captured["Location"].split("/operationResults/")[1].split("?")[0]
    result = client.backup_vault_operation_results.get(params["resourceGroupName"], params["vaultName"], op_id)
    assert result.name == params["vaultName"] and result.tags == expected["tags"]


@pytest.mark.parametrize("rel", examples("dataprotection/*/examples/VaultCRUD/GetBackupVault*.json"))
def test_dp_get_and_list_examples_round_trip(emulator, rel):
    ex = load(rel)
    body = ex["responses"]["200"]["body"]
    bodies = body["value"] if "value" in body else [body]
    subs: dict = {}
    for item in bodies:
        sub, rg, name = split_id(item["id"])
        subs.setdefault(sub, {}).setdefault(rg, []).append({"name": name, "type": "backup", "body": item})
    emulator.load_fleet({"subscriptions": [{"id": s, "resource_groups": [{"name": rg, "vaults": v} for rg, v in rgs.items()]}
                                           for s, rgs in subs.items()]})
    params = ex["parameters"]
    client = emulator.dp_client(params["subscriptionId"])
    if "value" in body:
        got = list(client.backup_vaults.get_in_resource_group(params["resourceGroupName"]) if "resourceGroupName" in params
                   else client.backup_vaults.get_in_subscription())
    else:
        got = [client.backup_vaults.get(params["resourceGroupName"], params["vaultName"])]
    assert len(got) == len(bodies)
    for vault, item in zip(got, bodies):
        same(vault.as_dict(), dp_models.BackupVaultResource(item).as_dict())


# ------------------------------------------------------------------ DataProtection policies
def test_dp_policy_examples(emulator):
    put = load("dataprotection/2026-06-01/examples/PolicyCRUD/CreateOrUpdateBackupPolicy.json")
    params = put["parameters"]
    emulator.load_fleet(fleet_for(params["subscriptionId"], params["resourceGroupName"], [{"name": params["vaultName"], "type": "backup"}]))
    client = emulator.dp_client(params["subscriptionId"])
    got = client.backup_policies.create_or_update(params["resourceGroupName"], params["vaultName"], params["backupPolicyName"],
                                                  params["parameters"])
    # The example's answer is its request with what the service adds: each tag's tagInfo.id ("Default_", "Weekly_"), and
    # the resource's id, name and type (bodies.dp_policy_normalise). The answer and a later GET are that body, whole.
    answer = put["responses"]["200"]["body"]
    same(got.as_dict(), dp_models.BaseBackupPolicyResource(answer).as_dict())
    again = client.backup_policies.get(params["resourceGroupName"], params["vaultName"], params["backupPolicyName"])
    same(again.as_dict(), dp_models.BaseBackupPolicyResource(answer).as_dict())
    get = load("dataprotection/2026-06-01/examples/PolicyCRUD/GetBackupPolicy.json")
    gp = get["parameters"]
    body = get["responses"]["200"]["body"]
    emulator.load_fleet(fleet_for(gp["subscriptionId"], gp["resourceGroupName"], [
        {"name": gp["vaultName"], "type": "backup", "policies": [{"name": gp["backupPolicyName"], "properties": body["properties"]}]}]))
    client = emulator.dp_client(gp["subscriptionId"])
    got = client.backup_policies.get(gp["resourceGroupName"], gp["vaultName"], gp["backupPolicyName"])
    same(got.as_dict(), dp_models.BaseBackupPolicyResource(body).as_dict())


@pytest.mark.parametrize("rel", examples("dataprotection/cli-default-policy-templates/*.json"))
def test_dp_cli_default_policies_accepted(emulator, rel):
    props = load(rel)
    emulator.load_fleet(fleet_for("11111111-1111-1111-1111-111111111111", "rg", [{"name": "bv", "type": "backup", "immutability": "locked"}]))
    client = emulator.dp_client()
    got = client.backup_policies.create_or_update("rg", "bv", "default", {"properties": props})
    assert got.as_dict()["properties"] == dp_models.BaseBackupPolicyResource({"properties": props}).as_dict()["properties"]


# ------------------------------------------------------------------ Recovery Services backup policies
@pytest.mark.parametrize("rel", examples("recoveryservicesbackup/*/examples/**/*CreateOrUpdate*.json"))
@pytest.mark.parametrize("async_put", [False, True])
def test_rs_policy_put_examples(emulator, rel, async_put):
    ex = load(rel)
    params = ex["parameters"]
    emulator.load_fleet(fleet_for(params["subscriptionId"], params["resourceGroupName"], [{"name": params["vaultName"]}]))
    emulator.settings(policy_put_async=async_put)
    backup = emulator.backup_client(params["subscriptionId"])
    got = backup.protection_policies.create_or_update(params["vaultName"], params["resourceGroupName"], params["policyName"],
                                                      params["parameters"])
    if async_put:
        assert got is None  # 202: the SDK returns None; the caller GETs
        got = backup.protection_policies.get(params["vaultName"], params["resourceGroupName"], params["policyName"])
    sent = bk_models.ProtectionPolicyResource(params["parameters"]).as_dict()["properties"]
    back = got.as_dict()["properties"]
    assert back.pop("protectedItemsCount") == 0
    if sent.get("backupManagementType") == "AzureIaasVM" and "instantRPDetails" not in sent:
        # The live service adds instantRPDetails {} to an IaaS VM policy (recording ps-rs-enhancedpolicy).
        assert back.pop("instantRPDetails") == {}
    assert back == sent
    assert got.name == params["policyName"] and got.type == "Microsoft.RecoveryServices/vaults/backupPolicies"
    expected = bk_models.ProtectionPolicyResource(ex["responses"]["200"]["body"])
    assert got.id.lower() == expected.id.lower()


def _rs_policy_fleet(bodies, params):
    return fleet_for(params["subscriptionId"], params["resourceGroupName"], [
        {"name": params["vaultName"], "policies": [{"name": b["name"], "properties": b["properties"]} for b in bodies]}])


@pytest.mark.parametrize("rel", [*examples("recoveryservicesbackup/*/examples/**/*Get*Policy*.json"),
                                 *examples("recoveryservicesbackup/*/examples/**/ProtectionPolicies_Get.json"),
                                 *examples("recoveryservicesbackup/*/examples/**/BackupPolicies_List.json")])
def test_rs_policy_get_and_list_examples_round_trip(emulator, rel):
    ex = load(rel)
    params = ex["parameters"]
    body = ex["responses"]["200"]["body"]
    bodies = body["value"] if "value" in body else [body]
    emulator.load_fleet(_rs_policy_fleet(bodies, params))
    backup = emulator.backup_client(params["subscriptionId"])
    if "value" in body:
        got = list(backup.backup_policies.list(params["vaultName"], params["resourceGroupName"], filter=params.get("$filter")))
    else:
        got = [backup.protection_policies.get(params["vaultName"], params["resourceGroupName"], params["policyName"])]
    assert len(got) == len(bodies)
    for pol, item in zip(got, bodies):
        same(pol.as_dict(), bk_models.ProtectionPolicyResource(item).as_dict())


def test_saphana_recording_round_trip(emulator):
    rec = load("recordings/recoveryservicesbackup_saphana_policy_get.excerpt.json")["interactions"][0]
    body = json.loads(rec["response"]["body"])
    sub, rg, vault = split_id(body["id"])
    emulator.load_fleet(_rs_policy_fleet([body], {"subscriptionId": sub, "resourceGroupName": rg, "vaultName": vault}))
    backup = emulator.backup_client(sub)
    got = backup.protection_policies.get(vault, rg, body["name"])
    same(got.as_dict(), bk_models.ProtectionPolicyResource(body).as_dict())
    raw = emulator.resource(body["id"])
    assert raw == body


def test_recorded_rs_vault_create_shape(emulator):
    rec = load("recordings/recoveryservices_vault_create_softdelete.excerpt.json")["interactions"]
    put = rec[1]
    sub = put["request"]["uri"].split("/")[4]
    rg = put["request"]["uri"].split("/")[6]
    emulator.load_fleet(fleet_for(sub, rg))
    token = emulator.mint_token()
    url = emulator.arm_url + put["request"]["uri"].split("management.azure.com/")[1]
    resp = requests.put(url, data=put["request"]["body"], headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
                        verify=emulator.ca_bundle, timeout=10)
    assert resp.status_code == put["response"]["status"]["code"] == 201
    assert "Azure-AsyncOperation" in resp.headers
    got, want = resp.json(), json.loads(put["response"]["body"])
    assert got["properties"]["provisioningState"] == want["properties"]["provisioningState"] == "Provisioning"
    assert got["properties"]["securitySettings"]["softDeleteSettings"] == want["properties"]["securitySettings"]["softDeleteSettings"]
    assert "immutabilitySettings" not in got["properties"]["securitySettings"]
    assert set(want) <= set(got)
    missing = requests.get(url.replace("clitest-vault-000002", "nope"), headers={"Authorization": "Bearer " + token},
                           verify=emulator.ca_bundle, timeout=10)
    assert missing.status_code == 404 and missing.headers["x-ms-failure-cause"] == "gateway"
