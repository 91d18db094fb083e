"""``armgit index verify|resolve|evaluate``: the runtime's checks and answers, JSON out."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from armgit.cli.options import repo_option, rev_option
from armgit.crypto.ed25519 import KeyFileError
from armgit.errors import UsageError
from armgit.runtime import (
    IndexRefused,
    IndexUnavailable,
    NotFound,
    Runtime,
    TrustRoot,
    VerifiedIndex,
    parse_root,
)

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
    runtime = Runtime(_trust(trusted_keys, root, threshold), state_dir=state, tenant=tenant)
    try:
        return runtime.load_path(file)
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
@click.option("--env", "environment", required=True, help="The environment.")
@click.option("--template", required=True)
def resolve(
    *,
    file: str,
    trusted_keys: tuple[str, ...],
    root: str | None,
    threshold: int,
    state_dir: str | None,
    tenant: str,
    environment: str,
    template: str,
) -> None:
    """Print the version of a template deployed in an environment: genome, hash, policy.

    FILE is refused unless its scope covers --tenant."""
    index = _load(file, trusted_keys, root, threshold, state_dir, tenant)
    try:
        found = index.resolve(tenant, environment, template)
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
) -> None:
    """Decide a tool call: ALLOW, DENY or NEEDS_APPROVAL, with reasons and digests.

    Exit code 0 whatever the decision (it is in the JSON); 1 only when FILE is refused (also
    when its scope does not cover --tenant).

    \b
    Example:
      armgit index evaluate index.json --trusted-key k.pub --tenant arm-dev --env prod \\
        --template customer-support --tool refund_issue --estimated-cost 0.05
    """
    if (template is None) == (instance is None):
        raise UsageError("give exactly one of --template and --instance")
    index = _load(file, trusted_keys, root, threshold, state_dir, tenant)
    decision = index.evaluate(
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
    )
    click.echo(json.dumps(decision.to_json(), indent=2))


@command.command(name="root")
@repo_option
@rev_option
@click.option(
    "--key",
    "keys",
    metavar="SSH_KEY",
    multiple=True,
    required=True,
    help="An index signer's Ed25519 private key (OpenSSH). Repeat up to the threshold; for a "
    "rotation, also the previous root's keys up to its threshold.",
)
@click.option("--out", metavar="FILE", required=True, help="Where to write the root file.")
@click.option(
    "--previous-root",
    metavar="FILE",
    default=None,
    help="The root runtimes pin now: the new one is its rotation (version + 1), signed by it.",
)
def root(
    *,
    repo: str | None,
    rev: str | None,
    keys: tuple[str, ...],
    out: str,
    previous_root: str | None,
) -> None:
    """Write the trust-root file runtimes pin, from armgit.yaml's indexSigners.

    The root lists the indexSigners keys and threshold and is signed by the threshold of them
    (and, with --previous-root, by the threshold of the previous root's keys: a rotation a
    runtime follows, SPEC 7). Runtimes pin it with `--root FILE` or
    `armgit.runtime.parse_root`; a rotation is handed to `Runtime.rotate_root`.

    \b
    Examples:
      armgit index root --rev main --key ~/.ssh/index_ed25519 --out root.json
      armgit index root --rev main --key old_ed25519 --key new_ed25519 \\
          --previous-root root.json --out root-2.json
    """
    from armgit.crypto.ed25519 import parse_private_key
    from armgit.index.compiler import Compiler
    from armgit.index.root import make_root
    from armgit.store.atomic import PUBLISHED, write_atomic
    from armgit.store.tree import open_tree

    private = [parse_private_key(_read_file(k, "key"), name=k) for k in keys]
    before = _read_file(previous_root, "previous root") if previous_root else None
    signers = Compiler(open_tree(repo, rev)).signers()
    data, made = make_root(signers, private, before)
    try:
        write_atomic(out, data, mode=PUBLISHED)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from exc
    click.echo(
        f"wrote {out}: trust root version {made.version}, "
        f"{made.threshold} of {len(made.keys)} key(s): {', '.join(sorted(made.keys))}"
    )


def _read_file(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc


@command.command(name="status")
@click.argument("source", metavar="FILE-or-URL")
@click.option(
    "--warn-within",
    metavar="DURATION",
    default=None,
    help="Exit 1 when the index expires within this (12h, 2d, ...). Default: a quarter of its "
    "lifetime, when a runtime starts warning.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def status(*, source: str, warn_within: str | None, fmt: str) -> None:
    """How fresh a published index is: version, digest, issued, expires and time left.

    Exit codes, for cron and monitoring: 0 fresh; 1 inside the warning window or expired (the
    publisher has stopped re-signing: runtimes fail closed at expiry); 2 the index cannot be
    read. Signatures are not checked here (`armgit index verify` does that).

    \b
    Examples:
      armgit index status https://cdn.example/agents/index.json --warn-within 2d
      armgit index status site/index.json --format json
    """
    from datetime import UTC, datetime

    from armgit.index.compile import parse_duration
    from armgit.index.status import describe, read_status
    from armgit.runtime.fetch import DefaultFetcher
    from armgit.runtime.verify import DEFAULT_MAX_BYTES

    window = parse_duration(warn_within) if warn_within is not None else None
    try:
        fetched = DefaultFetcher().fetch(source, None, DEFAULT_MAX_BYTES)
    except (IndexRefused, IndexUnavailable) as exc:
        raise UsageError(str(exc)) from exc
    assert fetched is not None
    found = read_status(fetched.data, datetime.now(UTC), window, what=source)
    if fmt == "json":
        click.echo(json.dumps(found.to_json(), indent=2))
    else:
        left = found.time_left.total_seconds()
        when = f"in {describe(left)}" if left > 0 else f"{describe(left)} ago"
        click.echo(
            f"{source}: version {found.version} of {found.registry or '?'} "
            f"(scope {', '.join(found.scope)}), {found.digest}\n"
            f"issued  {found.to_json()['issuedAt']}\n"
            f"expires {found.to_json()['expires']} ({when}; "
            f"warning window {describe(found.warn_within.total_seconds())}): {found.state}"
        )
    if found.state != "ok":
        click.echo(
            f"armgit: {source} {'expired' if found.state == 'expired' else 'expires soon'}: "
            "re-sign and publish it (armgit compile; docs/index.md, Freshness)",
            err=True,
        )
        sys.exit(1)


@command.command(name="timestamp")
@click.argument("index_file", metavar="INDEX")
@click.option(
    "--key",
    "keys",
    metavar="SSH_KEY",
    multiple=True,
    required=True,
    help="An index signer's Ed25519 private key (OpenSSH). Repeatable.",
)
@click.option("--out", metavar="FILE", required=True, help="Where to write the record.")
@click.option(
    "--expires-in",
    metavar="DURATION",
    default="1d",
    show_default=True,
    help="How long runtimes accept the index on this record's word.",
)
@click.option(
    "--previous",
    metavar="FILE-or-URL",
    default=None,
    help="The record published now (default: --out when it exists): the new one gets its "
    "version + 1.",
)
@click.option("--first-publish", is_flag=True, help="No record was ever published: version 1.")
def timestamp(
    *,
    index_file: str,
    keys: tuple[str, ...],
    out: str,
    expires_in: str,
    previous: str | None,
    first_publish: bool,
) -> None:
    """Sign the freshness record of INDEX (version, expiry, the index's digest and size).

    Re-sign this small file on a schedule, and the index only when it changes: a runtime with
    a timestamp source (`Runtime(..., timestamp=URL)`) downloads the index only when the digest
    named here changes, and holds it good until the earlier of the two expiries. See
    docs/index.md, Freshness.

    \b
    Example (cron, every 6 hours):
      armgit index timestamp /var/www/agents/index.json --key index_ed25519 \\
          --out /var/www/agents/timestamp.json --expires-in 1d
    """
    from datetime import UTC, datetime

    from armgit.crypto.ed25519 import parse_private_key
    from armgit.index.compile import parse_duration
    from armgit.index.timestamp import make_timestamp, read_previous_timestamp
    from armgit.runtime.fetch import DefaultFetcher
    from armgit.store.atomic import PUBLISHED, write_atomic

    private = [parse_private_key(_read_file(k, "key"), name=k) for k in keys]
    lifetime = parse_duration(expires_in)
    before = None
    if first_publish:
        if previous is not None:
            raise UsageError("give --previous or --first-publish, not both")
    else:
        source = previous if previous is not None else out
        if previous is None and not Path(out).exists():
            raise UsageError(
                "cannot establish the last published timestamp: give --previous FILE-or-URL, "
                f"or --first-publish ({out} does not exist yet)"
            )
        try:
            fetched = DefaultFetcher().fetch(source, None, 1 << 20)
        except (IndexRefused, IndexUnavailable) as exc:
            raise UsageError(f"cannot establish the last published timestamp: {exc}") from exc
        assert fetched is not None
        before = read_previous_timestamp(fetched.data, source)
    envelope, payload = make_timestamp(
        _read_file(index_file, "index"),
        private,
        issued_at=datetime.now(UTC),
        expires_in=lifetime,
        previous=before,
    )
    try:
        write_atomic(out, envelope, mode=PUBLISHED)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from exc
    click.echo(
        f"wrote {out}: timestamp version {payload['version']} of index "
        f"version {payload['index']['version']}, expires {payload['expires']}"  # type: ignore[index]
    )
