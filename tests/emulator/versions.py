# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""api-versions the emulator accepts, and ARM's answers to unknown versions and unknown resource types.

The lists are the api-versions the REST specs define (Azure/azure-rest-api-specs), not those of a client:

* Recovery Services vaults (``Microsoft.RecoveryServices/vaults`` and their operationStatus / operationResults):
  every ``Tag:`` of specification/recoveryservices/resource-manager/Microsoft.RecoveryServices/RecoveryServices/readme.md
  (@04bde91cfe14daa0d0e0dc841316127de29deca5: stable 2016-06-01 .. 2026-08-01, previews 2021-11-01-preview ..
  2026-05-31-preview) plus stable/2026-11-01/openapi.json (@23875a7878d474f5df6b41c994b1459a1856f7ae), the
  pinned SDK's default, which is newer than that readme.
* Recovery Services backup (``vaults/backupPolicies``, policy operations, ``backupconfig/vaultconfig``): every
  ``Tag:`` of specification/recoveryservicesbackup/.../RecoveryServicesBackup/readme.md
  (@0297c8aa51e27a03a4089521cb1264d24103ee12: stable 2016-06-01 .. 2026-02-01, previews 2021-02-01-preview ..
  2026-03-31-preview) except the passive-stamp (cross-region restore) versions 2018-12-20, 2021-11-15,
  2023-01-15 and 2016-08-10 (operations only), plus stable/2026-05-01, 2026-08-01 and 2026-10-01/bms.json
  (@137b964b, @31706ace, @9689aba8), newer than that readme.
* DataProtection (``Microsoft.DataProtection/backupVaults``, policies, operations): every ``Tag:`` of
  specification/dataprotection/.../DataProtection/readme.md (@19354e5c960ba1efefba2792bf06727e81d18d96).

