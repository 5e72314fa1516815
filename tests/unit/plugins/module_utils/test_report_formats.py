# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""drift.sarif against the OASIS SARIF 2.1.0 schema (tests/fixtures/sarif), and drift.html's content and self-containment.
The HTML page in a real browser: tests/integration/test_html_report.py."""

from __future__ import annotations

import copy
import html.parser
import json
import os
import re

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import compute_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.html import render_html
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import (
    FINGERPRINT_KEY,
    build_sarif,
    finding_level,
    render_sarif,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import ReportError, build_report, render_markdown
from tests.unit.plugins.module_utils.test_reports import BASELINE, STAMP, SUB, drift, vault

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
SARIF_SCHEMA = os.path.join(ROOT, 'tests', 'fixtures', 'sarif', 'sarif-schema-2.1.0.json')
RETENTION = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14},
             'retention': {'minimum': {'daily': '30d'}, 'mode': 'enforce'}}


@pytest.fixture(name='sarif_validator', scope='module')
def sarif_validator_fixture():
    with open(SARIF_SCHEMA, encoding='utf-8') as handle:
        schema = json.load(handle)
    assert schema['id'].endswith('/sarif-2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json'.replace('sarif-2.1.0', 'sarif/v2.1.0'))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def check_report():
    return build_report(drift(), {'check_mode': True, 'timestamp': STAMP, 'baseline': BASELINE,
                                  'errors': [{'scope': '/subscriptions/%s' % SUB, 'message': 'AuthorizationFailed: no'}]})


def sarif_of(report, validator):
    text = render_sarif(report)
    log = json.loads(text)
    validator.validate(log)
    return log


def open_findings(report):
    return [(v, f) for v in report['vaults'] for f in v['findings'] if not f['resolved']]


# --------------------------------------------------------------------------- SARIF

def test_sarif_rules_results_locations(sarif_validator):
    report = check_report()
    log = sarif_of(report, sarif_validator)
    assert log['version'] == '2.1.0' and len(log['runs']) == 1
    run = log['runs'][0]
    rules = run['tool']['driver']['rules']
    assert [r['id'] for r in rules] == ['immutability', 'soft_delete', 'soft_delete_retention_days', 'retention', 'mua',
                                        'cross_subscription_restore', 'public_network_access', 'alerts', 'customer_managed_keys',
                                        'infrastructure_encryption', 'private_endpoints', 'storage_redundancy', 'cross_region_restore']
    assert all(float(r['properties']['security-severity']) > 0 for r in rules)
    expected = open_findings(report)
    assert len(run['results']) == len(expected) == report['summary']['findings'] == 3
    for result, (vault_doc, finding) in zip(run['results'], expected):
        assert result['ruleId'] == finding['setting']
        assert rules[result['ruleIndex']]['id'] == finding['setting']
        location = result['locations'][0]
        assert location['logicalLocations'][0]['fullyQualifiedName'] == vault_doc['id']
        assert location['physicalLocation']['artifactLocation']['uri'] == vault_doc['id'].lstrip('/')
        assert result['properties']['have'] == finding['have'] and result['properties']['want'] == finding['want']
        assert vault_doc['name'] in result['message']['text']
    # The discovery error: a failed execution with a notification, not a result.
    invocation = run['invocations'][0]
    assert invocation['executionSuccessful'] is False
    assert invocation['toolExecutionNotifications'][0]['level'] == 'error'
    assert 'AuthorizationFailed' in invocation['toolExecutionNotifications'][0]['message']['text']


@pytest.mark.parametrize('fixable,option,irreversible,level', [
    # A person must act: error, whatever the fix would be.
    (False, None, False, 'error'), (False, None, True, 'error'),
    # A switch would let the run fix it: warning.
    (False, 'retention_mode: enforce', False, 'warning'), (False, 'allow_irreversible: true', True, 'warning'),
    # The run fixes it as configured (consent given where it is irreversible): note.
    (True, None, True, 'note'), (True, None, False, 'note'),
])
def test_sarif_level_by_who_must_act(fixable, option, irreversible, level):
    finding = {'fixable': fixable, 'option': option, 'irreversible': irreversible}
    assert finding_level(finding) == level


def test_sarif_levels_follow_the_findings(sarif_validator):
    report = check_report()
    report['vaults'][1]['findings'][0].update(fixable=False, option='allow_irreversible: true', fix='option', irreversible=True)
    report['vaults'][2]['findings'][0].update(fixable=False, option=None, fix='person')
    log = sarif_of(report, sarif_validator)
    results = log['runs'][0]['results']
    levels = [r['level'] for r in results]
    assert levels == [finding_level(f) for _v, f in open_findings(report)]
    assert levels.count('warning') == 1 and levels.count('error') == 1
    warning = results[levels.index('warning')]
    assert warning['properties']['fix'] == 'option' and warning['properties']['option'] == 'allow_irreversible: true'
    assert 'Fixable by the playbook with allow_irreversible: true' in warning['message']['text']
    assert 'a person must act' in results[levels.index('error')]['message']['text']


def test_sarif_fingerprints_are_stable_and_distinct(sarif_validator):
    first = sarif_of(check_report(), sarif_validator)['runs'][0]['results']
    later = check_report()
    later['generated_at'] = '2027-05-05T00:00:00+00:00'
    # The same finding with another value (someone lowered it further) keeps its alert.
    for vault_doc in later['vaults']:
        for finding in vault_doc['findings']:
            if finding['setting'] == 'soft_delete_retention_days':
                finding['have'] = 3
        vault_doc['id'] = vault_doc['id'].upper()  # ARM ids are case-insensitive
    second = sarif_of(later, sarif_validator)['runs'][0]['results']
    prints = [r['partialFingerprints'][FINGERPRINT_KEY] for r in first]
    assert prints == [r['partialFingerprints'][FINGERPRINT_KEY] for r in second]
    assert len(set(prints)) == len(prints)
    assert all(re.match('^[0-9a-f]{64}$', p) for p in prints)


def test_sarif_apply_report_keeps_open_findings_only(sarif_validator):
    entries = drift()
    by_name = dict((e['name'], e) for e in entries)
    results = {'immutability': [{'item': by_name['open-rsv'], 'changed': True, 'changes': [
        {'setting': 'immutability', 'before': 'disabled', 'after': 'enabled'}]}]}
    report = build_report(entries, {'check_mode': False, 'timestamp': STAMP, 'baseline': BASELINE, 'results': results})
    log = sarif_of(report, sarif_validator)
    run = log['runs'][0]
    assert len(run['results']) == report['summary']['findings'] == len(open_findings(report))
    assert run['automationDetails']['id'] == 'vaultlock.azure/harden_backup_vaults/run/'
    assert run['invocations'][0]['executionSuccessful'] is True


def test_sarif_clean_fleet_and_retention_findings(sarif_validator):
    clean = build_report(compute_drift([vault('fine')], BASELINE), {'timestamp': STAMP})
    assert sarif_of(clean, sarif_validator)['runs'][0]['results'] == []
    weak = dict(vault('weak'), policies=[{'name': 'Daily', 'kind': 'AzureIaasVM', 'tiers': [
        {'tier': 'daily', 'duration': 'P7D', 'days': 7, 'sub_policy': None, 'datastore': None}]}])
    report = build_report(compute_drift([weak], RETENTION), {'timestamp': STAMP})
    results = sarif_of(report, sarif_validator)['runs'][0]['results']
    assert [r['ruleId'] for r in results] == [f['setting'] for _v, f in open_findings(report)]


def test_sarif_odd_text_stays_valid(sarif_validator):
    odd = vault('v-1', immutability='disabled', rg='rg (x).y')
    report = build_report(compute_drift([odd], BASELINE), {'timestamp': STAMP, 'errors': [
        {'scope': 'sub|x', 'message': 'bad\x00thing <&> "quoted" \x1b[31m \u2028'}]})
    log = sarif_of(report, sarif_validator)
    uri = log['runs'][0]['results'][0]['locations'][0]['physicalLocation']['artifactLocation']['uri']
    assert uri.endswith('/resourceGroups/rg%20(x).y/providers/Microsoft.RecoveryServices/vaults/v-1')


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=30), reason=st.text(max_size=60), have=st.one_of(st.none(), st.integers(), st.text(max_size=10)))
def test_sarif_any_text_validates(sarif_validator, name, reason, have):
    report = check_report()
    target = report['vaults'][1]
    target['name'] = name
    target['findings'][0]['reason'] = reason
    target['findings'][0]['have'] = have
    sarif_validator.validate(json.loads(render_sarif(report)))


def test_sarif_is_the_log_with_a_line_per_result(sarif_validator):
    report = check_report()
    text = render_sarif(report)
    log = json.loads(text)
    sarif_validator.validate(log)
    assert text.endswith('}\n') and list(log) == ['$schema', 'version', 'runs']  # the log's own order, not sorted
    results = log['runs'][0]['results']
    assert results
    lines = text.split('\n')
    start = lines.index('      "results": [')
    assert [json.loads(line.strip().rstrip(',')) for line in lines[start + 1:start + 1 + len(results)]] == results
    assert lines[start + 1 + len(results)] == '      ]' or lines[start + 1 + len(results)].startswith('      ],')


def test_sarif_refuses_other_documents():
    with pytest.raises(ReportError):
        build_sarif({'vaults': []})


# --------------------------------------------------------------------------- HTML

class Page(html.parser.HTMLParser):
    """Collects what a self-contained page must not have, and the rows and charts it has."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.external = []
        self.rows = []
        self.rects = []
        self.tags = []
        self.scripts = 0
        self.data_blocks = 0
        self.csp = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        for key in ('src', 'href', 'xlink:href', 'action', 'poster', 'srcset', 'data'):
            value = attrs.get(key)
            if value is not None and not value.startswith(('#', 'data:')):
                self.external.append((tag, key, value))
        if tag == 'link':
            self.external.append((tag, 'link', attrs))
        if tag == 'script' and attrs.get('type') != 'application/json':
            # The findings' JSON data block is not run; every other script is counted.
            self.scripts += 1
        if tag == 'script' and attrs.get('type') == 'application/json':
            self.data_blocks += 1
        if tag == 'meta' and attrs.get('http-equiv') == 'Content-Security-Policy':
            self.csp = attrs.get('content')
        if tag == 'tr' and 'data-setting' in attrs:
            self.rows.append(attrs)
        if tag == 'rect':
            self.rects.append(attrs)


