"""Generate a valid synthetic registry of any size, as a git repository or a plain directory.

    python benchmarks/generate.py OUT_DIR --tenants 10 --templates 100 \\
        --versions-per-template 10 --seed 1 [--history N] [--bare | --plain]

Deterministic: the same arguments give the same files and the same commit ids (author,
committer and times are fixed). Objects are serialized here (trees, commits) and appended to one
packfile (benchmarks/packfile.py), rebuilding only the trees a commit changes; one
``git repack -adf`` at the end delta-compresses it, as a hosted repository would be. The
repository itself, its refs and the checkout are handled with pygit2.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pygit2

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the local armgit and benchmarks importable
    sys.path.insert(0, str(ROOT))

from benchmarks.fleet import BASE_TIME, STEP_SECONDS, Fleet, Step, plan_commits  # noqa: E402
from benchmarks.packfile import BLOB, COMMIT, TREE, PackWriter, commit_bytes  # noqa: E402

BRANCH = "main"
# bumped whenever the same arguments would give a different registry (fixtures are keyed by it)
GENERATOR_VERSION = 4
# a commit message lists at most this many of its changes: a one-commit registry of 10,000
# versions once had a 4.5 MB message, which libgit2 (caching commits of up to 4 KiB) re-read
# on every lookup, and no real commit looks like that
MESSAGE_LINES = 50


@dataclass(frozen=True, slots=True)
class Options:
    """What to generate. ``history`` is the number of commits (1 or less: a single commit)."""

    tenants: int = 10
    templates: int = 100
    versions_per_template: int = 10
    seed: int = 1
    history: int = 0
    policy_edits_per_tenant: int = 20


@dataclass(frozen=True, slots=True)
class Generated:
    """What was written: the head commit (empty for a plain directory) and its size."""

    path: Path
    head: str
    commits: int
    files: int
    versions: int
    seconds: float


@dataclass(slots=True)
class _Dir:
    # name -> subdirectory or blob id; ``raw`` holds each entry as git writes it in a tree
    entries: dict[str, _Dir | bytes] = field(default_factory=dict)
    raw: dict[str, bytes] = field(default_factory=dict)
    oid: bytes | None = None
    order: list[str] | None = None  # names in git's order; None when a name was added


class TreeWriter:
    """A nested tree of blob ids that writes only the directories changed since the last write.

    Trees are serialized here; at thousands of commits ``TreeBuilder`` (which re-checks every
    entry) and loose objects were the generator's bottleneck.
    """

    def __init__(self, pack: PackWriter) -> None:
        self._pack = pack
        self._root = _Dir()

    def put(self, path: str, data: bytes) -> None:
        *dirs, name = path.split("/")
        node = self._root
        node.oid = None
        for part in dirs:
            child = node.entries.get(part)
            if not isinstance(child, _Dir):
                child = node.entries[part] = _Dir()
                node.order = None
            child.oid = None
            node = child
        oid = self._pack.write(BLOB, data)
        if name not in node.entries:
            node.order = None
        node.entries[name] = oid
        node.raw[name] = b"100644 " + name.encode() + b"\0" + oid

    def write(self) -> bytes:
        return self._write(self._root)

    def _write(self, node: _Dir) -> bytes:
        if node.oid is None:
            for name, entry in node.entries.items():
                if isinstance(entry, _Dir) and entry.oid is None:
                    oid = self._write(entry)
                    node.raw[name] = b"40000 " + name.encode() + b"\0" + oid
            if node.order is None:
                # git orders entries by name, a directory's name as if it ended in "/"
                node.order = sorted(
                    node.raw, key=lambda n: n + "/" if isinstance(node.entries[n], _Dir) else n
                )
            node.oid = self._pack.write(TREE, b"".join(node.raw[name] for name in node.order))
        return node.oid


AUTHOR = "Fleet Generator <fleet@example.invalid>"


def commit_time(fleet: Fleet) -> int:
    """The fleet's simulated time, in seconds since the epoch (commits are dated by it)."""
    return int(BASE_TIME.timestamp()) + fleet.seq * STEP_SECONDS


def build_fleet(options: Options, *, approvals: bool = True) -> tuple[Fleet, list[Step]]:
    """The fleet's skeleton and the steps that fill it (not yet applied)."""
    o = options
    fleet = Fleet(o.tenants, o.templates, o.versions_per_template, o.seed, approvals=approvals)
    steps = fleet.schedule(options.policy_edits_per_tenant * options.tenants)
    return fleet, steps


def final_fleet(options: Options, *, approvals: bool = True) -> Fleet:
    """The fleet with every step applied: the registry at the generated head (without
    ``approvals``, every file but the approvals)."""
    fleet, steps = build_fleet(options, approvals=approvals)
    for step in steps:
        fleet.apply(step)
    fleet.take_changed()
    return fleet


