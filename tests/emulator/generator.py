# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic, realistic fleets for the emulator (``python -m tests.emulator generate``).

Policy templates follow the shapes of the shared Azure reference examples (IaaS VM V1/V2, SQL and SAP HANA
workloads, Azure Files snapshot and vault-standard tiers, DataProtection Disk/Blob/PostgreSQL flexible CLI
defaults); a fraction gets weak retention (7 days daily, no long-term tiers).
"""
from __future__ import annotations

import random
import uuid

LOCATIONS = ("westeurope", "northeurope", "eastus", "eastus2", "uksouth", "germanywestcentral", "swedencentral")
ENVS = ("prod", "prod", "staging", "dev", "test")
TEAMS = ("platform", "data", "payments", "identity", "web", "sap", "analytics")
RUN_TIME = "2024-01-15T02:00:00Z"


def _rd(count, unit):
    return {"count": count, "durationType": unit}


def _weekly_fmt(extra=None):
    out = {"retentionScheduleFormatType": "Weekly", "retentionScheduleWeekly": {"daysOfTheWeek": ["Sunday"], "weeksOfTheMonth": ["First"]},
           "retentionTimes": [RUN_TIME]}
    out.update(extra or {})
    return out


def _long_term(daily, weekly=None, monthly=None, yearly=None):
    ret = {"retentionPolicyType": "LongTermRetentionPolicy",
           "dailySchedule": {"retentionTimes": [RUN_TIME], "retentionDuration": _rd(daily, "Days")}}
    if weekly:
        ret["weeklySchedule"] = {"daysOfTheWeek": ["Sunday"], "retentionTimes": [RUN_TIME], "retentionDuration": _rd(weekly, "Weeks")}
    if monthly:
        ret["monthlySchedule"] = _weekly_fmt({"retentionDuration": _rd(monthly, "Months")})
    if yearly:
        ret["yearlySchedule"] = _weekly_fmt({"monthsOfYear": ["January"], "retentionDuration": _rd(yearly, "Years")})
    return ret


def _tiers(weak):
    return (7, None, None, None) if weak else (30, 12, 60, 10)


def iaas_v1(weak):
    return {"backupManagementType": "AzureIaasVM", "policyType": "V1", "timeZone": "UTC", "instantRpRetentionRangeInDays": 2,
            "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily", "scheduleRunTimes": [RUN_TIME]},
            "retentionPolicy": _long_term(*_tiers(weak))}


def iaas_v2(weak):
    return {"backupManagementType": "AzureIaasVM", "policyType": "V2", "timeZone": "UTC", "instantRpRetentionRangeInDays": 7,
            "snapshotConsistencyType": "OnlyCrashConsistent",
            "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicyV2", "scheduleRunFrequency": "Daily",
                               "dailySchedule": {"scheduleRunTimes": [RUN_TIME]}},
            "retentionPolicy": _long_term(*((7, None, None, None) if weak else (180, 12, 60, 10)))}


def _workload(workload, weak, log_days):
    return {"backupManagementType": "AzureWorkload", "workLoadType": workload,
            "settings": {"timeZone": "UTC", "issqlcompression": False, "isCompression": False},
            "subProtectionPolicy": [
                {"policyType": "Full", "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily",
                                                          "scheduleRunTimes": [RUN_TIME], "scheduleWeeklyFrequency": 0},
                 "retentionPolicy": _long_term(*((7, None, None, None) if weak else (30, 104, 60, 10)))},
                {"policyType": "Log", "schedulePolicy": {"schedulePolicyType": "LogSchedulePolicy", "scheduleFrequencyInMins": 60},
                 "retentionPolicy": {"retentionPolicyType": "SimpleRetentionPolicy", "retentionDuration": _rd(7 if weak else log_days, "Days")}}]}


def sql(weak):
    return _workload("SQLDataBase", weak, 30)


def saphana(weak):
    return _workload("SAPHanaDatabase", weak, 15)


def azure_files(weak):
    return {"backupManagementType": "AzureStorage", "workLoadType": "AzureFileShare", "timeZone": "UTC",
            "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily", "scheduleRunTimes": [RUN_TIME]},
            "retentionPolicy": _long_term(*((5, None, None, None) if weak else (30, 12, 60, 10)))}


def azure_files_hardened(weak):
    return {"backupManagementType": "AzureStorage", "workLoadType": "AzureFileShare", "timeZone": "UTC",
            "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Daily", "scheduleRunTimes": [RUN_TIME]},
            "vaultRetentionPolicy": {"snapshotRetentionInDays": 5, "vaultRetention": _long_term(*_tiers(weak))}}


def _dp(datasource, rule_name, backup_type, store, interval, delete_after):
    return {"datasourceTypes": [datasource], "objectType": "BackupPolicy", "policyRules": [
        {"name": rule_name, "objectType": "AzureBackupRule", "backupParameters": {"backupType": backup_type, "objectType": "AzureBackupParams"},
         "dataStore": {"dataStoreType": store, "objectType": "DataStoreInfoBase"},
         "trigger": {"objectType": "ScheduleBasedTriggerContext",
                     "schedule": {"repeatingTimeIntervals": ["R/2024-01-15T02:00:00+00:00/" + interval], "timeZone": "UTC"},
                     "taggingCriteria": [{"isDefault": True, "taggingPriority": 99, "tagInfo": {"id": "Default_", "tagName": "Default"}}]}},
        {"name": "Default", "objectType": "AzureRetentionRule", "isDefault": True, "lifecycles": [
            {"deleteAfter": {"objectType": "AbsoluteDeleteOption", "duration": delete_after},
             "sourceDataStore": {"dataStoreType": store, "objectType": "DataStoreInfoBase"}, "targetDataStoreCopySettings": []}]}]}


def dp_disk(weak):
    return _dp("Microsoft.Compute/disks", "BackupHourly", "Incremental", "OperationalStore", "PT4H", "P7D" if weak else "P30D")


def dp_blob(weak):
    return _dp("Microsoft.Storage/storageAccounts/blobServices", "BackupDaily", "Discrete", "VaultStore", "P1D", "P7D" if weak else "P3M")


def dp_postgres(weak):
    return _dp("Microsoft.DBforPostgreSQL/flexibleServers", "BackupWeekly", "Full", "VaultStore", "P1W", "P7D" if weak else "P1Y")


RS_TEMPLATES = (("VMDaily", iaas_v1), ("VMEnhanced", iaas_v2), ("SQLDaily", sql), ("HanaDaily", saphana),
                ("FilesDaily", azure_files), ("FilesVaultTier", azure_files_hardened))
DP_TEMPLATES = (("DiskHourly", dp_disk), ("BlobDaily", dp_blob), ("PostgresWeekly", dp_postgres))
# What a policy template protects: datasource_type of the fleet's protected_items, and a short name prefix.
ITEM_KINDS = {"VMDaily": ("VM", "vm"), "VMEnhanced": ("VM", "vm"), "SQLDaily": ("SQLDataBase", "sqldb"),
              "HanaDaily": ("SAPHanaDatabase", "hana"), "FilesDaily": ("AzureFileShare", "share"),
              "FilesVaultTier": ("AzureFileShare", "share"), "DiskHourly": ("Microsoft.Compute/disks", "disk"),
              "BlobDaily": ("Microsoft.Storage/storageAccounts/blobServices", "blob"),
              "PostgresWeekly": ("Microsoft.DBforPostgreSQL/flexibleServers", "pg")}
# The fleets of issue 15's benchmarks (python -m tests.emulator generate --preset NAME).
PRESETS = {
    "vaults-1k": {"vaults": 1000, "subscriptions": 1, "protected_items": 3},
    "vaults-5k-one-subscription": {"vaults": 5000, "subscriptions": 1, "protected_items": 3},
    "vaults-20k-20-subscriptions": {"vaults": 20000, "subscriptions": 20, "protected_items": 3},
}


def _pick(rng, weighted):
    roll = rng.random()
    acc = 0.0
    for value, weight in weighted:
        acc += weight
        if roll < acc:
            return value
    return weighted[-1][0]


def _protected_items(seed, vault, most: int) -> list:
    """0..most items on the vault's policies, from an RNG of their own: the rest of the fleet is the same with or without."""
    if most <= 0 or not vault["policies"]:
        return []
    rng = random.Random("vaultlock-items:%s:%s" % (seed, vault["name"]))
    items = []
    for number in range(rng.randint(0, most)):
        policy = rng.choice(vault["policies"])["name"]
        datasource, prefix = ITEM_KINDS[policy[:-4] if policy.endswith("Weak") else policy]
        items.append({"name": "%s-%s-%d" % (prefix, vault["name"].rsplit("-", 1)[-1], number + 1), "policy": policy,
                      "datasource_type": datasource})
    return items


