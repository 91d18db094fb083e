"""Format 3's tables of rows: packing entries (compile) and unpacking rows (runtime)."""

from __future__ import annotations

from typing import Any

import pytest

from armgit.core.index.tables import (
    DEPLOYMENT_COLUMNS,
    INSTANCE_COLUMNS,
    DuplicateRow,
    pack,
    pack_tenant,
    unpack,
)
from tests.index_helpers import example_payload

COLUMNS = ("name", "a", "b", "c")


def test_pack_sorts_rows_and_leaves_out_trailing_nulls() -> None:
    table = pack({"y": {"a": 1, "c": [3]}, "x": {"b": {"k": "v"}}}, COLUMNS)
    assert table == {
        "columns": ["name", "a", "b", "c"],
        "rows": [["x", None, {"k": "v"}], ["y", 1, None, [3]]],
    }


def test_unpack_is_the_inverse_of_pack() -> None:
    entries: dict[str, Any] = {"y": {"a": 1, "c": [3]}, "x": {"b": {"k": "v"}}, "z": {}}
    assert unpack(pack(entries, COLUMNS), "t", ("name",)) == entries


def test_a_field_without_a_column_is_not_packed() -> None:
    with pytest.raises(ValueError, match="no column for d of 'x'"):
        pack({"x": {"d": 1}}, COLUMNS)


@pytest.mark.parametrize(
    "table",
    [
        [],
        {"columns": ["name"], "rows": [], "x": 1},
        {"columns": ["id", "a"], "rows": []},  # the key column is not the one expected
        {"columns": ["name", "a", "a"], "rows": []},
        {"columns": ["name", "b"], "rows": []},  # a required column missing
        {"columns": ["name", "a"], "rows": {}},
        {"columns": ["name", "a"], "rows": [["x", 1, 2]]},  # longer than the columns
        {"columns": ["name", "a"], "rows": [[]]},
        {"columns": ["name", "a"], "rows": [[1, 2]]},
        {"columns": ["name", "a"], "rows": [{"name": "x"}]},
    ],
)
def test_malformed_tables(table: Any) -> None:
    with pytest.raises(ValueError, match=r"^t"):
        unpack(table, "t", ("name", "a"))


def test_two_rows_with_one_key() -> None:
    with pytest.raises(DuplicateRow) as info:
        unpack({"columns": ["name"], "rows": [["x"], ["y"], ["x"]]}, "t", ("name",))
    assert info.value.key == "x"


def test_columns_the_runtime_does_not_know_are_carried_along() -> None:
    table = {"columns": ["name", "a", "new"], "rows": [["x", 1, {"n": 2}]]}
    assert unpack(table, "t", ("name", "a")) == {"x": {"a": 1, "new": {"n": 2}}}


def test_every_field_the_builder_writes_has_a_column() -> None:
    tenant = example_payload()["tenants"]["arm-dev"]
    packed: Any = pack_tenant(tenant)
    assert packed["instances"]["columns"] == list(INSTANCE_COLUMNS)
    assert [t["columns"] for t in packed["deployments"].values()] == [
        list(DEPLOYMENT_COLUMNS)
    ] * len(tenant["deployments"])
    for name in ("versions", "approvals", "instances"):
        assert unpack(packed[name], name, (packed[name]["columns"][0],)) == tenant[name]
    for environment, table in packed["deployments"].items():
        assert unpack(table, environment, ("template",)) == tenant["deployments"][environment]
