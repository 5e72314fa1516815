# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports: drift.json against its schema, drift.md content, drift.junit.xml counts, escaping."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import compute_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import (
    ReportError,
    build_report,
    md_escape,
    render_junit,
    json_chunks,
    render_markdown,
    write_json,
)
from tests.unit.builders import SECURITY_NULL, SUB

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
SCHEMA_PATH = os.path.join(ROOT, 'docs', 'drift-report-schema.json')
STAMP = '2026-01-02T03:04:05+00:00'


def vault(name, vault_type='recovery_services', immutability='enabled', soft_delete=('on', 14), rg='rg-a', mua=False):
    provider = 'Microsoft.RecoveryServices/vaults' if vault_type == 'recovery_services' else 'Microsoft.DataProtection/backupVaults'
    return {
        'id': '/subscriptions/%s/resourceGroups/%s/providers/%s/%s' % (SUB, rg, provider, name),
        'name': name, 'resource_group': rg, 'subscription_id': SUB, 'location': 'westeurope', 'vault_type': vault_type,
        'immutability': immutability, 'immutability_retention_days': None,
        'soft_delete': {'state': soft_delete[0], 'retention_days': soft_delete[1]},
        'mua': {'protected': mua, 'resource_guard_id': None}, 'tags': {}, 'provisioning_state': 'Succeeded',
    }


BASELINE = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14}}


@pytest.fixture(name='schema')
def schema_fixture():
    with open(SCHEMA_PATH, encoding='utf-8') as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def validate(schema, report):
    # Through a JSON round trip, as the role writes it.
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(report)))


def fleet():
    return [
        vault('clean-rsv'),
        vault('open-rsv', immutability='disabled', soft_delete=('on', 7)),
        vault('stuck-bv', vault_type='backup', immutability='locked', soft_delete=('off', 14), mua=True),
    ]


def drift(baseline=None):
    return compute_drift(fleet(), baseline or BASELINE)


def test_check_report_shape_and_schema(schema):
    report = build_report(drift(), {'check_mode': True, 'timestamp': STAMP, 'baseline': BASELINE,
                                    'errors': [{'scope': 'subscription 2222', 'message': 'AuthorizationFailed: no access'}]})
    validate(schema, report)
    assert report['schema_version'] == '2.4'
    assert report['generated_at'] == STAMP
    assert report['check_mode'] is True and 'mode' not in report
    assert report['baseline'] == {'immutability': 'enabled', 'allow_irreversible': False, 'retention': None,
                                  'soft_delete': {'state': 'on', 'retention_days': 14}, **SECURITY_NULL}
    assert [(v['name'], v['drift'], v['status']) for v in report['vaults']] == [
        ('clean-rsv', False, 'compliant'), ('open-rsv', True, 'drift'), ('stuck-bv', True, 'drift')]
    assert report['changed'] == []
    assert report['errors'] == [{'scope': 'subscription 2222', 'message': 'AuthorizationFailed: no access', 'action': None, 'vault': None}]
    summary = report['summary']
    assert (summary['vaults'], summary['drifting'], summary['findings'], summary['fixable'], summary['unfixable']) == (3, 2, 3, 3, 0)
    assert (summary['errors'], summary['changed'], summary['fixed'], summary['resolved']) == (1, 0, 0, 0)
    assert all(f['resolved'] is False for v in report['vaults'] for f in v['findings'])


