"""``armgit index verify|resolve|evaluate``: the runtime's checks and answers, JSON out."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from armgit.cli.commands.index_publish import root, status, timestamp
from armgit.cli.options import read_input
from armgit.crypto.ed25519 import KeyFileError
from armgit.errors import UsageError
from armgit.runtime import (
    NEEDS_APPROVAL,
    IndexRefused,
    IndexUnavailable,
    NotFound,
    Runtime,
    TrustRoot,
    VerifiedIndex,
    parse_root,
)
from armgit.runtime.actions import parse_approval, parse_request
from armgit.runtime.spool import Spool

F = TypeVar("F", bound=Callable[..., Any])


def _trust_options(func: F) -> F:
    func = click.option(
        "--state-dir",
        metavar="DIR",
        default=None,
        help="Remember the last accepted version here; older or replayed indexes are refused.",
    )(func)
    func = click.option(
        "--threshold",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="How many distinct trusted keys must have signed.",
    )(func)
    func = click.option(
        "--root",
        metavar="FILE",
        default=None,
        help="A signed trust root file (keys and threshold) instead of --trusted-key.",
    )(func)
    func = click.option(
        "--trusted-key",
        "trusted_keys",
        metavar="PUB",
        multiple=True,
        help="A trusted index key: an OpenSSH public key file (.pub) or line. Repeatable.",
    )(func)
    return click.argument("file", metavar="FILE")(func)


def _trust(trusted_keys: tuple[str, ...], root: str | None, threshold: int) -> TrustRoot:
    if root is not None:
        if trusted_keys:
            raise UsageError("give either --root or --trusted-key, not both")
        try:
            return parse_root(Path(root).read_bytes())
        except OSError as exc:
            raise UsageError(f"cannot read {root}: {exc.strerror or exc}") from exc
        except IndexRefused as exc:
            raise UsageError(f"--root {root}: {exc}") from exc
    if not trusted_keys:
        raise UsageError("name the trusted index keys with --trusted-key PUB (or --root FILE)")
    lines = []
    for item in trusted_keys:
        path = Path(item)
        if not item.startswith("ssh-") and path.is_file():
            lines.append(path.read_text("utf-8", errors="replace"))
        else:
            lines.append(item)
    try:
        return TrustRoot.from_public_keys(lines, threshold)
    except (KeyFileError, ValueError) as exc:
        raise UsageError(str(exc)) from exc


def _load(
    file: str,
    trusted_keys: tuple[str, ...],
    root: str | None,
    threshold: int,
    state: str | None,
    tenant: str | None = None,
) -> VerifiedIndex:
    return _load_runtime(file, trusted_keys, root, threshold, state, tenant).index


def _load_runtime(
    file: str,
    trusted_keys: tuple[str, ...],
    root: str | None,
    threshold: int,
    state: str | None,
    tenant: str | None = None,
    decision_log: str | None = None,
) -> Runtime:
    runtime = Runtime(
        _trust(trusted_keys, root, threshold),
        state_dir=state,
        tenant=tenant,
        decision_log=decision_log,
    )
    try:
        runtime.load_path(file)
        return runtime
    except (IndexRefused, IndexUnavailable) as exc:
        reason = exc.reason if isinstance(exc, IndexRefused) else "unavailable"
        click.echo(json.dumps({"valid": False, "reason": reason, "message": str(exc)}, indent=2))
        click.echo(f"armgit: {exc}", err=True)
        sys.exit(1)


@click.group(name="index")
def command() -> None:
    """Verify a signed index and ask it what the runtime asks (JSON out); its freshness; the
    trust root runtimes pin.

    verify, resolve and evaluate check FILE first, exactly as armgit.runtime does: payloadType,
    signatures from distinct trusted keys, duplicate keys, expiry, scope (with --tenant),
    version (with --state-dir) and every genome hash. Exit codes: 0 ok, 1 refused (the reason
    is printed), 2 usage. `status` is for monitoring; `root` writes the trust-root file.
    """


@command.command(name="verify")
@_trust_options
@click.option(
    "--tenant",
    default=None,
    help="Refuse FILE unless its scope covers this tenant (as a runtime bound to it does).",
)
def verify(
    *,
    file: str,
    trusted_keys: tuple[str, ...],
    root: str | None,
    threshold: int,
    state_dir: str | None,
    tenant: str | None,
) -> None:
    """Verify FILE; print its version, digest, scope, expiry and tenants.

    \b
    Example:
      armgit index verify index.json --trusted-key index-key.pub --state-dir /var/lib/agent
    """
    index = _load(file, trusted_keys, root, threshold, state_dir, tenant)
    payload = index.payload
    click.echo(
        json.dumps(
            {
                "valid": True,
                "version": index.version,
                "digest": index.digest,
                "registry": index.registry,
                "source": payload["source"],
                "scope": {"tenants": list(index.scope)},
                "issuedAt": payload["issuedAt"],
                "expires": payload["expires"],
                "previous": payload["previous"],
                "tenants": sorted(payload["tenants"]),
            },
            indent=2,
        )
    )


@command.command(name="resolve")
@_trust_options
@click.option("--tenant", required=True)
@click.option("--env", "environment", default=None, help="The environment.")
@click.option("--template", default=None)
@click.option(
    "--agent",
    metavar="REF",
    default=None,
    help="Resolve an agent instead: an instance name or a legacyAgentId.",
)
def resolve(
    *,
    file: str,
    trusted_keys: tuple[str, ...],
    root: str | None,
    threshold: int,
    state_dir: str | None,
    tenant: str,
    environment: str | None,
    template: str | None,
    agent: str | None,
) -> None:
    """Print the version of a template deployed in an environment: genome, hash, policy.

    FILE is refused unless its scope covers --tenant. With --agent REF (an instance name or a
    legacyAgentId), print that agent's instance, version, template, environment and state
    instead.
    """
    if agent is None and (environment is None or template is None):
        raise UsageError("give --env and --template, or --agent REF")
    if agent is not None and (environment is not None or template is not None):
        raise UsageError("give --agent alone, without --env and --template")
    runtime = _load_runtime(file, trusted_keys, root, threshold, state_dir, tenant)
    try:
        if agent is not None:
            click.echo(json.dumps(runtime.resolve_agent(tenant, agent).to_json(), indent=2))
            return
        assert environment is not None
        assert template is not None
        found = runtime.resolve(tenant, environment, template)
    except NotFound as exc:
        click.echo(json.dumps({"found": False, "message": str(exc)}, indent=2))
        sys.exit(1)
    click.echo(json.dumps(found.to_json(), indent=2))


@command.command(name="evaluate")
@_trust_options
@click.option("--tenant", required=True)
@click.option("--env", "environment", required=True, help="The environment.")
@click.option("--template", default=None, help="Judge against the deployed version's policy.")
@click.option("--instance", default=None, help="Judge against the instance's policy.")
@click.option("--tool", required=True, help="The tool id being called.")
@click.option(
    "--risk",
    type=click.Choice(["low", "medium", "high", "critical"]),
    default=None,
    help="Raise the risk of this call (never lowers the declared risk).",
)
@click.option("--estimated-cost", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option("--daily-tokens-used", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--monthly-cost-used", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option(
    "--data-scope", "data_scopes", multiple=True, help="A data scope touched. Repeatable."
)
@click.option(
    "--args-digest",
    metavar="sha256:HEX",
    default=None,
    help="The digest of the call's arguments: binds an action request to them.",
)
@click.option(
    "--request",
    "request_file",
    metavar="FILE",
    default=None,
    help="The action request (from an earlier NEEDS_APPROVAL) being decided.",
)
@click.option(
    "--approval",
    "approval_files",
    metavar="FILE",
    multiple=True,
    help="A signed action approval of --request (armgit actions approve). Repeatable.",
)
@click.option(
    "--decision-log",
    metavar="FILE",
    default=None,
    help="Append the decision to this hash-chained JSON Lines log.",
)
@click.option(
    "--spool",
    metavar="DIR",
    default=None,
    help="Leave a NEEDS_APPROVAL's request in this spool (armgit actions ls|approve).",
)
def evaluate(
    *,
    file: str,
    trusted_keys: tuple[str, ...],
    root: str | None,
    threshold: int,
    state_dir: str | None,
    tenant: str,
    environment: str,
    template: str | None,
    instance: str | None,
    tool: str,
    risk: str | None,
    estimated_cost: float,
    daily_tokens_used: int,
    monthly_cost_used: float,
    data_scopes: tuple[str, ...],
    args_digest: str | None,
    request_file: str | None,
    approval_files: tuple[str, ...],
    decision_log: str | None,
    spool: str | None,
) -> None:
    """Decide a tool call: ALLOW, DENY or NEEDS_APPROVAL, with reasons and digests.

    A NEEDS_APPROVAL prints an action request ("request"); save it, have it approved
    (armgit actions approve), and give it back with --request and the approvals with
    --approval: ALLOW at the policy's quorum, DENY on a valid REJECT. --instance takes an
    instance name or a legacyAgentId. Give --state-dir so an approval is used only once.

    Exit code 0 whatever the decision (it is in the JSON); 1 only when FILE is refused (also
    when its scope does not cover --tenant).

    \b
    Example:
      armgit index evaluate index.json --trusted-key k.pub --tenant arm-dev --env prod \\
        --template customer-support --tool refund_issue --estimated-cost 0.05
      armgit index evaluate index.json --trusted-key k.pub --state-dir state --tenant arm-dev \\
        --env prod --template customer-support --tool refund_issue \\
        --request request.json --approval alice.json
    """
    if (template is None) == (instance is None):
        raise UsageError("give exactly one of --template and --instance")
    if approval_files and request_file is None:
        raise UsageError("--approval answers a request: give it with --request FILE")
    request = parse_request(read_input(request_file)) if request_file is not None else None
    approvals = [parse_approval(read_input(f)) for f in approval_files]
    runtime = _load_runtime(file, trusted_keys, root, threshold, state_dir, tenant, decision_log)
    decision = runtime.evaluate(
        tenant,
        environment,
        template=template,
        instance=instance,
        tool=tool,
        risk=risk,
        estimated_cost=estimated_cost,
        daily_tokens_used=daily_tokens_used,
        monthly_cost_used=monthly_cost_used,
        data_scope=data_scopes or None,
        args_digest=args_digest,
        request=request,
        approvals=approvals,
    )
    output = decision.to_json()
    if spool is not None and decision.decision == NEEDS_APPROVAL and decision.request is not None:
        output["spooled"] = str(Spool(spool).submit(parse_request(decision.request)))
    click.echo(json.dumps(output, indent=2))


for _sub in (root, status, timestamp):
    command.add_command(_sub)
