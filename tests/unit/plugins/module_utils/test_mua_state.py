# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a Resource Guard protects a vault, as the vault reports it: served verbatim by the emulator (a raw_body fault,
recorded bodies with the one change each case names) and read through the collection's ARM pipeline.

The spec's read-only fields say it (Recovery Services ``securitySettings.multiUserAuthorization``, Backup vaults
``isVaultProtectedByResourceGuard``); ``resourceGuardOperationRequests`` names a guard without saying so. A vault that
names a guard but does not report protection (absent, Disabled, Invalid, false) was read as not protected, so a run
planned to associate another guard (a write Azure may refuse, shown as fixable in check mode) and to weaken soft delete
or immutability the guard may protect. It is now ``unknown`` (assumed, _rules/mua.py mua_state): no guard change and no
weakening planned, not counted as protected for require_mua, its posture ``unknown``.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import validate_baseline, vault_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._readiness import readiness
from tests.fixtures import load_real
from tests.unit.plugins.module_utils.test_real_shapes import DP, DP_VAULT, RS, RS_VAULT, TODAY, fleet, read_vault
from tests.unit.builders import SUB, emulator_session

GUARD = '/subscriptions/%s/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/guard-a' % SUB
OTHER = '/subscriptions/%s/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/guard-b' % SUB
ABSENT = object()


@pytest.fixture
def session(emulator, monkeypatch):
    return emulator_session(emulator, monkeypatch, fleet())


def _body(kind, reported, guard=True):
    body = copy.deepcopy(load_real(RS_VAULT if kind == RS else DP_VAULT))
    props = body['properties']
    if guard:
        props['resourceGuardOperationRequests'] = [GUARD + '/disableSoftDeleteRequests/default', GUARD + '/updateProtectionPolicyRequests/default']
    if kind == RS:
        props['securitySettings'].pop('multiUserAuthorization', None)
        if reported is not ABSENT:
            props['securitySettings']['multiUserAuthorization'] = reported
    else:
        props.pop('isVaultProtectedByResourceGuard', None)
        if reported is not ABSENT:
            props['isVaultProtectedByResourceGuard'] = reported
    return body


CASES = [
    ('rs Enabled with a guard', RS, 'Enabled', True, 'protected'),
    ('rs Invalid with a guard', RS, 'Invalid', True, 'unknown'),
    ('rs absent with a guard', RS, ABSENT, True, 'unknown'),
    ('rs Disabled with a guard', RS, 'Disabled', True, 'unknown'),
    ('rs unknown word with a guard', RS, 'PartiallyEnabled', True, 'unknown'),
    ('rs unknown word without a guard', RS, 'PartiallyEnabled', False, 'unknown'),
    ('rs Invalid without a guard (recorded on a create)', RS, 'Invalid', False, 'not_protected'),
    ('rs Disabled without a guard', RS, 'Disabled', False, 'not_protected'),
    ('dp true with a guard', DP, True, True, 'protected'),
    ('dp false with a guard', DP, False, True, 'unknown'),
    ('dp absent with a guard', DP, ABSENT, True, 'unknown'),
    ('dp absent without a guard', DP, ABSENT, False, 'not_protected'),
]


@pytest.mark.parametrize('case, kind, reported, guard, expected', CASES, ids=[c[0] for c in CASES])
def test_multi_user_authorization_is_read_from_what_the_vault_reports(emulator, session, case, kind, reported, guard, expected):
    record = read_vault(emulator, session, _body(kind, reported, guard), kind)
    assert record['mua']['protected'] is (expected == 'protected')
    assert record['mua'].get('state', expected) == expected
    assert record['mua']['resource_guard_id'] == (GUARD if guard else None)

    # A baseline naming another guard, turning soft delete off and immutability back to disabled (the vault is Unlocked
    # in the RS recording): nothing of it is planned on a vault a guard protects or may protect.
    entry = vault_drift(record, validate_baseline({'resource_guard_id': OTHER, 'soft_delete': {'state': 'off'}}))
    assert entry['posture']['mua']['state'] == expected
    planned = {c['setting'] for c in entry['changes']}
    mua_findings = [f for f in entry['findings'] if f['setting'] == 'mua']
    sd_findings = [f for f in entry['findings'] if f['setting'] == 'soft_delete']
    if expected == 'not_protected':
        assert {'mua', 'soft_delete'} <= planned and all(f['fixable'] for f in mua_findings + sd_findings)
    else:
        assert not planned & {'mua', 'soft_delete'}
        assert mua_findings and not any(f['fixable'] for f in mua_findings)
        assert sd_findings and not any(f['fixable'] for f in sd_findings)
    if expected == 'unknown':
        assert 'unknown' in mua_findings[0]['reason'] and 'nothing was sent' in mua_findings[0]['reason']
        assert 'does not report multi-user authorization as enabled' in sd_findings[0]['reason']

    # Lock readiness with require_mua: only a vault that reports protection meets it.
    record.update(protected_items=[], policies=[])
    found = readiness(record, requirements={'require_mua': True}, findings=[], today=TODAY)
    blockers = {b['requirement']: b for b in found['blockers']}
    assert ('require_mua' in blockers) is (expected != 'protected')
    if expected == 'unknown':
        assert 'unknown' in blockers['require_mua']['message']


def test_a_recorded_vault_a_guard_protects_reads_as_protected_without_a_guard_id(emulator, session):
    """A live GET of a Recovery Services vault a Resource Guard protects (tests/fixtures/azure-real/ps-rs-mua, Azure
    PowerShell's session record of 2025-05-23): ``multiUserAuthorization`` ``Enabled`` and no
    ``resourceGuardOperationRequests``, so the vault says that a guard protects it, not which. Read as protected, the
    guard unknown: a baseline guard is a finding no run fixes (nothing sent, the guard not visible), never an
    association planned over a guard the vault already has."""
    body = load_real('ps-rs-mua/get-mua-enabled.json')
    assert 'resourceGuardOperationRequests' not in body['properties']
    record = read_vault(emulator, session, body, RS)
    assert record['mua'] == {'protected': True, 'resource_guard_id': None, 'protected_operations': []}
    entry = vault_drift(record, validate_baseline({'resource_guard_id': GUARD}))
    assert entry['posture']['mua']['state'] == 'protected'
    assert not [c for c in entry['changes'] if c['setting'] == 'mua']
    findings = [f for f in entry['findings'] if f['setting'] == 'mua']
    assert findings and not any(f['fixable'] for f in findings)
    assert 'not visible to this identity' in findings[0]['reason'] and 'nothing was sent' in findings[0]['reason']
