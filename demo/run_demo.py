# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: the harden_backup_vaults playbook against the ARM emulator, in check mode, for real, and again.

Builds the collection tarball and installs it (offline) into a temporary collections path, starts the
emulator with demo/fleet.yml, runs

    ansible-playbook -i localhost, vaultlock.azure.harden_backup_vaults --check --diff   (the drift report; no write)
    ansible-playbook -i localhost, vaultlock.azure.harden_backup_vaults                  (the fix)
    ansible-playbook -i localhost, vaultlock.azure.harden_backup_vaults --check --diff   (what is left)
    ansible-playbook -i localhost, demo/readiness.yml                                    (what locking would commit to)

and prints what each run found, changed and left, and a lock readiness table (vault_lock_readiness_info). The emulator is stopped in every case. Reports and
the full playbook output go to reports/demo/ (or --report-dir). Exit status 0 when the last check
finds no fixable drift, no error, and the first check sent no write.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.emulator.client import EmulatorClient, EmulatorProcess  # noqa: E402  pylint: disable=wrong-import-position

BIN = os.path.dirname(sys.executable)
FLEET = os.path.join(REPO, 'demo', 'fleet.yml')
VARS = os.path.join(REPO, 'demo', 'vars.yml')
PLAYBOOK = 'vaultlock.azure.harden_backup_vaults'
READINESS = os.path.join(REPO, 'demo', 'readiness.yml')
TYPE_LABEL = {'recovery_services': 'Recovery Services', 'backup': 'Backup vault'}


def say(text=''):
    print(text, flush=True)


def rel(path):
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) else path


def build_and_install(workdir, tarball=None):
    """ansible-galaxy collection build + install -p (offline: the collection declares no dependencies).

    With ``tarball`` (--tarball, or VAULTLOCK_COLLECTION_TARBALL: `make test` builds once and hands the tarball of
    `make build` to the tests), that tarball is installed and nothing is built.
    """
    galaxy = os.path.join(BIN, 'ansible-galaxy')
    if not tarball:
        out = os.path.join(workdir, 'build')
        subprocess.run([galaxy, 'collection', 'build', '--force', '--output-path', out, REPO],
                       check=True, capture_output=True, text=True)
        tarball = [os.path.join(out, name) for name in os.listdir(out) if name.endswith('.tar.gz')][0]
    collections = os.path.join(workdir, 'collections')
    subprocess.run([galaxy, 'collection', 'install', '--offline', '--force', '-p', collections, tarball],
                   check=True, capture_output=True, text=True)
    return tarball, collections


def playbook_env(emulator_env, collections, workdir):
    env = {key: value for key, value in os.environ.items() if not key.startswith(('AZURE_', 'ANSIBLE_'))}
    env.update(emulator_env)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collections,
        'ANSIBLE_HOME': os.path.join(workdir, 'ansible-home'),
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_DEPRECATION_WARNINGS': '0',
        'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
    })
    return env


