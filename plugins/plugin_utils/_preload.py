# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The Azure SDK imported once per ansible-playbook run instead of once per task.

Ansible's strategy loads a task's action plugin class in ansible-playbook's own process before it forks the task's worker
(it reads the class's BYPASS_HOST_LOOP), and every worker it forks afterwards inherits what that process has imported. The
tasks that talk to Azure in process import the SDK lazily, on their first request: in each task's own worker, 0.3 to 0.5 s
of CPU a task. An action plugin that imports the SDK as it is loaded has it imported once in ansible-playbook, so a
play's tasks share one import: it names what it needs in ``PRELOAD`` (a class attribute of its ``ActionModule``), and
``Preloading`` imports that as the class is defined.

Imports only: nothing is sent, no credential is built, no thread is started (the workers are forked afterwards). A
package that is missing or broken is left alone here: the task that needs it says what to install.
"""

from __future__ import annotations

import importlib

# What every task that reads or writes Azure in process imports on its first request (_client.AzureSession, _auth).
CORE = ('azure.core.exceptions', 'azure.core.rest', 'azure.core.pipeline.policies', 'azure.mgmt.core', 'azure.mgmt.core.policies',
        'azure.identity')
# The management SDK of each vault kind a state module writes with (_vaults, _soft_delete).
RECOVERY_SERVICES = 'azure.mgmt.recoveryservices'
RECOVERY_SERVICES_BACKUP = 'azure.mgmt.recoveryservicesbackup'
DATA_PROTECTION = 'azure.mgmt.dataprotection'


def preload(*names):
    """Import each module of ``names`` now, if it imports; returns the names that did."""
    loaded = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # pylint: disable=broad-except
            # Missing, or broken (an incompatible version raising at import): the task reports it when it needs it.
            continue
        loaded.append(name)
    return loaded


class Preloading:
    """Mixed into the collection's action bases: a subclass's ``PRELOAD`` (module names) is imported as the subclass is
    defined, that is when Ansible loads the action plugin in ansible-playbook, before it forks the task's worker."""

    PRELOAD = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        preload(*cls.PRELOAD)
