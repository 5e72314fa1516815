# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 28: where Azure's answer has no Microsoft source, the collection predicts the safe side and says so.

* VM instant restore and workload snapshot tiers (not named operational by Microsoft): a shortening on an immutable vault
  is predicted "Azure may refuse", marked unsourced; raising them on a Locked vault needs consent.
* Cross-unit retention comparisons (30 days vs 1 month, 1 year vs 365 days): the collection's prediction
  (``_retention.is_reduction``) and the emulator's rule (``tests/emulator/rules.is_shorter``) give the same verdict.
"""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._retention import (
    is_reduction,
    normalise_policy,
    plan_raises,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.retention import RULE as RETENTION
from ansible_collections.vaultlock.azure.plugins.modules import backup_policy_retention

from tests.emulator.rules import duration_days, is_shorter, iso_days
from tests.unit.builders import RS, arm_vault, iaas, workload

# (before, after, refused): the verdict both sides must give. Cross-unit ones are assumed (docs/reliability.md).
VERDICTS = [
    ('P30D', 'P1M', True), ('P1M', 'P30D', True), ('P1M', 'P31D', False), ('P4W', 'P1M', False),
    ('P1Y', 'P365D', True), ('P365D', 'P1Y', False), ('P1Y', 'P366D', False), ('P52W', 'P1Y', False),
    ('P365D', 'P12M', True), ('P12M', 'P1Y', False), ('P1Y', 'P12M', False), ('P510D', 'P18M', True),
    ('P7D', 'P1W', False), ('P8D', 'P1W', True),
]

RS_UNIT = {'D': 'Days', 'W': 'Weeks', 'M': 'Months', 'Y': 'Years'}


@pytest.mark.parametrize('before,after,refused', VERDICTS)
def test_collection_and_emulator_agree_on_cross_unit_verdicts(before, after, refused):
    assert is_reduction(before, after) is refused
    assert is_shorter(iso_days(before), iso_days(after)) is refused                  # Backup vault deleteAfter (ISO 8601)
    rs = [{'count': int(d[1:-1]), 'durationType': RS_UNIT[d[-1]]} for d in (before, after)]
    assert is_shorter(duration_days(rs[0]), duration_days(rs[1])) is refused         # Recovery Services RetentionDuration


def test_collection_and_emulator_agree_on_every_pair_of_a_grid():
    counts = (1, 2, 4, 5, 11, 12, 13, 18, 24, 28, 29, 30, 31, 52, 53, 60, 90, 180, 364, 365, 366, 367, 510, 730, 731)
    values = ['P%d%s' % (n, u) for u in 'DWMY' for n in counts] + ['P1Y6M', 'P1Y1D', 'P1M1D', 'P1M2D']
    disagree = [(a, b) for a, b in itertools.product(values, values) if is_reduction(a, b) != is_shorter(iso_days(a), iso_days(b))]
    assert disagree == []


def test_a_raise_is_never_a_reduction_by_the_stricter_rule():
    # A tier of 12 months needing 366 days: the raised value must keep at least the 12 months as an immutable vault may
    # count them (31 days each), or Azure could refuse the raise as a reduction. A Backup vault policy is never raised
    # (Azure updates none: _retention.DP_NO_UPDATE), so no value is planned for it; a Recovery Services monthly tier is
    # raised in its own unit.
    policy = {'name': 'p', 'properties': {'objectType': 'BackupPolicy', 'datasourceTypes': ['Microsoft.Storage/storageAccounts/blobServices'],
                                          'policyRules': [{'name': 'Default', 'objectType': 'AzureRetentionRule', 'isDefault': True,
                                                           'lifecycles': [{'deleteAfter': {'objectType': 'AbsoluteDeleteOption', 'duration': 'P12M'},
                                                                           'sourceDataStore': {'dataStoreType': 'VaultStore',
                                                                                               'objectType': 'DataStoreInfoBase'},
                                                                           'targetDataStoreCopySettings': []}]}]}}
    record = normalise_policy(policy, 'backup')
    assert [(violation['fixable'], raised) for violation, raised in plan_raises(record, {'default': '366d'})] == [(False, None)]
    raises = plan_raises(normalise_policy(iaas('p', daily=(30, 'Days'), monthly=(12, 'Months')), RS), {'monthly': '366d'})
    assert raises, raises
    for violation, raised in raises:
        assert raised is not None
        assert not is_reduction(violation['have'], raised), (violation, raised)
        assert not is_shorter(iso_days(violation['have']), iso_days(raised))


def rsv(azure, immutability, policies):
    vault = arm_vault('rsv-1', immutability=immutability)
    azure.add(vault, [dict(p, id=vault['id'] + '/backupPolicies/' + p['name']) for p in policies])
    return vault


def test_shortening_vm_instant_restore_on_an_immutable_vault_is_predicted_may_refuse(run_module, azure):
    vault = rsv(azure, 'enabled', [iaas('five', instant=5, daily=(30, 'Days')), iaas('two', instant=2, daily=(30, 'Days'))])
    result = run_module(backup_policy_retention, {'id': vault['id'], 'policy': 'five', 'compare_to': {'policy': 'two'}})
    assert result['reductions'] == [{'tier': 'instant', 'sub_policy': None, 'datastore': None, 'before': 'P5D', 'after': 'P2D',
                                     'operational': False, 'unsourced': True}]
    assert result['rejected_by_azure'] is True
    assert result['msg'].startswith("Azure may refuse moving protected items from policy 'five' to 'two'")
    assert 'unsourced (assumed)' in result['msg'] and 'instant P5D -> P2D' in result['msg']
    assert azure.writes == []


def test_a_sourced_reduction_says_will_reject_and_lists_the_unsourced_one_apart(run_module, azure):
    vault = rsv(azure, 'locked', [iaas('long', instant=5, daily=(60, 'Days')), iaas('short', instant=2, daily=(30, 'Days'))])
    result = run_module(backup_policy_retention, {'id': vault['id'], 'policy': 'long', 'compare_to': {'policy': 'short'}})
    assert result['rejected_by_azure'] is True
    assert "Azure will reject moving" in result['msg'] and '1 retention tier(s) would keep less: daily P60D -> P30D' in result['msg']
    assert 'also 1 tier(s) (instant P5D -> P2D) unsourced (assumed)' in result['msg']


def test_workload_snapshot_tier_is_predicted_held(run_module, azure):
    vault = rsv(azure, 'enabled', [workload('hana5', full={'daily': (30, 'Days')}, snapshot=5),
                                   workload('hana1', full={'daily': (30, 'Days')}, snapshot=1)])
    result = run_module(backup_policy_retention, {'id': vault['id'], 'policy': 'hana5', 'compare_to': {'policy': 'hana1'}})
    assert [(r['tier'], r['operational'], r['unsourced']) for r in result['reductions']] == [('snapshot', False, True)]
    assert result['rejected_by_azure'] is True and result['msg'].startswith('Azure may refuse')


def test_raising_instant_restore_on_a_locked_vault_needs_consent(run_module, azure):
    vault = rsv(azure, 'locked', [iaas('vm', instant=2, daily=(30, 'Days'))])
    args = {'id': vault['id'], 'minimum': {'instant': '5d'}, 'mode': 'enforce'}
    refused = run_module(backup_policy_retention, args)
    assert refused['failed'] is True and 'can never be undone' in refused['msg'] and azure.writes == []
    done = run_module(backup_policy_retention, dict(args, allow_irreversible=True))
    assert done['changed'] is True and done['changes'][0]['irreversible'] is True


def test_the_drift_finding_says_the_prediction_is_unsourced():
    vault = {'id': 'x', 'name': 'rsv-1', 'vault_type': 'recovery_services', 'immutability': 'locked',
             'policies': [normalise_policy(iaas('vm', instant=2, daily=(30, 'Days')), RS)]}
    baseline = {'minimum': {'instant': '5d'}, 'mode': 'enforce', 'allow_irreversible': False}
    findings, _policies, changes = RETENTION.evaluate(vault, {'retention': baseline, 'allow_irreversible': False}, {'mua': False})
    assert changes == []
    assert len(findings) == 1 and findings[0]['irreversible'] is True
    assert 'unsourced (assumed)' in findings[0]['reason'] and 'treated as held by immutability' in findings[0]['reason']
