"""One file's bytes to a validated model, with every problem that depends only on those bytes.

Nothing here depends on the file's path, so the result can be cached by the content's hash (the
git blob id) and reused for every path and every commit that holds the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from armgit.core.canonical import CanonicalizationError, genome_hash
from armgit.core.jsondata import JsonObject, JsonValue, pointer
from armgit.core.models import MODELS, Document
from armgit.core.patterns import PATTERN_HINTS
from armgit.core.yamldata import YamlDoc, YamlProblem, line_of, parse_yaml

MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Problem:
    """A finding without its file: rule id, JSON pointer, 1-based line (or None), message."""

    rule: str
    pointer: str
    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class Content:
    """What one blob holds: its ``kind`` (if it says), the model if valid, its problems, and
    the plain JSON data it was read as (``None`` when it could not be read)."""

    kind: str | None
    model: Document | None
    problems: tuple[Problem, ...]
    data: JsonValue = None


def content_from_data(kind: str, data: JsonValue) -> Content:
    """Rebuild the Content of a blob that was valid, from its cached plain data."""
    return Content(kind, MODELS[kind].model_validate(data), (), data)


def parse_content(data: bytes) -> Content:
    """Parse and validate one registry file's bytes."""
    return content_of(read_document(data), data)


@dataclass(frozen=True, slots=True)
class ReadFile:
    """A file read as JSON data, with its genome's hash when it has one (costly, so computed
    where the file is read, possibly in a worker process) and, when the reader made it, the
    data as compact JSON text (what the content cache stores)."""

    doc: YamlDoc
    genome_hash: str | None = None
    data_json: str | None = None


def read_document(data: bytes) -> ReadFile | Problem:
    """The first, costly half of :func:`parse_content`: bytes to JSON data (or why not).

    Separate so that many files can be read in parallel processes (see armgit.store.parallel).
    """
    if len(data) > MAX_FILE_BYTES:
        return Problem(
            "file-too-large",
            "",
            None,
            f"{len(data)} bytes is more than the {MAX_FILE_BYTES} a registry file may hold",
        )
    doc = parse_yaml(data)
    if isinstance(doc, YamlProblem):
        return Problem(doc.rule, doc.pointer, doc.line, doc.message)
    value = doc.data
    if isinstance(value, dict) and value.get("kind") == "Version" and "genome" in value:
        try:
            return ReadFile(doc, genome_hash(value["genome"]))
        except CanonicalizationError as exc:
            return Problem("yaml", "/genome", None, str(exc))
    return ReadFile(doc)


def content_of(read: ReadFile | Problem, raw: bytes | Callable[[], bytes]) -> Content:
    """The second half of :func:`parse_content`: validate what :func:`read_document` read.

    ``raw`` (the bytes, or a way to get them) is used only to locate problems by line.
    """
    if isinstance(read, Problem):
        return Content(None, None, (read,))
    doc = read.doc
    data = _Lazy(raw)
    value = doc.data
    if not isinstance(value, dict):
        return _fail("schema", "the file must be a mapping with apiVersion and kind", line=1)
    kind = value.get("kind")
    if not isinstance(kind, str) or kind not in MODELS:
        known = ", ".join(MODELS)
        where = line_of(data.get(), "/kind") if "kind" in value else 1
        return _fail("schema", f"kind must be one of {known}", pointer("kind"), where)
    problems: list[Problem] = []
    model: Document | None
    try:
        model = MODELS[kind].model_validate(value)
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, value, data))
        model = None
    if kind == "Version":
        problems.extend(
            _genome_problems(
                value, doc.plain_timestamps, data, read.genome_hash, valid=model is not None
            )
        )
    if problems:
        return Content(kind, None, tuple(problems), value)
    return Content(kind, model, (), value)


class _Lazy:
    """The file's bytes, fetched on first use (only findings need them)."""

    def __init__(self, raw: bytes | Callable[[], bytes]) -> None:
        self._raw = raw

    def get(self) -> bytes:
        if callable(self._raw):
            self._raw = self._raw()
        return self._raw


def _fail(rule: str, message: str, ptr: str = "", line: int | None = None) -> Content:
    return Content(None, None, (Problem(rule, ptr, line, message),))


def _schema_problems(exc: ValidationError, value: JsonObject, data: _Lazy) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = _file_location(error["loc"], value)
        ptr = pointer(*loc)
        problems.append(Problem("schema", ptr, line_of(data.get(), ptr), _explain(error, loc)))
    return problems


def _file_location(loc: tuple[str | int, ...], value: JsonValue) -> list[str | int]:
    """The parts of a pydantic ``loc`` that are keys and indexes of the file.

    pydantic also names the validator or union branch it was in (``function-after[...]``,
    ``[key]``); such a part is dropped, unless the file has that very key where the walk is: a
    user's key ``a[`` is a key like any other.
    """
    kept: list[str | int] = []
    node: object = value
    for part in loc:
        child = _child(node, part)
        if child is _ABSENT and isinstance(part, str) and _is_internal(part):
            continue
        kept.append(part)
        node = child  # past the data (a missing field), the rest is kept as pydantic says
    return kept


_ABSENT = object()


def _child(node: object, part: str | int) -> object:
    if isinstance(node, dict) and isinstance(part, str):
        return node.get(part, _ABSENT)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _ABSENT


def _is_internal(part: str) -> bool:
    return "[" in part or part.startswith(("function-", "constrained-"))


def _explain(error: object, loc: list[str | int]) -> str:
    assert isinstance(error, dict)
    kind = error["type"]
    field = _label(loc)
    if kind == "missing" and loc:
        return f"missing required field {str(loc[-1])!r}: add it"
    if kind == "extra_forbidden" and loc:
        return f"unknown field {str(loc[-1])!r}: remove it or check its spelling"
    if kind == "string_pattern_mismatch":
        hint = PATTERN_HINTS.get(error.get("ctx", {}).get("pattern", ""))
        if hint:
            return f"{field} must be {hint}"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"{field}: {message}" if loc else message


def _label(loc: list[str | int]) -> str:
    """``genome.toolManifest[0].risk`` for a pydantic location."""
    label = ""
    for part in loc:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else part)
    return label or "the document"


def _genome_problems(
    value: JsonObject,
    timestamps: tuple[str, ...],
    data: _Lazy,
    actual: str | None,
    *,
    valid: bool,
) -> list[Problem]:
    genome = value.get("genome")
    problems = [
        Problem(
            "yaml",
            ptr,
            line_of(data.get(), ptr),
            "unquoted date/time in the genome: quote it, so every reader hashes the same string",
        )
        for ptr in timestamps
        if ptr.startswith("/genome/")
    ]
    written = value.get("genomeHash")
    if valid and genome is not None and isinstance(written, str) and actual not in (None, written):
        problems.append(
            Problem(
                "genome-hash-mismatch",
                "/genomeHash",
                line_of(data.get(), "/genomeHash"),
                f"genomeHash is {written} but the genome hashes to {actual}: for a new "
                "version set it with `armgit hash FILE`; a released genome never changes, "
                "so make a new version instead",
            )
        )
    return problems
