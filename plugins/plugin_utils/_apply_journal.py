# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The apply journal: what a real harden_apply did, vault by vault, in the report directory while it runs.

A real apply removes the earlier run's reports before its first write (_harden_run.retire_reports) and writes its own only
when the run ends (harden_report). A run stopped in between (Ctrl-C, a cancelled CI job) left an empty report directory
and nothing that said which vaults it had changed. So the apply keeps ``apply-journal.jsonl`` there: a header line, a
``started`` line as each vault's first step begins, a ``settled`` line as each vault ends (its outcome changed, unchanged,
failed or unknown, and the changes made), and an ``ended`` line when the apply returns. harden_report removes it once the
run's reports are written; the next harden_plan into that directory that finds one warns (in its result and in the
reports) and keeps it aside as ``apply-journal.<UTC time>.jsonl``; the newest KEEP_ASIDE of those stay, older ones are
removed.

How a stop reaches the apply (ansible-core 2.19): ansible-playbook's TaskQueueManager forwards SIGINT and SIGTERM to each
task worker process; the worker (its own session, setsid) resets the signal to its default action and sends it to its
whole process group, so the task process and the worker processes it forked end without running any more Python (no
finally, no atexit) once the apply lets the signal through (_azure/stop.py: it halts first). Hence every line is one
os.write of a whole line to a file opened O_APPEND, made by the process that settled the vault (a worker process writes
its own vaults' lines, not its parent): once written it is in the file, whatever kills the process next. Lines hold ids,
names and setting values, never a credential.

A live apply holds an exclusive flock on its journal for as long as it runs (the worker processes it forks share the lock:
one open file description), and the kernel drops the lock when the last of them ends, however it ends. So a journal that
is locked is an apply still running (another run's: two runs on one report directory), and one that is not is an apply
that ended without its reports. harden_plan, harden_apply and harden_report refuse a report directory an apply of another
run is applying into, before any request (refuse_while_applying), instead of calling that apply interrupted, moving its
journal aside or writing reports beside it. The checks and the journal's creation hold report_dir_locked, so two runs
cannot both find the directory free.

An apply that ended has dropped its lock, but its run has not written its reports until its harden_report task runs: a
second run's plan in between called the first run interrupted, kept its journal aside and said so in its own reports. So
the journal's header names the ansible-playbook process that owns the run (``owner``: host name, pid, the kernel's boot id
and the process's start time from /proc, so that a pid used again by another process is not taken for it), and the three
actions of another run refuse the directory while that process is alive on this host (refuse_while_applying). Once it is
gone (killed, crashed, or its play ended without the report task), the journal is an earlier apply's, said and kept aside as
before. A journal written on another host, or without an owner (an earlier version), cannot be checked: it is treated as
before.

The journal protects a run from its apply on. A check-mode run writes none, so a real run between its apply and its report
had its reports replaced by the check-mode run's (the fleet before the real run's writes); and a run that completed between
another run's plan and apply had its reports removed by that apply. So harden_plan claims the report directory for its run
(claim_run, check mode too): ``run-claim.json`` there names the run's ansible-playbook with the same run_owner() record,
and harden_report removes it once the run's reports are written (release_claim). While that process lives on this host,
another run's harden_plan, harden_apply and harden_report there are refused (refuse_while_applying, live_claim). A claim
whose owner is gone, written on another host, or that cannot be read (hand-made, a symlink, a FIFO) is taken over by the
next plan, which says so.

A user's play may plan twice into one report directory before either report. The claim lists the run's plans into the
directory (claim_plans), each harden_report marks its own reported, and the file goes with the last: before, the first
report removed it, and another run planned, applied and reported there before this run's second report replaced those
reports with an older reading. The plans are numbered in the order they were made, and a real apply that starts changing
vaults numbers its plan again (claim_applied: its reports will say what it wrote after any plan made before); the claim
keeps whose reports are in the directory (claim_reported), and a plan's report does not replace those of a later plan
(later_reports, _harden_run.Superseded): it writes none and says so. An apply of such a plan is refused before any
request (refuse_stale_plan): it would change Azure from the older reading while its report wrote nothing.

Each write of the claim that comes before a write to Azure fails its task when it fails (claim_run, claim_applied:
InputError, nothing sent, no report removed); those made once the reports are written (claim_reported, release_claim)
raise ClaimNotWritten, which harden_report says in its result instead of failing: the reports stand.

Nothing here imports an Azure SDK.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import re
import socket
import stat
import threading

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.stop import process_alive
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError, escaped, first_named, shown

JOURNAL = 'apply-journal.jsonl'
JOURNAL_FORMAT = 1
# How many vault names a warning lists at most.
NAMED = 20
# The longest line read (the apply writes a few kilobytes a vault); a longer one, hand-made, is an unreadable line.
LINE_LIMIT = 1024 * 1024
# The most characters of one name or time a warning shows.
SHOWN = 200
# How many journals of earlier applies a report directory keeps aside (the newest; older ones are removed as one more is
# kept aside). Each is the record of an apply that did not end with its reports, until someone has read it.
KEEP_ASIDE = 10
# The claim of a run on its report directory, from its harden_plan to its harden_report (claim_run).
CLAIM = 'run-claim.json'
CLAIM_KIND = 'vaultlock.azure harden run'
# 2: the claim lists the run's plans into the directory (claim_plans); 1 (earlier versions) named none.
CLAIM_FORMAT = 2
# The longest claim read (one is about 200 bytes); a longer one, hand-made, cannot be read.
CLAIM_LIMIT = 64 * 1024
_ASIDE = re.compile(r'^apply-journal\.(\d{8}T\d{6}Z)(?:-(\d{1,3}))?\.jsonl$')


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def _boot_id():
    """This boot of the kernel (Linux: /proc/sys/kernel/random/boot_id), or None where it cannot be read."""
    try:
        with open('/proc/sys/kernel/random/boot_id', 'r', encoding='ascii') as stream:
            return stream.read().strip() or None
    except (OSError, ValueError):
        return None


def process_start(pid):
    """When process ``pid`` started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or None where that cannot
    be read (no /proc, the process is gone). The command name (field 2) may hold spaces and parentheses: the fields are
    counted after its last ')'."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as stream:
            text = stream.read()
    except (OSError, ValueError, OverflowError):
        return None
    fields = text[text.rfind(b')') + 1:].split()
    try:
        return int(fields[19])     # fields[0] is field 3 (state): field 22 is fields[19]
    except (IndexError, ValueError):
        return None


def run_owner(pid=None):
    """Who owns a run, as the journal's header keeps it: {host, pid, boot, started} of ansible-playbook. ``pid`` defaults
    to this process's parent: an action plugin runs in a worker process that ansible-playbook forked (harden_apply's
    watch of the controller, _azure/stop.py, takes the same pid)."""
    pid = os.getppid() if pid is None else pid
    return {'host': socket.gethostname(), 'pid': pid, 'boot': _boot_id(), 'started': process_start(pid)}


def _same_host(owner):
    return owner.get('host') == socket.gethostname() and (owner.get('boot') is None or owner.get('boot') == _boot_id())


def owner_alive(owner):
    """Whether the process ``owner`` (run_owner()) is alive on this host now. Its start time must match where it was
    recorded: a pid the kernel gave to another process since is not it. False for another host (which this host cannot
    look at), another boot, a gone process and a header without a usable owner."""
    if not isinstance(owner, dict) or not isinstance(owner.get('pid'), int) or isinstance(owner.get('pid'), bool):
        return False
    if owner['pid'] <= 0 or not _same_host(owner):
        return False
    if owner.get('started') is not None:
        return process_start(owner['pid']) == owner.get('started')
    # Recorded where /proc could not be read (no start time): the pid alone says it.
    return process_alive(owner['pid'])


def same_owner(owner, other):
    """Whether two run_owner() records name the same process."""
    keys = ('host', 'pid', 'boot', 'started')
    return isinstance(owner, dict) and isinstance(other, dict) and all(owner.get(key) == other.get(key) for key in keys)


class ApplyJournal:
    """The journal file of one apply, open for appending; ``record`` may be called from any thread of any process that
    inherited it (each line one write)."""

    def __init__(self, fd, path):
        self._fd = fd
        self.path = path
        self._lock = threading.Lock()
        self.error = None   # the first OSError a write met (the apply goes on; harden_apply warns)

    @classmethod
    def start(cls, report_dir, plan_id, vaults, owner=None):
        """A new journal in ``report_dir`` with its header line, locked for as long as this apply runs. An earlier one there
        is kept aside first (returned as its new name, else None): its evidence is never overwritten. InputError when another
        run's apply holds the journal there, or another run that is still alive wrote it (nothing moved); OSError when the
        file cannot be made. harden_apply holds report_dir_locked around it and the earlier reports' removal, so that no other
        run checks or starts in between. ``owner``: run_owner() of the run (harden_apply's), kept in the header."""
        refuse_while_applying(report_dir, 'harden_apply', owner)
        kept = set_aside(report_dir)
        path = os.path.join(report_dir, JOURNAL)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_CLOEXEC', 0)
        # 0666 less the umask, as any file the user makes: the journal holds vault ids, names and settings, never a credential.
        fd = os.open(path, flags, 0o666)
        try:
            # Blocking: a run checking the journal holds a shared lock for a moment only.
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            pass    # a file system without flock: the apply runs as before, unmarked
        journal = cls(fd, path)
        header = {'journal': 'vaultlock.azure harden_apply', 'format': JOURNAL_FORMAT, 'plan': plan_id, 'started_at': _now(),
                  'vaults': vaults}
        if owner is not None:
            header['owner'] = owner
        journal.record(header)
        if journal.error is not None:
            journal.close()
            raise journal.error
        return journal, kept

    def record(self, doc):
        """One JSON line, written whole with one write."""
        data = (json.dumps(doc, separators=(',', ':'), sort_keys=True, default=str) + '\n').encode('utf-8')
        with self._lock:
            try:
                while data:
                    data = data[os.write(self._fd, data):]
            except OSError as exc:
                # A full disk must not stop the vaults' writes half way: the apply goes on, and says the journal is incomplete.
                self.error = self.error or exc

    def started(self, entry):
        self.record({'event': 'started', 'id': entry['id'], 'name': entry.get('name'), 'at': _now()})

    def settled(self, entry, results):
        """``results``: the vault's step results as the reports take them ([(task, result)])."""
        self.record(dict(settled_line(results), event='settled', id=entry['id'], name=entry.get('name'), at=_now()))

    def ended(self, summary):
        self.record({'event': 'ended', 'at': _now(), 'vaults_changed': summary.get('vaults_changed'),
                     'vaults_failed': summary.get('vaults_failed')})

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def settled_line(results):
    """The outcome of a vault from its step results: unknown (a write may have happened) before changed before failed
    before unchanged; the changes made, step by step."""
    results = [result for _task, result in results]
    if any(result.get('outcome') == 'unknown' for result in results):
        outcome = 'unknown'
    elif any(result.get('changed') for result in results):
        outcome = 'changed'
    elif any(result.get('failed') for result in results):
        outcome = 'failed'
    else:
        outcome = 'unchanged'
    changes = [change for result in results for change in result.get('changes') or []]
    return {'outcome': outcome, 'failed': any(result.get('failed') for result in results), 'changes': changes}


def read_journal(path):
    """(header, {vault id: state}, ended, unreadable lines) of a journal file; OSError when it cannot be opened.
    A state: {id, name, outcome (None: started, never settled), changes}."""
    # O_NONBLOCK: a FIFO put there opens at once (then refused: not a regular file) instead of waiting for a writer.
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0))
    header, vaults, ended, bad = None, {}, None, 0
    with os.fdopen(fd, 'rb') as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, 'not a regular file')
        for raw in _lines(stream):
            try:
                line = json.loads(raw.decode('utf-8')) if raw is not None else None
            except (ValueError, RecursionError):    # RecursionError: a hand-made line nested thousands deep
                line = None
            if line is None:
                bad += 1
                continue
            if not isinstance(line, dict):
                bad += 1
                continue
            event = line.get('event')
            if 'journal' in line and header is None:
                header = line
            elif event in ('started', 'settled') and isinstance(line.get('id'), str):
                state = vaults.setdefault(line['id'].lower(), {'id': line['id'], 'name': line.get('name'), 'outcome': None, 'changes': []})
                if event == 'settled':
                    state.update(outcome=line.get('outcome'), changes=list(line.get('changes') or []))
            elif event == 'ended':
                ended = line
            else:
                bad += 1
    return header, vaults, ended, bad


