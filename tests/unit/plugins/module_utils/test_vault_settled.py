# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rule every write follows (_vaults.SETTLED_STATE): a vault may be written to only while a fresh read says
provisioningState Succeeded, in any case; any other value, and none at all, is an operation that may still be running."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import (
    VaultBusyError,
    VaultRef,
    check_settled,
    unsettled_state,
)
from tests.unit.builders import SUB
from tests.unit.plugins.module_utils.test_vaults_writes import FakeBackend, applied_when

REF = VaultRef(SUB, 'rg', 'rsv-1', 'recovery_services')


@pytest.mark.parametrize('state', ['Succeeded', 'succeeded', 'SUCCEEDED'])
def test_succeeded_in_any_case_is_settled(state):
    assert unsettled_state(state) is None
    check_settled(REF.label, state)


@pytest.mark.parametrize('state,named', [('Updating', 'Updating'), ('Provisioning', 'Provisioning'), ('Failed', 'Failed'),
                                         ('Unknown', 'Unknown'), ('Succeeded\n', "'Succeeded\\n'"), (' Succeeded', "' Succeeded'"),
                                         ('Deleting\x1b', "'Deleting\\x1b'"), (None, ''), ('', ''), ('  ', ''), (5, '5')])
def test_anything_else_is_not_settled_and_names_what_was_read(state, named):
    assert unsettled_state(state) == named


@pytest.mark.parametrize('state,named', [
    ('Updating\u202eSucceeded', "'Updating\\u202eSucceeded'"),    # a right-to-left override reorders the message
    ('Succeeded\u200b', "'Succeeded\\u200b'"),                    # read as 'Succeeded, not Succeeded'
    ('Succeeded\u00a0', "'Succeeded\\xa0'"),
])
def test_a_state_with_characters_that_show_nothing_or_reorder_text_is_escaped(state, named):
    """Before, only control characters were escaped: U+202E and U+200B reached the message as they were."""
    assert unsettled_state(state) == named
    with pytest.raises(VaultBusyError) as err:
        check_settled(REF.label, state)
    assert named in str(err.value) and state not in str(err.value)


@pytest.mark.parametrize('state', [['Succeeded'], {'state': 'Succeeded'}, True, 1.5, 'Succeeded' * 2000])
def test_a_state_that_is_no_word_is_refused_and_the_message_stays_short(state):
    with pytest.raises(VaultBusyError) as err:
        check_settled(REF.label, state)
    assert len(str(err.value)) < 500 and 'nothing was sent' in str(err.value)


def test_the_refusal_names_the_vault_the_state_and_what_to_do():
    with pytest.raises(VaultBusyError) as err:
        check_settled(REF.label, 'Updating')
    msg = str(err.value)
    assert REF.label in msg and 'provisioningState Updating' in msg
    assert 'nothing was sent' in msg and 'Wait until the operation has finished' in msg and 'then run again' in msg


def test_no_provisioning_state_is_refused_and_says_so():
    """Every vault Azure answered in the recordings (every api-version) carries provisioningState: a read without one cannot
    say that no operation is running."""
    with pytest.raises(VaultBusyError, match='reads no provisioningState'):
        check_settled(REF.label, None)


def test_read_settled_refuses_a_vault_without_provisioning_state_and_read_existing_reads_it():
    body = {'id': REF.id, 'properties': {'securitySettings': {'immutabilitySettings': {'state': 'Unlocked'}}}}
    backend = FakeBackend([], [body, body])
    with pytest.raises(VaultBusyError):
        backend.read_settled(REF)
    assert backend.read_existing(REF)[1]['immutability'] == 'enabled'


def test_a_write_of_unknown_outcome_is_not_sent_again_when_the_vault_reads_no_provisioning_state():
    """Before, an absent value counted as Succeeded and the write went out a second time."""
    body = {'id': REF.id, 'properties': {'securitySettings': {'immutabilitySettings': {'state': 'Disabled'}}}}
    backend = FakeBackend([AzureOperationError('update', status=503, code='ServiceUnavailable', message='busy')], [body])
    with pytest.raises(AzureOperationError, match='reads no provisioningState and the outcome is unknown'):
        backend.reconcile_patch(REF, {}, 'update immutability', applied_when('Unlocked'))
    assert backend.calls == ['PATCH', 'GET']
