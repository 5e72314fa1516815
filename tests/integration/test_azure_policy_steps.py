# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Policy verdicts in the harden_backup_vaults role's reports, each scenario's runs as steps of one
ansible-playbook run (tests/integration/role_steps.py): check mode through Resource Graph and ARM, with the definitions'
defaults and with other parameters, equals the tests' evaluator of the definitions; an apply judges the vaults as read;
an empty harden_backup_vaults_azure_policy turns the section off; a bad one fails before any request. The fleet and the
evaluator are test_azure_policy.py's."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from tests.integration.batching import Batch
from tests.integration.conftest import fresh_fleet
from tests.integration.role_steps import step
from tests.integration.test_azure_policy import DEFAULTS, SCHEMA, check_files, expected, oracle, policy_fleet, reported, stored

FILES = ('drift.json', 'drift.md', 'drift.html', 'drift.sarif')


def files_of(run):
    return dict((f, (run.report_dir / f).read_text()) for f in FILES if (run.report_dir / f).exists())


def check_steps():
    """The check scenario's steps and its runs: (name, discovery, the role's variable, the parameters it amounts to)."""
    rng = oracle.random_rng(2701)
    non_default = dict((d['name'], oracle.random_parameters(d, rng)) for _f, d in oracle.load_definitions())
    # Every definition judged at least once with a parameter other than its default.
    for _f, definition in oracle.load_definitions():
        for key, spec in definition['properties']['parameters'].items():
            if key != 'effect' and spec.get('allowedValues'):
                non_default[definition['name']][key] = next(v for v in spec['allowedValues'] if v != spec['defaultValue'])
        effects = [v for v in definition['properties']['parameters']['effect']['allowedValues'] if v != 'Disabled']
        non_default[definition['name']]['effect'] = effects[-1]
    # One definition turned off: listed, not evaluated.
    non_default['31b8092a-36b8-434b-9af7-5ec844364148']['effect'] = 'Disabled'
    runs = (('graph_defaults', 'resource_graph', None, DEFAULTS), ('arm_defaults', 'arm', None, DEFAULTS),
            ('graph_params', 'resource_graph', non_default, non_default), ('arm_params', 'arm', non_default, non_default))
    return [step(name, check=True, harden_backup_vaults_subscription_ids=['all'], harden_backup_vaults_discovery=discovery,
                 **({'harden_backup_vaults_azure_policy': variable} if variable is not None else {}))
            for name, discovery, variable, _given in runs] + [
        # A baseline stricter than the definitions: Unlocked vaults have an immutability finding that the immutability
        # definitions check, while with checkLockedImmutabilityOnly false they judge those vaults compliant.
        step('locked_vs_audit', check=True, harden_backup_vaults_subscription_ids=['all'], harden_backup_vaults_immutability='locked',
             harden_backup_vaults_allow_irreversible=True,
             harden_backup_vaults_azure_policy=LOOSE_IMMUTABILITY)], runs


# The two immutability definitions, counting Unlocked as compliant.
LOOSE_IMMUTABILITY = {'d6f6f560-14b7-49a4-9fc8-d2c3a9807868': {'checkLockedImmutabilityOnly': False},
                      '2514263b-bc0d-4b06-ac3e-f262c0979018': {'checkLockedImmutabilityOnly': False}}


def non_compliant_of_findings(report, want):
    """Each finding's (vault, setting, azure_policy_non_compliant) as reported, and as the tests' evaluator (``want``,
    expected()) says: the finding's azure_policy definitions that list its vault."""
    got, said = [], []
    for vault in report['vaults']:
        for finding in vault['findings']:
            key = (vault['name'], finding['setting'])
            got.append(key + (finding['azure_policy_non_compliant'],))
            said.append(key + ([n for n in finding['azure_policy'] if vault['id'].lower() in [i.lower() for i in want[n][1]]],))
    return got, said


BAD = {'d6f6f560-14b7-49a4-9fc8-d2c3a9807868': {'effect': 'Deny'}}
# The deployIfNotExists definition for diagnostic settings (opt-in): listed alone in the 'dine' step.
DINE = 'c717fb0c-d118-4c43-ab3d-ece30ac81fb3'


