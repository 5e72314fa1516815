# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""A harden_backup_vaults run on the controller: discover and plan in one process, keep the plan, write the reports.

Why on the controller: a fleet of 20,000 vaults is about 50 MB of vault records and 13 MB of drift entries. Passed
through Ansible (a module's result, a set_fact, a filter's input, a copy task's content), ansible-core inspects every
value of it, which took minutes and hundreds of MiB (docs/performance.md). Here the records never leave one Python
process: the harden_plan action reads the fleet (the same _fleet.read_scope the modules use), plans (the same
_targets.plan_run the vault_targets filter uses), keeps the plan in a private file on the controller and hands the play
only the vaults with actions; the harden_report action adds the state modules' results and writes the five reports.

Nothing here imports an Azure SDK: the session does, lazily, when it first needs one.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import hmac
import json
import os
import re
import secrets
import time

from ansible_collections.vaultlock.azure.plugins.module_utils._consent import RUN_SCOPED_PARTS
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.scope import GLOB_CHARACTERS, error_warnings, fallback_warnings, read_scope
from ansible_collections.vaultlock.azure.plugins.module_utils._drift import drift_diffs
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    InputError, VaultlockError, at_least_one, escaped, first_named, has_control, shown, type_name)
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import check_subscription_ids, check_tags, every_subscription
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import VAULT_TYPES
from ansible_collections.vaultlock.azure.plugins.module_utils._module import SCOPE_ARGSPEC, failure
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._preset import PRESETS
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.html import render_html
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.sarif import render_sarif
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import (
    build_report,
    render_junit,
    json_chunks,
    render_markdown,
    result_vault,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import write_json as write_report_json
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import SETTINGS, TASKS
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import APPLY_CONCURRENCY
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import vault_key
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import VaultRef, check_resource_group, check_vault_name, validate_subscription
from ansible_collections.vaultlock.azure.plugins.plugin_utils._scope_loss import SCOPE_RECORD, write_scope_record
from ansible_collections.vaultlock.azure.plugins.plugin_utils._apply_journal import (
    ClaimNotWritten,
    claim_reported,
    later_reports,
    refuse_while_applying,
    report_dir_locked,
)

PLAN_FORMAT = 2
_PLAN_ID = re.compile(r'[0-9a-f]{32}')
_PLAN_PREFIX = 'vaultlock-harden-plan-'

# The plan file is sealed to its run: an HMAC over its content with a key that never leaves the ansible-playbook process.
# The key is made when this file is first imported, which is in ansible-playbook's main process: its strategy loads each
# action plugin's class there (class_only) before it forks the task workers, so every worker of the run inherits the same
# key, and no other run, and nothing on disk, has it. A plan changed after harden_plan wrote it, or written by another
# run, is refused.
_RUN_KEY = secrets.token_bytes(32)
_RUN_ID = '%d-%s' % (os.getpid(), secrets.token_hex(4))
# Plans of runs that were killed (their temporary directory was never removed) are removed after a day.
STALE_PLAN_SECONDS = 86400

# The five reports, and the scope record the next run compares with (_scope_loss.SCOPE_RECORD): written, replaced and
# retired together.
REPORT_FILES = ('drift.json', 'drift.md', 'drift.junit.xml', 'drift.html', 'drift.sarif', SCOPE_RECORD)

# The options of the harden_plan action besides the authentication options (plugins/modules/harden_plan.py documents
# them; ansible-test validate-modules checks that the two agree).
PLAN_ARGSPEC = {
    'baseline': {'type': 'dict', 'required': True},
    'exclude': {'type': 'list', 'elements': 'raw', 'default': []},
    'lock_requirements': {'type': 'dict'},
    'discover': {'type': 'bool'},
    'vaults': {'type': 'list', 'elements': 'dict', 'default': []},
    'subscription_ids': {'type': 'list', 'elements': 'str', 'default': []},
    'resource_groups': {'type': 'list', 'elements': 'str', 'default': []},
    'tags': {'type': 'dict', 'default': {}},
    # The same options as the read-only modules' scope (one argument spec).
    'vault_types': SCOPE_ARGSPEC['vault_types'],
    'discovery': SCOPE_ARGSPEC['discovery'],
    'max_concurrency': SCOPE_ARGSPEC['max_concurrency'],
    'report_dir': {'type': 'path', 'required': True},
    'check_diff': {'type': 'bool', 'default': True},
    'return_actions': {'type': 'bool', 'default': True},
    'allow_empty_scope': {'type': 'bool', 'default': False},
    # A vault the previous report in report_dir judged that this identity can no longer read fails the run unless this is
    # true (plugin_utils/_scope_loss.py).
    'allow_scope_loss': {'type': 'bool', 'default': False},
    # None: every vault-level Azure Backup built-in definition with its defaults; {}: no azure_policy section.
    'azure_policy': {'type': 'raw'},
    # azure_policy: the baseline raised to what the Azure Policy section's definitions need (_policy/_preset.py).
    'baseline_preset': {'type': 'str', 'choices': list(PRESETS)},
    # The variables the consent, lock requirements, tiers and baseline come from: from the inventory or facts, a value that
    # consents or loosens the lock gate is refused (plugin_utils/_run_scoped.py).
    'run_scoped_variables': {'type': 'dict', 'options': dict((part, {'type': 'str'}) for part in RUN_SCOPED_PARTS)},
}

REPORT_ARGSPEC = {
    'plan': {'type': 'str', 'required': True},
    'results': {'type': 'dict', 'default': {}},
}

# The options of the harden_apply action besides the authentication options (plugins/modules/harden_apply.py).
APPLY_ARGSPEC = {
    'plan': {'type': 'str', 'required': True},
    'allow_irreversible': {'type': 'bool', 'default': False},
    'max_concurrency': {'type': 'int', 'default': APPLY_CONCURRENCY},
    'max_processes': {'type': 'int'},
}

_VAULT_KEYS = ('id', 'name', 'resource_group', 'vault_type', 'subscription_id')


# The whole text of a value that YAML or JSON reads as no text: what a dictionary, a list, a boolean or null became on its
# way through a template or -e (ansible-core 2.17 renders a lone None as the text None). PyYAML, which reads Ansible's
# YAML, takes on and off (YAML 1.1) as booleans too; y and n it reads as text, so they are not here.
_NOT_TEXT_WORDS = {'true': 'a boolean', 'false': 'a boolean', 'yes': 'a boolean', 'no': 'a boolean', 'on': 'a boolean',
                   'off': 'a boolean', 'null': 'null', 'none': 'null', '~': 'null'}


def not_a_path(text):
    """What ``text`` reads as when YAML or JSON would read it as a dictionary, a list, a boolean or null (its whole text:
    ``{"a": 1}``, ``[1]``, ``True``, ``None``), else None."""
    stripped = text.strip()
    if stripped[:1] == '{' and stripped[-1:] == '}':
        return 'a dictionary'
    if stripped[:1] == '[' and stripped[-1:] == ']':
        return 'a list'
    return _NOT_TEXT_WORDS.get(stripped.lower())


def check_inputs(args):
    """Raise InputError for a run that cannot be what the operator meant, before any request."""
    report_dir = args.get('report_dir')
    if not isinstance(report_dir, str) or not report_dir.strip():
        raise InputError('report_dir is empty (was it given with -e from a variable that is not set?): the reports would be '
                         'written into the current directory. Set it to the directory the reports belong in, for example '
                         'reports/harden_backup_vaults (the default of harden_backup_vaults_report_dir).')
    if has_control(report_dir):
        raise InputError('report_dir %s contains a control character (a newline, say): give the directory the reports belong '
                         'in on one line' % shown(report_dir))
    reads_as = not_a_path(report_dir)
    if reads_as:
        raise InputError('report_dir %s reads as %s, not as a directory (a value meant for another variable, or the text of an '
                         'unset one?): give the directory the reports belong in, for example reports/harden_backup_vaults (the '
                         'default of harden_backup_vaults_report_dir); a directory really named so is given with its path, %s; '
                         'nothing was sent to Azure' % (shown(report_dir), reads_as, escaped('./' + report_dir.strip())))
    discover = args.get('discover')
    vaults = args.get('vaults') or []
    if discover is None:
        discover = not vaults
    if not discover and not vaults:
        raise InputError('no vaults to check: discover is false and vaults is empty')
    # An empty entry (-e harden_backup_vaults_resource_groups= from an unset variable) would read every resource group.
    for index, group in enumerate(args.get('resource_groups') or []):
        check_resource_group(group, 'resource_groups[%d]' % index)
    check_tags(args.get('tags'))
    # A subscription id that is no GUID (braces, a typo) failed only at discovery: the run went on and wrote its reports.
    check_subscription_ids(args.get('subscription_ids'))
    at_least_one(args['max_concurrency'], 'max_concurrency')
    for index, vault in enumerate(vaults):
        unknown = sorted(set(vault) - set(_VAULT_KEYS))
        if unknown:
            raise InputError('vaults[%d]: unknown key(s) %s; a vault is named by id, or by name, resource_group and vault_type '
                             '(and subscription_id)' % (index, ', '.join(escaped(key) for key in unknown)))
        if not vault.get('id') and not (vault.get('name') and vault.get('resource_group') and vault.get('vault_type')):
            raise InputError('vaults[%d]: name a vault by id, or by name, resource_group and vault_type' % index)
        if vault.get('subscription_id') is not None:
            validate_subscription(vault['subscription_id'], 'vaults[%d].subscription_id' % index)
        if vault.get('vault_type') and vault['vault_type'] not in VAULT_TYPES:
            raise InputError('vaults[%d]: vault_type must be one of %s; got %s' % (index, ', '.join(VAULT_TYPES), shown(vault['vault_type'])))
        # An id or name that names no vault failed only that entry's read: the run changed the other listed vaults, then
        # failed for the typo. Checked here with the rules the read applies, before any request (a name with * or ? is a
        # pattern the resource group's vaults are matched with).
        if vault.get('id'):
            VaultRef.parse_id(vault['id'], vault.get('vault_type'), option='vaults[%d].id' % index)
        else:
            check_resource_group(vault['resource_group'], 'vaults[%d].resource_group' % index)
            if not isinstance(vault['name'], str) or not GLOB_CHARACTERS.intersection(vault['name']):
                check_vault_name(vault['name'], 'vaults[%d].name' % index)
    return discover


def _failed_read(exc, item):
    """What a failed vault_immutability_info loop item looks like to _targets.select_vaults; ``error``: the exception, which
    _scope_loss classes (a listed vault that ARM says is gone, or that this identity can no longer read)."""
    msg, _extra = failure(exc)
    return {'failed': True, 'msg': msg, 'item': item, 'error': exc}


def read_targets(session_for, args, discover, flags):
    """The reads a run plans from, shaped as registered vault_immutability_info results (loop items).

    ``session_for(subscription_id or None)`` gives the AzureSession for a named vault's own subscription (None: the
    authentication's). ``flags``: include_policies, include_items. One read per resource group (or one for every
    resource group), one per named vault; a read that fails becomes an error of the run, never a stop.
    """
    reads = []
    if discover:
        for group in args.get('resource_groups') or [None]:
            params = dict(flags, subscription_ids=args.get('subscription_ids') or None, resource_group=group,
                          tags=args.get('tags') or None, vault_types=args['vault_types'], discovery=args['discovery'],
                          max_concurrency=args['max_concurrency'])
            reads.append(_read(read_scope, session_for(None), params, group or ''))
    for vault in args.get('vaults') or []:
        params = dict(flags, **{key: vault.get(key) for key in ('id', 'name', 'resource_group', 'vault_type')})
        params.update(max_concurrency=args['max_concurrency'], vault_types=list(VAULT_TYPES), discovery='arm')
        reads.append(_read(read_scope, session_for(vault.get('subscription_id')), params, dict(vault)))
    return reads


def _read(read_scope, session, params, item):
    try:
        if session is None:
            raise InputError('no Azure session')
        found = read_scope(session, params)
    except VaultlockError as exc:
        return _failed_read(exc, item)
    read = _shaped(found, item)
    if not session.verify:
        read['cert_validation_mode'] = 'ignore'
    return read


def _failed_read_message(read):
    """What a read that failed as a whole (read_one's _failed_read) did not read, and why."""
    item = read.get('item')
    if isinstance(item, dict):
        scope = item.get('id') or 'vault %s/%s' % (item.get('resource_group') or '', item.get('name') or '')
    else:
        scope = ('resource group %s' % item) if item else 'the vaults of the scope'
    return 'could not read %s: %s' % (scope, read.get('msg'))


def read_warnings(reads):
    """The warnings vault_immutability_info would show for these reads (fallbacks to ARM, scopes not read)."""
    warnings = []
    for read in reads:
        if read.get('failed'):
            warnings.append(_failed_read_message(read))
            continue
        warnings.extend(fallback_warnings(read.get('discovery')))
        for row in (read.get('discovery') or {}).get('dropped') or []:
            warnings.append('left out the Resource Graph row %s: %s' % (row['id'], row['reason']))
        warnings.extend(error_warnings(read.get('errors')))
    return warnings


def read_keys(reads):
    """The canonical keys of every vault the reads read: judged, excluded or unreadable alike."""
    keys = set()
    for read in reads:
        if read.get('failed'):
            continue
        for record in read.get('vaults') or []:
            keys.add(vault_key(record.get('id')) if isinstance(record, dict) else None)
        for error in read.get('errors') or []:
            vault = error.get('vault') if isinstance(error, dict) else None
            if isinstance(vault, dict):
                keys.add(vault_key(vault.get('id')))
    keys.discard(None)
    return keys


def listed_vaults(reads, session_for):
    """The vaults the run lists (harden_backup_vaults_vaults) by canonical key, each with the exception of its read when it
    failed (else None). A vault named by name and resource group takes its subscription from ``subscription_id`` or the
    authentication's; one whose subscription cannot be told is left out (its read failed for that reason already)."""
    listed = {}
    for read in reads:
        item = read.get('item')
        if not isinstance(item, dict):
            continue
        key = vault_key(item.get('id')) if item.get('id') else None
        if key is None and not item.get('id') and item.get('vault_type') in VAULT_TYPES:
            try:
                subscription = item.get('subscription_id') or session_for(None).default_subscription(required=False)
            except VaultlockError:
                subscription = None
            if subscription:
                key = vault_key(VaultRef(subscription, item.get('resource_group'), item.get('name'), item['vault_type']).id)
        if key is not None:
            listed[key] = read.get('error') if read.get('failed') else None
    return listed


def scope_of_run(reads, args, discovered=True, listed=None):
    """What _scope_loss.compare needs of this run's scope: the subscriptions the discovery resolved (None, and ``unread``,
    when a discovery read failed whole), whether that was every subscription the identity can see, the filters; whether
    the run ``discovered`` its vaults, and the vaults it ``listed`` (listed_vaults)."""
    subscriptions = set()
    for read in reads:
        if isinstance(read.get('item'), dict):
            continue
        if read.get('failed'):
            subscriptions = None
            break
        subscriptions.update(str(sub).lower() for sub in read.get('subscriptions') or [])
    return {'subscriptions': subscriptions, 'unread': subscriptions is None, 'discovered': discovered,
            'every_subscription': discovered and every_subscription(args.get('subscription_ids')),
            'resource_groups': args.get('resource_groups'), 'vault_types': args.get('vault_types'), 'tags': args.get('tags'),
            'listed': dict(listed or {})}


def read_again(session_for, args, flags):
    """read_one for _scope_loss.compare: one vault by id, from ARM (its policies and items as the run reads them), shaped
    as the run's other reads; raises VaultlockError (an AzureOperationError with ARM's status and code) when it cannot."""
    def read_one(vault):
        params = dict(flags, id=vault['id'], max_concurrency=1, vault_types=list(VAULT_TYPES), discovery='arm')
        session = session_for(vault['id'].split('/')[2])
        return _shaped(read_scope(session, params), {'id': vault['id']})
    return read_one


def _shaped(found, item):
    """A read_scope answer as a registered vault_immutability_info result of the run's reads (harden_plan reads no guard
    here: _discovery.guards.attach_guards reads those its baseline needs)."""
    return {'vaults': found['vaults'], 'errors': found['errors'], 'subscriptions': found['subscriptions'],
            'discovery': found['discovery'], 'item': item}


def scope_errors(reads):
    """The scopes a run could not read, in words: a read that failed whole (credentials, a listed vault), or a subscription,
    resource group or listing that could not be read. Errors of single vaults are not scope errors."""
    causes = []
    for read in reads:
        if read.get('failed'):
            causes.append(_failed_read_message(read))
            continue
        for error in read.get('errors') or []:
            scope = str(error.get('scope') or '')
            if error.get('vault') or not scope.lower().startswith(('subscription', 'resource group', 'discovery')):
                continue
            causes.append('could not read %s: %s' % (scope, error.get('message')))
    return causes


def scope_failure(reads, run, args, discover):
    """Why a run read no vault at all, in words ('' when it read one): the scopes it could not read (credentials, a
    subscription that does not exist or is not visible), a scope that matched no vault, or exclusions that left none of
    the vaults it read. Such a run must never pass as a compliant fleet: before (eleventh hostile pass), a run whose every
    vault was excluded (an entry '*', or the subscriptions' own ids) passed its drift gate saying "0 vaults checked, all
    meet the baseline"."""
    if run['drift'] or any(error.get('vault') for error in run['report_errors']):
        return ''
    causes = scope_errors(reads)
    if run['excluded']:
        causes.append('every vault the scope read (%d) was excluded by harden_backup_vaults_exclude, so no vault was checked'
                      % len(run['excluded']))
    elif not causes and discover:
        parts = ['subscriptions %s' % ', '.join(args.get('subscription_ids') or ['of the authentication options'])]
        if args.get('resource_groups'):
            parts.append('resource groups %s' % ', '.join(args['resource_groups']))
        if args.get('tags'):
            parts.append('tags %s' % ', '.join('%s=%s' % item for item in sorted(args['tags'].items())))
        parts.append('vault types %s' % ', '.join(args.get('vault_types') or []))
        causes.append('the scope matched no vault (%s)' % '; '.join(parts))
    return '; '.join(causes) or 'no vault was read'


def plan_summary(run, with_actions=True):
    """The small part of a plan the play gets: the vaults with actions (unless ``with_actions`` is false), the block,
    counts."""
    drift = run['drift']
    actions = [entry for entry in drift if entry.get('changes')]
    return {
        'actions': actions if with_actions else [],
        'blocked': run['blocked'],
        'vaults': len(drift),
        'drifting': sum(1 for entry in drift if entry.get('drift')),
        'with_actions': len(actions),
        'errors': len(run['report_errors']),
        'excluded': len(run['excluded']),
        'include_policies': run['include_policies'],
        'include_items': run['include_items'],
        'discovery': run['discovery'],
        'scope_failure': run.get('scope_failure') or '',
        'scope_errors': run.get('scope_errors') or '',
        'scope_loss': run.get('scope_loss') or '',
    }


def apply_summary(done):
    """What the harden_apply task returns: counts per vault, the pacing ARM's buckets cost, and how many processes applied."""
    by_vault = {}
    for results in (done.get('results') or {}).values():
        for result in results:
            state = by_vault.setdefault(str(result['id']).lower(), {'changed': False, 'failed': False})
            state['changed'] = state['changed'] or bool(result.get('changed'))
            state['failed'] = state['failed'] or bool(result.get('failed'))
    failed = sorted(key for key, state in by_vault.items() if state['failed'])
    gates = done.get('gates') or {}
    changed = sum(1 for state in by_vault.values() if state['changed'])
    summary = {
        'vaults': len(by_vault), 'vaults_changed': changed, 'vaults_failed': len(failed), 'locks_not_made': len(gates),
        'writes': sum(1 for results in (done.get('results') or {}).values() for result in results
                      for _change in result.get('changes') or []),
        'pacing': done.get('pacing') or {}, 'processes': done.get('processes') or 1,
    }
    summary['msg'] = '%d of %d vaults changed, %d failed%s' % (
        changed, len(by_vault), len(failed), (', %d planned lock(s) not made' % len(gates)) if gates else '')
    return summary


def check_diffs(run):
    """What drift_diff shows in check mode: one diff per drifting vault."""
    return drift_diffs(run['drift'])


# ------------------------------------------------------------------------------------------- the plan file

def plan_path(directory, plan_id):
    if not isinstance(plan_id, str) or not _PLAN_ID.fullmatch(plan_id):
        raise InputError('plan must be the plan value a vaultlock.azure.harden_plan task returned; got %r' % (plan_id,))
    return os.path.join(directory, _PLAN_PREFIX + plan_id + '.json')


def new_plan_id():
    """A new plan's id: harden_plan takes it before it claims the report directory (the claim lists the run's plans)."""
    return secrets.token_hex(16)


def save_plan(directory, run, report_dir, check_mode, inputs=None, plan_id=None):
    """Write what the reports and the apply need (never the vault records) to a new private file; returns its id
    (``plan_id``, else a new one).

    ``inputs``: the baseline and the lock requirements as the harden_plan task took them; the apply checks them again and
    plans a vault again from them right before an irreversible write.
    """
    plan_id = new_plan_id() if plan_id is None else plan_id
    doc = {
        # What the file is and its plan id, under the seal: another sealed file of this run put in its place (another plan,
        # or a plan's apply results) is refused by load_plan, never read as this plan.
        'format': PLAN_FORMAT, 'kind': 'plan', 'plan': plan_id,
        'report_dir': report_dir, 'check_mode': bool(check_mode), 'drift': run['drift'],
        'baseline': run['baseline'], 'blocked': run['blocked'], 'errors': run['report_errors'],
        'warnings': run['report_warnings'], 'discovery': run['discovery'], 'inputs': inputs or {},
        'scope_failure': run.get('scope_failure') or '', 'azure_policy': run.get('azure_policy'),
        'scope_changes': run.get('scope_changes'), 'weakened_baseline': run.get('weakened_baseline') or [],
        'excluded_vaults': run.get('excluded_vaults') or [], 'unread_vaults': run.get('unread_vaults') or [],
    }
    _write_private(plan_path(directory, plan_id), doc, 'the plan')
    return plan_id


# A kept file is one JSON object: the seal first, then the document as the bytes the seal covers, so that a reader checks
# the seal on the bytes before it parses them, and the document is encoded once (by the C encoder) and parsed once. At
# 20,000 vaults a plan is tens of megabytes: it is sealed and written in pieces, and read as bytes, never copied whole.
_ENVELOPE_HEAD = '{"format":%d,"seal":{"run":"%s","mac":"%s"},"doc":'
_ENVELOPE = re.compile(rb'\{"format":(\d+),"seal":\{"run":"([0-9]+-[0-9a-f]{8})","mac":"([0-9a-f]{64})"\},"doc":')


def _mac(body):
    """The seal of a document's bytes (or a buffer of them): an HMAC-SHA256 with the run's key."""
    return hmac.new(_RUN_KEY, body, hashlib.sha256).hexdigest()


def _write_envelope(handle, doc):
    """Write ``doc`` as ASCII JSON behind its seal to a new binary file (a temporary one, renamed when whole): the head is
    written with a blank seal, the document in pieces as the seal is computed, then the seal is written into the head."""
    blank = _ENVELOPE_HEAD % (PLAN_FORMAT, _RUN_ID, '0' * 64)
    handle.write(blank.encode('ascii'))
    seal = hmac.new(_RUN_KEY, digestmod=hashlib.sha256)
    # Compact ASCII JSON in pieces: each member of the plan's lists (a vault's drift entry, say) encoded on its own.
    for piece in json_chunks(doc, 2, sort_keys=False, compact=True):
        raw = piece.encode('ascii')
        seal.update(raw)
        handle.write(raw)
    handle.write(b'}')
    handle.seek(len(blank) - len('"},"doc":') - 64)
    handle.write(seal.hexdigest().encode('ascii'))


def _changed(what, plan_id):
    return InputError('%s %s was changed after this run wrote it: it is not used (nothing was sent to Azure and no report was '
                      'written from it); plan again with vaultlock.azure.harden_plan' % (what, plan_id))


def _open_envelope(data, what, plan_id):
    """The document of a kept file's bytes, once its seal holds for this run; InputError naming what is wrong otherwise."""
    head = _ENVELOPE.match(data)
    try:
        if head is None:
            # Not this version's envelope: say whether it is another version's file, a damaged one or an edited one.
            doc = json.loads(data)
            if not isinstance(doc, dict) or doc.get('format') != PLAN_FORMAT:
                raise InputError('%s %s was written by another version of vaultlock.azure' % (what, plan_id))
            raise _changed(what, plan_id)
        if int(head.group(1)) != PLAN_FORMAT:
            raise InputError('%s %s was written by another version of vaultlock.azure' % (what, plan_id))
        if head.group(2).decode('ascii') != _RUN_ID:
            raise InputError('%s %s was not written by this ansible-playbook run (a plan is used by the run that made it): plan '
                             'again with vaultlock.azure.harden_plan' % (what, plan_id))
        if not data.endswith(b'}') or not hmac.compare_digest(head.group(3).decode('ascii'), _mac(memoryview(data)[head.end():-1])):
            raise _changed(what, plan_id)
        # The whole file is now what this run wrote: its head is the seal just checked, the rest the sealed bytes.
        doc = json.loads(data)['doc']
    except ValueError as exc:
        raise InputError('%s %s on this controller cannot be read (damaged?): %s' % (what, plan_id, exc)) from exc
    if not isinstance(doc, dict) or doc.get('format') != PLAN_FORMAT:
        raise InputError('%s %s was written by another version of vaultlock.azure' % (what, plan_id))
    return doc


def _read_private(path, what, plan_id):
    """The bytes of a kept file; FileNotFoundError passes, any other failure to read it is an InputError."""
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        raise
    except OSError as exc:
        # The system's words without the file name: the file is in Ansible's local temporary directory of the run, whose
        # path is no business of the play's output (ansible-core 2.19 prints a failed task's message under no_log too).
        raise InputError('%s %s on this controller cannot be read (damaged?): %s' % (what, plan_id, exc.strerror or type(exc).__name__)) from exc


def remove_stale_plans(directory, max_age=STALE_PLAN_SECONDS, now=None):
    """Remove the plan files (and the part files of plans being written) that runs killed before their end left in their
    temporary directories (beside ``directory``, this run's), once they are older than ``max_age`` seconds; returns how
    many were removed."""
    now = time.time() if now is None else now
    removed = 0
    parent = os.path.dirname(os.path.abspath(directory))
    # '*.json.part': a plan (or applied record) whose run was killed while _write_private wrote it.
    pattern = os.path.join(glob.escape(parent), '*', _PLAN_PREFIX + '*')
    for path in glob.glob(pattern + '.json') + glob.glob(pattern + '.json.part'):
        try:
            if now - os.stat(path).st_mtime > max_age:
                os.unlink(path)
                removed += 1
        except OSError:
            continue
    return removed


# ------------------------------------------------------------------------------------------- one host per report directory

_CLAIM_PREFIX = 'vaultlock-harden-claim-'


def _claim_path(directory, report_dir):
    return os.path.join(directory, _CLAIM_PREFIX + hashlib.sha256(report_dir.encode('utf-8', 'surrogateescape')).hexdigest())


def claim_report_dir(directory, report_dir, host):
    """Record, in this run's temporary directory, that ``host`` plans into ``report_dir`` for the rest of this
    ansible-playbook run. InputError when another host of the run holds it: the role on several inventory hosts plans and
    applies the same fleet once per host, and each host's reports replace the other's (with --forks 1, serial or strategy
    free the second host's apply came after the first, moved its journal aside, and its reports said nothing was changed).
    The same host may plan again (the role twice in one play): True then, for a warning that this run's reports replace
    the earlier run's."""
    path = _claim_path(directory, report_dir)
    host = str(host)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            with open(path, encoding='utf-8') as handle:
                holder = handle.read()
        except OSError:
            holder = ''
        if holder == host:
            return True
        raise InputError('harden_plan refused: host %s of this play already planned a run into the report directory %s in '
                         'this ansible-playbook run: the role on several hosts plans and applies the same fleet once per host, '
                         'and each host\'s reports replace the other\'s. Run it on one host (hosts: localhost, or run_once: true '
                         'on its import), or give each host a report directory and a scope of its own; nothing was sent to Azure'
                         % (shown(holder), shown(report_dir)))
    except OSError as exc:
        raise InputError('cannot keep the plan on the controller (in ansible\'s local temporary directory): %s'
                         % (exc.strerror or exc)) from exc
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        handle.write(host)
    return False


_VAULT_CLAIMS = 'vaultlock-harden-vaults'


def claim_vaults(directory, host, entries, play_hosts=None):
    """Record, in this run's temporary directory, that ``host`` planned the vaults of ``entries`` (drift entries: ``id``,
    ``name``) for the rest of this ansible-playbook run. InputError, with nothing recorded, when another host of the run
    planned any of them: the role on several inventory hosts, each with a report directory of its own, planned and applied
    the same fleet once per host (at once with the default forks), each vault was written once per host and each host's
    reports said it changed them. The same host may plan its vaults again (the role twice in one play).

    One file a vault, made whole and linked into place (``os.link`` fails on an existing name), in the vaults' sorted
    order: of two hosts planning one vault at once exactly one gets it, and a refused host takes back what it took. A play
    of one host (``play_hosts``) records nothing: no other host of it plans at the same time, and a later play plans from
    fresh reads (a fleet of 20,000 vaults on localhost costs no file).
    """
    if play_hosts is not None and len(play_hosts) <= 1:
        return
    host = str(host)
    mine = {}
    for entry in entries:
        key = vault_key(entry) if isinstance(entry, dict) else None
        if key:
            mine[key] = str(entry.get('name') or key.rsplit('/', 1)[-1])
    base = os.path.join(directory, _VAULT_CLAIMS)
    taken, held = [], {}
    try:
        os.makedirs(base, mode=0o700, exist_ok=True)
        tmp = os.path.join(base, '%s.part' % secrets.token_hex(8))
        with open(tmp, 'w', encoding='utf-8') as handle:
            handle.write(host)
        try:
            for key in sorted(mine):
                path = os.path.join(base, hashlib.sha256(key.encode('utf-8', 'surrogateescape')).hexdigest())
                if not held:
                    try:
                        os.link(tmp, path)
                        taken.append(path)
                        continue
                    except FileExistsError:
                        pass
                try:
                    with open(path, encoding='utf-8') as handle:
                        holder = handle.read()
                except FileNotFoundError:
                    continue
                if holder != host:
                    held.setdefault(holder, []).append(mine[key])
        finally:
            os.unlink(tmp)
        if held:
            for path in taken:
                os.unlink(path)
    except OSError as exc:
        raise InputError('cannot keep the plan on the controller (in ansible\'s local temporary directory): %s'
                         % (exc.strerror or exc)) from exc
    if held:
        holder = sorted(held)[0]
        raise InputError('harden_plan refused: host %s of this ansible-playbook run already planned the vaults %s: two hosts '
                         'planning the same vault in one run would change it once per host, each host\'s reports saying it '
                         'changed it. Run the role on one host (hosts: localhost, or run_once: true on its import), or give '
                         'each host a scope of its own (subscriptions, resource groups, tags or listed vaults that no other '
                         'host of the run has); nothing was sent to Azure' % (shown(holder), first_named(sorted(held[holder]), 5)))


def replaced_reports_warning(report_dir):
    """The warning of a plan into a report directory the same host planned into earlier in this ansible-playbook run."""
    return ('an earlier run of harden_plan in this ansible-playbook run (the role imported twice in one play?) planned into '
            'the report directory %s: this run\'s reports replace that run\'s there. Give each run a report directory of its '
            'own to keep both' % shown(report_dir))


def release_report_dir(directory, report_dir, host):
    """End ``host``'s claim on ``report_dir`` (its plan failed before any request); another host's stays."""
    path = _claim_path(directory, report_dir)
    try:
        with open(path, encoding='utf-8') as handle:
            if handle.read() != str(host):
                return
        os.unlink(path)
    except OSError:
        return


def _write_private(path, doc, what, replace=True):
    """Write ``doc``, sealed, as JSON to a new 0600 file at ``path`` (whole or not at all). With ``replace=False`` an
    existing file is an error (FileExistsError)."""
    tmp = path + '.part'
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'wb') as handle:
            _write_envelope(handle, doc)
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            os.unlink(tmp)
    except FileExistsError:
        os.unlink(tmp)
        raise
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise InputError('cannot keep %s on the controller (in ansible\'s local temporary directory): %s'
                         % (what, exc.strerror or exc)) from exc


