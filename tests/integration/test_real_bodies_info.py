# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The info modules over the vault and policy bodies recorded from Microsoft's own clients, served verbatim.

Each recorded vault body is loaded into the emulator as it is (only its id follows the fleet: one resource group per
recording, as two recordings hold the same vault), and every recorded policy body hangs off one vault. The expected
records and tiers are the hand-written ones of tests/fixtures/real_expected.py.
"""

from __future__ import annotations

import pathlib

import pytest

from tests.fixtures import load_real
from tests.fixtures.real_expected import MUA, NO_MUA, POLICIES, VAULTS
from tests.integration.fleets import SUB1, vault_id

POLICY_VAULT = 'rsv-real-policies'
POLICY_RG = 'rg-real-policies'


def _rg(path):
    return 'rg-' + pathlib.PurePosixPath(path).stem.replace('.', '-')


def _policy_name(path):
    return pathlib.PurePosixPath(path).stem.replace('.', '-')


def real_fleet():
    subs = {}
    for path, (vault_type, name, location, *_rest) in VAULTS.items():
        body = load_real(path)
        sub = body['id'].split('/')[2]
        groups = subs.setdefault(sub, [])
        groups.append({'name': _rg(path), 'location': location, 'vaults': [{'name': name, 'type': vault_type, 'body': body}]})
    policies = []
    for path in POLICIES:
        doc = load_real(path)
        policies.append({'name': _policy_name(path), 'properties': doc['properties']})
    subs.setdefault(SUB1, []).append({'name': POLICY_RG, 'location': 'westeurope', 'vaults': [
        {'name': POLICY_VAULT, 'type': 'recovery_services', 'immutability': 'locked', 'policies': policies}]})
    return {'subscriptions': [{'id': sub, 'resource_groups': groups} for sub, groups in subs.items()]}


def test_info_modules_read_every_real_body(runner, emulator):
    fleet = real_fleet()
    emulator.load_fleet(fleet)
    subs = [s['id'] for s in fleet['subscriptions']]
    run = runner.play([
        {'name': 'vaults', 'vaultlock.azure.vault_immutability_info': {'subscription_ids': subs}},
        {'name': 'policies', 'vaultlock.azure.backup_policy_retention_info': {
            'vaults': [vault_id(POLICY_VAULT, sub=SUB1, rg=POLICY_RG)]}},
    ])
    assert run.rc == 0, run.output
    vaults = run['r0']
    assert vaults['errors'] == []
    by_rg = {v['resource_group']: v for v in vaults['vaults']}
    for path, (vault_type, name, location, immutability, soft_delete, state) in VAULTS.items():
        record = by_rg[_rg(path)]
        assert (record['name'], record['vault_type'], record['location']) == (name, vault_type, location), path
        assert record['immutability'] == immutability, path
        assert record['soft_delete'] == soft_delete, path
        assert record['mua'] == MUA.get(path, NO_MUA), path
        assert record['provisioning_state'] == state, path
    policies = {p['name']: p for p in run['r1']['policies']}
    assert set(policies) == {_policy_name(path) for path in POLICIES}
    for path, (_name, workload, workload_type, policy_type, _items, tiers) in POLICIES.items():
        record = policies[_policy_name(path)]
        assert (record['workload'], record['workload_type'], record['policy_type']) == (workload, workload_type, policy_type), path
        assert record['tiers'] == tiers, path
        assert record['unknown'] is False and record['unreadable'] == [], path
    assert emulator.writes() == []


def test_missing_recovery_services_policy_answering_an_empty_body_is_not_found(emulator, monkeypatch):
    """Azure answers a missing Recovery Services policy 404 with the body {} and no error code (recorded)."""
    from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession  # pylint: disable=import-outside-toplevel
    from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError  # pylint: disable=import-outside-toplevel
    from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend  # pylint: disable=import-outside-toplevel

    emulator.load_fleet(real_fleet())
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    session = AzureSession({'auth_source': 'env'})
    ref = VaultRef.parse_id(vault_id(POLICY_VAULT, sub=SUB1, rg=POLICY_RG))
    store = backend(session, 'recovery_services')
    raw = emulator.arm_request('GET', ref.id + '/backupPolicies/nope', '2026-10-01')
    assert raw.status_code == 404 and raw.json() == {}
    with pytest.raises(AzureOperationError) as err:
        store.get_policy(ref, 'nope')
    assert err.value.not_found and err.value.status == 404
    assert "policy 'nope' of Recovery Services vault 'rsv-real-policies'" in str(err.value)
    assert store.get_policy(ref, _policy_name('spec-examples/IaaS_v2_hourly.response.json'))['properties']['policyType'] == 'V2'
