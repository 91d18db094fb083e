"""The history of a registry's branch: first-parent chains, commit times, and time travel.

Shared by ``armgit audit``, ``armgit verify`` and ``--at`` on ``ls``/``show``. Order is always the
commit topology (first parents from the root); times only pick a commit, they never order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pygit2

from armgit.core.content import parse_content
from armgit.core.layout import REGISTRY_FILE
from armgit.core.models import Registry
from armgit.core.moment import parse_moment
from armgit.errors import UsageError
from armgit.store.tree import open_repository, registry_prefix, resolve_commit


@dataclass(frozen=True, slots=True)
class Located:
    """A repository and the registry's directory inside it ("" for the root)."""

    repo: pygit2.Repository
    prefix: str


def locate_registry(path: str | Path | None) -> Located:
    """The repository containing ``path`` (default: here) and ``path``'s place in it."""
    root = Path(path if path is not None else ".").absolute()
    repo = open_repository(root)
    return Located(repo, registry_prefix(repo, root))


def default_rev(located: Located) -> str:
    """The first of ``protectedBranches`` (armgit.yaml at HEAD) that exists, else ``HEAD``."""
    repo = located.repo
    if repo.head_is_unborn:
        raise UsageError(f"{repo.path} has no commit yet")
    found = protected_branches(located)
    for branch in found[1] if found is not None else []:
        if f"refs/heads/{branch}" in repo.references:
            return f"refs/heads/{branch}"
    return "HEAD"


def protected_branches(located: Located) -> tuple[str, list[str]] | None:
    """The blob id of armgit.yaml at HEAD and its ``protectedBranches`` (empty when the file is
    not a valid registry file); ``None`` when there is no such file."""
    repo = located.repo
    try:
        blob = repo.head.peel(pygit2.Commit).tree[_join(located.prefix, REGISTRY_FILE)]
        model = parse_content(bytes(blob.read_raw())).model
    except (KeyError, pygit2.GitError):
        return None
    branches = list(model.protected_branches) if isinstance(model, Registry) else []
    return str(blob.id), branches


def head_commit(located: Located, rev: str | None) -> pygit2.Commit:
    """The commit at ``rev`` (default: :func:`default_rev`)."""
    return resolve_commit(located.repo, rev if rev is not None else default_rev(located))


def first_parent_chain(repo: pygit2.Repository, head: pygit2.Commit) -> list[pygit2.Commit]:
    """The first-parent history of ``head``, from the root commit to ``head``."""
    walker = repo.walk(head.id, pygit2.enums.SortMode.TOPOLOGICAL)
    walker.simplify_first_parent()
    chain = list(walker)
    chain.reverse()
    return chain


def commit_time(commit: pygit2.Commit) -> datetime:
    """When the commit was made (committer time), with its zone."""
    zone = timezone(timedelta(minutes=commit.commit_time_offset))
    return datetime.fromtimestamp(commit.commit_time, zone)


def commit_at(repo: pygit2.Repository, head: pygit2.Commit, when: datetime) -> pygit2.Commit:
    """The last commit of ``head``'s first-parent history made at or before ``when``."""
    commit: pygit2.Commit | None = head
    while commit is not None:
        if commit_time(commit) <= when:
            return commit
        commit = commit.parents[0] if commit.parents else None
    raise UsageError(f"no commit at or before {when.isoformat()} on this branch")


def rev_at(repo_path: str | None, rev: str | None, at: str | None) -> str | None:
    """The revision ``--at`` names: a time picks the last first-parent commit at or before it on
    ``rev`` (default: :func:`default_rev`); anything else is a revision itself."""
    if at is None:
        return rev
    when = parse_moment(at)
    if when is None:
        if rev is not None:
            raise UsageError("--at names a revision here: give it or --rev, not both")
        return at
    located = locate_registry(repo_path)
    return str(commit_at(located.repo, head_commit(located, rev), when).id)


def _join(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path
