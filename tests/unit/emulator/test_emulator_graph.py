# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: Azure Resource Graph (POST /providers/Microsoft.ResourceGraph/resources): the recorded request and
answer, Microsoft's own Resource Graph SDK, the served query shapes, paging, scopes and errors."""
from __future__ import annotations

import json

import pytest
import yaml
from azure.core.exceptions import HttpResponseError

from tests.emulator import generator
from tests.fixtures import REFERENCE

SUB1 = "11111111-aaaa-4000-8000-000000000001"
SUB2 = "22222222-aaaa-4000-8000-000000000002"
DENIED = "33333333-aaaa-4000-8000-000000000003"
VAULT_TYPES = "type in~ ('microsoft.recoveryservices/vaults', 'microsoft.dataprotection/backupvaults')"
VAULTS = "resources | where %s | project id, name, type, subscriptionId, tags, properties | order by id asc" % VAULT_TYPES
RECORDING = REFERENCE / "recordings" / "test_dataprotection_backup_vault_list_from_resource_graph.yaml"


def _fleet():
    rs_policy = {"name": "VMDaily", "properties": generator.iaas_v1(False)}
    dp_policy = {"name": "DiskHourly", "properties": generator.dp_disk(False)}
    return {"subscriptions": [
        {"id": SUB1, "display_name": "one", "resource_groups": [
            {"name": "rg-prod", "location": "westeurope", "vaults": [
                {"name": "rsv-prod", "type": "recovery_services", "immutability": "enabled", "tags": {"Env": "Prod", "team": "a"},
                 "policies": [rs_policy, {"name": "SQLDaily", "properties": generator.sql(False)}],
                 "protected_items": [{"name": "vm-1", "policy": "VMDaily", "datasource_type": "VM"},
                                     {"name": "db-1", "policy": "SQLDaily", "datasource_type": "SQLDataBase"}]},
                {"name": "bv-prod", "type": "backup", "tags": {"env": "prod"}, "policies": [dp_policy],
                 "protected_items": [{"name": "disk-1", "policy": "DiskHourly", "datasource_type": "Microsoft.Compute/disks"}]}]},
            {"name": "rg-dev", "vaults": [{"name": "rsv-dev", "type": "recovery_services", "tags": {"env": "dev"}}]}]},
        {"id": SUB2, "display_name": "two", "resource_groups": [
            {"name": "rg-two", "vaults": [{"name": "bv-two", "type": "backup", "tags": {"env": "prod", "team": "b"}}]}]},
        {"id": DENIED, "display_name": "denied", "resource_graph": "denied", "resource_groups": [
            {"name": "rg-hidden", "vaults": [{"name": "rsv-hidden", "type": "recovery_services"}]}]},
    ]}


@pytest.fixture
def graph(emulator):
    emulator.load_fleet(_fleet())
    return emulator


def _ok(resp):
    assert resp.status_code == 200, resp.text
    return resp.json()


def _details(resp, status=400):
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["message"].startswith("Please provide below info when asking for support: timestamp = ")
    assert ", correlationId = " in error["message"]
    return error["code"], error["details"]


# ---------------------------------------------------------------------------------------------- the recording
def test_the_recorded_query_gets_the_recorded_answer(emulator):
    recording = yaml.safe_load(RECORDING.read_text(encoding="utf-8"))["interactions"][0]
    request = json.loads(recording["request"]["body"])
    answer = json.loads(recording["response"]["body"]["string"])
    row = answer["data"][0]
    sub = request["subscriptions"][0]
    body = {k: row[k] for k in ("location", "tags", "identity", "properties")}
    emulator.load_fleet({"subscriptions": [{"id": sub, "resource_groups": [{"name": "clitest-dpp-rg", "location": "centraluseuap",
                                                                           "vaults": [{"name": row["name"], "type": "backup",
                                                                                       "body": body}]}]}]})
    emulator.throttle("azure")
    try:
        # The recording's query names the vault by an id whose subscription was sanitised to zeros.
        query = request["query"].replace("00000000-0000-0000-0000-000000000000", sub)
        resp = emulator.graph_query(query, request["subscriptions"], api_version="2021-03-01", top=request["options"]["$top"],
                                    skip=request["options"]["$skip"], resultFormat=request["options"]["resultFormat"],
                                    allowPartialScopes=request["options"]["allowPartialScopes"])
        got = _ok(resp)
        assert set(got) == set(answer)
        assert (got["totalRecords"], got["count"], got["facets"], got["resultTruncated"]) == (1, 1, [], "false")
        mine = got["data"][0]
        assert set(mine) == set(row)
        for key in ("name", "type", "kind", "location", "resourceGroup", "subscriptionId", "managedBy", "sku", "plan",
                    "properties", "tags", "identity", "zones", "extendedLocation"):
            assert mine[key] == row[key], key
        assert mine["id"].lower() == row["id"].lower().replace("00000000-0000-0000-0000-000000000000", sub)
        assert mine["tenantId"] == emulator.endpoint["tenant_id"]
        # Recorded headers of the first query of a quota window.
        for header in ("x-ms-user-quota-remaining", "x-ms-user-quota-resets-after", "x-ms-ratelimit-remaining-tenant-resource-requests"):
            assert resp.headers[header] == recording["response"]["headers"][header][0], header
        assert resp.headers["x-ms-resource-graph-request-duration"].startswith("0:00:00:00.")
    finally:
        emulator.throttle("off")


