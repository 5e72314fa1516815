# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes with an unknown outcome: wait_timeout, re-read before any retry, never repeat blindly."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import RecoveryServicesBackend, VaultRef
from tests.unit.builders import SUB

REF = VaultRef(SUB, 'rg', 'rsv-1', 'recovery_services')


class Session:
    settings = {'wait_timeout': 1}


class Poller:
    def __init__(self, done):
        self._done = done
        self.waited = None

    def wait(self, timeout=None):
        self.waited = timeout

    def done(self):
        return self._done

    def result(self):
        return {'id': REF.id}


class FakeBackend(RecoveryServicesBackend):
    """Scripted answers instead of SDK calls."""

    def __init__(self, patches, reads):
        super().__init__(Session())
        self.patches = list(patches)
        self.reads = list(reads)
        self.calls = []

    def patch(self, ref, body, operation, **kwargs):
        self.calls.append('PATCH')
        outcome = self.patches.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def get(self, ref):
        self.calls.append('GET')
        return self.reads.pop(0)


def vault(state, provisioning='Succeeded'):
    return {'id': REF.id, 'properties': {'provisioningState': provisioning,
                                         'securitySettings': {'immutabilitySettings': {'state': state}}}}


def applied_when(state):
    return lambda raw: raw['properties']['securitySettings']['immutabilitySettings']['state'] == state


def test_wait_timeout_gives_a_clear_unknown_state_error():
    backend = RecoveryServicesBackend(Session())
    poller = Poller(done=False)
    with pytest.raises(AzureOperationError) as err:
        backend._wait(poller, 'update immutability', REF)  # pylint: disable=protected-access
    assert poller.waited == 1
    assert err.value.code == 'OperationTimedOut'
    assert 'wait_timeout=1s' in err.value.describe() and 'unknown' in err.value.describe()


def test_unknown_outcome_already_applied_is_not_sent_again():
    backend = FakeBackend([AzureOperationError('update', status=500, code='InternalServerError')], [vault('Locked')])
    backend.reconcile_patch(REF, {}, 'update immutability', applied_when('Locked'))
    assert backend.calls == ['PATCH', 'GET']


def test_unknown_outcome_not_applied_is_re_read_then_sent_once_more():
    backend = FakeBackend([AzureOperationError('update', code='ConnectionError'), vault('Locked')], [vault('Unlocked')])
    backend.reconcile_patch(REF, {}, 'update immutability', applied_when('Locked'))
    assert backend.calls == ['PATCH', 'GET', 'PATCH']


def test_timed_out_operation_not_applied_is_never_repeated():
    backend = FakeBackend([AzureOperationError('update', code='OperationTimedOut')], [vault('Unlocked')])
    with pytest.raises(AzureOperationError, match='OperationTimedOut'):
        backend.reconcile_patch(REF, {}, 'update immutability', applied_when('Locked'))
    assert backend.calls == ['PATCH', 'GET']


def test_vault_still_updating_is_reported_not_retried():
    backend = FakeBackend([AzureOperationError('update', status=503, code='ServiceUnavailable', message='busy')],
                          [vault('Unlocked', 'Updating')])
    with pytest.raises(AzureOperationError, match='Updating and the outcome is unknown'):
        backend.reconcile_patch(REF, {}, 'update immutability', applied_when('Locked'))
    assert backend.calls == ['PATCH', 'GET']


def test_rejected_write_is_not_retried():
    backend = FakeBackend([AzureOperationError('update', status=400, code='UserErrorUnsupportedVaultImmutabilityStateChange')], [])
    with pytest.raises(AzureOperationError):
        backend.reconcile_patch(REF, {}, 'update immutability', applied_when('Locked'))
    assert backend.calls == ['PATCH']
