# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM error responses: ``{"error": {"code", "message", "target", "details", "additionalInfo"}}``."""
from __future__ import annotations


class ArmError(Exception):
    """An error answered in ARM's shape."""

    def __init__(self, status: int, code: str, message: str, target=None, details=None, additional_info=None,
                 headers: dict | None = None, user_facing: bool = False, gateway: bool = False, details_key: bool = True,
                 recommended_action: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.additional_info = additional_info
        self.headers = dict(headers or {})
        self.user_facing = user_facing
        self.gateway = gateway
        # False: the body has no ``details`` key (an answer recorded without one, rules.dp_policy_update_refused).
        self.details_key = details_key
        self.recommended_action = recommended_action

    def body(self, activity_id: str = "") -> dict:
        info = self.additional_info
        if info is None and self.user_facing:
            # Shape recorded from the live Backup service (errors.md, DataProtection recording).
            info = [{"type": "UserFacingError", "info": {
                "message": self.message,
                "recommendedAction": [self.recommended_action or "Please contact Microsoft Support if this is not expected."],
                "details": None, "code": self.code, "target": "", "innerError": None,
                "isRetryable": False, "isUserError": False, "properties": {"ActivityId": activity_id}}}]
        if self.gateway:
            # ARM's own answer (x-ms-failure-cause: gateway), not the resource provider's: code and message only, no
            # target or details (recordings/recoveryservices_vault_create_softdelete.excerpt.json, the 404 of a GET).
            return {"error": {"code": self.code, "message": self.message}}
        err = {"code": self.code, "message": self.message, "target": self.target}
        if self.details_key:
            err["details"] = self.details
        if info is not None:
            err["additionalInfo"] = info
        return {"error": err}


def not_found(rtype: str, name: str, rg: str, gateway: bool = True) -> ArmError:
    # Wording and shape recorded from the live service (recordings/recoveryservices_vault_create_softdelete.excerpt.json:
    # a vault). ``gateway=False``: a child resource the provider answers for; its body shape is not recorded (assumed
    # the provider's, with target and details).
    return ArmError(404, "ResourceNotFound",
                    "The Resource '%s/%s' under resource group '%s' was not found. For more details please go to "
                    "https://aka.ms/ARMResourceNotFoundFix" % (rtype, name, rg),
                    headers={"x-ms-failure-cause": "gateway"}, gateway=gateway)


def rg_not_found(rg: str) -> ArmError:
    # Answered by ARM's gateway like ResourceNotFound, so the same shape (code and message only): assumed, no recording.
    return ArmError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % rg,
                    headers={"x-ms-failure-cause": "gateway"}, gateway=True)


def sub_not_found(sub: str) -> ArmError:
    return ArmError(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % sub)


def bad_request(code: str, message: str, target=None) -> ArmError:
    return ArmError(400, code, message, target=target)
