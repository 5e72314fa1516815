# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator answers the Backup vault writes Microsoft's own az CLI tests recorded as the live service did.

tests/fixtures/azure-real/cliext-dp-vault-refusals (SOURCE.txt): a Locked vault set Unlocked and cross region restore
set Disabled once Enabled (both refused, 400, code and message recorded at api-version 2023-11-01), and a vault created
Locked (accepted, 201, at 2025-07-01). Each recorded request body is sent as recorded to a vault in the state the
recording had it in, and the emulator's answer is compared with the recorded one (ids, times and activity ids aside).
"""
from __future__ import annotations

import json
import pathlib

import pytest

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg-recorded"
NAME = "cli-test-backup-vault"
RECORDED = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "azure-real" / "cliext-dp-vault-refusals"
ANSWERS = json.loads((RECORDED / "answers.json").read_text(encoding="utf-8"))
PATH = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/%s" % (SUB, RG, NAME)


def _fleet(before):
    vaults = []
    if before is not None:
        vault = {"name": NAME, "type": "backup", "location": "centraluseuap", "storage_redundancy": "GeoRedundant",
                 "immutability": before["immutability"].lower(),
                 "soft_delete": {"state": "always_on" if before["soft_delete"] == "AlwaysOn" else "on", "retention_days": 14}}
        if before.get("cross_region_restore"):
            vault["cross_region_restore"] = before["cross_region_restore"].lower()
        vaults.append(vault)
    return {"subscriptions": [{"id": SUB, "display_name": "recorded", "resource_groups": [
        {"name": RG, "location": "centraluseuap", "vaults": vaults}]}]}


def _error_without_ids(body):
    err = json.loads(json.dumps(body))["error"]
    for info in err.get("additionalInfo") or []:
        info["info"]["properties"].pop("ActivityId", None)
    return err


@pytest.mark.parametrize("case", ["leave_locked", "disable_crr"])
def test_a_recorded_refusal_is_answered_with_the_recorded_code_and_message(emulator, case):
    recorded = ANSWERS[case]
    emulator.load_fleet(_fleet(recorded["vault_before"]))
    before = emulator.resource(PATH)
    resp = emulator.arm_request("PUT", PATH, api_version=recorded["api"], body=recorded["body"])
    assert resp.status_code == recorded["status"]
    assert _error_without_ids(resp.json()) == _error_without_ids(recorded["resp"])
    after = emulator.resource(PATH)
    assert after["properties"]["securitySettings"] == before["properties"]["securitySettings"]
    assert after["properties"].get("featureSettings") == before["properties"].get("featureSettings")


def test_a_backup_vault_created_locked_is_accepted_as_recorded(emulator):
    recorded = ANSWERS["create_locked"]
    emulator.load_fleet(_fleet(None))
    emulator.settings(lro_retry_after=0)
    resp = emulator.arm_request("PUT", PATH, api_version=recorded["api"], body=recorded["body"])
    assert resp.status_code == recorded["status"]
    props = resp.json()["properties"]
    want = recorded["resp"]["properties"]
    assert props["securitySettings"]["immutabilitySettings"] == want["securitySettings"]["immutabilitySettings"] == {"state": "Locked"}
    assert props["featureSettings"]["crossRegionRestoreSettings"] == want["featureSettings"]["crossRegionRestoreSettings"]
    assert emulator.resource(PATH)["properties"]["securitySettings"]["immutabilitySettings"]["state"] == "Locked"


def test_a_locked_always_on_backup_vault_without_a_resource_guard_reads_secure_score_adequate_as_recorded(emulator):
    """The recorded GETs right before the refused PUTs (2024-02-12, api-version 2023-11-01) read a Backup vault with
    immutability Locked and soft delete AlwaysOn, no Resource Guard (isVaultProtectedByResourceGuard false): secureScore
    "Adequate" (the emulator's heuristic said "Maximum"); the created Locked vault with soft delete On reads Adequate and
    bcdrSecurityLevel Good (2025-11-04, api-version 2025-07-01)."""
    recorded = ANSWERS["disable_crr"]
    emulator.load_fleet(_fleet(recorded["vault_before"]))
    props = emulator.arm_request("GET", PATH, api_version=recorded["api"]).json()["properties"]
    assert props["isVaultProtectedByResourceGuard"] is False
    assert props["secureScore"] == "Adequate"
    created = ANSWERS["create_locked"]
    emulator.load_fleet(_fleet(None))
    emulator.arm_request("PUT", PATH, api_version=created["api"], body=created["body"])
    props = emulator.arm_request("GET", PATH, api_version=created["api"]).json()["properties"]
    want = created["resp"]["properties"]
    assert (props["secureScore"], props.get("bcdrSecurityLevel")) == (want["secureScore"], want["bcdrSecurityLevel"])
