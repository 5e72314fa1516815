# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Baselines per tier: the fleet, the tiers and what a run changes, which tests/integration/test_role_tiers_steps.py
plays through the harden_backup_vaults role against the emulator (one run with a prod tier, locked, by tag, and a dev
tier, enabled, by name pattern, locks the prod vaults of both kinds and leaves the dev vaults enabled; check mode with diff
predicts exactly that and writes nothing; a tier that would lock without consent is refused before any request)."""

from __future__ import annotations

import pytest

from tests.emulator import generator as templates
from tests.integration.fleets import RG, SUB1, vault
from tests.integration.test_harden_role import Harden, pol, policy_retention

DAILY_WEAK = {'count': 7, 'durationType': 'Days'}


def tier_fleet():
    """Prod and dev vaults of both kinds. Tag names compare case-insensitively (ENV=prod is prod), values case-sensitively
    (env=Prod is not); rsv-prod-dev-01 is prod by tag and dev by name, so the order of the tiers decides (prod first)."""
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-prod-01', 'recovery_services', 'enabled', tags={'env': 'prod'},
                  policies=[pol('VMWeak', templates.iaas_v1(True))]),
            vault('bv-prod-01', 'backup', 'disabled', tags={'ENV': 'prod'}, policies=[pol('BlobDaily', templates.dp_blob(False))]),
            vault('rsv-prod-dev-01', 'recovery_services', 'unset', tags={'env': 'prod'}),
            vault('rsv-app-dev-01', 'recovery_services', 'disabled', policies=[pol('VMWeak', templates.iaas_v1(True))]),
            vault('bv-app-dev-01', 'backup', 'unset', tags={'env': 'Prod'}),
            vault('rsv-shared', 'recovery_services', 'enabled'),
        ]}]}]}


KINDS = {'rsv-prod-01': 'recovery_services', 'bv-prod-01': 'backup', 'rsv-prod-dev-01': 'recovery_services',
         'rsv-app-dev-01': 'recovery_services', 'bv-app-dev-01': 'backup', 'rsv-shared': 'recovery_services'}
TIERS = {'rsv-prod-01': 'prod', 'bv-prod-01': 'prod', 'rsv-prod-dev-01': 'prod',
         'rsv-app-dev-01': 'dev', 'bv-app-dev-01': 'dev', 'rsv-shared': 'default'}
# The default tier checks no retention; only the prod tier does (and raises it: enforce).
TWO_TIERS = {
    'harden_backup_vaults_retention_minimum': {},
    'harden_backup_vaults_retention_mode': 'enforce',
    'harden_backup_vaults_baselines': [
        {'name': 'prod', 'match': {'tags': {'env': 'prod'}}, 'immutability': 'locked', 'retention_minimum': {'daily': '30d'}},
        {'name': 'dev', 'match': {'names': ['*-dev-*']}, 'immutability': 'enabled'},
    ],
}
# What a run changes per vault: (setting, after) in the order the role applies them.
EXPECTED = {
    'rsv-prod-01': [('retention', 'P30D'), ('immutability', 'locked')],
    'bv-prod-01': [('immutability', 'enabled'), ('immutability', 'locked')],
    'rsv-prod-dev-01': [('immutability', 'enabled'), ('immutability', 'locked')],
    'rsv-app-dev-01': [('immutability', 'enabled')],
    'bv-app-dev-01': [('immutability', 'enabled')],
}


@pytest.fixture
def harden(runner, tmp_path):
    return Harden(runner, tmp_path)


@pytest.fixture
def tiered(emulator):
    emulator.load_fleet(tier_fleet())
    emulator.clear_journal()


def changes(report):
    return {c['name']: [(x['setting'], x['after']) for x in c['changes']] for c in report['changed']}


def daily(emulator, name):
    props = policy_retention(emulator, name, 'VMWeak')
    return props['retentionPolicy']['dailySchedule']['retentionDuration']


# The tests: tests/integration/test_role_tiers_steps.py (each scenario's check, apply and check again as one
# ansible-playbook run; the bad tiers as one run).
