# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No write to a vault whose fresh read does not say provisioningState Succeeded (_vaults.SETTLED_STATE): an earlier
task's operation that outlived its wait_timeout may still be running in Azure. In process (conftest.py's fake Azure):
the four state modules, in check mode too, and harden_apply (no later step of that vault, the planned lock reported not
made, check mode predicting the same)."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.modules import backup_policy_retention, vault_immutability, vault_security_settings, vault_soft_delete
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_apply import PlanApplier

from tests.unit.builders import BV, arm_vault, iaas
from tests.unit.plugins.modules.conftest import FakeSession
from tests.unit.plugins.modules.test_harden_apply import LOCK, REQUIREMENTS, fleet, plan


def busy(azure, vault, state='Updating'):
    """The vault as a read shows it while an operation on it runs (state None: no provisioningState at all)."""
    props = azure.vault(vault['id'])['properties']
    if state is None:
        props.pop('provisioningState')
    else:
        props['provisioningState'] = state
    return vault


def refused(result, vault, state='Updating'):
    assert result['failed'] is True, result
    msg = result['msg']
    assert vault['name'] in msg and ('provisioningState %s' % state if state else 'no provisioningState') in msg, msg
    assert 'nothing was sent' in msg and 'Wait until the operation has finished' in msg and 'then run again' in msg, msg
    return True


IRREVERSIBLE = [
    ('lock', vault_immutability, dict(immutability='locked', allow_irreversible=True), dict(immutability='enabled')),
    ('days on a locked vault', vault_immutability, dict(immutability_retention_days=90, allow_irreversible=True),
     dict(immutability='locked')),
    ('always on', vault_soft_delete, dict(soft_delete='always_on', allow_irreversible=True), dict(soft_delete='on')),
    ('permanently disabled', vault_security_settings,
     dict(cross_subscription_restore='permanently_disabled', allow_irreversible=True), {}),
]


@pytest.mark.parametrize('state', ['Updating', 'Provisioning', 'Failed', None])
@pytest.mark.parametrize('check_mode', [False, True])
@pytest.mark.parametrize('what,module,args,vault_args', IRREVERSIBLE, ids=[case[0] for case in IRREVERSIBLE])
def test_an_irreversible_write_waits_for_a_settled_vault(run_module, azure, what, module, args, vault_args, check_mode, state):
    del what
    vault = busy(azure, azure.add(arm_vault('rsv-busy', **vault_args)), state)
    assert refused(run_module(module, dict(args, id=vault['id']), check_mode=check_mode), vault, state)
    assert azure.writes == []


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_retention_raise_on_a_locked_vault_waits_for_a_settled_vault(run_module, azure, check_mode):
    vault = arm_vault('rsv-locked', immutability='locked')
    busy(azure, azure.add(vault, [iaas('weak', vault=vault['id'], daily=(7, 'Days'))]))
    args = {'id': vault['id'], 'minimum': {'daily': '30d'}, 'mode': 'enforce', 'allow_irreversible': True}
    assert refused(run_module(backup_policy_retention, args, check_mode=check_mode), vault)
    assert azure.writes == []


def test_a_reversible_raise_waits_too_and_a_report_does_not(run_module, azure):
    """Reversible writes wait as well (the decision in _vaults: the running operation may be the lock itself); a report
    sends nothing, so it is answered."""
    vault = arm_vault('rsv-open', immutability='enabled')
    busy(azure, azure.add(vault, [iaas('weak', vault=vault['id'], daily=(7, 'Days'))]))
    args = {'id': vault['id'], 'minimum': {'daily': '30d'}}
    assert refused(run_module(backup_policy_retention, dict(args, mode='enforce')), vault)
    report = run_module(backup_policy_retention, args)
    assert not report.get('failed') and report['compliant'] is False and azure.writes == []


def test_succeeded_in_another_case_is_settled(run_module, azure):
    vault = busy(azure, azure.add(arm_vault('rsv-1', immutability='enabled')), 'succeeded')
    result = run_module(vault_immutability, {'id': vault['id'], 'immutability': 'locked', 'allow_irreversible': True})
    assert result['changed'] is True and [w[0] for w in azure.writes] == ['PATCH']


