"""Nothing of a registry where a command was pointed: a usage error (exit 2), not findings."""

from __future__ import annotations

from collections.abc import Iterable

from armgit.core.findings import Finding
from armgit.core.layout import REGISTRY_FILE
from armgit.errors import UsageError


def refuse_not_a_registry(entities: int, findings: Iterable[Finding], where: str) -> None:
    """Raise :class:`UsageError` when ``where`` holds no entity and no ``armgit.yaml``: the
    user gave the wrong path, and a registry's one finding (``missing-file``) would say less."""
    missing = any(f.rule == "missing-file" and f.path == REGISTRY_FILE for f in findings)
    if entities == 0 and missing:
        raise UsageError(
            f"{where} is not a registry (no armgit.yaml, no entities): pass --repo PATH of "
            "one, or create one with `armgit init`"
        )
