"""``armgit hook``: what the installed git hooks run."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

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
    from armgit.enforce.hooks import judge_push

    code, lines = judge_push(sys.stdin.buffer.read(), os.environ, datetime.now(UTC))
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


@command.command(name="post-receive")
def post_receive() -> None:
    """Server side, after an accepted push: compile and publish the signed index for each
    updated protected branch, if the server's git config names a directory and a key
    (`armgit hooks install --server --publish-dir --signing-key`), and write the web view there
    if it names a site directory (`--site-dir`, git config `armgit.siteDir`). A failure is
    reported to the pusher and never undoes the push."""
    import pygit2

    from armgit.core.refupdates import parse_ref_updates
    from armgit.enforce.hooks import open_hook_repository
    from armgit.enforce.protection import protected_at_base
    from armgit.index.publish import publish

    repo = open_hook_repository()
    config = repo.config
    index = "armgit.publishDir" in config and "armgit.signingKey" in config
    site_dir = Path(str(config["armgit.siteDir"])) if "armgit.siteDir" in config else None
    if not index and site_dir is None:
        return
    directory = Path(str(config["armgit.publishDir"])) if index else Path()
    key = Path(str(config["armgit.signingKey"])) if index else Path()
    expires_in = str(config["armgit.expiresIn"]) if "armgit.expiresIn" in config else ""
    try:
        updates = parse_ref_updates(sys.stdin.buffer.read())
    except ValueError as exc:
        click.echo(f"armgit: {exc}", err=True)
        return
    # exactly the pushes the pre-receive hook judged: branches protected before the push
    protection = protected_at_base(repo, updates)
    for update in updates:
        if update.deleted or update.branch is None or not protection.covers(update.branch):
            continue
        if not isinstance(repo.get(update.new), pygit2.Commit):
            continue
        if site_dir is not None:
            _write_site(Path(repo.path), update.new, site_dir)
        if not index:
            continue
        try:
            result = publish(
                Path(repo.path), update.new, directory, key, datetime.now(UTC), expires_in
            )
        except Exception as exc:  # the push has landed: report, never fail it
            click.echo(f"armgit: the index was not published: {exc}", err=True)
            continue
        for f in result.findings:
            click.echo(f"armgit: not published: {f.path}: {f.rule}: {f.message}", err=True)
        for path, version in result.written:
            click.echo(f"armgit: published {path} (version {version})", err=True)


def _write_site(repo: Path, rev: str, site_dir: Path) -> None:
    """The web view of ``rev`` into ``site_dir``; a registry with findings is still written."""
    from armgit.site.collect import collect
    from armgit.site.render import build_site

    try:
        built = build_site(collect(repo, rev), site_dir)
    except Exception as exc:  # the push has landed: report, never fail it
        click.echo(f"armgit: the site was not written: {exc}", err=True)
        return
    click.echo(f"armgit: wrote the site to {built.out} ({built.files} files)", err=True)


@command.command(name="pre-commit")
def pre_commit() -> None:
    """Client side: check the staged change with the rules the server will apply (approvals
    and permissions are checked in review, so their absence is a note, not a refusal)."""
    from armgit.enforce.hooks import check_staged, commit_index
    from armgit.store.tree import open_repository

    repo = open_repository(".")
    findings, notes = check_staged(repo, commit_index(repo, os.environ))
    for f in findings:
        where = f"{f.path}:{f.line}" if f.line else f.path
        click.echo(f"armgit: {where}: {f.rule}: {f.message}", err=True)
    for note in notes:
        click.echo(f"armgit: note: {note}", err=True)
    sys.exit(1 if findings else 0)
