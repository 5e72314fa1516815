# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The attributes of the collection's modules, written once (as community.hashi_vault's doc_fragments/attributes.py).

    Split by aspect. STATE (check mode, diff, idempotence, and the notes on vaults an operation still runs on) is for the
    state modules (vault_immutability,
    vault_soft_delete, vault_security_settings, backup_policy_retention), INFO for the read-only ones. LOCAL (all seven
    modules that talk to Azure) says what they share as actions: the action group vaultlock.azure.all and where the work
    runs (plugins/plugin_utils/_module_action.py). CONTROLLER is for the action plugins that run on the controller only
    (harden_plan, harden_apply, harden_report, drift_diff), whose other attributes differ module by module.

    Every fragment is one string literal (ansible-test's yamllint reads each class attribute as one): an aspect that
    several modules share is a fragment of its own, listed in each module's extends_documentation_fragment.
    """

    DOCUMENTATION = r'''
options: {}
'''

    STATE = r'''
options: {}
attributes:
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
notes:
  - >-
    Operations still running. A task writes to a vault only while a fresh read of it says C(provisioningState)
    C(Succeeded) (in any case). While an operation on the vault has not ended (an earlier task's write whose long-running
    operation outlived its O(wait_timeout), or another tool's), Azure reads it C(Provisioning) or C(Updating);
    C(Failed), C(Unknown), any other value and none at all count the same. The task then fails before any write,
    naming the vault and the state it read: wait until the operation has finished, then run the task again. Check
    mode predicts the same failure. Reversible writes wait too: whether a change can be undone is judged from the vault
    as read, and a running operation (the lock itself, say) may still change it.
  - >-
    M(vaultlock.azure.vault_immutability), M(vaultlock.azure.vault_soft_delete) and
    M(vaultlock.azure.vault_security_settings) fail so on such a vault even with nothing to change;
    M(vaultlock.azure.backup_policy_retention) only when it would raise a policy (a report is answered). The reads
    a task makes after its own write are not refused: they say what the write did.
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
'''

    LOCAL = r'''
options: {}
attributes:
  action_group:
    support: full
    membership: [vaultlock.azure.all]
    description:
      - Use C(group/vaultlock.azure.all) in C(module_defaults) to set the authentication options once.
      - The group reaches every module of the collection, so it takes the authentication options only. Another option there
        (a state module's C(allow_irreversible), say) fails a module that does not take it, before any request, with a
        message saying that C(module_defaults) gave it; set such options per module (C(module_defaults) keyed by the module's name).
  action:
    support: full
    description:
      - An action plugin decides where the work runs; over a local connection it runs on the controller.
notes:
  - >-
    Where the work runs. Over a local connection (the implicit C(localhost), C(connection: local), or
    C(delegate_to: localhost)) the module's work runs on the controller, in the process of C(ansible-playbook): its
    Python needs the Azure SDKs of the collection's C(requirements.txt), as for the role and the inventory plugin, and
    the interpreter of C(localhost) (C(ansible_python_interpreter) or the one Ansible discovers) is not used.
    The task's C(environment) applies as it would to a module, for that task only (the C(AZURE_*) variables, and
    those the SDKs read, such as C(REQUESTS_CA_BUNDLE) or C(HTTPS_PROXY)).
  - >-
    On any other connection (an Azure VM that uses its managed identity, say), and with C(async) or C(become), the
    module runs on the target in the target's Python, which needs C(requirements.txt) installed; when it lacks them the
    task fails with what to set (install them there, set C(ansible_python_interpreter), or run the task on localhost).
'''

    CONTROLLER = r'''
options: {}
attributes:
  action:
    support: full
    description: Runs on the controller as an action plugin.
notes:
  - This is an action plugin; this file holds its documentation only.
'''
