# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One canonical vault key for targets, discovery results and exclusions; scope ids; entries not understood."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._rules import RULES
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import (
    LISTED_UNMATCHED,
    TLS_WARNING,
    TargetError,
    check_baseline,
    excluded_warning,
    parse_exclusion,
    plan_run,
    role_option_names,
    role_variable_names,
    select_vaults,
    vault_key,
)
from tests.unit.builders import SECURITY_NULL, SUB, SUB2

RS = '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s'
BV = '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/%s'
KEY = '/subscriptions/%s/resourcegroups/rg-prod/providers/microsoft.recoveryservices/vaults/rsv-prod-01' % SUB


def record(name, rg='rg-prod', sub=SUB, kind='recovery_services'):
    template = RS if kind == 'recovery_services' else BV
    return {'id': template % (sub, rg, name), 'name': name, 'resource_group': rg, 'subscription_id': sub, 'vault_type': kind}


def reads(*records, errors=()):
    return [{'vaults': list(records), 'errors': list(errors), 'changed': False}]


@pytest.mark.parametrize('form', [
    RS % (SUB, 'rg-prod', 'rsv-prod-01'),
    RS % (SUB, 'rg-prod', 'rsv-prod-01') + '/',
    '  ' + RS % (SUB, 'rg-prod', 'rsv-prod-01') + ' \t',
    (RS % (SUB, 'rg-prod', 'rsv-prod-01')).upper(),
    '/subscriptions/%s/resourcegroups/RG-PROD/providers/microsoft.recoveryservices/Vaults/RSV-prod-01/' % SUB.upper(),
])
def test_equivalent_forms_have_one_key(form):
    assert vault_key(form) == KEY
    assert vault_key({'id': form}) == KEY


@pytest.mark.parametrize('form', [
    RS % (SUB, 'rg-prod', 'rsv-prod-01') + '\n',
    RS % (SUB, 'rg\n', 'rsv'),
    '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1' % SUB,
    RS % ('not-a-guid', 'rg', 'rsv'),
    'rsv-prod-01', '', None, 42,
])
def test_not_a_vault_key(form):
    assert vault_key(form) is None


def test_key_respects_vault_kind():
    assert vault_key(BV % (SUB, 'rg', 'bv'), 'backup').endswith('/microsoft.dataprotection/backupvaults/bv')
    assert vault_key(BV % (SUB, 'rg', 'bv'), 'recovery_services') is None


@pytest.mark.parametrize('entry, kind', [
    (RS % (SUB, 'rg-prod', 'rsv-prod-01') + '/', 'vault'),
    ('/subscriptions/%s' % SUB, 'subscription'),
    ('/SUBSCRIPTIONS/%s/' % SUB, 'subscription'),
    ('/subscriptions/%s/resourceGroups/rg-prod' % SUB, 'resource_group'),
    (' /subscriptions/%s/resourcegroups/RG-PROD/ ' % SUB, 'resource_group'),
    ('rsv-*', 'pattern'),
    (' RSV-PROD-?? ', 'pattern'),
])
def test_exclusion_kinds(entry, kind):
    assert parse_exclusion(entry)['kind'] == kind


@pytest.mark.parametrize('entry, message', [
    ('/subscriptions/abc', "'abc' is not a subscription GUID"),
    ('/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1' % SUB, 'is not the id of'),
    ('/subscription/%s' % SUB, 'is not the id of'),
    ('rsv/prod', 'neither an id'),
    ('rsv prod', 'neither an id'),
    ('rsv-prod\n', 'control character'),
    ('', 'empty'),
    ('   ', 'empty'),
    (42, 'not a string'),
    (None, 'not a string'),
])
def test_exclusions_not_understood_are_errors_naming_the_entry(entry, message):
    with pytest.raises(TargetError, match='harden_backup_vaults_exclude\\[3\\]') as err:
        parse_exclusion(entry, 3)
    assert message in str(err.value)


