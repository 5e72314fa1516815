# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Imported by every Python process `make coverage` and `make playbook-count` start (this directory is on PYTHONPATH).

COVERAGE_PROCESS_START (tests/coverage/coveragerc): starts coverage.py in the process, so the pytest workers, every
ansible-playbook the integration tests start, its task workers (where the collection's modules run in process, through
coverage's multiprocessing support) and any AnsiballZ module process all record the lines of plugins/ they run.

VAULTLOCK_PROCESS_LOG (a file): appends the program name of every Python process to it, one line each, with the test
file that started it (PYTEST_CURRENT_TEST, which pytest sets and the process inherits), so a run of the suite can count
the ansible-playbook runs of each test file.
"""

from __future__ import annotations

import os
import sys

if os.environ.get('VAULTLOCK_PROCESS_LOG'):
    with open(os.environ['VAULTLOCK_PROCESS_LOG'], 'a', encoding='utf-8') as _log:
        _program = os.path.basename(sys.argv[0] if sys.argv and sys.argv[0] else sys.executable)
        _log.write('%s\t%s\n' % (_program, os.environ.get('PYTEST_CURRENT_TEST', '').split('::')[0]))

if os.environ.get('COVERAGE_PROCESS_START'):
    try:
        import coverage  # not in every virtualenv: make coverage checks for it first
    except ImportError:
        coverage = None
    if coverage is not None:
        coverage.process_startup()
