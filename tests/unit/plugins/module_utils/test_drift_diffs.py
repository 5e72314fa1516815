# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check-mode drift without per-vault module runs: diffs from the drift, and predicted changes in the report."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import compute_drift, drift_diffs
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report
from tests.unit.builders import SUB


def vault(name, immutability, policies=None, soft='on'):
    return {'id': '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/%s' % (SUB, name), 'name': name,
            'resource_group': 'rg', 'subscription_id': SUB, 'location': 'westeurope', 'vault_type': 'recovery_services',
            'immutability': immutability, 'immutability_retention_days': None, 'soft_delete': {'state': soft, 'retention_days': 14},
            'mua': {'protected': False, 'resource_guard_id': None}, 'tags': {}, 'policies': policies or []}


def weak_policy():
    return {'name': 'Weak', 'id': 'p', 'vault_type': 'recovery_services', 'workload': 'AzureIaasVM', 'workload_type': None,
            'policy_type': 'V1', 'unknown': False, 'unreadable': [], 'protected_items': 1,
            'tiers': [{'tier': 'daily', 'sub_policy': None, 'datastore': None, 'duration': 'P7D', 'count': 7, 'unit': 'days', 'days': 7}]}


BASELINE = {'immutability': 'enabled', 'allow_irreversible': False,
            'retention': {'minimum': {'daily': '30d'}, 'mode': 'enforce'}, 'soft_delete': None}


def test_one_diff_per_drifting_vault_with_have_and_want():
    drift = compute_drift([vault('a', 'disabled'), vault('b', 'enabled'), vault('c', 'locked')],
                          dict(BASELINE, immutability='disabled'))
    diffs = drift_diffs(drift)
    assert [d['before_header'].split(' ')[0] for d in diffs] == ['b', 'c']
    by_name = {d['before_header'].split(' ')[0]: d for d in diffs}
    assert by_name['b']['before'] == 'immutability: enabled\n' and by_name['b']['after'] == 'immutability: disabled\n'
    # A locked vault cannot be disabled: listed as not fixable, the same before and after.
    assert 'not fixable:' in by_name['c']['before'] and by_name['c']['before'] == by_name['c']['after']


def test_retention_and_immutability_in_one_diff():
    diffs = drift_diffs(compute_drift([vault('a', 'disabled', [weak_policy()])], BASELINE))
    assert diffs[0]['before'] == 'immutability: disabled\nretention Weak/daily: P7D\n'
    assert diffs[0]['after'] == 'immutability: enabled\nretention Weak/daily: P30D\n'


def test_check_report_predicts_changes_when_no_module_ran():
    drift = compute_drift([vault('a', 'disabled', [weak_policy()]), vault('b', 'enabled')], BASELINE)
    report = build_report(drift, {'check_mode': True, 'baseline': BASELINE, 'predict': True})
    assert build_report(drift, {'check_mode': True, 'baseline': BASELINE})['changed'] == []
    assert [c['name'] for c in report['changed']] == ['a']
    # In the order a run makes them: retention first, immutability last (a locked vault's retention could never be lowered).
    assert report['changed'][0]['changes'] == [
        {'action': 'retention', 'setting': 'retention', 'policy': 'Weak', 'tier': 'daily', 'sub_policy': None, 'datastore': None,
         'before': 'P7D', 'after': 'P30D', 'irreversible': False},
        {'action': 'immutability', 'setting': 'immutability', 'policy': None, 'tier': None, 'sub_policy': None, 'datastore': None,
         'before': 'disabled', 'after': 'enabled', 'irreversible': False},
    ]


def test_report_mode_does_not_predict_retention_changes():
    drift = compute_drift([vault('a', 'enabled', [weak_policy()])], dict(BASELINE, retention={'minimum': {'daily': '30d'}, 'mode': 'report'}))
    report = build_report(drift, {'check_mode': True, 'predict': True})
    assert report['changed'] == []
    assert report['summary']['drifting'] == 1


def test_control_characters_are_escaped_in_headers_keys_and_values():
    """A vault, resource group or policy name with a terminal escape or a line break was written raw into the diff, which
    Ansible prints to the terminal: it could recolour or retitle the terminal and forge lines of the diff. Shown escaped,
    as the error messages show such values; the reports drop them."""
    hostile = vault('rsv\x1b]0;owned\x07\nimmutability: locked', 'disabled', [dict(weak_policy(), name='Weak\r\n\x9b31mred\u2028')])
    hostile['resource_group'] = 'rg\x1b[2J'
    hostile['tier'] = 'gold\n'
    drift = compute_drift([hostile], BASELINE)
    (diff,) = drift_diffs(drift)
    text = ''.join(diff[key] for key in ('before_header', 'after_header', 'before', 'after'))
    assert not [char for char in text if char != '\n' and (ord(char) < 32 or 0x7f <= ord(char) <= 0x9f or char in '\u2028\u2029')]
    assert diff['before_header'].startswith('rsv\\x1b]0;owned\\x07\\nimmutability: locked (recovery_services, %s/rg\\x1b[2J' % SUB)
    assert 'retention Weak\\r\\n\\x9b31mred\\u2028/daily: P7D' in diff['before']
    # Each diff line is one key: no line was forged.
    assert [line.split(':')[0] for line in diff['after'].splitlines()] == ['immutability', 'retention Weak\\r\\n\\x9b31mred\\u2028/daily']
