"""The audit trail: change records from a branch's first-parent history, computed once per commit.

Each commit is compared with its first parent (a merge with its first parent, so a merged pull
request shows up as the merge commit's records). Records for a commit depend on nothing but the
commit (its tree, its first parent's tree, its metadata), so they are cached by commit id in
``<gitdir>/armgit/audit/`` and never recomputed: a new commit costs only its own diff.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pygit2

from armgit.core.access import Actor, find_operator
from armgit.core.audit import ChangeRecord, Draft, derive_changes
from armgit.core.content import parse_content
from armgit.core.jsondata import JsonObject
from armgit.core.models import Approval
from armgit.core.snapshot import View
from armgit.core.timeutil import format_time
from armgit.enforce import changed_paths, classify, registry_tree, view_of
from armgit.history import commit_time, head_commit, locate_registry
from armgit.store.atomic import write_atomic
from armgit.store.cache import ContentCache, cache_path
from armgit.store.tree import GitTree

_FORMAT = 1
_FEW_COMMITS = 50
_CODE = (
    "audit.py",
    "core/audit.py",
    "core/content.py",
    "core/yamldata.py",
    "core/layout.py",
    "core/access.py",
    "core/models",
)


@dataclass
class AuditRun:
    """The records of a branch, oldest commit first, and how much work it took."""

    records: list[ChangeRecord] = field(default_factory=list)
    commits: int = 0
    computed: int = 0  # commits whose records were derived in this run (not read from the cache)


def audit_history(
    repo: pygit2.Repository,
    head: pygit2.Commit,
    prefix: str = "",
    *,
    cache_dir: Path | None = None,
    content: Callable[[int], ContentCache] | None = None,
) -> AuditRun:
    """Every record of ``head``'s first-parent history, in commit order then by target.

    ``cache_dir`` (e.g. ``<gitdir>/armgit/audit``) keeps computed records; ``None`` keeps none.
    ``content(n)`` gives the parsed-content cache when ``n`` commits must be derived (asked only
    if some must).
    """
    store = RecordStore(cache_dir / _file_name(prefix) if cache_dir is not None else None)
    deriver: _CommitDeriver | None = None
    run = AuditRun()
    chain = _chain(repo, head, store)
    for key in chain:
        run.commits += 1
        records = store.get(key)
        if records is None:
            if deriver is None:
                missing = sum(1 for k in chain if not store.has(k))
                cache = content(missing) if content else ContentCache(None)
                deriver = _CommitDeriver(repo, prefix, cache)
            commit = repo[key].peel(pygit2.Commit)
            records = deriver.derive(commit)
            store.add(key, records, _first_parent(commit))
            run.computed += 1
        run.records += records
    store.save()
    return run


def _chain(repo: pygit2.Repository, head: pygit2.Commit, store: RecordStore) -> list[str]:
    """The first-parent chain from the root to ``head``, as commit ids; parents already known to
    the cache are looked up there, without loading commits."""
    chain = []
    commit_id = str(head.id)
    while commit_id:
        chain.append(commit_id)
        parent = store.parent_of(commit_id)
        if parent is None:
            parent = _first_parent(repo[commit_id].peel(pygit2.Commit))
        commit_id = parent
    chain.reverse()
    return chain


def _first_parent(commit: pygit2.Commit) -> str:
    return str(commit.parent_ids[0]) if commit.parent_ids else ""


def read_audit(repo: str | Path | None = None, rev: str | None = None) -> AuditRun:
    """The records of the registry at ``repo`` (default: here) on branch ``rev`` (default: the
    first protected branch that exists, else HEAD), using and updating the repository's caches."""
    located = locate_registry(repo)
    head = head_commit(located, rev)
    opened: list[ContentCache] = []

    def content(commits: int) -> ContentCache:
        # a few new commits parse a few files: cheaper than loading the whole content cache
        path = cache_path(Path(located.repo.path)) if commits > _FEW_COMMITS else None
        opened.append(ContentCache(path))
        return opened[0]

    run = audit_history(
        located.repo, head, located.prefix, cache_dir=cache_dir_for(located.repo), content=content
    )
    for cache in opened:
        cache.save()
    return run


def cache_dir_for(repo: pygit2.Repository) -> Path | None:
    """Where audit records are cached (``None`` when ``ARMGIT_NO_CACHE`` is set)."""
    if os.environ.get("ARMGIT_NO_CACHE"):
        return None
    return Path(repo.path) / "armgit" / "audit"


def _file_name(prefix: str) -> str:
    if not prefix:
        return f"records-v{_FORMAT}.log"
    return f"records-v{_FORMAT}-{zlib.crc32(prefix.encode()):08x}.log"


# -- deriving one commit's records ------------------------------------------------------------


