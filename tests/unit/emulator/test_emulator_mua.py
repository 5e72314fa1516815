# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: multi-user authorization (mua.py). With a Resource Guard associated, the operations it protects are
refused unless the request carries a token of the guard's tenant in x-ms-authorization-auxiliary."""
from __future__ import annotations

import copy
import json
import pathlib

import pytest
from azure.identity import ClientSecretCredential

from tests.emulator import generator, mua, routes, rules

SUB = "77777777-aaaa-4000-8000-000000000007"
RG = "rg-mua"
GUARD = "/subscriptions/%s/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/guard-1" % SUB
RS_VER, POLICY_VER, DP_VER = "2026-11-01", "2026-10-01", "2026-06-01"
RSV = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/" % (SUB, RG)
BV = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/" % (SUB, RG)
# Azure PowerShell's session record of a Recovery Services vault a Resource Guard protects (SOURCE.txt there).
PS_RS_MUA = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "azure-real" / "ps-rs-mua"
RECORDED_GUARD = "/subscriptions/38304e13-357e-405e-9e9a-220351dcce8c/resourceGroups/hiagarg/providers/Microsoft.DataProtection/resourceGuards/test1-rGuard"


def recorded(name):
    """A recorded body of ps-rs-mua, its guard replaced by this test's."""
    return json.loads((PS_RS_MUA / name).read_text(encoding="utf-8").replace(RECORDED_GUARD, GUARD))


def fleet():
    policy = {"name": "vm", "properties": generator.iaas_v1(False)}
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv-guarded", "type": "recovery_services", "immutability": "enabled", "resource_guard_id": GUARD,
         "policies": [policy]},
        {"name": "rsv-excluded", "type": "recovery_services", "resource_guard_id": GUARD, "policies": [policy],
         "resource_guard_excluded": ["updateProtectionPolicyRequests"]},
        {"name": "rsv-mutable", "type": "recovery_services", "resource_guard_id": GUARD,
         "policies": [{"name": "sql", "properties": generator.sql(False)}]},
        {"name": "rsv-open", "type": "recovery_services", "immutability": "enabled", "policies": [policy]},
        {"name": "bv-guarded", "type": "backup", "immutability": "enabled", "resource_guard_id": GUARD},
    ]}]}]}


@pytest.fixture
def guarded(emulator):
    emulator.load_fleet(fleet())
    return emulator


def aux(emulator, tenant=mua.GUARD_TENANT_ID):
    return {"x-ms-authorization-auxiliary": "Bearer " + emulator.mint_token(tenant=tenant)}


def refused(resp):
    assert resp.status_code == 403, resp.text
    error = resp.json()["error"]
    assert error["code"] == mua.CODE and GUARD in error["message"]
    return error["message"]


def patch_rs(emulator, name, security, headers=None, requests=None):
    props = {"securitySettings": security}
    if requests:
        props["resourceGuardOperationRequests"] = requests
    return emulator.arm_request("PATCH", RSV + name, RS_VER, body={"properties": props}, headers=headers)


def ids(*request_types):
    """The guard's operation request ids, as the vault's proxy lists them (``<guard>/<request type>/default``)."""
    return ["%s/%s/default" % (GUARD, name) for name in request_types]


def missing_id(resp):
    """Azure's refusal of a guarded write without its operation request id (terraform-provider-azurerm#31887)."""
    assert resp.status_code == mua.REQUEST_ID_STATUS, resp.text
    assert resp.json()["error"]["message"] == "ResourceGuard Operation requestid is either null or empty"


def proxy_requests(emulator, vault, base=RSV, ver=POLICY_VER):
    """{vault critical operation: defaultResourceRequest} of the vault's Resource Guard proxy (its only one)."""
    proxies = emulator.arm_request("GET", base + vault + "/backupResourceGuardProxies", ver).json()["value"]
    assert len(proxies) == 1
    return {d["vaultCriticalOperation"]: d.get("defaultResourceRequest") for d in proxies[0]["properties"]["resourceGuardOperationDetails"]}


