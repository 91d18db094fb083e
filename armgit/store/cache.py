"""A cache of parsed file contents, keyed by git blob id.

A blob id names its bytes, so a parsed result never goes stale; the cache is also keyed by a
fingerprint of the code that parses (models, YAML reader), so a new armgit never reads an old
result. It lives inside the repository's git directory (``armgit/``), is written atomically and is
rebuilt silently when missing or unreadable. Only the repository's owner can write there, which is
why a pickle is acceptable: it holds validated models, loaded twice as fast as re-validating them.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from armgit.core.content import Content

_FORMAT = 1
_CODE = ("core/content.py", "core/yamldata.py", "core/models")


def code_fingerprint() -> str:
    """A digest of the source files whose behaviour the cached results depend on."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(str(_FORMAT).encode())
    for name in _CODE:
        target = package / name
        files = sorted(target.glob("*.py")) if target.is_dir() else [target]
        for file in files:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


class ContentCache:
    """``blob id -> Content``; a cache without a file (``path=None``) lives in memory only."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._fingerprint = code_fingerprint() if path is not None else ""
        self._entries: dict[str, Content] = {}
        self._dirty = False
        if path is not None:
            self._entries = self._load(path)

    def _load(self, path: Path) -> dict[str, Content]:
        try:
            with path.open("rb") as handle:
                fingerprint, entries = pickle.load(handle)
        except Exception:  # a missing or corrupt cache is rebuilt, whatever was wrong with it
            return {}
        if fingerprint != self._fingerprint or not isinstance(entries, dict):
            return {}
        return entries

    def get(self, oid: str) -> Content | None:
        return self._entries.get(oid)

    def put(self, oid: str, content: Content) -> None:
        self._entries[oid] = content
        self._dirty = True

    def save(self) -> None:
        """Write the cache atomically; failing to write a cache is never an error."""
        if self._path is None or not self._dirty:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".content-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump((self._fingerprint, self._entries), handle, protocol=5)
                os.replace(tmp, self._path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            return
        self._dirty = False


def cache_path(git_dir: Path | None) -> Path | None:
    if git_dir is None or os.environ.get("ARMGIT_NO_CACHE"):
        return None
    return git_dir / "armgit" / "content-v1.pickle"
