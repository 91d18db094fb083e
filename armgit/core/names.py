"""The name and label patterns of SPEC section 2, as plain regular expressions.

Kept apart from the models so that the layout (and the store, which maps paths to entities)
imports without pydantic: a compile whose every fragment is cached never builds a model.
"""

from __future__ import annotations

NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
SEMVER_PATTERN = (
    r"^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
