"""``armgit review``: a range of commits as meaning, and where each gated change stands.

Reads like the hook: each commit against its parent through lazy views, so the work follows
the size of the change; gates and findings come from :func:`armgit.enforce.ranges.check_range`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pygit2

from armgit.core.findings import Finding
from armgit.core.meaning import Meaning, describe
from armgit.core.rules.access import Actor
from armgit.core.rules.approvals import GateStatus
from armgit.enforce.ranges import (
    changed_paths,
    check_range,
    classify,
    commits_between,
    registry_tree,
    view_of,
)
from armgit.registry.lazyview import LazyView
from armgit.store.cache import ContentCache
from armgit.store.tree import GitTree


@dataclass
class CommitReview:
    """What one commit did."""

    commit: str
    summary: str
    author: str
    time: str
    changes: list[Meaning] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # paths whose files could not be read


@dataclass
class Review:
    """A range as meaning: per commit, and the gates at its end."""

    base: str
    head: str
    commits: list[CommitReview]
    statuses: list[GateStatus]
    findings: list[Finding]


def review_range(
    repo: pygit2.Repository,
    base: str,
    head: str,
    *,
    prefix: str,
    actor: Actor | None,
    now: datetime,
    access: bool | None = None,
) -> Review:
    """Describe every commit of ``base..head`` and judge the gates at ``head``; ``actor``'s own
    approvals do not count, and their permissions are checked unless ``access`` is False
    (default: checked when there is an actor)."""
    cache = ContentCache(None)
    views: dict[str, LazyView] = {}
    commits = []
    for commit in commits_between(repo, base, head):
        parent = commit.parents[0] if commit.parents else None
        before = views.get(str(parent.id)) if parent is not None else None
        if before is None:
            before = view_of(registry_tree(repo, parent, prefix), cache)
        tree = registry_tree(repo, commit, prefix)
        after = view_of(tree, cache)
        views[str(commit.id)] = after
        entry = CommitReview(
            str(commit.id),
            commit.message.strip().splitlines()[0] if commit.message.strip() else "",
            f"{commit.author.name} <{commit.author.email}>",
            datetime.fromtimestamp(commit.commit_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        commits.append(entry)
        old_tree = before.tree if isinstance(before.tree, GitTree) else None
        changed, deleted = changed_paths(old_tree, tree)
        touched = classify(changed, deleted)
        for entity_id in sorted({*touched.ids, *touched.deleted}):
            old, new = before.entity(entity_id), after.entity(entity_id)
            if (old is None and before.is_broken(entity_id)) or (
                new is None and after.is_broken(entity_id)
            ):
                entry.invalid.append(entity_id.path)
                continue
            entry.changes += describe(
                entity_id,
                old.model if old is not None else None,
                new.model if new is not None else None,
                after,
            )
        entry.changes += [
            Meaning(
                "ARTIFACT_CHANGED",
                "/".join(path.split("/")[1:4:2]),
                path,
                "template artifact changed (prompt bundle, tool manifest, ...)",
            )
            for path in sorted(set(touched.artifacts))
        ]
    report = check_range(
        repo,
        base,
        head,
        actor=actor,
        now=now,
        prefix=prefix,
        cache=cache,
        access=actor is not None if access is None else access,
    )
    return Review(base, head, commits, report.statuses, report.findings)
