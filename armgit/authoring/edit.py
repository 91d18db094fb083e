"""YAML bytes to YAML bytes: field edits that keep comments, key order, quoting and layout, and
new documents written in the registry's house style.

ruamel.yaml's round-trip mode does the work. Before editing, the file's indentation is found by
trying the common layouts until one reproduces the file byte for byte, so that only the edited
lines differ. Every result is read back with armgit's strict reader and compared with the data
the edit means; a mismatch is armgit's bug and raises :class:`EditError`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from armgit.authoring.plans import DeleteField, FieldEdit, apply_edits
from armgit.core.jsondata import JsonValue
from armgit.core.yamldata import YamlProblem, parse_yaml
from armgit.errors import ArmgitError

# (mapping, sequence, offset): "  - item" under its key, then "- item", then 4-space files
_LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 2, 0))
_WIDTH = 4096
# keys whose mappings stay block style in new files, though their values are plain scalars
_BLOCK_KEYS = frozenset(
    {"evaluation", "artifacts", "provenance", "settings", "toolRisk", "metadata", "federation"}
)
# booleans to YAML 1.1 readers (PyYAML, many editors): quoted, so every reader sees a string
_YAML11_BOOLS = frozenset({"y", "n", "yes", "no", "on", "off"})
_NEEDS_QUOTES = re.compile(r"[:#,\[\]{}&*!|>'\"%@`]|^[-?\s]|\s$")


class EditError(ArmgitError):
    """An edit did not produce the intended document (a bug in armgit, not in the file)."""


def _yaml(layout: tuple[int, int, int]) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = _WIDTH
    yaml.indent(mapping=layout[0], sequence=layout[1], offset=layout[2])
    return yaml


def _dump(yaml: YAML, doc: Any) -> bytes:
    out = io.BytesIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _load(data: bytes) -> tuple[YAML, Any]:
    """The document, and a YAML configured with the layout that reproduces ``data``."""
    first: tuple[YAML, Any] | None = None
    for layout in _LAYOUTS:
        yaml = _yaml(layout)
        try:
            doc = yaml.load(data)
        except YAMLError as exc:
            raise EditError(f"cannot read the file as YAML: {exc}") from exc
        if _dump(yaml, doc) == data:
            return yaml, doc
        if first is None:
            first = (yaml, doc)
    assert first is not None
    return first


def edit_document(data: bytes, edits: Sequence[FieldEdit]) -> bytes:
    """Apply ``edits`` to a YAML mapping document, changing only the lines they touch."""
    before = parse_yaml(data)
    if isinstance(before, YamlProblem):
        raise EditError(f"cannot edit a file that is not valid YAML: {before.message}")
    yaml, doc = _load(data)
    if not isinstance(doc, CommentedMap):
        raise EditError("the file is not a YAML mapping")
    for edit in edits:
        _apply(doc, edit)
    result = _dump(yaml, doc)
    _verify(result, apply_edits(before.data, edits))
    return result


def _apply(doc: CommentedMap, edit: FieldEdit) -> None:
    target = doc
    for part in edit.key[:-1]:
        child = target.get(part)
        if not isinstance(child, CommentedMap):
            if isinstance(edit, DeleteField):
                return
            child = CommentedMap()
            target[part] = child
        target = child
    key = edit.key[-1]
    if isinstance(edit, DeleteField):
        if key in target:
            del target[key]
        return
    value = _node(edit.value, flow=target.fa.flow_style())
    if key in target:
        old = target[key]
        if isinstance(old, DoubleQuotedScalarString) and isinstance(value, str):
            value = DoubleQuotedScalarString(value)  # keep the file's quoting
        target[key] = value
        return
    keys = list(target)
    position = keys.index(edit.after) + 1 if edit.after in keys else len(keys)
    target.insert(position, key, value)


def render_document(data: Mapping[str, JsonValue], header: str = "") -> bytes:
    """A new document: block style, with short mappings and lists of scalars in flow style
    (as the example registry writes them) and strings quoted wherever a reader could doubt."""
    yaml = _yaml(_LAYOUTS[0])
    doc = _node(dict(data), flow=False, top=True)
    result = header.encode("utf-8") + _dump(yaml, doc)
    _verify(result, dict(data))
    return result


def _node(value: JsonValue, *, flow: bool, key: str = "", top: bool = False) -> Any:
    if isinstance(value, dict):
        node = CommentedMap()
        inner = flow or (not top and key not in _BLOCK_KEYS and _flat(value))
        for k, v in value.items():
            node[k] = _node(v, flow=inner, key=k)
        if inner:
            node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq()
        inner = flow or all(not isinstance(v, dict | list) for v in value)
        for item in value:
            seq.append(_node(item, flow=inner, key=key))
        if inner:
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str):
        return _string(value, flow=flow)
    return value


def _flat(value: dict[str, JsonValue]) -> bool:
    """Plain scalars and lists of them only, short enough for one line."""
    for item in value.values():
        if isinstance(item, dict):
            return False
        if isinstance(item, list) and any(isinstance(v, dict | list) for v in item):
            return False
    return len(value) <= 6


def _string(value: str, *, flow: bool) -> str:
    read = parse_yaml(value.encode("utf-8"))
    doubtful = (
        isinstance(read, YamlProblem)
        or read.data != value
        or bool(read.plain_timestamps)
        or "\n" in value
        or value.lower() in _YAML11_BOOLS
        or (flow and _NEEDS_QUOTES.search(value) is not None)
    )
    return DoubleQuotedScalarString(value) if doubtful else value


def _verify(result: bytes, expected: JsonValue) -> None:
    after = parse_yaml(result)
    if isinstance(after, YamlProblem) or after.data != expected:
        raise EditError(
            "the edited file does not read back as intended; nothing was written "
            "(please report this with the file)"
        )
