# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Soft delete planner over every current state x requested state x consent x kind, and the API mapping."""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.soft_delete import config_body, plan, vault_patch
from ansible_collections.vaultlock.azure.plugins.module_utils._soft_delete import (
    RANK,
    SoftDeleteError,
    differences,
    from_api,
    normalise_choice,
    settings_of,
    to_api,
    validate_days,
)

KINDS = ('recovery_services', 'backup')

# (current, desired, consent) -> the state changes expected ([] = none), or the error text expected. Written by hand.
EXPECTED = {
    ('off', None, False): [],
    ('off', 'off', False): [],
    ('off', 'on', False): [('off', 'on')],
    ('off', 'on', True): [('off', 'on')],
    ('off', 'always_on', False): 'cannot be undone',
    ('off', 'always_on', True): [('off', 'always_on')],
    ('on', None, False): [],
    ('on', 'off', False): [('on', 'off')],
    ('on', 'off', True): [('on', 'off')],
    ('on', 'on', False): [],
    ('on', 'always_on', False): 'cannot be undone',
    ('on', 'always_on', True): [('on', 'always_on')],
    ('always_on', None, False): [],
    ('always_on', 'off', False): 'irreversible',
    ('always_on', 'off', True): 'irreversible',
    ('always_on', 'on', False): 'irreversible',
    ('always_on', 'on', True): 'irreversible',
    ('always_on', 'always_on', False): [],
    ('always_on', 'always_on', True): [],
}


def settings(kind, state, days=14):
    return {'state': state, 'retention_days': days, 'enhanced_security': state if kind == 'recovery_services' else None}


@pytest.mark.parametrize('kind,current,desired,consent', [(k, c, d, a) for k, (c, d, a) in itertools.product(KINDS, EXPECTED)])
def test_every_transition(kind, current, desired, consent):
    expected = EXPECTED[(current, desired, consent)]
    if isinstance(expected, str):
        with pytest.raises(SoftDeleteError) as err:
            plan(kind, settings(kind, current), desired, None, consent, 'vault-a')
        assert expected in str(err.value)
        assert "'vault-a'" in str(err.value)
        return
    changes, target = plan(kind, settings(kind, current), desired, None, consent, 'vault-a')
    state_changes = [(c['before'], c['after']) for c in changes if c['setting'] == 'soft_delete']
    assert state_changes == expected
    if kind == 'recovery_services':
        # enhanced security (hybrid workloads) moves with the state
        assert [(c['before'], c['after']) for c in changes if c['setting'] == 'enhanced_security'] == expected
    else:
        assert not [c for c in changes if c['setting'] == 'enhanced_security']
    assert target['state'] == (desired or current)
    assert target['retention_days'] == 14


def test_soft_delete_error_is_an_input_error():
    # VaultlockModule.run turns InputError into fail_json (no traceback).
    assert issubclass(SoftDeleteError, InputError)


@pytest.mark.parametrize('kind', KINDS)
def test_leaving_always_on_names_vault_kind_and_states(kind):
    with pytest.raises(SoftDeleteError) as err:
        plan(kind, settings(kind, 'always_on'), 'on', None, True, 'v1')
    text = str(err.value)
    assert ('Recovery Services vault' if kind == 'recovery_services' else 'Backup vault') in text
    assert 'AlwaysOn' in text and 'soft_delete=on' in text and "'v1'" in text


def test_rs_enhanced_security_always_on_alone_is_irreversible_too():
    current = {'state': 'on', 'retention_days': 14, 'enhanced_security': 'always_on'}
    with pytest.raises(SoftDeleteError) as err:
        plan('recovery_services', current, 'on', None, True, 'v')
    assert 'enhanced security' in str(err.value)


def test_rs_enhanced_security_catching_up_to_always_on_needs_consent():
    current = {'state': 'always_on', 'retention_days': 14, 'enhanced_security': 'on'}
    with pytest.raises(SoftDeleteError):
        plan('recovery_services', current, 'always_on', None, False, 'v')
    changes = plan('recovery_services', current, 'always_on', None, True, 'v')[0]
    assert changes == [{'setting': 'enhanced_security', 'before': 'on', 'after': 'always_on', 'irreversible': True}]


