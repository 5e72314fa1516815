# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The azure_policy section of the drift reports: drift.json, drift.md, drift.html and drift.sarif (pure, no I/O).

The writers (document, html and sarif of this package) call these functions through small hooks; escaping is theirs
(passed in), so this file imports no writer.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._policy import LEARN_URI, finding_definitions

# Vaults listed per definition in drift.md and drift.html (drift.json lists them all).
MAX_LISTED = 50
SARIF_PREFIX = 'azure-policy/'
_KEYS = ('name', 'id', 'display_name', 'version', 'effect', 'vault_type', 'help_uri')


class PolicyReportError(VaultlockError):
    """An azure_policy section that is not one _policy.evaluate made."""


def section(value):
    """meta.azure_policy (``_policy.evaluate``) as drift.json's azure_policy section, checked; None when absent."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not isinstance(value.get('definitions'), list):
        raise PolicyReportError('meta.azure_policy must be {definitions: [...]} (vaultlock.azure harden_plan makes it)')
    rows = []
    for row in value['definitions']:
        if not isinstance(row, Mapping) or not isinstance(row.get('non_compliant'), list):
            raise PolicyReportError('every azure_policy definition must be a dictionary with non_compliant')
        out = dict((key, None if row.get(key) is None else str(row.get(key))) for key in _KEYS)
        out.update(parameters=dict(row.get('parameters') or {}), evaluated=bool(row.get('evaluated')),
                   vaults=int(row.get('vaults') or 0), non_compliant=[str(v) for v in row['non_compliant']])
        if row.get('related_type') is not None:
            # A deployIfNotExists definition (diagnostic settings): judged on related resources, which the collection
            # never deploys; the vaults whose related resources could not be read, with the reason.
            unread = row.get('not_evaluated') or []
            if not isinstance(unread, list) or not all(isinstance(item, Mapping) for item in unread):
                raise PolicyReportError('azure_policy not_evaluated must be a list of {id, reason}')
            out.update(related_type=str(row['related_type']), remediation=str(row.get('remediation') or ''),
                       not_evaluated=[{'id': str(item.get('id')), 'reason': str(item.get('reason'))} for item in unread])
        rows.append(out)
    return {'definitions': rows}


def annotate_findings(vaults, policy):
    """Each finding of the report's vaults names the evaluated definitions that check its setting (``azure_policy``: a
    pointer, not a verdict) and, of those, the ones that judge this vault non-compliant (``azure_policy_non_compliant``).
    The two differ where a definition checks the setting with other parameters than the baseline: with
    checkLockedImmutabilityOnly false, an Unlocked vault the baseline wants locked has a finding that the immutability
    definition answers to, while that definition lists the vault as compliant."""
    if policy is None:
        return
    flagged = dict((row['name'], set(str(v).lower() for v in row['non_compliant'])) for row in policy['definitions'])
    for vault in vaults:
        vault_id = str(vault.get('id') or '').lower()
        for finding in vault.get('findings') or []:
            names = finding_definitions(policy, finding.get('setting'), vault.get('vault_type'))
            finding['azure_policy'] = names
            finding['azure_policy_non_compliant'] = [name for name in names if vault_id in flagged.get(name, ())]


def finding_verdicts(report, finding):
    """What the definitions a finding answers to say of its vault, as text: 'non-compliant with <display name>' and
    'compliant with <display name> (checks the same setting)', joined by '; '. '' when the finding answers to none or
    the report has no azure_policy section."""
    policy = report.get('azure_policy')
    names = finding.get('azure_policy') or []
    if policy is None or not names:
        return ''
    display = dict((row['name'], row.get('display_name') or row['name']) for row in policy['definitions'])
    against = set(finding.get('azure_policy_non_compliant') or [])
    parts = ['non-compliant with %s' % display.get(name, name) for name in names if name in against]
    parts.extend('compliant with %s (checks the same setting)' % display.get(name, name) for name in names if name not in against)
    return '; '.join(parts)


def _status(row):
    if not row['evaluated']:
        return 'not evaluated (effect Disabled)'
    status = '%d of %d non-compliant' % (len(row['non_compliant']), row['vaults'])
    if row.get('not_evaluated'):
        status += ', %d not evaluated' % len(row['not_evaluated'])
    return status


def _parameters(row):
    return ', '.join('%s=%s' % (key, str(value).lower() if isinstance(value, bool) else value)
                     for key, value in sorted(row['parameters'].items()))


def _source(row):
    """'Backup/<file>.json' of a help_uri into Azure/azure-policy."""
    return '/'.join(str(row.get('help_uri') or '').rsplit('/', 2)[-2:])


def _vault_name(vault_id):
    return str(vault_id).rstrip('/').rsplit('/', 1)[-1]


# After a real run the definitions judged the vaults as the run read them, before its changes (docs/drift-report.md): the
# reports said "as this run read them" only, and a vault the run fixed stood non-compliant next to a posture that had it fixed.
BEFORE_CHANGES = ', before its changes: a vault this run changed may comply now (see Changed)'


def read_when(report):
    """'' in check mode, BEFORE_CHANGES after a real run."""
    return '' if report.get('check_mode', True) else BEFORE_CHANGES


def markdown_lines(report, escape, table):
    """drift.md's Azure Policy section: one table row per definition, then each definition's non-compliant vaults."""
    policy = report.get('azure_policy')
    if policy is None:
        return []
    lines = ['', '## Azure Policy', '',
             'What the vault-level Azure Backup built-in policy definitions would say of the vaults as this run read them%s '
             '(independent of the baseline; see %s).' % (read_when(report), LEARN_URI), '']
    rows = policy['definitions']
    if not rows:
        return lines + ['No definition evaluated (harden_backup_vaults_azure_policy is empty).']
    lines.extend(table(['Definition', 'Version', 'Effect', 'Parameters', 'Compliance'], [
        ['[%s](%s)' % (escape(r['display_name']), r['help_uri']), escape(r['version']), escape(r['effect']),
         escape(_parameters(r)), escape(_status(r))] for r in rows]))
    for row in rows:
        if not row['non_compliant'] and not row.get('not_evaluated') and not row.get('remediation'):
            continue
        lines.extend(['', '### %s' % escape(row['display_name']), '', '`%s`' % row['id'].replace('`', '')])
        if row.get('remediation'):
            lines.extend(['', escape(row['remediation'])])
        if row['non_compliant']:
            lines.append('')
            lines.extend(table(['Non-compliant vault', 'ARM id'], [
                [escape(_vault_name(v)), escape(v)] for v in row['non_compliant'][:MAX_LISTED]]))
            if len(row['non_compliant']) > MAX_LISTED:
                lines.extend(['', '... and %d more (drift.json lists them all)' % (len(row['non_compliant']) - MAX_LISTED)])
        if row.get('not_evaluated'):
            lines.append('')
            lines.extend(table(['Vault not evaluated', 'Why'], [
                [escape(_vault_name(item['id'])), escape(item['reason'])] for item in row['not_evaluated'][:MAX_LISTED]]))
            if len(row['not_evaluated']) > MAX_LISTED:
                lines.extend(['', '... and %d more (drift.json lists them all)' % (len(row['not_evaluated']) - MAX_LISTED)])
    return lines


def html_section(report, esc):
    """The body of drift.html's Azure Policy section (every value escaped with the writer's ``esc``); '' without one."""
    policy = report.get('azure_policy')
    if policy is None:
        return ''
    out = ['<p>What the vault-level Azure Backup built-in policy definitions would say of the vaults as this run read them%s '
           '(independent of the baseline).</p>' % esc(read_when(report))]
    rows = policy['definitions']
    if not rows:
        out.append('<p>No definition evaluated (harden_backup_vaults_azure_policy is empty).</p>')
        return ''.join(out)
    out.append('<table id="azure-policy-definitions"><thead><tr><th>Definition</th><th>Version</th><th>Effect</th>'
               '<th>Parameters</th><th>Compliance</th></tr></thead><tbody>')
    for row in rows:
        # The source is named, not linked: the page holds no address (it stays self-contained; drift.json has help_uri).
        out.append('<tr><td>%s<br><code>%s</code><br><small>Azure/azure-policy %s</small></td><td>%s</td><td>%s</td><td>%s</td>'
                   '<td>%s</td></tr>' % (esc(row['display_name']), esc(row['name']), esc(_source(row)), esc(row['version']),
                                         esc(row['effect']), esc(_parameters(row)), esc(_status(row))))
    out.append('</tbody></table>')
    for row in rows:
        if not row['non_compliant'] and not row.get('not_evaluated') and not row.get('remediation'):
            continue
        out.append('<h3>%s</h3>' % esc(row['display_name']))
        if row.get('remediation'):
            out.append('<p class="azure-policy-remediation">%s</p>' % esc(row['remediation']))
        if row['non_compliant']:
            out.append('<table class="azure-policy-vaults"><thead><tr><th>Non-compliant vault</th><th>ARM id</th></tr>'
                       '</thead><tbody>')
            out.extend('<tr><td>%s</td><td><code>%s</code></td></tr>' % (esc(_vault_name(v)), esc(v))
                       for v in row['non_compliant'][:MAX_LISTED])
            out.append('</tbody></table>')
            if len(row['non_compliant']) > MAX_LISTED:
                out.append('<p>... and %d more (drift.json lists them all)</p>' % (len(row['non_compliant']) - MAX_LISTED))
        if row.get('not_evaluated'):
            out.append('<table class="azure-policy-unread"><thead><tr><th>Vault not evaluated</th><th>Why</th></tr>'
                       '</thead><tbody>')
            out.extend('<tr><td>%s</td><td>%s</td></tr>' % (esc(_vault_name(item['id'])), esc(item['reason']))
                       for item in row['not_evaluated'][:MAX_LISTED])
            out.append('</tbody></table>')
            if len(row['not_evaluated']) > MAX_LISTED:
                out.append('<p>... and %d more (drift.json lists them all)</p>' % (len(row['not_evaluated']) - MAX_LISTED))
    out.append('</section>')
    return ''.join(out)


def _level(effect):
    return 'error' if str(effect).lower() == 'deny' else 'warning'


def sarif_rules(report):
    """One SARIF rule per definition of the section: its id, name and a help link to its source."""
    policy = report.get('azure_policy') or {'definitions': []}
    rules = []
    for row in policy['definitions']:
        rules.append({
            'id': SARIF_PREFIX + row['name'],
            'name': 'AzurePolicy_' + row['name'].replace('-', ''),
            'shortDescription': {'text': row['display_name']},
            'fullDescription': {'text': '%s (Azure Policy built-in definition %s, version %s, effect %s).'
                                        % (row['display_name'], row['id'], row['version'], row['effect'])},
            'helpUri': row['help_uri'],
            'help': {'text': 'Azure Policy built-in definition %s: %s. Source: %s; index: %s.%s'
                             % (row['id'], row['display_name'], row['help_uri'], LEARN_URI,
                                (' ' + row['remediation']) if row.get('remediation') else '')},
            'defaultConfiguration': {'level': _level(row['effect']), 'enabled': bool(row['evaluated'])},
            # The verdicts are counted here, not listed: one result per non-compliant vault and definition made drift.sarif
            # 240 MB at 20,000 vaults (GitHub code scanning takes 25,000 results a run). drift.json lists the vaults, and
            # each finding's result names the definitions it answers to (properties.azure_policy).
            'properties': {'tags': ['security', 'backup', 'azure', 'azure-policy'], 'policy_definition_id': row['id'],
                           'parameters': row['parameters'], 'evaluated': row['evaluated'], 'vaults': row['vaults'],
                           'non_compliant': len(row['non_compliant'])},
        })
        if row.get('related_type') is not None:
            rules[-1]['properties'].update(related_type=row['related_type'], not_evaluated=len(row.get('not_evaluated') or []))
    return rules
