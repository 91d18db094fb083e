"""``armgit instance``."""

from __future__ import annotations

from datetime import datetime

import click

from armgit.authoring.plans import INSTANCE_VERBS, Plan, Refusal, plan_instance
from armgit.cli.authoring import authoring_options, run
from armgit.cli.refs import entity_ref
from armgit.core.layout import named_id
from armgit.core.rules.access import Actor
from armgit.core.rules.lifecycle import INSTANCE_TRANSITIONS
from armgit.registry.lazyview import LazyView


@click.command(name="instance")
@click.argument("ref", metavar="TENANT/instance/NAME")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="STATE",
    help="ACTIVE, PAUSED, READONLY, DRAINING, QUARANTINED or RETIRED; or a verb: activate, "
    "pause, readonly, drain, quarantine, reactivate, retire.",
)
@authoring_options
def command(
    ref: str, to: str, repo: str | None, do_commit: bool, branch: str | None, fmt: str
) -> None:
    """Move an instance one legal step: pause, quarantine, drain, reactivate, retire.

    PROVISIONING -> ACTIVE; ACTIVE -> PAUSED, READONLY, DRAINING or QUARANTINED; back to ACTIVE
    from PAUSED, READONLY or QUARANTINED (QUARANTINED -> ACTIVE needs an approval, gathered in
    review); DRAINING -> QUARANTINED or RETIRED.

    \b
    Examples:
      armgit instance arm-dev/instance/support-prod-1 --to QUARANTINED --branch incident-42
      armgit instance arm-dev/instance/support-prod-1 --to reactivate
    """
    state = INSTANCE_VERBS.get(to.lower(), to.upper())
    if state not in INSTANCE_TRANSITIONS:
        raise click.UsageError(f"--to {to!r}: give a state or a verb (see --help)")
    iid = entity_ref(ref)
    if iid.kind == "Template":  # TENANT/NAME: the kind is known from the command
        iid = named_id("Instance", iid.tenant, iid.name)
    if iid.kind != "Instance":
        raise click.UsageError(f"{ref!r}: give an instance, TENANT/instance/NAME")

    def planner(view: LazyView, actor: Actor | None, now: datetime) -> Plan | Refusal:
        return plan_instance(view, iid, state)

    run(planner, repo, do_commit, branch, fmt)
