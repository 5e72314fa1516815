# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What vault_security_settings does: read the vault, plan each setting asked with its rule's own plan (pure), refuse
before any write, send one vault PATCH of only the properties that change, confirm it with a re-read, and say truthfully
what changed."""

from __future__ import annotations

import copy

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    InputError,
    PartialChangeError,
    UnreadAfterWriteError,
    VaultlockError,
    shown,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._module import VAULT_REF_CONSTRAINTS, state_argument_spec
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import alerts, cross_subscription_restore, mua, public_network_access
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend, patched_policy_fields, reread, vault_record

OPERATION = 'update vault security settings'
OPTIONS = ('cross_subscription_restore', 'public_network_access', 'alerts', 'resource_guard_id')
GUARD_OPERATION = 'associate the vault with a Resource Guard'
GUARD_RIGHTS = ('Associating a vault with a Resource Guard needs rights on the guard as well as on the vault: the identity '
                'in use needs a role that allows Microsoft.DataProtection/resourceGuards/write on the Resource Guard (its '
                'owner grants it, for example "Backup MUA Admin" or Contributor on the guard) (Learn, multi-user-authorization).')
# What check mode cannot predict of an association: the operations the guard protects are listed by the vault's Resource
# Guard proxy, which exists only once the association is written (a real run reads them back from it). Azure decides the
# list (the guard's operations less its exclusions, by vault kind), and a real run reads nothing of the guard before it
# writes, so check mode reads nothing more either: the predicted record says null and the result names the field.
UNPREDICTED_GUARD = 'vault.mua.protected_operations'


def view(record):
    """The settings this module manages, as a diff shows them."""
    return {'cross_subscription_restore': record.get('cross_subscription_restore'),
            'public_network_access': record.get('public_network_access'),
            'alerts': dict(record.get('alerts') or {}),
            'resource_guard_id': (record.get('mua') or {}).get('resource_guard_id')}


def plan(vault_type, record, params, vault_name):
    """(changes, patch body, predicted record) for the options asked; raises SecuritySettingError before any request."""
    csr = cross_subscription_restore.normalise(params.get('cross_subscription_restore'))
    pna = public_network_access.normalise(params.get('public_network_access'))
    wanted_alerts = alerts.normalise(params.get('alerts'))
    changes = cross_subscription_restore.plan(vault_type, record.get('cross_subscription_restore'), csr,
                                              params.get('allow_irreversible'), vault_name)
    changes += public_network_access.plan(vault_type, record.get('public_network_access'), pna, vault_name)
    alert_changes = alerts.plan(vault_type, record.get('alerts'), wanted_alerts, vault_name)
    changes += alert_changes
    guard = mua.guard_id(params.get('resource_guard_id'), 'resource_guard_id') if params.get('resource_guard_id') else None
    changes += mua.plan(vault_type, mua.state(record), guard, vault_name)
    body = {'properties': {}}
    predicted = copy.deepcopy(record)
    for item in changes:
        if item['setting'] == 'cross_subscription_restore':
            body['properties'].update(cross_subscription_restore.patch(vault_type, item['after'])['properties'])
            predicted['cross_subscription_restore'] = item['after']
        elif item['setting'] == 'public_network_access':
            body['properties'].update(public_network_access.patch(vault_type, item['after'])['properties'])
            predicted['public_network_access'] = item['after']
    if alert_changes:
        target = dict(item for c in alert_changes for item in c['after'].items())
        body['properties'].update(alerts.patch(vault_type, target)['properties'])
        predicted['alerts'] = dict(record.get('alerts') or {}, **target)
    reported = [body] if body['properties'] else []
    if guard and any(item['setting'] == 'mua' for item in changes):
        # What the vault reads once its proxy names the guard: protected, by that guard, with the operations the proxy will
        # list (unknown until it exists: UNPREDICTED_GUARD), and the body's flag that Azure Policy reads (mua.protected_body).
        predicted['mua'] = {'protected': True, 'resource_guard_id': guard, 'protected_operations': None}
        reported.append(mua.protected_body(vault_type))
    if reported:
        predicted['policy_fields'] = patched_policy_fields(record, reported, vault_type)
    return changes, body, predicted


def _now(record, item):
    if item['setting'] == 'alerts':
        return dict((key, (record.get('alerts') or {}).get(key)) for key in item['after'])
    if item['setting'] == 'mua':
        state = mua.state(record)
        return item['after'] if state['protected'] and mua.same_guard(state['resource_guard_id'], item['after']) else None
    return record.get(item['setting'])


def _associate(store, ref, guard):
    """PUT the vault's Resource Guard proxy; a refusal for want of rights on the guard says so."""
    try:
        store.put_guard_proxy(ref, guard, GUARD_OPERATION)
    except AzureOperationError as exc:
        if exc.status == 403 or str(exc.code or '').lower() in ('linkedauthorizationfailed', 'authorizationfailed'):
            raise AzureOperationError(exc.operation, exc.resource, exc.status, exc.code, exc.azure_message, exc.request_id,
                                      hint=GUARD_RIGHTS) from None
        raise


