"""The few git porcelain calls authoring makes: who the user is, branches and commits.

The ``git`` command is used rather than pygit2 so that the user's configuration applies as it
would to their own commits: identity, signing, and the client hooks (``armgit hooks install
--client``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from armgit.errors import StoreError

_IDENT = re.compile(r"^(?P<name>.*) <(?P<email>[^>]*)> \d+ [-+]\d{4}$")


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise StoreError(f"cannot run git: {exc}") from exc


def user_email(cwd: Path) -> str | None:
    """The email git would author a commit with (config or ``GIT_AUTHOR_EMAIL``), if set."""
    result = _git(cwd, "-c", "user.useConfigOnly=true", "var", "GIT_AUTHOR_IDENT")
    match = _IDENT.match(result.stdout.strip()) if result.returncode == 0 else None
    return match.group("email") if match and match.group("email") else None


def branch_exists(cwd: Path, branch: str) -> bool:
    return _git(cwd, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").returncode == 0


def check_branch_name(cwd: Path, branch: str) -> bool:
    return _git(cwd, "check-ref-format", "--branch", branch).returncode == 0


def commit_paths(cwd: Path, paths: Sequence[str], message: str, branch: str | None) -> str:
    """Commit ``paths`` (relative to ``cwd``, and only them) with ``message``, first switching
    to the new ``branch`` when given; returns the new commit id."""
    steps: list[tuple[str, ...]] = []
    if branch is not None:
        steps.append(("switch", "-q", "-c", branch))
    steps.append(("add", "--", *paths))
    steps.append(("commit", "-q", "-m", message, "--only", "--", *paths))
    for args in steps:
        result = _git(cwd, *args)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            raise StoreError(
                f"the files are written but `git {args[0]}` failed: {detail}; commit them "
                "yourself once that is fixed"
            )
    return _git(cwd, "rev-parse", "HEAD").stdout.strip()


# -- history as a stream: what ``armgit audit`` reads (git's C tree diff skips equal subtrees) ---


@dataclass(frozen=True, slots=True)
class LoggedCommit:
    """A commit of a first-parent history: id, first parent ("" for a root), committer time
    (seconds since the epoch) and author email."""

    id: str
    parent: str
    time: int
    email: str


@dataclass(frozen=True, slots=True)
class RawChange:
    """One file a commit changed against its first parent: path, new mode and blob id (both
    empty when the file was deleted)."""

    path: str
    mode: int
    oid: str


def first_parent_log(git_dir: Path, head: str) -> Iterator[LoggedCommit]:
    """``head``'s first-parent history, newest first, streamed (stop early by closing)."""
    args = ["git", "--git-dir", str(git_dir), "log", "--first-parent", "--no-show-signature"]
    args += ["--format=%H%x00%P%x00%ct%x00%ae", head, "--"]
    try:
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError as exc:
        raise StoreError(f"cannot run git: {exc}") from exc
    assert process.stdout is not None
    finished = False
    try:
        for line in process.stdout:
            commit, parents, when, email = line.rstrip(b"\n").split(b"\0")
            parent = parents.split(b" ", 1)[0]
            yield LoggedCommit(commit.decode(), parent.decode(), int(when), email.decode())
        finished = True
    finally:
        if not finished:
            process.kill()
        process.stdout.close()
        if process.wait() != 0 and finished:
            raise StoreError(f"`git log` of {head} failed in {git_dir}")


def first_parent_diffs(
    git_dir: Path, commits: Sequence[LoggedCommit], prefix: str, workers: int = 1
) -> dict[str, list[RawChange]]:
    """``commit id -> files changed against its first parent`` (paths relative to ``prefix``,
    without renames; commits that changed nothing are left out), split over ``workers`` git
    processes."""
    if not commits:
        return {}
    size = -(-len(commits) // max(workers, 1))
    parts = [commits[i : i + size] for i in range(0, len(commits), size)]
    if len(parts) == 1:
        return _diff_tree(git_dir, parts[0], prefix)
    result: dict[str, list[RawChange]] = {}
    with ThreadPoolExecutor(len(parts)) as pool:
        for found in pool.map(lambda part: _diff_tree(git_dir, part, prefix), parts):
            result.update(found)
    return result


def _diff_tree(
    git_dir: Path, commits: Sequence[LoggedCommit], prefix: str
) -> dict[str, list[RawChange]]:
    args = ["git", "--git-dir", str(git_dir), "diff-tree", "--stdin", "-r", "--raw", "-z"]
    args += ["--no-renames", "--no-abbrev", "--root", "--no-ext-diff", "--no-textconv"]
    if prefix:
        args += ["--", f"{prefix}/"]
    lines = "".join(f"{c.id} {c.parent}\n" if c.parent else f"{c.id}\n" for c in commits)
    try:
        done = subprocess.run(args, input=lines.encode(), capture_output=True, check=False)
    except OSError as exc:
        raise StoreError(f"cannot run git: {exc}") from exc
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip()
        raise StoreError(f"`git diff-tree` failed in {git_dir}: {detail}")
    return _parse_raw(done.stdout, f"{prefix}/" if prefix else "")


def _parse_raw(output: bytes, prefix: str) -> dict[str, list[RawChange]]:
    result: dict[str, list[RawChange]] = {}
    changes: list[RawChange] = []
    fields = output.split(b"\0")
    i, end = 0, len(fields)
    cut = len(prefix)
    while i < end:
        field = fields[i]
        if field.startswith(b":"):
            meta = field.split(b" ")
            path = fields[i + 1].decode("utf-8", "surrogateescape")
            i += 2
            if cut and not path.startswith(prefix):
                continue
            if meta[4] == b"D":
                changes.append(RawChange(path[cut:], 0, ""))
            else:
                changes.append(RawChange(path[cut:], int(meta[1], 8), meta[3].decode()))
        else:
            if field:
                changes = result.setdefault(field.decode(), [])
            i += 1
    return result
