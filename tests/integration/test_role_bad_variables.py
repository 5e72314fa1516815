# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad role variables fail the harden_backup_vaults role clearly, in check mode, before any write.

One ansible-playbook run for all the cases (issue 24), with --check as each case's own run had: each case is a block of
its own that imports the role with the case's variables, and whose rescue keeps what failed; a case that does not fail
records that too. Each case is still a test of its own, on its own block's result. The collection playbook does nothing
else than run the role on localhost with the playbook's Python (playbooks/harden_backup_vaults.yml), which the play
below does too.

The same run holds the role variables that only a source written for the run may give (consent, lock requirements looser
than the defaults): an inventory of two more hosts, one whose group_vars consent and one whose host_vars loosen the lock
gate, runs the role (still in check mode) with nothing else, then with the same values in the import's vars, in the
play's vars and as role parameters. A group_vars file for all the inventory's hosts gives variables that the import's
vars read through templates (lock_ok, site_requirements), as does a lookup of the run's environment: refused, where a
template of variables the import's vars give themselves is kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible.release import __version__ as core_version

from tests.emulator.client import is_write
from tests.integration.conftest import collect_results
from tests.integration.fleets import RG, vault_id
from tests.integration.role_steps import ROLE, role_case


CASES = [
    ({'harden_backup_vaults_immutability': 'sealed'}, 'harden_backup_vaults_immutability'),
    ({'harden_backup_vaults_immutability': 'locked'}, 'set harden_backup_vaults_allow_irreversible: true'),
    ({'harden_backup_vaults_retention_mode': 'raise'}, 'harden_backup_vaults_retention_mode'),
    ({'harden_backup_vaults_vaults': [{'id': vault_id('x'), 'name': 'x'}]}, 'mutually exclusive'),
    ({'harden_backup_vaults_vaults': [{'name': 'x'}]}, 'resource_group'),
    ({'harden_backup_vaults_soft_delete': {'state': 'enabled'}}, 'state'),
    ({'harden_backup_vaults_fail_on_drift': 'maybe'}, 'harden_backup_vaults_fail_on_drift'),
    ({'harden_backup_vaults_retention_minimum': {'daily': 'thirty days'}}, 'minimum.daily'),
    ({'harden_backup_vaults_discover': False}, 'no vaults to check'),
    # An empty resource group (a variable that is not set) read the whole subscription instead of refusing.
    ({'harden_backup_vaults_resource_groups': [RG, '']}, "harden_backup_vaults_resource_groups[1]: resource group name '' is not valid"),
    ({'harden_backup_vaults_resource_groups': ''}, "harden_backup_vaults_resource_groups[0]: resource group name '' is not valid"),
    # Counts below 1 were taken as 1 (apply and discovery concurrency) or refused only by a real run (apply processes).
    ({'harden_backup_vaults_apply_processes': 0}, 'harden_backup_vaults_apply_processes must be at least 1'),
    ({'harden_backup_vaults_apply_concurrency': -3}, 'harden_backup_vaults_apply_concurrency must be at least 1; got -3'),
    ({'harden_backup_vaults_discovery_concurrency': 0}, 'harden_backup_vaults_discovery_concurrency must be at least 1; got 0'),
    # A boolean (an unquoted yes) is no count, though Python counts true as 1; refused in check mode as in the run.
    # Shown as written (true), never as Python's True.
    ({'harden_backup_vaults_apply_concurrency': True}, 'harden_backup_vaults_apply_concurrency must be at least 1; got true'),
    ({'harden_backup_vaults_apply_processes': False}, 'harden_backup_vaults_apply_processes must be at least 1 (null: one per CPU core '
                                                      'of the controller); got false'),
    ({'harden_backup_vaults_soft_delete': {'state': 'on', 'retention_days': True}},
     'harden_backup_vaults_soft_delete.retention_days must be a whole number of days from 14 to 180, got true'),
    # A baseline value out of range named baseline.<key>, a name the role's user never wrote: the message names the variable.
    ({'harden_backup_vaults_soft_delete': {'state': 'on', 'retention_days': 500}},
     'harden_backup_vaults_soft_delete.retention_days must be a whole number of days from 14 to 180, got 500'),
    ({'harden_backup_vaults_retention_minimum': {'daily': '20000d'}},
     'harden_backup_vaults_retention_minimum.daily is 20000d, above the longest daily retention Azure accepts for any policy'),
    ({'harden_backup_vaults_retention_minimum': {'default': {'OperationalStore': '2y'}}},
     'harden_backup_vaults_retention_minimum.default.OperationalStore is 2y, above the longest default retention'),
    ({'harden_backup_vaults_alerts': {'job_failure_alerts': 'on'}}, "harden_backup_vaults_alerts.job_failure_alerts must be enabled, disabled"),
    ({'harden_backup_vaults_storage_redundancy': ['Geo']}, "harden_backup_vaults_storage_redundancy must list only"),
    ({'harden_backup_vaults_resource_guard_id': 'notanid'}, "harden_backup_vaults_resource_guard_id must be the ARM id of a Resource Guard"),
    ({'harden_backup_vaults_discovery_concurrency': True}, 'harden_backup_vaults_discovery_concurrency must be at least 1; got true'),
    # YAML's .inf, -.inf and .nan for a count or a number of days: ansible-core's role argument check failed with its own
    # exception ("cannot convert Infinity to integer"), naming no variable.
    ({'harden_backup_vaults_apply_concurrency': float('inf')},
     'harden_backup_vaults_apply_concurrency is not a finite number (YAML .inf, -.inf or .nan): give a whole number of at least 1'),
    ({'harden_backup_vaults_discovery_concurrency': float('-inf')},
     'harden_backup_vaults_discovery_concurrency is not a finite number (YAML .inf, -.inf or .nan): give a whole number of at least 1'),
    ({'harden_backup_vaults_apply_processes': float('nan')},
     'harden_backup_vaults_apply_processes is not a finite number (YAML .inf, -.inf or .nan): give a whole number of at least 1'),
    ({'harden_backup_vaults_soft_delete': {'state': 'on', 'retention_days': float('inf')}},
     'harden_backup_vaults_soft_delete.retention_days is not a finite number (YAML .inf, -.inf or .nan): give a whole number of days'),
    ({'harden_backup_vaults_baselines': [{'name': 'prod', 'match': {'names': ['rsv-*']}, 'soft_delete': {'state': 'on', 'retention_days': float('-inf')}}]},
     'harden_backup_vaults_baselines[0].soft_delete.retention_days is not a finite number (YAML .inf, -.inf or .nan)'),
    ({'harden_backup_vaults_apply_concurrency': 2.5}, 'harden_backup_vaults_apply_concurrency must be a whole number of at least 1; got 2.5'),
    # An exclusion id with a look-alike letter (Cyrillic o) excluded nothing, and the vault it shows was changed.
    ({'harden_backup_vaults_exclude': [vault_id('rsv-pr\u043ed')]}, 'it holds U+043E CYRILLIC SMALL LETTER O, so it would exclude nothing'),
    # An unquoted yes is a boolean, matched as the text 'True': vaults tagged backup=yes were left out without a word.
    ({'harden_backup_vaults_tags': {'backup': True}}, "harden_backup_vaults_tags.backup: true is not text (bool), and Azure tag values are text"),
    # The plan's refusals of the role's other variables named the planning task's options (subscription_ids[0]) instead.
    ({'harden_backup_vaults_subscription_ids': ['prod-sub']}, "harden_backup_vaults_subscription_ids[0]: 'prod-sub' is not a subscription id"),
    # A report directory that cannot be made said the system's 'File exists' or 'Not a directory', not which path was wrong.
    ({'harden_backup_vaults_report_dir': '/dev/null'}, "cannot create the report directory '/dev/null': it exists and is not a directory"),
    ({'harden_backup_vaults_report_dir': '/dev/null/reports'}, "'/dev/null', on its way, is not a directory"),
    # A lock requirement that came out empty was no requirement: vaults with soft delete off were locked.
    ({'harden_backup_vaults_lock_requirements': {'require_soft_delete': ''}},
     "harden_backup_vaults_lock_requirements.require_soft_delete is '' (from a variable that came out empty?)"),
    # default(omit), the idiom that leaves out a module option, leaves no role variable out: immutability became null (not
    # checked, the run passed), fail_on_error failed in ansible-core ("_OmitType is not JSON serializable"), a dictionary
    # was refused as "_OmitType".
    ({'harden_backup_vaults_immutability': '{{ site_immutability | default(omit) }}'},
     "harden_backup_vaults_immutability is omit (default(omit) or omit): omit leaves out a module option, not a role variable"),
    ({'harden_backup_vaults_fail_on_error': '{{ omit }}', 'harden_backup_vaults_soft_delete': '{{ omit }}'},
     "harden_backup_vaults_soft_delete, harden_backup_vaults_fail_on_error are omit"),
]


