# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Vault references and the two vault kinds behind one interface.

`VaultRef` parses and validates what a user wrote (name/resource group/type or an ARM id).
`vault_record()` turns a vault's ARM JSON into the record every module returns.
`backend(session, vault_type)` reads and writes vaults of one kind: reads (a vault, a list of vaults, a
vault's policies) are plain ARM GETs through one shared pipeline, with no SDK import and no SDK models
to build (bench/ showed both dominate a task's and a fleet audit's cost); writes go through the SDK.
"""

from __future__ import annotations

import re
import time
from urllib.parse import quote

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.arm_ids import GUID, RG_NAME, split_resource_id
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    InputError,
    UnreadableResourceError,
    UnreadAfterWriteError,
    VaultlockError,
    azure_errors,
    escaped,
    from_exception,
    has_control,
    shown,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import (
    PROVIDERS,
    VAULT_TYPES,
    kind_label,
    plural_label,
    vault_type_from_provider,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._policy import policy_fields
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import RULES, mua as mua_rule
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import mapping
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import RETRY_AFTER_MAX
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.transport import endpoint_authority
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.pacing import retry_after_seconds

# Every pattern below is used with fullmatch(): Python's `$` also matches before a final newline, so a name such as
# 'rsv-01\n' would pass a match() against '...$' and reach a request URL. GUID and RG_NAME are arm_ids' (the rules read
# ids with them too).
# Vault names: 2 to 50 characters, letters, digits and hyphens, starting with a letter (Azure's naming rules).
_VAULT_NAME = re.compile(r'[A-Za-z][A-Za-z0-9-]{0,48}[A-Za-z0-9]')


def validate_subscription(sub, option='subscription_id'):
    if not isinstance(sub, str) or not GUID.fullmatch(sub):
        raise InputError("%s: subscription id %s is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)" % (option, shown(sub)))
    return sub


def check_resource_group(name, option):
    """Raise InputError unless ``name`` is a resource group name (Azure's naming rules, no surrounding spaces): an empty
    name must never stand for "every resource group" in a scope."""
    if not isinstance(name, str) or not RG_NAME.fullmatch(name):
        raise InputError("%s: resource group name %s is not valid: 1 to 90 letters, digits, '_', '-', '.', '(' or ')', "
                         "not ending with '.'" % (option, shown(name)))


def not_found_reason(ref, code):
    """Why a read of the vault ``ref`` answered 404, from Azure's error code: the resource group or the subscription that is
    not there, or no vault of that kind and name (where a vault of the other kind may be: vault_type picks the kind)."""
    if code == 'ResourceGroupNotFound':
        return ("the resource group '%s' does not exist in subscription %s (or the identity cannot see it): check resource_group"
                % (ref.resource_group, ref.subscription_id))
    if code == 'SubscriptionNotFound':
        return 'the subscription %s was not found (or the identity cannot see it): check subscription_id' % ref.subscription_id
    other = kind_label('backup' if ref.vault_type == 'recovery_services' else 'recovery_services')
    return ('the vault does not exist (or the identity cannot see it): there is no %s of this name in the resource group; check '
            'the name and vault_type (a %s of the same name is another resource)' % (kind_label(ref.vault_type), other))


class VaultRef:
    """One vault: subscription, resource group, name and kind."""

    def __init__(self, subscription_id, resource_group, name, vault_type):
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.name = name
        self.vault_type = vault_type

    @property
    def id(self):
        ns, rtype = PROVIDERS[self.vault_type]
        return '/subscriptions/%s/resourceGroups/%s/providers/%s/%s/%s' % (
            self.subscription_id, self.resource_group, ns, rtype, self.name)

    @property
    def label(self):
        return "%s '%s' (resource group '%s', subscription %s)" % (kind_label(self.vault_type), self.name, self.resource_group, self.subscription_id)

    @classmethod
    def parse_id(cls, arm_id, vault_type=None, option='id'):
        """An ARM id of a vault; surrounding spaces are ignored, control characters (a trailing newline too) are refused."""
        if not isinstance(arm_id, str) or has_control(arm_id):
            raise InputError("%s: %s is not an ARM id of a vault: it contains a control character (a newline, say)"
                             % (option, shown(arm_id)))
        parts = split_resource_id(arm_id.strip(' '))
        if not parts.get('resource_group') or not parts.get('namespace') or not parts.get('name') or parts.get('last_child_num'):
            raise InputError("%s: %s is not an ARM id of a vault: expected /subscriptions/<guid>/resourceGroups/<group>/providers/"
                             "Microsoft.RecoveryServices/vaults/<name> or .../Microsoft.DataProtection/backupVaults/<name>"
                             % (option, shown(arm_id)))
        kind = vault_type_from_provider(parts['namespace'], parts['type'])
        if kind is None:
            raise InputError("%s: %s names a %s/%s resource, not a Recovery Services vault or a Backup vault"
                             % (option, shown(arm_id), parts['namespace'], parts['type']))
        if vault_type and vault_type != kind:
            raise InputError("%s: %s is a %s vault but vault_type is %s" % (option, shown(arm_id), kind, vault_type))
        # build() applies Azure's naming rules: a GUID subscription, and names without control characters or slashes.
        return cls.build(parts['subscription'], parts['resource_group'], parts['name'], kind,
                         options=(option, option, option))

    @classmethod
    def build(cls, subscription_id, resource_group, name, vault_type, options=('subscription_id', 'resource_group', 'name')):
        """Validate each part (fullmatch, no control character); options names the option each part came from."""
        if vault_type not in VAULT_TYPES:
            raise InputError("vault_type must be one of %s; got %s" % (', '.join(VAULT_TYPES), shown(vault_type)))
        validate_subscription(subscription_id, options[0])
        check_resource_group(resource_group, options[1])
        check_vault_name(name, options[2])
        return cls(subscription_id, resource_group, name, vault_type)

    @classmethod
    def from_params(cls, params, default_subscription):
        """From module params: id, or name + resource_group + vault_type (+ subscription)."""
        if params.get('id'):
            if params.get('name') or params.get('resource_group'):
                raise InputError('give either id, or name and resource_group, not both')
            return cls.parse_id(params['id'], params.get('vault_type'))
        missing = [k for k in ('name', 'resource_group', 'vault_type') if not params.get(k)]
        if missing:
            raise InputError('identify the vault by id, or by name, resource_group and vault_type (missing: %s)' % ', '.join(missing))
        return cls.build(default_subscription(), params['resource_group'], params['name'], params['vault_type'])


def check_vault_name(name, option='name'):
    """InputError unless ``name`` is a vault name Azure accepts (option: the option it came from, for the message)."""
    if not isinstance(name, str) or not _VAULT_NAME.fullmatch(name):
        raise InputError("%s: vault name %s is not valid: 2 to 50 letters, digits or hyphens, starting with a letter "
                         "and ending with a letter or digit" % (option, shown(name)))


def parse_resource_id(arm_id):
    """subscription_id, resource_group and name of a top-level resource id ARM returned; {} for anything else."""
    parts = split_resource_id(arm_id) if isinstance(arm_id, str) and not has_control(arm_id) else {}
    if not parts.get('resource_group') or not parts.get('name') or parts.get('last_child_num'):
        return {}
    return {'subscription_id': parts['subscription'], 'resource_group': parts['resource_group'], 'name': parts['name']}


def patched_policy_fields(record, bodies, vault_type):
    """The record's policy_fields as a read after the vault PATCH ``bodies`` (ARM-shaped, sent in order) will report
    them: check mode's predicted record, whose option fields the module sets itself, must not keep the fields Azure
    Policy judges as they were read before (a lock predicted, and the record still saying Unlocked). A record without
    policy_fields is left without."""
    if not isinstance(record.get('policy_fields'), dict):
        return record.get('policy_fields')
    fields = dict(record['policy_fields'])
    for body in bodies:
        patched = policy_fields(body, vault_type)
        patched.pop('type', None)
        fields.update(patched)
    return fields


def vault_record(raw, vault_type):
    """ARM JSON of a vault -> the collection's vault record (same shape in every module).

    Raises UnreadableResourceError (naming the vault id and the field) for a body the collection cannot read:
    no `properties`, an immutability or soft delete state it has never seen, a day count that is not a whole number.
    """
    if not isinstance(raw, dict):
        raise UnreadableResourceError('a %s in the list' % vault_type.replace('_', ' '), 'the vault body', raw, 'a JSON object')
    resource = raw.get('id') if isinstance(raw.get('id'), str) and raw.get('id') else \
        'vault %s' % (raw.get('name') if isinstance(raw.get('name'), str) else '(no id or name)')
    ids = parse_resource_id(raw['id']) if isinstance(raw.get('id'), str) else {}
    if not ids:
        raise UnreadableResourceError(resource, 'id', raw.get('id'), 'an ARM id of a vault')
    if not isinstance(raw.get('properties'), dict):
        raise UnreadableResourceError(resource, 'properties', raw.get('properties'), 'a JSON object with the vault properties')
    props = raw['properties']
    security = mapping(props.get('securitySettings'), resource, 'properties.securitySettings')
    tags = raw.get('tags')
    record = {
        'id': raw['id'],
        'name': raw.get('name') if isinstance(raw.get('name'), str) and raw.get('name') else ids.get('name'),
        'resource_group': ids.get('resource_group'),
        'subscription_id': ids.get('subscription_id'),
        'location': raw.get('location'),
        'vault_type': vault_type,
    }
    # Each hardening rule reads its own settings (the same from ARM bodies and Resource Graph rows).
    for rule in RULES:
        record.update(rule.read(vault_type, raw, security, resource))
    record.update(tags=tags if isinstance(tags, dict) else {}, provisioning_state=props.get('provisioningState'))
    # What the Azure Policy built-in definitions read of the body (type and a few properties), for the azure_policy
    # section of the role's reports (_policy.evaluate).
    record['policy_fields'] = policy_fields(raw, vault_type)
    return record


def unreadable_record(raw, vault_type, error):
    """What can be said of a vault whose body could not be read: where it is, and why (for reports and inventories).

    ``policy_fields`` too: the hardening rules cannot read the body, but Azure Policy judges it all the same (its
    definitions read a few properties, whatever the others hold), so the role's azure_policy section judges it as well.
    """
    raw = raw if isinstance(raw, dict) else {}
    ids = parse_resource_id(raw.get('id')) if isinstance(raw.get('id'), str) else {}
    return {
        'id': raw.get('id') if isinstance(raw.get('id'), str) else None,
        'name': raw.get('name') if isinstance(raw.get('name'), str) else ids.get('name'),
        'resource_group': ids.get('resource_group'),
        'subscription_id': ids.get('subscription_id'),
        'location': raw.get('location') if isinstance(raw.get('location'), str) else None,
        'vault_type': vault_type,
        'unreadable': {'field': error.field, 'message': str(error)},
        'policy_fields': policy_fields(raw, vault_type),
    }


def _retry_after(headers, default):
    """Seconds to wait as Azure asks (Retry-After, or retry-after-ms; see _client.honour_zero_retry_after)."""
    try:
        if headers.get('retry-after') is None and headers.get('retry-after-ms') is not None:
            return max(0.0, min(float(headers['retry-after-ms']) / 1000.0, RETRY_AFTER_MAX))
    except (TypeError, ValueError):
        return float(default)
    seconds = retry_after_seconds(headers.get('retry-after'))   # seconds or an HTTP date (RFC 9110)
    return float(default) if seconds is None else min(seconds, RETRY_AFTER_MAX)


def arm_path(*segments):
    """An ARM path from raw segments, each percent-encoded as the SDKs do."""
    return '/' + '/'.join(quote(str(segment), safe='') for segment in segments)


def _labelled(exc, operation, resource):
    """An error raised inside the pipeline (a refused link, say) with the operation and the vault it belongs to."""
    if exc.resource is not None:
        return exc
    return AzureOperationError(operation, resource, exc.status, exc.code, exc.azure_message, exc.request_id, exc.hint)


def _as_dict(model):
    if model is None:
        return None
    if isinstance(model, dict) and not hasattr(model, 'as_dict'):
        return model
    return model.as_dict()


# Reads of a resource right after Azure accepted a write to it: a failed or unreadable (truncated) answer is read again,
# a little later, before the outcome is reported as unknown.
REREADS = 3
REREAD_DELAY = 0.5


def reread(read, operation, resource):
    """``read()`` after an accepted write, up to REREADS times; UnreadAfterWriteError when no answer can be read."""
    error = None
    for attempt in range(REREADS):
        try:
            return read()
        except UnreadAfterWriteError:
            raise
        except VaultlockError as exc:
            error = exc
        if attempt + 1 < REREADS:
            time.sleep(REREAD_DELAY * (attempt + 1))
    raise UnreadAfterWriteError(error, operation, resource)


class AcceptedWriteUnreadable(AzureOperationError):
    """A long-running write Azure accepted whose end could not be read (the final read's body truncated or not JSON): the
    change may have been applied, so the outcome is unknown (re-read before anything is sent again)."""

    outcome_unknown = True


# A vault is settled, and may be written to, only when a fresh ARM read says provisioningState Succeeded (in any case;
# nothing else: not with spaces or control characters around it).
#
# Which values Azure sends: a Backup vault's ProvisioningState is the enum Failed, Provisioning, Succeeded, Unknown,
# Updating (the DataProtection spec; sdk-models/enums.txt; Learn, azure-mgmt-dataprotection ProvisioningState); a Recovery
# Services vault's is a plain string the spec lists no values of. Recorded: Provisioning in the 201 of a create (both
# kinds), Updating in the 201 of every Backup vault update (cliext-dp-vault-update), Succeeded in every read made after an
# operation had ended. Everything but Succeeded means an operation on the vault has not ended (Provisioning, Updating), did
# not succeed (Failed) or cannot be told (Unknown).
#
# An absent value counts as not settled (assumed, the safe side: no source says what a read without one means). Every
# vault body in the recordings and the spec examples carries provisioningState, at every api-version recorded (Recovery
# Services 2021-03-01 to 2026-07-01, Backup vaults 2022-12-01 and 2023-05-01) and in the 2021-03-01 contract too (the
# emulator's OLD_SHAPE_PROPERTIES), so a read without one is not an
# answer Azure is known to give, and it cannot say that no operation is running. Learn's async-operations page does say
# that a write's own 201/202 answer without provisioningState means the operation finished; that is the answer to one's
# own write, not a read of a vault another task's operation may still be changing, and for an irreversible write the
# safe side is to wait.
#
# Reversible writes wait as well (every write of the four state modules and of harden_apply): whether a change can be
# undone is judged from the vault as read (a retention raise or time-based days are irreversible only on a Locked vault),
# and while an operation runs the vault may not end as it reads (the running operation may be the lock itself, or end
# Failed); and a write sent while another runs races with it, so what a task then reports as changed could be untrue.
SETTLED_STATE = 'succeeded'


# How much of an odd provisioningState a message shows (Azure's are single words).
SHOWN_STATE_LENGTH = 80


def unsettled_state(state):
    """None when ``state`` (a vault's provisioningState) says Succeeded, in any case; else how to name it in a message:
    a plain word as it is; anything else (spaces around it, control characters, characters that show nothing or reorder
    the text, no text at all) quoted and escaped as _errors.shown writes it, and cut after SHOWN_STATE_LENGTH characters."""
    if state is None or (isinstance(state, str) and not state.strip()):
        return ''
    if not isinstance(state, str):
        return shown(state)
    if state.lower() == SETTLED_STATE:
        return None
    if len(state) > SHOWN_STATE_LENGTH:
        return '%s... (%d characters)' % (shown(state[:SHOWN_STATE_LENGTH]), len(state))
    return state if state == state.strip() and escaped(state) == state else shown(state)


class VaultBusyError(VaultlockError):
    """A write refused before it was sent: a fresh read of the vault does not say provisioningState Succeeded."""

    def __init__(self, label, state):
        self.label = label
        self.state = state
        if state:
            why = ('reads provisioningState %s, not Succeeded: an operation on the vault has not ended in Azure (or did not '
                   'succeed)' % state)
        else:
            why = ('reads no provisioningState, so whether an operation on the vault is still running in Azure cannot be told '
                   '(every vault Azure answers carries one)')
        super().__init__('%s %s, so nothing was sent to it. Wait until the operation has finished and the vault reads '
                         'Succeeded, then run again (it reads the vault first)' % (label, why))


def check_settled(label, state):
    """Raise VaultBusyError unless ``state`` (a fresh read's provisioningState) says Succeeded."""
    busy = unsettled_state(state)
    if busy is not None:
        raise VaultBusyError(label, busy)


def _accepted(exc):
    """An error met while following an accepted long-running write: an unreadable answer makes the outcome unknown."""
    if exc.code != 'InvalidResponseBody' or isinstance(exc, AcceptedWriteUnreadable):
        return exc
    return AcceptedWriteUnreadable(exc.operation, exc.resource, exc.status, exc.code,
                                   '%s, after Azure had accepted the request: whether it was applied is unknown' % exc.azure_message,
                                   exc.request_id, exc.hint)


class _Backend:
    vault_type = None
    sdk = None
    api_version = None
    policy_api_version = None

    def __init__(self, session):
        self.session = session
        # The write (an AzureOperationError, OperationTimedOut) whose long-running operation did not finish within
        # wait_timeout although a fresh read already shows its change: the operation may still be running (and may still
        # end Failed), so no further write of this vault may follow it in this run (see reconcile).
        self.unfinished = None

    def client(self, subscription_id):
        return self.session.client(self.sdk, subscription_id)

    def _call(self, operation, resource, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AzureOperationError as exc:
            raise _labelled(exc, operation, resource)
        except self.session_errors() as exc:
            raise self._with_status(from_exception(exc, operation, resource))

    def _with_status(self, exc):
        """An unreadable answer whose SDK error does not carry the HTTP status: take it from the pipeline."""
        explain = getattr(self.session, 'explain', None)
        if explain is not None:
            exc = explain(exc)   # an HTTP 401: which credential's token Azure refused
        status = getattr(self.session, 'last_status', lambda: None)()
        if exc.code != 'InvalidResponseBody' or exc.status is not None or status is None:
            return exc
        return AzureOperationError(exc.operation, exc.resource, status, exc.code,
                                   exc.azure_message.replace('Azure answered with', 'Azure answered HTTP %s with' % status),
                                   exc.request_id)

    def session_errors(self):
        return azure_errors()

    def _wait(self, poller, operation, ref):
        timeout = self.session.settings['wait_timeout']
        try:
            poller.wait(timeout=timeout)
            if not poller.done():
                raise AzureOperationError(operation, ref.label, None, 'OperationTimedOut',
                                          'the long-running operation did not finish within wait_timeout=%ss; '
                                          'the vault state is unknown, read it again before retrying' % timeout)
            result = _as_dict(poller.result())
            # The operation's last answer (for a PATCH, the SDK's read of the vault once it succeeded) for whoever reads
            # the vault next on this thread (AzureSession.take_sdk_read). LROBasePolling keeps it; other pollers may not.
            note = getattr(self.session, 'note_sdk_read', None)
            if note is not None:
                note(getattr(poller.polling_method(), '_pipeline_response', None))
            return result
        except AzureOperationError as exc:
            raise _accepted(_labelled(exc, operation, ref.label))
        except self.session_errors() as exc:
            raise _accepted(self._with_status(from_exception(exc, operation, ref.label)))

    def vault_path(self, ref):
        namespace, resource_type = PROVIDERS[self.vault_type]
        return arm_path('subscriptions', ref.subscription_id, 'resourceGroups', ref.resource_group, 'providers', namespace,
                        resource_type, ref.name)

    def get(self, ref):
        """ARM JSON of the vault; AzureOperationError with status 404 when it does not exist."""
        return self.session.arm_get(self.vault_path(ref), self.api_version, 'read vault', ref.label)

    def list(self, subscription_id, resource_group=None):
        """ARM JSON of every vault of this kind in a subscription or resource group (all pages)."""
        label = 'subscription %s' % subscription_id if not resource_group else "resource group '%s' (subscription %s)" % (
            resource_group, subscription_id)
        namespace, resource_type = PROVIDERS[self.vault_type]
        scope = ('subscriptions', subscription_id) + (('resourceGroups', resource_group) if resource_group else ())
        body = self.session.arm_get(arm_path(*(scope + ('providers', namespace, resource_type))), self.api_version,
                                    'list %s' % plural_label(self.vault_type), label)
        return body.get('value') or []

    def patch(self, ref, body, operation, **kwargs):
        """PATCH the vault and wait for the long-running operation.

        The retry policy never re-sends a write whose outcome is unknown; reconcile_patch re-reads the
        vault before deciding to send it again.
        """
        poller = self._call(operation, ref.label, self._begin_update, ref, body, **kwargs)
        return self._wait(poller, operation, ref)

    def reconcile_patch(self, ref, body, operation, applied, irreversible=False):
        """PATCH the vault once; see reconcile for what happens when the outcome is unknown."""
        return self.reconcile(ref, lambda: self.patch(ref, body, operation), operation, applied, irreversible)

    def reconcile(self, ref, send, operation, applied, irreversible=False):
        """Send a write once; when its outcome is unknown (5xx, broken connection), re-read before any retry.

        `send()` sends the write; `applied(raw_vault) -> bool` tells whether the change is already in place.
        The write is sent a second time only when a fresh read shows that it did not take effect and the vault
        is idle, so no step is ever repeated blindly. An irreversible write (Locked, AlwaysOn) is never sent a
        second time at all: the first may still be on its way, so the task fails and says so.
        """
        try:
            return send()
        except AzureOperationError as exc:
            if not exc.outcome_unknown:
                raise
            current = reread(lambda: self.get(ref), operation, ref.label)
            if applied(current):
                if exc.code == 'OperationTimedOut':
                    # The vault reads as changed, but its operation has not ended: the step is done as far as a read
                    # can tell, and whoever sends a further write of this vault must not while it may still be running.
                    self.unfinished = exc
                    note = getattr(self.session, 'note_unfinished', None)
                    if note is not None:
                        note(exc)
                return current
            if exc.code == 'OperationTimedOut':
                # Azure may still be working on it: never send it again while its fate is unknown.
                raise
            if irreversible:
                raise AzureOperationError(operation, ref.label, exc.status, exc.code,
                                          '%s; a fresh read does not show the change yet, and an irreversible change is never '
                                          'sent twice while the first request may still be on its way: run the task again '
                                          'later (it reads the vault first)' % exc.azure_message, exc.request_id)
            state = unsettled_state((current.get('properties') or {}).get('provisioningState'))
            if state is not None:
                raise AzureOperationError(operation, ref.label, exc.status, exc.code,
                                          '%s; the vault now reads %s and the outcome is unknown: run the task again once '
                                          'Azure has finished' % (exc.azure_message, 'provisioningState %s' % state if state
                                                                  else 'no provisioningState'), exc.request_id)
            return send()

    def read_existing(self, ref):
        """(ARM JSON, record) of a vault that exists, whatever its provisioningState (the reads after a write, which
        say what it did); clear errors otherwise. Only a 404 means "not found"; every other error is reported as itself.
        """
        try:
            raw = self.get(ref)
        except AzureOperationError as exc:
            if exc.not_found:
                raise AzureOperationError('read vault', ref.label, 404, exc.code or 'ResourceNotFound', not_found_reason(ref, exc.code),
                                          exc.request_id)
            raise
        return raw, vault_record(raw, ref.vault_type)

    def read_settled(self, ref):
        """read_existing of a vault that may be written to now: VaultBusyError unless it reads provisioningState
        Succeeded (see SETTLED_STATE)."""
        raw, record = self.read_existing(ref)
        check_settled(ref.label, record.get('provisioning_state'))
        return raw, record

    def guard_proxies(self, ref):
        """ARM JSON of the vault's Resource Guard proxies: GET .../vaults/{v}/backupResourceGuardProxies
        (ResourceGuardProxies_Get, recoveryservicesbackup) or .../backupVaults/{v}/backupResourceGuardProxies
        (DppResourceGuardProxies_List); a vault a guard protects has one, which names the guard and the request id of each
        operation it protects. A vault GET names neither (tests/fixtures/azure-real/ps-rs-mua)."""
        body = self.session.arm_get(self.vault_path(ref) + '/backupResourceGuardProxies', self.policy_api_version,
                                    'read resource guard proxy', ref.label)
        return body.get('value') or []

    def with_guard(self, ref, record):
        """``record`` with its Resource Guard read from the vault's proxy when the vault reports that a guard protects it
        and its body names none (mua_rule.needs_proxy: a live vault GET never names it); one GET, none otherwise."""
        if mua_rule.needs_proxy(record):
            record = dict(record, mua=mua_rule.with_proxy(record, self.guard_proxies(ref)))
        return record

    def guard_requests(self, ref, record, operations):
        """The Resource Guard operation request ids a write of ``operations`` (vault critical operations, mua_rule) carries,
        as Microsoft's clients send them (mua_rule.RS_SOFT_DELETE): read from the vault's proxy only when the vault record
        says a guard protects it or may (``mua`` protected or unknown), so an unguarded vault costs no read; [] otherwise."""
        state = mua_rule.state(record or {})
        if not operations or not (state.get('protected') or state.get('state') == 'unknown'):
            return []
        details = mua_rule.proxy_guard(self.guard_proxies(ref))[1]
        return mua_rule.operation_requests(details, operations)

    def list_policies(self, ref):
        """ARM JSON of every backup policy of the vault (all pages)."""
        body = self.session.arm_get(self.vault_path(ref) + '/backupPolicies', self.policy_api_version, 'list backup policies', ref.label)
        return body.get('value') or []

    def get_policy(self, ref, name):
        """ARM JSON of one policy; AzureOperationError with status 404 when it does not exist."""
        return self.session.arm_get(self.vault_path(ref) + '/backupPolicies' + arm_path(name), self.policy_api_version,
                                    'read backup policy', "policy '%s' of %s" % (name, ref.label))

    def put_policy(self, ref, name, body):
        """PUT a policy (callers never PUT an unchanged one) and return what Azure keeps afterwards.

        When the PUT's answer has no policy (an accepted 202), the policy is read back (reread): a read that fails then is
        not the PUT's failure, and an unreadable policy is UnreadAfterWriteError, never a PUT to send again.
        """
        label = "policy '%s' of %s" % (name, ref.label)
        result = self._call('update backup policy', label, self._put_policy, ref, name, body, label)
        if result is not None:
            return _as_dict(result)
        return reread(lambda: self.get_policy(ref, name), 'update backup policy', label)

    def reconcile_policy(self, ref, name, body, applied, unchanged, irreversible=False):
        """PUT a policy once; when the outcome is unknown (5xx, broken connection, timeout), re-read it first.

        `applied(policy)`: the PUT is in place (success, nothing more is sent). `unchanged(policy)`: the policy is still
        as it was before, so the PUT may be sent once more, unless it is irreversible (a raise on a Locked vault) or
        may still be running (OperationTimedOut). Anything else (someone changed it meanwhile) is reported, not overwritten.
        """
        label = "policy '%s' of %s" % (name, ref.label)
        try:
            return self.put_policy(ref, name, body)
        except AzureOperationError as exc:
            if not exc.outcome_unknown:
                raise
            current = reread(lambda: self.get_policy(ref, name), 'update backup policy', label)
            if applied(current):
                return current
            why = None
            if exc.code == 'OperationTimedOut':
                why = 'Azure may still be working on it'
            elif irreversible:
                why = 'raising retention of a Locked vault is irreversible, and it is never sent twice while the first request ' \
                      'may still be on its way'
            elif not unchanged(current):
                why = 'the policy changed meanwhile, and it is not overwritten blindly'
            if why:
                raise AzureOperationError('update backup policy', label, exc.status, exc.code,
                                          '%s; a fresh read does not show the change: %s. Run the task again (it reads the '
                                          'policy first)' % (exc.azure_message, why), exc.request_id)
            return self.put_policy(ref, name, body)


class RecoveryServicesBackend(_Backend):
    vault_type = 'recovery_services'
    sdk = 'recoveryservices'
    # Reads use the api-versions the SDKs in requirements.txt default to (azure-mgmt-recoveryservices and
    # azure-mgmt-recoveryservicesbackup), so a read sees what a write through the SDK sends.
    api_version = '2026-11-01'
    policy_api_version = '2026-10-01'

    def _begin_update(self, ref, body, **kwargs):
        return self.client(ref.subscription_id).vaults.begin_update(ref.resource_group, ref.name, body, **kwargs)

    def put_guard_proxy(self, ref, guard, operation):
        """PUT .../vaults/{v}/backupResourceGuardProxies/VaultProxy (ResourceGuardProxy_Put, synchronous): associates the
        vault with a Resource Guard (multi-user authorization)."""
        client = self.session.client('recoveryservicesbackup', ref.subscription_id)
        body = {'properties': {'resourceGuardResourceId': guard}}
        return _as_dict(self._call(operation, ref.label, client.resource_guard_proxy.put, ref.name, ref.resource_group, 'VaultProxy', body))

    def update_vault_config(self, ref, body, operation):
        """PATCH .../vaults/{v}/backupconfig/vaultconfig (backup resource vault config; synchronous, 200)."""
        client = self.session.client('recoveryservicesbackup', ref.subscription_id)
        return _as_dict(self._call(operation, ref.label, client.backup_resource_vault_configs.update, ref.name, ref.resource_group, body))

    def _put_policy(self, ref, name, body, label):
        """PUT, then follow Azure's 202 + operation status flow (the SDK returns None on 202)."""
        client = self.session.client('recoveryservicesbackup', ref.subscription_id)

        status, deserialized, headers = client.protection_policies.create_or_update(ref.name, ref.resource_group, name, body,
                                                                                    cls=_answer)
        if status != 202:
            return deserialized
        url = headers.get('azure-asyncoperation') or headers.get('location') or ''
        allowed = endpoint_authority(self.session.cloud.resource_manager)
        if endpoint_authority(url) != allowed:
            raise AzureOperationError('update backup policy', label, None, 'UntrustedEndpoint',
                                      'Azure named %s://%s for the operation status, which is not the Azure Resource Manager '
                                      'endpoint in use (%s://%s); it was not called' % (endpoint_authority(url) + allowed))
        op_id = url.split('?')[0].rstrip('/').split('/')[-1]
        deadline = time.monotonic() + self.session.settings['wait_timeout']
        interval = self.session.settings['polling_interval']
        # Each wait is the one Azure asked for: the 202's Retry-After before the first status read, then each status
        # answer's own (Learn, async operations: the status URL may send Retry-After too), else polling_interval. No
        # status read before the first wait: it would only spend a read of the subscription's budget.
        delay = _retry_after(headers, interval)
        while True:
            if time.monotonic() + delay > deadline:
                raise AzureOperationError('update backup policy', label, None, 'OperationTimedOut',
                                          'the policy update did not finish within wait_timeout=%ss; its state is unknown, '
                                          'read the policy again before retrying' % self.session.settings['wait_timeout'])
            time.sleep(delay)
            _status, operation, poll_headers = client.protection_policy_operation_statuses.get(ref.name, ref.resource_group, name,
                                                                                               op_id, cls=_answer)
            state = str(_as_dict(operation).get('status') or '').lower()
            if state == 'succeeded':
                return None
            if state in ('failed', 'canceled', 'cancelled'):
                error = _as_dict(operation).get('error') or {}
                raise AzureOperationError('update backup policy', label, None, error.get('code') or 'OperationFailed',
                                          error.get('message') or 'the policy update ended %s' % state)
            delay = _retry_after(poll_headers, interval)


def _answer(pipeline_response, deserialized, _headers):
    """An SDK call's ``cls``: (HTTP status, the model, the answer's headers with lower-case names); the SDK passes no
    headers for the policy operations, so they are read from the raw response."""
    response = pipeline_response.http_response
    return response.status_code, deserialized, {k.lower(): v for k, v in response.headers.items()}


class BackupVaultBackend(_Backend):
    vault_type = 'backup'
    sdk = 'dataprotection'
    api_version = '2026-06-01'  # azure-mgmt-dataprotection's default
    policy_api_version = '2026-06-01'

    def _begin_update(self, ref, body, **kwargs):
        return self.client(ref.subscription_id).backup_vaults.begin_update(ref.resource_group, ref.name, body, **kwargs)

    def put_guard_proxy(self, ref, guard, operation):
        """PUT .../backupVaults/{v}/backupResourceGuardProxies/DppResourceGuardProxy (DppResourceGuardProxy_Put, synchronous)."""
        body = {'properties': {'resourceGuardResourceId': guard}}
        client = self.client(ref.subscription_id)
        return _as_dict(self._call(operation, ref.label, client.dpp_resource_guard_proxy.create_or_update, ref.resource_group, ref.name,
                                   'DppResourceGuardProxy', body))

    def _put_policy(self, ref, name, body, label):  # pylint: disable=unused-argument
        # Azure updates no Backup vault policy (_retention.DP_NO_UPDATE: 400 UserErrorBMSUpdatePolicyNotSupported), and the
        # collection plans no such write (a weak tier is a violation no run fixes); should one reach here, it is not sent.
        raise VaultlockError("%s was not sent: Azure does not update an existing Backup vault policy (it answers "
                             "UserErrorBMSUpdatePolicyNotSupported); create a policy and move the backup instances to it" % label)


BACKENDS = {'recovery_services': RecoveryServicesBackend, 'backup': BackupVaultBackend}


def backend(session, vault_type):
    return BACKENDS[vault_type](session)
