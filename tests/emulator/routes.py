# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routes real clients call besides vaults and policies: resource guard proxies, the vault storage config, provider
metadata and the generic resource lists. Shapes from the REST spec examples copied to tests/fixtures/azure-reference
(``routes/recoveryservicesbackup/2026-10-01/examples/ResourceGuardProxyCRUD``, see SOURCE.md) and from the SDK models
(azure-mgmt-recoveryservicesbackup ``BackupResourceConfig``; azure-mgmt-resource ``Provider`` and
``GenericResourceExpanded``, the Microsoft.Resources spec's ``Provider`` and ``ResourceListResult``).

The callers hold the store lock; nothing here does I/O.
"""
from __future__ import annotations

import datetime
import re

from . import mua, security, versions
from .errors import ArmError, bad_request

RS_TYPE = "Microsoft.RecoveryServices/vaults"
DP_TYPE = "Microsoft.DataProtection/backupVaults"
PROXY_TYPE = "Microsoft.RecoveryServices/vaults/backupResourceGuardProxies"
# A Backup vault's proxy type as the live service and the DataProtection spec example (GetResourceGuardProxy.json) give it:
# "vaults", not "backupVaults" (tests/fixtures/azure-real/cliext-dp-guard-proxy).
DP_PROXY_TYPE = "Microsoft.DataProtection/vaults/backupResourceGuardProxies"
STORAGE_CONFIG_TYPE = "Microsoft.RecoveryServices/vaults/backupstorageconfig"
# A Backup vault's proxy, as the live service listed its operation details to the az CLI at api-version 2023-11-01
# (tests/fixtures/azure-real/cliext-dp-guard-proxy/get-proxy.json): (vault critical operation, the guard's request
# type or None when the detail carries no defaultResourceRequest), in the recorded order.
DP_GUARDED_OPERATIONS = (
    ("Microsoft.DataProtection/backupVaults/backupInstances/delete", "deleteBackupInstanceRequests"),
    ("Microsoft.DataProtection/backupVaults/backupInstances/restore/action", "dppTriggerRestoreRequests"),
    ("Microsoft.DataProtection/backupVaults/backupInstances/stopProtection/action", "dppDisableStopProtectionRequests"),
    ("Microsoft.DataProtection/backupVaults/backupInstances/suspendBackups/action", "dppDisableSuspendBackupsRequests"),
    ("Microsoft.DataProtection/backupVaults/backupInstances/write", "dppModifyPolicy"),
    ("Microsoft.DataProtection/backupVaults/backupResourceGuardProxies/delete", "deleteResourceGuardProxyRequests"),
    ("Microsoft.DataProtection/backupVaults/delete", None),
    ("Microsoft.DataProtection/backupVaults/read", None),
    ("Microsoft.DataProtection/backupVaults/write", None),
    ("Microsoft.DataProtection/backupVaults/write#reduceImmutabilityState", "dppReduceImmutabilityStateRequests"),
    ("Microsoft.DataProtection/backupVaults/write#reduceSoftDeleteSecurity", "dppReduceSoftDeleteSecurityRequests"),
)
# A Recovery Services vault's proxy, as the live service listed it to Azure PowerShell at api-version 2025-02-01
# (tests/fixtures/azure-real/ps-rs-mua/get-proxy.json): (vault critical operation, the guard's request type), in the
# recorded order. Three of them (modify protection, stop protection retaining data, deleting a MARS identity) the
# emulator lists and does not model.
RS_GUARDED_OPERATIONS = (
    ("Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/delete", mua.STOP_PROTECTION),
    ("Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/write", "updateProtectedItemRequests"),
    ("Microsoft.RecoveryServices/vaults/backupPolicies/write", mua.REDUCE_RETENTION),
    ("Microsoft.RecoveryServices/vaults/backupResourceGuardProxies/delete", mua.DELETE_PROXY),
    ("Microsoft.RecoveryServices/vaults/backupSecurityPIN/action", mua.MARS_PIN),
    ("Microsoft.RecoveryServices/vaults/backupconfig/write", mua.DISABLE_SOFT_DELETE),
    ("Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/write#stopProtectionWithRetainData",
     "stopProtectionWithRetainDataRequests"),
    ("Microsoft.RecoveryServices/vaults/write#reduceImmutabilityState", mua.DISABLE_IMMUTABILITY),
    ("Microsoft.RecoveryServices/vaults/registeredIdentities/delete", "deleteMABIdentityRequests"),
)
# How long an unlockDelete lasts: 30 minutes, the live service's answer to the az CLI for a Backup vault (request at
# 06:07:28, expiry 06:37:28.30; tests/fixtures/azure-real/cliext-dp-guard-proxy/unlock-delete.json); the spec examples
# give only an expiry time. That a Recovery Services proxy's unlockDelete lasts as long is assumed (no recording).
UNLOCK_DELETE_MINUTES = 30
_GUARD_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.DataProtection/resourceGuards/[^/]+$",
                       re.IGNORECASE)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


# ---------------------------------------------------------------------------------------- resource guard proxies
def proxy_body(vault_body: dict, name: str, proxy: dict, kind: str = "rs", excluded=()) -> dict:
    """A proxy as ResourceGuardProxy_Get answers it: a Recovery Services vault's as the live service answered Azure
    PowerShell (tests/fixtures/azure-real/ps-rs-mua/get-proxy.json: id, name, type, then the guard, RS_GUARDED_OPERATIONS
    and the time; the spec example's description is not in it). A Backup vault's proxy (DppResourceGuardProxy_Get) as the live service answered it
    (tests/fixtures/azure-real/cliext-dp-guard-proxy/get-proxy.json): the guard, DP_GUARDED_OPERATIONS and the time,
    in that order, no description."""
    guard = proxy["resourceGuardResourceId"]
    if kind != "rs":
        details = []
        for operation, request in DP_GUARDED_OPERATIONS:
            detail = {"vaultCriticalOperation": operation}
            if request is not None:
                detail["defaultResourceRequest"] = "%s/%s/default" % (guard, request)
            details.append(detail)
        return {"properties": {"resourceGuardResourceId": guard, "resourceGuardOperationDetails": details,
                               "lastUpdatedTime": proxy["lastUpdatedTime"]},
                "id": vault_body["id"] + "/backupResourceGuardProxies/" + name, "name": name, "type": DP_PROXY_TYPE}
    # A Recovery Services proxy as the live service listed it: RS_GUARDED_OPERATIONS, no description. An operation a fleet
    # excludes is left out (**assumed**: the recording has no exclusion; the live Backup vault proxy lists operations a
    # guard does not protect without a defaultResourceRequest, tests/fixtures/azure-real/cliext-dp-guard-proxy).
    excluded = {str(e).lower() for e in excluded or ()}
    details = [{"vaultCriticalOperation": operation, "defaultResourceRequest": "%s/%s/default" % (guard, request)}
               for operation, request in RS_GUARDED_OPERATIONS if request.lower() not in excluded]
    return {"id": vault_body["id"] + "/backupResourceGuardProxies/" + name, "name": name, "type": PROXY_TYPE,
            "properties": {"resourceGuardResourceId": guard, "resourceGuardOperationDetails": details,
                           "lastUpdatedTime": proxy["lastUpdatedTime"]}}


def guard_proxies(req, vault, name=None, action=None, aux_tenants=None, kind="rs"):
    """GET list; GET / PUT / DELETE one; POST .../unlockDelete (ResourceGuardProxies_Get, ResourceGuardProxy_*)."""
    proxies = vault.setdefault("guard_proxies", {})
    body = vault["body"]
    if name is None:
        if req.method != "GET":
            raise ArmError(405, "MethodNotAllowed", "The requested resource does not support http method '%s'." % req.method)
        return 200, {}, {"value": [proxy_body(body, p["name"], p, kind, vault.get("guard_excluded")) for p in proxies.values()]}
    key = name.lower()
    if action is not None:
        if req.method != "POST":
            raise ArmError(405, "MethodNotAllowed", "The requested resource does not support http method '%s'." % req.method)
        if key not in proxies:
            raise _proxy_missing(name)
        expiry = _now() + datetime.timedelta(minutes=UNLOCK_DELETE_MINUTES)
        return 200, {}, {"unlockDeleteExpiryTime": _iso(expiry)}
    if req.method == "GET":
        if key not in proxies:
            raise _proxy_missing(name)
        return 200, {}, proxy_body(body, proxies[key]["name"], proxies[key], kind, vault.get("guard_excluded"))
    if req.method == "PUT":
        props = (req.body or {}).get("properties") if isinstance(req.body, dict) else None
        guard = (props or {}).get("resourceGuardResourceId") if isinstance(props, dict) else None
        if not isinstance(guard, str) or not _GUARD_ID.match(guard):
            raise bad_request("BMSUserErrorInvalidInput",
                              "Input provided for the call is invalid: 'properties.resourceGuardResourceId' must be the id of a "
                              "Microsoft.DataProtection/resourceGuards resource.")
        proxies[key] = {"name": name, "resourceGuardResourceId": guard, "lastUpdatedTime": _iso(_now())}
        _show_guard(body, guard, kind)
        return 200, {}, proxy_body(body, name, proxies[key], kind, vault.get("guard_excluded"))
    if req.method == "DELETE":
        # Spec: 200 or 204; deleting a proxy that is not there succeeds (ARM delete idempotence).
        if key in proxies and aux_tenants is not None:
            # Removing MUA protection is a mandatory critical operation of the guard (mua.py).
            # Its operation request id travels with the unlockDelete before it (recorded: cliext-dp-guard-proxy/unlock-delete.json).
            mua.check(aux_tenants, req, vault, [mua.DELETE_PROXY], "delete resource guard proxy", requests=False)
        gone = proxies.pop(key, None)
        if gone and not proxies:
            _show_guard(body, None, kind)
        return (200 if gone else 204), {}, None
    raise ArmError(405, "MethodNotAllowed", "The requested resource does not support http method '%s'." % req.method)


def _show_guard(body: dict, guard, kind="rs"):
    """The vault shows its Resource Guard as a fleet ``resource_guard_id`` does (store.py): MUA is enabled by associating
    a Resource Guard with the vault (Learn, multi-user-authorization), which is what a proxy is."""
    props = body.get("properties")
    if not isinstance(props, dict):
        props = body["properties"] = {}
    if kind == "dp":
        # A Backup vault shows a guard as isVaultProtectedByResourceGuard (SDK BackupVault, read-only), as a fleet
        # resource_guard_id does (store.dp_vault_body).
        props["isVaultProtectedByResourceGuard"] = bool(guard)
        return
    sec = props.get("securitySettings")
    if not isinstance(sec, dict):
        sec = props["securitySettings"] = {}
    # Enabled and nothing more: a live GET names neither the guard nor its operations (tests/fixtures/azure-real/ps-rs-mua).
    sec["multiUserAuthorization"] = "Enabled" if guard else "Disabled"


def _proxy_missing(name):
    # The Backup service's 404 for a missing child resource (rec ps-rs-enhancedpolicy: a missing policy) has no code;
    # for a proxy the ARM shape with a code is assumed.
    return ArmError(404, "ResourceNotFound", "The resource guard proxy '%s' was not found." % name)


# ---------------------------------------------------------------------------------------- vault storage config
STORAGE_TYPES = ("LocallyRedundant", "GeoRedundant", "ZoneRedundant")
# Stored beside the vault body: the config fields the vault body does not carry.
_EXTRA_DEFAULTS = {"storageTypeState": "Unlocked", "dedupState": "Disabled", "xcoolState": "Disabled"}


def _storage_view(vault) -> dict:
    """The config is a view of the vault's redundancySettings, so a vault GET and the storage config agree (the vault
    config, backupconfig/vaultconfig, names no storage type: store.rs_vault_config_body); a vault without a valid redundancy is GeoRedundant (Learn,
    backup-create-recovery-services-vault: geo-redundant storage is the default)."""
    props = vault["body"].get("properties") or {}
    redundancy = props.get("redundancySettings") or {}
    storage = redundancy.get("standardTierStorageRedundancy")
    if storage not in STORAGE_TYPES:
        storage = "GeoRedundant"
    extra = vault.setdefault("storage_config", dict(_EXTRA_DEFAULTS))
    return {"storageModelType": storage, "storageType": storage, "storageTypeState": extra["storageTypeState"],
            "crossRegionRestoreFlag": redundancy.get("crossRegionRestore") == "Enabled", "dedupState": extra["dedupState"],
            "xcoolState": extra["xcoolState"]}


def storage_config(req, vault):
    """GET / PATCH / PUT .../vaults/{v}/backupstorageconfig/vaultstorageconfig (BackupResourceStorageConfigsNonCRR:
    GET and PUT answer 200 with the config, PATCH 204). A write changes the vault's redundancySettings."""
    if req.method in ("PATCH", "PUT"):
        props = (req.body or {}).get("properties") if isinstance(req.body, dict) else None
        if not isinstance(props, dict):
            raise bad_request("BMSUserErrorInvalidInput", "Input provided for the call is invalid: 'properties' is required.")
        storage = props.get("storageType") or props.get("storageModelType")
        if storage is not None and storage not in STORAGE_TYPES:
            raise bad_request("BMSUserErrorInvalidInput", "Input provided for the call is invalid: storageType '%s'." % storage)
        body = vault["body"]
        if not isinstance(body.get("properties"), dict):
            body["properties"] = {}
        old_redundancy = body["properties"].get("redundancySettings")
        old_redundancy = dict(old_redundancy) if isinstance(old_redundancy, dict) else {}
        old_redundancy["standardTierStorageRedundancy"] = _storage_view(vault)["storageType"]  # as the config shows it
        wanted = dict(old_redundancy)
        if storage is not None:
            wanted["standardTierStorageRedundancy"] = storage
        if props.get("crossRegionRestoreFlag") is not None:
            wanted["crossRegionRestore"] = "Enabled" if props["crossRegionRestoreFlag"] else "Disabled"
        # One-way storage settings (security.check_redundancy): refused before anything changes.
        security.check_redundancy("rs", {"redundancySettings": old_redundancy}, {"redundancySettings": wanted},
                                  bool(vault.get("items")))
        redundancy = body["properties"].get("redundancySettings")
        if not isinstance(redundancy, dict):
            redundancy = body["properties"]["redundancySettings"] = {}
        if storage is not None:
            redundancy["standardTierStorageRedundancy"] = storage
        if props.get("crossRegionRestoreFlag") is not None:
            redundancy["crossRegionRestore"] = "Enabled" if props["crossRegionRestoreFlag"] else "Disabled"
        extra = vault.setdefault("storage_config", dict(_EXTRA_DEFAULTS))
        for key in _EXTRA_DEFAULTS:
            if props.get(key) is not None:
                extra[key] = props[key]
        if req.method == "PATCH":
            return 204, {}, None  # spec: BackupResourceStorageConfigsNonCRR_Patch answers 204 (no body)
    elif req.method != "GET":
        raise ArmError(405, "MethodNotAllowed", "The requested resource does not support http method '%s'." % req.method)
    return 200, {}, {"id": vault["body"]["id"] + "/backupstorageconfig/vaultstorageconfig", "name": "vaultstorageconfig",
                     "type": STORAGE_CONFIG_TYPE, "properties": _storage_view(vault)}


# ---------------------------------------------------------------------------------------- provider metadata
def _resource_type(name, api_versions):
    return {"resourceType": name, "locations": list(versions.SUPPORTED_LOCATIONS), "apiVersions": list(api_versions)}


def provider(sid: str, namespace_low: str):
    """GET /subscriptions/{id}/providers/{ns} (Providers_Get) for the two namespaces the emulator serves, or None."""
    if namespace_low == "microsoft.recoveryservices":
        namespace = "Microsoft.RecoveryServices"
        types = [_resource_type("vaults", versions.RS_VAULT_VERSIONS),
                 _resource_type("operations", versions.RS_VAULT_VERSIONS)]
        types += [_resource_type(t, versions.RS_BACKUP_VERSIONS)
                  for t in ("vaults/backupPolicies", "vaults/backupconfig", "vaults/backupstorageconfig",
                            "vaults/backupResourceGuardProxies", "vaults/backupProtectedItems")]
    elif namespace_low == "microsoft.dataprotection":
        namespace = "Microsoft.DataProtection"
        types = [_resource_type(t, versions.DP_VERSIONS)
                 for t in ("backupVaults", "backupVaults/backupPolicies", "backupVaults/backupInstances", "operations")]
    else:
        return None
    return {"id": "/subscriptions/%s/providers/%s" % (sid, namespace), "namespace": namespace,
            "registrationState": "Registered", "registrationPolicy": "RegistrationRequired", "resourceTypes": types}


# ---------------------------------------------------------------------------------------- generic resource lists
_FILTER_TERM = re.compile(r"^\s*(resourceType|resourceGroup)\s+eq\s+'([^']+)'\s*$", re.IGNORECASE)


def resource_filter(req):
    """``{resourceType?, resourceGroup?}`` (lower-cased) of a ``$filter`` of ``<field> eq '<value>'`` terms joined by
    ``and`` (az resource list -g sends ``resourceGroup eq '<rg>'``), {} without a filter, else 400 (not served)."""
    text = req.query.get("$filter")
    if not text:
        return {}
    wanted = {}
    for term in re.split(r"\s+and\s+", text, flags=re.IGNORECASE):
        match = _FILTER_TERM.match(term)
        if not match or match.group(1).lower() in wanted:
            raise bad_request("InvalidFilterInQueryString",
                              "Invalid $filter '%s' specified in the query string. The emulator serves only "
                              "\"resourceType eq '<type>'\" and \"resourceGroup eq '<name>'\", joined by and." % text)
        wanted[match.group(1).lower()] = match.group(2).lower()
    return wanted


def matches_filter(body: dict, wanted: dict) -> bool:
    """Whether a vault body passes a ``resource_filter``."""
    kind_ok = wanted.get("resourcetype") in (None, str(body.get("type", "")).lower())
    group_ok = wanted.get("resourcegroup") in (None, str(body.get("id", "")).split("/")[4].lower())
    return kind_ok and group_ok


def generic(body: dict) -> dict:
    """A vault as Resources_List answers it (GenericResourceExpanded: id, name, type, location, tags, sku, identity)."""
    item = {key: body[key] for key in ("id", "name", "type", "sku", "kind", "location", "identity", "tags") if body.get(key)}
    item.setdefault("tags", {})
    return item
