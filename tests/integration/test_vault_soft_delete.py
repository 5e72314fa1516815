# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure.vault_soft_delete through ansible-playbook, the real SDKs and the emulator."""

from __future__ import annotations

import pytest

from tests.integration.batching import Batch
from tests.integration.conftest import PlaybookPart, fresh_fleet, part, step
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


def idempotent_tasks(name):
    kind = kind_of(name)
    args = dict(soft_delete='on', retention_days=30)
    # Check mode with --diff (r0), apply with --diff (r1), apply again (r2).
    return [step(by_name(name, kind, **args), check=True, diff=True), step(by_name(name, kind, **args), diff=True), by_name(name, kind, **args)]


def always_on_tasks(name):
    kind = kind_of(name)
    # Without consent (r0), the same in check mode (r1), with consent (r2), again without (r3).
    return [by_name(name, kind, soft_delete='always_on'), step(by_name(name, kind, soft_delete='always_on'), check=True),
            by_name(name, kind, soft_delete='always_on', allow_irreversible=True),
            by_name(name, kind, soft_delete='always_on')]       # already there: no consent needed


def bounds_tasks(name):
    kind = kind_of(name)
    # 13, 181 and 0 days, each for real and in check mode (r0-r5), then 14 (r6) and 180 (r7) days.
    refused = [step(by_name(name, kind, retention_days=days), check=check) for days in (13, 181, 0) for check in (False, True)]
    return refused + [by_name(name, kind, retention_days=days) for days in (14, 180)]


def reader_tasks(name):
    kind = kind_of(name)
    # Check mode (r0), then for real (r1).
    return [step(by_name(name, kind, soft_delete='on'), check=True), by_name(name, kind, soft_delete='on')]


def parts_tasks(parts):
    """The tests' parts [(prefix, vault name, tasks)] as tasks, each part on a vault no other part of them touches, so
    each finds its vault as the fleet has it (as in a run of its own)."""
    return [task for prefix, _name, made in parts for task in part(prefix, made)]


def parts_marks(parts):
    return [arm_id for _prefix, name, _made in parts for arm_id in settings_ids(name)]


CONSENT_PARTS = [*[('idempotent_%s' % name.replace('-', '_'), name, idempotent_tasks(name)) for name in ('rsv-off', 'bv-off')],
                 *[('always_on_%s' % name.replace('-', '_'), name, always_on_tasks(name)) for name in ('rsv-on', 'bv-on')]]
# test_config_update_with_unknown_outcome...: the config PATCH answered 500 once, on a fresh fleet.
UNKNOWN_FAULT = {'method': 'PATCH', 'path_regex': 'backupconfig/vaultconfig$', 'status': 500, 'times': 1}


@pytest.fixture(scope='module')
def soft_delete_run(module_runner):
    """One run (batching.Batch), each part on the fleet loaded afresh in the run: the consent parts, the shared tasks
    (``shared_tasks``), then the config update with an unknown outcome (UNKNOWN_FAULT set right before it)."""
    fresh_fleet(module_runner, soft_delete_fleet())
    batch = Batch(module_runner)
    batch.tasks(parts_tasks(CONSENT_PARTS))
    batch.emulator(reset=True, load_fleet=soft_delete_fleet())
    batch.tasks(shared_tasks())
    batch.emulator(reset=True, load_fleet=soft_delete_fleet(), faults=[UNKNOWN_FAULT])
    batch.tasks(part('unknown', [by_name('rsv-off', soft_delete='on')]))
    return batch.play(marks=sorted(set(parts_marks(CONSENT_PARTS) + MARKED + settings_ids('rsv-off'))))


@pytest.fixture(scope='module')
def consent_run(soft_delete_run):
    """test_check_mode_then_apply_then_idempotent (rsv-off, bv-off) and test_always_on_needs_consent... (rsv-on, bv-on)."""
    return soft_delete_run


@pytest.fixture(scope='module')
def reader_run(module_runner):
    """A run of its own: the reader identity's credentials are the run's environment."""
    ep = module_runner.emulator.endpoint
    env = {'AZURE_CLIENT_ID': ep['readonly_client_id'], 'AZURE_SECRET': ep['readonly_client_secret'],
           'AZURE_CLIENT_SECRET': ep['readonly_client_secret']}
    parts = [('reader_%s' % name.replace('-', '_'), name, reader_tasks(name)) for name in ('rsv-off', 'bv-off')]
    fresh_fleet(module_runner, soft_delete_fleet())
    return module_runner.play(parts_tasks(parts), marks=parts_marks(parts), extra_env=env)


