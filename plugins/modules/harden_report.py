#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: harden_report
short_description: Write the drift reports of a planned hardening run, on the controller
version_added: 0.2.0
description:
  - Takes the plan of a M(vaultlock.azure.harden_plan) task of the same C(ansible-playbook) run and the registered results
    of the state tasks that followed it, and writes C(drift.json), C(drift.md), C(drift.junit.xml), C(drift.html) and
    C(drift.sarif) into the plan's report directory (the P(vaultlock.azure.drift_report_json#filter) document and its renderings).
  - After a real run a fixable finding counts as resolved when the task that fixes it ran for that vault without failing;
    in check mode without state tasks the reports list what a run would change.
  - The files are made with the mode the umask of C(ansible-playbook) gives a new file (0644 with umask 022, 0600 with 077).
  - Beside them it writes C(drift.scope.json), the scope record the next M(vaultlock.azure.harden_plan) into the
    same directory compares its scope with (the vaults judged, those kept from an earlier run that could not read them, the
    subscriptions covered, and the size and SHA-256 of the C(drift.json) it belongs to); docs/drift-report.md describes it.
  - The five files and the record are replaced together or not at all (each is written to a new file first, and the new files are renamed
    over the old ones only when all six were written, the record last), in check mode too (a drift report is what check mode is for). For
    a large fleet a forked process writes about half of them meanwhile. It sends no request to Azure.
  - While another run's M(vaultlock.azure.harden_apply) is applying into the report directory (its C(apply-journal.jsonl)
    locked), or has ended but that run (its C(ansible-playbook), alive on this host) has not written its reports yet, this
    task fails and writes no report, as reports beside another run's apply would describe vaults it changed. The run's own
    journal never stops it.
  - So does another run's claim of the directory (C(run-claim.json), written by that run's M(vaultlock.azure.harden_plan),
    check mode too) while that run's C(ansible-playbook) is alive on this host. Once this run's reports are written, this
    task marks its plan reported in this run's claim (another run's, or one it cannot read, stays), and removes the claim
    when every plan of the run into the directory is reported, so another run may plan into the directory. A play that
    plans twice into one directory before either report keeps it until its last report.
  - When a later plan of the same run into the directory (one made, or applied for real, after this task's plan) has
    written its reports there already, this task writes none (they would replace a later reading of the vaults with an
    older one), warns which plan's reports are there, returns its plan's summary with RV(superseded_by) and an empty
    RV(files). The journal of its apply, if that apply had vaults to change, stays for the next plan to report (the later
    plan or its apply has usually kept it aside and said so already). Give each plan a report directory of its own to
    keep the reports of both.
  - When the run's claim cannot be rewritten or removed once the reports are written (a full disk, a file system made
    read-only), the reports stand and the task warns what that means (the run keeps the directory until its
    C(ansible-playbook) ends; a report of an earlier plan still to come may replace these reports). A claim that can no
    longer be read (a directory or other text put in its place) is said in the warnings of the task and of the reports.
extends_documentation_fragment:
  - vaultlock.azure.attributes.controller
attributes:
  check_mode:
    support: full
    description: Writes the reports in check mode too; changes nothing in Azure.
  diff_mode:
    support: none
    description: Returns no diff; the reports are the record of the run.
  idempotent:
    support: full
    description: Changes nothing in Azure; the reports are rewritten with the time of the run.
options:
  plan:
    description: RV(vaultlock.azure.harden_plan#module:plan) of a M(vaultlock.azure.harden_plan) task of this run.
    type: str
    required: true
  results:
    description:
      - The registered results of the state tasks, by what they do (C(retention) for
        M(vaultlock.azure.backup_policy_retention), C(soft_delete) for M(vaultlock.azure.vault_soft_delete), C(immutability)
        for M(vaultlock.azure.vault_immutability); C(cross_subscription_restore), C(public_network_access) and C(alerts)
        for M(vaultlock.azure.vault_security_settings)), each a loop's registered result or its C(results) list (or the
        registered result of a task without a loop). Leave one out when no such task ran.
      - A result the reports cannot take as what happened fails the task, naming it (C(results.<key>[<index>])), and no report
        is written - one that names no vault or a vault not in the plan, has no C(changes) list or changes a setting
        its module does not (the result of another task), says C(changed) with no change or lists changes it says it did not
        make, has a C(changed), C(failed), C(skipped) or C(check_mode) that is not a boolean, or ran in another check mode
        than the plan.
    type: dict
    default: {}
seealso:
  - module: vaultlock.azure.harden_plan
  - plugin: vaultlock.azure.drift_report_json
    plugin_type: filter
author: vaultlock.azure maintainers (@vaultlock)
'''

EXAMPLES = r'''
- name: Plan
  vaultlock.azure.harden_plan:
    baseline: {retention: {minimum: {daily: 30d}, mode: enforce}}
    report_dir: reports/backup-vaults
  register: plan

- name: Raise the weak policies the plan names, each to the minimum of the vault's own tier
  vaultlock.azure.backup_policy_retention:
    id: "{{ item.id }}"
    policies: "{{ item.actions.raise_policies }}"
    minimum: "{{ item.retention_minimum }}"
    mode: enforce
  loop: "{{ plan.actions | selectattr('actions.raise_policies') | list }}"
  when: not plan.blocked
  register: retention_results

- name: Write the reports
  vaultlock.azure.harden_report:
    plan: "{{ plan.plan }}"
    results:
      retention: "{{ retention_results }}"
  register: report

- name: Fail when vaults still drift
  ansible.builtin.fail:
    msg: "{{ report.summary.drifting }} vaults drift; see {{ report.report_dir }}/drift.md"
  when: report.summary.drifting > 0
'''

RETURN = r'''
summary:
  description: The C(summary) of drift.json (counts of vaults, drifting vaults, findings, changes, errors).
  returned: success
  type: dict
  sample: {"vaults": 20000, "drifting": 200, "findings": 210, "fixable": 200, "unfixable": 10, "changed": 0, "resolved": 0, "errors": 0}
report_dir:
  description: The absolute path of the directory the reports were written into.
  returned: success
  type: str
  sample: /srv/ansible/reports/backup-vaults
files:
  description: The files written, in that directory (none when RV(superseded_by) is returned).
  returned: success
  type: list
  elements: str
  sample: [drift.json, drift.md, drift.junit.xml, drift.html, drift.sarif, drift.scope.json]
superseded_by:
  description: The plan of this run whose reports are in the directory instead of this plan's (a later plan of the run into
    the same directory that reported first); no report was written by this task.
  returned: when this task wrote no report for that reason
  type: str
  sample: 7d0c6b1f2a9e4c3d8b5a6e7f9c0d1e2f
check_mode:
  description: Whether the planning task ran in check mode (the reports say what would change rather than what changed).
  returned: success
  type: bool
  sample: true
generated_at:
  description: The time of the reports (UTC).
  returned: success
  type: str
  sample: '2026-11-30T14:00:00Z'
'''
