"""The git hooks: pre-receive on the server, pre-commit on the client, and installing them."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pygit2

from armgit.core.findings import Finding
from armgit.core.models.registry import DEFAULT_IDENTITY_ENV
from armgit.core.refupdates import RefUpdate, parse_ref_updates, shadowing
from armgit.core.rules.access import actor_from_env
from armgit.core.rules.change import check_change
from armgit.enforce.protection import Protection, protected_at_base, registry_at, tip_before
from armgit.enforce.ranges import (
    changed_paths,
    check_range,
    check_touched,
    classify,
    registry_tree,
    view_of,
)
from armgit.errors import StoreError
from armgit.registry.loader import locate
from armgit.store.atomic import write_atomic
from armgit.store.cache import ContentCache, cache_path

HOOK_MARKER = "# installed by armgit hooks install"


@dataclass
class RefVerdict:
    """What the hook says about one ref update."""

    update: RefUpdate
    findings: list[Finding] = field(default_factory=list)
    checked: bool = False
    commits: int = 0


def open_hook_repository(path: str | None = None) -> pygit2.Repository:
    """The repository a hook runs in, with the push's quarantined objects visible."""
    try:
        return pygit2.Repository(
            path or os.environ.get("GIT_DIR", "."), flags=pygit2.enums.RepositoryOpenFlag.FROM_ENV
        )
    except pygit2.GitError as exc:
        raise StoreError(f"not a git repository: {exc}") from exc


def pre_receive(
    repo: pygit2.Repository, updates: list[RefUpdate], env: Mapping[str, str], now: datetime
) -> list[RefVerdict]:
    """Judge every ref update of a push; a verdict with findings refuses the push.

    Which branches are protected, and every setting the rules read, come from the server as it
    was before the push (:mod:`armgit.enforce.protection`, SPEC 4a)."""
    verdicts = []
    cache = ContentCache(cache_path(Path(repo.path)))
    protection = protected_at_base(repo, updates, cache)
    for update in updates:
        verdict = RefVerdict(update)
        verdicts.append(verdict)
        branch = update.branch
        if branch is None and not update.deleted:
            why = shadowing(update.ref, protection.branches)
            if why is not None:
                verdict.checked = True
                verdict.findings.append(Finding("unsafe-ref", update.ref, why))
            continue
        if branch is None or not protection.covers(branch):
            continue
        verdict.checked = True
        try:
            _judge_update(repo, verdict, branch, protection, updates, env, now, cache)
        except pygit2.InvalidError as exc:  # git's own fsck would refuse the object too
            verdict.findings.append(
                Finding(
                    "malformed-object",
                    update.ref,
                    f"a pushed object cannot be read ({exc}); make the commit again with git",
                )
            )
    cache.save()
    return verdicts


def _judge_update(
    repo: pygit2.Repository,
    verdict: RefVerdict,
    branch: str,
    protection: Protection,
    updates: list[RefUpdate],
    env: Mapping[str, str],
    now: datetime,
    cache: ContentCache,
) -> None:
    update = verdict.update
    if update.deleted:
        verdict.findings.append(
            Finding("history-rewrite", update.ref, f"{branch} is protected: it is never deleted")
        )
        return
    pushed = repo.get(update.new)
    if not isinstance(pushed, pygit2.Commit):
        kind = type(pushed).__name__.lower() if pushed is not None else "missing object"
        verdict.findings.append(
            Finding(
                "unsafe-ref", update.ref, f"a branch holds a commit; {update.new[:12]} is a {kind}"
            )
        )
        return
    base: str | None = update.old
    if update.created:
        base = _grows_from(repo, update.new, protection, updates)
        if base is None and not protection.genesis:
            verdict.findings.append(
                Finding(
                    "history-rewrite",
                    update.ref,
                    f"new protected branch {branch} must grow from an existing protected branch",
                )
            )
            return
    elif not _fast_forward(repo, update.old, update.new):
        verdict.findings.append(
            Finding(
                "history-rewrite",
                update.ref,
                f"{branch} is protected: its history is append-only, and {update.new[:12]} "
                f"does not contain {update.old[:12]}; push new commits on top instead",
            )
        )
        return
    config = registry_at(repo, base, cache) if base is not None else None
    variables = (config.identity_env if config is not None else ()) or DEFAULT_IDENTITY_ENV
    actor = actor_from_env(env, variables)
    if actor is None:  # fail closed, even for a push that changes no file
        names = ", ".join(variables)
        verdict.findings.append(
            Finding(
                "permission-denied",
                update.ref,
                f"cannot tell who is pushing to protected branch {branch}: the server sets "
                f"one of {names} for every pusher (see docs/hooks.md)",
            )
        )
        return
    report = check_range(
        repo, base, update.new, actor=actor, now=now, cache=cache, first_parent_line=True
    )
    verdict.findings = report.findings
    if config is not None and config.imports and base is not None and report.findings:
        # an import authorised at the base: what ARM never enforced is a notice (docs/import.md)
        from armgit.enforce.imported import granted_split

        verdict.findings, _ = granted_split(
            repo, base, config, actor, report.findings, report.blame.get, cache
        )
    verdict.commits = report.commits


