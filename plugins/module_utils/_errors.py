# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""One error type for everything that goes wrong talking to Azure, and the mapping to clear messages.

Nothing here imports an Azure SDK at load time: exceptions are recognised by their class names,
so this module can be used (and unit tested) without the SDKs installed.
"""

from __future__ import annotations

import importlib
import math
import re
import unicodedata
from collections.abc import Mapping

# Strings that must never reach a result, a log or a report.
_BEARER = re.compile(r'(?i)(bearer\s+)[A-Za-z0-9\-_.=]+')
_SECRETISH = re.compile(r'(?i)((?:client_secret|client_assertion|access_token|refresh_token|secret)["\']?\s*[=:]\s*["\']?)[^"\'&\s,}]+')


def first_line(value):
    """The first line of an exception's or a message's text."""
    return str(value).split('\n', maxsplit=1)[0]


# Terminal escape sequences (CSI ... final byte, OSC ... BEL/ST, and any other ESC pair) and the other control characters
# but tab and newline: text from a service must not drive the terminal that shows it.
_ESCAPES = re.compile(r'(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?|[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]')


def scrub(text):
    """Remove bearer tokens, secret-looking values and terminal escape sequences from a message."""
    if not text:
        return text
    text = _ESCAPES.sub('', str(text))
    text = _BEARER.sub(r'\1<redacted>', text)
    return _SECRETISH.sub(r'\1<redacted>', text)


class VaultlockError(Exception):
    """The root of every domain error of the collection (bad input, impossible requests, Azure's refusals).

    The module base (_module.VaultlockModule.run) turns it into fail_json in one place; the filters turn it into
    AnsibleFilterError. An error may carry `result`: the keys of the task result that stay true despite the failure.
    """

    result = None


class InputError(VaultlockError):
    """The task's arguments cannot be used. Raised before any request is sent."""


class UnreadableResourceError(VaultlockError):
    """Azure returned a vault (or a part of it) with a value the collection does not understand.

    Names the resource and the field, so one such vault becomes an error of its own instead of hiding the others.
    """

    def __init__(self, resource, field, value, expected):
        self.resource = resource
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__("%s: Azure returned %s for %s, which this collection cannot read (expected %s)"
                         % (resource, _short(value), field, expected))

    def as_dict(self):
        return {'scope': self.resource, 'operation': 'read vault', 'status': None, 'code': 'UnreadableVault',
                'message': str(self), 'field': self.field}


def _short(value):
    if value is None:
        return 'no value'
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'


class PartialChangeError(VaultlockError):
    """A change failed after some of it was accepted: the error, and what a fresh read says did change.

    `result` holds the keys of the task result that stay true despite the failure (changed, changes, vault, ...).
    """

    def __init__(self, cause, result):
        self.cause = cause
        self.result = result
        super().__init__(cause.describe() if isinstance(cause, AzureOperationError) else str(cause))


class UnreadAfterWriteError(VaultlockError):
    """Azure accepted a write, and the resource could not be read back afterwards, even when read again: whether (and how)
    it changed is unknown. Never "no change": the state modules report changed with outcome unknown."""

    def __init__(self, cause, operation, resource):
        self.cause = cause
        self.operation = operation
        self.resource = resource
        reason = cause.describe() if isinstance(cause, AzureOperationError) else str(cause)
        super().__init__('%s for %s: the request was sent and may have been applied, but reading it back failed, also when '
                         'read again (%s), so whether it changed is unknown; read it again before retrying'
                         % (operation, resource, reason))


class ResultError(VaultlockError):
    """A task that ran as asked and must still fail (fail_on_violation, say): the message and the whole result."""

    def __init__(self, message, result):
        self.result = result
        super().__init__(message)


class MissingLibraryError(VaultlockError):
    """A Python package the task needs is not installed."""

    def __init__(self, package, exception=None):
        self.package = package
        self.exception = exception
        super().__init__("the Python package '%s' is required but could not be imported" % package)


def import_package(module_name, package):
    """Import a package on first use; MissingLibraryError names the pip package when it is not installed."""
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise MissingLibraryError(package, exc)


def azure_errors():
    """The exception classes azure-core raises (imported on first use), for `except azure_errors():`."""
    # Lazy: this module is imported by every plugin; azure-core only by what sends a request.
    exceptions = import_package('azure.core.exceptions', 'azure-core')
    return (exceptions.AzureError,)


# Control characters (C0, DEL, C1) and Unicode line and paragraph separators: never part of a name, an id or a GUID.
_CONTROL = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029]')


