# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Standard output and error of a task's worker while the collection's threads run in it.

ansible-core before 2.19 forks a task's worker while its main thread holds the display lock, and wraps the writes to
``sys.stdout`` and ``sys.stderr`` with that lock (``ansible.utils.display._synchronize_textiowrapper``, "a background
thread can't hold the internal buffer lock on a file object during a fork"). In the forked worker the lock stays held
by the main thread, which never leaves the ``with`` block in that process: any other thread that writes to either
stream waits forever. The collection's actions run threads in the worker (harden_apply's vaults, discovery's
subscriptions); a Python warning written by one of them (urllib3's ``InsecureRequestWarning`` with
``cert_validation_mode: ignore``, say) hung the task on ansible-core 2.17.

ansible-core 2.19 gives every worker an ``io.StringIO`` for each stream and warns about what was written there. While
the collection works in the worker, ``worker_stdio`` does the same where the worker still writes to the real streams,
and hands back what was written, for the task's warnings.
"""

from __future__ import annotations

import contextlib
import io
import sys

# How much of what was written becomes the task's warning (ansible-core 2.19's worker shows 256 characters too).
SHOWN = 256


@contextlib.contextmanager
def worker_stdio():
    """``sys.stdout`` and ``sys.stderr`` as ``io.StringIO`` while the block runs (unless they are already), restored after.

    Yields a list that holds, after the block, one warning text for each stream something was written to.
    """
    warnings = []
    if isinstance(sys.stdout, io.StringIO) and isinstance(sys.stderr, io.StringIO):
        yield warnings      # ansible-core 2.19 and later: the worker's streams are its own already
        return
    saved = sys.stdout, sys.stderr
    streams = {'stdout': io.StringIO(), 'stderr': io.StringIO()}
    sys.stdout, sys.stderr = streams['stdout'], streams['stderr']
    try:
        yield warnings
    finally:
        sys.stdout, sys.stderr = saved
        for name, stream in streams.items():
            text = stream.getvalue()
            if text:
                warnings.append('written to %s while the task ran: %s' % (name, text[:SHOWN].rstrip()))


def add_warnings(result, written):
    """``result`` with what ``worker_stdio`` handed back appended to its ``warnings``."""
    if written:
        result['warnings'] = list(result.get('warnings') or []) + written
    return result
