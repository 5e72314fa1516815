# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state modules document ``check_mode`` as returned always (harden_report compares it with its plan's check mode).
Only the action plugin's in-process path set it: an ``async`` task runs the module through AnsiballZ, and its result,
which async_status hands back, had none. The module sets it itself now, on success and on failure, whatever path ran it."""

from __future__ import annotations

from tests.integration.fleets import RG, SUB1, vault, vault_id

IMM = 'vaultlock.azure.vault_immutability'
SD = 'vaultlock.azure.vault_soft_delete'
SEC = 'vaultlock.azure.vault_security_settings'
RET = 'vaultlock.azure.backup_policy_retention'


def test_a_state_module_returns_check_mode_through_async_and_in_process(runner, emulator):
    emulator.load_fleet({'subscriptions': [{'id': SUB1, 'display_name': 'check-mode', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-a', 'recovery_services', 'disabled'),
                                                          vault('bv-a', 'backup', 'disabled')]}]}]})
    rsv, bv = {'id': vault_id('rsv-a')}, {'id': vault_id('bv-a', 'backup')}
    background = {'async': 60, 'poll': 1}
    tasks = [
        dict({IMM: dict(rsv, immutability='enabled'), 'check_mode': True}, **background),
        dict({IMM: dict(rsv, immutability='enabled')}, **background),
        dict({SEC: dict(bv, cross_subscription_restore='disabled')}, **background),
        dict({RET: dict(rsv, minimum={'daily': '30d'}), 'check_mode': True}, **background),
        # A failure in the module (no such vault): still says which mode it ran in. (Each async task is an AnsiballZ
        # run with the SDK imported and polled: the modules share the code that sets check_mode (_module.outcome), so
        # not every module in both modes; vault_soft_delete's path is the in-process one below.)
        dict({IMM: {'id': vault_id('rsv-missing'), 'immutability': 'enabled'}, 'check_mode': True}, **background),
        {SD: dict(bv, soft_delete='off'), 'check_mode': True},
        # In process (no async), as before.
        {IMM: dict(rsv, immutability='enabled'), 'check_mode': True},
        {IMM: dict(rsv, immutability='enabled')},
    ]
    run = runner.play(tasks)
    assert run.rc == 0, run.output
    assert 'Traceback' not in run.output
    for index, task in enumerate(tasks):
        result = run['r%d' % index]
        if 'async' in task:
            assert result.get('ansible_job_id') and result.get('finished') in (1, True), (index, result)
        assert bool(result.get('failed')) is (index == 4), (index, result)
        assert result.get('check_mode') is bool(task.get('check_mode')), (index, result)
    assert run['r0']['changed'] is True and run['r1']['changed'] is True and run['r2']['changed'] is True
    assert 'rsv-missing' in run['r4']['msg'], run['r4']