class _CommitDeriver:
    def __init__(self, repo: pygit2.Repository, prefix: str, content: ContentCache) -> None:
        self.repo = repo
        self.prefix = prefix
        self.content = content
        self.approvals = _ApprovalIndex(repo, content)
        self._operators: dict[tuple[str, str, str], str | None] = {}

    def derive(self, commit: pygit2.Commit) -> list[ChangeRecord]:
        parent = commit.parents[0] if commit.parents else None
        before = registry_tree(self.repo, parent, self.prefix)
        after = registry_tree(self.repo, commit, self.prefix)
        changed, deleted = changed_paths(before, after)
        touched = classify(changed, deleted)
        base, head = view_of(before, self.content), view_of(after, self.content)
        drafts: list[Draft] = []
        for entity_id in sorted(set(touched.ids) | set(touched.deleted)):
            drafts += derive_changes(base, head, entity_id)
        if not drafts:
            return []
        author = commit.author.email or ""
        when = format_time(commit_time(commit))
        operators = base if parent is not None else head
        tree = before if parent is not None else after
        names: dict[str, str | None] = {}
        records = []
        for draft in sorted(drafts, key=lambda d: d.target):  # stable: derivation order kept
            if draft.tenant not in names:
                names[draft.tenant] = self.operator(operators, tree, draft.tenant, author)
            approvals: tuple[str, ...] = ()
            if draft.binding is not None and after is not None:
                approvals = self.approvals.admitting(after, draft.tenant, draft)
            records.append(
                ChangeRecord(
                    type=draft.type,
                    tenant=draft.tenant,
                    target=draft.target,
                    commit=str(commit.id),
                    time=when,
                    author=author,
                    operator=names[draft.tenant],
                    payload=draft.payload,
                    approvals=approvals,
                )
            )
        return records

    def operator(self, view: View, tree: GitTree | None, tenant: str, email: str) -> str | None:
        """:func:`_operator`, remembered per version of the tenant's operators directory."""
        where = f"tenants/{tenant}/operators" if tenant else "tenants"
        try:
            oid = str(tree.raw_tree[where].id) if tree is not None else ""
        except KeyError:
            oid = ""
        key = (tenant, oid, email)
        if key not in self._operators:
            self._operators[key] = _operator(view, tenant, email)
        return self._operators[key]


def _operator(view: View, tenant: str, email: str) -> str | None:
    """The operator an author's email names (identities ``email:...``, or ``email``)."""
    if not email:
        return None
    actor = Actor((f"email:{email}", email), "commit author")
    tenants = [tenant] if tenant else [t.tenant for t in view.ids("Tenant", "")]
    for name in tenants:
        operator = find_operator(view, name, actor)
        if operator is not None:
            return operator.name if tenant else f"{name}/{operator.name}"
    return None


@dataclass
class _TenantApprovals:
    tree: pygit2.Tree | None
    # (subject ref, digest) -> approval id -> change.to, for APPROVE statements only
    by_subject: dict[tuple[str, str], dict[str, str | None]] = field(default_factory=dict)
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # approval id -> key


class _ApprovalIndex:
    """The APPROVE statements of each tenant by subject and digest, kept up to date along the
    walk by diffing the approvals directory, so each commit costs its own approvals only."""

    def __init__(self, repo: pygit2.Repository, content: ContentCache) -> None:
        self.repo = repo
        self.content = content
        self.tenants: dict[str, _TenantApprovals] = {}

    def admitting(self, tree: GitTree, tenant: str, draft: Draft) -> tuple[str, ...]:
        binding = draft.binding
        assert binding is not None
        state = self._at(tree, tenant)
        found = state.by_subject.get((binding.subject, binding.digest), {})
        return tuple(sorted(a for a, to in found.items() if binding.admits_change(to)))

    def _at(self, tree: GitTree, tenant: str) -> _TenantApprovals:
        try:
            sub = tree.raw_tree[f"tenants/{tenant}/approvals"]
        except KeyError:
            sub = None
        current = sub if isinstance(sub, pygit2.Tree) else None
        state = self.tenants.get(tenant)
        if state is None:
            state = _TenantApprovals(None)
            self.tenants[tenant] = state
        old = state.tree
        if (old.id if old else None) == (current.id if current else None):
            return state
        if old is None or current is None:
            state.by_subject.clear()
            state.keys.clear()
            if current is not None:
                for entry in current:
                    self._put(state, entry.name or "", str(entry.id))
        else:
            for delta in old.diff_to_tree(current).deltas:
                self._drop(state, delta.old_file.path)
                if delta.status != pygit2.enums.DeltaStatus.DELETED:
                    self._put(state, delta.new_file.path, str(delta.new_file.id))
        state.tree = current
        return state

    def _put(self, state: _TenantApprovals, file_name: str, oid: str) -> None:
        if not file_name.endswith(".yaml"):
            return
        parsed = self.content.get(oid)
        if parsed is None:
            obj = self.repo.get(oid)
            if not isinstance(obj, pygit2.Blob):
                return
            parsed = parse_content(bytes(obj.data))
            self.content.put(oid, parsed)
        approval = parsed.model
        if not isinstance(approval, Approval) or approval.statement.decision != "APPROVE":
            return
        s = approval.statement
        name = file_name[: -len(".yaml")]
        key = (s.subject.ref, s.digest)
        state.by_subject.setdefault(key, {})[name] = s.change.to
        state.keys[name] = key

    def _drop(self, state: _TenantApprovals, file_name: str) -> None:
        name = file_name[: -len(".yaml")]
        key = state.keys.pop(name, None)
        if key is not None:
            state.by_subject.get(key, {}).pop(name, None)


