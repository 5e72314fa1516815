# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The five reports tell one story: for a drift.json document (valid against docs/drift-report-schema.json), drift.md,
drift.html, drift.sarif and drift.junit.xml agree with it on what an auditor reads them for: the run's mode and time, the
vaults checked and the baseline tier of each, the open findings per vault and per setting, how many were fixed, which
vaults were excluded (not checked), the errors (not checked or not changed) and the weakened baseline.

Documents: build_report over generated fleets (test_reports.vault), with generated tiers, apply results (some failing),
excluded vaults, weakened baseline keys (each also a warning, as the schema says) and errors."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import compute_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report, plural, render_junit, render_markdown
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.html import render_html
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import build_sarif
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import weakened_warning
from tests.unit.builders import SUB2, vault_id
from tests.unit.plugins.filter.drift_documents import check_document
from tests.unit.plugins.module_utils.test_reports import SCHEMA_PATH, vault

with open(SCHEMA_PATH, encoding='utf-8') as _handle:
    VALIDATOR = jsonschema.Draft202012Validator(json.load(_handle))

NAMES = st.from_regex(r'\A[a-z][a-z0-9-]{0,10}\Z')
TIERS = st.one_of(st.none(), st.sampled_from(['prod', 'dev', 'tier|pipe']))
STAMPS = st.builds(lambda d, h: '2026-01-%02dT%02d:04:05+00:00' % (d, h), st.integers(1, 28), st.integers(0, 23))


@st.composite
def documents(draw):
    """A drift.json document: its fleet, run mode, results, exclusions, weakened keys and errors all generated."""
    names = draw(st.lists(NAMES, max_size=6, unique=True))
    records = [vault(name, draw(st.sampled_from(['recovery_services', 'backup'])), draw(st.sampled_from(['disabled', 'enabled', 'locked'])),
                     (draw(st.sampled_from(['off', 'on', 'always_on'])), draw(st.sampled_from([7, 14, 30]))), rg=draw(st.sampled_from(['rg-a', 'rg-b'])))
               for name in names]
    baseline = {'immutability': draw(st.sampled_from(['enabled', 'locked'])), 'allow_irreversible': draw(st.booleans()),
                'soft_delete': {'state': 'on', 'retention_days': 14}}
    entries = compute_drift(records, baseline)
    for entry in entries:
        tier = draw(TIERS)
        if tier is not None:
            entry['tier'] = tier
    check_mode = draw(st.booleans())
    results = []
    if not check_mode:
        for entry in entries:
            for action, planned in sorted((entry.get('actions') or {}).items()):
                if planned:
                    failed = draw(st.booleans())
                    results.append({'action': action, 'id': entry['id'], 'name': entry['name'], 'failed': failed, 'changed': not failed,
                                    'msg': 'AuthorizationFailed: denied' if failed else None})
    excluded = [{'id': '/subscriptions/s/resourceGroups/rg-x/providers/Microsoft.RecoveryServices/vaults/x-%s' % name, 'name': 'x-' + name,
                 'vault_type': 'recovery_services', 'subscription_id': 's', 'resource_group': 'rg-x', 'tier': draw(TIERS),
                 'excluded_by': ['x-' + name], 'checked_at': draw(st.one_of(st.none(), STAMPS)),
                 'findings': [{'setting': 'immutability', 'have': 'disabled', 'want': 'enabled', 'fixable': True, 'irreversible': False,
                               'reason': None, 'policy': None, 'tier': None, 'sub_policy': None, 'datastore': None, 'resolved': False,
                               'fix': 'run', 'option': None}] * draw(st.integers(0, 1))}
                for name in draw(st.lists(NAMES, max_size=3, unique=True))]
    weakened = [{'variable': 'harden_backup_vaults_%s' % key, 'key': key, 'tier': None, 'value': None, 'default': 'on',
                 'why': 'checks nothing of it', 'lowers': False, 'source': 'extra vars', 'for_run': True}
                for key in draw(st.lists(st.sampled_from(['immutability', 'soft_delete']), max_size=2, unique=True))]
    errors = [{'scope': '/subscriptions/%s' % scope, 'message': 'AuthorizationFailed: no access'}
              for scope in draw(st.lists(NAMES, max_size=2))]
    discovery = draw(st.one_of(st.none(), st.builds(lambda stamp, fallback: {
        'requested': 'auto', 'source_by_subscription': {'s1': 'resource_graph', 's2': 'arm' if fallback else 'resource_graph'},
        'fallbacks': [{'subscription_id': 's2', 'reason': 'not visible'}] if fallback else [], 'data_time': stamp}, STAMPS, st.booleans())))
    left = [{'id': '/subscriptions/s/resourceGroups/rg-l/providers/Microsoft.RecoveryServices/vaults/l-%s' % name, 'name': 'l-' + name,
             'reason': draw(st.sampled_from(['unreadable', 'gone', 'untagged'])), 'code': 'AuthorizationFailed', 'why': 'ARM answered 403'}
            for name in draw(st.lists(NAMES, max_size=2, unique=True))]
    scope_changes = draw(st.one_of(st.none(), st.just({
        'previous_report': {'generated_at': '2026-01-01T00:00:00+00:00', 'vaults': 4}, 'left': left, 'read_again': [],
        'subscriptions_left': [], 'not_compared': [], 'skipped_entries': 0, 'accepted': False})))
    report = build_report(entries, {'check_mode': check_mode, 'timestamp': draw(STAMPS), 'baseline': baseline, 'results': results,
                                    'errors': errors, 'excluded_vaults': excluded, 'weakened_baseline': weakened,
                                    'warnings': [weakened_warning(entry) for entry in weakened], 'predict': check_mode,
                                    'discovery': discovery, 'scope_changes': scope_changes})
    report = json.loads(json.dumps(report))
    VALIDATOR.validate(report)
    return report


