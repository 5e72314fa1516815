# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/_excluded.py: the open findings of the excluded vaults, carried from the previous drift.json."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report, render_junit
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import FINGERPRINT_KEY, build_sarif, fingerprint
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import parse_exclusions
from ansible_collections.vaultlock.azure.plugins.plugin_utils import _scope_loss
from ansible_collections.vaultlock.azure.plugins.plugin_utils._excluded import carried_findings, keeper, section, unread_keys, unread_section
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import write_reports
from ansible_collections.vaultlock.azure.plugins.plugin_utils._scope_loss import read_record

SUB = '11111111-1111-1111-1111-111111111111'


def vault_id(name):
    return '/subscriptions/%s/resourceGroups/rg-a/providers/Microsoft.RecoveryServices/vaults/%s' % (SUB, name)


def finding(setting, resolved=False):
    return {'setting': setting, 'have': 'disabled', 'want': 'enabled', 'fixable': True, 'resolved': resolved, 'reason': 'x'}


def write(tmp_path, doc):
    (tmp_path / 'drift.json').write_text(json.dumps(doc))


def read_previous(report_dir, exclusions):
    """As harden_plan reads them: the one read of the previous drift.json (_scope_loss.read_record) keeps the excluded
    vaults' findings too."""
    _record, _note, carried = read_record(report_dir, keeper(exclusions))
    return carried_findings(*carried)


def test_the_previous_report_gives_the_open_findings_of_the_vaults_excluded_now(tmp_path):
    write(tmp_path, {'schema_version': '2.3', 'generated_at': 'T1', 'vaults': [
        {'id': vault_id('rsv-a'), 'name': 'rsv-a', 'vault_type': 'recovery_services', 'tier': 'gold', 'posture': {'x': 1},
         'findings': [finding('immutability'), finding('soft_delete', resolved=True)]},
        {'id': vault_id('rsv-b'), 'name': 'rsv-b', 'vault_type': 'recovery_services', 'findings': [finding('immutability')]},
    ], 'excluded_vaults': [
        {'id': vault_id('rsv-c'), 'name': 'rsv-c', 'excluded_by': ['rsv-c'], 'checked_at': 'T0', 'findings': [finding('retention')]},
    ]})
    exclusions = parse_exclusions(['rsv-a', vault_id('rsv-c'), 'rsv-new'])
    previous, note = read_previous(str(tmp_path), exclusions)
    assert note == '' and sorted(previous) == [vault_id('rsv-a').lower(), vault_id('rsv-c').lower()]
    rows = section([vault_id('rsv-a'), vault_id('rsv-c'), vault_id('rsv-new')], exclusions, previous)
    assert [(r['name'], r['excluded_by'], r['checked_at'], [f['setting'] for f in r['findings']]) for r in rows] == [
        ('rsv-a', ['rsv-a'], 'T1', ['immutability']),            # the resolved finding is not carried
        ('rsv-c', [vault_id('rsv-c')], 'T0', ['retention']),      # carried again, with the time of the report that checked it
        ('rsv-new', ['rsv-new'], None, []),                       # no report here checked it
    ]
    assert rows[0]['tier'] == 'gold' and rows[2]['vault_type'] == 'recovery_services' and rows[2]['resource_group'] == 'rg-a'


def test_no_exclusion_no_report_or_an_unreadable_one(tmp_path):
    assert read_previous(str(tmp_path), parse_exclusions(['rsv-a'])) == ({}, '')
    assert read_previous(str(tmp_path), []) == ({}, '')
    (tmp_path / 'drift.json').write_text('{not json')
    previous, note = read_previous(str(tmp_path), parse_exclusions(['rsv-a']))
    assert previous == {} and note == ('the previous drift.json could not be read (JSONDecodeError): the findings of the excluded '
                                       'vaults were not carried')


# ---------------------------------------------------------------- one read, one parse of drift.json for both readers

def _checked_report():
    """A report as harden_report writes it: rsv-a drifting (excluded by the next run), rsv-b compliant."""
    vaults = [{'id': vault_id('rsv-a'), 'name': 'rsv-a', 'vault_type': 'recovery_services', 'drift': True,
               'findings': [finding('immutability')]},
              {'id': vault_id('rsv-b'), 'name': 'rsv-b', 'vault_type': 'recovery_services', 'drift': False, 'findings': []}]
    return build_report(vaults, {'timestamp': 'T1'})


