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

A compile that succeeded also leaves a manifest, keyed by the path it was asked for and the
object its revision named: the ids above, so the next compile of the same commit finds its
fragments without opening the repository with libgit2 (:mod:`armgit.store.refs` reads the ref).
Only a valid tree is compiled, so a manifest also stands for the verdict on its tree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from armgit.store.atomic import write_atomic

_FORMAT = 1
_MAGIC = b"armgit-compiled %d " % _FORMAT
KEEP = 64  # entries kept at least; more when one registry has more tenants


@cache
def builder_fingerprint() -> str:
    """A digest of every source file of the pure core (the builder, models, rules, policy, JCS)
    and of the loader: what a fragment, and a manifest's claim that a tree is valid, rest on."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(b"compiled %d\n" % _FORMAT)
    for file in [*sorted((package / "core").rglob("*.py")), package / "registry" / "loader.py"]:
        digest.update(file.relative_to(package).as_posix().encode() + b"\n")
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


def registry_signers_key(registry_blob: str) -> str:
    """The cache key of armgit.yaml's ``indexSigners`` (canonical JSON: threshold and the
    OpenSSH public key lines)."""
    text = f"signers\n{registry_blob}\n{builder_fingerprint()}"
    return hashlib.sha256(text.encode()).hexdigest()


def manifest_key(root: str, oid: str) -> str:
    """The cache key of what a compile of ``root`` at object ``oid`` (a commit or a tag) read
    of git: commit, tree, prefix, location, armgit.yaml's blob id and each tenant's tree id."""
    text = f"manifest\n{root}\n{oid}\n{builder_fingerprint()}"
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a compile needs of git, for a tree it compiled (so the tree was valid)."""

    commit: str
    tree: str
    location: str
    registry_blob: str
    tenants: dict[str, str]

    def to_bytes(self) -> bytes:
        data = {
            "commit": self.commit,
            "tree": self.tree,
            "location": self.location,
            "registry": self.registry_blob,
            "tenants": self.tenants,
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def parse_manifest(body: bytes) -> Manifest | None:
    try:
        data = json.loads(body)
        manifest = Manifest(
            data["commit"], data["tree"], data["location"], data["registry"], data["tenants"]
        )
    except (ValueError, KeyError, TypeError):
        return None
    fields = (manifest.commit, manifest.tree, manifest.location, manifest.registry_blob)
    if not all(isinstance(f, str) for f in fields) or not isinstance(manifest.tenants, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in manifest.tenants.items()):
        return None
    return manifest


class FragmentCache:
    """Canonical fragments by key; in memory only when ``path`` is ``None``."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._memory: dict[str, bytes] = {}
        self._pending: dict[str, bytes] = {}
        self._used: set[str] = set()

    def has_no_file(self) -> bool:
        return self._path is None

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
