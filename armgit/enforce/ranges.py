"""Checking a range of commits: what the server hook, ``armgit check`` and ``verify`` share.

Each commit is compared with its parent (a merge with its first parent): the state rules for
what it touched, and the change rules. Gates (changes needing approvals) are judged once, at the
range's last commit, since approvals are gathered in review; permissions and approvers' keys are
judged by the range's base. A path outside the registry's layout (anything but ``armgit.yaml``
and ``tenants/`` in the registry's directory) needs ``write:repository``. Everything is read
through lazy views, so the work grows with the size of the change, not of the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import pygit2

from armgit.core.findings import Finding, sort_findings
from armgit.core.layout import (
    REGISTRY_FILE,
    TENANTS_DIR,
    EntityId,
    PathProblem,
    git_refuses,
    identify,
    is_valid_name,
    tenant_id,
)
from armgit.core.rules.access import REPOSITORY_PERMISSION, Actor, check_access
from armgit.core.rules.approvals import (
    GateStatus,
    check_new_approvals,
    evaluate_gates,
    gate_findings,
)
from armgit.core.rules.change import check_change
from armgit.core.rules.gates import Action, Gate
from armgit.core.rules.scope import affected
from armgit.core.rules.state import check_state
from armgit.registry.lazyview import LazyView
from armgit.registry.loader import locate, unsafe_file
from armgit.store.cache import ContentCache
from armgit.store.memory import MemoryTree
from armgit.store.tree import FileEntry, GitTree, SourceInfo, changes_outside

_EMPTY = MemoryTree({})


@dataclass
class RangeReport:
    """The findings of a range, and where each gate stands (for ``armgit review``)."""

    findings: list[Finding] = field(default_factory=list)
    statuses: list[GateStatus] = field(default_factory=list)
    commits: int = 0
    # the commit of the range that first broke each finding's rule, and that raised each gate
    # (so verify blames a side branch's commit, not the merge that brought it in)
    blame: dict[Finding, str] = field(default_factory=dict)
    raised: dict[Gate, str] = field(default_factory=dict)

    def blamed(self, finding: Finding, default: str) -> str:
        return self.blame.get(finding, default)


def registry_tree(
    repo: pygit2.Repository, commit: pygit2.Commit | None, prefix: str
) -> GitTree | None:
    """The registry's tree at ``commit`` (``None`` when the commit or the prefix is absent)."""
    if commit is None:
        return None
    tree = commit.tree
    if prefix:
        try:
            sub = tree[prefix]
        except KeyError:
            return None
        if not isinstance(sub, pygit2.Tree):
            return None
        tree = sub
    source = SourceInfo(
        (repo.workdir or repo.path).rstrip("/"), str(commit.id), str(tree.id), prefix
    )
    return GitTree(repo, tree, source)


