# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 25, "one odd thing, one error" on the inventory path: odd Resource Graph rows and policies with 7-digit retention
counts are warnings of their own, and the inventory holds every other vault (ansible-inventory against the emulator).
Vault bodies with unreadable fields: tests/integration/test_bad_vaults.py."""

from __future__ import annotations

import json
import re

import pytest

from tests.emulator import generator as templates
from tests.integration.fleets import RG, SUB1, vault, vault_id
from tests.integration.test_inventory import Inventory

GRAPH = r'/providers/Microsoft\.ResourceGraph/resources$'


def huge_rs():
    body = templates.iaas_v1(False)
    body['retentionPolicy']['dailySchedule']['retentionDuration']['count'] = 1234567
    return body


def huge_dp():
    body = templates.dp_disk(False)
    body['policyRules'][1]['lifecycles'][0]['deleteAfter']['duration'] = 'P1234567D'
    return body


def fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'odd', 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
        vault('rsv-good', 'recovery_services', 'enabled', policies=[{'name': 'VMDaily', 'properties': templates.iaas_v1(False)}]),
        vault('rsv-huge', 'recovery_services', 'enabled', policies=[{'name': 'HugeVM', 'properties': huge_rs()}]),
        vault('bv-huge', 'backup', 'disabled', policies=[{'name': 'HugeDisk', 'properties': huge_dp()}]),
    ]}]}]}


@pytest.fixture
def inventory(runner, tmp_path, emulator):
    emulator.load_fleet(fleet())
    emulator.clear_journal()
    return Inventory(runner, tmp_path)


def squeezed(text):
    """The text without whitespace. Before ansible-core 2.19 a warning is wrapped at 80 columns (textwrap): a word longer
    than a line, as an ARM id, is broken anywhere, and a hyphenated word after its hyphen, so lines joined with spaces
    would hold a space inside the id. Both sides of each comparison are squeezed: the same characters in the same order."""
    return re.sub(r'\s+', '', text)


@pytest.mark.parametrize('discovery', ['arm', 'resource_graph'])
def test_a_policy_with_a_seven_digit_retention_count_is_a_warning_of_its_vault(inventory, discovery):
    doc = inventory.list_of(include_policies=True, discovery=discovery, subscription_ids=[SUB1])
    hostvars = doc['_meta']['hostvars']
    assert sorted(hostvars) == ['bv-huge', 'rsv-good', 'rsv-huge']           # nothing left out, the inventory holds
    assert sorted(doc['unreadable_policies']['hosts']) == ['bv-huge', 'rsv-huge']
    assert 'rsv-huge' in doc['immutability_enabled']['hosts'] and 'bv-huge' in doc['immutability_disabled']['hosts']
    for host, policy in (('rsv-huge', 'HugeVM'), ('bv-huge', 'HugeDisk')):
        [record] = hostvars[host]['vaultlock_vault']['policies']
        assert record['name'] == policy and record['unreadable'], record
        assert all(t['count'] < 10 ** 6 for t in record['tiers'])            # no 1234567-day tier is taken as read
        expected = squeezed("vault %s, policy '%s': Azure returned retention the collection cannot read ("
                            % (vault_id(host, 'backup' if host.startswith('bv') else 'recovery_services'), policy))
        assert re.search(re.escape(expected) + r'[^)]*1234567', squeezed(doc['_stderr'])), doc['_stderr']
    assert 'unreadable_policies' not in json.dumps(hostvars['rsv-good'])


def test_resource_graph_rows_that_are_not_objects_are_a_warning_and_the_other_vaults_hosts(inventory, emulator):
    # The answer Resource Graph gives for the vault query, with two rows that are not objects added to it.
    doc = inventory.list_of(discovery='resource_graph', subscription_ids=[SUB1])
    assert sorted(doc['_meta']['hostvars']) == ['bv-huge', 'rsv-good', 'rsv-huge']
    [query] = [e['body'] for e in emulator.journal() if e['method'] == 'POST']
    answer = emulator.graph_query(query['query'], subscriptions=query['subscriptions'], **query['options']).json()
    answer['data'][1:1] = ['not an object', 42]
    answer['count'] = answer['totalRecords'] = len(answer['data'])
    emulator.fault(method='POST', path_regex=GRAPH, status=200, content_type='application/json', raw_body=json.dumps(answer))
    doc = inventory.list_of(discovery='resource_graph', subscription_ids=[SUB1])
    assert sorted(doc['_meta']['hostvars']) == ['bv-huge', 'rsv-good', 'rsv-huge']
    warning = squeezed(doc['_stderr'])
    assert warning.count(squeezed('Resource Graph answered a row that is not an object')) == 2, doc['_stderr']
    assert squeezed('"not an object"') in warning and '(42)' in warning and SUB1 in warning, doc['_stderr']
    # With discovery auto the same answer is not trusted at all: the subscription is read from ARM, and said so.
    emulator.fault(method='POST', path_regex=GRAPH, status=200, content_type='application/json', raw_body=json.dumps(answer))
    doc = inventory.list_of(discovery='auto', subscription_ids=[SUB1])
    assert sorted(doc['_meta']['hostvars']) == ['bv-huge', 'rsv-good', 'rsv-huge']
    assert doc['_meta']['hostvars']['rsv-good']['vaultlock_discovery']['source_by_subscription'] == {SUB1: 'arm'}
    assert squeezed('read subscription %s from ARM instead of Resource Graph' % SUB1) in squeezed(doc['_stderr']), doc['_stderr']