def generate_fleet(vaults: int, subscriptions: int = 1, seed="0", protected_items: int = 0, graph_denied: int = 0,
                   random_security: bool = False) -> dict:
    """A fleet of ``vaults`` vaults over ``subscriptions`` subscriptions, deterministic for a seed.

    ``random_security``: the fleet document gets ``random_security: {seed: <seed>}``, so the emulator gives every vault
    random values of the issue-27 security settings (security.random_settings; the rest of the fleet is unchanged).
    ``protected_items``: at most this many protected items (backup instances) per vault, on its policies.
    ``graph_denied``: the last this many subscriptions are ``resource_graph: denied``.
    """
    rng = random.Random("vaultlock-fleet:%s" % seed)
    subscriptions = max(1, subscriptions)
    subs = []
    for s in range(subscriptions):
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        subs.append({"id": sid, "display_name": "vaultlock-demo-%d" % (s + 1), "resource_groups": []})
    for sub in subs[len(subs) - max(0, min(graph_denied, len(subs))):]:
        sub["resource_graph"] = "denied"
    per_rg = 25
    counters: dict = {}
    shared: dict = {}  # one object per (template, weak): YAML anchors keep big fleets small and fast to load
    for index in range(vaults):
        sub = subs[index % subscriptions]
        env = rng.choice(ENVS)
        rgs = sub["resource_groups"]
        if not rgs or len(rgs[-1]["vaults"]) >= per_rg or rng.random() < 0.08:
            location = rng.choice(LOCATIONS)
            rgs.append({"name": "rg-backup-%s-%02d" % (env, len(rgs) + 1), "location": location, "vaults": []})
        rg = rgs[-1]
        kind = "recovery_services" if rng.random() < 0.6 else "backup"
        counters[kind] = counters.get(kind, 0) + 1
        prefix = "rsv" if kind == "recovery_services" else "bv"
        location = rg["location"] if rng.random() < 0.85 else rng.choice(LOCATIONS)
        vault = {"name": "%s-%s-%s-%04d" % (prefix, env, location[:6], counters[kind]), "type": kind}
        if location != rg["location"]:
            vault["location"] = location
        vault["immutability"] = _pick(rng, (("unset", 0.25), ("disabled", 0.25), ("enabled", 0.3), ("locked", 0.2)))
        if kind == "recovery_services" and vault["immutability"] in ("enabled", "locked") and rng.random() < 0.3:
            vault["immutability_retention_days"] = rng.choice((30, 90, 365))
        vault["soft_delete"] = {"state": _pick(rng, (("on", 0.5), ("always_on", 0.3), ("off", 0.2))),
                                "retention_days": rng.choice((14, 14, 30, 60, 180))}
        if rng.random() < 0.1:
            vault["resource_guard_id"] = ("/subscriptions/%s/resourceGroups/rg-security/providers/Microsoft.DataProtection/"
                                          "resourceGuards/guard-%s" % (sub["id"], env))
        vault["tags"] = {"env": env, "owner": rng.choice(TEAMS), "costcenter": "cc-%03d" % rng.randint(100, 999)}
        templates = RS_TEMPLATES if kind == "recovery_services" else DP_TEMPLATES
        chosen = rng.sample(templates, rng.randint(1, min(3, len(templates))))
        policies = []
        for name, template in chosen:
            weak = rng.random() < 0.2
            props = shared.setdefault((name, weak), template(weak))
            policies.append({"name": name + ("Weak" if weak else ""), "properties": props})
        vault["policies"] = policies
        if protected_items:
            vault["protected_items"] = _protected_items(seed, vault, protected_items)
        rg["vaults"].append(vault)
    fleet = {"subscriptions": subs}
    if random_security:
        fleet["random_security"] = {"seed": str(seed)}
    return fleet