def _lines(stream):
    """Each line of ``stream`` as bytes, None for one longer than LINE_LIMIT (never held whole)."""
    while True:
        raw = stream.readline(LINE_LIMIT + 1)
        if not raw:
            return
        if len(raw) > LINE_LIMIT and not raw.endswith(b'\n'):
            while raw and not raw.endswith(b'\n'):
                raw = stream.readline(LINE_LIMIT + 1)
            yield None
        else:
            yield raw


def _shown(value):
    """A name or time of a hand-editable file as a warning shows it: text, its control and hidden characters escaped,
    at most SHOWN characters."""
    text = escaped(value if isinstance(value, str) else json.dumps(value, default=str))
    return text if len(text) <= SHOWN else text[:SHOWN] + '...'


def set_aside(report_dir, now=None):
    """Rename ``report_dir``'s journal to apply-journal.<UTC time>.jsonl (never over another file), then remove the copies
    kept aside before beyond the newest KEEP_ASIDE (prune_aside); its new name, or None when there is none. OSError when
    it cannot be renamed."""
    path = os.path.join(report_dir, JOURNAL)
    if not os.path.lexists(path):
        return None
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime('%Y%m%dT%H%M%SZ')
    for number in range(1, 1000):
        name = 'apply-journal.%s%s.jsonl' % (stamp, '' if number == 1 else '-%d' % number)
        target = os.path.join(report_dir, name)
        if not os.path.lexists(target):
            os.rename(path, target)
            prune_aside(report_dir)
            return name
    raise FileExistsError('no free name to keep %s aside' % path)


