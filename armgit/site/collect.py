"""What the site shows, read from a repository: the registry at one commit, its history and
its open proposals."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from armgit.api import open_cached
from armgit.audit.query import audit_history, cache_dir_for
from armgit.audit.records import ChangeRecord
from armgit.core.findings import Finding
from armgit.core.snapshot import Snapshot
from armgit.errors import ArmgitError
from armgit.registry.history import default_rev, head_commit, locate_registry
from armgit.registry.loader import load_registry
from armgit.site.proposals import Proposal, open_proposals
from armgit.site.records import parse_records
from armgit.store.tree import GitTree, RegistryTree, SourceInfo, resolve_commit


@dataclass(frozen=True, slots=True)
class SiteSource:
    """Everything the pages are made of."""

    snapshot: Snapshot
    findings: list[Finding]
    source: SourceInfo
    tree: RegistryTree
    records: list[ChangeRecord] = field(default_factory=list)
    record_lines: bytes = b""  # the records as `armgit audit --format json` writes them
    history: bool = False  # whether the registry has a git history (records were read)
    proposals: list[Proposal] = field(default_factory=list)
    branch: str = ""  # the protected branch the proposals are judged against


def build_time() -> datetime:
    """When approvals are judged: ``SOURCE_DATE_EPOCH`` if set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)


def collect(repo: str | Path | None, rev: str | None, *, proposals: bool = True) -> SiteSource:
    """Read the registry at ``repo``/``rev``, its first-parent change records up to that commit
    and (when ``rev`` is the protected branch or not given) the open proposals."""
    tree, cache = open_cached(repo, rev)
    loaded = load_registry(tree, cache)
    cache.save()
    site = SiteSource(loaded.snapshot, loaded.findings, tree.source, tree)
    if not isinstance(tree, GitTree) and rev is None:
        try:
            located = locate_registry(repo)
        except ArmgitError:
            return site  # a plain directory: no history
        if located.repo.head_is_unborn:
            return site
    located = locate_registry(repo)
    # the records' derivation parses the files each commit touched: hand it the content cache
    # the load just filled (a registry's first commit touches every file)
    run = audit_history(
        located.repo,
        head_commit(located, rev),
        located.prefix,
        cache_dir=cache_dir_for(located.repo),
        content=lambda _commits: cache,
    )
    cache.save()
    lines = b"".join(bytes(block.lines) for block in run.blocks if block.count)
    base_rev = default_rev(located)
    base = resolve_commit(located.repo, base_rev)
    found: list[Proposal] = []
    if proposals and (rev is None or resolve_commit(located.repo, rev).id == base.id):
        found = open_proposals(located.repo, base, located.prefix, build_time())
    branch = base_rev.removeprefix("refs/heads/")
    return SiteSource(
        loaded.snapshot,
        loaded.findings,
        tree.source,
        tree,
        parse_records(lines),
        lines,
        True,
        found,
        branch,
    )
