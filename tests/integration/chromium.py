# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Headless Debian chromium driven by Debian's chromedriver, with the flags a closed network needs (the drift.html tests)."""

from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get('VAULTLOCK_CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('VAULTLOCK_CHROMEDRIVER', '/usr/bin/chromedriver')


def start(profile_dir, capabilities=None):
    """A started webdriver; fails the test with the install command when chromium or chromedriver is missing."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail('chromium and chromedriver are missing: run make browser (apt-get install chromium chromium-driver)')
    os.environ['SE_OFFLINE'] = 'true'  # Selenium Manager must not look for drivers online
    from selenium import webdriver  # pylint: disable=import-outside-toplevel
    from selenium.webdriver.chrome.service import Service  # pylint: disable=import-outside-toplevel
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage', '--window-size=1400,1600',
                 '--user-data-dir=%s' % profile_dir):
        options.add_argument(flag)
    for name, value in (capabilities or {}).items():
        options.set_capability(name, value)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
