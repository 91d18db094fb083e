"""How ``armgit review`` prints: text for people, JSON for tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from armgit.authoring.review import Review
from armgit.cli.output import emit_json, plural
from armgit.core.jsondata import JsonValue
from armgit.core.rules.approvals import GateStatus

if TYPE_CHECKING:
    from armgit.cli.self_approval import CommitAuthors


def gate_title(status: GateStatus) -> str:
    gate = status.gate
    change = f"{gate.change_from} -> {gate.change_to}" if gate.change_from else gate.change_to
    where = f" in {gate.environment}" if gate.environment else ""
    return f"{gate.request_type} of {gate.subject.ref}{where} ({change})"


def missing(status: GateStatus) -> int:
    return max(status.required - len(status.approved_by), 0)


def _tenants(review: Review) -> list[str]:
    return [s.gate.subject.tenant for s in review.statuses if s.gate.subject.tenant]


def emit_review_text(review: Review, label: str, authors: CommitAuthors | None = None) -> None:
    changes = sum(len(c.changes) for c in review.commits)
    click.echo(
        click.style(f"Review of {label}", bold=True)
        + f": {plural(len(review.commits), 'commit')}, {plural(changes, 'change')}, "
        f"{plural(len(review.statuses), 'gated change')}"
    )
    if authors is not None and review.statuses:
        click.echo(authors.note(_tenants(review)))
    for commit in review.commits:
        click.echo("")
        click.echo(
            click.style(f"commit {commit.commit[:12]}", fg="yellow")
            + f"  {commit.summary}  ({commit.author}, {commit.time})"
        )
        if not commit.changes and not commit.invalid:
            click.echo("  no registry change")
        for m in commit.changes:
            click.echo(f"  {click.style(m.type, bold=True)}  {m.ref}: {m.summary}")
            for line in m.details:
                click.echo(f"      {line}")
            for line in m.risk:
                click.echo(f"      {click.style('risk +', fg='red')} {line}")
        for path in commit.invalid:
            click.echo(f"  {path}: invalid file (see the findings below)")
    if review.statuses:
        click.echo("")
        click.echo(click.style("Approvals", bold=True))
    for status in review.statuses:
        short = missing(status)
        if status.rejected_by:
            verdict = click.style("REJECTED", fg="red", bold=True)
        elif short:
            verdict = click.style(f"MISSING {short}", fg="red", bold=True)
        else:
            verdict = click.style("APPROVED", fg="green", bold=True)
        click.echo(
            f"  {gate_title(status)}: {len(status.approved_by)} of {status.required} "
            f"with {status.permission}: {verdict}"
        )
        click.echo(f"      content {status.gate.digest or '(unknown)'}")
        click.echo(f"      approved by: {', '.join(status.approved_by) or '-'}")
        if status.rejected_by:
            click.echo(f"      rejected by: {', '.join(status.rejected_by)}")
        for name, why in status.refused:
            click.echo(f"      does not count: {name}: {why}")
        if short or status.rejected_by:
            who = ", ".join(status.eligible) or (
                "nobody (add a second registry admin first)"
                if status.gate.subject.kind == "Registry"
                else "nobody (assign a role with the permission)"
            )
            click.echo(f"      who may approve: {who}")
            click.echo(
                f"      armgit approve {status.gate.subject.ref} --key KEY "
                f"(valid up to {status.expires_in})"
            )
    if review.findings:
        click.echo("")
        click.echo(
            click.style(f"Findings ({len(review.findings)})", bold=True)
            + ": what armgit check and the server will refuse"
        )
        for f in review.findings:
            where = f"{f.path}:{f.line}" if f.line else f.path
            click.echo(f"  {where}: {click.style(f.rule, fg='red')}: {f.message}")


def emit_review_json(review: Review, label: str, authors: CommitAuthors | None = None) -> None:
    gates: list[JsonValue] = []
    for status in review.statuses:
        gate = status.gate
        gates.append(
            {
                "requestType": gate.request_type,
                "subject": {"kind": gate.subject.kind, "ref": gate.subject.ref},
                "change": {"from": gate.change_from, "to": gate.change_to},
                "digest": gate.digest,
                "environment": gate.environment,
                "path": gate.path,
                "required": status.required,
                "permission": status.permission,
                "expiresIn": status.expires_in,
                "approvedBy": list(status.approved_by),
                "rejectedBy": list(status.rejected_by),
                "refused": [{"approval": n, "reason": why} for n, why in status.refused],
                "missing": missing(status),
                "eligible": list(status.eligible),
                "satisfied": status.satisfied,
            }
        )
    commits: list[JsonValue] = [
        {
            "commit": c.commit,
            "summary": c.summary,
            "author": c.author,
            "time": c.time,
            "changes": [m.to_json() for m in c.changes],
            "invalid": list(c.invalid),
        }
        for c in review.commits
    ]
    emit_json(
        {
            "range": label,
            "base": review.base,
            "head": review.head,
            "commits": commits,
            "gates": gates,
            "findings": [f.to_json() for f in review.findings],
            # without --author: the commits' authors, and the operators whose approvals they make
            # not count (null with --author)
            "authors": None
            if authors is None
            else {
                "fromCommits": [f"{a.name} <{a.email}>" for a in authors.authors],
                "operators": authors.operators(_tenants(review)),
            },
        }
    )
