# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter plugin: thin wrappers, errors as AnsibleFilterError, and loading by FQCN in a real Ansible run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vaultlock.azure.plugins.filter.drift import FilterModule

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
BIN = os.path.dirname(sys.executable)
NAMES = ['vault_drift', 'drift_summary', 'drift_report_json', 'drift_report_markdown', 'drift_report_junit', 'drift_report_html',
         'drift_report_sarif']

VAULTS = [
    {'id': '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-1', 'name': 'rsv-1',
     'resource_group': 'rg', 'subscription_id': 's1', 'location': 'westeurope', 'vault_type': 'recovery_services',
     'immutability': 'disabled', 'immutability_retention_days': None, 'soft_delete': {'state': 'on', 'retention_days': 14},
     'mua': {'protected': False, 'resource_guard_id': None}, 'tags': {}, 'provisioning_state': 'Succeeded'},
    {'id': '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/bv-1', 'name': 'bv-1',
     'resource_group': 'rg', 'subscription_id': 's1', 'location': 'westeurope', 'vault_type': 'backup',
     'immutability': 'locked', 'immutability_retention_days': None, 'soft_delete': {'state': 'on', 'retention_days': 14},
     'mua': {'protected': False, 'resource_guard_id': None}, 'tags': {}, 'provisioning_state': 'Succeeded'},
]
BASELINE = {'immutability': 'enabled', 'allow_irreversible': False}


def test_filters_are_registered():
    filters = FilterModule().filters()
    assert sorted(filters) == sorted(NAMES)
    for name in NAMES:
        assert os.path.isfile(os.path.join(ROOT, 'plugins', 'filter', name + '.yml')), name


def test_filters_chain():
    filters = FilterModule().filters()
    drift = filters['vault_drift'](VAULTS, BASELINE)
    assert [(e['name'], e['drift'], e['actions']['immutability']) for e in drift] == [('bv-1', False, None), ('rsv-1', True, 'enabled')]
    assert filters['drift_summary'](drift)['drifting'] == 1
    report = filters['drift_report_json'](drift, {'check_mode': True, 'timestamp': '2026-01-01T00:00:00+00:00'})
    assert '| rsv-1 | Recovery Services vault | s1 | rg | immutability | disabled → enabled |' in filters['drift_report_markdown'](report)
    assert ET.fromstring(filters['drift_report_junit'](report).encode()).get('failures') == '1'


@pytest.mark.parametrize('name,args,message', [
    ('vault_drift', (VAULTS, {'immutability': 'frozen'}), 'vaultlock.azure.vault_drift: baseline.immutability'),
    ('vault_drift', ('nope', BASELINE), 'vaultlock.azure.vault_drift: vaults must be a list'),
    ('drift_summary', ({'a': 1},), 'vaultlock.azure.drift_summary'),
    ('drift_report_json', ([], {'mode': 'later'}), 'vaultlock.azure.drift_report_json: meta.mode'),
    ('drift_report_markdown', ({},), 'vaultlock.azure.drift_report_markdown'),
    ('drift_report_junit', ([],), 'vaultlock.azure.drift_report_junit'),
    ('drift_report_html', ({'vaults': []},), 'vaultlock.azure.drift_report_html'),
    ('drift_report_sarif', ({'summary': {}},), 'vaultlock.azure.drift_report_sarif'),
])
def test_errors_are_filter_errors(name, args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FilterModule().filters()[name](*args)


@pytest.fixture(name='collections_path')
def collections_path_fixture(tmp_path):
    base = tmp_path / 'collections' / 'ansible_collections' / 'vaultlock'
    base.mkdir(parents=True)
    (base / 'azure').symlink_to(ROOT)
    return str(tmp_path / 'collections')


def _env(collections_path):
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collections_path,
        'ANSIBLE_LOCAL_TEMP': os.path.join(collections_path, '..', 'tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_DEPRECATION_WARNINGS': '0',
        'PYTHONPATH': '',
    })
    return env


