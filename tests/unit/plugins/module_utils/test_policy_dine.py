# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployIfNotExists definition for Recovery Services vault diagnostic settings (c717fb0c-...): opt-in, judged on each
vault's Microsoft.Insights/diagnosticSettings (Learn, "Azure Policy definitions deployIfNotExists effect": compliant when
at least one related resource satisfies details.existenceCondition, otherwise non-compliant).

The settings' bodies are the Azure Monitor spec examples (tests/fixtures/azure_monitor, SOURCE.txt), changed one property
at a time; the definition is Microsoft's file (tests/fixtures/azure_policy), its aliases Azure's alias list.
"""

from __future__ import annotations

import copy
import json
import os

import jsonschema
import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils import _policy
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.diagnostics import attach_related, related_read_errors
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, InputError
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._aliases import RELATED_ALIASES
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._definitions import DEFINITIONS, OPT_IN
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._evaluator import Context, PolicyRuleError, evaluate
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report, render_markdown
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.html import render_html
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import build_sarif
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from tests.fixtures import FIXTURES
from tests.unit import policy_oracle as oracle
from tests.unit.builders import BV, RG as RG_NAME, RS, SUB, arm_vault

DINE = 'c717fb0c-d118-4c43-ab3d-ece30ac81fb3'
DS = 'Microsoft.Insights/diagnosticSettings'
CATEGORIES = ('CoreAzureBackup', 'AddonAzureBackupJobs', 'AddonAzureBackupAlerts', 'AddonAzureBackupPolicy',
              'AddonAzureBackupStorage', 'AddonAzureBackupProtectedInstance')
# The workspace id the spec's DiagnosticSettings.workspaceId description gives as its example.
WORKSPACE = ('/subscriptions/4b9e8510-67ab-4e9a-95a9-e2f1e570ea9c/resourceGroups/insights-integration/providers/'
             'Microsoft.OperationalInsights/workspaces/viruela2')


def _example(name):
    return json.loads((FIXTURES / 'azure_monitor' / name).read_text(encoding='utf-8'))


def listed():
    """The list example's one setting (categoryGroup allLogs, workspaceId '')."""
    return _example('listDiagnosticSettings.json')['responses']['200']['body']['value'][0]


def compliant_setting():
    """The create example's answer, its logs the six categories the definition counts, each enabled, to a workspace,
    Dedicated (what the definition's own deployment writes)."""
    body = copy.deepcopy(_example('createOrUpdateDiagnosticSetting.json')['responses']['200']['body'])
    retention = body['properties']['logs'][0]['retentionPolicy']
    body['properties']['logs'] = [{'category': name, 'enabled': True, 'retentionPolicy': dict(retention)} for name in CATEGORIES]
    body['properties']['workspaceId'] = WORKSPACE
    assert body['properties']['logAnalyticsDestinationType'] == 'Dedicated'
    return body


def record(name='rsv-a', settings=None, error=None, tags=None, kind=RS):
    rec = vault_record(dict(arm_vault(name, kind), tags=tags or {}), kind)
    if settings is not None:
        rec['related'] = {DS.lower(): settings}
    if error is not None:
        rec['related_errors'] = {DS.lower(): error}
    return rec


def row(records, parameters=None):
    assignments = _policy.check_assignments({DINE: parameters or {}})
    section = _policy.evaluate(records, assignments)
    assert [r['name'] for r in section['definitions']] == [DINE]
    return section['definitions'][0]


# --------------------------------------------------------------------------- the definition and its aliases

