"""Bad input of any kind in an export: a refusal naming table, line and field, or valid registry
files, never a crash (SPEC 10). One field of one row changed or removed at a time."""

from __future__ import annotations

import json
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from armgit.importer.build import map_exports
from armgit.importer.export import ExportError, parse_export
from armgit.importer.history import plan_history
from tests.import_exports import small_arm, small_mc

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=20),
    st.just("x" * 5000),
    st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.none(), st.text(max_size=5)), max_size=3),
)


@cache
def _entries() -> tuple[dict[str, bytes], dict[str, bytes]]:
    return small_arm()[0].entries(), small_mc()[0].entries()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_one_field_changed_is_refused_or_imported(data: st.DataObject) -> None:
    arm, mc = (dict(e) for e in _entries())
    target = arm if data.draw(st.booleans()) else mc
    tables = sorted(
        k for k, v in target.items() if k.endswith("/documents.jsonl") and "_tables" not in k and v
    )
    table = data.draw(st.sampled_from(tables))
    lines = target[table].decode().splitlines()
    line = data.draw(st.integers(0, len(lines) - 1))
    doc = json.loads(lines[line])
    field = data.draw(st.sampled_from(sorted(k for k in doc if not k.startswith("_"))))
    if data.draw(st.booleans()) and isinstance(doc[field], dict) and doc[field]:
        inner = data.draw(st.sampled_from(sorted(doc[field])))
        doc[field][inner] = data.draw(VALUES)
    elif data.draw(st.booleans()):
        del doc[field]
    else:
        doc[field] = data.draw(VALUES)
    lines[line] = json.dumps(doc)
    target[table] = ("\n".join(lines) + "\n").encode()
    where = ""
    try:
        export = parse_export(arm)
        mapped = map_exports(export, parse_export(mc), "acme", {})  # every document validated
        plan_history(mapped, export.rows("changeRecords"), "acme", "sha256:" + "0" * 64)
    except ExportError as refused:
        where = refused.where
    assert not where or where.startswith(f"{table}, line {line + 1}, field {field}")


def _mc_agent_changed(field: str, value: object) -> tuple[dict[str, bytes], dict[str, bytes]]:
    arm, mc = (dict(e) for e in _entries())
    table = "agents/documents.jsonl"
    lines = mc[table].decode().splitlines()
    doc = json.loads(lines[0])
    doc[field] = value
    lines[0] = json.dumps(doc)
    mc[table] = ("\n".join(lines) + "\n").encode()
    return arm, mc


def test_a_soul_hash_that_is_not_text_is_refused_with_its_field() -> None:
    """Found by the test above: a number beyond JSON's safe integers crashed the hashing."""
    arm, mc = _mc_agent_changed("soulVersionHash", 2**53)
    with pytest.raises(ExportError) as refused:
        map_exports(parse_export(arm), parse_export(mc), "acme", {})
    assert refused.value.where == "agents/documents.jsonl, line 1, field soulVersionHash"


def test_a_tool_name_armgit_cannot_hold_is_left_out_with_a_note() -> None:
    """Found by the test above: a Mission Control tool named ';' made an invalid Version."""
    arm, mc = _mc_agent_changed("allowedTools", [";", "web_search"])
    mapped = map_exports(parse_export(arm), parse_export(mc), "acme", {})
    assert any("allowedTools: ';' is not a tool id armgit holds" in n for n in mapped.notes)
