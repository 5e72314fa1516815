#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: vault_immutability_info
short_description: Immutability, soft delete and policy retention of many Azure Backup vaults at once
version_added: 0.1.0
description:
  - Reads Recovery Services vaults and Backup vaults of one vault, a resource group, a subscription, several
    subscriptions, or every subscription the identity can see.
  - Reads a fleet through Azure Resource Graph by default (O(discovery=auto)), with a few queries for the vaults (and their
    policies) of every subscription instead of one ARM request per vault. A subscription Resource Graph cannot see, or
    every subscription when a query fails, is read from ARM instead, and RV(discovery) says which and why.
  - Through ARM (O(discovery=arm), or a fallback), one list call per subscription and vault kind (following C(nextLink)
    pages), and with O(include_policies) one policy list per vault, in parallel, never one GET per vault.
  - Every ARM request waits for Azure Resource Manager's tokens (a bucket of 250 reads per subscription and principal,
    refilled at 25 per second), learnt from the C(x-ms-ratelimit-remaining-subscription-*) headers, instead of
    provoking 429 answers. RV(discovery) says how long that took.
  - A vault named by O(id), or by O(name) with O(resource_group) and O(vault_type), is always read from ARM.
  - Resource Graph can lag ARM by minutes. The records are for reports and planning; every state module re-reads the
    vault (and policy) from ARM before it changes anything.
  - Each vault record has the same shape as RV(vaultlock.azure.vault_immutability#module:vault), so drift is plain comparison.
  - A scope that fails (a subscription the identity may not read, say) is reported in RV(errors) and does not hide
    the others. The task fails only when every scope failed, or when a single vault was asked for and could not be read.
  - A vault whose body the collection cannot read is reported in RV(errors) with its id and the field, and hides no other vault.
  - Listings follow C(nextLink) only to the Azure Resource Manager endpoint in use (never to another host, so the token never
    leaves), stop on a link already read and after 1000 pages, with an error.
extends_documentation_fragment:
  - vaultlock.azure.attributes.info
  - vaultlock.azure.attributes.local
  - vaultlock.azure.azure_auth
  - vaultlock.azure.scope
  - vaultlock.azure.scope.fleet
options:
  include_policies:
    description:
      - Add each vault's backup policies with their retention normalised to tiers (see
        M(vaultlock.azure.backup_policy_retention_info)). One list call per vault.
    type: bool
    default: false
  include_items:
    description:
      - Add each vault's protected items (Recovery Services protected items, Backup vault backup instances), each with the
        policy it uses, as C(protected_items). One list call per vault.
      - M(vaultlock.azure.vault_lock_readiness_info) and the C(vaultlock.azure.harden_backup_vaults) role read them to tell
        what locking a vault commits to.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - Each vault that reports multi-user authorization (Recovery Services C(securitySettings.multiUserAuthorization=Enabled),
    Backup vaults C(isVaultProtectedByResourceGuard=true)) costs one more ARM read, its Resource Guard proxy, paced and run in
    parallel like the other reads and counted in RV(discovery.arm); a vault that reports no guard costs none.
author: vaultlock.azure maintainers (@vaultlock)
'''

EXAMPLES = r'''
- name: Every vault of the subscription in use
  vaultlock.azure.vault_immutability_info:
  register: fleet

- name: Production vaults of two subscriptions (tag env=prod), each with its policies' retention
  vaultlock.azure.vault_immutability_info:
    subscription_ids: [11111111-1111-1111-1111-111111111111, 22222222-2222-2222-2222-222222222222]
    tags: {env: prod}
    include_policies: true
  register: fleet

- name: Every subscription the identity can see, Recovery Services vaults only
  vaultlock.azure.vault_immutability_info:
    subscription_ids: all
    vault_types: [recovery_services]
  register: fleet

- name: Every vault of two subscriptions through ARM only (no Resource Graph)
  vaultlock.azure.vault_immutability_info:
    subscription_ids: [11111111-1111-1111-1111-111111111111, 22222222-2222-2222-2222-222222222222]
    discovery: arm
  register: fleet

