# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTPS server: identity (metadata, OIDC discovery, token endpoint), ARM, and the test controls."""
from __future__ import annotations

import collections
import json
import re
import secrets
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from . import access, graph, lro, throttle, tokens
from .arm import Arm, Request
from .errors import ArmError
from .mua import GUARD_TENANT_ID
from .store import DEFAULT_FLEET, FleetError, Store, stable_uuid

TENANT_ID = "7e0e0e0e-0000-4000-8000-000000000001"
CLIENT_ID = "c0ffee00-0000-4000-8000-000000000001"
READER_ID = "c0ffee00-0000-4000-8000-000000000002"
AUDIENCE = "https://management.emulator.local/"
CONTROL_PREFIX = "/_emulator/"
GRAPH_PATH = "/providers/microsoft.resourcegraph/resources"
# Learn, request-limits-and-throttling (the hourly limits per principal that preceded the token buckets).
HOURLY_LIMITS = {"reads": 12000, "writes": 1200, "deletes": 15000}
THROTTLE_MODES = ("off", "azure")
# Longest a request waits under the hold (control hold) before it is answered anyway: a test that never releases it does
# not leave its client waiting for ever.
HOLD_MAX_S = 60.0
SETTINGS = ("page_size", "policy_put_async", "lro_fail", "lro_retry_after", "throttle",
            "arg_tenant_subscription_limit", "graph_page_size", "graph_live", "graph_unserved", "graph_lag_s", "revoked")

WRITE_ACTIONS = {"PUT": "write", "PATCH": "write", "POST": "action", "DELETE": "delete"}


def _action(path: str, method: str) -> str:
    """ARM RBAC action of a request, e.g. Microsoft.RecoveryServices/vaults/backupPolicies/write (a GET: .../read)."""
    parts = [p for p in path.split("/") if p]
    verb = access.READ_VERB if method == "GET" else WRITE_ACTIONS.get(method, "write")
    low = [p.lower() for p in parts]
    if "providers" in low:
        i = len(low) - 1 - low[::-1].index("providers")
        ns = parts[i + 1]
        types = [parts[j] for j in range(i + 2, len(parts), 2)]
        return "%s/%s/%s" % (ns, "/".join(types), verb)
    if len(parts) >= 4:
        return "Microsoft.Resources/subscriptions/resourceGroups/" + verb
    return "Microsoft.Resources/subscriptions/" + verb


