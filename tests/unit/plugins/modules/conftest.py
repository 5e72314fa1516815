# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Modules run in process: ``main()`` with arguments patched in (ansible.module_utils.testing.patch_module_args from
ansible-core 2.19; before it, the same patch of ``basic._ANSIBLE_ARGS`` that ansible-core's own unit tests made) and a
fake Azure behind the collection's own backends (amazon.aws's patch_ansible_module is the pattern). Every rule of a
module is a millisecond test here; tests/integration proves the same paths through the real SDKs against the emulator.

The fake replaces only the I/O primitives of module_utils/_vaults.py's backends (get, list, patch, the vault config
update, policy list/get/put) and the session; planning, reconciliation, error handling and results are the real code.
"""

from __future__ import annotations

import contextlib
import copy
import json
from unittest import mock

import pytest
from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:   # ansible-core 2.17 and 2.18 (meta/runtime.yml declares them): no ansible.module_utils.testing yet
    @contextlib.contextmanager
    def patch_module_args(args=None):
        """What 2.19's patch_module_args does, as ansible-core's own unit tests did it before (AnsibleModule reads its
        arguments from ``basic._ANSIBLE_ARGS`` when that is set)."""
        with mock.patch.object(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}).encode()):
            yield

from ansible_collections.vaultlock.azure.plugins.module_utils import _module, _vaults
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import resource_graph as _resource_graph
from ansible_collections.vaultlock.azure.plugins.module_utils._state import soft_delete as _state_soft_delete
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.pacing import SubscriptionPacer
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import DEFAULT_SETTINGS

from tests.emulator import kql
from tests.unit.builders import SUB

_RS_CONFIG = {'softDeleteFeatureState': 'softDeleteState', 'enhancedSecurityState': 'enhancedSecurityState',
              'softDeleteRetentionPeriodInDays': 'softDeleteRetentionPeriodInDays'}


def _merge(target, patch):
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeAzure:
    """Vaults and policies as ARM JSON, the writes sent, and faults to answer with."""

    def __init__(self):
        self.vaults = {}        # id (lowercase) -> ARM JSON
        self.policies = {}      # vault id (lowercase) -> {name (lowercase): ARM JSON}
        self.writes = []        # (method, what, body)
        self.faults = {}        # (operation, vault name) -> AzureOperationError, raised once
        self.refuse = {}        # (operation, vault name) -> AzureOperationError, raised every time
        self.unreadable_scopes = {}   # (subscription, vault_type) -> AzureOperationError for a listing
        self.ignored = set()    # vault names whose writes Azure accepts and does not apply
        self.fail_after = {}    # (operation, vault name) -> AzureOperationError raised once after the write was applied
        self.items = {}         # vault id (lowercase) -> protected items / backup instances (ARM JSON)
        self.unreadable_items = {}   # vault name -> AzureOperationError for its item list
        self.item_reads = []        # vault ids whose item list was read (ARM)
        self.graph_denied = set()   # subscriptions (lowercase) Resource Graph leaves out
        self.graph_error = None     # an AzureOperationError every Resource Graph query raises
        self.graph_queries = []     # (query, subscriptions) sent to Resource Graph
        self.listed = []            # (subscription, vault_type) of each ARM vault listing
        self.guard_proxies = {}     # vault id (lowercase) -> its Resource Guard proxies (ARM JSON), or the error reading them raises
        self.arm_reads = []         # the paths of the session's ARM reads (arm_get: subscriptions, items, guard proxies)

    def add(self, vault, policies=()):
        self.vaults[vault['id'].lower()] = copy.deepcopy(vault)
        self.policies[vault['id'].lower()] = {p['name'].lower(): copy.deepcopy(p) for p in policies}
        return vault

    def vault(self, vault_id):
        return self.vaults[vault_id.lower()]

    def protect(self, vault, policy, name, datasource_type=None, suspended=False):
        """Add a protected item (Recovery Services) or backup instance (Backup vault) on one of the vault's policies, with
        the body the emulator serves (tests/emulator/items.py, after the REST spec examples); ``suspended``: its backups
        stopped with the data kept (Recovery Services protectionState BackupsSuspended)."""
        from tests.emulator import items  # pylint: disable=import-outside-toplevel
        body = self.vault(vault['id'])
        stored = dict(self.policies[vault['id'].lower()][policy.lower()])
        stored.setdefault('id', vault['id'] + '/backupPolicies/' + stored['name'])
        spec = {'name': name, 'policy': policy, 'datasource_type': datasource_type, 'backups_suspended': suspended}
        make = items.rs_item_body if 'RecoveryServices' in body['type'] else items.dp_instance_body
        self.items.setdefault(vault['id'].lower(), []).append(make(body, stored, spec))

    def failed_after(self, operation, name):
        if (operation, name) in self.fail_after:
            raise self.fail_after.pop((operation, name))

    def fail(self, operation, name):
        key = (operation, name)
        if key in self.refuse:
            raise self.refuse[key]
        if key in self.faults:
            raise self.faults.pop(key)


def _backend(kind_cls, azure):
    class FakeBackend(kind_cls):
        def get(self, ref):
            raw = azure.vaults.get(ref.id.lower())
            if raw is None:
                raise AzureOperationError('read vault', ref.label, 404, 'ResourceNotFound', 'not found')
            return copy.deepcopy(raw)

        def list(self, subscription_id, resource_group=None):
            azure.listed.append((subscription_id.lower(), self.vault_type))
            error = azure.unreadable_scopes.get((subscription_id.lower(), self.vault_type))
            if error is not None:
                raise error
            found = []
            for raw in azure.vaults.values():
                parts = _vaults.parse_resource_id(raw['id'])
                if parts.get('subscription_id', '').lower() != subscription_id.lower():
                    continue
                if resource_group and parts['resource_group'].lower() != resource_group.lower():
                    continue
                if _vaults.vault_type_from_provider(*raw['type'].split('/')) == self.vault_type:
                    found.append(copy.deepcopy(raw))
            return found

        def patch(self, ref, body, operation, **kwargs):
            azure.fail(operation, ref.name)
            azure.writes.append(('PATCH', ref.name, copy.deepcopy(body)))
            if ref.name not in azure.ignored:
                _merge(azure.vault(ref.id), body)
            azure.failed_after(operation, ref.name)
            return self.get(ref)

        def update_vault_config(self, ref, body, operation):
            azure.fail(operation, ref.name)
            azure.writes.append(('PATCH vaultconfig', ref.name, copy.deepcopy(body)))
            settings = azure.vault(ref.id)['properties']['securitySettings'].setdefault('softDeleteSettings', {})
            for key, value in body['properties'].items():
                if ref.name not in azure.ignored:
                    settings[_RS_CONFIG[key]] = value
            azure.failed_after(operation, ref.name)
            return body

        def list_policies(self, ref):
            if ref.id.lower() not in azure.vaults:
                raise AzureOperationError('list backup policies', ref.label, 404, 'ResourceNotFound', 'not found')
            return [copy.deepcopy(p) for p in azure.policies.get(ref.id.lower(), {}).values()]

        def get_policy(self, ref, name):
            return copy.deepcopy(azure.policies[ref.id.lower()][name.lower()])

        def put_policy(self, ref, name, body):
            azure.fail('update backup policy', ref.name)
            azure.writes.append(('PUT', '%s/%s' % (ref.name, name), copy.deepcopy(body)))
            stored = azure.policies[ref.id.lower()][name.lower()]
            stored['properties'] = copy.deepcopy(body['properties'])
            return copy.deepcopy(stored)

    return FakeBackend


def _graph_row(raw, sub, rg, rtype, rid=None):
    return {'id': rid or raw['id'], 'name': raw['name'], 'type': rtype.lower(), 'location': raw.get('location') or '',
            'resourceGroup': rg, 'subscriptionId': sub, 'tags': raw.get('tags') or {}, 'properties': raw.get('properties'),
            'identity': raw.get('identity'), 'sku': raw.get('sku')}


class FakeGraph:
    """Resource Graph over the fake Azure: the rows Resource Graph's tables hold, queried with the emulator's KQL reader
    (tests/emulator/kql.py), so every query the collection sends must be one the emulator serves."""

    def __init__(self, azure):
        self.azure = azure
        self.calls = 0
        self.throttled = 0
        self.partial_scope = False
        self.pacer = type('Quota', (), {'waited_s': 0.0})()

    def _rows(self, table, subs):
        rows = []
        for raw in self.azure.vaults.values():
            parts = _vaults.parse_resource_id(raw['id'])
            sub, rg = parts['subscription_id'], parts['resource_group']
            if sub.lower() not in subs:
                continue
            if table == 'resources':
                rows.append(_graph_row(raw, sub, rg, raw['type']))
            elif table == 'recoveryservicesresources':
                for policy in self.azure.policies.get(raw['id'].lower(), {}).values():
                    rs = raw['type'].lower().startswith('microsoft.recoveryservices')
                    pid = '%s/backupPolicies/%s' % (raw['id'], policy['name'])
                    rows.append(_graph_row(policy, sub, rg, raw['type'] + '/backupPolicies', pid.lower() if rs else pid))
                # Protected items and backup instances: the same table holds them (the bodies the emulator serves).
                rows.extend(_graph_row(item, sub, rg, item['type']) for item in self.azure.items.get(raw['id'].lower(), []))
        if table == 'resourcecontainers':
            rows.extend({'subscriptionId': sub, 'type': 'microsoft.resources/subscriptions', 'id': '/subscriptions/' + sub, 'name': sub}
                        for sub in sorted(subs))
            groups = {(p['subscription_id'], p['resource_group']) for p in map(_vaults.parse_resource_id, (r['id'] for r in self.azure.vaults.values()))}
            rows.extend({'subscriptionId': sub, 'type': 'microsoft.resources/subscriptions/resourcegroups', 'name': rg,
                         'id': '/subscriptions/%s/resourceGroups/%s' % (sub, rg)} for sub, rg in sorted(groups) if sub.lower() in subs)
        return rows

    def query(self, query, subscriptions=None, allow_partial_scopes=False, on_page=None, key='id'):
        del key   # each query is answered whole: no page can repeat a row
        rows = self._query(query, subscriptions)
        if on_page is None:
            return rows
        on_page(rows)
        return len(rows)

    def _query(self, query, subscriptions):
        self.calls += 1
        self.azure.graph_queries.append((query, list(subscriptions or [])))
        if self.azure.graph_error is not None:
            raise self.azure.graph_error
        subs = {s.lower() for s in subscriptions or []} - self.azure.graph_denied
        if not subs:
            raise AzureOperationError('query Resource Graph', None, 400, 'NoValidSubscriptionsInQueryRequest', 'none eligible')
        parsed = kql.parse(query)
        return parsed.run(self._rows(parsed.table, subs), lambda table: self._rows(table, subs))


class FakeSession:
    """What the modules ask of an AzureSession, without a credential or a network."""

    def __init__(self, params, subscriptions=(SUB,), azure=None):
        self.params = params
        self.azure = azure
        self.settings = {k: (params.get(k) if params.get(k) is not None else v) for k, v in DEFAULT_SETTINGS.items()}
        self.settings['wait_timeout'] = 1
        self.verify = params.get('cert_validation_mode') != 'ignore'
        self.subscriptions = list(subscriptions)
        # The backends' reads and writes are faked above the pipeline and take no token; arm_get (the session's ARM read
        # pipeline) takes one a read, as the real pipeline's pacing policy does, so the summary counts those.
        self.pacer = SubscriptionPacer()

    def default_subscription(self, required=True):
        return self.params.get('subscription_id') or SUB

    def last_status(self):
        return None

    def arm_get(self, path, api_version, operation, resource=None):
        self.pacer.before_request('GET', path)
        try:
            return self._arm_get(path)
        finally:
            self.pacer.after_response('GET', path, 200, {})

    def _arm_get(self, path):
        if self.azure is not None:
            self.azure.arm_reads.append(path)
        if path == '/subscriptions':
            return {'value': [{'subscriptionId': sub, 'state': 'Enabled'} for sub in self.subscriptions]}
        for segment in ('/backupProtectedItems', '/backupInstances'):
            if self.azure is not None and path.endswith(segment):
                vault_id = path[:-len(segment)]
                self.azure.item_reads.append(vault_id)
                error = self.azure.unreadable_items.get(vault_id.rsplit('/', 1)[-1])
                if error is not None:
                    raise error
                return {'value': copy.deepcopy(self.azure.items.get(vault_id.lower(), []))}
        if self.azure is not None and path.endswith('/backupResourceGuardProxies'):
            proxies = self.azure.guard_proxies.get(path[:-len('/backupResourceGuardProxies')].lower(), [])
            if isinstance(proxies, AzureOperationError):
                raise proxies
            return {'value': copy.deepcopy(proxies)}
        raise AssertionError('unexpected ARM read %s' % path)


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


@pytest.fixture
def azure(monkeypatch):
    """The fake Azure every backend of this test reads and writes."""
    fake = FakeAzure()
    monkeypatch.setattr(_vaults, 'BACKENDS', {'recovery_services': _backend(_vaults.RecoveryServicesBackend, fake),
                                              'backup': _backend(_vaults.BackupVaultBackend, fake)})
    no_sleep = type('NoSleep', (), {'sleep': staticmethod(lambda _s: None), 'monotonic': staticmethod(lambda: 0.0)})
    monkeypatch.setattr(_state_soft_delete, 'time', no_sleep)
    monkeypatch.setattr(_resource_graph, 'ResourceGraph', lambda session, *args, **kwargs: FakeGraph(fake))
    return fake


@pytest.fixture
def run_module(monkeypatch, azure):
    """run_module(module, args, check_mode=False, diff=False) -> the result dict (``failed: true`` when it failed).

    ``warnings`` holds what module.warn() said. A module that exits without exit_json / fail_json fails the test.
    """

    def exit_json(self, **kwargs):
        kwargs.setdefault('changed', False)
        raise ModuleExit(dict(kwargs, warnings=self.__dict__.get('_test_warnings', [])))

    def fail_json(self, msg, **kwargs):
        raise ModuleExit(dict(kwargs, failed=True, msg=msg, warnings=self.__dict__.get('_test_warnings', [])))

    def warn(self, warning, *args, **kwargs):
        self.__dict__.setdefault('_test_warnings', []).append(warning)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', warn)
    monkeypatch.setattr(_module.VaultlockModule, 'session',
                        property(lambda self: self.__dict__.setdefault('_fake', FakeSession(self.params, azure=azure))))

    def run(module, args, check_mode=False, diff=False):
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        with patch_module_args(args):
            try:
                module.main()
            except ModuleExit as done:
                json.dumps(done.result)   # a result Ansible could not send back is a bug
                return done.result
            except SystemExit as exc:
                raise AssertionError('the module exited without a result (%s)' % exc) from None
        raise AssertionError('the module returned without exit_json or fail_json')

    return run


@pytest.fixture
def action():
    """action(plugin_class, args, own=None, check_mode=False) -> (ActionModule, the arguments the module was run with).

    The task is a stand-in: ``args`` are its arguments after module_defaults, ``own`` what the task itself wrote (its data
    structure); running a module returns ``{'changed': False, 'module_args': <args>}`` instead of sending anything.
    """
    from unittest.mock import MagicMock  # pylint: disable=import-outside-toplevel

    def make(plugin_class, args, own=None, check_mode=False):
        task = MagicMock()
        task.args = dict(args)
        task.async_val = 0
        task.check_mode = check_mode
        task.collections = []
        task.get_ds.return_value = {'vaultlock.azure.%s' % (getattr(plugin_class, 'MODULE', None) or 'drift_diff'): dict(args if own is None else own)}
        connection = MagicMock()
        connection._shell.tmpdir = None
        plugin = plugin_class(task, connection, MagicMock(check_mode=check_mode), MagicMock(), MagicMock(), MagicMock())
        plugin._execute_module = lambda module_args=None, task_vars=None, wrap_async=False: {'changed': False, 'module_args': module_args}
        plugin._remove_tmp_path = lambda path: None
        plugin._early_needs_tmp_path = lambda: False
        return plugin
    return make
