# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Baselines per tier through the harden_backup_vaults role against the emulator, every scenario's steps (check, apply,
check again) as blocks of one ansible-playbook run (tests/integration/batching.py), each scenario on the fleet loaded
afresh in the run: one run with a prod tier (locked, by tag) and a dev tier (enabled, by name pattern) locks the prod
vaults of both kinds and leaves the dev vaults enabled; check mode with diff predicts exactly that and writes nothing; a
tier that would lock without consent is refused before any request; bad tiers fail the role before any request. The
fleet, the tiers and the expected changes are test_role_tiers.py's."""

from __future__ import annotations

import copy

import pytest

from tests.integration.batching import Batch
from tests.integration.conftest import fresh_fleet
from tests.integration.fleets import RG, SUB1, vault_id
from tests.integration.role_steps import step
from tests.integration.test_harden_role import check_reports, immutability
from tests.integration.test_role_tiers import DAILY_WEAK, EXPECTED, KINDS, TIERS, TWO_TIERS, changes, daily, tier_fleet

# rsv-prod-01 and its policy, as each step left them; every vault of the fleet and rsv-app-dev-01's policy too.
WATCHED = [vault_id('rsv-prod-01'), vault_id('rsv-prod-01') + '/backupPolicies/VMWeak']
EVERY_VAULT = [vault_id(name, kind) for name, kind in sorted(KINDS.items())] + [vault_id('rsv-app-dev-01') + '/backupPolicies/VMWeak']


def mua_tiers():
    """TWO_TIERS with the prod tier requiring multi-user authorization."""
    tiers = copy.deepcopy(TWO_TIERS)
    tiers['harden_backup_vaults_baselines'][0]['lock_requirements'] = {'require_mua': True}
    return tiers


@pytest.fixture(scope='module')
def tiers_run(module_runner):
    """One ansible-playbook run (batching.Batch) of every scenario's role steps, each on the tier fleet loaded afresh:
    the bad tiers (``bad_tiers``: check, apply, caseN; none sends a request), the two tiers' check, apply and check again
    (two_check, two_apply, two_again), then the lock requirements' check and apply (mua_check, mua_apply)."""
    fresh_fleet(module_runner, tier_fleet())
    steps = [step('check', check=True, **TWO_TIERS), step('apply', **TWO_TIERS)]
    steps += [step('case%d' % index, check=True, harden_backup_vaults_baselines=tiers) for index, (tiers, _message) in enumerate(BAD_TIERS)]
    batch = Batch(module_runner).role_steps(steps)
    batch.emulator(reset=True, load_fleet=tier_fleet())
    batch.role_steps([
        step('two_check', check=True, diff=True, harden_backup_vaults_allow_irreversible=True, **TWO_TIERS),
        step('two_apply', harden_backup_vaults_allow_irreversible=True, **TWO_TIERS),
        step('two_again', check=True, harden_backup_vaults_allow_irreversible=True, **TWO_TIERS)])
    batch.emulator(reset=True, load_fleet=tier_fleet())
    batch.role_steps([step('mua_check', check=True, diff=True, harden_backup_vaults_allow_irreversible=True, **mua_tiers()),
                      step('mua_apply', harden_backup_vaults_allow_irreversible=True, **mua_tiers())])
    return batch.play(marks=sorted(set(WATCHED + EVERY_VAULT)))


def steps_of(run, prefix):
    """A scenario's steps of tiers_run, by the names a run of its own gave them (check, apply, again)."""
    return {name[len(prefix):]: found for name, found in run.steps.items() if name.startswith(prefix)}