def strings(value):
    """Every string in a task result (its msg, argument_errors, ...), for looking up a message in what failed."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


CONSENT = 'harden_backup_vaults_allow_irreversible'
REQUIREMENTS = 'harden_backup_vaults_lock_requirements'
LOOSE = {'require_soft_delete': None}
CONSENTING = 'consent-group-vars'       # its group's group_vars consent
LOOSENED = 'loose-host-vars'            # its host_vars loosen the lock gate
# What the inventory's group_vars/all.yml gives every inventory host: read by templates written for the run.
SITE = {'lock_ok': True, 'site_requirements': LOOSE}
# The run's environment, read by a lookup written for the run.
CONSENT_ENV = 'VAULTLOCK_TEST_CONSENT'
# Templates in the import's vars: of the inventory's variables, of a lookup, nested in a tier (each refused); of the
# import's own variables (kept).
TEMPLATE_CASES = {
    'template_inventory': {CONSENT: '{{ lock_ok }}', REQUIREMENTS: '{{ site_requirements }}'},
    'template_lookup': {CONSENT: "{{ lookup('ansible.builtin.env', '%s') }}" % CONSENT_ENV},
    # The run's environment and the controller's files without a lookup (a filter, a test through select() under other
    # delimiters): consented before the seventh hostile pass.
    'template_environment': {CONSENT: "{{ '$%s' | expandvars }}" % CONSENT_ENV},
    'template_files': {CONSENT: "#jinja2:variable_start_string:'[[',variable_end_string:']]'\n[[ ['/'] | select('exists') | list | length > 0 ]]"},
    'template_tier': {'harden_backup_vaults_baselines': [{'name': 'prod', 'match': {'names': ['rsv-prod-*']},
                                                          'lock_requirements': '{{ site_requirements }}'}]},
    'template_run_scoped': {CONSENT: '{{ run_ok }}', 'run_ok': 'yes', REQUIREMENTS: '{{ run_requirements }}', 'run_requirements': LOOSE},
}
# (result name, host): what each inventory host's cases set, collected at the end of the run as NAME@HOST.
INVENTORY_RESULTS = [('inventory_only', CONSENTING), ('inventory_only', LOOSENED), ('import_vars', CONSENTING),
                     ('import_vars', LOOSENED), ('play_vars', CONSENTING), ('role_params', CONSENTING),
                     ('vars_files_only', 'localhost'), ('other_role', 'localhost')]
INVENTORY_RESULTS += [(name, host) for name in TEMPLATE_CASES for host in (CONSENTING, LOOSENED)]


def write_inventory(tmp):
    """An ini inventory of the two hosts (ansible_connection local), with a group_vars and a host_vars file beside it."""
    directory = tmp / 'inventory'
    (directory / 'group_vars').mkdir(parents=True, exist_ok=True)
    (directory / 'host_vars').mkdir(exist_ok=True)
    (directory / 'group_vars' / 'consenting.yml').write_text(yaml.safe_dump({CONSENT: True}))
    (directory / 'host_vars' / ('%s.yml' % LOOSENED)).write_text(yaml.safe_dump({REQUIREMENTS: LOOSE}))
    (directory / 'group_vars' / 'all.yml').write_text(yaml.safe_dump(SITE))
    # What an insider who edits vars files but not the playbook may change: a vars file the play reads (vars_files), and
    # another role's vars/main.yml (a role's vars reach the whole play).
    (tmp / 'site-vars.yml').write_text(yaml.safe_dump({CONSENT: True, REQUIREMENTS: LOOSE}))
    (tmp / 'sidecar' / 'vars').mkdir(parents=True, exist_ok=True)
    (tmp / 'sidecar' / 'tasks').mkdir(exist_ok=True)
    (tmp / 'sidecar' / 'vars' / 'main.yml').write_text(yaml.safe_dump({CONSENT: 'yes'}))
    (tmp / 'sidecar' / 'tasks' / 'main.yml').write_text(yaml.safe_dump([{'name': 'sidecar', 'ansible.builtin.meta': 'noop'}]))
    path = directory / 'hosts.ini'
    path.write_text('[consenting]\n%s ansible_connection=local\n\n[loosened]\n%s ansible_connection=local\n' % (CONSENTING, LOOSENED))
    return path


def inventory_plays(tmp):
    """The plays of the inventory hosts: the role with the inventory's values only (refused), with the same values in the
    import's vars, in the play's vars, and as role parameters (each kept)."""
    report_dir = str(tmp) + '/reports-{{ inventory_hostname }}-'
    empty = {'harden_backup_vaults_allow_empty_scope': True}     # this run's emulator holds no vault
    common = {'gather_facts': False, 'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'}}
    return [
        dict(common, name='Inventory values', hosts='%s,%s' % (CONSENTING, LOOSENED), tasks=[
            role_case('inventory_only', report_dir + 'inventory', empty),
            role_case('import_vars', report_dir + 'import', dict(empty, **{CONSENT: True, REQUIREMENTS: LOOSE})),
        ] + [role_case(name, report_dir + name, dict(empty, **role_vars)) for name, role_vars in TEMPLATE_CASES.items()]),
        dict(common, name='Consent in the play\'s vars', hosts=CONSENTING,
             vars=dict(common['vars'], **empty, **{CONSENT: 'yes', 'harden_backup_vaults_report_dir': report_dir + 'play'}),
             tasks=[{'name': 'play_vars: passed', 'ansible.builtin.set_fact': {'play_vars': {'failed': False}}}],
             pre_tasks=[{'ansible.builtin.import_role': {'name': ROLE}}]),
        dict(common, name='Consent as a role parameter', hosts=CONSENTING,
             roles=[dict(empty, role=ROLE, harden_backup_vaults_report_dir=report_dir + 'params', **{CONSENT: True})],
             tasks=[{'name': 'role_params: passed', 'ansible.builtin.set_fact': {'role_params': {'failed': False}}}]),
        dict(common, name='Consent from a vars file', hosts='localhost', connection='local', vars_files=[str(tmp / 'site-vars.yml')],
             tasks=[role_case('vars_files_only', report_dir + 'vars-files', empty)]),
        dict(common, name='Consent from another role', hosts='localhost', connection='local', roles=[str(tmp / 'sidecar')],
             tasks=[role_case('other_role', report_dir + 'other-role', empty)]),
    ]


@pytest.fixture(scope='module')
def shared(module_runner):
    emulator = module_runner.emulator
    emulator.reset()
    emulator.clear_journal()
    tmp = module_runner.tmp_path
    tasks = []
    for index, (variables, _message) in enumerate(CASES):
        name = 'case%d' % index
        role_vars = dict({'harden_backup_vaults_report_dir': str(tmp / ('reports-%d' % index))}, **variables)
        tasks.append({
            'name': name,
            'block': [
                {'name': '%s: the role' % name, 'ansible.builtin.import_role': {'name': ROLE}, 'vars': role_vars},
                {'name': '%s: passed' % name, 'ansible.builtin.set_fact': {name: {'failed': False}}},
            ],
            'rescue': [
                {'name': '%s: failed' % name, 'ansible.builtin.set_fact': {
                    name: {'failed': True, 'task': '{{ ansible_failed_task.name }}', 'result': '{{ ansible_failed_result }}'}}},
            ],
        })
    collect = '{{ {%s} | to_json }}' % ', '.join(["'case%d': case%d" % (i, i) for i in range(len(CASES))] + [
        "'%s@%s': hostvars['%s'].%s | default(None)" % (key, host, host, key) for key, host in INVENTORY_RESULTS])
    out = tmp / 'results.json'
    play = {'name': 'Bad role variables', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
            'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'}, 'tasks': tasks}
    collect_play = {'name': 'Collect', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
                    'tasks': [collect_results(collect, out)]}
    path = tmp / 'bad-variables.yml'
    path.write_text(yaml.safe_dump([play] + inventory_plays(tmp) + [collect_play], sort_keys=False))
    inventory = write_inventory(tmp)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-i', str(inventory),
                           str(path), '--check'],
                          env=module_runner.env({'ANSIBLE_INVENTORY_ENABLED': 'host_list,ini', CONSENT_ENV: 'true'}), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0 and out.exists(), proc.stdout[-4000:] + proc.stderr[-4000:]
    return {'results': json.loads(out.read_text()), 'journal': emulator.journal(), 'output': proc.stdout + proc.stderr}


@pytest.mark.parametrize('index', range(len(CASES)), ids=['%s-%s' % (next(iter(v)), m) for v, m in CASES])
def test_bad_variables_fail_with_clear_messages(shared, index):
    _variables, message = CASES[index]
    case = shared['results']['case%d' % index]
    # The role failed (the block's rescue ran), in a task of the role, with the message.
    assert case['failed'] is True, shared['output'][-3000:]
    assert case['task'] and not case['task'].startswith('case%d:' % index), case
    omitted = [name for name, value in _variables.items() if 'omit' in str(value)]
    if omitted and tuple(int(part) for part in core_version.split('.')[:2]) < (2, 19):
        # ansible-core 2.17 and 2.18 give the role's argument check omit's placeholder text, which it refuses first,
        # naming a variable whose type the placeholder does not meet (2.19 leaves the variable out, and the role's own check
        # names each as omit).
        assert any(any(name in text for name in omitted) and '__omit_place_holder__' in text
                   for text in strings(case['result'])), case['result']
    else:
        assert any(message in text for text in strings(case['result'])), case['result']
    # No case wrote anything (the run's whole journal).
    assert [e for e in shared['journal'] if is_write(e)] == []


@pytest.mark.parametrize('host, variable, why', [
    (CONSENTING, '%s: true comes from the inventory' % CONSENT, 'consents to irreversible changes'),
    (LOOSENED, '%s comes from the inventory' % REQUIREMENTS,
     'is looser than the default lock requirements (require_soft_delete: null where the default is on)'),
])
def test_consent_and_a_looser_lock_gate_from_the_inventory_are_refused_in_check_mode(shared, host, variable, why):
    """group_vars consented for the run, and host_vars loosened the lock gate: now refused by the planning task, before any
    request, in this check-mode run, naming the variable, where it came from and where to give it."""
    case = shared['results']['inventory_only@%s' % host]
    assert case['failed'] is True, shared['output'][-3000:]
    assert case['task'] == 'Discover vaults and plan the run', case
    message = case['result']['msg']
    assert message.startswith(variable) and why in message, message
    assert 'with -e (JSON for a dictionary), in the play\'s vars, as a role parameter' in message
    assert message.endswith('nothing was sent to Azure')


@pytest.mark.parametrize('key, messages', [
    ('vars_files_only@localhost', ['%s: true comes from a source not written for the run' % CONSENT,
                                   '%s comes from a source not written for the run' % REQUIREMENTS]),
    ('other_role@localhost', ['%s: true comes from a source not written for the run' % CONSENT]),
])
def test_consent_and_a_looser_lock_gate_from_vars_files_or_another_role_are_refused(shared, key, messages):
    """A vars file the play reads, and another role's vars/main.yml, consented and loosened the lock gate (a real run locked
    the vault): only the sources written for the run vouch for them, so they are refused like the inventory's."""
    case = shared['results'][key]
    assert case['failed'] is True, (case, shared['output'][-3000:])
    assert case['task'] == 'Discover vaults and plan the run', case
    message = case['result']['msg']
    assert message.startswith(messages[0]) and all(text in message for text in messages), message
    assert "(a play's vars_files, another role's vars or defaults, a loop variable, or dictionaries merged" in message
    assert message.endswith('nothing was sent to Azure')


