"""One file's bytes to a model, with messages that say what to do."""

from __future__ import annotations

import pytest

from armgit.core.content import MAX_FILE_BYTES, parse_content

ROLE = b"apiVersion: armgit/v1\nkind: Role\nname: r\npermissions: ['write:versions']\n"


def problems(data: bytes) -> list[tuple[str, str, int | None, str]]:
    return [(p.rule, p.pointer, p.line, p.message) for p in parse_content(data).problems]


def test_valid_file_gives_a_model() -> None:
    content = parse_content(ROLE)
    assert content.kind == "Role"
    assert content.model is not None
    assert content.problems == ()


@pytest.mark.parametrize(
    ("data", "pointer", "line", "message"),
    [
        (ROLE.replace(b"name: r\n", b""), "/name", 1, "missing required field 'name': add it"),
        (
            ROLE + b"colour: red\n",
            "/colour",
            5,
            "unknown field 'colour': remove it or check its spelling",
        ),
        (ROLE.replace(b"name: r", b"name: R!"), "/name", 3, "name must be a name: lowercase ASCII"),
        (ROLE.replace(b"write:versions", b"fly:planes"), "/permissions/0", 4, "permissions"),
        (
            ROLE.replace(b"apiVersion: armgit/v1", b"apiVersion: armgit/v2"),
            "/apiVersion",
            1,
            "armgit/v1",
        ),
        (ROLE.replace(b"kind: Role", "kind: Rôle".encode()), "/kind", 2, "kind must be one of"),
        (b"- a list\n", "", 1, "must be a mapping"),
        (b"", "", 1, "must be a mapping"),
    ],
)
def test_schema_findings(data: bytes, pointer: str, line: int, message: str) -> None:
    ((rule, got_pointer, got_line, got_message),) = problems(data)
    assert (rule, got_pointer, got_line) == ("schema", pointer, line)
    assert message in got_message


def test_oversized_file_is_refused_before_parsing() -> None:
    ((rule, _, _, message),) = problems(b"#" * (MAX_FILE_BYTES + 1))
    assert rule == "file-too-large"
    assert "bytes" in message


def test_strict_types() -> None:
    data = ROLE.replace(b"kind: Role", b"kind: Environment").replace(
        b"permissions: ['write:versions']", b"protected: 'yes'"
    )
    ((rule, pointer, _, _),) = problems(data)
    assert (rule, pointer) == ("schema", "/protected")