- name: Say where the data came from
  ansible.builtin.debug:
    msg: "{{ fleet.discovery.source_by_subscription }} as of {{ fleet.discovery.data_time }}"

- name: Vaults that are not immutable
  ansible.builtin.debug:
    msg: "{{ fleet.vaults | selectattr('immutability', 'equalto', 'disabled') | map(attribute='id') | list }}"
'''

RETURN = r'''
vaults:
  description:
    - One record per vault, sorted by id. Same shape as the C(vault) result of M(vaultlock.azure.vault_immutability).
    - C(mua) says whether a Resource Guard protects the vault (multi-user authorization, C(protected)), which one
      (C(resource_guard_id)) and which operations of the vault it protects (C(protected_operations), as the vault's
      C(resourceGuardOperationRequests) name them, such as C(disableSoftDeleteRequests) or C(updateProtectionPolicyRequests));
      such an operation needs O(auxiliary_tenant_ids) set to the Resource Guard's tenant.
    - Azure's vault reads do not name the guard or its operations (only that a guard protects the vault), so for each vault that
      reports a guard the module reads the vault's Resource Guard proxy (C(backupResourceGuardProxies)) and takes
      C(resource_guard_id) from its C(resourceGuardResourceId) and C(protected_operations) from its
      C(resourceGuardOperationDetails) (the request type of each C(defaultResourceRequest), in the proxy's order).
    - When that proxy could not be read (403, 404), the vault keeps C(resource_guard_id=null) and C(protected_operations=[])
      (still C(protected=true)), and a warning of the task names the vaults (the first 20, then a count) and Azure's answer;
      it is not in RV(errors).
    - A vault that names a Resource Guard but does not report multi-user authorization as enabled (Recovery Services
      C(multiUserAuthorization) absent, V(Disabled) or V(Invalid); Backup vaults C(isVaultProtectedByResourceGuard) absent or
      false), or reports a value outside the API's, has C(mua.state=unknown) and C(protected=false), so it is not counted as
      protected, and no run changes its guard or weakens a setting a guard could protect.
    - With O(include_policies), C(policies) (and C(policies_error=true) for a vault whose policies could not be read).
    - With O(include_items), C(protected_items), each item with C(id), C(name), C(vault), C(vault_type), C(friendly_name),
      C(datasource_type), C(datasource_id), C(policy), C(policy_id) and C(protection_state) (and C(protected_items_error=true)
      for a vault whose items could not be read).
  returned: always
  type: list
  elements: dict
  sample:
    - id: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-backup-prod/providers/Microsoft.RecoveryServices/vaults/rsv-prod-01
      name: rsv-prod-01
      resource_group: rg-backup-prod
      subscription_id: 11111111-1111-1111-1111-111111111111
      location: westeurope
      vault_type: recovery_services
      immutability: enabled
      immutability_retention_days: null
      soft_delete: {state: "on", retention_days: 14, enforced_by_azure: false}
      enhanced_security: "on"
      mua: {protected: false, resource_guard_id: null, protected_operations: []}
      tags: {env: prod}
      provisioning_state: Succeeded
      policies:
        - name: DefaultPolicy
          workload: AzureIaasVM
          tiers: [{tier: daily, sub_policy: null, datastore: null, duration: P30D, count: 30, unit: days, days: 30}]
      protected_items:
        - id: "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-backup-prod/providers/Microsoft.RecoveryServices/vaults/\
            rsv-prod-01/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg-app;vm-app-01/protectedItems/\
            VM;iaasvmcontainerv2;rg-app;vm-app-01"
          name: VM;iaasvmcontainerv2;rg-app;vm-app-01
          friendly_name: vm-app-01
          datasource_type: VM
          policy: DefaultPolicy
          protection_state: Protected
errors:
  description:
    - Scopes that could not be read, each with the operation and Azure's error. A subscription (or resource group) appears once
      when every vault kind failed the same way there, otherwise once per vault kind, with C(vault_type).
    - A vault whose body holds a value the collection cannot read (an unknown immutability state, a day count that is not a whole
      number, no C(properties)) is an error of its own, C(code=UnreadableVault), with the vault id as C(scope), the C(field), and
      C(vault) (what is known of it, with the C(policy_fields) the Azure Policy definitions read, since Azure Policy judges the vault
      all the same); every other vault is returned as usual.
  returned: always
  type: list
  elements: dict
  sample:
    - scope: subscription 22222222-2222-2222-2222-222222222222
      operation: list Recovery Services vaults
      status: 403
      code: AuthorizationFailed
      message: The client ... does not have authorization to perform action 'Microsoft.RecoveryServices/vaults/read' ...
    - scope: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-odd
      operation: read vault
      status: null
      code: UnreadableVault
      field: properties.securitySettings.immutabilitySettings.state
      message: "... Azure returned 'Frozen' for properties.securitySettings.immutabilitySettings.state, which this collection cannot read ..."
subscriptions:
  description: The subscriptions that were read.
  returned: always
  type: list
  elements: str
  sample: [11111111-1111-1111-1111-111111111111]
discovery:
  description:
    - Where the vaults came from, and what reading them cost.
  returned: always
  type: dict
  version_added: 0.2.0
  contains:
    requested:
      description: The O(discovery) asked for (V(arm) for a vault named by id or name).
      type: str
      returned: always
      sample: auto
    source_by_subscription:
      description: V(resource_graph) or V(arm) for each subscription read.
      type: dict
      returned: always
      sample: {11111111-1111-1111-1111-111111111111: resource_graph, 22222222-2222-2222-2222-222222222222: arm}
    fallbacks:
      description: The subscriptions read from ARM although Resource Graph was asked first (O(discovery=auto)), and why.
      type: list
      elements: dict
      returned: always
      sample:
        - subscription_id: 22222222-2222-2222-2222-222222222222
          reason: Resource Graph cannot read this subscription (no access, or access not yet propagated)
    data_time:
      description:
        - When the reads began (UTC). Resource Graph's data can be older than this (it can lag ARM by minutes).
      type: str
      returned: always
      sample: '2026-11-26T11:29:04Z'
    resource_graph:
      description:
        - Resource Graph requests sent (C(calls)), answered 429 (C(throttled)), and the seconds waited for its quota (C(waited_s)).
        - C(requeried) lists each query whose pages did not make one answer (a row twice, fewer or more rows than its
          C(totalRecords), pages that disagree; Resource Graph's index changed while it was paged), with C(query) (vaults,
          policies or protected_items), C(subscriptions) (how many it spanned), C(attempt), C(code), C(reason) and C(outcome)
          (V(asked again), or V(not settled) after the second answer, when those subscriptions are read from ARM and listed
          in RV(discovery.fallbacks), or with O(discovery=resource_graph) are errors).
      type: dict
      returned: always
      sample: {calls: 3, throttled: 0, waited_s: 0.0, requeried: []}
    arm:
      description:
        - ARM requests of the task (C(requests)), the seconds they waited for Azure Resource Manager's tokens (C(waited_s)), and
          429 answers received (C(throttled)).
      type: dict
      returned: always
      sample: {requests: 1, waited_s: 0.0, throttled: 0}
    elapsed_s:
      description: Seconds the reads took, waits included.
      type: float
      returned: always
      sample: 2.41
'''

from ansible_collections.vaultlock.azure.plugins.module_utils._info.immutability import ARGUMENT_SPEC, CONSTRAINTS, run
from ansible_collections.vaultlock.azure.plugins.module_utils._module import VaultlockModule


def main():
    VaultlockModule(argument_spec=ARGUMENT_SPEC, **CONSTRAINTS).run(run)


if __name__ == '__main__':
    main()
