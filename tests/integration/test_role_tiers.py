# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Baselines per tier through `ansible-playbook vaultlock.azure.harden_backup_vaults` against the emulator: one run with a
prod tier (locked, by tag) and a dev tier (enabled, by name pattern) locks the prod vaults of both kinds and leaves the dev
vaults enabled; --check --diff predicts exactly that and writes nothing; a tier that would lock without consent is refused
before any request."""

from __future__ import annotations

import pytest

from tests.emulator import generator as templates
from tests.integration.fleets import RG, SUB1, vault
from tests.integration.test_harden_role import Harden, check_reports, immutability, pol, policy_retention

DAILY_WEAK = {'count': 7, 'durationType': 'Days'}


def tier_fleet():
    """Prod and dev vaults of both kinds. Tag names compare case-insensitively (ENV=prod is prod), values case-sensitively
    (env=Prod is not); rsv-prod-dev-01 is prod by tag and dev by name, so the order of the tiers decides (prod first)."""
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-prod-01', 'recovery_services', 'enabled', tags={'env': 'prod'},
                  policies=[pol('VMWeak', templates.iaas_v1(True))]),
            vault('bv-prod-01', 'backup', 'disabled', tags={'ENV': 'prod'}, policies=[pol('BlobDaily', templates.dp_blob(False))]),
            vault('rsv-prod-dev-01', 'recovery_services', 'unset', tags={'env': 'prod'}),
            vault('rsv-app-dev-01', 'recovery_services', 'disabled', policies=[pol('VMWeak', templates.iaas_v1(True))]),
            vault('bv-app-dev-01', 'backup', 'unset', tags={'env': 'Prod'}),
            vault('rsv-shared', 'recovery_services', 'enabled'),
        ]}]}]}


KINDS = {'rsv-prod-01': 'recovery_services', 'bv-prod-01': 'backup', 'rsv-prod-dev-01': 'recovery_services',
         'rsv-app-dev-01': 'recovery_services', 'bv-app-dev-01': 'backup', 'rsv-shared': 'recovery_services'}
TIERS = {'rsv-prod-01': 'prod', 'bv-prod-01': 'prod', 'rsv-prod-dev-01': 'prod',
         'rsv-app-dev-01': 'dev', 'bv-app-dev-01': 'dev', 'rsv-shared': 'default'}
# The default tier checks no retention; only the prod tier does (and raises it: enforce).
TWO_TIERS = {
    'harden_backup_vaults_retention_minimum': {},
    'harden_backup_vaults_retention_mode': 'enforce',
    'harden_backup_vaults_baselines': [
        {'name': 'prod', 'match': {'tags': {'env': 'prod'}}, 'immutability': 'locked', 'retention_minimum': {'daily': '30d'}},
        {'name': 'dev', 'match': {'names': ['*-dev-*']}, 'immutability': 'enabled'},
    ],
}
# What a run changes per vault: (setting, after) in the order the role applies them.
EXPECTED = {
    'rsv-prod-01': [('retention', 'P30D'), ('immutability', 'locked')],
    'bv-prod-01': [('immutability', 'enabled'), ('immutability', 'locked')],
    'rsv-prod-dev-01': [('immutability', 'enabled'), ('immutability', 'locked')],
    'rsv-app-dev-01': [('immutability', 'enabled')],
    'bv-app-dev-01': [('immutability', 'enabled')],
}


@pytest.fixture
def harden(runner, tmp_path):
    return Harden(runner, tmp_path)


@pytest.fixture
def tiered(emulator):
    emulator.load_fleet(tier_fleet())
    emulator.clear_journal()


def changes(report):
    return {c['name']: [(x['setting'], x['after']) for x in c['changes']] for c in report['changed']}


def daily(emulator, name):
    props = policy_retention(emulator, name, 'VMWeak')
    return props['retentionPolicy']['dailySchedule']['retentionDuration']


@pytest.mark.usefixtures('tiered')
def test_check_mode_predicts_each_vault_against_its_tier_and_writes_nothing(harden, emulator):
    run = harden('--check', '--diff', harden_backup_vaults_allow_irreversible=True, **TWO_TIERS)
    assert run.rc == 0, run.output[-3000:]
    assert emulator.writes() == []
    report = check_reports(run)
    assert {v['name']: v['tier'] for v in report['vaults']} == TIERS
    assert {c['name']: c['tier'] for c in report['changed']} == dict((name, TIERS[name]) for name in EXPECTED)
    assert changes(report) == EXPECTED
    assert [t['name'] for t in report['tiers']] == ['prod', 'dev']
    assert report['summary']['by_tier'] == {'prod': {'vaults': 3, 'drifting': 3, 'findings': 4},
                                            'dev': {'vaults': 2, 'drifting': 2, 'findings': 2},
                                            'default': {'vaults': 1, 'drifting': 0, 'findings': 0}}
    # A tier checks retention: discovery read the policies (the default tier alone would not have); through Resource
    # Graph (discovery auto), that is a query of the recoveryservicesresources table.
    graph = [e for e in emulator.journal() if e['path'].lower() == '/providers/microsoft.resourcegraph/resources']
    assert any('recoveryservicesresources' in str(e.get('body')) for e in graph), graph
    assert '--- before: rsv-prod-01 (recovery_services, %s/%s, baseline tier prod)' % (SUB1, RG) in run.output
    assert '+immutability (IRREVERSIBLE): locked' in run.output
    assert '| Baseline tier | Vaults | Drifting | Findings |' in run.markdown and '| prod | 3 | 3 | 4 |' in run.markdown
    assert '| rsv-app-dev-01 | dev | Recovery Services vault |' in run.markdown
    testcase = [c for c in run.junit.iter('testcase') if c.get('name') == 'bv-app-dev-01'][0]
    assert testcase.find('properties/property').attrib == {'name': 'baseline_tier', 'value': 'dev'}
    assert immutability(emulator, 'rsv-prod-01') == 'Unlocked' and daily(emulator, 'rsv-prod-01') == DAILY_WEAK


@pytest.mark.usefixtures('tiered')
def test_one_run_locks_prod_and_leaves_dev_enabled(harden, emulator):
    run = harden(harden_backup_vaults_allow_irreversible=True, **TWO_TIERS)
    assert run.rc == 0, run.output[-3000:]
    report = check_reports(run)
    # What check mode predicted, exactly (the real run's report lists each vault's changes by action).
    assert dict((name, sorted(done)) for name, done in changes(report).items()) == dict(
        (name, sorted(planned)) for name, planned in EXPECTED.items())
    states = dict((name, immutability(emulator, name, KINDS[name])) for name in KINDS)
    assert states == {'rsv-prod-01': 'Locked', 'bv-prod-01': 'Locked', 'rsv-prod-dev-01': 'Locked',
                      'rsv-app-dev-01': 'Unlocked', 'bv-app-dev-01': 'Unlocked', 'rsv-shared': 'Unlocked'}
    # Retention raised to the prod tier's minimum, before the vault locked; the dev tier checks none.
    assert daily(emulator, 'rsv-prod-01') == {'count': 30, 'durationType': 'Days'}
    assert daily(emulator, 'rsv-app-dev-01') == DAILY_WEAK
    # rsv-prod-01: its policy was raised first, then the vault locked (a Locked vault's raise could never be undone).
    writes = [(e['method'], e['path'].lower()) for e in emulator.writes() if '/vaults/rsv-prod-01' in e['path'].lower()]
    assert [method for method, _path in writes] == ['PUT', 'PATCH'] and writes[0][1].endswith('/backuppolicies/vmweak'), writes
    assert report['summary']['fixable'] == 0 and report['summary']['errors'] == 0
    assert {v['name']: (v['tier'], v['status']) for v in report['vaults']} == dict(
        (name, (TIERS[name], 'compliant' if name == 'rsv-shared' else 'fixed')) for name in KINDS)

    emulator.clear_journal()
    again = harden('--check', harden_backup_vaults_allow_irreversible=True, **TWO_TIERS)
    assert again.rc == 0, again.output[-3000:]
    assert emulator.writes() == [] and again.report['changed'] == [] and again.report['summary']['drifting'] == 0


@pytest.mark.usefixtures('tiered')
def test_a_tier_that_would_lock_without_consent_is_refused_before_any_request(harden, emulator):
    run = harden('--check', **TWO_TIERS)
    assert run.rc != 0
    assert ('harden_backup_vaults_baselines[0] (prod): immutability locked is irreversible (a locked vault can never be '
            'unlocked): set harden_backup_vaults_allow_irreversible: true to consent') in run.output, run.output[-3000:]
    run = harden(**TWO_TIERS)
    assert run.rc != 0 and 'harden_backup_vaults_baselines[0] (prod)' in run.output
    assert emulator.writes() == [] and emulator.journal() == []
    assert immutability(emulator, 'rsv-prod-01') == 'Unlocked'


@pytest.mark.parametrize('tiers, message', [
    ([{'name': 'prod', 'immutability': 'enabled'}], 'missing required arguments: match'),
    ([{'name': 'prod', 'match': {}}], 'harden_backup_vaults_baselines[0] (prod).match is empty'),
    ([{'name': 'prod', 'match': {'names': ['rsv/prod']}}], "'rsv/prod' is not a vault name pattern"),
    ([{'name': 'a', 'match': {'names': ['x-*']}}, {'name': 'A', 'match': {'names': ['y-*']}}], 'tier names must be unique'),
    ([{'name': 'prod', 'match': {'names': ['x-*']}, 'soft_delete': {'state': 'on', 'retention_days': 5}}],
     'soft_delete.retention_days must be a whole number of days from 14 to 180'),
    ([{'name': 'prod', 'match': {'names': ['x-*']}, 'lock_requirements': {'max_age': '1y'}}],
     'harden_backup_vaults_baselines[0] (prod): lock_requirements has unknown key(s) max_age'),
])
def test_bad_tiers_fail_the_role_before_any_request(harden, emulator, tiers, message):
    emulator.load_fleet(tier_fleet())
    emulator.clear_journal()
    run = harden('--check', harden_backup_vaults_baselines=tiers)
    assert run.rc != 0
    assert message in run.output, run.output[-3000:]
    assert emulator.journal() == []


@pytest.mark.usefixtures('tiered')
def test_a_tier_s_lock_requirements_decide_which_of_its_vaults_lock(harden, emulator):
    """The prod tier requires multi-user authorization, which no vault of the fleet has: check mode says each prod vault
    is not ready (blocker require_mua), reads their protected items, and the real run locks none of them (the reversible
    step to enabled still happens)."""
    tiers = dict(TWO_TIERS, harden_backup_vaults_baselines=[
        dict(TWO_TIERS['harden_backup_vaults_baselines'][0], lock_requirements={'require_mua': True}),
        TWO_TIERS['harden_backup_vaults_baselines'][1]])
    run = harden('--check', '--diff', harden_backup_vaults_allow_irreversible=True, **tiers)
    assert run.rc == 0, run.output[-3000:]
    assert emulator.writes() == []
    readiness = {row['name']: row for row in run.report['lock_readiness']}
    assert sorted(readiness) == ['bv-prod-01', 'rsv-prod-01', 'rsv-prod-dev-01']
    assert all(row['tier'] == 'prod' and row['status'] == 'not ready' for row in readiness.values())
    assert all([b['requirement'] for b in row['blockers']] == ['require_mua'] for row in readiness.values())
    # The protected items were read (lock readiness counts them): through Resource Graph (discovery auto), one query of
    # recoveryservicesresources for protected items and backup instances.
    queries = ' '.join(str(e.get('body')) for e in emulator.journal()
                       if e['path'].lower() == '/providers/microsoft.resourcegraph/resources').lower()
    assert 'protecteditems' in queries and 'backupinstances' in queries
    assert changes(run.report)['bv-prod-01'] == [('immutability', 'enabled')]

    applied = harden(harden_backup_vaults_allow_irreversible=True, **tiers)
    assert applied.rc == 0, applied.output[-3000:]
    states = dict((name, immutability(emulator, name, KINDS[name])) for name in KINDS)
    assert states == {'rsv-prod-01': 'Unlocked', 'bv-prod-01': 'Unlocked', 'rsv-prod-dev-01': 'Unlocked',
                      'rsv-app-dev-01': 'Unlocked', 'bv-app-dev-01': 'Unlocked', 'rsv-shared': 'Unlocked'}
    assert not [e for e in emulator.writes() if 'Locked' in str(e.get('body'))]
