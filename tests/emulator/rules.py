# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service rules of Recovery Services and Backup (DataProtection) vaults, as pure functions.

Self-contained on purpose: the emulator plays "Azure" and must not share code with the collection.
Comparing retention (``is_shorter``): durations in the same calendar unit compare exactly (days with weeks, months
with years: 12 months are a year). Across units (30 days vs 1 month, 365 days vs 1 year) Azure's comparison is not
published, so the emulator leans to refusing: a change across units is a reduction unless the new duration is at
least the old one in every calendar (a month 28..31 days, a year 365..366). **Assumed.** Messages give days with
day=1, week=7, year=365, month=365/12.
"""
from __future__ import annotations

import re

from .errors import ArmError
from .operational import operational_keys

MONTH_DAYS = 365 / 12.0
UNIT_DAYS = {"days": 1, "day": 1, "d": 1, "weeks": 7, "week": 7, "w": 7, "months": MONTH_DAYS, "month": MONTH_DAYS,
             "m": MONTH_DAYS, "years": 365, "year": 365, "y": 365}
# Calendar unit of each durationType: (years, months, days) per count.
UNIT_PARTS = {"days": (0, 0, 1), "day": (0, 0, 1), "d": (0, 0, 1), "weeks": (0, 0, 7), "week": (0, 0, 7), "w": (0, 0, 7),
              "months": (0, 1, 0), "month": (0, 1, 0), "m": (0, 1, 0), "years": (1, 0, 0), "year": (1, 0, 0), "y": (1, 0, 0)}
EPS = 1e-9


class Span(float):
    """A retention in days (day=1, week=7, month=365/12, year=365) that remembers its calendar parts."""

    def __new__(cls, years=0.0, months=0.0, days=0.0):
        obj = float.__new__(cls, years * 365 + months * MONTH_DAYS + days)
        obj.months = years * 12 + months     # years are 12 months exactly
        obj.days = days
        obj.lo = years * 365 + months * 28 + days   # the shortest calendar it can span
        obj.hi = years * 366 + months * 31 + days   # the longest
        return obj


def is_shorter(old, new) -> bool:
    """Whether ``new`` keeps less than ``old`` (module docstring: exact within a unit, refusing across units)."""
    if not isinstance(old, Span) or not isinstance(new, Span):
        return float(new) < float(old) - EPS
    if abs(old.days) < EPS and abs(new.days) < EPS:
        return new.months < old.months - EPS
    if abs(old.months) < EPS and abs(new.months) < EPS:
        return new.days < old.days - EPS
    if new.months >= old.months - EPS and new.days >= old.days - EPS:
        return False
    return new.lo < old.hi - EPS


# errors.md, source Azure/azure-cli#27785 and Azure/azure-rest-api-specs#26598 (confidence I): verbatim.
RS_IMMUTABILITY_CODE = "UserErrorUnsupportedVaultImmutabilityStateChange"
RS_IMMUTABILITY_MSG = (
    "The immutable vault property for this vault is locked, hence, this setting cannot be disabled. The vault has its "
    "immutable vault property enabled and locked, and it can no longer be reverted to a non-immutable vault. Refer to "
    "the documentation to learn more: https://aka.ms/AB-ImmutableVaults-States ")
# A Backup vault leaving Locked, recorded (tests/fixtures/azure-real/cliext-dp-vault-refusals, leave_locked: az CLI
# dataprotection test recording of 2024-02-12, api-version 2023-11-01): Recovery Services' code, the first sentence of its
# message as the message and the rest as the recommended action. (The 2023-06-12 recording of the same test answered
# CloudDosTimeboudLimitReached, errors.md: the service's guard against repeated attempts, not the immutability rule.)
# The two recordings differ in date and in api-version (2022-12-01 and 2023-11-01); which of the two decides the answer is
# not known (assumed: the api-version, so that each recording replays as it was made; the collection's 2026-06-01 gets
# the newer answer). Both refuse and change nothing.
DP_LEAVE_LOCKED_FROM = "2023-11-01"
DP_LOCKED_CODE = "CloudDosTimeboudLimitReached"
DP_LOCKED_MSG = "The operation is blocked, as a security precaution, since multiple attempts were made beyond an internal limit."
DP_LEAVE_LOCKED_MSG = "The immutable vault property for this vault is locked, hence, this setting cannot be disabled."
DP_LEAVE_LOCKED_ACTION = ("The vault has its immutable vault property enabled and locked, and it can no longer be reverted "
                          "to a non-immutable vault. Refer to the documentation to learn more: https://aka.ms/AB-ImmutableVaults-States ")
# errors.md, recorded (R) on DataProtection; reused (unconfirmed) for Recovery Services.
SOFT_DELETE_CODE = "UserErrorDisableSoftDeleteNotAllowed"
SOFT_DELETE_MSG = "Cannot disable soft delete once set to AlwaysOn"
# Backup resource vault config API (backupconfig/vaultconfig) leaving AlwaysON. Quoted from a public PR (confidence I):
# hashicorp/terraform-provider-azurerm#31912 (BackupResourceVaultConfigsClient#Update on an 'Always on' vault); the
# message is quoted there up to its first sentence, the rest is not known. (BMSUserErrorDisablingSoftDeleteStateNotAllowed,
# quoted in Azure/azure-cli#32383, is the answer where secure by default enforces soft delete: secure_default.py.)
CONFIG_DISABLE_CODE = "BMSUserErrorSoftDeleteStateAlwaysOn"
CONFIG_DISABLE_MSG = "Soft delete cannot be disabled on this vault since it is configured to be \u2018Always on\u2019."
# Azure/bicep-registry-modules#7292: once the vault API has set soft delete, the config API refuses soft delete writes.
USE_VAULT_API_CODE = "BMSUserErrorSoftDeleteUseVaultApi"
USE_VAULT_API_MSG = ("Soft delete state for this vault cannot be modified using this API. Since the Vault API was previously "
                     "used to update the soft delete property for this vault, you must again use the Vault API to make any "
                     "further changes to this property.")
# Soft delete retention bounds (Microsoft Learn, az CLI validation: 14 to 180 days). The code is one the Backup service
# uses for invalid input (Azure/bicep#17104, DataProtection soft delete settings); its use for this case is unconfirmed.
SOFT_DELETE_DAYS_MIN, SOFT_DELETE_DAYS_MAX = 14, 180
SOFT_DELETE_DAYS_CODE = "BMSUserErrorInvalidInput"
# Unconfirmed codes (no Azure source found); see README.
RETENTION_CODE = "UserErrorRetentionReductionNotAllowedOnImmutableVault"
RETENTION_MSG = "Reduction in retention is not allowed since the vault is immutable."
DURATION_CODE = "UserErrorInvalidImmutabilityConfiguration"
DURATION_MIN, DURATION_MAX = 30, 36135


def norm_state(value) -> str:
    """Immutability state of a settings dict/None; a missing key means Disabled (api-notes.md)."""
    if not value:
        return "Disabled"
    return {"disabled": "Disabled", "unlocked": "Unlocked", "locked": "Locked"}.get(str(value).lower(), str(value))


# A PUT naming a Backup vault policy that exists: Azure does not update a Backup vault policy, whatever the body.
# Recorded: the status, code, message, recommended action and the body's shape (no "details" key, "target": null, one
# UserFacingError in additionalInfo) are the live service's answer to a changed blob policy that a user reported in
# MicrosoftDocs/azure-docs#78532 (2021-07-19), copied in tests/fixtures/azure_errors/ with its SOURCE.txt. Learn's
# "Create Azure Disk backup policies using REST API" says updating an existing policy isn't supported, and the AKS and
# disk support matrices that a policy can't be modified. An identical body refused the same way rests on users' reports
# only (Azure/bicep#4834 and #5063, Azure/azure-quickstart-templates#11884: an unchanged template's re-deployment fails
# with this code), so refusing it is **assumed** (the refusing side). That the refusal comes after the body's own
# content check and before the ceilings and the Resource Guard check is **assumed** too.
DP_POLICY_UPDATE_CODE = "UserErrorBMSUpdatePolicyNotSupported"
DP_POLICY_UPDATE_MSG = "Update of existing policy is not supported."
DP_POLICY_UPDATE_ACTION = "Please create a new policy."


def dp_policy_update_refused() -> ArmError:
    """The answer to a PUT of a Backup vault policy name that exists (see DP_POLICY_UPDATE_CODE)."""
    return ArmError(400, DP_POLICY_UPDATE_CODE, DP_POLICY_UPDATE_MSG, user_facing=True, details_key=False,
                    recommended_action=DP_POLICY_UPDATE_ACTION)


def _dp_error(status, code, message, recommended):
    err = ArmError(status, code, message, user_facing=True)
    err.additional_info = [{"type": "UserFacingError", "info": {
        "message": message, "recommendedAction": [recommended], "details": None, "code": code, "target": "",
        "innerError": None, "isRetryable": False, "isUserError": False, "properties": {"ActivityId": ""}}}]
    return err


def check_rs_immutability(old_settings, new_settings, creating: bool):
    """Raise ArmError when a Recovery Services vault immutability change is not allowed.

    old_settings/new_settings: the immutabilitySettings dicts (None when absent).
    """
    old = norm_state((old_settings or {}).get("state")) if not creating else None
    new = norm_state((new_settings or {}).get("state"))
    if creating and new == "Locked":
        raise ArmError(400, RS_IMMUTABILITY_CODE, RS_IMMUTABILITY_MSG)
    if old == "Locked" and new != "Locked":
        raise ArmError(400, RS_IMMUTABILITY_CODE, RS_IMMUTABILITY_MSG)
    if old == "Disabled" and new == "Locked":
        raise ArmError(400, RS_IMMUTABILITY_CODE, RS_IMMUTABILITY_MSG)
    conf = (new_settings or {}).get("configuration")
    if conf:
        ctype = str(conf.get("type") or "").lower()
        days = conf.get("durationInDays")
        if ctype == "timebased":
            if not isinstance(days, int) or isinstance(days, bool) or not DURATION_MIN <= days <= DURATION_MAX:
                raise ArmError(400, DURATION_CODE,
                               "durationInDays must be between %d and %d when the immutability configuration type is "
                               "TimeBased." % (DURATION_MIN, DURATION_MAX), target="durationInDays")
        elif ctype not in ("asperpolicy", ""):
            raise ArmError(400, DURATION_CODE, "Unsupported immutability configuration type '%s'." % conf.get("type"),
                           target="type")
        old_conf = (old_settings or {}).get("configuration") or {}
        if old == "Locked" and str(old_conf.get("type") or "").lower() == "timebased":
            old_days = old_conf.get("durationInDays") or 0
            if ctype != "timebased" or (isinstance(days, int) and days < old_days):
                raise ArmError(400, RS_IMMUTABILITY_CODE, RS_IMMUTABILITY_MSG)


# A Backup vault locked in one request. Learn (immutable vault how-to; errors.md, "Documented behaviour") shows the lock
# only after immutability is enabled, and the only Backup vault lock on record (cliext-dp-vault-update) went through
# Unlocked. Microsoft's own remediation script for Backup vaults locks a vault whose state reads Disabled in one request,
# and steps a vault that reports no immutability state through another state first: azsk/AzTS-docs,
# Scripts/RemediationScripts/Remediate-EnableImmutabilitySettingForBackupVault.ps1 (commits 0b752f9dabbb and
# 4ed06f33a010: Update-AzDataProtectionBackupVault -ImmutabilityState Locked right after a Disabled read; an absent
# state is first set Disabled, or Unlocked), and its review thread (azsk/AzTS-docs PR #468: with no state the vault
# cannot be locked directly, it must be made Disabled or Unlocked first). So Disabled -> Locked is accepted (the
# emulator refused it until the first sources pass), and so is a Backup vault created Locked: the az CLI dataprotection
# test recording of 2025-11-04 (api-version 2025-07-01, tests/fixtures/azure-real/cliext-dp-vault-refusals, create_locked)
# answered 201 with the vault Locked (the emulator refused it until the third sources pass). Still **assumed** refused
# (the refusing side): a vault with no immutability state locked in one request (the engineer's word says it cannot be
# done, not how it is answered), with Recovery Services' documented code and message for the same request
# (RS_IMMUTABILITY_CODE) in the Backup service's user-facing error shape.
# recommendedAction: the Backup service's recorded generic one (cliext-dp-vault-update, UserErrorDisableSoftDeleteNotAllowed).
DP_LOCK_IN_ONE_RECOMMENDED = "Please contact Microsoft Support if this is not expected."


def check_dp_immutability(old_settings, new_settings, creating: bool, api_version=None):
    new = norm_state((new_settings or {}).get("state"))
    if creating:
        return
    reported = (old_settings or {}).get("state")
    old = norm_state(reported)
    if old == "Locked" and new != "Locked":
        if api_version and str(api_version)[:10] < DP_LEAVE_LOCKED_FROM:
            raise _dp_error(400, DP_LOCKED_CODE, DP_LOCKED_MSG, "Please retry after few hours")
        raise _dp_error(400, RS_IMMUTABILITY_CODE, DP_LEAVE_LOCKED_MSG, DP_LEAVE_LOCKED_ACTION)
    if not reported and new == "Locked":
        raise _dp_error(400, RS_IMMUTABILITY_CODE, RS_IMMUTABILITY_MSG, DP_LOCK_IN_ONE_RECOMMENDED)


def check_rs_soft_delete(old_sd, new_sd):
    old_sd, new_sd = old_sd or {}, new_sd or {}
    for key in ("softDeleteState", "enhancedSecurityState"):
        old = str(old_sd.get(key) or "").lower()
        new = str(new_sd.get(key) or old).lower()
        if old == "alwayson" and new != "alwayson":
            raise ArmError(400, SOFT_DELETE_CODE, SOFT_DELETE_MSG, user_facing=True)


def check_rs_config_soft_delete(old_sd, new_sd):
    """The vault config API's answer to leaving AlwaysON (softDeleteState/enhancedSecurityState)."""
    old_sd, new_sd = old_sd or {}, new_sd or {}
    for key in ("softDeleteState", "enhancedSecurityState"):
        old = str(old_sd.get(key) or "").lower()
        new = str(new_sd.get(key) or old).lower()
        if old == "alwayson" and new != "alwayson":
            raise ArmError(400, CONFIG_DISABLE_CODE, CONFIG_DISABLE_MSG, user_facing=True)


