# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_targets.weakened_baseline: which keys of a checked baseline are weaker than the role's defaults (Rule.weakens), and
_consent.weakening_refusal: the message refusing one that lowers vaults from a source not written for the run."""

from __future__ import annotations

import pathlib

import yaml

from ansible_collections.vaultlock.azure.plugins.module_utils._consent import weakening_refusal
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import RULES
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import check_baseline, weakened_baseline, weakened_warning

REPO = pathlib.Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((REPO / 'roles' / 'harden_backup_vaults' / 'defaults' / 'main.yml').read_text())


def role_baseline(**variables):
    """The baseline roles/harden_backup_vaults/vars/main.yml builds from the role's variables (its defaults, with
    ``variables`` over them)."""
    given = dict(DEFAULTS, **variables)
    minimum = given['harden_backup_vaults_retention_minimum']
    return {
        'immutability': given['harden_backup_vaults_immutability'],
        'allow_irreversible': bool(given['harden_backup_vaults_allow_irreversible']),
        'retention': {'minimum': minimum, 'mode': given['harden_backup_vaults_retention_mode']} if minimum else None,
        'soft_delete': given['harden_backup_vaults_soft_delete'] or None,
        'cross_subscription_restore': given['harden_backup_vaults_cross_subscription_restore'],
        'public_network_access': given['harden_backup_vaults_public_network_access'],
        'alerts': given['harden_backup_vaults_alerts'] or None,
        'customer_managed_keys': given['harden_backup_vaults_customer_managed_keys'],
        'infrastructure_encryption': given['harden_backup_vaults_infrastructure_encryption'],
        'private_endpoints': given['harden_backup_vaults_private_endpoints'],
        'storage_redundancy': given['harden_backup_vaults_storage_redundancy'] or None,
        'cross_region_restore': given['harden_backup_vaults_cross_region_restore'],
        'resource_guard_id': given['harden_backup_vaults_resource_guard_id'] or None,
        'tiers': given['harden_backup_vaults_baselines'] or [],
        'retention_mode': given['harden_backup_vaults_retention_mode'],
    }


def weakened(**variables):
    baseline = role_baseline(**variables)
    return weakened_baseline(check_baseline(baseline), baseline['tiers'])


def test_each_rule_compares_with_the_role_default_of_its_variable():
    """Rule.role_default is what defaults/main.yml gives the rule's variable, and the role's defaults weaken nothing."""
    for rule in RULES:
        if rule.key:
            assert rule.variable in DEFAULTS, rule.variable
            assert rule.role_default == DEFAULTS[rule.variable], rule.variable
    assert weakened() == []


def test_a_value_that_checks_nothing_is_weaker_exactly_when_the_role_default_checks_something():
    """Rule.weakens' null branch is the base's: a rule with a role default says why null is weaker (unchecked_why), and
    null never lowers a vault."""
    for rule in RULES:
        if rule.key:
            why, lowers = rule.weakens(None)
            assert bool(why) == (rule.role_default is not None), rule.key
            assert lowers is False, rule.key


def test_values_that_check_less_are_weaker_and_do_not_lower_vaults():
    found = weakened(harden_backup_vaults_immutability=None, harden_backup_vaults_soft_delete={'state': 'on'},
                     harden_backup_vaults_retention_minimum={'daily': '7d', 'weekly': '12w'})
    assert sorted((entry['variable'], entry['lowers']) for entry in found) == [
        ('harden_backup_vaults_immutability', False), ('harden_backup_vaults_retention_minimum', False),
        ('harden_backup_vaults_soft_delete', False)]
    by_variable = dict((entry['variable'], entry) for entry in found)
    assert by_variable['harden_backup_vaults_retention_minimum']['why'] == 'holds daily tiers to 7d, less than the default 30d'
    assert by_variable['harden_backup_vaults_retention_minimum']['value'] == {'daily': '7d', 'weekly': '12w'}
    assert by_variable['harden_backup_vaults_soft_delete']['why'].startswith('checks no soft delete retention days')
    # A minimum that checks no retention, one given only per datastore, and a shorter simple retention (default).
    assert weakened(harden_backup_vaults_retention_minimum={})[0]['why'].startswith('checks no retention')
    assert weakened(harden_backup_vaults_retention_minimum={'daily': {'VaultStore': '30d'}})[0]['why'].startswith(
        'gives daily only per datastore (VaultStore)')
    assert weakened(harden_backup_vaults_retention_minimum={'daily': '30d', 'default': '7d'})[0]['why'] == \
        'holds simple retention (default) to 7d, less than the default 30d'
    # Stronger values are not weaker: locked, always_on with more days, a longer minimum, the security settings' strict values.
    assert weakened(harden_backup_vaults_immutability='locked', harden_backup_vaults_allow_irreversible=True,
                    harden_backup_vaults_soft_delete={'state': 'always_on', 'retention_days': 30},
                    harden_backup_vaults_retention_minimum={'daily': '60d', 'weekly': '12w'},
                    harden_backup_vaults_public_network_access='disabled', harden_backup_vaults_cross_subscription_restore='disabled',
                    harden_backup_vaults_alerts={'job_failure_alerts': 'enabled'}) == []


def test_values_that_lower_vaults_say_so():
    found = weakened(harden_backup_vaults_immutability='disabled', harden_backup_vaults_soft_delete={'state': 'off'},
                     harden_backup_vaults_public_network_access='enabled', harden_backup_vaults_cross_subscription_restore='enabled',
                     harden_backup_vaults_alerts={'job_failure_alerts': 'disabled', 'classic_alerts': 'enabled'})
    assert sorted(entry['variable'] for entry in found if entry['lowers']) == [
        'harden_backup_vaults_alerts', 'harden_backup_vaults_cross_subscription_restore', 'harden_backup_vaults_immutability',
        'harden_backup_vaults_public_network_access', 'harden_backup_vaults_soft_delete']
    by_variable = dict((entry['variable'], entry) for entry in found)
    assert by_variable['harden_backup_vaults_alerts']['why'].startswith('asks for job_failure_alerts disabled')
    text = weakened_warning(dict(by_variable['harden_backup_vaults_immutability'], source="the inventory: group_vars of group 'x'"))
    assert text.startswith("harden_backup_vaults_immutability is disabled, weaker than the role's default enabled: it asks for "
                           "immutability disabled: a run turns immutability off")
    assert text.endswith("; from the inventory: group_vars of group 'x'")
    refusal = weakening_refusal([dict(by_variable['harden_backup_vaults_immutability'], source='facts (set_fact)')])
    assert refusal.startswith('the baseline asks a run to weaken vaults, and the value that asks it is not written for this run: '
                              'harden_backup_vaults_immutability is disabled (it asks for immutability disabled')
    assert 'from facts (set_fact). A value that lowers' in refusal and refusal.endswith('nothing was sent to Azure')


def test_a_tier_is_weaker_only_by_the_keys_it_gives():
    """A tier's keys are compared where the tier itself gives them; what it inherits is the top level's (named there)."""
    tiers = [{'name': 'dev', 'match': {'names': ['rsv-dev-*']}, 'immutability': None},
             {'name': 'prod', 'match': {'names': ['rsv-prod-*']}, 'retention_minimum': {'daily': '90d'}}]
    found = weakened(harden_backup_vaults_baselines=tiers)
    assert [(entry['variable'], entry['tier'], entry['key']) for entry in found] == [
        ('harden_backup_vaults_baselines[0]', 'dev', 'immutability')]
    assert weakened_warning(dict(found[0], source="the play's vars")).startswith(
        "harden_backup_vaults_baselines[0] (tier 'dev') immutability is null, weaker than the role's default enabled")
