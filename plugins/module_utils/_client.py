# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Authentication, cloud endpoints and the SDK client factory.

Nothing heavy is imported at load time: azure-identity is imported when a credential is first
built, and each management SDK when a client of it is first asked for. A task that only reads
Recovery Services vaults never imports the Data Protection SDK.
"""

from __future__ import annotations

import configparser
import importlib
import json
import os
import shutil
import threading
from urllib.parse import urlsplit

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    InputError,
    MissingLibraryError,
    first_line,
    from_exception,
)

COLLECTION_VERSION = '0.2.0'  # galaxy.yml's version (tests/unit/test_docs.py checks)
USER_AGENT = 'vaultlock.azure/%s' % COLLECTION_VERSION

AUTH_SOURCES = ('auto', 'env', 'cli', 'msi', 'workload_identity', 'credential_file')
# azure.azcollection reads the default auth_source from this variable; so do we.
AUTH_SOURCE_ENV = 'ANSIBLE_AZURE_AUTH_SOURCE'
CERT_VALIDATION_MODES = ('validate', 'ignore')

# Public Azure clouds: resource manager, login endpoint, token audience.
CLOUDS = {
    'azurecloud': ('AzureCloud', 'https://management.azure.com/', 'https://login.microsoftonline.com/',
                   'https://management.core.windows.net/'),
    'azureusgovernment': ('AzureUSGovernment', 'https://management.usgovcloudapi.net/', 'https://login.microsoftonline.us/',
                          'https://management.core.usgovcloudapi.net/'),
    'azurechinacloud': ('AzureChinaCloud', 'https://management.chinacloudapi.cn/', 'https://login.chinacloudapi.cn/',
                        'https://management.core.chinacloudapi.cn/'),
}
# Names other tools use for the same clouds.
CLOUD_ALIASES = {
    'azurepubliccloud': 'azurecloud',
    'public': 'azurecloud',
    'azureusgovernmentcloud': 'azureusgovernment',
    'usgovernment': 'azureusgovernment',
    'azurechina': 'azurechinacloud',
    'china': 'azurechinacloud',
}

METADATA_API_VERSION = '2022-09-01'

# SDK packages: (import path, client class, pip package).
SDKS = {
    'recoveryservices': ('azure.mgmt.recoveryservices', 'RecoveryServicesClient', 'azure-mgmt-recoveryservices'),
    'recoveryservicesbackup': ('azure.mgmt.recoveryservicesbackup', 'RecoveryServicesBackupClient', 'azure-mgmt-recoveryservicesbackup'),
    'dataprotection': ('azure.mgmt.dataprotection', 'DataProtectionMgmtClient', 'azure-mgmt-dataprotection'),
}

# Defaults that suit Ansible runs: a few quick retries (Retry-After is always honoured by azure-core),
# LRO polling every 5 s unless Azure says otherwise, and a bounded wait.
DEFAULT_SETTINGS = {
    'api_retries': 4,
    'api_retry_backoff': 0.8,
    'api_retry_backoff_max': 60,
    'api_timeout': 60,
    'polling_interval': 5,
    'wait_timeout': 900,
}


def _first(*values):
    for value in values:
        if value not in (None, ''):
            return value
    return None


class CloudEndpoints:
    """Where a cloud's resource manager and login endpoint are, and the token audience."""

    def __init__(self, name, resource_manager, authority_host, audience, custom=False):
        self.name = name
        self.resource_manager = resource_manager.rstrip('/') + '/'
        self.authority_host = authority_host.rstrip('/') + '/'
        self.audience = audience
        # Azure Stack Hub and other private clouds are not known to AAD's instance discovery.
        self.disable_instance_discovery = custom

    @property
    def scope(self):
        return self.audience.rstrip('/') + '/.default'

    def as_dict(self):
        return {
            'name': self.name,
            'resource_manager': self.resource_manager,
            'authority_host': self.authority_host,
            'audience': self.audience,
        }


