"""``armgit lineage``."""

from __future__ import annotations

import sys

import click

from armgit import api
from armgit.cli.options import format_option, repo_option, rev_option
from armgit.cli.output import emit_json, emit_table
from armgit.cli.refs import entity_ref


@click.command(name="lineage")
@click.argument("ref", metavar="TENANT/TEMPLATE@LABEL")
@repo_option
@rev_option
@format_option("table", "json")
def command(ref: str, repo: str | None, rev: str | None, fmt: str) -> None:
    """Print a version's lineage: the version, its parent, its parent's parent, ... to the root,
    each with its lifecycle and integrity (the genome hash recomputed).

    Exit code 1 if the chain is broken (a missing parent, a cycle) or a genome is TAMPERED.

    \b
    Example:
      armgit lineage arm-dev/customer-support@2.0.0 --repo registry-example
    """
    entity_id = entity_ref(ref)
    if entity_id.kind != "Version":
        raise click.UsageError(f"{ref!r} is not a version: use TENANT/TEMPLATE@LABEL")
    tree, _ = api.open_cached(repo, rev)
    lineage = api.read_lineage(tree, entity_id)
    if fmt == "json":
        emit_json(
            {
                "lineage": [
                    {
                        "ref": s.id.ref,
                        "lifecycle": s.lifecycle,
                        "genomeHash": s.genome_hash,
                        "integrity": s.integrity,
                    }
                    for s in lineage.steps
                ],
                "problem": lineage.problem,
            }
        )
    else:
        rows = [[s.id.ref, s.lifecycle, s.genome_hash, s.integrity] for s in lineage.steps]
        if rows:
            emit_table(["REF", "LIFECYCLE", "GENOMEHASH", "INTEGRITY"], rows)
        if lineage.problem:
            click.echo(f"lineage broken: {lineage.problem}", err=True)
    broken = lineage.problem is not None or any(s.integrity != "VERIFIED" for s in lineage.steps)
    sys.exit(1 if broken else 0)
