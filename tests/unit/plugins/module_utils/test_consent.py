# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Consent rules of the state modules' action plugins: what module_defaults may and may not supply."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._consent import ConsentError, scope_arguments, scope_plan_arguments

VID = '/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v'


def test_consent_written_in_the_task_is_kept():
    merged = {'id': VID, 'immutability': 'locked', 'allow_irreversible': True, 'subscription_id': 'x'}
    args, warnings = scope_arguments('vault_immutability', merged, {'id', 'immutability', 'allow_irreversible'})
    assert args == merged and warnings == []


@pytest.mark.parametrize('value, warned', [(True, True), ('yes', True), (False, False)])
def test_consent_from_module_defaults_never_counts(value, warned):
    args, warnings = scope_arguments('vault_immutability', {'id': VID, 'immutability': 'locked', 'allow_irreversible': value},
                                     {'id', 'immutability'})
    assert args['allow_irreversible'] is False
    assert bool(warnings) is warned


@pytest.mark.parametrize('module, merged, own', [
    ('vault_immutability', {'id': VID, 'immutability': 'locked'}, {'id'}),
    ('vault_immutability', {'id': VID, 'immutability': 'LOCKED', 'allow_irreversible': True}, {'id', 'allow_irreversible'}),
    ('vault_soft_delete', {'id': VID, 'soft_delete': 'always_on'}, {'id'}),
    ('vault_soft_delete', {'id': VID, 'soft_delete': 'alwayson', 'allow_irreversible': True}, {'id', 'allow_irreversible'}),
])
def test_irreversible_targets_from_module_defaults_are_refused(module, merged, own):
    with pytest.raises(ConsentError, match='comes from module_defaults'):
        scope_arguments(module, merged, own)


@pytest.mark.parametrize('module, merged, own, borrowed', [
    ('vault_immutability', {'id': VID, 'immutability': 'locked', 'immutability_retention_days': 365, 'allow_irreversible': True},
     {'id', 'immutability', 'allow_irreversible'}, 'immutability_retention_days'),
    ('vault_immutability', {'id': VID, 'immutability': 'enabled', 'immutability_retention_days': 365, 'allow_irreversible': True},
     {'id', 'immutability_retention_days', 'allow_irreversible'}, 'immutability comes'),
    ('vault_soft_delete', {'id': VID, 'soft_delete': 'always_on', 'retention_days': 180, 'allow_irreversible': True},
     {'id', 'soft_delete', 'allow_irreversible'}, 'retention_days'),
    ('backup_policy_retention', {'id': VID, 'minimum': {'daily': '9999d'}, 'mode': 'enforce', 'allow_irreversible': True},
     {'id', 'mode', 'allow_irreversible'}, 'minimum'),
])
def test_a_consenting_task_must_name_its_own_targets(module, merged, own, borrowed):
    with pytest.raises(ConsentError, match=borrowed):
        scope_arguments(module, merged, own)


def test_reversible_targets_from_module_defaults_still_work_without_consent():
    args, warnings = scope_arguments('vault_immutability', {'id': VID, 'immutability': 'enabled'}, {'id'})
    assert args == {'id': VID, 'immutability': 'enabled'} and warnings == []
    args = scope_arguments('backup_policy_retention', {'id': VID, 'minimum': {'daily': '30d'}, 'mode': 'enforce'}, {'id'})[0]
    assert args['mode'] == 'enforce'


def test_unknown_own_arguments_trust_nothing_from_the_merge():
    args = scope_arguments('vault_immutability', {'id': VID, 'immutability': 'enabled', 'allow_irreversible': True}, None)[0]
    assert args['allow_irreversible'] is False
    with pytest.raises(ConsentError):
        scope_arguments('vault_immutability', {'id': VID, 'immutability': 'locked', 'allow_irreversible': True}, None)


LOCK_BASELINE = {'immutability': 'locked', 'allow_irreversible': True}


@pytest.mark.parametrize('consent', [True, 'yes', 'True'])
def test_a_harden_plan_baseline_that_consents_from_module_defaults_is_refused(consent):
    # The plan's baseline carries the consent (allow_irreversible) with the irreversible targets: from module_defaults,
    # harden_plan planned locks that a harden_apply task consenting to its own plan then applied.
    merged = {'baseline': dict(LOCK_BASELINE, allow_irreversible=consent), 'report_dir': 'reports'}
    with pytest.raises(ConsentError, match='baseline comes from module_defaults, but it consents to irreversible changes'):
        scope_plan_arguments(merged, {'report_dir'})
    with pytest.raises(ConsentError, match='nothing was sent to Azure'):
        scope_plan_arguments(merged, None)


