# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The multi-user authorization rule: a vault protected by a Resource Guard, and the association with a given guard.

A vault protected by a Resource Guard needs an approval through the guard to weaken a setting, which this collection
cannot give itself: the other rules read ``context['mua']`` and leave such a weakening alone (a task can still do it with
the guard tenant's token, the auth option ``auxiliary_tenant_ids``). The vault record's ``mua`` names the operations the
guard protects (``protected_operations``); each drift entry carries ``mua`` (``protected``, ``resource_guard_id``) and the
summary counts the protected vaults.

With a baseline ``resource_guard_id`` (the ARM id of a ``Microsoft.DataProtection/resourceGuards`` resource, which the
customer creates, usually in another subscription) an unprotected vault is associated with that guard: a Resource Guard
proxy (Recovery Services: ``PUT .../vaults/{v}/backupResourceGuardProxies/VaultProxy``, azure-mgmt-recoveryservicesbackup
``ResourceGuardProxyOperations.put``; Backup vaults: ``PUT .../backupVaults/{v}/backupResourceGuardProxies/DppResourceGuardProxy``,
azure-mgmt-dataprotection ``DppResourceGuardProxyOperations.create_or_update``). A vault protected by another guard is a
finding that cannot be fixed here (removing or changing a guard is a critical operation the guard itself protects).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.arm_ids import GUID, RG_NAME, arm_tools, split_resource_id
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import has_control, shown
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import (
    DriftError,
    Flag,
    Requirement,
    Rule,
    Setting,
    UNKNOWN,
    VaultlockError,
    change,
    finding,
    must_be_bool,
)


_GUARD_PROVIDER = ('microsoft.dataprotection', 'resourceguards')


def read_mua(vault_type, props):
    """``{protected, resource_guard_id, protected_operations}`` (and ``state: unknown`` when it cannot be told, see
    ``mua_state``): ``protected_operations`` names the operations of the vault that its Resource Guard protects, as the
    vault's ``resourceGuardOperationRequests`` list them (``<guard id>/<operation>/default``: ``disableSoftDeleteRequests``,
    ``updateProtectionPolicyRequests``, ...), in their order."""
    security = props.get('securitySettings') or {}
    guard = None
    operations = []
    requests = props.get('resourceGuardOperationRequests')
    for request in requests if isinstance(requests, list) else []:
        # A request id names an operation of a guard: <guard id>/<operation>/default.
        parts = split_resource_id(request) if isinstance(request, str) and not has_control(request) else {}
        if parts.get('resource_group') and (str(parts.get('namespace')).lower(), str(parts.get('type')).lower()) == _GUARD_PROVIDER:
            found = arm_tools().resource_id(subscription=parts['subscription'], resource_group=parts['resource_group'],
                                            namespace=parts['namespace'], type=parts['type'], name=parts['name'])
            guard = guard or found
            operation = _operation_of(request)
            if found.lower() == guard.lower() and operation and operation not in operations:
                operations.append(operation)
    if vault_type == 'recovery_services':
        reported = security.get('multiUserAuthorization')
    else:
        reported = props.get('isVaultProtectedByResourceGuard')
    found = mua_state(vault_type, reported, guard)
    record = {'protected': found == 'protected', 'resource_guard_id': guard, 'protected_operations': operations}
    if found == UNKNOWN:
        record.update(state=UNKNOWN, reported=reported)
    return record


def mua_state(vault_type, reported, guard):
    """``protected``, ``not_protected`` or ``unknown`` from what the vault reports.

    The sources: a Recovery Services vault's ``securitySettings.multiUserAuthorization`` (read-only, ``Invalid | Enabled |
    Disabled``) and a Backup vault's ``isVaultProtectedByResourceGuard`` (read-only, a boolean) say whether a Resource
    Guard protects the vault (REST spec, SDK models). ``resourceGuardOperationRequests`` is, by the spec, the list of
    operation requests "on which LAC check will be performed": naming a guard there does not say the vault is protected.
    ``Invalid`` is recorded only in the answer to a vault's create, a vault no guard can protect yet (``Disabled`` on every
    later read): without a guard named it reads as not protected. What a vault that names a guard but does not report
    protection (absent, ``Disabled``, ``Invalid``, ``false``) means, or a value outside the enum, no Microsoft source says.
    Such a vault is **assumed** neither protected nor unprotected: ``unknown``, the safe side both ways (lock readiness
    does not count it as protected; a run plans no change of its guard and no weakening a guard could protect)."""
    if vault_type == 'recovery_services':
        value = str(reported).strip().lower() if isinstance(reported, str) else reported
        if value == 'enabled':
            return 'protected'
        if value in (None, '', 'disabled', 'invalid'):
            return UNKNOWN if guard else 'not_protected'
        return UNKNOWN
    if reported is True:
        return 'protected'
    if reported in (None, False):
        return UNKNOWN if guard else 'not_protected'
    return UNKNOWN


def _operation_of(request):
    """The operation a request id names: ``<guard id>/<operation>/default`` -> ``<operation>``."""
    parts = [p for p in str(request).strip().rstrip('/').split('/') if p]
    at = next((i for i, p in enumerate(parts) if p.lower() == 'resourceguards'), None)
    if at is None or len(parts) < at + 3:
        return None
    return parts[at + 2]


# The vault critical operations of a write this collection can send that a Resource Guard protects, as the guard proxy
# of the vault names them (``resourceGuardOperationDetails[].vaultCriticalOperation``), and the guard's request type
# of each (the segment before ``/default`` of its ``defaultResourceRequest``). Microsoft's clients look the operation up in
# the vault's proxy and send its ``defaultResourceRequest`` in the write's ``resourceGuardOperationRequests``: Azure
# PowerShell (Set-AzRecoveryServicesVaultProperty: ``Microsoft.RecoveryServices/vaults/backupconfig/write`` in the
# backup config; Update-AzRecoveryServicesVault: ``Microsoft.RecoveryServices/vaults/write#reduceImmutabilityState``),
# az CLI (command_modules/backup/custom_help.py ``operation_name_map``, ``get_resource_guard_operation_request``; custom.py
# ``update_vault``), Az.DataProtection (Update-AzDataProtectionBackupVault -ResourceGuardOperationRequest
# ``<guard>/dppReduceSoftDeleteSecurityRequests/default`` and ``dppReduceImmutabilityStateRequests``). Live proxies list
# these names: a Backup vault's (tests/fixtures/azure-real/cliext-dp-guard-proxy) and a Recovery Services vault's, which
# Azure PowerShell then sent as ``<guard>/disableSoftDeleteRequests/default`` in a backup config PATCH and
# ``<guard>/reduceImmutabilityStateRequests/default`` in a vault PATCH, both accepted (tests/fixtures/azure-real/ps-rs-mua).
# Azure refuses a guarded write without it ("ResourceGuard Operation requestid is either null or empty",
# hashicorp/terraform-provider-azurerm#31887).
RS_SOFT_DELETE = 'Microsoft.RecoveryServices/vaults/backupconfig/write'
RS_IMMUTABILITY = 'Microsoft.RecoveryServices/vaults/write#reduceImmutabilityState'
DP_SOFT_DELETE = 'Microsoft.DataProtection/backupVaults/write#reduceSoftDeleteSecurity'
DP_IMMUTABILITY = 'Microsoft.DataProtection/backupVaults/write#reduceImmutabilityState'
# The request type of an operation, for a proxy that names the operation by it instead (the Recovery Services spec example
# GetResourceGuardProxy.json: ``Microsoft.DataProtection/resourceGuards/disableSoftDeleteRequests``); the live proxies'
# request types (above).
REQUEST_TYPES = {RS_SOFT_DELETE: 'disableSoftDeleteRequests', RS_IMMUTABILITY: 'reduceImmutabilityStateRequests',
                 DP_SOFT_DELETE: 'dppReduceSoftDeleteSecurityRequests', DP_IMMUTABILITY: 'dppReduceImmutabilityStateRequests'}
SOFT_DELETE_OPERATION = {'recovery_services': RS_SOFT_DELETE, 'backup': DP_SOFT_DELETE}
IMMUTABILITY_OPERATION = {'recovery_services': RS_IMMUTABILITY, 'backup': DP_IMMUTABILITY}


def proxy_guard(proxies):
    """(guard id, operation details) of a vault's Resource Guard proxies (the ``value`` of a GET of
    ``backupResourceGuardProxies``: a vault has one), or (None, []) when no guard is associated."""
    for proxy in proxies if isinstance(proxies, list) else []:
        props = proxy.get('properties') if isinstance(proxy, Mapping) else None
        if not isinstance(props, Mapping):
            continue
        guard = props.get('resourceGuardResourceId')
        details = props.get('resourceGuardOperationDetails')
        if isinstance(guard, str) and guard and not has_control(guard):
            return guard, [d for d in details if isinstance(d, Mapping)] if isinstance(details, list) else []
    return None, []


def operation_requests(details, operations):
    """The ``defaultResourceRequest`` of each of ``operations`` (vault critical operations) that the proxy's operation
    details name, in order, without repeats; an operation the guard does not protect (excluded) has none."""
    found = []
    for operation in operations:
        wanted = {operation.lower()}
        if REQUEST_TYPES.get(operation):
            wanted.add(('Microsoft.DataProtection/resourceGuards/' + REQUEST_TYPES[operation]).lower())
        for detail in details:
            request = detail.get('defaultResourceRequest')
            if str(detail.get('vaultCriticalOperation') or '').lower() in wanted and isinstance(request, str) and request:
                if request not in found:
                    found.append(request)
                break
    return found


def with_requests(body, requests):
    """A write's ``body`` carrying ``requests`` (operation_requests) as ``properties.resourceGuardOperationRequests``, as
    Microsoft's clients send them; ``body`` itself when there are none. ``body`` is not modified (a retry resends it)."""
    if not requests:
        return body
    return dict(body, properties=dict(body.get('properties') or {}, resourceGuardOperationRequests=list(requests)))


def needs_proxy(record):
    """Whether a vault record's guard is only to be known from its proxy: the vault reports that a guard protects it
    (``mua.protected``) and names none (a live GET names none: tests/fixtures/azure-real/ps-rs-mua)."""
    found = state(record or {})
    return bool(found.get('protected')) and not found.get('resource_guard_id')


def with_proxy(record, proxies):
    """The vault record's ``mua`` completed from its proxies (the GET of ``backupResourceGuardProxies``: proxy_guard):
    the guard's id, and the operations it protects as their request ids name them (``<guard>/<operation>/default``), in
    the proxy's order. Unchanged when no proxy names a guard."""
    guard, details = proxy_guard(proxies)
    mua = dict(record.get('mua') or {}) if isinstance(record.get('mua'), Mapping) else {}
    if not guard:
        return mua
    operations = []
    for detail in details:
        operation = _operation_of(detail.get('defaultResourceRequest') or '')
        if operation and operation not in operations:
            operations.append(operation)
    mua.update(protected=True, resource_guard_id=guard, protected_operations=operations)
    return mua


class GuardError(VaultlockError, ValueError):
    """A Resource Guard association this collection refuses before any request."""


# What the ARM id of a Resource Guard looks like, for error messages.
GUARD_ID_FORM = '/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.DataProtection/resourceGuards/<name>'


# What may stand in a Resource Guard id: the characters of a resource group name (Learn, "Naming rules and restrictions for
# Azure resources": Unicode letters and digits, '_', '-', '.', '(' and ')') and '/'. Learn: "Don't use # in a resource name";
# '?' starts a query and '%' an escape, and whitespace, control and format characters and variation selectors show
# nothing or change how the id reads, so none of them can be part of the id of a guard a person chose.
_ID_CHARACTER = re.compile(r'[-\w.()/]')
# A Resource Guard's name. Learn's naming rules list no Resource Guard and the DataProtection spec gives its name no
# pattern: assumed letters A-Z, digits, '-', '_' and '.', not ending with '.', the characters every guard name in the
# REST spec examples, Microsoft's clients' examples and recordings uses (Azure's own rule may be narrower; a name outside
# it is refused before any request, never sent).
GUARD_NAME = re.compile(r'[A-Za-z0-9_-]|[A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_-]')
_ID_SHAPE = ('subscriptions', None, 'resourcegroups', None, 'providers', 'microsoft.dataprotection', 'resourceguards', None)


def _odd_characters(text):
    """'' or ": it holds '?' (U+003F QUESTION MARK), '\\ufe0f' (U+FE0F VARIATION SELECTOR-16)": the characters of ``text``
    no Resource Guard id holds, each escaped as shown() writes it, with its code point and name."""
    odd = []
    for char in text:
        if not _ID_CHARACTER.fullmatch(char):
            name = unicodedata.name(char, '')
            label = '%s (U+%04X%s)' % (shown(char), ord(char), ' ' + name if name else '')
            if label not in odd:
                odd.append(label)
    return (': it holds %s' % ', '.join(odd)) if odd else ''


def guard_id(value, where):
    """The ARM id of a Resource Guard (provider and type in any casing, as ARM compares them), or None for null / '';
    raises DriftError naming ``where`` for anything else.

    Well formed: ``/subscriptions/<GUID>/resourceGroups/<resource group>/providers/Microsoft.DataProtection/resourceGuards/
    <name>`` with at most one trailing '/', no space anywhere (surrounding ones included), no character a resource group
    name or a guard name cannot hold (``_odd_characters`` names them) and no child resource. azure-mgmt-core's parser,
    which this took before, accepts '?', '#', spaces and invisible characters in every part."""
    if value is None or (isinstance(value, str) and value == ''):
        return None
    refusal = "%s must be the ARM id of a Resource Guard (%s) or null, got %s" % (where, GUARD_ID_FORM, shown(value))
    if not isinstance(value, str):
        raise DriftError(refusal)
    odd = _odd_characters(value)
    if odd:
        raise DriftError(refusal + odd)
    text = value[:-1] if value.endswith('/') else value
    parts = text.split('/')
    if parts[0] != '' or len(parts) != len(_ID_SHAPE) + 1:
        raise DriftError(refusal)
    segments = parts[1:]
    for got, fixed in zip(segments, _ID_SHAPE):
        if fixed is not None and got.lower() != fixed:
            raise DriftError(refusal)
    subscription, group, name = segments[1], segments[3], segments[7]
    if not GUID.fullmatch(subscription):
        raise DriftError('%s: %s is not a subscription id (a GUID)' % (refusal, shown(subscription)))
    if not RG_NAME.fullmatch(group):
        raise DriftError("%s: %s is not a resource group name (1 to 90 letters, digits, '_', '-', '.', '(' or ')', not ending "
                         "with '.')" % (refusal, shown(group)))
    if not GUARD_NAME.fullmatch(name):
        raise DriftError("%s: %s is not a Resource Guard name (letters A-Z, digits, '-', '_' and '.', not ending with '.')"
                         % (refusal, shown(name)))
    return arm_tools().resource_id(subscription=subscription, resource_group=group, namespace=segments[5], type=segments[6],
                                   name=name)


def same_guard(one, two):
    return bool(one) and bool(two) and str(one).rstrip('/').lower() == str(two).rstrip('/').lower()


def plan(vault_type, mua, want, vault_name='?'):
    """The change that associates a vault with the Resource Guard ``want``; [] when it already is; raises GuardError
    before any request when the vault is protected by another (or an invisible) guard, or when whether a guard protects
    it is unknown (``mua_state``)."""
    del vault_type
    if want is None:
        return []
    mua = mua or {}
    if mua.get('state') == UNKNOWN:
        raise GuardError("vault '%s' names the Resource Guard %s but reports its multi-user authorization as %s: whether a "
                         "guard protects it is unknown, so nothing was sent (associating a guard could be a change only the "
                         "guard itself may approve)" % (vault_name, mua.get('resource_guard_id') or '(none)', shown(mua.get('reported'))))
    if mua.get('protected') and same_guard(mua.get('resource_guard_id'), want):
        return []
    if mua.get('protected'):
        raise GuardError("vault '%s' is already protected by the Resource Guard %s; changing or removing a guard is a "
                         "critical operation the guard itself must approve, so nothing was sent"
                         % (vault_name, mua.get('resource_guard_id') or '(not visible to this identity)'))
    return [{'setting': 'mua', 'before': None, 'after': want, 'irreversible': False}]


def protected_body(vault_type):
    """The part of a vault body (ARM-shaped) that says a Resource Guard protects the vault, as a vault GET reports it once a
    proxy associates a guard (mua_state reads it): a Recovery Services vault's ``securitySettings.multiUserAuthorization``
    ``Enabled`` (recorded: tests/fixtures/azure-real/ps-rs-mua/get-mua-enabled.json), a Backup vault's
    ``isVaultProtectedByResourceGuard`` true (REST spec: read-only, whether a Resource Guard protects the vault). Check mode
    predicts the vault's policy_fields after an association from it."""
    if vault_type == 'recovery_services':
        return {'properties': {'securitySettings': {'multiUserAuthorization': 'Enabled'}}}
    return {'properties': {'isVaultProtectedByResourceGuard': True}}


def state(vault):
    """``{protected, resource_guard_id}`` of a vault record (``mua``, _vaults.vault_record), with ``state: unknown`` when
    read_mua could not tell; not protected when absent."""
    mua = vault.get('mua')
    if not isinstance(mua, Mapping):
        return {'protected': False, 'resource_guard_id': None}
    found = {'protected': bool(mua.get('protected')), 'resource_guard_id': mua.get('resource_guard_id')}
    if mua.get('state') == UNKNOWN:
        found.update(protected=False, state=UNKNOWN, reported=mua.get('reported'))
    return found


def protected_operations(vault):
    """The operations of a vault record its Resource Guard protects (``mua.protected_operations``), [] when unknown."""
    mua = vault.get('mua')
    operations = mua.get('protected_operations') if isinstance(mua, Mapping) else None
    return [str(op) for op in operations] if isinstance(operations, list) else []


class MuaRule(Rule):
    key = 'resource_guard_id'
    action = 'resource_guard'
    task = 'resource_guard'
    apply_rank = 2.8
    settings = (Setting('mua', 'multi-user authorization', 'resource_guard', (
        'VaultNotProtectedByResourceGuard', 'The vault is not protected by the Resource Guard the baseline names',
        'With a Resource Guard (multi-user authorization), critical operations such as disabling soft delete or reducing '
        'retention need an approval through the guard, which another team owns. Associating the guard needs rights on it '
        '(Learn, multi-user-authorization).', '6.5'),
        azure_policy={'recovery_services': ('c7031eab-0fc0-4cd9-acd0-4497bd66d91a',), 'backup': ('c58e083e-7982-4e24-afdc-be14d312389e',)}),)

    def validate_baseline(self, baseline):
        return guard_id(baseline.get(self.key), 'baseline.' + self.key)

    def vault_reads(self, vault, value):
        # Whether the vault is associated with the guard the baseline names is only known from its proxy when the vault
        # reports a guard without naming it (needs_proxy: every live GET): one read, for such vaults only.
        return ('resource_guard',) if value and needs_proxy(vault) else ()

    def evaluate(self, vault, baseline, context):
        want = baseline.get(self.key)
        if want is None:
            return [], None, []
        mua = state(vault)
        try:
            planned = plan(vault.get('vault_type'), mua, want, vault.get('name') or '?')
        except GuardError as exc:
            return [finding('mua', mua.get('resource_guard_id'), want, False, str(exc))], None, []
        if not planned:
            return [], None, []
        return ([finding('mua', None, want, True, 'associate the vault with the Resource Guard %s' % want)], want,
                [change(self.action, 'mua', None, want, False)])

    # Lock readiness: a vault may be required to be protected by a Resource Guard before it is locked.
    requirement = Requirement('require_mua', False, False, 3)

    flags = (Flag('mua', 'MUA', 'mua_protected', 'Protected by multi-user authorization', 'MUA protected', 'mua_protected',
                  lambda vault: bool((vault.get('mua') or {}).get('protected'))),)

    posture_key = 'mua'
    posture_label = 'multi-user authorization'

    def state(self, vault, baseline, findings):
        mua = state(vault)
        word = UNKNOWN if mua.get('state') == UNKNOWN else ('protected' if mua['protected'] else 'not_protected')
        return {'state': word, 'resource_guard_id': mua['resource_guard_id']}

    def check_requirement(self, value, where):
        return must_be_bool(value, where, self.requirement.key)

    def blocker(self, vault, want, context):
        mua = state(vault)
        if mua['protected']:
            return None
        if mua.get('state') == UNKNOWN:
            return True, False, ('require_mua: whether multi-user authorization protects the vault is unknown (it names the '
                                 'Resource Guard %s but reports %s)' % (mua.get('resource_guard_id') or '(none)', shown(mua.get('reported'))))
        return True, False, 'require_mua: the vault is not protected by multi-user authorization (no Resource Guard)'

    def read(self, vault_type, raw, security, resource):
        return {'mua': read_mua(vault_type, raw['properties'])}

    def report_entry(self, entry, plain):
        mua = entry.get('mua') if isinstance(entry.get('mua'), Mapping) else {}
        shown_mua = {'protected': bool(mua.get('protected')), 'resource_guard_id': plain(mua.get('resource_guard_id'))}
        if mua.get('state') == UNKNOWN:
            shown_mua['state'] = UNKNOWN
        return {'mua': shown_mua}

    def context(self, vault):
        return {'mua': state(vault)}

    def counts(self, entry):
        return {'mua_protected': 1 if (entry.get('mua') or {}).get('protected') else 0}

    def entry(self, vault):
        return {'mua': state(vault)}


RULE = MuaRule()
