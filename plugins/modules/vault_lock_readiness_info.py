#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: vault_lock_readiness_info
short_description: What locking Azure Backup vaults commits to, and whether they are ready for it
version_added: 0.2.0
description:
  - Locking a vault's immutability can never be undone. This module tells, before anyone locks, what a lock commits to
    for each vault, in words a reviewer can sign, and whether the vault meets O(requirements).
  - Reads Recovery Services vaults and Backup vaults of one vault, a resource group, a subscription, several subscriptions,
    or every subscription the identity can see (the scopes of M(vaultlock.azure.vault_immutability_info)), each with its
    backup policies and its protected items (Recovery Services protected items, Backup vault backup instances). It only
    reads, through Azure Resource Graph (a few queries for the whole fleet) or, with O(discovery=arm) and where Resource
    Graph cannot see a subscription, with one list call per subscription and vault kind, then one policy list and one item
    list per vault.
  - "For each vault: its protected items (how many, by datasource type, each with its policy); per policy in use the longest
    retention of each tier, and whether immutability protects that tier (operational tiers, Backup vault
    C(OperationalStore) and Azure Files snapshots, are not protected; VM instant restore and workload snapshot tiers count
    as protected, an unsourced safe-side assumption marked C(protection_unsourced)); RV(vaults[].held_until);
    the commitments; RV(vaults[].ready) and RV(vaults[].blockers)."
  - "Once a vault is locked, Azure refuses for as long as the vault exists (Microsoft Learn, Immutable vault for Azure Backup,
    restricted operations): stop protection with delete data (both kinds), and on Recovery Services vaults also a policy
    change that keeps less and moving an item to a policy that keeps less."
  - RV(vaults[].held_until) is today plus the longest retention on a protected tier of any policy in use, by the calendar (a
    month from 31 January is the last day of February, a year from 29 February is 28 February). It is the day the newest
    recovery point taken today can be deleted at the earliest. Each backup taken later moves it on.
  - A scope that fails is reported in RV(errors) and hides no other vault; a vault whose policies or items could not be read
    is not ready (blocker C(readable)). The task fails only when every scope failed, or a single vault was asked for and could
    not be read.
extends_documentation_fragment:
  - vaultlock.azure.attributes.info
  - vaultlock.azure.attributes.local
  - vaultlock.azure.azure_auth
  - vaultlock.azure.scope
  - vaultlock.azure.scope.fleet
options:
  requirements:
    description:
      - What a vault must meet to be ready to lock. Each failing requirement is a blocker, with the value found.
      - Unset keys take their defaults, with which an ordinary vault (soft delete on, policies and items readable) is ready.
      - The C(vaultlock.azure.harden_backup_vaults) role takes the same keys in C(harden_backup_vaults_lock_requirements).
    type: dict
    default: {}
    suboptions:
      max_retention:
        description:
          - A duration (V(30d), V(12w), V(12m), V(10y), or ISO-8601 such as V(P10Y), V(P1Y6M)). No policy in use may keep
            recovery points longer on a tier immutability protects, since locking commits their storage for that long.
          - Compared by the calendar from today, so V(3650d) blocks a policy that keeps 10 years (10 years are at least 3652 days).
          - Null is no limit. At most 100 years (Azure keeps nothing longer than 99 years).
        type: str
      require_soft_delete:
        description:
          - V(on) (soft delete on or always on) or V(always_on). Null (or V(false)) is no requirement.
          - An unquoted YAML C(on) is the boolean true, which is read as V(on).
        type: raw
        default: 'on'
      require_mua:
        description:
          - The vault must be protected by multi-user authorization (MUA), that is associated with a Resource Guard, so that
            critical operations (disabling soft delete, removing MUA, and those the guard does not exclude) need a second
            person's approval.
          - "Recovery Services vault: C(properties.securitySettings.multiUserAuthorization) is C(Enabled) (read-only;
            azure-rest-api-specs, Microsoft.RecoveryServices stable 2026-11-01, C(MultiUserAuthorization): Invalid, Enabled,
            Disabled). Backup vault: C(properties.isVaultProtectedByResourceGuard) is true, or the vault lists
            C(properties.resourceGuardOperationRequests) of a C(Microsoft.DataProtection/resourceGuards) guard."
        type: bool
        default: false
      no_unfixable_findings:
        description:
          - The vault has no drift finding that a C(vaultlock.azure.harden_backup_vaults) run cannot fix. The role evaluates it
            against its baseline; this module has no baseline, so it lists the requirement in RV(vaults[].not_evaluated).
        type: bool
        default: true