@pytest.mark.parametrize('name, rg, words', [
    ('rsv-prod-0\u0031', 'rg-prod', None),                                       # plain digits: a vault name
    ('rsv-pr\u043ed-01', 'rg-prod', 'U+043E CYRILLIC SMALL LETTER O'),         # a look-alike letter
    ('rsv-prod-01\u200b', 'rg-prod', 'U+200B ZERO WIDTH SPACE'),               # an invisible character
    ('rsv-prod-01?api-version=1', 'rg-prod', 'U+003F QUESTION MARK'),
    ('rsv-prod-01#x', 'rg-prod', 'U+0023 NUMBER SIGN'),
    ('rsv-prod%2F..', 'rg-prod', 'U+0025 PERCENT SIGN'),
    ('r' * 51, 'rg-prod', 'is not a vault name (2 to 50 letters A-Z'),
    ('rsv-prod-01', 'rg-prod\u202e', 'U+202E RIGHT-TO-LEFT OVERRIDE'),
    ('rsv-prod-01', 'rg%2Fprod', 'U+0025 PERCENT SIGN'),
])
def test_an_exclusion_id_whose_vault_name_no_vault_can_have_is_refused(name, rg, words):
    """Vault ids were taken as exclusions whatever their name: a look-alike letter or an invisible character (written by
    mistake, or by someone who edits the exclusions) excluded nothing, and the vault the entry shows was changed with only a
    warning. Refused before any request, as a name pattern with such characters is, naming the character."""
    entry = RS % (SUB, rg, name)
    if words is None:
        assert parse_exclusion(entry)['kind'] == 'vault'
        return
    with pytest.raises(TargetError, match=r'harden_backup_vaults_exclude\[2\]') as err:
        parse_exclusion(entry, 2)
    assert 'cannot name a vault' in str(err.value) and words in str(err.value) and 'would exclude nothing' in str(err.value)
    with pytest.raises(TargetError):
        plan_run(reads(record('rsv-prod-01')), [entry], {'immutability': 'enabled'})


def test_bad_entry_stops_select_before_anything_else():
    with pytest.raises(TargetError, match=r'\[1\]'):
        select_vaults(reads(record('rsv-a')), ['rsv-*', '/subscriptions/nope'])


@pytest.mark.parametrize('entry', [
    RS % (SUB, 'rg-prod', 'rsv-prod-01') + '/',
    ' ' + RS % (SUB, 'rg-prod', 'rsv-prod-01'),
    (RS % (SUB, 'rg-prod', 'rsv-prod-01')).lower(),
    '/subscriptions/%s' % SUB,
    '/subscriptions/%s/resourceGroups/RG-Prod/' % SUB,
    'RSV-PROD-*',
])
def test_every_equivalent_form_protects_the_vault(entry):
    selected = select_vaults(reads(record('rsv-prod-01'), record('rsv-other', rg='rg-other', sub=SUB2)), [entry])
    assert [v['name'] for v in selected['vaults']] == ['rsv-other']
    assert selected['excluded'] == [RS % (SUB, 'rg-prod', 'rsv-prod-01')]
    assert selected['unmatched'] == [] and selected['warnings'] == []


def test_unmatched_entries_are_reported_with_a_warning():
    selected = select_vaults(reads(record('rsv-a')), ['rsv-zzz', '/subscriptions/%s' % SUB2, 'rsv-a'])
    assert selected['vaults'] == []
    assert selected['unmatched'] == ['rsv-zzz', '/subscriptions/%s' % SUB2]
    assert len(selected['warnings']) == 2 and "'rsv-zzz' matched no vault" in selected['warnings'][0]


def test_targets_and_discovery_merge_by_the_canonical_key():
    listed = record('rsv-a')
    listed['id'] = listed['id'].upper() + '/'
    discovered = record('rsv-a')
    selected = select_vaults(reads(discovered) + reads(listed), [])
    assert len(selected['vaults']) == 1


def test_policies_error_becomes_unchecked_and_failed_reads_become_errors():
    broken = dict(record('rsv-a'), policies=[], policies_error=True)
    failed = {'failed': True, 'msg': 'boom', 'item': {'name': 'rsv-x', 'resource_group': 'rg'}}
    selected = select_vaults(reads(broken) + [failed, {'skipped': True}], None)
    assert selected['vaults'][0]['policies'] is None
    assert selected['errors'] == [{'scope': 'vault rg/rsv-x', 'message': 'boom'}]


