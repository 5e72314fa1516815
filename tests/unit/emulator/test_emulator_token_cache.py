# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator keeps the claims of tokens whose signature it verified (tokens._VERIFIED): the answers stay those of a
token checked afresh every time (expiry and audience on every request, a bad signature refused every time)."""
from __future__ import annotations

import pytest

from tests.emulator import tokens

KEY = b"0123456789abcdef0123456789abcdef"
AUDIENCE = "https://management.emulator.local/"


def test_a_token_verified_once_is_still_checked_for_expiry_and_audience():
    token = tokens.encode({"aud": AUDIENCE, "exp": 2000, "appid": "a"}, KEY)
    assert tokens.verify(token, KEY, AUDIENCE, now=1000)["appid"] == "a"
    assert (token, KEY) in tokens._VERIFIED  # pylint: disable=protected-access
    with pytest.raises(tokens.TokenError, match="expiry UTC time"):
        tokens.verify(token, KEY, AUDIENCE, now=3000)
    with pytest.raises(tokens.TokenError, match="wrong audience"):
        tokens.verify(token, KEY, "https://other.example/", now=1000)
    assert tokens.verify(token, KEY, AUDIENCE, now=1000)["appid"] == "a"


def test_the_cached_claims_belong_to_their_key_and_cannot_be_changed_by_a_caller():
    token = tokens.encode({"aud": AUDIENCE, "exp": 4102444800, "appid": "a"}, KEY)
    claims = tokens.verify(token, KEY, AUDIENCE)
    claims["appid"] = "changed"
    assert tokens.verify(token, KEY, AUDIENCE)["appid"] == "a"
    # The same token under another key (another emulator) is checked for that key: its signature does not match.
    with pytest.raises(tokens.TokenError, match="invalid signature"):
        tokens.verify(token, b"x" * 32, AUDIENCE)


def test_a_refused_token_is_refused_every_time_and_never_kept():
    bad = tokens.encode({"aud": AUDIENCE, "exp": 4102444800}, b"x" * 32)
    for _try in range(2):
        with pytest.raises(tokens.TokenError, match="invalid signature"):
            tokens.verify(bad, KEY, AUDIENCE)
    assert (bad, KEY) not in tokens._VERIFIED  # pylint: disable=protected-access
    with pytest.raises(tokens.TokenError, match="is invalid"):
        tokens.verify("not.a.jwt", KEY, AUDIENCE)


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(tokens, "_VERIFIED", {})
    monkeypatch.setattr(tokens, "_VERIFIED_MAX", 3)
    for index in range(7):
        tokens.verify(tokens.encode({"aud": AUDIENCE, "exp": 4102444800, "n": index}, KEY), KEY, AUDIENCE)
        assert len(tokens._VERIFIED) <= 3  # pylint: disable=protected-access
