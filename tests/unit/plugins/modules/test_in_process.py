# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' run() in the process of ansible-playbook (plugin_utils/_controller_module.py, _module_action.py): the
same result as the module path for the same arguments, check mode, diff, validation messages, no_log values, the task's
environment, and which tasks take which path."""

from __future__ import annotations

import os
import re
from unittest.mock import MagicMock

import pytest

from ansible_collections.vaultlock.azure.plugins.action import vault_immutability as immutability_action
from ansible_collections.vaultlock.azure.plugins.action import vault_immutability_info as info_action
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError, MissingLibraryError
from ansible_collections.vaultlock.azure.plugins.module_utils._module import failure
from ansible_collections.vaultlock.azure.plugins.modules import (
    backup_policy_retention,
    backup_policy_retention_info,
    vault_immutability,
    vault_immutability_info,
    vault_lock_readiness_info,
    vault_soft_delete,
)
from ansible_collections.vaultlock.azure.plugins.plugin_utils._controller_module import ControllerModule
from ansible_collections.vaultlock.azure.plugins.plugin_utils._module_action import environment

from tests.unit.builders import BV, RG, RS, SUB2, arm_vault
from tests.unit.plugins.modules.conftest import FakeSession

MODULES = (vault_immutability, vault_soft_delete, backup_policy_retention, vault_immutability_info, backup_policy_retention_info,
           vault_lock_readiness_info)
SECRET = 'Sup3r-Secret-Value'


@pytest.fixture
def in_process(monkeypatch, azure):
    """in_process(module, args, check_mode=False, diff=False, env=None) -> the result of the module's run() in process."""
    monkeypatch.setattr(ControllerModule, 'session',
                        property(lambda self: self.__dict__.setdefault('_fake', FakeSession(self.params, azure=azure))))

    def run(module, args, check_mode=False, diff=False, env=None):
        name = module.__name__.rsplit('.', 1)[-1]
        mod = ControllerModule(name, module.ARGUMENT_SPEC, module.CONSTRAINTS, args, check_mode=check_mode, diff_mode=diff,
                               env=env)
        return mod.run(module.run)
    return run


def comparable(result):
    """The result without what differs between two runs (warnings aside, the discovery's clock)."""
    result = {key: value for key, value in result.items() if key not in ('warnings', 'invocation')}
    if 'discovery' in result:
        result['discovery'] = {key: value for key, value in result['discovery'].items() if key not in ('data_time', 'elapsed_s')}
    return result


@pytest.mark.parametrize('check_mode', [True, False])
def test_same_result_as_the_module(run_module, in_process, azure, check_mode):
    vault = azure.add(arm_vault('rsv-1'))
    args = {'name': 'rsv-1', 'resource_group': RG, 'vault_type': RS, 'immutability': 'enabled'}
    by_module = run_module(vault_immutability, args, check_mode=check_mode, diff=True)
    azure.vaults[vault['id'].lower()] = arm_vault('rsv-1')
    azure.writes.clear()
    by_process = in_process(vault_immutability, args, check_mode=check_mode, diff=True)
    assert comparable(by_process) == comparable(by_module)
    assert by_process['changed'] is True and by_process['diff']['after']['immutability'] == 'enabled'
    assert len(azure.writes) == (0 if check_mode else 1)


def test_read_only_module_same_result_as_the_module(run_module, in_process, azure):
    azure.add(arm_vault('rsv-1', immutability='enabled'))
    azure.add(arm_vault('bv-1', BV))
    args = {'discovery': 'arm'}
    assert comparable(in_process(vault_immutability_info, args)) == comparable(run_module(vault_immutability_info, args))


@pytest.mark.parametrize('args', [
    {'id': '/subscriptions/x', 'name': 'rsv-1', 'immutability': 'enabled'},       # mutually exclusive
    {'name': 'rsv-1', 'immutability': 'enabled'},                                  # required_by
    {'immutability': 'enabled'},                                                   # required_one_of
    {'name': 'rsv-1', 'resource_group': RG, 'vault_type': RS, 'immutability': 'sometimes'},   # choices
    {'name': 'rsv-1', 'resource_group': RG, 'vault_type': RS, 'immutablity': 'enabled'},      # unsupported
    {'name': 'rsv-1', 'resource_group': RG, 'vault_type': RS, 'api_retries': 'many'},          # AUTH_ARGSPEC types
])
def test_validation_fails_with_the_module_s_message(run_module, in_process, azure, args):
    by_module = run_module(vault_immutability, args)
    by_process = in_process(vault_immutability, args)
    assert by_process['failed'] is True and by_module['failed'] is True
    # The module names itself after its file (basic.py under this test's runner): the rest is the same message.
    assert re.sub(r'for \(.*?\) module', 'for', by_process['msg']) == re.sub(r'for \(.*?\) module', 'for', by_module['msg'])
    assert not by_process['msg'].startswith('Unsupported') or '(vault_immutability) module' in by_process['msg']
    assert azure.writes == []


