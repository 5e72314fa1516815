# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vault security settings beyond immutability and soft delete (issue 27): fleet keys, random fleets, the one-way rule.

Property paths (SDK models azure-mgmt-recoveryservices 2026-11-01 ``VaultProperties`` and azure-mgmt-dataprotection
2026-06-01 ``BackupVault``; the built-in Azure Policy definitions copied to tests/fixtures/azure-policy name the same):

| fleet key | Recovery Services vault | Backup vault |
| --- | --- | --- |
| ``cross_subscription_restore`` | ``restoreSettings.crossSubscriptionRestoreSettings``
  ``.crossSubscriptionRestoreState`` | ``featureSettings.crossSubscriptionRestoreSettings.state`` |
| ``public_network_access`` | ``publicNetworkAccess`` | (no such property in the DataProtection API) |
| ``alerts.job_failure_alerts`` | ``monitoringSettings.azureMonitorAlertSettings.alertsForAllJobFailures`` | same path |
| ``alerts.classic_alerts`` | ``monitoringSettings.classicAlertSettings.alertsForCriticalOperations`` | (none) |
| ``cmk_key_uri`` | ``encryption.keyVaultProperties.keyUri`` | ``securitySettings.encryptionSettings`` (state Enabled, keyVaultProperties.keyUri) |
| ``infrastructure_encryption`` | ``encryption.infrastructureEncryption`` | ``securitySettings.encryptionSettings.infrastructureEncryption`` |
| ``private_endpoints`` (a count) | ``privateEndpointConnections`` (read-only) + ``privateEndpointStateForBackup`` Enabled | (none) |
| ``storage_redundancy`` | ``redundancySettings.standardTierStorageRedundancy`` | ``storageSettings[0].type`` |
| ``cross_region_restore`` | ``redundancySettings.crossRegionRestore`` | ``featureSettings.crossRegionRestoreSettings.state`` |

