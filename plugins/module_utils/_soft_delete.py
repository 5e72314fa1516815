# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Soft delete states and their API spellings (pure, no I/O); the changes Azure allows are the soft delete rule's
(_rules/soft_delete.py plan).

Users say off / on / always_on. The APIs say:
- Recovery Services vault (vault API and backup resource vault config API):
  Disabled / Enabled / AlwaysON (capital N; the SDK enum and the live service), for both
  softDeleteState (softDeleteFeatureState in the config API) and enhancedSecurityState;
  requests spelled AlwaysOn are accepted and answered AlwaysON (recording).
- Backup vault (DataProtection): Off / On / AlwaysOn; retentionDurationInDays is a float (14.0).
This is the one place where the vocabularies are mapped.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import BOOLEAN_HINT, InputError, shown, unquoted_hint

STATES = ('off', 'on', 'always_on')
# Strength order: a baseline is a minimum, always_on is stronger than on.
RANK = {'off': 0, 'on': 1, 'always_on': 2}
MIN_DAYS = 14
MAX_DAYS = 180
DEFAULT_DAYS = 14

_RS_TO_API = {'off': 'Disabled', 'on': 'Enabled', 'always_on': 'AlwaysON'}
_DP_TO_API = {'off': 'Off', 'on': 'On', 'always_on': 'AlwaysOn'}
_FROM_API = {
    'disabled': 'off', 'off': 'off',
    'enabled': 'on', 'on': 'on',
    'alwayson': 'always_on',
}


# Secure by default (Microsoft Learn, secure-by-default, 2025-11-10): "Soft delete is now enforced by default";
# "You can't disable soft delete in the regions where secure-by-default assurance is in preview or general
# availability". Backup vaults: general availability in Australia East, West Central US and East Asia; in the other
# regions "you still have the option to disable soft delete". Recovery Services vaults: general availability in all
# regions, where Azure sets soft delete to AlwaysON (hashicorp/terraform-provider-azurerm#31912), which this collection
# already never leaves; a vault still in the preview state is recognised by Azure's refusal (ENFORCED_CODES).
SECURE_BY_DEFAULT_REGIONS = {'backup': ('australiaeast', 'westcentralus', 'eastasia'), 'recovery_services': ()}
# Azure's answer to disabling soft delete that secure by default enforces (backup resource vault config API):
# ansible-collections/azure#2290 and Azure/azure-cli#32383 quote it.
ENFORCED_CODES = ('bmsusererrordisablingsoftdeletestatenotallowed',)


def _region(location):
    return str(location or '').strip().lower().replace(' ', '')


def enforced_by_azure(vault_type, location):
    """True when Azure enforces soft delete of a vault of this kind in this region (secure by default, GA)."""
    return _region(location) in SECURE_BY_DEFAULT_REGIONS.get(vault_type, ())


def enforced_message(label):
    return "soft delete of %s is enforced by Azure (secure by default) and cannot be turned off" % label


class SoftDeleteError(InputError):
    """A soft delete value or change that cannot be used. Raised before any request is sent."""


def normalise_choice(value, where='soft_delete'):
    """What a user wrote (case-insensitive; always-on / alwayson / always on accepted) -> off | on | always_on; None is
    None (not managed)."""
    if value is None:
        return None
    key = str(value).strip().lower().replace('-', '_').replace(' ', '_')
    if key == 'alwayson':
        key = 'always_on'
    if key not in STATES:
        raise SoftDeleteError("%s must be one of off, on, always_on or null; got %s%s" % (where, shown(value), unquoted_hint(value)))
    return key


def from_api(value):
    """Any API spelling (both kinds, AlwaysON and AlwaysOn) -> off | on | always_on.

    None when absent, and for "Invalid", which Azure answers for a setting that was never set (a vault created without
    soft delete settings, recorded). Anything else raises SoftDeleteError.
    """
    if value is None or value == '' or (isinstance(value, str) and value.strip().lower() == 'invalid'):
        return None
    state = _FROM_API.get(value.strip().lower()) if isinstance(value, str) else None
    if state is None:
        raise SoftDeleteError('unknown soft delete state %r' % (value,))
    return state


def to_api(vault_type, state):
    """State -> the API value of the vault kind (RS: Disabled/Enabled/AlwaysON, DP: Off/On/AlwaysOn)."""
    state = normalise_choice(state)
    if vault_type == 'recovery_services':
        return _RS_TO_API[state]
    if vault_type == 'backup':
        return _DP_TO_API[state]
    raise SoftDeleteError("unknown vault_type '%s'" % vault_type)


def settings_of(record):
    """The soft delete settings of a vault record (_vaults.vault_record): {'state', 'retention_days', 'enhanced_security'}.

    enhanced_security is the Recovery Services enhancedSecurityState (None for Backup vaults, which have no such
    setting). A day count Backup vaults report as a float (14.0) is a whole number here.
    """
    current = record.get('soft_delete') if isinstance(record.get('soft_delete'), dict) else {}
    days = current.get('retention_days')
    if isinstance(days, float) and days.is_integer():
        days = int(days)
    enhanced = record.get('enhanced_security') if record.get('vault_type') == 'recovery_services' else None
    return {'state': current.get('state'), 'retention_days': days, 'enhanced_security': enhanced}


def validate_days(days):
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise SoftDeleteError('retention_days must be a whole number of days between %d and %d; got %s%s'
                              % (MIN_DAYS, MAX_DAYS, shown(days), BOOLEAN_HINT if isinstance(days, bool) else ''))
    return days


def differences(vault_type, settings, target):
    """Settings (from a re-read) that still differ from the target: [(setting, have, want), ...]."""
    out = []
    if settings.get('state') != target['state']:
        out.append(('soft_delete', settings.get('state'), target['state']))
    if vault_type == 'recovery_services' and settings.get('enhanced_security') != target['enhanced_security']:
        out.append(('enhanced_security', settings.get('enhanced_security'), target['enhanced_security']))
    if target['state'] != 'off' and settings.get('retention_days') != target['retention_days']:
        out.append(('soft_delete_retention_days', settings.get('retention_days'), target['retention_days']))
    return out
