# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One bad vault never hides the others; irreversible changes are marked in drift, diffs and reports; check mode
predicts what apply does (enhanced security, raised values)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import compute_drift, drift_diffs
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import fleet as _fleet
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, UnreadableResourceError, from_exception
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import read_records
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import build_report, render_junit, render_markdown
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from tests.unit.builders import SUB

RS = '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/%%s' % SUB
BV = '/subscriptions/%s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/%%s' % SUB


def rs_body(name, **security):
    settings = {'softDeleteSettings': {'softDeleteState': 'Enabled', 'enhancedSecurityState': 'Enabled',
                                       'softDeleteRetentionPeriodInDays': 14}}
    settings.update(security)
    return {'id': RS % name, 'name': name, 'location': 'westeurope', 'properties': {'securitySettings': settings}}


@pytest.mark.parametrize('body, field', [
    (dict(rs_body('v'), properties=None), 'properties'),
    ({'id': RS % 'v', 'name': 'v'}, 'properties'),
    (rs_body('v', immutabilitySettings={'state': 'SemiLocked'}), 'properties.securitySettings.immutabilitySettings.state'),
    (rs_body('v', immutabilitySettings={'state': 'Locked', 'configuration': {'type': 'TimeBased', 'durationInDays': 'ninety'}}),
     'properties.securitySettings.immutabilitySettings.configuration.durationInDays'),
    (rs_body('v', immutabilitySettings={'state': 'Locked', 'configuration': {'type': 'Forever'}}),
     'properties.securitySettings.immutabilitySettings.configuration.type'),
    (rs_body('v', softDeleteSettings={'softDeleteState': 'Enabled', 'softDeleteRetentionPeriodInDays': '14 days'}),
     'properties.securitySettings.softDeleteSettings.softDeleteRetentionPeriodInDays'),
    (rs_body('v', softDeleteSettings={'softDeleteState': 'Enabled', 'softDeleteRetentionPeriodInDays': 14.5}),
     'properties.securitySettings.softDeleteSettings.softDeleteRetentionPeriodInDays'),
    (rs_body('v', softDeleteSettings={'softDeleteState': 'Sometimes'}), 'properties.securitySettings.softDeleteSettings.softDeleteState'),
    (rs_body('v', softDeleteSettings='on'), 'properties.securitySettings.softDeleteSettings'),
    ({'name': 'v', 'properties': {}}, 'id'),
])
def test_a_body_the_collection_cannot_read_names_the_vault_and_the_field(body, field):
    with pytest.raises(UnreadableResourceError) as err:
        vault_record(body, 'recovery_services')
    assert err.value.field == field
    assert field in str(err.value)
    if body.get('id'):
        assert str(err.value).startswith(body['id'])


def test_one_bad_vault_never_hides_the_others():
    good = [rs_body('a'), rs_body('b', immutabilitySettings={'state': 'Locked'})]
    records, errors = read_records(good[:1] + [rs_body('bad', immutabilitySettings={'state': 'Frozen'}), 'not a dict'] + good[1:],
                                   'recovery_services')
    assert [r['name'] for r in records] == ['a', 'b']
    assert [e['scope'] for e in errors] == [RS % 'bad', 'a recovery services in the list']
    assert errors[0]['code'] == 'UnreadableVault' and errors[0]['field'].endswith('immutabilitySettings.state')
    assert errors[0]['vault']['name'] == 'bad' and errors[0]['vault']['resource_group'] == 'rg'
    assert errors[0]['vault']['unreadable']['field'].endswith('.state')


def test_backup_vault_float_days_and_enhanced_security():
    settings = {'softDeleteSettings': {'state': 'On', 'retentionDurationInDays': 14.0}}
    body = {'id': BV % 'bv', 'name': 'bv', 'properties': {'securitySettings': settings}}
    record = vault_record(body, 'backup')
    assert record['soft_delete'] == {'state': 'on', 'retention_days': 14, 'enforced_by_azure': False} and record['enhanced_security'] is None
    rs = vault_record(rs_body('r', softDeleteSettings={'softDeleteState': 'Enabled', 'enhancedSecurityState': 'AlwaysON'}),
                      'recovery_services')
    assert rs['enhanced_security'] == 'always_on'


