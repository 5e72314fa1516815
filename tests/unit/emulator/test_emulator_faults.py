# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: fault and latency injection, paging, generator, concurrency."""
from __future__ import annotations

import concurrent.futures
import time

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from tests.emulator.generator import generate_fleet

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-f"
FAST_RETRY = {"retry_backoff_factor": 0.01}


def one_vault(emulator, **extra):
    emulator.load_fleet({"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        dict({"name": "v"}, **extra)]}]}]})


def statuses(emulator, needle="/vaults/v"):
    return [e["status"] for e in emulator.journal() if e["path"].endswith(needle)]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_faults_are_retried_by_the_sdk(emulator, status):
    one_vault(emulator)
    emulator.fault(method="GET", path_regex=r"/vaults/v$", status=status, retry_after=0, times=2)
    client = emulator.rs_client(**FAST_RETRY)
    assert client.vaults.get(RG, "v").name == "v"
    assert statuses(emulator) == [status, status, 200]


@pytest.mark.parametrize("status,code", [(429, "TooManyRequests"), (500, "InternalServerError"), (503, "ServiceUnavailable")])
def test_faults_surface_as_arm_errors_without_retries(emulator, status, code):
    one_vault(emulator)
    emulator.fault(path_regex="/vaults/v", status=status, retry_after=7, times=1)
    client = emulator.rs_client(retry_total=0)
    with pytest.raises(HttpResponseError) as err:
        client.vaults.get(RG, "v")
    assert err.value.status_code == status
    assert err.value.error.code == code
    assert err.value.response.headers["Retry-After"] == "7"
    assert client.vaults.get(RG, "v").name == "v"  # only `times` requests are hit


def test_fault_on_lro_poll_and_write(emulator):
    one_vault(emulator)
    emulator.fault(method="GET", path_regex="/operationStatus/", status=503, retry_after=0, times=1)
    emulator.fault(method="PATCH", status=429, retry_after=0, times=1)
    client = emulator.rs_client(**FAST_RETRY)
    vault = client.vaults.begin_update(RG, "v", {"tags": {"x": "y"}}).result()
    assert vault.tags == {"x": "y"}
    methods = [(e["method"], e["status"]) for e in emulator.journal()]
    assert methods[:3] == [("PATCH", 429), ("PATCH", 202), ("GET", 503)]


def test_delay_fault(emulator):
    one_vault(emulator)
    emulator.fault(method="GET", path_regex="/vaults/v$", delay_ms=1000, times=1)   # far above a loaded machine's plain GET
    client = emulator.rs_client()
    start = time.time()
    client.vaults.get(RG, "v")
    assert time.time() - start >= 1.0
    start = time.time()
    client.vaults.get(RG, "v")
    assert time.time() - start < 1.0


def test_dropped_connection(emulator):
    one_vault(emulator)
    emulator.fault(method="GET", path_regex="/vaults/v$", drop=True, times=1)
    client = emulator.rs_client(retry_total=0)
    with pytest.raises((ServiceResponseError, ServiceRequestError)):
        client.vaults.get(RG, "v")
    assert statuses(emulator) == [0]
    emulator.fault(method="GET", path_regex="/vaults/v$", drop=True, times=1)
    client = emulator.rs_client(**FAST_RETRY)
    assert client.vaults.get(RG, "v").name == "v"  # the SDK retries a dropped read


def test_faults_cleared(emulator):
    one_vault(emulator)
    emulator.fault(status=500, times=100)
    emulator.clear_faults()
    assert emulator.rs_client(retry_total=0).vaults.get(RG, "v").name == "v"


def test_latency(emulator):
    one_vault(emulator)
    client = emulator.rs_client()
    client.vaults.get(RG, "v")  # token + connection
    # The upper bound is the added latency itself, far above a loopback GET: a loaded 2-core machine (CI shares one) took
    # up to a few tenths of a second for a plain request, so a bound of 0.15 s could fail with nothing wrong.
    emulator.latency(1000)
    start = time.time()
    client.vaults.get(RG, "v")
    assert time.time() - start >= 1.0
    emulator.latency(0)
    start = time.time()
    client.vaults.get(RG, "v")
    assert time.time() - start < 1.0


def test_paging_across_next_link(emulator):
    emulator.load_fleet({"subscriptions": [{"id": SUB, "resource_groups": [
        {"name": "rg-a", "vaults": [{"name": "rs%d" % i} for i in range(5)] + [{"name": "bv%d" % i, "type": "backup"} for i in range(3)]},
        {"name": "rg-b", "vaults": [{"name": "rsb%d" % i} for i in range(2)]}]}]})
    emulator.settings(page_size=2)
    rs = emulator.rs_client()
    assert [v.name for v in rs.vaults.list_by_subscription_id()] == ["rs0", "rs1", "rs2", "rs3", "rs4", "rsb0", "rsb1"]
    gets = [e for e in emulator.journal() if e["path"].endswith("Microsoft.RecoveryServices/vaults")]
    assert len(gets) == 4 and gets[1]["query"]["$skiptoken"] == "2"
    assert [v.name for v in rs.vaults.list_by_resource_group("rg-a")] == ["rs0", "rs1", "rs2", "rs3", "rs4"]
    dp = emulator.dp_client()
    assert [v.name for v in dp.backup_vaults.get_in_subscription()] == ["bv0", "bv1", "bv2"]


def test_policy_list_paging_keeps_filter(emulator):
    props = {"backupManagementType": "AzureIaasVM", "policyType": "V1"}
    other = {"backupManagementType": "AzureStorage", "workLoadType": "AzureFileShare"}
    emulator.load_fleet({"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "vaults": [{"name": "v", "policies": [
        {"name": "p%d" % i, "properties": props if i % 2 else other} for i in range(7)]}]}]}]})
    emulator.settings(page_size=1)
    backup = emulator.backup_client()
    names = [p.name for p in backup.backup_policies.list("v", RG, filter="backupManagementType eq 'AzureIaasVM'")]
    assert names == ["p1", "p3", "p5"]


