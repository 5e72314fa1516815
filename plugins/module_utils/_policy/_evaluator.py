# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The Azure Policy condition language, evaluated on a resource's ARM body (pure, no I/O).

What it implements, as Microsoft Learn documents it ("Azure Policy definition structure: policy rule", "Azure Policy
definitions count", "Azure Policy definition functions"):

- logical operators ``allOf``, ``anyOf``, ``not`` (their names, like every key and every alias, case-insensitive);
- conditions on ``field`` (``type``, ``name``, ``kind``, ``location``, ``id``, ``fullName``, ``tags``, ``tags.<name>``,
  ``tags['<name>']``, ``tags[<name>]`` and aliases; Learn, "Fields": "``tags.<tagName>``, ``tags[tagName]``, and
  ``tags[tag.with.dots]`` are acceptable ways to declare a tags field"). ``tags[]`` (a tag of empty name, what the
  diagnostic settings definition builds from its default tagName '') names no tag a resource can have: no Microsoft
  source says how Azure evaluates it, so it is **assumed** to be a missing field like any absent tag (it equals nothing,
  so the definition's ``not equals`` exclusion does not exclude the vault: the safe side, the definition applies),
  on ``value`` (a literal or a template expression) and on ``count`` (``field`` of an ``[*]`` alias, with an optional
  ``where`` whose ``[*]`` aliases read the current member; a count over ``a[*].b[*]`` counts every ``b`` member of every
  ``a``, and inside a ``where`` over ``a[*]`` the current member's ``b`` members);
- the operators equals, notEquals, like, notLike, match, matchInsensitively, notMatch, notMatchInsensitively, contains,
  notContains, in, notIn, containsKey, notContainsKey, less, lessOrEquals, greater, greaterOrEquals, exists;
- strings compare case-insensitively, except ``match``/``notMatch`` ("Conditions": "When using the match and notMatch
  conditions ... the comparison is case-sensitive"; every other string comparison is case-insensitive);
- a field that is absent (or null) from the body equals nothing, is in no list, contains nothing and does not exist; the
  negated operators (notEquals, notIn, notContains, notLike, notMatch, notContainsKey) are then true; whether an empty
  value exists, and whether an absent one equals "", is read both ways (EMPTY_READING);
- less, lessOrEquals, greater, greaterOrEquals order numbers, ISO 8601 dates and plain strings, and raise PolicyRuleError
  for anything else (Learn: a type mismatch "is thrown" as an error; see _order);
- an ``[*]`` alias outside ``count`` (or an ``[*]`` below the current member inside ``where``) selects a collection of
  values and holds when the condition holds for every selected value (Learn, "Author policies for array properties":
  "Referencing the array members collection"); a missing array selects an empty collection, as an empty one does, so the
  condition holds; a member without the property selects null; ``field()`` returns the selected values as an array
  (``[]`` for a missing array) and ``""`` for a missing property (the same page's table of ``field()`` results);
- template expressions ``[function(...)]``: parameters, concat, field, toLower, toUpper, equals, not, and, or, if, empty,
  length, string, bool, int, true, false; ``[[`` at the start is a literal ``[``.

A boolean compared with a string compares as 'true' / 'false' (Learn's "Value examples" compare a function's boolean with
``"equals": "true"``; for a boolean property Microsoft's own built-ins do the same: "Secure transfer to storage accounts
should be enabled" (Azure/azure-policy, built-in-policies/policyDefinitions/Storage/Storage_AuditForHTTPSEnabled_Audit.json
at 8f5ad30e2356) audits the boolean ``supportsHttpsTrafficOnly`` ``"equals": "false"``, and the diagnostic settings
definition compares ``logs[*].enabled`` (a boolean in the Azure Monitor spec) with the string "True"; neither could ever
match without the coercion). A number, array or object compared with a string (or a boolean with a string other
than 'true'/'false') is a comparison Learn does not describe: it equals nothing, so a negated operator holds, except in
existence()'s strict reading, where it fails (**assumed**, the safe side). Anything else (another
function, an unknown operator) raises PolicyRuleError, never a wrong verdict.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import VaultlockError
from ansible_collections.vaultlock.azure.plugins.module_utils._policy._aliases import ALIASES, RELATED_ALIASES, split_path


class PolicyRuleError(VaultlockError):
    """A policy rule this evaluator cannot judge (an operator or function it does not implement)."""


class _Missing:
    """The value of a field the body does not have."""

    def __repr__(self):
        return 'MISSING'


MISSING = _Missing()

OPERATORS = ('equals', 'notequals', 'like', 'notlike', 'match', 'matchinsensitively', 'notmatch', 'notmatchinsensitively',
             'contains', 'notcontains', 'in', 'notin', 'containskey', 'notcontainskey', 'less', 'lessorequals', 'greater',
             'greaterorequals', 'exists')


def _lower_keys(mapping):
    return dict((str(key).lower(), value) for key, value in mapping.items())


def _get(mapping, key):
    """A key of a JSON object, case-insensitively (ARM property names are case-insensitive); MISSING when absent or null."""
    if not isinstance(mapping, dict):
        return MISSING
    if key in mapping:
        value = mapping[key]
    else:
        wanted = key.lower()
        value = next((v for k, v in mapping.items() if str(k).lower() == wanted), None)
    return MISSING if value is None else value


def select(node, parts):
    """The values an alias path with '[*]' selects under ``node`` (Learn, "Author policies for array properties"): one per
    member of each array on the way, none for a missing array, MISSING for a member without the property."""
    if not parts:
        return [node]
    head, rest = parts[0], parts[1:]
    if head == '[*]':
        if not isinstance(node, list):
            return []
        return [value for member in node for value in select(member, rest)]
    value = _get(node, head)
    if value is MISSING:
        return [] if '[*]' in rest else [MISSING]
    return select(value, rest)


def read_path(body, parts):
    """The value at ``parts`` (split_path) in ``body``: one value, or a list of values when the path has '[*]'."""
    if not parts:
        return body
    head, rest = parts[0], parts[1:]
    if head == '[*]':
        if not isinstance(body, list):
            return MISSING
        return [read_path(member, rest) for member in body]
    value = _get(body, head)
    if value is MISSING:
        return MISSING
    return read_path(value, rest)


def alias_path(alias):
    """The property path of a field alias; PolicyRuleError when it is not one this collection knows."""
    path = ALIASES.get(alias.lower()) or RELATED_ALIASES.get(alias.lower())
    if path is None:
        raise PolicyRuleError('unknown Azure Policy alias %s (plugins/module_utils/_policy/_aliases.py lists the known ones)' % alias)
    return path


# ------------------------------------------------------------------------------------------- comparisons

def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return value


def _loose(text):
    """Text as a linguistic comparison sees more of it alike: compatibility-decomposed (NFKD), case-folded, without the
    format and control characters (zero-width joiners, soft hyphens) such comparisons pass over."""
    folded = unicodedata.normalize('NFKD', text).casefold()
    return ''.join(char for char in folded if unicodedata.category(char) not in ('Cf', 'Cc'))


def _same_text(left, right):
    """Whether two strings are equal ignoring case, as Azure Policy compares them (Learn, "Conditions": "String comparisons
    are made using InvariantCultureIgnoreCase", .NET's culture-aware comparison, not an ordinal one).

    Python has no InvariantCultureIgnoreCase. Two readings are taken: full case folding (``casefold``, which agrees with it on
    the German sharp s and the Kelvin sign, where .NET's OrdinalIgnoreCase does not), and the same after compatibility
    decomposition without format and control characters (a precomposed and a decomposed e-acute, a zero-width space:
    alike to a linguistic comparison, not to casefold). Where the two disagree, which one .NET's answer follows is
    **assumed** unknown: no verdict (PolicyRuleError: the vault is listed under the definition's not_evaluated) rather
    than a guess. Plain ASCII text without control characters is read one way only."""
    plain = left.casefold() == right.casefold()
    if left.isascii() and right.isascii() and left.isprintable() and right.isprintable():
        return plain
    if plain != (_loose(left) == _loose(right)):
        raise PolicyRuleError('%r and %r may be equal or not under InvariantCultureIgnoreCase, the comparison Azure Policy makes '
                              '(Microsoft Learn, "Azure Policy definition structure: policy rule", Conditions): no verdict '
                              'rather than a guess' % (left, right))
    return plain


def equals(left, right):
    if left is MISSING or right is MISSING:
        return False
    if isinstance(left, bool) and isinstance(right, bool):
        return left == right
    left, right = _text(left), _text(right)
    if isinstance(left, str) and isinstance(right, str):
        return _same_text(left, right)
    if _is_number(left) and _is_number(right):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(equals(a, b) for a, b in zip(left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        a, b = _lower_keys(left), _lower_keys(right)
        return set(a) == set(b) and all(equals(a[k], b[k]) for k in a)
    return False


def _like(value, pattern):
    """'*' any text, once (Learn, "Conditions": the value "shouldn't have more than one wildcard"). How Azure Policy answers
    a pattern with two is not written: assumed to be no verdict (PolicyRuleError) rather than a guess. None of the
    vault-level definitions uses like."""
    if isinstance(pattern, str) and pattern.count('*') > 1:
        raise PolicyRuleError('like and notLike take one wildcard (*) at most (Microsoft Learn, "Azure Policy definition '
                              'structure: policy rule", Conditions); got %r' % (pattern,))
    if not isinstance(value, str) or not isinstance(pattern, str):
        return False
    regex = '.*'.join(re.escape(part) for part in pattern.split('*'))
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def _match(value, pattern, insensitive):
    """'#' a digit, '?' a letter, '.' any character, anything else itself (Learn, "Conditions").

    A digit is a decimal digit (Unicode category Nd, what .NET's char.IsDigit tests), not every character Python's
    isdigit() takes (a superscript two, a circled one): which digits Azure Policy takes is not written, assumed to be
    .NET's. None of the vault-level definitions uses match."""
    if not isinstance(value, str) or not isinstance(pattern, str) or len(value) != len(pattern):
        return False
    for char, want in zip(value, pattern):
        if want == '#':
            ok = char.isdecimal()
        elif want == '?':
            ok = char.isalpha()
        elif want == '.':
            ok = True
        else:
            ok = char.casefold() == want.casefold() if insensitive else char == want
        if not ok:
            return False
    return True


def _contains(value, wanted):
    if isinstance(value, str) and isinstance(_text(wanted), str):
        wanted = _text(wanted)
        found = wanted.casefold() in value.casefold()
        if not (value + wanted).isascii() or not (value + wanted).isprintable():
            if found != (_loose(wanted) in _loose(value)):
                raise PolicyRuleError('whether %r contains %r under InvariantCultureIgnoreCase is not known here (see _same_text): '
                                      'no verdict' % (value, wanted))
        return found
    if isinstance(value, list):
        return any(equals(member, wanted) for member in value)
    return False


def _contains_key(value, key):
    return isinstance(value, dict) and isinstance(key, str) and key.lower() in _lower_keys(value)


_DATE = re.compile(r'\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?', re.IGNORECASE)
# Strings whose case-insensitive order is the same by code point and by a linguistic collation: ASCII letters and digits.
_PLAIN_ORDER = re.compile(r'[A-Za-z0-9]*')


def _date(text):
    """A string in the ISO 8601 form Learn gives for dates (utcNow, addDays: ``yyyy-MM-ddTHH:mm:ss.fffffffZ``) as a datetime;
    None when it is not one."""
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        return None
    text = text[:-1] + '+00:00' if text[-1:] in ('z', 'Z') else text
    head, dot, rest = text.partition('.')
    if dot:
        digits = re.match(r'\d+', rest).group(0)
        text = head + dot + digits[:6].ljust(6, '0') + rest[len(digits):]
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


def _order(operator, value, wanted):
    """(value, wanted) as values Python orders as Azure Policy does, for less, lessOrEquals, greater, greaterOrEquals.

    Learn ("Conditions"): these take a date, a string or an integer, and "if the property type doesn't match the condition
    type, an error is thrown". Numbers order as numbers, ISO 8601 dates as points in time (their text does not: a
    fraction of a second sorts before the 'Z' of a time without one); strings by InvariantCultureIgnoreCase. A thrown error
    is a failed evaluation ("Value": "A failed evaluation is an implicit deny"); what a compliance scan then records is not
    written. Such a condition is no verdict here (PolicyRuleError: the vault is listed under the definition's not_evaluated),
    never compliant; so are (**assumed**) a property that is absent or null, a date against a time zone it cannot be
    compared with, and two strings that are not both ASCII letters and digits (whose order under a linguistic collation
    Python cannot reproduce)."""
    if _is_number(value) and _is_number(wanted):
        return value, wanted
    if isinstance(value, str) and isinstance(wanted, str):
        dates = _date(value), _date(wanted)
        if dates[0] is not None and dates[1] is not None:
            if (dates[0].tzinfo is None) != (dates[1].tzinfo is None):
                raise PolicyRuleError('%s: %r and %r are dates with and without a time zone: no verdict' % (operator, value, wanted))
            return dates
        if dates == (None, None) and _PLAIN_ORDER.fullmatch(value) and _PLAIN_ORDER.fullmatch(wanted):
            return value.casefold(), wanted.casefold()
    raise PolicyRuleError('%s cannot order %r and %r as Azure Policy does (Microsoft Learn, "Azure Policy definition '
                          'structure: policy rule", Conditions: a property whose type does not match the condition\'s is '
                          'an error): no verdict' % (operator, _shown(value), wanted))


def _shown(value):
    return 'an absent property' if value is MISSING else value


def _truthy(flag):
    if isinstance(flag, bool):
        return flag
    if isinstance(flag, str) and flag.lower() in ('true', 'false'):
        return flag.lower() == 'true'
    raise PolicyRuleError('exists takes true or false, got %r' % (flag,))


# Each negated operator (lower-cased) -> the operator it negates.
NEGATED = {'notequals': 'equals', 'notlike': 'like', 'notmatch': 'match', 'notmatchinsensitively': 'matchinsensitively',
           'notcontains': 'contains', 'notin': 'in', 'notcontainskey': 'containskey'}


def _same_kind(value, wanted):
    """Whether Learn says how a value compares with ``wanted``: strings with strings ("Conditions": InvariantCultureIgnoreCase),
    a boolean with a boolean or with the string "true"/"false" ("Value examples": a function's boolean ``equals "true"``),
    numbers with numbers, arrays with arrays, objects with objects."""
    if isinstance(value, bool) or isinstance(wanted, bool):
        other = wanted if isinstance(value, bool) else value
        return isinstance(other, bool) or (isinstance(other, str) and other.lower() in ('true', 'false'))
    kinds = (str, list, dict)
    return _is_number(value) and _is_number(wanted) or any(isinstance(value, kind) and isinstance(wanted, kind) for kind in kinds)


def typed(operator, value, wanted):
    """Whether a negated operator's operands are of types its positive operator is documented to compare (a value of
    another type, such as a number or an array against ``notEquals ""``, is not: see existence())."""
    if operator == 'notin':
        return isinstance(wanted, list) and all(_same_kind(value, member) for member in wanted)
    if operator == 'notequals':
        return _same_kind(value, wanted)
    if operator == 'notcontains':
        return isinstance(value, list) or (isinstance(value, str) and isinstance(_text(wanted), str))
    if operator == 'notcontainskey':
        return isinstance(value, dict) and isinstance(wanted, str)
    return isinstance(value, str) and isinstance(wanted, str)


def compare(operator, value, wanted):
    """One operator of a condition (lower-cased name) on one value."""
    if operator == 'exists':
        return (value is not MISSING) == _truthy(wanted)
    if operator in NEGATED:
        return not compare(NEGATED[operator], value, wanted)
    if operator == 'equals':
        return equals(value, wanted)
    if operator == 'in':
        if not isinstance(wanted, list):
            raise PolicyRuleError('in takes a list, got %r' % (wanted,))
        return any(equals(value, member) for member in wanted)
    if operator == 'like':
        return _like(value, wanted)
    if operator in ('match', 'matchinsensitively'):
        return _match(value, wanted, operator == 'matchinsensitively')
    if operator == 'contains':
        return _contains(value, wanted)
    if operator == 'containskey':
        return _contains_key(value, wanted)
    if operator in ('less', 'lessorequals', 'greater', 'greaterorequals'):
        left, right = _order(operator, value, wanted)
        return {'less': left < right, 'lessorequals': left <= right, 'greater': left > right,
                'greaterorequals': left >= right}[operator]
    raise PolicyRuleError('unknown condition operator %s' % operator)


# ------------------------------------------------------------------------------------------- template expressions

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<sym>[(),]))")


def _tokens(text):
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == '':
            break
        found = _TOKEN.match(text, pos)
        if not found:
            raise PolicyRuleError('cannot read the template expression [%s] at %r' % (text, text[pos:]))
        pos = found.end()
        kind = found.lastgroup
        value = found.group(kind)
        if kind == 'str':
            value = value[1:-1].replace("''", "'")
        elif kind == 'num':
            value = int(value)
        tokens.append((kind, value))
    return tokens


class Context:
    """What an expression or a condition reads: the resource body, the parameters and the current count members."""

    def __init__(self, body, parameters, members=None, strict=False, empty=False):
        self.body = body
        self.parameters = _lower_keys(parameters or {})
        self.members = members or []
        # True: a condition on an absent field (other than exists), or a negated one whose operands are of types Learn does
        # not say it compares, is false, whatever its operator (see existence()).
        self.strict = strict
        # True: an empty value (absent, null, "", [], {}) is read as no value that equals "" (see EMPTY_READING).
        self.empty = empty

    def with_member(self, prefix_parts, member):
        return Context(self.body, self.parameters, self.members + [(prefix_parts, member)], self.strict, self.empty)

    def _scope(self, name):
        """(the node a field alias is read from, the rest of its path): the current count member its path starts with,
        else the resource body."""
        return self.scope(split_path(alias_path(name)))

    def scope(self, parts, strictly_below=False):
        """_scope of a split path; ``strictly_below``: only a current member the path goes below (a count's array)."""
        for prefix, member in reversed(self.members):
            if parts[:len(prefix)] == prefix and (len(parts) > len(prefix) or not strictly_below):
                return member, parts[len(prefix):]
        return self.body, parts

    def selects(self, name):
        """The values a field selects when it is a collection (an '[*]' left after the current members), else None."""
        if not isinstance(name, str) or '[*]' not in name:
            return None
        node, parts = self._scope(name)
        return select(node, parts) if '[*]' in parts else None

    def field(self, name):
        """The value of a field: one value, MISSING, or (for '[*]' outside count) a list of member values."""
        if not isinstance(name, str):
            raise PolicyRuleError('a field is a string, got %r' % (name,))
        lowered = name.lower()
        if lowered in ('type', 'name', 'kind', 'location', 'id'):
            return _get(self.body, lowered)
        if lowered == 'fullname':
            return _get(self.body, 'name')
        if lowered == 'identity.type':
            return read_path(self.body, ['identity', 'type'])
        if lowered == 'tags':
            return _get(self.body, 'tags')
        tag = re.fullmatch(r"tags(?:\.(.+)|\['(.+)'\]|\[([^']*)\])", name, re.IGNORECASE | re.DOTALL)
        if tag:
            wanted = tag.group(1) or tag.group(2) or tag.group(3) or ''
            # tags[] (empty name): no tag has it (assumed, see the module docstring): missing.
            return _get(_get(self.body, 'tags'), wanted) if wanted else MISSING
        node, parts = self._scope(name)
        return read_path(node, parts)


def _call(name, args, context):
    lowered = name.lower()
    if lowered == 'parameters':
        key = str(args[0]).lower() if args else ''
        if key not in context.parameters:
            raise PolicyRuleError("parameters('%s'): the definition has no such parameter" % (args[0] if args else ''))
        return context.parameters[key]
    if lowered == 'concat':
        if args and all(isinstance(a, list) for a in args):
            return [member for arg in args for member in arg]
        return ''.join(str(_text(a)) for a in args)
    if lowered == 'field':
        selected = context.selects(args[0])
        if selected is not None:
            return [None if value is MISSING else value for value in selected]
        value = context.field(args[0])
        return '' if value is MISSING else value
    simple = {
        'tolower': lambda a: str(a[0]).lower(), 'toupper': lambda a: str(a[0]).upper(),
        'equals': lambda a: equals(a[0], a[1]), 'not': lambda a: not a[0], 'and': all, 'or': any,
        'if': lambda a: a[1] if a[0] else a[2], 'empty': lambda a: a[0] in (None, '', [], {}),
        'length': lambda a: len(a[0]), 'string': lambda a: str(_text(a[0])),
        'bool': lambda a: _truthy(a[0]) if isinstance(a[0], str) else bool(a[0]), 'int': lambda a: int(a[0]),
        'true': lambda a: True, 'false': lambda a: False,
    }
    if lowered not in simple:
        raise PolicyRuleError('template function %s() is not implemented' % name)
    return simple[lowered](list(args))


def _parse(tokens, pos, context):
    kind, value = tokens[pos]
    if kind in ('str', 'num'):
        return value, pos + 1
    if kind != 'name' or pos + 1 >= len(tokens) or tokens[pos + 1] != ('sym', '('):
        raise PolicyRuleError('expected a function call in a template expression, got %r' % (value,))
    pos += 2
    args = []
    while tokens[pos] != ('sym', ')'):
        arg, pos = _parse(tokens, pos, context)
        args.append(arg)
        if tokens[pos] == ('sym', ','):
            pos += 1
    return _call(value, args, context), pos + 1


def resolve(value, context):
    """A literal, or the value of a template expression '[...]' ('[[' starts a literal '[')."""
    if isinstance(value, str) and value.startswith('[') and value.endswith(']'):
        if value.startswith('[['):
            return value[1:]
        tokens = _tokens(value[1:-1])
        try:
            result, pos = _parse(tokens, 0, context)
        except IndexError:
            raise PolicyRuleError('cannot read the template expression %s' % value) from None
        if pos != len(tokens):
            raise PolicyRuleError('cannot read the template expression %s' % value)
        return result
    return value


# ------------------------------------------------------------------------------------------- conditions

def _operator(condition):
    found = [(key, condition[key]) for key in condition if str(key).lower() in OPERATORS]
    if len(found) != 1:
        raise PolicyRuleError('a condition has exactly one operator (%s), got %s' % (', '.join(OPERATORS), sorted(condition)))
    return found[0][0].lower(), found[0][1]


def _count(spec, context):
    spec = _lower_keys(spec)
    if 'field' not in spec:
        raise PolicyRuleError('count takes a field (an [*] alias); value count is not implemented')
    parts = split_path(alias_path(spec['field']))
    if parts[-1:] != ['[*]']:
        raise PolicyRuleError('count.field must be an [*] alias, got %s' % spec['field'])
    # The members of the counted array, of every inner array when the path has more than one '[*]' (Learn, field count:
    # a count over a[*].b[*] counts every b member of every a); inside a ``where`` whose current member the path goes
    # below, that member's (a count of the same array again enumerates the whole array). No array: 0 members. In
    # ``where`` each member is the current one.
    node, rest = context.scope(parts, strictly_below=True)
    members = select(node, rest)
    if 'where' not in spec:
        return len(members)
    return sum(1 for member in members if evaluate(spec['where'], context.with_member(parts, member)))


def _empty(value):
    return value is MISSING or (not isinstance(value, bool) and value in ('', [], {}))


# The operators whose answer the empty reading changes: exists, and those that compare a value with "".
_EMPTY_OPERATORS = ('exists', 'equals', 'notequals', 'in', 'notin')

EMPTY_READING = """How an empty value meets ``exists`` and ``equals ""``: two readings, both taken.

Learn says a condition on an absent property selects null, and ``field()`` of one returns ``""`` ("Author policies for
array properties", the tables of selected and returned values); it does not say whether a property present as ``""``,
``[]`` or ``{}`` exists, nor whether an absent one equals ``""`` (Azure/azure-policy#142, a maintainer: exists "only
checks to see if the property exists in the resource"). So a condition is read as written (an empty string, array or
object exists; an absent property equals nothing) and with every empty value (absent, null, ``""``, ``[]``, ``{}``) taken
as not existing and equal to ``""`` (**assumed**: no Microsoft source says which one Azure Policy takes). A vault is
non-compliant, or selected by a deployIfNotExists definition, when either reading matches it; a related resource satisfies
an existenceCondition only when every reading says so. A vault whose customer-managed key URI is ``""`` is therefore not
taken for one with a key (the built-in's ``keyUri exists false``)."""


def _compare(context, operator, value, wanted):
    if context.empty and operator in _EMPTY_OPERATORS and _empty(value):
        if operator == 'exists':
            return not _truthy(wanted)
        value = ''
    if context.strict and operator != 'exists' and (value is MISSING or (operator in NEGATED and not typed(operator, value, wanted))):
        return False
    return compare(operator, value, wanted)


def evaluate(condition, context):
    """Whether a condition (a policyRule.if, or a part of it) holds for the context's resource."""
    if not isinstance(condition, dict):
        raise PolicyRuleError('a condition is a JSON object, got %r' % (condition,))
    lowered = _lower_keys(condition)
    if 'allof' in lowered:
        return all(evaluate(c, context) for c in lowered['allof'])
    if 'anyof' in lowered:
        return any(evaluate(c, context) for c in lowered['anyof'])
    if 'not' in lowered:
        return not evaluate(lowered['not'], context)
    operator, wanted = _operator(condition)
    wanted = resolve(wanted, context)
    if 'count' in lowered:
        return compare(operator, _count(lowered['count'], context), wanted)
    if 'field' in lowered:
        name = resolve(lowered['field'], context)
        selected = context.selects(name)
        if selected is not None:
            return all(_compare(context, operator, value, wanted) for value in selected)
        return _compare(context, operator, context.field(name), wanted)
    if 'value' in lowered:
        value = resolve(lowered['value'], context)
        return compare(operator, MISSING if value is None else value, wanted)
    raise PolicyRuleError('a condition names a field, a value or a count, got %s' % sorted(condition))


def effect_of(effect, parameters):
    """The effect of a definition under its parameters ('Audit', 'Deny', 'Modify', 'Disabled', ...)."""
    return str(resolve(effect, Context({}, parameters)))


def existence(condition, body, parameters):
    """Whether a related resource (its ARM body) satisfies a definition's ``details.existenceCondition``.

    An absent (or null) field, and a value of a type the operator is not documented to compare with the condition's (a
    number, an array or an object against a string; a boolean against a string other than "true"/"false": see
    ``_same_kind``), is read both ways this module knows: as everywhere else (it equals nothing, so the negated operators
    hold) and as failing every condition but ``exists`` (``Context.strict``); the resource satisfies the condition only
    when both readings say so. No Microsoft source says how Azure Policy compares an absent property, or a ``0`` or ``[]``,
    with ``notEquals ""`` (the diagnostic settings definition's ``workspaceId`` test; the Azure Monitor spec makes it a
    string, may answer null or leave it out): the rule is **assumed**, on the safe side, so that a setting without a
    workspace id string never makes a vault compliant.
    """
    readings = (Context(body, parameters), Context(body, parameters, strict=True), Context(body, parameters, empty=True))
    return all(evaluate(condition, context) for context in readings)


def non_compliant(rule_if, body, parameters):
    """Whether the rule's ``if`` matches the resource body (for audit, deny and modify effects: non-compliant), under either
    reading of empty values (EMPTY_READING)."""
    return bool(evaluate(rule_if, Context(body, parameters)) or evaluate(rule_if, Context(body, parameters, empty=True)))
