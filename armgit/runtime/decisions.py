"""The decision log: every runtime decision as a hash-chained JSON Lines record (SPEC 12).

Each line is one JSON object (no spaces) with ``seq`` (1, 2, ...) and ``prev``:
``sha256:`` + SHA-256 of the previous line's bytes (without its newline; ``null`` on the first
line). Editing, removing or reordering a line breaks the chain at the next line, and
:func:`verify_log` names the line. Editing the last line, or cutting lines off the end, leaves a
valid chain: anchor the head (the last line's digest that ``verify`` prints) elsewhere, and
give it back (``anchor=``, ``armgit decisions verify --head``) to catch that.

One :class:`DecisionLog` appends for one process, safely from many threads; the log is opened
for appending and written with one ``write`` per line. Two processes must not share one log
(each keeps the chain's head in memory): give each its own file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armgit.errors import ArmgitError

# record types, after the seed's
TOOL_CALL_ALLOWED = "TOOL_CALL_ALLOWED"
POLICY_DENIED = "POLICY_DENIED"
APPROVAL_REQUESTED = "APPROVAL_REQUESTED"
APPROVAL_DECIDED = "APPROVAL_DECIDED"
TOOL_CALL_BLOCKED = "TOOL_CALL_BLOCKED"
RECORD_TYPES = (
    TOOL_CALL_ALLOWED,
    POLICY_DENIED,
    APPROVAL_REQUESTED,
    APPROVAL_DECIDED,
    TOOL_CALL_BLOCKED,
)
_TAIL = 1 << 16  # how far back from the end a log's last line is looked for
# keys in the order given (the chain hashes the bytes as written; no sorting needed)
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class LogError(ArmgitError):
    """The decision log cannot be appended to or read; the message says why."""


def line_digest(line: bytes) -> str:
    """``sha256:<hex>`` of one line's bytes (without its newline)."""
    return "sha256:" + hashlib.sha256(line).hexdigest()


class DecisionLog:
    """Appends records to the JSON Lines file at ``path``, chained to what is already there."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._seq, self._prev = _tail(self.path)
        # a raw descriptor in append mode: one write(2) per line, nothing buffered to lose
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append ``record`` (plain JSON data) with ``seq`` and ``prev``; returns the line."""
        with self._lock:
            entry = {**record, "seq": self._seq + 1, "prev": self._prev}
            data = _ENCODE(entry).encode("utf-8")
            if self._fd is None:
                raise LogError(f"{self.path} was closed")
            os.write(self._fd, data + b"\n")
            self._seq += 1
            self._prev = line_digest(data)
            return entry

    @property
    def head(self) -> str | None:
        """The digest of the last line (what to anchor elsewhere), ``None`` when empty."""
        return self._prev

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
            if fd is not None:
                os.close(fd)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)


def _tail(path: Path) -> tuple[int, str | None]:
    """The last line's ``seq`` and digest; a log whose last line is broken is refused."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return 0, None
            handle.seek(max(0, size - _TAIL))
            chunk = handle.read()
    except FileNotFoundError:
        return 0, None
    except OSError as exc:
        raise LogError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not chunk.endswith(b"\n"):
        raise LogError(
            f"{path}: the last line is cut short (no newline): run armgit decisions verify"
        )
    last = chunk[:-1].rsplit(b"\n", 1)[-1]
    try:
        record = json.loads(last)
        seq = record["seq"]
        if type(seq) is not int:
            raise TypeError("seq is not an integer")
    except (ValueError, KeyError, TypeError) as exc:
        raise LogError(
            f"{path}: the last line is not a decision record ({exc}): run armgit decisions verify"
        ) from exc
    return seq, line_digest(last)


@dataclass(frozen=True, slots=True)
class Problem:
    """A line of the log that breaks the chain: its number (1-based) and what is wrong."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Checked:
    """What :func:`verify_log` found: the number of lines, the head digest, the problems."""

    lines: int
    head: str | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_log(lines: Iterable[bytes], anchor: str | None = None) -> Checked:
    """Check the chain of a log given as its lines (with or without newlines). ``anchor``, a
    head kept elsewhere earlier (``sha256:`` of a line), must be the digest of one of them: the
    chain alone cannot tell an edited last line, or lines cut off the end, from the real ones."""
    problems: list[Problem] = []
    anchored = anchor is None
    breaks: list[tuple[int, object, int]] = []  # (line, its seq, the seq due)
    seen: set[object] = set()
    prev: str | None = None
    expected_seq = 1
    count = 0
    for number, raw in enumerate(lines, start=1):
        count = number
        if not raw.endswith(b"\n"):
            problems.append(Problem(number, "the line is cut short (no newline)"))
        line = raw.rstrip(b"\n")
        if not anchored and line_digest(line) == anchor:
            anchored = True
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            problems.append(Problem(number, f"not a JSON record ({exc})"))
            prev, expected_seq = line_digest(line), expected_seq + 1
            continue
        seq = record.get("seq")
        seen.add(seq)
        if record.get("prev") != prev:
            breaks.append((number, seq, expected_seq))
        elif seq != expected_seq:
            problems.append(Problem(number, f"seq is {seq!r} where {expected_seq} was due"))
        prev = line_digest(line)
        expected_seq = (seq if type(seq) is int else expected_seq) + 1
    for number, seq, due in breaks:
        problems.append(Problem(number, _break(number, seq, due, due in seen)))
    if not anchored:
        problems.append(
            Problem(
                count + 1,
                f"no line has the anchored head {anchor}: the line it was, or lines up to it, "
                "were edited, removed or cut off the end",
            )
        )
    problems.sort(key=lambda p: p.line)
    return Checked(count, prev, tuple(problems))


def _break(number: int, seq: object, due: int, due_later: bool) -> str:
    if type(seq) is int and seq != due and (seq < due or due_later):
        return f"lines were reordered (seq {seq} here, {due} was due)"
    if number == 1:
        return "the first line names a previous line: lines before it were removed"
    if type(seq) is int and seq > due:
        return f"lines before it were removed (seq {seq}, {due} was due)"
    return f"prev does not match line {number - 1}: line {number - 1} was edited"


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """The records of a log, in order; :class:`LogError` on a line that is not one."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 -- closed by the with below
    except OSError as exc:
        raise LogError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                record = json.loads(raw)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                raise LogError(f"{path}: line {number} is not a JSON record ({exc})") from exc
            yield record
