# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's variables when ansible-core's check of meta/argument_specs.yml did not run (``--skip-tags always``: the
check is a task tagged always), and harden_plan called in a play of one's own: the action refuses what that check would
have refused, before any request, naming the option.

Before, with the check skipped, harden_backup_vaults_retention_mode=ENFORCE was read as enforce (the run would raise
policies), ENABLED and ON as enabled and on, an empty immutability as "not checked", an empty baseline_preset as null, and
a report_dir of '{"a":1}' or 'None' became a directory of that name (a dictionary given to harden_plan became the
directory "{'a': 1}"). Every case here is a step of one ansible-playbook run in check mode (role_steps)."""

from __future__ import annotations

import os

import pytest

from tests.emulator import generator as templates
from tests.integration.batching import Batch, PartState
from tests.integration.conftest import PlaybookPart, fresh_fleet, part
from tests.integration.fleets import RG, SUB1, vault
from tests.integration.role_steps import step

PLAN = 'vaultlock.azure.harden_plan'
BASELINE = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 14}}

# (step name, role variables, the start of the message)
CASES = [
    ('mode_upper', {'harden_backup_vaults_retention_mode': 'ENFORCE'},
     "harden_backup_vaults_retention_mode must be one of report, enforce, written so (choices are compared exactly, as the role's "
     "argument spec compares them), got 'ENFORCE'"),
    ('tier_mode', {'harden_backup_vaults_baselines': [{'name': 'prod', 'match': {'names': ['rsv-*']}, 'retention_mode': 'Enforce'}]},
     "harden_backup_vaults_baselines[0].retention_mode must be one of report, enforce, written so"),
    ('immutability_upper', {'harden_backup_vaults_immutability': 'ENABLED'},
     "harden_backup_vaults_immutability must be one of disabled, enabled, locked, written so"),
    ('immutability_empty', {'harden_backup_vaults_immutability': ''},
     "harden_backup_vaults_immutability is '' (from a variable that came out empty?): write one of disabled, enabled, locked"),
    ('soft_delete_upper', {'harden_backup_vaults_soft_delete': {'state': 'ON', 'retention_days': 14}},
     "harden_backup_vaults_soft_delete.state must be one of off, on, always_on, written so"),
    ('access_upper', {'harden_backup_vaults_public_network_access': 'Disabled'},
     "harden_backup_vaults_public_network_access must be one of disabled, enabled, written so"),
    ('preset_empty', {'harden_backup_vaults_baseline_preset': ''}, 'value of baseline_preset must be one of: azure_policy, got:'),
    # ansible-core before 2.19 turns a rendered '{"a":1}' or '[1]' into a dictionary or a list (its templates' literal_eval):
    # then the value reaches the plan as one and is refused as such.
    ('report_dir_dict_text', {'harden_backup_vaults_report_dir': '{"a":1}'},
     ("harden_backup_vaults_report_dir '{\"a\":1}' reads as a dictionary, not as a directory", 'harden_backup_vaults_report_dir must be text, got dict')),
    ('report_dir_none_text', {'harden_backup_vaults_report_dir': 'None'}, "harden_backup_vaults_report_dir 'None' reads as null, not as a directory"),
    ('report_dir_list_text', {'harden_backup_vaults_report_dir': '[1]'},
     ("harden_backup_vaults_report_dir '[1]' reads as a list, not as a directory", 'harden_backup_vaults_report_dir must be text, got list')),
    ('report_dir_dict', {'harden_backup_vaults_report_dir': {'a': 1}}, 'harden_backup_vaults_report_dir must be text, got dict'),
    ('report_dir_bool', {'harden_backup_vaults_report_dir': True}, 'harden_backup_vaults_report_dir must be text, got bool true'),
]
# Directories the refused report_dir values would have been (relative to the directory ansible-playbook runs in).
NOT_MADE = ['{"a":1}', 'None', '[1]', "{'a': 1}", 'True']


def fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-weak', 'recovery_services', 'disabled', policies=[{'name': 'VMDaily', 'properties': templates.iaas_v1(False)}]),
        ]}]}]}


def own_play_tasks(reports):
    """The tasks of test_harden_plan_in_a_play_of_ones_own_refuses_the_same (own_r0 to own_r4), in check mode as the
    --check run of their own was."""
    return part('own', [dict(task, check_mode=True) for task in [
        {'name': 'mode', PLAN: {'baseline': dict(BASELINE, retention={'minimum': {'daily': '30d'}, 'mode': 'ENFORCE'}),
                                'report_dir': reports}},
        {'name': 'dict report dir', PLAN: {'baseline': BASELINE, 'report_dir': {'path': reports}}},
        {'name': 'list report dir', PLAN: {'baseline': BASELINE, 'report_dir': [reports]}},
        {'name': 'boolean plan', 'vaultlock.azure.harden_report': {'plan': True}},
        {'name': 'dictionary plan', 'vaultlock.azure.harden_apply': {'plan': {'id': 'x'}}},
    ]])


@pytest.fixture(scope='module')
def skipped(module_runner):
    """Every case as a step of one check-mode run with --skip-tags always ({step name: StepRun}), then, in a play of its
    own in the same run (batching.Batch), the tasks of test_harden_plan_in_a_play_of_ones_own_refuses_the_same: returns
    (the steps, the cwd's names before the run, the run)."""
    fresh_fleet(module_runner, fleet())
    before = set(os.listdir(os.getcwd()))
    batch = Batch(module_runner).role_steps([step(name, check=True, **variables) for name, variables, _msg in CASES])
    batch.tasks(own_play_tasks(str(module_runner.tmp_path / 'reports')), name='a play of its own')
    run = batch.play(args=['--skip-tags', 'always'])
    return run.steps, before, run


@pytest.mark.parametrize('index', range(len(CASES)), ids=[case[0] for case in CASES])
def test_with_the_argument_check_skipped_the_plan_refuses_what_the_check_would(skipped, index):
    results, _before, _run = skipped
    name, _variables, message = CASES[index]
    result = results[name]
    assert result.failed, result.output[-3000:]
    assert result.failed['msg'].startswith(message if isinstance(message, tuple) else (message,)), result.failed['msg']
    assert result.failed['msg'].endswith('nothing was sent to Azure') or name == 'preset_empty', result.failed['msg']
    assert 'Traceback' not in result.output
    assert result.requests == []                                  # refused before any request, not even a read
    # ansible-core's check did not run: the refusal is harden_plan's own.
    assert 'Validation of arguments failed' not in result.output


def test_no_refused_report_dir_became_a_directory(skipped):
    _results, before, _run = skipped
    made = set(os.listdir(os.getcwd())) - before
    assert not made & set(NOT_MADE), made


def test_harden_plan_in_a_play_of_ones_own_refuses_the_same(skipped):
    """A play that calls harden_plan itself has no role argument check at all (the last play of the skipped run)."""
    _results, _before, whole = skipped
    run = PlaybookPart(whole, 'own')
    reports = str(whole.tmp_path / 'reports')
    expected = ["baseline.retention.mode must be one of report, enforce, written so", 'report_dir must be text, got dict',
                'report_dir must be text, got list', 'plan must be text, got bool true', 'plan must be text, got dict']
    for index, fragment in enumerate(expected):
        result = run['r%d' % index]
        assert result.get('failed') is True, (index, result)
        assert result['msg'].startswith(fragment), (index, result['msg'])
        assert 'Traceback' not in run.output
    # Nothing reached Azure, not even a token request (the play's span of both journals; the whole run sends none either).
    assert PartState(whole, 'own_r0', 'own_r4').journal() == [] and whole.token_requests('own_r0', 'own_r4') == []
    assert whole.journal == [] and whole.tokens == []
    assert not os.path.exists(reports)