@pytest.mark.parametrize('read, words, kept', [
    # Each was left out without a word: "no vaults, no errors" is a fleet without drift.
    ({'vaults': 'rsv-a', 'errors': []}, "vaults is 'rsv-a', so its vaults were not read", []),
    ({'vaults': {'rsv-a': record('rsv-a')}, 'errors': []}, 'vaults is dict, so its vaults were not read', []),
    ({'vaults': [record('rsv-a'), None], 'errors': []}, "vaults[1] is null, so that vault was not read", ['rsv-a']),
    ({'vaults': [{'name': 'rsv-b'}], 'errors': []}, "vaults[0] is 'a vault without an id', so that vault was not read", []),
    ({'vaults': [dict(record('rsv-b'), id=' ')], 'errors': []}, "vaults[0] is 'a vault without an id'", []),
    ({'vaults': [record('rsv-a')], 'errors': 'AuthorizationFailed'}, "errors is 'AuthorizationFailed', so what could not be read is unknown", ['rsv-a']),
    ({'vaults': [record('rsv-a')], 'errors': ['AuthorizationFailed']}, "errors[0] is 'AuthorizationFailed'", ['rsv-a']),
])
def test_a_result_part_that_is_not_what_the_module_returns_is_an_error_never_left_out(read, words, kept):
    selected = select_vaults([dict(read, item='rg-prod')], [])
    assert [error['scope'] for error in selected['errors']] == ['resource group rg-prod']
    message = selected['errors'][0]['message']
    assert message.startswith('the discovery result is not one vault_immutability_info returns: ') and words in message, message
    assert [v['name'] for v in selected['vaults']] == kept


def test_a_result_that_is_not_a_dictionary_is_an_error_never_left_out():
    """A registered result that is not one (a string, null, a number: a play's odd variable in the list) was skipped
    without a word, as if it had read no vault."""
    selected = select_vaults(reads(record('rsv-a')) + ['rsv-b', None, 3], [])
    assert [v['name'] for v in selected['vaults']] == ['rsv-a']
    assert [error['scope'] for error in selected['errors']] == ['discovery'] * 3
    assert [error['message'] for error in selected['errors']] == [
        "the discovery result is not one vault_immutability_info returns: results[%d] is %s, so what it read is unknown"
        % (index, shown) for index, shown in ((1, "'rsv-b'"), (2, 'null'), (3, '3'))]


def test_an_unreadable_vault_is_an_error_unless_excluded():
    bad = {'scope': RS % (SUB, 'rg-prod', 'rsv-bad'), 'code': 'UnreadableVault', 'message': 'cannot read properties.x',
           'vault': dict(record('rsv-bad'), unreadable={'field': 'properties.x', 'message': 'm'})}
    selected = select_vaults(reads(record('rsv-a'), errors=[bad]) + reads(errors=[bad]), [])
    assert [v['name'] for v in selected['vaults']] == ['rsv-a']
    assert selected['errors'] == [{'scope': bad['scope'], 'message': 'UnreadableVault: cannot read properties.x', 'vault': 'rsv-bad'}]
    excluded = select_vaults(reads(record('rsv-a'), errors=[bad]), ['rsv-bad'])
    assert excluded['errors'] == [] and excluded['unmatched'] == []


# ------------------------------------------------------------------ plan_run: what the harden_backup_vaults role decides

def state_record(name, immutability='disabled', **kw):
    return dict(record(name, **kw), immutability=immutability, soft_delete={'state': 'on', 'retention_days': 14}, mua={})


@pytest.mark.parametrize('baseline, words', [
    ({'immutability': 'locked'}, ['harden_backup_vaults_immutability: locked is irreversible', 'harden_backup_vaults_allow_irreversible']),
    ({'soft_delete': {'state': 'always_on'}}, ['harden_backup_vaults_soft_delete.state: always_on is irreversible']),
    ({'immutability': 'sealed'}, ['baseline.immutability', 'sealed']),
    ({'retention': {'minimum': {'daily': 'thirty days'}, 'mode': 'report'}}, ['minimum.daily']),
    ({'retention': {'minimum': {'daily': '30d'}, 'mode': 'check'}}, ['report or enforce']),
])
def test_the_baseline_is_checked_once_with_the_role_s_consent_rule(baseline, words):
    with pytest.raises(Exception) as err:
        plan_run([], None, baseline)
    for word in words:
        assert word in str(err.value)
    assert check_baseline({'immutability': 'locked', 'allow_irreversible': True})['immutability'] == 'locked'


