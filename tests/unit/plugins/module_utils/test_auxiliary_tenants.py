# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""auxiliary_tenant_ids: tokens of other tenants in x-ms-authorization-auxiliary (a Resource Guard in another tenant)."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._azure import auth as _auth
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession, TenantCredential
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import MUA_HINT, AzureOperationError, InputError, _hint
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.mua import read_mua

T1 = '9a9a9a9a-0000-4000-8000-00000000a001'
T2 = '9a9a9a9a-0000-4000-8000-00000000a002'
GUARD = '/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/g/providers/Microsoft.DataProtection/resourceGuards/rg1'


def test_the_option_and_the_environment_variable_are_checked():
    assert _auth.auxiliary_tenants({'auxiliary_tenant_ids': [T1, T1.upper(), ' %s ' % T2]}, {}) == [T1, T2]
    assert _auth.auxiliary_tenants({}, {'AZURE_AUXILIARY_TENANT_IDS': '%s, %s' % (T1, T2)}) == [T1, T2]
    assert _auth.auxiliary_tenants({'auxiliary_tenant_ids': []}, {'AZURE_AUXILIARY_TENANT_IDS': T1}) == []   # the task wins
    assert _auth.auxiliary_tenants({}, {}) == []
    with pytest.raises(InputError, match="not a tenant id"):
        _auth.auxiliary_tenants({'auxiliary_tenant_ids': ['contoso.onmicrosoft.com']}, {})
    with pytest.raises(InputError, match='at most 3'):
        _auth.auxiliary_tenants({'auxiliary_tenant_ids': [T1[:-1] + str(n) for n in range(4)]}, {})


def test_a_managed_identity_cannot_carry_other_tenants():
    plan = _auth.AuthPlan('msi', 'msi', client_id=None)
    cloud = type('Cloud', (), {'authority_host': 'https://login.example', 'disable_instance_discovery': False})()
    with pytest.raises(InputError, match='managed identity'):
        _auth.build_credential(plan, cloud, additionally_allowed_tenants=[T1])


def test_the_sdk_clients_get_the_auxiliary_policy_only_when_asked():
    class Credential:
        def __init__(self):
            self.asked = []

        def get_token(self, *scopes, **kwargs):
            self.asked.append((scopes, kwargs))
            return type('Token', (), {'token': 'aux', 'expires_on': 9999999999})()

    session = AzureSession({'auxiliary_tenant_ids': [T1]}, env={})
    session._credential = Credential()   # pylint: disable=protected-access
    cloud = type('Cloud', (), {'resource_manager': 'https://management.example/', 'scope': 'https://management.example/.default'})()
    session._cloud = cloud   # pylint: disable=protected-access
    session._verify = True   # pylint: disable=protected-access
    policy = session.auxiliary_policy()
    assert type(policy).__name__ == 'AuxiliaryAuthenticationPolicy'
    assert any(type(p).__name__ == 'AuxiliaryAuthenticationPolicy' for p in session.client_kwargs()['per_retry_policies'])
    headers = {}
    policy._aux_tokens = policy._get_auxiliary_tokens(*policy._scopes)   # pylint: disable=protected-access
    policy._update_headers(headers)   # pylint: disable=protected-access
    assert headers == {'x-ms-authorization-auxiliary': 'Bearer aux'}
    assert session._credential.asked == [(('https://management.example/.default',), {'tenant_id': T1})]   # pylint: disable=protected-access
    plain = AzureSession({}, env={})
    plain._cloud = session._cloud   # pylint: disable=protected-access
    plain._verify = True   # pylint: disable=protected-access
    assert plain.auxiliary_policy() is None
    assert not any(type(p).__name__ == 'AuxiliaryAuthenticationPolicy' for p in plain.client_kwargs()['per_retry_policies'])
    assert TenantCredential(session._credential, T2).get_token('s')   # pylint: disable=protected-access


def test_a_refused_protected_operation_names_the_option():
    assert _hint(403, 'UserErrorResourceGuardAuthorizationRequired') == MUA_HINT
    assert 'auxiliary_tenant_ids' in MUA_HINT and 'Resource Guard' in MUA_HINT
    error = AzureOperationError('update vault', 'rsv-1', 403, 'UserErrorResourceGuardAuthorizationRequired', 'protected', hint=MUA_HINT)
    assert 'auxiliary_tenant_ids' in str(error)
    assert _hint(403, 'AuthorizationFailed') != MUA_HINT


def test_the_record_names_the_operations_its_guard_protects():
    props = {'securitySettings': {'multiUserAuthorization': 'Enabled'}, 'resourceGuardOperationRequests': [
        GUARD + '/disableSoftDeleteRequests/default', GUARD + '/reduceRetentionRequests/default',
        GUARD + '/disableSoftDeleteRequests/default']}
    assert read_mua('recovery_services', props) == {'protected': True, 'resource_guard_id': GUARD,
                                                    'protected_operations': ['disableSoftDeleteRequests', 'reduceRetentionRequests']}
    assert read_mua('backup', {}) == {'protected': False, 'resource_guard_id': None, 'protected_operations': []}
