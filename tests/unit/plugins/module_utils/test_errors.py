# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure exceptions -> the collection's error type, with real azure-core exception classes."""

from __future__ import annotations

import json

import pytest

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError, ServiceRequestError
from azure.core.rest import HttpRequest
from ansible.parsing.utils.yaml import from_yaml

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    escaped,
    from_exception,
    scrub,
    shown,
    type_name,
    visible,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._tiers import TierError, resolve_tiers


class FakeResponse:
    """The small part of azure.core's HttpResponse that HttpResponseError reads."""

    def __init__(self, status, body, headers=None):
        self.status_code = status
        self.reason = 'reason'
        self.headers = headers or {}
        self.request = HttpRequest('GET', 'https://example.invalid/')
        self._body = json.dumps(body).encode()
        self.content_type = 'application/json'

    def body(self):
        return self._body

    def text(self, encoding=None):
        return self._body.decode()

    def json(self):
        return json.loads(self._body)


def test_a_guarded_write_without_the_guard_s_request_says_where_the_request_comes_from():
    """Azure's words for a guarded write that carries no request id of the guard (terraform-provider-azurerm#31887) get a
    hint naming the proxy the request comes from and the auxiliary tenant; its code is not published, so the words decide."""
    body = {'error': {'code': 'BMSUserErrorInvalidInput', 'message': 'ResourceGuard Operation requestid is either null or empty'}}
    err = from_exception(HttpResponseError(response=FakeResponse(400, body)), 'update soft delete', "vault 'v1'")
    text = err.describe()
    assert 'backupResourceGuardProxies' in text and 'auxiliary_tenant_ids' in text, text
    other = {'error': {'code': 'BMSUserErrorInvalidInput', 'message': 'Input provided for the call is invalid.'}}
    assert 'backupResourceGuardProxies' not in from_exception(HttpResponseError(response=FakeResponse(400, other)), 'x', 'y').describe()


def test_arm_error_body_is_read():
    body = {'error': {'code': 'AuthorizationFailed', 'message': "The client 'x' does not have authorization to perform action "
                                                                "'Microsoft.RecoveryServices/vaults/write'"}}
    exc = HttpResponseError(response=FakeResponse(403, body, {'x-ms-request-id': 'req-1'}))
    err = from_exception(exc, 'update immutability', "vault 'v1'")
    assert isinstance(err, AzureOperationError)
    assert err.status == 403
    assert err.code == 'AuthorizationFailed'
    assert 'Microsoft.RecoveryServices/vaults/write' in err.azure_message
    assert err.request_id == 'req-1'
    text = err.describe()
    assert text.startswith("update immutability failed for vault 'v1' (HTTP 403, AuthorizationFailed)")
    assert 'Backup Contributor' in text


def test_not_found():
    body = {'error': {'code': 'ResourceNotFound', 'message': "The Resource 'Microsoft.RecoveryServices/vaults/x' ... was not found."}}
    err = from_exception(ResourceNotFoundError(response=FakeResponse(404, body)), 'read vault')
    assert err.not_found and err.code == 'ResourceNotFound'


def test_token_errors_become_authentication_failures():
    err = from_exception(ClientAuthenticationError(message='AADSTS7000215: Invalid client secret provided.'), 'read vault')
    assert err.status == 401 and err.code == 'AuthenticationFailed'
    assert 'AADSTS7000215' in err.describe()


def test_connection_errors():
    err = from_exception(ServiceRequestError('Connection refused'), 'read vault')
    assert err.code == 'ConnectionError' and err.status is None


def test_secrets_are_scrubbed():
    assert 'abc.def' not in scrub('Authorization: Bearer abc.def')
    assert 's3cr3t' not in scrub('client_secret=s3cr3t&grant_type=client_credentials')
    err = AzureOperationError('x', message='token: Bearer eyJhbGciOi.xyz')
    assert 'eyJhbGciOi' not in err.describe()


def test_unavailable_credentials_are_not_http_errors():
    from azure.identity import CredentialUnavailableError  # pylint: disable=import-outside-toplevel
    err = from_exception(CredentialUnavailableError(message="Please run 'az login' to set up an account"), 'read vault')
    assert err.status is None and err.code == 'CredentialUnavailable'
    assert 'HTTP' not in err.describe() and "az login" in err.describe()
    chained = ClientAuthenticationError(message='ChainedTokenCredential failed to retrieve a token from the included credentials.\n'
                                                'Attempted credentials:\n\tManagedIdentityCredential: unavailable')
    err = from_exception(chained, 'read vault')
    assert err.status is None and err.code == 'CredentialUnavailable' and 'HTTP 401' not in err.describe()


