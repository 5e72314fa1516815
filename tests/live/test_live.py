# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live suite: the collection's modules against a real subscription (make integration-azure).

It creates a Recovery Services vault and a Backup vault with random names in VAULTLOCK_LIVE_RESOURCE_GROUP,
runs playbooks against them, and deletes them afterwards. It never locks a vault: a locked vault cannot be
deleted before its recovery points expire. CI runs the same suite against the emulator
(tests/integration/test_live_suite_on_emulator.py), so the code path is exercised on every change.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import uuid

import pytest
import yaml

RG = os.environ.get('VAULTLOCK_LIVE_RESOURCE_GROUP')
LOCATION = os.environ.get('VAULTLOCK_LIVE_LOCATION', 'westeurope')
REPO = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not RG, reason='VAULTLOCK_LIVE_RESOURCE_GROUP is not set: the live suite needs a real subscription')


def _session():
    from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession  # pylint: disable=import-outside-toplevel
    return AzureSession({'auth_source': 'env', 'polling_interval': 5})


@pytest.fixture(scope='module')
def vaults():
    session = _session()
    sub = session.default_subscription()
    suffix = uuid.uuid4().hex[:8]
    rs_name, bv_name = 'vaultlock-live-rsv-%s' % suffix, 'vaultlock-live-bv-%s' % suffix
    rs = session.client('recoveryservices', sub)
    dp = session.client('dataprotection', sub)
    rs.vaults.begin_create_or_update(RG, rs_name, {
        'location': LOCATION, 'sku': {'name': 'RS0', 'tier': 'Standard'},
        'properties': {'publicNetworkAccess': 'Enabled'}}).result()
    dp.backup_vaults.begin_create_or_update(RG, bv_name, {
        'location': LOCATION, 'identity': {'type': 'SystemAssigned'},
        'properties': {'storageSettings': [{'datastoreType': 'VaultStore', 'type': 'LocallyRedundant'}]}}).result()
    ids = {
        'recovery_services': '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s' % (sub, RG, rs_name),
        'backup': '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/%s' % (sub, RG, bv_name),
    }
    try:
        yield ids
    finally:
        body = {'properties': {'securitySettings': {'immutabilitySettings': {'state': 'Disabled'}}}}
        for call in (lambda: rs.vaults.begin_update(RG, rs_name, body).result(),
                     lambda: dp.backup_vaults.begin_update(RG, bv_name, body).result(),
                     lambda: rs.vaults.begin_delete(RG, rs_name).result(),
                     lambda: dp.backup_vaults.begin_delete(RG, bv_name).result()):
            try:
                call()
            except Exception as exc:  # pylint: disable=broad-except
                # Clean-up goes on with the next step; a leftover vault is reported, never hidden.
                print('clean-up step failed: %s' % exc, file=sys.stderr)


def state(vault_id):
    from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend, vault_record  # pylint: disable=import-outside-toplevel
    ref = VaultRef.parse_id(vault_id)
    return vault_record(backend(_session(), ref.vault_type).get(ref), ref.vault_type)['immutability']


def play(tmp_path, tasks, *args):
    """Runs tasks (each registered as r<i>) in one ansible-playbook run; returns what each registered.

    The results are written by the tests' vaultlock_test_results action (tests/integration/action_plugins), on the
    controller: ansible.builtin.copy started a Python process of its own for its module in every run.
    """
    out = tmp_path / 'results.json'
    names = []
    for index, task in enumerate(tasks):
        task.setdefault('register', 'r%d' % index)
        names.append(task['register'])
    tasks = tasks + [{'name': 'collect', 'vaultlock_test_results': {
        'content': '{{ {%s} | to_json }}' % ', '.join("'%s': %s" % (n, n) for n in names), 'dest': str(out)}, 'check_mode': False}]
    path = tmp_path / 'play.yml'
    path.write_text(yaml.safe_dump([{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}]))
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_ACTION_PLUGINS=str(REPO / 'tests' / 'integration' / 'action_plugins'))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(path)] + list(args),
                          env=env, capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


KINDS = ['recovery_services', 'backup']


def _read_and_check(vault_id):
    """Run 1: read, then enable in check mode (a task's check_mode and diff, as --check --diff)."""
    return [{'vaultlock.azure.vault_immutability_info': {'id': vault_id}},
            dict(_enable(vault_id), check_mode=True, diff=True)]


def _enable_twice(vault_id):
    """Run 2: enable, then enable again."""
    return [_enable(vault_id), _enable(vault_id)]


def _policies_and_disable(vault_id):
    """Run 3: read the policies, then disable."""
    return [{'vaultlock.azure.backup_policy_retention_info': {'id': vault_id}},
            {'vaultlock.azure.vault_immutability': {'id': vault_id, 'immutability': 'disabled'}}]


def _enable(vault_id):
    return {'vaultlock.azure.vault_immutability': {'id': vault_id, 'immutability': 'enabled'}}


@pytest.fixture(scope='module')
def runs(vaults, tmp_path_factory):
    """The three playbook runs of test_enable_check_idempotent_disable, each with the tasks of both vaults (registered
    KIND_RUN_rI), and each vault's state read from Azure through the SDK after each run. Returns (results, states):
    states[run][kind]."""
    tmp_path = tmp_path_factory.mktemp('live')
    results, states = {}, []
    for number, make in enumerate((_read_and_check, _enable_twice, _policies_and_disable)):
        tasks = [dict(task, register='%s_%d_r%d' % (kind, number, index)) for kind in KINDS for index, task in enumerate(make(vaults[kind]))]
        results.update(play(tmp_path, tasks))
        states.append({kind: state(vaults[kind]) for kind in KINDS})
    return results, states


def _of_run(runs, kind, number):
    """What the vault's tasks of one run registered, as r0, r1 (what a run of its own registered)."""
    prefix = '%s_%d_' % (kind, number)
    return {key[len(prefix):]: value for key, value in runs[0].items() if key.startswith(prefix)}


@pytest.mark.parametrize('kind', KINDS)
def test_enable_check_idempotent_disable(runs, kind):
    """Read, check mode (a task's check_mode and diff, as --check --diff), then enable twice, then read the policies
    and disable: three playbook runs (each with the other vault kind's tasks too), each state read from Azure between
    them through the SDK."""
    states = [after[kind] for after in runs[1]]
    results = _of_run(runs, kind, 0)
    assert results['r0']['vaults'][0]['immutability'] == 'disabled'
    assert results['r1']['changed'] is True
    assert states[0] == 'disabled'

    results = _of_run(runs, kind, 1)
    assert results['r0']['changed'] is True and results['r1']['changed'] is False
    assert states[1] == 'enabled'

    results = _of_run(runs, kind, 2)
    assert isinstance(results['r0']['policies'], list)
    assert results['r1']['changed'] is True
    assert states[2] == 'disabled'
