# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup_policy_retention in process (conftest.py): report and enforce, consent on locked vaults, compare_to, and the
argument rules its argument spec declares."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.modules import backup_policy_retention

from tests.unit.builders import BV, RG, RS, arm_vault, dp_policy, iaas, lifecycle


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


def test_operational_tiers_of_a_locked_vault_need_no_consent(run_module, azure):
    vault = arm_vault('bv-1', BV, immutability='locked')
    azure.add(vault, [dp_policy('disks', {'Default': [lifecycle('OperationalStore', 'P7D')]}, vault=vault['id'])])
    result = run_module(backup_policy_retention, {'id': vault['id'], 'mode': 'enforce',
                                                  'minimum': {'default': {'OperationalStore': '30d'}}})
    assert result['changed'] is True and result['changes'][0]['irreversible'] is False


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
