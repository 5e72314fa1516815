# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transition planner over every current state x requested state x consent x kind."""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._immutability import (
    RANK,
    ImmutabilityError,
    TransitionError,
    from_api,
    normalise_choice,
    to_api,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.immutability import plan_transition

KINDS = ('recovery_services', 'backup')
STATES = ('disabled', 'enabled', 'locked')

# (current, desired, consent) -> expected steps, or the error text expected. Written by hand.
EXPECTED = {
    ('disabled', 'disabled', False): [],
    ('disabled', 'disabled', True): [],
    ('disabled', 'enabled', False): [('disabled', 'enabled')],
    ('disabled', 'enabled', True): [('disabled', 'enabled')],
    ('disabled', 'locked', False): 'cannot be undone',
    ('disabled', 'locked', True): [('disabled', 'enabled'), ('enabled', 'locked')],
    ('enabled', 'disabled', False): [('enabled', 'disabled')],
    ('enabled', 'disabled', True): [('enabled', 'disabled')],
    ('enabled', 'enabled', False): [],
    ('enabled', 'enabled', True): [],
    ('enabled', 'locked', False): 'cannot be undone',
    ('enabled', 'locked', True): [('enabled', 'locked')],
    ('locked', 'disabled', False): 'irreversible',
    ('locked', 'disabled', True): 'irreversible',
    # Locked satisfies enabled (issue 25): nothing to do, never a failure.
    ('locked', 'enabled', False): [],
    ('locked', 'enabled', True): [],
    ('locked', 'locked', False): [],
    ('locked', 'locked', True): [],
}


@pytest.mark.parametrize('kind,current,desired,consent',
                         [(k, c, d, a) for k, (c, d, a) in itertools.product(KINDS, EXPECTED)])
def test_every_transition(kind, current, desired, consent):
    expected = EXPECTED[(current, desired, consent)]
    if isinstance(expected, str):
        with pytest.raises(TransitionError) as err:
            plan_transition(kind, current, desired, consent, 'vault-a')
        assert expected in str(err.value)
        assert "'vault-a'" in str(err.value)
    else:
        assert plan_transition(kind, current, desired, consent, 'vault-a') == expected


def test_leaving_locked_names_both_states_and_vault_kind():
    with pytest.raises(TransitionError) as err:
        plan_transition('recovery_services', 'locked', 'disabled', True, 'rsv-1')
    text = str(err.value)
    assert 'Recovery Services vault' in text and 'Locked' in text and 'disabled' in text


def test_unlocked_is_an_alias_and_none_means_unmanaged():
    assert plan_transition('backup', 'disabled', 'unlocked') == [('disabled', 'enabled')]
    assert plan_transition('backup', 'locked', None) == []


@pytest.mark.parametrize('api,state', [('Disabled', 'disabled'), ('Unlocked', 'enabled'), ('Locked', 'locked'),
                                       ('UnLocked', 'enabled'), ('locked', 'locked'), (None, 'disabled'), ('', 'disabled')])
def test_from_api(api, state):
    assert from_api(api) == state


def test_to_api_and_back():
    for state in STATES:
        assert from_api(to_api(state)) == state
    assert to_api('unlocked') == 'Unlocked'


def test_missing_settings_mean_disabled():
    # A vault that never had immutability set returns no immutabilitySettings (recordings).
    assert from_api(None) == 'disabled'
    assert from_api('') == 'disabled'
    assert from_api('Locked') == 'locked'


@pytest.mark.parametrize('bad', ['lock', 'ENABLEDX', '', 'on'])
def test_bad_choices(bad):
    with pytest.raises(ImmutabilityError):
        if bad == '':
            from_api('Sometimes')
        else:
            normalise_choice(bad)


def test_unknown_kind():
    with pytest.raises(ImmutabilityError):
        plan_transition('storage', 'disabled', 'enabled')


def test_strength_order():
    assert RANK['locked'] > RANK['enabled'] > RANK['disabled']