def with_diagnostic_settings(fleet):
    """Recovery Services vaults of the fleet with diagnostic settings (the Azure Monitor spec examples' shapes and those
    Azure returns today, test_policy_dine.py), one shape a vault in the fleet's order (the first is the vault whose read is
    refused with a 403); the verdict each should get ({vault id: True for non-compliant}, the rule text's) and that
    vault."""
    from tests.unit.plugins.module_utils import test_policy_dine as dine  # pylint: disable=import-outside-toplevel
    shapes = [
        ([dine.compliant_setting()], False),
        ([dine.listed()], True),
        ([], True),
        (dine.SHAPES['several settings, only the last satisfies'][0], False),
        (dine.SHAPES['categoryGroup allLogs and audit, category null, to a Dedicated workspace'][0], True),
        (dine.SHAPES['logAnalyticsDestinationType null'][0], True),
        ([*dine.SHAPES['the Get example: storage and event hub only, categoryGroup allLogs'][0],
          *dine.SHAPES['logAnalyticsDestinationType AzureDiagnostics'][0]], True),
        ([dine.changed(lambda p: p.update(workspaceId=0))], True),
        ([dine.recased(dine.as_deployed(), str.lower)], False),
    ]
    want, denied, rs = {}, None, 0
    for sub in fleet['subscriptions']:
        for group in sub['resource_groups']:
            for entry in group['vaults']:
                if entry['type'] != 'recovery_services':
                    continue
                settings, bad = shapes[rs % len(shapes)]
                rs += 1
                if settings:
                    entry['diagnostic_settings'] = dict(('setting-%d' % n, s['properties']) for n, s in enumerate(settings))
                want[entry['body']['id']] = bad
                denied = denied or entry['body']['id']
    assert rs == len(shapes), rs
    return want, denied


EVERYWHERE = {'harden_backup_vaults_subscription_ids': ['all']}


@pytest.fixture(scope='module')
def policy_run(module_runner):
    """Both scenarios as parts of one run (batching.Batch): the check steps on policy_fleet(27), then, on policy_fleet(2727)
    loaded in the run (vaultlock_test_emulator), the apply, off and bad steps. Each fleet's stored bodies are read before
    the run (the emulator loads a fleet the same way each time); 2727's after the run, which its part ends."""
    emulator = module_runner.emulator
    fleet_27, vaults_27 = policy_fleet(27)
    fleet_2727, vaults_2727 = policy_fleet(2727)
    dine_want, denied = with_diagnostic_settings(fleet_2727)
    before_2727 = stored(fresh_fleet(module_runner, fleet_2727), vaults_2727)
    bodies_27 = stored(fresh_fleet(module_runner, fleet_27), vaults_27)
    steps_27, runs = check_steps()
    batch = Batch(module_runner).role_steps(steps_27)
    batch.emulator(reset=True, load_fleet=fleet_2727, faults=[{
        'method': 'GET', 'path_regex': re.escape(denied) + '/providers/Microsoft.Insights/diagnosticSettings$', 'status': 403,
        'code': 'AuthorizationFailed', 'message': 'The client does not have authorization to perform action '
        "'Microsoft.Insights/diagnosticSettings/read' over scope '%s/providers/Microsoft.Insights'." % denied}])
    batch.role_steps([
        step('dine', check=True, harden_backup_vaults_azure_policy={DINE: {}}, **EVERYWHERE),
        # Soft delete AlwaysOn (with consent): a change the definitions' default parameters judge (checkAlwaysOnSoftDeleteOnly),
        # so the vaults the apply leaves get other verdicts than the vaults as read.
        step('apply', harden_backup_vaults_discovery='arm', harden_backup_vaults_fail_on_error=False,
             harden_backup_vaults_soft_delete={'state': 'always_on'}, harden_backup_vaults_allow_irreversible=True, **EVERYWHERE),
        step('off', check=True, harden_backup_vaults_azure_policy={}, **EVERYWHERE),
        step('bad', check=True, harden_backup_vaults_azure_policy=BAD, **EVERYWHERE)])
    run = batch.play()
    # Ansible prints a task's warnings on stderr (Display.warning), which a step's output (its part of stdout) does not hold.
    return {'bodies': bodies_27, 'runs': runs, 'before': before_2727, 'after': stored(emulator, vaults_2727), 'steps': run.steps,
            'dine': (dine_want, denied), 'stderr': run.stderr}


def diagnostic_reads(run):
    return [e for e in run.requests if e['method'] == 'GET' and 'diagnosticsettings' in e['path'].lower()]


