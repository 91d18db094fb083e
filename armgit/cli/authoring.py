"""What every authoring command shares: its options, running a plan, and the report."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import click

from armgit.authoring.apply import Outcome, Workspace, actor_of, apply_plan, open_workspace
from armgit.authoring.plans import Plan, Refusal
from armgit.cli.output import emit_findings, emit_json
from armgit.core.rules.access import Actor
from armgit.core.rules.approvals import GateStatus
from armgit.errors import UsageError
from armgit.registry.lazyview import LazyView

F = TypeVar("F", bound=Callable[..., Any])

Planner = Callable[[LazyView, Actor | None, datetime], Plan | Refusal]


def authoring_options(func: F) -> F:
    """``--repo``, ``--commit``, ``--branch`` and ``--format``."""
    for option in reversed(
        [
            click.option(
                "--repo",
                metavar="PATH",
                default=None,
                help="The registry work tree (a clone). Default: here.",
            ),
            click.option(
                "--commit",
                "do_commit",
                is_flag=True,
                help="Commit the change (only its files), with a message that names it.",
            ),
            click.option(
                "--branch",
                metavar="NAME",
                default=None,
                help="Commit on a new branch NAME, ready to push for review (implies --commit).",
            ),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["text", "json"]),
                default="text",
                show_default=True,
                help="Output format.",
            ),
        ]
    ):
        func = option(func)
    return func


def now_utc() -> datetime:
    return datetime.now(UTC)


def run(
    planner: Planner, repo: str | None, do_commit: bool, branch: str | None, fmt: str
) -> NoReturn:
    """Plan, check, write, commit and report; exits 0, 1 (refused) or 2 (usage)."""
    try:
        ws = open_workspace(repo)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    now = now_utc()
    actor = actor_of(ws)
    plan = planner(LazyView(ws.tree), actor, now)
    if isinstance(plan, Refusal):
        refuse(plan, fmt)
    try:
        outcome = apply_plan(ws, plan, actor=actor, now=now, commit=do_commit, branch=branch)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    report(ws, outcome, fmt)


def refuse(refusal: Refusal, fmt: str) -> NoReturn:
    if fmt == "json":
        emit_json({"ok": False, "refused": refusal.message, "reasons": list(refusal.reasons)})
    else:
        click.echo(f"refused: {refusal.message}", err=True)
        for reason in refusal.reasons:
            click.echo(f"  {reason}", err=True)
    sys.exit(1)


def report(ws: Workspace, outcome: Outcome, fmt: str) -> NoReturn:
    plan = outcome.plan
    if outcome.refusal is not None:
        refuse(outcome.refusal, fmt)
    if outcome.findings:
        if fmt == "json":
            emit_json(
                {
                    "ok": False,
                    "refused": plan.message,
                    "findings": [f.to_json() for f in outcome.findings],
                }
            )
        else:
            click.echo(f"refused: {plan.message}: the change breaks these rules", err=True)
            emit_findings(outcome.findings, "text")
        sys.exit(1)
    approvals = [_gate_json(s) for s in outcome.statuses]
    if fmt == "json":
        emit_json(
            {
                "ok": True,
                "change": plan.message,
                "subject": plan.subject.ref,
                "files": outcome.written,
                "notes": list(plan.notes),
                "approvals": approvals,
                "commit": outcome.commit,
                "branch": outcome.branch,
            }
        )
        sys.exit(0)
    click.echo(click.style(plan.message, bold=True))
    for path in outcome.written:
        click.echo(f"  wrote {path}")
    for note in plan.notes:
        click.echo(f"  note: {note}")
    _echo_approvals(outcome.statuses)
    if outcome.commit is not None:
        where = f" on new branch {outcome.branch}" if outcome.branch else ""
        click.echo(f"committed {outcome.commit[:12]}{where}")
    sys.exit(0)


def _echo_approvals(statuses: list[GateStatus]) -> None:
    if not statuses:
        click.echo("approvals: none needed to merge this change")
        return
    click.echo("approvals needed before this can merge (gathered in review):")
    for status in statuses:
        gate = status.gate
        change = f"{gate.change_from} -> {gate.change_to}" if gate.change_from else gate.change_to
        state = "satisfied" if status.satisfied else f"has {len(status.approved_by)}"
        who = ", ".join(status.eligible) or "nobody yet (assign a role with the permission)"
        click.echo(
            f"  {gate.request_type} of {gate.subject.ref} ({change}): {status.required} "
            f"with {status.permission}, {state}; who may approve: {who}"
        )
        if not status.satisfied:
            click.echo(f"    (armgit approve {gate.subject.ref} --key KEY)")


def _gate_json(status: GateStatus) -> dict[str, Any]:
    gate = status.gate
    return {
        "requestType": gate.request_type,
        "subject": gate.subject.ref,
        "from": gate.change_from,
        "to": gate.change_to,
        "environment": gate.environment,
        "required": status.required,
        "permission": status.permission,
        "approvedBy": status.approved_by,
        "satisfied": status.satisfied,
        "eligible": status.eligible,
    }
