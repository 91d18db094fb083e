"""One file's bytes to a validated model, with every problem that depends only on those bytes.

Nothing here depends on the file's path, so the result can be cached by the content's hash (the
git blob id) and reused for every path and every commit that holds the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from armgit.core.canonical import genome_hash
from armgit.core.jsondata import JsonObject, pointer
from armgit.core.models import MODELS, Document
from armgit.core.models.base import PATTERN_HINTS
from armgit.core.yamldata import YamlProblem, line_of, parse_yaml

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
    """What one blob holds: its ``kind`` (if it says), the model if valid, and its problems."""

    kind: str | None
    model: Document | None
    problems: tuple[Problem, ...]


def parse_content(data: bytes) -> Content:
    """Parse and validate one registry file's bytes."""
    if len(data) > MAX_FILE_BYTES:
        return _fail(
            "file-too-large",
            f"{len(data)} bytes is more than the {MAX_FILE_BYTES} a registry file may hold",
        )
    doc = parse_yaml(data)
    if isinstance(doc, YamlProblem):
        return Content(None, None, (Problem("yaml", doc.pointer, doc.line, doc.message),))
    value = doc.data
    if not isinstance(value, dict):
        return _fail("schema", "the file must be a mapping with apiVersion and kind", line=1)
    kind = value.get("kind")
    if not isinstance(kind, str) or kind not in MODELS:
        known = ", ".join(MODELS)
        where = line_of(data, "/kind") if "kind" in value else 1
        return _fail("schema", f"kind must be one of {known}", pointer("kind"), where)
    problems: list[Problem] = []
    model: Document | None
    try:
        model = MODELS[kind].model_validate(value)
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, data))
        model = None
    if kind == "Version":
        problems.extend(
            _genome_problems(value, doc.plain_timestamps, data, valid=model is not None)
        )
    if problems:
        return Content(kind, None, tuple(problems))
    return Content(kind, model, ())


def _fail(rule: str, message: str, ptr: str = "", line: int | None = None) -> Content:
    return Content(None, None, (Problem(rule, ptr, line, message),))


def _schema_problems(exc: ValidationError, data: bytes) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = [part for part in error["loc"] if isinstance(part, int) or not _is_internal(part)]
        ptr = pointer(*loc)
        problems.append(Problem("schema", ptr, line_of(data, ptr), _explain(error, loc)))
    return problems


def _is_internal(part: str) -> bool:
    # pydantic names the branch of a union or validator in ``loc``; a file has no such key
    return "[" in part or part.startswith(("function-", "constrained-"))


def _explain(error: object, loc: list[str | int]) -> str:
    assert isinstance(error, dict)
    kind = error["type"]
    field = _label(loc)
    if kind == "missing":
        return f"missing required field {str(loc[-1])!r}: add it"
    if kind == "extra_forbidden":
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
    value: JsonObject, timestamps: tuple[str, ...], data: bytes, *, valid: bool
) -> list[Problem]:
    genome = value.get("genome")
    problems = [
        Problem(
            "yaml",
            ptr,
            line_of(data, ptr),
            "unquoted date/time in the genome: quote it, so every reader hashes the same string",
        )
        for ptr in timestamps
        if ptr.startswith("/genome/")
    ]
    written = value.get("genomeHash")
    if valid and genome is not None and isinstance(written, str):
        actual = genome_hash(genome)
        if actual != written:
            problems.append(
                Problem(
                    "genome-hash-mismatch",
                    "/genomeHash",
                    line_of(data, "/genomeHash"),
                    f"genomeHash is {written} but the genome hashes to {actual}: for a new "
                    "version set it with `armgit hash FILE`; a released genome never changes, "
                    "so make a new version instead",
                )
            )
    return problems
