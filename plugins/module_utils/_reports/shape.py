# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The shape of a drift.json document, checked before a report filter renders it.

A drift.json read back and edited or cut by hand failed inside a renderer with Python's words; ``first_problem(document)``
names instead the first place that is not as the schema says (``vaults[3].findings[0].fixable: expected a boolean, got
'yes'``). The schema is docs/drift-report-schema.json itself, read once (``schema()``), less what a renderer does not
depend on: ``structural()`` keeps the keywords that say which keys there are and what each holds (type, enum, const,
required, properties, items, $ref, $defs, oneOf, allOf, and additionalProperties where it is a schema), and leaves out the
descriptions, patterns, formats, bounds, minItems and ``additionalProperties: false`` (a key the collection does not write
is never read, so a reader's own note in the document is no reason to refuse it). One schema file, no copy to keep in
step; jsonschema is not needed at run time.

``oneOf`` is checked as "one of them holds": every oneOf of the schema is null or a value of another type, and the
keywords left out are what would let two branches hold at once.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError, shown

# The keywords structural() keeps.
KEPT = ('type', 'enum', 'const', 'required', 'properties', 'items', '$ref', '$defs', 'oneOf', 'allOf', 'additionalProperties')


def structural(schema):
    """The part of a JSON Schema (a dict) that SCHEMA holds: KEPT keywords only, additionalProperties only as a schema."""
    out = {}
    for key, value in schema.items():
        if key not in KEPT:
            continue
        if key in ('properties', '$defs'):
            out[key] = {name: structural(sub) for name, sub in value.items()}
        elif key in ('oneOf', 'allOf'):
            out[key] = [structural(sub) for sub in value]
        elif key == 'items':
            out[key] = structural(value)
        elif key == 'additionalProperties':
            if isinstance(value, Mapping):
                out[key] = structural(value)
        else:
            out[key] = value
    return out


# The schema file the collection ships (galaxy.yml's build_ignore keeps docs/), read once, on the first check: the
# report filters run on the controller only, where the collection is files on disk.
SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, os.pardir, 'docs', 'drift-report-schema.json')
_LOADED = []


def schema():
    """structural() of docs/drift-report-schema.json, read once; a VaultlockError naming the file when it cannot be read."""
    if not _LOADED:
        try:
            with open(SCHEMA_FILE, encoding='utf-8') as handle:
                _LOADED.append(structural(json.load(handle)))
        except (OSError, ValueError) as exc:
            raise VaultlockError('the collection\'s drift report schema (docs/drift-report-schema.json) cannot be read (%s): '
                                 'reinstall the collection' % shown(exc))
    return _LOADED[0]


_TYPE_WORDS = {'string': 'a string', 'integer': 'a whole number', 'number': 'a number', 'boolean': 'a boolean', 'object': 'a dictionary',
               'array': 'a list', 'null': 'null'}
_KEY = re.compile(r'^[A-Za-z0-9_-]+$')
_SHOWN_MAX = 60


def _is(value, json_type):
    """Whether ``value`` is of a JSON Schema type (JSON's: a boolean is no number, 3.0 is an integer)."""
    if json_type == 'null':
        return value is None
    if json_type == 'boolean':
        return isinstance(value, bool)
    if json_type == 'string':
        return isinstance(value, str)
    if json_type == 'object':
        return isinstance(value, Mapping)
    if json_type == 'array':
        return isinstance(value, (list, tuple))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if json_type == 'integer':
        return isinstance(value, int) or (math.isfinite(value) and value.is_integer())
    return json_type == 'number'


def _same(value, wanted):
    """JSON equality of a value and an enum / const member: true is not 1, 'x' is not a number."""
    if wanted is None or isinstance(wanted, bool):
        return value is wanted
    if isinstance(wanted, str):
        return isinstance(value, str) and value == wanted
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value == wanted


def _got(value):
    if isinstance(value, Mapping):
        return 'a dictionary'
    if isinstance(value, (list, tuple)):
        return 'a list'
    text = shown(value)
    return text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX - 4] + "...'"


