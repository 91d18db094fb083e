"""The audit cache file: each commit's records as the JSON Lines ``armgit audit`` prints.

Lean on purpose (standard library only): when every commit is cached, ``armgit audit`` reads
this file and writes the records out without importing the models, pygit2 or the derivation.

Layout: a header line naming the format and a fingerprint of the code that derives records, then
one block per commit, in the order commits were added::

    <crc32 hex> <commit> <parent or -> <time or -> <records> <bytes>\\n<bytes of JSON Lines>

The CRC-32 covers the rest of the block (header line and records). New blocks are appended in
one ``write``; a torn or garbled block fails its check and only that commit is derived again; a
file that needs repair is rewritten atomically. A cache that cannot be read or written is never
an error.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

from armgit.store.atomic import write_atomic

FORMAT = 2
_CODE = (
    "audit.py",
    "auditlog.py",
    "auditwalk.py",
    "core/audit.py",
    "core/content.py",
    "core/yamldata.py",
    "core/layout.py",
    "core/access.py",
    "core/models",
)


@dataclass(frozen=True, slots=True)
class Block:
    """One commit's cached records: ``lines`` is a slice of the file's bytes (JSON Lines)."""

    commit: str
    parent: str
    time: str
    count: int
    lines: memoryview


def code_fingerprint() -> str:
    """A digest of the source files the cached records depend on."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(str(FORMAT).encode())
    for name in _CODE:
        target = package / name
        for file in sorted(target.glob("*.py")) if target.is_dir() else [target]:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:32]


def cache_file(cache_dir: Path, prefix: str) -> Path:
    """The file of the registry at ``prefix`` (one per registry directory in a repository)."""
    if not prefix:
        return cache_dir / f"records-v{FORMAT}.log"
    return cache_dir / f"records-v{FORMAT}-{zlib.crc32(prefix.encode()):08x}.log"


def encode_block(commit: str, parent: str, time: str, lines: bytes, count: int) -> bytes:
    fields = b"%s %s %s %d %d" % (
        commit.encode(),
        (parent or "-").encode(),
        (time or "-").encode(),
        count,
        len(lines),
    )
    framed = b"%s\n%s" % (fields, lines)
    return b"%08x %s" % (zlib.crc32(framed), framed)


class RecordLog:
    """``commit id -> Block``, read from and appended to one cache file (``None``: memory)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._header = b"armgit-audit %d %s\n" % (FORMAT, code_fingerprint().encode())
        self.blocks: dict[str, Block] = {}
        self._new: list[bytes] = []
        self._rewrite = False
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError:
            self._rewrite = True
            return
        if not data.startswith(self._header):
            self._rewrite = True
            return
        view = memoryview(data)
        pos, end = len(self._header), len(data)
        while pos < end:
            newline = data.find(b"\n", pos, pos + 256)
            block = _block(data, view, pos, newline) if newline > 0 else None
            if block is None:
                self._rewrite = True  # the rest cannot be framed: those commits are derived again
                return
            self.blocks[block[0].commit] = block[0]
            pos = block[1]

    def parent_of(self, commit: str) -> str | None:
        """The commit's first parent ("" for a root) if the cache knows the commit."""
        block = self.blocks.get(commit)
        return block.parent if block is not None else None

    def chain(self, head: str) -> list[Block] | None:
        """The cached blocks from the root to ``head``, or ``None`` if one is missing."""
        blocks = []
        commit = head
        while commit:
            block = self.blocks.get(commit)
            if block is None:
                return None
            blocks.append(block)
            commit = block.parent
        blocks.reverse()
        return blocks

    def add(self, commit: str, parent: str, time: str, lines: bytes, count: int) -> None:
        raw = encode_block(commit, parent, time, lines, count)
        body = memoryview(raw)[len(raw) - len(lines) :]
        self.blocks[commit] = Block(commit, parent, time, count, body)
        self._new.append(raw)

    def save(self) -> None:
        if self._path is None or not (self._new or self._rewrite):
            return
        try:
            if self._rewrite:
                parts = [self._header]
                for b in self.blocks.values():
                    parts.append(encode_block(b.commit, b.parent, b.time, bytes(b.lines), b.count))
                write_atomic(self._path, b"".join(parts))
            else:
                with self._path.open("ab") as handle:
                    handle.write(b"".join(self._new))
        except OSError:
            return
        self._new = []
        self._rewrite = False


def _block(data: bytes, view: memoryview, pos: int, newline: int) -> tuple[Block, int] | None:
    head = data[pos:newline].split(b" ")
    if len(head) != 6 or len(head[0]) != 8:
        return None
    try:
        crc, count, size = int(head[0], 16), int(head[4]), int(head[5])
    except ValueError:
        return None
    start = newline + 1
    stop = start + size
    if stop > len(data) or (size and data[stop - 1] != 0x0A):
        return None
    if zlib.crc32(view[pos + 9 : stop]) != crc:
        return None
    lines = view[start:stop]
    try:
        commit, parent, time = (x.decode("ascii") for x in head[1:4])
    except UnicodeDecodeError:
        return None
    block = Block(
        commit, "" if parent == "-" else parent, "" if time == "-" else time, count, lines
    )
    return block, stop
