"""Who authored a change, from git: for four eyes at the time it matters (``approve``, ``review``).

Commit authors are not authenticated (anyone can set ``user.email``): what is found here feeds
warnings and the reviewer's view, never permissions; the hook and CI judge four eyes by the
pusher or the pull request's author. I/O: reads commits, trees, the work tree and git config.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pygit2

from armgit.core.models import Operator
from armgit.core.rules.access import Actor, actor_from_email, is_actor
from armgit.enforce.ranges import commits_between


@dataclass(frozen=True, slots=True)
class Author:
    """A commit's author, or (``commit`` None) the identity git would give a commit now."""

    name: str
    email: str
    commit: str | None

    def __str__(self) -> str:
        where = f"commit {self.commit[:12]}" if self.commit else "uncommitted, user.email"
        return f"{self.name} <{self.email}> ({where})"


def range_authors(
    repo: pygit2.Repository,
    base: str,
    head: str,
    *,
    paths: Iterable[str] | None = None,
    prefix: str = "",
) -> list[Author]:
    """The authors of ``base..head``'s commits, first commit first, each person once; with
    ``paths`` (registry-relative), only of the commits that changed one of them."""
    lead = f"{prefix}/" if prefix else ""
    wanted = {lead + p for p in paths} if paths is not None else None
    found: dict[str, Author] = {}
    for commit in commits_between(repo, base, head):
        if wanted is not None and not _touches(repo, commit, wanted):
            continue
        email = commit.author.email.lower()
        found.setdefault(email, Author(commit.author.name, commit.author.email, str(commit.id)))
    return list(found.values())


def uncommitted_author(
    repo: pygit2.Repository, root: Path, paths: Iterable[str], prefix: str = ""
) -> Author | None:
    """The identity git would give a commit now (``GIT_AUTHOR_EMAIL``, else ``user.email``)
    when one of ``paths`` differs in the work tree at ``root`` from HEAD: its author-to-be."""
    lead = f"{prefix}/" if prefix else ""
    tree = repo.head.peel(pygit2.Commit).tree
    if not any(_read(root / p) != _blob(repo, tree, lead + p) for p in paths):
        return None
    env_email = os.environ.get("GIT_AUTHOR_EMAIL")  # what git commit would use first
    if env_email:
        return Author(os.environ.get("GIT_AUTHOR_NAME", env_email), env_email, None)
    try:
        signature = repo.default_signature
    except (KeyError, pygit2.GitError):  # no identity configured: git commit would refuse
        return None
    return Author(signature.name, signature.email, None)


def as_actor(authors: Iterable[Author]) -> Actor | None:
    """One actor standing for all of ``authors`` (by email: operators' email or ``email:``
    identity), for judging whose approvals do not count."""
    names: list[str] = []
    for author in authors:
        names += actor_from_email(author.email, "commit author").names
    return Actor(tuple(dict.fromkeys(names)), "commit authors", exact=False) if names else None


def authored_by(operator: Operator, authors: Iterable[Author]) -> list[Author]:
    """Those of ``authors`` that ``operator`` is."""
    return [a for a in authors if is_actor(operator, actor_from_email(a.email, "commit author"))]


def _touches(repo: pygit2.Repository, commit: pygit2.Commit, paths: set[str]) -> bool:
    parent_tree = commit.parents[0].tree if commit.parents else None
    return any(
        _blob(repo, commit.tree, p) != (_blob(repo, parent_tree, p) if parent_tree else None)
        for p in paths
    )


def _blob(repo: pygit2.Repository, tree: pygit2.Tree, path: str) -> bytes | None:
    try:
        entry = tree[path]
    except KeyError:
        return None
    obj = repo.get(entry.id)
    return obj.data if isinstance(obj, pygit2.Blob) else None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
