# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""bodies.json_copy, the copy the emulator answers a vault read with, is what copy.deepcopy makes of JSON data."""
from __future__ import annotations

import collections
import copy
import json

from tests.emulator import bodies, generator, store


def test_every_generated_vault_body_copies_as_deepcopy_copies_it():
    fleet = generator.generate_fleet(40, subscriptions=2, seed="json-copy", protected_items=1, random_security=True)
    state = store.Store("tenant", fleet)
    vaults = [v for sub in fleet["subscriptions"] for kind in ("rs", "dp") for v in state.vaults_in_sub(sub["id"], kind)]
    assert len(vaults) == 40
    for body in vaults:
        copied = bodies.json_copy(body)
        assert copied == copy.deepcopy(body)
        assert json.dumps(copied) == json.dumps(body)
        copied["properties"]["securitySettings"]["changed"] = True
        copied["tags"]["changed"] = "yes"
        assert "changed" not in body["properties"]["securitySettings"] and "changed" not in body["tags"]


def test_values_that_are_not_plain_json_are_deep_copied():
    ordered = collections.OrderedDict(a=[1, {"b": 2}])
    value = {"ordered": ordered, "tuple": ({"c": 3},), "set": {1, 2}, "none": None, "float": 14.0, "flag": False}
    copied = bodies.json_copy(value)
    assert copied == value
    assert isinstance(copied["ordered"], collections.OrderedDict) and copied["ordered"] is not ordered
    assert copied["ordered"]["a"][1] is not ordered["a"][1]
    assert copied["tuple"][0] is not value["tuple"][0] and copied["set"] is not value["set"]
