# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replay a request sequence recorded from a real Microsoft client against the emulator, and compare.

Sequence format: tests/fixtures/azure-real/README.md ("Request sequences"). Used by
tests/unit/emulator/test_replay.py; any sequence in that format (including ones the project has not seen) runs
unchanged. How a recording is turned into the emulator's starting state, and what is compared:

* Start state: every subscription and resource group the sequence names exists (location: the first ``location``
  the sequence sends or receives for that group, else westeurope). A vault existed before the recording started when
  the first request that names it shows so (``_existed``: a 2xx answer to a GET, PATCH or DELETE of it or to anything
  under it, or 200 to a Recovery Services vault PUT); it is loaded with the recorded body when that answer carries
  one, else as a default vault of its kind. A policy whose first request is a GET answered 200 is loaded with the
  recorded body.
* Each step sends the recorded method, path, api-version and body over plain HTTPS with a valid token.
* ``status`` (when recorded), ``error_code`` (``null`` means the error body has no code), ``resp_raw`` (the exact
  body), the ``compare`` paths of ``resp`` (missing on both sides is equal) and the ``expect_headers`` must match.
* Time: the emulator's clock is frozen for the whole sequence and operations are accepted with the ``Retry-After``
  real vault and policy operations sent (``RECORDED_RETRY_AFTER``). Operations finish by the clock (lro.py).
