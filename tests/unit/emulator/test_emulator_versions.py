# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: every api-version real clients send is accepted; unknown versions and types get ARM's answers."""
from __future__ import annotations

import pytest

from tests.emulator import versions

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-vaultlock"
RS = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults" % (SUB, RG)
DP = "subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults" % (SUB, RG)

# Versions real clients were recorded sending (tests/fixtures/azure-real/README.md) and azure.azcollection's.
RS_VAULT_SEEN = ["2021-03-01", "2024-02-01", "2026-01-01", "2026-05-01", "2026-07-01", "2020-02-02", "2026-11-01"]
RS_POLICY_SEEN = ["2019-06-15", "2024-04-01", "2024-10-01", "2025-02-01", "2026-08-01", "2026-10-01"]
DP_SEEN = ["2022-12-01", "2023-05-01", "2026-06-01"]


def fleet():
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv", "type": "recovery_services", "immutability": "enabled",
         "policies": [{"name": "p1", "properties": {"backupManagementType": "AzureIaasVM", "retentionPolicy": {
             "retentionPolicyType": "SimpleRetentionPolicy", "retentionDuration": {"count": 7, "durationType": "Days"}}}}]},
        {"name": "bv", "type": "backup", "immutability": "disabled"}]}]}]}


@pytest.mark.parametrize("ver", RS_VAULT_SEEN)
def test_recovery_services_vault_versions(emulator, ver):
    emulator.load_fleet(fleet())
    resp = emulator.arm_request("GET", RS + "/rsv", ver)
    assert resp.status_code == 200, resp.text
    if ver <= "2021-03-01":  # the spec of these versions has no securitySettings (test_old_versions_answer_old_shapes)
        assert "securitySettings" not in resp.json()["properties"]
    else:
        assert resp.json()["properties"]["securitySettings"]["immutabilitySettings"]["state"] == "Unlocked"
    assert emulator.arm_request("GET", RS, ver).status_code == 200
    assert emulator.arm_request("GET", "subscriptions/%s/providers/Microsoft.RecoveryServices/vaults" % SUB, ver).status_code == 200


@pytest.mark.parametrize("ver", RS_POLICY_SEEN)
def test_backup_policy_versions(emulator, ver):
    emulator.load_fleet(fleet())
    resp = emulator.arm_request("GET", RS + "/rsv/backupPolicies/p1", ver)
    assert resp.status_code == 200, resp.text
    assert emulator.arm_request("GET", RS + "/rsv/backupPolicies", ver).json()["value"][0]["name"] == "p1"
    assert emulator.arm_request("GET", RS + "/rsv/backupconfig/vaultconfig", ver).status_code == 200


@pytest.mark.parametrize("ver", DP_SEEN)
def test_backup_vault_versions(emulator, ver):
    emulator.load_fleet(fleet())
    resp = emulator.arm_request("GET", DP + "/bv", ver)
    assert resp.status_code == 200, resp.text
    assert emulator.arm_request("GET", DP + "/bv/backupPolicies", ver).status_code == 200


def test_lists_come_from_the_specs():
    # Spot checks against the readme tags named in versions.py: stable and preview versions of each family.
    assert {"2016-06-01", "2021-03-01", "2024-09-30-preview", "2026-05-31-preview", "2026-11-01"} <= set(versions.RS_VAULT_VERSIONS)
    assert {"2016-12-01", "2019-06-15", "2022-09-01-preview", "2026-03-31-preview", "2026-10-01"} <= set(versions.RS_BACKUP_VERSIONS)
    assert {"2021-01-01", "2022-10-01-preview", "2026-08-31-preview", "2026-06-01"} <= set(versions.DP_VERSIONS)
    # passive-stamp (cross-region restore) versions do not serve backup policies
    assert not {"2018-12-20", "2021-11-15", "2023-01-15"} & set(versions.RS_BACKUP_VERSIONS)
    for family in (versions.RS_VAULT_VERSIONS, versions.RS_BACKUP_VERSIONS, versions.DP_VERSIONS):
        assert len(family) == len(set(family))