def parse(text):
    page = Page()
    page.feed(text)
    page.close()
    return page


def test_html_is_self_contained_with_figures_charts_and_rows():
    report = check_report()
    text = render_html(report)
    page = parse(text)
    assert text.startswith('<!DOCTYPE html>')
    assert page.external == []
    assert not re.search(r'@import|url\(|https?://(?!www\.w3\.org/2000/svg)', text), 'a reference out of the page'
    assert "default-src 'none'" in page.csp and page.scripts == 1
    assert len(page.rows) == report['summary']['findings'] == 3
    assert [(r['data-setting'], r['data-fixable']) for r in page.rows] == [
        (f['setting'], 'yes' if f['fixable'] else 'no') for _v, f in open_findings(report)]
    drifting = [int(r['data-count']) for r in page.rects if 'drifting' in r['class'].split()]
    clean = [int(r['data-count']) for r in page.rects if 'clean' in r['class'].split()]
    assert sum(drifting) == report['summary']['drifting'] and sum(clean) == report['summary']['clean']
    fixable = sum(int(r['data-count']) for r in page.rects if 'fixable' in r['class'].split())
    unfixable = sum(int(r['data-count']) for r in page.rects if 'unfixable' in r['class'].split())
    assert (fixable, unfixable) == (report['summary']['fixable'], report['summary']['unfixable'])
    for figure, key in (('vaults', 'vaults'), ('drifting', 'drifting'), ('findings', 'findings'), ('not-fixable', 'unfixable')):
        assert re.search(r'data-figure="%s"><span class="value">%d<' % (figure, report['summary'][key]), text), figure
    assert 'AuthorizationFailed: no' in text and 'id="errors-table"' in text


