#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: backup_policy_retention_info
short_description: Backup policies of Azure Backup vaults with their retention normalised to tiers
version_added: 0.1.0
description:
  - Lists the backup policies of one or more Recovery Services vaults or Backup vaults and describes what each keeps,
    tier by tier (daily, weekly, monthly, yearly, default, instant, snapshot, log), with the exact duration and a
    conservative day count.
  - Recovery Services policies of every kind are understood (Azure VM V1 and Enhanced, SQL in Azure VM, SAP HANA, ASE,
    Azure SQL, Azure Files with snapshot and vault tiers, MAB); Backup vault policies by their retention rules and datastores.
    A policy of a kind the collection does not know is returned with RV(policies[].unknown=true) and no tiers, never an error.
extends_documentation_fragment:
  - vaultlock.azure.attributes.info
  - vaultlock.azure.attributes.local
  - vaultlock.azure.azure_auth
  - vaultlock.azure.vault_ref
options:
  vaults:
    description:
      - ARM ids of several vaults to read, instead of O(id) or O(name).
      - An empty list, or an empty entry, is refused before any request.
      - A vault listed twice (ARM ids compare case-insensitively) is read once, under its first spelling.
    type: list
    elements: str
  policies:
    description:
      - Only these policies (by name, case-insensitive). Default all policies of the vault.
      - A name one vault does not have fails the task when one vault is read, and is listed in RV(errors) when several are.
      - An empty list (a variable that came out empty, say), or an empty name, is refused before any request; leave the option
        out to mean every policy.
    type: list
    elements: str
author: vaultlock.azure maintainers (@vaultlock)
'''

EXAMPLES = r'''
- name: Retention of every policy of a vault, named by its ARM id
  vaultlock.azure.backup_policy_retention_info:
    id: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-backup-prod/providers/Microsoft.RecoveryServices/vaults/rsv-prod-01
  register: retention

- name: Policies whose daily tier keeps less than 30 days
  ansible.builtin.debug:
    msg: >-
      {{ retention.policies | selectattr('tiers', 'defined')
         | map(attribute='tiers') | flatten | selectattr('tier', 'equalto', 'daily')
         | selectattr('days', 'lt', 30) | list }}

- name: Several vaults at once
  vaultlock.azure.backup_policy_retention_info:
    vaults:
      - /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-a
      - /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/bv-b
'''

RETURN = r'''
policies:
  description: One record per policy.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Policy name.
      type: str
      returned: always
      sample: DefaultPolicy
    id:
      description: ARM id of the policy.
      type: str
      returned: always
      sample: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-a/backupPolicies/Daily
    vault:
      description: ARM id of the vault the policy belongs to.
      type: str
      returned: always
      sample: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-a
    vault_type:
      description: V(recovery_services) or V(backup).
      type: str
      returned: always
      sample: recovery_services
    workload:
      description: C(backupManagementType) for Recovery Services (C(AzureIaasVM), C(AzureWorkload), ...), the datasource types for Backup vaults.
      type: str
      returned: always
      sample: AzureIaasVM
    workload_type:
      description: C(workLoadType) of the policy (C(SQLDataBase), C(SAPHanaDatabase), C(AzureFileShare)), or null.
      type: str
      returned: always
      sample: SAPHanaDatabase
    policy_type:
      description: C(V1) or C(V2) (Enhanced) for Azure VM policies, otherwise null.
      type: str
      returned: always
      sample: V2
    tiers:
      description:
        - What the policy keeps. C(tier) is daily, weekly, monthly, yearly, default, instant, snapshot or log;
          C(sub_policy) the workload sub-policy (Full, Differential, Incremental, Log, SnapshotFull) or null;
          C(datastore) the Backup vault datastore (OperationalStore, VaultStore, ArchiveStore), Snapshot or VaultStandard
          for Azure Files, otherwise null; C(duration) ISO-8601; C(count) and C(unit) exact; C(days) the shortest it can be.
      type: list
      elements: dict
      returned: always
      sample: [{"tier": "daily", "sub_policy": null, "datastore": null, "duration": "P30D", "count": 30, "unit": "days", "days": 30}]
    unknown:
      description: True when the policy kind is not understood; it then has no tiers.
      type: bool
      returned: always
      sample: false
    unreadable:
      description: Retention values that could not be read, each with its tier and raw value.
      type: list
      elements: dict
      returned: always
      sample: []
    protected_items:
      description: Number of items protected with the policy, when Azure says (Recovery Services), else null.
      type: int
      returned: always
      sample: 4
errors:
  description:
    - When several vaults are asked for, the vaults whose policies could not be read, and the vaults that lack a policy named
      in O(policies); the task goes on with the other vaults. With one vault these fail the task instead.
  returned: always
  type: list
  elements: dict
  sample: [{"scope": "Recovery Services vault 'rsv-a' (resource group 'rg', subscription 11111111-1111-1111-1111-111111111111)",
            "operation": "list backup policies", "status": 404, "code": "ResourceNotFound", "message": "The Resource was not found."}]
'''

from ansible_collections.vaultlock.azure.plugins.module_utils._info.retention import ARGUMENT_SPEC, CONSTRAINTS, run
from ansible_collections.vaultlock.azure.plugins.module_utils._module import VaultlockModule


def main():
    VaultlockModule(argument_spec=ARGUMENT_SPEC, **CONSTRAINTS).run(run)


if __name__ == '__main__':
    main()
