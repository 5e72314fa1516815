# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every assumption about Azure is in docs/reliability.md's table "Where Azure has not said: the safe side, marked assumed".

An assumption is marked in the code: a comment or docstring saying ``assumed``, ``unsourced``, ``unconfirmed`` or ``not
published`` (or "no Microsoft source"), in the emulator (tests/emulator/*.py) and in the collection (plugins/**/*.py).
Each marker belongs to the top-level definition it is in (a function, a class' method, a constant; a comment to the
definition right below it; the module docstring to the file). The table's "How" column names code as
``path.py:Name`` (``path.py:Class.method``), or ``path.py`` for a file's module-level marker, and each row names a test.

Both ways are checked: every marker's definition is named by a row, and every name in the table is code that exists and
still carries a marker (so removing a marker or a row, or renaming the code, fails here).
"""

from __future__ import annotations

import ast
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[2]
DOC = REPO / 'docs' / 'reliability.md'
HEADING = '## Where Azure has not said: the safe side, marked assumed'
MARKER = re.compile(r"\b(?:assumed|unsourced|unconfirmed|not published)\b|\bno microsoft source\b", re.IGNORECASE)
CODE_REF = re.compile(r"`((?:tests/emulator|plugins)/[\w/]+\.py)(?::([\w.]+))?`")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py|test_\w+\.py)(?:::\w+)?`")
MODULE = '(module)'

# Markers that state no assumption, each with the words that say so (kept exact, so the list cannot go stale).
NOT_ASSUMPTIONS = {
    ('plugins/module_utils/_policy/_aliases.py', MODULE): 'none is assumed',
}


def _sources():
    files = sorted(REPO.glob('tests/emulator/*.py')) + sorted(REPO.glob('plugins/**/*.py'))
    return [path for path in files if '__pycache__' not in path.parts]


def _name(node):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [target.id for target in targets if isinstance(target, ast.Name)]
        if names:
            return names[0]
    return None


def _start(node, lines):
    """First line of a definition, its decorators and the comment block right above it (1-based)."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, 'decorator_list', [])])
    while first > 1 and lines[first - 2].strip().startswith('#'):
        first -= 1
    return first


def definitions(path):
    """{name: (first line, last line)} of a file's top-level definitions and their classes' methods, and the module
    docstring as MODULE."""
    text = path.read_text(encoding='utf-8')
    lines = text.splitlines()
    tree = ast.parse(text)
    found = {}
    if ast.get_docstring(tree) is not None:
        found[MODULE] = (tree.body[0].lineno, tree.body[0].end_lineno)
    for node in tree.body:
        name = _name(node)
        if name is None:
            continue
        found[name] = (_start(node, lines), node.end_lineno)
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found['%s.%s' % (name, item.name)] = (_start(item, lines), item.end_lineno)
    return found, lines


def markers():
    """{(relative path, definition): [marked line, ...]} for every marker in the emulator and the collection."""
    out = {}
    for path in _sources():
        found, lines = definitions(path)
        spans = sorted(((first, last, name) for name, (first, last) in found.items()), key=lambda s: (s[1] - s[0], s[0]))
        rel = path.relative_to(REPO).as_posix()
        for number, line in enumerate(lines, 1):
            if not MARKER.search(line):
                continue
            # The innermost definition holding the line (a method before its class); outside all: the module.
            owner = next((name for first, last, name in spans if first <= number <= last and name != MODULE), None)
            if owner is not None and '.' not in owner and '%s.' % owner in ' '.join(found):
                owner = next((name for first, last, name in spans if first <= number <= last and name.startswith(owner + '.')), owner)
            out.setdefault((rel, owner or MODULE), []).append(line.strip())
    return out


def table_rows():
    text = DOC.read_text(encoding='utf-8')
    assert HEADING in text, 'docs/reliability.md has no section %r' % HEADING
    section = text.split(HEADING, 1)[1].split('\n## ', 1)[0]
    rows = [line for line in section.splitlines() if line.startswith('| ') and not line.startswith('| ---')]
    assert rows and rows[0].startswith('| Promise |'), 'the table lost its header'
    return rows[1:]


def _cells(row):
    return [cell.strip() for cell in row.strip().strip('|').split(' | ')]


def table_refs():
    """[(row's first words, {(path, name)}, [test refs])] of the table; a bare path names the module."""
    out = []
    for row in table_rows():
        cells = _cells(row)
        assert len(cells) == 3, 'a row of the table does not have its three cells: %s' % row[:120]
        refs = {(path, name or MODULE) for path, name in CODE_REF.findall(cells[1])}
        tests = TEST_REF.findall(cells[2])
        out.append((cells[0][:80], refs, tests))
    return out


def test_every_marker_is_named_by_a_row_of_the_table():
    named = set().union(*(refs for _promise, refs, _tests in table_refs()))
    found = markers()
    for key, words in NOT_ASSUMPTIONS.items():
        assert key in found and any(words in line for line in found[key]), 'NOT_ASSUMPTIONS %s no longer says %r' % (key, words)
    missing = ['%s:%s (%s)' % (path, name, found[(path, name)][0][:90]) for path, name in sorted(found)
               if (path, name) not in named and (path, name) not in NOT_ASSUMPTIONS]
    assert not missing, ('assumptions the table "Where Azure has not said" of docs/reliability.md does not name (add them '
                         'to a row as `path.py:Name`, or `path.py` for a module docstring):\n' + '\n'.join(missing))


def test_every_name_in_the_table_is_code_that_still_says_it_is_assumed():
    found = markers()
    problems = []
    for promise, refs, _tests in table_refs():
        for path, name in sorted(refs):
            source = REPO / path
            if not source.is_file():
                problems.append('%s: %s does not exist' % (promise, path))
                continue
            defined, lines = definitions(source)
            if name != MODULE and name not in defined:
                problems.append('%s: %s has no %s' % (promise, path, name))
                continue
            if name == MODULE:
                marked = (path, MODULE) in found
            else:
                first, last = defined[name]
                marked = bool(MARKER.search('\n'.join(lines[first - 1:last])))
            if not marked:
                problems.append('%s: %s:%s carries no marker (assumed, unsourced, ...)' % (promise, path, name))
    assert not problems, '\n'.join(problems)


def test_every_row_names_a_test_that_exists():
    tests = {path.name: path for path in REPO.glob('tests/**/test_*.py')}
    problems = []
    for promise, refs, named in table_refs():
        if not named:
            problems.append('%s: names no test' % promise)
        for ref in named:
            if not ((REPO / ref).is_file() if '/' in ref else ref in tests):
                problems.append('%s: no test file %s' % (promise, ref))
    assert not problems, '\n'.join(problems)


def test_each_row_is_the_only_one_naming_one_of_its_assumptions():
    """Removing any row must fail test_every_marker_is_named_by_a_row_of_the_table: each row is the only one to name at
    least one marked definition. And the scan finds markers in both trees."""
    found = markers()
    assert any(path.startswith('tests/emulator/') for path, _name in found)
    assert ('plugins/module_utils/_retention.py', 'UNSOURCED_TIERS') in found
    rows = table_refs()
    assert len(rows) >= 10
    alone = []
    for index, (promise, refs, _tests) in enumerate(rows):
        others = set().union(*(r for i, (_p, r, _t) in enumerate(rows) if i != index))
        if not any(key in found for key in refs - others):
            alone.append(promise)
    assert not alone, 'rows whose removal nothing would notice (name a marked definition no other row names):\n' + '\n'.join(alone)
