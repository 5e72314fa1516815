# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What harden_plan refuses itself when ansible-core's check of the role's argument spec did not run (--skip-tags always,
rolespec_validate: false, or a play that calls the action directly): a baseline choice in another letter case or empty
(ENFORCE was read as enforce and the run raised policies), a text option given a dictionary, a list or a boolean
(ansible-core's conversion made the text {'a': 1} of it), and a report_dir whose text reads as one."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError, text_option_refusal
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import TargetError, check_written_choices, plan_run
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import PLAN_ARGSPEC, check_inputs, not_a_path

REFUSED = [
    ({'retention': {'minimum': {'daily': '30d'}, 'mode': 'ENFORCE'}}, "baseline.retention.mode must be one of report, enforce, written so"),
    ({'retention_mode': 'Enforce'}, "baseline.retention_mode must be one of report, enforce"),
    ({'retention': {'minimum': {'daily': '30d'}, 'mode': ' enforce'}}, "got ' enforce'"),
    ({'immutability': 'ENABLED'}, "baseline.immutability must be one of disabled, enabled, locked, written so"),
    ({'immutability': 'Unlocked'}, "got 'Unlocked'"),
    ({'immutability': ''}, "baseline.immutability is '' (from a variable that came out empty?)"),
    ({'soft_delete': {'state': 'ON'}}, "baseline.soft_delete.state must be one of off, on, always_on"),
    ({'soft_delete': {'state': 'AlwaysOn'}}, "got 'AlwaysOn'"),
    ({'cross_subscription_restore': 'PermanentlyDisabled', 'allow_irreversible': True}, 'baseline.cross_subscription_restore must be one of'),
    ({'public_network_access': 'DISABLED'}, 'baseline.public_network_access must be one of disabled, enabled'),
    ({'customer_managed_keys': 'Required'}, 'baseline.customer_managed_keys must be one of required'),
    ({'cross_region_restore': '  '}, "baseline.cross_region_restore is '  '"),
    ({'tiers': [{'name': 'prod', 'match': {'names': ['rsv-*']}, 'retention_mode': 'ENFORCE'}]},
     'harden_backup_vaults_baselines[0].retention_mode must be one of report, enforce'),
    ({'tiers': [{'name': 'prod', 'match': {'names': ['rsv-*']}, 'immutability': 'Locked'}], 'allow_irreversible': True},
     'harden_backup_vaults_baselines[0].immutability must be one of'),
]


@pytest.mark.parametrize('baseline, message', REFUSED, ids=[m for _b, m in REFUSED])
def test_a_choice_not_written_as_the_roles_argument_spec_takes_it_is_refused(baseline, message):
    with pytest.raises(TargetError) as info:
        check_written_choices(baseline)
    assert message in str(info.value) and str(info.value).endswith('nothing was sent to Azure'), str(info.value)


def test_choices_as_written_nulls_booleans_and_the_roles_defaults_pass():
    check_written_choices({'immutability': 'enabled', 'retention': {'minimum': {'daily': '30d'}, 'mode': 'enforce'},
                           'retention_mode': 'report', 'soft_delete': {'state': True, 'retention_days': 14},
                           'cross_subscription_restore': None, 'customer_managed_keys': 'required',
                           'storage_redundancy': ['georedundant'], 'alerts': {'job_failure_alerts': 'Enabled'},
                           'tiers': [{'name': 'dev', 'match': {'names': ['*-dev-*']}, 'retention_mode': 'report'}]})
    check_written_choices(None)
    # The filters keep reading any casing (vault records and hand-made baselines): only harden_plan holds the role's spelling.
    assert plan_run([], [], {'immutability': 'Enabled'})['baseline']['immutability'] == 'enabled'


@pytest.mark.parametrize('value, kind', [({'a': 1}, 'dict'), (['reports'], 'list'), (True, 'bool true')])
def test_a_text_option_given_a_dictionary_a_list_or_a_boolean_is_refused_naming_it(value, kind):
    message = text_option_refusal({'report_dir': value, 'baseline': {}}, PLAN_ARGSPEC)
    assert message == 'report_dir must be text, got %s; nothing was sent to Azure' % kind


def test_a_secret_given_as_a_dictionary_is_refused_without_its_value():
    message = text_option_refusal({'secret': {'value': 's3cr3t-value'}}, {'secret': {'type': 'str', 'no_log': True}})
    assert message == 'secret must be text, got dict; nothing was sent to Azure'
    assert text_option_refusal({'report_dir': 'reports', 'max_concurrency': 4, 'baseline': {'a': 1}}, PLAN_ARGSPEC) is None


@pytest.mark.parametrize('text, reads_as', [('{"a":1}', 'a dictionary'), (" {'a': 1} ", 'a dictionary'), ('[1]', 'a list'),
                                            ('None', 'null'), ('null', 'null'), ('~', 'null'), ('True', 'a boolean'),
                                            ('false', 'a boolean'), ('reports/harden_backup_vaults', None),
                                            ('reports/{a}', None), ('nonesuch', None)])
def test_a_report_dir_that_reads_as_no_text_is_named(text, reads_as):
    assert not_a_path(text) == reads_as


@pytest.mark.parametrize('text', ['on', 'Off', ' ON ', 'NULL', 'Yes'])
def test_the_other_yaml_booleans_and_nulls_read_as_no_directory(text):
    """PyYAML, which reads Ansible's YAML, takes on and off (YAML 1.1) as booleans as it takes yes and no; their text as
    report_dir (quoted, or from -e report_dir=off) is a value meant for another variable. y and n are text to PyYAML."""
    assert not_a_path(text) in ('a boolean', 'null')
    assert not_a_path('y') is None and not_a_path('n') is None and not_a_path('./on') is None


def test_a_directory_really_named_like_a_boolean_or_null_can_still_be_given():
    """The refusal says how to give a directory that is really named none, yes or on: with its path (./none), which is
    taken as written."""
    with pytest.raises(InputError) as raised:
        check_inputs({'report_dir': 'none', 'vaults': [], 'discover': True})
    assert "report_dir 'none' reads as null, not as a directory" in str(raised.value)
    assert "a directory really named so is given with its path, ./none" in str(raised.value), str(raised.value)
    assert not_a_path('./none') is None


@pytest.mark.parametrize('baseline, where', [({'soft_delete': {'state': False}}, 'baseline.soft_delete.state'),
                                             ({'immutability': True}, 'baseline.immutability')])
def test_a_choice_yaml_read_as_a_boolean_is_refused_saying_to_quote_it(baseline, where):
    """Where ansible-core's check of the role's variables did not run (it maps an unquoted off back to the choice), an
    unquoted off or on reaches the plan as a boolean: refused, before any request, saying why and how to write it."""
    from ansible_collections.vaultlock.azure.plugins.module_utils._drift import DriftError, validate_baseline
    with pytest.raises(DriftError) as raised:
        validate_baseline(baseline)
    message = str(raised.value)
    assert message.startswith(where + ' must be one of ')
    assert "YAML reads an unquoted off, on, yes or no as a boolean: quote the value, as 'off'" in message
    with pytest.raises(DriftError) as raised:
        validate_baseline({'immutability': 'lockd'})
    assert 'boolean' not in str(raised.value)
