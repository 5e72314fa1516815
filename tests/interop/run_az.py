# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make interop``: Microsoft's az CLI (a client this project did not write) against the ARM emulator.

Starts the emulator, registers it as a cloud in a throw-away az configuration, logs in with the emulator's service
principal and drives ``az backup vault list/show/create/update --immutability-state``, ``az backup policy
list/show/set``, ``az resource show`` (without ``--api-version``: az picks one from the provider metadata), ``az resource
list -g`` and ``az backup vault backup-properties show``. It checks the outcomes the SDK tests check: Disabled -> Locked is refused with
UserErrorUnsupportedVaultImmutabilityStateChange, Unlocked -> Locked is allowed, leaving Locked is refused.

Usage: python tests/interop/run_az.py --az .venv-interop/bin/az   (exit 0 when every check passed)

Offline notes: MSAL asks login.microsoftonline.com to validate an authority it does not know (instance discovery);
``core.instance_discovery=false`` (AZURE_CORE_INSTANCE_DISCOVERY) turns that off, as for Azure Stack. The emulator's
CA reaches the az CLI through REQUESTS_CA_BUNDLE.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.emulator.client import EmulatorClient, EmulatorProcess  # noqa: E402  pylint: disable=wrong-import-position

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-interop"
POLICY = {"backupManagementType": "AzureIaasVM", "policyType": "V2", "timeZone": "UTC", "instantRpRetentionRangeInDays": 7,
          "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": "Daily",
                             "dailySchedule": {"scheduleRunTimes": ["2024-01-15T02:00:00Z"]}},
          "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", "dailySchedule": {
              "retentionTimes": ["2024-01-15T02:00:00Z"], "retentionDuration": {"count": 30, "durationType": "Days"}}}}
FLEET = {"subscriptions": [{"id": SUB, "display_name": "vaultlock-interop", "resource_groups": [
    {"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv-disabled", "type": "recovery_services", "immutability": "disabled",
         "policies": [{"name": "DailyPolicy", "properties": POLICY}]},
        {"name": "rsv-unlocked", "type": "recovery_services", "immutability": "enabled"},
        {"name": "rsv-locked", "type": "recovery_services", "immutability": "locked", "soft_delete": {"state": "always_on"}},
    ]}]}]}


class Az:
    """Runs az with an isolated configuration directory."""

    def __init__(self, binary, env):
        self.binary = binary
        self.env = env
        self.log = []

    def __call__(self, *args):
        proc = subprocess.run([self.binary, *args, "--only-show-errors"], env=self.env, capture_output=True, text=True,
                              timeout=600, check=False)
        entry = {"cmd": "az " + " ".join(args), "rc": proc.returncode, "stdout": proc.stdout.strip(), "stderr": proc.stderr.strip()}
        self.log.append(entry)
        return entry


