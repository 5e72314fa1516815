# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replay a request sequence recorded from a real Microsoft client against the emulator, and compare.

Sequence format: tests/fixtures/azure-real/README.md ("Request sequences"). Used by
tests/unit/emulator/test_replay.py; any sequence in that format (including ones the project has not seen) runs
unchanged. How a recording is turned into the emulator's starting state, and what is compared:

* Start state: every subscription and resource group the sequence names exists (location: the first ``location``
  the sequence sends for that group, else westeurope). A vault or policy whose first appearance is a GET answered
  200 existed before the recording started: it is loaded with the recorded body. The vault of a policy that the
  sequence touches exists (the recorded body when the sequence GETs it, else a default vault of that kind),
  unless the sequence shows the vault missing (404) first.
* Each step sends the recorded method, path, api-version and body over plain HTTPS with a valid token.
* ``status`` (when recorded), ``error_code`` (``null`` means the error body has no code), ``resp_raw`` (the exact
  body), the ``compare`` paths of ``resp`` (missing on both sides is equal) and the ``expect_headers`` must match.
* A poll step (``<last Azure-AsyncOperation>``) follows the Azure-AsyncOperation URL of the last answer that had
  one. A recorded ``InProgress`` must be the emulator's answer to that poll. A recorded terminal status
  (Succeeded, Failed, Canceled) must be reached within a few polls: the client that recorded it waited
  ``Retry-After`` seconds first, while the emulator counts polls instead of time (see lro.py).
"""
from __future__ import annotations

import copy
import json
import re

POLL = "<last Azure-AsyncOperation>"
TERMINAL = ("succeeded", "failed", "canceled", "cancelled")
MAX_POLLS = 10
_VAULT = re.compile(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/(Microsoft\.RecoveryServices/vaults|"
                    r"Microsoft\.DataProtection/backupVaults)/([^/]+)(/backupPolicies/([^/]+))?$", re.IGNORECASE)
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


def start_fleet(sequence):
    """The fleet the emulator starts from for one recorded sequence (see the module docstring)."""
    subs: dict = {}
    seen_status: dict = {}
    bodies: dict = {}
    policies: dict = {}
    for step in sequence:
        match = _VAULT.match(step["path"]) if step["path"] != POLL else None
        if not match:
            continue
        sub, rg, ns, vault, _policy_path, policy = match.groups()
        groups = subs.setdefault(sub, {})
        group = groups.setdefault(rg.lower(), {"name": rg, "location": None, "vaults": {}})
        body = step.get("body") if isinstance(step.get("body"), dict) else {}
        if group["location"] is None and body.get("location"):
            group["location"] = body["location"]
        vkey = (sub.lower(), rg.lower(), vault.lower())
        group["vaults"].setdefault(vault.lower(), {"name": vault, "kind": KINDS[ns.lower()]})
        target = vkey + ((policy.lower(),) if policy else ())
        if target not in seen_status:
            seen_status[target] = (step["method"], step.get("status"))
            if step["method"] == "GET" and step.get("status") == 200 and isinstance(step.get("resp"), dict):
                if policy:
                    policies.setdefault(vkey, []).append({"name": policy, "properties": copy.deepcopy(step["resp"].get("properties") or {})})
                else:
                    bodies[vkey] = copy.deepcopy(step["resp"])
        if policy and vkey not in seen_status:
            seen_status[vkey] = ("implied", 200)
    fleet = {"subscriptions": []}
    for sub, groups in subs.items():
        rgs = []
        for rgkey, group in groups.items():
            vaults = []
            for vname, info in group["vaults"].items():
                vkey = (sub.lower(), rgkey, vname)
                first = seen_status.get(vkey)
                if vkey not in bodies and not (first and first[1] == 200 and first[0] in ("GET", "implied")):
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
    for index, step in enumerate(sequence):
        label = "step %d %s %s" % (index, step["method"], step["path"] if step["path"] == POLL else step["path"].split("/providers/")[-1])
        if step["path"] == POLL:
            if last_async is None:
                problems.append("%s: no Azure-AsyncOperation header to poll" % label)
                continue
            want = str(step.get("resp_status") or (step.get("resp") or {}).get("status") or "")
            resp = emulator.arm_request("GET", last_async)
            polls = 1
            while want.lower() in TERMINAL and polls < MAX_POLLS and str((_json(resp) or {}).get("status", "")).lower() == "inprogress":
                resp = emulator.arm_request("GET", last_async)
                polls += 1
        else:
            resp = emulator.arm_request(step["method"], step["path"], step.get("api"), step.get("body"))
        if resp.headers.get("Azure-AsyncOperation"):
            last_async = resp.headers["Azure-AsyncOperation"]
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
