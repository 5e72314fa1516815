# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup_policy_retention in process (conftest.py): report and enforce, consent on locked vaults, compare_to, and the
argument rules its argument spec declares."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend
from ansible_collections.vaultlock.azure.plugins.modules import backup_policy_retention

from tests.unit.builders import BV, RG, RS, SUB, arm_vault, dp_policy, emulator_session, iaas, lifecycle


def rsv(azure, name='rsv-1', immutability=None, daily=7):
    vault = arm_vault(name, immutability=immutability)
    azure.add(vault, [iaas('weak', vault=vault['id'], daily=(daily, 'Days')), iaas('strong', vault=vault['id'], daily=(60, 'Days'))])
    return vault


def test_report_is_the_default_and_writes_nothing(run_module, azure):
    vault = rsv(azure)
    result = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}})
    assert result['changed'] is False and azure.writes == []
    assert result['compliant'] is False and [(v['policy'], v['fixable']) for v in result['violations']] == [('weak', True)]
    assert 'fixable by mode=enforce' in result['msg']


def test_a_minimum_only_per_datastore_that_checks_no_tier_is_a_warning(run_module, azure):
    """daily: {VaultStore: 30d} checks no tier of a Recovery Services VM policy (its tiers have no datastore): the policies
    read compliant, and the result's warnings say why and how to write it; nothing else changes."""
    vault = rsv(azure)
    result = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': {'VaultStore': '30d'}}, 'mode': 'enforce'})
    assert result['changed'] is False and azure.writes == [] and result['compliant'] is True
    assert result['warnings'] == ["minimum.daily is given only per datastore (VaultStore), so it checks no daily tier of 2 policies "
                                  "of Recovery Services vault 'rsv-1' (resource group '%s', subscription %s) ('strong', 'weak'): the "
                                  "retention tiers of Recovery Services VM, SQL and SAP HANA policies have no datastore, and a value "
                                  "given per datastore applies to none of them; a plain duration (daily: 30d) applies to every "
                                  "datastore and to tiers without one" % (RG, SUB)]
    # A plain key beside it does not hide it: the daily tiers are still unchecked (before, no warning), the weekly one is
    # checked (the VM policies have none: findings of their own).
    mixed = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': {'VaultStore': '30d'}, 'weekly': '4w'}})
    assert [w.split(',')[0] for w in mixed['warnings']] == ['minimum.daily is given only per datastore (VaultStore)']
    assert "so it checks no daily tier of 2 policies of Recovery Services vault 'rsv-1'" in mixed['warnings'][0]
    assert {v['tier'] for v in mixed['violations']} == {'weekly'} and azure.writes == []
    plain = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}})
    assert plain['warnings'] == [] and plain['compliant'] is False


def test_mode_check_is_gone(run_module, azure):
    vault = rsv(azure)
    result = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}, 'mode': 'check'})
    assert result['failed'] is True and 'report, enforce' in result['msg']


def test_enforce_raises_only_the_weak_policy(run_module, azure):
    vault = rsv(azure)
    result = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}, 'mode': 'enforce'}, diff=True)
    assert result['changed'] is True and [w[1] for w in azure.writes] == ['rsv-1/weak']
    assert result['changes'][0]['policy'] == 'weak' and result['changes'][0]['irreversible'] is False
    assert result['diff'] == {'before': {'weak': {'daily': 'P7D', 'instant': 'P5D'}}, 'after': {'weak': {'daily': 'P30D', 'instant': 'P5D'}}}
    assert 'protectedItemsCount' not in azure.writes[0][2]['properties']   # read-only values are never sent back
    again = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}, 'mode': 'enforce'})
    assert again['changed'] is False and len(azure.writes) == 1


def test_enforce_in_check_mode_predicts(run_module, azure):
    vault = rsv(azure)
    result = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}, 'mode': 'enforce'}, check_mode=True)
    assert result['changed'] is True and azure.writes == [] and 'would raise 1 retention tier(s)' in result['msg']


