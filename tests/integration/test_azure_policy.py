# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Policy parity through `ansible-playbook vaultlock.azure.harden_backup_vaults` against the emulator (issue 27).

Vaults of both kinds carry random security settings (fleet ``body:`` vaults, served as stored). drift.json's
``azure_policy`` non-compliant lists must equal the verdicts of the tests' own evaluator (tests/unit/policy_oracle.py,
reading the definitions' files) on the emulator's stored bodies, for all 14 definitions, with default and non-default
parameters, through Resource Graph and through ARM, in check mode (no write sent) and in apply mode (judged as read,
before the run's changes); ``{}`` turns the section off; a bad variable stops the run before any request.

This file holds the fleet, the evaluator's expectations and the report checks; the tests that play the role with them
are in test_azure_policy_steps.py.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import jsonschema

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
    assert report['schema_version'] == '2.4'
    assert '## Azure Policy' in files['drift.md'] and 'id="azure-policy"' in files['drift.html']
    rules = json.loads(files['drift.sarif'])['runs'][0]['tool']['driver']['rules']
    assert len([r for r in rules if r['id'].startswith('azure-policy/') and r['helpUri'].startswith('https://')]) == count
    return report


DEFAULTS = dict((d['name'], {}) for _f, d in oracle.load_definitions())


# The tests: tests/integration/test_azure_policy_steps.py (each scenario's runs as steps of one ansible-playbook run).
