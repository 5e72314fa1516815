# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's dictionary variables given on the command line (issue 26): `-e name=value` is a string, and is refused
naming the variable and showing its JSON form, before any request; the JSON form the message shows works.

The refusals run as steps of one ansible-playbook run (issue 24; the role steps of a batching.Batch, in check mode as each
case's own ``--check`` run was; the role-twice test's play is the last play of that run): each step imports the role with
what ``-e`` gives the play for that case's arguments, read by Ansible's own parser of ``-e`` (parse_kv for key=value, as
``load_extra_vars`` does; JSON for JSON). Two real command lines stay: a key=value refused by ``-e`` itself, whose message
must be the one its step gives, and the JSON form of that message, which must work. The other runs of their own stay
too, each for what only a whole run shows: --start-at-task and --skip-tags (command-line options), two inventory hosts
with --forks 1 or serial, and ignore_errors on the import (the exit code of the run)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from ansible.parsing.splitter import parse_kv

from tests.emulator import generator as templates
from tests.emulator.client import is_write
from tests.integration.batching import Batch, PartState
from tests.integration.conftest import fresh_fleet
from tests.integration.fleets import RG, SUB1, vault, vault_id
from tests.integration.role_steps import step

PLAYBOOK = 'vaultlock.azure.harden_backup_vaults'
DICT_VARIABLES = ['harden_backup_vaults_retention_minimum', 'harden_backup_vaults_soft_delete',
                  'harden_backup_vaults_lock_requirements', 'harden_backup_vaults_tags', 'harden_backup_vaults_auth']


def fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-ok', 'recovery_services', 'enabled',
                  policies=[{'name': 'VMDaily', 'properties': templates.iaas_v1(False)}]),
        ]}]}]}


KEY_VALUE = [
    ('harden_backup_vaults_retention_minimum', 'daily:30d'),      # the example
    ('harden_backup_vaults_retention_minimum', 'daily=30d'),      # key=value is a string too, not Ansible's conversion
    ('harden_backup_vaults_soft_delete', 'on'),
    ('harden_backup_vaults_lock_requirements', 'max_retention=10y'),
    ('harden_backup_vaults_tags', 'environment:production'),
    ('harden_backup_vaults_auth', 'subscription_id=%s' % SUB1),
]
EVERY_WRONG = ['harden_backup_vaults_tags=env:prod', 'harden_backup_vaults_soft_delete=on']
# A misspelt variable was ignored without a word (the run went on with the default): each is refused naming it, with
# the role's variables that begin like it.
MISSPELT = [
    (['harden_backup_vaults_immutabilty=locked'],
     'harden_backup_vaults_immutabilty is not a variable of the role vaultlock.azure.harden_backup_vaults and would be '
     'ignored (did you mean harden_backup_vaults_immutability?)'),
    (['harden_backup_vault_fail_on_drift=true', 'harden_backup_vaults_exlude=rsv-ok'],
     'harden_backup_vault_fail_on_drift is not a variable of the role vaultlock.azure.harden_backup_vaults and would be '
     'ignored (did you mean harden_backup_vaults_fail_on_drift or harden_backup_vaults_fail_on_error?); '
     'harden_backup_vaults_exlude is not a variable of the role vaultlock.azure.harden_backup_vaults and would be '
     'ignored (did you mean harden_backup_vaults_exclude?)'),
]


def command_line(*arguments):
    """The variables ``-e ARGUMENT ...`` give a play: each argument read as ansible-core's load_extra_vars reads it (JSON
    when it starts with { or [, else key=value with parse_kv), later ones over earlier ones."""
    variables = {}
    for argument in arguments:
        variables.update(json.loads(argument) if argument[0] in '{[' else parse_kv(argument))
    return variables


def twice_fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-off', 'recovery_services', 'disabled'),
                                                          vault('bv-off', 'backup', 'disabled')]}]}]}


