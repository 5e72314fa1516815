# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's vault, policy and error bodies, whole, against the bodies Microsoft's clients recorded: every key the
recording has, with its value (letter case included), and no key the recording lacks (a field Azure leaves out is
absent, not null or empty). test_replay.py compares the paths each step names; this compares the rest too."""
from __future__ import annotations

import json

import pytest

from tests.emulator.replay import POLL, RECORDED_RETRY_AFTER, TERMINAL, start_fleet
from tests.fixtures import REAL, load_real, load_reference

SEQUENCES = sorted(p.name for p in (REAL / "replay").glob("*.json"))
# Values that differ by nature (made at each write, or by the identity service); their presence is still compared.
SEEDED_SUB = "33333333-3333-3333-3333-333333333333"
VOLATILE = ("etag", "eTag", "principalId", "tenantId", "ActivityId")


def differences(got, want, path=""):
    """Where the emulator's body ``got`` differs from the recorded ``want``."""
    out = []
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got)):
            where = "%s.%s" % (path, key) if path else key
            if key not in got:
                out.append("%s: absent, recorded %s" % (where, json.dumps(want[key])[:80]))
            elif key not in want:
                out.append("%s: %s, absent in the recording" % (where, json.dumps(got[key])[:80]))
            elif key not in VOLATILE:
                out.extend(differences(got[key], want[key], where))
    elif isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for index, (mine, theirs) in enumerate(zip(got, want)):
            out.extend(differences(mine, theirs, "%s[%d]" % (path, index)))
    elif got != want:
        out.append("%s: %s, recorded %s" % (path, json.dumps(got)[:80], json.dumps(want)[:80]))
    return out


def _play(emulator, sequence):
    """Each step's (step, status, body) as the emulator answers the recorded requests (replay.py's clock rules)."""
    emulator.load_fleet(start_fleet(sequence))
    emulator.settings(lro_retry_after=RECORDED_RETRY_AFTER)
    emulator.clock(freeze=True)
    last_async, retry_after, unpolled = None, 0.0, 0.0
    for step in sequence:
        if step["path"] != POLL and unpolled:
            emulator.clock(advance_s=unpolled)   # a write the client waited out with no poll recorded (replay.py)
        unpolled = 0.0
        if step["path"] == POLL:
            if str(step.get("resp_status") or "").lower() in TERMINAL and retry_after:
                emulator.clock(advance_s=retry_after)
            resp = emulator.arm_request("GET", last_async)
        else:
            resp = emulator.arm_request(step["method"], step["path"], step.get("api"), step.get("body"))
        last_async = resp.headers.get("Azure-AsyncOperation") or last_async
        retry_after = float(resp.headers.get("Retry-After") or retry_after)
        if step["path"] != POLL and resp.headers.get("Azure-AsyncOperation"):
            unpolled = retry_after
        yield step, resp.status_code, resp.json() if resp.content else None


@pytest.mark.parametrize("name", SEQUENCES)
def test_recorded_vault_and_policy_bodies_whole(emulator, name):
    problems = []
    for index, (step, _status, body) in enumerate(_play(emulator, load_real("replay/" + name)["sequence"])):
        # Operation polls were transcribed with their status only (the recordings' excerpts have id and name too).
        if step["path"] != POLL and isinstance(step.get("resp"), dict):
            problems.extend("step %d %s: %s" % (index, step["method"], d) for d in differences(body, step["resp"]))
    assert not problems, "\n".join(problems)


def _recorded_errors(excerpt):
    return [json.loads(i["response"]["body"]) for i in load_reference("recordings/" + excerpt)["interactions"]
            if i["response"]["status"]["code"] >= 400]


def test_error_bodies_are_the_recorded_ones(emulator):
    """The Backup service's 400s (azure-cli-extensions recording: additionalInfo, target and details null) and ARM's 404
    of a missing vault (azure-cli recording: code and message only)."""
    answered = [body for _step, status, body in _play(emulator, load_real("replay/A_dp_vault_update.json")["sequence"])
                if status >= 400]
    recorded = _recorded_errors("dataprotection_backup_vault_update_immutability.excerpt.json")
    assert len(answered) == len(recorded) == 3
    for mine, theirs in zip(answered, recorded):
        assert not differences(mine, theirs), differences(mine, theirs)
    (_step, status, body), = list(_play(emulator, load_real("replay/B_rs_softdelete_basic.json")["sequence"][:1]))
    (recorded,) = _recorded_errors("recoveryservices_vault_create_softdelete.excerpt.json")
    assert status == 404 and body == recorded


