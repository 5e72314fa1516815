# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What vault_soft_delete does: read the vault, plan (_rules.soft_delete.plan, pure), refuse before any write, write through the
API that applies the change, confirm it with re-reads, and say truthfully what changed."""

from __future__ import annotations

import copy
import time

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, PartialChangeError, VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._module import VAULT_REF_CONSTRAINTS, state_argument_spec
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import mua
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.soft_delete import config_body, plan, vault_patch
from ansible_collections.vaultlock.azure.plugins.module_utils._soft_delete import (
    ENFORCED_CODES,
    differences,
    enforced_message,
    settings_of,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend, patched_policy_fields, vault_record

# Azure's answer when soft delete of a Recovery Services vault was set through the vault API: only the vault API
# may change it from then on (Azure/bicep-registry-modules#7292).
USE_VAULT_API = 'bmsusererrorsoftdeleteusevaultapi'
OPERATION = 'update soft delete'
CONFIRM_READS = 5


def _diff_view(vault_type, settings):
    view = {'soft_delete': settings['state'], 'retention_days': settings['retention_days']}
    if vault_type == 'recovery_services':
        view['enhanced_security'] = settings['enhanced_security']
    return view


def read_vault(store, ref, settled=True):
    """(record, soft delete settings) of the vault; fails when it is missing, or (settled: the read before any write)
    when it does not read provisioningState Succeeded (_vaults.SETTLED_STATE)."""
    record = (store.read_settled if settled else store.read_existing)(ref)[1]
    return record, settings_of(record)


def predict(record, target, vault_type):
    """The record a read after writing ``target`` will give: soft delete, the Recovery Services enhanced security that
    goes with it (``differences`` plans it as a change too), and the fields Azure Policy judges."""
    predicted = copy.deepcopy(record)
    predicted['soft_delete'] = dict(record['soft_delete'], state=target['state'], retention_days=target['retention_days'])
    if vault_type == 'recovery_services' and target.get('enhanced_security') is not None:
        predicted['enhanced_security'] = target['enhanced_security']
    predicted['policy_fields'] = patched_policy_fields(record, [vault_patch(vault_type, target)], vault_type)
    return predicted


def _applied(ref, target):
    def check(raw):
        return not differences(ref.vault_type, settings_of(vault_record(raw, ref.vault_type)), target)
    return check


def weakens(settings, target):
    """Whether going from ``settings`` to ``target`` turns soft delete off or shortens its retention: what a Resource Guard
    protects (Learn, multi-user-authorization-concept: "Disable soft delete"; Learn training: "Shorten soft delete
    retention window")."""
    if target['state'] == 'off' and settings.get('state') != 'off':
        return True
    if (target.get('enhanced_security') == 'off') and settings.get('enhanced_security') not in (None, 'off'):
        return True
    before, after = settings.get('retention_days'), target.get('retention_days')
    return isinstance(before, (int, float)) and isinstance(after, (int, float)) and after < before


def guard_requests(store, ref, record, settings, target):
    """The Resource Guard operation request ids the write carries (mua.SOFT_DELETE_OPERATION): read from the vault's
    proxy only for a weakening of a vault a guard protects (or may), [] otherwise."""
    if not weakens(settings, target):
        return []
    return store.guard_requests(ref, record, [mua.SOFT_DELETE_OPERATION[ref.vault_type]])


def _update_config(store, ref, target, irreversible=False, requests=()):
    """The config update is synchronous; an unknown outcome is settled by a re-read, as for the vault PATCHes."""
    body = mua.with_requests(config_body(target), requests)
    store.reconcile(ref, lambda: store.update_vault_config(ref, body, OPERATION), OPERATION, _applied(ref, target),
                    irreversible)


def write(store, ref, target, irreversible=False, requests=()):
    """Send the change through the API that applies it; return which API that was. ``requests``: the Resource Guard
    operation request ids the write carries (guard_requests). Through a Recovery Services vault's PATCH they are the
    backup config's (**assumed**: no Microsoft client disables soft delete through the vault API under a guard).

    An irreversible change (AlwaysOn) whose outcome is unknown is never sent a second time (see reconcile).
    """
    if ref.vault_type != 'recovery_services':
        store.reconcile_patch(ref, mua.with_requests(vault_patch(ref.vault_type, target), requests), OPERATION, _applied(ref, target),
                              irreversible)
        return 'vault'
    try:
        _update_config(store, ref, target, irreversible, requests)
        return 'vault_config'
    except AzureOperationError as exc:
        if str(exc.code or '').lower() in ENFORCED_CODES:
            # Secure by default: Azure enforces soft delete of this vault. Never try the vault API instead.
            raise AzureOperationError(exc.operation, exc.resource, exc.status, exc.code, exc.azure_message, exc.request_id,
                                      hint='The %s.' % enforced_message(ref.label))
        if str(exc.code or '').lower() != USE_VAULT_API:
            raise
    store.reconcile_patch(ref, mua.with_requests(vault_patch(ref.vault_type, target), requests), OPERATION, _applied(ref, target),
                          irreversible)
    return 'vault'


def confirm(mod, store, ref, target):
    """Re-read until the vault shows the change, or fail clearly.

    Both Recovery Services write APIs are reported to answer success without applying a change
    (azure-rest-api-specs#34218, #34530), and a config update to show late (#21548): a few bounded re-reads.
    """
    settings = mod.session.settings
    deadline = time.monotonic() + float(settings['wait_timeout'])
    delay = max(1.0, float(settings['polling_interval']))
    for attempt in range(CONFIRM_READS):
        record, current = read_vault(store, ref, settled=False)
        missing = differences(ref.vault_type, current, target)
        if not missing:
            return record, current
        if attempt + 1 == CONFIRM_READS or time.monotonic() + delay > deadline:
            break
        time.sleep(delay)
    detail = ', '.join('%s is %s (wanted %s)' % item for item in missing)
    raise AzureOperationError(OPERATION, ref.label, None, 'ChangeNotApplied',
                              'Azure accepted the request but the vault still reports: %s. Read the vault again before '
                              'retrying.' % detail)


def run(mod):
    params = mod.params
    ref = VaultRef.from_params(params, mod.session.default_subscription)
    store = backend(mod.session, ref.vault_type)
    before, settings = read_vault(store, ref)
    if params['soft_delete'] is None and params['retention_days'] is None:
        return {'changed': False, 'vault': before, 'changes': [], 'api': None}
    changes, target = plan(ref.vault_type, settings, params['soft_delete'], params['retention_days'],
                           params['allow_irreversible'], ref.name, enforced=before['soft_delete']['enforced_by_azure'])
    after, after_settings = (predict(before, target, ref.vault_type), target) if changes else (before, settings)
    api = None
    # Read in check mode too, so that it fails as a real run would when the proxy cannot be read.
    requests = guard_requests(store, ref, before, settings, target) if changes else []
    if changes and not mod.check_mode:
        try:
            api = write(store, ref, target, any(change['irreversible'] for change in changes), requests)
            after, after_settings = confirm(mod, store, ref, target)
        except VaultlockError as exc:
            # Say truthfully what did change: a fresh read decides, whatever the error was (read twice: the first re-read
            # may be what failed).
            fresh = None
            for _attempt in range(2):
                try:
                    fresh, fresh_settings = read_vault(store, ref, settled=False)
                    break
                except VaultlockError:
                    continue
            if fresh is None:
                if api is None and not (isinstance(exc, AzureOperationError) and exc.outcome_unknown):
                    raise exc from None
                # Azure accepted the write and the vault cannot be read back: whether it changed is unknown, never "no".
                raise PartialChangeError(exc, {'changed': True, 'outcome': 'unknown', 'changes': changes, 'api': api,
                                               'vault': before}) from exc
            happened = [change for change in changes if _now(ref.vault_type, fresh_settings, change['setting']) == change['after']]
            if not happened:
                raise
            raise PartialChangeError(exc, {'changed': True, 'changes': happened, 'vault': fresh, 'api': api}) from exc
    result = {'changed': bool(changes), 'vault': after, 'changes': changes, 'api': api}
    if mod.diff_mode:
        header = '%s (%s)' % (ref.name, ref.vault_type)
        irreversible = sorted({c['setting'] for c in changes if c.get('irreversible')})
        result['diff'] = {'before': _diff_view(ref.vault_type, settings), 'after': _diff_view(ref.vault_type, after_settings),
                          'before_header': header,
                          'after_header': header + (' - IRREVERSIBLE: %s' % ', '.join(irreversible) if irreversible else '')}
    return result


def _now(vault_type, settings, setting):
    """The current value of a change's setting in soft delete settings from a read."""
    del vault_type
    return {'soft_delete': settings.get('state'), 'enhanced_security': settings.get('enhanced_security'),
            'soft_delete_retention_days': settings.get('retention_days')}.get(setting)


ARGUMENT_SPEC = state_argument_spec({
    'soft_delete': {'type': 'str', 'choices': ['off', 'on', 'always_on']},
    'retention_days': {'type': 'int'},
})
CONSTRAINTS = VAULT_REF_CONSTRAINTS
