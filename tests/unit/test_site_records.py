"""The site's records: decoded in one call from the lines `armgit audit` writes, and the CSV
download cut from those lines gives what encoding each record's payload again gives."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from armgit.audit.query import record_of
from armgit.audit.records import ChangeRecord
from armgit.audit.walk import to_line
from armgit.site.records import _cell, parse_records, records_csv

TRICKY = [
    ChangeRecord(
        type="VERSION_CREATED",
        tenant="arm-dev",
        target="arm-dev/support@1.0.0",
        commit="a" * 40,
        time="2026-01-02T03:04:05Z",
        author='eve "payload":{} ,"approvals":[ <eve@example.com>',
        operator=None,
        payload={"label": "1.0.0", "note": 'say ,"approvals":["x"] and "payload":1, ünï ✔\n'},
        approvals=("20260101-carol-1", "20260101-dave-2"),
    ),
    ChangeRecord(
        type="APPROVAL_DECIDED",
        tenant="arm-dev",
        target="arm-dev/deployment/prod/support",
        commit="b" * 40,
        time="2026-01-02T03:04:06Z",
        author="bob@example.com",
        operator="bob",
        payload={"approvals": ["nested"], "change": {"from": None, "to": 1.5}, "n": [1, 2.0]},
    ),
    ChangeRecord(
        type="VERSION_TRANSITIONED",
        tenant="arm-dev",
        target="arm-dev/support@1.0.0",
        commit="c" * 40,
        time="2026-01-02T03:04:07Z",
        author="arm-import@example.com",
        operator=None,
        payload={},
        imported=True,
    ),
    ChangeRecord(  # characters str.splitlines() would split a line at, inside JSON strings
        type="POLICY_UPDATED",
        tenant="arm-dev",
        target="arm-dev/policy/base",
        commit="d" * 40,
        time="2026-01-02T03:04:08Z",
        author="carol@example.com",
        operator="carol",
        payload={"reason": "one\u2028two\u2029three\x85four\x1cfive\rsix\x0bseven\x0c"},
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
