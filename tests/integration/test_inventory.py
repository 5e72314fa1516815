# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vaultlock.azure.backup_vaults inventory plugin through ansible-inventory and the emulator.

Also runs bench/run.py --quick at a tiny size so the benchmark cannot rot (it asserts no time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.emulator.generator import generate_fleet
from tests.emulator.client import is_write
from tests.integration.conftest import REPO, fresh_fleet
from tests.integration.fleets import RG, SUB1, SUB2, states_fleet, vault, vault_id

BIN = os.path.dirname(sys.executable)


class Inventory:
    """Writes a backup_vaults.yml inventory file and runs ansible-inventory / ansible-playbook on it."""

    def __init__(self, runner, tmp_path):
        self.runner = runner
        self.tmp_path = tmp_path
        self.count = 0

    def write(self, **options):
        self.count += 1
        doc = {'plugin': 'vaultlock.azure.backup_vaults'}
        doc.update(options)
        path = self.tmp_path / ('inv%d.backup_vaults.yml' % self.count)
        path.write_text(yaml.safe_dump(doc))
        return path

    def run(self, path, *args, extra_env=None):
        """ansible-inventory --list of one source, or of several (a list of paths, each given with -i, as a user lists them)."""
        env = self.runner.env(dict({'ANSIBLE_INVENTORY_UNPARSED_FAILED': '1', 'ANSIBLE_INVENTORY_ENABLED': 'vaultlock.azure.backup_vaults'},
                                   **(extra_env or {})))
        sources = []
        for source in (path if isinstance(path, list) else [path]):
            sources += ['-i', str(source)]
        return subprocess.run([os.path.join(BIN, 'ansible-inventory')] + sources + ['--list'] + list(args), env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    def list(self, path, *args, extra_env=None):
        proc = self.run(path, *args, extra_env=extra_env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        doc = plain(json.loads(proc.stdout))
        doc['_stderr'] = proc.stderr
        return doc

    def list_of(self, **options):
        return self.list(self.write(**options))

    def list_each(self, sources):
        """One ansible-inventory run over several sources, {name: options}; returns (the listing, {name: its hosts}).

        A host two sources both add is one host of the listing, so each source also puts its hosts in a group of its own
        (the plugin's constructed ``groups`` option, condition ``true``): that group's hosts are the hosts it added.
        """
        for name, options in sources.items():
            assert 'groups' not in options, name
        doc = self.list([self.write(groups={'source_%s' % name: 'true'}, **options) for name, options in sources.items()])
        return doc, {name: hosts_of(doc, 'source_%s' % name) for name in sources}


def plain(value):
    """ansible-inventory marks strings from plugins as unsafe ({"__ansible_unsafe": "..."}): unwrap them."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def hosts_of(doc, group='all'):
    """Every host below a group, recursively."""
    out = set(doc.get(group, {}).get('hosts', []))
    for child in doc.get(group, {}).get('children', []):
        out |= hosts_of(doc, child)
    return out


@pytest.fixture
def inventory(runner, tmp_path, emulator):
    emulator.load_fleet(states_fleet())
    emulator.clear_journal()
    return Inventory(runner, tmp_path)


def test_every_vault_is_a_host_with_its_record_and_groups(inventory, emulator, vault_hosts_run):
    """Through Resource Graph: every vault a host with its record, groups and the discovery variable; through ARM the same
    records. Both sources in one ansible-inventory run (list_each), ARM first: it adds no group of its own (default_groups
    false) and keeps its records as ``record_arm`` (compose), so what the listing holds besides is the Resource Graph source's."""
    doc, hosts = inventory.list_each({'arm': {'subscription_ids': ['all'], 'discovery': 'arm', 'default_groups': False,
                                              'compose': {'record_arm': 'vaultlock_vault'}},
                                      'graph': {'subscription_ids': ['all']}})
    hostvars = doc['_meta']['hostvars']
    assert sorted(hostvars) == ['bv-disabled', 'bv-enabled', 'bv-locked', 'bv-two', 'rsv-enabled', 'rsv-locked', 'rsv-other',
                                'rsv-two', 'rsv-unset']
    assert hosts['graph'] == set(hostvars)
    record = hostvars['rsv-enabled']['vaultlock_vault']
    assert record['id'].lower() == vault_id('rsv-enabled').lower()
    assert record['immutability'] == 'enabled' and record['vault_type'] == 'recovery_services'
    assert hostvars['rsv-enabled']['ansible_connection'] == 'local'
    assert hostvars['rsv-enabled']['ansible_python_interpreter']
    assert hosts_of(doc, 'backup_vaults') == set(hostvars)
    assert hosts_of(doc, 'subscription_%s' % SUB2.replace('-', '_')) == {'rsv-two', 'bv-two'}
    assert hosts_of(doc, 'resource_group_rg_other') == {'rsv-other'}
    assert hosts_of(doc, 'vault_type_backup') == {'bv-disabled', 'bv-enabled', 'bv-locked', 'bv-two'}
    assert hosts_of(doc, 'immutability_locked') == {'rsv-locked', 'bv-locked'}
    assert hosts_of(doc, 'immutability_disabled') == {'rsv-unset', 'bv-disabled', 'rsv-other', 'bv-two'}
    assert hosts_of(doc, 'location_northeurope') == {'rsv-other'}
    # Through ARM (the first 5 requests): one subscriptions list, then one list per subscription and kind; the same hosts
    # and records. Through Resource Graph (the rest): one subscriptions list, then one query for the vaults of both
    # subscriptions. Reads only.
    journal = emulator.journal()
    assert len(journal) == 5 + 2
    assert [(j['method'], j['path']) for j in journal[5:]] == [('GET', '/subscriptions'), ('POST', '/providers/Microsoft.ResourceGraph/resources')]
    assert emulator.writes() == []
    assert hosts['arm'] == set(hostvars) and {h: v['record_arm'] for h, v in hostvars.items()} == {h: v['vaultlock_vault'] for h, v in hostvars.items()}
    # The group variable of all (ansible-inventory --list shows it in every host's variables).
    assert hostvars['rsv-enabled']['vaultlock_discovery']['source_by_subscription'] == {SUB1: 'resource_graph', SUB2: 'resource_graph'}
    # The host variable is the record vault_immutability_info returns (its task is a play of vault_hosts_run, on the same
    # fleet, not in check mode: what its own run on localhost did).
    assert json.loads((vault_hosts_run.tmp / 'info.json').read_text())['vaults'][0] == record


def test_filters(inventory):
    """Each filter's source lists only its vaults (the five sources in one ansible-inventory run, see list_each)."""
    _doc, hosts = inventory.list_each({'backup': {'vault_types': ['backup']},
                                       'rg_other': {'resource_groups': ['rg-other']},
                                       'prod': {'subscription_ids': [SUB1, SUB2], 'tags': {'env': 'prod'}},
                                       'sub2': {'subscription_ids': [SUB2]},
                                       'team': {'tags': {'team': None}}})
    assert sorted(hosts['backup']) == ['bv-disabled', 'bv-enabled', 'bv-locked']
    assert sorted(hosts['rg_other']) == ['rsv-other']
    assert sorted(hosts['prod']) == ['rsv-enabled', 'rsv-unset']
    assert sorted(hosts['sub2']) == ['bv-two', 'rsv-two']
    assert sorted(hosts['team']) == ['rsv-enabled']


def test_constructed_compose_groups_keyed_groups(inventory):
    doc = inventory.list_of(subscription_ids=['all'], default_groups=False, local_connection=False,
                            compose={'vault_id': 'vaultlock_vault.id', 'kind': "vaultlock_vault.vault_type"},
                            groups={'not_immutable': "vaultlock_vault.immutability == 'disabled'"},
                            keyed_groups=[{'key': "vaultlock_vault.tags.env | default('none')", 'prefix': 'env'}])
    hostvars = doc['_meta']['hostvars']
    assert hostvars['bv-two']['vault_id'].endswith('/backupVaults/bv-two') and hostvars['bv-two']['kind'] == 'backup'
    assert 'ansible_connection' not in hostvars['bv-two']
    assert 'backup_vaults' not in doc and 'immutability_locked' not in doc
    assert hosts_of(doc, 'not_immutable') == {'rsv-unset', 'bv-disabled', 'rsv-other', 'bv-two'}
    assert hosts_of(doc, 'env_prod') == {'rsv-unset', 'rsv-enabled'}
    assert hosts_of(doc, 'env_dev') == {'bv-disabled'}
    assert 'rsv-locked' in hosts_of(doc, 'env_none')


def test_shared_names_are_qualified(inventory, emulator):
    """Shared names are qualified (a warning says which), the others not; hostname: qualified qualifies every name. Both
    sources in one ansible-inventory run (list_each)."""
    fleet = states_fleet()
    fleet['subscriptions'][1]['resource_groups'][0]['vaults'].append(vault('rsv-enabled', 'recovery_services', 'locked'))
    emulator.load_fleet(fleet)
    doc, hosts = inventory.list_each({'all': {'subscription_ids': ['all']},
                                      'qualified': {'subscription_ids': [SUB2], 'hostname': 'qualified'}})
    hostvars = doc['_meta']['hostvars']
    first = 'rsv-enabled.rsv.%s.%s' % (RG, SUB1)
    second = 'rsv-enabled.rsv.rg-two.%s' % SUB2
    assert first in hosts['all'] and second in hosts['all'] and 'rsv-enabled' not in hostvars
    assert hostvars[second]['vaultlock_vault']['immutability'] == 'locked'
    stderr = doc['_stderr'].replace('\n', '')  # ansible-core < 2.18 wraps warnings
    # The warning of the first source (hostname: qualified never warns: every name is qualified on purpose).
    assert 'were qualified' in ' '.join(doc['_stderr'].split()) and 'rsv-enabled' in stderr
    assert 'rsv-two' in hosts['all']
    assert sorted(hosts['qualified']) == sorted(['bv-two.bv.rg-two.%s' % SUB2, 'rsv-enabled.rsv.rg-two.%s' % SUB2, 'rsv-two.rsv.rg-two.%s' % SUB2])


def test_include_policies(inventory, emulator):
    """The records with their policies through ARM (a policies list per vault), then through Resource Graph (one query):
    both sources in one ansible-inventory run (list_each), each keeping its records (compose) to compare them."""
    fleet = generate_fleet(6, 1, seed='inventory-policies')
    emulator.load_fleet(fleet)
    emulator.clear_journal()
    subscription = fleet['subscriptions'][0]['id']
    doc, hosts = inventory.list_each({'arm': {'include_policies': True, 'subscription_ids': [subscription], 'discovery': 'arm',
                                              'compose': {'record_arm': 'vaultlock_vault'}},
                                      'graph': {'include_policies': True, 'subscription_ids': [subscription],
                                                'compose': {'record_graph': 'vaultlock_vault'}}})
    hostvars = doc['_meta']['hostvars']
    assert len(hostvars) == 6 and hosts['arm'] == hosts['graph'] == set(hostvars)
    for host in hostvars.values():
        record = host['record_arm']
        assert record['policies'], record
        assert all(p['tiers'] and p['vault'] == record['id'] for p in record['policies'])
    # Through ARM first: the subscription's vault lists (2) and a policies list per vault (6); then through Resource Graph
    # one query, the vaults and their policies joined.
    journal = emulator.journal()
    gets = [j for j in journal[:-1] if j['method'] == 'GET']
    assert len([j for j in gets if j['path'].lower().endswith('/backuppolicies')]) == 6
    assert len(gets) == len(journal) - 1 == 2 + 6
    assert [j['method'] for j in journal[-1:]] == ['POST']
    # The same records from both.
    assert {h: v['record_graph'] for h, v in hostvars.items()} == {h: v['record_arm'] for h, v in hostvars.items()}


def test_cache_is_used_and_flushed(inventory, emulator, tmp_path):
    path = inventory.write(subscription_ids=['all'], cache=True, cache_plugin='ansible.builtin.jsonfile',
                           cache_connection=str(tmp_path / 'cache'), cache_timeout=3600, discovery='arm')
    first = inventory.list(path)
    assert len(emulator.journal()) == 5
    emulator.clear_journal()
    # A change in Azure is not seen while the cache is fresh, and no request is sent.
    emulator.load_fleet({'subscriptions': [{'id': SUB1, 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
        vault('rsv-new', 'recovery_services', 'enabled')]}]}]})
    emulator.clear_journal()
    cached = inventory.list(path)
    assert emulator.journal() == []
    assert cached['_meta']['hostvars'] == first['_meta']['hostvars']
    assert list((tmp_path / 'cache').iterdir())
    from ansible.release import __version__ as core_version  # pylint: disable=import-outside-toplevel
    if tuple(int(p) for p in core_version.split('.')[:2]) >= (2, 19):
        flushed = sorted(inventory.list(path, '--flush-cache')['_meta']['hostvars'])
    else:
        # ansible-inventory has --flush-cache from ansible-core 2.19 (its add_inventory_options); 2.17 and 2.18 give it
        # to ansible-playbook only (add_meta_options), which hands the inventory plugins cache=False the same way.
        play = tmp_path / 'hosts.yml'
        play.write_text(yaml.safe_dump([{'hosts': 'all', 'gather_facts': False, 'tasks': []}]))
        proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', str(path), '--flush-cache', '--list-hosts', str(play)],
                              env=inventory.runner.env({'ANSIBLE_INVENTORY_ENABLED': 'vaultlock.azure.backup_vaults'}),
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        listed = proc.stdout.split('hosts (', 1)[1].split('\n')[1:]
        flushed = sorted(line.strip() for line in listed if line.strip())
    assert flushed == ['rsv-new']
    assert len(emulator.journal()) == 3
    # The flush wrote the fresh answer to the cache: read from it, without a request.
    emulator.clear_journal()
    assert sorted(inventory.list(path)['_meta']['hostvars']) == ['rsv-new']
    assert emulator.journal() == []


