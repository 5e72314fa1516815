# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that compute vault drift from a baseline and render the drift reports.

Thin wrappers: the logic is in module_utils/_drift.py and module_utils/_reports/document.py.
Documentation: the sidecar YAML files next to this one (vault_drift.yml, drift_summary.yml, ...).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import check_entries, compute_drift, summarize
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.html import render_html
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import render_sarif
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import (
    SCHEMA_VERSION,
    build_report,
    render_junit,
    render_markdown,
)


def _wrap(name, func, *args):
    try:
        return func(*args)
    except VaultlockError as exc:
        raise AnsibleFilterError('vaultlock.azure.%s: %s' % (name, exc)) from exc


# What a renderer raises on a document that is not whole: a drift.json read back and edited or cut by hand (a vault or a
# finding null, a count removed). Each such place failed inside the renderer with Python's words (about 60 of them when
# every value of a document was removed or nulled in turn), shown by ansible-core as the filter failing, with a traceback
# at -vvv. The documents the collection writes render (the report tests), so this names the input, not a renderer's bug.
_NOT_WHOLE = (AttributeError, IndexError, KeyError, TypeError, ValueError)


def _render(name, func, report):
    try:
        return _wrap(name, func, report)
    except _NOT_WHOLE as exc:
        raise AnsibleFilterError('vaultlock.azure.%s: the report is not a whole drift.json document as drift_report_json writes it '
                                 '(schema %s: docs/drift-report-schema.json); was it edited or cut? (%s: %s)'
                                 % (name, SCHEMA_VERSION, type(exc).__name__, exc)) from exc


def vault_drift(vaults, baseline=None):
    """One drift entry per vault record."""
    return _wrap('vault_drift', compute_drift, vaults, baseline)


def drift_summary(drift):
    """Counts over vault_drift entries."""
    return _wrap('drift_summary', lambda entries: summarize(check_entries(entries)), drift)


def drift_report_json(drift, meta=None):
    """The drift.json document (a dict)."""
    return _wrap('drift_report_json', build_report, drift, meta)


def drift_report_markdown(report):
    """The drift.md text from a drift_report_json document."""
    return _render('drift_report_markdown', render_markdown, report)


def drift_report_junit(report):
    """The drift.junit.xml text from a drift_report_json document."""
    return _render('drift_report_junit', render_junit, report)


def drift_report_html(report):
    """The drift.html page (self-contained) from a drift_report_json document."""
    return _render('drift_report_html', render_html, report)


def drift_report_sarif(report):
    """The drift.sarif text (SARIF 2.1.0) from a drift_report_json document."""
    return _render('drift_report_sarif', render_sarif, report)


class FilterModule:
    """vaultlock.azure drift filters."""

    def filters(self):
        return {
            'vault_drift': vault_drift,
            'drift_summary': drift_summary,
            'drift_report_json': drift_report_json,
            'drift_report_markdown': drift_report_markdown,
            'drift_report_junit': drift_report_junit,
            'drift_report_html': drift_report_html,
            'drift_report_sarif': drift_report_sarif,
        }