# ---------------------------------------------------------------------------------------------- Microsoft's SDK
def _sdk(emulator, **kw):
    from azure.mgmt.resourcegraph import ResourceGraphClient  # pylint: disable=import-outside-toplevel

    kw.setdefault("retry_total", 0)
    return ResourceGraphClient(emulator.credential(), base_url=emulator.arm_url,
                               credential_scopes=[emulator.endpoint["audience"] + ".default"],
                               connection_verify=emulator.ca_bundle, **kw)


@pytest.mark.parametrize("api_version", ["2021-03-01", "2022-10-01", "2024-04-01"])
def test_microsofts_resource_graph_sdk_pages_through_the_answer(graph, api_version):
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions  # pylint: disable=import-outside-toplevel

    client = _sdk(graph, api_version=api_version)
    rows, token, calls = [], None, 0
    while True:
        answer = client.resources(QueryRequest(subscriptions=[SUB1, SUB2], query=VAULTS,
                                               options=QueryRequestOptions(top=2, skip_token=token, result_format="objectArray")))
        calls += 1
        assert answer.total_records == 4 and answer.result_truncated == "false"
        rows.extend(answer.data)
        token = answer.skip_token
        if not token:
            break
    assert calls == 2 and [r["id"] for r in rows] == sorted(r["id"] for r in rows)  # order by id asc
    assert {r["name"] for r in rows} == {"rsv-prod", "bv-prod", "rsv-dev", "bv-two"}
    assert all(e["query"]["api-version"] == api_version for e in graph.journal())


def test_microsofts_sdk_reads_the_errors(graph):
    from azure.mgmt.resourcegraph.models import QueryRequest  # pylint: disable=import-outside-toplevel

    client = _sdk(graph)
    with pytest.raises(HttpResponseError) as err:
        client.resources(QueryRequest(subscriptions=[SUB1], query="resources | summarize count() by type"))
    assert err.value.status_code == 400 and err.value.error.code == "BadRequest"
    graph.throttle("azure")
    try:
        for _count in range(15):
            client.resources(QueryRequest(subscriptions=[SUB1], query="resources | project id"))
        with pytest.raises(HttpResponseError) as err:
            client.resources(QueryRequest(subscriptions=[SUB1], query="resources | project id"))
        assert err.value.status_code == 429 and err.value.error.code == "RateLimiting"
    finally:
        graph.throttle("off")


# ---------------------------------------------------------------------------------------------- served shapes
def test_vault_rows_are_arm_bodies_with_lower_cased_type(graph):
    rows = _ok(graph.graph_query("resources | where %s" % VAULT_TYPES, [SUB1, SUB2]))["data"]
    assert len(rows) == 4
    for row in rows:
        stored = graph.resource(row["id"])
        assert row["type"] == stored["type"].lower()
        assert row["properties"] == stored["properties"] and row["tags"] == stored["tags"]
        assert row["subscriptionId"] in (SUB1, SUB2) and row["id"].split("/")[4] == row["resourceGroup"]
        assert set(row) == {"id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId", "managedBy",
                            "sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation"}
    rs = [r for r in rows if r["name"] == "rsv-prod"][0]
    assert rs["properties"]["securitySettings"]["immutabilitySettings"]["state"] == "Unlocked"
    dev = [r for r in rows if r["name"] == "rsv-dev"][0]
    assert "immutabilitySettings" not in dev["properties"]["securitySettings"]  # never set: no key (recording)


