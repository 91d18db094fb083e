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

Checking every block's CRC means reading the whole file (tens of MB at 10,000 commits), so a
side file (``.idx``) remembers the blocks' places once they were checked, together with the
file's size, inode and change times (like git's index trusts a file's ``stat``): while the file
is unchanged since, it is mapped and its blocks taken from the side file without reading them.
Any other write to the file (a torn append, an edit) changes its ``stat`` and the next run
checks every block again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import mmap
import os
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from armgit.store.atomic import write_atomic

FORMAT = 2
# everything the records rest on: a changed rule or hash must not leave old records trusted
_CODE = (
    "audit",
    "enforce",
    "registry",
    "core",
    "core/models",
    "core/rules",
)


@dataclass(slots=True)  # not frozen: its __init__ is twice as fast, and thousands are made
class Block:
    """One commit's cached records: ``lines`` is a slice of the file's bytes (JSON Lines)."""

    commit: str
    parent: str
    time: str
    count: int
    lines: memoryview


@functools.cache
def code_fingerprint() -> str:
    """A digest of the source files the cached records depend on."""
    package = Path(__file__).resolve().parent.parent
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
        self._index: list[bytes] = []  # the side file's lines for the blocks in the file
        self._end = 0  # where the last checked block of the file ends
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                if self._load_indexed(handle.fileno(), stat):
                    return
                data = _map(handle.fileno(), stat.st_size)
        except OSError:
            self._rewrite = True
            return
        if data[: len(self._header)] != self._header:
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
            self._index.append(_index_line(block[0], newline + 1, block[1]))
            pos = block[1]
        self._end = pos
        self._write_index(stat)

    def _load_indexed(self, fd: int, stat: os.stat_result) -> bool:
        """Take the blocks from the side file if it describes the file as it is now."""
        assert self._path is not None
        try:
            index = _index_path(self._path).read_bytes()
        except OSError:
            return False
        head, _, body = index.partition(b"\n")
        fields = head.split(b" ")
        if len(fields) != 4 or fields[:2] != [b"armgit-audit-index", b"1"]:
            return False
        if fields[2] != _stamp(stat, self._header) or fields[3] != b"%08x" % zlib.crc32(body):
            return False
        data = _map(fd, stat.st_size)
        if data[: len(self._header)] != self._header:
            return False
        view = memoryview(data)
        blocks: dict[str, Block] = {}
        try:
            for line in body.decode("ascii").splitlines():
                commit, parent, time, count, start, stop = line.split(" ")
                blocks[commit] = Block(
                    commit,
                    "" if parent == "-" else parent,
                    "" if time == "-" else time,
                    int(count),
                    view[int(start) : int(stop)],
                )
        except (ValueError, UnicodeDecodeError):
            return False
        self.blocks, self._index, self._end = blocks, [body], stat.st_size
        return True

    def _write_index(self, stat: os.stat_result) -> None:
        """Remember where the blocks are, for the file as ``stat`` describes it."""
        assert self._path is not None
        body = b"".join(self._index)
        head = b"armgit-audit-index 1 %s %08x\n" % (_stamp(stat, self._header), zlib.crc32(body))
        target = _index_path(self._path)
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(head + body)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            return

    @property
    def path(self) -> Path | None:
        return self._path

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
                index: list[bytes] = []
                size = len(self._header)
                for b in self.blocks.values():
                    parts.append(encode_block(b.commit, b.parent, b.time, bytes(b.lines), b.count))
                    size += len(parts[-1])
                    index.append(_index_line(b, size - len(b.lines), size))
                write_atomic(self._path, b"".join(parts))
                self._index = index
                stat = os.stat(self._path)
            else:
                with self._path.open("ab") as handle:
                    size = handle.tell()
                    intact = size == self._end
                    for raw in self._new:
                        block = self.blocks[raw[9 : raw.index(b" ", 9)].decode("ascii")]
                        size += len(raw)
                        self._index.append(_index_line(block, size - len(block.lines), size))
                    handle.write(b"".join(self._new))
                    handle.flush()
                    stat = os.fstat(handle.fileno())
                if not intact:  # written to by someone else since: check it all next time
                    with contextlib.suppress(OSError):
                        _index_path(self._path).unlink()
                    self._new = []
                    return
        except OSError:
            return
        self._end = stat.st_size
        self._new = []
        self._rewrite = False
        self._write_index(stat)


def _index_line(block: Block, start: int, stop: int) -> bytes:
    b = block
    line = f"{b.commit} {b.parent or '-'} {b.time or '-'} {b.count} {start} {stop}\n"
    return line.encode("ascii")


def _index_path(path: Path) -> Path:
    return path.with_name(path.name + ".idx")


def _stamp(stat: os.stat_result, header: bytes) -> bytes:
    """What changes when the file is written to, and the code fingerprint of its header."""
    code = header.split(b" ")[2].rstrip(b"\n")
    return b"%d:%d:%d:%d:%s" % (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, code)


def _map(fd: int, size: int) -> bytes:
    """The file's bytes, mapped rather than read (only the pages used are read)."""
    if size == 0:
        return b""
    return mmap.mmap(fd, size, access=mmap.ACCESS_READ)  # type: ignore[return-value]


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
