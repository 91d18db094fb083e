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


def quiet_option(func: F) -> F:
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="Draw no progress on stderr (drawn only when stderr is a terminal).",
    )(func)


def stream_format_option(*choices: str) -> Callable[[F], F]:
    """``--format`` for a command that streams records: ``jsonl`` is JSON Lines (one record a
    line). ``json``, its name before 0.2, is still accepted, with a note on stderr."""

    def to_jsonl(ctx: click.Context, param: click.Parameter, value: str) -> str:
        if value == "json":
            click.echo(
                "armgit: note: --format json is now --format jsonl (JSON Lines, one record a "
                "line); json will be refused in a later release",
                err=True,
            )
            return "jsonl"
        return value

    def decorate(func: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=_Choice([*choices, "json"], shown=choices),
            default=choices[0],
            show_default=True,
            callback=to_jsonl,
            help="Output format (jsonl: one JSON record a line).",
        )(func)

    return decorate


class _Choice(click.Choice[str]):
    """A choice that accepts more names than its help shows (an alias kept for a release)."""

    def __init__(self, accepted: list[str], *, shown: tuple[str, ...]) -> None:
        super().__init__(accepted)
        self.shown = shown

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return f"[{'|'.join(self.shown)}]"


def at_option(func: F) -> F:
    return click.option(
        "--at",
        metavar="REV-or-TIME",
        default=None,
        help="Read the registry as it was at this moment: a time (RFC 3339, or a date meaning "
        "its midnight UTC) picks the last first-parent commit at or before it on --rev (default: "
        "the first protected branch that exists, else HEAD); anything else is a revision.",
    )(func)


def read_input(path: str, what: str = "") -> bytes:
    """The bytes of a file a command was given; a usage error (exit 2) naming ``what`` it was
    when it cannot be read."""
    from pathlib import Path

    from armgit.errors import UsageError

    try:
        return Path(path).read_bytes()
    except OSError as exc:
        named = f"{what} {path}" if what else path
        raise UsageError(f"cannot read {named}: {exc.strerror or exc}") from exc
