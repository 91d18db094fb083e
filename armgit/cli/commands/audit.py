"""``armgit audit``."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping

import click

from armgit.cli.options import format_option, repo_option
from armgit.cli.output import emit_table
from armgit.cli.refs import entity_ref
from armgit.core.audit import RECORD_TYPES


@click.command(name="audit")
@repo_option
@click.option(
    "--rev",
    metavar="REV",
    default=None,
    help="The branch whose first-parent history is read. Default: the first of armgit.yaml's "
    "protectedBranches that exists, else HEAD.",
)
@click.option("--tenant", metavar="T", help="Only records of this tenant.")
@click.option("--target", metavar="REF", help="Only records about this entity: its history.")
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    type=click.Choice(RECORD_TYPES, case_sensitive=False),
    help="Only records of this type (repeatable), e.g. VERSION_TRANSITIONED.",
)
@click.option(
    "--since", metavar="TIME", help="Only commits made at or after TIME (RFC 3339 or a date)."
)
@click.option(
    "--until", metavar="TIME", help="Only commits made at or before TIME (a date: all of it)."
)
@format_option("table", "json", "csv")
def command(
    repo: str | None,
    rev: str | None,
    tenant: str | None,
    target: str | None,
    types: tuple[str, ...],
    since: str | None,
    until: str | None,
    fmt: str,
) -> None:
    """Typed change records from the registry's history: who created, promoted, approved,
    deployed, rolled back or retired what, in which commit, with whose approval.

    Records come from the first-parent history of the branch (a merge is compared with its first
    parent), in commit order, then by target. `json` is JSON Lines (one record a line); `csv`
    has a header. Records are cached by commit id in the repository's git directory, so a rerun
    only reads new commits. See docs/audit.md for each record type.

    \b
    Examples:
      armgit audit --repo registry-example --type VERSION_TRANSITIONED
      armgit audit --target arm-dev/customer-support@2.0.0 --format json
      armgit audit --tenant arm-dev --since 2026-02-01 --until 2026-02-28 --format csv
    """
    from armgit.audit import filter_records, read_audit
    from armgit.core.timeutil import format_time
    from armgit.history import parse_moment

    bounds = []
    for name, text, end in (("--since", since, False), ("--until", until, True)):
        when = parse_moment(text, end_of_day=end) if text is not None else None
        if text is not None and when is None:
            raise click.BadParameter(f"{text!r} is not an RFC 3339 time or a date", param_hint=name)
        bounds.append(format_time(when) if when is not None else None)
    if target is not None:
        target = entity_ref(target).ref
    run = read_audit(repo, rev)
    records = filter_records(
        run.records,
        tenant=tenant,
        target=target,
        types=[t.upper() for t in types],
        since=bounds[0],
        until=bounds[1],
    )
    if fmt == "json":
        out = sys.stdout
        for record in records:
            out.write(json.dumps(record.to_json(), ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(_COLUMNS)
        for record in records:
            data = record.to_json()
            writer.writerow([_cell(data[c]) for c in _COLUMNS])
        click.echo(buffer.getvalue(), nl=False)
    elif records:
        emit_table(
            ["COMMIT", "TIME", "TYPE", "TARGET", "OPERATOR", "DETAIL", "APPROVALS"],
            [
                [
                    r.commit[:10],
                    r.time,
                    r.type,
                    r.target,
                    r.operator or r.author,
                    _detail(r.payload),
                    ",".join(r.approvals),
                ]
                for r in records
            ],
        )
    else:
        click.echo(f"no records in {run.commits} commits", err=True)
    sys.exit(0)


_COLUMNS = (
    "commit",
    "time",
    "type",
    "tenant",
    "target",
    "author",
    "operator",
    "payload",
    "approvals",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _detail(payload: Mapping[str, object]) -> str:
    if "from" in payload and "to" in payload:
        return f"{payload['from'] or '-'} -> {payload['to'] or '-'}"
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."
