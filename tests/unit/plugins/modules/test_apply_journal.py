# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/_apply_journal.py: the apply journal written vault by vault (in this process and by forked worker
processes), what the next harden_plan says of it and where it keeps it, and harden_report removing only its own run's."""

from __future__ import annotations

import datetime
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from ansible_collections.vaultlock.azure.plugins.action.harden_apply import start_run_journal
from ansible_collections.vaultlock.azure.plugins.plugin_utils._apply_journal import (
    CLAIM,
    JOURNAL,
    ApplyJournal,
    ClaimNotWritten,
    PlanSuperseded,
    applying,
    claim_applied,
    claim_plans,
    claim_reported,
    claim_run,
    earlier_apply_warning,
    later_reports,
    live_claim,
    live_owner,
    owner_alive,
    read_claim,
    read_journal,
    refuse_stale_plan,
    refuse_while_applying,
    release_claim,
    remove_journal,
    run_owner,
    same_owner,
    set_aside,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_apply import PlanApplier
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import apply_summary

from tests.unit.plugins.modules.conftest import FakeSession
from tests.unit.plugins.modules.test_harden_apply import LOCK, REQUIREMENTS, plan
from tests.unit.plugins.modules.test_harden_apply_processes import SUBS, fleet

PLAN = 'a' * 32
NOW = datetime.datetime(2026, 12, 6, 23, 50, 1, tzinfo=datetime.timezone.utc)


def lines(path):
    with open(path, encoding='utf-8') as handle:
        return [json.loads(text) for text in handle]


@pytest.mark.parametrize('processes', [1, 2])
def test_every_vault_is_journalled_as_it_starts_and_settles_with_the_changes_it_made(azure, tmp_path, processes):
    fleet(azure)
    session = FakeSession({}, subscriptions=SUBS, azure=azure)
    drift = plan(azure, session)
    todo = [entry for entry in drift if entry.get('changes')]
    journal, kept = ApplyJournal.start(str(tmp_path), PLAN, len(todo))
    applier = PlanApplier(session, LOCK, REQUIREMENTS, True, max_concurrency=4, processes=processes,
                          session_factory=lambda: FakeSession({}, subscriptions=SUBS, azure=azure), journal=journal)
    done = applier.apply(drift)
    journal.ended(apply_summary(done))
    journal.close()
    assert kept is None and journal.error is None
    header, vaults, ended, bad = read_journal(str(tmp_path / JOURNAL))
    assert header['plan'] == PLAN and header['vaults'] == 9 and bad == 0
    assert ended['vaults_changed'] == 9 and ended['vaults_failed'] == 0
    # One started and one settled line a vault: with 2 processes, written by the worker process that applied it.
    events = [(line['event'], line['id']) for line in lines(tmp_path / JOURNAL)[1:-1]]
    assert sorted(events) == sorted([(event, entry['id']) for entry in todo for event in ('started', 'settled')])
    for entry in todo:
        state = vaults[entry['id'].lower()]
        made = [change for rows in done['results'].values() for result in rows if result['id'] == entry['id'] for change in result['changes']]
        assert state['outcome'] == 'changed' and state['name'] == entry['name']
        assert sorted(json.dumps(c, sort_keys=True) for c in state['changes']) == sorted(json.dumps(c, sort_keys=True) for c in made)
        assert any(change.get('setting') == 'immutability' and change.get('after') == 'locked' for change in state['changes'])
    assert os.stat(tmp_path / JOURNAL).st_mode & 0o777 == 0o644 & ~current_umask()


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_vault_its_worker_process_did_not_report_is_journalled_unknown(azure, tmp_path):
    fleet(azure)
    session = FakeSession({}, subscriptions=SUBS, azure=azure)
    drift = plan(azure, session)
    journal, _kept = ApplyJournal.start(str(tmp_path), PLAN, 9)

    def dies():
        os._exit(3)  # pylint: disable=protected-access

    PlanApplier(session, LOCK, REQUIREMENTS, True, max_concurrency=4, processes=2, session_factory=dies, journal=journal).apply(drift)
    journal.close()
    _header, vaults, ended, _bad = read_journal(str(tmp_path / JOURNAL))
    assert ended is None and len(vaults) == 9
    assert all(state['outcome'] == 'unknown' for state in vaults.values())


def write_journal(directory, states, ended=False, extra=''):
    with open(os.path.join(directory, JOURNAL), 'w', encoding='utf-8') as handle:
        handle.write(json.dumps({'journal': 'vaultlock.azure harden_apply', 'format': 1, 'plan': PLAN,
                                 'started_at': '2026-12-06T23:40:00.000000Z', 'vaults': len(states)}) + '\n')
        for number, outcome in enumerate(states):
            vault_id = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v%02d' % number
            handle.write(json.dumps({'event': 'started', 'id': vault_id, 'name': 'v%02d' % number}) + '\n')
            if outcome:
                handle.write(json.dumps({'event': 'settled', 'id': vault_id, 'name': 'v%02d' % number, 'outcome': outcome,
                                         'changes': [{'setting': 'soft_delete', 'before': 'off', 'after': 'on'}]}) + '\n')
        if ended:
            handle.write(json.dumps({'event': 'ended', 'vaults_changed': 1}) + '\n')
        handle.write(extra)


def test_the_next_plan_says_what_the_interrupted_apply_did_and_keeps_the_journal_aside(tmp_path):
    # 25 changed, one failed, one settled unknown, one started and never settled, then a line cut off by the stop.
    write_journal(str(tmp_path), ['changed'] * 25 + ['failed', 'unknown', None], extra='{"event": "sett')
    warning = earlier_apply_warning(str(tmp_path), NOW)
    assert warning.startswith('an earlier harden_apply into this report directory (started 2026-12-06T23:40:00.000000Z) was '
                              'interrupted')
    assert 'it changed 25 vault(s): v00, v01, ' in warning and 'v19 and 5 more;' in warning and 'v20' not in warning
    assert '2 vault(s) were being changed when it stopped, whether they changed is unknown: v26, v27;' in warning
    assert '1 vault(s) failed: v25;' in warning
    assert '1 line(s) of its journal could not be read' in warning
    assert 'is kept as apply-journal.20261206T235001Z.jsonl' in warning
    assert sorted(os.listdir(tmp_path)) == ['apply-journal.20261206T235001Z.jsonl']
    # Said once: the plan after it finds no journal.
    assert earlier_apply_warning(str(tmp_path), NOW) is None


def test_a_check_mode_plan_says_so_and_moves_nothing(tmp_path):
    """Check mode writes nothing of Azure and keeps the evidence where the real run's plan will find it and say it again."""
    write_journal(str(tmp_path), ['changed', 'unknown'])
    for _attempt in range(2):
        warning = earlier_apply_warning(str(tmp_path), NOW, check_mode=True)
        assert 'was interrupted' in warning and 'it changed 1 vault(s): v00;' in warning
        assert 'stays where it is (check mode)' in warning
        assert sorted(os.listdir(tmp_path)) == ['apply-journal.jsonl']
    assert 'is kept as apply-journal.20261206T235001Z.jsonl' in earlier_apply_warning(str(tmp_path), NOW)


def test_a_journal_of_an_apply_that_ended_without_its_reports_is_said_so(tmp_path):
    write_journal(str(tmp_path), ['changed', 'unchanged'], ended=True)
    warning = earlier_apply_warning(str(tmp_path), NOW)
    assert 'finished its writes but its reports were not written: it changed 1 vault(s): v00;' in warning
    assert 'unknown' not in warning


def test_a_kept_journal_is_never_overwritten(tmp_path):
    for _number in range(3):
        write_journal(str(tmp_path), ['changed'])
        set_aside(str(tmp_path), NOW)
    assert sorted(os.listdir(tmp_path)) == ['apply-journal.20261206T235001Z-2.jsonl', 'apply-journal.20261206T235001Z-3.jsonl',
                                            'apply-journal.20261206T235001Z.jsonl']


def stamp(when):
    return when.strftime('%Y%m%dT%H%M%SZ')


def test_only_the_newest_ten_kept_journals_stay(tmp_path):
    """Keeping one more journal aside removes the oldest beyond the newest ten, by the time and number in their names;
    files not named as a kept journal, and anything that is not a regular file, are never touched."""
    directory = str(tmp_path)
    older = [NOW - datetime.timedelta(minutes=minutes) for minutes in range(12, 0, -1)]   # the oldest first
    for when in older:
        write_journal(directory, ['changed'])
        set_aside(directory, when)
    write_journal(directory, ['changed'])
    set_aside(directory, older[-1])   # the same second as the newest: its name carries -2, and it is newer
    os.mkdir(os.path.join(directory, 'apply-journal.20000101T000000Z.jsonl'))
    os.symlink('drift.json', os.path.join(directory, 'apply-journal.20000101T000001Z.jsonl'))
    for name in ('apply-journal.jsonl.bak', 'apply-journal.notes.jsonl', 'drift.json'):
        with open(os.path.join(directory, name), 'w', encoding='utf-8') as handle:
            handle.write('{}')
    write_journal(directory, ['changed'])
    kept = set_aside(directory, NOW)
    journals = ['apply-journal.%s.jsonl' % stamp(when) for when in older[-8:]] + [
        'apply-journal.%s-2.jsonl' % stamp(older[-1]), kept]
    assert kept == 'apply-journal.%s.jsonl' % stamp(NOW)
    assert sorted(os.listdir(directory)) == sorted(journals + [
        'apply-journal.20000101T000000Z.jsonl', 'apply-journal.20000101T000001Z.jsonl', 'apply-journal.jsonl.bak',
        'apply-journal.notes.jsonl', 'drift.json'])
    assert len(journals) == 10


def test_a_new_apply_keeps_an_earlier_journal_aside(tmp_path):
    write_journal(str(tmp_path), ['changed'])
    journal, kept = ApplyJournal.start(str(tmp_path), 'b' * 32, 1)
    journal.close()
    assert kept.startswith('apply-journal.') and kept != JOURNAL
    assert read_journal(str(tmp_path / JOURNAL))[0]['plan'] == 'b' * 32
    assert read_journal(str(tmp_path / kept))[0]['plan'] == PLAN


@pytest.mark.parametrize('how', ['directory', 'symlink'])
def test_a_journal_that_cannot_be_read_is_said_without_a_traceback(tmp_path, how):
    path = tmp_path / JOURNAL
    if how == 'directory':
        path.mkdir()
    else:
        (tmp_path / 'elsewhere').write_text('secret', encoding='utf-8')
        path.symlink_to(tmp_path / 'elsewhere')
    warning = earlier_apply_warning(str(tmp_path), NOW)
    assert 'was found in the report directory, but it could not be read' in warning
    assert 'it is kept as apply-journal.20261206T235001Z.jsonl' in warning
    assert (tmp_path / 'elsewhere').exists() or how == 'directory'


def test_harden_report_removes_only_its_own_runs_journal(tmp_path):
    write_journal(str(tmp_path), ['changed'])
    assert remove_journal(str(tmp_path), 'b' * 32) is False and (tmp_path / JOURNAL).exists()
    assert remove_journal(str(tmp_path), PLAN) is True and not (tmp_path / JOURNAL).exists()
    assert remove_journal(str(tmp_path), PLAN) is False


def test_a_journal_write_that_fails_is_remembered_not_raised(tmp_path):
    if not os.path.exists('/dev/full'):
        pytest.skip('no /dev/full')
    journal = ApplyJournal(os.open('/dev/full', os.O_WRONLY), '/dev/full')
    journal.started({'id': 'x', 'name': 'x'})
    journal.close()
    assert journal.error is not None and journal.error.errno == 28


def _within(seconds, call):
    """``call()`` in a thread; fails the test when it has not returned after ``seconds`` (a FIFO's open blocks)."""
    import threading   # pylint: disable=import-outside-toplevel
    done = {}
    thread = threading.Thread(target=lambda: done.update(value=call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert 'value' in done, 'still blocked after %ss' % seconds
    return done['value']


def test_a_fifo_in_place_of_the_journal_neither_blocks_the_plan_nor_the_report(tmp_path):
    os.mkfifo(str(tmp_path / JOURNAL))
    assert _within(5, lambda: remove_journal(str(tmp_path), 'p1')) is False
    warning = _within(5, lambda: earlier_apply_warning(str(tmp_path)))
    assert 'could not be read' in warning and 'not a regular file' in warning, warning


def test_a_hand_edited_journal_is_read_bounded_and_shown_escaped(tmp_path):
    lines = [json.dumps({'journal': 'vaultlock.azure harden_apply', 'plan': 'p1', 'started_at': 'x\u202eevil\x1b[2J'}),
             '[' * 200000,                                   # nested past the parser's recursion limit
             '"' + 'a' * (3 * 1024 * 1024) + '"',            # one huge line
             json.dumps({'event': 'settled', 'id': '/v/1', 'name': 'rsv\u202e1\n\x1b[31m' + 'n' * 5000, 'outcome': 'changed'}),
             json.dumps({'event': 'settled', 'id': '/v/2', 'name': {'not': 'text'}, 'outcome': 'changed'})]
    (tmp_path / JOURNAL).write_text('\n'.join(lines) + '\n')
    warning = earlier_apply_warning(str(tmp_path))
    assert '\u202e' not in warning and '\x1b' not in warning and '\n' not in warning, warning
    assert '\\u202e' in warning and '2 line(s) of its journal could not be read' in warning, warning
    assert len(warning) < 2000


def test_a_journal_held_by_a_live_apply_is_refused_and_never_moved_and_its_end_frees_it(tmp_path):
    """An apply holds its journal locked while any of its processes lives (here a forked process stands for a worker
    process of it): a plan in check mode or for real, another apply and a report into that directory are refused naming it,
    the journal stays where it is; once the process is killed (SIGKILL: no Python runs), the next plan calls it
    interrupted and keeps it aside, as before."""
    journal, _kept = ApplyJournal.start(str(tmp_path), PLAN, 1)
    pid = os.fork()
    if pid == 0:    # the worker process: it inherited the journal, and with it the lock
        try:
            journal.started({'id': '/v/1', 'name': 'rsv-1'})
            time.sleep(60)
        finally:
            os._exit(0)  # pylint: disable=protected-access
    journal.close()     # the task process's own hold gone: the worker process still holds the lock
    try:
        for call in (lambda: earlier_apply_warning(str(tmp_path), NOW, check_mode=True),
                     lambda: earlier_apply_warning(str(tmp_path), NOW),
                     lambda: ApplyJournal.start(str(tmp_path), 'b' * 32, 1)):
            with pytest.raises(InputError, match=r"^harden_(plan|apply) refused: another run's harden_apply is applying into the report "
                                                 r"directory '%s' right now \(it holds its apply-journal.jsonl there, started 20"
                                                 % re.escape(str(tmp_path))):
                call()
        with pytest.raises(InputError, match=r"^harden_report refused: .*; no report was written$"):
            refuse_while_applying(str(tmp_path), 'harden_report')
        assert os.listdir(tmp_path) == [JOURNAL]
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert applying(str(tmp_path)) is None
    warning = earlier_apply_warning(str(tmp_path), NOW)
    assert 'was interrupted' in warning and 'is kept as apply-journal.20261206T235001Z.jsonl' in warning, warning
    assert os.listdir(tmp_path) == ['apply-journal.20261206T235001Z.jsonl']


@pytest.fixture(name='other_run')
def other_run_fixture():
    """A live process standing for another run's ansible-playbook; killed at the end of the test."""
    process = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])  # pylint: disable=consider-using-with
    try:
        # The messages name its command line: wait until /proc shows it (right after the fork it can still read empty under
        # load, and the message then rightly says 'a command this host does not show').
        deadline = time.monotonic() + 10
        while b'time.sleep(120)' not in _cmdline(process.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        yield process
    finally:
        process.kill()
        process.wait()


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return handle.read()
    except OSError:
        return b''


def ended_journal(report_dir, owner):
    """The journal of an apply that ended (its lock dropped) and whose run has not written its reports."""
    journal, _kept = ApplyJournal.start(report_dir, PLAN, 1, owner)
    journal.started({'id': '/v/1', 'name': 'rsv-1'})
    journal.settled({'id': '/v/1', 'name': 'rsv-1'}, [('soft_delete', {'changed': True})])
    journal.ended({'vaults_changed': 1, 'vaults_failed': 0})
    journal.close()


def test_a_run_owner_is_alive_while_its_process_is_and_a_reused_pid_is_not_it(other_run):
    owner = run_owner(other_run.pid)
    assert owner['pid'] == other_run.pid and owner['host'] == socket.gethostname() and isinstance(owner['started'], int)
    assert owner_alive(owner) and same_owner(owner, run_owner(other_run.pid))
    # The same pid started at another time (the kernel gave the pid to another process), on another host, another boot.
    for changed in ({'started': owner['started'] + 1}, {'host': owner['host'] + '-other'}, {'boot': 'another-boot'}):
        assert not owner_alive(dict(owner, **changed)), changed
    for bad in (None, {}, 'text', dict(owner, pid=True), dict(owner, pid=0), dict(owner, pid='1')):
        assert not owner_alive(bad), bad
    # This process's parent by default, as an action plugin's worker process sees ansible-playbook.
    assert run_owner()['pid'] == os.getppid()
    other_run.kill()
    other_run.wait()
    assert not owner_alive(owner)


def other_runs_tasks(tmp_path, me, first_plan):
    """(task, call) of another run's harden_plan (``first_plan``, then its check for an earlier apply), harden_apply and
    harden_report on the report directory ``tmp_path``, as the run ``me``."""
    return (('harden_plan', first_plan),
            ('harden_plan', lambda: earlier_apply_warning(str(tmp_path), NOW, me=me)),
            ('harden_apply', lambda: ApplyJournal.start(str(tmp_path), 'b' * 32, 1, me)),
            ('harden_report', lambda: refuse_while_applying(str(tmp_path), 'harden_report', me)))


def test_a_journal_whose_run_has_not_written_its_reports_is_refused_by_another_run_while_that_run_lives(tmp_path, other_run):
    """The apply ended (no lock), its run's ansible-playbook is alive and has not run its harden_report: another run's plan
    in check mode and for real, apply and report are refused naming the directory; the journal stays where it is. The same
    run is not refused. Once that process is gone, the next plan says what the apply did and keeps the journal aside."""
    owner = run_owner(other_run.pid)
    ended_journal(str(tmp_path), owner)
    assert applying(str(tmp_path)) is None
    me = run_owner(os.getpid())
    calls = other_runs_tasks(tmp_path, me, lambda: earlier_apply_warning(str(tmp_path), NOW, check_mode=True, me=me))
    for task, call in calls:
        with pytest.raises(InputError) as raised:
            call()
        assert str(raised.value).startswith("%s refused: a run of the report directory '%s' has not written its reports yet: its "
                                            "harden_apply (started 20" % (task, tmp_path)), str(raised.value)
        assert ('ansible-playbook (pid %d on this host: %s -c ' % (other_run.pid, sys.executable)) in str(raised.value)
        assert ') is still running and has not run its harden_report' in str(raised.value)
        assert str(raised.value).endswith('no report was written' if task == 'harden_report' else 'nothing was sent to Azure')
        assert os.listdir(tmp_path) == [JOURNAL]
    # The run that wrote it: its own report is not refused.
    refuse_while_applying(str(tmp_path), 'harden_report', owner)
    assert live_owner(str(tmp_path), owner) is None and live_owner(str(tmp_path), me)[0] == owner
    other_run.kill()
    other_run.wait()
    warning = earlier_apply_warning(str(tmp_path), NOW, me=me)
    assert ('(started 20' in warning and ', by ansible-playbook pid %d, which has ended) finished its writes but its reports were '
            'not written: it changed 1 vault(s): rsv-1;' % other_run.pid) in warning, warning
    assert os.listdir(tmp_path) == ['apply-journal.20261206T235001Z.jsonl']


def test_a_journal_of_a_reused_pid_another_host_or_no_owner_is_an_earlier_apply_s(tmp_path, other_run):
    """Only a live owner on this host refuses: the same pid started at another time, a journal written on another host (this
    host cannot look at its process: said in the warning) and one without an owner (an earlier version) are kept aside."""
    owner = run_owner(other_run.pid)
    me = run_owner(os.getpid())
    for number, (written, said) in enumerate(((dict(owner, started=owner['started'] + 1), 'which has ended'),
                                              (dict(owner, host='ci-runner-7'), 'on host ci-runner-7, which this host cannot look at'),
                                              (None, 'started 20'))):
        report_dir = tmp_path / str(number)
        report_dir.mkdir()
        ended_journal(str(report_dir), written)
        assert (written is None) == ('owner' not in read_journal(str(report_dir / JOURNAL))[0])
        warning = earlier_apply_warning(str(report_dir), NOW, me=me)
        assert said in warning and 'is kept as apply-journal.20261206T235001Z.jsonl' in warning, warning
    # The same run's own journal (its report did not run, the role imported again): said as this run's.
    report_dir = tmp_path / 'same'
    report_dir.mkdir()
    ended_journal(str(report_dir), me)
    assert ', by this ansible-playbook run) finished its writes' in earlier_apply_warning(str(report_dir), NOW, me=me)


def test_a_hand_made_owner_of_a_live_unrelated_process_is_refused_with_how_to_clear_it(tmp_path, other_run):
    """A header written by whoever can write the report directory, naming a live process that is no run of it (pid 1, or
    any process whose start time can be read from /proc): another run is refused while that process lives, which may be
    for good. The refusal names the process's command line, so the operator sees it is no ansible-playbook, and says how
    to clear it: remove the journal (its path given) and run again. Before, it said only to wait or use another directory."""
    owner = run_owner(other_run.pid)
    journal = tmp_path / JOURNAL
    journal.write_text(json.dumps({'journal': 'vaultlock.azure harden_apply', 'plan': PLAN, 'started_at': '2026-12-07',
                                   'owner': owner}) + '\n', encoding='utf-8')
    me = run_owner(os.getpid())
    for call in (lambda: earlier_apply_warning(str(tmp_path), NOW, me=me), lambda: ApplyJournal.start(str(tmp_path), 'b' * 32, 1, me),
                 lambda: refuse_while_applying(str(tmp_path), 'harden_report', me)):
        with pytest.raises(InputError) as raised:
            call()
        message = str(raised.value)
        assert "(pid %d on this host: %s" % (other_run.pid, sys.executable) in message, message
        assert ("If pid %d is no ansible-playbook run into this report directory, the journal was left or written by something "
                "else: remove '%s' and run again;" % (other_run.pid, journal)) in message, message
        assert os.listdir(tmp_path) == [JOURNAL]
    # Cleared as the message says: the next plan finds no journal.
    journal.unlink()
    assert earlier_apply_warning(str(tmp_path), NOW, me=me) is None


def test_a_run_s_claim_refuses_another_run_s_plan_apply_and_report_while_its_owner_lives(tmp_path, other_run):
    """A run's harden_plan claims the report directory (check mode too) naming its ansible-playbook as the journal's header
    does; until its harden_report releases it, another run's plan (check mode or not), apply and report are refused, naming
    the directory, the owner's pid and command line, and how to clear the claim; nothing is written or moved. The same run
    planning again keeps it. Once the owner is gone the next plan takes it over, and says so."""
    owner = run_owner(other_run.pid)
    me = run_owner(os.getpid())
    assert claim_run(str(tmp_path), PLAN, True, owner) is None
    doc = read_claim(str(tmp_path))
    assert doc['owner'] == owner and doc['check_mode'] is True and os.listdir(tmp_path) == [CLAIM]
    # The same run again (another plan): no warning, the same claim, listing both plans.
    assert claim_run(str(tmp_path), 'c' * 32, True, owner) is None
    again = read_claim(str(tmp_path))
    assert again['claimed_at'] == doc['claimed_at'] and [entry['plan'] for entry in claim_plans(again)] == [PLAN, 'c' * 32]
    before = (tmp_path / CLAIM).read_bytes()
    calls = other_runs_tasks(tmp_path, me, lambda: claim_run(str(tmp_path), 'b' * 32, True, me))
    for task, call in calls:
        with pytest.raises(InputError) as raised:
            call()
        message = str(raised.value)
        assert message.startswith("%s refused: another run has claimed the report directory '%s': its harden_plan planned into "
                                  "it 20" % (task, tmp_path)), message
        assert ' (in check mode) and its harden_report has not written its reports yet' in message, message
        assert '(pid %d on this host: %s -c import time; time.sleep(120)) is still running' % (other_run.pid, sys.executable) in message, message
        assert ("If pid %d is no ansible-playbook run into this report directory, the claim was left or written by something else: "
                "remove '%s' and run again;" % (other_run.pid, tmp_path / CLAIM)) in message, message
        assert message.endswith('no report was written' if task == 'harden_report' else 'nothing was sent to Azure'), message
        assert os.listdir(tmp_path) == [CLAIM] and (tmp_path / CLAIM).read_bytes() == before
    # Another run cannot release it; its owner can.
    assert release_claim(str(tmp_path), PLAN, me) is False and os.listdir(tmp_path) == [CLAIM]
    other_run.kill()
    other_run.wait()
    warning = claim_run(str(tmp_path), PLAN, False, me)
    assert warning == ('the report directory was claimed (run-claim.json) by ansible-playbook pid %d, which has ended, '
                       'whose run did not write its reports; this run took it over' % other_run.pid), warning
    # A claim of this run's own, listing only its plan.
    taken = read_claim(str(tmp_path))
    assert taken['owner'] == me and [entry['plan'] for entry in claim_plans(taken)] == [PLAN]
    assert release_claim(str(tmp_path), PLAN, me) is True and os.listdir(tmp_path) == []


@pytest.mark.parametrize('how', ['garbage', 'huge', 'deep', 'list', 'no-owner', 'symlink', 'fifo', 'other-host', 'empty'])
def test_a_hand_made_or_corrupt_claim_is_taken_over_without_a_traceback_or_a_hang(tmp_path, how):
    """A claim that is no claim (text, a huge file, JSON nested thousands deep, a list, no owner), a symlink (to a file
    elsewhere, which stays as it was), a FIFO (never opened for reading blocked) or one of another host is neither a
    refusal nor a traceback: the plan says it and replaces it with its own; the report removes that."""
    path, outside = tmp_path / CLAIM, tmp_path.parent / ('outside-%s' % how)
    outside.write_text('keep me')
    if how == 'garbage':
        path.write_bytes(b'\xff\x00not json')
    elif how == 'huge':
        path.write_bytes(b' ' * (2 * 1024 * 1024))
    elif how == 'deep':
        path.write_text('[' * 100000)
    elif how == 'list':
        path.write_text('[1, 2]')
    elif how == 'no-owner':
        path.write_text(json.dumps({'claim': 'vaultlock.azure harden run', 'owner': 'pid 1'}))
    elif how == 'symlink':
        path.symlink_to(outside)
    elif how == 'fifo':
        os.mkfifo(path)
    elif how == 'empty':
        path.write_bytes(b'')
    elif how == 'other-host':
        path.write_text(json.dumps({'claim': 'vaultlock.azure harden run', 'owner': dict(run_owner(1), host='ci-runner-7')}))
    me = run_owner(os.getpid())
    refuse_while_applying(str(tmp_path), 'harden_report', me)
    warning = claim_run(str(tmp_path), PLAN, False, me)
    assert warning and 'this run' in warning, warning
    if how == 'other-host':
        assert 'by ansible-playbook pid 1 on host ci-runner-7, which this host cannot look at' in warning, warning
    elif how == 'empty':
        assert 'could not be read: it is not JSON' in warning, warning
    else:
        assert warning.startswith('the report directory held a claim (run-claim.json) that could not be read: '), warning
    assert os.path.isfile(path) and not os.path.islink(path) and read_claim(str(tmp_path))['owner'] == me
    assert [entry['plan'] for entry in claim_plans(read_claim(str(tmp_path)))] == [PLAN]
    assert outside.read_text() == 'keep me'
    assert release_claim(str(tmp_path), PLAN, me) is True and os.listdir(tmp_path) == []


def test_a_directory_in_place_of_the_claim_is_a_clear_error_the_operator_can_clear(tmp_path):
    (tmp_path / CLAIM).mkdir()
    me = run_owner(os.getpid())
    with pytest.raises(InputError) as raised:
        claim_run(str(tmp_path), PLAN, False, me)
    assert str(raised.value).startswith("harden_plan cannot claim the report directory '%s' for this run: run-claim.json cannot be "
                                        "written there (" % tmp_path), str(raised.value)
    assert str(raised.value).endswith('if it is a directory, remove it and run again; nothing was sent to Azure')
    assert os.listdir(tmp_path) == [CLAIM]
    (tmp_path / CLAIM).rmdir()
    assert claim_run(str(tmp_path), PLAN, False, me) is None and read_claim(str(tmp_path))['owner'] == me


def refused_by_claim(tmp_path, me, owner_pid):
    """Each task of the run ``me`` on ``tmp_path`` is refused, naming the claim of the run of pid ``owner_pid``."""
    for task, call in other_runs_tasks(tmp_path, me, lambda: claim_run(str(tmp_path), 'd' * 32, False, me)):
        with pytest.raises(InputError) as raised:
            call()
        assert str(raised.value).startswith('%s refused: another run has claimed the report directory' % task), str(raised.value)
        assert '(pid %d on this host' % owner_pid in str(raised.value), str(raised.value)


def test_a_claim_lasts_until_the_last_plan_of_the_run_into_the_directory_is_reported(tmp_path, other_run):
    """A run that plans twice into one report directory before either report (a play of its own, not the role) holds the
    directory until both are reported: its first report marks its plan reported and keeps the claim, so another run's plan,
    apply and report are still refused; the second removes it. Before, the first report removed the claim and another run
    could plan, apply and report there while this run's second report was still to come (and replaced those reports)."""
    first, second = 'a' * 32, 'b' * 32
    owner, me = run_owner(other_run.pid), run_owner(os.getpid())
    assert claim_run(str(tmp_path), first, True, owner) is None
    assert claim_run(str(tmp_path), second, False, owner) is None
    doc = read_claim(str(tmp_path))
    assert doc['format'] == 2 and doc['owner'] == owner and doc['last'] == 2
    assert [(entry['plan'], entry['order'], entry['check_mode'], entry['reported']) for entry in claim_plans(doc)] == [
        (first, 1, True, False), (second, 2, False, False)]
    # One plan of two is for real: the refusal does not say check mode.
    assert doc['check_mode'] is False
    # The first plan's report: the claim stays, naming the second plan still to be reported.
    assert release_claim(str(tmp_path), first, owner) is False
    doc = read_claim(str(tmp_path))
    assert [(entry['plan'], entry['reported']) for entry in claim_plans(doc)] == [(first, True), (second, False)]
    assert live_claim(str(tmp_path), me) == doc
    refused_by_claim(tmp_path, me, other_run.pid)
    assert os.listdir(tmp_path) == [CLAIM]
    # Another run's report of a plan of the same id, and a plan the claim does not list, change nothing.
    assert release_claim(str(tmp_path), second, me) is False and release_claim(str(tmp_path), 'e' * 32, owner) is False
    assert read_claim(str(tmp_path)) == doc
    # The last plan's report ends it: another run may plan now.
    assert release_claim(str(tmp_path), second, owner) is True and os.listdir(tmp_path) == []
    assert claim_run(str(tmp_path), 'd' * 32, False, me) is None
    assert [entry['plan'] for entry in claim_plans(read_claim(str(tmp_path)))] == ['d' * 32]


def test_a_plan_that_fails_leaves_the_claim_and_the_run_s_other_plans_keep_it(tmp_path, other_run):
    """A plan that fails after its claim (an error before any request, a read that failed) is taken out of the claim: the
    run's other plans into the directory keep it until they are reported, and a claim left with no plan goes."""
    owner, me = run_owner(other_run.pid), run_owner(os.getpid())
    claim_run(str(tmp_path), 'a' * 32, False, owner)
    claim_run(str(tmp_path), 'b' * 32, True, owner)
    assert release_claim(str(tmp_path), 'b' * 32, owner, reported=False) is False
    doc = read_claim(str(tmp_path))
    assert [entry['plan'] for entry in claim_plans(doc)] == ['a' * 32] and doc['check_mode'] is False
    refused_by_claim(tmp_path, me, other_run.pid)
    assert release_claim(str(tmp_path), 'a' * 32, owner, reported=False) is True and os.listdir(tmp_path) == []


def test_a_report_of_an_earlier_plan_does_not_replace_the_reports_of_a_later_plan_of_the_run(tmp_path):
    """later_reports: the reports in the directory are those of a later plan of the run (made after the plan being
    reported, or applied for real after it), so that plan's reports would replace them with an older reading. In planning
    order each report is the latest so far; out of order the earlier plan's is not. A real apply that starts changing vaults
    (having removed the reports there) makes its plan the latest, and no reports of the run are there any more."""
    me = run_owner(os.getpid())
    first, second = 'a' * 32, 'b' * 32

    def fresh(name):
        path = tmp_path / name
        path.mkdir()
        claim_run(str(path), first, False, me)
        claim_run(str(path), second, False, me)
        return str(path)

    in_order = fresh('in-order')
    assert later_reports(in_order, first, me) is None
    claim_reported(in_order, first, me)
    assert later_reports(in_order, second, me) is None
    out_of_order = fresh('out-of-order')
    claim_reported(out_of_order, second, me)
    release_claim(out_of_order, second, me)
    assert later_reports(out_of_order, first, me)['plan'] == second
    applied = fresh('applied-after')
    claim_reported(applied, second, me)
    claim_applied(applied, first, me)
    assert later_reports(applied, first, me) is None
    assert [(entry['plan'], entry['order']) for entry in claim_plans(read_claim(applied))] == [(first, 3), (second, 2)]
    assert 'reports' not in read_claim(applied)
    claim_reported(applied, first, me)
    assert later_reports(applied, second, me)['plan'] == first
    # No claim, another run's, or a plan it does not list: nothing to say, nothing written.
    assert later_reports(str(tmp_path / 'in-order'), 'e' * 32, me) is None
    assert later_reports(str(tmp_path), first, me) is None
    claim_applied(str(tmp_path), first, me)
    claim_reported(str(tmp_path), first, me)
    assert sorted(os.listdir(tmp_path)) == ['applied-after', 'in-order', 'out-of-order']


@pytest.mark.parametrize('plans', [None, 'not a list', [{'plan': 'a' * 32}], [{'plan': 'a' * 32, 'order': True}], ['a' * 32]],
                         ids=['format-1', 'text', 'no-order', 'bool-order', 'names'])
def test_a_claim_of_an_earlier_version_or_with_a_hand_edited_plan_list_is_read_as_one_that_names_no_plan(tmp_path, other_run, plans):
    """A claim of the earlier format (1: owner, claimed_at, check_mode, no plans) or whose plan list was edited into
    something else: another run's is refused while its owner lives, as before; this run's own is kept by its next plan,
    which lists itself from then on, and is removed by a report, as that version did; later_reports says nothing of it and
    claim_applied and claim_reported leave it as it is. Nothing raises."""
    def written(owner):
        doc = {'claim': 'vaultlock.azure harden run', 'format': 1, 'owner': owner, 'claimed_at': '2026-12-07T06:00:00Z',
               'check_mode': True}
        if plans is not None:
            doc['plans'] = plans
        (tmp_path / CLAIM).write_text(json.dumps(doc))
        return (tmp_path / CLAIM).read_bytes()

    owner, me = run_owner(other_run.pid), run_owner(os.getpid())
    before = written(owner)
    refused_by_claim(tmp_path, me, other_run.pid)
    assert release_claim(str(tmp_path), PLAN, me) is False and (tmp_path / CLAIM).read_bytes() == before
    # This run's own: reports and applies change nothing in it, a report removes it.
    before = written(me)
    assert later_reports(str(tmp_path), PLAN, me) is None
    claim_applied(str(tmp_path), PLAN, me)
    claim_reported(str(tmp_path), PLAN, me)
    assert (tmp_path / CLAIM).read_bytes() == before
    assert release_claim(str(tmp_path), PLAN, me) is True and os.listdir(tmp_path) == []
    # ... and its next plan keeps it (no warning: it is this run's), listing that plan.
    written(me)
    assert claim_run(str(tmp_path), 'b' * 32, False, me) is None
    doc = read_claim(str(tmp_path))
    assert doc['format'] == 2 and doc['claimed_at'] == '2026-12-07T06:00:00Z' and doc['check_mode'] is False
    assert [(entry['plan'], entry['order']) for entry in claim_plans(doc)] == [('b' * 32, 1)]
    assert release_claim(str(tmp_path), 'b' * 32, me) is True and os.listdir(tmp_path) == []


def test_a_report_that_wrote_no_report_removes_its_journal_only_when_its_apply_had_nothing_to_change(tmp_path):
    """remove_journal(unchanging_only=True), for a plan whose reports were not written (a later plan's are there): the
    journal of an apply with vaults to change stays, for the next plan to say what it did; one with none goes."""
    for vaults, left in ((2, [JOURNAL]), (0, [])):
        report_dir = tmp_path / str(vaults)
        report_dir.mkdir()
        journal, _kept = ApplyJournal.start(str(report_dir), PLAN, vaults)
        journal.close()
        assert remove_journal(str(report_dir), PLAN, unchanging_only=True) is (not left)
        assert os.listdir(report_dir) == left


def test_an_apply_of_a_plan_that_a_later_plan_of_the_run_superseded_is_refused(tmp_path):
    """refuse_stale_plan, harden_apply's check before any request: a plan of the run made, or applied for real, after the
    plan being applied (a higher order in the run's claim) supersedes it, in check mode too. A later plan that failed (taken
    out of the claim) supersedes nothing; no claim refuses nothing; a claim made unreadable since the plan is refused."""
    me = run_owner(os.getpid())
    first, second, third = 'a' * 32, 'b' * 32, 'c' * 32
    report_dir = str(tmp_path)
    claim_run(report_dir, first, False, me)
    claim_run(report_dir, second, False, me)
    for check_mode in (False, True):
        with pytest.raises(PlanSuperseded) as raised:
            refuse_stale_plan(report_dir, first, me, check_mode)
        assert raised.value.later['plan'] == second
        message = str(raised.value)
        assert message.startswith('harden_apply refused: plan %s is superseded: plan %s of this ansible-playbook run into the same '
                                  "report directory '%s' was made, or applied for real, after it" % (first, second, report_dir)), message
        assert 'Apply plan %s, or plan again; nothing was sent to Azure' % second in message, message
        assert message.endswith('(check mode: a real apply of it is refused the same way)') == check_mode, message
    refuse_stale_plan(report_dir, second, me)
    # The later plan applied for real is still the later one; a check-mode plan made after both supersedes both.
    claim_applied(report_dir, second, me)
    with pytest.raises(PlanSuperseded):
        refuse_stale_plan(report_dir, first, me)
    claim_run(report_dir, third, True, me)
    with pytest.raises(PlanSuperseded) as raised:
        refuse_stale_plan(report_dir, second, me)
    assert raised.value.later['plan'] == third and '(in check mode)' in str(raised.value) and 'Plan again; nothing' in str(raised.value)
    # A later plan that failed is taken out of the claim: it supersedes nothing.
    release_claim(report_dir, third, me, reported=False)
    refuse_stale_plan(report_dir, second, me)
    # Another run's claim and no claim refuse nothing here (refuse_while_applying refuses a live one).
    refuse_stale_plan(report_dir, first, run_owner(1))
    os.unlink(os.path.join(report_dir, CLAIM))
    refuse_stale_plan(report_dir, first, me)
    # A claim made a directory since the plan cannot record the apply: refused, in check mode too.
    os.mkdir(os.path.join(report_dir, CLAIM))
    for check_mode in (False, True):
        with pytest.raises(InputError) as raised:
            refuse_stale_plan(report_dir, second, me, check_mode)
        assert str(raised.value).startswith("harden_apply refused: this run's claim on the report directory '%s' (run-claim.json) can no "
                                            'longer be read: it is not a regular file.' % report_dir), str(raised.value)
        assert 'nothing was sent to Azure' in str(raised.value)


def failing_claim_writes(monkeypatch, how='replace'):
    """os.replace (the claim's rename into place) or os.unlink (its removal) fail with ENOSPC / EROFS for the claim only,
    as on a full disk or a file system remounted read-only; every other file is written as before."""
    real = {'replace': os.replace, 'unlink': os.unlink}[how]

    def failing(*args, **kwargs):
        target = args[-1] if how == 'replace' else args[0]
        if os.path.basename(str(target)) == CLAIM:
            raise OSError(errno.ENOSPC if how == 'replace' else errno.EROFS, os.strerror(errno.ENOSPC if how == 'replace' else errno.EROFS))
        return real(*args, **kwargs)
    monkeypatch.setattr(os, how, failing)


def test_a_claim_that_cannot_be_written_fails_the_plan_and_the_apply_before_any_change(tmp_path, monkeypatch):
    """A full disk when the claim is written or rewritten before any write to Azure: harden_plan's claim_run and a real
    harden_apply's start_run_journal (claim_applied, which records the apply before it removes the earlier reports and
    writes) fail with a clear message; the earlier reports, the claim and the directory stay as they were, and no journal
    is started. Before, claim_applied passed the failure over and the apply went on (its reports then could be taken for
    older than another plan's)."""
    report_dir = os.path.realpath(str(tmp_path))
    claim_run(report_dir, PLAN)
    (tmp_path / 'drift.json').write_text('an earlier run')
    before = (tmp_path / CLAIM).read_bytes()
    failing_claim_writes(monkeypatch)
    with pytest.raises(InputError) as raised:
        claim_run(report_dir, 'b' * 32)
    assert str(raised.value).startswith("harden_plan cannot claim the report directory '%s' for this run: run-claim.json cannot be "
                                        'written there (No space left on device)' % report_dir), str(raised.value)
    with pytest.raises(InputError) as raised:
        start_run_journal({'report_dir': report_dir}, PLAN, 2)
    assert str(raised.value).startswith("harden_apply cannot claim the report directory '%s' for this run: run-claim.json cannot be "
                                        'written there (No space left on device)' % report_dir), str(raised.value)
    assert str(raised.value).endswith('nothing was sent to Azure')
    assert (tmp_path / CLAIM).read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ['drift.json', CLAIM]
    assert (tmp_path / 'drift.json').read_text() == 'an earlier run'


@pytest.mark.parametrize('how', ['replace', 'unlink'])
def test_a_claim_that_cannot_be_rewritten_at_report_time_is_said_not_hidden(tmp_path, monkeypatch, how):
    """release_claim, at harden_report once the reports are written (and on a failed plan): a claim that cannot be
    rewritten (the run's other plan still to be reported) or removed (the last plan) raises ClaimNotWritten, for the
    report to say what it means; the claim stays as it was (the safe side: the run keeps the directory until it ends).
    Before, both failures were passed over in silence."""
    me = run_owner(os.getpid())
    report_dir = str(tmp_path)
    claim_run(report_dir, PLAN, False, me)
    if how == 'replace':
        claim_run(report_dir, 'b' * 32, False, me)
    before = (tmp_path / CLAIM).read_bytes()
    failing_claim_writes(monkeypatch, how)
    for reported in (True, False):
        with pytest.raises(ClaimNotWritten) as raised:
            release_claim(report_dir, PLAN, me, reported=reported)
        said = ('No space left on device' if how == 'replace' else 'Read-only file system')
        assert str(raised.value) == "run-claim.json could not be %s the report directory '%s' (%s)" % (
            'written in' if how == 'replace' else 'removed from', report_dir, said), str(raised.value)
        assert (tmp_path / CLAIM).read_bytes() == before
    if how == 'replace':
        with pytest.raises(ClaimNotWritten):
            claim_reported(report_dir, PLAN, me)


def test_a_check_mode_plan_after_a_real_apply_of_the_run_leaves_that_apply_s_journal_to_its_report(tmp_path, other_run):
    """One run applies plan A for real, then plans again in check mode before A's report: the journal is A's report's (it
    removes it once the reports are written, or leaves it for the next plan when a later plan's reports replace them). The
    check-mode plan leaves it where it is and says it is this run's apply whose report is still to come, never that its
    reports were not written; the journal stays A's (its header), and A's report removes it. A journal whose plan was
    reported already, or another run's, is an earlier apply's as before. Before, the check-mode plan called this run's own
    pending apply one that "finished its writes but its reports were not written"."""
    report_dir = str(tmp_path)
    me = run_owner(os.getpid())
    claim_run(report_dir, PLAN, False, me)
    ended_journal(report_dir, me)
    claim_run(report_dir, 'c' * 32, True, me)
    warning = earlier_apply_warning(report_dir, NOW, check_mode=True, me=me)
    assert warning.startswith("this ansible-playbook run's harden_apply of plan %s into this report directory (started " % PLAN), warning
    assert 'finished its writes: it changed 1 vault(s): rsv-1;' in warning, warning
    assert warning.endswith("its report was still to come when this check-mode plan read the vaults: its journal (apply-journal.jsonl) "
                            "is that report's and stays where it is (this plan writes none and takes none as its own); this plan "
                            'reads the vaults as Azure holds them now'), warning
    assert 'reports were not written' not in warning
    assert sorted(os.listdir(tmp_path)) == [JOURNAL, CLAIM]
    assert read_journal(os.path.join(report_dir, JOURNAL))[0]['plan'] == PLAN
    # The check-mode plan's report takes nothing; A's report removes its journal.
    assert remove_journal(report_dir, 'c' * 32) is False
    # A's plan reported, its journal left (a later plan's reports replaced them): an earlier apply's, as before.
    release_claim(report_dir, PLAN, me)
    warning = earlier_apply_warning(report_dir, NOW, check_mode=True, me=me)
    assert 'by this ansible-playbook run) finished its writes but its reports were not written' in warning, warning
    assert 'stays where it is (check mode)' in warning
    # Another run's journal (its process alive: refused; the claim of this run says nothing of it).
    os.unlink(os.path.join(report_dir, JOURNAL))
    os.unlink(os.path.join(report_dir, CLAIM))
    ended_journal(report_dir, run_owner(other_run.pid))
    other_run.kill()
    other_run.wait()
    warning = earlier_apply_warning(report_dir, NOW, check_mode=True, me=me)
    assert 'which has ended) finished its writes but its reports were not written' in warning, warning
    assert remove_journal(report_dir, PLAN) is True
