# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Consent rules of the state modules' action plugins: what module_defaults may and may not supply."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._consent import (
    FROM_FACTS,
    FROM_INVENTORY,
    MISSING,
    ConsentError,
    run_scoped_effective,
    run_scoped_refusal,
    run_scoped_unknown,
    scope_arguments,
    scope_plan_arguments,
)

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


# ---------------------------------------------------------------------------------------------
# Role variables: consent and a looser lock gate only from what is written for the run (run_scoped_refusal)

CONSENT_VAR = 'harden_backup_vaults_allow_irreversible'
REQ_VAR = 'harden_backup_vaults_lock_requirements'
LOOSE_REQ = {'require_soft_delete': None}


def refusal(part, effective, trusted=MISSING, ambient=MISSING, origin=FROM_INVENTORY, name=CONSENT_VAR):
    return run_scoped_refusal(part, name, effective, trusted, ambient, origin)


def test_consent_only_the_inventory_gives_is_refused_naming_the_variable_its_origin_and_where_to_give_it():
    message = refusal('allow_irreversible', True, ambient=True)
    assert message.startswith('harden_backup_vaults_allow_irreversible: true comes from the inventory (group_vars, host_vars, '
                              'inventory file variables or a vars plugin) and consents to irreversible changes')
    assert 'with -e (JSON for a dictionary), in the play\'s vars, as a role parameter' in message
    assert message.endswith('nothing was sent to Azure')
    assert 'comes from facts (set_fact' in refusal('allow_irreversible', True, ambient=True, origin=FROM_FACTS)


@pytest.mark.parametrize('trusted, ambient', [
    (True, MISSING),     # -e, the play's vars, a role parameter, the task's vars
    (True, True),        # the same consent in the inventory too (-e is in the ambient layer as well)
])
def test_consent_written_for_the_run_is_kept(trusted, ambient):
    assert refusal('allow_irreversible', True, trusted, ambient) is None


@pytest.mark.parametrize('trusted, ambient', [
    (MISSING, MISSING),  # neither layer: a play's vars_files, another role's vars/main.yml, a loop variable
    (False, False),      # the run says false and the inventory too: the consent came from elsewhere
    (False, MISSING),
])
def test_consent_no_source_written_for_the_run_gives_is_refused(trusted, ambient):
    """A play's vars_files or another role's vars consented (an irreversible lock): only the sources written for the run
    vouch for consent, not the absence of an inventory value."""
    message = refusal('allow_irreversible', True, trusted, ambient)
    assert message.startswith('harden_backup_vaults_allow_irreversible: true comes from a source not written for the run '
                              "(a play's vars_files, another role's vars or defaults, a loop variable, or dictionaries merged "
                              'with hash_behaviour = merge) and consents to irreversible changes'), message
    assert message.endswith('nothing was sent to Azure')


def test_lock_requirements_merged_from_the_inventory_into_the_runs_are_refused():
    """hash_behaviour = merge: the play's {max_retention: 100y} and the inventory's {require_soft_delete: null} made
    requirements neither layer gives; they loosen the gate, so they are refused."""
    effective = {'max_retention': '100y', 'require_soft_delete': None}
    message = refusal('lock_requirements', effective, trusted={'max_retention': '100y'}, ambient=dict(LOOSE_REQ), name=REQ_VAR)
    assert message and message.startswith('harden_backup_vaults_lock_requirements comes from a source not written for the run')


def test_the_roles_own_baseline_is_refused_only_when_the_inventory_or_facts_give_it():
    """harden_backup_vaults__baseline comes from the role's vars/main.yml (neither layer), built from the variables
    checked under their own names; only facts rank above that file."""
    baseline = {'immutability': 'locked', 'allow_irreversible': True, 'tiers': []}
    assert refusal('baseline', baseline, name='harden_backup_vaults__baseline') is None


def test_consent_from_set_fact_over_a_play_that_says_false_is_refused():
    """set_fact ranks above the play's vars: the trusted layer says false, the task received true from the facts."""
    assert 'comes from facts' in refusal('allow_irreversible', True, trusted=False, ambient=True, origin=FROM_FACTS)


def test_no_consent_needs_no_source():
    assert refusal('allow_irreversible', False, ambient=False) is None


def test_lock_requirements_looser_than_the_defaults_from_the_inventory_are_refused_stricter_ones_kept():
    message = refusal('lock_requirements', LOOSE_REQ, ambient=dict(LOOSE_REQ), name=REQ_VAR)
    assert message.startswith('harden_backup_vaults_lock_requirements comes from the inventory')
    assert 'is looser than the default lock requirements (require_soft_delete: null where the default is on)' in message
    strict = {'require_mua': True, 'max_retention': '10y'}
    assert refusal('lock_requirements', strict, ambient=dict(strict), name=REQ_VAR) is None


