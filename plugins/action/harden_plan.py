# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin behind vaultlock.azure.harden_plan: reads the fleet and plans the run on the controller.

The vault records stay in this process; the play gets the vaults with actions, the plan's id and counts
(plugin_utils/_harden_run.py says why).
"""

from __future__ import annotations

from ansible import constants as C
from ansible.errors import AnsibleActionFail

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.auth import AUTH_ARGSPEC, check_settings
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._azure.pacing import SubscriptionPacer
from ansible_collections.vaultlock.azure.plugins.module_utils._consent import ConsentError, scope_plan_arguments, weakening_refusal
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.diagnostics import attach_related, related_read_errors
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.guards import attach_guards
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import InputError, VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._module import failure
from ansible_collections.vaultlock.azure.plugins.module_utils._policy import check_assignments, evaluate, related_assignments
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._preset import apply_preset
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import (
    TLS_WARNING,
    check_baseline,
    check_written_choices,
    parse_exclusions,
    plan_run,
    role_option_names,
    role_variable_names,
    select_vaults,
    vault_key,
    weakened_baseline,
    weakened_warning,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._tiers import vault_reads
from ansible_collections.vaultlock.azure.plugins.plugin_utils._apply_journal import (
    ClaimNotWritten,
    claim_run,
    earlier_apply_warning,
    release_claim,
    run_owner,
)
from ansible_collections.vaultlock.azure.plugins.plugin_utils._consent_action import task_own_keys
from ansible_collections.vaultlock.azure.plugins.plugin_utils._controller_action import ControllerActionBase, without_cyclic_gc
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import (
    PLAN_ARGSPEC,
    check_diffs,
    check_inputs,
    claim_report_dir,
    claim_vaults,
    listed_vaults,
    new_plan_id,
    plan_summary,
    prepare_report_dir,
    read_again,
    read_keys,
    read_targets,
    read_warnings,
    release_report_dir,
    remove_stale_plans,
    replaced_reports_warning,
    save_plan,
    scope_errors,
    scope_failure,
    scope_of_run,
)
from ansible_collections.vaultlock.azure.plugins.plugin_utils._preload import CORE
from ansible_collections.vaultlock.azure.plugins.plugin_utils._run_scoped import VariableLayers, run_scoped_refusals, weakened_sources
from ansible_collections.vaultlock.azure.plugins.plugin_utils import _excluded, _scope_loss


def _say(run, warnings, notes, first=False):
    """Each of ``notes`` a warning of the task (``warnings``) and of every report (the plan's ``report_warnings``), in
    order: before the others (``first``), else after them."""
    at = 0 if first else len(warnings)
    warnings[at:at] = notes
    at = 0 if first else len(run['report_warnings'])
    run['report_warnings'][at:at] = notes


class ActionModule(ControllerActionBase):

    PRELOAD = CORE    # the SDK's core, imported once per play (_preload)

    def work(self, tmp=None, task_vars=None):
        try:
            result, args = self._start(tmp, task_vars, dict(AUTH_ARGSPEC, **PLAN_ARGSPEC))
        except AnsibleActionFail as exc:
            if self._role_task():
                # A report_dir that is no text, say: named as the role variable the user set.
                raise AnsibleActionFail(role_option_names(exc.message)) from exc
            raise
        check_mode = self._check_mode
        own_keys = task_own_keys(self._task, self._templar)
        try:
            # Consent is task-scoped: a baseline that consents to irreversible changes is written in this task.
            scope_plan_arguments(args, own_keys)
        except ConsentError as exc:
            return self._failed(result, str(exc))
        layers = None
        if args.get('run_scoped_variables'):
            # ... and so is the role's: consent and a looser lock gate from the inventory or facts are refused.
            layers = VariableLayers.of(self._task, task_vars)
            refusals = run_scoped_refusals(args['run_scoped_variables'], args, self._templar, layers)
            if refusals:
                return self._failed(result, '; '.join(refusals))
        interrupted = None
        claimed = None
        run_claimed = None
        owner = run_owner()
        # The plan's id before the claim, which lists the run's plans into the report directory.
        plan_id = new_plan_id()
        host = (task_vars or {}).get('inventory_hostname')
        try:
            # The connection options before anything else (the report directory, an earlier apply's journal set aside).
            check_settings(args)
            discover = check_inputs(args)
            # The baseline's choices as written (ENFORCE is no retention mode), whatever skipped the role's argument check.
            check_written_choices(args['baseline'])
            # harden_backup_vaults_azure_policy is checked before any request too.
            assignments = check_assignments(args['azure_policy'])
            if args['baseline_preset'] == 'azure_policy':
                # The baseline raised to what the definitions need (their defaults when the section is off or unset).
                args['baseline'] = apply_preset(args['baseline'], assignments or check_assignments(None))
            # The baseline, the lock requirements and the exclusions are checked before any request.
            checked = plan_run([], args['exclude'], args['baseline'], args['lock_requirements'])
            # A baseline weaker than the role's defaults never passes without a word: each weaker key, its value and where it
            # came from is a warning of the run and of every report (drift.json weakened_baseline). A value that asks a run to
            # lower vaults (immutability disabled, soft delete off, ...) counts only when written for the run, as consent does:
            # from the inventory or facts it is refused here, before any request (docs/role.md, "A weaker baseline").
            weakened = weakened_sources(
                weakened_baseline(checked['baseline'], args['baseline'].get('tiers') if isinstance(args['baseline'], dict) else None),
                layers, self._templar, from_role=bool(args.get('run_scoped_variables')),
                task_wrote_baseline=own_keys is not None and 'baseline' in own_keys)
            refused = [entry for entry in weakened if entry['lowers'] and not entry['for_run']]
            if refused:
                raise InputError(weakening_refusal(refused))
            # Resolved once, here: the later tasks of the run write (and retire) the reports in this directory, whatever a
            # symlink on the way to it says by then (_harden_run.planned_report_dir).
            report_dir = prepare_report_dir(args['report_dir'])
            # One host of the run plans into a report directory until its reports are written: the role on several inventory
            # hosts is refused here for the second, before any request and before an earlier journal is set aside.
            again = claim_report_dir(C.DEFAULT_LOCAL_TMP, report_dir, host)
            claimed = report_dir if not again else None
            # This run claims the directory until its harden_report has written its reports (check mode too), and until the
            # last of its plans into it is reported: another run's plan, apply and report there are refused until then, so
            # that neither run removes or replaces the other's reports. Refused here, before any request, while another run's
            # claim or journal names a live ansible-playbook.
            taken_over = claim_run(report_dir, plan_id, check_mode, owner)
            run_claimed = report_dir
            # An earlier apply into it that did not end with its reports (interrupted) left its journal: said, and kept aside
            # (left in place in check mode).
            interrupted = earlier_apply_warning(report_dir, check_mode=check_mode, me=owner)
            if taken_over and not interrupted:
                # (The journal's warning says it already: the run it names is the one that did not write its reports.)
                interrupted = taken_over
            remove_stale_plans(C.DEFAULT_LOCAL_TMP)
            flags = {'include_policies': bool(checked['include_policies'] or checked['include_items']),
                     'include_items': bool(checked['include_items'])}
            # Tens of thousands of records and drift entries: no cycle collector while they are built (freed by reference
            # counting; without_cyclic_gc collects once at its end).
            # The previous run's record in report_dir, read before the discovery: its scope record (drift.scope.json, about
            # 3 MB at 20,000 vaults), else its drift.json (about 60 MB, whose objects are freed as they are made). A broken
            # or hand-edited scope record fails the task here, before any request. With exclusions, the same one parse of
            # drift.json keeps the open findings of the vaults this run excludes, as the previous report had them:
            # drift.sarif keeps them, suppressed, so that excluding a vault never reads as fixing it (plugin_utils/_excluded.py).
            exclusions = parse_exclusions(args['exclude'])
            record, record_note, carried = _scope_loss.read_record(report_dir, _excluded.keeper(exclusions))
            previous, previous_note = _excluded.carried_findings(*carried)
            del carried
            with without_cyclic_gc():
                session_for = self._session_for(args)
                reads = read_targets(session_for, args, discover, flags)
                warnings = read_warnings(reads)
                # What left the scope since the previous report in report_dir: its vaults this run did not read are asked for
                # by id (gone, no longer readable, or missed by the discovery and judged now).
                loss, loss_notes = self._scope_loss(reads, args, record, record_note, session_for, flags, discover)
                # The previous run's record (20,000 ids and keys: about 8 MiB) is not kept while the run is planned.
                del record
                # A vault a Resource Guard protects names no guard in its GET (a live one never does): where its tier's
                # baseline names a guard, the vault's proxy says which. One ARM read a vault, for those vaults only (none
                # for a baseline without resource_guard_id, none for a vault that reports no guard or names it).
                guard_notes = []
                if checked['baseline'] is not None:
                    wanted = vault_reads(select_vaults(reads, args['exclude'])['vaults'], check_baseline(checked['baseline']),
                                         'resource_guard')
                    guard_notes = attach_guards(session_for(None), wanted, args['max_concurrency'])
                run = plan_run(reads, args['exclude'], checked['baseline'], args['lock_requirements'])
                _say(run, warnings, [weakened_warning(entry) for entry in weakened], first=True)
                run['weakened_baseline'] = weakened
                run['excluded_vaults'] = _excluded.section(run['excluded'], exclusions, previous)
                if previous_note and run['excluded_vaults']:
                    _say(run, warnings, [previous_note])
                # The vaults the previous report judged that this run could not read keep their open findings as that report
                # had them: drift.sarif keeps them as open results, so that losing read access never reads as fixing them.
                unread = _excluded.unread_keys(loss, run['report_errors'], set(vault_key(entry.get('id')) for entry in run['drift']),
                                               set(vault_key(vault_id) for vault_id in run['excluded']))
                run['unread_vaults'] = []
                if unread:
                    doc, why = _scope_loss.read_again(report_dir, _excluded.keeper(None, set(unread)))
                    run['unread_vaults'] = _excluded.unread_section(unread, _excluded.carried_findings(doc, why)[0])
                    del doc
                _say(run, warnings, guard_notes + loss_notes + _scope_loss.warnings(loss))
                run['scope_changes'] = _scope_loss.section(loss, args['allow_scope_loss'])
                run['scope_loss'] = '' if args['allow_scope_loss'] else _scope_loss.failure(loss)
                if run['scope_loss']:
                    # A scope error of the run, in every report; and nothing is changed (zero writes) on a scope that shrank.
                    run['report_errors'].append({'scope': 'the scope of the run', 'message': run['scope_loss']})
                    if not run['blocked']:
                        run['blocked'] = ('vaults the previous report judged can no longer be read by this identity (see the '
                                          'errors): nothing was changed')
                if interrupted:
                    _say(run, warnings, [interrupted], first=True)
                if again:
                    _say(run, warnings, [replaced_reports_warning(report_dir)], first=True)
                # A listed deployIfNotExists definition (diagnostic settings, opt-in) judges each selected Recovery Services
                # vault by its related resources: one ARM read a vault (none when no such definition is listed).
                # A vault whose related resources could not be read (a 403, say) is not evaluated, and an error of the run (as
                # a vault whose policies could not be read): harden_backup_vaults_fail_on_error fails the run for it.
                if related_assignments(assignments):
                    attach_related(session_for(None), run['vaults'], assignments, args['max_concurrency'])
                    unread = related_read_errors(run['vaults'])
                    run['report_errors'].extend(unread)
                    warnings.extend('%s: %s' % (error['scope'], error['message']) for error in unread)
                run['scope_failure'] = scope_failure(reads, run, args, discover)
                run['scope_errors'] = '; '.join(scope_errors(reads))
                # What Azure Policy would say of the vaults as read (pure: no request, check mode or not), those whose bodies
                # the rules could not read included: Azure Policy judges them all the same.
                run['azure_policy'] = evaluate(run['vaults'] + run['unreadable_vaults'], assignments) if assignments else None
                if run['scope_failure'] and not args['allow_empty_scope'] and not run['report_errors']:
                    # A scope that matched nothing is an error of the run in every report: drift.sarif then says the run did
                    # not succeed (executionSuccessful false, with the cause), and never closes open alerts with 0 results.
                    run['report_errors'].append({'scope': 'the scope of the run',
                                                 'message': 'the run did not read its scope: %s' % run['scope_failure']})
                if run.get('discovery'):
                    # The run's ARM reads, each counted once: the discovery's, the GETs of the vaults that left the scope (no
                    # read of their own holds them) and the related resources', all through the run's one pacer.
                    run['discovery']['arm'] = session_for.pacer.summary()
                # One host of the run plans a vault: another host's plan of any vault this one planned was refused here, after
                # the reads and before any write (the role on several inventory hosts, each with a report directory of its own).
                claim_vaults(C.DEFAULT_LOCAL_TMP, host, run['drift'], (task_vars or {}).get('ansible_play_hosts_all'))
                # The vault records are not part of the plan (its drift entries are): freed before the plan is written.
                del reads
                run.pop('vaults', None)
                save_plan(C.DEFAULT_LOCAL_TMP, run, report_dir, check_mode,
                          {'baseline': args['baseline'], 'lock_requirements': args['lock_requirements']}, plan_id)
                summary = plan_summary(run, args['return_actions'])
                warnings.extend(run['warnings'])
                if TLS_WARNING in run['report_warnings']:
                    warnings.append(TLS_WARNING)
                if check_mode and args['check_diff']:
                    result['diff'] = check_diffs(run)
                # The run's drift entries freed before the result is returned (what cycles held: by the collection
                # without_cyclic_gc makes at its end).
                del run
        except VaultlockError as exc:
            if claimed:
                release_report_dir(C.DEFAULT_LOCAL_TMP, claimed, host)
            left = None
            if run_claimed:
                # This plan leaves the claim (the run's other plans into the directory, if any, keep it).
                try:
                    release_claim(run_claimed, plan_id, owner, reported=False)
                except ClaimNotWritten as unwritten:
                    # The claim still lists this plan: the run keeps the directory until its ansible-playbook ends. Said.
                    left = ('this plan could not be taken out of the run\'s claim on the report directory: %s; the directory '
                            'stays claimed by this ansible-playbook run until it ends' % unwritten)
            if interrupted:
                result['warnings'] = list(result.get('warnings') or []) + [interrupted]
            if left:
                result['warnings'] = list(result.get('warnings') or []) + [left]
            message = failure(exc)[0]
            if self._role_task():
                # The role built the baseline and set the options from its variables: the message names the variable the user set.
                message = role_option_names(role_variable_names(message))
            return self._failed(result, message)
        result.update(summary)
        result.update(
            changed=bool(check_mode and summary['with_actions'] and not summary['blocked']),
            check_mode=check_mode,
            plan=plan_id,
            msg='%d of %d vaults drift; %s %d%s' % (
                summary['drifting'], summary['vaults'], 'a run would change' if check_mode else 'changing',
                summary['with_actions'], (' (blocked: %s)' % summary['blocked']) if summary['blocked'] else ''),
        )
        if warnings:
            result['warnings'] = list(result.get('warnings') or []) + warnings
        if summary['scope_loss']:
            result['msg'] = 'the scope of the run shrank: %s. %s' % (summary['scope_loss'], result['msg'])
        if summary['scope_failure'] and not args['allow_empty_scope']:
            # The cause first: a run that did not read its scope is not a compliant fleet (the reports are still written).
            result['msg'] = 'the run did not read its scope: %s. %s' % (summary['scope_failure'], result['msg'])
        return result

    def _role_task(self):
        """Whether the task is the harden_backup_vaults role's: its run_scoped_variables name the variable the baseline was
        built from, so its errors name the role's variables instead of this module's options (role_variable_names)."""
        scoped = self._task.args.get('run_scoped_variables')
        return isinstance(scoped, dict) and bool(scoped.get('baseline'))

    @staticmethod
    def _scope_loss(reads, args, record, note, session_for, flags, discover):
        """(the comparison with the previous report ``record``, or None; the notes said when it could not be made: ``note``,
        read_record's). Without discovery the previous scope is the previous report's vaults that this run lists again."""
        notes = [note] if note else []
        if record is None:
            return None, notes
        extra = []
        scope = scope_of_run(reads, args, discover, listed_vaults(reads, session_for))
        loss = _scope_loss.compare(record, extra, read_keys(reads), args['exclude'], scope,
                                   read_again(session_for, args, flags), args['max_concurrency'])
        reads.extend(extra)
        return loss, notes

    @staticmethod
    def _session_for(args):
        """One AzureSession per subscription a named vault gives (None: the authentication's own), built on first use.

        Every session paces through one pacer (``session_for.pacer``): they are one principal, whose ARM buckets are per
        subscription, so the discovery's reads of a subscription and the GETs of its vaults that left the scope (read
        through the session of their own subscription) draw on one mirror of one bucket, and the run counts them once.
        Before, each session had a pacer of its own: a scope loss was paced apart from the discovery, and the run's read
        figures (drift.json ``discovery.arm``) left its GETs out."""
        auth = {name: args.get(name) for name in AUTH_ARGSPEC}
        sessions = {}
        pacer = SubscriptionPacer()

        def session_for(subscription_id):
            key = (subscription_id or '').lower()
            if key not in sessions:
                sessions[key] = AzureSession(dict(auth, subscription_id=subscription_id) if subscription_id else auth, pacer=pacer)
            return sessions[key]
        session_for.pacer = pacer
        return session_for