def test_the_lock_after_the_first_step_waits_when_the_vault_reads_updating_again(run_module, azure, monkeypatch):
    """Disabled -> Unlocked went through; the read before the lock shows another operation running on the vault: the
    lock is not sent, and the result says what did change (enabled) and why the lock did not follow."""
    vault = azure.add(arm_vault('rsv-1', immutability='disabled'))
    monkeypatch.setattr(azure, 'failed_after', lambda operation, name: busy(azure, vault))
    result = run_module(vault_immutability, {'id': vault['id'], 'immutability': 'locked', 'allow_irreversible': True})
    assert refused(result, vault)
    assert result['changed'] is True and [c['after'] for c in result['changes']] == ['enabled']
    assert 'outcome' not in result and len(azure.writes) == 1


def test_a_write_whose_vault_still_reads_updating_afterwards_is_reported_as_the_read_shows_it(run_module, azure, monkeypatch):
    """The read after a write is not refused: it says what the write did (here: applied, its operation not ended yet)."""
    vault = azure.add(arm_vault('bv-1', BV, soft_delete='on'))
    monkeypatch.setattr(azure, 'failed_after', lambda operation, name: busy(azure, vault))
    result = run_module(vault_soft_delete, {'id': vault['id'], 'soft_delete': 'off'})
    assert not result.get('failed') and result['changed'] is True and result['vault']['provisioning_state'] == 'Updating'


# ------------------------------------------------------------------ harden_apply

def apply(azure, check_mode):
    session = FakeSession({}, azure=azure)
    drift = plan(azure, session)
    for raw in azure.vaults.values():
        raw['properties']['provisioningState'] = 'Updating'   # after the plan, before the apply
    done = PlanApplier(session, LOCK, REQUIREMENTS, True, check_mode=check_mode, max_concurrency=2).apply(drift)
    return done, {(r['item']['name'], action): r for action, rows in done['results'].items() for r in rows}


@pytest.mark.parametrize('check_mode', [False, True])
def test_harden_apply_sends_nothing_to_a_vault_that_does_not_read_settled(azure, check_mode):
    """rsv-weak (a raise, soft delete, the lock): its first step reads it Updating; no step is sent and each says why.
    bv-open (the lock only): the lock gate's fresh read finds it; no write, not even the reversible enabled. Check mode
    gives the same results and gates."""
    fleet(azure)
    done, rows = apply(azure, check_mode)
    assert azure.writes == []
    assert rows[('rsv-weak', 'retention')]['failed'] is True and 'provisioningState Updating' in rows[('rsv-weak', 'retention')]['msg']
    for action in ('soft_delete', 'immutability'):
        result = rows[('rsv-weak', action)]
        assert result['failed'] is True and result['changed'] is False and result['outcome'] == 'not_sent'
        assert result['msg'].startswith('not sent: the retention step found that ') and 'rsv-weak' in result['msg']
    bv = rows[('bv-open', 'immutability')]
    assert bv['failed'] is True and bv['changes'] == [] and bv['outcome'] == 'not_sent'
    assert 'provisioningState Updating' in bv['msg'] and 'then run again' in bv['msg']
    assert sorted(done['gates']) == sorted(r['id'].lower() for r in (rows[('rsv-weak', 'retention')], bv))
    for gate in done['gates'].values():
        assert gate['failed'] is True and gate['reason'].startswith('planned lock not made: ') and 'Updating' in gate['reason']


def test_harden_apply_check_mode_predicts_the_real_refusal(azure):
    fleet(azure)
    real, real_rows = apply(azure, False)
    for raw in azure.vaults.values():
        raw['properties']['provisioningState'] = 'Succeeded'
    check, check_rows = apply(azure, True)
    assert {key: (r['failed'], r['changed'], r.get('outcome'), r['msg']) for key, r in real_rows.items()} == \
        {key: (r['failed'], r['changed'], r.get('outcome'), r['msg']) for key, r in check_rows.items()}
    assert real['gates'] == check['gates']
