# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vault_security_settings in process (conftest.py): one PATCH of what changes, check mode, idempotency, consent for
permanently_disabled (task-scoped), refusals before any request, truthful results."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.action import vault_security_settings as action_plugin
from ansible_collections.vaultlock.azure.plugins.modules import vault_security_settings

from tests.unit.builders import BV, arm_vault, vault_id


def rsv(azure, name='rsv-1', csr='Enabled'):
    vault = azure.add(arm_vault(name))
    props = azure.vault(vault['id'])['properties']
    props['restoreSettings'] = {'crossSubscriptionRestoreSettings': {'crossSubscriptionRestoreState': csr}}
    props['publicNetworkAccess'] = 'Enabled'
    return vault


def bv(azure, name='bv-1', csr='Enabled'):
    vault = azure.add(arm_vault(name, BV))
    azure.vault(vault['id'])['properties']['featureSettings'] = {'crossSubscriptionRestoreSettings': {'state': csr}}
    return vault


def test_one_patch_of_what_changes_then_idempotent(run_module, azure):
    vault = rsv(azure)
    args = {'id': vault['id'], 'cross_subscription_restore': 'disabled', 'public_network_access': 'disabled',
            'alerts': {'job_failure_alerts': 'enabled', 'classic_alerts': None}}
    result = run_module(vault_security_settings, args, diff=True)
    assert result['changed'] is True
    assert [(c['setting'], c['before'], c['after']) for c in result['changes']] == [
        ('cross_subscription_restore', 'enabled', 'disabled'), ('public_network_access', 'enabled', 'disabled'),
        ('alerts', {'job_failure_alerts': None}, {'job_failure_alerts': 'enabled'})]
    assert azure.writes == [('PATCH', 'rsv-1', {'properties': {
        'restoreSettings': {'crossSubscriptionRestoreSettings': {'crossSubscriptionRestoreState': 'Disabled'}},
        'publicNetworkAccess': 'Disabled',
        'monitoringSettings': {'azureMonitorAlertSettings': {'alertsForAllJobFailures': 'Enabled'}}}})]
    assert result['vault']['cross_subscription_restore'] == 'disabled'
    assert result['diff']['before']['public_network_access'] == 'enabled'
    assert result['diff']['after']['public_network_access'] == 'disabled'
    again = run_module(vault_security_settings, args)
    assert again['changed'] is False and len(azure.writes) == 1


def test_check_mode_predicts_and_writes_nothing(run_module, azure):
    vault = bv(azure)
    result = run_module(vault_security_settings, {'id': vault['id'], 'cross_subscription_restore': 'disabled',
                                                  'alerts': {'job_failure_alerts': 'disabled'}}, check_mode=True)
    assert result['changed'] is True and azure.writes == []
    assert result['vault']['cross_subscription_restore'] == 'disabled'
    assert result['vault']['alerts'] == {'job_failure_alerts': 'disabled', 'classic_alerts': None}


def test_permanently_disabled_needs_consent_in_check_mode_too(run_module, azure):
    vault = bv(azure)
    for check in (True, False):
        result = run_module(vault_security_settings, {'id': vault['id'], 'cross_subscription_restore': 'permanently_disabled'},
                            check_mode=check)
        assert result['failed'] is True and 'allow_irreversible=true' in result['msg']
    assert azure.writes == []
    result = run_module(vault_security_settings, {'id': vault['id'], 'cross_subscription_restore': 'permanently_disabled',
                                                  'allow_irreversible': True}, diff=True)
    assert result['changes'][0]['irreversible'] is True and 'IRREVERSIBLE' in result['diff']['after_header']
    assert azure.writes == [('PATCH', 'bv-1', {'properties': {'featureSettings': {
        'crossSubscriptionRestoreSettings': {'state': 'PermanentlyDisabled'}}}})]


def test_leaving_permanently_disabled_is_refused_before_any_request(run_module, azure):
    vault = rsv(azure, csr='PermanentlyDisabled')
    result = run_module(vault_security_settings, {'id': vault['id'], 'cross_subscription_restore': 'enabled',
                                                  'allow_irreversible': True})
    assert result['failed'] is True and 'irreversible' in result['msg'] and azure.writes == []
    met = run_module(vault_security_settings, {'id': vault['id'], 'cross_subscription_restore': 'disabled'})
    assert met['changed'] is False and azure.writes == []


