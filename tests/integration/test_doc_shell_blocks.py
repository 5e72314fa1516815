# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every shell block of README.md and docs/*.md marked runnable runs as a script (issue 26, "docs that run").

The marker is an HTML comment on the line before a ```sh fence (docs/development.md, "Shell blocks that run"):

- ``<!-- runnable -->``: the block needs only the checkout (it starts the emulator itself when it needs one);
- ``<!-- runnable: emulator -->``: a block written for a real subscription, run against the tests' emulator holding
  demo/fleet.yml (AZURE_* and the CA bundle point at it; ANSIBLE_COLLECTIONS_PATH holds the checkout's copy).

Each block runs with ``bash -euo pipefail`` in a temporary copy of the checkout (the files git tracks or would track, and
``.venv`` linked to this virtualenv, whose bin comes first on PATH), HOME in a temporary directory, and none of the
caller's AZURE_* or ANSIBLE_* variables. A failing block fails with its file and line, the script and its output.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys

import pytest
import yaml

from tests.integration.conftest import REPO

DOCS = [REPO / 'README.md'] + sorted((REPO / 'docs').glob('*.md'))   # docs/plugins is generated from the plugins
MARKER = re.compile(r'^<!-- runnable(?:: *(?P<kind>[a-z]+))? -->\n', re.M)
FENCE = re.compile(r'```sh\n(?P<body>.*?)^```\n', re.M | re.S)
KINDS = {None, 'emulator'}
# The marked blocks per page: a marker that goes missing (or a new one) fails the first test, so a block never stops
# running unnoticed.
EXPECTED = {'docs/development.md': 1, 'docs/quickstart.md': 2}
TIMEOUT = 300


def marked_blocks():
    """[(where, kind, script)] of every marked block, where is 'path:line' of the block's first line."""
    found = []
    for path in DOCS:
        text = path.read_text(encoding='utf-8')
        for marker in MARKER.finditer(text):
            fence = FENCE.match(text, marker.end())
            line = text.count('\n', 0, marker.end()) + 2
            where = '%s:%d' % (path.relative_to(REPO), line)
            found.append((where, marker.group('kind'), fence.group('body') if fence else None))
    return found


BLOCKS = marked_blocks()


def test_the_docs_mark_the_blocks_that_run_and_every_marker_is_well_formed():
    for where, kind, script in BLOCKS:
        assert script is not None, '%s: a runnable marker must be followed by a ```sh block on the next line' % where
        assert kind in KINDS, '%s: unknown kind of runnable block %r (one of: runnable, runnable: emulator)' % (where, kind)
        assert '$ ' not in script.split('\n', 1)[0], '%s: a runnable block is a script, without $ prompts' % where
    counts = {}
    for where, _kind, _script in BLOCKS:
        page = where.split(':')[0]
        counts[page] = counts.get(page, 0) + 1
    assert counts == EXPECTED
    # A marker with a typo would not match MARKER: every line that starts a runnable comment must.
    for path in DOCS:
        text = path.read_text(encoding='utf-8')
        assert len(re.findall(r'^<!-- *runnable', text, re.M)) == len(MARKER.findall(text)), path


def checkout_copy(dest):
    """A copy of the checkout's files (tracked, or untracked and not ignored) with .venv linked to this virtualenv."""
    listed = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=REPO,
                            capture_output=True, check=True).stdout.decode('utf-8').split('\0')
    for rel in listed:
        source = REPO / rel
        if not rel or not source.is_file():      # a file deleted in the work tree
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    venv = pathlib.Path(sys.prefix)
    stamp = venv / '.installed'
    # make venv must find .venv up to date, never re-create the shared virtualenv: its stamp must be there, and newer
    # than the copied pins.
    assert stamp.is_file(), 'run the tests with the virtualenv make venv made (%s has no .installed)' % venv
    (dest / '.venv').symlink_to(venv, target_is_directory=True)
    for name in ('requirements.txt', 'requirements-dev.txt', 'constraints.txt'):
        os.utime(dest / name, (0, 0))
    return dest


def block_env(home, venv_bin):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(('AZURE_', 'ANSIBLE_', 'VAULTLOCK_', 'PYTEST_', 'REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE'))}
    env.update({'HOME': str(home), 'PATH': venv_bin + os.pathsep + env.get('PATH', ''), 'TMPDIR': str(home),
                'ANSIBLE_NOCOLOR': '1'})
    env.pop('VIRTUAL_ENV', None)
    env.pop('MAKEFLAGS', None)
    env.pop('MAKELEVEL', None)
    return env


def run_block(where, script, cwd, env):
    """Runs the block in a session of its own; its output goes to a file, so a process it left in the background (an
    emulator without its trap) neither holds the test up nor outlives it: the session is ended when bash is done."""
    path = cwd.parent / 'block.sh'
    path.write_text(script)
    log = cwd.parent / 'block.log'
    with open(log, 'w', encoding='utf-8') as out:
        proc = subprocess.Popen(['bash', '-euo', 'pipefail', str(path)], cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    output = log.read_text(encoding='utf-8', errors='replace')
    if proc.returncode != 0:
        pytest.fail('%s: the block failed with exit status %d%s\n--- script ---\n%s--- output ---\n%s'
                    % (where, proc.returncode, ' (killed after %d s)' % TIMEOUT if proc.returncode < 0 else '', script, output[-6000:]),
                    pytrace=False)
    return output


@pytest.mark.parametrize('where, kind, script', [b for b in BLOCKS if b[2] is not None], ids=[b[0] for b in BLOCKS if b[2] is not None])
def test_a_runnable_block_runs_as_a_script(where, kind, script, tmp_path, emulator):
    checkout = checkout_copy(tmp_path / 'checkout')
    home = tmp_path / 'home'
    home.mkdir()
    env = block_env(home, os.path.join(sys.prefix, 'bin'))
    if kind == 'emulator':
        fleet = yaml.safe_load((REPO / 'demo' / 'fleet.yml').read_text())
        subscription_ids = emulator.load_fleet(fleet).get('subscription_ids') or [s['id'] for s in fleet['subscriptions']]
        emulator.clear_journal()
        link = checkout / '.cache' / 'collections' / 'ansible_collections' / 'vaultlock' / 'azure'
        link.parent.mkdir(parents=True)
        link.symlink_to(checkout, target_is_directory=True)
        env.update(emulator.env)
        env.update({'AZURE_SUBSCRIPTION_ID': subscription_ids[0], 'ANSIBLE_COLLECTIONS_PATH': str(checkout / '.cache' / 'collections')})
    output = run_block(where, script, checkout, env)
    if kind == 'emulator':
        # The blocks written for a subscription did their work against the emulator, not somewhere else.
        assert emulator.journal(), (where, output[-3000:])
