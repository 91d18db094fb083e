"""Deriving the records of a long history: one walk per tenant, tenants spread over processes.

A tenant's records depend only on the tenant's own files (its entities, its operators, its
approvals), so each tenant's history is walked on its own, from the root commit, over the
changes ``git diff-tree`` reported (no tree lookups: the tenant's files are a dict from path to
blob id, updated commit by commit). Every blob is parsed once per walk; walks run in forked
worker processes. The registry file (``armgit.yaml``, whose operator may come from any tenant)
is left to the caller. A driver of :func:`armgit.audit.derivation.commit_records`, the same
derivation :mod:`.derive` runs commit by commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pygit2

from armgit.audit.derivation import CommitFacts, SortKey, commit_records
from armgit.audit.records import ChangeRecord
from armgit.core.content import Content, parse_content
from armgit.core.models import Approval
from armgit.core.rules.access import actor_from_email, find_operator
from armgit.enforce.ranges import classify
from armgit.registry.lazyview import LazyView
from armgit.store.cache import ContentCache
from armgit.store.gitcli import RawChange
from armgit.store.parallel import fork_pool, fork_workers
from armgit.store.tree import FileEntry, RegistryTree, SourceInfo

Keyed = tuple[SortKey, bytes]  # a record as its line of JSON, with the key that orders it


@dataclass(frozen=True, slots=True)
class Meta:
    """What a record says of its commit."""

    commit: str
    parent: str
    time: str
    author: str


@dataclass
class TenantJob:
    git_dir: str
    tenant: str
    commits: list[Meta]
    changes: list[tuple[int, list[RawChange]]]  # (index in commits, the tenant's changes)
    wanted: frozenset[int]  # indexes of the commits whose records are asked for
    content: str | None  # the content cache's path


@dataclass
class TenantResult:
    tenant: str
    records: dict[int, list[Keyed]] = field(default_factory=dict)


def _not_json(value: object) -> object:
    raise TypeError(f"a change record holds {type(value).__name__}, which JSON cannot")


# what json.dumps(ensure_ascii=False, separators=(",", ":")) builds on every call, built once:
# the same C encoder with the same settings (the same bytes; a fleet's first commit has ~50,000
# records, and the per-call set-up was nearly half of encoding them)
_ENCODE: Callable[[object, int], list[str]] = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, _not_json, json.encoder.encode_basestring, None, ":", ",", False, False, True
)  # no cycle check: a record is built from JSON data, which has no cycles


def to_line(record: ChangeRecord) -> bytes:
    """A record as one line of ``armgit audit --format jsonl``."""
    return "".join(_ENCODE(record.to_json(), 0)).encode() + b"\n"


# blobs the caller parsed already (e.g. the site's load of the same commit): the forked workers
# inherit them with the process, where passing them with each job would pickle them
_known: list[Mapping[str, Content]] = []


def walk_tenants(
    jobs: list[TenantJob], known: Mapping[str, Content] | None = None
) -> Iterator[TenantResult]:
    """Each job's records, walks spread over worker processes when there are several;
    ``known``: blobs parsed already, by id (the walks parse only the others)."""
    _known.append(known or {})
    try:
        workers = fork_workers(len(jobs), 2)
        if workers < 2:
            for job in jobs:
                yield walk_tenant(job)
            return
        # the biggest walks first, so that no worker is left with one long walk at the end
        ordered = sorted(jobs, key=lambda j: -sum(len(c) for _, c in j.changes))
        with fork_pool(workers) as pool:
            yield from pool.map(walk_tenant, ordered)
    finally:
        _known.pop()


class _StateTree(RegistryTree):
    """A tenant's files as ``path -> entry``, with one commit's changes laid over them."""

    def __init__(
        self,
        repo: pygit2.Repository,
        files: dict[str, FileEntry],
        over: dict[str, FileEntry | None],
    ) -> None:
        self._repo = repo
        self._files = files
        self._over = over
        self.source = SourceInfo(repo.path)

    def entry(self, path: str) -> FileEntry | None:
        if path in self._over:
            return self._over[path]
        return self._files.get(path)

    def read_entry(self, entry: FileEntry) -> bytes:
        return bytes(self._repo.odb.read(entry.oid)[1])

    def read(self, path: str) -> bytes | None:
        entry = self.entry(path)
        return self.read_entry(entry) if entry is not None else None

    def entries(self) -> Iterator[FileEntry]:
        for path in sorted({*self._files, *self._over}):
            entry = self.entry(path)
            if entry is not None:
                yield entry

    def names(self, directory: str) -> list[str]:
        prefix = directory.rstrip("/") + "/"
        found = set()
        for path in (*self._files, *self._over):
            if path.startswith(prefix) and self.entry(path) is not None:
                found.add(path[len(prefix) :].split("/", 1)[0])
        return sorted(found)


def walk_tenant(job: TenantJob) -> TenantResult:
    """The records of one tenant's history (commits in ``job.wanted``)."""
    repo = pygit2.Repository(job.git_dir)
    cache = ContentCache(Path(job.content) if job.content else None, _known[-1] if _known else None)
    cache.prefetch(c.oid for _, changes in job.changes for c in changes if c.oid)
    walk = _Walk(repo, job.tenant, cache)
    result = TenantResult(job.tenant)
    for index, changes in job.changes:
        meta = job.commits[index]
        over = {c.path: FileEntry(c.path, c.oid, c.mode) if c.oid else None for c in changes}
        if index in job.wanted:
            keyed = walk.derive(meta, over)
            if keyed:
                result.records[index] = keyed
        walk.apply(over)
    cache.save()
    return result


