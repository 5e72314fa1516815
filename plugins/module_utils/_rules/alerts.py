# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The alerts rule: ``{job_failure_alerts, classic_alerts}``, each enabled or disabled (or null: not checked).

``job_failure_alerts``: ``properties.monitoringSettings.azureMonitorAlertSettings.alertsForAllJobFailures`` (both kinds);
``classic_alerts``: ``properties.monitoringSettings.classicAlertSettings.alertsForCriticalOperations`` (Recovery Services
vaults only: a Backup vault's MonitoringSettings has no classic alerts, so the key does not apply to it). A vault that
does not report a value (no ``monitoringSettings``) has None, which drifts from any wanted value: the fix writes it
explicitly. The change is vault_security_settings' own plan.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import type_name
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import vault_label
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import _security
from ansible_collections.vaultlock.azure.plugins.module_utils._rules._base import (
    DriftError,
    Rule,
    Setting,
    change,
    check_keys,
    finding,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._rules.cross_subscription_restore import SecuritySettingError

KEYS = ('job_failure_alerts', 'classic_alerts')
CHOICES = ('enabled', 'disabled')
_PATHS = {'job_failure_alerts': ('monitoringSettings', 'azureMonitorAlertSettings', 'alertsForAllJobFailures'),
          'classic_alerts': ('monitoringSettings', 'classicAlertSettings', 'alertsForCriticalOperations')}


def applies(vault_type, key):
    return key == 'job_failure_alerts' or vault_type == 'recovery_services'


def read_alerts(vault_type, props, resource):
    out = dict.fromkeys(KEYS)
    for key in KEYS:
        if applies(vault_type, key):
            path = _PATHS[key]
            out[key] = _security.state(_security.nested(props, path, resource), resource, 'properties.' + '.'.join(path))
    return out


def patch(vault_type, target):
    """The vault PATCH body that changes only the alert settings in ``target`` (a dict of KEYS, None: leave)."""
    monitoring = {}
    for key in KEYS:
        if target.get(key) is not None and applies(vault_type, key):
            path = _PATHS[key]
            monitoring.setdefault(path[1], {})[path[2]] = _security.to_api(target[key])
    return {'properties': {'monitoringSettings': monitoring}}


def normalise(value, where='alerts'):
    """``{job_failure_alerts, classic_alerts}`` checked, or None when nothing is asked."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise DriftError('%s must be a dictionary {%s} or null, got %s' % (where, ', '.join(KEYS), type_name(value)))
    check_keys(value, KEYS, where)
    out = dict((key, _security.choice(value.get(key), '%s.%s' % (where, key), CHOICES)) for key in KEYS)
    return out if any(out.values()) else None


def plan(vault_type, have, want, vault_name='?'):
    """The changes of each alert setting asked (``want``) that differs from ``have``, one per key (``before`` and
    ``after`` are ``{key: value}``); raises SecuritySettingError for classic alerts asked of a Backup vault."""
    have = have or {}
    changes = []
    for key in KEYS:
        wanted = (want or {}).get(key)
        if wanted is None:
            continue
        if not applies(vault_type, key):
            raise SecuritySettingError('%s: Backup vaults have no classic alerts (the DataProtection API has none); nothing was sent'
                                       % vault_label(vault_type, vault_name))
        if have.get(key) != wanted:
            changes.append({'setting': 'alerts', 'before': {key: have.get(key)}, 'after': {key: wanted}, 'irreversible': False})
    return changes


class AlertsRule(_security.SecurityPosture, Rule):
    key = 'alerts'
    apply_rank = 2.7
    read_value = staticmethod(read_alerts)
    settings = (Setting('alerts', 'alerts', 'alerts', (
        'VaultAlertsNotAsBaseline', 'The vault\'s alert settings differ from the baseline',
        'Built-in Azure Monitor alerts for job failures tell someone when backups stop working; classic alerts are '
        'being retired in favour of them.', '4.3')),)

    def posture_value(self, vault):
        # The state word is the job failure alerts (both kinds); the classic alerts are a detail (Recovery Services).
        return (vault.get('alerts') or {}).get('job_failure_alerts')

    def posture_details(self, vault):
        return {'classic_alerts': (vault.get('alerts') or {}).get('classic_alerts')}

    def weaker(self, value):
        off = sorted(key for key, state in value.items() if state == 'disabled')
        if off:
            return 'asks for %s disabled: a run turns them off on every vault that has them on' % ', '.join(off), True
        return '', False

    def validate_baseline(self, baseline):
        value = self.baseline_mapping(baseline, KEYS)
        return normalise(value, 'baseline.' + self.key) if value is not None else None

    def evaluate(self, vault, baseline, context):
        want = baseline.get(self.key)
        if not want:
            return [], None, []
        vault_type = vault.get('vault_type')
        asked = dict((key, value) for key, value in want.items() if value is not None and applies(vault_type, key))
        have = vault.get('alerts') if isinstance(vault.get('alerts'), Mapping) else {}
        planned = plan(vault_type, have, asked, vault.get('name') or '?')
        if not planned:
            return [], None, []
        have_view = dict(item for c in planned for item in c['before'].items())
        want_view = dict(item for c in planned for item in c['after'].items())
        why = 'set %s' % ', '.join('%s %s -> %s' % (key, have_view[key] or 'unset', want_view[key]) for key in want_view)
        action = dict((key, want_view.get(key)) for key in KEYS)
        changes = [change(self.action, 'alerts', c['before'], c['after'], False) for c in planned]
        return [finding(self.key, have_view, want_view, True, why)], action, changes


RULE = AlertsRule()
