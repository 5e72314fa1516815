# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultlock.azure.backup_policy_retention through ansible-playbook, the real SDKs and the emulator.

The vaults carry the policy examples of tests/fixtures/azure-reference verbatim (see retention_fleet.py). Expected
violations, changes and reductions are written by hand from those JSON files.
"""

from __future__ import annotations

import copy

import pytest

from tests.integration.batching import Batch
from tests.integration.conftest import PlaybookPart, fresh_fleet, part, step
from tests.integration.fleets import RG
from tests.integration.retention_fleet import DP_SOURCES, RS_SOURCES, policy_id, properties, retention_fleet, stored

MOD = 'vaultlock.azure.backup_policy_retention'

BASELINE = {'daily': '30d', 'weekly': '12w', 'monthly': '12m', 'yearly': '5y', 'log': '30d'}

# What BASELINE finds in the Recovery Services examples, by hand:
# (policy, tier, sub_policy, datastore, have, need, fixable)
RS_VIOLATIONS = {
    # daily 1 Days; no weekly/monthly/yearly schedule.
    ('testPolicy1', 'daily', None, None, 'P1D', 'P30D', True),
    ('testPolicy1', 'weekly', None, None, None, 'P12W', False),
    ('testPolicy1', 'monthly', None, None, None, 'P12M', False),
    ('testPolicy1', 'yearly', None, None, None, 'P5Y', False),
    # weekly schedule: no daily tier; 1 Weeks, 2 Months, 4 Years.
    ('complexPolicy', 'daily', None, None, None, 'P30D', False),
    ('complexPolicy', 'weekly', None, None, 'P1W', 'P12W', True),
    ('complexPolicy', 'monthly', None, None, 'P2M', 'P12M', True),
    ('complexPolicy', 'yearly', None, None, 'P4Y', 'P5Y', True),
    # SQL: Full daily 30 Days and Log 30 Days meet it; no weekly/monthly/yearly.
    ('HourlyLogBackup', 'weekly', None, None, None, 'P12W', False),
    ('HourlyLogBackup', 'monthly', None, None, None, 'P12M', False),
    ('HourlyLogBackup', 'yearly', None, None, None, 'P5Y', False),
    # SAP HANA: Log 15 Days.
    ('hana-policy-ccy', 'log', 'Log', None, 'P15D', 'P30D', True),
    # Azure Files snapshot tier: daily 5 Days.
    ('dailyPolicy2', 'daily', None, 'Snapshot', 'P5D', 'P30D', True),
}
# v2-daily-sample (180 Days, 12 Weeks, 60 Months, 10 Years) and newPolicyV2 (vault tier 30 Days, 12 Weeks,
# 60 Months, 10 Years) meet BASELINE.

# The changes enforcing BASELINE makes, by hand: (policy, tier, sub_policy, datastore, before, after).
RS_CHANGES = sorted([
    ('complexPolicy', 'weekly', None, None, 'P1W', 'P12W'),
    ('complexPolicy', 'monthly', None, None, 'P2M', 'P12M'),
    ('complexPolicy', 'yearly', None, None, 'P4Y', 'P5Y'),
    ('dailyPolicy2', 'daily', None, 'Snapshot', 'P5D', 'P30D'),
    ('hana-policy-ccy', 'log', 'Log', None, 'P15D', 'P30D'),
    ('testPolicy1', 'daily', None, None, 'P1D', 'P30D'),
])


def violations(result):
    return {(v['policy'], v['tier'], v['sub_policy'], v['datastore'], v['have'], v['need'], v['fixable']) for v in result['violations']}


def changes(result):
    return sorted((c['policy'], c['tier'], c['sub_policy'], c['datastore'], c['before'], c['after']) for c in result['changes'])


def rs_original(name):
    return copy.deepcopy(properties(*[(path, how) for pname, path, how in RS_SOURCES if pname == name][0]))


def dp_original(name):
    return copy.deepcopy(properties(*[(path, how) for pname, path, how in DP_SOURCES if pname == name][0]))


def rs_raised(name):
    """The example with BASELINE applied by hand: only the too-short values change, nothing else."""
    props = rs_original(name)
    if name == 'testPolicy1':
        props['retentionPolicy']['dailySchedule']['retentionDuration'] = {'count': 30, 'durationType': 'Days'}
    elif name == 'complexPolicy':
        props['retentionPolicy']['weeklySchedule']['retentionDuration'] = {'count': 12, 'durationType': 'Weeks'}
        props['retentionPolicy']['monthlySchedule']['retentionDuration'] = {'count': 12, 'durationType': 'Months'}
        props['retentionPolicy']['yearlySchedule']['retentionDuration'] = {'count': 5, 'durationType': 'Years'}
    elif name == 'hana-policy-ccy':
        assert props['subProtectionPolicy'][1]['policyType'] == 'Log'
        props['subProtectionPolicy'][1]['retentionPolicy']['retentionDuration'] = {'count': 30, 'durationType': 'Days'}
    elif name == 'dailyPolicy2':
        props['retentionPolicy']['dailySchedule']['retentionDuration'] = {'count': 30, 'durationType': 'Days'}
    return props


def after_put(props):
    """A policy as Azure keeps it after a PUT: protectedItemsCount 0 and, for an IaaS VM policy, instantRPDetails {}
    (recorded, tests/fixtures/azure-real/ps-rs-enhancedpolicy)."""
    kept = dict(props, protectedItemsCount=0)
    if kept.get('backupManagementType') == 'AzureIaasVM':
        kept.setdefault('instantRPDetails', {})
    return kept


def puts(emulator, writes=None):
    """The policies PUT: all the emulator journaled, or those of ``writes`` (one task's: ``run.writes('r0')``)."""
    return sorted(w['path'].rsplit('/', 1)[-1] for w in (emulator.writes() if writes is None else writes) if w['method'] == 'PUT')


def task(**args):
    return {'name': 'retention', MOD: args}


def by_name(name, kind='recovery_services', **args):
    return task(name=name, resource_group=RG, vault_type=kind, **args)


def add_policies(fleet, vault_name, policies):
    for group in fleet['subscriptions'][0]['resource_groups']:
        for entry in group['vaults']:
            if entry['name'] == vault_name:
                entry['policies'] = entry.get('policies', []) + policies
                return fleet
    raise KeyError(vault_name)


def blob_policy(name, duration, datastore='VaultStore'):
    """The az CLI blob template with another Default retention (duration and source datastore)."""
    props = dp_original('BlobPolicy1')
    rule = [r for r in props['policyRules'] if r['objectType'] == 'AzureRetentionRule'][0]
    rule['lifecycles'][0]['deleteAfter']['duration'] = duration
    rule['lifecycles'][0]['sourceDataStore']['dataStoreType'] = datastore
    return {'name': name, 'properties': props}


def fleet_doc():
    doc = retention_fleet()
    for name in ('bv-open', 'bv-immutable', 'bv-locked'):
        add_policies(doc, name, [blob_policy('blob-30d', 'P30D'), blob_policy('blob-4w', 'P4W'),
                                 blob_policy('blob-ops-30d', 'P30D', 'OperationalStore'),
                                 blob_policy('blob-ops-7d', 'P7D', 'OperationalStore')])
    return doc


@pytest.fixture(autouse=True)
def fleet(emulator):
    emulator.load_fleet(fleet_doc())
    emulator.clear_journal()


# ------------------------------------------------------------------------------------------------- enforce


ENFORCED = ['rsv-immutable', 'rsv-locked', 'rsv-open']


def enforced_tasks():
    """Enforce, then enforce again, on each vault of ENFORCED (each vault's own two), with --diff as the task's own
    ``diff``. Each vault's second task sends no write (asserted below), so the policies as the emulator stored them after
    it are what the first left."""
    tasks = []
    for vault in ENFORCED:
        # On a Locked vault a raise can never be undone: it needs the task's own consent.
        consent = {'allow_irreversible': True} if vault == 'rsv-locked' else {}
        task = step(by_name(vault, minimum=BASELINE, mode='enforce', **consent), diff=True)
        tasks += [dict(task, register=key('enforce', vault)), dict(task, register=key('again', vault))]
    return tasks


ASYNC_PUT = by_name('rsv-locked', minimum={'daily': '30d', 'log': '30d'}, policies=['testPolicy1', 'hana-policy-ccy'],
                    mode='enforce', allow_irreversible=True)
# Policies are raised in name order; the third PUT (hana-policy-ccy) fails, the fourth is not tried.
FAILED_PUT_FAULT = {'method': 'PUT', 'path_regex': '/backupPolicies/hana-policy-ccy$', 'status': 400, 'code': 'BMSUserErrorInvalidInput',
                    'message': 'Input provided for the call is invalid.'}


@pytest.fixture(scope='module')
def retention_run(module_runner):
    """One ansible-playbook run (batching.Batch) for the enforce tasks, the shared tasks, the 202 PUTs and the failed PUT:
    each part on a fresh fleet (vaultlock_test_emulator), the 202 PUTs with the emulator's policy_put_async set, the
    failed PUT with its fault; each test asserts on its own tasks' requests and the policies stored right after them."""
    fresh_fleet(module_runner, fleet_doc())
    batch = Batch(module_runner).tasks(enforced_tasks())
    batch.emulator(reset=True, load_fleet=fleet_doc()).tasks(shared_tasks())
    batch.emulator(register='async_settings', reset=True, load_fleet=fleet_doc(), settings={'policy_put_async': True})
    batch.tasks([dict(ASYNC_PUT, register='async_put')])
    batch.emulator(reset=True, load_fleet=fleet_doc(), faults=[FAILED_PUT_FAULT]).tasks([dict(by_name('rsv-immutable', minimum=BASELINE,
                                                                                                      mode='enforce'), register='failed_put')])
    marks = [policy_id(vault, name) for vault in ENFORCED for name, _path, _how in RS_SOURCES]
    return batch.play(marks=marks + [m for m in MARKED if m not in marks])


@pytest.fixture(scope='module')
def enforced(retention_run):
    return retention_run


@pytest.mark.parametrize('vault', ENFORCED)
def test_enforce_raises_only_what_changes_and_is_idempotent(enforced, vault):
    run = enforced
    first, second = key('enforce', vault), key('again', vault)
    assert run.rc == 0, run.output
    result = run[first]
    assert not result.get('failed'), result
    assert result['changed'] is True
    assert changes(result) == RS_CHANGES
    # On a locked vault every raise is irreversible except the Azure Files snapshot tier (operational, not held by immutability).
    assert {(c['policy'], c['tier']): c['irreversible'] for c in result['changes']} == {
        (c[0], c[1]): vault == 'rsv-locked' and c[0] != 'dailyPolicy2' for c in RS_CHANGES}
    assert violations(result) == {v for v in RS_VIOLATIONS if not v[6]}
    assert all(v['fixable'] is False for v in result['violations'])
    # One PUT per changed policy, none for the policies that already meet the minimum or only lack tiers.
    assert puts(None, run.writes(first)) == ['complexPolicy', 'dailyPolicy2', 'hana-policy-ccy', 'testPolicy1']
    assert all(w['status'] == 200 for w in run.writes(first))
    assert run.writes(second) == []
    # The emulator keeps exactly the example with the too-short values raised; nothing else in the body changed.
    kept = run.after(second)
    for name in ('complexPolicy', 'dailyPolicy2', 'hana-policy-ccy', 'testPolicy1'):
        assert stored(kept, vault, name) == after_put(rs_raised(name)), name
    for name in ('HourlyLogBackup', 'newPolicyV2', 'v2-daily-sample'):
        assert stored(kept, vault, name) == dict(rs_original(name), protectedItemsCount=0), name
    # The result shows what Azure keeps afterwards.
    after = {p['name']: {(t['tier'], t['sub_policy'], t['datastore']): t['duration'] for t in p['tiers']} for p in result['policies']}
    assert after['hana-policy-ccy'][('log', 'Log', None)] == 'P30D'
    assert after['complexPolicy'][('yearly', None, None)] == 'P5Y'

    again = run[second]
    assert not again.get('failed'), again
    assert again['changed'] is False
    assert again['changes'] == [] and 'diff' not in again
    assert violations(again) == {v for v in RS_VIOLATIONS if not v[6]}
    assert run.writes(second) == []


LOCKED_BV_MINIMUM = {'default': {'OperationalStore': '7d', 'VaultStore': '30d'}, 'weekly': '26w'}
LOCKED_BV_POLICIES = ['DiskPolicy1', 'BlobPolicy1', 'OSSDBPolicy']


def locked_backup_vault_tasks():
    """Enforce on a Locked Backup vault without consent (r0), in check mode (r1), with consent (r2), and again (r3). Azure
    updates no Backup vault policy, so each reports the weak tiers as not fixable, asks no consent and sends nothing.
    Before, r0 and r1 were refused for want of consent and r2 PUT BlobPolicy1 and OSSDBPolicy, which Azure refuses."""
    enforce = by_name('bv-locked', 'backup', minimum=LOCKED_BV_MINIMUM, policies=LOCKED_BV_POLICIES, mode='enforce')
    return [enforce, dict(enforce, check_mode=True),
            by_name('bv-locked', 'backup', minimum=LOCKED_BV_MINIMUM, policies=LOCKED_BV_POLICIES, mode='enforce', allow_irreversible=True),
            enforce]


# What LOCKED_BV_MINIMUM finds in the locked Backup vault's three policies: none of it fixable.
LOCKED_BV_VIOLATIONS = {
    ('DiskPolicy1', 'weekly', None, None, None, 'P26W', False),
    ('BlobPolicy1', 'weekly', None, None, None, 'P26W', False),
    ('BlobPolicy1', 'default', None, 'VaultStore', 'P7D', 'P30D', False),
    ('OSSDBPolicy', 'default', None, 'VaultStore', 'P1W', 'P30D', False),
    ('OSSDBPolicy', 'weekly', None, 'VaultStore', 'P12W', 'P26W', False),
}


def test_enforce_on_locked_backup_vault(shared):
    # Tasks of the shared run (its part locked_bv).
    run = PlaybookPart(shared, 'locked_bv')
    assert run.rc == 0, run.output
    for index in range(4):
        result = run['r%d' % index]
        assert result.get('failed') is not True, result
        assert result['immutability'] == 'locked'
        assert result['changed'] is False and result['changes'] == [] and 'diff' not in result
        assert violations(result) == LOCKED_BV_VIOLATIONS
        assert result['compliant'] is False
        reasons = {(v['policy'], v['tier'], v['datastore']): v['reason'] for v in result['violations']}
        for weak, need in ((('BlobPolicy1', 'default', 'VaultStore'), '30d'), (('OSSDBPolicy', 'default', 'VaultStore'), '30d'),
                           (('OSSDBPolicy', 'weekly', 'VaultStore'), '26w')):
            assert 'Azure does not update an existing Backup vault policy' in reasons[weak], reasons[weak]
            assert 'create a policy that keeps at least %s and move the backup instances to it' % need in reasons[weak]
        assert 'allow_irreversible' not in result['msg']
        assert '5 retention violation(s) remain in 3 policy(ies) that raising cannot fix' in result['msg']
        assert run.writes('r%d' % index) == []
    after = run.after('r3')
    for name in LOCKED_BV_POLICIES:
        assert stored(after, 'bv-locked', name, 'backup') == dp_original(name), name


def test_recovery_services_put_through_202_and_operation_status(retention_run):
    # The emulator answers RS policy PUTs 202 + Azure-AsyncOperation (.../operations/{id}) when policy_put_async is set.
    run = retention_run
    assert run['async_settings']['settings']['policy_put_async'] is True
    assert run.rc == 0, run.output
    result = run['async_put']
    assert changes(result) == [('hana-policy-ccy', 'log', 'Log', None, 'P15D', 'P30D'), ('testPolicy1', 'daily', None, None, 'P1D', 'P30D')]
    journal = run.requests('async_put')
    writes = [e for e in journal if e['method'] == 'PUT']
    assert [w['status'] for w in writes] == [202, 202]
    polled = [e['path'] for e in journal if e['method'] == 'GET' and '/operations/' in e['path']]
    # Each operation was polled until it ended: the emulator finishes an operation once its Retry-After (0 here) has passed
    # since it was accepted, as Azure's do by the clock, so the one poll each answers Succeeded.
    assert sorted(p.split('/backupPolicies/')[1].split('/')[0] for p in polled) == ['hana-policy-ccy', 'testPolicy1']
    # After the operation succeeded the module read the policy back (the SDK returns nothing on 202).
    after = {p['name']: p for p in result['policies']}
    assert after['testPolicy1']['tiers'][0]['duration'] == 'P30D'
    assert stored(run.after('async_put'), 'rsv-locked', 'testPolicy1') == after_put(rs_raised('testPolicy1'))
    assert stored(run.after('async_put'), 'rsv-locked', 'hana-policy-ccy') == after_put(rs_raised('hana-policy-ccy'))


# ------------------------------------------------------------------------------------------------- reductions


def v2_proposal():
    """v2-daily-sample as it would be PUT with weekly 12 -> 4 Weeks and the yearly schedule removed."""
    props = rs_original('v2-daily-sample')
    props['retentionPolicy']['weeklySchedule']['retentionDuration'] = {'count': 4, 'durationType': 'Weeks'}
    del props['retentionPolicy']['yearlySchedule']
    del props['protectedItemsCount']
    return {'properties': props}


V2_REDUCTIONS = [
    {'tier': 'weekly', 'sub_policy': None, 'datastore': None, 'before': 'P12W', 'after': 'P4W', 'operational': False, 'unsourced': False},
    {'tier': 'yearly', 'sub_policy': None, 'datastore': None, 'before': 'P10Y', 'after': None, 'operational': False, 'unsourced': False},
]


# ------------------------------------------------------------------------------------------------- errors


READER_CASES = [
    ('rsv-immutable', 'recovery_services', 'testPolicy1', {'daily': '30d'}, 'Microsoft.RecoveryServices/vaults/backupPolicies/write'),
    # Azure updates no Backup vault policy: enforce sends nothing there, so the reader's run reports and never fails.
    ('bv-immutable', 'backup', 'BlobPolicy1', {'default': '30d'}, None),
]


@pytest.fixture(scope='module')
def reader_run(module_runner):
    """Both cases of the reader identity as the parts of one playbook run with the reader's credentials, each on its own
    vault: report (r0), then enforce (r1). The policies as the fleet has them are kept before the run."""
    emulator = module_runner.emulator
    emulator.reset()
    emulator.load_fleet(fleet_doc())
    emulator.clear_journal()
    ep = emulator.endpoint
    env = {'AZURE_CLIENT_ID': ep['readonly_client_id'], 'AZURE_SECRET': ep['readonly_client_secret'],
           'AZURE_CLIENT_SECRET': ep['readonly_client_secret']}
    before = {vault: copy.deepcopy(stored(emulator, vault, policy, kind)) for vault, kind, policy, _minimum, _action in READER_CASES}
    tasks = []
    for vault, kind, policy, minimum, _action in READER_CASES:
        tasks += part(key('reader', vault), [by_name(vault, kind, minimum=minimum, policies=[policy], mode='report'),
                                             by_name(vault, kind, minimum=minimum, policies=[policy], mode='enforce')])
    marks = [policy_id(vault, policy, kind) for vault, kind, policy, _minimum, _action in READER_CASES]
    return before, module_runner.play(tasks, extra_env=env, marks=marks)


@pytest.mark.parametrize('vault,kind,policy,minimum,action', READER_CASES)
def test_reader_identity_gets_a_clear_permission_error(reader_run, vault, kind, policy, minimum, action):
    kept, shared_run = reader_run
    before = kept[vault]
    run = PlaybookPart(shared_run, key('reader', vault))
    # Reading is allowed: the check runs.
    assert run['r0'].get('failed') is not True and run['r0']['compliant'] is False
    result = run['r1']
    if action is None:
        # A Backup vault: the weak tier is not fixable, nothing is sent (not even a write refused for permission).
        assert result.get('failed') is not True, result
        assert result['changed'] is False and result['changes'] == [] and result['compliant'] is False
        assert [v['fixable'] for v in result['violations']] == [False]
        assert 'Azure does not update an existing Backup vault policy' in result['violations'][0]['reason']
        assert [e for index in (0, 1) for e in run.requests('r%d' % index) if e['method'] != 'GET'] == []
        assert stored(run.after('r1'), vault, policy, kind) == before
        return
    assert result['failed'] is True
    assert 'AuthorizationFailed' in result['msg']
    assert "policy '%s'" % policy in result['msg'] and "'%s'" % vault in result['msg']
    assert action in result['msg']
    assert 'Backup Contributor' in result['msg']
    assert result['error']['status'] == 403
    assert result['changed'] is False and result['changes'] == []
    assert 'Traceback' not in run.output
    assert stored(run.after('r1'), vault, policy, kind) == before


def test_a_failed_put_reports_what_was_already_raised(retention_run):
    # Policies are raised in name order; the third PUT (hana-policy-ccy) fails, the fourth is not tried (FAILED_PUT_FAULT).
    run = retention_run
    result = run['failed_put']
    assert result['failed'] is True
    assert result['msg'].startswith("update backup policy failed for policy 'hana-policy-ccy' of Recovery Services vault 'rsv-immutable'")
    assert 'BMSUserErrorInvalidInput' in result['msg'] and 'HTTP 400' in result['msg']
    assert result['changed'] is True
    assert changes(result) == [('complexPolicy', 'monthly', None, None, 'P2M', 'P12M'), ('complexPolicy', 'weekly', None, None, 'P1W', 'P12W'),
                               ('complexPolicy', 'yearly', None, None, 'P4Y', 'P5Y'), ('dailyPolicy2', 'daily', None, 'Snapshot', 'P5D', 'P30D')]
    assert [(w['path'].rsplit('/', 1)[-1], w['status']) for w in run.writes('failed_put')] == [
        ('complexPolicy', 200), ('dailyPolicy2', 200), ('hana-policy-ccy', 400)]
    assert stored(run.after('failed_put'), 'rsv-immutable', 'complexPolicy') == after_put(rs_raised('complexPolicy'))
    assert stored(run.after('failed_put'), 'rsv-immutable', 'testPolicy1') == dict(rs_original('testPolicy1'), protectedItemsCount=0)
    assert 'Traceback' not in run.output


# ------------------------------------------------------------------------------------------------- one playbook
# One playbook for the tests below (the ``shared`` fixture): each test asserts on its own tasks, registered by name, with
# the requests each sent (``run.writes(name)``) and the policies as stored right after it (``run.after(name)``). All but
# the last two tasks send no write; the last two raise policies of rsv-immutable the others only read before them.

ERROR_CASES = [
    (by_name('rsv-immutable', minimum={'daily': '30x'}, mode='enforce'), ["minimum.daily: invalid duration '30x'", 'accepted forms']),
    (by_name('rsv-immutable', minimum={'daily': '-5d'}, mode='enforce'), ["minimum.daily: invalid duration '-5d'"]),
    (by_name('rsv-immutable', minimum={'daily': 'P0D'}, mode='enforce'), ["invalid duration 'P0D': counts must be positive"]),
    (by_name('rsv-immutable', minimum={'hourly': '30d'}, mode='enforce'), ["unknown tier 'hourly' in minimum", 'daily, weekly']),
    (by_name('bv-immutable', 'backup', minimum={'default': {'ColdStore': '30d'}}, mode='enforce'), ["unknown datastore 'ColdStore'"]),
    (by_name('rsv-immutable', minimum={'log': '3d'}, mode='enforce'), ['minimum.log is 3d, below the shortest log retention Azure accepts (7d)']),
    (by_name('rsv-immutable', minimum={}, mode='enforce'), ['minimum names no tier']),
    (by_name('rsv-immutable', mode='enforce'), ['one of the following is required: minimum, compare_to']),
    (by_name('rsv-immutable', policy='testPolicy1', compare_to={'policy': 'complexPolicy', 'proposed': {'properties': {}}}),
     ['mutually exclusive: policy|proposed', 'compare_to']),
    (by_name('rsv-immutable', policy='testPolicy1', compare_to={}), ['one of the following is required: policy, proposed']),
    (by_name('rsv-immutable', compare_to={'policy': 'complexPolicy'}), ["missing parameter(s) required by 'compare_to': policy"]),
    (by_name('rsv-immutable', policy='testPolicy1', minimum={'daily': '30d'}), ["missing parameter(s) required by 'policy': compare_to"]),
    (by_name('rsv-immutable', policy='testPolicy1', compare_to={'proposed': {'retentionPolicy': {}}}),
     ['must be a policy body as it would be PUT, with a properties object']),
    (by_name('rsv-immutable', policy='testPolicy1', compare_to={'proposed': {'properties': {'backupManagementType': 'Nope'}}}),
     ['policy kind is not understood']),
    (by_name('rsv-immutable', policy='testPolicy1', compare_to={'policy': 'no-such'}), ["no backup policy named 'no-such'", "'rsv-immutable'"]),
    (by_name('rsv-immutable', minimum={'daily': '30d'}, policies=['testPolicy1', 'nope'], mode='enforce'), ["no backup policy named 'nope'"]),
    (by_name('rsv-gone', minimum={'daily': '30d'}, mode='enforce'), ["'rsv-gone'", 'ResourceNotFound']),
    (by_name('rsv-immutable', minimum={'daily': 30}, mode='enforce'), ['minimum.daily: invalid duration 30']),
]
PROPOSED = [('rsv-immutable', 'enabled', True), ('rsv-locked', 'locked', True), ('rsv-open', 'disabled', False)]
PER_DATASTORE = {'default': {'OperationalStore': '7d', 'VaultStore': '30d'}, 'weekly': '26w'}
MARKED = [policy_id('rsv-immutable', name) for name, _path, _how in RS_SOURCES]
MARKED += [policy_id('bv-locked', name, 'backup') for name in LOCKED_BV_POLICIES]


def key(*parts):
    return '_'.join(parts).replace('-', '_')


def named(name, entry):
    return dict(entry, register=name)


def only_raises():
    props = rs_original('testPolicy1')
    props['retentionPolicy']['dailySchedule']['retentionDuration'] = {'count': 4, 'durationType': 'Weeks'}
    return {'properties': props}


def shared_tasks():
    tasks = [named('check_normal', by_name('rsv-immutable', minimum=BASELINE)),
             named('check_check_mode', step(by_name('rsv-immutable', minimum=BASELINE), check=True)),
             named('per_datastore', by_name('bv-locked', 'backup', minimum=PER_DATASTORE, policies=['DiskPolicy1', 'BlobPolicy1', 'OSSDBPolicy'])),
             named('fail_on_violation', by_name('rsv-open', minimum={'daily': '30d'}, policies=['testPolicy1', 'v2-daily-sample'],
                                                fail_on_violation=True)),
             named('fail_on_violation_met', by_name('rsv-open', minimum={'daily': '30d'}, policies=['v2-daily-sample'], fail_on_violation=True)),
             named('enforce_check', step(by_name('rsv-immutable', minimum=BASELINE, mode='enforce'), check=True, diff=True))]
    tasks += [named(key('proposed', vault), step(by_name(vault, policy='v2-daily-sample', compare_to={'proposed': v2_proposal()}), check=True))
              for vault, _state, _rejected in PROPOSED]
    tasks += [named('only_raises', by_name('rsv-locked', policy='testPolicy1', compare_to={'proposed': only_raises()})),
              # Dropped tiers: the Enhanced policy keeps weekly/monthly/yearly and instant restore; testPolicy1 keeps 1 day.
              named('moving_0', by_name('rsv-immutable', policy='v2-daily-sample', compare_to={'policy': 'testPolicy1'})),
              # Unit change, Backup vault: P30D -> P4W keeps 28 days, a reduction; P4W -> P30D is not.
              named('moving_1', by_name('bv-immutable', 'backup', policy='blob-30d', compare_to={'policy': 'blob-4w'})),
              named('moving_2', by_name('bv-immutable', 'backup', policy='blob-4w', compare_to={'policy': 'blob-30d'})),
              # A lifecycle moved from the vault store to the operational store: the vault-store tier is gone.
              named('moving_3', by_name('bv-open', 'backup', policy='blob-30d', compare_to={'policy': 'blob-ops-30d'})),
              # Workload: the SAP HANA policy to the SQL one (weekly/monthly/yearly dropped, daily 180 -> 30 days).
              named('moving_4', by_name('rsv-open', policy='hana-policy-ccy', compare_to={'policy': 'HourlyLogBackup'}))]
    tasks += [named(key('operational', vault), by_name(vault, 'backup', policy='blob-ops-30d', compare_to={'policy': 'blob-ops-7d'}))
              for vault in ('bv-immutable', 'bv-locked')]
    tasks += [named('compare_and_minimum', step(by_name('rsv-immutable', policy='v2-daily-sample', compare_to={'proposed': v2_proposal()},
                                                        minimum={'daily': '30d'}, policies=['v2-daily-sample', 'testPolicy1']), check=True))]
    tasks += [named('bad_%d' % index, case) for index, (case, _expected) in enumerate(ERROR_CASES)]
    tasks += [named('dp_ceilings', by_name('bv-open', 'backup', minimum={'default': '2y'}, policies=['DiskPolicy1', 'blob-ops-30d'], mode='enforce'))]
    # The az CLI's disk policy backs up every 4 hours: 450 snapshots last 75 days, so 90 days cannot be kept (76 days was
    # planned and sent before: within the year).
    tasks += [named('dp_snapshots', by_name('bv-open', 'backup', minimum={'default': '90d'}, policies=['DiskPolicy1'], mode='enforce'))]
    # The ones that write, last: the locked Backup vault's part (test_enforce_on_locked_backup_vault), then two on rsv-immutable.
    tasks += part('locked_bv', locked_backup_vault_tasks())
    tasks += [named('day_count', by_name('rsv-immutable', minimum={'snapshot': '10d', 'instant': '35d'},
                                         policies=['newPolicyV2', 'v2-daily-sample', 'testPolicy1'], mode='enforce')),
              named('enforce_fail', by_name('rsv-immutable', minimum={'daily': '30d', 'weekly': '4w'}, policies=['testPolicy1'], mode='enforce',
                                            fail_on_violation=True))]
    return tasks


@pytest.fixture(scope='module')
def shared(retention_run):
    """The shared tasks: a part of retention_run, on a fleet of their own."""
    return retention_run


@pytest.mark.parametrize('mode', ['normal', 'check_mode'])
def test_mode_check_reports_violations_and_writes_nothing(shared, mode):
    # The task for real and in check mode (what --check did for the whole run).
    run = shared
    assert run.rc == 0, run.output
    result = run['check_%s' % mode]
    assert result['changed'] is False
    assert result['compliant'] is False
    assert violations(result) == RS_VIOLATIONS
    assert result['changes'] == []
    assert result['immutability'] == 'enabled'
    assert '13 retention violation(s) in 5 policy(ies), 6 fixable by mode=enforce' in result['msg']
    reasons = {(v['policy'], v['tier']): v['reason'] for v in result['violations']}
    assert reasons[('testPolicy1', 'daily')] == 'daily retention keeps 1d, less than minimum.daily 30d'
    assert 'no weekly retention tier' in reasons[('testPolicy1', 'weekly')]
    assert [p['name'] for p in result['policies']] == ['complexPolicy', 'dailyPolicy2', 'hana-policy-ccy', 'HourlyLogBackup',
                                                       'newPolicyV2', 'testPolicy1', 'v2-daily-sample']
    assert run.writes('check_%s' % mode) == []


def test_mode_check_backup_vault_per_datastore(shared):
    run = shared
    assert run.rc == 0, run.output
    result = run['per_datastore']
    assert violations(result) == {
        # Disk: OperationalStore P7D meets 7d; no weekly rule.
        ('DiskPolicy1', 'weekly', None, None, None, 'P26W', False),
        # Blob: VaultStore P7D < 30d; no weekly rule.
        ('BlobPolicy1', 'default', None, 'VaultStore', 'P7D', 'P30D', False),
        ('BlobPolicy1', 'weekly', None, None, None, 'P26W', False),
        # OSS DB: Default VaultStore P1W < 30d, Weekly VaultStore P12W < 26w.
        ('OSSDBPolicy', 'default', None, 'VaultStore', 'P1W', 'P30D', False),
        ('OSSDBPolicy', 'weekly', None, 'VaultStore', 'P12W', 'P26W', False),
    }
    # Azure updates no Backup vault policy: not fixable in either mode, so report mode counts none as fixable by enforce.
    assert '5 retention violation(s) in 3 policy(ies), 0 fixable by mode=enforce' in result['msg']
    assert run.writes('per_datastore') == []


def test_fail_on_violation_fails_with_a_clear_message(shared):
    run = shared
    result = run['fail_on_violation']
    assert result['failed'] is True
    assert result['msg'] == ("Recovery Services vault 'rsv-open' (resource group 'rg-backup-prod', subscription "
                             "11111111-1111-1111-1111-111111111111) does not meet the retention minimum (fail_on_violation): "
                             "policy 'testPolicy1': daily retention keeps 1d, less than minimum.daily 30d")
    assert violations(result) == {('testPolicy1', 'daily', None, None, 'P1D', 'P30D', True)}
    assert result['compliant'] is False
    assert run['fail_on_violation_met'].get('failed') is not True and run['fail_on_violation_met']['compliant'] is True
    assert 'Traceback' not in run.output
    assert run.writes('fail_on_violation') + run.writes('fail_on_violation_met') == []


def test_enforce_in_check_mode_reports_changes_and_writes_nothing(shared):
    # In check mode with diff (what --check --diff did for the whole run).
    run = shared
    assert run.rc == 0, run.output
    result = run['enforce_check']
    assert result['changed'] is True
    assert changes(result) == RS_CHANGES
    # Only what raising cannot fix remains: the missing tiers.
    assert violations(result) == {v for v in RS_VIOLATIONS if not v[6]}
    assert result['compliant'] is False
    assert result['msg'].startswith('would raise 6 retention tier(s) in 4 policy(ies); 7 retention violation(s) remain')
    assert result['diff']['before']['complexPolicy'] == {'weekly': 'P1W', 'monthly': 'P2M', 'yearly': 'P4Y'}
    assert result['diff']['after']['complexPolicy'] == {'weekly': 'P12W', 'monthly': 'P12M', 'yearly': 'P5Y'}
    assert result['diff']['after']['hana-policy-ccy']['log/Log'] == 'P30D'
    assert set(result['diff']['before']) == {'complexPolicy', 'dailyPolicy2', 'hana-policy-ccy', 'testPolicy1'}
    predicted = {p['name']: p for p in result['policies']}
    assert [t['duration'] for t in predicted['testPolicy1']['tiers']] == ['P30D']
    assert run.writes('enforce_check') == []
    for name, _path, _how in RS_SOURCES:
        assert stored(run.after('enforce_check'), 'rsv-immutable', name) == dict(rs_original(name), protectedItemsCount=0), name


def test_enforce_day_count_tiers_and_azure_maximum(shared):
    run = shared
    assert run.rc == 0, run.output
    result = run['day_count']
    # Azure Files vault tier: snapshotRetentionInDays 5 -> 10.
    assert changes(result) == [('newPolicyV2', 'snapshot', None, 'Snapshot', 'P5D', 'P10D')]
    assert violations(result) == {
        # Enhanced policies keep instant restore snapshots 30 days at most: not fixable.
        ('v2-daily-sample', 'instant', None, None, 'P30D', 'P35D', False),
        # The V1 example has no instantRpRetentionRangeInDays.
        ('testPolicy1', 'instant', None, None, None, 'P35D', False),
    }
    reasons = {v['policy']: v['reason'] for v in result['violations']}
    assert 'Azure allows at most 30 days here' in reasons['v2-daily-sample']
    assert puts(None, run.writes('day_count')) == ['newPolicyV2']
    expected = rs_original('newPolicyV2')
    expected['vaultRetentionPolicy']['snapshotRetentionInDays'] = 10
    assert stored(run.after('day_count'), 'rsv-immutable', 'newPolicyV2') == dict(expected, protectedItemsCount=0)


def test_enforce_on_a_backup_vault_never_raises_past_the_datasources_limit(shared):
    """Disks keep operational backups at most one year and 450 snapshots (Learn), which a 4-hourly policy reaches at 75
    days; blobs' operational tier 360 days (assumed): a minimum of two years is not fixable there, reported with the limit,
    and nothing is written. Before, both raises were planned as fixable with the Recovery Services ceilings and sent: Azure
    refuses such a policy."""
    run = shared
    result = run['dp_ceilings']
    assert result.get('failed') is not True, result.get('msg')
    assert result['changed'] is False and changes(result) == []
    assert violations(result) == {
        ('DiskPolicy1', 'default', None, 'OperationalStore', 'P7D', 'P2Y', False),
        ('blob-ops-30d', 'default', None, 'OperationalStore', 'P30D', 'P2Y', False),
    }
    reasons = {v['policy']: v['reason'] for v in result['violations']}
    assert 'Azure allows at most 75 days here (a disk keeps at most 450 snapshots: 75 days at 6 backups a day)' in reasons['DiskPolicy1']
    assert 'Azure allows at most 360 days here' in reasons['blob-ops-30d']
    assert run.writes('dp_ceilings') == []


def test_enforce_on_a_disk_policy_never_raises_past_450_snapshots_at_its_frequency(shared):
    """90 days of a 4-hourly disk policy are 540 snapshots: within the year, past Azure's 450 (Learn,
    disk-backup-overview.md). Before, the raise was planned as fixable and the PUT sent."""
    result = shared['dp_snapshots']
    assert result.get('failed') is not True, result.get('msg')
    assert result['changed'] is False and changes(result) == []
    assert violations(result) == {('DiskPolicy1', 'default', None, 'OperationalStore', 'P7D', 'P90D', False)}
    assert 'at most 75 days here (a disk keeps at most 450 snapshots' in result['violations'][0]['reason']
    assert shared.writes('dp_snapshots') == []


def test_enforce_with_fail_on_violation_raises_then_fails_on_missing_tiers(shared):
    run = shared
    result = run['enforce_fail']
    assert result['failed'] is True
    assert result['changed'] is True
    assert changes(result) == [('testPolicy1', 'daily', None, None, 'P1D', 'P30D')]
    assert "policy 'testPolicy1': policy has no weekly retention tier" in result['msg']
    assert puts(None, run.writes('enforce_fail')) == ['testPolicy1']
    assert stored(run.after('enforce_fail'), 'rsv-immutable', 'testPolicy1') == after_put(rs_raised('testPolicy1'))


@pytest.mark.parametrize('vault,state,rejected', PROPOSED)
def test_proposed_body_reductions(shared, emulator, vault, state, rejected):
    # In check mode (what --check did for the whole run).
    run = shared
    assert run.rc == 0, run.output
    result = run[key('proposed', vault)]
    assert result['changed'] is False
    assert result['reductions'] == V2_REDUCTIONS
    assert result['rejected_by_azure'] is rejected
    assert result['immutability'] == state
    if rejected:
        assert result['msg'].startswith("Azure will reject changing policy 'v2-daily-sample' as proposed: Recovery Services vault '%s'" % vault)
        assert 'weekly P12W -> P4W' in result['msg'] and 'yearly P10Y -> dropped' in result['msg']
    else:
        assert 'allowed only because' in result['msg']
    assert 'violations' not in result
    assert run.writes(key('proposed', vault)) == []

    # The prediction agrees with what Azure (the emulator, this test's fresh fleet) does with that body.
    client = emulator.backup_client()
    if rejected:
        with pytest.raises(Exception) as failure:
            client.protection_policies.create_or_update(vault, RG, 'v2-daily-sample', v2_proposal())
        assert 'UserErrorRetentionReductionNotAllowedOnImmutableVault' in str(failure.value) or \
            getattr(getattr(failure.value, 'error', None), 'code', None) == 'UserErrorRetentionReductionNotAllowedOnImmutableVault'
    else:
        client.protection_policies.create_or_update(vault, RG, 'v2-daily-sample', v2_proposal())


def test_proposed_body_that_only_raises_is_accepted(shared):
    run = shared
    assert run.rc == 0, run.output
    assert run['only_raises']['reductions'] == [] and run['only_raises']['rejected_by_azure'] is False
    assert run['only_raises']['msg'] == "changing policy 'testPolicy1' as proposed reduces no retention"
    assert run.writes('only_raises') == []


def test_compare_to_policy_moving_items(shared):
    run = shared
    assert run.rc == 0, run.output
    moved = run['moving_0']
    assert moved['reductions'] == [
        {'tier': 'daily', 'sub_policy': None, 'datastore': None, 'before': 'P180D', 'after': 'P1D', 'operational': False, 'unsourced': False},
        {'tier': 'weekly', 'sub_policy': None, 'datastore': None, 'before': 'P12W', 'after': None, 'operational': False, 'unsourced': False},
        {'tier': 'monthly', 'sub_policy': None, 'datastore': None, 'before': 'P60M', 'after': None, 'operational': False, 'unsourced': False},
        {'tier': 'yearly', 'sub_policy': None, 'datastore': None, 'before': 'P10Y', 'after': None, 'operational': False, 'unsourced': False},
        # instant restore snapshots: not named operational by Microsoft, predicted held (unsourced)
        {'tier': 'instant', 'sub_policy': None, 'datastore': None, 'before': 'P30D', 'after': None, 'operational': False, 'unsourced': True},
    ]
    assert moved['rejected_by_azure'] is True
    assert "Azure will reject moving protected items from policy 'v2-daily-sample' to 'testPolicy1'" in moved['msg']
    assert "4 retention tier(s) would keep less" in moved['msg']
    assert "also 1 tier(s) (instant P30D -> dropped) unsourced (assumed)" in moved['msg']

    assert run['moving_1']['reductions'] == [{'tier': 'default', 'sub_policy': None, 'datastore': 'VaultStore', 'before': 'P30D',
                                              'after': 'P4W', 'operational': False, 'unsourced': False}]
    assert run['moving_1']['rejected_by_azure'] is True
    assert run['moving_2']['reductions'] == [] and run['moving_2']['rejected_by_azure'] is False

    assert run['moving_3']['reductions'] == [{'tier': 'default', 'sub_policy': None, 'datastore': 'VaultStore', 'before': 'P30D',
                                              'after': None, 'operational': False, 'unsourced': False}]
    assert run['moving_3']['rejected_by_azure'] is False and run['moving_3']['immutability'] == 'disabled'

    assert run['moving_4']['reductions'] == [
        {'tier': 'daily', 'sub_policy': 'Full', 'datastore': None, 'before': 'P180D', 'after': 'P30D', 'operational': False, 'unsourced': False},
        {'tier': 'weekly', 'sub_policy': 'Full', 'datastore': None, 'before': 'P104W', 'after': None, 'operational': False, 'unsourced': False},
        {'tier': 'monthly', 'sub_policy': 'Full', 'datastore': None, 'before': 'P60M', 'after': None, 'operational': False, 'unsourced': False},
        {'tier': 'yearly', 'sub_policy': 'Full', 'datastore': None, 'before': 'P10Y', 'after': None, 'operational': False, 'unsourced': False},
    ]
    assert run['moving_4']['rejected_by_azure'] is False
    assert [w for index in range(5) for w in run.writes('moving_%d' % index)] == []


@pytest.mark.parametrize('vault', ['bv-immutable', 'bv-locked'])
def test_operational_tiers_are_not_protected_by_immutability(shared, emulator, vault):
    # Backup vault operational store (disks, blobs): 30 -> 7 days on an immutable vault.
    policy, tier = 'blob-ops-30d', 'default/OperationalStore'
    run = shared
    assert run.rc == 0, run.output
    result = run[key('operational', vault)]
    assert result['reductions'] == [{'tier': 'default', 'sub_policy': None, 'datastore': 'OperationalStore', 'before': 'P30D',
                                     'after': 'P7D', 'operational': True, 'unsourced': False}]
    assert result['rejected_by_azure'] is False
    assert 'Azure will reject' not in result['msg']
    assert '%s P30D -> P7D) not protected by immutability' % tier in result['msg']
    # What Azure (the emulator, this test's fresh fleet) does: a new policy that keeps the operational tier 7 days is created on
    # the immutable vault; the existing policy is not updated, shorter or not (Azure updates no Backup vault policy).
    client = emulator.dp_client()
    client.backup_policies.create_or_update(RG, vault, 'blob-ops-7d-new', {'properties': blob_policy(policy, 'P7D', 'OperationalStore')['properties']})
    got = stored(emulator, vault, 'blob-ops-7d-new', 'backup')
    assert [life['deleteAfter']['duration'] for rule in got['policyRules'] for life in rule.get('lifecycles') or []] == ['P7D']
    with pytest.raises(Exception) as refused:
        client.backup_policies.create_or_update(RG, vault, policy, {'properties': blob_policy(policy, 'P7D', 'OperationalStore')['properties']})
    assert getattr(getattr(refused.value, 'error', None), 'code', None) == 'UserErrorBMSUpdatePolicyNotSupported'
    got = stored(emulator, vault, policy, 'backup')
    assert [life['deleteAfter']['duration'] for rule in got['policyRules'] for life in rule.get('lifecycles') or []] == ['P30D']


def test_compare_and_minimum_together(shared):
    # In check mode (what --check did for the whole run).
    run = shared
    assert run.rc == 0, run.output
    result = run['compare_and_minimum']
    assert result['reductions'] == V2_REDUCTIONS and result['rejected_by_azure'] is True
    assert violations(result) == {('testPolicy1', 'daily', None, None, 'P1D', 'P30D', True)}
    assert result['msg'].startswith('Azure will reject') and '1 retention violation(s)' in result['msg']
    assert run.writes('compare_and_minimum') == []


def test_bad_input_is_a_clear_error_without_a_write(shared):
    run = shared
    for index, (_case, expected) in enumerate(ERROR_CASES):
        result = run['bad_%d' % index]
        assert result['failed'] is True, (index, result)
        for text in expected:
            assert text in result['msg'], (index, result['msg'])
        assert run.writes('bad_%d' % index) == [], index
    assert 'Traceback' not in run.output
