# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""drift.sarif: the drift report as SARIF 2.1.0, for code-scanning dashboards (pure, no I/O).

``render_sarif(report)`` takes the drift.json document (module_utils/_reports/document.py) and writes one run:
one rule per setting, one result per open finding, each located at its vault's ARM id (a logical
location, and the same id as a relative artifact path, since code-scanning services need one) and, for a
finding about a backup policy, at the policy's ARM id too, with a partial fingerprint that stays the same
from run to run while the finding stays open. Its level follows who must act (finding_level).
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from ansible_collections.vaultlock.azure.plugins.module_utils._settings import COLLECTION_VERSION
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import visible
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import kind_label
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.policy import finding_verdicts, sarif_rules
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import FLAGS, LOCK_SETTINGS, SETTING_LABEL, SETTINGS
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import weakened_warning
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import (
    check_report,
    _value,
    finding_label,
    fix_kind,
    json_chunks,
)

SARIF_VERSION = '2.1.0'
# The OASIS SARIF 2.1.0 (Errata 01) schema; tests validate every rendering against a copy of it.
SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json'
TOOL_NAME = 'vaultlock.azure'
INFORMATION_URI = 'https://github.com/vaultlock/azure'
HELP_URI = 'https://github.com/vaultlock/azure/blob/main/docs/drift-report.md'
# Bump the suffix if the fingerprint's inputs ever change: a dashboard would otherwise see every alert as new.
FINGERPRINT_KEY = 'vaultlockFinding/v1'

# One SARIF rule per setting the drift report checks, from the hardening rules (module_utils/_rules): (setting, id,
# short description, help, security-severity). security-severity (0.0 to 10.0) is the scale code-scanning services
# rank rules by: a vault that is not immutable loses its backups first.
RULES = tuple((setting.name,) + tuple(setting.sarif) for setting in SETTINGS if setting.sarif)
RULE_INDEX = dict((rule[0], index) for index, rule in enumerate(RULES))

LEVEL_HELP = ('error: the playbook cannot fix it, a person must act (the result\'s reason says why); warning: a named option '
              'would let the playbook fix it (the result\'s option, for example retention_mode: enforce or allow_irreversible: '
              'true); note: the playbook fixes it as configured (a real run of this playbook does).')

# A finding's kind (_reports.FIX_KINDS) -> its SARIF level: a person's work, a switch to turn, what the run does itself.
LEVELS = {'person': 'error', 'option': 'warning', 'run': 'note'}


def finding_level(finding):
    """SARIF level from who must act (LEVEL_HELP says why)."""
    return LEVELS[finding.get('fix') or fix_kind(finding)]


def policy_id(vault_id, policy):
    """The ARM id of a backup policy of a vault (both vault kinds keep them under ``backupPolicies``)."""
    return '%s/backupPolicies/%s' % (str(vault_id or '').rstrip('/'), policy)


def fingerprint(vault_id, finding):
    """A hash of what identifies a finding across runs: the vault (case-insensitive, as ARM) and the setting's place."""
    parts = [str(vault_id or '').lower(), str(finding.get('setting') or '')]
    parts.extend(str(finding.get(key) or '').lower() for key in ('policy', 'tier', 'sub_policy', 'datastore'))
    return hashlib.sha256('\x1f'.join(parts).encode('utf-8')).hexdigest()


def artifact_uri(vault_id):
    """The vault id as a relative URI reference (no leading '/'), percent-encoded where a URI needs it."""
    return quote(str(vault_id or 'unknown-vault').lstrip('/'), safe="/()-._~")


def _rule(setting, name, short, full, severity):
    return {
        'id': setting,
        'name': name,
        'shortDescription': {'text': short},
        'fullDescription': {'text': full},
        'help': {'text': '%s %s See %s.' % (full, LEVEL_HELP[0].upper() + LEVEL_HELP[1:], HELP_URI)},
        'helpUri': HELP_URI,
        'defaultConfiguration': {'level': 'warning'},
        'properties': {'tags': ['security', 'backup', 'azure'], 'security-severity': severity,
                       'setting': setting, 'label': SETTING_LABEL.get(setting, setting)},
    }