# --------------------------------------------------------------------------- drift

def record(name, immutability='enabled', state='on', days=14, enhanced='same', policies=None, kind='recovery_services'):
    return {'id': (RS if kind == 'recovery_services' else BV) % name, 'name': name, 'resource_group': 'rg', 'subscription_id': SUB,
            'location': 'westeurope', 'vault_type': kind, 'immutability': immutability, 'immutability_retention_days': None,
            'soft_delete': {'state': state, 'retention_days': days},
            'enhanced_security': (state if kind == 'recovery_services' else None) if enhanced == 'same' else enhanced,
            'mua': {'protected': False, 'resource_guard_id': None}, 'tags': {}, 'policies': policies if policies is not None else []}


def weak_vm():
    return normalise_policy({'name': 'VM', 'properties': {'backupManagementType': 'AzureIaasVM', 'retentionPolicy': {
        'retentionPolicyType': 'LongTermRetentionPolicy',
        'dailySchedule': {'retentionTimes': ['2024-01-01T02:00:00Z'], 'retentionDuration': {'count': 7, 'durationType': 'Days'}},
        'monthlySchedule': {'retentionTimes': ['2024-01-01T02:00:00Z'], 'retentionDuration': {'count': 1, 'durationType': 'Months'}}}}},
        'recovery_services')


BASE = {'immutability': 'enabled', 'allow_irreversible': False,
        'retention': {'minimum': {'daily': '30d', 'monthly': '2m'}, 'mode': 'enforce'},
        'soft_delete': {'state': 'on', 'retention_days': 30}}


def test_retention_raise_on_a_locked_vault_needs_consent_and_is_irreversible():
    [entry] = compute_drift([record('locked', 'locked', days=30, policies=[weak_vm()])], BASE)
    assert {(f['tier'], f['fixable'], f['irreversible']) for f in entry['findings']} == {('daily', False, True), ('monthly', False, True)}
    assert 'Locked' in entry['findings'][0]['reason'] and entry['actions']['raise_policies'] == [] and entry['changes'] == []
    [entry] = compute_drift([record('locked', 'locked', days=30, policies=[weak_vm()])], dict(BASE, allow_irreversible=True))
    assert entry['actions']['raise_policies'] == ['VM']
    # The value a run writes, in the tier's own unit (months for a monthly tier).
    assert [(c['tier'], c['before'], c['after'], c['irreversible']) for c in entry['changes']] == [
        ('daily', 'P7D', 'P30D', True), ('monthly', 'P1M', 'P2M', True)]


def test_lock_and_always_on_are_marked_irreversible_fixable_or_not():
    baseline = dict(BASE, immutability='locked', retention=None, soft_delete={'state': 'always_on', 'retention_days': None})
    [entry] = compute_drift([record('v', 'disabled')], baseline)
    assert [(f['setting'], f['fixable'], f['irreversible']) for f in entry['findings']] == [
        ('immutability', False, True), ('soft_delete', False, True)]
    [entry] = compute_drift([record('v', 'disabled')], dict(baseline, allow_irreversible=True))
    assert [(c['setting'], c['before'], c['after'], c['irreversible']) for c in entry['changes']] == [
        ('soft_delete', 'on', 'always_on', True), ('enhanced_security', 'on', 'always_on', True),
        ('immutability', 'disabled', 'enabled', False), ('immutability', 'enabled', 'locked', True)]
    [diff] = drift_diffs([entry])
    assert 'immutability (IRREVERSIBLE): disabled' in diff['before'] and 'immutability (IRREVERSIBLE): locked' in diff['after']
    assert 'IRREVERSIBLE: enhanced_security, immutability, soft_delete' in diff['after_header']


