# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The hardening rules, one file per setting, in report order: drift, tiers, consent, readiness and the reports loop
over ``RULES`` and name no setting (docs/development.md, "Adding a hardening setting")."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._rules import (
    alerts,
    cross_region_restore,
    cross_subscription_restore,
    customer_managed_keys,
    immutability,
    infrastructure_encryption,
    mua,
    private_endpoints,
    public_network_access,
    retention,
    soft_delete,
    storage_redundancy,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import CONSENT

RULES = (immutability.RULE, soft_delete.RULE, retention.RULE, mua.RULE, cross_subscription_restore.RULE, public_network_access.RULE,
         alerts.RULE, customer_managed_keys.RULE, infrastructure_encryption.RULE, private_endpoints.RULE, storage_redundancy.RULE,
         cross_region_restore.RULE)

# The keys of a baseline: the consent, then each rule's own.
BASELINE_KEYS = (CONSENT,) + tuple(rule.key for rule in RULES if rule.key)

# The state tasks of a run, in report order (the keys of a report's meta.results).
TASKS = tuple(rule.task for rule in RULES if rule.task)

# Every setting a finding or a change names, in report order.
SETTINGS = tuple(setting for rule in RULES for setting in rule.settings)
SETTING_NAMES = tuple(setting.name for setting in SETTINGS)
SETTING_LABEL = dict((setting.name, setting.label) for setting in SETTINGS)
# The rules that report a state of every vault (Rule.posture), in report order.
POSTURE_RULES = tuple(rule for rule in RULES if rule.posture_key)
# Which state task fixes which finding.
SETTING_ACTION = dict((setting.name, setting.action) for setting in SETTINGS)
# Settings judged per policy tier (their findings and changes name a policy, tier, sub-policy and datastore).
PER_POLICY = tuple(setting.name for setting in SETTINGS if setting.per_policy)

# The rules whose irreversible target is the lock that lock readiness decides (Rule.is_lock), their settings and tasks.
LOCK_RULES = tuple(rule for rule in RULES if rule.is_lock)
LOCK_SETTINGS = tuple(setting.name for rule in LOCK_RULES for setting in rule.settings)
LOCK_TASKS = tuple(rule.task for rule in LOCK_RULES)


# Yes/no facts of a vault the reports show (Rule.flags).
FLAGS = tuple(flag for rule in RULES for flag in rule.flags)


def context(vault):
    """What the rules share about a vault while each evaluates it (Rule.context: ``mua``)."""
    shared = {}
    for rule in RULES:
        shared.update(rule.context(vault))
    return shared


def applied(rules=RULES):
    """The rules that change vaults, in the order a run applies them."""
    return sorted((rule for rule in rules if rule.action), key=lambda rule: rule.apply_rank)
