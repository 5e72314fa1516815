# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vault security settings of issue 27 through the harden_backup_vaults role: check mode sends no write and predicts
exactly what the apply then changes, after which a recheck finds no drift left but the report-only findings; the three
steps as blocks of one ansible-playbook run (tests/integration/role_steps.py). The fleet and the baseline are
test_security_settings.py's."""

from __future__ import annotations

from tests.integration.role_steps import play_role_steps, step
from tests.integration.test_harden_role import check_reports, findings
from tests.integration.test_security_settings import fleet  # pylint: disable=unused-import  # noqa: F401 (an autouse fixture)
from tests.integration.test_security_settings import REPORT_ONLY, ROLE, csr, props


def test_the_role_check_predicts_the_apply_and_a_recheck_finds_no_drift(runner, emulator):
    variables = dict(ROLE, harden_backup_vaults_allow_irreversible=True)
    _run, steps = play_role_steps(runner, [step('check', check=True, diff=True, **variables), step('apply', **variables),
                                           step('again', check=True, diff=True, **variables)])
    check = steps['check']
    assert check.failed is None, check.output
    assert check.writes == []
    report = check_reports(check)
    fixable = findings(report, fixable=True)
    assert fixable == {('rsv-open', 'cross_subscription_restore'), ('rsv-open', 'public_network_access'), ('rsv-open', 'alerts'),
                       ('bv-open', 'cross_subscription_restore'), ('bv-open', 'alerts')}
    assert findings(report, fixable=False) == REPORT_ONLY
    predicted = sorted((v['name'], c['setting'], str(c['after'])) for v in report['changed'] for c in v['changes'])

    apply = steps['apply']
    assert apply.failed is None, apply.output
    report = check_reports(apply)
    assert findings(report, resolved=True) == fixable
    done = sorted((v['name'], c['setting'], str(c['after'])) for v in report['changed'] for c in v['changes'])
    assert done == predicted and done
    writes = apply.writes
    assert {w['path'].rsplit('/', 1)[-1] for w in writes} == {'rsv-open', 'bv-open'}
    assert all(w['method'] == 'PATCH' for w in writes)
    again = steps['again']
    assert again.writes == []       # so the emulator holds what the apply step left
    rsv, bv = props(emulator, 'rsv-open'), props(emulator, 'bv-open', 'backup')
    assert csr(rsv) == 'PermanentlyDisabled' and csr(bv, 'backup') == 'PermanentlyDisabled'
    assert rsv['publicNetworkAccess'] == 'Disabled'
    assert rsv['monitoringSettings'] == {'azureMonitorAlertSettings': {'alertsForAllJobFailures': 'Enabled'},
                                         'classicAlertSettings': {'alertsForCriticalOperations': 'Disabled'}}
    assert bv['monitoringSettings'] == {'azureMonitorAlertSettings': {'alertsForAllJobFailures': 'Enabled'}}

    assert again.failed is None, again.output
    report = check_reports(again)
    assert findings(report) == REPORT_ONLY and report['changed'] == []
