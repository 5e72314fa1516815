# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode predicts what apply does: a property over random fleets and baselines, with no fault injected.

For each generated fleet and baseline, the set of (vault, setting, before, after) that the check-mode drift report
predicts must equal the set that applying it makes, read back from the emulator's stored state. Apply runs the state
modules' own run() functions in this process, through the real SDKs, with the arguments the harden_backup_vaults role
gives them (tasks/apply.yml), so a few hundred vaults cost seconds instead of one ansible-playbook run each; one role run
at the end ties the role's wiring to the same property. Seeds are fixed, so a failure replays.
"""

from __future__ import annotations

import random

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._drift import compute_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import attach_policies, list_vaults
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.items import attach_items
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import TargetError, check_baseline, plan_run
from ansible_collections.vaultlock.azure.plugins.modules import backup_policy_retention, vault_immutability, vault_soft_delete
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_apply import PlanApplier
from tests.emulator import generator as templates
from tests.integration.fleets import SUB1, SUB2, vault as fleet_vault, vault_id
from tests.integration.role_steps import play_role_steps, step

GUARD = '/subscriptions/%s/resourceGroups/rg-security/providers/Microsoft.DataProtection/resourceGuards/guard' % SUB1
SEEDS = range(40)
ENHANCED = {'enabled': 'on', 'disabled': 'off', 'alwayson': 'always_on'}


def vault_key(vid):
    """ARM ids compare case-insensitively."""
    return str(vid).lower().rstrip('/')


def random_fleet(rng):
    subscriptions = []
    for sub in (SUB1, SUB2):
        groups = []
        for group in ('rg-a', 'rg-b'):
            vaults = []
            for index in range(rng.randint(1, 3)):
                kind = rng.choice(['recovery_services', 'backup'])
                pool = templates.RS_TEMPLATES if kind == 'recovery_services' else templates.DP_TEMPLATES
                spec = {'name': '%s-%s-%d' % ('rsv' if kind == 'recovery_services' else 'bv', group[-1], index), 'type': kind,
                        'immutability': rng.choice(['unset', 'disabled', 'enabled', 'locked']),
                        'soft_delete': {'state': rng.choice(['off', 'on', 'on', 'always_on']), 'retention_days': rng.choice([14, 20, 30, 60])},
                        'policies': [{'name': name, 'properties': make(rng.random() < 0.6)}
                                     for name, make in rng.sample(pool, rng.randint(0, 2))]}
                if rng.random() < 0.2:
                    spec['resource_guard_id'] = GUARD
                if kind == 'recovery_services' and spec['soft_delete']['state'] == 'on' and rng.random() < 0.3:
                    # Soft delete On with enhanced security (hybrid workloads) AlwaysON: a state the portal can leave behind.
                    spec['body'] = {'location': 'westeurope', 'properties': {'provisioningState': 'Succeeded', 'securitySettings': {
                        'softDeleteSettings': {'softDeleteState': 'Enabled', 'enhancedSecurityState': 'AlwaysON',
                                               'softDeleteRetentionPeriodInDays': spec['soft_delete']['retention_days']},
                        'immutabilitySettings': {'state': {'unset': 'Disabled', 'disabled': 'Disabled', 'enabled': 'Unlocked',
                                                           'locked': 'Locked'}[spec['immutability']]},
                        'multiUserAuthorization': 'Disabled'}}}
                vaults.append(spec)
            groups.append({'name': group, 'location': 'westeurope', 'vaults': vaults})
        subscriptions.append({'id': sub, 'display_name': sub[:4], 'resource_groups': groups})
    return {'subscriptions': subscriptions}


def random_baseline(rng):
    minimum = {}
    for tier, choices in (('daily', ['14d', '30d', '90d']), ('weekly', ['12w', '52w']), ('monthly', ['12m', '2m']),
                          ('yearly', ['5y', '10y']), ('instant', ['5d', '7d']), ('log', ['30d'])):
        if rng.random() < 0.45:
            minimum[tier] = rng.choice(choices)
    return {
        'immutability': rng.choice([None, 'disabled', 'enabled', 'enabled', 'locked']),
        'allow_irreversible': rng.random() < 0.5,
        'retention': {'minimum': minimum, 'mode': rng.choice(['report', 'enforce', 'enforce'])} if minimum else None,
        'soft_delete': rng.choice([None, {'state': rng.choice([None, 'off', 'on', 'always_on']), 'retention_days': rng.choice([None, 30])},
                                   {'state': 'on', 'retention_days': rng.choice([None, 14, 60])}]),
    }


def valid(baseline):
    soft = baseline['soft_delete']
    if soft and soft['state'] == 'off' and soft['retention_days'] is not None:
        soft['retention_days'] = None
    return baseline


def state_of(emulator, fleet):
    """{(vault key, setting, policy, tier, sub_policy, datastore): value} read back from the emulator (its stored
    documents of every vault and policy of the fleet, in one request)."""
    specs = []
    for sub in fleet['subscriptions']:
        for group in sub['resource_groups']:
            for spec in group['vaults']:
                specs.append((vault_id(spec['name'], spec['type'], sub=sub['id'], rg=group['name']), spec))
    ids = [vid for vid, _spec in specs]
    ids += [vid + '/backupPolicies/' + policy['name'] for vid, spec in specs for policy in spec.get('policies') or []]
    stored = emulator.resources(ids)
    out = {}
    for vid, spec in specs:
        raw = stored[vid]
        record = vault_record(raw, spec['type'])
        key = vault_key(vid)
        out[(key, 'immutability', None, None, None, None)] = record['immutability']
        out[(key, 'soft_delete', None, None, None, None)] = record['soft_delete']['state']
        out[(key, 'soft_delete_retention_days', None, None, None, None)] = record['soft_delete']['retention_days']
        if spec['type'] == 'recovery_services':
            enhanced = raw['properties']['securitySettings']['softDeleteSettings'].get('enhancedSecurityState')
            out[(key, 'enhanced_security', None, None, None, None)] = ENHANCED.get(str(enhanced).lower())
        for policy in spec.get('policies') or []:
            normalised = normalise_policy(stored[vid + '/backupPolicies/' + policy['name']], spec['type'])
            for tier in normalised['tiers']:
                out[(key, 'retention', policy['name'], tier['tier'], tier['sub_policy'], tier['datastore'])] = tier['duration']
    return out


def predicted_changes(report):
    """{key: (first before, last after)} of what the check-mode report says a run would change."""
    net = {}
    for vault in report['changed']:
        for change in vault['changes']:
            key = (vault_key(vault['id']), change['setting'], change.get('policy'), change.get('tier'), change.get('sub_policy'),
                   change.get('datastore'))
            before = net[key][0] if key in net else change['before']
            net[key] = (before, change['after'])
    return {key: value for key, value in net.items() if value[0] != value[1]}


class Failed(Exception):
    pass


class _Ansible:
    def fail_json(self, **kwargs):
        raise Failed(kwargs.get('msg'))

    def warn(self, message):
        pass


class Task:
    """What VaultlockModule gives a module's run(): params, session, modes."""

    def __init__(self, session, params):
        self.session = session
        self.params = params
        self.check_mode = False
        self.diff_mode = False
        self.module = _Ansible()

    def warn(self, message):
        pass


