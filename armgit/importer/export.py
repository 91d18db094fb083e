"""A Convex snapshot export, parsed from its entries (path -> bytes): pure, no files.

Both export formats: the current one (``generated_schema.jsonl`` is exactly ``"uniform"``: an
Int64 is a bare integer, a Float64 always has a point or an exponent) and the older one (line 1
is the inferred shape as a JSON string, then optional ``{"<docId>": <context>}`` override lines;
Int64 values are base-10 strings known from the shape or the overrides). What cannot be read is
refused with the table, the line and the field: an :class:`ExportError`, and nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from armgit.core.canonical import sha256_digest
from armgit.core.jsondata import JsonObject, JsonValue
from armgit.errors import ArmgitError
from armgit.importer.ids import table_number

TABLES_FILE = "_tables/documents.jsonl"
_MAX_MS = 253_402_300_800_000.0  # 10000-01-01T00:00:00Z: later is no time
UNIFORM = "uniform"
_TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
# `name: int64` (or `name?: int64`) inside an older-format shape
_SHAPE_INT64 = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\??\s*:\s*int64\b")
_SHAPE_BYTES = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\??\s*:\s*bytes\b")


class ExportError(ArmgitError):
    """The export cannot be read; the message names the table, the line and the field."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


@dataclass(frozen=True, slots=True)
class Row:
    """One document of a table: its id, creation time (ms since the epoch) and fields (without
    ``_id`` and ``_creationTime``). ``line`` is 1-based in ``<table>/documents.jsonl``."""

    table: str
    line: int
    id: str
    created: float
    fields: JsonObject


@dataclass(frozen=True, slots=True)
class Export:
    """The tables of one export: rows per table name, the table numbers, the format."""

    tables: dict[str, tuple[Row, ...]]
    numbers: dict[int, str]
    formats: dict[str, str]
    digest: str
    ignored: dict[str, int] = field(default_factory=dict)  # entries not read: what, how many

    def rows(self, table: str) -> tuple[Row, ...]:
        return self.tables.get(table, ())

    def table_of(self, document_id: object) -> str | None:
        """The table an id (a string) belongs to, or ``None`` when it is not an id of this
        export."""
        if not isinstance(document_id, str):
            return None
        number = table_number(document_id)
        return None if number is None else self.numbers.get(number)


def parse_export(entries: Mapping[str, bytes]) -> Export:
    """Parse the entries of an export (paths relative to its top, ``/``-separated)."""
    entries = _strip_top(entries)
    components = sorted(p for p in entries if p.startswith("_components/"))
    if components:
        raise ExportError(
            components[0],
            "the export holds Convex components, which ARM does not use: export the ARM "
            "deployment itself (npx convex export without components)",
        )
    if TABLES_FILE not in entries:
        raise ExportError(
            TABLES_FILE, "missing: this is not a Convex snapshot export (npx convex export)"
        )
    numbers = _parse_tables(entries[TABLES_FILE])
    tables: dict[str, tuple[Row, ...]] = {}
    formats: dict[str, str] = {}
    for name in sorted(numbers):
        docs = entries.get(f"{name}/documents.jsonl")
        if docs is None:
            raise ExportError(f"{name}/documents.jsonl", "missing (the table is in _tables)")
        schema = entries.get(f"{name}/generated_schema.jsonl")
        if schema is None:
            raise ExportError(
                f"{name}/generated_schema.jsonl", "missing: the export format cannot be told"
            )
        reader = _format_of(name, schema)
        formats[name] = reader.format
        tables[name] = tuple(_parse_rows(name, docs, reader))
    known = {TABLES_FILE, "README.md"} | {
        f"{name}/{file}" for name in numbers for file in _TABLE_FILES
    }
    ignored: dict[str, int] = {}
    for path in entries:
        if path not in known and not path.endswith("/"):
            what = "_storage" if path.startswith("_storage/") else "other files"
            ignored[what] = ignored.get(what, 0) + 1
    digest = sha256_digest(
        b"".join(
            p.encode() + b"\0" + sha256_digest(entries[p]).encode() + b"\n"
            for p in sorted(entries)
            if p in known
        )
    )
    return Export(tables, {n: t for t, n in numbers.items()}, formats, digest, ignored)


_TABLE_FILES = ("documents.jsonl", "generated_schema.jsonl")


def _strip_top(entries: Mapping[str, bytes]) -> Mapping[str, bytes]:
    """An export unpacked into one top folder (``x/_tables/...``) read as if at its top."""
    if TABLES_FILE in entries:
        return entries
    tops = {p.split("/", 1)[0] for p in entries if "/" in p}
    if len(tops) == 1:
        top = tops.pop() + "/"
        if top + TABLES_FILE in entries:
            return {p[len(top) :]: data for p, data in entries.items() if p.startswith(top)}
    return entries


def _lines(where: str, data: bytes) -> list[tuple[int, JsonValue]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportError(where, f"not UTF-8 text (byte {exc.start})") from exc
    out: list[tuple[int, JsonValue]] = []
    # JSON Lines end at "\n" (a "\r" before it is JSON whitespace); not str.splitlines, which
    # also breaks at U+2028, U+2029, U+0085 and others that JSON.stringify leaves raw in strings
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, object_pairs_hook=_no_duplicates, parse_constant=_constant)
        except ValueError as exc:
            raise ExportError(f"{where}, line {number}", f"not a JSON document ({exc})") from exc
        out.append((number, value))
    return out


