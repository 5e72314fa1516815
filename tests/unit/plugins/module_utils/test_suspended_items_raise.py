# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A retention raise on an immutable Recovery Services vault while a protected item of the policy has its backups
suspended: Microsoft Learn (MicrosoftDocs/azure-docs articles/backup/backup-azure-immutable-vault-concept.md at
b7a53cae1a5e, Restricted operations, Recovery Services vault, "Modify backup policy to reduce retention": "Note that the
increase in retention can't be applied if any item has its backups suspended (stop backup)").

The emulator refuses such a PUT through the real SDK, and the collection, reading the vault, its policies and its items
from the emulator through its own ARM pipeline, plans no raise for such a policy (a finding no run fixes, saying why).
Before (fourth sources pass), the emulator stored the raise and the collection planned it: a check run promised a raise
Azure does not apply.
"""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import attach_policies
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.items import attach_items
from ansible_collections.vaultlock.azure.plugins.module_utils._drift import validate_baseline, vault_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend, vault_record
from tests.emulator import generator
from tests.unit.builders import SUB, emulator_session

RG = 'rg-suspended'
BASELINE = {'retention': {'minimum': {'daily': '365d'}, 'mode': 'enforce'}}


def _vault(name, immutability, state):
    item = {'name': 'vm-' + name, 'policy': 'VMDaily', 'datasource_type': 'VM'}
    if state == 'suspended':
        item['backups_suspended'] = True
    return {'name': name, 'type': 'recovery_services', 'immutability': immutability,
            'policies': [{'name': 'VMDaily', 'properties': generator.iaas_v2(False)},
                         {'name': 'Other', 'properties': generator.iaas_v2(False)}],
            'protected_items': [item]}


# (vault name, immutability, the item's state, whether Azure applies a raise of VMDaily)
CASES = [
    ('rsv-unlocked-suspended', 'enabled', 'suspended', False),
    ('rsv-locked-suspended', 'locked', 'suspended', False),
    ('rsv-unlocked-protected', 'enabled', 'protected', True),
    ('rsv-disabled-suspended', 'disabled', 'suspended', True),
]


def fleet():
    return {'subscriptions': [{'id': SUB, 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
        _vault(name, immutability, state) for name, immutability, state, _applied in CASES]}]}]}


@pytest.fixture
def session(emulator, monkeypatch):
    return emulator_session(emulator, monkeypatch, fleet())


def _raised(days):
    props = generator.iaas_v2(False)
    props['retentionPolicy']['dailySchedule']['retentionDuration']['count'] = days
    return {'properties': props}


@pytest.mark.parametrize('name, immutability, state, applied', CASES, ids=[case[0] for case in CASES])
def test_the_emulator_refuses_a_raise_on_an_immutable_vault_while_an_item_of_the_policy_is_suspended(
        emulator, session, name, immutability, state, applied):
    from azure.core.exceptions import HttpResponseError  # pylint: disable=import-outside-toplevel
    client = emulator.backup_client(SUB)
    [item] = emulator.arm_request('GET', 'subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/'
                                  'backupProtectedItems' % (SUB, RG, name), '2026-10-01').json()['value']
    assert item['properties']['protectionState'] == ('BackupsSuspended' if state == 'suspended' else 'Protected')
    if applied:
        client.protection_policies.create_or_update(name, RG, 'VMDaily', _raised(365))
    else:
        with pytest.raises(HttpResponseError) as err:
            client.protection_policies.create_or_update(name, RG, 'VMDaily', _raised(365))
        assert err.value.status_code == 400 and 'suspended' in str(err.value.error.message)
    kept = client.protection_policies.get(name, RG, 'VMDaily').properties.retention_policy.daily_schedule.retention_duration.count
    assert kept == (365 if applied else 180)
    # Another policy of the same vault, with no item on it, is raised either way; so is a PUT that raises nothing.
    client.protection_policies.create_or_update(name, RG, 'Other', _raised(365))
    client.protection_policies.create_or_update(name, RG, 'VMDaily', _raised(kept))


@pytest.mark.parametrize('name, immutability, state, applied', CASES, ids=[case[0] for case in CASES])
def test_the_collection_plans_no_raise_azure_does_not_apply(session, name, immutability, state, applied):
    ref = VaultRef.parse_id('/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s' % (SUB, RG, name),
                            'recovery_services')
    record = vault_record(backend(session, 'recovery_services').get(ref), 'recovery_services')
    assert attach_policies(session, [record]) == [] and attach_items(session, [record]) == []
    baseline = dict(BASELINE, allow_irreversible=True)
    entry = vault_drift(record, validate_baseline(baseline))
    findings = {f['policy']: f for f in entry['findings'] if f['setting'] == 'retention'}
    assert set(findings) == {'VMDaily', 'Other'}, entry['findings']
    assert findings['Other']['fixable'] is True
    assert findings['VMDaily']['fixable'] is applied, findings['VMDaily']
    raised = sorted(c['policy'] for c in entry['changes'] if c['setting'] == 'retention')
    assert raised == (['Other', 'VMDaily'] if applied else ['Other'])
    if not applied:
        assert 'backups suspended' in findings['VMDaily']['reason'] and 'vm-' + name in findings['VMDaily']['reason']


def test_report_mode_and_a_run_that_turns_immutability_on_say_the_same(session):
    """In report mode the finding names no option that would let a run raise it (enforce would not); a vault whose
    immutability this run turns on is judged as immutable (the immutability step comes before the raises)."""
    ref = VaultRef.parse_id('/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-unlocked-suspended'
                            % (SUB, RG), 'recovery_services')
    record = vault_record(backend(session, 'recovery_services').get(ref), 'recovery_services')
    assert attach_policies(session, [record]) == [] and attach_items(session, [record]) == []
    entry = vault_drift(record, validate_baseline({'retention': {'minimum': {'daily': '365d'}, 'mode': 'report'}}))
    [finding] = [f for f in entry['findings'] if f['setting'] == 'retention' and f['policy'] == 'VMDaily']
    assert (finding['fixable'], finding['option']) == (False, None) and 'backups suspended' in finding['reason']
    ref = VaultRef.parse_id('/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-disabled-suspended'
                            % (SUB, RG), 'recovery_services')
    record = vault_record(backend(session, 'recovery_services').get(ref), 'recovery_services')
    assert attach_policies(session, [record]) == [] and attach_items(session, [record]) == []
    entry = vault_drift(record, validate_baseline(dict(BASELINE, immutability='enabled')))
    [finding] = [f for f in entry['findings'] if f['setting'] == 'retention' and f['policy'] == 'VMDaily']
    assert finding['fixable'] is False and 'backups suspended' in finding['reason']
    assert [c['policy'] for c in entry['changes'] if c['setting'] == 'retention'] == ['Other']
