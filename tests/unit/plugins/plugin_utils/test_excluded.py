# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/_excluded.py: the open findings of the excluded vaults, carried from the previous drift.json."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import parse_exclusions
from ansible_collections.vaultlock.azure.plugins.plugin_utils import _scope_loss
from ansible_collections.vaultlock.azure.plugins.plugin_utils._excluded import carried_findings, keeper, section
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
