# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""In-memory ARM state: subscriptions, resource groups, vaults of both kinds and their policies.

Keys are lower-cased (ARM ids and names are case-insensitive); bodies keep the casing they were created with.
"""
from __future__ import annotations

import copy
import datetime
import hashlib
import threading
import uuid

from . import items as item_bodies
from . import diagnostics, mua, secure_default
from . import security
from .bodies import DP_CSR_DEFAULT, dp_policy_normalise, rs_defaults, tagged

RS_TYPE = "Microsoft.RecoveryServices/vaults"
DP_TYPE = "Microsoft.DataProtection/backupVaults"
RS_POLICY_TYPE = "Microsoft.RecoveryServices/vaults/backupPolicies"
DP_POLICY_TYPE = "Microsoft.DataProtection/backupVaults/backupPolicies"

DEFAULT_SUB = "11111111-1111-1111-1111-111111111111"
DEFAULT_FLEET = {"subscriptions": [{"id": DEFAULT_SUB, "display_name": "vaultlock-emulator",
                                    "resource_groups": [{"name": "rg-vaultlock", "location": "westeurope"}]}]}

IMMUTABILITY = {"unset": None, "disabled": "Disabled", "enabled": "Unlocked", "unlocked": "Unlocked", "locked": "Locked"}
RS_SOFT_DELETE = {"on": "Enabled", "enabled": "Enabled", "off": "Disabled", "disabled": "Disabled",
                  "always_on": "AlwaysON", "alwayson": "AlwaysON"}
DP_SOFT_DELETE = {"on": "On", "enabled": "On", "off": "Off", "disabled": "Off", "always_on": "AlwaysOn", "alwayson": "AlwaysOn"}


class FleetError(ValueError):
    """An invalid fleet document."""


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_etag() -> str:
    # Format of the live Recovery Services service (recording / spec examples).
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + str(uuid.uuid4().int % 10)
    return "W/\"datetime'%sZ'\"" % stamp.replace(":", "%3A")


def stable_uuid(*parts) -> str:
    return str(uuid.UUID(hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:32]))


def _bool_state(value) -> str:
    if value is True:
        return "on"
    if value is False:
        return "off"
    return str(value).lower()


def score(kind: str, body: dict) -> tuple:
    """(secureScore, bcdrSecurityLevel) from the vault's security settings (assumed heuristic).

    Recorded pairs it meets: Recovery Services soft delete Enabled, enhanced security Disabled, no immutability: None,
    Poor (ps-rs-enhancedpolicy); Backup vaults Locked with soft delete AlwaysOn and no Resource Guard: Adequate (api
    2023-11-01), Locked with soft delete On: Adequate, Good (api 2025-07-01) (cliext-dp-vault-refusals). So Maximum,
    Excellent needs a Resource Guard as well (the rest of the mapping is not recorded)."""
    props = body.get("properties") or {}
    sec = props.get("securitySettings") or {}
    imm = str(((sec.get("immutabilitySettings") or {}).get("state")) or "Disabled").lower()
    sds = sec.get("softDeleteSettings") or {}
    sd = str(sds.get("softDeleteState" if kind == "rs" else "state") or "").lower()
    guarded = (str(sec.get("multiUserAuthorization") or "").lower() == "enabled" if kind == "rs"
               else props.get("isVaultProtectedByResourceGuard") is True)
    if imm == "locked" and sd == "alwayson" and guarded:
        return "Maximum", "Excellent"
    if sd == "alwayson" or imm in ("unlocked", "locked"):
        return "Adequate", "Good"
    enhanced = str(sds.get("enhancedSecurityState") or "").lower() if kind == "rs" else ""
    if sd in ("enabled", "on") and enhanced != "disabled":
        return "Minimum", "Fair"
    # Recorded (ps-rs-enhancedpolicy, api 2026-01-01): soft delete Enabled with enhanced security Disabled and no
    # immutability answers secureScore None, bcdrSecurityLevel Poor.
    return "None", "Poor"


def vault_id(sub, rg, kind, name) -> str:
    return "/subscriptions/%s/resourceGroups/%s/providers/%s/%s" % (sub, rg, RS_TYPE if kind == "rs" else DP_TYPE, name)


def rs_vault_body(sub: str, rg: str, spec: dict, rg_location: str) -> dict:
    name = spec["name"]
    imm = IMMUTABILITY.get(str(spec.get("immutability", "unset")).lower(), "invalid")
    if imm == "invalid":
        raise FleetError("vault %s: immutability must be unset, disabled, enabled or locked" % name)
    sd = spec.get("soft_delete") or {}
    sd_state = RS_SOFT_DELETE.get(_bool_state(sd.get("state", "on")))
    if sd_state is None:
        raise FleetError("vault %s: soft_delete.state must be on, off or always_on" % name)
    security = {"softDeleteSettings": {"softDeleteRetentionPeriodInDays": int(sd.get("retention_days", 14)),
                                       "softDeleteState": sd_state, "enhancedSecurityState": sd_state}}
    if imm is not None:
        security["immutabilitySettings"] = {"state": imm}
        if spec.get("immutability_retention_days") is not None:
            security["immutabilitySettings"]["configuration"] = {
                "type": "TimeBased", "durationInDays": int(spec["immutability_retention_days"])}
    security["multiUserAuthorization"] = "Enabled" if spec.get("resource_guard_id") else "Disabled"
    security["sourceScanConfiguration"] = {"state": "Disabled"}
    location = str(spec.get("location") or rg_location).lower().replace(" ", "")
    body = {
        "location": location,
        "name": name,
        "etag": new_etag(),
        "properties": {
            "provisioningState": spec.get("provisioning_state") or "Succeeded",
            "privateEndpointStateForBackup": "None",
            "privateEndpointStateForSiteRecovery": "None",
            "securitySettings": security,
            "redundancySettings": {"standardTierStorageRedundancy": "GeoRedundant", "crossRegionRestore": "Disabled"},
            "publicNetworkAccess": "Enabled",
        },
        "id": vault_id(sub, rg, "rs", name),
        "type": RS_TYPE,
        "sku": {"name": "Standard"},
    }
    # A guard shows as multiUserAuthorization only: a live GET names neither the guard nor its operations
    # (tests/fixtures/azure-real/ps-rs-mua); they are the vault's proxy's (record["guard_proxies"]).
    # The stored defaults every write gives a vault (bodies.rs_defaults: restoreSettings Enabled as on every recorded
    # vault from 2023-02-01, ps-rs-immutability and ps-rs-enhancedpolicy GETs, cli-rs-softdelete-basic 201;
    # backupStorageVersion Unassigned, ps-rs-immutability GET after create; regionOfChoiceSettings Disabled,
    # cli-rs-softdelete-basic): a seeded vault is a vault Azure made, so it has them too. The fleet's keys come after.
    rs_defaults(body["properties"], None)
    _security(body, "rs", spec)
    body["properties"]["secureScore"], body["properties"]["bcdrSecurityLevel"] = score("rs", body)
    return tagged(body, spec.get("tags"))


def _security(body: dict, kind: str, spec: dict):
    try:
        security.apply_fleet(kind, body, spec)
    except security.FleetValueError as exc:
        raise FleetError(str(exc)) from exc


def dp_vault_body(sub: str, rg: str, spec: dict, rg_location: str, tenant_id: str) -> dict:
    name = spec["name"]
    imm = IMMUTABILITY.get(str(spec.get("immutability", "unset")).lower(), "invalid")
    if imm == "invalid":
        raise FleetError("vault %s: immutability must be unset, disabled, enabled or locked" % name)
    sd = spec.get("soft_delete") or {}
    sd_state = DP_SOFT_DELETE.get(_bool_state(sd.get("state", "on")))
    if sd_state is None:
        raise FleetError("vault %s: soft_delete.state must be on, off or always_on" % name)
    security = {"softDeleteSettings": {"state": sd_state, "retentionDurationInDays": float(sd.get("retention_days", 14))}}
    if imm is not None:
        security["immutabilitySettings"] = {"state": imm}
    vid = vault_id(sub, rg, "dp", name)
    body = {
        "location": str(spec.get("location") or rg_location),
        "identity": {"type": "SystemAssigned", "principalId": stable_uuid(vid.lower(), "principal"), "tenantId": tenant_id},
        "properties": {
            "provisioningState": spec.get("provisioning_state") or "Succeeded",
            "storageSettings": [{"datastoreType": "VaultStore", "type": "LocallyRedundant"}],
            "isVaultProtectedByResourceGuard": bool(spec.get("resource_guard_id")),
            "securitySettings": security,
        },
        "id": vid,
        "name": name,
        "type": DP_TYPE,
    }
    # As for a Recovery Services vault: isVaultProtectedByResourceGuard only, the guard is the proxy's.
    # A seeded Backup vault is an existing vault: cross subscription restore Enabled (bodies.DP_CSR_DEFAULT: rec
    # ps-dp-getvault at 2023-05-01 and Learn create-manage-backup-vault, "enabled for existing vaults by default"); the
    # fleet's cross_subscription_restore key comes after and overrides (``not_reported``: none, as recorded for vaults
    # created without it, bodies.dp_defaults). secureScore: rec ps-dp-getvault (the value: score()).
    body["properties"].setdefault("featureSettings", {})["crossSubscriptionRestoreSettings"] = dict(DP_CSR_DEFAULT)
    _security(body, "dp", spec)
    body["properties"]["secureScore"], body["properties"]["bcdrSecurityLevel"] = score("dp", body)
    return tagged(body, spec.get("tags"))


RS_CONFIG_TYPE = "Microsoft.RecoveryServices/vaults/backupconfig"
SOFT_DELETE_APIS = (None, "vault", "config")


def rs_vault_config_body(vault_body: dict) -> dict:
    """The backup resource vault config (backupconfig/vaultconfig) of a Recovery Services vault, derived from the
    vault's stored state so that a vault GET and a config GET always agree.

    Shape: spec BackupResourceVaultConfigResource (id/name/type/properties, no location: azure-rest-api-specs#34530).
    """
    props = vault_body.get("properties") or {}
    sds = (props.get("securitySettings") or {}).get("softDeleteSettings") or {}
    state = sds.get("softDeleteState") or "Enabled"
    # No storageModelType, storageType or storageTypeState: the spec's model has them, but no recorded config answer
    # does (tests/fixtures/azure-real/cli-rs-csr/get-vaultconfig.json, ps-rs-mua/patch-vaultconfig-*.response.json);
    # the storage type is the storage config's (backupstorageconfig/vaultstorageconfig, routes._storage_view).
    config = {
        "enhancedSecurityState": sds.get("enhancedSecurityState") or state,
        "softDeleteFeatureState": state,
        "softDeleteRetentionPeriodInDays": sds.get("softDeleteRetentionPeriodInDays", 14),
        "isSoftDeleteFeatureStateEditable": str(state).lower() != "alwayson",
    }
    # resourceGuardOperationRequests authorizes a config write (Azure PowerShell SetVaultProperty sends it); a config GET
    # names none, as a vault GET names none: recorded of a vault a guard protects, before and after such a write, and the
    # write's answer (tests/fixtures/azure-real/ps-rs-mua/patch-vaultconfig-soft-delete-disabled.*). Until the fourth MUA
    # pass a vault body that held request ids lent them to its config.
    return {"id": vault_body["id"] + "/backupconfig/vaultconfig", "name": "vaultconfig", "type": RS_CONFIG_TYPE,
            "properties": config}


def policy_body(vault_body: dict, kind: str, name: str, props: dict) -> dict:
    ptype = RS_POLICY_TYPE if kind == "rs" else DP_POLICY_TYPE
    props = copy.deepcopy(props)
    if kind != "rs":
        dp_policy_normalise(props)  # what the service adds to a Backup vault policy it creates (tagInfo.id)
    return {"id": vault_body["id"] + "/backupPolicies/" + name, "name": name, "type": ptype, "properties": props}


class Store:
    """All ARM state, guarded by one re-entrant lock."""

    def __init__(self, tenant_id: str, fleet: dict | None = None):
        self.lock = threading.RLock()
        self.tenant_id = tenant_id
        self.subs: dict = {}
        self.ops: dict = {}
        # The last long-running write accepted for each vault (lowercase id -> its op): while it runs, the vault reads
        # Provisioning or Updating (arm.Arm.vault_view).
        self.vault_ops: dict = {}
        self.sbd_regions: dict = {}
        self.load(fleet or DEFAULT_FLEET)

    # -- loading
    def load(self, fleet: dict):
        if not isinstance(fleet, dict) or not isinstance(fleet.get("subscriptions"), list) or not fleet["subscriptions"]:
            raise FleetError("a fleet needs a non-empty 'subscriptions' list")
        subs: dict = {}
        random_seed = security.random_fleet_option(fleet.get("random_security"))
        try:
            sbd_regions = secure_default.regions_from_fleet(fleet)
        except ValueError as exc:
            raise FleetError(str(exc)) from exc
        for sub in fleet["subscriptions"]:
            sid = str(sub.get("id") or "")
            if not sid:
                raise FleetError("every subscription needs an id")
            graph = str(sub.get("resource_graph") or "visible").lower()
            if graph not in ("visible", "denied"):
                raise FleetError("subscription %s: resource_graph must be visible or denied" % sid)
            entry = {"id": sid, "display_name": sub.get("display_name") or sid, "rgs": {}, "graph_denied": graph == "denied"}
            for rg in sub.get("resource_groups") or []:
                rg_name = rg.get("name")
                if not rg_name:
                    raise FleetError("every resource group needs a name")
                rg_loc = rg.get("location") or "westeurope"
                rg_entry = {"name": rg_name, "location": rg_loc, "tags": dict(rg.get("tags") or {}), "rs": {}, "dp": {}}
                for vault in rg.get("vaults") or []:
                    if not vault.get("name"):
                        raise FleetError("every vault needs a name")
                    kind = "dp" if str(vault.get("type", "recovery_services")).lower() in ("backup", "dataprotection", "backup_vault") else "rs"
                    if random_seed is not None and not vault.get("body"):
                        # random_security: every security key the vault does not set gets a random value (README, Fleet format).
                        drawn = security.random_settings(random_seed, vault["name"], kind)
                        vault = dict(vault)
                        vault.update({k: v for k, v in drawn.items() if vault.get(k) is None})
                    if vault.get("body"):
                        body = copy.deepcopy(vault["body"])
                        body["id"] = vault_id(sid, rg_name, kind, vault["name"])
                        body["name"] = vault["name"]
                        body.setdefault("type", RS_TYPE if kind == "rs" else DP_TYPE)
                    elif kind == "rs":
                        body = rs_vault_body(sid, rg_name, vault, rg_loc)
                    else:
                        body = dp_vault_body(sid, rg_name, vault, rg_loc, self.tenant_id)
                    policies = {}
                    for pol in vault.get("policies") or []:
                        if not pol.get("name"):
                            raise FleetError("vault %s: every policy needs a name" % vault["name"])
                        policies[pol["name"].lower()] = policy_body(body, kind, pol["name"], pol.get("properties") or {})
                    sd_api = vault.get("soft_delete_api")
                    if sd_api not in SOFT_DELETE_APIS:
                        raise FleetError("vault %s: soft_delete_api must be vault or config" % vault["name"])
                    try:
                        sbd = secure_default.mode_for(sbd_regions, kind, body.get("location"), vault.get("secure_by_default"))
                    except ValueError as exc:
                        raise FleetError("vault %s: %s" % (vault["name"], exc)) from exc
                    if kind == "rs" and sbd == "ga":
                        sds = ((body.setdefault("properties", {})).setdefault("securitySettings", {})).get("softDeleteSettings")
                        if isinstance(sds, dict):
                            secure_default.rs_force_always_on(sbd, sds)
                            body["properties"]["secureScore"], body["properties"]["bcdrSecurityLevel"] = score("rs", body)
                    items = load_items(body, kind, policies, vault.get("protected_items"))
                    try:
                        mua.check_exclusions(kind, vault.get("resource_guard_excluded"))
                    except ValueError as exc:
                        raise FleetError("vault %s: %s" % (vault["name"], exc)) from exc
                    record = {"body": body, "policies": policies, "sd_api": sd_api, "sbd": sbd,
                              "items": items, "guard_tenant": vault.get("resource_guard_tenant"),
                              "guard_excluded": list(vault.get("resource_guard_excluded") or [])}
                    if vault.get("resource_guard_id"):
                        # The guard's association is the vault's proxy (VaultProxy, DppResourceGuardProxy: the names
                        # Microsoft's clients give it), which names the guard and its operation requests.
                        proxy = "VaultProxy" if kind == "rs" else "DppResourceGuardProxy"
                        record["guard_proxies"] = {proxy.lower(): {"name": proxy, "resourceGuardResourceId": vault["resource_guard_id"],
                                                                   "lastUpdatedTime": "2026-01-01T00:00:00.0000000Z"}}
                    if vault.get("diagnostic_settings"):
                        if kind != "rs" or not isinstance(vault["diagnostic_settings"], dict):
                            raise FleetError("vault %s: diagnostic_settings is a dictionary {name: properties}, on a Recovery "
                                             "Services vault" % vault["name"])
                        record["diagnostics"] = diagnostics.load(record, vault["diagnostic_settings"])
                    rg_entry[kind][vault["name"].lower()] = record
                entry["rgs"][rg_name.lower()] = rg_entry
            subs[sid.lower()] = entry
        with self.lock:
            self.subs = subs
            self.ops = {}
            self.vault_ops = {}
            self.sbd_regions = sbd_regions

    # -- lookups (caller holds the lock)
    def sub(self, sid: str):
        return self.subs.get(sid.lower())

    def rg(self, sid: str, rg: str):
        sub = self.sub(sid)
        return None if sub is None else sub["rgs"].get(rg.lower())

    def vault(self, sid: str, rg: str, kind: str, name: str):
        rg_entry = self.rg(sid, rg)
        return None if rg_entry is None else rg_entry[kind].get(name.lower())

    def vaults_in_sub(self, sid: str, kind: str) -> list:
        sub = self.sub(sid)
        out = []
        for rg_entry in (sub or {}).get("rgs", {}).values():
            out.extend(v["body"] for v in rg_entry[kind].values())
        return out

    def count(self) -> dict:
        with self.lock:
            rs = dp = pol = items = 0
            for sub in self.subs.values():
                for rg_entry in sub["rgs"].values():
                    rs += len(rg_entry["rs"])
                    dp += len(rg_entry["dp"])
                    pol += sum(len(v["policies"]) for k in ("rs", "dp") for v in rg_entry[k].values())
                    items += sum(len(v.get("items") or {}) for k in ("rs", "dp") for v in rg_entry[k].values())
            return {"subscriptions": len(self.subs), "recovery_services_vaults": rs, "backup_vaults": dp, "policies": pol,
                    "protected_items": items}

    def summary(self) -> tuple:
        with self.lock:
            subs = [s["id"] for s in self.subs.values()]
            rgs = {s["id"]: [r["name"] for r in s["rgs"].values()] for s in self.subs.values()}
            return subs, rgs

    def find(self, arm_id: str):
        """Stored body for an ARM id (vault, policy, resource group or subscription), or None."""
        parts = [p for p in arm_id.strip("/").split("/") if p]
        low = [p.lower() for p in parts]
        with self.lock:
            if len(parts) < 2 or low[0] != "subscriptions":
                return None
            sub = self.sub(parts[1])
            if sub is None:
                return None
            if len(parts) == 2:
                return {"id": "/subscriptions/" + sub["id"], "subscriptionId": sub["id"], "displayName": sub["display_name"],
                        "state": "Enabled", "tenantId": self.tenant_id}
            if len(parts) < 4 or low[2] != "resourcegroups":
                return None
            rg_entry = sub["rgs"].get(low[3])
            if rg_entry is None:
                return None
            if len(parts) == 4:
                return rg_body(sub["id"], rg_entry)
            if len(parts) < 8 or low[4] != "providers":
                return None
            kind = {"microsoft.recoveryservices/vaults": "rs", "microsoft.dataprotection/backupvaults": "dp"}.get(low[5] + "/" + low[6])
            if kind is None:
                return None
            vault = rg_entry[kind].get(low[7])
            if vault is None:
                return None
            if len(parts) == 8:
                return copy.deepcopy(vault["body"])
            if len(parts) == 10 and low[8] == "backuppolicies":
                pol = vault["policies"].get(low[9])
                return copy.deepcopy(pol) if pol else None
            if len(parts) == 10 and kind == "rs" and low[8] == "backupconfig" and low[9] == "vaultconfig":
                return rs_vault_config_body(vault["body"])
            wanted = "/" + "/".join(low)
            for item in (vault.get("items") or {}).values():
                if item["id"].lower() == wanted:
                    return copy.deepcopy(item)
            return None


def load_items(vault_body: dict, kind: str, policies: dict, specs) -> dict:
    """The vault's protected items (RS) or backup instances (DP) from the fleet, keyed by lower-cased name.

    A Recovery Services policy's ``protectedItemsCount`` counts the items on it when the vault lists its items.
    """
    if specs is None:
        return {}
    if not isinstance(specs, list):
        raise FleetError("vault %s: protected_items must be a list" % vault_body["name"])
    items = {}
    counts = {}
    for spec in specs:
        if not isinstance(spec, dict) or not spec.get("policy"):
            raise FleetError("vault %s: every protected item needs a name and a policy" % vault_body["name"])
        policy = policies.get(str(spec["policy"]).lower())
        if policy is None:
            raise FleetError("vault %s: protected item %s uses policy %s, which the vault does not have"
                             % (vault_body["name"], spec.get("name"), spec["policy"]))
        try:
            body = (item_bodies.rs_item_body if kind == "rs" else item_bodies.dp_instance_body)(vault_body, policy, spec)
        except item_bodies.ItemError as exc:
            raise FleetError("vault %s: %s" % (vault_body["name"], exc)) from exc
        if body["name"].lower() in items:
            raise FleetError("vault %s: protected item %s is listed twice" % (vault_body["name"], spec.get("name")))
        items[body["name"].lower()] = body
        counts[policy["name"].lower()] = counts.get(policy["name"].lower(), 0) + 1
    if kind == "rs":
        for key, policy in policies.items():
            policy["properties"]["protectedItemsCount"] = counts.get(key, 0)
    return items


def rg_body(sid: str, rg_entry: dict) -> dict:
    return {"id": "/subscriptions/%s/resourceGroups/%s" % (sid, rg_entry["name"]), "name": rg_entry["name"],
            "type": "Microsoft.Resources/resourceGroups", "location": rg_entry["location"],
            "tags": dict(rg_entry.get("tags") or {}), "properties": {"provisioningState": "Succeeded"}}
