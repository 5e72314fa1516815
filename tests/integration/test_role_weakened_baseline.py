# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A baseline weaker than the role's defaults is never a silent pass (the hostile operator's twelfth pass).

Whoever may edit the inventory could set the role's baseline variables weaker than its defaults (immutability not checked,
a shorter daily retention minimum, soft delete retention days not checked): the run read as compliant where the defaults
would find drift, and a value that asks a run to lower vaults (immutability disabled) made the role turn immutability
off. One ansible-playbook run in check mode, on a fleet of two vaults, with an inventory of two hosts:

- ``weak-inventory`` (group ``dev``): the YAML inventory file's group vars give immutability null, group_vars/dev.yml a
  daily minimum of 7d, host_vars/weak-inventory.yml soft delete without retention days. Kept (inventory is where baselines
  live), and named in harden_plan's warnings and in every report, with the value and the group, host and file kind;
- ``lowering-inventory`` (group ``lower``): group_vars/lower.yml asks for immutability disabled: refused by the planning
  task, before any request, naming the variable, its value and where it came from;
- localhost with immutability disabled in the play's vars and a 7d minimum as a role parameter: written for the run, so
  kept, and named in the warnings with those sources.
"""

from __future__ import annotations

import html
import json
import os
import pathlib
import subprocess
import sys

import jsonschema
import pytest
import yaml

from tests.emulator.client import is_write
from tests.integration.conftest import collect_results
from tests.integration.fleets import RG, SUB1, vault
from tests.integration.role_steps import ROLE, role_case

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / 'docs' / 'drift-report-schema.json').read_text())
SARIF_SCHEMA = json.loads((REPO / 'tests' / 'fixtures' / 'sarif' / 'sarif-schema-2.1.0.json').read_text())
WEAK = 'weak-inventory'
LOWERING = 'lowering-inventory'
IMMUTABILITY = 'harden_backup_vaults_immutability'
MINIMUM = 'harden_backup_vaults_retention_minimum'
SOFT_DELETE = 'harden_backup_vaults_soft_delete'


def fleet():
    """An enabled and a disabled Recovery Services vault: immutability disabled in the baseline would turn the first off."""
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-enabled', 'recovery_services', 'enabled'),
            vault('rsv-disabled', 'recovery_services', 'disabled'),
        ]}]}]}


def write_inventory(tmp):
    """A YAML inventory of the two hosts (group vars in the file itself), with group_vars and host_vars beside it."""
    directory = tmp / 'inventory'
    (directory / 'group_vars').mkdir(parents=True, exist_ok=True)
    (directory / 'host_vars').mkdir(exist_ok=True)
    (directory / 'group_vars' / 'dev.yml').write_text(yaml.safe_dump({MINIMUM: {'daily': '7d'}}))
    (directory / 'host_vars' / ('%s.yml' % WEAK)).write_text(yaml.safe_dump({SOFT_DELETE: {'state': 'on'}}))
    (directory / 'group_vars' / 'lower.yml').write_text(yaml.safe_dump({IMMUTABILITY: 'disabled'}))
    path = directory / 'hosts.yml'
    local = {'ansible_connection': 'local'}
    path.write_text(yaml.safe_dump({'all': {'children': {
        'dev': {'hosts': {WEAK: local}, 'vars': {IMMUTABILITY: None}},
        'lower': {'hosts': {LOWERING: local}},
    }}}))
    return path


@pytest.fixture(scope='module')
def shared(module_runner):
    emulator = module_runner.emulator
    emulator.reset()
    emulator.load_fleet(fleet())
    emulator.clear_journal()
    tmp = module_runner.tmp_path
    reports = str(tmp) + '/reports-{{ inventory_hostname }}'
    common = {'gather_facts': False, 'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'}}
    plays = [
        dict(common, name='Inventory values', hosts='%s,%s' % (WEAK, LOWERING), tasks=[role_case('inventory', reports)]),
        dict(common, name='Values of the run', hosts='localhost', connection='local',
             vars=dict(common['vars'], **{IMMUTABILITY: 'disabled', 'harden_backup_vaults_report_dir': reports + '-run'}),
             roles=[{'role': ROLE, MINIMUM: {'daily': '7d'}}],
             tasks=[{'name': 'run: passed', 'ansible.builtin.set_fact': {'run': {'failed': False}}}]),
        {'name': 'Collect', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': [collect_results(
            '{{ {"weak": hostvars["%s"].inventory | default(None), "lowering": hostvars["%s"].inventory | default(None), '
            '"run": run | default(None)} | to_json }}' % (WEAK, LOWERING), tmp / 'results.json')]},
    ]
    path = tmp / 'weakened.yml'
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    inventory = write_inventory(tmp)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-i', str(inventory),
                           str(path), '--check'],
                          env=module_runner.env({'ANSIBLE_INVENTORY_ENABLED': 'host_list,yaml'}), capture_output=True, text=True,
                          timeout=300, check=False)
    out = tmp / 'results.json'
    assert out.exists(), proc.stdout[-4000:] + proc.stderr[-4000:]
    return {'results': json.loads(out.read_text()), 'journal': emulator.journal(), 'output': proc.stdout + proc.stderr,
            'tmp': tmp, 'rc': proc.returncode}


def reports(tmp, host):
    directory = tmp / ('reports-%s' % host)
    return {name: (directory / name).read_text() for name in ('drift.json', 'drift.md', 'drift.html', 'drift.junit.xml', 'drift.sarif')}


def test_a_weaker_baseline_from_the_inventory_is_named_in_every_report_with_its_source(shared):
    """The inventory file's group vars, group_vars and host_vars weakened the baseline: the run is kept (check mode, nothing
    written), and harden_plan's warnings and all five reports name each weaker key, its value and where it came from."""
    assert shared['results']['weak'] == {'failed': False}, shared['output'][-4000:]
    files = reports(shared['tmp'], WEAK)
    report = json.loads(files['drift.json'])
    jsonschema.validate(report, SCHEMA)
    by_variable = dict((entry['variable'], entry) for entry in report['weakened_baseline'])
    assert sorted(by_variable) == [IMMUTABILITY, MINIMUM, SOFT_DELETE]
    assert by_variable[IMMUTABILITY]['value'] is None and by_variable[IMMUTABILITY]['default'] == 'enabled'
    assert by_variable[IMMUTABILITY]['source'] == "the inventory: the inventory file's variables of group 'dev'"
    assert by_variable[MINIMUM]['value'] == {'daily': '7d'} and by_variable[MINIMUM]['default'] == {'daily': '30d'}
    assert by_variable[MINIMUM]['source'] == "the inventory: group_vars of group 'dev' (beside the inventory)"
    assert by_variable[SOFT_DELETE]['value'] == {'state': 'on', 'retention_days': None}
    assert by_variable[SOFT_DELETE]['source'] == "the inventory: host_vars of host '%s' (beside the inventory)" % WEAK
    assert not [entry for entry in report['weakened_baseline'] if entry['lowers'] or entry['for_run']]
    expected = [
        "harden_backup_vaults_immutability is null, weaker than the role's default enabled: it checks no immutability (the default "
        "checks that every vault is at least enabled); from the inventory: the inventory file's variables of group 'dev'",
        "harden_backup_vaults_retention_minimum is {\"daily\": \"7d\"}, weaker than the role's default {\"daily\": \"30d\"}: it holds "
        "daily tiers to 7d, less than the default 30d; from the inventory: group_vars of group 'dev' (beside the inventory)",
        "harden_backup_vaults_soft_delete is {\"retention_days\": null, \"state\": \"on\"}, weaker than the role's default "
        "{\"retention_days\": 14, \"state\": \"on\"}: it checks no soft delete retention days (the default checks at least 14); "
        "from the inventory: host_vars of host '%s' (beside the inventory)" % WEAK,
    ]
    assert sorted(w for w in report['warnings'] if 'weaker than the role' in w) == expected
    # harden_plan's warnings (Ansible writes them to the run's output), and every other report, each in its own escaping.
    assert "harden_backup_vaults_immutability is null, weaker than the role's default enabled" in ' '.join(shared['output'].split())
    for text in expected:
        head = text.split(',', maxsplit=1)[0]
        assert head in files['drift.md'].replace('\\', ''), head
        assert head in html.unescape(files['drift.html']) and head in html.unescape(files['drift.junit.xml']), head
    assert "group_vars of group 'dev' (beside the inventory)" in files['drift.md'].replace('\\', '')
    assert "group_vars of group 'dev' (beside the inventory)" in html.unescape(files['drift.html'])
    sarif = json.loads(files['drift.sarif'])
    jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(sarif)
    notes = [n['message']['text'] for n in sarif['runs'][0]['invocations'][0]['toolExecutionNotifications']]
    assert sorted(n for n in notes if 'weaker than the role' in n) == expected
    # ... and a result each (an alert of code scanning), located at the variable, its text the warning's.
    results = [r for r in sarif['runs'][0]['results'] if r['ruleId'] == 'baseline_weakened']
    assert sorted(r['message']['text'] for r in results) == [text + '.' for text in expected]
    assert sorted(r['locations'][0]['physicalLocation']['artifactLocation']['uri'] for r in results) == [
        'harden_backup_vaults/baseline/' + name for name in (IMMUTABILITY, MINIMUM, SOFT_DELETE)]
    assert {r['level'] for r in results} == {'warning'}
    assert 'baseline_weakened' in [rule['id'] for rule in sarif['runs'][0]['tool']['driver']['rules']]


