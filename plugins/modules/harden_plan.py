#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: harden_plan
short_description: Discover a fleet of Azure Backup vaults and plan its hardening, on the controller, in one task
version_added: 0.2.0
description:
  - Reads the vaults of a scope (and, when the baseline needs them, their backup policies and protected items) the way
    M(vaultlock.azure.vault_immutability_info) does, through Azure Resource Graph or ARM (O(discovery)), and plans each
    vault's drift against O(baseline) the way the P(vaultlock.azure.vault_targets#filter) filter does.
  - It runs on the controller, and the vault records never become an Ansible variable. The task returns only the vaults
    with actions (RV(actions)), counts, and RV(plan), the id of the whole plan, which it keeps in a private file on the
    controller until the C(ansible-playbook) run ends. M(vaultlock.azure.harden_report) writes the reports from it. A fleet
    of 20,000 vaults takes seconds this way, where its records passed through task results and filters cost minutes
    (C(docs/performance.md)).
  - The C(vaultlock.azure.harden_backup_vaults) role is built on it; use it directly to build a run of your own.
  - O(baseline), O(lock_requirements), O(exclude) and O(report_dir) are checked before any request. A baseline that asks
    for an irreversible state (immutability V(locked), soft delete V(always_on)) must say C(allow_irreversible=true) in it.
  - Consent is task-scoped. A O(baseline) with C(allow_irreversible=true) counts only when it is written in the task itself;
    one that C(module_defaults) supplies is refused before any request. So is O(lock_requirements) from C(module_defaults)
    that is looser than the defaults (see O(lock_requirements)).
  - A scope or a named vault that cannot be read becomes an error of the plan (in the reports), not a failure of the task.
    An exclusion entry that matched no vault is a warning; when the run would make an irreversible change, it also blocks
    the run (RV(blocked)).
  - A vault the baseline would lock is planned to lock only when it is ready (O(lock_requirements)).
  - Resource Graph can lag ARM by minutes. The plan is for reports and for choosing which vaults a state module visits;
    every state module re-reads its vault (and policy) from ARM before it changes anything.
  - The Azure SDKs must be installed in the Python that runs C(ansible-playbook) (C(pip install -r requirements.txt) from
    the collection), as for the C(vaultlock.azure.backup_vaults) inventory plugin. The E(AZURE_*) variables are read from
    the controller's environment; the task's C(environment) keyword does not apply to it.
extends_documentation_fragment:
  - vaultlock.azure.attributes.controller
  - vaultlock.azure.azure_auth
  - vaultlock.azure.scope.fleet
attributes:
  check_mode:
    support: full
    description: Only reads. In check mode the task is changed when a run would change a vault.
  diff_mode:
    support: full
    description: In check mode, with O(check_diff), returns a diff per drifting vault (as M(vaultlock.azure.drift_diff)).
  idempotent:
    support: full
    description: Changes nothing in Azure.
