# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults, bad input and secrets: the collection keeps working, loses nothing and leaks nothing."""

from __future__ import annotations

import re

import pytest

from tests.emulator.client import is_write
from tests.integration.conftest import PlaybookPart, fresh_fleet, part
from tests.integration.fleets import RG, SUB1, states_fleet, vault, vault_id

MOD = 'vaultlock.azure.vault_immutability'
# The vault is enabled and locked from elsewhere before the task: asking to disable it must be refused, without a write.
CONCURRENT_VAULT = '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-enabled' % (SUB1, RG)
CONCURRENT_TASK = {'name': 'disable', MOD: {'id': CONCURRENT_VAULT, 'immutability': 'disabled'}}


@pytest.fixture(autouse=True)
def fleet(emulator):
    emulator.load_fleet(states_fleet())
    emulator.clear_journal()


def enable(name='rsv-unset', kind='recovery_services', **extra):
    args = {'name': name, 'resource_group': RG, 'vault_type': kind, 'immutability': 'enabled'}
    args.update(extra)
    return {'name': 'enable', MOD: args}


# One playbook for the fault tests below (the ``faults`` fixture): each case enables immutability on a vault of its own
# (``rsv-unset`` of the states fleet, copied once per case), whose faults match that vault's path only, so each task meets
# exactly the faults its test set, as in a run of its own (lro_failed's failed operation is the emulator's lro_fail setting,
# on that vault's path too). Each test asserts on its task's requests (``run.requests``) and
# on the vault as the emulator stored it right after its task (``run.after``).
SERVER_ERRORS = [{'status': 500, 'times': 2}, {'status': 503, 'times': 2}, {'drop': True, 'times': 1}]
UNKNOWN_OUTCOMES = [{'status': 500}, {'drop': True}]
CASES = ['throttled', 'persistent_throttling', 'irreversible'] + ['server_error_%d' % i for i in range(len(SERVER_ERRORS))]
CASES += ['unknown_outcome_%d' % i for i in range(len(UNKNOWN_OUTCOMES))] + ['lro_timeout', 'lro_failed']
# The operation's failure of lro_failed (the emulator's lro_fail setting, on that vault's PATCH only).
LRO_FAIL = {'code': 'UserErrorVaultUpdateFailed', 'message': 'The vault update could not be completed.', 'times': 1}


def case_vault(case):
    return 'rsv-%s' % case.replace('_', '-')


def case_path(case):
    return '/providers/Microsoft.RecoveryServices/vaults/%s$' % case_vault(case)


def case_faults(case):
    """The faults of a case, as its test set them on rsv-unset before, on the case's own vault."""
    path = case_path(case)
    if case == 'throttled':
        return [dict(method='GET', path_regex=path, status=429, retry_after=1, times=2),
                dict(method='PATCH', path_regex=path, status=429, retry_after=1, times=1)]
    if case == 'persistent_throttling':
        return [dict(method='GET', path_regex=path, status=429, retry_after=0, times=100)]
    if case == 'irreversible':
        return [dict(method='PATCH', path_regex=path, status=503, times=1)]
    if case == 'lro_timeout':
        # The operation status of this vault's change does not answer within the task's wait_timeout.
        return [dict(method='GET', path_regex=path.rstrip('$') + '/operationStatus', delay_ms=6000, times=5)]
    if case == 'lro_failed':
        return []
    if case.startswith('server_error_'):
        return [dict(method='GET', path_regex=path, **SERVER_ERRORS[int(case.rsplit('_', 1)[1])])]
    return [dict(method='PATCH', path_regex=path, times=1, **UNKNOWN_OUTCOMES[int(case.rsplit('_', 1)[1])])]


def case_task(case):
    if case == 'persistent_throttling':
        task = enable(case_vault(case), api_retries=2)
    elif case == 'irreversible':
        task = enable(case_vault(case), immutability='locked', allow_irreversible=True)
    elif case == 'lro_timeout':
        task = enable(case_vault(case), wait_timeout=1, polling_interval=0.2)
    else:
        task = enable(case_vault(case))
    return dict(task, register=case)


