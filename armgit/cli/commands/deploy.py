"""``armgit deploy``."""

from __future__ import annotations

from datetime import datetime

import click

from armgit.authoring.apply import operator_name
from armgit.authoring.plans import Plan, Refusal, plan_deploy
from armgit.cli.authoring import authoring_options, run
from armgit.cli.refs import entity_ref
from armgit.core.rules.access import Actor
from armgit.registry.lazyview import LazyView


@click.command(name="deploy")
@click.argument("ref", metavar="TENANT/TEMPLATE@LABEL")
@click.option("--env", "environment", required=True, help="The environment to deploy to.")
@click.option(
    "--requested-by",
    metavar="OPERATOR",
    help="Who asks for it (default: the operator whose email is git's user.email).",
)
@authoring_options
def command(
    ref: str,
    environment: str,
    requested_by: str | None,
    repo: str | None,
    do_commit: bool,
    branch: str | None,
    fmt: str,
) -> None:
    """Make a version the active deployment of its template in an environment.

    Creates or edits deployments/ENV/TEMPLATE.yaml: version, previousVersion (the version it
    replaces), status ACTIVE, requestedBy. Live instances of the template in that environment
    are moved to the new version too. Refused if the version's lifecycle is not deployable
    there; in a protected environment the activation needs approvals, gathered in review.

    \b
    Example:
      armgit deploy arm-dev/customer-support@2.1.0 --env staging --commit
    """
    vid = entity_ref(ref)
    if vid.kind != "Version":
        raise click.UsageError(f"{ref!r}: deploy takes a version, TENANT/TEMPLATE@LABEL")

    def planner(view: LazyView, actor: Actor | None, now: datetime) -> Plan | Refusal:
        who = requested_by or operator_name(view, vid.tenant, actor)
        return plan_deploy(view, vid, environment, who)

    run(planner, repo, do_commit, branch, fmt)
