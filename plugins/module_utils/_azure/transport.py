# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The HTTP side of every request: retries bounded and never blind for writes, Retry-After honoured (0 too),
every request kept on the Azure Resource Manager endpoint in use, pooled connections, JSON bodies checked.

azure-core is imported when a policy or a transport is first built, never at load time.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Mapping
from urllib.parse import urlsplit

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.stop import STOP
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import import_package as _import
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import RETRY_AFTER_MAX

WRITE_METHODS = ('PUT', 'PATCH', 'POST', 'DELETE')


def honour_zero_retry_after(pipeline_response):
    """Make azure-core honour Azure's ``Retry-After: 0`` ("poll again now").

    azure-core's long-running-operation polling reads a Retry-After of 0 as "no Retry-After" and waits
    ``polling_interval`` (5 s by default) instead. An explicit 0 is passed on as ``retry-after-ms: 1`` (which
    azure-core reads when there is no Retry-After; the SDKs deserialize Retry-After as an int, so it cannot carry
    a fraction), so the next poll follows at once. Any other Retry-After is left as Azure sent it (honoured by
    azure-core, and bounded by RETRY_AFTER_MAX for retries).
    """
    headers = getattr(getattr(pipeline_response, 'http_response', None), 'headers', None)
    if headers is None:
        return
    value = headers.get('Retry-After')
    if value is not None and str(value).strip() == '0' and not headers.get('retry-after-ms'):
        try:
            del headers['Retry-After']
            headers['retry-after-ms'] = '1'
        except (TypeError, KeyError):  # an immutable header mapping: leave azure-core's default
            pass


def bounded_retry_policy(settings):
    """An azure-core RetryPolicy that honours Retry-After up to RETRY_AFTER_MAX (built on first use)."""
    # Lazy: azure-core loads when a session builds its pipeline, never when this module is imported.
    policies = _import('azure.core.pipeline.policies', 'azure-core')

    class BoundedRetryPolicy(policies.RetryPolicy):
        """Honours Retry-After up to a bound, and never re-sends a write whose outcome is unknown.

        azure-core re-sends PUT/PATCH/DELETE after a 5xx answer or a connection that broke after the
        request went out. Such a write may have been applied: the collection re-reads the resource
        before deciding (see _vaults.reconcile_patch). Throttled writes (429) and writes that never
        reached Azure (connection refused) are still retried.
        """

        def get_retry_after(self, response):
            value = super().get_retry_after(response)
            if value is None:
                return None
            return min(float(value), RETRY_AFTER_MAX)

        def _is_method_retryable(self, settings, request, response=None):
            if response is not None and request.method.upper() in WRITE_METHODS and response.status_code >= 500:
                return False
            return super()._is_method_retryable(settings, request, response=response)

        def increment(self, settings, response=None, error=None):
            if error is not None and self._is_read_error(error) and not self._is_connection_error(error):
                request = getattr(response, 'http_request', response)
                if str(getattr(request, 'method', '')).upper() in WRITE_METHODS:
                    return False
            return super().increment(settings, response=response, error=error)

    return BoundedRetryPolicy(retry_total=settings['api_retries'], retry_backoff_factor=settings['api_retry_backoff'],
                              retry_backoff_max=settings['api_retry_backoff_max'])


def endpoint_authority(url):
    """(scheme, host[:port]) of a URL, lowercase; the port is left out when it is the scheme's default."""
    parsed = urlsplit(str(url))
    host = (parsed.hostname or '').lower()
    port = parsed.port
    if port and not (parsed.scheme.lower() == 'https' and port == 443):
        host = '%s:%d' % (host, port)
    return parsed.scheme.lower(), host


class UntrustedEndpointError(AzureOperationError):
    """A request (a nextLink, a Location or Azure-AsyncOperation URL, a redirect) for a host other than the ARM endpoint."""

    def __init__(self, url, allowed):
        shown = '%s://%s' % endpoint_authority(url)
        super().__init__('follow a link', None, None, 'UntrustedEndpoint',
                         'Azure named %s as the next address to call, which is not the Azure Resource Manager endpoint in use '
                         '(%s); it was not called and no token was sent' % (shown, allowed))