def test_the_definition_is_microsofts_file_and_opt_in():
    ((_file, doc),) = [(path.name, json.loads(path.read_text(encoding='utf-8')))
                       for path in sorted((FIXTURES / 'azure_policy').glob('*_DINE.json'))]
    mine = [d for d in DEFINITIONS if d['name'] == DINE][0]
    then = doc['properties']['policyRule']['then']
    assert mine['if'] == doc['properties']['policyRule']['if'] and mine['effect'] == then['effect'] == 'deployIfNotExists'
    assert mine['details'] == {'type': then['details']['type'], 'existenceCondition': then['details']['existenceCondition']}
    assert OPT_IN == (DINE,) and DINE not in _policy.default_assignments() and len(_policy.default_assignments()) == 14
    assert _policy.KIND[DINE] == RS
    # Listing it is no longer refused as unknown; its parameters are checked like any definition's.
    ((definition, params),) = _policy.check_assignments({DINE.upper(): {'tagName': 'backup-diag', 'tagValue': 'off'}})
    assert definition['name'] == DINE
    assert params == {'profileName': 'setbypolicy_logAnalytics', 'tagName': 'backup-diag', 'tagValue': 'off'}
    # logAnalytics (no default) only feeds the deployment a remediation task runs: not needed for the verdict; given, it
    # is checked and shown like any parameter.
    assert _policy.check_assignments({DINE: {'logAnalytics': '/subscriptions/x/ws'}})[0][1]['logAnalytics'] == '/subscriptions/x/ws'
    with pytest.raises(InputError, match='logAnalytics must be a string'):
        _policy.check_assignments({DINE: {'logAnalytics': 1}})


def test_the_related_aliases_are_azures():
    """Every alias the existenceCondition reads maps to the path Azure's alias list gives (fixture table)."""
    (definition,) = [d for d in DEFINITIONS if d['name'] == DINE]
    condition = definition['details']['existenceCondition']
    used = set(name.lower() for name in _policy._fields(condition, set()))  # pylint: disable=protected-access
    assert used == set(RELATED_ALIASES)
    for alias in used:
        assert RELATED_ALIASES[alias] == oracle.ALIASES[alias], alias


# --------------------------------------------------------------------------- verdicts

def test_a_setting_of_the_six_categories_to_a_dedicated_workspace_is_compliant():
    out = row([record(settings=[compliant_setting()])])
    assert (out['vaults'], out['non_compliant'], out['not_evaluated']) == (1, [], [])
    assert out['evaluated'] is True and out['effect'] == 'deployIfNotExists' and out['related_type'] == DS
    assert 'does not deploy %s' % DS in out['remediation'] and 'remediation task' in out['remediation']


def changed(change):
    body = compliant_setting()
    change(body['properties'])
    return body


NON_COMPLIANT = {
    'a category missing': lambda p: p['logs'].pop(3),
    'a category disabled': lambda p: p['logs'][1].update(enabled=False),
    'no workspace (the spec example writes "")': lambda p: p.update(workspaceId=''),
    'no workspace property': lambda p: p.pop('workspaceId'),
    'AzureDiagnostics destination': lambda p: p.update(logAnalyticsDestinationType='AzureDiagnostics'),
    'destination null (AzureDiagnostics, the spec\'s default)': lambda p: p.update(logAnalyticsDestinationType=None),
    'categoryGroup allLogs instead of the categories':
        lambda p: p.update(logs=[dict(p['logs'][0], category=None, categoryGroup='allLogs')]),
}


@pytest.mark.parametrize('why', sorted(NON_COMPLIANT))
def test_each_way_of_missing_the_condition_is_non_compliant(why):
    rec = record(settings=[changed(NON_COMPLIANT[why])])
    out = row([rec])
    assert (out['vaults'], out['non_compliant'], out['not_evaluated']) == (1, [rec['id']], []), why


def test_the_spec_examples_setting_and_no_setting_at_all_are_non_compliant():
    a, b = record('rsv-a', settings=[listed()]), record('rsv-b', settings=[])
    out = row([a, b])
    assert out['vaults'] == 2 and out['non_compliant'] == sorted([a['id'], b['id']], key=str.lower)


def test_one_satisfying_setting_among_others_is_enough():
    rec = record(settings=[listed(), changed(NON_COMPLIANT['a category disabled']), compliant_setting()])
    assert row([rec])['non_compliant'] == []


