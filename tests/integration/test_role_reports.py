# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's drift.html in a real browser (Debian's headless chromium through its chromedriver, `make browser`),
its drift.sarif against the OASIS SARIF 2.1.0 schema, and the refusal of an empty report directory."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import jsonschema
import pytest

from tests.integration import chromium
from tests.integration.png import count_color, read_png
from tests.integration.fleets import SUB1, SUB2
from tests.integration.test_harden_role import ENFORCE_ALL, PLAYBOOK, Harden, drift_fleet, drift_harden

REPO = pathlib.Path(__file__).resolve().parents[2]
SARIF_SCHEMA = REPO / 'tests' / 'fixtures' / 'sarif' / 'sarif-schema-2.1.0.json'
SCREENSHOTS = REPO / 'tests' / 'output' / 'screenshots'
# The chart colours of module_utils/_reports/html.py (COLORS).
RED, GREEN, ORANGE, PURPLE = (0xc6, 0x28, 0x28), (0x2e, 0x7d, 0x32), (0xef, 0x8f, 0x00), (0x6a, 0x1b, 0x9a)


@pytest.fixture
def harden(runner, tmp_path):
    return Harden(runner, tmp_path)


@pytest.fixture(scope='module')
def check_run(emulator_server, tmp_path_factory):
    """One check run of the role over a fleet with every kind of drift and an unreadable subscription."""
    emulator, run_role, _tmp = drift_harden(emulator_server, tmp_path_factory, 'role-reports')
    variables = dict(ENFORCE_ALL, harden_backup_vaults_subscription_ids=[SUB1, SUB2, '99999999-9999-4999-8999-999999999999'],
                     harden_backup_vaults_fail_on_error=False)
    run = run_role('--check', '--diff', **variables)
    assert run.rc == 0, run.output
    assert emulator.writes() == []
    return run


def test_the_role_writes_five_reports_from_one_document(check_run):
    names = sorted(p.name for p in check_run.report_dir.iterdir())
    # And the scope record the next run compares with (plugin_utils/_scope_loss.py).
    assert names == ['drift.html', 'drift.json', 'drift.junit.xml', 'drift.md', 'drift.sarif', 'drift.scope.json']
    assert 'drift.{json,md,junit.xml,html,sarif}' in check_run.output


def test_drift_sarif_is_valid_sarif_and_agrees_with_drift_json(check_run):
    schema = json.loads(SARIF_SCHEMA.read_text())
    log = json.loads((check_run.report_dir / 'drift.sarif').read_text())
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(log)
    report = check_run.report
    run = log['runs'][0]
    # The findings only: the azure_policy section's verdicts are counted in its rules' properties.
    results = run['results']
    assert not [r for r in results if r['ruleId'].startswith('azure-policy/')]
    counted = dict((r['id'], r['properties']['non_compliant']) for r in run['tool']['driver']['rules'] if r['id'].startswith('azure-policy/'))
    assert counted == dict(('azure-policy/' + d['name'], len(d['non_compliant'])) for d in report['azure_policy']['definitions'])
    expected = [(v['id'], f['setting']) for v in report['vaults'] for f in v['findings'] if not f['resolved']]
    assert [(r['locations'][0]['logicalLocations'][0]['fullyQualifiedName'], r['ruleId']) for r in results] == expected
    assert len({r['partialFingerprints']['vaultlockFinding/v1'] for r in results}) == len(expected) == report['summary']['findings']
    assert sum(1 for r in results if r['level'] == 'error') == report['summary']['by_fix']['person'] >= 1
    assert report['summary']['errors'] >= 1 and run['invocations'][0]['executionSuccessful'] is False


