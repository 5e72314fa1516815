# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 28, multi-user authorization as Azure documents it: a vault whose Resource Guard lives in another tenant refuses
the operations the guard protects unless the request carries a token of the guard's tenant in x-ms-authorization-auxiliary.
Real ansible-playbook runs against the emulator: refused without auxiliary_tenant_ids (the message says the guard protects
it and which option to set), done with it; the vault record says which operations the guard protects."""

from __future__ import annotations

import pytest

from tests.emulator import generator, mua, routes
from tests.integration.conftest import step

SUB = '88888888-aaaa-4000-8000-000000000008'
RG = 'rg-mua'
GUARD = '/subscriptions/%s/resourceGroups/rg-security/providers/Microsoft.DataProtection/resourceGuards/guard-1' % SUB
RSV = '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/' % (SUB, RG)
BV = '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/' % (SUB, RG)
FLEET = {'subscriptions': [{'id': SUB, 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
    {'name': 'rsv-guarded', 'type': 'recovery_services', 'immutability': 'enabled', 'resource_guard_id': GUARD,
     'soft_delete': {'state': 'on', 'retention_days': 14}, 'resource_guard_excluded': ['getBackupSecurityPINRequests'],
     'policies': [{'name': 'vm', 'properties': generator.iaas_v1(False)}]},
    {'name': 'bv-guarded', 'type': 'backup', 'immutability': 'enabled', 'resource_guard_id': GUARD,
     'soft_delete': {'state': 'on', 'retention_days': 14}},
    # Read by the info task only: a guarded vault whose proxy the identity may not read (REFUSED_PROXY), and a vault of
    # each kind no guard protects.
    {'name': 'rsv-refused', 'type': 'recovery_services', 'immutability': 'enabled', 'resource_guard_id': GUARD},
    {'name': 'rsv-plain', 'type': 'recovery_services', 'immutability': 'enabled'},
    {'name': 'bv-plain', 'type': 'backup', 'immutability': 'enabled'},
]}]}]}
# ARM's 403 AuthorizationFailed (its shape as test_vault_immutability_info's denied subscription has it) for the proxy read
# of rsv-refused: an identity that may read the vault and not its proxy.
REFUSED_PROXY = {'method': 'GET', 'path_regex': '(?i)/vaults/rsv-refused/backupResourceGuardProxies', 'status': 403,
                 'code': 'AuthorizationFailed', 'times': 20,
                 'message': "The client 'x' does not have authorization to perform this action"}
AUX = {'auxiliary_tenant_ids': [mua.GUARD_TENANT_ID]}
# The Resource Guard operation request id each guarded write carries, as the vault's proxy lists it (Microsoft's clients:
# az CLI get_resource_guard_operation_request, Azure PowerShell SetVaultProperty, Az.DataProtection
# -ResourceGuardOperationRequest; the Recovery Services ones as Azure PowerShell sent them and Azure accepted them,
# tests/fixtures/azure-real/ps-rs-mua), and without which Azure refuses the write (terraform-provider-azurerm#31887).
REQUEST = {'rs_soft_delete': GUARD + '/disableSoftDeleteRequests/default',
           'rs_immutability': GUARD + '/reduceImmutabilityStateRequests/default',
           'dp_soft_delete': GUARD + '/dppReduceSoftDeleteSecurityRequests/default',
           'dp_immutability': GUARD + '/dppReduceImmutabilityStateRequests/default'}


def soft_delete_state(emulator):
    """``emulator``: the emulator, or the stored documents right after a task (``run.after(name)``)."""
    return emulator.resource(RSV + 'rsv-guarded')['properties']['securitySettings']['softDeleteSettings']['softDeleteState']


OFF = {'id': RSV + 'rsv-guarded', 'soft_delete': 'off'}
RS_DISABLE = {'id': RSV + 'rsv-guarded', 'immutability': 'disabled'}
BV_OFF = {'id': BV + 'bv-guarded', 'soft_delete': 'off'}
BV_DISABLE = {'id': BV + 'bv-guarded', 'immutability': 'disabled'}


@pytest.fixture(scope='module')
def run(module_runner):
    """Both tests' tasks in one playbook: the check-mode task first (it sends nothing, asserted below), so the tasks after
    it find the vault as the fleet has it; each test reads its tasks' requests and the vault right after them."""
    emulator = module_runner.emulator
    emulator.reset()
    emulator.load_fleet(FLEET)
    emulator.fault(**REFUSED_PROXY)
    emulator.clear_journal()
    return module_runner.play([
        step({'vaultlock.azure.vault_soft_delete': dict(OFF, auxiliary_tenant_ids=[mua.GUARD_TENANT_ID]), 'register': 'check'}, check=True),
        {'vaultlock.azure.vault_immutability_info': {'subscription_ids': [SUB]}, 'register': 'r0'},
        {'vaultlock.azure.vault_soft_delete': OFF, 'register': 'r1'},
        {'vaultlock.azure.vault_soft_delete': dict(OFF, auxiliary_tenant_ids=[mua.GUARD_TENANT_ID]), 'register': 'r2'},
        {'vaultlock.azure.vault_soft_delete': dict(OFF, auxiliary_tenant_ids=['not-a-tenant']), 'register': 'r3'},
        # Disabling immutability, and a Backup vault's soft delete and immutability: check mode first, then for real.
        step({'vaultlock.azure.vault_immutability': dict(RS_DISABLE, **AUX), 'register': 'rs_imm_check'}, check=True),
        {'vaultlock.azure.vault_immutability': dict(RS_DISABLE, **AUX), 'register': 'rs_imm'},
        step({'vaultlock.azure.vault_soft_delete': dict(BV_OFF, **AUX), 'register': 'bv_off_check'}, check=True),
        {'vaultlock.azure.vault_soft_delete': dict(BV_OFF, **AUX), 'register': 'bv_off'},
        step({'vaultlock.azure.vault_immutability': dict(BV_DISABLE, **AUX), 'register': 'bv_imm_check'}, check=True),
        {'vaultlock.azure.vault_immutability': dict(BV_DISABLE, **AUX), 'register': 'bv_imm'},
    ], marks=[RSV + 'rsv-guarded', BV + 'bv-guarded'])