class _Walk:
    def __init__(self, repo: pygit2.Repository, tenant: str, cache: ContentCache) -> None:
        self.repo = repo
        self.tenant = tenant
        self.cache = cache
        self.files: dict[str, FileEntry] = {}
        self._operators_dir = f"tenants/{tenant}/operators/"
        self._operators: dict[str, str | None] = {}  # email -> operator, at the current files

    def derive(self, meta: Meta, over: dict[str, FileEntry | None]) -> list[Keyed]:
        changed = [p for p, e in over.items() if e is not None]
        deleted = [p for p, e in over.items() if e is None]
        touched = classify(changed, deleted)
        base = LazyView(_StateTree(self.repo, self.files, {}), self.cache)
        head = LazyView(_StateTree(self.repo, self.files, over), self.cache)
        fresh = not meta.parent
        facts = CommitFacts(meta.commit, meta.time, meta.author, genesis=fresh)
        operators: list[str | None] = []  # one tenant: one operator per commit
        found: list[dict[str, Approval]] = []

        def operator(tenant: str) -> str | None:
            if not operators:
                operators.append(self._operator(head if fresh else base, meta.author, fresh))
            return operators[0]

        def added(tenant: str) -> Mapping[str, Approval]:
            if not found:
                found.append(self._added(over))
            return found[0]

        entity_ids = set(touched.ids) | set(touched.deleted)
        records = commit_records(base, head, entity_ids, facts, operator, added)
        return [(key, to_line(record)) for key, record in records]

    def _operator(self, view: LazyView, email: str, fresh: bool) -> str | None:
        if not email:
            return None
        if fresh or email not in self._operators:
            operator = find_operator(view, self.tenant, actor_from_email(email, "commit author"))
            name = operator.name if operator is not None else None
            if fresh:
                return name
            self._operators[email] = name
        return self._operators[email]

    def _added(self, over: dict[str, FileEntry | None]) -> dict[str, Approval]:
        """The APPROVE statements this commit adds, by id (approval files new at their path)."""
        found: dict[str, Approval] = {}
        for path, entry in over.items():
            named = approval_name(path)
            if named is not None and named[0] == self.tenant and path not in self.files:
                approval = read_approval(self.repo, self.cache, entry)
                if approval is not None:
                    found[named[1]] = approval
        return found

    def apply(self, over: dict[str, FileEntry | None]) -> None:
        for path, entry in over.items():
            if entry is None:
                self.files.pop(path, None)
            else:
                self.files[path] = entry
            if path.startswith(self._operators_dir):
                self._operators.clear()


def approval_name(path: str) -> tuple[str, str] | None:
    """(tenant, approval id) if ``path`` is a file directly in a tenant's ``approvals/`` that
    ends in ``.yaml`` (a nested file is not an approval)."""
    steps = path.split("/")
    if (
        len(steps) == 4
        and steps[0] == "tenants"
        and steps[2] == "approvals"
        and steps[3].endswith(".yaml")
    ):
        return steps[1], steps[3][: -len(".yaml")]
    return None


def read_approval(
    repo: pygit2.Repository, cache: ContentCache, entry: FileEntry | None
) -> Approval | None:
    """The APPROVE statement in ``entry``'s blob, parsed through ``cache`` (else ``None``)."""
    if entry is None or entry.mode not in _BLOB_MODES:
        return None
    parsed = cache.get(entry.oid)
    if parsed is None:
        parsed = parse_content(bytes(repo.odb.read(entry.oid)[1]))
        cache.put(entry.oid, parsed)
    model = parsed.model
    if isinstance(model, Approval) and model.statement.decision == "APPROVE":
        return model
    return None


_BLOB_MODES = frozenset({0o100644, 0o100755, 0o120000})


def merge_commit(parts: Sequence[list[Keyed]]) -> bytes:
    """One commit's records from every tenant, in registry order, as JSON Lines."""
    keyed = [k for part in parts for k in part]
    keyed.sort(key=lambda k: k[0])
    return b"".join(line for _, line in keyed)
