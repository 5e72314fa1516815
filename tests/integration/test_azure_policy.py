# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Policy parity through `ansible-playbook vaultlock.azure.harden_backup_vaults` against the emulator (issue 27).

Vaults of both kinds carry random security settings (fleet ``body:`` vaults, served as stored). drift.json's
``azure_policy`` non-compliant lists must equal the verdicts of the tests' own evaluator (tests/unit/policy_oracle.py,
reading the definitions' files) on the emulator's stored bodies, for all 14 definitions, with default and non-default
parameters, through Resource Graph and through ARM, in check mode (no write sent) and in apply mode (judged as read,
before the run's changes); ``{}`` turns the section off; a bad variable stops the run before any request.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import jsonschema

from tests.emulator.client import is_write
from tests.integration.fleets import RG, SUB1, SUB2, vault_id
from tests.unit import policy_oracle as oracle

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / 'docs' / 'drift-report-schema.json').read_text())
PLAYBOOK = 'vaultlock.azure.harden_backup_vaults'
GROUPS = ((SUB1, RG), (SUB1, 'rg-other'), (SUB2, 'rg-two'))


def policy_fleet(seed, per_group=6):
    """Vaults of both kinds with random settings; returns (fleet, [(kind, vault id)])."""
    rng = oracle.random_rng(seed)
    subs, vaults = {}, []
    for sub, group in GROUPS:
        entries = []
        for index in range(per_group):
            kind = 'recovery_services' if index % 2 == 0 else 'backup'
            name = '%s-%s-%d' % ('rsv' if kind == 'recovery_services' else 'bv', group.rsplit('-', maxsplit=1)[-1], index)
            arm_id = vault_id(name, kind, sub, group)
            entries.append({'name': name, 'type': kind, 'body': oracle.random_body(kind, name, arm_id, rng)})
            vaults.append((kind, arm_id))
        subs.setdefault(sub, []).append({'name': group, 'location': 'westeurope', 'vaults': entries})
    fleet = {'subscriptions': [{'id': sub, 'display_name': 'policy-%d' % n, 'resource_groups': groups}
                               for n, (sub, groups) in enumerate(sorted(subs.items()))]}
    return fleet, vaults


def harden(runner, tmp_path, name, *args, **variables):
    report_dir = tmp_path / ('reports-%s' % name)
    variables.setdefault('harden_backup_vaults_report_dir', str(report_dir))
    variables.setdefault('harden_backup_vaults_subscription_ids', ['all'])
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), PLAYBOOK, '-e', json.dumps(variables)] + list(args)
    proc = subprocess.run(cmd, env=runner.env(), capture_output=True, text=True, timeout=600, check=False)
    files = dict((f, (report_dir / f).read_text()) for f in ('drift.json', 'drift.md', 'drift.html', 'drift.sarif')
                 if (report_dir / f).exists())
    return proc.returncode, proc.stdout + proc.stderr, files


def expected(bodies, given):
    """{name: (evaluated, sorted non-compliant ids)} by the tests' evaluator, for the definitions in ``given``."""
    out = {}
    for _file, definition in oracle.load_definitions():
        if definition['name'] not in given:
            continue
        verdicts = [(body['id'], oracle.verdict(definition, body, given[definition['name']])) for body in bodies]
        evaluated = all(v is not None for _i, v in verdicts)
        out[definition['name']] = (evaluated, sorted((i for i, v in verdicts if v), key=str.lower) if evaluated else [])
    return out


def reported(report):
    return dict((row['name'], (row['evaluated'], row['non_compliant'])) for row in report['azure_policy']['definitions'])


def stored(emulator, vaults):
    bodies = [emulator.resource(arm_id) for _kind, arm_id in vaults]
    assert all(bodies)
    return bodies


def check_files(files, count):
    report = json.loads(files['drift.json'])
    jsonschema.validate(report, SCHEMA)
    assert report['schema_version'] == '2.1'
    assert '## Azure Policy' in files['drift.md'] and 'id="azure-policy"' in files['drift.html']
    rules = json.loads(files['drift.sarif'])['runs'][0]['tool']['driver']['rules']
    assert len([r for r in rules if r['id'].startswith('azure-policy/') and r['helpUri'].startswith('https://')]) == count
    return report


DEFAULTS = dict((d['name'], {}) for _f, d in oracle.load_definitions())