def prune_aside(report_dir, keep=None):
    """Remove the journals kept aside in ``report_dir`` (regular files named as set_aside names them) but the newest
    ``keep`` (KEEP_ASIDE), by the time and number in their names; the names removed. A file that cannot be removed stays
    (one more old journal is no harm); nothing else in the directory is touched."""
    keep = KEEP_ASIDE if keep is None else keep
    kept = []
    try:
        names = os.listdir(report_dir)
    except OSError:
        return []
    for name in names:
        match = _ASIDE.match(name)
        if not match:
            continue
        try:
            if not stat.S_ISREG(os.lstat(os.path.join(report_dir, name)).st_mode):
                continue
        except OSError:
            continue
        kept.append(((match.group(1), int(match.group(2) or 1)), name))
    kept.sort(reverse=True)
    removed = []
    for _order, name in kept[keep:]:
        try:
            os.unlink(os.path.join(report_dir, name))
        except OSError:
            continue
        removed.append(name)
    return removed


def _names(states):
    return first_named([state.get('name') or state['id'] for state in states], NAMED, _shown)


@contextlib.contextmanager
def report_dir_locked(path):
    """An exclusive flock on the report directory itself (no lock file beside the reports) while one run replaces or
    removes its reports, or checks, keeps aside or starts an apply journal: two runs at once with the same report_dir (two
    CI jobs, an operator beside a schedule) renamed their five files in turn, and the directory held one run's drift.json
    beside the other's drift.sarif. Where the directory cannot be locked (a file system without flock), the work is done as
    before. Not reentrant: a second hold from the same process waits for the first."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) | getattr(os, 'O_CLOEXEC', 0))
    except OSError:
        fd = None
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:
                pass
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _open_journal(report_dir):
    """The journal of ``report_dir`` open for reading (never through a symlink, never blocking on a FIFO), else None: no
    journal, or something else than a regular file in its place."""
    try:
        fd = os.open(os.path.join(report_dir, JOURNAL),
                     os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_CLOEXEC', 0))
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def applying(report_dir):
    """When an apply is running in ``report_dir`` right now (its journal locked by a live process): the time it started as
    its journal says (shown, escaped), else None: no journal, an apply that ended, or a file system without flock."""
    fd = _open_journal(report_dir)
    if fd is None:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass
        except OSError:
            return None
        else:
            return None
        return _started(_header(fd))
    finally:
        os.close(fd)


def _header(fd):
    """The header line of the journal open as ``fd`` (a dictionary), else None."""
    with os.fdopen(os.dup(fd), 'rb') as stream:
        stream.seek(0)
        first = next(_lines(stream), None)
    try:
        header = json.loads(first.decode('utf-8')) if first else None
    except (ValueError, RecursionError):
        header = None
    return header if isinstance(header, dict) and 'journal' in header else None


def _started(header):
    return _shown(header.get('started_at')) if isinstance(header, dict) and header.get('started_at') else 'at an unknown time'


def live_owner(report_dir, me=None):
    """When the journal in ``report_dir`` was written by another run whose ansible-playbook is still alive on this host
    (its apply ended, its harden_report has not run yet): (that owner, the time its apply started, shown), else None.
    ``me``: this run's run_owner() (None: this process's parent's)."""
    fd = _open_journal(report_dir)
    if fd is None:
        return None
    try:
        header = _header(fd)
    finally:
        os.close(fd)
    owner = (header or {}).get('owner')
    if not owner_alive(owner) or same_owner(owner, run_owner() if me is None else me):
        return None
    return owner, _started(header)