@pytest.mark.parametrize('name,on', [('rsv-off', 'Enabled'), ('bv-off', 'On')])
def test_check_mode_then_apply_then_idempotent(consent_run, name, on):
    kind = kind_of(name)
    run = PlaybookPart(consent_run, 'idempotent_%s' % name.replace('-', '_'))
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
def test_always_on_needs_consent_and_fails_before_any_write(consent_run, name):
    kind = kind_of(name)
    run = PlaybookPart(consent_run, 'always_on_%s' % name.replace('-', '_'))
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


@pytest.mark.parametrize('name', ['rsv-on', 'bv-on'])
def test_retention_days_bounds(shared, name):
    """Tasks of the shared run (its part bounds_NAME, before test_turn_off's task turns the vault's soft delete off)."""
    refused = range(6)          # r0-r5: 13, 181 and 0 days, each for real and in check mode; r6, r7: 14 and 180 days
    run = PlaybookPart(shared, 'bounds_%s' % name.replace('-', '_'))
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


@pytest.mark.parametrize('name,action', [('rsv-off', 'Microsoft.RecoveryServices/vaults/backupconfig/write'),
                                         ('bv-off', 'Microsoft.DataProtection/backupVaults/write')])
def test_reader_identity(reader_run, name, action):
    run = PlaybookPart(reader_run, 'reader_%s' % name.replace('-', '_'))
    assert run.rc == 0, run.output
    assert not run['r0'].get('failed'), run['r0']
    assert run['r0']['changed'] is True          # a reader can plan a change
    result = run['r1']
    assert result['failed'] is True
    assert 'AuthorizationFailed' in result['msg'] and name in result['msg'] and action in result['msg']
    assert 'Traceback' not in run.output
    assert api_settings(run.after('r1'), name)[0] in ('Disabled', 'Off')


def test_config_update_with_unknown_outcome_is_read_again_before_it_is_sent_again(soft_delete_run):
    # The last part of soft_delete_run (its fault set in the run right before it, on a fresh fleet).
    run = PlaybookPart(soft_delete_run, 'unknown')
    assert run.rc == 0, run.output
    assert run['r0']['api'] == 'vault_config'
    statuses = [(w['method'], w['status']) for w in run.writes('r0')]
    assert statuses == [('PATCH', 500), ('PATCH', 200)]
    assert api_settings(run.after('r0'), 'rsv-off') == ('Enabled', 14)


def ga_region_tasks():
    """Info (r0), turning bv-sbd's soft delete off (r1), raising its retention (r2): a part of the shared run."""
    return [{'name': 'info', 'vaultlock.azure.vault_immutability_info': {'subscription_ids': [SUB1]}},
            by_name('bv-sbd', 'backup', soft_delete='off'), by_name('bv-sbd', 'backup', retention_days=30)]


def test_soft_delete_enforced_by_azure_in_a_ga_region_is_never_turned_off(shared):
    # Tasks of the shared run (its part ga_region, right after its first info task: no task has written yet).
    run = PlaybookPart(shared, 'ga_region')
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


# The shared tasks (the ``shared`` fixture, a part of soft_delete_run): each test asserts on its own tasks, registered by name, with
# the requests each sent (``run.writes(name)``) and the vaults as stored right after it (``run.after(name)``). Tasks on
# the same vault are ordered so that each finds the vault as its test's fleet has it: the info and refused tasks first.
ALWAYS = ['rsv-always', 'bv-always']
MARKED = [i for name in ('rsv-always', 'bv-always', 'rsv-on', 'bv-on', 'rsv-vaultapi', 'bv-off', 'rsv-sbd-preview', 'rsv-sbd-ga')
          for i in settings_ids(name)]


def key(*parts):
    return '_'.join(parts).replace('-', '_')


def named(name, entry):
    return dict(entry, register=name)


