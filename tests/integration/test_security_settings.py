# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vault security settings of issue 27 through ansible-playbook, the real SDKs and the emulator: the module's check,
apply and idempotent re-run; consent to permanently_disabled from the task only; and the role, whose check mode sends no
write and predicts exactly what the apply then changes, after which a recheck finds no drift left but the report-only
findings."""

from __future__ import annotations

import pytest

from tests.integration.batching import Batch
from tests.integration.conftest import PlaybookPart, fresh_fleet, part, step
from tests.integration.fleets import RG, SUB1, vault, vault_id
from tests.integration.role_steps import step as step_of_role
from tests.integration.test_harden_role import check_reports, findings

MOD = 'vaultlock.azure.vault_security_settings'


def security_fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-security', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-open', 'recovery_services', 'enabled', cross_subscription_restore='enabled', public_network_access='enabled',
                  alerts={'job_failure_alerts': 'disabled', 'classic_alerts': 'enabled'}, storage_redundancy='LocallyRedundant'),
            vault('rsv-closed', 'recovery_services', 'enabled', cross_subscription_restore='permanently_disabled',
                  public_network_access='disabled', alerts={'job_failure_alerts': 'enabled', 'classic_alerts': 'disabled'},
                  cmk_key_uri='https://kv-one.vault.azure.net/keys/k1', private_endpoints=1, storage_redundancy='GeoRedundant'),
            vault('bv-open', 'backup', 'enabled', cross_subscription_restore='enabled', alerts={'job_failure_alerts': 'disabled'},
                  storage_redundancy='GeoRedundant'),
        ]}]}]}


@pytest.fixture(autouse=True)
def fleet(emulator):
    emulator.load_fleet(security_fleet())
    emulator.clear_journal()


def props(emulator, name, kind='recovery_services'):
    return emulator.resource(vault_id(name, kind))['properties']


def csr(doc, kind='recovery_services'):
    if kind == 'recovery_services':
        return doc['restoreSettings']['crossSubscriptionRestoreSettings']['crossSubscriptionRestoreState']
    return doc['featureSettings']['crossSubscriptionRestoreSettings']['state']


OPEN = [('rsv-open', 'recovery_services'), ('bv-open', 'backup')]


def security_tasks(name, kind):
    args = {'name': name, 'resource_group': RG, 'vault_type': kind, 'cross_subscription_restore': 'disabled',
            'alerts': {'job_failure_alerts': 'enabled'}}
    if kind == 'recovery_services':
        args['public_network_access'] = 'disabled'
    task = {'name': 'security', MOD: args}
    return [step(task, check=True, diff=True), step(task, diff=True), task]


@pytest.fixture(scope='module')
def security_run(module_runner):
    """One ansible-playbook run (batching.Batch) on a fresh security fleet: a play of the module's parts (check, apply,
    again on each vault of OPEN), then a play of the role's steps: without consent (refused before any write), then the
    guard's check, apply and check again (the role's defaults leave the settings the parts changed unchecked). Then, each
    on the fleet loaded afresh in the run: the consent tasks (``consent_tasks``), the guard's parts (``guard_tasks``), and
    the guard refusal's task with its fault (GUARD_REFUSAL)."""
    fresh_fleet(module_runner, security_fleet())
    batch = Batch(module_runner).tasks([task for name, kind in OPEN for task in part(name.replace('-', '_'), security_tasks(name, kind))])
    guard = {'harden_backup_vaults_subscription_ids': ['all'], 'harden_backup_vaults_immutability': None,
             'harden_backup_vaults_retention_minimum': {}, 'harden_backup_vaults_soft_delete': {},
             'harden_backup_vaults_resource_guard_id': GUARD}
    batch.role_steps([step_of_role('no_consent', **ROLE), step_of_role('check', check=True, **guard), step_of_role('apply', **guard),
                      step_of_role('again', check=True, **guard)])
    batch.emulator(reset=True, load_fleet=security_fleet())
    batch.tasks(part('consent', consent_tasks()))
    batch.emulator(reset=True, load_fleet=security_fleet())
    batch.tasks([task for name, kind in OPEN for task in part('guard_' + name.replace('-', '_'), guard_tasks(name, kind))])
    batch.emulator(reset=True, load_fleet=security_fleet(), faults=[GUARD_REFUSAL])
    batch.tasks(part('refusal', [guard_tasks('bv-open', 'backup')[1]]))
    return batch.play(marks=[vault_id(name, kind) for name, kind in OPEN])