def test_a_vault_whose_settings_could_not_be_read_is_not_evaluated_never_compliant():
    denied = record('rsv-denied', error='HTTP 403 AuthorizationFailed: no read on diagnosticSettings')
    unread = record('rsv-unread')
    good = record('rsv-good', settings=[compliant_setting()])
    out = row([denied, unread, good])
    assert out['vaults'] == 1 and out['non_compliant'] == []
    assert out['not_evaluated'] == [
        {'id': denied['id'], 'reason': 'HTTP 403 AuthorizationFailed: no read on diagnosticSettings'},
        {'id': unread['id'], 'reason': 'its %s were not read' % DS}]


def test_the_exclusion_tag_and_its_empty_default():
    """Default tagName/tagValue '': the field is tags[], no tag (assumed: missing), equals '' is false, not -> the vault is
    selected, whatever its tags. With a tag name and value, a vault with that tag is not selected (not non-compliant, and
    its settings need no read); another value, or no such tag, is selected."""
    plain = record('rsv-plain', settings=[])
    tagged = record('rsv-tagged', settings=[], tags={'': 'x', 'diag': 'off'})
    assert row([plain, tagged])['non_compliant'] == sorted([plain['id'], tagged['id']], key=str.lower)
    definition = [d for d in DEFINITIONS if d['name'] == DINE][0]
    params = {'profileName': 'p', 'tagName': 'diag', 'tagValue': 'OFF'}
    assert not _policy.selects(definition, params, tagged)   # tag values compare case-insensitively
    assert _policy.selects(definition, params, plain)
    assert _policy.selects(definition, params, record('rsv-on', tags={'diag': 'on'}))
    excluded_unread = record('rsv-tagged-unread', tags={'Diag': 'off'})
    out = row([plain, excluded_unread], {'tagName': 'diag', 'tagValue': 'off'})
    assert out['vaults'] == 2 and out['non_compliant'] == [plain['id']] and out['not_evaluated'] == []


def test_tag_fields_by_every_documented_spelling():
    body = {'tags': {'Acct.CostCenter': 'A1', 'env': 'prod'}}
    for field in ("tags['Acct.CostCenter']", 'tags[Acct.CostCenter]', 'tags.env', 'tags[env]'):
        assert evaluate({'field': field, 'exists': 'true'}, Context(body, {})), field
    assert evaluate({'field': 'tags[]', 'exists': 'false'}, Context(body, {}))
    assert not evaluate({'field': 'tags[]', 'equals': ''}, Context(body, {}))


def test_only_recovery_services_vaults_are_judged_and_a_disabled_set_of_reads_is_none():
    out = row([record('bv-a', kind=BV), record('rsv-a', settings=[compliant_setting()])])
    assert out['vaults'] == 1 and out['vault_type'] == RS
    assert _policy.related_assignments(_policy.check_assignments(None)) == []
    ((definition, _params, related),) = _policy.related_assignments(_policy.check_assignments({DINE: {}}))
    assert definition['name'] == DINE and related == DS


def test_an_odd_setting_body_never_tracebacks():
    for odd in ([None], ['text'], [{'properties': None}], [{'properties': {'logs': 'x'}}], [{'properties': {'logs': [None, 3]}}]):
        out = row([record(settings=odd)])
        assert out['vaults'] == 1 and len(out['non_compliant']) == 1, odd
    with pytest.raises(PolicyRuleError):
        evaluate({'field': 'Microsoft.Insights/diagnosticSettings/nope', 'equals': 1}, Context({}, {}))


# --------------------------------------------------------------------------- reports