def applied_path(directory, plan_id):
    """The file in which harden_apply keeps what it did with a plan (beside the plan, removed with it)."""
    return plan_path(directory, plan_id)[:-len('.json')] + '.applied.json'


def save_applied(directory, plan_id, doc):
    """Keep what harden_apply did; a plan is applied once (a second apply of the same plan is refused)."""
    try:
        _write_private(applied_path(directory, plan_id), dict(doc, format=PLAN_FORMAT, kind='applied', plan=plan_id),
                       'the apply results', replace=False)
    except FileExistsError as exc:
        raise InputError('plan %s was applied already in this run: plan again (vaultlock.azure.harden_plan) to change the '
                         'vaults once more' % plan_id) from exc


def load_applied(directory, plan_id):
    """What harden_apply did with the plan, or None when it did not run (check mode, nothing to change)."""
    what = 'the apply results of plan'
    try:
        text = _read_private(applied_path(directory, plan_id), what, plan_id)
    except FileNotFoundError:
        return None
    doc = _open_envelope(text, what, plan_id)
    if doc.get('kind') != 'applied' or doc.get('plan') != plan_id:
        raise InputError('the apply results beside plan %s are those of another plan: they are not used' % plan_id)
    return doc


def applied_before(directory, plan_id):
    """Whether harden_apply already ran for this plan."""
    return os.path.exists(applied_path(directory, plan_id))


