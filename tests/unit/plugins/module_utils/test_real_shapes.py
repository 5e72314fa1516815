# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every shape a real vault, policy or protected item can take, read as an independent checker replays them: the body is
served verbatim by the emulator (a raw_body fault) and read through the collection's own ARM pipeline (azure-mgmt-core,
paging), then judged: the vault record, its drift against a baseline and its lock readiness.

The bodies are recorded ones (tests/fixtures/azure-real, each folder's SOURCE.txt; tests/fixtures/azure-reference,
SOURCE.md), served as recorded or with the one change each case names. What Azure means by each change:

- enum values in another letter case: ARM enums are case-insensitive ("unlocked", "LOCKED", "alwayson"; the SDKs compare
  them case-insensitively, api-notes.md), and Recovery Services answers AlwaysON where requests say AlwaysOn (recorded);
- softDeleteSettings null, or a vault without securitySettings: recorded (ps-rs-immutability put-create-disabled, the
  same vault's next GET says Enabled 14 days; ps-dp-getvault at api-version 2023-05-01): soft delete is not reported,
  which is not off (_rules/soft_delete.py NOT_REPORTED);
- immutabilitySettings null, {} or absent: immutability was never set, Disabled (the create answer says Disabled);
- "Invalid" for a setting never set: recorded (multiUserAuthorization, standardTierStorageRedundancy); for immutability,
  whose enum has no Invalid (sdk-models/enums.txt), it is unreadable;
- ids as Azure writes them in other casing (``/Subscriptions/``, ``resourcegroups``): the spec's protected item list
  and the recorded Backup vault (ps-dp-getvault) do;
- a count written as a string, ISO 8601 durations with a time part or a zero (PT0S, P0D): not what the specs allow
  (RetentionDuration.count is an int32; deleteAfter.duration a positive ISO 8601 duration); a value the collection cannot
  read is a finding no run can fix and a blocker of the lock, never a tier read as something else.
"""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import attach_policies
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.items import attach_items
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.resource_graph import attach_item_rows
from ansible_collections.vaultlock.azure.plugins.module_utils._drift import validate_baseline, vault_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import UnreadableResourceError
from ansible_collections.vaultlock.azure.plugins.module_utils._readiness import readiness
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import check_minimum
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import vault_key
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend, vault_record
from tests.fixtures import load_real, load_reference
from tests.unit.builders import SUB, emulator_session

RS = 'recovery_services'
DP = 'backup'
TODAY = '2026-12-01'

# Recorded vault bodies (GET, provisioningState Succeeded).
RS_VAULT = 'ps-rs-immutability/get-unlocked.json'                       # Unlocked, soft delete Enabled 14 days
DP_VAULT = 'cliext-dp-vault-update/get-vault-initial.json'              # Disabled, soft delete On 14.0 days


def fleet():
    return {'subscriptions': [{'id': SUB, 'resource_groups': [{'name': 'rg-t', 'location': 'westeurope', 'vaults': [
        {'name': 'rsv-a', 'type': 'recovery_services', 'immutability': 'disabled'}]}]}]}


@pytest.fixture
def session(emulator, monkeypatch):
    return emulator_session(emulator, monkeypatch, fleet())


def _path(body):
    """The path regex of a vault's own GET (any casing of its id: ARM paths are case-insensitive, the emulator's too)."""
    return '(?i)/%s/%s$' % (body['id'].split('/')[-2], body['id'].split('/')[-1])


def read_vault(emulator, session, body, kind):
    """The vault body as served, read by the collection: backend(...).get through the ARM pipeline, then vault_record."""
    emulator.fault(method='GET', path_regex=_path(body), status=200, raw_body=json.dumps(body))
    ref = VaultRef.parse_id(body['id'].replace('/Subscriptions/', '/subscriptions/'), kind)
    return vault_record(backend(session, kind).get(ref), kind)


def _set(path, value):
    """A change of one recorded body: the value at ``path`` (dotted) set, or removed when ``value`` is the DROP marker."""
    def change(body):
        keys = path.split('.')
        node = body
        for key in keys[:-1]:
            node = node[key]
        if value is DROP:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
        return body
    return change


DROP = object()
SEC = 'properties.securitySettings'
RS_SD = SEC + '.softDeleteSettings.softDeleteState'
DP_SD = SEC + '.softDeleteSettings.state'
IMM = SEC + '.immutabilitySettings'

# (case, recorded body, kind, change) -> (immutability, soft delete state, soft delete verdict, lock blockers) where the
# verdict is 'compliant' (no finding), 'fixable' (a finding the run fixes) or 'unfixable' (a finding it cannot fix,
# nothing planned), judged against the baseline {immutability: enabled, soft_delete: {state: on}}; lock blockers are the
# requirements that block the lock with the default requirements ('readable' is never among them here: items and
# policies are served as read). 'unreadable <field>' when the vault itself must be an error naming the field.
VAULT_SHAPES = [
    ('rs as recorded', RS_VAULT, RS, None, ('enabled', 'on', 'compliant', [])),
    ('rs properties null', RS_VAULT, RS, _set('properties', None), 'unreadable properties'),
    ('rs securitySettings null', RS_VAULT, RS, _set(SEC, None), ('disabled', None, 'unfixable', ['require_soft_delete'])),
    ('rs securitySettings absent', RS_VAULT, RS, _set(SEC, DROP), ('disabled', None, 'unfixable', ['require_soft_delete'])),
    ('rs immutabilitySettings null', RS_VAULT, RS, _set(IMM, None), ('disabled', 'on', 'compliant', [])),
    ('rs immutabilitySettings {}', RS_VAULT, RS, _set(IMM, {}), ('disabled', 'on', 'compliant', [])),
    ('rs immutability unlocked', RS_VAULT, RS, _set(IMM + '.state', 'unlocked'), ('enabled', 'on', 'compliant', [])),
    ('rs immutability LOCKED', RS_VAULT, RS, _set(IMM + '.state', 'LOCKED'), ('locked', 'on', 'compliant', [])),
    ('rs immutability Invalid', RS_VAULT, RS, _set(IMM + '.state', 'Invalid'), 'unreadable ' + IMM + '.state'),
    ('rs softDeleteSettings null (create answer)', RS_VAULT, RS, _set(SEC + '.softDeleteSettings', None),
     ('enabled', None, 'unfixable', ['require_soft_delete'])),
    ('rs softDeleteState Invalid', RS_VAULT, RS, _set(RS_SD, 'Invalid'), ('enabled', None, 'unfixable', ['require_soft_delete'])),
    ('rs softDeleteState AlwaysON', RS_VAULT, RS, _set(RS_SD, 'AlwaysON'), ('enabled', 'always_on', 'compliant', [])),
    ('rs softDeleteState alwayson', RS_VAULT, RS, _set(RS_SD, 'alwayson'), ('enabled', 'always_on', 'compliant', [])),
    ('rs softDeleteState Disabled', RS_VAULT, RS, _set(RS_SD, 'Disabled'), ('enabled', 'off', 'fixable', ['require_soft_delete'])),
    ('rs softDeleteState unknown word', RS_VAULT, RS, _set(RS_SD, 'SoftDeleted'), 'unreadable ' + RS_SD),
    ('rs retention days as text', RS_VAULT, RS, _set(SEC + '.softDeleteSettings.softDeleteRetentionPeriodInDays', '14'),
     'unreadable ' + SEC + '.softDeleteSettings.softDeleteRetentionPeriodInDays'),
    ('rs id casing', RS_VAULT, RS, _set('id', load_real(RS_VAULT)['id'].replace('/subscriptions/', '/Subscriptions/')
                                        .replace('/resourceGroups/', '/resourcegroups/')), ('enabled', 'on', 'compliant', [])),
    ('rs unknown extra properties', RS_VAULT, RS, _set('properties.newSetting', {'state': 'Enabled', 'nested': [1, None]}),
     ('enabled', 'on', 'compliant', [])),
    ('dp as recorded', DP_VAULT, DP, None, ('disabled', 'on', 'compliant', [])),
    ('dp recorded without securitySettings', 'ps-dp-getvault/get-sarath-vault.json', DP, None,
     ('disabled', None, 'unfixable', ['require_soft_delete'])),
    ('dp securitySettings null', DP_VAULT, DP, _set(SEC, None), ('disabled', None, 'unfixable', ['require_soft_delete'])),
    ('dp softDeleteSettings null', DP_VAULT, DP, _set(SEC + '.softDeleteSettings', None),
     ('disabled', None, 'unfixable', ['require_soft_delete'])),
    ('dp soft delete Off', DP_VAULT, DP, _set(DP_SD, 'Off'), ('disabled', 'off', 'fixable', ['require_soft_delete'])),
    ('dp soft delete off (lower case)', DP_VAULT, DP, _set(DP_SD, 'off'), ('disabled', 'off', 'fixable', ['require_soft_delete'])),
    ('dp soft delete AlwaysOn', DP_VAULT, DP, _set(DP_SD, 'AlwaysOn'), ('disabled', 'always_on', 'compliant', [])),
    ('dp soft delete ALWAYSON', DP_VAULT, DP, _set(DP_SD, 'ALWAYSON'), ('disabled', 'always_on', 'compliant', [])),
    ('dp immutability unlocked', DP_VAULT, DP, _set(IMM + '.state', 'unlocked'), ('enabled', 'on', 'compliant', [])),
    ('dp recorded locked alwayson', 'cliext-dp-vault-update/get-vault-final-locked-alwayson.json', DP, None,
     ('locked', 'always_on', 'compliant', [])),
]

BASELINE = {'immutability': 'enabled', 'soft_delete': {'state': 'on'}}


def _verdict(findings):
    mine = [f for f in findings if f['setting'] in ('soft_delete', 'soft_delete_retention_days')]
    if not mine:
        return 'compliant'
    return 'fixable' if all(f['fixable'] for f in mine) else 'unfixable'


@pytest.mark.parametrize('case, path, kind, change, expected', VAULT_SHAPES, ids=[shape[0] for shape in VAULT_SHAPES])
def test_vault_shapes_read_as_azure_means_them(emulator, session, case, path, kind, change, expected):
    body = load_real(path)
    body = change(copy.deepcopy(body)) if change else body
    if isinstance(expected, str):
        with pytest.raises(UnreadableResourceError) as err:
            read_vault(emulator, session, body, kind)
        assert err.value.field == expected.split(' ', 1)[1]
        return
    record = read_vault(emulator, session, body, kind)
    immutability, soft_delete, verdict, blockers = expected
    assert (record['immutability'], record['soft_delete']['state']) == (immutability, soft_delete)
    assert record['resource_group'].lower() == body['id'].split('/')[4].lower() and record['subscription_id'] == body['id'].split('/')[2]
    assert vault_key(record) == vault_key(body['id'].lower())
    entry = vault_drift(record, validate_baseline(BASELINE))
    assert _verdict(entry['findings']) == verdict, entry['findings']
    if verdict != 'fixable':
        # Nothing is planned from a setting the vault does not report (or that needs nothing).
        assert [c for c in entry['changes'] if c['setting'] in ('soft_delete', 'soft_delete_retention_days')] == []
    if soft_delete is None:
        assert entry['posture']['soft_delete']['state'] == 'unknown'
    # Lock readiness, with the vault's items and policies read (none).
    record.update(protected_items=[], policies=[])
    found = readiness(record, findings=[f for f in entry['findings'] if f['setting'] != 'immutability'], today=TODAY)
    assert sorted(b['requirement'] for b in found['blockers'] if b['requirement'] != 'no_unfixable_findings') == blockers
    if soft_delete is None:
        assert not found['ready']


def test_an_off_baseline_is_not_met_by_a_vault_that_reports_no_soft_delete(emulator, session):
    """Read as off, the create answer's softDeleteSettings null met a baseline of off: "compliant" for a vault whose next
    read says Enabled (recorded)."""
    body = _set(SEC + '.softDeleteSettings', None)(copy.deepcopy(load_real(RS_VAULT)))
    entry = vault_drift(read_vault(emulator, session, body, RS), validate_baseline({'soft_delete': {'state': 'off'}}))
    assert entry['drift'] and [(f['setting'], f['fixable']) for f in entry['findings']] == [('soft_delete', False)]
    assert entry['changes'] == []
    entry = vault_drift(read_vault(emulator, session, body, RS), validate_baseline({'soft_delete': {'retention_days': 30}}))
    assert [(f['setting'], f['fixable']) for f in entry['findings']] == [('soft_delete_retention_days', False)]
    assert entry['changes'] == []


# ---------------------------------------------------------------------------------------------
# Policies and protected items, read through the vault's policy and item lists (paged as Azure pages them).

def _policy_path(body):
    return '(?i)/%s/%s/backupPolicies$' % (body['id'].split('/')[-2], body['id'].split('/')[-1])


def _items_path(body, kind):
    return '(?i)/%s/%s/%s$' % (body['id'].split('/')[-2], body['id'].split('/')[-1],
                               'backupProtectedItems' if kind == RS else 'backupInstances')


def _rs_item(vault, policy_name):
    """The spec's protected item (BackupProtectedItems_List, /Subscriptions/ casing), moved to ``vault`` and ``policy``."""
    item = copy.deepcopy(load_reference('recoveryservicesbackup/2026-10-01/examples/AzureIaasVm/BackupProtectedItems_List.json')
                         ['responses']['200']['body']['value'][0])
    tail = item['id'].split('/protectionContainers/', 1)[1]
    vault_id = vault['id'].replace('/subscriptions/', '/Subscriptions/')
    item['id'] = '%s/backupFabrics/Azure/protectionContainers/%s' % (vault_id, tail)
    item['properties']['policyId'] = '%s/backupPolicies/%s' % (vault_id, policy_name)
    return item