_ESCAPED = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

# Besides the control characters, what a message must not show as itself: format characters (right-to-left and other
# direction marks, overrides and isolates, zero-width spaces and joiners, the word joiner, the byte order mark, the soft
# hyphen), line and paragraph separators, every space but ' ' (a no-break space reads as one), surrogates, private use
# and unassigned code points, and the letters and marks that show nothing (Hangul fillers, the braille blank, the
# combining grapheme joiner, variation selectors, the Mongolian ones too). Shown as they are, such characters make a value read as another one
# (U+202E writes what follows backwards), or hide that it differs from what it looks like.
_HIDDEN_CATEGORIES = frozenset(('Cc', 'Cf', 'Cs', 'Co', 'Cn', 'Zl', 'Zp', 'Zs'))
_HIDDEN_CHARACTERS = frozenset('\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0')
# Every character but printable ASCII is looked at (most text is ASCII: nothing to do).
_NOT_PLAIN = re.compile('[^\x20-\x7e]')


def _hidden(char):
    code = ord(char)
    # Variation selectors, the Mongolian free ones (U+180B to U+180D, U+180F: combining marks, not format characters) too:
    # with the categories and characters above, every Default_Ignorable_Code_Point of Unicode's DerivedCoreProperties.
    selector = 0xfe00 <= code <= 0xfe0f or 0xe0100 <= code <= 0xe01ef or 0x180b <= code <= 0x180f
    return char in _HIDDEN_CHARACTERS or selector or unicodedata.category(char) in _HIDDEN_CATEGORIES


def _escape(match):
    char = match.group(0)
    if char in _ESCAPED:
        return _ESCAPED[char]
    if not _hidden(char):
        return char
    return _code(char)


def _code(char):
    code = ord(char)
    return '\\x%02x' % code if code < 256 else ('\\u%04x' % code if code < 0x10000 else '\\U%08x' % code)


# Every character above ASCII (for visible(): the ASCII controls are each report format's own business).
_ABOVE_ASCII = re.compile('[^\x00-\x7f]')


def visible(value, in_json=False):
    """Text for a report a person reads (Markdown, HTML): the characters above ASCII that show nothing or change how the
    text around them reads (_hidden: \\u202e, \\u200b, \\u00a0) written as their code (\\u202e); every other character,
    ASCII controls included, as it is (each format deals with those its own way). ``in_json``: the value is the text of
    a JSON document whose strings must read back as the code, so the code's backslash is escaped (\\\\u202e)."""
    prefix = '\\' if in_json else ''

    def show(match):
        char = match.group(0)
        return prefix + _code(char) if _hidden(char) else char
    return _ABOVE_ASCII.sub(show, str(value))


def first_named(values, limit, show=None):
    """``'a', 'b' and 3 more``: the first ``limit`` of ``values`` as ``show`` writes each (shown() by default), then how
    many more there are: a list of thousands stays one line a reader can take in."""
    show = shown if show is None else show
    rest = len(values) - limit
    return ', '.join(show(value) for value in values[:limit]) + (' and %d more' % rest if rest > 0 else '')


def escaped(value):
    """A value as text with its control characters (\\n, \\x1b, \\u2028) and the characters that show nothing or change
    how the text around them reads (\\u202e, \\u200b, \\u00a0: _hidden) escaped: one line, never driving a terminal,
    never reading as another value."""
    return _NOT_PLAIN.sub(_escape, str(value))


_PLAIN_TYPES = (bool, int, float, str, bytes, list, tuple, dict, set)


def type_name(value):
    """The name of a value's type as the person who wrote it knows it: ansible-core 2.19 hands over the values it read as
    its own tagged types (``_AnsibleTaggedStr``, ``_AnsibleTaggedDict``), whose names an error message should not show."""
    for base in type(value).__mro__:
        if base in _PLAIN_TYPES:
            return base.__name__
    return type(value).__name__


def unquoted_hint(value):
    """What to say after a refused choice that YAML read as a boolean: an unquoted off, on, yes or no is one."""
    if isinstance(value, bool):
        return " (YAML reads an unquoted off, on, yes or no as a boolean: quote the value, as 'off')"
    return ''


