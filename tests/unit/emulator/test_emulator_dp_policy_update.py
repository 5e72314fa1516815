# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure updates no Backup vault policy: a PUT naming one that exists is refused with the answer a user recorded
(tests/fixtures/azure_errors/SOURCE.txt: MicrosoftDocs/azure-docs#78532), whatever the body, an identical one included
(the identical body: users' reports only, so assumed); a new policy name is created. Recovery Services policies are
updated as before. Through the real azure-mgmt-dataprotection and azure-mgmt-recoveryservicesbackup SDKs."""
from __future__ import annotations

import copy
import json
import pathlib

import pytest

from tests.emulator.client import is_write

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-dp-update"
ERRORS = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "azure_errors"
RECORDED = json.loads((ERRORS / "dp_policy_update_not_supported.json").read_text(encoding="utf-8"))
BLOBS = "Microsoft.Storage/storageAccounts/blobServices"


def _blob_policy(duration):
    return {"objectType": "BackupPolicy", "datasourceTypes": [BLOBS], "policyRules": [
        {"name": "Default", "objectType": "AzureRetentionRule", "isDefault": True, "lifecycles": [
            {"deleteAfter": {"objectType": "AbsoluteDeleteOption", "duration": duration},
             "sourceDataStore": {"dataStoreType": "OperationalStore", "objectType": "DataStoreInfoBase"}}]}]}


RS_POLICY = {"backupManagementType": "AzureIaasVM", "schedulePolicy": {
    "schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily", "scheduleRunTimes": ["2026-01-01T02:00:00Z"]},
    "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": {
        "retentionTimes": ["2026-01-01T02:00:00Z"], "retentionDuration": {"count": 7, "durationType": "Days"}}}}


def fleet():
    vaults = []
    for state in ("disabled", "enabled", "locked"):
        vaults.append({"name": "bv-%s" % state, "type": "backup", "immutability": state,
                       "policies": [{"name": "BlobWeak", "properties": _blob_policy("P7D")}]})
        vaults.append({"name": "rsv-%s" % state, "type": "recovery_services", "immutability": state,
                       "policies": [{"name": "DailyWeak", "properties": copy.deepcopy(RS_POLICY)}]})
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": vaults}]}]}


def _shape(body):
    """The error body with its per-request activity id left out: what the recording fixes."""
    body = copy.deepcopy(body)
    for entry in body["error"].get("additionalInfo") or []:
        entry["info"]["properties"].pop("ActivityId", None)
    return body


def _stored(emulator, vault, name):
    return emulator.resource("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/%s/backupPolicies/%s"
                             % (SUB, RG, vault, name))


def _bodies(client, vault):
    """(case, body) of PUTs to the existing policy: a raise, a cut, the identical body read back, the recorded body."""
    current = client.backup_policies.get(RG, vault, "BlobWeak").as_dict()
    return [("raise", {"properties": _blob_policy("P30D")}),
            ("shorter", {"properties": _blob_policy("P1D")}),
            ("identical", {"properties": current["properties"]}),
            ("identical-whole", current)]


@pytest.mark.parametrize("vault", ["bv-disabled", "bv-enabled", "bv-locked"])
def test_a_backup_vault_policy_that_exists_is_never_updated_whatever_the_body(emulator, vault):
    from azure.core.exceptions import HttpResponseError
    emulator.load_fleet(fleet())
    client = emulator.dp_client(SUB)
    before = _stored(emulator, vault, "BlobWeak")
    for case, body in _bodies(client, vault):
        emulator.clear_journal()
        with pytest.raises(HttpResponseError) as err:
            client.backup_policies.create_or_update(RG, vault, "BlobWeak", body)
        answer = err.value.response.json()
        assert err.value.status_code == 400, case
        assert err.value.error.code == "UserErrorBMSUpdatePolicyNotSupported", case
        assert _shape(answer) == _shape(RECORDED), (case, answer)
        assert answer["error"]["additionalInfo"][0]["info"]["properties"]["ActivityId"], case
        # Sent once (a 400 is not retried) and nothing stored.
        assert len([e for e in emulator.journal() if is_write(e)]) == 1, case
        assert _stored(emulator, vault, "BlobWeak") == before, case
    # A policy name is matched as ARM matches names: without regard to case.
    with pytest.raises(HttpResponseError) as err:
        client.backup_policies.create_or_update(RG, vault, "blobweak", {"properties": _blob_policy("P30D")})
    assert err.value.error.code == "UserErrorBMSUpdatePolicyNotSupported"


@pytest.mark.parametrize("vault", ["bv-disabled", "bv-locked"])
def test_a_new_backup_vault_policy_name_is_created_and_then_cannot_be_updated(emulator, vault):
    from azure.core.exceptions import HttpResponseError
    emulator.load_fleet(fleet())
    client = emulator.dp_client(SUB)
    created = client.backup_policies.create_or_update(RG, vault, "BlobLong", {"properties": _blob_policy("P30D")})
    assert created.name == "BlobLong"
    stored = client.backup_policies.get(RG, vault, "BlobLong").as_dict()
    assert stored["properties"]["policyRules"][0]["lifecycles"][0]["deleteAfter"]["duration"] == "P30D"
    with pytest.raises(HttpResponseError) as err:
        client.backup_policies.create_or_update(RG, vault, "BlobLong", {"properties": _blob_policy("P60D")})
    assert err.value.status_code == 400 and err.value.error.code == "UserErrorBMSUpdatePolicyNotSupported"
    # Deleted, the name can be created again (DELETE then PUT is a create).
    client.backup_policies.delete(RG, vault, "BlobLong")
    again = client.backup_policies.create_or_update(RG, vault, "BlobLong", {"properties": _blob_policy("P60D")})
    assert again.name == "BlobLong"


@pytest.mark.parametrize("vault", ["rsv-disabled", "rsv-enabled", "rsv-locked"])
def test_a_recovery_services_policy_is_still_updated(emulator, vault):
    """Recovery Services vault policies can be updated (raises allowed on immutable and locked vaults): unchanged."""
    emulator.load_fleet(fleet())
    client = emulator.backup_client(SUB)
    body = copy.deepcopy(RS_POLICY)
    body["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 30
    client.protection_policies.create_or_update(vault, RG, "DailyWeak", {"properties": body})
    stored = emulator.resource("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/backupPolicies/DailyWeak"
                               % (SUB, RG, vault))
    assert stored["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] == 30
