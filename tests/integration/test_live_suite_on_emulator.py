# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the live suite (tests/live, meant for a real subscription) against the emulator, so it stays correct."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.integration.conftest import REPO, ensure_collection_link


def test_live_suite_passes_against_the_emulator(emulator, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith('AZURE_')}
    env.update(emulator.env)
    resource_group = emulator.endpoint['resource_groups'][emulator.endpoint['subscription_ids'][0]][0]
    env.update({'VAULTLOCK_LIVE_RESOURCE_GROUP': resource_group, 'ANSIBLE_COLLECTIONS_PATH': str(ensure_collection_link()),
                'ANSIBLE_HOME': str(tmp_path / 'ansible-home')})
    proc = subprocess.run([sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-q', 'tests/live'], cwd=str(REPO), env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '2 passed' in proc.stdout
    # The suite cleaned up after itself: no vault is left in the resource group.
    assert not [j for j in emulator.journal() if j['method'] == 'DELETE' and j['status'] >= 400]