def twice_tasks(tmp_path):
    """The play of test_the_role_twice_in_one_play_into_one_report_dir_says_the_second_replaces_the_first: the role imported
    three times (two scopes into one report directory, then the first scope into one of its own), between two registered
    tasks that mark its span of the journal (twice__start, twice__end)."""
    reports, own = tmp_path / 'twice-reports', tmp_path / 'twice-own'

    def scope(name, kind, directory):
        return {'name': 'Harden %s' % name, 'ansible.builtin.import_role': {'name': 'vaultlock.azure.harden_backup_vaults'},
                'vars': {'harden_backup_vaults_report_dir': str(directory),
                         'harden_backup_vaults_vaults': [{'name': name, 'resource_group': RG, 'vault_type': kind}]},
                'ignore_errors': False}
    return [{'name': 'twice start', 'ansible.builtin.debug': {'msg': 'twice'}, 'register': 'twice__start'},
            scope('rsv-off', 'recovery_services', reports), scope('bv-off', 'backup', reports), scope('rsv-off', 'recovery_services', own),
            {'name': 'twice end', 'ansible.builtin.debug': {'msg': 'twice'}, 'register': 'twice__end'}], reports, own


class Steps(dict):
    """{step name: StepRun}, with the whole run (``run``) and the role-twice test's report directories (``twice``)."""

    run = None
    twice = None


@pytest.fixture(scope='module')
def refused(module_runner):
    """Every refusal of this file as a step of one check-mode run ({step name: StepRun}); the same run then loads the fleet
    of the role-twice test (vaultlock_test_emulator) and plays its play, in check mode as its own --check run was: the run
    (a batching.BatchRun) is ``refused.run``, the report directories ``refused.twice``."""
    fresh_fleet(module_runner, fleet())
    steps = [step('kv%d' % index, check=True, **command_line('%s=%s' % case)) for index, case in enumerate(KEY_VALUE)]
    steps += [step('null%d' % index, check=True, **command_line(json.dumps({name: None}))) for index, name in enumerate(DICT_VARIABLES)]
    steps.append(step('every_wrong', check=True, **command_line(*EVERY_WRONG)))
    steps += [step('misspelt%d' % index, check=True, **command_line(*case)) for index, (case, _msg) in enumerate(MISSPELT)]
    tasks, reports, own = twice_tasks(module_runner.tmp_path)
    batch = Batch(module_runner).role_steps(steps)
    batch.emulator(reset=True, load_fleet=twice_fleet())
    batch.tasks(tasks, name='the role twice in one play', check_mode=True,
                vars={'ansible_python_interpreter': '{{ ansible_playbook_python }}'})
    run = batch.play()
    results = Steps(run.steps)
    results.run, results.twice = run, (reports, own)
    return results


@pytest.fixture
def playbook(runner, emulator, tmp_path):
    emulator.load_fleet(fleet())
    emulator.clear_journal()

    def run(*extra, inventory='localhost,'):
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory, PLAYBOOK, '--check',
               '-e', 'harden_backup_vaults_report_dir=%s' % (tmp_path / 'reports')] + list(extra)
        proc = subprocess.run(cmd, env=runner.env({'ANSIBLE_INVENTORY_ENABLED': 'host_list,ini'}), capture_output=True, text=True,
                              timeout=300, check=False)
        return proc.returncode, proc.stdout + proc.stderr
    return run


CONSENT = 'harden_backup_vaults_allow_irreversible'
LOOSE = {'harden_backup_vaults_lock_requirements': {'require_soft_delete': None}}


def consenting_inventory(tmp_path):
    """An ini inventory whose localhost gets consent from its group's group_vars and lock requirements looser than the
    defaults from its host_vars: what the role refuses unless the run itself gives the same values."""
    directory = tmp_path / 'inventory'
    (directory / 'group_vars').mkdir(parents=True)
    (directory / 'host_vars').mkdir()
    (directory / 'group_vars' / 'consenting.yml').write_text('%s: true\n' % CONSENT)
    (directory / 'host_vars' / 'localhost.yml').write_text(json.dumps(LOOSE))
    (directory / 'hosts.ini').write_text('[consenting]\nlocalhost ansible_connection=local\n')
    return str(directory / 'hosts.ini')


