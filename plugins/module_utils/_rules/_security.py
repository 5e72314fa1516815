# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""What the vault security setting rules share (issue 27; pure, no I/O): their spellings, and reading a nested property
from an ARM body or a Resource Graph row (both carry ``properties`` whole).

States are lowercase in the collection (``enabled``, ``disabled``, ``permanently_disabled``, ``required``); the API casing
(``Enabled``, ``PermanentlyDisabled``) is mapped here, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import shown
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import DriftError, Rule, UnreadableResourceError, finding

API_STATES = {'enabled': 'Enabled', 'disabled': 'Disabled', 'permanently_disabled': 'PermanentlyDisabled'}
REQUIRED = ('required',)


def spelling(value):
    """A value as the collection compares it: lowercase, ``-`` and spaces as ``_``; ``PermanentlyDisabled`` ->
    ``permanently_disabled``."""
    key = str(value).strip().lower().replace('-', '_').replace(' ', '_')
    return {'permanentlydisabled': 'permanently_disabled', 'true': 'enabled', 'false': 'disabled'}.get(key, key)


def choice(value, where, allowed):
    """A checked choice (any casing) or None for null / ''; raises DriftError naming ``where``."""
    if value is None or (isinstance(value, str) and value.strip() == ''):
        return None
    if isinstance(value, bool):
        value = 'enabled' if value else 'disabled'
    key = spelling(value)
    if key not in allowed:
        raise DriftError("%s must be %s or null, got %s" % (where, ', '.join(allowed), shown(value)))
    return key


def nested(props, path, resource, base='properties'):
    """The value at ``path`` (a tuple of keys) under a vault's properties; None when a level is absent. A level that is
    not a JSON object is unreadable (UnreadableResourceError naming the field)."""
    value = props
    where = base
    for key in path:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise UnreadableResourceError(resource, where, value, 'a JSON object')
        value = value.get(key)
        where = '%s.%s' % (where, key)
    return value


def state(value, resource, field):
    """An API state (``Enabled``, ``PermanentlyDisabled``, ...) as the collection spells it; None when absent. A value
    that is not a string is unreadable; an unknown string is kept (lowercased) so a report shows what Azure said."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnreadableResourceError(resource, field, value, 'a string such as Enabled or Disabled')
    return spelling(value)


def kind_state(vault_type, props, resource, paths):
    """The state read at the path of the vault's kind in ``paths`` (``{vault kind: path under the properties}``); None
    for a kind the setting does not exist on."""
    path = paths.get(vault_type)
    if path is None:
        return None
    return state(nested(props, path, resource), resource, 'properties.' + '.'.join(path))


def to_api(value):
    return API_STATES[value]


def posture_word(value):
    """A setting's value as a state word of the reports' posture: ``enabled``, ``permanently_disabled``, ...;
    ``not_reported`` when the vault's body does not carry it."""
    if value is None:
        return 'not_reported'
    if isinstance(value, bool):
        return 'enabled' if value else 'disabled'
    return spelling(value) if isinstance(value, str) else 'unknown'


class SecurityPosture:
    """The posture of a vault security setting (issue 26: every rule's state of every vault, compliant or not): the
    rule's record value as a state word; ``not_applicable`` for a vault kind the setting does not exist on. Mixed in
    before Rule."""

    applies_to = ('recovery_services', 'backup')
    paths = {}    # {vault kind: the path of the rule's state under the vault's properties} (read_value's default)

    @property
    def posture_key(self):
        return self.key

    def read_value(self, vault_type, props, resource):
        """The rule's field of a vault record from the vault's properties: the state at its kind's path in ``paths``."""
        return kind_state(vault_type, props, resource, self.paths)

    def read(self, vault_type, raw, security, resource):
        return {self.key: self.read_value(vault_type, raw['properties'], resource)}

    def validate_baseline(self, baseline):
        return self.normalise(baseline.get(self.key), 'baseline.' + self.key)

    def posture_value(self, vault):
        """The value the state word is made of (the rule's field of the vault record unless the rule says otherwise)."""
        return vault.get(self.key)

    def posture_details(self, vault):
        return {}

    def state(self, vault, baseline, findings):
        if vault.get('vault_type') not in self.applies_to:
            return {'state': 'not_applicable'}
        return dict(self.posture_details(vault), state=posture_word(self.posture_value(vault)))

    def posture_after(self, posture, changes, open_findings):
        """The state a real run left: the last value it wrote (alerts: its job failure alerts, the other key a detail)."""
        out = dict(posture)
        for item in changes:
            after = item.get('after')
            if item.get('setting') != self.key or after is None:
                continue
            if isinstance(after, Mapping):
                for key, value in after.items():
                    if key == 'job_failure_alerts':
                        out['state'] = posture_word(value)
                    elif key in out:
                        out[key] = value
            else:
                out['state'] = posture_word(after)
        return out


class ReportOnlyRule(SecurityPosture, Rule):
    """A setting the collection reads and reports but never changes (``required`` or null in a baseline): its findings
    are not fixable, with ``manual`` saying why a person has to act."""

    manual = ''

    @property
    def choices(self):
        return {(self.key,): REQUIRED}

    def normalise(self, value, where):
        return choice(value, where, REQUIRED)

    def meets(self, vault, want):
        """True when the vault meets the baseline's checked value ``want`` (``required``: what it has, ``have``, is
        ``enabled``, unless the rule says otherwise); None when the setting does not apply to the vault's kind."""
        return self.have(vault) == 'enabled'

    def have(self, vault):
        """What a finding says the vault has: its field of the vault record unless the rule says otherwise."""
        return vault.get(self.key)

    def evaluate(self, vault, baseline, context):
        want = baseline.get(self.key)
        if want is None:
            return [], None, []
        ok = self.meets(vault, want)
        if ok is None or ok:
            return [], None, []
        return [finding(self.key, self.have(vault), want, False, 'report only: %s' % self.manual)], None, []
