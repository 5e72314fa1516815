# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""without_cyclic_gc: the cycle collector off while a fleet's data is built, on again after, and what cycles held freed."""

from __future__ import annotations

import gc
import weakref

import pytest

from ansible_collections.vaultlock.azure.plugins.plugin_utils._controller_action import without_cyclic_gc


class Node:
    def __init__(self):
        self.other = self


def test_the_collector_is_off_inside_and_a_cycle_made_there_is_freed_at_the_end():
    assert gc.isenabled()
    with without_cyclic_gc():
        assert not gc.isenabled()
        node = Node()
        alive = weakref.ref(node)
        del node
        assert alive() is not None
    assert gc.isenabled()
    assert alive() is None


def test_the_collector_is_on_again_after_an_error():
    with pytest.raises(RuntimeError):
        with without_cyclic_gc():
            raise RuntimeError('boom')
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with without_cyclic_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_the_process_held_before_is_left_out_of_the_collection_and_in_it_again_after():
    before = Node()
    held = weakref.ref(before)
    frozen = []
    with without_cyclic_gc():
        frozen.append(gc.get_freeze_count())
        del before     # a cycle that became garbage inside the block, but made before it: the collection skips it
    assert frozen[0] > 0
    assert gc.get_freeze_count() == 0
    assert held() is not None
    gc.collect()       # unfrozen again: the next full collection frees it
    assert held() is None


def test_objects_someone_else_froze_stay_frozen():
    gc.freeze()
    try:
        count = gc.get_freeze_count()
        node = Node()
        alive = weakref.ref(node)
        with without_cyclic_gc():
            del node
        assert gc.get_freeze_count() == count
        assert alive() is None     # made after their freeze: collected at the end of the block
    finally:
        gc.unfreeze()
