"""``--format github``: one ``::error`` workflow command per finding, every field escaped."""

from __future__ import annotations

import pytest

from armgit.cli.output import github_annotation
from armgit.core.findings import Finding


@pytest.mark.parametrize(
    ("path", "line", "message", "expected"),
    [
        (
            "tenants/a/x.yaml",
            7,
            "fix it",
            "::error file=tenants/a/x.yaml,line=7,title=schema::fix it",
        ),
        ("a.yaml", None, "100% sure", "::error file=a.yaml,title=schema::100%25 sure"),
        (
            "a.yaml",
            None,
            "two\r\nlines\n::warning::injected",
            "::error file=a.yaml,title=schema::two%0D%0Alines%0A::warning::injected",
        ),
        (
            "evil\n::add-mask::x,line=1:%.yaml",
            3,
            "m",
            "::error file=evil%0A%3A%3Aadd-mask%3A%3Ax%2Cline=1%3A%25.yaml,line=3,title=schema::m",
        ),
        ("c:\\r.yaml", None, "m", "::error file=c%3A\\r.yaml,title=schema::m"),
    ],
)
def test_every_field_is_escaped(path: str, line: int | None, message: str, expected: str) -> None:
    annotation = github_annotation(Finding("schema", path, message, line=line), path)
    assert annotation == expected
    assert "\n" not in annotation
    assert "\r" not in annotation
