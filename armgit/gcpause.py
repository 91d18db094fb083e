"""Pausing Python's cyclic garbage collector while a large, acyclic structure is built.

Used where a registry or an index is loaded (:mod:`armgit.registry.loader`, the runtime's
payload reader and verifier); top-level because those two may not import each other. What it
pays (benchmarks/RESULTS.md, "What limits the missed goals", index load): an automatic
collection doubles a load's time, and moving the new objects to the oldest generation took
another 81 - 87 ms off loading the 46 MB index (row "runtime: load + verify an index of 11,106
versions", 497 ms, then 418 - 461 ms after ddcc16b).
"""

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

    On the way out, what the block built is moved to the oldest generation without a walk
    (``gc.freeze()`` then ``gc.unfreeze()``, two list splices). Otherwise the first young
    collection after the block would walk every new object (~85 ms for a 46 MB index), and the
    middle generation's collection would walk them again a few thousand allocations later: a
    pause in whatever the process does next, such as a runtime's ``evaluate``. The cost is that
    cyclic garbage made by the rest of the process just before waits for the next full
    collection. Skipped when the process has frozen objects of its own (a pre-forking server),
    since unfreezing would hand them back to the collector.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