def test_check_mode_verdicts_equal_the_definitions_through_resource_graph_and_arm(runner, emulator, tmp_path):
    fleet, vaults = policy_fleet(27)
    emulator.load_fleet(fleet)
    bodies = stored(emulator, vaults)
    rng = oracle.random_rng(2701)
    non_default = dict((d['name'], oracle.random_parameters(d, rng)) for _f, d in oracle.load_definitions())
    # Every definition judged at least once with a parameter other than its default.
    for _f, definition in oracle.load_definitions():
        for key, spec in definition['properties']['parameters'].items():
            if key != 'effect' and spec.get('allowedValues'):
                non_default[definition['name']][key] = next(v for v in spec['allowedValues'] if v != spec['defaultValue'])
        effects = [v for v in definition['properties']['parameters']['effect']['allowedValues'] if v != 'Disabled']
        non_default[definition['name']]['effect'] = effects[-1]
    # One definition turned off: listed, not evaluated.
    non_default['31b8092a-36b8-434b-9af7-5ec844364148']['effect'] = 'Disabled'
    runs = (('graph-defaults', 'resource_graph', None, DEFAULTS), ('arm-defaults', 'arm', None, DEFAULTS),
            ('graph-params', 'resource_graph', non_default, non_default), ('arm-params', 'arm', non_default, non_default))
    for name, discovery, variable, given in runs:
        emulator.clear_journal()
        extra = {'harden_backup_vaults_azure_policy': variable} if variable is not None else {}
        rc, out, files = harden(runner, tmp_path, name, '--check', harden_backup_vaults_discovery=discovery, **extra)
        assert rc == 0, out
        assert [e for e in emulator.journal() if is_write(e)] == [], name
        report = check_files(files, 14)
        assert report['discovery']['sources'] == {discovery: 2}
        want = expected(bodies, given)
        assert reported(report) == want, name
        # Random settings: most evaluated definitions find some vaults of their kind compliant and some not.
        rows = dict((row['name'], row) for row in report['azure_policy']['definitions'])
        assert len([r for r in rows.values() if 0 < len(r['non_compliant']) < r['vaults']]) >= 6, name
        # Each finding names the evaluated definitions of its setting and vault kind.
        for vault in report['vaults']:
            for finding in vault['findings']:
                assert all(rows[n]['evaluated'] and rows[n]['vault_type'] == vault['vault_type'] for n in finding['azure_policy'])
        assert any(f['azure_policy'] for v in report['vaults'] for f in v['findings'])


def test_apply_judges_the_vaults_as_read_and_empty_turns_it_off(runner, emulator, tmp_path):
    fleet, vaults = policy_fleet(2727)
    emulator.load_fleet(fleet)
    before = stored(emulator, vaults)
    emulator.clear_journal()
    rc, out, files = harden(runner, tmp_path, 'apply', harden_backup_vaults_discovery='arm', harden_backup_vaults_fail_on_error=False)
    assert rc == 0, out
    assert any(is_write(e) for e in emulator.journal())
    report = check_files(files, 14)
    assert reported(report) == expected(before, DEFAULTS)
    # After the apply the emulator holds other bodies: the section said what Azure Policy said of the vaults as read.
    after = stored(emulator, vaults)
    assert expected(after, DEFAULTS) != expected(before, DEFAULTS)

    emulator.clear_journal()
    rc, out, files = harden(runner, tmp_path, 'off', '--check', harden_backup_vaults_azure_policy={})
    assert rc == 0, out
    report = json.loads(files['drift.json'])
    jsonschema.validate(report, SCHEMA)
    assert 'azure_policy' not in report and '## Azure Policy' not in files['drift.md']
    assert all('azure_policy' not in f for v in report['vaults'] for f in v['findings'])
    assert not [r for r in json.loads(files['drift.sarif'])['runs'][0]['tool']['driver']['rules'] if r['id'].startswith('azure-policy/')]

    emulator.clear_journal()
    bad = {'d6f6f560-14b7-49a4-9fc8-d2c3a9807868': {'effect': 'Deny'}}
    rc, out, files = harden(runner, tmp_path, 'bad', '--check', harden_backup_vaults_azure_policy=bad)
    assert rc != 0 and 'harden_backup_vaults_azure_policy.d6f6f560-14b7-49a4-9fc8-d2c3a9807868.effect' in out, out
    assert 'Traceback' not in out and emulator.journal() == []
