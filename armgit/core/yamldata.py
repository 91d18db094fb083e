"""YAML bytes to plain JSON data, strictly.

Registry files are YAML, but everything armgit hashes, validates and compiles is JSON data, so a
file is read as JSON would read it: one document; string keys, no duplicates; no anchors, aliases,
merge keys or custom tags; finite numbers; UTF-8 text. Scalars follow the YAML 1.2 core schema.

libyaml (through ruamel.yaml.clib) composes the node graph; the Python side is a small strict
constructor, several times faster than a general-purpose loader and with no object-construction
hooks at all. An unquoted date or time stays a string, as JSON Schema expects, and its location
is reported so that callers can refuse it where a hash depends on the exact value (the genome).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, NoReturn

from _ruamel_yaml import CParser
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.tag import Tag

from armgit.core.jsondata import JsonValue, pointer

MAX_DEPTH = 64
# I-JSON (RFC 7493): integers beyond this are not exact in every JSON reader, and RFC 8785
# cannot canonicalize them
MAX_SAFE_INTEGER = 2**53 - 1
MAX_NODES = 200_000
# libyaml's composer recurses in C; far below the depth that would exhaust the stack, a document
# that could nest this deep is first measured event by event.
_SAFE_COLLECTIONS = 5_000
# An anchor (&a) or alias (*a) starts a node: at the start of the text or after a space, a flow
# indicator, or the ':' that follows a JSON-like key. Text with none of these holds none, so
# only the rest is scanned event by event (a scope such as "tickets:*" is not a candidate).
_MAY_ANCHOR = re.compile(rb"(?:\A(?:\xef\xbb\xbf)?|[\s\[{,]|[\s\"'\]}]:)[&*]")
# The digits a number may have before it is surely beyond MAX_SAFE_INTEGER, so that a longer
# literal is refused without converting it (Python refuses to convert more than 4,300 digits).
_SAFE_DIGITS = 20
NON_FINITE = "non-finite-number"  # the rule of a number JSON cannot hold; every other is "yaml"

_YAML = "tag:yaml.org,2002:"
# Our resolver hands libyaml these three tags, so a node's tag is checked by identity.
_PLAIN = Tag(suffix="?")  # a plain (unquoted, untagged) scalar
_STRING = Tag(suffix="!")  # a quoted scalar
_COLLECTION = Tag(suffix="")

_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
# Plain scalars that are not strings start with one of these or are one of the words.
_NUMERIC_START = frozenset("0123456789+-.")
_WORDS = frozenset(_NULL | _TRUE | _FALSE)
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?\Z"
)


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """Why a document is not plain JSON data, and where (1-based line, JSON pointer); ``rule``
    is ``yaml``, or ``non-finite-number`` for a number JSON cannot hold."""

    message: str
    line: int | None = None
    pointer: str = ""
    rule: str = "yaml"


@dataclass(frozen=True, slots=True)
class YamlDoc:
    """A document read as JSON data; ``plain_timestamps`` are pointers of unquoted dates/times."""

    data: JsonValue
    plain_timestamps: tuple[str, ...] = ()


class _Composer(CParser):  # type: ignore[misc]
    """libyaml's composer with the resolver hooks reduced to 'plain or not'."""

    # Called around every node, for path-dependent tags we do not have: builtins that ignore
    # their arguments cost less than a method call (``slice(parent, index)``, ``tuple()``).
    descend_resolver = slice
    ascend_resolver = tuple

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Tag:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _STRING
        return _COLLECTION


