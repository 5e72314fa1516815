# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: the Recovery Services backup resource vault config API (backupconfig/vaultconfig), which API owns
soft delete of a vault, retention-day bounds and the multi-user authorization fields, through the real SDKs."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from tests.emulator import rules

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-sd"
GUARD = "/subscriptions/%s/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/guard-01" % SUB


def fleet(*vaults):
    return {"subscriptions": [{"id": SUB, "display_name": "sd", "resource_groups": [
        {"name": RG, "location": "westeurope", "vaults": list(vaults)}]}]}


def rs(name, state="on", days=14, **extra):
    return dict({"name": name, "soft_delete": {"state": state, "retention_days": days}}, **extra)


def dp(name, state="on", days=14, **extra):
    return dict({"name": name, "type": "backup", "soft_delete": {"state": state, "retention_days": days}}, **extra)


def vid(name, kind="rs"):
    provider = "Microsoft.RecoveryServices/vaults" if kind == "rs" else "Microsoft.DataProtection/backupVaults"
    return "/subscriptions/%s/resourceGroups/%s/providers/%s/%s" % (SUB, RG, provider, name)


def full(state, enhanced=None, days=None):
    props = {"softDeleteFeatureState": state, "enhancedSecurityState": enhanced or state}
    if days is not None:
        props["softDeleteRetentionPeriodInDays"] = days
    return {"properties": props}


def rs_sd(emulator, name):
    return emulator.resource(vid(name))["properties"]["securitySettings"]["softDeleteSettings"]


@pytest.mark.parametrize("state,api", [("on", "Enabled"), ("off", "Disabled"), ("always_on", "AlwaysON")])
def test_config_get_agrees_with_vault_get(emulator, state, api):
    emulator.load_fleet(fleet(rs("v", state, 30)))
    config = emulator.backup_client().backup_resource_vault_configs.get("v", RG)
    assert config.name == "vaultconfig" and config.type == "Microsoft.RecoveryServices/vaults/backupconfig"
    assert config.id == vid("v") + "/backupconfig/vaultconfig"
    assert config.properties.soft_delete_feature_state == api
    assert config.properties.enhanced_security_state == api
    assert config.properties.soft_delete_retention_period_in_days == 30
    assert config.properties.is_soft_delete_feature_state_editable is (state != "always_on")
    vault = emulator.rs_client().vaults.get(RG, "v")
    assert vault.properties.security_settings.soft_delete_settings.soft_delete_state == api
    assert emulator.resource(vid("v") + "/backupconfig/vaultconfig")["properties"]["softDeleteFeatureState"] == api


@pytest.mark.parametrize("method", ["update", "put"])
def test_config_write_changes_the_vault(emulator, method):
    emulator.load_fleet(fleet(rs("v", "off")))
    configs = emulator.backup_client().backup_resource_vault_configs
    got = getattr(configs, method)("v", RG, full("Enabled", days=45))
    assert got.properties.soft_delete_feature_state == "Enabled" and got.properties.soft_delete_retention_period_in_days == 45
    assert rs_sd(emulator, "v") == {"softDeleteRetentionPeriodInDays": 45, "softDeleteState": "Enabled", "enhancedSecurityState": "Enabled"}
    write = emulator.writes()[-1]
    assert write["method"] == ("PATCH" if method == "update" else "PUT") and write["status"] == 200
    assert write["body"] == full("Enabled", days=45)
    # AlwaysOn (request spelling) is stored AlwaysON, as the live service answers
    configs.update("v", RG, full("AlwaysOn"))
    assert rs_sd(emulator, "v")["softDeleteState"] == "AlwaysON"
    assert emulator.rs_client().vaults.get(RG, "v").properties.security_settings.soft_delete_settings.enhanced_security_state == "AlwaysON"


def test_config_patch_with_only_the_retention_changes_nothing(emulator):
    """azure-rest-api-specs#34530: 200 and nothing changes."""
    emulator.load_fleet(fleet(rs("v", "on", 14)))
    got = emulator.backup_client().backup_resource_vault_configs.update("v", RG, {"properties": {"softDeleteRetentionPeriodInDays": 30}})
    assert got.properties.soft_delete_retention_period_in_days == 14
    assert rs_sd(emulator, "v")["softDeleteRetentionPeriodInDays"] == 14