def check_soft_delete_days(old_days, new_days, target):
    """Soft delete retention must stay within 14..180 days when a request sets it."""
    if new_days is None or new_days == old_days:
        return
    ok = isinstance(new_days, (int, float)) and not isinstance(new_days, bool) and float(new_days).is_integer()
    if not ok or not SOFT_DELETE_DAYS_MIN <= new_days <= SOFT_DELETE_DAYS_MAX:
        raise ArmError(400, SOFT_DELETE_DAYS_CODE,
                       "Input provided for the call is invalid. The soft delete retention period must be between %d and %d "
                       "days; got %s." % (SOFT_DELETE_DAYS_MIN, SOFT_DELETE_DAYS_MAX, new_days), target=target)


def check_dp_soft_delete(old_sd, new_sd):
    old = str((old_sd or {}).get("state") or "").lower()
    new = str((new_sd or {}).get("state") or old).lower()
    if old == "alwayson" and new != "alwayson":
        raise _dp_error(400, SOFT_DELETE_CODE, SOFT_DELETE_MSG, "Please contact Microsoft Support if this is not expected.")


# ---------------------------------------------------------------- retention comparison

def duration_days(rd) -> float | None:
    """RS RetentionDuration {count, durationType} in days."""
    if not isinstance(rd, dict) or rd.get("count") is None:
        return None
    parts = UNIT_PARTS.get(str(rd.get("durationType") or "days").lower())
    if parts is None:
        return None
    count = float(rd["count"])
    return Span(*(count * part for part in parts))


