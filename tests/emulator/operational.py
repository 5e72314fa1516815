# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operational backups: the retention tiers an immutable vault does not protect (docs).

Microsoft Learn, backup-azure-immutable-vault-concept: "Immutability doesn't apply to operational backups, such as
operational backup of blobs, files, and disks." Operational backups are kept with the data source, outside the
vault, so shortening them is not a reduction the immutable vault refuses. Written for the emulator on its own
(it shares no code with the collection), over the emulator's tier keys of a Recovery Services policy (rules.rs_policy_tiers):

* Azure Files (``backupManagementType`` AzureStorage): the share snapshots, i.e. the ``retentionPolicy`` of the
  policy (snapshot retention) and ``vaultRetentionPolicy.snapshotRetentionInDays``.

Not operational here, on purpose: Azure VM instant restore snapshots (``instantRpRetentionRangeInDays``) and workload
(SAP HANA) snapshot tiers (``subProtectionPolicy[Snapshot*]``). Learn names only blobs, files and disks as
operational backups that immutability does not cover. That VM instant restore snapshots are operational too is a
reading (Learn backup-instant-restore-capability keeps them with the disks, outside the vault; Learn secure-by-default
says they "can be directly accessed and deleted"), not something Azure states. So the emulator leans to the refusing
side: shortening them on an immutable vault is refused like any vault tier (**assumed**, README "Service rules"), and
the collection predicts the same, marked unsourced.
"""
from __future__ import annotations


def operational_keys(props, tiers: dict) -> set:
    """The keys of ``tiers`` (the tier map of the Recovery Services policy ``props``) that are operational backups. A Backup
    vault's operational store (its OperationalStore lifecycles) needs no such rule here: Azure updates no Backup vault
    policy (rules.dp_policy_update_refused), so the immutable vault's retention rule never compares one."""
    props = props if isinstance(props, dict) else {}
    out = set()
    for key in tiers:
        workload = str(props.get("backupManagementType") or "").lower()
        if workload == "azurestorage" and (key.startswith("retentionPolicy.") or key == "vaultRetentionPolicy.snapshotRetentionInDays"):
            out.add(key)
    return out