def test_a_locked_vault_needs_consent_to_raise(run_module, azure):
    vault = rsv(azure, immutability='locked')
    args = {'id': vault['id'], 'minimum': {'daily': '30d'}, 'mode': 'enforce'}
    result = run_module(backup_policy_retention, args)
    assert result['failed'] is True and 'can never be undone' in result['msg'] and azure.writes == []
    result = run_module(backup_policy_retention, dict(args, allow_irreversible=True), diff=True)
    assert result['changed'] is True and result['changes'][0]['irreversible'] is True
    assert 'IRREVERSIBLE' in result['diff']['after_header']


@pytest.mark.parametrize('immutability', [None, 'enabled', 'locked'])
@pytest.mark.parametrize('check_mode', [False, True])
def test_enforce_never_raises_a_backup_vault_policy(run_module, azure, immutability, check_mode):
    """Azure updates no Backup vault policy (400 UserErrorBMSUpdatePolicyNotSupported): enforce reports each weak tier as a
    violation raising cannot fix, as it reports the other tiers it cannot raise: changed false, no write, no consent asked
    (a Locked vault's raise that cannot happen needs none), fail_on_violation fails the task. Before, the operational tier
    was raised (changed true, a PUT that Azure refuses), and on a Locked vault the vaulted one needed consent."""
    vault = arm_vault('bv-1', BV, immutability=immutability)
    azure.add(vault, [dp_policy('disks', {'Default': [lifecycle('OperationalStore', 'P7D')]}, vault=vault['id']),
                      dp_policy('blobs', {'Default': [lifecycle('VaultStore', 'P7D')]}, vault=vault['id'],
                                datasource='Microsoft.Storage/storageAccounts/blobServices')])
    args = {'id': vault['id'], 'mode': 'enforce', 'minimum': {'default': '30d'}}
    for extra in ({}, {'allow_irreversible': True}):
        result = run_module(backup_policy_retention, dict(args, **extra), check_mode=check_mode, diff=True)
        assert 'failed' not in result, result['msg']
        assert result['changed'] is False and result['changes'] == [] and 'diff' not in result and azure.writes == []
        assert result['compliant'] is False
        assert [(v['policy'], v['datastore'], v['have'], v['need'], v['fixable']) for v in result['violations']] == [
            ('blobs', 'VaultStore', 'P7D', 'P30D', False), ('disks', 'OperationalStore', 'P7D', 'P30D', False)]
        for violation in result['violations']:
            assert 'Azure does not update an existing Backup vault policy' in violation['reason']
            assert 'create a policy that keeps at least 30d and move the backup instances to it' in violation['reason']
        assert '2 retention violation(s) remain in 2 policy(ies) that raising cannot fix' in result['msg']
        assert 'raise' not in result['msg'].split(';')[0]
    result = run_module(backup_policy_retention, dict(args, fail_on_violation=True), check_mode=check_mode)
    assert result['failed'] is True and 'Azure does not update an existing Backup vault policy' in result['msg'] and azure.writes == []
    report = run_module(backup_policy_retention, dict(args, mode='report'), check_mode=check_mode)
    assert [v['fixable'] for v in report['violations']] == [False, False] and '0 fixable by mode=enforce' in report['msg']


def test_the_backup_vault_backend_never_sends_a_policy_put(emulator, monkeypatch):
    """Should a Backup vault policy PUT ever be asked of the backend, it is refused before it leaves (no request); a
    Recovery Services policy PUT goes out as before."""
    sub = SUB
    fleet = {'subscriptions': [{'id': sub, 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
        {'name': 'bv-put', 'type': 'backup', 'policies': [{'name': 'p', 'properties': dp_policy('p', {'Default': [
            lifecycle('OperationalStore', 'P7D')]})['properties']}]},
        {'name': 'rsv-put', 'type': 'recovery_services', 'policies': [{'name': 'p', 'properties': iaas('p', daily=(7, 'Days'))['properties']}]},
    ]}]}]}
    session = emulator_session(emulator, monkeypatch, fleet)
    emulator.clear_journal()
    with pytest.raises(VaultlockError) as err:
        backend(session, BV).put_policy(VaultRef(sub, RG, 'bv-put', BV), 'p', {'properties': {}})
    assert 'was not sent' in str(err.value) and 'UserErrorBMSUpdatePolicyNotSupported' in str(err.value)
    assert [e for e in emulator.journal() if e['method'] != 'GET'] == []
    body = iaas('p', daily=(30, 'Days'))
    kept = backend(session, RS).put_policy(VaultRef(sub, RG, 'rsv-put', RS), 'p', {'properties': body['properties']})
    assert kept['properties']['retentionPolicy']['dailySchedule']['retentionDuration']['count'] == 30
    assert [e['method'] for e in emulator.journal() if e['method'] != 'GET'] == ['PUT']