@pytest.mark.parametrize("where,names", [
    ("where type =~ 'Microsoft.RecoveryServices/vaults'", {"rsv-prod", "rsv-dev"}),
    ("where type == 'microsoft.dataprotection/backupvaults'", {"bv-prod", "bv-two"}),
    ("where type == 'Microsoft.DataProtection/backupVaults'", set()),
    ("where %s | where resourceGroup in~ ('RG-PROD', 'rg-two')" % VAULT_TYPES, {"rsv-prod", "bv-prod", "bv-two"}),
    ("where %s and subscriptionId == '%s'" % (VAULT_TYPES, SUB2), {"bv-two"}),
    ("where %s | where tags['env'] == 'prod'" % VAULT_TYPES, {"bv-prod", "bv-two"}),
    ("where %s | extend ltags = parse_json(tolower(tostring(tags))) | where ltags['env'] == 'prod'" % VAULT_TYPES,
     {"rsv-prod", "bv-prod", "bv-two"}),
    ("where %s | where isnotnull(tags['team'])" % VAULT_TYPES, {"rsv-prod", "bv-two"}),
    ("where %s | where isnull(tags['team']) and name !in ('rsv-dev')" % VAULT_TYPES, {"bv-prod"}),
    ("where %s | where name != 'rsv-dev' and name !~ 'BV-PROD'" % VAULT_TYPES, {"rsv-prod", "bv-two"}),
])
def test_vault_filters(graph, where, names):
    rows = _ok(graph.graph_query("resources | " + where + " | project name", [SUB1, SUB2]))["data"]
    assert {r["name"] for r in rows} == names


def test_policies_and_items_of_both_kinds(graph):
    query = ("recoveryservicesresources | where type in~ ('microsoft.recoveryservices/vaults/backuppolicies', "
             "'microsoft.dataprotection/backupvaults/backuppolicies') | project id, name, type, properties | order by id asc")
    rows = _ok(graph.graph_query(query, [SUB1, SUB2]))["data"]
    assert sorted(r["name"] for r in rows) == ["DiskHourly", "SQLDaily", "VMDaily"]
    by_name = {r["name"]: r for r in rows}
    rs_vault = "/subscriptions/%s/resourceGroups/rg-prod/providers/Microsoft.RecoveryServices/vaults/rsv-prod" % SUB1
    stored = graph.resource(rs_vault + "/backupPolicies/VMDaily")
    # Recovery Services policy ids are lower-cased in this table (Learn's samples split them on the lower-cased path).
    assert by_name["VMDaily"]["id"] == stored["id"].lower() and by_name["VMDaily"]["properties"] == stored["properties"]
    assert by_name["VMDaily"]["properties"]["protectedItemsCount"] == 1
    assert by_name["DiskHourly"]["id"].endswith("/Microsoft.DataProtection/backupVaults/bv-prod/backupPolicies/DiskHourly")
    items = _ok(graph.graph_query("recoveryservicesresources | where type in~ ('microsoft.recoveryservices/vaults/backupfabrics/"
                                  "protectioncontainers/protecteditems', 'microsoft.dataprotection/backupvaults/backupinstances') "
                                  "| project id, name, type, properties", [SUB1, SUB2]))["data"]
    assert len(items) == 3
    vm = [i for i in items if i["name"].startswith("VM;")][0]
    assert vm["properties"]["policyName"] == "VMDaily" and vm["properties"]["workloadType"] == "VM"
    assert vm["properties"]["currentProtectionState"] == "ProtectionConfigured"
    assert vm["properties"]["dataSourceInfo"]["resourceID"] == vm["properties"]["sourceResourceId"]
    disk = [i for i in items if i["name"] == "disk-1"][0]
    assert disk["properties"]["dataSourceInfo"]["datasourceType"] == "Microsoft.Compute/disks"
    assert disk["properties"]["policyInfo"]["policyId"].endswith("/backupPolicies/DiskHourly")


def test_resource_containers_list_the_visible_subscriptions(graph):
    rows = _ok(graph.graph_query("resourcecontainers | where type == 'microsoft.resources/subscriptions' | project subscriptionId",
                                 [SUB1, SUB2, DENIED]))["data"]
    assert sorted(r["subscriptionId"] for r in rows) == [SUB1, SUB2]
    groups = _ok(graph.graph_query("resourcecontainers | where type == 'microsoft.resources/subscriptions/resourcegroups' "
                                   "| project name, subscriptionId", [SUB1]))["data"]
    assert sorted(r["name"] for r in groups) == ["rg-dev", "rg-prod"]


