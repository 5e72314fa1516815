# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state modules' action plugins in process: consent from module_defaults never counts (plugin_utils/_consent_action.py)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.action import backup_policy_retention, vault_immutability, vault_soft_delete

from tests.unit.builders import vault_id

VID = vault_id('rsv-1')


def test_consent_written_in_the_task_reaches_the_module(action):
    args = {'id': VID, 'immutability': 'locked', 'allow_irreversible': True}
    result = action(vault_immutability.ActionModule, args).run(task_vars={})
    assert result['module_args'] == args and not result.get('warnings')


def test_consent_from_module_defaults_is_ignored_with_a_warning(action):
    args = {'id': VID, 'immutability': 'enabled', 'allow_irreversible': True}
    result = action(vault_immutability.ActionModule, args, own={'id': VID, 'immutability': 'enabled'}).run(task_vars={})
    assert result['module_args']['allow_irreversible'] is False
    assert any('from module_defaults is ignored' in w for w in result['warnings'])


def test_an_irreversible_target_from_module_defaults_is_refused(action):
    args = {'id': VID, 'soft_delete': 'always_on', 'allow_irreversible': True}
    result = action(vault_soft_delete.ActionModule, args, own={'id': VID, 'allow_irreversible': True}).run(task_vars={})
    assert result['failed'] is True and 'module_defaults' in result['msg'] and 'module_args' not in result


def test_consent_does_not_cover_a_minimum_from_module_defaults(action):
    args = {'id': VID, 'minimum': {'daily': '9999d'}, 'mode': 'enforce', 'allow_irreversible': True}
    own = {'id': VID, 'mode': 'enforce', 'allow_irreversible': True}
    result = action(backup_policy_retention.ActionModule, args, own=own).run(task_vars={})
    assert result['failed'] is True and 'minimum comes from module_defaults' in result['msg']


def test_a_state_task_result_says_whether_it_ran_in_check_mode(action):
    # harden_report compares it with its plan's check mode.
    args = {'id': VID, 'immutability': 'enabled'}
    assert action(vault_immutability.ActionModule, args).run(task_vars={})['check_mode'] is False
    assert action(vault_immutability.ActionModule, args, check_mode=True).run(task_vars={})['check_mode'] is True
