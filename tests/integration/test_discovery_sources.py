# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the fleet is read from (discovery: auto | resource_graph | arm), through `ansible-playbook
vaultlock.azure.harden_backup_vaults` and the inventory plugin against the emulator:

- Resource Graph and ARM give the same drift report; through Resource Graph a handful of POSTs and no ARM read;
- a subscription Resource Graph cannot see is read from ARM (auto) or is an error (resource_graph), and the reports say so;
- a vault changed in ARM after the Resource Graph read: every change is planned from a fresh ARM read (a test callback
  changes the emulator between the discovery task and the change tasks);
- ARM reads paced per subscription under Azure's throttling: no 429 answer, and the wait is reported.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import jsonschema
import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import RecoveryServicesBackend

from tests.emulator import generator as templates
from tests.integration.fleets import RG, SUB1, SUB2, vault, vault_id
from tests.integration.batching import Batch
from tests.integration.conftest import fresh_fleet
from tests.integration.role_steps import step
from tests.integration.test_harden_role import drift_fleet
from tests.integration.test_inventory import plain

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / 'docs' / 'drift-report-schema.json').read_text())
PLAYBOOK = 'vaultlock.azure.harden_backup_vaults'
GRAPH = '/providers/Microsoft.ResourceGraph/resources'


def harden(runner, tmp_path, name, *args, extra_env=None, **variables):
    report_dir = tmp_path / ('reports-%s' % name)
    variables.setdefault('harden_backup_vaults_report_dir', str(report_dir))
    variables.setdefault('harden_backup_vaults_subscription_ids', ['all'])
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), PLAYBOOK, '-e', json.dumps(variables)] + list(args)
    proc = subprocess.run(cmd, env=runner.env(extra_env), capture_output=True, text=True, timeout=600, check=False)
    report = json.loads((report_dir / 'drift.json').read_text()) if (report_dir / 'drift.json').exists() else None
    markdown = (report_dir / 'drift.md').read_text() if (report_dir / 'drift.md').exists() else ''
    return proc.returncode, proc.stdout + proc.stderr, report, markdown


def everywhere(**variables):
    """A step's role variables over every subscription (``harden`` sets the same default)."""
    variables.setdefault('harden_backup_vaults_subscription_ids', ['all'])
    return variables


def arm_reads(journal):
    """ARM reads other than the subscriptions list (subscription_ids: all)."""
    return [j for j in journal if j['method'] == 'GET' and j['path'] != '/subscriptions']


def graph_posts(journal):
    return [j for j in journal if j['method'] == 'POST' and j['path'] == GRAPH]


def comparable(report):
    """What must not depend on the source: vaults, summary, changes, errors."""
    return {key: report[key] for key in ('vaults', 'summary', 'changed', 'errors', 'baseline')}


def hidden_fleet():
    """drift_fleet with its second subscription denied to Resource Graph."""
    fleet = drift_fleet()
    fleet['subscriptions'][1]['resource_graph'] = 'denied'
    return fleet


PACED = {'vaults': 300, 'subscriptions': 1, 'seed': 'paced-role'}


@pytest.fixture(scope='module')
def sources_run(module_runner):
    """The role steps of three tests in one run (batching.Batch), each part on its own fleet loaded in the run
    (vaultlock_test_emulator): drift_fleet; drift_fleet with SUB2 hidden from Resource Graph; 300 generated vaults
    (PACED) under Azure's throttling. The paced steps' subscription is the one the generate answered."""
    fresh_fleet(module_runner, drift_fleet())
    batch = Batch(module_runner)
    batch.role_steps([step('arm', check=True, **everywhere(harden_backup_vaults_discovery='arm')),
                      step('graph', check=True, **everywhere(harden_backup_vaults_discovery='resource_graph'))])
    batch.emulator(reset=True, load_fleet=hidden_fleet())
    batch.role_steps([step('hidden_arm', check=True, **everywhere(harden_backup_vaults_discovery='arm')),
                      step('hidden_auto', check=True, **everywhere()),
                      step('hidden_strict', check=True, **everywhere(harden_backup_vaults_discovery='resource_graph'))])
    batch.emulator(register='paced_fleet', reset=True, generate=PACED, settings={'throttle': 'azure'})
    subs = '{{ paced_fleet.generated.subscription_ids }}'
    batch.role_steps([step('paced', check=True, harden_backup_vaults_discovery='arm', harden_backup_vaults_subscription_ids=subs),
                      step('paced_graph', check=True, harden_backup_vaults_discovery='resource_graph',
                           harden_backup_vaults_subscription_ids=subs)])
    return batch.play()


def test_resource_graph_and_arm_give_the_same_drift_report(sources_run):
    steps = sources_run.steps
    assert steps['arm'].failed is None, steps['arm'].output
    through_arm = steps['arm'].report
    arm_journal = steps['arm'].requests
    assert graph_posts(arm_journal) == [] and len(arm_reads(arm_journal)) >= 10
    assert steps['graph'].failed is None, steps['graph'].output
    through_graph, markdown = steps['graph'].report, steps['graph'].markdown
    assert comparable(through_graph) == comparable(through_arm) and through_graph['summary']['drifting'] >= 5
    # One query (the vaults with their policies joined) for both subscriptions; not one ARM read.
    journal = steps['graph'].requests
    assert len(graph_posts(journal)) == 1 and arm_reads(journal) == [] and len(journal) == 2, journal
    for report, source in ((through_graph, 'resource_graph'), (through_arm, 'arm')):
        jsonschema.validate(report, SCHEMA)
        assert report['discovery']['source_by_subscription'] == {SUB1: source, SUB2: source}
        assert report['discovery']['sources'] == {source: 2} and report['discovery']['fallbacks'] == []
        assert report['discovery']['data_time'].endswith('Z')
    assert through_graph['discovery']['resource_graph']['calls'] == 1 and through_arm['discovery']['resource_graph']['calls'] == 0
    assert '**Data:** read from Azure Resource Graph for 2 subscriptions, as of ' in markdown
    assert 'Resource Graph can lag Azure Resource Manager by minutes' in markdown


def test_a_subscription_resource_graph_cannot_see(sources_run):
    run = sources_run
    steps = {name[len('hidden_'):]: value for name, value in run.steps.items() if name.startswith('hidden_')}
    assert steps['arm'].failed is None, steps['arm'].output
    through_arm = steps['arm'].report
    assert steps['auto'].failed is None, steps['auto'].output
    auto, markdown = steps['auto'].report, steps['auto'].markdown
    # auto: the same report, the hidden subscription read from ARM, and said so.
    assert comparable(auto) == comparable(through_arm)
    assert auto['discovery']['source_by_subscription'] == {SUB1: 'resource_graph', SUB2: 'arm'}
    assert [f['subscription_id'] for f in auto['discovery']['fallbacks']] == [SUB2]
    gets = arm_reads(steps['auto'].requests)
    assert gets and all(SUB2 in j['path'] for j in gets)
    assert 'Read from Azure Resource Manager instead of Resource Graph (1 subscription):' in markdown and SUB2 in markdown
    # ansible-core 2.17 wraps warnings at the terminal width; 2.19 does not. Warnings go to the run's stderr, not to a
    # step's part of its output: of the run's steps only hidden_auto falls back to ARM for SUB2 (strict has no fallback,
    # arm does not ask Resource Graph, the other parts' fleets hide no subscription), so the run's output stands for it.
    assert 'read subscription %s from ARM instead of Resource Graph' % SUB2 in ' '.join(run.output.split())
    jsonschema.validate(auto, SCHEMA)
    # resource_graph: no fallback; the subscription is an error of the run (and fails it, after the reports).
    strict = steps['strict']
    assert strict.failed is not None and '1 error:' in strict.output, strict.output
    assert [e['scope'] for e in strict.report['errors']] == ['subscription %s' % SUB2]
    assert 'NotVisibleInResourceGraph' in strict.report['errors'][0]['message']
    assert {v['subscription_id'] for v in strict.report['vaults']} == {SUB1}
    assert arm_reads(strict.requests) == []


def _change(method, path, api_version, body):
    return {'method': method, 'path': path, 'api_version': api_version, 'body': body}


def _immutability(state):
    return {'properties': {'securitySettings': {'immutabilitySettings': {'state': state}}}}


def test_a_vault_changed_in_arm_after_the_resource_graph_read_is_changed_from_arms_state(runner, emulator, tmp_path):
    """Resource Graph saw three vaults as they were; right after the discovery task someone locked one, enabled another
    and raised a policy. The run acts on what ARM says when it changes each: no write to the vault locked meanwhile, one
    PATCH (not two) to lock the vault enabled meanwhile, no PUT of the policy raised meanwhile. A Backup vault's weak policy
    is never planned (Azure updates no Backup vault policy): no PUT of it either. Before, the policy raised meanwhile was a
    Backup vault's, a write Azure refuses whatever its body."""
    weak = templates.iaas_v1(True)
    fleet = {'subscriptions': [{'id': SUB1, 'display_name': 'race', 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
        vault('rsv-locked-meanwhile', 'recovery_services', 'disabled'),
        vault('rsv-enabled-meanwhile', 'recovery_services', 'disabled'),
        vault('rsv-raised-meanwhile', 'recovery_services', 'enabled', policies=[{'name': 'VMWeak', 'properties': weak}]),
        vault('bv-weak', 'backup', 'enabled', policies=[{'name': 'DiskWeak', 'properties': templates.dp_disk(True)}]),
    ]}]}]}
    emulator.load_fleet(fleet)
    locked_meanwhile = vault_id('rsv-locked-meanwhile')
    enabled_meanwhile = vault_id('rsv-enabled-meanwhile')
    policy_id = vault_id('rsv-raised-meanwhile') + '/backupPolicies/VMWeak'
    bv_policy_id = vault_id('bv-weak', 'backup') + '/backupPolicies/DiskWeak'
    raised = emulator.resource(policy_id)
    raised['properties'].pop('protectedItemsCount', None)
    raised['properties']['retentionPolicy']['dailySchedule']['retentionDuration'] = {'count': 30, 'durationType': 'Days'}
    changes = [
        _change('PATCH', locked_meanwhile, RecoveryServicesBackend.api_version, _immutability('Unlocked')),
        _change('PATCH', locked_meanwhile, RecoveryServicesBackend.api_version, _immutability('Locked')),
        _change('PATCH', enabled_meanwhile, RecoveryServicesBackend.api_version, _immutability('Unlocked')),
        _change('PUT', policy_id, RecoveryServicesBackend.policy_api_version, {'properties': raised['properties']}),
    ]
    endpoint_file = tmp_path / 'endpoint.json'
    endpoint_file.write_text(json.dumps(emulator.endpoint))
    statuses = tmp_path / 'changes.json'
    env = {'ANSIBLE_CALLBACK_PLUGINS': str(REPO / 'tests' / 'integration' / 'callback_plugins'),
           'ANSIBLE_CALLBACKS_ENABLED': 'change_after_task', 'VAULTLOCK_CHANGE_AFTER': 'Discover vaults and plan the run',
           'VAULTLOCK_REPO': str(REPO), 'VAULTLOCK_EMULATOR_ENDPOINT': str(endpoint_file),
           'VAULTLOCK_CHANGES': json.dumps(changes), 'VAULTLOCK_CHANGES_OUT': str(statuses)}
    rc, out, report, _md = harden(runner, tmp_path, 'race', extra_env=env, harden_backup_vaults_discovery='resource_graph',
                                  harden_backup_vaults_immutability='locked', harden_backup_vaults_allow_irreversible=True,
                                  harden_backup_vaults_retention_mode='enforce')
    assert rc == 0, out
    assert [s['status'] for s in json.loads(statuses.read_text())] == [202, 202, 202, 200]
    # The plan came from Resource Graph's (older) view: both RS vaults disabled, the policy weak.
    planned = {v['name']: v['actions'] for v in report['vaults']}
    assert planned['rsv-locked-meanwhile']['immutability'] == 'locked' and planned['rsv-enabled-meanwhile']['immutability'] == 'locked'
    assert planned['rsv-raised-meanwhile']['raise_policies'] == ['VMWeak']
    assert 'bv-weak' not in planned or planned['bv-weak']['raise_policies'] == []
    assert report['discovery']['source_by_subscription'] == {SUB1: 'resource_graph'}
    journal = emulator.journal()

    def writes(path):
        return [(j['method'], j['body']) for j in journal if j['method'] in ('PATCH', 'PUT') and j['path'].lower() == path.lower()]

    # Locked meanwhile: only the two PATCHes of the other actor; the module read ARM and had nothing to do.
    assert [body['properties']['securitySettings']['immutabilitySettings']['state'] for _m, body in writes(locked_meanwhile)] == \
        ['Unlocked', 'Locked']
    # Enabled meanwhile: the other actor's PATCH, then one PATCH to Locked (a Disabled vault would have taken two).
    assert [body['properties']['securitySettings']['immutabilitySettings']['state'] for _m, body in writes(enabled_meanwhile)] == \
        ['Unlocked', 'Locked']
    # Raised meanwhile: the other actor's PUT only.
    assert [m for m, _body in writes(policy_id)] == ['PUT']
    assert emulator.resource(policy_id)['properties']['retentionPolicy'] == raised['properties']['retentionPolicy']
    # The Backup vault's weak policy: no write at all.
    assert writes(bv_policy_id) == []
    changed = {v['name'] for v in report['changed']}
    assert 'rsv-enabled-meanwhile' in changed and 'rsv-locked-meanwhile' not in changed
    assert report['errors'] == []


def test_arm_reads_are_paced_under_azure_throttling(sources_run):
    """300 vaults in one subscription through ARM only: more reads than the 250-token burst. Not one 429, and the
    report says how long the reads waited for ARM's tokens. Through Resource Graph: one query for the same report."""
    assert sources_run['paced_fleet']['settings']['throttle'] == 'azure'
    assert len(sources_run['paced_fleet']['generated']['subscription_ids']) == 1
    steps = dict(sources_run.steps, graph=sources_run.steps['paced_graph'])
    assert steps['paced'].failed is None, steps['paced'].output
    report = steps['paced'].report
    journal = steps['paced'].requests
    assert len([j for j in journal if j['method'] == 'GET']) > 300
    assert [j for j in journal if j['status'] == 429] == []
    arm = report['discovery']['arm']
    assert arm['throttled'] == 0 and arm['waited_s'] > 1.0 and arm['requests'] > 300
    assert report['summary']['vaults'] == 300
    # The same fleet through Resource Graph: one query (the vaults with their policies), not one ARM read, the same report.
    assert steps['graph'].failed is None, steps['graph'].output
    journal = steps['graph'].requests
    assert len(graph_posts(journal)) == 1 and len(journal) == 1
    assert comparable(steps['graph'].report) == comparable(report)


@pytest.mark.parametrize('discovery', ['auto', 'arm'])
def test_the_inventory_plugin_reads_through_the_source_asked_for(runner, emulator, tmp_path, discovery):
    fleet = drift_fleet()
    fleet['subscriptions'][1]['resource_graph'] = 'denied'
    emulator.load_fleet(fleet)
    config = tmp_path / 'fleet.backup_vaults.yml'
    config.write_text(json.dumps({'plugin': 'vaultlock.azure.backup_vaults', 'subscription_ids': ['all'], 'discovery': discovery}))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i', str(config), '--list'],
                          env=runner.env({'ANSIBLE_INVENTORY_ENABLED': 'vaultlock.azure.backup_vaults'}),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    inventory = plain(json.loads(proc.stdout))
    assert len(inventory['_meta']['hostvars']) == 10
    block = next(iter(inventory['_meta']['hostvars'].values()))['vaultlock_discovery']   # the variable of the group all
    journal = emulator.journal()
    if discovery == 'auto':
        assert block['source_by_subscription'] == {SUB1: 'resource_graph', SUB2: 'arm'}
        assert len(graph_posts(journal)) >= 1 and all(SUB2 in j['path'] for j in arm_reads(journal))
        assert 'read subscription %s from ARM instead of Resource Graph' % SUB2 in ' '.join(proc.stderr.split())  # 2.17 wraps warnings
    else:
        assert block['source_by_subscription'] == {SUB1: 'arm', SUB2: 'arm'} and graph_posts(journal) == []


def test_findings_the_vault_already_met_when_the_apply_read_it_are_not_said_fixed_by_the_run(runner, emulator, tmp_path):
    """Right after an apply, Resource Graph still shows the vaults as they were (Learn: it lags ARM by seconds to minutes),
    so the next apply plans the same findings; each action reads ARM first and sends nothing. That run's drift.md said
    "4 fixed by this run" and "Changed 0 vaults; 4 findings fixed". The findings are still resolved (the vaults meet the
    baseline, as ARM said right before the write), and the reports say this run changed none of them: the vault already
    met them when the run read it again. A change the run did make is still counted as fixed by it."""
    def fleet(off):
        return {'subscriptions': [{'id': SUB1, 'display_name': 'lag', 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-fixed-earlier', 'recovery_services', 'disabled' if off else 'enabled', soft_delete='off' if off else 'on'),
            vault('bv-fixed-earlier', 'backup', 'disabled' if off else 'enabled'),
            vault('rsv-still-off', 'recovery_services', 'disabled'),
        ]}]}]}
    emulator.load_fleet(fleet(True))
    emulator.settings(graph_lag_s=600)
    # An earlier run's changes through ARM, a moment ago: Resource Graph's rows still say disabled and off.
    emulator.load_fleet(fleet(False), lagged=True)
    rc, out, report, markdown = harden(runner, tmp_path, 'lagged', harden_backup_vaults_discovery='resource_graph')
    assert rc == 0, out
    # Planned from the stale rows: four findings; one vault changed (rsv-still-off), three findings met already.
    assert sorted(v['name'] for v in report['changed']) == ['rsv-still-off']
    assert [(e['path'].rsplit('/', 1)[1], e['method']) for e in emulator.writes()] == [('rsv-still-off', 'PATCH')]
    assert report['summary']['resolved'] == 4 and report['summary']['by_fix']['fixed'] == 4
    assert '**Findings by who fixes them:** 1 fixed by this run, 3 already met when this run read the vault again (nothing ' \
           'sent), 0 not fixed (their change failed)' in markdown, markdown
    assert 'Changed 1 vault; 1 finding fixed by this run, 3 already met.' in markdown
    assert '4 fixed by this run' not in markdown
    html = (tmp_path / 'reports-lagged' / 'drift.html').read_text()
    assert '1 fixed by this run, 3 already met when this run read the vault again (nothing sent)' in html
