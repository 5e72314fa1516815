# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The comparison of a run with the previous drift.json (plugin_utils/_scope_loss.py): the record read defensively
(missing, not JSON, other versions, hand-edited), which vaults are asked for, and how ARM's answers are classed."""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report, render_markdown
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import parse_exclusions
from ansible_collections.vaultlock.azure.plugins.plugin_utils import _scope_loss
from ansible_collections.vaultlock.azure.plugins.plugin_utils._excluded import keeper
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import write_reports

SUB1 = '11111111-1111-1111-1111-111111111111'
SUB2 = '22222222-2222-2222-2222-222222222222'
SUB3 = '3333333a-3333-3333-3333-33333333333b'


def vid(name, sub=SUB1, rg='rg-a', kind='rs'):
    provider = 'Microsoft.RecoveryServices/vaults' if kind == 'rs' else 'Microsoft.DataProtection/backupVaults'
    return '/subscriptions/%s/resourceGroups/%s/providers/%s/%s' % (sub, rg, provider, name)


def doc(*ids, version='2.2', **extra):
    return dict({'schema_version': version, 'generated_at': '2026-12-06T10:00:00+00:00',
                 'vaults': [{'id': arm_id, 'name': arm_id.rsplit('/', 1)[1]} for arm_id in ids]}, **extra)


def write(tmp_path, content):
    (tmp_path / 'drift.json').write_text(content if isinstance(content, str) else json.dumps(content))
    return str(tmp_path)


def test_no_previous_report_is_no_comparison_and_no_warning(tmp_path):
    assert _scope_loss.read_record(str(tmp_path)) == (None, '', (None, None))


@pytest.mark.parametrize('content, said', [
    ('{"schema_version": "2.2", "vaults": [', 'could not be read (JSONDecodeError)'),
    ('', 'could not be read'),
    ('\xff', 'could not be read'),
    ('[]', 'is not a report'),
    ('null', 'is not a report'),
    ({'vaults': []}, 'has no schema_version'),
    (doc(version='9.0'), "has schema_version '9.0'"),
    (doc(version=2.2), 'has schema_version 2.2'),
    ({'schema_version': '2.2', 'vaults': {'a': 1}}, 'has no list of vaults'),
    ({'schema_version': '2.2'}, 'has no list of vaults'),
])
def test_a_report_that_cannot_be_used_says_so_and_compares_nothing(tmp_path, content, said):
    record, note, _carried = _scope_loss.read_record(write(tmp_path, content))
    assert record is None
    assert said in note and 'could not tell whether vaults left its scope' in note


def test_a_report_of_an_older_schema_is_compared(tmp_path):
    for version in ('1.0', '2.0', '2.1', '2.2', '2.3', '2.4'):
        record, note, _carried = _scope_loss.read_record(write(tmp_path, doc(vid('rsv-a'), version=version)))
        assert note == '' and list(record['vaults']) == [vid('rsv-a').lower()], version


def test_hand_edited_entries_are_skipped_and_counted_the_others_kept(tmp_path):
    content = doc(vid('rsv-a'))
    content['vaults'] += [None, 'text', {}, {'id': None}, {'id': 42}, {'id': '/subscriptions/x/resourceGroups/r'},
                          {'id': '  ' + vid('RSV-B').upper() + '/ '}, {'id': vid('bv-c', kind='dp')}]
    content['generated_at'] = {'not': 'a date'}
    record, note, _carried = _scope_loss.read_record(write(tmp_path, content))
    assert note == ''
    assert sorted(record['vaults']) == sorted([vid('rsv-a').lower(), vid('rsv-b').lower(), vid('bv-c', kind='dp').lower()])
    assert record['skipped'] == 6 and record['generated_at'] is None
    assert record['subscriptions'] == {SUB1}


def test_the_subscriptions_of_the_previous_discovery_are_in_the_record(tmp_path):
    content = doc(vid('rsv-a'), discovery={'source_by_subscription': {SUB2.upper(): 'arm', '': 'arm', 5: 'x'}})
    record, _note = _scope_loss.parse_record(content)
    assert record['subscriptions'] == {SUB1, SUB2}
    record, _note = _scope_loss.parse_record(doc(vid('rsv-a'), discovery=['not', 'a', 'dict']))
    assert record['subscriptions'] == {SUB1}


