"""collector_paused: the collector off inside, back on after, the new objects in the oldest
generation without a walk, and nothing of the process's own frozen objects unfrozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from armgit.gcpause import collector_paused


class Node:
    """A GC-tracked object the tests can find among the collector's generations."""


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation=generation))


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()


def test_new_objects_move_to_the_oldest_generation_without_a_walk() -> None:
    started: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.enable()
    gc.callbacks.append(record)
    try:
        with collector_paused():
            assert not gc.isenabled()
            built = [Node() for _ in range(5000)]
        after = [Node() for _ in range(10)]  # would set off a collection that was due
    finally:
        gc.callbacks.remove(record)
    assert gc.isenabled()
    assert started == []  # no collection walked what the block built
    assert _in_generation(built[0], 2)
    assert _in_generation(after[0], 0)


def test_only_the_outermost_block_turns_the_collector_back_on() -> None:
    gc.enable()
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off_and_nothing_moves() -> None:
    gc.disable()
    with collector_paused():
        built = Node()
    assert not gc.isenabled()
    assert _in_generation(built, 0)


def test_the_process_own_frozen_objects_stay_frozen() -> None:
    gc.enable()
    kept = Node()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused():
            Node()
        assert gc.get_freeze_count() == frozen
        assert not _in_generation(kept, 2)
    finally:
        gc.unfreeze()