def test_the_reports_show_the_verdict_the_unread_vaults_and_that_nothing_is_deployed():
    good, bad = record('rsv-good', settings=[compliant_setting()]), record('rsv-bad', settings=[])
    denied = record('rsv-denied', error='HTTP 403 AuthorizationFailed: denied')
    section = _policy.evaluate([good, bad, denied], _policy.check_assignments({DINE: {}}))
    report = build_report([], {'azure_policy': section, 'timestamp': '2026-01-02T03:04:05+00:00'})
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    with open(os.path.join(root, 'docs', 'drift-report-schema.json'), encoding='utf-8') as handle:
        jsonschema.validate(report, json.load(handle))
    (out,) = report['azure_policy']['definitions']
    assert out['non_compliant'] == [bad['id']] and out['not_evaluated'] == [{'id': denied['id'], 'reason': 'HTTP 403 AuthorizationFailed: denied'}]
    assert out['related_type'] == DS and 'does not deploy' in out['remediation']
    markdown, html = render_markdown(report), render_html(report)
    for text in (markdown, html):
        assert '1 of 2 non-compliant, 1 not evaluated' in text
        assert 'rsv-denied' in text and 'HTTP 403 AuthorizationFailed: denied' in text
        assert 'does not deploy Microsoft.Insights/diagnosticSettings' in text
    (rule,) = [r for r in build_sarif(report)['runs'][0]['tool']['driver']['rules'] if r['id'] == 'azure-policy/' + DINE]
    assert rule['properties']['non_compliant'] == 1 and rule['properties']['not_evaluated'] == 1
    assert 'does not deploy' in rule['help']['text']


class _DiagnosticsSession:
    """An AzureSession's ARM reads: a 403 for one vault's diagnostic settings, an answer without a list for another."""

    def __init__(self, refused, odd):
        self.refused, self.odd, self.paths = refused, odd, []

    def arm_get(self, path, api_version, operation, resource):
        self.paths.append(path)
        if self.refused in path:
            raise AzureOperationError(operation, resource, 403, 'AuthorizationFailed', 'The client does not have authorization')
        return {'value': 'not a list'} if self.odd in path else {'value': [compliant_setting()]}


def test_each_vault_whose_diagnostic_settings_could_not_be_read_is_an_error_of_the_run():
    """Not evaluated by the definition, and (related_read_errors) one error of the run each, as a vault whose policies could
    not be read: a 403, and an answer that is no list of settings. A vault read and judged is none."""
    records = [record('rsv-a'), record('rsv-b'), record('rsv-c')]
    for rec in records:
        rec.pop('related', None)
    session = _DiagnosticsSession('/rsv-b/', '/rsv-c/')
    attach_related(session, records, _policy.check_assignments({DINE: {}}), 2)
    assert len(session.paths) == 3
    errors = related_read_errors(records)
    label = "Recovery Services vault '%s' (resource group '%s', subscription %s)"
    assert [error['scope'] for error in errors] == [label % (r['name'], r['resource_group'], r['subscription_id']) for r in records[1:]]
    assert errors[0]['message'] == ('could not read its Microsoft.Insights/diagnosticSettings (HTTP 403 AuthorizationFailed: The client '
                                    'does not have authorization), which the Azure Policy deployIfNotExists definition judges it by: '
                                    'not evaluated')
    assert errors[1]['message'].startswith('could not read its Microsoft.Insights/diagnosticSettings (Azure answered with no list')
    assert related_read_errors([records[0]]) == []


@pytest.mark.parametrize('tag_name', ["owner's", "[concat('a','b')]"])
def test_a_tag_name_the_field_syntax_cannot_name_is_refused_before_any_request(tag_name):
    """tags[<tagName>] with an apostrophe (Learn, "Fields": such tags only as tags['...'], the apostrophe doubled) or a
    template expression: before, check_assignments took it and the run failed after discovery naming an unknown alias."""
    with pytest.raises(InputError) as err:
        _policy.check_assignments({DINE: {'tagName': tag_name, 'tagValue': 'x'}})
    message = str(err.value)
    assert message.startswith('harden_backup_vaults_azure_policy.%s: with the parameters tagName: ' % DINE), message
    assert 'nothing was sent to Azure' in message


@pytest.mark.parametrize('tag_name', ['backup diag', 'a]b', '[x]', 'Acct.CostCenter'])
def test_tag_names_with_spaces_brackets_or_dots_exclude_the_vaults_that_carry_them(tag_name):
    excluded = record('rsv-excluded', settings=[], tags={tag_name: 'off'})
    judged = record('rsv-judged', settings=[])
    out = row([excluded, judged], {'tagName': tag_name, 'tagValue': 'OFF'})
    assert out['non_compliant'] == [judged['id']] and out['not_evaluated'] == [], tag_name