def refuse_while_applying(report_dir, task, me=None):
    """InputError, before any request, when another run's harden_apply is applying into ``report_dir`` right now, or when
    another run applied into it and has not written its reports yet (its ansible-playbook is still alive: live_owner), or
    another run claimed it at its plan and has not written its reports yet (live_claim): a plan would call it interrupted
    and move its journal aside, an apply would change the same vaults beside it or remove that run's reports, reports would
    stand beside an apply whose own reports are still to come or be replaced by them. ``task``: the refused task's name; ``me``: this run's
    run_owner() (None: this process's parent's)."""
    outcome = 'no report was written' if task == 'harden_report' else 'nothing was sent to Azure'
    started = applying(report_dir)
    if started is not None:
        raise InputError('%s refused: another run\'s harden_apply is applying into the report directory %s right now (it holds '
                         'its %s there, started %s); two runs at once in one report directory would mix their journals and '
                         'reports. Wait for that run to end, or give this run a report directory of its own; %s'
                         % (task, shown(report_dir), JOURNAL, started, outcome))
    owned = live_owner(report_dir, me)
    if owned is None:
        claimed = live_claim(report_dir, me)
        if claimed is not None:
            _refuse_claimed(report_dir, task, claimed, outcome)
        return
    owner, started = owned
    # The header is a file anyone who may write the report directory can write: it may name a live process that is no run
    # of it (pid 1), for as long as that process lives. The refusal shows that process's command line and says how to clear it.
    raise InputError('%s refused: a run of the report directory %s has not written its reports yet: its harden_apply (started '
                     '%s) has ended, but its ansible-playbook (pid %d on this host: %s) is still running and has not run its '
                     'harden_report, which writes its reports and removes its %s there. Two runs at once in one report directory '
                     'would mix their journals and reports. Wait for that run to end, or give this run a report directory of '
                     'its own. If pid %d is no ansible-playbook run into this report directory, the journal was left or written '
                     'by something else: remove %s and run again; %s'
                     % (task, shown(report_dir), started, owner['pid'], command_line(owner['pid']), JOURNAL, owner['pid'],
                        shown(os.path.join(report_dir, JOURNAL)), outcome))


# ------------------------------------------------------------------------------------------- the run's claim

def _claim_doc(fd):
    """The claim open as ``fd`` (a dictionary with an owner), else the reason it cannot be read (text)."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        return 'it is not a regular file'
    with os.fdopen(os.dup(fd), 'rb') as stream:
        raw = stream.read(CLAIM_LIMIT + 1)
    if len(raw) > CLAIM_LIMIT:
        return 'it is longer than any claim (%d bytes at most)' % CLAIM_LIMIT
    try:
        doc = json.loads(raw.decode('utf-8'))
    except (ValueError, RecursionError):
        return 'it is not JSON'
    if not isinstance(doc, dict) or doc.get('claim') != CLAIM_KIND or not isinstance(doc.get('owner'), dict):
        return 'it is no claim of a vaultlock.azure run'
    return doc


def read_claim(report_dir):
    """The claim in ``report_dir``: None when there is none, its document (a dictionary: owner, claimed_at, check_mode) when
    it can be read, else the reason it cannot (text: a symlink, a FIFO, a directory, text that is no claim). Never blocks:
    a FIFO opens at once and is not read."""
    path = os.path.join(report_dir, CLAIM)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_CLOEXEC', 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            return 'it is a symlink'
        return 'it could not be opened (%s)' % (exc.strerror or exc)
    try:
        return _claim_doc(fd)
    except OSError as exc:
        return 'it could not be read (%s)' % (exc.strerror or exc)
    finally:
        os.close(fd)


def live_claim(report_dir, me=None):
    """The claim of another run in ``report_dir`` whose ansible-playbook is still alive on this host (its document), else
    None. ``me``: this run's run_owner() (None: this process's parent's)."""
    doc = read_claim(report_dir)
    if not isinstance(doc, dict) or not owner_alive(doc['owner']) or same_owner(doc['owner'], run_owner() if me is None else me):
        return None
    return doc


