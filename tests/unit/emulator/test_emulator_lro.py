# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: long-running operations finish by the clock, as Azure's: InProgress until their Retry-After has
passed since they were accepted (setting lro_retry_after, default 0), then the final status. The clock is frozen and
advanced (control clock): nothing sleeps."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-vaultlock"
RSV = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv" % (SUB, RG)
BV = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/bv" % (SUB, RG)


def fleet():
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv", "type": "recovery_services", "immutability": "disabled"},
        {"name": "bv", "type": "backup", "immutability": "disabled"}]}]}]}


def polls(emulator, marker):
    return [e for e in emulator.journal() if e["method"] == "GET" and marker in e["path"]]


def status(emulator, url):
    return emulator.arm_request("GET", url).json()["status"]


def test_retry_after_zero_finishes_at_once_so_sdk_calls_stay_fast(emulator):
    emulator.load_fleet(fleet())
    assert emulator.settings()["lro_retry_after"] == 0 and "lro_in_progress_polls" not in emulator.settings()
    emulator.clock(freeze=True)  # even on a frozen clock: nothing is left to wait for
    vault = emulator.rs_client().vaults.begin_update(
        RG, "rsv", {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Unlocked"}}}}).result()
    assert vault.properties.security_settings.immutability_settings.state == "Unlocked"
    assert len(polls(emulator, "/operationStatus/")) == 1  # the SDK's polling loop runs; the first poll is final
    emulator.clear_journal()
    emulator.dp_client().backup_vaults.begin_update(
        RG, "bv", {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Unlocked"}}}}).result()
    assert len(polls(emulator, "/operationStatus/")) == 1


# The running status as each service spells it (recorded: azure-cli test_vault_soft_delete_basic "InProgress"; the
# dataprotection extension "Inprogress", tests/fixtures/azure-real/cliext-dp-mua-vault).
RUNNING = {RSV: "InProgress", BV: "Inprogress"}


@pytest.mark.parametrize("path,api", [(RSV, "2026-11-01"), (BV, "2026-06-01")])
def test_in_progress_until_retry_after_has_passed_since_accepted(emulator, path, api):
    emulator.load_fleet(fleet())
    emulator.settings(lro_retry_after=30)
    emulator.clock(freeze=True)
    resp = emulator.arm_request("PATCH", path, api, {"tags": {"a": "b"}})
    assert resp.status_code == 202 and resp.headers["Retry-After"] == "30"
    url = resp.headers["Azure-AsyncOperation"]
    # A client that polls at once sees InProgress (recording: azure-cli test_vault_soft_delete_basic), and so does
    # any number of polls before the Retry-After has passed: polls are not counted.
    seen = [status(emulator, url) for _poll in range(5)]
    assert seen == [RUNNING[path]] * 5
    emulator.clock(advance_s=29.5)
    running = emulator.arm_request("GET", url)
    assert running.json()["status"] == RUNNING[path] and running.headers["Retry-After"] == "30"
    emulator.clock(advance_s=0.5)
    assert [status(emulator, url) for _poll in range(2)] == ["Succeeded", "Succeeded"]


def test_a_client_that_waits_retry_after_sees_the_final_status_on_its_first_poll(emulator):
    """Recording: the dataprotection extension waited before each poll and saw Succeeded on its first poll."""
    emulator.load_fleet(fleet())
    emulator.settings(lro_retry_after=60)
    emulator.clock(freeze=True)
    resp = emulator.arm_request("PATCH", BV, "2022-12-01", {"tags": {"a": "b"}})
    emulator.clock(advance_s=float(resp.headers["Retry-After"]))
    assert status(emulator, resp.headers["Azure-AsyncOperation"]) == "Succeeded"
    assert len(polls(emulator, "/operationStatus/")) == 1


def test_operation_result_answers_202_until_done(emulator):
    emulator.load_fleet(fleet())
    emulator.settings(lro_retry_after=10)
    emulator.clock(freeze=True)
    resp = emulator.arm_request("PATCH", RSV, "2026-11-01", {"tags": {"a": "1"}})
    location = resp.headers["Location"]
    for _poll in range(3):
        running = emulator.arm_request("GET", location)
        assert running.status_code == 202 and running.headers["Retry-After"] == "10"
    emulator.clock(advance_s=10)
    done = emulator.arm_request("GET", location)
    assert done.status_code == 200 and done.json()["tags"] == {"a": "1"}


def test_an_operation_keeps_the_retry_after_it_was_accepted_with(emulator):
    emulator.load_fleet(fleet())
    emulator.settings(lro_retry_after=20)
    emulator.clock(freeze=True)
    url = emulator.arm_request("PATCH", RSV, "2026-11-01", {"tags": {"a": "b"}}).headers["Azure-AsyncOperation"]
    emulator.settings(lro_retry_after=0)
    running = emulator.arm_request("GET", url)
    assert running.json()["status"] == "InProgress" and running.headers["Retry-After"] == "20"
    fresh = emulator.arm_request("PATCH", RSV, "2026-11-01", {"tags": {"a": "c"}})
    assert fresh.headers["Retry-After"] == "0" and status(emulator, fresh.headers["Azure-AsyncOperation"]) == "Succeeded"
    emulator.clock(advance_s=20)
    assert status(emulator, url) == "Succeeded"


def test_policy_operations_finish_by_the_clock(emulator):
    emulator.load_fleet(fleet())
    emulator.settings(lro_retry_after=60, policy_put_async=True)
    emulator.clock(freeze=True)
    path = RSV + "/backupPolicies/p1"
    body = {"properties": {"backupManagementType": "AzureIaasVM", "instantRpRetentionRangeInDays": 2,
                           "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                                              "scheduleRunTimes": ["2026-01-01T02:00:00Z"]},
                           "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy",
                                               "dailySchedule": {"retentionTimes": ["2026-01-01T02:00:00Z"],
                                                                 "retentionDuration": {"count": 30, "durationType": "Days"}}},
                           "timeZone": "UTC"}}
    resp = emulator.arm_request("PUT", path, "2026-10-01", body)
    assert resp.status_code == 202 and resp.headers["Retry-After"] == "60"
    assert status(emulator, resp.headers["Azure-AsyncOperation"]) == "InProgress"
    assert emulator.arm_request("GET", resp.headers["Location"]).status_code == 202
    emulator.clock(advance_s=60)
    assert status(emulator, resp.headers["Azure-AsyncOperation"]) == "Succeeded"
    assert emulator.arm_request("GET", resp.headers["Location"]).status_code == 200


def test_failed_operation_fails_on_its_first_poll(emulator):
    emulator.load_fleet(fleet())
    emulator.settings(lro_fail={"code": "InternalError", "message": "boom", "times": 1})
    with pytest.raises(HttpResponseError, match="boom"):
        emulator.rs_client().vaults.begin_update(RG, "rsv", {"tags": {"a": "b"}}).result()
    assert len(polls(emulator, "/operationStatus/")) == 1


def test_retry_after_is_a_setting(emulator):
    emulator.load_fleet(fleet())
    emulator.settings(lro_retry_after=7)
    emulator.clock(freeze=True)
    resp = emulator.arm_request("PATCH", BV, "2026-06-01", {"tags": {"a": "b"}})
    assert resp.headers["Retry-After"] == "7"
    running = emulator.arm_request("GET", resp.headers["Azure-AsyncOperation"])
    assert running.json()["status"] == RUNNING[BV] and running.headers["Retry-After"] == "7"


def provisioning_states(emulator, path, api):
    """The vault's provisioningState as a GET, its resource group's list and its subscription's list answer it."""
    rg_list = path.rsplit("/", 1)[0]
    sub_list = "subscriptions/%s/providers/%s" % (SUB, rg_list.split("/providers/", 1)[1])
    name = path.rsplit("/", 1)[1]
    listed = [[v["properties"]["provisioningState"] for v in emulator.arm_request("GET", where, api).json()["value"]
               if v["name"] == name][0] for where in (rg_list, sub_list)]
    return [emulator.arm_request("GET", path, api).json()["properties"]["provisioningState"]] + listed


@pytest.mark.parametrize("path,api", [(RSV, "2026-11-01"), (BV, "2026-06-01"), (RSV, "2021-03-01"), (BV, "2022-12-01")])
def test_a_vault_reads_updating_while_a_write_of_it_runs(emulator, path, api):
    """While a PATCH of the vault runs, a read of the vault (GET, and both vault lists) says Updating (Backup vault: the
    recorded 201 of an update, spec enum; Recovery Services: assumed, see Arm.vault_view); once it has ended, Succeeded.
    Another vault, with no operation, reads Succeeded throughout."""
    emulator.load_fleet(fleet())
    other = RSV if path == BV else BV
    emulator.settings(lro_retry_after=30)
    emulator.clock(freeze=True)
    assert provisioning_states(emulator, path, api) == ["Succeeded"] * 3
    url = emulator.arm_request("PATCH", path, api, {"tags": {"a": "b"}}).headers["Azure-AsyncOperation"]
    assert provisioning_states(emulator, path, api) == ["Updating"] * 3
    other_api = "2026-06-01" if other == BV else "2026-11-01"
    assert emulator.arm_request("GET", other, other_api).json()["properties"]["provisioningState"] == "Succeeded"
    emulator.clock(advance_s=29)
    assert provisioning_states(emulator, path, api) == ["Updating"] * 3
    emulator.clock(advance_s=1)
    assert status(emulator, url) == "Succeeded"
    assert provisioning_states(emulator, path, api) == ["Succeeded"] * 3


def test_a_vault_reads_updating_while_a_write_that_will_fail_runs_and_as_before_after_it(emulator):
    emulator.load_fleet(fleet())
    emulator.settings(lro_retry_after=10, lro_fail={"code": "InternalError", "message": "boom", "times": 1})
    emulator.clock(freeze=True)
    emulator.arm_request("PATCH", RSV, "2026-11-01", {"tags": {"a": "b"}})
    assert emulator.arm_request("GET", RSV, "2026-11-01").json()["properties"]["provisioningState"] == "Updating"
    emulator.clock(advance_s=10)
    after = emulator.arm_request("GET", RSV, "2026-11-01").json()
    assert after["properties"]["provisioningState"] == "Succeeded" and "tags" not in after


def test_a_vault_being_created_reads_provisioning(emulator):
    """Recorded: the 201 of a create says Provisioning (both kinds); a GET while the create runs says the same (assumed)."""
    emulator.load_fleet(fleet())
    emulator.settings(lro_retry_after=10)
    emulator.clock(freeze=True)
    path = RSV + "-new"
    body = {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {}}
    assert emulator.arm_request("PUT", path, "2026-11-01", body).json()["properties"]["provisioningState"] == "Provisioning"
    assert emulator.arm_request("GET", path, "2026-11-01").json()["properties"]["provisioningState"] == "Provisioning"
    emulator.clock(advance_s=10)
    assert emulator.arm_request("GET", path, "2026-11-01").json()["properties"]["provisioningState"] == "Succeeded"


def test_the_sdk_reads_succeeded_once_its_operation_has_ended(emulator):
    """An SDK that waits for its operation reads the vault afterwards (its final GET): Succeeded, as every recorded read
    after an operation did (cliext-dp-vault-update, ps-rs-immutability)."""
    emulator.load_fleet(fleet())
    emulator.settings(lro_retry_after=1)
    vault = emulator.dp_client().backup_vaults.begin_update(
        RG, "bv", {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Unlocked"}}}}, polling_interval=0).result()
    assert vault.properties.provisioning_state == "Succeeded"