The emulator does not check that a version's spec defines each path (the old 2016 backup specs split the API
over several files); a version from these lists is accepted on every path of its family.
"""
from __future__ import annotations

import re

from .errors import ArmError

RS_VAULT_VERSIONS = (
    "2026-11-01", "2026-08-01", "2026-07-01", "2026-05-31-preview", "2026-05-01", "2026-03-31-preview", "2026-02-01",
    "2026-01-01", "2025-08-01", "2025-02-01", "2025-01-01", "2024-10-01", "2024-09-30-preview", "2024-04-30-preview",
    "2024-04-01", "2024-02-01", "2024-01-01", "2023-08-01", "2023-06-01", "2023-04-01", "2023-02-01", "2023-01-01",
    "2022-10-01", "2022-09-30-preview", "2022-09-10", "2022-08-01", "2022-05-01", "2022-04-01", "2022-03-01",
    "2022-02-01", "2022-01-31-preview", "2022-01-01", "2021-12-01", "2021-11-01-preview", "2021-08-01", "2021-07-01",
    "2021-06-01", "2021-04-01", "2021-03-01", "2021-02-10", "2021-01-01", "2020-10-01", "2020-02-02", "2016-06-01")
RS_BACKUP_VERSIONS = (
    "2026-10-01", "2026-08-01", "2026-05-01", "2026-03-31-preview", "2026-02-01", "2026-01-31-preview", "2026-01-01",
    "2025-08-01", "2025-02-28-preview", "2025-02-01", "2025-01-01", "2024-11-01-preview", "2024-10-01",
    "2024-07-30-preview", "2024-04-30-preview", "2024-04-01", "2024-02-01", "2024-01-01", "2023-08-01", "2023-06-01",
    "2023-04-01", "2023-02-01", "2023-01-01", "2022-10-01", "2022-09-30-preview", "2022-09-01-preview",
    "2022-06-01-preview", "2022-04-01", "2022-03-01", "2022-02-01", "2022-01-01", "2021-12-01", "2021-10-01",
    "2021-08-01", "2021-07-01", "2021-06-01", "2021-04-01", "2021-03-01", "2021-02-10", "2021-02-01-preview",
    "2021-02-01", "2021-01-01", "2020-12-01", "2020-10-01", "2020-07-01", "2020-02-02", "2019-06-15", "2019-05-13",
    "2017-07-01", "2016-12-01", "2016-06-01")
DP_VERSIONS = (
    "2026-08-31-preview", "2026-06-01", "2026-04-01-preview", "2026-03-01", "2025-09-01", "2025-07-01", "2025-02-01",
    "2025-01-01", "2024-04-01", "2024-03-01", "2024-02-01-preview", "2023-12-01", "2023-11-01", "2023-08-01-preview",
    "2023-06-01-preview", "2023-05-01", "2023-04-01-preview", "2023-01-01", "2022-12-01", "2022-11-01-preview",
    "2022-10-01-preview", "2022-09-01-preview", "2022-05-01", "2022-04-01", "2022-03-31-preview", "2022-03-01",
    "2022-02-01-preview", "2022-01-01", "2021-12-01-preview", "2021-10-01-preview", "2021-07-01", "2021-06-01-preview",
    "2021-02-01-preview", "2021-01-01")

# Locations named in NoRegisteredProviderFound messages (a fixed set of public regions; the real lists are longer).
SUPPORTED_LOCATIONS = ("West Europe", "North Europe", "East US", "East US 2", "West US", "UK South", "Germany West Central",
                       "Sweden Central", "Australia East", "West Central US", "East Asia")

_WELL_FORMED = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha|-privatepreview)?$", re.IGNORECASE)
# Microsoft.Resources answers unknown versions with InvalidApiVersionParameter and its own list (ARM).
RESOURCES_VERSIONS = "2025-04-01, 2024-11-01, 2024-07-01, 2024-03-01, 2023-07-01, 2022-09-01, 2021-04-01, 2020-06-01"


def require(req):
    """The api-version of a request, or ARM's 400 MissingApiVersionParameter."""
    ver = req.query.get("api-version")
    if not ver:
        raise ArmError(400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for all requests.")
    return ver


def check_resources(req):
    """Microsoft.Resources (subscriptions, resource groups): any well-formed date version."""
    ver = require(req)
    if not _WELL_FORMED.match(ver):
        raise ArmError(400, "InvalidApiVersionParameter",
                       "The api-version '%s' is invalid. The supported versions are '%s'." % (ver, RESOURCES_VERSIONS))
    return ver


def check_provider(req, versions, rtype, location=None):
    """The api-version of a request to a resource provider type, or ARM's 400 NoRegisteredProviderFound.

    Wording as ARM answers an api-version the provider's manifest does not register (Azure/azure-cli#18483,
    #28496, azure-rest-api-specs#11929): "No registered resource provider found for location '<loc>' and API
    version '<v>' for type '<type>'. The supported api-versions are '<a, b>'. The supported locations are '<...>'."
    ``rtype`` is the type without namespace (``vaults``, ``vaults/backupPolicies``).
    """
    ver = require(req)
    if ver.lower() in versions:
        return ver
    raise ArmError(400, "NoRegisteredProviderFound",
                   "No registered resource provider found for location '%s' and API version '%s' for type '%s'. The "
                   "supported api-versions are '%s'. The supported locations are '%s'."
                   % (str(location or "westeurope").lower().replace(" ", ""), ver, rtype, ", ".join(sorted(versions)),
                      ", ".join(loc.lower().replace(" ", "") for loc in SUPPORTED_LOCATIONS)))


def unknown_type(req, namespace, rtype):
    """ARM's 404 InvalidResourceType for a type the emulator does not model (azure-rest-api-specs#14807 wording)."""
    ver = req.query.get("api-version") or ""
    return ArmError(404, "InvalidResourceType",
                    "The resource type '%s' could not be found in the namespace '%s' for api version '%s'."
                    % (rtype, namespace, ver))


def resource_type_of(parts):
    """(namespace, type path) of the provider segments after ``providers`` (names dropped): vaults/backupFabrics."""
    if len(parts) < 2:
        return (parts[0] if parts else ""), ""
    namespace = parts[0]
    types = [parts[i] for i in range(1, len(parts), 2)]
    return namespace, "/".join(types)
