# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The related resources an Azure Policy deployIfNotExists definition judges a vault by: a Recovery Services vault's
diagnostic settings, read from ARM for the vaults the definition's ``if`` selects (only when the definition is assigned:
harden_backup_vaults_azure_policy lists it).

``GET {vault id}/providers/Microsoft.Insights/diagnosticSettings?api-version=2021-05-01-preview``
(DiagnosticSettings_List, Azure/azure-rest-api-specs specification/monitor/resource-manager/Microsoft.Insights/preview/
2021-05-01-preview/diagnosticsSettings_API.json; 2021-05-01-preview is the version every recent package tag of
specification/monitor/resource-manager/readme.md takes diagnostic settings from). One read per vault, through the
session's ARM read pipeline (paced per subscription, retried like every read) and ``fleet.each_vault``'s concurrency,
interleaved across subscriptions, as each vault's policies are read.

Azure Resource Graph does not hold diagnostic settings (they are not among the resource types of Microsoft Learn's
"Azure Resource Graph table and resource type reference", which lists microsoft.insights/guestdiagnosticsettings only;
users report ``Resources | where type == 'microsoft.insights/diagnosticsettings'`` returning nothing: Azure/bicep#18820),
so they are read from ARM whatever the discovery source.

A vault whose settings could not be read (an error answer, or a list whose ``value`` is null or not a list: it says
nothing of the settings Azure Policy judges) gets ``related_errors[<type>]``: the reason, in words (the definition then
reports it as not evaluated, never compliant), and ``related_read_errors`` makes each such vault an error of the run, as a
vault whose backup policies could not be read is one.
"""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import each_vault
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._policy import related_assignments, selects
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import MAX_CONCURRENCY
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef

DIAGNOSTIC_SETTINGS = 'Microsoft.Insights/diagnosticSettings'
DIAGNOSTIC_SETTINGS_API_VERSION = '2021-05-01-preview'
# The related resource types this module reads: type -> (path under the vault id, api-version, what the read is).
_READERS = {DIAGNOSTIC_SETTINGS.lower(): ('/providers/Microsoft.Insights/diagnosticSettings', DIAGNOSTIC_SETTINGS_API_VERSION,
                                          'list diagnostic settings')}
# The related resource types by their lower-cased key, as Azure spells them.
_TYPES = {DIAGNOSTIC_SETTINGS.lower(): DIAGNOSTIC_SETTINGS}


def reason(exc):
    """Why a read failed, in words: 'HTTP 403 AuthorizationFailed: <Azure's message>'."""
    head = ' '.join(str(part) for part in (('HTTP %s' % exc.status) if exc.status else None, exc.code) if part)
    return '%s: %s' % (head or 'error', exc.azure_message or 'no message')


def attach_related(session, records, assignments, max_concurrency=MAX_CONCURRENCY):
    """Read the related resources of each vault record an assigned deployIfNotExists definition selects, into its
    ``related`` (or, when the read failed, ``related_errors``: related_read_errors makes those errors of the run). Nothing
    is read when no such definition is assigned (or its effect is Disabled)."""
    for definition, parameters, related in related_assignments(assignments):
        key = related.lower()
        path, api_version, operation = _READERS[key]

        def unread(record, key=key):
            return key not in (record.get('related') or {}) and key not in (record.get('related_errors') or {})

        wanted = [r for r in records if r.get('vault_type') == 'recovery_services' and selects(definition, parameters, r) and unread(r)]

        def load(record, path=path, api_version=api_version, operation=operation, key=key):
            ref = VaultRef(record['subscription_id'], record['resource_group'], record['name'], record['vault_type'])
            try:
                # A page whose value is null says nothing of the vault's settings: an error, never "none" (arm_get).
                body = session.arm_get(str(record['id']).rstrip('/') + path, api_version, operation, ref.label)
            except AzureOperationError as exc:
                record.setdefault('related_errors', {})[key] = reason(exc)
                return
            found = body.get('value') if isinstance(body, dict) else None
            if not isinstance(found, list):
                record.setdefault('related_errors', {})[key] = 'Azure answered with no list of %s' % related
                return
            record.setdefault('related', {})[key] = found

        each_vault(wanted, load, max_concurrency)


def related_read_errors(records):
    """The errors of the run (``{scope, message}``, as the reports take them) for the vault records whose related resources
    an assigned deployIfNotExists definition needs and could not be read (``related_errors``, set by attach_related):
    one per vault and related type. The definition reports such a vault as not evaluated; counted among the run's errors
    too (as a vault whose backup policies could not be read), so harden_backup_vaults_fail_on_error fails the run for it
    rather than letting a vault nobody judged pass unnoticed."""
    errors = []
    for record in records:
        for key, why in sorted((record.get('related_errors') or {}).items()):
            ref = VaultRef(record['subscription_id'], record['resource_group'], record['name'], record['vault_type'])
            errors.append({'scope': ref.label, 'message': 'could not read its %s (%s), which the Azure Policy deployIfNotExists '
                           'definition judges it by: not evaluated' % (_TYPES.get(key, key), why)})
    return errors
