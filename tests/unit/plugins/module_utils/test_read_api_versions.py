# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads go through azure-mgmt-core's ARM pipeline (no SDK models, for speed); writes through the SDKs.

Both must speak the same api-version, or a read could miss what a write just set. These tests tie the read
api-versions to the defaults of the SDK releases pinned in constraints.txt, so an SDK upgrade cannot drift silently.
"""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import BackupVaultBackend, RecoveryServicesBackend


class _Credential:
    def get_token(self, *scopes, **kwargs):  # pragma: no cover - never called
        raise AssertionError('no request is sent')


def _default_api_version(module, cls):
    client = getattr(__import__(module, fromlist=[cls]), cls)(_Credential(), '00000000-0000-0000-0000-000000000000')
    return client._config.api_version  # pylint: disable=protected-access


@pytest.mark.parametrize('backend,attribute,module,cls', [
    (RecoveryServicesBackend, 'api_version', 'azure.mgmt.recoveryservices', 'RecoveryServicesClient'),
    (RecoveryServicesBackend, 'policy_api_version', 'azure.mgmt.recoveryservicesbackup', 'RecoveryServicesBackupClient'),
    (BackupVaultBackend, 'api_version', 'azure.mgmt.dataprotection', 'DataProtectionMgmtClient'),
    (BackupVaultBackend, 'policy_api_version', 'azure.mgmt.dataprotection', 'DataProtectionMgmtClient'),
])
def test_reads_use_the_sdk_default_api_version(backend, attribute, module, cls):
    assert getattr(backend, attribute) == _default_api_version(module, cls)
