"""The runtime's state directory: rollback floors, the current index, the chain of roots.

Several processes may share one state directory (workers of one agent host). So:

- every change happens under an exclusive ``fcntl`` lock on ``lock`` (:meth:`StateDir.locked`),
  and the floors are re-read under it: a process that verified an index against what it
  remembered checks again against what the others wrote (A at v1, B saves v3: A's v2 is then
  a rollback), and floors are only ever raised, never replaced by a lower one;
- the index and what was accepted are one record: the index bytes go to a file named by their
  digest (``index-<sha256>.json``, never rewritten), then ``state.json`` — floors per registry
  and scope, the current index's file, its ETag — is replaced atomically and names it. A crash
  between the two leaves the old record whole;
- rotated trust roots are kept as ``roots/<version>.json``, each to be accepted only through
  the chain from the pinned root (:meth:`armgit.runtime.trust.TrustRoot.rotate`).

Files from before this layout (``state.json`` with one ``version``/``digest``, ``index.json``,
``root.json``) are read: the single floor becomes the floor of the stored index's scope.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from armgit.runtime.errors import IndexUnavailable
from armgit.runtime.verify import Accepted
from armgit.store.atomic import write_atomic

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: one process per state directory
    fcntl = None  # type: ignore[assignment]

STATE_FILE = "state.json"
LOCK_FILE = "lock"
ROOTS_DIR = "roots"
LEGACY_INDEX = "index.json"
LEGACY_ROOT = "root.json"
ANY_SCOPE = ""  # a floor from the old single-floor state whose scope could not be told


@dataclass(slots=True)
class Record:
    """What ``state.json`` holds: a floor per registry and scope (:func:`scope_key`), the file
    of the current index and the ETag it was fetched with."""

    floors: dict[str, Accepted] = field(default_factory=dict)
    current: str | None = None
    etag: str | None = None
    stamp: str | None = None  # the file of the last accepted freshness record, if any

    def floor(self, key: str) -> Accepted | None:
        """The floor of ``key``: its own, or the legacy one when that is higher."""
        own = self.floors.get(key)
        legacy = self.floors.get(ANY_SCOPE)
        if own is None or (legacy is not None and legacy.version > own.version):
            return legacy
        return own

    def raise_floor(self, key: str, accepted: Accepted) -> None:
        """Set ``key``'s floor to ``accepted`` unless it is already higher."""
        own = self.floors.get(key)
        if own is None or accepted.version >= own.version:
            self.floors[key] = accepted

    def merge(self, other: Record) -> None:
        """Keep, per key, the higher of the two floors."""
        for key, accepted in other.floors.items():
            self.raise_floor(key, accepted)


def index_file_name(digest: str) -> str:
    return "index-" + digest.removeprefix("sha256:") + ".json"


class StateDir:
    """A runtime's state directory (created if missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory's exclusive lock (shared by every process using it)."""
        if fcntl is None:  # pragma: no cover
            yield
            return
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def read(self) -> Record:
        """``state.json`` (an empty record when there is none); damage is an error."""
        path = self.path / STATE_FILE
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return Record()
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"{path} is damaged: {exc}") from exc
        try:
            if "floors" not in data:  # the single-floor format
                accepted = Accepted(int(data["version"]), str(data["digest"]))
                return Record({ANY_SCOPE: accepted}, None, data.get("etag"))
            floors = {
                str(k): Accepted(int(v["version"]), str(v["digest"]))
                for k, v in data["floors"].items()
            }
            current = data.get("current")
            etag = data.get("etag")
            stamp = data.get("timestamp")
            return Record(
                floors,
                str(current) if current is not None else None,
                str(etag) if etag is not None else None,
                str(stamp) if stamp is not None else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IndexUnavailable(f"{path} is damaged: {exc}") from exc

    def current_bytes(self, record: Record) -> bytes | None:
        """The bytes of the record's current index (or of the old layout's ``index.json``)."""
        return self._file(record.current if record.current is not None else LEGACY_INDEX)

    def stamp_bytes(self, record: Record) -> bytes | None:
        """The bytes of the record's freshness record, if it has one."""
        return self._file(record.stamp) if record.stamp is not None else None

    def _file(self, name: str) -> bytes | None:
        if "/" in name or name.startswith("."):
            return None
        try:
            return (self.path / name).read_bytes()
        except OSError:
            return None

    def write(
        self,
        record: Record,
        index: bytes | None,
        digest: str | None,
        stamp: bytes | None = None,
    ) -> None:
        """Make ``index`` (its payload digest ``digest``; ``None``: keep the current one) and
        ``stamp`` (a freshness record) current and save ``record`` naming them: the files
        first, then ``state.json`` atomically. Call under :meth:`locked`."""
        if digest is not None:
            name = index_file_name(digest)
            target = self.path / name
            if index is not None and not target.is_file():
                write_atomic(target, index)
            record.current = name
        if stamp is not None:
            record.stamp = "timestamp-" + hashlib.sha256(stamp).hexdigest() + ".json"
            write_atomic(self.path / record.stamp, stamp)
        state = {
            "format": 2,
            "floors": {
                k: {"version": a.version, "digest": a.digest}
                for k, a in sorted(record.floors.items())
            },
            "current": record.current,
            "etag": record.etag,
            "timestamp": record.stamp,
        }
        write_atomic(self.path / STATE_FILE, json.dumps(state, indent=1).encode())
        keep = {record.current, record.stamp}
        for old in [*self.path.glob("index*.json"), *self.path.glob("timestamp-*.json")]:
            if old.name not in keep:
                with contextlib.suppress(OSError):
                    old.unlink()

    def roots(self, after: int) -> Iterator[bytes]:
        """The stored roots of versions ``after + 1``, ``after + 2``, ... while they exist
        (the old layout's ``root.json`` stands for one of them)."""
        legacy = self.path / LEGACY_ROOT
        version = after + 1
        while True:
            path = self.path / ROOTS_DIR / f"{version}.json"
            if path.is_file():
                yield path.read_bytes()
            elif legacy.is_file():
                yield legacy.read_bytes()  # accepted only if it is exactly the next one
                return
            else:
                return
            version += 1

    def save_root(self, version: int, data: bytes) -> None:
        write_atomic(self.path / ROOTS_DIR / f"{version}.json", data)
