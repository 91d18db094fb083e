"""Four eyes, said at the time it matters: warnings for ``approve`` and ``review``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import click
import pygit2

from armgit.authoring.approve import Pending, Workspace
from armgit.authoring.authorship import (
    Author,
    as_actor,
    authored_by,
    range_authors,
    uncommitted_author,
)
from armgit.core.models import Operator
from armgit.core.rules.access import Actor, find_operator
from armgit.core.rules.gates import Gate
from armgit.registry.lazyview import LazyView


def warn_self_approval(
    ws: Workspace, pending: Pending, gates: Sequence[Gate], who: Operator
) -> None:
    """Warn on stderr when ``who`` authored the change that made ``gates``: the commits of the
    range that touched their files, or (uncommitted) the identity git would commit them as."""
    paths = sorted({gate.path for gate in gates})
    authors = range_authors(
        ws.repo, pending.base_commit, pending.head_commit, paths=paths, prefix=ws.prefix
    )
    pending_author = uncommitted_author(ws.repo, ws.root, paths, ws.prefix)
    if pending_author is not None:
        authors.append(pending_author)
    mine = authored_by(who, authors)
    if not mine:
        return
    click.echo(
        f"armgit: warning: you ({who.name}) authored this change: "
        f"{'; '.join(str(a) for a in mine)}. The author's own approval does not count when "
        "they push the change or open its pull request (four eyes): ask another operator to "
        "approve it.",
        err=True,
    )


@dataclass(frozen=True, slots=True)
class CommitAuthors:
    """The authors of a range's commits, standing for who makes the change when ``review`` is
    not told (``--author``), and the base to find which operators they are."""

    authors: list[Author]
    actor: Actor | None
    base: LazyView

    @classmethod
    def of_range(cls, repo: pygit2.Repository, base: str, head: str, prefix: str) -> CommitAuthors:
        from armgit.enforce.ranges import registry_tree, view_of

        authors = range_authors(repo, base, head)
        base_commit = repo.get(base)
        assert isinstance(base_commit, pygit2.Commit)
        view = view_of(registry_tree(repo, base_commit, prefix), None)
        return cls(authors, as_actor(authors), view)

    def operators(self, tenants: Iterable[str]) -> list[str]:
        """``TENANT/NAME`` of each operator of ``tenants`` the authors are."""
        if self.actor is None:
            return []
        found = []
        for tenant in sorted(set(tenants)):
            operator = find_operator(self.base, tenant, self.actor)
            if operator is not None:
                found.append(f"{tenant}/{operator.name}")
        return found

    def note(self, tenants: Iterable[str]) -> str:
        """One line: who the authors are and whose approvals will not count."""
        if not self.authors:
            return "Authors: none (no commit in the range)"
        people = ", ".join(f"{a.name} <{a.email}>" for a in self.authors)
        ops = self.operators(tenants)
        counted = (
            f"approvals by {', '.join(ops)} will not count"
            if ops
            else "none of them is an operator of a gated change's tenant"
        )
        return (
            f"Authors, from the commits (--author IDENTITY names who makes the change): "
            f"{people}; {counted}"
        )
