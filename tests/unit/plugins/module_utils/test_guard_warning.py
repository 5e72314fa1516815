# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_discovery.guards.guard_warning: the Resource Guard proxies vault_immutability_info could not read, in one warning."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.guards import guard_warning


def test_no_failure_no_warning():
    assert guard_warning([]) == ''


def test_one_vault_named_with_why():
    text = guard_warning([("Recovery Services vault 'rsv-a' (resource group 'rg', subscription s)", 'HTTP 403 AuthorizationFailed: no')])
    assert text.startswith('a Resource Guard protects 1 vault whose Resource Guard proxy')
    assert text.endswith("Recovery Services vault 'rsv-a' (resource group 'rg', subscription s) (HTTP 403 AuthorizationFailed: no)")


def test_the_first_twenty_then_a_count():
    failures = [('vault-%02d' % index, 'HTTP 404 NotFound: gone') for index in range(25)]
    text = guard_warning(failures)
    assert 'protects 25 vaults' in text and 'vault-19 (HTTP 404' in text and 'vault-20' not in text
    assert text.endswith(' and 5 more')


def test_a_vault_label_cannot_drive_the_terminal():
    assert '\x1b' not in guard_warning([('vault\x1b[2J', 'HTTP 403 x: \n')])
