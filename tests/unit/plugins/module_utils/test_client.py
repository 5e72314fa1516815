# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential selection (precedence), cloud endpoint resolution, lazy imports."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import build_credential, check_thumbprint, read_credential_file, select_auth
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.cloud import parse_metadata, resolve_cloud
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError

SP_ENV = {'AZURE_CLIENT_ID': 'env-id', 'AZURE_SECRET': 'env-secret', 'AZURE_TENANT': 'env-tenant'}


def no_file(_profile=None):
    return None


def params(**kw):
    base = {'auth_source': 'auto', 'client_id': None, 'secret': None, 'tenant': None, 'certificate_path': None,
            'certificate_password': None, 'profile': None, 'subscription_id': None}
    base.update(kw)
    return base


def test_options_beat_environment():
    plan = select_auth(params(client_id='opt-id', secret='opt-secret', tenant='opt-tenant'), SP_ENV, no_file)
    assert (plan.kind, plan.source) == ('secret', 'options')
    assert plan.kwargs['client_id'] == 'opt-id' and plan.kwargs['client_secret'] == 'opt-secret'


def test_environment_service_principal_and_aliases():
    plan = select_auth(params(), {'AZURE_CLIENT_ID': 'i', 'AZURE_CLIENT_SECRET': 's', 'AZURE_TENANT_ID': 't'}, no_file)
    assert (plan.kind, plan.source) == ('secret', 'env')
    assert plan.kwargs == {'tenant_id': 't', 'client_id': 'i', 'client_secret': 's'}


def test_certificate():
    plan = select_auth(params(), {'AZURE_CLIENT_ID': 'i', 'AZURE_CLIENT_CERTIFICATE_PATH': '/c.pem', 'AZURE_TENANT_ID': 't'}, no_file)
    assert plan.kind == 'certificate' and plan.kwargs['certificate_path'] == '/c.pem'


def test_workload_identity_after_service_principal():
    env = {'AZURE_CLIENT_ID': 'i', 'AZURE_TENANT_ID': 't', 'AZURE_FEDERATED_TOKEN_FILE': '/var/run/token'}
    plan = select_auth(params(), env, no_file)
    assert plan.kind == 'workload_identity' and plan.kwargs['token_file_path'] == '/var/run/token'
    both = dict(env, AZURE_SECRET='s')
    assert select_auth(params(), both, no_file).kind == 'secret'


def test_credential_file_then_msi_cli():
    def reader(profile):
        assert profile == 'ops'
        return {'client_id': 'f-id', 'secret': 'f-s', 'tenant': 'f-t', 'subscription_id': 'sub'}
    plan = select_auth(params(profile='ops'), {}, reader)
    assert (plan.kind, plan.source) == ('secret', 'credential_file')
    assert plan.kwargs['subscription_id'] == 'sub'
    assert select_auth(params(), {}, no_file).kind == 'chained_cli_msi'


def test_explicit_sources():
    assert select_auth(params(auth_source='cli'), SP_ENV, no_file).kind == 'cli'
    assert select_auth(params(auth_source='msi', client_id='uami'), {}, no_file).kwargs['client_id'] == 'uami'
    with pytest.raises(InputError, match='auth_source=env needs'):
        select_auth(params(auth_source='env'), {}, no_file)
    with pytest.raises(InputError, match='AZURE_FEDERATED_TOKEN_FILE'):
        select_auth(params(auth_source='workload_identity'), SP_ENV, no_file)
    with pytest.raises(InputError, match='does not exist'):
        select_auth(params(auth_source='credential_file'), {}, no_file)
    with pytest.raises(InputError, match='auth_source must be'):
        select_auth(params(auth_source='magic'), {}, no_file)


def test_secret_not_in_repr():
    plan = select_auth(params(), SP_ENV, no_file)
    assert 'env-secret' not in repr(plan)


def test_credential_file_format(tmp_path):
    path = tmp_path / 'credentials'
    path.write_text('[default]\nsubscription_id=s\nclient_id=c\nsecret=x\ntenant=t\n[ops]\nclient_id=o\n')
    assert read_credential_file(None, str(path))['client_id'] == 'c'
    assert read_credential_file('ops', str(path)) == {'client_id': 'o'}
    with pytest.raises(InputError, match="no profile 'nope'"):
        read_credential_file('nope', str(path))
    assert read_credential_file(None, str(tmp_path / 'missing')) is None


