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

One read a vault, and only for the vaults the caller picks (harden_plan, _tiers.guard_reads: a protected vault naming no
guard whose tier's baseline names one; vault_immutability_info, in its scope read (scope.read_scope ``include_guards``):
every vault it returns that reports a guard and names none, mua.needs_proxy), through the session's ARM read pipeline
(paced per subscription, retried like every read), ``fleet.each_vault``'s concurrency, interleaved across subscriptions.
A read that fails leaves the vault as it was (its guard not visible: the finding says so) and is said in a warning of the
run (harden_plan: one a vault; vault_immutability_info: one for all, guard_warning).
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.diagnostics import reason
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import each_vault
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, escaped, first_named
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import mua
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import MAX_CONCURRENCY
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend


def read_guards(session, records, max_concurrency=MAX_CONCURRENCY):
    """Complete each record's ``mua`` from its vault's proxy (mua.with_proxy), in place; returns ``(vault label, why)`` of
    each read that failed, in the records' order (that vault's ``mua`` stays as it was). ``records``: the vault records to
    read for (none: no read)."""
    def read(record):
        """``(label, proxies, why)``: the vault's proxies, or why they could not be read."""
        ref = VaultRef(record['subscription_id'], record['resource_group'], record['name'], record['vault_type'])
        try:
            return ref.label, backend(session, record['vault_type']).guard_proxies(ref), None
        except AzureOperationError as exc:
            return ref.label, None, reason(exc)

    answers = dict((id(record), answer) for record, answer in each_vault(records, read, max_concurrency))
    failures = []
    for record in records:
        label, proxies, why = answers[id(record)]
        if why is not None:
            failures.append((label, why))
            continue
        found = mua.with_proxy(record, proxies)
        if isinstance(record.get('mua'), dict):
            record['mua'].update(found)    # the record's own mapping: a shallow copy of the record shares it
        else:
            record['mua'] = found
    return failures


def attach_guards(session, records, max_concurrency=MAX_CONCURRENCY):
    """read_guards, with a warning for each read that failed (harden_plan's report lists them one by one)."""
    return ["%s: its Resource Guard could not be read from its proxy (%s); the guard that protects it is reported as not "
            "visible" % failure for failure in read_guards(session, records, max_concurrency)]


def guard_warning(failures, limit=20):
    """One warning for the proxy reads read_guards could not do (``(vault label, why)`` each), the first ``limit`` named
    and then a count; '' when there are none."""
    if not failures:
        return ''
    return ('a Resource Guard protects %d %s whose Resource Guard proxy (backupResourceGuardProxies) could not be read, so '
            'mua.resource_guard_id is null and mua.protected_operations empty for %s: %s'
            % (len(failures), 'vault' if len(failures) == 1 else 'vaults', 'it' if len(failures) == 1 else 'each',
               first_named(failures, limit, show=lambda failure: '%s (%s)' % (escaped(failure[0]), escaped(failure[1])))))
