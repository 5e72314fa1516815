# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Authentication and connection options shared by every vaultlock.azure module and the backup_vaults inventory plugin.

    The argument spec is module_utils/_azure/auth.py AUTH_ARGSPEC (its defaults come from _settings.DEFAULT_SETTINGS); ansible-test
    validate-modules checks that the two agree.
    """

    DOCUMENTATION = r'''
options:
  auth_source:
    description:
      - Where the credentials come from. Falls back to E(ANSIBLE_AZURE_AUTH_SOURCE) (as in azure.azcollection), then V(auto).
      - V(auto) uses a service principal given in the task options or the environment, then workload identity
        (E(AZURE_FEDERATED_TOKEN_FILE)), then a C(~/.azure/credentials) profile if that file exists, then the Azure CLI
        login (in O(tenant) when given), as azure.azcollection falls back to it, followed by the managed identity of the
        machine (the user-assigned identity of O(client_id) or E(AZURE_CLIENT_ID) when one is given, else the
        system-assigned one).
      - V(env) uses E(AZURE_CLIENT_ID), E(AZURE_TENANT) or E(AZURE_TENANT_ID), and E(AZURE_SECRET) or
        E(AZURE_CLIENT_SECRET) (or E(AZURE_CLIENT_CERTIFICATE_PATH)); task options take precedence.
      - V(workload_identity) exchanges a federated token (GitHub Actions, Azure DevOps, AKS) read from
        E(AZURE_FEDERATED_TOKEN_FILE).
      - V(credential_file) reads the O(profile) section of C(~/.azure/credentials) (C(credentials) in E(AZURE_CONFIG_DIR)
        when that is set), the format azure.azcollection uses.
      - V(msi) uses the managed identity of the machine (user-assigned when O(client_id) or E(AZURE_CLIENT_ID) is given).
      - V(cli) uses the Azure CLI login (the C(az) command must be on the E(PATH)), in O(tenant) when given.
    type: str
    choices: [auto, env, cli, msi, workload_identity, credential_file]
  subscription_id:
    description:
      - The subscription to work in when no ARM id names one. Falls back to E(AZURE_SUBSCRIPTION_ID), the
        credential file, and the Azure CLI default subscription (C(azureProfile.json) in E(AZURE_CONFIG_DIR) or C(~/.azure)).
    type: str
  client_id:
    description: Application (client) id of the service principal or of the user-assigned managed identity. Falls back to E(AZURE_CLIENT_ID).
    type: str
  secret:
    description: Client secret of the service principal. Falls back to E(AZURE_SECRET) or E(AZURE_CLIENT_SECRET). Never logged.
    type: str
  tenant:
    description:
      - Tenant (directory) id of the service principal or workload identity, and the tenant the Azure CLI login is asked for
        a token in. Falls back to E(AZURE_TENANT) or E(AZURE_TENANT_ID).
    type: str
  certificate_path:
    description: PEM or PKCS12 client certificate of the service principal. Falls back to E(AZURE_CLIENT_CERTIFICATE_PATH).
    type: path
  certificate_password:
    description: Password of O(certificate_path), if any.
    type: str
  x509_certificate_path:
    description:
      - azure.azcollection's name for a certificate credential of the service principal, a PEM file with the certificate
        appended to its private key. Falls back to E(AZURE_X509_CERTIFICATE_PATH). Needs O(thumbprint).
      - The same as O(certificate_path); giving both with different files is refused.
    type: path
  thumbprint:
    description:
      - The SHA-1 thumbprint of the certificate of O(x509_certificate_path) (as azure.azcollection takes it). Falls back to
        E(AZURE_THUMBPRINT). It is checked against the certificate in the file before any request; a thumbprint that does
        not match, or one without a certificate, is refused.
    type: str
  disable_instance_discovery:
    description:
      - Skip Microsoft Entra instance discovery (metadata about the authority) when a token is asked for, as
        azure.azcollection's option of that name; for private or disconnected clouds (Azure Stack Hub). Custom clouds
        (O(cloud_environment) given as a URL) skip it anyway.
    type: bool
  auxiliary_tenant_ids:
    description:
      - Other Microsoft Entra tenants (GUIDs, at most three) whose tokens go with every write, in the
        C(x-ms-authorization-auxiliary) header Azure Resource Manager reads for cross-tenant authorization. Set it to the
        tenant of a vault's Resource Guard (multi-user authorization) so that an operation the Resource Guard protects
        (disabling soft delete or immutability, reducing a policy's retention, ...) can be authorized; the task's
        identity must be able to sign in to that tenant and have permission on the Resource Guard.
      - The tokens come from the task's own credential (a service principal, workload identity or the Azure CLI; a managed
        identity cannot sign in to another tenant and is refused with this option).
      - Falls back to E(AZURE_AUXILIARY_TENANT_IDS) (comma separated). The name is the Terraform azurerm provider's; az CLI
        calls it C(--aux-tenants).
      - Only the SDK clients that write send it (with their operations' status polls); vault, policy and Resource Graph reads do
        not. A refused protected operation says that the Resource Guard protects it and names this option.
    type: list
    elements: str
    version_added: 0.2.0
  cloud_environment:
    description:
      - V(AzureCloud), V(AzureUSGovernment), V(AzureChinaCloud), or the https URL of an Azure Resource Manager endpoint
        (Azure Stack Hub, an emulator) whose C(/metadata/endpoints) document names the login endpoint and token audience.
      - Falls back to the C(cloud_environment) of the credential file profile when the credentials come from it, then to
        E(AZURE_CLOUD_ENVIRONMENT); default V(AzureCloud).
    type: str
  cert_validation_mode:
    description:
      - V(ignore) turns off TLS certificate validation (never do this against real Azure). Falls back to the
        C(cert_validation_mode) of the credential file profile when the credentials come from it, then to
        E(AZURE_CERT_VALIDATION_MODE). To trust a private CA, set E(REQUESTS_CA_BUNDLE) instead.
      - A task that ran with validation off (this option, the profile's, or E(AZURE_CERT_VALIDATION_MODE)) warns, and returns
        C(cert_validation_mode=ignore) (M(vaultlock.azure.harden_plan) puts the warning in the role's reports instead).
    type: str
    choices: [validate, ignore]
  profile:
    description:
      - Profile (section) of the credential file to use, C(credentials) in E(AZURE_CONFIG_DIR) or in C(~/.azure).
        Falls back to E(AZURE_PROFILE); default C(default).
    type: str
  api_retries:
    description:
      - How often a request that was throttled (HTTP 429) or failed transiently is retried. C(Retry-After) is honoured, up to 60 seconds.
      - From 0 to 100; another value (or a boolean) fails the task before any request.
    type: int
    default: 4
  api_timeout:
    description:
      - Seconds to wait for an answer to one request.
      - From 1 to 3600; another value fails the task before any request.
    type: int
    default: 60
  polling_interval:
    description:
      - Seconds between polls of a long-running operation when Azure sends no C(Retry-After).
      - Above 0, up to 3600; another value fails the task before any request.
    type: float
    default: 5
  wait_timeout:
    description:
      - Seconds to wait for a long-running operation (a vault update) to finish before failing with the state reported as unknown.
      - From 1 to 86400; another value fails the task before any request.
    type: int
    default: 900
requirements:
  - python >= 3.9
  - azure-identity >= 1.19.0
  - azure-core >= 1.32.0
  - azure-mgmt-core >= 1.5.0
  - requests >= 2.21.0
'''
