#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: backup_policy_retention
short_description: Hold Azure Backup policies to a minimum retention, detect reductions, raise weak Recovery Services policies
version_added: 0.1.0
description:
  - An immutable vault is only as strong as its policies. This module checks every policy of a vault (or the named ones)
    against a minimum retention per tier, and with O(mode=enforce) raises each too-short tier of a Recovery Services vault
    policy to the minimum.
  - Azure does not update an existing Backup vault policy (Microsoft.DataProtection/backupVaults/backupPolicies). It answers
    any update, even an unchanged body, with C(UserErrorBMSUpdatePolicyNotSupported) and recommends creating a new policy.
    So a Backup vault policy tier that keeps less than the minimum is a violation that is not fixable, in both modes; its
    C(reason) says to create a policy that keeps at least the minimum and move the backup instances to it. The module
    never sends a Backup vault policy, and asks no consent for one on a locked vault.
  - It never lowers a value and never adds a tier the policy's schedule cannot produce; such gaps stay violations,
    reported as not fixable. A policy that needs no change is never sent back to Azure (re-sending an unchanged policy
    is known to fail on immutable vaults).
  - Raising retention is allowed on immutable Recovery Services vaults, locked ones included; on a locked vault it is
    irreversible (the policy can never keep less again) and needs O(allow_irreversible=true). Operational tiers (Azure
    Files share snapshots) are not held by immutability, so raising them is never irreversible.
    VM instant restore and workload snapshot tiers are treated as held (see below), so raising them there needs consent too.
  - A policy update whose outcome is unknown (a server error, a broken connection, a timeout) is settled by reading the policy
    again; it is sent a second time only when it did not take effect, the policy is unchanged and the raise is not irreversible.
  - With O(compare_to), reports which tiers a proposed policy body, or another policy, would keep for less time. On an
    immutable vault Azure rejects such a policy change and blocks moving protected items to a policy that keeps less;
    the result says so before anything is tried.
  - Immutability does not apply to operational backups (Microsoft Learn names operational backup of blobs, files and
    disks). A Backup vault's operational store and Azure Files share snapshots are reported as operational and not
    protected by immutability; Azure accepts shortening them even on an immutable vault.
  - Azure VM instant restore snapshots and SAP HANA / workload snapshot tiers are not named by Microsoft either way.
    The collection predicts the safe side (an assumption, marked unsourced). They are treated as held by immutability,
    so shortening them on an immutable vault is reported as C(Azure may refuse) and C(unsourced) is true in RV(reductions).
extends_documentation_fragment:
  - vaultlock.azure.attributes.state
  - vaultlock.azure.attributes.local
  - vaultlock.azure.azure_auth
  - vaultlock.azure.vault_ref
requirements:
  - azure-mgmt-recoveryservicesbackup >= 11.2.0 (writes to Recovery Services policies)
