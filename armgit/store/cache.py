"""A cache of parsed file contents, keyed by git blob id.

A blob id names its bytes, so a parsed result never goes stale; the cache is also keyed by a
fingerprint of the code that parses (models, YAML reader), so a new armgit never reads an old
result. It lives inside the repository's git directory (``armgit/``), is written atomically and is
rebuilt silently when missing or unreadable. It holds plain JSON (the data each blob was read as,
or its problems), which is safe to load and, rebuilt into models on use, faster than unpickling
models would be.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from armgit.core.content import Content, Problem, content_from_data
from armgit.store.atomic import write_atomic

_FORMAT = 2
_CODE = ("core/content.py", "core/yamldata.py", "core/canonical.py", "core/models")

# a cached entry: [kind, data] for a valid blob, or [kind, null, [[rule, pointer, line, msg]...]]
Entry = list[Any]


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
        self._entries: dict[str, Entry] = {}
        self._contents: dict[str, Content] = {}
        self._dirty = False
        if path is not None:
            self._entries = self._load(path)

    def _load(self, path: Path) -> dict[str, Entry]:
        try:
            fingerprint, entries = json.loads(path.read_bytes())
        except Exception:  # a missing or corrupt cache is rebuilt, whatever was wrong with it
            return {}
        if fingerprint != self._fingerprint or not isinstance(entries, dict):
            return {}
        return entries

    def __len__(self) -> int:
        return len(self._entries) + len(self._contents.keys() - self._entries.keys())

    def get(self, oid: str) -> Content | None:
        content = self._contents.get(oid)
        if content is not None:
            return content
        entry = self._entries.get(oid)
        if entry is None:
            return None
        try:
            content = _from_entry(entry)
        except Exception:  # an entry the models no longer accept: parse the blob again
            return None
        self._contents[oid] = content
        return content

    def put(self, oid: str, content: Content) -> None:
        self._contents[oid] = content
        if self._path is not None:
            self._entries[oid] = _to_entry(content)
            self._dirty = True

    def save(self) -> None:
        """Write the cache atomically; failing to write a cache is never an error."""
        if self._path is None or not self._dirty:
            return
        try:
            data = json.dumps([self._fingerprint, self._entries], separators=(",", ":"))
            write_atomic(self._path, data.encode())
        except (OSError, ValueError):
            return
        self._dirty = False


def _to_entry(content: Content) -> Entry:
    if content.model is not None:
        return [content.kind, content.data]
    problems = [[p.rule, p.pointer, p.line, p.message] for p in content.problems]
    return [content.kind, None, problems]


def _from_entry(entry: Entry) -> Content:
    kind = entry[0]
    if len(entry) == 2:
        return content_from_data(kind, entry[1])
    problems = tuple(Problem(r, p, line, m) for r, p, line, m in entry[2])
    return Content(kind, None, problems)


def cache_path(git_dir: Path | None) -> Path | None:
    if git_dir is None or os.environ.get("ARMGIT_NO_CACHE"):
        return None
    return git_dir / "armgit" / "content-v2.json"