def apply_like_the_role(session, drift, baseline):
    """The state module calls of roles/harden_backup_vaults/tasks/apply.yml, in its order; returns the errors."""
    consent = baseline['allow_irreversible']
    common = {'name': None, 'resource_group': None, 'vault_type': None}
    errors = []
    calls = []
    for entry in drift:
        if entry['actions']['raise_policies']:
            calls.append((backup_policy_retention, dict(common, id=entry['id'], policies=entry['actions']['raise_policies'],
                                                        minimum=baseline['retention']['minimum'], mode='enforce', allow_irreversible=consent,
                                                        fail_on_violation=False, compare_to=None, policy=None)))
    for entry in drift:
        action = entry['actions']['soft_delete']
        if action:
            calls.append((vault_soft_delete, dict(common, id=entry['id'], soft_delete=action['state'],
                                                  retention_days=action['retention_days'], allow_irreversible=consent)))
    for entry in drift:
        if entry['actions']['immutability']:
            calls.append((vault_immutability, dict(common, id=entry['id'], immutability=entry['actions']['immutability'],
                                                   immutability_retention_days=None, allow_irreversible=consent)))
    for module, params in calls:
        try:
            module.run(Task(session, params))
        except (VaultlockError, Failed) as exc:
            errors.append('%s %s: %s' % (module.__name__.rsplit('.', 1)[-1], params['id'], exc))
    return errors


@pytest.fixture
def session(emulator, monkeypatch):
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    return AzureSession({'polling_interval': 0.05, 'api_retries': 0})


