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
  ``checkMUAForRetentionPolicy``); the az CLI also sends it when the change makes the schedule sparser (a longer RPO:
  ``command_modules/backup/custom_help.py`` ``is_rpo_increased``, rules.rpo_hours).
* The guard protects a vault through its proxy (``backupResourceGuardProxies``), whose ``resourceGuardOperationDetails``
  give each protected operation's request id; a write the guard protects carries that id in its body's
  ``resourceGuardOperationRequests`` (Microsoft's clients, VAULT_OPERATIONS) and is refused without it
  (REQUEST_ID_MESSAGE). A vault GET names neither the guard nor the ids (tests/fixtures/azure-real/ps-rs-mua).
* A Recovery Services vault's operations and request types are the live service's: Azure PowerShell's session record
  TestAzureVMMUA (tests/fixtures/azure-real/ps-rs-mua: the proxy as listed, and the immutability PATCH, backup config
  PATCH and policy PUT it sent with their request ids, each accepted; a policy write carries its id in the policy's
  ``properties.resourceGuardOperationRequests`` like the others).

**Assumed**: the guard's tenant (``resource_guard_tenant``, default GUARD_TENANT_ID), that a valid token of that tenant is
authorization enough, the missing request id's status and code (REQUEST_ID_STATUS), and the refusal's status, code and
message (Learn only says the request "fails with an error informing them about not having sufficient permissions on the
Resource Guard"). Operations the emulator does not model (stop protection with delete data, MARS PIN, deleting a backup
instance) are listed, never enforced.
"""
from __future__ import annotations

from .errors import ArmError

# The tenant of every Resource Guard unless a fleet vault names another (resource_guard_tenant). The emulator's token
# endpoint issues tokens for it to the emulator's identities (guests there, as Learn requires).
GUARD_TENANT_ID = "9a9a9a9a-0000-4000-8000-00000000a001"

# The critical operations the emulator knows, named by a Recovery Services vault's request types as the live proxy lists
# them (tests/fixtures/azure-real/ps-rs-mua/get-proxy.json); a Backup vault's request types are VAULT_OPERATIONS["dp"].
DISABLE_SOFT_DELETE = "disableSoftDeleteRequests"
DISABLE_IMMUTABILITY = "reduceImmutabilityStateRequests"
DELETE_PROXY = "deleteResourceGuardProxyRequests"
REDUCE_RETENTION = "updateProtectionPolicyRequests"
STOP_PROTECTION = "deleteProtectedItemRequests"
DELETE_INSTANCE = "deleteBackupInstanceRequests"
MARS_PIN = "getBackupSecurityPINRequests"

# (operation, mandatory) per vault kind, in the order Learn lists them.
OPERATIONS = {
    "rs": ((DISABLE_SOFT_DELETE, True), (DELETE_PROXY, True), (DISABLE_IMMUTABILITY, True), (REDUCE_RETENTION, False),
           (STOP_PROTECTION, False), (MARS_PIN, False)),
    "dp": ((DISABLE_SOFT_DELETE, True), (DELETE_PROXY, True), (DISABLE_IMMUTABILITY, True), (REDUCE_RETENTION, False),
           (DELETE_INSTANCE, False)),
}

CODE = "UserErrorResourceGuardAuthorizationRequired"
STATUS = 403

# Each operation's vault critical operation, as a vault's Resource Guard proxy names it, and the guard's request type
# (``<guard>/<request type>/default`` is the proxy's ``defaultResourceRequest``, the id a write the guard protects
# carries in ``resourceGuardOperationRequests``), as the live service lists them: Backup vaults
# tests/fixtures/azure-real/cliext-dp-guard-proxy/get-proxy.json (routes.DP_GUARDED_OPERATIONS), Recovery Services
# tests/fixtures/azure-real/ps-rs-mua/get-proxy.json (routes.RS_GUARDED_OPERATIONS). Until the fourth MUA pass the
# Recovery Services request types of immutability, policies, stop protection and the MARS PIN were the emulator's own
# names (disableImmutabilityRequests, reduceRetentionRequests, ...), which no Azure proxy lists.
VAULT_OPERATIONS = {
    "rs": {DISABLE_SOFT_DELETE: ("Microsoft.RecoveryServices/vaults/backupconfig/write", DISABLE_SOFT_DELETE),
           DELETE_PROXY: ("Microsoft.RecoveryServices/vaults/backupResourceGuardProxies/delete", DELETE_PROXY),
           DISABLE_IMMUTABILITY: ("Microsoft.RecoveryServices/vaults/write#reduceImmutabilityState", DISABLE_IMMUTABILITY),
           REDUCE_RETENTION: ("Microsoft.RecoveryServices/vaults/backupPolicies/write", REDUCE_RETENTION),
           STOP_PROTECTION: ("Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/delete",
                             STOP_PROTECTION),
           MARS_PIN: ("Microsoft.RecoveryServices/vaults/backupSecurityPIN/action", MARS_PIN)},
    "dp": {DISABLE_SOFT_DELETE: ("Microsoft.DataProtection/backupVaults/write#reduceSoftDeleteSecurity",
                                 "dppReduceSoftDeleteSecurityRequests"),
           DELETE_PROXY: ("Microsoft.DataProtection/backupVaults/backupResourceGuardProxies/delete", DELETE_PROXY),
           DISABLE_IMMUTABILITY: ("Microsoft.DataProtection/backupVaults/write#reduceImmutabilityState",
                                  "dppReduceImmutabilityStateRequests"),
           REDUCE_RETENTION: ("Microsoft.DataProtection/backupVaults/backupInstances/write", "dppModifyPolicy"),
           DELETE_INSTANCE: ("Microsoft.DataProtection/backupVaults/backupInstances/delete", "deleteBackupInstanceRequests")},
}

# Azure's refusal of a write a guard protects that carries no operation request id: the message as Azure answered
# azurerm (hashicorp/terraform-provider-azurerm#31887, "ResourceGuard Operation requestid is either null or empty");
# its status and code are **assumed** (the title quotes the message only): 400, the Backup service's code for
# input it refuses.
REQUEST_ID_STATUS = 400
REQUEST_ID_CODE = "BMSUserErrorInvalidInput"
REQUEST_ID_MESSAGE = "ResourceGuard Operation requestid is either null or empty"


def request_id(guard: str, kind: str, op: str) -> str:
    """The id of the guard's request for ``op``: ``<guard>/<request type>/default``."""
    return "%s/%s/default" % (guard.rstrip("/"), VAULT_OPERATIONS[kind][op][1])


def sent_requests(req) -> list:
    """The operation request ids a write carries: its body's ``properties.resourceGuardOperationRequests``."""
    body = req.body if isinstance(getattr(req, "body", None), dict) else {}
    props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    sent = props.get("resourceGuardOperationRequests")
    return [str(s) for s in sent if isinstance(s, str)] if isinstance(sent, list) else []


def check_exclusions(kind: str, excluded) -> None:
    """A fleet may exclude only optional operations (Learn: mandatory ones cannot be excluded)."""
    names = {op.lower(): mandatory for op, mandatory in OPERATIONS[kind]}
    for op in excluded or ():
        if names.get(str(op).lower()) is not False:
            raise ValueError("resource_guard_excluded: %s is not an optional operation of this vault kind (%s)"
                             % (op, ", ".join(o for o, m in OPERATIONS[kind] if not m)))


def kind_of(record: dict) -> str:
    return "dp" if "backupvaults" in str(((record or {}).get("body") or {}).get("type") or "").lower() else "rs"


def protected(record: dict) -> tuple:
    """(guard id, {operation names, lower-cased}) of a vault: its Resource Guard proxy's guard (a fleet
    ``resource_guard_id`` or a PUT of the proxy) with the operations it protects (mandatory ones, optional ones unless
    the fleet excludes them); (None, set()) without a proxy. The vault's body names neither (ps-rs-mua)."""
    for proxy in ((record or {}).get("guard_proxies") or {}).values():
        excluded = {str(e).lower() for e in record.get("guard_excluded") or ()}
        return proxy["resourceGuardResourceId"], {op.lower() for op, mandatory in OPERATIONS[kind_of(record)]
                                                  if mandatory or op.lower() not in excluded}
    return None, set()


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


def check(aux_tenants, req, record: dict, ops: list, what: str, requests: bool = True) -> None:
    """Refuse ``ops`` on the vault ``record`` unless its guard's tenant authorized them and (``requests``) the write's
    body carries the guard's operation request id of each (request_id; raises ArmError). Which comes first when both are
    missing is **assumed** (the token's, so a write without either is refused for want of authorization)."""
    guard, guarded = protected(record)
    needed = [op for op in ops if op.lower() in guarded]
    if guard is None or not needed:
        return
    tenant = str(record.get("guard_tenant") or GUARD_TENANT_ID).lower()
    header = req.headers.get("x-ms-authorization-auxiliary") if req.headers is not None else None
    if tenant in aux_tenants(header):
        if requests:
            kind = kind_of(record)
            sent = {s.lower() for s in sent_requests(req)}
            if any(request_id(guard, kind, op).lower() not in sent for op in needed if op in VAULT_OPERATIONS[kind]):
                raise ArmError(REQUEST_ID_STATUS, REQUEST_ID_CODE, REQUEST_ID_MESSAGE)
        return
    raise ArmError(STATUS, CODE,
                   "The operation '%s' (%s) is protected by the Resource Guard '%s' of this vault (multi-user authorization). "
                   "Send a token of the Resource Guard's tenant '%s', for an identity with sufficient permissions on the Resource "
                   "Guard, in the x-ms-authorization-auxiliary header." % (what, ", ".join(needed), guard, tenant))