def parse_metadata(document, url):
    """Read a /metadata/endpoints answer (2022-09-01 list form, or the older single-object form)."""
    if isinstance(document, list):
        if not document:
            raise InputError("cloud_environment %s: its /metadata/endpoints document lists no cloud" % url)
        chosen = document[0]
        for cloud in document:
            if isinstance(cloud, dict) and str(cloud.get('resourceManager', '')).rstrip('/').lower() == url.rstrip('/').lower():
                chosen = cloud
                break
        document = chosen
    if not isinstance(document, dict):
        raise InputError("cloud_environment %s: its /metadata/endpoints document is not a JSON object or list" % url)
    auth = document.get('authentication')
    if not isinstance(auth, dict) or not auth.get('loginEndpoint') or not auth.get('audiences'):
        raise InputError("cloud_environment %s: its /metadata/endpoints document has no authentication.loginEndpoint "
                         "and authentication.audiences" % url)
    audiences = auth['audiences']
    audience = audiences[0] if isinstance(audiences, list) else audiences
    resource_manager = document.get('resourceManager') or url
    for value in (auth['loginEndpoint'], resource_manager):
        if not str(value).lower().startswith('https://'):
            raise InputError("cloud_environment %s: its metadata names a non-https endpoint (%s)" % (url, value))
    return CloudEndpoints(document.get('name') or url, resource_manager, auth['loginEndpoint'], audience, custom=True)


def fetch_metadata(url, verify=True, timeout=30):
    """GET {url}/metadata/endpoints. Uses requests (a dependency of azure-core)."""
    try:
        import requests  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise MissingLibraryError('requests', exc)
    endpoint = url.rstrip('/') + '/metadata/endpoints'
    try:
        response = requests.get(endpoint, params={'api-version': METADATA_API_VERSION}, timeout=timeout, verify=verify)
    except requests.exceptions.SSLError as exc:
        raise AzureOperationError('read cloud metadata', url, None, 'TLSError', first_line(exc),
                                  hint='The certificate could not be verified: set REQUESTS_CA_BUNDLE or cert_validation_mode.')
    except requests.exceptions.RequestException as exc:
        raise AzureOperationError('read cloud metadata', url, None, 'ConnectionError', first_line(exc),
                                  hint='cloud_environment must be reachable over https.')
    if response.status_code != 200:
        raise AzureOperationError('read cloud metadata', url, response.status_code, 'MetadataUnavailable',
                                  '%s answered HTTP %s' % (endpoint, response.status_code))
    try:
        return response.json()
    except ValueError:
        raise InputError("cloud_environment %s: %s did not answer with JSON" % (url, endpoint))


def resolve_cloud(value, verify=True, fetch=fetch_metadata):
    """A cloud name or an https ARM URL -> CloudEndpoints."""
    if value in (None, ''):
        value = 'AzureCloud'
    text = str(value).strip()
    key = CLOUD_ALIASES.get(text.lower(), text.lower())
    if key in CLOUDS:
        return CloudEndpoints(*CLOUDS[key])
    if text.lower().startswith('http://'):
        raise InputError("cloud_environment '%s' must use https: Azure SDKs refuse to send bearer tokens over plain http" % text)
    if not text.lower().startswith('https://'):
        raise InputError("cloud_environment '%s' is neither a known cloud (AzureCloud, AzureUSGovernment, AzureChinaCloud) "
                         "nor an https URL of an Azure Resource Manager endpoint" % text)
    return parse_metadata(fetch(text, verify=verify), text)


class AuthPlan:
    """Which credential to build, and from what. Decided without importing azure-identity."""

    def __init__(self, kind, source, **kwargs):
        self.kind = kind          # secret, certificate, workload_identity, msi, cli, chained_msi_cli
        self.source = source      # where the settings came from: options, env, credential_file, ...
        self.kwargs = kwargs
        self.profile = {}         # the credential file profile used (cloud_environment, cert_validation_mode, ...)

    def __repr__(self):
        safe = {k: ('<redacted>' if k in ('client_secret', 'certificate_password') else v) for k, v in self.kwargs.items()}
        return 'AuthPlan(%s from %s, %s)' % (self.kind, self.source, safe)


