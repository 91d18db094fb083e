"""``armgit hash``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from armgit import api
from armgit.cli.output import emit_findings


@click.command(name="hash")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Exit 1 if the file's genomeHash differs.")
def command(file: Path, check: bool) -> None:
    """Print the genome hash of a version FILE: sha256 over the RFC 8785 canonical JSON of
    its genome (SPEC section 3), as any runtime recomputes it.

    \b
    Example:
      armgit hash tenants/arm-dev/templates/customer-support/versions/2.0.0.yaml
    """
    result = api.hash_file(file)
    if result.genome_hash is None:
        emit_findings(result.findings, "text")
        sys.exit(1)
    click.echo(result.genome_hash)
    if check and result.written != result.genome_hash:
        click.echo(f"{file}: genomeHash is {result.written}", err=True)
        sys.exit(1)