def test_fail_on_violation_fails_with_the_whole_result(run_module, azure):
    vault = rsv(azure)
    result = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}, 'fail_on_violation': True})
    assert result['failed'] is True and 'does not meet the retention minimum (fail_on_violation)' in result['msg']
    assert result['violations'][0]['policy'] == 'weak' and result['compliant'] is False and result['policies']


def test_policies_selects_and_an_unknown_name_is_an_error(run_module, azure):
    vault = rsv(azure)
    result = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}, 'policies': ['STRONG']})
    assert result['compliant'] is True and [p['name'] for p in result['policies']] == ['strong']
    result = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}, 'policies': ['nope']})
    assert result['failed'] is True and "no backup policy named 'nope'" in result['msg']


def test_compare_to_another_policy_on_an_immutable_vault(run_module, azure):
    vault = rsv(azure, immutability='enabled')
    result = run_module(backup_policy_retention, {'id': vault['id'], 'policy': 'strong', 'compare_to': {'policy': 'weak'}})
    assert result['rejected_by_azure'] is True and 'Azure will reject moving protected items' in result['msg']
    assert azure.writes == [] and 'violations' not in result


@pytest.mark.parametrize('args, words', [
    ({}, ['one of the following is required: minimum, compare_to']),
    ({'policy': 'weak', 'minimum': {'daily': '30d'}}, ["missing parameter(s) required by 'policy': compare_to"]),
    ({'compare_to': {'policy': 'weak'}}, ["missing parameter(s) required by 'compare_to': policy"]),
    ({'policy': 'weak', 'compare_to': {'policy': 'strong', 'proposed': {'properties': {}}}}, ['mutually exclusive: policy|proposed', 'compare_to']),
    ({'policy': 'weak', 'compare_to': {}}, ['one of the following is required: policy, proposed', 'compare_to']),
    ({'policy': 'weak', 'compare_to': {'proposed': {'retentionPolicy': {}}}}, ['with a properties object']),
    ({'minimum': {}}, ['minimum names no tier']),
    ({'minimum': {'daily': '30x'}}, ["minimum.daily: invalid duration '30x'"]),
])
def test_argument_rules(run_module, azure, args, words):
    vault = rsv(azure)
    result = run_module(backup_policy_retention, dict(args, id=vault['id']))
    assert result['failed'] is True
    for word in words:
        assert word in result['msg'], result['msg']
    assert azure.writes == []


def test_a_failed_put_after_a_raise_reports_what_changed(run_module, azure):
    vault = arm_vault('rsv-1')
    azure.add(vault, [iaas('a', vault=vault['id'], daily=(7, 'Days')), iaas('b', vault=vault['id'], daily=(7, 'Days'))])
    original = azure.fail

    def refuse_second(operation, name):
        if operation == 'update backup policy' and azure.writes:
            raise AzureOperationError(operation, name, 400, 'BMSUserErrorSomething', 'refused')
        original(operation, name)
    azure.fail = refuse_second
    result = run_module(backup_policy_retention, {'name': 'rsv-1', 'resource_group': RG, 'vault_type': RS,
                                                  'minimum': {'daily': '30d'}, 'mode': 'enforce'})
    assert result['failed'] is True and result['changed'] is True
    assert [c['policy'] for c in result['changes']] == ['a'] and result['error']['code'] == 'BMSUserErrorSomething'


