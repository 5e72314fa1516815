#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: vault_immutability
short_description: Read and set the immutability of an Azure Recovery Services vault or Backup vault
version_added: 0.1.0
description:
  - Brings one vault's immutable vault setting to V(disabled), V(enabled) or V(locked), idempotently.
  - While a vault is immutable (enabled or locked) Azure refuses to delete recovery points before they expire,
    to stop protection with delete data, and to reduce backup policy retention.
  - V(locked) is irreversible. It needs O(allow_irreversible=true); leaving V(locked) is refused before any request.
  - On a locked vault, setting or changing O(immutability_retention_days) is irreversible too (the days can never be
    shortened or removed again) and needs O(allow_irreversible=true) as well.
  - Consent is task-scoped. O(allow_irreversible) counts only when it is written in the task itself; a value from
    C(module_defaults) is ignored (with a warning), V(locked) from C(module_defaults) is refused before any request, and
    a task that consents must give O(immutability) and O(immutability_retention_days) itself when it uses them. An
    action plugin compares the task's own arguments with the ones C(module_defaults) adds.
  - A vault goes V(disabled) to V(enabled) to V(locked) in two requests, as Azure requires; both steps are reported in RV(changes).
  - Only the immutability settings are written, with a PATCH; other vault settings are never sent.
extends_documentation_fragment:
  - vaultlock.azure.attributes.state
  - vaultlock.azure.attributes.local
  - vaultlock.azure.azure_auth
  - vaultlock.azure.vault_ref
requirements:
  - azure-mgmt-recoveryservices >= 4.3.0 (writes to Recovery Services vaults)
  - azure-mgmt-dataprotection >= 2.2.0 (writes to Backup vaults)