def test_plan_run_gives_the_drift_and_nothing_blocks_without_unmatched_entries():
    plan = plan_run(reads(state_record('rsv-a'), state_record('rsv-b', immutability='enabled')), None, {'immutability': 'enabled'})
    assert [(e['name'], bool(e['changes'])) for e in plan['drift']] == [('rsv-a', True), ('rsv-b', False)]
    assert plan['blocked'] == '' and plan['report_errors'] == [] and plan['report_warnings'] == []
    assert plan['baseline'] == dict({'immutability': 'enabled', 'allow_irreversible': False, 'retention': None, 'soft_delete': None},
                                    **SECURITY_NULL)


def test_an_unmatched_entry_blocks_only_irreversible_runs():
    # An empty vault (no policy, no item, soft delete on) is ready to lock with the default lock requirements.
    vaults = reads(dict(state_record('rsv-a'), policies=[], protected_items=[]))
    lock = {'immutability': 'locked', 'allow_irreversible': True}
    plan = plan_run(vaults, ['rsv-typo'], lock)
    assert "'rsv-typo' matched no vault, and this run would make 1 irreversible change(s)" in plan['blocked']
    assert plan['report_errors'] == [{'scope': 'harden_backup_vaults_exclude', 'message': plan['blocked']}]
    assert plan['report_warnings'] == ["exclusion 'rsv-typo' matched no vault, so it protected nothing"]
    assert plan_run(vaults, ['rsv-typo'], {'immutability': 'enabled'})['blocked'] == ''
    assert plan_run(vaults, ['rsv-a'], lock)['drift'] == []


def test_many_unmatched_entries_are_named_up_to_twenty_and_counted_after():
    """50,000 retired vault names in the exclusions were 50,000 warning lines and a refusal as long: the first twenty are
    named, the rest counted."""
    vaults = reads(dict(state_record('rsv-a'), policies=[], protected_items=[]))
    retired = ['rsv-retired-%05d' % index for index in range(50000)]
    plan = plan_run(vaults, retired, {'immutability': 'locked', 'allow_irreversible': True})
    assert len(plan['unmatched']) == 50000
    assert plan['report_warnings'][:2] == ["exclusion 'rsv-retired-00000' matched no vault, so it protected nothing",
                                           "exclusion 'rsv-retired-00001' matched no vault, so it protected nothing"]
    assert len(plan['report_warnings']) == 21
    assert plan['report_warnings'][-1] == '49980 more exclusions matched no vault, so they protected nothing'
    assert "'rsv-retired-00019' and 49980 more matched no vault, and this run would make 1 irreversible" in plan['blocked']
    assert 'rsv-retired-00020' not in plan['blocked'] and len(plan['blocked']) < 1000


def test_tls_validation_off_in_a_discovery_task_is_a_report_warning():
    discovered = [dict(reads(state_record('rsv-a'))[0], cert_validation_mode='ignore')]
    assert plan_run({'results': discovered}, None, {})['report_warnings'] == [TLS_WARNING]
    assert 'report_warnings' not in plan_run(discovered, None, None)


def test_one_vault_that_cannot_be_judged_is_an_error_of_that_vault_not_of_the_plan():
    """Issue 25: a policy with a 7-digit retention count stopped the whole plan; now that count is unreadable (as the same
    value in a Backup vault's ISO 8601 duration is), a not-fixable finding of that vault naming the value, and the others plan."""
    from tests.emulator import generator
    from tests.unit.builders import arm_vault
    from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
    from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record

    body = generator.iaas_v1(False)
    body['retentionPolicy']['dailySchedule']['retentionDuration']['count'] = 1234567
    odd = vault_record(arm_vault('rsv-odd', immutability='enabled', soft_delete='on'), 'recovery_services')
    odd['policies'] = [normalise_policy({'id': odd['id'] + '/backupPolicies/p', 'name': 'p', 'properties': body}, 'recovery_services')]
    fine = vault_record(arm_vault('rsv-fine', immutability='disabled', soft_delete='on'), 'recovery_services')
    fine['policies'] = []
    reads = [{'vaults': [odd, fine], 'errors': [], 'subscriptions': [], 'item': ''}]
    run = plan_run(reads, [], {'immutability': 'enabled', 'retention': {'minimum': {'daily': '30d'}, 'mode': 'enforce'}})
    assert [entry['name'] for entry in run['drift']] == ['rsv-fine', 'rsv-odd']
    found = [f for entry in run['drift'] if entry['name'] == 'rsv-odd' for f in entry['findings']]
    assert [(f['setting'], f['policy'], f['fixable']) for f in found] == [('retention', 'p', False)]
    assert '1234567' in found[0]['reason'] and 'cannot be read' in found[0]['reason']
    assert not run.get('report_errors')