@pytest.fixture(name='counted')
def counted_fixture(tmp_path, monkeypatch):
    """A report directory as harden_report leaves it (the five reports and the scope record), and the count of each time
    drift.json is opened and parsed (json.loads of its text) while harden_plan reads what it needs of it."""
    write_reports(_checked_report(), str(tmp_path))
    counts = {'opened': 0, 'parsed': 0}
    real_open, real_loads = open, json.loads

    def counting_open(path, *args, **kwargs):
        counts['opened'] += os.path.basename(str(path)) == 'drift.json'
        return real_open(path, *args, **kwargs)

    def counting_loads(text, *args, **kwargs):
        drift = (tmp_path / 'drift.json').read_bytes()
        counts['parsed'] += (text if isinstance(text, bytes) else text.encode('utf-8')) == drift
        return real_loads(text, *args, **kwargs)

    monkeypatch.setattr(_scope_loss, 'open', counting_open, raising=False)
    monkeypatch.setattr(json, 'loads', counting_loads)
    return tmp_path, counts


@pytest.mark.parametrize('directory', ['scope record', 'no scope record', 'scope record of another run'])
def test_drift_json_is_read_and_parsed_once_for_the_scope_comparison_and_the_excluded_vaults(counted, directory):
    """harden_plan with exclusions needs two things of the previous drift.json: the scope record's check (its SHA-256) or
    the record itself, and the excluded vaults' open findings. One read and one parse serve both (before: the scope record's
    check read the file to hash it and _excluded read and parsed it again; without a scope record it was parsed twice)."""
    tmp_path, counts = counted
    if directory == 'no scope record':
        (tmp_path / _scope_loss.SCOPE_RECORD).unlink()
    elif directory == 'scope record of another run':
        (tmp_path / 'drift.json').write_text(json.dumps(dict(_checked_report(), generated_at='T2')))
    record, note, carried = read_record(str(tmp_path), keeper(parse_exclusions(['rsv-a'])))
    previous, previous_note = carried_findings(*carried)
    assert counts == {'opened': 1, 'parsed': 1}
    assert sorted(record['vaults']) == [vault_id('rsv-a').lower(), vault_id('rsv-b').lower()]
    assert ('not trusted' in note) == (directory == 'scope record of another run')
    assert previous_note == '' and list(previous) == [vault_id('rsv-a').lower()]
    assert [f['setting'] for f in previous[vault_id('rsv-a').lower()]['findings']] == ['immutability']


def test_without_exclusions_a_trusted_scope_record_leaves_drift_json_unparsed(counted):
    """Nothing to carry: drift.json is only hashed (in chunks, nothing kept), never parsed."""
    tmp_path, counts = counted
    record, note, carried = read_record(str(tmp_path), keeper(parse_exclusions([])))
    assert counts == {'opened': 1, 'parsed': 0} and note == '' and carried == (None, None)
    assert carried_findings(*carried) == ({}, '') and len(record['vaults']) == 2


def test_a_hand_edited_previous_report_carries_only_what_the_reports_can_show(tmp_path):
    """A finding or vault of the previous drift.json edited by hand (a setting, vault type or tier that is a list or an
    object) is not carried as it is: before, harden_report failed on it after the run (drift.junit.xml and drift.sarif on
    the setting, drift.md, drift.html and drift.sarif on the vault type) and wrote none of the five reports."""
    write(tmp_path, {'schema_version': '2.3', 'generated_at': 'T1', 'vaults': [
        {'id': vault_id('rsv-a'), 'name': 'rsv-a', 'vault_type': ['recovery_services'], 'tier': {'odd': 1},
         'findings': [finding(['immutability']), finding({'odd': 1}), finding(None), finding('soft_delete')]},
    ]})
    exclusions = parse_exclusions(['rsv-a'])
    rows = section([vault_id('rsv-a')], exclusions, read_previous(str(tmp_path), exclusions)[0])
    assert [(r['vault_type'], r['tier'], r['checked_at'], [f['setting'] for f in r['findings']]) for r in rows] == [
        ('recovery_services', None, 'T1', ['soft_delete'])]
    reports = tmp_path / 'reports'
    write_reports(build_report([], {'timestamp': 'T2', 'excluded_vaults': rows}), str(reports))
    junit = (reports / 'drift.junit.xml').read_text()
    assert 'skipped="1"' in junit and 'last checked T1: 1 open finding (soft delete)' in junit


# ---------------------------------------------------------------- the vaults this run could not read