def test_vaults_an_earlier_run_could_not_read_stay_in_the_record_until_a_run_accepts_the_loss():
    left = [{'id': vid('rsv-lost', SUB2), 'reason': 'unreadable'}, {'id': vid('rsv-gone'), 'reason': 'gone'},
            {'id': 'nonsense', 'reason': 'unreadable'}, 'x']
    record, _note = _scope_loss.parse_record(doc(vid('rsv-a'), scope_changes={'left': left, 'accepted': False}))
    assert sorted(record['vaults']) == sorted([vid('rsv-a').lower(), vid('rsv-lost', SUB2).lower()])
    assert record['skipped'] == 1
    record, _note = _scope_loss.parse_record(doc(vid('rsv-a'), scope_changes={'left': left, 'accepted': True}))
    assert list(record['vaults']) == [vid('rsv-a').lower()]


def _error(status, code):
    return AzureOperationError('read vault', 'a vault', status, code, 'Azure said no')


SCOPE = {'subscriptions': {SUB1}, 'every_subscription': True, 'resource_groups': [], 'vault_types': ['recovery_services', 'backup'],
         'tags': {}}


def _compare(ids, read_keys=(), exclude=(), scope=None, answers=None, previous_subs=()):
    record, _note = _scope_loss.parse_record(doc(*ids, discovery={'source_by_subscription': dict.fromkeys(previous_subs, 'arm')}))
    asked = []
    extra = []

    def read_one(vault):
        asked.append(vault['id'])
        answer = (answers or {}).get(vault['id'].rsplit('/', 1)[1])
        if isinstance(answer, Exception):
            raise answer
        return {'vaults': [answer or {'id': vault['id'], 'tags': {}}], 'errors': [], 'item': {'id': vault['id']}}

    loss = _scope_loss.compare(record, extra, {vid(key).lower() for key in read_keys}, list(exclude), scope or SCOPE, read_one, 4)
    return loss, sorted(asked), extra


def test_arms_answers_class_each_vault_the_run_did_not_read():
    ids = [vid('rsv-read'), vid('rsv-gone'), vid('rsv-rg-gone'), vid('rsv-sub-gone', SUB2), vid('rsv-denied', SUB2),
           vid('rsv-broken'), vid('rsv-lagged')]
    answers = {'rsv-gone': _error(404, 'ResourceNotFound'), 'rsv-rg-gone': _error(404, 'ResourceGroupNotFound'),
               'rsv-sub-gone': _error(404, 'SubscriptionNotFound'), 'rsv-denied': _error(403, 'AuthorizationFailed'),
               'rsv-broken': _error(500, 'InternalServerError')}
    loss, asked, extra = _compare(ids, read_keys=['rsv-read'], answers=answers, previous_subs=[SUB1, SUB2])
    assert asked == sorted(ids[1:])                       # the vault this run read is not asked for
    assert [v['name'] for v in loss['gone']] == ['rsv-gone', 'rsv-rg-gone', 'rsv-sub-gone']
    assert sorted(v['name'] for v in loss['unreadable']) == ['rsv-broken', 'rsv-denied']
    assert [v['why'] for v in loss['unreadable'] if v['name'] == 'rsv-denied'] == ['HTTP 403 AuthorizationFailed']
    assert [v['name'] for v in loss['recovered']] == ['rsv-lagged'] and [r['item']['id'] for r in extra] == [vid('rsv-lagged')]
    assert loss['subscriptions_left'] == [SUB2]
    failure = _scope_loss.failure(loss)
    assert 'can no longer be read by this identity' in failure and vid('rsv-denied', SUB2) in failure and 'rsv-gone' not in failure
    said = _scope_loss.warnings(loss)
    assert any(w.startswith('left the scope since the previous report (2026-12-06T10:00:00+00:00), gone from Azure') for w in said)
    assert any('no longer listed for this identity: %s' % SUB2 in w for w in said)
    assert any('read from ARM and judged' in w and 'rsv-lagged' in w for w in said)