@pytest.mark.parametrize("body", [full("Enabled"), full("Disabled"), full("AlwaysON", "Enabled")])
def test_config_cannot_leave_always_on(emulator, body):
    emulator.load_fleet(fleet(rs("v", "always_on")))
    with pytest.raises(HttpResponseError) as err:
        emulator.backup_client().backup_resource_vault_configs.update("v", RG, body)
    assert err.value.status_code == 400
    assert err.value.error.code == "BMSUserErrorSoftDeleteStateAlwaysOn"
    assert err.value.error.message == rules.CONFIG_DISABLE_MSG
    assert rs_sd(emulator, "v")["softDeleteState"] == "AlwaysON"


@pytest.mark.parametrize("days,ok", [(13, False), (14, True), (180, True), (181, False), (0, False)])
def test_retention_day_bounds_on_every_write_api(emulator, days, ok):
    emulator.load_fleet(fleet(rs("cfg", "on", 30), rs("vlt", "on", 30), dp("bv", "on", 30)))
    calls = [
        lambda: emulator.backup_client().backup_resource_vault_configs.update("cfg", RG, full("Enabled", days=days)),
        lambda: emulator.rs_client().vaults.begin_update(RG, "vlt", {"properties": {"securitySettings": {"softDeleteSettings": {
            "softDeleteRetentionPeriodInDays": days}}}}).result(),
        lambda: emulator.dp_client().backup_vaults.begin_update(RG, "bv", {"properties": {"securitySettings": {"softDeleteSettings": {
            "state": "On", "retentionDurationInDays": float(days)}}}}).result(),
    ]
    for call in calls:
        if ok:
            call()
        else:
            with pytest.raises(HttpResponseError) as err:
                call()
            assert err.value.status_code == 400
            assert err.value.error.code == rules.SOFT_DELETE_DAYS_CODE
            assert "between 14 and 180" in err.value.error.message
    want = days if ok else 30
    assert rs_sd(emulator, "cfg")["softDeleteRetentionPeriodInDays"] == want
    assert rs_sd(emulator, "vlt")["softDeleteRetentionPeriodInDays"] == want
    dp_sd = emulator.resource(vid("bv", "dp"))["properties"]["securitySettings"]["softDeleteSettings"]
    assert dp_sd["retentionDurationInDays"] == float(want)


def test_vault_api_owned_soft_delete_refuses_the_config_api(emulator):
    """azure/bicep-registry-modules#7292: BMSUserErrorSoftDeleteUseVaultApi, even for unchanged values."""
    emulator.load_fleet(fleet(rs("v", "on", 14, soft_delete_api="vault")))
    configs = emulator.backup_client().backup_resource_vault_configs
    for body in (full("Disabled"), full("Enabled", days=14)):
        with pytest.raises(HttpResponseError) as err:
            configs.update("v", RG, body)
        assert err.value.status_code == 400
        assert err.value.error.code == rules.USE_VAULT_API_CODE
        assert err.value.error.message == rules.USE_VAULT_API_MSG
    assert configs.get("v", RG).properties.soft_delete_feature_state == "Enabled"       # reads still work
    emulator.rs_client().vaults.begin_update(RG, "v", {"properties": {"securitySettings": {"softDeleteSettings": {
        "softDeleteState": "Disabled", "enhancedSecurityState": "Disabled"}}}}).result()
    assert rs_sd(emulator, "v")["softDeleteState"] == "Disabled"


def test_config_api_owned_soft_delete_is_ignored_by_a_vault_patch(emulator):
    """azure-rest-api-specs#34218: the vault PATCH succeeds and soft delete does not change."""
    emulator.load_fleet(fleet(rs("v", "on", 14, soft_delete_api="config")))
    vault = emulator.rs_client().vaults.begin_update(RG, "v", {"properties": {"securitySettings": {"softDeleteSettings": {
        "softDeleteState": "Disabled", "enhancedSecurityState": "Disabled", "softDeleteRetentionPeriodInDays": 30}}}}).result()
    assert vault.properties.security_settings.soft_delete_settings.soft_delete_state == "Enabled"
    assert rs_sd(emulator, "v") == {"softDeleteRetentionPeriodInDays": 14, "softDeleteState": "Enabled", "enhancedSecurityState": "Enabled"}
    emulator.backup_client().backup_resource_vault_configs.update("v", RG, full("Disabled", days=14))
    assert rs_sd(emulator, "v")["softDeleteState"] == "Disabled"


