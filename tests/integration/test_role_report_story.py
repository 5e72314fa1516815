# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The five reports of a check run then a real run of the role, read as an auditor reads them, against the emulator's
journal of writes: the drift fleet with a vault whose immutability PATCH fails (500), an excluded vault, a weakened baseline
(a 3-day daily minimum), two baseline tiers (one locks, with consent), an unreadable subscription, and a vault deleted
between the two runs. The renderers' agreement on any document: tests/unit/plugins/module_utils/test_report_story.py."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.integration.fleets import SUB1, SUB2
from tests.integration.test_harden_role import ENFORCE_ALL, FAILING_PATCH, check_reports, drift_fleet, drift_harden
from tests.unit.plugins.module_utils.test_report_story import html_section, md_rows, md_section, tell_one_story

VARIABLES = dict(ENFORCE_ALL, harden_backup_vaults_subscription_ids=[SUB1, SUB2, '99999999-9999-4999-8999-999999999999'],
                 harden_backup_vaults_fail_on_error=False, harden_backup_vaults_allow_irreversible=True,
                 harden_backup_vaults_exclude=['bv-short'], harden_backup_vaults_retention_minimum={'daily': '3d'},
                 harden_backup_vaults_baselines=[{'name': 'prod', 'match': {'names': ['rsv-*']}, 'immutability': 'enabled'},
                                                 {'name': 'vault', 'match': {'names': ['bv-*']}, 'immutability': 'locked'}])


@pytest.fixture(name='runs', scope='module')
def runs_fixture(emulator_server, tmp_path_factory):
    emulator, harden, tmp = drift_harden(emulator_server, tmp_path_factory, 'report-story')
    variables = dict(VARIABLES, harden_backup_vaults_report_dir=str(tmp / 'reports'))
    check = harden('--check', '--diff', **variables)
    assert check.rc == 0, check.output
    check_writes = emulator.writes()
    check_files = dict((path.name, path.read_text(encoding='utf-8')) for path in check.report_dir.iterdir())
    fleet = drift_fleet()
    group = fleet['subscriptions'][0]['resource_groups'][0]
    group['vaults'] = [vault for vault in group['vaults'] if vault['name'] != 'rsv-weak']
    emulator.load_fleet(fleet)
    emulator.clear_journal()
    emulator.fault(**FAILING_PATCH)
    real = harden(**variables)
    assert real.rc == 0, real.output
    emulator.clear_faults()
    return {'check': (check, check_files, check_writes), 'real': (real, None, emulator.journal())}


def patches(journal):
    """{vault name: [(immutability state sent, HTTP status)]} of the journal's immutability PATCHes."""
    sent = {}
    for entry in journal:
        settings = ((entry.get('body') or {}).get('properties') or {}).get('securitySettings') or {}
        if entry['method'] == 'PATCH' and 'immutabilitySettings' in settings:
            sent.setdefault(entry['path'].rsplit('/', 1)[-1], []).append((settings['immutabilitySettings']['state'], entry['status']))
    return sent


def test_the_check_run_sends_nothing_and_its_reports_agree(runs):
    check, files, writes = runs['check']
    assert writes == [] and check.rc == 0
    report = json.loads(files['drift.json'])  # the real run writes the same directory again
    assert report['check_mode'] is True
    tell_one_story(report)
    assert files['drift.md'].splitlines()[2].startswith('Check mode, generated %s,' % report['generated_at'])


def test_the_real_runs_reports_agree_with_each_other_and_with_the_journal(runs):
    real, _files, journal = runs['real']
    report = check_reports(real)
    assert report['check_mode'] is False
    tell_one_story(report)
    sent = patches(journal)
    # Every vault the reports say changed had its writes answered 2xx; the vault they say failed had its PATCH answered 500.
    changed = dict((vault['name'], [(c['setting'], c['after']) for c in vault['changes']]) for vault in report['changed'])
    assert sent['bv-disabled'] == sent['bv-two'] == [('Unlocked', 202), ('Locked', 202)]
    assert changed['bv-disabled'] == changed['bv-two'] == [('immutability', 'enabled'), ('immutability', 'locked')]
    assert sent['rsv-guarded'] == [('Unlocked', 202)] and changed['rsv-guarded'] == [('immutability', 'enabled')]
    assert [status for _state, status in sent['rsv-unset']] == [500, 500] and 'rsv-unset' not in changed
    assert [(e['vault'], e['action']) for e in report['errors'] if e['action']] == [('rsv-unset', 'immutability')]

    md = (real.report_dir / 'drift.md').read_text(encoding='utf-8')
    page = (real.report_dir / 'drift.html').read_text(encoding='utf-8')
    junit = ET.fromstring((real.report_dir / 'drift.junit.xml').read_bytes())
    sarif = json.loads((real.report_dir / 'drift.sarif').read_text(encoding='utf-8'))['runs'][0]
    # The failed fix is not fixable-by-this-run in any of them.
    row = [line for line in md_rows(md_section(md, 'Drift')) if line.startswith('| rsv-unset |')][0]
    assert "| not fixed: this run's change failed or was not made (see Errors)" in row
    case = dict((c.get('name'), c) for c in junit.iter('testcase'))
    assert '; not fixed by this run (its change failed or was not made)' in case['rsv-unset'].find('failure').text
    assert [r for r in sarif['results'] if r['ruleId'] == 'immutability'][0]['message']['text'].count('this run did not fix it') == 1
    # What it fixed, in drift.junit.xml too.
    assert case['bv-two'].find('failure') is None
    assert case['bv-two'].find('system-out').text.startswith('fixed by this run: immutability: was disabled, wanted locked')
    # rsv-weak, deleted between the runs, left the scope: drift.md and drift.html say so; where and when the data was read too.
    assert 'rsv-weak' in md_section(md, 'Left the scope') and 'gone from Azure' in html_section(page, 'scope')
    assert report['discovery']['data_time'] in html_section(page, 'data')
    assert 'before its changes' in md_section(md, 'Azure Policy') and 'before its changes' in html_section(page, 'azure-policy')