def open_findings(vault_doc):
    return [f for f in vault_doc['findings'] if not f['resolved']]


def html_data(page):
    block = re.search(r'<script type="application/json" id="findings-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(block)


def html_section(page, section_id):
    found = re.search(r'<section id="%s">(.*?)</section>' % section_id, page, re.S)
    return found.group(1) if found else ''


def md_section(text, title):
    if '\n## %s\n' % title not in text:
        return ''
    return text.split('\n## %s\n' % title, 1)[1].split('\n## ', 1)[0]


def md_rows(section):
    return [line for line in section.splitlines() if line.startswith('| ')][2:]


def tell_one_story(report):
    """Assert the four renderings agree with the document (the story an auditor reads)."""
    vaults = report['vaults']
    summary = report['summary']
    excluded = report.get('excluded_vaults') or []
    weakened = report.get('weakened_baseline') or []
    errors = report['errors']
    stamp = report['generated_at']
    check_mode = report['check_mode']
    md = render_markdown(report)
    page = render_html(report)
    junit = ET.fromstring(render_junit(report).encode('utf-8'))
    sarif = build_sarif(report)['runs'][0]

    # The run: mode and time.
    assert md.splitlines()[2].startswith('%s, generated %s,' % ('Check mode' if check_mode else 'Real run', stamp.replace('_', '\\_')))
    assert '<title>Backup vault drift report (%s, %s)</title>' % ('check mode' if check_mode else 'real run', html.escape(stamp)) in page
    suite = junit.find('testsuite')
    assert suite.get('timestamp') == stamp
    assert {p.get('name'): p.get('value') for p in suite.find('properties')}['check_mode'] == ('true' if check_mode else 'false')
    assert sarif['invocations'][0]['endTimeUtc'] == stamp and sarif['properties']['check_mode'] is check_mode
    assert sarif['automationDetails']['id'].endswith('/check/' if check_mode else '/run/')

    # Where and when the vaults were read.
    discovery = report.get('discovery')
    if discovery is not None:
        assert discovery['data_time'] in md.split('## ', 1)[0] and html.escape(discovery['data_time']) in html_section(page, 'data')
        for fallback in discovery['fallbacks']:
            assert fallback['subscription_id'] in md.split('## ', 1)[0] and fallback['subscription_id'] in html_section(page, 'data')
    else:
        assert html_section(page, 'data') == ''

    # The vaults that left the scope since the previous report: not checked by this run.
    for change in (report.get('scope_changes') or {}).get('left') or []:
        assert change['id'] in md_section(md, 'Left the scope') and html.escape(change['id']) in html_section(page, 'scope')

    # The vaults checked, their tiers and open findings.
    cases = [case for case in suite.findall('testcase') if case.find('error') is None and case.find('skipped') is None]
    assert len(cases) == summary['vaults'] == len(vaults)
    data = html_data(page)['vaults']
    assert [row[0] for row in data] == [v['id'] for v in vaults]
    results = [r for r in sarif['results'] if r['ruleId'] != 'baseline_weakened' and not r.get('suppressions')]
    drift_rows = md_rows(md_section(md, 'Drift'))
    for vault_doc, case, row in zip(vaults, cases, data):
        tier = vault_doc.get('tier')
        props = {p.get('name'): p.get('value') for p in case.iter('property')}
        assert props.get('baseline_tier') == tier
        findings = open_findings(vault_doc)
        assert (case.find('failure') is not None) is bool(findings) is vault_doc['drift']
        if findings:
            assert case.find('failure').get('message').startswith('%d finding%s, ' % (len(findings), '' if len(findings) == 1 else 's'))
        assert sorted(f[0] for f in row[9]) == sorted(f['setting'] for f in findings)
        mine = [r for r in results if r['properties']['vault_id'] == vault_doc['id']]
        assert sorted(r['ruleId'] for r in mine) == sorted(f['setting'] for f in findings)
        assert all(r['properties'].get('baseline_tier') == tier for r in mine)
        if html_data(page)['tiered']:
            assert row[5] == tier
    assert len(drift_rows) == summary['findings'] == len(results)

    # After a real run a finding still open that this run fixes ("run") is one whose change failed or was not made: no
    # report may call it fixable by this run (the summary counts it as not fixed).
    if not check_mode:
        failed_fix = [(v, f) for v in vaults for f in open_findings(v) if f['fix'] == 'run']
        assert sum(1 for row in drift_rows if '| yes' in row) == 0
        assert sum(1 for row in drift_rows if '| not fixed: ' in row) == len(failed_fix)
        failures = '\n'.join(case.find('failure').text for case in cases if case.find('failure') is not None)
        assert failures.count('; fixable') == 0 and failures.count('; not fixed by this run') == len(failed_fix)
        texts = [r['message']['text'] for r in results]
        assert sum('Fixable by the playbook.' in t or 'Fixable by the playbook (irreversible).' in t for t in texts) == 0
        assert sum('this run did not fix it' in t for t in texts) == len(failed_fix)
        assert html_data(page)['run_text'] == 'not fixed by this run'
        assert 'fixable by this run</span>' not in html_section(page, 'drift')
    # drift.html's Fix filter offers the states the page shows: after a real run an open finding the run fixes was not fixed.
    fix_filter = re.findall(r'<option value="([^"]*)">([^<]*)</option>', re.search(r'<select id="filter-fixable">(.*?)</select>', page).group(1))
    assert fix_filter == [('', 'all'), ('yes', 'fixable by this run' if check_mode else 'not fixed by this run')] + (
        [('no', 'not fixable by this run')] if check_mode else []) + [('option', 'fixable with an option'), ('person', 'needs a person')]

    # Per setting: the document's counts are the open findings.
    for setting, counts in summary['by_setting'].items():
        assert counts['findings'] == sum(1 for r in results if r['ruleId'] == setting)

    # Fixed and not fixed (a real run): the resolved findings, the failed actions among the errors.
    if not check_mode:
        resolved = sum(len(v['findings']) - len(open_findings(v)) for v in vaults)
        assert summary['resolved'] == resolved
        already = sum(1 for v in vaults for f in v['findings'] if f['resolved'] and not any(
            c['setting'] == f['setting'] for ch in report['changed'] if ch['id'] == v['id'] for c in ch['changes']))
        assert 'Changed %s; %s fixed by this run' % (plural(len(report['changed']), 'vault'), plural(resolved - already, 'finding')) in md
        assert '<span class="value">%d</span><span class="label">Resolved</span>' % resolved in page
        assert sarif['properties']['summary']['resolved'] == resolved
        # drift.junit.xml: a vault this run fixed is not a plain pass, its testcase says what was fixed.
        for vault_doc, case in zip(vaults, cases):
            fixed = [f for f in vault_doc['findings'] if f['resolved']]
            out = '\n'.join(element.text or '' for element in case.findall('system-out'))
            assert out.count('fixed by this run: ') == len(fixed), (vault_doc['name'], out)
    failed = [e for e in errors if e.get('action')]
    for error in failed:
        assert any(c.find('error') is not None and c.get('name') == error['scope'] and c.find('error').get('type') == error['action']
                   for c in suite.findall('testcase'))

    # Errors (not checked or not changed).
    notified = [n for n in sarif['invocations'][0]['toolExecutionNotifications'] if n['level'] == 'error']
    assert int(suite.get('errors')) == len(errors) == len(notified)
    assert len(md_rows(md_section(md, 'Errors'))) == len(errors)
    assert html_section(page, 'errors').count('<tr>') == (len(errors) + 1 if errors else 0)

    # Excluded: not checked.
    assert int(suite.get('skipped')) == len(excluded) == len(suite.findall('testcase/skipped'))
    assert len(md_rows(md_section(md, 'Not checked (excluded)'))) == len(excluded)
    assert html_section(page, 'excluded').count('<tr>') == (len(excluded) + 1 if excluded else 0)
    suppressed = [r for r in sarif['results'] if r.get('suppressions')]
    assert len(suppressed) == sum(len(v['findings']) for v in excluded)
    skipped = [case for case in suite.findall('testcase') if case.find('skipped') is not None]
    md_excluded = md_rows(md_section(md, 'Not checked (excluded)'))
    html_excluded = html_section(page, 'excluded').split('<tr>')[2:]
    for vault_doc, case, md_row, html_row in zip(excluded, skipped, md_excluded, html_excluded):
        # The tier the vault would have been judged against, in each report that lists it.
        tier = vault_doc.get('tier')
        assert {p.get('name'): p.get('value') for p in case.iter('property')}.get('baseline_tier') == tier
        assert all(r['properties'].get('baseline_tier') == tier for r in suppressed if r['properties']['vault_id'] == vault_doc['id'])
        if tier is not None:
            assert '| %s |' % tier.replace('|', '\\|') in md_row, md_row
            assert '<td>%s</td>' % html.escape(tier) in html_row, html_row

    # The weakened baseline: a SARIF result each; each warning in the other three.
    assert len([r for r in sarif['results'] if r['ruleId'] == 'baseline_weakened']) == len(weakened)
    warned = [p.get('value') for p in suite.find('properties') if p.get('name') == 'warning']
    for entry in weakened:
        assert weakened_warning(entry) in warned
        assert entry['variable'].replace('_', '\\_') in md_section(md, 'Warnings')
        assert entry['variable'] in html_section(page, 'warnings')


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(report=documents())
def test_the_five_reports_tell_one_story(report):
    tell_one_story(report)


# --------------------------------------------------------------------------- the examples Hypothesis found, kept

BASELINE_ENABLED = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14}}
EXCLUDED_PROD = {'id': '/subscriptions/s/resourceGroups/rg-x/providers/Microsoft.RecoveryServices/vaults/x-a', 'name': 'x-a',
                 'vault_type': 'recovery_services', 'subscription_id': 's', 'resource_group': 'rg-x', 'tier': 'prod',
                 'excluded_by': ['x-a'], 'checked_at': None, 'findings': []}


