"""Effective policies: the most specific attached policy, narrowed by every ceiling."""

from __future__ import annotations

from typing import Any

import pytest

from armgit.core.models import Policy
from armgit.core.rules.ceilings import widenings
from armgit.core.rules.policy import NO_POLICY, intersect_scopes, resolve_policy


def policy(name: str, **fields: Any) -> Policy:
    data = {"apiVersion": "armgit/v1", "kind": "Policy", "name": name, "autonomyTier": 3, **fields}
    return Policy.model_validate(data)


CEILING = policy(
    "ceiling",
    ceiling=True,
    autonomyTier=3,
    allowedTools=["a", "b"],
    toolRisk={"a": "high"},
    costLimits={"dailyTokens": 100, "monthlyCost": 10},
    dataScopes=["tickets:*", "kb:read"],
)
WIDE = policy(
    "wide",
    autonomyTier=5,
    allowedTools=["a", "b", "c"],
    toolRisk={"a": "low", "b": "medium"},
    costLimits={"dailyTokens": 1000},
    dataScopes=["tickets:read", "kb:*", "billing:read"],
)


def test_most_specific_attached_policy_wins() -> None:
    narrow = policy("narrow", autonomyTier=1, allowedTools=["a"])
    result = resolve_policy([(None, None), ("narrow", narrow), ("wide", WIDE)], [])
    assert result.sources == ("narrow",)
    assert result.autonomy_tier == 1


def test_ceiling_bounds_a_wider_policy() -> None:
    result = resolve_policy([("wide", WIDE)], [("ceiling", CEILING)])
    assert result.autonomy_tier == 3
    assert result.allowed_tools == {"a", "b"}
    assert result.tool_risk == {"a": "high", "b": "medium"}
    assert (result.daily_tokens, result.monthly_cost) == (100, 10)
    assert result.data_scopes == {"tickets:read", "kb:read"}
    assert result.sources == ("wide", "ceiling")
    as_policy = policy(
        "effective",
        autonomyTier=result.autonomy_tier,
        allowedTools=sorted(result.allowed_tools),
        toolRisk=result.tool_risk,
        costLimits={"dailyTokens": result.daily_tokens, "monthlyCost": result.monthly_cost},
        dataScopes=sorted(result.data_scopes),
    )
    assert widenings(as_policy, CEILING) == []


def test_non_ceiling_policies_do_not_bound() -> None:
    not_a_ceiling = policy("plain", autonomyTier=0)
    assert resolve_policy([("wide", WIDE)], [("plain", not_a_ceiling)]).autonomy_tier == 5


def test_no_attached_policy_allows_nothing() -> None:
    assert resolve_policy([(None, None)], [("ceiling", CEILING)]) == NO_POLICY


def test_a_ceiling_never_grants() -> None:
    """Detaching the only non-ceiling policy leaves nothing, not the ceiling, in force."""
    assert resolve_policy([("ceiling", CEILING)], [("ceiling", CEILING)]) == NO_POLICY
    narrow = policy("narrow", autonomyTier=1, allowedTools=["a"])
    result = resolve_policy([("ceiling", CEILING), ("narrow", narrow)], [("ceiling", CEILING)])
    assert result.sources == ("narrow", "ceiling")
    assert result.autonomy_tier == 1


def test_scope_intersection_with_patterns() -> None:
    assert intersect_scopes(frozenset({"a:*"}), frozenset({"a:b:*", "c"})) == {"a:b:*"}
    assert intersect_scopes(frozenset({"x"}), frozenset({"y"})) == frozenset()


def test_digest_changes_with_content() -> None:
    one = resolve_policy([("wide", WIDE)], []).to_json()
    two = resolve_policy([("wide", WIDE)], [("ceiling", CEILING)]).to_json()
    assert one["digest"] != two["digest"]
    assert str(one["digest"]).startswith("sha256:")


@pytest.mark.parametrize(
    ("mine", "ceiling", "expected"),
    [
        (None, None, None),
        ((2, "1h"), None, (2, "1h")),  # a ceiling that sets none bounds nothing
        (None, (2, "30m"), (2, "15m")),  # the defaults (1, 15m), narrowed
        ((1, "2h"), (3, "30m"), (3, "30m")),
        ((4, "5m"), (3, "30m"), (4, "5m")),
    ],
)
def test_a_ceiling_narrows_action_approvals(
    mine: tuple[int, str] | None, ceiling: tuple[int, str] | None, expected: object
) -> None:
    from dataclasses import replace

    from armgit.core.rules.policy import EffectivePolicy, intersect

    base = EffectivePolicy(2, frozenset({"a"}), {}, None, None, frozenset(), ("p",))
    policy = replace(base, action_approvals=mine)
    bound = replace(base, sources=("c",), action_approvals=ceiling)
    narrowed = intersect(policy, bound)
    assert narrowed.action_approvals == expected
    body = narrowed.to_json()
    assert ("actionApprovals" in body) == (expected is not None)