def test_the_vaults_proxy_lists_the_operations_its_guard_protects(guarded):
    # The vault itself says only that a guard protects it (a live GET: tests/fixtures/azure-real/ps-rs-mua).
    body = guarded.arm_request("GET", RSV + "rsv-guarded", RS_VER).json()
    assert "resourceGuardOperationRequests" not in body["properties"]
    assert body["properties"]["securitySettings"]["multiUserAuthorization"] == "Enabled"
    assert proxy_requests(guarded, "rsv-guarded") == {operation: "%s/%s/default" % (GUARD, request)
                                                      for operation, request in routes.RS_GUARDED_OPERATIONS}
    # The operations Microsoft's clients look up (az CLI operation_name_map, Azure PowerShell SetVaultProperty).
    assert proxy_requests(guarded, "rsv-guarded")["Microsoft.RecoveryServices/vaults/backupconfig/write"] == ids("disableSoftDeleteRequests")[0]
    excluded = proxy_requests(guarded, "rsv-excluded")
    assert "%s/updateProtectionPolicyRequests/default" % GUARD not in excluded.values()
    assert len(excluded) == len(routes.RS_GUARDED_OPERATIONS) - 1
    assert proxy_requests(guarded, "bv-guarded", BV, DP_VER)["Microsoft.DataProtection/backupVaults/write#reduceSoftDeleteSecurity"] == \
        ids("dppReduceSoftDeleteSecurityRequests")[0]
    with pytest.raises(Exception, match="not an optional operation"):
        bad = copy.deepcopy(fleet())
        bad["subscriptions"][0]["resource_groups"][0]["vaults"][0]["resource_guard_excluded"] = ["disableSoftDeleteRequests"]
        from tests.emulator.store import Store  # pylint: disable=import-outside-toplevel
        Store("tenant", bad)


def test_disabling_soft_delete_needs_the_guards_tenant(guarded):
    off = {"softDeleteSettings": {"softDeleteState": "Disabled", "enhancedSecurityState": "Disabled"}}
    message = refused(patch_rs(guarded, "rsv-guarded", off))
    assert "disableSoftDeleteRequests" in message and mua.GUARD_TENANT_ID in message
    refused(patch_rs(guarded, "rsv-guarded", off, aux(guarded, tenant=guarded.endpoint["tenant_id"])))   # the vault's own tenant
    refused(patch_rs(guarded, "rsv-guarded", off, {"x-ms-authorization-auxiliary": "Bearer not-a-token"}))
    assert guarded.writes() == [] or all(w["status"] == 403 for w in guarded.writes())
    # With the token but without the guard's operation request id in the body: refused as Azure refuses it.
    missing_id(patch_rs(guarded, "rsv-guarded", off, aux(guarded)))
    missing_id(patch_rs(guarded, "rsv-guarded", off, aux(guarded), ids("deleteResourceGuardProxyRequests")))   # another's id
    assert patch_rs(guarded, "rsv-guarded", off, aux(guarded), ids("disableSoftDeleteRequests")).status_code == 202
    state = guarded.resource("/" + RSV + "rsv-guarded")["properties"]["securitySettings"]["softDeleteSettings"]["softDeleteState"]
    assert state == "Disabled"
    # A vault without a guard: no header needed.
    assert patch_rs(guarded, "rsv-open", off).status_code == 202


def test_shortening_soft_delete_retention_and_disabling_immutability_are_protected(guarded):
    shorter = {"softDeleteSettings": {"softDeleteRetentionPeriodInDays": 14}}
    longer = {"softDeleteSettings": {"softDeleteRetentionPeriodInDays": 30}}
    assert patch_rs(guarded, "rsv-excluded", longer).status_code == 202                       # raising needs nothing
    assert "disableSoftDeleteRequests" in refused(patch_rs(guarded, "rsv-excluded", shorter))
    message = refused(patch_rs(guarded, "rsv-guarded", {"immutabilitySettings": {"state": "Disabled"}}))
    assert "reduceImmutabilityStateRequests" in message
    assert patch_rs(guarded, "rsv-guarded", {"immutabilitySettings": {"state": "Locked"}}).status_code == 202   # strengthening


