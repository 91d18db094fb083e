"""Which import commits are honoured, and the findings that become notices there.

``armgit import`` writes ARM's history as commits carrying the import mark
(:mod:`armgit.core.importmark`). ARM never signed approvals nor recorded every transition, so
replaying its history under armgit's change rules would flag what ARM never enforced. A marked
commit is *honoured* only when everything it changes is inside tenants that did not exist
before the import: in the tree of the commit below its import's first (the base the import
grew from), and only when it is a commit the importer could have made (:class:`ImportRuns`).
A merge is honoured when it only brings in, unchanged, files of an
honoured import into tenants its first parent does not have. So the mark can relax nothing
about a tenant that existed before: it cannot carry an unjudged change into existing data.
Creating a tenant still needs ``admin:registry`` (permissions are never relaxed), so only a
registry admin's import passes ``armgit check``. Where honoured, the findings of
:data:`~armgit.core.importmark.RELAXED_RULES` (approvals, transition guards, illegal
transitions) become notices; schema, references, hashes and permissions stay strict.

The server hook honours a marked commit only through :func:`granted_split`: when ``imports`` in
``armgit.yaml`` *at the base of the push* names the import's mark (source and export digest)
and the pusher as the operator allowed to land it. Nothing the push brings, an ``imports``
entry included, can authorise itself (SPEC section 4a).
"""

from __future__ import annotations

from collections.abc import Callable

import pygit2

from armgit.core.findings import Finding
from armgit.core.importmark import RELAXED_RULES, follows, import_mark, import_position
from armgit.core.layout import TENANTS_DIR, named_id
from armgit.core.models import Operator, Registry
from armgit.core.rules.access import Actor, is_actor
from armgit.enforce.ranges import changed_paths, outside_paths, registry_tree, view_of
from armgit.store.cache import ContentCache


class ImportRuns:
    """Which marked commits the importer could have made: the N-th commit of an import of TOTAL
    (its ``Armgit-Import-Commit: N/TOTAL`` trailer) counts only on top of the N-1 before it,
    first parent by first parent, all with the same source, export digest and TOTAL, the first
    right above an unmarked commit (the base the import grew from). A marked commit on top of a
    finished import, a marked commit after an unmarked one that is not its first, a merge or a
    root is no import commit (docs/import.md), whatever it changes."""

    def __init__(self) -> None:
        self._base: dict[str, pygit2.Commit | None] = {}

    def base(self, commit: pygit2.Commit) -> pygit2.Commit | None:
        """The commit ``commit``'s import grew from, or ``None`` when it is no import commit."""
        chain: list[str] = []
        current = commit
        found: pygit2.Commit | None = None
        while True:
            key = str(current.id)
            if key in self._base:
                found = self._base[key]
                break
            chain.append(key)
            parent = current.parents[0] if len(current.parents) == 1 else None
            if parent is None or not follows(current.message, parent.message):
                break
            position = import_position(current.message)
            if position is not None and position[0] == 1:
                found = parent
                break
            current = parent
        for key in chain:
            self._base[key] = found
        return found


