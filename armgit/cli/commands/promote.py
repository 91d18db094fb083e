"""``armgit promote``."""

from __future__ import annotations

import re
from datetime import datetime

import click

from armgit.authoring.plans import EvaluationInput, Plan, Refusal, plan_promote
from armgit.cli.authoring import authoring_options, run
from armgit.cli.refs import entity_ref
from armgit.core.patterns import DIGEST_PATTERN
from armgit.core.rules.access import Actor
from armgit.core.rules.lifecycle import LIFECYCLE_ORDER
from armgit.core.timeutil import format_time
from armgit.registry.lazyview import LazyView

STATES = click.Choice(LIFECYCLE_ORDER, case_sensitive=False)


@click.command(name="promote")
@click.argument("ref", metavar="TENANT/TEMPLATE@LABEL")
@click.option("--to", "to", required=True, type=STATES, help="The next lifecycle state.")
@click.option(
    "--evaluation",
    type=click.Choice(["NOT_RUN", "RUNNING", "PASS", "FAIL"], case_sensitive=False),
    help="Record an evaluation result with the move (PASS is needed for CANDIDATE).",
)
@click.option("--suite", help="The evaluation suite that ran.")
@click.option("--report-digest", metavar="sha256:HEX", help="Digest of the evaluation report.")
@click.option("--report-uri", metavar="URL", help="Where the evaluation report is.")
@click.option("--evaluated-at", metavar="TIME", help="When it ran (RFC 3339; default: now).")
@authoring_options
def command(
    ref: str,
    to: str,
    evaluation: str | None,
    suite: str | None,
    report_digest: str | None,
    report_uri: str | None,
    evaluated_at: str | None,
    repo: str | None,
    do_commit: bool,
    branch: str | None,
    fmt: str,
) -> None:
    """Move a version one legal step along its lifecycle.

    DRAFT -> TESTING -> CANDIDATE -> APPROVED -> DEPRECATED -> RETIRED, and TESTING or
    CANDIDATE back to DRAFT. TESTING -> CANDIDATE needs an evaluation PASS, recorded here
    with --evaluation; CANDIDATE -> APPROVED needs approvals, gathered in review (the command
    says which and who may give them). To record an evaluation without moving, pass --to with
    the current state. Only the changed lines of the file change.

    \b
    Examples:
      armgit promote arm-dev/customer-support@2.1.0 --to TESTING
      armgit promote arm-dev/customer-support@2.1.0 --to CANDIDATE --evaluation PASS \\
          --suite support-regression --report-digest sha256:... --branch promote-2.1.0
    """
    vid = entity_ref(ref)
    if vid.kind != "Version":
        raise click.UsageError(f"{ref!r}: promote takes a version, TENANT/TEMPLATE@LABEL")
    if evaluation is None and any((suite, report_digest, report_uri, evaluated_at)):
        raise click.UsageError("--suite/--report-*/--evaluated-at need --evaluation STATUS")
    if report_digest is not None and not re.match(DIGEST_PATTERN, report_digest):
        raise click.UsageError("--report-digest is sha256: followed by 64 lowercase hex")

    def planner(view: LazyView, actor: Actor | None, now: datetime) -> Plan | Refusal:
        result = None
        if evaluation is not None:
            result = EvaluationInput(
                evaluation.upper(),
                suite,
                report_digest,
                report_uri,
                evaluated_at or format_time(now),
            )
        return plan_promote(view, vid, to.upper(), result)

    run(planner, repo, do_commit, branch, fmt)