def test_rs_enhanced_security_drift_is_a_change():
    current = {'state': 'on', 'retention_days': 30, 'enhanced_security': 'off'}
    changes, target = plan('recovery_services', current, 'on', None, False, 'v')
    assert changes == [{'setting': 'enhanced_security', 'before': 'off', 'after': 'on', 'irreversible': False}]
    assert target == {'state': 'on', 'retention_days': 30, 'enhanced_security': 'on'}


# (current state, current days, desired state, desired days) -> expected target days or error text
DAYS = [
    ('on', 14, None, 30, 30),
    ('on', 30, None, 30, 30),
    ('on', 30, 'on', None, 30),
    ('always_on', 20, None, 180, 180),
    ('off', 45, 'on', None, 45),          # turning on keeps the vault's retention
    ('off', None, 'on', None, 14),        # Azure reported none: 14 days
    ('on', None, 'on', None, 14),
    ('off', 14, 'off', None, 14),         # off keeps (and sends) what is there
    ('on', 30, 'off', None, 30),
    ('off', 14, None, 30, 'applies only while soft delete is on'),
    ('on', 14, 'off', 30, 'applies only while soft delete is on'),
    ('on', 14, 'on', 13, 'between 14 and 180'),
    ('on', 14, 'on', 181, 'between 14 and 180'),
    ('on', 14, 'on', 0, 'between 14 and 180'),
]


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('cur_state,cur_days,state,days,expected', DAYS)
def test_retention_days(kind, cur_state, cur_days, state, days, expected):
    current = settings(kind, cur_state, cur_days)
    if isinstance(expected, str):
        with pytest.raises(SoftDeleteError) as err:
            plan(kind, current, state, days, True, 'v')
        assert expected in str(err.value)
        return
    changes, target = plan(kind, current, state, days, True, 'v')
    assert target['retention_days'] == expected
    day_changes = [c for c in changes if c['setting'] == 'soft_delete_retention_days']
    assert day_changes == ([] if expected == cur_days else
                           [{'setting': 'soft_delete_retention_days', 'before': cur_days, 'after': expected, 'irreversible': False}])


@pytest.mark.parametrize('days', [14, 15, 90, 179, 180])
def test_validate_days_bounds_inclusive(days):
    assert validate_days(days) == days


@pytest.mark.parametrize('days', [13, 181, -1, True, 14.5, '30'])
def test_validate_days_refuses(days):
    with pytest.raises(SoftDeleteError):
        validate_days(days)


def test_unknown_state_with_nothing_asked_is_left_alone():
    current = {'state': None, 'retention_days': None, 'enhanced_security': None}
    assert plan('backup', current, None, None)[0] == []
    # What the vault keeps is unknown (softDeleteSettings null in a recorded create answer, then Enabled 14 days): the
    # default 14 days are never written to it, they could shorten a longer retention.
    with pytest.raises(SoftDeleteError, match='reports no soft delete state .* give retention_days'):
        plan('backup', current, 'on')
    changes, target = plan('backup', current, 'on', 30)
    assert changes == [{'setting': 'soft_delete', 'before': None, 'after': 'on', 'irreversible': False},
                       {'setting': 'soft_delete_retention_days', 'before': None, 'after': 30, 'irreversible': False}]
    assert target['state'] == 'on'
    assert plan('backup', current, 'off')[1]['state'] == 'off'


# Every API spelling seen: RS vault and config API (Enabled/Disabled/AlwaysON; request AlwaysOn), DP (On/Off/AlwaysOn).
@pytest.mark.parametrize('api,state', [
    ('Enabled', 'on'), ('Disabled', 'off'), ('AlwaysON', 'always_on'), ('AlwaysOn', 'always_on'), ('alwayson', 'always_on'),
    ('On', 'on'), ('Off', 'off'), ('ENABLED', 'on'), (None, None), ('', None), ('Invalid', None)])
