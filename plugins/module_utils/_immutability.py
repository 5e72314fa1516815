# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Immutability states and the transitions Azure allows between them (pure, no I/O).

Users say disabled / enabled / locked; the API says Disabled / Unlocked / Locked.
This is the one place where the two vocabularies are mapped.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import VAULT_TYPES, vault_label

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
            "%s must be one of disabled, enabled (alias unlocked), locked or null; got '%s'" % (where, value))
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


def plan_transition(vault_type, current, desired, allow_irreversible=False, vault_name='?'):
    """Return the list of steps [(before, after), ...] that take a vault from current to desired.

    A locked vault satisfies ``enabled``: Locked is Enabled that can no longer be turned off, so there is nothing to do
    (a view that saw the vault Disabled, Resource Graph lagging ARM, say, must not fail a vault that meets the baseline).

    Raises TransitionError, before any request is sent, when:
    - the vault is locked and ``disabled`` is asked for (locked is irreversible);
    - locked is asked for without allow_irreversible (locking cannot be undone).

    Both vault kinds go disabled -> enabled -> locked in two requests: Azure refuses
    Disabled -> Locked in one Recovery Services request
    (UserErrorUnsupportedVaultImmutabilityStateChange), and the only Backup vault lock
    on record (az CLI recording) went through Unlocked too.
    """
    if vault_type not in VAULT_TYPES:
        raise ImmutabilityError("unknown vault_type '%s'" % vault_type)
    current = normalise_choice(current) or 'disabled'
    desired = normalise_choice(desired)
    label = vault_label(vault_type, vault_name)
    if desired is None or desired == current or (current == 'locked' and desired == 'enabled'):
        return []
    if current == 'locked':
        raise TransitionError(
            "%s has immutability Locked and %s was requested: Locked is irreversible, "
            "Azure never unlocks or disables an immutable vault once it is locked." % (label, desired))
    if desired == 'locked':
        if not allow_irreversible:
            raise TransitionError(
                "Locking immutability of %s cannot be undone: once Locked it can never be disabled or unlocked, "
                "and backup retention can no longer be reduced. Set allow_irreversible=true to consent." % label)
        if current == 'disabled':
            return [('disabled', 'enabled'), ('enabled', 'locked')]
        return [('enabled', 'locked')]
    return [(current, desired)]