def test_check_predicts_each_vault_against_its_tier_then_one_run_locks_prod_and_leaves_dev_enabled(tiers_run):
    # The steps two_check, two_apply and two_again of tiers_run, on the tier fleet loaded in the run.
    steps = steps_of(tiers_run, 'two_')

    # Check mode predicts each vault against its tier and writes nothing.
    run = steps['check']
    assert run.failed is None, run.output[-3000:]
    assert run.writes == []
    report = check_reports(run)
    assert report['check_mode'] is True
    assert {v['name']: v['tier'] for v in report['vaults']} == TIERS
    assert {c['name']: c['tier'] for c in report['changed']} == dict((name, TIERS[name]) for name in EXPECTED)
    assert changes(report) == EXPECTED
    assert [t['name'] for t in report['tiers']] == ['prod', 'dev']
    assert report['summary']['by_tier'] == {'prod': {'vaults': 3, 'drifting': 3, 'findings': 4},
                                            'dev': {'vaults': 2, 'drifting': 2, 'findings': 2},
                                            'default': {'vaults': 1, 'drifting': 0, 'findings': 0}}
    # A tier checks retention: discovery read the policies (the default tier alone would not have); through Resource
    # Graph (discovery auto), that is a query of the recoveryservicesresources table.
    graph = [e for e in run.requests if e['path'].lower() == '/providers/microsoft.resourcegraph/resources']
    assert any('recoveryservicesresources' in str(e.get('body')) for e in graph), graph
    assert '--- before: rsv-prod-01 (recovery_services, %s/%s, baseline tier prod)' % (SUB1, RG) in run.output
    assert '+immutability (IRREVERSIBLE): locked' in run.output
    assert '| Baseline tier | Vaults | Drifting | Findings |' in run.markdown and '| prod | 3 | 3 | 4 |' in run.markdown
    assert '| rsv-app-dev-01 | dev | Recovery Services vault |' in run.markdown
    testcase = [c for c in run.junit.iter('testcase') if c.get('name') == 'bv-app-dev-01'][0]
    assert testcase.find('properties/property').attrib == {'name': 'baseline_tier', 'value': 'dev'}
    assert immutability(run.after, 'rsv-prod-01') == 'Unlocked' and daily(run.after, 'rsv-prod-01') == DAILY_WEAK

    # One run locks prod and leaves dev enabled.
    run = steps['apply']
    assert run.failed is None, run.output[-3000:]
    report = check_reports(run)
    # What check mode predicted, exactly (the real run's report lists each vault's changes by action).
    assert dict((name, sorted(done)) for name, done in changes(report).items()) == dict(
        (name, sorted(planned)) for name, planned in EXPECTED.items())
    again = steps['again']
    assert again.writes == []      # so the vaults after it are what the apply step left
    emulator = again.after
    states = dict((name, immutability(emulator, name, KINDS[name])) for name in KINDS)
    assert states == {'rsv-prod-01': 'Locked', 'bv-prod-01': 'Locked', 'rsv-prod-dev-01': 'Locked',
                      'rsv-app-dev-01': 'Unlocked', 'bv-app-dev-01': 'Unlocked', 'rsv-shared': 'Unlocked'}
    # Retention raised to the prod tier's minimum, before the vault locked; the dev tier checks none.
    assert daily(emulator, 'rsv-prod-01') == {'count': 30, 'durationType': 'Days'}
    assert daily(emulator, 'rsv-app-dev-01') == DAILY_WEAK
    # rsv-prod-01: its policy was raised first, then the vault locked (a Locked vault's raise could never be undone).
    writes = [(e['method'], e['path'].lower()) for e in run.writes if '/vaults/rsv-prod-01' in e['path'].lower()]
    assert [method for method, _path in writes] == ['PUT', 'PATCH'] and writes[0][1].endswith('/backuppolicies/vmweak'), writes
    assert report['summary']['fixable'] == 0 and report['summary']['errors'] == 0
    assert {v['name']: (v['tier'], v['status']) for v in report['vaults']} == dict(
        (name, (TIERS[name], 'compliant' if name == 'rsv-shared' else 'fixed')) for name in KINDS)

    # Checked again: nothing left to change.
    assert again.failed is None, again.output[-3000:]
    assert again.report['changed'] == [] and again.report['summary']['drifting'] == 0