def load_plan(directory, plan_id):
    path = plan_path(directory, plan_id)
    try:
        text = _read_private(path, 'the plan', plan_id)
    except FileNotFoundError as exc:
        raise InputError('no plan %s on this controller: give the plan value of a vaultlock.azure.harden_plan task of the '
                         'same ansible-playbook run (plans are kept until the run ends)' % plan_id) from exc
    doc = _open_envelope(text, 'plan', plan_id)
    if doc.get('kind') != 'plan' or doc.get('plan') != plan_id:
        # Sealed by this run, but another of its files: another plan (another baseline, other vaults), or apply results.
        raise InputError('plan %s on this controller was replaced by %s of this run: it is not used (nothing was sent to Azure and '
                         'no report was written from it); plan again with vaultlock.azure.harden_plan'
                         % (plan_id, 'the apply results of a plan' if doc.get('kind') == 'applied' else 'another plan'))
    return doc


# ------------------------------------------------------------------------------------------- the reports

def build_run_report(plan, results, applied=None):
    """The drift.json document of a run: the plan, and what changed: ``applied`` (what harden_apply kept for this plan)
    or ``results`` (the state modules' registered loop results, for plays that change vaults with their own tasks)."""
    results = results or {}
    unknown = sorted(set(results) - set(TASKS))
    if unknown:
        raise InputError('results: unknown key(s) %s; give %s' % (', '.join(escaped(key) for key in unknown), ', '.join(TASKS)))
    if applied is not None and any(results.get(key) for key in results):
        raise InputError('results: this plan was applied by vaultlock.azure.harden_apply, whose results the report takes; '
                         'give no results of state tasks as well')
    if applied is not None:
        results = applied.get('results') or {}
    normalised = {}
    for key in TASKS:
        value = results.get(key)
        if isinstance(value, dict):
            # A loop's registered result, or one task's own (no loop): a result of its own, never nothing.
            value = value['results'] if 'results' in value else [value]
        if value is None:
            value = []
        if not isinstance(value, list):
            raise InputError('results.%s must be the registered result of the state task (or its results list)' % key)
        if applied is None:
            _check_results(plan, key, value)
        normalised[key] = value
    drift = plan['drift']
    warnings = list(plan['warnings'])
    if applied is not None:
        drift = gated_drift(drift, applied.get('gates') or {})
        warnings.extend(applied.get('warnings') or [])
    return build_report(drift, {
        'check_mode': plan['check_mode'], 'predict': not plan['blocked'], 'baseline': plan['baseline'],
        'errors': plan['errors'], 'warnings': warnings, 'discovery': plan['discovery'], 'results': normalised,
        'azure_policy': plan.get('azure_policy'), 'scope_changes': plan.get('scope_changes'),
        'weakened_baseline': plan.get('weakened_baseline') or [],
        'excluded_vaults': plan.get('excluded_vaults') or [], 'unread_vaults': plan.get('unread_vaults') or [],
    })


