# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Defaults and limits every plugin of the collection shares, each defined once (pure, no I/O).

COLLECTION_VERSION is the collection's version: Makefile reads it, writes it into galaxy.yml before every build and
changelog release, and the User-Agent carries it (modules cannot read galaxy.yml at run time: AnsiballZ ships only
module_utils).
"""

from __future__ import annotations

COLLECTION_VERSION = '0.2.0'
USER_AGENT = 'vaultlock.azure/%s' % COLLECTION_VERSION

# Defaults that suit Ansible runs: a few quick retries (Retry-After is always honoured by azure-core),
# LRO polling every 5 s unless Azure says otherwise, and a bounded wait. The module options of the same names
# (plugins/doc_fragments/azure_auth.py) and the inventory options take their defaults from here.
DEFAULT_SETTINGS = {
    'api_retries': 4,
    'api_retry_backoff': 0.8,
    'api_retry_backoff_max': 60,
    'api_timeout': 60,
    'polling_interval': 5,
    'wait_timeout': 900,
}

# Longest Retry-After the collection honours, in seconds. Azure's throttling answers ask for seconds;
# a larger value is waited for this long before the next try, so a task never hangs for an hour.
RETRY_AFTER_MAX = 60

# How a fleet is discovered (the option `discovery` of the read-only modules, the inventory and the role; _discovery).
DISCOVERY_CHOICES = ('auto', 'resource_graph', 'arm')
DEFAULT_DISCOVERY = 'auto'

# Parallel reads of a discovery (vault_immutability_info, the backup_vaults inventory, the role).
MAX_CONCURRENCY = 32

# Vaults harden_apply changes at once (each a few sequential requests; ARM's per-subscription buckets pace them).
APPLY_CONCURRENCY = 64
