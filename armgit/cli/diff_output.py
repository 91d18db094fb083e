"""``armgit diff`` as text."""

from __future__ import annotations

import click

from armgit.core.compare import EnvironmentComparison, VersionComparison


def print_versions(diff: VersionComparison, indent: str = "") -> None:
    if indent == "":
        click.echo(click.style(f"{diff.a} -> {diff.b}", bold=True))
    if diff.same:
        click.echo(f"{indent}  same genome, same effective policy")
        return
    _section(indent, "genome", diff.genome or ("the same",))
    _section(indent, "effective policy", diff.policy or ("the same",))
    for line in diff.risk:
        click.echo(f"{indent}  {click.style('risk +', fg='red')} {line}")


def print_environments(diff: EnvironmentComparison) -> None:
    click.echo(click.style(f"{diff.a} -> {diff.b}", bold=True))
    if diff.settings:
        _section("", "environment", diff.settings)
    if not diff.templates:
        click.echo("  nothing deployed in either")
    for row in diff.templates:
        a = str(row.a) if row.a else "not deployed"
        b = str(row.b) if row.b else "not deployed"
        click.echo(f"  {click.style(row.template, bold=True)}: {a} -> {b}")
        if row.comparison is not None:
            print_versions(row.comparison, indent="    ")


def _section(indent: str, title: str, lines: tuple[str, ...]) -> None:
    click.echo(f"{indent}  {title}:")
    for line in lines:
        click.echo(f"{indent}    {line}")
