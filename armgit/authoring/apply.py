"""Authoring in a work tree: apply a :class:`~armgit.authoring.plans.Plan`, check the result with
the pipeline's own rules, write it atomically, and commit it when asked.

The check is the server's: the state rules for what the change touches (only findings the
change introduces refuse it) and the change rules between before and after the edit. Before
is the work tree; with ``--commit`` it is HEAD, and after is HEAD with exactly the files the
commit will hold, so a commit that the server would refuse is refused here. Gates (changes
that need approvals) are not refusals; where they stand and who may approve is judged as
review will judge it, against the protected branch.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pygit2

from armgit.authoring.edit import edit_document, render_document
from armgit.authoring.plans import Plan, Refusal
from armgit.core.findings import Finding
from armgit.core.layout import REGISTRY_FILE, REGISTRY_ID, EntityId, identify
from armgit.core.models import Registry
from armgit.core.rules.access import Actor, actor_from_email, find_operator
from armgit.core.rules.approvals import GateStatus, evaluate_gates
from armgit.core.rules.change import check_change
from armgit.core.snapshot import View
from armgit.enforce.ranges import check_touched, classify, registry_tree
from armgit.errors import StoreError, UsageError
from armgit.registry.lazyview import LazyView
from armgit.store import gitcli
from armgit.store.atomic import write_atomic
from armgit.store.overlay import OverlayTree
from armgit.store.tree import RegistryTree, WorkTree, registry_prefix

_SCHEMA_LINE = re.compile(rb"^# yaml-language-server: \$schema=(\S*)schemas/\S+\.json")


@dataclass(frozen=True)
class Workspace:
    """A registry work tree, and the git repository around it (if any)."""

    root: Path
    tree: WorkTree
    repo: pygit2.Repository | None
    prefix: str  # the registry's directory inside the repository ("" at its root)

    @property
    def workdir(self) -> Path | None:
        if self.repo is None or self.repo.workdir is None:
            return None
        return Path(self.repo.workdir)


def open_workspace(path: str | Path | None) -> Workspace:
    """The registry work tree at ``path`` (default: here); raises UsageError if it is none."""
    root = Path(path if path is not None else os.getcwd()).absolute()
    if not (root / REGISTRY_FILE).is_file():
        if (root / "HEAD").is_file() and (root / "objects").is_dir():
            raise UsageError(
                f"{root} is a bare repository: authoring edits files, so run it in a clone"
            )
        raise UsageError(f"{root} is not a registry work tree (no armgit.yaml): use --repo PATH")
    found = pygit2.discover_repository(str(root))
    repo = pygit2.Repository(found) if found else None
    prefix = registry_prefix(repo, root) if repo is not None else ""
    return Workspace(root, WorkTree(root), repo, prefix)


def actor_of(ws: Workspace) -> Actor | None:
    """The author of the change, as git would name them (four eyes: not an approver)."""
    email = gitcli.user_email(ws.root)
    if email is None:
        return None
    return actor_from_email(email, "git user.email")


def operator_name(view: View, tenant: str, actor: Actor | None) -> str | None:
    """The operator of ``tenant`` that ``actor`` is, for ``requestedBy``."""
    if actor is None:
        return None
    operator = find_operator(view, tenant, actor)
    return operator.name if operator is not None else None


@dataclass
class Outcome:
    """What applying a plan did: refused (``refusal``/``findings``), or wrote ``written``."""

    plan: Plan
    refusal: Refusal | None = None
    findings: list[Finding] = field(default_factory=list)
    statuses: list[GateStatus] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    commit: str | None = None
    branch: str | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None and not self.findings


def apply_plan(
    ws: Workspace,
    plan: Plan,
    *,
    actor: Actor | None,
    now: datetime,
    commit: bool = False,
    branch: str | None = None,
) -> Outcome:
    """Check ``plan`` against the rules and, if nothing refuses it, write (and commit) it."""
    outcome = Outcome(plan)
    if (commit or branch) and ws.repo is None:
        raise UsageError(f"--commit/--branch: {ws.root} is not inside a git repository")
    if branch is not None and ws.workdir is not None:
        if not gitcli.check_branch_name(ws.workdir, branch):
            raise UsageError(f"--branch {branch!r} is not a valid branch name")
        if gitcli.branch_exists(ws.workdir, branch):
            raise UsageError(f"branch {branch!r} exists already: choose a new name")
    files, refusal = _render(ws, plan)
    if refusal is not None:
        outcome.refusal = refusal
        return outcome
    base = _head_tree(ws) if (commit or branch) else None
    before = LazyView(base if base is not None else ws.tree)
    after = LazyView(OverlayTree(before.tree, files))
    changed = list(files)
    known = {_key(f) for f in check_touched(before, changed, [])}
    outcome.findings = [f for f in check_touched(after, changed, []) if _key(f) not in known]
    touched = classify(changed, [])
    result = check_change(before, after, touched.ids, touched.artifacts)
    outcome.findings += result.findings
    if outcome.findings:
        return outcome
    outcome.statuses = evaluate_gates(result.gates, _review_base(ws, before), after, actor, now)
    for path, data in files.items():
        write_atomic(ws.root / path, data)
    outcome.written = changed
    if commit or branch:
        assert ws.workdir is not None
        message = plan.message + (f"\n\n{plan.body}\n" if plan.body else "\n")
        top = ws.workdir.resolve()
        paths = [(ws.root.resolve() / p).relative_to(top).as_posix() for p in changed]
        outcome.commit = gitcli.commit_paths(ws.workdir, paths, message, branch)
        outcome.branch = branch
    return outcome


def _head_tree(ws: Workspace) -> RegistryTree | None:
    """What a commit of the change will be compared with, as the server compares it."""
    if ws.repo is None or ws.repo.head_is_unborn:
        return None
    return registry_tree(ws.repo, ws.repo.head.peel(pygit2.Commit), ws.prefix)


def _key(finding: Finding) -> tuple[str, str, str, str]:
    return (finding.rule, finding.path, finding.pointer, finding.message)


def _render(ws: Workspace, plan: Plan) -> tuple[dict[str, bytes], Refusal | None]:
    files: dict[str, bytes] = {}
    for edit in plan.edits:
        data = files.get(edit.path) or ws.tree.read(edit.path)
        if data is None:
            return files, Refusal(f"{edit.path} does not exist")
        files[edit.path] = edit_document(data, edit.edits)
    for new in plan.created:
        if ws.tree.entry(new.path) is not None:
            return files, Refusal(f"{new.path} exists already: edit it, or pick another name")
        files[new.path] = render_document(new.data, schema_header(ws, new.path))
    for artifact in plan.artifacts:
        existing = ws.tree.read(artifact.path)
        if existing is None:
            files[artifact.path] = artifact.data
        elif existing != artifact.data:
            return files, Refusal(
                f"{artifact.path} exists with other content, and older versions may be bound "
                "to it: give the new file another name"
            )
    return files, None


def schema_header(ws: Workspace, path: str) -> str:
    """The ``yaml-language-server`` line for a new file, pointing where armgit.yaml's does (or
    at the nearest ``schemas/`` directory)."""
    ident = identify(path)
    kind = ident.kind.lower() if isinstance(ident, EntityId) else "version"
    schemas: Path | None = None
    first = (ws.root / REGISTRY_FILE).read_bytes().split(b"\n", 1)[0]
    match = _SCHEMA_LINE.match(first)
    if match is not None:
        schemas = (ws.root / match.group(1).decode("utf-8") / "schemas").resolve()
    else:
        top = ws.workdir.resolve() if ws.workdir is not None else ws.root.resolve()
        for base in [ws.root.resolve(), *ws.root.resolve().parents]:
            if (base / "schemas").is_dir():
                schemas = base / "schemas"
                break
            if base == top:
                break
    if schemas is None:
        schemas = ws.root.resolve() / "schemas"
    directory = (ws.root.resolve() / path).parent
    relative = Path(os.path.relpath(schemas / f"{kind}.json", directory)).as_posix()
    return f"# yaml-language-server: $schema={relative}\n"


def _review_base(ws: Workspace, fallback: LazyView) -> View:
    """The protected branch the change will merge into, as review sees it."""
    if ws.repo is None:
        return fallback
    registry = fallback.get(REGISTRY_ID, Registry)
    branches = registry.protected_branches if registry is not None else ("main",)
    for name in [*branches, "HEAD"]:
        ref = "HEAD" if name == "HEAD" else f"refs/heads/{name}"
        try:
            commit = ws.repo.revparse_single(ref).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            continue
        tree = registry_tree(ws.repo, commit, ws.prefix)
        if tree is not None:
            return LazyView(tree)
    return fallback


__all__ = ["Outcome", "StoreError", "Workspace", "apply_plan", "open_workspace"]
