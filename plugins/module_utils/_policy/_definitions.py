# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The vault-level Azure Backup built-in Azure Policy definitions: Microsoft's own JSON files, read once, on first use.

Source: GitHub Azure/azure-policy, commit f4a50bacae07ddb096943c597669bcae494a6e29 (2026-04-29),
built-in-policies/policyDefinitions/Backup/<file>.json, copied unchanged into ``definitions/`` beside this file (``FILES``
below; RecoveryServices_Immutability_Audit.json and Vaults_Immutability_Audit.json re-rendered with indent 2, same
content). Index: Microsoft Learn, "Azure Policy built-in definitions for Azure Backup" (azure/backup/policy-reference).
All 15 vault-level definitions of the Backup category are here. 14 judge a vault property; the 15th,
EnableRecoveryServiceVaultDiagnosticSetting_DINE.json (deployIfNotExists), judges the vault's diagnostic settings, a
related resource (``Microsoft.Insights/diagnosticSettings``) that is not part of the vault body: it is opt-in (``OPT_IN``:
not in the default assignments, as reading it costs one ARM read per Recovery Services vault), and its verdict needs those
reads (``_policy.related_type``). tests/fixtures/azure_policy/ holds the same files;
tests/unit/plugins/module_utils/test_policy_data.py checks that what is read here is theirs.

Each definition is kept as the few keys the collection reads: name, file, display_name, version (``metadata.version``),
mode, parameters (type, display_name, allowed_values, default, deprecated), ``if`` (``policyRule.if``) and effect
(``policyRule.then.effect``); for an auditIfNotExists / deployIfNotExists definition also ``details``: the related
resources' ``type`` and their ``existenceCondition`` (``then.details``; the deployment a remediation task would run is
not kept). ``then.details`` of the Modify definitions says what Azure would write, which a report does not need.

Only the controller reads them (the role's plan and reports: ``_policy.check_assignments``, ``_policy.evaluate``). The
package is also imported by modules (``_vaults`` keeps each vault's ``policy_fields``, which come from ``_aliases``
alone), and a module's AnsiballZ payload carries only the .py files of module_utils: so nothing is read at import.
"""

from __future__ import annotations

import json
import pkgutil

# The package whose ``definitions/`` folder holds the files.
_PACKAGE = __name__.rpartition('.')[0]

# In the order of every report: the files' names, sorted.
FILES = (
    'AzBackupBackupVault_CMK_Audit.json',
    'AzBackupBackupVault_MUAEnabled_Audit.json',
    'AzBackupRSVault_CMKEnabled_Audit.json',
    'AzBackupRecoveryServicesVault_MUA_Audit.json',
    'AzBackupRecoveryServicesVault_SoftDelete_Audit.json',
    'AzBackuprecoveryServicesVault_RedudancySettings_Deny.json',
    'EnableRecoveryServiceVaultDiagnosticSetting_DINE.json',
    'RecoveryServices_CrossSubscriptionRestore_Modify.json',
    'RecoveryServices_Immutability_Audit.json',
    'RecoveryServices_PrivateEndpoint_Audit.json',
    'RecoveryServices_PublicNetworkAccess_AuditDeny.json',
    'RecoveryServices_PublicNetworkAccess_Modify.json',
    'Vaults_CrossSubscriptionRestore_Modify.json',
    'Vaults_Immutability_Audit.json',
    'Vaults_SoftDelete_Audit.json',
)

# A parameter's keys in Microsoft's file -> the collection's (metadata.* are under the parameter's ``metadata``).
_PARAMETER_KEYS = (('type', 'type'), ('metadata.displayName', 'display_name'), ('allowedValues', 'allowed_values'),
                   ('defaultValue', 'default'), ('metadata.deprecated', 'deprecated'))

# Definitions not in the default assignments (harden_backup_vaults_azure_policy lists them to have them): they read a
# related resource of every vault they judge, one ARM read a vault.
OPT_IN = ('c717fb0c-d118-4c43-ab3d-ece30ac81fb3',)
# The effects whose verdict is about related resources (Learn, "Azure Policy definitions deployIfNotExists effect";
# auditIfNotExists is the same evaluation without the deployment).
IF_NOT_EXISTS = ('deployifnotexists', 'auditifnotexists')

_LOADED = []


def _parameter(spec):
    parameter = {}
    for source, key in _PARAMETER_KEYS:
        holder = (spec.get('metadata') or {}) if source.startswith('metadata.') else spec
        name = source.rpartition('.')[2]
        if name in holder:
            parameter[key] = holder[name]
    return parameter


def _read(file_name):
    """One file as the collection keeps it."""
    data = pkgutil.get_data(_PACKAGE, 'definitions/' + file_name)
    if data is None:
        raise OSError('the Azure Policy definition file %s is not in the collection (%s)' % (file_name, _PACKAGE))
    document = json.loads(data.decode('utf-8'))
    props = document['properties']
    then = props['policyRule']['then']
    kept = {
        'name': document['name'],
        'file': file_name,
        'display_name': props['displayName'],
        'version': props['metadata']['version'],
        'mode': props['mode'],
        'parameters': dict((key, _parameter(spec)) for key, spec in props['parameters'].items()),
        'if': props['policyRule']['if'],
        'effect': then['effect'],
    }
    if str(then['effect']).lower() in IF_NOT_EXISTS:
        details = then.get('details') or {}
        kept['details'] = {'type': details['type'], 'existenceCondition': details.get('existenceCondition')}
    return kept


def definitions():
    """The definitions, in FILES' order; read on the first call, the same list after."""
    if not _LOADED:
        _LOADED.append([_read(file_name) for file_name in FILES])
    return _LOADED[0]


def __getattr__(name):
    """``DEFINITIONS``: definitions(), read when first asked for (PEP 562), not when the module is imported."""
    if name == 'DEFINITIONS':
        return definitions()
    raise AttributeError('module %r has no attribute %r' % (__name__, name))