# The state tasks one module does (a vault_security_settings result may change any of its settings).
_OWN_MODULE_TASKS = ('immutability', 'soft_delete', 'retention')


def _settings_of(key):
    """The settings a result of the state task ``key`` may name in its changes: those its module changes."""
    tasks = {key} if key in _OWN_MODULE_TASKS else set(TASKS) - set(_OWN_MODULE_TASKS)
    return {setting.name for setting in SETTINGS if setting.action in tasks} | tasks


def _check_results(plan, key, items):
    """InputError naming the first result of the state task ``key`` that the reports cannot take as what happened: not a
    result of that task's module, a vault outside the plan, another check mode than the plan's, or an outcome that says
    two things (changed with no change, unchanged with changes)."""
    planned = {str(entry.get('id')).strip().lower() for entry in plan['drift'] if entry.get('id')}
    settings = _settings_of(key)
    for index, item in enumerate(items):
        where = 'results.%s[%d]' % (key, index)
        if not isinstance(item, dict):
            raise InputError('%s must be a registered result (a dictionary), got %s' % (where, type_name(item)))
        for flag in ('skipped', 'failed', 'changed', 'check_mode'):
            if flag in item and not isinstance(item[flag], bool):
                raise InputError('%s: %s must be true or false, got %s' % (where, flag, shown(str(item[flag]))))
        if item.get('skipped'):
            continue
        vault = result_vault(item)['id']
        if not isinstance(vault, str) or not vault.strip():
            raise InputError('%s names no vault (no id, item.id or vault.id): it is not the result of a state task that looped '
                             'over the plan\'s vaults, so what it changed cannot be reported' % where)
        if vault.strip().lower() not in planned:
            raise InputError('%s is for vault %s, which is not in the plan (not in its scope, or excluded): a change the plan '
                             'did not make is not reported as the run\'s' % (where, shown(vault)))
        if 'check_mode' in item and item['check_mode'] != plan['check_mode']:
            raise InputError('%s is of a task run with check_mode %s, the plan\'s check_mode is %s: give the results of the '
                             'tasks that applied this plan' % (where, item['check_mode'], plan['check_mode']))
        changes = item.get('changes')
        if changes is None and item.get('failed'):
            changes = []
        if not isinstance(changes, list):
            raise InputError('%s has no changes list: it is not the result of the state task for %s (every state module '
                             'returns changes)' % (where, key))
        for change in changes:
            setting = change.get('setting') or key if isinstance(change, dict) else None
            if setting not in settings:
                raise InputError('%s changes %s, which the state task for %s does not change: it is the result of another '
                                 'task' % (where, shown(str(setting)), key))
        if item.get('changed') and not changes and not item.get('failed'):
            raise InputError('%s says changed but lists no change: what it changed cannot be reported' % where)
        if changes and not item.get('changed'):
            raise InputError('%s lists changes but says it changed nothing: it cannot be reported either way' % where)


