# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin behind vaultlock.azure.harden_report: writes the five drift reports of a planned run on the controller."""

from __future__ import annotations

from ansible import constants as C

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.plugin_utils._apply_journal import release_claim, remove_journal
from ansible_collections.vaultlock.azure.plugins.plugin_utils._controller_action import ControllerActionBase, without_cyclic_gc
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import (
    REPORT_ARGSPEC,
    build_run_report,
    load_applied,
    load_plan,
    planned_report_dir,
    write_reports,
)


class ActionModule(ControllerActionBase):

    def work(self, tmp=None, task_vars=None):
        result, args = self._start(tmp, task_vars, REPORT_ARGSPEC)
        try:
            with without_cyclic_gc():
                plan = load_plan(C.DEFAULT_LOCAL_TMP, args['plan'])
                report_dir = planned_report_dir(plan)
                report = build_run_report(plan, args['results'], load_applied(C.DEFAULT_LOCAL_TMP, args['plan']))
                del plan
                # The reports are local files: they are written in check mode too (that is what check mode is for).
                path, written = write_reports(report, report_dir)
                # The run ended and its reports say what it did: its apply's journal is no longer needed (another plan's stays).
                remove_journal(path, args['plan'])
                # ... and its claim of the directory (harden_plan's) ends: another run may plan into it now.
                release_claim(path)
        except VaultlockError as exc:
            return self._failed(result, str(exc))
        except OSError as exc:
            return self._failed(result, 'could not write the reports: %s' % exc)
        summary = report['summary']
        result.update(changed=False, report_dir=path, files=written, summary=summary, check_mode=report['check_mode'],
                      generated_at=report.get('generated_at'))
        return result