def _applied(vault_type, changes):
    def check(raw):
        record = vault_record(raw, vault_type)
        return all(_now(record, item) == item['after'] for item in changes)
    return check


def check_guard(value):
    """resource_guard_id checked before any request: the Resource Guard's ARM id (mua.guard_id), or None when not given.
    A blank id (from a variable that came out empty, say) is refused: it would leave the vault unprotected without a word."""
    if value is None:
        return None
    if not value.strip():
        raise InputError("resource_guard_id is %s: give the ARM id of a Resource Guard (%s), or leave resource_guard_id out "
                         "to leave multi-user authorization as it is; nothing was sent to Azure" % (shown(value), mua.GUARD_ID_FORM))
    try:
        return mua.guard_id(value, 'resource_guard_id')
    except VaultlockError as exc:
        raise InputError('%s; nothing was sent to Azure' % exc) from None


def run(mod):
    params = mod.params
    ref = VaultRef.from_params(params, mod.session.default_subscription)
    check_guard(params.get('resource_guard_id'))
    store = backend(mod.session, ref.vault_type)
    before = store.read_settled(ref)[1]
    if all(params.get(option) is None for option in OPTIONS):
        return {'changed': False, 'vault': before, 'changes': []}

    def guarded(record):
        # A vault a guard protects names no guard in its body: with resource_guard_id, its proxy says which (one read).
        return store.with_guard(ref, record) if params.get('resource_guard_id') is not None else record
    before = guarded(before)
    changes, body, after = plan(ref.vault_type, before, params, ref.name)
    if changes and not mod.check_mode:
        irreversible = any(item['irreversible'] for item in changes)
        accepted = []

        def read_back():
            # After an accepted write: read again (as the other state modules do, _vaults.reread) before saying anything.
            return reread(lambda: guarded(store.read_existing(ref)[1]), OPERATION, ref.label)
        try:
            patched = [item for item in changes if item['setting'] != 'mua']
            if patched:
                store.reconcile_patch(ref, body, OPERATION, _applied(ref.vault_type, patched), irreversible)
                accepted.extend(patched)
            for item in changes:
                if item['setting'] == 'mua':
                    _associate(store, ref, item['after'])
                    accepted.append(item)
            after = read_back()
        except VaultlockError as exc:
            try:
                fresh = read_back() if not isinstance(exc, UnreadAfterWriteError) else None
            except UnreadAfterWriteError:
                fresh = None
            if fresh is None:
                if accepted or isinstance(exc, UnreadAfterWriteError) or (isinstance(exc, AzureOperationError) and exc.outcome_unknown):
                    # Azure accepted a write (or may have) and the vault cannot be read back: whether it changed is unknown,
                    # never "no".
                    raise PartialChangeError(exc, {'changed': True, 'outcome': 'unknown', 'changes': accepted or changes,
                                                   'vault': before}) from exc
                raise exc from None
            happened = [item for item in changes if _now(fresh, item) == item['after']]
            if not happened:
                raise
            raise PartialChangeError(exc, {'changed': True, 'changes': happened, 'vault': fresh}) from exc
        missing = [item for item in changes if _now(after, item) != item['after']]
        if missing:
            raise VaultlockError('%s: Azure accepted the request but the vault still reports %s; read the vault again before retrying'
                                 % (ref.label, ', '.join('%s=%s (wanted %s)' % (item['setting'], _now(after, item), item['after'])
                                                         for item in missing)))
    result = {'changed': bool(changes), 'vault': after, 'changes': changes}
    if mod.check_mode and any(item['setting'] == 'mua' for item in changes):
        result['unpredicted'] = [UNPREDICTED_GUARD]
    if mod.diff_mode:
        header = '%s (%s)' % (ref.name, ref.vault_type)
        irreversible = sorted({item['setting'] for item in changes if item.get('irreversible')})
        result['diff'] = {'before': view(before), 'after': view(after), 'before_header': header,
                          'after_header': header + (' - IRREVERSIBLE: %s' % ', '.join(irreversible) if irreversible else '')}
    return result


ARGUMENT_SPEC = state_argument_spec({
    'cross_subscription_restore': {'type': 'str', 'choices': ['enabled', 'disabled', 'permanently_disabled']},
    'public_network_access': {'type': 'str', 'choices': ['enabled', 'disabled']},
    'resource_guard_id': {'type': 'str'},
    'alerts': {'type': 'dict', 'options': {
        'job_failure_alerts': {'type': 'str'},
        'classic_alerts': {'type': 'str'},
    }},
})
CONSTRAINTS = VAULT_REF_CONSTRAINTS
