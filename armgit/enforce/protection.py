"""Which branches a push must be judged on, decided from the server as it was before the push.

SPEC 4a: everything that judges comes from the base. Which branches are protected is itself a
setting, so it cannot come from the branch being pushed (a branch would protect itself with its
own ``armgit.yaml`` and have the post-receive hook publish an index from history nobody
judged). It comes from one place: ``armgit.yaml`` at the tip, before the push, of the
*settings branch* -- the server's ``git config armgit.settingsBranch``, else the branch the bare
repository's ``HEAD`` names when it exists, else ``main``. The settings branch is always
protected. The pre-receive hook and the post-receive hook both ask :func:`protected_at_base`
with the same ref updates, so the index is published for exactly the pushes that were judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pygit2

from armgit.core.layout import REGISTRY_ID
from armgit.core.models import Registry
from armgit.core.refupdates import ZERO_OID, RefUpdate
from armgit.enforce.ranges import registry_tree, view_of
from armgit.store.cache import ContentCache

DEFAULT_SETTINGS_BRANCH = "main"


@dataclass(frozen=True, slots=True)
class Protection:
    """The protected branches before a push, and where that was read."""

    branches: tuple[str, ...]
    settings_branch: str
    settings_tip: str | None  # the settings branch's tip before the push (None: none yet)
    genesis: bool  # no protected branch existed before the push

    def covers(self, branch: str) -> bool:
        return branch in self.branches


def settings_branch(
    repo: pygit2.Repository, created: Iterable[str] = (), *, before: bool = False
) -> str:
    """The branch whose ``armgit.yaml`` says which branches are protected (``created``: refs
    this push creates, so that ``HEAD``'s branch counts from the push that makes it; with
    ``before``, they count as absent: the settings branch as it was before the push, also when
    asked after git moved the refs)."""
    config = repo.config
    if "armgit.settingsBranch" in config:
        return str(config["armgit.settingsBranch"])
    try:
        head = repo.references.get("HEAD")
        target = head.target if head is not None else None
    except pygit2.GitError:
        target = None
    if isinstance(target, str) and target.startswith("refs/heads/"):
        name = target[len("refs/heads/") :]
        exists = repo.references.get(target) is not None
        if (exists and not (before and target in created)) or (not before and target in created):
            return name
    return DEFAULT_SETTINGS_BRANCH


def tip_before(repo: pygit2.Repository, updates: Iterable[RefUpdate], branch: str) -> str | None:
    """``branch``'s tip before the push: the pushed ref's old value (post-receive runs after git
    moved it), else the ref as it is (``None``: the branch did not exist)."""
    ref = f"refs/heads/{branch}"
    for update in updates:
        if update.ref == ref:
            return None if update.old == ZERO_OID else update.old
    found = repo.references.get(ref)
    if found is None:
        return None
    try:
        return str(found.resolve().target)
    except (pygit2.GitError, KeyError):
        return None


def _existed(
    repo: pygit2.Repository, updates: Iterable[RefUpdate], branches: Iterable[str]
) -> bool:
    """Whether any of ``branches`` existed before the push."""
    created = {u.ref for u in updates if u.created}
    for branch in branches:
        ref = f"refs/heads/{branch}"
        if ref not in created and repo.references.get(ref) is not None:
            return True
    return False


def protected_at_base(
    repo: pygit2.Repository, updates: list[RefUpdate], cache: ContentCache | None = None
) -> Protection:
    """The protected branches as the server had them before ``updates``.

    With no protected branch before the push (the settings branch and the model's default,
    ``main``, both absent: an empty repository, or one holding only proposals), the push that
    creates the settings branch is the registry's genesis, and its own ``armgit.yaml`` says.
    When ``main`` exists but the settings branch does not, the model's default holds.
    """
    # the settings are read where they were before the push; a push that creates the branch
    # HEAD names makes it the settings branch, protected (judged) from this push on, but its
    # own armgit.yaml says nothing about the push that brings it
    created = [u.ref for u in updates if u.created]
    before = settings_branch(repo, created, before=True)
    name = settings_branch(repo, created)
    tip = tip_before(repo, updates, before)
    genesis = tip is None and not _existed(repo, updates, (before, name, DEFAULT_SETTINGS_BRANCH))
    source = tip
    if source is None and genesis:
        source = next(
            (u.new for u in updates if u.ref == f"refs/heads/{name}" and not u.deleted), None
        )
    registry = registry_at(repo, source, cache) if source is not None else None
    listed = registry.protected_branches if registry is not None else ("main",)
    branches = tuple(dict.fromkeys([name, before, *listed]))
    return Protection(branches, name, tip, genesis)


def registry_at(
    repo: pygit2.Repository, oid: str, cache: ContentCache | None = None
) -> Registry | None:
    """``armgit.yaml`` at commit ``oid`` (``None``: absent, invalid, or not a commit)."""
    commit = repo.get(oid)
    if not isinstance(commit, pygit2.Commit):
        return None
    return view_of(registry_tree(repo, commit, ""), cache).get(REGISTRY_ID, Registry)
