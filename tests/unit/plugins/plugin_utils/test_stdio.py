# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_stdio.worker_stdio: a thread's write to stdout or stderr in a task's worker never waits on the display lock."""

from __future__ import annotations

import contextlib
import io
import sys
import threading

import pytest

from ansible_collections.vaultlock.azure.plugins.plugin_utils import _stdio

from tests.unit.builders import LockedStream


@contextlib.contextmanager
def worker_as_forked():
    """sys.stdout and sys.stderr as a forked worker has them before 2.19: their lock held by the main thread for good.

    Set inside the test (pytest's own capture sets the streams again between a fixture and the test)."""
    lock = threading.RLock()
    lock.acquire()      # held by this (the main) thread, as the fork left it; no other thread can take it
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = LockedStream(lock), LockedStream(lock)
    try:
        yield sys.stdout, sys.stderr
    finally:
        sys.stdout, sys.stderr = saved
        lock.release()


def warn_in_a_thread():
    """Writes a warning and a line from another thread, as urllib3 does for an unverified HTTPS request."""
    def write():
        # What warnings.showwarning writes for urllib3 (pytest records warnings itself, so written here directly).
        sys.stderr.write('InsecureRequestWarning: Unverified HTTPS request is being made to host\n')
        sys.stdout.write('a line on stdout\n')
    thread = threading.Thread(target=write)
    thread.start()
    thread.join()


def test_the_stand_in_hangs_a_writing_thread():
    """Without worker_stdio, the thread waits for the lock (what hung harden_apply on ansible-core 2.17)."""
    with worker_as_forked() as (stdout, stderr):
        warn_in_a_thread()
    assert (stdout.blocked, stderr.blocked) == (1, 1) and stdout.parts == stderr.parts == []


def test_a_thread_writes_and_its_text_becomes_a_warning():
    with worker_as_forked() as (stdout, stderr):
        with _stdio.worker_stdio() as written:
            assert sys.stdout is not stdout and sys.stderr is not stderr
            warn_in_a_thread()
        assert stdout.blocked == stderr.blocked == 0
        assert (sys.stdout, sys.stderr) == (stdout, stderr)
    assert len(written) == 2
    assert written[0] == 'written to stdout while the task ran: a line on stdout'
    assert written[1].startswith('written to stderr while the task ran: ') and 'Unverified HTTPS request' in written[1]


def test_long_output_is_cut_and_silence_gives_no_warning():
    with worker_as_forked(), _stdio.worker_stdio() as written:
        sys.stderr.write('x' * 1000)
    assert written == ['written to stderr while the task ran: ' + 'x' * _stdio.SHOWN]
    with worker_as_forked(), _stdio.worker_stdio() as quiet:
        pass
    assert quiet == []


def test_streams_a_worker_owns_already_are_left_alone():
    """ansible-core 2.19's worker: its streams are io.StringIO already, and Ansible warns about what they hold."""
    saved = sys.stdout, sys.stderr
    out, err = io.StringIO(), io.StringIO()
    sys.stdout, sys.stderr = out, err
    try:
        with _stdio.worker_stdio() as written:
            same = (sys.stdout, sys.stderr) == (out, err)
            sys.stderr.write('kept for Ansible')
    finally:
        sys.stdout, sys.stderr = saved
    assert same and written == [] and err.getvalue() == 'kept for Ansible'


def test_the_streams_come_back_when_the_work_fails():
    with worker_as_forked() as (stdout, stderr):
        with pytest.raises(RuntimeError):
            with _stdio.worker_stdio():
                raise RuntimeError('boom')
        assert (sys.stdout, sys.stderr) == (stdout, stderr)
