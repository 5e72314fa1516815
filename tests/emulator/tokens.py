# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signed access tokens (JWT, HS256) for the emulator's identity endpoint, made and checked with PyJWT.

PyJWT is installed with msal (azure-identity's dependency). It signs and verifies; the expiry and audience checks
stay ours so that a refused token gets ARM's own wording (InvalidAuthenticationToken messages).
"""
from __future__ import annotations

import time

import jwt

ALGORITHM = "HS256"


class TokenError(Exception):
    """A token that cannot be accepted; ``reason`` is ARM's wording."""


class TokenExpired(TokenError):
    """A token past its ``exp``: ARM answers it 401 ``ExpiredAuthenticationToken`` (not ``InvalidAuthenticationToken``)."""


def arm_time(seconds: float) -> str:
    """A UTC time as ARM writes it in ExpiredAuthenticationToken: month/day/year without leading zeros, 12-hour clock
    with AM/PM, e.g. '3/19/2023 8:55:46 AM' (hashicorp/terraform-provider-azurerm#20867, MicrosoftDocs/power-automate-docs#121)."""
    tm = time.gmtime(seconds)
    hour = tm.tm_hour % 12 or 12
    return "%d/%d/%d %d:%02d:%02d %s" % (tm.tm_mon, tm.tm_mday, tm.tm_year, hour, tm.tm_min, tm.tm_sec, "AM" if tm.tm_hour < 12 else "PM")


def encode(claims: dict, key: bytes) -> str:
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def decode_unverified(token: str) -> dict:
    """Claims of a JWT without checking its signature (used for client assertions)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenError("The access token is not a valid JWT.") from exc
    if not isinstance(claims, dict):
        raise TokenError("The access token is not a valid JWT.")
    return claims


# Claims of the tokens whose signature PyJWT has verified, by (token, key). Checking the signature (an HMAC, and PyJWT's
# check that the key is not a PEM or SSH key) was about 40 % of the emulator's CPU per ARM request, and its outcome for one
# token and key never changes; only tokens that passed are kept (a refused one is checked again each time, with the same
# answer). The expiry and audience checks run on every request. At most _VERIFIED_MAX entries (then it starts again).
_VERIFIED: dict = {}
_VERIFIED_MAX = 4096


def _signed_claims(token: str, key: bytes) -> dict:
    cache_key = (token, key)
    claims = _VERIFIED.get(cache_key)
    if claims is None:
        try:
            # Signature and algorithm by PyJWT; exp, nbf, iat and aud in verify (ARM's messages, ARM's case-insensitive audience).
            claims = jwt.decode(token, key, algorithms=[ALGORITHM],
                                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False})
        except jwt.InvalidSignatureError as exc:
            raise TokenError("The access token has an invalid signature.") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("The access token is invalid.") from exc
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[cache_key] = claims
    # A copy: callers may change what they are given, never the cached claims.
    return dict(claims)


def verify(token: str, key: bytes, audience: str, now: float | None = None) -> dict:
    claims = _signed_claims(token, key)
    now = time.time() if now is None else now
    exp = claims.get("exp", 0)
    if exp <= now:
        raise TokenExpired("The access token expiry UTC time '%s' is earlier than current UTC time '%s'." % (arm_time(exp), arm_time(now)))
    aud = claims.get("aud", "")
    if aud.rstrip("/").lower() != audience.rstrip("/").lower():
        raise TokenError(
            "The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the "
            "allowed audiences '%s'." % (aud, audience))
    return claims