@pytest.mark.parametrize('merged, own', [
    ({'baseline': LOCK_BASELINE, 'report_dir': 'reports'}, {'baseline', 'report_dir'}),
    ({'baseline': {'immutability': 'enabled', 'allow_irreversible': False}, 'report_dir': 'reports'}, {'report_dir'}),
    ({'baseline': {'immutability': 'enabled'}, 'report_dir': 'reports'}, None),
])
def test_a_harden_plan_baseline_written_in_the_task_or_without_consent_is_kept(merged, own):
    assert scope_plan_arguments(merged, own) == merged


@pytest.mark.parametrize('requirements, loosened', [
    ({'require_soft_delete': None}, 'require_soft_delete: null where the default is on'),
    ({'require_soft_delete': False}, 'require_soft_delete: null where the default is on'),
    ({'no_unfixable_findings': False}, 'no_unfixable_findings: false where the default is true'),
    ({'require_soft_delete': 'always_on', 'no_unfixable_findings': False}, 'no_unfixable_findings: false where the default is true'),
])
def test_harden_plan_lock_requirements_looser_than_the_defaults_from_module_defaults_are_refused(requirements, loosened):
    # The lock gate: requirements looser than the defaults let a play lock vaults that the defaults keep unlocked; from
    # module_defaults no task agreed to that.
    merged = {'baseline': {'immutability': 'locked', 'allow_irreversible': True}, 'lock_requirements': requirements}
    with pytest.raises(ConsentError, match='lock_requirements comes from module_defaults, but it is looser than the defaults') as err:
        scope_plan_arguments(merged, {'baseline'})
    assert loosened in str(err.value) and 'nothing was sent to Azure' in str(err.value)
    with pytest.raises(ConsentError):
        scope_plan_arguments(merged, None)
    # Written in the task itself, the same requirements count.
    assert scope_plan_arguments(merged, {'baseline', 'lock_requirements'}) == merged


@pytest.mark.parametrize('requirements', [
    None, {}, {'require_soft_delete': 'on'}, {'require_soft_delete': 'always_on'}, {'require_mua': True},
    {'max_retention': '10y'}, {'max_retention': None}, {'no_unfixable_findings': True},
    # A null that takes the default is the default (require_soft_delete null is "no requirement", see below).
    {'require_mua': None, 'no_unfixable_findings': None},
    # Not usable: refused before any request by the plan's own check, with its own message.
    {'require_soft_delete': 'sometimes'}, 'strict',
])
def test_harden_plan_lock_requirements_as_strict_as_the_defaults_may_come_from_module_defaults(requirements):
    merged = {'baseline': {'immutability': 'locked', 'allow_irreversible': True}, 'lock_requirements': requirements}
    assert scope_plan_arguments(merged, {'baseline'}) == merged


@pytest.mark.parametrize('consent', [1.0, 1, 'Y', ' TRUE ', 't', 'On'])
def test_every_value_the_module_takes_as_consent_counts_as_the_tasks_consent(consent):
    """allow_irreversible: 1.0 in a task (or a variable holding it): Ansible's bool conversion, which the module's argument
    spec runs, takes it as true, but the consent rules did not, so the days from module_defaults went to a vault the task
    locks (irreversible) unchecked."""
    from ansible.module_utils.common.validation import check_type_bool
    assert check_type_bool(consent) is True     # the module consents
    merged = {'id': VID, 'immutability': 'locked', 'immutability_retention_days': 36135, 'allow_irreversible': consent}
    with pytest.raises(ConsentError, match='immutability_retention_days comes from module_defaults'):
        scope_arguments('vault_immutability', merged, {'id', 'immutability', 'allow_irreversible'})
    # From module_defaults, the same value is consent that never counts: set to false, with the warning.
    args, warnings = scope_arguments('vault_immutability', {'id': VID, 'immutability': 'enabled', 'allow_irreversible': consent}, {'id'})
    assert args['allow_irreversible'] is False and warnings
