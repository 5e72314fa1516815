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


def verify(token: str, key: bytes, audience: str, now: float | None = None) -> dict:
    try:
        # Signature and algorithm by PyJWT; exp, nbf, iat and aud below (ARM's messages, ARM's case-insensitive audience).
        claims = jwt.decode(token, key, algorithms=[ALGORITHM],
                            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False})
    except jwt.InvalidSignatureError as exc:
        raise TokenError("The access token has an invalid signature.") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("The access token is invalid.") from exc
    now = time.time() if now is None else now
    exp = claims.get("exp", 0)
    if exp <= now:
        raise TokenError("The access token expiry UTC time '%s' is earlier than current UTC time '%s'." % (
            time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(exp)), time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(now))))
    aud = claims.get("aud", "")
    if aud.rstrip("/").lower() != audience.rstrip("/").lower():
        raise TokenError(
            "The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the "
            "allowed audiences '%s'." % (aud, audience))
    return claims
