# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: a live Resource Graph index (settings ``graph_page_size``, ``graph_live``): a vault added, removed or
reordered while a query is paged moves rows between its pages."""
from __future__ import annotations

import pytest

SUB = "44444444-aaaa-4000-8000-000000000004"
RG = "rg-live"
VAULTS = ("resources | where type in~ ('microsoft.recoveryservices/vaults', 'microsoft.dataprotection/backupvaults') "
          "| project id, name, type, subscriptionId, resourceGroup | order by id asc")
NAMES = ["rsv-%02d" % n for n in range(7)]


@pytest.fixture
def live(emulator):
    emulator.load_fleet({"subscriptions": [{"id": SUB, "resource_groups": [
        {"name": RG, "vaults": [{"name": name, "type": "recovery_services"} for name in NAMES]}]}]})
    emulator.settings(graph_page_size=3)
    return emulator


def pages(emulator, query=VAULTS):
    """(totalRecords of each answer, names of each page) of one query paged with its $skipToken."""
    totals, names = [], []
    answer = emulator.graph_query(query, [SUB]).json()
    while True:
        totals.append(answer["totalRecords"])
        names.append([row["name"] for row in answer["data"]])
        if not answer.get("$skipToken"):
            return totals, names
        answer = emulator.graph_query(query, [SUB], skip_token=answer["$skipToken"]).json()


def vault_exists(emulator, name):
    return emulator.resource("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (SUB, RG, name)) is not None


def test_pages_are_a_snapshot_without_the_setting(live):
    assert pages(live) == ([7, 7, 7], [NAMES[:3], NAMES[3:6], NAMES[6:]])
    assert live.graph_query(VAULTS, [SUB], top=1000).json()["count"] == 3       # graph_page_size caps $top


def test_a_vault_added_while_paging_repeats_a_row(live):
    live.settings(graph_live={"mode": "add"})
    totals, names = pages(live)
    assert totals == [7, 8, 8] and names == [NAMES[:3], NAMES[2:5], NAMES[5:]]   # rsv-02 twice
    assert vault_exists(live, "aaa-live-0")                                      # ARM has the new vault too
    # The setting is spent: the next query is one snapshot of the index as it now is.
    assert pages(live) == ([8, 8, 8], [["aaa-live-0"] + NAMES[:2], NAMES[2:5], NAMES[5:]])
    assert live.settings()["graph_live"]["times"] == 0


def test_a_vault_removed_while_paging_leaves_a_row_out(live):
    live.settings(graph_live={"mode": "remove", "times": 2})
    totals, names = pages(live)
    assert totals == [7, 6] and names == [NAMES[:3], NAMES[4:7]]                 # rsv-03 never shown
    assert not vault_exists(live, NAMES[0])
    totals, names = pages(live)                                                   # times 2: the next query moves too
    assert totals == [6, 5] and names == [NAMES[1:4], NAMES[5:7]]
    assert pages(live) == ([5, 5], [NAMES[2:5], NAMES[5:7]])


def test_rows_reordered_while_paging_repeat_some_and_miss_others(live):
    live.settings(graph_live={"mode": "reorder"})
    totals, names = pages(live)
    assert totals == [7, 7, 7] and names == [NAMES[:3], NAMES[3::-1][:3], [NAMES[0]]]
    assert all(vault_exists(live, name) for name in NAMES)                        # the vaults do not change


def test_only_the_table_named_moves(live):
    live.settings(graph_live={"mode": "remove", "table": "recoveryservicesresources"})
    assert pages(live)[1] == [NAMES[:3], NAMES[3:6], NAMES[6:]]
    assert "moved" not in live.settings()["graph_live"]
