# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: Azure's throttling against the numbers Learn documents (request-limits-and-throttling: reads 250
refilled at 25/s, writes and deletes 200 at 10/s, per subscription, principal and operation type, global limits 15
times these; Resource Graph: 15 queries per 5-second window per principal). The clock is virtual: nothing sleeps."""
from __future__ import annotations

import pytest
import requests

from tests.emulator import lro, throttle
from tests.emulator.client import EmulatorProcess

SUB_A = "aaaaaaaa-0000-4000-8000-00000000000a"
SUB_B = "bbbbbbbb-0000-4000-8000-00000000000b"
FLEET = {"subscriptions": [
    {"id": SUB_A, "resource_groups": [{"name": "rg-a", "vaults": [{"name": "rsv-a", "type": "recovery_services"}]}]},
    {"id": SUB_B, "resource_groups": [{"name": "rg-b", "vaults": [{"name": "bv-b", "type": "backup"}]}]},
]}
VAULTS_A = "subscriptions/%s/providers/Microsoft.RecoveryServices/vaults" % SUB_A
VAULTS_B = "subscriptions/%s/providers/Microsoft.DataProtection/backupVaults" % SUB_B


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    source = FakeTime()
    return throttle.VirtualClock(source=source)


def reads(arm, n, principal="app-1", sub=SUB_A):
    return [arm.take("subscription", sub, principal, "oid-" + principal, "reads") for _count in range(n)]


# ---------------------------------------------------------------------------------------------- the model, pure
def test_a_burst_of_260_reads_gives_250_answers_then_429_with_retry_after(clock):
    arm = throttle.ArmThrottle(clock)
    decisions = reads(arm, 260)
    assert [d.allowed for d in decisions] == [True] * 250 + [False] * 10
    assert decisions[0].headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"
    # 15 x 250 = 3750 global tokens; recorded live headers after one read: 249 and 3749 (Azure/azure-powershell
    # Invoke-AzRest help).
    assert decisions[0].headers["x-ms-ratelimit-remaining-subscription-global-reads"] == "3749"
    assert decisions[249].headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    refused = decisions[250]
    assert refused.code == "SubscriptionRequestsThrottled"
    assert refused.retry_after == 1 and refused.headers["Retry-After"] == "1"
    assert refused.message == ("Number of 'read' requests for subscription '%s' actor 'oid-app-1' exceeded. Please try again "
                               "after '1' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling "
                               "for additional information." % SUB_A)


def test_reads_refill_at_25_per_second_up_to_250(clock):
    arm = throttle.ArmThrottle(clock)
    reads(arm, 250)
    clock.advance(1.0)
    assert [d.allowed for d in reads(arm, 26)] == [True] * 25 + [False]
    clock.advance(0.04)  # one token takes 1/25 s
    assert reads(arm, 1)[0].allowed
    clock.advance(3600)
    assert [d.allowed for d in reads(arm, 251)] == [True] * 250 + [False]


def test_writes_and_deletes_hold_200_refilled_at_10_per_second(clock):
    arm = throttle.ArmThrottle(clock)
    for op, word in (("writes", "write"), ("deletes", "delete")):
        done = [arm.take("subscription", SUB_A, "app", "oid", op) for _count in range(201)]
        assert [d.allowed for d in done] == [True] * 200 + [False]
        assert done[0].headers["x-ms-ratelimit-remaining-subscription-%s" % op] == "199"
        assert "Number of '%s' requests" % word in done[-1].message
        assert done[-1].retry_after == 1
    clock.advance(1.0)
    assert [arm.take("subscription", SUB_A, "app", "oid", "writes").allowed for _count in range(11)] == [True] * 10 + [False]
    # Reads have a bucket of their own.
    assert reads(arm, 1, principal="app")[0].allowed


def test_buckets_are_per_principal_and_per_subscription(clock):
    arm = throttle.ArmThrottle(clock)
    reads(arm, 250, principal="app-1", sub=SUB_A)
    assert not reads(arm, 1, principal="app-1", sub=SUB_A)[0].allowed
    assert reads(arm, 1, principal="app-2", sub=SUB_A)[0].allowed
    assert reads(arm, 1, principal="app-1", sub=SUB_B)[0].allowed
    assert reads(arm, 1, principal="APP-1", sub=SUB_B.upper())[0].headers["x-ms-ratelimit-remaining-subscription-reads"] == "248"


def test_the_global_subscription_bucket_is_15_times_a_principals(clock):
    arm = throttle.ArmThrottle(clock)
    for number in range(15):
        assert all(d.allowed for d in reads(arm, 250, principal="app-%d" % number))
    refused = reads(arm, 1, principal="app-16")[0]
    assert not refused.allowed and refused.headers["x-ms-ratelimit-remaining-subscription-reads"] == "250"
    assert refused.headers["x-ms-ratelimit-remaining-subscription-global-reads"] == "0"
    assert "actor" not in refused.message and refused.code == "SubscriptionRequestsThrottled"
    clock.advance(1.0)  # the global bucket refills at 15 x 25 = 375 per second
    assert [d.allowed for d in reads(arm, 376, principal="app-16")] == [True] * 250 + [False] * 126


def test_tenant_requests_have_their_own_buckets(clock):
    arm = throttle.ArmThrottle(clock)
    done = [arm.take("tenant", "tenant-1", "app", "oid", "reads") for _count in range(251)]
    assert [d.allowed for d in done] == [True] * 250 + [False]
    assert "x-ms-ratelimit-remaining-tenant-reads" in done[0].headers and done[-1].code == "TenantRequestsThrottled"
    assert reads(arm, 1, principal="app")[0].allowed


def test_resource_graph_refuses_the_16th_query_in_5_seconds(clock):
    quota = throttle.ArgQuota(clock)
    first = quota.take("app")
    # Recorded: the first query of a window answers 14 remaining, resets after 00:00:05.
    assert first.headers["x-ms-user-quota-remaining"] == "14" and first.headers["x-ms-user-quota-resets-after"] == "00:00:05"
    assert first.headers["x-ms-ratelimit-remaining-tenant-resource-requests"] == "14"
    clock.advance(2.0)
    rest = [quota.take("app") for _count in range(15)]
    assert [d.allowed for d in rest] == [True] * 14 + [False]
    assert rest[13].headers["x-ms-user-quota-remaining"] == "0" and rest[13].headers["x-ms-user-quota-resets-after"] == "00:00:03"
    assert rest[14].code == "RateLimiting" and rest[14].headers["Retry-After"] == "3"
    assert quota.take("other-app").allowed
    clock.advance(3.0)
    again = quota.take("app")
    assert again.allowed and again.headers["x-ms-user-quota-remaining"] == "14"


def test_quota_headers_count_down_and_format_hh_mm_ss(clock):
    quota = throttle.ArgQuota(clock)
    assert [quota.take("app").headers["x-ms-user-quota-remaining"] for _count in range(15)] == [str(n) for n in range(14, -1, -1)]
    assert throttle.format_resets_after(4.2) == "00:00:05"
    assert throttle.format_resets_after(3725) == "01:02:05"


def test_virtual_clock_freezes_advances_and_never_runs_back():
    source = FakeTime()
    clock = throttle.VirtualClock(source=source)
    clock.freeze()
    source.now += 10
    assert clock.now() == 1000.0 and clock.frozen
    clock.advance(2.5)
    assert clock.now() == 1002.5
    clock.unfreeze()
    assert clock.now() == 1002.5
    source.now += 1
    assert clock.now() == 1003.5
    with pytest.raises(ValueError):
        clock.advance(-1)


# Offsets a session's earlier freezes and moves leave on the clock (the source at 1000.0 s moved 0.01 to 0.99 s): in float
# seconds, (1000.0 + 0.07) + 60 is one unit in the last place above 1000.0 + (0.07 + 60), so an operation accepted at the
# first read as running after the clock moved its whole Retry-After (test_replay's A_dp_vault_update, once in a full run).
OFFSETS = [hundredths / 100 for hundredths in range(1, 100)]


def _clock_moved(offset, source=1000.0):
    fake = FakeTime()
    fake.now = source
    clock = throttle.VirtualClock(source=fake)
    clock.advance(offset)
    clock.freeze()
    return clock


@pytest.mark.parametrize("retry_after", [60, 30, 0.5, 0.2])
def test_an_operation_ends_exactly_when_the_clock_moved_its_retry_after_whatever_the_offset(retry_after):
    ended_late = []
    for offset in OFFSETS:
        clock = _clock_moved(offset)
        op = lro.start({"lro_retry_after": retry_after}, clock)
        clock.advance(retry_after / 2)
        clock.advance(retry_after / 2 - 0.001 if retry_after > 0.01 else 0)
        assert lro.running(op, clock), offset
        clock.advance(0.001)
        if lro.running(op, clock):
            ended_late.append(offset)
    assert ended_late == []


def test_a_resource_graph_window_ends_exactly_window_s_after_its_first_query_whatever_the_offset():
    refused_late = []
    # The last pair: a source and an offset for which float seconds ended the window one unit in the last place late.
    for source, offset in [(1000.0, offset) for offset in OFFSETS] + [(776.4470272461715, 1022.173297764985)]:
        clock = _clock_moved(offset, source)
        quota = throttle.ArgQuota(clock)
        assert [quota.take("app").allowed for _query in range(16)] == [True] * 15 + [False]
        clock.advance(throttle.ARG_WINDOW_S)
        if not quota.take("app").allowed:
            refused_late.append((source, offset))
    assert refused_late == []


def test_operation_types():
    assert [throttle.operation_type(m) for m in ("GET", "head", "PUT", "PATCH", "POST", "DELETE")] == \
        ["reads", "reads", "writes", "writes", "writes", "deletes"]


# ---------------------------------------------------------------------------------------------- over HTTPS
@pytest.fixture
def throttled(emulator):
    emulator.load_fleet(FLEET)
    emulator.throttle("azure")
    emulator.clock(freeze=True)
    yield emulator
    emulator.throttle("off")


def _session(emulator, client_id=None):
    http = requests.Session()
    http.verify = emulator.ca_bundle
    http.trust_env = False
    http.headers["Authorization"] = "Bearer " + emulator.mint_token(client_id=client_id)
    return http


def test_https_burst_of_260_reads_then_refill(throttled):
    http = _session(throttled)
    url = throttled.arm_url + VAULTS_A
    answers = [http.get(url, params={"api-version": "2026-11-01"}, timeout=30) for _count in range(260)]
    assert [a.status_code for a in answers] == [200] * 250 + [429] * 10
    assert answers[0].headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"
    assert answers[249].headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    refused = answers[250]
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert "Number of 'read' requests for subscription '%s' actor '" % SUB_A in refused.json()["error"]["message"]
    throttled.clock(advance_s=1.0)
    more = [http.get(url, params={"api-version": "2026-11-01"}, timeout=30).status_code for _count in range(26)]
    assert more == [200] * 25 + [429]
    journal = [e["status"] for e in throttled.journal()]
    assert journal.count(429) == 11 and journal.count(200) == 275
    # Another principal (the reader) and another subscription still have full buckets.
    reader = _session(throttled, throttled.endpoint["readonly_client_id"])
    answer = reader.get(url, params={"api-version": "2026-11-01"}, timeout=30)
    assert answer.status_code == 200 and answer.headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"
    answer = http.get(throttled.arm_url + VAULTS_B, params={"api-version": "2026-06-01"}, timeout=30)
    assert answer.status_code == 200 and answer.headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"


def test_https_writes_count_in_their_own_bucket(throttled):
    http = _session(throttled)
    url = throttled.arm_url + "subscriptions/%s/resourcegroups/rg-new" % SUB_A
    answer = http.put(url, params={"api-version": "2021-04-01"}, json={"location": "westeurope"}, timeout=30)
    assert answer.status_code == 201 and answer.headers["x-ms-ratelimit-remaining-subscription-writes"] == "199"
    assert answer.headers["x-ms-ratelimit-remaining-subscription-global-writes"] == "2999"
    answer = http.delete(throttled.arm_url + "subscriptions/%s/resourceGroups/rg-a/providers/Microsoft.RecoveryServices/vaults/"
                                             "nope" % SUB_A, params={"api-version": "2026-11-01"}, timeout=30)
    assert answer.headers["x-ms-ratelimit-remaining-subscription-deletes"] == "199"


def test_https_resource_graph_16th_query_refused(throttled):
    answers = [throttled.graph_query("resources | project id", [SUB_A]) for _count in range(16)]
    assert [a.status_code for a in answers] == [200] * 15 + [429]
    assert answers[0].headers["x-ms-user-quota-remaining"] == "14"
    assert answers[0].headers["x-ms-user-quota-resets-after"] == "00:00:05"
    refused = answers[15]
    error = refused.json()["error"]
    assert error["code"] == "RateLimiting" and error["message"].startswith("Please provide below info when asking for support")
    assert error["details"] == [{"code": "RateLimiting", "message": "Client application has been throttled and should not attempt "
                                 "to repeat the request until an amount of time has elapsed. Please see "
                                 "https://aka.ms/resourcegraph-throttling for help."}]
    assert refused.headers["x-ms-user-quota-remaining"] == "0" and refused.headers["Retry-After"] == "5"
    # Resource Graph queries do not use ARM's subscription buckets.
    assert "x-ms-ratelimit-remaining-subscription-writes" not in answers[0].headers
    throttled.clock(advance_s=5.0)
    assert throttled.graph_query("resources | project id", [SUB_A]).status_code == 200


def test_without_throttling_nothing_is_refused(emulator):
    emulator.load_fleet(FLEET)
    assert emulator.settings()["throttle"] == "off"
    http = _session(emulator)
    codes = {http.get(emulator.arm_url + VAULTS_A, params={"api-version": "2026-11-01"}, timeout=30).status_code for _count in range(260)}
    assert codes == {200}
    answer = http.get(emulator.arm_url + VAULTS_A, params={"api-version": "2026-11-01"}, timeout=30)
    assert int(answer.headers["x-ms-ratelimit-remaining-subscription-reads"]) > 11000  # the hourly counter (assumed)
    assert {emulator.graph_query("resources | project id", [SUB_A]).status_code for _count in range(20)} == {200}
    # Resource Graph still reports its quota (Learn: on every query response), against a quota no test exhausts.
    assert int(emulator.graph_query("resources | project id", [SUB_A]).headers["x-ms-user-quota-remaining"]) > 15


def test_switching_throttling_and_bad_settings(emulator):
    assert emulator.throttle("azure")["throttle"] == "azure"
    with pytest.raises(RuntimeError, match="throttle must be one of"):
        emulator.settings(throttle="sometimes")
    emulator.reset()
    assert emulator.settings()["throttle"] == "off"
    assert emulator.clock()["frozen"] is False


def test_serve_throttle_azure_and_generated_fleet(tmp_path):
    proc = EmulatorProcess(workdir=str(tmp_path), throttle="azure",
                           extra_args=["--generate-vaults", "12", "--generate-protected-items", "2"])
    try:
        from tests.emulator.client import EmulatorClient  # pylint: disable=import-outside-toplevel
        client = EmulatorClient(proc.endpoint)
        assert client.settings()["throttle"] == "azure"
        assert client.stats()["recovery_services_vaults"] + client.stats()["backup_vaults"] == 12
        sub = proc.endpoint["subscription_ids"][0]
        answer = client.arm_request("GET", "subscriptions/%s/providers/Microsoft.RecoveryServices/vaults" % sub, "2026-11-01")
        assert answer.headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"
        client.reset()
        assert client.settings()["throttle"] == "azure"  # reset returns to the start value
    finally:
        proc.stop()
