# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: a Recovery Services vault's diagnostic settings (tests/emulator/diagnostics.py) through azure-mgmt-core's
ARM pipeline, with the Azure Monitor spec examples (tests/fixtures/azure_monitor)."""
from __future__ import annotations

import json

from azure.core.rest import HttpRequest

from tests.fixtures import FIXTURES

SUB = "0b352192-dcac-4cc7-992e-a96190ccc68c"
RG = "rg-diag"
VAULT = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-diag" % (SUB, RG)
DS = VAULT + "/providers/Microsoft.Insights/diagnosticSettings"
VERSION = "2021-05-01-preview"


def fleet():
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv-diag", "type": "recovery_services"}, {"name": "bv-diag", "type": "backup"}]}]}]}


def client(emulator, readonly=False):
    """The Recovery Services SDK client: its send_request goes through azure-mgmt-core's ARM pipeline."""
    return emulator.rs_client(SUB, credential=emulator.credential(readonly=readonly))


def call(arm, method, path, version=VERSION, body=None):
    response = arm.send_request(HttpRequest(method, path, params={"api-version": version}, json=body))
    return response.status_code, (response.json() if response.text() else None)


def test_put_get_list_as_the_spec_examples_write_them(emulator):
    emulator.load_fleet(fleet())
    arm = client(emulator)
    example = json.loads((FIXTURES / "azure_monitor" / "createOrUpdateDiagnosticSetting.json").read_text(encoding="utf-8"))
    assert call(arm, "GET", DS) == (200, {"value": []})
    status, made = call(arm, "PUT", DS + "/mysetting", body=example["parameters"]["parameters"])
    want = example["responses"]["200"]["body"]
    assert status == 200 and set(made) == set(want) and made["properties"] == want["properties"]
    assert (made["type"], made["name"]) == (want["type"], want["name"])
    assert made["id"] == VAULT + "/providers/microsoft.insights/diagnosticSettings/mysetting"
    assert call(arm, "GET", DS + "/MySetting") == (200, made)
    listed = json.loads((FIXTURES / "azure_monitor" / "listDiagnosticSettings.json").read_text(encoding="utf-8"))
    status, page = call(arm, "GET", DS)
    assert status == 200 and set(page) == set(listed["responses"]["200"]["body"]) and page["value"] == [made]


def test_arms_answers_missing_vault_missing_setting_version_reader_and_backup_vaults(emulator):
    emulator.load_fleet(fleet())
    arm = client(emulator)
    status, body = call(arm, "GET", DS.replace("rsv-diag", "rsv-gone"))
    assert status == 404 and body["error"]["code"] == "ResourceNotFound"
    status, body = call(arm, "GET", DS + "/nope")
    assert status == 404 and body["error"]["code"] == "ResourceNotFound"
    status, body = call(arm, "GET", DS, version="2099-01-01")
    assert status == 400 and body["error"]["code"] == "NoRegisteredProviderFound"
    status, body = call(client(emulator, readonly=True), "PUT", DS + "/s", body={"properties": {"logs": []}})
    assert status == 403 and body["error"]["code"] == "AuthorizationFailed"
    assert call(client(emulator, readonly=True), "GET", DS) == (200, {"value": []})
    status, body = call(arm, "GET", DS.replace("Microsoft.RecoveryServices/vaults/rsv-diag",
                                               "Microsoft.DataProtection/backupVaults/bv-diag"))
    assert status == 404 and body["error"]["code"] == "InvalidResourceType"
    status, body = call(arm, "PUT", DS + "/s", body={"properties": "x"})
    assert status == 400


def test_a_fleet_vault_can_carry_settings(emulator):
    emulator.load_fleet({"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv-diag", "type": "recovery_services",
         "diagnostic_settings": {"setbypolicy_logAnalytics": {"workspaceId": "/w", "logs": []}}}]}]}]})
    status, page = call(client(emulator), "GET", DS)
    assert status == 200
    assert [(s["name"], s["properties"]) for s in page["value"]] == [("setbypolicy_logAnalytics", {"workspaceId": "/w", "logs": []})]


def test_the_shapes_azure_returns_today_are_served_as_stored(emulator):
    """Several settings a vault, as Azure Monitor answers them today (tests/fixtures/azure_monitor, SOURCE.txt): the Get
    example (storage account and event hub only, categoryGroup allLogs, no logAnalyticsDestinationType), Learn's
    categoryGroup entry with "category": null, a null logAnalyticsDestinationType, AzureDiagnostics. The list serves each
    setting's properties as stored: nulls kept, nothing added or dropped."""
    got = json.loads((FIXTURES / "azure_monitor" / "getDiagnosticSetting.json").read_text(encoding="utf-8"))
    shapes = {
        "mysetting": got["responses"]["200"]["body"]["properties"],
        "groups": {"workspaceId": "/w", "logAnalyticsDestinationType": "Dedicated", "metrics": [],
                   "logs": [{"category": None, "categoryGroup": "audit", "enabled": True},
                            {"category": None, "categoryGroup": "allLogs", "enabled": True}]},
        "nulltype": {"workspaceId": "/w", "logAnalyticsDestinationType": None,
                     "logs": [{"category": "CoreAzureBackup", "enabled": True, "categoryGroup": None}]},
        "azurediagnostics": {"workspaceId": "/w", "logAnalyticsDestinationType": "AzureDiagnostics", "logs": []},
    }
    emulator.load_fleet({"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv-diag", "type": "recovery_services", "diagnostic_settings": shapes}]}]}]})
    status, page = call(client(emulator), "GET", DS)
    assert status == 200 and sorted(s["name"] for s in page["value"]) == sorted(shapes)
    for setting in page["value"]:
        assert setting["properties"] == shapes[setting["name"]], setting["name"]
        assert setting["type"] == "Microsoft.Insights/diagnosticSettings"
