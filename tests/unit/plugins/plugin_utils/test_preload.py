# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/_preload.py: what imports is imported, what is missing or broken is left for the task to report."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.vaultlock.azure.plugins.plugin_utils import _preload


def test_a_missing_or_broken_package_is_left_for_the_task(tmp_path, monkeypatch):
    (tmp_path / 'vaultlock_broken_at_import.py').write_text('raise RuntimeError("an incompatible version")\n')
    (tmp_path / 'vaultlock_fine.py').write_text('VALUE = 1\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = _preload.preload('vaultlock_no_such_package', 'vaultlock_broken_at_import', 'vaultlock_fine')
    assert loaded == ['vaultlock_fine'] and sys.modules['vaultlock_fine'].VALUE == 1
    assert 'vaultlock_broken_at_import' not in sys.modules


def test_a_subclass_imports_its_preload_as_it_is_defined(tmp_path, monkeypatch):
    (tmp_path / 'vaultlock_preloaded.py').write_text('VALUE = 2\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert 'vaultlock_preloaded' not in sys.modules

    class Base(_preload.Preloading):
        pass

    assert 'vaultlock_preloaded' not in sys.modules

    class Action(Base):
        PRELOAD = ('vaultlock_preloaded', 'vaultlock_no_such_package')

    assert Action.PRELOAD and sys.modules['vaultlock_preloaded'].VALUE == 2
    monkeypatch.delitem(sys.modules, 'vaultlock_preloaded')


SDKS = ('azure.identity', 'azure.mgmt.core', 'azure.core.rest', 'azure.mgmt.recoveryservices', 'azure.mgmt.dataprotection',
        'azure.mgmt.recoveryservicesbackup')
CORE_SDKS = ['azure.core.rest', 'azure.identity', 'azure.mgmt.core']


@pytest.mark.parametrize('action, expected', [
    ('vault_immutability', CORE_SDKS + ['azure.mgmt.dataprotection', 'azure.mgmt.recoveryservices']),
    ('vault_soft_delete', CORE_SDKS + ['azure.mgmt.dataprotection', 'azure.mgmt.recoveryservices', 'azure.mgmt.recoveryservicesbackup']),
    ('backup_policy_retention', CORE_SDKS + ['azure.mgmt.dataprotection', 'azure.mgmt.recoveryservicesbackup']),
    ('vault_immutability_info', CORE_SDKS),
    ('harden_plan', CORE_SDKS),
])
def test_loading_an_action_plugin_imports_the_sdk_core_and_its_write_sdks_and_starts_no_thread(action, expected):
    # A fresh interpreter, as ansible-playbook loads the class: the SDK's core and the module's write SDKs are then imported.
    code = textwrap.dedent('''
        import importlib, sys, threading
        from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
        _AnsibleCollectionFinder(paths=sys.argv[2:])._install()
        before = set(sys.modules)
        importlib.import_module('ansible_collections.vaultlock.azure.plugins.action.' + sys.argv[1])
        new = set(sys.modules) - before
        print(sorted(n for n in new if n in %r))
        print(threading.active_count())
    ''' % (SDKS,))
    # .../ansible_collections/vaultlock/azure/plugins/plugin_utils/_preload.py: the collections root is five levels up.
    root = pathlib.Path(_preload.__file__).parents[5]
    out = subprocess.run([sys.executable, '-c', code, action, str(root)], capture_output=True, text=True, check=True).stdout
    names, threads = out.strip().splitlines()
    assert names == str(sorted(expected))
    assert threads == '1'
