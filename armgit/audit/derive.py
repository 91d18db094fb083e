"""Deriving one commit's records from its tree and its first parent's (a few new commits).

A driver of :func:`armgit.audit.derivation.commit_records`: it reads the two trees with pygit2
and answers the derivation's lookups (the author's operator, the approvals the commit adds).

The approvals that admitted a change are among the approval files the commit adds (one that was
on the branch before was spent on an earlier change), so a commit costs its own files only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pygit2

from armgit.audit.derivation import CommitFacts, SortKey, commit_records
from armgit.audit.imported import ImportClaims, imported_records
from armgit.audit.records import ChangeRecord
from armgit.audit.walk import Keyed, approval_name, read_approval
from armgit.core.importmark import import_mark
from armgit.core.layout import REGISTRY_FILE, REGISTRY_ID, EntityId
from armgit.core.models import Approval
from armgit.core.rules.access import actor_from_email, find_operator
from armgit.core.snapshot import View
from armgit.core.timeutil import format_time
from armgit.enforce.imported import ImportMarks
from armgit.enforce.ranges import changed_paths, classify, registry_tree, view_of
from armgit.registry.history import commit_time
from armgit.store.cache import ContentCache
from armgit.store.gitcli import RawChange
from armgit.store.tree import GitTree


class CommitDeriver:
    """Records of one commit at a time, from pygit2 trees."""

    def __init__(self, repo: pygit2.Repository, prefix: str, content: ContentCache) -> None:
        self.repo = repo
        self.prefix = prefix
        self.content = content
        self._operators: dict[tuple[str, str, str], str | None] = {}
        self.claims = ImportClaims(repo, prefix)
        self.marks = ImportMarks(repo, prefix)

    def derive(
        self, commit: pygit2.Commit, changes: list[RawChange] | None = None
    ) -> list[ChangeRecord]:
        """The commit's records; ``changes``: its files changed against its first parent, as
        ``git diff-tree`` listed them (else pygit2 diffs the trees, slower on a large tree)."""
        parent = commit.parents[0] if commit.parents else None
        before = registry_tree(self.repo, parent, self.prefix)
        after = registry_tree(self.repo, commit, self.prefix)
        if changes is not None and before is not None and after is not None:
            governed = [
                c for c in changes if c.path == REGISTRY_FILE or c.path.startswith("tenants/")
            ]
            changed = [c.path for c in governed if c.oid]
            deleted = [c.path for c in governed if not c.oid]
        else:
            changed, deleted = changed_paths(before, after)
        touched = classify(changed, deleted)
        entity_ids = set(touched.ids) | set(touched.deleted)
        keyed = self._records(commit, before, after, entity_ids, changed)
        paths = [c.path for c in changes] if changes is not None else [*changed, *deleted]
        return [record for _, record in keyed] + self.imported(commit, paths)

    def imported(self, commit: pygit2.Commit, paths: list[str]) -> list[ChangeRecord]:
        """The ARM records an import commit carries (:mod:`armgit.audit.imported`); ``paths``:
        what it changed, from the registry's directory."""
        if len(commit.parents) > 1:
            return self._merged(commit)
        return _imported(commit, self.claims.tenants(commit, paths))

    def _merged(self, merge: pygit2.Commit) -> list[ChangeRecord]:
        """A merge that brings in an import honoured from its first parent
        (:class:`~armgit.enforce.imported.ImportMarks`): the records of the import's commits
        (each under its own commit id), for the tenants the merge brings in."""
        brought = self.marks.tenants(str(merge.id))
        if not brought:
            return []
        out: list[ChangeRecord] = []
        for side in merge.parents[1:]:
            run: list[pygit2.Commit] = []
            current = side
            while import_mark(current.message) is not None and current.parents:
                run.append(current)
                current = current.parents[0]
            for commit in reversed(run):
                before = registry_tree(self.repo, commit.parents[0], self.prefix)
                changed, deleted = changed_paths(
                    before, registry_tree(self.repo, commit, self.prefix)
                )
                tenants = self.claims.tenants(commit, [*changed, *deleted]) & brought
                out += _imported(commit, tenants)
        return out

    def registry(self, commit: pygit2.Commit) -> list[Keyed]:
        """The records of ``armgit.yaml`` alone at ``commit`` (for the per-tenant walk)."""
        from armgit.audit.walk import to_line

        parent = commit.parents[0] if commit.parents else None
        before = registry_tree(self.repo, parent, self.prefix)
        after = registry_tree(self.repo, commit, self.prefix)
        keyed = self._records(commit, before, after, [REGISTRY_ID], [])
        return [(key, to_line(record)) for key, record in keyed]

    def _records(
        self,
        commit: pygit2.Commit,
        before: GitTree | None,
        after: GitTree | None,
        entity_ids: Iterable[EntityId],
        changed: list[str],
    ) -> list[tuple[SortKey, ChangeRecord]]:
        """:func:`~armgit.audit.derivation.commit_records` over pygit2 trees."""
        parent = commit.parents[0] if commit.parents else None
        base, head = view_of(before, self.content), view_of(after, self.content)
        author = commit.author.email or ""
        when = format_time(commit_time(commit))
        facts = CommitFacts(str(commit.id), when, author, genesis=parent is None)
        view, tree = (base, before) if parent is not None else (head, after)
        found: dict[str, dict[str, Approval]] = {}
        read = False

        def added(tenant: str) -> Mapping[str, Approval]:
            nonlocal found, read
            if not read and after is not None:
                found = _added_approvals(self.repo, self.content, before, after, changed)
            read = True
            return found.get(tenant, {})

        def operator(tenant: str) -> str | None:
            return self.operator(view, tree, tenant, author)

        return commit_records(base, head, entity_ids, facts, operator, added)

    def operator(self, view: View, tree: GitTree | None, tenant: str, email: str) -> str | None:
        """:func:`operator_of`, remembered per version of the tenant's operators directory."""
        where = f"tenants/{tenant}/operators" if tenant else "tenants"
        try:
            oid = str(tree.raw_tree[where].id) if tree is not None else ""
        except KeyError:
            oid = ""
        key = (tenant, oid, email)
        if key not in self._operators:
            self._operators[key] = operator_of(view, tenant, email)
        return self._operators[key]


def _imported(commit: pygit2.Commit, tenants: frozenset[str]) -> list[ChangeRecord]:
    if not tenants:
        return []
    when = format_time(commit_time(commit))
    facts = CommitFacts(str(commit.id), when, commit.author.email or "", not commit.parents)
    return imported_records(commit.message, facts, tenants)


def operator_of(view: View, tenant: str, email: str) -> str | None:
    """The operator an author's email names (identities ``email:...``, or ``email``)."""
    if not email:
        return None
    actor = actor_from_email(email, "commit author")
    tenants = [tenant] if tenant else [t.tenant for t in view.ids("Tenant", "")]
    for name in tenants:
        operator = find_operator(view, name, actor)
        if operator is not None:
            return operator.name if tenant else f"{name}/{operator.name}"
    return None


def _added_approvals(
    repo: pygit2.Repository,
    cache: ContentCache,
    before: GitTree | None,
    after: GitTree,
    changed: list[str],
) -> dict[str, dict[str, Approval]]:
    """The APPROVE statements a commit adds, by tenant and id (approval files new at their
    path)."""
    found: dict[str, dict[str, Approval]] = {}
    for path in changed:
        named = approval_name(path)
        if named is None or (before is not None and before.entry(path) is not None):
            continue
        approval = read_approval(repo, cache, after.entry(path))
        if approval is not None:
            found.setdefault(named[0], {})[named[1]] = approval
    return found
