# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure.vault_soft_delete through ansible-playbook, the real SDKs and the emulator."""

from __future__ import annotations

import pytest

from tests.integration.conftest import step
from tests.integration.fleets import RG, SUB1, vault, vault_id

MOD = 'vaultlock.azure.vault_soft_delete'
GUARD = '/subscriptions/%s/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/guard-01' % SUB1
CONFIG = '/backupconfig/vaultconfig'


def sd(name, kind, state, days=14, **extra):
    doc = vault(name, kind, 'disabled', soft_delete=state, **extra)
    doc['soft_delete']['retention_days'] = days
    return doc


def soft_delete_fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-soft-delete', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            sd('rsv-off', 'recovery_services', 'off'),
            sd('rsv-on', 'recovery_services', 'on', 30),
            sd('rsv-always', 'recovery_services', 'always_on'),
            # soft delete last set through the vault API: the config API refuses (BMSUserErrorSoftDeleteUseVaultApi)
            sd('rsv-vaultapi', 'recovery_services', 'off', soft_delete_api='vault'),
            sd('rsv-mua', 'recovery_services', 'on', resource_guard_id=GUARD),
            sd('bv-off', 'backup', 'off'),
            sd('bv-on', 'backup', 'on', 30),
            sd('bv-always', 'backup', 'always_on'),
            sd('bv-mua', 'backup', 'on', resource_guard_id=GUARD),
            # secure by default: Azure enforces soft delete (tests/emulator/secure_default.py)
            sd('bv-sbd', 'backup', 'on', location='australiaeast'),        # Backup vault GA region (Learn)
            sd('rsv-sbd-preview', 'recovery_services', 'on', secure_by_default='preview'),
            sd('rsv-sbd-ga', 'recovery_services', 'on', secure_by_default='ga'),
        ]}]}]}


@pytest.fixture(autouse=True)
def fleet(emulator):
    emulator.load_fleet(soft_delete_fleet())
    emulator.clear_journal()


def by_name(name, kind='recovery_services', **args):
    return {'name': 'soft delete', MOD: dict(name=name, resource_group=RG, vault_type=kind, **args)}


def kind_of(name):
    return 'recovery_services' if name.startswith('rsv') else 'backup'


def settings_ids(name):
    """The ARM ids api_settings reads: what runner.play(..., marks=...) keeps after each task."""
    vid = vault_id(name, kind_of(name))
    return [vid] if kind_of(name) == 'backup' else [vid, vid + CONFIG]


def api_settings(emulator, name):
    """(state, days) as the stored vault says, in API spelling; for RS also checks the config view agrees.

    ``emulator``: the emulator now, or the emulator right after one task of a merged playbook (``run.after('r1')``).
    """
    kind = kind_of(name)
    vid = vault_id(name, kind)
    sds = emulator.resource(vid)['properties']['securitySettings']['softDeleteSettings']
    if kind == 'backup':
        return sds['state'], sds['retentionDurationInDays']
    config = emulator.resource(vid + CONFIG)['properties']
    assert config['softDeleteFeatureState'] == sds['softDeleteState']
    assert config['enhancedSecurityState'] == sds['enhancedSecurityState']
    assert config['softDeleteRetentionPeriodInDays'] == sds['softDeleteRetentionPeriodInDays']
    assert sds['enhancedSecurityState'] == sds['softDeleteState']
    return sds['softDeleteState'], sds['softDeleteRetentionPeriodInDays']