def gated_drift(drift, gates):
    """The plan's drift entries with the locks the apply did not make taken out: their immutability finding stays open
    (not fixable by this run, with the reason) and their lock readiness is the one judged at the moment of the lock."""
    if not gates:
        return drift
    entries = []
    for entry in drift:
        gate = gates.get(str(entry.get('id')).lower())
        if not gate:
            entries.append(entry)
            continue
        entry = dict(entry)
        entry['changes'] = [change for change in entry.get('changes') or []
                            if not (change.get('setting') == 'immutability' and change.get('after') == 'locked')]
        findings = []
        for finding in entry.get('findings') or []:
            if finding.get('setting') == 'immutability' and finding.get('want') == 'locked':
                finding = dict(finding, fixable=False, reason=gate['reason'])
            findings.append(finding)
        entry['findings'] = findings
        if gate.get('lock_readiness'):
            entry['lock_readiness'] = gate['lock_readiness']
        elif isinstance(entry.get('lock_readiness'), dict):
            blocker = {'requirement': 'apply', 'want': None, 'found': None, 'message': gate['reason']}
            blockers = list(entry['lock_readiness'].get('blockers') or []) + [blocker]
            entry['lock_readiness'] = dict(entry['lock_readiness'], ready=False, blockers=blockers)
        entries.append(entry)
    return entries