@pytest.fixture(scope='module')
def faults(module_runner):
    emulator = module_runner.emulator
    emulator.reset()
    fleet = states_fleet()
    group = fleet['subscriptions'][0]['resource_groups'][0]
    group['vaults'] += [vault(case_vault(case), 'recovery_services', 'unset', tags={'env': 'prod'}) for case in CASES]
    emulator.load_fleet(fleet)
    for case in CASES:
        for fault in case_faults(case):
            emulator.fault(**fault)
    emulator.settings(lro_fail=dict(LRO_FAIL, path_regex=case_path('lro_failed')))
    # test_concurrent_change_between_steps_is_noticed: rsv-enabled (no fault matches its path) is locked "from elsewhere"
    # through the SDK before the run; its task comes last.
    client = emulator.rs_client(SUB1)
    client.vaults.begin_update(RG, 'rsv-enabled', {'properties': {'securitySettings': {'immutabilitySettings': {'state': 'Locked'}}}}).result()
    emulator.clear_journal()
    tasks = [case_task(case) for case in CASES] + [dict(CONCURRENT_TASK, register='concurrent')]
    return module_runner.play(tasks, marks=[vault_id(case_vault(case)) for case in CASES])


def case_calls(run, case, method=None):
    return [(j['method'], j['status']) for j in run.requests(case) if method is None or j['method'] == method]


def case_state(run, case):
    settings = run.after(case).resource(vault_id(case_vault(case)))['properties'].get('securitySettings', {}).get('immutabilitySettings')
    return settings['state'] if settings else None


def test_throttled_reads_and_writes_are_retried_after_retry_after(faults):
    run = faults
    assert run.rc == 0, run.output
    assert run['throttled']['changed'] is True
    assert case_calls(run, 'throttled', 'PATCH') == [('PATCH', 429), ('PATCH', 202)]
    assert case_calls(run, 'throttled', 'GET')[:3] == [('GET', 429), ('GET', 429), ('GET', 200)]
    assert case_state(run, 'throttled') == 'Unlocked'


def test_persistent_throttling_fails_clearly_after_the_bound(faults):
    run = faults
    result = run['persistent_throttling']
    assert result['failed'] is True
    assert '429' in result['msg'] and 'throttled' in result['msg']
    assert len(case_calls(run, 'persistent_throttling', 'GET')) == 3          # the first try and two retries
    assert run.writes('persistent_throttling') == []


@pytest.mark.parametrize('index', range(len(SERVER_ERRORS)), ids=['fault%d' % i for i in range(len(SERVER_ERRORS))])
def test_server_errors_and_dropped_connections_on_reads_are_retried(faults, index):
    run = faults
    case = 'server_error_%d' % index
    assert run[case].get('failed') is not True, run[case]
    assert case_state(run, case) == 'Unlocked'


@pytest.mark.parametrize('index', range(len(UNKNOWN_OUTCOMES)), ids=['fault%d' % i for i in range(len(UNKNOWN_OUTCOMES))])
def test_write_with_unknown_outcome_is_re_read_before_any_retry(faults, index):
    run = faults
    case = 'unknown_outcome_%d' % index
    assert run[case].get('failed') is not True, run[case]
    journal = [(j['method'], j['status']) for j in run.requests(case) if re.search(case_path(case), j['path'])]
    patches = [i for i, (method, _status) in enumerate(journal) if method == 'PATCH']
    assert len(patches) == 2
    # Between the failed PATCH and the second one, the vault was read again.
    assert ('GET', 200) in journal[patches[0] + 1:patches[1]]
    assert case_state(run, case) == 'Unlocked'


