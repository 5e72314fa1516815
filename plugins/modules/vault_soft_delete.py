#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: vault_soft_delete
short_description: Read and set soft delete of an Azure Recovery Services vault or Backup vault
version_added: 0.1.0
description:
  - Brings one vault's soft delete to V(off), V(on) or V(always_on), with a retention of 14 to 180 days, idempotently.
  - While soft delete is on, deleted backup data is kept (recoverable) for the retention days before Azure purges it.
  - V(always_on) is irreversible. It needs O(allow_irreversible=true); leaving V(always_on) is refused before any request.
  - Consent is task-scoped. O(allow_irreversible) counts only when it is written in the task itself; from C(module_defaults) it
    is ignored (with a warning), V(always_on) from C(module_defaults) is refused before any request, and a task that consents
    must give O(soft_delete) and O(retention_days) itself when it uses them.
  - On a Recovery Services vault whose enhanced security is V(always_on) while soft delete is V(on), the two cannot be written
    together at V(on) any more, so changing O(retention_days) without V(always_on) is refused before any request.
  - Recovery Services vaults are written through the backup resource vault config API
    (C(Microsoft.RecoveryServices/vaults/{vault}/backupconfig/vaultconfig)), because a vault PATCH is reported to answer
    success and leave soft delete unchanged. Its C(softDeleteFeatureState), C(enhancedSecurityState) (soft delete and security
    for hybrid workloads) and C(softDeleteRetentionPeriodInDays) are sent together.
    When Azure answers C(BMSUserErrorSoftDeleteUseVaultApi) (soft delete of that vault was set through the vault API,
    so only the vault API may change it), the module sends a vault PATCH of C(securitySettings.softDeleteSettings) instead.
  - Backup vaults are written with a PATCH of only C(securitySettings.softDeleteSettings) (C(state), C(retentionDurationInDays)).
  - After a write the vault is read again; a change Azure accepted but did not apply fails the task instead of being reported as done.
  - See C(docs/soft-delete.md) in the collection for the sources behind these choices.
extends_documentation_fragment:
  - vaultlock.azure.attributes.state
  - vaultlock.azure.attributes.local
  - vaultlock.azure.azure_auth
  - vaultlock.azure.vault_ref
requirements:
  - azure-mgmt-recoveryservices >= 4.3.0 (writes to Recovery Services vaults)
  - azure-mgmt-recoveryservicesbackup >= 11.2.0 (the Recovery Services backup vault config)
  - azure-mgmt-dataprotection >= 2.2.0 (writes to Backup vaults)