def test_auth_options_are_the_modules_and_work(inventory, emulator):
    from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import AUTH_ARGSPEC  # pylint: disable=import-outside-toplevel
    env = inventory.runner.env()
    out = subprocess.run([os.path.join(BIN, 'ansible-doc'), '-t', 'inventory', '--json', 'vaultlock.azure.backup_vaults'], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    options = json.loads(out.stdout)['vaultlock.azure.backup_vaults']['doc']['options']
    assert set(AUTH_ARGSPEC) <= set(options)
    ep = emulator.endpoint
    # Options in the file beat the environment: the reader identity may list vaults.
    doc = inventory.list_of(auth_source='env', client_id=ep['readonly_client_id'], secret=ep['readonly_client_secret'],
                            tenant=ep['tenant_id'], subscription_id=SUB2)
    assert sorted(doc['_meta']['hostvars']) == ['bv-two', 'rsv-two']
    assert {j['client_id'] for j in emulator.journal()} == {ep['readonly_client_id']}
    # A wrong secret fails the inventory with Azure's error, and never prints the secret.
    proc = inventory.run(inventory.write(client_id=ep['client_id'], secret='not-the-secret-123', tenant=ep['tenant_id']))
    assert proc.returncode != 0
    assert 'backup_vaults' in proc.stderr and ('AADSTS7000215' in proc.stderr or 'invalid_client' in proc.stderr), proc.stderr
    assert 'not-the-secret-123' not in proc.stdout + proc.stderr


def test_a_failing_subscription_warns_and_all_failing_fails(inventory, emulator):
    emulator.fault(method='GET', path_regex='/subscriptions/%s/providers/Microsoft.RecoveryServices/vaults' % SUB2, status=500, times=50)
    doc = inventory.list_of(subscription_ids=[SUB1, SUB2], api_retries=0, discovery='arm')
    assert 'rsv-two' not in doc['_meta']['hostvars'] and 'bv-two' in doc['_meta']['hostvars']
    assert SUB2 in doc['_stderr']
    emulator.clear_faults()
    proc = inventory.run(inventory.write(subscription_ids=['33333333-3333-3333-3333-333333333333']))
    assert proc.returncode != 0
    assert 'SubscriptionNotFound' in proc.stderr or '404' in proc.stderr


class VaultHostsRun:
    """A finished ansible-playbook run over vault hosts: rc, output, the emulator's journal after it, its directory."""

    def __init__(self, proc, journal, tmp):
        self.rc, self.output, self.journal, self.tmp = proc.returncode, proc.stdout + proc.stderr, journal, tmp


@pytest.fixture(scope='module')
def vault_hosts_run(module_runner):
    """One ansible-playbook run, in check mode, over the hosts of an inventory source on the states fleet (--forks 4): the
    per-host play of test_playbook_over_vault_hosts_with_forks, then a play on localhost with the vault_immutability_info
    task of test_every_vault_is_a_host_with_its_record_and_groups (check_mode off, as its own run had it), whose result
    goes to info.json."""
    emulator = fresh_fleet(module_runner, states_fleet())
    tmp = module_runner.tmp_path / 'vault-hosts'
    tmp.mkdir()
    path = Inventory(module_runner, tmp).write(subscription_ids=['all'])
    play = tmp / 'per-host.yml'
    play.write_text(yaml.safe_dump([{'hosts': 'immutability_disabled', 'gather_facts': False, 'tasks': [
        {'name': 'per vault', 'vaultlock.azure.vault_immutability': {'id': '{{ vaultlock_vault.id }}', 'immutability': 'enabled'},
         'register': 'result'},
        # vaultlock_test_results (tests/integration/action_plugins, on the runner's ANSIBLE_ACTION_PLUGINS) writes the file
        # in the task worker, where ansible.builtin.copy started a Python process per host.
        {'name': 'keep', 'vaultlock_test_results': {'content': '{{ result | to_json }}', 'dest': str(tmp) + '/{{ inventory_hostname }}.json'},
         'check_mode': False}]},
        {'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': [
            {'name': 'info', 'vaultlock.azure.vault_immutability_info': {'id': vault_id('rsv-enabled')}, 'check_mode': False,
             'register': 'info'},
            {'name': 'keep info', 'vaultlock_test_results': {'content': '{{ info | to_json }}', 'dest': str(tmp / 'info.json')},
             'check_mode': False}]}]))
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', str(path), '--forks', '4', '--check', str(play)],
                          env=module_runner.env({'ANSIBLE_INVENTORY_ENABLED': 'vaultlock.azure.backup_vaults'}), capture_output=True, text=True,
                          timeout=300, check=False)
    return VaultHostsRun(proc, emulator.journal(), tmp)