def message(output):
    """The assert's message, on one line (Ansible wraps long lines of its output)."""
    found = re.search(r'"msg": "([^"\\]*(?:\\.[^"\\]*)*)"', output)
    assert found, output
    return json.loads('"%s"' % found.group(1))


@pytest.mark.parametrize('index', range(len(KEY_VALUE)), ids=['%s=%s' % case for case in KEY_VALUE])
def test_a_dictionary_variable_given_as_key_value_is_refused_with_its_json_form(refused, index):
    name, _value = KEY_VALUE[index]
    result = refused['kv%d' % index]
    assert result.failed, result.output
    output = result.output
    msg = result.failed['msg']
    assert msg.startswith('%s must be a dictionary, got str; on the command line give it as JSON: -e \'{"%s": {' % (name, name)), msg
    # The JSON form the message shows is valid JSON of that variable, a dictionary.
    shown = json.loads(msg.split("-e '", 1)[1].rstrip("'"))
    assert list(shown) == [name] and isinstance(shown[name], dict)
    assert 'unable to convert to dict' not in output            # Ansible's own error never comes first
    assert result.requests == []                                 # refused before any request
    if name == 'harden_backup_vaults_auth':
        assert SUB1 not in output                                # its value is never shown


@pytest.mark.parametrize('index', range(len(DICT_VARIABLES)), ids=DICT_VARIABLES)
def test_null_is_refused_for_every_dictionary_variable(refused, index):
    name = DICT_VARIABLES[index]
    result = refused['null%d' % index]
    assert result.failed, result.output
    assert result.failed['msg'].startswith('%s must be a dictionary, got NoneType; on the command line give it as JSON' % name)
    assert result.requests == []


def test_the_json_form_of_the_message_works(refused, playbook, emulator, tmp_path):
    rc, output = playbook('-e', 'harden_backup_vaults_retention_minimum=daily:30d')
    assert rc != 0
    # A real -e refuses it with the message its step gave (the steps read -e as Ansible does).
    assert message(output) == refused['kv0'].failed['msg']
    assert emulator.journal() == []
    shown = message(output).split("-e '", 1)[1].rstrip("'")
    # The same run (no run of its own: make test's time) also gives the consent and lock requirements looser than the
    # defaults with -e, while its inventory's group_vars and host_vars give the same: -e is written for the run, so they
    # count (without the -e, the inventory's values are refused: test_role_bad_variables.py).
    rc, output = playbook('-e', shown, '-e', '{"harden_backup_vaults_soft_delete": {"state": "on", "retention_days": 14}}',
                          '-e', '%s=true' % CONSENT, '-e', json.dumps(LOOSE), inventory=consenting_inventory(tmp_path))
    assert rc == 0, output[-3000:]
    report = json.loads((tmp_path / 'reports' / 'drift.json').read_text())
    assert report['baseline']['retention'] == {'minimum': {'daily': '30d'}, 'mode': 'report'}
    assert report['baseline']['allow_irreversible'] is True
    assert report['summary']['vaults'] == 1
    assert emulator.writes() == []


def test_every_wrong_dictionary_variable_is_named_in_one_message(refused):
    result = refused['every_wrong']
    assert result.failed, result.output
    output = result.output
    msg = result.failed['msg']
    assert msg.startswith('harden_backup_vaults_soft_delete must be a dictionary, got str'), msg
    assert '. harden_backup_vaults_tags must be a dictionary, got str; on the command line give it as JSON: ' \
        '-e \'{"harden_backup_vaults_tags": {"environment": "production"}}\'' in msg, msg
    assert '(item=' not in output                                # one task, no line per variable
    assert result.requests == []


