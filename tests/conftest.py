# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pytest fixtures: the ARM emulator (tests/emulator). Keep this file to emulator fixtures."""
from __future__ import annotations

import pytest

from tests.emulator.client import EmulatorClient, EmulatorProcess


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory):
    """One emulator subprocess per test session; yields its EmulatorProcess (``.endpoint``, ``.endpoint_file``)."""
    proc = EmulatorProcess(workdir=str(tmp_path_factory.mktemp("arm-emulator")))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def emulator(emulator_server):
    """The emulator, reset to its start fleet (no faults, empty journal) before each test."""
    client = EmulatorClient(emulator_server.endpoint)
    client.reset()
    yield client