def test_unknown_version_is_no_registered_provider(emulator):
    emulator.load_fleet(fleet())
    resp = emulator.arm_request("GET", RS + "/rsv", "2019-05-13")
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == "NoRegisteredProviderFound"
    assert err["message"].startswith("No registered resource provider found for location 'westeurope' and API version "
                                     "'2019-05-13' for type 'vaults'. The supported api-versions are '")
    assert "2021-03-01" in err["message"] and "The supported locations are '" in err["message"]
    resp = emulator.arm_request("GET", RS + "/rsv/backupPolicies/p1", "2021-02-10-preview")
    assert resp.json()["error"]["code"] == "NoRegisteredProviderFound"
    assert "for type 'vaults/backupPolicies'" in resp.json()["error"]["message"]
    resp = emulator.arm_request("GET", DP + "/bv", "2020-01-01")
    assert resp.json()["error"]["code"] == "NoRegisteredProviderFound"
    assert "for type 'backupVaults'" in resp.json()["error"]["message"]


def test_missing_version(emulator):
    resp = emulator.arm_request("GET", RS + "/rsv")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "MissingApiVersionParameter"


@pytest.mark.parametrize("path,namespace,rtype", [
    (RS + "/rsv/backupFabrics/Azure/protectionContainers", "Microsoft.RecoveryServices", "vaults/backupFabrics/protectionContainers"),
    (RS + "/rsv/replicationFabrics", "Microsoft.RecoveryServices", "vaults/replicationFabrics"),
    (DP + "/bv/backupJobs", "Microsoft.DataProtection", "backupVaults/backupJobs"),
    ("subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/vm1" % (SUB, RG), "Microsoft.Compute", "virtualMachines"),
    ("subscriptions/%s/providers/Microsoft.Storage/storageAccounts" % SUB, "Microsoft.Storage", "storageAccounts"),
])
def test_unmodelled_routes_are_unknown_types(emulator, path, namespace, rtype):
    # Whatever the api-version (a client's own or one the emulator does not know), an unmodelled route is an
    # unknown resource type, never an api-version error.
    for ver in ("2026-11-01", "2099-01-01"):
        resp = emulator.arm_request("GET", path, ver)
        assert resp.status_code == 404, resp.text
        err = resp.json()["error"]
        assert err["code"] == "InvalidResourceType"
        assert err["message"] == ("The resource type '%s' could not be found in the namespace '%s' for api version '%s'."
                                  % (rtype, namespace, ver))


def test_resource_groups_keep_microsoft_resources_answers(emulator):
    resp = emulator.arm_request("GET", "subscriptions/%s/resourcegroups/%s" % (SUB, RG), "not-a-version")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidApiVersionParameter"
    assert emulator.arm_request("GET", "subscriptions/%s/resourcegroups/%s" % (SUB, RG), "2021-04-01").status_code == 200


# VaultProperties of stable/2021-03-01/vaults.json (tests/emulator/bodies.py OLD_SHAPE_PROPERTIES gives the commit).
SPEC_2021_03_01 = {"provisioningState", "upgradeDetails", "privateEndpointConnections", "privateEndpointStateForBackup",
                   "privateEndpointStateForSiteRecovery", "encryption"}
NEWER = ("securitySettings", "redundancySettings", "publicNetworkAccess")


@pytest.mark.parametrize("ver", ["2021-03-01", "2020-02-02", "2016-06-01"])
def test_old_versions_answer_old_shapes(emulator, ver):
    """A vault read at an api-version older than a property's introduction does not carry it (spec version folders)."""
    emulator.load_fleet(fleet())
    bodies = [emulator.arm_request("GET", RS + "/rsv", ver).json(),
              emulator.arm_request("GET", RS, ver).json()["value"][0],
              emulator.arm_request("GET", "subscriptions/%s/providers/Microsoft.RecoveryServices/vaults" % SUB, ver).json()["value"][0]]
    for body in bodies:
        assert set(body["properties"]) <= SPEC_2021_03_01, sorted(body["properties"])
        assert body["properties"]["provisioningState"] == "Succeeded"
    # The vault is unchanged: a current api-version still shows everything.
    props = emulator.arm_request("GET", RS + "/rsv", "2022-10-01").json()["properties"]
    assert all(key in props for key in NEWER)
    assert props["securitySettings"]["immutabilitySettings"]["state"] == "Unlocked"