def test_irreversible_step_is_not_repeated_when_the_re_read_shows_it_applied(faults):
    # The first PATCH (to Unlocked) goes through; the lock PATCH is answered 500 by a fault *after* being applied
    # is not something the emulator models, so check the other half: the lock is sent once when all goes well,
    # and a failed lock is re-read before it is sent again.
    run = faults
    assert run['irreversible'].get('failed') is not True, run['irreversible']
    journal = [(j['method'], j['status']) for j in run.requests('irreversible') if re.search(case_path('irreversible'), j['path'])]
    methods = [m for m, _s in journal]
    first_fail = journal.index(('PATCH', 503))
    assert methods[first_fail + 1] == 'GET'
    assert case_state(run, 'irreversible') == 'Locked'
    assert len([1 for m, s in journal if m == 'PATCH' and s < 300]) == 2


def test_long_running_operation_past_wait_timeout_is_settled_by_a_re_read(faults):
    """The operation status does not answer within wait_timeout; a fresh read of the vault decides.

    (The emulator applies a change before its first poll, so the re-read finds it applied; the case where
    it is not applied is covered by tests/unit/plugins/module_utils/test_vaults_writes.py.)
    """
    run = faults
    case = 'lro_timeout'
    assert run[case].get('failed') is not True, run[case]
    journal = [(j['method'], j['path']) for j in run.requests(case)]
    patch = [i for i, (m, p) in enumerate(journal) if m == 'PATCH']
    assert len(patch) == 1
    assert any(m == 'GET' and re.search(case_path(case), p) for m, p in journal[patch[0] + 1:])
    assert case_state(run, case) == 'Unlocked'


def test_concurrent_change_between_steps_is_noticed(faults, emulator):
    """Someone locks the vault while the task is on its way: the module re-plans and does not fight them.

    The vault was locked through the SDK before the shared run of the fault tests (``faults``), where this is the last task."""
    run = faults
    ep = emulator.endpoint
    assert run['concurrent']['failed'] is True and 'irreversible' in run['concurrent']['msg']
    assert run.writes('concurrent') == []
    assert ep['client_secret'] not in run.output


