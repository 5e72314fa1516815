# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What a vault protects: Recovery Services protected items and Backup vault backup instances.

``item_record()`` turns an item's JSON into the collection's item record; it reads ARM's bodies
(BackupProtectedItems_List, BackupInstances_List) and Resource Graph's ``recoveryservicesresources`` rows alike, so
both discovery paths return the same records. ``list_items()`` / ``attach_items()`` read them from ARM (plain GETs
through the session's ARM pipeline, paged, like every other read of the collection).
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, UnreadableResourceError
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import for_each_vault, scope_error
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import MAX_CONCURRENCY
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import (
    BackupVaultBackend,
    RecoveryServicesBackend,
    VaultRef,
    arm_path,
)

# Where each kind lists its items, and at which api-version (the SDK default each kind already reads with).
ITEM_LISTS = {
    'recovery_services': ('backupProtectedItems', RecoveryServicesBackend.policy_api_version),
    'backup': ('backupInstances', BackupVaultBackend.api_version),
}
# The path segment after the vault's id in an item's id.
_ITEM_MARKERS = {'recovery_services': '/backupfabrics/', 'backup': '/backupinstances/'}


def _last_segment(arm_id):
    return str(arm_id or '').rstrip('/').rsplit('/', 1)[-1] or None


def vault_id_of_item(item_id, vault_type):
    """The vault id an item id starts with (the casing of the item id), or None."""
    text = str(item_id or '')
    at = text.lower().find(_ITEM_MARKERS[vault_type])
    return text[:at] if at > 0 else None


def _object(value, resource, field):
    """A JSON object of an item that may be absent (None -> {}); anything else makes the item unreadable: an item read as
    one without a policy would count as protection stopped, and lock readiness would judge a vault it has not read."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UnreadableResourceError(resource, field, value, 'a JSON object')
    return value


def item_record(raw, vault_type, vault_id=None):
    """ARM JSON (or a Resource Graph row) of a protected item / backup instance -> the collection's item record.

    Record: ``{id, name, vault, vault_type, friendly_name, datasource_type, datasource_id, policy, policy_id,
    protection_state}``. ``datasource_type`` is the Recovery Services ``workloadType`` (VM, SQLDataBase,
    SAPHanaDatabase, AzureFileShare, ...) or the Backup vault ``dataSourceInfo.datasourceType`` (an ARM resource type
    such as Microsoft.Compute/disks). ``policy`` is the policy's name and ``policy_id`` is built from the vault's id
    (``vault_id`` when given, so records of both paths agree on casing). ``protection_state`` is ``protectionState``
    (Recovery Services, ``currentProtectionState`` when absent) or ``currentProtectionState`` (Backup vaults).
    """
    if not isinstance(raw, dict):
        raise UnreadableResourceError('a protected item of %s' % (vault_id or 'the vault'), 'the item', raw, 'a JSON object')
    resource = raw.get('id') if isinstance(raw.get('id'), str) and raw.get('id') else 'a protected item of %s' % (vault_id or 'the vault')
    props = _object(raw.get('properties'), resource, 'properties')
    vault = vault_id or vault_id_of_item(raw.get('id'), vault_type)
    if vault_type == 'recovery_services':
        source = _object(props.get('dataSourceInfo'), resource, 'properties.dataSourceInfo')
        datasource_type = props.get('workloadType') or source.get('datasourceType')
        datasource_id = props.get('sourceResourceId') or source.get('resourceID')
        policy = props.get('policyName') or _last_segment(props.get('policyId'))
        state = props.get('protectionState') or props.get('currentProtectionState')
    else:
        source = _object(props.get('dataSourceInfo'), resource, 'properties.dataSourceInfo')
        datasource_type = source.get('datasourceType')
        datasource_id = source.get('resourceID')
        policy = _last_segment(_object(props.get('policyInfo'), resource, 'properties.policyInfo').get('policyId'))
        state = props.get('currentProtectionState') or _object(props.get('protectionStatus'), resource, 'properties.protectionStatus').get('status')
    return {
        'id': raw.get('id'),
        'name': raw.get('name'),
        'vault': vault,
        'vault_type': vault_type,
        'friendly_name': props.get('friendlyName'),
        'datasource_type': datasource_type,
        'datasource_id': datasource_id,
        'policy': policy,
        'policy_id': ('%s/backupPolicies/%s' % (vault, policy)) if vault and policy else None,
        'protection_state': state,
    }


def list_items(session, record):
    """Item records of one vault record (ARM: all pages). Raises AzureOperationError."""
    ref = VaultRef(record['subscription_id'], record['resource_group'], record['name'], record['vault_type'])
    segment, api_version = ITEM_LISTS[record['vault_type']]
    namespace = 'Microsoft.RecoveryServices' if record['vault_type'] == 'recovery_services' else 'Microsoft.DataProtection'
    kind = 'vaults' if record['vault_type'] == 'recovery_services' else 'backupVaults'
    path = arm_path('subscriptions', ref.subscription_id, 'resourceGroups', ref.resource_group, 'providers', namespace, kind,
                    ref.name, segment)
    body = session.arm_get(path, api_version, 'list protected items', ref.label)
    try:
        items = [item_record(raw, record['vault_type'], record['id']) for raw in body.get('value') or []]
    except UnreadableResourceError as exc:
        # The vault's items are not read: an error of the vault (protected_items_error), never a traceback.
        raise AzureOperationError('list protected items', ref.label, 200, 'InvalidResponseBody', str(exc)) from None
    return sorted(items, key=lambda item: str(item['id']).lower())


def attach_items(session, records, max_concurrency=MAX_CONCURRENCY):
    """Add ``protected_items`` (item records, sorted by id) to each vault record; returns the per-vault errors.

    A vault whose items could not be read gets ``protected_items: []`` and ``protected_items_error: true``.
    """
    def load(record):
        try:
            return list_items(session, record), None
        except AzureOperationError as exc:
            label = VaultRef(record['subscription_id'], record['resource_group'], record['name'], record['vault_type']).label
            return None, scope_error(label, exc)

    return for_each_vault(records, load, 'protected_items', max_concurrency, interleave=False)