@pytest.mark.parametrize('text,lines', [
    ('secret=s3cr3t-line-one\n[default]\nclient_id=c\n', '(line 1): a line comes before the first [profile] header'),
    ('[default]\nclient_id=c\nsecret s3cr3t-no-equals\ntenant=t\n', '(line 3): a line is neither'),
    ('[default]\n  s3cr3t-indented\nsecret s3cr3t-again\n', '(lines 2, 3): a line is neither'),
    ('[default]\nsecret=a\nsecret=s3cr3t-twice\n', '(line 3): a name is given twice'),
])
def test_credential_file_errors_never_quote_its_lines(tmp_path, text, lines):
    """configparser's messages quote the bad line, and in a credential file that line may be the secret: the error
    names the line numbers only (before, 'secret s3cr3t-no-equals' was in the message, the play's output and all five
    report files)."""
    path = tmp_path / 'credentials'
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_credential_file(None, str(path))
    message = str(info.value)
    assert 's3cr3t' not in message, message
    assert lines in message and str(path) in message, message


def test_credential_file_values_are_raw(tmp_path):
    """A '%' in a secret is part of it, as azure.azcollection reads the file (raw=True); ConfigParser's interpolation
    raised "'%' must be followed by '%' or '(', found: '%zz'" (the secret's tail), an error no handler named."""
    path = tmp_path / 'credentials'
    path.write_text('[default]\nclient_id=c\nsecret=pa%zz%(x)s%%\ntenant=t\n')
    assert read_credential_file(None, str(path))['secret'] == 'pa%zz%(x)s%%'
    plan = select_auth({'auth_source': 'credential_file'}, {}, lambda profile: read_credential_file(profile, str(path)))
    assert plan.kind == 'secret' and plan.kwargs['client_secret'] == 'pa%zz%(x)s%%'


def test_credential_file_not_text(tmp_path):
    path = tmp_path / 'credentials'
    path.write_bytes(b'[default]\nsecret=\xff\xfe\n')
    with pytest.raises(InputError, match='cannot be parsed: it is not text'):
        read_credential_file(None, str(path))


@pytest.mark.parametrize('name,rm,login', [
    (None, 'https://management.azure.com/', 'https://login.microsoftonline.com/'),
    ('AzureCloud', 'https://management.azure.com/', 'https://login.microsoftonline.com/'),
    ('azureusgovernment', 'https://management.usgovcloudapi.net/', 'https://login.microsoftonline.us/'),
    ('AzureChinaCloud', 'https://management.chinacloudapi.cn/', 'https://login.chinacloudapi.cn/'),
])
def test_named_clouds(name, rm, login):
    cloud = resolve_cloud(name, fetch=None)
    assert (cloud.resource_manager, cloud.authority_host) == (rm, login)
    assert not cloud.disable_instance_discovery
    assert cloud.scope.endswith('/.default')


def test_metadata_2022_list_form():
    doc = [{'name': 'Other', 'resourceManager': 'https://other/', 'authentication': {'loginEndpoint': 'https://x/', 'audiences': ['a']}},
           {'name': 'Stack', 'resourceManager': 'https://arm.local/',
            'authentication': {'loginEndpoint': 'https://login.local/adfs/', 'audiences': ['https://management.adfs.local/']}}]
    cloud = resolve_cloud('https://arm.local', fetch=lambda url, verify: doc)
    assert cloud.name == 'Stack'
    assert cloud.authority_host == 'https://login.local/adfs/'
    assert cloud.scope == 'https://management.adfs.local/.default'
    assert cloud.disable_instance_discovery


def test_metadata_old_single_object_form():
    doc = {'galleryEndpoint': 'https://g/', 'authentication': {'loginEndpoint': 'https://login.local/', 'audiences': ['https://aud/']}}
    cloud = parse_metadata(doc, 'https://arm.local/')
    assert cloud.resource_manager == 'https://arm.local/' and cloud.audience == 'https://aud/'


