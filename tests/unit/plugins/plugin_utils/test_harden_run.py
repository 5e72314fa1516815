# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/_harden_run.py: what the harden_plan and harden_report actions do on the controller.

The inputs checked before any request, the reads shaped as registered vault_immutability_info results (read_scope
replaced by a recorder, everything else real), the small summary the play gets, the private plan file, the drift.json
document built from the plan and the state tasks' results, and the five reports written whole or not at all.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import threading
import time

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, InputError, UnreadableResourceError, at_least_one
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.html import render_html
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import render_sarif
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report, render_junit, render_markdown
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import TLS_WARNING, plan_run
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from ansible_collections.vaultlock.azure.plugins.plugin_utils._apply_journal import CLAIM, ApplyJournal, ClaimNotWritten, claim_run, read_claim, release_claim
from ansible_collections.vaultlock.azure.plugins.plugin_utils import _harden_run
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import (
    PLAN_FORMAT,
    REPORT_FILES,
    Superseded,
    build_run_report,
    check_diffs,
    check_inputs,
    load_applied,
    load_plan,
    plan_path,
    plan_summary,
    prepare_report_dir,
    read_targets,
    read_warnings,
    save_plan,
    superseded_warning,
    write_reports,
)
from tests.unit.builders import BV, RS, SUB, SUB2, arm_vault, vault_id

BASELINE = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14}}


def records(with_items=False):
    """Vault records as read_scope returns them (_vaults.vault_record of ARM JSON); with_items: as read with include_items
    (no policy, no protected item), which lock readiness needs."""
    vaults = [
        vault_record(arm_vault('rsv-open', immutability='disabled', soft_delete='on'), RS),
        vault_record(arm_vault('rsv-ok', immutability='enabled', soft_delete='on'), RS),
        vault_record(arm_vault('bv-soft-off', BV, immutability='enabled', soft_delete='off'), BV),
        vault_record(arm_vault('bv-locked', BV, immutability='locked', soft_delete='on'), BV),
    ]
    if with_items:
        vaults = [dict(vault, policies=[], protected_items=[]) for vault in vaults]
    return vaults


LOCK = {'immutability': 'locked', 'allow_irreversible': True}


def a_run(baseline=None, exclude=None, with_items=False):
    reads = [{'vaults': records(with_items), 'errors': [], 'subscriptions': [SUB], 'item': ''}]
    return plan_run(reads, exclude or [], baseline or BASELINE)


def plan_args(**overrides):
    """The arguments harden_plan's argspec gives (defaults filled in)."""
    args = {'baseline': BASELINE, 'exclude': [], 'lock_requirements': None, 'discover': None, 'vaults': [], 'subscription_ids': [],
            'resource_groups': [], 'tags': {}, 'vault_types': ['recovery_services', 'backup'], 'discovery': 'auto',
            'max_concurrency': 32, 'report_dir': 'reports/harden', 'check_diff': True}
    args.update(overrides)
    return args


# ------------------------------------------------------------------------------------------- check_inputs

@pytest.mark.parametrize('report_dir', ['', '   ', '\t', None])
def test_an_empty_report_dir_is_refused(report_dir):
    with pytest.raises(InputError, match='report_dir is empty'):
        check_inputs(plan_args(report_dir=report_dir))


def test_discover_defaults_to_true_without_vaults_and_false_with_them():
    assert check_inputs(plan_args()) is True
    assert check_inputs(plan_args(vaults=[{'id': vault_id('rsv-a')}])) is False
    # Given explicitly, it wins over the default either way.
    assert check_inputs(plan_args(discover=True, vaults=[{'id': vault_id('rsv-a')}])) is True
    assert check_inputs(plan_args(discover=False, vaults=[{'id': vault_id('rsv-a')}])) is False


def test_no_discovery_and_no_vaults_is_refused():
    with pytest.raises(InputError, match='no vaults to check: discover is false and vaults is empty'):
        check_inputs(plan_args(discover=False, vaults=[]))


@pytest.mark.parametrize('vault, message', [
    ({'name': 'rsv-a'}, r'vaults\[1\]: name a vault by id, or by name, resource_group and vault_type'),
    ({'name': 'rsv-a', 'resource_group': 'rg'}, r'vaults\[1\]: name a vault by id'),
    ({'resource_group': 'rg', 'vault_type': 'backup'}, r'vaults\[1\]: name a vault by id'),
    ({'id': ''}, r'vaults\[1\]: name a vault by id'),
    ({}, r'vaults\[1\]: name a vault by id'),
    ({'id': vault_id('rsv-a'), 'colour': 'blue', 'group': 'x'}, r'vaults\[1\]: unknown key\(s\) colour, group;'),
    ({'name': 'rsv-a', 'resource_group': 'rg', 'vault_type': 'recovery-services'},
     r"vaults\[1\]: vault_type must be one of recovery_services, backup; got 'recovery-services'"),
    ({'id': vault_id('rsv-a'), 'vault_type': 'Backup'}, r'vaults\[1\]: vault_type must be one of'),
])
def test_bad_vault_entries_are_refused_with_their_index(vault, message):
    good = {'name': 'rsv-ok', 'resource_group': 'rg', 'vault_type': 'recovery_services', 'subscription_id': SUB2}
    with pytest.raises(InputError, match=message):
        check_inputs(plan_args(vaults=[good, vault]))


@pytest.mark.parametrize('groups, message', [
    # An empty entry (a variable that is not set) would read every resource group of the subscription.
    (['rg-a', ''], r"resource_groups\[1\]: resource group name '' is not valid"),
    ([' rg-a'], r"resource_groups\[0\]: resource group name ' rg-a' is not valid"),
    (['rg-a\n'], r"resource_groups\[0\]: resource group name 'rg-a\\n' is not valid"),
    (['rg-a.'], r"resource_groups\[0\]: resource group name 'rg-a.' is not valid"),
])
def test_a_resource_group_entry_that_is_not_a_name_is_refused_before_any_request(groups, message):
    with pytest.raises(InputError, match=message):
        check_inputs(plan_args(resource_groups=groups))


@pytest.mark.parametrize('args,message', [
    ({'subscription_ids': ['{%s}' % SUB]}, r"subscription_ids\[0\]: '\{%s\}' is not a subscription id" % SUB),
    ({'subscription_ids': [SUB, 'prod']}, r"subscription_ids\[1\]: 'prod' is not a subscription id"),
    ({'subscription_ids': [SUB, 'all']}, r"subscription_ids\[1\] is 'all', which means every subscription the identity can see"),
    ({'vaults': [{'name': 'rsv-a', 'resource_group': 'rg', 'vault_type': 'recovery_services', 'subscription_id': '%s}' % SUB}]},
     r"vaults\[0\].subscription_id: subscription id '%s\}' is not a GUID" % SUB),
])
def test_a_subscription_id_that_is_no_guid_is_refused_before_any_request(args, message):
    """It failed only at discovery: the run went on, wrote its reports and failed at its end."""
    with pytest.raises(InputError, match=message):
        check_inputs(plan_args(**args))


def test_subscription_ids_all_and_guids_pass():
    assert check_inputs(plan_args(subscription_ids=['all'])) is True
    assert check_inputs(plan_args(subscription_ids=['ALL'])) is True
    assert check_inputs(plan_args(subscription_ids=[SUB, SUB2.upper()])) is True


def test_resource_group_names_pass():
    assert check_inputs(plan_args(resource_groups=['rg-a', 'RG_b.(1)', 'rg-\u00e9t\u00e9'])) is True


@pytest.mark.parametrize('count', [0, -1])
def test_a_discovery_count_below_one_is_refused(count):
    # It was taken as the default (0) or as 1 (negative) without a word.
    with pytest.raises(InputError, match='max_concurrency must be at least 1; got %d' % count):
        check_inputs(plan_args(max_concurrency=count))


def test_counts_below_one_are_refused_naming_the_option():
    assert at_least_one(1, 'max_concurrency') == 1 and at_least_one(64, 'max_concurrency') == 64
    with pytest.raises(InputError, match=r'^max_concurrency must be at least 1; got -3; nothing was sent to Azure$'):
        at_least_one(-3, 'max_concurrency')
    with pytest.raises(InputError, match=r'^max_processes must be at least 1 \(one\); got 0; nothing was sent to Azure$'):
        at_least_one(0, 'max_processes', ' (one)')


