"""Progress of long work (reading a registry, replaying history, deriving records), told to
whoever listens: the command line draws it on a terminal; by default nobody listens and a
report costs a function call.

Standard library only, top-level so that every room may report: the hook and the runtime
import nothing more through it (the drawing, with rich, lives in :mod:`armgit.cli.progress_bar`).
Only the process that listens reports: forked workers report nothing; their parent advances as
their results come back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol


class Listener(Protocol):
    """What the command line implements to show progress."""

    def start(self, what: str, total: int | None) -> None: ...

    def advance(self, count: int) -> None: ...

    def finish(self) -> None: ...


_listener: Listener | None = None


def _ignore(count: int) -> None:
    del count


@contextmanager
def listening(listener: Listener | None) -> Iterator[None]:
    """Tell ``listener`` (None: nobody) about every task run inside the block."""
    global _listener  # noqa: PLW0603 - one process, one terminal: the CLI sets it around a command
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous


@contextmanager
def task(what: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A piece of long work, ``what`` (e.g. "reading registry files") of ``total`` units (None:
    unknown); the block calls the function it gets with the units done since the last call."""
    listener = _listener
    if listener is None:
        yield _ignore
        return
    listener.start(what, total)
    try:
        yield listener.advance
    finally:
        listener.finish()