options:
  baseline:
    description:
      - What every vault must meet, as the P(vaultlock.azure.vault_targets#filter) filter takes it (C(immutability),
        C(allow_irreversible), C(retention) with C(minimum) and C(mode), C(soft_delete), C(tiers), C(retention_mode)).
      - The C(vaultlock.azure.harden_backup_vaults) role builds it from its variables.
      - Its choices are taken only as the role's argument spec writes them (C(immutability), C(soft_delete.state),
        C(retention.mode), C(retention_mode), the security settings, and the same keys of each tier), as ansible-core
        compares choices exactly. Another letter case (C(ENFORCE), C(Enabled)), spaces around a value or empty text is
        refused before any request, naming it, also when the role's own argument check was skipped.
      - With C(resource_guard_id) (in the baseline or a tier), each vault of that tier that reports a Resource Guard
        without naming it (Azure's vault reads never name it) has its Resource Guard proxy read (one more ARM read for each such
        vault, paced like the other reads; none for a vault without a guard, and none at all without C(resource_guard_id)),
        so that a vault already associated with that guard meets the baseline. A proxy that cannot be read is a warning
        of the run, and the vault's guard counts as not visible.
    type: dict
    required: true
  exclude:
    description: Vaults to leave out (ARM ids, subscription or resource group ids, vault names with shell-style wildcards).
    type: list
    elements: raw
    default: []
  lock_requirements:
    description:
      - When a vault the baseline would lock is ready to lock (C(max_retention), C(require_soft_delete), C(require_mua),
        C(no_unfixable_findings)); see M(vaultlock.azure.vault_lock_readiness_info).
      - Default is the defaults of M(vaultlock.azure.vault_lock_readiness_info) (C(max_retention=null),
        C(require_soft_delete=on), C(require_mua=false), C(no_unfixable_findings=true)).
      - Requirements looser than those defaults (C(require_soft_delete=null), C(no_unfixable_findings=false), say) let a
        vault lock that the defaults would keep unlocked, so they count only when written in the task itself. From
        C(module_defaults) they are refused before any request; requirements as strict as the defaults or stricter may
        come from C(module_defaults).
    type: dict
  discover:
    description:
      - Whether to discover the vaults of the scope (O(subscription_ids), O(resource_groups), O(tags), O(vault_types)).
      - Default is V(true) when O(vaults) is empty, V(false) otherwise.
    type: bool
  vaults:
    description:
      - Vaults to read by name, each from ARM, whatever O(discovery) says. Each is C(id), or C(name), C(resource_group)
        and C(vault_type) (and C(subscription_id) when it is not the subscription of the authentication options).
      - Each entry is checked before any request; an id or a name that names no vault fails the task naming the entry.
    type: list
    elements: dict
    default: []
  subscription_ids:
    default: []
  tags:
    default: {}
  resource_groups:
    description: Only vaults of these resource groups. Default is every resource group.
    type: list
    elements: str
    default: []
  discovery:
    description:
      - Where the fleet is read from, as in M(vaultlock.azure.vault_immutability_info).
      - V(auto) reads through Azure Resource Graph and falls back to ARM per subscription where Resource Graph cannot.
      - V(resource_graph) reads through Resource Graph only; V(arm) through Azure Resource Manager only, paced per subscription.
  report_dir:
    description:
      - The directory M(vaultlock.azure.harden_report) writes the reports into; created now (so a directory that cannot be
        written stops the run before any change), and kept in the plan.
      - Resolved once, by this task; the plan keeps its real path, and M(vaultlock.azure.harden_apply) (which removes an
        earlier run's reports before its first change) and M(vaultlock.azure.harden_report) use that path, so a symlink on
        the way to it that changes during the run does not move the reports. A directory on the resolved path that was
        replaced by a symlink after this task fails those tasks, before any request; M(vaultlock.azure.harden_apply) in
        check mode too, as a real apply would fail.
      - When the directory holds the journal of an earlier M(vaultlock.azure.harden_apply) that did not end with its
        reports (C(apply-journal.jsonl), left when the run was interrupted or no report was written after it), this task warns, in
        its result and in the reports, how many vaults that apply changed and which (the first 20), which it was changing
        when it stopped (whether they changed is unknown), and which failed; and renames the journal to
        C(apply-journal.<UTC time>.jsonl), so the evidence stays (in check mode it stays where it is, and the real run's plan
        says it again). The directory keeps the 10 newest of these copies; keeping one more aside removes older ones (only
        regular files named so). The plan itself reads the vaults as Azure holds them now.
      - When another run's M(vaultlock.azure.harden_apply) is still applying into the directory (its journal locked), or has
        ended but its run has not written its reports yet (the C(ansible-playbook) process the journal names is still alive
        on this host, between its apply and report tasks), this task fails before any request, in check mode too, naming
        the directory; that journal is neither moved nor called interrupted. Once that process is gone (killed, crashed, or
        its play ended without the report task), its journal is an earlier apply's, said and kept aside as above. A journal
        written on another host, whose process this host cannot look at, is said and kept aside too, and the warning says so.
      - This task claims the directory for its run, in check mode too, until the run's M(vaultlock.azure.harden_report) has
        written its reports. It writes C(run-claim.json) there, naming the C(ansible-playbook) process of the run as the apply
        journal does, and that report task removes it (a run that ends normally leaves no such file). While that process is
        alive on this host, another run's plan, apply and report tasks on the directory (or a symlink to it) fail before any
        request, naming the directory, that process's pid and command line, and the claim's path; remove the claim and run
        again when that process is no run into the directory. The same C(ansible-playbook) run planning into it again keeps
        its claim, which lists the run's plans into the directory; it lasts until the last of them is reported (a plan that
        fails leaves it), and a plan reported after a later plan of the run writes no report (see
        M(vaultlock.azure.harden_report)). A claim whose process is gone, written on another host, or that cannot be read (hand-made, a symlink, a
        FIFO) is taken over, and this task warns, in its result and in the reports. A directory named C(run-claim.json) there
        fails this task, saying to remove it.
      - Within one C(ansible-playbook) run, the first inventory host that plans into the directory holds it for the rest of
        the run; a plan of another host into it fails before any request, in check mode too, naming the first host (the role
        on several hosts would plan and apply the same fleet once per host, and each host's reports would replace the other's).
        The same host may plan into it again (the role imported twice in one play); that plan warns, in its result and in the
        reports, that its reports replace the earlier run's there.
      - An empty value is an error, never the current directory. So are a dictionary, a list or a boolean (which ansible-core
        would turn into its Python text), and text that reads as one or as null (C({"a":1}), C([1]), C(None), C(true)), which is
        a value meant for another option, or the text of an unset variable.
    type: path
    required: true
  check_diff:
    description: In check mode, return a diff per drifting vault (shown with C(--diff)).
    type: bool
    default: true
  return_actions:
    description:
      - Whether the result lists the drift entries of the vaults a run changes (RV(actions)), for a play that applies them
        with its own tasks. M(vaultlock.azure.harden_apply) reads them from the kept plan instead, so a play that applies
        with it may leave them out (the role does). Thousands of entries in a task result cost the play seconds and the
        memory of C(ansible-playbook).
      - With V(false), RV(actions) is an empty list; RV(with_actions) still counts them.
    type: bool
    default: true
    version_added: 0.2.0
  allow_empty_scope:
    description:
      - Whether a run that did not read its scope passes. Without it, a plan that read no vault (the scope matched
        nothing), whose O(exclude) entries left none of the vaults it read, could not read a whole subscription or scope,
        or could not authenticate says the cause first in RV(msg) and RV(scope_failure) (the role then fails after writing
        the reports).
    type: bool
    default: false
  allow_scope_loss:
    description:
      - Whether a run may pass when vaults left its scope because this identity can no longer read them. Without it, a plan
        that discovers its vaults compares them with the previous run's record in O(report_dir) (the scope record
        C(drift.scope.json) that M(vaultlock.azure.harden_report) writes beside C(drift.json), else C(drift.json) itself; a
        broken or hand-edited scope record fails the task before any request). A vault that report judged,
        that this run did not read, that its scope still covers and that no O(exclude) entry names is asked for by id from
        ARM. One that ARM answers with 403 (C(AuthorizationFailed), as when read access to its subscription or resource group
        was taken away), or with anything that does not say it is gone, is a scope error. RV(scope_loss) names it, the plan
        changes nothing (RV(blocked)) and the role fails after writing the reports.
      - A plan of listed vaults (O(vaults), O(discover) false) compares the vaults that report judged and that O(vaults)
        still lists. One whose read now fails with 403 is the same scope error (its read is ARM's answer, and no second
        request is sent). A vault taken off O(vaults) is not a loss and is not asked for.
      - With V(true) the run goes on; the reports still name each vault that left the scope and why. A vault ARM answers
        with 404 is gone (deleted), a warning either way; one ARM still returns that the discovery missed (Resource Graph
        lag) is read from ARM and judged with the others.
      - Like the consent to irreversible changes, the role takes it only from a source written for the run (O(run_scoped_variables)).
    type: bool
    default: false
    version_added: 0.2.0
  azure_policy:
    description:
      - The Azure Policy built-in definitions to evaluate on the vaults read, for the C(azure_policy) section of the reports,
        a dictionary from a vault-level Azure Backup built-in definition's name (its GUID) to its parameters (V({}) for the
        definition's defaults). Unset (null) means the 14 that judge a vault property, each with its default parameters;
        V({}) means no section. The deployIfNotExists definition for diagnostic settings (c717fb0c-d118-4c43-ab3d-ece30ac81fb3)
        is evaluated only when listed here, and then reads each selected Recovery Services vault's diagnostic settings from
        ARM (one read a vault); a vault whose settings cannot be read is reported as not evaluated, with the reason, and is
        an error of the run (counted in RV(errors), and a warning), as a vault whose policies cannot be read. The
        collection never deploys diagnostic settings.
      - Checked before any request; an unknown name, an unknown parameter or a value the definition does not allow is an error.
        Values are taken as the definition spells them (V(Audit), not V(audit)), since Azure Policy refuses an assignment whose
        value differs from an allowed value in letter case (PolicyParameterValueNotAllowed). Parameter names too
        (V(effect), not V(Effect)), since Azure Policy does not take a parameter named in another letter case for the definition's.
      - The evaluation reads no more than the vaults discovery read, and sends no request, but for the diagnostic settings
        reads of that definition when it is listed.
    type: raw
    version_added: 0.2.0
  baseline_preset:
    description:
      - V(azure_policy) raises O(baseline) to what the definitions of O(azure_policy) need with their parameters (all 14 with
        their defaults when O(azure_policy) is unset or V({})), never lowering what O(baseline) asks, before the baseline is
        checked. Immutability C(locked) when a definition accepts only Locked, soft delete C(always_on) likewise, cross
        subscription restore C(disabled) or C(permanently_disabled), public network access C(disabled), customer-managed
        keys, infrastructure encryption and private endpoints C(required), and the storage redundancies a definition does not deny.
      - Irreversible targets still need C(allow_irreversible) in O(baseline); without it they stay findings that name it.
        Multi-user authorization needs a Resource Guard a person chooses (C(resource_guard_id) in O(baseline)).
    type: str
    choices: [azure_policy]
    version_added: 0.2.0
  run_scoped_variables:
    description:
      - The variables O(baseline) and O(lock_requirements) were built from, for a task of a role whose variables hold the
        consent (the C(vaultlock.azure.harden_backup_vaults) role sets it). For each variable named, a value that consents to
        irreversible changes or loosens the lock gate must come from a source written for the run (C(-e), the play's
        C(vars), role parameters, the C(vars) of the role's import, include or C(roles) entry, of the task or of its
        blocks). When the task received it from the inventory (C(group_vars), C(host_vars), inventory file variables, vars
        plugins) or from facts (C(set_fact), C(include_vars)), and no such source gives the same value, it is refused
        before any request, in check mode too, naming the variable, where it came from and where to give it instead.
      - Such a source gives a value by itself only. A template there is rendered with nothing but those sources and the
        variables Ansible sets from the command line (C(ansible_check_mode) and the like), lookups and tests of the
        controller's files refused; one that gives the task's value only with other variables (the inventory's, facts,
        C(hostvars), C(groups)), a lookup or such a test is refused the same way, naming what it reads.
      - Values that neither consent nor loosen the lock gate (no consent, lock requirements as strict as the defaults or
        stricter) may come from anywhere.
      - With it set, each key of O(baseline) weaker than the role's defaults (immutability null or disabled, soft delete null,
        off or without retention days, a daily retention minimum below 30d, missing or given only per datastore, a security
        setting asked for its weak value) is a warning of the task and of every report, naming the role variable, its value,
        the default and where the value came from (extra vars, the play's vars, role parameters, facts, or the inventory
        with its group or host); a value that asks a run to lower vaults (immutability disabled, soft delete off, public
        network access or cross subscription restore enabled, alerts disabled) is refused before any request unless a
        source written for the run gives it. Without it, the same warnings name O(baseline) as the source, and such a value
        is refused when O(baseline) comes from C(module_defaults).
      - With C(baseline) set here (the role's), O(baseline) and the other options were set from the role's variables, so an
        error names the role variable the user set (C(harden_backup_vaults_retention_minimum.daily), not
        C(baseline.retention.minimum); C(harden_backup_vaults_subscription_ids[0]), not C(subscription_ids[0])).
    type: dict
    version_added: 0.2.0
    suboptions:
      allow_irreversible:
        description: The variable whose value (converted with the C(bool) filter) is C(allow_irreversible) of O(baseline).
        type: str
      lock_requirements:
        description: The variable O(lock_requirements) comes from; checked when it is looser than the defaults.
        type: str
      tiers:
        description: The variable the C(tiers) of O(baseline) come from; checked when a tier's C(lock_requirements) are looser
          than the defaults.
        type: str
      baseline:
        description: The variable O(baseline) itself comes from; checked when it consents or a tier loosens the lock gate.
        type: str
      allow_scope_loss:
        description: The variable whose value (converted with the C(bool) filter) is O(allow_scope_loss); checked when true.
        type: str
seealso:
  - module: vaultlock.azure.harden_report
  - module: vaultlock.azure.vault_immutability_info
  - plugin: vaultlock.azure.vault_targets
    plugin_type: filter
author: vaultlock.azure maintainers (@vaultlock)
'''

EXAMPLES = r'''
- name: Plan the hardening of two subscriptions
  vaultlock.azure.harden_plan:
    subscription_ids: [11111111-1111-1111-1111-111111111111, 22222222-2222-2222-2222-222222222222]
    baseline:
      immutability: enabled
      soft_delete: {state: 'on', retention_days: 14}
      retention: {minimum: {daily: 30d}, mode: report}
    exclude: [rsv-sandbox-*]
    report_dir: reports/backup-vaults
  register: plan

- name: Turn immutability on where the plan says so
  vaultlock.azure.vault_immutability:
    id: "{{ item.id }}"
    immutability: "{{ item.actions.immutability }}"
  loop: "{{ plan.actions | selectattr('actions.immutability') | list }}"
  loop_control:
    label: "{{ item.name }}"
  when: not plan.blocked
  register: immutability_results

- name: Write drift.json, .md, .junit.xml, .html and .sarif
  vaultlock.azure.harden_report:
    plan: "{{ plan.plan }}"
    results:
      immutability: "{{ immutability_results }}"
'''

RETURN = r'''
plan:
  description: The id of the plan kept on the controller, for M(vaultlock.azure.harden_report) in the same run.
  returned: success
  type: str
  sample: 3f2b6c1d9e8a47b5a0c4d2e1f6a7b8c9
check_mode:
  description:
    - Whether this task ran in check mode, from C(--check) or the task's (or its block's, or its role import's) C(check_mode).
    - The role decides from it whether M(vaultlock.azure.harden_apply) runs; C(ansible_check_mode) is C(--check) only.
  returned: success
  type: bool
  sample: true
  version_added: 0.2.0
actions:
  description:
    - The drift entries (as P(vaultlock.azure.vault_drift#filter) returns them) of the vaults a run changes, with
      C(actions) (C(raise_policies), C(soft_delete), C(immutability)) and C(retention_minimum) of the vault's own tier.
    - C(raise_policies) names Recovery Services policies only. Azure updates no existing Backup vault policy, so a Backup
      vault's weak tier is a finding that is not fixable (C(fixable=false), no option) and is never planned.
    - Empty with O(return_actions=false).
  returned: success
  type: list
  elements: dict
  sample: [{"id": "/subscriptions/1111.../resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-01",
            "name": "rsv-01", "actions": {"immutability": "enabled", "soft_delete": null, "raise_policies": []}}]
blocked:
  description: Why the run must change nothing (an exclusion that matched no vault, with an irreversible change planned), or empty.
  returned: success
  type: str
  sample: ''
vaults:
  description: How many vaults the plan covers (after exclusions).
  returned: success
  type: int
  sample: 20000
drifting:
  description: How many of them drift from their baseline.
  returned: success
  type: int
  sample: 200
with_actions:
  description: How many of them a run changes (the length of RV(actions)).
  returned: success
  type: int
  sample: 180
errors:
  description:
    - How many errors the reports list (drift.json C(summary.errors)), that is the scopes or vaults that could not be
      read, and a blocked run (RV(blocked)).
    - Each read that failed is also a warning of the task.
  returned: success
  type: int
  sample: 0
excluded:
  description: How many vaults the exclusions left out.
  returned: success
  type: int
  sample: 3
include_policies:
  description: Whether the baseline needed the vaults' backup policies (so they were read).
  returned: success
  type: bool
  sample: true
include_items:
  description: Whether the baseline locks vaults (so their protected items were read, for lock readiness).
  returned: success
  type: bool
  sample: false
scope_failure:
  description:
    - Why the run did not read its scope (credentials, a whole subscription or scope that could not be read, a scope that
      matched no vault, exclusions that left none of the vaults read), or an empty string when it did.
  returned: success
  type: str
  sample: "could not read subscription 00000000-0000-0000-0000-000000000000: SubscriptionNotFound"
scope_loss:
  description:
    - The vaults the previous report in O(report_dir) judged that this identity can no longer read, in words (a scope error
      of the run), or an empty string when there are none or O(allow_scope_loss) is true.
  returned: success
  type: str
  sample: "1 vault(s) the previous report judged: /subscriptions/.../vaults/rsv-1 (HTTP 403 AuthorizationFailed) can no longer be read by this identity (...)"
scope_errors:
  description:
    - The subscriptions, resource groups and listings the run could not read (credentials, a subscription that does not
      exist or is not visible), in words and joined by C(; ), also when other vaults were read; an empty string when every
      scope was read. Errors of single vaults are not among them. The role names them in its failure at the end.
  returned: success
  type: str
  sample: "could not read subscriptions 00000000-0000-0000-0000-000000000000: The subscription could not be found. (SubscriptionNotFound)"
discovery:
  description:
    - Where the vaults came from (as the C(discovery) block of drift.json), or null when nothing was read.
  returned: success
  type: dict
  sample: {"requested": ["auto"], "sources": {"resource_graph": 2}, "fallbacks": [], "data_time": "2026-11-30T14:00:00Z"}
msg:
  description:
    - How many vaults drift (RV(drifting) of RV(vaults)) and how many of them a run would change in check mode, or is changing
      (RV(with_actions)), with RV(blocked) in parentheses when the run is blocked.
    - When the run did not read its scope, RV(scope_failure) comes first.
  returned: always
  type: str
  sample: 200 of 20000 vaults drift; a run would change 180
diff:
  description: In check mode with O(check_diff), one entry per drifting vault, shown with C(--diff).
  returned: check mode
  type: list
  elements: dict
  sample: [{"before_header": "rsv-01 (recovery_services, 1111.../rg-backup)", "before": "immutability: disabled\n",
            "after_header": "rsv-01 (recovery_services, 1111.../rg-backup)", "after": "immutability: enabled\n"}]
'''
