# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests read only files inside the repository, and every copied fixture says where it came from."""
from __future__ import annotations

import pathlib
import re

from tests.fixtures import FIXTURES, REAL, REFERENCE

TESTS = pathlib.Path(__file__).resolve().parents[1]
# A path that leaves the checkout for the shared reference folder, or the old override of it.
OUTSIDE = re.compile(r"""\.\./shared|['"]shared['"]|AZURE_REFERENCE_DIR""")


def test_no_test_reads_the_shared_folder():
    offenders = []
    for path in TESTS.rglob('*.py'):
        if path == pathlib.Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append('%s:%d: %s' % (path.relative_to(TESTS.parent), number, line.strip()))
    assert not offenders, '\n'.join(offenders)


def test_every_fixture_folder_names_its_source():
    assert (REFERENCE / 'SOURCE.md').is_file()
    listed = (REFERENCE / 'SOURCE.md').read_text(encoding='utf-8')
    for path in REFERENCE.rglob('*.json'):
        assert '`%s`' % path.relative_to(REFERENCE).as_posix() in listed, path
    folders = [p for p in REAL.iterdir() if p.is_dir()]
    assert len(folders) >= 9
    for folder in folders:
        assert (folder / 'SOURCE.txt').is_file(), folder
    assert (FIXTURES / 'README.md').is_file()


def test_replay_sequences_are_present():
    names = {p.name for p in (REAL / 'replay').glob('*.json')}
    assert {'A_dp_vault_update.json', 'B_rs_softdelete_basic.json', 'C_rs_immutability.json', 'D_rs_enhanced_policy.json'} <= names
