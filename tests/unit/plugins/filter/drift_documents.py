# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""drift.json documents the collection writes, with every optional section of the schema (tiers, lock_readiness,
discovery, azure_policy, scope_changes, errors and warnings), to edit by hand in the report filter tests."""

from __future__ import annotations

import json
import os

from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import merge_discovery, plan_run

from tests.unit.builders import SUB, SUB2, vault_id
from tests.unit.plugins.module_utils.test_readiness import TODAY, state_record

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
SCHEMA_PATH = os.path.join(ROOT, 'docs', 'drift-report-schema.json')
STAMP = '2026-03-02T00:00:00+00:00'
RS_IMMUTABILITY = '2514263b-bc0d-4b06-ac3e-f262c0979018'


def schema():
    with open(SCHEMA_PATH, encoding='utf-8') as handle:
        return json.load(handle)


def _vaults():
    """An ordinary vault (test_readiness: VM and SQL policies in use) that the prod tier locks, one it cannot lock yet (soft
    delete off), and one no tier matches."""
    return [
        state_record('rsv-ready', 'enabled', tags={'env': 'prod'}),
        state_record('rsv-soft-off', 'enabled', soft_delete={'state': 'off', 'retention_days': 14}, tags={'env': 'prod'}),
        state_record('rsv-dev', 'disabled'),
    ]


BASELINE = {
    'immutability': 'enabled', 'allow_irreversible': True, 'soft_delete': {'state': 'on', 'retention_days': 14},
    'retention': {'minimum': {'daily': '40d'}, 'mode': 'enforce'},
    'tiers': [{'name': 'prod', 'match': {'tags': {'env': 'prod'}}, 'immutability': 'locked'}],
}


def _discovery():
    return merge_discovery([{'discovery': {
        'requested': 'auto', 'source_by_subscription': {SUB: 'resource_graph', SUB2: 'arm'},
        'fallbacks': [{'subscription_id': SUB2, 'reason': 'not visible'}], 'data_time': '2026-03-01T23:00:00Z',
        'resource_graph': {'calls': 2, 'throttled': 0, 'waited_s': 0.0}, 'arm': {'requests': 3, 'waited_s': 0.0, 'throttled': 0},
        'elapsed_s': 1.0}}])


def _azure_policy():
    return {'definitions': [
        {'name': RS_IMMUTABILITY, 'id': '/providers/Microsoft.Authorization/policyDefinitions/' + RS_IMMUTABILITY,
         'display_name': 'Immutability must be enabled for Recovery Services vaults', 'version': '1.0.1-preview',
         'parameters': {'effect': 'Audit', 'checkLockedImmutabilityOnly': False}, 'effect': 'Audit', 'evaluated': True,
         'vault_type': 'recovery_services', 'vaults': 3, 'non_compliant': [vault_id('rsv-dev')],
         'help_uri': 'https://example.test/definition.json'}]}


def _scope_changes():
    left = {'id': vault_id('rsv-gone'), 'name': 'rsv-gone', 'reason': 'gone', 'code': 'ResourceNotFound', 'why': 'ARM answered 404'}
    return {'previous_report': {'generated_at': '2026-03-01T00:00:00+00:00', 'vaults': 5}, 'left': [left], 'read_again': [],
            'subscriptions_left': [], 'not_compared': [], 'skipped_entries': 0, 'accepted': True}


def entries():
    """The vault_drift entries of the run check_document() reports (plan_run's drift, as JSON)."""
    reads = [{'vaults': _vaults(), 'errors': []}]
    return json.loads(json.dumps(plan_run(reads, None, BASELINE, None, today=TODAY)['drift']))


def check_document():
    """A check-mode drift.json (its changes predicted) with every optional section."""
    reads = [{'vaults': _vaults(), 'errors': [{'scope': 'subscription ' + SUB2, 'message': 'AuthorizationFailed: no access'}]}]
    plan = plan_run(reads, None, BASELINE, None, today=TODAY)
    report = build_report(plan['drift'], {
        'check_mode': True, 'predict': True, 'timestamp': STAMP, 'baseline': plan['baseline'], 'errors': plan['report_errors'],
        'warnings': ["exclusion 'rsv-x' matched no vault"], 'discovery': _discovery(), 'azure_policy': _azure_policy(),
        'scope_changes': _scope_changes()})
    return json.loads(json.dumps(report))
