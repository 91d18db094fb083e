"""What a compile of a work tree can say it was made from (SPEC 7a, provenance).

An index names ``source.commit`` and ``source.tree``, so anyone can rebuild it and check. A
compile without ``--rev`` of a git work tree with nothing uncommitted under the registry is a
compile of ``HEAD``: the same bytes, and a commit to name. With uncommitted or untracked files
(ignored ones aside), or outside git, there is no commit that holds what would be compiled:
the compile is refused unless the caller says ``allow_dirty``, and the payload then says
``source.dirty: true`` (with ``HEAD``'s commit, if any, and no tree).

Reads git through the ``git`` command (``status`` with the index's stat cache is what a large
work tree needs), so the compile's fast path stays free of libgit2.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from armgit.errors import UsageError

_SHOWN = 5


@dataclass(frozen=True, slots=True)
class WorkTreeState:
    """``head``: the commit checked out (``""`` when none yet); ``changes``: paths under the
    registry that differ from it (modified, staged, deleted or untracked)."""

    head: str
    changes: tuple[str, ...]


def _git(path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(path), *args], capture_output=True, check=False, timeout=300
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot run git in {path}: {exc}") from exc


def read_work_tree_state(path: Path) -> WorkTreeState | None:
    """The state of the git work tree holding ``path``; ``None`` when ``path`` is not in one
    (a plain directory, or a bare repository, which is read at ``HEAD`` anyway)."""
    inside = _git(path, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != b"true":
        return None
    head = _git(path, "rev-parse", "--verify", "-q", "HEAD^{commit}")
    status = _git(path, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", ".")
    if status.returncode != 0:
        raise UsageError(f"git status failed in {path}: {status.stderr.decode(errors='replace')}")
    entries = [e for e in status.stdout.split(b"\0") if e]
    changes: list[str] = []
    skip = False
    for entry in entries:
        if skip:  # the source path of a rename or copy
            skip = False
            continue
        code, name = entry[:2], entry[3:]
        skip = code[:1] in (b"R", b"C")
        changes.append(name.decode(errors="replace"))
    commit = head.stdout.strip().decode() if head.returncode == 0 else ""
    return WorkTreeState(commit, tuple(changes))


def work_tree_revision(path: Path, allow_dirty: bool) -> tuple[str | None, str | None]:
    """For a compile of ``path`` without ``--rev``: ``("HEAD", None)`` when the work tree is
    clean (compile the commit), or ``(None, head)`` when it may be compiled as it is, dirty
    (``head`` is the commit it was based on, ``""`` when none). :class:`UsageError` when it
    is dirty, or not in git, and ``allow_dirty`` is not given."""
    state = read_work_tree_state(path)
    if state is not None and state.head and not state.changes:
        return "HEAD", None
    if allow_dirty:
        return None, state.head if state is not None else ""
    if state is None:
        raise UsageError(
            f"{path} is not in a git work tree: no commit names what the index would hold; "
            "compile a repository (--rev), or give --allow-dirty (the index then says "
            "source.dirty: true)"
        )
    if not state.head:
        raise UsageError(f"{path} has no commit yet: commit the registry, or give --allow-dirty")
    shown = ", ".join(state.changes[:_SHOWN]) + (", ..." if len(state.changes) > _SHOWN else "")
    raise UsageError(
        f"the work tree has {len(state.changes)} uncommitted change(s) under the registry "
        f"({shown}): commit them, compile a commit with --rev, or give --allow-dirty (the index "
        "then says source.dirty: true)"
    )
