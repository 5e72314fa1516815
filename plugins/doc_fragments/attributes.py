# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The attributes of the collection's modules, written once (as community.hashi_vault's doc_fragments/attributes.py).

    Every module that talks to Azure is in the action group vaultlock.azure.all. STATE is for the state modules
    (vault_immutability, vault_soft_delete, backup_policy_retention), INFO for the read-only ones.
    """

    DOCUMENTATION = r'''
options: {}
'''

    STATE = r'''
options: {}
attributes:
  action_group:
    support: full
    membership: [vaultlock.azure.all]
    description: Use C(group/vaultlock.azure.all) in C(module_defaults) to set the authentication options once.
  check_mode:
    support: full
    description:
      - Sends no write request. The result says what a real run would do (the predicted state and the changes), and the task
        fails where a real run would fail.
  diff_mode:
    support: full
    description: Returns the managed settings before and after.
  idempotent:
    support: full
    description: A second run with the same arguments sends no write and reports no change.
'''

    INFO = r'''
options: {}
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Reads only.
  idempotent:
    support: full
    description: Reads only.
  action_group:
    support: full
    membership: [vaultlock.azure.all]
    description: Use C(group/vaultlock.azure.all) in C(module_defaults) to set the authentication options once.
'''