def _recorded_polls(excerpt):
    """(body, headers) of every recorded operation status answer of an excerpt, in order."""
    return [(json.loads(i["response"]["body"]), {k.lower() for k in i["response"].get("headers") or {}})
            for i in load_reference("recordings/" + excerpt)["interactions"]
            if i["request"]["method"] == "GET" and "/operationStatus/" in i["request"]["uri"]]


# The operation status answers, whole: replay.py compares only their status, and test_recorded_vault_and_policy_bodies_whole
# skips them (the replay sequences transcribed the status alone); the recordings' excerpts hold the whole bodies.
POLL_KEYS_VOLATILE = ("id", "name", "startTime", "endTime")


@pytest.mark.parametrize("name, excerpt", [
    ("B_rs_softdelete_basic.json", "recoveryservices_vault_create_softdelete.excerpt.json"),
    ("A_dp_vault_update.json", "dataprotection_backup_vault_update_immutability.excerpt.json"),
])
def test_operation_status_bodies_are_the_recorded_ones(emulator, name, excerpt):
    """Each poll the replay makes answers the recorded body's keys, no more (a Recovery Services status is id, name and
    status, running or ended; a Backup vault's ended one adds startTime and endTime), with the recorded status; an id
    under the vault's operationStatus path and the operation id as its name; the headers the recording kept."""
    sequence = load_real("replay/" + name)["sequence"]
    recorded = _recorded_polls(excerpt)
    answered = []
    emulator.load_fleet(start_fleet(sequence))
    emulator.settings(lro_retry_after=RECORDED_RETRY_AFTER)
    emulator.clock(freeze=True)
    last_async, retry_after = None, 0.0
    for step in sequence:
        if step["path"] == POLL:
            if str(step.get("resp_status") or "").lower() in TERMINAL:
                emulator.clock(advance_s=retry_after)
            resp = emulator.arm_request("GET", last_async)
            answered.append((resp.json(), {k.lower() for k in resp.headers}, last_async))
            continue
        resp = emulator.arm_request(step["method"], step["path"], step.get("api"), step.get("body"))
        last_async = resp.headers.get("Azure-AsyncOperation") or last_async
        retry_after = float(resp.headers.get("Retry-After") or retry_after)
    assert answered
    for (mine, headers, url), (theirs, their_headers) in zip(answered, recorded):
        assert sorted(mine) == sorted(theirs), (mine, theirs)
        assert mine["status"] == theirs["status"]
        assert not differences({k: v for k, v in mine.items() if k not in POLL_KEYS_VOLATILE},
                               {k: v for k, v in theirs.items() if k not in POLL_KEYS_VOLATILE})
        op_path = url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0]
        assert "/" + op_path == mine["id"] and mine["name"] == op_path.rsplit("/", 1)[-1]
        assert their_headers - {"content-length"} <= headers, (their_headers, headers)


def test_an_ended_recovery_services_delete_status_is_the_recorded_one(emulator):
    """The recording's last interaction: the vault delete's operation status, ended: id, name and status only (an ended
    PUT or PATCH also has startTime and endTime: spec example GetOperationStatus)."""
    sequence = load_real("replay/B_rs_softdelete_basic.json")["sequence"]
    (_running, _headers), (recorded, _kept) = _recorded_polls("recoveryservices_vault_create_softdelete.excerpt.json")
    emulator.load_fleet(start_fleet(sequence))
    path = next(step for step in sequence if step["method"] == "PUT")
    assert emulator.arm_request("PUT", path["path"], path["api"], path["body"]).status_code == 201
    gone = emulator.arm_request("DELETE", path["path"], path["api"])
    assert gone.status_code == 202
    mine = emulator.arm_request("GET", gone.headers["Azure-AsyncOperation"]).json()
    assert sorted(mine) == sorted(recorded) and mine["status"] == recorded["status"] == "Succeeded"


# Every recorded GET of a Recovery Services vault (ps-rs-immutability at 2024-02-01, a vault just created;
# ps-rs-enhancedpolicy at 2026-01-01, an old one) with the api-version it was read at.
RS_VAULT_GETS = (("ps-rs-immutability/get-unlocked.json", "2024-02-01"), ("ps-rs-enhancedpolicy/get-hiagaVault.json", "2026-01-01"))


