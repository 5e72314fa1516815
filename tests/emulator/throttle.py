# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure's request throttling, modelled (``serve --throttle azure``, or ``POST settings {"throttle": "azure"}``).

Azure Resource Manager (Learn, request-limits-and-throttling, the token-bucket architecture since 2024): one bucket
per subscription (or tenant), per principal and per operation type. Reads hold 250 tokens refilled at 25 per second,
writes and deletes 200 refilled at 10 per second. Each subscription also has a global bucket per operation type
shared by every principal, 15 times the size and refill rate of a principal's. A request takes one token from
both; when either is empty ARM answers 429 with ``Retry-After``.

Azure Resource Graph (Learn, guidance-for-throttled-requests): a principal may send 15 queries in every 5-second
window; ``x-ms-user-quota-remaining`` and ``x-ms-user-quota-resets-after`` (hh:mm:ss) say where it stands.

Time comes from a ``VirtualClock`` so tests can freeze and advance it (control ``POST clock``) instead of sleeping.
Everything here is pure: no I/O, one lock per object.
"""
from __future__ import annotations

import math
import threading
import time

# (bucket size, refill per second), per principal (Learn: request-limits-and-throttling).
ARM_LIMITS = {"reads": (250, 25.0), "writes": (200, 10.0), "deletes": (200, 10.0)}
# The global subscription bucket is this many times a principal's, for each operation type (Learn).
GLOBAL_FACTOR = 15
# Resource Graph: queries per window and window length in seconds, per principal (Learn).
ARG_QUERIES = 15
ARG_WINDOW_S = 5.0
# Queries per window without ``throttle azure``: the headers are still sent (Learn: "in every query response"), counted
# against a larger quota (Learn: "The quota value is determined by many factors"); the value is assumed, large enough
# that no test waits for a reset.
ARG_RAISED_QUERIES = 100000
# Tolerance for float arithmetic on tokens (0.04 s x 25/s is one token).
EPSILON = 1e-9
# Word used in ARM's throttling message per operation type (recorded answer: "Number of 'read' requests ...").
OPERATION_WORDS = {"reads": "read", "writes": "write", "deletes": "delete"}


NS_PER_S = 1_000_000_000


def to_ns(seconds: float) -> int:
    """A duration in seconds as whole nanoseconds, the clock's unit: an instant plus a duration is then exact."""
    return int(round(float(seconds) * NS_PER_S))


class VirtualClock:
    """Monotonic time that tests can freeze and move forward, kept in whole nanoseconds (``now_ns``).

    Integers, because an operation accepted at ``t`` that runs ``R`` seconds must have ended once the clock moved ``R``
    forward, whatever offset earlier freezes and moves left: in float seconds ``(t + o) + R`` can be one unit in the last
    place above ``t + (o + R)``, and a replay read a finished operation as running (test_replay, A_dp_vault_update).
    Deadlines compare ``now_ns()`` with an instant plus ``to_ns(duration)``; ``now()`` (float seconds) is for the rest.
    ``source`` gives seconds (time.monotonic by default).
    """

    def __init__(self, source=time.monotonic):
        self._source = source
        self._lock = threading.Lock()
        self._offset = 0
        self._frozen_at = None

    def _source_ns(self) -> int:
        return to_ns(self._source())

    def now_ns(self) -> int:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at + self._offset
            return self._source_ns() + self._offset

    def now(self) -> float:
        return self.now_ns() / NS_PER_S

    def freeze(self):
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = self._source_ns()

    def unfreeze(self):
        with self._lock:
            if self._frozen_at is not None:
                # Continue from the frozen instant: time never runs backwards.
                self._offset += self._frozen_at - self._source_ns()
                self._frozen_at = None

    def advance(self, seconds: float):
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += to_ns(seconds)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None


def operation_type(method: str) -> str:
    """ARM's operation type of an HTTP method: GET/HEAD read, DELETE delete, PUT/PATCH/POST write."""
    method = method.upper()
    if method in ("GET", "HEAD"):
        return "reads"
    if method == "DELETE":
        return "deletes"
    return "writes"


