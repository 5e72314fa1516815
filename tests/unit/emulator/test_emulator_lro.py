# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: long-running operations answer InProgress to their first polls (settings lro_in_progress_polls)."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-vaultlock"


def fleet():
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv", "type": "recovery_services", "immutability": "disabled"},
        {"name": "bv", "type": "backup", "immutability": "disabled"}]}]}]}


def polls(emulator, marker):
    return [e for e in emulator.journal() if e["method"] == "GET" and marker in e["path"]]


def test_default_is_one_in_progress_poll_so_sdk_polling_runs(emulator):
    emulator.load_fleet(fleet())
    assert emulator.settings()["lro_in_progress_polls"] == 1
    vault = emulator.rs_client().vaults.begin_update(
        RG, "rsv", {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Unlocked"}}}}).result()
    assert vault.properties.security_settings.immutability_settings.state == "Unlocked"
    assert len(polls(emulator, "/operationStatus/")) == 2  # InProgress, then Succeeded
    emulator.clear_journal()
    emulator.dp_client().backup_vaults.begin_update(
        RG, "bv", {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Unlocked"}}}}).result()
    assert len(polls(emulator, "/operationStatus/")) == 2


@pytest.mark.parametrize("count", [0, 3])
def test_number_of_in_progress_polls_is_a_setting(emulator, count):
    emulator.load_fleet(fleet())
    emulator.settings(lro_in_progress_polls=count)
    resp = emulator.arm_request("PATCH", "subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv"
                                % (SUB, RG), "2026-11-01", {"tags": {"a": "b"}})
    assert resp.status_code == 202
    seen = [emulator.arm_request("GET", resp.headers["Azure-AsyncOperation"]).json()["status"] for _poll in range(count + 2)]
    assert seen == ["InProgress"] * count + ["Succeeded", "Succeeded"]


def test_failed_operation_runs_first(emulator):
    emulator.load_fleet(fleet())
    emulator.settings(lro_fail={"code": "InternalError", "message": "boom", "times": 1})
    with pytest.raises(HttpResponseError, match="boom"):
        emulator.rs_client().vaults.begin_update(RG, "rsv", {"tags": {"a": "b"}}).result()
    assert len(polls(emulator, "/operationStatus/")) == 2


def test_retry_after_is_a_setting(emulator):
    emulator.load_fleet(fleet())
    emulator.settings(lro_retry_after=7)
    resp = emulator.arm_request("PATCH", "subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/bv"
                                % (SUB, RG), "2026-06-01", {"tags": {"a": "b"}})
    assert resp.headers["Retry-After"] == "7"
    running = emulator.arm_request("GET", resp.headers["Azure-AsyncOperation"])
    assert running.json()["status"] == "InProgress" and running.headers["Retry-After"] == "7"
