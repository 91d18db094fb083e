"""``armgit compile``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from armgit.cli.options import quiet_option, read_input, repo_option, rev_option
from armgit.cli.output import emit_findings, plural
from armgit.cli.progress_bar import progress_shown
from armgit.crypto.ed25519 import keyid, parse_private_key
from armgit.errors import UsageError
from armgit.index.compile import (
    DEFAULT_EXPIRES_IN,
    compile_index,
    fetch_previous,
    parse_duration,
    parse_issued_at,
)
from armgit.index.signed import PreviousIndex
from armgit.store.atomic import PUBLISHED, write_atomic


@click.command(name="compile")
@repo_option
@rev_option
@click.option(
    "--key",
    "keys",
    metavar="SSH_KEY",
    multiple=True,
    required=True,
    help="Ed25519 private key in OpenSSH format (ssh-keygen -t ed25519). Repeat to add "
    "signatures for a threshold above 1.",
)
@click.option("--out", metavar="FILE", required=True, help="Where to write the signed index.")
@click.option("--tenant", metavar="TENANT", default=None, help="Compile only this tenant.")
@click.option(
    "--expires-in",
    metavar="DURATION",
    default=DEFAULT_EXPIRES_IN,
    show_default=True,
    help="How long runtimes accept the index: 30m, 12h, 7d, ...",
)
@click.option(
    "--issued-at",
    metavar="RFC3339",
    default=None,
    help="Fix the issue time (default: SOURCE_DATE_EPOCH if set, else now).",
)
@click.option(
    "--previous",
    metavar="FILE-or-URL",
    default=None,
    help="The index published now (a file or an http(s) URL): the new one gets its version + 1 "
    "and its digest. Default: --out, when that file exists.",
)
@click.option(
    "--first-publish",
    is_flag=True,
    help="This index has never been published: start at version 1. Without it, a compile that "
    "cannot read the previous index fails rather than start again at 1 (runtimes would refuse "
    "it as a rollback).",
)
@click.option(
    "--allow-dirty",
    is_flag=True,
    help="Without --rev, compile the work tree even with uncommitted changes (or outside git); "
    "the index then says source.dirty: true. Without it such a compile is refused: a clean "
    "work tree is compiled at HEAD, its commit and tree named.",
)
@click.option(
    "--source-repo",
    metavar="URL",
    default=None,
    help="What to record as source.repo (default: the repository's path).",
)
@quiet_option
def command(
    *,
    repo: str | None,
    rev: str | None,
    keys: tuple[str, ...],
    out: str,
    tenant: str | None,
    expires_in: str,
    issued_at: str | None,
    previous: str | None,
    first_publish: bool,
    allow_dirty: bool,
    source_repo: str | None,
    quiet: bool,
) -> None:
    """Compile the registry at one commit into a signed index.

    The index holds, per tenant, the environments, providers, the deployed version of each
    template in each environment with its genome and hash, instances with their desired state,
    the effective policy of each (resolved and bounded by ceilings) and the approvals that
    admitted each deployed version. The payload is RFC 8785 canonical JSON in a DSSE envelope
    signed with Ed25519: the same commit, options and issue time give the same bytes.

    The version is the previous index's + 1: from --previous, else from --out when it exists;
    with neither, give --first-publish. Where armgit.yaml lists indexSigners, every --key must
    be one of them. A registry that fails `armgit validate` is refused (exit 1). The file is
    written atomically, readable by a web server (0644). See docs/index.md.

    \b
    Examples:
      armgit compile --rev main --key ~/.ssh/index_ed25519 --out index.json --first-publish
      armgit compile --rev main --key ~/.ssh/index_ed25519 --out index.json
      armgit compile --rev main --key k --out next.json \\
          --previous https://cdn.example/agents/index.json --expires-in 1d
    """
    private = [parse_private_key(read_input(k, "key"), name=k) for k in keys]
    before = _previous(previous, first_publish, out)
    when = parse_issued_at(issued_at, os.environ.get("SOURCE_DATE_EPOCH"))
    with progress_shown(quiet):
        result = compile_index(
            repo,
            rev,
            private,
            issued_at=when,
            expires_in=parse_duration(expires_in),
            tenant=tenant,
            previous=before,
            source_repo=source_repo,
            allow_dirty=allow_dirty,
        )
    if result.envelope is None:
        files = len({f.path for f in result.findings})
        summary = (
            f"refused: {plural(len(result.findings), 'finding')} in {plural(files, 'file')}; "
            "fix them (armgit validate) before compiling"
        )
        emit_findings(result.findings, "text", summary=summary)
        sys.exit(1)
    try:
        write_atomic(out, result.envelope, mode=PUBLISHED)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from exc
    signers = ", ".join(keyid(k.public_key()) for k in private)
    click.echo(
        f"wrote {out}: index version {result.version}, "
        f"{plural(len(result.tenants), 'tenant')}, expires {result.expires}, "
        f"signed by {signers}"
    )


def _previous(previous: str | None, first_publish: bool, out: str) -> PreviousIndex | None:
    """The index this one follows, or ``None`` for a first publish; never a silent restart."""
    if first_publish:
        if previous is not None:
            raise UsageError("give --previous or --first-publish, not both")
        return None
    if previous is None:
        if not Path(out).exists():
            raise UsageError(
                "cannot establish the last published version: give --previous FILE-or-URL "
                f"(the index published now), or --first-publish if nothing was ever published "
                f"({out} does not exist yet)"
            )
        previous = out
    return fetch_previous(previous)