@pytest.mark.parametrize('name,on', [('rsv-off', 'Enabled'), ('bv-off', 'On')])
def test_check_mode_then_apply_then_idempotent(runner, emulator, name, on):
    kind = kind_of(name)
    args = dict(soft_delete='on', retention_days=30)
    # One playbook for three runs: check mode with --diff (r0), apply with --diff (r1), apply again (r2).
    run = runner.play([step(by_name(name, kind, **args), check=True, diff=True), step(by_name(name, kind, **args), diff=True),
                       by_name(name, kind, **args)], marks=settings_ids(name))
    assert run.rc == 0, run.output
    result = run['r0']
    assert not result.get('failed'), result
    assert result['changed'] is True and result['api'] is None
    assert result['vault']['soft_delete'] == {'state': 'on', 'retention_days': 30, 'enforced_by_azure': False}       # predicted
    expected = [{'setting': 'soft_delete', 'before': 'off', 'after': 'on', 'irreversible': False}]
    if kind == 'recovery_services':
        expected.append({'setting': 'enhanced_security', 'before': 'off', 'after': 'on', 'irreversible': False})
    expected.append({'setting': 'soft_delete_retention_days', 'before': 14, 'after': 30, 'irreversible': False})
    assert result['changes'] == expected
    before, after = result['diff']['before'], result['diff']['after']
    assert (before['soft_delete'], before['retention_days'], after['soft_delete'], after['retention_days']) == ('off', 14, 'on', 30)
    assert run.writes('r0') == []
    assert api_settings(run.after('r0'), name)[0] in ('Disabled', 'Off')

    result = run['r1']
    assert not result.get('failed'), result
    assert result['changed'] is True
    assert result['vault']['soft_delete'] == {'state': 'on', 'retention_days': 30, 'enforced_by_azure': False}       # re-read
    assert result['diff']['after']['soft_delete'] == 'on'
    writes = run.writes('r1')
    assert len(writes) == 1 and writes[0]['method'] == 'PATCH'
    if kind == 'recovery_services':
        # written through the backup resource vault config API, with the whole soft delete set
        assert result['api'] == 'vault_config'
        assert writes[0]['path'].endswith(CONFIG)
        assert writes[0]['body'] == {'properties': {'softDeleteFeatureState': 'Enabled', 'enhancedSecurityState': 'Enabled',
                                                    'softDeleteRetentionPeriodInDays': 30}}
    else:
        # a vault PATCH of only securitySettings.softDeleteSettings
        assert result['api'] == 'vault'
        assert writes[0]['path'].endswith(name)
        assert writes[0]['body'] == {'properties': {'securitySettings': {'softDeleteSettings': {
            'state': 'On', 'retentionDurationInDays': 30.0}}}}
    assert api_settings(run.after('r1'), name) == (on, 30)

    assert not run['r2'].get('failed') and run['r2']['changed'] is False and run['r2']['changes'] == []
    assert run.writes('r2') == []


@pytest.mark.parametrize('name', ['rsv-on', 'bv-on'])
def test_always_on_needs_consent_and_fails_before_any_write(runner, emulator, name):
    kind = kind_of(name)
    # One playbook: without consent (r0), the same in check mode (r1), with consent (r2), again without (r3).
    run = runner.play([by_name(name, kind, soft_delete='always_on'), step(by_name(name, kind, soft_delete='always_on'), check=True),
                       by_name(name, kind, soft_delete='always_on', allow_irreversible=True),
                       by_name(name, kind, soft_delete='always_on')],       # already there: no consent needed
                      marks=settings_ids(name))
    assert run.rc == 0, run.output
    for key in ('r0', 'r1'):
        result = run[key]
        assert result['failed'] is True
        assert 'cannot be undone' in result['msg'] and "'%s'" % name in result['msg'] and 'allow_irreversible' in result['msg']
        assert run.writes(key) == []
    assert 'Traceback' not in run.output

    assert not run['r2'].get('failed'), run['r2']
    assert run['r2']['changed'] is True
    assert run['r2']['vault']['soft_delete'] == {'state': 'always_on', 'retention_days': 30, 'enforced_by_azure': False}
    assert api_settings(run.after('r2'), name) == (('AlwaysON', 30) if kind == 'recovery_services' else ('AlwaysOn', 30.0))

    assert not run['r3'].get('failed') and run['r3']['changed'] is False
    assert run.writes('r3') == []


@pytest.mark.parametrize('name', ['rsv-always', 'bv-always'])
@pytest.mark.parametrize('target', ['on', 'off'])
def test_leaving_always_on_is_refused_without_any_write(runner, emulator, name, target):
    kind = kind_of(name)
    # One playbook: the task (r0) and the same in check mode (r1).
    task = by_name(name, kind, soft_delete=target, allow_irreversible=True)
    run = runner.play([task, step(task, check=True)])
    for key in ('r0', 'r1'):
        result = run[key]
        assert result['failed'] is True
        assert 'irreversible' in result['msg'] and "'%s'" % name in result['msg']
    assert 'Traceback' not in run.output
    assert emulator.writes() == []
    assert api_settings(emulator, name)[0] in ('AlwaysON', 'AlwaysOn')


@pytest.mark.parametrize('name', ['rsv-always', 'bv-always'])
def test_retention_of_an_always_on_vault_can_still_change(runner, emulator, name):
    run = runner.play([by_name(name, kind_of(name), retention_days=60)])
    assert run.rc == 0, run.output
    assert run['r0']['changes'] == [{'setting': 'soft_delete_retention_days', 'before': 14, 'after': 60, 'irreversible': False}]
    assert api_settings(emulator, name)[1] == 60


