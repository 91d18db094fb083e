"""The site's records: decoded in one call from the lines `armgit audit` writes, and the CSV
download cut from those lines gives what encoding each record's payload again gives."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from armgit.audit.query import record_of
from armgit.audit.records import ChangeRecord
from armgit.audit.walk import to_line
from armgit.core.jsondata import JsonObject
from armgit.site.records import _cell, parse_records, records_csv


def _record(
    n: int,
    type: str,
    target: str,
    author: str,
    operator: str | None,
    payload: JsonObject,
    **extra: Any,
) -> ChangeRecord:
    """The ``n``-th record of one commit series in tenant arm-dev, a second apart."""
    commit, time = "abcd"[n] * 40, f"2026-01-02T03:04:0{5 + n}Z"
    return ChangeRecord(
        type=type, tenant="arm-dev", target=target, commit=commit, time=time, author=author,
        operator=operator, payload=payload, **extra,
    )  # fmt: skip


TRICKY = [
    _record(
        0,
        "VERSION_CREATED",
        "arm-dev/support@1.0.0",
        'eve "payload":{} ,"approvals":[ <eve@example.com>',
        None,
        {"label": "1.0.0", "note": 'say ,"approvals":["x"] and "payload":1, ünï ✔\n'},
        approvals=("20260101-carol-1", "20260101-dave-2"),
    ),
    _record(
        1,
        "APPROVAL_DECIDED",
        "arm-dev/deployment/prod/support",
        "bob@example.com",
        "bob",
        {"approvals": ["nested"], "change": {"from": None, "to": 1.5}, "n": [1, 2.0]},
    ),
    _record(
        2,
        "VERSION_TRANSITIONED",
        "arm-dev/support@1.0.0",
        "arm-import@example.com",
        None,
        {},
        imported=True,
    ),
    _record(  # characters str.splitlines() would split a line at, inside JSON strings
        3,
        "POLICY_UPDATED",
        "arm-dev/policy/base",
        "carol@example.com",
        "carol",
        {"reason": "one\u2028two\u2029three\x85four\x1cfive\rsix\x0bseven\x0c"},
    ),
]


def _lines(records: list[ChangeRecord]) -> bytes:
    return b"".join(to_line(r) for r in records)


def test_records_decode_as_one_by_one() -> None:
    lines = _lines(TRICKY)
    one_by_one = [record_of(json.loads(line)) for line in lines.splitlines()]
    assert parse_records(lines) == one_by_one == TRICKY
    assert parse_records(b"") == []


def test_csv_payload_is_the_payload_encoded_again() -> None:
    lines = _lines(TRICKY)
    rows = list(csv.reader(io.StringIO(records_csv(TRICKY, lines.decode()))))
    assert rows[0] == [
        "time", "type", "tenant", "target", "author", "operator", "commit", "approvals", "payload"
    ]  # fmt: skip
    for row, record in zip(rows[1:], TRICKY, strict=True):
        assert row[:8] == [
            record.time,
            record.type,
            record.tenant,
            record.target,
            record.author,
            record.operator or "",
            record.commit,
            " ".join(record.approvals),
        ]
        assert row[8] == json.dumps(record.payload, ensure_ascii=False, separators=(",", ":"))
    assert len(rows) == len(TRICKY) + 1


cells = st.text(st.sampled_from(list("ab ,\"\r\n\t\x00é;'\\\u2028")), max_size=8)


@settings(max_examples=300)
@given(st.lists(st.lists(cells, min_size=9, max_size=9), max_size=4))
def test_cells_are_quoted_as_the_csv_module_quotes_them(rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    assert "".join(",".join(map(_cell, row)) + "\n" for row in rows) == buffer.getvalue()
