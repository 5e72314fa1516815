# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harden_plan's baseline check names the role variable behind a baseline dictionary that is not one, with its JSON
form for -e (issue 26): what a user who gave -e harden_backup_vaults_retention_minimum=daily:30d must type instead."""

from __future__ import annotations

import json

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import validate_baseline
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import DriftError


@pytest.mark.parametrize('baseline, variable, example', [
    ({'retention': {'minimum': 'daily:30d', 'mode': 'report'}}, 'harden_backup_vaults_retention_minimum', {'daily': '30d'}),
    ({'soft_delete': 'state=on'}, 'harden_backup_vaults_soft_delete', {'state': 'on', 'retention_days': 14}),
])
def test_a_baseline_value_that_is_no_dictionary_names_the_role_variable_and_its_json_form(baseline, variable, example):
    with pytest.raises(DriftError) as caught:
        validate_baseline(baseline)
    message = str(caught.value)
    assert 'must be a dictionary' in message and variable in message, message
    shown = message.split("-e '", 1)[1].rstrip("'")
    assert json.loads(shown) == {variable: example}


def test_a_baseline_dictionary_without_a_role_variable_gets_no_hint():
    with pytest.raises(DriftError) as caught:
        validate_baseline({'retention': 'daily'})
    assert 'baseline.retention must be a dictionary' in str(caught.value)
    assert "-e '" not in str(caught.value)      # the role always builds baseline.retention as a dictionary
