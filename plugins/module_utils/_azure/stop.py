# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Whether the run was told to stop (Ctrl-C, SIGTERM), known the moment the signal is sent rather than when a Python
handler gets to run, and the last check before a write leaves this process.

A Python signal handler runs in the main thread, between two bytecodes, once that thread holds the interpreter lock: on
a loaded machine that was up to 0.45 s after the signal, and a thread of harden_apply sent a write in that time. So,
while ``STOP`` is armed (harden_apply, _harden_apply.PlanApplier.apply), SIGINT and SIGTERM are blocked in the thread
that armed it and in every thread and process it starts afterwards: the kernel keeps a signal sent to the process pending,
and every thread sees it (``signal.sigpending``) from the moment it was sent. The main thread looks every STOP_POLL_S,
halts the apply (``halt``: from then on the answer is yes without the pending signal) and unblocks the signals, so the
handler that was there (ansible-core's) runs as before.

ansible-core 2.19 starts the task process in a session of its own: a Ctrl-C reaches ansible-playbook, whose handler sends
it on. With ``controller`` (ansible-playbook's pid), the stop is also seen while the signal waits in ansible-playbook
(pending, on Linux through /proc) and once its handler has run (2.19's handler sets the signal back to its default
action before it sends it on, so ansible-playbook no longer catches a signal it caught when the apply started). Not seen:
the moment between ansible-playbook's thread taking the signal (its C-level handler ran, nothing is pending any more) and
its Python handler running, normally that thread's next bytecode.

``refuse(method, url)`` is that check for one request; the session's transport calls it right before a request goes on
the wire (transport.pooled_transport), so a write is refused after the stop however long the pipeline took before.
A signal ignored when the apply started (SIG_IGN, as a shell's background job inherits SIGINT) is not watched: it stops
nothing, as before. Reads are never refused: a stopped apply still reads what it needs to say truthfully what it did.
"""

from __future__ import annotations

import os
import signal
import threading

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError

WATCHED = (signal.SIGINT, signal.SIGTERM)
WRITE_METHODS = ('PUT', 'PATCH', 'POST', 'DELETE')
# How often a waiting main thread looks whether a watched signal is pending (it halts and lets the handler run then).
STOP_POLL_S = 0.05
STOPPED_CODE = 'RunStopped'


def _status_masks(pid):
    """{'pending': signals pending for process ``pid`` (its own and its main thread's), 'caught': signals it handles}
    from /proc/<pid>/status, or None where that cannot be read (no /proc, the process is gone)."""
    try:
        with open('/proc/%d/status' % pid, 'r', encoding='ascii', errors='replace') as stream:
            text = stream.read()
    except (OSError, ValueError):
        return None
    fields = {}
    for line in text.splitlines():
        name, _sep, value = line.partition(':')
        if name in ('ShdPnd', 'SigPnd', 'SigCgt'):
            try:
                fields[name] = int(value.strip(), 16)
            except ValueError:
                return None
    if len(fields) != 3:
        return None
    return {'pending': _signals(fields['ShdPnd'] | fields['SigPnd']), 'caught': _signals(fields['SigCgt'])}


def _signals(mask):
    """The watched signals set in a /proc signal mask (bit n-1 is signal n)."""
    return frozenset(sig for sig in WATCHED if mask >> (int(sig) - 1) & 1)


def process_alive(pid):
    """Whether process ``pid`` still exists (a process of another user with that pid means it was reused: gone; a pid
    no process can have, one past the kernel's range, is gone too)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError, OverflowError):
        return False
    return True


class RunStop:
    """The stop of one process (``STOP``). Unarmed (modules, discovery) it never says stop and costs nothing."""

    def __init__(self):
        self._halted = threading.Event()
        self._signals = frozenset()
        self._controller = None
        self._caught = frozenset()

    def arm(self, controller=None):
        """Watch SIGINT and SIGTERM (those not ignored) and ``controller``'s; block them in this thread (the threads and
        processes it starts inherit that). Returns what ``disarm`` takes."""
        self._halted.clear()
        self._signals = frozenset(sig for sig in WATCHED if signal.getsignal(sig) != signal.SIG_IGN)
        self._controller = controller
        masks = _status_masks(controller) if controller is not None else None
        self._caught = masks['caught'] if masks else frozenset()
        return signal.pthread_sigmask(signal.SIG_BLOCK, self._signals)

    def disarm(self, previous):
        """Stop watching (the apply's threads have ended); the signal mask as it was: a signal pending now is delivered to its
        handler at once."""
        self._signals = frozenset()
        self._controller = None
        self._halted.clear()
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def deliver(self):
        """Halt, then unblock the watched signals in this thread: a pending one goes to its handler now (ansible-core's:
        the process group ends, or KeyboardInterrupt is raised here)."""
        self._halted.set()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, WATCHED)

    def halt(self):
        self._halted.set()

    def signalled(self):
        """Whether a watched signal is pending for this process, or reached the controller (ansible-playbook), or the
        controller is gone."""
        if self._signals and not self._signals.isdisjoint(signal.sigpending()):
            return True
        if self._controller is None:
            return False
        masks = _status_masks(self._controller)
        if masks is None:
            # Unreadable, or gone: a controller that is gone (ansible-playbook killed with SIGKILL) is a stop too, here at the
            # transport's last check before a write leaves, not only before each vault and step (PlanApplier.stopped).
            return not process_alive(self._controller)
        return bool(masks['pending']) or bool(self._caught - masks['caught'])

    def requested(self):
        """Whether the run was told to stop. The pending signal is looked at before the halt: ``deliver`` halts before it
        unblocks, so a signal taken off the pending set has always halted first."""
        return self.signalled() or self._halted.is_set()

    def armed(self):
        return bool(self._signals) or self._controller is not None or self._halted.is_set()

    def refuse(self, method, url):
        """Raise AzureOperationError (RunStopped) for a write or delete once the run was told to stop."""
        if str(method).upper() not in WRITE_METHODS or not self.armed():
            return
        if self.requested():
            raise AzureOperationError('send %s %s' % (method, str(url).split('?', maxsplit=1)[0]), None, None, STOPPED_CODE,
                                      'the run was stopped (Ctrl-C, a signal, or ansible-playbook is gone) before this write: it was '
                                      'not sent')


# The process's one stop: every session's transport of this process checks it.
STOP = RunStop()