# -- the cache file ---------------------------------------------------------------------------


class RecordStore:
    """``commit id -> records``, one checksummed line of compact JSON per commit.

    The file starts with a header naming the format and a fingerprint of the code that derives
    records; a file from other code is dropped. New commits are appended as whole lines in one
    ``write`` (a torn or garbled line fails its checksum and that commit is derived again); a
    file that needs repair is rewritten atomically (temporary file and ``os.replace``). Failing
    to read or write the cache is never an error: records are derived again.
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._fingerprint = code_fingerprint()
        self._lines: dict[str, bytes] = {}
        self._parsed: dict[str, dict[str, object]] = {}
        self._parents: dict[str, str] = {}
        self._records: dict[str, list[ChangeRecord]] = {}
        self._new: list[bytes] = []
        self._rewrite = False
        if path is not None:
            self._load(path)

    def _header(self) -> bytes:
        return _line({"format": _FORMAT, "code": self._fingerprint})

    def _load(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError:
            self._rewrite = True
            return
        lines = data.split(b"\n")
        if not lines or lines[0] + b"\n" != self._header():
            self._rewrite = True
            return
        if lines[-1]:
            self._rewrite = True  # a torn last line
        for raw in lines[1:-1]:
            value = _unline(raw)
            commit = value.get("c") if isinstance(value, dict) else None
            parent = value.get("p") if isinstance(value, dict) else None
            if not isinstance(value, dict) or not isinstance(commit, str):
                self._rewrite = True
                continue
            if isinstance(parent, str):
                self._parents[commit] = parent
            self._lines[commit] = raw + b"\n"
            self._parsed[commit] = value

    def get(self, commit: str) -> list[ChangeRecord] | None:
        if commit in self._records:
            return self._records[commit]
        value = self._parsed.pop(commit, None)
        if value is None:
            return None
        try:
            records = _from_value(commit, value)
        except (ValueError, KeyError, TypeError, IndexError):
            del self._lines[commit]
            self._rewrite = True
            return None
        self._records[commit] = records
        return records

    def has(self, commit: str) -> bool:
        return commit in self._lines

    def parent_of(self, commit: str) -> str | None:
        """The commit's first parent ("" for a root) if the cache knows the commit."""
        return self._parents.get(commit)

    def add(self, commit: str, records: list[ChangeRecord], parent: str) -> None:
        raw = _to_line(commit, parent, records)
        self._parents[commit] = parent
        self._lines[commit] = raw
        self._records[commit] = records
        self._new.append(raw)

    def save(self) -> None:
        if self._path is None or not (self._new or self._rewrite):
            return
        try:
            if self._rewrite:
                write_atomic(self._path, self._header() + b"".join(self._lines.values()))
            else:
                with self._path.open("ab") as handle:
                    handle.write(b"".join(self._new))
        except OSError:
            return
        self._new = []
        self._rewrite = False


def code_fingerprint() -> str:
    """A digest of the source files the cached records depend on."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(str(_FORMAT).encode())
    for name in _CODE:
        target = package / name
        for file in sorted(target.glob("*.py")) if target.is_dir() else [target]:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:32]


def _line(value: object) -> bytes:
    body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _unline(raw: bytes) -> object:
    crc, _, body = raw.partition(b" ")
    try:
        if len(crc) != 8 or int(crc, 16) != zlib.crc32(body):
            return None
        return json.loads(body)
    except ValueError:
        return None


def _to_line(commit: str, parent: str, records: list[ChangeRecord]) -> bytes:
    first = records[0] if records else None
    return _line(
        {
            "c": commit,
            "p": parent,
            "t": first.time if first else "",
            "a": first.author if first else "",
            "r": [
                [r.type, r.tenant, r.target, r.operator, r.payload, list(r.approvals)]
                for r in records
            ],
        }
    )


def _from_value(commit: str, value: dict[str, object]) -> list[ChangeRecord]:
    when, author, rows = value["t"], value["a"], value["r"]
    if not isinstance(when, str) or not isinstance(author, str) or not isinstance(rows, list):
        raise TypeError("malformed line")
    records = []
    for row in rows:
        kind, tenant, target, operator, payload, approvals = row
        if not (
            isinstance(kind, str)
            and isinstance(tenant, str)
            and isinstance(target, str)
            and (operator is None or isinstance(operator, str))
            and isinstance(payload, dict)
            and isinstance(approvals, list)
            and all(isinstance(a, str) for a in approvals)
        ):
            raise TypeError("malformed record")
        records.append(
            ChangeRecord(
                type=kind,
                tenant=tenant,
                target=target,
                commit=commit,
                time=when,
                author=author,
                operator=operator,
                payload=_payload(payload),
                approvals=tuple(approvals),
            )
        )
    return records


def _payload(value: dict[str, object]) -> JsonObject:
    return cast(JsonObject, value)  # json.loads gives JSON data


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