# --------------------------------------------------------------------------- the shapes Azure returns today

def got():
    """The Get example's setting (tests/fixtures/azure_monitor: storage account and event hub only, workspaceId '', a
    categoryGroup allLogs entry, no logAnalyticsDestinationType)."""
    return _example('getDiagnosticSetting.json')['responses']['200']['body']


def _groups(*groups):
    """Log entries by category group, category null (Learn, "Create diagnostic settings in Azure Monitor", its Resource
    Manager template: SOURCE.txt)."""
    return [{'category': None, 'categoryGroup': group, 'enabled': True, 'retentionPolicy': {'enabled': False, 'days': 0}}
            for group in groups]


def as_deployed():
    """What the definition's own deployment writes: the six categories with "enabled": "true" (strings)."""
    body = compliant_setting()
    body['properties']['logs'] = [{'category': name, 'enabled': 'true'} for name in CATEGORIES]
    return body


def recased(body, fn):
    def walk(node):
        if isinstance(node, dict):
            return dict((fn(k), walk(v)) for k, v in node.items())
        return [walk(m) for m in node] if isinstance(node, list) else node
    return dict(body, properties=walk(body['properties']))


def _split():
    """The six categories over two settings, three each (each to the same Dedicated workspace)."""
    first, second = compliant_setting(), compliant_setting()
    first['properties']['logs'], second['properties']['logs'] = first['properties']['logs'][:3], second['properties']['logs'][3:]
    return [first, second]


# Each shape: (the vault's settings, non-compliant?). The verdict is the rule text's (Learn, "deployIfNotExists": compliant
# when one related resource satisfies existenceCondition; "Count": the members whose where holds, counted per setting;
# "Conditions": strings compare case-insensitively; "Fields"/aliases: property names case-insensitively).
SHAPES = {
    'the Get example: storage and event hub only, categoryGroup allLogs': ([got()], True),
    'categoryGroup allLogs and audit, category null, to a Dedicated workspace':
        ([changed(lambda p: p.update(logs=_groups('allLogs', 'audit')))], True),
    'the six categories to storage only (no workspaceId), Dedicated':
        ([changed(lambda p: (p.pop('workspaceId'), p.update(storageAccountId=got()['properties']['storageAccountId'])))], True),
    'the six categories to an event hub only, workspaceId ""':
        ([changed(lambda p: p.update(workspaceId='', eventHubName='hub', eventHubAuthorizationRuleId='/x/rule'))], True),
    'logAnalyticsDestinationType null': ([changed(lambda p: p.update(logAnalyticsDestinationType=None))], True),
    'logAnalyticsDestinationType absent': ([changed(lambda p: p.pop('logAnalyticsDestinationType'))], True),
    'logAnalyticsDestinationType AzureDiagnostics': ([changed(lambda p: p.update(logAnalyticsDestinationType='AzureDiagnostics'))], True),
    'logAnalyticsDestinationType dedicated (lower case)': ([changed(lambda p: p.update(logAnalyticsDestinationType='dedicated'))], False),
    'several settings, only the last satisfies':
        ([got(), changed(lambda p: p.update(logs=_groups('allLogs'))), changed(lambda p: p.update(logAnalyticsDestinationType=None)),
          compliant_setting()], False),
    'several settings, none satisfies':
        ([got(), changed(lambda p: p.update(logs=_groups('allLogs'))), changed(lambda p: p.update(logAnalyticsDestinationType=None))], True),
    'the six categories over two settings': (_split(), True),
    'what the definition deploys ("enabled": "true")': ([as_deployed()], False),
    'enabled "False" (a string)': ([changed(lambda p: p['logs'][0].update(enabled='False'))], True),
    'enabled null': ([changed(lambda p: p['logs'][0].update(enabled=None))], True),
    'category names in lower case': ([changed(lambda p: [log.update(category=log['category'].lower()) for log in p['logs']])], False),
    'property names in lower case': ([recased(compliant_setting(), str.lower)], False),
    'property names in upper case': ([recased(compliant_setting(), str.upper)], False),
    'the six and categoryGroup allLogs': ([changed(lambda p: p['logs'].extend(_groups('allLogs')))], False),
    'the six and other categories': ([changed(lambda p: p['logs'].append({'category': 'AzureBackupReport', 'enabled': True}))], False),
    # count counts members, not distinct categories: a seventh enabled member of the six makes 7, not 6.
    'one of the six twice, both enabled': ([changed(lambda p: p['logs'].append(dict(p['logs'][0])))], True),
    'one of the six twice, the second disabled': ([changed(lambda p: p['logs'].append(dict(p['logs'][0], enabled=False)))], False),
}


