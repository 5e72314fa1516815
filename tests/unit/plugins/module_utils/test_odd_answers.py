# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 25, "one odd thing, one error": a Resource Graph row that is not an object, and a retention count of more than
6 digits in a policy body, are each an error of their own, never the end of a whole read."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import resource_graph as rg
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
from tests.emulator import generator as templates
from tests.unit.plugins.module_utils.test_resource_graph import SUB, client, page


def test_rows_that_are_not_objects_fail_the_query_unless_tolerated():
    graph_client, _transport, _clock = client([page([{'id': 'a'}, 'two', 3])])
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project id', [SUB])
    assert err.value.code == 'UnexpectedAnswer'


def test_tolerated_rows_that_are_not_objects_are_left_out_and_kept_for_the_report():
    graph_client, _transport, _clock = client([page([{'id': 'a'}, 'two', 3])])
    graph_client.tolerate_odd_rows = True
    rows = graph_client.query('resources | project id', [SUB])
    assert rows == [{'id': 'a'}]
    assert graph_client.odd_rows == [{'subscriptions': [SUB], 'row': '"two"'}, {'subscriptions': [SUB], 'row': '3'}]


def test_discover_without_fallback_reports_each_odd_row_as_an_error_and_keeps_the_rest():
    vault = {'id': '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-a' % SUB, 'name': 'rsv-a',
             'type': 'Microsoft.RecoveryServices/vaults', 'location': 'westeurope', 'resourceGroup': 'rg', 'subscriptionId': SUB,
             'tags': {}, 'properties': {'provisioningState': 'Succeeded'}}
    graph_client, _transport, _clock = client([page([vault, ['not', 'a', 'row']], total=2)])
    found = rg.discover(graph_client.session, [SUB], ['recovery_services'], policies=False, fallback=None, graph=graph_client)
    assert [v['name'] for v in found['vaults']] == ['rsv-a']
    [error] = found['errors']
    assert error['code'] == 'UnreadableRow' and SUB in error['scope'] and 'not an object' in error['message']


@pytest.mark.parametrize('count, readable', [(999999, True), (1000000, False), (1234567, False)])
def test_a_recovery_services_count_of_more_than_six_digits_is_unreadable_as_an_iso_duration_is(count, readable):
    body = templates.iaas_v1(False)
    body['retentionPolicy']['dailySchedule']['retentionDuration']['count'] = count
    record = normalise_policy({'name': 'Huge', 'properties': body}, 'recovery_services')
    daily = [t for t in record['tiers'] if t['tier'] == 'daily']
    assert bool(daily) is readable
    assert bool([u for u in record['unreadable'] if u['tier'] == 'daily']) is not readable
    iso = templates.dp_disk(False)
    iso['policyRules'][1]['lifecycles'][0]['deleteAfter']['duration'] = 'P%dD' % count
    dp = normalise_policy({'name': 'HugeDisk', 'properties': iso}, 'backup')
    assert bool(dp['tiers']) is readable and bool(dp['unreadable']) is not readable
