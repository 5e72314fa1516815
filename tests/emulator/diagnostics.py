# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Monitor diagnostic settings of Recovery Services vaults (``{vault id}/providers/Microsoft.Insights/
diagnosticSettings[/{name}]``): DiagnosticSettings_List, _Get and _CreateOrUpdate.

Source: Azure/azure-rest-api-specs specification/monitor/resource-manager/Microsoft.Insights/preview/2021-05-01-preview/
diagnosticsSettings_API.json and its examples (tests/fixtures/azure_monitor, SOURCE.txt): the list answers
``{"value": [...]}`` in one page (x-ms-pageable, nextLinkName null); a setting is ``{id, type, name, properties}``, its
id the vault's id followed by ``/providers/microsoft.insights/diagnosticSettings/<name>`` (as the examples write it);
PUT answers 200 with the setting (the spec's only success code) and keeps the properties sent. Settings are served as
stored, so a fleet can hold the shapes Azure returns today (SOURCE.txt): the Get example's storage-and-event-hub-only
setting with a categoryGroup entry and no logAnalyticsDestinationType, Learn's ``"category": null`` beside a
``categoryGroup``, a null or ``AzureDiagnostics`` destination type, several settings a vault.

ARM's answers: an unknown vault is the vault's own 404 (arm.py, as for every vault sub-resource); writes need a
Contributor and reads are paced and throttled as every ARM request is (server.py). A GET of a setting that does not exist:
no spec example or recording gives Azure Monitor's answer; **assumed** ARM's generic 404 ResourceNotFound. api-versions:
those of the resource-level diagnosticsSettings_API.json files (2017-05-01-preview, 2021-05-01-preview).
"""
from __future__ import annotations

import copy

from .errors import ArmError

VERSIONS = ("2021-05-01-preview", "2017-05-01-preview")
TYPE = "Microsoft.Insights/diagnosticSettings"


def _body(vault, name, properties):
    vid = vault["body"]["id"]
    return {"id": "%s/providers/microsoft.insights/diagnosticSettings/%s" % (vid, name), "type": TYPE, "name": name,
            "properties": copy.deepcopy(properties)}


def load(vault, settings):
    """A fleet vault entry's ``diagnostic_settings`` ({name: properties}) as stored settings."""
    return dict((str(name).lower(), _body(vault, str(name), props or {})) for name, props in (settings or {}).items())


def handle(req, vault, name):
    """List (``name`` None), GET or PUT one setting of ``vault`` (the store's record; the caller holds the lock)."""
    stored = vault.setdefault("diagnostics", {})
    if name is None:
        if req.method != "GET":
            raise ArmError(405, "MethodNotAllowed", "The requested resource does not support http method '%s'." % req.method)
        return 200, {}, {"value": [copy.deepcopy(s) for s in stored.values()]}
    if req.method == "GET":
        found = stored.get(name.lower())
        if found is None:
            raise ArmError(404, "ResourceNotFound", "The Resource '%s/%s' under resource group '%s' was not found."
                           % (TYPE, name, vault["body"]["id"].split("/")[4]))
        return 200, {}, copy.deepcopy(found)
    if req.method == "PUT":
        if not isinstance(req.body, dict) or not isinstance(req.body.get("properties"), dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
        old = stored.get(name.lower())
        setting = _body(vault, old["name"] if old else name, req.body["properties"])
        stored[name.lower()] = setting
        return 200, {}, copy.deepcopy(setting)
    raise ArmError(405, "MethodNotAllowed", "The requested resource does not support http method '%s'." % req.method)
