# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transport hygiene through the real SDK pipelines against the emulator: links to other hosts are refused before a
token leaves, paging ends on a repeated link, and bodies that are not JSON become clear errors."""

from __future__ import annotations

import socket
import threading

import pytest
import requests.sessions
import requests.utils
from azure.core.rest import HttpRequest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.immutability import immutability_patch
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend
from tests.unit.builders import SUB, emulator_session

RG = 'rg-t'
LIST_PATH = '/subscriptions/%s/providers/Microsoft.RecoveryServices/vaults$' % SUB


def fleet():
    return {'subscriptions': [{'id': SUB, 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
        {'name': 'rsv-a', 'type': 'recovery_services', 'immutability': 'disabled'},
        {'name': 'bv-a', 'type': 'backup', 'immutability': 'disabled'}]}]}]}


@pytest.fixture
def session(emulator, monkeypatch):
    return emulator_session(emulator, monkeypatch, fleet())


@pytest.fixture
def elsewhere():
    """A listening socket standing for another host: it must never be connected to."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(5)
    listener.setblocking(False)
    yield 'https://127.0.0.1:%d' % listener.getsockname()[1], listener
    listener.close()


def connections(listener):
    count = 0
    while True:
        try:
            conn, _addr = listener.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def test_a_next_link_to_another_host_is_refused_and_no_token_leaves(session, emulator, elsewhere):
    url, listener = elsewhere
    emulator.fault(method='GET', path_regex=LIST_PATH, status=200,
                   raw_body='{"value": [], "nextLink": "%s/subscriptions/%s/providers/Microsoft.RecoveryServices/vaults?page=2"}' % (url, SUB))
    with pytest.raises(AzureOperationError) as err:
        backend(session, 'recovery_services').list(SUB)
    assert err.value.code == 'UntrustedEndpoint' and 'no token was sent' in err.value.describe()
    assert 'list Recovery Services vaults failed for subscription' in err.value.describe()
    assert connections(listener) == 0


def test_paging_stops_on_a_repeated_link(session, emulator):
    again = '%ssubscriptions/%s/providers/Microsoft.RecoveryServices/vaults?api-version=2026-11-01&$skiptoken=7' % (emulator.arm_url, SUB)
    emulator.fault(method='GET', path_regex=LIST_PATH, status=200, times=10, raw_body='{"value": [], "nextLink": "%s"}' % again)
    with pytest.raises(AzureOperationError) as err:
        backend(session, 'recovery_services').list(SUB)
    assert err.value.code == 'PagingLoop'
    assert len([j for j in emulator.journal() if j['method'] == 'GET']) == 2


def test_a_long_running_operation_link_to_another_host_is_refused(session, emulator, elsewhere):
    url, listener = elsewhere
    ref = VaultRef(SUB, RG, 'bv-a', 'backup')
    # Azure accepts the PATCH, then names another host for the operation status.
    emulator.fault(method='PATCH', path_regex='/backupVaults/bv-a$', after=True, status=202, raw_body='',
                   headers={'Azure-AsyncOperation': url + '/operationStatus/1', 'Location': url + '/operationResults/1',
                            'Retry-After': '0'})
    with pytest.raises(AzureOperationError) as err:
        backend(session, 'backup').patch(ref, immutability_patch('backup', 'enabled'), 'update immutability')
    assert err.value.code == 'UntrustedEndpoint'
    assert err.value.describe().startswith("update immutability failed for Backup vault 'bv-a'")
    assert connections(listener) == 0


@pytest.mark.parametrize('raw, text', [
    ('', 'an empty body'),
    ('{"id": "/subscriptions/x", "properties": {', 'a truncated JSON document'),
    ('<html><body>Gateway</body></html>', 'a body that is not JSON'),
])
def test_a_read_answered_with_a_body_that_is_not_json_is_a_clear_error(session, emulator, raw, text):
    ref = VaultRef(SUB, RG, 'rsv-a', 'recovery_services')
    emulator.fault(method='GET', path_regex='/vaults/rsv-a$', status=200, raw_body=raw)
    with pytest.raises(AzureOperationError) as err:
        backend(session, 'recovery_services').get(ref)
    message = err.value.describe()
    assert message.startswith("read vault failed for Recovery Services vault 'rsv-a'")
    assert 'HTTP 200' in message and text in message and 'Expecting value' not in message


def test_a_write_answered_with_a_body_that_is_not_json_is_a_clear_error(session, emulator):
    ref = VaultRef(SUB, RG, 'rsv-a', 'recovery_services')
    emulator.fault(method='PATCH', path_regex='/vaults/rsv-a$', status=200, raw_body='{"truncated": ')
    with pytest.raises(AzureOperationError) as err:
        backend(session, 'recovery_services').patch(ref, immutability_patch('recovery_services', 'enabled'), 'update immutability')
    message = err.value.describe()
    assert message.startswith("update immutability failed for Recovery Services vault 'rsv-a'") and 'HTTP 200' in message
    assert 'Expecting value' not in message and 'InvalidResponseBody' in message