@pytest.mark.parametrize('count', [True, False])
def test_a_count_given_as_a_boolean_is_refused(count):
    """An unquoted yes (or true) for a count is a boolean, which Python counts as 1: taken as a concurrency of 1 without a word."""
    with pytest.raises(InputError, match='^max_processes must be a whole number of at least 1 \\(one\\); got (true|false), a boolean'):
        at_least_one(count, 'max_processes', ' (one)')
    with pytest.raises(InputError, match='max_concurrency must be a whole number of at least 1; got'):
        check_inputs(plan_args(max_concurrency=count))


def test_good_vault_entries_pass():
    vaults = [{'id': vault_id('rsv-a')},
              {'name': 'bv-a', 'resource_group': 'rg', 'vault_type': 'backup', 'subscription_id': SUB2},
              {'id': vault_id('rsv-b'), 'vault_type': 'recovery_services'}]
    assert check_inputs(plan_args(vaults=vaults)) is False


# ------------------------------------------------------------------------------------------- read_targets

class FakeSession:
    def __init__(self, subscription, verify=True):
        self.default_subscription = subscription
        self.verify = verify


class Sessions:
    """session_for: one FakeSession per subscription asked for (None: the authentication's), each call recorded."""

    def __init__(self, verify=True):
        self.verify = verify
        self.asked = []
        self.made = {}

    def __call__(self, subscription_id):
        self.asked.append(subscription_id)
        key = subscription_id or SUB
        if key not in self.made:
            self.made[key] = FakeSession(key, self.verify)
        return self.made[key]


@pytest.fixture(name='scope_reads')
def scope_reads_fixture(monkeypatch):
    """Replace the read_scope _harden_run calls (_discovery.read_scope) by a recorder: a vault record per read, or the
    error a test sets for a resource group."""
    calls = []
    failures = {}

    def fake_read_scope(session, params):
        calls.append((session, dict(params)))
        key = params.get('resource_group') or params.get('id') or params.get('name')
        if key in failures:
            raise failures[key]
        sub = session.default_subscription
        record = vault_record(arm_vault('v-%d' % len(calls), sub=sub, immutability='disabled', soft_delete='on'), RS)
        discovery = {'requested': params['discovery'], 'source_by_subscription': {sub: 'arm'}, 'fallbacks': []}
        return {'vaults': [record], 'errors': [], 'subscriptions': [sub], 'discovery': discovery, 'guard_failures': []}

    monkeypatch.setattr(_harden_run, 'read_scope', fake_read_scope)
    return calls, failures


def test_one_read_per_resource_group_with_the_scope_options(scope_reads):
    calls, _failures = scope_reads
    sessions = Sessions()
    args = plan_args(resource_groups=['rg-a', 'rg-b'], subscription_ids=[SUB, SUB2], tags={'env': 'prod'}, vault_types=['backup'],
                     discovery='resource_graph', max_concurrency=4)
    reads = read_targets(sessions, args, True, {'include_policies': True, 'include_items': False})
    assert [session.default_subscription for session, _params in calls] == [SUB, SUB]
    assert sessions.asked == [None, None]
    assert [params['resource_group'] for _session, params in calls] == ['rg-a', 'rg-b']
    for _session, params in calls:
        assert params['subscription_ids'] == [SUB, SUB2]
        assert params['tags'] == {'env': 'prod'}
        assert params['vault_types'] == ['backup']
        assert params['discovery'] == 'resource_graph'
        assert params['max_concurrency'] == 4
        assert params['include_policies'] is True and params['include_items'] is False
    # Shaped as registered vault_immutability_info loop items: vaults, errors, subscriptions, discovery, item.
    assert [read['item'] for read in reads] == ['rg-a', 'rg-b']
    assert [len(read['vaults']) for read in reads] == [1, 1]
    assert all(read['errors'] == [] and read['subscriptions'] == [SUB] for read in reads)
    assert [read['discovery']['requested'] for read in reads] == ['resource_graph', 'resource_graph']
    assert not any('cert_validation_mode' in read for read in reads)


def test_without_resource_groups_one_read_covers_every_group(scope_reads):
    calls, _failures = scope_reads
    reads = read_targets(Sessions(), plan_args(), True, {'include_policies': False, 'include_items': False})
    assert len(calls) == 1
    params = calls[0][1]
    # Unset scope options are None (read_scope's "not given"), never an empty list that would select nothing.
    assert params['resource_group'] is None and params['subscription_ids'] is None and params['tags'] is None
    assert params['discovery'] == 'auto' and params['vault_types'] == ['recovery_services', 'backup']
    assert reads[0]['item'] == ''


def test_no_discovery_reads_only_the_named_vaults(scope_reads):
    calls, _failures = scope_reads
    sessions = Sessions()
    named = [{'id': vault_id('rsv-a')},
             {'name': 'bv-b', 'resource_group': 'rg-b', 'vault_type': 'backup', 'subscription_id': SUB2}]
    args = plan_args(vaults=named, discovery='resource_graph', vault_types=['backup'], max_concurrency=8)
    reads = read_targets(sessions, args, False, {'include_policies': True, 'include_items': True})
    assert sessions.asked == [None, SUB2]
    assert [session.default_subscription for session, _params in calls] == [SUB, SUB2]
    first, second = (params for _session, params in calls)
    # A named vault is always read from ARM with one GET (whatever discovery says), of any kind.
    assert first['discovery'] == 'arm' and second['discovery'] == 'arm'
    assert first['vault_types'] == ['recovery_services', 'backup'] == second['vault_types']
    assert first['id'] == vault_id('rsv-a') and first['name'] is None
    assert (second['id'], second['name'], second['resource_group'], second['vault_type']) == (None, 'bv-b', 'rg-b', 'backup')
    assert 'subscription_id' not in second  # the subscription goes in the session, not in read_scope's params
    assert first['max_concurrency'] == 8 and first['include_policies'] is True and first['include_items'] is True
    assert [read['item'] for read in reads] == named
    assert reads[1]['vaults'][0]['subscription_id'] == SUB2


def test_discovery_and_named_vaults_together(scope_reads):
    calls, _failures = scope_reads
    args = plan_args(resource_groups=['rg-a'], vaults=[{'id': vault_id('rsv-a')}])
    reads = read_targets(Sessions(), args, True, {'include_policies': False, 'include_items': False})
    assert [params.get('resource_group') for _session, params in calls] == ['rg-a', None]
    assert [params['discovery'] for _session, params in calls] == ['auto', 'arm']
    assert len(reads) == 2


def test_a_read_that_fails_becomes_a_failed_item_and_the_others_still_run(scope_reads):
    calls, failures = scope_reads
    failures['rg-bad'] = AzureOperationError('list vaults', 'resource group rg-bad', 403, 'AuthorizationFailed', 'no access')
    failures[vault_id('rsv-gone')] = UnreadableResourceError(vault_id('rsv-gone'), 'properties', None, 'a JSON object')
    named = {'id': vault_id('rsv-gone')}
    reads = read_targets(Sessions(), plan_args(resource_groups=['rg-bad', 'rg-good'], vaults=[named]), True,
                         {'include_policies': False, 'include_items': False})
    assert len(calls) == 3
    # The exception itself is kept (_scope_loss classes a listed vault's failed read by it).
    assert reads[0].pop('error') is failures['rg-bad']
    assert reads[0] == {'failed': True, 'item': 'rg-bad',
                        'msg': 'list vaults failed for resource group rg-bad (HTTP 403, AuthorizationFailed): no access'}
    assert len(reads[1]['vaults']) == 1 and reads[1]['item'] == 'rg-good'
    assert reads[2]['failed'] is True and reads[2]['item'] == named and 'which this collection cannot read' in reads[2]['msg']
    # plan_run reports each failure as an error of the run with its scope, and plans the vault that was read.
    run = plan_run(reads, [], BASELINE)
    assert [error['scope'] for error in run['report_errors']] == ['resource group rg-bad', vault_id('rsv-gone')]
    assert [entry['name'] for entry in run['drift']] == ['v-2']


def test_a_missing_session_is_a_failed_read(scope_reads):
    calls, _failures = scope_reads
    reads = read_targets(lambda subscription_id: None, plan_args(), True, {'include_policies': False, 'include_items': False})
    assert calls == []
    assert str(reads[0].pop('error')) == 'no Azure session'
    assert reads == [{'failed': True, 'msg': 'no Azure session', 'item': ''}]


def test_tls_validation_off_marks_every_read(scope_reads):
    reads = read_targets(Sessions(verify=False), plan_args(vaults=[{'id': vault_id('rsv-a')}], discover=True), True,
                         {'include_policies': False, 'include_items': False})
    assert [read.get('cert_validation_mode') for read in reads] == ['ignore', 'ignore']
    # ... which is how plan_run learns that validation was off.
    assert TLS_WARNING in plan_run(reads, [], BASELINE)['report_warnings']
    assert TLS_WARNING not in plan_run(read_targets(Sessions(), plan_args(), True, {}), [], BASELINE)['report_warnings']