@pytest.mark.parametrize('name', ['rsv-on', 'bv-on'])
def test_retention_days_bounds(runner, emulator, name):
    kind = kind_of(name)
    # One playbook: 13, 181 and 0 days, each for real and in check mode (r0-r5), then 14 (r6) and 180 (r7) days.
    refused = [step(by_name(name, kind, retention_days=days), check=check) for days in (13, 181, 0) for check in (False, True)]
    allowed = [by_name(name, kind, retention_days=days) for days in (14, 180)]
    run = runner.play(refused + allowed, marks=settings_ids(name))
    assert run.rc == 0, run.output
    for index in range(len(refused)):
        result = run['r%d' % index]
        assert result['failed'] is True
        assert 'between 14 and 180' in result['msg']
        assert run.writes('r%d' % index) == []
    for index, days in enumerate((14, 180), start=len(refused)):
        key = 'r%d' % index
        assert not run[key].get('failed'), run[key]
        assert run[key]['vault']['soft_delete'] == {'state': 'on', 'retention_days': days, 'enforced_by_azure': False}
        assert api_settings(run.after(key), name)[1] == days


def test_retention_days_with_soft_delete_off_is_refused(runner, emulator):
    run = runner.play([by_name('bv-on', 'backup', soft_delete='off', retention_days=30)])
    assert run['r0']['failed'] is True and 'applies only while soft delete is on' in run['r0']['msg']
    assert emulator.writes() == []


@pytest.mark.parametrize('name', ['rsv-on', 'bv-on'])
def test_turn_off(runner, emulator, name):
    kind = kind_of(name)
    run = runner.play([by_name(name, kind, soft_delete='off')])
    assert run.rc == 0, run.output
    assert run['r0']['vault']['soft_delete']['state'] == 'off'
    assert api_settings(emulator, name)[0] in ('Disabled', 'Off')


def test_recovery_services_vault_whose_soft_delete_belongs_to_the_vault_api(runner, emulator):
    """The config API answers BMSUserErrorSoftDeleteUseVaultApi; the module then sends a vault PATCH."""
    run = runner.play([by_name('rsv-vaultapi', soft_delete='on')])
    result = run['r0']
    assert run.rc == 0, run.output
    assert result['api'] == 'vault'
    assert result['vault']['soft_delete'] == {'state': 'on', 'retention_days': 14, 'enforced_by_azure': False}
    writes = emulator.writes()
    assert [(w['method'], w['path'].endswith(CONFIG), w['status']) for w in writes] == [('PATCH', True, 400), ('PATCH', False, 202)]
    assert writes[1]['body'] == {'properties': {'securitySettings': {'softDeleteSettings': {
        'softDeleteState': 'Enabled', 'enhancedSecurityState': 'Enabled', 'softDeleteRetentionPeriodInDays': 14}}}}
    assert api_settings(emulator, 'rsv-vaultapi') == ('Enabled', 14)


def test_read_only_run_sends_no_write(runner, emulator):
    run = runner.play([by_name('rsv-mua'), by_name('bv-mua', 'backup')], ['--diff'])
    assert run.rc == 0, run.output
    for key in ('r0', 'r1'):
        assert run[key]['changed'] is False and run[key]['changes'] == [] and run[key]['api'] is None
        assert dict(run[key]['vault']['mua'], protected_operations=None) == {'protected': True, 'resource_guard_id': GUARD,
                                                                               'protected_operations': None}
        assert 'disableSoftDeleteRequests' in run[key]['vault']['mua']['protected_operations']
    assert emulator.writes() == []


def test_by_id(runner, emulator):
    run = runner.play([{'name': 'by id', MOD: {'id': vault_id('bv-off', 'backup'), 'soft_delete': 'on'}}])
    assert run.rc == 0, run.output
    assert run['r0']['vault']['soft_delete'] == {'state': 'on', 'retention_days': 14, 'enforced_by_azure': False}


@pytest.mark.parametrize('name,action', [('rsv-off', 'Microsoft.RecoveryServices/vaults/backupconfig/write'),
                                         ('bv-off', 'Microsoft.DataProtection/backupVaults/write')])
def test_reader_identity(runner, emulator, name, action):
    ep = emulator.endpoint
    env = {'AZURE_CLIENT_ID': ep['readonly_client_id'], 'AZURE_SECRET': ep['readonly_client_secret'],
           'AZURE_CLIENT_SECRET': ep['readonly_client_secret']}
    kind = kind_of(name)
    # One playbook: check mode (r0), then for real (r1).
    run = runner.play([step(by_name(name, kind, soft_delete='on'), check=True), by_name(name, kind, soft_delete='on')], extra_env=env)
    assert run.rc == 0, run.output
    assert not run['r0'].get('failed'), run['r0']
    assert run['r0']['changed'] is True          # a reader can plan a change
    result = run['r1']
    assert result['failed'] is True
    assert 'AuthorizationFailed' in result['msg'] and name in result['msg'] and action in result['msg']
    assert 'Traceback' not in run.output
    assert api_settings(emulator, name)[0] in ('Disabled', 'Off')


