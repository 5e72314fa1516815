# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exclusions mean the vault they name, in any equivalent form; scope ids exclude everything under them; an entry
that is not understood stops the role before any request; an entry that matches nothing warns, and blocks a run that
would make irreversible changes.

The refused entry, the unmatched entry's three runs (check, apply, then a reversible apply) and, on the fleet loaded
again in the run, the equivalent forms are steps of one ansible-playbook run (issue 24; batching.Batch), each step's
requests, result and reports its own. Ansible
prints a warning once per run: the unmatched entry's warning is looked for in the run's output (its check step is the
first to give it), and in each step's drift.json."""

from __future__ import annotations

import pytest

from tests.integration.batching import Batch
from tests.integration.conftest import fresh_fleet
from tests.integration.fleets import RG, SUB1, SUB2, vault, vault_id
from tests.integration.role_steps import step

LOCK = {'harden_backup_vaults_immutability': 'locked', 'harden_backup_vaults_allow_irreversible': True,
        'harden_backup_vaults_subscription_ids': ['all'], 'harden_backup_vaults_retention_minimum': {},
        'harden_backup_vaults_soft_delete': {}}


def fleet():
    return {'subscriptions': [
        {'id': SUB1, 'display_name': 'one', 'resource_groups': [
            {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-protected', 'recovery_services', 'disabled'),
                                                              vault('rsv-target', 'recovery_services', 'disabled')]},
            {'name': 'rg-sandbox', 'location': 'westeurope', 'vaults': [vault('bv-sandbox', 'backup', 'disabled')]}]},
        {'id': SUB2, 'display_name': 'two', 'resource_groups': [
            {'name': 'rg-two', 'location': 'westeurope', 'vaults': [vault('rsv-two', 'recovery_services', 'disabled')]}]}]}


FORMS_EXCLUDE = ['  ' + vault_id('rsv-protected').upper() + '/ ',                     # other case, trailing /, spaces
                 '/subscriptions/%s/resourcegroups/RG-SANDBOX/' % SUB1,               # a resource group scope
                 '/SUBSCRIPTIONS/%s' % SUB2]                                          # a subscription scope
FORMS_VAULTS = {'rsv-target': vault_id('rsv-target'), 'rsv-protected': vault_id('rsv-protected'),
                'bv-sandbox': vault_id('bv-sandbox', 'backup', rg='rg-sandbox'), 'rsv-two': vault_id('rsv-two', sub=SUB2, rg='rg-two')}


def test_equivalent_forms_and_scope_ids_protect_what_they_name(steps):
    # The last step of the shared run, on the fleet loaded again in the run; the only step with TLS validation off.
    run, results = steps
    result = results['forms']
    assert result.failed is None, result.output[-3000:]
    report = result.report
    assert [v['name'] for v in report['vaults']] == ['rsv-target']

    def state(name):
        body = result.after.resource(FORMS_VAULTS[name])
        return ((body['properties'].get('securitySettings') or {}).get('immutabilitySettings') or {}).get('state')

    assert state('rsv-target') == 'Locked'
    assert state('rsv-protected') == 'Disabled' and state('bv-sandbox') == 'Disabled'
    assert state('rsv-two') == 'Disabled'
    assert all('/rsv-target' in w['path'] for w in result.writes)
    # The excluded vaults are named in the reports, each with the entry that excluded it: the reports judge only the vaults
    # left, so before (eleventh hostile pass) an exclusion took a drifting vault out of the report and its gate without a trace.
    excluded = [w for w in report['warnings'] if w.startswith('harden_backup_vaults_exclude left 3 vaults out of this report')]
    assert len(excluded) == 1, report['warnings']
    for name, entry in (('rsv-protected', FORMS_EXCLUDE[0]), ('bv-sandbox', FORMS_EXCLUDE[1]), ('rsv-two', FORMS_EXCLUDE[2])):
        assert '%s (by %r)' % (FORMS_VAULTS[name], entry) in excluded[0], (name, excluded[0])
    assert 'harden\\_backup\\_vaults\\_exclude left 3 vaults out of this report' in result.markdown
    # TLS certificate validation was off: the modules and the report say so (the warning: the run's output, where no
    # other step turns validation off).
    assert any('TLS certificate validation was off' in w for w in report['warnings'])
    assert 'TLS certificate validation was off for this task' in run.output


BAD = '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/rsv-protected' % (SUB1, RG)
TYPO = vault_id('rsv-protectd')           # meant rsv-protected


