"""The strict YAML reader: plain JSON data, or a problem with its line."""

from __future__ import annotations

import pytest

from armgit.core.jsondata import JsonValue
from armgit.core.yamldata import YamlDoc, YamlProblem, line_of, parse_yaml

GOOD: list[tuple[bytes, JsonValue]] = [
    (b"a: 1\nb: x\n", {"a": 1, "b": "x"}),
    (b"a: [1, 2.5, -3, 1e3]", {"a": [1, 2.5, -3, 1000.0]}),
    (b"a: 0x1f\nb: 0o17\nc: 007", {"a": 31, "b": 15, "c": 7}),
    (
        b"a: ~\nb: null\nc:\nd: true\ne: False",
        {"a": None, "b": None, "c": None, "d": True, "e": False},
    ),
    (b"a: yes\nb: no\nc: on\nd: 'true'", {"a": "yes", "b": "no", "c": "on", "d": "true"}),
    (b"a: '1.0'\nb: \"0x1f\"", {"a": "1.0", "b": "0x1f"}),
    (b"a: !!str 12\nb: !!int '12'\nc: !!float '1'", {"a": "12", "b": 12, "c": 1.0}),
    (b"a: |\n  two\n  lines\n", {"a": "two\nlines\n"}),
    (b"# only a comment\n", None),
    (b"", None),
    (b"a: caf\xc3\xa9", {"a": "caf\u00e9"}),
    (b"\xef\xbb\xbfa: 1", {"a": 1}),
    # '&' and '*' that start no anchor or alias
    (
        b'a: ["tickets:*", "*:*"]\nb: R&D\nc: 5 * 3 & more\n',
        {"a": ["tickets:*", "*:*"], "b": "R&D", "c": "5 * 3 & more"},
    ),
    (b"a: |\n  * a bullet\n  & more\n", {"a": "* a bullet\n& more\n"}),
    (b"a: -" + b"0" * 5000 + b"7", {"a": -7}),
    (b"a: [1e308, -1e-400]", {"a": [1e308, -0.0]}),
]


@pytest.mark.parametrize(("data", "expected"), GOOD)
def test_plain_json_data(data: bytes, expected: JsonValue) -> None:
    doc = parse_yaml(data)
    assert isinstance(doc, YamlDoc), doc
    assert doc.data == expected


BAD: list[tuple[bytes, str, int | None]] = [
    (b"a: 1\na: 2\n", "duplicate key 'a'", 2),
    (b"a: .inf", "not a finite number", 1),
    (b"a: -.Inf", "not a finite number", 1),
    (b"a: .nan", "not a finite number", 1),
    (b"x: 1\n1: a\n", "key '1' is not a string", 2),
    (b"true: a\n", "key 'true' is not a string", 1),
    (b"? [a]\n: b\n", "keys must be strings", 1),
    (b"a: &x [1]\nb: *x\n", "anchors and aliases are not allowed", 1),
    (b"base: &b {x: 1}\nc:\n  <<: *b\n", "anchors and aliases are not allowed", 1),
    (b"c:\n  <<: {x: 1}\n", "merge keys", 2),
    (b"a: 1\nb: &x 1\nc: *x\n", "anchor &x: anchors and aliases are not allowed", 2),
    (b"a: &x 1\n", "anchors and aliases are not allowed", 1),
    (b"&x {a: 1}", "anchors and aliases are not allowed", 1),
    (b"\xef\xbb\xbf&x {a: 1}", "anchors and aliases are not allowed", 1),
    (b"a:\t&x [1]\n", "anchors and aliases are not allowed", 1),
    (b'{"a":&x 1, "b":*x}', "anchors and aliases are not allowed", 1),
    (b"a: [x, *y]\n", "alias *y: anchors and aliases are not allowed", 1),
    (b"a: 9007199254740992", "beyond the integers JSON holds exactly", 1),
    (b"a: !!int '-9007199254740992'", "beyond the integers JSON holds exactly", 1),
    (b"a: " + b"9" * 5000, "beyond the integers JSON holds exactly", 1),
    (b"a: 0x" + b"f" * 5000, "beyond the integers JSON holds exactly", 1),
    (b"a: [1e400]", "beyond the largest number JSON holds", 1),
    (b"a: -1e400", "beyond the largest number JSON holds", 1),
    (b"a: !!float 1e400", "beyond the largest number JSON holds", 1),
    (b"<<: {a: 1}", "merge keys", 1),
    (b"a: !!binary aGVsbG8=", "tag tag:yaml.org,2002:binary is not allowed", 1),
    (b"a: !!python/object:os.system ls", "is not allowed", 1),
    (b"a: !custom {}", "tag !custom is not allowed", 1),
    (b"a: !!set {x}", "is not allowed", 1),
    (b"a: !!int x", "is not allowed", 1),
    (b"a: [1\n", "malformed YAML", 2),
    (b"a: 1\n---\nb: 2\n", "expected a single document", 2),
    (b"a:\tb: c\n", "malformed YAML", None),
    (b"a: \xff\xfe", "not UTF-8", 1),
    (b"line\nline\na: \x00", "binary content", None),
    (b"a: " + b"[" * 70 + b"]" * 70, "nests deeper than 64", 1),
    (b"a: " + b"[" * 100_000 + b"]" * 100_000, "nests deeper than 64", None),
]