def _message(vault, finding, not_fixed=False):
    """The result's text; ``not_fixed``: an open finding of a real run, whose fix this run did not make."""
    text = '%s %s%s: have %s, want %s; %s' % (
        kind_label(vault.get('vault_type')), vault.get('name') or vault.get('id'),
        ' (baseline tier %s)' % vault['tier'] if vault.get('tier') else '',
        _value(finding.get('have')), _value(finding.get('want')), finding_label(finding))
    if finding.get('fixable'):
        text += '. Fixable by the playbook'
        if finding.get('irreversible'):
            text += ' (irreversible)'
        if not_fixed:
            text += ', but this run did not fix it: its change failed or was not made (see the notifications)'
    elif finding.get('option'):
        text += '. Fixable by the playbook with %s' % finding['option']
    else:
        text += '. Not fixable by the playbook: a person must act'
    if finding.get('reason'):
        text += ': %s' % finding['reason']
    return text + '.'


def _logical_locations(vault, finding):
    """The vault, and the policy a finding is about (kind ``resource``, fully qualified by ARM id)."""
    vault_id = str(vault.get('id'))
    locations = [{'name': str(vault.get('name') or vault.get('id')), 'fullyQualifiedName': vault_id, 'kind': 'resource'}]
    if finding.get('policy') not in (None, ''):
        locations.append({'name': str(finding['policy']), 'fullyQualifiedName': policy_id(vault_id, finding['policy']),
                          'kind': 'resource'})
    return locations


def _result(vault, finding, report, this_run=True):
    """The result of an open finding; ``this_run`` false: a finding an earlier report had (an excluded vault)."""
    setting = str(finding.get('setting'))
    result = {
        'ruleId': setting,
        'kind': 'fail',
        'level': finding_level(finding),
        'message': {'text': _message(vault, finding, not_fixed=this_run and not report.get('check_mode', True))},
        'locations': [{
            'physicalLocation': {'artifactLocation': {'uri': artifact_uri(vault.get('id'))}},
            'logicalLocations': _logical_locations(vault, finding),
        }],
        'partialFingerprints': {FINGERPRINT_KEY: fingerprint(vault.get('id'), finding)},
        'properties': {
            'vault_id': vault.get('id'), 'vault_type': vault.get('vault_type'), 'subscription_id': vault.get('subscription_id'),
            'resource_group': vault.get('resource_group'), 'have': finding.get('have'), 'want': finding.get('want'),
            'fixable': bool(finding.get('fixable')), 'irreversible': bool(finding.get('irreversible')),
            'reason': finding.get('reason'), 'fix': finding.get('fix') or fix_kind(finding), 'option': finding.get('option'),
        },
    }
    result['properties'].update((flag.sarif, flag.of(vault)) for flag in FLAGS)
    if setting in RULE_INDEX:
        result['ruleIndex'] = RULE_INDEX[setting]
    for key in ('policy', 'tier', 'sub_policy', 'datastore'):
        if finding.get(key) not in (None, ''):
            result['properties'][key] = finding[key]
    if vault.get('tier'):
        # 'tier' above is a retention tier of a policy; the vault's baseline tier has its own name.
        result['properties']['baseline_tier'] = vault['tier']
    if 'azure_policy' in finding:
        # The definitions that check this setting (no verdict), and those of them that judge this vault non-compliant.
        result['properties']['azure_policy'] = list(finding.get('azure_policy') or [])
        result['properties']['azure_policy_non_compliant'] = list(finding.get('azure_policy_non_compliant') or [])
        verdicts = finding_verdicts(report, finding)
        if verdicts:
            result['message']['text'] += ' Azure Policy: %s.' % verdicts
    # A message is read by a person (a code scanning alert): what would hide or turn text shows as its code; the
    # properties keep the values as they are.
    result['message']['text'] = visible(result['message']['text'])
    return result


# A baseline weaker than the role's defaults (drift.json weakened_baseline: module_utils/_targets.weakened_baseline): one
# result a weaker key, so that a code scanning service raises an alert for it (a notification alone is seldom read) and
# closes it when the baseline is the default again. Its location is the role variable (a logical location, and the same
# name under harden_backup_vaults/baseline/ as the artifact a code scanning service needs).
WEAKENED_RULE = ('baseline_weakened', 'BaselineWeakerThanRoleDefault', 'A baseline variable is weaker than the role\'s default',
                 'A baseline value weaker than the default of the harden_backup_vaults role checks less than the role would (or asks '
                 'a run to lower vaults): the reports then pass vaults the default baseline would find drifting. The result names '
                 'the variable, its value, the default and where the value came from (extra vars, the play\'s vars, role '
                 'parameters, facts, or the inventory with its group or host).', '6.5')