def _renderers():
    def text(render):
        def write(report, handle):
            handle.write(render(report))
        return write

    return {'drift.json': write_report_json, 'drift.md': text(render_markdown), 'drift.junit.xml': text(render_junit),
            'drift.html': text(render_html), 'drift.sarif': text(render_sarif)}


def _mkdir_reason(path, exc):
    """Why os.makedirs could not make ``path``, in words: a file where the directory (or one on its way) should be says so,
    where the system's own text ("File exists", "Not a directory") left the reader to guess which path it meant."""
    if os.path.lexists(path) and not os.path.isdir(path):
        return 'it exists and is not a directory (a file is in the way); give a directory, or a path where none exists yet'
    parent = os.path.dirname(path)
    while parent and parent != os.path.dirname(parent) and not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if parent and os.path.lexists(parent) and not os.path.isdir(parent):
        return '%s, on its way, is not a directory (a file is in the way)' % shown(parent)
    return exc.strerror or str(exc)


def _unwritable_reason(path):
    """Why ``path``, a directory, cannot be written into: a read-only file system, or the permissions of this user."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return 'it is on a read-only file system'
    except OSError:
        pass
    return 'the user running ansible-playbook (uid %d) may not write into it' % os.geteuid()


def prepare_report_dir(report_dir):
    """The report directory as an absolute path, created if missing (0777 less the umask, each directory made, as mkdir -p
    makes them); InputError when it cannot be written."""
    path = os.path.realpath(os.path.expanduser(report_dir))
    try:
        os.makedirs(path, mode=0o777, exist_ok=True)
    except OSError as exc:
        raise InputError('cannot create the report directory %s: %s' % (shown(report_dir), _mkdir_reason(path, exc))) from exc
    except RecursionError as exc:
        # os.makedirs recurses once per missing directory: a path of about a thousand of them ended in a traceback.
        raise InputError('cannot create the report directory %s: it has too many directories that do not exist yet'
                         % shown(report_dir)) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError('cannot write into the report directory %s: %s; give a report directory this user can write'
                         % (shown(report_dir), _unwritable_reason(path)))
    taken = _taken_report_names(path)
    if taken:
        one = len(taken) == 1
        raise InputError('cannot write the reports into %s: %s, where a report goes, %s a directory (a report replaces a file '
                         'or a symlink, never a directory); move %s' % (shown(report_dir), ', '.join(taken), 'is' if one else 'are',
                                                                        'it' if one else 'them'))
    return path


def _taken_report_names(path):
    """The names of REPORT_FILES that are directories in ``path`` (not symlinks): a rename cannot replace one, so writing
    the reports there would stop after the ones before it, leaving a mix of this run's reports and an earlier run's."""
    return [name for name in REPORT_FILES if os.path.isdir(os.path.join(path, name)) and not os.path.islink(os.path.join(path, name))]


def planned_report_dir(plan, task=None, check_mode=False):
    """The report directory harden_plan resolved once (its real path, kept in the sealed plan), for the later tasks of the
    run: used as it is, never resolved again, so a symlink on the way to it that is changed during the run does not move
    the later reports. InputError when that path itself now goes through a symlink (a directory on it was replaced by one
    after the plan): neither written nor emptied. ``task``: the task that asks (harden_apply, harden_report), named in the
    refusal.

    A check-mode harden_apply is refused the same way, though it would touch nothing there: a real apply of the plan is
    refused (it removes the earlier reports and writes its journal in that directory), and check mode says what a real
    apply would do; its refusal says so."""
    path = plan.get('report_dir')
    if not isinstance(path, str) or not os.path.isabs(path):
        raise InputError('the plan holds no resolved report directory (made by another version of vaultlock.azure?): plan again')
    now = os.path.realpath(path)
    if now != path:
        outcome = 'no report was written or removed there'
        if task == 'harden_apply':
            outcome = 'nothing was sent to Azure and %s' % outcome
            if check_mode:
                outcome += (' (check mode: a real apply refuses it the same way, as it would remove the earlier reports and write '
                            'its journal there)')
        raise InputError('%sthe report directory %s that harden_plan resolved now leads to %s (a directory on its path was '
                         'replaced by a symlink during the run): %s; plan again'
                         % ('%s refused: ' % task if task else '', shown(path), shown(now), outcome))
    return path


def retire_reports(report_dir, locked=False):
    """Remove the reports of an earlier run from ``report_dir`` (REPORT_FILES only; anything else stays) before a real
    apply's first write; returns the names removed. A run cut off during its writes (Ctrl-C, a cancelled CI job, SIGKILL)
    writes no report, and the earlier run's drift.json would then describe vaults this run changed: no report is the
    truthful state until harden_report writes this run's. InputError when one cannot be removed (before any write).
    ``locked``: the caller holds report_dir_locked on it already (the lock is not reentrant)."""
    path = os.path.realpath(os.path.expanduser(report_dir))
    removed = []
    with (contextlib.nullcontext() if locked else report_dir_locked(path)):
        for name in REPORT_FILES:
            target = os.path.join(path, name)
            try:
                os.unlink(target)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise InputError('cannot remove the earlier report %s before this run changes vaults it describes: %s; nothing '
                                 'was sent to Azure' % (target, exc.strerror or exc)) from exc
            removed.append(name)
    return removed


# What each report costs to write, relative to the others (CPU seconds per 20,000 vaults, docs/performance.md): how the
# writers are shared between two processes.
_WRITER_COST = {'drift.json': 0.84, 'drift.md': 0.12, 'drift.junit.xml': 0.69, 'drift.html': 1.16, 'drift.sarif': 1.21}
# Below this many vaults a second process costs more than it saves.
FORK_WRITERS_FROM = 2000


class Superseded(Exception):
    """The reports of a plan are not written: those in its report directory are a later plan's of the same run
    (_apply_journal.later_reports). ``path``: the report directory; ``later``: that plan's entry in the run's claim."""

    def __init__(self, path, later):
        super().__init__(path)
        self.path = path
        self.later = later


def superseded_warning(plan_id, superseded):
    """What the report task of plan ``plan_id`` says when it wrote no report (Superseded)."""
    return ('the reports of plan %s were not written: the report directory %s holds the reports of plan %s, which this '
            'ansible-playbook run made, or applied for real, after this plan, so they read the vaults later than this plan '
            'did; this plan\'s reports would have replaced them with an older reading. This task\'s summary is this plan\'s. '
            'Give each harden_plan task a report directory of its own to keep the reports of both'
            % (plan_id, shown(superseded.path), escaped(str(superseded.later.get('plan')))))


def claim_not_reported_warning(plan_id, exc):
    """What harden_report says when the run's claim could not record that the reports now there are plan ``plan_id``'s."""
    return ('the reports of plan %s were written, but the run\'s claim could not record that they are this plan\'s: %s. A report '
            'of an earlier plan of this run into the same directory, if one is still to come, may replace them with an older '
            'reading' % (plan_id, exc))


def write_reports(report, report_dir, processes=2, plan=None, said=None):
    """Write the five reports into report_dir, and the scope record beside them (_scope_loss.SCOPE_RECORD: what the next
    run compares with, tied to this drift.json by its size and SHA-256): all six whole, or none of them changed (each is
    written to a temporary file first; they are renamed over the old ones only when every one was written, the record
    last).

    ``plan``: the id of the plan the reports are of (harden_report): its run's claim of the directory then records that
    its reports are there (claim_reported), and Superseded is raised, nothing replaced, when the reports there are of a
    later plan of the same run (later_reports: a play that planned twice into the directory reports its plans out of order).
    When the claim cannot record it once the reports are written (a full disk), what that means is appended to ``said`` (a
    list, harden_report's warnings) instead of failing: the reports stand (ClaimNotWritten is raised without ``said``).

    With ``processes`` 2 and a large report, a forked process writes about half of them while this one writes the rest
    (the report is shared by the fork, not copied); an error of either is raised here as OSError."""
    path = prepare_report_dir(report_dir)
    refuse_while_applying(path, 'harden_report')
    renderers = _renderers()
    temps = {}
    try:
        for name in list(renderers) + [SCOPE_RECORD]:
            temps[name] = _new_file(path, name)
        forked = processes > 1 and hasattr(os, 'fork') and len(report.get('vaults') or ()) >= FORK_WRITERS_FROM
        if forked:
            _write_in_two(report, renderers, temps)
        else:
            _write_each(report, renderers, temps, list(renderers))
        # From the drift.json just written (its size and SHA-256 tie the two).
        with open(temps[SCOPE_RECORD], 'w', encoding='utf-8') as handle:
            write_scope_record(report, temps['drift.json'], handle)
        # Another run's five renames into the same directory wait for these, and these for them.
        with report_dir_locked(path):
            # Reports written while another run's apply changes the vaults they describe would be read as that run's state.
            refuse_while_applying(path, 'harden_report')
            # Checked again right before the renames (prepare_report_dir checked when the run began): a directory made under
            # a report's name since would stop the renames part way, and the reports on disk would come from two runs.
            taken = _taken_report_names(path)
            if taken:
                raise IsADirectoryError('%s in %s %s a directory: no report was replaced' % (', '.join(taken), path, 'is' if len(taken) == 1 else 'are'))
            later = later_reports(path, plan) if plan else None
            if later is not None:
                raise Superseded(path, later)
            # The record last: a run cut off between the renames leaves a record that does not match drift.json (not trusted).
            for name in list(renderers) + [SCOPE_RECORD]:
                os.replace(temps[name], os.path.join(path, name))
                del temps[name]
            if plan:
                try:
                    claim_reported(path, plan)
                except ClaimNotWritten as exc:
                    if said is None:
                        raise
                    said.append(claim_not_reported_warning(plan, exc))
    finally:
        for tmp in temps.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
    return path, list(renderers) + [SCOPE_RECORD]


def _new_file(path, name):
    """A new empty file in ``path`` named after the report ``name`` (``.drift.json.<random>``), made 0666 less the umask, as
    the user's own files are (tempfile makes 0600, which the reports were then set to 0644 from, whatever the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_CLOEXEC', 0)
    for _attempt in range(100):
        tmp = os.path.join(path, '.%s.%s' % (name, secrets.token_hex(6)))
        try:
            os.close(os.open(tmp, flags, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError('no free temporary name for %s in %s' % (name, path))


def _write_each(report, renderers, temps, names):
    for name in names:
        with open(temps[name], 'w', encoding='utf-8') as handle:
            renderers[name](report, handle)


def _write_in_two(report, renderers, temps):
    """The writers split by cost between this process and a forked one; returns when both are done."""
    here, there, load_here, load_there = [], [], 0.0, 0.0
    for name in sorted(renderers, key=lambda key: -_WRITER_COST.get(key, 1.0)):
        if load_there <= load_here:
            there.append(name)
            load_there += _WRITER_COST.get(name, 1.0)
        else:
            here.append(name)
            load_here += _WRITER_COST.get(name, 1.0)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:   # the forked writer: never returns
        code = 1
        try:
            os.close(read_end)
            _write_each(report, renderers, temps, there)
            code = 0
        except BaseException as exc:  # pylint: disable=broad-except
            try:
                os.write(write_end, ('%s: %s' % (type_name(exc), exc)).encode('utf-8', 'replace')[:4000])
            except OSError:
                code = 2
        finally:
            os._exit(code)  # pylint: disable=protected-access
    os.close(write_end)
    try:
        _write_each(report, renderers, temps, here)
    finally:
        with os.fdopen(read_end, 'rb') as stream:
            said = stream.read().decode('utf-8', 'replace')
        _pid, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise OSError('the process writing %s failed (%s)%s' % (', '.join(there), 'exit status %d' % code if code > 0 else 'signal %d' % -code,
                                                                ': ' + said if said else ''))