def test_the_recorded_id_filter_shape(graph):
    vid = "/subscriptions/%s/resourceGroups/rg-prod/providers/Microsoft.DataProtection/BackupVaults/BV-PROD" % SUB1
    rows = _ok(graph.graph_query("resources | where type =~ 'microsoft.dataprotection/backupvaults' | where id in~ ('%s')" % vid,
                                 [SUB1]))["data"]
    assert [r["name"] for r in rows] == ["bv-prod"]


def test_table_result_format(graph):
    data = _ok(graph.graph_query("resources | where %s | project id, tags | order by id desc" % VAULT_TYPES, [SUB2],
                                 resultFormat="table"))["data"]
    assert data["columns"] == [{"name": "id", "type": "string"}, {"name": "tags", "type": "object"}]
    assert data["rows"][0][1] == {"env": "prod", "team": "b"}


# ---------------------------------------------------------------------------------------------- paging
def test_pages_hold_at_most_1000_rows_and_continue_with_the_skip_token(emulator):
    info = emulator.generate(1100, 1, seed="paging")
    sub = info["subscription_ids"][0]
    query = "resources | where %s | project id, name | order by id asc" % VAULT_TYPES
    first = _ok(emulator.graph_query(query, [sub], top=1000))
    assert (first["totalRecords"], first["count"], first["resultTruncated"]) == (1100, 1000, "false") and first["$skipToken"]
    second = _ok(emulator.graph_query(query, [sub], top=1000, skip_token=first["$skipToken"]))
    assert (second["count"], second["resultTruncated"]) == (100, "false") and "$skipToken" not in second
    ids = [r["id"] for r in first["data"] + second["data"]]
    assert ids == sorted(ids) and len(set(ids)) == 1100
    assert _ok(emulator.graph_query(query, [sub]))["count"] == 1000  # default page size
    skipped = _ok(emulator.graph_query(query, [sub], top=5, skip=1098))
    assert [r["id"] for r in skipped["data"]] == ids[1098:]
    # Only dynamic columns: no paging is possible, the answer says it was truncated (Learn: paging results).
    dynamic = _ok(emulator.graph_query("resources | project properties", [sub], top=10))
    assert dynamic["resultTruncated"] == "true" and "$skipToken" not in dynamic
    code, details = _details(emulator.graph_query(query, [sub], top=1001))
    assert code == "BadRequest" and details[0]["code"] == "InvalidRequestOptions"
    # A token only continues its own query and scopes.
    code, details = _details(emulator.graph_query(query.replace("asc", "desc"), [sub], skip_token=first["$skipToken"]))
    assert details[0]["code"] == "InvalidSkipToken"
    code, details = _details(emulator.graph_query(query, [sub], skip_token="not-a-token"))
    assert details[0]["code"] == "InvalidSkipToken"


# ---------------------------------------------------------------------------------------------- scopes
def test_subscriptions_the_principal_cannot_read_are_left_out(graph):
    rows = _ok(graph.graph_query(VAULTS, [SUB1, DENIED]))["data"]
    assert {r["subscriptionId"] for r in rows} == {SUB1}
    code, details = _details(graph.graph_query(VAULTS, [DENIED]))
    assert code == "BadRequest"
    assert details == [{"code": "NoValidSubscriptionsInQueryRequest",
                        "message": "There must be at least one subscription that is eligible to contain resources. "
                                   "Given: '%s'." % DENIED}]
    code, details = _details(graph.graph_query(VAULTS, []))
    assert details[0]["message"].endswith("Given: ''.")


def test_tenant_scope_and_partial_scopes(graph):
    rows = _ok(graph.graph_query(VAULTS))["data"]
    assert {r["subscriptionId"] for r in rows} == {SUB1, SUB2}
    graph.settings(arg_tenant_subscription_limit=1)
    code, details = _details(graph.graph_query(VAULTS))
    assert details[0]["code"] == "TooManySubscriptionsUnderScope"
    assert "exceeded the allowed limit 1. Please select a more granular scope or allow partial scopes" in details[0]["message"]
    resp = graph.graph_query(VAULTS, allowPartialScopes=True)
    assert {r["subscriptionId"] for r in _ok(resp)["data"]} == {SUB1}
    assert resp.headers["x-ms-tenant-subscription-limit-hit"] == "true"


