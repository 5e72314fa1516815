# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Fleet discovery by source, shared by the read-only modules, the role's plan and the backup_vaults inventory plugin.

``read_scope`` reads what a read-only module's scope options select (one named vault from ARM, or ``read_fleet``);
``read_fleet`` reads a fleet from Resource Graph (_resource_graph) or ARM (_fleet, _items).

``discovery`` (the option of both):

- ``auto`` (default): Azure Resource Graph for the subscriptions of the scope (a few queries for the whole fleet);
  a subscription Resource Graph cannot see, or every subscription when a query fails, is read from ARM instead, and
  the result says which and why (``fallbacks``).
- ``resource_graph``: Resource Graph only; a subscription it cannot see is an error of that subscription, a failed
  query an error of the task.
- ``arm``: ARM only: one list per subscription, vault kind and page, and one policy list per vault.

ARM reads are paced per subscription by the session (``session.pacer``), whatever the source. Named vaults are always
read from ARM (vault_immutability_info does that itself, through ``single_vault_discovery``).

The ``discovery`` block of a result (``describe``): ``requested``, ``source_by_subscription`` (``resource_graph`` or
``arm`` per subscription), ``fallbacks`` (``{subscription_id, reason}``), ``data_time`` (UTC, when the reads began:
Resource Graph's data may be older, as it can lag ARM by minutes), ``resource_graph`` (``calls``, ``throttled``,
``waited_s``, ``requeried``: each query asked again because its pages did not make one answer), ``arm`` (``requests``,
``waited_s``, ``throttled``: the session's pacing) and ``elapsed_s``.
"""

from __future__ import annotations

import datetime
import fnmatch
import time

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import fleet as _fleet
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import resource_graph as _resource_graph
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, InputError, at_least_one, check_filter
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.guards import guard_warning, read_guards
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.items import attach_items
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import mua as _mua
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import DEFAULT_DISCOVERY, DISCOVERY_CHOICES, MAX_CONCURRENCY
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend, check_resource_group

SOURCES = ('resource_graph', 'arm')


def now_iso():
    """The current time, UTC, to the second (ISO 8601 with Z)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def check_discovery(discovery):
    value = DEFAULT_DISCOVERY if discovery is None else str(discovery).strip().lower()
    if value not in DISCOVERY_CHOICES:
        raise InputError('discovery must be one of %s; got %r' % (', '.join(DISCOVERY_CHOICES), discovery))
    return value


def pacing(session):
    """The session pacer's summary (``requests``, ``waited_s``, ``throttled``), or nulls without a pacer."""
    pacer = getattr(session, 'pacer', None)
    if pacer is None or not hasattr(pacer, 'summary'):
        return {'requests': None, 'waited_s': None, 'throttled': None}
    return pacer.summary()


def describe(requested, sources, fallbacks, data_time, started, session, graph=None):
    """The ``discovery`` block of a result (see the module docstring)."""
    return {
        'requested': requested,
        'source_by_subscription': dict(sources),
        'fallbacks': list(fallbacks),
        'data_time': data_time,
        'resource_graph': ({'calls': graph['calls'], 'throttled': graph['throttled'], 'waited_s': graph['waited_s'],
                            'requeried': list(graph.get('requeried') or [])}
                           if graph else {'calls': 0, 'throttled': 0, 'waited_s': 0.0, 'requeried': []}),
        'arm': pacing(session),
        'elapsed_s': round(time.monotonic() - started, 3),
    }


def single_vault_discovery(session, subscription_id, requested, data_time, started):
    """The ``discovery`` block of a read of named vaults: always ARM."""
    return describe(requested, {subscription_id: 'arm'}, [], data_time, started, session)


def _every_subscription_failed(subs, errors):
    """True when each subscription has an error of its own scope (or of a scope naming several): nothing could be read."""
    scopes = [str(e.get('scope')).lower() for e in errors if e.get('code') != 'UnreadableVault' and not e.get('vault_type')]
    return bool(scopes) and all(any(str(sub).lower() in scope for scope in scopes) for sub in subs)


def _guards(session, records, wanted, max_concurrency):
    """With ``wanted``, each record that reports a Resource Guard and names none (every vault Azure returns so: mua.needs_proxy)
    gets its guard from the vault's proxy (_guards.read_guards: one ARM read a vault, paced by the session like the others,
    none for the other vaults); returns ``(vault label, why)`` of each proxy read that failed."""
    if not wanted:
        return []
    return read_guards(session, [record for record in records if _mua.needs_proxy(record)], max_concurrency)


def read_fleet(session, subscription_ids, vault_types, resource_groups=None, tags=None, include_policies=False,
               max_concurrency=MAX_CONCURRENCY, discovery=DEFAULT_DISCOVERY, select=None, include_items=False, include_guards=False):
    """The vaults of the given subscriptions (``all``: every visible one; none: the auth subscription).

    ``select``: a predicate over vault records (a name filter, say), applied before ARM reads any vault's policies.
    ``include_items``: each vault also gets ``protected_items`` (Recovery Services protected items, Backup vault backup
    instances; _items.item_record), from the same source as the vault. ``include_guards``: each vault that reports a
    guard gets it from its proxy (_guards), before the ``discovery`` block is made, so its reads and time count there.

    Returns ``{vaults, errors, subscriptions, discovery, guard_failures}``: vault records sorted by lower-cased id (each
    with ``policies`` when asked), per-scope errors (as ``_fleet.list_vaults`` gives them), the subscriptions read, the
    ``discovery`` block and the proxy reads that failed (``(vault label, why)``; those vaults' guard stays not visible).
    Raises AzureOperationError when every scope failed (nothing could be read at all).
    """
    requested = check_discovery(discovery)
    at_least_one(max_concurrency, 'max_concurrency')
    for index, group in enumerate(resource_groups or []):
        check_resource_group(group, 'resource_groups[%d]' % index)
    _fleet.check_tags(tags)
    kinds = list(vault_types or [])
    if not kinds:
        # An empty list (a variable that came out empty, say) read no vault at all, and the run reported a clean, empty fleet.
        raise InputError('vault_types is empty (from a variable that came out empty?), so no vault would be read: leave it out '
                         'to read both kinds, or name recovery_services or backup; nothing was sent to Azure')
    started = time.monotonic()
    data_time = now_iso()
    subs = _fleet.resolve_subscriptions(session, subscription_ids)
    if requested == 'arm':
        records, errors = _fleet.list_vaults(session, subs, kinds, resource_groups, max_concurrency)
        records = [r for r in records if _fleet.tags_match(r, tags) and (select is None or select(r))]
        if include_policies:
            errors.extend(_fleet.attach_policies(session, records, max_concurrency))
        if include_items:
            errors.extend(attach_items(session, records, max_concurrency))
        failures = _guards(session, records, include_guards, max_concurrency)
        block = describe(requested, {s: 'arm' for s in subs}, [], data_time, started, session)
        return {'vaults': records, 'errors': errors, 'subscriptions': subs, 'discovery': block, 'guard_failures': failures}

    found = _resource_graph.discover(session, subs, kinds, resource_groups, tags, policies=include_policies, items=include_items,
                                     fallback='arm' if requested == 'auto' else None, max_concurrency=max_concurrency)
    errors = found['errors']
    if subs and not found['vaults'] and _every_subscription_failed(subs, errors):
        first = [e for e in errors if e.get('code') != 'UnreadableVault' and not e.get('vault_type')][0]
        raise AzureOperationError(first['operation'], first['scope'], first['status'], first['code'], first['message'])
    vaults = [r for r in found['vaults'] if select is None or select(r)]
    failures = _guards(session, vaults, include_guards, max_concurrency)
    block = describe(requested, found['sources'], found['fallbacks'], data_time, started, session, found['resource_graph'])
    if found.get('dropped'):
        # Resource Graph rows outside the scope asked for, or whose name is not their id's: left out (warnings).
        block['dropped'] = list(found['dropped'])
    return {'vaults': vaults, 'errors': errors, 'subscriptions': subs, 'discovery': block, 'guard_failures': failures}


# The characters that make a vault name a pattern (fnmatch) rather than one vault's name.
GLOB_CHARACTERS = _GLOB = frozenset('*?[')


def name_match(record, pattern):
    """True when the vault's name matches a shell-style pattern (case-insensitive); no pattern matches every vault."""
    if not pattern:
        return True
    return fnmatch.fnmatchcase(str(record.get('name', '')).lower(), pattern.lower())


def fallback_warnings(discovery):
    """A warning for each subscription read_scope read from ARM instead of Resource Graph (``discovery['fallbacks']``)."""
    return ['read subscription %s from ARM instead of Resource Graph: %s' % (fallback['subscription_id'], fallback['reason'])
            for fallback in (discovery or {}).get('fallbacks') or []]


def error_warnings(errors):
    """A warning for each scope, vault, policy or item list read_scope could not read (its ``errors``)."""
    return ['could not read %s: %s (%s)' % (error.get('scope'), error.get('message'), error.get('code')) for error in errors or []]


def read_scope(session, params):
    """The vaults a read-only module's scope options select: read_fleet's ``{vaults, errors, subscriptions, discovery,
    guard_failures}``.

    ``params``: ``id``, or ``name`` + ``resource_group`` + ``vault_type`` (one vault, read from ARM with one GET, whatever
    ``discovery`` says); otherwise ``subscription_ids`` (default: the session's subscription; ``[all]``: every one
    visible), ``resource_group``, ``vault_types``, ``name`` (a pattern), ``tags``, ``discovery`` (auto, resource_graph,
    arm: read_fleet) and ``max_concurrency``. ``include_policies`` / ``include_items`` / ``include_guards`` add each
    vault's policies / protected items / Resource Guard (from its proxy, _guards). The options of vault_immutability_info
    and vault_lock_readiness_info (_module.SCOPE_ARGSPEC); ``discovery`` is the block of ``describe`` (source per
    subscription, fallbacks, data time, and what every read of the scope cost).
    """
    concurrency = MAX_CONCURRENCY if params.get('max_concurrency') is None else at_least_one(params['max_concurrency'], 'max_concurrency')
    named = params.get('name') and params.get('resource_group') and params.get('vault_type')
    if params.get('id') or (named and not _GLOB.intersection(params['name'])):
        started, data_time = time.monotonic(), now_iso()
        ref = VaultRef.from_params(params, session.default_subscription)
        # read_existing: a 404 says what is missing (the vault of this kind, its resource group or subscription), as the
        # state modules say it, rather than Azure's bare "was not found".
        records = [backend(session, ref.vault_type).read_existing(ref)[1]]
        errors = []
        if params.get('include_policies'):
            errors.extend(_fleet.attach_policies(session, records, concurrency))
        if params.get('include_items'):
            errors.extend(attach_items(session, records, concurrency))
        failures = _guards(session, records, params.get('include_guards'), concurrency)
        return {'vaults': records, 'errors': errors, 'subscriptions': [ref.subscription_id], 'guard_failures': failures,
                'discovery': single_vault_discovery(session, ref.subscription_id, 'arm', data_time, started)}
    if params.get('vault_type') and not params.get('name'):
        raise InputError('vault_type selects one vault together with name and resource_group; use vault_types to filter')
    if params.get('resource_group') is not None:
        check_resource_group(params['resource_group'], 'resource_group')
    return read_fleet(session, params.get('subscription_ids'), params['vault_types'],
                      [params['resource_group']] if params.get('resource_group') is not None else None, params.get('tags'),
                      bool(params.get('include_policies')), concurrency, params.get('discovery'),
                      select=lambda record: name_match(record, params.get('name')),
                      include_items=bool(params.get('include_items')), include_guards=bool(params.get('include_guards')))


def scope_result(mod, params):
    """A read-only module's result for its scope (read_scope with ``params``): ``changed`` false, ``vaults``, ``errors``,
    ``subscriptions`` and ``discovery``; each ARM fallback and each read that failed is also a warning of the task
    (``mod.warn``), and the Resource Guard proxies that could not be read one more (guard_warning)."""
    # Checked before any request: an empty filter would widen the scope (harden_plan and the inventory plugin document
    # empty defaults of their own, and call read_scope directly).
    check_filter(params.get('subscription_ids'), 'subscription_ids',
                 'the subscription of the authentication options (give [all] for every subscription the identity can see)',
                 'subscription id')
    _fleet.check_subscription_ids(params.get('subscription_ids'))
    check_filter(params.get('tags'), 'tags', 'every vault, whatever its tags')
    found = read_scope(mod.session, params)
    for warning in fallback_warnings(found['discovery']) + error_warnings(found['errors']) + [guard_warning(found['guard_failures'])]:
        if warning:
            mod.warn(warning)
    return {'changed': False, 'vaults': found['vaults'], 'errors': found['errors'], 'subscriptions': found['subscriptions'],
            'discovery': found['discovery']}