``cross_subscription_restore: not_reported`` seeds a vault whose body carries no state (``NOT_REPORTED``).
Casing of values: the SDK enums (``Enabled``, ``Disabled``, ``PermanentlyDisabled``, ``GeoRedundant``...).
"""
from __future__ import annotations

import random

from .errors import ArmError

STATES = {"enabled": "Enabled", "disabled": "Disabled", "permanently_disabled": "PermanentlyDisabled",
          "permanentlydisabled": "PermanentlyDisabled", "true": "Enabled", "false": "Disabled"}
REDUNDANCY = {"georedundant": "GeoRedundant", "locallyredundant": "LocallyRedundant", "zoneredundant": "ZoneRedundant"}
DP_REDUNDANCY = {"GeoRedundant": "GeoRedundant", "LocallyRedundant": "LocallyRedundant", "ZoneRedundant": "ZoneRedundant"}
KEYS = ("cross_subscription_restore", "public_network_access", "alerts", "cmk_key_uri", "infrastructure_encryption",
        "private_endpoints", "storage_redundancy", "cross_region_restore")
# No Microsoft source gives the error of a request that leaves PermanentlyDisabled (the SDK enum only says the state
# exists; Learn, backup-azure-restore-cross-subscription: "permanently disabled ... cannot be re-enabled"): code assumed.
CSR_CODE = "UserErrorCrossSubscriptionRestoreStateChangeNotAllowed"
# The fleet value of cross_subscription_restore for a vault that reports none.
NOT_REPORTED = "not_reported"
CSR_MSG = ("Cross subscription restore is permanently disabled for this vault and cannot be enabled or changed again.")


# Two one-way settings of a vault's storage (Learn, backup-create-recovery-services-vault, the page the collection's
# _rules/storage_redundancy.py and _rules/cross_region_restore.py cite): the storage redundancy can be changed only
# before items are protected, and cross region restore, once enabled, cannot be disabled (hashicorp/terraform-provider-
# azurerm#20373 reports true -> false not taking effect). Both kinds: for Backup vaults Learn's "Create and manage Backup
# vaults" (create-manage-backup-vault) says the storage redundancy cannot be changed after items are protected, and a
# recorded live answer refuses disabling cross region restore (CRR_CODE). Still **assumed**: a Backup vault's redundancy
# change refused rather than ignored, with this code and message (the refusing side, so that no test can see it made).
REDUNDANCY_CODE = "UserErrorStorageRedundancyChangeNotAllowed"
REDUNDANCY_MSG = ("The storage redundancy of this vault cannot be changed because items are protected in it. Stop protection "
                  "and delete the backup data of every item first.")
# Recovery Services: the live answer to a redundancy change of a vault with a registered item, quoted in
# hashicorp/terraform-provider-azurerm#8813 (400, code and message verbatim; the status the SDK printed).
RS_REDUNDANCY_CODE = "StorageModelModifyError"
RS_REDUNDANCY_MSG = "Storage Redundancy option is locked when the first machine is registered with the vault, and cannot be modified thereafter."
# Backup vaults: the live answer to disabling cross region restore once enabled, recorded (az CLI dataprotection test
# recording of 2024-02-12, api-version 2023-11-01: tests/fixtures/azure-real/cliext-dp-vault-refusals, disable_crr), in the
# Backup service's user-facing error shape. Recovery Services (the vault API and the storage config) answer with the
# same code and message (**assumed**: no recording of theirs).
CRR_CODE = "UserErrorCrossRegionRestoreStateChangeNotAllowed"
CRR_MSG = "CrossRegionRestore state cannot be changed from Enabled to Disabled."


class FleetValueError(ValueError):
    """A fleet security key with a value the emulator does not know."""


def _state(name, key, value) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    state = STATES.get(str(value).lower())
    if state is None or (state == "PermanentlyDisabled" and key != "cross_subscription_restore"):
        raise FleetValueError("vault %s: %s must be enabled or disabled%s, got %r"
                              % (name, key, " or permanently_disabled" if key == "cross_subscription_restore" else "", value))
    return state


def apply_fleet(kind: str, body: dict, spec: dict):
    """Write a fleet vault's security keys into its ARM body (in place). ``kind``: rs | dp."""
    name = spec.get("name")
    props = body.setdefault("properties", {})
    csr = spec.get("cross_subscription_restore")
    if csr == NOT_REPORTED:
        # A vault whose body carries no cross subscription restore state (rec: Backup vaults created without it,
        # bodies.dp_defaults). Every recorded Recovery Services body carries one: for that kind it is a test input only.
        if kind == "rs":
            props.pop("restoreSettings", None)
        else:
            (props.get("featureSettings") or {}).pop("crossSubscriptionRestoreSettings", None)
            if not props.get("featureSettings"):
                props.pop("featureSettings", None)
    elif csr is not None:
        state = _state(name, "cross_subscription_restore", csr)
        if kind == "rs":
            props["restoreSettings"] = {"crossSubscriptionRestoreSettings": {"crossSubscriptionRestoreState": state}}
        else:
            props.setdefault("featureSettings", {})["crossSubscriptionRestoreSettings"] = {"state": state}
    pna = spec.get("public_network_access")
    if pna is not None and kind == "rs":
        props["publicNetworkAccess"] = _state(name, "public_network_access", pna)
    alerts = spec.get("alerts")
    if alerts is not None:
        if not isinstance(alerts, dict):
            raise FleetValueError("vault %s: alerts must be a mapping of job_failure_alerts, classic_alerts" % name)
        monitoring = props.setdefault("monitoringSettings", {})
        if alerts.get("job_failure_alerts") is not None:
            monitoring.setdefault("azureMonitorAlertSettings", {})["alertsForAllJobFailures"] = _state(
                name, "alerts.job_failure_alerts", alerts["job_failure_alerts"])
        if alerts.get("classic_alerts") is not None and kind == "rs":
            monitoring.setdefault("classicAlertSettings", {})["alertsForCriticalOperations"] = _state(
                name, "alerts.classic_alerts", alerts["classic_alerts"])
    key_uri = spec.get("cmk_key_uri")
    infra = spec.get("infrastructure_encryption")
    if key_uri or infra is not None:
        infra_state = _state(name, "infrastructure_encryption", infra) if infra is not None else "Disabled"
        if kind == "rs":
            enc = props.setdefault("encryption", {})
            if key_uri:
                enc["keyVaultProperties"] = {"keyUri": key_uri}
                enc["kekIdentity"] = {"useSystemAssignedIdentity": True}
            enc["infrastructureEncryption"] = infra_state
        else:
            enc = props.setdefault("securitySettings", {}).setdefault("encryptionSettings", {})
            enc["state"] = "Enabled" if key_uri else "Disabled"
            if key_uri:
                enc["keyVaultProperties"] = {"keyUri": key_uri}
                enc["kekIdentity"] = {"identityType": "SystemAssigned"}
            enc["infrastructureEncryption"] = infra_state
    endpoints = spec.get("private_endpoints")
    if endpoints and kind == "rs":
        props["privateEndpointConnections"] = [_endpoint(body, n) for n in range(int(endpoints))]
        props["privateEndpointStateForBackup"] = "Enabled"
    redundancy = spec.get("storage_redundancy")
    if redundancy is not None:
        value = REDUNDANCY.get(str(redundancy).lower())
        if value is None:
            raise FleetValueError("vault %s: storage_redundancy must be GeoRedundant, LocallyRedundant or ZoneRedundant" % name)
        if kind == "rs":
            props.setdefault("redundancySettings", {})["standardTierStorageRedundancy"] = value
        else:
            props["storageSettings"] = [{"datastoreType": "VaultStore", "type": DP_REDUNDANCY[value]}]
    crr = spec.get("cross_region_restore")
    if crr is not None:
        state = _state(name, "cross_region_restore", crr)
        if kind == "rs":
            props.setdefault("redundancySettings", {})["crossRegionRestore"] = state
        else:
            props.setdefault("featureSettings", {})["crossRegionRestoreSettings"] = {"state": state}


