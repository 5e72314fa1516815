# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/plugins/*.md are generated from each plugin's own documentation and must stay in sync (make docs)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_plugin_pages_are_in_sync():
    proc = subprocess.run([sys.executable, str(REPO / 'docs' / 'generate.py'), '--check'], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_module_has_examples_and_documented_returns():
    import json  # pylint: disable=import-outside-toplevel
    import os  # pylint: disable=import-outside-toplevel
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / '.cache' / 'collections'))
    exe = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
    listing = json.loads(subprocess.run([exe, '-t', 'module', '--list', '--json', 'vaultlock.azure'], env=env, capture_output=True,
                                        text=True, check=True).stdout)
    assert len(listing) >= 5
    docs = json.loads(subprocess.run([exe, '-t', 'module', '--json'] + sorted(listing), env=env, capture_output=True, text=True,
                                     check=True).stdout)

    def walk(values, path=''):
        for key, spec in (values or {}).items():
            assert 'returned' in spec and 'sample' in spec or spec.get('type') in ('dict', 'list') and spec.get('contains'), path + key
            walk(spec.get('contains'), path + key + '.')

    for name, data in docs.items():
        assert data['examples'].strip(), name
        assert data['return'], name
        walk(data['return'], name + ':')


# Which service SDK each state module writes with (module_utils/_vaults.py: RecoveryServicesBackend and
# BackupVaultBackend; _soft_delete.py writes the Recovery Services vault config with the backup SDK).
WRITE_SDKS = {
    'vaultlock.azure.vault_immutability': {'azure-mgmt-recoveryservices', 'azure-mgmt-dataprotection'},
    'vaultlock.azure.vault_soft_delete': {'azure-mgmt-recoveryservices', 'azure-mgmt-recoveryservicesbackup', 'azure-mgmt-dataprotection'},
    'vaultlock.azure.backup_policy_retention': {'azure-mgmt-recoveryservicesbackup', 'azure-mgmt-dataprotection'},
}
# What every module and the inventory plugin import to authenticate and read (module_utils/_client.py).
READ_PACKAGES = {'azure-identity', 'azure-core', 'azure-mgmt-core', 'requests'}


def _requirement_bounds():
    bounds = {}
    for line in (REPO / 'requirements.txt').read_text().splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            name, _sep, bound = line.partition('>=')
            bounds[name.strip().lower()] = bound.strip()
    return bounds


def test_requirements_list_every_package_a_plugin_imports():
    import json  # pylint: disable=import-outside-toplevel
    import os  # pylint: disable=import-outside-toplevel
    import re  # pylint: disable=import-outside-toplevel
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / '.cache' / 'collections'))
    exe = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
    bounds = _requirement_bounds()
    assert READ_PACKAGES | set().union(*WRITE_SDKS.values()) == set(bounds), 'requirements.txt and the plugins disagree'
    names = sorted(json.loads(subprocess.run([exe, '-t', 'module', '--list', '--json', 'vaultlock.azure'], env=env, capture_output=True,
                                             text=True, check=True).stdout))
    docs = json.loads(subprocess.run([exe, '-t', 'module', '--json'] + names, env=env, capture_output=True, text=True, check=True).stdout)
    docs.update(json.loads(subprocess.run([exe, '-t', 'inventory', '--json', 'vaultlock.azure.backup_vaults'], env=env, capture_output=True,
                                          text=True, check=True).stdout))
    for name, data in docs.items():
        if name in ('vaultlock.azure.drift_diff', 'vaultlock.azure.harden_report'):
            continue  # action plugins that import no Azure package (they write what other tasks read)
        listed = {}
        for requirement in data['doc'].get('requirements') or []:
            match = re.match(r'^([A-Za-z0-9_.-]+)\s*(?:>=\s*([0-9.]+))?', requirement)
            listed[match.group(1).lower()] = match.group(2)
        wanted = READ_PACKAGES | WRITE_SDKS.get(name, set())
        assert wanted <= set(listed), '%s: REQUIREMENTS lacks %s' % (name, sorted(wanted - set(listed)))
        for package in wanted:
            assert listed[package] == (bounds[package] or None), '%s: %s bound differs from requirements.txt' % (name, package)


def test_galaxy_yml_carries_the_one_collection_version():
    """COLLECTION_VERSION (module_utils/_settings.py) is the source; make version writes it into galaxy.yml."""
    import yaml  # pylint: disable=import-outside-toplevel
    from ansible_collections.vaultlock.azure.plugins.module_utils._settings import COLLECTION_VERSION  # pylint: disable=import-outside-toplevel
    assert COLLECTION_VERSION == yaml.safe_load((REPO / 'galaxy.yml').read_text())['version']


def test_changelog_has_the_released_versions():
    import yaml  # pylint: disable=import-outside-toplevel
    changes = yaml.safe_load((REPO / 'changelogs' / 'changelog.yaml').read_text())
    assert '0.1.0' in changes['releases']
    assert '## v0\\.1\\.0' in (REPO / 'CHANGELOG.md').read_text()
    # New modules and plugins come from their version_added, never from fragments (antsibull-changelog's rule).
    for fragment in (REPO / 'changelogs' / 'fragments').glob('*.yml'):
        text = fragment.read_text()
        assert ' - new module' not in text.lower() and 'new filter' not in text.lower(), fragment.name
