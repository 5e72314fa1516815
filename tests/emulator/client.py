# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-side helpers: start the emulator as a subprocess and drive its controls.

Used by tests/conftest.py (fixtures ``emulator_server`` and ``emulator``); usable from benchmarks too.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WRITE_METHODS = ("PUT", "PATCH", "POST", "DELETE")
# A Resource Graph query is a POST that reads: never a write.
GRAPH_PATH = "/providers/microsoft.resourcegraph/resources"


def is_write(entry: dict) -> bool:
    """True for a journal entry that writes (PUT, PATCH, DELETE, or a POST other than a Resource Graph query)."""
    return entry["method"] in WRITE_METHODS and str(entry.get("path", "")).lower().rstrip("/") != GRAPH_PATH


class EmulatorProcess:
    """A running ``python -m tests.emulator serve`` subprocess."""

    def __init__(self, fleet: str | None = None, latency_ms: int = 0, page_size: int | None = None,
                 workdir: str | None = None, timeout: float = 30.0, throttle: str | None = None, extra_args: list | None = None):
        self.workdir = workdir or tempfile.mkdtemp(prefix="arm-emulator-")
        self.endpoint_file = os.path.join(self.workdir, "endpoint.json")
        cmd = [sys.executable, "-m", "tests.emulator", "serve", "--port", "0", "--endpoint-file", self.endpoint_file]
        if fleet:
            cmd += ["--fleet", fleet]
        if latency_ms:
            cmd += ["--latency-ms", str(latency_ms)]
        if page_size:
            cmd += ["--page-size", str(page_size)]
        if throttle:
            cmd += ["--throttle", throttle]
        cmd += list(extra_args or [])
        self.log_path = os.path.join(self.workdir, "emulator.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)  # pylint: disable=consider-using-with
        deadline = time.time() + timeout
        while not os.path.exists(self.endpoint_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                with open(self.log_path, encoding="utf-8", errors="replace") as log:
                    raise RuntimeError("ARM emulator did not start:\n" + log.read())
            time.sleep(0.05)
        with open(self.endpoint_file, encoding="utf-8") as handle:
            self.endpoint = json.load(handle)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class EmulatorClient:
    """Controls of a running emulator plus SDK client factories."""

    def __init__(self, endpoint: dict):
        import requests  # pylint: disable=import-outside-toplevel

        self.endpoint = endpoint
        self.env = dict(endpoint["env"])
        self.arm_url = endpoint["arm_url"]
        self.control_url = endpoint["control_url"]
        self.ca_bundle = endpoint["ca_bundle"]
        self._http = requests.Session()
        self._http.verify = self.ca_bundle
        self._http.trust_env = False
        self._token = None

    # -- controls
    def _call(self, method: str, name: str, body=None, params=None):
        resp = self._http.request(method, self.control_url + name, json=body, params=params, timeout=60)
        if resp.status_code >= 400 and not (name == "resource" and resp.status_code == 404):
            raise RuntimeError("emulator control %s %s failed: %s %s" % (method, name, resp.status_code, resp.text))
        return resp

    def journal(self) -> list:
        return self._call("GET", "journal").json()

    def clear_journal(self):
        self._call("DELETE", "journal")

    def writes(self) -> list:
        return [e for e in self.journal() if is_write(e)]

    def token_journal(self) -> list:
        return self._call("GET", "token-journal").json()

    def reset(self, keep_journal: bool = False):
        """``keep_journal``: the journal stays (journal positions of a running playbook stay valid)."""
        self._call("POST", "reset", params={"keep_journal": "1"} if keep_journal else None)

    def load_fleet(self, doc: dict, keep_journal: bool = False, lagged: bool = False) -> dict:
        """``lagged``: the fleet stands for changes made through ARM now; Resource Graph shows the old vaults for graph_lag_s."""
        params = dict({"keep_journal": "1"} if keep_journal else {}, **({"lagged": "1"} if lagged else {}))
        return self._call("POST", "fleet", doc, params=params or None).json()

    def fault(self, **kw) -> list:
        kw.setdefault("times", 1)
        return self._call("POST", "faults", kw).json()

    def clear_faults(self):
        self._call("DELETE", "faults")

    def latency(self, ms: int):
        self._call("POST", "latency", {"ms": ms})

    def hold(self, on: bool, method: str | None = None, path_regex: str | None = None) -> dict:
        """``on``: every ARM request from now on (of ``method``, whose path ``path_regex`` matches, when given) is journaled,
        then waits unanswered; off: the held ones are answered. Returns ``{on, held}`` (held: how many requests wait now)."""
        return self._call("POST", "hold", {"on": bool(on), "method": method, "path_regex": path_regex}).json()

    def held(self) -> int:
        """How many ARM requests the hold keeps waiting now."""
        return self._call("GET", "hold").json()["held"]

    def settings(self, **kw) -> dict:
        return self._call("POST", "settings", kw).json()

    def stats(self) -> dict:
        return self._call("GET", "stats").json()

    def throttle(self, mode: str = "azure") -> dict:
        """Azure's throttling on (``azure``) or off (``off``); buckets and quotas start full."""
        return self.settings(throttle=mode)

    def clock(self, freeze: bool | None = None, advance_s: float | None = None) -> dict:
        """The emulator's clock (throttling, long-running operations): freeze it, let it run, or move it forward."""
        body = {k: v for k, v in (("freeze", freeze), ("advance_s", advance_s)) if v is not None}
        return self._call("POST", "clock", body).json()

    def generate(self, vaults: int, subscriptions: int = 1, seed: str = "0", protected_items: int = 0,
                 graph_denied: int = 0, random_security: bool = False, keep_journal: bool = False) -> dict:
        """Load a generated fleet in the emulator process (``POST generate``); returns its counts and subscription ids."""
        body = {"vaults": vaults, "subscriptions": subscriptions, "seed": seed, "protected_items": protected_items,
                "graph_denied": graph_denied, "random_security": random_security}
        return self._call("POST", "generate", body, params={"keep_journal": "1"} if keep_journal else None).json()

    def graph_query(self, query: str, subscriptions=None, api_version: str = "2021-03-01", token: str | None = None, **options):
        """A plain Resource Graph query (``POST /providers/Microsoft.ResourceGraph/resources``); returns the response.

        ``options`` become the request's ``options`` (``top`` -> ``$top``, ``skip`` -> ``$skip``, ``skip_token`` ->
        ``$skipToken``, others as given). ``token`` sends a given bearer token instead of the client's own.
        """
        names = {"top": "$top", "skip": "$skip", "skip_token": "$skipToken"}
        body = {"query": query}
        if subscriptions is not None:
            body["subscriptions"] = list(subscriptions)
        if options:
            body["options"] = {names.get(k, k): v for k, v in options.items()}
        headers = {"Authorization": "Bearer " + token} if token else None
        return self.arm_request("POST", "providers/Microsoft.ResourceGraph/resources", api_version, body=body, headers=headers)

    def mint_token(self, client_id: str | None = None, lifetime_s: float | None = None, audience: str | None = None,
                   tenant: str | None = None) -> str:
        """A token of the emulator's identity endpoint (``tenant``: another tenant it knows, e.g. mua.GUARD_TENANT_ID)."""
        body = {"client_id": client_id, "lifetime_s": lifetime_s, "audience": audience, "tenant": tenant}
        return self._call("POST", "token", {k: v for k, v in body.items() if v is not None}).json()["access_token"]

    def arm_request(self, method: str, path: str, api_version: str | None = None, body=None, params: dict | None = None,
                    headers: dict | None = None):
        """A plain HTTPS ARM request with a valid token (no SDK): ``path`` is an ARM path or an absolute URL.

        The token is minted once per client. Returns the ``requests`` response.
        """
        if getattr(self, "_token", None) is None:
            self._token = self.mint_token()
        url = path if path.startswith("https://") else self.arm_url + path.lstrip("/")
        query = dict(params or {})
        if api_version is not None:
            query["api-version"] = api_version
        hdr = {"Authorization": "Bearer " + self._token}
        hdr.update(headers or {})
        return self._http.request(method, url, params=query or None, json=body, headers=hdr, timeout=60)

    def resource(self, arm_id: str):
        resp = self._call("GET", "resource", params={"id": arm_id})
        return None if resp.status_code == 404 else resp.json()

    def resources(self, arm_ids) -> dict:
        """{ARM id: stored document, or None when there is none} for many ids in one request (what resource() says)."""
        return self._call("POST", "resources", {"ids": list(arm_ids)}).json()

    # -- SDK helpers
    def credential(self, readonly: bool = False, **kw):
        from azure.identity import ClientSecretCredential  # pylint: disable=import-outside-toplevel

        ep = self.endpoint
        client_id = ep["readonly_client_id"] if readonly else ep["client_id"]
        secret = ep["readonly_client_secret"] if readonly else ep["client_secret"]
        kw.setdefault("connection_verify", self.ca_bundle)
        return ClientSecretCredential(ep["tenant_id"], client_id, secret, authority=ep["authority_host"],
                                      disable_instance_discovery=True, **kw)

    def client_kwargs(self, **kw) -> dict:
        kw.setdefault("base_url", self.arm_url)
        kw.setdefault("credential_scopes", [self.endpoint["audience"] + ".default"])
        kw.setdefault("polling_interval", 0)
        kw.setdefault("connection_verify", self.ca_bundle)
        return kw

    def _sub(self, sub):
        return sub or self.endpoint["subscription_ids"][0]

    def rs_client(self, sub: str | None = None, credential=None, **kw):
        from azure.mgmt.recoveryservices import RecoveryServicesClient  # pylint: disable=import-outside-toplevel

        return RecoveryServicesClient(credential or self.credential(), self._sub(sub), **self.client_kwargs(**kw))

    def backup_client(self, sub: str | None = None, credential=None, **kw):
        from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient  # pylint: disable=import-outside-toplevel

        return RecoveryServicesBackupClient(credential or self.credential(), self._sub(sub), **self.client_kwargs(**kw))

    def dp_client(self, sub: str | None = None, credential=None, **kw):
        from azure.mgmt.dataprotection import DataProtectionMgmtClient  # pylint: disable=import-outside-toplevel

        return DataProtectionMgmtClient(credential or self.credential(), self._sub(sub), **self.client_kwargs(**kw))