def azure_config_dir(env=None):
    """The Azure CLI's configuration directory: AZURE_CONFIG_DIR, else ~/.azure (as the CLI and azure.azcollection do)."""
    env = os.environ if env is None else env
    return env.get('AZURE_CONFIG_DIR') or os.path.join(os.path.expanduser('~'), '.azure')


def read_credential_file(profile=None, path=None):
    """Read the credentials INI file (<AZURE_CONFIG_DIR or ~/.azure>/credentials) that azure.azcollection users already have."""
    path = path or os.path.join(azure_config_dir(), 'credentials')
    if not os.path.isfile(path):
        return None
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error as exc:
        raise InputError('the credential file %s cannot be parsed: %s' % (path, exc))
    profile = profile or 'default'
    if not parser.has_section(profile):
        raise InputError("the credential file %s has no profile '%s'" % (path, profile))
    return dict(parser.items(profile))


def _env(env, *names):
    return _first(*[env.get(n) for n in names])


def _service_principal(values, source):
    client_id = values.get('client_id')
    tenant = values.get('tenant')
    secret = values.get('secret')
    cert = values.get('certificate_path')
    if client_id and tenant and secret:
        return AuthPlan('secret', source, tenant_id=tenant, client_id=client_id, client_secret=secret)
    if client_id and tenant and cert:
        return AuthPlan('certificate', source, tenant_id=tenant, client_id=client_id, certificate_path=cert,
                        certificate_password=values.get('certificate_password'))
    return None


