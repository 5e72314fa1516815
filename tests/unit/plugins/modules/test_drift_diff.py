# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift_diff action in process: its diffs and counts come from the drift entries' planned changes."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.action.drift_diff import ActionModule
from ansible_collections.vaultlock.azure.plugins.module_utils._drift import compute_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record

from tests.unit.builders import BV, arm_vault


def drift(baseline):
    vaults = [vault_record(arm_vault('rsv-open', soft_delete='on'), 'recovery_services'),
              vault_record(arm_vault('rsv-locked', immutability='locked', soft_delete='on'), 'recovery_services'),
              vault_record(arm_vault('bv-clean', BV, immutability='enabled', soft_delete='on'), BV)]
    return compute_drift(vaults, baseline)


def test_diffs_and_counts_come_from_the_planned_changes(action):
    entries = drift({'immutability': 'locked', 'allow_irreversible': True})
    result = action(ActionModule, {'drift': entries}).run(task_vars={})
    assert result['changed'] is True and result['drifting'] == 2 and result['vaults_to_change'] == 2
    by_vault = {d['before_header'].split(' ')[0]: d for d in result['diff']}
    assert 'immutability (IRREVERSIBLE): disabled' in by_vault['rsv-open']['before']
    assert 'immutability (IRREVERSIBLE): locked' in by_vault['rsv-open']['after']
    assert 'IRREVERSIBLE: immutability' in by_vault['rsv-open']['after_header']
    assert result['msg'] == '2 of 3 vaults drift; a run would change 2'


def test_what_cannot_be_fixed_is_shown_and_changes_nothing(action):
    entries = drift({'immutability': 'disabled'})
    result = action(ActionModule, {'drift': entries}).run(task_vars={})
    locked = [d for d in result['diff'] if d['before_header'].startswith('rsv-locked')][0]
    assert 'not fixable' in locked['before'] and locked['before'] == locked['after']
    assert result['vaults_to_change'] == 1 and result['changed'] is True


def test_a_compliant_fleet_changes_nothing(action):
    entries = drift({'immutability': 'enabled'})
    entries = [e for e in entries if e['name'] == 'bv-clean']
    result = action(ActionModule, {'drift': entries}).run(task_vars={})
    assert result['changed'] is False and result['diff'] == [] and result['vaults_to_change'] == 0


def test_anything_but_a_drift_list_is_refused(action):
    result = action(ActionModule, {'drift': 'nope'}).run(task_vars={})
    assert result['failed'] is True and 'vault_drift filter' in result['msg'] and 'exception' not in result


@pytest.mark.parametrize('entries, words', [
    # Vault records not passed through vault_drift: "0 of 3 vaults drift", a fleet without drift.
    ([vault_record(arm_vault('rsv-open'), 'recovery_services')], 'drift[0] (/subscriptions/'),
    ([{}], 'drift[0] (no id) is not a drift entry: it has no drift true or false'),
    ([{'drift': 'yes', 'name': 'v'}], 'drift[0] (v) is not a drift entry'),
    # Malformed drift entries: an AttributeError (a traceback) before.
    ([{'drift': True, 'findings': 'x'}], 'drift[0].findings must be a list of dictionaries (as vault_drift makes it), got str'),
    ([{'drift': True, 'findings': [None]}], 'drift[0].findings must be a list of dictionaries'),
    ([{'drift': True, 'changes': [None]}], 'drift[0].changes must be a list of dictionaries'),
    ([{'drift': True, 'changes': 'x', 'actions': {'immutability': 'locked'}}], 'drift[0].changes must be a list'),
    ([{'drift': True, 'actions': 'x'}], 'drift[0].actions must be a dictionary'),
    ([None], 'drift[0] must be a drift entry (a dictionary from the vaultlock.azure.vault_drift filter), got NoneType'),
    # Findings cut off (a truncated list): shown as a vault with nothing to say before.
    ([{'drift': True, 'id': 'v', 'findings': []}], 'drift[0] (v) says drift true but lists no finding'),
])
def test_entries_that_are_not_vault_drift_entries_are_refused(action, entries, words):
    result = action(ActionModule, {'drift': entries}).run(task_vars={})
    assert result['failed'] is True and words in result['msg'] and 'exception' not in result