BAD_INPUT = [
    # (module, args, expected text in msg)
    (MOD, {'id': 'garbage', 'immutability': 'enabled'}, 'not an ARM id'),
    (MOD, {'id': '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/sa1' % (SUB1, RG),
           'immutability': 'enabled'}, 'not a Recovery Services vault or a Backup vault'),
    (MOD, {'id': '/subscriptions/xyz/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v1', 'immutability': 'enabled'},
     'not a GUID'),
    (MOD, {'id': vault_id('rsv-unset'), 'vault_type': 'backup', 'immutability': 'enabled'}, 'vault_type is backup'),
    (MOD, {'name': 'rsv-unset', 'resource_group': RG, 'vault_type': 'files', 'immutability': 'enabled'}, 'vault_type'),
    (MOD, {'name': 'bad_name!', 'resource_group': RG, 'vault_type': 'recovery_services', 'immutability': 'enabled'}, 'vault name'),
    (MOD, {'name': 'v' * 51, 'resource_group': RG, 'vault_type': 'recovery_services', 'immutability': 'enabled'}, 'vault name'),
    (MOD, {'name': '', 'resource_group': RG, 'vault_type': 'recovery_services', 'immutability': 'enabled'}, 'missing: name'),
    (MOD, {'name': 'rsv-unset', 'resource_group': '', 'vault_type': 'recovery_services', 'immutability': 'enabled'},
     'missing: resource_group'),
    (MOD, {'name': 'rsv-unset', 'resource_group': 'rg.', 'vault_type': 'recovery_services', 'immutability': 'enabled'},
     'resource group name'),
    (MOD, {'name': 'rsv-unset', 'resource_group': RG, 'immutability': 'enabled'}, "missing parameter(s) required by 'name': vault_type"),
    (MOD, {'name': 'rsv-unset', 'resource_group': RG, 'vault_type': 'recovery_services', 'immutability': 'enabled',
           'subscription_id': '33333333-3333-3333-3333-333333333333'}, 'SubscriptionNotFound'),
    (MOD, {'name': 'rsv-unset', 'resource_group': RG, 'vault_type': 'recovery_services', 'immutability': 'enabled',
           'subscription_id': 'my-subscription'}, 'not a GUID'),
    (MOD, {'name': 'rsv-unset', 'resource_group': RG, 'vault_type': 'recovery_services', 'immutability': 'enable'}, 'immutability'),
    (MOD, {'name': 'rsv-unset', 'resource_group': RG, 'vault_type': 'recovery_services', 'immutability': 'enabled',
           'immutability_retention_days': 29}, 'between 30 and 36135'),
    (MOD, {'name': 'rsv-unset', 'resource_group': RG, 'vault_type': 'recovery_services', 'immutability': 'enabled',
           'immutability_retention_days': 36136}, 'between 30 and 36135'),
    (MOD, {'name': 'bv-disabled', 'resource_group': RG, 'vault_type': 'backup', 'immutability': 'enabled',
           'immutability_retention_days': 90}, 'Recovery Services vaults only'),
    (MOD, {'id': vault_id('rsv-unset'), 'immutability': 'enabled', 'cloud_environment': 'http://127.0.0.1:1/'}, 'must use https'),
    (MOD, {'id': vault_id('rsv-unset'), 'immutability': 'enabled', 'cloud_environment': 'MarsCloud'}, 'neither a known cloud'),
    (MOD, {'id': vault_id('rsv-unset'), 'immutability': 'enabled', 'cloud_environment': 'https://127.0.0.1:9/'}, 'ConnectionError'),
    (MOD, {'id': vault_id('rsv-unset'), 'immutability': 'enabled', 'cloud_environment': '{control}nothing-here'}, 'MetadataUnavailable'),
    (MOD, {'id': vault_id('rsv-unset'), 'immutability': 'enabled', 'tenant': '99999999-9999-9999-9999-999999999999'}, 'double check your tenant'),
    (MOD, {'id': vault_id('rsv-unset'), 'immutability': 'enabled', 'secret': 'wrong-secret'}, 'AADSTS7000215'),
    (MOD, {'id': vault_id('rsv-unset'), 'immutability': 'enabled', 'auth_source': 'envv'}, 'auth_source'),
    (MOD, {'id': vault_id('rsv-unset'), 'name': 'rsv-unset', 'immutability': 'enabled'}, 'mutually exclusive'),
    (MOD, {'id': vault_id('rsv-unset'), 'immutability': 'locked', 'allow_irreversible': 'maybe'}, 'allow_irreversible'),
    (MOD, {'id': vault_id('rsv-locked'), 'immutability': 'disabled', 'allow_irreversible': True}, 'irreversible'),
    (MOD, {'id': vault_id('rsv-enabled'), 'immutability': 'locked'}, 'cannot be undone'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'daily': '30x'}}, '30x'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'daily': '-5d'}}, '-5d'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'daily': 'P0D'}}, 'P0D'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'hourly': '7d'}}, 'unknown tier'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'log': '1d'}}, 'below'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'daily': '30d'}, 'mode': 'enforced'}, 'mode'),
    ('vaultlock.azure.vault_immutability_info', {'subscription_ids': ['not-a-guid']}, "subscription_ids[0]: 'not-a-guid' is not a subscription id"),
    ('vaultlock.azure.vault_immutability_info', {'vault_types': ['files']}, 'vault_types'),
]


