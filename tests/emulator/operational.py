# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operational backups: the retention tiers an immutable vault does not protect (docs).

Microsoft Learn, backup-azure-immutable-vault-concept: "Immutability doesn't apply to operational backups, such as
operational backup of blobs, files, and disks." Operational backups are kept with the data source, outside the
vault, so shortening them is not a reduction the immutable vault refuses. Written for the emulator on its own
(it shares no code with the collection), over the emulator's tier keys (rules.rs_policy_tiers / dp_policy_tiers):

* Backup vault: every lifecycle whose source data store is OperationalStore (key ``<rule>/OperationalStore``).
* Azure Files (``backupManagementType`` AzureStorage): the share snapshots, i.e. the ``retentionPolicy`` of the
  policy (snapshot retention) and ``vaultRetentionPolicy.snapshotRetentionInDays``.
* Azure VM (AzureIaasVM): instant restore snapshots (``instantRpRetentionRangeInDays``). Not named by that sentence;
  Learn (backup-instant-restore-capability) stores them with the disks in a restore point collection outside the
  vault, and Learn (secure-by-default) groups them with operational backups of disks that "can be directly
  accessed and deleted". The emulator treats them as operational (the project's documented decision).
"""
from __future__ import annotations


def operational_keys(kind: str, props, tiers: dict) -> set:
    """The keys of ``tiers`` (a tier map of ``props``) that are operational backups."""
    props = props if isinstance(props, dict) else {}
    out = set()
    for key in tiers:
        if kind == "dp":
            if key.lower().endswith("/operationalstore"):
                out.add(key)
            continue
        workload = str(props.get("backupManagementType") or "").lower()
        if workload == "azurestorage" and (key.startswith("retentionPolicy.") or key == "vaultRetentionPolicy.snapshotRetentionInDays"):
            out.add(key)
        elif workload == "azureiaasvm" and key == "instantRpRetentionRangeInDays":
            out.add(key)
    return out
