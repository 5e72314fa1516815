# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What left the scope since the previous run: harden_plan compares what it read with the previous drift.json.

A run that discovers its vaults (every subscription the identity can see, or Resource Graph) reads only what the identity
may read: read access taken from the pipeline identity on one subscription or resource group (an insider with User Access
Administrator there can do it) took that scope's vaults out of every report and out of the drift gate, and the run passed.
So harden_plan reads the previous run's record in the same report directory (its drift.json: the vaults it judged and the
subscriptions it covered), and asks ARM, one GET each through the ARM read pipeline and the run's one pacer (the
discovery's: harden_plan's sessions share it, as ARM's buckets are per subscription and principal), for each vault
that report judged, this run did not read, that this run's scope still covers and that no exclusion of this run names:

- 404 (ResourceNotFound, ResourceGroupNotFound, SubscriptionNotFound): the vault is gone; a warning in every report.
- any other failure (403 AuthorizationFailed, the identity can no longer read it; or an answer that says nothing): the
  vault can no longer be read by this identity, a scope error of the run. The run changes nothing and fails unless
  ``allow_scope_loss`` says a smaller scope is expected; either way the reports name the vaults.
- a vault that left the scope unreadable stays in the record (drift.json ``scope_changes``) until a run accepts the
  smaller scope: a second run does not forget it because the first one failed.
- a run of listed vaults (discover false) has no discovered scope: the previous report's vaults it still lists are
  compared, classed by their own read's answer (no second GET); a vault taken off the list was taken off on purpose and
  is not asked for. A run that discovers and lists compares both.
- the vault read: the discovery missed a vault that is still there (Resource Graph lags ARM): it is read as a named vault
  (its policies and items too) and judged with the others, so that the gate sees it; a warning names it. A vault whose
  tags no longer match the run's tag filter left the scope by its tags: named, not judged.