def _refuse_claimed(report_dir, task, doc, outcome):
    owner = doc['owner']
    claimed_at = _shown(doc.get('claimed_at')) if doc.get('claimed_at') else 'at an unknown time'
    # As for a journal's header: a file anyone who may write the report directory can write, which may name a live process
    # that is no run (pid 1). The refusal shows that process's command line and says how to clear it.
    raise InputError('%s refused: another run has claimed the report directory %s: its harden_plan planned into it %s%s and '
                     'its harden_report has not written its reports yet, and its ansible-playbook (pid %d on this host: %s) is '
                     'still running. Two runs at once in one report directory would remove or replace each other\'s reports '
                     'with ones that describe the vaults before the other run\'s writes. Wait for that run to end, or give this '
                     'run a report directory of its own. If pid %d is no ansible-playbook run into this report directory, the '
                     'claim was left or written by something else: remove %s and run again; %s'
                     % (task, shown(report_dir), claimed_at, ' (in check mode)' if doc.get('check_mode') is True else '',
                        owner['pid'], command_line(owner['pid']), owner['pid'], shown(os.path.join(report_dir, CLAIM)), outcome))


def claim_run(report_dir, plan_id, check_mode=False, me=None):
    """Claim ``report_dir`` for this run's plan ``plan_id`` from its harden_plan (check mode too) until the run's reports
    are written (release_claim): ``run-claim.json`` there names this run's ansible-playbook as the apply journal's header
    does (run_owner), and lists the run's plans into the directory in the order they were made (claim_plans). The claim
    lasts until every plan it lists is reported: a play that plans twice into one directory before either report holds it
    until its last report. Returns the warning when it took over another run's claim or one it could not read (below),
    else None. InputError, before any request, when another run's apply is applying into the directory, another run's
    journal or claim names a live ansible-playbook on this host (refuse_while_applying), or the claim cannot be written. A
    claim whose owner is gone (killed, or its play ended without its report task), written on another host (which this
    host cannot look at), or that cannot be read (hand-made, a symlink, a FIFO) is taken over, and said. ``me``: this
    run's run_owner() (None: this process's parent's).

    A claim of this run written by an earlier version of the collection (format 1: no plans listed) is kept and lists the
    plans from this one on; its own plan, unnamed, was reported when its file went (release_claim), as before."""
    me = run_owner() if me is None else me
    with report_dir_locked(report_dir):
        refuse_while_applying(report_dir, 'harden_plan', me)
        found = read_claim(report_dir)
        mine = isinstance(found, dict) and same_owner(found['owner'], me)
        doc = dict(found) if mine else {'claim': CLAIM_KIND, 'owner': me, 'claimed_at': _now()}
        plans = [entry for entry in claim_plans(doc) or [] if entry['plan'] != plan_id]
        order = _last_order(doc, plans) + 1
        plans.append({'plan': plan_id, 'order': order, 'check_mode': bool(check_mode), 'planned_at': _now(), 'reported': False})
        doc.update(format=CLAIM_FORMAT, plans=plans, last=order)
        _write_claim(report_dir, _summed(doc))
    return None if mine else _taken_over(found)


def claim_plans(doc):
    """The plans a claim document lists, in the order they were made ([{plan, order, check_mode, planned_at, reported}]:
    ``order`` counts up within the claim as the run plans, or a real apply of a plan starts changing vaults, claim_applied;
    ``reported``: its harden_report has run), else None: a claim of an earlier version (format 1, which names no plan) or
    a list that is not one (hand-edited)."""
    plans = doc.get('plans') if isinstance(doc, dict) else None
    if not isinstance(plans, list):
        return None
    for entry in plans:
        if not isinstance(entry, dict) or not isinstance(entry.get('plan'), str) or not _is_order(entry.get('order')):
            return None
    return [dict(entry) for entry in plans]