options:
  soft_delete:
    description:
      - The state wanted. V(on) can be turned off again; V(always_on) never can.
      - On Recovery Services vaults the state applies to cloud workloads and to hybrid workloads (enhanced security) alike.
      - Leave out to keep the state (and, with O(retention_days), change only the retention), or to only read the vault.
    type: str
    choices: ['off', 'on', always_on]
  retention_days:
    description:
      - Days deleted backup data is kept, 14 to 180.
      - Left out, the vault keeps its retention (14 days when soft delete is turned on and Azure reports none, or reports days
        outside 14 to 180 for a vault whose soft delete is off, such as the 0 days of a Backup vault's Resource Graph row).
      - Required to turn soft delete on for a vault that reports no soft delete state (C(softDeleteSettings) absent, null or
        C(Invalid), as Azure answers while a vault is created); what it keeps is not known, so no number of days is guessed.
      - Cannot be combined with soft delete V(off).
    type: int
  allow_irreversible:
    description:
      - Consent to set soft delete to V(always_on). Without it a request for V(always_on) fails before any write, in check mode too.
      - Counts only when written in the task itself, never from C(module_defaults).
    type: bool
    default: false
notes:
  - Turning soft delete off (or down) on a vault protected by multi-user authorization is a critical operation that the
    Resource Guard may deny; the module reports Azure's answer. RV(vault.mua) shows whether a vault is protected.
  - Such a request carries the Resource Guard's operation request id for it, read from the vault's Resource Guard proxy
    (C(backupResourceGuardProxies)) as Azure CLI and Azure PowerShell read it (one more read, in check mode too, and only
    for a vault that reports a guard); Azure refuses the request without it. The guard's tenant still has to authorize it
    (O(auxiliary_tenant_ids)).
  - Secure by default. Azure enforces soft delete in some regions and refuses to turn it off (Microsoft Learn,
    secure-by-default). For Backup vaults in Australia East, West Central US and East Asia (general availability there)
    C(enforced_by_azure) in RV(vault.soft_delete) is true and V(off) is refused before any request. Recovery Services vaults
    where it is generally available show V(always_on). A vault Azure still enforces in preview is recognised by Azure's
    refusal (C(BMSUserErrorDisablingSoftDeleteStateNotAllowed)); the task then fails with that explanation and the module
    does not try another API.
seealso:
  - module: vaultlock.azure.vault_immutability
  - module: vaultlock.azure.vault_immutability_info
  - name: Soft delete for Azure Backup
    description: Microsoft's overview of soft delete and always-on soft delete.
    link: https://learn.microsoft.com/azure/backup/backup-azure-enhanced-soft-delete-about
author: vaultlock.azure maintainers (@vaultlock)
'''

EXAMPLES = r'''
- name: Soft delete on, 30 days, on a Recovery Services vault
  vaultlock.azure.vault_soft_delete:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    soft_delete: "on"
    retention_days: 30

- name: Always-on soft delete on a Backup vault (irreversible)
  vaultlock.azure.vault_soft_delete:
    id: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-prod
    soft_delete: always_on
    allow_irreversible: true

- name: Only raise the retention, keep the state
  vaultlock.azure.vault_soft_delete:
    name: bv-prod
    resource_group: rg-backup
    vault_type: backup
    retention_days: 60

- name: Read soft delete and multi-user authorization of a vault
  vaultlock.azure.vault_soft_delete:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
  register: rsv
'''

RETURN = r'''
vault:
  description:
    - The vault after the task (in check mode, the predicted state), the same record as
      RV(vaultlock.azure.vault_immutability#module:vault) (id, name, resource group, subscription, location, kind, immutability, tags).
    - The keys below are the ones this module manages or that decide what it may do.
  returned: always
  type: dict
  contains:
    soft_delete:
      description:
        - C(state) (V(off), V(on), V(always_on)) and C(retention_days), as Azure reports them after the task.
        - C(enforced_by_azure) is true in regions where secure by default keeps soft delete on (V(off) is refused there).
      type: dict
      returned: always
      sample: {"state": "on", "retention_days": 30, "enforced_by_azure": false}
    enhanced_security:
      description:
        - Recovery Services vaults only (null for Backup vaults), C(enhancedSecurityState) in the collection's words. It covers
          soft delete and security for hybrid workloads and is written together with O(soft_delete). An V(always_on) value
          can never be lowered.
      type: str
      returned: always
      sample: always_on
    mua:
      description:
        - Multi-user authorization. C(protected) is true when a Resource Guard must approve weakening soft delete, and
          C(resource_guard_id) names the guard when the vault's body does (Azure's vault reads do not name it, so it is then
          null; M(vaultlock.azure.vault_immutability_info) names it, read from the vault's Resource Guard proxy).
      type: dict
      returned: always
      sample:
        protected: true
        resource_guard_id: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-guard/providers/Microsoft.DataProtection/resourceGuards/g1
changes:
  description:
    - Each setting changed (or that would change in check mode).
    - C(enhanced_security) is the Recovery Services setting for hybrid workloads (C(enhancedSecurityState)), moved together with the state.
    - C(irreversible) is true for a change to V(always_on).
    - When the write fails after Azure applied part of it, the task fails with C(changed=true) and lists what a fresh read confirms.
  returned: always
  type: list
  elements: dict
  sample: [{"setting": "soft_delete", "before": "off", "after": "on", "irreversible": false},
           {"setting": "soft_delete_retention_days", "before": 14, "after": 30, "irreversible": false}]
api:
  description:
    - The API that wrote the change, V(vault_config) (Recovery Services backup resource vault config) or V(vault) (a vault PATCH).
    - Null when nothing was written (no change, or check mode).
  returned: always
  type: str
  sample: vault_config
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
  description: Soft delete settings before and after, with C(--diff).
  returned: when diff mode is on
  type: dict
  sample: {"before": {"soft_delete": "off", "retention_days": 14}, "after": {"soft_delete": "on", "retention_days": 30}}
'''

from ansible_collections.vaultlock.azure.plugins.module_utils._module import VaultlockModule
from ansible_collections.vaultlock.azure.plugins.module_utils._state.soft_delete import ARGUMENT_SPEC, CONSTRAINTS, run


def main():
    VaultlockModule(argument_spec=ARGUMENT_SPEC, **CONSTRAINTS).run(run)


if __name__ == '__main__':
    main()
