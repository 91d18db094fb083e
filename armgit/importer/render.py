"""Imported documents as YAML text: block mappings, flow lists of scalars, strings plain where no
reader could doubt them and JSON-quoted elsewhere (a JSON string is a YAML double-quoted
scalar). Fast and plain, for imports of tens of thousands of files. Pure."""

from __future__ import annotations

import json
import re

from armgit.core.jsondata import JsonObject, JsonValue

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./@+-]*$")
_RESERVED = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n"})


def render_yaml(doc: JsonObject, header: str = "") -> bytes:
    """``doc`` as a YAML document (a mapping at the top), with an optional comment header."""
    lines: list[str] = [header] if header else []
    _mapping(doc, 0, lines)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _scalar(value: JsonValue) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    assert isinstance(value, str)
    if _PLAIN.match(value) and value.lower() not in _RESERVED:
        return value
    return json.dumps(value, ensure_ascii=False)


def _inline(value: JsonValue) -> str | None:
    """``value`` on one line, or ``None`` when it needs a block."""
    if isinstance(value, dict):
        return "{}" if not value else None
    if isinstance(value, list):
        if any(isinstance(v, dict | list) for v in value):
            return None
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return _scalar(value)


def _mapping(doc: dict[str, JsonValue], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in doc.items():
        name = _scalar(key)
        inline = _inline(value)
        if inline is not None:
            lines.append(f"{pad}{name}: {inline}")
        elif isinstance(value, dict):
            lines.append(f"{pad}{name}:")
            _mapping(value, indent + 2, lines)
        else:
            assert isinstance(value, list)
            lines.append(f"{pad}{name}:")
            _sequence(value, indent + 2, lines)


def _sequence(items: list[JsonValue], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in items:
        inline = _inline(item)
        if inline is not None:
            lines.append(f"{pad}- {inline}")
        elif isinstance(item, dict):
            start = len(lines)
            _mapping(item, indent + 2, lines)
            lines[start] = f"{pad}- {lines[start][indent + 2 :]}"
        else:
            assert isinstance(item, list)
            lines.append(f"{pad}-")
            _sequence(item, indent + 2, lines)