@pytest.mark.parametrize('message, expected', [
    ('baseline.retention.minimum: minimum.daily is 20000d, above', 'harden_backup_vaults_retention_minimum.daily is 20000d, above'),
    ("baseline.retention.minimum: unknown tier 'dayly' in minimum", "harden_backup_vaults_retention_minimum: unknown tier 'dayly' in minimum"),
    ('baseline.soft_delete.retention_days cannot be set when baseline.soft_delete.state is off',
     'harden_backup_vaults_soft_delete.retention_days cannot be set when harden_backup_vaults_soft_delete.state is off'),
    ('baseline.retention.mode must be one of', 'harden_backup_vaults_retention_mode must be one of'),
    ('baseline.retention_mode must be one of', 'harden_backup_vaults_retention_mode must be one of'),
    ('baseline.alerts.job_failure_alerts must be', 'harden_backup_vaults_alerts.job_failure_alerts must be'),
    # No role variable is baseline.retention itself (the role builds it), nor a key the role never sets.
    ('baseline.retention must be a dictionary', 'baseline.retention must be a dictionary'),
    ('baseline.nonsense is unknown', 'baseline.nonsense is unknown'),
    ('the baseline must be a dictionary', 'the baseline must be a dictionary'),
])
def test_role_variable_names(message, expected):
    assert role_variable_names(message) == expected


def test_role_variable_names_name_every_rules_variables():
    """The paths come from the rules (Rule.role_variables): each path of each rule is named as its variable."""
    named = [(path, variable) for rule in RULES for path, variable in rule.role_variables.items()]
    assert ('retention.minimum', 'harden_backup_vaults_retention_minimum') in named and len(named) > len(RULES) - 1
    for path, variable in named:
        assert role_variable_names('baseline.%s.x is wrong' % path) == '%s.x is wrong' % variable


@pytest.mark.parametrize('message, expected', [
    ("subscription_ids[0]: 'prod' is not a subscription id", "harden_backup_vaults_subscription_ids[0]: 'prod' is not a subscription id"),
    ('report_dir is empty (was it given with -e ...)', 'harden_backup_vaults_report_dir is empty (was it given with -e ...)'),
    ('tags.backup: true is not text', 'harden_backup_vaults_tags.backup: true is not text'),
    ('max_concurrency must be at least 1', 'harden_backup_vaults_discovery_concurrency must be at least 1'),
    # Only an option the message starts with: the same words further on, or as part of a longer word, stay.
    ('no vaults to check: discover is false and vaults is empty', 'no vaults to check: discover is false and vaults is empty'),
    ('vaults_seen is odd', 'vaults_seen is odd'),
])
def test_role_option_names(message, expected):
    assert role_option_names(message) == expected


def test_excluded_warning_names_the_first_vaults_with_their_entries_and_counts_the_rest():
    pairs = [('/v/%02d' % number, ['name:v%02d' % number, 'tag:env=dev']) for number in range(LISTED_UNMATCHED + 2)]
    text = excluded_warning(pairs)
    assert text.startswith('harden_backup_vaults_exclude left %d vaults out of this report, not checked: ' % (LISTED_UNMATCHED + 2))
    assert "/v/00 (by 'name:v00', 'tag:env=dev'), /v/01 (by" in text
    assert '/v/%02d' % (LISTED_UNMATCHED - 1) in text and '/v/%02d' % LISTED_UNMATCHED not in text
    assert text.endswith(' and 2 more')
    assert excluded_warning([('/v/a', ['name:a'])]) == "harden_backup_vaults_exclude left 1 vault out of this report, not checked: /v/a (by 'name:a')"
    assert excluded_warning([]) is None
