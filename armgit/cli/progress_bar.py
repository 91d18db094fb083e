"""Progress drawn on stderr with rich, when stderr is a terminal and not ``--quiet``.

rich is imported only here, and only when progress is drawn: the hook and the runtime never
load it (an import-linter contract checks). No refresh thread: the bar is redrawn as the work
advances (at most ten times a second), so that forking workers meets no running thread.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from armgit.progress import listening

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

_EVERY = 0.1  # seconds between redraws


@contextmanager
def progress_shown(quiet: bool) -> Iterator[None]:
    """Draw the progress of the work done inside the block, unless ``quiet`` or stderr is not a
    terminal."""
    if quiet or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    ctx = click.get_current_context(silent=True)
    console = Console(stderr=True, no_color=ctx is not None and ctx.color is False)
    bar = Bar(console)
    try:
        with listening(bar):
            yield
    finally:
        bar.close()


class Bar:
    """A :class:`armgit.progress.Listener` that draws each task as a line: what, a bar, how
    far, the rate and the time spent."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress: Progress | None = None
        self._tasks: list[TaskID] = []
        self._drawn = 0.0

    def start(self, what: str, total: int | None) -> None:
        progress = self._progress or self._open()
        self._tasks.append(progress.add_task(what, total=total, rate=""))
        self._draw(force=True)

    def advance(self, count: int) -> None:
        if self._progress is not None and self._tasks:
            self._progress.advance(self._tasks[-1], count)
            self._draw()

    def finish(self) -> None:
        if self._progress is not None and self._tasks:
            self._progress.remove_task(self._tasks.pop())
            self._draw(force=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _open(self) -> Progress:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=self._console,
            auto_refresh=False,
            transient=True,
        )
        self._progress.start()
        return self._progress

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self._progress is None or (not force and now - self._drawn < _EVERY):
            return
        for task in self._progress.tasks:
            speed = task.speed
            self._progress.update(task.id, rate=f"{speed:,.0f}/s" if speed else "")
        self._progress.refresh()
        self._drawn = now
