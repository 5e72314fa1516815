# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role refuses a harden_backup_vaults_* name that is not one of its variables (a misspelling Ansible would ignore):
the list it checks against (vars/main.yml) must be every variable of meta/argument_specs.yml, and nothing else, or a
new variable would be refused and a removed one accepted."""

from __future__ import annotations

import os

import yaml

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
