# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harden_backup_vaults role with a locked baseline, check mode, apply and check again as steps of one
ansible-playbook run (tests/integration/role_steps.py): it locks exactly the ready vaults, predicts exactly that in
check mode (no write), and names each blocker in its reports. The fleet, the baseline and the expected readiness are
test_lock_readiness.py's."""

from __future__ import annotations

import json

from tests.integration.fleets import SUB2
from tests.integration.role_steps import play_role_steps, step
from tests.integration.test_harden_role import check_reports, immutability
from tests.integration.test_lock_readiness import BLOCKERS, LOCKED_BASELINE, READY, fleet  # pylint: disable=unused-import  # noqa: F401 (an autouse fixture)


def test_the_role_locks_exactly_the_ready_vaults_and_check_mode_predicts_it(runner, emulator):
    _run, steps = play_role_steps(runner, [step('check', check=True, diff=True, **LOCKED_BASELINE),
                                           step('apply', **LOCKED_BASELINE),
                                           step('again', check=True, **LOCKED_BASELINE)])
    check = steps['check']
    assert check.failed is not None, check.output     # the unreadable item list is an error, and fail_on_error is on
    assert check.writes == []
    report = check_reports(check)
    assert report['check_mode'] is True
    rows = {row['name']: row for row in report['lock_readiness']}
    assert set(rows) == READY | set(BLOCKERS)     # rsv-locked needs no decision
    assert {name for name, row in rows.items() if row['status'] == 'would lock'} == READY
    for name, requirements in BLOCKERS.items():
        assert rows[name]['status'] == 'not ready' and [b['requirement'] for b in rows[name]['blockers']] == requirements, rows[name]
    predicted = {c['name'] for c in report['changed'] for x in c['changes'] if x['after'] == 'locked'}
    assert predicted == READY
    # Not ready: the immutability finding says why, and is not fixable here.
    for name in BLOCKERS:
        (finding,) = [f for f in check.vault(name)['findings'] if f['setting'] == 'immutability']
        assert finding['fixable'] is False and finding['reason'].startswith('not ready: '), finding
    assert check.vault('rsv-softoff')['actions']['immutability'] == 'enabled'
    # The Markdown report names each blocker.
    section = check.markdown.split('## Lock readiness', 1)[1]
    assert '7 vaults the baseline would lock: 2 ready, 5 not ready (never locked).' in section
    for text in ('max\\_retention P10Y: policy VMLong keeps its yearly tier P20Y', 'max\\_retention P10Y: policy PostgresLong keeps its default tier P20Y',
                 'require\\_soft\\_delete on: soft delete is off', 'no\\_unfixable\\_findings: 1 finding this run cannot fix: retention VMWeekly/daily',
                 "the vault's protected items could not be read"):
        assert text in section, text
    assert 'IRREVERSIBLE' in check.output and '(IRREVERSIBLE)' in check.output
    # The check step's summary says Check, as under --check (the role reads check mode from its planning task).
    assert 'Check: ' in check.output and 'Apply: ' not in check.output

    applied = steps['apply']
    assert applied.failed is not None, applied.output
    assert 'Apply: ' in applied.output
    again = steps['again']
    # The last step wrote nothing, so the emulator holds what the apply step left.
    assert again.writes == []
    states = {name: immutability(emulator, name, kind)
              for name, kind in (('rsv-ready', 'recovery_services'), ('rsv-long', 'recovery_services'), ('rsv-softoff', 'recovery_services'),
                                 ('rsv-weekly', 'recovery_services'), ('rsv-denied', 'recovery_services'),
                                 ('rsv-locked', 'recovery_services'), ('bv-ready', 'backup'))}
    states['bv-long'] = immutability(emulator, 'bv-long', 'backup', SUB2, 'rg-two')
    assert {name for name, state in states.items() if state == 'Locked'} == READY | {'rsv-locked'}
    assert {name: states[name] for name in BLOCKERS} == dict.fromkeys(BLOCKERS, 'Unlocked')
    locks = [w for w in applied.writes if 'Locked' in json.dumps(w.get('body') or {})]
    assert {w['path'].rsplit('/', 1)[-1] for w in locks} == READY
    report = check_reports(applied)
    assert report['check_mode'] is False
    assert {row['name']: row['status'] for row in report['lock_readiness']} == dict(
        dict.fromkeys(READY, 'locked'), **dict.fromkeys(BLOCKERS, 'not ready'))

    # What check mode predicted is what the run changed.
    def changes(doc):
        return sorted((c['name'], sorted((x['setting'], str(x['before']), str(x['after'])) for x in c['changes'])) for c in doc['changed'])
    assert changes(report) == changes(check.report)

    rows = {row['name']: row for row in again.report['lock_readiness']}
    # The locked vaults need no decision any more; rsv-softoff has soft delete on now, so the next run locks it.
    assert set(rows) == set(BLOCKERS) and rows['rsv-softoff']['status'] == 'would lock'