_ISO = re.compile(r"^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
                  r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)


def iso_days(text) -> float | None:
    """ISO 8601 duration (P7D, P12W, P3M, P1Y, P1Y2M, PT12H) in days."""
    match = _ISO.match(str(text or "").strip())
    if not match or not any(match.groups()):
        return None
    y, mo, w, d, h, mi, s = (float(g) if g else 0.0 for g in match.groups())
    return Span(y, mo, w * 7 + d + h / 24 + mi / 1440 + s / 86400)


def _retention_tiers(prefix: str, retention, out: dict):
    if not isinstance(retention, dict):
        return
    kind = str(retention.get("retentionPolicyType") or "").lower()
    if kind == "simpleretentionpolicy" or ("retentionDuration" in retention and not kind):
        days = duration_days(retention.get("retentionDuration"))
        if days is not None:
            out[prefix + "simple"] = days
        return
    for sched in ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule"):
        entry = retention.get(sched)
        if isinstance(entry, dict):
            days = duration_days(entry.get("retentionDuration"))
            if days is not None:
                out[prefix + sched] = days


def rs_policy_tiers(props) -> dict:
    """Recovery Services policy properties -> {tier: days}."""
    out: dict = {}
    if not isinstance(props, dict):
        return out
    _retention_tiers("retentionPolicy.", props.get("retentionPolicy"), out)
    if props.get("instantRpRetentionRangeInDays") is not None:
        out["instantRpRetentionRangeInDays"] = float(props["instantRpRetentionRangeInDays"])
    for sub in props.get("subProtectionPolicy") or []:
        if isinstance(sub, dict):
            prefix = "subProtectionPolicy[%s]." % str(sub.get("policyType"))
            _retention_tiers(prefix, sub.get("retentionPolicy"), out)
            # Workload (SAP HANA) snapshot backups keep instant restore snapshots too: compared like any tier
            # (operational.py: not treated as operational, the refusing side).
            snap = sub.get("snapshotBackupAdditionalDetails")
            if isinstance(snap, dict) and snap.get("instantRpRetentionRangeInDays") is not None:
                out[prefix + "snapshotBackupAdditionalDetails.instantRpRetentionRangeInDays"] = float(snap["instantRpRetentionRangeInDays"])
    vrp = props.get("vaultRetentionPolicy")
    if isinstance(vrp, dict):
        if vrp.get("snapshotRetentionInDays") is not None:
            out["vaultRetentionPolicy.snapshotRetentionInDays"] = float(vrp["snapshotRetentionInDays"])
        _retention_tiers("vaultRetentionPolicy.vaultRetention.", vrp.get("vaultRetention"), out)
    return out


def retention_reductions(old: dict, new: dict) -> list:
    """Tiers whose retention is lowered or dropped (old -> new)."""
    lowered = []
    new_lower = {k.lower(): v for k, v in new.items()}
    for key, days in old.items():
        nval = new_lower.get(key.lower())
        if nval is None:
            lowered.append("%s (removed; was %g days)" % (key, days))
        elif is_shorter(days, nval):
            lowered.append("%s (%g -> %g days)" % (key, days, nval))
    return lowered


# Longest retention a policy may keep. The REST specs give no maximum (RetentionDuration.count is an int32); these are the
# limits Microsoft's clients enforce "as per backup service" (Azure/azure-powershell#14006, PolicyConstants in
# RecoveryServices.Backup.Models/CommonModels/Utils.cs: 9999 days, 5163 weeks, 1188 months, 99 years) and the azurerm
# Terraform provider checks (backup_policy_vm_resource.go). The answer to a longer retention is the one the service gives
# to a malformed policy: RS 400 BMSUserErrorInvalidPolicyInput (Azure/azure-sdk-for-go#2822, message verbatim), DP 400
# BMSUserErrorInvalidInput (hashicorp/terraform-provider-azurerm#33493). That these codes are the answer to this case is
# assumed. Backup vault (DataProtection) policies: DP_RANGES below.
RS_COUNT_MAX = {"days": 9999, "weeks": 5163, "months": 1188, "years": 99}
RS_POLICY_INPUT_CODE = "BMSUserErrorInvalidPolicyInput"
RS_POLICY_INPUT_MSG = ("Input for create or update policy is not in proper format\r\nPlease check format of parameters like "
                       "schedule time, schedule days, retention time and retention days ")
DP_POLICY_INPUT_CODE = "BMSUserErrorInvalidInput"