def same_host_policy(resource_manager, seen=None):
    """An azure-core policy that refuses any request whose scheme and host are not those of the ARM endpoint.

    It sits after the retry policy and before the bearer token policy (a per-retry policy), so it sees every request
    the pipeline sends, redirects and long-running operation polls included, before a token is attached. With `seen`
    (a threading.local), it also notes the HTTP status of the last answer on this thread, so an answer whose body the
    SDK cannot parse is reported with its status.
    """
    policies = _import('azure.core.pipeline.policies', 'azure-core')  # lazy: as bounded_retry_policy
    allowed = endpoint_authority(resource_manager)
    label = '%s://%s' % allowed

    class SameHostPolicy(policies.SansIOHTTPPolicy):
        def on_request(self, request):
            url = request.http_request.url
            if endpoint_authority(url) != allowed:
                raise UntrustedEndpointError(url, label)

        def on_response(self, request, response):
            if seen is not None:
                seen.status = getattr(response.http_response, 'status_code', None)
                # A newer answer on this thread: a read noted before it is no longer the last (AzureSession.take_sdk_read).
                seen.read = None

    return SameHostPolicy()


def expired_at_gateway(response):
    """True for ARM's answer to an expired token: HTTP 401, ``x-ms-failure-cause: gateway`` and the error code
    ``ExpiredAuthenticationToken`` (as the live service sends it: hashicorp/terraform-provider-azurerm#20867). ARM's gateway
    refused the request before any resource provider saw it, so nothing was written."""
    http = getattr(response, 'http_response', response)
    if getattr(http, 'status_code', None) != 401:
        return False
    headers = getattr(http, 'headers', None) or {}
    if str(headers.get('x-ms-failure-cause') or '').strip().lower() != 'gateway':
        return False
    try:
        # The SDKs send a long-running write's first request streamed: its (small) error body is read now, and stays read
        # for the SDK's own error handling.
        if callable(getattr(http, 'read', None)):
            http.read()
        body = json.loads(http.text())
    except Exception:  # pylint: disable=broad-except
        # No JSON error to read (an empty, garbled or broken body): not the answer this is about.
        return False
    error = body.get('error') if isinstance(body, dict) else None
    return isinstance(error, dict) and str(error.get('code') or '').lower() == 'expiredauthenticationtoken'


def expired_token_policy(renew):
    """An azure-core policy that sends a request ARM's gateway refused as carrying an expired token (expired_at_gateway)
    once more, after ``renew(authorization)`` was told which Authorization header was refused (so the credential gives a
    new token, not its cached one). Safe for any write, an irreversible one too: the refused request was not carried out.

    It sits after the retry policy and before the bearer token policy (a per-retry policy): the bearer token policy drops
    its token on any 401 and asks the credential again for the resend. The resend is the only one: a second 401 is
    answered as it is today, and any other 401 (InvalidAuthenticationToken, a claims challenge the bearer token policy
    handles itself) is left alone.
    """
    policies = _import('azure.core.pipeline.policies', 'azure-core')  # lazy: as bounded_retry_policy

    class ExpiredTokenPolicy(policies.HTTPPolicy):
        def send(self, request):
            response = self.next.send(request)
            if expired_at_gateway(response):
                renew(request.http_request.headers.get('Authorization'))
                response = self.next.send(request)
            return response

    return ExpiredTokenPolicy()


def json_body(response, operation, resource=None):
    """The JSON body of an answer; an empty, truncated or non-JSON body is an error naming the operation and the status."""
    try:
        text = response.text()
    except Exception:  # pylint: disable=broad-except
        # A body that cannot even be decoded as text: reported as not JSON below.
        text = None
    status = getattr(response, 'status_code', None)
    if not text or not text.strip():
        raise AzureOperationError(operation, resource, status, 'InvalidResponseBody',
                                  'Azure answered HTTP %s with an empty body where JSON was expected' % status)
    try:
        return json.loads(text)
    except ValueError:
        start = text.lstrip()[:1]
        kind = 'a truncated JSON document' if start in ('{', '[') else 'a body that is not JSON (%s)' % (
            response.headers.get('Content-Type') or 'no content type')
        raise AzureOperationError(operation, resource, status, 'InvalidResponseBody',
                                  'Azure answered HTTP %s with %s' % (status, kind)) from None


# Connections a session's transport (shared by its ARM read pipeline and every SDK client) keeps open per host. requests
# keeps 10, and parallel requests beyond that would each open (and TLS-handshake) a new connection, then drop it; 256 is
# above any concurrency the role's options ask for (harden_apply's 64 vaults at once, each with its long-running operation
# poller). Connections are only opened when needed.
ARM_POOL_SIZE = 256


def _merged(request_setting, session_setting, dict_class):
    """requests.sessions.merge_setting, without its runtime protocol checks (a Mapping's items are its key-value pairs)."""
    if session_setting is None:
        return request_setting
    if request_setting is None:
        return session_setting
    if not (isinstance(session_setting, Mapping) and isinstance(request_setting, Mapping)):
        return request_setting
    merged = dict_class(session_setting.items())
    merged.update(request_setting.items())
    for key in [key for key, value in merged.items() if value is None]:
        del merged[key]
    return merged