The record is the scope record harden_report writes beside drift.json (SCOPE_RECORD, scope_record: only what the
comparison reads, tied to that drift.json by its size and SHA-256), else drift.json itself (a report directory of an
earlier version). A scope record that is broken or hand-edited is an error naming it, before any request; one of another
run than the drift.json beside it is not trusted (drift.json is read instead). drift.json is read at most once a run and
parsed at most once, for this comparison and for _excluded alike (read_record's ``carry``); a run that could not read
some of the vaults it judged parses it once more for their findings (read_again). It is read defensively: none (a
first run, or an apply that was interrupted removed it), one that is not JSON, of another schema, or hand-edited: no
comparison, and a warning says why, except for a missing file. Entries that are not vaults are skipped and counted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import tags_match
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError, InputError, VaultlockError, first_named, shown
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import excluded_by, parse_exclusions, vault_key
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import parse_resource_id

RECORD = 'drift.json'
# The vaults named in a warning, then how many more.
NAMED = 20
# A drift.json larger than this is not read as a record (a hand-made file, say): 20,000 vaults are about 60 MB.
MAX_RECORD_BYTES = 512 * 1024 * 1024


# The compact record harden_report writes beside drift.json: only what the next comparison reads (scope_record). Read
# first: a drift.json of 20,000 vaults is about 60 MB, its record about 3 MB.
SCOPE_RECORD = 'drift.scope.json'
SCOPE_RECORD_KIND = 'vaultlock.azure scope record'
SCOPE_RECORD_VERSION = 1
# A record larger than this is not one harden_report wrote (20,000 vaults make about 3 MB).
MAX_SCOPE_RECORD_BYTES = 64 * 1024 * 1024
_SHA256 = re.compile(r'^[0-9a-f]{64}$')
_CHUNK = 1024 * 1024


def read_record(report_dir, carry=None):
    """``(record, note, carried)``: the previous run's record in ``report_dir`` (``{generated_at, vaults: {key: ARM id},
    subscriptions, skipped}``), or None, and a sentence for the reports when something could not be used as it is ('' when
    all was well, or there is neither file: a first run).

    The scope record (SCOPE_RECORD) first, trusted only when the drift.json beside it is the one it was written with (its
    size and SHA-256): one of another run is not used (drift.json is then read instead), and without drift.json beside it
    nothing is compared. No record (a report directory of an earlier version): drift.json. A record that is broken or
    hand-edited raises InputError naming it (nothing is sent to Azure, and drift.json is not read): it is what this
    protection reads, and a run must not pass with it silently set aside. A record of a newer version of the collection is
    set aside for drift.json, said.

    ``carry``: the object_pairs_hook of the other reader of the previous drift.json (_excluded.keeper: the excluded vaults'
    open findings), or None when it needs nothing. drift.json is then read once and parsed once for both (its SHA-256 taken
    from the chunks of that one read), and ``carried`` is _load_report's ``(doc, why)`` with the document as ``carry`` kept
    it; without ``carry`` drift.json is parsed only when the record comes from it, and ``carried`` is ``(None, None)``."""
    path = os.path.join(report_dir, SCOPE_RECORD)
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        return _from_report(report_dir, carry)
    except OSError as exc:
        raise _broken(path, 'it cannot be read (%s)' % (exc.strerror or type(exc).__name__)) from exc
    if size > MAX_SCOPE_RECORD_BYTES:
        raise _broken(path, 'it is larger than %d MB, which no report directory\'s record is' % (MAX_SCOPE_RECORD_BYTES // (1024 * 1024)))
    try:
        with open(path, 'rb') as handle:
            text = handle.read()
    except OSError as exc:
        raise _broken(path, 'it cannot be read (%s)' % (exc.strerror or type(exc).__name__)) from exc
    try:
        doc = json.loads(text.decode('utf-8'))
    except (ValueError, RecursionError) as exc:
        raise _broken(path, 'it is not JSON (%s)' % type(exc).__name__) from exc
    record, newer = _parse_scope_record(doc, path)
    if newer:
        return _from_report(report_dir, carry, said=newer)
    agrees, data = _matches(report_dir, doc['report'], keep=carry is not None)
    if agrees is None:
        return None, ('the scope record %s has no %s beside it (restored without it?): it is not trusted, and this run could '
                      'not tell whether vaults left its scope' % (SCOPE_RECORD, RECORD)), (None, None)
    if not agrees:
        return _from_report(report_dir, carry, data, 'the scope record %s is not of the run that wrote the %s beside it (a '
                            'different size or SHA-256): it is not trusted; compared with %s instead' % (SCOPE_RECORD, RECORD, RECORD))
    return record, '', (_load_report(report_dir, carry, data) if carry is not None else (None, None))


def _from_report(report_dir, carry, data=None, said=''):
    """read_record from drift.json itself (no scope record, one of a newer version, or one not trusted: ``said``), parsed
    once for both readers: each object keeps what parse_record reads and what ``carry`` keeps. ``data``: drift.json's bytes
    when the scope record's check read them already."""
    doc, why = _load_report(report_dir, _kept if carry is None else _both(carry), data)
    record, note = None, ''
    if why:
        note = '%s: this run could not tell whether vaults left its scope' % why
    elif why is not None:
        record, note = parse_record(doc)
    return record, '; '.join(part for part in (said, note) if part), ((doc, why) if carry is not None else (None, None))


def _both(carry):
    """The object_pairs_hook of one parse for two readers: what _kept keeps of an object, and what ``carry`` keeps."""
    def hook(pairs):
        kept = _kept(pairs)
        kept.update(carry(pairs))
        return kept
    return hook


def _broken(path, why):
    return InputError('the scope record %s cannot be used: %s (hand-edited, or broken?). It is what this run compares its '
                      'scope with: restore it from the same run as the %s beside it, or remove it to compare with %s; nothing '
                      'was sent to Azure' % (shown(path), why, RECORD, RECORD))


def _digest(doc):
    """The SHA-256 of a record's content (every key but ``digest``), as canonical JSON."""
    body = json.dumps(dict((key, value) for key, value in doc.items() if key != 'digest'), sort_keys=True, separators=(',', ':'),
                      ensure_ascii=True)
    return hashlib.sha256(body.encode('ascii')).hexdigest()


def _file_digest(path, chunks=None):
    """(size, SHA-256) of a file, read in chunks (a drift.json of 60 MB is never held whole), each appended to ``chunks``
    when it is a list (a reader that parses the file too keeps the bytes of this one read)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, 'rb') as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            digest.update(chunk)
            if chunks is not None:
                chunks.append(chunk)
    return size, digest.hexdigest()


def _matches(report_dir, report, keep=False):
    """``(agrees, data)``: whether drift.json in ``report_dir`` is the one the record was written with (``report``: its
    bytes and SHA-256; None: there is no drift.json), read in chunks and hashed as they are read. ``keep``: another reader
    parses drift.json too, so the chunks of this one read are kept and ``data`` is their bytes (None when it was not read
    whole: larger than MAX_RECORD_BYTES, or unreadable); else nothing is held (a drift.json of 60 MB is only hashed) and a
    file of another size is not read at all."""
    path = os.path.join(report_dir, RECORD)
    try:
        size = os.path.getsize(path)
        keep = keep and size <= MAX_RECORD_BYTES
        if size != report['bytes'] and not keep:
            return False, None
        chunks = [] if keep else None
        found = _file_digest(path, chunks)
    except FileNotFoundError:
        return None, None
    except OSError:
        return False, None
    return found == (report['bytes'], report['sha256']), (b''.join(chunks) if keep else None)


def _parse_scope_record(doc, path):
    """``(record, '')`` for a scope record harden_report wrote, ``(None, sentence)`` for one of a newer version; raises
    InputError (_broken) for anything else."""
    if not isinstance(doc, dict) or doc.get('record') != SCOPE_RECORD_KIND:
        raise _broken(path, 'it is not a %s' % SCOPE_RECORD_KIND)
    version = doc.get('version')
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _broken(path, 'its version is %s, not a number this collection writes' % shown(version))
    if version > SCOPE_RECORD_VERSION:
        return None, ('the scope record %s is of version %d, which this version of vaultlock.azure does not know: compared with '
                      '%s instead' % (SCOPE_RECORD, version, RECORD))
    if doc.get('digest') != _digest(doc):
        raise _broken(path, 'its digest does not match its content')
    report = doc.get('report')
    said = isinstance(report, dict) and isinstance(report.get('bytes'), int) and not isinstance(report.get('bytes'), bool)
    if not said or not isinstance(report.get('sha256'), str) or not _SHA256.match(report['sha256']):
        raise _broken(path, 'it does not say which %s it was written with' % RECORD)
    record = {'generated_at': doc.get('generated_at') if isinstance(doc.get('generated_at'), str) else None,
              'vaults': {}, 'subscriptions': set(), 'skipped': doc.get('skipped')}
    if not isinstance(record['skipped'], int) or isinstance(record['skipped'], bool) or record['skipped'] < 0:
        raise _broken(path, 'its count of skipped entries is %s' % shown(record['skipped']))
    for field in ('vaults', 'kept'):
        entries = doc.get(field)
        if not isinstance(entries, list):
            raise _broken(path, 'its %s is not a list' % field)
        for index, arm_id in enumerate(entries):
            key = vault_key(arm_id) if isinstance(arm_id, str) else None
            if key is None:
                raise _broken(path, '%s[%d] is %s, not the ARM id of a vault' % (field, index, shown(arm_id)))
            record['vaults'].setdefault(key, arm_id.strip())
            record['subscriptions'].add(key.split('/')[2])
    subscriptions = doc.get('subscriptions')
    if not isinstance(subscriptions, list):
        raise _broken(path, 'its subscriptions is not a list')
    for index, sub in enumerate(subscriptions):
        if not isinstance(sub, str) or not _SUBSCRIPTION.match(sub):
            raise _broken(path, 'subscriptions[%d] is %s, not a subscription id' % (index, shown(sub)))
        record['subscriptions'].add(sub.strip().lower())
    return record, ''


def scope_record(report, report_path):
    """The scope record of ``report`` (a drift.json document), for the file ``report_path`` it was written to: what the
    next run's comparison reads of it (the vaults it judged, those kept from an earlier run that could not read them, the
    subscriptions it covered, the entries it skipped), which drift.json it belongs to (its size and SHA-256), and a digest
    of its own content."""
    record, _note = parse_record(report)
    record = record or {'generated_at': None, 'vaults': {}, 'subscriptions': set(), 'skipped': 0}
    judged = set()
    for vault in report.get('vaults') or []:
        key = vault_key(vault.get('id')) if isinstance(vault, dict) else None
        if key is not None:
            judged.add(key)
    size, sha256 = _file_digest(report_path)
    doc = {
        'record': SCOPE_RECORD_KIND,
        'version': SCOPE_RECORD_VERSION,
        'generated_at': record['generated_at'],
        'report': {'file': RECORD, 'bytes': size, 'sha256': sha256},
        'vaults': [arm_id for key, arm_id in sorted(record['vaults'].items()) if key in judged],
        'kept': [arm_id for key, arm_id in sorted(record['vaults'].items()) if key not in judged],
        'subscriptions': sorted(record['subscriptions']),
        'skipped': record['skipped'],
    }
    doc['digest'] = _digest(doc)
    return doc


def write_scope_record(report, report_path, handle):
    """Write scope_record(report, report_path) as JSON to ``handle`` (a text file)."""
    json.dump(scope_record(report, report_path), handle, indent=1, sort_keys=True)
    handle.write('\n')


def _load_report(report_dir, hook, data=None):
    """``(doc, why)``: the previous drift.json of ``report_dir`` parsed with ``hook`` as json's object_pairs_hook (each
    object keeps only what its readers need; why ''), or doc None and why not: why None when there is none, else 'the
    previous drift.json is larger than ... | could not be read (...)', to which each reader adds what that means to it.
    ``data``: its bytes, when read_record's check of the scope record read them already (the file is not read again).
    The one reader of the previous drift.json (read_record; its ``carry`` for _excluded)."""
    path = os.path.join(report_dir, RECORD)
    try:
        if data is None:
            if os.path.getsize(path) > MAX_RECORD_BYTES:
                return None, 'the previous %s is larger than %d MB' % (RECORD, MAX_RECORD_BYTES // (1024 * 1024))
            with open(path, 'rb') as handle:
                data = handle.read()
        return json.loads(data.decode('utf-8'), object_pairs_hook=hook), ''
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError, RecursionError) as exc:
        return None, 'the previous %s could not be read (%s)' % (RECORD, type(exc).__name__)


def read_again(report_dir, carry):
    """``(doc, why)``: the previous drift.json parsed once more with ``carry`` (_excluded.keeper for the vaults this run could
    not read), as _load_report. Only a run that found vaults it could not read asks, after its reads: which vaults those
    are is known only then (the report directory is this run's, claimed: the file has not changed since read_record)."""
    return _load_report(report_dir, carry)


# What parse_record reads of a report, at any depth (the top level, a vault, scope_changes and its entries, discovery); and
# the subscription ids that key discovery's source_by_subscription.
_KEPT = frozenset(('schema_version', 'generated_at', 'vaults', 'id', 'scope_changes', 'accepted', 'left', 'not_compared',
                   'reason', 'discovery', 'source_by_subscription'))
_SUBSCRIPTION = re.compile(r'^\s*[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\s*$')


def _kept(pairs):
    """json's object_pairs_hook for read_record: each object keeps only what parse_record reads. Objects are made inner
    ones first, so a vault's findings, policies and readiness, and the report's other sections, are freed as soon as the
    object holding them is made: a report of 20,000 vaults (about 60 MB) is read without holding its 20,000 vaults'
    contents at once (all of it, parsed whole, took 175 MiB for 43 MB)."""
    return dict((key, value) for key, value in pairs if key in _KEPT or (isinstance(key, str) and _SUBSCRIPTION.match(key)))


def parse_record(doc):
    """read_record for a parsed document."""
    cannot = 'the previous %s %%s: this run could not tell whether vaults left its scope' % RECORD
    if not isinstance(doc, dict):
        return None, cannot % 'is not a report (not a JSON object)'
    version = doc.get('schema_version')
    if version is None:
        return None, cannot % 'has no schema_version'
    if not isinstance(version, str) or version.split('.')[0] not in ('1', '2'):
        return None, cannot % ('has schema_version %s, which this version of vaultlock.azure does not know' % shown(version))
    vaults = doc.get('vaults')
    if not isinstance(vaults, list):
        return None, cannot % 'has no list of vaults'
    record = {'generated_at': doc.get('generated_at') if isinstance(doc.get('generated_at'), str) else None,
              'vaults': {}, 'subscriptions': set(), 'skipped': 0}
    for vault in vaults:
        key = vault_key(vault.get('id')) if isinstance(vault, dict) else None
        if key is None:
            record['skipped'] += 1
            continue
        record['vaults'][key] = vault['id'].strip()
        record['subscriptions'].add(key.split('/')[2])
    # The vaults an earlier run found it could no longer read, when that run did not accept the smaller scope: they stay
    # in the record until a run accepts it (allow_scope_loss) or reads them again, so that running twice does not clear it.
    # So do those a run could not compare because it could not read its scope at all (not_compared), accepted or not.
    changes = doc.get('scope_changes')
    carried = []
    if isinstance(changes, dict):
        if changes.get('accepted') is not True and isinstance(changes.get('left'), list):
            carried += [vault for vault in changes['left'] if isinstance(vault, dict) and vault.get('reason') == 'unreadable']
        if isinstance(changes.get('not_compared'), list):
            carried += [vault for vault in changes['not_compared'] if isinstance(vault, dict)]
    if carried:
        for vault in carried:
            key = vault_key(vault.get('id'))
            if key is None:
                record['skipped'] += 1
                continue
            record['vaults'].setdefault(key, vault['id'].strip())
            record['subscriptions'].add(key.split('/')[2])
    discovery = doc.get('discovery')
    by_sub = discovery.get('source_by_subscription') if isinstance(discovery, dict) else None
    if isinstance(by_sub, dict):
        record['subscriptions'].update(str(sub).strip().lower() for sub in by_sub if isinstance(sub, str) and sub.strip())
    return record, ''


def in_scope(key, args, subscriptions):
    """Whether this run's scope as configured covers the vault ``key`` (its tags aside): ``subscriptions`` is what the run
    resolved (None: every subscription the identity can see), then resource groups and vault types."""
    parts = key.split('/')
    sub, group, kind = parts[2], parts[4], parts[6] + '/' + parts[7]
    if subscriptions is not None and sub not in subscriptions:
        return False
    groups = [str(name).lower() for name in args.get('resource_groups') or []]
    if groups and group not in groups:
        return False
    kinds = {'recovery_services': 'microsoft.recoveryservices/vaults', 'backup': 'microsoft.dataprotection/backupvaults'}
    return kind in [kinds.get(name) for name in args.get('vault_types') or kinds]


def missing(record, read_keys, exclude, args, subscriptions, discovered=True, listed=()):
    """The previous record's vaults this run must ask ARM about: judged then, not read now, in this run's scope (the scope
    its discovery covers, when it ``discovered`` its vaults, or its ``listed`` vaults' keys), excluded by none of this
    run's entries. ``read_keys``: the keys of every vault this run read (judged, unreadable, excluded). A vault of the
    record that the run neither discovers nor lists (taken off harden_backup_vaults_vaults) is not asked for."""
    exclusions = parse_exclusions(exclude)
    wanted = []
    for key, arm_id in sorted(record['vaults'].items()):
        if key in read_keys or not (key in listed or (discovered and in_scope(key, args, subscriptions))):
            continue
        vault = {'id': arm_id, 'name': parse_resource_id(arm_id).get('name')}
        if any(excluded_by(exclusion, {'id': vault['id'], 'name': vault['name']}) for exclusion in exclusions):
            continue
        wanted.append(vault)
    return wanted


def classify(error):
    """``gone`` or ``unreadable`` for the AzureOperationError (or VaultlockError) of a GET of a vault."""
    if isinstance(error, AzureOperationError) and error.status == 404:
        return 'gone'
    return 'unreadable'


def named(vaults, what):
    """'<count> <what>: id (why), ... and N more' for a warning."""
    return '%d %s: %s' % (len(vaults), what, first_named(vaults, NAMED, _vault_why))


def _vault_why(vault):
    return '%s (%s)' % (vault['id'], vault['why']) if vault.get('why') else vault['id']


def compare(record, extra_reads, read_keys, exclude, scope, read_one, concurrency=1):
    """The scope comparison: ``{previous, gone, unreadable, untagged, recovered, subscriptions_left, skipped}``.

    ``scope``: this run's ``resource_groups``, ``vault_types``, ``tags``, ``subscriptions`` (what it resolved, lower-cased)
    and ``every_subscription`` (subscription_ids [all]); ``discovered`` (false: the run only lists vaults) and ``listed``
    (the keys of the vaults the run lists, each with the exception its read raised, or None). ``read_one(vault)`` reads
    one vault by id (the read of a named vault: a dict with ``vaults``), or raises VaultlockError; the reads of the vaults
    read again are appended to ``extra_reads``, to be judged with the others. A listed vault whose read failed is not
    asked for again: its exception is ARM's answer. At most ``concurrency`` reads at once (all through the run's one pacer).
    """
    result = {'previous': {'generated_at': record['generated_at'], 'vaults': len(record['vaults'])},
              'gone': [], 'unreadable': [], 'untagged': [], 'recovered': [], 'subscriptions_left': [], 'not_compared': [],
              'skipped': record['skipped']}
    subscriptions = scope.get('subscriptions')
    discovered = scope.get('discovered', True)
    listed = scope.get('listed') or {}
    if discovered and scope.get('every_subscription') and subscriptions is not None:
        result['subscriptions_left'] = sorted(sub for sub in record['subscriptions'] if sub not in subscriptions)
    wanted = missing(record, read_keys, exclude, scope, None if scope.get('every_subscription') else subscriptions,
                     discovered, listed)
    # A listed vault whose read failed: ARM answered already (one GET each, not two).
    answered = [(vault, None, listed[vault_key(vault['id'])]) for vault in wanted if listed.get(vault_key(vault['id'])) is not None]
    wanted = [vault for vault in wanted if listed.get(vault_key(vault['id'])) is None]
    if scope.get('unread'):
        # The discovery itself failed (credentials, the subscription list): a scope error of the run already. Its vaults are
        # not asked for one by one (each GET would fail the same way), but kept in the record for the next run.
        result['not_compared'] = [dict(vault, reason='not_compared', code=None, why='this run could not read its scope')
                                  for vault in wanted]
        wanted = []

    def ask(vault):
        try:
            return vault, read_one(vault), None
        except VaultlockError as exc:
            return vault, None, exc

    answers = answered
    if wanted:
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(wanted)))) as pool:
            answers += list(pool.map(ask, wanted))
    tags = scope.get('tags') or {}
    for vault, read, exc in answers:
        if exc is not None:
            reason = classify(exc)
            result[reason].append(dict(vault, reason=reason, code=getattr(exc, 'code', None), why=_why(exc)))
        elif tags and not all(tags_match(record_, tags) for record_ in read.get('vaults') or []):
            result['untagged'].append(dict(vault, reason='untagged', code=None, why="its tags no longer match the run's tags"))
        else:
            result['recovered'].append(dict(vault, reason='read_again', code=None, why='still in Azure; the discovery did not list it'))
            extra_reads.append(read)
    return result


