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
# what ARM never enforced the way armgit does: signed approvals, recorded legal transitions
RELAXED_RULES = frozenset({"illegal-transition", "transition-guard", "approval-required"})


def mark_lines(source: str, digest: str) -> list[str]:
    """The trailers of an import commit."""
    return [f"{IMPORT_TRAILER}: {source}", f"{EXPORT_TRAILER}: {digest}"]


def import_mark(message: str) -> tuple[str, str] | None:
    """(source, export digest) when ``message`` ends with the import trailers."""
    trailers: dict[str, str] = {}
    for line in message.rstrip("\n").split("\n")[-2:]:
        key, sep, value = line.partition(": ")
        if sep:
            trailers[key] = value.strip()
    source, digest = trailers.get(IMPORT_TRAILER), trailers.get(EXPORT_TRAILER)
    if source is None or digest is None:
        return None
    return source, digest