def test_a_reader_may_query_and_queries_are_not_writes(graph):
    token = graph.mint_token(client_id=graph.endpoint["readonly_client_id"])
    assert _ok(graph.graph_query(VAULTS, [SUB1], token=token))["totalRecords"] == 3
    assert graph.writes() == []


# ---------------------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("query,detail", [
    ("resources | summarize count() by type", {"code": "InvalidQueryLanguage", "token": "count", "line": -1}),
    ("resources | summarize n = make_set(name) by type", {"code": "InvalidQueryLanguage", "token": "make_set"}),
    ("resources | summarize p = make_list(pack('t', tags)) by tags", {"code": "ParserFailure", "token": "tags"}),
    ("resources | where type == 'a' or type == 'b'", {"code": "InvalidQueryLanguage", "token": "or"}),
    ("resources | join (resourcecontainers) on subscriptionId", {"code": "InvalidQueryLanguage", "token": "join"}),
    ("resources | take 5", {"code": "InvalidQueryLanguage", "token": "take"}),
    ("resources | where type = 'x'", {"code": "ParserFailure", "token": "=", "line": 1, "characterPositionInLine": 23}),
    ("resources\n| where typo == 'x'", {"code": "ParserFailure", "token": "typo", "line": 2, "characterPositionInLine": 8}),
    ("securityresources | project id", {"code": "ParserFailure", "token": "securityresources"}),
    ("resources | project id | where name == 'x'", {"code": "ParserFailure", "token": "name"}),
    ("resources | Where type == 'x'", {"code": "ParserFailure", "token": "Where"}),
    ("", {"code": "ParserFailure", "token": "<EOF>"}),
])
def test_queries_outside_the_served_shapes_get_resource_graphs_error(graph, query, detail):
    code, details = _details(graph.graph_query(query, [SUB1]))
    assert code == "BadRequest"
    assert details[0] == {"code": "InvalidQuery", "message": "Query is invalid. Please refer to the documentation for the Azure "
                                                             "Resource Graph service and fix the error before retrying."}
    for key, value in detail.items():
        assert details[1][key] == value, (key, details[1])


def test_request_errors(graph):
    resp = graph.graph_query(VAULTS, [SUB1], api_version="2019-04-01")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "NoRegisteredProviderFound"
    resp = graph.arm_request("POST", "providers/Microsoft.ResourceGraph/resources", "2021-03-01", body={"subscriptions": [SUB1]})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidRequestContent"
    resp = graph.arm_request("GET", "providers/Microsoft.ResourceGraph/resources", "2021-03-01")
    assert resp.status_code == 405
    code, details = _details(graph.graph_query(VAULTS, [SUB1], resultFormat="csv"))
    assert details[0]["code"] == "InvalidRequestOptions"
    body = {"query": VAULTS, "managementGroups": ["mg1"]}
    resp = graph.arm_request("POST", "providers/Microsoft.ResourceGraph/resources", "2021-03-01", body=body)
    assert resp.status_code == 400 and resp.json()["error"]["details"][0]["code"] == "UnsupportedScope"


def test_quota_headers_on_every_answer_without_throttling(graph):
    """Learn (guidance-for-throttled-requests): "In every query response, Azure Resource Graph adds two throttling
    headers"; without throttle azure they count against a quota no test exhausts (tests/emulator/throttle.py)."""
    assert graph.settings()["throttle"] == "off"
    graph.clock(freeze=True)
    seen = []
    for _query in range(20):
        resp = graph.arm_request("POST", "providers/Microsoft.ResourceGraph/resources", "2024-04-01",
                                 {"subscriptions": [SUB1], "query": VAULTS})
        assert resp.status_code == 200
        seen.append((int(resp.headers["x-ms-user-quota-remaining"]), resp.headers["x-ms-user-quota-resets-after"]))
    assert [r for r, _after in seen] == sorted((r for r, _after in seen), reverse=True) and seen[-1][0] > 0
    assert {after for _r, after in seen} == {"00:00:05"}  # a frozen clock: the window has not moved
    graph.clock(advance_s=5)
    again = graph.arm_request("POST", "providers/Microsoft.ResourceGraph/resources", "2024-04-01",
                              {"subscriptions": [SUB1], "query": VAULTS})
    assert int(again.headers["x-ms-user-quota-remaining"]) == seen[0][0]  # a new window
