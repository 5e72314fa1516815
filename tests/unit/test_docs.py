# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/plugins/*.md are generated from each plugin's own documentation and must stay in sync (make docs)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_plugin_pages_are_in_sync():
    proc = subprocess.run([sys.executable, str(REPO / 'docs' / 'generate.py'), '--check'], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_module_has_examples_and_documented_returns():
    import json  # pylint: disable=import-outside-toplevel
    import os  # pylint: disable=import-outside-toplevel
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / '.cache' / 'collections'))
    exe = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
    listing = json.loads(subprocess.run([exe, '-t', 'module', '--list', '--json', 'vaultlock.azure'], env=env, capture_output=True,
                                        text=True, check=True).stdout)
    assert len(listing) >= 5
    docs = json.loads(subprocess.run([exe, '-t', 'module', '--json'] + sorted(listing), env=env, capture_output=True, text=True,
                                     check=True).stdout)

    def walk(values, path=''):
        for key, spec in (values or {}).items():
            assert 'returned' in spec and 'sample' in spec or spec.get('type') in ('dict', 'list') and spec.get('contains'), path + key
            walk(spec.get('contains'), path + key + '.')

    for name, data in docs.items():
        assert data['examples'].strip(), name
        assert data['return'], name
        walk(data['return'], name + ':')
