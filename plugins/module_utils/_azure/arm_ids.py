# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""ARM resource ids taken apart by azure.mgmt.core.tools, for vault references (_vaults) and the rules that read ids
from vault bodies (_rules.mua)."""

from __future__ import annotations

import functools
import re

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import import_package

# Used with fullmatch() only: Python's `$` also matches before a final newline.
GUID = re.compile(r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
# Resource group names: 1 to 90 characters, word characters, hyphens, periods, parentheses; not ending in a period.
RG_NAME = re.compile(r'[-\w.()]{0,89}[-\w()]', re.UNICODE)


def arm_tools():
    """azure.mgmt.core.tools (ARM resource id parsing), imported on first use like every Azure package."""
    # Lazy: only a vault id that must be parsed needs azure-mgmt-core; a missing package is named when it is needed.
    return import_package('azure.mgmt.core.tools', 'azure-mgmt-core')


def split_resource_id(arm_id):
    """The parts of a well-formed ARM id (azure.mgmt.core.tools.parse_resource_id), or {} for anything else.

    One trailing '/' is accepted. Keys: subscription, resource_group, namespace, type, name, and for child
    resources child_type_1, child_name_1, ..., last_child_num.
    """
    text = str(arm_id or '')
    if text.endswith('/'):
        text = text[:-1]
    return dict(_split(text))


@functools.lru_cache(maxsize=8192)
def _split(text):
    """split_resource_id's parts as a tuple of pairs, kept per id: an apply reads each vault's id from every body ARM
    returns, and the answer for one id never changes. The id is parsed once: tools.is_valid_resource_id is a parse and a
    comparison, and its parse is kept instead of parsing the id a second time."""
    if not text.startswith('/'):
        return ()
    tools = arm_tools()
    try:
        parts = tools.parse_resource_id(text)
        valid = tools.resource_id(**parts).lower() == text.lower()
    except KeyError:
        return ()
    return tuple(parts.items()) if valid else ()