# Backup vault (DataProtection) retention ranges, per datasource type and source datastore of a lifecycle (deleteAfter).
# The REST spec has none (deleteAfter.duration is a plain string) and neither Microsoft client checks one (az
# dataprotection's manual/helpers.py and Manifests/, Az.DataProtection's custom/Helpers/PolicyHelpers.ps1 and
# manifests: datastores and tags only). Microsoft Learn's pages (MicrosoftDocs/azure-docs, articles/backup/):
# * Azure Disks, OperationalStore: at most one year, or 450 snapshots, whichever comes first (backup-managed-disks.md,
#   back-up-managed-disks-tutorial.md). The snapshot count is not modelled here.
# * Vaulted tiers (VaultStore): daily 3,650 days, weekly 521 weeks, monthly 120 months, yearly 10 years (the retention
#   limits table of azure-data-lake-storage-backup-support-matrix.md, for ADLS). Blobs' vaulted backup keeps "a maximum
#   of 10 years" (backup-blobs-storage-account-bicep.md), PostgreSQL and MySQL flexible server "up to 10 years"
#   (backup-azure-database-postgresql-overview.md, backup-azure-mysql-flexible-server-about.md): the ADLS table is
#   **assumed** to hold for them, and for AKS's vault tier and every ArchiveStore tier. A Default rule is held to the
#   daily limit.
# * OperationalStore of blobs and AKS, and of any other datasource type: 360 days (**assumed**: only third-party pages
#   give it; it is the shorter of the two operational limits known).
# * Floors: every tier at least one day (a zero or empty duration is refused); ArchiveStore at least 180 days
#   (**assumed**: Learn's archive tier minimum for Recovery Services).
# The answer, for a ceiling and a floor alike, is DP_POLICY_INPUT_CODE with status 400 (**assumed**: no source gives it).
DP_VAULTED_MAX = {"default": Span(days=3650), "daily": Span(days=3650), "weekly": Span(days=521 * 7),
                  "monthly": Span(months=120), "yearly": Span(years=10)}
# The Default rule of the policy Microsoft's own clients create keeps vaulted backups P10Y for Cosmos DB (az
# dataprotection's manual/Manifests/AzureCosmosDB.py and Az.DataProtection's custom/manifests/AzureCosmosDB.json) and for
# PostgreSQL and MySQL flexible servers (Az.DataProtection's AzureDatabaseForPGFlexServer.json, AzureDatabaseForMySQL.json,
# defaultPolicy): Azure takes what its clients send by default, so the Default rule of these types is held to ten years
# (P10Y, P120M, P3650D; a count of days past 3,650 is refused, as Span compares across units on the refusing side).
DP_TEN_YEAR_DEFAULT = dict(DP_VAULTED_MAX, default=Span(years=10))
DP_OPERATIONAL_MAX = Span(days=360)
DP_DISK_MAX = Span(years=1)
DP_RANGES = {
    "microsoft.compute/disks": {"operationalstore": DP_DISK_MAX},
    "microsoft.documentdb/databaseaccounts": {"vaultstore": DP_TEN_YEAR_DEFAULT},
    "microsoft.dbforpostgresql/flexibleservers": {"vaultstore": DP_TEN_YEAR_DEFAULT},
    "microsoft.dbformysql/flexibleservers": {"vaultstore": DP_TEN_YEAR_DEFAULT},
}
DP_STORE_MAX = {"operationalstore": DP_OPERATIONAL_MAX, "vaultstore": DP_VAULTED_MAX, "archivestore": DP_VAULTED_MAX}
DP_FLOORS = {"archivestore": Span(days=180)}
DP_FLOOR = Span(days=1)


# Azure Disks' operational tier also keeps at most 450 snapshots (50 more are kept aside for on-demand backups), so its
# longest retention depends on the backup frequency: a daily policy 450 days, an hourly one (every hour) 18 days
# (Learn, MicrosoftDocs/azure-docs articles/backup/disk-backup-overview.md; hourly frequencies 1, 2, 4, 6, 8 or 12 hours;
# backup-managed-disks.md of 2024-05-09: 500 incremental snapshots a disk, 450 for the policy, 12-hourly 225 days. The
# 2021 disk-backup-support-matrix.md said 200 and 180, the Compute limit of the time; today's says 500 and 450).
# The limit here is whole days of 450 / backups per day, and the one year of DP_DISK_MAX when that is shorter. Learn gives
# the rule for the retention of the backups, the Default rule; that a Daily or Weekly tag of a disk policy is held to
# the same days is **assumed** (the refusing side: tagged snapshots only add to the count). A policy whose frequency
# cannot be read (no backup rule, an interval Learn does not list) is held to the year alone (**assumed**; the collection
# takes the hourly 18 days for it, so it never sends what this could refuse).
DP_DISK_SNAPSHOTS = 450
DP_DISK_HOURLY = (1, 2, 4, 6, 8, 12)
_INTERVAL = re.compile(r"^R/[^/]+/P(?:T(\d+)H|(\d+)D)$", re.IGNORECASE)


def dp_backups_per_day(props) -> float | None:
    """Backups a day of a Backup vault policy's backup rule (the most frequent interval), or None when none can be read."""
    found = []
    rules = props.get("policyRules") if isinstance(props, dict) else None
    for rule in rules if isinstance(rules, list) else []:
        # A trigger, schedule or interval list of another JSON type is no frequency (never a crash of the handler).
        trigger = rule.get("trigger") if isinstance(rule, dict) else None
        schedule = trigger.get("schedule") if isinstance(trigger, dict) else None
        intervals = schedule.get("repeatingTimeIntervals") if isinstance(schedule, dict) else None
        for interval in intervals if isinstance(intervals, list) else []:
            match = _INTERVAL.match(str(interval).strip())
            if match and match.group(1) and int(match.group(1)) in DP_DISK_HOURLY:
                found.append(24 / int(match.group(1)))
            elif match and match.group(2) and int(match.group(2)) >= 1:
                found.append(1 / int(match.group(2)))
    return max(found) if found else None


