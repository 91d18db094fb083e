"""``armgit verify``: replay every rule over a branch's whole first-parent history.

Each commit is checked against its first parent exactly as the server hook checks a push of it
(:func:`armgit.enforce.check_range`): the state rules for what it touched (at the root commit,
everything), the change rules, and its gates judged by the approvals present at that commit,
valid at the commit's time. Permissions are not replayed: git does not record who pushed a
commit (the author is not the pusher), so ``access=False``. Every version file ever written is
parsed afresh (no cache is trusted), which recomputes its genome hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pygit2

from armgit.core.findings import Finding
from armgit.core.layout import EntityId, identify
from armgit.enforce import changed_paths, check_range, registry_tree
from armgit.history import commit_time, first_parent_chain, head_commit, locate_registry
from armgit.store.cache import ContentCache

INTEGRITY_VERIFIED = "INTEGRITY_VERIFIED"
INTEGRITY_FAILED = "INTEGRITY_FAILED"


@dataclass(frozen=True, slots=True)
class CommitFinding:
    """A finding and the first-parent commit that brought it in."""

    commit: str
    finding: Finding

    def to_json(self) -> dict[str, str | int | None]:
        return {"commit": self.commit, **self.finding.to_json()}


@dataclass
class VerifyReport:
    """What ``verify`` found: each offending commit with its file and rule."""

    head: str
    commits: int = 0
    genomes: int = 0  # distinct version files (blobs) whose genome hash was recomputed
    findings: list[CommitFinding] = field(default_factory=list)

    @property
    def status(self) -> str:
        return INTEGRITY_FAILED if self.findings else INTEGRITY_VERIFIED


def verify_repository(repo: str | Path | None = None, rev: str | None = None) -> VerifyReport:
    """:func:`verify_history` of the registry at ``repo`` on branch ``rev`` (default: the first
    protected branch that exists, else HEAD)."""
    located = locate_registry(repo)
    return verify_history(located.repo, head_commit(located, rev), located.prefix)


def verify_history(repo: pygit2.Repository, head: pygit2.Commit, prefix: str = "") -> VerifyReport:
    """Replay the rules for every commit of ``head``'s first-parent history, from the root."""
    report = VerifyReport(str(head.id))
    content = ContentCache(None)  # proving integrity: recompute, trust no cache on disk
    versions: set[str] = set()
    for commit in first_parent_chain(repo, head):
        report.commits += 1
        parent = commit.parents[0] if commit.parents else None
        checked = check_range(
            repo,
            str(parent.id) if parent is not None else None,
            str(commit.id),
            actor=None,
            now=commit_time(commit),
            prefix=prefix,
            cache=content,
            access=False,
        )
        report.findings += [CommitFinding(str(commit.id), f) for f in checked.findings]
        after = registry_tree(repo, commit, prefix)
        changed, _ = changed_paths(registry_tree(repo, parent, prefix), after)
        for path in changed:
            ident = identify(path)
            if isinstance(ident, EntityId) and ident.kind == "Version" and after is not None:
                entry = after.entry(path)
                if entry is not None:
                    versions.add(entry.oid)
    report.genomes = len(versions)
    return report
