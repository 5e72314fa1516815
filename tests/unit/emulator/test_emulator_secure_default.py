# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: secure by default, soft delete that Azure enforces per vault or per region (secure_default.py)."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from tests.emulator import rules, secure_default

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-sbd"
RS = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/" % (SUB, RG)
DP = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/" % (SUB, RG)


def fleet(vaults, location="westeurope", regions=None):
    doc = {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": location, "vaults": vaults}]}]}
    if regions is not None:
        doc["secure_by_default"] = regions
    return doc


def off(kind):
    if kind == "rs":
        return {"properties": {"securitySettings": {"softDeleteSettings": {"softDeleteState": "Disabled", "enhancedSecurityState": "Disabled"}}}}
    return {"properties": {"securitySettings": {"softDeleteSettings": {"state": "Off"}}}}


def config_off():
    return {"properties": {"softDeleteFeatureState": "Disabled", "enhancedSecurityState": "Disabled", "softDeleteRetentionPeriodInDays": 14}}


def test_backup_vault_in_a_ga_region_refuses_off(emulator):
    emulator.load_fleet(fleet([{"name": "bv", "type": "backup"}], location="australiaeast"))
    client = emulator.dp_client()
    with pytest.raises(HttpResponseError) as err:
        client.backup_vaults.begin_update(RG, "bv", off("dp")).result()
    assert err.value.status_code == 400 and err.value.error.code == secure_default.DP_ENFORCED_CODE
    assert emulator.resource("/" + DP + "bv")["properties"]["securitySettings"]["softDeleteSettings"]["state"] == "On"
    # raising is allowed
    vault = client.backup_vaults.begin_update(RG, "bv", {"properties": {"securitySettings": {"softDeleteSettings": {
        "state": "On", "retentionDurationInDays": 30}}}}).result()
    assert vault.properties.security_settings.soft_delete_settings.retention_duration_in_days == 30


def test_backup_vault_outside_ga_regions_is_not_enforced_by_default(emulator):
    emulator.load_fleet(fleet([{"name": "bv", "type": "backup"}]))
    emulator.dp_client().backup_vaults.begin_update(RG, "bv", off("dp")).result()
    assert emulator.resource("/" + DP + "bv")["properties"]["securitySettings"]["softDeleteSettings"]["state"] == "Off"


def test_backup_vault_preview_refuses_from_2025_09_01_only(emulator):
    emulator.load_fleet(fleet([{"name": "bv", "type": "backup", "secure_by_default": "preview"}]))
    resp = emulator.arm_request("PATCH", DP + "bv", "2025-09-01", off("dp"))
    assert resp.status_code == 400 and resp.json()["error"]["code"] == secure_default.DP_ENFORCED_CODE
    resp = emulator.arm_request("PATCH", DP + "bv", "2023-05-01", off("dp"))
    assert resp.status_code == 202
    assert emulator.resource("/" + DP + "bv")["properties"]["securitySettings"]["softDeleteSettings"]["state"] == "Off"


def test_recovery_services_ga_vault_is_always_on(emulator):
    emulator.load_fleet(fleet([{"name": "rsv", "soft_delete": {"state": "off"}, "secure_by_default": "ga"}]))
    sds = emulator.rs_client().vaults.get(RG, "rsv").properties.security_settings.soft_delete_settings
    assert (sds.soft_delete_state, sds.enhanced_security_state) == ("AlwaysON", "AlwaysON")
    with pytest.raises(HttpResponseError) as err:
        emulator.rs_client().vaults.begin_update(RG, "rsv", off("rs")).result()
    assert err.value.error.code == rules.SOFT_DELETE_CODE
    with pytest.raises(HttpResponseError) as err:
        emulator.backup_client().backup_resource_vault_configs.update("rsv", RG, config_off())
    assert err.value.error.code == rules.CONFIG_DISABLE_CODE == "BMSUserErrorSoftDeleteStateAlwaysOn"


def test_recovery_services_vault_created_in_a_ga_region_is_always_on(emulator):
    emulator.load_fleet(fleet([], regions={"recovery_services": {"westeurope": "ga"}}))
    body = {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {"securitySettings": {"softDeleteSettings": {
        "softDeleteState": "Enabled", "enhancedSecurityState": "Enabled", "softDeleteRetentionPeriodInDays": 14}}}}
    vault = emulator.rs_client().vaults.begin_create_or_update(RG, "new", body).result()
    assert vault.properties.security_settings.soft_delete_settings.soft_delete_state == "AlwaysON"


def test_recovery_services_preview_config_api_refuses_vault_api_ignores(emulator):
    emulator.load_fleet(fleet([{"name": "rsv"}], regions={"recovery_services": {"westeurope": "preview"}}))
    # The backup resource vault config API refuses at 2024-09-30-preview or later ...
    with pytest.raises(HttpResponseError) as err:
        emulator.backup_client().backup_resource_vault_configs.update("rsv", RG, config_off())
    assert err.value.status_code == 400
    assert err.value.error.code == "BMSUserErrorDisablingSoftDeleteStateNotAllowed"
    assert err.value.error.message == secure_default.CONFIG_ENFORCED_MSG
    # ... the vault API answers success and changes nothing ...
    emulator.rs_client().vaults.begin_update(RG, "rsv", off("rs")).result()
    sds = emulator.resource("/" + RS + "rsv")["properties"]["securitySettings"]["softDeleteSettings"]
    assert sds["softDeleteState"] == "Enabled"
    # ... and older api-versions may still disable it (Learn, secure-by-default, API considerations).
    resp = emulator.arm_request("PATCH", RS + "rsv/backupconfig/vaultconfig", "2024-04-01", config_off())
    assert resp.status_code == 200, resp.text
    assert emulator.resource("/" + RS + "rsv")["properties"]["securitySettings"]["softDeleteSettings"]["softDeleteState"] == "Disabled"


def test_region_and_vault_flags():
    regions = secure_default.regions_from_fleet({"secure_by_default": {"recovery_services": {"West Europe": "preview"}}})
    assert secure_default.mode_for(regions, "rs", "westeurope") == "preview"
    assert secure_default.mode_for(regions, "rs", "northeurope") == "none"
    assert secure_default.mode_for(regions, "dp", "Australia East") == "ga"
    assert secure_default.mode_for(regions, "dp", "australiaeast", "none") == "none"
    assert secure_default.mode_for(regions, "rs", "northeurope", True) == "ga"
    with pytest.raises(ValueError):
        secure_default.regions_from_fleet({"secure_by_default": {"recovery_services": {"westeurope": "maybe"}}})


def test_bad_fleet_flag_is_refused(emulator):
    with pytest.raises(RuntimeError, match="secure_by_default"):
        emulator.load_fleet(fleet([{"name": "rsv", "secure_by_default": "sometimes"}]))
