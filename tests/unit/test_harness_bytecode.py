# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration harness's start-up file (tests/integration/fork_freeze/sitecustomize.py) keeps the bytecode of what
ansible-core's collection loader imports, as CPython's own loader does, where ansible-core compiles it again in every
process. Each case imports a module of a collection written for the test through ansible-core's collection finder, in a
Python process of its own."""
from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
HARNESS = REPO / 'tests' / 'integration' / 'fork_freeze'

IMPORT = '''
import json, sys
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
_AnsibleCollectionFinder(paths=[sys.argv[1]], scan_sys_paths=False)._install()
from ansible_collections.probe.col.plugins.module_utils import probe
print(json.dumps({'value': probe.VALUE, 'file': probe.__file__, 'co_filename': probe.where.__code__.co_filename,
                  'loader': type(probe.__loader__).__name__}))
'''


def collection(tmp_path, value):
    source = tmp_path / 'ansible_collections' / 'probe' / 'col' / 'plugins' / 'module_utils' / 'probe.py'
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text('VALUE = %r\n\n\ndef where():\n    return VALUE\n' % value, encoding='utf-8')
    return source


def load(tmp_path, harness=True, write_bytecode=True):
    env = dict((k, v) for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONDONTWRITEBYTECODE'))
    if harness:
        env['PYTHONPATH'] = str(HARNESS)
    if not write_bytecode:
        env['PYTHONDONTWRITEBYTECODE'] = '1'
    proc = subprocess.run([sys.executable, '-c', IMPORT, str(tmp_path)], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_the_harness_keeps_the_bytecode_of_what_the_collection_loader_imports_and_reads_it_while_the_source_matches(tmp_path):
    source = collection(tmp_path, 'first')
    cached = pathlib.Path(importlib.util.cache_from_source(str(source)))
    got = load(tmp_path)
    # Still ansible-core's loader, with the file name it gives the code, and the bytecode CPython's loader would keep.
    assert got == {'value': 'first', 'file': str(source), 'co_filename': str(source), 'loader': '_AnsibleCollectionLoader'}
    assert cached.is_file()
    assert load(tmp_path)['value'] == 'first'
    # The source changed (another size): compiled again, never the stale bytecode.
    collection(tmp_path, 'second, longer')
    assert load(tmp_path)['value'] == 'second, longer'


def test_without_the_harness_or_where_bytecode_is_not_written_nothing_is_kept(tmp_path):
    source = collection(tmp_path, 'first')
    cached = pathlib.Path(importlib.util.cache_from_source(str(source)))
    # ansible-core's own loader compiles from the source and keeps nothing (what the harness saves).
    assert load(tmp_path, harness=False)['value'] == 'first'
    assert not cached.exists()
    # PYTHONDONTWRITEBYTECODE holds for these imports as for any other.
    got = load(tmp_path, write_bytecode=False)
    assert got['value'] == 'first' and got['co_filename'] == str(source)
    assert not cached.exists()