@pytest.mark.parametrize('key', ['import_vars@%s' % CONSENTING, 'import_vars@%s' % LOOSENED, 'play_vars@%s' % CONSENTING,
                                 'role_params@%s' % CONSENTING, 'template_run_scoped@%s' % CONSENTING,
                                 'template_run_scoped@%s' % LOOSENED])
def test_the_same_values_written_for_the_run_are_kept(shared, key):
    """The import's vars, the play's vars and role parameters are written for the run: the same consent and lock
    requirements given there count, whatever the inventory says."""
    assert shared['results'][key] == {'failed': False}, (shared['results'][key], shared['output'][-3000:])


@pytest.mark.parametrize('name, messages', [
    ('template_inventory', ['%s: true is given for the run as a template that reads lock_ok, and consents to irreversible changes' % CONSENT,
                            '%s is given for the run as a template that reads site_requirements, and is looser than the default '
                            'lock requirements (require_soft_delete: null where the default is on)' % REQUIREMENTS]),
    ('template_lookup', ['%s: true is given for the run as a template that calls lookup(ansible.builtin.env), and consents' % CONSENT]),
    ('template_environment', ["%s: true is given for the run as a template that reads the controller's environment or files "
                              "(| expandvars), and consents" % CONSENT]),
    ('template_files', ["%s: true is given for the run as a template that tests the controller's files (exists), and consents" % CONSENT]),
    ('template_tier', ['harden_backup_vaults_baselines is given for the run as a template that reads site_requirements, and gives lock '
                       'requirements looser than the defaults (tier prod: require_soft_delete: null where the default is on)']),
])
@pytest.mark.parametrize('host', [CONSENTING, LOOSENED])
def test_a_template_written_for_the_run_that_reads_the_inventory_or_a_lookup_is_refused(shared, name, messages, host):
    """The import's vars consented and loosened the lock gate through templates of group_vars/all.yml's variables, of the
    run's environment (a lookup), and nested in a tier: whoever edits group_vars (or the controller's environment) gave the
    consent again. Refused by the planning task, in check mode, before any request, naming what the template reads (with
    what the host's own group_vars or host_vars give, refused as before)."""
    case = shared['results']['%s@%s' % (name, host)]
    assert case['failed'] is True, (case, shared['output'][-3000:])
    assert case['task'] == 'Discover vaults and plan the run', case
    message = case['result']['msg']
    assert all(text in message for text in messages), message
    assert 'a template counts only when every variable it reads is itself written for the run, and never with a lookup' in message
    assert message.endswith('nothing was sent to Azure')
