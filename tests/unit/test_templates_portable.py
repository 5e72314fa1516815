# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja in the collection's YAML templates the same way on every ansible-core that meta/runtime.yml declares.

ansible-core before 2.19 doubles each backslash inside a Jinja string literal before it renders a template
(``_escape_backslashes`` of ansible.template), so ``'the controller\\'s'`` ends the literal at the quote and the
template fails to parse there, while 2.19 renders it. A role task that did this failed every role run on 2.17 and 2.18,
which only ``make integration-compat`` runs. No backslash inside ``{{ }}`` or ``{% %}`` in the files a user runs.
"""

from __future__ import annotations

import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JINJA = re.compile(r'\{\{.*?\}\}|\{%.*?%\}', re.S)
FILES = ('roles/**/*.yml', 'playbooks/**/*.yml', 'demo/**/*.yml', 'tests/integration/targets/**/*.yml')


def backslashes(text):
    """(line, expression) of each Jinja expression or statement of ``text`` that holds a backslash."""
    return [(text.count('\n', 0, match.start()) + 1, ' '.join(match.group(0).split())[:100])
            for match in JINJA.finditer(text) if '\\' in match.group(0)]


def test_the_check_finds_an_escaped_quote_and_passes_plain_jinja():
    text = "a: \"{{ x ~ 'it\\'s' }}\"\nb: \"{{ y | default('none') }}\"\nc: >-\n  {% if z == 'a\\b' %}\n  q\\n{% endif %}\n"
    assert [found[0] for found in backslashes(text)] == [1, 4]


def test_no_backslash_inside_jinja_in_the_collection_yaml():
    paths = sorted(set(path for pattern in FILES for path in glob.glob(os.path.join(ROOT, pattern), recursive=True)))
    assert any(path.endswith(os.path.join('tasks', 'main.yml')) for path in paths), paths
    found = ['%s:%d: %s' % (os.path.relpath(path, ROOT), line, expr)
             for path in paths for line, expr in backslashes(open(path, encoding='utf-8').read())]
    assert found == [], 'a backslash inside Jinja breaks ansible-core before 2.19 (see the module docstring):\n' + '\n'.join(found)