def test_every_module_spec_validates_in_process():
    for module in MODULES:
        mod = ControllerModule(module.__name__, module.ARGUMENT_SPEC, module.CONSTRAINTS, {'id': arm_vault('rsv-1')['id']})
        assert 'api_retries' in mod.params and 'secret' in mod.params, module.__name__


def test_no_log_values_never_in_a_result_message_or_warning(in_process, azure):
    def work(mod):
        mod.warn('the secret is %s' % mod.params['secret'])
        raise InputError('bad input: %s' % mod.params['secret'])

    mod = ControllerModule('vault_immutability', vault_immutability.ARGUMENT_SPEC, vault_immutability.CONSTRAINTS,
                           {'id': arm_vault('rsv-1')['id'], 'secret': SECRET, 'certificate_password': 'pfx-' + SECRET})
    result = mod.run(work)
    assert result['failed'] is True and result['msg'] == 'bad input: ********'
    assert result['warnings'] == ['the secret is ********']
    assert SECRET not in repr(result)


def test_missing_sdk_in_process_names_the_python_of_ansible_playbook():
    msg, extra = failure(MissingLibraryError('azure-core', ImportError('No module named azure')), controller=True)
    assert 'ansible-playbook' in msg and 'requirements.txt' in msg and extra['exception'] == 'No module named azure'
    msg, _extra = failure(MissingLibraryError('azure-core'))
    assert 'ansible_python_interpreter' in msg and 'localhost' in msg and 'requirements.txt' in msg


def test_the_session_reads_the_task_environment():
    mod = ControllerModule('vault_immutability_info', vault_immutability_info.ARGUMENT_SPEC, vault_immutability_info.CONSTRAINTS,
                           {}, env={'AZURE_SUBSCRIPTION_ID': SUB2})
    assert mod.session.default_subscription() == SUB2


# ------------------------------------------------------------------ which path a task takes

def plugin(plugin_class, args, transport='local', async_val=0, become=False, environment=None, check_mode=False, diff=False):
    task = MagicMock()
    task.args = dict(args)
    task.async_val = async_val
    task.check_mode = check_mode
    task.diff = diff
    task.environment = environment
    task.collections = []
    task.get_ds.return_value = {'vaultlock.azure.' + plugin_class.MODULE: dict(args)}
    connection = MagicMock(transport=transport, has_native_async=False)
    connection._shell.tmpdir = None
    templar = MagicMock()
    templar.template.side_effect = lambda value: value
    action = plugin_class(task, connection, MagicMock(become=become), MagicMock(), templar, MagicMock())
    action._execute_module = lambda module_args=None, task_vars=None, wrap_async=False: {'changed': False, 'module_args': module_args}
    action._remove_tmp_path = lambda path: None
    return action


@pytest.mark.parametrize('options,in_process_expected', [
    ({}, True),
    ({'transport': 'ansible.builtin.local'}, True),
    ({'transport': 'ssh'}, False),
    ({'async_val': 30}, False),
    ({'become': True}, False),
])
def test_local_connections_run_in_process(options, in_process_expected):
    assert plugin(info_action.ActionModule, {}, **options).runs_in_process() is in_process_expected


def test_an_in_process_task_runs_run_with_the_task_environment_and_modes(in_process, azure):
    azure.add(arm_vault('rsv-1'))
    vid = arm_vault('rsv-1')['id']
    action = plugin(immutability_action.ActionModule, {'id': vid, 'immutability': 'enabled'}, check_mode=True, diff=True,
                    environment=[{'AZURE_SUBSCRIPTION_ID': SUB2}])
    assert action.task_environment() == {'AZURE_SUBSCRIPTION_ID': SUB2}
    before = dict(os.environ)
    result = action.run(task_vars={})
    assert 'module_args' not in result and result['changed'] is True and 'diff' in result
    assert azure.writes == []
    assert dict(os.environ) == before


def test_the_task_environment_is_the_process_environment_while_the_task_runs(monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/the/default.pem')
    monkeypatch.delenv('HTTPS_PROXY', raising=False)
    with environment({'REQUESTS_CA_BUNDLE': '/etc/hostname', 'HTTPS_PROXY': 'http://proxy:3128'}) as env:
        assert os.environ['REQUESTS_CA_BUNDLE'] == env['REQUESTS_CA_BUNDLE'] == '/etc/hostname'
        assert os.environ['HTTPS_PROXY'] == 'http://proxy:3128'
    assert os.environ['REQUESTS_CA_BUNDLE'] == '/the/default.pem' and 'HTTPS_PROXY' not in os.environ


def test_a_remote_task_runs_the_module_with_the_scoped_arguments():
    vid = arm_vault('rsv-1')['id']
    result = plugin(immutability_action.ActionModule, {'id': vid, 'immutability': 'enabled'}, transport='ssh').run(task_vars={})
    assert result['module_args'] == {'id': vid, 'immutability': 'enabled'}
