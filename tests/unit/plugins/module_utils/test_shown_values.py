# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every refusal that shows a value the user wrote shows it through _errors.shown or escaped: a right-to-left override
(U+202E) or a zero-width space in the value is shown as its escape, never as itself, so the message cannot read as another
one. Each case names where the value entered a message raw before."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils import _immutability, _readiness, _soft_delete, _tiers
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import select_auth
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import _security, mua, soft_delete, storage_redundancy
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import check_baseline
from ansible_collections.vaultlock.azure.plugins.plugin_utils import _harden_run

RLO = 'prod\u202eved\u200b'
ESCAPED = 'prod\\u202eved\\u200b'
TIER = {'name': 'gold', 'match': {'names': ['rsv-*']}, 'immutability': 'enabled'}


def plan_args(**overrides):
    args = {'report_dir': 'reports', 'vaults': [], 'discover': True, 'resource_groups': [], 'tags': {}, 'subscription_ids': [],
            'max_concurrency': 4}
    args.update(overrides)
    return args


CASES = {
    'harden_plan vaults[] unknown key': lambda: _harden_run.check_inputs(plan_args(vaults=[{'id': 'x', RLO: 1}])),
    'harden_plan vaults[] vault_type': lambda: _harden_run.check_inputs(
        plan_args(vaults=[{'name': 'a', 'resource_group': 'rg', 'vault_type': RLO}])),
    'harden_report results unknown key': lambda: _harden_run.build_run_report({}, {RLO: []}),
    'baseline unknown key': lambda: soft_delete.RULE.baseline_mapping({'soft_delete': {RLO: 1}}, ('state',)),
    'baseline flag': lambda: check_baseline({'soft_delete': {'state': RLO}}),
    'immutability choice': lambda: _immutability.normalise_choice(RLO),
    'soft delete choice': lambda: _soft_delete.normalise_choice(RLO),
    'security setting choice': lambda: _security.choice(RLO, 'public_network_access', ('enabled', 'disabled')),
    'storage redundancy list': lambda: storage_redundancy.normalise([RLO], 'storage_redundancy'),
    'resource guard id': lambda: mua.RULE.validate_baseline({'resource_guard_id': RLO}),
    'tier name and unknown tier key': lambda: _tiers.resolve_tier(dict(TIER, name=RLO, colour=1), 0, {}, False, {}),
    'tier match unknown key': lambda: _tiers.validate_match({RLO: 1}, 'tier'),
    'lock requirements unknown key': lambda: _readiness.validate_requirements({RLO: True}),
    'auth_source': lambda: select_auth({'auth_source': RLO}, env={}),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_a_value_with_direction_or_zero_width_characters_is_escaped_in_the_refusal(case):
    with pytest.raises(VaultlockError) as err:
        CASES[case]()
    message = str(err.value)
    assert ESCAPED in message and '\u202e' not in message and '\u200b' not in message, message
