# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every vault and policy body recorded from Microsoft's own clients (tests/fixtures/azure-real) reads right.

The expected records and tiers below were written by hand from the JSON files; nothing is computed from them.
"Invalid" enum values and null settings (a vault create answer) are read as "not set", never as errors.
"""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._retention import find_reductions, normalise_policy
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from tests.fixtures import REAL, load_real
from tests.fixtures.real_expected import MUA, NO_MUA, POLICIES, RS, VAULTS


@pytest.mark.parametrize('path', sorted(VAULTS))
def test_real_vault_bodies(path):
    vault_type, name, location, immutability, soft_delete, state = VAULTS[path]
    body = load_real(path)
    record = vault_record(body, vault_type)
    assert record['name'] == name and record['location'] == location and record['vault_type'] == vault_type
    assert record['id'] == body['id']
    assert record['immutability'] == immutability
    assert record['immutability_retention_days'] is None
    assert record['soft_delete'] == soft_delete
    assert record['mua'] == MUA.get(path, NO_MUA)
    assert record['provisioning_state'] == state


def test_every_real_vault_body_is_covered():
    found = set()
    for path in REAL.rglob('*.json'):
        if path.parent.name == 'replay':
            continue
        doc = load_real(path.relative_to(REAL).as_posix())
        if str(doc.get('type', '')).lower() in ('microsoft.recoveryservices/vaults', 'microsoft.dataprotection/backupvaults'):
            found.add(path.relative_to(REAL).as_posix())
    assert found == set(VAULTS)


@pytest.mark.parametrize('path', sorted(POLICIES))
def test_real_policy_bodies(path):
    name, workload, workload_type, policy_type, protected_items, tiers = POLICIES[path]
    record = normalise_policy(load_real(path), RS)
    assert record['name'] == name
    assert record['workload'] == workload and record['workload_type'] == workload_type
    assert record['policy_type'] == policy_type
    assert record['protected_items'] == protected_items
    assert record['unknown'] is False and record['unreadable'] == []
    assert record['tiers'] == tiers


def test_replayed_policy_answer_reads_like_the_request():
    """The normalised PUT answer (instantRPDetails {}, tiering duration 0 "Invalid") keeps the same retention."""
    step = [s for s in load_real('replay/D_rs_enhanced_policy.json')['sequence'] if s['method'] == 'PUT'][0]
    sent = normalise_policy({'properties': step['body']['properties']}, RS)
    answered = normalise_policy(step['resp'], RS)
    assert answered['tiers'] == sent['tiers'] == POLICIES['ps-rs-enhancedpolicy/get-psTestEnhancedPolicy-weekly.json'][5]
    assert find_reductions(sent, answered) == [] and find_reductions(answered, sent) == []


def test_every_real_policy_body_is_covered():
    found = set()
    for path in REAL.rglob('*.json'):
        if path.parent.name == 'replay':
            continue
        doc = load_real(path.relative_to(REAL).as_posix())
        props = doc.get('properties') if isinstance(doc.get('properties'), dict) else {}
        if 'backupManagementType' in props:
            found.add(path.relative_to(REAL).as_posix())
    assert found == set(POLICIES)