class ImportMarks:
    """Answers "is this commit an honoured import commit, judged from this base?" for one
    repository, remembering what does not depend on the base."""

    def __init__(self, repo: pygit2.Repository, prefix: str = "") -> None:
        self.repo = repo
        self.prefix = prefix
        self._tenants: dict[str, frozenset[str] | None] = {}
        self.runs = ImportRuns()

    def honoured(self, commit_id: str, base: str | None) -> bool:
        """Whether ``commit_id`` is honoured in a range judged from ``base``: it only changes
        tenants that neither ``base`` nor the tree its import grew from has."""
        tenants = self.tenants(commit_id)
        if tenants is None:
            return False
        base_commit = self.repo.get(base) if base is not None else None
        if isinstance(base_commit, pygit2.Commit):
            return not any(self._has_tenant(base_commit, t) for t in tenants)
        return base is None

    def split(
        self, findings: list[Finding], blame: Callable[[Finding], str | None], base: str | None
    ) -> tuple[list[Finding], list[Finding]]:
        """(findings, notices): a relaxed rule's finding blamed on a commit honoured from
        ``base`` is a notice; every other finding stays."""
        kept: list[Finding] = []
        notices: list[Finding] = []
        for finding in findings:
            commit = blame(finding) if finding.rule in RELAXED_RULES else None
            honoured = commit is not None and self.honoured(commit, base)
            (notices if honoured else kept).append(finding)
        return kept, notices

    def mark_of(self, commit_id: str) -> tuple[str, str] | None:
        """The import mark (source, export digest) of a marked commit, or of the honoured
        import a merge brings in (its first marked side parent)."""
        commit = self.repo.get(commit_id)
        if not isinstance(commit, pygit2.Commit):
            return None
        for candidate in [commit, *commit.parents[1:]]:
            if self.runs.base(candidate) is not None:
                return import_mark(candidate.message)
        return None

    def tenants(self, commit_id: str) -> frozenset[str] | None:
        """The new tenants an import commit (or a merge bringing one in) fills, or ``None``
        when the commit is no such thing."""
        if commit_id not in self._tenants:
            commit = self.repo.get(commit_id)
            found = self._judge(commit) if isinstance(commit, pygit2.Commit) else None
            self._tenants[commit_id] = found
        return self._tenants[commit_id]

    def _judge(self, commit: pygit2.Commit) -> frozenset[str] | None:
        if not commit.parents:
            return None
        parent = commit.parents[0]
        tenants = self._tenants_changed(parent, commit)
        if not tenants:
            return None
        if import_mark(commit.message) is not None:
            base = self.runs.base(commit)
            if base is None:
                return None
            return None if any(self._has_tenant(base, t) for t in tenants) else tenants
        if len(commit.parents) < 2 or any(self._has_tenant(parent, t) for t in tenants):
            return None
        return tenants if self._brought_in(commit) else None

    def _brought_in(self, merge: pygit2.Commit) -> bool:
        """Every file the merge changes from its first parent is as an import it merges, one
        honoured from that first parent, has it."""
        parent = merge.parents[0]
        after = registry_tree(self.repo, merge, self.prefix)
        changed, deleted = changed_paths(registry_tree(self.repo, parent, self.prefix), after)
        if deleted or after is None:
            return False
        sides = [
            tree
            for side in merge.parents[1:]
            if self.honoured(str(side.id), str(parent.id))
            for tree in [registry_tree(self.repo, side, self.prefix)]
            if tree is not None
        ]
        for path in changed:
            entry = after.entry(path)
            if entry is None or not any(
                (e := t.entry(path)) is not None and e.oid == entry.oid for t in sides
            ):
                return False
        return bool(sides)

    def _tenants_changed(
        self, parent: pygit2.Commit, commit: pygit2.Commit
    ) -> frozenset[str] | None:
        """The tenants a commit changes, or ``None`` when it changes anything outside them."""
        if outside_paths(parent, commit, self.prefix):
            return None
        before = registry_tree(self.repo, parent, self.prefix)
        after = registry_tree(self.repo, commit, self.prefix)
        changed, deleted = changed_paths(before, after)
        tenants: set[str] = set()
        for path in [*changed, *deleted]:
            parts = path.split("/")
            if len(parts) < 3 or parts[0] != TENANTS_DIR:
                return None
            tenants.add(parts[1])
        return frozenset(tenants)

    def _has_tenant(self, commit: pygit2.Commit, tenant: str) -> bool:
        tree = registry_tree(self.repo, commit, self.prefix)
        return tree is not None and bool(tree.names(f"{TENANTS_DIR}/{tenant}"))


def granted_split(
    repo: pygit2.Repository,
    base: str,
    registry: Registry,
    actor: Actor,
    findings: list[Finding],
    blame: Callable[[Finding], str | None],
    cache: ContentCache | None = None,
) -> tuple[list[Finding], list[Finding]]:
    """The hook's (findings, notices) for a push judged from ``base``, whose ``armgit.yaml`` is
    ``registry``: a relaxed rule's finding blamed on a commit honoured from ``base`` whose mark
    an ``imports`` entry of ``registry`` names, with ``actor`` as its operator, is a notice."""
    base_commit = repo.get(base)
    if not registry.imports or not isinstance(base_commit, pygit2.Commit):
        return findings, []
    view = view_of(registry_tree(repo, base_commit, ""), cache)
    granted = set()
    for grant in registry.imports:
        tenant, _, name = grant.operator.partition("/")
        operator = view.get(named_id("Operator", tenant, name), Operator)
        if operator is not None and not operator.disabled and is_actor(operator, actor):
            granted.add((grant.source, grant.export))
    if not granted:
        return findings, []
    marks = ImportMarks(repo)
    kept: list[Finding] = []
    notices: list[Finding] = []
    for finding in findings:
        commit = blame(finding) if finding.rule in RELAXED_RULES else None
        honoured = (
            commit is not None and marks.honoured(commit, base) and marks.mark_of(commit) in granted
        )
        (notices if honoured else kept).append(finding)
    return kept, notices