def _weakened_result(entry):
    """The result of one weaker key of the baseline (drift.json weakened_baseline)."""
    variable = str(entry.get('variable'))
    text = weakened_warning(entry) + '.'
    where = '%s.%s' % (variable, entry.get('key')) if entry.get('tier') is not None else variable
    return {
        'ruleId': WEAKENED_RULE[0], 'kind': 'fail', 'level': 'error' if entry.get('lowers') else 'warning',
        'message': {'text': visible(text)},
        'locations': [{'physicalLocation': {'artifactLocation': {'uri': 'harden_backup_vaults/baseline/' + quote(where, safe='[]._-')}},
                       'logicalLocations': [{'name': where, 'fullyQualifiedName': where, 'kind': 'variable'}]}],
        'partialFingerprints': {FINGERPRINT_KEY: hashlib.sha256('\x1f'.join(
            ('baseline_weakened', variable.lower(), str(entry.get('key') or ''), str(entry.get('tier') or ''))).encode('utf-8')).hexdigest()},
        'properties': dict((key, entry.get(key)) for key in ('variable', 'key', 'tier', 'value', 'default', 'why', 'lowers', 'source',
                                                             'for_run')),
    }


# An excluded vault is not checked, so it has no results of this run. GitHub code scanning matches results across analyses
# by rule, location and partialFingerprints, and closes an alert whose result the latest analysis of the same configuration
# (tool and runAutomationDetails category) no longer has: "a new alert will be created, and the old one will be closed"
# (GitHub Docs, "SARIF support for code scanning", Data for preventing duplicated alerts,
# https://docs.github.com/en/code-security/reference/code-scanning/sarif-files/sarif-support-for-code-scanning; and "About
# code scanning alerts", About alerts from multiple configurations,
# https://docs.github.com/en/code-security/concepts/code-scanning/about-code-scanning-alerts). Leaving an excluded vault's
# results out would close its open alerts as fixed. So its open findings, as the last report that checked it wrote them
# (drift.json excluded_vaults), stay results with the same rule, location and fingerprint, each with a suppression of kind
# external, status accepted, whose justification names the exclusion. GitHub documented suppressions[].state accepted as
# closing the alert as dismissed, not fixed (the same page as published in 2020, enterprise-server 2.22); the page today
# lists no suppressions among the properties code scanning uses, and then the result keeps the alert open with its last
# known drift. Either way it is never "fixed" by an exclusion; a SARIF viewer shows it as suppressed (SARIF 2.1.0 3.27.23,
# 3.35).
EXCLUDED_STATUS = 'accepted'


def _excluded_result(vault, finding, report):
    """The result of an open finding of an excluded vault (drift.json excluded_vaults), suppressed: not checked by this run."""
    result = _result(vault, finding, report, this_run=False)
    entries = ', '.join(str(entry) for entry in vault.get('excluded_by') or []) or 'an exclusion'
    checked = vault.get('checked_at') or 'an earlier run'
    justification = ('not checked by this run: harden_backup_vaults_exclude (%s) excluded the vault; the finding is the one the '
                     'report of %s had' % (entries, checked))
    result['message']['text'] = visible('Not checked by this run (excluded by %s); as last checked (%s): %s'
                                        % (entries, checked, result['message']['text']))
    result['suppressions'] = [{'kind': 'external', 'status': EXCLUDED_STATUS, 'justification': visible(justification)}]
    result['properties'].update(excluded=True, excluded_by=list(vault.get('excluded_by') or []), checked_at=vault.get('checked_at'))
    return result


# A vault the previous report judged that this run could not read (drift.json unread_vaults: read access taken away, a scope
# the run could not read, a vault named by an error of the run) would lose its results the same way, and its alerts would
# close as fixed. Its open findings, as that report had them, stay results with the same rule, location and fingerprint,
# NOT suppressed: nobody chose to stop checking the vault, and its drift is not known to be gone. A deleted vault (404) is
# not carried: its alerts may close.
def _unread_result(vault, finding, report):
    """The result of an open finding the previous report had for a vault this run could not read (drift.json unread_vaults)."""
    result = _result(vault, finding, report, this_run=False)
    checked = vault.get('checked_at') or 'an earlier run'
    result['message']['text'] = visible('Not checked by this run, which could not read the vault (%s); as the previous report (%s) had it: %s'
                                        % (vault.get('why') or 'it could not be read', checked, result['message']['text']))
    result['properties'].update(unread=True, why=vault.get('why'), checked_at=vault.get('checked_at'))
    return result


