# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure by default: regions (or single vaults) where Azure enforces soft delete and refuses to turn it off.

Microsoft Learn, secure-by-default (2025-11-10): soft delete "is now enforced by default"; general availability for
Recovery Services vaults in all regions, for Backup vaults in Australia East, West Central US and East Asia, preview
elsewhere. "Disable Soft Delete" is not allowed in GA for any API version; in preview it is not allowed for API
version 2024-09-30-preview or later (Recovery Services) and 2025-09-01 or later (Backup vaults), and allowed for
earlier versions.

Modes (fleet: vault ``secure_by_default: ga | preview | none``, or per region, see ``mode_for``):

* ``ga`` Recovery Services: soft delete is set to AlwaysON, "irrespective of previous state"
  (hashicorp/terraform-provider-azurerm#31912, by the service's engineers); leaving it is then refused by the AlwaysON
  rules (rules.py).
* ``preview`` Recovery Services: the backup resource vault config API refuses to disable soft delete or enhanced
  security at 2024-09-30-preview or later with ``BMSUserErrorDisablingSoftDeleteStateNotAllowed`` "Disabling soft
  delete or enhanced security state is not allowed for this vault. Please contact Microsoft Support if this is not
  expected." (ansible-collections/azure#2290 under secure by default; Azure/azure-cli#32383 with az CLI 2.75-2.78).
  The vault API answers success and leaves soft delete unchanged (terraform-provider-azurerm#31912: "It doesn't error
  when the plan is applied but it also doesn't change the ... resource"; #31163: in preview "this field cannot
  control it directly").
* ``ga`` / ``preview`` Backup vaults: turning soft delete Off is refused (preview: at 2025-09-01 or later) with
  ``UserErrorDisableSoftDeleteNotAllowed`` (the Backup vault's recorded soft delete refusal); the code and message for
  this case are **assumed** (no source shows them).

Default: Backup vaults in Learn's GA regions are ``ga``; nothing else is enforced unless the fleet says so
(**assumed**: the default fleets model vaults as they were before the Recovery Services rollout, so that the other
soft delete behaviours stay testable).
"""
from __future__ import annotations

from .errors import ArmError

MODES = ("ga", "preview", "none")
DEFAULT_REGIONS = {"rs": {}, "dp": {"australiaeast": "ga", "westcentralus": "ga", "eastasia": "ga"}}
# First api-version at which the preview refuses to disable soft delete (Learn, secure-by-default).
PREVIEW_FROM = {"rs": "2024-09-30", "dp": "2025-09-01"}

CONFIG_ENFORCED_CODE = "BMSUserErrorDisablingSoftDeleteStateNotAllowed"
CONFIG_ENFORCED_MSG = ("Disabling soft delete or enhanced security state is not allowed for this vault. Please contact "
                       "Microsoft Support if this is not expected.")
DP_ENFORCED_CODE = "UserErrorDisableSoftDeleteNotAllowed"
DP_ENFORCED_MSG = "Soft delete is enforced for this vault (secure by default) and cannot be disabled."

_KIND_KEYS = {"recovery_services": "rs", "rs": "rs", "backup": "dp", "dp": "dp"}


def _region(location) -> str:
    return str(location or "").lower().replace(" ", "")


def regions_from_fleet(fleet) -> dict:
    """{"rs": {region: mode}, "dp": {...}}: the defaults, overridden by the fleet's ``secure_by_default`` map."""
    out = {kind: dict(regions) for kind, regions in DEFAULT_REGIONS.items()}
    spec = (fleet or {}).get("secure_by_default") or {}
    if not isinstance(spec, dict):
        raise ValueError("secure_by_default must be a map {recovery_services|backup: {region: ga|preview|none}}")
    for kind, regions in spec.items():
        key = _KIND_KEYS.get(str(kind).lower())
        if key is None or not isinstance(regions, dict):
            raise ValueError("secure_by_default: unknown vault kind %r (recovery_services or backup)" % kind)
        for region, mode in regions.items():
            if str(mode).lower() not in MODES:
                raise ValueError("secure_by_default.%s.%s must be one of %s" % (kind, region, ", ".join(MODES)))
            out[key][_region(region)] = str(mode).lower()
    return out


def mode_for(regions: dict, kind: str, location, vault_flag=None) -> str:
    """The secure-by-default mode of a vault: its own flag, else its region's, else none."""
    if vault_flag not in (None, ""):
        flag = "ga" if vault_flag is True else ("none" if vault_flag is False else str(vault_flag).lower())
        if flag not in MODES:
            raise ValueError("secure_by_default must be one of %s" % ", ".join(MODES))
        return flag
    return (regions or DEFAULT_REGIONS).get(kind, {}).get(_region(location), "none")


def _date(api_version) -> str:
    return str(api_version or "9999-12-31")[:10]


def _enforced(kind, mode, api_version) -> bool:
    if mode == "ga":
        return True
    return mode == "preview" and _date(api_version) >= PREVIEW_FROM[kind]


def rs_force_always_on(mode, sds: dict) -> dict:
    """GA Recovery Services: soft delete and enhanced security AlwaysON whatever was asked (in place)."""
    if mode == "ga":
        sds["softDeleteState"] = "AlwaysON"
        sds["enhancedSecurityState"] = "AlwaysON"
    return sds


def _disabling(old_sd, new_sd, keys, off) -> bool:
    return any(str(new_sd.get(k) or "").lower() == off and str(old_sd.get(k) or "").lower() != off for k in keys)


def rs_vault_write(mode, old_sd, new_sd, api_version) -> dict:
    """Soft delete a Recovery Services vault PUT/PATCH stores: preview keeps the old settings when disabling."""
    if mode == "preview" and _enforced("rs", mode, api_version) and \
            _disabling(old_sd or {}, new_sd, ("softDeleteState", "enhancedSecurityState"), "disabled"):
        return dict(old_sd or {})
    return new_sd


def rs_config_write(mode, old_sd, new_sd, api_version):
    """Raise Azure's refusal when the config API disables soft delete that secure by default enforces."""
    if mode == "preview" and _enforced("rs", mode, api_version) and \
            _disabling(old_sd or {}, new_sd, ("softDeleteState", "enhancedSecurityState"), "disabled"):
        raise ArmError(400, CONFIG_ENFORCED_CODE, CONFIG_ENFORCED_MSG, user_facing=True)


def dp_vault_write(mode, old_sd, new_sd, api_version):
    """Raise the refusal when a Backup vault write turns enforced soft delete Off."""
    if _enforced("dp", mode, api_version) and _disabling(old_sd or {}, new_sd, ("state",), "off"):
        raise ArmError(400, DP_ENFORCED_CODE, DP_ENFORCED_MSG, user_facing=True)