def commits_between(repo: pygit2.Repository, base: str | None, head: str) -> list[pygit2.Commit]:
    """The commits in ``base..head``, parents before children."""
    tip = repo.get(head)
    if (
        isinstance(tip, pygit2.Commit)
        and base is not None
        and [str(p) for p in tip.parent_ids] == [base]
    ):
        return [tip]  # the usual push: one commit on top of the branch, no walk needed
    walker = repo.walk(head, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
    if base is not None:
        walker.hide(base)
    return list(walker)


def changed_paths(before: GitTree | None, after: GitTree | None) -> tuple[list[str], list[str]]:
    """(added or modified, deleted) governed paths between two registry trees (``None``: the
    registry's directory is absent there, so removing it deletes every file in it)."""
    if after is None:
        return [], [e.path for e in before.entries()] if before is not None else []
    if before is None:
        return [e.path for e in after.entries()], []
    changed, deleted = after.changes_from(before)
    return [p for p in changed if _governed(p)], [p for p in deleted if _governed(p)]


def _governed(path: str) -> bool:
    # at or under armgit.yaml or tenants: everything else is outside the layout (outside_paths)
    return path.split("/", 1)[0] in (REGISTRY_FILE, TENANTS_DIR)


def outside_paths(parent: pygit2.Commit, commit: pygit2.Commit, prefix: str) -> list[str]:
    """The paths ``commit`` added, modified or deleted outside the registry's layout (anything
    but ``armgit.yaml`` and ``tenants/`` in the registry's directory ``prefix``: workflows,
    scripts, a README, symlinks, submodules), relative to the registry's directory."""
    touched = changes_outside(parent.tree, commit.tree, _inside(prefix))
    return [_relative(path, prefix) for path in touched]


def _inside(prefix: str) -> tuple[str, str]:
    base = f"{prefix}/" if prefix else ""
    return (base + REGISTRY_FILE, base + TENANTS_DIR)


def _unsafe_paths(tree: pygit2.Tree, touched: list[str], prefix: str) -> list[Finding]:
    """``unsafe-file`` for each of the ``touched`` paths outside the registry that ``tree``
    holds and git refuses to check out (a ``.git`` folder at the top): no permission admits
    one. Inside the registry the layout refuses such names already."""
    found = []
    for path in touched:
        if git_refuses(path) and path in tree:
            found.append(
                Finding(
                    "unsafe-file",
                    _relative(path, prefix),
                    "git refuses to check out this path (a .git folder, in any case, or a "
                    "'.' or '..' segment): every clone would break; remove it",
                )
            )
    return found


def _relative(path: str, prefix: str) -> str:
    """``path`` (from the repository's top) from the registry's directory ``prefix``."""
    if not prefix:
        return path
    parts, up = path.split("/"), prefix.split("/")
    common = 0
    while common < min(len(parts) - 1, len(up)) and parts[common] == up[common]:
        common += 1
    return "/".join([".."] * (len(up) - common) + parts[common:])


def stray_action(path: str) -> Action:
    """The permission a registry path that holds no entity and no artifact needs (a
    ``.gitkeep``, a file deleted from where no entity belongs): ``write:tenants`` in its
    tenant, or ``write:repository`` when it is in no tenant."""
    parts = path.split("/")
    if parts[0] == TENANTS_DIR and len(parts) >= 3 and is_valid_name(parts[1]):
        return Action(parts[1], "write:tenants", path)
    return Action("", REPOSITORY_PERMISSION, path)


@dataclass
class _Touched:
    ids: list[EntityId] = field(default_factory=list)
    deleted: list[EntityId] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    templates: list[tuple[str, str]] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)  # neither an entity nor an artifact
    findings: list[Finding] = field(default_factory=list)


def classify(changed: Iterable[str], deleted: Iterable[str]) -> _Touched:
    touched = _Touched()
    for path, gone in [(p, False) for p in changed] + [(p, True) for p in deleted]:
        ident = identify(path)
        if isinstance(ident, PathProblem):
            if gone:
                touched.stray.append(path)
            else:
                touched.findings.append(Finding(ident.rule, path, ident.message))
        elif isinstance(ident, EntityId):
            (touched.deleted if gone else touched.ids).append(ident)
        elif path.startswith("tenants/") and path.count("/") >= 4:
            touched.artifacts.append(path)
            parts = path.split("/")
            touched.templates.append((parts[1], parts[3]))
        else:
            touched.stray.append(path)
    return touched


def check_touched(view: LazyView, changed: list[str], deleted: list[str]) -> list[Finding]:
    """The state rules at one commit for what it touched (and what refers to that)."""
    touched = classify(changed, deleted)
    findings = list(touched.findings)
    for path in [*touched.artifacts, *touched.stray]:
        entry = view.tree.entry(path)
        unsafe = unsafe_file(entry) if entry is not None else None
        if unsafe is not None:
            findings.append(unsafe)
    for entity_id in touched.ids:
        view.entity(entity_id)
        findings += view.file_findings.get(entity_id.path, [])
    extra = [v for t, tpl in touched.templates for v in view.ids("Version", t, tpl)]
    scope = affected(view, [*touched.ids, *extra], touched.deleted, view.instances_naming)
    findings += check_state(view, scope)
    if view.tree.entry(REGISTRY_FILE) is None:
        findings.append(Finding("missing-file", REGISTRY_FILE, "armgit.yaml is missing"))
    for tenant in sorted({i.tenant for i in [*touched.ids, *touched.deleted] if i.tenant}):
        path = tenant_id(tenant).path
        if view.tree.entry(path) is None and view.tree.names(f"tenants/{tenant}"):
            findings.append(Finding("missing-file", path, f"tenant {tenant!r} has no tenant.yaml"))
    return locate(findings, view.tree)


