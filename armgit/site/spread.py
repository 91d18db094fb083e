"""Rendering many pages at once: the per-entity pages spread over forked worker processes.

A fleet's site is thousands of small pages, each rendered on its own from the facts gathered
once, so with enough of them the work is dealt round-robin into shares, which forked workers
take one after the other. A worker inherits the facts, the templates and the writer with the
process (nothing is pickled but a share's number), writes its pages itself and gives back which
files it wrote. With few pages, or no ``fork``,
they are rendered here. Each page's bytes are the same either way.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from armgit.store.parallel import fork_pool, fork_workers

SPREAD_MIN_TASKS = 400  # fewer: not worth starting workers
SHARES_PER_WORKER = 8


class Writer(Protocol):
    written: set[Path]
    pages: int


Task = Callable[[], None]

# the tasks of the spread under way: the forked workers inherit them with the process
_running: list[tuple[Sequence[Task], Writer, int]] = []


def spread(tasks: Sequence[Task], writer: Writer) -> None:
    """Run ``tasks`` (each writes through ``writer``), in forked workers if there are many;
    ``writer.written`` and ``writer.pages`` then count what the workers wrote."""
    workers = fork_workers(len(tasks), SPREAD_MIN_TASKS)
    if workers < 2:
        for task in tasks:
            task()
        return
    # more shares than workers: a worker that finishes early (or is not preempted) takes the
    # next share, so one slow worker does not hold the build up
    shares = min(len(tasks), workers * SHARES_PER_WORKER)
    _running.append((tasks, writer, shares))
    try:
        with fork_pool(workers, initializer=gc.disable) as pool:
            for written, pages in pool.map(_run_share, range(shares)):
                writer.written.update(written)
                writer.pages += pages
    finally:
        _running.pop()


def _run_share(share: int) -> tuple[list[Path], int]:
    tasks, writer, shares = _running[-1]
    writer.written = set()
    writer.pages = 0
    for task in tasks[share::shares]:
        task()
    return sorted(writer.written), writer.pages