def test_the_config_api_and_the_backup_vault_are_guarded_too(guarded):
    config = {"properties": {"softDeleteFeatureState": "Disabled", "enhancedSecurityState": "Disabled"}}
    refused(guarded.arm_request("PATCH", RSV + "rsv-guarded/backupconfig/vaultconfig", POLICY_VER, body=config))
    missing_id(guarded.arm_request("PATCH", RSV + "rsv-guarded/backupconfig/vaultconfig", POLICY_VER, body=config,
                                   headers=aux(guarded)))
    config["properties"]["resourceGuardOperationRequests"] = ids("disableSoftDeleteRequests")
    assert guarded.arm_request("PATCH", RSV + "rsv-guarded/backupconfig/vaultconfig", POLICY_VER, body=config,
                               headers=aux(guarded)).status_code == 200
    vault = guarded.arm_request("GET", BV + "bv-guarded", DP_VER).json()
    vault["properties"]["securitySettings"]["softDeleteSettings"]["state"] = "Off"
    refused(guarded.arm_request("PUT", BV + "bv-guarded", DP_VER, body=vault))
    missing_id(guarded.arm_request("PUT", BV + "bv-guarded", DP_VER, body=vault, headers=aux(guarded)))
    # A Backup vault's request type is the live proxy's (dppReduceSoftDeleteSecurityRequests), and the vault keeps no id.
    vault["properties"]["resourceGuardOperationRequests"] = ids("dppReduceSoftDeleteSecurityRequests")
    assert guarded.arm_request("PUT", BV + "bv-guarded", DP_VER, body=vault, headers=aux(guarded)).status_code == 201
    assert "resourceGuardOperationRequests" not in guarded.arm_request("GET", BV + "bv-guarded", DP_VER).json()["properties"]


