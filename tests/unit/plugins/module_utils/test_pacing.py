# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_pacing: the client-side mirror of ARM's token buckets (Learn: reads 250 refilled at 25/s, writes and deletes 200
at 10/s, global 15x), fed from ARM's remaining-requests headers. A fake clock; nothing sleeps."""

from __future__ import annotations

import time

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._azure import pacing as _pacing

SUB = '0b1f6f6e-0000-4000-8000-000000000001'
OTHER = '0b1f6f6e-0000-4000-8000-000000000002'


class Clock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


def pacer(clock, **kw):
    """A pacer for the bucket arithmetic: no probe (these tests take tokens without answers)."""
    kw.setdefault('probe', False)
    return _pacing.SubscriptionPacer(clock=clock, sleep=clock.sleep, **kw)


def test_subscription_and_operation_of_a_request():
    assert _pacing.subscription_of('https://management.azure.com/subscriptions/%s/resourceGroups/rg?api-version=1' % SUB.upper()) == SUB
    assert _pacing.subscription_of('/subscriptions/%s/providers/Microsoft.RecoveryServices/vaults' % SUB) == SUB
    assert _pacing.subscription_of('https://management.azure.com/subscriptions?api-version=2022-12-01') is None
    assert _pacing.subscription_of('https://management.azure.com/providers/Microsoft.ResourceGraph/resources') is None
    assert _pacing.subscription_of(None) is None
    assert [_pacing.operation_type(m) for m in ('get', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE')] == \
        ['reads', 'reads', 'writes', 'writes', 'writes', 'deletes']


def test_250_reads_go_at_once_then_one_every_25th_of_a_second(clock):
    paced = pacer(clock)
    assert [paced.acquire(SUB) for _count in range(250)] == [0.0] * 250
    assert clock.slept == []
    paced.acquire(SUB)
    assert clock.slept == [0.04]
    for _count in range(24):
        paced.acquire(SUB)
    assert clock.slept == [0.04] * 25 and round(clock.now - 100.0, 6) == 1.0
    assert paced.stats['acquired'] == 275 and paced.stats['waits'] == 25
    # Another subscription has its own bucket.
    assert paced.acquire(OTHER) == 0.0


def test_concurrent_callers_queue_behind_each_other(clock):
    paced = _pacing.SubscriptionPacer(clock=clock, sleep=lambda s: None, probe=False)
    for _count in range(250):
        paced.acquire(SUB)
    # Without sleeping (as threads would while another waits), each reservation waits one token longer.
    waits = [round(paced.acquire(SUB), 6) for _count in range(3)]
    assert waits == [0.04, 0.08, 0.12]


def test_writes_and_deletes_hold_200_refilled_at_10_per_second(clock):
    paced = pacer(clock)
    for op in ('writes', 'deletes'):
        for _count in range(200):
            paced.acquire(SUB, op)
        assert paced.wait_time(SUB, op) == pytest.approx(0.1)
    assert paced.wait_time(SUB, 'reads') == 0.0
    with pytest.raises(ValueError):
        paced.acquire(SUB, 'lists')


def test_observe_lowers_the_estimate_to_what_arm_reports(clock):
    paced = pacer(clock)
    paced.before_request('GET', URL)
    paced.after_response('GET', URL, 200, {'x-ms-ratelimit-remaining-subscription-reads': '10'})
    for _count in range(10):
        assert paced.acquire(SUB) == 0.0
    assert paced.acquire(SUB) == pytest.approx(0.04)
    # A larger value never raises the estimate (requests may be in flight); the hourly-era counts change nothing.
    paced.observe(SUB, {'x-ms-ratelimit-remaining-subscription-reads': '11999'})
    assert paced.wait_time(SUB) == pytest.approx(0.04)
    paced.observe(SUB, {'something-else': '1'})
    paced.observe(SUB, None)


def test_the_global_bucket_counts_too(clock):
    paced = pacer(clock)
    paced.observe(SUB, {'x-ms-ratelimit-remaining-subscription-global-reads': '0'})
    # The global bucket refills 15 x 25 = 375 tokens a second.
    assert paced.wait_time(SUB) == pytest.approx(1 / 375.0)


def test_a_429_blocks_until_retry_after_bounded(clock):
    paced = pacer(clock, max_wait=30)
    assert paced.throttled(SUB, '3') == 3.0
    assert paced.acquire(SUB) == pytest.approx(3.0)
    assert paced.throttled(SUB, '3600') == 30.0
    assert paced.throttled(SUB, 'soon') == 1.0
    assert paced.stats['throttled'] == 3


@pytest.mark.parametrize('value, seconds', [
    ('7', 7.0), (' 2.5 ', 2.5), ('0', 0.0),
    ('Wed, 21 Oct 2015 07:28:12 GMT', 12.0),      # RFC 9110's HTTP-date form, 12 s after "now" below
    ('Wed, 21 Oct 2015 07:27:00 GMT', 0.0),       # a date already past: at once
    ('-3', None), ('nan', None), ('inf', None), ('soon', None), ('', None), (None, None),
    ('Wed, 21 Oct 2015 07:28:12', None),          # a date without its zone names no instant
])
def test_retry_after_is_seconds_or_an_http_date(value, seconds):
    now = 1445412480.0   # Wed, 21 Oct 2015 07:28:00 GMT
    assert _pacing.retry_after_seconds(value, now=now) == (None if seconds is None else pytest.approx(seconds))


def test_a_429_with_an_http_date_blocks_until_that_date(clock, monkeypatch):
    """Retry-After as an HTTP date (RFC 9110) held the bucket 1 s only (float() failed): the next requests of the same
    subscription went out long before the date and were throttled again."""
    monkeypatch.setattr(_pacing.time, 'time', lambda: 1445412480.0)
    paced = pacer(clock, max_wait=60)
    paced.after_response('PATCH', '/subscriptions/%s/resourceGroups/rg/providers/x/y/z' % SUB, 429,
                         {'Retry-After': 'Wed, 21 Oct 2015 07:28:20 GMT'})
    assert paced.acquire(SUB, 'writes') == pytest.approx(20.0)


def test_headroom_leaves_tokens_for_other_clients(clock):
    paced = pacer(clock, headroom=50)
    assert [paced.acquire(SUB) for _count in range(200)] == [0.0] * 200
    assert paced.acquire(SUB) == pytest.approx(0.04)


def test_request_hooks_skip_tenant_and_resource_graph_requests(clock):
    paced = pacer(clock)
    assert paced.before_request('POST', 'https://management.azure.com/providers/Microsoft.ResourceGraph/resources') == 0.0
    paced.after_response('POST', 'https://management.azure.com/providers/Microsoft.ResourceGraph/resources', 429, {'Retry-After': '9'})
    assert paced.stats['acquired'] == 0 and paced.stats['throttled'] == 0
    url = 'https://management.azure.com/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v' % SUB
    paced.before_request('DELETE', url)
    paced.after_response('DELETE', url, 429, {'Retry-After': '2'})
    assert paced.wait_time(SUB, 'deletes') == pytest.approx(2.0) and paced.wait_time(SUB, 'reads') == 0.0


def test_pacing_policy_in_an_azure_core_pipeline(clock):
    from azure.core.pipeline import PipelineContext, PipelineRequest, PipelineResponse
    from azure.core.rest import HttpRequest

    paced = pacer(clock)
    policy = _pacing.pacing_policy(paced)
    url = 'https://management.azure.com/subscriptions/%s/providers/Microsoft.DataProtection/backupVaults' % SUB

    class Answer:
        status_code = 200
        headers = {'x-ms-ratelimit-remaining-subscription-reads': '0'}

    request = PipelineRequest(HttpRequest('GET', url), PipelineContext(None))
    policy.on_request(request)
    policy.on_response(request, PipelineResponse(request.http_request, Answer(), request.context))
    policy.on_request(request)
    assert clock.slept == [0.04]


URL = 'https://management.azure.com/subscriptions/%s/providers/Microsoft.RecoveryServices/vaults' % SUB


def test_the_first_request_to_a_subscription_goes_alone_until_its_answer_says_what_is_left(clock):
    import threading

    paced = _pacing.SubscriptionPacer(clock=clock, sleep=clock.sleep)
    paced.before_request('GET', URL)                    # the probe
    released = []

    def second():
        released.append(paced.before_request('GET', URL))

    waiter = threading.Thread(target=second)
    waiter.start()
    # Wait until it waits (a fixed 0.3 s could pass on a loaded machine before the thread even ran), then check it stays held.
    deadline = time.monotonic() + 10
    while paced.stats['probe_waits'] < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    waiter.join(0.1)
    assert waiter.is_alive() and released == [] and paced.stats['probe_waits'] == 1
    # The answer: another task of the same principal left 2 reads in the bucket.
    paced.after_response('GET', URL, 200, {'x-ms-ratelimit-remaining-subscription-reads': '2'})
    waiter.join(5)
    assert released == [0.0]
    # One token left: the next goes at once, the one after waits for the refill (1 / 25 s).
    assert paced.before_request('GET', URL) == 0.0
    assert paced.before_request('GET', URL) == pytest.approx(0.04)
    # Other subscriptions and operation types probe on their own; writes are not held by a reads probe.
    assert paced.before_request('PATCH', URL) == 0.0


def test_a_probe_without_an_answer_hands_the_probe_on(clock):
    import threading

    paced = _pacing.SubscriptionPacer(clock=clock, sleep=clock.sleep)
    paced.before_request('GET', URL)
    done = []
    waiter = threading.Thread(target=lambda: done.append(paced.before_request('GET', URL)))
    waiter.start()
    paced.request_failed('GET', URL)                   # a dropped connection: no answer, nothing learnt
    waiter.join(5)
    assert done == [0.0]
    # The released request became the probe: a third one waits for it, at most probe_timeout.
    short = _pacing.SubscriptionPacer(clock=clock, sleep=clock.sleep, probe_timeout=0.2)
    short.before_request('GET', URL)
    assert short.before_request('GET', URL) == 0.0 and short.stats['probe_waits'] == 1


def test_summary_says_what_pacing_cost_in_wall_time(clock):
    paced = _pacing.SubscriptionPacer(clock=clock, sleep=lambda s: None, probe=False)
    for _count in range(250):
        paced.acquire(SUB)
    # Three callers queue at once (0.04, 0.08, 0.12 s): 0.24 s of waiting added up, 0.12 s of wall time.
    for _count in range(3):
        paced.acquire(SUB)
    paced.throttled(SUB, '1')
    assert paced.stats['waited_s'] == pytest.approx(0.24)
    assert paced.summary() == {'requests': 253, 'waited_s': 0.12, 'throttled': 1}


def test_requests_without_an_answer_yet_count_against_what_arm_reports(clock):
    """ARM's remaining count does not include requests still on their way: those are taken off the estimate too."""
    paced = pacer(clock)
    for _count in range(10):
        paced.before_request('GET', URL)
    # The first answer: ARM had 249 left after it; nine more requests of ours are still in flight.
    paced.after_response('GET', URL, 200, {'x-ms-ratelimit-remaining-subscription-reads': '249'})
    assert paced._buckets[(SUB, 'reads')][0].tokens == pytest.approx(240.0)
    # Late in a burst ARM says 5 left while 8 requests are on their way: the next request waits for 4 more tokens.
    for _count in range(230):
        paced.before_request('GET', URL)
    for _count in range(230):
        paced.after_response('GET', URL, 200, {})
    paced.after_response('GET', URL, 200, {'x-ms-ratelimit-remaining-subscription-reads': '5'})
    assert paced.wait_time(SUB) == pytest.approx((1 - (5 - 8)) / 25.0)


def test_a_halted_pacer_refuses_every_write_and_delete_before_it_leaves_and_lets_reads_go():
    """harden_apply halts the process's stop (stop.STOP) when a Ctrl-C reaches its process (ansible-core 2.17 and 2.18):
    the pacer refuses every later write before it waits for a token; the threads still in flight read on."""
    from ansible_collections.vaultlock.azure.plugins.module_utils._azure.stop import STOP
    from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
    paced = _pacing.SubscriptionPacer(clock=lambda: 0.0, sleep=lambda s: None, probe=False)
    url = 'https://management.azure.com/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v?api-version=1' % SUB
    paced.before_request('PATCH', url)
    STOP.halt()
    try:
        for method in ('PATCH', 'PUT', 'POST', 'DELETE'):
            with pytest.raises(AzureOperationError) as err:
                paced.before_request(method, url)
            assert err.value.code == 'RunStopped' and 'was not sent' in err.value.describe()
            assert 'api-version' not in err.value.describe()
        paced.before_request('GET', url)
    finally:
        STOP.disarm(STOP.arm())
