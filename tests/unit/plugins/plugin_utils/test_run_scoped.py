# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a role variable came from (plugin_utils/_run_scoped.py), on the running ansible-core's own objects: an inventory
with group_vars, a VariableManager with extra vars, facts and include_vars, a play with vars, a block and a task."""

from __future__ import annotations

import pytest
from ansible import context
from ansible.module_utils.common.collections import ImmutableDict
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play import Play
from ansible.template import Templar
from ansible.utils.vars import load_extra_vars
from ansible.vars.manager import VariableManager

from ansible_collections.vaultlock.azure.plugins.plugin_utils._run_scoped import VariableLayers, run_scoped_refusals

try:
    from ansible.template import trust_as_template     # 2.19: only text from a trusted source is a template
except ImportError:                                     # 2.17: every string is
    def trust_as_template(value):
        return value

CONSENT = 'harden_backup_vaults_allow_irreversible'
REQUIREMENTS = 'harden_backup_vaults_lock_requirements'
VARIABLES = {'allow_irreversible': CONSENT, 'lock_requirements': REQUIREMENTS}
LOOSE = {'require_soft_delete': None}


@pytest.fixture
def build(tmp_path, monkeypatch):
    """build(extra_vars=(), play_vars=None, block_vars=None, task_vars=None, group_vars=None, facts=None, included=None)
    -> (task, task_vars, layers): the one task of a play on host h1 of group g1, as its action plugin sees it."""
    def make(extra_vars=(), play_vars=None, block_vars=None, task_vars=None, group_vars=None, facts=None, included=None):
        # -e as ansible-playbook gives it (load_extra_vars reads it once per process: its cache is reset for each case).
        monkeypatch.setattr(context, 'CLIARGS', ImmutableDict(extra_vars=tuple(extra_vars)))
        monkeypatch.setattr(load_extra_vars, 'extra_vars', None, raising=False)
        (tmp_path / 'hosts.ini').write_text('[g1]\nh1 ansible_connection=local\n')
        (tmp_path / 'group_vars').mkdir(exist_ok=True)
        (tmp_path / 'group_vars' / 'g1.yml').write_text(group_vars or '{}\n')
        loader = DataLoader()
        inventory = InventoryManager(loader=loader, sources=[str(tmp_path / 'hosts.ini')])
        manager = VariableManager(loader=loader, inventory=inventory)
        host = inventory.get_host('h1')
        if facts:
            manager.set_nonpersistent_facts(host.name, facts)   # the strategy keys them by host name
        if included:
            for key, value in included.items():
                manager.set_host_variable(host.name, key, value)
        task = {'name': 'the task', 'meta': 'noop'}   # resolved without Ansible's collection loader
        if task_vars:
            task['vars'] = task_vars
        block = {'block': [task]}
        if block_vars:
            block['vars'] = block_vars
        play = Play.load({'hosts': 'all', 'gather_facts': False, 'vars': play_vars or {}, 'tasks': [block]},
                         variable_manager=manager, loader=loader)
        [the_task] = [task for task in tasks_of(play.compile()) if task.name == 'the task']
        variables = manager.get_vars(play=play, host=host, task=the_task)
        return the_task, variables, VariableLayers.of(the_task, variables)
    return make


def tasks_of(blocks):
    """Every task under ``blocks`` (a compiled play: blocks of blocks and tasks)."""
    for item in blocks:
        if hasattr(item, 'block'):
            yield from tasks_of(item.block + item.rescue + item.always)
        else:
            yield item


def refusals(task_vars, layers, variables=None):
    """run_scoped_refusals of a harden_plan task that received the values the role makes of task_vars."""
    templar = Templar(loader=DataLoader(), variables=task_vars)
    consent = templar.template(trust_as_template('{{ %s | default(false) | bool }}' % CONSENT))
    requirements = templar.template(trust_as_template('{{ %s | default(none) }}' % REQUIREMENTS))
    args = {'baseline': {'allow_irreversible': consent}, 'lock_requirements': requirements}
    return run_scoped_refusals(variables or VARIABLES, args, templar, layers)


def test_consent_from_group_vars_is_refused(build):
    _task, task_vars, layers = build(group_vars='%s: true\n' % CONSENT)
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s: true comes from the inventory' % CONSENT)


@pytest.mark.parametrize('where', ['extra_vars', 'play_vars', 'block_vars', 'task_vars'])
def test_the_same_consent_written_for_the_run_is_kept(build, where):
    given = {'extra_vars': {'extra_vars': ['%s=true' % CONSENT]}, 'play_vars': {'play_vars': {CONSENT: True}},
             'block_vars': {'block_vars': {CONSENT: 'yes'}}, 'task_vars': {'task_vars': {CONSENT: trust_as_template('{{ 1 == 1 }}')}}}[where]
    _task, task_vars, layers = build(group_vars='%s: true\n' % CONSENT, **given)
    assert refusals(task_vars, layers) == []


def test_consent_from_set_fact_over_the_plays_false_is_refused_as_facts(build):
    _task, task_vars, layers = build(play_vars={CONSENT: False}, facts={CONSENT: True})
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s: true comes from facts (set_fact, include_vars or gathered facts)' % CONSENT)


def test_consent_from_include_vars_is_refused(build):
    _task, task_vars, layers = build(included={CONSENT: 'true'})
    [message] = refusals(task_vars, layers)
    assert 'comes from facts' in message


def test_the_trusted_layer_is_the_run_s_own_sources_only(build):
    _task, _task_vars, layers = build(extra_vars=['a=1'], play_vars={'b': 2}, block_vars={'c': 3}, task_vars={'d': 4},
                                      group_vars='e: 5\n', facts={'f': 6})
    assert {key: layers.trusted.get(key) for key in 'abcdef'} == {'a': '1', 'b': 2, 'c': 3, 'd': 4, 'e': None, 'f': None}
    assert layers.ambient.get('e') == 5 and layers.ambient.get('f') == 6 and 'b' not in layers.ambient


def test_loose_lock_requirements_from_group_vars_are_refused_from_extra_vars_kept(build):
    _task, task_vars, layers = build(group_vars='%s: {require_soft_delete: null}\n' % REQUIREMENTS)
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s comes from the inventory' % REQUIREMENTS) and 'require_soft_delete: null' in message
    _task, task_vars, layers = build(group_vars='%s: {require_soft_delete: null}\n' % REQUIREMENTS,
                                     extra_vars=['{"%s": {"require_soft_delete": null}}' % REQUIREMENTS])
    assert refusals(task_vars, layers) == []


def test_stricter_lock_requirements_and_no_consent_from_group_vars_are_kept(build):
    _task, task_vars, layers = build(group_vars='%s: false\n%s: {require_mua: true}\n' % (CONSENT, REQUIREMENTS))
    assert refusals(task_vars, layers) == []


def test_a_task_without_its_variable_manager_refuses_what_needs_the_check(build):
    task, task_vars, _layers = build(play_vars={CONSENT: True})
    task._variable_manager = None
    assert VariableLayers.of(task, task_vars) is None
    [message] = refusals(task_vars, None)
    assert 'cannot be told here' in message