@pytest.fixture(scope='module')
def steps(module_runner):
    """The refused entry, then the unmatched entry in check mode, for real, and without an irreversible change, then the
    equivalent forms on a fresh fleet: one run (batching.Batch)."""
    fresh_fleet(module_runner, fleet())
    reversible = {**LOCK, 'harden_backup_vaults_immutability': 'enabled', 'harden_backup_vaults_exclude': [TYPO]}
    batch = Batch(module_runner).role_steps([
        step('bad', **dict(LOCK, harden_backup_vaults_exclude=['rsv-*-test', BAD])),
        step('typo_check', check=True, **dict(LOCK, harden_backup_vaults_exclude=[TYPO])),
        step('typo_apply', **dict(LOCK, harden_backup_vaults_exclude=[TYPO])),
        step('reversible', **reversible),
        # Every vault the scope read excluded (a pattern '*', the subscriptions' own ids), the drift gate on: no vault is judged.
        step('everything', check=True, harden_backup_vaults_subscription_ids=['all'], harden_backup_vaults_fail_on_drift=True,
             harden_backup_vaults_exclude=['*']),
        step('subscriptions', check=True, harden_backup_vaults_subscription_ids=['all'], harden_backup_vaults_fail_on_drift=True,
             harden_backup_vaults_exclude=['/subscriptions/%s' % SUB1, '/subscriptions/%s' % SUB2]),
        step('everything_allowed', check=True, harden_backup_vaults_subscription_ids=['all'], harden_backup_vaults_fail_on_drift=True,
             harden_backup_vaults_exclude=['*'], harden_backup_vaults_allow_empty_scope=True),
    ])
    # The equivalent forms test, on the fleet loaded again in the run.
    batch.emulator(reset=True, load_fleet=fleet())
    batch.role_steps([step('forms', harden_backup_vaults_exclude=FORMS_EXCLUDE, harden_backup_vaults_auth={'cert_validation_mode': 'ignore'},
                           **LOCK)])
    run = batch.play(marks=sorted(set(FORMS_VAULTS.values())))
    return run, run.steps


def test_an_entry_that_is_not_understood_stops_before_any_request(steps):
    _run, results = steps
    result = results['bad']
    assert result.failed is not None
    assert 'harden_backup_vaults_exclude[1]' in result.output and 'Microsoft.Storage' in result.output
    assert result.requests == []


def test_an_entry_that_matches_nothing_warns_and_blocks_irreversible_changes(steps):
    run, results = steps
    # Ansible prints a warning once per run (ansible-core 2.17 wraps warnings at the terminal width).
    assert 'matched no vault' in ' '.join(run.output.split())
    for name in ('typo_check', 'typo_apply'):
        result = results[name]
        assert result.failed is not None, result.output[-2000:]
        report = result.report
        assert any('matched no vault' in w for w in report['warnings'])
        assert [e['scope'] for e in report['errors']] == ['harden_backup_vaults_exclude']
        assert 'irreversible' in report['errors'][0]['message'] and report['changed'] == []
        assert result.writes == []
    # Without an irreversible change to make, an unmatched entry is only a warning.
    result = results['reversible']
    assert result.failed is None, result.output[-2000:]
    report = result.report
    assert report['errors'] == [] and any('matched no vault' in w for w in report['warnings'])
    body = result.after.resource(vault_id('rsv-protected'))
    assert body['properties']['securitySettings']['immutabilitySettings']['state'] == 'Unlocked'


def test_a_run_whose_every_vault_is_excluded_fails_as_an_empty_scope(steps):
    """Exclusions that leave no vault of the scope (an entry '*', the subscriptions' own ids) judged nothing: the run passed
    its drift gate (fail_on_drift, rc 0) and drift.md said "No drift. 0 vaults checked, all meet the baseline" of a fleet
    whose four vaults all drift, so one exclusion entry hid the whole fleet. It is a run that did not read its scope: it
    fails at the end unless allow_empty_scope says an empty scope is expected, and the reports say why."""
    _run, results = steps
    for name in ('everything', 'subscriptions'):
        result = results[name]
        assert result.failed is not None, (name, result.output[-2000:])
        message = ' '.join(result.failed['msg'].split())
        assert 'The run did not read its scope' in message and 'every vault the scope read (4) was excluded' in message, message
        report = result.report
        assert report['vaults'] == [] and [e['scope'] for e in report['errors']] == ['the scope of the run']
        assert 'No drift' not in result.markdown and 'No vault checked' in result.markdown
        assert 'all meet the baseline' not in (result.report_dir / 'drift.html').read_text()
        assert result.writes == []
    result = results['everything_allowed']
    assert result.failed is None, result.output[-2000:]
    assert result.report['vaults'] == [] and result.report['errors'] == []
