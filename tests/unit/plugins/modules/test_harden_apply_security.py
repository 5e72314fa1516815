# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/_harden_apply.py with the vault security settings (issue 27), in process (the fake Azure of conftest.py):
the order of the steps (soft delete, the security settings, immutability last), consent for permanently_disabled, check
mode, and the results per setting."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_apply import PlanApplier

from tests.unit.builders import RS, arm_vault
from tests.unit.plugins.modules.test_harden_apply import REQUIREMENTS, plan, session, writes_of  # pylint: disable=unused-import  # noqa: F401 (fixture)

BASELINE = {'immutability': 'enabled', 'soft_delete': {'state': 'on', 'retention_days': 30},
            'cross_subscription_restore': 'permanently_disabled', 'public_network_access': 'disabled',
            'alerts': {'job_failure_alerts': 'enabled'}, 'customer_managed_keys': 'required', 'allow_irreversible': True}


def fleet(azure):
    vault = azure.add(arm_vault('rsv-open', immutability='disabled', soft_delete='on', days=14))
    props = azure.vault(vault['id'])['properties']
    props['restoreSettings'] = {'crossSubscriptionRestoreSettings': {'crossSubscriptionRestoreState': 'Enabled'}}
    props['publicNetworkAccess'] = 'Enabled'
    return vault


def test_soft_delete_then_each_security_setting_then_immutability(azure, session):  # noqa: F811
    vault = fleet(azure)
    drift = plan(azure, session, BASELINE)
    entry = drift[0]
    assert entry['actions']['cross_subscription_restore'] == 'permanently_disabled'
    assert [f['setting'] for f in entry['findings'] if not f['fixable']] == ['customer_managed_keys']
    done = PlanApplier(session, BASELINE, REQUIREMENTS, True, max_concurrency=2).apply(drift)
    writes = writes_of(azure, 'rsv-open')
    assert [op for op, _body in writes] == ['PATCH vaultconfig', 'PATCH', 'PATCH', 'PATCH', 'PATCH']
    assert [list(body['properties']) for _op, body in writes[1:]] == [
        ['restoreSettings'], ['publicNetworkAccess'], ['monitoringSettings'], ['securitySettings']]
    record = vault_record(azure.vault(vault['id']), RS)
    assert record['cross_subscription_restore'] == 'permanently_disabled' and record['public_network_access'] == 'disabled'
    assert record['alerts']['job_failure_alerts'] == 'enabled' and record['immutability'] == 'enabled'
    results = dict((action, [(r['item']['name'], r['changed'], r['failed']) for r in items]) for action, items in done['results'].items())
    assert results['cross_subscription_restore'] == [('rsv-open', True, False)]
    assert done['results']['cross_subscription_restore'][0]['changes'][0]['irreversible'] is True
    # Planned again, the vault has no drift left but the report-only finding.
    again = plan(azure, session, BASELINE)[0]
    assert again['changes'] == [] and [f['setting'] for f in again['findings']] == ['customer_managed_keys']


def test_without_the_tasks_consent_permanently_disabled_is_not_written(azure, session):  # noqa: F811
    vault = fleet(azure)
    drift = plan(azure, session, BASELINE)
    done = PlanApplier(session, BASELINE, REQUIREMENTS, False, max_concurrency=2).apply(drift)
    result = done['results']['cross_subscription_restore'][0]
    assert result['failed'] is True and 'allow_irreversible' in result['msg']
    assert vault_record(azure.vault(vault['id']), RS)['cross_subscription_restore'] == 'enabled'
    assert not any('restoreSettings' in body.get('properties', {}) for _op, body in writes_of(azure, 'rsv-open'))


def test_check_mode_writes_nothing_and_predicts(azure, session):  # noqa: F811
    fleet(azure)
    drift = plan(azure, session, BASELINE)
    done = PlanApplier(session, BASELINE, REQUIREMENTS, True, check_mode=True, max_concurrency=2).apply(drift)
    assert azure.writes == []
    assert [(r['changed'], r['changes'][0]['after']) for r in done['results']['public_network_access']] == [(True, 'disabled')]
