# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup_vaults inventory plugin in process against a hostile operator: its real parse() with its documented options
(the plugin's DOCUMENTATION and its fragments, as Ansible's plugin loader reads them) and Ansible's real InventoryData;
the fleet read (module_utils/_discovery.read_fleet, proven against the emulator in tests/integration/test_inventory.py)
is replaced by a recorded answer, the cache plugin by a dictionary. Each test names the option or the vault data."""

from __future__ import annotations

import importlib

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins import inventory as inventory_plugins
from ansible.utils.plugin_docs import add_fragments

from ansible_collections.vaultlock.azure.plugins.inventory import backup_vaults

NAME = 'vaultlock.azure.backup_vaults'
HEAD = 'plugin: vaultlock.azure.backup_vaults\n'
KINDS = {'recovery_services': 'Microsoft.RecoveryServices/vaults', 'backup': 'Microsoft.DataProtection/backupVaults'}


def record(name, sub='11111111-1111-1111-1111-111111111111', rg='rg', kind='recovery_services'):
    return {'id': '/subscriptions/%s/resourceGroups/%s/providers/%s/%s' % (sub, rg, KINDS[kind], name), 'name': name,
            'resource_group': rg, 'subscription_id': sub, 'vault_type': kind, 'immutability': 'disabled',
            'location': 'westeurope', 'tags': {}}


class Fragments:
    """The doc fragments by name, as Ansible's fragment loader finds them (the plugin loader is not set up in unit tests)."""

    @staticmethod
    def get(name):
        parts = name.split('.')
        if len(parts) != 3:
            return None
        if parts[:2] == ['ansible', 'builtin']:
            module = 'ansible.plugins.doc_fragments.%s' % parts[2]
        else:
            module = 'ansible_collections.%s.%s.plugins.doc_fragments.%s' % tuple(parts)
        try:
            found = importlib.import_module(module)
        except ImportError:
            return None
        return type('Fragment', (found.ModuleDocFragment,), {'ansible_name': name})


def load_plugin():
    """An InventoryModule whose options are its documented ones (what PluginLoader._load_config_defs does)."""
    if not C.config.has_configuration_definition('inventory', NAME):
        doc = yaml.safe_load(backup_vaults.DOCUMENTATION)
        add_fragments(doc, backup_vaults.__file__, Fragments())
        C.config.initialize_plugin_configuration_definitions('inventory', NAME, doc['options'])
    plugin = backup_vaults.InventoryModule()
    plugin._load_name = NAME  # pylint: disable=protected-access
    plugin._redirected_names = []  # pylint: disable=protected-access
    return plugin


class Source:
    """An inventory file of the plugin and the fleet its reads answer with; ``calls`` records each read's scope."""

    def __init__(self, tmp_path, monkeypatch):
        self.tmp_path = tmp_path
        self.vaults = []
        self.calls = []
        self.inventory = InventoryData()
        monkeypatch.setattr(backup_vaults, 'AzureSession', lambda params: params)
        monkeypatch.setattr(backup_vaults, 'read_fleet', self._read)
        self.cache = {}
        monkeypatch.setattr(inventory_plugins, 'get_cache_plugin', lambda name, **options: self.cache)

    def _read(self, session, *scope):
        self.calls.append(scope)
        return {'vaults': [dict(v) for v in self.vaults], 'errors': [], 'subscriptions': [], 'discovery': {'fallbacks': []}}

    def parse(self, text, name='vaults.backup_vaults.yml', cache=True):
        path = self.tmp_path / name
        path.write_text(HEAD + text, encoding='utf-8')
        plugin = load_plugin()
        assert plugin.verify_file(str(path))
        plugin.parse(self.inventory, DataLoader(), str(path), cache=cache)
        self.inventory.reconcile_inventory()
        return self.inventory

    def hosts_of(self, group):
        return sorted(host.name for host in self.inventory.groups[group].get_hosts())


@pytest.fixture(name='source')
def source_fixture(tmp_path, monkeypatch):
    return Source(tmp_path, monkeypatch)


