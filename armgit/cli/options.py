"""Options shared by many commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def repo_option(func: F) -> F:
    return click.option(
        "--repo",
        metavar="PATH",
        default=None,
        help="The registry: a work tree, or a repository (bare or not). Default: here.",
    )(func)


def rev_option(func: F) -> F:
    return click.option(
        "--rev",
        metavar="REV",
        default=None,
        help="Read the registry at this git revision, from the object database. "
        "Default: the work tree (HEAD for a bare repository).",
    )(func)


def format_option(*choices: str) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            default=choices[0],
            show_default=True,
            help="Output format.",
        )(func)

    return decorate


def at_option(func: F) -> F:
    return click.option(
        "--at",
        metavar="REV-or-TIME",
        default=None,
        help="Read the registry as it was at this moment: a time (RFC 3339, or a date meaning "
        "its midnight UTC) picks the last first-parent commit at or before it on --rev (default: "
        "the first protected branch that exists, else HEAD); anything else is a revision.",
    )(func)