notes:
  - Dates are UTC days. Time-based immutability (Recovery Services C(immutabilitySettings.configuration) C(TimeBased)) is
    shown as RV(vaults[].immutability_days) and RV(vaults[].immutable_until).
seealso:
  - module: vaultlock.azure.vault_immutability
  - module: vaultlock.azure.vault_immutability_info
  - name: Immutable vault for Azure Backup (restricted operations)
    description: What an immutable vault refuses.
    link: https://learn.microsoft.com/azure/backup/backup-azure-immutable-vault-concept
  - name: Multi-user authorization using Resource Guard
    description: The critical operations a Resource Guard protects, for both vault kinds.
    link: https://learn.microsoft.com/azure/backup/multi-user-authorization-concept
author: vaultlock.azure maintainers (@vaultlock)
'''

EXAMPLES = r'''
- name: What locking each vault of the subscription in use would commit to
  vaultlock.azure.vault_lock_readiness_info:
  register: readiness

- name: Production vaults of two subscriptions, held to at most 10 years of retention, with multi-user authorization
  vaultlock.azure.vault_lock_readiness_info:
    subscription_ids: [11111111-1111-1111-1111-111111111111, 22222222-2222-2222-2222-222222222222]
    tags: {env: prod}
    requirements:
      max_retention: 10y
      require_soft_delete: always_on
      require_mua: true
  register: readiness

- name: One vault, for a sign-off
  vaultlock.azure.vault_lock_readiness_info:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
  register: one

- name: The commitments of that vault, as a reviewer reads them
  ansible.builtin.debug:
    msg: "{{ one.vaults[0].commitments }}"

- name: Vaults that are not ready, with their blockers
  ansible.builtin.debug:
    msg: "{{ readiness.vaults | rejectattr('ready') | items2dict(key_name='name', value_name='blockers') }}"
