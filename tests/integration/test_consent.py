# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Consent to irreversible changes is task-scoped: module_defaults never supply it, nor an irreversible target.

One playbook run holds every case as its own task (task-level module_defaults), so the refusals and the normal paths
are proven by real ansible-playbook runs against the emulator, and the request journal shows what reached Azure.

The file's three tests are the three parts of that run (``consent_run``, a batching.Batch): each part a play of its own
(the first with diff on, what its own run's --diff did) on the fleet its own run had, loaded before it in the run
(vaultlock_test_emulator, the journal kept). Each test reads its tasks (registered PART_r0...: PlaybookPart), and reads
the emulator as its part left it: the part's span of the journal and the marked documents right after its last task
(batching.PartState, which the helpers below take in place of the emulator).
"""

from __future__ import annotations

import pytest

from tests.emulator import generator as templates
from tests.integration.batching import Batch, PartState, play_output
from tests.integration.conftest import PlaybookPart, fresh_fleet, part
from tests.integration.fleets import RG, SUB1, vault, vault_id

IMM = 'vaultlock.azure.vault_immutability'
SD = 'vaultlock.azure.vault_soft_delete'
RET = 'vaultlock.azure.backup_policy_retention'


def fleet():
    names = [('rsv-a', 'enabled'), ('rsv-b', 'enabled'), ('rsv-c', 'enabled'), ('rsv-d', 'enabled'), ('rsv-e', 'locked'),
             ('rsv-f', 'enabled'), ('rsv-g', 'enabled'), ('rsv-h', 'enabled'), ('rsv-i', 'enabled')]
    vaults = [vault(name, 'recovery_services', state) for name, state in names]
    vaults.append(vault('rsv-locked', 'recovery_services', 'locked',
                        policies=[{'name': 'VMDaily', 'properties': templates.iaas_v1(True)}]))
    vaults.append(vault('bv-a', 'backup', 'enabled'))
    vaults.append(vault('bv-b', 'backup', 'enabled'))
    return {'subscriptions': [{'id': SUB1, 'display_name': 'consent', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': vaults}]}]}


def imm_state(emulator, name):
    body = emulator.resource(vault_id(name))
    return ((body['properties'].get('securitySettings') or {}).get('immutabilitySettings') or {})


def writes_to(emulator, name):
    def vault_of(path, kind):
        return path.lower().rstrip('/').split(kind)[-1].split('/')[0]
    return [j for j in emulator.writes() if name.lower() in (vault_of(j['path'], '/vaults/'), vault_of(j['path'], '/backupvaults/'))]


LOCK_DEFAULTS = {IMM: {'allow_irreversible': True, 'immutability': 'locked'}}


def consent_tasks():
    return [
        # r0: the case: a task that only names a vault, module_defaults would lock it.
        {'name': 'defaults lock', IMM: {'id': vault_id('rsv-a')}, 'module_defaults': LOCK_DEFAULTS},
        # r1: consent only from module_defaults: ignored, the module refuses the lock.
        {'name': 'defaults consent', IMM: {'id': vault_id('rsv-b'), 'immutability': 'locked'},
         'module_defaults': {IMM: {'allow_irreversible': True}}},
        # r2: the same through the action group.
        {'name': 'group consent', IMM: {'id': vault_id('rsv-c'), 'immutability': 'locked'},
         'module_defaults': {'group/vaultlock.azure.all': {'allow_irreversible': True}}},
        # r3: the task consents, but the time-based days would come from module_defaults.
        {'name': 'borrowed days', IMM: {'id': vault_id('rsv-d'), 'immutability': 'locked', 'allow_irreversible': True},
         'module_defaults': {IMM: {'immutability_retention_days': 36135}}},
        # r4: days on a Locked vault need consent (none given here).
        {'name': 'days on locked', IMM: {'id': vault_id('rsv-e'), 'immutability_retention_days': 365}},
        # r5: always_on from module_defaults.
        {'name': 'defaults always_on', SD: {'id': vault_id('bv-a', 'backup')},
         'module_defaults': {SD: {'soft_delete': 'always_on', 'allow_irreversible': True}}},
        # r6: retention raise on a Locked vault, consent from module_defaults only.
        {'name': 'defaults consent raise', RET: {'id': vault_id('rsv-locked'), 'minimum': {'daily': '30d'}, 'mode': 'enforce'},
         'module_defaults': {RET: {'allow_irreversible': True}}},
        # r7: the task consents, the minimum comes from module_defaults.
        {'name': 'borrowed minimum', RET: {'id': vault_id('rsv-locked'), 'mode': 'enforce', 'allow_irreversible': True},
         'module_defaults': {RET: {'minimum': {'daily': '9999d'}}}},
        # r8: the same in check mode: refused before any request too.
        {'name': 'check mode defaults lock', IMM: {'id': vault_id('rsv-a')}, 'module_defaults': LOCK_DEFAULTS, 'check_mode': True},
        # Normal paths.
        # r9: consent and target in the task, auth from module_defaults.
        {'name': 'task lock', IMM: {'id': vault_id('rsv-f'), 'immutability': 'locked', 'allow_irreversible': True},
         'module_defaults': {'group/vaultlock.azure.all': {'api_retries': 2}}},
        # r10: the task's arguments from a variable count as the task's own.
        {'name': 'task lock from a variable', IMM: '{{ lock_args }}',
         'vars': {'lock_args': {'id': vault_id('rsv-g'), 'immutability': 'locked', 'allow_irreversible': True}}},
        # r11: reversible targets from module_defaults keep working as before.
        {'name': 'defaults enable', IMM: {'id': vault_id('rsv-h'), 'immutability': 'enabled'},
         'module_defaults': {IMM: {'immutability_retention_days': 90}}},
        # r12: always_on in the task.
        {'name': 'task always_on', SD: {'id': vault_id('bv-b', 'backup'), 'soft_delete': 'always_on', 'allow_irreversible': True}},
        # r13: raise on a Locked vault with the task's own consent.
        {'name': 'task raise on locked', RET: {'id': vault_id('rsv-locked'), 'minimum': {'daily': '30d'}, 'mode': 'enforce',
                                               'allow_irreversible': True}},
        # r14: r3 with the consent written as 1.0, which the module takes as true: the days from module_defaults went with
        # the lock unchecked (36135 days on a Locked vault, never to be shortened).
        {'name': 'borrowed days, consent 1.0', IMM: {'id': vault_id('rsv-i'), 'immutability': 'locked', 'allow_irreversible': 1.0},
         'module_defaults': {IMM: {'immutability_retention_days': 36135}}},
        # r15: a Locked vault asked to be disabled, with consent only from module_defaults: refused because Locked is for
        # ever, which no consent changes; the message said to write allow_irreversible in the task, as if that would help.
        {'name': 'unlock locked, defaults consent', IMM: {'id': vault_id('rsv-e'), 'immutability': 'disabled'},
         'module_defaults': {IMM: {'allow_irreversible': True}}},
    ]


def test_consent_and_irreversible_targets_come_from_the_task_never_from_module_defaults(consent_run):
    run = PlaybookPart(consent_run, 'consent')
    emulator = PartState(consent_run, 'consent_r0', 'consent_r14')
    refused = {'r0': 'immutability: locked comes from module_defaults', 'r1': 'was ignored', 'r2': 'was ignored',
               'r3': 'immutability_retention_days comes from module_defaults', 'r4': 'allow_irreversible=true to consent',
               'r5': 'soft_delete: always_on comes from module_defaults', 'r6': 'allow_irreversible=true to consent',
               'r7': 'minimum comes from module_defaults', 'r8': 'immutability: locked comes from module_defaults',
               'r14': 'immutability_retention_days comes from module_defaults'}
    for key, text in refused.items():
        result = run[key]
        assert result['failed'] is True, (key, result)
        assert result['changed'] is False, key
        assert text in result['msg'], (key, result['msg'])
    assert any('from module_defaults is ignored' in w for w in run['r1'].get('warnings') or []), run['r1']
    # A refusal no consent could lift does not tell the user to consent in the task.
    assert run['r15']['failed'] is True and run['r15']['changed'] is False, run['r15']
    assert 'Locked is irreversible' in run['r15']['msg'], run['r15']['msg']
    assert 'allow_irreversible' not in run['r15']['msg'], run['r15']['msg']
    assert any('from module_defaults is ignored' in w for w in run['r15'].get('warnings') or []), run['r15']
    assert writes_to(PartState(consent_run, 'consent_r15', 'consent_r15'), 'rsv-e') == []
    for name in ('rsv-a', 'rsv-b', 'rsv-c', 'rsv-d', 'rsv-e', 'rsv-i', 'bv-a'):
        assert writes_to(emulator, name) == [], name
    assert [j for j in emulator.writes() if '/backuppolicies/' in j['path'].lower()] == [emulator.writes()[-1]]
    # Nothing of the refused tasks reached Azure: not even a read for the ones refused by the action plugin.
    assert not [j for j in emulator.journal() if j['path'].lower().endswith(('/rsv-a', '/rsv-d', '/rsv-i', '/bv-a'))]
    assert imm_state(emulator, 'rsv-a')['state'] == 'Unlocked' and imm_state(emulator, 'rsv-e').get('configuration') is None

    # The normal paths changed what the tasks asked for, and say it cannot be undone.
    assert run['r9']['changed'] is True and imm_state(emulator, 'rsv-f')['state'] == 'Locked'
    assert run['r9']['changes'] == [{'setting': 'immutability', 'before': 'enabled', 'after': 'locked', 'irreversible': True}]
    assert 'IRREVERSIBLE' in run['r9']['diff']['after_header']
    assert run['r10']['changed'] is True and imm_state(emulator, 'rsv-g')['state'] == 'Locked'
    assert run['r11']['changed'] is True and imm_state(emulator, 'rsv-h')['configuration']['durationInDays'] == 90
    assert run['r11']['changes'] == [{'setting': 'immutability_retention_days', 'before': None, 'after': 90, 'irreversible': False}]
    assert run['r12']['changed'] is True
    assert {c['setting']: c['irreversible'] for c in run['r12']['changes']} == {'soft_delete': True}
    assert run['r13']['changed'] is True and {c['irreversible'] for c in run['r13']['changes']} == {True}
    assert emulator.resource(vault_id('rsv-locked') + '/backupPolicies/VMDaily')['properties']['retentionPolicy']['dailySchedule'][
        'retentionDuration'] == {'count': 30, 'durationType': 'Days'}


PLAN = 'vaultlock.azure.harden_plan'
APPLY = 'vaultlock.azure.harden_apply'
LOCK_BASELINE = {'immutability': 'locked', 'allow_irreversible': True}
READY = {'require_soft_delete': None, 'no_unfixable_findings': False}


def baseline_tasks(reports):
    return [
        # r0, r1: the baseline (a lock, and its consent) from module_defaults: refused before any request; nothing to apply.
        {'name': 'plan from defaults', PLAN: {'vaults': [{'id': vault_id('rsv-a')}], 'report_dir': reports, 'lock_requirements': READY},
         'module_defaults': {PLAN: {'baseline': LOCK_BASELINE}}},
        {'name': 'apply', APPLY: {'plan': '{{ baseline_r0.plan }}', 'allow_irreversible': True}, 'when': 'baseline_r0.plan is defined'},
        # r2, r3: the same baseline written in the task: planned and locked.
        {'name': 'plan in the task',
         PLAN: {'vaults': [{'id': vault_id('rsv-b')}], 'report_dir': reports, 'lock_requirements': READY, 'baseline': LOCK_BASELINE}},
        {'name': 'apply', APPLY: {'plan': '{{ baseline_r2.plan }}', 'allow_irreversible': True}},
    ]


def test_a_harden_plan_baseline_that_consents_comes_from_the_task_never_from_module_defaults(consent_run):
    """harden_plan's baseline holds the consent with the targets: from module_defaults it planned locks that a harden_apply
    task (consenting to apply its plan) then applied to every vault of the subscription."""
    run = PlaybookPart(consent_run, 'baseline')
    emulator = PartState(consent_run, 'baseline_r0', 'baseline_r3')
    assert run['r0']['failed'] is True and run['r0']['changed'] is False
    assert 'baseline comes from module_defaults, but it consents to irreversible changes' in run['r0']['msg'], run['r0']['msg']
    assert run['r1'].get('skipped') is True
    assert not [j for j in emulator.journal() if j['path'].lower().rstrip('/').endswith('/rsv-a')]
    assert imm_state(emulator, 'rsv-a')['state'] == 'Unlocked'
    assert run['r3']['changed'] is True and imm_state(emulator, 'rsv-b')['state'] == 'Locked'
    assert 'Traceback' not in play_output(consent_run, 'baseline')


def gate_fleet():
    """Soft delete off: not ready under the default lock requirements (require_soft_delete: on), ready without them."""
    vaults = [vault(name, 'recovery_services', 'enabled', soft_delete='off') for name in ('rsv-off-a', 'rsv-off-b', 'rsv-off-c')]
    vaults.append(vault('rsv-on-d', 'recovery_services', 'enabled'))
    return {'subscriptions': [{'id': SUB1, 'display_name': 'lock gate', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': vaults}]}]}


LOOSE = {'require_soft_delete': None}
# The documents the tests read as their part left them (PartState.resource).
MARKED = [vault_id(name) for name in ('rsv-a', 'rsv-b', 'rsv-e', 'rsv-f', 'rsv-g', 'rsv-h', 'rsv-off-a', 'rsv-off-b', 'rsv-off-c', 'rsv-on-d')]
MARKED.append(vault_id('rsv-locked') + '/backupPolicies/VMDaily')


def gate_tasks(reports):
    def plan(name, **extra):
        return dict({'vaults': [{'id': vault_id(name)}], 'report_dir': reports, 'baseline': LOCK_BASELINE}, **extra)
    return [
        # r0, r1: loose requirements from module_defaults for the module: refused, nothing to apply.
        {'name': 'loose from defaults', PLAN: plan('rsv-off-a'), 'module_defaults': {PLAN: {'lock_requirements': LOOSE}}},
        {'name': 'apply', APPLY: {'plan': '{{ gate_r0.plan }}', 'allow_irreversible': True}, 'when': 'gate_r0.plan is defined'},
        # r2: the same through the action group.
        {'name': 'loose from the group', PLAN: plan('rsv-off-b'),
         'module_defaults': {'group/vaultlock.azure.all': {'lock_requirements': {'no_unfixable_findings': False, 'require_soft_delete': False}}}},
        # r3, r4: stricter from module_defaults counts: rsv-on-d (soft delete on, ready by the defaults) is not ready.
        {'name': 'strict from defaults', PLAN: plan('rsv-on-d'),
         'module_defaults': {PLAN: {'lock_requirements': {'require_soft_delete': 'always_on'}}}},
        {'name': 'apply', APPLY: {'plan': '{{ gate_r3.plan }}', 'allow_irreversible': True}},
        # r5, r6: the loose requirements written in the task: rsv-off-c is planned to lock, and locked.
        {'name': 'loose in the task', PLAN: plan('rsv-off-c', lock_requirements=LOOSE)},
        {'name': 'apply', APPLY: {'plan': '{{ gate_r5.plan }}', 'allow_irreversible': True}},
    ]


@pytest.fixture(scope='module')
def consent_run(module_runner):
    """The three parts in one run: consent (diff on), baseline, then gate; each on its own fleet, each writing its reports
    to a directory of its own."""
    fresh_fleet(module_runner, fleet())
    tmp_path = module_runner.tmp_path
    batch = Batch(module_runner)
    batch.tasks(part('consent', consent_tasks()), name='consent', diff=True)
    batch.emulator(reset=True, load_fleet=fleet())
    batch.tasks(part('baseline', baseline_tasks(str(tmp_path / 'reports-baseline'))), name='baseline')
    batch.emulator(reset=True, load_fleet=gate_fleet())
    batch.tasks(part('gate', gate_tasks(str(tmp_path / 'reports-gate'))), name='gate')
    return batch.play(marks=MARKED)


def test_harden_plan_lock_requirements_looser_than_the_defaults_come_from_the_task_never_from_module_defaults(consent_run):
    """The lock gate: lock_requirements from module_defaults that are looser than the defaults let a harden_apply task lock
    vaults that no task agreed to lock unready. Refused before any request; stricter ones from module_defaults count; the
    same loose requirements written in the task lock."""
    run = PlaybookPart(consent_run, 'gate')
    emulator = PartState(consent_run, 'gate_r0', 'gate_r6')
    for key, loosened in (('r0', 'require_soft_delete: null where the default is on'),
                          ('r2', 'require_soft_delete: null where the default is on; no_unfixable_findings: false where the '
                                 'default is true')):
        assert run[key]['failed'] is True and run[key]['changed'] is False
        assert 'lock_requirements comes from module_defaults, but it is looser than the defaults (%s)' % loosened in run[key]['msg'], \
            run[key]['msg']
        assert run.requests(key) == []
    assert run['r1'].get('skipped') is True
    assert imm_state(emulator, 'rsv-off-a')['state'] == imm_state(emulator, 'rsv-off-b')['state'] == 'Unlocked'
    assert not [j for j in emulator.journal() if j['path'].lower().rstrip('/').endswith(('/rsv-off-a', '/rsv-off-b'))]
    # The stricter gate held rsv-on-d back: it drifts (enabled, not locked), and nothing is planned for it.
    assert run['r3'].get('failed') is not True and (run['r3']['drifting'], run['r3']['with_actions']) == (1, 0), run['r3']
    assert run['r4'].get('failed') is not True and run.writes('r4') == [] and imm_state(emulator, 'rsv-on-d')['state'] == 'Unlocked'
    assert run['r5']['with_actions'] == 1 and run['r6']['changed'] is True and imm_state(emulator, 'rsv-off-c')['state'] == 'Locked'
    assert 'Traceback' not in play_output(consent_run, 'gate')