def test_check_mode_predicts_exactly_what_apply_changes(emulator, session):
    trials = changes_seen = vaults_seen = 0
    for seed in SEEDS:
        rng = random.Random(seed)
        fleet = random_fleet(rng)
        baseline = valid(random_baseline(rng))
        emulator.load_fleet(fleet)
        records, errors = list_vaults(session, [SUB1, SUB2], ['recovery_services', 'backup'])
        errors += attach_policies(session, records)
        assert errors == [], (seed, errors)
        drift = compute_drift(records, baseline)
        predicted = predicted_changes(build_report(drift, {'check_mode': True, 'predict': True, 'baseline': baseline}))
        emulator.clear_journal()
        before = state_of(emulator, fleet)
        failures = apply_like_the_role(session, drift, baseline)
        after = state_of(emulator, fleet)
        made = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
        assert failures == [], (seed, baseline, failures)
        assert predicted == made, (seed, baseline, sorted(set(predicted.items()) ^ set(made.items()), key=str))
        if not predicted:
            assert emulator.writes() == [], seed
        trials += 1
        changes_seen += len(made)
        vaults_seen += len(records)
    # The generator must exercise the property, not pass it vacuously (figures quoted in docs/reliability.md).
    print('check-predicts-apply: %d fleets, %d vaults, %d changes made and predicted' % (trials, vaults_seen, changes_seen))
    assert trials == len(SEEDS) and vaults_seen >= 150 and changes_seen >= 100, (vaults_seen, changes_seen)


# Lock requirements the random fleets can meet (they have no protected items): readiness still gates every planned lock.
APPLY_REQUIREMENTS = {'require_soft_delete': None, 'no_unfixable_findings': False, 'max_retention': '30y'}


def test_check_mode_predicts_exactly_what_harden_apply_changes(emulator, session):
    """The same property through the controller-side apply (plugin_utils/_harden_apply.py, what harden_apply runs): the
    plan (_targets.plan_run, with its lock gate), applied many vaults at once, with the lock re-judged on fresh ARM reads."""
    trials = changes_seen = 0
    for seed in SEEDS:
        rng = random.Random(seed)
        fleet = random_fleet(rng)
        baseline = valid(random_baseline(rng))
        try:
            check_baseline(dict(baseline, tiers=[]))
        except TargetError:
            continue  # an irreversible baseline without consent: the role refuses it before any request
        emulator.load_fleet(fleet)
        records, errors = list_vaults(session, [SUB1, SUB2], ['recovery_services', 'backup'])
        errors += attach_policies(session, records) + attach_items(session, records)
        assert errors == [], (seed, errors)
        reads = [{'vaults': records, 'errors': [], 'subscriptions': [SUB1, SUB2], 'discovery': None, 'item': ''}]
        run = plan_run(reads, [], dict(baseline, tiers=[]), APPLY_REQUIREMENTS)
        predicted = predicted_changes(build_report(run['drift'], {'check_mode': True, 'predict': True, 'baseline': run['baseline']}))
        emulator.clear_journal()
        before = state_of(emulator, fleet)
        applier = PlanApplier(session, dict(baseline, tiers=[]), APPLY_REQUIREMENTS, baseline['allow_irreversible'], max_concurrency=8)
        done = applier.apply(run['drift'])
        after = state_of(emulator, fleet)
        made = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
        failures = [r['msg'] for results in done['results'].values() for r in results if r['failed']]
        assert failures == [] and done['gates'] == {}, (seed, baseline, failures, done['gates'])
        assert predicted == made, (seed, baseline, sorted(set(predicted.items()) ^ set(made.items()), key=str))
        trials += 1
        changes_seen += len(made)
    print('check-predicts-harden_apply: %d fleets, %d changes made and predicted' % (trials, changes_seen))
    assert trials >= len(SEEDS) // 2 and changes_seen >= 100, (trials, changes_seen)


def test_the_role_check_report_matches_its_apply(runner, emulator):
    """One fleet through ansible-playbook: the check run's predicted changes are the apply run's changes (the check and
    the apply are steps of one run, role_steps.play_role_steps)."""
    rng = random.Random(1013)
    fleet = random_fleet(rng)
    emulator.load_fleet(fleet)
    emulator.clear_journal()
    variables = {'harden_backup_vaults_subscription_ids': ['all'], 'harden_backup_vaults_immutability': 'locked',
                 'harden_backup_vaults_allow_irreversible': True, 'harden_backup_vaults_retention_mode': 'enforce',
                 'harden_backup_vaults_retention_minimum': {'daily': '30d', 'weekly': '12w'},
                 'harden_backup_vaults_soft_delete': {'state': 'on', 'retention_days': 30}}
    before = state_of(emulator, fleet)
    _run, steps = play_role_steps(runner, [step('check', check=True, **variables), step('apply', **variables)])
    assert steps['check'].writes == []          # so the state the apply starts from is ``before``
    reports = {mode: steps[mode].report for mode in ('check', 'apply')}
    after = state_of(emulator, fleet)
    made = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert reports['apply']['errors'] == []
    assert predicted_changes(reports['check']) == made
    assert predicted_changes(reports['apply']) == made
    assert len(made) >= 5


