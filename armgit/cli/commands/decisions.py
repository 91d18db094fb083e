"""``armgit decisions verify|ls``: the runtime's hash-chained decision log (SPEC 12)."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime

import click

from armgit.cli.options import format_option
from armgit.cli.output import emit_table
from armgit.errors import UsageError
from armgit.runtime.decisions import RECORD_TYPES, read_records, verify_log


@click.group(name="decisions")
def command() -> None:
    """Check and query a runtime's decision log (JSON Lines, each line chained to the last).

    A runtime writes one with Runtime(..., decision_log=FILE) or
    `armgit index evaluate ... --decision-log FILE`.
    """


@command.command(name="verify")
@click.argument("log", metavar="LOG")
@click.option(
    "--head",
    metavar="sha256:HEX",
    default=None,
    help="A head printed by an earlier verify and kept elsewhere: it must still be in LOG.",
)
@format_option("text", "json")
def verify(*, log: str, head: str | None, fmt: str) -> None:
    """Check the chain of LOG: a removed, reordered or edited line is found and named.

    Prints the number of lines and the head (the last line's digest). The chain alone cannot
    tell an edited last line or lines cut off the end: keep the head elsewhere and give it
    back with --head next time. Exit code 0 intact, 1 broken.
    """
    try:
        with open(log, "rb") as handle:
            checked = verify_log(handle, head)
    except OSError as exc:
        raise UsageError(f"cannot read {log}: {exc.strerror or exc}") from exc
    if fmt == "json":
        report = {
            "valid": checked.ok,
            "lines": checked.lines,
            "head": checked.head,
            "problems": [{"line": p.line, "message": p.message} for p in checked.problems],
        }
        click.echo(json.dumps(report, indent=2))
    else:
        for problem in checked.problems:
            click.echo(f"{log}:{problem.line}: {problem.message}")
        state = "intact" if checked.ok else "BROKEN"
        click.echo(f"{log}: {checked.lines} lines, chain {state}, head {checked.head}")
    if not checked.ok:
        sys.exit(1)


_COLUMNS = ("seq", "time", "type", "decision", "outcome", "tool", "risk", "target", "requestId")


@command.command(name="ls")
@click.argument("log", metavar="LOG")
@click.option("--decision", type=click.Choice(["ALLOW", "DENY", "NEEDS_APPROVAL"]), default=None)
@click.option("--type", "record_type", type=click.Choice(RECORD_TYPES), default=None)
@click.option("--tool", default=None, help="Only calls of this tool.")
@click.option("--tenant", default=None)
@click.option("--since", metavar="TIME", default=None, help="RFC 3339 time or a date (UTC).")
@click.option("--until", metavar="TIME", default=None, help="RFC 3339 time or a date (UTC).")
@format_option("table", "jsonl", "csv")
def ls(
    *,
    log: str,
    decision: str | None,
    record_type: str | None,
    tool: str | None,
    tenant: str | None,
    since: str | None,
    until: str | None,
    fmt: str,
) -> None:
    """List the records of LOG, filtered.

    \b
    Examples:
      armgit decisions ls decisions.jsonl --decision DENY --since 2026-03-01
      armgit decisions ls decisions.jsonl --tool refund_issue --format csv
    """
    low, high = _time(since, "--since"), _time(until, "--until")
    rows = []
    for record in read_records(log):
        if decision is not None and record.get("decision") != decision:
            continue
        if record_type is not None and record.get("type") != record_type:
            continue
        if tool is not None and record.get("tool") != tool:
            continue
        if tenant is not None and record.get("tenant") != tenant:
            continue
        when = _record_time(record)
        if (low is not None and (when is None or when < low)) or (
            high is not None and (when is None or when > high)
        ):
            continue
        rows.append(record)
    if fmt == "jsonl":
        for record in rows:
            click.echo(json.dumps(record, sort_keys=True, ensure_ascii=False))
        return
    table = [[_cell(r, column) for column in _COLUMNS] for r in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(_COLUMNS)
        writer.writerows(table)
        click.echo(buffer.getvalue(), nl=False)
    elif table:
        emit_table([c.upper() for c in _COLUMNS], table)
    else:
        click.echo("no records")


def _cell(record: dict[str, object], column: str) -> str:
    if column == "target":
        where = record.get("instance") or record.get("template")
        return f"{record.get('tenant')}/{record.get('environment')}/{where}"
    value = record.get(column)
    return "" if value is None else str(value)


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"{option} {text!r}: give an RFC 3339 time or a date") from exc
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _record_time(record: dict[str, object]) -> datetime | None:
    value = record.get("time")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
