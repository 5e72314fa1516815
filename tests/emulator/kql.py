# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small, strict reader of the Kusto (KQL) query shapes the emulator's Resource Graph serves.

Served grammar (keywords and functions as KQL spells them; table names case-insensitive)::

    query     := table ( '|' operator )*
    table     := resources | recoveryservicesresources | resourcecontainers
    operator  := 'where' condition ( 'and' condition )*
               | 'extend' NAME '=' 'parse_json' '(' 'tolower' '(' 'tostring' '(' COLUMN ')' ')' ')'
               | 'extend' NAME '=' 'tostring' '(' 'split' '(' 'tolower' '(' COLUMN ')' ',' STRING ')' '[' '0' ']' ')'
               | 'extend' NAME '=' 'tolower' '(' COLUMN ')'
               | 'summarize' NAME '=' 'make_list' '(' 'pack' '(' STRING ',' COLUMN ( ',' STRING ',' COLUMN )* ')' ')'
                 'by' COLUMN
               | 'join' 'kind' '=' 'leftouter' '(' query ')' 'on' COLUMN
               | 'project' COLUMN ( ',' COLUMN )*
               | ( 'order' | 'sort' ) 'by' COLUMN [ 'asc' | 'desc' ]
    condition := COLUMN ( '==' | '=~' | '!=' | '!~' ) STRING
               | COLUMN ( 'in' | 'in~' | '!in' | '!in~' ) '(' STRING ( ',' STRING )* ')'
               | COLUMN '[' STRING ']' ( '==' | '=~' ) STRING
               | ( 'isnotnull' | 'isnull' ) '(' COLUMN '[' STRING ']' ')'

The second extend is the text before the first ``STRING`` in the lower-cased column (KQL ``split`` gives the whole
text when the separator is absent), a string column. ``summarize`` makes one row per distinct value of its ``by``
column (a string column), with that column first and the list of ``pack``ed bags of each group's rows second (a
dynamic column), groups in the order their first row came. ``join kind=leftouter`` keeps every row of its left side,
each with the columns of the right side's rows whose ``on`` column (a string column of both sides) holds the same value
(a row per match; null columns when none matches); a right column whose name the left side has is renamed with a ``1``
after it, the right ``on`` column included, as Kusto does.

Strings are '...' or "..." with KQL's backslash escapes, or verbatim @'...'. Comments (//) are skipped.
Anything else is refused with Resource Graph's own error shape (``KqlError``): a KQL operator or function outside
this grammar gets ``InvalidQueryLanguage`` naming it, everything else ``ParserFailure`` with line and position.
"""
from __future__ import annotations

import json
import re

TABLES = ("resources", "recoveryservicesresources", "resourcecontainers")
# Columns of every row of these tables (the recorded row has exactly these keys).
COLUMNS = ("id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId", "managedBy", "sku",
           "plan", "properties", "tags", "identity", "zones", "extendedLocation")
# Columns whose values are dynamic (objects, arrays or null); paging needs at least one other column (Learn).
DYNAMIC_COLUMNS = ("sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation")
OPERATORS = ("where", "extend", "summarize", "project", "order", "sort")
# KQL tabular operators and functions the emulator knows to exist (and serves only in the shapes above).
KNOWN_KQL = ("summarize", "make_list", "make_set", "pack", "bag_pack", "join", "union", "count", "take", "limit", "top",
             "distinct", "mv-expand", "mvexpand", "mv-apply",
             "parse", "project-away", "project-keep", "project-rename", "project-reorder", "sample", "sample-distinct",
             "serialize", "as", "lookup", "range", "print", "let", "search", "find", "render", "invoke", "evaluate",
             "extend", "contains", "has", "startswith", "endswith", "matches", "or", "not", "between", "tostring",
             "tolower", "toupper", "split", "strcat", "case", "iff", "iif", "isnotempty", "isempty", "bag_keys",
             "parse_json", "todynamic", "ago", "now", "has_any", "in", "has_all", "contains_cs", "has_cs")

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>//[^\n]*)
  | (?P<string>@'[^']*'|@"[^"]*"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<op>==|=~|!=|!~|!in~|!in|in~|[|()\[\],=.])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z]+)?)
  | (?P<number>[0-9]+(?:\.[0-9]+)?)
  | (?P<other>[^\s'"])
""", re.VERBOSE)
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


class KqlError(Exception):
    """A query Resource Graph would refuse: ``detail`` is the second entry of ARG's ``details`` list."""

    def __init__(self, code: str, message: str, line: int = -1, position: int = -1, token: str = ""):
        super().__init__("%s at %s:%s near %r" % (code, line, position, token))
        self.detail = {"code": code, "message": message, "line": line, "characterPositionInLine": position, "token": token}


