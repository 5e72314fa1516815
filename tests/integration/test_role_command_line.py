# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's dictionary variables given on the command line (issue 26): `-e name=value` is a string, and is refused
naming the variable and showing its JSON form, before any request; the JSON form the message shows works."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.emulator import generator as templates
from tests.integration.fleets import RG, SUB1, vault

PLAYBOOK = 'vaultlock.azure.harden_backup_vaults'
DICT_VARIABLES = ['harden_backup_vaults_retention_minimum', 'harden_backup_vaults_soft_delete',
                  'harden_backup_vaults_lock_requirements', 'harden_backup_vaults_tags', 'harden_backup_vaults_auth']


def fleet():
    return {'subscriptions': [{'id': SUB1, 'display_name': 'vaultlock-test-1', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-ok', 'recovery_services', 'enabled',
                  policies=[{'name': 'VMDaily', 'properties': templates.iaas_v1(False)}]),
        ]}]}]}


@pytest.fixture
def playbook(runner, emulator, tmp_path):
    emulator.load_fleet(fleet())
    emulator.clear_journal()

    def run(*extra):
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', PLAYBOOK, '--check',
               '-e', 'harden_backup_vaults_report_dir=%s' % (tmp_path / 'reports')] + list(extra)
        proc = subprocess.run(cmd, env=runner.env(), capture_output=True, text=True, timeout=300, check=False)
        return proc.returncode, proc.stdout + proc.stderr
    return run


def message(output):
    """The assert's message, on one line (Ansible wraps long lines of its output)."""
    found = re.search(r'"msg": "([^"\\]*(?:\\.[^"\\]*)*)"', output)
    assert found, output
    return json.loads('"%s"' % found.group(1))


@pytest.mark.parametrize('name, value', [
    ('harden_backup_vaults_retention_minimum', 'daily:30d'),      # the example
    ('harden_backup_vaults_retention_minimum', 'daily=30d'),      # key=value is a string too, not Ansible's conversion
    ('harden_backup_vaults_soft_delete', 'on'),
    ('harden_backup_vaults_lock_requirements', 'max_retention=10y'),
    ('harden_backup_vaults_tags', 'environment:production'),
    ('harden_backup_vaults_auth', 'subscription_id=%s' % SUB1),
])
def test_a_dictionary_variable_given_as_key_value_is_refused_with_its_json_form(playbook, emulator, name, value):
    rc, output = playbook('-e', '%s=%s' % (name, value))
    assert rc != 0
    msg = message(output)
    assert msg.startswith('%s must be a dictionary, got str; on the command line give it as JSON: -e \'{"%s": {' % (name, name)), msg
    # The JSON form the message shows is valid JSON of that variable, a dictionary.
    shown = json.loads(msg.split("-e '", 1)[1].rstrip("'"))
    assert list(shown) == [name] and isinstance(shown[name], dict)
    assert 'unable to convert to dict' not in output            # Ansible's own error never comes first
    assert emulator.journal() == []                              # refused before any request
    if name == 'harden_backup_vaults_auth':
        assert SUB1 not in output                                # its value is never shown


@pytest.mark.parametrize('name', DICT_VARIABLES)
def test_null_is_refused_for_every_dictionary_variable(playbook, emulator, name):
    rc, output = playbook('-e', json.dumps({name: None}))
    assert rc != 0
    assert message(output).startswith('%s must be a dictionary, got NoneType; on the command line give it as JSON' % name)
    assert emulator.journal() == []


def test_the_json_form_of_the_message_works(playbook, emulator, tmp_path):
    rc, output = playbook('-e', 'harden_backup_vaults_retention_minimum=daily:30d')
    shown = message(output).split("-e '", 1)[1].rstrip("'")
    rc, output = playbook('-e', shown, '-e', '{"harden_backup_vaults_soft_delete": {"state": "on", "retention_days": 14}}')
    assert rc == 0, output[-3000:]
    report = json.loads((tmp_path / 'reports' / 'drift.json').read_text())
    assert report['baseline']['retention'] == {'minimum': {'daily': '30d'}, 'mode': 'report'}
    assert report['summary']['vaults'] == 1
    assert emulator.writes() == []


def test_every_wrong_dictionary_variable_is_named_in_one_message(playbook, emulator):
    rc, output = playbook('-e', 'harden_backup_vaults_tags=env:prod', '-e', 'harden_backup_vaults_soft_delete=on')
    assert rc != 0
    msg = message(output)
    assert msg.startswith('harden_backup_vaults_soft_delete must be a dictionary, got str'), msg
    assert '. harden_backup_vaults_tags must be a dictionary, got str; on the command line give it as JSON: ' \
        '-e \'{"harden_backup_vaults_tags": {"environment": "production"}}\'' in msg, msg
    assert '(item=' not in output                                # one task, no line per variable
    assert emulator.journal() == []
