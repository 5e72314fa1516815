# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role under play and task keywords that change how Ansible runs and shows it: ``any_errors_fatal: true`` on the
play, ``no_log: true`` on the role's import and ``ANSIBLE_NO_LOG=true``, and the role imported twice in one real run into
one report directory. Each is a real ansible-playbook run against the emulator, one vault's writes refused (403)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible.release import __version__ as core_version

from tests.integration.fleets import RG, SUB1, vault, vault_id

FILES = ['drift.html', 'drift.json', 'drift.junit.xml', 'drift.md', 'drift.sarif', 'drift.scope.json']
CORE = tuple(int(part) for part in core_version.split('.')[:2])
CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"


def squeezed(text):
    """``text`` without white space: ansible-core 2.17 wraps a warning at hyphens too (a path's "pytest-of-" ends a line),
    so a message is found in the output whatever the wrapping."""
    return ''.join(text.split())


def fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-off', 'recovery_services', 'disabled'),
                                                          vault('rsv-denied', 'recovery_services', 'disabled'),
                                                          vault('bv-off', 'backup', 'disabled')]}]}]}


def deny_rsv_denied(emulator):
    """rsv-denied's writes are refused as Azure refuses an identity without write access (403 AuthorizationFailed)."""
    emulator.fault(method='PATCH', path_regex='/vaults/rsv-denied$', status=403, code='AuthorizationFailed', times=20,
                   message="The client does not have authorization to perform action 'Microsoft.RecoveryServices/vaults/write' "
                           "over scope '%s' or the scope is invalid." % vault_id('rsv-denied'))