@pytest.mark.parametrize(("data", "message", "line"), BAD)
def test_not_plain_json_data(data: bytes, message: str, line: int | None) -> None:
    problem = parse_yaml(data)
    assert isinstance(problem, YamlProblem)
    assert message in problem.message
    if line is not None:
        assert problem.line == line


@pytest.mark.parametrize(
    "data",
    [
        b"a: .inf",
        b"a: .NaN",
        b"a: 1e400",
        b"a: [-1e999]",
        b"a: 9007199254740992",
        b"a: " + b"1" * 4301,
    ],
)
def test_numbers_json_cannot_hold_are_their_own_rule(data: bytes) -> None:
    problem = parse_yaml(b"x: 1\n" + data)
    assert isinstance(problem, YamlProblem)
    assert problem.rule == "non-finite-number"
    assert (problem.line, problem.pointer) == (2, "/a" if b"[" not in data else "/a/0")
    assert len(problem.message) < 200, "a huge literal is cut short in the message"


def test_billion_laughs_is_refused_without_expanding() -> None:
    lines = [b'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [b"a%d: &a%d [%s]" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 9)) for i in range(1, 10)]
    problem = parse_yaml(b"\n".join(lines))
    assert isinstance(problem, YamlProblem)
    assert "aliases" in problem.message


def test_unquoted_timestamps_stay_strings_and_are_located() -> None:
    doc = parse_yaml(b"a: 2026-01-01\nb:\n  - 2026-01-01T10:00:00Z\nc: '2026-01-01'\n")
    assert isinstance(doc, YamlDoc)
    assert doc.data == {"a": "2026-01-01", "b": ["2026-01-01T10:00:00Z"], "c": "2026-01-01"}
    assert doc.plain_timestamps == ("/a", "/b/0")


@pytest.mark.parametrize(
    ("pointer", "line"),
    [
        ("", 1),
        ("/a", 1),
        ("/b", 2),
        ("/b/list/1", 5),
        ("/b/list/9", 3),
        ("/nope", 1),
        ("/b/x~1y", 6),
    ],
)
def test_line_of_pointer(pointer: str, line: int) -> None:
    data = b"a: 1\nb:\n  list:\n    - x\n    - y\n  x/y: 2\n"
    assert line_of(data, pointer) == line


def test_colon_in_flow_collection_gets_a_hint() -> None:
    problem = parse_yaml(b"identities: [github:alice]\n")
    assert isinstance(problem, YamlProblem)
    assert "quote values that contain" in problem.message
