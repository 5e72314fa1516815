# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup policies through Resource Graph over real HTTPS to the emulator: joined to the vault rows (one query), or,
where Resource Graph refuses the join (the emulator's ``graph_unserved``), a row per vault in a query of their own, or,
where it refuses summarize too, a row per policy: the same records as ARM's reads each time, and the result says what
was asked again."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import resource_graph as rg
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from tests.integration.test_resource_graph_discovery import BOTH, arm_discovery, graph_calls


def test_policies_joined_or_a_row_per_vault_or_a_row_per_policy_when_refused(emulator, monkeypatch):
    subs = emulator.generate(60, 2, seed='policy-rows')['subscription_ids']
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    session = AzureSession({'auth_source': 'env'})
    expected = arm_discovery(session, subs, items=False)
    assert sum(len(r['policies']) for r in expected) > 60
    shapes = {}
    try:
        for refused in ((), ('join',), ('summarize',)):
            emulator.settings(graph_unserved=list(refused))
            emulator.clear_journal()
            found = rg.discover(session, subs, BOTH)
            shapes[refused] = (found, [(e['status'], e['body']['query']) for e in graph_calls(emulator)])
    finally:
        emulator.settings(graph_unserved=None)
    for found, _asked in shapes.values():
        assert found['vaults'] == expected and found['fallbacks'] == [] and found['errors'] == []
    # Served: one query, the vaults with their policies joined; nothing asked again.
    found, asked = shapes[()]
    assert [status for status, _query in asked] == [200] and found['resource_graph']['requeried'] == []
    assert ' join kind=leftouter (recoveryservicesresources ' in asked[0][1] and 'summarize policies = make_list(pack(' in asked[0][1]
    # The join refused: the vaults alone, then the policies a row per vault.
    found, asked = shapes[('join',)]
    assert [status for status, _query in asked] == [400, 200, 200]
    assert ' join ' not in asked[1][1] and asked[2][1].startswith('recoveryservicesresources ') and 'summarize' in asked[2][1]
    assert [(r['query'], r['code']) for r in found['resource_graph']['requeried']] == [('vaults', 'InvalidQueryLanguage')]
    # Summarize refused: the vaults alone, the policies a row per vault (refused), then a row per policy.
    found, asked = shapes[('summarize',)]
    assert [status for status, _query in asked] == [400, 200, 400, 200]
    assert 'summarize' not in asked[3][1] and '| project id, name, type' in asked[3][1]
    again = [(r['query'], r['code']) for r in found['resource_graph']['requeried']]
    assert again == [('vaults', 'InvalidQueryLanguage'), ('policies', 'InvalidQueryLanguage')]
    assert 'row per policy' in found['resource_graph']['requeried'][1]['outcome']