def test_days_on_enhanced_security_always_on_are_not_fixable():
    # Soft delete On, enhanced security (hybrid workloads) AlwaysON: vault_soft_delete writes both together and Azure never
    # lowers AlwaysON, so raising the days would fail every time; it is reported as not fixable, with nothing to apply.
    [entry] = compute_drift([record('v', days=14, enhanced='always_on')], dict(BASE, retention=None))
    assert [(f['setting'], f['fixable']) for f in entry['findings']] == [('soft_delete_retention_days', False)]
    assert 'AlwaysOn' in entry['findings'][0]['reason']
    assert entry['actions']['soft_delete'] is None and entry['changes'] == []


def test_enhanced_security_that_moves_with_soft_delete_is_predicted():
    [entry] = compute_drift([record('v', state='off', days=30, enhanced='off')], dict(BASE, retention=None))
    assert [(c['setting'], c['before'], c['after']) for c in entry['changes']] == [
        ('soft_delete', 'off', 'on'), ('enhanced_security', 'off', 'on')]
    report = build_report([entry], {'check_mode': True, 'predict': True})
    assert [c['setting'] for c in report['changed'][0]['changes']] == ['soft_delete', 'enhanced_security']


def test_irreversible_shows_in_json_markdown_and_junit():
    baseline = dict(BASE, immutability='locked', allow_irreversible=True, soft_delete=None)
    drift = compute_drift([record('locked', 'locked', policies=[weak_vm()]), record('open', 'enabled', policies=[])], baseline)
    report = build_report(drift, {'check_mode': True, 'predict': True, 'warnings': ["exclusion 'x' matched no vault"]})
    findings = {(v['name'], f['tier'] or f['setting']): f['irreversible'] for v in report['vaults'] for f in v['findings']}
    assert findings == {('locked', 'daily'): True, ('locked', 'monthly'): True, ('open', 'immutability'): True}
    assert all(c['irreversible'] for v in report['changed'] for c in v['changes'] if c['setting'] != 'immutability' or c['after'] == 'locked')
    markdown = render_markdown(report)
    assert '(IRREVERSIBLE)' in markdown and '**Irreversible:** 3 changes would never be undone.' in markdown
    assert "## Warnings" in markdown and "exclusion 'x' matched no vault" in markdown
    junit = ET.fromstring(render_junit(report))
    assert 'IRREVERSIBLE' in junit.find('.//failure').text
    assert [p.get('value') for p in junit.iter('property') if p.get('name') == 'warning'] == ["exclusion 'x' matched no vault"]


# --------------------------------------------------------------------------- errors

class DecodeError(Exception):
    """Stands in for azure.core.exceptions.DecodeError (recognised by class name)."""


class IncompleteReadError(DecodeError):
    pass


class HttpResponseError(Exception):
    pass


class OperationFailed(Exception):
    pass


class Response:
    status_code = 200
    headers = {'x-ms-request-id': 'req-1'}

    def json(self):
        return {'status': 'Failed', 'error': {'code': 'UserErrorVaultUpdateFailed', 'message': 'The vault update failed.'}}


def test_a_body_that_is_not_json_names_operation_resource_and_status():
    exc = DecodeError('JSON is invalid: Expecting value: line 1 column 1 (char 0)')
    exc.response = Response()
    error = from_exception(exc, 'update immutability', "Recovery Services vault 'v'")
    assert error.describe() == ("update immutability failed for Recovery Services vault 'v' (HTTP 200, InvalidResponseBody): "
                                "Azure answered HTTP 200 with a body that is not valid JSON (empty or truncated)")
    truncated = IncompleteReadError('peer closed')
    truncated.response = Response()
    assert 'a truncated body' in from_exception(truncated, 'read vault').describe()


