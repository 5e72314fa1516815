# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The module base: the shared auth argument spec, the Azure session, and the one place that turns the collection's
errors (VaultlockError and its subclasses) into fail_json. Modules build a VaultlockModule and hand it a function that
does the work; no module calls fail_json itself.

Each module's implementation (_state_*.py, _info_*.py) declares ARGUMENT_SPEC (its options besides the authentication
ones) and CONSTRAINTS (theirs) beside its ``run(mod)``. The module file, its documentation, imports the three: its main()
builds a VaultlockModule from the two and runs run(); the module's action plugin, which runs run() in the process of
ansible-playbook over a local connection, builds a ControllerModule from the same two (plugins/plugin_utils/_module_action.py)."""

from __future__ import annotations

import platform
import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import AUTH_ARGSPEC
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    MissingLibraryError,
    PartialChangeError,
    VaultlockError,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import VAULT_TYPES
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import DEFAULT_DISCOVERY, DISCOVERY_CHOICES, MAX_CONCURRENCY

# How a task names one vault; documented in plugins/doc_fragments/vault_ref.py.
VAULT_REF_ARGSPEC = {
    'id': {'type': 'str'},
    'name': {'type': 'str'},
    'resource_group': {'type': 'str'},
    'vault_type': {'type': 'str', 'choices': list(VAULT_TYPES)},
}
VAULT_REF_EXCLUSIVE = [('id', 'name'), ('id', 'resource_group')]
# The state modules name exactly one vault: an id (vault_type, when given, must match it), or a name with its resource
# group and kind.
VAULT_REF_CONSTRAINTS = {
    'mutually_exclusive': VAULT_REF_EXCLUSIVE,
    'required_one_of': [('id', 'name')],
    'required_by': {'name': ('resource_group', 'vault_type')},
}


class StateSpec(dict):
    """The argument spec of a state module (state_argument_spec): the modules built on it return ``check_mode``
    (with_check_mode)."""


def state_argument_spec(options):
    """A state module's options besides the authentication ones: the vault it names (VAULT_REF_ARGSPEC), its own
    ``options``, and allow_irreversible, the consent to an irreversible change (counted only when the task itself
    writes it: _consent.py)."""
    return StateSpec(VAULT_REF_ARGSPEC, **options, allow_irreversible={'type': 'bool', 'default': False})


def with_check_mode(result, check_mode):
    """``result`` saying whether the task ran in check mode (a state module's ``check_mode``, documented as returned always:
    harden_report refuses a result of another check mode than its plan's). The one place that sets it: outcome() for every
    result of a state module's work, through AnsiballZ (async, become, a remote host) and in process alike; the state
    modules' action plugin only for a result no module work made (its refusals before the module runs)."""
    return dict(result, check_mode=bool(check_mode))


# Which vaults a read-only module reads (_fleet.read_scope): one vault, or a scope of resource groups, subscriptions, all.
SCOPE_ARGSPEC = dict(VAULT_REF_ARGSPEC, **{
    'subscription_ids': {'type': 'list', 'elements': 'str'},
    'vault_types': {'type': 'list', 'elements': 'str', 'choices': list(VAULT_TYPES), 'default': list(VAULT_TYPES)},
    'tags': {'type': 'dict'},
    'max_concurrency': {'type': 'int', 'default': MAX_CONCURRENCY},
    'discovery': {'type': 'str', 'choices': list(DISCOVERY_CHOICES), 'default': DEFAULT_DISCOVERY},
})
SCOPE_EXCLUSIVE = VAULT_REF_EXCLUSIVE + [('id', 'subscription_ids')]
# The read-only modules of a scope (vault_immutability_info, vault_lock_readiness_info): one vault, or a scope.
SCOPE_CONSTRAINTS = {'mutually_exclusive': SCOPE_EXCLUSIVE}


def missing_library_message(package, controller=False):
    """What to do when a Python package the task needs is missing, where the task runs.

    controller: the task ran in the process of ansible-playbook (a local connection, plugin_utils/_module_action.py);
    otherwise the module ran through AnsiballZ in the target's Python (a remote host, async or become).
    """
    if controller:
        return ("Failed to import the required Python library (%s) in the Python that runs ansible-playbook (%s): over a local "
                "connection the collection's modules run in that process. Install the collection's requirements.txt in it "
                "(%s -m pip install -r requirements.txt)." % (package, sys.executable, sys.executable))
    return ("Failed to import the required Python library (%s) on %s's Python %s, where this task runs the module. Install the "
            "collection's requirements.txt there (%s -m pip install -r requirements.txt), or set ansible_python_interpreter to a "
            "Python of that host that has them, or run the task on localhost (connection: local, or delegate_to: localhost, "
            "without async or become): there it runs in the Python of ansible-playbook."
            % (package, platform.node() or 'the target', sys.executable, sys.executable))


def failure(exc, controller=False):
    """(msg, extra result keys) for a VaultlockError; controller: the task ran in the process of ansible-playbook."""
    if isinstance(exc, MissingLibraryError):
        return missing_library_message(exc.package, controller), {'exception': str(exc.exception)}
    extra = dict(exc.result) if isinstance(exc.result, dict) else {}
    extra.pop('msg', None)
    cause = exc.cause if isinstance(exc, PartialChangeError) else exc
    if isinstance(cause, AzureOperationError):
        extra['error'] = cause.as_dict()
    return (exc.describe() if isinstance(exc, AzureOperationError) else str(exc)), extra


def transport_notes(mod, result):
    """State in the result (and as a warning, through mod.warn) when TLS certificate validation was off for this task."""
    session = getattr(mod, '_session', None)
    try:
        insecure = session is not None and not session.verify
    except VaultlockError:
        # The session's settings could not be resolved (the failure being reported, say): nothing was sent.
        insecure = False
    if insecure:
        mod.warn(insecure_warning(mod.params))
        result['cert_validation_mode'] = 'ignore'
    return result


def outcome(mod, work, controller=False):
    """Call work(mod) -> (result, failed): the one place, for the module and for the controller path, that turns a
    VaultlockError into a failure with the result it carries, and adds the TLS note."""
    try:
        result = work(mod)
    except VaultlockError as exc:
        msg, extra = failure(exc, controller)
        if 'exception' in extra:
            return _noted(mod, dict(extra, msg=msg)), True
        return _noted(mod, transport_notes(mod, dict(extra, msg=msg))), True
    return _noted(mod, transport_notes(mod, result)), False


def _noted(mod, result):
    """A state module's result with its check_mode (with_check_mode); another module's as it is."""
    return with_check_mode(result, mod.check_mode) if getattr(mod, 'state_module', False) else result


class VaultlockModule:
    """AnsibleModule plus an AzureSession built on first use."""

    def __init__(self, argument_spec, **kwargs):
        spec = dict(AUTH_ARGSPEC)
        spec.update(argument_spec)
        kwargs.setdefault('supports_check_mode', True)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.diff_mode = self.module._diff
        self.state_module = isinstance(argument_spec, StateSpec)
        self._session = None

    @property
    def session(self):
        if self._session is None:
            self._session = AzureSession(self.params)
        return self._session

    def warn(self, message):
        self.module.warn(message)

    def run(self, work):
        """Call work(self) -> result dict and exit with it; a VaultlockError becomes fail_json, with the result it carries."""
        result, failed = outcome(self, work)
        if failed:
            self.module.fail_json(**result)
        self.module.exit_json(**result)

    def _transport_notes(self, result):
        return transport_notes(self, result)


def insecure_warning(params):
    """The warning of a task whose TLS certificate validation was off."""
    source = 'cert_validation_mode=ignore' if params.get('cert_validation_mode') == 'ignore' else 'AZURE_CERT_VALIDATION_MODE=ignore'
    return ('TLS certificate validation was off for this task (%s): the identity of the Azure endpoint was not verified, and a '
            'machine in the middle could read the token and the answers.' % source)