@pytest.mark.parametrize('index', range(len(MISSPELT)), ids=[' '.join(case) for case, _msg in MISSPELT])
def test_a_misspelt_variable_is_refused_naming_the_variable_it_resembles(refused, index):
    _case, expected = MISSPELT[index]
    result = refused['misspelt%d' % index]
    assert result.failed, result.output
    msg = result.failed['msg']
    assert msg.startswith(expected + '. The role\'s variables are in docs/role.md'), msg
    assert msg.endswith('nothing was sent to Azure'), msg
    assert result.requests == []                                 # refused before any request


NO_PLAN = ('The role\'s plan task (Discover vaults and plan the run) did not run in this play: --start-at-task, --tags or '
           '--skip-tags left it out, and every later task of the role works on its plan. Nothing was sent to Azure; run the '
           'role from its start (its check mode changes nothing)')


def test_starting_past_the_plan_fails_saying_why_and_sends_nothing(playbook, emulator):
    """ansible-playbook --start-at-task past the plan task: the apply and the report task failed with Ansible's own
    "'harden_backup_vaults__run' is undefined", which says neither why nor what to do; they now say both, and nothing
    is sent (the first run also starts past the apply, at the reports)."""
    for task in ('Change the vaults that drift', 'Write the reports'):
        rc, output = playbook('--start-at-task', task)
        assert rc != 0, output[-3000:]
        assert NO_PLAN in ' '.join(output.split()), output[-3000:]
        assert 'is undefined' not in output
        assert emulator.journal() == []


def test_skipping_the_argument_check_keeps_the_switches_checked(playbook, emulator):
    """ansible-core's check of the role's argument spec is a task tagged always: --skip-tags always left it out, and
    `| bool` took a mistyped switch as false, so -e harden_backup_vaults_fail_on_drift=ture turned the gate off and the
    run passed (rc 0) with drift. The role checks its switches itself, naming each, before any request."""
    rc, output = playbook('--skip-tags', 'always', '-e', 'harden_backup_vaults_fail_on_drift=ture',
                          '-e', 'harden_backup_vaults_fail_on_error=flase', '-e', '{"harden_backup_vaults_allow_empty_scope": 2}')
    assert rc != 0, output[-3000:]
    assert message(output) == ('harden_backup_vaults_fail_on_drift must be true or false; got "ture"; '
                               'harden_backup_vaults_fail_on_error must be true or false; got "flase"; '
                               'harden_backup_vaults_allow_empty_scope must be true or false; got 2; nothing was sent to Azure')
    assert 'Traceback' not in output
    assert emulator.journal() == []


def test_the_role_on_two_inventory_hosts_plans_and_applies_once(runner, emulator, tmp_path):
    """The role on two inventory hosts with one report directory: each host planned and applied the same fleet. With
    --forks 1 (and with serial: 1) the second host's apply came after the first, moved its journal aside, and its reports
    replaced the first's, which said what was changed (rc 0, the final drift.json said 0 vaults changed). The second host's
    plan is now refused before any request, naming the first host, and the first host's run changes each vault once and
    reports it."""
    emulator.load_fleet({'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-off', 'recovery_services', 'disabled'),
                                                          vault('bv-off', 'backup', 'disabled')]}]}]})
    emulator.clear_journal()
    for way, vault_name in (('forks', 'rsv-off'), ('serial', 'bv-off')):
        reports = tmp_path / way
        play = {'hosts': 'all', 'connection': 'local', 'gather_facts': False,
                'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}', 'harden_backup_vaults_report_dir': str(reports),
                         'harden_backup_vaults_vaults': [{'name': vault_name, 'resource_group': RG,
                                                          'vault_type': 'recovery_services' if way == 'forks' else 'backup'}]},
                'roles': [{'role': 'vaultlock.azure.harden_backup_vaults'}]}
        if way == 'serial':
            play['serial'] = 1
        path = tmp_path / ('%s.yml' % way)
        path.write_text(json.dumps([play]))
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'host-a,host-b,', '--forks', '1', str(path)]
        proc = subprocess.run(cmd, env=runner.env({'ANSIBLE_INVENTORY_ENABLED': 'host_list'}), capture_output=True, text=True,
                              timeout=300, check=False)
        output = ' '.join((proc.stdout + proc.stderr).split())
        assert proc.returncode != 0, (way, output[-3000:])
        assert 'Traceback' not in output
        assert ("harden_plan refused: host 'host-a' of this play already planned a run into the report directory '%s' in this "
                "ansible-playbook run" % os.path.realpath(str(reports))) in output, (way, output[-3000:])
        assert sorted(os.listdir(reports)) == ['drift.html', 'drift.json', 'drift.junit.xml', 'drift.md', 'drift.sarif', 'drift.scope.json']
        assert json.loads((reports / 'drift.json').read_text())['summary']['changed'] == 1
    # Each vault enabled once, by host-a.
    assert sorted(entry['path'].rsplit('/', 1)[1] for entry in emulator.writes()) == ['bv-off', 'rsv-off']


