"""``armgit site``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from armgit.cli.not_registry import refuse_not_a_registry
from armgit.cli.options import repo_option, rev_option
from armgit.cli.output import plural
from armgit.gcpause import collector_paused


@click.command(name="site")
@click.option(
    "--out",
    metavar="DIR",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the site (a new or empty directory, or a site written before).",
)
@repo_option
@rev_option
def command(out: Path, repo: str | None, rev: str | None) -> None:
    """Write a static, read-only web view of the registry at one commit, with its history.

    HTML, CSS and JavaScript only: open DIR/index.html from disk, or serve DIR from any static
    host (GitHub Pages, the server that serves the index). Pages: the Directory (templates,
    versions, instances: filter, search, sort), a page per version (genome, integrity
    recomputed, lineage, where it runs, approvals, history), per template and instance,
    Deployments, Policies, Approvals with the open proposals, Audit, Operators and roles.

    A registry with findings is still written, with the findings on the pages they concern
    (TAMPERED versions, a findings panel); the exit code is then 1. See docs/site.md.

    \b
    Examples:
      armgit site --repo registry-example --out site/
      armgit site --repo /srv/git/agents.git --rev main --out /var/www/agents
    """
    from armgit.site.collect import collect
    from armgit.site.render import build_site

    # a fleet's site holds hundreds of thousands of long-lived objects and makes no cycles
    # worth collecting: the collector would only walk them again and again
    with collector_paused():
        source = collect(repo, rev)
        where = source.source.repo + (f" at {rev}" if rev else "")
        refuse_not_a_registry(len(source.snapshot), source.findings, where)
        built = build_site(source, out)
    click.echo(
        f"wrote {plural(built.files, 'file')} ({plural(built.pages, 'page')}, "
        f"{plural(built.versions, 'version')}) to {built.out}"
    )
    if built.findings:
        files = len({f.path for f in built.findings})
        click.echo(
            f"{plural(len(built.findings), 'finding')} in {plural(files, 'file')}: shown on the "
            "pages they concern and in findings.html; run `armgit validate` for the list",
            err=True,
        )
        sys.exit(1)
    sys.exit(0)
