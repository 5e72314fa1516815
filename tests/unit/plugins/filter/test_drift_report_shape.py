# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report filters check a drift.json document's shape before rendering it (module_utils/_reports/shape.py): a
document edited or cut by hand is refused naming its first wrong place, and no renderer's own error reaches the user.

Documents: drift_documents.check_document(), a check-mode drift.json with every optional section of the schema, edited
at every place once (the first vault, finding, tier... of each kind: every path with its list indexes taken out).
jsonschema (a test requirement, not a runtime one) judges each edited document by the same structural schema, so the
check refuses exactly what that schema refuses, and never what docs/drift-report-schema.json itself accepts.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os

import jsonschema
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vaultlock.azure.plugins.filter.drift import FilterModule
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import shown as _shown
from ansible_collections.vaultlock.azure.plugins.module_utils._reports import shape
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import SCHEMA_VERSION

from tests.unit.plugins.filter.drift_documents import SCHEMA_PATH, check_document, entries, schema

RENDERERS = ('drift_report_markdown', 'drift_report_junit', 'drift_report_html', 'drift_report_sarif')
NOT_WHOLE = ('vaultlock.azure.%%s: the report is not a whole drift.json document as drift_report_json writes it (schema %s: '
             'docs/drift-report-schema.json); was it edited or cut? %%s' % SCHEMA_VERSION)


def test_the_check_reads_the_schema_file_the_collection_ships():
    """The check's schema is structural() of docs/drift-report-schema.json, the file the collection ships (no copy of it
    to keep in step), and a valid JSON Schema."""
    assert os.path.samefile(shape.SCHEMA_FILE, SCHEMA_PATH)
    assert shape.schema() == shape.structural(schema())
    jsonschema.Draft202012Validator.check_schema(shape.schema())


def test_a_schema_file_that_cannot_be_read_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(shape, 'SCHEMA_FILE', str(tmp_path / 'missing.json'))
    monkeypatch.setattr(shape, '_LOADED', [])
    with pytest.raises(VaultlockError, match=r'drift report schema \(docs/drift-report-schema.json\) cannot be read .*reinstall'):
        shape.first_problem(check_document())


def test_the_documents_the_collection_writes_pass():
    document = check_document()
    jsonschema.Draft202012Validator(schema()).validate(document)
    assert shape.first_problem(document) is None
    for name in RENDERERS:
        assert FilterModule().filters()[name](document)


def test_the_first_wrong_place_is_named():
    document = check_document()
    document['vaults'][2]['findings'][0]['fixable'] = 'yes'
    assert shape.first_problem(document) == "vaults[2].findings[0].fixable: expected a boolean, got 'yes'"
    document = check_document()
    document['vaults'][1]['findings'][0]['setting'] = 'immutabilty'
    assert shape.first_problem(document).startswith("vaults[1].findings[0].setting: expected one of 'immutability', ")
    assert shape.first_problem(document).endswith(", got 'immutabilty'")
    document = check_document()
    del document['summary']['by_setting']['retention']['fixable']
    assert shape.first_problem(document) == 'summary.by_setting.retention.fixable: missing (it is required)'
    document['summary'] = []
    assert shape.first_problem(document) == 'summary: expected a dictionary, got a list'
    assert shape.first_problem({'summary': {}, 'vaults': [], 7: 1}) == 'the document: a key is 7, not text (a JSON object has text keys)'


