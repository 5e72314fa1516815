# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run without a usable credential (AZURE_CLIENT_ID and AZURE_TENANT set, AZURE_SECRET forgotten) must say what to do.

It said only "ChainedTokenCredential failed to retrieve a token from the included credentials.": the scope error of
discovery (the info module, the inventory, the role's reports and failure) dropped the error's hint, the message kept
only the first line of what the chain tried, and azure-identity's own warning reached the worker's stderr, which
Ansible showed as a worker that "errantly sent data directly to stderr"."""

from __future__ import annotations

import logging

from azure.core.exceptions import ClientAuthenticationError

from ansible_collections.vaultlock.azure.plugins.module_utils._azure import auth as _auth
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import scope_error
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, from_exception

CHAIN = ('ChainedTokenCredential failed to retrieve a token from the included credentials.\n'
         'Attempted credentials:\n'
         '\tAzureCliCredential: Azure CLI not found on path\n'
         '\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable.\n'
         'To mitigate this issue, please refer to the troubleshooting guidelines here at https://aka.ms/azsdk/python/identity/x.')


def test_an_unavailable_chain_says_what_it_tried():
    err = from_exception(ClientAuthenticationError(message=CHAIN), 'list Recovery Services vaults')
    assert err.code == 'CredentialUnavailable'
    assert err.azure_message == ('ChainedTokenCredential failed to retrieve a token from the included credentials '
                                 '(AzureCliCredential: Azure CLI not found on path; ManagedIdentityCredential: '
                                 'ManagedIdentityCredential authentication unavailable.)')
    assert 'give a service principal (client_id, secret, tenant)' in err.hint


def test_a_scope_error_keeps_what_to_do():
    err = from_exception(ClientAuthenticationError(message=CHAIN), 'list Recovery Services vaults')
    entry = scope_error('subscriptions s1', err)
    assert entry['code'] == 'CredentialUnavailable'
    assert entry['message'].startswith('ChainedTokenCredential failed to retrieve a token from the included credentials (')
    assert entry['message'].endswith(err.hint)
    # An error without a hint keeps Azure's message as it was; one without a message gets the hint alone.
    assert scope_error('s', AzureOperationError('read', 's', 404, 'NotFound', 'gone'))['message'] == 'gone'
    assert scope_error('s', AzureOperationError('read', 's', None, 'X', None, hint='Do this.'))['message'] == 'Do this.'


def test_azure_identity_warnings_do_not_reach_stderr(capsys):
    plan = _auth.AuthPlan('secret', 'env', client_id='c', client_secret='x', tenant_id='t')
    cloud = type('Cloud', (), {'authority_host': 'https://login.example', 'disable_instance_discovery': False})()
    _auth.build_credential(plan, cloud)
    _auth.build_credential(plan, cloud)
    logging.getLogger('azure.identity._credentials.chained').warning('ChainedTokenCredential failed to retrieve a token')
    assert capsys.readouterr().err == ''
    assert sum(isinstance(h, logging.NullHandler) for h in logging.getLogger('azure.identity').handlers) == 1