def _recorded_everywhere():
    """The property paths (to depth 2) that every recorded Recovery Services vault GET has: what Azure always returns."""
    common = None
    for name, _api in RS_VAULT_GETS:
        props = load_real(name)["properties"]
        paths = {(key,) for key in props} | {(key, sub) for key, value in props.items() if isinstance(value, dict) for sub in value}
        common = paths if common is None else common & paths
    return sorted(common)


@pytest.mark.parametrize("name,api", RS_VAULT_GETS)
def test_a_seeded_recovery_services_vault_has_what_every_recorded_vault_has(emulator, name, api):
    """A vault seeded from a fleet without security keys carries the properties every recorded vault shows (restoreSettings,
    backupStorageVersion, ...), in ARM and in its Resource Graph row, not only after a write; fleet keys still override.
    Both recorded vaults have immutabilitySettings (a state someone set, not a default): the seeded one is set Disabled."""
    emulator.load_fleet({"subscriptions": [{"id": SEEDED_SUB, "resource_groups": [{"name": "rg-seed", "location": "westeurope", "vaults": [
        {"name": "rsv-plain", "immutability": "disabled"}, {"name": "rsv-csr-off", "cross_subscription_restore": "disabled"}]}]}]})
    path = "/subscriptions/%s/resourceGroups/rg-seed/providers/Microsoft.RecoveryServices/vaults/rsv-plain" % SEEDED_SUB
    got = emulator.arm_request("GET", path, api).json()["properties"]
    row, = emulator.graph_query("resources | where name == 'rsv-plain'", [SEEDED_SUB]).json()["data"]
    recorded = load_real(name)["properties"]
    for where in _recorded_everywhere():
        for props in (got, row["properties"]):
            value = props
            for key in where:
                assert isinstance(value, dict) and key in value, "%s absent, recorded in %s" % (".".join(where), name)
                value = value[key]
    assert got["restoreSettings"] == recorded["restoreSettings"]
    assert row["properties"]["restoreSettings"] == recorded["restoreSettings"]
    assert got["backupStorageVersion"] == "Unassigned"   # a vault Azure just made (ps-rs-immutability GET after create)
    off = emulator.arm_request("GET", path.replace("rsv-plain", "rsv-csr-off"), api).json()["properties"]
    assert off["restoreSettings"]["crossSubscriptionRestoreSettings"]["crossSubscriptionRestoreState"] == "Disabled"


# The recorded GET of a Backup vault at 2023-05-01 (ps-dp-getvault): a vault that never set cross subscription restore
# answers featureSettings.crossSubscriptionRestoreSettings.state Enabled and a secureScore. Learn
# (create-manage-backup-vault, "Cross Subscription Restore using Azure portal"): CSR "is enabled for existing vaults by default".
DP_VAULT_GET = ("ps-dp-getvault/get-sarath-vault.json", "2023-05-01")
# SecureScoreLevel of the DataProtection spec (stable/2023-05-01/dataprotection.json, BackupVault.secureScore).
SECURE_SCORE_LEVELS = ("None", "Minimum", "Adequate", "Maximum", "NotSupported")


def _paths(props):
    """The property paths of a vault body's ``properties`` to depth 2."""
    return sorted({(key,) for key in props} | {(key, sub) for key, value in props.items() if isinstance(value, dict) for sub in value})


def _has(props, where):
    value = props
    for key in where:
        if not (isinstance(value, dict) and key in value):
            return False
        value = value[key]
    return True


