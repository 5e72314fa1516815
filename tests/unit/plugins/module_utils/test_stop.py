# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_azure/stop.py: a stop signal is seen from the moment it is sent (pending, blocked), by every thread, before its
handler runs; the transport refuses a write after it. The signal scenarios run in a fresh interpreter (signal.signal needs
the main thread, and a pending SIGINT must not reach pytest)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._azure import stop as _stop
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from tests.unit.builders import SUB

URL = 'https://management.example/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v' % SUB


def run(script):
    """Run ``script`` in a fresh interpreter with this one's import path; its stdout's lines."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    head = 'import os, signal, sys, threading\nfrom ansible_collections.vaultlock.azure.plugins.module_utils._azure import stop\n'
    done = subprocess.run([sys.executable, '-c', head + textwrap.dedent(script)], env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_unarmed_it_never_refuses():
    _stop.RunStop().refuse('PATCH', URL)


def test_a_signal_is_seen_by_every_thread_when_sent_and_reaches_its_handler_once_delivered():
    out = run('''
        calls = []
        signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
        before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        gate = stop.RunStop()
        previous = gate.arm()
        print('quiet', gate.requested())
        gate.refuse('PATCH', 'https://x/subscriptions/s/v')
        os.kill(os.getpid(), signal.SIGTERM)
        seen = []
        worker = threading.Thread(target=lambda: seen.append(gate.requested()))
        worker.start()
        worker.join()
        print('thread', seen[0], 'handler', len(calls))
        gate.refuse('GET', 'https://x/subscriptions/s/v')   # reads go on
        try:
            gate.refuse('PATCH', 'https://x/subscriptions/s/v?api-version=1')
            print('refused', False)
        except Exception as exc:
            print('refused', exc.code)
        gate.deliver()
        print('handler', len(calls), 'halted', gate.requested())
        gate.disarm(previous)
        print('mask', signal.pthread_sigmask(signal.SIG_BLOCK, []) == before)
    ''')
    assert out == ['quiet', 'False', 'thread', 'True', 'handler', '0', 'refused', 'RunStopped', 'handler', '1', 'halted', 'True',
                   'mask', 'True']


def test_a_signal_ignored_when_the_apply_starts_stops_nothing():
    # A shell's background job inherits SIGINT ignored: Ctrl-C never reached it, and the apply does not make it.
    out = run('''
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        gate = stop.RunStop()
        previous = gate.arm()
        os.kill(os.getpid(), signal.SIGINT)
        gate.refuse('PATCH', 'https://x/subscriptions/s/v')
        print('stopped', gate.requested())
        gate.disarm(previous)
    ''')
    assert out == ['stopped', 'False']


def _state(pid):
    """The process state letter /proc/<pid>/stat gives (T: stopped)."""
    with open('/proc/%d/stat' % pid, encoding='utf-8') as handle:
        return handle.read().rpartition(')')[2].split()[0]


def _wait_until(condition, seconds=30):
    """Poll ``condition`` until it holds or ``seconds`` pass (the caller asserts what it needs afterwards)."""
    deadline = time.time() + seconds
    while not condition() and time.time() < deadline:
        time.sleep(0.01)


def _assert_stop_seen(pid, signum):
    """A RunStop watching the controller ``pid`` says nothing until ``signum`` is sent to it, then says stop and refuses
    a write (within 30 s)."""
    gate = _stop.RunStop()
    previous = gate.arm(pid)
    try:
        assert not gate.requested()
        os.kill(pid, signum)
        _wait_until(gate.requested)
        assert gate.requested()
        with pytest.raises(AzureOperationError) as caught:
            gate.refuse('PUT', URL)
        assert caught.value.code == 'RunStopped'
    finally:
        gate.disarm(previous)


# The stand-in for ansible-playbook handles SIGINT itself, as ansible-playbook does, whatever it inherited: under a shell that
# ignores SIGINT (a `&` job of a script, nohup) a plain child would ignore it too, and a SIGINT sent to it would be dropped.
CONTROLLER = 'import signal, sys, time\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n'


def test_a_signal_waiting_in_the_controller_is_a_stop():
    # ansible-playbook (2.19) not yet scheduled to run its handler: the signal waits there, pending.
    controller = subprocess.Popen([sys.executable, '-c', CONTROLLER + 'print("ready", flush=True)\ntime.sleep(60)\n'],
                                  stdout=subprocess.PIPE, text=True)
    try:
        assert controller.stdout.readline().strip() == 'ready'
        os.kill(controller.pid, signal.SIGSTOP)
        # Stopped before the SIGINT is sent: a SIGINT that arrived first would be taken by its handler (lower signal
        # numbers are delivered first), and the test would then no longer be of a signal waiting, pending.
        _wait_until(lambda: _state(controller.pid) == 'T')
        assert _state(controller.pid) == 'T'
        _assert_stop_seen(controller.pid, signal.SIGINT)
    finally:
        os.kill(controller.pid, signal.SIGCONT)
        controller.wait()


def test_a_controller_whose_handler_ran_is_a_stop():
    # ansible-core 2.19's handler sets the signal back to its default action, then sends it on to the task process.
    script = CONTROLLER + ('signal.signal(signal.SIGUSR1, lambda signum, frame: signal.signal(signal.SIGINT, signal.SIG_DFL))\n'
                           'print("ready", flush=True)\n'
                           'time.sleep(60)\n')
    controller = subprocess.Popen([sys.executable, '-c', script], stdout=subprocess.PIPE, text=True)
    try:
        assert controller.stdout.readline().strip() == 'ready'
        _assert_stop_seen(controller.pid, signal.SIGUSR1)
    finally:
        controller.kill()
        controller.wait()


def test_a_controller_that_is_gone_is_a_stop_for_writes_only():
    # ansible-playbook killed with SIGKILL (a CI runner's last resort): no signal reaches the apply, its controller is gone.
    # A write whose step was decided while it was there is refused at the transport's last check, as after a Ctrl-C.
    controller = subprocess.Popen(['sleep', '60'])
    gate = _stop.RunStop()
    previous = gate.arm(controller.pid)
    try:
        assert not gate.requested()
        gate.refuse('PATCH', URL)
        controller.kill()
        controller.wait()   # reaped: the pid names no process any more
        assert gate.requested()
        with pytest.raises(AzureOperationError) as caught:
            gate.refuse('PATCH', URL)
        assert caught.value.code == 'RunStopped' and 'ansible-playbook is gone' in str(caught.value)
        gate.refuse('GET', URL)   # reads still go
    finally:
        gate.disarm(previous)
        if controller.poll() is None:
            controller.kill()
            controller.wait()


def test_the_transport_refuses_a_write_after_the_stop_whatever_the_pacer_says(emulator, monkeypatch):
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    from azure.core.rest import HttpRequest  # pylint: disable=import-outside-toplevel  # the SDK, as the session loads it
    session = AzureSession({'api_retries': 0})
    vault = '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v?api-version=2023-04-01' % SUB
    emulator.clear_journal()
    previous = _stop.STOP.arm()
    try:
        _stop.STOP.halt()
        with pytest.raises(AzureOperationError) as caught:
            session.arm().send_request(HttpRequest('PATCH', emulator.arm_url.rstrip('/') + vault, json={'tags': {}}))
        assert caught.value.code == 'RunStopped'
        session.arm().send_request(HttpRequest('GET', emulator.arm_url.rstrip('/') + vault))   # reads still go
    finally:
        _stop.STOP.disarm(previous)
    assert [entry['method'] for entry in emulator.journal()] == ['GET']
    assert not _stop.STOP.requested()