def _settled_session(requests):
    """A requests.Session class that reads the proxy and CA bundle settings of the environment once per scheme and host.

    requests reads them on every request (Session.merge_environment_settings walks os.environ for *_proxy and
    REQUESTS_CA_BUNDLE, then checks no_proxy): measured at about 1.4 ms of CPU a request, half of what an apply of a
    fleet cost the controller. A task's environment does not change while its requests go out, so the answer for a host
    is kept; what the environment says is still what applies (proxies, no_proxy, the CA bundle). The same holds for the
    netrc file requests looks up for every request that carries no auth of its own (two file checks a request).

    A request prepared while neither it nor the session holds a cookie (ARM sets none) skips requests' cookie jar merging
    and its empty Cookie header lookup, and merges the headers without requests' runtime protocol checks (about 0.1 ms of
    CPU a request, half of what preparing one cost): the prepared request is the one requests makes (same method, URL,
    headers, body, auth and hooks, an empty cookie jar); with a cookie on either side requests prepares it itself.
    """
    def as_sent(prepared):
        # The auth of a request that has none (netrc has no entry for the host): leaves it as it is.
        return prepared

    class SettledSession(requests.Session):
        def __init__(self):
            super().__init__()
            self._settled = {}
            self._netrc = {}

        def prepare_request(self, request):
            # requests looks for a netrc file on every request (a stat of ~/.netrc and ~/_netrc each time): read once a host.
            if self.trust_env and not request.auth and not self.auth:
                host = urlsplit(request.url).netloc
                if host not in self._netrc:
                    self._netrc[host] = requests.utils.get_netrc_auth(request.url)
                request.auth = self._netrc[host] or as_sent
            if request.cookies or len(self.cookies):
                return super().prepare_request(request)
            # requests.Session.prepare_request without cookies to merge (PreparedRequest.prepare's steps, in its order).
            auth = request.auth
            prepared = requests.PreparedRequest()
            prepared.prepare_method(request.method.upper())
            # No parameter to add (azure-core puts the query in the URL): '' is what requests encodes an empty mapping to,
            # without its runtime protocol check of the mapping (about a fifth of preparing a request).
            params = _merged(request.params, self.params, collections.OrderedDict)
            prepared.prepare_url(request.url, params if params else '')
            prepared.prepare_headers(_merged(request.headers, self.headers, requests.structures.CaseInsensitiveDict))
            # What prepare_cookies leaves with an empty jar: the jar, and no Cookie header.
            prepared._cookies = requests.cookies.RequestsCookieJar()  # pylint: disable=protected-access
            prepared.prepare_body(request.data, request.files, request.json)
            prepared.prepare_auth(_merged(auth, self.auth, collections.OrderedDict), request.url)
            prepared.prepare_hooks(requests.sessions.merge_hooks(request.hooks, self.hooks))
            return prepared

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            parts = urlsplit(url)
            key = (parts.scheme, parts.netloc, tuple(sorted((proxies or {}).items())), stream, verify, cert)
            settled = self._settled.get(key)
            if settled is None:
                settled = super().merge_environment_settings(url, proxies, stream, verify, cert)
                self._settled[key] = settled
            return dict(settled, proxies=dict(settled['proxies']))

    return SettledSession


def pooled_transport():
    """An azure-core requests transport with a connection pool of ARM_POOL_SIZE (proxy settings from the environment as usual,
    read once per host: _settled_session)."""
    # Lazy: the transport's packages load with the first pipeline (see bounded_retry_policy).
    requests = _import('requests', 'requests')
    adapters = _import('requests.adapters', 'requests')
    retry = _import('urllib3.util.retry', 'urllib3')
    transport = _import('azure.core.pipeline.transport', 'azure-core')
    session = _settled_session(requests)()

    class StoppableAdapter(adapters.HTTPAdapter):
        """requests' adapter, which refuses a write once the run was told to stop (stop.STOP): the last check before the
        request goes on the wire, after every pipeline policy (a token fetched, a wait for ARM's buckets)."""

        def send(self, request, *args, **kwargs):  # pylint: disable=arguments-differ
            STOP.refuse(request.method, request.url)
            return super().send(request, *args, **kwargs)

    # azure-core retries (RetryPolicy); urllib3 must not, as in azure-core's own session setup.
    adapter = StoppableAdapter(pool_connections=4, pool_maxsize=ARM_POOL_SIZE,
                               max_retries=retry.Retry(total=False, redirect=False, raise_on_status=False))
    for prefix in ('http://', 'https://'):
        session.mount(prefix, adapter)
    return transport.RequestsTransport(session=session, session_owner=True)