def test_filters_load_by_fqcn_in_a_playbook(collections_path, tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    playbook = tmp_path / 'play.yml'
    vars_file = tmp_path / 'vars.json'
    vars_file.write_text(json.dumps({'vaults': VAULTS, 'baseline': BASELINE, 'out': str(out)}), encoding='utf-8')
    # One task writes what every filter returned (one module run; a loop over the files ran the copy module seven times).
    playbook.write_text('''
- hosts: localhost
  gather_facts: false
  vars:
    drift: "{{ vaults | vaultlock.azure.vault_drift(baseline) }}"
    report: "{{ drift | vaultlock.azure.drift_report_json({'check_mode': true, 'baseline': baseline}) }}"
  tasks:
    - name: Write what the filters return
      ansible.builtin.copy:
        dest: "{{ out }}/outputs.json"
        mode: "0644"
        content: >-
          {{ {'summary.json': drift | vaultlock.azure.drift_summary | ansible.builtin.to_json,
              'actions.json': drift | selectattr('actions.immutability') | map(attribute='name') | list | ansible.builtin.to_json,
              'drift.json': report | ansible.builtin.to_nice_json,
              'drift.md': report | vaultlock.azure.drift_report_markdown,
              'drift.junit.xml': report | vaultlock.azure.drift_report_junit,
              'drift.html': report | vaultlock.azure.drift_report_html,
              'drift.sarif': report | vaultlock.azure.drift_report_sarif} | ansible.builtin.to_json }}
''', encoding='utf-8')
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(playbook), '-e', '@' + str(vars_file),
                           '-e', 'ansible_python_interpreter=' + sys.executable],
                          env=_env(collections_path), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name, content in json.loads((out / 'outputs.json').read_text(encoding='utf-8')).items():
        (out / name).write_text(content, encoding='utf-8')
    summary = json.loads((out / 'summary.json').read_text(encoding='utf-8'))
    assert (summary['vaults'], summary['drifting'], summary['fixable']) == (2, 1, 1)
    assert json.loads((out / 'actions.json').read_text(encoding='utf-8')) == ['rsv-1']
    report = json.loads((out / 'drift.json').read_text(encoding='utf-8'))
    assert report['schema_version'] == '2.4' and report['summary']['drifting'] == 1
    assert '**Drift:** 1 of 2 vaults drift from the baseline: 1 finding, 1 fixable, 0 not fixable.' in (out / 'drift.md').read_text(encoding='utf-8')
    assert ET.parse(str(out / 'drift.junit.xml')).getroot().get('tests') == '2'
    assert '<tr class="finding" data-setting="immutability" data-fixable="yes" data-fix="run"' in (out / 'drift.html').read_text(encoding='utf-8')
    sarif = json.loads((out / 'drift.sarif').read_text(encoding='utf-8'))
    assert [r['ruleId'] for r in sarif['runs'][0]['results']] == ['immutability']


def test_ansible_doc(collections_path):
    # One ansible-doc for every filter (it takes several names): each is documented, by its own name.
    names = ['vaultlock.azure.' + name for name in NAMES]
    proc = subprocess.run([os.path.join(BIN, 'ansible-doc'), '-t', 'filter', '--json'] + names,
                          env=_env(collections_path), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    docs = json.loads(proc.stdout)
    assert sorted(docs) == sorted(names)
    for name in NAMES:
        doc = docs['vaultlock.azure.' + name]
        assert doc['doc']['name'] == name, name
        assert doc['doc']['version_added'] == ('0.2.0' if name in ('drift_report_html', 'drift_report_sarif') else '0.1.0'), name
        assert doc['examples'] and doc['return'], name


@pytest.mark.parametrize('name', ['drift_summary', 'drift_report_json'])
def test_vault_records_are_not_a_fleet_without_drift(name):
    # Vault records (vault_immutability_info's vaults) passed without vault_drift: "2 vaults, 0 drifting, 2 clean" before.
    with pytest.raises(AnsibleFilterError, match=r'vaultlock\.azure\.%s: drift\[0\] \(/subscriptions/s1/.*rsv-1\) is not a drift entry: '
                       r'it has no drift true or false' % name):
        FilterModule().filters()[name](VAULTS)
    with pytest.raises(AnsibleFilterError, match=r'drift\[0\]\.findings must be a list of dictionaries'):
        FilterModule().filters()[name]([{'drift': True, 'findings': 'x'}])


def test_the_json_example_timestamp_is_a_schema_date_time():
    """drift_report_json's example passes meta.timestamp as the report's generated_at, which the schema types as a JSON
    Schema date-time (RFC 3339: a UTC offset or Z is required). Ansible's now(utc=true).isoformat() has none."""
    import re                                                            # pylint: disable=import-outside-toplevel
    import yaml                                                          # pylint: disable=import-outside-toplevel
    from ansible.parsing.dataloader import DataLoader                    # pylint: disable=import-outside-toplevel
    from ansible.template import Templar                                 # pylint: disable=import-outside-toplevel
    try:
        from ansible.template import trust_as_template                   # pylint: disable=import-outside-toplevel
    except ImportError:                                                  # ansible-core before 2.19 templates any string
        def trust_as_template(text):
            return text
    with open(os.path.join(ROOT, 'plugins', 'filter', 'drift_report_json.yml'), encoding='utf-8') as handle:
        examples = yaml.safe_load(handle)['EXAMPLES']
    [expression] = re.findall(r"'timestamp': (.+),\n", examples)
    stamp = Templar(loader=DataLoader()).template(trust_as_template('{{ %s }}' % expression))
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)', str(stamp)), stamp
    with open(os.path.join(ROOT, 'docs', 'drift-report-schema.json'), encoding='utf-8') as handle:
        assert json.load(handle)['properties']['generated_at']['format'] == 'date-time'