def test_an_excluded_vaults_tier_is_in_every_report():
    """An excluded vault's baseline tier was in drift.json, drift.junit.xml and drift.sarif, but the excluded tables of drift.md
    and drift.html had no tier column: they said nothing of the baseline the vault would have been judged against."""
    report = json.loads(json.dumps(build_report([], {'check_mode': True, 'timestamp': '2026-01-01T00:04:05+00:00',
                                                     'excluded_vaults': [EXCLUDED_PROD]})))
    VALIDATOR.validate(report)
    tell_one_story(report)
    assert '| Vault | Baseline tier | Kind |' in md_section(render_markdown(report), 'Not checked (excluded)')
    assert '<td>x-a</td><td>prod</td><td>Recovery Services vault</td>' in html_section(render_html(report), 'excluded')


def test_a_fix_that_failed_is_not_called_fixable_after_a_real_run():
    """The role's real run against the emulator, its immutability PATCH of rsv-unset answered 500: drift.json counted the
    finding as not fixed (by_fix.run, "1 not fixed (their change failed)"), while drift.md's row said "yes", drift.junit.xml
    "fixable", drift.sarif "Fixable by the playbook" and drift.html "fixable by this run", as in check mode."""
    entries = compute_drift([vault('rsv-unset', immutability='disabled')], BASELINE_ENABLED)
    report = json.loads(json.dumps(build_report(entries, {
        'check_mode': False, 'timestamp': '2026-01-01T00:04:05+00:00', 'baseline': BASELINE_ENABLED,
        'results': [{'action': 'immutability', 'id': entries[0]['id'], 'failed': True, 'msg': 'InternalServerError'}]})))
    VALIDATOR.validate(report)
    tell_one_story(report)
    row = md_rows(md_section(render_markdown(report), 'Drift'))[0]
    assert "| not fixed: this run's change failed or was not made (see Errors): set immutability disabled -> enabled |" in row
    failure = ET.fromstring(render_junit(report).encode('utf-8')).find('testsuite/testcase/failure').text
    assert 'immutability: have disabled, want enabled; not fixed by this run (its change failed or was not made)' in failure
    text = build_sarif(report)['runs'][0]['results'][0]['message']['text']
    assert 'Fixable by the playbook, but this run did not fix it: its change failed or was not made' in text
    page = render_html(report)
    assert '>not fixed by this run</span>' in html_section(page, 'drift') and html_data(page)['run_text'] == 'not fixed by this run'


