# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/_excluded.py: the open findings of the excluded vaults, carried from the previous drift.json."""

from __future__ import annotations

import json

from ansible_collections.vaultlock.azure.plugins.module_utils._targets import parse_exclusions
from ansible_collections.vaultlock.azure.plugins.plugin_utils._excluded import read_previous, section

SUB = '11111111-1111-1111-1111-111111111111'


def vault_id(name):
    return '/subscriptions/%s/resourceGroups/rg-a/providers/Microsoft.RecoveryServices/vaults/%s' % (SUB, name)


def finding(setting, resolved=False):
    return {'setting': setting, 'have': 'disabled', 'want': 'enabled', 'fixable': True, 'resolved': resolved, 'reason': 'x'}


def write(tmp_path, doc):
    (tmp_path / 'drift.json').write_text(json.dumps(doc))


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
