# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Excluding a vault never reads as fixing it in drift.sarif (the hostile operator's twelfth pass).

GitHub code scanning closes an alert as fixed when the next analysis of the same category no longer has its result
(module_utils/_reports/sarif.py cites the documentation). Three check-mode runs of the collection playbook into one report
directory, on a fleet of two drifting vaults and a third: the first checks them all; the second and third exclude
rsv-drifting (an insider's one-line change) and rsv-new (compliant when checked). drift.sarif of the second and
third keeps rsv-drifting's results (same rule, location and partial fingerprint as the first's), each suppressed (external,
accepted) with a justification naming the exclusion and the report that last checked it; drift.json excluded_vaults carries
them, drift.md and drift.html list both vaults as not checked, and drift.junit.xml has each as a skipped testcase.
"""

from __future__ import annotations

import html
import json
import pathlib
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from tests.emulator.client import is_write
from tests.integration.conftest import fresh_fleet
from tests.integration.fleets import RG, SUB1, vault, vault_id
from tests.integration.test_harden_role import Harden

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / 'docs' / 'drift-report-schema.json').read_text())
SARIF_SCHEMA = json.loads((REPO / 'tests' / 'fixtures' / 'sarif' / 'sarif-schema-2.1.0.json').read_text())
EXCLUDE = ['rsv-drifting', vault_id('rsv-new')]


def fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-drifting', 'recovery_services', 'disabled'),
            vault('rsv-other', 'recovery_services', 'disabled'),
            vault('rsv-new', 'recovery_services', 'enabled'),
        ]}]}]}


@pytest.fixture(scope='module')
def runs(module_runner, tmp_path_factory):
    fresh_fleet(module_runner, fleet())
    harden = Harden(module_runner, tmp_path_factory.mktemp('excluded'))
    report_dir = str(harden.tmp_path / 'reports')
    common = {'harden_backup_vaults_report_dir': report_dir, 'harden_backup_vaults_retention_minimum': {},
              'harden_backup_vaults_soft_delete': {}}
    done = []
    for exclude in ([], EXCLUDE, EXCLUDE):
        run = harden('--check', harden_backup_vaults_exclude=exclude, **common)
        assert run.rc == 0, run.output[-3000:]
        done.append({'report': run.report, 'sarif': json.loads((run.report_dir / 'drift.sarif').read_text()),
                     'markdown': run.markdown, 'html': (run.report_dir / 'drift.html').read_text(),
                     'junit': ET.fromstring((run.report_dir / 'drift.junit.xml').read_bytes())})
    return done, module_runner.emulator.journal()


def results_of(sarif, name):
    return [result for result in sarif['runs'][0]['results'] if str(result['properties'].get('vault_id')).endswith('/' + name)]


def test_an_excluded_vault_keeps_its_results_suppressed_never_absent(runs):
    done, journal = runs
    first, second, third = done
    checked = results_of(first['sarif'], 'rsv-drifting')
    assert [result['ruleId'] for result in checked] == ['immutability'] and 'suppressions' not in checked[0]
    for later in (second, third):
        jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(later['sarif'])
        kept = results_of(later['sarif'], 'rsv-drifting')
        # The same alert: rule, location and fingerprint as when the vault was checked.
        assert [(r['ruleId'], r['locations'][0]['physicalLocation'], r['partialFingerprints']) for r in kept] == \
            [(r['ruleId'], r['locations'][0]['physicalLocation'], r['partialFingerprints']) for r in checked]
        assert kept[0]['suppressions'] == [{
            'kind': 'external', 'status': 'accepted',
            'justification': "not checked by this run: harden_backup_vaults_exclude (rsv-drifting) excluded the vault; the "
                             "finding is the one the report of %s had" % first['report']['generated_at']}]
        assert kept[0]['message']['text'].startswith('Not checked by this run (excluded by rsv-drifting); as last checked (%s): '
                                                     % first['report']['generated_at'])
        assert kept[0]['properties']['excluded'] is True
        # The vault checked in every run keeps its open alert; the excluded vault that was compliant has no result to keep.
        assert [r['ruleId'] for r in results_of(later['sarif'], 'rsv-other')] == ['immutability']
        assert results_of(later['sarif'], 'rsv-new') == []
        report = later['report']
        jsonschema.validate(report, SCHEMA)
        assert [v['name'] for v in report['vaults']] == ['rsv-other']
        rows = dict((row['name'], row) for row in report['excluded_vaults'])
        assert sorted(rows) == ['rsv-drifting', 'rsv-new']
        assert rows['rsv-drifting']['excluded_by'] == ['rsv-drifting']
        assert rows['rsv-drifting']['checked_at'] == first['report']['generated_at']
        assert [f['setting'] for f in rows['rsv-drifting']['findings']] == ['immutability']
        assert rows['rsv-new'] == dict(rows['rsv-new'], excluded_by=[vault_id('rsv-new')], checked_at=first['report']['generated_at'],
                                       findings=[])
        # drift.md and drift.html say the two vaults were not checked.
        markdown = later['markdown'].replace('\\', '')
        assert '## Not checked (excluded)' in markdown
        # With the baseline tier each would have been judged against (a role run's reports have tiers: the default one here).
        assert '| rsv-drifting | default | Recovery Services vault |' in markdown and '| rsv-new | default | Recovery Services vault |' in markdown
        assert '1 (immutability)' in markdown and '| none |' in markdown
        page = html.unescape(later['html'])
        assert 'Not checked (excluded)' in page and 'rsv-drifting' in page and '1 (immutability)' in page
        # drift.junit.xml: each excluded vault a skipped testcase, counted in tests and skipped, not in failures.
        suite = later['junit'].find('testsuite')
        assert (suite.get('tests'), suite.get('failures'), suite.get('skipped')) == ('3', '1', '2')
        skipped = dict((case.get('name'), case.find('skipped').get('message')) for case in suite.findall('testcase')
                       if case.find('skipped') is not None)
        assert skipped == {
            'rsv-drifting': 'Not checked: excluded by rsv-drifting; last checked %s: 1 open finding (immutability)'
                            % first['report']['generated_at'],
            'rsv-new': 'Not checked: excluded by %s; last checked %s: 0 open findings' % (vault_id('rsv-new'), first['report']['generated_at'])}
    assert [entry for entry in journal if is_write(entry)] == []