@pytest.mark.parametrize('policies, words', [
    ([], 'policies is empty (from a variable that came out empty?), which would mean every policy of the vault: leave policies out'),
    (['weak', ''], "policies[1] is '': each entry names one backup policy"),
    (['  '], "policies[0] is '  ': each entry names one backup policy"),
])
def test_an_empty_policies_list_or_a_blank_name_is_refused_before_any_request(run_module, azure, policies, words):
    # policies: [] checked and raised every policy of the vault, as leaving the option out does: a templated list that came
    # out empty widened to every policy. The vault is not even read (a vault that does not exist says so only afterwards).
    vault = rsv(azure)
    for vault_ref in (vault['id'], vault['id'] + '-missing'):
        result = run_module(backup_policy_retention, {'id': vault_ref, 'minimum': {'daily': '30d'}, 'mode': 'enforce', 'policies': policies})
        assert result['failed'] is True and words in result['msg'] and 'nothing was sent to Azure' in result['msg'], result['msg']
    assert azure.writes == []


@pytest.mark.parametrize('duration, reductions', [('P30D', []), ('P7D', ['P14D'])])
def test_a_proposed_backup_vault_policy_body_is_always_rejected(run_module, azure, duration, reductions):
    """Azure updates no Backup vault policy, whatever the body: compare_to.proposed says Azure will reject it, also when it
    keeps no less, on a vault that is not immutable. Before, a body that only raised (or any body on a vault that is not
    immutable) was said to be accepted."""
    vault = arm_vault('bv-1', BV)
    azure.add(vault, [dp_policy('disks', {'Default': [lifecycle('OperationalStore', 'P14D')]}, vault=vault['id']),
                      dp_policy('other', {'Default': [lifecycle('OperationalStore', 'P30D')]}, vault=vault['id'])])
    proposed = dp_policy('disks', {'Default': [lifecycle('OperationalStore', duration)]})
    result = run_module(backup_policy_retention, {'id': vault['id'], 'policy': 'disks', 'compare_to': {'proposed': {'properties': proposed['properties']}}})
    assert result['rejected_by_azure'] is True and azure.writes == []
    assert result['msg'].startswith("Azure will reject changing policy 'disks' as proposed: Azure does not update an existing Backup vault policy")
    assert [r['before'] for r in result['reductions']] == reductions
    # Moving backup instances to another policy is not an update: judged by the reductions as before.
    moved = run_module(backup_policy_retention, {'id': vault['id'], 'policy': 'disks', 'compare_to': {'policy': 'other'}})
    assert moved['rejected_by_azure'] is False and moved['reductions'] == []


def suspended_vault(azure, immutability, name='rsv-s'):
    """A vault whose policy 'held' has an item with its backups suspended (stop backup, data kept) and one protected item,
    and whose policy 'free' has a protected item only; both keep 7 days."""
    vault = arm_vault(name, immutability=immutability)
    azure.add(vault, [iaas('held', vault=vault['id'], daily=(7, 'Days')), iaas('free', vault=vault['id'], daily=(7, 'Days'))])
    azure.protect(vault, 'held', 'vm-stopped', 'VM', suspended=True)
    azure.protect(vault, 'held', 'vm-running', 'VM')
    azure.protect(vault, 'free', 'vm-other', 'VM')
    return vault


