# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The state modules' work: what each of vault_immutability, vault_soft_delete, backup_policy_retention and vault_security_settings does,
and harden_apply's backends for the same steps."""
