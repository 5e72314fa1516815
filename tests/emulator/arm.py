# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resource-manager side of the emulator: routing ARM paths to subscriptions, resource groups,
Recovery Services vaults, Backup (DataProtection) vaults and their backup policies.

`Arm.handle()` is transport-free: it takes a parsed request and returns (status, headers, body) or raises ArmError.
"""
from __future__ import annotations

import base64
import copy
import re
import uuid
from urllib.parse import quote

from . import access, bodies, diagnostics, lro, mua, routes, rules, secure_default, security, versions
from . import items as items_model
from .errors import ArmError, bad_request, not_found, rg_not_found, sub_not_found
from .throttle import VirtualClock
from .store import (DP_TYPE, RS_TYPE, new_etag, now_iso, policy_body, rg_body, rs_vault_config_body, score,
                    stable_uuid, vault_id)

RS_READONLY_PROPS = ("provisioningState", "secureScore", "bcdrSecurityLevel", "privateEndpointConnections",
                     "privateEndpointStateForBackup", "privateEndpointStateForSiteRecovery", "backupStorageVersion",
                     "moveDetails", "moveState")
DP_READONLY_PROPS = ("provisioningState", "secureScore", "bcdrSecurityLevel", "isVaultProtectedByResourceGuard",
                     "resourceMoveState", "resourceMoveDetails")
# What a Backup vault PATCH may change: PatchResourceRequestInput {identity, tags, properties: PatchBackupVaultInput} (SDK
# azure-mgmt-dataprotection 2.2.0; api-notes). Other properties in a PATCH (storageSettings, replicatedRegions, the
# read-only ones) leave the vault as it was: ignored, not refused (**assumed**: no source gives the service's answer; ignoring
# is the safe side for the collection, which reads a vault back after every write and would report the change not made).
DP_PATCH_PROPS = ("monitoringSettings", "securitySettings", "featureSettings", "costManagementSettings", "resourceGuardOperationRequests")
DP_PATCH_TOP = ("identity", "tags", "properties")
_FILTER = re.compile(r"backupManagementType\s+eq\s+'([^']*)'", re.IGNORECASE)


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: only the keys sent change; null removes a key."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge_patch(target.get(key), value)
    return target


CONFIG_SD_KEYS = ("softDeleteFeatureState", "enhancedSecurityState", "softDeleteRetentionPeriodInDays")
CONFIG_STATES = {"enabled": "Enabled", "disabled": "Disabled", "alwayson": "AlwaysON"}
# A running Backup vault operation's endTime: .NET's empty date, as the dataprotection extension recorded it.
DP_NO_END_TIME = "0001-01-01T00:00:00Z"


def _sends_soft_delete(body) -> bool:
    """True when a Recovery Services vault PUT/PATCH body carries soft delete values."""
    sds = (((body or {}).get("properties") or {}).get("securitySettings") or {}).get("softDeleteSettings")
    return isinstance(sds, dict) and any(v is not None for v in sds.values())


def _soft_delete_of(body):
    return (((body or {}).get("properties") or {}).get("securitySettings") or {}).get("softDeleteSettings")


def check_vault_put(kind, body):
    """Refuse a vault PUT whose ``properties`` the spec's model cannot take.

    The REST spec (as the SDK models give it, shared reference sdk-models/): a Backup vault's ``BackupVaultResource``
    requires ``properties`` (``BackupVault``, not optional), a Recovery Services ``Vault`` does not (``VaultProperties``
    optional): such a PUT is taken and the vault gets the service's defaults, as a create with ``properties: {}``. A
    ``properties`` that is present but not an object fits neither model. The answer, 400 ``InvalidRequestContent`` (the
    code this emulator gives every body that does not deserialise, and a Backup vault policy PUT without ``properties``),
    is **assumed**: no recording or Microsoft page shows Azure's."""
    props = body.get("properties")
    if kind == "dp" and props is None:
        raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties' is required.")
    if props is not None and not isinstance(props, dict):
        raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties' must be an object.")


def _dp_patch(body):
    """The part of a Backup vault PATCH body its contract holds (DP_PATCH_TOP, DP_PATCH_PROPS); the rest is dropped."""
    kept = {k: copy.deepcopy(v) for k, v in body.items() if k in DP_PATCH_TOP}
    if isinstance(kept.get("properties"), dict):
        kept["properties"] = {k: v for k, v in kept["properties"].items() if k in DP_PATCH_PROPS}
    return kept


def new_op_id() -> str:
    # Shape of the live operation ids: base64 of "<guid>;<guid>".
    return base64.b64encode(("%s;%s" % (uuid.uuid4(), uuid.uuid4())).encode()).decode()


def _norm_rs_location(loc) -> str:
    return str(loc or "").lower().replace(" ", "")


def _route(kind, rest_low):
    """Which modelled route a provider path (after ``vaults``/``backupVaults``) is, or None."""
    count = len(rest_low)
    if count == 0:
        return "list"
    if count == 1:
        return "vault"
    if count == 3 and rest_low[1] in ("operationstatus", "operationresults"):
        return "vault_op"
    if kind == "rs" and count == 3 and rest_low[1] == "backupconfig" and rest_low[2] == "vaultconfig":
        return "config"
    if kind == "rs" and count == 2 and rest_low[1] == "backupprotecteditems":
        return "items"
    if rest_low[1] == "backupresourceguardproxies" and (count in (2, 3) or (count == 4 and rest_low[3] == "unlockdelete")):
        return "guard_proxy"
    if kind == "rs" and count == 3 and rest_low[1] == "backupstorageconfig" and rest_low[2] == "vaultstorageconfig":
        return "storage_config"
    if kind == "rs" and count in (4, 5) and rest_low[1:4] == ["providers", "microsoft.insights", "diagnosticsettings"]:
        return "diagnostics"
    if kind == "dp" and rest_low[1] == "backupinstances" and count in (2, 3):
        return "items" if count == 2 else "item"
    if kind == "dp" and rest_low[1] == "deletedbackupinstances" and count in (2, 3):
        return "deleted_items" if count == 2 else "deleted_item"
    if rest_low[1] == "backuppolicies":
        if count == 2:
            return "policies"
        if count == 3:
            return "policy"
        if count == 5 and kind == "rs" and rest_low[3] in ("operations", "operationresults"):
            return "policy_op"
    return None