@pytest.mark.parametrize('name,kind', OPEN)
def test_module_check_apply_idempotent(security_run, name, kind):
    vid = vault_id(name, kind)
    run = PlaybookPart(security_run, name.replace('-', '_'))
    assert run.rc == 0, run.output
    check, apply, again = run['r0'], run['r1'], run['r2']
    assert not check.get('failed'), check
    assert check['changed'] is True and run.writes('r0') == []
    assert check['vault']['cross_subscription_restore'] == 'disabled'            # predicted
    assert csr(run.after('r0').resource(vid)['properties'], kind) == 'Enabled'
    assert not apply.get('failed'), apply
    assert apply['changes'] == check['changes'] and apply['vault']['cross_subscription_restore'] == 'disabled'   # re-read
    assert apply['diff']['before']['cross_subscription_restore'] == 'enabled'
    writes = run.writes('r1')
    assert len(writes) == 1 and writes[0]['method'] == 'PATCH' and writes[0]['path'].endswith(name)
    sent = writes[0]['body']['properties']
    expected_keys = {'restoreSettings', 'publicNetworkAccess', 'monitoringSettings'} if kind == 'recovery_services' else {
        'featureSettings', 'monitoringSettings'}
    assert set(sent) == expected_keys
    stored = run.after('r1').resource(vid)['properties']
    assert csr(stored, kind) == 'Disabled'
    assert stored['monitoringSettings']['azureMonitorAlertSettings']['alertsForAllJobFailures'] == 'Enabled'
    if kind == 'recovery_services':
        assert stored['publicNetworkAccess'] == 'Disabled'
        # A key the task did not ask for is left as it was.
        assert stored['monitoringSettings']['classicAlertSettings']['alertsForCriticalOperations'] == 'Enabled'
    assert again['changed'] is False and again['changes'] == [] and run.writes('r2') == []


def consent_tasks():
    """test_permanently_disabled_needs_consent_written_in_the_task's tasks, on bv-open."""
    vid = vault_id('bv-open', 'backup')
    target = {'id': vid, 'cross_subscription_restore': 'permanently_disabled'}
    return [
        # r0: no consent at all (check mode): refused before any request.
        step({'name': 'no consent', MOD: dict(target)}, check=True),
        # r1: consent from module_defaults only: ignored, refused.
        {'name': 'defaults consent', MOD: dict(target), 'module_defaults': {MOD: {'allow_irreversible': True}}},
        # r2: the target from module_defaults: refused whatever the consent.
        {'name': 'defaults target', MOD: {'id': vid, 'allow_irreversible': True},
         'module_defaults': {MOD: {'cross_subscription_restore': 'permanently_disabled'}}},
        # r3: consent and target in the task: written, irreversible.
        {'name': 'consent', MOD: dict(target, allow_irreversible=True)},
        # r4: leaving it is refused before any request, consent or not.
        {'name': 'leave', MOD: {'id': vid, 'cross_subscription_restore': 'enabled', 'allow_irreversible': True}},
    ]


def test_permanently_disabled_needs_consent_written_in_the_task(security_run):
    # The part 'consent' of security_run, on the fleet loaded afresh right before it.
    vid = vault_id('bv-open', 'backup')
    run = PlaybookPart(security_run, 'consent')
    assert run.rc == 0, run.output
    for key in ('r0', 'r1', 'r2'):
        assert run[key]['failed'] is True and run.writes(key) == [], (key, run[key])
    assert 'allow_irreversible' in run['r0']['msg'] and 'allow_irreversible' in run['r1']['msg']
    assert 'module_defaults' in run['r2']['msg']
    assert not run['r3'].get('failed'), run['r3']
    assert run['r3']['changes'] == [{'setting': 'cross_subscription_restore', 'before': 'enabled', 'after': 'permanently_disabled',
                                     'irreversible': True}]
    assert csr(run.after('r3').resource(vid)['properties'], 'backup') == 'PermanentlyDisabled'
    assert run['r4']['failed'] is True and 'irreversible' in run['r4']['msg'] and run.writes('r4') == []


ROLE = {'harden_backup_vaults_subscription_ids': ['all'], 'harden_backup_vaults_immutability': 'enabled',
        'harden_backup_vaults_retention_minimum': {}, 'harden_backup_vaults_soft_delete': {},
        'harden_backup_vaults_cross_subscription_restore': 'permanently_disabled',
        'harden_backup_vaults_public_network_access': 'disabled',
        'harden_backup_vaults_alerts': {'job_failure_alerts': 'enabled', 'classic_alerts': 'disabled'},
        'harden_backup_vaults_customer_managed_keys': 'required',
        'harden_backup_vaults_storage_redundancy': ['GeoRedundant', 'ZoneRedundant']}
REPORT_ONLY = {('rsv-open', 'customer_managed_keys'), ('bv-open', 'customer_managed_keys'), ('rsv-open', 'storage_redundancy')}


def test_the_role_without_consent_never_writes_permanently_disabled(security_run):
    # The role's first step in security_run (a run of its own before, through the collection's playbook).
    run = security_run.steps['no_consent']
    assert run.failed is not None
    assert 'harden_backup_vaults_cross_subscription_restore: permanently_disabled is irreversible' in run.output
    assert 'harden_backup_vaults_allow_irreversible' in run.output
    assert run.writes == []


# The role's check, apply and recheck: tests/integration/test_security_settings_steps.py (one ansible-playbook run).


GUARD = '/subscriptions/%s/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/guard-01' % SUB1


def guard_tasks(name, kind):
    task = {'name': 'guard', MOD: {'name': name, 'resource_group': RG, 'vault_type': kind, 'resource_guard_id': GUARD}}
    return [step(task, check=True, diff=True), task, task]


