# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_resource_graph: the query shapes (read back with the emulator's strict KQL reader), quoting, the quota pacer,
paging and retries against a fake transport, and rows -> the same records as the ARM path."""

from __future__ import annotations

import copy
import email.utils
import json
import time

import pytest
from requests.structures import CaseInsensitiveDict

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import resource_graph as rg
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.items import item_record
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from tests.emulator import generator, graph, kql
from tests.emulator.store import Store

BOTH = ['recovery_services', 'backup']
SUB = '5ab0c0de-0000-4000-8000-000000000001'


# ---------------------------------------------------------------------------------------------- query text
def test_kql_string_escapes_and_refuses_control_characters():
    assert rg.kql_string("it's") == "'it\\'s'"
    assert rg.kql_string('a\\b') == "'a\\\\b'"
    assert rg.kql_string('two\nlines\t') == "'two\\nlines\\t'"
    with pytest.raises(InputError, match='control characters'):
        rg.kql_string('bell\x07')


def test_the_vault_query_shape():
    assert rg.vaults_query(BOTH) == (
        "resources | where type in~ ('microsoft.recoveryservices/vaults', 'microsoft.dataprotection/backupvaults') "
        "| project id, name, type, location, resourceGroup, subscriptionId, tags, properties, identity, sku | order by id asc")
    text = rg.vaults_query(['backup'], ['rg-a', 'RG-B'], {'Env': 'Prod', 'owner': None})
    assert text == (
        "resources | where type in~ ('microsoft.dataprotection/backupvaults') | where resourceGroup in~ ('rg-a', 'RG-B') "
        "| extend ltags = parse_json(tolower(tostring(tags))) | where ltags['env'] == 'prod' and isnotnull(ltags['owner']) "
        "| project id, name, type, location, resourceGroup, subscriptionId, tags, properties, identity, sku | order by id asc")
    with pytest.raises(InputError):
        rg.vaults_query(['recovery_services', 'sql'])
    with pytest.raises(InputError):
        rg.vaults_query([])


def test_every_shape_is_one_the_emulator_serves():
    for text in (rg.vaults_query(BOTH, ['a'], {'k': 'v', 'x': None}), rg.policies_query(BOTH, ['a']), rg.items_query(['backup']),
                 rg.policy_rows_query(BOTH, ['a']), rg.vaults_query(BOTH, ['a'], {'k': 'v'}, policies=True),
                 rg.subscriptions_query(), rg.resource_groups_query(['a', "o'b"])):
        kql.parse(text)


ROWS = [
    {'id': '/v/1', 'name': 'plain', 'type': 'microsoft.recoveryservices/vaults', 'resourceGroup': "rg') | project id //",
     'tags': {"team's": "x' or type == 'y"}},
    {'id': '/v/2', 'name': 'other', 'type': 'microsoft.recoveryservices/vaults', 'resourceGroup': 'rg', 'tags': {'team': 'y'}},
]


@pytest.mark.parametrize('groups,tags,names', [
    (["rg') | project id //"], None, ['plain']),
    (["rg') or type == ('x"], None, []),
    (None, {"team's": "x' or type == 'y"}, ['plain']),
    (None, {"team's": "x' or '1' == '1"}, []),
    (None, {'TEAM': None}, ['other']),
    (None, {'team': 'Y'}, ['other']),      # the query compares lower-cased values; discover() then checks exactly
])
def test_user_values_cannot_change_the_query(groups, tags, names):
    query = kql.parse(rg.vaults_query(['recovery_services'], groups, tags))
    assert [r['name'] for r in query.run([dict(r, properties={}, location='', subscriptionId=SUB) for r in ROWS])] == names


# ---------------------------------------------------------------------------------------------- the quota
class Clock:
    def __init__(self):
        self.now = 10.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_the_quota_pacer_waits_for_the_window_to_reset():
    clock = Clock()
    pacer = rg.QuotaPacer(clock=clock, sleep=clock.sleep)
    assert pacer.before() == 0.0     # nothing known yet
    pacer.observe({'x-ms-user-quota-remaining': '14', 'x-ms-user-quota-resets-after': '00:00:05'})
    for _count in range(14):
        assert pacer.before() == 0.0
    assert pacer.before() == 5.0 and clock.slept == [5.0]
    # A new window: that query finds out what it allows (the next one waits for its answer, see the threaded test).
    pacer.observe({'x-ms-user-quota-remaining': '14', 'x-ms-user-quota-resets-after': '00:00:05'})
    assert pacer.before() == 0.0
    pacer.observe({'x-ms-user-quota-remaining': '0', 'x-ms-user-quota-resets-after': '00:00:02'})
    clock.now += 3
    assert pacer.before() == 0.0     # the window already ended
    assert pacer.throttled({'Retry-After': '7'}) == 7.0
    assert pacer.throttled({'x-ms-user-quota-resets-after': '00:00:04'}) == 4.0
    assert pacer.throttled({'Retry-After': '3600'}) == 60.0
    assert pacer.throttled({}) == 1.0
    # Retry-After as an HTTP date (RFC 9110): the seconds until then (it fell back to 1 s before).
    soon = email.utils.formatdate(time.time() + 9, usegmt=True)
    assert 7.0 <= pacer.throttled({'Retry-After': soon, 'x-ms-user-quota-resets-after': '00:00:01'}) <= 9.0
    pacer.observe({'x-ms-user-quota-remaining': 'many'})   # unreadable: ignored


def test_the_quota_pacer_lets_parallel_queries_fill_a_window_and_never_more():
    """Eight threads ask for 40 queries against a quota of 15 per 5 s (the emulator's model, on a fake clock): one
    query opens each window, and no window gets more than its 15."""
    import threading

    lock = threading.Lock()
    clock = Clock()
    server = {'start': None, 'used': 0, 'over': 0, 'per_window': []}

    local = threading.local()

    def now():
        local.read = clock.now
        return local.read

    def sleep(seconds):
        # Time moves only when a thread sleeps: to the time it last read plus what it sleeps.
        with lock:
            clock.now = max(clock.now, local.read + seconds)

    pacer = rg.QuotaPacer(clock=now, sleep=sleep)
    began = clock.now

    def answer():
        with lock:
            if server['start'] is None or clock.now >= server['start'] + 5.0:
                server['start'], server['used'] = clock.now, 0
                server['per_window'].append(0)
            server['used'] += 1
            server['per_window'][-1] += 1
            if server['used'] > 15:
                server['over'] += 1
            left = server['start'] + 5.0 - clock.now
            return {'x-ms-user-quota-remaining': str(max(0, 15 - server['used'])),
                    'x-ms-user-quota-resets-after': '00:00:%02d' % int(-(-left // 1))}

    def worker(count):
        for _index in range(count):
            pacer.before()
            pacer.observe(answer())

    threads = [threading.Thread(target=worker, args=(5,)) for _index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert server['over'] == 0 and sum(server['per_window']) == 40
    assert server['per_window'][:2] == [15, 15] and len(server['per_window']) == 3
    # Wall time held back, counted once however many threads waited for the same reset: two resets of 5 s at most.
    assert 0 < pacer.waited_s <= clock.now - began <= 10.0


def test_pages_after_the_first_are_asked_for_at_once_with_the_token_and_their_offset():
    answers = [page([{'id': 1}, {'id': 2}], token='T'), page([{'id': 3}, {'id': 4}]), page([{'id': 5}])]
    for answer in answers:
        answer._body['totalRecords'] = 5  # pylint: disable=protected-access
    graph_client, transport, _clock = client(answers)
    transport.by_skip = True
    assert graph_client.query('resources | project id', [SUB]) == [{'id': n} for n in range(1, 6)]
    skips = sorted(sent[2]['options'].get('$skip', 0) for sent in transport.sent)
    assert skips == [0, 2, 4] and all(sent[2]['options']['$skipToken'] == 'T' for sent in transport.sent[1:])


def test_a_page_that_does_not_fit_the_answer_is_an_error():
    answers = [page([{'id': 1}, {'id': 2}], token='T'), page([{'id': 3}])]
    for answer in answers:
        answer._body['totalRecords'] = 5  # pylint: disable=protected-access
    answers.append(page([{'id': 5}]))
    answers[-1]._body['totalRecords'] = 5  # pylint: disable=protected-access
    graph_client, transport, _clock = client(answers)
    transport.by_skip = True
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project id', [SUB])
    assert err.value.code == 'InconsistentPages'


# ---------------------------------------------------------------------------------------------- the client
class Response:
    def __init__(self, status, body, headers=None):
        self.status_code = status
        self._body = body
        self.headers = CaseInsensitiveDict(headers or {})

    def json(self):
        if isinstance(self._body, str):
            raise ValueError('not JSON')
        return self._body

    def text(self):
        return self._body if isinstance(self._body, str) else json.dumps(self._body)


class Transport:
    def __init__(self, answers):
        self.answers = list(answers)
        self.sent = []

    by_skip = False   # answer the i-th page (by $skip / page length) with the i-th answer, whatever the order sent

    def send_request(self, request, **kwargs):
        body = json.loads(request.content)
        self.sent.append((request.method, request.url, body, kwargs))
        if self.by_skip:
            first = self.answers[0].json()['count']
            answer = self.answers[body['options'].get('$skip', 0) // first]
        else:
            answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Session:
    settings = {'api_retries': 2, 'api_retry_backoff': 0.5, 'api_retry_backoff_max': 4, 'api_timeout': 60}
    verify = True

    class cloud:  # pylint: disable=invalid-name,too-few-public-methods
        resource_manager = 'https://management.example/'

    def __init__(self, answers):
        self.transport = Transport(answers)

    def arm(self):
        return self.transport


def client(answers, **kw):
    clock = Clock()
    session = Session(answers)
    graph_client = rg.ResourceGraph(session, pacer=rg.QuotaPacer(clock=clock, sleep=clock.sleep), sleep=clock.sleep, **kw)
    return graph_client, session.transport, clock


def page(rows, token=None, truncated='false', total=3):
    body = {'totalRecords': total, 'count': len(rows), 'data': rows, 'facets': [], 'resultTruncated': truncated}
    if token:
        body['$skipToken'] = token
    return Response(200, body, {'x-ms-user-quota-remaining': '14', 'x-ms-user-quota-resets-after': '00:00:05'})


def test_query_pages_with_the_skip_token_and_the_same_request():
    graph_client, transport, _clock = client([page([{'id': 'a'}, {'id': 'b'}], 'T1'), page([{'id': 'c'}])])
    assert graph_client.query('resources | project id', [SUB]) == [{'id': 'a'}, {'id': 'b'}, {'id': 'c'}]
    (method, url, first, kwargs), (_m, _u, second, _k) = transport.sent
    assert method == 'POST' and url == 'https://management.example/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01'
    assert first == {'query': 'resources | project id', 'subscriptions': [SUB], 'options': {'$top': 1000, 'resultFormat': 'objectArray'}}
    assert second['options']['$skipToken'] == 'T1' and second['query'] == first['query'] and second['subscriptions'] == [SUB]
    assert kwargs['retry_total'] == 0       # the pipeline does not retry: this client does
    assert graph_client.calls == 2


def test_tenant_scope_asks_for_partial_scopes_and_notes_them():
    answer = page([{'id': 'a'}], total=1)
    answer.headers['x-ms-tenant-subscription-limit-hit'] = 'true'
    graph_client, transport, _clock = client([answer])
    graph_client.query('resources | project id', allow_partial_scopes=True)
    assert 'subscriptions' not in transport.sent[0][2] and transport.sent[0][2]['options']['allowPartialScopes'] is True
    assert graph_client.partial_scope


RATE_LIMITED = {'error': {'code': 'RateLimiting', 'message': 'Please provide below info when asking for support: ...',
                          'details': [{'code': 'RateLimiting', 'message': 'Client application has been throttled ...'}]}}


def test_a_429_is_waited_out_and_retried():
    throttled = Response(429, RATE_LIMITED, {'Retry-After': '3', 'x-ms-user-quota-remaining': '0',
                                             'x-ms-user-quota-resets-after': '00:00:03'})
    graph_client, transport, clock = client([throttled, page([{'id': 'a'}], total=1)])
    assert graph_client.query('resources | project id', [SUB]) == [{'id': 'a'}]
    assert clock.slept == [3.0] and graph_client.throttled == 1 and len(transport.sent) == 2


def test_throttled_past_the_retries_is_an_error_naming_the_detail():
    throttled = Response(429, RATE_LIMITED, {'Retry-After': '1', 'x-ms-request-id': 'req-1'})
    graph_client, _transport, _clock = client([throttled] * 3)
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project id', [SUB])
    assert err.value.status == 429 and err.value.code == 'RateLimiting' and err.value.request_id == 'req-1'
    assert 'Client application has been throttled' in str(err.value) and 'api_retries' in str(err.value)
    assert graph_client.throttled == 3


def test_server_errors_are_retried_and_query_errors_are_not():
    graph_client, transport, clock = client([Response(503, 'busy'), page([{'id': 'a'}], total=1)])
    assert graph_client.query('resources | project id', [SUB]) == [{'id': 'a'}]
    assert clock.slept == [0.5]
    invalid = Response(400, {'error': {'code': 'BadRequest', 'message': 'Please provide ...', 'details': [
        {'code': 'InvalidQuery', 'message': 'Query is invalid.'},
        {'code': 'ParserFailure', 'message': 'ParserFailure', 'line': 1, 'characterPositionInLine': 23, 'token': '='}]}})
    graph_client, transport, _clock = client([invalid])
    with pytest.raises(AzureOperationError) as err:
        graph_client.query("resources | where type = 'x'", [SUB])
    assert err.value.code == 'ParserFailure' and err.value.status == 400 and len(transport.sent) == 1
    assert "token '=', line 1, position 23" in str(err.value)


def test_connection_errors_are_retried():
    from azure.core.exceptions import ServiceRequestError

    graph_client, transport, clock = client([ServiceRequestError('refused'), page([{'id': 'a'}], total=1)])
    assert graph_client.query('resources | project id', [SUB]) == [{'id': 'a'}]
    assert len(transport.sent) == 2 and clock.slept == [0.5]
    graph_client, transport, clock = client([ServiceRequestError('refused')] * 3)
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project id', [SUB])
    assert err.value.code == 'ConnectionError'


def test_a_truncated_answer_is_never_taken_as_complete():
    graph_client, _transport, _clock = client([page([{'properties': {}}], truncated='true')])
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project properties', [SUB])
    assert err.value.code == 'ResultTruncated'


# ---------------------------------------------------------------------------------------------- rows -> records
def _store():
    return Store('tenant', generator.generate_fleet(40, 2, seed='records', protected_items=3))


def _arm_records(store):
    """What the ARM path builds from the same bodies: vault_record, normalise_policy (+ vault), item_record."""
    records = []
    for sub in store.subs.values():
        for rg_entry in sub['rgs'].values():
            for kind, vault_type in (('rs', 'recovery_services'), ('dp', 'backup')):
                for vault in rg_entry[kind].values():
                    record = vault_record(copy.deepcopy(vault['body']), vault_type)
                    record['policies'] = sorted((dict(normalise_policy(p, vault_type), vault=record['id'])
                                                 for p in vault['policies'].values()), key=lambda p: p['name'].lower())
                    record['protected_items'] = sorted((item_record(i, vault_type, record['id']) for i in vault['items'].values()),
                                                       key=lambda i: i['id'].lower())
                    records.append(record)
    return sorted(records, key=lambda r: r['id'].lower())


def test_rows_become_the_records_arm_bodies_make():
    store = _store()
    subs = list(store.subs.values())
    vault_rows = kql.parse(rg.vaults_query(BOTH)).run(graph.table_rows(store, 'resources', subs))
    records = rg.vault_records(json.loads(json.dumps(vault_rows)))
    rs_rows = graph.table_rows(store, 'recoveryservicesresources', subs)
    rg.attach_policy_rows(records, json.loads(json.dumps(kql.parse(rg.policies_query(BOTH)).run(rs_rows))))
    rg.attach_item_rows(records, json.loads(json.dumps(kql.parse(rg.items_query(BOTH)).run(rs_rows))))
    expected = _arm_records(store)
    assert len(records) == 40 and sum(len(r['protected_items']) for r in records) == store.count()['protected_items']
    assert records == expected
    policy = next(p for r in records for p in r['policies'] if r['vault_type'] == 'recovery_services')
    assert policy['id'].startswith(policy['vault'] + '/backupPolicies/')   # not the lower-cased id of the row


def test_a_row_per_vault_or_a_row_per_policy_make_the_same_policies():
    store = _store()
    subs = list(store.subs.values())
    rs_rows = graph.table_rows(store, 'recoveryservicesresources', subs)
    per_vault = kql.parse(rg.policies_query(BOTH)).run(rs_rows)
    per_policy = kql.parse(rg.policy_rows_query(BOTH)).run(rs_rows)
    # One row per vault that has policies, each holding every policy of its vault.
    assert len(per_vault) < len(per_policy) and sum(len(row['policies']) for row in per_vault) == len(per_policy)
    assert all(set(row) == {'vaultId', 'policies'} and row['vaultId'] == row['vaultId'].lower() for row in per_vault)
    both = []
    for rows in (per_vault, per_policy):
        records = rg.vault_records(json.loads(json.dumps(kql.parse(rg.vaults_query(BOTH)).run(graph.table_rows(store, 'resources', subs)))))
        rg.attach_policy_rows(records, json.loads(json.dumps(rows)))
        both.append(records)
    assert both[0] == both[1] and sum(len(r['policies']) for r in both[0]) == len(per_policy)
    # A vault's row whose policies are not a list, or hold something else than objects, adds nothing and hides nothing.
    records = rg.vault_records(json.loads(json.dumps(kql.parse(rg.vaults_query(BOTH)).run(graph.table_rows(store, 'resources', subs)))))
    odd = [dict(per_vault[0], policies='x'), dict(per_vault[1], policies=[None, 'p'] + per_vault[1]['policies'])]
    rg.attach_policy_rows(records, json.loads(json.dumps(odd)))
    assert sum(len(r['policies']) for r in records) == len(per_vault[1]['policies'])


def test_vault_rows_with_their_policies_give_every_record_its_policies_page_by_page():
    store = _store()
    subs = list(store.subs.values())
    rows = json.loads(json.dumps(kql.parse(rg.vaults_query(BOTH, policies=True)).run(
        graph.table_rows(store, 'resources', subs), lambda table: graph.table_rows(store, table, subs))))
    with_some = [row for row in rows if row.get('policies')]
    assert len(with_some) >= 3
    # A vault row whose policies are null, or not there at all (an answer that leaves null columns out), has none.
    with_some[0]['policies'] = None
    del with_some[1]['policies']
    pages = rg._VaultPages([s['id'] for s in subs], with_policies=True)  # pylint: disable=protected-access
    for start in range(0, len(rows), 7):
        pages.add(rows[start:start + 7])
    by_id = {r['id'].lower(): r for r in pages.found}
    assert len(by_id) == len(rows) and all(isinstance(r['policies'], list) for r in pages.found)
    assert by_id[with_some[0]['id'].lower()]['policies'] == [] and by_id[with_some[1]['id'].lower()]['policies'] == []
    assert by_id[with_some[2]['id'].lower()]['policies'] and all(p['vault'] == with_some[2]['id'] for p in by_id[with_some[2]['id'].lower()]['policies'])
    # The same records as the vault rows and the policies read apart.
    apart = rg.vault_records(json.loads(json.dumps(kql.parse(rg.vaults_query(BOTH)).run(graph.table_rows(store, 'resources', subs)))))
    rg.attach_policy_rows(apart, json.loads(json.dumps(kql.parse(rg.policies_query(BOTH)).run(graph.table_rows(store, 'recoveryservicesresources', subs)))))
    for record in apart:
        if record['id'].lower() not in (with_some[0]['id'].lower(), with_some[1]['id'].lower()):
            assert by_id[record['id'].lower()] == record


def test_a_vault_row_twice_is_not_one_answer():
    answers = [page([{'vaultId': 'A', 'policies': []}], token='T', total=2), page([{'vaultId': 'a', 'policies': []}], total=2)]
    graph_client, _transport, _clock = client(answers)
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('recoveryservicesresources', [SUB], key='vaultId')
    assert err.value.code == 'DuplicateRows'


def test_rows_of_other_vaults_or_kinds_are_left_out():
    store = _store()
    subs = list(store.subs.values())
    rows = kql.parse(rg.vaults_query(['backup'])).run(graph.table_rows(store, 'resources', subs))
    records = rg.vault_records(rows)
    assert records and all(r['vault_type'] == 'backup' for r in records)
    rs_rows = graph.table_rows(store, 'recoveryservicesresources', subs)
    rg.attach_policy_rows(records, rs_rows)
    rg.attach_item_rows(records, rs_rows)
    assert all(p['vault_type'] == 'backup' for r in records for p in r['policies'])
    assert all(i['vault'] == r['id'] for r in records for i in r['protected_items'])


def test_discover_refuses_bad_input_before_any_request():
    with pytest.raises(InputError, match='not a GUID'):
        rg.discover(Session([]), ['not-a-sub'], BOTH)
    with pytest.raises(InputError):
        rg.discover(Session([]), [SUB], ['tape'])


class InProcessGraph:
    """Resource Graph over an emulator Store, without HTTP: the emulator's own tables, reader and scope rule."""

    def __init__(self, store):
        self.store = store
        self.sent = []
        self.calls = self.throttled = 0
        self.partial_scope = False
        self.pacer = rg.QuotaPacer()

    def query(self, query, subscriptions=None, allow_partial_scopes=False, on_page=None, key='id'):
        del allow_partial_scopes, key   # answered from the store: no page repeats a row
        rows = self._rows(query, subscriptions)
        if on_page is None:
            return rows
        # Pages of 7 rows, as a real answer would come in pages.
        for start in range(0, len(rows), 7):
            on_page(rows[start:start + 7])
        return len(rows)

    def _rows(self, query, subscriptions):
        self.sent.append((query.split(' |')[0], list(subscriptions)))
        self.calls += 1
        visible = [s for s in self.store.subs.values() if not s['graph_denied'] and s['id'] in subscriptions]
        if not visible:
            raise AzureOperationError(rg.OPERATION, None, 400, 'NoValidSubscriptionsInQueryRequest', 'none')
        parsed = kql.parse(query)
        rows = parsed.run(graph.table_rows(self.store, parsed.table, visible), lambda table: graph.table_rows(self.store, table, visible))
        return json.loads(json.dumps(rows))


class Refusing(InProcessGraph):
    """A Resource Graph that refuses a query holding ``text`` (as the emulator answers KQL it does not serve)."""

    def __init__(self, store, text):
        super().__init__(store)
        self.text = text

    def _rows(self, query, subscriptions):
        if self.text in query:
            self.sent.append(('refused', list(subscriptions)))
            raise AzureOperationError(rg.OPERATION, None, 400, 'InvalidQueryLanguage', 'InvalidQueryLanguage')
        return super()._rows(query, subscriptions)


def test_discover_asks_which_subscriptions_are_visible_only_for_those_without_vaults():
    fleet = generator.generate_fleet(30, 3, seed='visible', graph_denied=1)
    fleet['subscriptions'].append({'id': '7e7e7e7e-0000-4000-8000-000000000007', 'resource_groups': [{'name': 'empty'}]})
    store = Store('tenant', fleet)
    subs = [s['id'] for s in fleet['subscriptions']]
    in_process = InProcessGraph(store)
    found = rg.discover(Session([]), subs, BOTH, fallback=None, graph=in_process)
    # The vaults with their policies in one query; only the denied and the empty subscription were asked about.
    assert [table for table, _subs in in_process.sent] == ['resources', 'resourcecontainers']
    assert in_process.sent[1][1] == subs[2:]
    assert found['sources'] == {subs[0]: 'resource_graph', subs[1]: 'resource_graph', subs[3]: 'resource_graph'}
    assert [e['scope'] for e in found['errors']] == ['subscription %s' % subs[2]] and found['fallbacks'] == []
    assert {r['subscription_id'] for r in found['vaults']} == set(subs[:2])
    assert all('policies' in r for r in found['vaults']) and found['read_at'].endswith('Z')
    assert sum(len(r['policies']) for r in found['vaults']) > 30

    # Where Resource Graph refuses the join, the policies are asked for on their own, only where vaults were found.
    no_join = Refusing(store, ' join ')
    apart = rg.discover(Session([]), subs, BOTH, fallback=None, graph=no_join)
    assert [table for table, _subs in no_join.sent] == ['refused', 'resources', 'resourcecontainers', 'recoveryservicesresources']
    assert no_join.sent[2][1] == subs[2:] and no_join.sent[3][1] == subs[:2]
    assert apart['vaults'] == found['vaults'] and apart['errors'] == found['errors'] and apart['sources'] == found['sources']
    (again,) = apart['resource_graph']['requeried']
    assert again['query'] == 'vaults' and again['code'] == 'InvalidQueryLanguage' and 'without the policies' in again['outcome']


def test_a_refused_row_per_vault_query_is_asked_again_a_row_per_policy():
    fleet = generator.generate_fleet(30, 2, seed='refused')
    store = Store('tenant', fleet)
    subs = [s['id'] for s in fleet['subscriptions']]

    refused = Refusing(store, 'summarize')
    found = rg.discover(Session([]), subs, BOTH, fallback=None, graph=refused)
    served = rg.discover(Session([]), subs, BOTH, fallback=None, graph=InProcessGraph(store))
    # The vaults with their policies (refused), the vaults alone, the policies a row per vault (refused), a row per policy.
    assert [table for table, _subs in refused.sent] == ['refused', 'resources', 'refused', 'recoveryservicesresources']
    assert found['vaults'] == served['vaults'] and sum(len(v['policies']) for v in found['vaults']) > 30
    assert found['errors'] == served['errors'] == [] and found['fallbacks'] == []
    vaults_again, policies_again = found['resource_graph']['requeried']
    assert vaults_again['query'] == 'vaults' and 'without the policies' in vaults_again['outcome']
    assert policies_again['query'] == 'policies' and policies_again['code'] == 'InvalidQueryLanguage'
    assert 'row per policy' in policies_again['outcome']
    assert served['resource_graph']['requeried'] == []

    class Broken(InProcessGraph):
        def _rows(self, query, subscriptions):
            if 'recoveryservicesresources' in query:
                raise AzureOperationError(rg.OPERATION, None, 500, 'InternalServerError', 'down')
            return super()._rows(query, subscriptions)

    # Any other failure is not a refused shape: it is not asked again a row per policy (the read fails as before).
    with pytest.raises(AzureOperationError):
        rg.discover(Session([]), subs, BOTH, fallback=None, graph=Broken(store))


def test_discover_of_no_subscription_sends_nothing():
    in_process = InProcessGraph(Store('tenant', generator.generate_fleet(2, 1, seed='none')))
    found = rg.discover(Session([]), [], BOTH, graph=in_process)
    assert found['vaults'] == [] and in_process.sent == [] and found['errors'] == []


def test_pages_are_handed_over_one_by_one_and_not_kept():
    graph, _transport, _clock = client([page([{'id': 1}, {'id': 2}], token='t1'), page([{'id': 3}])])
    pages = []
    assert graph.query('resources', [SUB], on_page=pages.append) == 3
    assert pages == [[{'id': 1}, {'id': 2}], [{'id': 3}]] and graph.calls == 2


def test_discover_builds_the_same_records_from_pages():
    fleet = generator.generate_fleet(40, 2, seed='pages', protected_items=2)
    store = Store('tenant', fleet)
    subs = [s['id'] for s in fleet['subscriptions']]

    class WholeAnswers(InProcessGraph):
        def query(self, query, subscriptions=None, allow_partial_scopes=False, on_page=None, key='id'):
            del allow_partial_scopes, key
            rows = self._rows(query, subscriptions)
            if on_page is not None:
                on_page(rows)
                return len(rows)
            return rows

    paged = rg.discover(Session([]), subs, BOTH, items=True, fallback=None, graph=InProcessGraph(store))
    whole = rg.discover(Session([]), subs, BOTH, items=True, fallback=None, graph=WholeAnswers(store))
    assert paged['vaults'] == whole['vaults'] and len(paged['vaults']) == 40
    assert sum(len(v['policies']) for v in paged['vaults']) > 40 and sum(len(v['protected_items']) for v in paged['vaults']) > 0


# ---------------------------------------------------------------------------------------------- answers that do not add up
# Issue 25: a $skipToken that repeats drove 47,022 queries in a minute; a repeating token with totalRecords 11000 was
# taken as one answer of 1,000 pages of the same rows; rows that are not objects and a Retry-After of nan crashed the run.

def test_a_skip_token_given_twice_ends_the_query_as_an_error():
    answers = [page([{'id': 'a'}], 'T1'), page([], 'T2'), page([], 'T1')] + [page([], 'T3') for _n in range(5)]
    for answer in answers:
        answer._body.pop('totalRecords')  # pylint: disable=protected-access
    graph_client, transport, _clock = client(answers)
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project id', [SUB])
    assert err.value.code == 'PagingLoop' and len(transport.sent) == 3


def test_more_pages_than_the_answer_announced_end_the_query():
    answers = [page([{'id': 'r%d' % n}], 'T%d' % n) for n in range(10)]
    for answer in answers:
        answer._body['totalRecords'] = 2  # pylint: disable=protected-access
    graph_client, transport, _clock = client(answers, parallel_pages=1)
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project id', [SUB])
    assert err.value.code == 'TooManyPages' and len(transport.sent) == 2 + rg.PAGE_SLACK


def test_a_page_limit_holds_without_a_total_too(monkeypatch):
    monkeypatch.setattr(rg, 'MAX_PAGES', 4)
    answers = [page([{'id': 'r%d' % n}], 'T%d' % n) for n in range(10)]
    for answer in answers:
        answer._body.pop('totalRecords')  # pylint: disable=protected-access
    graph_client, transport, _clock = client(answers)
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project id', [SUB])
    assert err.value.code == 'TooManyPages' and len(transport.sent) == 4


def test_the_same_rows_twice_are_not_one_answer():
    answers = [page([{'id': 'A'}, {'id': 'b'}], token='T'), page([{'id': 'a'}, {'id': 'c'}])]
    for answer in answers:
        answer._body['totalRecords'] = 4  # pylint: disable=protected-access
    graph_client, _transport, _clock = client(answers)
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project id', [SUB])
    assert err.value.code == 'DuplicateRows'
    # The parallel path too: a repeating token with a large total.
    answers = [page([{'id': 'x%d' % n} for n in range(11)], token='T') for _n in range(3)]
    for answer in answers:
        answer._body['totalRecords'] = 11000  # pylint: disable=protected-access
    graph_client, transport, _clock = client(answers * 400)
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project id', [SUB])
    assert err.value.code in ('DuplicateRows', 'TooManyPages') and len(transport.sent) <= 1 + rg.PARALLEL_PAGES


@pytest.mark.parametrize('data', [[1, 2], ['row'], [{'id': 'a'}, None], [[{'id': 'a'}]]])
def test_rows_that_are_not_objects_are_an_error_not_a_crash(data):
    answer = page([])
    answer._body['data'] = data  # pylint: disable=protected-access
    graph_client, _transport, _clock = client([answer])
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project id', [SUB])
    assert err.value.code == 'UnexpectedAnswer'


@pytest.mark.parametrize('value', ['nan', 'inf', '-3', 'soon', ''])
def test_an_odd_retry_after_is_waited_as_a_second_and_counted(value):
    throttled = Response(429, RATE_LIMITED, {'Retry-After': value})
    graph_client, _transport, clock = client([throttled, page([{'id': 'a'}], total=1)])
    assert graph_client.query('resources | project id', [SUB]) == [{'id': 'a'}]
    assert clock.slept == [1.0]
    assert graph_client.pacer.waited_s == 1.0


def test_every_wait_counts_in_waited_s():
    throttled = Response(429, RATE_LIMITED, {'Retry-After': '60'})
    graph_client, _transport, clock = client([throttled, Response(503, 'busy'), page([{'id': 'a'}], total=1)])
    graph_client.query('resources | project id', [SUB])
    assert clock.slept == [60.0, 1.0] and graph_client.pacer.waited_s >= 60.0


def test_rows_outside_the_scope_or_whose_name_is_not_their_ids_are_left_out():
    other = '5ab0c0de-0000-4000-8000-0000000000ff'
    ok = {'id': '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-a' % SUB, 'name': 'rsv-a',
          'subscriptionId': SUB}
    foreign = dict(ok, id=ok['id'].replace(SUB, other), subscriptionId=other)
    lying = dict(ok, subscriptionId=other)                    # the id says SUB, the column another subscription
    renamed = dict(ok, name='rsv-excluded-by-name')            # a name that would slip past a name pattern
    dropped = []
    assert rg.in_scope([ok, foreign, lying, renamed], [SUB.upper()], dropped) == [ok]
    assert [d['reason'].split(' (')[0] for d in dropped] == ['its subscription', 'its subscription', 'its name']


def test_fewer_rows_than_total_records_is_a_moving_index_not_an_answer():
    # Issue 28: a vault removed while the query was paged moves a row onto a page already read; nothing repeats, but the
    # pages hold fewer rows than totalRecords announced.
    answers = [page([{'id': 'a'}, {'id': 'b'}], token='T', total=5), page([{'id': 'd'}, {'id': 'e'}], total=4)]
    graph_client, transport, _clock = client(answers, parallel_pages=1)
    with pytest.raises(AzureOperationError) as err:
        graph_client.query('resources | project id', [SUB])
    assert err.value.code == 'MissingRows' and err.value.code in rg.MOVING_INDEX_CODES and len(transport.sent) == 2
    assert 'announced 5 rows (totalRecords) and its pages held 4' in str(err.value)
