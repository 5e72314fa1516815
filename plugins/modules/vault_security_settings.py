#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: vault_security_settings
short_description: Read and set cross subscription restore, public network access, alerts and Resource Guard of a backup vault
version_added: 0.2.0
description:
  - Brings one Recovery Services vault's or Backup vault's cross subscription restore, public network access and alert
    settings to what the task asks, idempotently, with one vault PATCH of only the properties that change.
  - An option left out is not managed. With no option the module only reads the vault.
  - Cross subscription restore V(permanently_disabled) is irreversible (Azure never enables it again). It needs
    O(allow_irreversible=true) written in the task itself; leaving V(permanently_disabled) is refused before any request.
    V(disabled) is met by a vault that is V(permanently_disabled).
  - Consent is task-scoped. O(allow_irreversible) counts only when it is written in the task itself; from C(module_defaults) it
    is ignored (with a warning), V(permanently_disabled) from C(module_defaults) is refused before any request, and a task
    that consents must give O(cross_subscription_restore), O(public_network_access) and O(alerts) itself when it uses them.
  - On Recovery Services vaults it writes C(restoreSettings.crossSubscriptionRestoreSettings.crossSubscriptionRestoreState),
    C(publicNetworkAccess), C(monitoringSettings.azureMonitorAlertSettings.alertsForAllJobFailures) and
    C(monitoringSettings.classicAlertSettings.alertsForCriticalOperations).
  - On Backup vaults it writes C(featureSettings.crossSubscriptionRestoreSettings.state) and
    C(monitoringSettings.azureMonitorAlertSettings.alertsForAllJobFailures). The DataProtection API has no public network
    access and no classic alerts, so asking for them on a Backup vault fails before any request.
  - After the write the vault is read again; a change Azure accepted but did not apply fails the task.
extends_documentation_fragment:
  - vaultlock.azure.attributes.state
  - vaultlock.azure.attributes.local
  - vaultlock.azure.azure_auth
  - vaultlock.azure.vault_ref
requirements:
  - azure-mgmt-recoveryservices >= 4.3.0 (writes to Recovery Services vaults)
  - azure-mgmt-dataprotection >= 2.2.0 (writes to Backup vaults)
