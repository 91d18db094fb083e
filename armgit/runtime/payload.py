"""Reading the index payload from its signed bytes: strict JSON, canonical, every hash checked.

The payload is RFC 8785 canonical JSON, so the canonical form of each genome (and of each
interned policy) is a slice of the payload bytes: its hash is the sha256 of that slice, checked
against ``genomeHash`` (the policy's key) for every entry at load. A slice counts only if it is
canonical: it must equal the encoding of the value parsed from it (``json.dumps`` with sorted
keys where that provably gives the JCS bytes, the reference implementation elsewhere), which also
proves it has no duplicate key. The levels above (payload, tenants, versions, policies) are read
by a small walker that needs canonical punctuation (no whitespace) and refuses duplicate keys;
everything else is parsed by the C scanner with a duplicate-refusing hook. Nothing is
re-serialized but genomes and policies, one by one.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from armgit.core.canonical import CanonicalizationError, to_canonical_json
from armgit.runtime.envelope import STRICT, DuplicateKey, reject_constant
from armgit.runtime.errors import IndexRefused

_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_ENCODE = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # JCS orders such keys by UTF-16 units

Member = Callable[[str, int], tuple[Any, int]]
Scan = Callable[[str, int], tuple[Any, int]]


class _Canonical:
    """A genome or policy read from a canonical slice, with the digest of that slice."""

    __slots__ = ("digest", "value")

    def __init__(self, value: Any, digest: str) -> None:
        self.value = value
        self.digest = digest


class _Reader:
    def __init__(self, payload: bytes, text: str) -> None:
        self.text = text
        self.view = memoryview(payload) if text.isascii() else None  # char offset == byte offset
        self.odd_numbers: list[str] = []
        plain = json.JSONDecoder(
            parse_float=self._float, parse_int=self._int, parse_constant=reject_constant
        )
        # the C scanners: (text, offset) -> (value, end); plain builds dicts without a hook
        self.strict: Scan = STRICT.scan_once  # type: ignore[attr-defined]
        self.plain: Scan = plain.scan_once  # type: ignore[attr-defined]

    def _float(self, literal: str) -> float:
        value = float(literal)
        if value.is_integer() or not 1e-4 <= abs(value) < 1e16:
            self.odd_numbers.append(literal)  # json.dumps and JCS may print it differently
        return value

    def _int(self, literal: str) -> int:
        if len(literal) > 15:
            self.odd_numbers.append(literal)  # may be beyond 2**53, where JCS differs
        return int(literal)

    def fail(self, pos: int, what: str) -> NoReturn:
        raise IndexRefused("malformed-payload", f"not canonical JSON at offset {pos}: {what}")

    def object(self, pos: int, member: Member) -> tuple[dict[str, Any], int]:
        text = self.text
        if text[pos] != "{":
            self.fail(pos, "expected an object")
        pos += 1
        result: dict[str, Any] = {}
        if text[pos] == "}":
            return result, pos + 1
        while True:
            if text[pos] != '"':
                self.fail(pos, "expected a key")
            key, pos = _scanstring(text, pos + 1, True)
            if key in result:
                raise DuplicateKey(key)
            if text[pos] != ":":
                self.fail(pos, "expected ':'")
            result[key], pos = member(key, pos + 1)
            char = text[pos]
            pos += 1
            if char == "}":
                return result, pos
            if char != ",":
                self.fail(pos - 1, "expected ',' or '}'")

    def value(self, _key: str, pos: int) -> tuple[Any, int]:
        return self.strict(self.text, pos)

    def canonical(self, pos: int) -> tuple[_Canonical, int]:
        """The value at ``pos``, which must be canonical, with the digest of its slice."""
        before = len(self.odd_numbers)
        value, end = self.plain(self.text, pos)
        text = self.text[pos:end]
        if len(self.odd_numbers) == before and (text.isascii() or not _ASTRAL.search(text)):
            same = _ENCODE(value) == text
        else:
            try:
                same = to_canonical_json(value) == text.encode("utf-8")
            except CanonicalizationError:
                same = False
        if not same:
            self.strict(self.text, pos)  # a duplicate key is reported as such
            self.fail(pos, "a genome or policy is not in canonical form")
        raw = self.view[pos:end] if self.view is not None else text.encode("utf-8")
        return _Canonical(value, "sha256:" + hashlib.sha256(raw).hexdigest()), end

    # -- the levels walked -------------------------------------------------------------------

    def payload(self) -> dict[str, Any]:
        value, end = self.object(0, self._top)
        if end != len(self.text):
            self.fail(end, "trailing data")
        return value

    def _top(self, key: str, pos: int) -> tuple[Any, int]:
        if key == "tenants":
            return self.object(pos, self._tenant)
        return self.value(key, pos)

    def _tenant(self, name: str, pos: int) -> tuple[Any, int]:
        return self.object(pos, self._tenant_member)

    def _tenant_member(self, key: str, pos: int) -> tuple[Any, int]:
        if key == "versions":
            return self.object(pos, self._version)
        if key == "policies":
            return self.object(pos, self._policy)
        return self.value(key, pos)

    def _version(self, key: str, pos: int) -> tuple[Any, int]:
        version, end = self.object(pos, self._version_member)
        genome = version.get("genome")
        if isinstance(genome, _Canonical):
            version["genome"] = genome.value
            if genome.digest != version.get("genomeHash"):
                raise IndexRefused(
                    "genome-hash-mismatch",
                    f"versions[{key!r}]: the genome does not hash to {version.get('genomeHash')}",
                )
        return version, end

    def _version_member(self, key: str, pos: int) -> tuple[Any, int]:
        if key == "genome":
            return self.canonical(pos)
        return self.value(key, pos)

    def _policy(self, digest: str, pos: int) -> tuple[Any, int]:
        found, end = self.canonical(pos)
        if found.digest != digest:
            raise IndexRefused(
                "policy-digest-mismatch", f"policies[{digest!r}] hashes to {found.digest}"
            )
        return found.value, end


def read_payload(payload: bytes) -> dict[str, Any]:
    """Parse the signed payload bytes; raises :class:`IndexRefused` (``duplicate-key``,
    ``malformed-payload``, ``genome-hash-mismatch``, ``policy-digest-mismatch``)."""
    with no_collection():
        return _read(payload)


@contextlib.contextmanager
def no_collection() -> Iterator[None]:
    """The cyclic garbage collector paused: an index is ~10^6 new objects and no cycle, and each
    collection would walk them all again (it doubles the time of a load)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _read(payload: bytes) -> dict[str, Any]:
    try:
        text = payload.decode("utf-8")
        return _Reader(payload, text).payload()
    except DuplicateKey as exc:
        raise IndexRefused("duplicate-key", f"payload: key {exc} appears twice") from exc
    except (UnicodeDecodeError, ValueError, RecursionError, IndexError, StopIteration) as exc:
        raise IndexRefused("malformed-payload", f"payload is not valid JSON ({exc!r})") from exc