# ------------------------------------------------------------------------------------------- read_warnings

def test_read_warnings_name_fallbacks_and_scopes_not_read():
    reads = [
        {'vaults': [], 'errors': [{'scope': '/subscriptions/%s' % SUB2, 'message': 'no access', 'code': 'AuthorizationFailed'}],
         'discovery': {'fallbacks': [{'subscription_id': SUB, 'reason': 'Resource Graph answered 403'}]}},
        {'failed': True, 'msg': 'boom', 'item': 'rg'},
        {'vaults': [], 'errors': [], 'discovery': None},
    ]
    assert read_warnings(reads) == [
        'read subscription %s from ARM instead of Resource Graph: Resource Graph answered 403' % SUB,
        'could not read /subscriptions/%s: no access (AuthorizationFailed)' % SUB2,
        'could not read resource group rg: boom',
    ]
    assert read_warnings([{'failed': True, 'msg': 'denied', 'item': {'id': '/subscriptions/x/v'}},
                          {'failed': True, 'msg': 'no credential', 'item': ''}]) == [
        'could not read /subscriptions/x/v: denied', 'could not read the vaults of the scope: no credential']
    assert read_warnings([]) == []


# ------------------------------------------------------------------------------------------- plan_summary, check_diffs

def test_plan_summary_holds_only_the_vaults_with_actions():
    reads = [{'vaults': records(), 'errors': [{'scope': 'resource group rg-x', 'message': 'no access'}], 'item': 'rg-x',
              'discovery': {'requested': 'auto', 'source_by_subscription': {SUB: 'resource_graph'}, 'fallbacks': []}}]
    run = plan_run(reads, ['bv-locked'], {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14}})
    summary = plan_summary(run)
    assert [entry['name'] for entry in summary['actions']] == ['bv-soft-off', 'rsv-open']
    assert [entry['actions']['immutability'] for entry in summary['actions']] == [None, 'enabled']
    assert summary['actions'][0]['actions']['soft_delete'] == {'state': 'on', 'retention_days': 14}
    assert (summary['vaults'], summary['drifting'], summary['with_actions'], summary['errors'], summary['excluded']) == (3, 2, 2, 1, 1)
    assert summary['blocked'] == '' and summary['include_policies'] is False and summary['include_items'] is False
    assert summary['discovery']['source_by_subscription'] == {SUB: 'resource_graph'}
    # No vault record in it: the compliant vault is not named anywhere.
    assert 'rsv-ok' not in json.dumps(summary)
    # return_actions false (the role): the same counts, no entry (harden_apply reads them from the kept plan).
    slim = plan_summary(run, with_actions=False)
    assert slim['actions'] == [] and dict(slim, actions=None) == dict(summary, actions=None)


def test_plan_summary_counts_drift_that_no_action_fixes():
    # A locked vault asked to be disabled drifts, but nothing can change it: no action.
    run = a_run({'immutability': 'disabled'})
    summary = plan_summary(run)
    assert (summary['vaults'], summary['drifting'], summary['with_actions']) == (4, 3, 2)
    assert sorted(entry['name'] for entry in summary['actions']) == ['bv-soft-off', 'rsv-ok']
    assert all(entry['changes'] for entry in summary['actions'])


def test_plan_summary_of_a_blocked_run():
    # rsv-open and rsv-ok are ready to lock; an exclusion that matched nothing blocks those irreversible changes.
    run = a_run(LOCK, exclude=[vault_id('rsv-typo')], with_items=True)
    summary = plan_summary(run)
    assert 'rsv-typo' in summary['blocked'] and '2 irreversible change(s)' in summary['blocked']
    assert sorted(entry['name'] for entry in summary['actions']) == ['rsv-ok', 'rsv-open']
    # Without the stray exclusion nothing blocks the same plan.
    assert plan_summary(a_run(LOCK, with_items=True))['blocked'] == ''
    # A lock reads protected items (and so policies: the action asks for both); this baseline checks no retention.
    assert summary['include_items'] is True and summary['include_policies'] is False


def test_check_diffs_one_per_drifting_vault():
    diffs = check_diffs(a_run())
    assert sorted(diff['before_header'].split(' ')[0] for diff in diffs) == ['bv-soft-off', 'rsv-open']
    rsv = [diff for diff in diffs if diff['before_header'].startswith('rsv-open')][0]
    assert 'disabled' in rsv['before'] and 'enabled' in rsv['after']


# ------------------------------------------------------------------------------------------- the plan file