def test_apply_report_marks_resolved_and_lists_changes(schema):
    entries = drift()
    by_name = dict((e['name'], e) for e in entries)
    # Registered loop results, as the role gets them from loop: over drift entries.
    results = {
        'immutability': {'changed': True, 'results': [
            {'item': by_name['open-rsv'], 'changed': True, 'failed': False,
             'changes': [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled'}]},
            {'item': by_name['clean-rsv'], 'skipped': True, 'changed': False},
        ]},
        'soft_delete': {'results': [
            {'item': by_name['open-rsv'], 'changed': False, 'failed': True, 'msg': 'Recovery Services vault open-rsv: 409 | Conflict'},
            {'item': by_name['stuck-bv'], 'changed': True, 'failed': False,
             'changes': [{'setting': 'soft_delete', 'before': 'off', 'after': 'on'}]},
        ]},
    }
    report = build_report(entries, {'check_mode': False, 'timestamp': STAMP, 'baseline': BASELINE, 'results': results})
    validate(schema, report)
    vaults = dict((v['name'], v) for v in report['vaults'])
    assert [(f['setting'], f['resolved']) for f in vaults['open-rsv']['findings']] == [
        ('immutability', True), ('soft_delete_retention_days', False)]
    assert vaults['open-rsv']['status'] == 'drift'
    assert vaults['stuck-bv']['status'] == 'fixed' and vaults['stuck-bv']['drift'] is False
    assert [(c['name'], [(x['action'], x['setting'], x['before'], x['after']) for x in c['changes']]) for c in report['changed']] == [
        ('open-rsv', [('immutability', 'immutability', 'disabled', 'enabled')]),
        ('stuck-bv', [('soft_delete', 'soft_delete', 'off', 'on')]),
    ]
    assert report['errors'] == [{'scope': by_name['open-rsv']['id'], 'message': 'Recovery Services vault open-rsv: 409 | Conflict',
                                 'action': 'soft_delete', 'vault': 'open-rsv'}]
    summary = report['summary']
    assert (summary['drifting'], summary['findings'], summary['resolved'], summary['fixed'], summary['changed'], summary['errors']) == (1, 1, 2, 1, 2, 1)


def test_results_matched_case_insensitively_and_flat_list():
    entries = drift()
    target = [e for e in entries if e['name'] == 'open-rsv'][0]
    results = [{'action': 'immutability', 'id': target['id'].upper(), 'changed': True, 'changes': []}]
    report = build_report(entries, {'check_mode': False, 'results': results})
    vaults = dict((v['name'], v) for v in report['vaults'])
    assert vaults['open-rsv']['findings'][0]['resolved'] is True
    assert report['changed'][0]['changes'] == [{'action': 'immutability', 'setting': 'immutability', 'policy': None, 'tier': None,
                                                'sub_policy': None, 'datastore': None, 'before': None, 'after': None,
                                                'irreversible': False}]


def test_check_mode_never_resolves():
    entries = drift()
    target = [e for e in entries if e['name'] == 'open-rsv'][0]
    report = build_report(entries, {'check_mode': True, 'results': {'immutability': [{'item': target, 'changed': True}]}})
    assert report['summary']['resolved'] == 0
    assert report['summary']['changed'] == 1  # what a real run would change


@pytest.mark.parametrize('meta,message', [
    ({'mode': 'check'}, 'replaced by meta.check_mode'),
    ({'check_mode': 'yes'}, 'must be true or false'),
    ({'results': {'lock': []}}, 'unknown action'),
    ({'results': [{'id': 'x'}]}, 'needs action'),
    ({'results': {'immutability': [{'changed': True}]}}, 'names no vault'),
    ({'errors': 'boom'}, 'must be a list'),
    ('apply', 'meta must be a dictionary'),
])
def test_bad_meta(meta, message):
    with pytest.raises(ReportError, match=message):
        build_report(drift(), meta)


# --------------------------------------------------------------------------- Markdown

def test_markdown_rows():
    report = build_report(drift(), {'check_mode': True, 'timestamp': STAMP, 'baseline': BASELINE,
                                    'errors': [{'scope': 'subscription 2222', 'message': 'AuthorizationFailed: no access'}]})
    text = render_markdown(report)
    lines = text.splitlines()
    assert lines[0] == '# Backup vault drift report'
    assert 'Check mode, generated 2026-01-02T03:04:05+00:00, report schema 2.4.' in lines
    assert '**Drift:** 2 of 3 vaults drift from the baseline: 3 findings, 3 fixable, 0 not fixable.' in lines
    assert '| Drifting | 2 |' in lines
    assert '| immutability | 1 | 1 | 1 | 0 | 0 | 0 |' in lines
    assert '| Backup vault | 1 | 1 | 1 |' in lines
    assert '| Vault | Type | Subscription | Resource group | Finding | Have → want | Fixable | MUA |' in lines
    assert ('| open-rsv | Recovery Services vault | %s | rg-a | immutability | disabled → enabled | yes: set immutability disabled -> enabled | no |'
            % SUB) in lines
    assert ('| open-rsv | Recovery Services vault | %s | rg-a | soft delete retention days | 7 → 14 | yes: raise soft delete retention to 14 days | no |'
            % SUB) in lines
    assert ('| stuck-bv | Backup vault | %s | rg-a | soft delete | off → on | yes: set soft delete off -> on | yes |' % SUB) in lines
    assert not any(line.startswith('| clean-rsv |') for line in lines)
    assert '## Errors' in lines
    assert '| subscription 2222 | discovery | AuthorizationFailed: no access |' in lines
    # every table row has the same number of unescaped pipes as its header
    for line in lines:
        if line.startswith('| open-rsv'):
            assert line.replace('\\|', '').count('|') == 9


def test_markdown_no_drift():
    report = build_report(compute_drift([vault('a'), vault('b', vault_type='backup')], BASELINE), {'timestamp': STAMP})
    text = render_markdown(report)
    assert '**No drift.** 2 vaults checked, all meet the baseline.' in text
    assert '## Drift' not in text and '## Errors' not in text


def test_markdown_apply_sections():
    entries = drift()
    target = [e for e in entries if e['name'] == 'open-rsv'][0]
    results = {'immutability': [{'item': target, 'changed': True, 'changes': [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled'}]}]}
    text = render_markdown(build_report(entries, {'check_mode': False, 'timestamp': STAMP, 'results': results}))
    lines = text.splitlines()
    assert 'Changed 1 vault; 1 finding fixed by this run.' in lines
    assert '## Changed' in lines
    assert '| open-rsv | Recovery Services vault | %s | rg-a | immutability | disabled → enabled |' % SUB in lines
    # the resolved finding is no longer a drift row
    assert not [line for line in lines if line.startswith('| open-rsv') and line.endswith('| yes: set immutability disabled -> enabled | no |')]


@pytest.mark.parametrize('raw,escaped', [
    ('plain-name', 'plain-name'),
    ('a|b', 'a\\|b'),
    ('rg_prod', 'rg\\_prod'),
    ('<script>x</script>', '\\<script>x\\</script>'),
    ('line\nbreak', 'line break'),
    ('*bold* `code` [link](x)', '\\*bold\\* \\`code\\` \\[link\\](x)'),
    ('back\\slash & co', 'back\\\\slash &amp; co'),
    (None, '-'),
    # What shows nothing or turns the text after it (Trojan Source) as its code; other letters as they are.
    ('rg-\u202eexe.txt', 'rg-\\\\u202eexe.txt'),
    ('a\u200bb\u00a0c\u2066d', 'a\\\\u200bb c\\\\u2066d'),  # a no-break space is a space (_NEWLINES)
    ('caf\u00e9-\u65e5\u672c', 'caf\u00e9-\u65e5\u672c'),
])
def test_md_escape(raw, escaped):
    assert md_escape(raw) == escaped


def test_odd_names_cannot_break_the_table(schema):
    odd = vault('v|1', immutability='disabled', rg='rg|<b>\nx')
    report = build_report(compute_drift([odd], BASELINE),
                          {'timestamp': STAMP, 'errors': [{'scope': 'sub|x', 'message': 'bad\x00thing <&> "quoted" \x1b[31m'}]})
    validate(schema, report)
    lines = render_markdown(report).splitlines()
    row = [line for line in lines if line.startswith('| v\\|1 ')][0]
    assert row.replace('\\|', '').count('|') == 9
    assert 'rg\\|\\<b> x' in row
    error_row = [line for line in lines if line.startswith('| sub')][0]
    assert error_row.replace('\\|', '').count('|') == 4
    root = ET.fromstring(render_junit(report).encode('utf-8'))
    case = root.find('testsuite/testcase')
    assert case.get('name') == 'v|1'
    assert case.get('classname') == '%s/rg|<b>\nx' % SUB
    error = root.find("testsuite/testcase[@classname='errors/discovery']/error")
    assert error.get('message') == 'bad\ufffdthing <&> "quoted" \ufffd[31m'


# --------------------------------------------------------------------------- JUnit

def junit(report):
    return ET.fromstring(render_junit(report).encode('utf-8'))


def test_junit_counts_and_cases():
    report = build_report(drift(), {'check_mode': True, 'timestamp': STAMP,
                                    'errors': [{'scope': 'subscription 2222', 'message': 'denied'}]})
    text = render_junit(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = junit(report)
    assert root.tag == 'testsuites' and root.get('name') == 'harden_backup_vaults'
    [suite] = root.findall('testsuite')
    assert suite.get('name') == 'harden_backup_vaults'
    cases = suite.findall('testcase')
    for element in (root, suite):
        assert (element.get('tests'), element.get('failures'), element.get('errors')) == ('4', '2', '1')
    assert len(cases) == 4
    assert len(suite.findall('testcase/failure')) == 2
    assert len(suite.findall('testcase/error')) == 1
    assert [(c.get('classname'), c.get('name')) for c in cases] == [
        ('%s/rg-a' % SUB, 'clean-rsv'), ('%s/rg-a' % SUB, 'open-rsv'), ('%s/rg-a' % SUB, 'stuck-bv'),
        ('errors/discovery', 'subscription 2222')]
    assert cases[0].find('failure') is None
    failure = cases[1].find('failure')
    assert failure.get('type') == 'drift'
    assert failure.get('message') == '2 findings, 2 fixable, 0 not fixable: immutability, soft delete retention days'
    assert 'immutability: have disabled, want enabled; fixable (set immutability disabled -> enabled)' in failure.text
    assert cases[3].find('error').get('message') == 'denied'


def test_junit_clean_fleet_and_duplicate_names():
    entries = compute_drift([vault('same'), vault('same', vault_type='backup')], BASELINE)
    root = junit(build_report(entries, {'timestamp': STAMP}))
    assert (root.get('tests'), root.get('failures'), root.get('errors')) == ('2', '0', '0')
    assert sorted(c.get('name') for c in root.iter('testcase')) == ['same', 'same (recovery_services)']


def test_junit_apply_counts_what_is_left():
    entries = drift()
    fixed = [e for e in entries if e['name'] == 'stuck-bv'][0]
    report = build_report(entries, {'check_mode': False, 'results': {'soft_delete': [{'item': fixed, 'changed': True}]}})
    root = junit(report)
    assert (root.get('tests'), root.get('failures'), root.get('errors')) == ('3', '1', '0')
    # After a real run a fixable finding still open was not fixed: its change failed or was not made (as _finding_line says).
    [failure] = root.iter('failure')
    assert failure.get('message') == ('2 findings, 2 not fixed by this run (their change failed or was not made), 0 not fixable: '
                                      'immutability, soft delete retention days')


def test_junit_failure_message_counts_one_finding_in_the_singular():
    entries = compute_drift([vault('one-rsv', immutability='disabled')], BASELINE)
    [failure] = junit(build_report(entries, {'timestamp': STAMP})).iter('failure')
    assert failure.get('message') == '1 finding, 1 fixable, 0 not fixable: immutability'


def test_junit_lists_excluded_vaults_as_skipped_cases(schema):
    """drift.json excluded_vaults: each excluded vault is a skipped testcase (not checked by this run), named and classed as
    a checked vault is, its message naming the exclusion entries and the open findings of the last report that checked it;
    the suite counts it in tests and skipped, never in failures."""
    checked = build_report(drift(), {'check_mode': True, 'timestamp': STAMP, 'baseline': BASELINE})
    row = [v for v in checked['vaults'] if v['name'] == 'open-rsv'][0]
    carried = {'id': row['id'], 'name': row['name'], 'vault_type': row['vault_type'], 'subscription_id': SUB,
               'resource_group': 'rg-a', 'tier': None, 'excluded_by': ['open-*'], 'checked_at': STAMP,
               'findings': [f for f in row['findings'] if not f['resolved']]}
    never = dict(vault('new-bv', vault_type='backup', rg='rg-b'), tier='prod', excluded_by=['rg-b', 'new-bv'], checked_at=None, findings=[])
    rest = [entry for entry in drift() if entry['name'] != 'open-rsv']
    report = build_report(rest, {'check_mode': True, 'timestamp': STAMP, 'baseline': BASELINE, 'excluded_vaults': [carried, never]})
    validate(schema, report)
    root = junit(report)
    [suite] = root.findall('testsuite')
    assert (suite.get('tests'), suite.get('failures'), suite.get('errors'), suite.get('skipped')) == ('4', '1', '0', '2')
    assert (root.get('tests'), root.get('failures'), root.get('errors')) == ('4', '1', '0')
    skipped = [(case.get('classname'), case.get('name'), case.find('skipped')) for case in suite.findall('testcase')
               if case.find('skipped') is not None]
    assert [(classname, name) for classname, name, element in skipped] == [('%s/rg-a' % SUB, 'open-rsv'), ('%s/rg-b' % SUB, 'new-bv')]
    first, second = [element for classname, name, element in skipped]
    assert first.get('message') == ('Not checked: excluded by open-*; last checked %s: 2 open findings (immutability, '
                                    'soft delete retention days)' % STAMP)
    assert first.text.splitlines()[0] == row['id']
    assert 'immutability: have disabled, want enabled; fixable (set immutability disabled -> enabled)' in first.text
    assert second.get('message') == 'Not checked: excluded by rg-b, new-bv; never checked in this report directory'
    case = [c for c in suite.findall('testcase') if c.get('name') == 'new-bv'][0]
    assert case.find("properties/property[@name='baseline_tier']").get('value') == 'prod'
    assert case.find('failure') is None
    # Without excluded vaults: nothing skipped.
    assert junit(checked).find('testsuite').get('skipped') == '0' and junit(checked).find('.//skipped') is None


def test_renderers_refuse_other_documents():
    with pytest.raises(ReportError):
        render_markdown({'vaults': []})
    with pytest.raises(ReportError, match='schema_version'):
        render_junit({'schema_version': '9.0', 'summary': {}, 'vaults': []})


def test_documented_example_validates(schema):
    with open(os.path.join(ROOT, 'docs', 'drift-report.md'), encoding='utf-8') as handle:
        text = handle.read()
    example = text.split('```json\n', 1)[1].split('\n```', 1)[0]
    validate(schema, json.loads(example))


# --------------------------------------------------------------------------- properties over random fleets

try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover - hypothesis is in requirements-dev.txt
    given = None

if given is not None:
    _NAMES = st.text(alphabet=st.characters(blacklist_categories=('Cs',)), min_size=1, max_size=12)
    _VAULTS = st.lists(st.builds(
        lambda name, kind, imm, sd, days, mua, rg: dict(vault(name, kind, imm, (sd, days), rg=rg, mua=mua)),
        _NAMES, st.sampled_from(['recovery_services', 'backup']), st.sampled_from(['disabled', 'enabled', 'locked']),
        st.sampled_from(['off', 'on', 'always_on']), st.one_of(st.none(), st.integers(1, 200)), st.booleans(), _NAMES,
    ), max_size=8)
    _BASELINES = st.fixed_dictionaries({
        'immutability': st.sampled_from([None, 'disabled', 'enabled', 'locked']),
        'allow_irreversible': st.booleans(),
        'soft_delete': st.one_of(st.none(), st.fixed_dictionaries({
            'state': st.sampled_from([None, 'on', 'always_on']), 'retention_days': st.one_of(st.none(), st.integers(14, 180))})),
    })

    @settings(max_examples=150, deadline=None)
    @given(vaults=_VAULTS, baseline=_BASELINES, errors=st.lists(st.fixed_dictionaries({'scope': _NAMES, 'message': _NAMES}), max_size=3))
    def test_random_fleets_make_consistent_reports(vaults, baseline, errors):
        with open(SCHEMA_PATH, encoding='utf-8') as handle:
            schema = json.load(handle)
        entries = compute_drift(vaults, baseline)
        for entry in entries:
            assert entry['drift'] is bool(entry['findings'])
            fixable = set(f['setting'] for f in entry['findings'] if f['fixable'])
            assert bool(entry['actions']['immutability']) is ('immutability' in fixable)
            assert bool(entry['actions']['soft_delete']) is bool(fixable & {'soft_delete', 'soft_delete_retention_days'})
            for finding in entry['findings']:
                if finding['setting'] == 'immutability' and finding['want'] == 'locked' and not baseline['allow_irreversible']:
                    assert finding['fixable'] is False
        report = build_report(entries, {'timestamp': STAMP, 'baseline': baseline, 'errors': errors})
        validate(schema, report)
        summary = report['summary']
        assert summary['drifting'] + summary['clean'] == summary['vaults'] == len(vaults)
        assert summary['fixable'] + summary['unfixable'] == summary['findings'] == sum(len(e['findings']) for e in entries)
        root = ET.fromstring(render_junit(report).encode('utf-8'))
        assert int(root.get('tests')) == len(root.findall('testsuite/testcase')) == len(vaults) + len(errors)
        assert int(root.get('failures')) == len(root.findall('testsuite/testcase/failure')) == summary['drifting']
        assert int(root.get('errors')) == len(root.findall('testsuite/testcase/error')) == len(errors)
        text = render_markdown(report)
        rows = [line for line in text.splitlines() if line.startswith('| ')]
        for row in rows:
            assert row.endswith(' |')
        drift_rows = text.split('## Drift\n\n', 1)[1].split('\n\n', 1)[0].splitlines()[2:] if summary['drifting'] else []
        assert len(drift_rows) == summary['findings']
        for row in drift_rows:
            assert row.replace('\\|', '').count('|') == 9


def test_markdown_never_mentions_anyone():
    """Issue 25: '@org/team' in a vault's tag or Azure's message must not notify a team when drift.md is posted."""
    from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import md_escape
    assert md_escape('ping @org/team and @me') == 'ping &#64;org/team and &#64;me'
    assert '@' not in md_escape('a@b|c')


@pytest.mark.parametrize('report', [
    {},
    {'vaults': [], 'summary': {}, 'name': 'x', 'count': 0, 'flag': None},
    {'vaults': [{'name': 'b', 'z': [1, {'y': 'é\n"'}], 'a': None}, {'name': 'a'}], 'posture': {'s2': {'b': 1, 'a': 2}, 's1': []},
     'b': 'ünïcode ☃', 'a': [[1, 2], []]},
])
def test_write_json_reads_back_as_the_report_a_line_per_member(report, tmp_path):
    path = tmp_path / 'drift.json'
    with open(path, 'w', encoding='utf-8') as handle:
        write_json(report, handle)
    text = path.read_text(encoding='utf-8')
    assert json.loads(text) == report
    assert text.endswith('}\n') and '\\u' not in text  # UTF-8 as written, not escaped
    lines = text.split('\n')[1:-2]
    # Top-level keys sorted, one a line; each member of a non-empty list or object whole on its own line.
    assert [json.loads(line.split(': ', 1)[0]) for line in lines if line.startswith('  "')] == sorted(report)
    members = [line.strip().rstrip(',') for line in lines if line.startswith('    ')]
    expected = []
    for key in sorted(report):
        value = report[key]
        if isinstance(value, list):
            expected += [json.dumps(m, sort_keys=True, ensure_ascii=False, separators=(', ', ': ')) for m in value]
        elif isinstance(value, dict):
            expected += ['%s: %s' % (json.dumps(k), json.dumps(value[k], sort_keys=True, ensure_ascii=False, separators=(', ', ': ')))
                         for k in sorted(value)]
    assert members == expected


@pytest.mark.parametrize('sort_keys', [True, False])
def test_json_chunks_compact_is_the_one_shot_ascii_encoding_in_pieces(sort_keys):
    value = {'drift': [{'name': 'ü', 'b': [1, {'z': None}]}, {'name': 'x'}], 'baseline': {'y': 1, 'a': {'k': 'v'}}, 'empty': [], 'n': 3}
    pieces = list(json_chunks(value, 2, sort_keys=sort_keys, compact=True))
    assert ''.join(pieces) == json.dumps(value, sort_keys=sort_keys, separators=(',', ':'), ensure_ascii=True)
    # Each drift entry is a piece of its own (encoded on its own, never the whole list at once).
    assert json.dumps(value['drift'][0], sort_keys=sort_keys, separators=(',', ':')) in pieces