options:
  cross_subscription_restore:
    description:
      - Whether backups of the vault may be restored into another subscription.
      - V(permanently_disabled) can never be undone and needs O(allow_irreversible=true).
    type: str
    choices: [enabled, disabled, permanently_disabled]
    version_added: 0.2.0
  public_network_access:
    description:
      - Recovery Services vaults only. V(disabled) lets backup traffic reach the vault through private endpoints only, so
        backups and restores then need private endpoints.
    type: str
    choices: [enabled, disabled]
    version_added: 0.2.0
  alerts:
    description:
      - The vault's built-in alert settings; a key left out (or null) is not managed.
    type: dict
    version_added: 0.2.0
    suboptions:
      job_failure_alerts:
        description:
          - Azure Monitor alerts for every failed backup job (C(alertsForAllJobFailures)), V(enabled) or V(disabled).
          - Null (or left out) is not managed; any other value fails before any request.
        type: str
      classic_alerts:
        description:
          - Recovery Services vaults only. Classic alerts for critical operations (C(alertsForCriticalOperations)),
            V(enabled) or V(disabled).
          - Null (or left out) is not managed; any other value fails before any request.
        type: str
  resource_guard_id:
    description:
      - The ARM id of a Resource Guard (C(Microsoft.DataProtection/resourceGuards)) to protect the vault with
        (multi-user authorization). An unprotected vault is associated with it through a Resource Guard proxy
        (Recovery Services C(backupResourceGuardProxies/VaultProxy), Backup vaults
        C(backupResourceGuardProxies/DppResourceGuardProxy)).
      - A vault already protected by another guard is refused before any request (changing a guard needs the guard's approval).
      - Azure's vault reads say only that a guard protects the vault, not which; for such a vault the module reads its Resource
        Guard proxy (C(backupResourceGuardProxies), one read) to tell, and again after associating a guard to confirm it.
      - An id that is empty or only spaces (a variable that came out empty, say), or that is not the ARM id of a Resource Guard
        (C(/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.DataProtection/resourceGuards/<name>)), is refused
        before any request. Leave the option out to leave multi-user authorization as it is.
      - The provider and type may be in any casing (ARM compares them case-insensitively). A space anywhere (around the id
        too), C(?), C(#), C(%), a control character, or an invisible or format character (a variation selector, a zero-width
        space, a direction mark) is refused, the message naming each such character by its code point. The guard's name is
        held to letters A-Z, digits, C(-), C(_) and C(.), not ending with C(.).
      - The identity needs rights on the Resource Guard too; Azure's refusal (403, C(LinkedAuthorizationFailed)) says so.
    type: str
    version_added: 0.2.0
  allow_irreversible:
    description:
      - Consent to set cross subscription restore to V(permanently_disabled). Without it such a request fails before any
        write, in check mode too.
      - Counts only when written in the task itself, never from C(module_defaults).
    type: bool
    default: false
    version_added: 0.2.0
seealso:
  - module: vaultlock.azure.vault_soft_delete
  - module: vaultlock.azure.vault_immutability
  - name: Restore across subscriptions
    description: Microsoft's page on cross subscription restore and disabling it permanently.
    link: https://learn.microsoft.com/azure/backup/backup-azure-restore-cross-subscription
author: vaultlock.azure maintainers (@vaultlock)
'''

EXAMPLES = r'''
- name: No restores into other subscriptions, job failure alerts on, public network access off
  vaultlock.azure.vault_security_settings:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    cross_subscription_restore: disabled
    public_network_access: disabled
    alerts:
      job_failure_alerts: enabled
      classic_alerts: disabled

- name: Permanently disable cross subscription restore of a Backup vault (irreversible)
  vaultlock.azure.vault_security_settings:
    id: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/bv-prod
    cross_subscription_restore: permanently_disabled
    allow_irreversible: true

- name: Protect a vault with a Resource Guard of the security team (multi-user authorization)
  vaultlock.azure.vault_security_settings:
    name: rsv-prod-01
    resource_group: rg-backup-prod
    vault_type: recovery_services
    resource_guard_id: /subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg-sec/providers/Microsoft.DataProtection/resourceGuards/guard

- name: Read the settings of a vault
  vaultlock.azure.vault_security_settings:
    name: bv-prod
    resource_group: rg-backup
    vault_type: backup
  register: bv
'''

RETURN = r'''
vault:
  description:
    - The vault after the task (in check mode, the predicted state), the same record as
      RV(vaultlock.azure.vault_immutability#module:vault).
    - The keys below are the ones this module manages.
  returned: always
  type: dict
  contains:
    cross_subscription_restore:
      description: V(enabled), V(disabled) or V(permanently_disabled); null when Azure reports none.
      type: str
      returned: always
      sample: disabled
    public_network_access:
      description: V(enabled) or V(disabled); null for Backup vaults (the setting does not exist there).
      type: str
      returned: always
      sample: disabled
    alerts:
      description: C(job_failure_alerts) and C(classic_alerts) (null when Azure reports none, or for classic alerts of a Backup vault).
      type: dict
      returned: always
      sample: {"job_failure_alerts": "enabled", "classic_alerts": "disabled"}
changes:
  description:
    - Each setting changed (or that would change in check mode). An alert change has C(before) and C(after) as a
      dictionary of one alert key and its value, one change per alert key.
    - C(irreversible) is true for V(permanently_disabled).
  returned: always
  type: list
  elements: dict
  sample: [{"setting": "cross_subscription_restore", "before": "enabled", "after": "disabled", "irreversible": false},
           {"setting": "alerts", "before": {"job_failure_alerts": null}, "after": {"job_failure_alerts": "enabled"}, "irreversible": false}]
unpredicted:
  description:
    - In check mode, the fields of RV(vault) that check mode cannot predict and gives as null; a real run reads them back.
    - V(vault.mua.protected_operations) when the task would associate the vault with a Resource Guard; the operations the
      guard protects are listed by the vault's Resource Guard proxy, which exists only once the association is written
      (Azure decides the list; a real run reads nothing of the guard before it writes, and check mode reads no more).
      The rest of the predicted record is what the real run reads back, C(mua.protected) and the vault's
      C(multiUserAuthorization) (Recovery Services) or C(isVaultProtectedByResourceGuard) (Backup vaults) included.
  returned: in check mode, when the task would associate a Resource Guard
  type: list
  elements: str
  sample: ["vault.mua.protected_operations"]
  version_added: 0.2.0
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
  description: The managed settings before and after, with C(--diff).
  returned: when diff mode is on
  type: dict
  sample: {"before": {"cross_subscription_restore": "enabled"}, "after": {"cross_subscription_restore": "disabled"}}
'''

from ansible_collections.vaultlock.azure.plugins.module_utils._module import VaultlockModule
from ansible_collections.vaultlock.azure.plugins.module_utils._state.security import ARGUMENT_SPEC, CONSTRAINTS, run


def main():
    VaultlockModule(argument_spec=ARGUMENT_SPEC, **CONSTRAINTS).run(run)


if __name__ == '__main__':
    main()