def _endpoint(body: dict, number: int) -> dict:
    """A private endpoint connection as VaultProperties.privateEndpointConnections lists it (SDK model
    PrivateEndpointConnectionVaultProperties: id, properties.provisioningState, privateEndpoint.id, state)."""
    sub, rg = body["id"].split("/")[2], body["id"].split("/")[4]
    pe = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/privateEndpoints/pe-%s-%d" % (sub, rg, body["name"], number + 1)
    return {"id": "%s/privateEndpointConnections/pe-%s-%d" % (body["id"], body["name"], number + 1),
            "location": body.get("location"),
            "properties": {"provisioningState": "Succeeded", "privateEndpoint": {"id": pe}, "groupIds": ["AzureBackup"],
                           "privateLinkServiceConnectionState": {"status": "Approved", "description": "Approved by the vault owner",
                                                                 "actionsRequired": "None"}}}


def random_settings(seed, vault_name: str, kind: str) -> dict:
    """Random values of every security key for one vault, from an RNG of its own (the rest of a fleet is unchanged)."""
    rng = random.Random("vaultlock-security:%s:%s" % (seed, vault_name))
    out = {"cross_subscription_restore": rng.choice(("enabled", "enabled", "disabled", "permanently_disabled")),
           "alerts": {"job_failure_alerts": rng.choice(("enabled", "disabled"))},
           "storage_redundancy": rng.choice(("GeoRedundant", "LocallyRedundant", "ZoneRedundant")),
           "cross_region_restore": rng.choice(("enabled", "disabled")),
           "infrastructure_encryption": rng.choice(("enabled", "disabled"))}
    if rng.random() < 0.4:
        out["cmk_key_uri"] = "https://kv-backup-%06x.vault.azure.net/keys/backup-cmk" % rng.randrange(16 ** 6)
    if kind == "rs":
        out["public_network_access"] = rng.choice(("enabled", "disabled"))
        out["alerts"]["classic_alerts"] = rng.choice(("enabled", "disabled"))
        out["private_endpoints"] = rng.choice((0, 0, 1, 2))
    return out


def random_fleet_option(value):
    """The seed of a fleet's ``random_security`` option (``true``, a seed, or ``{seed: S}``), or None when off."""
    if value is None or value is False:
        return None
    if value is True:
        return "0"
    if isinstance(value, dict):
        return str(value.get("seed", "0"))
    return str(value)


# ---------------------------------------------------------------------------------------- the service's rules
def csr_state(kind: str, props: dict):
    props = props or {}
    if kind == "rs":
        return (((props.get("restoreSettings") or {}).get("crossSubscriptionRestoreSettings") or {})
                .get("crossSubscriptionRestoreState"))
    return ((props.get("featureSettings") or {}).get("crossSubscriptionRestoreSettings") or {}).get("state")


def redundancy_state(kind: str, props: dict):
    """(storage redundancy, cross region restore state) of a vault's properties, as stored (None when absent)."""
    props = props or {}
    if kind == "rs":
        redundancy = props.get("redundancySettings") if isinstance(props.get("redundancySettings"), dict) else {}
        return redundancy.get("standardTierStorageRedundancy"), redundancy.get("crossRegionRestore")
    settings = props.get("storageSettings")
    stores = [entry for entry in settings if isinstance(entry, dict)] if isinstance(settings, list) else []
    vault_store = [entry for entry in stores if str(entry.get("datastoreType")).lower() == "vaultstore"] or stores
    feature = props.get("featureSettings") if isinstance(props.get("featureSettings"), dict) else {}
    crr = feature.get("crossRegionRestoreSettings") if isinstance(feature.get("crossRegionRestoreSettings"), dict) else {}
    return (vault_store[0].get("type") if vault_store else None), crr.get("state")


def check_redundancy(kind: str, old_props: dict, new_props: dict, protects_items: bool):
    """A write that changes the storage redundancy of a vault that protects items, or disables cross region restore once
    enabled, is refused and changes nothing (see REDUNDANCY_CODE: behaviour docs, answer assumed)."""
    old_storage, old_crr = redundancy_state(kind, old_props)
    new_storage, new_crr = redundancy_state(kind, new_props)
    if protects_items and old_storage and new_storage and str(old_storage).lower() != str(new_storage).lower():
        if kind == "rs":
            raise ArmError(400, RS_REDUNDANCY_CODE, RS_REDUNDANCY_MSG, target="storageType")
        raise ArmError(400, REDUNDANCY_CODE, REDUNDANCY_MSG, target="storageSettings")
    if str(old_crr or "").lower() == "enabled" and new_crr is not None and str(new_crr).lower() != "enabled":
        raise ArmError(400, CRR_CODE, CRR_MSG, user_facing=True)


def check_csr(kind: str, old_props: dict, new_props: dict):
    """PermanentlyDisabled is one way (Learn: a vault whose cross subscription restore is permanently disabled cannot have
    it enabled again): a write that leaves it is refused and changes nothing (error code assumed, see CSR_CODE)."""
    old = str(csr_state(kind, old_props) or "").lower()
    new = str(csr_state(kind, new_props) or old).lower()
    if old == "permanentlydisabled" and new != "permanentlydisabled":
        raise ArmError(400, CSR_CODE, CSR_MSG)
