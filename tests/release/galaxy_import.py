# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gatekeeper: import the built tarball as Galaxy does, then ask ansible-builder what an execution environment gets.

Run with the tools virtualenv's Python (make galaxy-import). Fails when galaxy-importer fails, when it prints a
warning or error that is not accepted below, or when ansible-builder does not find the collection's Python
requirements.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# Warnings we accept, each with its reason (docs/development.md says the same):
ACCEPTED = [
    # galaxy-importer hands every file under plugins/filter/ to flake8, the YAML documentation files of the filter
    # plugins too (ansible-doc reads them: several filters share drift.py, so their docs cannot be docstrings).
    # flake8 parses them as Python and reports E999. Not a defect of the files.
    re.compile(r'^WARNING: plugins/filter/[a-z_]+\.yml:\d+:\d+: E999 '),
]


def run_importer(tarball):
    env = dict(os.environ)
    env['GALAXY_IMPORTER_CONFIG'] = os.path.join(HERE, 'galaxy-importer.cfg')
    with tempfile.TemporaryDirectory(prefix='vaultlock-galaxy-') as tmp:
        env['ANSIBLE_LOCAL_TEMP'] = os.path.join(tmp, 'ansible-tmp')
        env['HOME'] = tmp  # ansible-lint and ansible-doc write caches under HOME
        # cwd: the importer writes importer_result.json into the current directory.
        proc = subprocess.run([sys.executable, '-m', 'galaxy_importer.main', os.path.abspath(tarball)], env=env, cwd=tmp,
                              capture_output=True, text=True, check=False)
    output = proc.stdout + proc.stderr
    problems = []
    for line in output.splitlines():
        if re.match(r'^(WARNING|ERROR)\b', line) and not any(p.match(line) for p in ACCEPTED):
            problems.append(line)
    accepted = [line for line in output.splitlines() if any(p.match(line) for p in ACCEPTED)]
    print('galaxy-importer: exit %d, %d accepted warning(s), %d other warning(s) or error(s)' % (
        proc.returncode, len(accepted), len(problems)))
    for line in problems:
        print('  ' + line)
    if proc.returncode != 0 and not problems:
        print(output[-4000:])
    return proc.returncode == 0 and not problems


def run_introspect(tarball):
    """Install the tarball into a temporary path and list what ansible-builder would pip-install for it."""
    bindir = os.path.dirname(sys.executable)
    with tempfile.TemporaryDirectory(prefix='vaultlock-ee-') as tmp:
        subprocess.run([os.path.join(bindir, 'ansible-galaxy'), 'collection', 'install', '--offline', '-p', tmp, tarball],
                       check=True, capture_output=True, text=True)
        proc = subprocess.run([os.path.join(bindir, 'ansible-builder'), 'introspect', '--sanitize', tmp],
                              capture_output=True, text=True, check=False)
    with open(os.path.join(REPO, 'requirements.txt'), encoding='utf-8') as handle:
        wanted = [re.split(r'[<>=!~ ;\[]', line.strip())[0].lower() for line in handle if line.strip() and not line.startswith('#')]
    found = proc.stdout.lower()
    missing = [name for name in wanted if not re.search(r"^\s*-?\s*'?%s\b.*vaultlock\.azure" % re.escape(name), found, re.MULTILINE)]
    print('ansible-builder introspect: exit %d, %d of %d requirements from vaultlock.azure' % (
        proc.returncode, len(wanted) - len(missing), len(wanted)))
    if proc.returncode != 0 or missing:
        print('  missing: %s' % ', '.join(missing) if missing else proc.stdout + proc.stderr)
        return False
    return True


def main():
    tarball = sys.argv[1]
    ok = run_importer(tarball)
    ok = run_introspect(tarball) and ok
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