def test_playbook_over_vault_hosts_with_forks(vault_hosts_run):
    run = vault_hosts_run
    assert run.rc == 0, run.output
    for host in ('rsv-unset', 'bv-disabled', 'rsv-other', 'bv-two'):
        result = json.loads((run.tmp / ('%s.json' % host)).read_text())
        assert result['changed'] is True and result['vault']['immutability'] == 'enabled'
    assert [e for e in run.journal if is_write(e)] == []


def test_bench_quick_runs(tmp_path):
    """bench/run.py end to end at a tiny size; prints figures, asserts none of them."""
    out = tmp_path / 'bench.json'
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(('AZURE_', 'ANSIBLE_')))
    proc = subprocess.run([sys.executable, os.path.join(str(REPO), 'bench', 'run.py'), '--quick', '--sizes', '20', '--runs', '1',
                           '--naive-size', '4', '--inventory-hosts', '4', '--forks', '2', '--throughput-seconds', '0.5', '--latency-ms', '0',
                           '--scale-fleets', '30x2', '--scale-arm', '30x2', '--apply-fleets', '20x2x100', '--apply-loop', '3',
                           '--json', str(out), '--output', str(tmp_path / 'performance.md')],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    results = json.loads(out.read_text())['results']
    assert set(results) == {'imports', 'overhead', 'emulator', 'audit', 'naive', 'inventory', 'scale', 'apply', 'apply_loop'}
    # The apply phase: every fixable finding applied from the controller, not one 429, the floor beside the wall time.
    (apply,) = results['apply']
    assert apply['rc'] == 0 and apply['calls']['throttled'] == 0 and apply['writes'] > 0 and apply['errors'] == 0
    assert apply['floor_s'] == max(apply['write_floor_s'], apply['read_floor_s'])
    assert results['apply_loop']['loop_writes'] == results['apply_loop']['role_writes'] == 3
    # One fleet of two subscriptions read both ways (a fleet of one subscription read through Resource Graph too added a
    # run and no check: the two-subscription fleet is read through Resource Graph the same way).
    scale = {(r['vaults'], r['subscriptions'], r['discovery']): r for r in results['scale']}
    assert sorted(scale) == [(30, 2, 'arm'), (30, 2, 'auto'), (30, 2, 'auto, again')]
    assert all(r['rc'] == 0 and r['calls']['throttled'] == 0 for r in scale.values())
    # Through Resource Graph: its queries and no ARM read; through ARM: no query.
    assert scale[(30, 2, 'auto')]['calls']['graph'] >= scale[(30, 2, 'auto')]['minimum_graph'] and scale[(30, 2, 'auto')]['calls']['arm'] == 0
    # The second run into the same report directory compares with the previous drift.json: no vault left, so no ARM read.
    again = scale[(30, 2, 'auto, again')]
    assert again['calls']['graph'] >= again['minimum_graph'] and again['calls']['arm'] == 0 and again['summary'] == scale[(30, 2, 'auto')]['summary']
    assert scale[(30, 2, 'arm')]['calls']['graph'] == 0 and scale[(30, 2, 'arm')]['calls']['arm'] >= scale[(30, 2, 'arm')]['minimum_arm']
    # --quick imports once (--import-samples) each set no other set contains; a full run takes the median of 3 of every set.
    assert results['imports'] and all(r['samples'] == 1 for r in results['imports'])
    assert results['audit'][0]['vaults'] == 20 and results['audit'][0]['arm_calls'] >= results['audit'][0]['minimum']
    assert results['inventory']['inventory_hosts'] == 4 and results['inventory']['cached_calls'] == 0
    assert 'Fleet audit' in (tmp_path / 'performance.md').read_text()
    assert "Tenant scale under Azure's throttling" in (tmp_path / 'performance.md').read_text()


# A tag value that is a template: whoever may tag a vault (Azure's Tag Contributor role, no right on the vault itself)
# writes it. It reads an environment variable of the controller, standing for what a template there can do (a pipe
# lookup runs a command, with the controller's Azure credentials in reach).
CANARY = 'canary-from-the-controller-environment'
TEMPLATED_TAG = "{{ lookup('ansible.builtin.env', 'VAULTLOCK_CANARY') }}"


def test_a_vault_tag_holding_a_template_is_never_templated(runner, tmp_path, emulator):
    """Azure's data in the host variables is text, never a template, on every ansible-core release: on 2.17 and 2.18
    (no data tagging) the plugin set it as plain text, so a template in a vault's tag ran on the controller wherever the
    inventory's compose or keyed_groups or a task read it (seen on 2.17.14: the tag's lookup returned the controller's
    environment, and a pipe lookup in a tag ran a command). Read from Azure, then from the inventory cache."""
    emulator.load_fleet({'subscriptions': [{'id': SUB1, 'resource_groups': [{'name': RG, 'location': 'westeurope', 'vaults': [
        vault('rsv-tagged', 'recovery_services', 'disabled', tags={'owner': TEMPLATED_TAG})]}]}]})
    path = Inventory(runner, tmp_path).write(subscription_ids=['all'], compose={'owner': 'vaultlock_vault.tags.owner'},
                                             keyed_groups=[{'key': 'vaultlock_vault.tags.owner', 'prefix': 'owner'}],
                                             cache=True, cache_plugin='ansible.builtin.jsonfile',
                                             cache_connection=str(tmp_path / 'cache'), cache_timeout=3600)
    play = tmp_path / 'tagged.yml'
    play.write_text(yaml.safe_dump([{'hosts': 'backup_vaults', 'gather_facts': False, 'tasks': [
        {'name': 'keep', 'vaultlock_test_results': {
            'content': '{{ {"owner": owner, "tags": vaultlock_vault.tags, "groups": group_names} | to_json }}',
            'dest': str(tmp_path) + '/{{ inventory_hostname }}-{{ run }}.json'}}]}]))
    env = runner.env({'ANSIBLE_INVENTORY_ENABLED': 'vaultlock.azure.backup_vaults', 'VAULTLOCK_CANARY': CANARY})
    for run in ('azure', 'cache'):
        proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', str(path), '-e', 'run=%s' % run, str(play)], env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        kept = json.loads((tmp_path / ('rsv-tagged-%s.json' % run)).read_text())
        assert kept['owner'] == TEMPLATED_TAG and kept['tags'] == {'owner': TEMPLATED_TAG}, (run, kept)
        assert not [group for group in kept['groups'] if 'canary' in group], (run, kept['groups'])
        assert CANARY not in proc.stdout + proc.stderr
    assert len([e for e in emulator.journal() if e['path'] != '/subscriptions']) == 1      # the second run read the cache


def test_resource_groups_whose_names_share_a_group_name_get_no_group(runner, tmp_path, emulator):
    """rg-prod and rg_prod (or rg.prod) are two resource groups, and their vaults were one default group,
    resource_group_rg_prod, since a group name turns every character but a letter, a digit or _ into _: a play on it that
    meant rg-prod wrote to rg_prod's vaults too. The group is not made (a warning names both resource groups), so such a
    play reaches no vault; the groups of one resource group written in another letter case stay one (ARM's names)."""
    emulator.load_fleet({'subscriptions': [
        {'id': SUB1, 'resource_groups': [{'name': 'rg-prod', 'location': 'westeurope', 'vaults': [vault('rsv-prod', 'recovery_services', 'disabled')]},
                                         {'name': 'rg_prod', 'location': 'westeurope', 'vaults': [vault('rsv-sandbox', 'recovery_services', 'disabled')]},
                                         {'name': 'rg-dev', 'location': 'westeurope', 'vaults': [vault('rsv-dev-one', 'recovery_services', 'disabled')]}]},
        {'id': SUB2, 'resource_groups': [{'name': 'RG-Prod', 'location': 'westeurope', 'vaults': [vault('rsv-two', 'recovery_services', 'disabled')]},
                                         {'name': 'RG-Dev', 'location': 'westeurope', 'vaults': [vault('rsv-dev', 'recovery_services', 'disabled')]}]}]})
    emulator.clear_journal()
    path = Inventory(runner, tmp_path).write(subscription_ids=['all'])
    play = tmp_path / 'per-group.yml'
    play.write_text(yaml.safe_dump([{'hosts': 'resource_group_rg_prod,resource_group_rg_dev', 'gather_facts': False, 'tasks': [
        {'name': 'enable', 'vaultlock.azure.vault_immutability': {'id': '{{ vaultlock_vault.id }}', 'immutability': 'enabled'}}]}]))
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', str(path), str(play)],
                          env=runner.env({'ANSIBLE_INVENTORY_ENABLED': 'vaultlock.azure.backup_vaults'}), capture_output=True, text=True,
                          timeout=300, check=False)
    output = ' '.join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 0, output
    written = sorted(e['path'].rsplit('/', 1)[1] for e in emulator.journal() if is_write(e))
    assert written == ['rsv-dev', 'rsv-dev-one'], written
    assert "'rg-prod' and 'rg_prod'" in output and 'resource_group_rg_prod' in output, output[-3000:]


