"""Deriving one commit's records from its tree and its first parent's (a few new commits).

The approvals that admitted a change are among the approval files the commit adds (one that was
on the branch before was spent on an earlier change), so a commit costs its own files only.
"""

from __future__ import annotations

import pygit2

from armgit.audit.records import ChangeRecord, Draft, admitting, derive_changes
from armgit.audit.walk import Keyed, approval_name, read_approval
from armgit.core.layout import REGISTRY_FILE, REGISTRY_ID
from armgit.core.models import Approval
from armgit.core.rules.access import actor_from_email, find_operator
from armgit.core.snapshot import View
from armgit.core.timeutil import format_time
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
        base, head = view_of(before, self.content), view_of(after, self.content)
        drafts: list[Draft] = []
        for entity_id in sorted(set(touched.ids) | set(touched.deleted)):
            drafts += derive_changes(base, head, entity_id, genesis=parent is None)
        if not drafts:
            return []
        author = commit.author.email or ""
        when = format_time(commit_time(commit))
        operators = base if parent is not None else head
        tree = before if parent is not None else after
        names: dict[str, str | None] = {}
        added: dict[str, dict[str, Approval]] = {}
        if after is not None and any(d.binding for d in drafts):
            added = _added_approvals(self.repo, self.content, before, after, changed)
        records = []
        for draft in sorted(drafts, key=lambda d: d.target):  # stable: derivation order kept
            if draft.tenant not in names:
                names[draft.tenant] = self.operator(operators, tree, draft.tenant, author)
            approvals: tuple[str, ...] = ()
            if draft.binding is not None:
                approvals = admitting(draft.binding, added.get(draft.tenant, {}))
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

    def registry(self, commit: pygit2.Commit) -> list[Keyed]:
        """The records of ``armgit.yaml`` alone at ``commit`` (for the per-tenant walk)."""
        from armgit.audit.walk import to_line

        parent = commit.parents[0] if commit.parents else None
        before = registry_tree(self.repo, parent, self.prefix)
        after = registry_tree(self.repo, commit, self.prefix)
        base, head = view_of(before, self.content), view_of(after, self.content)
        drafts = derive_changes(base, head, REGISTRY_ID)
        author = commit.author.email or ""
        when = format_time(commit_time(commit))
        view, tree = (base, before) if parent is not None else (head, after)
        out: list[Keyed] = []
        key = (REGISTRY_ID.kind, REGISTRY_ID.tenant, REGISTRY_ID.name, REGISTRY_ID.template)
        for i, draft in enumerate(drafts):
            record = ChangeRecord(
                type=draft.type,
                tenant=draft.tenant,
                target=draft.target,
                commit=str(commit.id),
                time=when,
                author=author,
                operator=self.operator(view, tree, draft.tenant, author),
                payload=draft.payload,
                approvals=(),  # nothing binds the registry file
            )
            out.append(((draft.target, key, i), to_line(record)))
        return out

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
