"""The ref updates a pre-receive hook reads on stdin: ``<old> <new> <ref>`` per line."""

from __future__ import annotations

from dataclasses import dataclass

ZERO_OID = "0" * 40


@dataclass(frozen=True, slots=True)
class RefUpdate:
    old: str
    new: str
    ref: str

    @property
    def created(self) -> bool:
        return self.old == ZERO_OID

    @property
    def deleted(self) -> bool:
        return self.new == ZERO_OID

    @property
    def branch(self) -> str | None:
        return self.ref[len("refs/heads/") :] if self.ref.startswith("refs/heads/") else None


def parse_ref_updates(data: bytes) -> list[RefUpdate]:
    """Parse the hook's stdin; raises ``ValueError`` on a malformed line."""
    updates = []
    for number, raw in enumerate(data.decode("utf-8", errors="strict").splitlines(), 1):
        if not raw.strip():
            continue
        parts = raw.split()
        if len(parts) != 3 or not all(len(p) in (40, 64) for p in parts[:2]):
            raise ValueError(f"line {number} of the ref updates is not '<old> <new> <ref>'")
        updates.append(RefUpdate(*parts))
    return updates
