"""Reporters: findings as text (colored on a terminal), JSON, GitHub annotations or SARIF."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Sequence

import click

from armgit.core.findings import Finding


def emit_findings(
    findings: Sequence[Finding],
    fmt: str,
    *,
    summary: str = "",
    prefix: str = "",
    notices: Sequence[Finding] = (),
) -> None:
    """Print ``findings`` (and ``notices``: findings that do not fail, such as what an honoured
    import relaxes); ``prefix`` is the registry's directory inside its repository."""
    if fmt == "json":
        payload: dict[str, object] = {
            "ok": not findings,
            "findings": [f.to_json() for f in findings],
        }
        if notices:
            payload["notices"] = [f.to_json() for f in notices]
        click.echo(json.dumps(payload, indent=2))
        return
    if fmt == "sarif":
        from armgit.cli.sarif import to_sarif

        click.echo(json.dumps(to_sarif(findings, prefix=prefix), indent=2))
        return
    if fmt == "github":
        for level, items in (("notice", notices), ("error", findings)):
            for f in items:
                # a file outside the registry's directory is named from it (../.github/...)
                path = posixpath.normpath(f"{prefix}/{f.path}") if prefix else f.path
                click.echo(github_annotation(f, path, level))
        if summary:
            click.echo(summary)
        return
    for level, color, items in (("notice: ", "yellow", notices), ("", "red", findings)):
        for f in items:
            where = f"{f.path}:{f.line}" if f.line else f.path
            at = f" at {f.pointer}" if f.pointer else ""
            rule = click.style(f.rule, fg=color)
            click.echo(f"{level}{click.style(where, bold=True)}: {rule}{at}: {f.message}")
    if summary:
        click.echo(summary)


def github_annotation(finding: Finding, path: str, level: str = "error") -> str:
    """A GitHub Actions ``::error`` (or ``::notice``, ``level``) workflow command for ``finding``
    at ``path``.

    Every field is escaped as the Actions toolkit does (``escapeProperty``/``escapeData``): a
    file name or message with a line break cannot end the command and start another."""
    properties = [("file", path)]
    if finding.line:
        properties.append(("line", str(finding.line)))
    properties.append(("title", finding.rule))
    joined = ",".join(f"{key}={_escape_property(value)}" for key, value in properties)
    return f"::{level} {joined}::{_escape_data(finding.message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def plural(count: int, word: str) -> str:
    if count == 1:
        return f"1 {word}"
    return f"{count} {word[:-1] + 'ies' if word.endswith('y') else word + 's'}"


def emit_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False))


def emit_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain aligned table; the header is bold on a terminal."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    header = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    click.echo(click.style(header, bold=True))
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