def test_info_module_shows_soft_delete_and_mua_for_both_kinds(runner):
    run = runner.play([{'name': 'info', 'vaultlock.azure.vault_immutability_info': {'subscription_ids': [SUB1]}}])
    assert run.rc == 0, run.output
    by = {v['name']: v for v in run['r0']['vaults']}
    assert by['rsv-on']['soft_delete'] == {'state': 'on', 'retention_days': 30, 'enforced_by_azure': False}
    assert by['rsv-off']['soft_delete'] == {'state': 'off', 'retention_days': 14, 'enforced_by_azure': False}
    assert by['rsv-always']['soft_delete'] == {'state': 'always_on', 'retention_days': 14, 'enforced_by_azure': False}
    assert by['bv-on']['soft_delete'] == {'state': 'on', 'retention_days': 30, 'enforced_by_azure': False}
    assert by['bv-always']['soft_delete'] == {'state': 'always_on', 'retention_days': 14, 'enforced_by_azure': False}
    for name in ('rsv-mua', 'bv-mua'):
        assert by[name]['mua']['protected'] is True and by[name]['mua']['resource_guard_id'] == GUARD
        assert 'disableSoftDeleteRequests' in by[name]['mua']['protected_operations']
    for name in ('rsv-on', 'bv-on'):
        assert by[name]['mua'] == {'protected': False, 'resource_guard_id': None, 'protected_operations': []}


def test_same_record_as_the_info_module(runner):
    run = runner.play([by_name('bv-mua', 'backup'),
                       {'name': 'info', 'vaultlock.azure.vault_immutability_info': {'id': vault_id('bv-mua', 'backup')}}])
    assert run.rc == 0, run.output
    assert run['r1']['vaults'] == [run['r0']['vault']]


def test_config_update_with_unknown_outcome_is_read_again_before_it_is_sent_again(runner, emulator):
    emulator.fault(method='PATCH', path_regex='backupconfig/vaultconfig$', status=500, times=1)
    run = runner.play([by_name('rsv-off', soft_delete='on')])
    assert run.rc == 0, run.output
    assert run['r0']['api'] == 'vault_config'
    statuses = [(w['method'], w['status']) for w in emulator.writes()]
    assert statuses == [('PATCH', 500), ('PATCH', 200)]
    assert api_settings(emulator, 'rsv-off') == ('Enabled', 14)


def test_soft_delete_enforced_by_azure_in_a_ga_region_is_never_turned_off(runner, emulator):
    # One playbook: info (r0), turning it off (r1), raising its retention (r2).
    run = runner.play([{'name': 'info', 'vaultlock.azure.vault_immutability_info': {'subscription_ids': [SUB1]}},
                       by_name('bv-sbd', 'backup', soft_delete='off'), by_name('bv-sbd', 'backup', retention_days=30)], marks=[])
    by = {v['name']: v for v in run['r0']['vaults']}
    assert by['bv-sbd']['soft_delete'] == {'state': 'on', 'retention_days': 14, 'enforced_by_azure': True}
    assert by['bv-on']['soft_delete']['enforced_by_azure'] is False
    result = run['r1']
    assert result['failed'] is True
    assert "soft delete of Backup vault 'bv-sbd' is enforced by Azure (secure by default) and cannot be turned off" in result['msg']
    assert run.writes('r0') + run.writes('r1') == []
    # Raising the retention of enforced soft delete is still allowed.
    assert run.rc == 0, run.output
    assert not run['r2'].get('failed'), run['r2']
    assert run['r2']['vault']['soft_delete'] == {'state': 'on', 'retention_days': 30, 'enforced_by_azure': True}


def test_soft_delete_enforced_in_preview_is_reported_from_azures_refusal(runner, emulator):
    """Nothing in the vault shows the preview enforcement: Azure's refusal is explained, no other API is tried."""
    run = runner.play([by_name('rsv-sbd-preview', soft_delete='off')])
    result = run['r0']
    assert result['failed'] is True
    assert 'BMSUserErrorDisablingSoftDeleteStateNotAllowed' in result['msg']
    assert 'is enforced by Azure (secure by default) and cannot be turned off' in result['msg']
    writes = emulator.writes()
    assert [(w['method'], w['path'].endswith(CONFIG), w['status']) for w in writes] == [('PATCH', True, 400)]
    assert api_settings(emulator, 'rsv-sbd-preview') == ('Enabled', 14)


def test_soft_delete_enforced_in_ga_shows_always_on(runner, emulator):
    run = runner.play([by_name('rsv-sbd-ga', soft_delete='off')])
    result = run['r0']
    assert result['failed'] is True and 'AlwaysOn is irreversible' in result['msg']
    assert emulator.writes() == []