@pytest.mark.parametrize('name', ['drift_summary', 'drift_report_json'])
@pytest.mark.parametrize('cut', [{'findings': None}, {'findings': []}, 'no findings'], ids=['null', 'empty', 'missing'])
def test_a_drifting_entry_without_its_findings_is_not_counted_clean(name, cut):
    """A drift entry that says drift true but whose findings were cut off (a truncated or hand-edited drift list): the
    summary counted it clean ("1 vault, 0 drifting, 1 clean") and the report called the fleet compliant."""
    [entry] = [dict(entry) for entry in FilterModule().filters()['vault_drift'](VAULTS, BASELINE) if entry['drift']]
    if cut == 'no findings':
        del entry['findings']
    else:
        entry.update(cut)
    with pytest.raises(AnsibleFilterError, match=r'vaultlock\.azure\.%s: drift\[0\] \(/subscriptions/s1/.*rsv-1\) says drift true but '
                       r'lists no finding' % name):
        FilterModule().filters()[name]([entry])


def _edited(edit):
    """A drift.json document of the two vaults (check mode, its changes predicted), changed by ``edit``."""
    filters = FilterModule().filters()
    report = filters['drift_report_json'](filters['vault_drift'](VAULTS, dict(BASELINE, soft_delete={'state': 'on', 'retention_days': 30})),
                                          {'check_mode': True, 'predict': True, 'timestamp': '2026-01-01T00:00:00+00:00'})
    report = json.loads(json.dumps(report))
    edit(report)
    return report


EDITS = {
    'a vault null': lambda r: r['vaults'].__setitem__(1, None),
    'a finding null': lambda r: [v for v in r['vaults'] if v['findings']][0]['findings'].__setitem__(0, None),
    'a change null': lambda r: r['changed'][0]['changes'].__setitem__(0, None),
    'summary.vaults cut': lambda r: r['summary'].pop('vaults'),
    'a posture rule null': lambda r: r['posture']['rules'].__setitem__('immutability', None),
    'an error as text': lambda r: r.__setitem__('errors', ['could not read']),
    'warnings a number': lambda r: r.__setitem__('warnings', 3),
}


@pytest.mark.parametrize('name', ['drift_report_markdown', 'drift_report_junit', 'drift_report_html', 'drift_report_sarif'])
@pytest.mark.parametrize('edit', sorted(EDITS))
def test_a_drift_json_edited_or_cut_by_hand_is_a_filter_error_naming_what_it_is(name, edit):
    """A drift.json read back (lookup('file') | from_json) and rendered again, after a hand edit or a cut: each renderer
    failed inside itself (AttributeError "'NoneType' object has no attribute 'get'", KeyError 'vaults', TypeError), which
    ansible-core shows as the filter failing with Python's words and -vvv as a traceback. Now it is the filter's error,
    saying the document is not whole (found by feeding the renderers drift.json documents with one value removed or
    nulled: about 60 places failed that way)."""
    report = _edited(EDITS[edit])
    try:
        FilterModule().filters()[name](report)
    except AnsibleFilterError as exc:
        assert str(exc).startswith('vaultlock.azure.%s: ' % name), str(exc)
        assert 'not a whole drift.json document' in str(exc) or 'expected the document' in str(exc), str(exc)
