# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read access taken away from the emulator's identities: the setting ``revoked`` (a test control).

``revoked`` lists scopes, ``/subscriptions/<id>`` or ``/subscriptions/<id>/resourceGroups/<name>`` (any letter case): the
role assignments that let the emulator's identities read there were removed (an insider with User Access Administrator on
that subscription, say). What Azure then answers, and where it comes from:

- a request of any method for a path at or under such a scope: 403 ``AuthorizationFailed`` in ARM's wording, the action
  the request needs (``Microsoft.RecoveryServices/vaults/read`` for a GET of a vault) over the request's path. The wording
  is the one the emulator's RBAC check already uses for writes (ARM's message, tests/emulator/README.md "RBAC"); for reads
  Learn documents the same code ("Troubleshoot Azure RBAC": "AuthorizationFailed ... does not have authorization to perform
  action ... over scope"). Whether a vault that does not exist under a scope the caller cannot read answers 403 or 404 is
  not published: 403 here (**assumed**, the safe side: ARM authorizes before it looks the resource up, so a caller learns
  nothing of a scope it cannot read).
- ``GET /subscriptions``: a subscription revoked as a whole is not listed (Learn, Subscriptions - List: the subscriptions
  the caller has access to).
- Resource Graph: rows under a revoked scope are left out, silently (Learn, query-backups-using-azure-resource-graph: "ARG
  allows you to query the resources for which you have the appropriate RBAC rights").
- A listing at subscription scope (the vaults of a subscription) leaves out the vaults of a revoked resource group
  (**assumed**: whether ARM filters such a list or refuses it depends on where the caller's other roles are; leaving
  them out is the case that hides them, which is what the collection has to notice).

Every identity of the emulator loses the access (**assumed**: a test control; the emulator has one principal that reads).
"""
from __future__ import annotations

from .errors import ArmError

READ_VERB = "read"


def _scopes(settings) -> list:
    """The revoked scopes as lower-cased (subscription, resource group or '') pairs."""
    scopes = []
    for scope in settings.get("revoked") or ():
        parts = [p for p in str(scope).split("/") if p]
        low = [p.lower() for p in parts]
        if len(parts) >= 2 and low[0] == "subscriptions":
            group = low[3] if len(parts) >= 4 and low[2] == "resourcegroups" else ""
            scopes.append((low[1], group))
    return scopes


def subscription_revoked(settings, sub_id: str) -> bool:
    """Whether the subscription as a whole is revoked."""
    return (str(sub_id).lower(), "") in _scopes(settings)


def readable(settings, sub_id: str, rg: str | None = None) -> bool:
    """Whether the identities may read in the subscription (and resource group)."""
    sub = str(sub_id).lower()
    group = str(rg or "").lower()
    for revoked_sub, revoked_group in _scopes(settings):
        if revoked_sub == sub and (not revoked_group or revoked_group == group):
            return False
    return True


def readable_id(settings, arm_id: str) -> bool:
    """readable() for a resource id."""
    parts = [p for p in str(arm_id).split("/") if p]
    low = [p.lower() for p in parts]
    if len(parts) < 2 or low[0] != "subscriptions":
        return True
    return readable(settings, parts[1], parts[3] if len(parts) >= 4 and low[2] == "resourcegroups" else None)


def check(settings, path: str, action: str, oid: str):
    """Raise the 403 ARM answers for a request under a revoked scope; nothing otherwise."""
    if not settings.get("revoked") or readable_id(settings, path):
        return
    raise ArmError(403, "AuthorizationFailed",
                   "The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope "
                   "'%s' or the scope is invalid. If access was recently granted, please refresh your credentials."
                   % (oid, oid, action, path.rstrip("/")))