def test_lock_requirements_compare_as_the_plan_uses_them():
    """10y and P10Y are one requirement: the trusted layer's spelling gives the effective value."""
    effective = dict(LOOSE_REQ, max_retention='10y')
    assert refusal('lock_requirements', effective, trusted=dict(LOOSE_REQ, max_retention='P10Y'), ambient=effective, name=REQ_VAR) is None
    # A trusted value the task did not receive (set_fact over the play's vars) does not vouch for it.
    assert refusal('lock_requirements', effective, trusted={'max_retention': '10y'}, ambient=effective, name=REQ_VAR)


def test_a_tier_with_loose_lock_requirements_from_the_inventory_is_refused_naming_the_tier():
    tiers = [{'name': 'dev', 'match': {'names': ['*-dev-*']}},
             {'name': 'prod', 'match': {'tags': {'env': 'prod'}}, 'lock_requirements': {'no_unfixable_findings': False}}]
    message = refusal('tiers', tiers, ambient=tiers, name='harden_backup_vaults_baselines')
    assert 'gives lock requirements looser than the defaults (tier prod: no_unfixable_findings: false where the default is true)' \
        in message
    assert refusal('tiers', tiers[:1], ambient=tiers[:1], name='harden_backup_vaults_baselines') is None


def test_a_baseline_that_consents_from_facts_is_refused():
    """The role's internal baseline variable, set by set_fact, would carry consent past the consent variable."""
    baseline = {'immutability': 'locked', 'allow_irreversible': True, 'tiers': []}
    message = refusal('baseline', baseline, ambient=dict(baseline), origin=FROM_FACTS, name='harden_backup_vaults__baseline')
    assert 'harden_backup_vaults__baseline comes from facts' in message and 'consents to irreversible changes' in message
    assert refusal('baseline', dict(baseline, allow_irreversible=False), ambient=dict(baseline, allow_irreversible=False)) is None


def test_run_scoped_effective_reads_what_the_role_passed():
    args = {'baseline': {'allow_irreversible': 'yes', 'tiers': None}, 'lock_requirements': LOOSE_REQ}
    assert run_scoped_effective('allow_irreversible', args) is True
    assert run_scoped_effective('lock_requirements', args) == LOOSE_REQ
    assert run_scoped_effective('tiers', args) == []
    assert run_scoped_effective('baseline', args) is args['baseline']


def test_without_the_layers_a_value_that_needs_them_is_refused():
    assert 'cannot be told here' in run_scoped_unknown('allow_irreversible', CONSENT_VAR, True)
    assert run_scoped_unknown('allow_irreversible', CONSENT_VAR, False) is None
    assert run_scoped_unknown('lock_requirements', REQ_VAR, {'require_mua': True}) is None


def test_consent_messages_escape_what_shows_nothing():
    """A value in a consent refusal cannot hide or reorder text: right-to-left and zero-width characters are escaped."""
    from ansible_collections.vaultlock.azure.plugins.module_utils._consent import _plain
    assert _plain('10y\u202e') != '10y\u202e'
    assert '\u202e' not in _plain('10y\u202e') and '\u200b' not in _plain('a\u200bb')
    assert _plain('P10Y') == 'P10Y' and _plain(None) == 'null' and _plain(True) == 'true'


def test_a_template_of_the_run_that_gives_the_value_only_with_other_variables_is_refused_saying_what_it_reads():
    """The run's sources give "{{ lock_ok }}": by themselves nothing (MISSING), with the inventory's lock_ok true. The
    template message wins over the inventory's own (which would say the inventory gave it)."""
    message = run_scoped_refusal('allow_irreversible', CONSENT_VAR, True, MISSING, True, FROM_INVENTORY, True, 'reads lock_ok')
    assert message.startswith('harden_backup_vaults_allow_irreversible: true is given for the run as a template that reads '
                              'lock_ok, and consents to irreversible changes; a template counts only when every variable it '
                              'reads is itself written for the run, and never with a lookup'), message
    assert 'write the value itself there rather than a template' in message and message.endswith('nothing was sent to Azure')
    # The run's default (a template that gives true by itself) counts; so does a template that does not consent.
    assert run_scoped_refusal('allow_irreversible', CONSENT_VAR, True, True, True, FROM_INVENTORY, True, '') is None
    assert run_scoped_refusal('allow_irreversible', CONSENT_VAR, False, MISSING, True, FROM_INVENTORY, False, 'reads x') is None
    # The role's internal baseline overridden for the run with a template of the inventory's: refused too.
    baseline = {'immutability': 'locked', 'allow_irreversible': True, 'tiers': []}
    assert run_scoped_refusal('baseline', 'harden_backup_vaults__baseline', baseline, MISSING, MISSING, FROM_INVENTORY, baseline,
                              'reads site_baseline').startswith('harden_backup_vaults__baseline is given for the run as a template')
