"""Bad input of any kind in an export: a refusal naming table, line and field, or valid registry
files, never a crash (SPEC 10). One field of one row changed or removed at a time."""

from __future__ import annotations

import json
from functools import cache

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