def _no_duplicates(pairs: list[tuple[str, JsonValue]]) -> JsonObject:
    result: JsonObject = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} appears twice")
        result[key] = value
    return result


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON data")


def _parse_tables(data: bytes) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for line, value in _lines(TABLES_FILE, data):
        where = f"{TABLES_FILE}, line {line}"
        if not isinstance(value, dict):
            raise ExportError(where, "not a JSON object")
        name, number = value.get("name"), value.get("id")
        if not isinstance(name, str) or not _TABLE_NAME.match(name):
            raise ExportError(f"{where}, field name", "not a table name")
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise ExportError(f"{where}, field id", "not a table number")
        if name in numbers or number in numbers.values():
            raise ExportError(where, f"table {name!r} or number {number} listed twice")
        numbers[name] = number
    return numbers


@dataclass(frozen=True, slots=True)
class _Reader:
    """How a table's values are read: the format, and (older format) the Int64 fields of all
    documents and of single documents (from the overrides)."""

    format: str
    int64: frozenset[str] = frozenset()
    by_doc: dict[str, frozenset[str]] = field(default_factory=dict)


def _format_of(table: str, data: bytes) -> _Reader:
    where = f"{table}/generated_schema.jsonl"
    lines = _lines(where, data)
    if not lines:
        raise ExportError(where, "empty: the export format cannot be told")
    first_line, first = lines[0]
    if first == UNIFORM:
        if len(lines) > 1:
            raise ExportError(f"{where}, line {lines[1][0]}", 'unexpected after "uniform"')
        return _Reader(UNIFORM)
    if not isinstance(first, str):
        raise ExportError(f"{where}, line {first_line}", "unknown export format")
    binary = _SHAPE_BYTES.findall(first)
    if binary:
        raise ExportError(
            f"{where}, line {first_line}, field {binary[0]}",
            "holds bytes, which ARM never writes: this is not an ARM table",
        )
    by_doc: dict[str, frozenset[str]] = {}
    for line, value in lines[1:]:
        at = f"{where}, line {line}"
        if not isinstance(value, dict) or len(value) != 1:
            raise ExportError(at, 'an override line is {"<docId>": <context>}')
        ((doc, context),) = value.items()
        by_doc[doc] = frozenset(_override_int64(at, context))
    return _Reader("older", frozenset(_SHAPE_INT64.findall(first)), by_doc)


def _override_int64(where: str, context: JsonValue) -> list[str]:
    """The fields an override says are Int64; bytes and non-finite floats are refused."""
    if not isinstance(context, dict):
        raise ExportError(where, "an override's context is an object of field -> type")
    fields = []
    for name, kind in context.items():
        kind_text = kind if isinstance(kind, str) else json.dumps(kind)
        if kind_text.lower() == "int64":
            fields.append(name)
        else:
            raise ExportError(
                f"{where}, field {name}",
                f"a value of type {kind_text} (bytes or a non-finite number), which the "
                "registry cannot hold",
            )
    return fields


def _parse_rows(table: str, data: bytes, reader: _Reader) -> list[Row]:
    where = f"{table}/documents.jsonl"
    rows = []
    seen: set[str] = set()
    for line, value in _lines(where, data):
        at = f"{where}, line {line}"
        if not isinstance(value, dict):
            raise ExportError(at, "not a JSON object")
        doc_id = value.get("_id")
        if not isinstance(doc_id, str) or not doc_id:
            raise ExportError(f"{at}, field _id", "missing or not a string")
        if doc_id in seen:
            raise ExportError(f"{at}, field _id", f"{doc_id} appears twice")
        seen.add(doc_id)
        created = value.get("_creationTime")
        if reader.format != UNIFORM and isinstance(created, str):
            created = _number(f"{at}, field _creationTime", created)
        if not isinstance(created, (int, float)) or isinstance(created, bool):
            raise ExportError(f"{at}, field _creationTime", "missing or not a number")
        if not 0 <= created < _MAX_MS:
            raise ExportError(f"{at}, field _creationTime", f"{created} is not a time")
        ints = reader.int64 | reader.by_doc.get(doc_id, frozenset())
        fields: JsonObject = {}
        for name, item in value.items():
            if name in ("_id", "_creationTime"):
                continue
            _check_plain(f"{at}, field {name}", item)
            if name in ints and isinstance(item, str):
                fields[name] = int(_number(f"{at}, field {name}", item, integer=True))
            else:
                fields[name] = item
        rows.append(Row(table, line, doc_id, float(created), fields))
    return rows


def _number(where: str, text: str, *, integer: bool = False) -> float:
    try:
        return int(text, 10) if integer else float(text)
    except ValueError as exc:
        raise ExportError(where, f"{text!r} is not a number") from exc


def _check_plain(where: str, value: JsonValue) -> None:
    """Refuse encoded values (``{"$float": ...}``, ``{"$bytes": ...}``) where data is
    expected: non-finite numbers and bytes have no place in a registry."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("$"):
                raise ExportError(
                    where,
                    f"an encoded value ({key}: bytes or a non-finite number) where plain data "
                    "is expected",
                )
            _check_plain(f"{where}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_plain(f"{where}[{index}]", item)