def test_generator_is_deterministic_and_varied():
    one = generate_fleet(300, subscriptions=2, seed="x")
    assert one == generate_fleet(300, subscriptions=2, seed="x")
    assert one != generate_fleet(300, subscriptions=2, seed="y")
    vaults = [v for s in one["subscriptions"] for rg in s["resource_groups"] for v in rg["vaults"]]
    assert len(vaults) == 300 and len(one["subscriptions"]) == 2
    assert {v["type"] for v in vaults} == {"recovery_services", "backup"}
    assert {v["immutability"] for v in vaults} == {"unset", "disabled", "enabled", "locked"}
    assert {v["soft_delete"]["state"] for v in vaults} == {"on", "off", "always_on"}
    assert any(p["name"].endswith("Weak") for v in vaults for p in v["policies"])
    kinds = {p["properties"].get("backupManagementType") or p["properties"]["datasourceTypes"][0] for v in vaults for p in v["policies"]}
    assert {"AzureIaasVM", "AzureWorkload", "AzureStorage", "Microsoft.Compute/disks"} <= kinds


def test_generated_fleet_served_and_concurrent_clients(emulator):
    fleet = generate_fleet(600, subscriptions=2, seed="bench")
    emulator.load_fleet(fleet)
    sub = fleet["subscriptions"][0]["id"]
    rs = emulator.rs_client(sub)
    vaults = list(rs.vaults.list_by_subscription_id())
    expected = [v for rg in fleet["subscriptions"][0]["resource_groups"] for v in rg["vaults"] if v["type"] == "recovery_services"]
    assert len(vaults) == len(expected)
    states = {(v.properties.security_settings.immutability_settings or {}).get("state", "unset") for v in vaults}
    assert states == {"unset", "Disabled", "Unlocked", "Locked"}
    targets = [(v.id.split("/")[4], v.name) for v in vaults[:120]]
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda t: rs.vaults.get(*t).name, targets))
    assert got == [t[1] for t in targets]
    assert time.time() - start < 20