def _places(node, path=()):
    """(path, value) of every value in a JSON document, depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield path + (key,), value
        yield from _places(value, path + (key,))


def _each_kind_once(document):
    """The first place of each kind: a path with its list indexes taken out stands for all the places it names."""
    seen = {}
    for path, value in _places(document):
        seen.setdefault(tuple('[]' if isinstance(part, int) else part for part in path), (path, value))
    return list(seen.values())


def _written(path):
    text = ''
    for part in path:
        text += '[%d]' % part if isinstance(part, int) else ('.' if text else '') + part
    return text


@contextlib.contextmanager
def _edited(document, path, value=None, remove=False):
    """``document`` with the value at ``path`` replaced by ``value`` (or removed), put back afterwards."""
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    old = parent[path[-1]]
    if remove:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    try:
        yield document
    finally:
        if remove and isinstance(parent, list):
            parent.insert(path[-1], old)
        else:
            parent[path[-1]] = old


# A value of another JSON type for each: what a hand edit makes of a value.
def _other(value):
    if isinstance(value, bool):
        return 'yes'
    if isinstance(value, str):
        return 3
    if isinstance(value, (int, float)):
        return '%s' % value
    if isinstance(value, list):
        return {'0': value[0]} if value else {}
    if isinstance(value, dict):
        return list(value)
    return 'none'


DOCUMENT = check_document()
PLACES = _each_kind_once(DOCUMENT)


def _inlined(node, root):
    """A schema with every $ref replaced by what it points at: jsonschema validates it three times faster (no resolver)."""
    if isinstance(node, dict):
        if '$ref' in node:
            rest = {key: _inlined(sub, root) for key, sub in node.items() if key != '$ref'}
            target = _inlined(shape._pointer(root, node['$ref']), root)  # pylint: disable=protected-access
            return {'allOf': [target, rest]} if rest else target
        return {key: _inlined(sub, root) for key, sub in node.items() if key != '$defs'}
    return [_inlined(sub, root) for sub in node] if isinstance(node, list) else node


STRUCTURAL = jsonschema.Draft202012Validator(_inlined(shape.structural(schema()), shape.structural(schema())))


def _render_or_refusal(name, document):
    """What the filter says: ('rendered', text) or ('refused', message). Any other exception fails the test."""
    try:
        return 'rendered', FilterModule().filters()[name](document)
    except AnsibleFilterError as exc:
        return 'refused', str(exc)


def _judge(document, path, name):
    """The check agrees with jsonschema on the structural schema (which only leaves keywords out of the schema file's, so
    what the file accepts the check accepts too); what it refuses is refused naming it; what it accepts renders (no
    'rendering it failed')."""
    problem = shape.first_problem(document)
    assert (problem is None) == STRUCTURAL.is_valid(document), (path, problem)
    if problem is not None:
        outcome, message = _render_or_refusal(name, document)
        if path == ('schema_version',) and 'schema_version' in document:
            # Another schema version is said to be one (document.check_report), not an edit.
            assert outcome == 'refused' and message == 'vaultlock.azure.%s: unsupported drift report schema_version %s (this collection ' \
                'writes %s)' % (name, _shown(document['schema_version']), SCHEMA_VERSION), message
        else:
            assert outcome == 'refused' and message == NOT_WHOLE % (name, problem), message
        return problem
    outcome, message = _render_or_refusal(name, document)
    assert outcome == 'rendered', (path, message)
    return None


def test_every_required_key_removed_in_turn_is_named():
    turn = itertools.cycle(RENDERERS)   # the filters in turn: each meets a share of every kind of edit
    removed = 0
    for path in (path for path, _value in PLACES if isinstance(path[-1], str)):
        with _edited(DOCUMENT, path, remove=True) as edited:
            problem = _judge(edited, path, next(turn))
        if problem is not None:
            assert problem == '%s: missing (it is required)' % _written(path), (path, problem)
            removed += 1
    assert removed > 250, removed


def test_every_value_of_another_type_is_named_or_rendered():
    turn = itertools.cycle(RENDERERS)
    refused = 0
    for path, value in PLACES:
        with _edited(DOCUMENT, path, _other(value)) as edited:
            problem = _judge(edited, path, next(turn))
        if problem is not None:
            assert problem.startswith((_written(path) + ':', _written(path) + '.', _written(path) + '[')), (path, problem)
            refused += 1
    assert refused > 400, refused


def test_every_value_nulled_is_named_or_rendered():
    """A value nulled is how the renderers failed before (a vault, a finding, a count): where the schema allows null the
    filters render it (in turn: each renders a share of the documents; all four rendered all of them when this was written)."""
    turn = itertools.cycle(RENDERERS)
    for path, _value in PLACES:
        with _edited(DOCUMENT, path, None) as edited:
            _judge(edited, path, next(turn))
    assert DOCUMENT == check_document()


@pytest.mark.parametrize('name', RENDERERS)
@pytest.mark.parametrize('edit,where', [
    (lambda r: r['vaults'].__setitem__(1, None), 'vaults[1]: expected a dictionary, got null'),
    (lambda r: r['vaults'][1]['findings'].__setitem__(0, None), 'vaults[1].findings[0]: expected a dictionary, got null'),
    (lambda r: r['changed'][0]['changes'].__setitem__(0, None), 'changed[0].changes[0]: expected a dictionary, got null'),
    (lambda r: r['summary'].pop('vaults'), 'summary.vaults: missing (it is required)'),
    (lambda r: r['posture']['rules'].__setitem__('immutability', None), 'posture.rules.immutability: expected a dictionary, got null'),
    (lambda r: r.__setitem__('errors', ['could not read']), "errors[0]: expected a dictionary, got 'could not read'"),
    (lambda r: r.__setitem__('warnings', 3), 'warnings: expected a list, got 3'),
], ids=['a vault null', 'a finding null', 'a change null', 'summary.vaults cut', 'a posture rule null', 'an error as text', 'warnings a number'])
def test_the_hand_edits_that_failed_inside_the_renderers_name_their_place(name, edit, where):
    """The hand edits of test_drift_filters (each failed inside a renderer with Python's words before the filters turned
    that into 'not a whole drift.json'): now each names its place."""
    document = check_document()
    edit(document)
    with pytest.raises(AnsibleFilterError) as caught:
        FilterModule().filters()[name](document)
    assert str(caught.value) == NOT_WHOLE % (name, where)


@pytest.mark.parametrize('name', RENDERERS)
def test_a_renderers_own_error_is_the_filters_error(name, monkeypatch):
    """A document of the right shape that a renderer still fails on (values that contradict each other, or a renderer's
    bug): the filter's error naming the exception, never the exception itself."""
    module = {'drift_report_markdown': 'document', 'drift_report_junit': 'document', 'drift_report_html': 'html',
              'drift_report_sarif': 'sarif'}[name]
    function = name.replace('drift_report_', 'render_')

    def broken(report, *args, **kwargs):
        return {}['no such key']
    from ansible_collections.vaultlock.azure.plugins.filter import drift as drift_filter  # pylint: disable=import-outside-toplevel
    monkeypatch.setattr(drift_filter, function, broken)
    filters = {'drift_report_markdown': drift_filter.drift_report_markdown, 'drift_report_junit': drift_filter.drift_report_junit,
               'drift_report_html': drift_filter.drift_report_html, 'drift_report_sarif': drift_filter.drift_report_sarif}
    del module
    with pytest.raises(AnsibleFilterError, match=r"^vaultlock\.azure\.%s: .*Its shape is as the schema says, but rendering it failed "
                       r"\(KeyError: 'no such key'\)" % name):
        filters[name](check_document())
    assert json.dumps(check_document())