def _why(exc):
    if isinstance(exc, AzureOperationError):
        return '%s%s' % ('HTTP %s ' % exc.status if exc.status else '', exc.code or 'error')
    return str(exc)


def warnings(loss):
    """The sentences every report carries for a comparison (its warnings)."""
    if not loss:
        return []
    said = []
    since = ' since the previous report%s' % ((' (%s)' % loss['previous']['generated_at']) if loss['previous'].get('generated_at') else '')
    if loss['unreadable']:
        said.append('left the scope%s, no longer readable by this identity (read access taken away?): %s'
                    % (since, named(loss['unreadable'], 'vault(s) it judged')))
    if loss['gone']:
        said.append('left the scope%s, gone from Azure (deleted): %s' % (since, named(loss['gone'], 'vault(s) it judged')))
    if loss['untagged']:
        said.append('left the scope%s by their tags: %s' % (since, named(loss['untagged'], 'vault(s) it judged')))
    if loss['subscriptions_left']:
        subs = loss['subscriptions_left']
        said.append('%d subscription(s) the previous report covered are no longer listed for this identity: %s'
                    % (len(subs), first_named(subs, NAMED, str)))
    if loss['recovered']:
        said.append('read from ARM and judged, as the discovery did not list them (Resource Graph lags ARM): %s'
                    % named(loss['recovered'], 'vault(s) the previous report judged'))
    if loss.get('not_compared'):
        said.append('not compared with the previous report, as this run could not read its scope (kept for the next run): %s'
                    % named(loss['not_compared'], 'vault(s) it judged'))
    if loss['skipped']:
        said.append('the previous %s has %d vault entr%s without a vault id: not compared' % (
            RECORD, loss['skipped'], 'y' if loss['skipped'] == 1 else 'ies'))
    return said