def guarded_writes(run, key):
    """(method, the path's last segment, status, the body's resourceGuardOperationRequests) of each write of a task."""
    return [(w['method'], w['path'].rsplit('/', 1)[-1], w['status'], ((w.get('body') or {}).get('properties') or {}).get(
        'resourceGuardOperationRequests')) for w in run.writes(key)]


def proxy_reads(run, key):
    return [r['path'].rsplit('/', 2)[-2] for r in run.requests(key)
            if r['method'] == 'GET' and r['path'].lower().endswith('/backupresourceguardproxies')]


def test_a_guarded_vault_refuses_without_the_guards_tenant_and_accepts_with_auxiliary_tenant_ids(run):
    assert run.rc == 0, run.output
    # The record names the guard that protects the vault and the operations it protects: a vault GET names neither (a live
    # one does not: tests/fixtures/azure-real/ps-rs-mua), so the info read the vault's proxy (test_info_reads_the_guard_...).
    record = next(v for v in run['r0']['vaults'] if v['name'] == 'rsv-guarded')
    assert record['mua']['protected'] is True and record['mua']['resource_guard_id'] == GUARD
    # Without the option: refused by Azure (the emulator), and the message says why and what to set.
    refused = run['r1']
    assert refused['failed'] is True
    assert mua.CODE in refused['msg'] and 'Resource Guard' in refused['msg'] and 'auxiliary_tenant_ids' in refused['msg']
    # With the guard's tenant: the same task is done.
    done = run['r2']
    assert done.get('failed') is not True, done
    assert done['changed'] is True and soft_delete_state(run.after('r2')) == 'Disabled'
    # It read the vault's proxy once, and its config write carried the guard's request id for disabling soft delete.
    assert proxy_reads(run, 'r2') == ['rsv-guarded']
    assert guarded_writes(run, 'r2') == [('PATCH', 'vaultconfig', 200, [REQUEST['rs_soft_delete']])]
    # A value that is not a tenant id is refused by name before any request.
    assert run['r3']['failed'] is True and "auxiliary_tenant_ids: 'not-a-tenant' is not a tenant id" in run['r3']['msg']