def test_the_diagnostic_settings_definition_is_read_and_judged_only_when_listed(policy_run):
    """Listed, the deployIfNotExists definition costs one diagnostic settings read per Recovery Services vault (through the
    paced ARM pipeline) and gives its verdict in every report; a vault whose read is refused (403) is not evaluated, with
    the reason, an error of the run (harden_backup_vaults_fail_on_error, true by default, fails it) and a warning of the
    planning task. Not listed (every other step: the defaults, other parameters, the apply, {}), nothing of it is read."""
    want, denied = policy_run['dine']
    steps = policy_run['steps']
    run = steps['dine']
    # The vault whose diagnostic settings could not be read is counted as a read error of the run, as a vault whose
    # policies could not be read: the run fails for it, after writing the reports.
    assert run.failed is not None and run.failed['msg'].startswith('1 error: a vault or a scope could not be read'), run.failed
    sub, group, name = denied.split('/')[2], denied.split('/')[4], denied.split('/')[-1]
    label = "Recovery Services vault '%s' (resource group '%s', subscription %s)" % (name, group, sub)
    (error,) = run.report['errors']
    assert run.report['summary']['errors'] == 1 and error['scope'] == label, run.report['errors']
    assert error['message'].startswith('could not read its Microsoft.Insights/diagnosticSettings (HTTP 403 AuthorizationFailed: The client '
                                       "does not have authorization to perform action 'Microsoft.Insights/diagnosticSettings/read'")
    assert error['message'].endswith('which the Azure Policy deployIfNotExists definition judges it by: not evaluated')
    # The planning task's warning (on stderr, once: no other step lists the definition). ansible-core before 2.19 wraps a
    # long warning over several lines, breaking after hyphens too: compare with every space and line break removed.
    stderr = ''.join(policy_run['stderr'].split())
    expected = ''.join(('[WARNING]: %s: %s' % (label, error['message'])).split())
    assert stderr.count(expected) == 1 and stderr.count('deployIfNotExistsdefinitionjudgesitby') == 1, policy_run['stderr']
    assert run.writes == []
    reads = diagnostic_reads(run)
    assert sorted(e['path'].lower() for e in reads) == sorted(
        (vid + '/providers/Microsoft.Insights/diagnosticSettings').lower() for vid in want)
    assert all(e['query'].get('api-version') in ('2021-05-01-preview', ['2021-05-01-preview']) for e in reads)
    files = files_of(run)
    report = check_files(files, 1)
    (row,) = report['azure_policy']['definitions']
    assert row['name'] == DINE and row['effect'] == 'deployIfNotExists' and row['related_type'] == 'Microsoft.Insights/diagnosticSettings'
    assert row['not_evaluated'] == [{'id': denied, 'reason': row['not_evaluated'][0]['reason']}]
    assert 'HTTP 403 AuthorizationFailed' in row['not_evaluated'][0]['reason']
    judged = dict((vid, bad) for vid, bad in want.items() if vid != denied)
    assert row['vaults'] == len(judged) and sorted(row['non_compliant'], key=str.lower) == sorted(
        (vid for vid, bad in judged.items() if bad), key=str.lower)
    assert 0 < len(row['non_compliant']) < row['vaults']
    for text in (files['drift.md'], files['drift.html']):
        assert 'does not deploy Microsoft.Insights/diagnosticSettings' in text and '1 not evaluated' in text
    (rule,) = [r for r in json.loads(files['drift.sarif'])['runs'][0]['tool']['driver']['rules'] if r['id'] == 'azure-policy/' + DINE]
    assert rule['properties']['not_evaluated'] == 1 and rule['properties']['non_compliant'] == len(row['non_compliant'])
    for name in ('graph_defaults', 'arm_defaults', 'graph_params', 'arm_params', 'locked_vs_audit', 'apply', 'off'):
        assert diagnostic_reads(steps[name]) == [], name


