"""The Audit page's downloads for text that is not one line to every reader: a record whose
strings hold U+2028, U+2029 or U+0085 (JSON leaves them raw; ``str.splitlines`` breaks at
them) is one line of ``audit.jsonl`` and one row of ``audit.csv``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from armgit.cli.main import cli
from tests.conftest import Git

TEMPLATE = "tenants/arm-dev/templates/customer-support/template.yaml"
ODD = "one\u2028two\u2029three\x85four"


def test_line_separators_in_a_record_keep_one_row_per_record(
    example_repo: Git, tmp_path: Path
) -> None:
    path = example_repo.path / TEMPLATE
    text = path.read_text()
    line = next(x for x in text.splitlines() if x.startswith("description:"))
    path.write_text(text.replace(line, 'description: "one\\Ltwo\\Pthree\\Nfour"'))
    example_repo.commit_all("a description with line separators", when="2026-02-02T10:00:00Z")
    out = tmp_path / "site"
    result = CliRunner().invoke(
        cli, ["site", "--repo", str(example_repo.path), "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in (out / "audit.jsonl").read_bytes().split(b"\n") if x]
    rows = list(csv.reader(io.StringIO((out / "audit.csv").read_text(), newline="")))
    assert len(rows) == len(records) + 1
    updated = [r for r in records if r["type"] == "TEMPLATE_UPDATED"]
    assert updated
    assert updated[-1]["payload"]["changed"]["description"]["to"] == ODD
    assert any(ODD in row[8] for row in rows[1:])