def check_range(
    repo: pygit2.Repository,
    base: str | None,
    head: str,
    *,
    actor: Actor | None,
    now: datetime,
    prefix: str = "",
    cache: ContentCache | None = None,
    access: bool = True,
    first_parent_line: bool = False,
) -> RangeReport:
    """Every rule for every commit of ``base..head`` (``base=None``: from the root).

    ``first_parent_line`` (the server hook): ``head`` must reach ``base`` through first parents,
    since a protected branch's first-parent history is its audit trail and only grows.
    Otherwise (a pull request checked in CI), a ``head`` that does not is also judged as one
    change from ``base``: its net change passes through no judged first-parent step."""
    report = RangeReport()
    base_commit = repo.get(base) if base is not None else None
    assert base_commit is None or isinstance(base_commit, pygit2.Commit)
    range_base = view_of(registry_tree(repo, base_commit, prefix), cache)
    views: dict[str, LazyView] = {}
    judged = _Changes()
    last: LazyView = range_base
    roots = 0 if base is None else 1  # a range may hold a root only as the registry's genesis
    commits = commits_between(repo, base, head)
    line = _first_parent_line(commits, base) if base is not None and commits else None
    # a merge may skip what it takes unchanged from the branch ("update branch") only where a
    # later commit judges the result against the base: off the tip's first-parent line, or
    # when the tip's net change is judged as one change (it does not reach the base)
    merges_skip = base is not None and bool(commits) and line is None
    for commit in commits:
        report.commits += 1
        parent = commit.parents[0] if commit.parents else None
        if parent is None:
            roots += 1
            if roots > 1:
                report.findings.append(_unrelated(commit))
                report.blame.setdefault(report.findings[-1], str(commit.id))
                continue
        parent_view = views.get(str(parent.id)) if parent is not None else None
        if parent_view is None:
            parent_view = view_of(registry_tree(repo, parent, prefix), cache, range_base)
        tree = registry_tree(repo, commit, prefix)
        view = view_of(tree, cache, range_base)
        on_line = line is not None and str(commit.id) in line
        skip_base = base if len(commit.parents) > 1 and (merges_skip or not on_line) else None
        views[str(commit.id)] = view
        last = view
        before = parent_view.tree if isinstance(parent_view.tree, GitTree) else None
        changed, deleted = changed_paths(before, tree)
        if parent is not None:
            touched_outside = changes_outside(parent.tree, commit.tree, _inside(prefix))
            unsafe = _unsafe_paths(commit.tree, touched_outside, prefix)
            report.findings += unsafe
            judged.blame(unsafe, commit)
        if access and parent is not None:
            outside = [_relative(path, prefix) for path in touched_outside]
            if outside and skip_base is not None:
                for judged_parent in _judged_parents(repo, commit, skip_base):
                    kept = set(outside_paths(judged_parent, commit, prefix))
                    outside = [path for path in outside if path in kept]
            judged.actions += [Action("", REPOSITORY_PERMISSION, path) for path in outside]
        if not changed and not deleted:
            continue
        found = check_touched(view, changed, deleted)
        report.findings += found
        judged.blame(found, commit)
        if parent is None:
            # the root commit is the registry's genesis: state rules only; it is the registry
            # as it begins, so its settings, operators and keys judge the commits after it
            range_base = view_of(tree, cache)
            continue
        if skip_base is not None:
            changed, deleted = _unjudged(repo, commit, skip_base, prefix, changed, deleted)
        judged.change(parent_view, view, changed, deleted, commit)
    if base is not None and commits and line is None:
        if first_parent_line:
            report.findings.append(_off_line(commits[-1], base))
        before = range_base.tree if isinstance(range_base.tree, GitTree) else None
        changed, deleted = changed_paths(before, registry_tree(repo, commits[-1], prefix))
        report.findings += check_touched(last, changed, deleted)
        judged.change(range_base, last, changed, deleted, commits[-1])
        if access and isinstance(base_commit, pygit2.Commit):
            outside = outside_paths(base_commit, commits[-1], prefix)
            judged.actions += [Action("", REPOSITORY_PERMISSION, path) for path in outside]
    report.findings += judged.findings
    report.blame = {**judged.blamed, **report.blame}
    report.raised = dict(judged.gates)
    actions, gates, added_approvals = judged.actions, judged.gates, judged.approvals
    if access:
        report.findings += check_access(actions, range_base, actor, now)
    report.statuses = evaluate_gates(list(gates), range_base, last, actor, now)
    for status in report.statuses:
        for finding in locate(gate_findings([status]), last.tree):
            report.findings.append(finding)
            report.blame.setdefault(finding, judged.gates[status.gate])
    report.findings += check_new_approvals(added_approvals, range_base, last, now)
    report.findings = sort_findings(list(dict.fromkeys(report.findings)))
    return report


