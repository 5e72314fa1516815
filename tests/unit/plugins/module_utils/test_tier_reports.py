# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each vault's baseline tier in drift.json (schema), drift.md (a tier column, the tiers and a count per tier), the JUnit
XML, drift.html and drift.sarif; a report without tiers stays as it was."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import compute_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.html import render_html
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import build_sarif
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import (
    ReportError,
    build_report,
    render_junit,
    render_markdown,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import plan_run
from tests.unit.builders import SECURITY_NULL
from tests.unit.plugins.module_utils.test_reports import SCHEMA_PATH, STAMP, vault

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
SARIF_SCHEMA = os.path.join(ROOT, 'tests', 'fixtures', 'sarif', 'sarif-schema-2.1.0.json')

RAW = {'immutability': 'enabled', 'allow_irreversible': True, 'retention': None,
       'soft_delete': {'state': 'on', 'retention_days': 14}, 'retention_mode': 'report',
       'tiers': [{'name': 'prod', 'match': {'tags': {'env': 'prod'}}, 'immutability': 'locked',
                  'lock_requirements': {'require_mua': False}},
                 {'name': 'dev', 'match': {'names': ['*-dev-*']}, 'soft_delete': {}},
                 {'name': 'archive', 'match': {'resource_groups': ['rg-archive']}}]}


def tagged(name, tags=None, **kw):
    doc = vault(name, **kw)
    doc['tags'] = tags or {}
    # Read as discovery reads them when a tier locks: lock readiness needs the policies and the protected items.
    doc.setdefault('policies', [])
    doc.setdefault('protected_items', [])
    return doc


def plan():
    fleet = [tagged('rsv-prod-01', {'env': 'prod'}, immutability='enabled'),
             tagged('bv-prod-01', {'ENV': 'prod'}, vault_type='backup', immutability='locked'),
             tagged('rsv-dev-01', immutability='enabled', soft_delete=('off', 14)),
             tagged('rsv-misc', immutability='disabled')]
    return plan_run([{'vaults': fleet, 'errors': []}], None, RAW)


def report(check_mode=True):
    run = plan()
    return build_report(run['drift'], {'check_mode': check_mode, 'timestamp': STAMP, 'baseline': run['baseline'], 'predict': True})


@pytest.fixture(name='schema')
def schema_fixture():
    with open(SCHEMA_PATH, encoding='utf-8') as handle:
        return json.load(handle)


def test_drift_json_names_each_vaults_tier_and_counts_per_tier(schema):
    doc = report()
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(doc)))
    assert {v['name']: v['tier'] for v in doc['vaults']} == {
        'rsv-prod-01': 'prod', 'bv-prod-01': 'prod', 'rsv-dev-01': 'dev', 'rsv-misc': 'default'}
    # The top-level baseline is the default tier, as before; the tiers come resolved, in order.
    assert doc['baseline'] == {'immutability': 'enabled', 'allow_irreversible': True, 'retention': None,
                               'soft_delete': {'state': 'on', 'retention_days': 14}, **SECURITY_NULL}
    assert [t['name'] for t in doc['tiers']] == ['prod', 'dev', 'archive']
    assert doc['tiers'][1]['soft_delete'] is None and doc['tiers'][1]['immutability'] == 'enabled'
    assert doc['tiers'][0]['lock_requirements'] == {'require_mua': False}
    # Tiers in order (one that matched no vault counts 0), then default.
    assert list(doc['summary']['by_tier'].items()) == [
        ('prod', {'vaults': 2, 'drifting': 1, 'findings': 1}), ('dev', {'vaults': 1, 'drifting': 0, 'findings': 0}),
        ('archive', {'vaults': 0, 'drifting': 0, 'findings': 0}), ('default', {'vaults': 1, 'drifting': 1, 'findings': 1})]
    assert {c['name']: (c['tier'], [x['after'] for x in c['changes']]) for c in doc['changed']} == {
        'rsv-prod-01': ('prod', ['locked']), 'rsv-misc': ('default', ['enabled'])}