@pytest.mark.parametrize('shape', sorted(SHAPES))
def test_the_diagnostic_settings_shapes_azure_returns_are_judged_as_the_rule_says(shape):
    settings, bad = SHAPES[shape]
    rec = record(settings=settings)
    out = row([rec])
    assert (out['vaults'], out['non_compliant'], out['not_evaluated']) == (1, [rec['id']] if bad else [], []), shape


@pytest.mark.parametrize('workspace', [0, 1, [], [WORKSPACE], {}, {'id': WORKSPACE}, True, False])
def test_a_workspace_id_that_is_not_a_string_never_makes_a_vault_compliant(workspace):
    """``workspaceId notEquals ""`` on a value of another JSON type (the spec makes it a string): Learn says strings
    compare case-insensitively and a boolean compares with "true"/"false", nothing of a number, list or object against a
    string. Assumed, the safe side: it does not satisfy (before, ``0`` or ``[]`` was "not equal to ''" and compliant)."""
    rec = record(settings=[changed(lambda p: p.update(workspaceId=workspace))])
    assert row([rec])['non_compliant'] == [rec['id']]
    # A string workspace id in any case satisfies.
    assert row([record(settings=[changed(lambda p: p.update(workspaceId=WORKSPACE.upper()))])])['non_compliant'] == []


def test_a_list_answer_whose_value_is_null_is_not_evaluated_never_no_settings(emulator, monkeypatch):
    """Through the real ARM read pipeline against the emulator: a DiagnosticSettings_List answer ``{"value": null}`` says
    nothing of the vault's settings (Azure Policy judges the settings themselves, not this answer), so the vault is not
    evaluated and the read is an error of the run. Before, it was read as no settings at all: non-compliant. The vault
    whose list is served as the emulator stores it (its settings, or none) is judged."""
    from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession  # pylint: disable=import-outside-toplevel
    emulator.load_fleet({'subscriptions': [{'id': SUB, 'resource_groups': [{'name': RG_NAME, 'location': 'westeurope', 'vaults': [
        {'name': 'rsv-null', 'type': RS}, {'name': 'rsv-none', 'type': RS},
        {'name': 'rsv-good', 'type': RS, 'diagnostic_settings': {'setbypolicy_logAnalytics': compliant_setting()['properties']}},
    ]}]}]})
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    emulator.fault(method='GET', path_regex='/vaults/rsv-null/providers/Microsoft.Insights/diagnosticSettings$', status=200,
                   raw_body='{"value": null}')
    session = AzureSession({'api_retries': 0, 'polling_interval': 0.1, 'wait_timeout': 10})
    records = [record(name) for name in ('rsv-null', 'rsv-none', 'rsv-good')]
    attach_related(session, records, _policy.check_assignments({DINE: {}}), 2)
    null, none, good = records
    assert DS.lower() not in (null.get('related') or {})
    assert null['related_errors'][DS.lower()] == ('HTTP 200 InvalidResponseBody: Azure answered HTTP 200 with a page whose value '
                                                  'is null, not a list')
    assert none['related'] == {DS.lower(): []} and len(good['related'][DS.lower()]) == 1
    out = row(records)
    assert out['vaults'] == 2 and out['non_compliant'] == [none['id']]
    assert out['not_evaluated'] == [{'id': null['id'], 'reason': null['related_errors'][DS.lower()]}]
    (error,) = related_read_errors(records)
    assert "vault 'rsv-null'" in error['scope'] and 'page whose value is null' in error['message']