class _Invalid(Exception):
    def __init__(self, problem: YamlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def compose(data: bytes) -> Node | None:
    """Compose one YAML document into libyaml's node graph (raises ruamel's YAMLError)."""
    parser = _Composer(data)
    try:
        node: Node | None = parser.get_single_node()
        return node
    finally:
        parser.dispose()


def parse_yaml(data: bytes) -> YamlDoc | YamlProblem:
    """Read ``data`` as one YAML document of plain JSON data, or say why it is not one."""
    problem = _check_text(data)
    if problem is not None:
        return problem
    if _may_nest_deeply(data) or _may_anchor(data):
        problem = _scan_events(data)
        if problem is not None:
            return problem
    try:
        node = compose(data)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        text = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        if "found unexpected ':'" in text:
            text += " (inside [...] or {...}, quote values that contain ':', like \"github:alice\")"
        return YamlProblem(f"malformed YAML: {text}", line)
    except ReaderError as exc:
        line = data.count(b"\n", 0, exc.position) + 1 if exc.position is not None else None
        return YamlProblem(f"not YAML text: character #x{exc.character:04x}: {exc.reason}", line)
    except YAMLError as exc:
        return YamlProblem(f"malformed YAML: {exc}")
    except RecursionError:
        return YamlProblem(f"the document nests deeper than {MAX_DEPTH} levels")
    if node is None:
        return YamlDoc(None)
    builder = _Builder()
    try:
        value = builder.build(node, (), 0)
    except _Invalid as exc:
        return exc.problem
    return YamlDoc(value, tuple(builder.timestamps))


def _check_text(data: bytes) -> YamlProblem | None:
    if b"\x00" in data:
        return YamlProblem("binary content (NUL byte): registry files are UTF-8 YAML text")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return YamlProblem(f"not UTF-8 text (byte {exc.start}): save the file as UTF-8", line)
    return None


def _may_anchor(data: bytes) -> bool:
    return (b"&" in data or b"*" in data) and _MAY_ANCHOR.search(data) is not None


def _may_nest_deeply(data: bytes) -> bool:
    """An upper bound on the number of collections, counted in C: every one needs an indicator."""
    indicators = sum(data.count(c) for c in (b"[", b"{", b"-", b":", b"?"))
    return indicators > _SAFE_COLLECTIONS


def _scan_events(data: bytes) -> YamlProblem | None:
    """Nesting deeper than MAX_DEPTH, or an anchor or alias, found from libyaml's events
    without composing (the composer recurses, and it shares an aliased scalar silently)."""
    from ruamel.yaml.events import (
        AliasEvent,
        MappingEndEvent,
        MappingStartEvent,
        SequenceEndEvent,
        SequenceStartEvent,
    )

    parser = _Composer(data)
    depth = 0
    try:
        while (event := parser.get_event()) is not None:
            if isinstance(event, MappingStartEvent | SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return YamlProblem(f"the document nests deeper than {MAX_DEPTH} levels")
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                depth -= 1
            if getattr(event, "anchor", None) is not None:
                what = "alias *" if isinstance(event, AliasEvent) else "anchor &"
                return YamlProblem(
                    f"{what}{_shown(str(event.anchor))}: anchors and aliases are not allowed: "
                    "write the value out",
                    event.start_mark.line + 1,
                )
    except YAMLError:
        pass  # the composer will report the syntax error with its position
    finally:
        parser.dispose()
    return None


class _Builder:
    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.timestamps: list[str] = []

    def build(self, node: Node, path: tuple[str | int, ...], depth: int) -> JsonValue:
        if depth > MAX_DEPTH:
            self._fail(node, path, f"the document nests deeper than {MAX_DEPTH} levels")
        if type(node) is ScalarNode:
            return self._scalar(node, path)
        if id(node) in self.seen:
            self._fail(node, path, "anchors and aliases are not allowed: write the value out")
        self.seen.add(id(node))
        if len(self.seen) > MAX_NODES:
            self._fail(node, path, f"more than {MAX_NODES} nodes: split the file")
        ctag = node.ctag
        if type(node) is MappingNode:
            if ctag is not _COLLECTION and str(ctag) != _YAML + "map":
                self._fail(node, path, f"tag {ctag} is not allowed: registry files hold JSON data")
            return self._mapping(node, path, depth)
        if ctag is not _COLLECTION and str(ctag) != _YAML + "seq":
            self._fail(node, path, f"tag {ctag} is not allowed: registry files hold JSON data")
        return self._sequence(node, path, depth)

    # _mapping and _sequence take the commonest values, a quoted string or a plain scalar that
    # can only be a string, without a call or a path of their own (a file has tens of them).

    def _mapping(
        self, node: MappingNode, path: tuple[str | int, ...], depth: int
    ) -> dict[str, JsonValue]:
        result: dict[str, JsonValue] = {}
        inner = depth + 1
        for key_node, value_node in node.value:
            if type(key_node) is not ScalarNode:
                self._fail(key_node, path, "keys must be strings, not mappings or lists")
            ctag = key_node.ctag
            key = key_node.value
            if ctag is not _STRING and (
                ctag is not _PLAIN or key in _WORDS or key[0] in _NUMERIC_START
            ):
                key = self._scalar(key_node, path)
                if not isinstance(key, str):
                    self._fail(key_node, path, f"key {key_node.value!r} is not a string: quote it")
            if key == "<<" and ctag is _PLAIN:
                self._fail(key_node, path, "merge keys (<<) are not allowed: write the keys out")
            if key in result:
                self._fail(key_node, (*path, key), f"duplicate key {key!r}: keep one of them")
            if type(value_node) is ScalarNode and inner <= MAX_DEPTH:
                ctag = value_node.ctag
                value = value_node.value
                if ctag is _STRING or (
                    ctag is _PLAIN and value not in _WORDS and value[0] not in _NUMERIC_START
                ):
                    result[key] = value
                    continue
            result[key] = self.build(value_node, (*path, key), inner)
        return result

    def _sequence(self, node: Node, path: tuple[str | int, ...], depth: int) -> list[JsonValue]:
        result: list[JsonValue] = []
        inner = depth + 1
        for i, item in enumerate(node.value):
            if type(item) is ScalarNode and inner <= MAX_DEPTH:
                ctag = item.ctag
                value = item.value
                if ctag is _STRING or (
                    ctag is _PLAIN and value not in _WORDS and value[0] not in _NUMERIC_START
                ):
                    result.append(value)
                    continue
            result.append(self.build(item, (*path, i), inner))
        return result

    def _scalar(self, node: ScalarNode, path: tuple[str | int, ...]) -> JsonValue:
        value: str = node.value
        ctag = node.ctag
        if ctag is _STRING:
            return value
        if ctag is _PLAIN:
            return self._plain(node, value, path)
        tag = str(ctag)
        if tag == _YAML + "str":
            return value
        if tag == _YAML + "int" and _is_int(value):
            return self._safe_int(node, value, path)
        if tag == _YAML + "float" and (_FLOAT.match(value) or _INT.match(value)):
            return self._finite(node, value, path)
        if tag == _YAML + "bool" and value in _TRUE | _FALSE:
            return value in _TRUE
        if tag == _YAML + "null" and value in _NULL:
            return None
        self._fail(node, path, f"tag {tag} is not allowed here: registry files hold JSON data")

    def _plain(self, node: ScalarNode, value: str, path: tuple[str | int, ...]) -> JsonValue:
        if value in _NULL:
            return None
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        if value[0] in _NUMERIC_START:  # a digit in any other script is no number either
            if _is_int(value):
                return self._safe_int(node, value, path)
            if _FLOAT.match(value):
                return self._finite(node, value, path)
            if _INF.match(value) or _NAN.match(value):
                self._fail(
                    node,
                    path,
                    f"{value} is not a finite number: JSON has no such value",
                    NON_FINITE,
                )
            if _TIMESTAMP.match(value):
                self.timestamps.append(pointer(*path))
        return value

    def _safe_int(self, node: ScalarNode, value: str, path: tuple[str | int, ...]) -> int:
        number = _to_int(value)
        if number is None or abs(number) > MAX_SAFE_INTEGER:
            self._fail(
                node,
                path,
                f"{_shown(value)} is beyond the integers JSON holds exactly (±2^53-1): "
                "quote it if it is a string",
                NON_FINITE,
            )
        return number

    def _finite(self, node: ScalarNode, value: str, path: tuple[str | int, ...]) -> float:
        number = float(value)
        if not math.isfinite(number):
            self._fail(
                node,
                path,
                f"{_shown(value)} is beyond the largest number JSON holds (about 1.8e308): "
                "quote it if it is a string",
                NON_FINITE,
            )
        return number

    def _fail(
        self, node: Node, path: tuple[str | int, ...], message: str, rule: str = "yaml"
    ) -> NoReturn:
        raise _Invalid(YamlProblem(message, node.start_mark.line + 1, pointer(*path), rule))


def _is_int(value: str) -> bool:
    return bool(_INT.match(value) or _OCT.match(value) or _HEX.match(value))


def _to_int(value: str) -> int | None:
    """The integer ``value`` writes, or ``None`` when it has too many digits to be a safe one."""
    base = 10
    digits = value.lstrip("+-")
    if value.startswith(("0o", "0x")):
        base, digits = (8 if value[1] == "o" else 16), value[2:]
    digits = digits.lstrip("0") or "0"
    if len(digits) > _SAFE_DIGITS:
        return None
    number = int(digits, base)
    return -number if value.startswith("-") else number


def _shown(value: str) -> str:
    """``value`` for a message: a literal of thousands of digits is cut short."""
    return value if len(value) <= 40 else f"{value[:20]}...({len(value)} characters)"


def line_of(data: bytes, ptr: str) -> int | None:
    """The 1-based line of the node at JSON pointer ``ptr`` (or of its nearest existing parent).

    Used only to report findings, so it composes the document again rather than keeping every
    node's position in memory for files that turn out to be fine.
    """
    from armgit.core.jsondata import split_pointer

    try:
        node = compose(data)
    except (YAMLError, RecursionError):
        return None
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in split_pointer(ptr):
        child: Node | None = None
        if type(node) is MappingNode:
            for key_node, value_node in node.value:
                if type(key_node) is ScalarNode and key_node.value == part:
                    child, line = value_node, key_node.start_mark.line + 1
                    break
        elif type(node) is SequenceNode and part.isdigit() and int(part) < len(node.value):
            child = node.value[int(part)]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
