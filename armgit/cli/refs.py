"""Entity references on the command line."""

from __future__ import annotations

import click

from armgit.core.layout import EntityId, parse_ref


def entity_ref(ref: str) -> EntityId:
    """Parse REF or fail with a usage error (exit 2) that says the accepted forms."""
    try:
        return parse_ref(ref)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
