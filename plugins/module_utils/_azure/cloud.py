# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Azure clouds: the public ones by name, and any other by its Azure Resource Manager URL and /metadata/endpoints."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    InputError,
    MissingLibraryError,
    first_line,
)

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
        # Lazy: requests comes with azure-core and only this metadata request needs it.
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