def run_playbook(step, args, env, report_dir):
    """Run the collection playbook; full output to <report_dir>/<step>.log; returns (rc, report, seconds)."""
    step_dir = os.path.join(report_dir, step)
    # -i localhost,: an inventory with localhost, so ansible-playbook has no "no inventory" warning to print.
    cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', PLAYBOOK] + args + [
        '-e', '@' + VARS, '-e', 'harden_backup_vaults_report_dir=' + step_dir]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=600)
    seconds = time.monotonic() - started
    with open(os.path.join(report_dir, step + '.log'), 'w', encoding='utf-8') as log:
        log.write('$ %s\n\n%s%s' % (' '.join(cmd), proc.stdout, proc.stderr))
    report_path = os.path.join(step_dir, 'drift.json')
    if proc.returncode != 0 or not os.path.exists(report_path):
        say(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit('demo: %s failed (rc %d); full output in %s' % (step, proc.returncode, rel(os.path.join(report_dir, step + '.log'))))
    with open(report_path, encoding='utf-8') as handle:
        return json.load(handle), seconds


def run_readiness(env, report_dir):
    """demo/readiness.yml (vault_lock_readiness_info over the fleet); full output to <report_dir>/readiness.log."""
    out = os.path.join(report_dir, 'readiness.json')
    cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', READINESS, '-e', '@' + VARS, '-e', 'demo_readiness_file=' + out]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=600)
    seconds = time.monotonic() - started
    with open(os.path.join(report_dir, 'readiness.log'), 'w', encoding='utf-8') as log:
        log.write('$ %s\n\n%s%s' % (' '.join(cmd), proc.stdout, proc.stderr))
    if proc.returncode != 0 or not os.path.exists(out):
        say(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit('demo: the readiness playbook failed (rc %d); full output in %s' % (proc.returncode, rel(os.path.join(report_dir, 'readiness.log'))))
    with open(out, encoding='utf-8') as handle:
        return json.load(handle), seconds


def print_readiness(result, indent='    '):
    """One row per vault: ready or not (locked already), its items, until when a lock holds them, its blockers."""
    rows = [('vault', 'type', 'lock', 'items', 'held until', 'blockers')]
    for vault in result['vaults']:
        items = vault['protected_items']
        kinds = ', '.join('%s %d' % (kind.rsplit('/', 1)[-1], count) for kind, count in sorted(items['by_datasource_type'].items()))
        state = 'locked' if vault['locked'] else ('ready' if vault['ready'] else 'NOT READY')
        rows.append((vault['name'], TYPE_LABEL.get(vault['vault_type'], vault['vault_type']), state,
                     '%d%s' % (items['count'], ' (%s)' % kinds if kinds else ''), vault['held_until'] or '-',
                     '; '.join(b['message'] for b in vault['blockers']) or '-'))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        say(indent + '  '.join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + '  ' + row[5])


def summary_line(report):
    """The bold summary line of drift.md."""
    with open(report['_md'], encoding='utf-8') as handle:
        for line in handle:
            if line.startswith('**Drift:**') or line.startswith('**No drift'):
                return line.strip().replace('**', '')
    return ''


def print_findings(report, only_open=True, indent='    '):
    rows = []
    for vault in report['vaults']:
        for finding in vault['findings']:
            if only_open and finding['resolved']:
                continue
            what = finding['setting'].replace('_', ' ')
            if finding['setting'] == 'retention':
                what = 'retention %s/%s%s' % (finding['policy'], finding['tier'],
                                              '/' + finding['datastore'] if finding['datastore'] else '')
            have = 'missing' if finding['have'] is None else finding['have']
            rows.append((vault['name'], what, '%s -> %s' % (have, finding['want']),
                         'fixable' if finding['fixable'] else 'NOT fixable: ' + finding['reason']))
    if not rows:
        say(indent + '(none)')
        return
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        say(indent + '  '.join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + '  ' + row[3])


def unfixable_causes(report):
    """One line per kind of open finding the playbook cannot fix, with how many there are and what a person does about
    them (each finding's own reason is in the table above it)."""
    causes = {}
    for vault in report['vaults']:
        for finding in vault['findings']:
            if finding['resolved'] or finding['fixable']:
                continue
            if finding['setting'] == 'retention' and finding['have'] is None:
                cause = ('a policy tier the policy\'s schedule does not produce: the playbook never invents one (add the '
                         'schedule, or change the baseline)')
            elif finding['setting'] == 'retention' and vault['vault_type'] == 'backup':
                cause = ('a weak Backup vault policy: Azure updates no existing Backup vault policy (create one that keeps '
                         'enough and move the backup instances to it)')
            else:
                cause = 'other findings: see each one\'s reason above'
            causes[cause] = causes.get(cause, 0) + 1
    return ['%d x %s' % (count, cause) for cause, count in causes.items()]


def print_changes(report, indent='    '):
    rows = []
    for vault in report['changed']:
        for change in vault['changes']:
            what = change['setting'].replace('_', ' ')
            if change['policy']:
                what = 'retention %s/%s' % (change['policy'], change['tier'])
            rows.append((vault['name'], what, '%s -> %s' % (change['before'], change['after'])))
    if not rows:
        say(indent + '(none)')
        return
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, what, values in rows:
        say(indent + name.ljust(widths[0]) + '  ' + what.ljust(widths[1]) + '  ' + values)


def diff_excerpt(log_path, vault, indent='    '):
    """The --diff lines the playbook printed for one vault (the - and + lines of its diff)."""
    with open(log_path, encoding='utf-8') as handle:
        lines = handle.read().splitlines()
    block = None
    shown = []
    for line in lines:
        if line.startswith('--- before: '):
            block = [] if line[len('--- before: '):].split(' ', 1)[0] == vault else None
        elif block is not None and (not line or line.startswith(('--- before', 'changed:', 'ok:', 'TASK'))):
            shown = block
            break
        elif block is not None and line[:1] in '-+' and not line.startswith(('+++', '---')):
            block.append(line[0] + ' ' + line[1:].strip())
    for diff_line in shown or block or []:
        say(indent + vault + '  ' + diff_line)


def load(report_dir, step, pair):
    report, seconds = pair
    report['_md'] = os.path.join(report_dir, step, 'drift.md')
    return report, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--report-dir', default=os.path.join(REPO, 'reports', 'demo'),
                        help='where the reports and playbook logs go (default: reports/demo)')
    parser.add_argument('--tarball', default=os.environ.get('VAULTLOCK_COLLECTION_TARBALL') or None,
                        help='install this built collection tarball instead of building one '
                             '(default: $VAULTLOCK_COLLECTION_TARBALL when set, else build)')
    options = parser.parse_args(argv)
    if options.tarball and not os.path.isfile(options.tarball):
        parser.error('--tarball %s: no such file' % options.tarball)
    report_dir = os.path.abspath(options.report_dir)
    if os.path.isdir(report_dir):
        shutil.rmtree(report_dir)
    os.makedirs(report_dir)
    workdir = tempfile.mkdtemp(prefix='vaultlock-demo-')
    started = time.monotonic()
    emulator = None
    ok = False
    try:
        say('vaultlock.azure demo: the harden_backup_vaults playbook against the ARM emulator (no Azure subscription needed)')
        say()
        step_started = time.monotonic()
        tarball, collections = build_and_install(workdir, options.tarball and os.path.abspath(options.tarball))
        say('1. %s %s and installed it offline into a temporary collections path (%.1f s)'
            % ('Took the built' if options.tarball else 'Built', os.path.basename(tarball), time.monotonic() - step_started))

        os.makedirs(os.path.join(workdir, 'emulator'))
        emulator = EmulatorProcess(fleet=FLEET, workdir=os.path.join(workdir, 'emulator'))
        client = EmulatorClient(emulator.endpoint)
        env = playbook_env(client.env, collections, workdir)
        say('2. Started the ARM emulator at %s with %s: subscriptions %s'
            % (client.arm_url, rel(FLEET), ', '.join(emulator.endpoint['subscription_ids'])))
        say()

        client.clear_journal()
        check, seconds = load(report_dir, 'check', run_playbook('check', ['--check', '--diff'], env, report_dir))
        # Writes only: a Resource Graph query is a POST that reads (EmulatorClient.writes leaves it out).
        writes = client.writes()
        say('3. Check mode: ansible-playbook -i localhost, %s --check --diff (%.1f s, %d write requests sent)' % (PLAYBOOK, seconds, len(writes)))
        say('   ' + summary_line(check))
        print_findings(check)
        first = check['changed'][0]['name'] if check['changed'] else None
        if first:
            say('   --diff shows each change per vault, for example %s (all of it in %s):'
                % (first, rel(os.path.join(report_dir, 'check.log'))))
            diff_excerpt(os.path.join(report_dir, 'check.log'), first)
        say()

        client.clear_journal()
        apply, seconds = load(report_dir, 'apply', run_playbook('apply', [], env, report_dir))
        applied_writes = client.writes()
        say('4. Apply: ansible-playbook -i localhost, %s (%.1f s, %d write requests)' % (PLAYBOOK, seconds, len(applied_writes)))
        say('   Changed:')
        print_changes(apply)
        say('   %d findings resolved; %d vaults changed, %d of them with no finding left; %d errors' % (
            apply['summary']['resolved'], apply['summary']['changed'], apply['summary']['fixed'], apply['summary']['errors']))
        say()

        client.clear_journal()
        again, seconds = load(report_dir, 'recheck', run_playbook('recheck', ['--check', '--diff'], env, report_dir))
        rewrites = client.writes()
        summary = again['summary']
        say('5. Check mode again (%.1f s, %d write requests sent, %d vaults would change)' % (seconds, len(rewrites), summary['changed']))
        say('   ' + summary_line(again))
        print_findings(again)
        say('   Fixable drift left: %d. The playbook cannot fix the %s left; a person decides:'
            % (summary['fixable'], '1 finding' if summary['unfixable'] == 1 else '%d findings' % summary['unfixable']))
        for line in unfixable_causes(again):
            say('    ' + line)
        say()

        client.clear_journal()
        readiness, seconds = run_readiness(env, report_dir)
        readiness_writes = client.writes()
        counts = readiness['summary']
        say('6. Lock readiness, before anyone locks: ansible-playbook -i localhost, demo/readiness.yml (%.1f s, %d write requests sent)'
            % (seconds, len(readiness_writes)))
        say('   vault_lock_readiness_info with %s: %d of %d vaults ready to lock'
            % (', '.join('%s=%s' % (k, v) for k, v in readiness['requirements'].items() if v not in (None, False, True)),
               counts['ready'], counts['vaults']))
        print_readiness(readiness)
        # A vault a lock would hold recovery points of, Recovery Services first (Azure refuses most there).
        first = sorted((v for v in readiness['vaults'] if v['ready'] and not v['locked'] and v['held_until']),
                       key=lambda v: v['vault_type'] != 'recovery_services')[:1]
        for vault in first:
            say('   What locking %s commits to: %s.' % (vault['name'], '; '.join(vault['commitments'])))
        ok = (summary['fixable'] == 0 and summary['errors'] == 0 and summary['changed'] == 0
              and not writes and not rewrites and not readiness_writes and check['summary']['fixable'] > 0)
    finally:
        if emulator is not None:
            emulator.stop()
            say()
            say('7. Stopped the emulator.')
        shutil.rmtree(workdir, ignore_errors=True)
    say('   Reports: %s/{check,apply,recheck}/drift.{json,md,junit.xml,html,sarif}, %s/readiness.json; playbook output: %s/*.log'
        % (rel(report_dir), rel(report_dir), rel(report_dir)))
    say('   Done in %.0f s.' % (time.monotonic() - started))
    if not ok:
        say('demo: the last check still shows fixable drift, errors or writes: see the reports above')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
