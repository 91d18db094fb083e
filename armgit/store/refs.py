"""Which object a revision names, read straight from the git directory's files.

A compile whose every fragment is cached needs nothing from git but the id the revision points
to (see :mod:`armgit.store.compiled`): loading libgit2 and opening a pack for that would cost
more than the compile. So the common cases (``HEAD``, a branch or tag name, ``refs/...``, a full
object id; loose or packed refs; a repository found by walking up from a path, as libgit2 does)
are read here, and anything else (worktrees, reftable, revision expressions, another owner's
repository) answers ``None``: the caller goes the ordinary way through pygit2.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from armgit.core.refupdates import SHORT_NAME_PLACES

_OID = re.compile(r"[0-9a-f]{40}\Z")
_NAME = re.compile(r"[A-Za-z0-9._/-]+\Z")


@dataclass(frozen=True, slots=True)
class QuickRef:
    """``root`` (the absolute path asked for) names ``oid`` in the repository at ``git_dir``."""

    root: str
    git_dir: Path
    oid: str


def resolve_quick(path: str | Path | None, rev: str | None) -> QuickRef | None:
    """What ``rev`` names for the registry at ``path``, or ``None`` if that takes git itself."""
    try:
        root = Path(path if path is not None else os.getcwd()).absolute()
        found = _discover(root)
        if found is None:
            return None
        git_dir, bare = found
        if rev is None:
            if not bare or git_dir != root:
                return None  # a work tree is read from disk, not from git
            rev = "HEAD"
        oid = _resolve(git_dir, rev)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return QuickRef(str(root), git_dir, oid) if oid is not None else None


def _discover(root: Path) -> tuple[Path, bool] | None:
    if not root.is_dir():
        return None
    device = root.stat().st_dev
    for directory in (root, *root.parents):
        info = directory.stat()
        if info.st_dev != device:
            return None  # libgit2 does not cross file systems either
        dot_git = directory / ".git"
        if dot_git.is_dir():
            return _usable(dot_git, bare=False)
        if dot_git.exists():
            return None  # a worktree or submodule: a .git file
        if _is_bare(directory):
            return _usable(directory, bare=True)
    return None


def _is_bare(directory: Path) -> bool:
    return (
        (directory / "HEAD").is_file()
        and (directory / "objects").is_dir()
        and (directory / "refs").is_dir()
    )


def _usable(git_dir: Path, *, bare: bool) -> tuple[Path, bool] | None:
    if git_dir.stat().st_uid != os.geteuid():
        return None  # libgit2 checks the owner (safe.directory)
    if (git_dir / "commondir").exists() or (git_dir / "reftable").exists():
        return None
    return git_dir, bare


def _resolve(git_dir: Path, rev: str) -> str | None:
    if _OID.match(rev):
        return rev
    if not _NAME.match(rev) or ".." in rev or rev.endswith((".", "/", ".lock")):
        return None
    if rev == "HEAD" or rev.startswith("refs/"):
        return _read_ref(git_dir, rev, depth=0)
    if (git_dir / rev).exists():
        return None  # FETCH_HEAD and friends: git's first rule, not followed here
    packed = _packed(git_dir)
    found = [
        name
        for name in (pattern.format(rev) for pattern in SHORT_NAME_PLACES)
        if (git_dir / name).is_file() or name in packed
    ]
    if len(found) != 1:
        return None  # none, or an ambiguous name: pygit2's way says which
    return _read_ref(git_dir, found[0], depth=0, packed=packed)


def _read_ref(
    git_dir: Path, name: str, *, depth: int, packed: dict[str, str] | None = None
) -> str | None:
    if depth > 5:
        return None
    try:
        text = (git_dir / name).read_text("ascii").strip()
    except FileNotFoundError:
        text = None
    except IsADirectoryError:
        return None
    if text is None:
        packed = packed if packed is not None else _packed(git_dir)
        return packed.get(name)
    if text.startswith("ref: "):
        target = text[5:].strip()
        if not target.startswith("refs/") or not _NAME.match(target):
            return None
        return _read_ref(git_dir, target, depth=depth + 1, packed=packed)
    return text if _OID.match(text) else None


def _packed(git_dir: Path) -> dict[str, str]:
    try:
        lines = (git_dir / "packed-refs").read_text("utf-8").splitlines()
    except FileNotFoundError:
        return {}
    refs: dict[str, str] = {}
    for line in lines:
        if not line or line[0] in "#^":
            continue
        oid, _, name = line.partition(" ")
        if _OID.match(oid):
            refs[name] = oid
    return refs
