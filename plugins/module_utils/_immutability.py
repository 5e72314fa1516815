# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Immutability states and their API spellings (pure, no I/O); the transitions are the immutability rule's
(_rules/immutability.py plan_transition).

Users say disabled / enabled / locked; the API says Disabled / Unlocked / Locked.
This is the one place where the two vocabularies are mapped.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError, shown, unquoted_hint

STATES = ('disabled', 'enabled', 'locked')

# Strength order: a baseline is a minimum, locked is stronger than enabled.
RANK = {'disabled': 0, 'enabled': 1, 'locked': 2}

_TO_API = {'disabled': 'Disabled', 'enabled': 'Unlocked', 'locked': 'Locked'}
_FROM_API = {'disabled': 'disabled', 'unlocked': 'enabled', 'locked': 'locked'}


class ImmutabilityError(VaultlockError, ValueError):
    """An immutability value or transition that cannot be used."""


class TransitionError(ImmutabilityError):
    """A requested change that Azure (or the consent rules) does not allow."""


def normalise_choice(value, where='immutability'):
    """Map what a user wrote (case-insensitive, 'unlocked' alias) to a state name; None is None (not managed)."""
    if value is None:
        return None
    key = str(value).strip().lower()
    if key == 'unlocked':
        return 'enabled'
    if key not in STATES:
        raise ImmutabilityError(
            "%s must be one of disabled, enabled (alias unlocked), locked or null; got %s%s" % (where, shown(value), unquoted_hint(value)))
    return key


def to_api(state):
    """State name -> the API value (Disabled / Unlocked / Locked)."""
    return _TO_API[normalise_choice(state)]


def from_api(value):
    """API value -> state name. A vault that never had immutability set returns no value: disabled."""
    if value is None or value == '':
        return 'disabled'
    key = str(value).strip().lower()
    if key not in _FROM_API:
        raise ImmutabilityError("Azure returned an unknown immutability state '%s'" % value)
    return _FROM_API[key]
