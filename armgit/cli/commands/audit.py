"""``armgit audit``."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from armgit.cli.options import quiet_option, repo_option, stream_format_option
from armgit.core.record_types import is_record_type

if TYPE_CHECKING:
    from armgit.audit.fast import Lookup
    from armgit.audit.log import Block


def _record_types(names: tuple[str, ...]) -> tuple[str, ...]:
    """The ``--type`` values, upper case; a type armgit does not know is a usage error."""
    wanted = tuple(name.upper() for name in names)
    for name in wanted:
        if not is_record_type(name):
            raise click.BadParameter(
                f"{name!r} is not a record type (docs/audit.md lists them)", param_hint="--type"
            )
    return wanted


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
    callback=lambda _ctx, _param, value: _record_types(value),
    help="Only records of this type (repeatable), e.g. VERSION_TRANSITIONED; an import's "
    "records keep ARM's types (ROLE_ASSIGNED, APPROVAL_REQUESTED, ...).",
)
@click.option(
    "--since", metavar="TIME", help="Only commits made at or after TIME (RFC 3339 or a date)."
)
@click.option(
    "--until", metavar="TIME", help="Only commits made at or before TIME (a date: all of it)."
)
@stream_format_option("table", "jsonl", "csv")
@quiet_option
def command(
    repo: str | None,
    rev: str | None,
    tenant: str | None,
    target: str | None,
    types: tuple[str, ...],
    since: str | None,
    until: str | None,
    fmt: str,
    quiet: bool,
) -> None:
    """Typed change records from the registry's history: who created, promoted, approved,
    deployed, rolled back or retired what, in which commit, with whose approval.

    Records come from the first-parent history of the branch (a merge is compared with its first
    parent), in commit order, then by target. `jsonl` is JSON Lines (one record a line); `csv`
    has a header. Records are cached by commit id in the repository's git directory, so a rerun
    only reads new commits. See docs/audit.md for each record type.

    \b
    Examples:
      armgit audit --repo registry-example --type VERSION_TRANSITIONED
      armgit audit --target arm-dev/customer-support@2.0.0 --format jsonl
      armgit audit --tenant arm-dev --since 2026-02-01 --until 2026-02-28 --format csv
    """
    # imports stay lean: when every commit is cached, neither models nor pygit2 are loaded
    from armgit.audit.fast import cached_blocks, select, write_all
    from armgit.core.moment import parse_moment
    from armgit.core.timeutil import format_time

    bounds = []
    for name, text, end in (("--since", since, False), ("--until", until, True)):
        when = parse_moment(text, end_of_day=end) if text is not None else None
        if text is not None and when is None:
            raise click.BadParameter(f"{text!r} is not an RFC 3339 time or a date", param_hint=name)
        bounds.append(format_time(when) if when is not None else None)
    if target is not None:
        from armgit.cli.refs import entity_ref

        target = entity_ref(target).ref
    found = cached_blocks(repo, rev)
    if found.blocks is not None:
        blocks = found.blocks
    else:
        from armgit.cli.progress_bar import progress_shown

        with progress_shown(quiet):
            blocks = _derive(repo, rev, found)
    lines = select(
        blocks,
        tenant=tenant,
        target=target,
        types=[t.upper() for t in types],
        since=bounds[0],
        until=bounds[1],
    )
    if fmt == "jsonl":
        out = sys.stdout.buffer
        out.flush()
        try:
            fd = out.fileno()
        except (AttributeError, OSError, ValueError):  # not a file (click's test runner)
            out.write(b"".join(lines))
            out.flush()
        else:
            write_all(fd, lines)
        sys.exit(0)
    records = [json.loads(line) for chunk in lines for line in bytes(chunk).splitlines()]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(_COLUMNS)
        for data in records:
            writer.writerow([_cell(data[c]) for c in _COLUMNS])
        click.echo(buffer.getvalue(), nl=False)
    elif records:
        from armgit.cli.output import emit_table

        emit_table(
            ["COMMIT", "TIME", "TYPE", "TARGET", "OPERATOR", "DETAIL", "APPROVALS"],
            [
                [
                    r["commit"][:10],
                    r["time"],
                    r["type"],
                    r["target"],
                    r["operator"] or r["author"],
                    _detail(r["payload"]),
                    ",".join(r["approvals"]),
                ]
                for r in records
            ],
        )
    else:
        click.echo(f"no records in {len(blocks)} commits", err=True)
    sys.exit(0)


def _derive(repo: str | None, rev: str | None, found: Lookup) -> list[Block]:
    """Derive what the cache lacks, from the head and cache file the lean path ``found`` (when
    it did not know the default branch, find it, and remember it for the lean path)."""
    import os

    # pydantic's plugin scan reads every installed distribution's metadata: none is used here
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from armgit.audit.fast import remember_branches
    from armgit.audit.query import read_audit
    from armgit.registry.history import locate_registry, protected_branches

    # the head the lean path resolved is the commit ``rev`` names (or the default branch's)
    run = read_audit(repo, found.head or rev, found.log)
    if found.head is None and rev is None:
        located = locate_registry(repo)
        branches = protected_branches(located)
        if branches is not None:
            remember_branches(Path(located.repo.path), *branches)
    return run.blocks


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