# ---------------------------------------------------------------- drift_summary and drift_report_json: drift entries

ENTRIES = entries()


@pytest.mark.parametrize('edit', ['remove', None, 'other', ['x'], {'x': 1}], ids=['removed', 'null', 'another type', 'a list', 'a dictionary'])
def test_drift_entries_edited_anywhere_are_counted_or_refused(edit):
    """drift_summary and drift_report_json take vault_drift entries: an entry edited at any place (each kind once) is
    counted or refused as the filter's error. A vault_type or a finding's setting given as a list failed with Python's
    "unhashable type: 'list'", mua as a list with "'list' object has no attribute 'get'", a lock readiness count as a
    list with int()'s words."""
    filters = FilterModule().filters()
    for path, value in _each_kind_once(ENTRIES):
        with _edited(ENTRIES, path, _other(value) if edit == 'other' else edit, remove=edit == 'remove') as edited:
            for name, args in (('drift_summary', (edited,)), ('drift_report_json', (edited, {'check_mode': True, 'predict': True}))):
                try:
                    filters[name](*args)
                except AnsibleFilterError as exc:
                    assert str(exc).startswith('vaultlock.azure.%s: ' % name), (path, str(exc))


@pytest.mark.parametrize('name', ['drift_summary', 'drift_report_json'])
@pytest.mark.parametrize('path,value,words', [
    ((0, 'vault_type'), ['recovery_services'], r'drift\[0\]\.vault_type must be text \(as vault_drift makes it\), got list'),
    ((0, 'findings', 0, 'setting'), {'a': 1}, r'drift\[0\]\.findings\[0\]\.setting must be text \(as vault_drift makes it\), got dict'),
    ((0, 'mua'), ['protected'], r'drift\[0\]\.mua must be a dictionary \(as vault_drift makes it\), got list'),
    ((1, 'lock_readiness'), 'ready', r'drift\[1\]\.lock_readiness must be a dictionary \(as vault_drift makes it\), got str'),
])
def test_drift_entries_edited_are_refused_naming_the_place(name, path, value, words):
    with _edited(ENTRIES, path, value) as edited:
        with pytest.raises(AnsibleFilterError, match=r'^vaultlock\.azure\.%s: %s$' % (name, words)):
            FilterModule().filters()[name](edited, *(({},) if name == 'drift_report_json' else ()))


def test_an_entry_edited_deeper_than_the_check_is_still_the_filters_error():
    with _edited(ENTRIES, (1, 'lock_readiness', 'protected_items', 'count'), ['x']) as edited:
        with pytest.raises(AnsibleFilterError, match=r'^vaultlock\.azure\.drift_report_json: the drift entries \(or meta\) are not as the '
                           r'vaultlock\.azure\.vault_drift filter returns them \(were they edited or cut\?\): TypeError: int\(\) argument'):
            FilterModule().filters()['drift_report_json'](edited, {'check_mode': True})
