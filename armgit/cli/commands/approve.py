"""``armgit approve``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from armgit.cli.options import repo_option

REQUEST_TYPES = (
    "VERSION_PROMOTION",
    "DEPLOYMENT_ACTIVATION",
    "INSTANCE_REACTIVATION",
    "POLICY_AUTONOMY_INCREASE",
    "PRIVILEGE_WIDENING",
    "REGISTRY_TRUST_CHANGE",
)


@click.command(name="approve")
@click.argument("ref", metavar="[REF]", required=False)
@click.option(
    "--key",
    metavar="SSH_PRIVATE_KEY",
    help="Your OpenSSH private key (unencrypted; ssh-keygen -t ed25519). Its public half must be "
    "in your operator file's sshKeys at the --against commit. With --attest-review: the bot's "
    "key, trusted under attestors: in armgit.yaml.",
)
@click.option("--reject", is_flag=True, help="Say REJECT instead of APPROVE (withdraws yours).")
@click.option("--justification", metavar="TEXT", help="Why (default: a short generated text).")
@click.option("--rollback-plan", metavar="TEXT", help="What to do if it goes wrong.")
@click.option(
    "--escalation-level",
    metavar="N",
    type=click.IntRange(0, 5),
    help="Escalation level 0-5, when the change was escalated.",
)
@click.option(
    "--against",
    metavar="REV",
    help="The protected branch the change will land on. Default: the first of "
    "protectedBranches (main), or origin's copy of it.",
)
@click.option(
    "--expires-in",
    metavar="DURATION",
    help="How long the approval stays valid (30m, 12h, 2d). Default and maximum: the rule's "
    "expiresIn in armgit.yaml.",
)
@click.option(
    "--change",
    "request_type",
    type=click.Choice(REQUEST_TYPES),
    help="Approve only this kind of gated change of REF (default: every one REF has).",
)
@click.option(
    "--attest-review",
    "event_path",
    metavar="EVENT_JSON",
    help="CI: attest the GitHub pull_request_review the webhook payload (EVENT_JSON) points "
    "at, for every gated change of the pull request, signed by --key. The review is read from "
    "the GitHub API ($GITHUB_API_URL, $GITHUB_TOKEN, $GITHUB_REPOSITORY): an approving review "
    "of the head becomes APPROVEs, one requesting changes or dismissed becomes REJECTs.",
)
@click.option(
    "--export-statement",
    "export_path",
    metavar="APPROVAL_FILE",
    help="Write what an approval file signs, to check it with stock ssh-keygen alone: "
    "NAME.json (the exact signed message) and NAME.json.sig (its signature), here.",
)
@repo_option
def command(
    *,
    ref: str | None,
    key: str | None,
    reject: bool,
    justification: str | None,
    rollback_plan: str | None,
    escalation_level: int | None,
    against: str | None,
    expires_in: str | None,
    request_type: str | None,
    event_path: str | None,
    export_path: str | None,
    repo: str | None,
) -> None:
    """Sign an approval (or a rejection) of a gated change and write it into the registry.

    REF is the change's subject: a version (TENANT/TEMPLATE@LABEL), a deployment
    (TENANT/deployment/ENV/TEMPLATE), an instance or a policy (TENANT/KIND/NAME), or
    `registry` (also `armgit.yaml`) for a change to what the registry trusts. The change is
    REF as it stands in this work tree (commits and uncommitted files) against the protected
    branch; the approval binds the digest of REF's whole file as proposed, so it counts only
    for exactly that content (any later edit to REF voids it). You are the operator holding
    --key's public key (for `registry`: a registry admin). The file goes to
    tenants/TENANT/approvals/ (TENANT: the subject's, or for `registry` your own); commit and
    push it with the change.

    Exit codes: 0 written, 1 refused (nothing gated, unknown key, ...), 2 usage error.

    \b
    Examples:
      armgit approve arm-dev/customer-support@2.1.0 --key ~/.ssh/id_ed25519 \\
          --justification "eval suite green, prompt diff reviewed"
      armgit approve arm-dev/deployment/prod/customer-support --key ~/.ssh/id_ed25519 \\
          --rollback-plan "armgit rollback arm-dev/customer-support --env prod"
      armgit approve registry --key ~/.ssh/id_ed25519   # a change to armgit.yaml's trust
      armgit approve --attest-review event.json --key bot_key   # CI, with GITHUB_TOKEN
      armgit approve --export-statement tenants/arm-dev/approvals/FILE.yaml
    """
    from armgit.authoring.approve import Refused
    from armgit.errors import ArmgitError

    if export_path is not None:
        if ref is not None or key is not None or event_path is not None:
            raise click.UsageError("--export-statement takes the approval file alone")
        from armgit.cli.approval_export import write_statement
        from armgit.errors import ArmgitError

        try:
            write_statement(Path(export_path), Path.cwd())
        except ArmgitError as exc:
            click.echo(f"armgit: {exc}", err=True)
            sys.exit(2)
        return
    if key is None:
        raise click.UsageError("give --key SSH_PRIVATE_KEY (your key, or the CI bot's)")
    now = datetime.now(UTC)
    try:
        if event_path is not None:
            if ref is not None or reject or rollback_plan or escalation_level is not None:
                raise click.UsageError(
                    "--attest-review takes no REF, --reject, --rollback-plan or "
                    "--escalation-level: the review says what is approved"
                )
            _attest(event_path, key, repo, against, now)
        else:
            if ref is None:
                raise click.UsageError("give the REF to approve (or --attest-review EVENT_JSON)")
            _approve(
                ref,
                key=key,
                reject=reject,
                justification=justification,
                rollback_plan=rollback_plan,
                escalation_level=escalation_level,
                against=against,
                expires_in=expires_in,
                request_type=request_type,
                repo=repo,
                now=now,
            )
    except Refused as exc:
        click.echo(f"armgit: refused: {exc}", err=True)
        sys.exit(1)
    except ArmgitError as exc:  # usage: unreadable key or event, unknown revision, ...
        click.echo(f"armgit: {exc}", err=True)
        sys.exit(2)


def _approve(
    ref: str,
    *,
    key: str,
    reject: bool,
    justification: str | None,
    rollback_plan: str | None,
    escalation_level: int | None,
    against: str | None,
    expires_in: str | None,
    request_type: str | None,
    repo: str | None,
    now: datetime,
) -> None:
    from armgit.authoring.approval_file import Decision
    from armgit.authoring.approve import (
        Refused,
        admin_holder,
        default_against,
        describe_gate,
        gates_of,
        key_holder,
        open_workspace,
        pending_gates,
        read_private_key,
        rule_of,
        validity,
        write_approval,
    )
    from armgit.cli.refs import entity_ref
    from armgit.core.layout import REGISTRY_FILE, REGISTRY_ID
    from armgit.core.rules.approvals import may_approve
    from armgit.crypto.sshkeys import public_key_of

    subject = REGISTRY_ID if ref == REGISTRY_FILE else entity_ref(ref)
    if subject.kind not in ("Version", "Deployment", "Instance", "Policy", "Registry"):
        raise click.UsageError(
            f"{ref}: approvals are for versions, deployments, instances, policies and the "
            "registry (registry)"
        )
    private = read_private_key(key)
    ws = open_workspace(repo)
    pending = pending_gates(ws, against or default_against(ws), now=now)
    gates = gates_of(pending, subject, request_type)
    public = public_key_of(private)
    if subject.tenant:
        tenant, operator = subject.tenant, key_holder(pending.base, subject.tenant, public)
        where = f"operator of {subject.tenant!r}"
    else:
        tenant, operator = admin_holder(pending.base, public) or ("", None)
        where = "registry admin (registryAdmins in armgit.yaml)"
    if operator is None:
        raise Refused(
            f"no {where} holds the key {public.fingerprint} at "
            f"{pending.base_commit[:12]}: add its public line ({key}.pub) to your operator "
            "file's sshKeys on the protected branch first"
        )
    if not reject:
        from armgit.cli.self_approval import warn_self_approval

        warn_self_approval(ws, pending, gates, operator)
    decision_word = "REJECT" if reject else "APPROVE"
    plan = [(gate, rule_of(pending.base, gate)) for gate in gates]
    durations = [validity(rule, expires_in) for _, rule in plan]  # all checked before writing
    for (gate, rule), valid_for in zip(plan, durations, strict=True):
        done = "rejected" if reject else "approved"
        text = justification or f"{done} after review: {describe_gate(gate)}"
        decision = Decision(
            approver=operator.name,
            decision=decision_word,
            justification=text,
            rollback_plan=rollback_plan,
            escalation_level=escalation_level,
            tenant=tenant,
        )
        written = write_approval(ws, gate, decision, private, now, valid_for)
        s = written.statement
        click.echo(f"wrote {written.relative}")
        click.echo(
            f"  {s.approver} {'APPROVES' if not reject else 'REJECTS'} {describe_gate(gate)}"
        )
        click.echo(f"  content {s.digest}, valid until {s.expires_at}")
        if not may_approve(pending.base, tenant, operator, rule.permission, now):
            click.echo(
                f"  note: {operator.name} does not hold {rule.permission} in "
                f"{tenant!r}: this approval will not count",
                err=True,
            )
    click.echo("commit it with the change: git add tenants && git commit")


def _attest(
    event_path: str, key: str, repo: str | None, against: str | None, now: datetime
) -> None:
    from armgit.authoring.approve import describe_gate, open_workspace, read_private_key
    from armgit.authoring.attest import attest_review
    from armgit.authoring.github_api import api_from_environment
    from armgit.authoring.github_review import parse_review_event
    from armgit.errors import UsageError

    try:
        data = Path(event_path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the event {event_path}: {exc.strerror or exc}") from exc
    event = parse_review_event(data)
    api = api_from_environment()
    private = read_private_key(key)
    ws = open_workspace(repo)
    result = attest_review(ws, event, private, now, against, api)
    pending, review = result.pending, result.review
    if any(not gate.subject.tenant for gate in pending.gates):
        click.echo(
            "note: the change to what armgit.yaml trusts is not attested: a registry admin "
            "approves it with their own key (armgit approve registry --key KEY)",
            err=True,
        )
    if result.note is not None:
        click.echo(f"note: {result.note}: no {result.decision} written", err=True)
    if not result.written:
        if not pending.gates:
            click.echo(
                f"nothing gated between {pending.base_commit[:12]} and "
                f"{pending.head_commit[:12]}: no approval written"
            )
        return
    verb = "APPROVES" if result.decision == "APPROVE" else "REJECTS"
    for item in result.written:
        click.echo(f"wrote {item.relative}")
        click.echo(
            f"  {item.statement.approver} (github:{review.login}, review {review.review_id}) "
            f"{verb} {describe_gate(item.gate)}"
        )