def dp_disk_limit(props) -> Span:
    """The longest retention of a disk policy's operational tier: DP_DISK_SNAPSHOTS at its frequency, at most a year."""
    per_day = dp_backups_per_day(props)
    if per_day is None:
        return DP_DISK_MAX
    return min(DP_DISK_MAX, Span(days=float(int(DP_DISK_SNAPSHOTS // per_day))), key=lambda span: span.lo)


def dp_ceiling(datasource_types, store: str, rule_name: str, props=None):
    """The longest retention (a Span) a lifecycle of this datastore may keep, or None when no limit is known."""
    store = store.lower()
    limits = []
    for datasource in datasource_types or [None]:
        limit = DP_RANGES.get(str(datasource or "").lower(), {}).get(store, DP_STORE_MAX.get(store))
        if isinstance(limit, dict):
            limit = limit.get(str(rule_name or "default").lower(), limit["daily"])
        if limit is DP_DISK_MAX:
            limit = dp_disk_limit(props)
        if limit is not None:
            limits.append(limit)
    return min(limits, key=lambda span: span.lo) if limits else None


# The datastores Azure Backup keeps each datasource type's backups in: the manifests of Microsoft's two clients,
# policySettings.supportedDatastoreTypes (az dataprotection: Azure/azure-cli-extensions,
# src/dataprotection/azext_dataprotection/manual/Manifests/*.py; Az.DataProtection: Azure/azure-powershell,
# src/DataProtection/DataProtection.Autorest/custom/manifests/*.json):
# * disks OperationalStore (Learn's disk-backup-support-matrix.md too: "The backups aren't copied to the backup vault");
# * blobs OperationalStore and VaultStore; ADLS VaultStore; PostgreSQL single server VaultStore and ArchiveStore (both);
# * Cosmos DB (Microsoft.DocumentDB/databaseAccounts) VaultStore; Elastic SAN (Microsoft.ElasticSan/elasticSans/
#   volumeGroups) OperationalStore (both clients; Learn's Elastic SAN support matrix: "vault-tier isn't currently
#   supported");
# * PostgreSQL and MySQL flexible servers: VaultStore. The two clients disagree here: az dataprotection lists VaultStore
#   and ArchiveStore (its manifests for them repeat the single server's), Az.DataProtection VaultStore only; Microsoft's
#   Azure MCP server refuses an archive tier for every Backup vault datasource type (microsoft/mcp#2504, 2026). The
#   ArchiveStore is left out (**assumed**, the refusing side: the collection reports such a tier not fixable).
# * AKS: OperationalStore, and VaultStore from Learn's AKS vaulted backup (both manifests list the operational tier only).
# A policy whose backup rule, lifecycle or copy names another datastore for one of these types is refused with
# DP_POLICY_INPUT_CODE, status 400 (**assumed**: no source gives Azure's answer); other datasource types are not checked.
DP_DATASTORES = {
    "microsoft.compute/disks": ("operationalstore",),
    "microsoft.storage/storageaccounts/blobservices": ("operationalstore", "vaultstore"),
    "microsoft.storage/storageaccounts/adlsblobservices": ("vaultstore",),
    "microsoft.dbforpostgresql/servers/databases": ("vaultstore", "archivestore"),
    "microsoft.dbforpostgresql/flexibleservers": ("vaultstore",),
    "microsoft.dbformysql/flexibleservers": ("vaultstore",),
    "microsoft.containerservice/managedclusters": ("operationalstore", "vaultstore"),
    "microsoft.documentdb/databaseaccounts": ("vaultstore",),
    "microsoft.elasticsan/elasticsans/volumegroups": ("operationalstore",),
}


def _named_datastores(props):
    """(where, datastore) of every datastore a Backup vault policy names: backup rules, lifecycles' sources, copies."""
    for index, rule in enumerate((props or {}).get("policyRules") or []):
        if not isinstance(rule, dict):
            continue
        store = (rule.get("dataStore") or {}).get("dataStoreType") if isinstance(rule.get("dataStore"), dict) else None
        if store is not None:
            yield "policyRules[%d].dataStore" % index, store
        for number, life in enumerate(rule.get("lifecycles") or []):
            if not isinstance(life, dict):
                continue
            source = life.get("sourceDataStore")
            if isinstance(source, dict) and source.get("dataStoreType") is not None:
                yield "policyRules[%d].lifecycles[%d].sourceDataStore" % (index, number), source["dataStoreType"]
            for copy_at, copy in enumerate(life.get("targetDataStoreCopySettings") or []):
                target = copy.get("dataStore") if isinstance(copy, dict) else None
                if isinstance(target, dict) and target.get("dataStoreType") is not None:
                    yield ("policyRules[%d].lifecycles[%d].targetDataStoreCopySettings[%d].dataStore" % (index, number, copy_at),
                           target["dataStoreType"])


def check_dp_datastores(props):
    """Refuse a Backup vault policy that names a datastore its datasource type does not support (DP_DATASTORES)."""
    types = (props or {}).get("datasourceTypes")
    for datasource in types if isinstance(types, list) else []:
        supported = DP_DATASTORES.get(str(datasource).lower())
        if supported is None:
            continue
        for where, store in _named_datastores(props):
            if str(store).lower() not in supported:
                raise ArmError(400, DP_POLICY_INPUT_CODE, "Input provided for the call is invalid. Datastore type '%s' is not "
                               "supported for datasource type '%s'." % (store, datasource), target=where)


_FREQ_HOURLY, _FREQ_DAILY, _FREQ_WEEKLY = "Hourly", "Daily", "Weekly"


# Retention tags and backup frequencies per datasource type: the manifests of Microsoft's two clients (the files cited for
# DP_DATASTORES; an extract of each az dataprotection manifest's policySettings, with its commit, is
# tests/fixtures/azure-reference/dataprotection/client-manifests/policySettings.json), which refuse before sending:
# * a retention rule whose name is not one of policySettings.supportedRetentionTags, nor the Default rule (Az.DataProtection's
#   retention rule helper throws "Selected Retention Rule ... is not applicable for datasource type ..."; its newest form
#   also takes the mapped default names of defaultRetentionRuleNames, blobs' operational rule Default_OperationalStore);
#   az dataprotection's helpers know only the tags Default, Daily, Weekly, Monthly and Yearly (get_tagging_priority);
# * a backup schedule whose frequency (the interval's last letter: H Hourly, D Daily, W Weekly) is not one of
#   policySettings.supportedBackupFrequency (az dataprotection's validate_backup_schedule, Az.DataProtection's
#   ValidateBackupSchedule). The intervals the clients write are PT<n>H, P1D and P1W (get_backup_frequency_string).
# Tags per type: disks, AKS, Elastic SAN Daily and Weekly; blobs' vaulted tier, ADLS, PostgreSQL single and flexible servers, MySQL flexible servers and
# Cosmos DB Weekly, Monthly and Yearly. Frequencies: disks Daily or Hourly, AKS Daily or Hourly (and Weekly, see below); blobs, ADLS and Elastic SAN Daily or
# Weekly (one Az.DataProtection manifest of Elastic SAN listed Hourly instead of Weekly; its 3.1.x manifests and az
# dataprotection's say Daily and Weekly); PostgreSQL, MySQL and Cosmos DB Weekly. Hourly intervals: disks every 1, 2, 4,
# 6, 8 or 12 hours (Learn, disk-backup-support-matrix: Standard HDD / SSD and Premium SSD; Premium SSD v2 and Ultra disks
# every 12 hours or daily, which a policy cannot be checked against: the disk's SKU is not in it, so that limit is not
# modelled), AKS every 4, 8 or 12 hours (Learn, azure-kubernetes-service-cluster-backup-using-cli: "once-a-day backup ...
# more frequent backups (in every 4, 8, and 12 hours intervals)").
# **Assumed**: that the service refuses what both clients refuse (the refusing side; a policy deployed by template or REST
# never passes through them), tag and rule names compared without regard to case, a daily or weekly interval other than
# P1D / P1W (P2D, P2W) refused, a retention rule's name and a tagging criterion's tag name each held to the list, and the
# answer: status 400 with DP_POLICY_INPUT_CODE, the message in the emulator's own words (no source records Azure's), and
# the order of the checks (datastores, ranges, then tags, then schedules: a policy wrong in several ways gets the first).
# Types not in these tables are not checked (the spec example's OssDB is accepted as before).
# Known exception to "the service refuses what the clients refuse": terraform-provider-azurerm's acceptance tests, which
# run against Azure itself, create AKS policies with R/2021-05-23T02:30:00+00:00/P1W and a Daily OperationalStore rule
# (internal/services/dataprotection/data_protection_backup_policy_kubernetes_cluster_resource_test.go, basic and complete),
# so a weekly AKS schedule is accepted here although the clients list Daily and Hourly only. Where a recorded or tested
# answer of the service contradicts the clients, the service wins.
DP_RETENTION_TAGS = {
    "microsoft.compute/disks": ("Daily", "Weekly"),
    "microsoft.containerservice/managedclusters": ("Daily", "Weekly"),
    "microsoft.elasticsan/elasticsans/volumegroups": ("Daily", "Weekly"),
    "microsoft.storage/storageaccounts/blobservices": ("Weekly", "Monthly", "Yearly"),
    "microsoft.storage/storageaccounts/adlsblobservices": ("Weekly", "Monthly", "Yearly"),
    "microsoft.dbforpostgresql/servers/databases": ("Weekly", "Monthly", "Yearly"),
    "microsoft.dbforpostgresql/flexibleservers": ("Weekly", "Monthly", "Yearly"),
    "microsoft.dbformysql/flexibleservers": ("Weekly", "Monthly", "Yearly"),
    "microsoft.documentdb/databaseaccounts": ("Weekly", "Monthly", "Yearly"),
}
DP_DEFAULT_RULE_NAMES = ("Default", "Default_OperationalStore")
DP_BACKUP_FREQUENCIES = {
    "microsoft.compute/disks": (_FREQ_DAILY, _FREQ_HOURLY),
    # AKS also weekly: the service took P1W where both clients refuse it (below).
    "microsoft.containerservice/managedclusters": (_FREQ_DAILY, _FREQ_HOURLY, _FREQ_WEEKLY),
    "microsoft.elasticsan/elasticsans/volumegroups": (_FREQ_DAILY, _FREQ_WEEKLY),
    "microsoft.storage/storageaccounts/blobservices": (_FREQ_DAILY, _FREQ_WEEKLY),
    "microsoft.storage/storageaccounts/adlsblobservices": (_FREQ_DAILY, _FREQ_WEEKLY),
    "microsoft.dbforpostgresql/servers/databases": (_FREQ_WEEKLY,),
    "microsoft.dbforpostgresql/flexibleservers": (_FREQ_WEEKLY,),
    "microsoft.dbformysql/flexibleservers": (_FREQ_WEEKLY,),
    "microsoft.documentdb/databaseaccounts": (_FREQ_WEEKLY,),
}
DP_HOURLY_INTERVALS = {
    "microsoft.compute/disks": DP_DISK_HOURLY,
    "microsoft.containerservice/managedclusters": (4, 8, 12),
}
_SCHEDULE = re.compile(r"^R/[^/]+/(?:PT(\d+)H|P(1)D|P(1)W)$", re.IGNORECASE)


def _invalid(message, where):
    raise ArmError(400, DP_POLICY_INPUT_CODE, "Input provided for the call is invalid. " + message, target=where)


def _known_types(props):
    types = (props or {}).get("datasourceTypes")
    return [(str(item), str(item).lower()) for item in (types if isinstance(types, list) else []) if str(item).lower() in DP_RETENTION_TAGS]


def check_dp_retention_tags(props):
    """Refuse a Backup vault policy whose retention rule or backup rule tag is not one its datasource type has
    (DP_RETENTION_TAGS, DP_DEFAULT_RULE_NAMES)."""
    for datasource, key in _known_types(props):
        allowed = {name.lower() for name in DP_RETENTION_TAGS[key] + DP_DEFAULT_RULE_NAMES}
        for index, rule in enumerate(props.get("policyRules") or []):
            if not isinstance(rule, dict):
                continue
            if str(rule.get("objectType")) == "AzureRetentionRule" and str(rule.get("name") or "").lower() not in allowed:
                _invalid("Retention rule '%s' is not supported for datasource type '%s' (its retention tags: %s)."
                         % (rule.get("name"), datasource, ", ".join(DP_RETENTION_TAGS[key])), "policyRules[%d].name" % index)
            trigger = rule.get("trigger") if isinstance(rule.get("trigger"), dict) else {}
            criteria = trigger.get("taggingCriteria")
            for number, criterion in enumerate(criteria if isinstance(criteria, list) else []):
                info = criterion.get("tagInfo") if isinstance(criterion, dict) else None
                tag = info.get("tagName") if isinstance(info, dict) else None
                if tag is not None and str(tag).lower() not in allowed:
                    _invalid("Retention tag '%s' is not supported for datasource type '%s' (its retention tags: %s)."
                             % (tag, datasource, ", ".join(DP_RETENTION_TAGS[key])),
                             "policyRules[%d].trigger.taggingCriteria[%d].tagInfo.tagName" % (index, number))


def check_dp_schedules(props):
    """Refuse a Backup vault policy whose backup schedule its datasource type does not take (DP_BACKUP_FREQUENCIES,
    DP_HOURLY_INTERVALS): each repeatingTimeIntervals entry of a schedule-based backup rule."""
    for datasource, key in _known_types(props):
        for index, rule in enumerate(props.get("policyRules") or []):
            trigger = rule.get("trigger") if isinstance(rule, dict) else None
            schedule = trigger.get("schedule") if isinstance(trigger, dict) else None
            if not isinstance(schedule, dict):
                continue
            intervals = schedule.get("repeatingTimeIntervals")
            # A list that is no list holds no interval to judge (what dp_backups_per_day reads from it: no frequency).
            for number, interval in enumerate(intervals if isinstance(intervals, list) else []):
                where = "policyRules[%d].trigger.schedule.repeatingTimeIntervals[%d]" % (index, number)
                match = _SCHEDULE.match(str(interval).strip()) if isinstance(interval, str) else None
                frequency = None
                if match:
                    frequency = _FREQ_HOURLY if match.group(1) else _FREQ_DAILY if match.group(2) else _FREQ_WEEKLY
                hours = DP_HOURLY_INTERVALS.get(key)
                if frequency not in DP_BACKUP_FREQUENCIES[key] or (
                        frequency == _FREQ_HOURLY and hours is not None and int(match.group(1)) not in hours):
                    _invalid("Backup schedule '%s' is not supported for datasource type '%s' (its backup frequencies: %s%s)."
                             % (interval, datasource, ", ".join(DP_BACKUP_FREQUENCIES[key]),
                                "; hourly every %s hours" % ", ".join(str(h) for h in hours) if hours else ""), where)


def _rs_durations(value, path, out):
    """Every RetentionDuration ({count, durationType}) in a Recovery Services policy body, with its JSON path."""
    if isinstance(value, dict):
        if "durationType" in value and "count" in value:
            out.append((path, value))
        for key, item in value.items():
            _rs_durations(item, "%s.%s" % (path, key) if path else key, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _rs_durations(item, "%s[%d]" % (path, index), out)
    return out


# Ranges of one policy kind, narrower than RS_COUNT_MAX.
# * Azure Files snapshot tiers (an AzureStorage policy's own ``retentionPolicy``; the vault-standard tiers under
#   ``vaultRetentionPolicy`` keep RS_COUNT_MAX): 200 days, 200 weeks, 120 months, 10 years (Azure PowerShell
#   PolicyConstants Afs*RetentionMax, the file cited above, which Microsoft's client enforces "as per backup service").
# * Azure VM instant restore (``instantRpRetentionRangeInDays``): 1..5 days for a V1 (standard) policy, 1..30 for V2
#   (enhanced) (Microsoft Learn, MicrosoftDocs/azure-docs articles/backup/backup-instant-restore-capability.md at
#   02d00dc8728a, backup-azure-vms-enhanced-policy.md at 00819bb82dd1); SQL / SAP HANA log backups (a ``Log``
#   sub-policy's simple retention): 7..35 days, and differential and incremental backups (a ``Differential`` or
#   ``Incremental`` sub-policy's): 7..180 days (Learn, backup-sql-server-database-azure-vms.md at 025127781aa6: at least
#   seven days for any type of backup, logs "up to 35 days", differential backups "a maximum of 180 days";
#   backup-azure-sap-hana-database.md at 002c8cf3203e: the same for differential and incremental backups). The
#   collection's _retention._CEILINGS and FLOORS cite the same pages: the emulator refuses what the collection refuses.
# The answer is the malformed-policy one above (assumed, as for RS_COUNT_MAX: no source gives the code).
AFS_SNAPSHOT_MAX = {"days": 200, "weeks": 200, "months": 120, "years": 10}
INSTANT_RP_DAYS = {"v1": (1, 5), "v2": (1, 30)}
LOG_DAYS = (7, 35)
PARTIAL_DAYS = (7, 180)


def _refuse(path):
    raise ArmError(400, RS_POLICY_INPUT_CODE, RS_POLICY_INPUT_MSG, target=path)


# Hourly schedules of an Azure Files (AzureStorage) policy: ``schedulePolicy.scheduleRunFrequency: Hourly`` with
# ``hourlySchedule {interval, scheduleWindowStartTime, scheduleWindowDuration}``. What Azure PowerShell's client refuses
# before it sends one (Azure/azure-powershell, src/RecoveryServices/RecoveryServices.Backup.Models/CommonModels/
# PolicyScheduleObjects.cs, SimpleSchedulePolicy.Validate): the interval one of 4, 6, 8, 12 hours; the window duration
# between PolicyConstants.AfsHourlyWindowDurationMin and AfsHourlyWindowDurationMax (4 and 23 hours, as the same file's
# description of ScheduleWindowDuration gives them) and not shorter than the interval; the window start from 00:00 to
# 19:30 (UTC) on a half hour with no seconds; the last backup, start plus duration, no later than 23:30. The REST spec
# has none of these bounds; that the service refuses what Microsoft's client refuses, and with the malformed-policy answer
# above, is **assumed** (the refusing side).
AFS_HOURLY_INTERVALS = (4, 6, 8, 12)
AFS_HOURLY_WINDOW_HOURS = (4, 23)
AFS_HOURLY_LATEST_START_MIN = 19 * 60 + 30
AFS_HOURLY_LAST_BACKUP_MIN = 23 * 60 + 30
_START_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T(\d{2}):(\d{2}):(\d{2})(\.0+)?(Z|[+-]00:00)?$")


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _afs_hourly(schedule, path):
    """Refuse an Azure Files hourly schedule Azure PowerShell refuses (AFS_HOURLY_*); raises ArmError."""
    if not isinstance(schedule, dict) or str(schedule.get("scheduleRunFrequency") or "").lower() != "hourly":
        return
    hourly = schedule.get("hourlySchedule")
    if not isinstance(hourly, dict):
        _refuse(path + ".hourlySchedule")
    interval, window = hourly.get("interval"), hourly.get("scheduleWindowDuration")
    if not _whole(interval) or interval not in AFS_HOURLY_INTERVALS:
        _refuse(path + ".hourlySchedule.interval")
    if not _whole(window) or not AFS_HOURLY_WINDOW_HOURS[0] <= window <= AFS_HOURLY_WINDOW_HOURS[1] or window < interval:
        _refuse(path + ".hourlySchedule.scheduleWindowDuration")
    match = _START_TIME.match(str(hourly.get("scheduleWindowStartTime") or ""))
    start = int(match.group(1)) * 60 + int(match.group(2)) if match else None
    if start is None or int(match.group(3)) != 0 or start % 30 or start > AFS_HOURLY_LATEST_START_MIN \
            or start + window * 60 > AFS_HOURLY_LAST_BACKUP_MIN:
        _refuse(path + ".hourlySchedule.scheduleWindowStartTime")


def _rs_kind_ranges(props):
    """The ranges of one policy kind (AFS_SNAPSHOT_MAX, INSTANT_RP_DAYS, LOG_DAYS, PARTIAL_DAYS); raises ArmError."""
    management = str(props.get("backupManagementType") or "").lower()
    if management == "azurestorage":
        for path, duration in _rs_durations(props.get("retentionPolicy"), "retentionPolicy", []):
            limit = AFS_SNAPSHOT_MAX.get(str(duration.get("durationType") or "").lower())
            if limit is not None and duration["count"] > limit:
                _refuse(path + ".count")
        _afs_hourly(props.get("schedulePolicy"), "schedulePolicy")
    if management == "azureiaasvm" and props.get("instantRpRetentionRangeInDays") is not None:
        days = props["instantRpRetentionRangeInDays"]
        low, high = INSTANT_RP_DAYS.get(str(props.get("policyType") or "V1").lower(), INSTANT_RP_DAYS["v1"])
        if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
            _refuse("instantRpRetentionRangeInDays")
    ranges = {"log": LOG_DAYS, "differential": PARTIAL_DAYS, "incremental": PARTIAL_DAYS}
    for index, sub in enumerate(props.get("subProtectionPolicy") or []):
        limits = ranges.get(str(sub.get("policyType") or "").lower()) if isinstance(sub, dict) else None
        if limits is None:
            continue
        days = duration_days((sub.get("retentionPolicy") or {}).get("retentionDuration"))
        if days is not None and not (limits[0] <= days.lo and days.hi <= limits[1]):
            _refuse("subProtectionPolicy[%d].retentionPolicy.retentionDuration.count" % index)


def check_policy_ceilings(props, kind: str):
    """Refuse a policy that keeps longer than the service allows (or a count that is not a whole number)."""
    if kind == "rs":
        for path, duration in _rs_durations(props, "", []):
            count = duration.get("count")
            limit = RS_COUNT_MAX.get(str(duration.get("durationType") or "").lower())
            if isinstance(count, bool) or not isinstance(count, int) or count < 1 or (limit is not None and count > limit):
                _refuse(path + ".count")
        _rs_kind_ranges(props if isinstance(props, dict) else {})
        return
    check_dp_datastores(props)
    types = (props or {}).get("datasourceTypes")
    types = types if isinstance(types, list) else []
    for rule in (props or {}).get("policyRules") or []:
        for life in (rule.get("lifecycles") or []) if isinstance(rule, dict) else []:
            duration = ((life or {}).get("deleteAfter") or {}).get("duration") if isinstance(life, dict) else None
            if duration is None:
                continue
            store = str(((life.get("sourceDataStore") or {}).get("dataStoreType")) or "")
            days = iso_days(duration)
            ceiling = dp_ceiling(types, store, rule.get("name"), props)
            floor = DP_FLOORS.get(store.lower(), DP_FLOOR)
            if days is None or is_shorter(floor, days) or (ceiling is not None and is_shorter(days, ceiling)):
                raise ArmError(400, DP_POLICY_INPUT_CODE, "Input provided for the call is invalid. The retention duration '%s' of rule "
                               "'%s' is not supported." % (duration, rule.get("name")), target="deleteAfter.duration")
    # After the datastores and the ranges: the retention tags and the schedule (DP_RETENTION_TAGS says why this order).
    check_dp_retention_tags(props)
    check_dp_schedules(props)


_WEEK = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def _weekly_gap_hours(days) -> float:
    """The longest wait, in hours, between two backups on the given week days (a single day: a week)."""
    on = sorted({_WEEK.index(str(d).lower()) for d in days or () if str(d).lower() in _WEEK})
    if not on:
        return 0.0
    gaps = [(on[(i + 1) % len(on)] - day) % 7 or 7 for i, day in enumerate(on)]
    return 24.0 * max(gaps)


def _sub_policy(props, kind):
    for sub in props.get("subProtectionPolicy") or []:
        if isinstance(sub, dict) and str(sub.get("policyType") or "").lower() == kind.lower():
            return sub
    return None


def rpo_hours(props) -> float:
    """The recovery point objective of a Recovery Services policy, in hours: the longest a protected item can go between
    two backups, as the az CLI computes it to decide that a policy change weakens protection (Azure/azure-cli
    src/azure-cli/azure/cli/command_modules/backup/custom_help.py, ``calculate_rpo``): a VM policy's hourly window (its
    interval when the window is the whole day, the hours outside the window otherwise), 24 for a daily backup, the widest
    gap between backup days for a weekly one; Azure Files' hourly window (24 when it holds one backup, else the hours after
    its last one); a workload policy's log frequency, else 24 for a daily full backup, else the widest gap between the
    days of its weekly full, differential and incremental backups. 0 for what it does not cover."""
    if not isinstance(props, dict):
        return 0.0
    kind = str(props.get("backupManagementType") or "").lower()
    if kind in ("azureiaasvm", "azurestorage"):
        schedule = props.get("schedulePolicy") or {}
        frequency = str(schedule.get("scheduleRunFrequency") or "").lower()
        hourly = schedule.get("hourlySchedule") or {}
        if frequency == "hourly":
            interval, window = hourly.get("interval") or 0, hourly.get("scheduleWindowDuration") or 0
            if kind == "azureiaasvm":
                return float(interval if window == 24 else 24 - window)
            if not interval or window <= interval:
                return 24.0
            return float(24 - interval * (window // interval))
        if frequency == "daily":
            return 24.0
        if frequency == "weekly" and kind == "azureiaasvm":
            days = (schedule.get("weeklySchedule") or {}).get("scheduleRunDays")
            return _weekly_gap_hours(days if days else schedule.get("scheduleRunDays"))
        return 0.0
    if kind == "azureworkload":
        log, full = _sub_policy(props, "Log"), _sub_policy(props, "Full")
        if log is not None:
            return float((log.get("schedulePolicy") or {}).get("scheduleFrequencyInMins") or 0) / 60.0
        if full is None:
            return 0.0
        if str((full.get("schedulePolicy") or {}).get("scheduleRunFrequency") or "").lower() == "daily":
            return 24.0
        days = list(((full.get("retentionPolicy") or {}).get("weeklySchedule") or {}).get("daysOfTheWeek") or [])
        for other in ("Differential", "Incremental"):
            sub = _sub_policy(props, other)
            if sub is not None:
                days += list((sub.get("schedulePolicy") or {}).get("scheduleRunDays") or [])
        return _weekly_gap_hours(days)
    return 0.0


def policy_reductions(old_props, new_props) -> list:
    """Every tier a Recovery Services policy PUT lowers or drops, operational ones included, and a backup schedule it
    makes sparser (a longer RPO: the az CLI sends the guard's token for it, custom_help.py ``is_retention_duration_decreased``
    calls ``is_rpo_increased`` first) (multi-user authorization, mua.py). A Backup vault policy is never updated
    (dp_policy_update_refused), so it has no reductions to find."""
    found = retention_reductions(rs_policy_tiers(old_props), rs_policy_tiers(new_props))
    before, after = rpo_hours(old_props), rpo_hours(new_props)
    if after > before:
        found.append("backup schedule (RPO %g -> %g hours)" % (before, after))
    return found


# A retention raise on an immutable Recovery Services vault while a protected item has its backups suspended: Microsoft
# Learn (MicrosoftDocs/azure-docs articles/backup/backup-azure-immutable-vault-concept.md at b7a53cae1a5e, Restricted
# operations, Recovery Services vault, "Modify backup policy to reduce retention"): "Note that the increase in retention
# can't be applied if any item has its backups suspended (stop backup)." Assumed: which items count (those on the policy
# the PUT changes, the ones a raise would apply to), that a tier added counts as an increase, and the answer's status,
# code and message (Learn gives none; the malformed-policy answer's status, an immutable-vault code of the service's own
# naming style). Backup vaults: Learn's Backup vault tab has no such note.
SUSPENDED_RAISE_CODE = "UserErrorRetentionIncreaseNotAllowedWithSuspendedItems"
SUSPENDED_RAISE_MSG = ("The increase in retention can't be applied since the vault is immutable and the following protected "
                       "items of the policy have their backups suspended: %s.")


def check_raise_with_suspended_items(old_props, new_props, immutable: bool, suspended) -> None:
    """Refuse an RS policy PUT that raises (or adds) a tier on an immutable vault while ``suspended`` (the names of the
    policy's items whose backups are suspended) is not empty."""
    if not immutable or old_props is None or not suspended:
        return
    raised = retention_reductions(rs_policy_tiers(new_props), rs_policy_tiers(old_props))
    if raised:
        raise ArmError(400, SUSPENDED_RAISE_CODE, SUSPENDED_RAISE_MSG % ", ".join(sorted(suspended)), user_facing=True)


def check_policy_retention(old_props, new_props, immutable: bool):
    """Refuse a Recovery Services policy PUT that lowers or drops a tier the immutable vault holds. A Backup vault policy
    that exists is refused before (dp_policy_update_refused), whatever its body: it never reaches this rule."""
    if not immutable or old_props is None:
        return
    old_tiers = rs_policy_tiers(old_props)
    for key in operational_keys(old_props, old_tiers):
        old_tiers.pop(key)  # immutability does not apply to operational backups (operational.py)
    lowered = retention_reductions(old_tiers, rs_policy_tiers(new_props))
    if lowered:
        raise ArmError(400, RETENTION_CODE, RETENTION_MSG + " Lowered: " + "; ".join(lowered), user_facing=True)
