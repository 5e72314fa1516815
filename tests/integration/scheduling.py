# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The order in which pytest-xdist hands the integration test files to its workers (issue 24).

Under ``--dist loadfile`` a file is one unit of work, and a worker gets the next file when it has two tests or fewer
left. The suite is CPU-bound on two workers, so its wall time is about its tests' time halved, plus whatever one worker
still runs after the other has run out of files. Longest files first (the classic longest-processing-time rule) keeps that
tail to about one short file. tests/integration/conftest.py turns off xdist's own order (``--no-loadscope-reorder``),
which hands out files by their number of tests, which says little about their time: one test of test_inventory.py runs
bench/run.py for half a minute. In a run with other tests (tests/unit with tests/integration, as ``make coverage`` runs
them), their files come after the integration files, by their number of tests as xdist would order them.

``file_weights.json`` holds each file's seconds, the sum of its tests' times (setup, call and teardown) in one run of
``pytest -n 2 tests/integration --junitxml``, with the run it comes from. Its numbers need only be roughly right, and
in the right order: re-measure them when a file's cost changes by much. tests/unit/test_scheduling.py fails when a
test file has no weight or a weight names no file, and checks the order.
"""

from __future__ import annotations

import json
import pathlib
import sys
import xml.etree.ElementTree as ET

WEIGHTS = pathlib.Path(__file__).resolve().parent / 'file_weights.json'
PREFIX = 'tests/integration/'


def load_weights(path=WEIGHTS):
    """{file name (test_x.py): seconds} of file_weights.json."""
    return dict(json.loads(pathlib.Path(path).read_text(encoding='utf-8'))['seconds'])


def file_of(nodeid):
    """tests/integration/test_x.py::test_y[a] -> test_x.py for an integration test; None for any other test."""
    path = nodeid.split('::', 1)[0]
    if not path.startswith(PREFIX) or '/' in path[len(PREFIX):]:
        return None
    return path[len(PREFIX):]


def ordered(nodeids, weights):
    """The node ids with the integration files heaviest first (a tie by file name), each file's tests in their own order;
    other tests (tests/unit in the same run, say) after them, their files by number of tests (most first; a tie in their
    order), as pytest-xdist orders files by default. A file without a weight counts as the heaviest known file, so a new
    file starts early rather than last."""
    default = max(weights.values()) if weights else 0.0
    groups = {}
    first = []
    others = {}
    for nodeid in nodeids:
        name = file_of(nodeid)
        if name is None:
            others.setdefault(nodeid.split('::', 1)[0], []).append(nodeid)
            continue
        if name not in groups:
            groups[name] = []
            first.append(name)
        groups[name].append(nodeid)
    files = sorted(first, key=lambda name: (-weights.get(name, default), name))
    rest = sorted(others.values(), key=len, reverse=True)      # sorted() is stable: a tie keeps its order
    return [nodeid for name in files for nodeid in groups[name]] + [nodeid for group in rest for nodeid in group]


def weights_from_junit(path):
    """{file name: seconds} from a junit XML of the integration tests (pytest --junitxml): each file's tests added up."""
    seconds = {}
    for case in ET.parse(path).iter('testcase'):
        name = case.get('classname', '').split('.')[-1] + '.py'
        seconds[name] = seconds.get(name, 0.0) + float(case.get('time') or 0.0)
    return {name: round(value, 1) for name, value in sorted(seconds.items())}


def main(argv):
    """python -m tests.integration.scheduling JUNIT_XML 'WHERE IT WAS MEASURED': rewrites file_weights.json."""
    junit, source = argv
    WEIGHTS.write_text(json.dumps({'source': source, 'seconds': weights_from_junit(junit)}, indent=1) + '\n', encoding='utf-8')


if __name__ == '__main__':
    main(sys.argv[1:])
