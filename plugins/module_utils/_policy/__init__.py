# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Azure Policy parity: what the vault-level Azure Backup built-in definitions say of each vault (pure, no I/O).

- ``_definitions``: the 15 definitions (Microsoft's JSON files, with their source), read on first use;
  ``_aliases``: the property path of each alias they read (with its source); ``_evaluator``: the condition language.
- ``policy_fields(raw)``: the part of a vault's ARM body (or Resource Graph row: the same ``type`` and ``properties``)
  the definitions read, kept on each vault record as ``policy_fields`` (a few short strings a vault, so 20,000 vaults
  stay small) instead of the body. Its paths come from ``_aliases`` alone (every alias the definitions read, and only
  those), so modules, which import this package through ``_vaults``, never read the definitions' files.
- ``BY_NAME`` and ``KIND``: each definition by its name (lower-cased), and the vault kind it judges; built with the
  definitions when first asked for.
- ``check_assignments(value)``: the role variable harden_backup_vaults_azure_policy checked (names, parameters,
  allowed values), with every definition's parameter defaults applied.
- ``evaluate(records, assignments)``: drift.json's ``azure_policy`` section.
- ``related_assignments(assignments)`` and ``selects(definition, parameters, record)``: the assigned definitions whose
  verdict needs a related resource of each vault (the deployIfNotExists definition for diagnostic settings, opt-in), and
  whether a definition's ``if`` selects a vault (so only those vaults' related resources are read). Discovery reads them
  (``_discovery/diagnostics.py``) into ``record['related'][<type lower-cased>]`` (the resources' ARM bodies) or
  ``record['related_errors'][<type lower-cased>]`` (why they could not be read).
- ``DEFINITIONS_BY_SETTING``: the definitions each hardening setting's findings answer to, per vault kind.

Independent of the baseline: the baseline says what a run changes, this says what Azure Policy would say of the vaults
as discovery read them.
"""

from __future__ import annotations

import functools
import json
import re
import sys

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError, shown, type_name
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import PROVIDERS
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._aliases import ALIASES, RELATED_ALIASES, TOP_LEVEL, split_path
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._definitions import OPT_IN, definitions
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._evaluator import (
    Context,
    PolicyRuleError,
    effect_of,
    existence,
    non_compliant,
    resolve,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import RULES

VARIABLE = 'harden_backup_vaults_azure_policy'
DEFINITION_ID = '/providers/Microsoft.Authorization/policyDefinitions/%s'
SOURCE_URI = 'https://github.com/Azure/azure-policy/blob/master/built-in-policies/policyDefinitions/Backup/%s'
LEARN_URI = 'https://learn.microsoft.com/azure/backup/policy-reference'

_RS = 'recovery_services'
_BV = 'backup'

# The definitions a finding of a hardening setting answers to, per vault kind: each rule's settings say theirs
# (_rules/_base.Setting.azure_policy). Settings with no definition (retention, soft delete retention days) answer to none.
DEFINITIONS_BY_SETTING = dict(((setting.name, kind), tuple(names)) for rule in RULES for setting in rule.settings
                              for kind, names in (setting.azure_policy or {}).items())

# Resource types (lower-cased) each definition's 'type' condition names, for the count of vaults it judged.
_TYPE_KIND = {'microsoft.recoveryservices/vaults': _RS, 'microsoft.dataprotection/backupvaults': _BV}


def _fields(condition, found):
    """Every field name a condition reads (count fields too)."""
    if isinstance(condition, dict):
        for key, value in condition.items():
            if str(key).lower() == 'field' and isinstance(value, str):
                found.add(value)
            else:
                _fields(value, found)
    elif isinstance(condition, list):
        for member in condition:
            _fields(member, found)
    return found


def _all_of(condition):
    """The members of a condition's ``allOf`` (the key is case-insensitive: the diagnostic settings definition writes
    ``allof``)."""
    for key, value in condition.items():
        if str(key).lower() == 'allof' and isinstance(value, list):
            return value
    return []


def _kind_of(definition):
    """The vault kind a definition judges (its ``field: type`` condition)."""
    for condition in _all_of(definition['if']):
        if isinstance(condition, dict) and str(condition.get('field', '')).lower() == 'type':
            return _TYPE_KIND[str(condition.get('equals')).lower()]
    raise PolicyRuleError('definition %s names no vault type' % definition['name'])


_TAG_FIELD = re.compile(r"tags(\..+|\[.*\])?", re.IGNORECASE | re.DOTALL)


def _known_field(name, definition, parameters=None):
    """Whether the collection can read a field of a definition's ``if``: an alias of ``_aliases``, a top-level field, or a
    template expression that names a tag (``[concat('tags[', parameters('tagName'), ']')]``, checked with ``parameters``,
    or the parameters' defaults; a vault record keeps its tags) in a form the evaluator reads."""
    if name.lower() in ALIASES or name in TOP_LEVEL:
        return True
    if name.startswith('[') and not name.startswith('[['):
        if parameters is None:
            parameters = dict((key, spec['default']) for key, spec in definition['parameters'].items() if 'default' in spec)
        try:
            value = resolve(name, Context({}, parameters))
            if not isinstance(value, str) or _TAG_FIELD.fullmatch(value) is None:
                return False
            Context({'tags': {}}, {}).field(value)
        except PolicyRuleError:
            return False
        return True
    return False


def _field_text(name, parameters):
    """A field of a definition as the parameters make it (the expression itself when it cannot be resolved)."""
    try:
        value = resolve(name, Context({}, parameters))
    except PolicyRuleError:
        return name
    return value if isinstance(value, str) else name


@functools.lru_cache(maxsize=None)
def _tables():
    """BY_NAME and KIND, from the definitions (read now); a definition that reads a field no alias of ``_aliases`` names
    (so policy_fields would not keep it), or a related resource's field ``RELATED_ALIASES`` does not map, is refused."""
    for definition in definitions():
        unknown = sorted(name for name in _fields(definition['if'], set()) if not _known_field(name, definition))
        details = definition.get('details')
        if details:
            unknown.extend(sorted(name for name in _fields(details.get('existenceCondition') or {}, set())
                                  if name.lower() not in RELATED_ALIASES))
        if unknown:
            raise PolicyRuleError('definition %s reads %s, which _aliases does not map' % (definition['name'], ', '.join(unknown)))
    return {
        'BY_NAME': dict((definition['name'].lower(), definition) for definition in definitions()),
        'KIND': dict((definition['name'], _kind_of(definition)) for definition in definitions()),
    }


def __getattr__(name):
    """``BY_NAME`` and ``KIND`` (PEP 562): built when first asked for, not when the package is imported."""
    if name in ('BY_NAME', 'KIND'):
        return _tables()[name]
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


# The property paths (split) the definitions read, the part of a vault body policy_fields keeps: every alias' path
# (tests/unit/plugins/module_utils/test_policy.py checks that the definitions read every alias, and _tables() that they
# read no other).
_READ = set(tuple(split_path(path)) for path in ALIASES.values())
# A path that leads to another (an array the definitions count, and its members' fields) is kept through the longer ones.
_PATHS = sorted(path for path in _READ if not any(len(other) > len(path) and other[:len(path)] == path for other in _READ))


# The key of each path in policy_fields: 'properties.a.b', or 'properties.a[*].b' for a member's field.
_KEYS = tuple('.'.join(parts).replace('.[*]', '[*]') for parts in _PATHS)
_TYPES = dict((kind, '%s/%s' % provider) for kind, provider in PROVIDERS.items())
# Strings shorter than this are interned: the same value of many vaults is one object.
_INTERN = 64


def _small(value):
    if isinstance(value, str) and len(value) < _INTERN:
        return sys.intern(value)
    return value


def _fields_tree(keys, paths):
    """The paths as a tree: ``{part: subtree}``, a path's key under ``None`` where it ends; under ``'[*]'`` (the members
    of an array) a pair ``(subtree, the keys of the paths that end in it)``."""
    tree = {}
    for key, parts in zip(keys, paths):
        node = tree
        for part in parts:
            node = node.setdefault(part, {})
        node[None] = key

    def arrays(node):
        for part, child in list(node.items()):
            if part is None:
                continue
            arrays(child)
            if part == '[*]':
                node[part] = (child, tuple(_ends(child)))
        return node

    return arrays(tree)


def _ends(node):
    for part, child in node.items():
        if part is None:
            yield child
        else:
            yield from _ends(child[0] if isinstance(child, tuple) else child)


_TREE = _fields_tree(_KEYS, _PATHS)


def _collect(value, tree, out):
    """``out[key]`` = the value at each path of ``tree`` under ``value`` (read_path's rule: a key is found as spelt, else
    case-insensitively, the first match; null is missing). Each object on the way is read once for all the paths through
    it, and its keys are lower-cased at most once."""
    lowered = None
    for part, child in tree.items():
        if part is None:
            out[child] = value
        elif part == '[*]':
            if isinstance(value, list):
                subtree, keys = child
                members = []
                for member in value:
                    found = {}
                    _collect(member, subtree, found)
                    members.append(found)
                for key in keys:
                    out[key] = tuple(_small(found[key]) if key in found else None for found in members)
        elif isinstance(value, dict):
            if part in value:
                found = value[part]
            else:
                if lowered is None:
                    lowered = {}
                    for name, item in value.items():
                        lowered.setdefault(str(name).lower(), item)
                found = lowered.get(part.lower())
            if found is not None:
                _collect(found, child, out)


def policy_fields(raw, vault_type):
    """What the definitions read of a vault body (ARM body or Resource Graph row), flat: ``{'type': ..., <path>: value}``.

    ``type`` is the kind's resource type as ARM spells it (a Resource Graph row has it lower-cased; Azure Policy compares
    types case-insensitively, so the records of both sources are the same).

    A property the body does not have is left out; a field of array members (``properties.a[*].b``) is a tuple of the
    members' values (None where a member has none), so an empty array is an empty tuple. A few hundred bytes a vault.
    Keys come in ``_KEYS`` order. The body is walked once (``_collect``), not once per path.
    """
    raw = raw if isinstance(raw, dict) else {}
    found = {}
    _collect(raw, _TREE, found)
    fields = {'type': _TYPES.get(vault_type) or _small(raw.get('type'))}
    for key in _KEYS:
        if key in found:
            value = found[key]
            fields[key] = value if isinstance(value, tuple) else _small(value)
    return fields


def _node(body, parts, leaf):
    """The object at ``parts`` in ``body`` (created on the way), whose last key is set to ``leaf`` when it is missing."""
    node = body
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    return node.setdefault(parts[-1], leaf)


def body_of(fields):
    """The ARM-shaped body a definition reads, rebuilt from policy_fields (for the duration of one evaluation)."""
    body = {'type': fields.get('type')}
    for key, parts in zip(_KEYS, _PATHS):
        if key not in fields:
            continue
        value = fields[key]
        if '[*]' not in parts:
            node = body
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
            continue
        cut = parts.index('[*]')
        array = _node(body, list(parts[:cut]), [])
        array.extend({} for _extra in range(len(value) - len(array)))
        for member, leaf in zip(array, value):
            if leaf is not None:
                node = member
                for part in parts[cut + 1:-1]:
                    node = node.setdefault(part, {})
                node[parts[-1]] = leaf
    return body


# ------------------------------------------------------------------------------------------- the role variable

def default_assignments():
    """Every definition with its default parameters (the default of harden_backup_vaults_azure_policy), but the opt-in
    ones (``_definitions.OPT_IN``: they cost one ARM read per vault)."""
    return dict((definition['name'], {}) for definition in definitions() if definition['name'] not in OPT_IN)


def _check_value(name, key, spec, value):
    where = '%s.%s.%s' % (VARIABLE, name, key)
    if spec['type'] == 'Boolean':
        if not isinstance(value, bool):
            raise InputError('%s must be true or false, got %s' % (where, shown(value)))
    elif not isinstance(value, str):
        raise InputError('%s must be a string, got %s' % (where, shown(value)))
    allowed = spec.get('allowed_values')
    if allowed is None:
        return value
    listed = ', '.join(str(v).lower() if isinstance(v, bool) else str(v) for v in allowed)
    for candidate in allowed:
        if isinstance(candidate, bool) == isinstance(value, bool) and candidate == value:
            return candidate
    # Azure Policy checks an assignment's value against allowedValues case-sensitively and refuses the assignment
    # (PolicyParameterValueNotAllowed: "The value 'deny' is not allowed for policy parameter 'effect' ... The allowed values
    # are 'Audit, Deny, Disabled'", Azure/Azure-Landing-Zones#442, Azure/azure-policy#721): an assignment Azure would not
    # take has no verdict to predict, so the value is refused, naming the spelling Azure takes.
    spelt = [candidate for candidate in allowed if isinstance(candidate, str) and str(candidate).lower() == str(value).lower()]
    if spelt:
        raise InputError('%s: %s is not one of the values the definition allows (%s) in their letter case: Azure Policy refuses '
                         'such an assignment (PolicyParameterValueNotAllowed), so it has no verdict; write %s'
                         % (where, shown(value), listed, spelt[0]))
    raise InputError('%s: %s is not one of the values the definition allows (%s)' % (where, shown(value), listed))


def _judged_by(definition, key):
    """Whether the verdict reads parameter ``key`` (its ``if``, effect or existenceCondition name parameters('key'))."""
    text = json.dumps([definition['if'], definition['effect'], (definition.get('details') or {}).get('existenceCondition')]).lower()
    return "parameters('%s')" % key.lower() in text


def check_assignments(value):
    """harden_backup_vaults_azure_policy checked: ``[(definition, parameters with defaults)]`` in the definitions' order.

    None means the default (every definition, default parameters); ``{}`` turns the section off (an empty list).
    """
    if value is None:
        value = default_assignments()
    if not isinstance(value, dict):
        raise InputError('%s must be a dictionary from a built-in definition name (a GUID) to its parameters, or {} to turn '
                         'the Azure Policy section off; got %s' % (VARIABLE, shown(value)))
    wanted = {}
    for name, params in value.items():
        definition = _tables()['BY_NAME'].get(str(name).lower())
        if definition is None:
            raise InputError('%s: %s is not a vault-level Azure Backup built-in policy definition this collection knows; the '
                             'names are: %s' % (VARIABLE, shown(name), ', '.join(sorted(d['name'] for d in definitions()))))
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise InputError('%s.%s must be a dictionary of the definition\'s parameters ({} for its defaults), got %s'
                             % (VARIABLE, name, shown(params)))
        specs = dict((key.lower(), key) for key in definition['parameters'])
        checked = {}
        for key, param in params.items():
            real = specs.get(str(key).lower())
            if real is None:
                raise InputError('%s.%s: unknown parameter %s; definition "%s" takes %s'
                                 % (VARIABLE, name, shown(key), definition['display_name'], ', '.join(definition['parameters'])))
            if real != key:
                # A parameter named in another letter case than the definition's: Azure Policy does not take it for the
                # definition's parameter (Azure/Enterprise-Scale#833: an assignment's pricingTierVMs in another case left
                # the definition's default in force). Whether Azure then refuses the assignment or evaluates with the
                # default is not published (assumed either way): the value is refused, naming the definition's spelling.
                raise InputError('%s.%s: parameter %s is spelt %s in the definition: Azure Policy matches parameter names in '
                                 'their letter case and would not use this value, so it has no verdict; write %s'
                                 % (VARIABLE, name, shown(key), real, real))
            checked[real] = _check_value(name, real, definition['parameters'][real], param)
        wanted[definition['name']] = checked
    assignments = []
    for definition in definitions():
        if definition['name'] not in wanted:
            continue
        parameters = {}
        for key, spec in definition['parameters'].items():
            if key in wanted[definition['name']]:
                parameters[key] = wanted[definition['name']][key]
            elif 'default' in spec:
                parameters[key] = spec['default']
            elif _judged_by(definition, key):
                raise InputError('%s.%s: parameter %s has no default: give it' % (VARIABLE, definition['name'], key))
            # else: a parameter only the deployment of a deployIfNotExists definition takes (logAnalytics, the workspace a
            # remediation task deploys to) plays no part in the verdict and may be left out.
        # A tag name the definition puts into a field (tags[<tagName>]) that field syntax cannot name (an apostrophe: Learn,
        # "Fields", names such tags only as tags['...'] with the apostrophe doubled), or a template expression: refused now,
        # before any request, rather than failing the run after discovery. Assumed: no Microsoft source says how Azure
        # Policy reads tags[a'b].
        unreadable = sorted(field for field in _fields(definition['if'], set())
                            if not _known_field(field, definition, parameters))
        if unreadable:
            given = ', '.join('%s: %s' % (key, shown(parameters[key])) for key in sorted(wanted[definition['name']]))
            fields = ', '.join(shown(_field_text(field, parameters)) for field in unreadable)
            raise InputError('%s.%s: with the parameters %s the definition would read the field %s, which names no tag this '
                             'collection can read as Azure Policy does (a tag name holding an apostrophe, or a template '
                             'expression); nothing was sent to Azure' % (VARIABLE, definition['name'], given, fields))
        assignments.append((definition, parameters))
    return assignments


# ------------------------------------------------------------------------------------------- evaluation

def definition_id(name):
    return DEFINITION_ID % name


def help_uri(definition):
    return SOURCE_URI % definition['file']


class _Judged:
    """One assigned definition while a fleet is judged: its effect, and the vaults it judged and found non-compliant."""

    def __init__(self, definition, parameters):
        self.definition = definition
        self.parameters = parameters
        self.effect = effect_of(definition['effect'], parameters)
        self.evaluated = self.effect.lower() != 'disabled'
        self.kind = _tables()['KIND'][definition['name']]
        self.related = (definition.get('details') or {}).get('type')
        self.vaults = 0
        self.failing = []
        self.unjudged = []

    def row(self):
        definition = self.definition
        row = {
            'name': definition['name'], 'id': definition_id(definition['name']), 'display_name': definition['display_name'],
            'version': definition['version'], 'parameters': dict(self.parameters), 'effect': self.effect,
            'evaluated': self.evaluated, 'vault_type': self.kind, 'vaults': self.vaults,
            'non_compliant': sorted(self.failing, key=str.lower), 'help_uri': help_uri(definition),
        }
        if self.related:
            # A deployIfNotExists definition: judged on each vault's related resources, which only Azure Policy's
            # remediation task deploys (this collection never writes them); vaults whose resources could not be read.
            row.update(related_type=self.related, remediation=REMEDIATION % self.related)
        if self.related or self.unjudged:
            row['not_evaluated'] = sorted(self.unjudged, key=lambda item: item['id'].lower())
        return row

    def _decided(self, record, decide, resources):
        """``decide(definition, parameters, resources)``; None, with the vault listed as not evaluated and the reason,
        when the vault's own values make Azure Policy's answer unknown here (PolicyRuleError)."""
        try:
            return bool(decide(self.definition, self.parameters, resources))
        except PolicyRuleError as exc:
            self.unjudged.append({'id': str(record['id']), 'reason': str(exc)})
            return None

    def judge_related(self, record, kind):
        """The verdict on one vault of a definition that reads related resources (no memo: it depends on the vault's own
        tags and related resources)."""
        if not self.evaluated or kind != self.kind:
            return
        selected = self._decided(record, selects, record)
        if selected is None:
            return
        if not selected:
            # The if does not select the vault (its exclusion tag): nothing to deploy, so not non-compliant.
            self.vaults += 1
            return
        key = self.related.lower()
        error = (record.get('related_errors') or {}).get(key)
        found = (record.get('related') or {}).get(key)
        if record.get('unreadable'):
            # Its body could not be read (an error of the run): its related resources were never read.
            error = 'the vault body could not be read (%s), so its %s were not read' % (
                (record['unreadable'] or {}).get('field') or 'unknown field', self.related)
        if error is not None or found is None:
            self.unjudged.append({'id': str(record['id']), 'reason': error or 'its %s were not read' % self.related})
            return
        present = self._decided(record, exists, found)
        if present is None:
            return
        self.vaults += 1
        if not present:
            self.failing.append(str(record['id']))


def _verdict(judged, kind, fields):
    """``((a _Judged, non-compliant), ...)`` for every evaluated definition of the vault's kind, on its policy_fields."""
    body = None
    verdict = []
    for entry in judged:
        if not entry.evaluated or kind != entry.kind or entry.related:
            continue
        body = body if body is not None else body_of(fields)
        try:
            verdict.append((entry, non_compliant(entry.definition['if'], body, entry.parameters), None))
        except PolicyRuleError as exc:
            # What the vault's own values make undecidable (text .NET may compare otherwise, an order across types) is no
            # verdict on that vault: listed as not evaluated with the reason, never compliant, and the other vaults are
            # still judged (one odd vault must not take the fleet's compliance report down).
            verdict.append((entry, None, str(exc)))
    return tuple(verdict)


def _typed(value):
    """A field's value as part of a memo key: with its type, member by member, since Python's equality is not Azure
    Policy's (``True == 1 == 1.0`` and ``False == 0`` are one dictionary key, while a condition ``notEquals: true`` holds
    for 1 and not for true)."""
    if isinstance(value, tuple):
        return ('tuple',) + tuple(_typed(member) for member in value)
    return (type_name(value), value)


def _memo_key(kind, fields):
    """What a verdict depends on besides the assignments, as a dictionary key; None when a value is not hashable."""
    try:
        key = (kind, tuple(sorted((name, _typed(value)) for name, value in fields.items())))
        hash(key)
    except TypeError:
        return None
    return key


def evaluate(records, assignments):
    """drift.json's ``azure_policy`` section for vault records (each with ``policy_fields``) and checked assignments.

    ``records`` may hold vaults whose bodies the hardening rules could not read (``_vaults.unreadable_record``, with
    ``unreadable``): Azure Policy judges their bodies all the same, so they are judged on their policy_fields like any
    other vault (a definition that reads related resources lists them as not evaluated: those were never read).

    A verdict depends only on the vault's kind and its policy_fields (the parameters are the same for every vault), so
    vaults configured alike are judged once: the body is rebuilt from policy_fields, judged by every definition of the
    kind, and dropped. A vault whose fields cannot be a key is judged on its own.

    A definition that reads related resources (deployIfNotExists, Learn "Azure Policy definitions deployIfNotExists
    effect") judges each vault its ``if`` selects by them: compliant when at least one related resource satisfies
    ``details.existenceCondition``, non-compliant when none does (none at all included); a vault whose related resources
    could not be read is listed in the row's ``not_evaluated`` with the reason, never counted as compliant. Its row also
    names ``related_type`` and says that Azure Policy's remediation task, not this collection, deploys them.
    """
    judged = [_Judged(definition, parameters) for definition, parameters in assignments]
    related = [entry for entry in judged if entry.related]
    verdicts = {}
    for record in records:
        kind = record.get('vault_type')
        fields = record.get('policy_fields') or {}
        key = _memo_key(kind, fields)
        verdict = verdicts.get(key) if key is not None else None
        if verdict is None:
            verdict = _verdict(judged, kind, fields)
            if key is not None:
                verdicts[key] = verdict
        for entry, failed, reason in verdict:
            if reason is not None:
                entry.unjudged.append({'id': str(record['id']), 'reason': reason})
                continue
            entry.vaults += 1
            if failed:
                entry.failing.append(str(record['id']))
        for entry in related:
            entry.judge_related(record, kind)
    return {'definitions': [entry.row() for entry in judged]}


REMEDIATION = ('This collection does not deploy %s: Azure Policy\'s remediation task does (an assignment of the definition '
               'with a managed identity). No hardening setting answers to it.')


def related_assignments(assignments):
    """The checked assignments (``check_assignments``) whose definitions read related resources, evaluated ones only:
    ``[(definition, parameters, related type)]``."""
    out = []
    for definition, parameters in assignments or []:
        details = definition.get('details')
        if details and str(effect_of(definition['effect'], parameters)).lower() != 'disabled':
            out.append((definition, parameters, details['type']))
    return out


def vault_body(record):
    """What a definition's ``if`` reads of a vault record: its policy_fields as a body, with the record's name, id and
    tags (a definition's tag exclusion reads them)."""
    body = body_of(record.get('policy_fields') or {})
    body.update(name=record.get('name'), id=record.get('id'), tags=dict(record.get('tags') or {}))
    return body


def selects(definition, parameters, record):
    """Whether the definition's ``if`` selects the vault record (for a deployIfNotExists definition: the vaults whose
    related resources count)."""
    return non_compliant(definition['if'], vault_body(record), parameters)


def exists(definition, parameters, resources):
    """Whether at least one related resource (ARM bodies) satisfies the definition's ``existenceCondition`` (none given:
    any resource does; Learn, "deployIfNotExists properties")."""
    condition = (definition.get('details') or {}).get('existenceCondition')
    if not condition:
        return bool(resources)
    return any(existence(condition, resource if isinstance(resource, dict) else {}, parameters) for resource in resources)


def finding_definitions(section, setting, vault_type):
    """The evaluated definitions of a report's azure_policy section a finding of ``setting`` answers to."""
    names = DEFINITIONS_BY_SETTING.get((setting, vault_type), ())
    evaluated = set(row['name'] for row in (section or {}).get('definitions') or [] if row.get('evaluated'))
    return [name for name in names if name in evaluated]