def as_json(entry):
    try:
        return json.loads(entry["stdout"]) if entry["stdout"] else None
    except ValueError:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--az", required=True, help="path of the az executable (make interop installs it in .venv-interop)")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="vaultlock-interop-")
    os.makedirs(os.path.join(workdir, "emulator"))
    proc = EmulatorProcess(workdir=os.path.join(workdir, "emulator"))
    results = []
    try:
        emu = EmulatorClient(proc.endpoint)
        emu.load_fleet(FLEET)
        ep = proc.endpoint
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ARM_"))}
        env.update({"AZURE_CONFIG_DIR": os.path.join(workdir, "azure"), "REQUESTS_CA_BUNDLE": ep["ca_bundle"],
                    "AZURE_CORE_INSTANCE_DISCOVERY": "false", "AZURE_CORE_COLLECT_TELEMETRY": "no",
                    "AZURE_CORE_NO_COLOR": "true", "AZURE_CORE_SURVEY_MESSAGE": "false"})
        az = Az(args.az, env)

        def check(name, ok, entry=None, detail=""):
            results.append({"check": name, "ok": bool(ok), "detail": detail or (entry or {}).get("stderr", "")[-400:]})

        version = az("version", "-o", "json")
        check("az version", version["rc"] == 0, version, json.dumps((as_json(version) or {}).get("azure-cli")))
        reg = az("cloud", "register", "-n", "AzureEmulator", "--endpoint-resource-manager", ep["arm_url"])
        check("az cloud register --endpoint-resource-manager (metadata 2022-09-01)", reg["rc"] == 0, reg)
        check("az cloud set", az("cloud", "set", "-n", "AzureEmulator")["rc"] == 0)
        login = az("login", "--service-principal", "-u", ep["client_id"], "-p", ep["client_secret"], "--tenant", ep["tenant_id"],
                   "-o", "json")
        subs = as_json(login) or []
        check("az login --service-principal (token from the emulator)", login["rc"] == 0 and any(s.get("id") == SUB for s in subs), login)
        if login["rc"] != 0:
            return report(results, az.log)

        listed = az("backup", "vault", "list", "-g", RG, "-o", "json")
        names = sorted(v["name"] for v in as_json(listed) or [])
        check("az backup vault list", listed["rc"] == 0 and names == ["rsv-disabled", "rsv-locked", "rsv-unlocked"], listed, str(names))
        shown = as_json(az("backup", "vault", "show", "-n", "rsv-unlocked", "-g", RG, "-o", "json")) or {}
        state = (((shown.get("properties") or {}).get("securitySettings") or {}).get("immutabilitySettings") or {}).get("state")
        check("az backup vault show (immutability Unlocked)", state == "Unlocked", detail=str(state))
        created = az("backup", "vault", "create", "-n", "rsv-new", "-g", RG, "-l", "westeurope", "--immutability-state", "Disabled",
                     "-o", "json")
        check("az backup vault create --immutability-state Disabled", created["rc"] == 0 and emu.resource(
            "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-new" % (SUB, RG)) is not None, created)

        refused = az("backup", "vault", "update", "-n", "rsv-disabled", "-g", RG, "--immutability-state", "Locked", "-o", "json")
        check("Disabled -> Locked refused (UserErrorUnsupportedVaultImmutabilityStateChange)",
              refused["rc"] != 0 and "UserErrorUnsupportedVaultImmutabilityStateChange" in refused["stderr"], refused)
        locked = az("backup", "vault", "update", "-n", "rsv-unlocked", "-g", RG, "--immutability-state", "Locked", "-o", "json")
        state = ((((as_json(locked) or {}).get("properties") or {}).get("securitySettings") or {}).get("immutabilitySettings") or {}).get("state")
        check("Unlocked -> Locked allowed", locked["rc"] == 0 and state == "Locked", locked, str(state))
        leave = az("backup", "vault", "update", "-n", "rsv-locked", "-g", RG, "--immutability-state", "Unlocked", "-o", "json")
        check("leaving Locked refused (UserErrorUnsupportedVaultImmutabilityStateChange)",
              leave["rc"] != 0 and "UserErrorUnsupportedVaultImmutabilityStateChange" in leave["stderr"], leave)

        policies = az("backup", "policy", "list", "--vault-name", "rsv-disabled", "-g", RG, "-o", "json")
        names = [p["name"] for p in as_json(policies) or []]
        check("az backup policy list", policies["rc"] == 0 and "DailyPolicy" in names, policies, str(names))
        policy = as_json(az("backup", "policy", "show", "-n", "DailyPolicy", "--vault-name", "rsv-disabled", "-g", RG, "-o", "json")) or {}
        days = ((((policy.get("properties") or {}).get("retentionPolicy") or {}).get("dailySchedule") or {})
                .get("retentionDuration") or {}).get("count")
        check("az backup policy show", days == 30, detail="daily retention count %s" % days)
        # az backup policy set: the policy's JSON (as az shows it) with daily retention raised 30 -> 60 days.
        raised = json.loads(json.dumps(policy))
        raised["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 60
        policy_file = os.path.join(workdir, "policy.json")
        with open(policy_file, "w", encoding="utf-8") as handle:
            json.dump(raised, handle)
        policy_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-disabled/backupPolicies/DailyPolicy" % (
            SUB, RG)
        set_ = az("backup", "policy", "set", "--vault-name", "rsv-disabled", "-g", RG, "-n", "DailyPolicy", "--policy", policy_file,
                  "-o", "json")
        stored = ((((emu.resource(policy_id) or {}).get("properties") or {}).get("retentionPolicy") or {}).get("dailySchedule") or {})
        check("az backup policy set (daily retention 30 -> 60 days)",
              set_["rc"] == 0 and (stored.get("retentionDuration") or {}).get("count") == 60, set_,
              "stored daily retention count %s" % (stored.get("retentionDuration") or {}).get("count"))

        vault_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/rsv-unlocked" % (SUB, RG)
        shown = az("resource", "show", "--ids", vault_id, "-o", "json")
        body = as_json(shown) or {}
        check("az resource show without --api-version (provider metadata picks one)",
              shown["rc"] == 0 and str(body.get("id")).lower() == vault_id.lower() and body.get("type") == "Microsoft.RecoveryServices/vaults",
              shown, str(body.get("id")))
        listed = az("resource", "list", "-g", RG, "-o", "json")
        names = sorted(r.get("name") for r in as_json(listed) or [])
        check("az resource list -g", listed["rc"] == 0 and names == ["rsv-disabled", "rsv-locked", "rsv-new", "rsv-unlocked"], listed,
              str(names))
        props = az("backup", "vault", "backup-properties", "show", "-n", "rsv-locked", "-g", RG, "-o", "json")
        # az merges the storage config (backupstorageconfig/vaultstorageconfig) and the vault config (backupconfig/vaultconfig).
        found = as_json(props)
        config = {}
        for entry in found if isinstance(found, list) else [found or {}]:
            config.update({k: v for k, v in ((entry or {}).get("properties") or {}).items() if v is not None})
        check("az backup vault backup-properties show (soft delete AlwaysON, storage type)",
              props["rc"] == 0 and str(config.get("softDeleteFeatureState")).lower() == "alwayson" and bool(config.get("storageType")),
              props, json.dumps({k: config.get(k) for k in ("softDeleteFeatureState", "enhancedSecurityState", "storageType")}))

        journal = emu.journal()
        versions = sorted({(e["path"].split("/providers/")[-1].split("/")[0] if "/providers/" in e["path"] else "resources",
                            e["query"].get("api-version")) for e in journal})
        results.append({"check": "api-versions az sent", "ok": True, "detail": json.dumps(versions)})
        return report(results, az.log)
    finally:
        proc.stop()


def report(results, log):
    for item in results:
        print("%s %s%s" % ("PASS" if item["ok"] else "FAIL", item["check"], (": " + item["detail"]) if item["detail"] else ""))
    failed = [r for r in results if not r["ok"]]
    if failed:
        print("\naz commands that ran:")
        for entry in log:
            print("  [%s] %s\n      %s" % (entry["rc"], entry["cmd"], entry["stderr"][-600:].replace("\n", "\n      ")))
    print("\n%d checks, %d failed" % (len(results), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
