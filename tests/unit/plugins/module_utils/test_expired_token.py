# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A token ARM's gateway refused as expired: which answers are that (expired_at_gateway), and the session's credential
built anew only for a token of the credential in use (RenewableCredential.renew); the resends themselves are tested
against the emulator (tests/integration/test_apply_failures.py)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._azure import client as _client
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import refused_token_hint
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.transport import expired_at_gateway
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError

EXPIRED = {'error': {'code': 'ExpiredAuthenticationToken', 'message': "The access token expiry UTC time '3/19/2023 8:55:46 AM' is "
                     "earlier than current UTC time '3/19/2023 8:55:57 AM'."}}
GATEWAY = {'x-ms-failure-cause': 'gateway', 'WWW-Authenticate': 'Bearer error="invalid_token"'}


class Answer:
    """An HTTP answer as azure-core's rest responses give it: read() before text() when it was streamed."""

    def __init__(self, status, headers, body):
        self.status_code = status
        self.headers = headers
        self._body = body
        self.was_read = False

    def read(self):
        self.was_read = True

    def text(self):
        if not self.was_read:
            raise RuntimeError('not read')
        return self._body


@pytest.mark.parametrize('status, headers, body, expired', [
    (401, GATEWAY, json.dumps(EXPIRED), True),
    (401, {'X-MS-Failure-Cause': 'Gateway'}, json.dumps(EXPIRED), True),
    (401, {'WWW-Authenticate': 'Bearer error="invalid_token"'}, json.dumps(EXPIRED), False),   # not the gateway's
    (401, GATEWAY, json.dumps({'error': {'code': 'InvalidAuthenticationToken', 'message': 'x'}}), False),
    (401, GATEWAY, '<html>Unauthorized</html>', False),
    (401, GATEWAY, '', False),
    (403, GATEWAY, json.dumps(EXPIRED), False),
])
def test_only_the_gateways_expired_token_answer_is_one(status, headers, body, expired):
    class Headers(dict):
        def get(self, key, default=None):
            return next((v for k, v in self.items() if k.lower() == key.lower()), default)

    assert expired_at_gateway(Answer(status, Headers(headers), body)) is expired


def test_a_refused_token_renews_the_credential_once_whichever_thread_saw_it_first(monkeypatch):
    built = []

    class Credential:
        def __init__(self):
            built.append(self)

        def get_token(self, *scopes, **kwargs):
            return type('Token', (), {'token': 'token-%d' % len(built), 'expires_on': 9999999999})()

    monkeypatch.setattr(_client, 'build_credential', lambda *args, **kwargs: Credential())
    session = AzureSession({}, env={})
    session._plan = session._cloud = object()   # pylint: disable=protected-access
    session._verify = True   # pylint: disable=protected-access
    session._auxiliary = []   # pylint: disable=protected-access
    credential = session.credential
    assert credential.get_token('scope').token == 'token-1'
    credential.renew('Bearer token-1')
    assert credential.renewals == 1 and credential.get_token('scope').token == 'token-2' and len(built) == 2
    credential.renew('Bearer token-1')   # a second thread refused with the same old token: already renewed
    credential.renew(None)
    credential.renew('Bearer someone-elses')
    assert credential.renewals == 1 and len(built) == 2
    assert credential.get_token_info('scope').token == 'token-2'


def test_a_credential_that_hands_back_the_refused_token_is_named_in_the_error(monkeypatch):
    """Managed identity and the Azure CLI give their cached token: a newly built credential hands back the very token ARM
    refused. The resend is the only one (expired_token_policy), and the HTTP 401 error then names the credential kind and
    says that it gave the same token, with what to do for that kind; not the generic 'check the credentials'."""
    class Cached:
        def get_token(self, *scopes, **kwargs):
            return type('Token', (), {'token': 'cached', 'expires_on': 9999999999})()

    monkeypatch.setattr(_client, 'build_credential', lambda *args, **kwargs: Cached())
    session = AzureSession({'auth_source': 'msi'}, env={})
    session._cloud = object()   # pylint: disable=protected-access
    session._verify = True   # pylint: disable=protected-access
    session._auxiliary = []   # pylint: disable=protected-access
    credential = session.credential
    credential.get_token('scope')
    credential.renew('Bearer cached')
    assert credential.get_token('scope').token == 'cached' and credential.same_token_again == 1
    error = session.explain(AzureOperationError('update immutability', 'vault x', 401, 'ExpiredAuthenticationToken', 'expired',
                                                hint='Check the credentials'))
    assert 'refused the access token of the managed identity (auth_source msi), also when sent once more: a newly built ' \
           'credential handed back the same (cached) token' in str(error)
    # Learn (managed identities FAQ, "Are managed identities tokens cached?"): the back-end caches a token per resource
    # for around 24 hours and a refresh cannot be forced, so waiting a few minutes is no advice.
    assert 'around 24 hours' in str(error) and 'cannot be forced' in str(error)
    assert 'few minutes' not in str(error) and 'Check the credentials' not in str(error)
    other = AzureOperationError('read vault', 'vault x', 403, 'AuthorizationFailed', 'no', hint='grant a role')
    assert session.explain(other) is other and str(other).endswith('grant a role')


@pytest.mark.parametrize('kind, words', [
    ('secret', 'the service principal (client secret); check client_id'),
    ('certificate', 'the service principal (certificate)'),
    ('workload_identity', 'workload identity (AZURE_FEDERATED_TOKEN_FILE)'),
    ('msi', 'the managed identity (auth_source msi)'),
    ('cli', "the Azure CLI login (auth_source cli); the Azure CLI hands out its cached token: run 'az login' again"),
    ('chained_cli_msi', 'the Azure CLI login, else the managed identity (auth_source auto)'),
])
def test_the_refused_token_hint_names_each_credential_kind(kind, words):
    assert words in refused_token_hint(kind)
    assert 'few minutes' not in refused_token_hint(kind)
    assert 'also the new token of a newly built credential' in refused_token_hint(kind, renewed=True)
