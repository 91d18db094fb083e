"""Reading the index payload from its signed bytes: strict JSON, canonical, every hash checked.

The payload is RFC 8785 canonical JSON, so the canonical form of each interned policy is a slice
of the payload bytes, and its digest (whose first hex digits are its key) is the sha256 of that
slice: the ``policies`` table is parsed by the C scanner in one call and then checked entry by
entry to be exactly the canonical text of what was parsed (``json.dumps`` with sorted keys where
that provably gives the JCS bytes, the reference implementation elsewhere), which also proves it
has no duplicate key; the slices' offsets come from that check, never from a search.

Format 3 writes ``versions``, ``approvals``, ``instances`` and each environment's
``deployments`` as tables of rows (:mod:`armgit.core.index.tables`), parsed by the C scanner
with a duplicate-refusing hook and unpacked into format 2's objects. Each genome is put back
together from the tenant's ``parts`` table (:mod:`armgit.core.index.compact`) and its hash,
checked against ``genomeHash``, is the sha256 of the canonical encoding of the whole (orjson
where installed and provably the same bytes, else as for policies). The levels above (payload,
tenants) are walked here with canonical punctuation (no whitespace) and duplicate keys refused;
everything else is parsed by the C scanner with a duplicate-refusing hook. Nothing is
re-serialized but genomes and policies, one by one.

In the parsed payload each version's ``genome`` is the whole genome (its ``parts`` merged in)
and each policy carries its full ``digest``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, NoReturn

from armgit.core.canonical import CanonicalizationError, to_canonical_json
from armgit.core.index.compact import INDEX_FORMAT, REF_LENGTH, merge_genome
from armgit.core.index.tables import (
    APPROVAL_COLUMNS,
    DEPLOYMENT_COLUMNS,
    INSTANCE_COLUMNS,
    VERSION_COLUMNS,
    DuplicateRow,
    unpack,
)
from armgit.gcpause import collector_paused
from armgit.runtime.envelope import DuplicateKey, reject_constant, strict_decoder
from armgit.runtime.errors import IndexRefused

_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # JCS orders such keys by UTF-16 units

_VERSION_FIELDS = ("genome", "genomeHash", "lifecycle", "parts")  # parts: when it has any
# the columns a runtime needs of a deployment and of an instance (others are carried along)
_DEPLOYMENT_REQUIRED = DEPLOYMENT_COLUMNS[:4]
_INSTANCE_REQUIRED = INSTANCE_COLUMNS[:7]
_encode_string: Callable[[str], str] = json.encoder.c_encode_basestring  # type: ignore[attr-defined]


def _not_json(value: object) -> NoReturn:
    raise TypeError(f"{type(value).__name__} is not JSON")


# json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) without its per-call set-up
_C_ENCODE: Callable[[Any, int], list[str]] = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, _not_json, _encode_string, None, ":", ",", True, False, False
)

# orjson's encoder, where it is installed (a dependency of armgit; the reader works without)
_ORJSON_DUMPS: Callable[..., bytes] | None
try:
    from orjson import OPT_SORT_KEYS as _ORJSON_SORT_KEYS
    from orjson import dumps as _ORJSON_DUMPS
except ImportError:  # pragma: no cover - installed with armgit
    _ORJSON_DUMPS, _ORJSON_SORT_KEYS = None, 0

Member = Callable[[str, int], tuple[Any, int]]
Scan = Callable[[str, int], tuple[Any, int]]


def _number_parsers(odd: list[str]) -> tuple[Callable[[str], float], Callable[[str], int]]:
    """``parse_float`` and ``parse_int`` that note in ``odd`` the literals whose canonical
    form ``json.dumps`` may not give. Closures over the list, not methods of the reader: a
    scanner holding the reader's bound methods would make a reference cycle, and the reader
    (the payload's text and bytes, tens of MB) would outlive the load until the cyclic
    collector next ran, or for ever in a process that froze or disabled it."""

    def parse_float(literal: str) -> float:
        value = float(literal)
        if value.is_integer() or not 1e-4 <= abs(value) < 1e16:
            odd.append(literal)  # json.dumps and JCS may print it differently
        return value

    def parse_int(literal: str) -> int:
        if len(literal) > 15:
            odd.append(literal)  # may be beyond 2**53, where JCS differs
        return int(literal)

    return parse_float, parse_int


class _Reader:
    def __init__(self, payload: bytes, text: str) -> None:
        self.text = text
        self.view = memoryview(payload) if text.isascii() else None  # char offset == byte offset
        self.odd_numbers: list[str] = []
        self.exact = False  # the table being read needs the reference JCS encoder
        self.table_start = 0
        self.format: object = 1  # the payload's format (none was written before format 2)
        self.parts: dict[str, Any] = {}  # the current tenant's genome parts
        self.parts_exact = False  # ... hold a number json.dumps may print otherwise than JCS
        parse_float, parse_int = _number_parsers(self.odd_numbers)
        plain = json.JSONDecoder(
            parse_float=parse_float, parse_int=parse_int, parse_constant=reject_constant
        )
        counted = strict_decoder()
        counted.parse_float, counted.parse_int = parse_float, parse_int
        counted.scan_once = json.scanner.make_scanner(counted)  # type: ignore[attr-defined]
        # the C scanners: (text, offset) -> (value, end); plain builds dicts without a hook
        self.strict: Scan = strict_decoder().scan_once  # type: ignore[attr-defined]
        self.counted: Scan = counted.scan_once  # type: ignore[attr-defined]
        self.plain: Scan = plain.scan_once  # type: ignore[attr-defined]

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

    def encode(self, value: Any, exact: bool) -> str:
        """The canonical JSON text of ``value`` (JCS): ``json.dumps`` with sorted keys where
        that provably gives the same text, else the reference implementation."""
        if not exact:
            return "".join(_C_ENCODE(value, 0))
        try:
            return to_canonical_json(value).decode("utf-8")
        except CanonicalizationError:
            return ""  # matches no slice: refused as not canonical

    def canonical(self, value: Any, exact: bool) -> bytes:
        """The JCS bytes of ``value``, as :meth:`encode` has them; through orjson when it is
        installed and ``exact`` is not needed (the same bytes, property-tested; ~9x faster:
        encoding each genome for its hash was most of a fleet index's load)."""
        if not exact and _ORJSON_DUMPS is not None:
            try:
                return _ORJSON_DUMPS(value, option=_ORJSON_SORT_KEYS)
            except TypeError:  # orjson's limits (nesting, a lone surrogate): as without it
                pass
        return self.encode(value, exact).encode("utf-8")

    def digest(self, start: int, end: int, text: str) -> str:
        raw = self.view[start:end] if self.view is not None else text.encode("utf-8")
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    def not_canonical(self, pos: int) -> NoReturn:
        self.strict(self.text, self.table_start)  # a duplicate key is reported as such
        self.fail(pos, "a policies table is not in canonical form")

    def table(self, pos: int, entry: Callable[[str, Any, int], int]) -> tuple[Any, int]:
        """A ``policies`` table: parsed by the C scanner at once, then checked
        entry by entry to be exactly the canonical text of what was parsed (so it has no
        duplicate key), each ``entry`` returning where its text ends."""
        text = self.text
        before = len(self.odd_numbers)
        value, end = self.plain(text, pos)
        if type(value) is not dict:
            self.fail(pos, "expected an object")
        self.table_start = pos
        self.exact = len(self.odd_numbers) != before or (
            self.view is None and _ASTRAL.search(text, pos, end) is not None
        )
        cursor = pos + 1
        last = len(value) - 1
        for i, (key, item) in enumerate(value.items()):
            cursor = entry(key, item, cursor)
            if i < last:
                if text[cursor] != ",":
                    self.not_canonical(cursor)
                cursor += 1
        if text[cursor] != "}" or cursor + 1 != end:
            self.not_canonical(cursor)
        return value, end

    def rows(self, pos: int) -> tuple[Any, int, bool]:
        """A table of rows (or an object of them) parsed by the C scanner with the
        duplicate-refusing hook; and whether it holds a number or key ``json.dumps`` may encode
        otherwise than JCS."""
        before = len(self.odd_numbers)
        value, end = self.counted(self.text, pos)
        exact = len(self.odd_numbers) != before or (
            self.view is None and _ASTRAL.search(self.text, pos, end) is not None
        )
        return value, end, exact

    def versions(self, pos: int) -> tuple[Any, int]:
        """The ``versions`` table: each genome put back together from its inline members and
        the tenant's ``parts``, and its hash recomputed from the canonical encoding of the
        whole."""
        table, end, exact = self.rows(pos)
        versions = unpack(table, "versions", VERSION_COLUMNS)
        exact = exact or self.parts_exact
        for key, version in versions.items():
            parts = version.pop("parts", None)
            genome, expected = version.get("genome"), version.get("genomeHash")
            if (
                len(version) != 3
                or type(genome) is not dict
                or type(expected) is not str
                or type(version.get("lifecycle")) is not str
                or (parts is not None and type(parts) is not dict)
            ):
                self.fail(pos, f"versions[{key!r}] is not {{{', '.join(_VERSION_FIELDS)}}}")
            if parts is not None:
                genome = merge_genome(genome, parts, self.parts)
                version["genome"] = genome
            if "sha256:" + hashlib.sha256(self.canonical(genome, exact)).hexdigest() != expected:
                raise IndexRefused(
                    "genome-hash-mismatch",
                    f"versions[{key!r}]: the genome does not hash to {expected}",
                )
        return versions, end

    def deployments(self, pos: int) -> tuple[Any, int]:
        """``deployments``: per environment, a table of rows keyed by template."""
        value, end = self.strict(self.text, pos)  # never encoded again: numbers as they are
        if type(value) is not dict:
            self.fail(pos, "deployments is an object of tables")
        return {
            environment: unpack(table, f"deployments[{environment!r}]", _DEPLOYMENT_REQUIRED)
            for environment, table in value.items()
        }, end

    def entries(self, pos: int, name: str, required: tuple[str, ...]) -> tuple[Any, int]:
        """``instances`` or ``approvals``: a table of rows, never encoded again."""
        value, end = self.strict(self.text, pos)
        return unpack(value, name, required), end

    def _policy(self, ref: str, policy: Any, pos: int) -> int:
        head = _encode_string(ref) + ":"
        if not self.text.startswith(head, pos):
            self.not_canonical(pos)
        start = pos + len(head)
        body = self.encode(policy, self.exact)
        if not body or not self.text.startswith(body, start):
            self.not_canonical(start)
        end = start + len(body)
        computed = self.digest(start, end, body)
        if len(ref) != REF_LENGTH or computed[7 : 7 + REF_LENGTH] != ref:
            raise IndexRefused(
                "policy-digest-mismatch", f"policies[{ref!r}] is not named by its digest"
            )
        policy["digest"] = computed
        return end

    # -- the levels walked -------------------------------------------------------------------

    def payload(self) -> dict[str, Any]:
        value, end = self.object(0, self._top)
        if end != len(self.text):
            self.fail(end, "trailing data")
        return value

    def _top(self, key: str, pos: int) -> tuple[Any, int]:
        if key == "tenants":  # after "format" in canonical order
            if self.format != INDEX_FORMAT:
                raise IndexRefused("malformed-payload", wrong_format(self.format))
            return self.object(pos, self._tenant)
        value, end = self.value(key, pos)
        if key == "format":
            self.format = value
        return value, end

    def _tenant(self, name: str, pos: int) -> tuple[Any, int]:
        self.parts, self.parts_exact = {}, False
        return self.object(pos, self._tenant_member)

    def _tenant_member(self, key: str, pos: int) -> tuple[Any, int]:
        if key == "versions":
            return self.versions(pos)
        if key == "deployments":
            return self.deployments(pos)
        if key == "instances":
            return self.entries(pos, key, _INSTANCE_REQUIRED)
        if key == "approvals":
            return self.entries(pos, key, APPROVAL_COLUMNS)
        if key == "policies":
            return self.table(pos, self._policy)
        if key == "parts":  # before "versions" in canonical order
            before = len(self.odd_numbers)
            parts, end = self.counted(self.text, pos)
            if type(parts) is not dict:
                self.fail(pos, "parts is an object")
            self.parts = parts
            self.parts_exact = len(self.odd_numbers) != before or (
                self.view is None and _ASTRAL.search(self.text, pos, end) is not None
            )
            return parts, end
        return self.value(key, pos)


def wrong_format(found: object) -> str:
    """Why a payload of another format is refused."""
    return (
        f"the index is of format {found!r}; this runtime reads format {INDEX_FORMAT} "
        "(compile it with this version of armgit)"
    )


def read_payload(payload: bytes) -> dict[str, Any]:
    """Parse the signed payload bytes; raises :class:`IndexRefused` (``duplicate-key``,
    ``malformed-payload``, ``genome-hash-mismatch``, ``policy-digest-mismatch``)."""
    with collector_paused():
        return _read(payload)


def _read(payload: bytes) -> dict[str, Any]:
    try:
        text = payload.decode("utf-8")
        return _Reader(payload, text).payload()
    except DuplicateKey as exc:
        raise IndexRefused("duplicate-key", f"payload: key {exc} appears twice") from exc
    except DuplicateRow as exc:
        raise IndexRefused("duplicate-key", f"payload: two rows name {exc.key!r}") from exc
    except (
        UnicodeDecodeError,
        KeyError,
        ValueError,
        TypeError,
        RecursionError,
        IndexError,
        StopIteration,
    ) as exc:
        raise IndexRefused("malformed-payload", f"payload is not valid JSON ({exc!r})") from exc
