# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 27: the azure_policy baseline preset meets every built-in with its parameters, raising the baseline, never lowering it."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError, VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._policy import check_assignments
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._preset import apply_preset, needs
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import check_baseline

ROLE_DEFAULT = {'immutability': 'enabled', 'allow_irreversible': False, 'soft_delete': {'state': 'on', 'retention_days': 14},
                'retention': {'minimum': {'daily': '30d'}, 'mode': 'report'}, 'tiers': [], 'retention_mode': 'report'}


def test_the_defaults_of_the_fourteen_need_locked_always_on_and_every_security_setting():
    assert needs(check_assignments(None)) == {
        'immutability': 'locked', 'soft_delete': 'always_on', 'cross_subscription_restore': 'disabled',
        'public_network_access': 'disabled', 'customer_managed_keys': 'required', 'private_endpoints': 'required',
        # the redundancy definition denies GeoRedundant by default
        'storage_redundancy': ['ZoneRedundant', 'LocallyRedundant']}


def test_parameters_decide_what_is_needed_and_disabled_effects_need_nothing():
    assignments = check_assignments({
        'd6f6f560-14b7-49a4-9fc8-d2c3a9807868': {'checkLockedImmutabilityOnly': False},       # RS immutability: Unlocked passes
        '31b8092a-36b8-434b-9af7-5ec844364148': {'checkAlwaysOnSoftDeleteOnly': False},       # RS soft delete: On passes
        'f19b0c83-716f-4b81-85e3-2dbf057c35d6': {'crossSubscriptionRestoreStateParameter': 'PermanentlyDisabled'},
        '2e94d99a-8a36-4563-bc77-810d8893b671': {'enableDoubleEncryption': True},
        '8f09fda1-91a2-4e14-96a2-67c6281158f7': {'BackupStorageRedundancy': 'LocallyRedundant'},
        'deeddb44-9f94-4903-9fa0-081d524406e3': {'effect': 'Disabled'}})
    assert needs(assignments) == {'immutability': 'enabled', 'soft_delete': 'on', 'cross_subscription_restore': 'permanently_disabled',
                                  'customer_managed_keys': 'required', 'infrastructure_encryption': 'required',
                                  'storage_redundancy': ['GeoRedundant', 'ZoneRedundant']}


def test_the_preset_raises_the_baseline_and_never_lowers_it():
    raised = apply_preset(ROLE_DEFAULT, check_assignments(None))
    assert raised['immutability'] == 'locked' and raised['soft_delete'] == {'state': 'always_on', 'retention_days': 14}
    assert raised['retention'] == ROLE_DEFAULT['retention'] and raised['allow_irreversible'] is False
    # Raised to irreversible targets by the preset, not by the variables: deferred to findings without consent.
    assert raised['preset_irreversible'] == ['immutability', 'soft_delete']
    stricter = dict(ROLE_DEFAULT, cross_subscription_restore='permanently_disabled', storage_redundancy=['ZoneRedundant'])
    kept = apply_preset(stricter, check_assignments(None))
    assert kept['cross_subscription_restore'] == 'permanently_disabled' and kept['storage_redundancy'] == ['ZoneRedundant']
    # The raised baseline is one harden_plan accepts.
    checked = check_baseline(raised)
    assert checked['immutability'] == 'locked' and checked['public_network_access'] == 'disabled'
    # Asked for by the variables themselves, an irreversible target without consent is still refused.
    with pytest.raises(VaultlockError, match='harden_backup_vaults_immutability: locked is irreversible'):
        check_baseline(dict(ROLE_DEFAULT, immutability='locked'))
    assert apply_preset(dict(ROLE_DEFAULT, immutability='locked', allow_irreversible=True),
                        check_assignments(None))['preset_irreversible'] == ['soft_delete']
    with pytest.raises(InputError, match='harden_backup_vaults_storage_redundancy allows only GeoRedundant'):
        apply_preset(dict(ROLE_DEFAULT, storage_redundancy=['GeoRedundant']), check_assignments(None))


def test_without_consent_the_preset_locks_nothing_and_each_vault_gets_a_finding_naming_allow_irreversible():
    from ansible_collections.vaultlock.azure.plugins.module_utils._tiers import drift_entries
    from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
    from tests.unit.builders import arm_vault
    baseline = check_baseline(apply_preset(dict(ROLE_DEFAULT, retention=None), check_assignments(None)))
    vault = vault_record(arm_vault('rsv-a', immutability='disabled', soft_delete='on'), 'recovery_services')
    [entry] = drift_entries([vault], baseline, baseline.get('tiers'))
    immutability = [f for f in entry['findings'] if f['setting'] == 'immutability']
    assert immutability and not immutability[0]['fixable']
    assert 'allow_irreversible' in (immutability[0].get('option') or immutability[0]['reason'])
    assert entry['actions']['immutability'] in (None, 'enabled')
