# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 28, multi-user authorization as Azure documents it: a vault whose Resource Guard lives in another tenant refuses
the operations the guard protects unless the request carries a token of the guard's tenant in x-ms-authorization-auxiliary.
Real ansible-playbook runs against the emulator: refused without auxiliary_tenant_ids (the message says the guard protects
it and which option to set), done with it; the vault record says which operations the guard protects."""

from __future__ import annotations

import pytest

from tests.emulator import generator, mua
from tests.integration.conftest import step

SUB = '88888888-aaaa-4000-8000-000000000008'
RG = 'rg-mua'
GUARD = '/subscriptions/%s/resourceGroups/rg-security/providers/Microsoft.DataProtection/resourceGuards/guard-1' % SUB
RSV = '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/' % (SUB, RG)
FLEET = {'subscriptions': [{'id': SUB, 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
    {'name': 'rsv-guarded', 'type': 'recovery_services', 'immutability': 'enabled', 'resource_guard_id': GUARD,
     'soft_delete': {'state': 'on', 'retention_days': 14}, 'resource_guard_excluded': ['changeMarsSecurityPinRequests'],
     'policies': [{'name': 'vm', 'properties': generator.iaas_v1(False)}]},
]}]}]}


def soft_delete_state(emulator):
    """``emulator``: the emulator, or the stored documents right after a task (``run.after(name)``)."""
    return emulator.resource(RSV + 'rsv-guarded')['properties']['securitySettings']['softDeleteSettings']['softDeleteState']


OFF = {'id': RSV + 'rsv-guarded', 'soft_delete': 'off'}


@pytest.fixture(scope='module')
def run(module_runner):
    """Both tests' tasks in one playbook: the check-mode task first (it sends nothing, asserted below), so the tasks after
    it find the vault as the fleet has it; each test reads its tasks' requests and the vault right after them."""
    emulator = module_runner.emulator
    emulator.reset()
    emulator.load_fleet(FLEET)
    emulator.clear_journal()
    return module_runner.play([
        step({'vaultlock.azure.vault_soft_delete': dict(OFF, auxiliary_tenant_ids=[mua.GUARD_TENANT_ID]), 'register': 'check'}, check=True),
        {'vaultlock.azure.vault_immutability_info': {'subscription_ids': [SUB]}, 'register': 'r0'},
        {'vaultlock.azure.vault_soft_delete': OFF, 'register': 'r1'},
        {'vaultlock.azure.vault_soft_delete': dict(OFF, auxiliary_tenant_ids=[mua.GUARD_TENANT_ID]), 'register': 'r2'},
        {'vaultlock.azure.vault_soft_delete': dict(OFF, auxiliary_tenant_ids=['not-a-tenant']), 'register': 'r3'},
    ], marks=[RSV + 'rsv-guarded'])


def test_a_guarded_vault_refuses_without_the_guards_tenant_and_accepts_with_auxiliary_tenant_ids(run):
    assert run.rc == 0, run.output
    # The record names the operations the guard protects (the MARS PIN change is excluded by the guard).
    record = run['r0']['vaults'][0]
    assert record['mua']['protected'] is True and record['mua']['resource_guard_id'].lower() == GUARD.lower()
    assert record['mua']['protected_operations'] == [
        'disableSoftDeleteRequests', 'deleteResourceGuardProxyRequests', 'disableImmutabilityRequests', 'reduceRetentionRequests',
        'stopProtectionWithDeleteDataRequests']
    # Without the option: refused by Azure (the emulator), and the message says why and what to set.
    refused = run['r1']
    assert refused['failed'] is True
    assert mua.CODE in refused['msg'] and 'Resource Guard' in refused['msg'] and 'auxiliary_tenant_ids' in refused['msg']
    # With the guard's tenant: the same task is done.
    done = run['r2']
    assert done.get('failed') is not True, done
    assert done['changed'] is True and soft_delete_state(run.after('r2')) == 'Disabled'
    # A value that is not a tenant id is refused by name before any request.
    assert run['r3']['failed'] is True and "auxiliary_tenant_ids: 'not-a-tenant' is not a tenant id" in run['r3']['msg']


def test_check_mode_with_the_option_sends_nothing(run):
    assert run.rc == 0, run.output
    assert run['check']['changed'] is True and run.writes('check') == [] and soft_delete_state(run.after('check')) == 'Enabled'
