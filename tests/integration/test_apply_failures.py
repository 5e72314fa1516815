# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harden_apply's controller-side apply (plugin_utils/_harden_apply.py) under Azure's failure modes, in process through
the real SDKs against the emulator: a 409 Conflict on a policy PUT and on the lock PATCH, a 403 AuthorizationFailed on
the vaults of one resource group only, a long-running operation that does not end within wait_timeout (and the run after
it), and vaults deleted or moved between plan and apply. Each vault is reported as what happened to it, and no
irreversible write is sent twice or after a step whose outcome is unknown."""

from __future__ import annotations

import email.utils
import time

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._azure.client import AzureSession
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import attach_policies, list_vaults
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.items import attach_items
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.scope import read_fleet
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import plan_run
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_apply import PlanApplier
from tests.emulator import generator as templates
from tests.integration.fleets import RG, SUB1, vault, vault_id

BASELINE = {'immutability': 'locked', 'allow_irreversible': True, 'soft_delete': {'state': 'on', 'retention_days': 14},
            'retention': {'minimum': {'daily': '30d'}, 'mode': 'enforce'}, 'tiers': []}
REQUIREMENTS = {'require_soft_delete': None, 'no_unfixable_findings': False, 'max_retention': '30y'}
DENIED_RG = 'rg-denied'


def fleet(denied_rg=DENIED_RG):
    """rsv-a: a weak policy (a retention raise, then the lock); bv-b and rsv-c: the two lock steps only."""
    return {'subscriptions': [{'id': SUB1, 'display_name': 'failures', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [
            vault('rsv-a', 'recovery_services', 'disabled', policies=[{'name': 'VMWeak', 'properties': templates.iaas_v1(True)}]),
            vault('bv-b', 'backup', 'disabled'),
        ]},
        {'name': denied_rg, 'location': 'westeurope', 'vaults': [vault('rsv-c', 'recovery_services', 'disabled')]},
    ]}]}


IDS = {'rsv-a': vault_id('rsv-a'), 'bv-b': vault_id('bv-b', 'backup'), 'rsv-c': vault_id('rsv-c', rg=DENIED_RG)}


@pytest.fixture
def session(emulator, monkeypatch):
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    return AzureSession({'polling_interval': 0.05, 'api_retries': 0, 'wait_timeout': 1})


def plan(session):
    records, errors = list_vaults(session, [SUB1], ['recovery_services', 'backup'])
    errors += attach_policies(session, records) + attach_items(session, records)
    assert errors == []
    reads = [{'vaults': records, 'errors': [], 'subscriptions': [SUB1], 'discovery': None, 'item': ''}]
    return plan_run(reads, [], BASELINE, REQUIREMENTS)['drift']


def apply(session, drift):
    return PlanApplier(session, BASELINE, REQUIREMENTS, True, max_concurrency=4).apply(drift)


def results(done):
    """{(vault, action): result}"""
    return {(r['item']['name'], action): r for action, rows in done['results'].items() for r in rows}


def lock_writes(emulator, name):
    """(state sent, HTTP status) of every immutability PATCH of the vault, in order (one an injected fault answered too)."""
    sent = []
    for entry in emulator.journal():
        if entry['method'] == 'PATCH' and entry['path'].lower() == IDS[name].lower():
            settings = (entry['body'].get('properties') or {}).get('securitySettings') or {}
            if 'immutabilitySettings' in settings:
                sent.append((settings['immutabilitySettings']['state'], entry['status']))
    return sent


def immutability(emulator, name):
    return emulator.resource(IDS[name])['properties']['securitySettings']['immutabilitySettings']['state']


def test_a_409_conflict_is_a_refusal_reported_as_such_and_never_sent_again(emulator, session):
    """Another operation holds the vault (Azure Policy's Modify remediation, another pipeline): Azure answers the write
    409. The code and message Recovery Services and DataProtection send for it are not published (no recording, spec
    example or issue found; errors.md has none): ARM's generic ``Conflict`` is used here (**assumed**). A 409 is a
    synchronous refusal: nothing was applied, so the collection neither retries it blindly nor reads it as unknown."""
    emulator.load_fleet(fleet())
    drift = plan(session)
    emulator.clear_journal()
    conflict = {'status': 409, 'code': 'Conflict', 'times': 1,
                'message': 'There is an operation in progress on the vault; retry once it has completed.'}
    emulator.fault(method='PUT', path_regex='/vaults/rsv-a/backupPolicies/VMWeak$', **conflict)
    emulator.fault(method='PATCH', path_regex='/backupVaults/bv-b$', skip=1, **conflict)   # the second step: Locked
    done = results(apply(session, drift))
    # rsv-a: its policy PUT refused and sent once; then only the reversible step, never the lock.
    puts = [e for e in emulator.writes() if e['method'] == 'PUT' and e['path'].endswith('/VMWeak')]
    assert [e['status'] for e in puts] == [409]
    assert done[('rsv-a', 'retention')]['failed'] is True and done[('rsv-a', 'retention')]['changed'] is False
    assert 'HTTP 409, Conflict' in done[('rsv-a', 'retention')]['msg']
    assert lock_writes(emulator, 'rsv-a') == [('Unlocked', 202)] and immutability(emulator, 'rsv-a') == 'Unlocked'
    # bv-b: Unlocked applied, Locked refused once and not sent again; the result lists only what happened.
    assert lock_writes(emulator, 'bv-b') == [('Unlocked', 202), ('Locked', 409)] and immutability(emulator, 'bv-b') == 'Unlocked'
    bv_b = done[('bv-b', 'immutability')]
    assert bv_b['failed'] is True and bv_b['changed'] is True and 'HTTP 409' in bv_b['msg']
    assert [c['after'] for c in bv_b['changes']] == ['enabled']
    # rsv-c, untouched by the faults, is locked.
    assert lock_writes(emulator, 'rsv-c') == [('Unlocked', 202), ('Locked', 202)]


def test_a_403_on_one_resource_group_fails_its_vaults_only_and_says_why(emulator, session):
    """The identity may write in rg-backup-prod but not in rg-denied: ARM answers 403 AuthorizationFailed with the
    wording of server.py's RBAC (docs: ARM's message). rsv-c fails with Azure's message and which role it lacks; the
    others are changed as planned."""
    emulator.load_fleet(fleet())
    drift = plan(session)
    emulator.clear_journal()
    scope = IDS['rsv-c']
    emulator.fault(method='PATCH', path_regex='/resourceGroups/%s/' % DENIED_RG, status=403, code='AuthorizationFailed', times=10,
                   message="The client 'x' with object id 'x' does not have authorization to perform action "
                           "'Microsoft.RecoveryServices/vaults/write' over scope '%s' or the scope is invalid." % scope)
    done = results(apply(session, drift))
    rsv_c = done[('rsv-c', 'immutability')]
    assert rsv_c['failed'] is True and rsv_c['changed'] is False and rsv_c['changes'] == []
    assert 'AuthorizationFailed' in rsv_c['msg'] and 'Microsoft.RecoveryServices/vaults/write' in rsv_c['msg']
    assert 'Backup Contributor' in rsv_c['msg']
    assert lock_writes(emulator, 'rsv-c') == [('Unlocked', 403)]
    for name in ('rsv-a', 'bv-b'):
        assert lock_writes(emulator, name) == [('Unlocked', 202), ('Locked', 202)] and immutability(emulator, name) == 'Locked'


def test_an_operation_past_wait_timeout_is_unknown_and_the_next_run_finishes_the_job(emulator, session):
    """Every vault PATCH's operation runs 1000 s (lro_retry_after, clock frozen) and wait_timeout is 1 s. The emulator
    shows the change at once (lro.py, **assumed**), so a read says Unlocked while the operation has not ended and may
    still end Failed. The lock must not follow it: each vault is reported changed (enabled), failed, outcome unknown, with
    no Locked PATCH. Once the operations have ended, a second run plans again from ARM and sends only the lock."""
    emulator.load_fleet(fleet())
    drift = plan(session)
    emulator.clear_journal()
    emulator.settings(lro_retry_after=1000)
    emulator.clock(freeze=True)
    done = results(apply(session, drift))
    for name in IDS:
        result = done[(name, 'immutability')]
        assert result['failed'] is True and result['changed'] is True and result.get('outcome') == 'unknown', (name, result)
        assert [c['after'] for c in result['changes']] == ['enabled'], (name, result)
        assert 'OperationTimedOut' in result['msg'] and 'was not sent' in result['msg'], (name, result)
        assert lock_writes(emulator, name) == [('Unlocked', 202)], name
    emulator.clock(advance_s=2000)
    emulator.settings(lro_retry_after=0)
    emulator.clear_journal()
    drift = plan(session)
    assert sorted((e['name'], e['actions']['immutability']) for e in drift if e.get('changes')) == [
        ('bv-b', 'locked'), ('rsv-a', 'locked'), ('rsv-c', 'locked')]
    done = results(apply(session, drift))
    for name in IDS:
        assert done[(name, 'immutability')]['failed'] is False and lock_writes(emulator, name) == [('Locked', 202)], name


def test_an_earlier_step_past_wait_timeout_keeps_the_lock_from_following(emulator, session):
    """bv-b's soft delete raise (a vault PATCH, reversible) is applied, but its operation status does not answer within
    wait_timeout (a delayed poll, as test_reliability's lro_timeout): a read shows it applied, so the step reads as done,
    and the planned lock is not made: nothing more is sent to bv-b, the gate says why and the vault fails. rsv-c, whose
    operations end at once, is locked."""
    emulator.load_fleet(fleet())
    drift = plan(session)
    for entry in drift:
        if entry['name'] == 'bv-b':
            entry['actions']['soft_delete'] = {'state': 'on', 'retention_days': 30}
    emulator.clear_journal()
    emulator.fault(method='GET', path_regex='/backupVaults/bv-b/operation', delay_ms=2500, times=1)
    done = apply(session, drift)
    rows = results(done)
    assert rows[('bv-b', 'soft_delete')]['failed'] is False and rows[('bv-b', 'soft_delete')]['changed'] is True
    assert lock_writes(emulator, 'bv-b') == [] and immutability(emulator, 'bv-b') == 'Disabled'
    gate = done['gates'][IDS['bv-b'].lower()]
    assert 'had not ended' in gate['reason'] and 'OperationTimedOut' in gate['reason']
    assert rows[('bv-b', 'immutability')]['failed'] is True and rows[('bv-b', 'immutability')]['changes'] == []
    assert lock_writes(emulator, 'rsv-c') == [('Unlocked', 202), ('Locked', 202)]


def test_vaults_deleted_or_moved_after_the_plan_fail_alone_and_nothing_is_written_to_them(emulator, session):
    """rsv-a is deleted after the plan, rsv-c moved to another resource group (its planned id answers 404): both are
    errors naming the 404 with no write at all (nor at the moved vault's new id); bv-b is locked."""
    emulator.load_fleet(fleet())
    drift = plan(session)
    emulator.load_fleet(fleet(denied_rg='rg-moved'))   # rsv-c now lives in rg-moved
    emulator.arm_request('DELETE', IDS['rsv-a'], api_version='2026-11-01')
    emulator.clear_journal()
    rows = results(apply(session, drift))
    for name, action in (('rsv-a', 'retention'), ('rsv-c', 'immutability')):
        assert rows[(name, action)]['failed'] is True and rows[(name, action)]['changed'] is False, name
        assert 'HTTP 404' in rows[(name, action)]['msg'], name
    assert [e['path'] for e in emulator.writes() if 'bv-b' not in e['path']] == []
    assert lock_writes(emulator, 'bv-b') == [('Unlocked', 202), ('Locked', 202)]


EXPIRED = {'status': 401, 'code': 'ExpiredAuthenticationToken',
           'message': "The access token expiry UTC time '3/19/2023 8:55:46 AM' is earlier than current UTC time '3/19/2023 8:55:57 AM'.",
           'headers': {'x-ms-failure-cause': 'gateway',
                       'WWW-Authenticate': 'Bearer authorization_uri="https://login.example/", error="invalid_token", '
                                           'error_description="The access token has expired."'}}


def sent(emulator, method, path_end):
    """Journal entries of the writes whose path ends with ``path_end``, in order."""
    return [e for e in emulator.writes() if e['method'] == method and e['path'].lower().endswith(path_end.lower())]


def test_a_write_refused_for_an_expired_token_at_the_gateway_is_sent_once_more_with_a_new_token(emulator, session):
    """ARM's gateway answers an expired token 401 ExpiredAuthenticationToken with x-ms-failure-cause: gateway (the live
    answer quoted in tests/emulator/README.md) before any resource provider sees the request: nothing was written, so the
    same write goes out once more with a token from a newly built credential, the irreversible lock too."""
    emulator.load_fleet(fleet())
    drift = plan(session)
    emulator.clear_journal()
    emulator.fault(method='PUT', path_regex='/vaults/rsv-a/backupPolicies/VMWeak$', times=1, **EXPIRED)
    emulator.fault(method='PATCH', path_regex='/backupVaults/bv-b$', skip=1, times=1, **EXPIRED)   # the Locked step
    done = results(apply(session, drift))
    assert [name for name, r in done.items() if r['failed']] == []
    puts = sent(emulator, 'PUT', '/VMWeak')
    locks = [e for e in sent(emulator, 'PATCH', IDS['bv-b']) if 'Locked' in str(e['body'])]
    assert lock_writes(emulator, 'bv-b') == [('Unlocked', 202), ('Locked', 401), ('Locked', 202)]
    assert immutability(emulator, 'bv-b') == 'Locked' and immutability(emulator, 'rsv-a') == 'Locked'
    for first, second in (puts, locks):   # exactly one resend each: the same body, another token
        assert (first['status'], second['status']) == (401, 200 if first is puts[0] else 202)
        assert first['body'] == second['body'] and first['body']
        assert first['token'] and second['token'] and first['token'] != second['token']
    assert session.credential.renewals >= 1


def test_a_second_expired_token_answer_fails_the_vault_as_before_and_the_write_went_out_twice(emulator, session):
    emulator.load_fleet(fleet())
    drift = plan(session)
    emulator.clear_journal()
    emulator.fault(method='PUT', path_regex='/vaults/rsv-a/backupPolicies/VMWeak$', times=2, **EXPIRED)
    emulator.fault(method='PATCH', path_regex='/backupVaults/bv-b$', skip=1, times=2, **EXPIRED)
    done = results(apply(session, drift))
    assert [e['status'] for e in sent(emulator, 'PUT', '/VMWeak')] == [401, 401]
    assert done[('rsv-a', 'retention')]['failed'] is True and 'HTTP 401' in done[('rsv-a', 'retention')]['msg']
    assert lock_writes(emulator, 'bv-b') == [('Unlocked', 202), ('Locked', 401), ('Locked', 401)]
    bv_b = done[('bv-b', 'immutability')]
    assert bv_b['failed'] is True and 'HTTP 401' in bv_b['msg'] and immutability(emulator, 'bv-b') == 'Unlocked'
    assert lock_writes(emulator, 'rsv-c') == [('Unlocked', 202), ('Locked', 202)]
    # The error names the credential whose tokens were refused, and says the new one was refused too (no further resend).
    for msg in (bv_b['msg'], done[('rsv-a', 'retention')]['msg']):
        assert 'refused the access token of the service principal (client secret), also the new token of a newly built ' \
               'credential' in msg and 'Traceback' not in msg, msg


@pytest.mark.parametrize('code, headers', [
    ('InvalidAuthenticationToken', EXPIRED['headers']),
    ('ExpiredAuthenticationToken', {'WWW-Authenticate': EXPIRED['headers']['WWW-Authenticate']}),   # not the gateway's
])
def test_any_other_401_is_not_sent_again(emulator, session, code, headers):
    emulator.load_fleet(fleet())
    drift = plan(session)
    emulator.clear_journal()
    emulator.fault(method='PATCH', path_regex='/backupVaults/bv-b$', skip=1, times=1, **dict(EXPIRED, code=code, headers=headers))
    done = results(apply(session, drift))
    assert lock_writes(emulator, 'bv-b') == [('Unlocked', 202), ('Locked', 401)]
    assert done[('bv-b', 'immutability')]['failed'] is True and session.credential.renewals == 0
    assert 'refused the access token of the service principal (client secret); check client_id' in done[('bv-b', 'immutability')]['msg']


def test_a_read_refused_for_an_expired_token_at_the_gateway_is_sent_once_more_with_a_new_token(emulator, session):
    emulator.load_fleet(fleet())
    emulator.fault(method='GET', path_regex='/vaults/rsv-c$', times=1, **EXPIRED)
    assert session.arm_get(IDS['rsv-c'], '2024-04-01', 'read vault')['name'] == 'rsv-c'
    reads = [e for e in emulator.journal() if e['method'] == 'GET' and e['path'].lower() == IDS['rsv-c'].lower()]
    assert [e['status'] for e in reads] == [401, 200] and reads[0]['token'] != reads[1]['token']


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_vault_an_earlier_operation_still_runs_on_gets_no_write(emulator, session, check_mode):
    """After the plan, another task's PATCH of bv-b (a tag) is accepted and its operation runs on (1000 s, frozen clock):
    the emulator reads bv-b Updating (Arm.vault_view). harden_apply sends bv-b nothing, not even the reversible
    enabled; its result and gate say it reads provisioningState Updating and to run again once it has finished. rsv-c is
    locked as planned. Check mode predicts the same for bv-b."""
    emulator.load_fleet(fleet())
    drift = plan(session)
    emulator.settings(lro_retry_after=1000)
    emulator.clock(freeze=True)
    assert emulator.arm_request('PATCH', IDS['bv-b'], '2026-06-01', {'tags': {'owner': 'other'}}).status_code == 202
    emulator.settings(lro_retry_after=0)   # the operations harden_apply starts end at once
    emulator.clear_journal()
    done = PlanApplier(session, BASELINE, REQUIREMENTS, True, check_mode=check_mode, max_concurrency=4).apply(drift)
    rows = results(done)
    assert lock_writes(emulator, 'bv-b') == [] and immutability(emulator, 'bv-b') == 'Disabled'
    bv_b = rows[('bv-b', 'immutability')]
    assert bv_b['failed'] is True and bv_b['changed'] is False and bv_b['changes'] == []
    assert "'bv-b'" in bv_b['msg'] and 'provisioningState Updating' in bv_b['msg'] and 'then run again' in bv_b['msg']
    gate = done['gates'][IDS['bv-b'].lower()]
    assert gate['failed'] is True and 'planned lock not made' in gate['reason'] and 'Updating' in gate['reason']
    assert lock_writes(emulator, 'rsv-c') == ([] if check_mode else [('Unlocked', 202), ('Locked', 202)])


def plan_from_rows(session):
    """The plan as harden_plan makes it with discovery resource_graph: from Resource Graph rows only."""
    found = read_fleet(session, [SUB1], ['recovery_services', 'backup'], include_policies=True, include_items=True,
                       discovery='resource_graph')
    assert found['errors'] == [] and set(found['discovery']['source_by_subscription'].values()) == {'resource_graph'}
    reads = [{'vaults': found['vaults'], 'errors': [], 'subscriptions': [SUB1], 'discovery': found['discovery'], 'item': ''}]
    return plan_run(reads, [], BASELINE, REQUIREMENTS)['drift']


def with_immutability(**states):
    doc = fleet()
    for group in doc['subscriptions'][0]['resource_groups']:
        for entry in group['vaults']:
            entry['immutability'] = states.get(entry['name'], entry['immutability'])
    return doc


def test_a_stale_row_that_says_enabled_while_arm_says_locked_gets_no_write(emulator, session):
    """Resource Graph lags ARM (the emulator's graph_lag_s; Learn: within seconds to minutes): bv-b was locked through ARM
    a moment ago (out of band), and its row still says Unlocked. The plan, made from the rows, plans bv-b's lock; the apply
    reads ARM before any write, finds bv-b Locked and sends it nothing (no second lock, no other step); rsv-c is locked."""
    emulator.load_fleet(with_immutability(**{'bv-b': 'enabled'}))
    emulator.settings(graph_lag_s=600)
    emulator.load_fleet(with_immutability(**{'bv-b': 'locked'}), lagged=True)
    drift = plan_from_rows(session)
    assert [e['actions']['immutability'] for e in drift if e['name'] == 'bv-b'] == ['locked']   # planned from the stale row
    emulator.clear_journal()
    done = apply(session, drift)
    rows = results(done)
    assert [e['path'] for e in emulator.writes() if 'bv-b' in e['path']] == []
    assert rows[('bv-b', 'immutability')]['failed'] is False and rows[('bv-b', 'immutability')]['changed'] is False
    assert immutability(emulator, 'bv-b') == 'Locked'
    assert lock_writes(emulator, 'rsv-c') == [('Unlocked', 202), ('Locked', 202)]


def test_a_stale_row_that_says_locked_while_arm_says_enabled_is_not_taken_for_a_lock(emulator, session):
    """The opposite: rsv-c's row says Locked while ARM says Unlocked (the index still holds an older vault: a stand-in made
    with a lagged fleet load, as ARM itself never unlocks). Planned from the rows, rsv-c needs no lock; the apply sends it no
    write it did not plan, and what it reports of rsv-c is ARM's Unlocked, never the row's Locked. bv-b (rows and ARM
    agree) is locked."""
    emulator.load_fleet(with_immutability(**{'rsv-c': 'locked'}))
    emulator.settings(graph_lag_s=600)
    emulator.load_fleet(with_immutability(**{'rsv-c': 'enabled'}), lagged=True)
    drift = plan_from_rows(session)
    assert [e for e in drift if e['name'] == 'rsv-c' and e.get('changes')] == []
    emulator.clear_journal()
    done = apply(session, drift)
    assert [e['path'] for e in emulator.writes() if 'rsv-c' in e['path']] == []
    reported = [r for rows in done['results'].values() for r in rows if r['item']['name'] == 'rsv-c']
    assert all((r.get('vault') or {}).get('immutability') != 'locked' for r in reported), reported
    assert immutability(emulator, 'rsv-c') == 'Unlocked'
    assert lock_writes(emulator, 'bv-b') == [('Unlocked', 202), ('Locked', 202)]


def test_a_429_on_an_operation_poll_is_retried_as_a_read_and_the_write_is_not_sent_again(emulator, monkeypatch):
    """ARM throttles an operation status poll (a GET): 429 with Retry-After as an HTTP date (RFC 9110; azure-core and the
    pacer read both forms). The poll is retried after that date as a read; the accepted PATCH it follows is never re-sent
    (its outcome is known: accepted), and the lock follows once the poll says Succeeded."""
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    session = AzureSession({'polling_interval': 0.05, 'api_retries': 2, 'wait_timeout': 30})
    emulator.load_fleet(fleet())
    drift = plan(session)
    emulator.clear_journal()
    emulator.fault(method='GET', path_regex='/backupVaults/bv-b/operationStatus/', status=429, times=1,
                   retry_after=email.utils.formatdate(time.time() + 2, usegmt=True))
    rows = results(apply(session, drift))
    assert rows[('bv-b', 'immutability')]['failed'] is False
    assert lock_writes(emulator, 'bv-b') == [('Unlocked', 202), ('Locked', 202)] and immutability(emulator, 'bv-b') == 'Locked'
    polls = [e for e in emulator.journal() if e['method'] == 'GET' and '/backupvaults/bv-b/operationstatus/' in e['path'].lower()]
    assert [e['status'] for e in polls[:2]] == [429, 200] and polls[0]['path'] == polls[1]['path']
    assert polls[1]['time'] - polls[0]['time'] >= 0.9   # the date's whole second, not at once
