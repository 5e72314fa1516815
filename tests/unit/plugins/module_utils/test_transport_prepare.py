# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pooled transport's requests session prepares a request as requests itself does (its cookie-less fast path), and
a session's SDK clients and ARM read pipeline send through one transport (one connection pool)."""

from __future__ import annotations

import pytest
import requests

from ansible_collections.vaultlock.azure.plugins.module_utils._azure import transport as _transport
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from tests.unit.builders import SUB

URL = 'https://arm.example/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v?api-version=2026-11-01' % SUB
SettledSession = _transport._settled_session(requests)  # pylint: disable=protected-access


def shown(prepared):
    return (prepared.method, prepared.url, sorted(prepared.headers.items()), prepared.body, sorted(prepared.hooks),
            sorted((c.name, c.value) for c in prepared._cookies))  # pylint: disable=protected-access


CASES = {
    'patch with a body': dict(method='patch', data=b'{"properties": {}}', headers={'Content-Type': 'application/json', 'x-ms-client-request-id': 'r'}),
    'get without headers': dict(method='GET', headers=None),
    'a header set to None removes the session default': dict(method='GET', headers={'Accept': None, 'Accept-Encoding': 'identity'}),
    'params and json': dict(method='put', params={'b': '2', 'a': '1'}, json={'x': [1, 2]}),
    'form data': dict(method='post', data={'k': 'v'}),
    'a cookie of the request': dict(method='GET', cookies={'c': 'd'}),
    'a response hook': dict(method='GET', hooks={'response': [lambda response, **kwargs: response]}),
}


@pytest.mark.parametrize('name', sorted(CASES))
@pytest.mark.parametrize('trust_env', [True, False])
def test_a_request_is_prepared_as_requests_prepares_it(name, trust_env, monkeypatch, tmp_path):
    monkeypatch.setenv('HOME', str(tmp_path))       # no netrc file of the machine
    ours, theirs = SettledSession(), requests.Session()
    ours.trust_env = theirs.trust_env = trust_env
    kwargs = dict(CASES[name])
    prepared = ours.prepare_request(requests.Request(url=URL, **kwargs))
    expected = theirs.prepare_request(requests.Request(url=URL, **kwargs))
    assert shown(prepared) == shown(expected)
    if 'cookies' in kwargs:
        assert prepared.headers['Cookie'] == 'c=d'
    else:
        assert 'Cookie' not in prepared.headers


def test_a_cookie_kept_by_the_session_is_sent_as_requests_sends_it(monkeypatch, tmp_path):
    monkeypatch.setenv('HOME', str(tmp_path))
    ours, theirs = SettledSession(), requests.Session()
    for session in (ours, theirs):
        session.cookies.set('affinity', 'x1', domain='arm.example', path='/')
        session.headers['x-session'] = 's'
    prepared = ours.prepare_request(requests.Request('GET', URL, headers={'Accept': 'application/json'}))
    assert shown(prepared) == shown(theirs.prepare_request(requests.Request('GET', URL, headers={'Accept': 'application/json'})))
    assert prepared.headers['Cookie'] == 'affinity=x1' and prepared.headers['x-session'] == 's'


def test_the_cookie_less_path_skips_the_cookie_merge(monkeypatch, tmp_path):
    monkeypatch.setenv('HOME', str(tmp_path))
    calls = []
    real = requests.sessions.merge_cookies
    monkeypatch.setattr(requests.sessions, 'merge_cookies', lambda *args: calls.append(args) or real(*args))
    session = SettledSession()
    session.prepare_request(requests.Request('GET', URL))
    assert calls == []
    session.prepare_request(requests.Request('GET', URL, cookies={'c': 'd'}))
    assert calls


def test_every_client_of_a_session_sends_through_one_transport(emulator, monkeypatch):
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    session = AzureSession({})
    arm = session.arm()
    transports = {id(arm._pipeline._transport)}  # pylint: disable=protected-access
    for sdk in ('recoveryservices', 'recoveryservicesbackup', 'dataprotection'):
        for subscription in (SUB, '22222222-2222-2222-2222-222222222222'):
            transports.add(id(session.client(sdk, subscription)._client._pipeline._transport))  # pylint: disable=protected-access
    assert len(transports) == 1
    adapter = arm._pipeline._transport.session.get_adapter('https://')  # pylint: disable=protected-access
    assert adapter._pool_maxsize == _transport.ARM_POOL_SIZE  # pylint: disable=protected-access
