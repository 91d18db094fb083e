"""``armgit diff``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from armgit.cli.options import format_option, repo_option, rev_option

if TYPE_CHECKING:
    from armgit.core.layout import EntityId
    from armgit.core.snapshot import Snapshot


@click.command(name="diff")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option(
    "--env",
    metavar="ENV",
    help="For two versions: resolve both effective policies as run in this environment "
    "(default: the version's, template's and tenant's policies alone).",
)
@repo_option
@rev_option
@format_option("text", "json")
def command(a: str, b: str, env: str | None, repo: str | None, rev: str | None, fmt: str) -> None:
    """Two versions, or two environments, side by side as meaning.

    Two versions (TENANT/TEMPLATE@LABEL): how B's genome differs from A's (model, sampling,
    prompt bundle, tools and their risk, permissions) and how its effective policy does (tier,
    tools, risk overrides, limits, data scopes: what the index would carry), and what B adds in
    risk. Two environments (TENANT/ENV, or TENANT/environment/ENV): their settings, and for
    every template deployed in either, which version runs in each and how those versions differ.

    Exit code 0 (whether or not they differ), 1 when A or B does not exist, 2 usage error.

    \b
    Examples:
      armgit diff arm-dev/customer-support@1.0.0 arm-dev/customer-support@2.0.0
      armgit diff arm-dev/staging arm-dev/prod
      armgit diff arm-dev/dev arm-dev/prod --rev main --format json
    """
    from armgit import api
    from armgit.cli.diff_output import print_environments, print_versions
    from armgit.cli.output import emit_json
    from armgit.core.compare import compare_environments, compare_versions
    from armgit.gcpause import collector_paused

    with collector_paused():
        view = api.load(repo, rev, check=False).snapshot
    first, second = _target(a, view), _target(b, view)
    if first.kind != second.kind:
        kinds = [t.kind.lower() for t in (first, second)]
        x, y = (("an " if k[0] in "aeiou" else "a ") + k for k in kinds)
        raise click.UsageError(f"compare two of a kind: {a} is {x}, {b} is {y}")
    missing = [t.ref for t in (first, second) if t not in view]
    if missing:
        click.echo(f"armgit: no such {first.kind.lower()}: {', '.join(missing)}", err=True)
        sys.exit(1)
    if first.kind == "Version":
        versions = compare_versions(view, first, second, env_a=env or "", env_b=env or "")
        if fmt == "json":
            emit_json(versions.to_json())
        else:
            print_versions(versions)
    else:
        if env is not None:
            raise click.UsageError("--env is for two versions: environments are what A and B are")
        envs = compare_environments(view, first.tenant, first.name, second.tenant, second.name)
        if fmt == "json":
            emit_json(envs.to_json())
        else:
            print_environments(envs)
    sys.exit(0)


def _target(ref: str, view: Snapshot) -> EntityId:
    """A version, or an environment (TENANT/ENV is one when the tenant has it)."""
    from armgit.cli.refs import entity_ref
    from armgit.core.layout import named_id

    entity_id = entity_ref(ref)
    if entity_id.kind in ("Version", "Environment"):
        return entity_id
    if entity_id.kind == "Template":
        env = named_id("Environment", entity_id.tenant, entity_id.name)
        if env in view or entity_id not in view:
            return env
        raise click.UsageError(
            f"{ref} is a template: compare its versions (TENANT/TEMPLATE@LABEL) or two "
            "environments (TENANT/ENV)"
        )
    raise click.UsageError(
        f"{ref}: armgit diff compares two versions (TENANT/TEMPLATE@LABEL) or two environments "
        "(TENANT/ENV)"
    )
