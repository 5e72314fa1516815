# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Client-side pacing of Azure Resource Manager requests, so a fleet read waits for ARM's tokens instead of provoking 429s.

Azure Resource Manager throttles with token buckets (Learn: request-limits-and-throttling, since 2024): one bucket per
subscription, per principal and per operation type. Reads hold 250 tokens and refill at 25 per second; writes and
deletes hold 200 and refill at 10 per second. Each subscription also has a global bucket per operation type shared by
every principal, 15 times as large and as fast. Every answer says what is left:
``x-ms-ratelimit-remaining-subscription-reads`` (``-writes``, ``-deletes``) and ``...-global-reads`` (...).

``SubscriptionPacer`` mirrors those buckets for the principal it runs as: ``acquire()`` takes a token (waiting until
the bucket has one), ``observe()`` lowers the estimate to what ARM reports (another process of the same principal may
have used tokens too, and requests still on their way will take theirs: the estimate is what ARM reported minus the
requests sent and not answered yet), ``throttled()`` honours a 429's Retry-After. Until the first answer from a subscription has said
what is left, one request at a time goes to it (the probe): a task that starts right after another one of the same
principal (the bucket nearly empty) learns that from one answer instead of sending a burst that ARM refuses. Requests
that carry no subscription (tenant level, Resource Graph) are not paced here. Pure: no Azure import; the clock and
sleep are injectable.

``pacing_policy(pacer)`` wraps a pacer as an azure-core pipeline policy (azure-core is imported only then); the
session (``_client.AzureSession``) puts it after the retry policy of every pipeline it builds, so every attempt of
every ARM request of a task takes a token from one pacer.
"""

from __future__ import annotations

import email.utils
import math
import re
import threading
import time

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.stop import STOP
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import RETRY_AFTER_MAX

# (bucket size, refill per second) of one principal, per operation type (Learn: request-limits-and-throttling).
LIMITS = {'reads': (250, 25.0), 'writes': (200, 10.0), 'deletes': (200, 10.0)}
# The global bucket of a subscription is this many times a principal's (Learn).
GLOBAL_FACTOR = 15
# Longest single wait, in seconds (the same bound the collection puts on Retry-After).
MAX_WAIT = float(RETRY_AFTER_MAX)
# Longest wait for the probe's answer (real seconds) before a request goes out without it.
PROBE_TIMEOUT = 30.0
OPERATION_TYPES = ('reads', 'writes', 'deletes')
_SUBSCRIPTION = re.compile(r'^(?:[a-z][a-z0-9+.-]*://[^/]+)?/subscriptions/([^/?#]+)', re.IGNORECASE)
_EPSILON = 1e-9


def operation_type(method):
    """ARM's operation type of an HTTP method: GET/HEAD read, DELETE delete, PUT/PATCH/POST write."""
    method = str(method).upper()
    if method in ('GET', 'HEAD'):
        return 'reads'
    if method == 'DELETE':
        return 'deletes'
    return 'writes'


def subscription_of(url):
    """The subscription id of an ARM URL or path (lower-cased), or None for tenant-level requests."""
    match = _SUBSCRIPTION.match(str(url or ''))
    return match.group(1).lower() if match else None


def retry_after_seconds(value, now=None):
    """Seconds a Retry-After value asks to wait, or None when it says nothing usable.

    RFC 9110 (10.2.3) allows either form: ``delay-seconds`` or an ``HTTP-date``; Learn (request-limits-and-throttling,
    "Error code") says ARM's 429 carries Retry-After in seconds, and azure-core reads both (its parse_retry_after). A
    date in the past is 0; a number that is negative, nan or infinite is nothing usable. ``now``: epoch seconds (tests).
    """
    text = str(value).strip() if value is not None else ''
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _header(headers, name):
    if headers is None:
        return None
    try:
        value = headers.get(name)
        if value is None:
            value = headers.get(name.lower())
    except AttributeError:
        return None
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


class _Bucket:
    __slots__ = ('capacity', 'rate', 'tokens', 'stamp', 'blocked_until')

    def __init__(self, capacity, rate, now):
        self.capacity = float(capacity)
        self.rate = float(rate)
        self.tokens = float(capacity)
        self.stamp = now
        self.blocked_until = now

    def refill(self, now):
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait(self, now):
        """Seconds until this bucket holds a whole token (the reservations already taken count)."""
        wait = 0.0 if self.tokens >= 1.0 - _EPSILON else (1.0 - self.tokens) / self.rate
        return max(wait, self.blocked_until - now)


