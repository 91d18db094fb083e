"""Rendering many pages at once: the per-entity pages spread over forked worker processes.

A fleet's site is thousands of small pages, each rendered on its own from the facts gathered
once, so with enough of them the work is cut into shares of consecutive tasks, which forked
workers take one after the other. Consecutive, not dealt round-robin: neighbouring templates'
objects were made together and share memory pages, and a worker copies every page it touches
(reference counts are written on read), so a run of neighbours costs a fifth fewer page faults.
A worker inherits the facts, the templates and the writer with the process (nothing is pickled
but a share's number), writes its pages itself and gives back which files it wrote. With few
pages, or no ``fork``, they are rendered here. Each page's bytes are the same either way.
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
_running: list[tuple[Sequence[Task], Writer, list[tuple[int, int]]]] = []


def spread(tasks: Sequence[Task], writer: Writer, *, alone: int = 0) -> None:
    """Run ``tasks`` (each writes through ``writer``), in forked workers if there are many;
    ``writer.written`` and ``writer.pages`` then count what the workers wrote. The first
    ``alone`` tasks (the few big files) are shares of their own, so that they start at once on
    different workers."""
    workers = fork_workers(len(tasks), SPREAD_MIN_TASKS)
    if workers < 2:
        for task in tasks:
            task()
        return
    # more shares than workers: a worker that finishes early (or is not preempted) takes the
    # next share, so one slow worker does not hold the build up
    bounds = share_bounds(len(tasks), alone, workers * SHARES_PER_WORKER)
    _running.append((tasks, writer, bounds))
    try:
        with fork_pool(workers, initializer=gc.disable) as pool:
            for written, pages in pool.map(_run_share, range(len(bounds))):
                writer.written.update(written)
                writer.pages += pages
    finally:
        _running.pop()


def share_bounds(count: int, alone: int, runs: int) -> list[tuple[int, int]]:
    """The shares of ``count`` tasks as ``(start, end)``: each of the first ``alone`` on its own,
    the rest cut into at most ``runs`` runs of consecutive tasks."""
    alone = min(alone, count)
    bounds = [(i, i + 1) for i in range(alone)]
    rest = count - alone
    if rest:
        size = -(-rest // max(1, min(rest, runs)))
        bounds += [(start, min(start + size, count)) for start in range(alone, count, size)]
    return bounds


def _run_share(share: int) -> tuple[list[Path], int]:
    tasks, writer, bounds = _running[-1]
    writer.written = set()
    writer.pages = 0
    start, end = bounds[share]
    for task in tasks[start:end]:
        task()
    return sorted(writer.written), writer.pages
