# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: routes real clients call besides vaults and policies (tests/emulator/routes.py): resource guard
proxies, the vault storage config, provider metadata, the generic resource lists, Resource Graph 2024-04-01."""
from __future__ import annotations

import datetime
import json
import pathlib
import re

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.emulator import store, versions
from tests.emulator.mua import GUARD_TENANT_ID
from tests.fixtures import load_reference

SUB = "0b352192-dcac-4cc7-992e-a96190ccc68c"  # the spec examples' subscription, resource group and vault
RG = "SampleResourceGroup"
VAULT = "sampleVault"
PROXIES = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/backupResourceGuardProxies" % (SUB, RG, VAULT)
EXAMPLES = "routes/recoveryservicesbackup/2026-10-01/examples/ResourceGuardProxyCRUD/"
# A Backup vault's guard proxy and its unlockDelete as the live service answered the az CLI (SOURCE.txt there).
DP_GUARD_PROXY = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "azure-real" / "cliext-dp-guard-proxy"


def fleet():
    return {"subscriptions": [{"id": SUB, "resource_groups": [
        {"name": RG, "location": "westeurope", "vaults": [{"name": VAULT, "type": "recovery_services"},
                                                          {"name": "bv", "type": "backup"}]},
        {"name": "rg-two", "location": "westeurope", "vaults": [{"name": "rsv-two", "type": "recovery_services"}]}]}]}


# ---------------------------------------------------------------------------------------- resource guard proxies
def test_resource_guard_proxy_put_get_list_unlock_delete_through_the_sdk(emulator):
    put = load_reference(EXAMPLES + "PutResourceGuardProxy.json")
    got = load_reference(EXAMPLES + "GetResourceGuardProxy.json")["responses"]["200"]["body"]
    unlock = load_reference(EXAMPLES + "UnlockDeleteResourceGuardProxy.json")
    emulator.load_fleet(fleet())
    backup = emulator.backup_client(SUB)
    params = put["parameters"]
    assert list(backup.resource_guard_proxies.get(VAULT, RG)) == []
    with pytest.raises(ResourceNotFoundError):
        backup.resource_guard_proxy.get(VAULT, RG, params["resourceGuardProxyName"])
    made = backup.resource_guard_proxy.put(VAULT, RG, params["resourceGuardProxyName"], params["parameters"])
    want = put["responses"]["200"]["body"]
    assert (made.name, made.type) == (want["name"], want["type"])
    assert made.id.endswith("/vaults/%s/backupResourceGuardProxies/%s" % (VAULT, want["name"]))
    mine = made.as_dict()["properties"]
    # The live answer's keys (tests/fixtures/azure-real/ps-rs-mua/get-proxy.json): the example's without its description.
    assert set(mine) == set(want["properties"]) - {"description"}
    assert mine["resourceGuardResourceId"] == want["properties"]["resourceGuardResourceId"]
    # The example's request ids, each under the vault critical operation Microsoft's clients look it up by (az CLI
    # operation_name_map, Azure PowerShell SetVaultProperty: the example's "Microsoft.DataProtection/resourceGuards/..."
    # names match neither), with those of the guard's other operations (mua.VAULT_OPERATIONS).
    details = {d["vaultCriticalOperation"]: d["defaultResourceRequest"] for d in mine["resourceGuardOperationDetails"]}
    guard_id = want["properties"]["resourceGuardResourceId"]
    for detail in want["properties"]["resourceGuardOperationDetails"]:
        request_type = detail["vaultCriticalOperation"].rsplit("/", 1)[-1]
        assert detail["defaultResourceRequest"].rsplit("/", 2)[-2] == request_type
        assert "%s/%s/default" % (guard_id, request_type) in details.values()
    assert details["Microsoft.RecoveryServices/vaults/backupconfig/write"] == guard_id + "/disableSoftDeleteRequests/default"
    assert details["Microsoft.RecoveryServices/vaults/backupResourceGuardProxies/delete"] == \
        guard_id + "/deleteResourceGuardProxyRequests/default"
    again = backup.resource_guard_proxy.get(VAULT, RG, params["resourceGuardProxyName"])
    assert again.as_dict() == made.as_dict() and set(again.as_dict()) == {"id", "name", "type", "properties"}
    assert set(got) == {"id", "name", "type", "properties"}
    assert [p.name for p in backup.resource_guard_proxies.get(VAULT, RG)] == ["swaggerExample"]
    # The vault now shows its Resource Guard (MUA), as a vault created with one does.
    vault = emulator.rs_client(SUB).vaults.get(RG, VAULT)
    assert vault.properties.security_settings.multi_user_authorization == "Enabled"
    # ... and names the guard nowhere else (a live GET does not: tests/fixtures/azure-real/ps-rs-mua).
    assert vault.properties.resource_guard_operation_requests is None
    assert backup.backup_resource_vault_configs.get(VAULT, RG).properties.resource_guard_operation_requests is None
    answer = backup.resource_guard_proxy.unlock_delete(VAULT, RG, "swaggerExample", unlock["parameters"]["parameters"])
    assert answer.unlock_delete_expiry_time is not None
    assert set(answer.as_dict()) == set(unlock["responses"]["200"]["body"])
    # Removing MUA protection is itself protected: refused without a token of the guard's tenant (mua.py).
    with pytest.raises(HttpResponseError) as refused:
        backup.resource_guard_proxy.delete(VAULT, RG, "swaggerExample")
    assert refused.value.status_code == 403 and "UserErrorResourceGuardAuthorizationRequired" in str(refused.value)
    aux = "Bearer " + emulator.mint_token(tenant=GUARD_TENANT_ID)
    backup.resource_guard_proxy.delete(VAULT, RG, "swaggerExample", headers={"x-ms-authorization-auxiliary": aux})
    assert list(backup.resource_guard_proxies.get(VAULT, RG)) == []
    assert emulator.rs_client(SUB).vaults.get(RG, VAULT).properties.security_settings.multi_user_authorization == "Disabled"


def _recorded(name):
    return json.loads((DP_GUARD_PROXY / name).read_text(encoding="utf-8"))


def _utc(text):
    """An ISO 8601 time with up to 7 fractional digits (.NET's), as an aware datetime."""
    head, _dot, frac = text.rstrip("Z").partition(".")
    moment = datetime.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return moment + datetime.timedelta(microseconds=int((frac + "000000")[:6]))


def test_a_backup_vaults_guard_proxy_and_its_unlock_delete_answer_as_recorded(emulator):
    """The live answers the az CLI recorded (tests/fixtures/azure-real/cliext-dp-guard-proxy, 2024-02-12): a Backup
    vault's proxy reads as type ``Microsoft.DataProtection/vaults/backupResourceGuardProxies`` (the DataProtection spec
    example's too) with the guard, the operation details the live service listed and ``lastUpdatedTime``; its
    unlockDelete answers an expiry 30 minutes after the answer. Until the fifth sources pass the emulator served the
    Recovery Services example's shape (two operations, a description, type ``.../backupVaults/...``) and an expiry 10
    minutes on (assumed)."""
    recorded = _recorded("get-proxy.json")
    unlock = _recorded("unlock-delete.json")
    guard = recorded["properties"]["resourceGuardResourceId"]
    emulator.load_fleet(fleet())
    dp = emulator.dp_client(SUB)
    dp.dpp_resource_guard_proxy.create_or_update(RG, "bv", "DppResourceGuardProxy", {"properties": {"resourceGuardResourceId": guard}})
    path = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/bv/backupResourceGuardProxies/" \
           "DppResourceGuardProxy" % (SUB, RG)
    served = emulator.arm_request("GET", path, api_version="2023-11-01").json()
    assert served["type"] == recorded["type"] and served["name"] == recorded["name"]
    assert list(served["properties"]) == list(recorded["properties"])
    assert served["properties"]["resourceGuardOperationDetails"] == recorded["properties"]["resourceGuardOperationDetails"]
    assert dp.dpp_resource_guard_proxy.get(RG, "bv", "DppResourceGuardProxy").properties.resource_guard_resource_id == guard
    # unlockDelete: the recorded request through the SDK; the expiry as far after the answer as the recording's.
    recorded_after = _utc(unlock["response"]["body"]["unlockDeleteExpiryTime"]) - datetime.datetime.strptime(
        unlock["response"]["date"], "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=datetime.timezone.utc)
    assert datetime.timedelta(minutes=30) <= recorded_after < datetime.timedelta(minutes=30, seconds=1)
    before = datetime.datetime.now(datetime.timezone.utc)
    answer = dp.dpp_resource_guard_proxy.unlock_delete(RG, "bv", "DppResourceGuardProxy", unlock["request"]["body"])
    after = datetime.datetime.now(datetime.timezone.utc)
    expiry = answer.unlock_delete_expiry_time
    expiry = _utc(expiry) if isinstance(expiry, str) else expiry
    assert before + datetime.timedelta(minutes=30) - datetime.timedelta(seconds=1) <= expiry <= after + datetime.timedelta(minutes=30)


def test_resource_guard_proxy_errors(emulator):
    emulator.load_fleet(fleet())
    bad = emulator.arm_request("PUT", PROXIES + "/p", "2026-10-01", {"properties": {"resourceGuardResourceId": "not-an-id"}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "BMSUserErrorInvalidInput"
    assert emulator.arm_request("POST", PROXIES + "/p/unlockDelete", "2026-10-01", {}).status_code == 404
    assert emulator.arm_request("DELETE", PROXIES + "/p", "2026-10-01").status_code == 204
    assert emulator.arm_request("PATCH", PROXIES + "/p", "2026-10-01", {}).status_code == 405
    wrong = emulator.arm_request("GET", PROXIES, "2026-11-01")  # a vault version, not a backup one
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "NoRegisteredProviderFound"


# ---------------------------------------------------------------------------------------- vault storage config
def test_vault_storage_config_get_and_patch_through_the_sdk(emulator):
    emulator.load_fleet(fleet())
    backup = emulator.backup_client(SUB)
    config = backup.backup_resource_storage_configs_non_crr.get(VAULT, RG)
    assert config.name == "vaultstorageconfig" and config.type == "Microsoft.RecoveryServices/vaults/backupstorageconfig"
    assert config.properties.storage_type in ("LocallyRedundant", "GeoRedundant", "ZoneRedundant")
    assert config.properties.storage_type_state == "Unlocked"
    assert backup.backup_resource_storage_configs_non_crr.patch(
        VAULT, RG, {"properties": {"storageType": "LocallyRedundant", "crossRegionRestoreFlag": False}}) is None
    after = backup.backup_resource_storage_configs_non_crr.get(VAULT, RG).properties
    assert (after.storage_type, after.storage_model_type, after.cross_region_restore_flag) == ("LocallyRedundant", "LocallyRedundant", False)
    # The vault and its vault config show the same redundancy.
    vault = emulator.rs_client(SUB).vaults.get(RG, VAULT)
    assert vault.properties.redundancy_settings.standard_tier_storage_redundancy == "LocallyRedundant"
    # The vault config names no storage type, as no recorded answer does (the storage config is where it is).
    vault_config = backup.backup_resource_vault_configs.get(VAULT, RG).properties
    assert (vault_config.storage_type, vault_config.storage_model_type, vault_config.storage_type_state) == (None, None, None)
    path = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/backupstorageconfig/vaultstorageconfig" % (SUB, RG, VAULT)
    assert emulator.arm_request("PATCH", path, "2026-10-01", {}).status_code == 400


def test_a_vault_config_answers_the_recorded_properties(emulator):
    # Live answers of backupconfig/vaultconfig (az CLI, api-version 2022-02-01; Azure PowerShell, 2025-02-01): the
    # emulator's answer at the SDK's version has the newer recording's properties and no other.
    real = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "azure-real"
    recorded = json.loads((real / "ps-rs-mua" / "patch-vaultconfig-soft-delete-disabled.response.json").read_text())
    older = json.loads((real / "cli-rs-csr" / "get-vaultconfig.json").read_text())
    emulator.load_fleet(fleet())
    answered = emulator.backup_client(SUB).backup_resource_vault_configs.get(VAULT, RG).as_dict()
    assert set(answered) == {"id", "name", "type", "properties"}
    assert sorted(k for k, v in answered["properties"].items() if v is not None) == sorted(recorded["properties"])
    assert set(older["properties"]) <= set(recorded["properties"])


def test_the_readme_names_the_properties_a_vault_config_answers():
    # tests/emulator/README.md's row of the vault config lists the properties of its answer (between "`properties`:" and
    # "; never"): the same ones store.rs_vault_config_body answers, no more (it named the storage type after the answer
    # had dropped it).
    readme = (pathlib.Path(__file__).resolve().parents[2] / "emulator" / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith("| RS backup resource vault config |")]
    listed = row.split("`properties`:", 1)[1].split("; never", 1)[0]
    named = set(re.findall(r"`([a-z][A-Za-z]+)`", listed))
    answered = store.rs_vault_config_body({"id": "/x", "properties": {}})["properties"]
    assert named == set(answered)


# ---------------------------------------------------------------------------------------- provider metadata
@pytest.mark.parametrize("namespace,rtype,served", [("Microsoft.RecoveryServices", "vaults", versions.RS_VAULT_VERSIONS),
                                                    ("Microsoft.RecoveryServices", "vaults/backupPolicies", versions.RS_BACKUP_VERSIONS),
                                                    ("Microsoft.DataProtection", "backupVaults", versions.DP_VERSIONS)])
def test_provider_metadata_lists_the_versions_the_emulator_serves(emulator, namespace, rtype, served):
    emulator.load_fleet(fleet())
    resp = emulator.arm_request("GET", "subscriptions/%s/providers/%s" % (SUB, namespace.lower()), "2021-04-01")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["namespace"], body["registrationState"], body["id"]) == (namespace, "Registered", "/subscriptions/%s/providers/%s" % (SUB, namespace))
    types = {t["resourceType"]: t for t in body["resourceTypes"]}
    assert types[rtype]["apiVersions"] == list(served)
    # Every listed version is accepted on that type.
    path = "subscriptions/%s/resourceGroups/%s/providers/%s" % (SUB, RG, namespace) + (
        "/vaults" if namespace.endswith("Services") else "/backupVaults")
    if rtype in ("vaults", "backupVaults"):
        assert {emulator.arm_request("GET", path, ver).status_code for ver in served} == {200}


def test_provider_metadata_of_other_namespaces_is_not_served(emulator):
    resp = emulator.arm_request("GET", "subscriptions/%s/providers/Microsoft.Compute" % emulator.endpoint["subscription_ids"][0], "2021-04-01")
    assert resp.status_code == 404


# ---------------------------------------------------------------------------------------- generic resource lists
def test_resources_of_a_subscription_and_a_resource_group(emulator):
    emulator.load_fleet(fleet())
    every = emulator.arm_request("GET", "subscriptions/%s/resources" % SUB, "2021-04-01").json()["value"]
    assert sorted(r["name"] for r in every) == ["bv", "rsv-two", VAULT]
    assert all(set(r) >= {"id", "name", "type", "location", "tags"} for r in every)
    rs_only = emulator.arm_request("GET", "subscriptions/%s/resources" % SUB, "2021-04-01",
                                   params={"$filter": "resourceType eq 'Microsoft.RecoveryServices/vaults'"}).json()["value"]
    assert sorted(r["name"] for r in rs_only) == ["rsv-two", VAULT]
    group = emulator.arm_request("GET", "subscriptions/%s/resourceGroups/%s/resources" % (SUB, RG), "2021-04-01",
                                 params={"$filter": "resourceType eq 'microsoft.dataprotection/backupvaults'"}).json()["value"]
    assert [(r["name"], r["type"]) for r in group] == [("bv", "Microsoft.DataProtection/backupVaults")]
    bad = emulator.arm_request("GET", "subscriptions/%s/resources" % SUB, "2021-04-01", params={"$filter": "tagName eq 'a'"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidFilterInQueryString"
    emulator.settings(page_size=2)
    first = emulator.arm_request("GET", "subscriptions/%s/resources" % SUB, "2021-04-01").json()
    assert len(first["value"]) == 2 and "nextLink" in first
    rest = emulator.arm_request("GET", first["nextLink"]).json()
    assert len(rest["value"]) == 1 and "nextLink" not in rest


def test_a_resource_group_filter_on_the_subscription_list(emulator):
    # az resource list -g <rg> lists the subscription's resources with $filter=resourceGroup eq '<rg>' (make interop).
    emulator.load_fleet(fleet())
    listed = emulator.arm_request("GET", "subscriptions/%s/resources" % SUB, "2021-04-01",
                                  params={"$filter": "resourceGroup eq 'RG-TWO'"}).json()["value"]
    assert [r["name"] for r in listed] == ["rsv-two"]
    both = emulator.arm_request("GET", "subscriptions/%s/resources" % SUB, "2021-04-01", params={
        "$filter": "resourceGroup eq '%s' and resourceType eq 'Microsoft.DataProtection/backupVaults'" % RG}).json()["value"]
    assert [r["name"] for r in both] == ["bv"]
    twice = emulator.arm_request("GET", "subscriptions/%s/resources" % SUB, "2021-04-01",
                                 params={"$filter": "resourceGroup eq 'a' and resourceGroup eq 'b'"})
    assert twice.status_code == 400 and twice.json()["error"]["code"] == "InvalidFilterInQueryString"
