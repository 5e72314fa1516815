# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durations and their comparison (plugins/module_utils/_retention.py)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, strategies as st

from ansible_collections.vaultlock.azure.plugins.module_utils._retention import (
    Duration,
    RetentionError,
    is_reduction,
    meets,
    parse_duration,
    raised_duration,
)

UNITS = ('years', 'months', 'weeks', 'days')


@pytest.mark.parametrize('text, parts, iso, short, min_days, max_days', [
    ('30d', (('days', 30),), 'P30D', '30d', 30, 30),
    ('30D', (('days', 30),), 'P30D', '30d', 30, 30),
    (' 12w ', (('weeks', 12),), 'P12W', '12w', 84, 84),
    ('12m', (('months', 12),), 'P12M', '12m', 365, 366),   # twelve months are a year
    ('13m', (('months', 13),), 'P13M', '13m', 365 + 28, 366 + 31),
    ('7y', (('years', 7),), 'P7Y', '7y', 2555, 2562),
    ('1y6m', (('years', 1), ('months', 6)), 'P1Y6M', '1y6m', 365 + 168, 366 + 186),
    ('P7D', (('days', 7),), 'P7D', '7d', 7, 7),
    ('P12W', (('weeks', 12),), 'P12W', '12w', 84, 84),
    ('P3M', (('months', 3),), 'P3M', '3m', 84, 93),
    ('P1Y', (('years', 1),), 'P1Y', '1y', 365, 366),
    ('P1Y6M', (('years', 1), ('months', 6)), 'P1Y6M', '1y6m', 533, 552),
    ('P30D', (('days', 30),), 'P30D', '30d', 30, 30),
    ('p1w', (('weeks', 1),), 'P1W', '1w', 7, 7),
])
def test_parse_duration_accepts(text, parts, iso, short, min_days, max_days):
    duration = parse_duration(text)
    assert duration.parts == parts
    assert duration.iso == iso
    assert duration.short == short
    assert str(duration) == short
    assert duration.min_days == min_days
    assert duration.max_days == max_days


def test_single_unit_count_and_unit():
    duration = parse_duration('P12W')
    assert (duration.count, duration.unit, duration.single) == (12, 'weeks', True)
    mixed = parse_duration('P1Y6M')
    assert (mixed.count, mixed.unit, mixed.single) == (None, None, False)


@pytest.mark.parametrize('text', ['30x', '-5d', 'P0D', '0d', 'PT1H', '', '   ', 'P', 'd', '30', 'P1.5Y', '5 days',
                                  'P7DT1H', 'P1D1Y', '1d1y', '+5d', 'P-1D', 'R/2020-01-01/P1D', '\u0663d'])
def test_parse_duration_rejects(text):
    with pytest.raises(RetentionError) as info:
        parse_duration(text)
    message = str(info.value)
    assert repr(text) in message
    assert '30d' in message and 'P1Y6M' in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize('value', [None, 30, 7.0, ['7d']])
def test_parse_duration_rejects_non_strings(value):
    with pytest.raises(RetentionError):
        parse_duration(value)


def test_duration_constructors():
    assert Duration.from_rs({'count': 30, 'durationType': 'Days'}) == Duration((('days', 30),))
    assert Duration.from_rs({'count': 2, 'durationType': 'months'}).iso == 'P2M'
    assert Duration.from_days(5).iso == 'P5D'
    assert Duration.from_days(14.0).iso == 'P14D'
    assert Duration.of(12, 'Weeks').iso == 'P12W'
    assert Duration.of(1, 'year').iso == 'P1Y'
    assert Duration.of(3, 'days').to_rs() == {'count': 3, 'durationType': 'Days'}
    for bad in [{'count': 0, 'durationType': 'Days'}, {'count': 3, 'durationType': 'Invalid'}, {'count': None, 'durationType': 'Days'},
                {'count': True, 'durationType': 'Days'}, {'count': '3', 'durationType': 'Days'}, None, 'P3D']:
        with pytest.raises(RetentionError):
            Duration.from_rs(bad)
    for bad in [0, -1, None, 2.5, '5', True]:
        with pytest.raises(RetentionError):
            Duration.from_days(bad)
    with pytest.raises(RetentionError):
        Duration((('days', 1), ('weeks', 1)))
    with pytest.raises(RetentionError):
        Duration(())
    with pytest.raises(RetentionError):
        parse_duration('P1Y6M').to_rs()


