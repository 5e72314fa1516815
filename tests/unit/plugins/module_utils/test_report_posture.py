# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports an auditor can sign (issue 26): the posture of every vault in drift.json (each rule's state, compliant or
not, the posture summary), the three kinds of finding (fixed by this run, fixable with a named option, needs a person)
in every writer, drift.sarif's levels and locations, and drift.html's vault groups. Expected values written by hand."""

from __future__ import annotations

import copy
import html.parser
import json
import os
import re

import jsonschema
import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import compute_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.html import PAGE_SIZE, render_html
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import FINGERPRINT_KEY, build_sarif
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report, is_locked, posture_summary, render_junit, render_markdown
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import Rule, Setting
from tests.unit.builders import SECURITY_POSTURE_UNSET
from tests.unit.plugins.module_utils.test_drift import rs_policies, vault

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
SUB2 = '00000000-0000-0000-0000-000000000002'
STAMP = '2026-12-06T02:00:00+00:00'
REPORT_MINIMUM = {'minimum': {'daily': '30d'}, 'mode': 'report'}


@pytest.fixture(name='schema', scope='module')
def schema_fixture():
    with open(os.path.join(ROOT, 'docs', 'drift-report-schema.json'), encoding='utf-8') as handle:
        return json.load(handle)


@pytest.fixture(name='sarif_validator', scope='module')
def sarif_validator_fixture():
    with open(os.path.join(ROOT, 'tests', 'fixtures', 'sarif', 'sarif-schema-2.1.0.json'), encoding='utf-8') as handle:
        return jsonschema.Draft4Validator(json.load(handle), format_checker=jsonschema.FormatChecker())


def fleet():
    """Five vaults in two subscriptions: one locked and compliant, one locked with weak policies, one enabled (the baseline
    asks for locked, no consent), one disabled, one Backup vault with soft delete off protected by a Resource Guard."""
    guard = {'protected': True, 'resource_guard_id': '/subscriptions/%s/resourceGroups/rg-g/providers/Microsoft.DataProtection/'
             'resourceGuards/guard1' % SUB2}
    return [
        vault(name='rsv-locked', immutability='locked', policies=[]),
        vault(name='rsv-locked-weak', immutability='locked', policies=rs_policies()),
        vault(name='rsv-enabled', immutability='enabled', policies=[]),
        vault(name='rsv-disabled', immutability='disabled', policies=[], sub=SUB2),
        vault(name='bv-off', vault_type='backup', immutability='locked', soft_delete={'state': 'off', 'retention_days': None},
              mua=guard, policies=[], sub=SUB2),
    ]


BASELINE = {'immutability': 'locked', 'soft_delete': {'state': 'on', 'retention_days': 14}, 'retention': REPORT_MINIMUM}


def report_of(baseline=None, vaults=None, **meta):
    meta.setdefault('check_mode', True)
    meta.setdefault('timestamp', STAMP)
    baseline = baseline or BASELINE
    return build_report(compute_drift(vaults if vaults is not None else fleet(), baseline), dict(meta, baseline=baseline))


def by_name(report):
    return dict((v['name'], v) for v in report['vaults'])


def validate(schema, report):
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(json.loads(json.dumps(report)))


# --------------------------------------------------------------------------- 1. posture

def test_every_vault_has_every_rules_state_compliant_or_not(schema):
    report = report_of()
    validate(schema, report)
    vaults = by_name(report)
    assert len(vaults) == 5
    assert {name: v['posture']['immutability']['state'] for name, v in vaults.items()} == {
        'rsv-locked': 'locked', 'rsv-locked-weak': 'locked', 'rsv-enabled': 'enabled', 'rsv-disabled': 'disabled', 'bv-off': 'locked'}
    # A compliant vault is listed with its states too.
    assert vaults['rsv-locked']['status'] == 'compliant'
    assert vaults['rsv-locked']['posture'] == {
        'immutability': {'state': 'locked', 'retention_days': None, 'compliant': True},
        'soft_delete': {'state': 'on', 'retention_days': 14, 'enhanced_security': 'on', 'compliant': True},
        'retention': {'state': 'meets_minimum', 'policies': 0, 'weak_tiers': 0, 'compliant': True},
        'mua': {'state': 'not_protected', 'resource_guard_id': None, 'compliant': None},
        **SECURITY_POSTURE_UNSET,
    }
    assert vaults['bv-off']['posture']['public_network_access']['state'] == 'not_applicable'
    assert vaults['rsv-enabled']['posture']['immutability']['compliant'] is False
    weak = vaults['rsv-locked-weak']['posture']['retention']
    assert (weak['state'], weak['policies'], weak['compliant']) == ('below_minimum', 2, False) and weak['weak_tiers'] >= 1
    assert vaults['bv-off']['posture']['soft_delete'] == {'state': 'off', 'retention_days': None, 'compliant': False}
    assert vaults['bv-off']['posture']['mua']['state'] == 'protected'


def test_posture_summary_answers_is_every_vault_locked_and_which_are_not(schema):
    report = report_of()
    posture = report['posture']
    assert (posture['vaults'], posture['locked'], posture['not_locked'], posture['all_locked']) == (5, 3, 2, False)
    assert posture['lock_rules'] == ['immutability']
    assert posture['rules']['immutability'] == {'states': {'locked': 3, 'enabled': 1, 'disabled': 1}, 'compliant': 3,
                                                'not_compliant': 2, 'not_checked': 0}
    assert posture['rules']['soft_delete']['states'] == {'on': 4, 'off': 1}
    assert posture['rules']['mua'] == {'states': {'not_protected': 4, 'protected': 1}, 'compliant': 0, 'not_compliant': 0,
                                       'not_checked': 5}
    assert posture['by_subscription'][SUB2]['vaults'] == 2 and posture['by_subscription'][SUB2]['locked'] == 1
    assert posture['by_subscription'][SUB2]['rules']['immutability']['states'] == {'disabled': 1, 'locked': 1}
    # From drift.json alone: the vaults that are not locked.
    assert sorted(v['name'] for v in report['vaults'] if v['posture']['immutability']['state'] != 'locked') == ['rsv-disabled', 'rsv-enabled']

    locked = [vault(name='a', immutability='locked', policies=[]), vault(name='b', immutability='locked', policies=[])]
    assert report_of(vaults=locked)['posture']['all_locked'] is True
    empty = report_of(vaults=[])['posture']
    assert (empty['vaults'], empty['all_locked']) == (0, False)


def _summary_one_vault_at_a_time(vaults):
    """posture_summary as its docstring says it, vault by vault: the reference the tallied version is held to."""
    def blank():
        return {'states': {}, 'compliant': 0, 'not_compliant': 0, 'not_checked': 0}
    keys = list((vaults[0]['posture'] if vaults else {}))
    rules = dict((key, blank()) for key in keys)
    by_sub = {}
    for row in vaults:
        sub = by_sub.setdefault(str(row.get('subscription_id') or 'unknown'), {'vaults': 0, 'locked': 0, 'rules': dict((k, blank()) for k in keys)})
        sub['vaults'] += 1
        sub['locked'] += is_locked(row)
        for key, state in row['posture'].items():
            for counts in (rules[key], sub['rules'][key]):
                counts['states'][state['state']] = counts['states'].get(state['state'], 0) + 1
                column = 'not_checked' if state['compliant'] is None else ('compliant' if state['compliant'] else 'not_compliant')
                counts[column] += 1
    return rules, dict(sorted(by_sub.items()))


def test_posture_summary_is_the_count_vault_by_vault_in_the_order_states_are_first_seen():
    import random  # pylint: disable=import-outside-toplevel
    rng = random.Random(26)
    rows = build_report(compute_drift([
        vault('v-%03d' % index, immutability=rng.choice(['disabled', 'enabled', 'locked']), sub='0000000%d-0000-4000-8000-000000000000' % rng.randint(1, 4))
        for index in range(120)], {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14}}),
        {'check_mode': True})['vaults']
    rng.shuffle(rows)
    summary = posture_summary(rows)
    rules, by_sub = _summary_one_vault_at_a_time(rows)
    assert json.dumps(summary['rules']) == json.dumps(rules)  # the same counts, states in the same order
    assert json.dumps(summary['by_subscription']) == json.dumps(by_sub)
    assert summary['locked'] == sum(1 for row in rows if is_locked(row)) and summary['vaults'] == 120


def test_posture_counts_vaults_a_baseline_does_not_check():
    report = report_of(baseline={'immutability': None})
    counts = report['posture']['rules']['immutability']
    assert counts['not_checked'] == 5 and counts['states'] == {'locked': 3, 'enabled': 1, 'disabled': 1}
    assert report['posture']['rules']['retention']['states'] == {'not_checked': 5}


def test_a_real_run_reports_the_state_it_left():
    baseline = {'immutability': 'locked', 'allow_irreversible': True}
    vaults = [vault(name='rsv-enabled', immutability='enabled', policies=[])]
    drift = compute_drift(vaults, baseline)
    result = {'item': {'id': drift[0]['id'], 'name': 'rsv-enabled'}, 'changed': True,
              'changes': [{'setting': 'immutability', 'before': 'enabled', 'after': 'locked', 'irreversible': True}]}
    report = build_report(drift, {'check_mode': False, 'timestamp': STAMP, 'baseline': baseline, 'results': {'immutability': [result]}})
    posture = report['vaults'][0]['posture']['immutability']
    assert (posture['state'], posture['compliant']) == ('locked', True)
    assert report['posture']['all_locked'] is True
    # Check mode reports the state as read.
    check = build_report(drift, {'check_mode': True, 'timestamp': STAMP, 'baseline': baseline, 'predict': True})
    assert check['vaults'][0]['posture']['immutability'] == {'state': 'enabled', 'retention_days': None, 'compliant': False}


class _ReadOnlyRule(Rule):
    """A rule as a new rule file would write it: a posture key and a state."""
    key = 'example'
    posture_key = 'example'
    settings = (Setting('example', 'example setting', 'example'),)

    def state(self, vault, baseline, findings):
        return {'state': 'seen' if vault.get('name') else 'unknown'}


def test_a_rule_gets_a_posture_by_implementing_state():
    rule = _ReadOnlyRule()
    assert rule.posture({'name': 'v'}, {'example': 'x'}, []) == {'state': 'seen', 'compliant': True}
    assert rule.posture({'name': 'v'}, {'example': 'x'}, [{'setting': 'example'}]) == {'state': 'seen', 'compliant': False}
    assert rule.posture({'name': 'v'}, {'example': None}, []) == {'state': 'seen', 'compliant': None}
    assert Rule().posture({}, {}, []) is None
    assert rule.posture_label == 'example setting'


# --------------------------------------------------------------------------- 2. three kinds of finding

def findings_of(report):
    return dict(((v['name'], f['setting'], f.get('tier')), f) for v in report['vaults'] for f in v['findings'])


def test_each_finding_says_who_fixes_it_and_names_the_option(schema):
    report = report_of()
    validate(schema, report)
    found = findings_of(report)
    lock = found[('rsv-enabled', 'immutability', None)]
    assert (lock['fix'], lock['option'], lock['fixable']) == ('option', 'allow_irreversible: true', False)
    weak = found[('rsv-locked-weak', 'retention', 'daily')]
    # Report mode, and the vault is Locked: both switches are needed.
    assert (weak['fix'], weak['option']) == ('option', 'retention_mode: enforce and allow_irreversible: true')
    soft = found[('bv-off', 'soft_delete', None)]
    assert (soft['fix'], soft['option']) == ('run', None)
    # A tier the schedule does not produce: no option helps (person), in enforce mode too.
    enforce = report_of(baseline=dict(BASELINE, retention={'minimum': {'daily': '30d', 'monthly': '12m'}, 'mode': 'enforce'},
                                      allow_irreversible=True))
    monthly = [f for v in enforce['vaults'] for f in v['findings'] if f.get('tier') == 'monthly']
    assert monthly and all((f['fix'], f['option']) == ('person', None) for f in monthly)
    assert findings_of(enforce)[('rsv-locked-weak', 'retention', 'daily')]['fix'] == 'run'
    # Leaving Locked, and weakening under a Resource Guard, need a person.
    person = report_of(baseline={'immutability': 'disabled', 'soft_delete': {'state': 'off', 'retention_days': None}})
    assert findings_of(person)[('rsv-locked', 'immutability', None)]['fix'] == 'person'


def test_summary_counts_the_kinds_apart():
    report = report_of()
    kinds = report['summary']['by_fix']
    open_findings = [f for v in report['vaults'] for f in v['findings'] if not f['resolved']]
    assert kinds == {'run': sum(1 for f in open_findings if f['fix'] == 'run'), 'option': sum(1 for f in open_findings if f['fix'] == 'option'),
                     'person': sum(1 for f in open_findings if f['fix'] == 'person'), 'fixed': 0}
    assert kinds['run'] >= 1 and kinds['option'] >= 2
    assert kinds['option'] + kinds['person'] == report['summary']['unfixable']
    retention = report['summary']['by_setting']['retention']
    assert retention['option'] + retention['person'] == retention['unfixable'] and retention['option'] >= 1


def test_after_a_real_run_fixed_findings_count_as_fixed():
    baseline = {'immutability': 'enabled'}
    drift = compute_drift([vault(name='v', immutability='disabled', policies=[])], baseline)
    result = {'item': {'id': drift[0]['id']}, 'changed': True, 'changes': [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled'}]}
    report = build_report(drift, {'check_mode': False, 'timestamp': STAMP, 'baseline': baseline, 'results': {'immutability': [result]}})
    assert report['summary']['by_fix'] == {'run': 0, 'option': 0, 'person': 0, 'fixed': 1}
    assert '1 fixed by this run' in render_markdown(report)


def test_markdown_and_junit_name_the_kind_and_the_option():
    report = report_of()
    text = render_markdown(report)
    kinds = report['summary']['by_fix']
    assert '**Findings by who fixes them:** %d fixable by this run, %d fixable with an option, %d needs a person.' % (
        kinds['run'], kinds['option'], kinds['person']) in text
    assert 'with allow\\_irreversible: true' in text and 'with retention\\_mode: enforce and allow\\_irreversible: true' in text
    assert '| Setting | Vaults | Findings | Fixable | Not fixable | Fixable with an option | Needs a person |' in text
    assert render_junit(report).count('<failure') == report['summary']['drifting']


def test_markdown_leads_with_the_posture():
    text = render_markdown(report_of())
    assert text.index('## Posture') < text.index('**Drift:**')
    assert '**Locked:** 3 of 5 vaults locked; 2 not locked.' in text
    assert '| immutability | locked 3, disabled 1, enabled 1 | 3 | 2 | 0 |' in text
    assert '| %s | 2 | 1 | disabled 1, locked 1 | off 1, on 1 |' % SUB2 in text


# --------------------------------------------------------------------------- 4. SARIF levels and locations

def test_sarif_levels_follow_the_kinds_and_results_name_the_option(sarif_validator):
    report = report_of(baseline=dict(BASELINE, retention={'minimum': {'daily': '30d', 'monthly': '12m'}, 'mode': 'report'}))
    log = build_sarif(report)
    sarif_validator.validate(json.loads(json.dumps(log)))
    results = log['runs'][0]['results']
    expected = [f for v in report['vaults'] for f in v['findings'] if not f['resolved']]
    assert [r['level'] for r in results] == [{'run': 'note', 'option': 'warning', 'person': 'error'}[f['fix']] for f in expected]
    assert {r['level'] for r in results} == {'note', 'warning', 'error'}
    for result, finding in zip(results, expected):
        assert (result['properties']['fix'], result['properties']['option']) == (finding['fix'], finding['option'])
    rules = log['runs'][0]['tool']['driver']['rules']
    assert all('a named option' in r['help']['text'] for r in rules)


def test_sarif_locates_a_retention_finding_at_the_vault_and_its_policy(sarif_validator):
    report = report_of()
    log = build_sarif(report)
    sarif_validator.validate(json.loads(json.dumps(log)))
    weak = by_name(report)['rsv-locked-weak']
    retention = [r for r in log['runs'][0]['results'] if r['ruleId'] == 'retention']
    assert retention
    for result in retention:
        vault_location, policy_location = result['locations'][0]['logicalLocations']
        assert vault_location == {'name': 'rsv-locked-weak', 'fullyQualifiedName': weak['id'], 'kind': 'resource'}
        policy = result['properties']['policy']
        assert policy_location == {'name': policy, 'fullyQualifiedName': '%s/backupPolicies/%s' % (weak['id'], policy), 'kind': 'resource'}
    others = [r for r in log['runs'][0]['results'] if r['ruleId'] != 'retention']
    assert others and all(len(r['locations'][0]['logicalLocations']) == 1 for r in others)


def test_sarif_fingerprints_track_a_finding_across_runs():
    first = build_sarif(report_of())
    # A later run: another time, the vault id in other casing, another have value, the vaults in another order.
    later_fleet = list(reversed(fleet()))
    for record in later_fleet:
        record['id'] = record['id'].upper()
    later_fleet[0]['soft_delete'] = {'state': 'off', 'retention_days': 5}
    later = build_sarif(report_of(vaults=later_fleet, timestamp='2026-12-07T02:00:00+00:00'))

    def prints(log):
        return dict(((r['locations'][0]['logicalLocations'][0]['fullyQualifiedName'].lower(), r['ruleId'],
                      r['properties'].get('policy'), r['properties'].get('tier')), r['partialFingerprints'][FINGERPRINT_KEY])
                    for r in log['runs'][0]['results'])
    before, after = prints(first), prints(later)
    assert before == after
    # Same vault and rule, another policy tier: another alert.
    assert len(set(before.values())) == len(before)


# --------------------------------------------------------------------------- 3. drift.html grouped by vault

class _Groups(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.groups = []
        self.sections = []
        self.nav = []
        self.in_nav = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'tbody' and 'vault-group' in (attrs.get('class') or ''):
            self.groups.append({'attrs': attrs, 'findings': 0})
        if tag == 'tr' and attrs.get('class') == 'finding':
            self.groups[-1]['findings'] += 1
        if tag == 'section':
            self.sections.append(attrs.get('id'))
        if tag == 'nav':
            self.in_nav = True
        if tag == 'a' and self.in_nav:
            self.nav.append(attrs.get('href'))

    def handle_endtag(self, tag):
        if tag == 'nav':
            self.in_nav = False


def test_html_groups_findings_by_vault_leads_with_the_posture_and_links_its_sections():
    report = report_of()
    page = render_html(report)
    parser = _Groups()
    parser.feed(page)
    assert parser.sections[0] == 'posture' and parser.sections[:4] == ['posture', 'summary', 'charts', 'drift']
    assert parser.nav == ['#%s' % s for s in parser.sections]
    # Every vault in scope is a group, in report order, with its open findings and whether it is locked.
    assert [g['attrs']['data-vault-id'] for g in parser.groups] == [v['id'] for v in report['vaults']]
    assert [g['findings'] for g in parser.groups] == [sum(1 for f in v['findings'] if not f['resolved']) for v in report['vaults']]
    assert [g['attrs']['data-locked'] for g in parser.groups] == [
        'yes' if v['posture']['immutability']['state'] == 'locked' else 'no' for v in report['vaults']]
    assert 'data-page-size="%d"' % PAGE_SIZE in page
    assert '3 of 5 vaults locked; 2 not locked.' in page
    assert 'id="chart-posture-immutability"' in page
    kinds = report['summary']['by_fix']
    assert page.count('data-fix="option"') == kinds['option'] and page.count('data-fix="run"') == kinds['run']
    assert 'with allow_irreversible: true' in page
    assert '<option value="not-locked">not locked</option>' in page


def test_html_escapes_the_vault_group_head():
    records = fleet()
    records[2]['name'] = '<img src=x onerror=alert(1)>'
    records[2]['resource_group'] = '"><script>alert(2)</script>'
    page = render_html(report_of(vaults=records))
    assert '<img src=x' not in page and '<script>alert(2)' not in page
    assert '&lt;img src=x onerror=alert(1)&gt;' in page


def test_html_shows_the_code_of_what_would_turn_or_hide_text():
    """A right-to-left override in a name or an Azure error text would make the page read as something else (Trojan
    Source): the page shows its code, in the text it writes and in the data its script puts in with textContent."""
    records = fleet()
    records[2]['resource_group'] = 'rg-\u202eexe.txt'
    report = report_of(vaults=records)
    report['errors'] = [{'scope': 'subscription x', 'message': 'refused: policy p\u200bolicy'}]
    page = render_html(report)
    assert '\u202e' not in page and '\u200b' not in page
    assert '\\u202e' in page and '\\u200b' in page
    data = json.loads(re.search(r'<script type="application/json" id="findings-data">(.*?)</script>', page, re.S).group(1))
    assert 'rg-\\u202eexe.txt' in [row[4] for row in data['vaults']]


def test_sarif_messages_show_the_code_of_what_would_turn_or_hide_text_and_properties_keep_the_value():
    records = fleet()
    records[2]['resource_group'] = 'rg-\u202eexe.txt'
    records[2]['name'] = 'rsv-\u200bhidden'
    report = report_of(vaults=records)
    report['errors'] = [{'scope': 'subscription x', 'message': 'refused: policy p\u2066olicy'}]
    report['warnings'] = ["exclusion 'a\u200bb' matched no vault"]
    log = build_sarif(report)
    texts = [r['message']['text'] for r in log['runs'][0]['results']]
    texts += [n['message']['text'] for n in log['runs'][0]['invocations'][0]['toolExecutionNotifications']]
    assert not [t for t in texts if '\u202e' in t or '\u200b' in t or '\u2066' in t]
    assert any('\\u200b' in t for t in texts) and any('p\\u2066olicy' in t for t in texts) and any("'a\\u200bb'" in t for t in texts)
    hidden = [r for r in log['runs'][0]['results'] if r['properties']['resource_group'] == 'rg-\u202eexe.txt']
    assert hidden, 'the properties keep the value as Azure has it'


def test_html_carries_every_vault_as_data_and_writes_only_the_first_page():
    records = [vault(name='v%03d' % index, immutability='disabled', policies=[]) for index in range(PAGE_SIZE + 20)]
    records[-1]['name'] = '</script><script>alert(1)</script>'
    page = render_html(report_of(baseline={'immutability': 'enabled'}, vaults=records))
    parser = _Groups()
    parser.feed(page)
    assert len(parser.groups) == PAGE_SIZE
    block = page.split('<script type="application/json" id="findings-data">', 1)[1].split('</script>', 1)[0]
    data = json.loads(block)
    assert len(data['vaults']) == PAGE_SIZE + 20 and data['page_size'] == PAGE_SIZE
    names = [row[1] for row in data['vaults']]
    assert '</script><script>alert(1)</script>' in names
    assert '<script>alert(1)' not in page and '\\u003c/script\\u003e' in block
    assert data['vaults'][names.index('v000')][9] == [
        ['immutability', 'immutability', 'disabled', 'enabled', 1, 'run', 0, 'set immutability disabled -> enabled', None]]


def test_html_charts_at_most_forty_subscriptions():
    records = []
    for index in range(45):
        records.append(vault(name='v%d' % index, immutability='enabled', policies=[], sub='00000000-0000-0000-0000-%012d' % index))
    page = render_html(report_of(baseline={'immutability': 'enabled'}, vaults=records))
    chart = page.split('id="chart-posture-immutability"', 1)[1].split('</svg>', 1)[0]
    assert chart.count('<g class="row"') == 40
    assert 'and 5 more subscriptions' in page


def test_old_documents_without_posture_still_render():
    report = report_of()
    old = copy.deepcopy(report)
    del old['posture']
    for record in old['vaults']:
        del record['posture']
    assert 'id="posture"' not in render_html(old)
    assert '## Posture' not in render_markdown(old)
