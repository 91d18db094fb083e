"""``armgit validate``."""

from __future__ import annotations

import sys

import click

from armgit import api
from armgit.cli.not_registry import refuse_not_a_registry
from armgit.cli.options import format_option, quiet_option, repo_option, rev_option
from armgit.cli.output import emit_findings, plural
from armgit.cli.progress_bar import progress_shown
from armgit.gcpause import collector_paused


@click.command(name="validate")
@repo_option
@rev_option
@format_option("text", "json", "github", "sarif")
@quiet_option
def command(repo: str | None, rev: str | None, fmt: str, quiet: bool) -> None:
    """Check every state rule at one commit, or in the work tree.

    Reads every file of the registry and reports every finding (not just the first): YAML that
    is not plain JSON data, schema errors, content that contradicts its path, genome hashes that
    do not match, references that dangle or leave their tenant, lineage cycles, versions deployed
    where their lifecycle does not allow, and policies wider than their ceilings. The rules are
    documented in docs/rules.md.

    Exit code 0 when the registry is valid, 1 when there are findings, 2 when PATH is not a
    registry at all (no armgit.yaml and nothing in it).

    \b
    Examples:
      armgit validate --repo registry-example
      armgit validate --repo /srv/git/agents.git --rev main --format json
      armgit validate --format sarif > armgit.sarif   # GitHub code scanning
    """
    # The report holds what the registry loaded into (acyclic, alive until it is printed): the
    # cyclic collector would only walk it again and again.
    with collector_paused():
        with progress_shown(quiet):
            report = api.validate(repo, rev)
        where = report.source.repo + (f" at {rev}" if rev else "")
        refuse_not_a_registry(report.entities, report.findings, where)
        _print(report, rev, fmt)
    sys.exit(0 if report.ok else 1)


def _print(report: api.ValidationReport, rev: str | None, fmt: str) -> None:
    where = report.source.repo + (f" at {rev}" if rev else "")
    if report.ok:
        summary = (
            f"ok: {plural(report.files, 'file')}, {plural(report.entities, 'entity')} in {where}"
        )
    else:
        files = len({f.path for f in report.findings})
        summary = f"{plural(len(report.findings), 'finding')} in {plural(files, 'file')} ({where})"
    emit_findings(report.findings, fmt, summary=summary, prefix=report.source.prefix)