def test_a_state_module_check_mode_vault_is_the_vault_its_real_run_reads_back(runner, emulator):
    """Each state module's check-mode ``vault`` (the predicted record) against the ``vault`` of the same task run for real
    right after it, through ansible-playbook. The prediction set the option's own field but kept the vault's policy_fields
    (what the Azure Policy evaluation of drift reports judges) as read before, and vault_soft_delete kept enhanced_security
    where its own changes said it goes off: 'Unlocked' after a predicted lock, 'On' after a predicted soft delete off.
    A Resource Guard association kept multiUserAuthorization Disabled and predicted no protected operation (the real run
    reads them from the proxy it wrote)."""
    emulator.load_fleet({'subscriptions': [{'id': SUB1, 'display_name': 'predict', 'resource_groups': [
        {'name': 'rg-predict', 'location': 'westeurope', 'vaults': [
            fleet_vault('rsv-lock', 'recovery_services', 'enabled'), fleet_vault('rsv-soft', 'recovery_services', 'enabled'),
            fleet_vault('bv-soft', 'backup', 'enabled'), fleet_vault('bv-csr', 'backup', 'enabled'),
            fleet_vault('rsv-pna', 'recovery_services', 'enabled'), fleet_vault('rsv-guard', 'recovery_services', 'enabled'),
            fleet_vault('bv-guard', 'backup', 'enabled')]}]}]})

    def ref(name, kind):
        return {'name': name, 'resource_group': 'rg-predict', 'vault_type': kind}
    cases = [
        ('vaultlock.azure.vault_immutability', dict(ref('rsv-lock', 'recovery_services'), immutability='locked', allow_irreversible=True)),
        ('vaultlock.azure.vault_soft_delete', dict(ref('rsv-soft', 'recovery_services'), soft_delete='off')),
        ('vaultlock.azure.vault_soft_delete', dict(ref('bv-soft', 'backup'), soft_delete='off')),
        ('vaultlock.azure.vault_security_settings', dict(ref('bv-csr', 'backup'), cross_subscription_restore='disabled')),
        ('vaultlock.azure.vault_security_settings', dict(ref('rsv-pna', 'recovery_services'), public_network_access='disabled',
                                                         alerts={'job_failure_alerts': 'enabled'})),
        ('vaultlock.azure.vault_security_settings', dict(ref('rsv-guard', 'recovery_services'), resource_guard_id=GUARD)),
        ('vaultlock.azure.vault_security_settings', dict(ref('bv-guard', 'backup'), resource_guard_id=GUARD)),
    ]
    tasks = []
    for module, args in cases:
        tasks += [{module: args, 'check_mode': True}, {module: args}]
    run = runner.play(tasks)
    assert run.rc == 0, run.output
    for index in range(0, len(tasks), 2):
        check, real = run['r%d' % index], run['r%d' % (index + 1)]
        assert check['changed'] is True and real['changed'] is True, (index, check, real)
        assert check['changes'] == real['changes'], index
        if cases[index // 2][1].get('resource_guard_id'):
            # The operations a guard protects are the proxy's, which exists only once the association is written and which
            # a real run reads back: check mode says it cannot know them (null, named in `unpredicted`), never [].
            assert check['unpredicted'] == ['vault.mua.protected_operations'], check
            assert check['vault']['mua'] == {'protected': True, 'resource_guard_id': GUARD, 'protected_operations': None}, check
            assert real['vault']['mua']['protected_operations'], real
            check['vault']['mua']['protected_operations'] = real['vault']['mua']['protected_operations']
        else:
            assert 'unpredicted' not in check, check
        assert 'unpredicted' not in real, real
        assert check['vault'] == real['vault'], (index, {key: (check['vault'].get(key), real['vault'].get(key))
                                                         for key in set(check['vault']) | set(real['vault'])
                                                         if check['vault'].get(key) != real['vault'].get(key)})
