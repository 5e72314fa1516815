# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""without_cyclic_gc: the cycle collector off while a fleet's data is built, on again after, and what cycles held freed.

Which objects are frozen is asked of the objects themselves (a garbage cycle outlives a collection exactly while it is
frozen), never of gc.get_freeze_count compared before and after: the count falls whenever any thread of the process
frees an object that was frozen, and a pytest-xdist worker has such a thread (execnet's receiver, which frees what it
held when the controller's next message arrives: 3 of 60 copies of this file failed that way under -n 2).
"""

from __future__ import annotations

import gc
import os
import threading
import weakref

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.vaultlock.azure.plugins.plugin_utils._controller_action import ControllerActionBase, refused, without_cyclic_gc


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
    gc.unfreeze()      # this test's case: nothing in the process frozen before the block
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


def test_a_fork_in_the_test_process_leaves_nothing_frozen():
    """The case above needs a process where nothing froze: tests/integration/fork_freeze (gc.freeze before each fork)
    is for the processes the integration tests start, never pytest's own, which a run of tests/unit and tests/integration
    at once shares (tests/integration/conftest.py: fork_freeze)."""
    gc.unfreeze()
    pid = os.fork()
    if not pid:
        os._exit(0)
    os.waitpid(pid, 0)
    assert gc.get_freeze_count() == 0


def test_objects_someone_else_froze_stay_frozen():
    before = Node()
    held = weakref.ref(before)
    gc.freeze()        # theirs: what the process held up to here
    try:
        del before     # a cycle that is garbage from here on: a collection leaves it exactly while it stays frozen
        node = Node()
        alive = weakref.ref(node)
        with without_cyclic_gc():
            del node
        assert alive() is None     # made after their freeze: collected at the end of the block
        gc.collect()
        assert held() is not None  # still frozen after the block
    finally:
        gc.unfreeze()
    gc.collect()
    assert held() is None          # unfrozen, the same collection frees it: the assertion above can fail


def test_objects_someone_else_froze_stay_frozen_while_another_thread_frees_what_it_held():
    """What a pytest-xdist worker's receiver thread can do to the test above: free objects made before the freeze while the
    block runs (here at the start of the block's collection, every time). The frozen count falls by them; what stays
    frozen does not change."""
    let_go = threading.Event()
    gone = threading.Event()

    def holder(held_objects):
        let_go.wait(30)
        held_objects.clear()
        gone.set()

    def in_the_collection(phase, _info):
        if phase == 'start' and not let_go.is_set():
            let_go.set()
            gone.wait(30)

    objects = [[index] for index in range(100)]
    thread = threading.Thread(target=holder, args=(objects,))
    thread.start()
    del objects
    before = Node()
    held = weakref.ref(before)
    gc.freeze()
    try:
        del before
        count = gc.get_freeze_count()
        node = Node()
        alive = weakref.ref(node)
        with without_cyclic_gc():
            gc.callbacks.append(in_the_collection)     # the collector is off here: the block's own collection is the next
            del node
        gc.callbacks.remove(in_the_collection)
        assert gone.is_set()
        assert gc.get_freeze_count() < count   # the thread freed frozen objects: the count measures nothing here
        assert alive() is None
        gc.collect()
        assert held() is not None
    finally:
        if in_the_collection in gc.callbacks:
            gc.callbacks.remove(in_the_collection)
        gc.unfreeze()
        let_go.set()
        thread.join(30)
    gc.collect()
    assert held() is None


class _Action(ControllerActionBase):
    """run() of the base with work() raising a refusal reworded while another exception is handled, as harden_plan
    rewords one for the role; the action's construction is left out (run() needs none of it)."""

    def __init__(self):  # pylint: disable=super-init-not-called
        pass

    def work(self, tmp=None, task_vars=None):
        try:
            raise AnsibleActionFail('report_dir is no text')
        except AnsibleActionFail as exc:
            raise AnsibleActionFail('harden_backup_vaults_report_dir is no text') from exc


def test_a_refusal_is_a_failed_result_with_its_message_and_no_traceback():
    result = _Action().run(None, {})
    assert result['failed'] is True and result['msg'] == 'harden_backup_vaults_report_dir is no text'
    assert 'exception' not in result and 'Traceback' not in repr(result)


def test_whatever_an_older_ansible_core_put_in_the_refusal_stays_but_its_traceback():
    # ansible-core 2.17 and 2.18: AnsibleActionFail's result holds traceback.format_exc() as 'exception'.
    class OlderFail:
        message = 'no'
        result = {'exception': 'Traceback (most recent call last): ...', 'failed': True, 'msg': 'no', 'kept': 1}

    assert refused(OlderFail()) == {'failed': True, 'msg': 'no', 'kept': 1}
