"""Multi-step moves (SPEC 4a): the paths a commit may take, and the guards along them."""

from __future__ import annotations

import pytest

from armgit.core.rules.lifecycle import (
    INSTANCE_TRANSITIONS,
    VERSION_TRANSITIONS,
    instance_path,
    shortest_paths,
    steps,
    version_path,
)


@pytest.mark.parametrize(
    ("before", "after", "evaluation", "path"),
    [
        ("DRAFT", "DRAFT", "NOT_RUN", ("DRAFT",)),
        ("DRAFT", "TESTING", "NOT_RUN", ("DRAFT", "TESTING")),
        ("DRAFT", "CANDIDATE", "PASS", ("DRAFT", "TESTING", "CANDIDATE")),
        ("DRAFT", "CANDIDATE", "FAIL", None),  # the guard on TESTING -> CANDIDATE
        ("DRAFT", "APPROVED", "PASS", ("DRAFT", "TESTING", "CANDIDATE", "APPROVED")),
        ("CANDIDATE", "TESTING", "NOT_RUN", ("CANDIDATE", "DRAFT", "TESTING")),
        ("APPROVED", "RETIRED", "PASS", ("APPROVED", "DEPRECATED", "RETIRED")),
        ("APPROVED", "DRAFT", "PASS", None),  # no path back
        ("RETIRED", "DRAFT", "PASS", None),
    ],
)
def test_version_paths(
    before: str, after: str, evaluation: str, path: tuple[str, ...] | None
) -> None:
    assert version_path(before, after, evaluation) == path


@pytest.mark.parametrize(
    ("before", "after", "path"),
    [
        ("PROVISIONING", "ACTIVE", ("PROVISIONING", "ACTIVE")),
        ("PROVISIONING", "QUARANTINED", ("PROVISIONING", "ACTIVE", "QUARANTINED")),
        # of four shortest paths none is gated; the first in a stable order is taken
        ("ACTIVE", "RETIRED", ("ACTIVE", "DRAINING", "RETIRED")),
        # the only way from QUARANTINED to PAUSED is through the gated reactivation
        ("QUARANTINED", "PAUSED", ("QUARANTINED", "ACTIVE", "PAUSED")),
        ("RETIRED", "ACTIVE", None),
    ],
)
def test_instance_paths(before: str, after: str, path: tuple[str, ...] | None) -> None:
    assert instance_path(before, after) == path


def test_every_step_of_every_shortest_path_is_a_legal_edge() -> None:
    for table in (VERSION_TRANSITIONS, INSTANCE_TRANSITIONS):
        for start in table:
            for end in table:
                for path in shortest_paths(table, start, end):
                    assert path[0] == start
                    assert path[-1] == end
                    assert all(b in table[a] for a, b in steps(path))