def test_two_inventory_hosts_with_report_directories_of_their_own_never_change_the_same_vault(runner, emulator, tmp_path):
    """The role on two inventory hosts, each with a report directory of its own (what the refusal of one shared directory
    advised): both hosts planned and applied the same fleet at once, each vault was written twice, and each host's reports
    said it had changed every vault (rc 0). The second host's plan of a vault the first host planned is now refused before
    any request, naming that host and the vault, in check mode too; hosts whose scopes do not overlap still run side by side."""
    emulator.load_fleet({'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-off', 'recovery_services', 'disabled'),
                                                          vault('bv-off', 'backup', 'disabled')]}]}]})
    emulator.clear_journal()
    listed = {'host-a': [{'name': 'rsv-off', 'resource_group': RG, 'vault_type': 'recovery_services'}],
              'host-b': [{'name': 'bv-off', 'resource_group': RG, 'vault_type': 'backup'}]}

    def play(name, scopes, check):
        variables = {'ansible_python_interpreter': '{{ ansible_playbook_python }}',
                     'harden_backup_vaults_report_dir': '%s/{{ inventory_hostname }}' % (tmp_path / name)}
        if scopes:
            variables['harden_backup_vaults_vaults'] = '{{ %s[inventory_hostname] }}' % json.dumps(scopes)
        path = tmp_path / ('%s.yml' % name)
        path.write_text(json.dumps([{'hosts': 'all', 'connection': 'local', 'gather_facts': False, 'vars': variables,
                                     'roles': [{'role': 'vaultlock.azure.harden_backup_vaults'}]}]))
        # --forks 1: host-a plans first (with more forks either host may be the first; the other is refused all the same).
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'host-a,host-b,', '--forks', '1', str(path)]
        proc = subprocess.run(cmd + (['--check'] if check else []), env=runner.env({'ANSIBLE_INVENTORY_ENABLED': 'host_list'}),
                              capture_output=True, text=True, timeout=300, check=False)
        return proc.returncode, ' '.join((proc.stdout + proc.stderr).split())

    refusal = ("harden_plan refused: host 'host-a' of this ansible-playbook run already planned the vaults %s: two hosts "
               "planning the same vault in one run would change it once per host")
    for check in (True, False):
        name = 'check' if check else 'apply'
        returncode, output = play(name, None, check)
        assert returncode != 0, output[-3000:]
        assert 'Traceback' not in output
        assert refusal % "'bv-off', 'rsv-off'" in output, output[-3000:]
        # host-b read the fleet and stopped: it wrote no report; host-a's run went on and reports what it did.
        assert not (tmp_path / name / 'host-b' / 'drift.json').exists()
        summary = json.loads((tmp_path / name / 'host-a' / 'drift.json').read_text())['summary']
        assert summary['changed'] == 2, summary         # would change (check mode), changed
    # Each vault enabled once, by host-a.
    assert sorted(entry['path'].rsplit('/', 1)[1] for entry in emulator.writes()) == ['bv-off', 'rsv-off']
    # Scopes that do not overlap: each host plans and reports its own vault.
    emulator.load_fleet({'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-off', 'recovery_services', 'disabled'),
                                                          vault('bv-off', 'backup', 'disabled')]}]}]})
    returncode, output = play('disjoint', listed, False)
    assert returncode == 0, output[-3000:]
    for host, name in (('host-a', 'rsv-off'), ('host-b', 'bv-off')):
        report = json.loads((tmp_path / 'disjoint' / host / 'drift.json').read_text())
        assert [v['name'] for v in report['vaults']] == [name] and report['summary']['changed'] == 1
    assert sorted(entry['path'].rsplit('/', 1)[1] for entry in emulator.writes()) == ['bv-off', 'rsv-off']


