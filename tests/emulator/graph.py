# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Resource Graph: ``POST /providers/Microsoft.ResourceGraph/resources`` over the emulator's fleet.

Request (spec QueryRequest, and the recorded request of az CLI's dataprotection extension):
``{"subscriptions": [...], "query": "...", "options": {"$top", "$skip", "$skipToken", "resultFormat",
"allowPartialScopes"}}``. Answer (spec QueryResponse, recorded): ``{"totalRecords", "count", "data", "facets",
"resultTruncated", "$skipToken"?}``. Three tables: ``resources`` (both vault kinds), ``recoveryservicesresources``
(backup policies of both kinds, Recovery Services protected items, Backup vault backup instances) and
``resourcecontainers`` (subscriptions and resource groups). Queries are read by ``kql.py``; see tests/emulator/README.md
for the served shapes and the source of every answer.
"""
from __future__ import annotations

import base64
import collections
import copy
import datetime
import hashlib
import json
import re
import threading
import uuid

from . import items as item_bodies
from . import access, kql, lro, versions
from .errors import ArmError
from .store import rs_vault_body
from .throttle import VirtualClock, to_ns

# Stable versions of the resources query (azure-rest-api-specs specification/resourcegraph/resource-manager/
# Microsoft.ResourceGraph/stable/2021-03-01, 2022-10-01 and 2024-04-01/resourcegraph.json @af408c4a98d8).
ARG_VERSIONS = ("2021-03-01", "2022-10-01", "2024-04-01")
MAX_TOP = 1000            # spec: QueryRequestOptions.$top maximum; Learn: 1000 records a page
DEFAULT_TOP = 1000        # Learn (work-with-data): "By default, Resource Graph limits any query to returning only 1000 records"
TENANT_SUBSCRIPTION_LIMIT = 18000   # live answer quoted in Azure/cosmos-explorer#1986 ("allowed limit 18000")
SNAPSHOTS = 32            # results kept for $skipToken continuations

RS_POLICY_TYPE = "microsoft.recoveryservices/vaults/backuppolicies"
# Setting graph_live (tests/emulator/README.md, "Resource Graph"): Resource Graph's index is live, so a vault added,
# removed or reordered while a query is being paged moves rows between its pages. Learn (resource-graph, concepts,
# paging-results, "Paging limitations") describes duplicate or missing records across pages; how Azure's $skipToken
# behaves when resources change between page calls is **assumed** here: the later pages are cut from the index as it is
# when they are asked for.
LIVE_MODES = ("add", "remove", "reorder")
LIVE_PREFIX = "aaa-live-"
# Setting graph_lag_s: Resource Graph is eventually consistent. Learn ("What is Azure Resource Graph?", "How Resource Graph
# is kept current"): when a resource changes, Azure Resource Manager notifies Resource Graph, which then updates its
# database (and also runs regular full scans); Learn's Resource Graph pages say changes show "within seconds to minutes".
# The live service's guarantee is quoted in Azure/azure-dev#540: 95 % of changes in Resource Graph within 30 s, no upper
# bound. The emulator answers every query from the index as ARM was ``graph_lag_s`` seconds earlier (by the emulator's
# clock): a vault, its policies and items as they were then, and a provisioningState Updating/Provisioning of a write that
# was running then (ARM's own view, Arm.vault_view). The default is small so tests stay fast; a test of the lag sets a
# larger one and moves the clock. One fixed lag for every change (no spread, no change ever later than the lag) is
# **assumed**. Deleting a vault through ARM removes its rows at once (not modelled: the collection deletes nothing).
DEFAULT_LAG_S = 0.2
_VAULT_PATH = re.compile(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/(Microsoft\.RecoveryServices/vaults|"
                         r"Microsoft\.DataProtection/backupVaults)/([^/]+)", re.IGNORECASE)
INVALID_QUERY = {"code": "InvalidQuery", "message": "Query is invalid. Please refer to the documentation for the Azure Resource "
                                                    "Graph service and fix the error before retrying."}


def support_message() -> str:
    """The top-level message of every Resource Graph error (recorded in several public issues)."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    return "Please provide below info when asking for support: timestamp = %s, correlationId = %s." % (stamp, uuid.uuid4())


class RawJson(bytes):
    """A JSON answer already serialised (pages of thousands of rows are written once, not copied first)."""


class GraphError(ArmError):
    """An error in Resource Graph's shape: ``{"error": {"code", "message", "details": [...]}}``."""

    def __init__(self, status: int, code: str, details: list, headers: dict | None = None):
        super().__init__(status, code, support_message(), details=details, headers=headers)

    def body(self, activity_id: str = "") -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def bad_request(code: str, message: str) -> GraphError:
    return GraphError(400, "BadRequest", [{"code": code, "message": message}])


def throttled(message: str, headers: dict) -> GraphError:
    """429 as Resource Graph answers it (Azure/azure-cli-extensions#3325)."""
    return GraphError(429, "RateLimiting", [{"code": "RateLimiting", "message": message}], headers=headers)


def _row(sub, rg_name, tenant, rid, name, rtype, props, location="", tags=None, sku=None, identity=None) -> dict:
    return {"id": rid, "name": name, "type": rtype.lower(), "tenantId": tenant, "kind": "", "location": location,
            "resourceGroup": rg_name, "subscriptionId": sub["id"], "managedBy": "", "sku": sku, "plan": None,
            "properties": props, "tags": tags if tags is not None else {}, "identity": identity, "zones": None,
            "extendedLocation": None}


def table_rows(store, table: str, subs: list, view=None, settings=None) -> list:
    """Shallow rows of a table over the given subscription entries (the caller holds the store lock). ``view(kind,
    vault)``: the vault record as the index holds it (Graph.indexed: a record of graph_lag_s ago, or None when the index
    does not hold the vault yet); without it, the store's. ``settings``: the emulator's (a resource group whose read access
    was revoked is left out, access.py)."""
    tenant = store.tenant_id
    rows = []
    for sub in subs:
        if table == "resourcecontainers":
            rows.append(_row(sub, "", tenant, "/subscriptions/" + sub["id"], sub["display_name"], "microsoft.resources/subscriptions",
                             {"state": "Enabled"}))
        for rg_entry in sub["rgs"].values():
            rg = rg_entry["name"]
            if settings is not None and not access.readable(settings, sub["id"], rg):
                continue
            if table == "resourcecontainers":
                rows.append(_row(sub, rg, tenant, "/subscriptions/%s/resourceGroups/%s" % (sub["id"], rg), rg,
                                 "microsoft.resources/subscriptions/resourcegroups", {"provisioningState": "Succeeded"},
                                 rg_entry.get("location") or "", rg_entry.get("tags") or {}))
                continue
            for kind in ("rs", "dp"):
                for vault in rg_entry[kind].values():
                    if view is not None:
                        vault = view(kind, vault)
                        if vault is None:
                            continue
                    body = vault["body"]
                    if table == "resources":
                        rows.append(_row(sub, rg, tenant, body["id"], body["name"], body["type"], body.get("properties"),
                                         body.get("location") or "", body.get("tags") or {}, body.get("sku"), body.get("identity")))
                        continue
                    for policy in vault["policies"].values():
                        # Learn's backup samples split RS policy ids on the lower-cased provider path: the table keeps
                        # those ids lower-cased (Backup vault policy ids keep ARM's casing).
                        pid = policy["id"].lower() if kind == "rs" else policy["id"]
                        rows.append(_row(sub, rg, tenant, pid, policy["name"], policy["type"], policy.get("properties")))
                    for item in (vault.get("items") or {}).values():
                        props = item_bodies.rs_graph_properties(item) if kind == "rs" else item.get("properties")
                        rows.append(_row(sub, rg, tenant, item["id"], item["name"], item["type"], props, body.get("location") or ""))
    return rows


def _b64(doc) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode().rstrip("=")


def _unb64(text: str):
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())


