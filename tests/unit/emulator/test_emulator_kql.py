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