def test_from_api(api, state):
    assert from_api(api) == state


@pytest.mark.parametrize('kind,state,api', [
    ('recovery_services', 'off', 'Disabled'), ('recovery_services', 'on', 'Enabled'), ('recovery_services', 'always_on', 'AlwaysON'),
    ('backup', 'off', 'Off'), ('backup', 'on', 'On'), ('backup', 'always_on', 'AlwaysOn')])
def test_to_api_and_back(kind, state, api):
    assert to_api(kind, state) == api
    assert from_api(api) == state


@pytest.mark.parametrize('value,state', [('ON', 'on'), ('Always_On', 'always_on'), ('always-on', 'always_on'),
                                         ('alwayson', 'always_on'), (None, None)])
def test_normalise_choice(value, state):
    assert normalise_choice(value) == state


@pytest.mark.parametrize('value', ['enabled', 'true', 'locked', ''])
def test_normalise_choice_refuses(value):
    with pytest.raises(SoftDeleteError):
        normalise_choice(value)


def test_settings_of_both_kinds():
    rs = {'vault_type': 'recovery_services', 'soft_delete': {'state': 'always_on', 'retention_days': 14}, 'enhanced_security': 'on'}
    assert settings_of(rs) == {'state': 'always_on', 'retention_days': 14, 'enhanced_security': 'on'}
    dp = {'vault_type': 'backup', 'soft_delete': {'state': 'on', 'retention_days': 14.0}, 'enhanced_security': None}
    assert settings_of(dp) == {'state': 'on', 'retention_days': 14, 'enhanced_security': None}
    assert isinstance(settings_of(dp)['retention_days'], int)
    assert settings_of({'vault_type': 'backup'}) == {'state': None, 'retention_days': None, 'enhanced_security': None}


def test_from_api_refuses_unknown_values():
    with pytest.raises(SoftDeleteError):
        from_api('Frozen')


def test_bodies_carry_only_soft_delete():
    target = {'state': 'always_on', 'retention_days': 30, 'enhanced_security': 'always_on'}
    assert config_body(target) == {'properties': {'softDeleteFeatureState': 'AlwaysON', 'enhancedSecurityState': 'AlwaysON',
                                                  'softDeleteRetentionPeriodInDays': 30}}
    assert vault_patch('recovery_services', target) == {'properties': {'securitySettings': {'softDeleteSettings': {
        'softDeleteState': 'AlwaysON', 'enhancedSecurityState': 'AlwaysON', 'softDeleteRetentionPeriodInDays': 30}}}}
    body = vault_patch('backup', {'state': 'on', 'retention_days': 14, 'enhanced_security': None})
    assert body == {'properties': {'securitySettings': {'softDeleteSettings': {'state': 'On', 'retentionDurationInDays': 14.0}}}}
    assert isinstance(body['properties']['securitySettings']['softDeleteSettings']['retentionDurationInDays'], float)


def test_differences():
    target = {'state': 'on', 'retention_days': 30, 'enhanced_security': 'on'}
    assert differences('recovery_services', dict(target), target) == []
    have = {'state': 'off', 'retention_days': 14, 'enhanced_security': 'off'}
    assert differences('recovery_services', have, target) == [
        ('soft_delete', 'off', 'on'), ('enhanced_security', 'off', 'on'), ('soft_delete_retention_days', 14, 30)]
    # retention is not compared when soft delete is off
    off = {'state': 'off', 'retention_days': 14, 'enhanced_security': None}
    assert differences('backup', {'state': 'off', 'retention_days': 99, 'enhanced_security': None}, off) == []


def test_rank_is_the_strength_order():
    assert RANK['always_on'] > RANK['on'] > RANK['off']


def test_unknown_kind():
    with pytest.raises(SoftDeleteError):
        plan('storage', settings('backup', 'on'), 'on')
    with pytest.raises(SoftDeleteError):
        to_api('storage', 'on')