def test_markdown_shows_the_tiers_a_column_and_a_count_per_tier():
    text = render_markdown(report())
    assert '| Baseline tier | Vaults | Drifting | Findings |' in text
    assert '| prod | 2 | 1 | 1 |' in text and '| archive | 0 | 0 | 0 |' in text and '| default | 1 | 1 | 1 |' in text
    tiers = text.split('## Baseline tiers', 1)[1].split('##', 1)[0]
    assert '| prod | tags env=prod | locked | state=on, retention\\_days=14 | not checked | require\\_mua=false |' in tiers
    assert '| dev | names \\*-dev-\\* | enabled | not checked | not checked | role default |' in tiers
    assert '| default | every vault no tier matches | enabled |' in tiers
    drift = text.split('## Drift', 1)[1].split('##', 1)[0]
    assert '| Vault | Baseline tier | Type |' in drift
    assert '| rsv-prod-01 | prod | Recovery Services vault |' in drift
    assert '| rsv-misc | default | Recovery Services vault |' in drift
    changes = text.split('## Would change', 1)[1].split('##', 1)[0]
    assert '| Vault | Baseline tier | Type |' in changes and '| rsv-prod-01 | prod |' in changes


def test_junit_sarif_and_html_name_the_tier():
    doc = report()
    root = ET.fromstring(render_junit(doc))
    cases = dict((c.get('name'), c) for c in root.iter('testcase'))
    assert cases['rsv-prod-01'].find('properties/property').attrib == {'name': 'baseline_tier', 'value': 'prod'}
    assert '(baseline tier prod)' in cases['rsv-prod-01'].find('failure').text.splitlines()[0]
    assert cases['rsv-dev-01'].find('properties/property').get('value') == 'dev'

    with open(SARIF_SCHEMA, encoding='utf-8') as handle:
        validator = jsonschema.Draft4Validator(json.load(handle))
    log = build_sarif(doc)
    validator.validate(log)
    results = dict((r['locations'][0]['logicalLocations'][0]['name'], r) for r in log['runs'][0]['results'])
    assert results['rsv-prod-01']['properties']['baseline_tier'] == 'prod'
    assert 'tier' not in results['rsv-prod-01']['properties']    # 'tier' stays the retention tier of a policy
    assert results['rsv-misc']['message']['text'].startswith('Recovery Services vault rsv-misc (baseline tier default): ')

    page = render_html(doc)
    assert '<button type="button">Baseline tier</button>' in page
    assert '<td>rsv-prod-01</td><td>prod</td><td>Recovery Services vault</td>' in page
    assert '<section id="tiers"><h2>Baseline tiers</h2>' in page
    assert '<tr><td>prod</td><td>2</td><td>1</td><td>1</td><td>tags env=prod</td><td>locked</td>' in page
    assert '<th scope="col">Baseline tier</th><th scope="col">Type</th>' in page     # the changes table


def test_a_report_without_tiers_has_no_tier_anywhere():
    doc = build_report(compute_drift([vault('rsv-a', immutability='disabled')], {'immutability': 'enabled'}),
                       {'timestamp': STAMP, 'baseline': {'immutability': 'enabled'}, 'predict': True})
    assert 'tiers' not in doc and 'by_tier' not in doc['summary'] and 'tier' not in doc['vaults'][0]
    assert 'tier' not in doc['changed'][0]
    assert 'Baseline tier' not in render_markdown(doc) and 'Baseline tier' not in render_html(doc)
    assert 'baseline_tier' not in render_junit(doc)


def test_a_role_run_without_tiers_still_names_the_default_tier(schema):
    run = plan_run([{'vaults': [vault('rsv-a', immutability='disabled')], 'errors': []}], None, dict(RAW, tiers=[]))
    doc = build_report(run['drift'], {'timestamp': STAMP, 'baseline': run['baseline']})
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(doc)))
    assert doc['tiers'] == [] and doc['vaults'][0]['tier'] == 'default'
    assert doc['summary']['by_tier'] == {'default': {'vaults': 1, 'drifting': 1, 'findings': 1}}
    assert '## Baseline tiers' not in render_markdown(doc) and '| default | 1 | 1 | 1 |' in render_markdown(doc)


def test_bad_tiers_in_the_report_meta():
    with pytest.raises(ReportError, match='meta.baseline.tiers must be a list'):
        build_report([], {'baseline': dict(plan()['baseline'], tiers='prod')})
    with pytest.raises(ReportError, match='with a name'):
        build_report([], {'baseline': dict(plan()['baseline'], tiers=[{'match': {}}])})
