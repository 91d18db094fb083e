"""A cache of parsed file contents, keyed by git blob id.

A blob id names its bytes, so a parsed result never goes stale; the cache is also keyed by a
fingerprint of the code that parses (models, YAML reader), so a new armgit never reads an old
result. It lives inside the repository's git directory (``armgit/``) and is rebuilt silently
when missing or unreadable. It holds plain JSON (the data each blob was read as, or its
problems), which is safe to load and, rebuilt into models on use, faster than unpickling models
would be.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # the models load only when an entry is used: ``code_fingerprint`` needs none
    from armgit.core.content import Content

_FORMAT = 3
_BATCH = 900  # SQLite's default limit of bound parameters is 999
_CODE = (
    "core/content.py",
    "core/yamldata.py",
    "core/canonical.py",
    "core/patterns.py",
    "core/models",
)

T = TypeVar("T")
_REMEMBERED = 16  # values kept by ContentCache.remembered, the oldest dropped first

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
    """``blob id -> Content``; a cache without a file (``path=None``) lives in memory only.

    On disk it is an SQLite table (``<git dir>/armgit/content.sqlite``), so a reader that needs
    a few blobs (the server hook, one new commit of the audit) looks up just those, and a whole
    validation reads them in batches. Any database error turns the cache off for the run: a
    cache is never a reason to fail.
    """

    def __init__(self, path: Path | None, known: Mapping[str, Content] | None = None) -> None:
        """``known``: blobs already parsed elsewhere (another cache's :meth:`parsed`), used as
        if this cache had parsed them and not written again."""
        self._path = path
        self._db: sqlite3.Connection | None = None
        self._opened = False
        self._raw: dict[str, Entry] = {}
        self._absent: set[str] = set()  # prefetched and not there: no query for each
        self._pending: dict[str, str] = {}  # oid -> the entry as JSON text
        self._contents: dict[str, Content] = dict(known) if known else {}
        self._derived: dict[str, str] = {}  # key -> JSON text, not yet saved
        self._remembered: dict[str, Any] = {}  # key -> a value built in this process

    def _connection(self) -> sqlite3.Connection | None:
        if self._opened or self._path is None:
            return self._db
        self._opened = True
        for attempt in (1, 2):
            try:
                self._db = _open(self._path, code_fingerprint())
                break
            except sqlite3.Error:
                self._db = None
                if attempt == 1:  # a corrupt file: start afresh once
                    self._path.unlink(missing_ok=True)
            except OSError:
                self._db = None
                break
        return self._db

    def parsed(self) -> Mapping[str, Content]:
        """Every blob this cache holds parsed in memory, by id."""
        return self._contents

    def prefetch(self, oids: Iterable[str]) -> None:
        """Read many entries in a few queries (a whole registry's worth)."""
        db = self._connection()
        wanted = [o for o in oids if o not in self._contents and o not in self._raw]
        if db is None or not wanted:
            return
        found: set[str] = set()
        try:
            for i in range(0, len(wanted), _BATCH):
                batch = wanted[i : i + _BATCH]
                marks = ",".join("?" * len(batch))
                query = f"SELECT oid, entry FROM content WHERE oid IN ({marks})"
                for oid, entry in db.execute(query, batch):
                    self._raw[oid] = json.loads(entry)
                    found.add(oid)
        except (sqlite3.Error, ValueError):
            self._db = None
            return
        self._absent.update(o for o in wanted if o not in found)

    def get(self, oid: str) -> Content | None:
        content = self._contents.get(oid)
        if content is not None:
            return content
        entry = self._raw.pop(oid, None) or self._lookup(oid)
        if entry is None:
            return None
        try:
            content = _from_entry(entry)
        except Exception:  # an entry the models no longer accept: parse the blob again
            return None
        self._contents[oid] = content
        return content

    def peek(self, oid: str) -> Any:
        """The plain data of a blob known to be valid, without building its model (``None``
        when the blob is unknown here or invalid)."""
        content = self._contents.get(oid)
        if content is not None:
            return content.data if content.model is not None else None
        entry = self._raw.get(oid)  # what put() holds is in _contents already
        if entry is None:
            entry = self._lookup(oid)
            if entry is not None:
                self._raw[oid] = entry
        return entry[1] if entry is not None and len(entry) == 2 else None

    def _lookup(self, oid: str) -> Entry | None:
        if oid in self._absent:
            return None
        found: Entry | None = self._select("SELECT entry FROM content WHERE oid = ?", oid)
        return found

    def _select(self, query: str, key: str) -> Any:
        """The JSON value of the one row ``query`` finds for ``key``, or ``None`` (no cache,
        no row, or a broken cache, which is then left alone)."""
        db = self._connection()
        if db is None:
            return None
        try:
            row = db.execute(query, (key,)).fetchone()
            return json.loads(row[0]) if row is not None else None
        except (sqlite3.Error, ValueError):
            self._db = None
            return None

    def put(self, oid: str, content: Content, data_json: str | None = None) -> None:
        """Remember ``content`` (saved by :meth:`save`); ``data_json``, the compact JSON text
        of ``content.data`` if the caller has it, spares encoding it again."""
        self._contents[oid] = content
        self._absent.discard(oid)
        if self._path is not None:
            self._pending[oid] = _entry_text(content, data_json)

    def derived(self, key: str) -> Any:
        """What :meth:`put_derived` kept under ``key`` (plain JSON data), or ``None``. A key
        names what the value was derived from (a directory's tree id, say), so it never goes
        stale; the values go with the entries when the parsing code changes."""
        if key in self._derived:
            return json.loads(self._derived[key])
        return self._select("SELECT data FROM derived WHERE key = ?", key)

    def put_derived(self, key: str, value: Any) -> None:
        """Remember ``value`` (plain JSON data) under ``key``; saved by :meth:`save`."""
        self._derived[key] = json.dumps(value, separators=(",", ":"))

    def remembered(self, key: str, build: Callable[[], T]) -> T:
        """What ``build`` returns, built once per cache object for ``key`` (which, as for
        :meth:`derived`, names what the value comes from) and kept in memory only: the views
        of one push share a cache, and its base and head read the same directories. Only the
        last few keys are kept (a walk over a long history meets thousands)."""
        if key in self._remembered:
            value: T = self._remembered[key]
            return value
        built = self._remembered[key] = build()
        if len(self._remembered) > _REMEMBERED:
            del self._remembered[next(iter(self._remembered))]
        return built

    def save(self) -> None:
        """Write what was parsed; failing to write a cache is never an error."""
        db = self._connection()
        if db is None or not (self._pending or self._derived):
            return
        rows = list(self._pending.items())
        derived = list(self._derived.items())

        def write() -> None:
            db.executemany("INSERT OR REPLACE INTO content VALUES (?, ?)", rows)
            db.executemany("INSERT OR REPLACE INTO derived VALUES (?, ?)", derived)

        try:
            _transaction(db, write)
        except sqlite3.Error:
            return
        self._pending.clear()
        self._derived.clear()


def _open(path: Path, fingerprint: str) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")

    def prepare() -> None:
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS content (oid TEXT PRIMARY KEY, entry TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS derived (key TEXT PRIMARY KEY, data TEXT)")
        row = db.execute("SELECT value FROM meta WHERE key = 'code'").fetchone()
        if row is None or row[0] != fingerprint:  # parsed by other code: start afresh
            db.execute("DELETE FROM content")
            db.execute("DELETE FROM derived")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('code', ?)", (fingerprint,))

    _transaction(db, prepare)
    return db


def _transaction(db: sqlite3.Connection, work: Callable[[], object]) -> None:
    """Run ``work`` in one explicit transaction (autocommit mode would commit every row)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        work()
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _to_entry(content: Content) -> Entry:
    if content.model is not None:
        return [content.kind, content.data]
    problems = [[p.rule, p.pointer, p.line, p.message] for p in content.problems]
    return [content.kind, None, problems]


def _entry_text(content: Content, data_json: str | None) -> str:
    if content.model is not None and data_json is not None:
        return f"[{json.dumps(content.kind)},{data_json}]"
    return json.dumps(_to_entry(content), separators=(",", ":"))


def _from_entry(entry: Entry) -> Content:
    from armgit.core.content import Content, Problem, content_from_data

    kind = entry[0]
    if len(entry) == 2:
        return content_from_data(kind, entry[1])
    problems = tuple(Problem(r, p, line, m) for r, p, line, m in entry[2])
    return Content(kind, None, problems)


def cache_path(git_dir: Path | None) -> Path | None:
    if git_dir is None or os.environ.get("ARMGIT_NO_CACHE"):
        return None
    return git_dir / "armgit" / "content.sqlite"