def test_the_vaults_this_run_could_not_read_keep_their_open_findings_as_open_results_a_deleted_one_does_not(tmp_path):
    """drift.sarif without the results of a vault the run could not read would have a code scanning service close its alerts
    as fixed: they stay, with the previous report's fingerprint, open (not suppressed), dated by the report that checked it.
    A vault deleted from Azure is not carried."""
    write(tmp_path, {'schema_version': '2.4', 'generated_at': 'T1', 'vaults': [
        {'id': vault_id('rsv-a'), 'name': 'rsv-a', 'vault_type': 'recovery_services', 'findings': [finding('immutability')]},
        {'id': vault_id('rsv-b'), 'name': 'rsv-b', 'vault_type': 'recovery_services', 'findings': [finding('soft_delete')]},
        {'id': vault_id('rsv-gone'), 'name': 'rsv-gone', 'vault_type': 'recovery_services', 'findings': [finding('immutability')]},
        {'id': vault_id('rsv-judged'), 'name': 'rsv-judged', 'vault_type': 'recovery_services', 'findings': [finding('immutability')]},
    ], 'unread_vaults': [
        {'id': vault_id('rsv-c'), 'name': 'rsv-c', 'why': 'HTTP 403 AuthorizationFailed', 'checked_at': 'T0', 'findings': [finding('retention')]},
    ]})
    loss = {'unreadable': [{'id': vault_id('rsv-a'), 'why': 'HTTP 403 AuthorizationFailed'},
                           {'id': vault_id('rsv-judged'), 'why': 'HTTP 403 AuthorizationFailed'}],
            'not_compared': [{'id': vault_id('rsv-c'), 'why': 'this run could not read its scope'}],
            'gone': [{'id': vault_id('rsv-gone'), 'why': 'HTTP 404 ResourceNotFound'}]}
    errors = [{'scope': vault_id('rsv-b'), 'message': 'AuthorizationFailed: no read'}, {'scope': 'discovery', 'message': 'x'}]
    unread = unread_keys(loss, errors, {vault_id('rsv-judged').lower()}, set())
    assert unread == {vault_id('rsv-a').lower(): 'HTTP 403 AuthorizationFailed', vault_id('rsv-b').lower(): 'AuthorizationFailed: no read',
                      vault_id('rsv-c').lower(): 'this run could not read its scope'}
    doc, why = _scope_loss.read_again(str(tmp_path), keeper(None, set(unread)))
    rows = unread_section(unread, carried_findings(doc, why)[0])
    assert [(r['name'], r['why'], r['checked_at'], [f['setting'] for f in r['findings']]) for r in rows] == [
        ('rsv-a', 'HTTP 403 AuthorizationFailed', 'T1', ['immutability']),
        ('rsv-b', 'AuthorizationFailed: no read', 'T1', ['soft_delete']),
        ('rsv-c', 'this run could not read its scope', 'T0', ['retention']),      # carried again, dated by the report that checked it
    ]
    # The results of the previous report's vaults, as its drift.sarif had them (fingerprints depend on the vault and setting).
    before = dict((vault['id'], dict(fingerprint=fingerprint(vault['id'], vault['findings'][0])))
                  for vault in json.loads((tmp_path / 'drift.json').read_text())['vaults'])
    report = build_report([], {'timestamp': 'T2', 'unread_vaults': rows,
                               'errors': [{'scope': 'the scope of the run', 'message': 'vaults can no longer be read'}]})
    sarif = build_sarif(report)['runs'][0]
    results = dict((r['properties']['vault_id'], r) for r in sarif['results'])
    assert sorted(results) == [vault_id('rsv-a'), vault_id('rsv-b'), vault_id('rsv-c')]
    for name in ('rsv-a', 'rsv-b'):
        kept = results[vault_id(name)]
        assert kept['partialFingerprints'] == {FINGERPRINT_KEY: before[vault_id(name)]['fingerprint']}
        assert 'suppressions' not in kept and kept['properties']['unread'] is True
        assert kept['message']['text'].startswith('Not checked by this run, which could not read the vault (%s); as the previous '
                                                  'report (T1) had it: ' % unread[vault_id(name).lower()])
    suite = ET.fromstring(render_junit(report).encode('utf-8')).find('testsuite')
    assert (suite.get('tests'), suite.get('errors'), suite.get('failures')) == ('4', '4', '0')
    cases = dict((case.get('name'), case.find('error').get('message')) for case in suite.findall('testcase')
                 if case.get('name').startswith('rsv'))
    assert cases == {'rsv-a': 'Not checked: this run could not read the vault (HTTP 403 AuthorizationFailed); last checked T1: 1 open finding (immutability)',
                     'rsv-b': 'Not checked: this run could not read the vault (AuthorizationFailed: no read); last checked T1: 1 open finding (soft delete)',
                     'rsv-c': 'Not checked: this run could not read the vault (this run could not read its scope); last checked T0: 1 open finding '
                              '(retention)'}