def test_the_first_api_to_write_soft_delete_takes_it_over(emulator):
    emulator.load_fleet(fleet(rs("a"), rs("b")))
    rs_client, configs = emulator.rs_client(), emulator.backup_client().backup_resource_vault_configs
    # a: vault API first -> the config API is refused afterwards
    rs_client.vaults.begin_update(RG, "a", {"properties": {"securitySettings": {"softDeleteSettings": {
        "softDeleteState": "Enabled", "enhancedSecurityState": "Enabled", "softDeleteRetentionPeriodInDays": 20}}}}).result()
    with pytest.raises(HttpResponseError) as err:
        configs.update("a", RG, full("Enabled", days=20))
    assert err.value.error.code == rules.USE_VAULT_API_CODE
    # a PATCH without soft delete (tags) takes nothing over
    rs_client.vaults.begin_update(RG, "b", {"tags": {"x": "y"}}).result()
    # b: config API first -> a vault PATCH of soft delete is ignored afterwards
    configs.update("b", RG, full("Enabled", days=25))
    rs_client.vaults.begin_update(RG, "b", {"properties": {"securitySettings": {"softDeleteSettings": {
        "softDeleteRetentionPeriodInDays": 60}}}}).result()
    assert rs_sd(emulator, "b")["softDeleteRetentionPeriodInDays"] == 25


def test_mua_fields_from_the_fleet(emulator):
    emulator.load_fleet(fleet(rs("rsv", resource_guard_id=GUARD), rs("plain"), dp("bv", resource_guard_id=GUARD), dp("bv-plain")))
    for name, guarded in (("rsv", True), ("plain", False)):
        body = emulator.resource(vid(name))["properties"]
        assert body["securitySettings"]["multiUserAuthorization"] == ("Enabled" if guarded else "Disabled")
        config = emulator.backup_client().backup_resource_vault_configs.get(name, RG).properties
        # Neither the vault nor its config names the guard (a live GET does not: tests/fixtures/azure-real/ps-rs-mua);
        # the vault's proxy does.
        assert "resourceGuardOperationRequests" not in body and config.resource_guard_operation_requests is None
        proxies = list(emulator.backup_client().resource_guard_proxies.get(name, RG))
        assert [(p.name, p.properties.resource_guard_resource_id) for p in proxies] == ([("VaultProxy", GUARD)] if guarded else [])
    for name, guarded in (("bv", True), ("bv-plain", False)):
        vault = emulator.dp_client().backup_vaults.get(RG, name)
        assert vault.properties.is_vault_protected_by_resource_guard is guarded
        assert vault.properties.resource_guard_operation_requests is None
        proxies = list(emulator.dp_client().dpp_resource_guard_proxy.list(RG, name))
        assert [(p.name, p.properties.resource_guard_resource_id) for p in proxies] == (
            [("DppResourceGuardProxy", GUARD)] if guarded else [])


def test_config_api_versions_rbac_and_not_found(emulator):
    emulator.load_fleet(fleet(rs("v"), dp("bv")))
    client = emulator.backup_client(api_version="2019-01-01")
    with pytest.raises(HttpResponseError) as err:
        client.backup_resource_vault_configs.get("v", RG)
    assert err.value.error.code == "NoRegisteredProviderFound"
    assert "for type 'vaults/backupconfig'" in err.value.error.message
    reader = emulator.backup_client(credential=emulator.credential(readonly=True))
    assert reader.backup_resource_vault_configs.get("v", RG).properties.soft_delete_feature_state == "Enabled"
    with pytest.raises(HttpResponseError) as err:
        reader.backup_resource_vault_configs.update("v", RG, full("Disabled"))
    assert err.value.status_code == 403
    assert "Microsoft.RecoveryServices/vaults/backupconfig/write" in err.value.error.message
    with pytest.raises(HttpResponseError) as err:
        emulator.backup_client().backup_resource_vault_configs.get("missing", RG)
    assert err.value.status_code == 404 and err.value.error.code == "ResourceNotFound"
    assert rs_sd(emulator, "v")["softDeleteState"] == "Enabled"


def test_fleet_rejects_an_unknown_soft_delete_api(emulator):
    with pytest.raises(Exception):
        emulator.load_fleet(fleet(rs("v", soft_delete_api="portal")))
