# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin behind vaultlock.azure.harden_report: writes the five drift reports of a planned run on the controller."""

from __future__ import annotations

from ansible import constants as C

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.plugin_utils._apply_journal import (
    ClaimNotWritten,
    claim_unreadable_warning,
    release_claim,
    remove_journal,
)
from ansible_collections.vaultlock.azure.plugins.plugin_utils._controller_action import ControllerActionBase, without_cyclic_gc
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import (
    REPORT_ARGSPEC,
    Superseded,
    build_run_report,
    load_applied,
    load_plan,
    planned_report_dir,
    superseded_warning,
    write_reports,
)


class ActionModule(ControllerActionBase):

    def work(self, tmp=None, task_vars=None):
        result, args = self._start(tmp, task_vars, REPORT_ARGSPEC)
        try:
            with without_cyclic_gc():
                plan = load_plan(C.DEFAULT_LOCAL_TMP, args['plan'])
                report_dir = planned_report_dir(plan, 'harden_report')
                # The run's claim, made a directory or other text since the plan, can record nothing: said in the reports too.
                said = [warning for warning in [claim_unreadable_warning(report_dir)] if warning]
                plan['warnings'] = list(plan.get('warnings') or []) + said
                report = build_run_report(plan, args['results'], load_applied(C.DEFAULT_LOCAL_TMP, args['plan']))
                del plan
                superseded = None
                try:
                    # The reports are local files: they are written in check mode too (that is what check mode is for).
                    path, written = write_reports(report, report_dir, plan=args['plan'], said=said)
                except Superseded as exc:
                    # A later plan of this run wrote its reports there: they stay, and this plan's are not written.
                    superseded, path, written = exc, exc.path, []
                # The run ended and its reports say what it did: its apply's journal is no longer needed (another plan's
                # stays). A plan whose reports were not written keeps the journal of an apply that had vaults to change, for
                # the next plan to say what it did (a later plan, or its apply, usually kept it aside and said so already).
                remove_journal(path, args['plan'], unchanging_only=superseded is not None)
                # ... and this plan's part of the run's claim ends: once every plan of the run into the directory is reported,
                # another run may plan into it.
                try:
                    release_claim(path, args['plan'])
                except ClaimNotWritten as exc:
                    # The reports stand (written, or a later plan's kept): said, not hidden, and the run keeps the directory
                    # until its ansible-playbook ends (the next run's plan then takes the claim over, and says so).
                    said.append('this plan could not be marked reported in the run\'s claim on the report directory: %s. The '
                                'reports were %s; the directory stays claimed by this ansible-playbook run until it ends, and '
                                'another run\'s tasks there are refused until then' % (exc, 'written' if written else 'not written'))
        except VaultlockError as exc:
            return self._failed(result, str(exc))
        except OSError as exc:
            return self._failed(result, 'could not write the reports: %s' % exc)
        summary = report['summary']
        result.update(changed=False, report_dir=path, files=written, summary=summary, check_mode=report['check_mode'],
                      generated_at=report.get('generated_at'))
        if superseded is not None:
            result['superseded_by'] = superseded.later.get('plan')
            result['warnings'] = list(result.get('warnings') or []) + [superseded_warning(args['plan'], superseded)]
        if said:
            result['warnings'] = list(result.get('warnings') or []) + said
        return result
