# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inputs that came out empty never widen a scope nor pass for a value: refused before any request.

A list or dict option that narrows a scope (policies, subscription_ids, tags) given empty meant the same as leaving it out
(every policy, the subscription of the authentication options, every vault), so a variable that came out empty widened
the task without a word; a blank resource_guard_id did nothing and said nothing. One playbook run holds every case, each
templated from a play variable as a real play would; the request journal shows what reached the emulator.

The file's four tests are the four parts of one ansible-playbook run (``refusals``, a batching.Batch): each part a play of
its own (with the play variables its run of its own had) on the fleet its run had, loaded before it in the run
(vaultlock_test_emulator, the journal kept); each test reads its own tasks (registered PART_r0, PART_r1, ...: PlaybookPart),
their requests, the marked documents right after them, and its own play's output (play_output).
"""

from __future__ import annotations

import pytest

from tests.emulator import generator as templates
from tests.integration.batching import Batch, play_output
from tests.integration.conftest import PlaybookPart, fresh_fleet, part
from tests.integration.fleets import RG, SUB1, vault, vault_id

RET = 'vaultlock.azure.backup_policy_retention'
RET_INFO = 'vaultlock.azure.backup_policy_retention_info'
IMM_INFO = 'vaultlock.azure.vault_immutability_info'
SEC = 'vaultlock.azure.vault_security_settings'
READINESS = 'vaultlock.azure.vault_lock_readiness_info'
POLICY = vault_id('rsv-a') + '/backupPolicies/VMDaily'


def daily(resource):
    return resource['properties']['retentionPolicy']['dailySchedule']['retentionDuration']


def filters_fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'refusals', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-a', 'recovery_services', 'enabled', policies=[{'name': 'VMDaily', 'properties': templates.iaas_v1(True)}])]}]}]}


GUARD = '/subscriptions/%s/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/guard-01' % SUB1
FILTERS_VARS = {'wanted_policies': [], 'wanted_subscriptions': [], 'wanted_tags': {}, 'blank': '', 'readers': 0, 'guard': GUARD}


def filters_tasks():
    raise_all = {'id': vault_id('rsv-a'), 'minimum': {'daily': '30d'}, 'mode': 'enforce'}
    return [
        # r0: the issue's case: an empty policies list raised every policy of the vault.
        {'name': 'raise the named policies', RET: dict(raise_all, policies='{{ wanted_policies }}')},
        # r1: a blank name in the list.
        {'name': 'a blank policy name', RET: dict(raise_all, policies=['VMDaily', '{{ blank }}'])},
        # r2: the info module's policies.
        {'name': 'read the named policies', RET_INFO: {'id': vault_id('rsv-a'), 'policies': '{{ wanted_policies }}'}},
        # r3, r4: vault_immutability_info's subscription_ids and tags.
        {'name': 'read the named subscriptions', IMM_INFO: {'subscription_ids': '{{ wanted_subscriptions }}', 'discovery': 'arm'}},
        {'name': 'read the tagged vaults', IMM_INFO: {'tags': '{{ wanted_tags }}', 'discovery': 'arm'}},
        # r5, r6: a blank Resource Guard id, in check mode and for real.
        {'name': 'protect with the guard (check)', SEC: {'id': vault_id('rsv-a'), 'resource_guard_id': '{{ blank }}'}, 'check_mode': True},
        {'name': 'protect with the guard', SEC: {'id': vault_id('rsv-a'), 'resource_guard_id': '   '}},
        # r7: policies left out: every policy, as documented.
        {'name': 'raise every policy', RET: raise_all},
        # r8: a concurrency of 0 read with the default of 32.
        {'name': 'read with no reader', IMM_INFO: {'discovery': 'arm', 'max_concurrency': '{{ readers }}'}},
        # r9, r10: a Resource Guard id with a variation selector after its name (check mode), and one with a query (for real):
        # both passed the check before and went into the guard association.
        {'name': 'protect with an invisible guard (check)', SEC: {'id': vault_id('rsv-a'), 'resource_guard_id': '{{ guard }}\ufe0f'},
         'check_mode': True},
        {'name': 'protect with a guard and a query', SEC: {'id': vault_id('rsv-a'), 'resource_guard_id': '{{ guard }}?x=1'}},
        # r11, r12: a tier, and a datastore, named twice in other cases: the last one written was taken, without a word (a
        # weekly minimum of 4w and WEEKLY of 520w enforced whichever the dictionary held last).
        {'name': 'raise with a tier given twice', RET: dict(raise_all, minimum={'daily': '30d', 'DAILY': '60d'})},
        {'name': 'raise with a datastore given twice', RET: dict(raise_all, minimum={'daily': {'VaultStore': '30d', 'vaultstore': '60d'}}),
         'check_mode': True},
        # r13, r14: the info modules given a vault's name with the other vault_type: Azure's bare 404, where the state modules
        # say that vault_type picks the kind and a vault of the other kind may have that name.
        {'name': 'read with the wrong vault_type', IMM_INFO: {'name': 'rsv-a', 'resource_group': RG, 'vault_type': 'backup'}},
        {'name': 'readiness with the wrong vault_type', READINESS: {'name': 'rsv-a', 'resource_group': RG, 'vault_type': 'backup'}},
    ]


def records_fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'records', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-open', 'recovery_services', 'disabled')]}]}]}


def records_tasks():
    return [
        {'name': 'read', IMM_INFO: {'discovery': 'arm'}},
        {'name': 'diff the records', 'vaultlock.azure.drift_diff': {'drift': '{{ records_r0.vaults }}'}},
        {'name': 'summarise the records', 'ansible.builtin.debug': {'msg': '{{ records_r0.vaults | vaultlock.azure.drift_summary }}'}},
        {'name': 'report the records', 'ansible.builtin.debug': {'msg': '{{ records_r0.vaults | vaultlock.azure.drift_report_json }}'}},
        # Through vault_drift: the drift is there.
        {'name': 'diff the drift', 'vaultlock.azure.drift_diff': {
            'drift': "{{ records_r0.vaults | vaultlock.azure.vault_drift({'immutability': 'enabled'}) }}"}},
    ]


def targets_fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'targets', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-open', 'recovery_services', 'disabled')]}]}]}


def targets_tasks():
    baseline = "{'immutability': 'enabled'}"
    return [
        {'name': 'read', IMM_INFO: {'discovery': 'arm'}},
        # A result rebuilt by hand (set_fact, a file) whose vaults came out as a string.
        {'name': 'plan', 'ansible.builtin.set_fact': {
            'plan': "{{ [targets_r0, {'vaults': 'rsv-gone', 'errors': [], 'item': 'rg-hand'}] | vaultlock.azure.vault_targets(baseline=%s) }}"
                    % baseline}},
        {'name': 'show', 'ansible.builtin.debug': {'var': 'plan'}},
    ]


def options_fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'options', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-a', 'recovery_services', 'disabled')]}]}]}


def options_tasks():
    imm = 'vaultlock.azure.vault_immutability'
    lock = {'id': vault_id('rsv-a'), 'immutability': 'locked', 'allow_irreversible': True}
    check = {'id': vault_id('rsv-a'), 'immutability': 'enabled'}
    return [
        {'name': 'timeout 0', imm: dict(check, api_timeout=0), 'check_mode': True},
        {'name': 'timeout negative', imm: dict(check, api_timeout=-5), 'check_mode': True},
        {'name': 'timeout huge', imm: dict(check, api_timeout=10 ** 21), 'check_mode': True},
        {'name': 'lock with wait_timeout -1', imm: dict(lock, wait_timeout=-1)},
        {'name': 'retries as a boolean', imm: dict(check, api_retries=True), 'check_mode': True},
        {'name': 'polling every 0 s', imm: dict(check, polling_interval=0), 'check_mode': True},
        {'name': 'a tenant with slashes', imm: dict(check, tenant='../../x'), 'check_mode': True},
        {'name': 'days .inf', imm: dict(lock, immutability_retention_days=float('inf'))},
        {'name': 'plan with timeout -3',
         'vaultlock.azure.harden_plan': {'baseline': {'immutability': 'enabled'}, 'api_timeout': -3, 'report_dir': '{{ report_dir }}'}},
        {'name': 'info with -.inf readers', IMM_INFO: {'discovery': 'arm', 'max_concurrency': float('-inf')}},
        {'name': 'apply with .inf workers', 'vaultlock.azure.harden_apply': {'plan': 'x', 'max_concurrency': float('inf')}},
    ]


@pytest.fixture(scope='module')
def refusals(module_runner):
    """The four parts in one run: (the BatchRun, the weak policy's daily retention as loaded before it)."""
    emulator = fresh_fleet(module_runner, filters_fleet())
    weak = daily(emulator.resource(POLICY))
    batch = Batch(module_runner)
    batch.tasks(part('filters', filters_tasks()), name='filters', vars=FILTERS_VARS)
    batch.emulator(reset=True, load_fleet=records_fleet())
    batch.tasks(part('records', records_tasks()), name='records')
    batch.emulator(reset=True, load_fleet=targets_fleet())
    batch.tasks(part('targets', targets_tasks()), name='targets')
    batch.emulator(reset=True, load_fleet=options_fleet())
    batch.tasks(part('options', options_tasks()), name='options', vars={'report_dir': str(module_runner.tmp_path / 'reports')})
    return batch.play(marks=[POLICY, vault_id('rsv-a')]), weak


def test_empty_filters_and_a_blank_or_malformed_resource_guard_id_are_refused_before_any_request(refusals):
    shared, weak = refusals
    run = PlaybookPart(shared, 'filters')
    expected = {
        'r0': 'policies is empty (from a variable that came out empty?), which would mean every policy of the vault: leave '
              'policies out to mean that',
        'r1': "policies[1] is '': each entry names one backup policy",
        'r2': 'policies is empty (from a variable that came out empty?), which would mean every policy of each vault',
        'r3': 'subscription_ids is empty (from a variable that came out empty?), which would mean the subscription of the '
              'authentication options',
        'r4': 'tags is empty (from a variable that came out empty?), which would mean every vault, whatever its tags',
        'r5': "resource_guard_id is '': give the ARM id of a Resource Guard (/subscriptions/<id>/resourceGroups/<rg>/providers/"
              "Microsoft.DataProtection/resourceGuards/<name>), or leave resource_guard_id out",
        'r6': "resource_guard_id is '   ': give the ARM id of a Resource Guard",
        'r8': 'max_concurrency must be at least 1; got 0',
        'r9': "resource_guard_id must be the ARM id of a Resource Guard (/subscriptions/<id>/resourceGroups/<rg>/providers/"
              "Microsoft.DataProtection/resourceGuards/<name>) or null, got '%s\\ufe0f': it holds '\\ufe0f' (U+FE0F VARIATION "
              "SELECTOR-16)" % GUARD,
        'r10': "got '%s?x=1': it holds '?' (U+003F QUESTION MARK), '=' (U+003D EQUALS SIGN)" % GUARD,
    }
    for key, words in expected.items():
        assert run[key]['failed'] is True and run[key]['changed'] is False, (key, run[key])
        assert words in run[key]['msg'] and 'nothing was sent to Azure' in run[key]['msg'], (key, run[key]['msg'])
        assert run.requests(key) == [], (key, run.requests(key))
    assert daily(run.after('r1').resource(POLICY)) == weak == {'count': 7, 'durationType': 'Days'}
    # Left out, policies means every policy: the weak one is raised (as stored after the part's last task).
    assert run['r7']['changed'] is True and daily(run.after('r10').resource(POLICY)) == {'count': 30, 'durationType': 'Days'}
    for key, words in (('r11', "minimum names the daily tier twice ('daily' and 'DAILY')"),
                       ('r12', "minimum.daily names the datastore VaultStore twice ('VaultStore' and 'vaultstore')")):
        assert run[key]['failed'] is True and run[key]['changed'] is False, (key, run[key])
        assert words in run[key]['msg'], (key, run[key]['msg'])
        assert run.requests(key) == [], (key, run.requests(key))
    for key in ('r13', 'r14'):
        assert run[key]['failed'] is True and run[key]['changed'] is False, (key, run[key])
        assert ("there is no Backup vault of this name in the resource group; check the name and vault_type (a Recovery Services "
                "vault of the same name is another resource)") in run[key]['msg'], (key, run[key]['msg'])
        assert run.writes(key) == [], (key, run.writes(key))
    assert 'Traceback' not in play_output(shared, 'filters')


def test_vault_records_given_for_drift_are_refused_never_a_fleet_without_drift(refusals):
    """drift_diff and the drift_summary / drift_report_json filters took vault records (a registered vault_immutability_info
    result's vaults, not passed through vault_drift) as a fleet without drift: "0 of 1 vaults drift", changed false."""
    run = PlaybookPart(refusals[0], 'records')
    assert len(run['r0']['vaults']) == 1
    for key in ('r1', 'r2', 'r3'):
        assert run[key]['failed'] is True, (key, run[key])
        assert 'is not a drift entry: it has no drift true or false' in run[key]['msg'] and 'vault_drift filter first' in run[key]['msg'], \
            (key, run[key]['msg'])
    assert run['r4']['changed'] is True and run['r4']['drifting'] == 1
    assert 'Traceback' not in play_output(refusals[0], 'records')


def test_vault_targets_reports_a_result_it_cannot_use_as_an_error(refusals):
    """The vault_targets filter left out a discovery result whose vaults or errors were not lists, and a vault without an
    id, without a word: a run over such results planned nothing and reported no error."""
    run = PlaybookPart(refusals[0], 'targets')
    plan = run['r2']['plan']
    assert [v['name'] for v in plan['vaults']] == ['rsv-open'] and len(plan['drift']) == 1
    message = "the discovery result is not one vault_immutability_info returns: vaults is 'rsv-gone', so its vaults were not read"
    assert plan['errors'] == [{'scope': 'resource group rg-hand', 'message': message}]
    assert plan['report_errors'] == plan['errors']
    assert 'Traceback' not in play_output(refusals[0], 'targets')


def test_connection_options_tenants_and_infinite_numbers_are_refused_before_any_request(refusals):
    """Seventh hostile pass: api_timeout 0, negative or past what the clock counts, a tenant azure-identity refuses and a
    YAML .inf for a number failed with a traceback ('Task failed: Invalid timeout (0, 0)', 'cannot convert Infinity to
    integer'); wait_timeout -1 and api_retries true were taken (a lock with wait_timeout -1 gives up on its first step and
    leaves the vault Unlocked). Each is refused with its name, before any request, in check mode and for real."""
    run = PlaybookPart(refusals[0], 'options')
    expected = {
        'r0': 'api_timeout must be a whole number of seconds from 1 to 3600; got 0',
        'r1': 'api_timeout must be a whole number of seconds from 1 to 3600; got -5',
        'r2': 'api_timeout must be a whole number of seconds from 1 to 3600; got 1000000000000000000000',
        'r3': 'wait_timeout must be a whole number of seconds from 1 to 86400; got -1',
        'r4': 'api_retries must be a whole number of retries from 0 to 100; got true, a boolean',
        'r5': 'polling_interval must be a number of seconds above 0, up to 3600; got 0',
        'r6': "the tenant '../../x' (tenant, AZURE_TENANT, AZURE_TENANT_ID or the credential file) is no tenant id (a GUID) or "
              "domain name: only letters, digits, '-' and '.'; no token was asked for",
        'r7': 'immutability_retention_days is not a finite number (YAML .inf, -.inf or .nan): no option takes one',
        'r8': 'api_timeout must be a whole number of seconds from 1 to 3600; got -3',
        'r9': 'max_concurrency is not a finite number (YAML .inf, -.inf or .nan)',
        'r10': 'max_concurrency is not a finite number (YAML .inf, -.inf or .nan)',
    }
    for key, words in expected.items():
        assert run[key]['failed'] is True and run[key]['changed'] is False, (key, run[key])
        assert words in run[key]['msg'], (key, run[key]['msg'])
        assert not run[key]['msg'].startswith('Task failed'), (key, run[key]['msg'])
        assert run.requests(key) == [], (key, run.requests(key))
    # rsv-a as stored after the part's last task (the options fleet's, loaded before the part).
    assert run.after('r10').resource(vault_id('rsv-a'))['properties']['securitySettings']['immutabilitySettings'] == {'state': 'Disabled'}
    assert 'Traceback' not in play_output(refusals[0], 'options')
