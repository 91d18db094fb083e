"""Whole-registry validation results, cached by what was validated.

A git tree id names every byte of a registry, so the findings of one tree never change: a second
`armgit validate` of the same commit (or of an unchanged work tree) is a lookup. The key also
holds the code fingerprint, so a new armgit never trusts an old verdict. Stored as small JSON
files in ``<git dir>/armgit/validate/``, written atomically, the oldest pruned.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from armgit.core.findings import Finding
from armgit.store.atomic import write_atomic
from armgit.store.compiled import builder_fingerprint
from armgit.store.tree import FileEntry, GitTree, RegistryTree

KEEP = 32


@dataclass(frozen=True, slots=True)
class CachedResult:
    findings: list[Finding]
    files: int
    entities: int


def registry_key(tree: RegistryTree, entries: list[FileEntry] | None = None) -> str:
    """What names the registry's content: its tree id, or a digest of every path and blob id."""
    # a verdict rests on the rules as much as on the parsing: all of the core and the loader
    digest = hashlib.sha256(builder_fingerprint().encode())
    if isinstance(tree, GitTree):
        digest.update(b"tree " + tree.source.tree.encode())
    else:
        for entry in entries if entries is not None else tree.entries():
            digest.update(f"{entry.mode:o} {entry.oid} {entry.path}\n".encode())
    return digest.hexdigest()


class ResultCache:
    """Validation results by registry key; ``path=None`` disables it."""

    def __init__(self, path: Path | None) -> None:
        self._path = path

    def get(self, key: str) -> CachedResult | None:
        if self._path is None:
            return None
        try:
            data = json.loads((self._path / f"{key}.json").read_bytes())
            findings = [
                Finding(f["rule"], f["path"], f["message"], f["pointer"], f["line"])
                for f in data["findings"]
            ]
            return CachedResult(findings, int(data["files"]), int(data["entities"]))
        except Exception:  # missing or unreadable: validate again
            return None

    def put(self, key: str, result: CachedResult) -> None:
        if self._path is None:
            return
        payload = {
            "files": result.files,
            "entities": result.entities,
            "findings": [f.to_json() for f in result.findings],
        }
        try:
            write_atomic(self._path / f"{key}.json", json.dumps(payload).encode())
            kept = sorted(self._path.glob("*.json"), key=lambda p: p.stat().st_mtime)
            for old in kept[:-KEEP]:
                old.unlink(missing_ok=True)
        except OSError:
            return


def result_cache_path(git_dir: Path | None) -> Path | None:
    if git_dir is None or os.environ.get("ARMGIT_NO_CACHE"):
        return None
    return git_dir / "armgit" / "validate"