def shown(value):
    """A value as an error message shows it: what the user wrote. Text quoted, its control and invisible characters
    escaped (a trailing newline shows as \\n; escaped()); true, false and null as YAML and JSON write them (Python's
    True, False and None are spellings nobody wrote); a number as it is."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return repr(value)
    return "'%s'" % escaped(value)


def non_finite(value, where=''):
    """The path (``a.b[0]``) of the first float in ``value`` (a task's arguments: dictionaries and lists) that is no finite
    number (YAML's .inf, -.inf, .nan), or None. ansible-core's conversion of such a value to an int option raises
    OverflowError (ArgumentSpecValidator), which reached the task as a traceback."""
    if isinstance(value, float) and not math.isfinite(value):
        return where or 'value'
    if isinstance(value, dict):
        for key, item in value.items():
            found = non_finite(item, '%s.%s' % (where, key) if where else str(key))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = non_finite(item, '%s[%d]' % (where, index))
            if found:
                return found
    return None


def non_finite_refusal(args):
    """The message refusing a task's ``args`` that hold a float that is no finite number (non_finite), or None."""
    where = non_finite(args)
    if where is None:
        return None
    return ('%s is not a finite number (YAML .inf, -.inf or .nan): no option takes one; give a number, or leave the option out; '
            'nothing was sent to Azure' % where)


def text_option_refusal(args, argument_spec):
    """The message refusing a task's ``args`` where an option the spec types ``str`` or ``path`` holds a dictionary, a list
    or a boolean, or None. ansible-core's conversion takes such a value as its Python text (``{'a': 1}``, ``True``) without a
    word: a report_dir given as a dictionary became a directory of that name."""
    for name, spec in argument_spec.items():
        value = args.get(name)
        if spec.get('type') not in ('str', 'path') or value is None:
            continue
        if isinstance(value, (bool, Mapping, list, tuple)):
            return ('%s must be text, got %s%s; nothing was sent to Azure'
                    % (name, type_name(value), (' ' + shown(value)) if isinstance(value, bool) else ''))
    return None


def finite(value):
    """``value`` with each float that is no finite number replaced by its YAML spelling (.inf, -.inf, .nan), which the
    argument spec's checks refuse for a number and show as written."""
    if isinstance(value, float) and not math.isfinite(value):
        return '.nan' if math.isnan(value) else ('.inf' if value > 0 else '-.inf')
    if isinstance(value, dict):
        return dict((key, finite(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def has_control(value):
    return isinstance(value, str) and bool(_CONTROL.search(value))


def tag_names(tags, where, error, suffix=''):
    """``(name, value)`` of each entry of a tag dictionary, raising ``error`` (an exception class) for a name that is no
    text, empty or holds a control character, and for two names that are one tag (Azure compares tag names
    case-insensitively, so no vault could carry both apart). ``suffix`` ends each message (what was not sent, say)."""
    seen = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key.strip() or has_control(key):
            raise error('%s: %s is not a tag name%s' % (where, shown(key), suffix))
        lowered = key.strip().lower()
        if lowered in seen:
            raise error('%s: %s and %s are the same tag (Azure compares tag names case-insensitively), so no vault could '
                        'match both%s' % (where, shown(seen[lowered]), shown(key), suffix))
        seen[lowered] = key
        yield key, value


def check_filter(value, option, left_out, entry=None):
    """Raise InputError when ``value``, an option that narrows a scope, was given empty (``[]`` or ``{}``), or (``entry``:
    what each list entry names) holds an entry that is empty or only spaces. Left out (None), the option means
    ``left_out``; given empty it would mean the same, so a list templated from a variable that came out empty would widen
    to ``left_out`` without a word. Only for options whose documented default is null: an empty default is no error."""
    if value is None:
        return value
    if not value:
        raise InputError('%s is empty (from a variable that came out empty?), which would mean %s: leave %s out to mean that, or '
                         'name at least one; nothing was sent to Azure' % (option, left_out, option))
    if entry:
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise InputError('%s[%d] is %s: each entry names one %s; nothing was sent to Azure' % (option, index, shown(item), entry))
    return value


# Said after a boolean given where a number belongs.
BOOLEAN_HINT = ', a boolean (an unquoted yes or true in YAML)'


def at_least_one(value, option, hint=''):
    """``value`` when it is at least 1, else InputError naming ``option``: a count of 0 or below (a concurrency, a number
    of processes) was taken as 1 or as the default without a word, or refused only where a real run started processes
    (harden_apply), so check mode did not predict the run. A boolean is no count (YAML reads an unquoted yes as true, which
    Python counts as 1): refused too."""
    if isinstance(value, bool):
        raise InputError('%s must be a whole number of at least 1%s; got %s%s; nothing was sent to Azure'
                         % (option, hint, shown(value), BOOLEAN_HINT))
    if value < 1:
        raise InputError('%s must be at least 1%s; got %d; nothing was sent to Azure' % (option, hint, value))
    return value


class AzureOperationError(VaultlockError):
    """An Azure request failed.

    Carries the resource, the operation, the HTTP status, Azure's error code and message,
    and the request id Microsoft support asks for.
    """

    def __init__(self, operation, resource=None, status=None, code=None, message=None, request_id=None, hint=None):
        self.operation = operation
        self.resource = resource
        self.status = status
        self.code = code
        self.azure_message = scrub(message)
        self.request_id = request_id
        self.hint = hint
        super().__init__(self.describe())

    @property
    def not_found(self):
        return self.status == 404

    @property
    def outcome_unknown(self):
        """A write that may or may not have been applied: a server error or a broken connection."""
        return self.status in (500, 502, 503, 504) or (self.status is None and self.code in ('ConnectionError', 'OperationTimedOut'))

    def describe(self):
        parts = ['%s failed' % self.operation]
        if self.resource:
            parts[0] += ' for %s' % self.resource
        detail = []
        if self.status:
            detail.append('HTTP %s' % self.status)
        if self.code:
            detail.append(str(self.code))
        text = parts[0]
        if detail:
            text += ' (%s)' % ', '.join(detail)
        if self.azure_message:
            text += ': %s' % self.azure_message
        if self.hint:
            text += ' %s' % self.hint
        return text

    def as_dict(self):
        return {
            'operation': self.operation,
            'resource': self.resource,
            'status': self.status,
            'code': self.code,
            'message': self.azure_message,
            'request_id': self.request_id,
        }


def _class_names(exc):
    return {cls.__name__ for cls in type(exc).__mro__}


def _error_from_response(exc):
    """Pull (code, message) from an azure-core HttpResponseError, trying the ARM body first."""
    code = None
    message = None
    error = getattr(exc, 'error', None)
    if error is not None:
        code = getattr(error, 'code', None)
        message = getattr(error, 'message', None)
    if not code:
        response = getattr(exc, 'response', None)
        body = None
        if response is not None:
            try:
                body = response.json()
            except Exception:  # pylint: disable=broad-except
                # A body that is not JSON (a proxy's HTML page, say): keep the exception's own text.
                body = None
        if isinstance(body, dict) and isinstance(body.get('error'), dict):
            code = body['error'].get('code')
            message = body['error'].get('message')
        elif isinstance(body, dict) and 'error' in body:
            # OAuth2 token endpoint errors: {"error": "invalid_client", "error_description": ...}
            code = body.get('error')
            message = body.get('error_description')
    if not message:
        message = getattr(exc, 'message', None) or str(exc)
        message = first_line(message)
    return code, message


def _operation_failed(exc):
    """True when azure-core raised this for a long-running operation whose status is Failed or Canceled."""
    causes = [getattr(exc, 'error', None), exc.__cause__, getattr(exc, 'inner_exception', None)]
    return any(cause is not None and 'OperationFailed' in _class_names(cause) for cause in causes)


# Multi-user authorization: the vault's Resource Guard protects the operation. Azure's own code for this refusal is not
# published; the emulator's (tests/emulator/mua.py, assumed) and any code naming the Resource Guard are recognised.
MUA_CODES = ('UserErrorResourceGuardAuthorizationRequired',)
MUA_HINT = ("The vault's Resource Guard protects this operation (multi-user authorization): set auxiliary_tenant_ids to the "
            "Resource Guard's tenant (the task's identity must be allowed to sign in there and have permission on the Resource "
            "Guard), or have the Resource Guard's owner approve the operation.")

# Azure's words when a guarded write carries no request id of the guard (hashicorp/terraform-provider-azurerm#31887; its
# code is not published): the write named none of the operations the vault's backupResourceGuardProxies entry lists.
MUA_REQUEST_MISSING = 'resourceguard operation requestid is either null or empty'
MUA_REQUEST_HINT = ("The vault's Resource Guard protects this operation and the write carried no request of the guard: the "
                    "collection takes it from the vault's Resource Guard proxy (backupResourceGuardProxies), so check that the "
                    "proxy lists this operation and that the identity can read it, and set auxiliary_tenant_ids to the "
                    "Resource Guard's tenant.")


def _hint(status, code, message=None):
    if code in MUA_CODES or 'resourceguard' in str(code or '').lower():
        return MUA_HINT
    if MUA_REQUEST_MISSING in str(message or '').lower():
        return MUA_REQUEST_HINT
    if status == 403 or code == 'AuthorizationFailed':
        return ('The identity in use lacks permission for this action: grant it a role such as '
                '"Backup Contributor" on the vault (reads need "Backup Reader" or "Reader").')
    if status == 401:
        return 'Check the credentials (client id, secret or certificate, tenant) and cloud_environment.'
    if status == 429:
        return 'Azure throttled the request and it still failed after the configured retries (api_retries).'
    return None


def _attempted_credentials(exc):
    """What a credential chain tried and why each failed, on one line ('AzureCliCredential: Azure CLI not found on path;
    ManagedIdentityCredential: ...'): azure-identity lists them on the lines after the first, which the message kept not."""
    lines = str(exc).split('\n')
    tried = [line.strip() for line in lines[1:] if line.startswith('\t') and line.strip()]
    return '; '.join(tried)


def from_exception(exc, operation, resource=None):
    """Turn any exception raised by azure-core / azure-identity / an SDK into an AzureOperationError."""
    if isinstance(exc, AzureOperationError):
        return exc
    names = _class_names(exc)
    request_id = None
    response = getattr(exc, 'response', None)
    status = getattr(exc, 'status_code', None)
    if status is None and response is not None:
        status = getattr(response, 'status_code', None)
    if response is not None:
        headers = getattr(response, 'headers', None) or {}
        try:
            request_id = headers.get('x-ms-request-id')
        except Exception:  # pylint: disable=broad-except
            # Headers of an unexpected type: the request id is optional.
            request_id = None
    # ChainedTokenCredential (auth_source=auto) says this when none of its credentials was available.
    chain_unavailable = 'ClientAuthenticationError' in names and response is None and status is None and \
        'failed to retrieve a token from the included credentials' in str(exc)
    if 'CredentialUnavailableError' in names or chain_unavailable:
        # No credential could even be tried (no Azure CLI, no managed identity here, ...): no HTTP request was refused.
        code, message = _error_from_response(exc)
        tried = _attempted_credentials(exc)
        if tried:
            message = '%s (%s)' % (message.rstrip('.'), tried)
        return AzureOperationError(operation, resource, None, code or 'CredentialUnavailable', message, None,
                                   'No credential could be obtained: check auth_source and what it needs (the Azure CLI and '
                                   "'az login' for cli, a managed identity for msi, AZURE_FEDERATED_TOKEN_FILE for workload_identity), "
                                   'or give a service principal (client_id, secret, tenant).')
    if 'ClientAuthenticationError' in names:
        code, message = _error_from_response(exc)
        return AzureOperationError(operation, resource, status or 401, code or 'AuthenticationFailed', message,
                                   request_id, _hint(401, None))
    if 'ServiceRequestError' in names or 'ServiceRequestTimeoutError' in names:
        return AzureOperationError(operation, resource, None, 'ConnectionError', first_line(exc), None,
                                   'Azure could not be reached: check cloud_environment, the network and cert_validation_mode.')
    if 'ServiceResponseError' in names or 'ServiceResponseTimeoutError' in names:
        return AzureOperationError(operation, resource, None, 'ConnectionError', first_line(exc), None,
                                   'The connection broke before Azure answered; the outcome of a write is unknown.')
    if 'DecodeError' in names:
        # An answer whose body is empty, truncated or not JSON: say so, with the HTTP status, never the parser's text.
        kind = 'a truncated body' if 'IncompleteReadError' in names else 'a body that is not valid JSON (empty or truncated)'
        answered = 'Azure answered HTTP %s with' % status if status else 'Azure answered with'
        return AzureOperationError(operation, resource, status, 'InvalidResponseBody', '%s %s' % (answered, kind), request_id)
    if 'HttpResponseError' in names and _operation_failed(exc):
        # A long-running operation that ended Failed: Azure's error is in the last status document, whose own HTTP
        # status (200) says nothing about the outcome, so no status is reported.
        code, message = _error_from_response(exc)
        return AzureOperationError(operation, resource, None, code or 'OperationFailed', message, request_id,
                                   'The long-running operation ended Failed.')
    if 'HttpResponseError' in names:
        code, message = _error_from_response(exc)
        return AzureOperationError(operation, resource, status, code, message, request_id, _hint(status, code, message))
    if 'SSLError' in names:
        return AzureOperationError(operation, resource, None, 'TLSError', first_line(exc), None,
                                   'The server certificate could not be verified: set REQUESTS_CA_BUNDLE or cert_validation_mode.')
    return AzureOperationError(operation, resource, status, type(exc).__name__, first_line(exc), request_id)
