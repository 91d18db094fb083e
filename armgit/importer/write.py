"""Writing an import's planned commits on its branch (I/O: pygit2 objects and one ref).

Commits are built from the base's tree with only the changed directories rewritten, with fixed
author, committer and times, so the same export and options on the same base give the same
commit ids. The branch ref moves every few hundred commits, so an interrupted import is
continued by running it again: the rerun plans the same commits and moves the branch on from
where it stopped. A protected branch (the settings branch's ``armgit.yaml``), the checked-out
branch, and a branch holding commits the import did not make are refused. Neither the work
tree nor the index is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pygit2

from armgit.core.importmark import import_mark
from armgit.enforce.protection import registry_at, settings_branch
from armgit.errors import UsageError
from armgit.importer.history import PlannedCommit

_BLOB = pygit2.enums.FileMode.BLOB
_TREE = pygit2.enums.FileMode.TREE
_STEP = 500  # commits between moves of the branch ref


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
    progress: Callable[[int, int], None] | None = None,
) -> WriteResult:
    """Create the plan's commits on ``base`` and move ``branch`` to the last one."""
    result = WriteResult(branch, str(base.id))
    trees = _Trees(repo, base.tree.id)
    parent = base.id
    ids: list[pygit2.Oid] = []
    for planned in plan:
        for path, data in planned.changes.items():
            trees.put(prefix + path, repo.create_blob(data))
        tree = trees.write()
        seconds = int(planned.time // 1000)
        author = pygit2.Signature(planned.author[0], planned.author[1], seconds, 0)
        parent = repo.create_commit(None, author, author, planned.message, tree, [parent])
        ids.append(parent)
    result.commits = [str(i) for i in ids]
    start = 0
    if old_tip is not None:
        if old_tip not in result.commits:
            raise ImportRefused(
                f"branch {branch!r} holds import commits this export and these options do not "
                "make (a different export, --source or --names, or commits added by hand): "
                "import into a new --branch"
            )
        start = result.commits.index(old_tip) + 1
    current = old_tip
    for index in range(start, len(ids)):
        if (index + 1 - start) % _STEP == 0 or index == len(ids) - 1:
            current = _move(repo, branch, ids[index], current)
            if progress is not None:
                progress(index + 1, len(ids))
    result.written = len(ids) - start
    result.tip = result.commits[-1] if result.commits else str(base.id)
    return result


def _move(repo: pygit2.Repository, branch: str, target: pygit2.Oid, old: str | None) -> str:
    name = f"refs/heads/{branch}"
    ref = repo.references.get(name)
    now = str(ref.target) if ref is not None else None
    if now != old:
        raise ImportRefused(f"branch {branch!r} moved while importing: run the import again")
    repo.references.create(name, target, force=True)
    return str(target)


class _Trees:
    """A tree under construction: directories read from the base when first touched, and only
    the ones changed since the last write rewritten."""

    def __init__(self, repo: pygit2.Repository, root: pygit2.Oid) -> None:
        self.repo = repo
        self.dirs: dict[str, dict[str, tuple[pygit2.Oid, int]]] = {}
        self.oids: dict[str, pygit2.Oid | None] = {"": root}
        self.dirty: set[str] = set()

    def _load(self, directory: str) -> dict[str, tuple[pygit2.Oid, int]]:
        entries = self.dirs.get(directory)
        if entries is None:
            entries = {}
            oid = self.oids.get(directory)
            if oid is not None:
                tree = self.repo[oid]
                assert isinstance(tree, pygit2.Tree)
                for item in tree:
                    entries[str(item.name)] = (item.id, int(item.filemode))
            self.dirs[directory] = entries
        return entries

    def put(self, path: str, blob: pygit2.Oid) -> None:
        parts = path.split("/")
        directory = ""
        for part in parts[:-1]:
            entries = self._load(directory)
            child = f"{directory}/{part}" if directory else part
            if child not in self.oids:
                existing = entries.get(part)
                if existing is not None and existing[1] != _TREE:
                    raise ImportRefused(
                        f"{child} is a file in the base, where the import needs a folder"
                    )
                self.oids[child] = existing[0] if existing is not None else None
            self.dirty.add(directory)
            directory = child
        self._load(directory)[parts[-1]] = (blob, _BLOB)
        self.dirty.add(directory)

    def write(self) -> pygit2.Oid:
        for directory in sorted(self.dirty, key=lambda d: -d.count("/") if d else 1):
            builder = self.repo.TreeBuilder()
            for name, (oid, mode) in sorted(self._load(directory).items()):
                builder.insert(name, oid, mode)
            oid = builder.write()
            self.oids[directory] = oid
            if directory:
                parent, _, name = directory.rpartition("/")
                self._load(parent)[name] = (oid, _TREE)
        self.dirty.clear()
        root = self.oids[""]
        assert root is not None
        return root
