# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loaded at start-up by every Python process the integration tests start (tests/integration/conftest.py puts this
directory first on PYTHONPATH): the processes of the test harness only, never the collection's users.

ansible-playbook forks a worker process for every task of every host, without exec. CPython's documentation of
``gc.freeze`` advises such a parent to freeze the collector's objects right before it forks, so that a collection in
the child does not write to (and so copy) every page of the parent's objects it visits. Measured on the whole
integration suite (pytest -n 3, 2 cores): 299 CPU-seconds and 166 s without, 272 and 150 s with it. Nothing the tests
assert depends on it: the collection neither relies on nor changes the garbage collector.

ansible-core imports a collection's Python (its action plugins, modules run in the task worker, module_utils) with its
own loader (``_AnsibleCollectionPkgLoaderBase`` in ansible/utils/collection_loader/_collection_finder.py), which
compiles each file from its source at every import and keeps no bytecode, where CPython's own loader keeps it in
``__pycache__``. Every ansible-playbook and ansible-inventory run compiled about 1.1 MB of the collection again (0.13
CPU-seconds of a 1.2 CPU-second run of the role in check mode; the whole suite took 336 CPU-seconds before, 322 after).
Here that loader's ``get_code`` goes through CPython's ``SourceFileLoader`` for a source file on disk: the same
``compile`` of the same bytes with the same file name, the bytecode kept in ``__pycache__`` next to the source and read
back while the source's modification time and size match (not written where PYTHONDONTWRITEBYTECODE is set, as for any
import). ansible-core's module is patched when it is first imported (``_CollectionBytecode``), in the processes that
import it only; nothing else of the loader changes.

Any other sitecustomize on the path (a distribution's, say) is still run after this one.
"""

import gc
import importlib.machinery
import importlib.util
import os
import sys

os.register_at_fork(before=gc.freeze)

COLLECTION_FINDER = 'ansible.utils.collection_loader._collection_finder'


def cached_get_code(original):
    """``get_code`` of ansible-core's collection loader through CPython's bytecode cache, for a ``.py`` file on disk;
    ``original`` (ansible-core's) for anything else (a synthetic package, a redirect)."""

    def get_code(self, fullname):
        if self._compiled_code:
            return self._compiled_code
        path = self._source_code_path
        if fullname == self._fullname and path and path.endswith('.py') and os.path.isfile(path):
            self._compiled_code = importlib.machinery.SourceFileLoader(fullname, path).get_code(fullname)
            return self._compiled_code
        return original(self, fullname)

    return get_code


class _CollectionBytecode:
    """A meta path finder that patches ansible-core's collection loader (``cached_get_code``) right after the module that
    defines it is imported, and then leaves ``sys.meta_path``."""

    @classmethod
    def find_spec(cls, fullname, path, target=None):  # pylint: disable=unused-argument
        if fullname != COLLECTION_FINDER:
            return None
        sys.meta_path.remove(cls)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def patched(module):
            exec_module(module)
            base = module._AnsibleCollectionPkgLoaderBase
            base.get_code = cached_get_code(base.get_code)

        spec.loader.exec_module = patched
        return spec


if COLLECTION_FINDER not in sys.modules:
    sys.meta_path.insert(0, _CollectionBytecode)

HERE = os.path.dirname(os.path.abspath(__file__))
OTHER = importlib.machinery.PathFinder.find_spec('sitecustomize', [path for path in sys.path if os.path.abspath(path or '.') != HERE])
if OTHER is not None and OTHER.loader is not None:
    OTHER.loader.exec_module(importlib.util.module_from_spec(OTHER))