# One playbook for the refusals of the two tests below and the secrets test (the ``refusals`` fixture): the control
# characters, empty subscription and ceilings first (each with AZURE_SUBSCRIPTION_ID in its task's environment, what the
# environment of a run of their own gave), then the bad input, then the secrets test's tasks (``secret_r0`` to
# ``secret_r4``), which write. The run has the secrets test's ``-vvv --diff`` (the refusals' run of their own had ``-v``: at
# -vvv a task that failed with an exception would show its traceback, so their "no Traceback" holds at least as much).
# Each test asserts on its own tasks (``run.requests``, ``run.writes``) and its own part of the output (``refusal_output``).
SNAPSHOT_IDS = [vault_id(n) for n in ('rsv-unset', 'rsv-enabled', 'rsv-locked')] + [vault_id(n, 'backup') for n in ('bv-disabled', 'bv-enabled')]
SECRETS_FIRST_TASK = 'TASK [secrets: enable]'


def bad_input_tasks(emulator):
    tasks = []
    for index, (module, args, _expected) in enumerate(BAD_INPUT):
        args = dict(args)
        if args.get('cloud_environment', '').startswith('{control}'):
            args['cloud_environment'] = args['cloud_environment'].replace('{control}', emulator.endpoint['control_url'])
        tasks.append({'name': 'bad input', module: args, 'register': 'bad_%d' % index})
    tasks.append({'name': 'bad CA bundle', MOD: {'id': vault_id('rsv-unset'), 'immutability': 'enabled'},
                  'environment': {'REQUESTS_CA_BUNDLE': '/etc/hostname', 'SSL_CERT_FILE': '/etc/hostname'}, 'register': 'bad_ca'})
    return tasks


def before_any_request_tasks():
    return [{'name': 'refused', module: args, 'environment': {'AZURE_SUBSCRIPTION_ID': SUB1}, 'register': 'refused_%d' % index}
            for index, (module, args, _text) in enumerate(BEFORE_ANY_REQUEST)]


def secret_tasks(ep):
    """The secrets test's tasks (the emulator's endpoint ``ep``): r3 and r4 fail."""
    return [
        dict(enable(), name='secrets: enable'),
        {'name': 'info', 'vaultlock.azure.vault_immutability_info': {'include_policies': True}},
        {'name': 'explicit secret', MOD: {'id': vault_id('bv-disabled', 'backup'), 'immutability': 'enabled',
                                          'client_id': ep['client_id'], 'secret': ep['client_secret'], 'tenant': ep['tenant_id']}},
        {'name': 'wrong secret', MOD: {'id': vault_id('bv-disabled', 'backup'), 'secret': ep['client_secret'] + 'x'}},
        {'name': 'reader', MOD: {'id': vault_id('bv-enabled', 'backup'), 'immutability': 'disabled',
                                 'client_id': ep['readonly_client_id'], 'secret': ep['readonly_client_secret']}},
    ]


@pytest.fixture(scope='module')
def refusals(module_runner):
    """(the run, the stored documents of SNAPSHOT_IDS before it, and right after its last refusal, bad_ca)."""
    emulator = fresh_fleet(module_runner, states_fleet())
    snapshot = {i: emulator.resource(i) for i in SNAPSHOT_IDS}
    tasks = before_any_request_tasks() + bad_input_tasks(emulator) + part('secret', secret_tasks(emulator.endpoint))
    run = module_runner.play(tasks, ['-vvv', '--diff'], marks=SNAPSHOT_IDS)
    run.results_file = module_runner.tmp_path / ('results-%d.json' % module_runner.count)   # the file the run's results went to
    return run, snapshot, {i: run.after('bad_ca').resource(i) for i in SNAPSHOT_IDS}


def refusal_output(run):
    """The output of the refusals' tasks: up to the secrets test's first task."""
    assert SECRETS_FIRST_TASK in run.output, run.output[-3000:]
    return run.output.split(SECRETS_FIRST_TASK, 1)[0]


def test_bad_input_fails_clearly_before_any_write(refusals):
    run, snapshot, after = refusals
    assert len(BAD_INPUT) + 1 >= 30
    for index, (module, args, expected) in enumerate(BAD_INPUT):
        result = run['bad_%d' % index]
        assert result.get('failed') is True, (index, module, args, result)
        assert expected in result['msg'], (index, expected, result['msg'])
        assert run.writes('bad_%d' % index) == [], (index, module, args)
    bad_ca = run['bad_ca']
    assert bad_ca['failed'] is True
    assert run.writes('bad_ca') == []
    assert 'Traceback' not in refusal_output(run)
    # No write in the refusals' part of the run (every refusal up to bad_ca; the secrets test's tasks come after it).
    assert [e for e in run.journal[:run.marks['bad_ca']['end']] if is_write(e)] == []
    assert after == snapshot