def test_options_module_defaults_give_the_role_s_steps_are_refused_naming_where_they_came_from(runner, emulator, tmp_path):
    """A play's group/vaultlock.azure.all default meant for the state modules (allow_irreversible: false), and a key of
    harden_backup_vaults_auth that is no authentication option (subscription for subscription_id), reach the role's
    harden_plan as module_defaults. ansible-core refused them as "Unsupported parameters for
    (ansible_collections.vaultlock.azure.plugins.action.harden_plan) module", naming a module the user never wrote and
    neither module_defaults nor the role variable. Now the message says where the option came from and what the group or
    the variable takes; nothing is sent, in check mode as for real."""
    emulator.load_fleet({'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-off', 'recovery_services', 'disabled')]}]}]})
    emulator.clear_journal()
    cases = {
        'group': ({'module_defaults': {'group/vaultlock.azure.all': {'allow_irreversible': False}}}, {},
                  "vaultlock.azure.harden_plan does not take 'allow_irreversible', which module_defaults gave it: a "
                  "group/vaultlock.azure.all default reaches every module of the collection"),
        'auth': ({}, {'harden_backup_vaults_auth': {'subscription': SUB1}},
                 "harden_backup_vaults_auth has 'subscription', which is no authentication option: its keys are the "
                 "authentication options of the collection's modules (api_retries, "),
    }
    for name, (keywords, variables, message) in cases.items():
        play = dict({'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
                     'vars': dict(variables, ansible_python_interpreter='{{ ansible_playbook_python }}',
                                  harden_backup_vaults_report_dir=str(tmp_path / name)),
                     'roles': [{'role': 'vaultlock.azure.harden_backup_vaults'}]}, **keywords)
        path = tmp_path / ('%s.yml' % name)
        path.write_text(json.dumps([play]))
        for check in ([], ['--check']):
            cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(path)] + check
            proc = subprocess.run(cmd, env=runner.env({'ANSIBLE_INVENTORY_ENABLED': 'host_list'}), capture_output=True, text=True,
                                  timeout=300, check=False)
            output = ' '.join((proc.stdout + proc.stderr).split())
            assert proc.returncode != 0, output[-3000:]
            assert message in output and 'nothing was sent to Azure' in output, output[-3000:]
            assert 'Unsupported parameters' not in output and 'Traceback' not in output
    assert emulator.journal() == []