@pytest.mark.parametrize('value,doc,message', [
    ('http://arm.local', None, 'must use https'),
    ('MoonCloud', None, 'neither a known cloud'),
    ('https://arm.local', {'name': 'x'}, 'no authentication.loginEndpoint'),
    ('https://arm.local', [], 'lists no cloud'),
    ('https://arm.local', 'text', 'not a JSON object'),
    ('https://arm.local', {'authentication': {'loginEndpoint': 'http://login/', 'audiences': ['a']}}, 'non-https'),
])
def test_bad_clouds(value, doc, message):
    with pytest.raises(InputError, match=message):
        resolve_cloud(value, fetch=lambda url, verify: doc)


def test_build_credential_kinds():
    from azure.identity import ClientSecretCredential, WorkloadIdentityCredential
    cloud = parse_metadata({'authentication': {'loginEndpoint': 'https://login.local/', 'audiences': ['https://aud/']}},
                           'https://arm.local/')
    cred = build_credential(select_auth(params(), SP_ENV, no_file), cloud)
    assert isinstance(cred, ClientSecretCredential)
    env = {'AZURE_CLIENT_ID': 'i', 'AZURE_TENANT_ID': 't', 'AZURE_FEDERATED_TOKEN_FILE': '/tmp/token'}
    assert isinstance(build_credential(select_auth(params(), env, no_file), cloud), WorkloadIdentityCredential)


def test_session_settings_and_subscription():
    session = AzureSession(params(subscription_id=None, api_retries=2), env=dict(SP_ENV, AZURE_SUBSCRIPTION_ID='sub-env'))
    assert session.settings['api_retries'] == 2 and session.settings['polling_interval'] == 5
    assert session.default_subscription() == 'sub-env'
    with pytest.raises(InputError, match='no subscription'):
        AzureSession(params(), env=SP_ENV).default_subscription()


