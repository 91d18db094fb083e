"""``armgit import``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from armgit.cli.options import format_option, repo_option
from armgit.cli.output import emit_json, emit_table, plural


@click.group(name="import")
def command() -> None:
    """Import a registry from another system, with its history, onto a branch of its own."""


@command.command(name="arm")
@click.argument("export", type=click.Path(path_type=Path))
@click.option(
    "--mission-control",
    "mission_control",
    metavar="MC_EXPORT",
    type=click.Path(path_type=Path),
    help="Mission Control's export too: its agents become templates, versions and instances.",
)
@repo_option
@click.option(
    "--branch",
    metavar="NAME",
    help="The branch to write (default: import/SOURCE); never a protected one.",
)
@click.option(
    "--source",
    metavar="NAME",
    default="arm",
    show_default=True,
    help="What the import came from, kept in every legacy block and commit (e.g. arm-prod).",
)
@click.option(
    "--names",
    "names",
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="A YAML or JSON mapping of Convex id -> armgit name, overriding the names made.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and the report; write nothing.")
@format_option("text", "json")
def arm(
    export: Path,
    mission_control: Path | None,
    repo: str | None,
    branch: str | None,
    source: str,
    names: Path | None,
    dry_run: bool,
    fmt: str,
) -> None:
    """Import a Convex snapshot export of ARM (npx convex export: a ZIP or its folder).

    Every ARM entity becomes its registry file (genomes re-hashed, ARM's hash kept with its
    verdict VERIFIED / MISMATCH / PLACEHOLDER in a legacy block); the change records become
    commits in time order, authored by their operators; a last commit makes the tree equal the
    snapshot. The branch is new (or continued by a rerun), never protected: merge it with a pull
    request. The same export and options give the same commits. See docs/import.md.

    \b
    Example:
      npx convex export --path arm.zip
      armgit import arm arm.zip --mission-control mc.zip --source arm-prod --dry-run
      armgit import arm arm.zip --mission-control mc.zip --source arm-prod
    """
    from armgit.core.layout import is_valid_name
    from armgit.importer.export import ExportError
    from armgit.importer.run import ImportOptions, run_import
    from armgit.importer.write import ImportRefused

    if not is_valid_name(source):
        raise click.UsageError(f"--source {source!r}: use lowercase ASCII letters, digits and '-'")
    options = ImportOptions(
        export=export,
        mission_control=mission_control,
        repo=Path(repo or "."),
        branch=branch,
        source=source,
        names=names,
        dry_run=dry_run,
    )
    try:
        result = run_import(options)
    except ExportError as exc:
        click.echo(f"armgit: the export cannot be read: {exc}; nothing was written", err=True)
        sys.exit(1)
    except ImportRefused as exc:
        click.echo(f"armgit: import refused: {exc}; nothing was written", err=True)
        sys.exit(1)
    if fmt == "json":
        emit_json({"dryRun": dry_run, **result.to_json()})
        return
    tables = result.report["tables"]
    assert isinstance(tables, dict)
    rows = []
    for name, counts in tables.items():
        assert isinstance(counts, dict)
        rows.append(
            [
                name,
                str(counts.get("rows", 0)),
                str(counts.get("mapped", 0)),
                str(counts.get("evidence", 0)),
                str(counts.get("history", 0)),
                str(counts.get("notImported", 0)),
            ]
        )
    emit_table(["table", "rows", "mapped", "evidence", "history", "not imported"], rows)
    verdicts = result.report["genomeHashes"]
    assert isinstance(verdicts, dict)
    if verdicts:
        click.echo("ARM genome hashes: " + ", ".join(f"{n} {v}" for v, n in verdicts.items()))
    replay = result.report["history"]
    if isinstance(replay, dict) and replay:
        click.echo("history: " + ", ".join(f"{k} {v}" for k, v in replay.items()))
    notes = result.report["notes"]
    assert isinstance(notes, list)
    for note in notes:
        click.echo(f"note: {note}")
    files = len({p for c in result.plan for p in c.changes})
    click.echo(f"import mark: {result.export} (name it in armgit.yaml imports to land it)")
    if dry_run:
        click.echo(
            f"dry run: would write {plural(len(result.plan), 'commit')} ({plural(files, 'file')}) "
            f"on {result.branch}, from {result.base[:12]}"
        )
        for planned in result.plan:
            click.echo(
                f"  {planned.message.splitlines()[0]} ({plural(len(planned.changes), 'file')})"
            )
        return
    if result.written:
        click.echo(
            f"imported: {plural(result.written, 'commit')} on {result.branch} "
            f"(tip {result.tip[:12]}, {plural(files, 'file')}); open a pull request from it"
        )
    else:
        click.echo(f"up to date: {result.branch} already holds this import (tip {result.tip[:12]})")