def test_a_policy_change_that_reduces_retention_is_guarded_unless_excluded(guarded):
    policy = guarded.arm_request("GET", RSV + "rsv-excluded/backupPolicies/vm", POLICY_VER).json()
    weaker = copy.deepcopy(policy)
    weaker["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 7
    assert guarded.arm_request("PUT", RSV + "rsv-excluded/backupPolicies/vm", POLICY_VER, body=weaker).status_code == 200
    # rsv-guarded is also immutable: with the guard's token and its request id the immutable vault still refuses the reduction.
    assert "updateProtectionPolicyRequests" in refused(guarded.arm_request("PUT", RSV + "rsv-guarded/backupPolicies/vm", POLICY_VER,
                                                                           body=weaker))
    missing_id(guarded.arm_request("PUT", RSV + "rsv-guarded/backupPolicies/vm", POLICY_VER, body=weaker, headers=aux(guarded)))
    weaker["properties"]["resourceGuardOperationRequests"] = ids("updateProtectionPolicyRequests")
    immutable = guarded.arm_request("PUT", RSV + "rsv-guarded/backupPolicies/vm", POLICY_VER, body=weaker, headers=aux(guarded))
    assert immutable.status_code == 400 and immutable.json()["error"]["code"] == "UserErrorRetentionReductionNotAllowedOnImmutableVault"
    stronger = copy.deepcopy(policy)
    stronger["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 90
    assert guarded.arm_request("PUT", RSV + "rsv-guarded/backupPolicies/vm", POLICY_VER, body=stronger).status_code == 200


def test_the_reductions_the_guard_protects_are_those_microsofts_client_sends_the_guards_token_for(guarded):
    """Azure PowerShell sends the Resource Guard's token with a policy change when the change lowers a VM policy's
    instant restore snapshot days, lowers a tier's count or drops a tier (Azure/azure-powershell,
    src/RecoveryServices/RecoveryServices.Backup.Providers/AzureWorkloadProviderHelper.cs at 8b76ababec92,
    checkMUAForRetentionPolicy, checkInstantRpRetentionRange, checkMUAForLongTermRetentionPolicy). The emulator guards the same changes, and a raise
    goes through without the token."""
    policy = guarded.arm_request("GET", RSV + "rsv-guarded/backupPolicies/vm", POLICY_VER).json()
    assert policy["properties"]["instantRpRetentionRangeInDays"] == 2
    fewer_snapshot_days = copy.deepcopy(policy)
    fewer_snapshot_days["properties"]["instantRpRetentionRangeInDays"] = 1
    no_weekly = copy.deepcopy(policy)
    del no_weekly["properties"]["retentionPolicy"]["weeklySchedule"]
    for weaker in (fewer_snapshot_days, no_weekly):
        assert "updateProtectionPolicyRequests" in refused(guarded.arm_request("PUT", RSV + "rsv-guarded/backupPolicies/vm", POLICY_VER,
                                                                               body=weaker))
    more_snapshot_days = copy.deepcopy(policy)
    more_snapshot_days["properties"]["instantRpRetentionRangeInDays"] = 3
    assert guarded.arm_request("PUT", RSV + "rsv-guarded/backupPolicies/vm", POLICY_VER, body=more_snapshot_days).status_code == 200


def test_the_identity_endpoint_issues_tokens_of_the_guards_tenant(guarded):
    ep = guarded.endpoint
    credential = ClientSecretCredential(ep["tenant_id"], ep["client_id"], ep["client_secret"], authority=ep["authority_host"],
                                        disable_instance_discovery=True, connection_verify=guarded.ca_bundle,
                                        additionally_allowed_tenants=[mua.GUARD_TENANT_ID])
    token = credential.get_token(ep["audience"] + ".default", tenant_id=mua.GUARD_TENANT_ID).token
    off = {"softDeleteSettings": {"softDeleteState": "Disabled", "enhancedSecurityState": "Disabled"}}
    assert patch_rs(guarded, "rsv-guarded", off, {"x-ms-authorization-auxiliary": "Bearer " + token},
                    ids("disableSoftDeleteRequests")).status_code == 202


def test_a_recovery_services_guard_proxy_lists_the_recorded_operations_and_request_ids(guarded):
    """A Recovery Services vault's proxy as the live service listed it to Azure PowerShell (ps-rs-mua/get-proxy.json):
    the same nine vault critical operations with the same request types, in the same order, the same keys in the same
    order and no description. Until the fourth MUA pass the emulator listed six, four of them under request types of its
    own (disableImmutabilityRequests, reduceRetentionRequests, stopProtectionWithDeleteDataRequests,
    changeMarsSecurityPinRequests), and the spec example's description."""
    live = recorded("get-proxy.json")["value"][0]
    mine = guarded.arm_request("GET", RSV + "rsv-guarded/backupResourceGuardProxies", POLICY_VER).json()["value"][0]
    assert list(mine) == list(live) and list(mine["properties"]) == list(live["properties"])
    assert mine["type"] == live["type"] and mine["properties"]["resourceGuardResourceId"] == GUARD
    assert mine["properties"]["resourceGuardOperationDetails"] == live["properties"]["resourceGuardOperationDetails"]


def test_the_recorded_guarded_writes_pass_the_emulators_check(guarded):
    """The writes Azure PowerShell sent under the guard and Azure accepted (ps-rs-mua): disabling immutability with
    <guard>/reduceImmutabilityStateRequests/default, turning soft delete off through the backup config with
    disableSoftDeleteRequests, lowering a policy's daily retention with updateProtectionPolicyRequests in the policy's
    properties. The emulator accepts each as sent and refuses it without its request id; the answers keep no request id,
    as the recorded ones do not. Until the fourth MUA pass the emulator refused the recorded immutability PATCH (it
    wanted disableImmutabilityRequests) and took the policy reduction without any request id."""
    immutability = recorded("patch-vault-immutability-disabled.request.json")
    bare = copy.deepcopy(immutability)
    del bare["properties"]["resourceGuardOperationRequests"]
    assert patch_rs(guarded, "rsv-guarded", {"immutabilitySettings": {"state": "Unlocked"}}).status_code == 202
    missing_id(guarded.arm_request("PATCH", RSV + "rsv-guarded", RS_VER, body=bare, headers=aux(guarded)))
    assert guarded.arm_request("PATCH", RSV + "rsv-guarded", RS_VER, body=immutability, headers=aux(guarded)).status_code == 202
    vault = guarded.arm_request("GET", RSV + "rsv-guarded", RS_VER).json()["properties"]
    assert vault["securitySettings"]["immutabilitySettings"]["state"] == "Disabled" and "resourceGuardOperationRequests" not in vault

    config = recorded("patch-vaultconfig-soft-delete-disabled.request.json")
    bare = copy.deepcopy(config)
    del bare["properties"]["resourceGuardOperationRequests"]
    missing_id(guarded.arm_request("PATCH", RSV + "rsv-mutable/backupconfig/vaultconfig", POLICY_VER, body=bare, headers=aux(guarded)))
    answer = guarded.arm_request("PATCH", RSV + "rsv-mutable/backupconfig/vaultconfig", POLICY_VER, body=config, headers=aux(guarded))
    assert answer.status_code == 200, answer.text
    assert set(recorded("patch-vaultconfig-soft-delete-disabled.response.json")["properties"]) <= set(answer.json()["properties"])
    assert "resourceGuardOperationRequests" not in answer.json()["properties"]
    assert answer.json()["properties"]["softDeleteFeatureState"] == "Disabled"

    reduced = recorded("put-policy-reduced.request.json")
    before = copy.deepcopy(reduced)
    del before["properties"]["resourceGuardOperationRequests"]
    before["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 10
    policy = RSV + "rsv-mutable/backupPolicies/mua-vm-lowerDailyRet"
    assert guarded.arm_request("PUT", policy, POLICY_VER, body=before).status_code == 200   # a new policy: nothing to approve
    bare = copy.deepcopy(reduced)
    del bare["properties"]["resourceGuardOperationRequests"]
    assert "updateProtectionPolicyRequests" in refused(guarded.arm_request("PUT", policy, POLICY_VER, body=reduced))
    missing_id(guarded.arm_request("PUT", policy, POLICY_VER, body=bare, headers=aux(guarded)))
    answer = guarded.arm_request("PUT", policy, POLICY_VER, body=reduced, headers=aux(guarded))
    assert answer.status_code == 200, answer.text
    assert "resourceGuardOperationRequests" not in answer.json()["properties"]
    assert answer.json()["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] == 9


def test_a_sparser_backup_schedule_is_guarded_as_the_az_cli_guards_it(guarded):
    """The az CLI sends the guard's token with a policy change whose recovery point objective grows, before it compares
    any retention (Azure/azure-cli command_modules/backup/custom_help.py, is_retention_duration_decreased calls
    is_rpo_increased, calculate_rpo). The emulator guards that change too: a SQL policy whose log backups go from hourly to
    every four hours, its retention unchanged, is refused without the token. Before, it went through."""
    policy = RSV + "rsv-mutable/backupPolicies/sql"
    body = guarded.arm_request("GET", policy, POLICY_VER).json()
    log = next(sub for sub in body["properties"]["subProtectionPolicy"] if sub["policyType"] == "Log")
    assert log["schedulePolicy"]["scheduleFrequencyInMins"] == 60
    log["schedulePolicy"]["scheduleFrequencyInMins"] = 240
    assert "updateProtectionPolicyRequests" in refused(guarded.arm_request("PUT", policy, POLICY_VER, body=body))
    body["properties"]["resourceGuardOperationRequests"] = ids("updateProtectionPolicyRequests")
    assert guarded.arm_request("PUT", policy, POLICY_VER, body=body, headers=aux(guarded)).status_code == 200
    denser = guarded.arm_request("GET", policy, POLICY_VER).json()
    next(sub for sub in denser["properties"]["subProtectionPolicy"] if sub["policyType"] == "Log")["schedulePolicy"][
        "scheduleFrequencyInMins"] = 30
    assert guarded.arm_request("PUT", policy, POLICY_VER, body=denser).status_code == 200   # a shorter RPO needs nothing


@pytest.mark.parametrize("props, hours", [
    ({"backupManagementType": "AzureIaasVM", "schedulePolicy": {"scheduleRunFrequency": "Daily"}}, 24),
    ({"backupManagementType": "AzureIaasVM", "schedulePolicy": {"scheduleRunFrequency": "Hourly",
                                                                "hourlySchedule": {"interval": 4, "scheduleWindowDuration": 24}}}, 4),
    ({"backupManagementType": "AzureIaasVM", "schedulePolicy": {"scheduleRunFrequency": "Hourly",
                                                                "hourlySchedule": {"interval": 4, "scheduleWindowDuration": 12}}}, 12),
    ({"backupManagementType": "AzureIaasVM", "schedulePolicy": {"scheduleRunFrequency": "Weekly",
                                                                "weeklySchedule": {"scheduleRunDays": ["Sunday"]}}}, 168),
    ({"backupManagementType": "AzureIaasVM", "schedulePolicy": {"scheduleRunFrequency": "Weekly",
                                                                "scheduleRunDays": ["Monday", "Thursday"]}}, 96),
    ({"backupManagementType": "AzureStorage", "schedulePolicy": {"scheduleRunFrequency": "Hourly",
                                                                 "hourlySchedule": {"interval": 4, "scheduleWindowDuration": 12}}}, 12),
    ({"backupManagementType": "AzureStorage", "schedulePolicy": {"scheduleRunFrequency": "Hourly",
                                                                 "hourlySchedule": {"interval": 4, "scheduleWindowDuration": 4}}}, 24),
    (generator.sql(False), 1),
    ({"backupManagementType": "MAB"}, 0),
])
def test_a_policys_rpo_as_the_az_cli_computes_it(props, hours):
    assert rules.rpo_hours(props) == hours