def test_module_utils_import_no_sdk():
    """Importing the module base and vault layer must not import any Azure SDK (task overhead)."""
    code = ('import sys\n'
            'import ansible_collections.vaultlock.azure.plugins.module_utils._module\n'
            'import ansible_collections.vaultlock.azure.plugins.module_utils._vaults\n'
            'bad = sorted(m for m in sys.modules if m.startswith("azure"))\n'
            'print(",".join(bad))\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == ''


def test_auth_source_from_ansible_azure_auth_source():
    assert select_auth(params(auth_source=None), dict(SP_ENV, ANSIBLE_AZURE_AUTH_SOURCE='cli'), no_file).kind == 'cli'
    # The task option wins over the variable.
    assert select_auth(params(auth_source='env'), dict(SP_ENV, ANSIBLE_AZURE_AUTH_SOURCE='cli'), no_file).kind == 'secret'
    with pytest.raises(InputError, match='ANSIBLE_AZURE_AUTH_SOURCE must be one of'):
        select_auth(params(auth_source=None), {'ANSIBLE_AZURE_AUTH_SOURCE': 'magic'}, no_file)


def test_auto_with_client_id_uses_that_user_assigned_identity():
    plan = select_auth(params(client_id='uami-client'), {}, no_file)
    assert plan.kind == 'chained_cli_msi' and plan.kwargs['client_id'] == 'uami-client'
    # AZURE_CLIENT_ID without a secret (AKS, a VM with a user-assigned identity) names the identity too.
    assert select_auth(params(), {'AZURE_CLIENT_ID': 'env-uami'}, no_file).kwargs['client_id'] == 'env-uami'


def _identity_spy(monkeypatch):
    """Replace azure-identity's credential classes with recorders; return the list of (class, kwargs)."""
    from azure import identity  # pylint: disable=import-outside-toplevel
    made = []

    def recorder(name):
        def make(*args, **kwargs):
            made.append((name, kwargs))
            return (name, args, kwargs)
        return make
    for name in ('ManagedIdentityCredential', 'AzureCliCredential', 'ChainedTokenCredential'):
        monkeypatch.setattr(identity, name, recorder(name))
    return made


def test_credentials_get_the_identity_and_tenant(monkeypatch, tmp_path):
    made = _identity_spy(monkeypatch)
    fake_az = tmp_path / 'az'
    fake_az.write_text('#!/bin/sh\nexit 1\n')
    fake_az.chmod(0o755)
    monkeypatch.setenv('PATH', str(tmp_path))
    cloud = resolve_cloud('AzureCloud')
    build_credential(select_auth(params(client_id='uami', tenant='t-1'), {}, no_file), cloud)
    assert ('ManagedIdentityCredential', {'client_id': 'uami'}) in made
    assert ('AzureCliCredential', {'tenant_id': 't-1'}) in made
    made.clear()
    build_credential(select_auth(params(auth_source='cli'), {'AZURE_TENANT_ID': 't-2'}, no_file), cloud)
    assert made == [('AzureCliCredential', {'tenant_id': 't-2'})]
    made.clear()
    build_credential(select_auth(params(auth_source='msi'), {}, no_file), cloud)
    assert made == [('ManagedIdentityCredential', {})]


def test_cli_without_azure_cli_says_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv('PATH', str(tmp_path))  # no az here
    with pytest.raises(InputError) as caught:
        build_credential(select_auth(params(auth_source='cli'), {}, no_file), resolve_cloud('AzureCloud'))
    text = str(caught.value)
    assert "no 'az' command" in text and 'az login' in text and 'install-azure-cli' in text and '401' not in text


def test_azure_config_dir_holds_the_credential_file_and_cli_profile(tmp_path, monkeypatch):
    from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import cli_default_subscription  # pylint: disable=import-outside-toplevel
    (tmp_path / 'credentials').write_text('[default]\nclient_id=c\nsecret=x\ntenant=t\nsubscription_id=s\n')
    (tmp_path / 'azureProfile.json').write_text('{"subscriptions": [{"id": "cli-sub", "isDefault": true}]}')
    plan = select_auth(params(), {'AZURE_CONFIG_DIR': str(tmp_path)})
    assert (plan.kind, plan.source, plan.kwargs['client_id']) == ('secret', 'credential_file', 'c')
    with pytest.raises(InputError, match=str(tmp_path / 'nowhere' / 'credentials')):
        select_auth(params(auth_source='credential_file'), {'AZURE_CONFIG_DIR': str(tmp_path / 'nowhere')})
    monkeypatch.setenv('AZURE_CONFIG_DIR', str(tmp_path))
    assert cli_default_subscription() == 'cli-sub'


def test_profile_cloud_environment_and_cert_validation_mode(tmp_path):
    (tmp_path / 'credentials').write_text('[default]\nclient_id=c\nsecret=x\ntenant=t\n'
                                          '[gov]\nclient_id=c\nsecret=x\ntenant=t\ncloud_environment=AzureUSGovernment\n'
                                          'cert_validation_mode=ignore\n')
    env = {'AZURE_CONFIG_DIR': str(tmp_path), 'AZURE_CLOUD_ENVIRONMENT': 'AzureChinaCloud'}
    session = AzureSession(params(profile='gov'), env=env)
    assert session.cloud.name == 'AzureUSGovernment' and session.verify is False
    # The task option beats the profile; without a profile setting the environment applies.
    session = AzureSession(params(profile='gov', cloud_environment='AzureCloud', cert_validation_mode='validate'), env=env)
    assert session.cloud.name == 'AzureCloud' and session.verify is True
    session = AzureSession(params(), env=env)
    assert session.cloud.name == 'AzureChinaCloud' and session.verify is True
    # A profile that is not the one in use changes nothing.
    session = AzureSession(params(), env=dict(env, AZURE_CLIENT_ID='e', AZURE_SECRET='s', AZURE_TENANT='t'))
    assert session.plan.source == 'env' and session.cloud.name == 'AzureChinaCloud'


class _Response:
    def __init__(self, headers):
        from requests.structures import CaseInsensitiveDict  # pylint: disable=import-outside-toplevel
        self.headers = CaseInsensitiveDict(headers)


class _PipelineResponse:
    def __init__(self, headers):
        self.http_response = _Response(headers)


def test_retry_after_zero_is_honoured_as_poll_now():
    """azure-core's LRO polling treats Retry-After: 0 as absent (it would wait polling_interval); the hook makes it 1 ms."""
    from azure.core.pipeline.policies._utils import get_retry_after  # pylint: disable=import-outside-toplevel
    from ansible_collections.vaultlock.azure.plugins.module_utils._azure.transport import honour_zero_retry_after  # pylint: disable=import-outside-toplevel

    zero = _PipelineResponse({'Retry-After': '0'})
    assert not get_retry_after(zero)  # falsy: azure-core's polling would wait polling_interval instead
    honour_zero_retry_after(zero)
    assert get_retry_after(zero) == 0.001
    assert 'Retry-After' not in zero.http_response.headers  # the SDKs deserialize Retry-After as an int
    for headers, expected in (({'Retry-After': '30'}, 30.0), ({'retry-after-ms': '500'}, 0.5), ({}, None)):
        response = _PipelineResponse(headers)
        honour_zero_retry_after(response)
        assert get_retry_after(response) == expected
    session = AzureSession({'auth_source': 'env'}, env=dict(SP_ENV))
    assert session.client_kwargs()['raw_response_hook'] is honour_zero_retry_after


# ---------------------------------------------------------------------------------------------- azure.azcollection's names
def _pem_certificate(tmp_path):
    """A self-signed certificate appended to its private key (the file azure.azcollection's x509_certificate_path names)."""
    import datetime  # pylint: disable=import-outside-toplevel
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import NameOID  # pylint: disable=import-outside-toplevel

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'vaultlock-test')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    path = tmp_path / 'sp.pem'
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(private + cert.public_bytes(serialization.Encoding.PEM))
    return str(path), cert.fingerprint(hashes.SHA1()).hex().upper()


