"""``armgit demo``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click


@click.command(name="demo")
@click.option(
    "--example",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The registry to start from. Default: the example shipped with armgit (a copy of "
    "the repository's registry-example/).",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to play it (new or empty; default: a new temporary directory, kept).",
)
def command(example: Path | None, directory: Path | None) -> None:
    """Show the whole loop on this machine, with real parts.

    A bare server repository with the hooks installed; Alice authors version 2.1.0 and
    promotes it; the server refuses the promotion until Bob signs an approval; the same for
    deploying to prod; a push that edits a released genome is refused and the server is left
    as it was; the post-receive hook publishes a signed index that a runtime verifies and
    queries; the audit trail and a full integrity check close it. Every step is a real
    `armgit` or `git` command, printed as it runs.
    """
    from armgit.cli.demo import run_demo, shipped_example

    root = directory or Path(tempfile.mkdtemp(prefix="armgit-demo-"))
    click.echo(f"armgit demo in {root}")
    run_demo(example or shipped_example(), root, click.echo)
