# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that compute vault drift from a baseline and render the drift reports.

Thin wrappers: the logic is in module_utils/_drift.py and module_utils/_reports/document.py.
Documentation: the sidecar YAML files next to this one (vault_drift.yml, drift_summary.yml, ...).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.vaultlock.azure.plugins.module_utils._drift import check_entries, compute_drift, summarize
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.html import render_html
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import render_sarif
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.shape import first_problem
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import (
    SCHEMA_VERSION,
    build_report,
    check_report,
    render_junit,
    render_markdown,
)


def _wrap(name, func, *args):
    try:
        return func(*args)
    except VaultlockError as exc:
        raise AnsibleFilterError('vaultlock.azure.%s: %s' % (name, exc)) from exc


def _not_whole(name, what):
    return AnsibleFilterError('vaultlock.azure.%s: the report is not a whole drift.json document as drift_report_json writes it (schema %s: '
                              'docs/drift-report-schema.json); was it edited or cut? %s' % (name, SCHEMA_VERSION, what))


def _render(name, func, report):
    """``func`` (a renderer) on ``report`` once its shape is checked: a drift.json read back and edited or cut by hand (a
    vault or a finding null, a count removed, fixable 'yes') is refused naming the first wrong place (_reports/shape.py),
    instead of failing inside the renderer with Python's words (about 60 places did when every value of a document was
    removed or nulled in turn), shown by ansible-core as the filter failing, with a traceback at -vvv."""
    if isinstance(report, Mapping) and report.get('schema_version', SCHEMA_VERSION) != SCHEMA_VERSION:
        _wrap(name, check_report, report)   # a document of another schema version is said to be one, not to be edited
    problem = first_problem(report)
    if problem:
        raise _not_whole(name, problem)
    try:
        return _wrap(name, func, report)
    except AnsibleFilterError:
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # A renderer's own error on a document of the schema's shape (values that contradict each other, a renderer's bug):
        # still the filter's error naming it, never a Python error of its own.
        raise _not_whole(name, 'Its shape is as the schema says, but rendering it failed (%s: %s): if the document was not edited, '
                               'this is a bug of the collection' % (type(exc).__name__, exc)) from exc


def vault_drift(vaults, baseline=None):
    """One drift entry per vault record."""
    return _wrap('vault_drift', compute_drift, vaults, baseline)


def _from_entries(name, what, func, *args):
    """``func`` on vault_drift entries (checked by check_entries): an entry edited deeper than that check reads (a count
    of its lock readiness a list) is still the filter's error naming the exception, never a Python error of its own."""
    try:
        return _wrap(name, func, *args)
    except AnsibleFilterError:
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise AnsibleFilterError('vaultlock.azure.%s: %s not as the vaultlock.azure.vault_drift filter returns them (were they edited '
                                 'or cut?): %s: %s' % (name, what, type(exc).__name__, exc)) from exc


def drift_summary(drift):
    """Counts over vault_drift entries."""
    return _from_entries('drift_summary', 'the drift entries are', lambda entries: summarize(check_entries(entries)), drift)


def drift_report_json(drift, meta=None):
    """The drift.json document (a dict)."""
    return _from_entries('drift_report_json', 'the drift entries (or meta) are', build_report, drift, meta)


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
