# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a role variable came from (plugin_utils/_run_scoped.py), on the running ansible-core's own objects: an inventory
with group_vars, a VariableManager with extra vars, facts and include_vars, a play with vars, a block and a task."""

from __future__ import annotations

import os

import pytest
from ansible import context
from ansible.module_utils.common.collections import ImmutableDict
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play import Play
from ansible.plugins.test import core as core_tests
from ansible.template import Templar
from ansible.utils.vars import load_extra_vars, load_options_vars
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

from ansible_collections.vaultlock.azure.plugins.plugin_utils._run_scoped import VariableLayers, run_scoped_refusals, weakened_sources

try:
    from ansible.template import trust_as_template     # 2.19: only text from a trusted source is a template
except ImportError:                                     # 2.17: every string is
    def trust_as_template(value):
        return value

CONSENT = 'harden_backup_vaults_allow_irreversible'
REQUIREMENTS = 'harden_backup_vaults_lock_requirements'
TIERS = 'harden_backup_vaults_baselines'
VARIABLES = {'allow_irreversible': CONSENT, 'lock_requirements': REQUIREMENTS, 'tiers': TIERS}
LOOSE = {'require_soft_delete': None}


@pytest.fixture
def build(tmp_path, monkeypatch):
    """build(extra_vars=(), play_vars=None, block_vars=None, task_vars=None, group_vars=None, facts=None, included=None)
    -> (task, task_vars, layers): the one task of a play on host h1 of group g1, as its action plugin sees it (host h2 of
    group g2 has lock_ok=true). play_vars as text is the YAML of the play's vars, read from a playbook file as
    ansible-playbook reads it (its templates trusted, !unsafe kept)."""
    def make(extra_vars=(), play_vars=None, block_vars=None, task_vars=None, group_vars=None, facts=None, included=None):
        # -e and --check as ansible-playbook gives them (load_extra_vars reads -e once per process: its cache is reset).
        monkeypatch.setattr(context, 'CLIARGS', ImmutableDict(extra_vars=tuple(extra_vars), check=False))
        monkeypatch.setattr(load_extra_vars, 'extra_vars', None, raising=False)
        monkeypatch.setattr(load_options_vars, 'options_vars', None, raising=False)
        (tmp_path / 'hosts.ini').write_text('[g1]\nh1 ansible_connection=local\n[g2]\nh2 ansible_connection=local lock_ok=true\n')
        (tmp_path / 'group_vars').mkdir(exist_ok=True)
        (tmp_path / 'group_vars' / 'g1.yml').write_text(group_vars or '{}\n')
        loader = DataLoader()
        inventory = InventoryManager(loader=loader, sources=[str(tmp_path / 'hosts.ini')])
        manager = VariableManager(loader=loader, inventory=inventory)
        manager._hostvars = HostVars(inventory=inventory, variable_manager=manager, loader=loader)    # as the strategy does
        if isinstance(play_vars, str):
            (tmp_path / 'play-vars.yml').write_text(play_vars)
            try:
                play_vars = loader.load_from_file(str(tmp_path / 'play-vars.yml'), trusted_as_template=True)   # 2.19
            except TypeError:
                play_vars = loader.load_from_file(str(tmp_path / 'play-vars.yml'))                            # 2.17
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
        play = Play.load({'hosts': 'h1', 'gather_facts': False, 'vars': play_vars or {}, 'tasks': [block]},
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


def extra_vars_file(tmp_path, text):
    """-e @FILE of ``text`` (2.19 templates -e only from a file; 2.17 from inline JSON too)."""
    (tmp_path / 'extra-vars.yml').write_text(text)
    return '@%s' % (tmp_path / 'extra-vars.yml')


def refusals(task_vars, layers, variables=None):
    """run_scoped_refusals of a harden_plan task that received the values the role makes of task_vars."""
    templar = Templar(loader=DataLoader(), variables=task_vars)
    consent = templar.template(trust_as_template('{{ %s | default(false) | bool }}' % CONSENT))
    requirements = templar.template(trust_as_template('{{ %s | default(none) }}' % REQUIREMENTS))
    tiers = templar.template(trust_as_template('{{ %s | default([]) }}' % TIERS))
    args = {'baseline': {'allow_irreversible': consent, 'tiers': tiers}, 'lock_requirements': requirements}
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


# A template written for the run counts only when every variable it reads is written for the run too, judged by rendering
# it with nothing but the run's sources; a lookup never counts. Before, "{{ lock_ok }}" in the play's vars with
# lock_ok: true in group_vars consented: whoever edits group_vars consented again.
@pytest.mark.parametrize('where', ['play_vars', 'extra_vars', 'block_vars', 'task_vars'])
def test_a_template_written_for_the_run_that_reads_group_vars_is_refused(build, tmp_path, where):
    template = '{{ lock_ok }}'
    given = {'play_vars': {'play_vars': '%s: "%s"\n' % (CONSENT, template)},
             'extra_vars': {'extra_vars': [extra_vars_file(tmp_path, '%s: "%s"\n' % (CONSENT, template))]},
             'block_vars': {'block_vars': {CONSENT: trust_as_template(template)}},
             'task_vars': {'task_vars': {CONSENT: trust_as_template(template)}}}[where]
    _task, task_vars, layers = build(group_vars='lock_ok: true\n', **given)
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s: true is given for the run as a template that reads lock_ok, and consents to irreversible '
                              'changes' % CONSENT), message
    assert 'write the value itself there rather than a template, or give each variable the template reads for the run too' in message
    assert message.endswith('nothing was sent to Azure')


@pytest.mark.parametrize('template, given, reads', [
    ('{{ lock_ok }}', {'facts': {'lock_ok': True}}, 'reads lock_ok'),                        # set_fact
    ('{{ lock_ok }}', {'included': {'lock_ok': 'yes'}}, 'reads lock_ok'),                    # include_vars
    ("{{ hostvars['h2'].lock_ok }}", {}, 'reads hostvars'),                                 # another host's inventory
    ("{{ groups['g2'] | length > 0 }}", {}, 'reads groups'),                                # the inventory's groups
    ("{{ 'g1' in group_names }}", {}, 'reads group_names'),                                 # the host's groups
    ('{{ lock_ok | default(false) }}', {'group_vars': 'lock_ok: true\n'}, 'reads lock_ok'),  # the run said false
    ('{{ switch }}', {'group_vars': 'switch: "{{ lock_ok }}"\nlock_ok: true\n'}, 'reads switch'),
])
def test_a_template_that_reads_what_is_not_written_for_the_run_is_refused(build, template, given, reads):
    _task, task_vars, layers = build(play_vars='%s: "%s"\n' % (CONSENT, template), **given)
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s: true is given for the run as a template that %s, and consents' % (CONSENT, reads)), message


@pytest.mark.parametrize('template, called', [
    ("{{ lookup('env', 'VAULTLOCK_TEST_CONSENT') }}", 'lookup(env)'),
    ("{{ lookup('file', 'consent.txt') }}", 'lookup(file)'),
    ("{{ lookup('pipe', 'echo true') }}", 'lookup(pipe)'),
    ("{{ query('env', 'VAULTLOCK_TEST_CONSENT') | first }}", 'lookup(env)'),
])
def test_a_lookup_in_a_template_written_for_the_run_is_refused(build, tmp_path, monkeypatch, template, called):
    monkeypatch.setenv('VAULTLOCK_TEST_CONSENT', 'true')
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'consent.txt').write_text('true\n')
    _task, task_vars, layers = build(play_vars='%s: "%s"\n' % (CONSENT, template.replace('"', '\\"')))
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s: true is given for the run as a template that calls %s, and consents' % (CONSENT, called)), message


@pytest.mark.parametrize('test', ['file', 'ansible.builtin.exists'])
def test_a_test_of_the_controller_s_files_in_a_template_written_for_the_run_is_refused(build, tmp_path, test):
    # A flag file on the controller consents as lookup('file') would.
    (tmp_path / 'consent.flag').write_text('')
    _task, task_vars, layers = build(play_vars='%s: "{{ flag is %s }}"\nflag: %s\n' % (CONSENT, test, tmp_path / 'consent.flag'))
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s: true is given for the run as a template that tests the controller\'s files (%s), and consents'
                              % (CONSENT, test)), message
    # The pure test of a path's form reads nothing: kept.
    _task, task_vars, layers = build(play_vars='%s: "{{ \'/x\' is abs }}"\n' % CONSENT)
    assert refusals(task_vars, layers) == []


def test_a_lookup_in_a_variable_the_template_reads_is_refused_with_both(build, monkeypatch):
    monkeypatch.setenv('VAULTLOCK_TEST_CONSENT', 'yes')
    _task, task_vars, layers = build(play_vars='%s: "{{ switch }}"\nswitch: "{{ lookup(\'env\', \'VAULTLOCK_TEST_CONSENT\') }}"\n' % CONSENT)
    [message] = refusals(task_vars, layers)
    assert 'as a template that reads switch and calls lookup(env), and consents' in message, message


def test_a_run_scoped_variable_overridden_by_set_fact_is_refused(build):
    # run_ok is false in the play's vars, which the run wrote; set_fact (above play vars) made it true.
    _task, task_vars, layers = build(play_vars='%s: "{{ run_ok }}"\nrun_ok: false\n' % CONSENT, facts={'run_ok': True})
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s: true is given for the run as a template that reads run_ok, and consents' % CONSENT), message


@pytest.mark.parametrize('play_vars, extra_vars', [
    ('%s: "{{ run_ok }}"\nrun_ok: true\n' % CONSENT, []),                               # a play var
    ('%s: "{{ run_ok }}"\n' % CONSENT, ['run_ok=yes']),                                   # -e
    ('%s: "{{ a }}"\na: "{{ b and not c }}"\nb: true\nc: false\n' % CONSENT, []),          # through play vars
    ('%s: "{{ not ansible_check_mode }}"\n' % CONSENT, []),                              # the command line (no --check)
    ('%s: "{{ lock_ok | default(true) }}"\n' % CONSENT, []),                             # the run's own default
])
def test_a_template_of_what_is_written_for_the_run_is_kept(build, play_vars, extra_vars):
    # The inventory gives lock_ok and run_ok too: the run's template reads them from the run's own sources, or its default.
    _task, task_vars, layers = build(play_vars=play_vars, extra_vars=extra_vars, group_vars='lock_ok: true\nrun_ok: false\n')
    assert refusals(task_vars, layers) == []


def test_an_unsafe_template_does_not_consent(build):
    # !unsafe: the text itself, never templated: "{{ lock_ok }}" is no consent (| bool makes it false), so there is nothing
    # to refuse, and the inventory's lock_ok consents to nothing.
    _task, task_vars, layers = build(play_vars='%s: !unsafe "{{ lock_ok }}"\n' % CONSENT, group_vars='lock_ok: true\n')
    templar = Templar(loader=DataLoader(), variables=task_vars)
    assert templar.template(trust_as_template('{{ %s | bool }}' % CONSENT)) is False
    assert refusals(task_vars, layers) == []


def indented(text):
    """YAML ``text`` as the value of a key on the line above."""
    return ''.join('  %s\n' % line for line in text.splitlines())


TIER = '- name: prod\n  match: {names: [rsv-prod-*]}\n  immutability: locked\n'


@pytest.mark.parametrize('tiers, group_vars', [
    (TIER + '  lock_requirements: "{{ loose }}"\n', 'loose: {require_soft_delete: null}\n'),
    (TIER + '  lock_requirements: {require_soft_delete: "{{ rsd }}"}\n', 'rsd: false\n'),
    ('"{{ inventory_tiers }}"', 'inventory_tiers: [{name: prod, match: {names: [x]}, lock_requirements: {require_soft_delete: null}}]\n'),
])
def test_a_template_nested_in_the_tiers_that_loosens_the_lock_gate_is_refused(build, tiers, group_vars):
    _task, task_vars, layers = build(play_vars='%s:\n%s' % (TIERS, indented(tiers)), group_vars=group_vars)
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s is given for the run as a template that reads ' % TIERS), message
    assert 'gives lock requirements looser than the defaults (tier prod: require_soft_delete: ' in message


def test_a_nested_template_of_run_scoped_tiers_is_kept(build):
    tiers = TIER + '  lock_requirements: {require_soft_delete: "{{ rsd }}"}\n'
    _task, task_vars, layers = build(play_vars='rsd: false\n%s:\n%s' % (TIERS, indented(tiers)),
                                     group_vars='rsd: "on"\n')
    assert refusals(task_vars, layers) == []


def test_loose_lock_requirements_templated_from_group_vars_are_refused(build, tmp_path):
    _task, task_vars, layers = build(extra_vars=[extra_vars_file(tmp_path, '%s: "{{ loose }}"\n' % REQUIREMENTS)],
                                     group_vars='loose: {require_soft_delete: null}\n')
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s is given for the run as a template that reads loose, and is looser than the default lock '
                              'requirements (require_soft_delete: null where the default is on)' % REQUIREMENTS), message


def test_the_role_s_internal_baseline_templated_from_group_vars_is_refused(build, tmp_path):
    # The role's own baseline (its vars/main.yml) is refused only when the ambient layer gives it; one the run overrides
    # with a template of the inventory's was taken as the role's own.
    name = 'harden_backup_vaults__baseline'
    _task, task_vars, layers = build(extra_vars=[extra_vars_file(tmp_path, '%s: "{{ site_baseline }}"\n' % name)],
                                     group_vars='site_baseline: {immutability: locked, allow_irreversible: true}\n')
    templar = Templar(loader=DataLoader(), variables=task_vars)
    args = {'baseline': templar.template(trust_as_template('{{ %s }}' % name)), 'lock_requirements': None}
    [message] = run_scoped_refusals({'baseline': name}, args, templar, layers)
    assert message.startswith('%s is given for the run as a template that reads site_baseline, and consents to irreversible '
                              'changes (allow_irreversible: true)' % name), message


def looped_include(task, loop_var='item', value=True):
    """Put ``task`` under an include_tasks/include_role that loops, as the strategy does (IncludedFile and
    StrategyBase._copy_included_file): the copy of the include task gets the loop variable in its vars. Returns the new
    task_vars and layers."""
    from ansible.playbook.task import Task   # pylint: disable=import-outside-toplevel
    include = Task.load({'include_tasks': 'other.yml', 'loop': '{{ consent_list }}', 'loop_control': {'loop_var': loop_var},
                         'vars': {CONSENT: trust_as_template('{{ %s }}' % loop_var)}},
                        block=task._parent, variable_manager=task.get_variable_manager(), loader=task._loader)
    copy = include.copy(exclude_parent=True)
    copy.vars = dict(copy.vars, **{loop_var: value, 'ansible_loop_var': loop_var})
    copy._parent = task._parent
    task._parent = copy
    manager = task.get_variable_manager()
    host = manager._inventory.get_host('h1')
    variables = manager.get_vars(play=task._parent._parent._play if hasattr(task._parent._parent, '_play') else None, host=host, task=task)
    return variables, VariableLayers.of(task, variables)


@pytest.mark.parametrize('loop_var', ['item', 'vault_group'])
def test_a_template_of_an_include_s_loop_variable_is_refused(build, loop_var):
    # include_role/include_tasks with vars {consent: "{{ item }}"} and loop: "{{ consent_list }}" (consent_list: [true] in
    # group_vars): the strategy copies the loop variable into the include's vars, where the trusted layer took it as written
    # for the run.
    task, _task_vars, _layers = build(group_vars='consent_list: [true]\n')
    task_vars, layers = looped_include(task, loop_var)
    assert loop_var not in layers.trusted
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s: true is given for the run as a template that reads %s, and consents' % (CONSENT, loop_var)), message


@pytest.mark.parametrize('template', ["{% include 'consent.txt' %}", "{% import 'consent.j2' as c %}{{ c.v }}",
                                      "{% from 'consent.j2' import v %}{{ v }}", "{% extends 'consent.txt' %}"])
def test_a_template_that_reads_the_controller_s_files_with_a_jinja_statement_is_refused(build, tmp_path, monkeypatch, template):
    # {% include %} and {% import %} read a file beside the playbook (group_vars/, say) as lookup('file') would.
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'consent.txt').write_text('true')
    (tmp_path / 'consent.j2').write_text('{% set v = true %}')
    _task, task_vars, layers = build(play_vars='%s: "%s"\n' % (CONSENT, template))
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s: true is given for the run as a template that reads the controller\'s files (' % CONSENT), message


# The controller's environment and files reached without a lookup (seventh hostile pass): a filter that reads them
# (expandvars is lookup('env') by another name), a files test under a prefix or through select(), the test vaulted_file,
# and a template under other delimiters (a #jinja2: first line) that the parser of the names read with Jinja's own. Each
# consented before; each is refused now when the run's template renders with it, and named.
@pytest.mark.parametrize('template, uses', [
    ("{{ '$VAULTLOCK_TEST_CONSENT' | expandvars }}", "reads the controller's environment or files (| expandvars)"),
    ("{{ '$VAULTLOCK_TEST_CONSENT' | ansible.builtin.expandvars }}", "reads the controller's environment or files (| ansible.builtin.expandvars)"),
    ("{% filter expandvars %}$VAULTLOCK_TEST_CONSENT{% endfilter %}", "reads the controller's environment or files (| expandvars)"),
    ("{{ ['$VAULTLOCK_TEST_CONSENT'] | map('expandvars') | first }}", "reads the controller's environment or files (| expandvars)"),
    ("{{ '~vaultlock-no-such-user' | expanduser == '~vaultlock-no-such-user' }}", "reads the controller's environment or files (| expanduser)"),
    ("{{ FLAG | realpath != FLAG }}", "reads the controller's environment or files (| realpath)"),
    ("{{ GLOB | fileglob | length > 0 }}", "reads the controller's environment or files (| fileglob)"),
    ("{{ FLAG is ansible.legacy.exists }}", "tests the controller's files (ansible.legacy.exists)"),
    ("{{ [FLAG] | select('exists') | list | length > 0 }}", "tests the controller's files (exists)"),
    ("{{ [FLAG] | select('ansible.legacy.file') | list | length > 0 }}", "tests the controller's files (ansible.legacy.file)"),
    ("{{ [{'p': FLAG}] | selectattr('p', 'link') | list | length > 0 }}", "tests the controller's files (link)"),
    ("{{ [FLAG] | select(test_name) | list | length > 0 }}", "tests the controller's files (exists)"),
    ("#jinja2:variable_start_string:'[[',variable_end_string:']]'\\n[[ FLAG is exists ]]", "tests the controller's files (exists)"),
    ("#jinja2:block_start_string:'[%',block_end_string:'%]'\\n[% include 'consent.txt' %]", "reads the controller's files ({% include %})"),
] + ([("{{ FLAG is vaulted_file }}", "tests the controller's files (vaulted_file)")] if 'vaulted_file' in core_tests.TestModule().tests() else []))   # 2.18 on
def test_the_controller_s_environment_and_files_read_without_a_lookup_are_refused(build, tmp_path, monkeypatch, template, uses):
    monkeypatch.setenv('VAULTLOCK_TEST_CONSENT', 'true')
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'consent.txt').write_text('true')
    (tmp_path / 'consent.flag').write_text('$ANSIBLE_VAULT;1.1;AES256\n3132\n')
    os.symlink(tmp_path / 'consent.flag', tmp_path / 'consent.link')
    template = template.replace('FLAG', "'%s'" % (tmp_path / 'consent.link')).replace('GLOB', "'%s'" % (tmp_path / 'consent.*'))
    _task, task_vars, layers = build(play_vars='test_name: exists\n%s: "%s"\n' % (CONSENT, template.replace('"', '\\"')))
    assert Templar(loader=DataLoader(), variables=task_vars).template(trust_as_template('{{ %s | bool }}' % CONSENT)) is True
    [message] = refusals(task_vars, layers)
    assert message.startswith('%s: true is given for the run as a template that %s, and consents' % (CONSENT, uses)), message


@pytest.mark.parametrize('template', ["{{ ['a', 'b'] | select('equalto', 'a') | list == ['a'] }}", "{{ ['x'] | map('upper') | first == 'X' }}",
                                      "{{ '/x' | basename == 'x' }}", "{{ run_ok | ansible.builtin.bool }}",
                                      "#jinja2:variable_start_string:'[[',variable_end_string:']]'\\n[[ run_ok ]]"])
def test_a_template_of_the_run_with_pure_tests_and_filters_is_kept(build, template):
    _task, task_vars, layers = build(play_vars='run_ok: true\n%s: "%s"\n' % (CONSENT, template.replace('"', '\\"')),
                                     group_vars='run_ok: false\n')
    assert refusals(task_vars, layers) == []


IMMUTABILITY = 'harden_backup_vaults_immutability'


def test_weakened_value_from_the_play_is_written_for_the_run_unless_its_template_reads_the_inventory(build):
    entry = {'variable': IMMUTABILITY, 'key': 'immutability', 'tier': None, 'value': 'disabled'}
    _task, task_vars, layers = build(play_vars={IMMUTABILITY: 'disabled'})
    [found] = weakened_sources([entry], layers, Templar(loader=DataLoader(), variables=task_vars))
    assert (found['source'], found['for_run']) == ("the play's vars", True)
    _task, task_vars, layers = build(play_vars='%s: "{{ weak }}"\n' % IMMUTABILITY, group_vars='weak: disabled\n')
    [found] = weakened_sources([entry], layers, Templar(loader=DataLoader(), variables=task_vars))
    assert found['for_run'] is False
    assert found['source'].startswith("the play's vars, through a template that ")
    assert 'weak' in found['source']