def test_x509_certificate_path_and_thumbprint_are_a_certificate_credential(tmp_path):
    path, thumbprint = _pem_certificate(tmp_path)
    plan = select_auth(params(client_id='app', tenant='t', x509_certificate_path=path, thumbprint=thumbprint), {}, no_file)
    assert plan.kind == 'certificate' and plan.kwargs['certificate_path'] == path and plan.kwargs['thumbprint'] == thumbprint
    from_env = select_auth(params(), {'AZURE_CLIENT_ID': 'app', 'AZURE_TENANT': 't', 'AZURE_X509_CERTIFICATE_PATH': path,
                                      'AZURE_THUMBPRINT': thumbprint}, no_file)
    assert from_env.kind == 'certificate' and from_env.source == 'env'
    check_thumbprint(path, thumbprint.lower())
    check_thumbprint(path, ':'.join(thumbprint[i:i + 2] for i in range(0, len(thumbprint), 2)))


@pytest.mark.parametrize('given,message', [
    ({'x509_certificate_path': '/x.pem'}, 'x509_certificate_path needs thumbprint'),
    ({'thumbprint': 'AB12'}, 'thumbprint is the thumbprint of the certificate of x509_certificate_path'),
    ({'x509_certificate_path': '/x.pem', 'certificate_path': '/y.pem', 'thumbprint': 'AB'}, 'name two certificates'),
])
def test_azcollection_certificate_options_are_refused_by_name_never_ignored(given, message):
    with pytest.raises(InputError, match=message):
        select_auth(params(client_id='app', tenant='t', **given), {}, no_file)
    env = {'AZURE_CLIENT_ID': 'app', 'AZURE_TENANT': 't'}
    env.update({'AZURE_' + key.upper(): value for key, value in given.items() if key != 'certificate_path'})
    if 'certificate_path' not in given:
        with pytest.raises(InputError, match=message):
            select_auth(params(), env, no_file)


def test_a_thumbprint_that_is_not_the_certificates_is_refused(tmp_path):
    path, _thumbprint = _pem_certificate(tmp_path)
    with pytest.raises(InputError, match='is not the thumbprint of the certificate'):
        check_thumbprint(path, '00' * 20)
    with pytest.raises(InputError, match='not a readable PEM certificate'):
        check_thumbprint(str(tmp_path / 'missing.pem'), '00' * 20)


def test_auto_tries_the_azure_cli_before_the_managed_identity(monkeypatch, tmp_path):
    made = _identity_spy(monkeypatch)
    monkeypatch.setenv('PATH', str(tmp_path))
    credential = build_credential(select_auth(params(), {}, no_file), resolve_cloud('AzureCloud'))
    assert credential[0] == 'ChainedTokenCredential'
    assert [part[0] for part in credential[1]] == ['AzureCliCredential', 'ManagedIdentityCredential']
    assert sorted(entry[0] for entry in made) == ['AzureCliCredential', 'ChainedTokenCredential', 'ManagedIdentityCredential']


