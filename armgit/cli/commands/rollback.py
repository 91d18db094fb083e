"""``armgit rollback``."""

from __future__ import annotations

from datetime import datetime

import click

from armgit.authoring.apply import operator_name
from armgit.authoring.plans import Plan, Refusal, plan_rollback
from armgit.cli.authoring import authoring_options, run
from armgit.cli.refs import entity_ref
from armgit.core.rules.access import Actor
from armgit.registry.lazyview import LazyView


@click.command(name="rollback")
@click.argument("ref", metavar="TENANT/TEMPLATE")
@click.option("--env", "environment", required=True, help="The environment to roll back.")
@click.option("--reason", help="Why (recorded in the deployment and the commit).")
@click.option(
    "--requested-by",
    metavar="OPERATOR",
    help="Who asks for it (default: the operator whose email is git's user.email).",
)
@authoring_options
def command(
    ref: str,
    environment: str,
    reason: str | None,
    requested_by: str | None,
    repo: str | None,
    do_commit: bool,
    branch: str | None,
    fmt: str,
) -> None:
    """Return a template's deployment in an environment to its previous version.

    The deployment's version becomes its previousVersion; previousVersion becomes the version
    backed out, recorded in rollbackOf with the reason. Live instances follow. A rollback to
    the version that ran before needs no approval, even in a protected environment.

    \b
    Example:
      armgit rollback arm-dev/customer-support --env prod --reason "refund loop in 2.0.0"
    """
    tid = entity_ref(ref)
    if tid.kind != "Template":
        raise click.UsageError(f"{ref!r}: rollback takes a template, TENANT/TEMPLATE")

    def planner(view: LazyView, actor: Actor | None, now: datetime) -> Plan | Refusal:
        who = requested_by or operator_name(view, tid.tenant, actor)
        return plan_rollback(view, tid.tenant, tid.name, environment, reason, who)

    run(planner, repo, do_commit, branch, fmt)
