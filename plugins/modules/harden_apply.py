#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: harden_apply
short_description: Apply a harden_plan plan to a fleet of Azure Backup vaults, from the controller, many vaults at once
version_added: 0.2.0
description:
  - Makes the changes a M(vaultlock.azure.harden_plan) task planned (O(plan)), in the controller process, many vaults at
    once (O(max_concurrency)) with one Azure session. Every request is paced to ARM's limits per subscription and
    principal (writes, and reads with the polls of long-running operations), learnt from ARM's
    C(x-ms-ratelimit-remaining-subscription-*) answers, so a fleet is changed as fast as ARM allows and no request is
    throttled.
  - Each vault's changes run in the order retention raises (Recovery Services policies only, since Azure updates no Backup
    vault policy and the plan holds none), soft delete, then immutability, with the code of
    M(vaultlock.azure.backup_policy_retention), M(vaultlock.azure.vault_soft_delete) and
    M(vaultlock.azure.vault_immutability) (each re-reads what it changes from ARM, never sends a write whose outcome is
    unknown a second time without reading again, and reports truthfully what changed).
  - The lock gate holds at the moment of the lock. Right before a vault is locked, its record, its backup policies and its
    protected items are read again from ARM, its drift is planned again against its tier of the baseline, and the lock
    requirements are judged again on what was read. A vault that no longer meets them, that changed since the plan, or
    whose earlier step failed in this run is not locked (the reversible step to enabled is still made), and the reports
    say why the planned lock was not made.
  - Operations still running. A vault gets a write only while a fresh ARM read of it says C(provisioningState)
    C(Succeeded) (in any case; C(Provisioning), C(Updating), C(Failed), any other value and none at all mean an operation
    on it, another task's or another tool's, has not ended or cannot be told to have). Each step reads the vault first,
    and the lock gate reads it again right before the lock; when a read finds it so, that step and every later step of
    the vault are not sent, reversible ones included, each result says why (the vault, the state read, and to run
    again once the operation has finished), and a planned lock is reported as not made. Check mode predicts the same.
  - Irreversible steps need O(allow_irreversible=true) in this task itself, besides the baseline's own consent; a value
    from C(module_defaults) is ignored.
  - A vault that fails does not stop the others; its error is in the task's counts and in the reports that
    M(vaultlock.azure.harden_report) writes from the same O(plan). A plan is applied once.
  - Before its first write (not in check mode, and only when the plan changes a vault), the reports of an earlier run
    (C(drift.json), C(drift.md), C(drift.junit.xml), C(drift.html), C(drift.sarif)) are removed from the plan's report
    directory, so a run cut off during its writes leaves no report describing the vaults as they were;
    M(vaultlock.azure.harden_report) writes this run's. Other files there stay.
  - While it writes, it keeps a journal in that directory, C(apply-journal.jsonl), with one JSON line as each vault's first
    step begins (C(started)) and one as the vault is settled (C(settled), with its outcome C(changed), C(unchanged),
    C(failed) or C(unknown) and the changes made), written whole and at once by the process that applied the vault, so a
    run stopped by Ctrl-C (SIGINT) or a cancelled job (SIGTERM) leaves every settled vault in it; a vault with a
    C(started) line and no C(settled) line was being changed when the run stopped. It holds vault ids, names and setting
    values, never a credential. M(vaultlock.azure.harden_report) removes it once this run's reports are written; the next
    M(vaultlock.azure.harden_plan) into that directory that finds one warns and keeps it aside. A journal that cannot be
    created fails the task before any write.
  - A real apply keeps the journal even when its plan changes no vault or is blocked (a header and an C(ended) line, no
    earlier report removed), so that another run into the directory is refused until this run's reports are written, as below.
  - The journal is locked (C(flock)) for as long as the apply runs, its worker processes included, and its first line names
    the C(ansible-playbook) process of the run (host name, pid, and the process's start time, so a pid used again is not
    taken for it). While another run's apply holds it, or that run's C(ansible-playbook) is still alive on this host and has
    not written its reports yet, this task (and M(vaultlock.azure.harden_plan), in check mode too, and
    M(vaultlock.azure.harden_report)) fails before any request, naming the directory; two runs at once in one report
    directory, or in two that are one through a symlink, would mix their journals and reports. Give each run its own report
    directory. The message shows the command line of the process the journal names and the journal's path. When that
    process is no run into the directory (a journal left or written by something else), remove the journal and run again.
  - While another run holds the report directory's claim (C(run-claim.json), which its M(vaultlock.azure.harden_plan) wrote
    and its M(vaultlock.azure.harden_report) removes) and its C(ansible-playbook) is alive on this host, this task fails
    before any request, in check mode too, naming the directory, that process and the claim's path.
  - A plan of this run that a later plan of the same run into the same report directory superseded (one made, or applied
    for real, after it, in either mode) is refused before any request, in check mode too, as that plan read the vaults
    later, and this plan's report would write no report (M(vaultlock.azure.harden_report) returns RV(superseded_by) then).
    The task fails, naming both plans, with RV(superseded_by); apply the later plan, or plan again. A plan that failed is
    no longer in the run's claim and supersedes nothing.
  - A real apply with vaults to change records itself in the run's claim before it removes the earlier reports and
    before its first write; when the claim cannot be written (a full disk, a directory no longer writable) the task fails
    with nothing removed and nothing sent. A claim that can no longer be read (a directory or other text put in its place
    since the plan) fails the task before any request, in check mode too, saying to remove it and plan again.
  - A stop (Ctrl-C, SIGINT, or SIGTERM) lets no further write leave from the moment it is sent, to this task's processes
    (ansible-core 2.17, 2.18) or to C(ansible-playbook), which sends it on (2.19). No further vault or step starts, a
    request already sent is not called back, reads still go out, and a vault in flight settles failed with the changes it
    made. A signal that C(ansible-playbook) was started ignoring (a shell's background job ignores SIGINT) stops nothing,
    as it stops nothing else of the run on 2.17 and 2.18.
  - The Azure SDKs must be installed in the Python that runs C(ansible-playbook) (C(pip install -r requirements.txt) from
    the collection). The E(AZURE_*) variables are read from the controller's environment.
extends_documentation_fragment:
  - vaultlock.azure.attributes.controller
  - vaultlock.azure.azure_auth
attributes:
  check_mode:
    support: full
    description: Sends no write. Each vault's changes are predicted from a fresh ARM read, as the state modules predict them.
  diff_mode:
    support: full
    description: Returns, per vault changed, each changed setting before and after.
  idempotent:
    support: full
    description: A plan is applied once; a new plan of the same fleet after an apply has nothing left to change.
options:
  plan:
    description: The RV(vaultlock.azure.harden_plan#module:plan) value of a M(vaultlock.azure.harden_plan) task of the same run.
    type: str
    required: true
  allow_irreversible:
    description:
      - Consent to the irreversible steps of the plan (locking immutability, soft delete always on, raising retention of a
        locked Recovery Services vault). Without it, a planned lock is not made (the vault is reported failed) and other irreversible steps
        are refused.
      - Counts only when written in the task itself, never from C(module_defaults).
    type: bool
    default: false
  max_concurrency:
    description:
      - How many vaults are changed at once, over all worker processes (O(max_processes)). ARM's limits pace the requests
        whatever this is.
      - At least 1; a lower value fails the task before any request.
    type: int
    default: 64
  max_processes:
    description:
      - How many processes apply the plan. One process sends a few hundred requests a second at most (each costs it
        milliseconds of Python), so a fleet over several subscriptions is split between worker processes forked from the
        task's process, whole subscriptions each, each with a session of its own (its own token and connections). ARM's
        limits are per subscription and principal, so each process still paces every request of its subscriptions.
      - A vault that a worker process did not report (the process died) is reported failed, with C(outcome=unknown), since
        it may have changed. A worker process whose task process is gone starts no further vault.
      - Default, the number of CPU cores the controller may use (on macOS 1, where a forked process may crash in the
        system's frameworks); never more than the subscriptions with changes, nor 8. V(1) applies every vault in the
        task's own process.
    type: int
    version_added: 0.2.0
seealso:
  - module: vaultlock.azure.harden_plan
  - module: vaultlock.azure.harden_report
author: vaultlock.azure maintainers (@vaultlock)
'''

EXAMPLES = r'''
- name: Plan the hardening
  vaultlock.azure.harden_plan:
    baseline:
      immutability: enabled
      soft_delete: {state: "on", retention_days: 14}
    report_dir: reports/harden
  register: planned

- name: Apply it
  vaultlock.azure.harden_apply:
    plan: "{{ planned.plan }}"
  when: planned.with_actions > 0
  register: applied

- name: Write the reports
  vaultlock.azure.harden_report:
    plan: "{{ planned.plan }}"
'''

RETURN = r'''
vaults:
  description: How many vaults the apply visited (the plan's vaults with actions).
  returned: success
  type: int
  sample: 400
vaults_changed:
  description: How many vaults changed (in check mode, would change).
  returned: success
  type: int
  sample: 400
vaults_failed:
  description: How many vaults had a step that failed (each is an error in the reports).
  returned: success
  type: int
  sample: 0
locks_not_made:
  description: How many planned locks were not made (not ready at the moment of the lock, changed since the plan, an
    earlier step failed, or no consent); the reports say why for each.
  returned: success
  type: int
  sample: 0
writes:
  description: How many changes were made (in check mode, would be made).
  returned: success
  type: int
  sample: 421
pacing:
  description: What ARM's limits cost the apply, C(requests) sent, C(waited_s) (wall time during which requests waited for
    ARM's tokens) and C(throttled) (answers 429).
  returned: success
  type: dict
  sample: {"requests": 1680, "waited_s": 0.0, "throttled": 0}
processes:
  description: How many processes applied the vaults (see O(max_processes)). With more than one, C(pacing) adds up their
    requests and answers 429, and C(waited_s) is the longest any of them waited.
  returned: success
  type: int
  sample: 2
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: 400 of 400 vaults changed, 0 failed
superseded_by:
  description: The later plan of this run into the same report directory that superseded this task's plan; the task failed
    and sent nothing to Azure.
  returned: when this task refused its plan for that reason
  type: str
  sample: 7d0c6b1f2a9e4c3d8b5a6e7f9c0d1e2f
diff:
  description: With C(--diff), one entry per vault changed, each changed setting before and after.
  returned: when diff mode is on
  type: list
  elements: dict
  sample: [{"before_header": "rsv-01 (recovery_services)", "before": "immutability: disabled\n",
            "after_header": "rsv-01 (recovery_services)", "after": "immutability: enabled\n"}]
'''