def test_settings_a_backup_vault_does_not_have_are_refused(run_module, azure):
    vault = bv(azure)
    result = run_module(vault_security_settings, {'id': vault['id'], 'public_network_access': 'disabled'})
    assert result['failed'] is True and 'no public network access' in result['msg']
    result = run_module(vault_security_settings, {'id': vault['id'], 'alerts': {'classic_alerts': 'disabled'}})
    assert result['failed'] is True and 'no classic alerts' in result['msg']
    assert azure.writes == []


def test_a_change_azure_ignores_fails_the_task(run_module, azure):
    vault = rsv(azure)
    azure.ignored.add('rsv-1')
    result = run_module(vault_security_settings, {'id': vault['id'], 'public_network_access': 'disabled'})
    assert result['failed'] is True and 'still reports' in result['msg']


def test_only_reading(run_module, azure):
    vault = rsv(azure)
    result = run_module(vault_security_settings, {'id': vault['id']})
    assert result['changed'] is False and result['vault']['cross_subscription_restore'] == 'enabled' and azure.writes == []


def test_permanently_disabled_from_module_defaults_is_refused(action):
    vid = vault_id('rsv-1')
    args = {'id': vid, 'cross_subscription_restore': 'permanently_disabled', 'allow_irreversible': True}
    result = action(action_plugin.ActionModule, args, own={'id': vid, 'allow_irreversible': True}).run(task_vars={})
    assert result['failed'] is True and 'module_defaults' in result['msg'] and 'module_args' not in result
    consent_only = action(action_plugin.ActionModule, args, own={'id': vid, 'cross_subscription_restore': 'permanently_disabled'})
    result = consent_only.run(task_vars={})
    assert result['module_args']['allow_irreversible'] is False
    assert any('from module_defaults is ignored' in w for w in result['warnings'])


def test_a_bad_alert_value_fails_clearly(run_module, azure):
    vault = rsv(azure)
    result = run_module(vault_security_settings, {'id': vault['id'], 'alerts': {'job_failure_alerts': 'sometimes'}})
    assert result['failed'] is True and 'alerts.job_failure_alerts must be enabled, disabled' in result['msg']
    assert azure.writes == []


GUARD = '/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg-sec/providers/Microsoft.DataProtection/resourceGuards/guard'


def test_a_blank_or_malformed_resource_guard_id_is_refused_before_any_request(run_module, azure):
    # '' or spaces (a variable that came out empty) did nothing and said nothing: the vault stayed unprotected. The vault is
    # not even read: one that does not exist would answer 404 only afterwards.
    vault = rsv(azure)
    for vault_ref in (vault['id'], vault['id'] + '-missing'):
        for value, words in (('', "resource_guard_id is '': give the ARM id of a Resource Guard (/subscriptions/<id>/resourceGroups/"
                                  "<rg>/providers/Microsoft.DataProtection/resourceGuards/<name>), or leave resource_guard_id out"),
                             ('  ', "resource_guard_id is '  ': give the ARM id of a Resource Guard"),
                             (GUARD.replace('resourceGuards', 'backupVaults'), 'resource_guard_id must be the ARM id of a Resource Guard')):
            result = run_module(vault_security_settings, {'id': vault_ref, 'resource_guard_id': value}, check_mode=value == '')
            assert result['failed'] is True and words in result['msg'] and 'nothing was sent to Azure' in result['msg'], result['msg']
    # Spaces around a valid id are refused too (they were stripped before): a Resource Guard id is written to Azure as given.
    result = run_module(vault_security_settings, {'id': vault['id'], 'resource_guard_id': ' %s ' % GUARD}, check_mode=True)
    assert result['failed'] is True and "it holds ' ' (U+0020 SPACE)" in result['msg'] and 'nothing was sent to Azure' in result['msg']
    assert azure.writes == []
    # A valid id, in another casing, associates the guard.
    result = run_module(vault_security_settings, {'id': vault['id'], 'resource_guard_id': GUARD.lower()}, check_mode=True)
    assert result['changed'] is True and result['changes'][0]['after'].lower() == GUARD.lower()
