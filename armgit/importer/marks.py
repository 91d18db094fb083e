"""The import mark: trailers on every commit an import writes, and what they may relax. Pure.

The mark says "ARM made this change, armgit did not judge it when it happened". It is honoured
only where the base says so (docs/import.md): by ``armgit check`` and ``armgit verify`` for a
commit of the range being judged that carries the mark and adds only new files in tenants the
base does not have; never by the server hook. Where honoured, the findings of rules ARM never
enforced become notices; schema, references and hashes stay strict.
"""

from __future__ import annotations

IMPORT_TRAILER = "Armgit-Import"
EXPORT_TRAILER = "Armgit-Import-Export"
# what ARM never enforced the way armgit does: unsigned approvals, unrecorded transitions
RELAXED_RULES = frozenset(
    {"illegal-transition", "transition-guard", "approval-required", "permission-denied"}
)


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