def _dp_item(vault, policy_name):
    """The spec's backup instance (ListBackupInstances), moved to ``vault`` and ``policy``."""
    item = copy.deepcopy(load_reference('dataprotection/2026-06-01/examples/BackupInstanceOperations/ListBackupInstances.json')
                         ['responses']['200']['body']['value'][0])
    item['id'] = '%s/backupInstances/%s' % (vault['id'], item['name'])
    item['properties']['policyInfo']['policyId'] = '%s/backupPolicies/%s' % (vault['id'], policy_name)
    return item


def _policy(path, name=None, change=None):
    body = load_real(path) if not path.startswith('dataprotection/') else load_reference(path)
    body = copy.deepcopy(body)
    if 'properties' not in body:   # an az CLI template: the properties at the top
        body = {'name': body['name'], 'properties': {k: v for k, v in body.items() if k != 'name'}}
    if name:
        body['name'] = name
    return change(body) if change else body


def read_with_policies(emulator, session, vault, kind, policies, items, pages=1):
    """The vault, its policy list (``pages`` pages joined by nextLink) and its item list, served and read as discovery
    reads them (attach_policies, attach_items)."""
    record = read_vault(emulator, session, vault, kind)
    per_page = max(1, -(-len(policies) // pages))
    chunks = [policies[i:i + per_page] for i in range(0, len(policies), per_page)] or [[]]
    base = emulator.arm_url.rstrip('/') + vault['id']
    for index, chunk in enumerate(chunks):
        page = {'value': chunk}
        if index + 1 < len(chunks):
            page['nextLink'] = '%s/backupPolicies?api-version=2026-10-01&$skiptoken=%d' % (base, index + 1)
        emulator.fault(method='GET', path_regex=_policy_path(vault), status=200, raw_body=json.dumps(page))
    emulator.fault(method='GET', path_regex=_items_path(vault, kind), status=200, raw_body=json.dumps({'value': items}))
    assert attach_policies(session, [record]) == [] and attach_items(session, [record]) == []
    return record


def _dp_duration(value):
    def change(body):
        for rule in body['properties']['policyRules']:
            for lifecycle in rule.get('lifecycles') or []:
                lifecycle['deleteAfter']['duration'] = value
        return body
    return change


def _rs_daily(field, value):
    def change(body):
        body['properties']['retentionPolicy']['dailySchedule']['retentionDuration'][field] = value
        return body
    return change


ENHANCED = 'ps-rs-enhancedpolicy/get-psTestEnhancedPolicy-daily.json'   # daily 180 days, weekly 104 weeks, ... 10 years
SQL = 'ps-rs-workloadpolicy/get-testSqlPolicy-weekly-full-diff-log.json'
FILES = 'ps-rs-afsvaultpolicy/get-newFilePolicy-vaulted-snap15.json'
DP_BLOB = 'dataprotection/cli-default-policy-templates/AzureBlob.defaultPolicy.json'   # VaultStore P7D
DP_DISK = 'dataprotection/cli-default-policy-templates/AzureDisk.defaultPolicy.json'   # OperationalStore P7D

# (case, kind, policy, minimum) -> (tiers read of the policy in use, minimum violations (tier, have, fixable), held_until,
# readable blocker?). Every policy is in use by one item, so lock readiness judges it.
POLICY_SHAPES = [
    ('rs enhanced as recorded', RS, _policy(ENHANCED), {'daily': '30d'},
     ([('daily', 'P180D'), ('weekly', 'P104W'), ('monthly', 'P60M'), ('yearly', 'P10Y'), ('instant', 'P7D')], [], '2036-12-01', False)),
    ('rs count as text', RS, _policy(ENHANCED, change=_rs_daily('count', '180')), {'daily': '30d'},
     ([('weekly', 'P104W'), ('monthly', 'P60M'), ('yearly', 'P10Y'), ('instant', 'P7D')], [('daily', None, False)], '2036-12-01', True)),
    ('rs count zero', RS, _policy(ENHANCED, change=_rs_daily('count', 0)), {'daily': '30d'},
     ([('weekly', 'P104W'), ('monthly', 'P60M'), ('yearly', 'P10Y'), ('instant', 'P7D')], [('daily', None, False)], '2036-12-01', True)),
    ('rs durationType lower case', RS, _policy(ENHANCED, change=_rs_daily('durationType', 'days')), {'daily': '365d'},
     ([('daily', 'P180D'), ('weekly', 'P104W'), ('monthly', 'P60M'), ('yearly', 'P10Y'), ('instant', 'P7D')],
      [('daily', 'P180D', True)], '2036-12-01', False)),
    ('rs durationType Invalid', RS, _policy(ENHANCED, change=_rs_daily('durationType', 'Invalid')), {'daily': '30d'},
     ([('weekly', 'P104W'), ('monthly', 'P60M'), ('yearly', 'P10Y'), ('instant', 'P7D')], [('daily', None, False)], '2036-12-01', True)),
    ('rs sql full diff log', RS, _policy(SQL), {'log': '30d'},
     (None, [('log', 'P15D', True)], None, False)),
    ('rs files vaulted', RS, _policy(FILES), {'daily': '30d'}, (None, [], None, False)),
    ('dp blob vault store', DP, _policy(DP_BLOB), {'default': '30d'},
     ([('default', 'P7D')], [('default', 'P7D', False)], '2026-12-08', False)),   # Azure updates no Backup vault policy
    ('dp P1Y6M', DP, _policy(DP_BLOB, change=_dp_duration('P1Y6M')), {'default': '30d'},
     ([('default', 'P1Y6M')], [], '2028-06-01', False)),
    ('dp lower case p30d', DP, _policy(DP_BLOB, change=_dp_duration('p30d')), {'default': '30d'},
     ([('default', 'P30D')], [], '2026-12-31', False)),
    ('dp PT0S', DP, _policy(DP_BLOB, change=_dp_duration('PT0S')), {'default': '30d'},
     ([], [('default', None, False)], None, True)),
    ('dp P0D', DP, _policy(DP_BLOB, change=_dp_duration('P0D')), {'default': '30d'},
     ([], [('default', None, False)], None, True)),
    ('dp P7DT12H', DP, _policy(DP_BLOB, change=_dp_duration('P7DT12H')), {'default': '30d'},
     ([], [('default', None, False)], None, True)),
    ('dp operational disk', DP, _policy(DP_DISK), {'default': '30d'},
     ([('default', 'P7D')], [('default', 'P7D', False)], None, False)),   # Azure updates no Backup vault policy
]


@pytest.mark.parametrize('case, kind, policy, minimum, expected', POLICY_SHAPES, ids=[shape[0] for shape in POLICY_SHAPES])
def test_policy_shapes_read_as_azure_means_them(emulator, session, case, kind, policy, minimum, expected):
    vault = load_real(RS_VAULT if kind == RS else DP_VAULT)
    item = (_rs_item if kind == RS else _dp_item)(vault, policy['name'].upper())   # the item names its policy in other casing
    record = read_with_policies(emulator, session, vault, kind, [policy], [item])
    assert [p['name'] for p in record['policies']] == [policy['name']]
    tiers, violations, held_until, unreadable = expected
    read = record['policies'][0]
    if tiers is not None:
        assert [(t['tier'], t['duration']) for t in read['tiers']] == tiers
    assert [(v['tier'], v['have'], v['fixable']) for v in check_minimum(read, minimum)] == violations
    found = readiness(record, requirements={'max_retention': None}, findings=[], today=TODAY)
    assert [i['policy'] for i in found['protected_items']['items']] == [policy['name'].upper()]
    assert ('readable' in [b['requirement'] for b in found['blockers']]) is unreadable
    if held_until is not None:
        assert found['held_until'] == held_until
    if unreadable:
        assert not found['ready']


def test_policies_over_several_pages_are_all_read(emulator, session):
    vault = load_real(RS_VAULT)
    policies = [_policy(ENHANCED, 'P%d' % index) for index in range(5)]
    record = read_with_policies(emulator, session, vault, RS, policies, [_rs_item(vault, 'p4')], pages=3)
    assert [p['name'] for p in record['policies']] == ['P0', 'P1', 'P2', 'P3', 'P4']
    found = readiness(record, requirements={'max_retention': '10y'}, findings=[], today=TODAY)
    assert found['ready'] and found['held_until'] == '2036-12-01' and found['protected_items']['count'] == 1


@pytest.mark.parametrize('items', [
    [None],
    ['VM;iaasvmcontainer'],
    [{'id': 'x', 'properties': 'Protected'}],
], ids=['null', 'text', 'properties text'])
def test_protected_items_that_are_not_objects_make_the_items_unreadable_never_a_traceback(emulator, session, items):
    vault = load_real(RS_VAULT)
    record = read_vault(emulator, session, vault, RS)
    emulator.fault(method='GET', path_regex=_items_path(vault, RS), status=200, raw_body=json.dumps({'value': items}))
    errors = attach_items(session, [record])
    assert record['protected_items'] == [] and record['protected_items_error'] is True
    assert [e['code'] for e in errors] == ['InvalidResponseBody']
    found = readiness(dict(record, policies=[]), findings=[], today=TODAY)
    assert not found['ready'] and 'readable' in [b['requirement'] for b in found['blockers']]


def test_a_resource_graph_item_row_that_cannot_be_read_makes_that_vaults_items_unreadable():
    """The same item shapes as Resource Graph rows (recoveryservicesresources carries the ARM body): the vault whose row
    cannot be read gets protected_items_error, the other vault its items."""
    rs = vault_record(load_real(RS_VAULT), RS)
    dp = vault_record(load_real(DP_VAULT), DP)
    good = _dp_item(load_real(DP_VAULT), 'BlobPolicy1')
    good['type'] = 'microsoft.dataprotection/backupvaults/backupinstances'
    bad = _rs_item(load_real(RS_VAULT), 'p')
    bad['type'] = 'microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems'
    bad['properties']['dataSourceInfo'] = 'VM'
    attach_item_rows([rs, dp], [bad, good])
    assert rs['protected_items'] == [] and rs.get('protected_items_error') is True
    assert [i['policy'] for i in dp['protected_items']] == ['BlobPolicy1'] and not dp.get('protected_items_error')
    found = readiness(dict(rs, policies=[]), findings=[], today=TODAY)
    assert not found['ready'] and 'readable' in [b['requirement'] for b in found['blockers']]


def test_a_backup_vaults_soft_deleted_instance_is_not_counted_as_protected_by_a_policy(emulator, monkeypatch):
    """Lock readiness of a Backup vault with one protected and one soft deleted backup instance: ARM serves the soft deleted
    one as the separate deletedBackupInstances resource (the DataProtection spec), so the collection's backupInstances read
    counts one item, held by its policy. That is what readiness must count: a soft deleted instance is no longer protected
    by a policy (its data goes at the soft delete purge time, whatever the policy keeps), and no stop protection is left to
    refuse for it. A vault holding only soft deleted instances still cannot be deleted (the emulator refuses it; the
    collection never deletes a vault)."""
    from tests.emulator import generator
    session = emulator_session(emulator, monkeypatch, {'subscriptions': [{'id': SUB, 'resource_groups': [
        {'name': 'rg-t', 'location': 'westeurope', 'vaults': [
            {'name': 'bv-sd', 'type': 'backup', 'policies': [{'name': 'DiskHourly', 'properties': generator.dp_disk(False)}],
             'protected_items': [{'name': 'disk-live', 'policy': 'DiskHourly', 'datasource_type': 'Microsoft.Compute/disks'},
                                 {'name': 'disk-gone', 'policy': 'DiskHourly', 'datasource_type': 'Microsoft.Compute/disks',
                                  'soft_deleted': True}]}]}]}]})
    ref = VaultRef(SUB, 'rg-t', 'bv-sd', DP)
    record = vault_record(backend(session, DP).get(ref), DP)
    assert attach_policies(session, [record]) == [] and attach_items(session, [record]) == []
    assert [item['name'] for item in record['protected_items']] == ['disk-live']
    found = readiness(record, {}, today=TODAY)
    assert found['protected_items']['count'] == 1
    assert [p['name'] for p in found['policies']] == ['DiskHourly'] and found['policies'][0]['items'] == 1