def generate(out: Path, options: Options, *, bare: bool = False, plain: bool = False) -> Generated:
    """Write the registry to ``out`` (which must not exist, or be empty)."""
    started = time.perf_counter()
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty")
    fleet, steps = build_fleet(options)
    if plain:
        for step in steps:
            fleet.apply(step)
        for path, data in fleet.files.items():
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return _result(out, "", 0, fleet, started)
    repo = pygit2.init_repository(str(out), bare=bare, initial_head=BRANCH)
    pack = PackWriter(Path(repo.path))
    writer = TreeWriter(pack)
    parents: list[bytes] = []
    commits = max(options.history, 1)
    # the first commit holds the skeleton (registry, tenants, policies, ...) when there is history
    skeleton = 1 if commits > 1 else 0
    steps = _padded(fleet, steps, commits - skeleton)
    chunks = [(0, 0)] * skeleton + plan_commits(steps, commits - skeleton)
    for number, (start, end) in enumerate(chunks):
        lines = [fleet.apply(step) for step in steps[start:end]]
        for path in fleet.take_changed():
            writer.put(path, fleet.files[path])
        message = _message(number, lines, options)
        data = commit_bytes(writer.write(), parents, AUTHOR, commit_time(fleet), message)
        parents = [pack.write(COMMIT, data)]
    pack.finish()
    repo = pygit2.Repository(repo.path)  # sees the new pack
    repo.references.create(f"refs/heads/{BRANCH}", pygit2.Oid(raw=parents[0]), force=True)
    if not bare:
        repo.checkout_head(strategy=pygit2.enums.CheckoutStrategy.FORCE)  # type: ignore[no-untyped-call]
    _repack(out)
    return _result(out, parents[0].hex(), commits, fleet, started)


def commit_change(
    repo: pygit2.Repository, ref: str, files: dict[str, bytes], message: str, when: int
) -> pygit2.Oid:
    """Commit ``files`` (path -> bytes, added or replaced) on top of ``ref`` and move ``ref``."""
    parent = repo.revparse_single(ref).peel(pygit2.Commit)
    tree = _update_tree(repo, parent.tree, files)
    who = pygit2.Signature("Fleet Generator", "fleet@example.invalid", when, 0)
    return repo.create_commit(ref, who, who, message, tree, [parent.id])


def _update_tree(
    repo: pygit2.Repository, tree: pygit2.Tree | None, files: dict[str, bytes]
) -> pygit2.Oid:
    builder = repo.TreeBuilder(tree) if tree is not None else repo.TreeBuilder()
    below: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        head, _, rest = path.partition("/")
        if rest:
            below.setdefault(head, {})[rest] = data
        else:
            builder.insert(head, repo.create_blob(data), pygit2.enums.FileMode.BLOB)
    for name, sub in below.items():
        child = tree[name] if tree is not None and name in tree else None
        subtree = child if isinstance(child, pygit2.Tree) else None
        builder.insert(name, _update_tree(repo, subtree, sub), pygit2.enums.FileMode.TREE)
    return builder.write()


def _padded(fleet: Fleet, steps: list[Step], commits: int) -> list[Step]:
    """Enough steps for ``commits`` non-empty commits: extra policy edit pairs at the end."""
    names = sorted(k for k in fleet.policies if not k.endswith("ceiling"))
    extra: list[Step] = []
    k = 0
    while len(steps) + len(extra) < commits:
        target = names[k % len(names)]
        extra += [Step("policy", arg=target + "|tighten"), Step("policy", arg=target + "|relax")]
        k += 1
    return steps + extra


def _message(number: int, lines: list[str], options: Options) -> str:
    if not lines:
        return (
            f"Registry skeleton: {options.tenants} tenants\n\n"
            "Registry settings, tenants, environments, providers, operators, roles, policies.\n"
        )
    if len(lines) == 1:
        return lines[0] + "\n"
    body = lines[:MESSAGE_LINES]
    if len(lines) > MESSAGE_LINES:
        body.append(f"... and {len(lines) - MESSAGE_LINES} more")
    return f"{len(lines)} changes: {lines[0]}, ...\n\n" + "\n".join(body) + "\n"


def _repack(path: Path) -> None:
    git = shutil.which("git")
    if git is None:  # packing is an optimisation; loose objects are equally valid
        return
    subprocess.run(
        [git, "-C", str(path), "repack", "-adfq"],
        check=True,
        capture_output=True,
        env={"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin"},
    )


def _result(out: Path, head: str, commits: int, fleet: Fleet, started: float) -> Generated:
    versions = sum(len(t.versions) for t in fleet.templates)
    seconds = time.perf_counter() - started
    return Generated(out, head, commits, len(fleet.files), versions, seconds)


def parse_args(argv: list[str] | None) -> tuple[Path, Options, bool, bool]:
    parser = argparse.ArgumentParser(
        prog="generate.py",
        description="Generate a valid synthetic armgit registry as a git repository.",
    )
    parser.add_argument("out", type=Path, help="directory to create (must not exist or be empty)")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--templates", type=int, default=100, help="templates per tenant")
    parser.add_argument("--versions-per-template", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--history", type=int, default=0, help="number of commits (default: one commit)"
    )
    parser.add_argument("--policy-edits", type=int, default=20, help="edit pairs per tenant")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--bare", action="store_true", help="a bare repository (as on a server)")
    kind.add_argument("--plain", action="store_true", help="a plain directory, no git")
    args = parser.parse_args(argv)
    for name in ("tenants", "templates", "versions_per_template"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    options = Options(
        tenants=args.tenants,
        templates=args.templates,
        versions_per_template=args.versions_per_template,
        seed=args.seed,
        history=args.history,
        policy_edits_per_tenant=args.policy_edits,
    )
    return args.out, options, args.bare, args.plain


def main(argv: list[str] | None = None) -> int:
    out, options, bare, plain = parse_args(argv)
    try:
        result = generate(out, options, bare=bare, plain=plain)
    except FileExistsError as exc:
        print(f"generate.py: {exc}", file=sys.stderr)
        return 2
    what = "directory" if plain else "bare repository" if bare else "repository"
    head = f", head {result.head}" if result.head else ""
    print(
        f"{what} {result.path}: {result.versions} versions, {result.files} files, "
        f"{result.commits} commits{head} in {result.seconds:.1f} s "
        f"({datetime.now().astimezone():%H:%M:%S})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