def test_a_listed_vault_that_is_no_vault_name_or_id_fails_the_run_before_any_request(runner, emulator, tmp_path):
    """harden_backup_vaults_vaults with a typo in one entry (an underscore in a vault name, a name with a space, an id with
    a double slash): the run read and changed the other listed vaults, then failed with errors for the bad entries, a
    half-applied run on bad input. Each listed entry is now checked as an ARM id or name before any request: the run fails
    naming the entry, and no vault is read or changed."""
    emulator.load_fleet({'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-off', 'recovery_services', 'disabled')]}]}]})
    emulator.clear_journal()
    good = {'name': 'rsv-off', 'resource_group': RG, 'vault_type': 'recovery_services'}
    cases = [
        ({'id': vault_id('rsv_off')}, "harden_backup_vaults_vaults[1].id: vault name 'rsv_off' is not valid"),
        (dict(good, name='rsv off'), "harden_backup_vaults_vaults[1].name: vault name 'rsv off' is not valid"),
        ({'id': vault_id('rsv-off').replace('/resourceGroups', '//resourceGroups')},
         "harden_backup_vaults_vaults[1].id: '%s' is not an ARM id of a vault" % vault_id('rsv-off').replace('/resourceGroups', '//resourceGroups')),
        ({'id': vault_id('rsv-off')[:-len('vaults/rsv-off')] + 'backupPolicies/x'}, "harden_backup_vaults_vaults[1].id: '"),
        (dict(good, resource_group='rg/x'), "harden_backup_vaults_vaults[1].resource_group: resource group name 'rg/x' is not valid"),
    ]
    for index, (entry, message) in enumerate(cases):
        variables = {'harden_backup_vaults_vaults': [good, entry], 'harden_backup_vaults_report_dir': str(tmp_path / str(index))}
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', PLAYBOOK, '-e', json.dumps(variables)]
        proc = subprocess.run(cmd, env=runner.env({'ANSIBLE_INVENTORY_ENABLED': 'host_list'}), capture_output=True, text=True,
                              timeout=300, check=False)
        output = ' '.join((proc.stdout + proc.stderr).split())
        assert proc.returncode != 0, output[-3000:]
        assert message in output, (entry, output[-3000:])
        assert 'Traceback' not in output
        assert emulator.journal() == [], entry


def test_ignore_errors_on_the_import_never_runs_the_role_past_its_own_checks(runner, emulator, tmp_path):
    """ignore_errors: true on the role's import (so that a drift or error gate does not stop the rest of the play) also
    ignored the role's checks of its own variables: with a misspelt exclusion (harden_backup_vaults_exlude) the check
    failed, was ignored, and the run enabled immutability on the vault it meant to exclude (rc 0). The checks stop the
    role whatever the import says; nothing is sent."""
    emulator.load_fleet({'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-off', 'recovery_services', 'disabled')]}]}]})
    emulator.clear_journal()
    play = tmp_path / 'ignored.yml'
    play.write_text(json.dumps([{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
                                 'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'},
                                 'tasks': [{'name': 'Harden, whatever happens', 'ansible.builtin.import_role': {
                                     'name': 'vaultlock.azure.harden_backup_vaults'}, 'ignore_errors': True,
                                     'vars': {'harden_backup_vaults_report_dir': str(tmp_path / 'reports'),
                                              'harden_backup_vaults_exlude': ['rsv-off']}}]}]))
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(play)]
    proc = subprocess.run(cmd, env=runner.env({'ANSIBLE_INVENTORY_ENABLED': 'host_list'}), capture_output=True, text=True,
                          timeout=300, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert 'harden_backup_vaults_exlude is not a variable of the role' in ' '.join(output.split()), output[-3000:]
    assert '...ignoring' not in output
    assert emulator.journal() == []


def test_the_role_twice_in_one_play_into_one_report_dir_says_the_second_replaces_the_first(refused):
    """The role imported twice in one play (two scopes) with one report directory: the second run's reports replaced the
    first's without a word, so drift.json told of one scope only. The second plan warns, in the play and in the reports;
    a second import with a report directory of its own says nothing.

    Its play is the last part of the refused run (no refusal step plans, so none warns); it failing fails that run."""
    run = refused.run
    reports, own = refused.twice
    assert run['twice__end'] is not None, run.output[-3000:]     # the play ran to its end
    warning = ("an earlier run of harden_plan in this ansible-playbook run (the role imported twice in one play?) planned into "
               "the report directory '%s': this run's reports replace that run's there" % os.path.realpath(str(reports)))
    # White space aside: ansible-core 2.17 wraps a warning at 79 columns, at hyphens too (a path's "pytest-of-" ends a line).
    assert ''.join(run.output.split()).count(''.join(warning.split())) == 1, run.output[-3000:]
    assert warning in ' '.join(json.loads((reports / 'drift.json').read_text())['warnings'])
    assert not any('an earlier run of harden_plan' in item for item in json.loads((own / 'drift.json').read_text())['warnings'])
    assert [e for e in PartState(run, 'twice__start', 'twice__end').journal() if is_write(e)] == []
