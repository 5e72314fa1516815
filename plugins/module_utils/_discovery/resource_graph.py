# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Fleet discovery through Azure Resource Graph: a few queries instead of one ARM read per vault.

Resource Graph (``POST /providers/Microsoft.ResourceGraph/resources``) holds both vault kinds in its ``resources``
table and their backup policies, Recovery Services protected items and Backup vault backup instances in
``recoveryservicesresources``. A principal may send 15 queries per 5-second window (``x-ms-user-quota-remaining``,
``x-ms-user-quota-resets-after``); pages hold up to 1,000 rows and continue with ``$skipToken``. Resource Graph can lag
ARM by minutes: what it returns is for reports; every write is still planned from a fresh ARM read.

The queries are built here from fixed shapes (``vaults_query``, ``policies_query`` (or ``policy_rows_query``), ``items_query``,
``subscriptions_query``); every value a user gives (resource group names, tag keys and values) goes in as a quoted
KQL string literal (``kql_string``), never as query text. Rows become the same records as the ARM path makes:
``_vaults.vault_record`` for vaults, ``_retention.normalise_policy`` for policies, ``_items.item_record`` for items.

``discover()`` is the whole fleet read: vaults (and optionally policies and items) of given subscriptions, with the
subscriptions Resource Graph cannot see (or a failed query) read from ARM instead, and says which source each
subscription came from. The policies come in the vault rows (``vaults_query(policies=True)``: one query, a page per
1,000 vaults, where a row per policy took a second query and twice the pages of Resource Graph's quota); a query whose
text Resource Graph refuses is asked again in a simpler shape (``QUERY_REFUSED``).
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.pacing import retry_after_seconds
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery import fleet as _fleet
from ansible_collections.vaultlock.azure.plugins.module_utils._errors import (
    AzureOperationError,
    InputError,
    azure_errors,
    first_line,
    from_exception,
    import_package,
    UnreadableResourceError,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.items import attach_items, item_record, vault_id_of_item
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import VAULT_TYPES, resource_type
from ansible_collections.vaultlock.azure.plugins.module_utils._retention import normalise_policy
from ansible_collections.vaultlock.azure.plugins.module_utils._settings import MAX_CONCURRENCY, RETRY_AFTER_MAX
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record

GRAPH_PATH = '/providers/Microsoft.ResourceGraph/resources'
API_VERSION = '2022-10-01'
PAGE_SIZE = 1000                 # rows per page: Resource Graph's maximum $top
# Pages of one answer asked for at once (after the first): the quota (15 queries per 5 seconds) paces them anyway.
PARALLEL_PAGES = 8
MAX_SUBSCRIPTIONS = 1000         # subscriptions per query (Learn: the REST API accepts a limited number; CLI sends 1000)
OPERATION = 'query Resource Graph'
# The most pages one query may take (a million rows at 1,000 a page), whatever an answer says: a $skipToken that never
# ends, or a totalRecords of billions, stops there as an error instead of querying forever.
MAX_PAGES = 1000
# Pages beyond what an answer's totalRecords announces that are still accepted (rows can move in a live index).
PAGE_SLACK = 2
NOT_VISIBLE = 'Resource Graph cannot read this subscription (no access, or access not yet propagated)'
# Answers whose pages do not make one answer: a row seen twice, fewer or more rows than totalRecords announced, a page
# of another length or total. Resource Graph's index is live: a vault added, removed or reordered while a query is paged
# moves rows between pages. discover() then asks again once, and reads from ARM what still does not add up.
MOVING_INDEX_CODES = ('DuplicateRows', 'MissingRows', 'InconsistentPages')
MOVED = 'Resource Graph\'s pages did not make one answer twice (the index changed while it was paged: %s)'
# Codes of a Resource Graph answer that refused a query's text (graph_error takes the most specific detail): the query is
# then asked in a simpler shape (_vault_pages, _policies_settled).
QUERY_REFUSED = ('InvalidQuery', 'InvalidQueryLanguage', 'ParserFailure', 'BadRequest')

# ARM resource type of each vault kind, lowercase (as Resource Graph's `type` column holds it).
VAULT_RESOURCE_TYPES = {kind: resource_type(kind) for kind in VAULT_TYPES}
POLICY_TYPES = {'recovery_services': 'microsoft.recoveryservices/vaults/backuppolicies',
                'backup': 'microsoft.dataprotection/backupvaults/backuppolicies'}
ITEM_TYPES = {'recovery_services': 'microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems',
              'backup': 'microsoft.dataprotection/backupvaults/backupinstances'}
VAULT_COLUMNS = ('id', 'name', 'type', 'location', 'resourceGroup', 'subscriptionId', 'tags', 'properties', 'identity', 'sku')
CHILD_COLUMNS = ('id', 'name', 'type', 'resourceGroup', 'subscriptionId', 'properties')
# A policy's columns in a row of policies_query (a vault's policies, packed): what PolicyRows reads of each.
POLICY_COLUMNS = ('id', 'name', 'type', 'properties')
_ESCAPES = {'\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t'}
_CONTROL = re.compile(r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')
_GUID = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')


# ------------------------------------------------------------------------------------------------- query text
def kql_string(value):
    """A single-quoted KQL string literal of ``value`` (backslash escapes); control characters are refused."""
    text = str(value)
    if _CONTROL.search(text):
        raise InputError('%r cannot be used in a Resource Graph query: it contains control characters' % text)
    return "'" + ''.join(_ESCAPES.get(char, char) for char in text) + "'"


def _in_list(values):
    return '(' + ', '.join(kql_string(v) for v in values) + ')'


def _types(mapping, vault_types):
    kinds = list(vault_types or ())
    unknown = [k for k in kinds if k not in mapping]
    if not kinds or unknown:
        raise InputError('vault types must be among %s; got %s' % (', '.join(sorted(mapping)), ', '.join(map(str, kinds)) or 'none'))
    return [mapping[k] for k in kinds]


def _resource_groups(resource_groups):
    groups = [str(g) for g in (resource_groups or ()) if str(g)]
    return ' | where resourceGroup in~ %s' % _in_list(groups) if groups else ''


def vaults_query(vault_types, resource_groups=None, tags=None, policies=False):
    """Vaults of the given kinds, optionally in the given resource groups (any casing) and carrying the given tags.

    Tags match as ``_fleet.tags_match`` does after a client-side check: the query compares lower-cased keys and values
    (a superset), ``discover()`` then keeps exact values. A tag whose wanted value is None only needs the key.

    With ``policies``, each vault row also holds its backup policies (``policies``: the columns of each, or null for a
    vault without any), joined from ``policies_query``'s rows: one query for both, whose pages are the vaults' (Learn,
    query-language: Resource Graph tables join, ``leftouter`` among the flavours; one cross-table join per query).
    """
    text = 'resources | where type in~ %s' % _in_list(_types(VAULT_RESOURCE_TYPES, vault_types)) + _resource_groups(resource_groups)
    if tags:
        conditions = []
        for key, value in sorted(tags.items(), key=lambda kv: str(kv[0])):
            wanted = kql_string(str(key).lower())
            if value is None:
                conditions.append('isnotnull(ltags[%s])' % wanted)
            else:
                conditions.append('ltags[%s] == %s' % (wanted, kql_string(str(value).lower())))
        text += ' | extend ltags = parse_json(tolower(tostring(tags))) | where ' + ' and '.join(conditions)
    if policies:
        text += ' | extend vaultId = tolower(id) | join kind=leftouter (%s) on vaultId' % _policies_by_vault(vault_types, resource_groups)
        return text + ' | project %s, policies | order by id asc' % ', '.join(VAULT_COLUMNS)
    return text + ' | project %s | order by id asc' % ', '.join(VAULT_COLUMNS)


def policies_query(vault_types, resource_groups=None):
    """Backup policies of vaults of the given kinds (optionally in the given resource groups), one row per vault.

    A row per vault (``vaultId``: the lower-cased vault id, ``policies``: its policies' columns) instead of a row per
    policy: a fleet has about two policies per vault, and rows are what Resource Graph pages and its quota counts, so
    20,000 vaults take 20 pages here instead of 40 or more. Paging holds: the ``vaultId`` column is a string (Learn,
    paging-results: only an answer whose columns are all dynamic cannot be paged). Should Resource Graph refuse this
    shape, ``discover()`` asks ``policy_rows_query`` instead (``PolicyRows`` reads both).
    """
    return _policies_by_vault(vault_types, resource_groups) + ' | order by vaultId asc'


def _policies(vault_types, resource_groups=None):
    """The backup policy rows of vaults of the given kinds (optionally in the given resource groups), unshaped."""
    return 'recoveryservicesresources | where type in~ %s' % _in_list(_types(POLICY_TYPES, vault_types)) + _resource_groups(resource_groups)


def _policies_by_vault(vault_types, resource_groups=None):
    packed = ', '.join("'%s', %s" % (column, column) for column in POLICY_COLUMNS)
    return ("%s | extend vaultId = tostring(split(tolower(id), '/backuppolicies/')[0]) "
            "| summarize policies = make_list(pack(%s)) by vaultId" % (_policies(vault_types, resource_groups), packed))


def policy_rows_query(vault_types, resource_groups=None):
    """Backup policies of vaults of the given kinds (optionally in the given resource groups), one row per policy."""
    return '%s | project %s | order by id asc' % (_policies(vault_types, resource_groups), ', '.join(CHILD_COLUMNS))


def items_query(vault_types, resource_groups=None):
    """Recovery Services protected items and Backup vault backup instances (optionally in the given resource groups)."""
    where = 'recoveryservicesresources | where type in~ %s' % _in_list(_types(ITEM_TYPES, vault_types))
    return '%s%s | project %s | order by id asc' % (where, _resource_groups(resource_groups), ', '.join(CHILD_COLUMNS))


def resource_groups_query(resource_groups):
    """Which of the given resource groups (any casing) exist in the request's subscriptions, as Resource Graph sees them."""
    return ("resourcecontainers | where type == 'microsoft.resources/subscriptions/resourcegroups' | where name in~ %s "
            "| project subscriptionId, name | order by subscriptionId asc" % _in_list(resource_groups))


def subscriptions_query():
    """The subscriptions of the request's scope that the principal can read in Resource Graph."""
    return "resourcecontainers | where type == 'microsoft.resources/subscriptions' | project subscriptionId | order by subscriptionId asc"


# ------------------------------------------------------------------------------------------------- the quota
def _seconds(hh_mm_ss):
    try:
        hours, minutes, seconds = str(hh_mm_ss).strip().split(':')
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except (TypeError, ValueError):
        return None


class QuotaPacer:
    """Resource Graph's per-principal quota as its answers report it: waits before a query the quota has no room for.

    ``before()`` is called before each query, ``observe(headers)`` with each answer, ``throttled(headers)`` with a 429,
    ``failed()`` when a query got no answer. Safe for queries sent from several threads at once: the room left is the
    smallest count any answer of the window reported, minus the queries sent since; at the start of a window (nothing
    known) one query goes first and the others wait for its answer, so parallel pages never overrun a window.
    Waits are bounded by ``max_wait``. Without quota headers (no quota reported) nothing waits.
    """

    def __init__(self, clock=time.monotonic, sleep=time.sleep, max_wait=RETRY_AFTER_MAX, probe_wait=30.0):
        self.clock = clock
        self.sleep = sleep
        self.max_wait = float(max_wait)
        self.probe_wait = float(probe_wait)
        self.remaining = None      # queries left in the current window, as last reported (minus those sent since)
        self.reset_at = None       # clock time when the window ends
        self.metered = None        # True once an answer reported the quota, False when answers report none
        self.probing = False       # a query sent while nothing was known is waiting for its answer
        self.waited_s = 0.0        # wall time during which queries were held back for the quota
        self._waiting_until = float('-inf')
        self._cond = threading.Condition()

    def before(self):
        """Wait until the quota has room for one more query; returns the seconds waited for the quota."""
        waited = 0.0
        probe_deadline = None
        with self._cond:
            while True:
                now = self.clock()
                if self.reset_at is not None and now >= self.reset_at:
                    self.remaining, self.reset_at = None, None       # a new window: the quota is whole again
                if self.remaining is None:
                    if not self.probing or self.metered is False:
                        self.probing = self.metered is not False
                        break
                    # Another query is finding out what this window allows: wait for its answer (bounded).
                    probe_deadline = probe_deadline or time.monotonic() + self.probe_wait
                    if time.monotonic() >= probe_deadline:
                        break
                    self._cond.wait(0.02)
                    continue
                if self.remaining > 0:
                    self.remaining -= 1
                    break
                wait = min(self.reset_at - now, self.max_wait) if self.reset_at is not None else 0.0
                if wait <= 0:
                    self.remaining, self.reset_at = None, None
                    continue
                # waited_s is wall time: threads waiting for the same reset count it once.
                self.waited_s += max(0.0, now + wait - max(now, self._waiting_until))
                self._waiting_until = max(self._waiting_until, now + wait)
                self._cond.release()
                try:
                    self.sleep(wait)
                finally:
                    self._cond.acquire()
                waited += wait
                if self.reset_at is not None and self.clock() >= self.reset_at:
                    self.remaining, self.reset_at = None, None
        return waited

    def observe(self, headers):
        remaining = _int(headers, 'x-ms-user-quota-remaining')
        resets = _seconds(_get(headers, 'x-ms-user-quota-resets-after'))
        with self._cond:
            self.probing = False
            if remaining is None or resets is None:
                if self.metered is None:
                    self.metered = False
                self._cond.notify_all()
                return
            self.metered = True
            reset_at = self.clock() + resets
            if self.remaining is None or self.reset_at is None:
                self.remaining, self.reset_at = remaining, reset_at
            else:
                # Answers of one window arrive out of order: the smallest count is the freshest.
                self.remaining = min(self.remaining, remaining)
                self.reset_at = min(self.reset_at, reset_at)
            self._cond.notify_all()

    def waited(self, seconds):
        """A query waited ``seconds`` outside before() (a 429's Retry-After, a retry's back-off): count it as held time."""
        with self._cond:
            now = self.clock()
            self.waited_s += max(0.0, now + seconds - max(now, self._waiting_until))
            self._waiting_until = max(self._waiting_until, now + seconds)

    def failed(self):
        """A query got no answer (a connection error): it tells nothing about the quota."""
        with self._cond:
            self.probing = False
            self._cond.notify_all()

    def throttled(self, headers):
        """A 429: the seconds to wait (Retry-After, else the quota's reset), bounded by ``max_wait``."""
        wait = retry_after_seconds(_get(headers, 'Retry-After'))   # seconds or an HTTP date (RFC 9110)
        if wait is None:
            wait = _seconds(_get(headers, 'x-ms-user-quota-resets-after'))
        wait = min(max(wait if wait is not None else 1.0, 0.0), self.max_wait)
        with self._cond:
            self.remaining = 0
            self.reset_at = self.clock() + wait
            self._cond.notify_all()
        return wait


def _get(headers, name):
    try:
        value = headers.get(name)
        return value if value is not None else headers.get(name.lower())
    except AttributeError:
        return None


def _int(headers, name):
    try:
        return int(str(_get(headers, name)).strip())
    except (TypeError, ValueError):
        return None


def _float(headers, name):
    """A header as a finite number of seconds, or None (absent, not a number, nan, infinite, negative)."""
    try:
        value = float(str(_get(headers, name)).strip())
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


# ------------------------------------------------------------------------------------------------- the client
class ResourceGraph:
    """Queries through the session's ARM pipeline (``AzureSession.arm()``): pages, paces, retries throttled queries.

    ``calls`` counts the requests sent, ``throttled`` the 429s received, ``partial_scope`` is True when a tenant-scope
    answer said it covered only part of the tenant (``x-ms-tenant-subscription-limit-hit``).
    """

    def __init__(self, session, api_version=API_VERSION, pacer=None, page_size=PAGE_SIZE, retries=None, sleep=time.sleep,
                 parallel_pages=PARALLEL_PAGES):
        self.session = session
        self.parallel_pages = int(parallel_pages)
        self.api_version = api_version
        self.pacer = pacer or QuotaPacer()
        self.page_size = int(page_size)
        self.retries = int(session.settings['api_retries'] if retries is None else retries)
        self.sleep = sleep
        self.calls = 0
        self.throttled = 0
        self.partial_scope = False
        # With tolerate_odd_rows, a row that is not an object (resultFormat objectArray was asked for) is left out and
        # kept here ({subscriptions, row}) for the caller to report as an error of its own; without it, the query fails.
        self.tolerate_odd_rows = False
        self.odd_rows = []
        self._lock = threading.Lock()

    def query(self, query, subscriptions=None, allow_partial_scopes=False, on_page=None, key='id'):
        """Every row of a query (all pages). ``subscriptions=None`` is the tenant scope. Raises AzureOperationError.

        With ``on_page``, each page's rows go to ``on_page(rows)`` as it arrives instead (and the number of rows is
        returned): a fleet of 20,000 vaults is then never held as rows and records at once, and the work on a page is
        done while the next pages are on their way.

        The first page says how many rows there are (``totalRecords``) and gives a ``$skipToken``; the other pages are
        then asked for at once, each with that token and its own ``$skip`` (QueryRequestOptions: ``$skip`` "overrides
        the next page offset when ``$skipToken`` is present"), so they come from the same result and a large answer
        costs Resource Graph's quota, not one round trip per page. A page that does not hold the rows it should is an
        error, never a silent gap. ``key`` names the column that is unique per row (a row seen twice is an error).
        """
        rows = []
        ids = set()

        def deliver(data):
            odd = [row for row in data if not isinstance(row, dict)]
            if odd:
                if not self.tolerate_odd_rows:
                    raise AzureOperationError(OPERATION, None, 200, 'UnexpectedAnswer',
                                              'the answer holds rows that are not objects (resultFormat objectArray was asked for)')
                with self._lock:
                    self.odd_rows.extend({'subscriptions': list(subscriptions) if subscriptions is not None else None,
                                          'row': first_line(json.dumps(row, default=str))[:200]} for row in odd)
                data = [row for row in data if isinstance(row, dict)]
            # A row seen twice (a repeated page, a token that starts over) is an answer that does not add up.
            for row in data:
                unique = str(row.get(key) or '').lower()
                if unique:
                    if unique in ids:
                        raise AzureOperationError(OPERATION, None, 200, 'DuplicateRows',
                                                  'Resource Graph answered the row %s twice in one query: the pages do not make '
                                                  'one answer' % first_line(row.get(key))[:200])
                    ids.add(unique)
            if on_page is None:
                rows.extend(data)
            else:
                on_page(data)

        answer = self._post(self._body(query, subscriptions, allow_partial_scopes))
        data, token, total = self._page(answer, 0)
        count = len(data)
        limit = self._page_limit(total, len(data))
        deliver(data)
        del answer
        if token and data and isinstance(total, int) and total > count and self.parallel_pages > 1:
            count += self._rest_in_parallel(query, subscriptions, allow_partial_scopes, token, len(data), total, deliver)
            token = None
        pages, tokens = 1, set()
        while token:
            if token in tokens:
                raise AzureOperationError(OPERATION, None, 200, 'PagingLoop',
                                          'Resource Graph gave a $skipToken it had given before: the query was stopped there')
            tokens.add(token)
            pages += 1
            if pages > limit:
                raise AzureOperationError(OPERATION, None, 200, 'TooManyPages',
                                          'Resource Graph kept answering with more pages (%d, %d rows) than the answer '
                                          'announced (%s rows): the query was stopped there' % (pages - 1, count, total))
            answer = self._post(self._body(query, subscriptions, allow_partial_scopes, token=token))
            data, token, _total = self._page(answer, count)
            count += len(data)
            deliver(data)
            del answer, data
        if isinstance(total, int) and count != total:
            # Rows that moved between pages (a vault removed while the query was paged) leave a gap no page shows.
            raise AzureOperationError(OPERATION, None, 200, 'MissingRows',
                                      'Resource Graph announced %d rows (totalRecords) and its pages held %d: rows moved '
                                      'between pages' % (total, count))
        return rows if on_page is None else count

    def _page_limit(self, total, first):
        """The most pages a query whose first answer announced ``total`` rows (in pages of ``first`` rows) may take."""
        if not isinstance(total, int) or total < 0:
            return MAX_PAGES
        size = max(1, min(first or self.page_size, self.page_size))
        return min(MAX_PAGES, int(math.ceil(total / float(size))) + PAGE_SLACK)

    def _body(self, query, subscriptions, allow_partial_scopes, token=None, skip=None):
        options = {'$top': self.page_size, 'resultFormat': 'objectArray'}
        body = {'query': query, 'options': options}
        if subscriptions is None:
            options['allowPartialScopes'] = bool(allow_partial_scopes)
        else:
            body['subscriptions'] = list(subscriptions)
        if token:
            options['$skipToken'] = token
        if skip is not None:
            options['$skip'] = skip
        return body

    @staticmethod
    def _page(answer, before):
        """(rows, skip token, totalRecords) of one answer; raises when the answer was cut short without a way on."""
        if not isinstance(answer, dict):
            raise AzureOperationError(OPERATION, None, 200, 'UnexpectedAnswer', 'the answer is not a JSON object')
        data = answer.get('data')
        if not isinstance(data, list):
            raise AzureOperationError(OPERATION, None, 200, 'UnexpectedAnswer', 'the answer holds no list of rows (data)')
        token = answer.get('$skipToken')
        if not token and str(answer.get('resultTruncated')).lower() == 'true':
            raise AzureOperationError(OPERATION, None, 200, 'ResultTruncated',
                                      'Resource Graph truncated the answer (%s of %s rows) and gave no $skipToken'
                                      % (before + len(data), answer.get('totalRecords')))
        total = answer.get('totalRecords')
        return data, token, (total if isinstance(total, int) and not isinstance(total, bool) else None)

    def _rest_in_parallel(self, query, subscriptions, allow_partial_scopes, token, size, total, deliver):
        """Pages 2.. of an answer of ``total`` rows in pages of ``size``, sent at once (the quota paces them), handed
        over in order as they arrive; returns the rows delivered."""
        offsets = list(range(size, total, size))
        if len(offsets) + 1 > self._page_limit(total, size) or total > MAX_PAGES * self.page_size:
            raise AzureOperationError(OPERATION, None, 200, 'TooManyPages',
                                      'Resource Graph announced %d rows in pages of %d: more than one query may take (%d pages)'
                                      % (total, size, MAX_PAGES))
        ahead = min(self.parallel_pages, len(offsets))
        pool = ThreadPoolExecutor(max_workers=ahead)
        delivered = 0

        def submit(index):
            body = self._body(query, subscriptions, allow_partial_scopes, token=token, skip=offsets[index])
            return pool.submit(self._post, body)

        try:
            # No more than `ahead` pages are asked for and not yet handed over: pages that arrive faster than they are
            # turned into records never pile up in memory.
            futures = [submit(index) for index in range(ahead)]
            for index, offset in enumerate(offsets):
                answer = futures[index].result()
                futures[index] = None
                if index + ahead < len(offsets):
                    futures.append(submit(index + ahead))
                data, _token, page_total = self._page(answer, offset)
                expected = min(size, total - offset)
                if len(data) != expected or (page_total is not None and page_total != total):
                    raise AzureOperationError(OPERATION, None, 200, 'InconsistentPages',
                                              'Resource Graph answered rows %d-%d of %d with %d rows of %s: the pages do not '
                                              'make one answer' % (offset + 1, offset + expected, total, len(data), page_total))
                delivered += len(data)
                deliver(data)
                del answer, data
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return delivered

    def _post(self, body):
        rest = _import_rest()
        url = self.session.cloud.resource_manager.rstrip('/') + GRAPH_PATH
        settings = self.session.settings
        kwargs = {'connection_timeout': min(30, settings['api_timeout']), 'read_timeout': settings['api_timeout'],
                  # This loop retries (it knows Resource Graph's quota); the pipeline must not retry as well.
                  'retry_total': 0}
        if not self.session.verify:
            kwargs['connection_verify'] = False
        attempt = 0
        while True:
            self.pacer.before()
            request = rest.HttpRequest('POST', url, params={'api-version': self.api_version}, json=body)
            try:
                response = self.session.arm().send_request(request, **kwargs)
            except azure_errors() as exc:
                self.pacer.failed()
                error = from_exception(exc, OPERATION)
                explain = getattr(self.session, 'explain', None)
                if explain is not None:
                    error = explain(error)   # an HTTP 401: which credential's token Azure refused
                if attempt < self.retries and error.status is None:
                    attempt += 1
                    self._wait(self._backoff(attempt))
                    continue
                raise error
            with self._lock:
                self.calls += 1
            self.pacer.observe(response.headers)
            status = response.status_code
            if status == 429 and attempt < self.retries:
                with self._lock:
                    self.throttled += 1
                attempt += 1
                self._wait(self.pacer.throttled(response.headers))
                continue
            if status in (500, 502, 503, 504) and attempt < self.retries:
                attempt += 1
                self._wait(self._backoff(attempt))
                continue
            if status == 429:
                with self._lock:
                    self.throttled += 1
            if status != 200:
                raise graph_error(response)
            if str(_get(response.headers, 'x-ms-tenant-subscription-limit-hit')).lower() == 'true':
                self.partial_scope = True
            try:
                return response.json()
            except ValueError:
                raise AzureOperationError(OPERATION, None, status, 'UnexpectedAnswer', 'the answer is not JSON')

    def _wait(self, seconds):
        self.pacer.waited(seconds)
        self.sleep(seconds)

    def _backoff(self, attempt):
        settings = self.session.settings
        return min(float(settings['api_retry_backoff']) * (2 ** (attempt - 1)), float(settings['api_retry_backoff_max']))


def _import_rest():
    # Lazy: azure-core loads with the first query, never when only the query text or rows are handled.
    return import_package('azure.core.rest', 'azure-core')


def graph_error(response):
    """An AzureOperationError from a Resource Graph error answer, naming the detail that says what was wrong.

    Resource Graph's top-level message only asks to quote a timestamp and correlation id; the ``details`` carry the
    reason (``NoValidSubscriptionsInQueryRequest``, ``InvalidQuery`` + ``ParserFailure``, ``RateLimiting``, ...).
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get('error') if isinstance(body, dict) and isinstance(body.get('error'), dict) else {}
    details = [d for d in error.get('details') or [] if isinstance(d, dict)]
    specific = [d for d in details if d.get('code') != 'InvalidQuery'] or details
    code = (specific[0].get('code') if specific else None) or error.get('code') or 'HttpError'
    parts = []
    for detail in details:
        text = str(detail.get('message') or detail.get('code'))
        if detail.get('token') not in (None, ''):
            text += ' (token %r, line %s, position %s)' % (detail['token'], detail.get('line'), detail.get('characterPositionInLine'))
        parts.append(text)
    fallback = error.get('message') or getattr(response, 'text', lambda: '')() or 'HTTP %s' % response.status_code
    message = '; '.join(parts) or first_line(fallback)
    request_id = _get(response.headers, 'x-ms-request-id')
    hint = None
    if response.status_code == 429:
        hint = 'Resource Graph throttled the query and it still failed after the configured retries (api_retries).'
    return AzureOperationError(OPERATION, None, response.status_code, code, message, request_id, hint)


# ------------------------------------------------------------------------------------------------- rows -> records
def _batches(subscriptions):
    subs = list(subscriptions)
    return [subs[i:i + MAX_SUBSCRIPTIONS] for i in range(0, len(subs), MAX_SUBSCRIPTIONS)]


def _kind_of(row, mapping):
    rtype = str(row.get('type') or '').lower()
    for kind, value in mapping.items():
        if value == rtype:
            return kind
    return None


def vault_records(rows):
    """Vault records (``_vaults.vault_record``) of ``resources`` rows, unique and sorted by lower-cased id."""
    found = {}
    for row in rows:
        kind = _kind_of(row, VAULT_RESOURCE_TYPES)
        if kind is not None and row.get('id'):
            found.setdefault(str(row['id']).lower(), vault_record(row, kind))
    return [found[key] for key in sorted(found)]


def in_scope(rows, subscriptions, dropped):
    """The vault rows that belong to the subscriptions asked for and whose name is their id's: a row that does not is
    never planned or changed (a lagging or hostile index must not widen the scope nor slip past a name exclusion), and
    goes to ``dropped`` as ``{id, reason}``."""
    wanted = set(str(sub).lower() for sub in subscriptions)
    kept = []
    for row in rows:
        rid = str(row.get('id') or '')
        parts = rid.strip('/').split('/')
        sub = parts[1].lower() if len(parts) > 1 and parts[0].lower() == 'subscriptions' else None
        if sub not in wanted or str(row.get('subscriptionId') or '').lower() != sub:
            why = 'its subscription (%s) is not one that was asked for' % first_line(row.get('subscriptionId') or sub)[:60]
            dropped.append({'id': first_line(rid)[:300], 'reason': why})
        elif str(row.get('name') or '').lower() != parts[-1].lower():
            why = 'its name (%s) is not the name in its id' % first_line(row.get('name'))[:60]
            dropped.append({'id': first_line(rid)[:300], 'reason': why})
        else:
            kept.append(row)
    return kept


def read_vault_rows(rows):
    """(vault records, vault errors) of ``resources`` rows, as ``_fleet.read_records`` makes them from ARM bodies: a row
    the collection cannot read becomes an error of its own (``code: UnreadableVault``, with ``vault``) and hides no other.
    Records are unique and sorted by lower-cased id."""
    unique = {}
    for row in rows:
        kind = _kind_of(row, VAULT_RESOURCE_TYPES)
        if kind is not None and row.get('id'):
            unique.setdefault(str(row['id']).lower(), (row, kind))
    records, errors = [], []
    for key in sorted(unique):
        row, kind = unique[key]
        found, unreadable = _fleet.read_records([row], kind)
        records.extend(found)
        errors.extend(unreadable)
    return records, errors


def _parent(child_id, marker):
    text = str(child_id or '')
    at = text.lower().find(marker)
    return text[:at].lower() if at > 0 else None


class _RowsByVault:
    """Rows of ``recoveryservicesresources``, page by page, grouped by the vault record they belong to: ``add(rows)``
    for each page, then ``finish()`` sets each record's ``field``, sorted by the lower-cased value of ``sort_by``."""

    field = None
    sort_by = 'id'

    def __init__(self, records):
        self.by_vault = {str(r['id']).lower(): r for r in records}
        self.grouped = {key: [] for key in self.by_vault}

    def finish(self):
        for key, record in self.by_vault.items():
            record[self.field] = sorted(self.grouped[key], key=lambda entry: str(entry.get(self.sort_by)).lower())


class PolicyRows(_RowsByVault):
    """Policies into vault records: ``finish()`` sets each record's ``policies`` (``_retention.normalise_policy``
    records, sorted by name).

    A policy's ``id`` is rebuilt from its vault record's id (Resource Graph lower-cases Recovery Services policy ids);
    ``vault`` is the vault record's id, as ``_fleet.attach_policies`` sets it.
    """

    field = 'policies'
    sort_by = 'name'

    def add(self, rows):
        """Rows of ``policies_query`` (a vault's policies in ``policies``) or of ``policy_rows_query`` (a policy each)."""
        for row in rows:
            if 'policies' in row and 'vaultId' in row:
                packed = row['policies'] if isinstance(row['policies'], list) else []
                self._add([policy for policy in packed if isinstance(policy, dict)])
            else:
                self._add([row])

    def _add(self, rows):
        for row in rows:
            kind = _kind_of(row, POLICY_TYPES)
            parent = _parent(row.get('id'), '/backuppolicies/')
            record = self.by_vault.get(parent)
            if kind is None or record is None or record['vault_type'] != kind:
                continue
            resource = dict(row, id='%s/backupPolicies/%s' % (record['id'], row.get('name')))
            policy = normalise_policy(resource, kind)
            policy['vault'] = record['id']
            self.grouped[parent].append(policy)


class ItemRows(_RowsByVault):
    """Protected items and backup instances into vault records: ``finish()`` sets ``protected_items``
    (``_items.item_record`` records, by id)."""

    field = 'protected_items'

    def add(self, rows):
        for row in rows:
            kind = _kind_of(row, ITEM_TYPES)
            parent = str(vault_id_of_item(row.get('id'), kind) or '').lower() if kind else None
            record = self.by_vault.get(parent)
            if record is None or record['vault_type'] != kind:
                continue
            try:
                self.grouped[parent].append(item_record(row, kind, record['id']))
            except UnreadableResourceError:
                # A row that is not an item this collection can read: that vault's items are not read (its lock
                # readiness is blocked as unreadable), the other vaults' are.
                record['protected_items_error'] = True


def attach_policy_rows(records, rows):
    """Add ``policies`` (``_retention.normalise_policy`` records, sorted by name) to each vault record (PolicyRows)."""
    attacher = PolicyRows(records)
    attacher.add(rows)
    attacher.finish()


def attach_item_rows(records, rows):
    """Add ``protected_items`` (``_items.item_record`` records, sorted by id) to each vault record (ItemRows)."""
    attacher = ItemRows(records)
    attacher.add(rows)
    attacher.finish()


def visible_subscriptions(graph, subscriptions):
    """The subscriptions (of those given) that Resource Graph lets the principal read, in the order given."""
    wanted = list(subscriptions)
    seen = set()
    for batch in _batches(wanted):
        try:
            rows = graph.query(subscriptions_query(), batch)
        except AzureOperationError as exc:
            if exc.code == 'NoValidSubscriptionsInQueryRequest':
                continue  # none of this batch is visible
            raise
        seen.update(str(r.get('subscriptionId')).lower() for r in rows)
    return [s for s in wanted if s.lower() in seen]


RESOURCE_GROUP_NOT_FOUND = ('Resource Graph has no resource group of this name in the subscription (it does not exist, or the '
                            'identity cannot read it)')


def missing_resource_groups(graph, subscriptions, resource_groups):
    """Errors (as ``_fleet.list_vaults`` reports a resource group it cannot list) for each wanted resource group that
    Resource Graph does not have in a subscription: a misspelt name is said, never taken for an empty group."""
    wanted = [str(g) for g in resource_groups or () if str(g)]
    if not wanted or not subscriptions:
        return []
    found = set()
    for batch in _batches(subscriptions):
        for row in graph.query(resource_groups_query(wanted), batch):
            found.add((str(row.get('subscriptionId')).lower(), str(row.get('name')).lower()))
    errors = []
    for sub in subscriptions:
        for group in wanted:
            if (sub.lower(), group.lower()) not in found:
                errors.append({'scope': "resource group '%s' in subscription %s" % (group, sub), 'operation': OPERATION, 'status': None,
                               'code': 'ResourceGroupNotFound', 'message': RESOURCE_GROUP_NOT_FOUND})
    return errors


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def discover(session, subscriptions, vault_types, resource_groups=None, tags=None, policies=True, items=False,
             fallback='arm', graph=None, max_concurrency=MAX_CONCURRENCY):
    """Read the fleet through Resource Graph; subscriptions it cannot see (or a failed query) are read from ARM.

    ``subscriptions``: explicit ids (resolve ``all`` first with ``_fleet.resolve_subscriptions``). ``fallback``:
    ``'arm'`` reads what Resource Graph could not from ARM (``_fleet.list_vaults``, ``attach_policies``,
    ``_items.attach_items``) through the session, whose pipelines pace ARM reads per subscription (``session.pacer``)
    so those reads do not provoke 429s; ``None`` reports it in ``errors`` instead.

    Returns ``{vaults, errors, sources, fallbacks, read_at, resource_graph}``: ``vaults`` sorted by lower-cased id, each
    with ``policies`` (when asked) and ``protected_items`` (when asked); ``sources`` maps each subscription to
    ``resource_graph`` or ``arm``; ``fallbacks`` lists ``{subscription_id, reason}``; ``read_at`` is when Resource Graph
    was asked (UTC); ``resource_graph`` counts ``calls``, ``throttled`` (429 answers) and ``waited_s``, and says
    ``partial_scope``. Policies are sorted by name whichever source they came from.
    """
    subs = []
    for sub in subscriptions:
        sub = str(sub).strip()
        if not _GUID.match(sub):
            raise InputError("subscription id '%s' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)" % sub)
        if sub.lower() not in [s.lower() for s in subs]:
            subs.append(sub)
    kinds = list(vault_types)
    _types(VAULT_RESOURCE_TYPES, kinds)
    graph = graph or ResourceGraph(session)
    # Without a fallback to ARM, one odd row must not fail the whole read: it becomes an error of its own (below). With
    # one, an answer with odd rows fails the query and ARM reads those subscriptions instead, completely.
    graph.tolerate_odd_rows = fallback != 'arm'
    read_at = _now_iso()
    result = {'vaults': [], 'errors': [], 'sources': {}, 'fallbacks': [], 'read_at': read_at, 'resource_graph': {}, 'dropped': [],
              'requeried': []}
    records, arm_subs, moved = [], [], {}
    # The policies come in the vault rows (one query) unless Resource Graph refuses that query: then they are asked for
    # on their own, for this batch and the next ones.
    joined, joined_subs = bool(policies), set()
    try:
        found, unreadable, with_rows, seen = [], [], set(), set()
        for batch in _batches(subs):
            try:
                pages, joined = _vault_pages(graph, (kinds, resource_groups, tags), batch, subs, result, joined)
            except AzureOperationError as exc:
                if exc.code != 'NoValidSubscriptionsInQueryRequest':
                    raise
                continue
            if pages is None:
                moved.update((sub.lower(), 'vaults') for sub in batch)
                continue
            if joined:
                joined_subs.update(sub.lower() for sub in batch)
            result['dropped'].extend(pages.dropped)
            with_rows.update(pages.with_rows)
            for record in pages.found:
                key = str(record['id']).lower()
                if key not in seen:
                    seen.add(key)
                    found.append(record)
            unreadable.extend(pages.unreadable)
        records = [r for r in found if _fleet.tags_match(r, tags)]
        result['errors'].extend(unreadable)   # as the ARM path: whatever the tag filter, an unreadable vault is said
        # A subscription without vault rows is empty, or invisible to Resource Graph: only then ask which.
        unknown = [s for s in subs if s.lower() not in with_rows and s.lower() not in moved]
        visible = set(s.lower() for s in visible_subscriptions(graph, unknown)) if unknown else set()
        for sub in subs:
            if sub.lower() in moved:
                continue
            if sub.lower() in with_rows or sub.lower() in visible:
                result['sources'][sub] = 'resource_graph'
            else:
                arm_subs.append(sub)
                result['fallbacks'].append({'subscription_id': sub, 'reason': NOT_VISIBLE})
        graph_subs = [s for s in subs if s.lower() in with_rows]
        if resource_groups:
            result['errors'].extend(missing_resource_groups(graph, [s for s in subs if result['sources'].get(s) == 'resource_graph'],
                                                            resource_groups))
        # The policies of the subscriptions whose vault rows did not bring them, and the items: a query each.
        for wanted, settle, attacher, done in ((policies, _policies_settled, PolicyRows, joined_subs),
                                               (items, _items_settled, ItemRows, ())):
            if not (records and wanted):
                continue
            for batch in _batches([s for s in graph_subs if s.lower() not in moved and s.lower() not in done]):
                in_batch = set(sub.lower() for sub in batch)
                batch_records = [r for r in records if str(r.get('subscription_id')).lower() in in_batch]
                rows = settle(graph, kinds, resource_groups, batch, functools.partial(attacher, batch_records), result)
                if rows is None:
                    moved.update((sub.lower(), attacher.field) for sub in batch)
                else:
                    rows.finish()
        if moved:
            # Still moving after a second query: those subscriptions are read from ARM (or are errors), as a whole.
            records = [r for r in records if str(r.get('subscription_id')).lower() not in moved]
            # ARM reads those subscriptions again, unreadable vaults included: their Resource Graph errors go.
            result['errors'] = [e for e in result['errors'] if _subscription_of(e.get('vault')) not in moved]
            for sub in subs:
                if sub.lower() in moved:
                    result['sources'].pop(sub, None)
                    arm_subs.append(sub)
                    result['fallbacks'].append({'subscription_id': sub, 'reason': MOVED % moved[sub.lower()]})
    except AzureOperationError as exc:
        if fallback != 'arm':
            raise
        # Resource Graph failed: every subscription is read from ARM, and the result says why.
        records, arm_subs = [], list(subs)
        result['sources'] = {}
        result['fallbacks'] = [{'subscription_id': s, 'reason': 'Resource Graph failed: %s' % exc} for s in subs]
    if arm_subs:
        if fallback == 'arm':
            records.extend(_from_arm(session, arm_subs, kinds, resource_groups, tags, policies, items, result, max_concurrency))
            for sub in arm_subs:
                result['sources'][sub] = 'arm'
        else:
            for entry in result['fallbacks']:
                code = 'NotVisibleInResourceGraph' if entry['reason'] == NOT_VISIBLE else 'ResourceGraphIndexMoving'
                result['errors'].append({'scope': 'subscription %s' % entry['subscription_id'], 'operation': OPERATION,
                                         'status': None, 'code': code, 'message': entry['reason']})
            result['fallbacks'] = []
    for odd in getattr(graph, 'odd_rows', ()):     # a graph of the caller's (tests) may keep none
        scope = 'subscriptions %s' % ', '.join(odd['subscriptions']) if odd['subscriptions'] else 'the tenant'
        result['errors'].append({'scope': 'Resource Graph answer for %s' % scope, 'operation': OPERATION, 'status': 200,
                                 'code': 'UnreadableRow',
                                 'message': 'Resource Graph answered a row that is not an object (%s); it was left out, so a vault '
                                            'or policy of these subscriptions may be missing; every other row was read' % odd['row']})
    unique = {}
    for record in records:
        unique.setdefault(str(record['id']).lower(), record)
    result['vaults'] = [unique[key] for key in sorted(unique)]
    result['resource_graph'] = {'calls': graph.calls, 'throttled': graph.throttled, 'waited_s': round(graph.pacer.waited_s, 3),
                                'partial_scope': graph.partial_scope, 'requeried': result.pop('requeried')}
    return result


def _subscription_of(arm_id):
    """The lower-cased subscription id of an ARM id, or None."""
    parts = str(arm_id or '').strip('/').split('/')
    return parts[1].lower() if len(parts) > 1 and parts[0].lower() == 'subscriptions' else None


def _vault_pages(graph, shape, batch, subs, result, joined):
    """(the vault rows of a batch of subscriptions (``_settled``), whether they hold the vaults' policies).

    ``shape``: (vault kinds, resource groups, tags). With ``joined`` the query brings each vault's policies along
    (``vaults_query(policies=True)``); should Resource Graph refuse that query's text (a 400 naming the query), the plain
    vault query is asked instead, ``result['requeried']`` says so, and the policies are asked for on their own."""
    kinds, resource_groups, tags = shape
    if joined:
        start = functools.partial(_VaultPages, subs, with_policies=True)
        try:
            return _settled(graph, vaults_query(kinds, resource_groups, tags, policies=True), batch, start, 'vaults', result), True
        except AzureOperationError as exc:
            _refused(exc, result, 'vaults', batch, 'asked again without the policies (asked for on their own)')
    return _settled(graph, vaults_query(kinds, resource_groups, tags), batch, functools.partial(_VaultPages, subs), 'vaults', result), False


class _VaultPages:
    """The vault rows of one query, page by page (``add``): records, unreadable rows, dropped rows, the subscriptions
    with rows. ``with_policies``: the rows bring their vault's policies along (``vaults_query(policies=True)``), and each
    page's records get ``policies`` as the page is read (none for a row without any, null or absent), so that a page's
    raw policies are freed with it. One per attempt, so a query asked again starts from nothing."""

    def __init__(self, subs, with_policies=False):
        self.subs = subs
        self.with_policies = with_policies
        self.found, self.unreadable, self.dropped, self.with_rows = [], [], [], set()

    def add(self, rows):
        rows = in_scope(rows, self.subs, self.dropped)
        # As policies_query's rows (PolicyRows reads them), taken out of the vault rows before they become records.
        policies = [{'vaultId': str(row.get('id')).lower(), 'policies': row.pop('policies', None)} for row in rows] if self.with_policies else []
        self.with_rows.update(str(r.get('subscriptionId')).lower() for r in rows)
        page_records, page_errors = read_vault_rows(rows)
        if self.with_policies:
            attacher = PolicyRows(page_records)
            attacher.add(policies)
            attacher.finish()
        self.found.extend(page_records)
        self.unreadable.extend(page_errors)


def _settled(graph, query, batch, start, what, result, key='id'):
    """One query over a batch of subscriptions, into a fresh ``start()`` accumulator (``add(rows)`` per page).

    When its pages do not make one answer (MOVING_INDEX_CODES: Resource Graph's live index changed while it was paged),
    the query is asked once more from its first page, and ``result['requeried']`` says so. Returns the accumulator, or
    None when the second answer did not add up either (the caller reads those subscriptions from ARM).
    """
    for attempt in (1, 2):
        pages = start()
        try:
            graph.query(query, batch, on_page=pages.add, key=key)
        except AzureOperationError as exc:
            if exc.code not in MOVING_INDEX_CODES:
                raise
            result['requeried'].append({'query': what, 'subscriptions': len(batch), 'attempt': attempt, 'code': exc.code,
                                        'reason': exc.azure_message, 'outcome': 'asked again' if attempt == 1 else 'not settled'})
            continue
        return pages
    return None


def _refused(exc, result, what, batch, outcome):
    """``exc`` refused a query's text (QUERY_REFUSED, a 400): ``result['requeried']`` says what is asked instead; any
    other error is raised again."""
    if exc.status != 400 or exc.code not in QUERY_REFUSED:
        raise exc
    result['requeried'].append({'query': what, 'subscriptions': len(batch), 'attempt': 1, 'code': exc.code,
                                'reason': exc.azure_message, 'outcome': outcome})


def _policies_settled(graph, kinds, resource_groups, batch, start, result):
    """The policies of a batch of subscriptions: one row per vault (policies_query), or, should Resource Graph refuse
    that query's text (a 400 naming the query), one row per policy (policy_rows_query), and ``result['requeried']`` says
    so. Learn shows Resource Graph serving ``summarize`` with ``make_list`` after a ``join kind=leftouter`` (MicrosoftDocs/
    azure-docs articles/governance/resource-graph/samples/advanced.md at 8f49fa308987, "List all extensions installed on a
    virtual machine"; concepts/query-language.md at df9ae8bdfd0e: ``leftouter`` among the join flavours, and
    RecoveryServicesResources a table other tables may join to, as vaults_query does). That it serves ``pack`` inside
    ``make_list`` is assumed (Learn names a subset of KQL's scalar functions, not which): the fallback is there so that a
    refused shape costs queries, never the read."""
    try:
        return _settled(graph, policies_query(kinds, resource_groups), batch, start, PolicyRows.field, result, key='vaultId')
    except AzureOperationError as exc:
        _refused(exc, result, PolicyRows.field, batch, 'asked again one row per policy')
    return _settled(graph, policy_rows_query(kinds, resource_groups), batch, start, PolicyRows.field, result)


def _items_settled(graph, kinds, resource_groups, batch, start, result):
    """The protected items and backup instances of a batch of subscriptions (items_query)."""
    return _settled(graph, items_query(kinds, resource_groups), batch, start, ItemRows.field, result)


def _from_arm(session, subs, kinds, resource_groups, tags, policies, items, result, max_concurrency):
    try:
        records, errors = _fleet.list_vaults(session, subs, kinds, resource_groups, max_concurrency=max_concurrency)
    except AzureOperationError as exc:
        result['errors'].append(_fleet.scope_error('subscriptions %s' % ', '.join(subs), exc))
        return []
    result['errors'].extend(errors)
    records = [r for r in records if _fleet.tags_match(r, tags)]
    if policies:
        result['errors'].extend(_fleet.attach_policies(session, records, max_concurrency=max_concurrency))
    if items:
        result['errors'].extend(attach_items(session, records, max_concurrency=max_concurrency))
    return records
