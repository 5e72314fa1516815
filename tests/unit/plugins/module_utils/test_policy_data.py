# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Azure Policy definitions are data files the controller reads on first use: what a module imports and computes
(a vault record with its policy_fields) reads none, since a module's AnsiballZ payload carries only .py files."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys

from ansible_collections.vaultlock.azure.plugins.module_utils._policy import _definitions

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

# Run in a fresh interpreter: pkgutil.get_data fails, as it would in an AnsiballZ payload without the files.
MODULE_PATH = r'''
import pkgutil, sys
def missing(package, resource):
    raise OSError('read ' + resource)
pkgutil.get_data = missing
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from ansible_collections.vaultlock.azure.plugins.module_utils import _policy
body = {'id': '/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v', 'name': 'v',
        'type': 'Microsoft.RecoveryServices/vaults', 'properties': {'publicNetworkAccess': 'Enabled'}}
print(vault_record(body, 'recovery_services')['policy_fields']['properties.publicNetworkAccess'])
try:
    _policy.check_assignments(None)
except OSError as error:
    print(error)
'''


def test_a_modules_imports_and_vault_records_read_no_definition_file():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, '-c', MODULE_PATH], env=env, capture_output=True, text=True, check=True).stdout.split('\n')
    assert out[0] == 'Enabled'
    # The controller's first use reads them (here refused: the read was tried).
    assert out[1] == 'read definitions/%s' % _definitions.FILES[0]


def test_the_files_are_the_fixtures_and_every_one_is_read():
    folder = os.path.join(ROOT, 'plugins', 'module_utils', '_policy', 'definitions')
    assert sorted(os.listdir(folder)) == sorted(_definitions.FILES) == list(_definitions.FILES)
    for name in _definitions.FILES:
        assert filecmp.cmp(os.path.join(folder, name), os.path.join(ROOT, 'tests', 'fixtures', 'azure_policy', name), shallow=False), name
    assert [d['file'] for d in _definitions.definitions()] == list(_definitions.FILES)
    assert _definitions.definitions() is _definitions.DEFINITIONS