def test_without_discovery_the_listed_vaults_are_compared_and_a_vault_taken_off_the_list_is_not():
    """discover false: the previous scope is what the run lists again. A listed vault whose read failed is classed by that
    read's answer (no second GET); one the previous report judged that the run no longer lists is no loss, whatever its
    subscription; with [all] no subscription is said to have left."""
    ids = [vid('rsv-read'), vid('rsv-denied', SUB2), vid('rsv-gone'), vid('rsv-dropped', SUB2), vid('rsv-lagged')]
    listed = {vid('rsv-read').lower(): None, vid('rsv-denied', SUB2).lower(): _error(403, 'AuthorizationFailed'),
              vid('rsv-gone').lower(): _error(404, 'ResourceNotFound'), vid('rsv-lagged').lower(): None}
    scope = dict(SCOPE, subscriptions=set(), discovered=False, listed=listed)
    loss, asked, _extra = _compare(ids, read_keys=['rsv-read'], scope=scope, previous_subs=[SUB1, SUB2])
    assert asked == [vid('rsv-lagged')]            # listed, read without an error yet not among the reads: asked
    assert [v['name'] for v in loss['unreadable']] == ['rsv-denied'] and [v['name'] for v in loss['gone']] == ['rsv-gone']
    assert loss['subscriptions_left'] == [] and 'rsv-dropped' not in str(loss)
    assert vid('rsv-denied', SUB2) in _scope_loss.failure(loss)
    # The same record with discovery: the vault taken off no list is asked for, as the scope still covers it.
    _loss, asked, _extra = _compare(ids, read_keys=['rsv-read'], scope=dict(SCOPE, subscriptions=None, every_subscription=True))
    assert vid('rsv-dropped', SUB2) in asked


def test_excluded_vaults_and_vaults_outside_the_configured_scope_are_not_asked_for():
    ids = [vid('rsv-x'), vid('rsv-y', rg='rg-b'), vid('bv-z', kind='dp'), vid('rsv-w', SUB2), vid('rsv-v')]
    scope = dict(SCOPE, every_subscription=False, subscriptions={SUB1}, resource_groups=['RG-A'], vault_types=['recovery_services'])
    loss, asked, _extra = _compare(ids, exclude=['rsv-v', '/subscriptions/%s/resourceGroups/other' % SUB1], scope=scope)
    assert asked == [vid('rsv-x')]
    assert loss['subscriptions_left'] == []               # an explicit list of subscriptions: nothing is "no longer listed"
    _loss, asked, _extra = _compare(ids, exclude=['/SUBSCRIPTIONS/%s/' % SUB1.upper()])
    assert asked == [vid('rsv-w', SUB2)]


def test_a_vault_whose_tags_no_longer_match_left_by_its_tags_and_is_not_judged():
    scope = dict(SCOPE, tags={'Env': 'prod'})
    answers = {'rsv-a': {'id': vid('rsv-a'), 'tags': {'env': 'dev'}}, 'rsv-b': {'id': vid('rsv-b'), 'tags': {'ENV': 'prod'}}}
    loss, _asked, extra = _compare([vid('rsv-a'), vid('rsv-b')], scope=scope, answers=answers)
    assert [v['name'] for v in loss['untagged']] == ['rsv-a'] and [v['name'] for v in loss['recovered']] == ['rsv-b']
    assert len(extra) == 1 and _scope_loss.failure(loss) == ''


def test_a_warning_names_the_first_twenty_and_counts_the_rest():
    ids = [vid('rsv-%02d' % index, SUB2) for index in range(25)]
    loss, _asked, _extra = _compare(ids, answers={'rsv-%02d' % index: _error(403, 'AuthorizationFailed') for index in range(25)})
    warning = [w for w in _scope_loss.warnings(loss) if 'no longer readable' in w][0]
    assert '25 vault(s) it judged' in warning and vid('rsv-19', SUB2) in warning and vid('rsv-20', SUB2) not in warning
    assert warning.endswith('and 5 more')


def test_the_section_is_in_drift_json_and_drift_md():
    answers = {'rsv-a': _error(403, 'AuthorizationFailed'), 'rsv-b': _error(404, 'ResourceNotFound')}
    loss, _asked, _extra = _compare([vid('rsv-a', SUB2), vid('rsv-b')], answers=answers)
    section = _scope_loss.section(loss, accepted=False)
    assert [(v['name'], v['reason']) for v in section['left']] == [('rsv-a', 'unreadable'), ('rsv-b', 'gone')]
    report = build_report([], {'scope_changes': section, 'warnings': _scope_loss.warnings(loss)})
    assert report['scope_changes']['accepted'] is False and report['schema_version'] == '2.4'
    text = render_markdown(report)
    assert '## Left the scope' in text and 'no longer readable by this identity' in text and 'gone from Azure' in text
    assert 'scope_changes' not in build_report([], {})
    assert _scope_loss.section(None) is None and _scope_loss.warnings(None) == [] and _scope_loss.failure(None) == ''