class Token:  # pylint: disable=too-few-public-methods
    __slots__ = ("kind", "text", "value", "line", "column")

    def __init__(self, kind, text, value, line, column):
        self.kind = kind
        self.text = text
        self.value = value
        self.line = line
        self.column = column


def _unquote(text: str) -> str:
    if text.startswith("@"):
        return text[2:-1]
    body = text[1:-1]
    out = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                raise ValueError(nxt)
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def parser_failure(token) -> KqlError:
    if token is None:
        return KqlError("ParserFailure", "ParserFailure", -1, -1, "<EOF>")
    return KqlError("ParserFailure", "ParserFailure", token.line, token.column, token.text)


def tokenize(text: str) -> list:
    tokens = []
    pos = 0
    line, line_start = 1, 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        column = pos - line_start
        if not match:
            raise KqlError("ParserFailure", "ParserFailure", line, column, text[pos:pos + 1])
        kind = match.lastgroup
        chunk = match.group(kind)
        if kind == "string":
            try:
                tokens.append(Token("string", chunk, _unquote(chunk), line, column))
            except ValueError as exc:
                raise KqlError("ParserFailure", "ParserFailure", line, column, chunk) from exc
        elif kind in ("op", "word", "number", "other"):
            tokens.append(Token(kind, chunk, chunk, line, column))
        newlines = chunk.count("\n")
        if newlines:
            line += newlines
            line_start = pos + chunk.rfind("\n") + 1
        pos = match.end()
    return tokens


class Condition:  # pylint: disable=too-few-public-methods
    """One conjunct of a where: (column, key or None, operator, values) or a null test."""

    __slots__ = ("column", "key", "op", "values")

    def __init__(self, column, key, op, values):
        self.column = column
        self.key = key
        self.op = op
        self.values = values

    def matches(self, row) -> bool:
        value = row.get(self.column)
        if self.key is not None:
            value = value.get(self.key) if isinstance(value, dict) else None
        if self.op == "isnotnull":
            return value is not None
        if self.op == "isnull":
            return value is None
        if value is None or isinstance(value, (dict, list)):
            return self.op.startswith("!")
        text = value if isinstance(value, str) else json.dumps(value)
        insensitive = self.op.endswith("~")
        if insensitive:
            text = text.lower()
            wanted = [v.lower() for v in self.values]
        else:
            wanted = self.values
        hit = text in wanted
        return not hit if self.op.startswith("!") else hit


class Query:
    """A parsed query: table, then its operators in order."""

    def __init__(self, table):
        self.table = table
        # ("where", [Condition]) | ("extend", name, column) | ("before", name, column, separator)
        # | ("summarize", name, [(key, column)], by) | ("project", [cols]) | ("order", col, desc)
        self.steps = []
        self.columns = list(COLUMNS)
        self.dynamic = set(DYNAMIC_COLUMNS)     # the columns whose values are dynamic (objects, arrays or null)

    def run(self, rows, tables=None) -> list:
        """Rows (dicts with COLUMNS) -> result rows. Input rows are never modified. ``tables(name)``: the rows of another
        table (the right side of a join), in the same scope."""
        current = rows
        for step in self.steps:
            if step[0] == "where":
                conditions = step[1]
                current = [r for r in current if all(c.matches(r) for c in conditions)]
            elif step[0] == "extend":
                name, column = step[1], step[2]
                current = [dict(r, **{name: _lowered_json(r.get(column))}) for r in current]
            elif step[0] == "before":
                name, column, separator = step[1], step[2], step[3]
                current = [dict(r, **{name: _before(r.get(column), separator)}) for r in current]
            elif step[0] == "lower":
                name, column = step[1], step[2]
                current = [dict(r, **{name: _lower(r.get(column))}) for r in current]
            elif step[0] == "summarize":
                current = _summarize(current, step[1], step[2], step[3])
            elif step[0] == "join":
                if tables is None:
                    raise ValueError("a join needs the rows of its right table")
                right, key, renamed = step[1], step[2], step[3]
                current = _left_outer(current, right.run(tables(right.table), tables), key, renamed)
            elif step[0] == "project":
                cols = step[1]
                current = [{c: r.get(c) for c in cols} for r in current]
            else:
                column, desc = step[1], step[2]
                current = sorted(current, key=lambda r, c=column: _sort_key(r.get(c)), reverse=desc)
        return current

    @property
    def pageable(self) -> bool:
        """Paging needs at least one output column that is not dynamic (Learn: paging results)."""
        return any(c not in self.dynamic for c in self.columns)


def _lower(value):
    """KQL ``tolower(value)``: the lower-cased text ("" for null)."""
    if value is None:
        return ""
    return (value if isinstance(value, str) else json.dumps(value)).lower()


