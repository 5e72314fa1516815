#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: drift_diff
short_description: Show the drift of many vaults as per-vault diffs, on the controller, in one task
version_added: 0.1.0
description:
  - Takes the list that the P(vaultlock.azure.vault_drift#filter) filter returns and reports one diff per drifting vault
    (what a run would change, planned as the state modules plan it, and what it cannot change, with the reason), and C(changed)
    when a run would change anything.
  - A change that can never be undone (locking, soft delete V(always_on), raising retention of a locked vault) is marked
    C(IRREVERSIBLE) in its key and in the diff's after header.
  - Control characters in names and values (a vault, resource group or policy name from Azure or from the play) are shown
    escaped in the headers, keys and values (C(\n), C(\x1b)), as error messages show them, so the diff is never a terminal
    escape sequence or a forged line.
  - It runs on the controller and sends no request to Azure, so a check-mode drift report of a large fleet costs one task,
    not one module run per vault. The C(vaultlock.azure.harden_backup_vaults) role uses it in check mode.
author: vaultlock.azure maintainers (@vaultlock)
extends_documentation_fragment:
  - vaultlock.azure.attributes.controller
attributes:
  check_mode:
    support: full
    description: Changes nothing in any mode.
  diff_mode:
    support: full
    description: Returns a diff per drifting vault.
  idempotent:
    support: full
    description: Changes nothing.
options:
  drift:
    description:
      - The output of the P(vaultlock.azure.vault_drift#filter) filter.
      - An entry that is not a drift entry (a vault record, which has no C(drift) true or false, say; C(findings) or
        C(changes) that are not lists of dictionaries; C(drift) true with no findings, as in a truncated list) fails the task,
        naming the entry; it never counts as a vault without drift.
    type: list
    elements: dict
    required: true
seealso:
  - plugin: vaultlock.azure.vault_drift
    plugin_type: filter
'''

EXAMPLES = r'''
- name: Discover
  vaultlock.azure.vault_immutability_info:
    include_policies: true
  register: fleet

- name: Show the drift per vault (run with --diff)
  vaultlock.azure.drift_diff:
    drift: "{{ fleet.vaults | vaultlock.azure.vault_drift({'immutability': 'enabled', 'retention': {'minimum': {'daily': '30d'}}}) }}"
'''

RETURN = r'''
drifting:
  description: Number of vaults that drift from the baseline.
  returned: always
  type: int
  sample: 7
vaults_to_change:
  description: Number of vaults a run would change (those with fixable findings).
  returned: always
  type: int
  sample: 6
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: 7 of 9 vaults drift; a run would change 6
diff:
  description: One entry per drifting vault (C(before_header), C(before), C(after_header), C(after)), shown with C(--diff).
  returned: always
  type: list
  elements: dict
  sample: [{"before_header": "rsv-prod-01 (recovery_services, 1111.../rg)", "before": "immutability: disabled\n",
            "after_header": "rsv-prod-01 (recovery_services, 1111.../rg)", "after": "immutability: enabled\n"}]
'''
