# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loaded at start-up by every Python process the integration tests start (tests/integration/conftest.py puts this
directory first on PYTHONPATH): the processes of the test harness only, never the collection's users.

ansible-playbook forks a worker process for every task of every host, without exec. CPython's documentation of
``gc.freeze`` advises such a parent to freeze the collector's objects right before it forks, so that a collection in
the child does not write to (and so copy) every page of the parent's objects it visits. Measured on the whole
integration suite (pytest -n 3, 2 cores): 299 CPU-seconds and 166 s without, 272 and 150 s with it. Nothing the tests
assert depends on it: the collection neither relies on nor changes the garbage collector.

Any other sitecustomize on the path (a distribution's, say) is still run after this one.
"""

import gc
import importlib.machinery
import importlib.util
import os
import sys

os.register_at_fork(before=gc.freeze)

HERE = os.path.dirname(os.path.abspath(__file__))
OTHER = importlib.machinery.PathFinder.find_spec('sitecustomize', [path for path in sys.path if os.path.abspath(path or '.') != HERE])
if OTHER is not None and OTHER.loader is not None:
    OTHER.loader.exec_module(importlib.util.module_from_spec(OTHER))
