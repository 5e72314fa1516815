# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role refuses a harden_backup_vaults_* name that is not one of its variables (a misspelling Ansible would ignore):
the list it checks against (vars/main.yml) must be every variable of meta/argument_specs.yml, and nothing else, or a
new variable would be refused and a removed one accepted."""

from __future__ import annotations

import os
import re

import yaml

from ansible_collections.vaultlock.azure.plugins.module_utils._rules import RULES

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', 'roles', 'harden_backup_vaults')


def _load(*parts):
    with open(os.path.join(ROLE, *parts), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def test_the_names_the_role_accepts_are_its_declared_variables():
    declared = list(_load('meta', 'argument_specs.yml')['argument_specs']['main']['options'])
    accepted = _load('vars', 'main.yml')['harden_backup_vaults__variables']
    assert sorted(accepted) == sorted(declared)
    assert len(set(accepted)) == len(accepted)


def test_every_default_is_a_declared_variable():
    declared = set(_load('meta', 'argument_specs.yml')['argument_specs']['main']['options'])
    assert set(_load('defaults', 'main.yml')) <= declared


def test_every_role_variable_a_rule_names_is_the_roles():
    """The rules name the role's variables (Rule.role_variables, from tier_paths, and the tier defaults: retention_mode) and
    the tier keys; each must be the role's: a default in defaults/main.yml, an option of meta/argument_specs.yml that
    vars/main.yml builds harden_backup_vaults__baseline from, and its tier key an option of harden_backup_vaults_baselines.
    A rule whose variable the role lacks would name, in its messages, a variable no user can set."""
    options = _load('meta', 'argument_specs.yml')['argument_specs']['main']['options']
    defaults = _load('defaults', 'main.yml')
    built = _load('vars', 'main.yml')['harden_backup_vaults__baseline']
    tier_options = options['harden_backup_vaults_baselines']['options']
    named = 0
    for rule in RULES:
        variables = list(rule.role_variables.values()) + ['harden_backup_vaults_' + key for key in rule.tier_default_keys]
        for variable in variables:
            assert variable in defaults, (rule.key, variable)
            assert variable in options, (rule.key, variable)
            # A whole name in the template (a prefix of a longer variable's name is not a use of it).
            assert re.search(r'(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])' % re.escape(variable), built), (rule.key, variable)
            named += 1
        for key in rule.tier_keys:
            assert key in tier_options, (rule.key, key)
    assert named > len([rule for rule in RULES if rule.key])


def test_the_roles_dictionary_examples_are_the_rules_defaults():
    """tasks/main.yml refuses a dictionary variable given as no dictionary with its JSON form for -e (vars/main.yml's
    harden_backup_vaults__dict_examples); harden_plan's message for the same (Rule.dict_hint) shows the rule's role default:
    every rule whose default is a dictionary is there, with the same example."""
    examples = _load('vars', 'main.yml')['harden_backup_vaults__dict_examples']
    dictionaries = [rule for rule in RULES if isinstance(rule.role_default, dict)]
    assert dictionaries
    for rule in dictionaries:
        assert examples.get(rule.variable) == rule.role_default, rule.variable