def shared_tasks():
    info = {'name': 'info', 'vaultlock.azure.vault_immutability_info': {'subscription_ids': [SUB1]}}
    tasks = [named('info', info)] + part('ga_region', ga_region_tasks())
    for name in ALWAYS:
        for target in ('on', 'off'):
            leave = by_name(name, kind_of(name), soft_delete=target, allow_irreversible=True)
            tasks += [named(key('leave', name, target), leave), named(key('leave', name, target, 'check'), step(leave, check=True))]
    tasks += [named(key('retention', name), by_name(name, kind_of(name), retention_days=60)) for name in ALWAYS]
    tasks += [named('retention_while_off', by_name('bv-on', 'backup', soft_delete='off', retention_days=30))]
    # test_retention_days_bounds (soft delete on), then test_turn_off on the same vaults.
    tasks += [task for name in ('rsv-on', 'bv-on') for task in part(key('bounds', name), bounds_tasks(name))]
    tasks += [named(key('turn_off', name), by_name(name, kind_of(name), soft_delete='off')) for name in ('rsv-on', 'bv-on')]
    tasks += [named('vault_api', by_name('rsv-vaultapi', soft_delete='on')),
              named('read_only_rsv', step(by_name('rsv-mua'), diff=True)), named('read_only_bv', step(by_name('bv-mua', 'backup'), diff=True)),
              named('by_id', {'name': 'by id', MOD: {'id': vault_id('bv-off', 'backup'), 'soft_delete': 'on'}}),
              named('record', by_name('bv-mua', 'backup')),
              named('record_info', {'name': 'info', 'vaultlock.azure.vault_immutability_info': {'id': vault_id('bv-mua', 'backup')}}),
              named('sbd_preview', by_name('rsv-sbd-preview', soft_delete='off')),
              named('sbd_ga', by_name('rsv-sbd-ga', soft_delete='off'))]
    return tasks


@pytest.fixture(scope='module')
def shared(soft_delete_run):
    """The shared tasks are a part of soft_delete_run, on the fleet loaded again right before them."""
    return soft_delete_run


@pytest.mark.parametrize('name', ALWAYS)
@pytest.mark.parametrize('target', ['on', 'off'])
def test_leaving_always_on_is_refused_without_any_write(shared, name, target):
    # The task and the same in check mode.
    run = shared
    keys = [key('leave', name, target), key('leave', name, target, 'check')]
    for task_key in keys:
        result = run[task_key]
        assert result['failed'] is True
        assert 'irreversible' in result['msg'] and "'%s'" % name in result['msg']
        assert run.writes(task_key) == []
    assert 'Traceback' not in run.output
    assert api_settings(run.after(keys[1]), name)[0] in ('AlwaysON', 'AlwaysOn')


@pytest.mark.parametrize('name', ALWAYS)
def test_retention_of_an_always_on_vault_can_still_change(shared, name):
    run = shared
    assert run.rc == 0, run.output
    assert run[key('retention', name)]['changes'] == [{'setting': 'soft_delete_retention_days', 'before': 14, 'after': 60, 'irreversible': False}]
    assert api_settings(run.after(key('retention', name)), name)[1] == 60


def test_retention_days_with_soft_delete_off_is_refused(shared):
    run = shared
    assert run['retention_while_off']['failed'] is True and 'applies only while soft delete is on' in run['retention_while_off']['msg']
    assert run.writes('retention_while_off') == []


@pytest.mark.parametrize('name', ['rsv-on', 'bv-on'])
def test_turn_off(shared, name):
    run = shared
    assert run.rc == 0, run.output
    assert run[key('turn_off', name)]['vault']['soft_delete']['state'] == 'off'
    assert api_settings(run.after(key('turn_off', name)), name)[0] in ('Disabled', 'Off')


def test_recovery_services_vault_whose_soft_delete_belongs_to_the_vault_api(shared):
    """The config API answers BMSUserErrorSoftDeleteUseVaultApi; the module then sends a vault PATCH."""
    run = shared
    result = run['vault_api']
    assert run.rc == 0, run.output
    assert result['api'] == 'vault'
    assert result['vault']['soft_delete'] == {'state': 'on', 'retention_days': 14, 'enforced_by_azure': False}
    writes = run.writes('vault_api')
    assert [(w['method'], w['path'].endswith(CONFIG), w['status']) for w in writes] == [('PATCH', True, 400), ('PATCH', False, 202)]
    assert writes[1]['body'] == {'properties': {'securitySettings': {'softDeleteSettings': {
        'softDeleteState': 'Enabled', 'enhancedSecurityState': 'Enabled', 'softDeleteRetentionPeriodInDays': 14}}}}
    assert api_settings(run.after('vault_api'), 'rsv-vaultapi') == ('Enabled', 14)