'''

RETURN = r'''
vaults:
  description: One readiness record per vault, sorted by id.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      returned: always
      description: ARM id of the vault.
      type: str
      sample: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-backup-prod/providers/Microsoft.RecoveryServices/vaults/rsv-prod-01
    name:
      returned: always
      description: Vault name.
      type: str
      sample: rsv-prod-01
    vault_type:
      returned: always
      description: V(recovery_services) or V(backup).
      type: str
      sample: recovery_services
    subscription_id:
      returned: always
      description: Subscription of the vault.
      type: str
      sample: 11111111-1111-1111-1111-111111111111
    resource_group:
      returned: always
      description: Resource group of the vault.
      type: str
      sample: rg-backup-prod
    immutability:
      returned: always
      description: The vault's immutability now (V(disabled), V(enabled), V(locked)).
      type: str
      sample: enabled
    locked:
      returned: always
      description: The vault is locked already; its commitments hold now.
      type: bool
      sample: false
    as_of:
      returned: always
      description: The day (UTC) the dates count from.
      type: str
      sample: '2026-03-02'
    ready:
      returned: always
      description: True when no requirement fails and everything needed to judge it could be read.
      type: bool
      sample: false
    blockers:
      returned: always
      description:
        - Each failing requirement, with what it wants and the value found, and a sentence.
        - C(requirement) is a key of O(requirements), or C(readable) when the vault's policies or items could not be read,
          an item's policy is not among the vault's policies, or a policy's retention cannot be read.
      type: list
      elements: dict
      sample:
        - requirement: max_retention
          want: P5Y
          found: P10Y
          message: "max_retention P5Y: policy VMDaily keeps its yearly tier P10Y (held until 2036-03-02, later than 2031-03-02)"
    not_evaluated:
      returned: always
      description: Requirements that could not be evaluated here, each with C(requirement) and C(reason).
      type: list
      elements: dict
      sample: [{requirement: no_unfixable_findings, reason: no drift findings were given (the harden_backup_vaults role gives them)}]
    requirements:
      returned: always
      description: O(requirements) as applied, every key present (V(max_retention) ISO-8601).
      type: dict
      sample: {max_retention: P10Y, require_soft_delete: 'on', require_mua: false, no_unfixable_findings: true}
    protected_items:
      returned: always
      description:
        - C(count), C(by_datasource_type) (datasource type to count) and C(items), each with C(name), C(friendly_name),
          C(datasource_type), C(policy), C(protection_state) and C(held_until) (null for an item without a policy, or on a
          policy whose tiers are all operational).
        - Datasource types are the Recovery Services C(workloadType) (C(VM), C(SQLDataBase), C(SAPHanaDatabase),
          C(AzureFileShare)...) and the Backup vault C(dataSourceInfo.datasourceType) (C(Microsoft.Compute/disks)...).
      type: dict
      sample:
        count: 2
        by_datasource_type: {SQLDataBase: 1, VM: 1}
        items:
          - {name: "VM;iaasvmcontainerv2;rg-app;vm-app-01", friendly_name: vm-app-01, datasource_type: VM, policy: VMDaily,
             protection_state: Protected, held_until: '2036-03-02'}
    policies:
      returned: always
      description:
        - The policies in use (those of the vault's items), each with C(name), C(workload), C(items) (how many use it),
          C(held_until) (its longest protected tier from today, null when immutability protects none of its tiers) and
          C(tiers).
        - Each tier is the longest retention of that tier (and datastore) in the policy, with C(tier), C(datastore),
          C(duration) (ISO-8601), C(held_until), C(protected_by_immutability) and C(protection_unsourced) (true when
          C(protected_by_immutability) is an assumption, for VM instant restore and workload snapshot tiers).
      type: list
      elements: dict
      sample:
        - name: VMDaily
          workload: AzureIaasVM
          items: 1
          held_until: '2036-03-02'
          tiers:
            - {tier: yearly, datastore: null, duration: P10Y, held_until: '2036-03-02', protected_by_immutability: true,
               protection_unsourced: false}
            - {tier: daily, datastore: null, duration: P30D, held_until: '2026-04-01', protected_by_immutability: true,
               protection_unsourced: false}
            - {tier: instant, datastore: null, duration: P2D, held_until: '2026-03-04', protected_by_immutability: true,
               protection_unsourced: true}
    held_until:
      returned: always
      description:
        - Today plus the longest protected retention of any policy in use (ISO-8601 date), or null when no item is held.
        - Once locked, the newest recovery points cannot be deleted before this day, and each later backup moves it on.
      type: str
      sample: '2036-03-02'
    held_by:
      returned: always
      description: The policy, tier, datastore and duration that give RV(vaults[].held_until), or null.
      type: dict
      sample: {policy: VMDaily, tier: yearly, datastore: null, duration: P10Y}
    immutability_days:
      returned: always
      description: Time-based immutability days of a Recovery Services vault (C(configuration.durationInDays)), else null.
      type: int
      sample: 90
    immutable_until:
      returned: always
      description: Today plus RV(vaults[].immutability_days), else null.
      type: str
      sample: '2026-05-31'
    commitments:
      returned: always
      description: What Azure refuses for as long as the vault exists once it is locked, one sentence each, for a sign-off.
      type: list
      elements: str
      sample:
        - immutability can never be disabled again
        - stop protection with delete data impossible for 2 items until 2036-03-02
        - retention of policies SQLDaily and VMDaily can never be reduced
        - items can never move to a policy that keeps less
summary:
  description: How many vaults were judged, are ready, and are not.
  returned: always
  type: dict
  sample: {vaults: 3, ready: 2, not_ready: 1}
requirements:
  description: O(requirements) as applied, every key present.
  returned: always
  type: dict
  sample: {max_retention: null, require_soft_delete: 'on', require_mua: false, no_unfixable_findings: true}
discovery:
  description:
    - Where the vaults came from, and what reading them cost, as RV(vaultlock.azure.vault_immutability_info#module:discovery)
      (the same record, with C(requested), C(source_by_subscription), C(fallbacks), C(data_time), C(resource_graph),
      C(arm) and C(elapsed_s)).
  returned: always
  type: dict
  version_added: 0.2.0
  sample:
    requested: auto
    source_by_subscription: {11111111-1111-1111-1111-111111111111: resource_graph}
    fallbacks: []
    data_time: '2026-11-26T11:29:04Z'
    resource_graph: {calls: 3, throttled: 0, waited_s: 0.0, requeried: []}
    arm: {requests: 4, waited_s: 0.0, throttled: 0}
    elapsed_s: 2.41
errors:
  description:
    - Scopes, vaults, policy lists and item lists that could not be read, each with the operation and Azure's error (as
      RV(vaultlock.azure.vault_immutability_info#module:errors)).
  returned: always
  type: list
  elements: dict
  sample:
    - scope: Recovery Services vault 'rsv-prod-01'
      operation: list protected items
      status: 403
      code: AuthorizationFailed
      message: The client ... does not have authorization to perform action ...
subscriptions:
  description: The subscriptions that were read.
  returned: always
  type: list
  elements: str
  sample: [11111111-1111-1111-1111-111111111111]
'''

from ansible_collections.vaultlock.azure.plugins.module_utils._info.readiness import ARGUMENT_SPEC, CONSTRAINTS, run
from ansible_collections.vaultlock.azure.plugins.module_utils._module import VaultlockModule


def main():
    VaultlockModule(argument_spec=ARGUMENT_SPEC, **CONSTRAINTS).run(run)


if __name__ == '__main__':
    main()
