# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The ``azure_policy`` baseline preset (pure): the baseline that meets every vault-level Azure Backup built-in definition
of a run's Azure Policy section, with its parameters.

The preset raises a baseline, never lowers it: each setting takes the stricter of what the role's variables ask and what
the definitions need (``locked`` over ``enabled``, ``always_on`` over ``on``, ``permanently_disabled`` over
``disabled``, the allowed redundancies narrowed). Irreversible targets (Locked, AlwaysOn, PermanentlyDisabled) still need
``harden_backup_vaults_allow_irreversible``: without it they stay findings that name it. What no baseline value can
make true stays a finding a person acts on: customer-managed keys, private endpoints and a vault's redundancy are
reported, and multi-user authorization needs the Resource Guard a person chooses (harden_backup_vaults_resource_guard_id).
A definition whose effect is Disabled asks for nothing.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._policy import DEFINITIONS_BY_SETTING

PRESETS = ('azure_policy',)
# The key of a preset baseline listing the settings the preset raised to an irreversible target (_targets.check_baseline).
PRESET_DEFERRED = 'preset_irreversible'
_IRREVERSIBLE = {'immutability': 'locked', 'soft_delete': 'always_on', 'cross_subscription_restore': 'permanently_disabled'}

# Baseline values from the weakest to the strictest.
_ORDER = {
    'immutability': ('disabled', 'enabled', 'locked'),
    'soft_delete': ('off', 'on', 'always_on'),
    'cross_subscription_restore': ('enabled', 'disabled', 'permanently_disabled'),
}
_REDUNDANCIES = ('GeoRedundant', 'ZoneRedundant', 'LocallyRedundant')
# The settings each definition checks (the map the findings use to name their definitions, read the other way).
_SETTINGS_OF = {}
for (_setting, _kind), _names in DEFINITIONS_BY_SETTING.items():
    for _name in _names:
        _SETTINGS_OF.setdefault(_name, set()).add(_setting)


def _stricter(setting, have, want):
    order = _ORDER[setting]
    have_key = str(have).lower() if have is not None else None
    if have_key in order and order.index(have_key) >= order.index(want):
        return have_key
    return want


def needs(assignments):
    """``{baseline key: value}`` the definitions of ``assignments`` (``[(definition, parameters)]``, as
    _policy.check_assignments returns them) need; definitions whose effect is Disabled need nothing."""
    out = {}
    for definition, params in assignments:
        if str(params.get('effect', '')).lower() == 'disabled':
            continue
        settings = _SETTINGS_OF.get(definition['name'], ())
        if 'immutability' in settings:
            out['immutability'] = _stricter('immutability', out.get('immutability'),
                                            'locked' if params.get('checkLockedImmutabilityOnly') else 'enabled')
        if 'soft_delete' in settings:
            out['soft_delete'] = _stricter('soft_delete', out.get('soft_delete'),
                                           'always_on' if params.get('checkAlwaysOnSoftDeleteOnly') else 'on')
        if 'cross_subscription_restore' in settings:
            wanted = str(params.get('crossSubscriptionRestoreStateParameter') or 'Disabled')
            out['cross_subscription_restore'] = _stricter('cross_subscription_restore', out.get('cross_subscription_restore'),
                                                          'permanently_disabled' if wanted.lower() == 'permanentlydisabled' else 'disabled')
        if 'public_network_access' in settings:
            out['public_network_access'] = 'disabled'
        if 'customer_managed_keys' in settings:
            out['customer_managed_keys'] = 'required'
            if params.get('checkInfrastructureEncryption') or params.get('enableDoubleEncryption'):
                out['infrastructure_encryption'] = 'required'
        if 'private_endpoints' in settings:
            out['private_endpoints'] = 'required'
        if 'storage_redundancy' in settings:
            denied = str(params.get('BackupStorageRedundancy') or '')
            allowed = [value for value in out.get('storage_redundancy') or _REDUNDANCIES if value.lower() != denied.lower()]
            out['storage_redundancy'] = allowed
    return out


def apply_preset(baseline, assignments):
    """The role's baseline (harden_plan's ``baseline`` option, before it is checked) raised to what the definitions need."""
    need = needs(assignments)
    out = dict(baseline)
    before = dict((key, _target(out.get(key), key)) for key in _IRREVERSIBLE)
    for key, value in need.items():
        have = out.get(key)
        if key == 'soft_delete':
            current = dict(have) if isinstance(have, dict) else {}
            current['state'] = _stricter('soft_delete', current.get('state'), value)
            out[key] = current
        elif key in _ORDER:
            out[key] = _stricter(key, have, value)
        elif key == 'storage_redundancy':
            given = [have] if isinstance(have, str) else list(have or [])
            if given:
                value = [v for v in value if v.lower() in [str(g).lower().replace('_', '') for g in given]]
                if not value:
                    raise InputError('harden_backup_vaults_storage_redundancy allows only %s, which the Azure Policy definition '
                                     'of the azure_policy preset denies: allow another redundancy, or set the definition\'s '
                                     'BackupStorageRedundancy parameter (harden_backup_vaults_azure_policy)' % ', '.join(map(str, given)))
            out[key] = value
        else:
            out[key] = value
    # Raised to an irreversible target here, not by the variables: without consent a finding naming
    # harden_backup_vaults_allow_irreversible (check_baseline defers it), never a refusal of the whole run.
    out[PRESET_DEFERRED] = [key for key, target in _IRREVERSIBLE.items()
                            if _target(out.get(key), key) == target and before[key] != target]
    return out


def _target(value, key):
    if key == 'soft_delete':
        value = value.get('state') if isinstance(value, dict) else None
    return str(value).lower() if value is not None else None
