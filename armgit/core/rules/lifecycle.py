"""The state machines of versions and instances (SPEC section 2, the seed's tables)."""

from __future__ import annotations

import itertools
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


StatePath = tuple[str, ...]  # states from the first to the last, each step a legal edge


def shortest_paths(transitions: dict[str, frozenset[str]], start: str, end: str) -> list[StatePath]:
    """Every shortest path of legal edges from ``start`` to ``end`` (``[(start,)]`` when they
    are equal; ``[]`` when ``end`` cannot be reached), in a stable order.

    SPEC 4a: a commit may move an entity several steps (a squash of a pull request that
    created a version and took it to CANDIDATE); it is legal when every step is an edge and
    every guard along the path holds."""
    if start == end:
        return [(start,)]
    frontier: list[StatePath] = [(start,)]
    seen = {start}
    while frontier:
        found = [(*p, end) for p in frontier if end in transitions.get(p[-1], frozenset())]
        if found:
            return found
        reached = [
            (*p, state)
            for p in frontier
            for state in sorted(transitions.get(p[-1], frozenset()))
            if state not in seen
        ]
        seen.update(p[-1] for p in reached)
        frontier = reached
    return []


def steps(path: StatePath) -> list[tuple[str, str]]:
    """The edges of ``path``: ``(DRAFT, TESTING, CANDIDATE)`` -> two steps."""
    return list(itertools.pairwise(path))


# the steps that need approvals (request types), and the states new entities start in
VERSION_GATES: Final = {("CANDIDATE", "APPROVED"): "VERSION_PROMOTION"}
INSTANCE_GATES: Final = {("QUARANTINED", "ACTIVE"): "INSTANCE_REACTIVATION"}
VERSION_START: Final = "DRAFT"
INSTANCE_START: Final = "PROVISIONING"
# TESTING -> CANDIDATE needs a passing evaluation at the commit that makes the move
EVALUATION_GUARD: Final = ("TESTING", "CANDIDATE")


def choose_path(
    paths: list[StatePath], gates: dict[tuple[str, str], str], blocked: frozenset[tuple[str, str]]
) -> StatePath | None:
    """Of ``paths``, the one whose steps are all open (none in ``blocked``) with the fewest
    gated steps; ``None`` when every path has a blocked step."""
    open_paths = [p for p in paths if not any(s in blocked for s in steps(p))]
    if not open_paths:
        return None
    return min(open_paths, key=lambda p: sum(s in gates for s in steps(p)))


def version_path(before: str, after: str, evaluation: str) -> StatePath | None:
    """The path a version's lifecycle takes from ``before`` to ``after`` in one commit, with
    the evaluation status it has there (``None``: no legal path whose guards hold)."""
    blocked = frozenset() if evaluation == "PASS" else frozenset({EVALUATION_GUARD})
    return choose_path(shortest_paths(VERSION_TRANSITIONS, before, after), VERSION_GATES, blocked)


def instance_path(before: str, after: str) -> StatePath | None:
    """The path an instance's state takes from ``before`` to ``after`` in one commit."""
    return choose_path(
        shortest_paths(INSTANCE_TRANSITIONS, before, after), INSTANCE_GATES, frozenset()
    )
