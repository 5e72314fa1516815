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
  - A vault goes V(disabled) to V(enabled) to V(locked) in two requests, as Azure requires; both steps are reported in RV(changes).
  - Only the immutability settings are written, with a PATCH; other vault settings are never sent.
author:
  - vaultlock.azure maintainers (@vaultlock)
extends_documentation_fragment:
  - vaultlock.azure.azure_auth
  - vaultlock.azure.vault_ref
requirements:
  - azure-mgmt-recoveryservices >= 4.3.0 (writes to Recovery Services vaults)
  - azure-mgmt-dataprotection >= 2.2.0 (writes to Backup vaults)
attributes:
  check_mode:
    support: full
    description: Sends no write request; RV(vault) is the predicted state and failures are the ones a real run would have.
  diff_mode:
    support: full
    description: Returns the immutability settings before and after.
  idempotent:
    support: full
    description: A second run with the same arguments sends no write and reports no change.
  action_group:
    support: full
    membership: [vaultlock.azure.all]
    description: Use C(group/vaultlock.azure.all) in C(module_defaults) to set the authentication options once.
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
    type: int
  allow_irreversible:
    description:
      - Consent to lock immutability. Without it a request for V(locked) fails before any write, in check mode too.
    type: bool
    default: false
notes:
  - Turning immutability off on a vault protected by multi-user authorization is a critical operation that the
    Resource Guard may deny; the module reports Azure's answer.
seealso:
  - module: vaultlock.azure.vault_immutability_info
  - name: Immutable vault for Azure Backup
    description: Microsoft's concept page on immutable vaults.
    link: https://learn.microsoft.com/azure/backup/backup-azure-immutable-vault-concept
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
    mua:
      description: Whether multi-user authorization protects the vault, and the Resource Guard where visible.
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
changes:
  description: Each setting changed (or that would change in check mode), in order.
  returned: always
  type: list
  elements: dict
  sample: [{"setting": "immutability", "before": "disabled", "after": "enabled"}, {"setting": "immutability", "before": "enabled", "after": "locked"}]
diff:
  description: Immutability settings before and after, with C(--diff).
  returned: when diff mode is on
  type: dict
  sample: {"before": {"immutability": "disabled"}, "after": {"immutability": "enabled"}}
'''

import copy

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._immutability import from_api, normalise_choice, plan_transition
from ansible_collections.vaultlock.azure.plugins.module_utils._module import VAULT_REF_ARGSPEC, VAULT_REF_EXCLUSIVE, VaultlockModule
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import (
    VaultRef,
    backend,
    immutability_patch,
    vault_record,
)

MIN_DAYS = 30
MAX_DAYS = 36135


def _diff_view(record):
    return {
        'immutability': record['immutability'],
        'immutability_retention_days': record['immutability_retention_days'],
    }


def read_vault(store, ref):
    return store.read_settled(ref)[1]


def plan(ref, record, params):
    """Return the list of PATCH bodies and the change list. Raises before any write when impossible."""
    desired = normalise_choice(params['immutability'])
    days = params['immutability_retention_days']
    if days is not None:
        if ref.vault_type != 'recovery_services':
            raise InputError('immutability_retention_days (time-based immutability) exists for Recovery Services vaults only; '
                             '%s is a Backup vault' % ref.label)
        if not MIN_DAYS <= days <= MAX_DAYS:
            raise InputError('immutability_retention_days must be between %d and %d; got %d' % (MIN_DAYS, MAX_DAYS, days))
    steps = plan_transition(ref.vault_type, record['immutability'], desired, params['allow_irreversible'], ref.name)
    changes = [{'setting': 'immutability', 'before': before, 'after': after} for before, after in steps]
    bodies = []
    target = desired or record['immutability']
    days_change = days is not None and days != record['immutability_retention_days']
    if days_change and record['immutability'] == 'locked' and record['immutability_retention_days'] is not None \
            and days < record['immutability_retention_days']:
        raise InputError('%s is Locked: its time-based immutability of %s days cannot be shortened to %s'
                         % (ref.label, record['immutability_retention_days'], days))
    for index, (_before, after) in enumerate(steps):
        # The time-based configuration travels with the first request.
        bodies.append(immutability_patch(ref.vault_type, after, days if index == 0 and days_change else None))
    if days_change:
        if not steps:
            bodies.append(immutability_patch(ref.vault_type, target, days))
        changes.append({'setting': 'immutability_retention_days', 'before': record['immutability_retention_days'], 'after': days})
    return bodies, changes


def predict(record, changes):
    predicted = copy.deepcopy(record)
    for change in changes:
        predicted[change['setting']] = change['after']
    return predicted


def _applied(ref, body):
    """Whether a vault (ARM JSON) already has what an immutability PATCH body asks for."""
    wanted = body['properties']['securitySettings']['immutabilitySettings']

    def check(raw):
        record = vault_record(raw, ref.vault_type)
        if record['immutability'] != from_api(wanted['state']):
            return False
        config = wanted.get('configuration')
        return config is None or record['immutability_retention_days'] == config.get('durationInDays')
    return check


def apply(store, ref, params, before):
    """Apply the plan one request at a time, re-planning from a fresh read before each further step.

    If someone else changes the vault between our steps, the next step is planned from what Azure
    now says (and refused if it became impossible), so no one's update is lost or overridden blindly.
    """
    current = before
    for _attempt in range(4):
        bodies, _changes = plan(ref, current, params)
        if not bodies:
            break
        store.reconcile_patch(ref, bodies[0], 'update immutability', _applied(ref, bodies[0]))
        current = read_vault(store, ref)
    return current


def run(mod):
    params = mod.params
    session = mod.session
    ref = VaultRef.from_params(params, session.default_subscription)
    store = backend(session, ref.vault_type)
    before = read_vault(store, ref)
    if params['immutability'] is None and params['immutability_retention_days'] is None:
        return {'changed': False, 'vault': before, 'changes': []}
    bodies, changes = plan(ref, before, params)
    after = predict(before, changes)
    if bodies and not mod.check_mode:
        after = apply(store, ref, params, before)
    result = {'changed': bool(changes), 'vault': after, 'changes': changes}
    if mod.diff_mode:
        result['diff'] = {'before': _diff_view(before), 'after': _diff_view(after)}
    return result


def main():
    mod = VaultlockModule(
        argument_spec=dict(VAULT_REF_ARGSPEC, **{
            'immutability': {'type': 'str', 'choices': ['disabled', 'enabled', 'unlocked', 'locked']},
            'immutability_retention_days': {'type': 'int'},
            'allow_irreversible': {'type': 'bool', 'default': False},
        }),
        mutually_exclusive=VAULT_REF_EXCLUSIVE,
    )
    mod.run(run)


if __name__ == '__main__':
    main()