def judge_push(stdin: bytes, env: Mapping[str, str], now: datetime) -> tuple[int, list[str]]:
    """What the pre-receive hook answers to a push's ``<old> <new> <ref>`` lines: (exit code,
    lines for the pusher). Exit 1 refuses the push; 2 is a failure of the hook itself, which
    refuses too. Shared by ``armgit hook pre-receive`` and the lean :mod:`armgit.hookrun`."""
    try:
        updates = parse_ref_updates(stdin)
    except ValueError as exc:
        return 2, [f"armgit: {exc}"]
    verdicts = pre_receive(open_hook_repository(), updates, env, now)
    lines = refusal_lines(verdicts)
    return (1 if lines else 0), lines


def refusal_lines(verdicts: list[RefVerdict]) -> list[str]:
    """What the pusher is told about the refused ref updates (nothing when all pass)."""
    lines = []
    for verdict in verdicts:
        if verdict.findings:
            lines.append(f"armgit: refusing {verdict.update.ref}:")
            for f in verdict.findings:
                where = f"{f.path}:{f.line}" if f.line else f.path
                lines.append(f"  {where}: {f.rule}: {f.message}")
    return lines


def _fast_forward(repo: pygit2.Repository, old: str, new: str) -> bool:
    if old == new:
        return True
    tip = repo.get(new)
    if isinstance(tip, pygit2.Commit) and old in {str(p) for p in tip.parent_ids}:
        return True  # the usual push: commits on top of the branch, no graph walk needed
    return bool(repo.descendant_of(new, old))


def _grows_from(
    repo: pygit2.Repository, new: str, protection: Protection, updates: list[RefUpdate]
) -> str | None:
    """The tip (before the push) of a protected branch that ``new`` contains, the settings
    branch first: a new protected branch is judged as a change from it."""
    names = [protection.settings_branch, *protection.branches]
    for name in dict.fromkeys(names):
        tip = tip_before(repo, updates, name)
        if tip is not None and (tip == new or repo.descendant_of(new, tip)):
            return tip
    return None


def check_staged(repo: pygit2.Repository, index: pygit2.Index) -> tuple[list[Finding], list[str]]:
    """The client's pre-commit check: state and change rules for the change staged in
    ``index``, without permissions or approvals (those come in review); returns (findings,
    notes on approvals)."""
    head = None if repo.head_is_unborn else repo.head.peel(pygit2.Commit)
    staged = repo.get(index.write_tree(repo))
    assert isinstance(staged, pygit2.Tree)
    before = registry_tree(repo, head, "")
    from armgit.store.tree import GitTree, SourceInfo

    after = GitTree(repo, staged, SourceInfo(str(repo.workdir or repo.path), "", str(staged.id)))
    changed, deleted = changed_paths(before, after)
    parent_view, view = view_of(before, None), view_of(after, None)
    findings = check_touched(view, changed, deleted)
    notes: list[str] = []
    if head is not None:
        touched = classify(changed, deleted)
        result = check_change(parent_view, view, [*touched.ids, *touched.deleted])
        findings += locate(result.findings, after)
        notes = [
            f"{g.request_type} of {g.subject.ref} will need approvals before it can merge"
            for g in result.gates
        ]
    return findings, notes


def commit_index(repo: pygit2.Repository, env: Mapping[str, str]) -> pygit2.Index:
    """The index a commit is being made from: ``git commit -a`` and ``git commit PATH`` stage
    into a temporary index and name it in ``GIT_INDEX_FILE`` (relative to the work tree's top,
    where hooks run, or absolute), leaving ``.git/index`` as it was until the commit is made."""
    path = env.get("GIT_INDEX_FILE")
    return pygit2.Index(os.path.abspath(path)) if path else repo.index


def hook_script(name: str, python: str | None = None) -> str:
    """The script of hook ``name``: it runs ``armgit.hookrun`` with ``$ARMGIT_PYTHON``, else
    ``python`` (default: this installation's interpreter). The repository's ``hooks/`` folder
    holds these scripts made with ``python3``, for installing by hand."""
    default = python if python is not None else sys.executable
    for special in ("\\", '"', "$", "`"):
        default = default.replace(special, "\\" + special)
    return (
        "#!/bin/sh\n"
        f"{HOOK_MARKER}: the {name} hook of an armgit registry (docs/hooks.md)\n"
        "# ARMGIT_PYTHON, when set, names the Python that has armgit installed.\n"
        f'exec "${{ARMGIT_PYTHON:-{default}}}" -P -m armgit.hookrun {name} "$@"\n'
    )


def install_hook(hooks_dir: Path, name: str, *, force: bool) -> Path:
    """Write ``hooks_dir/name`` atomically; refuse to replace a hook armgit did not install."""
    target = hooks_dir / name
    if target.exists() and not force and HOOK_MARKER not in target.read_text(errors="replace"):
        raise StoreError(f"{target} exists and was not installed by armgit: use --force")
    write_atomic(target, hook_script(name).encode())
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target