def failure(loss):
    """The scope error of a comparison ('' when no vault became unreadable)."""
    if not loss or not loss['unreadable']:
        return ''
    return ('%s can no longer be read by this identity (a scope error: read access taken away from a subscription or '
            'resource group shrinks the scope without a word; set harden_backup_vaults_allow_scope_loss: true, written for '
            'the run, if a smaller scope is expected)' % named(loss['unreadable'], 'vault(s) the previous report judged'))


def section(loss, accepted=False):
    """The report's ``scope_changes`` (drift.json): what left the scope since the previous report, and why; ``accepted``:
    allow_scope_loss was true (a later run then takes the smaller scope as its record)."""
    if not loss:
        return None
    keys = ('id', 'name', 'reason', 'code', 'why')
    return {
        'previous_report': dict(loss['previous']),
        'left': [dict((key, vault.get(key)) for key in keys) for reason in ('unreadable', 'gone', 'untagged')
                 for vault in loss[reason]],
        'read_again': [dict((key, vault.get(key)) for key in keys) for vault in loss['recovered']],
        'subscriptions_left': list(loss['subscriptions_left']),
        'not_compared': [dict((key, vault.get(key)) for key in keys) for vault in loss.get('not_compared') or []],
        'skipped_entries': loss['skipped'],
        'accepted': bool(accepted),
    }
