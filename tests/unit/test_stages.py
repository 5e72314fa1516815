# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/release/stages.sh, the stage runner of make test and make check, driven with a stand-in for make.

The stand-in (FAKE_MAKE below) plays each stage from a file of the test: `ok`, `fail N`, `wait-for STAGE` (waits until
that stage has started, so it passes only when the two run at the same time), `fail-after STAGE N` (fails once that
stage has started), `hang` (sleeps until it is stopped) or `rewrite-tarball` (writes to the tarball it was handed, as a
stage that built it again would).
Every stage records its start, its end and the VAULTLOCK_COLLECTION_TARBALL it saw.
"""
from __future__ import annotations

import os
import pathlib
import shlex
import subprocess
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
STAGES = REPO / 'tests' / 'release' / 'stages.sh'

FAKE_MAKE = r'''#!/usr/bin/env bash
# Called as: make --no-print-directory STAGE
stage=$2
echo "$$" > "$FAKE_DIR/$stage.pid"
echo "start $stage tarball=${VAULTLOCK_COLLECTION_TARBALL:-}" >> "$FAKE_DIR/trace"
read -r what arg code < "$FAKE_DIR/$stage.plan" || what=ok
echo "output of $stage"
case $what in
    fail) exit "$arg" ;;
    wait-for|fail-after)
        for _ in $(seq 200); do
            grep -q "^start $arg " "$FAKE_DIR/trace" && break
            sleep 0.05
        done
        grep -q "^start $arg " "$FAKE_DIR/trace" || { echo "$arg never started beside $stage"; exit 9; }
        [ "$what" = fail-after ] && exit "$code" ;;
    hang) sleep 60 ;;
    rewrite-tarball) echo again >> "$VAULTLOCK_COLLECTION_TARBALL" ;;
esac
echo "end $stage" >> "$FAKE_DIR/trace"
'''


def run_stages(tmp_path, steps, plans=None, name=None):
    fake = tmp_path / 'fake-make'
    fake.write_text(FAKE_MAKE, encoding='utf-8')
    fake.chmod(0o755)
    for stage, plan in (plans or {}).items():
        (tmp_path / ('%s.plan' % stage)).write_text(plan + '\n', encoding='utf-8')
    tarball = tmp_path / 'collection.tar.gz'
    tarball.write_bytes(b'')
    env = dict(os.environ, MAKE=str(fake), FAKE_DIR=str(tmp_path), VAULTLOCK_STAGES_LOGS=str(tmp_path / 'logs'),
               VAULTLOCK_STAGES_TARBALL=str(tarball), TMPDIR=str(tmp_path))
    env.pop('VAULTLOCK_COLLECTION_TARBALL', None)
    args = ['bash', str(STAGES)] + (['--name', name] if name else []) + list(steps)
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)
    trace = (tmp_path / 'trace').read_text(encoding='utf-8').splitlines() if (tmp_path / 'trace').exists() else []
    return proc, trace


def alive(pid):
    """Whether the process still runs (a zombie of a stopped process is waited for a few seconds)."""
    for _attempt in range(50):
        try:
            with open('/proc/%d/stat' % pid, encoding='utf-8') as handle:
                state = handle.read().rsplit(')', 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state != 'Z':
            return True
        time.sleep(0.1)
    return False


def test_lanes_of_a_step_run_at_the_same_time_and_later_steps_after_them(tmp_path):
    proc, trace = run_stages(tmp_path, ['venv', 'sanity | lint units', 'integration'],
                             plans={'sanity': 'wait-for units', 'units': 'wait-for sanity'})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    starts = [line.split()[1] for line in trace if line.startswith('start ')]
    assert starts[0] == 'venv' and starts[-1] == 'integration'
    assert trace.index('end lint') < trace.index('start units tarball=')
    assert trace.index('end sanity') < trace.index('start integration tarball=')
    assert trace.index('end units') < trace.index('start integration tarball=')
    assert 'make test: all 5 stages passed' in proc.stdout
    for stage in ('venv', 'sanity', 'lint', 'units', 'integration'):
        assert 'output of %s' % stage in (tmp_path / 'logs' / ('%s.log' % stage)).read_text(encoding='utf-8')
    # A step of one stage prints its output as it runs; the stages of a step with lanes only their start and end.
    assert 'output of venv' in proc.stdout and 'output of integration' in proc.stdout
    assert 'output of sanity' not in proc.stdout
    assert '=== make sanity: ok (' in proc.stdout


def test_a_failing_lane_stops_the_other_lanes_and_later_steps(tmp_path):
    proc, trace = run_stages(tmp_path, ['venv', 'sanity | lint units docs-lint', 'integration'],
                             plans={'sanity': 'fail-after units 7', 'units': 'hang'})
    assert proc.returncode == 7
    out = proc.stdout
    assert 'make test: FAILED at stage sanity (exit 7; its output is in %s/sanity.log)' % (tmp_path / 'logs') in out
    # The failing stage's log is printed, since its output was not.
    assert '=== make sanity FAILED (exit 7); the last 200 lines of' in out
    assert 'output of sanity' in out
    assert not any(line.startswith('start integration') or line.startswith('start docs-lint') for line in trace)
    assert 'end units' not in trace
    pid = int((tmp_path / 'units.pid').read_text(encoding='utf-8'))
    assert not alive(pid), 'the hanging units stage was left running'
    table = {line.split()[0]: line for line in out.splitlines() if line.startswith('  ') and ' s  ' in line}
    assert table['sanity'].endswith('FAILED (exit 7)')
    assert table['lint'].endswith('ok')
    assert table['units'].endswith('stopped (make sanity failed)')
    assert table['docs-lint'].endswith('not run')
    assert table['integration'].endswith('not run')


def test_a_failing_stage_of_a_step_of_its_own_stops_the_run(tmp_path):
    proc, trace = run_stages(tmp_path, ['venv', 'lint', 'units'], plans={'lint': 'fail 2'}, name='check')
    assert proc.returncode == 2
    assert 'make check: FAILED at stage lint (exit 2; its output is in %s/lint.log); 1 stage(s) not run' % (
        tmp_path / 'logs') in proc.stdout
    assert [line.split()[1] for line in trace if line.startswith('start ')] == ['venv', 'lint']


def test_the_tarball_of_galaxy_import_goes_to_later_steps_only(tmp_path):
    proc, trace = run_stages(tmp_path, ['venv', 'sanity | galaxy-import', 'integration'])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarball = str(tmp_path / 'collection.tar.gz')
    assert 'start sanity tarball=' in trace
    assert 'start integration tarball=%s' % tarball in trace


def make_test_steps():
    """The steps the Makefile's test target (make test, what CI runs) hands to stages.sh."""
    text = (REPO / 'Makefile').read_text(encoding='utf-8').replace('\\\n', ' ')
    recipe = next(line for line in text.split('\ntest:', 1)[1].splitlines() if 'stages.sh' in line)
    words = shlex.split(recipe)
    return words[words.index('tests/release/stages.sh') + 1:]