def test_drift_html_says_where_and_when_the_vaults_were_read_and_what_left_the_scope():
    """drift.md said where the vaults were read from and as of when (discovery) and which vaults left the scope since the
    previous report (scope_changes: not checked by this run); drift.html said neither."""
    report = check_document()
    report['scope_changes']['subscriptions_left'] = ['33333333-3333-3333-3333-333333333333']
    tell_one_story(report)
    page = render_html(report)
    data = html_section(page, 'data')
    assert 'Read from Azure Resource Graph for 1 subscription, Azure Resource Manager for 1 subscription, as of 2026-03-01T23:00:00Z (UTC).' in data
    assert '<td>%s</td><td>not visible</td>' % SUB2 in data
    scope = html_section(page, 'scope')
    assert 'Compared with the previous report in this directory (2026-03-01T00:00:00+00:00, 5 vaults judged).' in scope
    assert '<td>rsv-gone</td><td>%s</td><td>gone from Azure</td><td>ARM answered 404</td>' % html.escape(vault_id('rsv-gone')) in scope
    assert 'Subscriptions no longer listed for this identity: 33333333-3333-3333-3333-333333333333.' in scope
    assert '<a href="#data">Data</a>' in page and '<a href="#scope">Left the scope</a>' in page


def test_drift_junit_xml_says_what_a_real_run_fixed():
    """A vault a real run fixed was a passing testcase like a vault that met the baseline: drift.junit.xml said nothing of the
    fix that drift.json (resolved), drift.md and drift.html (Changed) recorded."""
    entries = compute_drift([vault('rsv-open', immutability='disabled', soft_delete=('off', 14))], BASELINE_ENABLED)
    report = json.loads(json.dumps(build_report(entries, {
        'check_mode': False, 'timestamp': '2026-01-01T00:04:05+00:00', 'baseline': BASELINE_ENABLED,
        'results': [{'action': 'immutability', 'id': entries[0]['id'], 'changed': True,
                     'changes': [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled'}]},
                    {'action': 'soft_delete', 'id': entries[0]['id'], 'changed': True,
                     'changes': [{'setting': 'soft_delete', 'before': 'off', 'after': 'on'}]}]})))
    VALIDATOR.validate(report)
    tell_one_story(report)
    case = ET.fromstring(render_junit(report).encode('utf-8')).find('testsuite/testcase')
    assert case.find('failure') is None
    assert case.find('system-out').text.splitlines() == [
        'fixed by this run: immutability: was disabled, wanted enabled',
        'fixed by this run: soft delete: was off, wanted on']


@pytest.mark.parametrize('check_mode', [True, False])
def test_the_azure_policy_section_says_a_real_runs_verdicts_are_from_before_its_changes(check_mode):
    """The role's real run against the emulator: bv-disabled's immutability was fixed (Changed, resolved, posture enabled),
    and the Azure Policy section listed it non-compliant "as this run read them", which after a real run is before its
    changes: drift.md and drift.html now say so."""
    report = check_document()
    report['check_mode'] = check_mode
    before = 'as this run read them, before its changes: a vault this run changed may comply now (see Changed)'
    assert (before in md_section(render_markdown(report), 'Azure Policy')) is not check_mode
    assert (before in html_section(render_html(report), 'azure-policy')) is not check_mode
    assert 'as this run read them' in md_section(render_markdown(report), 'Azure Policy')
