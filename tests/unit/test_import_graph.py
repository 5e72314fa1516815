# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own imports form no cycle, and none of them hides inside a function (docs/DESIGN "Layers").

Every .py under plugins/ is parsed with ``ast``; each import of ``ansible_collections.vaultlock.azure.plugins.*``
(``import x``, ``from x import y``, ``from x import module``; at the top of a file or nested anywhere) is an edge
from that file to the imported file, and to every package above it that Python runs first (``from pkg.mod import y``
runs ``pkg/__init__.py``), except the importer's own packages. A cycle is named file by file; an import inside a function (or a method) is named
with its file and line. Lazy imports of Azure SDKs are not the collection's and are not looked at here.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLUGINS = ROOT / 'plugins'
PREFIX = 'ansible_collections.vaultlock.azure.plugins'


def module_name(path, plugins=PLUGINS):
    """plugins/module_utils/_rules/__init__.py -> module_utils._rules; plugins/module_utils/_x.py -> module_utils._x"""
    parts = list(path.relative_to(plugins).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def _targets(node, known):
    """The collection's modules an import node names (relative to plugins/), resolved against the known modules."""
    names = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        names = [node.module] + ['%s.%s' % (node.module, alias.name) for alias in node.names]
    found = []
    for name in names:
        if name != PREFIX and not name.startswith(PREFIX + '.'):
            continue
        rel = name[len(PREFIX) + 1:]
        # `from pkg import name`: name is a module of its own, or an attribute of pkg.
        while rel and rel not in known:
            rel = rel.rpartition('.')[0]
        if rel and rel not in found:
            found.append(rel)
    return found


def _with_packages(target, known):
    """The imported module and the collection's packages above it (Python imports those first)."""
    parts = target.split('.')
    return [m for m in ('.'.join(parts[:i]) for i in range(len(parts), 0, -1)) if m in known]


class _Imports(ast.NodeVisitor):
    def __init__(self, known):
        self.known = known
        self.edges = []      # (target, line)
        self.nested = []     # (target, line) of imports inside a function
        self.depth = 0

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function
    visit_Lambda = _function

    def _import(self, node):
        for target in _targets(node, self.known):
            self.edges.append((target, node.lineno))
            if self.depth:
                self.nested.append((target, node.lineno))

    visit_Import = _import
    visit_ImportFrom = _import


def import_graph(sources):
    """``sources``: {module name: source text}. Returns ({module: {imported module: first line}}, [(module, line,
    imported module)] of imports inside functions)."""
    known = set(sources)
    graph = {}
    nested = []
    for name, text in sources.items():
        visitor = _Imports(known)
        visitor.visit(ast.parse(text, filename=name))
        graph[name] = {}
        for target, line in visitor.edges:
            for module in _with_packages(target, known):
                if module != name and not name.startswith(module + '.'):
                    graph[name].setdefault(module, line)
        nested.extend((name, line, target) for target, line in visitor.nested)
    return graph, nested


def find_cycle(graph):
    """One cycle of the graph as a list of modules (first == last), or None."""
    state = {}
    stack = []

    def visit(node):
        state[node] = 'open'
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 'open':
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 'done'
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def collection_sources():
    return {module_name(path): path.read_text(encoding='utf-8') for path in sorted(PLUGINS.rglob('*.py'))}


def test_the_graph_covers_the_collection():
    graph, _nested = import_graph(collection_sources())
    assert 'module_utils._errors' in graph and 'action.harden_plan' in graph
    assert 'module_utils._errors' in graph['module_utils._vaults']


def test_no_import_cycle():
    graph, _nested = import_graph(collection_sources())
    cycle = find_cycle(graph)
    assert cycle is None, 'import cycle: %s' % ' -> '.join(cycle)


def test_no_collection_import_inside_a_function():
    _graph, nested = import_graph(collection_sources())
    assert not nested, 'imports of the collection inside functions (import them at the top): %s' % ', '.join(
        'plugins/%s.py:%d imports %s' % (name.replace('.', '/'), line, target) for name, line, target in nested)


# ---------------------------------------------------------------------------------------- the checks can fail

SYNTHETIC = {
    'module_utils._a': 'from ansible_collections.vaultlock.azure.plugins.module_utils._b import thing\n',
    'module_utils._b': ('import json\n\n\ndef later():\n'
                        '    from ansible_collections.vaultlock.azure.plugins.module_utils import _c\n    return _c\n'),
    'module_utils._c': 'import ansible_collections.vaultlock.azure.plugins.module_utils._a\n',
    'module_utils._d': 'from ansible_collections.vaultlock.azure.plugins.module_utils._errors import Error\n',
    'module_utils._errors': 'class Error(Exception):\n    pass\n',
}


def test_a_cycle_through_a_nested_import_is_found_and_named():
    graph, nested = import_graph(SYNTHETIC)
    assert graph['module_utils._b'] == {'module_utils._c': 5}
    assert find_cycle(graph) == ['module_utils._a', 'module_utils._b', 'module_utils._c', 'module_utils._a']
    assert nested == [('module_utils._b', 5, 'module_utils._c')]
    with pytest.raises(AssertionError, match=r'import cycle: module_utils\._a -> module_utils\._b -> module_utils\._c -> module_utils\._a'):
        cycle = find_cycle(graph)
        assert cycle is None, 'import cycle: %s' % ' -> '.join(cycle)


def test_an_acyclic_graph_passes():
    sources = dict(SYNTHETIC, **{'module_utils._c': 'import json\n'})
    graph, _nested = import_graph(sources)
    assert find_cycle(graph) is None


def test_importing_a_module_of_a_package_runs_the_package_first():
    sources = {'module_utils._rules': 'from ansible_collections.vaultlock.azure.plugins.module_utils._rules import _one\n',
               'module_utils._rules._one': 'from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import Rule\n',
               'module_utils._rules._base': 'from ansible_collections.vaultlock.azure.plugins.module_utils._low import x\n',
               'module_utils._low': 'from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import Rule\n'}
    graph, _nested = import_graph(sources)
    assert graph['module_utils._rules._one'] == {'module_utils._rules._base': 1}   # its own package is already running
    assert set(graph['module_utils._low']) == {'module_utils._rules._base', 'module_utils._rules'}
    assert find_cycle(graph) == ['module_utils._low', 'module_utils._rules', 'module_utils._rules._one', 'module_utils._rules._base',
                                 'module_utils._low']


def test_from_package_import_module_is_an_edge_to_the_module():
    sources = {'module_utils._rules': '', 'module_utils._rules._one': '',
               'module_utils._drift': 'from ansible_collections.vaultlock.azure.plugins.module_utils._rules import _one\n'}
    graph, _nested = import_graph(sources)
    assert set(graph['module_utils._drift']) == {'module_utils._rules', 'module_utils._rules._one'}
