# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Multi-user authorization (MUA): the operations a vault's Resource Guard protects are refused unless the request
carries, in ``x-ms-authorization-auxiliary``, a token for the Resource Guard's tenant.

Sources (tests/emulator/README.md, "Service rules"):

* Learn, multi-user-authorization-concept: with a Resource Guard associated, a critical operation succeeds only with
  sufficient permissions on the Resource Guard; the Resource Guard may sit in another subscription or tenant. Critical
  operations of a Recovery Services vault: disable soft delete or security features (mandatory), remove MUA protection
  (mandatory), modify backup policy (reduced retention), modify protection (reduced retention), stop protection with
  delete data, change MARS security PIN (optional: can be excluded). Learn, multi-user-authorization (12/2025):
  disabling immutability is shown as a protected operation.
* Learn, authenticate-multi-tenant: ARM takes tokens of other tenants in ``x-ms-authorization-auxiliary``
  (``Bearer <token>``, comma separated, up to three); the SDKs send it (``x_ms_authorization_auxiliary`` on vault
  PUT/PATCH, policy PUT, vault config PUT).
* Spec (DataProtection ResourceGuard): ``resourceGuardOperations`` and ``vaultCriticalOperationExclusionList``.
* Which policy changes reduce retention (rules.policy_reductions: every tier, operational ones included): Azure PowerShell
  sends the guard's token with a policy change that lowers a VM policy's ``instantRpRetentionRangeInDays``, lowers a
  tier's count, or drops a tier or a workload sub-policy (Azure/azure-powershell
  ``src/RecoveryServices/RecoveryServices.Backup.Providers/AzureWorkloadProviderHelper.cs`` at 8b76ababec92,
  ``checkMUAForRetentionPolicy``).

