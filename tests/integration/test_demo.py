# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo` end to end (demo/run_demo.py): build, install, emulator, check, apply, check again."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
# What changes from run to run: durations, the emulator's port, the dates lock readiness counts from today, and step 1's
# verb when `make test` hands the demo the tarball it built (VAULTLOCK_COLLECTION_TARBALL).
VOLATILE = [(re.compile(r'\d+(\.\d+)? s\b'), 'N s'), (re.compile(r'127\.0\.0\.1:\d+'), '127.0.0.1:PORT'),
            (re.compile(r'\d{4}-\d\d-\d\d'), 'YYYY-MM-DD'), (re.compile(r'^1\. Took the built '), '1. Built ')]


def readme_demo_output():
    """The console block of the README's "What `make demo` prints", without its `$ make demo` line."""
    text = (REPO / 'README.md').read_text(encoding='utf-8')
    section = text.split('## What `make demo` prints', 1)[1]
    block = re.search(r'^```console\n\$ make demo\n(.*?)^```', section, re.M | re.S)
    assert block, 'README.md: no console block of make demo in "What make demo prints"'
    return block.group(1)


def normalised(output):
    lines = []
    for line in output.splitlines():
        for pattern, replacement in VOLATILE:
            line = pattern.sub(replacement, line)
        lines.append(line.rstrip())
    return lines


def test_the_demo_runs_and_leaves_no_fixable_drift(tmp_path):
    reports = tmp_path / 'demo'
    proc = subprocess.run([sys.executable, str(REPO / 'demo' / 'run_demo.py'), '--report-dir', str(reports)],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert '0 write requests sent' in output
    assert 'Fixable drift left: 0.' in output
    assert 'Stopped the emulator.' in output
    for step in ('check', 'apply', 'recheck'):
        for name in ('drift.json', 'drift.md', 'drift.junit.xml', 'drift.html', 'drift.sarif'):
            assert (reports / step / name).is_file(), (step, name)
        # The documented command (-i localhost,) is quiet: no inventory warnings, with Ansible's default settings.
        log = (reports / (step + '.log')).read_text()
        assert ' -i localhost, ' in log.splitlines()[0]
        assert 'No inventory was parsed' not in log and 'provided hosts list is empty' not in log
    # The lock readiness table: what locking each vault would commit to, read without a write.
    assert re.search(r'6\. Lock readiness, before anyone locks: .*demo/readiness\.yml \([0-9.]+ s, 0 write requests sent\)', output), output
    assert 'vault_lock_readiness_info with max_retention=P7Y, require_soft_delete=on: 5 of 9 vaults ready to lock' in output
    assert re.search(r'rsv-prod-vms +Recovery Services +NOT READY +3 \(SQLDataBase 1, VM 2\) +\d{4}-\d\d-\d\d +max_retention P7Y: '
                     r'policy VMDaily keeps its yearly tier P10Y', output), output
    assert re.search(r'bv-prod-disks +Backup vault +ready +1 \(disks 1\) +- +-', output), output
    assert 'What locking rsv-dev-vms commits to: immutability can never be disabled again; stop protection with delete data ' \
        'impossible for 1 item until' in output
    # The README shows this output: what a new user compares their first run with says what the demo prints today.
    assert normalised(readme_demo_output()) == normalised(proc.stdout.replace(str(reports), 'reports/demo')), proc.stdout
    readiness = json.loads((reports / 'readiness.json').read_text())
    assert {v['name'] for v in readiness['vaults'] if not v['ready']} == {'rsv-prod-vms', 'rsv-prod-guarded', 'rsv-prod-sap', 'rsv-dev-scratch'}
    check = json.loads((reports / 'check' / 'drift.json').read_text())
    again = json.loads((reports / 'recheck' / 'drift.json').read_text())
    assert check['summary']['fixable'] > 0
    assert again['summary']['fixable'] == 0 and again['summary']['errors'] == 0