@dataclass
class _Changes:
    """What the change rules found over a range: findings, the permissions and gates needed,
    and the approval files added."""

    findings: list[Finding] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    gates: dict[Gate, str] = field(default_factory=dict)  # -> the commit that raised it first
    approvals: dict[EntityId, None] = field(default_factory=dict)
    blamed: dict[Finding, str] = field(default_factory=dict)

    def blame(self, findings: Iterable[Finding], commit: pygit2.Commit) -> None:
        for finding in findings:
            self.blamed.setdefault(finding, str(commit.id))

    def change(
        self,
        before: LazyView,
        after: LazyView,
        changed: list[str],
        deleted: list[str],
        commit: pygit2.Commit,
    ) -> None:
        touched = classify(changed, deleted)
        result = check_change(before, after, [*touched.ids, *touched.deleted], touched.artifacts)
        found = locate(result.findings, after.tree)
        self.findings += found
        self.blame(found, commit)
        self.actions += result.actions
        self.actions += [stray_action(path) for path in touched.stray]
        for gate in result.gates:
            self.gates.setdefault(gate, str(commit.id))
        self.approvals.update(dict.fromkeys(i for i in touched.ids if i.kind == "Approval"))


def _first_parent_line(commits: list[pygit2.Commit], base: str) -> frozenset[str] | None:
    """The commits of the range on its tip's first-parent chain down to ``base`` (``None``
    when the tip does not reach ``base`` by first parents)."""
    inside = {str(c.id): c for c in commits}
    line = []
    commit = commits[-1]
    while True:
        line.append(str(commit.id))
        if not commit.parents:
            return None
        first = str(commit.parent_ids[0])
        if first == base:
            return frozenset(line)
        if first not in inside:
            return None
        commit = inside[first]


def _unjudged(
    repo: pygit2.Repository,
    merge: pygit2.Commit,
    base: str,
    prefix: str,
    changed: list[str],
    deleted: list[str],
) -> tuple[list[str], list[str]]:
    """The paths a merge changes from its first parent, less those it takes as they are from
    another parent already on the branch (the base or its ancestor): "update branch" merges a
    pull request's branch with the protected branch, and what it takes from there was judged
    when it landed. The pull request's own change is judged in full by the commit that lands
    it (its diff from the branch's tip)."""
    judged = [
        tree
        for p in _judged_parents(repo, merge, base)
        for tree in [registry_tree(repo, p, prefix)]
        if tree is not None
    ]
    if not judged:
        return changed, deleted

    def same(path: str, entry: object) -> bool:
        return any(_entry_key(t.entry(path)) == entry for t in judged)

    after = registry_tree(repo, merge, prefix)
    kept = [p for p in changed if after is None or not same(p, _entry_key(after.entry(p)))]
    gone = [p for p in deleted if not same(p, None)]
    return kept, gone


def _judged_parents(
    repo: pygit2.Repository, merge: pygit2.Commit, base: str
) -> list[pygit2.Commit]:
    """The parents of ``merge`` after the first that are already on the protected branch."""
    return [p for p in merge.parents[1:] if str(p.id) == base or repo.descendant_of(base, p.id)]


def _entry_key(entry: FileEntry | None) -> tuple[str, int] | None:
    return None if entry is None else (entry.oid, entry.mode)


def view_of(
    tree: GitTree | None, cache: ContentCache | None, settings: LazyView | None = None
) -> LazyView:
    """A lazy view of ``tree`` (empty for ``None``), judged by ``settings``' gate settings."""
    return LazyView(tree if tree is not None else _EMPTY, cache, settings)


def _off_line(head: pygit2.Commit, base: str) -> Finding:
    return Finding(
        "history-rewrite",
        "",
        f"{str(head.id)[:12]} does not reach the branch's tip {base[:12]} through its first "
        "parents (a merge made on a stale clone, with the branch as its second parent): the "
        "branch's first-parent history is its audit trail and only grows; rebase instead "
        "(git pull --rebase), or merge your branch into the protected one",
    )


def _unrelated(commit: pygit2.Commit) -> Finding:
    return Finding(
        "unrelated-history",
        "",
        f"commit {str(commit.id)[:12]} has no parent: a protected branch has one root, its "
        "genesis, and history that does not grow from it would replace the registry unjudged; "
        "rebase the change onto the branch (git rebase) or merge it into the branch's history",
    )
