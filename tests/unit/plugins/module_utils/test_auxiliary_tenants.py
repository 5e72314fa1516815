# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""auxiliary_tenant_ids: tokens of other tenants in x-ms-authorization-auxiliary (a Resource Guard in another tenant)."""

from __future__ import annotations

import json
import pathlib

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._azure import auth as _auth
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession, TenantCredential
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import MUA_HINT, AzureOperationError, InputError, _hint
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import mua as _mua
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
        GUARD + '/disableSoftDeleteRequests/default', GUARD + '/updateProtectionPolicyRequests/default',
        GUARD + '/disableSoftDeleteRequests/default']}
    assert read_mua('recovery_services', props) == {'protected': True, 'resource_guard_id': GUARD,
                                                    'protected_operations': ['disableSoftDeleteRequests', 'updateProtectionPolicyRequests']}
    assert read_mua('backup', {}) == {'protected': False, 'resource_guard_id': None, 'protected_operations': []}


PS_RS_MUA = pathlib.Path(__file__).resolve().parents[3] / 'fixtures' / 'azure-real' / 'ps-rs-mua'


def test_the_collection_finds_the_recorded_request_ids_in_the_recorded_proxy():
    """A Recovery Services vault's proxy as Azure listed it (tests/fixtures/azure-real/ps-rs-mua/get-proxy.json): the
    collection takes from it the request ids Azure PowerShell sent in the writes Azure accepted, the backup config's
    disableSoftDeleteRequests and the vault's reduceImmutabilityStateRequests, and the guard and the operations it
    protects, in the proxy's order."""
    proxies = json.loads((PS_RS_MUA / 'get-proxy.json').read_text(encoding='utf-8'))['value']
    sent_config = json.loads((PS_RS_MUA / 'patch-vaultconfig-soft-delete-disabled.request.json').read_text(encoding='utf-8'))
    sent_vault = json.loads((PS_RS_MUA / 'patch-vault-immutability-disabled.request.json').read_text(encoding='utf-8'))
    guard, details = _mua.proxy_guard(proxies)
    assert guard.endswith('/providers/Microsoft.DataProtection/resourceGuards/test1-rGuard') and len(details) == 9
    assert _mua.operation_requests(details, [_mua.SOFT_DELETE_OPERATION['recovery_services']]) == \
        sent_config['properties']['resourceGuardOperationRequests']
    assert _mua.operation_requests(details, [_mua.IMMUTABILITY_OPERATION['recovery_services']]) == \
        sent_vault['properties']['resourceGuardOperationRequests']
    record = _mua.with_proxy({'mua': {'protected': True, 'resource_guard_id': None, 'protected_operations': []}}, proxies)
    assert record['resource_guard_id'] == guard and record['protected_operations'][:3] == [
        'deleteProtectedItemRequests', 'updateProtectedItemRequests', 'updateProtectionPolicyRequests']
    assert 'reduceImmutabilityStateRequests' in record['protected_operations']
    # A proxy that names an operation by its request type (the spec example's form) gives the same id.
    by_type = [{'vaultCriticalOperation': 'Microsoft.DataProtection/resourceGuards/' + d['defaultResourceRequest'].split('/')[-2],
                'defaultResourceRequest': d['defaultResourceRequest']} for d in details]
    assert _mua.operation_requests(by_type, [_mua.IMMUTABILITY_OPERATION['recovery_services']]) == \
        sent_vault['properties']['resourceGuardOperationRequests']