def _choices(values):
    words = [shown(v) for v in values]
    return words[0] if len(words) == 1 else '%s or %s' % (', '.join(words[:-1]), words[-1])


def _key_path(path, key):
    if isinstance(key, str) and _KEY.match(key):
        return '%s.%s' % (path, key) if path else key
    return '%s[%s]' % (path, shown(key))


def _pointer(root, ref):
    """The schema a local ``$ref`` (``#/$defs/vault``, ``#/$defs/baseline/properties/soft_delete``) points at."""
    if not ref.startswith('#/'):
        raise ValueError('unsupported $ref %s' % ref)
    node = root
    for part in ref[2:].split('/'):
        part = part.replace('~1', '/').replace('~0', '~')
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _resolve(schema, root):
    while '$ref' in schema:
        schema = _pointer(root, schema['$ref'])
    return schema


def _types(schema):
    declared = schema.get('type')
    return [declared] if isinstance(declared, str) else list(declared or [])


def _admits(schema, value, root):
    """Whether a oneOf branch is of the value's kind (its type, enum or const allows that kind), to name its problem."""
    schema = _resolve(schema, root)
    if 'type' in schema:
        return any(_is(value, t) for t in _types(schema))
    if 'enum' in schema:
        return any(value is None if v is None else isinstance(value, type(v)) and isinstance(value, bool) == isinstance(v, bool)
                   for v in schema['enum'])
    return True


def _problem(value, schema, path, root):
    if '$ref' in schema:
        # The schema pointed at, then the keywords beside the $ref (JSON Schema 2020-12 applies both).
        found = _problem(value, _pointer(root, schema['$ref']), path, root)
        if found:
            return found
        schema = {key: sub for key, sub in schema.items() if key != '$ref'}
    where = path or 'the document'
    types = _types(schema)
    if types and not any(_is(value, t) for t in types):
        return '%s: expected %s, got %s' % (where, ' or '.join(_TYPE_WORDS[t] for t in types), _got(value))
    if 'const' in schema and not _same(value, schema['const']):
        return '%s: expected %s, got %s' % (where, shown(schema['const']), _got(value))
    if 'enum' in schema and not any(_same(value, v) for v in schema['enum']):
        return '%s: expected one of %s, got %s' % (where, _choices(schema['enum']), _got(value))
    for part in schema.get('allOf') or []:
        found = _problem(value, part, path, root)
        if found:
            return found
    if 'oneOf' in schema:
        found = [_problem(value, part, path, root) for part in schema['oneOf']]
        if all(found):
            kind = [text for part, text in zip(schema['oneOf'], found) if _admits(part, value, root)]
            return kind[0] if len(kind) == 1 else found[0]
    if isinstance(value, Mapping):
        return _object_problem(value, schema, path, root)
    if isinstance(value, (list, tuple)) and 'items' in schema:
        for index, item in enumerate(value):
            found = _problem(item, schema['items'], '%s[%d]' % (path, index), root)
            if found:
                return found
    return None


def _object_problem(value, schema, path, root):
    for key in value:
        if not isinstance(key, str):
            return '%s: a key is %s, not text (a JSON object has text keys)' % (path or 'the document', _got(key))
    for key in schema.get('required') or []:
        if key not in value:
            return '%s: missing (it is required)' % _key_path(path, key)
    properties = schema.get('properties') or {}
    for key, sub in properties.items():
        if key in value:
            found = _problem(value[key], sub, _key_path(path, key), root)
            if found:
                return found
    extra = schema.get('additionalProperties')
    if extra is not None:
        for key in value:
            if key not in properties:
                found = _problem(value[key], extra, _key_path(path, key), root)
                if found:
                    return found
    return None


def first_problem(document, schema=None):
    """The first place where ``document`` is not as ``schema`` (the schema file's structure by default) says, as ``path: what
    is wrong``, or None."""
    root = globals()['schema']() if schema is None else schema
    return _problem(document, root, '', root)
