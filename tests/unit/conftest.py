# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unit tests' Hypothesis profile: no deadline.

Hypothesis fails an example that takes longer than its deadline (200 ms by default), which makes every property test
a timed test: on a loaded machine (two cores, the suite's lanes and other work beside them) a pure function's example
can take longer, and test_retention.py::test_raised_rs_is_smallest_in_unit failed so while 30,000 examples of it with
no deadline passed. Speed is measured by the benchmarks under bench/, never by a test.
"""
from __future__ import annotations

from hypothesis import settings

settings.register_profile('vaultlock', deadline=None)
settings.load_profile('vaultlock')