def _is_order(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _last_order(doc, plans):
    orders = [entry['order'] for entry in plans] + ([doc['last']] if _is_order(doc.get('last')) else [])
    return max(orders) if orders else 0


def _summed(doc):
    """``doc`` with what a refusal says of the claim brought up to date: check_mode when every plan still to be reported
    is of check mode."""
    waiting = [entry for entry in doc['plans'] if not entry.get('reported')]
    return dict(doc, check_mode=bool(waiting) and all(entry.get('check_mode') is True for entry in waiting))


def _my_claim(report_dir, me):
    """(this run's claim document, its plans or None for format 1), else None: no claim, another run's, or unreadable."""
    found = read_claim(report_dir)
    if not isinstance(found, dict) or not same_owner(found['owner'], me):
        return None
    return found, claim_plans(found)


def _taken_over(found):
    """What a plan says of the claim it replaced (None when there was none)."""
    if found is None:
        return None
    if not isinstance(found, dict):
        return ('the report directory held a claim (%s) that could not be read: %s; this run replaced it with its own' % (CLAIM, found))
    owner = found['owner']
    pid = owner.get('pid') if isinstance(owner.get('pid'), int) and not isinstance(owner.get('pid'), bool) else None
    if pid is None:
        whose = 'a run that names no process'
    elif _same_host(owner):
        whose = 'ansible-playbook pid %d, which has ended' % pid
    else:
        whose = ('ansible-playbook pid %d on host %s, which this host cannot look at: if that run is still going, its reports '
                 'and this run\'s replace each other' % (pid, _shown(owner.get('host'))))
    return ('the report directory was claimed (%s) by %s, whose run did not write its reports; this run took it over'
            % (CLAIM, whose))


class ClaimNotWritten(InputError):
    """The run's claim could not be rewritten or removed once its reports were written (harden_report: claim_reported,
    release_claim): the reports stand, and the task says what became of the claim instead of failing."""


def _write_claim(report_dir, doc, task='harden_plan', error=InputError):
    """Write the claim whole: a new file beside it, renamed over it (over a symlink or a FIFO in its place, never through
    it). ``error`` (InputError) when it cannot be written (nothing else changed). ``task``: the task that writes it, for
    the message."""
    data = (json.dumps(doc, separators=(',', ':'), sort_keys=True, default=str) + '\n').encode('utf-8')
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_CLOEXEC', 0)
    tmp = os.path.join(report_dir, '.%s.%d' % (CLAIM, os.getpid()))
    try:
        try:
            os.unlink(tmp)      # a temporary file of a process of this pid that was killed
        except FileNotFoundError:
            pass
        # 0666 less the umask, as the journal: a host name, a pid, the boot id and a start time.
        fd = os.open(tmp, flags, 0o666)
        try:
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
        os.replace(tmp, os.path.join(report_dir, CLAIM))
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if error is not InputError:
            raise error('%s could not be written in the report directory %s (%s)' % (CLAIM, shown(report_dir), exc.strerror or exc)) from exc
        raise InputError('%s cannot claim the report directory %s for this run: %s cannot be written there (%s); '
                         'if it is a directory, remove it and run again; nothing was sent to Azure'
                         % (task, shown(report_dir), CLAIM, exc.strerror or exc)) from exc


def release_claim(report_dir, plan_id, me=None, reported=True, locked=False):
    """Mark this run's plan ``plan_id`` reported in its claim of ``report_dir`` (``reported`` False: the plan failed, and is
    taken out of the claim), and remove the claim once every plan it lists is reported: until then the run's other plans
    into the directory are still to be reported, and another run stays refused. Another run's claim, one that cannot be
    read and a plan the claim does not list change nothing. A claim of an earlier version (format 1, no plans listed) is
    removed, as that version did. True when the claim was removed. ``locked``: the caller holds report_dir_locked.
    ClaimNotWritten when the claim cannot be rewritten or removed (it stays as it was: the run keeps the directory until
    its ansible-playbook ends); the caller says so."""
    me = run_owner() if me is None else me
    with (contextlib.nullcontext() if locked else report_dir_locked(report_dir)):
        mine = _my_claim(report_dir, me)
        if mine is None:
            return False
        doc, plans = mine
        if plans is not None:
            entry = next((entry for entry in plans if entry['plan'] == plan_id), None)
            if entry is None:
                return False
            if reported:
                entry['reported'] = True
            else:
                plans.remove(entry)
            if not all(entry.get('reported') for entry in plans):
                # Not written (a full disk): ClaimNotWritten. The claim stays as it was, the plan still to be reported, and the
                # run keeps the directory until it ends (the safe side); the caller says so.
                _write_claim(report_dir, _summed(dict(doc, plans=plans)), 'harden_report', ClaimNotWritten)
                return False
        try:
            os.unlink(os.path.join(report_dir, CLAIM))
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise ClaimNotWritten('%s could not be removed from the report directory %s (%s)'
                                  % (CLAIM, shown(report_dir), exc.strerror or exc)) from exc
    return True


def claim_unreadable_warning(report_dir):
    """What harden_report says (in its result and its reports) when the claim in ``report_dir`` can no longer be read (made a
    directory, a symlink or other text since the plan): the report can record nothing in it. None otherwise."""
    found = read_claim(report_dir)
    if not isinstance(found, str):
        return None
    return ('the run\'s claim on the report directory (%s) can no longer be read: %s. This report could not record itself in '
            'it, and another run may take the directory over; remove %s' % (CLAIM, found, shown(os.path.join(report_dir, CLAIM))))


def _my_plan(report_dir, plan_id, me):
    """(this run's claim document, its plans, the entry of plan ``plan_id``), else None: no claim of this run, one of an
    earlier version (no plans listed), or a claim that does not list the plan. ``me``: run_owner() (None: this run's)."""
    mine = _my_claim(report_dir, run_owner() if me is None else me)
    if mine is None or mine[1] is None:
        return None
    doc, plans = mine
    entry = next((entry for entry in plans if entry['plan'] == plan_id), None)
    return None if entry is None else (doc, plans, entry)


def claim_applied(report_dir, plan_id, me=None):
    """A real apply of this run's plan ``plan_id`` starts changing vaults (it has just removed the reports in
    ``report_dir``, harden_apply's start_run_journal, which holds report_dir_locked): the plan is now the run's latest
    into the directory (its reports will say what was written after any plan made before), and no reports of this run are
    there any more. Nothing happens without this run's claim listing the plan. InputError when the claim cannot be
    written: the caller sends nothing and removes no report."""
    found = _my_plan(report_dir, plan_id, me)
    if found is None:
        return
    doc, plans, entry = found
    entry['order'] = _last_order(doc, plans) + 1
    doc.update(plans=plans, last=entry['order'])
    doc.pop('reports', None)
    # Not written (a full disk, the directory no longer writable): InputError, and the apply fails before its first write
    # and before it removes any report (harden_apply's start_run_journal). Before, the failure was passed over and the apply
    # wrote with a claim that did not say so.
    _write_claim(report_dir, _summed(doc), 'harden_apply')


class PlanSuperseded(InputError):
    """harden_apply of a plan that a later plan of the same run into the same report directory superseded (refuse_stale_plan).
    ``later``: that plan's entry in the run's claim."""

    def __init__(self, message, later):
        super().__init__(message)
        self.later = later


def refuse_stale_plan(report_dir, plan_id, me=None, check_mode=False):
    """Refuse harden_apply of plan ``plan_id`` into ``report_dir`` before any request (check mode too: a real apply is
    refused the same way) when:

    - this run's claim lists a plan made after it, or applied for real after it (a higher order: claim_plans): that plan
      read the vaults later, its report replaces this plan's and this plan's report writes none (later_reports), so
      applying this plan would change Azure from the older reading while no report of it is written (PlanSuperseded);
    - the claim in the directory can no longer be read (made a directory, a symlink or other text since the plan): the run
      could neither record its apply in it nor keep the directory from another run (InputError).

    No claim (removed by hand), another run's claim (refuse_while_applying has refused a live one) and a claim that does
    not list the plan (an earlier version's) refuse nothing. ``me``: this run's run_owner() (None: this process's parent's)."""
    found = read_claim(report_dir)
    when = ' (check mode: a real apply of it is refused the same way)' if check_mode else ''
    if isinstance(found, str):
        raise InputError('harden_apply refused: this run\'s claim on the report directory %s (%s) can no longer be read: %s. The '
                         'apply could not record itself in it, and another run could take the directory over in the middle of '
                         'this one. Remove %s and plan again; nothing was sent to Azure%s'
                         % (shown(report_dir), CLAIM, found, shown(os.path.join(report_dir, CLAIM)), when))
    mine = _my_plan(report_dir, plan_id, me)
    if mine is None:
        return
    _doc, plans, entry = mine
    later = [other for other in plans if other['plan'] != plan_id and other['order'] > entry['order']]
    if not later:
        return
    latest = max(later, key=lambda other: other['order'])
    raise PlanSuperseded(
        'harden_apply refused: plan %s is superseded: plan %s%s of this ansible-playbook run into the same report directory %s '
        'was made, or applied for real, after it and read the vaults later. Applying plan %s would change the vaults from the '
        'older reading, and its report would write no report (the later plan\'s reports describe the vaults). %s; nothing '
        'was sent to Azure%s'
        % (plan_id, escaped(str(latest['plan'])), ' (in check mode)' if latest.get('check_mode') is True else '',
           shown(report_dir), plan_id,
           ('Apply plan %s, or plan again' % escaped(str(latest['plan'])) if latest.get('check_mode') == entry.get('check_mode')
            else 'Plan again'), when), latest)


def later_reports(report_dir, plan_id, me=None):
    """The entry of a later plan of this run (made, or applied for real, after plan ``plan_id`` was made or applied) whose
    reports are in ``report_dir`` now (claim_reported), else None. Plan ``plan_id``'s reports would replace them with an
    older reading of the fleet. The caller holds report_dir_locked."""
    found = _my_plan(report_dir, plan_id, me)
    if found is None:
        return None
    doc, plans, entry = found
    there = doc.get('reports')
    if not isinstance(there, dict) or not _is_order(there.get('order')) or there['order'] <= entry['order']:
        return None
    return next((other for other in plans if other['plan'] == there.get('plan')), {'plan': there.get('plan'), 'order': there['order']})


def claim_reported(report_dir, plan_id, me=None):
    """Record in this run's claim of ``report_dir`` that the reports there now are plan ``plan_id``'s (written by its
    harden_report, which holds report_dir_locked), at the plan's order: a report of an earlier plan of the run does not
    replace them (later_reports)."""
    found = _my_plan(report_dir, plan_id, me)
    if found is None:
        return
    doc, plans, entry = found
    doc['reports'] = {'plan': plan_id, 'order': entry['order']}
    # Not written: ClaimNotWritten (the reports are written already; harden_report says what it means).
    _write_claim(report_dir, _summed(doc), 'harden_report', ClaimNotWritten)


def command_line(pid):
    """The command line of process ``pid`` as a message shows it (/proc/<pid>/cmdline, its arguments joined by spaces,
    escaped, at most SHOWN characters), or 'a command this host does not show' where it cannot be read."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as stream:
            raw = stream.read(4 * SHOWN)
    except (OSError, ValueError, OverflowError):
        raw = b''
    text = raw.rstrip(b'\0').replace(b'\0', b' ').decode('utf-8', 'replace')
    return _shown(text) if text else 'a command this host does not show'


def earlier_apply_warning(report_dir, now=None, check_mode=False, me=None):
    """The warning of a harden_plan that finds an earlier apply's journal in ``report_dir`` (None when there is none); the
    journal is kept aside under a timestamped name first, except in check mode, which moves nothing (the real run's plan
    finds it and says so again). InputError, in check mode too, when that apply is still running, or its run (another
    ansible-playbook, alive) has not written its reports yet: its journal is neither moved nor called interrupted. Otherwise
    never raises: a journal that cannot be read or moved is said. ``me``: this run's run_owner() (None: this process's
    parent's)."""
    with report_dir_locked(report_dir):
        me = run_owner() if me is None else me
        refuse_while_applying(report_dir, 'harden_plan', me)
        return _earlier_apply_warning(report_dir, now, check_mode, me)


def _earlier_apply_warning(report_dir, now, check_mode, me):
    path = os.path.join(report_dir, JOURNAL)
    if not os.path.lexists(path):
        return None
    try:
        header, vaults, ended, bad = read_journal(path)
    except OSError as exc:
        header, vaults, ended, bad = None, {}, None, 0
        unread = 'it could not be read (%s)' % (exc.strerror or exc)
    else:
        unread = None
    if check_mode and not unread and _report_to_come(report_dir, header, me):
        return _pending_warning(header, vaults, ended, bad)
    try:
        kept = 'stays where it is (check mode)' if check_mode else 'is kept as %s' % set_aside(report_dir, now)
    except OSError as exc:
        kept = 'could not be kept aside (%s) and stays where it is' % (exc.strerror or exc)
    started_at = _shown((header or {}).get('started_at') or 'at an unknown time')
    if unread:
        return ('a journal of an earlier harden_apply (%s) was found in the report directory, but %s; %s. This plan reads the '
                'vaults as Azure holds them now' % (JOURNAL, unread, 'it ' + kept))
    changed = _outcome(vaults, ('changed',))
    how = ('finished its writes but its reports were not written' if ended
           else 'was interrupted (it did not finish: Ctrl-C, a cancelled job or a killed process)')
    parts = ['an earlier harden_apply into this report directory (started %s%s) %s: it changed %d vault(s)%s'
             % (started_at, _whose((header or {}).get('owner'), me), how, len(changed), (': ' + _names(changed)) if changed else '')]
    parts += _unfinished_parts(vaults, bad)
    parts.append('its journal (%s) %s; this plan reads the vaults as Azure holds them now' % (JOURNAL, kept))
    return '; '.join(parts)


def _outcome(vaults, outcomes):
    """The journal's vault states whose outcome is one of ``outcomes``."""
    return [state for state in vaults.values() if state['outcome'] in outcomes]


def _unfinished_parts(vaults, bad):
    """What a journal says beyond the vaults it changed: the vaults whose outcome is unknown, those that failed, and its
    lines that could not be read (each part only when there is one)."""
    parts = []
    unknown = _outcome(vaults, (None, 'unknown'))
    if unknown:
        parts.append('%d vault(s) were being changed when it stopped, whether they changed is unknown: %s' % (len(unknown), _names(unknown)))
    failed = _outcome(vaults, ('failed',))
    if failed:
        parts.append('%d vault(s) failed: %s' % (len(failed), _names(failed)))
    if bad:
        parts.append('%d line(s) of its journal could not be read' % bad)
    return parts


def _report_to_come(report_dir, header, me):
    """Whether the journal whose header is ``header`` is of a real apply of this run (its owner is ``me``) whose plan this
    run's claim of ``report_dir`` still lists as not reported: its harden_report is still to come, and removes it."""
    if not isinstance(header, dict) or not same_owner(header.get('owner'), me) or not isinstance(header.get('plan'), str):
        return False
    found = _my_plan(report_dir, header['plan'], me)
    return found is not None and not found[2].get('reported')


def _pending_warning(header, vaults, ended, bad):
    """What a check-mode plan says of the journal of this run's real apply whose report is still to come (_report_to_come):
    the journal is that report's (it removes it once the reports are written, or leaves it for the next plan when a later
    plan's reports replace them): left where it is, never called interrupted or unreported, never taken as this plan's."""
    changed = _outcome(vaults, ('changed',))
    parts = ['this ansible-playbook run\'s harden_apply of plan %s into this report directory (started %s) %s: it changed %d '
             'vault(s)%s' % (_shown(header.get('plan')), _shown(header.get('started_at') or 'at an unknown time'),
                             'finished its writes' if ended else 'did not finish', len(changed), (': ' + _names(changed)) if changed else '')]
    parts += _unfinished_parts(vaults, bad)
    parts.append('its report was still to come when this check-mode plan read the vaults: its journal (%s) is that report\'s and '
                 'stays where it is (this plan writes none and takes none as its own); this plan reads the vaults as Azure holds '
                 'them now' % JOURNAL)
    return '; '.join(parts)


def _whose(owner, me):
    """The run that wrote a journal, as the warning of a plan that keeps it aside says it ('' when the header names none)."""
    if not isinstance(owner, dict) or not isinstance(owner.get('pid'), int):
        return ''
    if same_owner(owner, me):
        return ', by this ansible-playbook run'
    if _same_host(owner):
        return ', by ansible-playbook pid %d, which has ended' % owner['pid']
    return (', by ansible-playbook pid %d on host %s, which this host cannot look at: if that run is still going, this plan '
            'called it unfinished too early' % (owner['pid'], _shown(owner.get('host'))))


def remove_journal(report_dir, plan_id, unchanging_only=False):
    """Remove ``report_dir``'s journal once the run of ``plan_id`` wrote its reports (a journal of another plan stays);
    True when removed. ``unchanging_only``: only the journal of an apply that had no vault to change (its header's
    ``vaults`` 0: a report that wrote no report, _harden_run.Superseded, leaves the record of an apply that changed vaults
    for the next plan to say)."""
    path = os.path.join(report_dir, JOURNAL)
    try:
        header, _vaults, _ended, _bad = read_journal(path)
    except OSError:
        return False
    if not header or header.get('plan') != plan_id:
        return False
    if unchanging_only and header.get('vaults') != 0:
        return False
    try:
        os.unlink(path)
    except OSError:
        return False
    return True
