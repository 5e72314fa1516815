# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The module base: the shared auth argument spec, the Azure session, and one place that turns
errors into fail_json. Modules build a VaultlockModule and hand it a function that does the work."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vaultlock.azure.plugins.module_utils._client import AUTH_SOURCES, AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    MissingLibraryError,
    PartialChangeError,
    VaultlockError,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._immutability import ImmutabilityError

# Keep in sync with plugins/doc_fragments/azure_auth.py (ansible-test validate-modules checks it).
AUTH_ARGSPEC = {
    'auth_source': {'type': 'str', 'choices': list(AUTH_SOURCES)},  # default: ANSIBLE_AZURE_AUTH_SOURCE, else auto
    'subscription_id': {'type': 'str'},
    'client_id': {'type': 'str'},
    'secret': {'type': 'str', 'no_log': True},
    'tenant': {'type': 'str'},
    'certificate_path': {'type': 'path'},
    'certificate_password': {'type': 'str', 'no_log': True},
    'cloud_environment': {'type': 'str'},
    'cert_validation_mode': {'type': 'str', 'choices': ['validate', 'ignore']},
    'profile': {'type': 'str'},
    'api_retries': {'type': 'int'},
    'api_timeout': {'type': 'int'},
    'polling_interval': {'type': 'float'},
    'wait_timeout': {'type': 'int'},
}

# How a task names one vault; keep in sync with plugins/doc_fragments/vault_ref.py.
VAULT_REF_ARGSPEC = {
    'id': {'type': 'str'},
    'name': {'type': 'str'},
    'resource_group': {'type': 'str'},
    'vault_type': {'type': 'str', 'choices': ['recovery_services', 'backup']},
}
VAULT_REF_EXCLUSIVE = [('id', 'name'), ('id', 'resource_group')]


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
        self._session = None

    @property
    def session(self):
        if self._session is None:
            self._session = AzureSession(self.params)
        return self._session

    def warn(self, message):
        self.module.warn(message)

    def run(self, work):
        """Call work(self) -> result dict, exit with it; every known failure becomes fail_json."""
        try:
            result = work(self)
        except PartialChangeError as exc:
            extra = dict(exc.result)
            if isinstance(exc.cause, AzureOperationError):
                extra['error'] = exc.cause.as_dict()
            self.module.fail_json(msg=str(exc), **self._transport_notes(extra))
        except MissingLibraryError as exc:
            self.module.fail_json(msg=missing_required_lib(exc.package) + ' (pip install -r requirements.txt from the collection)',
                                  exception=str(exc.exception))
        except AzureOperationError as exc:
            self.module.fail_json(msg=exc.describe(), **self._transport_notes({'error': exc.as_dict()}))
        except (VaultlockError, ImmutabilityError) as exc:
            self.module.fail_json(msg=str(exc), **self._transport_notes({}))
        self.module.exit_json(**self._transport_notes(result))

    def _transport_notes(self, result):
        """State in the result (and as a warning) when TLS certificate validation was off for this task."""
        if self._session is not None and not self._session.verify:
            source = 'cert_validation_mode=ignore' if self.params.get('cert_validation_mode') == 'ignore' \
                else 'AZURE_CERT_VALIDATION_MODE=ignore'
            self.module.warn('TLS certificate validation was off for this task (%s): the identity of the Azure endpoint was '
                             'not verified, and a machine in the middle could read the token and the answers.' % source)
            result['cert_validation_mode'] = 'ignore'
        return result
