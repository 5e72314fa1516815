# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_discovery.guards: read_guards (the proxy reads, the refused ones returned) and guard_warning (the Resource Guard proxies
vault_immutability_info could not read, in one warning)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import guards
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.guards import guard_warning
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError


def test_no_failure_no_warning():
    assert guard_warning([]) == ''


def test_one_vault_named_with_why():
    text = guard_warning([("Recovery Services vault 'rsv-a' (resource group 'rg', subscription s)", 'HTTP 403 AuthorizationFailed: no')])
    assert text.startswith('a Resource Guard protects 1 vault whose Resource Guard proxy')
    assert text.endswith("Recovery Services vault 'rsv-a' (resource group 'rg', subscription s) (HTTP 403 AuthorizationFailed: no)")


def test_the_first_twenty_then_a_count():
    failures = [('vault-%02d' % index, 'HTTP 404 NotFound: gone') for index in range(25)]
    text = guard_warning(failures)
    assert 'protects 25 vaults' in text and 'vault-19 (HTTP 404' in text and 'vault-20' not in text
    assert text.endswith(' and 5 more')


def test_a_vault_label_cannot_drive_the_terminal():
    assert '\x1b' not in guard_warning([('vault\x1b[2J', 'HTTP 403 x: \n')])


GUARD = '/subscriptions/s/resourceGroups/rg-sec/providers/Microsoft.DataProtection/resourceGuards/g'


def _record(name):
    return {'subscription_id': 's', 'resource_group': 'rg', 'name': name, 'vault_type': 'recovery_services',
            'mua': {'protected': True, 'resource_guard_id': None, 'protected_operations': []}}


class _Backend:
    """A backend whose proxy read of a vault named 'refused-*' is refused with a 403, and of any other names GUARD."""

    def guard_proxies(self, ref):
        if ref.name.startswith('refused'):
            raise AzureOperationError('read resource guard proxy', ref.label, 403, 'AuthorizationFailed', 'no')
        return [{'properties': {'resourceGuardResourceId': GUARD, 'resourceGuardOperationDetails': [
            {'vaultCriticalOperation': 'Microsoft.RecoveryServices/vaults/backupconfig/write',
             'defaultResourceRequest': GUARD + '/disableSoftDeleteRequests/default'}]}}]


def test_read_guards_fills_the_read_ones_and_returns_the_refused_in_order(monkeypatch):
    monkeypatch.setattr(guards, 'backend', lambda session, vault_type: _Backend())
    records = [_record('refused-b'), _record('rsv-a'), _record('refused-a')]
    failures = guards.read_guards(None, records, max_concurrency=3)
    assert [label.split("'")[1] for label, _why in failures] == ['refused-b', 'refused-a']
    assert all(why == 'HTTP 403 AuthorizationFailed: no' for _label, why in failures)
    assert records[1]['mua'] == {'protected': True, 'resource_guard_id': GUARD, 'protected_operations': ['disableSoftDeleteRequests']}
    assert records[0]['mua']['resource_guard_id'] is None
    # harden_plan's words, one warning a vault, as before the split.
    warnings = guards.attach_guards(None, [_record('refused-c')])
    assert len(warnings) == 1 and "'refused-c'" in warnings[0] and 'could not be read from its proxy (HTTP 403' in warnings[0]


def test_read_guards_paces_as_the_other_vault_reads_do(monkeypatch):
    """The proxy reads take turns across subscriptions (ARM throttles per subscription) and run max_concurrency at once,
    as each vault's policies are read (fleet.each_vault); the results keep the records' order."""
    started = []

    class Recording(_Backend):
        def guard_proxies(self, ref):
            started.append(ref.name)
            return super().guard_proxies(ref)

    monkeypatch.setattr(guards, 'backend', lambda session, vault_type: Recording())
    records = [dict(_record(name), subscription_id=sub) for sub, name in (('s1', 'a1'), ('s1', 'refused-a2'), ('s1', 'a3'),
                                                                          ('s2', 'b1'), ('s2', 'refused-b2'))]
    failures = guards.read_guards(None, records, max_concurrency=1)
    assert started == ['a1', 'b1', 'refused-a2', 'refused-b2', 'a3']
    assert [label.split("'")[1] for label, _why in failures] == ['refused-a2', 'refused-b2']
    assert [record['mua']['resource_guard_id'] for record in records] == [GUARD, None, GUARD, GUARD, None]