def test_secrets_and_tokens_never_appear_in_output(refusals, emulator):
    """Its tasks are the secret part of the refusals run (-vvv --diff); every line of that run's output and results is
    searched, the refusals' too."""
    shared = refusals[0]
    ep = emulator.endpoint
    run = PlaybookPart(shared, 'secret')
    text = run.output + shared.results_file.read_text()
    for secret in (ep['client_secret'], ep['readonly_client_secret']):
        assert secret not in text
    # Access tokens are JWTs: base64url of '{"' starts with 'eyJ'.
    assert not re.search(r'eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}', text)
    assert run['r3']['failed'] is True and run['r4']['failed'] is True


def test_long_running_operation_that_ends_failed_reports_azures_error(faults):
    run = faults
    case = 'lro_failed'
    result = run[case]
    assert result['failed'] is True
    assert 'UserErrorVaultUpdateFailed' in result['msg'] and 'could not be completed' in result['msg']
    assert case_vault(case) in result['msg'] and 'Traceback' not in run.output
    assert case_state(run, case) is None
    # A failed operation is Azure's answer, not an unknown outcome: the PATCH is not sent again.
    assert len([j for j in run.requests(case) if j['method'] == 'PATCH']) == 1


def test_role_run_with_vvv_leaks_no_secret_in_output_or_reports(runner, emulator, tmp_path):
    """The role's playbook with -vvv and the secret in -e: check mode with --diff, then apply, one ansible-playbook run.

    The check part is a copy of the playbook with ``check_mode`` and ``diff`` on its plays (what --check --diff does), the
    apply part the playbook as written; each writes its reports to a directory of its own (``vars`` of its import: the
    apply would write its reports over the check's), and both are read."""
    import json  # pylint: disable=import-outside-toplevel
    import os  # pylint: disable=import-outside-toplevel
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel
    import yaml  # pylint: disable=import-outside-toplevel
    from tests.integration.conftest import REPO  # pylint: disable=import-outside-toplevel

    ep = emulator.endpoint
    playbook = REPO / 'playbooks' / 'harden_backup_vaults.yml'
    reports = {'check': tmp_path / 'reports-check', 'apply': tmp_path / 'reports-apply'}
    variables = {'harden_backup_vaults_fail_on_error': False,
                 'harden_backup_vaults_auth': {'client_id': ep['client_id'], 'secret': ep['client_secret'], 'tenant': ep['tenant_id']}}
    checked = [dict(play, check_mode=True, diff=True) for play in yaml.safe_load(playbook.read_text())]
    (tmp_path / 'check.yml').write_text(yaml.safe_dump(checked, sort_keys=False))
    steps = [{'ansible.builtin.import_playbook': str(tmp_path / 'check.yml'), 'vars': {'harden_backup_vaults_report_dir': str(reports['check'])}},
             {'ansible.builtin.import_playbook': str(playbook), 'vars': {'harden_backup_vaults_report_dir': str(reports['apply'])}}]
    (tmp_path / 'steps.yml').write_text(yaml.safe_dump(steps, sort_keys=False))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(tmp_path / 'steps.yml'),
                           '-vvv', '-e', json.dumps(variables)], env=runner.env(), capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    texts = [proc.stdout + proc.stderr]
    for name in ('check', 'apply'):
        files = list(reports[name].iterdir())
        assert files, name
        texts.extend(p.read_text() for p in files)
    assert emulator.writes()          # the apply did write, so the secret was really in use
    text = '\n'.join(texts)
    assert ep['client_secret'] not in text
    assert not re.search(r'eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}', text)


