# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports an auditor can sign, through the role (issue 26): a check run of vaultlock.azure.harden_backup_vaults
against the emulator writes a drift.json that lists every vault in scope with its state for every rule and a posture
summary, findings that say who fixes them, and a drift.sarif whose results are located at the vault (and the policy)
with fingerprints that stay the same from run to run."""

from __future__ import annotations

import json
import pathlib

import jsonschema
import pytest

from tests.integration.fleets import SUB1, SUB2
from tests.integration.test_harden_role import drift_fleet, drift_harden

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = REPO / 'docs' / 'drift-report-schema.json'
SARIF_SCHEMA = REPO / 'tests' / 'fixtures' / 'sarif' / 'sarif-schema-2.1.0.json'
# The role's defaults (immutability enabled, soft delete on / 14 days, daily retention 30 days in report mode) over two
# subscriptions.
VARIABLES = {'harden_backup_vaults_subscription_ids': [SUB1, SUB2]}
STATE = {'unset': 'disabled', 'disabled': 'disabled', 'enabled': 'enabled', 'locked': 'locked'}


# Every rule of the registry reports its state of every vault (issue 26), the vault security settings of issue 27 too.
EVERY_RULE = ('immutability', 'soft_delete', 'retention', 'mua', 'cross_subscription_restore', 'public_network_access', 'alerts',
              'customer_managed_keys', 'infrastructure_encryption', 'private_endpoints', 'storage_redundancy', 'cross_region_restore')


def fleet_vaults():
    """{name: immutability state as the fleet file gives it} of every vault of drift_fleet."""
    vaults = {}
    for sub in drift_fleet()['subscriptions']:
        for group in sub['resource_groups']:
            for vault in group['vaults']:
                vaults[vault['name']] = vault.get('immutability') or 'unset'
    return vaults


@pytest.fixture(scope='module')
def runs(emulator_server, tmp_path_factory):
    """Two check runs of the role over the same fleet, nothing changed between them."""
    emulator, harden, _tmp = drift_harden(emulator_server, tmp_path_factory, 'role-posture')
    first = harden('--check', **VARIABLES)
    assert first.rc == 0, first.output
    second = harden('--check', **VARIABLES)
    assert second.rc == 0, second.output
    assert emulator.writes() == []
    return emulator, first, second


def test_drift_json_lists_every_vault_with_its_state_for_every_rule(runs):
    _emulator, run, _second = runs
    report = run.report
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()), format_checker=jsonschema.FormatChecker()).validate(report)
    fleet = fleet_vaults()
    assert fleet, 'the fleet file has no vault: the test would prove nothing'
    vaults = dict((v['name'], v) for v in report['vaults'])
    assert sorted(vaults) == sorted(fleet)
    for name, vault in vaults.items():
        assert sorted(vault['posture']) == sorted(EVERY_RULE), name
        assert vault['posture']['immutability']['state'] == STATE[fleet[name]], name
        assert all(isinstance(state['state'], str) for state in vault['posture'].values())
    # Compliant vaults are there with their states too.
    assert any(v['status'] == 'compliant' for v in vaults.values())
    assert vaults['rsv-guarded']['posture']['mua']['state'] == 'protected'
    assert vaults['rsv-softoff']['posture']['soft_delete']['state'] == 'off'

    posture = report['posture']
    locked = sorted(name for name, state in fleet.items() if state == 'locked')
    assert (posture['vaults'], posture['locked'], posture['all_locked']) == (len(fleet), len(locked), False)
    assert posture['rules']['immutability']['states'] == dict(
        (state, sum(1 for s in fleet.values() if STATE[s] == state)) for state in set(STATE[s] for s in fleet.values()))
    assert sorted(posture['by_subscription']) == sorted([SUB1, SUB2])
    assert posture['by_subscription'][SUB2]['vaults'] == 1
    # "Which are not locked", from drift.json alone.
    assert sorted(n for n, v in vaults.items() if v['posture']['immutability']['state'] != 'locked') == sorted(set(fleet) - set(locked))


def test_findings_say_who_fixes_them(runs):
    _emulator, run, _second = runs
    report = run.report
    findings = [(v['name'], f) for v in report['vaults'] for f in v['findings']]
    weak = [f for _n, f in findings if f['setting'] == 'retention' and f['fix'] == 'option']
    # Report mode: the weak tiers a run could raise name the option that makes it raise them.
    assert weak and all(f['option'].startswith('retention_mode: enforce') for f in weak)
    assert all(f['fix'] == 'run' and f['option'] is None for _n, f in findings if f['fixable'])
    assert report['summary']['by_fix']['option'] == len([f for _n, f in findings if f['fix'] == 'option'])
    assert report['summary']['by_fix']['option'] + report['summary']['by_fix']['person'] == report['summary']['unfixable']
    text = (run.report_dir / 'drift.md').read_text()
    assert text.index('## Posture') < text.index('**Drift:**')
    assert 'with retention\\_mode: enforce' in text


def test_sarif_results_are_located_at_the_vault_and_policy_and_keep_their_fingerprints(runs):
    emulator, first, second = runs
    validator = jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text()), format_checker=jsonschema.FormatChecker())
    logs = []
    for run in (first, second):
        log = json.loads((run.report_dir / 'drift.sarif').read_text())
        validator.validate(log)
        logs.append(log)
    # The findings' results (the azure_policy section's own results, one per non-compliant vault, follow them).
    results = [r for r in logs[0]['runs'][0]['results'] if not r['ruleId'].startswith('azure-policy/')]
    report = first.report
    expected = [(v, f) for v in report['vaults'] for f in v['findings'] if not f['resolved']]
    assert len(results) == len(expected) >= 1
    levels = {'run': 'note', 'option': 'warning', 'person': 'error'}
    for result, (vault, finding) in zip(results, expected):
        locations = result['locations'][0]['logicalLocations']
        assert locations[0]['fullyQualifiedName'] == vault['id'] and locations[0]['kind'] == 'resource'
        assert result['level'] == levels[finding['fix']]
        if finding['policy']:
            assert len(locations) == 2 and locations[1]['name'] == finding['policy']
            # The policy's id is the ARM id of a policy the emulator holds.
            assert emulator.resource(locations[1]['fullyQualifiedName']) is not None, locations[1]['fullyQualifiedName']
        else:
            assert len(locations) == 1
    assert any(len(r['locations'][0]['logicalLocations']) == 2 for r in results)

    def prints(log):
        return sorted(r['partialFingerprints']['vaultlockFinding/v1'] for r in log['runs'][0]['results']
                      if not r['ruleId'].startswith('azure-policy/'))
    assert prints(logs[0]) == prints(logs[1])
    assert len(set(prints(logs[0]))) == len(results)
