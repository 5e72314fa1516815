# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The action plugin behind each of the collection's Azure modules: where the work runs.

Over a local connection (the implicit localhost, ``connection: local``, ``delegate_to: localhost``) the module's run()
runs in this process, the task worker of ansible-playbook, whose Python has the Azure SDKs (the role's plan needs them
there anyway): the discovered interpreter of localhost (/usr/bin/python3, say) never has to have them. Otherwise the
module runs on the target as usual, through AnsiballZ in the target's Python (an Azure VM with a managed identity,
say), and a missing SDK fails with what to set (module_utils/_module.py, missing_library_message).

The task's ``environment:`` applies in process as it would to the module (see environment() below).

Two cases keep the module path on a local connection too: ``async`` (the module must outlive the task worker, which
only an AnsiballZ process does) and ``become`` (the module must run as another user, with that user's credentials,
which this process cannot).
"""

from __future__ import annotations

import contextlib
import os

from ansible.errors import AnsibleError
from ansible.parsing.mod_args import ModuleArgsParser
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import AUTH_ARGSPEC
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import shown
from ansible_collections.vaultlock.azure.plugins.plugin_utils._controller_module import ControllerModule
from ansible_collections.vaultlock.azure.plugins.plugin_utils._preload import CORE, Preloading
from ansible_collections.vaultlock.azure.plugins.plugin_utils._stdio import add_warnings, worker_stdio

LOCAL_TRANSPORTS = ('local', 'ansible.builtin.local')


def task_own_keys(task, templar):
    """The argument names written in the task itself (not merged from module_defaults), or None if unknown.

    ansible-core merges module_defaults into task.args before an action plugin runs (2.17: in the task executor; 2.19:
    when the task's args are finalized); the task's own data structure still holds what it wrote.
    """
    ds = task.get_ds()
    if not isinstance(ds, dict):
        return None
    try:
        parsed_args = ModuleArgsParser(task_ds=ds, collection_list=task.collections).parse(skip_action_validation=True)[1]
    except AnsibleError:
        return None
    keys = {key for key in parsed_args if not str(key).startswith('_')}
    for special in ('_variable_params', '_raw_params'):
        # "module: '{{ some_dict }}'" or "args: '{{ some_dict }}'": the task's own arguments, from a variable.
        value = parsed_args.get(special)
        if value is None:
            continue
        try:
            resolved = templar.template(value)
        except AnsibleError:
            return None
        if not isinstance(resolved, dict):
            return None
        keys.update(resolved)
    return keys


def accepted_options(argument_spec):
    """The option names an argument spec takes: each option and its aliases."""
    names = set(argument_spec)
    for option in argument_spec.values():
        names.update((option or {}).get('aliases') or ())
    return names


def defaults_refusal(task, templar, task_vars, argument_spec):
    """The message for options of ``task`` that its ``argument_spec`` does not take and that module_defaults gave it, or ''.

    ansible-core's own ("Unsupported parameters for (vault_immutability_info) module: allow_irreversible") names neither
    module_defaults nor the group: a play's group/vaultlock.azure.all default meant for a state module reaches every module
    of the collection (the read-only modules, the harden_backup_vaults role's harden_plan and harden_apply too), and a key
    of harden_backup_vaults_auth reaches the role's steps as their module_defaults. The group is for the authentication
    options (doc_fragments/attributes.py LOCAL, docs/authentication.md). An option the task writes itself keeps
    ansible-core's message."""
    accepted = accepted_options(argument_spec)
    unknown = sorted(str(key) for key in task.args if key not in accepted and not str(key).startswith('_'))
    own = task_own_keys(task, templar) if unknown else None
    defaulted = [key for key in unknown if own is not None and key not in own]
    if not defaulted:
        return ''
    auth = (task_vars or {}).get('harden_backup_vaults_auth')
    from_auth = [key for key in defaulted if isinstance(auth, dict) and key in auth]
    if from_auth:
        return ('harden_backup_vaults_auth has %s, which %s no authentication option: its keys are the authentication options '
                'of the collection\'s modules (%s); nothing was sent to Azure'
                % (', '.join(shown(key) for key in from_auth), 'is' if len(from_auth) == 1 else 'are', ', '.join(sorted(AUTH_ARGSPEC))))
    name = task.resolved_action or task.action
    return ('%s does not take %s, which module_defaults gave it: a group/vaultlock.azure.all default reaches every module of '
            'the collection (the harden_backup_vaults role\'s harden_plan and harden_apply too), so give the group only the '
            'authentication options (%s) and other options per module (module_defaults: vaultlock.azure.vault_immutability: '
            '...); nothing was sent to Azure' % (name, ', '.join(shown(key) for key in defaulted), ', '.join(sorted(AUTH_ARGSPEC))))


@contextlib.contextmanager
def environment(values):
    """The process environment with the task's ``environment:`` over it while the task runs in process, restored after.

    A module on the target gets the task's environment from its shell; in process, the SDKs read theirs
    (REQUESTS_CA_BUNDLE, SSL_CERT_FILE, HTTPS_PROXY, the managed identity endpoint, an Azure CLI's AZURE_CONFIG_DIR)
    from os.environ of the task worker, a process of its own for this task and host. Yields the environment the
    session reads the AZURE_* variables from.
    """
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield dict(os.environ)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class ModuleActionBase(Preloading, ActionBase):
    """Runs MODULE (its IMPLEMENTATION's ARGUMENT_SPEC, CONSTRAINTS and run) in process or as a module."""

    MODULE = None       # the module's short name
    IMPLEMENTATION = None   # its module_utils implementation (_state_*.py, _info_*.py): ARGUMENT_SPEC, CONSTRAINTS and run(mod)
    # Every module of the collection reads Azure: its task's worker inherits the SDK's core from ansible-playbook (_preload).
    # A state module's action adds the SDKs the module writes with.
    PRELOAD = CORE
    _supports_check_mode = True
    _supports_async = True

    def runs_in_process(self):
        """True when the task's connection is local and neither async nor become asks for a module process."""
        if self._task.async_val or self._play_context.become:
            return False
        connection = self._connection
        return getattr(connection, 'transport', None) in LOCAL_TRANSPORTS or \
            getattr(connection, '_load_name', None) in LOCAL_TRANSPORTS

    def task_environment(self):
        """The task's ``environment:``, templated (the variables ActionBase would set for a module on the target)."""
        env = {}
        environments = self._task.environment
        if not environments:
            return env
        if not isinstance(environments, list):
            environments = [environments]
        for environment in environments:
            if not environment:
                continue
            values = self._templar.template(environment)
            if not isinstance(values, dict):
                raise AnsibleError('environment must be a dictionary, received %s (%s)' % (values, type(values)))
            env.update((str(key), str(value)) for key, value in values.items())
        return env

    def run_module(self, args, task_vars):
        """The module's result for these arguments, from this process or from the target; a failed result without running
        it when module_defaults gave the task options the module does not take (defaults_refusal)."""
        refusal = defaults_refusal(self._task, self._templar, task_vars, dict(AUTH_ARGSPEC, **self.IMPLEMENTATION.ARGUMENT_SPEC))
        if refusal:
            return {'failed': True, 'changed': False, 'msg': refusal}
        if self.runs_in_process():
            # The info modules read several subscriptions in threads: what they write to stdout or stderr is a warning
            # of the task (_stdio: on ansible-core before 2.19 a thread writing there would hang the worker).
            with environment(self.task_environment()) as env, worker_stdio() as written:
                module = ControllerModule(self.MODULE, self.IMPLEMENTATION.ARGUMENT_SPEC, self.IMPLEMENTATION.CONSTRAINTS, args,
                                          check_mode=self._task.check_mode, diff_mode=self._task.diff, env=env)
                result = module.run(self.IMPLEMENTATION.run)
            return add_warnings(result, written)
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = self._execute_module(module_args=args, task_vars=task_vars, wrap_async=wrap_async)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        return merge_hash(result, self.run_module(dict(self._task.args), task_vars))
