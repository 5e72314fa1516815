# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: multi-user authorization (mua.py). With a Resource Guard associated, the operations it protects are
refused unless the request carries a token of the guard's tenant in x-ms-authorization-auxiliary."""
from __future__ import annotations

import copy

import pytest
from azure.identity import ClientSecretCredential

from tests.emulator import generator, mua

SUB = "77777777-aaaa-4000-8000-000000000007"
RG = "rg-mua"
GUARD = "/subscriptions/%s/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/guard-1" % SUB
RS_VER, POLICY_VER, DP_VER = "2026-11-01", "2026-10-01", "2026-06-01"
RSV = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/" % (SUB, RG)
BV = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/" % (SUB, RG)


def fleet():
    policy = {"name": "vm", "properties": generator.iaas_v1(False)}
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv-guarded", "type": "recovery_services", "immutability": "enabled", "resource_guard_id": GUARD,
         "policies": [policy]},
        {"name": "rsv-excluded", "type": "recovery_services", "resource_guard_id": GUARD, "policies": [policy],
         "resource_guard_excluded": ["reduceRetentionRequests"]},
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


def patch_rs(emulator, name, security, headers=None):
    return emulator.arm_request("PATCH", RSV + name, RS_VER, body={"properties": {"securitySettings": security}}, headers=headers)


def test_the_vault_lists_the_operations_its_guard_protects(guarded):
    body = guarded.arm_request("GET", RSV + "rsv-guarded", RS_VER).json()
    assert body["properties"]["resourceGuardOperationRequests"] == [
        "%s/%s/default" % (GUARD, op) for op, _mandatory in mua.OPERATIONS["rs"]]
    excluded = guarded.arm_request("GET", RSV + "rsv-excluded", RS_VER).json()["properties"]["resourceGuardOperationRequests"]
    assert "%s/reduceRetentionRequests/default" % GUARD not in excluded and len(excluded) == len(mua.OPERATIONS["rs"]) - 1
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
    assert patch_rs(guarded, "rsv-guarded", off, aux(guarded)).status_code == 202
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
    assert "disableImmutabilityRequests" in message
    assert patch_rs(guarded, "rsv-guarded", {"immutabilitySettings": {"state": "Locked"}}).status_code == 202   # strengthening


def test_the_config_api_and_the_backup_vault_are_guarded_too(guarded):
    config = {"properties": {"softDeleteFeatureState": "Disabled", "enhancedSecurityState": "Disabled"}}
    refused(guarded.arm_request("PATCH", RSV + "rsv-guarded/backupconfig/vaultconfig", POLICY_VER, body=config))
    assert guarded.arm_request("PATCH", RSV + "rsv-guarded/backupconfig/vaultconfig", POLICY_VER, body=config,
                               headers=aux(guarded)).status_code == 200
    vault = guarded.arm_request("GET", BV + "bv-guarded", DP_VER).json()
    vault["properties"]["securitySettings"]["softDeleteSettings"]["state"] = "Off"
    refused(guarded.arm_request("PUT", BV + "bv-guarded", DP_VER, body=vault))
    assert guarded.arm_request("PUT", BV + "bv-guarded", DP_VER, body=vault, headers=aux(guarded)).status_code == 201


def test_a_policy_change_that_reduces_retention_is_guarded_unless_excluded(guarded):
    policy = guarded.arm_request("GET", RSV + "rsv-excluded/backupPolicies/vm", POLICY_VER).json()
    weaker = copy.deepcopy(policy)
    weaker["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 7
    assert guarded.arm_request("PUT", RSV + "rsv-excluded/backupPolicies/vm", POLICY_VER, body=weaker).status_code == 200
    # rsv-guarded is also immutable: with the guard's token the immutable vault still refuses the reduction.
    assert "reduceRetentionRequests" in refused(guarded.arm_request("PUT", RSV + "rsv-guarded/backupPolicies/vm", POLICY_VER, body=weaker))
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
        assert "reduceRetentionRequests" in refused(guarded.arm_request("PUT", RSV + "rsv-guarded/backupPolicies/vm", POLICY_VER, body=weaker))
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
    assert patch_rs(guarded, "rsv-guarded", off, {"x-ms-authorization-auxiliary": "Bearer " + token}).status_code == 202
