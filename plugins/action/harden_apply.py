# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin behind vaultlock.azure.harden_apply: applies a harden_plan plan on the controller, many vaults at once
(plugin_utils/_harden_apply.py says how and why)."""

from __future__ import annotations

import functools
import os
import sys

from ansible import constants as C

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import AUTH_ARGSPEC
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._consent import ConsentError, scope_arguments
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError, VaultlockError, at_least_one
from ansible_collections.vaultlock.azure.plugins.module_utils._module import failure, insecure_warning
from ansible_collections.vaultlock.azure.plugins.plugin_utils._apply_journal import (
    JOURNAL,
    ApplyJournal,
    PlanSuperseded,
    claim_applied,
    refuse_stale_plan,
    refuse_while_applying,
    report_dir_locked,
    run_owner,
)
from ansible_collections.vaultlock.azure.plugins.plugin_utils._consent_action import task_own_keys
from ansible_collections.vaultlock.azure.plugins.plugin_utils._controller_action import ControllerActionBase, without_cyclic_gc
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_apply import PlanApplier
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import (
    APPLY_ARGSPEC,
    applied_before,
    apply_summary,
    load_plan,
    planned_report_dir,
    retire_reports,
    save_applied,
)
from ansible_collections.vaultlock.azure.plugins.plugin_utils._preload import CORE


class ActionModule(ControllerActionBase):
    """Consent (allow_irreversible) counts only when written in this task, as for the state modules; no module runs."""

    MODULE = 'harden_apply'
    PRELOAD = CORE    # the SDK's core, imported once per play (_preload)

    def work(self, tmp=None, task_vars=None):
        result, args = self._start(tmp, task_vars, dict(AUTH_ARGSPEC, **APPLY_ARGSPEC))
        check_mode = self._check_mode
        try:
            args, warnings = scope_arguments(self.MODULE, args, task_own_keys(self._task, self._templar))
        except ConsentError as exc:
            return self._failed(result, str(exc))
        try:
            with without_cyclic_gc():
                plan = load_plan(C.DEFAULT_LOCAL_TMP, args['plan'])
            if plan['check_mode'] != check_mode:
                raise InputError('plan %s was made %s and this task runs %s: plan and apply in the same mode'
                                 % (args['plan'], 'in check mode' if plan['check_mode'] else 'for real',
                                    'in check mode' if check_mode else 'for real'))
            # Refused before any request, in check mode too (check mode says what a real apply would do): another run that
            # claimed the report directory since this run's plan (this run's claim cleared by hand, or its report already
            # run), and a report directory that no longer resolves as the plan resolved it (a symlink put in its place).
            report_dir = planned_report_dir(plan, 'harden_apply', check_mode)
            refuse_while_applying(report_dir, 'harden_apply', run_owner())
            # ... and a plan of this run that a later plan into the same directory superseded (its report would write none,
            # while this apply changed Azure from the older reading), or a claim that can no longer be read.
            refuse_stale_plan(report_dir, args['plan'], run_owner(), check_mode)
            if plan['blocked']:
                if not check_mode:
                    # The run still writes its reports (the block, nothing changed): its journal names it until then, so
                    # that another run between now and that report is refused (start_run_journal).
                    journal, kept = start_run_journal(plan, args['plan'], 0)
                    journal.ended({'vaults_changed': 0, 'vaults_failed': 0})
                    journal.close()
                    if kept:
                        result['warnings'] = list(result.get('warnings') or []) + [kept_warning(kept)]
                result.update(changed=False, skipped=True, msg='nothing applied: %s' % plan['blocked'])
                return result
            if applied_before(C.DEFAULT_LOCAL_TMP, args['plan']):
                raise InputError('plan %s was applied already in this run: plan again (vaultlock.azure.harden_plan) to change '
                                 'the vaults once more' % args['plan'])
            inputs = plan.get('inputs') or {}
            if 'baseline' not in inputs:
                raise InputError('plan %s does not carry its baseline (made by another version of vaultlock.azure?)' % args['plan'])
            processes = worker_processes(args.get('max_processes'))
            at_least_one(args['max_concurrency'], 'max_concurrency')
            auth = {name: args.get(name) for name in AUTH_ARGSPEC}
            session = AzureSession(auth)
            applier = PlanApplier(session, inputs['baseline'], inputs.get('lock_requirements'), args['allow_irreversible'],
                                  check_mode, args['max_concurrency'], diff_mode=bool(self._task.diff), processes=processes,
                                  session_factory=functools.partial(AzureSession, auth),
                                  # ansible-playbook, which forked this task's process: once it is gone (a SIGKILL leaves
                                  # this process running), no further vault or step is sent (PlanApplier.stopped).
                                  controller=os.getppid())
            drift = plan.pop('drift')
            journal = None
            if not check_mode:
                journal, kept = start_run_journal(plan, args['plan'], sum(1 for entry in drift if entry.get('changes')))
                if kept:
                    warnings.append(kept_warning(kept))
            applier.journal = journal
            try:
                done = applier.apply(drift)
                diffs = done.pop('diffs')
                save_applied(C.DEFAULT_LOCAL_TMP, args['plan'], done)
                summary = apply_summary(done)
                if journal is not None:
                    journal.ended(summary)
            finally:
                if journal is not None:
                    journal.close()
        except PlanSuperseded as exc:
            result['superseded_by'] = exc.later.get('plan')
            return self._failed(result, str(exc))
        except VaultlockError as exc:
            return self._failed(result, failure(exc, controller=True)[0])
        if journal is not None and journal.error is not None:
            warnings.append('the apply journal (%s in the report directory) could not be written to the end (%s): it may not '
                            'list every vault this apply changed' % (JOURNAL, journal.error.strerror or journal.error))
        result.update(summary)
        result['changed'] = bool(summary['vaults_changed'])
        if diffs:
            result['diff'] = diffs
        warnings.extend(done['warnings'])
        if not session.verify:
            warnings.append(insecure_warning(auth))
            result['cert_validation_mode'] = 'ignore'
        if warnings:
            result['warnings'] = list(result.get('warnings') or []) + warnings
        return result


def start_run_journal(plan, plan_id, changing):
    """(the journal of this real apply, the name an earlier journal was kept aside as or None), started in the plan's
    report directory before the first write: a run cut off from then on leaves no report of an earlier run behind, and the
    journal says vault by vault what it did (_apply_journal). ``changing``: how many vaults the plan changes.

    One hold of the directory: another run's apply there is refused before anything is removed, and no other run checks or
    starts one between this check and this apply's journal. The journal names this run's ansible-playbook (this process's
    parent): another run finds the directory taken until this run's harden_report has run or this ansible-playbook is gone
    (_apply_journal.live_owner). An apply with nothing to change (or a blocked plan) keeps one too: without it a second run
    between this apply and this run's report went unseen, and this run's reports (the fleet before that run's writes)
    replaced that run's. It removes no earlier report then: it changes nothing those reports describe."""
    report_dir = planned_report_dir(plan, 'harden_apply')
    owner = run_owner()
    with report_dir_locked(report_dir):
        refuse_while_applying(report_dir, 'harden_apply', owner)
        if changing:
            # This plan's reports are now the ones to describe the vaults last: another plan of this run into the directory,
            # made before this apply, does not count as later than this one (_apply_journal.later_reports). Recorded before
            # the earlier reports are removed: a claim that cannot be written fails the apply with nothing changed.
            claim_applied(report_dir, plan_id, owner)
            retire_reports(report_dir, locked=True)
        return start_journal(report_dir, plan_id, changing, owner)


def kept_warning(kept):
    return 'an earlier apply journal was found in the report directory (no harden_plan into it since that apply): it is kept as %s' % kept


def start_journal(report_dir, plan_id, vaults, owner):
    """(the apply's journal, the name an earlier journal was kept aside as or None); InputError before any write when it
    cannot be made. ``owner``: the run's run_owner(), kept in the journal's header."""
    try:
        return ApplyJournal.start(report_dir, plan_id, vaults, owner)
    except OSError as exc:
        raise InputError('cannot write the apply journal %s in the report directory %s: %s; nothing was sent to Azure'
                         % (JOURNAL, report_dir, exc.strerror or exc)) from exc


def worker_processes(given):
    """How many worker processes may apply: ``max_processes`` as given (at least 1), else the cores this controller may
    use (one interpreter is what limits a fleet's apply, and ARM's buckets are per subscription); on macOS 1 unless
    given (a forked process there may crash in the system's frameworks, as Ansible's own documentation warns)."""
    if given is None:
        if sys.platform == 'darwin':
            return 1
        cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)
        return max(1, cores)
    return at_least_one(given, 'max_processes', " (1: every vault in the task's own process)")