def _before(value, separator):
    """KQL ``tostring(split(tolower(value), separator)[0])``: the lower-cased text up to the separator ("" for null)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.lower().split(separator)[0]


def _left_outer(left, right, key, renamed):
    """``join kind=leftouter (right) on key``: each left row with the columns of each right row of the same key
    (``renamed``: right column -> output name), or with those columns null when none matches."""
    index = {}
    for row in right:
        index.setdefault(row.get(key), []).append(row)
    out = []
    for row in left:
        matches = index.get(row.get(key)) or [None]
        for match in matches:
            joined = dict(row)
            for column, name in renamed:
                joined[name] = match.get(column) if match is not None else None
            out.append(joined)
    return out


def _summarize(rows, name, packed, by):
    """``summarize name = make_list(pack(key, column, ...)) by by``: one row per distinct ``by`` value."""
    groups = {}
    for row in rows:
        key = row.get(by)
        key = key if isinstance(key, str) else json.dumps(key)
        groups.setdefault(key, []).append({k: row.get(column) for k, column in packed})
    return [{by: key, name: bags} for key, bags in groups.items()]


def _lowered_json(value):
    if value is None:
        return None
    return json.loads(json.dumps(value).lower())


def _sort_key(value):
    if value is None:
        return (0, "")
    return (1, value if isinstance(value, str) else json.dumps(value, sort_keys=True))


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self):
        token = self.peek()
        if token is None:
            raise parser_failure(None)
        self.pos += 1
        return token

    def expect(self, kind, text=None, fold=False):
        token = self.take()
        matched = token.kind == kind and (text is None or (token.text.lower() == text if fold else token.text == text))
        if not matched:
            self.refuse(token)
        return token

    @staticmethod
    def refuse(token):
        """ParserFailure for a token, or InvalidQueryLanguage when it is KQL the emulator does not serve."""
        if token is not None and token.kind == "word" and token.text.lower() in KNOWN_KQL:
            raise KqlError("InvalidQueryLanguage", "InvalidQueryLanguage", -1, -1, token.text)
        raise parser_failure(token)

    def column(self, query):
        token = self.expect("word")
        if token.text not in query.columns:
            self.refuse(token)
        return token.text

    def parse(self) -> Query:
        if not self.tokens:
            raise parser_failure(None)
        first = self.take()
        if first.kind != "word" or first.text.lower() not in TABLES:
            self.refuse(first)
        query = Query(first.text.lower())
        while self.peek() is not None:
            self.expect("op", "|")
            word = self.take()
            name = word.text if word.kind == "word" else ""  # KQL keywords are case-sensitive
            if name == "where":
                query.steps.append(("where", self.where(query)))
            elif name == "extend":
                self.extend(query)
            elif name == "summarize":
                self.summarize(query)
            elif name == "join":
                self.join(query)
            elif name == "project":
                cols = [self.column(query)]
                while self.peek() is not None and self.peek().text == ",":
                    self.take()
                    cols.append(self.column(query))
                if len(set(cols)) != len(cols):
                    raise parser_failure(word)
                query.steps.append(("project", cols))
                query.columns = cols
            elif name in ("order", "sort"):
                self.expect("word", "by")
                col = self.column(query)
                desc = True  # KQL sorts descending unless told otherwise
                nxt = self.peek()
                if nxt is not None and nxt.kind == "word" and nxt.text in ("asc", "desc"):
                    desc = self.take().text == "desc"
                query.steps.append(("order", col, desc))
            else:
                self.refuse(word)
        return query

    def where(self, query):
        conditions = [self.condition(query)]
        while self.peek() is not None and self.peek().kind == "word" and self.peek().text == "and":
            self.take()
            conditions.append(self.condition(query))
        nxt = self.peek()
        if nxt is not None and nxt.text != "|":
            self.refuse(nxt)
        return conditions

    def condition(self, query):
        token = self.peek()
        if token is not None and token.kind == "word" and token.text in ("isnotnull", "isnull"):
            self.take()
            self.expect("op", "(")
            col = self.column(query)
            self.expect("op", "[")
            key = self.expect("string").value
            self.expect("op", "]")
            self.expect("op", ")")
            return Condition(col, key, token.text, None)
        col = self.column(query)
        key = None
        nxt = self.peek()
        if nxt is not None and nxt.text == "[":
            self.take()
            key = self.expect("string").value
            self.expect("op", "]")
        op = self.take()
        if op.kind == "op" and op.text in ("==", "=~", "!=", "!~"):
            return Condition(col, key, op.text, [self.expect("string").value])
        if key is None and ((op.kind == "op" and op.text in ("in~", "!in", "!in~")) or (op.kind == "word" and op.text == "in")):
            self.expect("op", "(")
            values = [self.expect("string").value]
            while self.peek() is not None and self.peek().text == ",":
                self.take()
                values.append(self.expect("string").value)
            self.expect("op", ")")
            return Condition(col, None, op.text, values)
        self.refuse(op)
        return None

    def extend(self, query):
        name = self.expect("word")
        if name.text in query.columns or name.text.lower() in KNOWN_KQL:
            raise parser_failure(name)
        self.expect("op", "=")
        first = self.peek()
        if first is not None and first.kind == "word" and first.text == "tolower":
            self.take()
            self.expect("op", "(")
            col = self.column(query)
            self.expect("op", ")")
            query.steps.append(("lower", name.text, col))
            query.columns = query.columns + [name.text]
            return
        if first is not None and first.kind == "word" and first.text == "tostring":
            # tostring(split(tolower(COLUMN), STRING)[0])
            for func in ("tostring", "split", "tolower"):
                self.expect("word", func)
                self.expect("op", "(")
            col = self.column(query)
            self.expect("op", ")")
            self.expect("op", ",")
            separator = self.expect("string").value
            self.expect("op", ")")
            self.expect("op", "[")
            self.expect("number", "0")
            self.expect("op", "]")
            self.expect("op", ")")
            query.steps.append(("before", name.text, col, separator.lower()))
            query.columns = query.columns + [name.text]
            return
        for func in ("parse_json", "tolower", "tostring"):
            self.expect("word", func)
            self.expect("op", "(")
        col = self.column(query)
        for _closing in range(3):
            self.expect("op", ")")
        query.steps.append(("extend", name.text, col))
        query.columns = query.columns + [name.text]
        query.dynamic.add(name.text)

    def join(self, query):
        # Only `join kind=leftouter (...) on COLUMN` is served: another join is KQL the emulator does not serve.
        shape = [(t.kind, t.text) for t in self.tokens[self.pos:self.pos + 4]]
        if shape != [("word", "kind"), ("op", "="), ("word", "leftouter"), ("op", "(")]:
            raise KqlError("InvalidQueryLanguage", "InvalidQueryLanguage", -1, -1, "join")
        self.pos += 3
        opening = self.expect("op", "(")
        depth, start = 1, self.pos
        while depth:
            token = self.take()
            if token.text == "(" and token.kind == "op":
                depth += 1
            elif token.text == ")" and token.kind == "op":
                depth -= 1
        inner = self.tokens[start:self.pos - 1]
        if not inner:
            raise parser_failure(opening)
        right = _Parser(inner).parse()
        self.expect("word", "on")
        key = self.expect("word")
        if key.text not in query.columns or key.text not in right.columns or key.text in query.dynamic or key.text in right.dynamic:
            self.refuse(key)
        renamed = []
        taken = set(query.columns)
        for column in right.columns:
            name = column + "1" if column in taken else column
            taken.add(name)
            renamed.append((column, name))
        query.steps.append(("join", right, key.text, renamed))
        query.columns = query.columns + [name for _column, name in renamed]
        query.dynamic = set(query.dynamic) | {name for column, name in renamed if column in right.dynamic}

    def summarize(self, query):
        name = self.expect("word")
        if name.text.lower() in KNOWN_KQL:
            self.refuse(name)           # an aggregation without a name (count(), ...) is not a served shape
        if name.text in query.columns:
            raise parser_failure(name)
        self.expect("op", "=")
        self.expect("word", "make_list")
        self.expect("op", "(")
        self.expect("word", "pack")
        self.expect("op", "(")
        packed = []
        while True:
            key = self.expect("string").value
            self.expect("op", ",")
            packed.append((key, self.column(query)))
            if self.peek() is not None and self.peek().text == ",":
                self.take()
                continue
            break
        if len(set(k for k, _c in packed)) != len(packed):
            raise parser_failure(name)
        self.expect("op", ")")
        self.expect("op", ")")
        self.expect("word", "by")
        by = self.column(query)
        if by in query.dynamic:
            self.refuse(self.tokens[self.pos - 1])
        query.steps.append(("summarize", name.text, packed, by))
        query.columns = [by, name.text]
        query.dynamic = set(query.dynamic) | {name.text}


def parse(text: str, unserved=()) -> Query:
    """Parse a query of the served shapes; raises KqlError otherwise. ``unserved``: KQL words (operators, functions) to
    answer as not served even where the grammar has them (setting ``graph_unserved``: a Resource Graph that refuses them)."""
    if not isinstance(text, str) or not text.strip():
        raise parser_failure(None)
    tokens = tokenize(text)
    refused = set(unserved or ())
    for token in tokens:
        if token.kind == "word" and token.text in refused:
            raise KqlError("InvalidQueryLanguage", "InvalidQueryLanguage", -1, -1, token.text)
    return _Parser(tokens).parse()
