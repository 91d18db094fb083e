"""``armgit hook``: what the installed git hooks run."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

import click


@click.group(name="hook")
def command() -> None:
    """Run a git hook (the scripts `armgit hooks install` writes call these)."""


@command.command(name="pre-receive")
def pre_receive() -> None:
    """Server side: refuse a push that breaks the registry's rules.

    Reads `<old> <new> <ref>` lines on stdin; runs in the bare repository with the push's
    objects quarantined, reading only the object database. Protected branches get every rule;
    other refs are proposals and pass (CI checks them).
    """
    from armgit.core.refupdates import parse_ref_updates
    from armgit.hooks import open_hook_repository
    from armgit.hooks import pre_receive as judge

    try:
        updates = parse_ref_updates(sys.stdin.buffer.read())
    except ValueError as exc:
        click.echo(f"armgit: {exc}", err=True)
        sys.exit(2)
    verdicts = judge(open_hook_repository(), updates, os.environ, datetime.now(UTC))
    refused = False
    for verdict in verdicts:
        if not verdict.findings:
            continue
        refused = True
        click.echo(f"armgit: refusing {verdict.update.ref}:", err=True)
        for f in verdict.findings:
            where = f"{f.path}:{f.line}" if f.line else f.path
            click.echo(f"  {where}: {f.rule}: {f.message}", err=True)
    sys.exit(1 if refused else 0)


@command.command(name="pre-commit")
def pre_commit() -> None:
    """Client side: check the staged change with the rules the server will apply (approvals
    and permissions are checked in review, so their absence is a note, not a refusal)."""
    from armgit.hooks import check_staged
    from armgit.store.tree import open_repository

    findings, notes = check_staged(open_repository("."))
    for f in findings:
        where = f"{f.path}:{f.line}" if f.line else f.path
        click.echo(f"armgit: {where}: {f.rule}: {f.message}", err=True)
    for note in notes:
        click.echo(f"armgit: note: {note}", err=True)
    sys.exit(1 if findings else 0)