def test_html_escapes_what_azure_returns():
    odd = vault('v-1', immutability='disabled')
    report = build_report(compute_drift([odd], BASELINE), {'timestamp': STAMP, 'errors': [
        {'scope': '<script>alert(1)</script>', 'message': 'bad\x00thing <img src=x onerror=alert(1)> "q" \x1b[31m'}]})
    report['vaults'][0]['name'] = '<b onmouseover="x">v</b>'
    report['vaults'][0]['findings'][0]['reason'] = '</td></tr><script>evil()</script>'
    text = render_html(report)
    page = parse(text)
    assert page.scripts == 1 and 'img' not in page.tags and 'b' not in page.tags
    assert '&lt;script&gt;evil()&lt;/script&gt;' in text and '\x00' not in text and '\x1b' not in text
    assert len(page.rows) == 1


def test_html_clean_and_empty_reports():
    clean = build_report(compute_drift([vault('fine')], BASELINE), {'timestamp': STAMP})
    text = render_html(clean)
    assert 'No drift: 1 vault checked' in text and 'no open finding' in text
    assert len(parse(text).rows) == 0
    empty = build_report([], {'timestamp': STAMP})
    assert 'nothing to show' in render_html(empty)


def test_html_apply_shows_changes_and_keeps_the_report():
    entries = drift()
    by_name = dict((e['name'], e) for e in entries)
    results = {'immutability': [{'item': by_name['open-rsv'], 'changed': True, 'changes': [
        {'setting': 'immutability', 'before': 'disabled', 'after': 'enabled'}]}]}
    report = build_report(entries, {'check_mode': False, 'timestamp': STAMP, 'baseline': BASELINE, 'results': results})
    before = copy.deepcopy(report)
    text = render_html(report)
    assert report == before
    assert '<h2>Changed</h2>' in text and 'data-figure="resolved"><span class="value">1<' in text
    assert len(parse(text).rows) == report['summary']['findings']