options:
  immutability:
    description:
      - The state wanted. V(enabled) (alias V(unlocked), the API's word) can be turned off again; V(locked) never can.
      - Leave out to only read the vault.
    type: str
    choices: [disabled, enabled, unlocked, locked]
  immutability_retention_days:
    description:
      - Recovery Services vaults only (api-version 2026-11-01). Time-based immutability that keeps recovery points
        immutable for this many days (30 to 36135) instead of as long as the policy keeps them.
      - Left out, the configuration is not managed.
      - Only for a vault that is or becomes V(enabled) or V(locked); with immutability V(disabled) it fails before any request.
    type: int
  allow_irreversible:
    description:
      - Consent to lock immutability, and to change O(immutability_retention_days) of a locked vault. Without it such a
        request fails before any write, in check mode too.
      - Counts only when written in the task itself, never from C(module_defaults).
    type: bool
    default: false
notes:
  - Turning immutability off on a vault protected by multi-user authorization is a critical operation that the
    Resource Guard may deny; the module reports Azure's answer.
  - Such a request carries the Resource Guard's operation request id for it, read from the vault's Resource Guard proxy
    (C(backupResourceGuardProxies)) as Azure CLI and Azure PowerShell read it (one more read, in check mode too, and only
    for a vault that reports a guard); Azure refuses the request without it. The guard's tenant still has to authorize it
    (O(auxiliary_tenant_ids)).
seealso:
  - module: vaultlock.azure.vault_immutability_info
  - name: Immutable vault for Azure Backup
    description: Microsoft's concept page on immutable vaults.
    link: https://learn.microsoft.com/azure/backup/backup-azure-immutable-vault-concept
author: vaultlock.azure maintainers (@vaultlock)
'''

EXAMPLES = r'''
- name: Enable immutability on a Recovery Services vault
  vaultlock.azure.vault_immutability:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    immutability: enabled

- name: Lock a Backup vault (irreversible)
  vaultlock.azure.vault_immutability:
    id: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-prod
    immutability: locked
    allow_irreversible: true

- name: Time-based immutability of 90 days on a Recovery Services vault
  vaultlock.azure.vault_immutability:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    immutability: enabled
    immutability_retention_days: 90

- name: Authenticate once for every task of the collection
  module_defaults:
    group/vaultlock.azure.all:
      auth_source: env
      subscription_id: "{{ lookup('ansible.builtin.env', 'AZURE_SUBSCRIPTION_ID') }}"
  block:
    - name: Read the state only
      vaultlock.azure.vault_immutability:
        name: rsv-prod-01
        resource_group: rg-backup-prod
        vault_type: recovery_services
      register: rsv
'''

RETURN = r'''
vault:
  description: The vault after the task (in check mode, the predicted state).
  returned: always
  type: dict
  contains:
    id:
      description: ARM id of the vault, as Azure returns it.
      type: str
      returned: always
      sample: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-backup-prod/providers/Microsoft.RecoveryServices/vaults/rsv-prod-01
    name:
      description: Vault name.
      type: str
      returned: always
      sample: rsv-prod-01
    resource_group:
      description: Resource group.
      type: str
      returned: always
      sample: rg-backup-prod
    subscription_id:
      description: Subscription id.
      type: str
      returned: always
      sample: 11111111-1111-1111-1111-111111111111
    location:
      description: Azure region.
      type: str
      returned: always
      sample: westeurope
    vault_type:
      description: V(recovery_services) or V(backup).
      type: str
      returned: always
      sample: recovery_services
    immutability:
      description: V(disabled), V(enabled) or V(locked). A vault that never had the setting reports V(disabled).
      type: str
      returned: always
      sample: enabled
    immutability_retention_days:
      description: Days of time-based immutability (Recovery Services), or null when immutability follows the policies.
      type: int
      returned: always
      sample: 90
    soft_delete:
      description:
        - Soft delete state (V(off), V(on), V(always_on)) and retention days.
        - C(enforced_by_azure) is true where Azure enforces soft delete (secure by default) and refuses to turn it off.
      type: dict
      returned: always
      sample: {"state": "on", "retention_days": 14, "enforced_by_azure": false}
    enhanced_security:
      description:
        - Recovery Services vaults, the enhanced security state (soft delete and security for hybrid workloads,
          C(enhancedSecurityState)) as V(off), V(on) or V(always_on); null for Backup vaults.
        - It moves together with O(vaultlock.azure.vault_soft_delete#module:soft_delete), and an V(always_on) one can never be lowered.
      type: str
      returned: always
      sample: "on"
    mua:
      description:
        - Whether multi-user authorization protects the vault, and the Resource Guard where visible.
        - C(state=unknown) (with C(protected=false)) when the vault names a Resource Guard but does not report the protection.
      type: dict
      returned: always
      sample: {"protected": false, "resource_guard_id": null}
    tags:
      description: Resource tags.
      type: dict
      returned: always
      sample: {"env": "prod"}
    provisioning_state:
      description: Azure's provisioning state.
      type: str
      returned: always
      sample: Succeeded
    policy_fields:
      description:
        - What the vault-level Azure Backup built-in Azure Policy definitions read of the vault's ARM body, for the
          C(azure_policy) section of the role's reports; C(type) and each property path the definitions' aliases name that the
          body has. A field of array members (C(properties.privateEndpointConnections[*].id)) is a list with one value per member.
      type: dict
      returned: always
      version_added: 0.2.0
      sample: {"type": "Microsoft.RecoveryServices/vaults", "properties.publicNetworkAccess": "Enabled",
               "properties.securitySettings.immutabilitySettings.state": "Unlocked"}
changes:
  description:
    - Each write sent (or that would be sent in check mode), in order, with the setting it changed; C(irreversible) is true
      for a change that can never be undone (locking; time-based days of a locked vault).
    - If someone else changes the vault between two steps, every write actually sent is listed.
    - When a step fails after others were accepted, the task fails with C(changed=true) and lists the changes a fresh
      read of the vault confirms.
  returned: always
  type: list
  elements: dict
  sample: [{"setting": "immutability", "before": "disabled", "after": "enabled", "irreversible": false},
           {"setting": "immutability", "before": "enabled", "after": "locked", "irreversible": true}]
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
  description: Immutability settings before and after, with C(--diff); C(after_header) says IRREVERSIBLE and which settings.
  returned: when diff mode is on
  type: dict
  sample: {"before": {"immutability": "disabled"}, "after": {"immutability": "enabled"}}
'''

from ansible_collections.vaultlock.azure.plugins.module_utils._module import VaultlockModule
from ansible_collections.vaultlock.azure.plugins.module_utils._state.immutability import ARGUMENT_SPEC, CONSTRAINTS, run


def main():
    VaultlockModule(argument_spec=ARGUMENT_SPEC, **CONSTRAINTS).run(run)


if __name__ == '__main__':
    main()