* A poll step (``<last Azure-AsyncOperation>``) sends one GET to the Azure-AsyncOperation URL of the last answer
  that had one, and its answer must match as any other step's. The recordings carry no request times, so the
  client's wait is read from what it saw: a client that recorded a terminal status (Succeeded, Failed, Canceled)
  waited the ``Retry-After`` it was given first (the replay advances the clock by it: the dataprotection extension's
  polls), and one that recorded ``InProgress`` polled at once (the clock stays: azure-cli's vault create poll).
  A write whose operation the sequence has no poll of before the client's next request (ps-rs-immutability: the
  excerpt transcribed none) was waited out by the client: the clock advances by its ``Retry-After`` before that
  request (PowerShell's vault cmdlets return once the operation has ended; the GET after the PATCH reads Succeeded).
"""
from __future__ import annotations

import copy
import json
import re

POLL = "<last Azure-AsyncOperation>"
TERMINAL = ("succeeded", "failed", "canceled", "cancelled")
# The Retry-After real Recovery Services operations sent: vault PUT -> 201 with Retry-After 60 (recording:
# ps-rs-immutability, TestAzureVaultImmutability.json; its SOURCE.txt) and backup policy PUT -> 202 with
# Retry-After: 60 (api-notes.md, ProtectionPolicies_CreateOrUpdate). The other recordings kept no Retry-After header.
RECORDED_RETRY_AFTER = 60
_SUB = re.compile(r"^/subscriptions/([^/]+)(?:/resourceGroups/([^/]+))?", re.IGNORECASE)
_VAULT = re.compile(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/(Microsoft\.RecoveryServices/vaults|"
                    r"Microsoft\.DataProtection/backupVaults)/([^/]+)(/.*)?$", re.IGNORECASE)
_POLICY = re.compile(r"^/backupPolicies/([^/]+)$", re.IGNORECASE)
KINDS = {"microsoft.recoveryservices/vaults": "recovery_services", "microsoft.dataprotection/backupvaults": "backup"}


_MISSING = object()


def dotted(doc, path):
    """The value at a dotted path of a JSON document, or the _MISSING marker."""
    node = doc
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _existed(kind, method, status, sub_path, error_code=None) -> bool:
    """Whether the first request that names a vault shows that it existed before the recording started.

    A 2xx answer to a GET, PATCH or DELETE of the vault, or to anything under it (its policies, its config, ...), does;
    so does 200 to a Recovery Services vault PUT (a create answers 201). A Backup vault PUT answers 201 either way,
    and a 404 or a create says the vault is new, except the Backup service's 404 ``{}`` without an error code for a
    missing policy of an existing Recovery Services vault.
    """
    if sub_path and status == 404 and error_code is None:
        return True
    if not isinstance(status, int) or not 200 <= status < 300:
        return False
    if sub_path:
        return True
    if method in ("GET", "PATCH", "DELETE", "HEAD"):
        return status != 204
    return method == "PUT" and kind == "recovery_services" and status == 200


def start_fleet(sequence):
    """The fleet the emulator starts from for one recorded sequence (see the module docstring)."""
    subs: dict = {}
    first_vault: dict = {}
    first_policy: set = set()
    bodies: dict = {}
    policies: dict = {}
    for step in sequence:
        if step["path"] == POLL:
            continue
        sub_match = _SUB.match(step["path"])
        if not sub_match:
            continue
        groups = subs.setdefault(sub_match.group(1), {})
        body = step.get("body") if isinstance(step.get("body"), dict) else {}
        resp = step.get("resp") if isinstance(step.get("resp"), dict) else {}
        if sub_match.group(2):
            group = groups.setdefault(sub_match.group(2).lower(), {"name": sub_match.group(2), "location": None, "vaults": {}})
            if group["location"] is None and (body.get("location") or resp.get("location")):
                group["location"] = body.get("location") or resp.get("location")
        match = _VAULT.match(step["path"])
        if not match:
            continue
        sub, rg, ns, vault, sub_path = match.groups()
        group = groups[rg.lower()]
        kind = KINDS[ns.lower()]
        vkey = (sub.lower(), rg.lower(), vault.lower())
        group["vaults"].setdefault(vault.lower(), {"name": vault, "kind": kind})
        if vkey not in first_vault:
            first_vault[vkey] = _existed(kind, step["method"], step.get("status"), sub_path, step.get("error_code"))
            if first_vault[vkey] and not sub_path and resp.get("properties") is not None:
                bodies[vkey] = copy.deepcopy(resp)
        policy = _POLICY.match(sub_path or "")
        if policy and (vkey, policy.group(1).lower()) not in first_policy:
            first_policy.add((vkey, policy.group(1).lower()))
            if step["method"] == "GET" and step.get("status") == 200 and resp:
                policies.setdefault(vkey, []).append({"name": policy.group(1), "properties": copy.deepcopy(resp.get("properties") or {})})
    fleet = {"subscriptions": []}
    for sub, groups in subs.items():
        rgs = []
        for rgkey, group in groups.items():
            vaults = []
            for vname, info in group["vaults"].items():
                vkey = (sub.lower(), rgkey, vname)
                if not first_vault.get(vkey):
                    continue  # the sequence creates it (or shows it missing)
                entry = {"name": info["name"], "type": info["kind"], "policies": policies.get(vkey, [])}
                if vkey in bodies:
                    entry["body"] = bodies[vkey]
                vaults.append(entry)
            rgs.append({"name": group["name"], "location": group["location"] or "westeurope", "vaults": vaults})
        fleet["subscriptions"].append({"id": sub, "resource_groups": rgs})
    return fleet


def _json(resp):
    try:
        return resp.json() if resp.content else None
    except ValueError:
        return _MISSING


def replay(emulator, sequence):
    """Run one sequence; returns a list of mismatch descriptions (empty when everything matches)."""
    problems = []
    last_async = None
    last_retry_after = 0.0
    unpolled = 0.0   # the Retry-After of the last accepted write when no poll of it followed yet
    emulator.settings(lro_retry_after=RECORDED_RETRY_AFTER)
    emulator.clock(freeze=True)
    for index, step in enumerate(sequence):
        label = "step %d %s %s" % (index, step["method"], step["path"] if step["path"] == POLL else step["path"].split("/providers/")[-1])
        if step["path"] != POLL and unpolled > 0:
            emulator.clock(advance_s=unpolled)  # the recording client waited out the write before this request
        unpolled = 0.0
        if step["path"] == POLL:
            if last_async is None:
                problems.append("%s: no Azure-AsyncOperation header to poll" % label)
                continue
            want = str(step.get("resp_status") or (step.get("resp") or {}).get("status") or "")
            if want.lower() in TERMINAL and last_retry_after > 0:
                emulator.clock(advance_s=last_retry_after)  # the recording client waited Retry-After
            resp = emulator.arm_request("GET", last_async)
        else:
            resp = emulator.arm_request(step["method"], step["path"], step.get("api"), step.get("body"))
        if resp.headers.get("Azure-AsyncOperation"):
            last_async = resp.headers["Azure-AsyncOperation"]
        if resp.headers.get("Retry-After") is not None:
            try:
                last_retry_after = float(resp.headers["Retry-After"])
            except ValueError:
                last_retry_after = 0.0
        if step["path"] != POLL and resp.headers.get("Azure-AsyncOperation"):
            unpolled = last_retry_after
        body = _json(resp)
        if step.get("status") is not None and resp.status_code != step["status"]:
            problems.append("%s: status %s, recorded %s (%s)" % (label, resp.status_code, step["status"], resp.text[:300]))
            continue
        if "error_code" in step and resp.status_code >= 400:
            code = ((body or {}).get("error") or {}).get("code") if isinstance(body, dict) else None
            if code != step["error_code"]:
                problems.append("%s: error code %r, recorded %r" % (label, code, step["error_code"]))
        if "resp_raw" in step and body != step["resp_raw"]:
            problems.append("%s: body %s, recorded %s" % (label, resp.text[:300], json.dumps(step["resp_raw"])))
        for path in step.get("compare") or []:
            got = dotted(body, path) if isinstance(body, dict) else _MISSING
            want = dotted(step.get("resp") or {}, path)
            if got is _MISSING and want is _MISSING:
                continue
            if got is _MISSING or want is _MISSING or got != want:
                problems.append("%s: %s is %s, recorded %s" % (label, path, "missing" if got is _MISSING else json.dumps(got),
                                                               "missing" if want is _MISSING else json.dumps(want)))
        for header in step.get("expect_headers") or []:
            if header not in resp.headers:
                problems.append("%s: header %s missing" % (label, header))
    return problems
