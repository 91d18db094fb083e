"""The Approval Center: open proposals (branches not on the protected branch) and their gates.

Each branch is judged as the hook and ``armgit check`` judge it, by
:func:`armgit.enforce.ranges.check_range` from the protected branch's tip, with the branch tip's
author as the author of the change (four eyes), so a gate's eligible approvers exclude them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pygit2

from armgit.core.findings import Finding
from armgit.core.rules.access import Actor
from armgit.core.rules.approvals import GateStatus
from armgit.enforce.ranges import check_range
from armgit.store.cache import ContentCache


@dataclass(frozen=True, slots=True)
class Proposal:
    """One open proposal: a branch ahead of the protected branch, and where its gates stand."""

    branch: str
    head: str
    author: str
    time: str
    summary: str
    commits: int
    statuses: list[GateStatus]
    findings: list[Finding]


def open_proposals(
    repo: pygit2.Repository, base: pygit2.Commit, prefix: str, now: datetime
) -> list[Proposal]:
    """Every local branch whose tip is not on ``base``'s history, judged against ``base``."""
    proposals = []
    cache = ContentCache(None)
    for name in sorted(repo.branches.local):
        tip = repo.branches.local[name].peel(pygit2.Commit)
        if tip.id == base.id or repo.descendant_of(base.id, tip.id):
            continue  # merged (or the protected branch itself)
        author = tip.author.email
        report = check_range(
            repo,
            str(base.id),
            str(tip.id),
            actor=Actor((author,), "git", exact=False),
            now=now,
            prefix=prefix,
            cache=cache,
            access=False,
        )
        proposals.append(
            Proposal(
                branch=name,
                head=str(tip.id),
                author=author,
                time=datetime.fromtimestamp(tip.commit_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                summary=tip.message.strip().splitlines()[0] if tip.message.strip() else "",
                commits=report.commits,
                statuses=report.statuses,
                findings=report.findings,
            )
        )
    return proposals
