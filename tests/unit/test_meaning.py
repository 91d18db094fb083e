"""What a policy change means for risk: a table of before/after and the risk it adds."""

from __future__ import annotations

from typing import Any

import pytest

from armgit.core.layout import named_id
from armgit.core.meaning import describe
from armgit.core.models import Policy
from armgit.core.snapshot import Snapshot

BASE: dict[str, Any] = {
    "apiVersion": "armgit/v1",
    "kind": "Policy",
    "name": "p",
    "autonomyTier": 2,
    "allowedTools": ["a"],
    "toolRisk": {"a": "high"},
    "costLimits": {"dailyTokens": 100, "monthlyCost": 10.0},
    "dataScopes": ["tickets:read"],
}
EMPTY = Snapshot([], files=type("F", (), {"read": lambda self, path: None})())


def policy(**changes: Any) -> Policy:
    return Policy.model_validate({**BASE, **changes})


@pytest.mark.parametrize(
    ("changes", "details", "risk"),
    [
        ({"autonomyTier": 4}, ["autonomy tier 2 -> 4: no call needs approval"],
         ["more autonomy (tier 2 -> 4): no call needs approval"]),
        ({"autonomyTier": 1}, ["autonomy tier 2 -> 1: high and critical risk calls need approval"],
         []),
        ({"allowedTools": ["a", "b"]}, ["allowed tools added: b"], ["allowed tools added: b"]),
        ({"allowedTools": []}, ["allowed tools removed: a"], []),
        ({"toolRisk": {"a": "low"}}, ["risk of a high -> low"],
         ["a treated as less risky (high -> low)"]),
        ({"toolRisk": {}}, ["risk of a high -> -"], ["a treated as less risky (high -> -)"]),
        ({"toolRisk": {"a": "critical"}}, ["risk of a high -> critical"], []),
        ({"costLimits": {"dailyTokens": 100}}, ["monthly cost limit 10.0 -> -"],
         ["higher monthly cost limit (10.0 -> -)"]),
        ({"costLimits": {"dailyTokens": 50, "monthlyCost": 10.0}},
         ["daily tokens limit 100 -> 50"], []),
        ({"dataScopes": ["tickets:*"]},
         ["data scopes added: tickets:*", "data scopes removed: tickets:read"],
         ["data scopes added: tickets:*"]),
    ],
)  # fmt: skip
def test_policy_changes(changes: dict[str, Any], details: list[str], risk: list[str]) -> None:
    (meaning,) = describe(named_id("Policy", "t", "p"), policy(), policy(**changes), EMPTY)
    assert meaning.type == "POLICY_UPDATED"
    assert list(meaning.details) == details
    assert list(meaning.risk) == risk


def test_a_new_policy_at_high_autonomy_is_a_risk() -> None:
    (meaning,) = describe(named_id("Policy", "t", "p"), None, policy(autonomyTier=5), EMPTY)
    assert meaning.type == "POLICY_CREATED"
    assert meaning.risk == ("tier 5: no call needs approval",)