BEFORE_ANY_REQUEST = [
    # (module, args, text in msg): refused before any request reaches Azure, naming the option and the value.
    (MOD, {'name': 'rsv-unset\n', 'resource_group': RG, 'vault_type': 'recovery_services', 'immutability': 'enabled'},
     "name: vault name 'rsv-unset\\n'"),
    (MOD, {'name': 'rsv-unset', 'resource_group': RG + '\n', 'vault_type': 'recovery_services', 'immutability': 'enabled'},
     "resource_group: resource group name '%s\\n'" % RG),
    (MOD, {'name': 'rsv-unset', 'resource_group': RG, 'vault_type': 'recovery_services', 'immutability': 'enabled',
           'subscription_id': SUB1 + '\n'}, "subscription_id: subscription id '%s\\n'" % SUB1),
    (MOD, {'name': 'rsv-unset', 'resource_group': RG, 'vault_type': 'recovery_services', 'immutability': 'enabled',
           'subscription_id': ''}, "subscription_id: '' is empty"),
    (MOD, {'id': vault_id('rsv-unset') + '\n', 'immutability': 'enabled'}, "id: '%s\\n'" % vault_id('rsv-unset')),
    (MOD, {'name': 'rsv\tunset', 'resource_group': RG, 'vault_type': 'recovery_services'}, "name: vault name 'rsv\\tunset'"),
    ('vaultlock.azure.vault_soft_delete', {'name': 'bv-disabled\r', 'resource_group': RG, 'vault_type': 'backup', 'soft_delete': 'on'},
     "name: vault name 'bv-disabled\\r'"),
    ('vaultlock.azure.vault_immutability_info', {'subscription_ids': [SUB1 + '\n']}, "subscription_ids[0]: '%s\\n' is not a subscription id" % SUB1),
    ('vaultlock.azure.vault_immutability_info', {'subscription_id': '', 'vault_types': ['backup']}, "subscription_id: '' is empty"),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'daily': '99999999d'}, 'mode': 'enforce'},
     'more than 6 digits'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'daily': '9' * 400 + 'd'}, 'mode': 'enforce'},
     'more than 6 digits'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'yearly': 'P99999999Y'}, 'mode': 'enforce'},
     'more than 6 digits'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'daily': '10000d'}, 'mode': 'enforce'},
     'above the longest daily retention Azure accepts for any policy (9999 days)'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'weekly': '5164w'}}, '(5163 weeks)'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'monthly': '1189m'}}, '(1188 months)'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('rsv-unset'), 'minimum': {'yearly': '100y'}}, '(99 years)'),
    # Backup vault datastores (Learn: disks' operational tier one year, vaulted tiers 10 years): before, these minimums were
    # taken and every Backup vault policy below them was planned to be raised to a retention Azure refuses.
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('bv-disabled', 'backup'), 'minimum': {'default': {'OperationalStore': '2y'}}},
     'above the longest default retention a Backup vault policy keeps on OperationalStore (1 year)'),
    ('vaultlock.azure.backup_policy_retention', {'id': vault_id('bv-disabled', 'backup'), 'minimum': {'yearly': {'VaultStore': '11y'}}, 'mode': 'enforce'},
     'on VaultStore (10 years)'),
]


def test_control_characters_empty_subscription_and_ceilings_are_refused_before_any_request(refusals):
    run = refusals[0]
    for index, (module, _args, text) in enumerate(BEFORE_ANY_REQUEST):
        result = run['refused_%d' % index]
        assert result.get('failed') is True, (index, module, result)
        assert text in result['msg'], (index, text, result['msg'])
        assert run.requests('refused_%d' % index) == [], (index, module)
    assert 'Traceback' not in refusal_output(run)
    # Nothing at all reached the emulator before the bad input's first task (these tasks come first in the run).
    assert run.journal[:run.marks['bad_0']['start']] == []
