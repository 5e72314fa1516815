# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Losing read access does not shrink the scope quietly: runs of the collection playbook on one report directory, with
read access to a subscription taken from the identity between them (the emulator's ``revoked`` setting), and a vault
deleted. Before (a hostile-operator pass), the second run read one subscription fewer, its reports and drift gate left
that subscription's vaults out, and it ended green."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.integration.fleets import RG, SUB1, SUB2, vault, vault_id
from tests.integration.test_harden_role import Harden, check_reports

GONE = vault_id('rsv-gone')
LOST = sorted([vault_id('rsv-two', sub=SUB2, rg='rg-two'), vault_id('bv-two', 'backup', sub=SUB2, rg='rg-two')])
VARIABLES = {'harden_backup_vaults_subscription_ids': ['all'], 'harden_backup_vaults_immutability': 'enabled',
             'harden_backup_vaults_retention_minimum': {}, 'harden_backup_vaults_soft_delete': {}}


def fleet(with_gone=True):
    first = [vault('rsv-a', 'recovery_services', 'disabled')] + ([vault('rsv-gone', 'recovery_services', 'disabled')] if with_gone else [])
    return {'subscriptions': [
        {'id': SUB1, 'display_name': 'one', 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': first}]},
        {'id': SUB2, 'display_name': 'two', 'resource_groups': [
            {'name': 'rg-two', 'location': 'westeurope',
             'vaults': [vault('rsv-two', 'recovery_services', 'disabled'), vault('bv-two', 'backup', 'disabled')]}]}]}


@pytest.fixture
def harden(runner, tmp_path):
    return Harden(runner, tmp_path)


def _state(emulator, arm_id):
    body = emulator.resource(arm_id)
    return ((body['properties'].get('securitySettings') or {}).get('immutabilitySettings') or {}).get('state')


def test_read_access_taken_from_a_subscription_fails_the_next_run_naming_its_vaults_with_zero_writes(emulator, harden, tmp_path):
    emulator.load_fleet(fleet())
    report_dir = str(tmp_path / 'reports')
    first = harden('--check', harden_backup_vaults_report_dir=report_dir, **VARIABLES)
    assert first.rc == 0, first.output[-3000:]
    assert len(first.report['vaults']) == 4
    assert 'scope_changes' not in first.report          # no previous report: nothing to compare

    # Between the runs: an insider takes the identity's read access to the second subscription; a vault is deleted.
    emulator.load_fleet(fleet(with_gone=False))
    emulator.settings(revoked=['/subscriptions/%s' % SUB2])
    emulator.clear_journal()
    second = harden(harden_backup_vaults_report_dir=report_dir, **VARIABLES)
    assert second.rc != 0
    assert 'The scope of the run shrank' in second.output
    for arm_id in LOST:
        assert arm_id in second.output
    assert emulator.writes() == []
    assert _state(emulator, vault_id('rsv-a')) == 'Disabled'
    # Each lost vault was asked for by id, and ARM refused: 403 AuthorizationFailed.
    asked = [entry for entry in emulator.journal() if entry['method'] == 'GET' and entry['path'].lower() in [i.lower() for i in LOST]]
    assert sorted(entry['status'] for entry in asked) == [403, 403]
    report = check_reports(second)
    changes = report['scope_changes']
    assert changes['accepted'] is False and changes['previous_report']['vaults'] == 4
    assert sorted(v['id'] for v in changes['left'] if v['reason'] == 'unreadable') == LOST
    assert [v['id'] for v in changes['left'] if v['reason'] == 'gone'] == [GONE]
    assert changes['subscriptions_left'] == [SUB2]
    assert any('can no longer be read by this identity' in e['message'] for e in report['errors'])
    assert any('gone from Azure' in w and GONE in w for w in report['warnings'])
    # The deleted vault is a warning, never an error.
    assert not any(GONE in e['message'] and 'can no longer be read' not in e['message'] for e in report['errors'])
    assert all(GONE not in e['message'] for e in report['errors'])
    assert '## Left the scope' in second.markdown and 'no longer readable by this identity' in second.markdown
    for name in ('drift.html', 'drift.sarif', 'drift.junit.xml'):
        text = (second.report_dir / name).read_text()
        assert 'rsv-two' in text and 'rsv-gone' in text, name

    # Run again without the option: the lost vaults are still in the record (the failed run did not accept them).
    third = harden('--check', harden_backup_vaults_report_dir=report_dir, **VARIABLES)
    assert third.rc != 0 and all(arm_id in third.output for arm_id in LOST)

    # With the option, written for the run: the run passes and changes the vaults it can read; the reports name the others.
    emulator.clear_journal()
    fourth = harden(harden_backup_vaults_report_dir=report_dir, harden_backup_vaults_allow_scope_loss=True, **VARIABLES)
    assert fourth.rc == 0, fourth.output[-3000:]
    assert _state(emulator, vault_id('rsv-a')) == 'Unlocked'
    assert all('/rsv-a' in write['path'] for write in emulator.writes())
    report = check_reports(fourth)
    assert report['scope_changes']['accepted'] is True
    assert sorted(v['id'] for v in report['scope_changes']['left']) == LOST
    assert any('no longer readable by this identity' in w and all(i in w for i in LOST) for w in report['warnings'])
    assert not any('can no longer be read' in e['message'] for e in report['errors'])

    # The smaller scope accepted, the next run compares with it: nothing left, nothing failed.
    fifth = harden('--check', harden_backup_vaults_report_dir=report_dir, **VARIABLES)
    assert fifth.rc == 0, fifth.output[-3000:]
    assert fifth.report['scope_changes']['left'] == []


def test_the_option_from_the_inventory_is_refused_before_any_request(emulator, harden, tmp_path):
    emulator.load_fleet(fleet())
    inventory = tmp_path / 'inventory'
    (inventory / 'group_vars').mkdir(parents=True)
    (inventory / 'hosts.yml').write_text('all:\n  hosts:\n    localhost:\n      ansible_connection: local\n')
    (inventory / 'group_vars' / 'all.yml').write_text('harden_backup_vaults_allow_scope_loss: true\n')
    emulator.clear_journal()
    run = harden('--check', '-i', str(inventory / 'hosts.yml'), harden_backup_vaults_report_dir=str(tmp_path / 'r'), **VARIABLES)
    assert run.rc != 0
    assert 'harden_backup_vaults_allow_scope_loss: true comes from the inventory' in run.output, run.output[-3000:]
    assert emulator.journal() == []


def test_a_resource_group_taken_away_under_resource_graph_is_a_scope_error_too(emulator, harden, tmp_path):
    emulator.load_fleet(fleet())
    report_dir = str(tmp_path / 'reports')
    variables = dict(VARIABLES, harden_backup_vaults_subscription_ids=[SUB1, SUB2], harden_backup_vaults_discovery='resource_graph')
    first = harden('--check', harden_backup_vaults_report_dir=report_dir, **variables)
    assert first.rc == 0, first.output[-3000:]
    emulator.settings(revoked=['/subscriptions/%s/resourceGroups/rg-two' % SUB2])
    second = harden('--check', harden_backup_vaults_report_dir=report_dir, **variables)
    assert second.rc != 0
    assert sorted(v['id'] for v in second.report['scope_changes']['left']) == LOST
    assert emulator.writes() == []


def test_a_vault_resource_graph_does_not_list_yet_is_read_from_arm_and_judged(emulator, harden, tmp_path):
    emulator.load_fleet(fleet())
    report_dir = str(tmp_path / 'reports')
    first = harden('--check', harden_backup_vaults_report_dir=report_dir, **VARIABLES)
    assert first.rc == 0, first.output[-3000:]
    # rsv-a is in ARM, but Resource Graph's index does not hold it yet (it came back after a move, say): a lag of an hour.
    without = fleet()
    without['subscriptions'][0]['resource_groups'][0]['vaults'] = [vault('rsv-gone', 'recovery_services', 'disabled')]
    emulator.load_fleet(without)
    emulator.settings(graph_lag_s=3600)
    emulator.load_fleet(fleet(), lagged=True)
    rows = emulator.graph_query("resources | where type =~ 'microsoft.recoveryservices/vaults' | project id").json()['data']
    assert vault_id('rsv-a').lower() not in [row['id'].lower() for row in rows]
    second = harden('--check', harden_backup_vaults_report_dir=report_dir, harden_backup_vaults_fail_on_drift=True, **VARIABLES)
    # Judged: it drifts (immutability disabled), so the gate fails for it, as it did in the first run.
    assert second.rc != 0 and 'vaults drift from the baseline' in second.output, second.output[-3000:]
    report = check_reports(second)
    assert vault_id('rsv-a') in [v['id'] for v in report['vaults'] if v['drift']]
    assert [v['id'] for v in report['scope_changes']['read_again']] == [vault_id('rsv-a')]
    assert report['scope_changes']['left'] == []
    assert any('read from ARM and judged' in w and vault_id('rsv-a') in w for w in report['warnings'])
    assert emulator.writes() == []


# More vaults than a principal's read bucket holds (ARM: 250, refilled at 25 a second).
MANY = 300


def wide_fleet():
    """fleet() with MANY more Recovery Services vaults in the second subscription."""
    doc = fleet(with_gone=False)
    doc['subscriptions'][1]['resource_groups'][0]['vaults'] += [vault('rsv-many-%03d' % index, 'recovery_services', 'disabled')
                                                                for index in range(MANY)]
    return doc


def test_a_scope_loss_larger_than_the_read_bucket_is_paced_with_the_discovery_and_counted(emulator, harden, tmp_path):
    """The GETs of the vaults that left go through the run's one pacer (ARM's buckets per subscription and principal):
    under Azure's throttling, more lost vaults than the burst draw no 429, and the run's read figures count them. Before,
    each subscription's GETs had a session and a pacer of their own, and the figures left them out."""
    emulator.load_fleet(wide_fleet())
    report_dir = str(tmp_path / 'reports')
    first = harden('--check', harden_backup_vaults_report_dir=report_dir, **VARIABLES)
    assert first.rc == 0, first.output[-3000:]
    assert len(first.report['vaults']) == MANY + 3
    emulator.settings(revoked=['/subscriptions/%s' % SUB2], throttle='azure')
    emulator.clear_journal()
    second = harden('--check', harden_backup_vaults_report_dir=report_dir, **VARIABLES)
    assert second.rc != 0 and 'The scope of the run shrank' in second.output, second.output[-3000:]
    journal = emulator.journal()
    assert [entry['path'] for entry in journal if entry['status'] == 429] == []
    asked = [entry for entry in journal if entry['method'] == 'GET' and '/subscriptions/%s/' % SUB2 in entry['path']]
    assert len(asked) == MANY + 2 and {entry['status'] for entry in asked} == {403}
    report = check_reports(second)
    assert len([vault for vault in report['scope_changes']['left'] if vault['reason'] == 'unreadable']) == MANY + 2
    arm = report['discovery']['arm']
    # Every ARM read of the run (the subscription list, SUB1's reads and the lost vaults' GETs), each once; no 429.
    arm_reads = [entry for entry in journal if entry['method'] == 'GET' and entry['path'].startswith('/subscriptions/')]
    assert arm['throttled'] == 0 and arm['requests'] == len(arm_reads), (arm, len(arm_reads))
    assert arm['waited_s'] > 0


def listed(*arm_ids):
    """harden_backup_vaults_vaults naming these vaults, without discovery."""
    return {'harden_backup_vaults_discover': False, 'harden_backup_vaults_vaults': [{'id': arm_id} for arm_id in arm_ids]}


def test_listed_vaults_compare_with_the_previous_report_a_vault_taken_off_the_list_is_no_loss(emulator, harden, tmp_path):
    """discover false: the previous scope is the previous report's vaults that this run lists again. A listed vault this
    identity can no longer read is a scope error (zero writes); one taken off the list is not asked for, whatever ARM would
    answer. Before, a run without discovery was not compared: the unreadable vault was an error of its own and the run
    changed the others."""
    emulator.load_fleet(fleet())
    report_dir = str(tmp_path / 'reports')
    variables = dict(VARIABLES, harden_backup_vaults_fail_on_error=False)
    rsv_two, bv_two = vault_id('rsv-two', sub=SUB2, rg='rg-two'), vault_id('bv-two', 'backup', sub=SUB2, rg='rg-two')
    first = harden('--check', harden_backup_vaults_report_dir=report_dir, **dict(variables, **listed(vault_id('rsv-a'), GONE, rsv_two, bv_two)))
    assert first.rc == 0, first.output[-3000:]
    assert len(first.report['vaults']) == 4 and 'scope_changes' not in first.report

    # bv-two is taken off the list on purpose; rsv-two's subscription is revoked; rsv-gone is deleted.
    emulator.load_fleet(fleet(with_gone=False))
    emulator.settings(revoked=['/subscriptions/%s' % SUB2])
    emulator.clear_journal()
    second = harden(harden_backup_vaults_report_dir=report_dir, **dict(variables, **listed(vault_id('rsv-a'), GONE, rsv_two)))
    assert second.rc != 0 and 'The scope of the run shrank' in second.output, second.output[-3000:]
    assert emulator.writes() == []
    assert _state(emulator, vault_id('rsv-a')) == 'Disabled'
    assert not any(entry['path'].lower() == bv_two.lower() for entry in emulator.journal())
    report = check_reports(second)
    changes = report['scope_changes']
    assert changes['accepted'] is False and changes['previous_report']['vaults'] == 4
    assert [(v['id'], v['reason']) for v in changes['left']] == [(rsv_two, 'unreadable'), (GONE, 'gone')]
    assert changes['subscriptions_left'] == [] and changes['read_again'] == []
    # Each listed vault was asked for once (the listed read), not again for the comparison.
    asked = [entry['path'].lower() for entry in emulator.journal() if entry['method'] == 'GET' and entry['path'].lower() in (rsv_two.lower(), GONE.lower())]
    assert sorted(asked) == sorted([rsv_two.lower(), GONE.lower()])
    assert any('can no longer be read by this identity' in e['message'] and rsv_two in e['message'] for e in report['errors'])
    assert not any(bv_two in text for text in [e['message'] for e in report['errors']] + report['warnings'])

    # Taken off the list too, the unreadable vault is no loss: the run changes what it lists.
    third = harden(harden_backup_vaults_report_dir=report_dir, **dict(variables, **listed(vault_id('rsv-a'))))
    assert third.rc == 0, third.output[-3000:]
    assert third.report['scope_changes']['left'] == []
    assert _state(emulator, vault_id('rsv-a')) == 'Unlocked'


def test_the_next_run_compares_with_the_scope_record_and_a_hand_edited_one_stops_it_before_any_request(emulator, harden, tmp_path):
    """harden_report writes drift.scope.json beside drift.json; the next run compares with it. A record edited by hand (a
    lost vault taken out of it, say) fails the run naming the file, with no request and no traceback."""
    emulator.load_fleet(fleet())
    report_dir = tmp_path / 'reports'
    first = harden('--check', harden_backup_vaults_report_dir=str(report_dir), **VARIABLES)
    assert first.rc == 0, first.output[-3000:]
    record = json.loads((report_dir / 'drift.scope.json').read_text())
    assert record['record'] == 'vaultlock.azure scope record' and len(record['vaults']) == 4
    assert record['report']['bytes'] == (report_dir / 'drift.json').stat().st_size
    record['vaults'] = [arm_id for arm_id in record['vaults'] if arm_id not in LOST]
    (report_dir / 'drift.scope.json').write_text(json.dumps(record))
    emulator.settings(revoked=['/subscriptions/%s' % SUB2])
    emulator.clear_journal()
    second = harden(harden_backup_vaults_report_dir=str(report_dir), **VARIABLES)
    assert second.rc != 0 and emulator.journal() == []
    output = ' '.join(second.output.split())
    assert "the scope record '%s' cannot be used: its digest does not match its content" % (report_dir / 'drift.scope.json') in output, output[-3000:]
    assert 'Traceback' not in second.output
    # Removed, the run compares with drift.json instead, and finds the lost vaults.
    (report_dir / 'drift.scope.json').unlink()
    third = harden('--check', harden_backup_vaults_report_dir=str(report_dir), **VARIABLES)
    assert third.rc != 0 and sorted(v['id'] for v in third.report['scope_changes']['left']) == LOST


def _sarif(run):
    results = json.loads((run.report_dir / 'drift.sarif').read_text())['runs'][0]['results']
    return [result for result in results if result['properties'].get('vault_id')]     # (a weaker baseline has results too)


def test_the_alerts_of_a_vault_this_run_could_not_read_stay_open_and_a_deleted_vaults_close(emulator, harden, tmp_path):
    """GitHub code scanning closes an alert missing from the next analysis of its category: a vault the run could not read
    (read access taken away) keeps its open results, not suppressed, with the previous report's fingerprint; a deleted
    vault's results may go."""
    emulator.load_fleet(fleet())
    report_dir = str(tmp_path / 'reports')
    first = harden('--check', harden_backup_vaults_report_dir=report_dir, **VARIABLES)
    assert first.rc == 0, first.output[-3000:]
    before = dict((result['properties']['vault_id'], result) for result in _sarif(first))
    checked_at = first.report['generated_at']      # (a run's files are read when asked: the next run replaces them)
    assert sorted(before) == sorted(LOST + [GONE, vault_id('rsv-a')])

    emulator.load_fleet(fleet(with_gone=False))
    emulator.settings(revoked=['/subscriptions/%s' % SUB2])
    second = harden('--check', harden_backup_vaults_report_dir=report_dir, **VARIABLES)
    assert second.rc != 0
    report = check_reports(second)
    after = dict((result['properties']['vault_id'], result) for result in _sarif(second))
    assert GONE not in after
    for arm_id in LOST:
        kept = after[arm_id]
        assert (kept['ruleId'], kept['partialFingerprints']) == (before[arm_id]['ruleId'], before[arm_id]['partialFingerprints'])
        assert 'suppressions' not in kept
        assert kept['message']['text'].startswith('Not checked by this run, which could not read the vault (HTTP 403 AuthorizationFailed); '
                                                  'as the previous report (%s) had it: ' % checked_at)
    rows = dict((row['id'], row) for row in report['unread_vaults'])
    assert sorted(rows) == LOST
    assert all(row['checked_at'] == checked_at and [f['setting'] for f in row['findings']] == ['immutability']
               for row in rows.values())
    suite = ET.fromstring((second.report_dir / 'drift.junit.xml').read_bytes()).find('testsuite')
    cases = dict((case.get('name'), case) for case in suite.findall('testcase'))
    for name in ('rsv-two', 'bv-two'):
        assert cases[name].find('error') is not None, name
        assert cases[name].find('error').get('message').startswith('Not checked: this run could not read the vault (HTTP 403')
    assert 'rsv-gone' not in cases

    # A third run still cannot read them: the findings are carried again, dated by the report that checked them.
    third = harden('--check', harden_backup_vaults_report_dir=report_dir, **VARIABLES)
    again = dict((result['properties']['vault_id'], result) for result in _sarif(third))
    assert all(again[arm_id]['partialFingerprints'] == before[arm_id]['partialFingerprints'] for arm_id in LOST)
    assert all(row['checked_at'] == checked_at for row in third.report['unread_vaults'])
