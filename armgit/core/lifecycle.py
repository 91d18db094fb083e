"""The state machines of versions and instances (SPEC section 2, the seed's tables)."""

from __future__ import annotations

from typing import Final

LIFECYCLE_ORDER: Final = ("DRAFT", "TESTING", "CANDIDATE", "APPROVED", "DEPRECATED", "RETIRED")

VERSION_TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "DRAFT": frozenset({"TESTING"}),
    "TESTING": frozenset({"CANDIDATE", "DRAFT"}),
    "CANDIDATE": frozenset({"APPROVED", "DRAFT"}),
    "APPROVED": frozenset({"DEPRECATED"}),
    "DEPRECATED": frozenset({"RETIRED"}),
    "RETIRED": frozenset(),
}

INSTANCE_TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "PROVISIONING": frozenset({"ACTIVE", "RETIRED"}),
    "ACTIVE": frozenset({"PAUSED", "READONLY", "DRAINING", "QUARANTINED"}),
    "PAUSED": frozenset({"ACTIVE", "DRAINING", "QUARANTINED", "RETIRED"}),
    "READONLY": frozenset({"ACTIVE", "DRAINING", "QUARANTINED", "RETIRED"}),
    "DRAINING": frozenset({"QUARANTINED", "RETIRED"}),
    "QUARANTINED": frozenset({"ACTIVE", "RETIRED"}),
    "RETIRED": frozenset(),
}


def lifecycle_rank(state: str) -> int:
    return LIFECYCLE_ORDER.index(state)


def is_deployable(lifecycle: str, min_lifecycle: str) -> bool:
    """Whether a version in ``lifecycle`` may run where ``min_lifecycle`` is required.

    A DEPRECATED version keeps running where it already runs (it ranks above APPROVED); a
    RETIRED version runs nowhere.
    """
    return lifecycle != "RETIRED" and lifecycle_rank(lifecycle) >= lifecycle_rank(min_lifecycle)