def test_save_and_load_a_plan(tmp_path):
    run = a_run()
    plan_id = save_plan(str(tmp_path), run, 'reports/x', True)
    assert re.fullmatch(r'[0-9a-f]{32}', plan_id)
    path = tmp_path / ('vaultlock-harden-plan-%s.json' % plan_id)
    assert plan_path(str(tmp_path), plan_id) == str(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    plan = load_plan(str(tmp_path), plan_id)
    assert plan['format'] == PLAN_FORMAT and plan['report_dir'] == 'reports/x' and plan['check_mode'] is True
    assert plan['drift'] == json.loads(json.dumps(run['drift']))
    assert plan['baseline'] == run['baseline'] and plan['blocked'] == ''
    assert plan['errors'] == run['report_errors'] and plan['warnings'] == run['report_warnings']
    # The plan holds the drift entries, never the vault records (their soft delete and tags, say).
    assert 'vaults' not in plan and 'enforced_by_azure' not in path.read_text()
    # Each save is a new plan.
    other = save_plan(str(tmp_path), run, 'reports/y', False)
    assert other != plan_id and load_plan(str(tmp_path), other)['check_mode'] is False
    assert load_plan(str(tmp_path), plan_id)['report_dir'] == 'reports/x'


@pytest.mark.parametrize('plan_id', ['../x', '../' + 'a' * 29, 'A' * 32, 'a' * 31, 'a' * 33, 'g' * 32, '', None, 42,
                                     '/etc/passwd', 'a' * 16 + '/' + 'a' * 15])
def test_a_plan_id_that_is_not_one_is_refused(tmp_path, plan_id):
    with pytest.raises(InputError, match='plan must be the plan value a vaultlock.azure.harden_plan task returned'):
        plan_path(str(tmp_path), plan_id)
    with pytest.raises(InputError, match='plan must be'):
        load_plan(str(tmp_path), plan_id)


def test_a_plan_that_does_not_exist(tmp_path):
    with pytest.raises(InputError, match='no plan 0123456789abcdef0123456789abcdef on this controller'):
        load_plan(str(tmp_path), '0123456789abcdef0123456789abcdef')


@pytest.mark.parametrize('doc', [
    {'format': PLAN_FORMAT - 1, 'drift': [], 'seal': {'run': 'x', 'mac': '0' * 64}},   # the format before the envelope
    {'format': PLAN_FORMAT + 1, 'seal': {}, 'doc': {}}, {'drift': []}, [1, 2], 'text',
])
def test_a_plan_of_another_format_is_refused(tmp_path, doc):
    plan_id = 'ab' * 16
    (tmp_path / ('vaultlock-harden-plan-%s.json' % plan_id)).write_text(json.dumps(doc))
    with pytest.raises(InputError, match='was written by another version of vaultlock.azure'):
        load_plan(str(tmp_path), plan_id)


@pytest.mark.parametrize('text', ['{"format": 1, "dri', '', b'\xff\xfe{}'])
def test_a_damaged_plan_file_is_an_input_error(tmp_path, text):
    plan_id = 'cd' * 16
    path = tmp_path / ('vaultlock-harden-plan-%s.json' % plan_id)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(InputError, match='cannot be read'):
        load_plan(str(tmp_path), plan_id)


def test_a_kept_file_that_cannot_be_read_is_named_without_the_controller_s_temporary_directory(tmp_path):
    """The plan and the apply results live in Ansible's local temporary directory of the run: an error reading them says
    why (the system's words) and names the plan, never that directory's path. ansible-core 2.19 prints a failed task's
    message even under no_log ('[ERROR]: Task failed: ...'), and before, the OSError's text carried the file's full path."""
    plan_id = save_plan(str(tmp_path), a_run(), 'reports/x', False)
    for path, call in ((tmp_path / ('vaultlock-harden-plan-%s.json' % plan_id), load_plan),
                       (tmp_path / ('vaultlock-harden-plan-%s.applied.json' % plan_id), load_applied)):
        if path.exists():
            path.unlink()
        path.mkdir()      # open() then fails with EISDIR, an OSError that is not FileNotFoundError
        with pytest.raises(InputError) as raised:
            call(str(tmp_path), plan_id)
        assert str(raised.value).endswith('%s on this controller cannot be read (damaged?): Is a directory' % plan_id), str(raised.value)
        assert str(tmp_path) not in str(raised.value) and 'vaultlock-harden-plan' not in str(raised.value)


def test_a_plan_id_with_a_trailing_newline_is_refused(tmp_path):
    with pytest.raises(InputError, match='plan must be'):
        plan_path(str(tmp_path), 'a' * 32 + '\n')


# ------------------------------------------------------------------------------------------- build_run_report

def by_name(entries):
    return {entry['name']: entry for entry in entries}


def registered(run):
    """The state tasks' registered results of a real run that fixed everything it planned, soft delete failing on one vault."""
    entries = by_name(run['drift'])
    return {
        'immutability': {'changed': True, 'msg': 'All items completed', 'results': [
            {'item': entries['rsv-open'], 'changed': True, 'failed': False,
             'changes': [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled'}]}]},
        'soft_delete': {'changed': False, 'results': [
            {'item': entries['bv-soft-off'], 'changed': False, 'failed': True, 'msg': 'Backup vault bv-soft-off: 409 Conflict'}]},
        'retention': {'changed': False, 'skipped': True, 'results': []},
    }


def loaded_plan(tmp_path, run, check_mode=False):
    return load_plan(str(tmp_path), save_plan(str(tmp_path), run, str(tmp_path / 'reports'), check_mode))


def without_time(report):
    return {key: value for key, value in report.items() if key != 'generated_at'}


def test_a_real_run_marks_findings_resolved_as_build_report_does(tmp_path):
    run = a_run()
    plan = loaded_plan(tmp_path, run)
    results = registered(run)
    report = build_run_report(plan, results)
    vaults = by_name(report['vaults'])
    assert [(f['setting'], f['resolved']) for f in vaults['rsv-open']['findings']] == [('immutability', True)]
    assert vaults['rsv-open']['status'] == 'fixed' and vaults['rsv-open']['drift'] is False
    assert [(f['setting'], f['resolved']) for f in vaults['bv-soft-off']['findings']] == [('soft_delete', False)]
    assert vaults['bv-soft-off']['status'] == 'drift'
    assert [c['name'] for c in report['changed']] == ['rsv-open']
    assert [(e['vault'], e['action']) for e in report['errors']] == [('bv-soft-off', 'soft_delete')]
    summary = report['summary']
    assert (summary['vaults'], summary['drifting'], summary['resolved'], summary['fixed'], summary['changed'], summary['errors']) == \
        (4, 1, 1, 1, 1, 1)
    assert report['check_mode'] is False
    # The same document the drift_report_json filter makes of the same drift and results.
    expected = build_report(run['drift'], {'check_mode': False, 'predict': True, 'baseline': run['baseline'], 'errors': run['report_errors'],
                                           'warnings': run['report_warnings'], 'discovery': run['discovery'],
                                           'results': {key: value['results'] for key, value in results.items()}})
    assert without_time(report) == json.loads(json.dumps(without_time(expected)))


def test_results_as_lists_are_the_same_as_registered_dicts(tmp_path):
    run = a_run()
    plan = loaded_plan(tmp_path, run)
    results = registered(run)
    as_lists = {key: value['results'] for key, value in results.items()}
    assert without_time(build_run_report(plan, as_lists)) == without_time(build_run_report(plan, results))
    # A missing key, or None, is no result (nothing ran): the findings stay open.
    report = build_run_report(plan, {'immutability': None})
    assert report['summary']['resolved'] == 0 and report['changed'] == []


def test_check_mode_without_results_predicts_the_changes(tmp_path):
    run = a_run()
    report = build_run_report(loaded_plan(tmp_path, run, check_mode=True), {})
    assert report['check_mode'] is True
    assert sorted(c['name'] for c in report['changed']) == ['bv-soft-off', 'rsv-open']
    assert report['summary']['resolved'] == 0 and report['summary']['drifting'] == 2


def test_a_blocked_plan_predicts_nothing(tmp_path):
    run = a_run(LOCK, exclude=[vault_id('rsv-typo')], with_items=True)
    report = build_run_report(loaded_plan(tmp_path, run, check_mode=True), {})
    assert report['changed'] == []
    # The same plan unblocked would lock the two ready vaults.
    unblocked = build_run_report(loaded_plan(tmp_path, a_run(LOCK, with_items=True), check_mode=True), {})
    assert sorted(c['name'] for c in unblocked['changed']) == ['rsv-ok', 'rsv-open']
    assert [error['scope'] for error in report['errors']] == ['harden_backup_vaults_exclude']


def test_results_with_unknown_keys_are_refused(tmp_path):
    plan = loaded_plan(tmp_path, a_run())
    with pytest.raises(InputError, match=r'results: unknown key\(s\) immutabilty, softdelete; give immutability, soft_delete, retention, resource_guard'):
        build_run_report(plan, {'immutabilty': [], 'softdelete': [], 'retention': []})


@pytest.mark.parametrize('value', ['[]', 42, True, {'results': 'none'}])
def test_results_that_are_not_lists_are_refused(tmp_path, value):
    plan = loaded_plan(tmp_path, a_run())
    with pytest.raises(InputError, match='results.soft_delete must be the registered result of the state task'):
        build_run_report(plan, {'soft_delete': value})


def a_change(run, **overrides):
    """A successful immutability result for rsv-open, as vault_immutability registers it in a loop over the plan."""
    result = {'item': by_name(run['drift'])['rsv-open'], 'changed': True, 'failed': False, 'check_mode': False,
              'changes': [{'setting': 'immutability', 'before': 'disabled', 'after': 'enabled'}]}
    result.update(overrides)
    return result


def test_the_result_of_a_task_without_a_loop_is_one_result(tmp_path):
    run = a_run()
    single = dict(a_change(run), id=by_name(run['drift'])['rsv-open']['id'])
    del single['item']
    report = build_run_report(loaded_plan(tmp_path, run), {'immutability': single})
    assert [c['name'] for c in report['changed']] == ['rsv-open'] and report['summary']['resolved'] == 1


OTHER_VAULT = '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/not-planned' % SUB


@pytest.mark.parametrize('overrides, message', [
    ({'item': None, 'failed': True, 'changed': False, 'changes': None, 'msg': 'boom'}, r'results.immutability\[0\] names no vault'),
    ({'item': {'id': ['a list']}}, r'results.immutability\[0\] names no vault'),
    ({'item': {'id': OTHER_VAULT}}, r'results.immutability\[0\] is for vault .*not-planned.*, which is not in the plan'),
    ({'changes': None, 'changed': False, 'msg': 'Hello world!'}, r'results.immutability\[0\] has no changes list'),
    ({'changes': 'everything'}, r'has no changes list'),
    ({'changes': [{'setting': 'soft_delete', 'before': 'off', 'after': 'on'}]}, r"changes 'soft_delete', which the state task for immutability"),
    ({'changes': ['locked']}, r"changes 'None', which the state task for immutability"),
    ({'changes': []}, r'says changed but lists no change'),
    ({'changed': False}, r'lists changes but says it changed nothing'),
    ({'changed': 'false'}, r"changed must be true or false, got 'false'"),
    ({'skipped': 'no'}, r"skipped must be true or false, got 'no'"),
    ({'failed': 0}, r"failed must be true or false, got '0'"),
    ({'check_mode': True}, r"check_mode True, the plan's check_mode is False"),
])
def test_results_the_reports_cannot_take_as_what_happened_are_refused_by_name(tmp_path, overrides, message):
    run = a_run()
    plan = loaded_plan(tmp_path, run)
    good = a_change(run)
    with pytest.raises(InputError, match=message):
        build_run_report(plan, {'immutability': {'results': [a_change(run, **overrides)] if overrides.get('item', 1) is not None
                                                 else [{k: v for k, v in a_change(run, **overrides).items() if k != 'item'}]}})
    # Beside a good one, second in the list: named by its index.
    bad = a_change(run, **overrides)
    if overrides.get('item', 1) is None:
        del bad['item']
    with pytest.raises(InputError, match=message.replace('[0', '[1')):
        build_run_report(plan, {'immutability': [good, bad]})
    # Nothing was written: the error is raised before any report.
    assert not os.path.exists(str(tmp_path / 'reports' / 'drift.json'))


def test_trusted_results_still_count(tmp_path):
    run = a_run()
    plan = loaded_plan(tmp_path, run)
    # A failure that changed something (outcome unknown) lists no change: an error, and a change whose details are unknown.
    unknown = a_change(run, failed=True, changes=[], outcome='unknown', msg='lost')
    report = build_run_report(plan, {'immutability': [unknown], 'soft_delete': {'skipped': True, 'changed': False}})
    assert [c['name'] for c in report['changed']] == ['rsv-open'] and report['summary']['resolved'] == 0
    assert [e['message'] for e in report['errors']] == ['lost']
    # A security settings result may change any of that module's settings, whichever key it is given under.
    vault = by_name(run['drift'])['rsv-open']
    security = {'item': vault, 'changed': True, 'changes': [{'setting': 'public_network_access', 'before': 'Enabled', 'after': 'Disabled'}]}
    assert build_run_report(plan, {'alerts': [security]})['summary']['changed'] == 1
    with pytest.raises(InputError, match="changes 'public_network_access', which the state task for retention"):
        build_run_report(plan, {'retention': [security]})


# ------------------------------------------------------------------------------------------- write_reports

def a_report(tmp_path):
    run = a_run()
    return build_run_report(loaded_plan(tmp_path, run), registered(run))


def test_write_reports_writes_five_files_into_a_new_directory(tmp_path):
    report = a_report(tmp_path)
    target = tmp_path / 'new' / 'deeper'
    path, written = write_reports(report, str(target))
    assert path == os.path.realpath(str(target)) and os.path.isabs(path)
    assert written == list(REPORT_FILES)
    assert sorted(os.listdir(path)) == sorted(REPORT_FILES)  # and no temporary file left over
    for name in REPORT_FILES:
        assert stat.S_IMODE(os.stat(os.path.join(path, name)).st_mode) == 0o644
    # drift.json reads back as the report (the drift_report_json filter's document), keys sorted, a line per top-level key and
    # per member of each top-level list or object (each vault whole on its line), with a final newline.
    text = (target / 'drift.json').read_text(encoding='utf-8')
    assert json.loads(text) == json.loads(json.dumps(report))
    lines = text.split('\n')
    assert lines[0] == '{' and lines[-2:] == ['}', '']
    assert [json.loads(line.strip().rstrip(','))['name'] for line in lines if line.startswith('    {"') and '"posture"' in line] == \
        [vault['name'] for vault in report['vaults']]
    keys = [json.loads(line.split(': ', 1)[0]) for line in lines if line.startswith('  "')]
    assert keys == sorted(report)
    # Each other file is exactly what its renderer (the drift_report_* filters) makes of the report.
    for name, render in (('drift.md', render_markdown), ('drift.junit.xml', render_junit), ('drift.html', render_html),
                         ('drift.sarif', render_sarif)):
        assert (target / name).read_text(encoding='utf-8') == render(report), name
    assert '| bv-soft-off | default | Backup vault |' in (target / 'drift.md').read_text(encoding='utf-8')


def test_the_reports_of_an_earlier_plan_of_the_run_never_replace_those_of_a_later_one(tmp_path):
    """Two plans of one run into one report directory, reported out of order: the later plan's reports are written, and
    the earlier plan's report replaces none of them (Superseded, nothing renamed, no temporary file left), and says which
    plan's reports are there. Reported in order, each is written (the later one last). The claim records whose reports are
    there; without a claim (a run of an earlier version, one cleared by hand) the reports are written as before."""
    report = a_report(tmp_path)
    first, second = 'a' * 32, 'b' * 32
    target = tmp_path / 'reports'
    target.mkdir()
    claim_run(str(target), first)
    claim_run(str(target), second)
    path, written = write_reports(report, str(target), plan=second)
    assert written == list(REPORT_FILES) and read_claim(path)['reports'] == {'plan': second, 'order': 2}
    release_claim(path, second)
    before = {name: (target / name).read_bytes() for name in REPORT_FILES}
    older = build_run_report(loaded_plan(tmp_path, a_run()), {})
    with pytest.raises(Superseded) as raised:
        write_reports(older, str(target), plan=first)
    assert raised.value.path == path and raised.value.later['plan'] == second
    assert {name: (target / name).read_bytes() for name in REPORT_FILES} == before
    assert sorted(os.listdir(target)) == sorted(list(REPORT_FILES) + [CLAIM])
    warning = superseded_warning(first, raised.value)
    assert warning.startswith("the reports of plan %s were not written: the report directory '%s' holds the reports of plan %s, "
                              "which this ansible-playbook run made, or applied for real, after this plan" % (first, path, second)), warning
    assert release_claim(path, first) is True and sorted(os.listdir(target)) == sorted(REPORT_FILES)
    # In order: both written, the later one last.
    claim_run(str(target), first)
    claim_run(str(target), second)
    assert write_reports(older, str(target), plan=first)[1] == list(REPORT_FILES)
    release_claim(path, first)
    assert write_reports(report, str(target), plan=second)[1] == list(REPORT_FILES)
    assert release_claim(path, second) is True
    assert {name: (target / name).read_bytes() for name in REPORT_FILES} == before
    # No claim: written as before.
    assert write_reports(older, str(target), plan=first)[1] == list(REPORT_FILES)


def test_reports_whose_claim_cannot_record_them_are_written_and_say_so(tmp_path, monkeypatch):
    """The claim cannot be rewritten once the reports are renamed into place (a full disk: os.replace of the claim fails with
    ENOSPC): the five reports stand, and what that means is given to harden_report (``said``) instead of passed over; the
    claim stays as it was. Without ``said`` the failure is raised. Before, claim_reported passed it over in silence."""
    report = a_report(tmp_path)
    target = tmp_path / 'reports'
    target.mkdir()
    claim_run(str(target), 'a' * 32)
    before = (target / CLAIM).read_bytes()
    real = os.replace

    def full_disk(source, destination):
        if os.path.basename(destination) == CLAIM:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(source, destination)
    monkeypatch.setattr(os, 'replace', full_disk)
    said = []
    path, written = write_reports(report, str(target), plan='a' * 32, said=said)
    assert written == list(REPORT_FILES) and sorted(os.listdir(target)) == sorted(list(REPORT_FILES) + [CLAIM])
    assert said == ["the reports of plan %s were written, but the run's claim could not record that they are this plan's: "
                    "run-claim.json could not be written in the report directory '%s' (No space left on device). A report of an "
                    'earlier plan of this run into the same directory, if one is still to come, may replace them with an older '
                    'reading' % ('a' * 32, path)], said
    assert (target / CLAIM).read_bytes() == before
    with pytest.raises(ClaimNotWritten):
        write_reports(report, str(target), plan='a' * 32)


def test_write_reports_replaces_the_old_reports(tmp_path):
    target = tmp_path / 'reports'
    target.mkdir()
    (target / 'drift.json').write_text('old')
    os.chmod(target / 'drift.json', 0o600)
    (target / 'notes.txt').write_text('mine')
    write_reports(a_report(tmp_path), str(target))
    assert json.loads((target / 'drift.json').read_text())['schema_version'] == '2.4'
    assert stat.S_IMODE(os.stat(target / 'drift.json').st_mode) == 0o644
    assert (target / 'notes.txt').read_text() == 'mine'


def test_write_reports_expands_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    path, _written = write_reports(a_report(tmp_path), '~/reports')
    assert path == os.path.realpath(str(tmp_path / 'home' / 'reports'))
    assert os.path.isfile(os.path.join(path, 'drift.md'))


def test_a_failing_renderer_leaves_no_temporary_file_and_keeps_the_old_report(tmp_path, monkeypatch):
    target = tmp_path / 'reports'
    target.mkdir()
    for name in REPORT_FILES:
        (target / name).write_text('old ' + name)
    _broken_renderers(monkeypatch, 'drift.html')
    with pytest.raises(RuntimeError, match='renderer broke'):
        write_reports(a_report(tmp_path), str(target))
    assert sorted(os.listdir(target)) == sorted(REPORT_FILES)  # no .drift.html.* left behind
    # None of the five changed: the reports on disk always come from one run.
    for name in REPORT_FILES:
        assert (target / name).read_text() == 'old ' + name


def test_a_directory_named_like_a_report_is_refused_before_anything_is_written(tmp_path):
    """A directory named drift.md in report_dir: the renames stopped at it, so drift.json was this run's and drift.md,
    .junit.xml, .html and .sarif were an earlier run's (in check mode, where no earlier report is retired), and a
    .drift.md.* temporary file was left. prepare_report_dir (harden_plan's check, before any request) names it now."""
    target = tmp_path / 'reports'
    target.mkdir()
    for name in REPORT_FILES:
        (target / name).write_text('old ' + name)
    os.unlink(target / 'drift.md')
    (target / 'drift.md').mkdir()
    (target / 'drift.sarif').unlink()
    (target / 'drift.sarif').symlink_to(tmp_path / 'elsewhere.sarif')   # a symlink is replaced, never followed
    with pytest.raises(InputError, match=r"into '.*reports': drift.md, where a report goes, is a directory"):
        prepare_report_dir(str(target))
    with pytest.raises(InputError, match='drift.md, where a report goes, is a directory'):
        write_reports(a_report(tmp_path), str(target))
    assert sorted(os.listdir(target)) == sorted(REPORT_FILES)
    assert (target / 'drift.json').read_text() == 'old drift.json'


def test_a_directory_made_under_a_report_name_while_rendering_changes_no_report(tmp_path, monkeypatch):
    target = tmp_path / 'reports'
    target.mkdir()
    for name in REPORT_FILES:
        (target / name).write_text('old ' + name)
    real = _harden_run._renderers

    def renderers():
        table = real()
        render = table['drift.sarif']

        def sarif(report, handle):
            os.unlink(target / 'drift.html')
            (target / 'drift.html').mkdir()
            render(report, handle)
        table['drift.sarif'] = sarif
        return table

    monkeypatch.setattr(_harden_run, '_renderers', renderers)
    with pytest.raises(IsADirectoryError, match='drift.html in .* is a directory: no report was replaced'):
        write_reports(a_report(tmp_path), str(target))
    assert sorted(os.listdir(target)) == sorted(REPORT_FILES)   # no .drift.*.* left behind
    for name in set(REPORT_FILES) - {'drift.html'}:
        assert (target / name).read_text() == 'old ' + name


def test_two_runs_writing_into_one_report_dir_at_once_leave_one_runs_five_reports(tmp_path, monkeypatch):
    """Two runs with the same report_dir (two CI jobs, an operator beside a schedule) renamed their five files in turn:
    the directory held one run's drift.json beside the other's drift.sarif. Each run's renames now hold a lock on the
    directory, so the five files on disk always come from one run."""
    target = tmp_path / 'reports'
    target.mkdir()
    first, second = a_report(tmp_path), a_report(tmp_path)
    first['generated_at'], second['generated_at'] = 'first-run', 'second-run'
    real_replace = os.replace
    started = threading.Event()

    def slow_replace(src, dst):
        # The first run's renames are slow, the second's are not: without the lock the second run's five land between
        # the first run's first and second rename, and the first run's last four land after them.
        real_replace(src, dst)
        if threading.current_thread() is one:
            started.set()
            time.sleep(0.1)

    monkeypatch.setattr(_harden_run.os, 'replace', slow_replace)
    errors = []

    def write(report):
        try:
            write_reports(report, str(target), processes=1)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    one = threading.Thread(target=write, args=(first,))
    one.start()
    started.wait(5)
    two = threading.Thread(target=write, args=(second,))
    two.start()
    one.join(10)
    two.join(10)
    assert errors == []
    runs = {name: 'first-run' in (target / name).read_text() for name in REPORT_FILES}
    assert all(runs.values()) or not any(runs.values()), runs
    assert all('second-run' in (target / name).read_text() for name in REPORT_FILES), runs


def _broken_renderers(monkeypatch, name):
    real = _harden_run._renderers

    def renderers():
        table = real()

        def broken(report, handle):
            handle.write('half a report')
            raise RuntimeError('renderer broke')
        table[name] = broken
        return table

    monkeypatch.setattr(_harden_run, '_renderers', renderers)


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='the second writer is forked')
def test_two_writer_processes_write_the_same_bytes_as_one(tmp_path, monkeypatch):
    report = a_report(tmp_path)
    one, two = tmp_path / 'one', tmp_path / 'two'
    write_reports(report, str(one), processes=1)
    monkeypatch.setattr(_harden_run, 'FORK_WRITERS_FROM', 0)
    path, written = write_reports(report, str(two), processes=2)
    assert sorted(written) == sorted(REPORT_FILES) and sorted(os.listdir(path)) == sorted(REPORT_FILES)
    for name in REPORT_FILES:
        assert (two / name).read_bytes() == (one / name).read_bytes(), name
        assert oct(os.stat(two / name).st_mode & 0o777) == '0o644'


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='the second writer is forked')
@pytest.mark.parametrize('name,error', [('drift.sarif', OSError), ('drift.html', RuntimeError)])
def test_a_writer_that_fails_in_either_process_changes_no_report(tmp_path, monkeypatch, name, error):
    """drift.sarif is written by the forked process, drift.html by this one (by their costs)."""
    target = tmp_path / 'reports'
    target.mkdir()
    for file_name in REPORT_FILES:
        (target / file_name).write_text('old ' + file_name)
    _broken_renderers(monkeypatch, name)
    monkeypatch.setattr(_harden_run, 'FORK_WRITERS_FROM', 0)
    forked = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, 'fork', fork)
    with pytest.raises(error, match='renderer broke'):
        write_reports(a_report(tmp_path), str(target), processes=2)
    assert sorted(os.listdir(target)) == sorted(REPORT_FILES)     # no temporary file left behind
    for file_name in REPORT_FILES:
        assert (target / file_name).read_text() == 'old ' + file_name
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)                          # the forked writer was waited for


def test_a_report_dir_that_cannot_be_created_is_an_input_error(tmp_path):
    blocker = tmp_path / 'a-file'
    blocker.write_text('not a directory')
    with pytest.raises(InputError, match='cannot create the report directory'):
        write_reports(a_report(tmp_path), str(blocker / 'reports'))
    with pytest.raises(InputError, match='cannot create the report directory'):
        prepare_report_dir(str(blocker))
    assert blocker.read_text() == 'not a directory'


def test_a_file_in_the_way_of_the_report_dir_is_named(tmp_path):
    """'cannot create the report directory ...: File exists' (or 'Not a directory') left the user to guess which path."""
    blocker = tmp_path / 'a-file'
    blocker.write_text('not a directory')
    with pytest.raises(InputError, match="report directory '%s': it exists and is not a directory" % re.escape(str(blocker))):
        prepare_report_dir(str(blocker))
    with pytest.raises(InputError, match="'%s', on its way, is not a directory" % re.escape(str(blocker))):
        prepare_report_dir(str(blocker / 'reports' / 'nightly'))
    assert blocker.read_text() == 'not a directory'


def test_a_report_dir_on_a_read_only_file_system_says_so(tmp_path, monkeypatch):
    target = tmp_path / 'mounted-read-only'
    target.mkdir()
    real_access, real_statvfs = os.access, os.statvfs

    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(_harden_run.os, 'access', lambda path, mode: False if path == str(target) else real_access(path, mode))
    monkeypatch.setattr(_harden_run.os, 'statvfs', lambda path: ReadOnly() if path == str(target) else real_statvfs(path))
    with pytest.raises(InputError, match="cannot write into the report directory '%s': it is on a read-only file system"
                       % re.escape(str(target))):
        prepare_report_dir(str(target))


def test_a_report_dir_without_permission_names_the_user(tmp_path, monkeypatch):
    target = tmp_path / 'denied'
    target.mkdir()
    real_access = os.access
    monkeypatch.setattr(_harden_run.os, 'access', lambda path, mode: False if path == str(target) else real_access(path, mode))
    with pytest.raises(InputError, match=r'the user running ansible-playbook \(uid %d\) may not write into it; give a report directory'
                       % os.geteuid()):
        prepare_report_dir(str(target))


def test_a_report_dir_of_too_many_missing_directories_is_an_input_error(tmp_path):
    """os.makedirs recurses once per missing directory: a report_dir of 1,200 of them was a RecursionError traceback."""
    deep = str(tmp_path / '/'.join(['d'] * 1200))
    with pytest.raises(InputError, match='cannot create the report directory .*: it has too many directories that do not exist'):
        prepare_report_dir(deep)


@pytest.mark.skipif(os.geteuid() == 0, reason='root may write into any directory')
def test_a_read_only_report_dir_is_an_input_error(tmp_path):
    target = tmp_path / 'read-only'
    target.mkdir()
    os.chmod(target, 0o555)
    try:
        with pytest.raises(InputError, match='cannot write into the report directory'):
            write_reports(a_report(tmp_path), str(target))
    finally:
        os.chmod(target, 0o755)


def test_a_report_dir_without_write_access_is_refused_before_writing(tmp_path, monkeypatch):
    # As root the test above is skipped; here the access check itself answers no for this one directory.
    target = tmp_path / 'denied'
    real_access = os.access
    monkeypatch.setattr(_harden_run.os, 'access', lambda path, mode: False if path == str(target) else real_access(path, mode))
    with pytest.raises(InputError, match="cannot write into the report directory '%s'" % re.escape(str(target))):
        write_reports(a_report(tmp_path), str(target))
    assert os.listdir(target) == []


def test_prepare_report_dir_creates_0755(tmp_path):
    old = os.umask(0o022)
    try:
        path = prepare_report_dir(str(tmp_path / 'made'))
    finally:
        os.umask(old)
    assert os.path.isdir(path) and stat.S_IMODE(os.stat(path).st_mode) == 0o755
    assert prepare_report_dir(str(tmp_path / 'made')) == path  # an existing directory is fine


# ------------------------------------------------------------------------------------------- the plan is sealed to its run

def rewrite(path, edit_doc=None, edit_head=None):
    """Edit a kept file as someone on the controller could: its document or its seal, the rest byte for byte."""
    data = path.read_bytes()
    head = _harden_run._ENVELOPE.match(data)  # pylint: disable=protected-access
    assert head and data.endswith(b'}')
    doc = json.loads(data[head.end():-1])
    seal = {'format': int(head.group(1)), 'run': head.group(2).decode(), 'mac': head.group(3).decode()}
    if edit_doc:
        edit_doc(doc)
    if edit_head:
        edit_head(seal)
    head = '{"format":%d,"seal":{"run":"%s","mac":"%s"},"doc":' % (seal['format'], seal['run'], seal['mac'])
    path.write_text(head + json.dumps(doc, separators=(',', ':')) + '}')


@pytest.mark.parametrize('edit_doc,edit_head', [
    (lambda doc: doc.update(report_dir='/tmp/elsewhere'), None),      # redirect the reports
    (lambda doc: doc.update(drift=[]), None),                         # empty the drift
    (lambda doc: doc.update(check_mode=True), None),                  # mark a real run as check mode
    (None, lambda seal: seal.update(mac='0' * 64)),                   # a seal of one's own
    (None, lambda seal: seal.update(mac=_harden_run._mac(b'{}'))),    # pylint: disable=protected-access
])
def test_a_plan_changed_after_it_was_written_is_refused(tmp_path, edit_doc, edit_head):
    plan_id = save_plan(str(tmp_path), a_run(), 'reports/x', False)
    path = tmp_path / ('vaultlock-harden-plan-%s.json' % plan_id)
    rewrite(path)
    assert load_plan(str(tmp_path), plan_id)['report_dir'] == 'reports/x'  # the same bytes load
    rewrite(path, edit_doc, edit_head)
    with pytest.raises(InputError, match='changed after this run wrote it'):
        load_plan(str(tmp_path), plan_id)


@pytest.mark.parametrize('text', [
    json.dumps,                                                        # the same document, written by another encoder
    lambda doc: json.dumps(dict((k, v) for k, v in doc.items() if k != 'seal')),
    lambda doc: json.dumps(doc)[:-1] + ' }',
])
def test_a_plan_rewritten_in_any_other_way_is_refused(tmp_path, text):
    plan_id = save_plan(str(tmp_path), a_run(), 'reports/x', False)
    path = tmp_path / ('vaultlock-harden-plan-%s.json' % plan_id)
    path.write_text(text(json.loads(path.read_text())))
    with pytest.raises(InputError, match='changed after this run wrote it'):
        load_plan(str(tmp_path), plan_id)


def test_another_runs_plan_is_refused(tmp_path, monkeypatch):
    plan_id = save_plan(str(tmp_path), a_run(), 'reports/x', False)
    monkeypatch.setattr(_harden_run, '_RUN_ID', 'another-run')
    with pytest.raises(InputError, match='not written by this ansible-playbook run'):
        load_plan(str(tmp_path), plan_id)
    monkeypatch.undo()
    monkeypatch.setattr(_harden_run, '_RUN_KEY', b'another key' * 3)
    with pytest.raises(InputError, match='changed after this run wrote it'):
        load_plan(str(tmp_path), plan_id)


def test_apply_results_are_sealed_and_bound_to_their_plan(tmp_path):
    plan_id = save_plan(str(tmp_path), a_run(), 'reports/x', False)
    _harden_run.save_applied(str(tmp_path), plan_id, {'results': {}, 'gates': {}, 'warnings': []})
    assert _harden_run.load_applied(str(tmp_path), plan_id)['plan'] == plan_id
    with pytest.raises(InputError, match='applied already'):
        _harden_run.save_applied(str(tmp_path), plan_id, {'results': {}, 'gates': {}, 'warnings': []})
    path = tmp_path / ('vaultlock-harden-plan-%s.applied.json' % plan_id)
    sealed = path.read_text()
    rewrite(path, lambda doc: doc.update(results={'immutability': [{'id': 'x', 'changed': True}]}))
    with pytest.raises(InputError, match='changed after this run wrote it'):
        _harden_run.load_applied(str(tmp_path), plan_id)
    # Another plan's results, sealed by this run, are not this plan's.
    other = save_plan(str(tmp_path), a_run(), 'reports/x', False)
    (tmp_path / ('vaultlock-harden-plan-%s.applied.json' % other)).write_text(sealed)
    with pytest.raises(InputError, match='those of another plan'):
        _harden_run.load_applied(str(tmp_path), other)


def test_a_plan_replaced_by_another_file_of_the_run_is_refused(tmp_path):
    """The seal held against edits, but not against another file the same run sealed: a second plan of the run (another
    baseline, other vaults, another report directory) put in a plan's place was applied and reported as that plan, and a
    plan's apply results put there failed harden_apply and harden_report with a KeyError traceback."""
    plan_id = save_plan(str(tmp_path), a_run(), 'reports/one', False)
    other = save_plan(str(tmp_path), a_run(), 'reports/two', False)
    assert load_plan(str(tmp_path), plan_id)['report_dir'] == 'reports/one'
    path = tmp_path / ('vaultlock-harden-plan-%s.json' % plan_id)
    path.write_bytes((tmp_path / ('vaultlock-harden-plan-%s.json' % other)).read_bytes())
    with pytest.raises(InputError, match='plan %s on this controller was replaced by another plan of this run: it is not used' % plan_id):
        load_plan(str(tmp_path), plan_id)
    # The apply results of the plan, in the plan's place.
    _harden_run.save_applied(str(tmp_path), other, {'results': {}, 'gates': {}, 'warnings': []})
    path = tmp_path / ('vaultlock-harden-plan-%s.json' % other)
    path.write_bytes((tmp_path / ('vaultlock-harden-plan-%s.applied.json' % other)).read_bytes())
    with pytest.raises(InputError, match='was replaced by the apply results of a plan of this run'):
        load_plan(str(tmp_path), other)
    # And a plan in the place of apply results is not apply results.
    third = save_plan(str(tmp_path), a_run(), 'reports/three', False)
    (tmp_path / ('vaultlock-harden-plan-%s.applied.json' % third)).write_bytes(
        (tmp_path / ('vaultlock-harden-plan-%s.json' % third)).read_bytes())
    with pytest.raises(InputError, match='those of another plan'):
        _harden_run.load_applied(str(tmp_path), third)


def test_plans_that_killed_runs_left_behind_are_removed_after_a_day(tmp_path):
    mine = tmp_path / 'ansible-local-1abc'
    killed = tmp_path / 'ansible-local-2def'
    mine.mkdir()
    killed.mkdir()
    old = killed / ('vaultlock-harden-plan-%s.json' % ('a' * 32))
    old_applied = killed / ('vaultlock-harden-plan-%s.applied.json' % ('a' * 32))
    # A run killed while it wrote a plan leaves the part file _write_private writes first.
    old_part = killed / ('vaultlock-harden-plan-%s.json.part' % ('c' * 32))
    recent = killed / ('vaultlock-harden-plan-%s.json' % ('b' * 32))
    recent_part = killed / ('vaultlock-harden-plan-%s.json.part' % ('d' * 32))
    other = killed / 'something-else.json'
    other_part = killed / 'something-else.json.part'
    for path in (old, old_applied, old_part, recent, recent_part, other, other_part):
        path.write_text('{}')
    day_ago = os.stat(recent).st_mtime - 2 * 86400
    for path in (old, old_applied, old_part, other, other_part):
        os.utime(path, (day_ago, day_ago))
    assert _harden_run.remove_stale_plans(str(mine)) == 3
    assert not old.exists() and not old_applied.exists() and not old_part.exists()
    assert recent.exists() and recent_part.exists() and other.exists() and other_part.exists()


@pytest.mark.parametrize('report_dir', ['reports\nx', 'reports/\x1b[31mred', 'a\rb'])
def test_a_report_dir_with_a_control_character_is_refused(report_dir):
    with pytest.raises(InputError, match='control character'):
        check_inputs({'report_dir': report_dir, 'vaults': [], 'discover': True})


def test_an_earlier_runs_reports_are_retired_and_nothing_else(tmp_path):
    reports = tmp_path / 'reports'
    reports.mkdir()
    for name in ('drift.json', 'drift.md', 'drift.sarif', 'notes.txt', 'drift.json.bak'):
        (reports / name).write_text('earlier')
    assert _harden_run.retire_reports(str(reports)) == ['drift.json', 'drift.md', 'drift.sarif']
    assert sorted(os.listdir(reports)) == ['drift.json.bak', 'notes.txt']
    # Nothing to retire, or no directory yet: nothing happens.
    assert _harden_run.retire_reports(str(reports)) == []
    assert _harden_run.retire_reports(str(tmp_path / 'missing')) == []


@pytest.mark.skipif(os.geteuid() == 0, reason='root may write into any directory')
def test_a_report_that_cannot_be_retired_stops_the_run_before_any_write(tmp_path):
    reports = tmp_path / 'reports'
    reports.mkdir()
    (reports / 'drift.json').write_text('earlier')
    os.chmod(reports, 0o555)
    try:
        with pytest.raises(InputError, match=r'cannot remove the earlier report .*drift\.json before this run changes vaults it '
                                             r'describes: .*nothing was sent to Azure'):
            _harden_run.retire_reports(str(reports))
    finally:
        os.chmod(reports, 0o755)


def test_the_planned_report_dir_is_used_as_resolved_and_refused_once_it_leads_elsewhere(tmp_path):
    """harden_apply and harden_report take the report directory harden_plan resolved from the plan, never resolving it
    again: a directory on that path replaced by a symlink during the run is refused, so no report is written or removed
    where the symlink leads."""
    resolved = prepare_report_dir(str(tmp_path / 'reports'))
    assert _harden_run.planned_report_dir({'report_dir': resolved}) == resolved
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    os.rmdir(resolved)
    os.symlink(str(elsewhere), resolved)
    with pytest.raises(InputError, match=r"the report directory '%s' that harden_plan resolved now leads to '%s'"
                       % (re.escape(resolved), re.escape(str(elsewhere)))):
        _harden_run.planned_report_dir({'report_dir': resolved})
    # Each task names itself; an apply says nothing was sent, and in check mode that a real apply refuses it the same way.
    for task, check_mode, outcome in (
            ('harden_report', False, 'no report was written or removed there; plan again'),
            ('harden_apply', False, 'nothing was sent to Azure and no report was written or removed there; plan again'),
            ('harden_apply', True, 'nothing was sent to Azure and no report was written or removed there (check mode: a real apply '
                                   'refuses it the same way, as it would remove the earlier reports and write its journal there); '
                                   'plan again')):
        with pytest.raises(InputError) as raised:
            _harden_run.planned_report_dir({'report_dir': resolved}, task, check_mode)
        assert str(raised.value).startswith('%s refused: the report directory ' % task), str(raised.value)
        assert str(raised.value).endswith('during the run): ' + outcome), str(raised.value)
    for given in ('reports/harden', None):
        with pytest.raises(InputError, match='the plan holds no resolved report directory'):
            _harden_run.planned_report_dir({'report_dir': given})


@pytest.mark.parametrize('mask', [0o002, 0o027, 0o077])
def test_the_reports_their_directory_and_the_journal_follow_the_umask_and_the_plan_stays_private(tmp_path, mask):
    """Files a user makes take 0666 (directories 0777) less the umask: the reports, the report directory harden_plan
    creates and the apply journal follow it (the reports were 0644 whatever the umask: a group that shares a 002 umask
    could not replace them, a 077 user's drift report was world-readable). The plan and its applied record stay 0600
    whatever the umask: they are private to the run, in Ansible's local temporary directory, and sealed with its key."""
    old = os.umask(mask)
    try:
        path, written = write_reports(a_report(tmp_path), str(tmp_path / 'made' / 'reports'))
        journal, _kept = ApplyJournal.start(path, 'a' * 32, 1)
        journal.close()
        plan_id = save_plan(str(tmp_path), a_run(), path, False)
    finally:
        os.umask(old)
    for name in written:
        assert stat.S_IMODE(os.stat(os.path.join(path, name)).st_mode) == 0o666 & ~mask, name
    assert stat.S_IMODE(os.stat(os.path.join(path, 'apply-journal.jsonl')).st_mode) == 0o666 & ~mask
    for directory in (path, os.path.dirname(path)):
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o777 & ~mask, directory
    assert stat.S_IMODE(os.stat(plan_path(str(tmp_path), plan_id)).st_mode) == 0o600


def test_a_vault_is_planned_by_one_host_of_the_run(tmp_path):
    """claim_vaults: another host's plan of a vault a host of the run planned is refused naming that host and the vaults,
    whatever the case of the id; the same host may plan again; a host refused records nothing; disjoint scopes pass."""
    run_tmp = str(tmp_path)
    sub = '11111111-1111-1111-1111-111111111111'

    def entry(name):
        return {'id': '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/%s' % (sub, name), 'name': name}

    _harden_run.claim_vaults(run_tmp, 'host-a', [entry('rsv-1'), entry('rsv-2')])
    _harden_run.claim_vaults(run_tmp, 'host-a', [entry('rsv-1')])               # the role twice on one host
    upper = dict(entry('rsv-2'), id=entry('rsv-2')['id'].upper())
    with pytest.raises(InputError, match="^harden_plan refused: host 'host-a' of this ansible-playbook run already planned the "
                                         "vaults 'RSV-2': two hosts planning the same vault"):
        _harden_run.claim_vaults(run_tmp, 'host-b', [entry('rsv-3'), dict(upper, name='RSV-2')])
    _harden_run.claim_vaults(run_tmp, 'host-c', [entry('rsv-3')])             # host-b's refused plan recorded nothing
    with pytest.raises(InputError, match="host 'host-a' .* the vaults 'rsv-1', 'rsv-2'"):
        _harden_run.claim_vaults(run_tmp, 'host-d', [entry('rsv-2'), entry('rsv-1')])
    with pytest.raises(InputError, match="host 'host-c' .* the vaults 'rsv-3'"):
        _harden_run.claim_vaults(run_tmp, 'host-a', [entry('rsv-3')])
    # A refused plan takes back what it took: host-e's rsv-0 is free for host-f.
    with pytest.raises(InputError, match="host 'host-a' of this ansible-playbook run already planned the vaults 'rsv-1': "):
        _harden_run.claim_vaults(run_tmp, 'host-e', [entry('rsv-0'), entry('rsv-1')])
    _harden_run.claim_vaults(run_tmp, 'host-f', [entry('rsv-0')])
    # A play of one host records nothing (localhost's 20,000 vaults cost no file): another host may plan them later.
    _harden_run.claim_vaults(run_tmp, 'localhost', [entry('rsv-9')], play_hosts=['localhost'])
    _harden_run.claim_vaults(run_tmp, 'host-g', [entry('rsv-9')], play_hosts=['host-g', 'host-h'])


def test_a_report_dir_is_held_by_the_first_host_of_the_run_that_plans_into_it(tmp_path):
    """claim_report_dir: another host's plan into a held report directory is refused naming the holder; the holder may plan
    again; a release by another host keeps the claim, the holder's release (its plan failed) frees it."""
    run_tmp, report_dir = str(tmp_path / 'tmp'), str(tmp_path / 'reports')
    os.mkdir(run_tmp)
    _harden_run.claim_report_dir(run_tmp, report_dir, 'host-a')
    _harden_run.claim_report_dir(run_tmp, report_dir, 'host-a')            # the role twice on one host
    with pytest.raises(InputError, match="^harden_plan refused: host 'host-a' of this play already planned a run into the report "
                                         "directory '%s' in this ansible-playbook run" % re.escape(report_dir)):
        _harden_run.claim_report_dir(run_tmp, report_dir, 'host-b')
    _harden_run.claim_report_dir(run_tmp, str(tmp_path / 'other'), 'host-b')  # a directory of its own
    _harden_run.release_report_dir(run_tmp, report_dir, 'host-b')
    with pytest.raises(InputError):
        _harden_run.claim_report_dir(run_tmp, report_dir, 'host-b')
    _harden_run.release_report_dir(run_tmp, report_dir, 'host-a')
    _harden_run.claim_report_dir(run_tmp, report_dir, 'host-b')