@pytest.mark.parametrize('vault_type,name', [('backup', 'bv-a'), ('recovery_services', 'rsv-a')])
def test_a_long_running_patch_hands_its_final_read_of_the_vault_on_once(session, emulator, vault_type, name):
    ref = VaultRef(SUB, RG, name, vault_type)
    store = backend(session, vault_type)
    path = store.vault_path(ref)
    store.patch(ref, immutability_patch(vault_type, 'enabled'), 'update immutability')
    reads = len([e for e in emulator.journal() if e['method'] == 'GET' and e['path'].lower() == path.lower()])
    assert reads == 1       # the SDK's own read of the vault once the operation succeeded
    assert session.take_sdk_read(path.upper(), 'another-version') is None  # wrong api-version: not handed, and forgotten
    assert session.take_sdk_read(path, store.api_version) is None
    store.patch(ref, immutability_patch(vault_type, 'disabled'), 'update immutability')
    body = session.take_sdk_read(path, store.api_version)
    assert body['properties']['securitySettings']['immutabilitySettings']['state'] == 'Disabled'
    assert session.take_sdk_read(path, store.api_version) is None           # once
    store.patch(ref, immutability_patch(vault_type, 'enabled'), 'update immutability')
    assert session.take_sdk_read(path + '/backupPolicies', store.api_version) is None   # another path: forgotten
    assert session.take_sdk_read(path, store.api_version) is None
    store.patch(ref, immutability_patch(vault_type, 'disabled'), 'update immutability')
    session.client(store.sdk, SUB)._client._pipeline.run(     # pylint: disable=protected-access
        HttpRequest('GET', session.cloud.resource_manager + path + '/x'))
    assert session.take_sdk_read(path, store.api_version) is None          # a newer answer on this thread: forgotten
    reads = len([e for e in emulator.journal() if e['method'] == 'GET' and e['path'].lower() == path.lower()])
    assert reads == 4


def test_a_thread_never_takes_another_threads_read(session):
    ref = VaultRef(SUB, RG, 'bv-a', 'backup')
    store = backend(session, 'backup')
    worker = threading.Thread(target=store.patch, args=(ref, immutability_patch('backup', 'enabled'), 'update'))
    worker.start()
    worker.join()
    assert session.take_sdk_read(store.vault_path(ref), store.api_version) is None


def test_netrc_is_looked_up_once_per_host(session, monkeypatch):
    calls = []
    real = requests.utils.get_netrc_auth

    def counting(url, raise_errors=False):
        calls.append(url)
        return real(url, raise_errors)
    # requests.sessions calls its own import of it; the session class calls requests.utils'.
    monkeypatch.setattr(requests.utils, 'get_netrc_auth', counting)
    monkeypatch.setattr(requests.sessions, 'get_netrc_auth', counting)
    ref = VaultRef(SUB, RG, 'rsv-a', 'recovery_services')
    for _read in range(3):
        backend(session, 'recovery_services').get(ref)
    arm_calls = [url for url in calls if '/subscriptions/' in url]     # the cloud metadata and token requests are not ours
    assert len(arm_calls) == 1, calls


@pytest.mark.parametrize('raw', ['{"value": null}', '{"value": "none"}', '{"value": {}}'])
def test_a_vault_list_page_without_a_list_is_an_error_never_no_vaults(session, emulator, raw):
    """A listing whose page carries no list says nothing of the vaults: "no vaults" would be a fleet with no drift."""
    emulator.fault(method='GET', path_regex=LIST_PATH, status=200, raw_body=raw)
    with pytest.raises(AzureOperationError) as err:
        backend(session, 'recovery_services').list(SUB)
    assert err.value.code == 'InvalidResponseBody' and 'not a list' in err.value.describe()
    assert 'list Recovery Services vaults failed for subscription' in err.value.describe()


def test_a_policy_list_page_whose_value_is_null_is_an_error_never_no_policies(session, emulator):
    ref = VaultRef(SUB, RG, 'rsv-a', 'recovery_services')
    emulator.fault(method='GET', path_regex='/vaults/rsv-a/backupPolicies$', status=200, raw_body='{"value": null}')
    with pytest.raises(AzureOperationError) as err:
        backend(session, 'recovery_services').list_policies(ref)
    assert err.value.code == 'InvalidResponseBody' and 'page whose value is null' in err.value.describe()


def test_a_policy_update_waits_as_the_202_and_then_each_status_answer_ask(session, emulator, monkeypatch):
    """A Recovery Services policy PUT answered 202: the first status read comes after the 202's Retry-After (not at once,
    which only spent a read of the subscription's budget), and each later one after the Retry-After of the status answer
    before it (Learn, asynchronous operations), not after the 202's again."""
    import time as real_time
    import types
    from ansible_collections.vaultlock.azure.plugins.module_utils import _vaults
    from tests.emulator import generator
    ref = VaultRef(SUB, RG, 'rsv-a', 'recovery_services')
    emulator.settings(lro_retry_after=5, policy_put_async=True)
    emulator.clock(freeze=True)
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        emulator.clock(advance_s=seconds)
    monkeypatch.setattr(_vaults, 'time', types.SimpleNamespace(monotonic=real_time.monotonic, sleep=sleep))
    emulator.fault(method='GET', path_regex='/backupPolicies/p1/operations/', times=1, status=200,
                   raw_body='{"id": "op", "name": "op", "status": "InProgress"}', headers={'Retry-After': '7'})
    body = {'properties': generator.iaas_v1(False)}
    backend(session, 'recovery_services')._put_policy(ref, 'p1', body, ref.label)  # pylint: disable=protected-access
    assert slept == [5.0, 7.0]
    polls = [j for j in emulator.journal() if j['method'] == 'GET' and '/operations/' in j['path']]
    assert len(polls) == 2
