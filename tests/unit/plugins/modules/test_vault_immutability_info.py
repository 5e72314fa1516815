# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vault_immutability_info in process (conftest.py): scopes, filters, per-scope and per-vault errors, and where a fleet is
read from (discovery: auto | resource_graph | arm; conftest.FakeGraph answers Resource Graph queries over the fake Azure
with the emulator's KQL reader)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import scope
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.modules import vault_immutability_info

from tests.unit.builders import BV, RG, RS, SUB, SUB2, arm_vault, iaas, vault_id
from tests.unit.plugins.modules.conftest import FakeSession


def fleet(azure):
    azure.add(arm_vault('rsv-prod', immutability='enabled', tags={'env': 'prod'}), [iaas('vm', daily=(30, 'Days'), vault=vault_id('rsv-prod'))])
    azure.add(arm_vault('rsv-test', tags={'Env': 'test'}))
    azure.add(arm_vault('bv-prod', BV, rg='rg-other', tags={'env': 'prod'}))


def test_a_subscription_both_kinds_sorted_by_id(run_module, azure):
    fleet(azure)
    result = run_module(vault_immutability_info, {})
    assert [v['name'] for v in result['vaults']] == ['rsv-prod', 'rsv-test', 'bv-prod']
    assert result['subscriptions'] == [SUB] and result['errors'] == [] and result['changed'] is False


def test_filters_name_glob_tags_resource_group_and_kinds(run_module, azure):
    fleet(azure)
    assert [v['name'] for v in run_module(vault_immutability_info, {'name': 'RSV-*'})['vaults']] == ['rsv-prod', 'rsv-test']
    assert [v['name'] for v in run_module(vault_immutability_info, {'tags': {'ENV': 'prod'}})['vaults']] == ['rsv-prod', 'bv-prod']
    assert [v['name'] for v in run_module(vault_immutability_info, {'resource_group': 'rg-other'})['vaults']] == ['bv-prod']
    assert [v['name'] for v in run_module(vault_immutability_info, {'vault_types': ['backup']})['vaults']] == ['bv-prod']


def test_one_vault_by_name_with_its_policies(run_module, azure):
    fleet(azure)
    result = run_module(vault_immutability_info, {'name': 'rsv-prod', 'resource_group': RG, 'vault_type': RS, 'include_policies': True})
    (vault,) = result['vaults']
    assert vault['immutability'] == 'enabled' and [p['name'] for p in vault['policies']] == ['vm']
    assert vault['policies'][0]['vault'] == vault['id']


def test_a_scope_that_fails_is_an_error_and_hides_nothing_else(run_module, azure):
    fleet(azure)
    azure.unreadable_scopes[(SUB, BV)] = AzureOperationError('list Backup vaults', None, 403, 'AuthorizationFailed', 'no access')
    result = run_module(vault_immutability_info, {'discovery': 'arm'})
    assert [v['name'] for v in result['vaults']] == ['rsv-prod', 'rsv-test']
    assert result['errors'] == [{'scope': 'subscription %s (Backup vaults)' % SUB, 'operation': 'list Backup vaults', 'status': 403,
                                 'code': 'AuthorizationFailed', 'message': 'no access', 'vault_type': BV}]
    assert any('could not read' in w for w in result['warnings'])


def test_every_scope_failing_fails_the_task(run_module, azure):
    for kind in (RS, BV):
        azure.unreadable_scopes[(SUB, kind)] = AzureOperationError('list', None, 403, 'AuthorizationFailed', 'no access')
    result = run_module(vault_immutability_info, {'discovery': 'arm'})
    assert result['failed'] is True and 'AuthorizationFailed' in result['msg']


def test_an_unreadable_vault_is_an_error_of_its_own(run_module, azure):
    fleet(azure)
    odd = arm_vault('rsv-odd')
    odd['properties']['securitySettings']['immutabilitySettings'] = {'state': 'Frozen'}
    azure.add(odd)
    result = run_module(vault_immutability_info, {})
    assert 'rsv-odd' not in [v['name'] for v in result['vaults']] and len(result['vaults']) == 3
    (error,) = result['errors']
    assert error['code'] == 'UnreadableVault' and error['vault']['name'] == 'rsv-odd'


def test_vault_type_alone_is_refused(run_module, azure):
    result = run_module(vault_immutability_info, {'vault_type': RS})
    assert result['failed'] is True and 'use vault_types to filter' in result['msg']


def test_include_items_adds_each_vault_s_protected_items_with_their_policy(run_module, azure):
    fleet(azure)
    azure.protect(azure.vault(arm_vault('rsv-prod')['id']), 'vm', 'vm-app-01')
    result = run_module(vault_immutability_info, {'include_items': True, 'vault_types': [RS]})
    items = {v['name']: v['protected_items'] for v in result['vaults']}
    assert items['rsv-test'] == []
    (item,) = items['rsv-prod']
    assert (item['friendly_name'], item['policy'], item['datasource_type'], item['vault_type']) == ('vm-app-01', 'vm', 'VM', RS)
    assert item['vault'] == arm_vault('rsv-prod')['id'] and item['protection_state'] == 'Protected'
    assert 'protected_items' not in run_module(vault_immutability_info, {})['vaults'][0]
# ---------------------------------------------------------------- discovery: auto | resource_graph | arm


def two_subscriptions(azure):
    fleet(azure)
    azure.add(arm_vault('rsv-other', sub=SUB2, immutability='locked'), [iaas('weak', daily=(7, 'Days'), vault=vault_id('rsv-other', sub=SUB2))])
    return [SUB, SUB2]


def test_auto_reads_the_fleet_through_resource_graph_with_the_records_arm_gives(run_module, azure):
    subs = two_subscriptions(azure)
    args = {'subscription_ids': subs, 'include_policies': True}
    through_arm = run_module(vault_immutability_info, dict(args, discovery='arm'))
    assert azure.graph_queries == [] and len(azure.listed) == 4
    azure.listed.clear()
    result = run_module(vault_immutability_info, args)
    assert result['vaults'] == through_arm['vaults'] and result['errors'] == []
    # One query (the vaults, their policies joined) for both subscriptions; no ARM listing.
    assert len(azure.graph_queries) == 1 and azure.listed == []
    ((query, _subs),) = azure.graph_queries
    assert query.startswith('resources ') and ' join kind=leftouter (recoveryservicesresources ' in query
    discovery = result['discovery']
    assert discovery['requested'] == 'auto' and discovery['fallbacks'] == []
    assert discovery['source_by_subscription'] == {SUB: 'resource_graph', SUB2: 'resource_graph'}
    assert discovery['resource_graph']['calls'] == 1 and discovery['data_time'].endswith('Z')
    assert through_arm['discovery']['source_by_subscription'] == {SUB: 'arm', SUB2: 'arm'}
    assert through_arm['discovery']['resource_graph']['calls'] == 0


def test_auto_falls_back_to_arm_for_a_subscription_resource_graph_cannot_see(run_module, azure):
    subs = two_subscriptions(azure)
    azure.graph_denied.add(SUB2)
    result = run_module(vault_immutability_info, {'subscription_ids': subs})
    assert [v['name'] for v in result['vaults']] == ['rsv-prod', 'rsv-test', 'bv-prod', 'rsv-other']
    assert result['discovery']['source_by_subscription'] == {SUB: 'resource_graph', SUB2: 'arm'}
    assert [f['subscription_id'] for f in result['discovery']['fallbacks']] == [SUB2]
    assert sorted(azure.listed) == [(SUB2, BV), (SUB2, RS)]
    assert any('read subscription %s from ARM instead of Resource Graph' % SUB2 in w for w in result['warnings'])


def test_auto_reads_everything_from_arm_when_resource_graph_fails(run_module, azure):
    subs = two_subscriptions(azure)
    azure.graph_error = AzureOperationError('query Resource Graph', None, 503, 'ServiceUnavailable', 'try later')
    result = run_module(vault_immutability_info, {'subscription_ids': subs})
    assert len(result['vaults']) == 4 and result['errors'] == []
    assert result['discovery']['source_by_subscription'] == {SUB: 'arm', SUB2: 'arm'}
    assert all('Resource Graph failed' in f['reason'] and 'ServiceUnavailable' in f['reason'] for f in result['discovery']['fallbacks'])


def test_resource_graph_explicit_never_falls_back(run_module, azure):
    subs = two_subscriptions(azure)
    azure.graph_denied.add(SUB2)
    result = run_module(vault_immutability_info, {'subscription_ids': subs, 'discovery': 'resource_graph'})
    assert [v['name'] for v in result['vaults']] == ['rsv-prod', 'rsv-test', 'bv-prod'] and azure.listed == []
    assert [(e['scope'], e['code']) for e in result['errors']] == [('subscription %s' % SUB2, 'NotVisibleInResourceGraph')]
    assert result['discovery']['fallbacks'] == [] and result['discovery']['source_by_subscription'] == {SUB: 'resource_graph'}
    # Every subscription unseen: nothing could be read, the task fails.
    azure.graph_denied.add(SUB)
    failed = run_module(vault_immutability_info, {'subscription_ids': subs, 'discovery': 'resource_graph'})
    assert failed['failed'] is True and 'NotVisibleInResourceGraph' in failed['msg']
    # A failed query fails the task, naming Azure's error.
    azure.graph_denied.clear()
    azure.graph_error = AzureOperationError('query Resource Graph', None, 400, 'InvalidQuery', 'bad query')
    failed = run_module(vault_immutability_info, {'subscription_ids': subs, 'discovery': 'resource_graph'})
    assert failed['failed'] is True and 'InvalidQuery' in failed['msg'] and azure.listed == []


def test_filters_apply_to_resource_graph_records_too(run_module, azure):
    two_subscriptions(azure)
    for discovery in ('resource_graph', 'arm'):
        assert [v['name'] for v in run_module(vault_immutability_info, {'name': 'RSV-*', 'discovery': discovery})['vaults']] == \
            ['rsv-prod', 'rsv-test']
        assert [v['name'] for v in run_module(vault_immutability_info, {'tags': {'ENV': 'prod'}, 'discovery': discovery})['vaults']] == \
            ['rsv-prod', 'bv-prod']
        assert [v['name'] for v in run_module(vault_immutability_info, {'resource_group': 'RG-OTHER', 'discovery': discovery})['vaults']] == \
            ['bv-prod']


def test_a_named_vault_is_read_from_arm_whatever_discovery_says(run_module, azure):
    two_subscriptions(azure)
    result = run_module(vault_immutability_info, {'name': 'rsv-prod', 'resource_group': RG, 'vault_type': RS, 'discovery': 'resource_graph'})
    assert [v['name'] for v in result['vaults']] == ['rsv-prod'] and azure.graph_queries == []
    assert result['discovery']['requested'] == 'arm' and result['discovery']['source_by_subscription'] == {SUB: 'arm'}


def test_an_unreadable_vault_in_resource_graph_is_an_error_of_its_own_too(run_module, azure):
    fleet(azure)
    odd = arm_vault('rsv-odd')
    odd['properties']['securitySettings']['immutabilitySettings'] = {'state': 'Frozen'}
    azure.add(odd)
    result = run_module(vault_immutability_info, {'discovery': 'resource_graph'})
    assert len(result['vaults']) == 3
    (error,) = result['errors']
    assert error['code'] == 'UnreadableVault' and error['vault']['name'] == 'rsv-odd'
    assert error == run_module(vault_immutability_info, {'discovery': 'arm'})['errors'][0]


def test_empty_subscription_ids_or_tags_are_refused_before_any_request(run_module, azure):
    # subscription_ids [] read the subscription of the authentication options and tags {} every vault, as leaving them out
    # does: a filter templated from a variable that came out empty widened the read without a word.
    fleet(azure)
    for args, words in (({'subscription_ids': []}, 'subscription_ids is empty'), ({'tags': {}}, 'tags is empty'),
                        ({'subscription_ids': [SUB, '']}, "subscription_ids[1] is '': each entry names one subscription id")):
        result = run_module(vault_immutability_info, dict(args, discovery='arm'))
        assert result['failed'] is True and words in result['msg'] and 'nothing was sent to Azure' in result['msg'], result['msg']
    assert azure.listed == [] and azure.graph_queries == []
    # Left out, or [all], as before.
    assert len(run_module(vault_immutability_info, {'discovery': 'arm'})['vaults']) == 3
    assert len(run_module(vault_immutability_info, {'subscription_ids': ['all'], 'tags': {'env': 'prod'}, 'discovery': 'arm'})['vaults']) == 2


def test_subscription_ids_that_are_no_guid_are_refused_naming_the_entry_before_any_request(run_module, azure):
    """The shared check of harden_plan, the read-only modules and the inventory (_discovery.fleet.check_subscription_ids):
    braces, a space inside, a typo, or all beside subscription ids."""
    fleet(azure)
    for subs, words in (([SUB, '{%s}' % SUB2], "subscription_ids[1]: '{%s}' is not a subscription id" % SUB2),
                        (['%s x' % SUB], "subscription_ids[0]: '%s x' is not a subscription id" % SUB),
                        (['all', SUB], "subscription_ids[0] is 'all', which means every subscription the identity can see: give it alone")):
        result = run_module(vault_immutability_info, {'subscription_ids': subs, 'discovery': 'arm'})
        assert result['failed'] is True and words in result['msg'] and 'nothing was sent to Azure' in result['msg'], result['msg']
    assert azure.listed == [] and azure.graph_queries == []
    # all in any case, and ids with spaces around them (discovery drops them), still read.
    assert len(run_module(vault_immutability_info, {'subscription_ids': [' ALL '], 'discovery': 'arm'})['vaults']) == 3
    assert len(run_module(vault_immutability_info, {'subscription_ids': [' %s ' % SUB], 'discovery': 'arm'})['vaults']) == 3


# ---------------------------------------------------------------- Resource Guards, read in the scope read

GUARD = '/subscriptions/%s/resourceGroups/rg-sec/providers/Microsoft.DataProtection/resourceGuards/guard' % SUB


def guarded_fleet(azure):
    """rsv-guarded and bv-guarded report a guard and name none (as every live GET: tests/fixtures/azure-real/ps-rs-mua);
    rsv-refused too, and its proxy read is refused; rsv-plain reports none."""
    for name, kind in (('rsv-guarded', RS), ('bv-guarded', BV), ('rsv-refused', RS)):
        azure.add(arm_vault(name, kind, mua=True))
    azure.add(arm_vault('rsv-plain'))
    azure.guard_proxies[vault_id('rsv-guarded').lower()] = azure.guard_proxies[vault_id('bv-guarded', BV).lower()] = [
        {'properties': {'resourceGuardResourceId': GUARD, 'resourceGuardOperationDetails': [
            {'vaultCriticalOperation': 'Microsoft.RecoveryServices/vaults/backupconfig/write',
             'defaultResourceRequest': GUARD + '/disableSoftDeleteRequests/default'}]}}]
    azure.guard_proxies[vault_id('rsv-refused').lower()] = AzureOperationError(
        'read resource guard proxy', 'rsv-refused', 403, 'AuthorizationFailed', 'no access')


def test_the_guard_reads_are_part_of_the_scope_read_and_its_counts(run_module, azure):
    """One proxy read a vault that reports a guard (none for rsv-plain), in the scope read: discovery.arm counts them with
    the task's other ARM reads, and a refused one is one warning, not an error."""
    guarded_fleet(azure)
    result = run_module(vault_immutability_info, {'discovery': 'arm'})
    by = dict((vault['name'], vault['mua']) for vault in result['vaults'])
    assert by['rsv-guarded']['resource_guard_id'] == GUARD and by['bv-guarded']['resource_guard_id'] == GUARD
    assert by['rsv-refused']['resource_guard_id'] is None and by['rsv-plain']['protected'] is False
    proxies = sorted(path.split('/')[-2] for path in azure.arm_reads if path.endswith('/backupResourceGuardProxies'))
    assert proxies == ['bv-guarded', 'rsv-guarded', 'rsv-refused']
    assert result['discovery']['arm']['requests'] == len(azure.arm_reads) == 3
    warnings = [warning for warning in result['warnings'] if 'Resource Guard proxy' in warning]
    assert result['errors'] == [] and len(warnings) == 1 and "'rsv-refused'" in warnings[0] and 'HTTP 403 AuthorizationFailed' in warnings[0]
    # One named vault: its one proxy read is counted too.
    del azure.arm_reads[:]
    single = run_module(vault_immutability_info, {'name': 'rsv-guarded', 'resource_group': RG, 'vault_type': RS})
    assert single['vaults'][0]['mua']['resource_guard_id'] == GUARD
    assert single['discovery']['arm']['requests'] == len(azure.arm_reads) == 1


def test_read_scope_reads_the_guards_when_asked_and_only_then(azure):
    """_discovery.scope.read_scope with include_guards: the records complete, the discovery block made after the proxy
    reads (its counts include them), the refused read returned; without it no proxy is read (harden_plan and
    vault_lock_readiness_info)."""
    guarded_fleet(azure)
    found = scope.read_scope(FakeSession({}, azure=azure), {'vault_types': [RS, BV], 'discovery': 'arm', 'include_guards': True})
    assert [vault['mua']['resource_guard_id'] for vault in found['vaults'] if vault['name'].endswith('-guarded')] == [GUARD, GUARD]
    assert found['discovery']['arm']['requests'] == 3
    assert [label.split("'")[1] for label, _why in found['guard_failures']] == ['rsv-refused']
    del azure.arm_reads[:]
    found = scope.read_scope(FakeSession({}, azure=azure), {'vault_types': [RS, BV], 'discovery': 'arm'})
    assert azure.arm_reads == [] and found['guard_failures'] == [] and found['discovery']['arm']['requests'] == 0
