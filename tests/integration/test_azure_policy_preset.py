# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The azure_policy baseline preset through the role (issue 27): on a fleet with random security settings, a run with
the preset and consent leaves every vault compliant with each definition a baseline can satisfy (immutability, soft
delete, cross subscription restore, public network access), except vaults with a finding that says why not; without
consent the run is not refused, writes no irreversible value, and the irreversible targets are findings naming
harden_backup_vaults_allow_irreversible.

The run without consent, the run with it and the check run after it are steps of one ansible-playbook run (issue 24;
role_steps.play_role_steps), each with its own requests and reports."""

from __future__ import annotations

import json

from tests.integration.role_steps import play_role_steps, step
from tests.integration.test_azure_policy import policy_fleet

# The definitions a PATCH can satisfy, and the setting of a finding that explains a vault still failing one.
FIXABLE = {'d6f6f560-14b7-49a4-9fc8-d2c3a9807868': 'immutability', '2514263b-bc0d-4b06-ac3e-f262c0979018': 'immutability',
           '31b8092a-36b8-434b-9af7-5ec844364148': 'soft_delete', '9798d31d-6028-4dee-8643-46102185c016': 'soft_delete',
           'f19b0c83-716f-4b81-85e3-2dbf057c35d6': 'cross_subscription_restore',
           '4d479a11-f2b5-4f0a-bb1e-d2332aa95cda': 'cross_subscription_restore',
           '9ebbbba3-4d65-4da9-bb67-b22cfaaff090': 'public_network_access', '04726aae-4e8d-427c-af7d-ecf56d490022': 'public_network_access'}
RELAXED = {'max_retention': None, 'require_soft_delete': None, 'require_mua': False, 'no_unfixable_findings': False}


def test_the_preset_with_consent_satisfies_what_a_baseline_can_and_says_why_not_elsewhere(runner, emulator):
    fleet, _vaults = policy_fleet(2728, per_group=4)
    emulator.load_fleet(fleet)
    common = {'harden_backup_vaults_baseline_preset': 'azure_policy', 'harden_backup_vaults_discovery': 'arm',
              'harden_backup_vaults_lock_requirements': RELAXED, 'harden_backup_vaults_retention_minimum': {},
              'harden_backup_vaults_fail_on_error': False, 'harden_backup_vaults_subscription_ids': ['all']}
    emulator.clear_journal()
    _run, steps = play_role_steps(runner, [
        step('no_consent', **common),
        step('apply', harden_backup_vaults_allow_irreversible=True, **common),
        step('recheck', check=True, harden_backup_vaults_allow_irreversible=True, **common),
    ])

    # Without consent: not refused, nothing irreversible written, the irreversible targets named as findings.
    result = steps['no_consent']
    assert result.failed is None, result.output
    report = result.report
    written = json.dumps([e.get('body') for e in result.writes])
    assert 'Locked' not in written and 'AlwaysOn' not in written
    assert report['baseline']['immutability'] == 'locked' and report['baseline']['soft_delete']['state'] == 'always_on'
    named = [f for v in report['vaults'] for f in v['findings'] if f['setting'] == 'immutability' and f['have'] != 'locked']
    assert named and all(f['option'] == 'allow_irreversible: true' for f in named)

    # With consent: applied, then judged again from a fresh read.
    assert steps['apply'].failed is None, steps['apply'].output
    assert steps['recheck'].failed is None, steps['recheck'].output
    report = steps['recheck'].report
    rows = dict((row['name'], row) for row in report['azure_policy']['definitions'])
    by_id = dict((v['id'].lower(), v) for v in report['vaults'])
    fixed = 0
    for name, setting in FIXABLE.items():
        row = rows[name]
        assert row['evaluated'], name
        fixed += row['vaults'] - len(row['non_compliant'])
        for vault_id in row['non_compliant']:
            vault = by_id[vault_id.lower()]
            why = [f for f in vault['findings'] if f['setting'] == setting and not f['fixable']]
            # A Modify definition asks for its parameter exactly: with Disabled it flags a PermanentlyDisabled vault, which
            # no write can change (the baseline's disabled is met by it, and its posture says so).
            beyond = setting == 'cross_subscription_restore' and vault['posture'][setting]['state'] == 'permanently_disabled'
            assert (why and why[0]['reason']) or beyond, (name, vault_id, vault['findings'], vault['posture'].get(setting))
    assert fixed > 0
