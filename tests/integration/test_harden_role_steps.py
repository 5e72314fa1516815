# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harden_backup_vaults role applies what may be fixed and a second check finds only the drift it cannot fix: both
steps as blocks of one ansible-playbook run (tests/integration/role_steps.py). The fleet and the expected findings are
test_harden_role.py's."""

from __future__ import annotations

import pytest

from tests.integration.fleets import RG, SUB1, SUB2, vault_id
from tests.integration.role_steps import play_role_steps, step
from tests.integration.test_harden_role import drift  # pylint: disable=unused-import  # noqa: F401 (a fixture)
from tests.integration.test_harden_role import ENFORCE_ALL, FIXABLE, UNFIXABLE, check_reports, findings, immutability, policy_retention


@pytest.mark.usefixtures('drift')
def test_apply_fixes_what_may_be_fixed_and_a_second_check_finds_only_unfixable_drift(runner, emulator):
    _run, steps = play_role_steps(runner, [step('apply', **ENFORCE_ALL), step('again', check=True, diff=True, **ENFORCE_ALL)])
    run = steps['apply']
    assert run.failed is None, run.output
    report = check_reports(run)
    assert report['check_mode'] is False
    assert findings(report, resolved=True) == FIXABLE
    assert findings(report, resolved=False) == UNFIXABLE
    assert report['summary']['fixable'] == 0 and report['summary']['errors'] == 0
    assert run.vault('rsv-unset')['status'] == 'fixed' and run.vault('rsv-locked')['status'] == 'compliant'
    again = steps['again']
    assert again.writes == []       # so the emulator holds what the apply step left
    for name, kind, sub, rg in (('rsv-unset', 'recovery_services', SUB1, RG), ('rsv-guarded', 'recovery_services', SUB1, RG),
                                ('bv-disabled', 'backup', SUB1, RG), ('bv-two', 'backup', SUB2, 'rg-two')):
        assert immutability(emulator, name, kind, sub, rg) == 'Unlocked', name
    assert immutability(emulator, 'rsv-locked') == 'Locked'
    sql = policy_retention(emulator, 'rsv-weak', 'SQLWeak')
    full = [p for p in sql['subProtectionPolicy'] if p['policyType'] == 'Full'][0]
    assert full['retentionPolicy']['dailySchedule']['retentionDuration'] == {'count': 30, 'durationType': 'Days'}
    # Azure updates no Backup vault policy: the weak disk policy keeps its 7 days, and no policy PUT went to a Backup vault.
    disk = policy_retention(emulator, 'bv-disabled', 'DiskWeak', 'backup')
    assert [r for r in disk['policyRules'] if r['name'] == 'Default'][0]['lifecycles'][0]['deleteAfter']['duration'] == 'P7D'
    assert not [e for e in run.writes if '/backupvaults/' in e['path'].lower() and '/backuppolicies/' in e['path'].lower()]
    assert emulator.resource(vault_id('bv-short', 'backup'))['properties']['securitySettings']['softDeleteSettings'] == {
        'state': 'On', 'retentionDurationInDays': 30.0}

    assert again.failed is None, again.output
    report = check_reports(again)
    assert findings(report) == UNFIXABLE
    assert report['summary']['fixable'] == 0 and report['changed'] == []
