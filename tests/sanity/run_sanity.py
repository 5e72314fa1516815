# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run `ansible-test sanity` on this checkout from a temporary ansible_collections/vaultlock/azure tree.

ansible-test bootstraps pip in its test virtualenvs with a get-pip script downloaded from a host that
this network does not reach. It first looks in its cache, so we put a stand-in there that bootstraps
pip with ensurepip and then installs what it was asked to from the package index.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile

STANDIN = '''\
"""Stand-in for get-pip.py written by vaultlock.azure's tests/sanity/run_sanity.py."""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap()
# ensurepip points PIP_CONFIG_FILE at /dev/null, which hides the machine's pip configuration.
os.environ.pop('PIP_CONFIG_FILE', None)
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args))
'''


def pip_version():
    from ansible_test._internal.python_requirements import get_venv_packages  # pylint: disable=import-outside-toplevel

    class _Python:  # only .version is read
        version = '%d.%d' % sys.version_info[:2]
    return get_venv_packages(_Python())['pip']


def install_standin():
    path = os.path.expanduser('~/.ansible/test/cache/get_pip_%s.py' % pip_version().replace('.', '_'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(STANDIN)


def build_tree(repo, root):
    dest = os.path.join(root, 'ansible_collections', 'vaultlock', 'azure')
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=repo, check=True,
                           capture_output=True).stdout.decode().split('\0')
    for name in files:
        if not name or not os.path.exists(os.path.join(repo, name)):
            continue
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(repo, name), target)
    return dest


@contextlib.contextmanager
def hold_lock():
    """Wait until no other `make sanity` of this user runs, and hold the lock while the with block runs.

    ansible-test keeps its sanity virtualenvs under ~/.ansible/test for every checkout of the user: two runs at once
    (make check in one worktree, make test in another) would install into them at the same time.
    """
    path = os.path.expanduser('~/.ansible/test/vaultlock-sanity.lock')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'a', encoding='utf-8') as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print('make sanity: another make sanity of this user is running; waiting for it to end', flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def main():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with hold_lock():
        install_standin()
        root = tempfile.mkdtemp(prefix='vaultlock-sanity-')
        try:
            dest = build_tree(repo, root)
            cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-test'), 'sanity', '--local', '--python',
                   '%d.%d' % sys.version_info[:2], '--requirements', '--color', 'no'] + sys.argv[1:]
            print('+ ' + ' '.join(cmd), flush=True)
            return subprocess.call(cmd, cwd=dest)
        finally:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
