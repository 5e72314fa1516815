# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The Azure session of a task: cloud, credential, subscription, and the SDK clients, each built on first use.

Nothing heavy is imported at load time: azure-identity is imported when a credential is first
built, and each management SDK when a client of it is first asked for. A task that only reads
Recovery Services vaults never imports the Data Protection SDK. Credential selection is in auth.py,
clouds in cloud.py, the HTTP policies in transport.py (this package).

Every pipeline the session builds (the ARM read pipeline and each SDK client) paces its requests per subscription
through the session's one ``pacer`` (``_pacing.SubscriptionPacer``, fed from ARM's remaining-requests headers), so a
task waits for ARM's tokens instead of provoking 429s; ``pacer.summary()`` says what that cost.
"""

from __future__ import annotations

import json
import os
import threading
from urllib.parse import parse_qs, unquote, urlsplit

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import (
    auxiliary_tenants,
    build_credential,
    check_settings,
    cli_default_subscription,
    first_value,
    refused_token_hint,
    select_auth,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.cloud import resolve_cloud
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    InputError,
    VaultlockError,
    azure_errors,
    from_exception,
    import_package,
    shown,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.pacing import SubscriptionPacer, pacing_policy
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import DEFAULT_SETTINGS, USER_AGENT
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.transport import (
    UntrustedEndpointError,
    bounded_retry_policy,
    endpoint_authority,
    expired_token_policy,
    honour_zero_retry_after,
    json_body,
    pooled_transport,
    same_host_policy,
)

CERT_VALIDATION_MODES = ('validate', 'ignore')

# SDK packages: (import path, client class, pip package).
SDKS = {
    'recoveryservices': ('azure.mgmt.recoveryservices', 'RecoveryServicesClient', 'azure-mgmt-recoveryservices'),
    'recoveryservicesbackup': ('azure.mgmt.recoveryservicesbackup', 'RecoveryServicesBackupClient', 'azure-mgmt-recoveryservicesbackup'),
    'dataprotection': ('azure.mgmt.dataprotection', 'DataProtectionMgmtClient', 'azure-mgmt-dataprotection'),
}


# Most pages a listing follows (ARM pages hold up to 1,000 items; Azure allows 500 Recovery Services vaults per region
# and subscription): far beyond any real subscription, and a bound on a listing that would otherwise never end.
MAX_PAGES = 1000


class TenantCredential:
    """A credential's tokens in one other tenant (``get_token(..., tenant_id=...)``; azure-identity issues them when the
    tenant is in its additionally_allowed_tenants): what AuxiliaryAuthenticationPolicy asks each auxiliary credential for."""

    def __init__(self, credential, tenant_id):
        self.credential = credential
        self.tenant_id = tenant_id

    def get_token(self, *scopes, **kwargs):
        kwargs['tenant_id'] = self.tenant_id
        return self.credential.get_token(*scopes, **kwargs)


class RenewableCredential:
    """The session's credential as every pipeline sees it: the azure-identity credential in use, replaced by a newly built
    one when ARM's gateway refused a token it gave as expired (_transport.expired_token_policy).

    azure-identity has no forced refresh: a credential hands out its cached token until it thinks the token is about to
    expire (an ARM clock ahead of the controller's is not that), and the only way past its cache is a claims challenge,
    which is Entra ID's to issue, not ours to make up. A newly built credential has an empty cache, so it asks Entra ID
    for a new token.
    """

    def __init__(self, session):
        self._session = session
        self._issued = set()
        self._refused = None
        self.renewals = 0
        self.same_token_again = 0   # tokens a newly built credential handed out that were the one just refused

    def _noted(self, token):
        if self._refused is not None and token.token == self._refused:
            # Managed identity and the Azure CLI give their cached token: the resend carries the refused one again.
            self.same_token_again += 1
        self._issued.add(token.token)
        return token

    def get_token(self, *scopes, **kwargs):
        return self._noted(self._session.identity_credential().get_token(*scopes, **kwargs))

    def get_token_info(self, *scopes, options=None):
        inner = self._session.identity_credential()
        if hasattr(inner, 'get_token_info'):
            return self._noted(inner.get_token_info(*scopes, options=options))
        return self._noted(inner.get_token(*scopes, **(options or {})))

    def renew(self, authorization):
        """Build a new credential if the refused token (an Authorization header) came from the one in use; a token of an
        earlier credential (another thread renewed it already) changes nothing."""
        token = str(authorization or '')[len('Bearer '):] if str(authorization or '').lower().startswith('bearer ') else None
        with self._session.lock:
            if token in self._issued:
                self._issued = set()
                self._refused = token
                self._session.drop_identity_credential()
                self.renewals += 1


class AzureSession:
    """Everything a task needs to talk to Azure: cloud, credential, subscription, clients.

    The credential and every client are built on first use and cached.
    """

    def __init__(self, params, env=None, pacer=None):
        # Refused before the session exists, so before any request (a timeout of 0 failed in the HTTP library).
        check_settings(params)
        self.params = params
        self.env = os.environ if env is None else env
        self._verify = None
        self.settings = {k: (params.get(k) if params.get(k) is not None else v) for k, v in DEFAULT_SETTINGS.items()}
        self._plan = None
        self._cloud = None
        self._credential = None
        self._renewable = RenewableCredential(self)
        self._auxiliary = None
        self._clients = {}
        self._lock = threading.RLock()
        self._seen = threading.local()
        # ARM's token buckets as this task sees them, one mirror for every pipeline of the session; ``pacer``: one that other
        # sessions of the same principal share (harden_plan's session per subscription), so that each bucket has one mirror.
        self.pacer = SubscriptionPacer() if pacer is None else pacer

    def last_status(self):
        """The HTTP status of the last answer an SDK client received on this thread, or None."""
        return getattr(self._seen, 'status', None)

    def note_sdk_read(self, pipeline_response):
        """Keep, for this thread, the last answer of a long-running operation (its final read of the resource); any later
        answer on this thread forgets it (same_host_policy)."""
        request = getattr(pipeline_response, 'http_request', None)
        response = getattr(pipeline_response, 'http_response', None)
        ok = request is not None and request.method == 'GET' and getattr(response, 'status_code', None) == 200
        self._seen.read = (request.url, response) if ok else None

    def take_sdk_read(self, path=None, api_version=None):
        """The JSON body of the read noted by note_sdk_read, when nothing was sent on this thread since and it was a GET of
        ``path`` at ``api_version`` that succeeded, else None; either way it is given once (the next call returns None).

        A long-running write (a vault PATCH) ends with the SDK reading the resource once the operation has succeeded: that
        read is as fresh as a GET sent now, and a caller that would read the vault next may take it instead of spending one
        of ARM's read tokens. ``path`` None only forgets it.
        """
        read = getattr(self._seen, 'read', None)
        self._seen.read = None
        if read is None or path is None:
            return None
        url, response = read
        parts = urlsplit(url)
        if unquote(parts.path).rstrip('/').lower() != unquote(path).rstrip('/').lower():
            return None
        if parse_qs(parts.query).get('api-version') != [api_version]:
            return None
        try:
            body = json.loads(response.text())
        except Exception:  # pylint: disable=broad-except
            # Not a body to hand on (truncated, not JSON, not text): the caller reads the vault itself.
            return None
        return body if isinstance(body, dict) and isinstance(body.get('properties'), dict) else None

    @property
    def plan(self):
        if self._plan is None:
            self._plan = select_auth(self.params, self.env)
        return self._plan

    def _setting(self, name, env_name):
        """A task option, else the credential file profile in use (as azure.azcollection reads it), else the environment."""
        return first_value(self.params.get(name), self.plan.profile.get(name), self.env.get(env_name))

    @property
    def verify(self):
        """False when cert_validation_mode is ignore (task option, credential file profile, AZURE_CERT_VALIDATION_MODE)."""
        if self._verify is None:
            mode = str(self._setting('cert_validation_mode', 'AZURE_CERT_VALIDATION_MODE') or 'validate').lower()
            if mode not in CERT_VALIDATION_MODES:
                raise InputError("cert_validation_mode must be validate or ignore; got %s" % shown(mode))
            self._verify = mode != 'ignore'
        return self._verify

    @property
    def cloud(self):
        if self._cloud is None:
            self._cloud = resolve_cloud(self._setting('cloud_environment', 'AZURE_CLOUD_ENVIRONMENT'), verify=self.verify)
        return self._cloud

    @property
    def auxiliary_tenants(self):
        """The tenants (auxiliary_tenant_ids) whose tokens every write carries in x-ms-authorization-auxiliary."""
        if self._auxiliary is None:
            self._auxiliary = auxiliary_tenants(self.params, self.env)
        return self._auxiliary

    @property
    def lock(self):
        return self._lock

    @property
    def credential(self):
        """The credential every pipeline of the session authenticates with (RenewableCredential)."""
        return self._renewable

    def identity_credential(self):
        """The azure-identity credential in use, built on first use (and again after drop_identity_credential)."""
        with self._lock:
            if self._credential is None:
                self._credential = build_credential(self.plan, self.cloud, verify=self.verify,
                                                    disable_instance_discovery=self.params.get('disable_instance_discovery'),
                                                    additionally_allowed_tenants=self.auxiliary_tenants)
            return self._credential

    def explain(self, exc):
        """``exc`` (an AzureOperationError) with, for an HTTP 401 from Azure Resource Manager, a hint naming the credential
        in use (auth.refused_token_hint) instead of the generic one; when no credential could be obtained with a client id
        and no secret or certificate, that the client id was taken as a user-assigned managed identity's; anything else as
        it is."""
        if getattr(exc, 'code', None) == 'CredentialUnavailable':
            return self._explain_unavailable(exc)
        if getattr(exc, 'status', None) != 401:
            return exc
        try:
            kind = self.plan.kind
        except VaultlockError:
            return exc
        renewable = self._renewable
        exc.hint = refused_token_hint(kind, renewed=renewable.renewals > 0, same_token=renewable.same_token_again > 0)
        exc.args = (exc.describe(),)
        return exc

    def _explain_unavailable(self, exc):
        try:
            plan = self.plan
        except VaultlockError:
            return exc
        if plan.kind not in ('msi', 'chained_cli_msi') or not plan.kwargs.get('client_id'):
            return exc
        # A service principal's client id and tenant without its secret: auto and msi ask for a managed identity of that
        # client id (docs/authentication.md), which a machine without one cannot give; the user meant the service principal.
        exc.hint = ('%s client_id is given (the task option or AZURE_CLIENT_ID) without a secret or certificate_path, so it was '
                    'taken as the client id of a user-assigned managed identity: for a service principal give its secret '
                    '(AZURE_SECRET or AZURE_CLIENT_SECRET) or certificate_path as well.' % (exc.hint or '')).strip()
        exc.args = (exc.describe(),)
        return exc

    def drop_identity_credential(self):
        """Forget the azure-identity credential and its token cache; the next token comes from a newly built one."""
        with self._lock:
            self._credential = None

    def auxiliary_policy(self):
        """azure-mgmt-core's AuxiliaryAuthenticationPolicy with a token of each auxiliary tenant, from the task's own
        credential (a Resource Guard in another tenant: multi-user authorization), or None without auxiliary_tenant_ids."""
        tenants = self.auxiliary_tenants
        if not tenants:
            return None
        # Lazy: azure-mgmt-core comes with the SDK clients; only a task that writes builds one.
        policies = import_package('azure.mgmt.core.policies', 'azure-mgmt-core')
        return policies.AuxiliaryAuthenticationPolicy([TenantCredential(self.credential, t) for t in tenants], self.cloud.scope)

    def default_subscription(self, required=True):
        given = self.params.get('subscription_id')
        if isinstance(given, str) and not given.strip():
            # An explicit empty value is a mistake (an unset variable, say), never a wish to use AZURE_SUBSCRIPTION_ID.
            raise InputError("subscription_id: %r is empty; give a subscription GUID, or leave the option out to use "
                             "AZURE_SUBSCRIPTION_ID or the credential's subscription" % given)
        sub = first_value(self.params.get('subscription_id'), self.env.get('AZURE_SUBSCRIPTION_ID'),
                          self.plan.kwargs.get('subscription_id'))
        if not sub and self.plan.kind in ('cli', 'chained_cli_msi'):
            sub = cli_default_subscription()
        if not sub and required:
            raise InputError('no subscription: set subscription_id (or AZURE_SUBSCRIPTION_ID), or give an ARM id')
        return sub

    def client_kwargs(self):
        settings = self.settings
        kwargs = {
            'base_url': self.cloud.resource_manager,
            'credential_scopes': [self.cloud.scope],
            'polling_interval': settings['polling_interval'],
            'read_timeout': settings['api_timeout'],
            'connection_timeout': min(30, settings['api_timeout']),
            'user_agent': USER_AGENT,
            'retry_policy': bounded_retry_policy(settings),
            'raw_response_hook': honour_zero_retry_after,
            'per_retry_policies': [p for p in (expired_token_policy(self._renewable.renew),
                                               same_host_policy(self.cloud.resource_manager, self._seen), pacing_policy(self.pacer),
                                               self.auxiliary_policy()) if p is not None],
            # One connection pool for every client of the session (_transport_shared): a fleet's writes go out many at once.
            'transport': self._transport_shared(),
        }
        if not self.verify:
            kwargs['connection_verify'] = False
        return kwargs

    def client(self, sdk, subscription_id):
        """A management client of one SDK for one subscription; the SDK is imported now, not before."""
        key = (sdk, (subscription_id or '').lower())
        with self._lock:
            return self._client(key, sdk, subscription_id)

    def _client(self, key, sdk, subscription_id):
        if key not in self._clients:
            module_name, class_name, package = SDKS[sdk]
            # Lazy: each management SDK costs its import time; a task imports only the one it calls.
            module = import_package(module_name, package)
            cls = getattr(module, class_name)
            self._clients[key] = cls(self.credential, subscription_id, **self.client_kwargs())
        return self._clients[key]

    def arm(self):
        """A bare ARM pipeline client (azure-mgmt-core) shared by every read: vaults, policies, subscriptions."""
        with self._lock:
            return self._arm()

    def _arm(self):
        if 'arm' not in self._clients:
            self._clients['arm'] = self.build_arm_client([expired_token_policy(self._renewable.renew),
                                                          same_host_policy(self.cloud.resource_manager), pacing_policy(self.pacer)])
        return self._clients['arm']

    def build_arm_client(self, per_retry_policies):
        """An ARMPipelineClient with the session's credential, retry policy and pooled transport; `per_retry_policies` sit
        between the retry policy and the bearer token policy (so they see every try before a token is attached)."""
        # Lazy: azure-core and azure-mgmt-core load when the first request needs a pipeline.
        core = import_package('azure.mgmt.core', 'azure-mgmt-core')
        arm_policies = import_package('azure.mgmt.core.policies', 'azure-mgmt-core')
        pipeline = import_package('azure.core.pipeline.policies', 'azure-core')
        policies = [pipeline.HeadersPolicy(), pipeline.UserAgentPolicy(sdk_moniker=USER_AGENT), bounded_retry_policy(self.settings)]
        policies.extend(per_retry_policies)
        policies.extend([arm_policies.ARMChallengeAuthenticationPolicy(self.credential, self.cloud.scope),
                         pipeline.NetworkTraceLoggingPolicy()])
        return core.ARMPipelineClient(base_url=self.cloud.resource_manager, policies=policies, transport=self._transport_shared())

    def _transport_shared(self):
        """The session's one pooled transport, built on first use: the ARM read pipeline and every SDK client (one per SDK and
        subscription) send through it, so a connection opened for one subscription's read serves the next vault's write
        instead of each client opening (and TLS-handshaking) connections of its own. Nothing closes it before the task ends."""
        with self._lock:
            if 'transport' not in self._clients:
                self._clients['transport'] = pooled_transport()
            return self._clients['transport']

    def _transport_kwargs(self):
        kwargs = {'connection_timeout': min(30, self.settings['api_timeout']), 'read_timeout': self.settings['api_timeout']}
        if not self.verify:
            kwargs['connection_verify'] = False
        return kwargs

    def arm_get(self, path, api_version, operation, resource=None):
        """GET an ARM path (no SDK) and return the JSON body; follows nextLink when the body is a page.

        A nextLink must point at the ARM endpoint in use (the token never goes elsewhere); a link seen before, or
        more than MAX_PAGES pages, ends the listing with an error instead of looping or hiding vaults. A page whose
        ``value`` is null is an error too (InvalidResponseBody), never an empty page: in every listing read here "none" is
        a verdict (no vaults to harden, no policies or protected items to judge, no diagnostic settings), and the specs
        make ``value`` a list (every recorded answer carries one).
        """
        rest = import_package('azure.core.rest', 'azure-core')  # lazy: loaded with the first request
        client = self.arm()
        url = path if path.startswith('https://') else self.cloud.resource_manager.rstrip('/') + path
        items = []
        params = {'api-version': api_version}
        seen = set()
        allowed = endpoint_authority(self.cloud.resource_manager)
        while url:
            if len(seen) >= MAX_PAGES:
                raise AzureOperationError(operation, resource, None, 'TooManyPages',
                                          'Azure returned more than %d pages; the listing was stopped there' % MAX_PAGES)
            seen.add(url)
            request = rest.HttpRequest('GET', url, params=params)
            try:
                response = client.send_request(request, **self._transport_kwargs())
                response.raise_for_status()
            except UntrustedEndpointError as exc:
                raise AzureOperationError(operation, resource, None, exc.code, exc.azure_message)
            except azure_errors() as exc:
                raise self.explain(from_exception(exc, operation, resource))
            body = json_body(response, operation, resource)
            if not isinstance(body, dict) or 'value' not in body:
                return body
            if body.get('value') is None:
                raise AzureOperationError(operation, resource, response.status_code, 'InvalidResponseBody',
                                          'Azure answered HTTP %s with a page whose value is null, not a list' % response.status_code)
            if not isinstance(body.get('value'), list):
                raise AzureOperationError(operation, resource, response.status_code, 'InvalidResponseBody',
                                          'Azure answered HTTP %s with a page whose value is not a list' % response.status_code)
            items.extend(body['value'])
            url = body.get('nextLink')
            if url is not None and not isinstance(url, str):
                raise AzureOperationError(operation, resource, response.status_code, 'InvalidResponseBody',
                                          'Azure answered HTTP %s with a nextLink that is not a URL' % response.status_code)
            if url and endpoint_authority(url) != allowed:
                raise AzureOperationError(operation, resource, None, 'UntrustedEndpoint',
                                          'Azure named %s://%s as the next page, which is not the Azure Resource Manager endpoint '
                                          'in use (%s://%s); it was not called and no token was sent' % (endpoint_authority(url) + allowed))
            if url in seen:
                raise AzureOperationError(operation, resource, None, 'PagingLoop',
                                          'Azure returned a nextLink that was already read; the listing was stopped there')
            params = {}
        return {'value': items}
