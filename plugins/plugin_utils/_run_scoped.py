# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This file is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""Where a role variable came from: the sources written for the run, or the inventory and facts (harden_plan's
``run_scoped_variables``; module_utils/_consent.py run_scoped_refusal decides).

Ansible merges every source of a variable into one value and does not say which gave it. The task's VariableManager
still holds the sources apart:

- the **trusted layer**, what is written for the run, in Ansible's order of precedence: the play's ``vars:``, the vars
  of the role's invocation (``vars:`` of a ``roles:`` entry, of ``import_role`` or ``include_role``), the vars of the task
  and its blocks (``Task.get_vars``), the role parameters (the other keys of a ``roles:`` entry), the include parameters,
  and the extra vars (``-e``);
- the **ambient layer**, ``VariableManager.get_vars(host=...)`` with no play and no task: the inventory (group and host
  variables of the inventory sources), the vars plugins (``group_vars``/``host_vars`` beside the inventory or the
  playbook), the facts, and the caches of ``include_vars`` and ``set_fact``.

Both ansible-core 2.17 and 2.19 build a task's variables that way (``VariableManager.get_vars``). Only the trusted layer
vouches for a value: one it does not give is refused, from the ambient layer or from a source left out of both (a play's
``vars_files``, other roles' ``vars/`` files and defaults, a loop variable, dictionaries merged by ``hash_behaviour``);
the role's own internal baseline, built by its ``vars/main.yml``, only when the ambient layer gives it
(module_utils/_consent.py run_scoped_refusal).

A value the trusted layer gives may be a template, and a template may read anything: ``"{{ lock_ok }}"`` in the play's
vars, with ``lock_ok: true`` in group_vars, gives whoever edits group_vars the consent again. So the trusted layer vouches
only for what it gives **by itself**: its raw value is templated with a Templar that sees nothing else (the trusted layer
and the variables Ansible sets from the command line, ``ansible_check_mode`` and the like; not ``hostvars``, ``groups``,
``vars`` or any other magic variable of the inventory), whose ``lookup``, ``query`` and ``q`` are refused (a lookup reads
the controller's environment, files or commands, none of them written for the run), as are the tests of the controller's
files (``is file``, ``is exists``, ``is vaulted_file``, ...), the filters that read its environment or files
(``expandvars``, ``expanduser``, ``fileglob``, ``realpath``, ``relpath``), and the statements that read a template file
(``{% include %}``, ``{% import %}``, ``{% from %}``, ``{% extends %}``). Those tests and filters are refused in the
Templar's own Jinja environment, under any name (``ansible.legacy.exists``) and however a template reaches them
(``select('exists')``, ``map('expandvars')``, a ``#jinja2:`` first line that changes the delimiters). ``now()`` is kept:
the clock is no one's configuration. The item of a looping include_tasks or include_role, which the strategy copies into
the include's vars, is not taken from the trusted layer (its list may be the inventory's). A template whose every
variable is itself run-scoped gives the same value there; one that reads the inventory or facts, another host's
variables or a lookup does not (an undefined variable, or a ``default`` the run wrote), and is refused, naming what it
read.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, MutableMapping

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.inventory.helpers import sort_groups
from ansible.plugins.filter.core import to_bool
from ansible.plugins.loader import filter_loader, test_loader
from ansible.template import Templar
from ansible.utils.vars import combine_vars
from ansible.vars.plugins import get_vars_from_inventory_sources, get_vars_from_path
from jinja2 import BaseLoader, Environment, nodes
from jinja2.exceptions import TemplateError

try:
    from ansible.template import trust_as_template     # ansible-core 2.19: only text from a trusted source is a template
except ImportError:                                     # 2.17: every string is (but an !unsafe one)
    def trust_as_template(value):
        return value

from ansible_collections.vaultlock.azure.plugins.module_utils._consent import (
    FROM_ELSEWHERE,
    FROM_FACTS,
    FROM_INVENTORY,
    MISSING,
    RUN_SCOPED_PARTS,
    run_scoped_effective,
    run_scoped_refusal,
    run_scoped_unknown,
)
from ansible_collections.vaultlock.azure.plugins.module_utils._tiers import WHERE as TIERS_WHERE

# The names a template calls a lookup by: refused in the Templar of the trusted layer.
LOOKUPS = ('lookup', 'query', 'q')
# Jinja's own names and Ansible's globals: not variables a template reads.
_NOT_VARIABLES = frozenset(LOOKUPS + ('range', 'dict', 'lipsum', 'cycler', 'joiner', 'namespace', 'now', 'undef', 'loop',
                                      'self', 'super', 'caller', 'varargs', 'kwargs'))
# The tests that read the controller's files (ansible.builtin's files tests, not the pure abs; vaulted_file opens the file):
# a template of the run that uses one is refused, as a lookup is. By short name: ansible.builtin.exists and
# ansible.legacy.exists are the same test (_short).
CONTROLLER_TESTS = frozenset((
    'directory', 'is_dir', 'file', 'is_file', 'link', 'is_link', 'exists', 'link_exists', 'same_file', 'is_same_file', 'mount',
    'is_mount', 'vaulted_file'))
# The filters that read the controller's environment or files (ansible.builtin's os.path filters that do: expandvars is
# lookup('env') by another name, fileglob and realpath read the file system, expanduser the home directories, relpath the
# working directory): refused as those tests are.
CONTROLLER_FILTERS = frozenset(('expandvars', 'expanduser', 'fileglob', 'realpath', 'relpath'))
# Jinja's filters that call a test or filter named by their argument (its position): select('exists'), map('expandvars').
NAMING_FILTERS = {'select': (0, CONTROLLER_TESTS), 'reject': (0, CONTROLLER_TESTS), 'selectattr': (1, CONTROLLER_TESTS),
                  'rejectattr': (1, CONTROLLER_TESTS), 'map': (0, CONTROLLER_FILTERS)}
# The prefixes under which ansible-core finds its own tests and filters.
_BUILTIN_PREFIXES = ('ansible.builtin.', 'ansible.legacy.')
# The statements that read a template file from the controller (beside the playbook: group_vars/ too), as lookup('file')
# would: a template of the run that uses one is refused.
FILE_STATEMENTS = ((nodes.Include, 'include'), (nodes.Import, 'import'), (nodes.FromImport, 'from import'), (nodes.Extends, 'extends'))
# The variables a looping include_tasks or include_role copies into its own vars (ansible.playbook.included_file), besides
# the loop variable and index variable it names: each item comes from the loop's list, which the inventory may give.
LOOP_VARIABLES = ('ansible_loop', 'ansible_loop_var', 'ansible_index_var', '_ansible_item_label')
# Only parses templates (for the names they read); never renders one.
_PARSER = Environment()
# A template's first line that sets its delimiters (ansible-core reads it in every template: 2.19 _jinja_bits, 2.17 Templar).
JINJA2_OVERRIDE = '#jinja2:'


class LookupRefused(AnsibleError):
    """A lookup, a test or filter of the controller's files or environment, or a template file read, in a template of the
    trusted layer (VariableLayers.scoped)."""


def _short(name):
    """A test's or filter's name without the prefix under which ansible-core finds its own (ansible.builtin.exists and
    ansible.legacy.exists are exists)."""
    name = str(name)
    for prefix in _BUILTIN_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _names_of(name, loader):
    """The short names ``name`` goes by: its own, and that of the plugin it resolves to (a collection's redirect)."""
    names = {_short(name)}
    try:
        plugin = loader.get(name)
    except Exception:   # pylint: disable=broad-exception-caught
        # Any failure to resolve it leaves its own name, which Jinja fails on as well if it names nothing.
        plugin = None
    if getattr(plugin, 'ansible_name', None):
        names.add(_short(plugin.ansible_name))
    return names


class _Guarded(MutableMapping):
    """A Jinja environment's filters or tests (``wrapped``), but those of ``refused`` (short names): each fails when called
    and is recorded in ``used``. Every way a template reaches a test or filter goes through this mapping: by its name with
    any prefix, through select('exists') or map('expandvars'), under other delimiters (a #jinja2: header)."""

    def __init__(self, wrapped, refused, loader, used):
        self._wrapped = wrapped
        self._refused = refused
        self._loader = loader
        self._used = used

    def __getitem__(self, key):
        names = _names_of(key, self._loader) & self._refused
        if not names:
            return self._wrapped[key]
        used = self._used

        def refused(*_args, **_kwargs):
            for name in sorted(names):
                if name not in used:
                    used.append(name)
            raise LookupRefused('%s refused: the controller\'s files and environment are not written for the run' % key)
        return refused

    def __setitem__(self, key, value):
        self._wrapped[key] = value

    def __delitem__(self, key):
        del self._wrapped[key]

    def __iter__(self):
        return iter(self._wrapped)

    def __len__(self):
        return len(self._wrapped)


class _NoTemplateFiles(BaseLoader):
    """The template loader of the trusted layer's Templar: {% include %}, {% import %} and {% extends %} read a file of the
    controller, as lookup('file') does, and are refused (recorded in ``used``)."""

    def __init__(self, used):
        self._used = used

    def get_source(self, environment, template):
        if 'template files' not in self._used:
            self._used.append('template files')
        raise LookupRefused('reading the template file %s refused: the controller\'s files are not written for the run' % template)


def _environment(templar):
    """The Jinja environment ``templar`` renders with."""
    engine = getattr(templar, '_engine', None)      # ansible-core 2.19: the engine's (Templar.environment is deprecated)
    return engine.environment if engine is not None else templar.environment


def _play_of(task):
    """The play a task belongs to (its blocks know it), or None."""
    node = task
    while node is not None:
        play = getattr(node, '_play', None)
        if play is not None:
            return play
        node = getattr(node, '_parent', None)
    return None


def _loop_variables(task):
    """The variables the looping includes above ``task`` (and the task itself) set for each item: the strategy copies them
    into the include's vars (StrategyBase._copy_included_file), whose items the trusted layer must not take as written for
    the run."""
    names = set()
    node = task
    while node is not None:
        own = getattr(node, 'vars', None)
        own = own if isinstance(own, Mapping) else {}
        if getattr(node, 'loop', None) is not None or getattr(node, 'loop_with', None) or 'ansible_loop_var' in own:
            control = getattr(node, 'loop_control', None)
            given = (getattr(control, 'loop_var', None) or 'item', getattr(control, 'index_var', None), own.get('ansible_loop_var'),
                     own.get('ansible_index_var'))
            names.update(name for name in given if isinstance(name, str) and name)
            names.update(LOOP_VARIABLES)
        node = getattr(node, '_parent', None)
    return names


class VariableLayers(object):
    """The trusted and ambient layers of a task's variables on its host (see the module's docstring)."""

    def __init__(self, trusted, ambient, facts, command_line=None, loader=None, named=None, host=None, inventory=None):
        self.trusted = trusted      # {name: raw value} from the sources written for the run
        self.ambient = ambient      # {name: raw value} from the inventory, vars plugins and facts (and the extra vars)
        self.facts = facts          # [{name: value}] the fact, include_vars and set_fact caches of the host
        self.command_line = dict(command_line or {})  # what Ansible sets from the command line (ansible_check_mode, ...)
        self.loader = loader
        # [(label, {name: raw value}, written for the run)]: each source apart, in Ansible's precedence (highest first), the
        # trusted layer's and the facts' (source_of); the inventory's are read on demand (inventory_source).
        self.named = list(named or [])
        self.host = host
        self.inventory = inventory

    def scoped_variables(self):
        """The variables written for the run: the trusted layer and the command line's (which Ansible ranks above every
        other source, as it does here)."""
        variables = dict(self.trusted)
        variables.update(self.command_line)
        return variables

    def scoped(self):
        """(templar, used): a Templar that sees only what is written for the run (the trusted layer, and the command line's
        variables, which Ansible ranks above every other source as it does here). What reads the controller instead fails
        in a template it renders, and is recorded in ``used``: a lookup (``used['lookups']``, its name), a test or filter of
        the controller's files or environment (``used['controller']``: CONTROLLER_TESTS, CONTROLLER_FILTERS) and a template
        file read by {% include %}, {% import %}, {% from %} or {% extends %} (``used['controller']``: 'template files')."""
        used = {'lookups': [], 'controller': []}

        def refused(name=None, *_args, **_kwargs):
            used['lookups'].append(str(name))
            raise LookupRefused('lookup %s refused: a lookup is not written for the run' % name)
        variables = self.scoped_variables()
        variables.update((name, refused) for name in LOOKUPS)   # variables shadow the template engine's globals
        templar = Templar(loader=self.loader, variables=variables)
        environment = _environment(templar)
        environment.tests = _Guarded(environment.tests, CONTROLLER_TESTS, test_loader, used['controller'])
        environment.filters = _Guarded(environment.filters, CONTROLLER_FILTERS, filter_loader, used['controller'])
        environment.loader = _NoTemplateFiles(used['controller'])
        return templar, used

    @classmethod
    def of(cls, task, task_vars):
        """The layers of ``task`` on the host of ``task_vars``, or None when the task holds no VariableManager or the host
        is not in its inventory."""
        manager = task.get_variable_manager()
        inventory = getattr(manager, '_inventory', None)
        hostname = (task_vars or {}).get('inventory_hostname')
        if manager is None or inventory is None or not hostname:
            return None
        host = inventory.get_host(hostname)
        if host is None:
            return None
        trusted = {}
        play = _play_of(task)
        play_vars = dict(play.get_vars()) if play is not None else {}
        trusted = combine_vars(trusted, play_vars)
        role = task._role
        dep_chain = task.get_dep_chain()
        # The vars: of the role's invocation (roles: entry, import_role, include_role); not the role's vars/ files.
        role_vars = dict(role.vars or {}) if role is not None else {}
        trusted = combine_vars(trusted, role_vars)
        task_vars_own = dict(task.get_vars())
        trusted = combine_vars(trusted, task_vars_own)
        role_params = dict(role.get_role_params(dep_chain)) if role is not None else {}
        trusted = combine_vars(trusted, role_params)
        include_params = dict(task.get_include_params())
        trusted = combine_vars(trusted, include_params)
        # A looping include's item is no value written for the run: its list may come from the inventory.
        loop_names = _loop_variables(task)
        for name in loop_names:
            trusted.pop(name, None)
        trusted = combine_vars(trusted, manager.extra_vars)
        try:
            ambient = manager.get_vars(host=host, include_hostvars=False)
        except AnsibleError:
            return None     # then every value that needs the check is refused, with the reason
        facts = []
        caches = {}
        for cache in ('_fact_cache', '_vars_cache', '_nonpersistent_fact_cache'):
            try:
                caches[cache] = dict(getattr(manager, cache).get(host.name) or {})
            except (AttributeError, KeyError, TypeError):
                continue
            facts.append(caches[cache])

        def run(layer):
            return dict((name, value) for name, value in layer.items() if name not in loop_names)
        # Each source apart, in Ansible's order of precedence (highest first): what source_of names.
        named = [('extra vars (-e)', dict(manager.extra_vars or {}), True),
                 ('the include parameters of the task that includes the role', run(include_params), True),
                 ('role parameters', run(role_params), True),
                 ('facts (set_fact)', caches.get('_nonpersistent_fact_cache') or {}, False),
                 ('facts (include_vars)', caches.get('_vars_cache') or {}, False),
                 ('the vars of the task that imports the role or of a block around it', run(task_vars_own), True),
                 ("the vars of the role's invocation", run(role_vars), True),
                 ("the play's vars", run(play_vars), True),
                 ('facts (gathered or cached)', caches.get('_fact_cache') or {}, False)]
        return cls(trusted, ambient, facts, getattr(manager, '_options_vars', None), getattr(manager, '_loader', None),
                   named, host, inventory)

    def origin(self, name):
        """Where the ambient layer's value of ``name`` came from, in general terms."""
        return FROM_FACTS if any(name in layer for layer in self.facts) else FROM_INVENTORY

    def inventory_source(self, name):
        """Which inventory source gives the host its value of ``name``, in Ansible's default order of precedence (the
        host's own before its groups', the deepest group before its parents, ``all`` last; vars plugins beside the playbook,
        then beside the inventory, then the inventory file itself): "group_vars of group 'prod' (beside the inventory)", or
        FROM_INVENTORY when none of them can be told (a vars plugin that is not run per host, say)."""
        host, loader = self.host, self.loader
        inventory = self.inventory
        if host is None or loader is None or inventory is None:
            return FROM_INVENTORY
        try:
            basedir = loader.get_basedir()
            sources = list(getattr(inventory, '_sources', None) or [])
            groups = list(reversed(sort_groups([group for group in host.get_groups() if group.name != 'all'])))
            everyone = inventory.groups.get('all')
        except (AnsibleError, AttributeError, TypeError):
            return FROM_INVENTORY

        def beside_playbook(entity):
            return get_vars_from_path(loader, basedir, [entity], 'task')

        def beside_inventory(entity):
            return get_vars_from_inventory_sources(loader, sources, [entity], 'task')
        checks = [(beside_playbook, host, "host_vars of host '%s' (beside the playbook)"),
                  (beside_inventory, host, "host_vars of host '%s' (beside the inventory)"),
                  (lambda entity: entity.vars, host, "the inventory file's variables of host '%s'")]
        checks += [(beside_playbook, group, "group_vars of group '%s' (beside the playbook)") for group in groups]
        checks += [(beside_inventory, group, "group_vars of group '%s' (beside the inventory)") for group in groups]
        if everyone is not None:
            checks += [(beside_playbook, everyone, "group_vars of group '%s' (beside the playbook)"),
                       (beside_inventory, everyone, "group_vars of group '%s' (beside the inventory)")]
        checks += [(lambda entity: entity.vars, group, "the inventory file's variables of group '%s'") for group in groups]
        if everyone is not None:
            checks.append((lambda entity: entity.vars, everyone, "the inventory file's variables of group '%s'"))
        for read, entity, label in checks:
            try:
                found = name in (read(entity) or {})
            except Exception:   # pylint: disable=broad-exception-caught
                # A vars plugin that fails here failed for Ansible too (or is not run per entity): not this source.
                found = False
            if found:
                return 'the inventory: %s' % (label % entity.name)
        return FROM_INVENTORY

    def source_of(self, name):
        """``(where, written_for_run)``: the source that gives the task its value of ``name`` (the highest in Ansible's
        precedence among those that give it), and whether that source is written for the run (source_of does not judge a
        template: weakened_sources does)."""
        for label, layer, for_run in self.named:
            if name in layer:
                return label, for_run
        if name in self.ambient:
            return self.inventory_source(name), False
        return FROM_ELSEWHERE, False


def _converted(part, raw, templar):
    """A layer's raw value of a variable as the role uses it: templated with the task's variables, then converted as the
    role converts it (``| bool`` for the consent, with the running ansible-core's own filter). MISSING when it cannot be
    templated (then it cannot be the value the task received either)."""
    if raw is MISSING:
        return MISSING
    try:
        value = templar.template(raw)
        if part in ('allow_irreversible', 'allow_scope_loss'):
            return bool(to_bool(value))
        if part == 'tiers':
            return value or []
        return value
    except (AnsibleError, TypeError, ValueError):
        return MISSING


def _is_template(value, templar):
    """Whether ``value`` is text the template engine renders (not an !unsafe string, which 2.17 marks and 2.19 leaves
    untrusted)."""
    return isinstance(value, str) and not getattr(value, '__UNSAFE__', False) and templar.is_template(value)


def _parse(text):
    """The tree of the template ``text`` as ansible-core reads it (a ``#jinja2:`` first line sets its delimiters, the
    configured Jinja extensions their statements), or None when it cannot be parsed here (what it uses is then caught as it
    is rendered: VariableLayers.scoped)."""
    options = {}
    if text.startswith(JINJA2_OVERRIDE):
        line, _newline, text = text.partition('\n')
        try:
            for pair in line[len(JINJA2_OVERRIDE):].split(','):
                key, value = pair.split(':', 1)
                options[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            return None
    try:
        parser = _PARSER
        if options or C.DEFAULT_JINJA2_EXTENSIONS:
            parser = Environment(extensions=list(C.DEFAULT_JINJA2_EXTENSIONS or []), **options)
        return parser.parse(text)
    except (TemplateError, TypeError, ValueError, ImportError, AttributeError):
        return None


def _controller_uses(tree, found):
    """Add to ``found`` the tests (CONTROLLER_TESTS) and filters (CONTROLLER_FILTERS) of the controller's files and
    environment that the template ``tree`` names, as written: ``is exists``, ``| expandvars``, ``select('exists')``,
    ``map('ansible.builtin.expandvars')``, with any prefix ansible-core finds its own under."""
    named = [(node.name, CONTROLLER_TESTS, test_loader, 'tests') for node in tree.find_all(nodes.Test)]
    for node in tree.find_all(nodes.Filter):
        named.append((node.name, CONTROLLER_FILTERS, filter_loader, 'filters'))
        position, refused = NAMING_FILTERS.get(_short(node.name), (None, None))
        if position is not None and len(node.args) > position and isinstance(node.args[position], nodes.Const):
            kind = 'tests' if refused is CONTROLLER_TESTS else 'filters'
            named.append((node.args[position].value, refused, test_loader if kind == 'tests' else filter_loader, kind))
    for name, refused, loader, kind in named:
        if isinstance(name, str) and _names_of(name, loader) & refused and name not in found[kind]:
            found[kind].append(name)


def _reads(value, variables, templar, found=None):
    """{'names': the variables the templates in ``value`` read (in its dictionaries and lists too), in the order they are
    read, following those that ``variables`` gives into their own values; 'tests' and 'filters': the tests and filters of
    the controller's files and environment they name (CONTROLLER_TESTS, CONTROLLER_FILTERS); 'files': the statements that
    read a template file (FILE_STATEMENTS)}."""
    found = {'names': [], 'tests': [], 'filters': [], 'files': []} if found is None else found
    if isinstance(value, Mapping):
        for key, item in value.items():
            _reads(key, variables, templar, found)
            _reads(item, variables, templar, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _reads(item, variables, templar, found)
    elif _is_template(value, templar):
        tree = _parse(str(value))
        if tree is None:
            return found
        _controller_uses(tree, found)
        for kind, statement in FILE_STATEMENTS:
            if statement not in found['files'] and any(True for _node in tree.find_all(kind)):
                found['files'].append(statement)
        local = set(node.name for node in tree.find_all(nodes.Name) if node.ctx in ('store', 'param'))
        # What {% import %} and {% from import %} bind (refused as files read already) are no variables either.
        local.update(node.target for node in tree.find_all(nodes.Import))
        local.update(name if isinstance(name, str) else name[-1] for node in tree.find_all(nodes.FromImport) for name in node.names)
        for node in tree.find_all(nodes.Name):
            name = node.name
            if node.ctx == 'load' and name not in local and name not in _NOT_VARIABLES and name not in found['names']:
                found['names'].append(name)
                if name in variables:
                    _reads(variables[name], variables, templar, found)
    return found


def _rendered(name, templar):
    """The value of the variable ``name`` in ``templar``, or MISSING."""
    try:
        return templar.template(trust_as_template('{{ %s }}' % name))
    except (AnsibleError, TypeError, ValueError):
        return MISSING


def _what_it_reads(raw, layers, scoped, used, templar):
    """What a template of the trusted layer reads that is not written for the run: 'reads lock_ok and calls
    lookup(env)'. A variable counts when the trusted layer does not give it, or gives it another value than the task's
    (``used``: what ``scoped`` refused, rendering the template and now those variables: VariableLayers.scoped)."""
    variables = layers.scoped_variables()
    found = _reads(raw, variables, templar)
    foreign = [name for name in found['names']
               if name not in variables or _rendered(name, scoped) != _rendered(name, templar)]
    # What only the rendering met (a test named by a variable, a template under other delimiters): by its short name.
    named = set(_short(name) for name in found['tests'] + found['filters'])
    for name in used['controller']:
        if name == 'template files':
            if not found['files']:
                found['files'].append('include')
        elif name not in named:
            found['tests' if name in CONTROLLER_TESTS else 'filters'].append(name)
    what = []
    if foreign:
        what.append('reads %s' % ', '.join(foreign))
    called = sorted(set(used['lookups']))
    if called:
        what.append('calls %s' % ', '.join('lookup(%s)' % name for name in called))
    if found['files']:
        what.append('reads the controller\'s files (%s)' % ', '.join('{%% %s %%}' % statement for statement in found['files']))
    if found['tests']:
        what.append('tests the controller\'s files (%s)' % ', '.join(found['tests']))
    if found['filters']:
        what.append('reads the controller\'s environment or files (%s)' % ', '.join('| %s' % name for name in found['filters']))
    return ' and '.join(what) or 'reads values no source written for the run gives'


def _trusted_and_templated(part, name, layers, templar):
    """``(trusted, templated, what_it_reads)`` of the trusted layer's value of ``name`` as ``part`` is converted: what the
    run's sources give by themselves (MISSING when they do not, or when the template tests or filters the controller's
    files or environment: that reads what a lookup would), the same text templated with every variable of the task, and
    a function that says what the template reads (_what_it_reads) when the two differ."""
    raw = layers.trusted.get(name, MISSING)
    scoped, used = layers.scoped()
    trusted = _converted(part, raw, scoped)
    controller = _reads(raw, layers.scoped_variables(), templar)
    if trusted is not MISSING and (controller['tests'] or controller['filters'] or controller['files']):
        trusted = MISSING
    templated = _converted(part, raw, templar)
    return trusted, templated, lambda: _what_it_reads(raw, layers, scoped, used, templar)


def run_scoped_refusals(variables, args, templar, layers):
    """The refusals (messages) of harden_plan's ``args`` whose ``variables`` (part -> variable name, its
    ``run_scoped_variables``) came from the inventory or facts rather than from a source written for the run.
    ``templar``: the task's (every variable of the task); ``layers``: VariableLayers.of the task, or None when they cannot
    be read (then every value that needs the check is refused)."""
    refusals = []
    for part in RUN_SCOPED_PARTS:
        name = (variables or {}).get(part)
        if not name:
            continue
        effective = run_scoped_effective(part, args)
        if layers is None:
            message = run_scoped_unknown(part, name, effective)
        else:
            trusted, templated, what_it_reads = _trusted_and_templated(part, name, layers, templar)
            reads = what_it_reads() if templated is not MISSING and trusted != templated else ''
            ambient = _converted(part, layers.ambient.get(name, MISSING), templar)
            message = run_scoped_refusal(part, name, effective, trusted, ambient, layers.origin(name), templated, reads)
        if message:
            refusals.append(message)
    return refusals


def weakened_sources(entries, layers, templar, from_role=True, task_wrote_baseline=True):
    """The weakened_baseline ``entries`` (module_utils/_targets.py), each with ``source`` (where its value came from:
    extra vars, the play's vars, role parameters, "the inventory: group_vars of group 'prod' (beside the inventory)",
    facts, ...) and ``for_run`` (whether that source is written for the run, and gives the value by itself: a template of
    the run that reads the inventory, facts or a lookup is not). ``from_role``: harden_plan ran from the role (its
    run_scoped_variables given), so each entry's variable is the role's; else the baseline is the task's own option
    (``task_wrote_baseline``: written in the task, not supplied by module_defaults). ``layers``: VariableLayers.of the task,
    or None when it cannot be read (then no source can be told, and none counts as written for the run)."""
    done = []
    for entry in entries:
        entry = dict(entry)
        if not from_role:
            entry['source'] = ('the baseline option of the harden_plan task' if task_wrote_baseline
                               else 'the module_defaults of harden_plan')
            entry['for_run'] = bool(task_wrote_baseline)
        elif layers is None:
            entry['source'] = 'a source that cannot be told here (the task holds no variable manager)'
            entry['for_run'] = False
        else:
            # Every tier's keys come from one variable (a weakened_baseline entry names harden_backup_vaults_baselines[<index>]).
            name = TIERS_WHERE if entry.get('tier') is not None else entry['variable']
            where, for_run = layers.source_of(name)
            if for_run:
                trusted, templated, what_it_reads = _trusted_and_templated('baseline', name, layers, templar)
                if trusted is MISSING or trusted != templated:
                    where = '%s, through a template that %s' % (where, what_it_reads())
                    for_run = False
            entry['source'] = where
            entry['for_run'] = for_run
        done.append(entry)
    return done
