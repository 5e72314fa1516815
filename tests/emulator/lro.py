# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress of long-running operations: by the clock, as Azure's.

An operation answers ``InProgress`` (a Backup vault's: ``Inprogress``, recorded) until its ``Retry-After`` has passed
since it was accepted, then its final status.
Sources: the ARM async-operation contract (Learn, async-operations: the client waits ``Retry-After`` seconds before
it polls the status URL); recordings: azure-cli test_vault_soft_delete_basic polled a vault create at once and saw
``{"status": "InProgress"}``, while the dataprotection extension (test_dataprotection_backup_vault_update) waited
before each poll and saw ``Succeeded`` on its first poll every time (the operation's startTime and endTime are less
than a second apart). How long an operation really takes is not published: the emulator lets it take exactly the
``Retry-After`` it sends (setting ``lro_retry_after``, default 0), which is **assumed**.

With the default ``Retry-After: 0`` an operation has finished by the first poll, so the collection's tests stay fast
(the collection honours an explicit 0, ``_client.honour_zero_retry_after``). Tests of a running operation set
``lro_retry_after`` and freeze and advance the emulator's clock (control ``POST clock``, the clock throttling uses)
instead of sleeping. The resource itself changes when the request is accepted (assumed: a GET during the operation
already shows the new values), and while a vault's write runs the vault reads provisioningState Provisioning or Updating
(arm.Arm.vault_view says which and from which source).
"""
from __future__ import annotations

from .throttle import to_ns

DEFAULT_RETRY_AFTER = 0


def retry_after_s(settings) -> float:
    """The Retry-After (seconds) of the next accepted operation (setting ``lro_retry_after``, at least 0)."""
    value = settings.get("lro_retry_after")
    return max(0.0, float(DEFAULT_RETRY_AFTER if value is None else value))


def _header(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def retry_after(settings) -> str:
    """The Retry-After header sent with an accepted write (setting ``lro_retry_after``)."""
    return _header(retry_after_s(settings))


def start(settings, clock) -> dict:
    """What an operation accepted now records about its progress: when it was accepted (the clock's nanoseconds, so that
    moving the clock by the Retry-After ends it exactly), and its Retry-After."""
    return {"accepted_ns": clock.now_ns(), "retry_after_s": retry_after_s(settings)}


def op_retry_after(op) -> str:
    """The Retry-After header of an InProgress answer: the one the operation was accepted with."""
    return _header(op.get("retry_after_s") or 0)


def running(op, clock) -> bool:
    """True while ``op`` is still running: its Retry-After has not yet passed since it was accepted."""
    return clock.now_ns() < ends_ns(op)


def ends_ns(op) -> int:
    """The clock's nanoseconds at which ``op`` ends: accepted, plus its Retry-After."""
    return int(op.get("accepted_ns") or 0) + to_ns(op.get("retry_after_s") or 0.0)