def test_a_listed_subscription_that_returns_no_vault_warns_as_lost_read_access_would_hide_its_vaults(inventory, emulator):
    """Read access taken from the identity on a subscription's resource groups hides their vaults without an error (ARM's
    and Resource Graph's lists leave them out): a subscription that subscription_ids lists and that returned no vault is a
    warning naming it, in every discovery mode. Before, the inventory lost its hosts without a word. A subscription whose
    read failed is warned about by that error (once), and one with vaults not at all."""
    emulator.settings(revoked=['/subscriptions/%s/resourceGroups/rg-two' % SUB2])
    for discovery in ('auto', 'resource_graph', 'arm'):
        doc = inventory.list_of(subscription_ids=[SUB1, SUB2], discovery=discovery)
        warning = ' '.join(doc['_stderr'].split())
        assert 'rsv-two' not in doc['_meta']['hostvars'] and 'rsv-enabled' in doc['_meta']['hostvars'], discovery
        assert ('subscription %s, which subscription_ids lists, returned no vault' % SUB2) in warning, (discovery, warning)
        assert 'may no longer be allowed to read them' in warning and SUB1 not in warning, (discovery, warning)
    emulator.settings(revoked=['/subscriptions/%s' % SUB2])
    doc = inventory.list_of(subscription_ids=[SUB1, SUB2], discovery='arm')
    warning = ' '.join(doc['_stderr'].split())
    assert 'AuthorizationFailed' in warning and 'returned no vault' not in warning, warning


