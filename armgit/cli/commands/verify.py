"""``armgit verify``."""

from __future__ import annotations

import sys

import click

from armgit.cli.options import format_option, quiet_option, repo_option
from armgit.cli.output import emit_json, plural


@click.command(name="verify")
@repo_option
@click.option(
    "--rev",
    metavar="REV",
    default=None,
    help="The branch whose whole first-parent history is verified. Default: the first of "
    "armgit.yaml's protectedBranches that exists, else HEAD.",
)
@click.option(
    "--trust-root",
    metavar="COMMIT",
    default=None,
    help="A commit of the branch's history up to which (itself included) what today's rules say "
    "is reported as trusted, not failed: the last commit an earlier armgit verified, when an "
    "upgrade brought rules that history was not admitted under.",
)
@format_option("text", "json")
@quiet_option
def command(
    repo: str | None, rev: str | None, trust_root: str | None, fmt: str, quiet: bool
) -> None:
    """Prove the history: replay every change rule and state rule for every commit from the
    root, and recompute every genome hash ever written.

    Catches what was pushed around the hooks or rewritten: a tampered or re-hashed genome, a
    deleted version, an illegal transition, a promotion or protected deployment without valid
    approvals (judged at the commit's own time), an edited approval. Permissions are not
    replayed (git does not record who pushed). Prints INTEGRITY_VERIFIED (exit 0) or
    INTEGRITY_FAILED (exit 1) with each offending commit, file and rule.

    After upgrading armgit, history that an earlier armgit admitted may break a rule added
    since; --trust-root names the last commit verified before the upgrade (docs/hooks.md,
    "Upgrading armgit").

    \b
    Example:
      armgit verify --repo /srv/git/registry.git
      armgit verify --trust-root 4f2c9e1   # verified by the armgit before the upgrade
    """
    from armgit.cli.progress_bar import progress_shown
    from armgit.enforce.verify import verify_repository

    with progress_shown(quiet):
        report = verify_repository(repo, rev, trust_root)
    if fmt == "json":
        emit_json(
            {
                "status": report.status,
                "head": report.head,
                "commits": report.commits,
                "genomes": report.genomes,
                "findings": [f.to_json() for f in report.findings],
                "notices": [f.to_json() for f in report.notices],
                "trustRoot": report.trust_root,
                "trusted": [f.to_json() for f in report.trusted],
            }
        )
    else:
        for level, color, items in (
            ("trusted: ", "yellow", report.trusted),
            ("notice: ", "yellow", report.notices),
            ("", "red", report.findings),
        ):
            for item in items:
                f = item.finding
                where = f"{f.path}:{f.line}" if f.line else f.path
                at = f" at {f.pointer}" if f.pointer else ""
                click.echo(
                    f"{level}{item.commit[:12]} {click.style(where, bold=True)}: "
                    f"{click.style(f.rule, fg=color)}{at}: {f.message}"
                )
        color = "red" if report.findings else "green"
        detail = (
            f"{plural(report.commits, 'commit')}, "
            f"{report.genomes} genome hash{'' if report.genomes == 1 else 'es'} recomputed"
        )
        if report.findings:
            detail = f"{plural(len(report.findings), 'finding')} in " + detail
        if report.notices:
            detail += f"; {plural(len(report.notices), 'notice')} on imported history"
        if report.trust_root is not None:
            detail += (
                f"; {plural(len(report.trusted), 'finding')} trusted, at or before the trust "
                f"root {report.trust_root[:12]}"
            )
        status = click.style(report.status, fg=color, bold=True)
        click.echo(f"{status}: {detail} (up to {report.head[:12]})")
    sys.exit(1 if report.findings else 0)