def test_make_test_builds_the_tarball_first_and_starts_the_integration_tests_beside_galaxy_import(tmp_path):
    # The virtualenvs are made at once (each one pip, one core), and the tarball is built once the venv is there. Then
    # the integration tests, the longest stage, start at once in a lane of their own: galaxy-import, which used to build
    # the tarball in front of them, checks the same tarball in the units' lane, after docs-lint (both need .venv-tools).
    steps = make_test_steps()
    assert len(steps) == 2, steps
    proc, trace = run_stages(tmp_path, steps, plans={'venv': 'wait-for tools-venv', 'tools-venv': 'wait-for venv',
                                                     'galaxy-import': 'wait-for integration', 'sanity': 'wait-for integration'})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    starts = dict((line.split()[1], index) for index, line in enumerate(trace) if line.startswith('start '))
    assert set(starts) == {'venv', 'build', 'tools-venv', 'sanity', 'lint', 'units', 'docs-lint', 'galaxy-import', 'integration'}, trace
    for before, after in (('venv', 'build'), ('build', 'sanity'), ('build', 'lint'), ('build', 'integration'), ('build', 'galaxy-import'),
                          ('tools-venv', 'sanity'), ('tools-venv', 'docs-lint'), ('tools-venv', 'galaxy-import'),
                          ('lint', 'units'), ('units', 'docs-lint'), ('docs-lint', 'galaxy-import')):
        assert trace.index('end %s' % before) < starts[after], trace
    # galaxy-import checks the very tarball the integration tests install, the one build wrote.
    tarball = tmp_path / 'collection.tar.gz'
    assert 'start galaxy-import tarball=%s' % tarball in trace
    assert 'start integration tarball=%s' % tarball in trace
    assert 'start build tarball=' in trace