@pytest.mark.parametrize('name', ['all', 'ungrouped', 'localhost', 'unreadable', 'prod'])
def test_a_vault_named_as_a_group_or_localhost_is_qualified(source, name):
    """A vault named 'all' made Ansible's group 'all' a child of its groups (every vault of the fleet then in
    resource_group_rg, or a recursive-loop error that lost the whole inventory); 'localhost' took the controller's name."""
    source.vaults = [record(name), record('other', sub='22222222-2222-2222-2222-222222222222', rg='rg2')]
    inventory = source.parse('groups:\n  prod: false\n')
    qualified = '%s.rsv.rg.11111111-1111-1111-1111-111111111111' % name
    assert sorted(inventory.hosts) == sorted([qualified, 'other'])
    assert source.hosts_of('resource_group_rg') == [qualified]
    assert source.hosts_of('backup_vaults') == sorted([qualified, 'other'])
    assert inventory.get_host(qualified).vars['vaultlock_vault']['name'] == name


def test_a_vault_never_merges_into_a_host_of_another_source(source):
    """A static host 'web' (a machine) and a vault 'web': the vault's variables (ansible_connection=local) landed on the
    machine. The same vault from two sources stays one host."""
    source.inventory.add_host('web')
    source.inventory.set_variable('web', 'ansible_host', '10.0.0.5')
    source.vaults = [record('web'), record('db')]
    inventory = source.parse('')
    source.parse('', name='again.backup_vaults.yml')
    machine = inventory.get_host('web').vars
    assert machine['ansible_host'] == '10.0.0.5' and 'vaultlock_vault' not in machine and 'ansible_connection' not in machine
    assert sorted(inventory.hosts) == ['db', 'web', 'web.rsv.rg.11111111-1111-1111-1111-111111111111']


@pytest.mark.parametrize('text,key', [
    ('resource_group: rg1\n', 'resource_group'),
    ('subscription_id_list: [x]\ntag: {env: prod}\n', r'subscription_id_list \(did you mean subscription_ids\?\), tag \(did you mean tags\?\)'),
    ('vault_type: backup\n', 'vault_type'),
])
def test_unknown_keys_are_refused_before_any_request(source, text, key):
    """A misspelt scope option was ignored: the inventory listed every vault the identity can see."""
    source.vaults = [record('a')]
    with pytest.raises(AnsibleParserError, match='unknown option.*%s' % key):
        source.parse(text)
    assert source.calls == []


@pytest.mark.parametrize('subs,words', [
    ('["{11111111-1111-1111-1111-111111111111}"]', r"subscription_ids\[0\]: '\{11111111-1111-1111-1111-111111111111\}' is not a subscription id"),
    ('[11111111-1111-1111-1111-111111111111, "2222 2222"]', r"subscription_ids\[1\]: '2222 2222' is not a subscription id"),
    ('[all, 11111111-1111-1111-1111-111111111111]', r"subscription_ids\[0\] is 'all', which means every subscription"),
])
def test_subscription_ids_that_are_no_guid_are_refused_before_any_request(source, subs, words):
    """A subscription id with braces or a typo failed only at the read; refused here naming the entry, before any request."""
    source.vaults = [record('a')]
    with pytest.raises(AnsibleParserError, match='vaultlock.azure.backup_vaults: %s.*nothing was sent to Azure' % words):
        source.parse('subscription_ids: %s\n' % subs)
    assert source.calls == []
    assert sorted(source.parse('subscription_ids: [All]\n', name='all.backup_vaults.yml').hosts) == ['a']


