# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Results tell the truth: partial failures, writes sent around someone else's change, irreversible writes never twice,
policy PUTs with an unknown outcome settled by a re-read. Scripted stores stand in for Azure here; the same paths run
against the emulator in tests/integration/test_truthful_results.py."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, PartialChangeError
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import RecoveryServicesBackend, VaultRef
from ansible_collections.vaultlock.azure.plugins.module_utils._state.immutability import apply
from tests.unit.builders import SUB

REF = VaultRef(SUB, 'rg', 'rsv-1', 'recovery_services')
LOCK = {'immutability': 'locked', 'immutability_retention_days': None, 'allow_irreversible': True}


def vault(state):
    return {'id': REF.id, 'name': REF.name, 'properties': {'provisioningState': 'Succeeded', 'securitySettings': {
        'immutabilitySettings': {'state': state}}}}


class Store(RecoveryServicesBackend):
    """A vault whose state moves as scripted: each PATCH applies its state unless an outcome says otherwise."""

    def __init__(self, state, outcomes=(), meddle=None):
        super().__init__(type('Session', (), {'settings': {'wait_timeout': 1}})())
        self.state = state
        self.outcomes = list(outcomes)
        self.meddle = dict(meddle or {})   # after PATCH number n, someone else sets this state
        self.sent = []

    def get(self, ref):
        return vault(self.state)

    def patch(self, ref, body, operation, **kwargs):
        wanted = body['properties']['securitySettings']['immutabilitySettings']['state']
        self.sent.append(wanted)
        outcome = self.outcomes.pop(0) if self.outcomes else 'ok'
        failure = outcome if isinstance(outcome, AzureOperationError) else None
        if outcome in ('ok', 'applied-then-error'):
            self.state = wanted
        if outcome == 'applied-then-error':
            failure = AzureOperationError(operation, ref.label, None, 'UntrustedEndpoint', 'status link refused')
        if len(self.sent) in self.meddle:
            self.state = self.meddle[len(self.sent)]
        if failure is not None:
            raise failure
        return vault(self.state)


def record(store):
    return store.read_settled(REF)[1]


def test_every_write_sent_is_listed_when_someone_else_changes_the_vault_between_steps():
    store = Store('Disabled', meddle={1: 'Disabled'})   # someone disables it again right after our first step
    after, sent = apply(store, REF, LOCK, record(store))
    assert store.sent == ['Unlocked', 'Unlocked', 'Locked']
    assert [(c['before'], c['after'], c['irreversible']) for c in sent] == [
        ('disabled', 'enabled', False), ('disabled', 'enabled', False), ('enabled', 'locked', True)]
    assert after['immutability'] == 'locked'


def test_someone_else_locking_between_steps_leaves_one_write():
    store = Store('Disabled', meddle={1: 'Locked'})
    after, sent = apply(store, REF, LOCK, record(store))
    assert store.sent == ['Unlocked'] and [c['after'] for c in sent] == ['enabled'] and after['immutability'] == 'locked'


def test_a_later_step_failing_reports_changed_with_what_happened():
    refused = AzureOperationError('update immutability', REF.label, 400, 'UserErrorSomething', 'refused')
    store = Store('Disabled', outcomes=['ok', refused])
    with pytest.raises(PartialChangeError) as err:
        apply(store, REF, LOCK, record(store))
    assert err.value.result['changed'] is True
    assert err.value.result['changes'] == [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled', 'irreversible': False}]
    assert err.value.result['vault']['immutability'] == 'enabled'
    assert 'UserErrorSomething' in str(err.value)


def test_a_failed_step_that_a_re_read_shows_applied_is_listed_too():
    store = Store('Unlocked', outcomes=['applied-then-error'])
    with pytest.raises(PartialChangeError) as err:
        apply(store, REF, LOCK, record(store))
    assert [c['after'] for c in err.value.result['changes']] == ['locked'] and err.value.result['changed'] is True


def test_a_first_step_refused_changes_nothing():
    refused = AzureOperationError('update immutability', REF.label, 400, 'UserErrorSomething', 'refused')
    store = Store('Disabled', outcomes=[refused])
    with pytest.raises(PartialChangeError) as err:
        apply(store, REF, LOCK, record(store))
    assert err.value.result['changed'] is False and err.value.result['changes'] == []


def test_an_irreversible_write_with_an_unknown_outcome_is_never_sent_twice():
    lost = AzureOperationError('update immutability', REF.label, None, 'ConnectionError', 'connection broke')
    store = Store('Unlocked', outcomes=[lost])
    with pytest.raises(PartialChangeError) as err:
        apply(store, REF, LOCK, record(store))
    assert store.sent == ['Locked']
    assert 'never sent twice' in str(err.value) and err.value.result['changed'] is False


def test_a_reversible_write_with_an_unknown_outcome_is_re_read_then_sent_once_more():
    lost = AzureOperationError('update immutability', REF.label, 503, 'ServiceUnavailable', 'busy')
    store = Store('Disabled', outcomes=[lost])
    after, sent = apply(store, REF, dict(LOCK, immutability='enabled'), record(store))
    assert store.sent == ['Unlocked', 'Unlocked'] and after['immutability'] == 'enabled' and len(sent) == 1


# --------------------------------------------------------------------------- policies

class PolicyStore(RecoveryServicesBackend):
    def __init__(self, outcomes, reads):
        super().__init__(type('Session', (), {'settings': {'wait_timeout': 1}})())
        self.outcomes = list(outcomes)
        self.reads = list(reads)
        self.calls = []

    def put_policy(self, ref, name, body):
        self.calls.append('PUT')
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def get_policy(self, ref, name):
        self.calls.append('GET')
        return self.reads.pop(0)


UNKNOWN = AzureOperationError('update backup policy', 'p', 500, 'InternalServerError', 'oops')


def is_(value):
    return lambda policy: policy == value


@pytest.mark.parametrize('reads, irreversible, calls, ok', [
    (['new'], False, ['PUT', 'GET'], True),                 # applied: nothing more is sent
    (['old'], False, ['PUT', 'GET', 'PUT'], True),          # not applied, unchanged: sent once more
    (['old'], True, ['PUT', 'GET'], False),                 # ... unless irreversible (a raise on a Locked vault)
    (['someone else'], False, ['PUT', 'GET'], False),       # changed meanwhile: never overwritten blindly
])
def test_policy_put_with_unknown_outcome_is_settled_by_a_re_read(reads, irreversible, calls, ok):
    store = PolicyStore([UNKNOWN, 'new'], reads)
    if ok:
        assert store.reconcile_policy(REF, 'p', {}, is_('new'), is_('old'), irreversible) == 'new'
    else:
        with pytest.raises(AzureOperationError, match='fresh read'):
            store.reconcile_policy(REF, 'p', {}, is_('new'), is_('old'), irreversible)
    assert store.calls == calls


def test_policy_put_timed_out_is_never_sent_again():
    store = PolicyStore([AzureOperationError('update backup policy', 'p', None, 'OperationTimedOut', 'slow')], ['old'])
    with pytest.raises(AzureOperationError, match='may still be working'):
        store.reconcile_policy(REF, 'p', {}, is_('new'), is_('old'))
    assert store.calls == ['PUT', 'GET']
