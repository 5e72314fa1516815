# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bodies as the live services write them (tests/fixtures/azure-real): defaults, create answers, api-version views.

* A vault without tags has no ``tags`` key, and a Backup vault no ``eTag`` (rec: cliext-dp-vault-update at 2022-12-01,
  ps-dp-getvault at 2023-05-01, the spec examples of 2026-06-01; the SDK model has an optional eTag no answer carries).
* Stored defaults of a Recovery Services vault (rec): ``restoreSettings.crossSubscriptionRestoreSettings``
  ``Enabled`` (every recorded vault), ``backupStorageVersion`` ``Unassigned`` for a new vault (ps-rs-immutability
  GET after create), ``regionOfChoiceSettings.status`` ``Disabled`` (cli-rs-softdelete-basic).
* Cross subscription restore of a Backup vault: a vault created without it carries no
  ``featureSettings.crossSubscriptionRestoreSettings`` (rec, three vaults made by the az CLI dataprotection extension's
  tests: cliext-dp-mua-vault GET at 2023-05-01, cliext-dp-cmk GET at 2024-04-01, cliext-dp-vault-refusals create_locked
  answer at 2025-07-01); a seeded vault models an existing vault and reports ``Enabled`` (rec ps-dp-getvault at
  2023-05-01; Learn, create-manage-backup-vault "Cross Subscription Restore using Azure portal": "Cross Subscription
  Restore (CSR) is enabled for existing vaults by default"), unless its fleet says ``not_reported``. ``secureScore``
  (rec ps-dp-getvault: ``None``; spec stable/2023-05-01 ``SecureScoreLevel``) is shown per api-version (``dp_vault_view``).
* The 201 answer of a vault create shows the request as the service parsed it (rec): ``multiUserAuthorization``
  ``Invalid``, no ``backupStorageVersion``, and, when the request carried no soft delete settings,
  ``softDeleteSettings: null`` and ``standardTierStorageRedundancy: "Invalid"`` (ps-rs-immutability; with soft delete
  settings, cli-rs-softdelete-basic shows ``GeoRedundant``). A later GET shows the stored defaults.
* Each api-version answers the fields its contract has (see ``_INTRODUCED`` and ``OLD_SHAPE_PROPERTIES``: at
  2021-03-01 and older a vault has no securitySettings, redundancySettings or publicNetworkAccess); older versions do
  not show newer fields, and api-versions up to 2024-02-01 show ``immutabilitySettings.disablingAllowedTimeInUTC: null``
  (ps-rs-immutability at 2024-02-01; absent at 2026-01-01 in ps-rs-enhancedpolicy; in between assumed absent).
* A Recovery Services IaaS VM policy PUT is stored and answered normalised (rec ps-rs-enhancedpolicy, api
  2025-02-01): ``instantRPDetails`` ``{}`` when not sent, and each ``tieringPolicy`` entry without a duration gets
  ``duration: 0`` and ``durationType: "Invalid"``.
* A Recovery Services policy that does not exist answers 404 with the body ``{}`` and no error code (rec
  ps-rs-enhancedpolicy at 2025-02-01 and ps-rs-afsvaultpolicy at 2024-04-01).
"""
from __future__ import annotations

import copy

RESTORE_DEFAULT = {"crossSubscriptionRestoreSettings": {"crossSubscriptionRestoreState": "Enabled"}}
REGION_OF_CHOICE_DEFAULT = {"status": "Disabled"}
DP_CSR_DEFAULT = {"state": "Enabled"}

# Vault property -> first api-version (date part) whose answers carry it. Sources: secureScore/bcdrSecurityLevel:
# rec ps-rs-immutability (absent at 2024-02-01) and azure-sdk-for-java recoveryservices 1.3.0 (package-2024-04 added
# BcdrSecurityLevel); restoreSettings: spec stable/2022-10-01/vaults.json lacks it, azure-sdk-for-java 1.1.0
# (package-2023-02) added RestoreSettings; sourceScanConfiguration (spec examples from 2025-02-01),
# costManagementSettings (spec examples from 2026-01-01), regionOfChoiceSettings (rec at 2026-05-01): thresholds assumed.
_INTRODUCED = {
    "secureScore": "2024-04-01",
    "bcdrSecurityLevel": "2024-04-01",
    "restoreSettings": "2023-02-01",
    "sourceScanConfiguration": "2025-02-01",
    "costManagementSettings": "2026-01-01",
    "regionOfChoiceSettings": "2026-05-01",
}
_SECURITY_INTRODUCED = {"sourceScanConfiguration": "2025-02-01"}
# VaultProperties of the Recovery Services spec at stable/2021-03-01/vaults.json (Azure/azure-rest-api-specs
# @192e8664bf1875bc9cf3847fe32f71c52b8a6e03): only these six. No securitySettings (immutability, soft delete),
# redundancySettings, publicNetworkAccess, monitoringSettings, moveDetails, moveState or backupStorageVersion; all of
# those are in stable/2022-10-01/vaults.json (@4984b1579aa6bada687da829863e82fd2df8d970). So a vault read at
# 2021-03-01 or older (2016-06-01 .. 2021-02-10; properties are only added) shows only these. Between 2021-04-01 and
# 2022-09-30 the emulator shows the newer properties: that the versions in between have them is assumed.
OLD_SHAPE_UNTIL = "2021-03-01"
OLD_SHAPE_PROPERTIES = ("provisioningState", "upgradeDetails", "privateEndpointConnections", "privateEndpointStateForBackup",
                        "privateEndpointStateForSiteRecovery", "encryption")
LEGACY_DISABLING_TIME_UNTIL = "2024-02-01"


# Backup vault property -> first api-version (date part) whose answers carry it. Sources (Azure/azure-rest-api-specs
# @314ba8a8102208f2d9d785bb4ad72d58b23dbd9d, specification/dataprotection/.../DataProtection/stable/<v>/dataprotection.json):
# * secureScore: BackupVault of stable/2023-05-01 has it (SecureScoreLevel None, Minimum, Adequate, Maximum,
#   NotSupported, readOnly), stable/2023-01-01 does not; rec ps-dp-getvault answers it at 2023-05-01. 2023-04-01-preview
#   (in between) is assumed not to.
# * featureSettings (crossSubscriptionRestoreSettings): stable/2023-01-01 has it; azure-sdk-for-python
#   azure-mgmt-dataprotection 1.0.0 (2023-02-15, api 2023-01-01): "Model BackupVault has a new parameter
#   feature_settings". The 2022-12-01 file lists it too, but every recorded answer at 2022-12-01 (cliext-dp-vault-update,
#   33 interactions) has no featureSettings, and recordings outrank the spec: hidden before 2023-01-01.
# * featureSettings.crossRegionRestoreSettings: CrossRegionRestoreSettings first defined in stable/2023-05-01 (absent
#   from 2023-01-01; azure-sdk-for-java 1.1.0, package-2023-05, added CrossRegionRestoreState).
# * bcdrSecurityLevel: recorded in a create answer at 2025-07-01 (cliext-dp-vault-refusals, create_locked: "Good"), absent
#   from the recorded GETs at 2023-11-01 (the same folder's source); the versions in between are assumed not to carry it.
_DP_INTRODUCED = {"secureScore": "2023-05-01", "featureSettings": "2023-01-01", "bcdrSecurityLevel": "2025-07-01"}
_DP_FEATURE_INTRODUCED = {"crossRegionRestoreSettings": "2023-05-01"}


def _date(api_version) -> str:
    return str(api_version or "9999-12-31")[:10]


def _drop_newer(obj: dict, introduced: dict, ver: str):
    """Remove from ``obj`` (in place) the keys ``introduced`` dates after the api-version date ``ver``."""
    for key, since in introduced.items():
        if ver < since:
            obj.pop(key, None)


def tagged(body: dict, tags) -> dict:
    """The vault body with its ``tags`` (in place): only when it has some. Recorded creates without tags answer no
    ``tags`` key at all (cliext-dp-vault-update: every Backup vault answer; cli-rs-softdelete-basic: the Recovery
    Services 201), not ``{}``; that a vault whose tags were all removed answers the same is assumed."""
    if tags:
        body["tags"] = dict(tags)
    return body


def rs_defaults(props: dict, old_props: dict | None):
    """Fill the stored defaults of a Recovery Services vault's properties (in place)."""
    old_props = old_props or {}
    if not isinstance(props.get("restoreSettings"), dict):
        props["restoreSettings"] = copy.deepcopy(old_props.get("restoreSettings") or RESTORE_DEFAULT)
    props["backupStorageVersion"] = old_props.get("backupStorageVersion") or "Unassigned"
    if not isinstance(props.get("regionOfChoiceSettings"), dict):
        props["regionOfChoiceSettings"] = copy.deepcopy(old_props.get("regionOfChoiceSettings") or REGION_OF_CHOICE_DEFAULT)


def dp_defaults(props: dict, old_props: dict | None):
    """Keep a Backup vault's cross subscription restore (in place): as the write left it, else as the vault had it, else
    not at all (a new vault created without it reports none: see the module docstring). Other featureSettings keys are as
    written; an empty featureSettings is left out, as the recorded answers without it have none."""
    old_csr = (((old_props or {}).get("featureSettings") or {}).get("crossSubscriptionRestoreSettings"))
    features = props.get("featureSettings")
    if not isinstance(features, dict):
        features = {}
    if not isinstance(features.get("crossSubscriptionRestoreSettings"), dict) or \
            features["crossSubscriptionRestoreSettings"].get("state") is None:
        features.pop("crossSubscriptionRestoreSettings", None)
        if isinstance(old_csr, dict) and old_csr.get("state"):
            features["crossSubscriptionRestoreSettings"] = copy.deepcopy(old_csr)
    if features:
        props["featureSettings"] = features
    else:
        props.pop("featureSettings", None)


def dp_vault_view(body: dict, api_version) -> dict:
    """A Backup vault body as an api-version answers it (a copy): properties its contract does not have are left out."""
    view = json_copy(body)
    props = view.get("properties") if isinstance(view, dict) else None
    if not isinstance(props, dict):
        return view
    ver = _date(api_version)
    _drop_newer(props, _DP_INTRODUCED, ver)
    features = props.get("featureSettings")
    if isinstance(features, dict):
        _drop_newer(features, _DP_FEATURE_INTRODUCED, ver)
        if not features:
            del props["featureSettings"]
    return view


def rs_create_answer(shown: dict, request_body) -> dict:
    """The 201 body of a Recovery Services vault create, from the stored vault and the request (in place)."""
    props = shown.get("properties") or {}
    sec = props.get("securitySettings")
    sent = (((request_body or {}).get("properties") or {}).get("securitySettings") or {}) if isinstance(request_body, dict) else {}
    sent_props = ((request_body or {}).get("properties") or {}) if isinstance(request_body, dict) else {}
    if isinstance(sec, dict):
        sec["multiUserAuthorization"] = "Invalid" if sec.get("multiUserAuthorization") != "Enabled" else "Enabled"
        if not isinstance(sent.get("softDeleteSettings"), dict):
            sec["softDeleteSettings"] = None
            redundancy = props.get("redundancySettings")
            if isinstance(redundancy, dict) and not (sent_props.get("redundancySettings") or {}).get("standardTierStorageRedundancy"):
                redundancy["standardTierStorageRedundancy"] = "Invalid"
    props.pop("backupStorageVersion", None)
    return shown


def json_copy(value):
    """A deep copy of JSON data (what copy.deepcopy makes of it, in about a third of the time: no memo): dicts, lists and tuples
    are copied, str, numbers, booleans and None are immutable and shared; anything else goes to copy.deepcopy."""
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    if kind is tuple:
        return tuple(json_copy(item) for item in value)
    return copy.deepcopy(value)


def rs_vault_view(body: dict, api_version) -> dict:
    """A Recovery Services vault body as an api-version answers it (a copy)."""
    if not isinstance(body, dict):
        return body
    view = json_copy(body)
    props = view.get("properties")
    if not isinstance(props, dict):
        return view
    ver = _date(api_version)
    if ver <= OLD_SHAPE_UNTIL:
        for key in [k for k in props if k not in OLD_SHAPE_PROPERTIES]:
            del props[key]
        return view
    _drop_newer(props, _INTRODUCED, ver)
    sec = props.get("securitySettings")
    if isinstance(sec, dict):
        _drop_newer(sec, _SECURITY_INTRODUCED, ver)
        imm = sec.get("immutabilitySettings")
        if isinstance(imm, dict) and ver <= LEGACY_DISABLING_TIME_UNTIL:
            imm.setdefault("disablingAllowedTimeInUTC", None)
    return view


def rs_policy_normalise(props: dict) -> dict:
    """Normalise a Recovery Services policy's properties as the service stores them (in place)."""
    if str(props.get("backupManagementType") or "").lower() != "azureiaasvm":
        return props
    props.setdefault("instantRPDetails", {})
    tiering = props.get("tieringPolicy")
    if isinstance(tiering, dict):
        for entry in tiering.values():
            if isinstance(entry, dict) and entry.get("duration") is None:
                entry["duration"] = 0
                entry.setdefault("durationType", "Invalid")
    return props


def dp_policy_normalise(props: dict) -> dict:
    """Add what the service adds to a Backup vault policy it creates (in place): ``tagInfo.id`` on each tagging criterion
    of a backup rule, the tag name followed by ``_``. The spec example BackupPolicies_CreateOrUpdate (dataprotection
    2026-06-01, PolicyCRUD/CreateOrUpdateBackupPolicy.json, tests/fixtures/azure-reference/) sends ``tagInfo`` with
    ``tagName`` only and answers ``{"id": "Default_", "tagName": "Default"}`` and ``{"id": "Weekly_", ...}``; Microsoft's
    clients send that id themselves (the ``defaultPolicy`` of az dataprotection's manifests). Nothing else differs between
    the example's request and its answer but the resource's ``id``, ``name`` and ``type``. An id sent in the request is
    kept as sent (assumed: no example sends another id)."""
    rules = props.get("policyRules")
    for rule in rules if isinstance(rules, list) else []:
        trigger = rule.get("trigger") if isinstance(rule, dict) else None
        criteria = trigger.get("taggingCriteria") if isinstance(trigger, dict) else None
        for criterion in criteria if isinstance(criteria, list) else []:
            info = criterion.get("tagInfo") if isinstance(criterion, dict) else None
            if isinstance(info, dict) and isinstance(info.get("tagName"), str) and "id" not in info:
                info["id"] = info["tagName"] + "_"
    return props
