# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one builder of a guarded write's body (_rules/mua.py with_requests), which vault_soft_delete and vault_immutability
share: the request ids go in ``properties.resourceGuardOperationRequests`` and the planned body is left as it was, so a
retry or a re-read compares with what was planned."""

from __future__ import annotations

import copy

from ansible_collections.vaultlock.azure.plugins.module_utils._rules import mua

REQUEST = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/resourceGuards/g/disableSoftDeleteRequests/default'


def test_the_requests_are_added_to_a_copy_of_the_body():
    body = {'properties': {'softDeleteFeatureState': 'Disabled'}, 'tags': {'a': 'b'}}
    planned = copy.deepcopy(body)
    sent = mua.with_requests(body, (REQUEST,))
    assert sent == {'properties': {'softDeleteFeatureState': 'Disabled', 'resourceGuardOperationRequests': [REQUEST]}, 'tags': {'a': 'b'}}
    assert body == planned


def test_without_requests_the_body_is_sent_as_planned():
    body = {'properties': {'softDeleteFeatureState': 'Enabled'}}
    assert mua.with_requests(body, []) is body
    assert 'resourceGuardOperationRequests' not in body['properties']