def test_a_tier_that_would_lock_without_consent_is_refused_before_any_request(bad_tiers):
    # The first two steps of the bad_tiers run (check, then apply), on the tier fleet.
    steps = bad_tiers
    run = steps['check']
    assert run.failed is not None
    assert ('harden_backup_vaults_baselines[0] (prod): immutability locked is irreversible (a locked vault can never be '
            'unlocked): set harden_backup_vaults_allow_irreversible: true to consent') in run.output, run.output[-3000:]
    run = steps['apply']
    assert run.failed is not None and 'harden_backup_vaults_baselines[0] (prod)' in run.output
    assert steps['check'].requests == [] and steps['apply'].requests == []
    assert steps['check'].writes == [] and steps['apply'].writes == []
    assert immutability(steps['apply'].after, 'rsv-prod-01') == 'Unlocked'


BAD_TIERS = [
    ([{'name': 'prod', 'immutability': 'enabled'}], 'missing required arguments: match'),
    ([{'name': 'prod', 'match': {}}], 'harden_backup_vaults_baselines[0] (prod).match is empty'),
    ([{'name': 'prod', 'match': {'names': ['rsv/prod']}}], "'rsv/prod' is not a vault name pattern"),
    ([{'name': 'a', 'match': {'names': ['x-*']}}, {'name': 'A', 'match': {'names': ['y-*']}}], 'tier names must be unique'),
    ([{'name': 'prod', 'match': {'names': ['x-*']}, 'soft_delete': {'state': 'on', 'retention_days': 5}}],
     'soft_delete.retention_days must be a whole number of days from 14 to 180'),
    ([{'name': 'prod', 'match': {'names': ['x-*']}, 'lock_requirements': {'max_age': '1y'}}],
     'harden_backup_vaults_baselines[0] (prod): lock_requirements has unknown key(s) max_age'),
]


@pytest.fixture(scope='module')
def bad_tiers(tiers_run):
    """The tier that would lock without consent (its check and apply: steps check and apply), then every case of
    BAD_TIERS as a check step (caseN): the first steps of tiers_run, on the tier fleet. None sends a request."""
    return tiers_run.steps


@pytest.mark.parametrize('index', range(len(BAD_TIERS)), ids=[message for _tiers, message in BAD_TIERS])
def test_bad_tiers_fail_the_role_before_any_request(bad_tiers, index):
    _tiers, message = BAD_TIERS[index]
    run = bad_tiers['case%d' % index]
    assert run.failed is not None
    assert message in run.output, run.output[-3000:]
    assert run.requests == []


def test_a_tier_s_lock_requirements_decide_which_of_its_vaults_lock(tiers_run):
    """The prod tier requires multi-user authorization, which no vault of the fleet has: check mode says each prod vault
    is not ready (blocker require_mua), reads their protected items, and the real run locks none of them (the reversible
    step to enabled still happens).

    The steps mua_check and mua_apply of tiers_run, on the tier fleet loaded in the run."""
    steps = steps_of(tiers_run, 'mua_')
    run = steps['check']
    assert run.failed is None, run.output[-3000:]
    assert run.writes == []
    readiness = {row['name']: row for row in run.report['lock_readiness']}
    assert sorted(readiness) == ['bv-prod-01', 'rsv-prod-01', 'rsv-prod-dev-01']
    assert all(row['tier'] == 'prod' and row['status'] == 'not ready' for row in readiness.values())
    assert all([b['requirement'] for b in row['blockers']] == ['require_mua'] for row in readiness.values())
    # The protected items were read (lock readiness counts them): through Resource Graph (discovery auto), one query of
    # recoveryservicesresources for protected items and backup instances.
    queries = ' '.join(str(e.get('body')) for e in run.requests
                       if e['path'].lower() == '/providers/microsoft.resourcegraph/resources').lower()
    assert 'protecteditems' in queries and 'backupinstances' in queries
    assert changes(run.report)['bv-prod-01'] == [('immutability', 'enabled')]

    applied = steps['apply']
    assert applied.failed is None, applied.output[-3000:]
    states = dict((name, immutability(applied.after, name, KINDS[name])) for name in KINDS)
    assert states == {'rsv-prod-01': 'Unlocked', 'bv-prod-01': 'Unlocked', 'rsv-prod-dev-01': 'Unlocked',
                      'rsv-app-dev-01': 'Unlocked', 'bv-app-dev-01': 'Unlocked', 'rsv-shared': 'Unlocked'}
    assert not [e for e in applied.writes if 'Locked' in str(e.get('body'))]