def test_a_run_that_could_not_read_its_scope_asks_for_nothing_and_keeps_the_vaults_for_the_next_run():
    loss, asked, extra = _compare([vid('rsv-a'), vid('rsv-b', SUB2)], scope=dict(SCOPE, subscriptions=None, unread=True))
    assert asked == [] and extra == []
    assert [v['name'] for v in loss['not_compared']] == ['rsv-a', 'rsv-b'] and _scope_loss.failure(loss) == ''
    assert any(w.startswith('not compared with the previous report') for w in _scope_loss.warnings(loss))
    section = _scope_loss.section(loss, accepted=True)
    # The failed run's drift.json judged no vault: the next run's record still holds both (accepted or not).
    record, _note = _scope_loss.parse_record(dict(doc(), scope_changes=section))
    assert sorted(record['vaults']) == sorted([vid('rsv-a').lower(), vid('rsv-b', SUB2).lower()])


def test_the_record_read_from_a_report_file_is_the_one_of_the_whole_document(tmp_path):
    """read_record keeps only what parse_record reads of each object as json makes it (_kept): the same record as
    parse_record of the whole document, from a report as harden_report writes it, with findings, discovery and carried
    vaults, keyed ids in another letter case and a subscription id with spaces."""
    loss, _asked, _extra = _compare([vid('rsv-gone', SUB2), vid('rsv-lost', SUB2)],
                                    answers={'rsv-gone': _error(404, 'ResourceNotFound'), 'rsv-lost': _error(403, 'AuthorizationFailed')})
    vaults = [{'id': vid('rsv-a').upper(), 'name': 'rsv-a', 'drift': True,
               'findings': [{'setting': 'immutability', 'have': 'disabled', 'want': 'enabled', 'id': 'f1', 'reason': 'x'}],
               'policies': [{'id': vid('rsv-a') + '/backupPolicies/p', 'name': 'p', 'tiers': {'daily': 'P7D'}}]},
              {'id': ' ' + vid('bv-b', kind='dp') + ' ', 'name': 'bv-b', 'drift': False, 'findings': []},
              {'name': 'no id', 'drift': False, 'findings': []}]
    whole = build_report(vaults, {'scope_changes': _scope_loss.section(loss, accepted=False),
                                  'discovery': {'source_by_subscription': {' %s ' % SUB3.upper(): 'resource_graph', SUB2: 'arm'}}})
    path = write(tmp_path, whole)
    expected = _scope_loss.parse_record(json.loads((tmp_path / 'drift.json').read_text()))
    # The same record when the one parse also keeps an excluded vault's findings for _excluded (its ``carry``).
    record, note, carried = _scope_loss.read_record(path, keeper(parse_exclusions(['rsv-a'])))
    assert (record, note) == expected
    assert [vault['findings'] for vault in carried[0]['vaults'] if 'findings' in vault] == [
        [vault for vault in whole['vaults'] if vault['name'] == 'rsv-a'][0]['findings']]
    record, note, _carried = _scope_loss.read_record(path)
    assert (record, note) == expected
    assert sorted(record['vaults']) == sorted([vid('rsv-a').lower(), vid('bv-b', kind='dp').lower(), vid('rsv-lost', SUB2).lower()])
    # SUB3 only keys the previous discovery's sources (no vault of it was judged).
    assert record['subscriptions'] == {SUB1, SUB2, SUB3} and record['skipped'] >= 1


# ------------------------------------------------------------------------------------------------ the scope record

