"""``armgit index root|status|timestamp``: what publishing an index needs besides compiling it:
the trust-root file runtimes pin, freshness for monitoring, and the freshness record."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.cli.options import read_input, repo_option, rev_option
from armgit.errors import UsageError
from armgit.runtime import IndexRefused, IndexUnavailable


@click.command(name="root")
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

    private = [parse_private_key(read_input(k, "key"), name=k) for k in keys]
    before = read_input(previous_root, "previous root") if previous_root else None
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


@click.command(name="status")
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


@click.command(name="timestamp")
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
@click.option(
    "--repo",
    metavar="PATH",
    default=None,
    help="The registry (a work tree, or a repository, bare or not), to refuse a --key its "
    "armgit.yaml indexSigners does not list. Default: here, when here is a registry.",
)
@rev_option
def timestamp(
    *,
    index_file: str,
    keys: tuple[str, ...],
    out: str,
    expires_in: str,
    previous: str | None,
    first_publish: bool,
    repo: str | None,
    rev: str | None,
) -> None:
    """Sign the freshness record of INDEX (version, expiry, the index's digest and size).

    Re-sign this small file on a schedule, and the index only when it changes: a runtime with
    a timestamp source (`Runtime(..., timestamp=URL)`) downloads the index only when the digest
    named here changes, and holds it good until the earlier of the two expiries. See
    docs/index.md, Freshness.

    Where the registry can be seen (--repo, or run in one), a key its armgit.yaml
    indexSigners does not list is refused, as compile refuses it: runtimes pinning the root
    made from indexSigners would refuse the record.

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

    private = [parse_private_key(read_input(k, "key"), name=k) for k in keys]
    _check_listed(private, repo, rev)
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
        read_input(index_file, "index"),
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


def _check_listed(keys: list[Ed25519PrivateKey], repo: str | None, rev: str | None) -> None:
    """Refuse keys armgit.yaml's ``indexSigners`` does not list, when the registry is seen:
    ``--repo`` (or ``--rev``) names it, or the current directory is one."""
    if repo is None and rev is None and not Path("armgit.yaml").is_file():
        return  # a publish directory, not a registry: nothing to check against
    from armgit.index.compiler import Compiler
    from armgit.index.signed import check_signers
    from armgit.store.tree import open_tree

    check_signers(keys, Compiler(open_tree(repo, rev)).signers())
