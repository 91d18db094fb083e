"""The ref updates a pre-receive hook reads on stdin (``<old> <new> <ref>`` per line), and which
refs would change what git shows of a protected branch."""

from __future__ import annotations

from dataclasses import dataclass

ZERO_OID = "0" * 40

# Where git looks up a short name, in its order (gitrevisions(7)): a ref named like a protected
# branch in a place before ``refs/heads/`` is what ``git log main`` and ``--rev main`` read
# instead of the branch; one after it makes the name ambiguous.
SHORT_NAME_PLACES = (
    "refs/{}",
    "refs/tags/{}",
    "refs/heads/{}",
    "refs/remotes/{}",
    "refs/remotes/{}/HEAD",
)


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


def shadowing(ref: str, protected: tuple[str, ...]) -> str | None:
    """Why creating or moving ``ref`` would change what git shows of a protected branch
    (``None``: it would not). ``refs/replace/`` makes git substitute any object, a commit of
    the branch included, everywhere but in libgit2; a tag or any other ref whose short name is
    a protected branch's is what git (and ``--rev NAME``) resolves first."""
    if ref.startswith("refs/replace/"):
        return (
            f"{ref} would make git show other objects in place of the ones the branch holds "
            "(git replace); replacement refs are not accepted"
        )
    if ref.startswith("refs/heads/"):
        return None
    for branch in protected:
        places = [p.format(branch) for p in SHORT_NAME_PLACES if not p.startswith("refs/heads/")]
        if ref in places:
            return (
                f"{ref} is named like protected branch {branch}: git would read it for "
                f"{branch!r} instead of (or beside) refs/heads/{branch}; choose another name"
            )
    return None