def _rtype(vtype, rest):
    """The ARM type of a provider path without namespace: vaults, vaults/backupPolicies, vaults/backupconfig."""
    return "/".join([vtype] + [rest[i] for i in range(1, len(rest), 2)])


class Request:  # pylint: disable=too-few-public-methods
    """A parsed ARM request."""

    def __init__(self, method, path, query, body, headers):
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.headers = headers


class Arm:
    """Routes and executes ARM requests against a Store."""

    def __init__(self, store, base_url: str, settings: dict, clock=None):
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        # The tenants of the valid tokens in an x-ms-authorization-auxiliary header (the server sets its verifier).
        self.aux_tenants = lambda header: set()
        # Long-running operations finish by this clock (lro.py); the server passes the one throttling uses.
        self.clock = clock if clock is not None else VirtualClock()

    # ------------------------------------------------------------------ helpers
    def url(self, path: str, api_version: str, extra: str = "") -> str:
        return "%s%s?api-version=%s%s" % (self.base_url, path, api_version, extra)

    @staticmethod
    def check_version(req, allowed, rtype=None, location=None):
        """Microsoft.Resources versions when ``allowed`` is None, else the provider type's (see versions.py)."""
        if allowed is None:
            return versions.check_resources(req)
        return versions.check_provider(req, allowed, rtype, location)

    def page(self, req, items, path, ver):
        size = max(1, int(self.settings.get("page_size") or 200))
        try:
            start = int(req.query.get("$skiptoken") or 0)
        except ValueError as exc:
            raise bad_request("InvalidSkipToken", "The skip token '%s' is invalid." % req.query.get("$skiptoken")) from exc
        chunk = items[start:start + size]
        body = {"value": chunk}
        if start + size < len(items):
            extra = "&$skiptoken=%d" % (start + size)
            if req.query.get("$filter"):
                extra = "&$filter=" + quote(req.query["$filter"], safe="") + extra
            body["nextLink"] = self.url(path, ver, extra)
        return 200, {}, body

    def _op(self, op_id, vault_state=None, **info):
        """Record an accepted long-running operation; ``vault_state``: what the vault it writes reads while it runs
        (a vault PUT or PATCH: Provisioning or Updating, see vault_view)."""
        info.setdefault("status", "Succeeded")
        info.setdefault("startTime", now_iso())
        info.setdefault("endTime", now_iso())
        info.update(lro.start(self.settings, self.clock))
        with self.store.lock:
            self.store.ops[op_id] = info
            if vault_state is not None:
                info["vault_state"] = vault_state
                self.store.vault_ops[info["target"].lower()] = info

    def _retry_after(self, op=None) -> dict:
        """Retry-After of an accepted write (the setting) or of a running operation (the one it was accepted with)."""
        return {"Retry-After": lro.retry_after(self.settings) if op is None else lro.op_retry_after(op)}

    # ------------------------------------------------------------------ dispatch
    def handle(self, req):
        parts = [p for p in req.path.split("/") if p]
        low = [p.lower() for p in parts]
        if not low or low[0] != "subscriptions":
            raise ArmError(404, "InvalidResourceType", "The resource type could not be found for path '%s'." % req.path)
        if len(parts) == 1:
            self.check_version(req, None)
            return self.list_subscriptions(req)
        sid = parts[1]
        with self.store.lock:
            sub = self.store.sub(sid)
        if sub is None:
            raise sub_not_found(sid)
        if len(parts) == 2:
            self.check_version(req, None)
            return 200, {}, self.store.find("/subscriptions/" + sid)
        if low[2] == "resources" and len(parts) == 3:
            return self.list_resources(req, sid, None)
        if low[2] == "providers" and len(parts) == 4:
            self.check_version(req, None)
            self._only(req, "GET")
            found = routes.provider(sub["id"], low[3])
            if found is not None:
                return 200, {}, found
        if low[2] == "resourcegroups":
            if len(parts) == 3:
                self.check_version(req, None)
                with self.store.lock:
                    items = [rg_body(sub["id"], r) for r in sub["rgs"].values()]
                return self.page(req, items, req.path, req.query["api-version"])
            rg = parts[3]
            if len(parts) == 4:
                return self.resource_group(req, sub, rg)
            with self.store.lock:
                rg_entry = self.store.rg(sid, rg)
            if rg_entry is None:
                raise rg_not_found(rg)
            if len(parts) == 5 and low[4] == "resources":
                return self.list_resources(req, sid, rg_entry)
            if len(parts) >= 6 and low[4] == "providers":
                return self.provider(req, sub, rg_entry, parts[5:], low[5:])
        elif low[2] == "providers" and len(parts) == 5:
            ns = low[3] + "/" + low[4]
            if ns == "microsoft.recoveryservices/vaults":
                ver = self.check_version(req, versions.RS_VAULT_VERSIONS, "vaults")
                self._only(req, "GET")
                with self.store.lock:
                    items = [self._view("rs", v, ver) for v in self.store.vaults_in_sub(sid, "rs")
                             if access.readable_id(self.settings, v["id"])]
                return self.page(req, items, req.path, ver)
            if ns == "microsoft.dataprotection/backupvaults":
                ver = self.check_version(req, versions.DP_VERSIONS, "backupVaults")
                self._only(req, "GET")
                with self.store.lock:
                    items = [self._view("dp", v, ver) for v in self.store.vaults_in_sub(sid, "dp")
                             if access.readable_id(self.settings, v["id"])]
                return self.page(req, items, req.path, ver)
        if len(parts) >= 4 and low[2] == "providers":
            raise versions.unknown_type(req, *versions.resource_type_of(parts[3:]))
        raise ArmError(404, "InvalidResourceType", "The resource type could not be found for path '%s'." % req.path)

    def list_resources(self, req, sid, rg_entry):
        """GET /subscriptions/{id}/resources and .../resourceGroups/{rg}/resources (Resources_List, _ListByResourceGroup):
        the vaults of both kinds as generic resources, with ``$filter`` terms ``resourceType eq '<type>'`` and
        ``resourceGroup eq '<name>'`` (routes.resource_filter)."""
        self.check_version(req, None)
        self._only(req, "GET")
        wanted = routes.resource_filter(req)
        with self.store.lock:
            if rg_entry is None:
                bodies_ = [v for kind in ("rs", "dp") for v in self.store.vaults_in_sub(sid, kind)]
            else:
                bodies_ = [v["body"] for kind in ("rs", "dp") for v in rg_entry[kind].values()]
            items = [routes.generic(b) for b in bodies_ if routes.matches_filter(b, wanted)]
        items.sort(key=lambda item: item["id"].lower())
        return self.page(req, items, req.path, req.query["api-version"])

    @staticmethod
    def _only(req, *methods):
        if req.method not in methods:
            raise ArmError(405, "MethodNotAllowed", "The requested resource does not support http method '%s'." % req.method)

    def list_subscriptions(self, req):
        self._only(req, "GET")
        with self.store.lock:
            # A subscription whose read access was taken away is not listed (access.py).
            items = [self.store.find("/subscriptions/" + s["id"]) for s in self.store.subs.values()
                     if not access.subscription_revoked(self.settings, s["id"])]
        for item in items:
            item["subscriptionPolicies"] = {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                            "spendingLimit": "Off"}
            item["authorizationSource"] = "RoleBased"
        return self.page(req, items, "/subscriptions", req.query["api-version"])

    def resource_group(self, req, sub, rg):
        self.check_version(req, None)
        with self.store.lock:
            entry = sub["rgs"].get(rg.lower())
            if req.method in ("GET", "HEAD"):
                if entry is None:
                    raise rg_not_found(rg)
                return (200 if req.method == "GET" else 204), {}, (rg_body(sub["id"], entry) if req.method == "GET" else None)
            if req.method in ("PUT", "PATCH"):
                body = req.body if isinstance(req.body, dict) else {}
                if entry is None:
                    if req.method == "PATCH":
                        raise rg_not_found(rg)
                    if not body.get("location"):
                        raise bad_request("LocationRequired", "The location property is required for this definition.")
                    entry = {"name": rg, "location": body["location"], "tags": dict(body.get("tags") or {}), "rs": {}, "dp": {}}
                    sub["rgs"][rg.lower()] = entry
                    return 201, {}, rg_body(sub["id"], entry)
                if "tags" in body:
                    entry["tags"] = dict(body.get("tags") or {})
                return 200, {}, rg_body(sub["id"], entry)
        self._only(req, "GET", "HEAD", "PUT", "PATCH")
        return None

    def provider(self, req, sub, rg_entry, parts, low):
        ns = "/".join(low[:2])
        if ns == "microsoft.recoveryservices/vaults":
            kind = "rs"
        elif ns == "microsoft.dataprotection/backupvaults":
            kind = "dp"
        else:
            raise versions.unknown_type(req, *versions.resource_type_of(parts))
        rest, rest_low = parts[2:], low[2:]
        route = _route(kind, rest_low)
        if route is None:
            # A type the emulator does not model (vaults/backupFabrics, ...): ARM's answer for an unknown type.
            raise versions.unknown_type(req, *versions.resource_type_of(parts))
        with self.store.lock:
            vault = rg_entry[kind].get(rest[0].lower()) if rest else None
        location = vault["body"].get("location") if vault else (req.body.get("location") if isinstance(req.body, dict) else None)
        location = location or rg_entry.get("location")
        vtype = "vaults" if kind == "rs" else "backupVaults"
        if route == "diagnostics":
            ver = self.check_version(req, diagnostics.VERSIONS, "diagnosticSettings", location)
        elif route in ("policies", "policy", "policy_op", "config", "items", "guard_proxy", "storage_config") and kind == "rs":
            ver = self.check_version(req, versions.RS_BACKUP_VERSIONS, _rtype(vtype, rest), location)
        else:
            ver = self.check_version(req, versions.RS_VAULT_VERSIONS if kind == "rs" else versions.DP_VERSIONS,
                                     _rtype(vtype, rest), location)
        if route == "list":
            self._only(req, "GET")
            with self.store.lock:
                items = [self._view(kind, v["body"], ver) for v in rg_entry[kind].values()]
            return self.page(req, items, req.path, ver)
        name = rest[0]
        if route == "vault":
            return self.vault(req, sub, rg_entry, kind, name, ver)
        if route == "vault_op":
            return self.vault_operation(req, sub, rg_entry, kind, name, rest_low[1], rest[2])
        if vault is None:
            raise not_found(RS_TYPE if kind == "rs" else DP_TYPE, name, rg_entry["name"])
        if route == "config":
            return self.vault_config(req, vault)
        if route == "diagnostics":
            with self.store.lock:
                return diagnostics.handle(req, vault, rest[4] if len(rest) > 4 else None)
        if route == "guard_proxy":
            with self.store.lock:
                return routes.guard_proxies(req, vault, rest[2] if len(rest) > 2 else None, rest_low[3] if len(rest) > 3 else None,
                                            aux_tenants=self.aux_tenants, kind=kind)
        if route == "storage_config":
            with self.store.lock:
                return routes.storage_config(req, vault)
        if route == "policies":
            self._only(req, "GET")
            return self.list_policies(req, vault, kind, ver)
        if route == "policy":
            return self.policy(req, sub, rg_entry, vault, kind, rest[2], ver)
        if route in ("items", "item"):
            self._only(req, "GET")
            return self.list_items(req, rg_entry, vault, kind, ver, rest[2] if route == "item" else None)
        if route in ("deleted_items", "deleted_item"):
            self._only(req, "GET")
            return self.list_items(req, rg_entry, vault, kind, ver, rest[2] if route == "deleted_item" else None, deleted=True)
        return self.policy_operation(req, rg_entry, vault, rest[2], rest_low[3], rest[4])

    # ------------------------------------------------------------------ vaults
    def vault(self, req, sub, rg_entry, kind, name, ver):
        rtype = RS_TYPE if kind == "rs" else DP_TYPE
        with self.store.lock:
            record = rg_entry[kind].get(name.lower())
            if req.method == "GET":
                if record is None:
                    raise not_found(rtype, name, rg_entry["name"])
                return 200, {}, self._view(kind, record["body"], ver)
            if req.method == "DELETE":
                if record is None:
                    return 204, {}, None
                items_model.check_delete(kind, record)  # Learn: a vault holding backup items cannot be deleted
                del rg_entry[kind][name.lower()]
                op_id = new_op_id()
                self._op(op_id, kind=kind, target=record["body"]["id"], method="DELETE", result=None)
                return 202, self._lro_headers(record["body"]["id"], op_id, ver, location=True), None
            if req.method not in ("PUT", "PATCH"):
                self._only(req, "GET", "PUT", "PATCH", "DELETE")
            if not isinstance(req.body, dict):
                raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized.")
            if req.method == "PATCH":
                if record is None:
                    raise not_found(rtype, name, rg_entry["name"])
                patch = req.body
                if kind == "dp":
                    patch = _dp_patch(patch)
                desired = merge_patch(copy.deepcopy(record["body"]), patch)
                if "tags" in req.body:
                    # ARM resource-provider contract: tags in a PATCH replace the whole tag set (assumed from ARM RPC).
                    desired["tags"] = copy.deepcopy(req.body["tags"] or {})
            else:
                check_vault_put(kind, req.body)
                desired = copy.deepcopy(req.body)
            creating = record is None
            sd_sent = kind == "rs" and _sends_soft_delete(req.body)
            if sd_sent and record is not None and record.get("sd_api") == "config":
                # Reported live behaviour (azure-rest-api-specs#34218, azure-sdk-for-python#38347): on a vault whose soft
                # delete is managed through backupconfig/vaultconfig, a vault PATCH/PUT answers success and changes
                # nothing in softDeleteSettings.
                sec = (desired.setdefault("properties", {}) or {}).setdefault("securitySettings", {})
                sec["softDeleteSettings"] = copy.deepcopy(((record["body"].get("properties") or {}).get("securitySettings") or {})
                                                          .get("softDeleteSettings") or {})
                sd_sent = False
            old = record["body"] if record else None
            vname = old["name"] if old else name
            vid = vault_id(sub["id"], rg_entry["name"], kind, vname)
            failure = self._take_lro_failure(req.method, record)
            if failure is not None:
                # ARM async-operation contract: the request is accepted (202), the operation ends Failed with an
                # error object, and the resource is left as it was (control: settings lro_fail).
                op_id = new_op_id()
                self._op(op_id, kind=kind, target=vid, method=req.method, result=None, status="Failed", error=failure,
                         vault_state="Updating")
                return 202, self._lro_headers(vid, op_id, ver, location=True), None
            sbd = record.get("sbd", "none") if record else secure_default.mode_for(
                self.store.sbd_regions, kind, desired.get("location") or rg_entry.get("location"))
            if kind == "rs":
                new = self._build_rs(desired, old, vid, vname, sbd, ver)
            else:
                new = self._build_dp(desired, old, vid, vname, sbd, ver)
            if record is not None:
                security.check_redundancy(kind, old.get("properties"), new.get("properties"), bool(record.get("items")))
                mua.check(self.aux_tenants, req, record, mua.vault_operations(kind, old, new), "update vault")
            if creating:
                record = rg_entry[kind][name.lower()] = {"body": new, "policies": {}, "sd_api": None, "sbd": sbd, "items": {}}
            else:
                record["body"] = new
            if sd_sent and kind == "rs" and sbd == "preview" and old is not None and \
                    _soft_delete_of(new) == _soft_delete_of(old):
                sd_sent = False  # secure by default (preview) ignored the soft delete change: no ownership either
            if sd_sent:
                # From now on only the vault API may change soft delete (azure-bicep-registry-modules#7292).
                record["sd_api"] = "vault"
            op_id = new_op_id()
            self._op(op_id, kind=kind, target=vid, method=req.method, result=new,
                     vault_state="Provisioning" if creating else "Updating")
            if req.method == "PATCH":
                return 202, self._lro_headers(vid, op_id, ver, location=True), None
            shown = copy.deepcopy(new)
            if kind == "dp":
                shown = bodies.dp_vault_view(shown, ver)
                # Recorded live behaviour: 201 on every accepted PUT, Provisioning (create) / Updating (update).
                shown["properties"]["provisioningState"] = "Provisioning" if creating else "Updating"
                return 201, self._lro_headers(vid, op_id, ver, location=False), shown
            shown = bodies.rs_vault_view(shown, ver)
            if creating:
                shown["properties"]["provisioningState"] = "Provisioning"
                return 201, self._lro_headers(vid, op_id, ver, location=False), bodies.rs_create_answer(shown, req.body)
            return 200, self._lro_headers(vid, op_id, ver, location=False), shown

    def _view(self, kind, body, ver):
        """A stored vault body as this api-version answers it (a copy), with the provisioningState of a write still running."""
        return self.vault_view(bodies.rs_vault_view(body, ver) if kind == "rs" else bodies.dp_vault_view(body, ver))

    def vault_view(self, shown):
        """``shown`` (a vault body as answered, a copy) with ``properties.provisioningState`` of the long-running write of
        this vault that is still running, if one is (in place; returns it).

        Which value: a create reads ``Provisioning`` (rec: cli-rs-softdelete-basic and ps-rs-immutability, the Recovery
        Services 201; cliext-dp-vault-update, the Backup vault 201). An update of a Backup vault reads ``Updating``: the
        live 201 of every update PUT in cliext-dp-vault-update says so, and ``Updating`` is a value of the spec's
        ProvisioningState enum (Failed, Provisioning, Succeeded, Unknown, Updating; sdk-models/enums.txt, Learn's
        azure-mgmt-dataprotection ProvisioningState). That a GET made while the operation runs shows the same value as
        the write's answer is **assumed** (no recording reads the vault during an operation: every recorded GET came after
        the operation had ended, and read Succeeded). For a Recovery Services vault the spec's provisioningState is a
        plain string with no values listed, and no recording or Microsoft page shows one during an update: ``Updating``
        is **assumed** (the Backup vault's value for an update; any value but Succeeded keeps a client from taking the
        vault as settled, the safe side). Once the operation has ended the stored state shows again (Succeeded; a failed
        operation leaves the vault as it was, see _take_lro_failure)."""
        props = shown.get("properties")
        if not isinstance(props, dict) or not self.store.vault_ops:
            return shown
        with self.store.lock:
            op = self.store.vault_ops.get(str(shown.get("id") or "").lower())
        if op is not None and lro.running(op, self.clock):
            props["provisioningState"] = op["vault_state"]
        return shown

    def _take_lro_failure(self, method, record):
        """The error the next vault PATCH should end with (settings lro_fail: {code, message, times}), or None."""
        spec = self.settings.get("lro_fail")
        if method != "PATCH" or record is None or not isinstance(spec, dict) or int(spec.get("times", 1)) <= 0:
            return None
        if spec.get("path_regex") and not re.search(spec["path_regex"], record["body"]["id"], re.IGNORECASE):
            return None
        if int(spec.get("skip") or 0) > 0:
            # Let this many PATCHes succeed first (the second step of a multi-step change fails, say).
            spec["skip"] = int(spec["skip"]) - 1
            return None
        spec["times"] = int(spec.get("times", 1)) - 1
        return {"code": spec.get("code") or "InternalError", "message": spec.get("message") or "The operation failed."}

    def _lro_headers(self, vid, op_id, ver, location: bool) -> dict:
        headers = dict(self._retry_after(), **{"Azure-AsyncOperation": self.url(vid + "/operationStatus/" + op_id, ver)})
        if location:
            headers["Location"] = self.url(vid + "/operationResults/" + op_id, ver)
        return headers

    def _identity(self, desired, old, vid):
        ident = desired.get("identity")
        if not isinstance(ident, dict):
            return None
        ident = copy.deepcopy(ident)
        if "systemassigned" in str(ident.get("type", "")).lower():
            old_ident = (old or {}).get("identity") or {}
            ident.setdefault("principalId", old_ident.get("principalId") or stable_uuid(vid.lower(), "principal"))
            ident.setdefault("tenantId", self.store.tenant_id)
        return ident

    def _build_rs(self, desired, old, vid, vname, sbd="none", ver=None):
        if not desired.get("location"):
            raise bad_request("LocationRequired", "The location property is required for this definition.")
        location = _norm_rs_location(desired["location"])
        if old and location != old["location"]:
            raise ArmError(400, "InvalidResourceLocation",
                           "The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same "
                           "name cannot be created in location '%s'. Please select a new resource name."
                           % (vname, old["location"], vid.split("/")[4], location))
        props = copy.deepcopy(desired.get("properties") or {})
        for key in RS_READONLY_PROPS:
            props.pop(key, None)
        old_props = (old or {}).get("properties") or {}
        old_sec = old_props.get("securitySettings") or {}
        sec = props.get("securitySettings")
        sec = copy.deepcopy(sec) if isinstance(sec, dict) else {}
        sec.pop("multiUserAuthorization", None)
        # Immutability / soft delete left out of a PUT keep their current values (assumed; see README).
        if "immutabilitySettings" not in sec and old_sec.get("immutabilitySettings") is not None:
            sec["immutabilitySettings"] = copy.deepcopy(old_sec["immutabilitySettings"])
        imm = sec.get("immutabilitySettings")
        if isinstance(imm, dict) and imm.get("state") is not None:
            imm["state"] = rules.norm_state(imm["state"])
        rules.check_rs_immutability(old_sec.get("immutabilitySettings"), imm, creating=old is None)
        if imm is not None and not imm:
            sec.pop("immutabilitySettings")
        old_sd = old_sec.get("softDeleteSettings") or {}
        new_sd = sec.get("softDeleteSettings")
        new_sd = dict(new_sd) if isinstance(new_sd, dict) else {}
        merged_sd = {"softDeleteRetentionPeriodInDays": old_sd.get("softDeleteRetentionPeriodInDays", 14),
                     "softDeleteState": old_sd.get("softDeleteState", "Enabled"),
                     "enhancedSecurityState": old_sd.get("enhancedSecurityState", "Enabled")}
        merged_sd.update({k: v for k, v in new_sd.items() if v is not None})
        for key in ("softDeleteState", "enhancedSecurityState"):
            if str(merged_sd.get(key)).lower() == "alwayson":
                merged_sd[key] = "AlwaysON"  # the live service answers capital ON (recording)
        merged_sd = secure_default.rs_vault_write(sbd, old_sd, merged_sd, ver)  # preview: not applied
        rules.check_rs_soft_delete(old_sd, merged_sd)
        secure_default.rs_force_always_on(sbd, merged_sd)
        rules.check_soft_delete_days(old_sd.get("softDeleteRetentionPeriodInDays"), merged_sd.get("softDeleteRetentionPeriodInDays"),
                                     "softDeleteRetentionPeriodInDays")
        sec["softDeleteSettings"] = merged_sd
        # The operation request ids a write carries authorize it (mua.check); the vault does not keep them (the spec example
        # PUTVault_ResourceGuardEnabled.json sends one and answers without it).
        props.pop("resourceGuardOperationRequests", None)
        sec["multiUserAuthorization"] = old_sec.get("multiUserAuthorization", "Disabled")
        sec.setdefault("sourceScanConfiguration", old_sec.get("sourceScanConfiguration") or {"state": "Disabled"})
        props["securitySettings"] = sec
        if old_props.get("resourceGuardOperationRequests"):
            props["resourceGuardOperationRequests"] = old_props["resourceGuardOperationRequests"]
        props["provisioningState"] = "Succeeded"
        props["privateEndpointStateForBackup"] = old_props.get("privateEndpointStateForBackup", "None")
        props["privateEndpointStateForSiteRecovery"] = old_props.get("privateEndpointStateForSiteRecovery", "None")
        if old_props.get("privateEndpointConnections"):
            # Read-only (SDK: VaultProperties.private_endpoint_connections, readonly): a write never changes it.
            props["privateEndpointConnections"] = copy.deepcopy(old_props["privateEndpointConnections"])
        security.check_csr("rs", old_props, props)
        props.setdefault("redundancySettings", old_props.get("redundancySettings") or {
            "standardTierStorageRedundancy": "GeoRedundant", "crossRegionRestore": "Disabled"})
        props.setdefault("publicNetworkAccess", old_props.get("publicNetworkAccess", "Enabled"))
        body = bodies.tagged({"location": location, "name": vname, "etag": new_etag(), "properties": props, "id": vid, "type": RS_TYPE,
                              "sku": copy.deepcopy(desired.get("sku") or {"name": "Standard"})}, desired.get("tags"))
        ident = self._identity(desired, old, vid)
        if ident is not None:
            body["identity"] = ident
        bodies.rs_defaults(props, old_props)
        props["secureScore"], props["bcdrSecurityLevel"] = score("rs", body)
        return body

    def _build_dp(self, desired, old, vid, vname, sbd="none", ver=None):
        if not desired.get("location"):
            raise bad_request("LocationRequired", "The location property is required for this definition.")
        location = desired["location"]
        if old and _norm_rs_location(location) != _norm_rs_location(old["location"]):
            raise ArmError(400, "InvalidResourceLocation",
                           "The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same "
                           "name cannot be created in location '%s'. Please select a new resource name."
                           % (vname, old["location"], vid.split("/")[4], location))
        props = copy.deepcopy(desired.get("properties") or {})
        for key in DP_READONLY_PROPS:
            props.pop(key, None)
        old_props = (old or {}).get("properties") or {}
        old_sec = old_props.get("securitySettings") or {}
        sec = props.get("securitySettings")
        sec = copy.deepcopy(sec) if isinstance(sec, dict) else {}
        if "immutabilitySettings" not in sec and old_sec.get("immutabilitySettings") is not None:
            sec["immutabilitySettings"] = copy.deepcopy(old_sec["immutabilitySettings"])
        imm = sec.get("immutabilitySettings")
        if isinstance(imm, dict) and imm.get("state") is not None:
            imm["state"] = rules.norm_state(imm["state"])
        rules.check_dp_immutability(old_sec.get("immutabilitySettings"), imm, creating=old is None, api_version=ver)
        old_sd = old_sec.get("softDeleteSettings") or {}
        new_sd = sec.get("softDeleteSettings")
        new_sd = dict(new_sd) if isinstance(new_sd, dict) else {}
        merged_sd = {"state": old_sd.get("state", "On"), "retentionDurationInDays": old_sd.get("retentionDurationInDays", 14.0)}
        merged_sd.update({k: v for k, v in new_sd.items() if v is not None})
        if isinstance(merged_sd.get("retentionDurationInDays"), (int, float)):
            merged_sd["retentionDurationInDays"] = float(merged_sd["retentionDurationInDays"])  # live: 14.0
        state = str(merged_sd.get("state"))
        merged_sd["state"] = {"on": "On", "off": "Off", "alwayson": "AlwaysOn"}.get(state.lower(), state)
        rules.check_dp_soft_delete(old_sd, merged_sd)
        secure_default.dp_vault_write(sbd, old_sd, merged_sd, ver)
        rules.check_soft_delete_days(old_sd.get("retentionDurationInDays"), merged_sd.get("retentionDurationInDays"),
                                     "retentionDurationInDays")
        sec["softDeleteSettings"] = merged_sd
        props["securitySettings"] = sec
        if not props.get("storageSettings"):
            props["storageSettings"] = old_props.get("storageSettings") or [{"datastoreType": "VaultStore", "type": "LocallyRedundant"}]
        props.pop("resourceGuardOperationRequests", None)   # authorizes the write (mua.check), not kept (as above)
        if old_props.get("resourceGuardOperationRequests"):
            props["resourceGuardOperationRequests"] = old_props["resourceGuardOperationRequests"]
        props["provisioningState"] = "Succeeded"
        props["isVaultProtectedByResourceGuard"] = old_props.get("isVaultProtectedByResourceGuard") is True
        # Cross subscription restore as written, else as it was, else none (bodies.dp_defaults: three recorded vaults
        # created without it report none); a PUT without featureSettings keeps a PermanentlyDisabled state.
        bodies.dp_defaults(props, old_props)
        security.check_csr("dp", old_props, props)
        body = bodies.tagged({"location": location, "properties": props, "id": vid, "name": vname, "type": DP_TYPE},
                             desired.get("tags"))
        ident = self._identity(desired, old, vid)
        if ident is not None:
            body["identity"] = ident
        # read-only, the service's (rec ps-dp-getvault; bcdrSecurityLevel: rec cliext-dp-vault-refusals; values: store.score)
        props["secureScore"], props["bcdrSecurityLevel"] = score("dp", body)
        return body

    # ------------------------------------------------------------------ backup resource vault config
    def vault_config(self, req, vault):
        """GET / PUT / PATCH .../vaults/{v}/backupconfig/vaultconfig (BackupResourceVaultConfigs_Get/Put/Update).

        The config is a view of the vault's stored softDeleteSettings, so a vault GET and a config GET agree.
        PUT and PATCH are synchronous and answer 200 with the config (spec: 200 only).
        """
        with self.store.lock:
            if req.method == "GET":
                return 200, {}, rs_vault_config_body(vault["body"])
            self._only(req, "GET", "PUT", "PATCH")
            if not isinstance(req.body, dict) or not isinstance(req.body.get("properties"), dict):
                raise bad_request("BMSUserErrorInvalidInput", "Input provided for the call is invalid: 'properties' is required.")
            props = req.body["properties"]
            sent = {k: props.get(k) for k in CONFIG_SD_KEYS if props.get(k) is not None}
            if not sent:
                return 200, {}, rs_vault_config_body(vault["body"])
            if vault.get("sd_api") == "vault":
                raise ArmError(400, rules.USE_VAULT_API_CODE, rules.USE_VAULT_API_MSG, user_facing=True)
            if req.method == "PATCH" and "softDeleteFeatureState" not in sent and "enhancedSecurityState" not in sent:
                # Reported live behaviour (azure-rest-api-specs#34530): a PATCH carrying only the retention period
                # answers 200 and changes nothing. Callers send the whole soft delete set (as az CLI and azure.azcollection do).
                return 200, {}, rs_vault_config_body(vault["body"])
            body = vault["body"]
            # A stored body without `properties` (a fleet `body:` verbatim) gets one, as the service always has it.
            if not isinstance(body.get("properties"), dict):
                body["properties"] = {}
            sec = body["properties"].setdefault("securitySettings", {})
            old_sd = sec.get("softDeleteSettings") or {}
            new_sd = dict(old_sd)
            for key, target in (("softDeleteFeatureState", "softDeleteState"), ("enhancedSecurityState", "enhancedSecurityState")):
                if key in sent:
                    value = CONFIG_STATES.get(str(sent[key]).lower())
                    if value is None:
                        raise bad_request("BMSUserErrorInvalidInput", "Input provided for the call is invalid: %s '%s' is not one of "
                                          "Enabled, Disabled, AlwaysON." % (key, sent[key]), target=key)
                    new_sd[target] = value
            if "softDeleteRetentionPeriodInDays" in sent:
                new_sd["softDeleteRetentionPeriodInDays"] = sent["softDeleteRetentionPeriodInDays"]
            rules.check_rs_config_soft_delete(old_sd, new_sd)
            mua.check(self.aux_tenants, req, vault, mua.soft_delete_operations(
                [str(old_sd.get(k) or "").lower() for k in ("softDeleteState", "enhancedSecurityState")],
                [str(new_sd.get(k) or "").lower() for k in ("softDeleteState", "enhancedSecurityState")],
                old_sd.get("softDeleteRetentionPeriodInDays"), new_sd.get("softDeleteRetentionPeriodInDays")), "update vault config")
            secure_default.rs_config_write(vault.get("sbd"), old_sd, new_sd, req.query.get("api-version"))
            rules.check_soft_delete_days(old_sd.get("softDeleteRetentionPeriodInDays"), new_sd.get("softDeleteRetentionPeriodInDays"),
                                         "softDeleteRetentionPeriodInDays")
            sec["softDeleteSettings"] = new_sd
            body["etag"] = new_etag()
            body["properties"]["secureScore"], body["properties"]["bcdrSecurityLevel"] = score("rs", body)
            vault["sd_api"] = "config"
            return 200, {}, rs_vault_config_body(body)

    def vault_operation(self, req, sub, rg_entry, kind, name, which, op_id):
        self._only(req, "GET")
        del sub  # the operation id is global; the vault may already be gone (DELETE)
        with self.store.lock:
            op = self.store.ops.get(op_id)
        vid_prefix = "/providers/%s/%s" % (RS_TYPE if kind == "rs" else DP_TYPE, name)
        if op is None or not op["target"].lower().endswith(vid_prefix.lower()):
            raise ArmError(404, "OperationNotFound" if kind == "rs" else "ResourceNotFound",
                           "The operation '%s' was not found for vault '%s' in resource group '%s'." % (op_id, name, rg_entry["name"]))
        running = lro.running(op, self.clock)
        if which == "operationstatus":
            # Recorded shapes (whole bodies, tests/unit/emulator/test_real_bodies_whole.py): Recovery Services answers id, name
            # and status only while running (azure-cli test_vault_soft_delete_basic: a create, InProgress), with the
            # Azure-AsyncOperation header again, and for an ended DELETE (same recording, the vault delete: Succeeded); an
            # ended Recovery Services PUT or PATCH adds startTime and endTime (spec example GetOperationStatus, no recording
            # says otherwise), as a Backup vault's ended operation does (azure-cli-extensions
            # test_dataprotection_backup_vault_update). A running Backup vault operation answers status "Inprogress" (that
            # spelling), startTime and endTime "0001-01-01T00:00:00Z" (recorded twice by the dataprotection extension:
            # tests/fixtures/azure-real/cliext-dp-mua-vault and cliext-dp-cmk).
            here = {"id": op["target"] + "/operationStatus/" + op_id, "name": op_id}
            if running:
                if kind == "rs":
                    headers = dict(self._retry_after(op), **{"Azure-AsyncOperation": self.url(req.path, req.query.get("api-version", ""))})
                    return 200, headers, dict(here, status="InProgress")
                return 200, self._retry_after(op), dict(here, status="Inprogress", startTime=op["startTime"], endTime=DP_NO_END_TIME)
            status = dict(here, status=op["status"])
            if kind != "rs" or op.get("method") != "DELETE":
                status.update(startTime=op["startTime"], endTime=op["endTime"])
            if op.get("error"):
                status["error"] = op["error"]
            return 200, {}, status
        if running:
            # ARM async contract: the operation result (Location) answers 202 while the operation runs.
            return 202, dict(self._retry_after(op), Location=self.url(req.path, req.query.get("api-version", ""))), None
        if op["result"] is None:
            return 204, {}, None
        with self.store.lock:
            record = rg_entry[kind].get(name.lower())
            current = record["body"] if record else op["result"]
            return 200, {}, self._view(kind, current, req.query.get("api-version"))

    # ------------------------------------------------------------------ policies
    def list_policies(self, req, vault, kind, ver):
        with self.store.lock:
            items = [copy.deepcopy(p) for p in vault["policies"].values()]
        filt = req.query.get("$filter")
        if kind == "rs" and filt:
            match = _FILTER.search(filt)
            if not match:
                raise bad_request("BMSUserErrorInvalidInput", "Input provided for the call is invalid. The $filter '%s' is not supported." % filt)
            want = match.group(1).lower()
            items = [p for p in items if str((p.get("properties") or {}).get("backupManagementType", "")).lower() == want]
        return self.page(req, items, req.path, ver)

    # ------------------------------------------------------------------ protected items / backup instances
    def list_items(self, req, rg_entry, vault, kind, ver, name=None, deleted=False):
        """BackupProtectedItems_List (RS, with the $filter clients send), BackupInstances_List / _Get and
        DeletedBackupInstances_List / _Get (DP), paged. A Backup vault's soft deleted instances are the separate
        deletedBackupInstances resource (items.dp_split), Recovery Services keeps them among its protected items."""
        with self.store.lock:
            found = [copy.deepcopy(i) for i in (vault.get("items") or {}).values()]
        if kind == "dp":
            found = items_model.dp_split(found, deleted)
        if name is not None:
            for item in found:
                if item["name"].lower() == name.lower():
                    return 200, {}, item
            raise not_found(DP_TYPE + "/" + vault["body"]["name"] + ("/deletedBackupInstances" if deleted else "/backupInstances"), name,
                            rg_entry["name"], gateway=False)
        filt = req.query.get("$filter")
        if filt:
            if kind != "rs":
                raise bad_request("InvalidRequestParameter", "The $filter '%s' is not supported." % filt)
            try:
                wanted = items_model.parse_item_filter(filt)
            except ValueError as exc:
                raise bad_request("BMSUserErrorInvalidInput", "Input provided for the call is invalid. The $filter '%s' is not "
                                  "supported." % filt) from exc
            found = [i for i in found if items_model.item_matches(i, wanted)]
        return self.page(req, found, req.path, ver)

    def policy(self, req, sub, rg_entry, vault, kind, pname, ver):
        ptype = (RS_TYPE if kind == "rs" else DP_TYPE) + "/" + vault["body"]["name"] + "/backupPolicies"
        with self.store.lock:
            existing = vault["policies"].get(pname.lower())
            if req.method == "GET":
                if existing is None:
                    if kind == "rs":
                        # Recorded: the Backup service answers a missing policy 404 with the body {} and no error code.
                        return 404, {}, {}
                    raise not_found(ptype, pname, rg_entry["name"], gateway=False)
                return 200, {}, copy.deepcopy(existing)
            if req.method == "DELETE":
                if existing is None:
                    return 204, {}, None
                del vault["policies"][pname.lower()]
                if kind == "dp":
                    return 200, {}, None
                op_id = str(uuid.uuid4())
                self._op(op_id, kind="rs-policy", target=existing["id"], method="DELETE", result=None)
                return 202, self._policy_headers(existing["id"], op_id, ver), None
            if req.method != "PUT":
                self._only(req, "GET", "PUT", "DELETE")
            body = req.body
            if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
                raise bad_request("InvalidRequestContent" if kind == "dp" else "BMSUserErrorInvalidInput",
                                  "The request content was invalid: 'properties' is required.")
            if kind == "dp" and existing is not None:
                # Azure updates no Backup vault policy: a new policy is the only way (rules.DP_POLICY_UPDATE_CODE).
                raise rules.dp_policy_update_refused()
            props = copy.deepcopy(body["properties"])
            # The guard's operation request id authorizes the write (mua.check below) and is not kept: the live answer to a
            # policy PUT that carried one does not echo it (tests/fixtures/azure-real/ps-rs-mua/put-policy-reduced.request.json).
            props.pop("resourceGuardOperationRequests", None)
            if kind == "rs":
                bodies.rs_policy_normalise(props)
            if kind == "rs" and not props.get("backupManagementType"):
                raise bad_request("BMSUserErrorInvalidInput", "Input provided for the call is invalid: backupManagementType is required.")
            imm_state = rules.norm_state((((vault["body"].get("properties") or {}).get("securitySettings") or {})
                                          .get("immutabilitySettings") or {}).get("state"))
            old_props = existing["properties"] if existing else None
            rules.check_policy_ceilings(props, kind)
            if old_props is not None:
                # An update, so a Recovery Services policy (a Backup vault policy that exists was refused above).
                if rules.policy_reductions(old_props, props):
                    # Modify backup policy (reduced retention): a critical operation of the vault's guard (mua.py), checked
                    # before the immutable vault's own refusal (the order is assumed). The write carries the guard's
                    # updateProtectionPolicyRequests id in the policy's properties.resourceGuardOperationRequests, as Azure
                    # PowerShell sent it and Azure accepted it (tests/fixtures/azure-real/ps-rs-mua/put-policy-reduced.request.json).
                    mua.check(self.aux_tenants, req, vault, [mua.REDUCE_RETENTION], "update backup policy")
                rules.check_policy_retention(old_props, props, imm_state in ("Unlocked", "Locked"))
                suspended = [item["properties"].get("friendlyName") or item["name"] for item in (vault.get("items") or {}).values()
                             if items_model.suspended_on(item, pname)]
                rules.check_raise_with_suspended_items(old_props, props, imm_state in ("Unlocked", "Locked"), suspended)
            name = existing["name"] if existing else pname
            if kind == "rs":
                props["protectedItemsCount"] = (old_props or {}).get("protectedItemsCount", props.get("protectedItemsCount", 0))
            new = policy_body(vault["body"], kind, name, props)
            for key in ("tags", "location", "eTag"):
                if body.get(key) is not None and kind == "rs":
                    new[key] = copy.deepcopy(body[key])
            vault["policies"][pname.lower()] = new
            if kind == "rs" and self.settings.get("policy_put_async"):
                op_id = str(uuid.uuid4())
                self._op(op_id, kind="rs-policy", target=new["id"], method="PUT", result=new)
                return 202, self._policy_headers(new["id"], op_id, ver), None
            return 200, {}, copy.deepcopy(new)

    def _policy_headers(self, pid, op_id, ver):
        # Shape of the spec examples (ProtectionPolicies_CreateOrUpdate 202); Retry-After from the settings.
        return dict(self._retry_after(), **{"Azure-AsyncOperation": self.url(pid + "/operations/" + op_id, ver),
                                            "Location": self.url(pid + "/operationResults/" + op_id, ver)})

    def policy_operation(self, req, rg_entry, vault, pname, which, op_id):
        self._only(req, "GET")
        with self.store.lock:
            op = self.store.ops.get(op_id)
            policy = vault["policies"].get(pname.lower())
        if op is None or not op["target"].lower().endswith("/backuppolicies/" + pname.lower()):
            raise ArmError(404, "ResourceNotFound",
                           "The operation '%s' was not found for policy '%s' in resource group '%s'." % (op_id, pname, rg_entry["name"]))
        running = lro.running(op, self.clock)
        if which == "operations":
            if running:
                return 200, self._retry_after(op), {"id": op_id, "name": op_id, "status": "InProgress", "startTime": op["startTime"]}
            # ProtectionPolicyOperationStatuses_Get example shape.
            return 200, {}, {"id": op_id, "name": op_id, "status": op["status"], "startTime": op["startTime"],
                             "endTime": op["endTime"], "properties": {"objectType": "OperationStatusJobsExtendedInfo",
                                                                      "jobIds": [], "failedJobsError": {}}}
        if running:
            return 202, dict(self._retry_after(op), Location=self.url(req.path, req.query.get("api-version", ""))), None
        if op["result"] is None or policy is None:
            return 204, {}, None
        return 200, {}, copy.deepcopy(policy)
