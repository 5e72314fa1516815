# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration files' order under pytest-xdist (tests/integration/scheduling.py): every file has a weight, the
heaviest start first, each file's tests keep their order, and the integration conftest tells xdist to keep that order."""

from __future__ import annotations

import configparser
import pathlib
import re

from tests.integration import conftest as integration_conftest
from tests.integration import scheduling

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_every_integration_file_has_a_weight_and_every_weight_a_file():
    # Files with tests (test_role_tiers.py and test_azure_policy.py hold only fleets and helpers the steps files import).
    files = {path.name for path in (ROOT / 'tests' / 'integration').glob('test_*.py')
             if re.search(r'^(async )?def test_', path.read_text(encoding='utf-8'), re.M)}
    weights = scheduling.load_weights()
    assert set(weights) == files
    assert all(isinstance(seconds, (int, float)) and seconds > 0 for seconds in weights.values()), weights


def test_heaviest_files_first_each_file_in_its_own_order():
    ids = ['tests/integration/test_a.py::test_1', 'tests/integration/test_b.py::test_1', 'tests/integration/test_a.py::test_2',
           'tests/integration/test_c.py::test_1[x]', 'tests/integration/test_c.py::test_1[y]', 'tests/integration/test_d.py::test_1']
    weights = {'test_a.py': 5.0, 'test_b.py': 30.0, 'test_c.py': 5.0, 'test_d.py': 12.5}
    assert scheduling.ordered(ids, weights) == [
        'tests/integration/test_b.py::test_1', 'tests/integration/test_d.py::test_1',
        # a tie: by file name
        'tests/integration/test_a.py::test_1', 'tests/integration/test_a.py::test_2',
        'tests/integration/test_c.py::test_1[x]', 'tests/integration/test_c.py::test_1[y]']


def test_a_file_without_a_weight_starts_early_and_other_files_follow_by_their_number_of_tests():
    ids = ['tests/unit/test_u.py::test_1', 'tests/integration/test_a.py::test_1', 'tests/integration/test_new.py::test_1',
           'tests/integration/test_b.py::test_1', 'tests/unit/test_t.py::test_1', 'tests/integration/sub/test_x.py::test_1',
           'tests/unit/test_t.py::test_2', 'tests/unit/test_s.py::test_1']
    weights = {'test_a.py': 1.0, 'test_b.py': 9.0}
    assert scheduling.ordered(ids, weights) == [
        'tests/integration/test_b.py::test_1', 'tests/integration/test_new.py::test_1', 'tests/integration/test_a.py::test_1',
        # two tests, then the files of one test in their order
        'tests/unit/test_t.py::test_1', 'tests/unit/test_t.py::test_2',
        'tests/unit/test_u.py::test_1', 'tests/integration/sub/test_x.py::test_1', 'tests/unit/test_s.py::test_1']


def test_files_stay_together_and_the_integration_conftest_keeps_this_order():
    ini = configparser.ConfigParser()
    ini.read(ROOT / 'pytest.ini')
    options = ini['pytest']['addopts'].split()
    assert '--dist' in options and options[options.index('--dist') + 1] == 'loadfile'
    assert '--no-loadscope-reorder' not in options         # a run of tests/unit alone keeps xdist's own order

    class Config:
        class option:  # pylint: disable=invalid-name,too-few-public-methods
            loadscopereorder = True

    integration_conftest.pytest_configure(Config)
    assert Config.option.loadscopereorder is False
