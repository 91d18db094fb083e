"""Format 3: a tenant's entry tables as rows of fixed fields, described once (docs/index.md).

A table of many entries that all have the same few fields (``versions``, ``approvals``,
``instances``, each environment's ``deployments``) would repeat every field's name in every
entry. In the payload it is ``{"columns": [KEY, FIELD, ...], "rows": [[key, value, ...], ...]}``
instead: the first column names the entry (its key in the table), the others its fields, and a
``null`` (or a row cut short) is a field the entry does not have. Rows are sorted by key and
never end with ``null``, so a table has one form. Pure: JSON data in and out; the runtime
unpacks with these rules too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import contains, itemgetter
from typing import Any

from armgit.core.jsondata import JsonObject, JsonValue

COLUMNS = "columns"
ROWS = "rows"

# each table's columns, in the order the compiler writes them: the key first, then the fields
# every entry has, then the optional ones (so the ``null``s a row would end with are left out)
VERSION_COLUMNS = ("version", "lifecycle", "genomeHash", "genome", "parts")
APPROVAL_COLUMNS = ("id", "approver", "change", "createdAt", "file")
DEPLOYMENT_COLUMNS = (
    "template",
    "version",
    "policy",
    "approvals",
    "rolloutPolicy",
    "rollbackOf",
    "reason",
)
INSTANCE_COLUMNS = (
    "name",
    "environment",
    "template",
    "version",
    "provider",
    "state",
    "policy",
    "identity",
    "secretRef",
    "legacyAgentId",
    "description",
)
# the tables of a tenant that are rows (``deployments`` holds one per environment)
TABLES: Mapping[str, tuple[str, ...]] = {
    "versions": VERSION_COLUMNS,
    "approvals": APPROVAL_COLUMNS,
    "instances": INSTANCE_COLUMNS,
}


def pack(entries: Mapping[str, JsonObject], columns: Sequence[str]) -> JsonObject:
    """``entries`` (key -> fields) as a table of rows; raises ``ValueError`` for a field that
    has no column (a compiler that writes a field must name it in the columns)."""
    fields = columns[1:]
    known = frozenset(fields)
    rows: list[JsonValue] = []
    for key in sorted(entries):
        entry = entries[key]
        unknown = entry.keys() - known
        if unknown:
            raise ValueError(f"no column for {', '.join(sorted(unknown))} of {key!r}")
        row: list[JsonValue] = [key, *(entry.get(name) for name in fields)]
        while row[-1] is None:
            row.pop()
        rows.append(row)
    return {COLUMNS: list(columns), ROWS: rows}


def pack_tenant(tenant: Mapping[str, JsonValue]) -> JsonObject:
    """A tenant's object with its entry tables packed (the form the payload holds)."""
    packed: JsonObject = dict(tenant)
    for name, columns in TABLES.items():
        packed[name] = pack(_entries(tenant[name], name), columns)
    deployments = tenant["deployments"]
    assert isinstance(deployments, dict)
    packed["deployments"] = {
        environment: pack(_entries(by_template, f"deployments.{environment}"), DEPLOYMENT_COLUMNS)
        for environment, by_template in deployments.items()
    }
    return packed


def pack_payload(payload: Mapping[str, JsonValue]) -> JsonObject:
    """A payload whose tenants are in the entry form, with every tenant packed."""
    tenants = payload["tenants"]
    assert isinstance(tenants, dict)
    return {
        **payload,
        "tenants": {name: pack_tenant(_object(t, name)) for name, t in tenants.items()},
    }


class DuplicateRow(ValueError):
    """Two rows of one table name the same entry."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def columns_of(table: Any, where: str, required: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
    """A table's key column and field columns, checked: an object of exactly ``columns`` and
    ``rows``, distinct string columns that include ``required`` (the key column first)."""
    if type(table) is not dict or len(table) != 2 or COLUMNS not in table or ROWS not in table:
        raise ValueError(f"{where} is not {{columns, rows}}")
    columns, rows = table[COLUMNS], table[ROWS]
    if (
        type(columns) is not list
        or not columns
        or any(type(c) is not str for c in columns)
        or len(set(columns)) != len(columns)
        or columns[0] != required[0]
        or not set(required) <= set(columns)
    ):
        raise ValueError(f"{where}.columns are not distinct names starting {', '.join(required)}")
    if type(rows) is not list:
        raise ValueError(f"{where}.rows is not a list")
    return columns[0], tuple(columns[1:])


def unpack(table: Any, where: str, required: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The entries of a table of rows (key -> the fields it has); raises ``ValueError`` for a
    malformed table and :class:`DuplicateRow` for a key given twice.

    Checked and built table-wide with ``map`` (a runtime unpacks tens of thousands of rows at
    load): no Python code runs per row but for rows that hold a ``null``."""
    _, fields = columns_of(table, where, required)
    rows: list[Any] = table[ROWS]
    if not rows:
        return {}
    if set(map(type, rows)) != {list}:
        raise ValueError(f"{where}: a row is not a list")
    lengths = set(map(len, rows))
    if min(lengths) < 1 or max(lengths) > len(fields) + 1:
        raise ValueError(f"{where}: a row is not [key, ...] of at most {len(fields) + 1} items")
    keys = list(map(_first, rows))
    if set(map(type, keys)) != {str}:
        raise ValueError(f"{where}: a row's key is not a string")
    entries = list(map(dict, map(zip, repeat(fields), map(_rest, rows))))
    result = dict(zip(keys, entries, strict=True))
    if len(result) != len(rows):
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                raise DuplicateRow(key)
            seen.add(key)
    if any(map(contains, rows, repeat(None))):  # a null: a field the entry does not have
        for key, entry in result.items():
            if None in entry.values():
                result[key] = {k: v for k, v in entry.items() if v is not None}
    return result


_first = itemgetter(0)
_rest = itemgetter(slice(1, None))


def _entries(value: JsonValue, where: str) -> dict[str, JsonObject]:
    table = _object(value, where)
    return {key: _object(entry, f"{where}[{key!r}]") for key, entry in table.items()}


def _object(value: JsonValue, where: str) -> JsonObject:
    if not isinstance(value, dict):
        raise ValueError(f"{where} is not an object")
    return value