def _report_with_changes():
    """A report as harden_report writes it: judged vaults (one without an id), a vault kept from an earlier run that could
    not read it, and the previous discovery's subscriptions."""
    loss, _asked, _extra = _compare([vid('rsv-gone', SUB2), vid('rsv-lost', SUB2)],
                                    answers={'rsv-gone': _error(404, 'ResourceNotFound'), 'rsv-lost': _error(403, 'AuthorizationFailed')})
    vaults = [{'id': vid('rsv-a'), 'name': 'rsv-a', 'drift': False, 'findings': []},
              {'id': vid('bv-b', kind='dp'), 'name': 'bv-b', 'drift': False, 'findings': []},
              {'name': 'no id', 'drift': False, 'findings': []}]
    return build_report(vaults, {'scope_changes': _scope_loss.section(loss, accepted=False),
                                 'discovery': {'source_by_subscription': {SUB3: 'resource_graph', SUB2: 'arm'}}})


@pytest.fixture
def reported(tmp_path):
    """A report directory as harden_report leaves it: the five reports and the scope record beside drift.json."""
    report = _report_with_changes()
    _path, written = write_reports(report, str(tmp_path))
    assert _scope_loss.SCOPE_RECORD in written and written[-1] == _scope_loss.SCOPE_RECORD
    return tmp_path, report


def _edit_record(tmp_path, change, digest=True):
    path = tmp_path / _scope_loss.SCOPE_RECORD
    record = json.loads(path.read_text())
    change(record)
    if digest:
        record['digest'] = _scope_loss._digest(record)  # pylint: disable=protected-access
    path.write_text(json.dumps(record))


def test_harden_report_writes_a_compact_record_the_next_run_reads_instead_of_drift_json(reported, monkeypatch):
    tmp_path, report = reported
    record_file = json.loads((tmp_path / _scope_loss.SCOPE_RECORD).read_text())
    assert record_file['record'] == 'vaultlock.azure scope record' and record_file['version'] == 1
    assert record_file['vaults'] == sorted([vid('rsv-a'), vid('bv-b', kind='dp')], key=str.lower)
    assert record_file['kept'] == [vid('rsv-lost', SUB2)] and record_file['skipped'] == 1
    assert record_file['report']['bytes'] == (tmp_path / 'drift.json').stat().st_size
    # Only what the comparison needs: a small part of drift.json.
    assert (tmp_path / _scope_loss.SCOPE_RECORD).stat().st_size < (tmp_path / 'drift.json').stat().st_size
    # Read first: drift.json is not parsed (its hash is checked in chunks).
    monkeypatch.setattr(_scope_loss, '_from_report', lambda *args, **kwargs: pytest.fail('drift.json was parsed'))
    record, note, _carried = _scope_loss.read_record(str(tmp_path))
    assert note == ''
    assert record == _scope_loss.parse_record(report)[0]
    assert record['subscriptions'] == {SUB1, SUB2, SUB3}


def test_without_a_record_drift_json_is_read_and_without_either_nothing_is_compared(reported):
    tmp_path, report = reported
    (tmp_path / _scope_loss.SCOPE_RECORD).unlink()          # a report directory of an earlier version
    record, note, _carried = _scope_loss.read_record(str(tmp_path))
    assert note == '' and record == _scope_loss.parse_record(report)[0]
    (tmp_path / 'drift.json').unlink()
    assert _scope_loss.read_record(str(tmp_path)) == (None, '', (None, None))


def test_a_record_of_another_run_than_drift_json_is_not_trusted(reported):
    tmp_path, report = reported
    # drift.json of another run (another vault judged), the record of the first one.
    other = build_report([{'id': vid('rsv-other'), 'name': 'rsv-other', 'drift': False, 'findings': []}], {})
    (tmp_path / 'drift.json').write_text(json.dumps(other))
    record, note, _carried = _scope_loss.read_record(str(tmp_path))
    assert 'is not of the run that wrote the drift.json beside it' in note and 'compared with drift.json instead' in note
    assert list(record['vaults']) == [vid('rsv-other').lower()]
    # The same size, another content.
    first = json.dumps(report)
    (tmp_path / 'drift.json').write_text(first.replace('rsv-a', 'rsv-z'))
    record, note, _carried = _scope_loss.read_record(str(tmp_path))
    assert 'not trusted' in note and vid('rsv-z').lower() in record['vaults']
    # No drift.json beside it (a workspace that restored only the record): nothing compared, said.
    (tmp_path / 'drift.json').unlink()
    record, note, _carried = _scope_loss.read_record(str(tmp_path))
    assert record is None and 'has no drift.json beside it' in note


