# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read access taken away from the identities (setting ``revoked``, tests/emulator/access.py), through the real SDKs."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

SUB = "11111111-1111-1111-1111-111111111111"
SUB2 = "22222222-2222-2222-2222-222222222222"
RG = "rg-a"
RG2 = "rg-b"


def _fleet():
    def group(name, vault):
        return {"name": name, "location": "westeurope", "vaults": [{"name": vault, "type": "recovery_services"}]}
    return {"subscriptions": [{"id": SUB, "resource_groups": [group(RG, "rsv-a"), group(RG2, "rsv-b")]},
                              {"id": SUB2, "resource_groups": [group(RG, "rsv-c")]}]}


def _vault_id(sub, rg, name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (sub, rg, name)


def _graph_ids(emulator):
    answer = emulator.graph_query("resources | where type =~ 'microsoft.recoveryservices/vaults' | project id")
    assert answer.status_code == 200, answer.text
    return sorted(row["id"] for row in answer.json()["data"])


def test_a_revoked_subscription_answers_403_authorization_failed_and_leaves_the_listings(emulator):
    emulator.load_fleet(_fleet())
    client = emulator.rs_client(SUB2)
    assert client.vaults.get(RG, "rsv-c").name == "rsv-c"
    emulator.settings(revoked=["/subscriptions/%s" % SUB2.upper()])
    with pytest.raises(HttpResponseError) as err:
        client.vaults.get(RG, "rsv-c")
    assert err.value.status_code == 403 and err.value.error.code == "AuthorizationFailed"
    assert ("does not have authorization to perform action 'Microsoft.RecoveryServices/vaults/read' over scope '%s' or the "
            "scope is invalid" % _vault_id(SUB2, RG, "rsv-c")) in err.value.error.message
    # A vault that does not exist there is no different to a caller who cannot read the scope.
    with pytest.raises(HttpResponseError) as err:
        client.vaults.get(RG, "rsv-none")
    assert err.value.status_code == 403
    with pytest.raises(HttpResponseError) as err:
        list(client.vaults.list_by_subscription_id())
    assert err.value.status_code == 403
    listed = emulator.arm_request("GET", "/subscriptions", api_version="2022-12-01").json()["value"]
    assert [sub["subscriptionId"] for sub in listed] == [SUB]
    assert _graph_ids(emulator) == sorted([_vault_id(SUB, RG, "rsv-a"), _vault_id(SUB, RG2, "rsv-b")])
    # The other subscription reads as before, and the reads are journaled as refused.
    assert emulator.rs_client(SUB).vaults.get(RG, "rsv-a").name == "rsv-a"
    assert [entry["status"] for entry in emulator.journal() if SUB2 in entry["path"]] == [200, 403, 403, 403]


def test_a_revoked_resource_group_answers_403_and_its_vaults_leave_the_subscription_listings(emulator):
    emulator.load_fleet(_fleet())
    emulator.settings(revoked=["/subscriptions/%s/resourceGroups/%s" % (SUB, RG2.upper())])
    client = emulator.rs_client(SUB)
    with pytest.raises(HttpResponseError) as err:
        client.vaults.get(RG2, "rsv-b")
    assert err.value.status_code == 403 and err.value.error.code == "AuthorizationFailed"
    assert client.vaults.get(RG, "rsv-a").name == "rsv-a"
    assert [vault.name for vault in client.vaults.list_by_subscription_id()] == ["rsv-a"]
    assert _graph_ids(emulator) == sorted([_vault_id(SUB, RG, "rsv-a"), _vault_id(SUB2, RG, "rsv-c")])
    listed = emulator.arm_request("GET", "/subscriptions", api_version="2022-12-01").json()["value"]
    assert sorted(sub["subscriptionId"] for sub in listed) == [SUB, SUB2]


def test_a_reset_gives_the_access_back(emulator):
    emulator.load_fleet(_fleet())
    emulator.settings(revoked=["/subscriptions/%s" % SUB2])
    emulator.reset()
    emulator.load_fleet(_fleet())
    assert emulator.rs_client(SUB2).vaults.get(RG, "rsv-c").name == "rsv-c"