def test_a_file_not_named_backup_vaults_yml_says_how_to_name_it(inventory, emulator):
    """A user's vaults.yml with plugin: vaultlock.azure.backup_vaults got only Ansible's 'could not be verified by
    inventory plugin'; the plugin reads only *backup_vaults.yml (docs/scale-out.md), and now says so."""
    path = inventory.tmp_path / 'vaults.yml'
    path.write_text(yaml.safe_dump({'plugin': 'vaultlock.azure.backup_vaults', 'subscription_ids': [SUB1]}))
    proc = inventory.run(path, extra_env={'ANSIBLE_INVENTORY_ENABLED': 'auto'})
    assert proc.returncode != 0
    # Compared without white space: ansible-core 2.17 and 2.18 wrap a warning to the terminal's width, inside the path too.
    assert ''.join(('%s names the inventory plugin vaultlock.azure.backup_vaults, which reads only files whose name ends in '
                    'backup_vaults.yml or backup_vaults.yaml' % path).split()) in ''.join(proc.stderr.split()), proc.stderr
    # Another YAML inventory (the yaml plugin's) is not the plugin's business: no such warning for it.
    other = inventory.tmp_path / 'hosts.yml'
    other.write_text(yaml.safe_dump({'all': {'hosts': {'localhost': None}}}))
    proc = inventory.run(other, extra_env={'ANSIBLE_INVENTORY_ENABLED': 'vaultlock.azure.backup_vaults,yaml'})
    assert proc.returncode == 0 and 'names the inventory plugin' not in proc.stderr, proc.stderr
    assert emulator.journal() == []
