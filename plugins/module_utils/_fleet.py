# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Fleet discovery shared by vault_immutability_info and the backup_vaults inventory plugin.

One list call per subscription, vault kind (and resource group) with paging, run in parallel; per-scope
errors are collected instead of hiding the other scopes; policies are read one list per vault,
interleaved across subscriptions.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import (
    VaultRef,
    backend,
    validate_subscription,
    vault_record,
)

SUBSCRIPTIONS_API_VERSION = '2022-12-01'


def scope_error(scope, exc):
    """A per-scope error entry (the `errors` list of the info module and the inventory)."""
    return {'scope': scope, 'operation': exc.operation, 'status': exc.status, 'code': exc.code, 'message': exc.azure_message}


def tags_match(record, wanted):
    """True when the record carries every wanted tag (case-insensitive keys; a None value only needs the key)."""
    tags = {str(k).lower(): v for k, v in (record.get('tags') or {}).items()}
    for key, value in (wanted or {}).items():
        key = str(key).lower()
        if key not in tags:
            return False
        if value is not None and str(tags[key]) != str(value):
            return False
    return True


def resolve_subscriptions(session, wanted):
    """Subscription ids to read: the auth subscription when none is given, every visible one for ['all']."""
    if not wanted:
        return [validate_subscription(session.default_subscription())]
    if [str(s).strip().lower() for s in wanted] == ['all']:
        body = session.arm_get('/subscriptions', SUBSCRIPTIONS_API_VERSION, 'list subscriptions')
        return sorted(s['subscriptionId'] for s in body.get('value', []) if str(s.get('state', 'Enabled')).lower() != 'disabled')
    seen = []
    for sub in wanted:
        sub = validate_subscription(str(sub).strip())
        if sub.lower() not in [s.lower() for s in seen]:
            seen.append(sub)
    return seen


def list_vaults(session, subscriptions, vault_types, resource_groups=None, max_concurrency=32):
    """(records sorted by id and unique, errors). Raises AzureOperationError when every scope failed."""
    scopes = [(sub, kind, rg) for sub in subscriptions for kind in vault_types for rg in (resource_groups or [None])]

    def read(scope):
        sub, kind, rg = scope
        try:
            return [vault_record(raw, kind) for raw in backend(session, kind).list(sub, rg)], None
        except AzureOperationError as exc:
            label = 'subscription %s' % sub if not rg else "resource group '%s' in subscription %s" % (rg, sub)
            return [], scope_error(label, exc)

    found = {}
    errors = []
    with ThreadPoolExecutor(max_workers=max(1, min(max_concurrency, len(scopes) or 1))) as pool:
        for records, error in pool.map(read, scopes):
            if error:
                errors.append(error)
            for record in records:
                found.setdefault(str(record['id']).lower(), record)
    if scopes and len(errors) == len(scopes):
        first = errors[0]
        raise AzureOperationError(first['operation'], first['scope'], first['status'], first['code'], first['message'])
    return [found[key] for key in sorted(found)], errors


def attach_policies(session, records, max_concurrency=32):
    """Add `policies` (normalised records) to each vault record; returns the per-vault errors.

    A vault whose policies could not be read gets `policies: []` and `policies_error: true`.
    """
    from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy  # pylint: disable=import-outside-toplevel

    def load(record):
        ref = VaultRef(record['subscription_id'], record['resource_group'], record['name'], record['vault_type'])
        try:
            raw = backend(session, record['vault_type']).list_policies(ref)
        except AzureOperationError as exc:
            return None, scope_error(ref.label, exc)
        policies = [normalise_policy(p, record['vault_type']) for p in raw]
        for policy in policies:
            policy['vault'] = record['id']
        return policies, None

    # Interleave subscriptions: Azure throttles reads per subscription (and principal), so parallel calls
    # spread over every subscription go faster than a burst into one subscription after another.
    by_sub = {}
    for record in records:
        by_sub.setdefault(str(record['subscription_id']).lower(), []).append(record)
    longest = max((len(group) for group in by_sub.values()), default=0)
    order = [group[i] for i in range(longest) for group in by_sub.values() if i < len(group)]
    errors = []
    with ThreadPoolExecutor(max_workers=max(1, max_concurrency)) as pool:
        for record, (policies, error) in zip(order, pool.map(load, order)):
            record['policies'] = policies if policies is not None else []
            if error:
                record['policies_error'] = True
                errors.append(error)
    return errors
