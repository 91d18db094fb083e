"""``armgit show``."""

from __future__ import annotations

import sys

import click

from armgit import api
from armgit.cli.options import at_option, format_option, repo_option, rev_option
from armgit.cli.output import emit_findings, emit_json
from armgit.cli.refs import entity_ref
from armgit.registry.history import rev_at


@click.command(name="show")
@click.argument("ref", metavar="REF")
@repo_option
@rev_option
@at_option
@format_option("text", "json")
def command(ref: str, repo: str | None, rev: str | None, at: str | None, fmt: str) -> None:
    """Show one entity as written; for a version, recompute its genome hash and say VERIFIED
    or TAMPERED, and walk its lineage.

    REF is TENANT/TEMPLATE@LABEL for a version, TENANT/TEMPLATE for a template, TENANT for a
    tenant, TENANT/KIND/NAME for anything else (arm-dev/instance/support-prod-1), and
    TENANT/deployment/ENV/TEMPLATE for a deployment. Exit code 1 if the entity is missing,
    TAMPERED or has findings.

    \b
    Example:
      armgit show arm-dev/customer-support@2.0.0 --repo registry-example
      armgit show arm-dev/deployment/prod/customer-support --at 2026-02-03
    """
    entity_id = entity_ref(ref)
    tree, _ = api.open_cached(repo, rev_at(repo, rev, at))
    detail = api.read_detail(tree, entity_id)
    if detail is None:
        click.echo(f"no such entity: {ref} (expected at {entity_id.path})", err=True)
        sys.exit(1)
    lineage = api.read_lineage(tree, entity_id) if entity_id.kind == "Version" else None
    if fmt == "json":
        emit_json(
            {
                "ref": entity_id.ref,
                "kind": entity_id.kind,
                "path": detail.path,
                "integrity": detail.integrity,
                "data": detail.data,
                "lineage": [s.id.ref for s in lineage.steps] if lineage else None,
                "findings": [f.to_json() for f in detail.findings],
            }
        )
    else:
        click.echo(click.style(entity_id.ref, bold=True) + f"  ({detail.path})")
        if detail.integrity is not None:
            color = "green" if detail.integrity == "VERIFIED" else "red"
            click.echo(f"integrity: {click.style(detail.integrity, fg=color, bold=True)}")
        if lineage is not None:
            chain = " <- ".join(s.id.name for s in lineage.steps)
            click.echo(
                f"lineage:   {chain}" + (f"  ({lineage.problem})" if lineage.problem else "")
            )
        click.echo("")
        raw = tree.read(detail.path) or b""
        click.echo(raw.decode("utf-8", errors="replace").rstrip("\n"))
        if detail.findings:
            click.echo("")
            emit_findings(detail.findings, "text")
    sys.exit(1 if detail.findings or detail.integrity == "TAMPERED" else 0)
