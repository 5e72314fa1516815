# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Policy verdicts of vaults whose bodies the role cannot read, through `harden_backup_vaults` against the emulator.

A Recovery Services vault whose soft delete days are not a whole number and a Backup vault whose immutability state the
rules have never seen are errors of the run; Azure Policy judges their bodies all the same, so drift.json's azure_policy
section must list them as the tests' evaluator (tests/unit/policy_oracle.py) does, through ARM and Resource Graph, in
check mode. Before, they were in no definition's verdict (neither counted nor non-compliant)."""

from __future__ import annotations

from tests.integration.fleets import RG, SUB1, vault_id
from tests.integration.role_steps import play_role_steps, step
from tests.integration.test_azure_policy import DEFAULTS, expected, oracle, reported, stored


def _fleet():
    rng = oracle.random_rng(3303)
    entries, vaults = [], []
    for index in range(4):
        kind = 'recovery_services' if index % 2 == 0 else 'backup'
        name = '%s-odd-%d' % ('rsv' if kind == 'recovery_services' else 'bv', index)
        arm_id = vault_id(name, kind, SUB1, RG)
        body = oracle.random_body(kind, name, arm_id, rng)
        security = body['properties']['securitySettings']
        if index == 0:
            # Locked, AlwaysON, public network access on: only the days are odd.
            security['immutabilitySettings'] = {'state': 'Locked'}
            security['softDeleteSettings'] = {'softDeleteState': 'AlwaysON', 'softDeleteRetentionPeriodInDays': 14.5,
                                              'enhancedSecurityState': 'AlwaysON'}
            body['properties']['publicNetworkAccess'] = 'Enabled'
        elif index == 1:
            security['immutabilitySettings'] = {'state': 'Enabled'}
            security['softDeleteSettings'] = {'state': 'AlwaysOn', 'retentionDurationInDays': 14.0}
        entries.append({'name': name, 'type': kind, 'body': body})
        vaults.append((kind, arm_id))
    fleet = {'subscriptions': [{'id': SUB1, 'display_name': 'policy-odd', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': entries}]}]}
    return fleet, vaults


def test_vaults_the_role_cannot_read_are_judged_by_azure_policy_as_read(runner, emulator):
    fleet, vaults = _fleet()
    emulator.load_fleet(fleet)
    bodies = stored(emulator, vaults)
    emulator.clear_journal()
    common = {'harden_backup_vaults_subscription_ids': [SUB1], 'harden_backup_vaults_fail_on_error': False}
    _run, steps = play_role_steps(runner, [
        step('arm', check=True, harden_backup_vaults_discovery='arm', **common),
        step('graph', check=True, harden_backup_vaults_discovery='resource_graph', **common),
    ])
    want = expected(bodies, DEFAULTS)
    odd = [vaults[0][1], vaults[1][1]]
    for name in ('arm', 'graph'):
        result = steps[name]
        assert result.failed is None, result.output
        assert result.writes == []
        report = result.report
        # Both odd vaults are errors of the run, and judged.
        unread = [error['scope'].lower() for error in report['errors']]
        assert all(arm_id.lower() in unread for arm_id in odd), (name, report['errors'])
        assert reported(report) == want, name
        rows = dict((row['name'], row) for row in report['azure_policy']['definitions'])
        assert vaults[0][1] in rows['9ebbbba3-4d65-4da9-bb67-b22cfaaff090']['non_compliant']
        assert vaults[1][1] in rows['2514263b-bc0d-4b06-ac3e-f262c0979018']['non_compliant']
        assert rows['2514263b-bc0d-4b06-ac3e-f262c0979018']['vaults'] == 2
