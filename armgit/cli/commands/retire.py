"""``armgit retire``."""

from __future__ import annotations

from datetime import datetime

import click

from armgit.authoring.plans import Plan, Refusal, plan_retire
from armgit.cli.authoring import authoring_options, run
from armgit.cli.refs import entity_ref
from armgit.core.rules.access import Actor
from armgit.registry.lazyview import LazyView


@click.command(name="retire")
@click.argument("ref", metavar="REF")
@authoring_options
def command(ref: str, repo: str | None, do_commit: bool, branch: str | None, fmt: str) -> None:
    """Retire a version (TENANT/TEMPLATE@LABEL) or an instance (TENANT/instance/NAME).

    One legal step only: a version retires from DEPRECATED, an instance from PROVISIONING,
    PAUSED, READONLY, DRAINING or QUARANTINED. A version still deployed or run somewhere is
    refused, with the deployment or instance named. Version files are never deleted.

    \b
    Example:
      armgit retire arm-dev/customer-support@1.0.0 --commit
    """
    entity_id = entity_ref(ref)

    def planner(view: LazyView, actor: Actor | None, now: datetime) -> Plan | Refusal:
        return plan_retire(view, entity_id)

    run(planner, repo, do_commit, branch, fmt)