@pytest.mark.parametrize('immutability', ['enabled', 'locked'])
@pytest.mark.parametrize('check_mode', [False, True])
def test_no_raise_of_a_policy_with_suspended_items_on_an_immutable_vault(run_module, azure, immutability, check_mode):
    """Azure does not apply a retention increase on an immutable Recovery Services vault while an item of the policy has
    its backups suspended (Microsoft Learn, Immutable vault; the emulator refuses the PUT). The module read no item and
    sent the raise; now it reads the vault's items once, raises only the other policy, and says why 'held' is not fixable,
    naming the item, in check mode too."""
    vault = suspended_vault(azure, immutability)
    args = {'id': vault['id'], 'minimum': {'daily': '30d'}, 'mode': 'enforce', 'allow_irreversible': True}
    result = run_module(backup_policy_retention, args, check_mode=check_mode)
    assert not result.get('failed'), result
    assert [w[1] for w in azure.writes] == ([] if check_mode else ['rsv-s/free'])
    assert result['changed'] is True and {c['policy'] for c in result['changes']} == {'free'}
    [held] = [v for v in result['violations'] if v['policy'] == 'held']
    assert (held['tier'], held['have'], held['need'], held['fixable']) == ('daily', 'P7D', 'P30D', False)
    assert held['reason'].endswith('; Azure does not apply a retention increase on an immutable vault while an item has its backups '
                                   'suspended (vm-stopped): resume their backups, or move them to another policy, first'), held
    assert result['compliant'] is False and '1 retention violation(s) remain in 1 policy(ies) that raising cannot fix' in result['msg']
    assert azure.item_reads == [vault['id']]


def test_a_locked_vault_whose_only_raise_is_held_asks_no_consent(run_module, azure):
    """The raise Azure would not apply is not planned, so it needs no consent: before, the task failed asking for
    allow_irreversible, and with it sent a PUT Azure refuses."""
    vault = suspended_vault(azure, 'locked')
    result = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}, 'mode': 'enforce', 'policies': ['held']})
    assert not result.get('failed'), result
    assert result['changed'] is False and result['changes'] == [] and azure.writes == []
    assert [(v['policy'], v['fixable']) for v in result['violations']] == [('held', False)] and 'vm-stopped' in result['violations'][0]['reason']


@pytest.mark.parametrize('immutability,args', [
    (None, {'mode': 'enforce'}),              # not immutable: Azure applies the raise
    ('disabled', {'mode': 'enforce'}),
    ('enabled', {'mode': 'enforce', 'minimum': {'daily': '7d'}}),
])
def test_the_items_are_read_only_when_an_immutable_vault_would_be_raised(run_module, azure, immutability, args):
    vault = suspended_vault(azure, immutability)
    result = run_module(backup_policy_retention, dict({'id': vault['id'], 'minimum': {'daily': '30d'}}, **args))
    assert not result.get('failed'), result
    assert azure.item_reads == []
    raised = sorted(w[1] for w in azure.writes)
    assert raised == (['rsv-s/free', 'rsv-s/held'] if immutability in (None, 'disabled') else [])


@pytest.mark.parametrize('immutability', ['enabled', 'locked'])
def test_report_mode_says_a_policy_held_for_suspended_items_is_not_fixable(run_module, azure, immutability):
    """Report mode says what mode=enforce would fix: before, 'held' counted as fixable by mode=enforce, which then does not
    raise it. The items are read once, only because a fixable violation of an immutable vault was found."""
    vault = suspended_vault(azure, immutability)
    result = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}, 'mode': 'report'})
    assert not result.get('failed'), result
    assert azure.writes == [] and azure.item_reads == [vault['id']]
    assert sorted((v['policy'], v['fixable']) for v in result['violations']) == [('free', True), ('held', False)]
    [held] = [v for v in result['violations'] if v['policy'] == 'held']
    assert 'suspended (vm-stopped)' in held['reason'], held
    assert '2 retention violation(s) in 2 policy(ies), 1 fixable by mode=enforce' in result['msg'], result['msg']


def test_an_unreadable_item_list_fails_before_any_write(run_module, azure):
    vault = suspended_vault(azure, 'enabled')
    azure.unreadable_items['rsv-s'] = AzureOperationError('list protected items', "Recovery Services vault 'rsv-s'", 403, 'AuthorizationFailed',
                                                          'no read access')
    result = run_module(backup_policy_retention, {'id': vault['id'], 'minimum': {'daily': '30d'}, 'mode': 'enforce'})
    assert result['failed'] is True and 'AuthorizationFailed' in result['msg'] and 'list protected items' in result['msg'], result
    assert azure.writes == []
