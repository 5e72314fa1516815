# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Where a role variable came from: the sources written for the run, or the inventory and facts (harden_plan's
``run_scoped_variables``; module_utils/_consent.py run_scoped_refusal decides).

Ansible merges every source of a variable into one value and does not say which gave it. The task's VariableManager
still holds the sources apart:

- the **trusted layer**, what is written for the run, in Ansible's order of precedence: the play's ``vars:``, the vars
  of the role's invocation (``vars:`` of a ``roles:`` entry, of ``import_role`` or ``include_role``), the vars of the task
  and its blocks (``Task.get_vars``), the role parameters (the other keys of a ``roles:`` entry), the include parameters,
  and the extra vars (``-e``);
- the **ambient layer**, ``VariableManager.get_vars(host=...)`` with no play and no task: the inventory (group and host
  variables of the inventory sources), the vars plugins (``group_vars``/``host_vars`` beside the inventory or the
  playbook), the facts, and the caches of ``include_vars`` and ``set_fact``.

Both ansible-core 2.17 and 2.19 build a task's variables that way (``VariableManager.get_vars``). Only the trusted layer
vouches for a value: one it does not give is refused, from the ambient layer or from a source left out of both (a play's
``vars_files``, other roles' ``vars/`` files and defaults, a loop variable, dictionaries merged by ``hash_behaviour``);
the role's own internal baseline, built by its ``vars/main.yml``, only when the ambient layer gives it
(module_utils/_consent.py run_scoped_refusal).
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.filter.core import to_bool
from ansible.utils.vars import combine_vars

from ansible_collections.vaultlock.azure.plugins.module_utils._consent import (
    FROM_FACTS,
    FROM_INVENTORY,
    MISSING,
    RUN_SCOPED_PARTS,
    run_scoped_effective,
    run_scoped_refusal,
    run_scoped_unknown,
)


def _play_of(task):
    """The play a task belongs to (its blocks know it), or None."""
    node = task
    while node is not None:
        play = getattr(node, '_play', None)
        if play is not None:
            return play
        node = getattr(node, '_parent', None)
    return None


class VariableLayers(object):
    """The trusted and ambient layers of a task's variables on its host (see the module's docstring)."""

    def __init__(self, trusted, ambient, facts):
        self.trusted = trusted      # {name: raw value} from the sources written for the run
        self.ambient = ambient      # {name: raw value} from the inventory, vars plugins and facts (and the extra vars)
        self.facts = facts          # [{name: value}] the fact, include_vars and set_fact caches of the host

    @classmethod
    def of(cls, task, task_vars):
        """The layers of ``task`` on the host of ``task_vars``, or None when the task holds no VariableManager or the host
        is not in its inventory."""
        manager = task.get_variable_manager()
        inventory = getattr(manager, '_inventory', None)
        hostname = (task_vars or {}).get('inventory_hostname')
        if manager is None or inventory is None or not hostname:
            return None
        host = inventory.get_host(hostname)
        if host is None:
            return None
        trusted = {}
        play = _play_of(task)
        if play is not None:
            trusted = combine_vars(trusted, play.get_vars())
        role = task._role
        dep_chain = task.get_dep_chain()
        if role is not None:
            # The vars: of the role's invocation (roles: entry, import_role, include_role); not the role's vars/ files.
            trusted = combine_vars(trusted, dict(role.vars or {}))
        trusted = combine_vars(trusted, task.get_vars())
        if role is not None:
            trusted = combine_vars(trusted, role.get_role_params(dep_chain))
        trusted = combine_vars(trusted, task.get_include_params())
        trusted = combine_vars(trusted, manager.extra_vars)
        try:
            ambient = manager.get_vars(host=host, include_hostvars=False)
        except AnsibleError:
            return None     # then every value that needs the check is refused, with the reason
        facts = []
        for cache in ('_fact_cache', '_vars_cache', '_nonpersistent_fact_cache'):
            try:
                facts.append(dict(getattr(manager, cache).get(host.name) or {}))
            except (AttributeError, KeyError, TypeError):
                continue
        return cls(trusted, ambient, facts)

    def origin(self, name):
        """Where the ambient layer's value of ``name`` came from, in general terms."""
        return FROM_FACTS if any(name in layer for layer in self.facts) else FROM_INVENTORY


def _converted(part, raw, templar):
    """A layer's raw value of a variable as the role uses it: templated with the task's variables, then converted as the
    role converts it (``| bool`` for the consent, with the running ansible-core's own filter). MISSING when it cannot be
    templated (then it cannot be the value the task received either)."""
    if raw is MISSING:
        return MISSING
    try:
        value = templar.template(raw)
        if part == 'allow_irreversible':
            return bool(to_bool(value))
        if part == 'tiers':
            return value or []
        return value
    except (AnsibleError, TypeError, ValueError):
        return MISSING


def run_scoped_refusals(variables, args, templar, layers):
    """The refusals (messages) of harden_plan's ``args`` whose ``variables`` (part -> variable name, its
    ``run_scoped_variables``) came from the inventory or facts rather than from a source written for the run.
    ``layers``: VariableLayers.of the task, or None when they cannot be read (then every value that needs the check is
    refused)."""
    refusals = []
    for part in RUN_SCOPED_PARTS:
        name = (variables or {}).get(part)
        if not name:
            continue
        effective = run_scoped_effective(part, args)
        if layers is None:
            message = run_scoped_unknown(part, name, effective)
        else:
            trusted = _converted(part, layers.trusted.get(name, MISSING), templar)
            ambient = _converted(part, layers.ambient.get(name, MISSING), templar)
            message = run_scoped_refusal(part, name, effective, trusted, ambient, layers.origin(name))
        if message:
            refusals.append(message)
    return refusals