def test_a_record_of_a_newer_version_is_set_aside_for_drift_json(reported):
    tmp_path, report = reported
    _edit_record(tmp_path, lambda record: record.update(version=2))
    record, note, _carried = _scope_loss.read_record(str(tmp_path))
    assert 'is of version 2, which this version of vaultlock.azure does not know' in note
    assert record == _scope_loss.parse_record(report)[0]


@pytest.mark.parametrize('change, digest, said', [
    (lambda record: record['vaults'].append(vid('rsv-new')), False, 'its digest does not match its content'),
    (lambda record: record.pop('digest'), False, 'its digest does not match its content'),
    (lambda record: record.update(record='something else'), True, 'it is not a vaultlock.azure scope record'),
    (lambda record: record.update(version='1'), True, "its version is '1'"),
    (lambda record: record.update(version=True), True, 'its version is true'),
    (lambda record: record.update(version=0), True, 'its version is 0'),
    (lambda record: record['vaults'].append('/subscriptions/x'), True, "vaults[2] is '/subscriptions/x', not the ARM id of a vault"),
    (lambda record: record['kept'].append(None), True, 'kept[1] is null'),
    (lambda record: record.update(vaults={}), True, 'its vaults is not a list'),
    (lambda record: record.update(subscriptions=['not-a-guid']), True, "subscriptions[0] is 'not-a-guid'"),
    (lambda record: record.update(subscriptions=None), True, 'its subscriptions is not a list'),
    (lambda record: record.update(skipped=-1), True, 'its count of skipped entries is -1'),
    (lambda record: record.update(report={'bytes': 1}), True, 'it does not say which drift.json it was written with'),
    (lambda record: record['report'].update(sha256='ABC'), True, 'it does not say which drift.json'),
])
def test_a_hand_edited_or_broken_record_is_an_error_naming_the_file(reported, change, digest, said):
    tmp_path, _report = reported
    _edit_record(tmp_path, change, digest)
    # With exclusions too (drift.json then also serves the excluded vaults' findings): the record is refused first.
    for carry in (None, keeper(parse_exclusions(['rsv-a']))):
        with pytest.raises(InputError) as caught:
            _scope_loss.read_record(str(tmp_path), carry)
        message = str(caught.value)
        assert str(tmp_path / _scope_loss.SCOPE_RECORD) in message and said in message and 'nothing was sent to Azure' in message


@pytest.mark.parametrize('content, said', [('{"record": ', 'it is not JSON (JSONDecodeError)'), ('\xff', 'it is not JSON'),
                                           ('[]', 'it is not a vaultlock.azure scope record'), ('null', 'it is not a vaultlock.azure')])
def test_a_record_that_is_not_json_is_an_error_naming_the_file(reported, content, said):
    tmp_path, _report = reported
    (tmp_path / _scope_loss.SCOPE_RECORD).write_bytes(content.encode('latin-1'))
    with pytest.raises(InputError, match="the scope record '.*drift.scope.json' cannot be used: %s" % re.escape(said)):
        _scope_loss.read_record(str(tmp_path))


def test_a_directory_where_the_record_goes_is_an_error_naming_it(tmp_path):
    (tmp_path / _scope_loss.SCOPE_RECORD).mkdir()
    with pytest.raises(InputError, match="drift.scope.json' cannot be used: it cannot be read"):
        _scope_loss.read_record(str(tmp_path))


def test_drift_md_names_the_first_twenty_subscriptions_no_longer_listed_then_how_many_more():
    subs = ['%08x-0000-0000-0000-000000000000' % index for index in range(23)]
    section = {'previous_report': {'generated_at': 'then', 'vaults': 3}, 'left': [], 'read_again': [], 'not_compared': [],
               'subscriptions_left': subs, 'skipped_entries': 0, 'accepted': False}
    line = [text for text in render_markdown(build_report([], {'scope_changes': section})).splitlines()
            if text.startswith('Subscriptions no longer listed')]
    assert line == ['Subscriptions no longer listed for this identity: %s and 3 more.' % ', '.join(subs[:20])]
    section['subscriptions_left'] = subs[:2]
    text = render_markdown(build_report([], {'scope_changes': section}))
    assert 'Subscriptions no longer listed for this identity: %s.' % ', '.join(subs[:2]) in text and 'more.' not in text
