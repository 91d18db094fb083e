"""One file's bytes to a model, with messages that say what to do."""

from __future__ import annotations

import pytest

from armgit.core.content import MAX_FILE_BYTES, parse_content
from tests.unit.helpers import EXAMPLE

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


# Found by fuzzing (issue 16): pydantic names its validators and union branches in an error's
# location (``function-after[...]``, ``[key]``); a user's key that looks like one was dropped from
# the location, and the message then indexed an empty list (an internal error, no findings).
@pytest.mark.parametrize(
    ("added", "pointer"),
    [
        (b"a[: 1\n", "/a["),
        (b"function-after[x]: 1\n", "/function-after[x]"),
        (b"'[key]': 1\n", "/[key]"),
        (b"constrained-str: 1\n", "/constrained-str"),
    ],
)
def test_a_key_that_looks_like_pydantics_own_names_is_a_schema_finding(
    added: bytes, pointer: str
) -> None:
    ((rule, got_pointer, line, message),) = problems(ROLE + added)
    assert (rule, got_pointer, line) == ("schema", pointer, 5)
    assert message == f"unknown field {pointer[1:]!r}: remove it or check its spelling"


def test_pydantics_own_location_names_stay_out_of_the_pointer() -> None:
    data = ROLE.replace(b"kind: Role", b"kind: Policy").replace(
        b"permissions: ['write:versions']", b"autonomyTier: 1\ntoolRisk: {'Bad Tool': low}"
    )
    ((rule, pointer, line, _),) = problems(data)
    assert (rule, pointer, line) == ("schema", "/toolRisk/Bad Tool", 5)


POLICY = (
    b"apiVersion: armgit/v1\nkind: Policy\nname: p\nautonomyTier: 1\n"
    b"costLimits: {dailyTokens: 10, monthlyCost: COST}\n"
)


# Found by fuzzing (issue 16): 1e400 read as inf passed the schema (monthlyCost >= 0) and broke
# `armgit compile`; an integer of more than 4,300 digits raised inside int() (an internal error).
@pytest.mark.parametrize(
    ("cost", "pointer"),
    [
        (b"1e400", "/costLimits/monthlyCost"),
        (b"-1E+999", "/costLimits/monthlyCost"),
        (b".inf", "/costLimits/monthlyCost"),
        (b".nan", "/costLimits/monthlyCost"),
        (b"!!float 1e400", "/costLimits/monthlyCost"),
        (b"9" * 5000, "/costLimits/monthlyCost"),
        (b"0o" + b"7" * 5000, "/costLimits/monthlyCost"),
    ],
)
def test_numbers_json_cannot_hold_are_refused(cost: bytes, pointer: str) -> None:
    ((rule, got_pointer, line, message),) = problems(POLICY.replace(b"COST", cost))
    assert (rule, got_pointer, line) == ("non-finite-number", pointer, 5)
    assert len(message) < 200


def test_a_large_finite_cost_is_a_number() -> None:
    assert problems(POLICY.replace(b"COST", b"1.7e308")) == []


def test_a_genome_temperature_of_1e400_is_refused() -> None:
    version = (
        EXAMPLE / "tenants/arm-dev/templates/customer-support/versions/2.0.0.yaml"
    ).read_bytes()
    assert b"temperature: " in version
    start = version.index(b"temperature: ") + len(b"temperature: ")
    end = min(
        i
        for i in (version.find(b",", start), version.find(b"}", start), version.find(b"\n", start))
        if i > 0
    )
    ((rule, pointer, _, _),) = problems(version[:start] + b"1e400" + version[end:])
    assert (rule, pointer) == ("non-finite-number", "/genome/modelConfig/temperature")


def test_scalar_anchors_and_aliases_are_refused() -> None:
    data = ROLE.replace(b"name: r", b"name: &n r").replace(b"['write:versions']", b"[*n]")
    ((rule, _, line, message),) = problems(data)
    assert (rule, line) == ("yaml", 3)
    assert "anchors and aliases are not allowed" in message


def test_an_approval_rule_needs_at_least_one_approval() -> None:
    registry = (EXAMPLE / "armgit.yaml").read_bytes()
    assert parse_content(registry).problems == ()
    old = b"{requestType: VERSION_PROMOTION, count: 1,"
    assert registry.count(old) == 1
    zero = registry.replace(old, b"{requestType: VERSION_PROMOTION, count: 0,")
    ((rule, pointer, line, message),) = problems(zero)
    where = registry[: registry.index(old)].count(b"\n") + 1
    assert (rule, pointer, line) == ("schema", "/approvalRules/0/count", where)
    assert "greater than or equal to 1" in message
