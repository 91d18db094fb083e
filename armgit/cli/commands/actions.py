"""``armgit actions approve|ls``: approving one tool call, and the queue of requests (SPEC 12)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from armgit.cli.options import format_option, repo_option
from armgit.cli.output import emit_table
from armgit.errors import UsageError
from armgit.runtime.actions import APPROVE, REJECT, ActionRequest, parse_request, parse_seconds
from armgit.runtime.spool import Spool


@click.group(name="actions")
def command() -> None:
    """Approve or reject one tool call an agent asked for, and list what waits (SPEC 12).

    When the runtime's evaluate answers NEEDS_APPROVAL it hands out an action request; a
    runtime with a spool directory leaves it in SPOOL/requests/, where `armgit actions ls`
    shows it and `armgit actions approve ID --spool SPOOL --key KEY` answers it.
    """


@command.command(name="approve")
@click.argument("request", metavar="REQUEST")
@click.option("--key", "key_path", required=True, metavar="SSH_KEY", help="Your SSH private key.")
@click.option("--reject", is_flag=True, help="Reject the call instead (the runtime DENYs it).")
@click.option("--justification", metavar="TEXT", default=None, help="Why, for the record.")
@click.option(
    "--valid-for",
    metavar="DURATION",
    default="15m",
    show_default=True,
    help="How long the approval holds (30s, 15m, 2h, 1d).",
)
@click.option("--out", metavar="FILE", default=None, help="Write the approval here.")
@click.option(
    "--spool", metavar="DIR", default=None, help="REQUEST is an id in this spool; answer there."
)
@click.option(
    "--index",
    "index_file",
    metavar="FILE",
    default=None,
    help="Find the approver (the operator with your key) in this index, not the registry.",
)
@click.option(
    "--approver", metavar="TENANT/OPERATOR", default=None, help="Name the approver yourself."
)
@repo_option
def approve(
    *,
    request: str,
    key_path: str,
    reject: bool,
    justification: str | None,
    valid_for: str,
    out: str | None,
    spool: str | None,
    index_file: str | None,
    approver: str | None,
    repo: str | None,
) -> None:
    """Sign an action approval of REQUEST (a request file, or an id with --spool).

    Writes {statement, signature} (to --out, into the spool with --spool, else stdout): the
    signature is an SSHSIG over the statement's RFC 8785 form, namespace armgit-action, so

    \b
      ssh-keygen -Y verify -f allowed_signers -I alice -n armgit-action -s sig < statement
    checks it. The approver is the operator of the request's tenant with your key, found in
    the registry (--repo, default here) or in an index (--index FILE).

    \b
    Examples:
      armgit actions approve request.json --key ~/.ssh/id_ed25519 --out approval.json
      armgit actions approve 3f2a9c1e --spool /srv/spool --key ~/.ssh/id_ed25519 --reject \\
        --justification "no refunds over 500"
    """
    from armgit.authoring.actions import approve_action

    try:
        seconds = parse_seconds(valid_for)
    except ValueError as exc:
        raise UsageError(f"--valid-for: {exc}") from exc
    queue = Spool(spool) if spool is not None else None
    asked = queue.find(request) if queue is not None else _read_request(request)
    now = time.time()
    if asked.expires_at <= now:
        raise UsageError(
            f"{asked.request_id} expired at {asked.body['expiresAt']}: the agent must ask again"
        )
    approval = approve_action(
        asked,
        key_path,
        decision=REJECT if reject else APPROVE,
        now=now,
        valid_for=seconds,
        justification=justification,
        repo=repo,
        index=index_file,
        approver=approver,
    )
    text = json.dumps(approval.to_json(), indent=2, sort_keys=True) + "\n"
    if out is not None:
        from armgit.store.atomic import write_atomic

        write_atomic(Path(out), text.encode())
    if queue is not None:
        path = queue.answer(approval)
        click.echo(f"{approval.decision} of {asked.request_id} by {approval.approver}: {path}")
    elif out is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"{approval.decision} of {asked.request_id} by {approval.approver}: {out}")


def _read_request(path: str) -> ActionRequest:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(
            f"cannot read {path}: {exc.strerror or exc} (an id needs --spool DIR)"
        ) from exc
    return parse_request(data)


@command.command(name="ls")
@click.option("--spool", metavar="DIR", required=True, help="The spool directory.")
@format_option("table", "json", "jsonl")
def ls(*, spool: str, fmt: str) -> None:
    """List the pending requests: tool, risk, target, context, age, time left, answers.

    Files in SPOOL/requests/ that are not requests are named on stderr (exit code 1) and left
    alone.
    """
    queue = Spool(spool)
    requests, foreign = queue.pending()
    now = time.time()
    rows = [_row(queue, request, now) for request in requests]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    elif fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, sort_keys=True))
    elif rows:
        emit_table(
            ["ID", "TOOL", "RISK", "TARGET", "CONTEXT", "AGE", "LEFT", "ANSWERS"],
            [
                [
                    str(r["requestId"])[7:19],
                    str(r["tool"]),
                    str(r["risk"]),
                    str(r["target"]),
                    str(r["context"]),
                    _span(float(r["ageSeconds"])),
                    "expired" if float(r["leftSeconds"]) <= 0 else _span(float(r["leftSeconds"])),
                    f"{r['answers']}/{r['approvalsNeeded']}",
                ]
                for r in rows
            ],
        )
    else:
        click.echo("no pending requests")
    for item in foreign:
        click.echo(f"armgit: {item.path}: not a request ({item.why}); left alone", err=True)
    if foreign:
        sys.exit(1)


def _row(queue: Spool, request: ActionRequest, now: float) -> dict[str, Any]:
    body = request.body
    if body.get("instance"):
        target = f"{body['tenant']}/instance/{body['instance']}"
    else:
        target = f"{body['tenant']}/{body['environment']}/{body['template']}@{body['version']}"
    context = f"index v{body['indexVersion']}"
    if body.get("argsDigest"):
        context += f", args {str(body['argsDigest'])[7:19]}"
    return {
        "requestId": request.request_id,
        "tool": body["tool"],
        "risk": body["risk"],
        "target": target,
        "context": context,
        "requestedAt": body["requestedAt"],
        "expiresAt": body["expiresAt"],
        "ageSeconds": max(0, int(now - request.requested_at)),
        "leftSeconds": int(request.expires_at - now),
        "answers": queue.count_answers(request.request_id),
        "approvalsNeeded": body["approvalsNeeded"],
    }


def _span(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
