# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""VaultlockModule on the controller: what a module's run() gets (params, session, check_mode, diff_mode, warn), in the
process of ansible-playbook instead of an AnsiballZ process in the target's Python.

The same run() serves both paths: the module files build a VaultlockModule (module_utils/_module.py) from the
ARGUMENT_SPEC and CONSTRAINTS beside it (module_utils/_state_*.py, _info_*.py), the action plugins build a
ControllerModule from the same two (plugin_utils/_module_action.py decides which path a task takes). Failures, the
TLS note and the message of a missing package come from module_utils/_module.py for both.
"""

from __future__ import annotations

import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.text.converters import jsonify
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import AUTH_ARGSPEC
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import finite, non_finite_refusal
from ansible_collections.vaultlock.azure.plugins.module_utils._module import StateSpec, outcome


class ControllerModule:
    """The task's arguments validated against the module's full argument spec (AUTH_ARGSPEC included) and constraints,
    as AnsibleModule validates them, and an AzureSession on the task's environment, built on first use.

    name: the module's short name (for messages); env: the environment the session reads AZURE_* from (the task's
    ``environment:`` over the one of ansible-playbook).
    """

    def __init__(self, name, argument_spec, constraints, args, check_mode=False, diff_mode=False, env=None):
        spec = dict(AUTH_ARGSPEC)
        spec.update(argument_spec)
        self.name = name
        # A float that is no finite number (.inf) raised OverflowError in the int conversion: refused by run() instead.
        self._non_finite = non_finite_refusal(dict(args))
        self._validation = ArgumentSpecValidator(spec, **(constraints or {})).validate(finite(dict(args)))
        self.params = self._validation.validated_parameters
        # Values of no_log options (secret, certificate_password): never in a result, a message or a warning.
        self.no_log_values = set(self._validation._no_log_values)  # pylint: disable=protected-access
        self.check_mode = bool(check_mode)
        self.diff_mode = bool(diff_mode)
        # A state module's results say whether the task ran in check mode (_module.outcome).
        self.state_module = isinstance(argument_spec, StateSpec)
        self.env = env
        self.warnings = []
        self._session = None

    @property
    def session(self):
        if self._session is None:
            self._session = AzureSession(self.params, env=self.env)
        return self._session

    def warn(self, message):
        self.warnings.append(message)

    def run(self, work):
        """Call work(self) and return the task result, as the module would have returned it: a failure has
        ``failed: true`` and ``msg``; warnings are in ``warnings``; no no_log value anywhere."""
        if self._non_finite:
            return self._finish({'msg': self._non_finite}, True)
        errors = self._validation.errors.errors
        if errors:
            # As AnsibleModule reports them (the first error, even in check mode).
            msg = errors[0].args[0]
            if isinstance(errors[0], UnsupportedError):
                msg = 'Unsupported parameters for (%s) module: %s' % (self.name, msg)
            return self._finish({'msg': msg}, True)
        result, failed = outcome(self, work, controller=True)
        return self._finish(result, failed)

    def _finish(self, result, failed):
        result = dict(result)
        if failed:
            result['failed'] = True
        warnings = list(result.get('warnings') or []) + self.warnings
        if warnings:
            result['warnings'] = warnings
        # What a module's exit_json does: no_log values masked, then the result as JSON (a copy with JSON's types, the
        # same a module's result has when it comes back from the target).
        return json.loads(jsonify(remove_values(result, self.no_log_values)))
