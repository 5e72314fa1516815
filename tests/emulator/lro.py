# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress of long-running operations: how many polls answer ``InProgress`` before the terminal status.

Real operations take time; a client that polls after waiting ``Retry-After`` sees ``InProgress`` first
(recording: azure-cli test_vault_soft_delete_basic, the first operationStatus poll of a vault create answers
``{"status": "InProgress"}``). The emulator counts polls instead of seconds: every operation answers
``InProgress`` to its first ``lro_in_progress_polls`` polls (setting, default 1), so the SDKs' real polling
loop runs in every test. The resource itself changes when the request is accepted (assumed: a GET during the
operation already shows the new values).
"""
from __future__ import annotations

DEFAULT_IN_PROGRESS_POLLS = 1
DEFAULT_RETRY_AFTER = 0


def start(settings) -> int:
    """Polls the next operation answers InProgress to (settings ``lro_in_progress_polls``, at least 0)."""
    value = settings.get("lro_in_progress_polls")
    return max(0, int(DEFAULT_IN_PROGRESS_POLLS if value is None else value))


def retry_after(settings) -> str:
    """The Retry-After (seconds) sent with accepted writes and InProgress answers (setting ``lro_retry_after``)."""
    value = settings.get("lro_retry_after")
    return str(DEFAULT_RETRY_AFTER if value is None else value)


def poll(op, lock) -> bool:
    """Count one poll of ``op``; True while the operation is still running (this poll answers InProgress)."""
    with lock:
        left = int(op.get("polls_left") or 0)
        if left <= 0:
            return False
        op["polls_left"] = left - 1
        return True