def test_check_mode_verdicts_equal_the_definitions_through_resource_graph_and_arm(policy_run):
    bodies, runs, steps = policy_run['bodies'], policy_run['runs'], policy_run['steps']
    for name, discovery, _variable, given in runs:
        run = steps[name]
        assert run.failed is None, run.output
        assert run.writes == [], name
        report = check_files(files_of(run), 14)
        assert report['discovery']['sources'] == {discovery: 2}
        want = expected(bodies, given)
        assert reported(report) == want, name
        # Random settings: most evaluated definitions find some vaults of their kind compliant and some not.
        rows = dict((row['name'], row) for row in report['azure_policy']['definitions'])
        assert len([r for r in rows.values() if 0 < len(r['non_compliant']) < r['vaults']]) >= 6, name
        # Each finding names the evaluated definitions of its setting and vault kind.
        for vault in report['vaults']:
            for finding in vault['findings']:
                assert all(rows[n]['evaluated'] and rows[n]['vault_type'] == vault['vault_type'] for n in finding['azure_policy'])
        assert any(f['azure_policy'] for v in report['vaults'] for f in v['findings'])
        # ... and which of them judge its vault non-compliant, as the evaluator says.
        got, said = non_compliant_of_findings(report, want)
        assert got == said, name


def test_a_finding_tells_the_definitions_that_flag_its_vault_from_those_that_do_not(policy_run):
    """azure_policy is no verdict: where the baseline wants locked and the definitions count Unlocked as compliant, an Unlocked
    vault's finding names the immutability definition in azure_policy and not in azure_policy_non_compliant; drift.md and
    drift.sarif say so too."""
    run = policy_run['steps']['locked_vs_audit']
    assert run.failed is None, run.output
    assert run.writes == []
    files = files_of(run)
    report = check_files(files, 2)
    got, said = non_compliant_of_findings(report, expected(policy_run['bodies'], LOOSE_IMMUTABILITY))
    assert got == said
    unlocked = [(v, f) for v in report['vaults'] for f in v['findings']
                if f['setting'] == 'immutability' and f['have'] == 'enabled' and f['want'] == 'locked']
    disabled = [(v, f) for v in report['vaults'] for f in v['findings'] if f['setting'] == 'immutability' and f['have'] == 'disabled']
    assert unlocked and disabled
    for _vault, finding in unlocked:
        assert len(finding['azure_policy']) == 1 and finding['azure_policy_non_compliant'] == []
    for _vault, finding in disabled:
        assert finding['azure_policy_non_compliant'] == finding['azure_policy'] and len(finding['azure_policy']) == 1
    assert '| Azure Policy |' in files['drift.md'] and '(checks the same setting)' in files['drift.md']
    results = json.loads(files['drift.sarif'])['runs'][0]['results']
    vault, _finding = unlocked[0]
    result, = [r for r in results if r['ruleId'] == 'immutability' and r['properties']['vault_id'] == vault['id']]
    assert result['properties']['azure_policy_non_compliant'] == [] and 'Azure Policy: compliant with' in result['message']['text']


def test_apply_judges_the_vaults_as_read_and_empty_turns_it_off(policy_run):
    before, steps = policy_run['before'], policy_run['steps']
    run = steps['apply']
    assert run.failed is None, run.output
    assert run.writes
    report = check_files(files_of(run), 14)
    assert reported(report) == expected(before, DEFAULTS)
    # After the apply the emulator holds other bodies, with other verdicts (soft delete AlwaysOn): the section said what
    # Azure Policy said of the vaults as read. (Before, the only verdict the apply changed came from an emulator fault: a
    # PATCH of a guarded Backup vault dropped isVaultProtectedByResourceGuard.)
    # (The two check steps after it wrote nothing, and they end the run, so the emulator still holds what the apply left.)
    assert steps['off'].writes == [] and steps['bad'].writes == []
    after = policy_run['after']
    assert expected(after, DEFAULTS) != expected(before, DEFAULTS)

    run = steps['off']
    assert run.failed is None, run.output
    files = files_of(run)
    report = json.loads(files['drift.json'])
    jsonschema.validate(report, SCHEMA)
    assert 'azure_policy' not in report and '## Azure Policy' not in files['drift.md']
    assert all('azure_policy' not in f for v in report['vaults'] for f in v['findings'])
    assert not [r for r in json.loads(files['drift.sarif'])['runs'][0]['tool']['driver']['rules'] if r['id'].startswith('azure-policy/')]

    run = steps['bad']
    assert run.failed is not None and 'harden_backup_vaults_azure_policy.d6f6f560-14b7-49a4-9fc8-d2c3a9807868.effect' in run.output, run.output
    assert 'Traceback' not in run.output and run.requests == []