def _notification(error):
    scope = str(error.get('scope') or 'unknown')
    text = '%s: %s' % (error.get('action') or 'discovery', error.get('message') or 'unknown error')
    notification = {'level': 'error', 'message': {'text': visible(text)}, 'properties': {'scope': scope}}
    if scope.lower().startswith('/subscriptions/'):
        notification['locations'] = [{'logicalLocations': [{'fullyQualifiedName': scope, 'kind': 'resource'}]}]
    return notification


def _readiness_properties(row):
    """What a SARIF result about a lock carries of the vault's lock readiness."""
    return {'ready': bool(row.get('ready')), 'status': row.get('status'), 'blockers': row.get('blockers') or [],
            'protected_items': (row.get('protected_items') or {}).get('count', 0), 'held_until': row.get('held_until'),
            'commitments': row.get('commitments') or []}


def build_sarif(report, tool_version=COLLECTION_VERSION):
    """The SARIF log (a dict) for a drift.json document."""
    check_report(report)
    lock_rows = dict((str(row.get('id') or '').lower(), row) for row in report.get('lock_readiness') or [])
    results = []
    for vault in report['vaults']:
        for finding in vault.get('findings') or []:
            if not finding.get('resolved'):
                result = _result(vault, finding, report)
                row = lock_rows.get(str(vault.get('id') or '').lower())
                if row is not None and finding.get('setting') in LOCK_SETTINGS:
                    result['properties']['lock_readiness'] = _readiness_properties(row)
                results.append(result)
    for vault in report.get('excluded_vaults') or []:
        for finding in vault.get('findings') or []:
            results.append(_excluded_result(vault, finding, report))
    for vault in report.get('unread_vaults') or []:
        for finding in vault.get('findings') or []:
            results.append(_unread_result(vault, finding, report))
    weakened = [entry for entry in report.get('weakened_baseline') or [] if isinstance(entry, dict)]
    results.extend(_weakened_result(entry) for entry in weakened)
    errors = report.get('errors') or []
    driver = {'name': TOOL_NAME, 'informationUri': INFORMATION_URI,
              'rules': [_rule(*rule) for rule in RULES] + ([_rule(*WEAKENED_RULE)] if weakened else []) + sarif_rules(report)}
    # The azure_policy section: one rule per definition, its verdicts counted in the rule's properties (_reports.policy).
    if tool_version:
        driver['semanticVersion'] = str(tool_version)
    # Warnings (an exclusion that matched no vault, TLS validation off) are notifications too: a pipeline shows them.
    notifications = [_notification(e) for e in errors] + [
        {'level': 'warning', 'message': {'text': visible(w)}} for w in report.get('warnings') or []]
    invocation = {'executionSuccessful': not errors, 'toolExecutionNotifications': notifications}
    if report.get('generated_at'):
        invocation['endTimeUtc'] = str(report['generated_at'])
    run = {
        'tool': {'driver': driver},
        # One category per kind of run, so a check-mode run and a real run are separate analyses on a dashboard.
        'automationDetails': {'id': 'vaultlock.azure/harden_backup_vaults/%s/' % ('check' if report.get('check_mode', True) else 'run')},
        'invocations': [invocation],
        'results': results,
        'columnKind': 'unicodeCodePoints',
        'properties': {'drift_report_schema_version': report.get('schema_version'), 'check_mode': report.get('check_mode', True),
                       'summary': report.get('summary'),
                       'lock_readiness': {'vaults': len(lock_rows), 'ready': sum(1 for r in lock_rows.values() if r.get('ready')),
                                          'not_ready': sum(1 for r in lock_rows.values() if not r.get('ready'))}},
    }
    return {'$schema': SARIF_SCHEMA, 'version': SARIF_VERSION, 'runs': [run]}


def render_sarif(report, tool_version=COLLECTION_VERSION):
    """drift.sarif text: the SARIF log, a line per member of the log, its run and the run's lists (each result whole on its
    line), written by the C encoder (json_chunks)."""
    return ''.join(json_chunks(build_sarif(report, tool_version), 4, sort_keys=False)) + '\n'
