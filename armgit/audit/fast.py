"""``armgit audit`` when every commit is cached: git plumbing and the cache file, nothing more.

No pygit2, no models: the repository and the branch are found with ``git rev-parse`` (and
``git for-each-ref`` for the default branch), the records are the cache's bytes. Anything this
module is unsure of (an unusual environment, a commit not cached, the default branch's
``armgit.yaml`` not seen before) returns ``None`` and the caller takes the full path, which
also gives every error its proper message.

What it pays (benchmarks/RESULTS.md, "What limits the missed goals"): with every commit of the
10,000-commit history cached, ``armgit audit --format json`` takes 70 - 111 ms into
``/dev/null``, where the full path spends ~220 ms on a single uncached commit, most of it
importing pygit2, pydantic and the models.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from armgit.audit.log import Block, RecordLog, cache_file
from armgit.core.refupdates import SHORT_NAME_PLACES
from armgit.store.atomic import write_atomic

# variables under which git and pygit2 might not find the same repository
_GIT_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_NAMESPACE",
)
_BRANCHES = "branches-v1.json"  # armgit.yaml blob id -> protectedBranches
_FIELDS = re.compile(
    rb'\{"type":"((?:[^"\\]|\\.)*)","tenant":"((?:[^"\\]|\\.)*)","target":"((?:[^"\\]|\\.)*)"'
)


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the lean path found: the branch's records, root first (``None`` if not all are
    cached), the cache file it read (for the full path to reuse), and the branch's head commit
    when it could tell which one that is (so the full path need not parse ``armgit.yaml``)."""

    blocks: list[Block] | None = None
    log: RecordLog | None = None
    head: str | None = None


def cached_blocks(repo: str | None, rev: str | None) -> Lookup:
    """The cached records of the branch ``rev`` (default: the protected branch), if all are."""
    if os.environ.get("ARMGIT_NO_CACHE") or any(name in os.environ for name in _GIT_ENV):
        return Lookup()
    root = Path(repo if repo is not None else ".").absolute()
    if not root.is_dir():
        return Lookup()
    found = _git(root, "rev-parse", "--absolute-git-dir", "--is-bare-repository", "--show-prefix")
    if found is None or len(found) != 3:
        return Lookup()
    git_dir = Path(found[0])
    prefix = "" if found[1] == "true" else found[2].rstrip("/")
    head = _head(git_dir, prefix, rev)
    if head is None:
        return Lookup()
    log = RecordLog(cache_file(git_dir / "armgit" / "audit", prefix))
    return Lookup(log.chain(head), log, head)


def _head(git_dir: Path, prefix: str, rev: str | None) -> str | None:
    if rev is not None:
        if _ambiguous(git_dir, rev):
            return None  # the full path refuses it, naming the refs
        found = _git(
            git_dir, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"
        )
        return found[0] if found else None
    registry = f"{prefix}/armgit.yaml" if prefix else "armgit.yaml"
    found = _git(git_dir, "rev-parse", "HEAD^{commit}", f"HEAD:{registry}")
    if found is None or len(found) != 2:
        return None
    head, blob = found
    branches = _known_branches(git_dir).get(blob)
    if branches is None:
        return None
    if not branches:
        return head
    refs = [f"refs/heads/{b}" for b in branches]
    listed = _git(git_dir, "for-each-ref", "--format=%(refname) %(objectname) %(objecttype)", *refs)
    if listed is None:
        return None
    tips = dict(line.split(" ", 1) for line in listed if line)
    for ref in refs:
        if ref in tips:
            oid, kind = tips[ref].split(" ")
            return oid if kind == "commit" else None
    return head


def _known_branches(git_dir: Path) -> dict[str, list[str]]:
    try:
        data = json.loads((git_dir / "armgit" / "audit" / _BRANCHES).read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember_branches(git_dir: Path, blob: str, branches: list[str]) -> None:
    """Remember the ``protectedBranches`` of the ``armgit.yaml`` with blob id ``blob``."""
    if os.environ.get("ARMGIT_NO_CACHE"):
        return
    known = _known_branches(git_dir)
    if known.get(blob) == branches:
        return
    known[blob] = branches
    try:
        write_atomic(git_dir / "armgit" / "audit" / _BRANCHES, json.dumps(known).encode())
    except OSError:
        return


def _ambiguous(git_dir: Path, rev: str) -> bool:
    """Whether more than one ref answers to the short name ``rev`` (a tag ``main`` beside the
    branch): git would pick one with a warning; armgit refuses (store.tree.resolve_commit)."""
    if rev.startswith("refs/") or rev == "HEAD":
        return False
    places = [p.format(rev) for p in SHORT_NAME_PLACES]
    listed = _git(git_dir, "for-each-ref", "--format=%(refname)", *places)
    return listed is None or sum(name in places for name in listed) > 1


def _git(cwd: Path, *args: str) -> list[str] | None:
    # GIT_NO_REPLACE_OBJECTS: read the objects the refs name, never a `git replace` substitute
    env = {**os.environ, "GIT_NO_REPLACE_OBJECTS": "1"}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, env=env)
    except OSError:
        return None
    if done.returncode != 0:
        return None
    try:
        return done.stdout.decode().split("\n")[:-1]
    except UnicodeDecodeError:
        return None


def select(
    blocks: Iterable[Block],
    *,
    tenant: str | None = None,
    target: str | None = None,
    types: Iterable[str] = (),
    since: str | None = None,
    until: str | None = None,
) -> Iterator[bytes | memoryview]:
    """The JSON Lines of the records matching every filter given (``since``/``until``: RFC
    3339 UTC, inclusive), without decoding them: the fields filtered on come first in each
    line, written by the same encoder as the values compared with them."""
    wanted = {_escaped(t) for t in types}
    want_tenant = _escaped(tenant) if tenant is not None else None
    want_target = _escaped(target) if target is not None else None
    fields = bool(wanted) or want_tenant is not None or want_target is not None
    for block in blocks:
        if not block.count:
            continue
        if (since is not None and block.time < since) or (until is not None and block.time > until):
            continue
        if not fields:
            yield block.lines
            continue
        for line in bytes(block.lines).splitlines(keepends=True):
            match = _FIELDS.match(line)
            if match is None:
                continue
            kind, owner, about = match.groups()
            if (
                (not wanted or kind in wanted)
                and (want_tenant is None or owner == want_tenant)
                and (want_target is None or about == want_target)
            ):
                yield line


def _escaped(text: str) -> bytes:
    return json.dumps(text, ensure_ascii=False)[1:-1].encode()


def write_all(fd: int, chunks: Iterable[bytes | memoryview]) -> None:
    """Write every chunk to ``fd`` in order, many at a time (``writev``), without joining them."""
    batch: list[bytes | memoryview] = []
    for chunk in chunks:
        if len(chunk):
            batch.append(chunk)
        if len(batch) >= 512:
            _writev(fd, batch)
            batch = []
    _writev(fd, batch)


def _writev(fd: int, batch: list[bytes | memoryview]) -> None:
    writev = getattr(os, "writev", None)
    while batch:
        written = os.write(fd, batch[0]) if writev is None else writev(fd, batch)
        while batch and written >= len(batch[0]):  # drop what was written, keep the rest
            written -= len(batch[0])
            batch = batch[1:]
        if batch and written:
            batch[0] = memoryview(batch[0])[written:]
