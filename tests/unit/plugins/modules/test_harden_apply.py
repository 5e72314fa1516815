# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/_harden_apply.py in process (the fake Azure of conftest.py): each vault's steps in order, the lock gate
judged again on what ARM says at the moment of the lock, no lock after a failed step or without the task's consent,
check mode writes nothing, and the per-vault results the reports take."""

from __future__ import annotations

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import AzureOperationError
from ansible_collections.vaultlock.azure.plugins.module_utils._targets import plan_run
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_apply import PlanApplier, VaultSession
from ansible_collections.vaultlock.azure.plugins.plugin_utils._harden_run import apply_summary, gated_drift
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.fleet import attach_policies
from ansible_collections.vaultlock.azure.plugins.module_utils._discovery.items import attach_items

from tests.unit.builders import BV, RS, arm_vault, iaas
from tests.unit.plugins.modules.conftest import FakeSession

LOCK = {'immutability': 'locked', 'allow_irreversible': True, 'soft_delete': {'state': 'on', 'retention_days': 14},
        'retention': {'minimum': {'daily': '30d'}, 'mode': 'enforce'}}
REQUIREMENTS = {'max_retention': '10y', 'require_soft_delete': 'on', 'no_unfixable_findings': True}


def fleet(azure):
    """rsv-weak: a weak policy in use and soft delete kept 10 days (raise, soft delete, then lock); bv-open: disabled."""
    rsv = azure.add(arm_vault('rsv-weak', immutability='disabled', soft_delete='on', days=10), [iaas('VMWeak', daily=(7, 'Days'))])
    azure.protect(rsv, 'VMWeak', 'vm-01')
    azure.add(arm_vault('bv-open', BV, immutability='disabled', soft_delete='on'))


def plan(azure, session, baseline=None, requirements=None):
    records = [vault_record(raw, RS if 'RecoveryServices' in raw['type'] else BV) for raw in azure.vaults.values()]
    attach_policies(session, records, 2)
    attach_items(session, records, 2)
    reads = [{'vaults': records, 'errors': [], 'subscriptions': [], 'discovery': None, 'item': ''}]
    return plan_run(reads, [], baseline or LOCK, requirements or REQUIREMENTS)['drift']


def writes_of(azure, name):
    return [(op, body) for op, what, body in azure.writes if name in str(what)]


@pytest.fixture
def session(azure):
    return FakeSession({}, azure=azure)


def applier(session, consent=True, check_mode=False, baseline=None):
    return PlanApplier(session, baseline or LOCK, REQUIREMENTS, consent, check_mode=check_mode, max_concurrency=4)


def test_each_vault_in_order_retention_soft_delete_then_the_two_lock_steps(azure, session):
    fleet(azure)
    drift = plan(azure, session)
    done = applier(session).apply(drift)
    assert done['gates'] == {}
    writes = writes_of(azure, 'rsv-weak')
    assert [op for op, _body in writes] == ['PUT', 'PATCH vaultconfig', 'PATCH', 'PATCH']
    assert [body['properties']['securitySettings']['immutabilitySettings']['state'] for _op, body in writes[2:]] == ['Unlocked', 'Locked']
    rsv_id = [e['id'] for e in drift if e['name'] == 'rsv-weak'][0]
    assert vault_record(azure.vault(rsv_id), RS)['immutability'] == 'locked'
    summary = apply_summary(dict(done, pacing={}))
    assert summary['vaults'] == 2 and summary['vaults_changed'] == 2 and summary['vaults_failed'] == 0
    actions = {action: sorted(r['item']['name'] for r in results) for action, results in done['results'].items()}
    assert actions == {'retention': ['rsv-weak'], 'soft_delete': ['rsv-weak'], 'immutability': ['bv-open', 'rsv-weak'],
                       'cross_subscription_restore': [], 'public_network_access': [], 'alerts': [], 'resource_guard': []}


def test_a_lock_is_judged_again_on_what_arm_says_at_the_moment_of_the_lock(azure, session):
    fleet(azure)
    drift = plan(azure, session)
    # After the plan, someone gives rsv-weak's policy in use a 20-year yearly tier.
    rsv_id = [e['id'] for e in drift if e['name'] == 'rsv-weak'][0]
    azure.policies[rsv_id.lower()]['vmweak'] = iaas('VMWeak', daily=(30, 'Days'), yearly=(20, 'Years'))
    azure.policies[rsv_id.lower()]['vmweak']['id'] = rsv_id + '/backupPolicies/VMWeak'
    done = applier(session).apply(drift)
    gate = done['gates'][rsv_id.lower()]
    assert 'lock requirements' in gate['reason'] and gate['lock_readiness']['ready'] is False
    assert [b['requirement'] for b in gate['lock_readiness']['blockers']] == ['max_retention']
    assert vault_record(azure.vault(rsv_id), RS)['immutability'] == 'enabled'
    states = [body['properties']['securitySettings']['immutabilitySettings']['state'] for op, body in writes_of(azure, 'rsv-weak')
              if op == 'PATCH' and 'immutabilitySettings' in str(body)]
    assert states == ['Unlocked']
    # The report takes the gate: the finding stays open, not fixable, with the reason; the lock row is not ready.
    entry = [e for e in gated_drift(drift, done['gates']) if e['id'] == rsv_id][0]
    finding = [f for f in entry['findings'] if f['setting'] == 'immutability'][0]
    assert finding['fixable'] is False and finding['reason'] == gate['reason']
    assert not any(c.get('after') == 'locked' for c in entry['changes'])


def test_a_vault_whose_earlier_step_failed_is_never_locked(azure, session):
    fleet(azure)
    drift = plan(azure, session)
    azure.refuse[('update backup policy', 'rsv-weak')] = AzureOperationError('update backup policy', 'rsv-weak', 400, 'BadRequest', 'no')
    done = applier(session).apply(drift)
    rsv_id = [e['id'] for e in drift if e['name'] == 'rsv-weak'][0]
    assert 'earlier change of this vault failed' in done['gates'][rsv_id.lower()]['reason']
    assert vault_record(azure.vault(rsv_id), RS)['immutability'] == 'enabled'
    retention = done['results']['retention'][0]
    assert retention['failed'] is True and 'BadRequest' in retention['msg']


def test_without_the_tasks_consent_nothing_is_locked_and_the_vault_fails(azure, session):
    fleet(azure)
    drift = plan(azure, session)
    done = applier(session, consent=False).apply(drift)
    assert all(vault_record(raw, RS if 'RecoveryServices' in raw['type'] else BV)['immutability'] != 'locked'
               for raw in azure.vaults.values())
    failed = [r for r in done['results']['immutability'] if r['failed']]
    assert len(failed) == 2 and all('does not consent' in r['msg'] for r in failed)


def test_check_mode_writes_nothing_and_predicts_the_plan(azure, session):
    fleet(azure)
    drift = plan(azure, session)
    done = applier(session, check_mode=True).apply(drift)
    assert azure.writes == []
    predicted = sorted((r['item']['name'], c['after']) for r in done['results']['immutability'] for c in r['changes'])
    assert predicted == [('bv-open', 'enabled'), ('bv-open', 'locked'), ('rsv-weak', 'enabled'), ('rsv-weak', 'locked')]


class Recorder:
    """A session whose arm_get answers from a counter, so each read is told apart."""

    def __init__(self):
        self.reads = []
        self.pacer = 'the pacer'

    def arm_get(self, path, api_version, operation, resource=None):
        self.reads.append(path)
        return {'read': len(self.reads)}


def test_a_step_starts_from_the_read_that_ended_the_step_before_once_and_only_after_success():
    inner = Recorder()
    session = VaultSession(inner, '/subscriptions/s/resourceGroups/g/providers/P/vaults/v')
    path = '/subscriptions/s/resourceGroups/g/providers/P/vaults/V'     # ARM paths compare case-insensitively
    assert session.arm_get(path, '1', 'read') == {'read': 1}
    assert session.arm_get(path, '1', 'read') == {'read': 2}           # the step's re-read after its write
    session.step_done(True)
    assert session.arm_get(path, '1', 'read') == {'read': 2}           # the next step starts from it: no request
    assert session.arm_get(path + '/backupPolicies', '1', 'list') == {'read': 3}
    assert session.arm_get(path, '1', 'read') == {'read': 4}           # handed once
    session.step_done(False)
    assert session.arm_get(path, '1', 'read') == {'read': 5}           # a failed step hands nothing on
    session.step_done(True)
    assert session.arm_get(path, '2', 'read') == {'read': 6}           # another api-version is another read
    assert len(inner.reads) == 6 and session.pacer == 'the pacer'


class NotingRecorder(Recorder):
    """A Recorder whose last long-running write noted its final read (as AzureSession.note_sdk_read)."""

    def __init__(self):
        super().__init__()
        self.noted = None
        self.takes = []

    def take_sdk_read(self, path=None, api_version=None):
        self.takes.append(path)
        noted, self.noted = self.noted, None
        return dict(noted) if noted and path and path.lower() == noted['path'].lower() and api_version == '1' else None


def test_a_step_confirms_from_the_final_read_of_its_long_running_write_and_never_from_an_older_one():
    inner = NotingRecorder()
    vault = '/subscriptions/s/resourceGroups/g/providers/P/vaults/v'
    session = VaultSession(inner, vault)
    assert session.arm_get(vault, '1', 'read') == {'read': 1}
    inner.noted = {'path': vault, 'final': True}                       # the PATCH's final GET
    assert session.arm_get(vault, '1', 'read') == {'path': vault, 'final': True}
    assert session.arm_get(vault, '1', 'read') == {'read': 2}          # taken once
    session.step_done(True)
    assert session.arm_get(vault, '1', 'read') == {'read': 2}          # the hand-off between steps still comes first
    inner.noted = {'path': vault, 'final': True}
    session.step_done(False)                                           # a failed step forgets it too
    assert session.arm_get(vault, '1', 'read') == {'read': 3}
    inner.noted = {'path': vault, 'final': True}
    assert session.arm_get(vault + '/backupPolicies', '1', 'list') == {'read': 4}
    assert session.arm_get(vault, '1', 'read') == {'read': 5}          # another read came between: not taken
