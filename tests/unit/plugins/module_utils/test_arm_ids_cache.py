# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""split_resource_id keeps azure-mgmt-core's parse per id: the same parts each time, a fresh dict for every caller."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._azure import arm_ids as _arm_ids
from tests.unit.builders import SUB

VAULT = '/subscriptions/%s/resourceGroups/rg-a/providers/Microsoft.RecoveryServices/vaults/rsv-a' % SUB


def test_an_id_is_parsed_once_and_each_caller_gets_its_own_parts(monkeypatch):
    calls = []
    tools = _arm_ids.arm_tools()
    real = tools.parse_resource_id
    monkeypatch.setattr(tools, 'parse_resource_id', lambda text: calls.append(text) or real(text))
    _arm_ids._split.cache_clear()  # pylint: disable=protected-access
    first = _arm_ids.split_resource_id(VAULT)
    parsed = len(calls)
    assert parsed
    first['name'] = 'changed by a caller'
    again = _arm_ids.split_resource_id(VAULT + '/')
    assert again['name'] == 'rsv-a' and again['subscription'] == SUB and again['resource_group'] == 'rg-a'
    assert again == dict(real(VAULT)) and len(calls) == parsed
    assert _arm_ids.split_resource_id('not an id') == {} and _arm_ids.split_resource_id(None) == {}
    _arm_ids._split.cache_clear()  # pylint: disable=protected-access