def test_a_seeded_backup_vault_has_what_the_recorded_vault_has(emulator):
    """A Backup vault seeded without security keys carries every property path the recorded GET at 2023-05-01 has, with
    cross subscription restore Enabled, in ARM at that api-version and in its Resource Graph row; an explicit fleet key
    still overrides. A vault created through the API without it carries the recorded paths but that one (next test)."""
    name, api = DP_VAULT_GET
    recorded = load_real(name)["properties"]
    emulator.load_fleet({"subscriptions": [{"id": SEEDED_SUB, "resource_groups": [{"name": "rg-seed", "location": "westeurope", "vaults": [
        {"name": "bv-plain", "type": "backup"}, {"name": "bv-csr-off", "type": "backup", "cross_subscription_restore": "disabled"}]}]}]})
    path = "/subscriptions/%s/resourceGroups/rg-seed/providers/Microsoft.DataProtection/backupVaults/bv-plain" % SEEDED_SUB
    got = emulator.arm_request("GET", path, api).json()["properties"]
    row, = emulator.graph_query("resources | where name == 'bv-plain'", [SEEDED_SUB]).json()["data"]
    emulator.arm_request("PUT", path.replace("bv-plain", "bv-new"), api, {
        "location": "westeurope", "properties": {"storageSettings": [{"datastoreType": "VaultStore", "type": "LocallyRedundant"}]}})
    written = emulator.arm_request("GET", path.replace("bv-plain", "bv-new"), api).json()["properties"]
    for where in _paths(recorded):
        for what, props in (("ARM", got), ("Resource Graph", row["properties"]), ("ARM after a PUT", written)):
            if what == "ARM after a PUT" and where[0] == "featureSettings":
                continue
            assert _has(props, where), "%s: %s absent, recorded in %s" % (what, ".".join(where), name)
    for props in (got, row["properties"]):
        assert props["featureSettings"]["crossSubscriptionRestoreSettings"] == recorded["featureSettings"]["crossSubscriptionRestoreSettings"]
    for props in (got, row["properties"], written):
        assert props["secureScore"] in SECURE_SCORE_LEVELS
    off = emulator.arm_request("GET", path.replace("bv-plain", "bv-csr-off"), api).json()["properties"]
    assert off["featureSettings"]["crossSubscriptionRestoreSettings"]["state"] == "Disabled"


# Backup vaults created by the az CLI dataprotection extension's tests without cross subscription restore: none of their
# recorded answers carries featureSettings.crossSubscriptionRestoreSettings (a create answer, and GETs after creates).
DP_CREATED_WITHOUT_CSR = (("cliext-dp-mua-vault/get-softdelete-off.json", "2023-05-01"),
                          ("cliext-dp-cmk/get-cmk-key1.json", "2024-04-01"))


def test_a_backup_vault_created_without_cross_subscription_restore_reports_none_as_recorded(emulator):
    """The recorded create answer at 2025-07-01 (cliext-dp-vault-refusals create_locked) and the recorded GETs at
    2023-05-01 and 2024-04-01 of vaults created without the setting carry no crossSubscriptionRestoreSettings; the
    emulator added Enabled to every one. Created here through the SDK and at each recorded api-version: the answer, a
    GET through the SDK, the raw GET and the Resource Graph row carry none, and a PUT that leaves it out adds none."""
    created = json.loads((REAL / "cliext-dp-vault-refusals" / "answers.json").read_text())["create_locked"]
    assert "crossSubscriptionRestoreSettings" not in created["resp"]["properties"]["featureSettings"]
    for name, api in DP_CREATED_WITHOUT_CSR:
        assert "featureSettings" not in load_real(name)["properties"], name
    emulator.load_fleet({"subscriptions": [{"id": SEEDED_SUB, "resource_groups": [{"name": "rg-new", "location": "westeurope", "vaults": []}]}]})
    emulator.settings(lro_retry_after=0, graph_lag_s=0)
    base = "/subscriptions/%s/resourceGroups/rg-new/providers/Microsoft.DataProtection/backupVaults/" % SEEDED_SUB
    answer = emulator.arm_request("PUT", base + "bv-locked", created["api"], created["body"]).json()["properties"]
    assert answer["featureSettings"] == created["resp"]["properties"]["featureSettings"]
    for index, (name, api) in enumerate(DP_CREATED_WITHOUT_CSR):
        emulator.arm_request("PUT", base + "bv-%d" % index, api, {"location": "westeurope", "properties": {
            "storageSettings": [{"datastoreType": "VaultStore", "type": "LocallyRedundant"}]}})
        got = emulator.arm_request("GET", base + "bv-%d" % index, api).json()["properties"]
        assert "featureSettings" not in got, name
    client = emulator.dp_client(SEEDED_SUB)
    sdk = client.backup_vaults.begin_create_or_update("rg-new", "bv-sdk", {"location": "westeurope", "properties": {
        "storageSettings": [{"datastoreType": "VaultStore", "type": "LocallyRedundant"}]}}).result()
    assert sdk.properties.feature_settings is None
    assert client.backup_vaults.get("rg-new", "bv-sdk").properties.feature_settings is None
    client.backup_vaults.begin_update("rg-new", "bv-sdk", {"properties": {
        "monitoringSettings": {"azureMonitorAlertSettings": {"alertsForAllJobFailures": "Enabled"}}}}).result()
    assert client.backup_vaults.get("rg-new", "bv-sdk").properties.feature_settings is None
    row, = emulator.graph_query("resources | where name == 'bv-sdk'", [SEEDED_SUB]).json()["data"]
    assert "featureSettings" not in row["properties"]
    client.backup_vaults.begin_update("rg-new", "bv-sdk", {"properties": {
        "featureSettings": {"crossSubscriptionRestoreSettings": {"state": "Disabled"}}}}).result()
    assert client.backup_vaults.get("rg-new", "bv-sdk").properties.feature_settings.cross_subscription_restore_settings.state == "Disabled"