def test_disable_instance_discovery_reaches_the_credential(monkeypatch):
    from azure import identity  # pylint: disable=import-outside-toplevel
    made = []
    monkeypatch.setattr(identity, 'ClientSecretCredential', lambda *args, **kwargs: made.append(kwargs))
    plan = select_auth(params(client_id='app', tenant='t', secret='s'), {}, no_file)
    build_credential(plan, resolve_cloud('AzureCloud'), disable_instance_discovery=True)
    build_credential(plan, resolve_cloud('AzureCloud'))
    assert made[0].get('disable_instance_discovery') is True and 'disable_instance_discovery' not in made[1]


@pytest.mark.parametrize('name', ['certificate_path', 'x509_certificate_path'])
def test_a_path_option_with_a_control_character_is_refused(name):
    with pytest.raises(InputError, match='%s .* contains a control character' % name):
        select_auth(params(client_id='app', tenant='t', thumbprint='AB', **{name: '/secure/spn.pem\nother'}), {}, no_file)


# Seventh hostile pass: the connection options had no bounds (api_timeout 0 failed in requests with a traceback, a negative
# wait_timeout gave up on a lock's first step), and a tenant azure-identity refuses raised its ValueError from inside the
# first request.
@pytest.mark.parametrize('name, value, words', [
    ('api_timeout', 0, 'api_timeout must be a whole number of seconds from 1 to 3600; got 0;'),
    ('api_timeout', 10 ** 21, 'got 1000000000000000000000;'),
    ('api_timeout', 2.5, 'got 2.5;'),
    ('wait_timeout', -1, 'wait_timeout must be a whole number of seconds from 1 to 86400; got -1;'),
    ('api_retries', True, 'api_retries must be a whole number of retries from 0 to 100; got true, a boolean;'),
    ('api_retries', -1, 'got -1;'),
    ('api_retries', 101, 'got 101;'),
    ('polling_interval', 0, 'polling_interval must be a number of seconds above 0, up to 3600; got 0;'),
    ('polling_interval', float('nan'), 'got nan;'),
    ('polling_interval', -0.5, 'got -0.5;'),
])
def test_connection_options_outside_their_bounds_are_refused_before_the_session_exists(name, value, words):
    with pytest.raises(InputError) as caught:
        AzureSession({name: value})
    assert words in str(caught.value) and str(caught.value).endswith('nothing was sent to Azure')


def test_connection_options_at_their_bounds_are_taken():
    for values in ({'api_timeout': 1, 'wait_timeout': 1, 'api_retries': 0, 'polling_interval': 0.05},
                   {'api_timeout': 3600, 'wait_timeout': 86400, 'api_retries': 100, 'polling_interval': 3600}, {}):
        assert AzureSession(values).settings['api_timeout'] == values.get('api_timeout', 60)


@pytest.mark.parametrize('tenant', ['../../x', 'contoso.onmicrosoft.com/x', 'a b', 't\u180b', ''])
def test_a_tenant_azure_identity_refuses_is_refused_naming_it(tenant):
    with pytest.raises(InputError) as caught:
        select_auth(params(client_id='i', secret='s', tenant=tenant or ' '), {}, no_file)
    assert 'is no tenant id (a GUID) or domain name' in str(caught.value)
    for good in ('7e0e0e0e-0000-4000-8000-000000000001', 'contoso.onmicrosoft.com'):
        assert select_auth(params(client_id='i', secret='s', tenant=good), {}, no_file).kwargs['tenant_id'] == good


def test_a_credential_file_that_cannot_be_read_says_so(tmp_path, monkeypatch):
    """configparser's read() passes over a file it cannot open: a credentials file its user may not read (mode 600 of
    another user; root reads every file, so the denial is what a non-root user gets) was reported as having no profile."""
    import builtins
    path = tmp_path / 'credentials'
    path.write_text('[default]\nclient_id=c\nsecret=s\ntenant=t\n')
    real_open = builtins.open

    def denying_open(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, 'Permission denied', str(file))
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, 'open', denying_open)
    with pytest.raises(InputError) as info:
        read_credential_file(None, str(path))
    assert str(info.value) == 'the credential file %s cannot be read (Permission denied)' % path
