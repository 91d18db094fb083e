"""Compiled index fragments, cached by what they were built from.

A tenant's part of the index is a pure function of the tenant's files, armgit.yaml and the code
that builds it, so its key is the git id of the tenant's directory, the blob id of armgit.yaml and
a fingerprint of that code (every source file of ``armgit/core`` and a format number): a hit never
goes stale, and a compile after a change in one tenant rebuilds that tenant only. The registry's
name (the one field of armgit.yaml the payload holds) is cached the same way, by blob id.

Each entry is the fragment's RFC 8785 bytes behind a header with their SHA-256, in
``<git dir>/armgit/compile/<key>``, written atomically; an entry whose bytes do not match is
ignored and rebuilt (the payload is signed: a damaged cache must never reach a signature). The
least recently used entries beyond a few full registries' worth are pruned.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pygit2

from armgit.core.layout import REGISTRY_FILE, TENANTS_DIR
from armgit.store.atomic import write_atomic
from armgit.store.tree import REGULAR_MODES, FileEntry, GitTree, RegistryTree, git_dir_for

_FORMAT = 1
_MAGIC = b"armgit-compiled %d " % _FORMAT
KEEP = 64  # entries kept at least; more when one registry has more tenants
TENANT_FILE = "tenant.yaml"


@cache
def builder_fingerprint() -> str:
    """A digest of every source file of the pure core (the builder, models, policy, JCS)."""
    core = Path(__file__).resolve().parent.parent / "core"
    digest = hashlib.sha256(b"compiled %d\n" % _FORMAT)
    for file in sorted(core.rglob("*.py")):
        digest.update(file.relative_to(core).as_posix().encode() + b"\n")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def tenant_key(tenant: str, tenant_tree: str, registry_blob: str) -> str:
    """The cache key of a tenant's fragment."""
    text = f"tenant\n{tenant}\n{tenant_tree}\n{registry_blob}\n{builder_fingerprint()}"
    return hashlib.sha256(text.encode()).hexdigest()


def registry_name_key(registry_blob: str) -> str:
    """The cache key of the registry's name, as canonical JSON."""
    text = f"registry\n{registry_blob}\n{builder_fingerprint()}"
    return hashlib.sha256(text.encode()).hexdigest()


def tenant_trees(tree: RegistryTree, entries: list[FileEntry] | None = None) -> dict[str, str]:
    """Each tenant (a directory of ``tenants/`` holding a regular tenant.yaml) and an id that
    names every byte under it: its git tree id, or for a work tree a digest of its entries."""
    if isinstance(tree, GitTree):
        return _git_tenant_trees(tree)
    digests: dict[str, hashlib._Hash] = {}
    tenants: set[str] = set()
    for entry in entries if entries is not None else tree.entries():
        parts = entry.path.split("/")
        if len(parts) < 3 or parts[0] != TENANTS_DIR:
            continue
        digest = digests.setdefault(parts[1], hashlib.sha256())
        digest.update(f"{entry.mode:o} {entry.oid} {entry.path}\n".encode())
        if len(parts) == 3 and parts[2] == TENANT_FILE and entry.mode in REGULAR_MODES:
            tenants.add(parts[1])
    return {name: digests[name].hexdigest() for name in sorted(tenants)}


def _git_tenant_trees(tree: GitTree) -> dict[str, str]:
    root = tree.raw_tree
    if TENANTS_DIR not in root:
        return {}
    directory = root[TENANTS_DIR]
    if not isinstance(directory, pygit2.Tree):
        return {}
    found: dict[str, str] = {}
    for child in directory:
        if not isinstance(child, pygit2.Tree) or child.name is None or TENANT_FILE not in child:
            continue
        if child[TENANT_FILE].filemode in REGULAR_MODES:
            found[child.name] = str(child.id)
    return dict(sorted(found.items()))


def registry_blob(tree: RegistryTree) -> str:
    """The blob id of armgit.yaml ("" if there is none)."""
    entry = tree.entry(REGISTRY_FILE)
    return entry.oid if entry is not None else ""


def git_dir_of(tree: RegistryTree) -> Path | None:
    return tree.git_dir if isinstance(tree, GitTree) else git_dir_for(tree.source.repo)


class FragmentCache:
    """Canonical fragments by key; in memory only when ``path`` is ``None``."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._memory: dict[str, bytes] = {}
        self._pending: dict[str, bytes] = {}
        self._used: set[str] = set()

    def get(self, key: str) -> bytes | None:
        self._used.add(key)
        known = self._memory.get(key)
        if known is not None or self._path is None:
            return known
        try:
            data = (self._path / key).read_bytes()
        except OSError:
            return None
        body = _unwrap(data)
        if body is not None:
            self._memory[key] = body
        return body

    def put(self, key: str, body: bytes) -> None:
        self._used.add(key)
        self._memory[key] = body
        if self._path is not None:
            self._pending[key] = body

    def save(self) -> None:
        """Write the new entries and prune old ones; failing to is never an error."""
        if self._path is None or not self._pending:
            return
        try:
            for key, body in self._pending.items():
                write_atomic(self._path / key, _wrap(body))
            self._pending.clear()
            for key in self._used:  # in use: the newest, whatever their age
                with contextlib.suppress(FileNotFoundError):
                    os.utime(self._path / key)
            self._prune(max(KEEP, 4 * len(self._used)))
        except OSError:
            return

    def _prune(self, keep: int) -> None:
        assert self._path is not None
        entries = sorted(self._entries(), key=lambda p: p.stat().st_mtime)
        for old in entries[:-keep]:
            old.unlink(missing_ok=True)

    def _entries(self) -> Iterator[Path]:
        assert self._path is not None
        for path in self._path.iterdir():
            if not path.name.startswith("."):
                yield path


def _wrap(body: bytes) -> bytes:
    return _MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def _unwrap(data: bytes) -> bytes | None:
    """The body of an entry, or ``None`` if it is not one this code wrote or is damaged."""
    head, newline, body = data.partition(b"\n")
    if not newline or not head.startswith(_MAGIC):
        return None
    if head[len(_MAGIC) :] != hashlib.sha256(body).hexdigest().encode():
        return None
    return body


def fragment_cache_path(git_dir: Path | None) -> Path | None:
    if git_dir is None or os.environ.get("ARMGIT_NO_CACHE"):
        return None
    return git_dir / "armgit" / "compile"


class TenantsTree(GitTree):
    """A git registry tree that lists only armgit.yaml and the given tenants' files (what their
    fragments are built from), read like the whole tree, in parallel when there are many."""

    def __init__(self, base: GitTree, tenants: list[str]) -> None:
        super().__init__(pygit2.Repository(str(base.git_dir)), base.raw_tree, base.source)
        self._only = [REGISTRY_FILE, *(f"{TENANTS_DIR}/{t}" for t in tenants)]

    def entries(self) -> Iterator[FileEntry]:
        for path in self._only:
            try:
                obj = self.raw_tree[path]
            except KeyError:
                continue
            yield from self._walk(obj, path)