options:
  policies:
    description:
      - Only these policies (by name, case-insensitive). Default every policy of the vault. A name the vault does not have is an error.
      - An empty list (a variable that came out empty, say), or an empty name, is refused before any request; leave the option
        out to mean every policy of the vault.
    type: list
    elements: str
  minimum:
    description:
      - Minimum retention per tier. Keys C(daily), C(weekly), C(monthly), C(yearly), C(default), C(instant), C(snapshot), C(log),
        in any case; a tier (or a datastore of one) given twice in two spellings (C(daily) and C(DAILY)) is refused before any request.
      - "Each value is a duration written C(30d), C(12w), C(12m), C(7y), or ISO-8601 (C(P30D), C(P1Y6M)); or, per datastore,
        a dict such as C({OperationalStore: 7d, VaultStore: 30d}) (datastores C(OperationalStore), C(VaultStore),
        C(ArchiveStore), and C(Snapshot) / C(VaultStandard) for Azure Files)."
      - "A per-datastore value applies only to tiers on those datastores. Recovery Services VM, SQL and SAP HANA policy tiers have
        no datastore, so a key given only per datastore checks none of their tiers of that key, whatever the other keys are
        (in C({daily: {VaultStore: 30d}, weekly: 4w}) their daily tiers stay unchecked); the module says so in its
        C(warnings), one warning a key naming the policies (they still count as compliant). A plain duration (C(daily: 30d))
        applies to every datastore and to tiers without one."
      - C(daily) also applies to simple (default) retention when no C(default) minimum is given, except to Differential and
        Incremental sub-policies.
      - Across units the check is conservative. What a policy keeps counts at its shortest (a month 28 days, a year 365)
        and what the minimum asks for at its longest (a month 31 days, a year 366).
    type: dict
  mode:
    description:
      - What to do with a policy that keeps less than O(minimum). V(report) reports the violations only. V(enforce) also
        raises each fixable too-short tier to the minimum (Recovery Services policies only; Azure updates no Backup vault
        policy, so V(enforce) reports a Backup vault's weak tiers as not fixable and changes nothing).
      - The same words as the C(vaultlock.azure.harden_backup_vaults) role's C(harden_backup_vaults_retention_mode).
      - This option decides whether weak tiers are raised; Ansible's check mode decides whether anything is sent. In check mode
        V(enforce) shows what it would raise and sends nothing.
    type: str
    choices: [report, enforce]
    default: report
  fail_on_violation:
    description: Fail the task when violations remain (after enforcing, in V(enforce) mode). The failed result still carries
      RV(violations), RV(policies) and RV(changes).
    type: bool
    default: false
  compare_to:
    description:
      - Detect retention reductions of the policy named by O(policy).
      - "With C(proposed), a policy body as it would be PUT (C({properties: {...}})); the reductions of tiers that are not
        operational are what Azure rejects on an immutable vault (or may reject, for the unsourced tiers). On a Backup vault
        Azure rejects any proposed body, since it updates no existing Backup vault policy."
      - With C(policy), another policy of the vault; the reductions are why Azure blocks moving protected items from
        O(policy) to that policy on an immutable vault.
    type: dict
    suboptions:
      policy:
        description: Name of the other policy.
        type: str
      proposed:
        description: Proposed policy body.
        type: dict
  policy:
    description:
      - The policy that O(compare_to) compares against (its current state is the "before").
      - Used only with O(compare_to); to choose the policies checked against O(minimum), use O(policies).
    type: str
  allow_irreversible:
    description:
      - Consent to raise retention of a Recovery Services vault whose immutability is V(locked). On a locked vault a raised
        retention can never be lowered again, so without this consent O(mode=enforce) fails before any write, in check mode
        too, when a policy would be raised. Raising retention of any other vault, or an operational tier, needs no consent;
        a Backup vault's policies are never raised, so they never need it.
      - Consent counts only when it is written in the task itself; a value from C(module_defaults) is ignored (see the
        collection's C(docs/reliability.md)).
    type: bool
    default: false
notes:
  - A O(minimum) below the shortest retention Azure accepts for that tier in any policy kind is refused before any request
    (daily, default, instant and snapshot 1 day; weekly 1 week; monthly 1 month; yearly 1 year; log 7 days).
  - Azure VM instant restore keeps at most 5 days (V1) or 30 days (Enhanced), SQL / SAP HANA log backups at most 35 days, and
    their differential and incremental backups at most 180 days (Microsoft Learn); a minimum above these is reported as a
    violation that is not fixable.
  - A O(minimum) above the longest retention Azure keeps for that tier in any policy kind is refused before any request
    (daily and default 9999 days, weekly 5163 weeks, monthly 1188 months, yearly 99 years; the limits Microsoft's clients
    enforce, see C(docs/reliability.md)); Azure Files snapshot tiers keep at most 200 days, 200 weeks, 120 months or 10 years.
  - Backup vault policies keep less (Microsoft Learn, see C(docs/reliability.md)) - Azure Disks' operational tier at most 1 year
    and at most 450 snapshots at the policy's backup frequency (a 4-hourly policy 75 days, an hourly one 18 days; a policy
    whose frequency cannot be read is held to the hourly 18 days);
    vaulted tiers (VaultStore, ArchiveStore) daily and default 3650 days, weekly 521 weeks, monthly 120 months, yearly 10 years;
    every other operational tier (blobs, AKS) 360 days. A Backup vault tier whose minimum exceeds its limit is reported with
    that limit (a new policy could not keep it either), and a per-datastore O(minimum) above the longest any Backup vault
    policy keeps on that datastore is refused before any request.
  - A Backup vault tier on a datastore its datasource type keeps no backups in (a disk's or an Elastic SAN volume group's
    C(VaultStore), a PostgreSQL server's or a Cosmos DB account's C(OperationalStore), a PostgreSQL or MySQL flexible
    server's C(ArchiveStore)) is a violation that is not fixable, since Azure would refuse such a policy.
  - These limits are taken from Azure Backup's support matrices and are conservative.
  - On an immutable Recovery Services vault, Azure does not apply a retention increase while a protected item of the policy has
    its backups suspended (stop backup; Microsoft Learn, Immutable vault). When O(mode=enforce) would raise a policy of such a
    vault, the module reads the vault's protected items (one list, only then) and raises no policy that has such an item; its
    weak tiers are violations that are not fixable, naming the items, and nothing is sent for it, in check mode too (as the
    C(vaultlock.azure.harden_backup_vaults) role judges it). Resume their backups, or move them to another policy, first.
    O(mode=report) says the same of such a policy (not fixable by O(mode=enforce)), and reads the items once when an immutable
    Recovery Services vault has a violation O(mode=enforce) would otherwise fix.
  - O(compare_to) sends nothing to Azure; the module only reads the vault and its policies.
author: vaultlock.azure maintainers (@vaultlock)
'''

EXAMPLES = r'''
- name: Report policies that keep less than the baseline
  vaultlock.azure.backup_policy_retention:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    minimum: {daily: 30d, weekly: 12w, monthly: 12m, yearly: 1y}
  register: retention

- name: Report the weak policies of a Backup vault, vault store 30 days, operational store 7 days (Azure updates no Backup vault policy)
  vaultlock.azure.backup_policy_retention:
    id: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-prod
    minimum:
      default: {OperationalStore: 7d, VaultStore: 30d}
  register: backup_vault_retention

- name: Raise weak policies of a Recovery Services vault
  vaultlock.azure.backup_policy_retention:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    minimum: {daily: 30d, weekly: 12w}
    mode: enforce

- name: Raise the policies of a locked vault (a raised retention can never be lowered there again)
  vaultlock.azure.backup_policy_retention:
    name: rsv-locked-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    minimum: {daily: 30d}
    mode: enforce
    allow_irreversible: true

- name: Will Azure accept this policy change (daily retention 14 days)?
  vaultlock.azure.backup_policy_retention:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    policy: DailyPolicy
    compare_to:
      proposed:
        properties:
          backupManagementType: AzureIaasVM
          policyType: V1
          timeZone: UTC
          instantRpRetentionRangeInDays: 2
          schedulePolicy:
            schedulePolicyType: SimpleSchedulePolicy
            scheduleRunFrequency: Daily
            scheduleRunTimes: ["2026-01-01T02:00:00Z"]
          retentionPolicy:
            retentionPolicyType: LongTermRetentionPolicy
            dailySchedule:
              retentionTimes: ["2026-01-01T02:00:00Z"]
              retentionDuration: {count: 14, durationType: Days}
  register: proposal

- name: Stop before a change Azure would reject
  ansible.builtin.assert:
    that: not proposal.rejected_by_azure
    fail_msg: "{{ proposal.msg }}"
'''

RETURN = r'''
compliant:
  description: True when no violation remains (in check mode, when none would remain after enforcing).
  returned: when minimum is given
  type: bool
  sample: false
violations:
  description:
    - Violations that remain (in check mode, that would remain), each with the policy, tier, sub-policy, datastore, what it
      keeps and what is needed (ISO-8601; C(have) null when the policy has no such tier), C(fixable) (whether O(mode=enforce)
      can raise it; a missing tier, an unreadable value, a value above Azure's maximum or any tier of a Backup vault policy
      is not) and a C(reason) sentence.
    - With O(mode=enforce) only the violations that raising cannot fix remain.
  returned: when minimum is given
  type: list
  elements: dict
  sample: [{"policy": "DailyPolicy", "tier": "daily", "sub_policy": null, "datastore": null, "have": "P7D", "need": "P30D",
            "fixable": true, "reason": "daily retention keeps 7d, less than minimum.daily 30d"}]
changes:
  description:
    - Tiers raised (or that would be raised in check mode), each with its policy. Empty with O(mode=report), and always
      for a Backup vault (Azure updates no Backup vault policy).
    - C(irreversible) is true when the vault is locked and the tier is not operational (such a raise can never be undone);
      VM instant restore and workload snapshot tiers count as held (an unsourced, safe-side assumption).
    - When the task fails after some policies were raised, the ones that were are listed (and C(changed) is true).
  returned: always
  type: list
  elements: dict
  sample: [{"policy": "DailyPolicy", "tier": "daily", "sub_policy": null, "datastore": null, "before": "P7D", "after": "P30D",
            "irreversible": false}]
policies:
  description: Normalised records of the policies checked, after the task (predicted in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "DailyPolicy", "workload": "AzureIaasVM", "tiers": [{"tier": "daily", "duration": "P30D", "days": 30}]}]
reductions:
  description:
    - Tiers that the compared policy or proposal keeps for less time (C(after) null when it drops the tier).
    - C(operational) is true for an operational backup tier (Backup vault operational store, Azure Files snapshots),
      which immutability does not protect.
    - C(unsourced) is true for a VM instant restore or workload snapshot tier. No Microsoft source says whether an
      immutable vault holds it, and the collection predicts that it does (Azure may refuse the reduction).
  returned: when compare_to is given
  type: list
  elements: dict
  sample: [{"tier": "weekly", "sub_policy": null, "datastore": null, "before": "P12W", "after": "P4W", "operational": false,
            "unsourced": false}]
rejected_by_azure:
  description:
    - True when the vault is immutable and the comparison found reductions of tiers that are not operational, so Azure will
      refuse the change or the move (or may refuse it, when only unsourced tiers are reduced; the message then starts with
      C(Azure may refuse) and says the prediction is unsourced).
    - Reductions of operational tiers alone never make it true; the message says they are not protected by immutability.
    - Always true for a C(proposed) body on a Backup vault, since Azure does not update an existing Backup vault policy,
      whatever the body (RV(reductions) still lists what it would keep for less time).
  returned: when compare_to is given
  type: bool
  sample: true
immutability:
  description: The vault's immutability state (V(disabled), V(enabled), V(locked)).
  returned: always
  type: str
  sample: enabled
msg:
  description: A sentence summarising the outcome.
  returned: always
  type: str
  sample: 2 retention violations in 1 policy, 2 fixable
check_mode:
  description:
    - Whether the task ran in check mode (M(vaultlock.azure.harden_report) refuses a result of another check mode than its plan's).
    - The module returns it itself, on success and on failure, in process as through C(async), C(become) or a remote host;
      only a task whose arguments ansible-core's own checks refuse there (an unknown option, a wrong type) fails before the
      module runs, without it.
  returned: always
  type: bool
  sample: false
  version_added: 0.2.0
diff:
  description: Tiers of each changed policy before and after.
  returned: when diff mode is on and something changes
  type: dict
  sample: {"before": {"DailyPolicy": {"daily": "P7D"}}, "after": {"DailyPolicy": {"daily": "P30D"}}}
'''

from ansible_collections.vaultlock.azure.plugins.module_utils._module import VaultlockModule
from ansible_collections.vaultlock.azure.plugins.module_utils._state.retention import ARGUMENT_SPEC, CONSTRAINTS, run


def main():
    VaultlockModule(argument_spec=ARGUMENT_SPEC, **CONSTRAINTS).run(run)


if __name__ == '__main__':
    main()