**Assumed**: the operation names the emulator writes into ``resourceGuardOperationRequests`` (one
``<guard id>/<operation>/default`` per protected operation, mandatory ones always, optional ones unless the fleet
excludes them), the guard's tenant (``resource_guard_tenant``, default GUARD_TENANT_ID), that a valid token of that tenant
is authorization enough, and the refusal's status, code and message (Learn only says the request "fails with an error
informing them about not having sufficient permissions on the Resource Guard"). Operations the emulator does not model
(stop protection with delete data, MARS PIN, deleting a backup instance) are listed, never enforced.
"""
from __future__ import annotations

from .errors import ArmError

# The tenant of every Resource Guard unless a fleet vault names another (resource_guard_tenant). The emulator's token
# endpoint issues tokens for it to the emulator's identities (guests there, as Learn requires).
GUARD_TENANT_ID = "9a9a9a9a-0000-4000-8000-00000000a001"

DISABLE_SOFT_DELETE = "disableSoftDeleteRequests"
DISABLE_IMMUTABILITY = "disableImmutabilityRequests"
DELETE_PROXY = "deleteResourceGuardProxyRequests"
REDUCE_RETENTION = "reduceRetentionRequests"
STOP_PROTECTION = "stopProtectionWithDeleteDataRequests"
DELETE_INSTANCE = "deleteBackupInstanceRequests"
MARS_PIN = "changeMarsSecurityPinRequests"

# (operation, mandatory) per vault kind, in the order Learn lists them.
OPERATIONS = {
    "rs": ((DISABLE_SOFT_DELETE, True), (DELETE_PROXY, True), (DISABLE_IMMUTABILITY, True), (REDUCE_RETENTION, False),
           (STOP_PROTECTION, False), (MARS_PIN, False)),
    "dp": ((DISABLE_SOFT_DELETE, True), (DELETE_PROXY, True), (DISABLE_IMMUTABILITY, True), (REDUCE_RETENTION, False),
           (DELETE_INSTANCE, False)),
}

CODE = "UserErrorResourceGuardAuthorizationRequired"
STATUS = 403


def operation_requests(kind: str, guard: str, excluded=()) -> list:
    """``<guard>/<operation>/default`` for each operation the guard protects (optional ones unless excluded)."""
    excluded = {str(e).lower() for e in excluded or ()}
    ops = [op for op, mandatory in OPERATIONS[kind] if mandatory or op.lower() not in excluded]
    return ["%s/%s/default" % (guard.rstrip("/"), op) for op in ops]


def check_exclusions(kind: str, excluded) -> None:
    """A fleet may exclude only optional operations (Learn: mandatory ones cannot be excluded)."""
    names = {op.lower(): mandatory for op, mandatory in OPERATIONS[kind]}
    for op in excluded or ():
        if names.get(str(op).lower()) is not False:
            raise ValueError("resource_guard_excluded: %s is not an optional operation of this vault kind (%s)"
                             % (op, ", ".join(o for o, m in OPERATIONS[kind] if not m)))


def protected(body: dict) -> tuple:
    """(guard id, {operation names, lower-cased}) of a vault body, from its resourceGuardOperationRequests."""
    requests = ((body or {}).get("properties") or {}).get("resourceGuardOperationRequests") or []
    guard, ops = None, set()
    for request in requests if isinstance(requests, list) else []:
        parts = str(request).rstrip("/").split("/")
        if len(parts) >= 3 and "resourceguards" in [p.lower() for p in parts]:
            guard = "/".join(parts[:-2])
            ops.add(parts[-2].lower())
    return guard, ops


def _sd(body, kind):
    sec = ((body or {}).get("properties") or {}).get("securitySettings") or {}
    sd = sec.get("softDeleteSettings") or {}
    imm = str((sec.get("immutabilitySettings") or {}).get("state") or "Disabled").lower()
    if kind == "rs":
        states = [str(sd.get(k) or "").lower() for k in ("softDeleteState", "enhancedSecurityState")]
        return states, sd.get("softDeleteRetentionPeriodInDays"), imm
    return [str(sd.get("state") or "").lower()], sd.get("retentionDurationInDays"), imm


def _lowered(old, new):
    return isinstance(old, (int, float)) and isinstance(new, (int, float)) and new < old


def soft_delete_operations(old_states, new_states, old_days, new_days) -> list:
    """Disabling soft delete (a state that becomes Disabled / Off) or shortening its retention (Learn training,
    protect-backup-data: "Shorten soft delete retention window" needs the Resource Guard owner's approval)."""
    off = ("disabled", "off")
    disabled = any(n in off and o not in off for o, n in zip(old_states, new_states))
    return [DISABLE_SOFT_DELETE] if disabled or _lowered(old_days, new_days) else []


def vault_operations(kind: str, old: dict, new: dict) -> list:
    """The critical operations a vault write performs (old body -> new body)."""
    if old is None:
        return []
    old_states, old_days, old_imm = _sd(old, kind)
    new_states, new_days, new_imm = _sd(new, kind)
    ops = soft_delete_operations(old_states, new_states, old_days, new_days)
    if old_imm == "unlocked" and new_imm == "disabled":
        ops.append(DISABLE_IMMUTABILITY)
    return ops


def check(aux_tenants, req, record: dict, ops: list, what: str) -> None:
    """Refuse ``ops`` on the vault ``record`` unless its guard's tenant authorized them (raises ArmError)."""
    guard, guarded = protected(record.get("body"))
    needed = [op for op in ops if op.lower() in guarded]
    if guard is None or not needed:
        return
    tenant = str(record.get("guard_tenant") or GUARD_TENANT_ID).lower()
    header = req.headers.get("x-ms-authorization-auxiliary") if req.headers is not None else None
    if tenant in aux_tenants(header):
        return
    raise ArmError(STATUS, CODE,
                   "The operation '%s' (%s) is protected by the Resource Guard '%s' of this vault (multi-user authorization). "
                   "Send a token of the Resource Guard's tenant '%s', for an identity with sufficient permissions on the Resource "
                   "Guard, in the x-ms-authorization-auxiliary header." % (what, ", ".join(needed), guard, tenant))