def test_check_mode_with_the_option_sends_nothing(run):
    assert run.rc == 0, run.output
    assert run['check']['changed'] is True and run.writes('check') == [] and soft_delete_state(run.after('check')) == 'Enabled'


@pytest.mark.parametrize('key,vault,write,operation', [
    ('rs_imm', 'rsv-guarded', ('PATCH', 'rsv-guarded', 202), 'rs_immutability'),
    ('bv_off', 'bv-guarded', ('PATCH', 'bv-guarded', 202), 'dp_soft_delete'),
    ('bv_imm', 'bv-guarded', ('PATCH', 'bv-guarded', 202), 'dp_immutability'),
])
def test_each_guarded_write_carries_the_guards_operation_request_id_and_check_mode_predicts_it(run, key, vault, write, operation):
    assert run.rc == 0, run.output
    done, check = run[key], run[key + '_check']
    assert done.get('failed') is not True, done
    assert done['changed'] is True and check['changed'] is True and check['changes'] == done['changes']
    # One read of the vault's proxy in both; the write (none in check mode) carries the request id.
    assert proxy_reads(run, key) == proxy_reads(run, key + '_check') == [vault]
    assert run.writes(key + '_check') == []
    assert guarded_writes(run, key) == [write + ([REQUEST[operation]],)]


def test_a_write_the_guard_does_not_protect_reads_no_proxy(run):
    # Turning soft delete off needs the guard; the task refused before any request read none.
    assert proxy_reads(run, 'r3') == []


def test_info_reads_the_guard_of_each_guarded_vault_from_its_proxy(run):
    assert run.rc == 0, run.output
    info = run['r0']
    by = {v['name']: v for v in info['vaults']}
    # The guard, and the operations it protects as the proxy's request ids name them (<guard>/<request type>/default), in the
    # proxy's order: rsv-guarded's lists what the live one recorded lists (routes.RS_GUARDED_OPERATIONS) but the MARS PIN,
    # which it excludes; a Backup vault's lists what the live one recorded lists (routes.DP_GUARDED_OPERATIONS, its details
    # without a request id left out).
    rs_operations = [request for _operation, request in routes.RS_GUARDED_OPERATIONS if request != mua.MARS_PIN]
    dp_operations = [request for _operation, request in routes.DP_GUARDED_OPERATIONS if request]
    assert by['rsv-guarded']['mua'] == {'protected': True, 'resource_guard_id': GUARD, 'protected_operations': rs_operations}
    assert by['bv-guarded']['mua'] == {'protected': True, 'resource_guard_id': GUARD, 'protected_operations': dp_operations}
    # One proxy read a guarded vault (the refused one too), none for a vault no guard protects.
    assert sorted(proxy_reads(run, 'r0')) == ['bv-guarded', 'rsv-guarded', 'rsv-refused']
    assert by['rsv-plain']['mua']['protected'] is False and by['bv-plain']['mua']['protected'] is False
    assert by['rsv-plain']['mua']['resource_guard_id'] is None and by['bv-plain']['mua']['protected_operations'] == []
    # The refused read is no error of the task: the vault keeps no guard id, and one warning names it and why.
    assert info['errors'] == [] and info.get('failed') is not True
    assert by['rsv-refused']['mua'] == {'protected': True, 'resource_guard_id': None, 'protected_operations': []}
    warnings = [w for w in info.get('warnings') or [] if 'Resource Guard proxy' in w]
    assert len(warnings) == 1, info.get('warnings')
    assert "1 vault " in warnings[0] and "'rsv-refused'" in warnings[0] and 'HTTP 403 AuthorizationFailed' in warnings[0]
    # The proxy reads are counted with the task's other ARM reads.
    assert info['discovery']['arm']['requests'] == len([r for r in run.requests('r0') if not r['path'].startswith('/providers/')])
