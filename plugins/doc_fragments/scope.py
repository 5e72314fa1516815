# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Which vaults a read-only module reads (module_utils._module.SCOPE_ARGSPEC is the matching argument spec;
    module_utils._discovery.scope.read_scope reads them): DOCUMENTATION (one vault, or a name pattern and a resource group)
    and FLEET. DOCUMENTATION also holds the note on empty subscription_ids and tags, which only these modules refuse
    (harden_plan and the inventory plugin default them to empty).

    FLEET (subscriptions, vault kinds, tags, discovery, max_concurrency) is shared with harden_plan and the backup_vaults
    inventory plugin, which read a fleet too; they set their own defaults of subscription_ids and tags (an empty list and
    dict, not null) and their own words for discovery (where a read fails, they fail no task) in their own options, which
    Ansible merges over the fragment's.
    """

    DOCUMENTATION = r'''
options:
  id:
    description: ARM id of one vault to read.
    type: str
  name:
    description:
      - With O(resource_group) and O(vault_type), one vault.
      - Otherwise a filter on vault names; shell-style wildcards (C(*), C(?), C([...])) are allowed; case-insensitive.
    type: str
  resource_group:
    description: Only vaults of this resource group (in O(subscription_id), or each of O(subscription_ids)).
    type: str
  vault_type:
    description: With O(name) and O(resource_group), the kind of the one vault to read.
    type: str
    choices: [recovery_services, backup]
notes:
  - >-
    O(subscription_ids) or O(tags) given empty (C([]), C({}); a variable that came out empty, say) is refused before any
    request. Leave the option out to mean the subscription of the authentication options, or every vault whatever its
    tags. An empty entry of O(subscription_ids) is refused too.
'''

    FLEET = r'''
options:
  subscription_ids:
    description:
      - Subscriptions to read. V(all) reads every subscription the identity can see.
      - Each entry is a subscription id (a GUID, without braces), or the list is V(all) alone; anything else fails the task
        before any request, naming the entry.
      - Default is the subscription of the authentication options (O(subscription_id) or E(AZURE_SUBSCRIPTION_ID)).
    type: list
    elements: str
  vault_types:
    description:
      - Which vault kinds to read.
      - An empty list (a variable that came out empty, say) is refused before any request; it would read no vault at all.
    type: list
    elements: str
    choices: [recovery_services, backup]
    default: [recovery_services, backup]
  tags:
    description:
      - Only vaults that carry all these tags. A tag whose value is null only needs to exist.
      - Tag names are compared case-insensitively and values as text, as Azure does. A value YAML reads as a boolean or a float
        (an unquoted V(yes), V(true) or V(1.0)) is refused before any request, as are two names of one tag; quote the value.
    type: dict
  discovery:
    description:
      - Where a fleet is read from. A vault named by O(id), or by O(name) + O(resource_group) + O(vault_type), is always read from ARM.
      - V(auto) reads through Azure Resource Graph and falls back to ARM per subscription where Resource Graph cannot see the
        subscription, or for every subscription when a Resource Graph query fails;
        RV(vaultlock.azure.vault_immutability_info#module:discovery.fallbacks) says why.
      - V(resource_graph) reads through Resource Graph only; a subscription it cannot see is an error of that subscription (in
        RV(errors)), and a failed query fails the task.
      - V(arm) reads through Azure Resource Manager only (one list per subscription, vault kind and page; one policy list,
        and one item list, per vault for the policies and protected items the task reads), paced per subscription.
      - Resource Graph needs read access to the vaults (Reader is enough), like ARM.
    type: str
    choices: [auto, resource_graph, arm]
    default: auto
    version_added: 0.2.0
  max_concurrency:
    description:
      - How many ARM list calls run at once. Policy and item lists (one per vault) take turns across subscriptions, as Azure
        throttles reads per subscription.
      - The default suits fleets of thousands of vaults (see C(docs/performance.md)); lower it when many runs share an identity.
      - At least 1; a lower count is refused before any request.
    type: int
    default: 32
'''