def test_reporting_a_failure_never_raises_while_checking_tls_settings():
    """A task that failed because its credential settings could not be resolved (no credential file, say) is reported
    with fail_json: the TLS note that follows must not resolve the same settings again and raise (a traceback)."""
    from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError  # pylint: disable=import-outside-toplevel
    from ansible_collections.vaultlock.azure.plugins.module_utils._module import VaultlockModule  # pylint: disable=import-outside-toplevel

    class Session:
        @property
        def verify(self):
            raise InputError('auth_source=credential_file but the credential file does not exist')

    class Module:
        warnings = []

        def warn(self, message):
            self.warnings.append(message)

    holder = VaultlockModule.__new__(VaultlockModule)
    holder._session = Session()  # pylint: disable=protected-access
    holder.params = {}
    holder.module = Module()
    assert holder._transport_notes({'changed': False}) == {'changed': False}  # pylint: disable=protected-access
    assert Module.warnings == []


def test_terminal_escape_sequences_in_service_text_never_reach_the_terminal():
    """Issue 25: ANSI escapes in Azure's error text reached the terminal."""
    from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, scrub
    text = 'bad \x1b[31mred\x1b[0m \x1b]0;owned\x07title \x1b[2Jclear\x9b31m\x07 done\nnext\ttab'
    assert scrub(text) == 'bad red title clear done\nnext\ttab'
    error = AzureOperationError('update vault', 'rsv-1', 400, 'BadRequest', 'no \x1b[1;31mway\x1b[0m')
    assert '\x1b' not in str(error) and 'no way' in str(error)


@pytest.mark.parametrize('char', ['\u202e', '\u202d', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c',
                                  '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u00a0', '\u3000', '\u2028',
                                  '\u3164', '\u115f', '\u2800', '\ufe0f', '\U000e0001', '\ue000', '\x1b', '\x85',
                                  # Mongolian free variation selectors (combining marks that show nothing; U+180E is Cf).
                                  '\u180b', '\u180c', '\u180d', '\u180e', '\u180f'])
def test_invisible_and_direction_characters_are_escaped_in_shown_values(char):
    """A right-to-left override (or a zero-width space, a no-break space...) shown as itself makes a value read as another
    one in an error message: 'rsv-\u202eavorp' reads as rsv-prova. Each is shown as its escape, as control characters are."""
    value = 'rsv-%sprod' % char
    text = shown(value)
    code = ord(char)
    escape = '\\x%02x' % code if code < 256 else ('\\u%04x' % code if code < 0x10000 else '\\U%08x' % code)
    assert char not in text and text == "'rsv-%sprod'" % escape
    assert escaped(value) == text[1:-1]
    if code > 0x7f:
        # The reports (drift.md, drift.html, drift.sarif) show the same characters as their code too (_errors.visible).
        assert visible(value) == 'rsv-%sprod' % escape and visible(value, in_json=True) == 'rsv-\\%sprod' % escape


def test_letters_of_any_script_are_shown_as_they_are():
    for value in ('rg-\u00e9t\u00e9', 'rsv-pr\u043ed', '\u65e5\u672c', 'caf\u0065\u0301', 'a b'):
        assert shown(value) == "'%s'" % value


@pytest.mark.parametrize('value,text', [(True, 'true'), (False, 'false'), (None, 'null'), (30, '30'), (30.5, '30.5'),
                                        ('30', "'30'"), ('true', "'true'")])
def test_shown_writes_what_the_user_wrote(value, text):
    """YAML's true is Python's True: shown as true, never 'True' (nor as 1, its value as a number); text stays quoted, so
    '30' and 30 differ."""
    assert shown(value) == text


def test_non_finite_numbers_are_found_by_their_path_and_written_as_yaml():
    from ansible_collections.vaultlock.azure.plugins.module_utils._errors import finite, non_finite, non_finite_refusal
    args = {'id': 'x', 'alerts': {'days': [1, float('-inf')]}, 'n': 2.5}
    assert non_finite(args) == 'alerts.days[1]' and non_finite({'n': 2.5, 'm': 10 ** 400}) is None
    assert finite(args) == {'id': 'x', 'alerts': {'days': [1, '-.inf']}, 'n': 2.5}
    assert finite([float('nan'), float('inf')]) == ['.nan', '.inf']
    assert non_finite_refusal({'wait_timeout': float('nan')}).startswith('wait_timeout is not a finite number (YAML .inf, -.inf or .nan)')


def test_a_refusal_names_the_type_the_user_wrote_not_ansible_cores_tagged_type():
    """ansible-core 2.19 hands over the values it read as its own tagged types: a refusal said "got _AnsibleTaggedStr"
    (harden_backup_vaults_baselines given as text with -e) or "got _AnsibleTaggedDict"; it says str and dict."""
    read = from_yaml('text: baselines\nmapping: {a: 1}\nitems: [1]\nnumber: 2\n')
    assert [type_name(read[key]) for key in ('text', 'mapping', 'items', 'number')] == ['str', 'dict', 'list', 'int']
    assert (type_name(True), type_name(None), type_name(1.5)) == ('bool', 'NoneType', 'float')
    with pytest.raises(TierError, match=r'must be a list of tiers \{name, match, \.\.\.\}, got str$'):
        resolve_tiers(read['text'], {})
    with pytest.raises(TierError, match=r'got dict$'):
        resolve_tiers(read['mapping'], {})
