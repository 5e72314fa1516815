# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ships is what is tested: build the tarball, install it into a clean path, run the playbook by its FQCN."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tarfile

from tests.integration.conftest import REPO
from tests.integration.fleets import states_fleet

BIN = os.path.dirname(sys.executable)


def test_built_collection_installs_and_runs_by_fqcn(emulator, tmp_path):
    emulator.load_fleet(states_fleet())
    env = {k: v for k, v in os.environ.items() if not k.startswith(('AZURE_', 'ANSIBLE_'))}
    env.update(emulator.env)
    env.update({'ANSIBLE_HOME': str(tmp_path / 'home'), 'ANSIBLE_PYTHON_INTERPRETER': sys.executable, 'ANSIBLE_NOCOLOR': '1'})
    built = os.environ.get('VAULTLOCK_COLLECTION_TARBALL')
    if built and os.path.isfile(built):
        # `make test` builds once (make build, before its lanes) and hands that tarball to galaxy-import and the tests.
        tarballs = [pathlib.Path(built)]
    else:
        out = tmp_path / 'dist'
        subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(out), str(REPO)],
                       check=True, capture_output=True, env=env)
        tarballs = list(out.glob('vaultlock-azure-*.tar.gz'))
    assert len(tarballs) == 1
    with tarfile.open(tarballs[0]) as tar:
        names = tar.getnames()
    assert 'plugins/modules/vault_immutability.py' in names
    assert 'roles/harden_backup_vaults/tasks/main.yml' in names
    for unwanted in ('.venv', '.cache', 'bench', '.ci', 'tests/output', 'Makefile', 'build'):
        assert not [n for n in names if n == unwanted or n.startswith(unwanted + '/')], unwanted

    collections = tmp_path / 'collections'
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--offline', '-p', str(collections), str(tarballs[0])],
                   check=True, capture_output=True, env=env)
    env['ANSIBLE_COLLECTIONS_PATH'] = str(collections)
    reports = tmp_path / 'reports'
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), 'vaultlock.azure.harden_backup_vaults', '--check', '--diff',
                           '-e', 'harden_backup_vaults_report_dir=%s' % reports],
                          env=env, capture_output=True, text=True, timeout=600, check=False, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert str(collections) in subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'list', 'vaultlock.azure'],
                                              env=env, capture_output=True, text=True, check=True).stdout
    report = json.loads((reports / 'drift.json').read_text())
    assert report['summary']['vaults'] == 7
    assert emulator.writes() == []


def test_make_install_needs_no_ansible_outside_the_venv(tmp_path):
    """README "Install": make install uses .venv's ansible-galaxy, so a PATH without ansible-core is enough."""
    path = os.pathsep.join(d for d in os.environ.get('PATH', '').split(os.pathsep)
                           if d and not os.path.exists(os.path.join(d, 'ansible-galaxy')))
    target = tmp_path / 'collections'
    # BUILD_DIR: its own tarball, so it never rewrites build/ while another test (pytest-xdist) installs from there.
    proc = subprocess.run(['make', '--no-print-directory', 'install', 'COLLECTIONS_PATH=%s' % target,
                           'BUILD_DIR=%s' % (tmp_path / 'build')], cwd=str(REPO),
                          env=dict(os.environ, PATH=path), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads((target / 'ansible_collections' / 'vaultlock' / 'azure' / 'MANIFEST.json').read_text())
    assert manifest['collection_info']['version'] == [line.split(': ', 1)[1] for line in (REPO / 'galaxy.yml').read_text().splitlines()
                                                      if line.startswith('version: ')][0]
    assert (target / 'ansible_collections' / 'vaultlock' / 'azure' / 'roles' / 'harden_backup_vaults' / 'README.md').is_file()