class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``rate`` per second, starting full."""

    __slots__ = ("capacity", "rate", "tokens", "stamp")

    def __init__(self, capacity: float, rate: float, now: float):
        self.capacity = float(capacity)
        self.rate = float(rate)
        self.tokens = float(capacity)
        self.stamp = now

    def refill(self, now: float):
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def seconds_until_token(self) -> float:
        return 0.0 if self.tokens >= 1.0 - EPSILON else (1.0 - self.tokens) / self.rate

    @property
    def remaining(self) -> int:
        return int(math.floor(self.tokens + 1e-9))


def retry_after_seconds(wait: float) -> int:
    """Whole seconds for Retry-After: at least 1 (the recorded answer asks for '1' seconds at 25 reads/s)."""
    return max(1, int(math.ceil(wait - 1e-9)))


class Decision:  # pylint: disable=too-few-public-methods
    """The outcome of one request against the buckets: headers to send, and the refusal if any."""

    def __init__(self, allowed: bool, headers: dict, retry_after: int = 0, code: str = "", message: str = ""):
        self.allowed = allowed
        self.headers = headers
        self.retry_after = retry_after
        self.code = code
        self.message = message


class ArmThrottle:
    """ARM's token buckets: per (scope, scope id, principal, operation type), plus a global bucket per subscription."""

    def __init__(self, clock: VirtualClock, limits: dict | None = None, global_factor: int = GLOBAL_FACTOR):
        self.clock = clock
        self.limits = dict(limits or ARM_LIMITS)
        self.global_factor = global_factor
        self._lock = threading.Lock()
        self._buckets: dict = {}

    def reset(self):
        with self._lock:
            self._buckets = {}

    def _bucket(self, key, capacity, rate, now):
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(capacity, rate, now)
        bucket.refill(now)
        return bucket

    def take(self, scope: str, scope_id: str, principal: str, actor: str, op: str) -> Decision:
        """One request of operation type ``op`` (reads|writes|deletes) by ``principal`` on a subscription or tenant.

        ``scope`` is ``subscription`` or ``tenant``; ``actor`` is the principal's object id, as ARM's message names it.
        """
        size, rate = self.limits[op]
        now = self.clock.now()
        scope_id = str(scope_id).lower()
        with self._lock:
            own = self._bucket((scope, scope_id, str(principal).lower(), op), size, rate, now)
            shared = None
            if scope == "subscription":
                shared = self._bucket((scope, scope_id, None, op), size * self.global_factor, rate * self.global_factor, now)
            empty = own if own.tokens < 1.0 - EPSILON else (shared if shared is not None and shared.tokens < 1.0 - EPSILON else None)
            if empty is None:
                own.tokens -= 1.0
                if shared is not None:
                    shared.tokens -= 1.0
            headers = {"x-ms-ratelimit-remaining-%s-%s" % (scope, op): str(own.remaining)}
            if shared is not None:
                headers["x-ms-ratelimit-remaining-%s-global-%s" % (scope, op)] = str(shared.remaining)
            if empty is None:
                return Decision(True, headers)
            wait = retry_after_seconds(empty.seconds_until_token())
        word = OPERATION_WORDS[op]
        who = (" actor '%s'" % actor) if empty is own else ""
        code = "SubscriptionRequestsThrottled" if scope == "subscription" else "TenantRequestsThrottled"
        message = ("Number of '%s' requests for %s '%s'%s exceeded. Please try again after '%d' seconds after additional "
                   "tokens are available. Refer to https://aka.ms/arm-throttling for additional information."
                   % (word, scope, scope_id, who, wait))
        headers["Retry-After"] = str(wait)
        return Decision(False, headers, wait, code, message)


def format_resets_after(seconds: float) -> str:
    """hh:mm:ss, rounded up to whole seconds (recorded: ``00:00:05`` right after the first query of a window)."""
    total = max(0, int(math.ceil(seconds - 1e-9)))
    return "%02d:%02d:%02d" % (total // 3600, (total % 3600) // 60, total % 60)


class ArgQuota:
    """Resource Graph's user quota: ``queries`` per ``window_s``-second window per principal.

    A window starts with the first query after the previous one ended; when it ends the quota is whole again
    (Learn: "In 3 seconds, the values ... are reset to 15 and 00:00:05").
    """

    def __init__(self, clock: VirtualClock, queries: int = ARG_QUERIES, window_s: float = ARG_WINDOW_S):
        self.clock = clock
        self.queries = int(queries)
        self.window_s = float(window_s)
        self._lock = threading.Lock()
        self._windows: dict = {}

    def reset(self):
        with self._lock:
            self._windows = {}

    def take(self, principal: str) -> Decision:
        now = self.clock.now_ns()
        key = str(principal).lower()
        with self._lock:
            window = self._windows.get(key)
            if window is None or now >= window[0] + to_ns(self.window_s):
                window = self._windows[key] = [now, 0]
            left = (window[0] + to_ns(self.window_s) - now) / NS_PER_S
            allowed = window[1] < self.queries
            if allowed:
                window[1] += 1
            remaining = self.queries - window[1]
        headers = {"x-ms-user-quota-remaining": str(remaining), "x-ms-user-quota-resets-after": format_resets_after(left),
                   # The recording carries ARM's tenant header with the same count (a service-specific limit, Learn).
                   "x-ms-ratelimit-remaining-tenant-resource-requests": str(remaining)}
        if allowed:
            return Decision(True, headers)
        wait = retry_after_seconds(left)
        headers["Retry-After"] = str(wait)
        return Decision(False, headers, wait, "RateLimiting",
                        "Client application has been throttled and should not attempt to repeat the request until an amount "
                        "of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help.")
