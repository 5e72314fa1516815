# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The Resource Guard of the vaults a baseline associates with one, read from each vault's Resource Guard proxy.

A live vault GET says that a guard protects the vault (Recovery Services ``securitySettings.multiUserAuthorization``
Enabled, Backup vaults ``isVaultProtectedByResourceGuard``) and names no guard (tests/fixtures/azure-real/ps-rs-mua: no
``resourceGuardOperationRequests``; the REST spec sends that field in writes only). Which guard it is, is the vault's proxy's
(``GET {vault id}/backupResourceGuardProxies``: ``properties.resourceGuardResourceId``), as az CLI and Azure PowerShell
read it. Without it, a baseline ``resource_guard_id`` on a vault already associated with that guard would be a finding no
run fixes.

One read a vault, and only for the vaults the caller picks (_tiers.guard_reads: a protected vault naming no guard whose
tier's baseline names one), through the session's ARM read pipeline (paced per subscription, retried like every read)
and ``fleet.for_each_vault``'s concurrency, interleaved across subscriptions. A read that fails leaves the vault as it was
(its guard not visible: the finding says so) and is said in a warning of the run.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.diagnostics import reason
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import for_each_vault
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import mua
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import MAX_CONCURRENCY
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend


def attach_guards(session, records, max_concurrency=MAX_CONCURRENCY):
    """Complete each record's ``mua`` from its vault's proxy (mua.with_proxy), in place; returns the warnings of the reads
    that failed. ``records``: the vault records to read for (none: no read)."""
    warnings = []

    def load(record):
        ref = VaultRef(record['subscription_id'], record['resource_group'], record['name'], record['vault_type'])
        try:
            proxies = backend(session, record['vault_type']).guard_proxies(ref)
        except AzureOperationError as exc:
            warnings.append("%s: its Resource Guard could not be read from its proxy (%s); the guard that protects it is "
                            "reported as not visible" % (ref.label, reason(exc)))
            return None, None
        found = mua.with_proxy(record, proxies)
        if isinstance(record.get('mua'), dict):
            record['mua'].update(found)    # the record's own mapping: a shallow copy of the record shares it
        else:
            record['mua'] = found
        return None, None

    for_each_vault(records, load, '_guard_read', max_concurrency)
    for record in records:
        record.pop('_guard_read', None)
    return warnings
