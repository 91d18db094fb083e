"""``armgit ls``."""

from __future__ import annotations

import sys

import click

from armgit import api
from armgit.cli.options import at_option, format_option, repo_option, rev_option
from armgit.cli.output import emit_json, emit_table, plural
from armgit.core.directory import LISTABLE, Filters, list_entities
from armgit.registry.history import rev_at


@click.command(name="ls")
@click.argument("kind", type=click.Choice(sorted(LISTABLE)), metavar="KIND")
@repo_option
@rev_option
@at_option
@click.option("--tenant", help="Only this tenant.")
@click.option("--state", help="Lifecycle (versions), state (instances) or status (deployments).")
@click.option("--env", help="Only what runs in this environment (versions: deployed there).")
@click.option("--tag", help="Only templates with this tag, and their versions and deployments.")
@click.option("--search", help="A case-insensitive substring of any column or description.")
@format_option("table", "json")
def command(
    kind: str,
    repo: str | None,
    rev: str | None,
    at: str | None,
    tenant: str | None,
    state: str | None,
    env: str | None,
    tag: str | None,
    search: str | None,
    fmt: str,
) -> None:
    """List the entities of one KIND: tenants, environments, providers, operators, roles,
    policies, templates, versions, instances, deployments or approvals.

    Only valid entities are listed; files with findings are counted on stderr (see
    `armgit validate`). Genome hashes are shown, not recomputed: `armgit show` verifies.

    \b
    Examples:
      armgit ls versions --repo registry-example --state APPROVED
      armgit ls instances --env prod --format json
      armgit ls deployments --env prod --at 2026-02-03T12:00:00Z
    """
    loaded = api.load(repo, rev_at(repo, rev, at), check=False)
    rows = list_entities(loaded.snapshot, LISTABLE[kind], Filters(tenant, state, env, tag, search))
    if fmt == "json":
        emit_json(rows)
    elif rows:
        headers = list(rows[0])
        emit_table([h.upper() for h in headers], [[r[h] for h in headers] for r in rows])
    else:
        click.echo(f"no {kind} match", err=True)
    if loaded.findings:
        files = len({f.path for f in loaded.findings})
        click.echo(
            f"note: {plural(files, 'file')} with findings left out; run `armgit validate`",
            err=True,
        )
    sys.exit(0)
