# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator command line: generate, serve --fleet/--env-file/--page-size, clean stop on SIGTERM."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import yaml

from tests.emulator.client import REPO_ROOT, EmulatorClient, EmulatorProcess


def test_generate_serve_and_stop(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tests.emulator", "generate", "--vaults", "30", "--subscriptions", "2", "--seed", "3"],
                         cwd=REPO_ROOT, check=True, capture_output=True, text=True).stdout
    fleet = yaml.safe_load(out)
    assert len(fleet["subscriptions"]) == 2
    path = tmp_path / "fleet.yml"
    path.write_text(out, encoding="utf-8")
    proc = EmulatorProcess(fleet=str(path), page_size=3, workdir=str(tmp_path))
    try:
        ep = proc.endpoint
        assert ep["subscription_ids"] == [s["id"] for s in fleet["subscriptions"]]
        assert ep["resource_groups"][ep["subscription_ids"][0]] == [rg["name"] for rg in fleet["subscriptions"][0]["resource_groups"]]
        assert ep["env"]["AZURE_SUBSCRIPTION_ID"] == ep["subscription_ids"][0]
        assert os.path.dirname(ep["ca_bundle"]).startswith(str(tmp_path))
        client = EmulatorClient(ep)
        sub = ep["subscription_ids"][0]
        want = sorted(v["name"] for rg in fleet["subscriptions"][0]["resource_groups"] for v in rg["vaults"] if v["type"] == "recovery_services")
        got = sorted(v.name for v in client.rs_client(sub).vaults.list_by_subscription_id())
        assert got == want
        assert len([e for e in client.journal() if e["path"].endswith("/vaults")]) == -(-len(want) // 3)
        assert client.stats()["arm_requests"] >= 1
    finally:
        proc.stop()
    assert proc.proc.returncode == 0


def test_env_file(tmp_path):
    env_file = tmp_path / "env.sh"
    endpoint = tmp_path / "ep.json"
    cmd = [sys.executable, "-m", "tests.emulator", "serve", "--port", "0", "--endpoint-file", str(endpoint), "--env-file", str(env_file)]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # pylint: disable=consider-using-with
    try:
        deadline = time.monotonic() + 30   # as long as the shared start helper waits: a loaded machine starts it slowly
        while not (endpoint.exists() and env_file.exists()) and time.monotonic() < deadline:
            assert proc.poll() is None
            time.sleep(0.05)
        text = env_file.read_text(encoding="utf-8")
        assert "export AZURE_CLOUD_ENVIRONMENT=https://127.0.0.1:" in text
        assert "export REQUESTS_CA_BUNDLE=" in text
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
