# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_reports._plain: what is not a plain JSON value (Ansible's tagged strings and containers, tuples, sets, subclasses of
int and float, dates) becomes one; a report never holds a type json.dumps would refuse or keep as a subclass."""

from __future__ import annotations

import collections
import datetime
import enum
import json

from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import _plain


class Tagged(str):
    """Like a templated string of Ansible's: a str subclass."""


class Count(int):
    pass


class Ratio(float):
    pass


class Colour(enum.Enum):
    RED = 'red'


def test_values_that_are_not_plain_json_become_plain():
    value = {
        'mapping': collections.OrderedDict([(1, Tagged('a'))]),
        'tuple': (Tagged('b'), Count(2)),
        'set': {3},
        'frozen': frozenset(['x']),
        'ratio': Ratio(0.5),
        'when': datetime.datetime(2026, 12, 6, 9, 0, 0),
        'day': datetime.date(2026, 12, 6),
        'enum': Colour.RED,
        'none': None,
        'flag': True,
        'tagged': Tagged('c'),
    }
    plain = _plain(value)
    assert plain == {'mapping': {'1': 'a'}, 'tuple': ['b', 2], 'set': [3], 'frozen': ['x'], 'ratio': 0.5,
                     'when': '2026-12-06T09:00:00', 'day': '2026-12-06', 'enum': 'Colour.RED', 'none': None, 'flag': True,
                     'tagged': 'c'}
    # Exact types all the way down: nothing keeps a subclass.
    assert type(plain['tuple'][1]) is int and type(plain['ratio']) is float and type(plain['tagged']) is str  # pylint: disable=unidiomatic-typecheck
    assert json.loads(json.dumps(plain)) == plain
