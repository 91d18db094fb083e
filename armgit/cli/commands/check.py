"""``armgit check``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from armgit.cli.options import format_option, repo_option
from armgit.cli.output import emit_findings, plural


@click.command(name="check")
@click.option("--base", required=True, metavar="REV", help="The commit the change starts from.")
@click.option("--head", required=True, metavar="REV", help="The last commit of the change.")
@click.option(
    "--author",
    "authors",
    metavar="IDENTITY",
    multiple=True,
    help="Who makes the change, an identity (e.g. github:alice) matched exactly against the "
    "operators' identities: permissions are checked for them and their own approvals do not "
    "count. Repeat it for the same person's other identities (github:alice --author "
    "github-id:12345). Without it, permissions are not checked.",
)
@repo_option
@format_option("text", "json", "github", "sarif")
def command(base: str, head: str, authors: tuple[str, ...], repo: str | None, fmt: str) -> None:
    """Check every change rule between two commits, as CI does on a pull request.

    Each commit of BASE..HEAD is checked against its parent: write-once genomes, no deleted
    versions, legal lifecycle and state transitions with their guards, no edited approvals, and
    the state rules for what it touched. Gated changes (promotions, protected deployments,
    reactivations, autonomy increases, wider privileges) need enough valid approvals by the last
    commit; permissions are judged by BASE's operators and roles. See docs/rules.md.

    \b
    Example (GitHub Actions, annotations on the diff):
      armgit check --base origin/main --head HEAD --author github:$PR_AUTHOR \\
          --author github-id:$PR_AUTHOR_ID --format github

    `--format sarif` writes SARIF 2.1.0 for GitHub code scanning (upload-sarif).
    """
    from armgit.core.rules.access import actor_from_identities
    from armgit.enforce.imported import ImportMarks
    from armgit.enforce.ranges import check_range
    from armgit.store.tree import open_repository, registry_prefix, resolve_commit

    root = Path(repo or ".").absolute()
    repository = open_repository(root)
    prefix = registry_prefix(repository, root)
    base_id = str(resolve_commit(repository, base).id)
    head_id = str(resolve_commit(repository, head).id)
    try:
        actor = actor_from_identities(authors) if authors else None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    report = check_range(
        repository,
        base_id,
        head_id,
        actor=actor,
        now=datetime.now(UTC),
        prefix=prefix,
        access=bool(authors),
    )
    # what ARM never enforced, in an honoured import's commits, is a notice (docs/import.md)
    marks = ImportMarks(repository, prefix)
    findings, notices = marks.split(report.findings, report.blame.get, base_id)
    if findings:
        summary = f"{plural(len(findings), 'finding')} in {plural(report.commits, 'commit')}"
    else:
        summary = f"ok: {plural(report.commits, 'commit')} from {base} to {head}"
    if notices:
        summary += f" ({plural(len(notices), 'notice')} on imported history)"
    emit_findings(findings, fmt, summary=summary, prefix=prefix, notices=notices)
    sys.exit(1 if findings else 0)
