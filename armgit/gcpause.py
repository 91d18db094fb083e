"""Pausing Python's cyclic garbage collector while a large, acyclic structure is built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, and restore it as it was afterwards.

    Loading a registry or an index builds 10^5 to 10^6 long-lived objects with no cycle among
    them; each automatic collection would walk the growing heap again for nothing (it doubles
    the time of a load). Reference counting still frees what is dropped. Nesting is safe: only
    the outermost block turns the collector back on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