def test_read_only_run_sends_no_write(shared):
    # Both tasks with diff (what --diff did for the whole run).
    run = shared
    assert run.rc == 0, run.output
    for task_key in ('read_only_rsv', 'read_only_bv'):
        assert run[task_key]['changed'] is False and run[task_key]['changes'] == [] and run[task_key]['api'] is None
        # A guard protects the vault; its GET names neither the guard nor its operations (a live one does not:
        # tests/fixtures/azure-real/ps-rs-mua), and a task that weakens nothing reads no proxy.
        assert run[task_key]['vault']['mua'] == {'protected': True, 'resource_guard_id': None, 'protected_operations': []}
        assert not [r for r in run.requests(task_key) if 'backupresourceguardproxies' in r['path'].lower()]
        assert run.writes(task_key) == []


def test_by_id(shared):
    run = shared
    assert run.rc == 0, run.output
    assert run['by_id']['vault']['soft_delete'] == {'state': 'on', 'retention_days': 14, 'enforced_by_azure': False}


def test_info_module_shows_soft_delete_and_mua_for_both_kinds(shared):
    # The first task of the run: the fleet as loaded.
    run = shared
    assert run.rc == 0, run.output
    by = {v['name']: v for v in run['info']['vaults']}
    assert by['rsv-on']['soft_delete'] == {'state': 'on', 'retention_days': 30, 'enforced_by_azure': False}
    assert by['rsv-off']['soft_delete'] == {'state': 'off', 'retention_days': 14, 'enforced_by_azure': False}
    assert by['rsv-always']['soft_delete'] == {'state': 'always_on', 'retention_days': 14, 'enforced_by_azure': False}
    assert by['bv-on']['soft_delete'] == {'state': 'on', 'retention_days': 30, 'enforced_by_azure': False}
    assert by['bv-always']['soft_delete'] == {'state': 'always_on', 'retention_days': 14, 'enforced_by_azure': False}
    for name in ('rsv-mua', 'bv-mua'):
        # Protected: a live vault GET does not name the guard (tests/fixtures/azure-real/ps-rs-mua); the info module reads it,
        # and the operations it protects, from the vault's Resource Guard proxy.
        assert by[name]['mua']['protected'] is True and by[name]['mua']['resource_guard_id'] == GUARD, by[name]['mua']
        assert by[name]['mua']['protected_operations'], by[name]['mua']
    for name in ('rsv-on', 'bv-on'):
        assert by[name]['mua'] == {'protected': False, 'resource_guard_id': None, 'protected_operations': []}


def test_same_record_as_the_info_module(shared):
    run = shared
    assert run.rc == 0, run.output
    # The same record, but for the guard: the state module returns the vault as its reads say (a live GET names no guard,
    # so null, as its documentation says), the info module names it from the vault's proxy.
    [info] = run['record_info']['vaults']
    record = run['record']['vault']
    assert record['mua'] == {'protected': True, 'resource_guard_id': None, 'protected_operations': []}
    assert info['mua']['resource_guard_id'] == GUARD
    assert dict(info, mua=None) == dict(record, mua=None)


def test_soft_delete_enforced_in_preview_is_reported_from_azures_refusal(shared):
    """Nothing in the vault shows the preview enforcement: Azure's refusal is explained, no other API is tried."""
    run = shared
    result = run['sbd_preview']
    assert result['failed'] is True
    assert 'BMSUserErrorDisablingSoftDeleteStateNotAllowed' in result['msg']
    assert 'is enforced by Azure (secure by default) and cannot be turned off' in result['msg']
    writes = run.writes('sbd_preview')
    assert [(w['method'], w['path'].endswith(CONFIG), w['status']) for w in writes] == [('PATCH', True, 400)]
    assert api_settings(run.after('sbd_preview'), 'rsv-sbd-preview') == ('Enabled', 14)


def test_soft_delete_enforced_in_ga_shows_always_on(shared):
    run = shared
    result = run['sbd_ga']
    assert result['failed'] is True and 'AlwaysOn is irreversible' in result['msg']
    assert run.writes('sbd_ga') == []