class Graph:
    """Resource Graph over a Store. ``handle()`` is transport-free, like ``Arm.handle()``."""

    def __init__(self, store, settings: dict, clock=None):
        self.store = store
        self.settings = settings
        self.clock = clock if clock is not None else VirtualClock()
        self._lock = threading.Lock()
        self._snapshots = collections.OrderedDict()
        self._moving = {}
        # Vault id (lower-cased) -> [(changed at, record copy or None), ...], oldest first: the versions of a vault ARM
        # changed within the last graph_lag_s (the first one: before the first of those changes; None: not there).
        self._history = {}

    def reset(self):
        """No continuations, and the index caught up with the store (a fleet load or reset is indexed at once)."""
        with self._lock:
            self._snapshots.clear()
            self._moving.clear()
            self._history.clear()

    # ------------------------------------------------------------------ the index's lag (setting graph_lag_s)
    def lag_s(self) -> float:
        value = self.settings.get("graph_lag_s")
        return max(0.0, float(DEFAULT_LAG_S if value is None else value))

    @staticmethod
    def _copy(record):
        if record is None:
            return None
        return {"body": copy.deepcopy(record["body"]), "policies": copy.deepcopy(record.get("policies") or {}),
                "items": copy.deepcopy(record.get("items") or {})}

    def _record(self, path):
        """(id key, record or None) of the vault an ARM path is about, or (None, None) (the caller holds the store lock)."""
        match = _VAULT_PATH.match(path or "")
        if not match:
            return None, None
        sid, rg, namespace, name = match.groups()
        kind = "rs" if namespace.lower().startswith("microsoft.recoveryservices") else "dp"
        key = ("/subscriptions/%s/resourceGroups/%s/providers/%s/%s" % (sid, rg, namespace, name)).lower()
        return key, self.store.vault(sid, rg, kind, name)

    def before_write(self, path):
        """An ARM write of ``path`` is about to run: keep the vault as the index holds it now. Returns a mark for after_write."""
        with self.store.lock:
            key, record = self._record(path)
            if key is None:
                return None
            with self._lock:
                if key not in self._history:
                    self._history[key] = [(float("-inf"), self._copy(record))]
        return path

    def after_write(self, mark):
        """The write of ``mark`` (before_write's) has run: its outcome reaches the index graph_lag_s from now."""
        if mark is None:
            return
        with self.store.lock:
            key, record = self._record(mark)
            with self._lock:
                if key in self._history:
                    self._history[key].append((self.clock.now_ns(), self._copy(record)))

    def capture(self) -> dict:
        """Every vault as the index holds it now (before a fleet load that stands for changes made through ARM)."""
        with self.store.lock:
            held = {}
            for sub in self.store.subs.values():
                for rg_entry in sub["rgs"].values():
                    for kind in ("rs", "dp"):
                        for record in rg_entry[kind].values():
                            held[str(record["body"].get("id") or "").lower()] = self._copy(self._indexed_locked(kind, record))
            return held

    def changed_all(self, held: dict):
        """The fleet now loaded changed every vault of ``held`` (capture's) now: the index shows the old ones for graph_lag_s,
        and a vault that is new from now on."""
        now = self.clock.now_ns()
        with self.store.lock:
            with self._lock:
                for sub in self.store.subs.values():
                    for rg_entry in sub["rgs"].values():
                        for kind in ("rs", "dp"):
                            for record in rg_entry[kind].values():
                                key = str(record["body"].get("id") or "").lower()
                                self._history[key] = [(float("-inf"), held.get(key)), (now, self._copy(record))]

    def _indexed_locked(self, kind, record):
        """``record`` as the index holds it: as ARM had it graph_lag_s ago (store lock held)."""
        del kind   # one index for both kinds
        key = str(record["body"].get("id") or "").lower()
        seen_at = self.clock.now_ns() - to_ns(self.lag_s())
        with self._lock:
            versions = self._history.get(key)
            if versions is not None:
                shown = [version for at, version in versions if at <= seen_at][-1]
                if versions[-1][0] <= seen_at:
                    del self._history[key]   # caught up: the store's record is what the index holds
                    shown = record
            else:
                shown = record
        if shown is None:
            return None
        # A write of this vault that was running graph_lag_s ago: the vault read Provisioning/Updating in ARM then.
        op = self.store.vault_ops.get(key) if self.store.vault_ops else None
        if op is not None and op.get("vault_state") and isinstance(shown["body"].get("properties"), dict):
            if int(op.get("accepted_ns") or 0) <= seen_at < lro.ends_ns(op):
                body = dict(shown["body"], properties=dict(shown["body"]["properties"], provisioningState=op["vault_state"]))
                shown = dict(shown, body=body)
        return shown

    def _move(self, query, first_page, snap_id):
        """Setting ``graph_live`` ``{mode, times, count, table}``: after the first page of a query that has more, the
        index moves (the caller holds the store lock). ``add``: ``count`` Recovery Services vaults are created in the
        first row's resource group, named to sort first (``aaa-live-N``); ``remove``: the first ``count`` vaults of that
        page are deleted; ``reorder``: the rows come in reverse order from then on (the vaults do not change). ``times``
        queries move (default 1), then the setting is spent."""
        live = self.settings.get("graph_live")
        if not isinstance(live, dict) or live.get("mode") not in LIVE_MODES:
            return
        if query.table != str(live.get("table") or "resources") or int(live.get("times", 1)) < 1:
            return
        live["times"] = int(live.get("times", 1)) - 1
        live["moved"] = int(live.get("moved", 0)) + 1
        with self._lock:
            self._moving[snap_id] = live["mode"]
        count = max(1, int(live.get("count", 1)))
        if live["mode"] == "add":
            row = first_page[0]
            sub = self.store.sub(str(row.get("subscriptionId")))
            rg_entry = self.store.rg(str(row.get("subscriptionId")), str(row.get("resourceGroup")))
            if sub is None or rg_entry is None:
                return
            for _n in range(count):
                name = "%s%d" % (LIVE_PREFIX, int(live.get("added", 0)))
                live["added"] = int(live.get("added", 0)) + 1
                body = rs_vault_body(sub["id"], rg_entry["name"], {"name": name}, rg_entry.get("location") or "westeurope")
                rg_entry["rs"][name] = {"body": body, "policies": {}, "sd_api": None, "sbd": None, "items": {}}
        elif live["mode"] == "remove":
            for row in first_page[:count]:
                parts = str(row.get("id") or "").split("/")
                rg_entry = self.store.rg(str(row.get("subscriptionId")), str(row.get("resourceGroup")))
                if rg_entry is not None and len(parts) > 8:
                    kind = "rs" if parts[6].lower() == "microsoft.recoveryservices" else "dp"
                    rg_entry[kind].pop(parts[8].lower(), None)

    # ------------------------------------------------------------------ request
    def handle(self, req, principal: str):
        """(status, headers, body) of one query; raises ArmError/GraphError."""
        del principal  # every identity of the emulator reads every visible subscription
        if req.method != "POST":
            raise ArmError(405, "MethodNotAllowed", "The requested resource does not support http method '%s'." % req.method)
        versions.check_provider(req, ARG_VERSIONS, "resources", "global")
        body = req.body
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                         "'query' (a string) is required.")
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise bad_request("InvalidRequestContent", "'options' must be an object.")
        top, skip, token, fmt, partial = self._options(options)
        if body.get("managementGroups"):
            raise bad_request("UnsupportedScope", "Management group scopes are not modelled by the emulator.")
        if body.get("facets"):
            raise bad_request("UnsupportedFacets", "Facet requests are not modelled by the emulator.")
        try:
            query = kql.parse(body["query"], self.settings.get("graph_unserved") or ())
        except kql.KqlError as exc:
            raise GraphError(400, "BadRequest", [dict(INVALID_QUERY), exc.detail]) from exc
        headers = {}
        with self.store.lock:
            subs = self._scope(body, partial, headers)

            def tables(name, subs=subs):
                return table_rows(self.store, name, subs, self._indexed_locked, self.settings)   # a join's right side: the same scope
            key = hashlib.sha256(json.dumps([body["query"], sorted(s["id"].lower() for s in subs)]).encode()).hexdigest()[:16]
            start = skip if skip is not None else 0
            result = None
            top = min(top, int(self.settings.get("graph_page_size") or MAX_TOP))
            if token is not None:
                snap_id, offset = self._decode_token(token, key)
                start = skip if skip is not None else offset
                with self._lock:
                    result = self._snapshots.get(snap_id)
                    moving = snap_id in self._moving
                if result is not None and moving:
                    # A query whose index moved while it was paged: later pages are cut from the index as it is now.
                    result = query.run(table_rows(self.store, query.table, subs, self._indexed_locked, self.settings), tables)
                    if moving and self._moving.get(snap_id) == "reorder":
                        result = list(reversed(result))
            if result is None:
                result = query.run(table_rows(self.store, query.table, subs, self._indexed_locked, self.settings), tables)
                snap_id = uuid.uuid4().hex[:12]
                with self._lock:
                    self._snapshots[snap_id] = result
                    while len(self._snapshots) > SNAPSHOTS:
                        gone, _result = self._snapshots.popitem(last=False)
                        self._moving.pop(gone, None)
                if token is None and len(result) > top:
                    self._move(query, result[:top], snap_id)
            page = result[start:start + top]
            columns = list(query.columns)
            if fmt == "table":
                data = {"columns": [{"name": c, "type": "object" if c in query.dynamic
                                     else "string"} for c in columns],
                        "rows": [[r.get(c) for c in columns] for r in page]}
            else:
                data = page
            # Serialised while the store is locked: rows share their dicts with the stored resources.
            data_json = json.dumps(data, separators=(",", ":"))
        answer = {"totalRecords": len(result), "count": len(page)}
        more = start + len(page) < len(result)
        if more and query.pageable:
            answer["resultTruncated"] = "false"
            answer["$skipToken"] = _b64({"s": snap_id, "o": start + len(page), "k": key})
        else:
            answer["resultTruncated"] = "true" if more else "false"
        answer["facets"] = []
        head = json.dumps(answer, separators=(",", ":"))
        return 200, headers, RawJson(head[:-1].encode() + b',"data":' + data_json.encode() + b"}")

    @staticmethod
    def _options(options):
        top = options.get("$top", DEFAULT_TOP)
        if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
            raise bad_request("InvalidRequestOptions", "$top must be an integer between 1 and %d; got %r." % (MAX_TOP, top))
        skip = options.get("$skip")
        if skip is not None and (isinstance(skip, bool) or not isinstance(skip, int) or skip < 0):
            raise bad_request("InvalidRequestOptions", "$skip must be a non-negative integer; got %r." % (skip,))
        token = options.get("$skipToken")
        if token is not None and not isinstance(token, str):
            raise bad_request("InvalidSkipToken", "$skipToken must be a string.")
        fmt = str(options.get("resultFormat") or "objectArray")
        if fmt not in ("objectArray", "table"):
            raise bad_request("InvalidRequestOptions", "resultFormat must be objectArray or table; got %r." % fmt)
        partial = options.get("allowPartialScopes", False)
        if not isinstance(partial, bool):
            raise bad_request("InvalidRequestOptions", "allowPartialScopes must be a boolean.")
        return top, skip, (token or None), fmt, partial

    @staticmethod
    def _decode_token(token, key):
        try:
            doc = _unb64(token)
            snap_id, offset, token_key = str(doc["s"]), int(doc["o"]), doc["k"]
        except (ValueError, KeyError, TypeError) as exc:
            raise bad_request("InvalidSkipToken", "The $skipToken is invalid.") from exc
        if token_key != key or offset < 0:
            raise bad_request("InvalidSkipToken", "The $skipToken belongs to another query or scope: send the same query and "
                                                  "scopes with it.")
        return snap_id, offset

    def _scope(self, body, partial, headers):
        """Subscription entries the query runs over (caller holds the store lock)."""
        # Resource Graph leaves out what the principal cannot read (graph_denied; read access revoked: access.py).
        visible = [s for s in self.store.subs.values() if not s.get("graph_denied") and access.readable(self.settings, s["id"])]
        given = body.get("subscriptions")
        if given is None:
            # Tenant scope: every subscription the principal can read.
            visible.sort(key=lambda s: s["id"].lower())
            limit = int(self.settings.get("arg_tenant_subscription_limit") or TENANT_SUBSCRIPTION_LIMIT)
            if len(visible) > limit:
                if not partial:
                    raise bad_request("TooManySubscriptionsUnderScope",
                                      "The number of subscriptions under provided tenant or management groups in the request has "
                                      "exceeded the allowed limit %d. Please select a more granular scope or allow partial scopes "
                                      "results by passing AllowPartialScopes flag in the query options." % limit)
                visible = visible[:limit]
                headers["x-ms-tenant-subscription-limit-hit"] = "true"
            return visible
        if not isinstance(given, list) or not all(isinstance(s, str) for s in given):
            raise bad_request("InvalidRequestContent", "'subscriptions' must be a list of subscription ids.")
        by_id = {s["id"].lower(): s for s in visible}
        chosen, seen = [], set()
        for sid in given:
            entry = by_id.get(sid.strip().lower())
            if entry is not None and entry["id"].lower() not in seen:
                seen.add(entry["id"].lower())
                chosen.append(entry)
        if not chosen:
            # Azure/aztfexport#491 and #385: no subscription of the request is one the principal can read.
            raise bad_request("NoValidSubscriptionsInQueryRequest", "There must be at least one subscription that is eligible to "
                                                                    "contain resources. Given: '%s'." % ", ".join(given))
        return chosen