def test_the_schema_refuses_a_broken_log(sarif_validator):
    log = json.loads(render_sarif(check_report()))
    log['runs'][0]['results'][0]['level'] = 'critical'
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator.validate(log)
    log = json.loads(render_sarif(check_report()))
    del log['runs'][0]['tool']['driver']['name']
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator.validate(log)


def test_warnings_reach_html_and_sarif(sarif_validator):
    """An exclusion that matched no vault is a warning of the run: the page and the SARIF log show it, escaped."""
    warning = "harden_backup_vaults_exclude: '<rsv-prod-01>' matched no vault"
    report = build_report(drift(), {'check_mode': True, 'timestamp': STAMP, 'baseline': BASELINE, 'warnings': [warning]})
    page = render_html(report)
    assert '<section id="warnings">' in page
    assert '&lt;rsv-prod-01&gt;' in page and '<rsv-prod-01>' not in page
    invocation = sarif_of(report, sarif_validator)['runs'][0]['invocations'][0]
    assert invocation['executionSuccessful'] is True
    assert [(n['level'], n['message']['text']) for n in invocation['toolExecutionNotifications']] == [('warning', warning)]
    assert '<section id="warnings">' not in render_html(check_report())


def test_an_excluded_vault_keeps_its_open_findings_as_suppressed_results(sarif_validator):
    """drift.json excluded_vaults (plugin_utils/_excluded.py): each carried open finding is a result with the rule, location
    and fingerprint it had when the vault was checked, suppressed (external, accepted) with a justification naming the
    exclusion, so a code scanning service never closes it as fixed; drift.md and drift.html list the vault as not checked."""
    checked = build_report(drift(), {'check_mode': True, 'timestamp': STAMP, 'baseline': BASELINE})
    vault_row, finding = open_findings(checked)[0]
    before = [r for r in sarif_of(checked, sarif_validator)['runs'][0]['results'] if r['properties']['vault_id'] == vault_row['id']]
    carried = {'id': vault_row['id'], 'name': vault_row['name'], 'vault_type': vault_row['vault_type'],
               'subscription_id': vault_row['subscription_id'], 'resource_group': vault_row['resource_group'], 'tier': None,
               'excluded_by': ['rsv-*'], 'checked_at': STAMP, 'findings': [f for f in vault_row['findings'] if not f['resolved']]}
    rest = [entry for entry in drift() if entry['id'] != vault_row['id']]
    report = build_report(rest, {'check_mode': True, 'timestamp': STAMP, 'baseline': BASELINE, 'excluded_vaults': [carried]})
    assert report['excluded_vaults'] == [carried]
    after = [r for r in sarif_of(report, sarif_validator)['runs'][0]['results'] if r['properties']['vault_id'] == vault_row['id']]
    assert [(r['ruleId'], r['locations'], r['partialFingerprints']) for r in after] == \
        [(r['ruleId'], r['locations'], r['partialFingerprints']) for r in before]
    assert after[0]['suppressions'] == [{'kind': 'external', 'status': 'accepted', 'justification': (
        'not checked by this run: harden_backup_vaults_exclude (rsv-*) excluded the vault; the finding is the one the report of '
        '%s had' % STAMP)}]
    assert after[0]['message']['text'].startswith('Not checked by this run (excluded by rsv-*); as last checked (%s): ' % STAMP)
    assert finding['setting'] in [r['ruleId'] for r in after]
    markdown = render_markdown(report).replace('\\', '')
    assert '## Not checked (excluded)' in markdown and '| %s |' % vault_row['name'] in markdown and '| rsv-* |' in markdown
    page = render_html(report)
    assert '<section id="excluded">' in page and 'Not checked (excluded)' in page
    # Without excluded vaults: no section, no suppressed result.
    assert '## Not checked (excluded)' not in render_markdown(checked) and '<section id="excluded">' not in render_html(checked)
    assert not [r for r in sarif_of(checked, sarif_validator)['runs'][0]['results'] if 'suppressions' in r]


