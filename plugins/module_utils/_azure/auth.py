# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Which credential a task uses (decided without importing azure-identity), and building it.

auth_source, the task options, the AZURE_* environment variables and the Azure CLI's credential file, as
azure.azcollection reads them.
"""

from __future__ import annotations

import configparser
import json
import logging
import math
import os
import re
import shutil

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError, has_control, import_package, shown
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import DEFAULT_SETTINGS

# The options that name files: a control character in one is refused before anything is read.
PATH_OPTIONS = ('certificate_path', 'x509_certificate_path')

AUTH_SOURCES = ('auto', 'env', 'cli', 'msi', 'workload_identity', 'credential_file')
# azure.azcollection reads the default auth_source from this variable; so do we.
AUTH_SOURCE_ENV = 'ANSIBLE_AZURE_AUTH_SOURCE'
AUXILIARY_TENANTS_ENV = 'AZURE_AUXILIARY_TENANT_IDS'

# The authentication and connection options of every module and of the backup_vaults inventory plugin, documented
# once in plugins/doc_fragments/azure_auth.py (ansible-test validate-modules checks that the two agree).
# auth_source has no default here: it falls back to ANSIBLE_AZURE_AUTH_SOURCE, then auto.
AUTH_ARGSPEC = {
    'auth_source': {'type': 'str', 'choices': list(AUTH_SOURCES)},
    'subscription_id': {'type': 'str'},
    'client_id': {'type': 'str'},
    'secret': {'type': 'str', 'no_log': True},
    'tenant': {'type': 'str'},
    'certificate_path': {'type': 'path'},
    'certificate_password': {'type': 'str', 'no_log': True},
    # azure.azcollection's names for a certificate credential: a PEM file (certificate appended to its private key) and
    # the certificate's thumbprint, which must match it.
    'x509_certificate_path': {'type': 'path'},
    'thumbprint': {'type': 'str'},
    'disable_instance_discovery': {'type': 'bool'},
    # Tenants whose tokens go with each write in x-ms-authorization-auxiliary (a Resource Guard in another tenant:
    # multi-user authorization). The name of Terraform's azurerm provider option and of az CLI's --aux-tenants.
    'auxiliary_tenant_ids': {'type': 'list', 'elements': 'str'},
    'cloud_environment': {'type': 'str'},
    'cert_validation_mode': {'type': 'str', 'choices': ['validate', 'ignore']},
    'profile': {'type': 'str'},
    'api_retries': {'type': 'int', 'default': DEFAULT_SETTINGS['api_retries']},
    'api_timeout': {'type': 'int', 'default': DEFAULT_SETTINGS['api_timeout']},
    'polling_interval': {'type': 'float', 'default': DEFAULT_SETTINGS['polling_interval']},
    'wait_timeout': {'type': 'int', 'default': DEFAULT_SETTINGS['wait_timeout']},
}


# The connection options' bounds (plugins/doc_fragments/azure_auth.py): (least, most, what one is). Outside them a task fails
# before any request: a timeout of 0 or below, or past what the clock can count, failed in the HTTP library with a traceback;
# a negative wait_timeout gave up on the first step of a lock before its second (the vault left Unlocked); a negative or
# huge count of retries is no count a person means.
SETTING_BOUNDS = {
    'api_retries': (0, 100, 'a whole number of retries from 0 to 100'),
    'api_timeout': (1, 3600, 'a whole number of seconds from 1 to 3600'),
    'polling_interval': (0, 3600, 'a number of seconds above 0, up to 3600'),
    'wait_timeout': (1, 86400, 'a whole number of seconds from 1 to 86400'),
}


def check_settings(params):
    """Raise InputError for a connection option (api_retries, api_timeout, polling_interval, wait_timeout) of ``params``
    outside its bounds (SETTING_BOUNDS), a boolean or no finite number; None is its default."""
    for name, (least, most, what) in SETTING_BOUNDS.items():
        value = params.get(name)
        if value is None:
            continue
        whole = name != 'polling_interval'
        number = isinstance(value, int) if whole else isinstance(value, (int, float))
        bad = isinstance(value, bool) or not number or not math.isfinite(value)
        if bad or value < least or value > most or (not whole and value <= least):
            raise InputError('%s must be %s; got %s%s; nothing was sent to Azure'
                             % (name, what, shown(value), ', a boolean' if isinstance(value, bool) else ''))


def auth_params(get_option):
    """The authentication options of a plugin that is not a module (an inventory), through its get_option."""
    return {name: get_option(name) for name in AUTH_ARGSPEC}


def first_value(*values):
    """The first value that is neither None nor an empty string."""
    for value in values:
        if value not in (None, ''):
            return value
    return None


class AuthPlan:
    """Which credential to build, and from what. Decided without importing azure-identity."""

    def __init__(self, kind, source, **kwargs):
        self.kind = kind          # secret, certificate, workload_identity, msi, cli, chained_cli_msi
        self.source = source      # where the settings came from: options, env, credential_file, ...
        self.kwargs = kwargs
        self.profile = {}         # the credential file profile used (cloud_environment, cert_validation_mode, ...)

    def __repr__(self):
        safe = {k: ('<redacted>' if k in ('client_secret', 'certificate_password') else v) for k, v in self.kwargs.items()}
        return 'AuthPlan(%s from %s, %s)' % (self.kind, self.source, safe)


# What each credential kind is called in an error, and what to do when Azure Resource Manager refuses its token (HTTP 401).
# Managed identity and the Azure CLI hand out a cached token: a newly built credential may get the same one again (the
# managed identity endpoint and the CLI keep tokens until shortly before they expire; azure-identity cannot force either
# to issue a new one), so a second refusal is not retried further.
REFUSED_TOKEN_ADVICE = {
    'secret': ('the service principal (client secret)',
               'check client_id, secret, tenant and cloud_environment'),
    'certificate': ('the service principal (certificate)',
                    'check client_id, the certificate, tenant and cloud_environment'),
    'workload_identity': ('workload identity (AZURE_FEDERATED_TOKEN_FILE)',
                          'check that the federated token file is renewed and that its identity, tenant and cloud_environment '
                          'are the ones meant'),
    'msi': ('the managed identity (auth_source msi)',
            'managed identity tokens are cached per resource for around 24 hours and a refresh cannot be forced, so the '
            'identity endpoint may hand out the same token until it expires: run again after its expiry, and check the '
            'identity (client_id) and cloud_environment'),
    'cli': ("the Azure CLI login (auth_source cli)",
            "the Azure CLI hands out its cached token: run 'az login' again (for the tenant and cloud in use) and run again"),
    'chained_cli_msi': ('the Azure CLI login, else the managed identity (auth_source auto)',
                        "the Azure CLI and the managed identity endpoint hand out cached tokens: run 'az login' again, or for "
                        'the managed identity (tokens cached per resource for around 24 hours, a refresh cannot be forced) run '
                        'again after the token expires'),
}


def refused_token_hint(kind, renewed=False, same_token=False):
    """The hint of an HTTP 401 from Azure Resource Manager naming the credential in use (AuthPlan.kind) and what to do.
    ``renewed``: the request was sent once more with a token of a newly built credential, and refused again;
    ``same_token``: that credential handed back the token just refused (managed identity and the Azure CLI cache tokens.
    Managed identity: Learn, "Managed identities for Azure resources frequently asked questions" ("Are managed identities
    tokens cached?"): the back-end caches a token per resource URI for around 24 hours and a refresh cannot be forced. How
    long the Azure CLI keeps one ARM refused is not published, **assumed** it may be until it expires. Nothing is sent a
    third time)."""
    label, advice = REFUSED_TOKEN_ADVICE.get(kind, ('the credential in use', 'check the credentials and cloud_environment'))
    text = 'Azure Resource Manager refused the access token of %s' % label
    if same_token:
        text += ', also when sent once more: a newly built credential handed back the same (cached) token'
    elif renewed:
        text += ', also the new token of a newly built credential'
    return '%s; %s. Nothing further was sent with that token.' % (text, advice)


def azure_config_dir(env=None):
    """The Azure CLI's configuration directory: AZURE_CONFIG_DIR, else ~/.azure (as the CLI and azure.azcollection do)."""
    env = os.environ if env is None else env
    return env.get('AZURE_CONFIG_DIR') or os.path.join(os.path.expanduser('~'), '.azure')


# What each configparser error means, in words that quote nothing of the file.
_PARSE_ERRORS = {
    'MissingSectionHeaderError': 'a line comes before the first [profile] header',
    'ParsingError': 'a line is neither a [profile] header nor a name = value line',
    'DuplicateOptionError': 'a name is given twice in one profile',
    'DuplicateSectionError': 'a profile is given twice',
}


def _parse_error_lines(exc):
    """The line numbers a configparser error names, never the lines themselves (they may hold the secret)."""
    lines = [lineno for lineno, _line in getattr(exc, 'errors', None) or ()]
    if not lines and getattr(exc, 'lineno', None):
        lines = [exc.lineno]
    return sorted(set(lines))


def read_credential_file(profile=None, path=None):
    """Read the credentials INI file (<AZURE_CONFIG_DIR or ~/.azure>/credentials) that azure.azcollection users already have.

    Values are taken as written, as azure.azcollection reads them (``config.get(profile, key, raw=True)``): no ``%``
    interpolation, so a secret with a ``%`` in it is that secret (ConfigParser's default interpolation raised on it, with
    the text after the ``%`` in its message). A file that cannot be parsed is named with the numbers of its bad lines, never
    their text: configparser's own message quotes them, and the line may be the secret.
    """
    path = path or os.path.join(azure_config_dir(), 'credentials')
    if not os.path.isfile(path):
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        # Opened here: ConfigParser.read passes over a file it cannot open, and one its user may not read was reported as
        # having no profile.
        with open(path, encoding='utf-8') as handle:
            parser.read_file(handle, source=path)
    except OSError as exc:
        raise InputError('the credential file %s cannot be read (%s)' % (path, exc.strerror or exc))
    except configparser.Error as exc:
        lines = _parse_error_lines(exc)
        where = (' (line%s %s)' % ('s' if len(lines) > 1 else '', ', '.join(str(n) for n in lines))) if lines else ''
        what = _PARSE_ERRORS.get(type(exc).__name__, 'it is not an INI file of [profile] sections and name = value lines')
        raise InputError('the credential file %s cannot be parsed%s: %s; the lines are not shown (they may hold a secret)'
                         % (path, where, what))
    except UnicodeDecodeError as exc:
        raise InputError('the credential file %s cannot be parsed: it is not text in the encoding %s (byte %d)'
                         % (path, exc.encoding, exc.start))
    profile = profile or 'default'
    if not parser.has_section(profile):
        raise InputError("the credential file %s has no profile '%s'" % (path, profile))
    return dict(parser.items(profile))


def _env(env, *names):
    return first_value(*[env.get(n) for n in names])


def _certificate(values):
    """(path, thumbprint) of a certificate credential from certificate_path or azure.azcollection's x509_certificate_path
    and thumbprint; refuses what cannot be meant, by name (never silently ignored)."""
    cert = values.get('certificate_path')
    x509 = values.get('x509_certificate_path')
    thumbprint = values.get('thumbprint')
    if cert and x509 and os.path.abspath(os.path.expanduser(cert)) != os.path.abspath(os.path.expanduser(x509)):
        raise InputError('certificate_path (%s) and x509_certificate_path (%s) name two certificates: give one' % (cert, x509))
    if x509 and not thumbprint:
        raise InputError('x509_certificate_path needs thumbprint (as in azure.azcollection): the SHA-1 thumbprint of the '
                         'certificate, which is checked against the file')
    if thumbprint and not (cert or x509):
        raise InputError('thumbprint is the thumbprint of the certificate of x509_certificate_path (or '
                         'AZURE_X509_CERTIFICATE_PATH), which is not given')
    return cert or x509, thumbprint


def _service_principal(values, source):
    client_id = values.get('client_id')
    tenant = values.get('tenant')
    secret = values.get('secret')
    cert, thumbprint = _certificate(values)
    if client_id and tenant and secret:
        return AuthPlan('secret', source, tenant_id=tenant, client_id=client_id, client_secret=secret)
    if client_id and tenant and cert:
        return AuthPlan('certificate', source, tenant_id=tenant, client_id=client_id, certificate_path=cert,
                        certificate_password=values.get('certificate_password'), thumbprint=thumbprint)
    return None


def env_settings(env):
    return {
        'client_id': _env(env, 'AZURE_CLIENT_ID'),
        'secret': _env(env, 'AZURE_SECRET', 'AZURE_CLIENT_SECRET'),
        'tenant': _env(env, 'AZURE_TENANT', 'AZURE_TENANT_ID'),
        'certificate_path': _env(env, 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_CERT_PATH'),
        'certificate_password': _env(env, 'AZURE_CLIENT_CERTIFICATE_PASSWORD'),
        'x509_certificate_path': _env(env, 'AZURE_X509_CERTIFICATE_PATH'),
        'thumbprint': _env(env, 'AZURE_THUMBPRINT'),
        'subscription_id': _env(env, 'AZURE_SUBSCRIPTION_ID'),
        'federated_token_file': _env(env, 'AZURE_FEDERATED_TOKEN_FILE'),
    }


# What azure-identity takes as a tenant (its id, a GUID, or a domain name): it raised a ValueError from inside the first
# request for anything else, which reached the task as a traceback.
_TENANT_TEXT = re.compile(r'[A-Za-z0-9.-]+')


def select_auth(params, env=None, credential_file_reader=None):
    """_select_auth, with the tenant it chose checked (InputError naming it) before any credential is built."""
    plan = _select_auth(params, env, credential_file_reader)
    tenant = plan.kwargs.get('tenant_id')
    if tenant is not None and not (isinstance(tenant, str) and _TENANT_TEXT.fullmatch(tenant)):
        raise InputError('the tenant %s (tenant, AZURE_TENANT, AZURE_TENANT_ID or the credential file) is no tenant id (a GUID) '
                         'or domain name: only letters, digits, \'-\' and \'.\'; no token was asked for' % shown(tenant))
    return plan


def _select_auth(params, env=None, credential_file_reader=None):
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
        raise InputError('%s must be one of %s; got %s' % (origin, ', '.join(AUTH_SOURCES), shown(source)))
    options = {k: params.get(k) for k in ('client_id', 'secret', 'tenant', 'certificate_path', 'certificate_password',
                                          'x509_certificate_path', 'thumbprint')}
    for name in PATH_OPTIONS:
        if has_control(params.get(name)):
            raise InputError('%s %s contains a control character (a newline, say): give the path on one line'
                             % (name, shown(params.get(name))))
    fromenv = env_settings(env)
    if source in ('auto', 'env'):
        merged = {k: first_value(options.get(k), fromenv.get(k)) for k in options}
        plan = _service_principal(merged, 'options' if _service_principal(options, 'options') else 'env')
        if plan:
            return plan
        if source == 'env':
            raise InputError('auth_source=env needs AZURE_CLIENT_ID, AZURE_TENANT (or AZURE_TENANT_ID) and AZURE_SECRET '
                             '(or AZURE_CLIENT_SECRET) or AZURE_CLIENT_CERTIFICATE_PATH, in the environment or the task options')
    if source in ('auto', 'workload_identity'):
        token_file = fromenv.get('federated_token_file')
        client_id = first_value(options.get('client_id'), fromenv.get('client_id'))
        tenant = first_value(options.get('tenant'), fromenv.get('tenant'))
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
    client_id = first_value(options.get('client_id'), fromenv.get('client_id'))
    tenant = first_value(options.get('tenant'), fromenv.get('tenant'))
    if source == 'msi':
        return AuthPlan('msi', 'msi', client_id=client_id)
    if source == 'cli':
        return AuthPlan('cli', 'cli', tenant_id=tenant)
    # As azure.azcollection's auto falls back to the Azure CLI login: the CLI first, then the machine's managed identity.
    return AuthPlan('chained_cli_msi', 'auto', client_id=client_id, tenant_id=tenant)


# ARM takes at most three auxiliary tokens (Learn, authenticate-multi-tenant).
MAX_AUXILIARY_TENANTS = 3
_TENANT_ID = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')


def auxiliary_tenants(params, env):
    """The checked ``auxiliary_tenant_ids`` (task option, else AZURE_AUXILIARY_TENANT_IDS, comma separated): tenant GUIDs,
    at most three, without repeats. Raises InputError naming the bad value."""
    given = params.get('auxiliary_tenant_ids')
    if given is None:
        given = [t for t in str(env.get(AUXILIARY_TENANTS_ENV) or '').split(',') if t.strip()]
    tenants = []
    for tenant in given:
        text = str(tenant).strip()
        if not _TENANT_ID.match(text):
            raise InputError('auxiliary_tenant_ids: %s is not a tenant id (a GUID xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)' % shown(tenant))
        if text.lower() not in [t.lower() for t in tenants]:
            tenants.append(text)
    if len(tenants) > MAX_AUXILIARY_TENANTS:
        raise InputError('auxiliary_tenant_ids: %d tenants given; Azure Resource Manager takes tokens of at most %d other tenants'
                         % (len(tenants), MAX_AUXILIARY_TENANTS))
    return tenants


def build_credential(plan, cloud, verify=True, disable_instance_discovery=None, additionally_allowed_tenants=None):
    """Build the azure-identity credential an AuthPlan describes; ``additionally_allowed_tenants`` (auxiliary_tenant_ids)
    lets it issue tokens in those tenants too."""
    # Lazy: azure-identity is the slowest import of all; only a task that authenticates loads it.
    identity = import_package('azure.identity', 'azure-identity')
    quiet_identity_log()
    if additionally_allowed_tenants and plan.kind in ('msi', 'chained_cli_msi'):
        raise InputError('auxiliary_tenant_ids needs a credential that can sign in to other tenants: a service principal '
                         '(secret or certificate), workload identity or the Azure CLI (auth_source %s gives a managed identity, '
                         'which cannot)' % plan.source)
    common = {'authority': cloud.authority_host}
    if additionally_allowed_tenants:
        common['additionally_allowed_tenants'] = list(additionally_allowed_tenants)
    if cloud.disable_instance_discovery or disable_instance_discovery:
        common['disable_instance_discovery'] = True
    if not verify:
        common['connection_verify'] = False
    kw = plan.kwargs
    if plan.kind == 'secret':
        return identity.ClientSecretCredential(kw['tenant_id'], kw['client_id'], kw['client_secret'], **common)
    if plan.kind == 'certificate':
        if kw.get('thumbprint'):
            check_thumbprint(kw['certificate_path'], kw['thumbprint'])
        return identity.CertificateCredential(kw['tenant_id'], kw['client_id'], certificate_path=kw['certificate_path'],
                                              password=kw.get('certificate_password'), **common)
    if plan.kind == 'workload_identity':
        return identity.WorkloadIdentityCredential(tenant_id=kw['tenant_id'], client_id=kw['client_id'],
                                                   token_file_path=kw['token_file_path'], **common)
    if plan.kind == 'msi':
        return _managed_identity(identity, kw.get('client_id'))
    if plan.kind == 'cli':
        return _azure_cli(identity, kw.get('tenant_id'), required=True, allowed=additionally_allowed_tenants)
    return identity.ChainedTokenCredential(_azure_cli(identity, kw.get('tenant_id'), required=False),
                                           _managed_identity(identity, kw.get('client_id')))


def quiet_identity_log():
    """Keep azure-identity's log records off the worker's stderr. With no handler anywhere, Python's last-resort handler
    wrote its warnings there (a credential chain's 'failed to retrieve a token', with what it tried), and Ansible showed
    them as a worker that 'errantly sent data directly to stderr', cut at 256 characters. What they say is in the task's
    error (errors.from_exception keeps what the chain tried). A handler of the user's own, on the root logger, still
    gets them."""
    logger = logging.getLogger('azure.identity')
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())


def check_thumbprint(path, thumbprint):
    """Refuse a thumbprint (azure.azcollection's option) that is not the SHA-1 thumbprint of the certificate in ``path``."""
    x509 = import_package('cryptography.x509', 'cryptography')
    hashes = import_package('cryptography.hazmat.primitives.hashes', 'cryptography')
    try:
        with open(os.path.expanduser(path), 'rb') as handle:
            certificate = x509.load_pem_x509_certificate(handle.read())
    except (OSError, ValueError) as exc:
        raise InputError('x509_certificate_path %s is not a readable PEM certificate: %s' % (path, exc)) from None
    wanted = ''.join(ch for ch in str(thumbprint) if ch.isalnum()).lower()
    found = certificate.fingerprint(hashes.SHA1()).hex()
    if wanted != found:
        raise InputError('thumbprint %s is not the thumbprint of the certificate in %s (%s)' % (thumbprint, path, found.upper()))


def _managed_identity(identity, client_id):
    """The system-assigned identity, or the user-assigned one whose client id is given."""
    if client_id:
        return identity.ManagedIdentityCredential(client_id=client_id)
    return identity.ManagedIdentityCredential()


AZ_INSTALL_URL = 'https://learn.microsoft.com/cli/azure/install-azure-cli'


def _azure_cli(identity, tenant_id, required, allowed=None):
    """AzureCliCredential in the given tenant (and the ``allowed`` other tenants). With auth_source=cli, say plainly when
    there is no Azure CLI."""
    # azure-identity runs the 'az' found on PATH; without one it can only say 'CredentialUnavailable'.
    if required and not shutil.which('az'):
        raise InputError("auth_source=cli uses the Azure CLI login, but no 'az' command is on the PATH of the Python that runs "
                         "the module. Install the Azure CLI (%s) and run 'az login' (with --tenant, or set tenant), or choose "
                         "another auth_source: env, workload_identity, msi or credential_file." % AZ_INSTALL_URL)
    kwargs = {'additionally_allowed_tenants': list(allowed)} if allowed else {}
    if tenant_id:
        return identity.AzureCliCredential(tenant_id=tenant_id, **kwargs)
    return identity.AzureCliCredential(**kwargs)


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