class Emulator:
    """Shared state of one running emulator: identities, ARM store, journal, faults, latency."""

    def __init__(self, fleet: dict | None, latency_ms: int = 0, page_size: int = 200, token_lifetime: int = 3600,
                 throttle_mode: str = "off"):
        self.key = secrets.token_bytes(32)
        self.client_secret = secrets.token_urlsafe(24)
        self.reader_secret = secrets.token_urlsafe(24)
        self.identities = {
            CLIENT_ID.lower(): {"secret": self.client_secret, "oid": stable_uuid("oid", CLIENT_ID), "role": "Contributor"},
            READER_ID.lower(): {"secret": self.reader_secret, "oid": stable_uuid("oid", READER_ID), "role": "Reader"},
        }
        self.initial_fleet = fleet
        self.store = Store(TENANT_ID, fleet)
        self.lock = threading.Lock()
        self.journal = collections.deque(maxlen=500000)
        self.token_journal = collections.deque(maxlen=100000)
        self.faults: list = []
        self.initial_latency = latency_ms
        self.latency_ms = latency_ms
        # The hold (control hold, a test control, not Azure behaviour): while it is on, every ARM request it matches
        # (``hold_match``: method and path regex, None for any) is journaled and then waits, unanswered, until it is
        # released; ``held`` counts the requests waiting.
        self.released = threading.Event()
        self.released.set()
        self.hold_match = (None, None)
        self.held = 0
        if throttle_mode not in THROTTLE_MODES:
            raise ValueError("throttle must be one of %s" % ", ".join(THROTTLE_MODES))
        self.default_settings = {"page_size": page_size, "policy_put_async": False, "lro_fail": None,
                                 "lro_retry_after": lro.DEFAULT_RETRY_AFTER,
                                 "throttle": throttle_mode, "arg_tenant_subscription_limit": graph.TENANT_SUBSCRIPTION_LIMIT,
                                 "graph_page_size": None, "graph_live": None, "graph_unserved": None,
                                 "graph_lag_s": graph.DEFAULT_LAG_S, "revoked": None}
        self.settings = dict(self.default_settings)
        # Throttling (settings throttle: azure) and long-running operations (lro.py) run on a clock that tests can
        # freeze and advance (control clock).
        self.clock = throttle.VirtualClock()
        self.arm_throttle = throttle.ArmThrottle(self.clock)
        self.arg_quota = throttle.ArgQuota(self.clock)
        # Resource Graph sends its quota headers on every answer (Learn, guidance-for-throttled-requests: "In every
        # query response, Azure Resource Graph adds two throttling headers"), so without throttle azure the emulator
        # still counts and reports them, against a larger quota that the tests do not exhaust (Learn: "The quota value
        # is determined by many factors"; its size here is assumed).
        self.arg_quota_raised = throttle.ArgQuota(self.clock, queries=throttle.ARG_RAISED_QUERIES)
        self.graph = graph.Graph(self.store, self.settings, clock=self.clock)
        self.token_lifetime = token_lifetime
        self.base_url = ""
        self.arm: Arm | None = None
        self.started = time.time()
        self.counts = collections.Counter()
        self.rate = {}

    def bind(self, base_url: str):
        self.base_url = base_url.rstrip("/") + "/"
        self.arm = Arm(self.store, self.base_url, self.settings, clock=self.clock)
        self.arm.aux_tenants = self.aux_tenants

    # -- controls
    def reset(self, keep_journal: bool = False):
        """The start fleet, no faults, default settings; ``keep_journal``: the journals stay (a reset inside a marked run)."""
        self.store.load(self.initial_fleet or DEFAULT_FLEET)
        with self.lock:
            if not keep_journal:
                self.journal.clear()
                self.token_journal.clear()
            self.faults = []
            self.latency_ms = self.initial_latency
            self.settings.clear()
            self.settings.update(self.default_settings)
        self.released.set()   # requests held by a test that ended are answered
        self.reset_throttling()

    def holds(self, method: str, path: str) -> bool:
        """Whether the hold (on) keeps this request waiting."""
        want, pattern = self.hold_match
        return (want is None or want.upper() == method.upper()) and (pattern is None or re.search(pattern, path, re.IGNORECASE) is not None)

    def reset_throttling(self):
        """Full buckets and quotas, the clock running again, no Resource Graph continuations."""
        self.clock.unfreeze()
        self.arm_throttle.reset()
        self.arg_quota.reset()
        self.arg_quota_raised.reset()
        self.graph.reset()

    @property
    def throttling(self) -> bool:
        return self.settings.get("throttle") == "azure"

    def mint(self, client_id: str, lifetime: float | None = None, audience: str | None = None, tenant: str | None = None) -> str:
        ident = self.identities.get(client_id.lower(), {"oid": stable_uuid("oid", client_id)})
        now = int(time.time())
        life = self.token_lifetime if lifetime is None else lifetime
        tenant = tenant or TENANT_ID
        claims = {"aud": audience or AUDIENCE, "iss": "https://sts.emulator.local/%s/" % tenant, "iat": now, "nbf": now,
                  "exp": int(now + life), "tid": tenant, "appid": client_id, "azp": client_id, "oid": ident["oid"],
                  "sub": ident["oid"], "idtyp": "app", "ver": "1.0", "uti": uuid.uuid4().hex}
        return tokens.encode(claims, self.key)

    def aux_tenants(self, header) -> set:
        """The tenants (lower-cased) of the valid ARM tokens in an ``x-ms-authorization-auxiliary`` header: ``Bearer
        <token>`` entries, comma separated, at most three (Learn, authenticate-multi-tenant). Invalid ones count for nothing."""
        found = set()
        for entry in [e.strip() for e in str(header or "").split(",") if e.strip()][:3]:
            if not entry.lower().startswith("bearer "):
                continue
            try:
                claims = tokens.verify(entry[7:].strip(), self.key, AUDIENCE)
            except tokens.TokenError:
                continue
            found.add(str(claims.get("tid") or "").lower())
        return found

    def take_fault(self, method: str, path: str):
        with self.lock:
            for fault in self.faults:
                if fault["times"] <= 0:
                    continue
                if fault.get("method") and fault["method"].upper() != method:
                    continue
                if fault.get("path_regex") and not re.search(fault["path_regex"], path, re.IGNORECASE):
                    continue
                if fault.get("skip", 0) > 0:
                    # Let this many matching requests through first (a fault on the second PATCH of a task, say).
                    fault["skip"] -= 1
                    continue
                fault["times"] -= 1
                fault["hits"] = fault.get("hits", 0) + 1
                return dict(fault)
        return None

    def remaining(self, sid: str, op: str) -> tuple:
        """(principal's, global) requests of ``op`` (reads, writes, deletes) left this hour when throttling is off: Learn's
        hourly limits (12,000 reads, 1,200 writes, 15,000 deletes), the global count 15 times as many (Learn's factor for
        the token buckets; hourly counts **assumed**)."""
        hour = int(time.time() // 3600)
        key = (sid.lower(), op, hour)
        with self.lock:
            self.rate[key] = self.rate.get(key, 0) + 1
            used = self.rate[key]
        limit = HOURLY_LIMITS.get(op, HOURLY_LIMITS["reads"])
        return max(0, limit - used), max(0, limit * 15 - used)


def _duration(seconds: float) -> str:
    """x-ms-resource-graph-request-duration as recorded: d:hh:mm:ss.fffffff (``0:00:00:00.1279463``)."""
    whole = int(seconds)
    return "0:%02d:%02d:%02d.%07d" % (whole // 3600, (whole % 3600) // 60, whole % 60, int((seconds - whole) * 1e7))


def _json_bytes(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class Handler(BaseHTTPRequestHandler):
    """One request; routes to identity, controls or ARM."""

    protocol_version = "HTTP/1.1"
    server_version = "AzureEmulator/1.0"
    sys_version = ""
    emu: Emulator = None  # set on the subclass made by make_server

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        return

    # ---------------------------------------------------------------- plumbing
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body=None, headers: dict | None = None, raw: bytes | None = None,
              content_type: str = "application/json; charset=utf-8"):
        data = raw if raw is not None else (b"" if body is None else _json_bytes(body))
        self.send_response(status)
        if data or status not in (204, 304):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_POST(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_PUT(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_PATCH(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_DELETE(self):  # pylint: disable=invalid-name
        self._dispatch()

    def do_HEAD(self):  # pylint: disable=invalid-name
        self._dispatch()

    def _dispatch(self):
        split = urlsplit(self.path)
        path = re.sub(r"/{2,}", "/", unquote(split.path)) or "/"
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        body = self._read_body()
        low = path.lower()
        try:
            if low.startswith(CONTROL_PREFIX):
                self._control(path[len(CONTROL_PREFIX):].strip("/").lower(), query, body)
            elif low.rstrip("/") == "/metadata/endpoints":
                self._metadata(query)
            elif "/.well-known/openid-configuration" in low or "/oauth2/" in low:
                self._identity(path, body)
            else:
                self._arm(path, query, body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    # ---------------------------------------------------------------- identity
    def _metadata(self, query):
        """GET /metadata/endpoints in the shape ARM answers for each api-version.

        2022-09-01 (az CLI 2.91 ``az cloud register --endpoint-resource-manager`` asks for it and reads one object):
        the object of this cloud. 2019-05-01 / 2020-06-01 (``ARM_CLOUD_METADATA_URL``, cloud-provider-azure): a list of
        clouds. Older or no api-version (msrestazure's 1.0, Azure Stack Hub): the Azure Stack single object.
        """
        base = self.emu.base_url
        ver = str(query.get("api-version") or "")
        cloud = {
            "portal": base + "portal/",
            "authentication": {"loginEndpoint": base, "audiences": [AUDIENCE], "tenant": "common", "identityProvider": "AAD"},
            "media": base + "media/", "graphAudience": base + "graph/", "graph": base + "graph/",
            "name": "AzureEmulator",
            "suffixes": {"azureDataLakeStoreFileSystem": "azuredatalakestore.emulator.local",
                         "acrLoginServer": "azurecr.emulator.local", "sqlServerHostname": "database.emulator.local",
                         "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.emulator.local",
                         "keyVaultDns": "vault.emulator.local", "storage": "core.emulator.local",
                         "azureFrontDoorEndpointSuffix": "azurefd.emulator.local"},
            "batch": base + "batch/", "resourceManager": base, "vmImageAliasDoc": base + "vmimagealiases.json",
            "activeDirectoryDataLake": base + "datalake/", "sqlManagement": base + "sql/",
            "microsoftGraphResourceId": base + "graph/", "appInsightsResourceId": base + "appinsights/",
            "appInsightsTelemetryChannelResourceId": base + "appinsights-telemetry/",
            "attestationResourceId": base + "attestation/", "synapseAnalyticsResourceId": base + "synapse/",
            "logAnalyticsResourceId": base + "loganalytics/", "ossrDbmsResourceId": base + "ossrdbms/",
        }
        if ver >= "2022-09-01" and ver[:4].isdigit():
            doc = cloud
        elif ver in ("2019-05-01", "2020-06-01"):
            doc = [cloud]
        else:
            doc = {"galleryEndpoint": base + "gallery/", "graphEndpoint": base + "graph/", "portalEndpoint": base + "portal/",
                   "authentication": {"loginEndpoint": base, "audiences": [AUDIENCE]}}
        self._send(200, doc)

    def _aad_error(self, status, error, desc, path, grant=None, client_id=None):
        self.emu.token_journal.append({"method": self.command, "path": path, "grant_type": grant, "client_id": client_id,
                                       "status": status})
        now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        self._send(status, {"error": error, "error_description": "%s Trace ID: %s Correlation ID: %s Timestamp: %s" % (desc, trace, corr, now),
                            "error_codes": [int(re.search(r"AADSTS(\d+)", desc).group(1))], "timestamp": now,
                            "trace_id": trace, "correlation_id": corr})

    def _identity(self, path, body):
        parts = [p for p in path.split("/") if p]
        tenant = parts[0] if parts else ""
        base = self.emu.base_url.rstrip("/")
        if tenant.lower() not in (TENANT_ID, GUARD_TENANT_ID, "organizations"):
            self._aad_error(400, "invalid_tenant",
                            "AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing "
                            "into the correct cloud. Check with your subscription administrator, this may happen if there are no "
                            "active subscriptions for the tenant." % tenant, path)
            return
        home = GUARD_TENANT_ID if tenant.lower() == GUARD_TENANT_ID else TENANT_ID
        if path.lower().endswith("/.well-known/openid-configuration"):
            self.emu.token_journal.append({"method": self.command, "path": path, "grant_type": None, "client_id": None, "status": 200})
            self._send(200, {
                "token_endpoint": "%s/%s/oauth2/v2.0/token" % (base, home),
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                "jwks_uri": "%s/%s/discovery/v2.0/keys" % (base, home),
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": "%s/%s/v2.0" % (base, home),
                "request_uri_parameter_supported": False,
                "authorization_endpoint": "%s/%s/oauth2/v2.0/authorize" % (base, home),
                "device_authorization_endpoint": "%s/%s/oauth2/v2.0/devicecode" % (base, home),
                "http_logout_supported": True, "frontchannel_logout_supported": True,
                "end_session_endpoint": "%s/%s/oauth2/v2.0/logout" % (base, home),
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "oid"],
                "tenant_region_scope": "EU", "cloud_instance_name": "emulator.local", "cloud_graph_host_name": "graph.emulator.local",
                "msgraph_host": "graph.emulator.local"})
            return
        if not path.lower().endswith("/token") or self.command != "POST":
            self._send(404, {"error": "not_found", "error_description": "AADSTS90012: Unsupported endpoint."})
            return
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        client_id = form.get("client_id", "")
        if grant != "client_credentials":
            self._aad_error(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type '%s'." % grant,
                            path, grant, client_id)
            return
        if form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            # Workload identity: accept a JWT whose sub is a known client id (assumed; no federation check).
            try:
                claims = tokens.decode_unverified(form.get("client_assertion", ""))
            except tokens.TokenError:
                claims = {}
            subject = str(claims.get("sub", "")).lower()
            if subject not in self.emu.identities or (client_id and client_id.lower() != subject):
                self._aad_error(401, "invalid_client", "AADSTS700213: No matching federated identity record found for presented "
                                "assertion subject '%s'." % claims.get("sub"), path, grant, client_id)
                return
            client_id = client_id or claims["sub"]
        else:
            ident = self.emu.identities.get(client_id.lower())
            if ident is None:
                self._aad_error(400, "unauthorized_client",
                                "AADSTS700016: Application with identifier '%s' was not found in the directory '%s'." % (client_id, TENANT_ID),
                                path, grant, client_id)
                return
            if not secrets.compare_digest(form.get("client_secret", ""), ident["secret"]):
                self._aad_error(401, "invalid_client",
                                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
                                "client secret value, not the client secret ID, for a secret added to app '%s'." % client_id,
                                path, grant, client_id)
                return
        scope = form.get("scope", "")
        resource = scope.split(" ")[0]
        if resource.endswith(".default"):
            resource = resource[: -len(".default")]
        if resource.rstrip("/").lower() != AUDIENCE.rstrip("/").lower():
            self._aad_error(400, "invalid_resource",
                            "AADSTS500011: The resource principal named %s was not found in the tenant named %s. This can happen if "
                            "the application has not been installed by the administrator of the tenant or consented to by any user "
                            "in the tenant. You might have sent your authentication request to the wrong tenant." % (resource, TENANT_ID),
                            path, grant, client_id)
            return
        self.emu.token_journal.append({"method": "POST", "path": path, "grant_type": grant, "client_id": client_id, "status": 200})
        life = self.emu.token_lifetime
        self._send(200, {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
                         "access_token": self.emu.mint(client_id, life, AUDIENCE, tenant=home)})

    # ---------------------------------------------------------------- ARM
    def _auth(self):
        """Return (claims, None) or (None, ArmError)."""
        header = self.headers.get("Authorization") or ""
        challenge = {"WWW-Authenticate": 'Bearer authorization_uri="%s%s", error="invalid_token", '
                     'error_description="The authentication failed because of missing \'Authorization\' header."'
                     % (self.emu.base_url, TENANT_ID)}
        if not header:
            return None, ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                                  headers=challenge)
        if not header.lower().startswith("bearer "):
            return None, ArmError(401, "AuthenticationFailed",
                                  "Authentication failed. The 'Authorization' header is provided in an invalid format.", headers=challenge)
        try:
            claims = tokens.verify(header[7:].strip(), self.emu.key, AUDIENCE)
        except tokens.TokenError as exc:
            chal = {"WWW-Authenticate": 'Bearer authorization_uri="%s%s", error="invalid_token", error_description="%s"'
                    % (self.emu.base_url, TENANT_ID, str(exc).replace('"', "'"))}
            if isinstance(exc, tokens.TokenExpired):
                # ARM's answer to an expired token, as the live service sent it (hashicorp/terraform-provider-azurerm#20867:
                # 401, code ExpiredAuthenticationToken, X-Ms-Failure-Cause: gateway, the request refused before any resource
                # provider saw it); the challenge header as for every token fault (RFC 6750 error="invalid_token", Learn:
                # "Errors from Secured Resources", dn645539).
                chal["x-ms-failure-cause"] = "gateway"
                return None, ArmError(401, "ExpiredAuthenticationToken", str(exc), headers=chal)
            return None, ArmError(401, "InvalidAuthenticationToken", str(exc), headers=chal)
        return claims, None

    def _arm(self, path, query, body):
        emu = self.emu
        started = time.time()
        request_id = str(uuid.uuid4())
        claims, auth_err = self._auth()
        client_id = (claims or {}).get("appid")
        entry = {"method": self.command, "path": path, "query": query, "status": None, "client_id": client_id,
                 "token": (claims or {}).get("uti"), "time": started, "request_id": request_id, "body": None}
        if self.command in ("PUT", "PATCH", "POST") and body:
            # The body as sent, also of a request an injected fault answers (a test checks what a resend carried).
            try:
                entry["body"] = json.loads(body)
            except ValueError:
                pass
        emu.journal.append(entry)
        with emu.lock:
            emu.counts["arm"] += 1
            emu.counts["method:" + self.command] += 1
        if not emu.released.is_set() and emu.holds(self.command, path):
            with emu.lock:
                emu.held += 1
            emu.released.wait(HOLD_MAX_S)
            with emu.lock:
                emu.held -= 1
        if emu.latency_ms:
            time.sleep(emu.latency_ms / 1000.0)
        headers = {"x-ms-request-id": request_id,
                   "x-ms-correlation-request-id": self.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4()),
                   "x-ms-routing-request-id": "EMULATOR:%s:%s" % (time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), request_id)}
        if self.headers.get("x-ms-client-request-id"):
            headers["x-ms-client-request-id"] = self.headers["x-ms-client-request-id"]
        fault = emu.take_fault(self.command, path)
        if fault and fault.get("delay_ms"):
            time.sleep(fault["delay_ms"] / 1000.0)
        if fault and not fault.get("after") and self._send_fault(fault, entry, headers):
            return
        try:
            if auth_err:
                raise auth_err
            parts = [p for p in path.split("/") if p]
            sid = parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else None
            is_graph = path.lower().rstrip("/") == GRAPH_PATH
            is_write = self.command in ("PUT", "PATCH", "POST", "DELETE") and not is_graph
            if emu.throttling:
                self._throttle(is_graph, sid, claims, headers)
            elif is_graph:
                headers.update(emu.arg_quota_raised.take(claims.get("appid") or claims.get("oid") or "").headers)
            ident = emu.identities.get(str(client_id).lower(), {})
            if is_write and ident.get("role") != "Contributor":
                oid = claims.get("oid")
                raise ArmError(403, "AuthorizationFailed",
                               "The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope "
                               "'%s' or the scope is invalid. If access was recently granted, please refresh your credentials."
                               % (oid, oid, _action(path, self.command), path.rstrip("/")))
            if sid and not is_graph:
                # Read access taken away from the identities at a subscription or resource group (setting revoked).
                access.check(emu.settings, path, _action(path, self.command), claims.get("oid"))
            if sid and not emu.throttling:
                # The headers Learn documents (request-limits-and-throttling, "Remaining requests"): the principal's and the
                # global count of the request's operation type (a DELETE reports deletes), on every answer; the counts are
                # the hourly ones (assumed) while throttling is off.
                op = throttle.operation_type(self.command) if not is_graph else "reads"
                mine, shared = emu.remaining(sid, op)
                headers["x-ms-ratelimit-remaining-subscription-" + op] = str(mine)
                headers["x-ms-ratelimit-remaining-subscription-global-" + op] = str(shared)
            try:
                parsed = json.loads(body) if body else None
                if self.command in ("PUT", "PATCH", "POST"):
                    entry["body"] = parsed
            except ValueError as exc:
                raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: '%s'." % exc) from exc
            request = Request(self.command, path, query, parsed, self.headers)
            if is_graph:
                began = time.time()
                status, extra, payload = emu.graph.handle(request, client_id)
                extra["x-ms-resource-graph-request-duration"] = _duration(time.time() - began)
            else:
                # Resource Graph's index learns of a write graph_lag_s after ARM carried it out (graph.py, DEFAULT_LAG_S).
                mark = emu.graph.before_write(path) if is_write else None
                try:
                    status, extra, payload = emu.arm.handle(request)
                finally:
                    emu.graph.after_write(mark)
            if fault and fault.get("after") and self._send_fault(fault, entry, headers):
                # The request was carried out; the answer is lost or replaced (an unknown outcome for the client).
                return
            headers.update(extra)
            entry["status"] = status
            if isinstance(payload, bytes):
                self._send(status, headers=headers, raw=payload)
            else:
                self._send(status, payload, headers)
        except ArmError as err:
            headers.update(err.headers)
            entry["status"] = err.status
            self._send(err.status, err.body(request_id), headers)
        finally:
            with emu.lock:
                emu.counts["status:%s" % entry["status"]] += 1

    def _send_fault(self, fault, entry, headers) -> bool:
        """Answer with an injected fault; False when the fault only delays the request."""
        if fault.get("drop"):
            entry["status"] = 0
            self._drop()
            return True
        headers.update(fault.get("headers") or {})
        if fault.get("raw_body") is not None:
            # A body of our choosing, verbatim: not JSON, empty, truncated, or a page with a nextLink elsewhere.
            status = int(fault.get("status") or 200)
            entry["status"] = status
            self._send(status, headers=headers, raw=str(fault["raw_body"]).encode("utf-8"),
                       content_type=fault.get("content_type") or "application/json; charset=utf-8")
            return True
        if not fault.get("status"):
            return False
        status = int(fault["status"])
        err = {429: ("TooManyRequests", "The request is being throttled as the limit has been reached for operation type - "
                     "%s. For more information, see - https://aka.ms/srpthrottlinglimits" % ("Write" if self.command != "GET" else "Read")),
               500: ("InternalServerError", "Encountered internal server error. Diagnostic information: timestamp '%s'."
                     % time.strftime("%Y%m%dT%H%M%SZ")),
               503: ("ServiceUnavailable", "The service is currently unavailable. Please try again later.")}.get(
                   status, ("EmulatorInjectedFault", "Injected fault."))
        if fault.get("retry_after") is not None:
            headers["Retry-After"] = str(fault["retry_after"])
        entry["status"] = status
        self._send(status, {"error": {"code": fault.get("code") or err[0], "message": fault.get("message") or err[1]}}, headers)
        return True

    def _throttle(self, is_graph, sid, claims, headers):
        """Azure's throttling (settings throttle: azure): Resource Graph's user quota, or ARM's token buckets."""
        emu = self.emu
        principal = claims.get("appid") or claims.get("oid") or ""
        if is_graph:
            decision = emu.arg_quota.take(principal)
            headers.update(decision.headers)
            if not decision.allowed:
                raise graph.throttled(decision.message, {})
            return
        scope, scope_id = ("subscription", sid) if sid else ("tenant", TENANT_ID)
        decision = emu.arm_throttle.take(scope, scope_id, principal, claims.get("oid") or principal,
                                         throttle.operation_type(self.command))
        headers.update(decision.headers)
        if not decision.allowed:
            raise ArmError(429, decision.code, decision.message)

    # ---------------------------------------------------------------- controls
    def _control(self, name, query, body):
        emu = self.emu
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            self._send(400, {"error": "body is not JSON"})
            return
        cmd = (self.command, name)
        if cmd == ("GET", "journal"):
            self._send(200, [{k: e.get(k) for k in ("method", "path", "query", "status", "client_id", "token", "time", "request_id", "body")}
                             for e in list(emu.journal)])
        elif cmd == ("DELETE", "journal"):
            emu.journal.clear()
            self._send(204)
        elif cmd == ("GET", "token-journal"):
            self._send(200, list(emu.token_journal))
        elif cmd == ("DELETE", "token-journal"):
            emu.token_journal.clear()
            self._send(204)
        elif cmd == ("POST", "faults"):
            items = data if isinstance(data, list) else [data]
            added = []
            for item in items:
                fault = {"method": item.get("method"), "path_regex": item.get("path_regex"), "status": item.get("status"),
                         "retry_after": item.get("retry_after"), "times": int(item.get("times", 1)),
                         "delay_ms": int(item.get("delay_ms") or 0), "drop": bool(item.get("drop")),
                         "code": item.get("code"), "message": item.get("message"), "hits": 0,
                         "skip": int(item.get("skip") or 0), "after": bool(item.get("after")),
                         "raw_body": item.get("raw_body"), "content_type": item.get("content_type"),
                         "headers": {str(k): str(v) for k, v in (item.get("headers") or {}).items()}}
                if fault["path_regex"]:
                    try:
                        re.compile(fault["path_regex"])
                    except re.error as exc:
                        self._send(400, {"error": "bad path_regex: %s" % exc})
                        return
                added.append(fault)
            with emu.lock:
                emu.faults.extend(added)
            self._send(201, added)
        elif cmd == ("GET", "faults"):
            with emu.lock:
                self._send(200, list(emu.faults))
        elif cmd == ("DELETE", "faults"):
            with emu.lock:
                emu.faults = []
            self._send(204)
        elif cmd in (("POST", "hold"), ("GET", "hold")):
            if self.command == "POST":
                if data.get("on"):
                    try:
                        re.compile(data.get("path_regex") or "")
                    except re.error as exc:
                        self._send(400, {"error": "bad path_regex: %s" % exc})
                        return
                    emu.hold_match = (data.get("method"), data.get("path_regex"))
                    emu.released.clear()
                else:
                    emu.released.set()
            with emu.lock:
                self._send(200, {"on": not emu.released.is_set(), "held": emu.held})
        elif cmd in (("POST", "latency"), ("GET", "latency")):
            if self.command == "POST":
                emu.latency_ms = int(data.get("ms") or 0)
            self._send(200, {"ms": emu.latency_ms})
        elif cmd in (("POST", "settings"), ("GET", "settings")):
            if self.command == "POST":
                if "throttle" in data and data["throttle"] not in THROTTLE_MODES:
                    self._send(400, {"error": "throttle must be one of %s" % ", ".join(THROTTLE_MODES)})
                    return
                changed = "throttle" in data and data["throttle"] != emu.settings.get("throttle")
                for key in SETTINGS:
                    if key in data:
                        emu.settings[key] = data[key]
                if changed:
                    emu.reset_throttling()
            self._send(200, dict(emu.settings))
        elif cmd in (("POST", "clock"), ("GET", "clock")):
            if self.command == "POST":
                try:
                    if data.get("freeze") is True:
                        emu.clock.freeze()
                    elif data.get("freeze") is False:
                        emu.clock.unfreeze()
                    if data.get("advance_s"):
                        emu.clock.advance(float(data["advance_s"]))
                except (TypeError, ValueError) as exc:
                    self._send(400, {"error": "bad clock request: %s" % exc})
                    return
            self._send(200, {"now": emu.clock.now(), "frozen": emu.clock.frozen})
        elif cmd == ("POST", "generate"):
            from .generator import generate_fleet  # pylint: disable=import-outside-toplevel
            try:
                fleet = generate_fleet(int(data.get("vaults", 10)), subscriptions=int(data.get("subscriptions", 1)),
                                       seed=str(data.get("seed", "0")), protected_items=int(data.get("protected_items", 0)),
                                       graph_denied=int(data.get("graph_denied", 0)),
                                       random_security=bool(data.get("random_security", False)))
                emu.store.load(fleet)
            except (FleetError, TypeError, ValueError) as exc:
                self._send(400, {"error": "invalid generate request: %s" % exc})
                return
            with emu.lock:
                if query.get("keep_journal") != "1":
                    emu.journal.clear()
                emu.faults = []
            emu.reset_throttling()
            subs, rgs = emu.store.summary()
            self._send(200, dict(emu.store.count(), subscription_ids=subs, resource_groups=rgs))
        elif cmd == ("POST", "reset"):
            emu.reset(keep_journal=query.get("keep_journal") == "1")
            self._send(200, {"reset": True, **emu.store.count()})
        elif cmd == ("POST", "fleet"):
            # ?lagged=1: the new fleet stands for changes made through ARM just now; Resource Graph shows the vaults as they
            # were for graph_lag_s (graph.Graph.changed_all), as it would after real writes (a test of a stale row).
            held = emu.graph.capture() if query.get("lagged") == "1" else None
            try:
                emu.store.load(data)
            except (FleetError, KeyError, TypeError, ValueError) as exc:
                self._send(400, {"error": "invalid fleet: %s" % exc})
                return
            with emu.lock:
                if query.get("keep_journal") != "1":
                    emu.journal.clear()
                emu.faults = []
            emu.reset_throttling()
            if held is not None:
                emu.graph.changed_all(held)
            self._send(200, emu.store.count())
        elif cmd == ("GET", "resource"):
            found = emu.store.find(query.get("id", ""))
            if found is None:
                self._send(404, {"error": {"code": "ResourceNotFound", "message": "No resource with id '%s'." % query.get("id", "")}})
            else:
                self._send(200, found)
        elif cmd == ("POST", "resources"):
            ids = data.get("ids") if isinstance(data, dict) else None
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                self._send(400, {"error": "body must be {\"ids\": [ARM id, ...]}"})
                return
            self._send(200, {arm_id: emu.store.find(arm_id) for arm_id in ids})
        elif cmd == ("GET", "stats"):
            up = time.time() - emu.started
            with emu.lock:
                counts = dict(emu.counts)
            self._send(200, {"uptime_s": round(up, 3), "arm_requests": counts.get("arm", 0),
                             "requests_per_s": round(counts.get("arm", 0) / up, 2) if up else 0.0,
                             "by_method": {k[7:]: v for k, v in counts.items() if k.startswith("method:")},
                             "by_status": {k[7:]: v for k, v in counts.items() if k.startswith("status:")},
                             "token_requests": len(emu.token_journal), "journal_entries": len(emu.journal),
                             "latency_ms": emu.latency_ms, **emu.store.count()})
        elif cmd == ("POST", "token"):
            client = data.get("client_id") or CLIENT_ID
            self._send(200, {"access_token": emu.mint(client, data.get("lifetime_s"), data.get("audience"), data.get("tenant"))})
        elif cmd == ("GET", "health"):
            self._send(200, {"ok": True})
        else:
            self._send(404, {"error": "unknown control %s %s" % cmd})


class EmulatorServer(ThreadingHTTPServer):
    """Threaded HTTPS server; TLS handshakes happen in the worker threads."""

    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address, handler, context: ssl.SSLContext):
        self.ssl_context = context
        super().__init__(address, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


def make_server(emu: Emulator, port: int, certfile: str, keyfile: str) -> EmulatorServer:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    handler = type("BoundHandler", (Handler,), {"emu": emu})
    server = EmulatorServer(("127.0.0.1", port), handler, context)
    emu.bind("https://127.0.0.1:%d/" % server.server_address[1])
    return server