def test_a_baseline_from_the_inventory_that_lowers_vaults_is_refused_before_any_request(shared):
    """group_vars asking for immutability disabled made the role turn immutability off on every enabled vault: now the
    planning task refuses it, naming the variable, its value and the group_vars file's group, and nothing is sent."""
    case = shared['results']['lowering']
    assert case['failed'] is True, shared['output'][-4000:]
    assert case['task'] == 'Discover vaults and plan the run'
    msg = case['result']['msg']
    assert msg.startswith('the baseline asks a run to weaken vaults, and the value that asks it is not written for this run: '
                          'harden_backup_vaults_immutability is disabled (it asks for immutability disabled: a run turns '
                          'immutability off on every vault that has it enabled')
    assert "from the inventory: group_vars of group 'lower' (beside the inventory)" in msg
    assert msg.endswith('nothing was sent to Azure')
    assert not (shared['tmp'] / ('reports-%s' % LOWERING) / 'drift.json').exists()
    assert [entry for entry in shared['journal'] if is_write(entry)] == []


def test_a_weaker_baseline_written_for_the_run_is_kept_and_named(shared):
    """The play's vars asked for immutability disabled and a role parameter for a 7d minimum: written for the run, so the
    plan keeps them (check mode: it would turn rsv-enabled off), and the warnings name them with those sources."""
    assert shared['results']['run'] == {'failed': False}, shared['output'][-4000:]
    report = json.loads((shared['tmp'] / 'reports-localhost-run' / 'drift.json').read_text())
    jsonschema.validate(report, SCHEMA)
    by_variable = dict((entry['variable'], entry) for entry in report['weakened_baseline'])
    assert by_variable[IMMUTABILITY]['source'] == "the play's vars" and by_variable[IMMUTABILITY]['lowers'] is True
    assert by_variable[IMMUTABILITY]['for_run'] is True
    assert by_variable[MINIMUM]['source'] == 'role parameters' and by_variable[MINIMUM]['value'] == {'daily': '7d'}
    assert [c['name'] for c in report['changed']] == ['rsv-enabled']
    sarif = json.loads((shared['tmp'] / 'reports-localhost-run' / 'drift.sarif').read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(sarif)
    levels = dict((r['properties']['variable'], r['level']) for r in sarif['runs'][0]['results'] if r['ruleId'] == 'baseline_weakened')
    assert levels == {IMMUTABILITY: 'error', MINIMUM: 'warning'}
    assert [entry for entry in shared['journal'] if is_write(entry)] == []