@pytest.mark.parametrize('have, need, expected', [
    ('30d', '30d', True),
    ('29d', '30d', False),
    ('4w', '28d', True),
    ('28d', '4w', True),
    ('4w', '30d', False),
    ('30d', '4w', True),
    ('12m', '1y', True),
    ('1y', '12m', True),
    ('11m', '1y', False),
    ('1m', '30d', False),   # a kept month may be 28 days
    ('30d', '1m', False),   # a required month may be 31 days
    ('31d', '1m', True),
    ('5w', '1m', True),     # 35 >= 31
    ('1y', '365d', True),
    ('1y', '366d', False),
    ('366d', '1y', True),
    ('P1Y6M', '18m', True),
    ('P1M3D', '31d', True),     # 28 + 3
    ('P1M3D', '32d', False),
    ('12m', '365d', True),
    ('P1M3D', 'P1M', True),
    ('P1M', 'P1M3D', False),
    ('P1Y1W', 'P1Y1W', True),
])
def test_meets(have, need, expected):
    assert meets(have, need) is expected


@pytest.mark.parametrize('before, after, expected', [
    ('30d', '4w', True),
    ('4w', '30d', False),
    ('P1M', 'P4W', True),
    ('P4W', 'P1M', False),
    ('30d', '1m', True),
    ('1m', '31d', False),
    ('12m', '1y', False),
    ('1y', '12m', False),
    ('7d', '7d', False),
    ('30d', '29d', True),
    ('P1Y', 'P11M', True),
])
def test_is_reduction(before, after, expected):
    assert is_reduction(before, after) is expected


# Recovery Services tiers only: a Backup vault policy is never raised (_retention.DP_NO_UPDATE), so no ISO deleteAfter
# is ever chosen for one (test_retention_baseline::test_a_backup_vault_policy_is_never_raised).
@pytest.mark.parametrize('have, need, tier, expected', [
    ('7d', '30d', 'daily', 'P30D'),
    ('7d', '1m', 'daily', 'P31D'),
    ('1w', '30d', 'weekly', 'P5W'),
    ('1m', '30d', 'monthly', 'P2M'),
    ('1m', '1y', 'monthly', 'P12M'),
    ('1y', '18m', 'yearly', 'P2Y'),
    ('5d', '2w', 'instant', 'P14D'),
])
def test_raised_duration(have, need, tier, expected):
    assert raised_duration(have, need, tier).iso == expected


# ------------------------------------------------------------------ properties

def durations(max_count=5000):
    return st.lists(st.tuples(st.sampled_from(UNITS), st.integers(1, max_count)), min_size=1, max_size=4, unique_by=lambda p: p[0]).map(
        lambda parts: Duration(tuple(sorted(parts, key=lambda p: UNITS.index(p[0])))))


single = st.builds(Duration.of, st.integers(1, 5000), st.sampled_from(UNITS))


@given(durations())
def test_round_trip_iso_and_short(duration):
    assert parse_duration(duration.iso) == duration
    assert parse_duration(duration.short) == duration
    assert parse_duration(duration.iso.lower()) == duration
    assert parse_duration(duration.short.upper()) == duration
    assert parse_duration(parse_duration(duration.short).iso).short == duration.short


@given(durations())
def test_days_bounds(duration):
    assert 0 < duration.min_days <= duration.max_days


@given(durations())
def test_meets_is_reflexive(duration):
    assert meets(duration, duration)
    assert meets(duration.iso, duration.short)
    assert not is_reduction(duration, duration)


@given(durations(), durations())
def test_meets_consistent_with_days(have, need):
    if have.min_days >= need.max_days:
        assert meets(have, need)
    if meets(have, need):
        # meeting never claims more than the longest the policy could keep
        assert have.max_days >= need.min_days
    if not meets(have, need):
        # is_reduction is the stricter, refusing side (an immutable vault's unpublished cross-unit rule)
        assert is_reduction(need, have)


@given(durations(), durations(), durations())
def test_meets_is_transitive(a, b, c):
    if meets(a, b) and meets(b, c):
        assert meets(a, c)


@given(st.integers(1, 5000), st.sampled_from(UNITS), durations())
def test_meets_is_monotone_in_count(count, unit, need):
    if meets(Duration.of(count, unit), need):
        assert meets(Duration.of(count + 1, unit), need)


@given(single, durations(), st.sampled_from(['daily', 'default', 'instant']))
def test_raised_duration_meets_and_never_lowers(have, need, tier):
    raised = raised_duration(have, need, tier)
    assert meets(raised, need)
    if not meets(have, need):
        assert meets(raised, have)
        assert not is_reduction(have, raised)
    if tier != 'instant':
        assert raised.unit == have.unit


@given(single, durations())
def test_raised_rs_is_smallest_in_unit(have, need):
    # Only too-short tiers are raised; the value must meet the minimum and never keep less than before.
    assume(not meets(have, need))
    raised = raised_duration(have, need, 'daily')
    if raised.count > 1:
        smaller = Duration.of(raised.count - 1, raised.unit)
        assert not (meets(smaller, need) and meets(smaller, have))


@given(st.text(max_size=12))
def test_parse_never_crashes_otherwise(text):
    try:
        duration = parse_duration(text)
    except RetentionError:
        return
    assert parse_duration(duration.iso) == duration
