# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: Resource Graph is eventually consistent (setting graph_lag_s, tests/emulator/graph.py DEFAULT_LAG_S).
Learn ("What is Azure Resource Graph?"): ARM notifies Resource Graph of a change, which then updates its index; the
live service's guarantee (Azure/azure-dev#540) is 95 % of changes within 30 s. A row shows the vault as ARM had it
graph_lag_s earlier: its settings, its policies and the provisioningState of a write running then."""
from __future__ import annotations

SUB = "44444444-aaaa-4000-8000-000000000004"
RS_API = "2026-11-01"
DP_API = "2026-06-01"
RSV = "/subscriptions/%s/resourceGroups/rg-lag/providers/Microsoft.RecoveryServices/vaults/rsv-lag" % SUB
BV = "/subscriptions/%s/resourceGroups/rg-lag/providers/Microsoft.DataProtection/backupVaults/bv-lag" % SUB


def _fleet(rsv="enabled", bv="enabled", extra=()):
    vaults = [{"name": "rsv-lag", "immutability": rsv}, {"name": "bv-lag", "type": "backup", "immutability": bv}] + list(extra)
    return {"subscriptions": [{"id": SUB, "resource_groups": [{"name": "rg-lag", "location": "westeurope", "vaults": vaults}]}]}


def _rows(emulator):
    answer = emulator.graph_query("resources | project id, name, properties | order by id asc", [SUB])
    assert answer.status_code == 200, answer.text
    return {row["name"]: row["properties"] for row in answer.json()["data"]}


def _state(props):
    return (props["securitySettings"].get("immutabilitySettings") or {}).get("state")


def _lock(emulator, path, api):
    resp = emulator.arm_request("PATCH", path, api, {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Locked"}}}})
    assert resp.status_code in (200, 202), resp.text


def test_a_write_reaches_resource_graph_after_the_lag_and_arm_at_once(emulator):
    emulator.load_fleet(_fleet())
    emulator.settings(graph_lag_s=30)
    emulator.clock(freeze=True)
    _lock(emulator, RSV, RS_API)
    _lock(emulator, BV, DP_API)
    assert _state(emulator.arm_request("GET", RSV, RS_API).json()["properties"]) == "Locked"
    rows = _rows(emulator)
    assert (_state(rows["rsv-lag"]), _state(rows["bv-lag"])) == ("Unlocked", "Unlocked")   # the index still has the old vaults
    emulator.clock(advance_s=29)
    assert _state(_rows(emulator)["rsv-lag"]) == "Unlocked"
    emulator.clock(advance_s=1)
    rows = _rows(emulator)
    assert (_state(rows["rsv-lag"]), _state(rows["bv-lag"])) == ("Locked", "Locked")


def test_rows_show_a_running_write_as_arm_showed_it_lag_seconds_earlier(emulator):
    """While a write runs (lro_retry_after 10), ARM reads Updating; a row reads Updating once the lag has passed, and
    Succeeded again only a lag after the operation ended: never Succeeded with the new settings during the operation."""
    emulator.load_fleet(_fleet())
    emulator.settings(graph_lag_s=2, lro_retry_after=10)
    emulator.clock(freeze=True)
    _lock(emulator, BV, DP_API)
    assert emulator.arm_request("GET", BV, DP_API).json()["properties"]["provisioningState"] == "Updating"
    seen = []
    for step in (0, 1, 1, 5, 3, 1, 1):   # t = 0, 1, 2, 7, 10, 11, 12
        emulator.clock(advance_s=step)
        props = _rows(emulator)["bv-lag"]
        seen.append((props["provisioningState"], _state(props)))
    assert seen == [("Succeeded", "Unlocked"), ("Succeeded", "Unlocked"), ("Updating", "Locked"), ("Updating", "Locked"),
                    ("Updating", "Locked"), ("Updating", "Locked"), ("Succeeded", "Locked")]


def test_without_lag_a_row_still_reads_the_running_write(emulator):
    emulator.load_fleet(_fleet())
    emulator.settings(graph_lag_s=0, lro_retry_after=10)
    emulator.clock(freeze=True)
    _lock(emulator, RSV, RS_API)
    assert _rows(emulator)["rsv-lag"]["provisioningState"] == "Updating"
    emulator.clock(advance_s=10)
    assert _rows(emulator)["rsv-lag"]["provisioningState"] == "Succeeded"


def test_a_created_vault_appears_after_the_lag_and_a_refused_write_changes_nothing(emulator):
    emulator.load_fleet(_fleet(rsv="locked"))
    emulator.settings(graph_lag_s=5)
    emulator.clock(freeze=True)
    created = RSV.replace("rsv-lag", "rsv-new")
    assert emulator.arm_request("PUT", created, RS_API, {"location": "westeurope", "sku": {"name": "Standard"},
                                                         "properties": {}}).status_code in (200, 201)
    refused = emulator.arm_request("PATCH", RSV, RS_API, {"properties": {"securitySettings": {"immutabilitySettings": {"state": "Disabled"}}}})
    assert refused.status_code == 400
    assert sorted(_rows(emulator)) == ["bv-lag", "rsv-lag"] and _state(_rows(emulator)["rsv-lag"]) == "Locked"
    emulator.clock(advance_s=5)
    assert sorted(_rows(emulator)) == ["bv-lag", "rsv-lag", "rsv-new"]


def test_a_lagged_fleet_load_keeps_the_old_rows_for_the_lag(emulator):
    """POST fleet?lagged=1 (client load_fleet(lagged=True)): changes made out of band just now, as through ARM."""
    emulator.load_fleet(_fleet(rsv="locked", bv="disabled"))
    emulator.settings(graph_lag_s=60)
    emulator.load_fleet(_fleet(rsv="enabled", bv="locked"), lagged=True)
    emulator.clock(freeze=True)
    rows = _rows(emulator)
    assert (_state(rows["rsv-lag"]), _state(rows["bv-lag"])) == ("Locked", "Disabled")
    assert _state(emulator.arm_request("GET", RSV, RS_API).json()["properties"]) == "Unlocked"
    emulator.clock(advance_s=60)
    rows = _rows(emulator)
    assert (_state(rows["rsv-lag"]), _state(rows["bv-lag"])) == ("Unlocked", "Locked")


def test_the_default_lag_is_small_and_a_reset_catches_the_index_up(emulator):
    emulator.load_fleet(_fleet())
    assert 0 < emulator.settings()["graph_lag_s"] <= 1
    emulator.clock(freeze=True)
    _lock(emulator, RSV, RS_API)
    assert _state(_rows(emulator)["rsv-lag"]) == "Unlocked"
    emulator.load_fleet(_fleet(rsv="locked"))
    assert _state(_rows(emulator)["rsv-lag"]) == "Locked"