@pytest.mark.parametrize("api,feature_settings,secure_score", [
    ("2022-12-01", False, False),   # recorded (cliext-dp-vault-update): no featureSettings, no secureScore in any answer
    ("2023-01-01", True, False),    # spec stable/2023-01-01: featureSettings, no secureScore
    ("2023-05-01", True, True),     # recorded (ps-dp-getvault) and spec stable/2023-05-01: both
])
def test_a_backup_vault_answers_what_its_api_version_has(emulator, api, feature_settings, secure_score):
    """The stored defaults are answered only at the api-versions whose contract (recording, then spec) carries them; a
    stored crossRegionRestoreSettings only from 2023-05-01 (CrossRegionRestoreSettings first in stable/2023-05-01)."""
    emulator.load_fleet({"subscriptions": [{"id": SEEDED_SUB, "resource_groups": [{"name": "rg-seed", "location": "westeurope", "vaults": [
        {"name": "bv-crr", "type": "backup", "cross_region_restore": "enabled"}]}]}]})
    path = "/subscriptions/%s/resourceGroups/rg-seed/providers/Microsoft.DataProtection/backupVaults/bv-crr" % SEEDED_SUB
    for props in (emulator.arm_request("GET", path, api).json()["properties"],
                  emulator.arm_request("GET", path.rsplit("/", 1)[0], api).json()["value"][0]["properties"]):
        assert ("featureSettings" in props) is feature_settings
        assert ("secureScore" in props) is secure_score
        if feature_settings:
            assert props["featureSettings"]["crossSubscriptionRestoreSettings"] == {"state": "Enabled"}
            assert ("crossRegionRestoreSettings" in props["featureSettings"]) is secure_score


# A running Backup vault operation, as the dataprotection extension recorded it twice (tests/fixtures/azure-real:
# cliext-dp-mua-vault, a create at api-version 2023-05-01; cliext-dp-cmk, a delete at 2024-04-01): status "Inprogress"
# (that spelling), startTime, and endTime 0001-01-01T00:00:00Z (.NET's empty date) until it ends.
DP_RUNNING = ("cliext-dp-mua-vault/operation-status-inprogress.json", "cliext-dp-cmk/operation-status-delete-inprogress.json")


@pytest.mark.parametrize("recorded", DP_RUNNING)
def test_a_running_backup_vault_operation_status_is_the_recorded_one(emulator, recorded):
    want = load_real(recorded)
    emulator.load_fleet({"subscriptions": [{"id": SEEDED_SUB, "resource_groups": [{"name": "rg-t", "location": "westeurope", "vaults": [
        {"name": "bv-a", "type": "backup", "immutability": "disabled"}]}]}]})
    emulator.settings(lro_retry_after=30)
    emulator.clock(freeze=True)
    path = "/subscriptions/%s/resourceGroups/rg-t/providers/Microsoft.DataProtection/backupVaults/bv-a" % SEEDED_SUB
    resp = emulator.arm_request("PATCH", path, "2023-05-01", {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Unlocked"}}}})
    assert resp.status_code in (200, 202) and resp.headers.get("Azure-AsyncOperation")
    mine = emulator.arm_request("GET", resp.headers["Azure-AsyncOperation"]).json()
    assert sorted(mine) == sorted(want), (mine, want)
    assert (mine["status"], mine["endTime"]) == (want["status"], want["endTime"]) == ("Inprogress", "0001-01-01T00:00:00Z")
    emulator.clock(advance_s=30)
    ended = emulator.arm_request("GET", resp.headers["Azure-AsyncOperation"]).json()
    assert ended["status"] == "Succeeded" and ended["endTime"] != "0001-01-01T00:00:00Z"
