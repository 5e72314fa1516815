# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup policies through Resource Graph, a row per vault, over real HTTPS to the emulator: the same records as ARM's
reads, and, when Resource Graph refuses the query that makes a row per vault (the emulator's ``graph_unserved``), the
same records again through the row-per-policy query, with the result saying it asked again."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils import _resource_graph as rg
from ansible_collections.vaultlock.azure.plugins.module_utils._client import AzureSession
from tests.integration.test_resource_graph_discovery import BOTH, arm_discovery, graph_calls


def test_policies_a_row_per_vault_or_a_row_per_policy_when_refused(emulator, monkeypatch):
    subs = emulator.generate(60, 2, seed='policy-rows')['subscription_ids']
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    session = AzureSession({'auth_source': 'env'})
    expected = arm_discovery(session, subs, items=False)
    assert sum(len(r['policies']) for r in expected) > 60
    try:
        emulator.clear_journal()
        served = rg.discover(session, subs, BOTH)
        queries = [e['body']['query'] for e in graph_calls(emulator)]
        emulator.settings(graph_unserved=['summarize'])
        emulator.clear_journal()
        refused = rg.discover(session, subs, BOTH)
        asked = [(e['status'], e['body']['query']) for e in graph_calls(emulator)]
    finally:
        emulator.settings(graph_unserved=None)
    # Served: one vault query, one policy query with a row per vault; nothing asked again.
    assert served['vaults'] == expected and served['resource_graph']['requeried'] == [] and served['fallbacks'] == []
    assert len(queries) == 2 and 'summarize policies = make_list(pack(' in queries[1]
    # Refused: the policy query is answered 400 and asked again a row per policy; the records are the same.
    assert refused['vaults'] == expected and refused['fallbacks'] == [] and refused['errors'] == []
    assert [status for status, _query in asked] == [200, 400, 200]
    assert 'summarize' in asked[1][1] and 'summarize' not in asked[2][1] and '| project id, name, type' in asked[2][1]
    (again,) = refused['resource_graph']['requeried']
    assert again['code'] == 'InvalidQueryLanguage' and again['query'] == 'policies' and 'row per policy' in again['outcome']
