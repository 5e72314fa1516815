# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signed access tokens (JWT, HS256) for the emulator's identity endpoint."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    pad = "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text + pad)


class TokenError(Exception):
    """A token that cannot be accepted; ``reason`` is ARM's wording."""


def encode(claims: dict, key: bytes) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = _b64(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64(
        json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64(sig)


def decode_unverified(token: str) -> dict:
    """Claims of a JWT without checking its signature (used for client assertions)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("The access token is not a valid JWT.")
    try:
        return json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("The access token is not a valid JWT.") from exc


def verify(token: str, key: bytes, audience: str, now: float | None = None) -> dict:
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("The access token is invalid.")
    signing_input = parts[0] + "." + parts[1]
    expected = _b64(hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, parts[2]):
        raise TokenError("The access token has an invalid signature.")
    claims = decode_unverified(token)
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
