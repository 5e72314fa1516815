# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every request sequence recorded from Microsoft's own clients replays against the emulator with the same
status codes, error codes and compared fields (tests/fixtures/azure-real/replay, see tests/emulator/replay.py)."""
from __future__ import annotations

import pytest

from tests.emulator.replay import replay, start_fleet
from tests.fixtures import REAL, load_real

SEQUENCES = sorted(p.name for p in (REAL / "replay").glob("*.json"))


@pytest.mark.parametrize("name", SEQUENCES)
def test_recorded_sequence_replays(emulator, name):
    sequence = load_real("replay/" + name)["sequence"]
    emulator.load_fleet(start_fleet(sequence))
    problems = replay(emulator, sequence)
    assert not problems, "\n".join(problems)


def test_start_fleet_seeds_what_existed_before_the_recording():
    fleet = start_fleet(load_real("replay/D_rs_enhanced_policy.json")["sequence"])
    (sub,) = fleet["subscriptions"]
    (group,) = sub["resource_groups"]
    (vault,) = group["vaults"]
    assert vault["name"] == "hiagaVault" and vault["type"] == "recovery_services"
    assert vault["body"]["properties"]["secureScore"] == "None"
    assert vault["policies"] == []  # the policy's first GET answered 404: it did not exist
    fleet = start_fleet(load_real("replay/B_rs_softdelete_basic.json")["sequence"])
    assert fleet["subscriptions"][0]["resource_groups"][0]["vaults"] == []  # GET 404 first, then created
    assert fleet["subscriptions"][0]["resource_groups"][0]["location"] == "eastus2euap"


def test_a_sequence_that_starts_under_an_existing_vault_replays(emulator):
    """Without the vault GET, the recorded 404 {} of the missing policy shows that the vault existed."""
    sequence = load_real("replay/D_rs_enhanced_policy.json")["sequence"][1:]
    emulator.load_fleet(start_fleet(sequence))
    problems = replay(emulator, sequence)
    assert not problems, "\n".join(problems)