def test_a_cache_answers_only_for_the_scope_it_was_built_for(source, monkeypatch):
    """The cache key is the file's path: the file narrowed to one resource group still listed the whole fleet cached before;
    so did another AZURE_SUBSCRIPTION_ID (the scope when subscription_ids is empty). No secret is in the cache."""
    cache = 'cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_timeout: 3600\n'
    source.vaults = [record('a'), record('b', rg='rg2')]
    source.parse(cache + 'subscription_ids: [all]\n', cache=False)
    assert len(source.calls) == 1
    # The same options: the cache answers, no read.
    source.inventory = InventoryData()
    source.parse(cache + 'subscription_ids: [all]\n')
    assert len(source.calls) == 1
    # Narrowed: read again with the new scope, and the cache now holds that answer.
    source.vaults = [record('b', rg='rg2')]
    source.inventory = InventoryData()
    assert sorted(source.parse(cache + 'subscription_ids: [all]\nresource_groups: [rg2]\n').hosts) == ['b']
    assert len(source.calls) == 2 and source.calls[1][2] == ['rg2']
    source.inventory = InventoryData()
    assert sorted(source.parse(cache + 'subscription_ids: [all]\nresource_groups: [rg2]\n').hosts) == ['b']
    assert len(source.calls) == 2
    # The subscription of the environment.
    monkeypatch.setenv('AZURE_SUBSCRIPTION_ID', '33333333-3333-3333-3333-333333333333')
    monkeypatch.setenv('AZURE_SECRET', 'not-in-the-cache-123')
    for expected in (3, 3):
        source.inventory = InventoryData()
        source.parse(cache + 'secret: also-not-in-the-cache-456\n')
        assert len(source.calls) == expected
    monkeypatch.setenv('AZURE_SUBSCRIPTION_ID', '44444444-4444-4444-4444-444444444444')
    source.inventory = InventoryData()
    source.parse(cache + 'secret: also-not-in-the-cache-456\n')
    assert len(source.calls) == 4
    assert 'not-in-the-cache' not in repr(source.cache)


@pytest.mark.parametrize('fleet', [
    {'vaults': [{'id': '/subscriptions/x/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/a'}]},  # no name
    {'vaults': 'a'},
    {'vaults': [None]},
    {'vaults': [], 'errors': ['a']},
    {'vaults': [dict(record('a'), name='a\nall')]},
    {'vaults': [dict(record('a'), vault_type='classic')]},
], ids=['no-name', 'vaults-text', 'vault-null', 'error-text', 'name-newline', 'kind-unknown'])
def test_a_cached_answer_of_another_version_or_edited_is_read_again(source, fleet):
    """A cache entry with the options' digest but written by another version of the collection (another record shape) or
    edited by hand: the inventory failed with a KeyError, TypeError or AttributeError ("'name'"), or listed a host whose
    name held a newline. Only an answer this version wrote and whose records it can read is used; any other is read
    again from Azure and replaced."""
    cache = 'cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_timeout: 3600\n'
    source.vaults = [record('a'), record('b', rg='rg2')]
    source.parse(cache, cache=False)
    assert len(source.calls) == 1
    [key] = list(source.cache)
    source.cache[key]['fleet'] = fleet
    source.inventory = InventoryData()
    assert sorted(source.parse(cache).hosts) == ['a', 'b']
    assert len(source.calls) == 2
    assert source.cache[key]['fleet']['vaults'][0]['name'] == 'a'
    # Another version's entry, however well formed, is read again too.
    source.cache[key]['version'] = '0.0.1'
    source.inventory = InventoryData()
    assert sorted(source.parse(cache).hosts) == ['a', 'b']
    assert len(source.calls) == 3


@pytest.mark.parametrize('text,words', [
    ('max_concurrency: .inf\n', r'max_concurrency is not a finite number \(YAML \.inf, -\.inf or \.nan\)'),
    ('api_timeout: -.inf\n', r'api_timeout is not a finite number'),
    ('cache_timeout: .nan\n', r'cache_timeout is not a finite number'),
    ('max_concurrency: true\n', r'max_concurrency must be a whole number, got true'),
    ('api_retries: false\nmax_concurrency: yes\n', r'api_retries must be a whole number, got false; max_concurrency must be a whole number, got true'),
])
def test_counts_given_as_infinity_or_a_boolean_are_refused_naming_them(source, text, words):
    """YAML's .inf for a count failed the inventory with ansible-core's own "cannot convert Infinity to integer" (an
    OverflowError that named no option), and a boolean count was taken as 1 or 0 (max_concurrency: true read one vault list
    at a time). Refused naming the option, before any request."""
    source.vaults = [record('a')]
    with pytest.raises(AnsibleParserError, match=r'^vaultlock.azure.backup_vaults: .*%s.*; nothing was read from Azure' % words):
        source.parse(text)
    assert source.calls == []
