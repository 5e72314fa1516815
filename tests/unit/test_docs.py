# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/plugins/*.md are generated from each plugin's own documentation and must stay in sync (make docs)."""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import re

import pytest
import yaml
from ansible.parsing.plugin_docs import read_docstring
from ansible.release import __version__ as ANSIBLE_CORE

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def generate():
    spec = importlib.util.spec_from_file_location('docs_generate', REPO / 'docs' / 'generate.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def collection_docs(generate):
    # One ansible-doc process for the three tests below (docs/generate.py: --metadata-dump of the collection).
    return generate.collection_docs()


# The ansible-core that make docs generates the pages with (constraints.txt).
PINNED_CORE = re.search(r'^ansible-core==(\S+)$', (REPO / 'constraints.txt').read_text(), re.M).group(1)


def _own_docs():
    """{page name: the plugin's own DOCUMENTATION (fragments not merged)} of every plugin (sidecar YAML for filters)."""
    docs = {}
    for kind, folder in (('module', 'modules'), ('filter', 'filter'), ('inventory', 'inventory')):
        for path in sorted((REPO / 'plugins' / folder).iterdir()):
            if path.suffix == '.py' and path.name != '__init__.py':
                doc = read_docstring(str(path))['doc']
            elif path.suffix == '.yml':
                doc = yaml.safe_load(path.read_text())['DOCUMENTATION']
            else:
                continue
            if doc:
                docs['%s_%s.md' % (kind, path.stem)] = doc
    return docs


def _core_fragment_options(names):
    """The top-level option names the installed ansible-core's doc fragments ``names`` (ansible.builtin.*) define."""
    options = set()
    for name in names:
        module = importlib.import_module('ansible.plugins.doc_fragments.' + name.split('.')[-1])
        options.update((yaml.safe_load(module.ModuleDocFragment.DOCUMENTATION) or {}).get('options') or {})
    return options


def _without_core_text(generate, text, core_options, own_notes):
    """A page's lines less the options-table rows of ansible-core's fragment options and the notes the plugin does not
    write itself (its fragments' notes): the text each ansible-core release words its own way."""
    notes = {'- ' + generate.markup(note) for note in own_notes}
    kept, section = [], None
    for line in text.split('\n'):
        if line.startswith('## '):
            section = line
        row = re.match(r'^\| `([^`.]+)[^`]*` \|', line)
        if section == '## Options' and row and row.group(1) in core_options:
            continue
        if section == '## Notes' and line.startswith('- ') and line not in notes:
            continue
        kept.append(line)
    return kept


def test_plugin_pages_are_in_sync(generate, collection_docs):
    pages = generate.render(collection_docs)
    names = generate.out_of_date(pages)
    if ANSIBLE_CORE == PINNED_CORE:
        assert not names, 'docs/plugins is out of date (%s); run: make docs' % ', '.join(names)
        return
    # Another ansible-core (make integration-compat's virtualenvs, 2.17 and 2.18): the pages were generated with the pinned
    # one, whose doc fragments (ansible.builtin.constructed, ...) word some options and notes otherwise. Every page of a
    # plugin that extends none of them must be the same; the others the same but for that text.
    own = _own_docs()
    for name in names:
        doc = own.get(name) or {}
        core = [f for f in doc.get('extends_documentation_fragment') or [] if f.startswith('ansible.builtin.')]
        assert core, 'docs/plugins is out of date (%s, which takes no text from ansible-core); run: make docs' % name
        path = generate.OUT / name
        assert path.exists(), 'docs/plugins/%s is missing; run: make docs' % name
        options = _core_fragment_options(core)
        ours = _without_core_text(generate, pages[name], options, doc.get('notes') or [])
        committed = _without_core_text(generate, path.read_text(), options, doc.get('notes') or [])
        assert ours == committed, 'docs/plugins/%s is out of date beyond the text of ansible-core %s\'s fragments; run: make docs' % (
            name, ANSIBLE_CORE)


def test_every_module_has_examples_and_documented_returns(collection_docs):
    listing = collection_docs['module']
    assert len(listing) >= 5
    docs = {name: listing[name] for name in sorted(listing)}

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
    # Recovery Services policies only: Azure updates no Backup vault policy, so none is written.
    'vaultlock.azure.backup_policy_retention': {'azure-mgmt-recoveryservicesbackup'},
}
# What every module and the inventory plugin import to authenticate and read (module_utils/_azure/client.py).
READ_PACKAGES = {'azure-identity', 'azure-core', 'azure-mgmt-core', 'requests'}


def _requirement_bounds():
    bounds = {}
    for line in (REPO / 'requirements.txt').read_text().splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            name, _sep, bound = line.partition('>=')
            bounds[name.strip().lower()] = bound.strip()
    return bounds


def test_requirements_list_every_package_a_plugin_imports(collection_docs):
    import re  # pylint: disable=import-outside-toplevel
    bounds = _requirement_bounds()
    assert READ_PACKAGES | set().union(*WRITE_SDKS.values()) == set(bounds), 'requirements.txt and the plugins disagree'
    docs = {name: collection_docs['module'][name] for name in sorted(collection_docs['module'])}
    docs.update({'vaultlock.azure.backup_vaults': collection_docs['inventory']['vaultlock.azure.backup_vaults']})
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


def test_role_md_lists_every_role_variable_with_its_default():
    """docs/role.md's Variables table is where a user looks a variable up: every variable of the role's argument spec has
    a row, and the row's default is the one in defaults/main.yml."""
    import re                                                            # pylint: disable=import-outside-toplevel
    import yaml                                                          # pylint: disable=import-outside-toplevel
    role = REPO / 'roles' / 'harden_backup_vaults'
    spec = yaml.safe_load((role / 'meta' / 'argument_specs.yml').read_text(encoding='utf-8'))['argument_specs']['main']['options']
    defaults = yaml.safe_load((role / 'defaults' / 'main.yml').read_text(encoding='utf-8'))
    table = (REPO / 'docs' / 'role.md').read_text(encoding='utf-8').split('## Variables', 1)[1].split('\n### ', 1)[0]
    rows = {}
    for names, default in re.findall(r'^\| ((?:`harden_backup_vaults_\w+`(?:, )?)+) \| ([^|]+) \|', table, re.M):
        for name in re.findall(r'`(\w+)`', names):
            rows[name] = default.strip()
    assert sorted(set(spec) - set(rows)) == [], 'docs/role.md has no row for these variables'
    assert sorted(set(rows) - set(spec)) == [], 'docs/role.md has rows for variables the role does not have'
    for name, default in rows.items():
        if default.startswith('`') and default.endswith('`'):
            assert yaml.safe_load(default.strip('`')) == defaults[name], (name, default, defaults[name])
