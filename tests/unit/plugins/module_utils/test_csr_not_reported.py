# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cross subscription restore of a vault that does not report it: recorded Backup vaults created without the setting
(tests/fixtures/azure-real: cliext-dp-mua-vault at 2023-05-01, cliext-dp-cmk at 2024-04-01, the create answer of
cliext-dp-vault-refusals at 2025-07-01) carry no ``crossSubscriptionRestoreSettings``. Served verbatim by the emulator and
read through the collection's ARM pipeline, such a vault is never compliant with a baseline that names the state: it gets
a fixable finding and the write of the baseline's state, from a state shown as not reported (``None``), as Azure Policy's
CrossSubscriptionRestore Modify built-ins write it on such a vault. The write names its target, so nothing rests on what
the vault keeps today; permanently_disabled still needs consent.
"""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import validate_baseline, vault_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._readiness import readiness
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import cross_subscription_restore
from tests.fixtures import REAL, load_real
from tests.unit.builders import emulator_session
from tests.unit.plugins.module_utils.test_real_shapes import DP, RS, RS_VAULT, TODAY, fleet, read_vault


def _created_locked():
    body = copy.deepcopy(json.loads((REAL / 'cliext-dp-vault-refusals' / 'answers.json').read_text())['create_locked']['resp'])
    body['properties']['provisioningState'] = 'Succeeded'
    return body


def _rs_without():
    body = copy.deepcopy(load_real(RS_VAULT))
    del body['properties']['restoreSettings']
    return body


BODIES = [
    ('dp GET at 2023-05-01 (cliext-dp-mua-vault)', DP, lambda: load_real('cliext-dp-mua-vault/get-softdelete-off.json')),
    ('dp GET at 2024-04-01 (cliext-dp-cmk)', DP, lambda: load_real('cliext-dp-cmk/get-cmk-key1.json')),
    ('dp create answer at 2025-07-01 (cliext-dp-vault-refusals)', DP, _created_locked),
    ('rs GET without restoreSettings', RS, _rs_without),
]


@pytest.fixture
def session(emulator, monkeypatch):
    return emulator_session(emulator, monkeypatch, fleet())


@pytest.mark.parametrize('case, kind, make', BODIES, ids=[b[0] for b in BODIES])
@pytest.mark.parametrize('want', ['disabled', 'enabled', 'permanently_disabled'])
def test_a_vault_not_reporting_cross_subscription_restore_is_never_compliant_and_gets_the_write(emulator, session, case, kind, make, want):
    record = read_vault(emulator, session, make(), kind)
    assert record['cross_subscription_restore'] is None
    entry = vault_drift(record, validate_baseline({'cross_subscription_restore': want, 'allow_irreversible': True}))
    found = [f for f in entry['findings'] if f['setting'] == 'cross_subscription_restore']
    assert len(found) == 1 and found[0]['fixable'] and found[0]['have'] is None and found[0]['want'] == want
    assert found[0]['irreversible'] is (want == 'permanently_disabled')
    planned = [c for c in entry['changes'] if c['setting'] == 'cross_subscription_restore']
    assert [(c['before'], c['after']) for c in planned] == [(None, want)]
    record.update(protected_items=[], policies=[])
    blockers = readiness(record, requirements={'no_unfixable_findings': True}, findings=entry['findings'], today=TODAY)['blockers']
    assert 'no_unfixable_findings' not in {b['requirement'] for b in blockers}


@pytest.mark.parametrize('case, kind, make', BODIES, ids=[b[0] for b in BODIES])
def test_without_consent_permanently_disabling_it_is_not_planned(emulator, session, case, kind, make):
    record = read_vault(emulator, session, make(), kind)
    entry = vault_drift(record, validate_baseline({'cross_subscription_restore': 'permanently_disabled'}))
    assert not [c for c in entry['changes'] if c['setting'] == 'cross_subscription_restore']
    found = [f for f in entry['findings'] if f['setting'] == 'cross_subscription_restore']
    assert len(found) == 1 and not found[0]['fixable'] and found[0]['irreversible']


@pytest.mark.parametrize('state, fixable', [('Enabled', True), ('Disabled', False), ('PermanentlyDisabled', False)])
def test_a_vault_that_reports_it_is_judged_as_before(emulator, session, state, fixable):
    body = _created_locked()
    body['properties']['featureSettings']['crossSubscriptionRestoreSettings'] = {'state': state}
    record = read_vault(emulator, session, body, DP)
    entry = vault_drift(record, validate_baseline({'cross_subscription_restore': 'disabled'}))
    found = [f for f in entry['findings'] if f['setting'] == 'cross_subscription_restore']
    planned = [c for c in entry['changes'] if c['setting'] == 'cross_subscription_restore']
    assert bool(found) is fixable and bool(planned) is fixable
    if fixable:
        assert found[0]['reason'] == 'set cross subscription restore enabled -> disabled'


def test_vault_security_settings_still_writes_the_state_a_task_names():
    """The module's own plan (a task that names the state) writes it on a vault that reports none, before None."""
    assert cross_subscription_restore.plan('backup', None, 'disabled', False) == [
        {'setting': 'cross_subscription_restore', 'before': None, 'after': 'disabled', 'irreversible': False}]
