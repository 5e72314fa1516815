# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command, then log its peak resident memory and wall time as one JSON line.

    python bench/rss.py COMMAND [ARGS...]

bench/run.py uses it two ways:

* as the Python interpreter of module tasks (a tiny shell script execs it with the real Python as
  COMMAND), so each module process (AnsiballZ runs the module in that same process) is measured;
* around ansible-playbook itself, for the largest process of the whole run.

The peak comes from getrusage(RUSAGE_CHILDREN).ru_maxrss: the largest resident set of the child or of
any descendant it waited for. The log file is BENCH_RSS_LOG; nothing is logged without it.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time

_MODULE = re.compile(r'AnsiballZ_(?P<name>[A-Za-z0-9_]+)\.py$')


def what(argv):
    """The module name of an AnsiballZ payload among the arguments, else the command's name."""
    for arg in argv[1:]:
        match = _MODULE.search(arg)
        if match:
            return match.group('name')
    return os.path.basename(argv[0])


def main(argv):
    if not argv:
        sys.stderr.write('usage: rss.py COMMAND [ARGS...]\n')
        return 2
    started = time.time()
    rc = subprocess.call(argv)
    seconds = time.time() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    log = os.environ.get('BENCH_RSS_LOG')
    if log:
        # ru_maxrss is KiB on Linux and bytes on macOS.
        kib = usage.ru_maxrss / 1024.0 if sys.platform == 'darwin' else float(usage.ru_maxrss)
        line = {'what': what(argv), 'maxrss_mib': round(kib / 1024.0, 1),
                'seconds': round(seconds, 4), 'cpu_s': round(usage.ru_utime + usage.ru_stime, 4), 'rc': rc,
                'label': os.environ.get('BENCH_RSS_LABEL', '')}
        with open(log, 'a', encoding='utf-8') as handle:
            handle.write(json.dumps(line) + '\n')
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
