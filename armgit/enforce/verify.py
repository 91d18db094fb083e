"""``armgit verify``: replay every rule over a branch's whole first-parent history.

Each commit is checked against its first parent exactly as the server hook checks a push of it
(:func:`armgit.enforce.ranges.check_range`): the state rules for what it touched (at the root
commit, everything), the change rules, and its gates judged by the approvals present at that commit,
valid at the commit's time, or else at a later commit that landed within the approval window
(review adds approvals after the change, and git does not record which commits were pushed
together). Permissions are not replayed: git does not record who pushed a
commit (the author is not the pusher), so ``access=False``. Every version file ever written is
parsed afresh (no cache is trusted), which recomputes its genome hash. A long history is checked
in runs of consecutive commits spread over forked workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pygit2

from armgit.core.findings import Finding, sort_findings
from armgit.core.importmark import RELAXED_RULES
from armgit.core.layout import EntityId, identify
from armgit.core.rules.approvals import evaluate_gates, gate_findings
from armgit.core.rules.gates import Gate
from armgit.enforce.imported import ImportMarks
from armgit.enforce.ranges import changed_paths, check_range, registry_tree, view_of
from armgit.errors import UsageError
from armgit.progress import task
from armgit.registry.history import commit_time, first_parent_chain, head_commit, locate_registry
from armgit.store.cache import ContentCache
from armgit.store.parallel import fork_pool, fork_workers
from armgit.store.tree import resolve_commit

# how far ahead a gated change's approvals may land (the seed's longest default is 72 h)
LOOKAHEAD_WINDOW = timedelta(days=7)
LOOKAHEAD_COMMITS = 200

INTEGRITY_VERIFIED = "INTEGRITY_VERIFIED"
INTEGRITY_FAILED = "INTEGRITY_FAILED"


@dataclass(frozen=True, slots=True)
class CommitFinding:
    """A finding and the commit that broke the rule: a commit of the first-parent history, or
    of a side branch that a merge brought in (not the merge)."""

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
    # what ARM never enforced, in honoured import commits (docs/import.md): reported, not failed
    notices: list[CommitFinding] = field(default_factory=list)
    # what today's rules say of the commits up to the trust root (an earlier armgit admitted
    # them under the rules it had): reported, not failed
    trusted: list[CommitFinding] = field(default_factory=list)
    trust_root: str | None = None

    @property
    def status(self) -> str:
        return INTEGRITY_FAILED if self.findings else INTEGRITY_VERIFIED


def verify_repository(
    repo: str | Path | None = None, rev: str | None = None, trust_root: str | None = None
) -> VerifyReport:
    """:func:`verify_history` of the registry at ``repo`` on branch ``rev`` (default: the first
    protected branch that exists, else HEAD), trusting its history up to ``trust_root``."""
    located = locate_registry(repo)
    head = head_commit(located, rev)
    root = resolve_commit(located.repo, trust_root) if trust_root is not None else None
    return verify_history(located.repo, head, located.prefix, root)


def verify_history(
    repo: pygit2.Repository,
    head: pygit2.Commit,
    prefix: str = "",
    trust_root: pygit2.Commit | None = None,
) -> VerifyReport:
    """Replay the rules for every commit of ``head``'s first-parent history, from the root.

    With ``trust_root`` (a commit of that history), what the rules say of the commits up to and
    including it is reported as ``trusted``, not failed: an earlier armgit admitted them under
    the rules it had (docs/hooks.md, "Upgrading armgit"). Every genome hash is recomputed still.

    Commits are checked independently, so a long history is split into runs of consecutive
    commits checked in forked worker processes (each with its own repository handle and
    in-memory parse cache); the findings come back in history order either way."""
    report = VerifyReport(str(head.id))
    chain = [str(c.id) for c in first_parent_chain(repo, head)]
    report.commits = len(chain)
    trusted_through = -1
    if trust_root is not None:
        report.trust_root = str(trust_root.id)
        if report.trust_root not in chain:
            raise UsageError(
                f"the trust root {report.trust_root[:12]} is not on the first-parent history "
                f"of {report.head[:12]}: name a commit of the branch being verified"
            )
        trusted_through = chain.index(report.trust_root)
    workers = fork_workers(len(chain), PARALLEL_MIN_COMMITS)
    with task("replaying commits", len(chain)) as advance:
        if workers < 2:
            parts = [_verify_run(repo, chain, 0, len(chain), prefix, trusted_through, advance)]
        else:
            size = -(-len(chain) // (workers * _RUNS_PER_WORKER))
            jobs = [
                (repo.path, chain, i, min(i + size, len(chain)), prefix, trusted_through)
                for i in range(0, len(chain), size)
            ]
            parts = []
            with fork_pool(workers, initializer=_start_worker) as pool:
                for job, part in zip(jobs, pool.map(_verify_job, jobs), strict=True):
                    parts.append(part)
                    advance(job[3] - job[2])
    versions: set[str] = set()
    for findings, notices, trusted, oids in parts:
        report.findings += findings
        report.notices += notices
        report.trusted += trusted
        versions |= oids
    report.genomes = len(versions)
    return report


PARALLEL_MIN_COMMITS = 200
_RUNS_PER_WORKER = 4  # smaller runs even out commits of very different cost


def _start_worker() -> None:
    os.environ["ARMGIT_NO_PARALLEL"] = "1"  # a worker reads its files itself


# findings, notices, trusted, versions
Found = tuple[list[CommitFinding], list[CommitFinding], list[CommitFinding], set[str]]


def _verify_job(job: tuple[str, list[str], int, int, str, int]) -> Found:
    path, chain, start, stop, prefix, trusted_through = job
    return _verify_run(pygit2.Repository(path), chain, start, stop, prefix, trusted_through)


def _verify_run(
    repo: pygit2.Repository,
    ids: list[str],
    start: int,
    stop: int,
    prefix: str,
    trusted_through: int = -1,
    advance: Callable[[int], None] | None = None,
) -> Found:
    """The findings and notices of the commits ``ids[start:stop]`` and the version blobs they
    wrote. A notice is what an honoured import commit relaxes (docs/import.md), judged from the
    commit's parent as the range's base; what a commit at or before position ``trusted_through``
    (the trust root) breaks is trusted."""
    content = ContentCache(None)  # proving integrity: recompute, trust no cache on disk
    chain = _Chain(repo, ids)
    marks = ImportMarks(repo, prefix)
    found: list[CommitFinding] = []
    notices: list[CommitFinding] = []
    trusted: list[CommitFinding] = []
    versions: set[str] = set()
    for position in range(start, stop):
        commit = chain[position]
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
        here = str(commit.id)
        blamed = [
            CommitFinding(checked.blamed(f, here), f)
            for f in checked.findings
            if f.rule != "approval-required"
        ]
        pending = [s.gate for s in checked.statuses if not s.satisfied]
        if pending:
            blamed += [
                CommitFinding(checked.raised.get(gate, here), f)
                for gate, f in _approved_later(repo, chain, position, pending, prefix, content)
            ]
        order = {f: i for i, f in enumerate(sort_findings([b.finding for b in blamed]))}
        # an import commit of the first-parent history is judged from the commit its import grew
        # from, as the range that landed it was: its parent holds the tenants its import's
        # earlier commits created (a merge's side commits: from the merge's first parent)
        grew_from = marks.runs.base(commit) if blamed else None
        judged_from = grew_from if grew_from is not None else parent
        base = str(judged_from.id) if judged_from is not None else None
        for item in sorted(blamed, key=lambda b: order[b.finding]):
            if position <= trusted_through:
                trusted.append(item)
            elif item.finding.rule in RELAXED_RULES and marks.honoured(item.commit, base):
                notices.append(item)
            else:
                found.append(item)
        after = registry_tree(repo, commit, prefix)
        changed, _ = changed_paths(registry_tree(repo, parent, prefix), after)
        for path in changed:
            ident = identify(path)
            if isinstance(ident, EntityId) and ident.kind == "Version" and after is not None:
                entry = after.entry(path)
                if entry is not None:
                    versions.add(entry.oid)
        if advance is not None:
            advance(1)
    return found, notices, trusted, versions


class _Chain:
    """The first-parent chain by position, commits looked up when first asked for."""

    def __init__(self, repo: pygit2.Repository, ids: list[str]) -> None:
        self._repo = repo
        self._ids = ids

    def __getitem__(self, position: int) -> pygit2.Commit:
        return self._repo[self._ids[position]].peel(pygit2.Commit)

    def after(self, position: int, count: int) -> Iterator[pygit2.Commit]:
        """Up to ``count`` commits after ``position``, in order."""
        for i in range(position + 1, min(position + 1 + count, len(self._ids))):
            yield self[i]


def _approved_later(
    repo: pygit2.Repository,
    chain: _Chain,
    position: int,
    gates: list[Gate],
    prefix: str,
    content: ContentCache,
) -> list[tuple[Gate, Finding]]:
    """The findings of ``gates`` of ``chain[position]`` that no approvals satisfied when the
    change landed. Git does not record pushes, and review adds approvals after the change they
    approve (the hook judges a push's gates at its last commit), so a later commit of the chain
    may supply them: within the longest approval window after the change, with each approval
    judged at that later commit's time."""
    commit = chain[position]
    parent = commit.parents[0] if commit.parents else None
    base = view_of(registry_tree(repo, parent, prefix), content)
    start = commit_time(commit)
    statuses = evaluate_gates(
        gates, base, view_of(registry_tree(repo, commit, prefix), content), None, start
    )
    for later in chain.after(position, LOOKAHEAD_COMMITS):
        when = commit_time(later)
        if when - start > LOOKAHEAD_WINDOW:
            break
        pending = [s.gate for s in statuses if not s.satisfied]
        if not pending:
            break
        view = view_of(registry_tree(repo, later, prefix), content)
        settled = [s for s in statuses if s.satisfied]
        statuses = settled + evaluate_gates(pending, base, view, None, when)
    return [(s.gate, f) for s in statuses for f in gate_findings([s])]
