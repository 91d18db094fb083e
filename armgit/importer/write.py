"""Writing an import's planned commits on its branch (I/O: pygit2 objects and one ref).

Commits are written in one ``git fast-import`` pack (:mod:`armgit.store.fastimport`) with fixed
author, committer and times, so the same export and options on the same base give the same
commit ids; the branch moves once they are all written. A rerun plans the same commits and
moves the branch on from wherever it stands among them (an earlier, shorter export's import,
or a branch reset by hand); it never rewrites what is there. A protected branch (the settings
branch's ``armgit.yaml``), the checked-out branch, and a branch holding commits the import did
not make are refused. Neither the work tree nor the index is touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pygit2

from armgit.core.importmark import import_mark
from armgit.enforce.protection import registry_at, settings_branch
from armgit.errors import UsageError
from armgit.importer.history import PlannedCommit
from armgit.store.fastimport import NewCommit
from armgit.store.fastimport import write_commits as fast_import


class ImportRefused(UsageError):
    """The import cannot be written where it was asked to go."""


@dataclass
class WriteResult:
    branch: str
    base: str
    commits: list[str] = field(default_factory=list)
    written: int = 0  # commits the branch moved over in this run
    tip: str = ""


def base_of(repo: pygit2.Repository, branch: str) -> tuple[pygit2.Commit, str | None]:
    """The commit an import onto ``branch`` grows from, and the branch's current tip: below the
    branch's own import commits when it exists, else ``HEAD``."""
    ref = repo.references.get(f"refs/heads/{branch}")
    if ref is None:
        try:
            head = repo.head.peel(pygit2.Commit)
        except (pygit2.GitError, KeyError) as exc:
            raise ImportRefused(
                "the repository has no commit to start from: create the registry first "
                "(armgit init), then import into it"
            ) from exc
        return head, None
    tip = ref.peel(pygit2.Commit)
    commit = tip
    while import_mark(commit.message) is not None and commit.parents:
        commit = commit.parents[0]
    if commit.id == tip.id:
        raise ImportRefused(
            f"branch {branch!r} exists and was not made by armgit import: choose another --branch"
        )
    return commit, str(tip.id)


def check_branch(repo: pygit2.Repository, branch: str) -> None:
    """Refuse protected and checked-out branches."""
    if not pygit2.reference_is_valid_name(f"refs/heads/{branch}"):
        raise ImportRefused(f"{branch!r} is not a valid branch name")
    settings = settings_branch(repo)
    protected = {settings}
    ref = repo.references.get(f"refs/heads/{settings}")
    if ref is not None:
        registry = registry_at(repo, str(ref.peel(pygit2.Commit).id))
        protected.update(registry.protected_branches if registry is not None else ("main",))
    if branch in protected:
        raise ImportRefused(
            f"{branch!r} is a protected branch: an import goes on a branch of its own, merged "
            "by a pull request"
        )
    if not repo.is_bare and not repo.head_is_unborn and repo.head.name == f"refs/heads/{branch}":
        raise ImportRefused(f"{branch!r} is checked out: import into another branch")


def conflicts(base: pygit2.Commit, paths: list[str], prefix: str) -> list[str]:
    """The tenants the import writes that the base already has."""
    tenants = sorted({p.split("/")[1] for p in paths if p.startswith("tenants/")})
    found = []
    for tenant in tenants:
        try:
            base.tree[f"{prefix}tenants/{tenant}"]
        except KeyError:
            continue
        found.append(tenant)
    return found


def write_commits(
    repo: pygit2.Repository,
    base: pygit2.Commit,
    plan: list[PlannedCommit],
    branch: str,
    old_tip: str | None,
    *,
    prefix: str = "",
) -> WriteResult:
    """Create the plan's commits on ``base`` and move ``branch`` to the last one (from
    ``old_tip``, which must be one of them: a rerun continues, it never rewrites)."""
    result = WriteResult(branch, str(base.id))
    commits = [
        NewCommit(
            c.author,
            int(c.time // 1000),
            c.message,
            {prefix + path: data for path, data in c.changes.items()},
        )
        for c in plan
    ]
    result.commits = fast_import(repo.path, str(base.id), commits)
    start = 0
    if old_tip is not None:
        if old_tip not in result.commits:
            raise ImportRefused(
                f"branch {branch!r} holds import commits this export and these options do not "
                "make (a different export, --source or --names, or commits added by hand): "
                "import into a new --branch"
            )
        start = result.commits.index(old_tip) + 1
    result.tip = result.commits[-1] if result.commits else str(base.id)
    result.written = len(result.commits) - start
    if result.written:
        _move(repo, branch, pygit2.Oid(hex=result.tip), old_tip)
    return result


def _move(repo: pygit2.Repository, branch: str, target: pygit2.Oid, old: str | None) -> None:
    name = f"refs/heads/{branch}"
    ref = repo.references.get(name)
    now = str(ref.target) if ref is not None else None
    if now != old:
        raise ImportRefused(f"branch {branch!r} moved while importing: run the import again")
    repo.references.create(name, target, force=True)
