# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of hardening rules (module_utils/_rules): one file per setting, and the layers that loop over it."""

from __future__ import annotations

import pathlib

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils import _rules
from ansible_collections.vaultlock.azure.plugins.module_utils._consent import SCOPED_TARGETS, ConsentError, scope_arguments
from ansible_collections.vaultlock.azure.plugins.module_utils._drift import validate_baseline, vault_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import RULES as SARIF_RULES
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import Rule, Setting
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import TargetError, check_baseline
from tests.unit.builders import SECURITY_ACTIONS_NULL, SECURITY_BASELINE_KEYS

VID = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v'


def test_one_file_per_rule_and_every_file_registered():
    folder = pathlib.Path(_rules.__file__).parent
    files = sorted(p.stem for p in folder.glob('*.py') if not p.stem.startswith('_'))
    assert files == sorted(rule.__class__.__module__.rsplit('.', 1)[-1] for rule in _rules.RULES)
    assert [rule.key for rule in _rules.RULES] == ['immutability', 'soft_delete', 'retention', 'resource_guard_id', 'cross_subscription_restore',
                                                   'public_network_access', 'alerts', 'customer_managed_keys',
                                                   'infrastructure_encryption', 'private_endpoints', 'storage_redundancy',
                                                   'cross_region_restore']
    for rule in _rules.RULES:
        assert isinstance(rule, Rule) and all(isinstance(s, Setting) for s in rule.settings)


def test_the_registry_gives_report_order_and_apply_order():
    assert _rules.SETTING_NAMES == ('immutability', 'soft_delete', 'soft_delete_retention_days', 'retention', 'mua') + SECURITY_BASELINE_KEYS
    assert [rule.action for rule in _rules.applied()] == ['raise_policies', 'soft_delete', 'cross_subscription_restore',
                                                          'public_network_access', 'alerts', 'resource_guard', 'immutability']
    assert _rules.TASKS == ('immutability', 'soft_delete', 'retention', 'resource_guard', 'cross_subscription_restore',
                            'public_network_access', 'alerts')
    assert [rule[0] for rule in SARIF_RULES] == list(_rules.SETTING_NAMES)


def test_irreversible_values_are_each_rules_own():
    irreversible = dict((rule.key, rule.irreversible) for rule in _rules.RULES if rule.irreversible)
    assert irreversible == {'immutability': ('locked',), 'soft_delete': ('always_on',),
                            'cross_subscription_restore': ('permanently_disabled',)}
    soft_delete = _rules.soft_delete.RULE
    assert [soft_delete.is_irreversible(v) for v in ('always_on', 'AlwaysOn', 'always-on', 'always on', 'on', 'bogus', None)] == [
        True, True, True, True, False, False, False]
    normalised = validate_baseline({'immutability': 'locked', 'soft_delete': {'state': 'always_on'}, 'allow_irreversible': True})
    assert [t for rule in _rules.RULES for t in rule.irreversible_targets(normalised)] == [
        ('immutability', 'locked'), ('soft_delete.state', 'always_on')]


def test_every_spelling_of_an_irreversible_target_from_module_defaults_is_refused():
    with pytest.raises(ConsentError, match='soft_delete: always on comes from module_defaults'):
        scope_arguments('vault_soft_delete', {'id': VID, 'soft_delete': 'always on'}, {'id'})
    assert set(SCOPED_TARGETS) == {'vault_immutability', 'vault_soft_delete', 'backup_policy_retention', 'vault_security_settings'}
    with pytest.raises(ConsentError, match='cross_subscription_restore: Permanently-Disabled comes from module_defaults'):
        scope_arguments('vault_security_settings', {'id': VID, 'cross_subscription_restore': 'Permanently-Disabled'}, {'id'})


def test_a_baseline_asking_for_an_irreversible_value_needs_consent():
    with pytest.raises(TargetError, match=r'^harden_backup_vaults_soft_delete\.state: always_on is irreversible: set'):
        check_baseline({'soft_delete': {'state': 'AlwaysOn'}})


def test_a_rule_without_a_baseline_key_still_adds_to_the_entry():
    entry = vault_drift({'id': VID, 'name': 'v', 'vault_type': 'recovery_services',
                         'mua': {'protected': True, 'resource_guard_id': None}}, validate_baseline({}))
    assert entry['mua'] == {'protected': True, 'resource_guard_id': None}
    assert entry['actions'] == dict({'immutability': None, 'soft_delete': None, 'raise_policies': []}, **SECURITY_ACTIONS_NULL)
    assert list(entry)[-3:] == ['actions', 'changes', 'mua']