def test_make_galaxy_import_checks_the_tarball_it_is_handed_without_building(tmp_path):
    # make test hands galaxy-import the tarball the integration tests install at the same time: building it again there
    # would rewrite it under them. On its own, make galaxy-import builds first.
    tarball = tmp_path / 'handed.tar.gz'
    tarball.write_bytes(b'')

    # Not the environment of the run these tests are in: make test hands its tarball to this make -n too.
    env = {key: value for key, value in os.environ.items() if key not in ('VAULTLOCK_COLLECTION_TARBALL', 'MAKEFLAGS', 'MAKELEVEL', 'MFLAGS')}

    def commands(*variables):
        proc = subprocess.run(['make', '--no-print-directory', '-n', '-B', 'galaxy-import'] + list(variables), cwd=str(REPO),
                              env=env, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    handed = commands('VAULTLOCK_COLLECTION_TARBALL=%s' % tarball)
    assert 'collection build' not in handed
    assert 'tests/release/galaxy_import.py "%s"' % tarball in handed
    alone = commands()
    assert 'ansible-galaxy collection build' in alone
    assert alone.index('collection build') < alone.index('tests/release/galaxy_import.py "build/vaultlock-azure-')


def test_a_tarball_rewritten_after_it_was_handed_on_fails_the_run(tmp_path):
    proc, trace = run_stages(tmp_path, ['build', 'sanity | galaxy-import | integration'], plans={'galaxy-import': 'rewrite-tarball'})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'end integration' in trace
    assert 'make test: FAILED: %s changed during the run, after it was handed on' % (tmp_path / 'collection.tar.gz') in proc.stdout
    assert 'all 4 stages passed' not in proc.stdout
    tmp_path.joinpath('trace').unlink()
    proc, trace = run_stages(tmp_path, ['build', 'sanity | galaxy-import | integration'], plans={'galaxy-import': 'ok'})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'make test: all 4 stages passed' in proc.stdout


def test_the_tarball_goes_to_the_later_stages_of_its_lane(tmp_path):
    proc, trace = run_stages(tmp_path, ['venv', 'sanity | lint galaxy-import integration'])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarball = str(tmp_path / 'collection.tar.gz')
    assert 'start lint tarball=' in trace and 'start galaxy-import tarball=' in trace
    assert 'start integration tarball=%s' % tarball in trace


def test_a_failing_sanity_stops_the_integration_tests_in_the_other_lane(tmp_path):
    proc, trace = run_stages(tmp_path, ['venv', 'sanity | galaxy-import integration'],
                             plans={'sanity': 'fail-after integration 5', 'integration': 'hang'})
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert 'end integration' not in trace
    pid = int((tmp_path / 'integration.pid').read_text())
    for _attempt in range(100):
        if not alive(pid):
            break
        time.sleep(0.05)
    assert not alive(pid)
