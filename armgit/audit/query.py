"""The audit trail: change records from a branch's first-parent history, computed once per commit.

Each commit is compared with its first parent (a merge with its first parent, so a merged pull
request shows up as the merge commit's records). Records for a commit depend on nothing but the
commit (its tree, its first parent's tree, its metadata), so they are cached by commit id in
``<gitdir>/armgit/audit/`` (:mod:`armgit.audit.log`) and never recomputed. A long history is
derived by :mod:`armgit.audit.walk` (one walk per tenant over ``git diff-tree``'s changes, in
parallel); a few new commits are derived here, each from its own tree diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import cast

import pygit2

from armgit.audit.derive import CommitDeriver
from armgit.audit.log import Block, RecordLog, cache_file
from armgit.audit.records import ChangeRecord
from armgit.audit.walk import Keyed, Meta, TenantJob, merge_commit, to_line, walk_tenants
from armgit.core.jsondata import JsonObject
from armgit.core.layout import REGISTRY_FILE
from armgit.core.timeutil import format_time
from armgit.progress import task
from armgit.registry.history import head_commit, locate_registry
from armgit.store.cache import ContentCache, cache_path
from armgit.store.gitcli import LoggedCommit, RawChange, first_parent_diffs, first_parent_log

# more changed files than this to derive: use the repository's content cache (blobs parsed
# by validate, the hook or an earlier audit are not parsed again, and what is parsed here is
# kept for them); fewer: parse them in memory, cheaper than opening the cache
_FEW_FILES = 1_000
_WALK_COMMITS = 200  # more to derive: walk the whole history per tenant instead


class AuditRun:
    """The records of a branch, oldest commit first, and how much work it took."""

    def __init__(self, blocks: list[Block], computed: int) -> None:
        self.blocks = blocks
        self.commits = len(blocks)
        self.computed = computed  # commits whose records were derived in this run

    def lines(self) -> Iterator[bytes]:
        """Every record as a line of ``--format jsonl`` (with its newline)."""
        for block in self.blocks:
            if block.count:
                yield from bytes(block.lines).splitlines(keepends=True)

    @cached_property
    def records(self) -> list[ChangeRecord]:
        return [record_of(json.loads(line)) for line in self.lines()]


def record_of(data: dict[str, object]) -> ChangeRecord:
    """A record from its JSON form (what :meth:`ChangeRecord.to_json` gave)."""
    approvals = data["approvals"]
    operator = data["operator"]
    assert isinstance(approvals, list)
    return ChangeRecord(
        type=str(data["type"]),
        tenant=str(data["tenant"]),
        target=str(data["target"]),
        commit=str(data["commit"]),
        time=str(data["time"]),
        author=str(data["author"]),
        operator=operator if isinstance(operator, str) else None,
        payload=cast(JsonObject, data["payload"]),
        approvals=tuple(str(a) for a in approvals),
        imported=data.get("imported") is True,
    )


def audit_history(
    repo: pygit2.Repository,
    head: pygit2.Commit,
    prefix: str = "",
    *,
    cache_dir: Path | None = None,
    content: Callable[[int], ContentCache] | None = None,
    log: RecordLog | None = None,
) -> AuditRun:
    """Every record of ``head``'s first-parent history, in commit order then by target.

    ``cache_dir`` (e.g. ``<gitdir>/armgit/audit``) keeps computed records; ``None`` keeps none.
    ``content(n)`` gives the parsed-content cache when commits that change ``n`` files must be
    derived (asked only if some must): a registry's first commit changes every file. ``log``
    is the cache file of ``cache_dir`` if it was read already.
    """
    if log is None:
        log = RecordLog(cache_file(cache_dir, prefix) if cache_dir is not None else None)
    head_id = str(head.id)
    blocks = log.chain(head_id)
    if blocks is not None:
        return AuditRun(blocks, 0)
    git_dir = Path(repo.path)
    newest_first, complete = _uncached(log, git_dir, head_id)
    missing = [c for c in newest_first if c.id not in log.blocks]
    missing.reverse()
    if complete and len(missing) <= _WALK_COMMITS:
        diffs = first_parent_diffs(git_dir, missing, prefix)  # one git process for them all
        files = sum(len(changes) for changes in diffs.values())
        cache = content(files) if content else ContentCache(None)
        deriver = CommitDeriver(repo, prefix, cache)
        for logged in missing:
            commit = repo[logged.id].peel(pygit2.Commit)
            records = deriver.derive(commit, diffs.get(logged.id, []))
            lines = b"".join(to_line(r) for r in records)
            when = format_time(datetime.fromtimestamp(logged.time, UTC)) if records else ""
            log.add(logged.id, logged.parent, when, lines, len(records))
    else:
        if complete:  # the walk needs the whole history from the root
            newest_first = list(first_parent_log(git_dir, head_id))
        _walk(repo, prefix, newest_first[::-1], log, content)
    log.save()
    blocks = log.chain(head_id)
    assert blocks is not None
    return AuditRun(blocks, len(missing))


def _uncached(log: RecordLog, git_dir: Path, head: str) -> tuple[list[LoggedCommit], bool]:
    """The commits from ``head`` back to the newest one whose whole chain is cached (newest
    first), and whether one was found (else: the whole history)."""
    found: list[LoggedCommit] = []
    stream = first_parent_log(git_dir, head)
    try:
        for logged in stream:
            if logged.id in log.blocks and log.chain(logged.id) is not None:
                return found, True
            found.append(logged)
            if logged.id in log.blocks:  # cached, but not its ancestors: read everything
                found += stream
                break
    finally:
        if isinstance(stream, Iterator):
            close = getattr(stream, "close", None)
            if close is not None:
                close()
    return found, False


def _walk(
    repo: pygit2.Repository,
    prefix: str,
    chain: list[LoggedCommit],
    log: RecordLog,
    content: Callable[[int], ContentCache] | None,
) -> None:
    """Derive the uncached commits of ``chain`` (root first) with one walk per tenant."""
    git_dir = Path(repo.path)
    wanted = frozenset(i for i, c in enumerate(chain) if c.id not in log.blocks)
    metas = [
        Meta(c.id, c.parent, format_time(datetime.fromtimestamp(c.time, UTC)), c.email)
        for c in chain
    ]
    with task(f"reading {len(chain)} commits' changes"):
        diffs = first_parent_diffs(git_dir, chain, prefix, workers=2)
    by_tenant: dict[str, list[tuple[int, list[RawChange]]]] = {}
    registry: list[int] = []
    for index, logged in enumerate(chain):
        per: dict[str, list[RawChange]] = {}
        for change in diffs.get(logged.id, ()):
            steps = change.path.split("/", 2)
            if steps[0] == "tenants" and len(steps) == 3:
                per.setdefault(steps[1], []).append(change)
            elif change.path == REGISTRY_FILE and index in wanted:
                registry.append(index)
        for tenant, changes in per.items():
            by_tenant.setdefault(tenant, []).append((index, changes))
    # the walks read files from the root commit on, not only the wanted commits'
    cache = content(sum(len(c) for c in diffs.values())) if content else ContentCache(None)
    path = getattr(cache, "_path", None)
    jobs = [
        TenantJob(str(git_dir), tenant, metas, changes, wanted, str(path) if path else None)
        for tenant, changes in sorted(by_tenant.items())
    ]
    parts: dict[int, list[list[Keyed]]] = {}
    with task(f"deriving records of {len(wanted)} commits, by tenant", len(jobs)) as advance:
        for result in walk_tenants(jobs, cache.parsed()):
            for index, keyed in result.records.items():
                parts.setdefault(index, []).append(keyed)
            advance(1)
    deriver = CommitDeriver(repo, prefix, cache)
    for index in registry:
        parts.setdefault(index, []).append(
            deriver.registry(repo[chain[index].id].peel(pygit2.Commit))
        )
    for index in sorted(wanted):
        meta = metas[index]
        keyed_parts = parts.get(index, [])
        commit = repo[meta.commit].peel(pygit2.Commit)
        paths = [c.path for c in diffs.get(meta.commit, ())]
        imported = deriver.imported(commit, paths)  # after the derived ones, as derive gives
        lines = merge_commit(keyed_parts) + b"".join(to_line(r) for r in imported)
        count = sum(len(k) for k in keyed_parts) + len(imported)
        log.add(meta.commit, meta.parent, meta.time if count else "", lines, count)


def read_audit(
    repo: str | Path | None = None, rev: str | None = None, log: RecordLog | None = None
) -> AuditRun:
    """The records of the registry at ``repo`` (default: here) on branch ``rev`` (default: the
    first protected branch that exists, else HEAD), using and updating the repository's caches
    (``log``: the cache file already read, used if it is this registry's)."""
    located = locate_registry(repo)
    head = head_commit(located, rev)
    opened: list[ContentCache] = []

    def content(files: int) -> ContentCache:
        path = cache_path(Path(located.repo.path)) if files > _FEW_FILES else None
        opened.append(ContentCache(path))
        return opened[-1]

    cache_dir = cache_dir_for(located.repo)
    if log is not None and (cache_dir is None or log.path != cache_file(cache_dir, located.prefix)):
        log = None
    run = audit_history(
        located.repo, head, located.prefix, cache_dir=cache_dir, content=content, log=log
    )
    for cache in opened:
        cache.save()
    return run


def cache_dir_for(repo: pygit2.Repository) -> Path | None:
    """Where audit records are cached (``None`` when ``ARMGIT_NO_CACHE`` is set)."""
    if os.environ.get("ARMGIT_NO_CACHE"):
        return None
    return Path(repo.path) / "armgit" / "audit"


def filter_records(
    records: Iterable[ChangeRecord],
    *,
    tenant: str | None = None,
    target: str | None = None,
    types: Iterable[str] = (),
    since: str | None = None,
    until: str | None = None,
) -> list[ChangeRecord]:
    """Records matching every filter given (``since``/``until``: RFC 3339 UTC, inclusive)."""
    wanted = set(types)
    return [
        r
        for r in records
        if (tenant is None or r.tenant == tenant)
        and (target is None or r.target == target)
        and (not wanted or r.type in wanted)
        and (since is None or r.time >= since)
        and (until is None or r.time <= until)
    ]
