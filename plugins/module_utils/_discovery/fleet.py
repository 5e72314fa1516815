# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The fleet read from ARM, for _discovery (ARM discovery, and the fallback of Resource Graph discovery).

One list call per subscription, vault kind (and resource group) with paging, run in parallel; per-scope
errors are collected instead of hiding the other scopes; policies are read one list per vault,
interleaved across subscriptions.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    InputError,
    UnreadableResourceError,
    has_control,
    shown,
    tag_names,
    type_name,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import plural_label
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import MAX_CONCURRENCY
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import (
    GUID,
    VaultRef,
    backend,
    unreadable_record,
    validate_subscription,
    vault_record,
)

SUBSCRIPTIONS_API_VERSION = '2022-12-01'


def scope_error(scope, exc):
    """A per-scope error entry (the `errors` list of the info module and the inventory). The error's hint (what to do:
    the credential to give, the role to grant) follows Azure's message: without it a scope that could not be read said
    only what failed (a credential chain's 'failed to retrieve a token'), not what to do."""
    message = exc.azure_message
    if exc.hint:
        message = '%s %s' % (message, exc.hint) if message else exc.hint
    return {'scope': scope, 'operation': exc.operation, 'status': exc.status, 'code': exc.code, 'message': message}


def check_tags(wanted, option='tags'):
    """Raise InputError, before any request, for a tag filter that cannot mean what it shows: a value YAML read as a
    boolean or a float (unquoted ``yes`` is true, matched as the text 'True', so vaults tagged 'yes' were left out of the run
    without a word), a value that is no text, and two names that are one tag (Azure compares tag names case-insensitively,
    so no vault could match both). Text, whole numbers (compared as their digits) and null (the tag only needs to exist)
    pass."""
    if wanted is None:
        return wanted
    if not isinstance(wanted, dict):
        raise InputError('%s must be a dictionary of tag name: value, got %s' % (option, type_name(wanted)))
    for key, value in tag_names(wanted, option, InputError, '; nothing was sent to Azure'):
        if isinstance(value, (bool, float)) or not (value is None or isinstance(value, (str, int))):
            raise InputError('%s.%s: %s is not text (%s), and Azure tag values are text: it would match only the text %s; quote '
                             'the value in YAML (an unquoted yes or true is a boolean), or give null to need only the tag; '
                             'nothing was sent to Azure' % (option, key, shown(value), type_name(value), shown(str(value))))
        if isinstance(value, str) and has_control(value):
            raise InputError('%s.%s: %s contains a control character (a newline, say); nothing was sent to Azure'
                             % (option, key, shown(value)))
    return wanted


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


def every_subscription(wanted):
    """Whether ``wanted`` (subscription_ids) is ``[all]``: every subscription the identity can see."""
    return bool(wanted) and [str(s).strip().lower() for s in wanted] == ['all']


def check_subscription_ids(wanted, option='subscription_ids'):
    """Raise InputError, before any request, naming the entry and its value, unless each entry of ``wanted`` is a
    subscription GUID (spaces around it are dropped, as discovery drops them; no braces) or ``wanted`` is ``[all]``.
    None or empty passes (the subscription of the authentication options, where an option's default is empty: the
    read-only modules refuse an empty list with _errors.check_filter)."""
    if not wanted or every_subscription(wanted):
        return wanted
    for index, sub in enumerate(wanted):
        text = sub.strip(' ') if isinstance(sub, str) else sub
        if isinstance(text, str) and text.lower() == 'all':
            raise InputError('%s[%d] is %s, which means every subscription the identity can see: give it alone (%s: [all]), or '
                             'only subscription ids; nothing was sent to Azure' % (option, index, shown(sub), option))
        if not isinstance(text, str) or not GUID.fullmatch(text):
            raise InputError('%s[%d]: %s is not a subscription id (a GUID xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, without braces) '
                             'nor all; nothing was sent to Azure' % (option, index, shown(sub)))
    return wanted


def resolve_subscriptions(session, wanted):
    """Subscription ids to read: the auth subscription when none is given, every visible one for ['all']."""
    if not wanted:
        return [validate_subscription(session.default_subscription())]
    check_subscription_ids(wanted)
    if every_subscription(wanted):
        body = session.arm_get('/subscriptions', SUBSCRIPTIONS_API_VERSION, 'list subscriptions')
        return sorted(s['subscriptionId'] for s in body.get('value', []) if str(s.get('state', 'Enabled')).lower() != 'disabled')
    seen = []
    for sub in wanted:
        sub = validate_subscription(sub.strip(' ') if isinstance(sub, str) else sub, 'subscription_ids')
        if sub.lower() not in [s.lower() for s in seen]:
            seen.append(sub)
    return seen


