"""The import mark: trailers on every commit ``armgit import`` writes, and the rules it may
relax. Pure.

The mark says "ARM made this change; armgit did not judge it when it happened". Which marked
commits are honoured is decided by :mod:`armgit.enforce.imported` from the tree before the
import (docs/import.md): ``armgit check`` and ``armgit verify`` turn the findings of the rules
ARM never enforced into notices there; schema, references, hashes and permissions stay strict,
and the server hook only where ``imports`` in ``armgit.yaml`` at the base of the push names the
import (:func:`armgit.enforce.imported.granted_split`).
"""

from __future__ import annotations

IMPORT_TRAILER = "Armgit-Import"
EXPORT_TRAILER = "Armgit-Import-Export"
# N/TOTAL: the commit's place in its import (docs/import.md, "The import mark")
POSITION_TRAILER = "Armgit-Import-Commit"
# what ARM never enforced the way armgit does: signed approvals, recorded legal transitions
RELAXED_RULES = frozenset({"illegal-transition", "transition-guard", "approval-required"})


def mark_lines(source: str, digest: str, position: int, total: int) -> list[str]:
    """The trailers of the ``position``-th (from 1) of an import's ``total`` commits."""
    return [
        f"{IMPORT_TRAILER}: {source}",
        f"{EXPORT_TRAILER}: {digest}",
        f"{POSITION_TRAILER}: {position}/{total}",
    ]


def _trailers(message: str) -> dict[str, str]:
    trailers: dict[str, str] = {}
    for line in message.rstrip("\n").split("\n")[-3:]:
        key, sep, value = line.partition(": ")
        if sep:
            trailers[key] = value.strip()
    return trailers


def import_mark(message: str) -> tuple[str, str] | None:
    """(source, export digest) when ``message`` ends with the import trailers."""
    trailers = _trailers(message)
    source, digest = trailers.get(IMPORT_TRAILER), trailers.get(EXPORT_TRAILER)
    if source is None or digest is None or import_position(message) is None:
        return None
    return source, digest


def import_position(message: str) -> tuple[int, int] | None:
    """(N, TOTAL) of a marked message's place in its import, when well formed (1 <= N <= TOTAL)."""
    value = _trailers(message).get(POSITION_TRAILER, "")
    n, sep, total = value.partition("/")
    if not (sep and n.isdigit() and total.isdigit() and n.isascii() and total.isascii()):
        return None
    if not 1 <= int(n) <= int(total) or len(value) > 24:
        return None
    return int(n), int(total)


def follows(message: str, below: str | None) -> bool:
    """Whether a marked ``message`` can be the importer's, given the message of its first
    parent (``None``: it has none): the first of its import right above an unmarked commit, or
    the next of the same import (same source, digest and total) above the one before it."""
    mark, position = import_mark(message), import_position(message)
    if mark is None or position is None or below is None:
        return False
    n, total = position
    if n == 1:
        return import_mark(below) is None
    return import_mark(below) == mark and import_position(below) == (n - 1, total)