def test_a_failed_long_running_operation_is_not_reported_as_http_200():
    exc = HttpResponseError('(UserErrorVaultUpdateFailed) The vault update failed.')
    exc.response = Response()
    exc.error = OperationFailed('Operation failed or canceled')
    error = from_exception(exc, 'update immutability', "Recovery Services vault 'v'")
    assert error.status is None and 'HTTP 200' not in error.describe()
    assert error.describe() == ("update immutability failed for Recovery Services vault 'v' (UserErrorVaultUpdateFailed): "
                                "The vault update failed. The long-running operation ended Failed.")


# --------------------------------------------------------------------------- subscription errors

class _Backend:
    """backend(session, kind) whose list() fails for some (subscription, kind)."""

    def __init__(self, failures):
        self.failures = failures

    def __call__(self, session, kind):
        backend = self

        class One:
            def list(self, sub, rg=None):  # pylint: disable=unused-argument
                code = backend.failures.get((sub, kind))
                if code:
                    raise AzureOperationError('list vaults', 'subscription %s' % sub, 404 if code == 'SubscriptionNotFound' else 409,
                                              code, 'no')
                return [rs_body('v-%s-%s' % (sub[:1], kind[:2]))] if kind == 'recovery_services' else []
        return One()


def test_a_subscription_error_appears_once_and_names_the_kind_only_when_it_matters(monkeypatch):
    sub2 = '22222222-2222-2222-2222-222222222222'
    sub3 = '33333333-3333-3333-3333-333333333333'
    failures = {(sub2, 'recovery_services'): 'SubscriptionNotFound', (sub2, 'backup'): 'SubscriptionNotFound',
                (sub3, 'backup'): 'MissingSubscriptionRegistration'}
    monkeypatch.setattr(_fleet, 'backend', _Backend(failures))
    _records, errors = _fleet.list_vaults(None, [SUB, sub2, sub3], ['recovery_services', 'backup'])
    assert [(e['scope'], e['code']) for e in errors] == [
        ('subscription %s' % sub2, 'SubscriptionNotFound'),
        ('subscription %s (Backup vaults)' % sub3, 'MissingSubscriptionRegistration')]


def test_invalid_soft_delete_enums_read_as_not_set():
    """Azure answers "Invalid" for settings a vault never had (recorded create answers): not set, not unreadable."""
    from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
    vid = '/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv-1'
    raw = {'id': vid, 'name': 'rsv-1', 'location': 'westeurope', 'properties': {'securitySettings': {
        'softDeleteSettings': {'softDeleteState': 'Invalid', 'enhancedSecurityState': 'Invalid'},
        'multiUserAuthorization': 'Invalid'}}}
    record = vault_record(raw, 'recovery_services')
    assert record['soft_delete']['state'] is None and record['enhanced_security'] is None
    assert record['mua']['protected'] is False


def test_operational_tier_raise_on_a_locked_vault_needs_no_consent():
    """Immutability does not hold operational tiers (Azure Files snapshots): raising one can be undone, even when Locked."""
    files = normalise_policy({'name': 'Files', 'properties': {
        'backupManagementType': 'AzureStorage', 'workLoadType': 'AzureFileShare', 'retentionPolicy': {
            'retentionPolicyType': 'LongTermRetentionPolicy',
            'dailySchedule': {'retentionTimes': ['2024-01-01T02:00:00Z'], 'retentionDuration': {'count': 5, 'durationType': 'Days'}}}}},
        'recovery_services')
    baseline = dict(BASE, retention={'minimum': {'daily': '30d'}, 'mode': 'enforce'})
    [entry] = compute_drift([record('locked', 'locked', days=30, policies=[files])], baseline)
    [finding] = entry['findings']
    assert (finding['fixable'], finding['irreversible']) == (True, False)
    assert 'not protected by immutability' in finding['reason']
    assert entry['actions']['raise_policies'] == ['Files']
    assert [(c['tier'], c['after'], c['irreversible']) for c in entry['changes']] == [('daily', 'P30D', False)]