def read_records(raws, vault_type):
    """(records, vault errors) from the ARM JSON of listed vaults: a vault the collection cannot read becomes an error
    of its own (naming its id and the field, with `vault` set to what is known of it) and never hides the others."""
    records = []
    errors = []
    for raw in raws:
        try:
            records.append(vault_record(raw, vault_type))
        except UnreadableResourceError as exc:
            error = exc.as_dict()
            error['vault'] = unreadable_record(raw, vault_type, exc)
            errors.append(error)
    return records, errors


def _merge_scope_errors(failures, vault_types):
    """One error per subscription (or resource group) when every vault kind failed the same way there; otherwise one
    per vault kind, saying which kind could not be read."""
    by_scope = {}
    for (label, kind), error in failures:
        by_scope.setdefault(label, []).append((kind, error))
    merged = []
    for label, items in by_scope.items():
        codes = {(error['status'], error['code']) for _kind, error in items}
        if len(items) == len(vault_types) and len(codes) == 1:
            merged.append(dict(items[0][1], scope=label))
            continue
        for kind, error in items:
            merged.append(dict(error, scope='%s (%s)' % (label, plural_label(kind)), vault_type=kind))
    return merged


def list_vaults(session, subscriptions, vault_types, resource_groups=None, max_concurrency=MAX_CONCURRENCY):
    """(records sorted by id and unique, errors). Raises AzureOperationError when every scope failed.

    Errors: one per subscription or resource group that could not be read (per vault kind when only some kinds
    failed), and one per vault whose body could not be read (`code: UnreadableVault`, with `vault`).
    """
    scopes = [(sub, kind, rg) for sub in subscriptions for kind in vault_types for rg in (resource_groups or [None])]

    def read(scope):
        sub, kind, rg = scope
        label = 'subscription %s' % sub if not rg else "resource group '%s' in subscription %s" % (rg, sub)
        try:
            raws = backend(session, kind).list(sub, rg)
        except AzureOperationError as exc:
            return [], [], ((label, kind), scope_error(label, exc))
        records, vault_errors = read_records(raws, kind)
        return records, vault_errors, None

    found = {}
    failures = []
    vault_errors = []
    with ThreadPoolExecutor(max_workers=max(1, min(max_concurrency, len(scopes) or 1))) as pool:
        for records, unreadable, failure in pool.map(read, scopes):
            if failure:
                failures.append(failure)
            vault_errors.extend(unreadable)
            for record in records:
                found.setdefault(str(record['id']).lower(), record)
    if scopes and len(failures) == len(scopes):
        first = failures[0][1]
        raise AzureOperationError(first['operation'], first['scope'], first['status'], first['code'], first['message'])
    errors = _merge_scope_errors(failures, vault_types) + sorted(vault_errors, key=lambda e: str(e['scope']).lower())
    return [found[key] for key in sorted(found)], errors


def attach_policies(session, records, max_concurrency=MAX_CONCURRENCY):
    """Add `policies` (normalised records, sorted by name, as Resource Graph discovery gives them) to each vault record;
    returns the per-vault errors.

    A vault whose policies could not be read gets `policies: []` and `policies_error: true`.
    """
    def load(record):
        ref = VaultRef(record['subscription_id'], record['resource_group'], record['name'], record['vault_type'])
        try:
            raw = backend(session, record['vault_type']).list_policies(ref)
        except AzureOperationError as exc:
            return None, scope_error(ref.label, exc)
        policies = [normalise_policy(p, record['vault_type']) for p in raw]
        for policy in policies:
            policy['vault'] = record['id']
        return sorted(policies, key=lambda p: str(p.get('name')).lower()), None

    return for_each_vault(records, load, 'policies', max_concurrency)


def interleaved(records):
    """The records with their subscriptions taking turns: Azure throttles reads per subscription (and principal), so
    parallel calls spread over every subscription go faster than a burst into one subscription after another."""
    by_sub = {}
    for record in records:
        by_sub.setdefault(str(record['subscription_id']).lower(), []).append(record)
    longest = max((len(group) for group in by_sub.values()), default=0)
    return [group[i] for i in range(longest) for group in by_sub.values() if i < len(group)]


def each_vault(records, work, max_concurrency=MAX_CONCURRENCY, interleave=True):
    """``[(record, work(record))]`` for every vault record, ``max_concurrency`` calls at once, in the order they are
    started: the subscriptions taking turns (interleaved), or the records' own order when ``interleave`` is false."""
    order = interleaved(records) if interleave else list(records)
    with ThreadPoolExecutor(max_workers=max(1, max_concurrency)) as pool:
        return list(zip(order, pool.map(work, order)))


def for_each_vault(records, load, key, max_concurrency=MAX_CONCURRENCY, interleave=True):
    """Run ``load(record) -> (value, error)`` for every vault record in parallel (each_vault) and set ``record[key]``;
    returns the errors.

    A vault whose load failed gets ``key: []`` and ``<key>_error: true``.
    """
    errors = []
    for record, (value, error) in each_vault(records, load, max_concurrency, interleave):
        record[key] = value if value is not None else []
        if error:
            record[key + '_error'] = True
            errors.append(error)
    return errors
