# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real vault and policy bodies, altered as a buggy or hostile answer could alter them, never break a run.

The bodies are every vault and backup policy in tests/fixtures/azure-real (recorded from Microsoft's clients) and
tests/fixtures/azure-reference (the REST specs' examples). Each case changes up to four values under ``properties``: a
string in another letter case, a value set to null, a key removed, a value of another JSON type. What must hold:

- a vault body is read into a record or refused as unreadable (``UnreadableResourceError``, which names the vault and
  the field and hides no other vault); nothing else escapes. The record's drift against the default baseline and its
  Azure Policy verdicts are computed without an error, and an unreadable vault is still judged by Azure Policy;
- a policy body is normalised without an error (``normalise_policy`` promises never to raise), reductions between it
  and the recorded body are found, and a raise to a minimum is planned and built without an error;
- ARM's enum values compare without regard to letter case (Azure Policy's ``equals`` is case-insensitive too): the same
  body with every enum value upper- or lower-cased gives the same findings, actions and Azure Policy verdicts.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.vaultlock.azure.plugins.module_utils import _policy
from ansible_collections.vaultlock.azure.plugins.module_utils._drift import validate_baseline, vault_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import find_reductions, normalise_policy, plan_raises, raise_policy
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import UnreadableResourceError
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import unreadable_record, vault_record
from tests.fixtures import REAL, REFERENCE

VAULT_TYPES = {'microsoft.recoveryservices/vaults': 'recovery_services', 'microsoft.dataprotection/backupvaults': 'backup'}
POLICY_TYPES = {'microsoft.recoveryservices/vaults/backuppolicies': 'recovery_services',
                'microsoft.dataprotection/backupvaults/backuppolicies': 'backup'}
# What a value may be replaced with: every JSON type, enum values of these settings in other cases, and YAML's .inf
# (Python's json reads Infinity).
OTHER = (None, 0, 1, -1, 1.5, True, False, '', 'x', [], {}, ['a'], {'a': 1}, 'LOCKED', 'locked', 'Unlocked', 'ENABLED',
         'alwaysON', 'On', 'off', 'Invalid', float('inf'))
MINIMUMS = ({'daily': '30d', 'weekly': '12w', 'monthly': '12m', 'yearly': '10y'},
            {'default': {'OperationalStore': '7d', 'VaultStore': '90d'}},
            {'instant': '5d', 'log': '30d', 'snapshot': '30d'})
# Strings that are names or ids, not enum values: their case is kept by Azure and by the collection.
NOT_ENUMS = ('keyUri', 'id', 'resourceGuardResourceId', 'resourceGuardOperationRequests', 'privateEndpointConnections')


def _bodies(types):
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            kind = types.get(str(node.get('type') or '').lower())
            if kind is not None and isinstance(node.get('properties'), dict):
                found.append((path, node, kind))
            for value in node.values():
                walk(value, path)
        elif isinstance(node, list):
            for value in node:
                walk(value, path)

    for root in (REAL, REFERENCE):
        for path in sorted(root.rglob('*.json')):
            try:
                with open(path, encoding='utf-8') as handle:
                    document = json.load(handle)
            except ValueError:
                continue
            walk(document, path.relative_to(root.parent).as_posix())
    return found


VAULTS = _bodies(VAULT_TYPES)
POLICIES = _bodies(POLICY_TYPES)
MUTATIONS = st.lists(st.tuples(st.integers(0, 10 ** 6), st.sampled_from(('case', 'null', 'remove', 'type')), st.sampled_from(OTHER)),
                     min_size=1, max_size=4)


def _paths(node, path=()):
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        yield path + (key,), value
        yield from _paths(value, path + (key,))


def _set(node, path, value, remove=False):
    for key in path[:-1]:
        node = node[key]
    if remove:
        del node[path[-1]]
    else:
        node[path[-1]] = value


def _mutate(body, mutations):
    body = copy.deepcopy(body)
    for pick, how, other in mutations:
        candidates = [(path, value) for path, value in _paths(body) if path[0] == 'properties']
        if not candidates:
            break
        path, value = candidates[pick % len(candidates)]
        if how == 'case':
            if isinstance(value, str):
                _set(body, path, value.lower() if value != value.lower() else value.upper())
        elif how == 'remove':
            _set(body, path, None, remove=True)
        else:
            _set(body, path, None if how == 'null' else copy.deepcopy(other))
    return body


def _assignments():
    return _policy.check_assignments(_policy.default_assignments())


def test_the_bodies_are_found():
    # The recorded and spec bodies of both kinds (a test over an empty list would pass on nothing).
    assert len(set(kind for _path, _body, kind in VAULTS)) == 2 and len(VAULTS) >= 40
    assert len(set(kind for _path, _body, kind in POLICIES)) == 2 and len(POLICIES) >= 15


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 10 ** 6), MUTATIONS)
def test_an_altered_vault_body_is_read_or_refused_and_never_breaks_drift_or_azure_policy(index, mutations):
    _path, body, kind = VAULTS[index % len(VAULTS)]
    body = _mutate(body, mutations)
    try:
        record = vault_record(body, kind)
    except UnreadableResourceError as error:
        record = unreadable_record(body, kind, error)
        assert record['unreadable']['field']
    else:
        json.dumps(vault_drift(record, validate_baseline({})))
    section = _policy.evaluate([record], _assignments())
    assert section['definitions']


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 10 ** 6), MUTATIONS)
def test_an_altered_policy_body_is_normalised_and_planned_without_an_error(index, mutations):
    _path, recorded, kind = POLICIES[index % len(POLICIES)]
    body = _mutate(recorded, mutations)
    before = normalise_policy(copy.deepcopy(recorded), kind)
    record = normalise_policy(body, kind)
    json.dumps(record, default=str)
    find_reductions(before, record)
    find_reductions(record, before)
    for minimum in MINIMUMS:
        plan_raises(record, minimum)
        raise_policy(copy.deepcopy(body), kind, minimum)


def _is_enum(where, value):
    if where[0] != 'properties' or not isinstance(value, str) or value.startswith('/'):
        return False
    return not any(name in where for name in NOT_ENUMS)


def _findings(entry):
    return (sorted((finding.get('setting'), str(finding.get('have')), finding.get('fixable')) for finding in entry['findings']),
            json.dumps(entry['actions'], sort_keys=True, default=str))


@pytest.mark.parametrize('case', ('upper', 'lower'))
@pytest.mark.parametrize('index', range(len(VAULTS)))
def test_enum_values_in_another_letter_case_give_the_same_findings_and_verdicts(index, case):
    path, body, kind = VAULTS[index]
    try:
        record = vault_record(copy.deepcopy(body), kind)
    except UnreadableResourceError:
        pytest.skip('%s is not readable as recorded' % path)
    changed = copy.deepcopy(body)
    for where, value in list(_paths(changed)):
        if _is_enum(where, value):
            _set(changed, where, value.upper() if case == 'upper' else value.lower())
    other = vault_record(changed, kind)
    baseline = validate_baseline({})
    assert _findings(vault_drift(other, baseline)) == _findings(vault_drift(record, baseline)), path
    verdicts = [json.dumps(_policy.evaluate([one], _assignments()), sort_keys=True, default=str).lower() for one in (record, other)]
    assert verdicts[0] == verdicts[1], path