def role_play(runner, tmp_path, name, imports, play_extra=None, env=None, args=()):
    """One play on localhost: the role's imports (each {'vars': ..., other keywords}), then a task that writes what the role
    registered to <name>-registered.json (a file: ANSIBLE_NO_LOG censors a debug task too). Returns (returncode, the whole
    output)."""
    tasks = [dict({'name': 'Harden %d' % number, 'ansible.builtin.import_role': {'name': 'vaultlock.azure.harden_backup_vaults'}},
                  **extra) for number, extra in enumerate(imports)]
    tasks.append({'name': 'After the role', 'ansible.builtin.copy': {
        'dest': str(tmp_path / ('%s-registered.json' % name)), 'mode': '0600',
        'content': '{{ {"changed": harden_backup_vaults_report.summary.changed, "errors": harden_backup_vaults_report.summary.errors} | to_json }}'}})
    play = dict({'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
                 'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'}, 'tasks': tasks}, **(play_extra or {}))
    path = tmp_path / ('%s.yml' % name)
    path.write_text(json.dumps([play]))
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(path)] + list(args)
    proc = subprocess.run(cmd, env=runner.env(dict({'ANSIBLE_INVENTORY_ENABLED': 'host_list'}, **(env or {}))), capture_output=True,
                          text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def drift(directory):
    return json.loads((directory / 'drift.json').read_text())


def states(emulator):
    return {name: emulator.resource(vault_id(name, kind))['properties'].get('securitySettings', {}).get('immutabilitySettings', {}).get('state')
            for name, kind in (('rsv-off', 'recovery_services'), ('rsv-denied', 'recovery_services'), ('bv-off', 'backup'))}


def test_any_errors_fatal_on_the_play_still_writes_the_reports_and_fails_at_the_end(runner, emulator, tmp_path):
    """docs/role.md: a vault that fails does not stop the others, its failure is an error in the reports, and the run fails
    at the end, after the reports. any_errors_fatal: true on the play keeps that: harden_apply does not fail as a task for
    one vault's failure, so the reports are written, and the play stops at the role's last task (the gate), naming the
    report; the task after the role does not run."""
    emulator.load_fleet(fleet())
    emulator.clear_journal()
    deny_rsv_denied(emulator)
    reports = tmp_path / 'reports'
    rc, output = role_play(runner, tmp_path, 'fatal', [{'vars': {'harden_backup_vaults_report_dir': str(reports)}}],
                           play_extra={'any_errors_fatal': True})
    assert rc == 2, output[-3000:]
    flat = ' '.join(output.split())
    assert ('1 error: a vault or a scope could not be read or changed; see %s/drift.md' % reports) in flat, output[-3000:]
    assert 'TASK [Fail on errors or remaining drift]' in flat.replace('vaultlock.azure.harden_backup_vaults : ', '')
    assert not (tmp_path / 'fatal-registered.json').exists()
    assert sorted(os.listdir(reports)) == FILES
    document = drift(reports)
    assert document['summary']['changed'] == 2 and document['summary']['errors'] == 1, document['summary']
    assert [error['vault'] for error in document['errors']] == ['rsv-denied'], document['errors']
    assert 'AuthorizationFailed' in document['errors'][0]['message']
    assert states(emulator) == {'rsv-off': 'Unlocked', 'rsv-denied': 'Disabled', 'bv-off': 'Unlocked'}


def test_no_log_on_the_import_and_ansible_no_log_hide_secrets_and_paths_and_keep_the_reports_whole(runner, emulator, tmp_path):
    """no_log: true on the role's import (the gate failing at the end) and ANSIBLE_NO_LOG=true (the gate off, a later task
    reading what the role registered), both with -vvv and the service principal's secret given in
    harden_backup_vaults_auth: the role's results are censored, and the output holds no client secret, no token (the
    emulator's are JWTs, 'eyJ...') and no path of Ansible's local temporary directory, where the plan is kept. The gate's
    message names the report and the warnings show, on ansible-core 2.19 (2.17 and 2.18 hide a no_log task's message and
    warnings: the reports hold them); the reports and the registered summary are those of a run without no_log: two vaults
    changed, rsv-denied an error."""
    endpoint = emulator.endpoint
    auth = {'client_id': endpoint['client_id'], 'secret': endpoint['client_secret'], 'tenant': endpoint['tenant_id']}
    local_tmp = str(runner.tmp_path / 'ansible-home' / 'tmp')
    for name, extra, env in (('import', {'no_log': True}, {}),
                             ('environment', {}, {'ANSIBLE_NO_LOG': 'true'})):
        emulator.load_fleet(fleet())
        emulator.clear_journal()
        deny_rsv_denied(emulator)
        reports = tmp_path / name
        variables = {'harden_backup_vaults_report_dir': str(reports), 'harden_backup_vaults_auth': auth,
                     'harden_backup_vaults_exclude': ['nothing-*'],
                     'harden_backup_vaults_fail_on_error': name == 'import'}
        rc, output = role_play(runner, tmp_path, name, [dict(extra, vars=variables)], env=env, args=['-vvv'])
        assert rc == (2 if name == 'import' else 0), output[-3000:]
        assert CENSORED in output, output[-3000:]
        assert endpoint['client_secret'] not in output and 'eyJ' not in output, name
        # The role's part of the output (the copy task after it is Ansible's own: at -vvv it names its files' paths).
        role_output = output.split('TASK [After the role]')[0]
        assert local_tmp not in role_output and 'ansible-local-' not in role_output, name
        if CORE >= (2, 19):
            assert squeezed("exclusion 'nothing-*' matched no vault, so it protected nothing") in squeezed(output), name
        if name == 'import' and CORE >= (2, 19):
            assert squeezed('1 error: a vault or a scope could not be read or changed; see %s/drift.md' % reports) in squeezed(output), \
                output[-3000:]
        if name == 'environment':
            assert json.loads((tmp_path / 'environment-registered.json').read_text()) == {'changed': 2, 'errors': 1}
        assert sorted(os.listdir(reports)) == FILES
        document = drift(reports)
        assert document['summary']['changed'] == 2 and document['summary']['errors'] == 1, (name, document['summary'])
        assert [error['vault'] for error in document['errors']] == ['rsv-denied'], document['errors']
        assert any('nothing-*' in warning for warning in document['warnings']), document['warnings']
        assert 'censored' not in json.dumps(document) and 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' not in json.dumps(document)
        assert states(emulator) == {'rsv-off': 'Unlocked', 'rsv-denied': 'Disabled', 'bv-off': 'Unlocked'}, name


def test_the_role_twice_in_one_real_run_into_one_report_dir_is_not_refused_by_its_own_journal(runner, emulator, tmp_path):
    """The role imported twice by one play into one report directory, for real: each import applies (its journal names
    this run's ansible-playbook), and the second is neither refused nor told of an earlier apply; it warns, as documented,
    that its reports replace the first's, and no journal is left or kept aside."""
    emulator.load_fleet(fleet())
    emulator.clear_journal()
    reports = tmp_path / 'reports'

    def scope(name, kind):
        return {'vars': {'harden_backup_vaults_report_dir': str(reports),
                         'harden_backup_vaults_vaults': [{'name': name, 'resource_group': RG, 'vault_type': kind}]}}
    rc, output = role_play(runner, tmp_path, 'twice', [scope('rsv-off', 'recovery_services'), scope('bv-off', 'backup')])
    flat = ' '.join(output.split())
    assert rc == 0, output[-3000:]
    warning = ("an earlier run of harden_plan in this ansible-playbook run (the role imported twice in one play?) planned into "
               "the report directory '%s': this run's reports replace that run's there" % os.path.realpath(str(reports)))
    assert squeezed(output).count(squeezed(warning)) == 1, output[-3000:]
    assert 'refused' not in flat and 'earlier harden_apply' not in flat, output[-3000:]
    assert json.loads((tmp_path / 'twice-registered.json').read_text()) == {'changed': 1, 'errors': 0}
    assert sorted(os.listdir(reports)) == FILES
    assert drift(reports)['summary']['changed'] == 1 and warning in ' '.join(drift(reports)['warnings'])
    assert states(emulator) == {'rsv-off': 'Unlocked', 'rsv-denied': 'Disabled', 'bv-off': 'Unlocked'}
