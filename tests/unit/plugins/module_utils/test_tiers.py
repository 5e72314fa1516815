# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Baselines per tier: which tier a vault gets (order, no match, overlaps, each criterion, case rules), inheritance from
the default tier, the errors of a tier before any request, consent, and each vault's drift against its own tier."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils import _retention
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import TargetError, check_baseline, plan_run, weakened_baseline
from ansible_collections.vaultlock.azure.plugins.module_utils._tiers import (
    TIER_KEYS,
    TierError,
    drift_entries,
    match_tier,
    reads_policies,
    resolve_tiers,
    vault_reads,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
from tests.unit.builders import SUB, SUB2, iaas

RS = '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s'
BV = '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/%s'

# The role's baseline: the top-level variables (the default tier), the tiers and the role's retention mode.
TOP = {'immutability': 'enabled', 'allow_irreversible': False, 'retention': None,
       'soft_delete': {'state': 'on', 'retention_days': 14}}


def record(name, immutability='Disabled', tags=None, rg='rg-app', sub=SUB, kind='recovery_services', policies=None):
    template = RS if kind == 'recovery_services' else BV
    doc = {'id': template % (sub, rg, name), 'name': name, 'resource_group': rg, 'subscription_id': sub, 'vault_type': kind,
           'immutability': immutability, 'soft_delete': {'state': 'on', 'retention_days': 14}, 'tags': tags or {},
           'mua': {'protected': False, 'resource_guard_id': None},
           # As discovery reads them when a tier locks (lock readiness counts the items and the policies they use).
           'protected_items': []}
    if policies is not None:
        doc['policies'] = policies
    return doc


def baseline(tiers, **top):
    return dict(copy.deepcopy(TOP), tiers=tiers, retention_mode='report', **top)


def tiers_of(tiers, **top):
    return check_baseline(baseline(tiers, **top))['tiers']


def tier_name(vault, tiers, **top):
    tier = match_tier(vault, tiers_of(tiers, **top))
    return tier['name'] if tier else 'default'


PROD = {'name': 'prod', 'match': {'tags': {'env': 'prod'}}, 'immutability': 'enabled'}
DEV = {'name': 'dev', 'match': {'names': ['*-dev-*']}, 'immutability': 'disabled'}


# --------------------------------------------------------------------------- which tier

def test_first_match_wins_and_order_decides_overlaps():
    both = record('rsv-dev-01', tags={'env': 'prod'})          # prod by tag and dev by name
    assert tier_name(both, [PROD, DEV]) == 'prod'
    assert tier_name(both, [DEV, PROD]) == 'dev'
    assert tier_name(record('rsv-dev-02'), [PROD, DEV]) == 'dev'
    assert tier_name(record('rsv-app-01', tags={'env': 'prod'}), [DEV, PROD]) == 'prod'


def test_no_match_is_the_default_tier():
    assert tier_name(record('rsv-app-01', tags={'env': 'test'}), [PROD, DEV]) == 'default'
    assert tier_name(record('rsv-app-01'), []) == 'default'
    assert match_tier(record('rsv-app-01'), []) is None


@pytest.mark.parametrize('tags, vault_tags, expected', [
    ({'env': 'prod'}, {'env': 'prod'}, True),
    ({'env': 'prod'}, {'ENV': 'prod'}, True),                     # tag names: case-insensitive
    ({'Env': 'prod'}, {'eNv': 'prod'}, True),
    ({'env': 'prod'}, {'env': 'Prod'}, False),                    # tag values: case-sensitive
    ({'env': 'prod'}, {'env': 'prod '}, False),
    ({'env': 'prod'}, {}, False),
    ({'env': None}, {'ENV': 'anything'}, True),                   # null: the tag only needs to exist
    ({'env': None}, {'owner': 'x'}, False),
    ({'env': ['prod', 'production']}, {'env': 'production'}, True),   # a list: any of its values
    ({'env': ['prod', 'production']}, {'env': 'staging'}, False),
    ({'env': 'prod', 'tier': 'gold'}, {'env': 'prod'}, False),    # every tag listed
    ({'env': 'prod', 'tier': 'gold'}, {'env': 'prod', 'Tier': 'gold', 'x': 'y'}, True),
    ({'env': ''}, {'env': ''}, True),
])
def test_tags_criterion(tags, vault_tags, expected):
    tier = {'name': 't', 'match': {'tags': tags}}
    assert (tier_name(record('rsv-a', tags=vault_tags), [tier]) == 't') is expected


@pytest.mark.parametrize('names, vault, expected', [
    (['*-dev-*'], 'rsv-dev-01', True),
    (['*-dev-*'], 'RSV-DEV-01', True),                            # vault names: case-insensitive
    (['*-DEV-*'], 'rsv-dev-01', True),
    (['*-dev-*'], 'rsv-devx01', False),
    ('rsv-??', 'rsv-01', True),                                   # one string counts as a list of one
    ('rsv-??', 'rsv-001', False),
    (['bv-*', 'rsv-prod-*'], 'rsv-prod-9', True),
])
def test_names_criterion(names, vault, expected):
    assert (tier_name(record(vault), [{'name': 't', 'match': {'names': names}}]) == 't') is expected


def test_subscriptions_and_resource_groups_criteria():
    by_sub = {'name': 's', 'match': {'subscriptions': [SUB2.upper()]}}
    assert tier_name(record('rsv-a', sub=SUB2), [by_sub]) == 's'
    assert tier_name(record('rsv-a', sub=SUB), [by_sub]) == 'default'
    by_rg = {'name': 'g', 'match': {'resource_groups': ['RG-Prod', 'rg-shared']}}
    assert tier_name(record('rsv-a', rg='rg-prod'), [by_rg]) == 'g'   # ARM compares resource group names case-insensitively
    assert tier_name(record('rsv-a', rg='RG-SHARED'), [by_rg]) == 'g'
    assert tier_name(record('rsv-a', rg='rg-prod-2'), [by_rg]) == 'default'


def test_a_record_without_subscription_or_group_is_placed_by_its_id():
    vault = record('rsv-a', rg='rg-prod', sub=SUB2)
    del vault['subscription_id'], vault['resource_group']
    assert tier_name(vault, [{'name': 'x', 'match': {'subscriptions': [SUB2], 'resource_groups': ['rg-prod']}}]) == 'x'


def test_every_criterion_must_hold():
    tier = {'name': 'prod-west', 'match': {'tags': {'env': 'prod'}, 'names': ['rsv-*'], 'subscriptions': [SUB],
                                           'resource_groups': ['rg-app']}}
    assert tier_name(record('rsv-a', tags={'env': 'prod'}), [tier]) == 'prod-west'
    assert tier_name(record('bv-a', tags={'env': 'prod'}, kind='backup'), [tier]) == 'default'
    assert tier_name(record('rsv-a', tags={'env': 'prod'}, sub=SUB2), [tier]) == 'default'
    assert tier_name(record('rsv-a', tags={'env': 'prod'}, rg='rg-other'), [tier]) == 'default'
    assert tier_name(record('rsv-a', tags={'env': 'dev'}), [tier]) == 'default'


# --------------------------------------------------------------------------- inheritance

def test_left_out_keys_are_inherited_and_given_keys_replace_the_default_as_a_whole():
    top = {'retention': {'minimum': {'daily': '30d', 'weekly': '12w'}, 'mode': 'enforce'}}
    prod, dev, bare = tiers_of([
        {'name': 'prod', 'match': {'tags': {'env': 'prod'}}, 'immutability': 'Locked', 'soft_delete': {'state': 'always_on'}},
        {'name': 'dev', 'match': {'names': ['*-dev-*']}, 'retention_minimum': {'daily': '7d'}, 'retention_mode': 'report'},
        {'name': 'bare', 'match': {'names': 'x-*'}},
    ], allow_irreversible=True, **top)
    assert prod['immutability'] == 'locked'
    # soft_delete given: it replaces the default's as a whole (no 14 days inherited).
    assert prod['soft_delete'] == {'state': 'always_on', 'retention_days': None}
    assert prod['retention_minimum'] == {'daily': '30d', 'weekly': '12w'} and prod['retention_mode'] == 'enforce'
    assert dev['immutability'] == 'enabled' and dev['soft_delete'] == {'state': 'on', 'retention_days': 14}
    assert dev['retention_minimum'] == {'daily': '7d'} and dev['retention_mode'] == 'report'
    assert bare == dict(bare, immutability='enabled', soft_delete={'state': 'on', 'retention_days': 14},
                        retention_minimum={'daily': '30d', 'weekly': '12w'}, retention_mode='enforce', lock_requirements=None)


def test_a_tier_turns_a_check_off_as_the_top_level_does():
    off, = tiers_of([{'name': 'sandbox', 'match': {'names': ['sbx-*']}, 'immutability': None, 'soft_delete': {},
                      'retention_minimum': {}}], retention={'minimum': {'daily': '30d'}, 'mode': 'report'})
    assert (off['immutability'], off['soft_delete'], off['retention_minimum']) == (None, None, {})
    normalised = check_baseline(baseline([dict(off, match={'names': ['sbx-*']})], retention={'minimum': {'daily': '30d'}, 'mode': 'report'}))
    entry, = drift_entries([record('sbx-1', 'Disabled', policies=[])], normalised, normalised['tiers'])
    assert entry['findings'] == [] and entry['tier'] == 'sandbox'


def test_retention_mode_of_tiers_when_the_top_level_checks_no_retention():
    tier = {'name': 'gold', 'match': {'names': ['g-*']}, 'retention_minimum': {'daily': '30d'}}
    assert tiers_of([tier])[0]['retention_mode'] == 'report'
    assert check_baseline(dict(baseline([tier]), retention_mode='enforce'))['tiers'][0]['retention_mode'] == 'enforce'
    assert resolve_tiers([tier], check_baseline(TOP))[0]['retention_mode'] == 'report'


def test_a_checked_baseline_checks_to_itself():
    raw = baseline([dict(PROD, soft_delete={'state': 'on', 'retention_days': 30}, lock_requirements={'require_mua': True}),
                    dict(DEV, match={'names': 'x-*', 'tags': {'Team': ['a', 'b'], 'cost': None},
                                     'subscriptions': SUB.upper(), 'resource_groups': ' rg-a '},
                         retention_minimum={'daily': '7d'})])
    once = check_baseline(raw)
    assert check_baseline(once) == once
    assert once['tiers'][1]['match'] == {'tags': {'Team': ['a', 'b'], 'cost': None}, 'names': ['x-*'],
                                         'subscriptions': [SUB.lower()], 'resource_groups': ['rg-a']}
    assert once['tiers'][0]['lock_requirements'] == {'require_mua': True}
    # Without tiers the baseline stays what it was (no tiers key).
    assert 'tiers' not in check_baseline(TOP)


def test_policies_are_read_when_any_tier_checks_retention():
    assert reads_policies(check_baseline(TOP), []) is False
    plain = check_baseline(baseline([PROD]))
    assert reads_policies(plain, plain['tiers']) is False
    tiered = check_baseline(baseline([PROD, dict(DEV, retention_minimum={'daily': '7d'})]))
    assert reads_policies(tiered, tiered['tiers']) is True
    assert plan_run([], None, baseline([dict(DEV, retention_minimum={'daily': '7d'})]))['include_policies'] is True
    assert plan_run([], None, baseline([PROD]))['include_policies'] is False
    assert plan_run([], None, dict(baseline([]), retention={'minimum': {'daily': '1d'}, 'mode': 'report'}))['include_policies'] is True


# --------------------------------------------------------------------------- errors before any request

@pytest.mark.parametrize('tiers, message', [
    ({'name': 'prod'}, 'harden_backup_vaults_baselines must be a list'),
    (['prod'], r'harden_backup_vaults_baselines\[0\] must be a dict'),
    ([{'match': {'names': ['a']}}], r'\[0\]: name is missing'),
    ([{'name': 'prod env', 'match': {'names': ['a']}}], "name 'prod env' must be"),
    ([{'name': 'Default', 'match': {'names': ['a']}}], 'taken by the top-level baseline'),
    ([PROD, dict(DEV, name='PROD')], r"\[1\] \(PROD\): the name 'PROD' is already the name of harden_backup_vaults_baselines\[0\]"),
    ([dict(PROD, colour='red')], r'\[0\] \(prod\) has unknown key\(s\) colour'),
    ([dict(PROD, allow_irreversible=True)], 'allow_irreversible is not a tier key: consent'),
    ([dict(PROD, match=None)], r'\(prod\)\.match must be a dict'),
    ([dict(PROD, match={})], r'\(prod\)\.match is empty'),
    ([dict(PROD, match={'tags': None})], r'\.match is empty'),
    ([dict(PROD, match={'label': 'x'})], r'match has unknown key\(s\) label'),
    ([dict(PROD, match={'names': []})], r'match\.names is an empty list, which matches no vault'),
    ([dict(PROD, match={'names': ['rsv/prod']})], "'rsv/prod' is not a vault name pattern"),
    ([dict(PROD, match={'names': ['rsv-\n']})], 'control character'),
    ([dict(PROD, match={'names': [7]})], '7 is not a string'),
    ([dict(PROD, match={'subscriptions': ['sub-one']})], "'sub-one' is not a subscription GUID"),
    ([dict(PROD, match={'resource_groups': ['rg/prod']})], "'rg/prod' is not a resource group name"),
    ([dict(PROD, match={'tags': {}})], r'match\.tags is empty'),
    ([dict(PROD, match={'tags': 'env=prod'})], r'match\.tags must be a dict'),
    ([dict(PROD, match={'tags': {'env': 1}})], '1 is not a string: tag values are strings, quote it'),
    ([dict(PROD, match={'tags': {'env': []}})], r'tags\.env is an empty list'),
    ([dict(PROD, match={'tags': {'Env': 'a', 'ENV': 'b'}})], "'Env' and 'ENV' are the same tag"),
    ([dict(PROD, immutability='sealed')], r'\[0\] \(prod\): immutability'),
    ([dict(PROD, soft_delete={'state': 'on', 'retention_days': 5})], r'\(prod\): soft_delete\.retention_days must be a whole number'),
    ([dict(PROD, soft_delete={'state': 'on', 'colour': 1})], r'\(prod\): soft_delete has unknown key'),
    ([dict(PROD, soft_delete='on')], r'\(prod\): soft_delete must be a dict'),
    ([dict(PROD, retention_minimum={'daily': 'thirty days'})], r'\(prod\): retention_minimum'),
    ([dict(PROD, retention_minimum=['30d'])], r'\(prod\): retention_minimum must be a dict'),
    ([dict(PROD, retention_mode='raise')], r'\(prod\): retention_mode must be report or enforce'),
    ([dict(PROD, lock_requirements=['require_mua'])], r'\(prod\): lock_requirements must be a dict'),
])
def test_bad_tiers_fail_before_any_request(tiers, message):
    with pytest.raises(TierError, match=message):
        check_baseline(baseline(tiers))
    # The role's filter checks the baseline once, before discovery: the same error.
    with pytest.raises(TierError):
        plan_run([], None, baseline(tiers))


def test_a_tier_that_is_not_a_dict_is_told_every_tier_key():
    # The keys come from the rules: the message once named six of them, none of the security settings'.
    with pytest.raises(TierError) as caught:
        check_baseline(baseline(['prod']))
    named = str(caught.value).split('{', 1)[1].split('}', 1)[0].split(', ')
    assert named == list(TIER_KEYS)
    assert {'public_network_access', 'cross_subscription_restore', 'retention_mode'} <= set(named)


def test_consent_stays_the_runs_one_variable():
    for tier, what in ((dict(PROD, immutability='locked'), 'immutability locked is irreversible'),
                       (dict(PROD, soft_delete={'state': 'always_on'}), 'soft_delete.state always_on is irreversible')):
        with pytest.raises(TargetError, match=r'harden_backup_vaults_baselines\[1\] \(prod\): %s.*'
                                              r'set harden_backup_vaults_allow_irreversible: true' % what):
            check_baseline(baseline([DEV, tier]))
        assert check_baseline(baseline([DEV, tier], allow_irreversible=True))['tiers'][1]['name'] == 'prod'


# --------------------------------------------------------------------------- each vault against its own tier

def test_each_vault_is_judged_against_its_own_tier():
    vaults = [record('rsv-prod-01', 'Unlocked', tags={'env': 'prod'}), record('bv-prod-01', 'Disabled', tags={'Env': 'prod'}, kind='backup'),
              record('rsv-dev-01', 'Unlocked'), record('bv-dev-01', 'Disabled', kind='backup'), record('rsv-other', 'Disabled')]
    lock = dict(PROD, immutability='locked', lock_requirements={'require_soft_delete': 'always_on'})
    dev = dict(DEV, immutability='enabled', retention_minimum={'daily': '7d'})
    normalised = check_baseline(baseline([lock, dev], allow_irreversible=True, immutability=None))
    entries = dict((e['name'], e) for e in drift_entries(vaults, normalised, normalised['tiers']))
    assert {name: e['tier'] for name, e in entries.items()} == {
        'rsv-prod-01': 'prod', 'bv-prod-01': 'prod', 'rsv-dev-01': 'dev', 'bv-dev-01': 'dev', 'rsv-other': 'default'}
    assert [(c['before'], c['after'], c['irreversible']) for c in entries['rsv-prod-01']['changes']] == [('enabled', 'locked', True)]
    assert [c['after'] for c in entries['bv-prod-01']['changes']] == ['enabled', 'locked']
    assert entries['rsv-dev-01']['changes'] == [] and entries['rsv-dev-01']['actions']['immutability'] is None
    assert [c['after'] for c in entries['bv-dev-01']['changes']] == ['enabled']
    assert entries['rsv-other']['findings'] == []            # the default tier checks no immutability here
    assert entries['rsv-prod-01']['lock_requirements'] == {'require_soft_delete': 'always_on'}
    assert entries['rsv-dev-01']['lock_requirements'] is None and entries['rsv-other']['lock_requirements'] is None
    assert entries['rsv-dev-01']['retention_minimum'] == {'daily': '7d'} and entries['rsv-prod-01']['retention_minimum'] == {}
    # Retention is checked for the dev tier only: its vaults' policies were not read, so that is a finding.
    assert [f['setting'] for f in entries['bv-dev-01']['findings']] == ['immutability', 'retention']
    assert 'retention' not in [f['setting'] for f in entries['bv-prod-01']['findings']]


def test_exclusions_apply_before_tiers_and_an_unmatched_exclusion_still_blocks():
    reads = [{'vaults': [record('rsv-prod-01', 'Unlocked', tags={'env': 'prod'}, policies=[]),
                         record('rsv-prod-02', 'Unlocked', tags={'env': 'prod'}, policies=[])], 'errors': []}]
    lock = baseline([dict(PROD, immutability='locked')], allow_irreversible=True)
    plan = plan_run(reads, ['rsv-prod-02'], lock)
    assert [(e['name'], e['tier']) for e in plan['drift']] == [('rsv-prod-01', 'prod')]
    assert plan['excluded'] == [RS % (SUB, 'rg-app', 'rsv-prod-02')] and plan['blocked'] == ''
    blocked = plan_run(reads, ['rsv-typo-*'], lock)
    assert 'would make 2 irreversible change(s): nothing was changed' in blocked['blocked']
    # A tier that only enables makes no irreversible change: the unmatched exclusion is then a warning only.
    assert plan_run(reads, ['rsv-typo-*'], baseline([PROD]))['blocked'] == ''


def test_retention_is_raised_to_the_vaults_own_tier_minimum():
    weak = normalise_policy(iaas('DailyPolicy', daily=(7, 'Days')), 'recovery_services')
    policy_vaults = [record('rsv-prod-01', 'Unlocked', tags={'env': 'prod'}, policies=[weak]), record('rsv-other', 'Unlocked', policies=[weak])]
    raw = baseline([dict(PROD, retention_minimum={'daily': '30d'})], retention={'minimum': {'daily': '7d'}, 'mode': 'enforce'})
    entries = dict((e['name'], e) for e in plan_run([{'vaults': policy_vaults, 'errors': []}], None, raw)['drift'])
    assert entries['rsv-prod-01']['retention_minimum'] == {'daily': '30d'}
    assert entries['rsv-other']['retention_minimum'] == {'daily': '7d'}
    assert entries['rsv-other']['findings'] == []
    assert entries['rsv-prod-01']['actions']['raise_policies'] == ['DailyPolicy']


# --------------------------------------------------------------------------- in process: the filter and the diff

def test_the_vault_targets_filter_judges_by_tier_and_refuses_a_bad_tier():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.vaultlock.azure.plugins.filter.targets import vault_targets
    from ansible_collections.vaultlock.azure.plugins.module_utils._drift import drift_diffs

    reads = {'results': [{'vaults': [record('rsv-prod-01', 'Unlocked', tags={'Env': 'prod'}, policies=[]), record('rsv-dev-01')], 'errors': []},
                         {'skipped': True}]}
    run = vault_targets(reads, [], baseline=baseline([dict(PROD, immutability='locked'), DEV], allow_irreversible=True))
    assert [(e['name'], e['tier'], e['actions']['immutability']) for e in run['drift']] == [
        ('rsv-dev-01', 'dev', None), ('rsv-prod-01', 'prod', 'locked')]
    assert run['include_policies'] is False
    header = drift_diffs(run['drift'])[0]['after_header']
    assert header == 'rsv-prod-01 (recovery_services, %s/rg-app, baseline tier prod) - IRREVERSIBLE: immutability' % SUB
    with pytest.raises(AnsibleFilterError, match=r'vaultlock.azure.vault_targets: harden_backup_vaults_baselines\[0\] \(prod\): '
                                                 r'immutability locked is irreversible'):
        vault_targets(reads, [], baseline=baseline([dict(PROD, immutability='locked')]))
    with pytest.raises(AnsibleFilterError, match=r'match\.names is an empty list'):
        vault_targets([], [], baseline=baseline([dict(PROD, match={'names': []})]))


GUARD = '/subscriptions/%s/resourceGroups/rg-sec/providers/Microsoft.DataProtection/resourceGuards/guard-1' % SUB


def test_the_resource_guard_proxy_is_read_only_for_protected_vaults_whose_tier_names_a_guard():
    """A live vault GET says that a guard protects the vault, not which (tests/fixtures/azure-real/ps-rs-mua): harden_plan
    reads the proxy of a vault (one GET) only where its tier's baseline names a guard and the vault reports one it does
    not name; a baseline without resource_guard_id reads none, whatever the fleet."""
    guarded = dict(record('rsv-prod-1', tags={'env': 'prod'}), mua={'protected': True, 'resource_guard_id': None})
    named = dict(record('rsv-prod-2', tags={'env': 'prod'}), mua={'protected': True, 'resource_guard_id': GUARD})
    open_vault = record('rsv-prod-3', tags={'env': 'prod'})
    dev = dict(record('rsv-dev-1'), mua={'protected': True, 'resource_guard_id': None})
    vaults = [guarded, named, open_vault, dev]
    prod = dict(PROD, resource_guard_id=GUARD)
    assert [v['name'] for v in vault_reads(vaults, check_baseline(baseline([prod, DEV])), 'resource_guard')] == ['rsv-prod-1']
    # A tier that leaves resource_guard_id out takes the top level's, as it is judged by it.
    assert [v['name'] for v in vault_reads(vaults, check_baseline(baseline([prod, DEV], resource_guard_id=GUARD)),
                                           'resource_guard')] == ['rsv-prod-1', 'rsv-dev-1']
    assert [v['name'] for v in vault_reads(vaults, check_baseline(baseline([], resource_guard_id=GUARD)),
                                           'resource_guard')] == ['rsv-prod-1', 'rsv-dev-1']
    assert vault_reads(vaults * 5000, check_baseline(baseline([PROD, DEV])), 'resource_guard') == []


def test_a_minimum_only_per_datastore_that_checks_no_tier_of_some_policies_is_a_warning_of_the_run():
    """harden_backup_vaults_retention_minimum {daily: {VaultStore: 30d}} (or a tier's retention_minimum so written) checks
    no tier of a Recovery Services VM or workload policy (their tiers have no datastore): the run says so, naming the
    minimum, counting policies and vaults and naming the first twenty; the plan is otherwise the same (no finding, no change)."""
    def vm_vault(name, count=1, **kw):
        vault = record(name, 'Unlocked', **kw)
        vault['policies'] = [normalise_policy(iaas(name='vm-%02d' % index, vault=vault['id'], daily=(7, 'Days')), 'recovery_services')
                             for index in range(count)]
        return vault

    per_store = {'retention': {'minimum': {'daily': {'VaultStore': '30d'}}, 'mode': 'report'}}
    vaults = [vm_vault('rsv-a', 15), vm_vault('rsv-b', 8), vm_vault('rsv-c', 0)]
    run = plan_run([{'vaults': vaults, 'errors': []}], None, dict(TOP, **per_store))
    expected = ("harden_backup_vaults_retention_minimum.daily is given only per datastore (VaultStore), so it checks no daily tier "
                "of 23 policies in 2 vaults ('rsv-a/vm-00', ")
    assert len(run['warnings']) == 1 and run['warnings'][0].startswith(expected)
    assert "'rsv-b/vm-04' and 3 more): the retention tiers of Recovery Services VM, SQL and SAP HANA policies have no" in run['warnings'][0]
    assert 'a plain duration (daily: 30d) applies to every datastore and to tiers without one' in run['warnings'][0]
    assert run['report_warnings'] == run['warnings']
    assert [f for entry in run['drift'] for f in entry['findings'] if f['setting'] == 'retention'] == []
    # A plain duration checks them: findings, and no such warning.
    plain = plan_run([{'vaults': vaults, 'errors': []}], None, dict(TOP, retention={'minimum': {'daily': '30d'}, 'mode': 'report'}))
    assert plain['warnings'] == [] and len([f for entry in plain['drift'] for f in entry['findings'] if f['setting'] == 'retention']) == 23
    # A tier's minimum is named by the tier; vaults of a tier that writes it plainly are not counted.
    tiers = [{'name': 'gold', 'match': {'names': ['rsv-a']}, 'retention_minimum': {'daily': {'VaultStore': '30d'}}},
             {'name': 'silver', 'match': {'names': ['rsv-b']}, 'retention_minimum': {'daily': '30d'}}]
    run = plan_run([{'vaults': vaults, 'errors': []}], None, baseline(tiers))
    assert len(run['warnings']) == 1
    assert run['warnings'][0].startswith("the retention_minimum of tier 'gold' (harden_backup_vaults_baselines).daily is given only per "
                                         "datastore (VaultStore), so it checks no daily tier of 15 policies in 1 vault ('rsv-a/vm-00'")
    # A plain key beside the per-datastore one (weekly: 4w) does not hide the daily tiers it leaves unchecked: warned all the
    # same (before, only a minimum whose every value was per datastore was).
    mixed = {'retention': {'minimum': {'daily': {'VaultStore': '30d'}, 'weekly': '4w'}, 'mode': 'report'}}
    run = plan_run([{'vaults': vaults, 'errors': []}], None, dict(TOP, **mixed))
    assert [w[:120] for w in run['warnings']] == [expected[:120]]
    assert run['report_warnings'] == run['warnings']


def test_a_retention_minimum_is_parsed_once_however_many_rules_tiers_and_policies_read_it(monkeypatch):
    """A minimum is checked and parsed where the baseline is checked (_retention.checked_minimum); what reads it after
    (Rule.weakens, the raises planned for each policy, the datastore-only warnings, a second check of the checked baseline)
    takes the parsed form it carries. Before, each of them parsed the minimum again (the raises once a policy)."""
    parsed = []
    real = _retention._checked

    def counted(label, tier, value, datastore=None):
        parsed.append(label)
        return real(label, tier, value, datastore)
    monkeypatch.setattr(_retention, '_checked', counted)

    def vm_vault(name, count):
        vault = record(name, 'Unlocked')
        vault['policies'] = [normalise_policy(iaas(name='vm-%02d' % index, vault=vault['id'], daily=(7, 'Days')), 'recovery_services')
                             for index in range(count)]
        return vault

    tiers = [{'name': 'gold', 'match': {'names': ['rsv-a']}, 'retention_minimum': {'daily': {'VaultStore': '30d'}, 'weekly': '4w'}}]
    given = baseline(tiers, retention={'minimum': {'daily': '10d'}, 'mode': 'report'})
    run = plan_run([{'vaults': [vm_vault('rsv-a', 3), vm_vault('rsv-b', 4)], 'errors': []}], None, given)
    weakened = weakened_baseline(run['baseline'], given['tiers'])
    again = check_baseline(run['baseline'])
    # The top level's daily, the tier's daily.VaultStore and weekly: each once.
    assert sorted(parsed) == ['daily', 'daily.VaultStore', 'weekly']
    # What read them saw them: the 4 weak daily tiers of rsv-b and the 3 weekly tiers rsv-a's policies lack (gold), the gold
    # tier's warning, both minimums weaker than the default.
    findings = [(entry['name'], f['tier']) for entry in run['drift'] for f in entry['findings'] if f['setting'] == 'retention']
    assert sorted(findings) == [('rsv-a', 'weekly')] * 3 + [('rsv-b', 'daily')] * 4
    assert len(run['warnings']) == 1 and "the retention_minimum of tier 'gold'" in run['warnings'][0]
    assert [(entry['variable'], entry['tier']) for entry in weakened] == [
        ('harden_backup_vaults_retention_minimum', None), ('harden_backup_vaults_baselines[0]', 'gold')]
    assert again == run['baseline']