def test_empty_report_dir_is_refused_before_any_request(runner, emulator, tmp_path):
    emulator.load_fleet(drift_fleet())
    emulator.clear_journal()
    workdir = tmp_path / 'cwd'
    workdir.mkdir()
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', PLAYBOOK, '--check',
           '-e', 'harden_backup_vaults_report_dir=']
    proc = subprocess.run(cmd, env=runner.env(), cwd=str(workdir), capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    # Refused by harden_plan itself (the role no longer checks it twice), naming the role's variable.
    assert 'report_dir is empty' in output and 'the default of harden_backup_vaults_report_dir' in output
    assert list(workdir.iterdir()) == []
    assert emulator.journal() == []


# --------------------------------------------------------------------------- drift.html in Chromium

@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    """Headless Debian chromium driven by Debian's chromedriver (tests/integration/chromium.py), its network log on."""
    driver = chromium.start(tmp_path_factory.mktemp('chromium-profile'), {'goog:loggingPrefs': {'performance': 'ALL', 'browser': 'ALL'}})
    try:
        yield driver
    finally:
        driver.quit()


def _requests(driver, document):
    """The URLs the browser requested for ``document`` (its own request and its subresources', by the request's
    documentURL) since the performance log was last read: whatever the browser's start-up pages asked for, and whenever
    it was logged, is not counted."""
    urls = []
    for entry in driver.get_log('performance'):
        message = json.loads(entry['message'])['message']
        if message.get('method') == 'Network.requestWillBeSent' and message['params'].get('documentURL') == document:
            urls.append(message['params']['request']['url'])
    return urls


def test_drift_html_renders_in_chromium_without_any_request(check_run, browser):
    from selenium.webdriver.common.by import By  # pylint: disable=import-outside-toplevel
    from selenium.webdriver.support.ui import Select  # pylint: disable=import-outside-toplevel
    report = check_run.report
    summary = report['summary']
    page = (check_run.report_dir / 'drift.html').resolve().as_uri()
    browser.get(page)
    assert browser.execute_script('return document.readyState') == 'complete'
    assert browser.title.startswith('Backup vault drift report')

    # Headline figures.
    figures = {e.get_attribute('data-figure'): e.find_element(By.CLASS_NAME, 'value').text
               for e in browser.find_elements(By.CSS_SELECTOR, '.figure')}
    assert (figures['vaults'], figures['drifting'], figures['findings'], figures['not-fixable'], figures['errors']) == (
        str(summary['vaults']), str(summary['drifting']), str(summary['findings']), str(summary['unfixable']), str(summary['errors']))

    # The charts were laid out: one row per subscription and per setting, bars as wide as their counts.
    subs = browser.find_elements(By.CSS_SELECTOR, '#chart-subscriptions g.row')
    assert len(subs) == len({v['subscription_id'] for v in report['vaults']}) == 2
    drifting = browser.find_elements(By.CSS_SELECTOR, '#chart-subscriptions rect.bar.drifting')
    assert sum(int(r.get_attribute('data-count')) for r in drifting) == summary['drifting']
    assert all(r.rect['width'] > 0 for r in drifting if int(r.get_attribute('data-count')))
    settings = browser.find_elements(By.CSS_SELECTOR, '#chart-settings g.row')
    assert len(settings) == len(summary['by_setting'])
    for chart in browser.find_elements(By.CSS_SELECTOR, 'svg.chart'):
        assert chart.is_displayed() and chart.size['width'] > 300 and chart.size['height'] > 40

    # Screenshots: the whole page for people, and the chart pixels in the report's colours.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    full = browser.get_screenshot_as_png()
    (SCREENSHOTS / 'drift-html.png').write_bytes(full)
    width, height, _rows, _channels = read_png(full)
    assert (width, height) == (1400, 1600) or width >= 1000
    subs_png = browser.find_element(By.ID, 'chart-subscriptions').screenshot_as_png
    settings_png = browser.find_element(By.ID, 'chart-settings').screenshot_as_png
    assert count_color(subs_png, RED) > 300 and count_color(subs_png, GREEN) > 300
    assert count_color(settings_png, ORANGE) > 300 and count_color(settings_png, PURPLE) > 100

    # The findings table: every open finding, sortable and filterable in the page.
    rows = browser.find_elements(By.CSS_SELECTOR, '#findings tbody tr.finding')
    assert len(rows) == summary['findings']
    vault_header = browser.find_element(By.CSS_SELECTOR, '#findings th[data-key="vault"] button')
    vault_header.click()
    names = [r.find_elements(By.TAG_NAME, 'td')[0].text for r in browser.find_elements(By.CSS_SELECTOR, '#findings tbody tr.finding')]
    assert names == sorted(names, key=str.lower)
    vault_header.click()
    names = [r.find_elements(By.TAG_NAME, 'td')[0].text for r in browser.find_elements(By.CSS_SELECTOR, '#findings tbody tr.finding')]
    assert names == sorted(names, key=str.lower, reverse=True)
    assert browser.find_element(By.CSS_SELECTOR, '#findings th[data-key="vault"]').get_attribute('aria-sort') == 'descending'

    def visible():
        return [r for r in browser.find_elements(By.CSS_SELECTOR, '#findings tbody tr.finding') if r.is_displayed()]
    Select(browser.find_element(By.ID, 'filter-fixable')).select_by_value('no')
    assert len(visible()) == summary['unfixable']
    Select(browser.find_element(By.ID, 'filter-fixable')).select_by_value('')
    browser.find_element(By.ID, 'filter-text').send_keys('bv-two')
    expected = sum(1 for v in report['vaults'] if v['name'] == 'bv-two' for f in v['findings'] if not f['resolved'])
    assert len(visible()) == expected >= 1
    assert browser.find_element(By.ID, 'shown').text == '%d of %d findings shown' % (expected, summary['findings'])

    # Nothing left the page: the only request is the file itself, and the page loaded no resource.
    assert _requests(browser, page) == [page]
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    severe = [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']
    assert severe == [], severe


def test_make_browser_finds_debian_chromium():
    """The make target the test suite depends on: a no-op when both programs are there."""
    proc = subprocess.run(['make', '--no-print-directory', 'browser'], cwd=str(REPO), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert shutil.which('chromium') and shutil.which('chromedriver')


def test_the_request_check_sees_a_page_that_reaches_out(browser, tmp_path):
    """The check above can fail: a page (without our CSP) that loads an image from loopback is caught."""
    leaky = tmp_path / 'leaky.html'
    leaky.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/pixel.png" alt=""></body></html>')
    browser.get(leaky.as_uri())
    # The image is requested before the page's load event, which get() waits for; its log entry may come a little later.
    seen = _requests(browser, leaky.as_uri())
    deadline = time.time() + 30
    while 'http://127.0.0.1:9/pixel.png' not in seen and time.time() < deadline:
        time.sleep(0.05)
        seen += _requests(browser, leaky.as_uri())
    assert 'http://127.0.0.1:9/pixel.png' in seen, seen