@pytest.fixture(scope='module')
def guard_run(security_run):
    """The guard's parts (guard_NAME) of security_run, on the fleet loaded afresh right before them."""
    return security_run


# test_a_refusal_on_the_guard_says_the_caller_needs_rights_on_it: the guard's PUT refused.
GUARD_REFUSAL = {'method': 'PUT', 'path_regex': 'backupResourceGuardProxies', 'status': 403, 'code': 'LinkedAuthorizationFailed',
                 'message': 'The client has permission to perform action on the vault but not on the linked resource guard.'}


def proxy_reads(requests):
    """The vaults whose Resource Guard proxies were read (GET .../backupResourceGuardProxies), in order."""
    return [r['path'].rsplit('/', 2)[-2] for r in requests
            if r['method'] == 'GET' and r['path'].lower().endswith('/backupresourceguardproxies')]


@pytest.mark.parametrize('name,kind,proxy', [('rsv-open', 'recovery_services', 'VaultProxy'),
                                             ('bv-open', 'backup', 'DppResourceGuardProxy')])
def test_module_associates_a_resource_guard(guard_run, name, kind, proxy):
    run = PlaybookPart(guard_run, 'guard_' + name.replace('-', '_'))
    assert run.rc == 0, run.output
    assert run['r0']['changed'] is True and run.writes('r0') == []
    assert dict(run['r0']['vault']['mua'], protected_operations=None) == {                    # predicted
        'protected': True, 'resource_guard_id': GUARD, 'protected_operations': None}
    assert not run['r1'].get('failed'), run['r1']
    assert run['r1']['changes'] == [{'setting': 'mua', 'before': None, 'after': GUARD, 'irreversible': False}]
    writes = run.writes('r1')
    assert [(w['method'], w['path'].rsplit('/', 2)[-2:]) for w in writes] == [('PUT', ['backupResourceGuardProxies', proxy])]
    assert writes[0]['body'] == {'properties': {'resourceGuardResourceId': GUARD}}
    mua = run['r1']['vault']['mua']                                                            # re-read
    # The vault's GET says only that a guard protects it; its proxy (read after the PUT) names the guard and, by their
    # request ids, the operations it protects (a Backup vault's as the live proxy lists them: cliext-dp-guard-proxy).
    disable_soft_delete = 'disableSoftDeleteRequests' if kind == 'recovery_services' else 'dppReduceSoftDeleteSecurityRequests'
    assert (mua['protected'], mua['resource_guard_id']) == (True, GUARD) and disable_soft_delete in mua['protected_operations']
    # Again: the vault's GET names no guard, its proxy does (one read): nothing to change, nothing sent. Before the guard was
    # associated no proxy was read (the vault reported none).
    assert run['r2']['changed'] is False and run.writes('r2') == []
    assert proxy_reads(run.requests('r2')) == [name] and proxy_reads(run.requests('r0')) == []


def test_a_refusal_on_the_guard_says_the_caller_needs_rights_on_it(security_run):
    # The part 'refusal' of security_run: GUARD_REFUSAL set in the run right before it, on a fresh fleet.
    run = PlaybookPart(security_run, 'refusal')
    assert run.rc == 0, run.output
    result = run['r0']
    assert result['failed'] is True and 'LinkedAuthorizationFailed' in result['msg'] and 'rights on the guard' in result['msg']
    assert props(run.after('r0'), 'bv-open', 'backup')['isVaultProtectedByResourceGuard'] is False


def test_the_role_associates_the_guard_check_predicts_apply(security_run):
    # Check, apply, check again: role steps of security_run, after the module's parts (which leave no guard).
    steps = security_run.steps
    check = steps['check']
    assert check.failed is None, check.output
    assert check.writes == []
    report = check_reports(check)
    assert findings(report, fixable=True) == {(name, 'mua') for name in ('rsv-open', 'rsv-closed', 'bv-open')}
    predicted = sorted((v['name'], c['setting'], c['after']) for v in report['changed'] for c in v['changes'])
    apply = steps['apply']
    assert apply.failed is None, apply.output
    report = check_reports(apply)
    assert sorted((v['name'], c['setting'], c['after']) for v in report['changed'] for c in v['changes']) == predicted
    assert sorted(w['path'].rsplit('/', 3)[-3] for w in apply.writes) == ['bv-open', 'rsv-closed', 'rsv-open']
    again = steps['again']
    assert again.failed is None, again.output
    assert findings(check_reports(again)) == set() and again.writes == []
    # A vault's GET says only that a guard protects it (as a live one: tests/fixtures/azure-real/ps-rs-mua): the plan reads
    # the proxy of each vault that reports a guard its tier's baseline names (one GET a vault), and of no other.
    # The apply reads each proxy once: the read back after its association, which confirms it.
    assert proxy_reads(check.requests) == [] and sorted(proxy_reads(apply.requests)) == ['bv-open', 'rsv-closed', 'rsv-open']
    assert sorted(proxy_reads(again.requests)) == ['bv-open', 'rsv-closed', 'rsv-open']