class SubscriptionPacer:
    """Token buckets per subscription and operation type, as ARM keeps them for one principal (plus the global ones).

    ``headroom`` tokens of each principal bucket are left unused, for other clients of the same principal. With
    ``probe`` (the default), the first request to a subscription and operation type goes alone: the others wait (at
    most ``probe_timeout`` real seconds) until its answer said how many tokens ARM has left.
    ``stats``: ``acquired`` tokens taken, ``waits`` and ``waited_s`` (requests that waited, and how long added up over
    requests), ``held_s`` (the wall time during which at least one request waited for a token), ``throttled`` (429
    answers seen), ``probe_waits`` (requests that waited for a probe's answer).
    """

    def __init__(self, limits=None, global_factor=GLOBAL_FACTOR, clock=time.monotonic, sleep=time.sleep,
                 max_wait=MAX_WAIT, headroom=0, probe=True, probe_timeout=PROBE_TIMEOUT):
        self.limits = dict(limits or LIMITS)
        self.global_factor = global_factor
        self.clock = clock
        self.sleep = sleep
        self.max_wait = float(max_wait)
        self.headroom = int(headroom)
        self.probe = bool(probe)
        self.probe_timeout = float(probe_timeout)
        self._lock = threading.Condition()
        self._buckets = {}
        self._known = set()       # (subscription, op) whose remaining tokens an answer has reported
        self._probing = set()     # (subscription, op) with a probe in flight
        self._inflight = {}       # (subscription, op) -> requests that took a token and have no answer yet
        self.stats = {'acquired': 0, 'waits': 0, 'waited_s': 0.0, 'held_s': 0.0, 'throttled': 0, 'probe_waits': 0}
        self._held_until = None   # the end of the latest wait (for held_s, the wall time during which some request waited)

    def _pair(self, subscription_id, op, now):
        if op not in self.limits:
            raise ValueError('operation type must be one of %s; got %r' % (', '.join(OPERATION_TYPES), op))
        size, rate = self.limits[op]
        key = (str(subscription_id).lower(), op)
        pair = self._buckets.get(key)
        if pair is None:
            pair = self._buckets[key] = (_Bucket(size, rate, now), _Bucket(size * self.global_factor, rate * self.global_factor, now))
        for bucket in pair:
            bucket.refill(now)
        return pair

    def wait_time(self, subscription_id, op='reads'):
        """Seconds until a request could go out now, without taking a token."""
        with self._lock:
            now = self.clock()
            own, shared = self._pair(subscription_id, op, now)
            return self._needed(own, shared, now)

    def _needed(self, own, shared, now):
        wait = max(own.wait(now), shared.wait(now))
        if self.headroom and own.tokens - self.headroom < 1.0 - _EPSILON:
            wait = max(wait, (1.0 + self.headroom - own.tokens) / own.rate)
        return min(wait, self.max_wait)

    def _await_probe(self, key):
        """With the lock held: wait while another request probes ``key``; then this one probes if still unknown."""
        if not self.probe or key in self._known:
            return
        if key in self._probing:
            self.stats['probe_waits'] += 1
            deadline = time.monotonic() + self.probe_timeout
            while key in self._probing and key not in self._known:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
        if key not in self._known:
            self._probing.add(key)

    def learned(self, subscription_id, op='reads', answered=True):
        """ARM answered a request for ``subscription_id`` and ``op`` (after ``observe``), or with ``answered=False`` the
        request got no answer: release the requests held for the probe. Without an answer the next request probes."""
        key = (str(subscription_id).lower(), op)
        with self._lock:
            if answered:
                self._known.add(key)
            self._probing.discard(key)
            self._lock.notify_all()

    def acquire(self, subscription_id, op='reads'):
        """Take a token for one request, waiting until ARM would have one. Returns the seconds waited."""
        with self._lock:
            self._await_probe((str(subscription_id).lower(), op))
            now = self.clock()
            own, shared = self._pair(subscription_id, op, now)
            wait = self._needed(own, shared, now)
            # Reserve the token now, so concurrent callers queue behind each other.
            own.tokens -= 1.0
            shared.tokens -= 1.0
            self.stats['acquired'] += 1
            key = (str(subscription_id).lower(), op)
            self._inflight[key] = self._inflight.get(key, 0) + 1
            if wait > 0:
                self.stats['waits'] += 1
                self.stats['waited_s'] += wait
                start = now if self._held_until is None else max(now, self._held_until)
                self.stats['held_s'] += max(0.0, now + wait - start)
                self._held_until = max(now + wait, self._held_until or now)
        if wait > 0:
            self.sleep(wait)
        return wait

    def observe(self, subscription_id, headers, op='reads'):
        """Lower the estimate to what an ARM answer reports as remaining, less the requests of this pacer still waiting for
        their answer (ARM may not have counted them yet). Never raised: other clients of the principal may use tokens."""
        remaining = _header(headers, 'x-ms-ratelimit-remaining-subscription-%s' % op)
        remaining_global = _header(headers, 'x-ms-ratelimit-remaining-subscription-global-%s' % op)
        if remaining is None and remaining_global is None:
            return
        with self._lock:
            own, shared = self._pair(subscription_id, op, self.clock())
            pending = float(self._inflight.get((str(subscription_id).lower(), op), 0))
            if remaining is not None:
                own.tokens = min(own.tokens, float(remaining) - pending)
            if remaining_global is not None:
                shared.tokens = min(shared.tokens, float(remaining_global) - pending)

    def _answered(self, subscription_id, op):
        key = (str(subscription_id).lower(), op)
        with self._lock:
            if self._inflight.get(key, 0) > 0:
                self._inflight[key] -= 1

    def throttled(self, subscription_id, retry_after, op='reads'):
        """ARM answered 429: no token until Retry-After has passed. Returns the (bounded) seconds to wait."""
        seconds = retry_after_seconds(retry_after)
        seconds = min(1.0 if seconds is None else seconds, self.max_wait)
        with self._lock:
            now = self.clock()
            own, _shared = self._pair(subscription_id, op, now)
            own.tokens = min(own.tokens, 0.0)
            own.blocked_until = max(own.blocked_until, now + seconds)
            self.stats['throttled'] += 1
        return seconds

    # Transport-neutral hooks: a pipeline policy (or a plain loop) calls these around each request.
    def before_request(self, method, url):
        # Once the run was told to stop (stop.STOP), a write or delete is refused here, before it waits for a token; the
        # transport checks again right before the wire. Reads still go.
        STOP.refuse(method, url)
        subscription_id = subscription_of(url)
        if subscription_id is None:
            return 0.0
        return self.acquire(subscription_id, operation_type(method))

    def after_response(self, method, url, status, headers):
        subscription_id = subscription_of(url)
        if subscription_id is None:
            return
        op = operation_type(method)
        self._answered(subscription_id, op)
        self.observe(subscription_id, headers, op)
        if status == 429:
            self.throttled(subscription_id, headers.get('Retry-After') if headers is not None else None, op)
        self.learned(subscription_id, op)

    def request_failed(self, method, url):
        """A request that got no answer (a connection error): a request held for it as the probe may go."""
        subscription_id = subscription_of(url)
        if subscription_id is not None:
            self._answered(subscription_id, operation_type(method))
            self.learned(subscription_id, operation_type(method), answered=False)

    def summary(self):
        """What pacing cost this task: ``{requests, waited_s, throttled}``: the tokens taken, the wall time during which
        requests waited for ARM's tokens (``held_s``), and the 429 answers seen."""
        with self._lock:
            return {'requests': self.stats['acquired'], 'waited_s': round(self.stats['held_s'], 3),
                    'throttled': self.stats['throttled']}


def pacing_policy(pacer):
    """An azure-core SansIOHTTPPolicy that paces every request through ``pacer`` (azure-core imported now)."""
    # Lazy: azure-core is imported when a session builds its first pipeline, never by a task that sends nothing.
    from azure.core.pipeline.policies import SansIOHTTPPolicy  # pylint: disable=import-outside-toplevel

    class PacingPolicy(SansIOHTTPPolicy):
        """Waits for ARM's tokens before a request and learns from every answer's remaining-requests headers."""

        def on_request(self, request):
            http = request.http_request
            pacer.before_request(http.method, http.url)

        def on_response(self, request, response):
            http = request.http_request
            answer = response.http_response
            pacer.after_response(http.method, http.url, answer.status_code, answer.headers)

        def on_exception(self, request):
            http = request.http_request
            pacer.request_failed(http.method, http.url)

    return PacingPolicy()