def env_settings(env):
    return {
        'client_id': _env(env, 'AZURE_CLIENT_ID'),
        'secret': _env(env, 'AZURE_SECRET', 'AZURE_CLIENT_SECRET'),
        'tenant': _env(env, 'AZURE_TENANT', 'AZURE_TENANT_ID'),
        'certificate_path': _env(env, 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_CERT_PATH'),
        'certificate_password': _env(env, 'AZURE_CLIENT_CERTIFICATE_PASSWORD'),
        'subscription_id': _env(env, 'AZURE_SUBSCRIPTION_ID'),
        'federated_token_file': _env(env, 'AZURE_FEDERATED_TOKEN_FILE'),
    }


def select_auth(params, env=None, credential_file_reader=None):
    """Decide which credential to use. Pure apart from reading the credential file.

    auth_source comes from the task, else ANSIBLE_AZURE_AUTH_SOURCE, else auto.
    auto: service principal from the task options, then from the environment, then workload identity
    (a federated token file, as GitHub Actions, Azure DevOps and AKS provide), then a credential file
    profile if one exists, then managed identity (the user-assigned one of client_id / AZURE_CLIENT_ID, if
    given) followed by the Azure CLI login (in tenant / AZURE_TENANT, if given).
    """
    env = os.environ if env is None else env
    credential_path = os.path.join(azure_config_dir(env), 'credentials')
    if credential_file_reader is None:
        def credential_file_reader(profile):
            return read_credential_file(profile, credential_path)
    source = params.get('auth_source') or env.get(AUTH_SOURCE_ENV) or 'auto'
    if source not in AUTH_SOURCES:
        origin = 'auth_source' if params.get('auth_source') else AUTH_SOURCE_ENV
        raise InputError('%s must be one of %s; got %s' % (origin, ', '.join(AUTH_SOURCES), source))
    options = {k: params.get(k) for k in ('client_id', 'secret', 'tenant', 'certificate_path', 'certificate_password')}
    fromenv = env_settings(env)
    if source in ('auto', 'env'):
        merged = {k: _first(options.get(k), fromenv.get(k)) for k in options}
        plan = _service_principal(merged, 'options' if _service_principal(options, 'options') else 'env')
        if plan:
            return plan
        if source == 'env':
            raise InputError('auth_source=env needs AZURE_CLIENT_ID, AZURE_TENANT (or AZURE_TENANT_ID) and AZURE_SECRET '
                             '(or AZURE_CLIENT_SECRET) or AZURE_CLIENT_CERTIFICATE_PATH, in the environment or the task options')
    if source in ('auto', 'workload_identity'):
        token_file = fromenv.get('federated_token_file')
        client_id = _first(options.get('client_id'), fromenv.get('client_id'))
        tenant = _first(options.get('tenant'), fromenv.get('tenant'))
        if token_file and client_id and tenant:
            return AuthPlan('workload_identity', 'workload_identity', tenant_id=tenant, client_id=client_id, token_file_path=token_file)
        if source == 'workload_identity':
            raise InputError('auth_source=workload_identity needs AZURE_FEDERATED_TOKEN_FILE, a client id (client_id or '
                             'AZURE_CLIENT_ID) and a tenant (tenant or AZURE_TENANT_ID)')
    if source in ('auto', 'credential_file'):
        values = credential_file_reader(params.get('profile') or env.get('AZURE_PROFILE'))
        if values:
            plan = _service_principal(values, 'credential_file')
            if plan:
                plan.kwargs['subscription_id'] = values.get('subscription_id')
                plan.profile = values
                return plan
            raise InputError('the credential file profile needs client_id, tenant and secret (or certificate_path)')
        if source == 'credential_file':
            raise InputError('auth_source=credential_file but %s does not exist (set AZURE_CONFIG_DIR if it is elsewhere)'
                             % credential_path)
    client_id = _first(options.get('client_id'), fromenv.get('client_id'))
    tenant = _first(options.get('tenant'), fromenv.get('tenant'))
    if source == 'msi':
        return AuthPlan('msi', 'msi', client_id=client_id)
    if source == 'cli':
        return AuthPlan('cli', 'cli', tenant_id=tenant)
    return AuthPlan('chained_msi_cli', 'auto', client_id=client_id, tenant_id=tenant)


def azure_errors():
    """The exception classes azure-core raises (imported on first use), for `except azure_errors():`."""
    exceptions = _import('azure.core.exceptions', 'azure-core')
    return (exceptions.AzureError,)


# Longest Retry-After the collection honours, in seconds. Azure's throttling answers ask for seconds;
# a larger value is waited for this long before the next try, so a task never hangs for an hour.
RETRY_AFTER_MAX = 60
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
    policies = _import('azure.core.pipeline.policies', 'azure-core')
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

    return SameHostPolicy()


def _import(module_name, package):
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise MissingLibraryError(package, exc)


def build_credential(plan, cloud, verify=True):
    """Build the azure-identity credential an AuthPlan describes."""
    identity = _import('azure.identity', 'azure-identity')
    common = {'authority': cloud.authority_host}
    if cloud.disable_instance_discovery:
        common['disable_instance_discovery'] = True
    if not verify:
        common['connection_verify'] = False
    kw = plan.kwargs
    if plan.kind == 'secret':
        return identity.ClientSecretCredential(kw['tenant_id'], kw['client_id'], kw['client_secret'], **common)
    if plan.kind == 'certificate':
        return identity.CertificateCredential(kw['tenant_id'], kw['client_id'], certificate_path=kw['certificate_path'],
                                              password=kw.get('certificate_password'), **common)
    if plan.kind == 'workload_identity':
        return identity.WorkloadIdentityCredential(tenant_id=kw['tenant_id'], client_id=kw['client_id'],
                                                   token_file_path=kw['token_file_path'], **common)
    if plan.kind == 'msi':
        return _managed_identity(identity, kw.get('client_id'))
    if plan.kind == 'cli':
        return _azure_cli(identity, kw.get('tenant_id'), required=True)
    return identity.ChainedTokenCredential(_managed_identity(identity, kw.get('client_id')),
                                           _azure_cli(identity, kw.get('tenant_id'), required=False))


def _managed_identity(identity, client_id):
    """The system-assigned identity, or the user-assigned one whose client id is given."""
    if client_id:
        return identity.ManagedIdentityCredential(client_id=client_id)
    return identity.ManagedIdentityCredential()


AZ_INSTALL_URL = 'https://learn.microsoft.com/cli/azure/install-azure-cli'


def _azure_cli(identity, tenant_id, required):
    """AzureCliCredential in the given tenant. With auth_source=cli, say plainly when there is no Azure CLI."""
    # azure-identity runs the 'az' found on PATH; without one it can only say 'CredentialUnavailable'.
    if required and not shutil.which('az'):
        raise InputError("auth_source=cli uses the Azure CLI login, but no 'az' command is on the PATH of the Python that runs "
                         "the module. Install the Azure CLI (%s) and run 'az login' (with --tenant, or set tenant), or choose "
                         "another auth_source: env, workload_identity, msi or credential_file." % AZ_INSTALL_URL)
    if tenant_id:
        return identity.AzureCliCredential(tenant_id=tenant_id)
    return identity.AzureCliCredential()


def cli_default_subscription(path=None):
    """The Azure CLI's default subscription (<AZURE_CONFIG_DIR or ~/.azure>/azureProfile.json), if any."""
    path = path or os.path.join(azure_config_dir(), 'azureProfile.json')
    try:
        with open(path, encoding='utf-8-sig') as handle:
            profile = json.load(handle)
    except (OSError, ValueError):
        return None
    for sub in profile.get('subscriptions', []):
        if sub.get('isDefault'):
            return sub.get('id')
    return None


# Most pages a listing follows (ARM pages hold up to 1,000 items; Azure allows 500 Recovery Services vaults per region
# and subscription): far beyond any real subscription, and a bound on a listing that would otherwise never end.
MAX_PAGES = 1000


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


# Connections the shared ARM client keeps open per host. requests keeps 10, and parallel reads beyond that
# would each open (and TLS-handshake) a new connection; connections are only opened when needed.
ARM_POOL_SIZE = 64


def pooled_transport():
    """An azure-core requests transport with a connection pool of ARM_POOL_SIZE (proxy settings from the environment as usual)."""
    requests = _import('requests', 'requests')
    adapters = _import('requests.adapters', 'requests')
    retry = _import('urllib3.util.retry', 'urllib3')
    transport = _import('azure.core.pipeline.transport', 'azure-core')
    session = requests.Session()
    # azure-core retries (RetryPolicy); urllib3 must not, as in azure-core's own session setup.
    adapter = adapters.HTTPAdapter(pool_connections=4, pool_maxsize=ARM_POOL_SIZE,
                                   max_retries=retry.Retry(total=False, redirect=False, raise_on_status=False))
    for prefix in ('http://', 'https://'):
        session.mount(prefix, adapter)
    return transport.RequestsTransport(session=session, session_owner=True)


class AzureSession:
    """Everything a task needs to talk to Azure: cloud, credential, subscription, clients.

    The credential and every client are built on first use and cached.
    """

    def __init__(self, params, env=None):
        self.params = params
        self.env = os.environ if env is None else env
        self._verify = None
        self.settings = {k: (params.get(k) if params.get(k) is not None else v) for k, v in DEFAULT_SETTINGS.items()}
        self._plan = None
        self._cloud = None
        self._credential = None
        self._clients = {}
        self._lock = threading.RLock()
        self._seen = threading.local()

    def last_status(self):
        """The HTTP status of the last answer an SDK client received on this thread, or None."""
        return getattr(self._seen, 'status', None)

    @property
    def plan(self):
        if self._plan is None:
            self._plan = select_auth(self.params, self.env)
        return self._plan

    def _setting(self, name, env_name):
        """A task option, else the credential file profile in use (as azure.azcollection reads it), else the environment."""
        return _first(self.params.get(name), self.plan.profile.get(name), self.env.get(env_name))

    @property
    def verify(self):
        """False when cert_validation_mode is ignore (task option, credential file profile, AZURE_CERT_VALIDATION_MODE)."""
        if self._verify is None:
            mode = str(self._setting('cert_validation_mode', 'AZURE_CERT_VALIDATION_MODE') or 'validate').lower()
            if mode not in CERT_VALIDATION_MODES:
                raise InputError("cert_validation_mode must be validate or ignore; got '%s'" % mode)
            self._verify = mode != 'ignore'
        return self._verify

    @property
    def cloud(self):
        if self._cloud is None:
            self._cloud = resolve_cloud(self._setting('cloud_environment', 'AZURE_CLOUD_ENVIRONMENT'), verify=self.verify)
        return self._cloud

    @property
    def credential(self):
        with self._lock:
            if self._credential is None:
                self._credential = build_credential(self.plan, self.cloud, verify=self.verify)
            return self._credential

    def default_subscription(self, required=True):
        given = self.params.get('subscription_id')
        if isinstance(given, str) and not given.strip():
            # An explicit empty value is a mistake (an unset variable, say), never a wish to use AZURE_SUBSCRIPTION_ID.
            raise InputError("subscription_id: %r is empty; give a subscription GUID, or leave the option out to use "
                             "AZURE_SUBSCRIPTION_ID or the credential's subscription" % given)
        sub = _first(self.params.get('subscription_id'), self.env.get('AZURE_SUBSCRIPTION_ID'),
                     self.plan.kwargs.get('subscription_id'))
        if not sub and self.plan.kind in ('cli', 'chained_msi_cli'):
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
            'retry_total': settings['api_retries'],
            'retry_backoff_factor': settings['api_retry_backoff'],
            'retry_backoff_max': settings['api_retry_backoff_max'],
            'read_timeout': settings['api_timeout'],
            'connection_timeout': min(30, settings['api_timeout']),
            'user_agent': USER_AGENT,
            'retry_policy': bounded_retry_policy(settings),
            'raw_response_hook': honour_zero_retry_after,
            'per_retry_policies': [same_host_policy(self.cloud.resource_manager, self._seen)],
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
            module = _import(module_name, package)
            cls = getattr(module, class_name)
            self._clients[key] = cls(self.credential, subscription_id, **self.client_kwargs())
        return self._clients[key]

    def arm(self):
        """A bare ARM pipeline client (azure-mgmt-core) shared by every read: vaults, policies, subscriptions."""
        with self._lock:
            return self._arm()

    def _arm(self):
        if 'arm' not in self._clients:
            core = _import('azure.mgmt.core', 'azure-mgmt-core')
            arm_policies = _import('azure.mgmt.core.policies', 'azure-mgmt-core')
            pipeline = _import('azure.core.pipeline.policies', 'azure-core')
            policies = [
                pipeline.HeadersPolicy(),
                pipeline.UserAgentPolicy(sdk_moniker=USER_AGENT),
                bounded_retry_policy(self.settings),
                same_host_policy(self.cloud.resource_manager),
                arm_policies.ARMChallengeAuthenticationPolicy(self.credential, self.cloud.scope),
                pipeline.NetworkTraceLoggingPolicy(),
            ]
            self._clients['arm'] = core.ARMPipelineClient(base_url=self.cloud.resource_manager, policies=policies,
                                                          transport=pooled_transport())
        return self._clients['arm']

    def _transport_kwargs(self):
        kwargs = {'connection_timeout': min(30, self.settings['api_timeout']), 'read_timeout': self.settings['api_timeout']}
        if not self.verify:
            kwargs['connection_verify'] = False
        return kwargs

    def arm_get(self, path, api_version, operation, resource=None):
        """GET an ARM path (no SDK) and return the JSON body; follows nextLink when the body is a page.

        A nextLink must point at the ARM endpoint in use (the token never goes elsewhere); a link seen before, or
        more than MAX_PAGES pages, ends the listing with an error instead of looping or hiding vaults.
        """
        rest = _import('azure.core.rest', 'azure-core')
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
                raise from_exception(exc, operation, resource)
            body = json_body(response, operation, resource)
            if not isinstance(body, dict) or 'value' not in body:
                return body
            if not isinstance(body.get('value'), (list, type(None))):
                raise AzureOperationError(operation, resource, response.status_code, 'InvalidResponseBody',
                                          'Azure answered HTTP %s with a page whose value is not a list' % response.status_code)
            items.extend(body.get('value') or [])
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
