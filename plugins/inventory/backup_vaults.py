# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: backup_vaults
short_description: Azure Backup vaults as inventory hosts
version_added: 0.1.0
description:
  - Makes every Recovery Services vault and Backup vault of one or more subscriptions an inventory host, so a fleet too big
    for one task is driven host by host with C(forks), and split across nodes with AWX / Ansible Automation Platform job slicing.
  - Reads vaults the way M(vaultlock.azure.vault_immutability_info) does (through Azure Resource Graph by default, see
    O(discovery); through ARM one list call per subscription, vault kind and page, in parallel) and gives each host the same
    vault record in the host variable C(vaultlock_vault).
  - Where the vaults came from is the variable C(vaultlock_discovery) of the group C(all) (the
    RV(vaultlock.azure.vault_immutability_info#module:discovery) block of the module); a subscription read from ARM instead of
    Resource Graph is also a warning.
  - "Default groups: C(backup_vaults) (every vault), C(subscription_<id>), C(resource_group_<name>), C(vault_type_<recovery_services|backup>),
    C(immutability_<disabled|enabled|locked>) and C(location_<region>). Group names are lowercased and every character other
    than a letter, a digit or C(_) becomes C(_). A resource group name appears in every subscription that has it: use
    O(keyed_groups) with C(vaultlock_vault.subscription_id) for per-subscription resource group groups. A default group that
    values Azure keeps apart would share (the resource groups C(rg-prod), C(rg_prod) and C(rg.prod) all make
    C(resource_group_rg_prod)) is not made, with a warning naming them, so that a play on it never reaches the vaults of
    another resource group; the same name in another letter case is one resource group, as ARM compares names."
  - Host names are vault names. Vault names are unique only per resource group and vault kind, so when two vaults of the
    inventory share a name, each of them is named C(<name>.<rsv|bv>.<resource group>.<subscription id>) instead (lowercase), and a
    warning says so. O(hostname=qualified) names every vault that way, so a host name never changes as the fleet grows.
  - A vault whose name is that of a group (C(all), C(ungrouped), C(unreadable), a group of O(groups) or of an inventory source
    read before), C(localhost), or a host of another inventory source that is not this vault is named the qualified way too,
    with a warning; before, a vault named C(all) made Ansible's group C(all) a member of the vault's groups, and a vault named
    like a machine of a static inventory gave that machine its variables. The same vault listed by two sources is one host.
  - A key of the inventory file that is not an option of this plugin (C(resource_group) for O(resource_groups), say) is an
    error before any request, naming the option it may stand for; it was ignored, and the inventory then held every vault the
    identity can see.
  - A number option given as a boolean (V(true) for O(max_concurrency), which ansible-core takes as 1) or as YAML's C(.inf),
    C(-.inf) or C(.nan) is an error before any request, naming the option.
  - Vault hosts are not machines. With O(local_connection) (the default) each host gets C(ansible_connection=local) and
    C(ansible_python_interpreter) set to the Python that runs Ansible (which has the Azure SDKs), so collection modules run on
    the controller for each vault host without C(delegate_to).
  - Results can be cached with Ansible's inventory cache (O(cache), O(cache_plugin)). The cache key is the inventory file path;
    a cached answer is used only for the options it was read with (the scope options, the authentication options and the
    E(AZURE_*) environment but secrets), so a file narrowed to fewer vaults, or another subscription, is read again rather
    than answered with the fleet cached before. An answer cached by another version of the collection, or one whose vault
    records this version cannot read (a cache edited by hand), is read again too. To read again with the same options, flush the cache with
    C(ansible-playbook --flush-cache) or, from ansible-core 2.19, with C(ansible-inventory --flush-cache) (before 2.19 only
    C(ansible-playbook) has the option).
  - A vault whose body Azure returned with a value the collection cannot read (an immutability state it does not know, a day
    count that is not a whole number, no C(properties)) becomes a host of the group C(unreadable) only, with
    C(vaultlock_vault) holding its id, name, resource group, subscription, vault type and C(unreadable.field) /
    C(unreadable.message); a warning names it. It is never left out silently, and it hides no other vault.
  - With O(include_policies), a vault one of whose policies holds a retention value the collection cannot read (a count of
    more than 6 digits, a duration that is not ISO 8601) stays a host with its groups, is also a host of the group
    C(unreadable_policies), and a warning names the vault, the policy and the values; C(vaultlock_vault.policies[].unreadable)
    lists them.
  - A Resource Graph row that is not an object is left out and is a warning of its own (the other rows are read) with
    O(discovery=resource_graph); with O(discovery=auto) such an answer makes the subscriptions read from ARM instead.
  - What Azure returned (tags, names, the discovery block) is text, never a template, on every ansible-core release. Anyone who
    may tag a vault writes its tags, and on ansible-core 2.17 and 2.18 a template in a tag value (a lookup, a pipe) ran on the
    controller wherever O(compose), O(keyed_groups), O(groups) or a task read it.
  - Read access taken from the identity hides vaults without an error when it is taken from a subscription's resource groups
    (ARM's and Resource Graph's lists leave their vaults out), so a subscription O(subscription_ids) lists that returns no vault
    is a warning naming it (one whose read fails is a warning with Azure's error, as before). With O(subscription_ids=[all]) a
    subscription the identity no longer sees is not listed at all, and this plugin keeps no record of earlier answers to compare
    with; list the subscriptions, or gate on the vaultlock.azure.harden_backup_vaults role's check runs, which compare each run
    with the previous one (its C(harden_backup_vaults_allow_scope_loss)).
  - Authentication works as for the modules (the same options and E(AZURE_*) environment variables). C(module_defaults) does not
    reach inventory plugins; set the options in the inventory file or, better for secrets, in the environment.
author:
  - vaultlock.azure maintainers (@vaultlock)
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
  - vaultlock.azure.azure_auth
  - vaultlock.azure.scope.fleet
options:
  plugin:
    description: The name of this plugin. The inventory file name must end in C(backup_vaults.yml) or C(backup_vaults.yaml).
    type: str
    required: true
    choices: [vaultlock.azure.backup_vaults]
  subscription_ids:
    default: []
  tags:
    default: {}
  resource_groups:
    description:
      - Only vaults of these resource groups (in each subscription). Through Resource Graph one condition of the query; through
        ARM one list call per resource group, vault kind and page, which works when the identity may only read those resource
        groups.
      - Empty (default), every resource group.
    type: list
    elements: str
    default: []
  include_policies:
    description:
      - Add each vault's backup policies with their retention normalised to tiers to C(vaultlock_vault.policies). One list
        call per vault.
    type: bool
    default: false
  discovery:
    description:
      - Where the vaults are read from, as O(vaultlock.azure.vault_immutability_info#module:discovery).
      - V(auto) reads through Azure Resource Graph and falls back to ARM per subscription where Resource Graph cannot see the
        subscription or a query fails; V(resource_graph) never falls back; V(arm) reads through ARM only.
    type: str
    choices: [auto, resource_graph, arm]
    default: auto
    version_added: 0.2.0
  hostname:
    description:
      - V(name) names hosts after their vault, qualifying only the names that two vaults of the inventory share.
      - V(qualified) names every host C(<name>.<rsv|bv>.<resource group>.<subscription id>).
    type: str
    choices: [name, qualified]
    default: name
  default_groups:
    description: Add the default groups (see the description). Turn off to build groups only with O(groups) and O(keyed_groups).
    type: bool
    default: true
  local_connection:
    description:
      - Set C(ansible_connection=local) and C(ansible_python_interpreter) (the Python running Ansible) on every vault host.
      - Turn off to set them yourself, for example with O(compose).
    type: bool
    default: true
  max_concurrency:
    description: How many list calls run at once (the same default as M(vaultlock.azure.vault_immutability_info)); at least 1.
    type: int
    default: 32
notes:
  - Every authentication option can also come from its E(AZURE_*) environment variable, which keeps secrets out of the
    inventory file.
'''

EXAMPLES = r'''
# vaults.backup_vaults.yml: every vault the identity can see, grouped, cached for an hour
plugin: vaultlock.azure.backup_vaults
subscription_ids: [all]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/vaultlock-inventory
cache_timeout: 3600
keyed_groups:
  - key: vaultlock_vault.tags.env | default('none')
    prefix: env
groups:
  not_immutable: vaultlock_vault.immutability == 'disabled'
compose:
  vault_id: vaultlock_vault.id

# prod.backup_vaults.yml: production vaults of two subscriptions, with their policies
plugin: vaultlock.azure.backup_vaults
subscription_ids:
  - 11111111-1111-1111-1111-111111111111
  - 22222222-2222-2222-2222-222222222222
tags:
  env: prod
include_policies: true
hostname: qualified
'''

import difflib
import hashlib
import json
import math
import os
import re
import sys

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import auth_params
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import check_subscription_ids, every_subscription
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.scope import read_fleet as _read_fleet
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    MissingLibraryError,
    VaultlockError,
    escaped,
    has_control,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import COLLECTION_VERSION, DEFAULT_DISCOVERY

HOST_VAR = 'vaultlock_vault'
DISCOVERY_VAR = 'vaultlock_discovery'
UNREADABLE_GROUP = 'unreadable'
UNREADABLE_POLICIES_GROUP = 'unreadable_policies'
KIND_SHORT = {'recovery_services': 'rsv', 'backup': 'bv'}
_UNSAFE = re.compile(r'[^a-z0-9_]')


def unreadable_policies(record):
    """[(policy name, [tier: value, ...])] of a vault record's policies with retention values the collection cannot read."""
    found = []
    for policy in record.get('policies') or []:
        if isinstance(policy, dict) and policy.get('unreadable'):
            values = ['%s: %s' % (entry.get('tier') or 'retention', str(entry.get('value'))[:80]) for entry in policy['unreadable']]
            found.append((policy.get('name'), values))
    return found


def group_name(prefix, value):
    """A group name Ansible accepts without warnings: lowercase letters, digits and underscores."""
    return _UNSAFE.sub('_', ('%s_%s' % (prefix, value)).lower())


def default_group_values(record):
    """(prefix, value) of each default group of a vault record (a group per value that is not empty)."""
    return [(prefix, record.get(key)) for prefix, key in (('subscription', 'subscription_id'), ('resource_group', 'resource_group'),
                                                          ('vault_type', 'vault_type'), ('immutability', 'immutability'),
                                                          ('location', 'location')) if record.get(key)]


def shared_group_names(records):
    """{group name: [the values, lowercase]} of the default groups that values Azure keeps apart would share: group_name
    turns every character but a letter, a digit or _ into _, so the resource groups rg-prod, rg_prod and rg.prod (or
    rg-bäck and rg-böck) were one group, and a play on it meant for one of them wrote to the vaults of the others. The
    same name in another letter case is one value, as ARM compares names."""
    values = {}
    for record in records:
        for prefix, value in default_group_values(record):
            values.setdefault(group_name(prefix, value), set()).add(str(value).lower())
    return dict((name, sorted(found)) for name, found in values.items() if len(found) > 1)


def qualified_name(record):
    return ('%s.%s.%s.%s' % (record['name'], KIND_SHORT.get(record['vault_type'], record['vault_type']), record['resource_group'],
                             record['subscription_id'])).lower()


# Names a vault host must never take: Ansible's own groups and its implicit localhost (the collection playbook's hosts),
# and this plugin's groups. A vault may be named 'all': as a host name Ansible took it for the group 'all'.
RESERVED_NAMES = ('all', 'ungrouped', 'localhost', 'backup_vaults', UNREADABLE_GROUP, UNREADABLE_POLICIES_GROUP)


def host_names(records, mode, taken=None):
    """{vault id (lowercase): host name}, the names that had to be qualified because several vaults share them, and the
    names qualified because they are taken: ``taken`` maps a lowercase name to the vault id (lowercase) of the host
    that has it, or None for a group, a reserved name or a host that is not this vault (a vault never merges into it)."""
    taken = dict(taken or {})
    for name in RESERVED_NAMES:
        taken.setdefault(name, None)
    counts = {}
    for record in records:
        key = str(record['name']).lower()
        counts[key] = counts.get(key, 0) + 1
    names = {}
    shared = set()
    clashing = set()
    for record in records:
        key = str(record['name']).lower()
        vault = str(record['id']).lower()
        clash = key in taken and taken[key] != vault
        if mode == 'qualified' or counts[key] > 1 or clash:
            names[vault] = qualified_name(record)
            if mode != 'qualified':
                (shared if counts[key] > 1 else clashing).add(record['name'])
        else:
            names[vault] = record['name']
    return names, sorted(shared), sorted(clashing)


_RECORD_TEXT = ('id', 'name', 'resource_group', 'subscription_id', 'vault_type')


def readable_cached_fleet(entry, scope):
    """The fleet of a cache entry, when this version of the collection wrote it for these options and its records have the
    shape this version reads; None otherwise (read again). Another version's records (or a cache edited by hand) failed the
    inventory with a KeyError or a TypeError, or named a host with a newline."""
    if not isinstance(entry, dict) or entry.get('version') != COLLECTION_VERSION or entry.get('scope') != scope:
        return None
    fleet = entry.get('fleet')
    if not isinstance(fleet, dict) or not isinstance(fleet.get('vaults'), list) or not isinstance(fleet.get('errors', []), list):
        return None
    if not isinstance(fleet.get('discovery', {}), dict) or not all(isinstance(error, dict) for error in fleet.get('errors', [])):
        return None
    for record in fleet['vaults']:
        if not _text_fields(record, _RECORD_TEXT):
            return None
    # The unreadable vaults the errors hold with an id and a name are hosts of the group unreadable.
    for error in fleet.get('errors', []):
        vault = error.get('vault')
        if vault is None:
            continue
        if not isinstance(vault, dict) or (vault.get('id') and vault.get('name') and not _text_fields(vault, ('id', 'name'))):
            return None
    return fleet


def _text_fields(record, keys):
    """Whether a cached vault record holds a known vault type and, under ``keys``, text without control characters."""
    if not isinstance(record, dict) or record.get('vault_type') not in KIND_SHORT:
        return False
    return all(isinstance(record.get(key), str) and record[key] and not has_control(record[key]) for key in keys)


def read_fleet(session, subscription_ids, vault_types, resource_groups, tags, include_policies, max_concurrency,
               discovery=DEFAULT_DISCOVERY):
    """{vaults (sorted by id), errors (scopes that could not be read), subscriptions, discovery} (module_utils/_discovery/scope.py).
    Raises AzureOperationError when nothing could be read."""
    return _read_fleet(session, subscription_ids, vault_types, resource_groups or None, tags, include_policies, max_concurrency,
                       discovery)


_PLUGIN_LINE = re.compile(r'^plugin:\s*[\'"]?(vaultlock\.azure\.)?backup_vaults[\'"]?\s*(#.*)?$', re.M)


def _names_this_plugin(path):
    """Whether the YAML file at ``path`` says ``plugin: vaultlock.azure.backup_vaults`` (its first 64 KiB, read as text)."""
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return bool(_PLUGIN_LINE.search(handle.read(65536)))
    except OSError:
        return False


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Azure Backup vaults (Recovery Services vaults and Backup vaults) as hosts."""

    NAME = 'vaultlock.azure.backup_vaults'

    def verify_file(self, path):
        if super().verify_file(path):
            if path.endswith(('backup_vaults.yml', 'backup_vaults.yaml')):
                return True
            if path.endswith(('.yml', '.yaml')) and _names_this_plugin(path):
                # Ansible says only that the source 'could not be verified': say which rule the file breaks.
                self.display.warning('%s names the inventory plugin vaultlock.azure.backup_vaults, which reads only files whose '
                                     'name ends in backup_vaults.yml or backup_vaults.yaml (vaults.backup_vaults.yml, say): '
                                     'rename it' % path)
        return False

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        try:
            config = self._read_config_data(path)
        except (OverflowError, ValueError, AnsibleError):
            # ansible-core's conversion of YAML's .inf or .nan to a whole number ("cannot convert Infinity to integer") names
            # no option: the file's numbers are checked first, naming it. ansible-core 2.19 raises AnsibleOptionsError for
            # both; 2.17 and 2.18 raise it for .nan (a ValueError) but wrap .inf's OverflowError in a plain AnsibleError
            # ("Unhandled exception when retrieving max_concurrency"), so any AnsibleError is checked the same way.
            self._check_numbers(loader.load_from_file(path, cache='none'), path)
            raise
        self._check_keys(config, path)
        self._check_numbers(config, path)
        try:
            # Before any request, and before a cached answer is looked up.
            check_subscription_ids(self.get_option('subscription_ids'))
        except VaultlockError as exc:
            raise AnsibleParserError('vaultlock.azure.backup_vaults: %s' % exc) from exc
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        update_cache = self.get_option('cache') and not cache
        scope = self._scope()
        fleet = None
        if use_cache:
            try:
                cached = self._cache[cache_key]
            except KeyError:
                cached = None
            # The cache key is the file's path: an answer cached for other options (a wider scope, another identity), by
            # another version of the collection, or that this version cannot read is read again, never listed.
            fleet = readable_cached_fleet(cached, scope)
            if fleet is None:
                update_cache = True
        if fleet is None:
            fleet = self._fetch()
        if update_cache:
            self._cache[cache_key] = {'version': COLLECTION_VERSION, 'scope': scope, 'fleet': fleet}
        self._populate(fleet)

    def _check_keys(self, config, path):
        """Refuse a key that is no option: a misspelt scope option (resource_group for resource_groups) was ignored, and the
        inventory then held every vault the identity can see."""
        known = set(self._options)
        unknown = sorted(str(key) for key in config if str(key) not in known)
        if unknown:
            hints = []
            for key in unknown:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hints.append('%s (did you mean %s?)' % (escaped(key), close[0]) if close else escaped(key))
            raise AnsibleParserError('vaultlock.azure.backup_vaults: %s has unknown option(s) %s; nothing was read from Azure'
                                     % (path, ', '.join(hints)))

    def _check_numbers(self, config, path):
        """Refuse a number option given as a boolean (ansible-core takes true as 1) or as YAML's .inf, -.inf or .nan."""
        if not isinstance(config, dict):
            return
        definitions = C.config.get_configuration_definitions('inventory', self._load_name) or {}
        problems = []
        for key in sorted(str(name) for name in config):
            kind = (definitions.get(key) or {}).get('type')
            if kind not in ('int', 'integer', 'float'):
                continue
            value = config[key]
            if isinstance(value, bool):
                problems.append('%s must be %s, got %s' % (key, 'a number' if kind == 'float' else 'a whole number',
                                                           'true' if value else 'false'))
            elif isinstance(value, float) and not math.isfinite(value):
                problems.append('%s is not a finite number (YAML .inf, -.inf or .nan)' % key)
        if problems:
            raise AnsibleParserError('vaultlock.azure.backup_vaults: %s: %s; nothing was read from Azure' % (path, '; '.join(problems)))

    def _scope(self):
        """A digest of the options that decide which vaults are read and what their records hold, and of the identity
        (never a secret): the cached answer of other options is not this one's."""
        auth = {name: value for name, value in auth_params(self.get_option).items()
                if name not in ('secret', 'certificate_password', 'api_retries', 'api_timeout', 'polling_interval', 'wait_timeout')}
        options = {name: self.get_option(name) for name in ('subscription_ids', 'vault_types', 'resource_groups', 'tags',
                                                            'include_policies', 'discovery')}
        # The AZURE_* environment the credential is built from (AZURE_SUBSCRIPTION_ID is the scope when subscription_ids is
        # empty), without secrets.
        env = {name: value for name, value in os.environ.items()
               if name.startswith('AZURE_') and not any(word in name for word in ('SECRET', 'PASSWORD', 'TOKEN'))}
        text = json.dumps({'auth': auth, 'options': options, 'env': env}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode('utf-8')).hexdigest()

    def _fetch(self):
        try:
            fleet = read_fleet(AzureSession(auth_params(self.get_option)), self.get_option('subscription_ids'), self.get_option('vault_types'),
                               self.get_option('resource_groups'), self.get_option('tags'), self.get_option('include_policies'),
                               self.get_option('max_concurrency'), self.get_option('discovery'))
        except MissingLibraryError as exc:
            raise AnsibleParserError('vaultlock.azure.backup_vaults needs the Python package %s (pip install -r requirements.txt '
                                     'from the collection): %s' % (exc.package, exc.exception))
        except AzureOperationError as exc:
            raise AnsibleParserError('vaultlock.azure.backup_vaults: %s' % exc.describe())
        except VaultlockError as exc:
            raise AnsibleParserError('vaultlock.azure.backup_vaults: %s' % exc)
        for fallback in fleet['discovery']['fallbacks']:
            self.display.warning('vaultlock.azure.backup_vaults read subscription %s from ARM instead of Resource Graph: %s'
                                 % (fallback['subscription_id'], fallback['reason']))
        for error in fleet['errors']:
            self.display.warning('vaultlock.azure.backup_vaults could not read %s: %s (%s)' % (error['scope'], error['message'], error['code']))
        for sub in self._listed_without_vaults(fleet):
            self.display.warning('vaultlock.azure.backup_vaults: subscription %s, which subscription_ids lists, returned no vault%s: '
                                 'if it holds vaults, this identity may no longer be allowed to read them (read access taken away '
                                 'from a subscription\'s resource groups hides their vaults from ARM\'s and Resource Graph\'s lists '
                                 'without an error), and they are not hosts of this inventory'
                                 % (sub, ' with the resource_groups, tags and vault_types of this source'
                                    if self.get_option('resource_groups') or self.get_option('tags') else ''))
        for record in fleet['vaults']:
            for name, values in unreadable_policies(record):
                self.display.warning("vaultlock.azure.backup_vaults: vault %s, policy '%s': Azure returned retention the collection "
                                     "cannot read (%s); the vault is a host of group %s, and vaultlock_vault.policies[].unreadable "
                                     "lists the values" % (record['id'], name, '; '.join(values), UNREADABLE_POLICIES_GROUP))
        return fleet

    def _listed_without_vaults(self, fleet):
        """The subscriptions subscription_ids names (not [all]: there the identity's own list is the scope, and a subscription
        it no longer sees is not listed at all) that returned no vault, readable or not, and no error of their own (an error
        is a warning already)."""
        wanted = self.get_option('subscription_ids') or []
        if not wanted or every_subscription(wanted):
            return []
        found = set()
        for record in list(fleet.get('vaults') or []) + [error.get('vault') for error in fleet.get('errors') or []]:
            parts = str(record.get('id') or '').split('/') if isinstance(record, dict) else []
            if len(parts) > 2:
                found.add(parts[2].lower())
        failed = ' '.join(str(error.get('scope') or '') for error in fleet.get('errors') or []).lower()
        return [sub for sub in fleet.get('subscriptions') or [] if str(sub).lower() not in found and str(sub).lower() not in failed]

    def _taken_names(self):
        """{lowercase name: vault id or None} of the names already in the inventory (groups; hosts, with the vault a host of
        this plugin stands for, so the same vault from two sources stays one host) and of the O(groups) this source makes."""
        taken = {str(name).lower(): None for name in list(self.inventory.groups) + list(self.get_option('groups') or {})}
        for name, host in self.inventory.hosts.items():
            record = host.vars.get(HOST_VAR)
            vault = str(record.get('id')).lower() if isinstance(record, dict) and record.get('id') else None
            if taken.get(str(name).lower(), vault) == vault:
                taken[str(name).lower()] = vault
        return taken

    def _populate(self, fleet):
        """Hosts, groups and variables of the fleet (read from Azure or from the cache).

        What Azure returned is set as text, never a template (``wrap_var``): anyone who may tag a vault writes its tags, and
        on ansible-core 2.17 and 2.18 a template in a variable an inventory plugin sets runs wherever it is read (compose,
        keyed_groups, a task), with the controller's credentials in reach. ansible-core 2.19 trusts no plugin's text as
        a template anyway; there ``wrap_var`` changes nothing.
        """
        records = fleet.get('vaults') or []
        unreadable = [error['vault'] for error in fleet.get('errors') or []
                      if isinstance(error.get('vault'), dict) and error['vault'].get('id') and error['vault'].get('name')]
        names, shared, clashing = host_names(records + unreadable, self.get_option('hostname'), self._taken_names())
        if shared:
            self.display.warning('vaultlock.azure.backup_vaults: vault names shared by several vaults were qualified '
                                 '(<name>.<rsv|bv>.<resource group>.<subscription id>): %s' % ', '.join(shared))
        if clashing:
            self.display.warning('vaultlock.azure.backup_vaults: vault names that are the name of a group, of localhost or of a '
                                 'host of another inventory source were qualified (<name>.<rsv|bv>.<resource group>.<subscription '
                                 'id>): %s' % ', '.join(clashing))
        strict = self.get_option('strict')
        default_groups = self.get_option('default_groups')
        local = self.get_option('local_connection')
        if fleet.get('discovery'):
            self.inventory.set_variable('all', DISCOVERY_VAR, wrap_var(fleet['discovery']))
        shared_groups = shared_group_names(records) if default_groups else {}
        if shared_groups:
            self.display.warning('vaultlock.azure.backup_vaults: these default groups are not made, since values Azure keeps apart '
                                 'would share their names (a play on one would reach the vaults of the others): %s; use '
                                 'keyed_groups, groups or compose to group these vaults'
                                 % '; '.join('%s (%s)' % (name, ' and '.join("'%s'" % escaped(value) for value in values))
                                             for name, values in sorted(shared_groups.items())))
        if default_groups:
            self.inventory.add_group('backup_vaults')
        for record in records:
            host = names[str(record['id']).lower()]
            self.inventory.add_host(host)
            self.inventory.set_variable(host, HOST_VAR, wrap_var(record))
            if local:
                self.inventory.set_variable(host, 'ansible_connection', 'local')
                self.inventory.set_variable(host, 'ansible_python_interpreter', sys.executable)
            if default_groups:
                self.inventory.add_child('backup_vaults', host)
                for prefix, value in default_group_values(record):
                    if group_name(prefix, value) not in shared_groups:
                        group = self.inventory.add_group(group_name(prefix, value))
                        self.inventory.add_child(group, host)
            if unreadable_policies(record):
                # Its state is known, its policies' retention in part not: a group of its own says so.
                self.inventory.add_group(UNREADABLE_POLICIES_GROUP)
                self.inventory.add_child(UNREADABLE_POLICIES_GROUP, host)
            hostvars = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option('compose'), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, host, strict=strict)
        if unreadable:
            # A vault whose body could not be read is a host of its own group, never silently left out and never put
            # in a group (immutability_*, say) that would claim to know its state.
            self.inventory.add_group(UNREADABLE_GROUP)
        for record in unreadable:
            host = names[str(record['id']).lower()]
            self.inventory.add_host(host, group=UNREADABLE_GROUP)
            self.inventory.set_variable(host, HOST_VAR, wrap_var(record))
            if local:
                self.inventory.set_variable(host, 'ansible_connection', 'local')
                self.inventory.set_variable(host, 'ansible_python_interpreter', sys.executable)
