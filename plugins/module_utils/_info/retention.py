# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What backup_policy_retention_info does: read the backup policies of one or more vaults and normalise their
retention to tiers (_retention.normalise_policy, pure)."""

from __future__ import annotations

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, InputError, check_filter, shown
from ansible_collections.vaultlock.azure.plugins.module_utils._module import VAULT_REF_ARGSPEC, VAULT_REF_EXCLUSIVE
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, backend


def policy_records(session, ref, names=None):
    """Normalised policy records of one vault, and the names asked for that the vault does not have."""
    raw = backend(session, ref.vault_type).list_policies(ref)
    records = []
    for resource in raw:
        record = normalise_policy(resource, ref.vault_type)
        record['vault'] = ref.id
        records.append(record)
    missing = []
    if names:
        wanted = {n.lower(): n for n in names}
        found = {str(r['name']).lower() for r in records}
        missing = [n for key, n in wanted.items() if key not in found]
        records = [r for r in records if str(r['name']).lower() in wanted]
    return sorted(records, key=lambda r: str(r['name']).lower()), missing


def _missing_message(ref, missing):
    return '%s has no backup policy named %s' % (ref.label, ', '.join(shown(m) for m in missing))


def run(mod):
    params = mod.params
    session = mod.session
    check_filter(params['vaults'], 'vaults', 'the one vault that id, or name with resource_group and vault_type, names', 'vault ARM id')
    check_filter(params['policies'], 'policies', 'every policy of each vault', 'backup policy')
    if params['vaults']:
        # ARM ids are case-insensitive: one vault listed twice (two spellings, two sources merged) is read once, in its first
        # spelling, as a policy named twice in policies is; its policies were listed twice.
        refs = []
        seen = set()
        for value in params['vaults']:
            ref = VaultRef.parse_id(value)
            if ref.id.lower() not in seen:
                seen.add(ref.id.lower())
                refs.append(ref)
    elif not (params['id'] or params['name']):
        raise InputError('identify the vaults: vaults (a list of ARM ids), id, or name with resource_group and vault_type')
    else:
        refs = [VaultRef.from_params(params, session.default_subscription)]
    policies = []
    errors = []
    for ref in refs:
        try:
            records, missing = policy_records(session, ref, params['policies'])
        except AzureOperationError as exc:
            if len(refs) == 1:
                raise
            errors.append({'scope': ref.label, 'operation': exc.operation, 'status': exc.status, 'code': exc.code,
                           'message': exc.azure_message})
            mod.warn('could not read the policies of %s: %s' % (ref.label, exc.azure_message))
            continue
        if missing and len(refs) == 1:
            raise InputError(_missing_message(ref, missing))
        if missing:
            errors.append({'scope': ref.label, 'operation': 'read backup policies', 'status': None, 'code': 'PolicyNotFound',
                           'message': _missing_message(ref, missing)})
        policies.extend(records)
    return {'changed': False, 'policies': policies, 'errors': errors}


ARGUMENT_SPEC = dict(VAULT_REF_ARGSPEC, **{
    'vaults': {'type': 'list', 'elements': 'str'},
    'policies': {'type': 'list', 'elements': 'str'},
})
CONSTRAINTS = {'mutually_exclusive': VAULT_REF_EXCLUSIVE + [('vaults', 'id'), ('vaults', 'name')]}