def test_a_weaker_baseline_is_a_result_of_its_own(sarif_validator):
    """drift.json weakened_baseline: one result a weaker key (rule baseline_weakened, added only then), located at the role
    variable, an error when the value lowers vaults; a stable fingerprint per variable, key and tier."""
    entries = [{'variable': 'harden_backup_vaults_immutability', 'key': 'immutability', 'tier': None, 'value': 'disabled',
                'default': 'enabled', 'why': 'asks for immutability disabled', 'lowers': True, 'source': "the play's vars", 'for_run': True},
               {'variable': 'harden_backup_vaults_baselines[0]', 'key': 'retention', 'tier': 'dev', 'value': {'daily': '7d'},
                'default': {'daily': '30d'}, 'why': 'holds daily tiers to 7d', 'lowers': False,
                'source': "the inventory: group_vars of group 'dev' (beside the inventory)", 'for_run': False}]
    report = build_report(drift(), {'check_mode': True, 'timestamp': STAMP, 'baseline': BASELINE, 'weakened_baseline': entries})
    assert report['weakened_baseline'] == entries
    log = sarif_of(report, sarif_validator)
    results = [r for r in log['runs'][0]['results'] if r['ruleId'] == 'baseline_weakened']
    assert [(r['level'], r['locations'][0]['physicalLocation']['artifactLocation']['uri']) for r in results] == [
        ('error', 'harden_backup_vaults/baseline/harden_backup_vaults_immutability'),
        ('warning', 'harden_backup_vaults/baseline/harden_backup_vaults_baselines[0].retention')]
    assert results[1]['message']['text'] == (
        'harden_backup_vaults_baselines[0] (tier \'dev\') retention is {"daily": "7d"}, weaker than the role\'s default {"daily": '
        '"30d"}: it holds daily tiers to 7d; from the inventory: group_vars of group \'dev\' (beside the inventory).')
    again = sarif_of(build_report(drift(), {'check_mode': True, 'timestamp': STAMP, 'baseline': BASELINE,
                                            'weakened_baseline': [dict(entries[0], value=None, why='checks no immutability')]}),
                     sarif_validator)
    assert [r['partialFingerprints'] for r in again['runs'][0]['results'] if r['ruleId'] == 'baseline_weakened'] == \
        [results[0]['partialFingerprints']]
    plain = sarif_of(build_report(drift(), {'check_mode': True, 'timestamp': STAMP, 'baseline': BASELINE}), sarif_validator)
    assert 'baseline_weakened' not in [rule['id'] for rule in plain['runs'][0]['tool']['driver']['rules']]
