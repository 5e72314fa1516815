# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: the strict reader of the served Resource Graph query shapes (tests/emulator/kql.py)."""
from __future__ import annotations

import pytest

from tests.emulator import kql

ROWS = [
    {"id": "/x/B", "name": "b", "type": "microsoft.recoveryservices/vaults", "tags": {"Env": "PROD", "it's": "o'k"}},
    {"id": "/x/a", "name": "a", "type": "microsoft.dataprotection/backupvaults", "tags": {"env": "prod"}},
    {"id": "/x/c", "name": "c", "type": "microsoft.dataprotection/backupvaults", "tags": None},
]


def names(query):
    return [r["name"] for r in kql.parse(query).run(ROWS)]


def test_operators_compare_as_kql_does():
    assert names("resources | where type == 'microsoft.recoveryservices/vaults'") == ["b"]
    assert names("resources | where type == 'Microsoft.RecoveryServices/vaults'") == []
    assert names("resources | where type =~ 'Microsoft.RecoveryServices/vaults'") == ["b"]
    assert names("resources | where name in ('A', 'b')") == ["b"]
    assert names("resources | where name in~ ('A', 'b')") == ["b", "a"]
    assert names("resources | where name !in~ ('A')") == ["b", "c"]
    assert names("resources | where tags['env'] == 'prod'") == ["a"]
    assert names("resources | where isnull(tags['env'])") == ["b", "c"]


def test_strings_escapes_comments_and_verbatim():
    assert names("resources // vaults\n| where tags['it\\'s'] == \"o'k\"") == ["b"]
    assert names("resources | where tags[@\"it's\"] == 'o\\'k'") == ["b"]
    with pytest.raises(kql.KqlError) as err:
        kql.parse("resources | where name == 'a\\q'")
    assert err.value.detail["code"] == "ParserFailure"


def test_extend_lowers_tags_for_case_insensitive_keys():
    assert names("resources | extend ltags = parse_json(tolower(tostring(tags))) | where ltags['env'] == 'prod'") == ["b", "a"]
    query = kql.parse("resources | extend ltags = parse_json(tolower(tostring(tags))) | project id, ltags")
    assert query.columns == ["id", "ltags"] and query.pageable
    assert not kql.parse("resources | project tags, properties").pageable
    for bad in ("resources | extend ltags = tostring(tags)", "resources | extend id = parse_json(tolower(tostring(tags)))"):
        with pytest.raises(kql.KqlError):
            kql.parse(bad)


def test_order_is_descending_unless_asked():
    assert names("resources | order by name") == ["c", "b", "a"]
    assert names("resources | sort by name asc") == ["a", "b", "c"]
    assert [r["id"] for r in kql.parse("resources | project id | order by id asc").run(ROWS)] == ["/x/B", "/x/a", "/x/c"]


def test_project_keeps_the_named_columns_in_order():
    assert kql.parse("resources | project name, id").run(ROWS)[0] == {"name": "b", "id": "/x/B"}
    for bad in ("resources | project id, id", "resources | project id | order by name", "resources | project Id"):
        with pytest.raises(kql.KqlError) as err:
            kql.parse(bad)
        assert err.value.detail["code"] == "ParserFailure"


def test_errors_name_line_position_and_token():
    with pytest.raises(kql.KqlError) as err:
        kql.parse("resources\n| where type == 'x'\n| where name =? 'y'")
    assert err.value.detail == {"code": "ParserFailure", "message": "ParserFailure", "line": 3, "characterPositionInLine": 13,
                                "token": "="}
    with pytest.raises(kql.KqlError) as err:
        kql.parse("resources | mv-expand tags")
    assert err.value.detail["code"] == "InvalidQueryLanguage" and err.value.detail["token"] == "mv-expand"
    with pytest.raises(kql.KqlError) as err:
        kql.parse("resources | where type == 'a' | ")
    assert err.value.detail["token"] == "<EOF>"


def test_rows_are_not_modified():
    before = repr(ROWS)
    kql.parse("resources | extend ltags = parse_json(tolower(tostring(tags))) | project id, ltags | order by id asc").run(ROWS)
    assert repr(ROWS) == before


CHILDREN = [
    {"id": "/x/b/backupPolicies/p1", "name": "p1", "type": "microsoft.recoveryservices/vaults/backuppolicies", "properties": {"n": 1}},
    {"id": "/X/B/backuppolicies/p2", "name": "p2", "type": "microsoft.recoveryservices/vaults/backuppolicies", "properties": {"n": 2}},
    {"id": "/x/a/backuppolicies/p3", "name": "p3", "type": "microsoft.dataprotection/backupvaults/backuppolicies", "properties": None},
]
GROUPED = ("recoveryservicesresources | extend vaultId = tostring(split(tolower(id), '/backuppolicies/')[0]) "
           "| summarize policies = make_list(pack('name', name, 'properties', properties)) by vaultId")


def test_summarize_makes_a_row_per_key_with_the_packed_rows():
    query = kql.parse(GROUPED + " | order by vaultId asc")
    assert query.columns == ["vaultId", "policies"] and "policies" in query.dynamic and query.pageable
    assert query.run(CHILDREN) == [
        {"vaultId": "/x/a", "policies": [{"name": "p3", "properties": None}]},
        {"vaultId": "/x/b", "policies": [{"name": "p1", "properties": {"n": 1}}, {"name": "p2", "properties": {"n": 2}}]}]


def test_a_left_outer_join_keeps_every_left_row_and_renames_a_right_column_the_left_has():
    query = kql.parse("resources | extend vaultId = tolower(id) | join kind=leftouter (" + GROUPED + ") on vaultId "
                      "| project id, vaultId, vaultId1, policies | order by id asc")
    rows = query.run(ROWS, {"recoveryservicesresources": CHILDREN}.get)
    assert [(r["id"], r["vaultId"], r["vaultId1"], len(r["policies"] or [])) for r in rows] == [
        ("/x/B", "/x/b", "/x/b", 2), ("/x/a", "/x/a", "/x/a", 1), ("/x/c", "/x/c", None, 0)]
    assert rows[2]["policies"] is None and query.pageable


@pytest.mark.parametrize("query,code,token", [
    ("resources | join (resourcecontainers) on subscriptionId", "InvalidQueryLanguage", "join"),
    ("resources | join kind=inner (resourcecontainers) on subscriptionId", "InvalidQueryLanguage", "join"),
    ("resources | join kind=leftouter (resourcecontainers | project name) on subscriptionId", "ParserFailure", "subscriptionId"),
    ("resources | join kind=leftouter (resourcecontainers) on tags", "ParserFailure", "tags"),
    ("resources | join kind=leftouter () on id", "ParserFailure", "("),
    ("resources | extend k = tolower(tags) | summarize p = make_list(pack('n', name)) by k", None, None),
])
def test_joins_and_groupings_outside_the_served_shapes(query, code, token):
    if code is None:
        kql.parse(query)
        return
    with pytest.raises(kql.KqlError) as err:
        kql.parse(query)
    assert err.value.detail["code"] == code and err.value.detail["token"] == token


def test_unserved_words_are_refused_as_not_served():
    with pytest.raises(kql.KqlError) as err:
        kql.parse(GROUPED, unserved=["summarize"])
    assert err.value.detail == {"code": "InvalidQueryLanguage", "message": "InvalidQueryLanguage", "line": -1,
                                "characterPositionInLine": -1, "token": "summarize"}
    kql.parse(GROUPED, unserved=["join"])
