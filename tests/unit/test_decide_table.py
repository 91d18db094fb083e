"""The decision function of SPEC section 7 as a table: tier x risk, allow-list, cost, scope."""

from __future__ import annotations

from typing import Any

import pytest

from armgit.core.index.decide import (
    ALLOW,
    DENY,
    NEEDS_APPROVAL,
    RISKS,
    Target,
    compile_target,
    decide,
)

GENOME = {
    "toolManifest": [
        {"toolId": f"{risk}_tool", "schemaVersion": "1", "risk": risk} for risk in RISKS
    ]
    + [{"toolId": "undeclared_risk_tool", "schemaVersion": "1", "risk": "low"}]
}


def target(tier: Any = 2, **policy: Any) -> Target:
    body = {
        "autonomyTier": tier,
        "allowedTools": [f"{risk}_tool" for risk in RISKS] + ["not_in_manifest"],
        "toolRisk": {},
        "costLimits": {"dailyTokens": 1000, "monthlyCost": 100},
        "dataScopes": ["tickets:*", "kb:read"],
        **policy,
    }
    return compile_target("t/env/tpl@1.0.0", body, GENOME, policy_digest="P", genome_digest="G")


EXPECTED = {  # tier -> decision for low, medium, high, critical
    0: [NEEDS_APPROVAL] * 4,
    1: [ALLOW, ALLOW, NEEDS_APPROVAL, NEEDS_APPROVAL],
    2: [ALLOW, ALLOW, ALLOW, NEEDS_APPROVAL],
    3: [ALLOW] * 4,
    4: [ALLOW] * 4,
    5: [ALLOW] * 4,
}


@pytest.mark.parametrize(
    ("tier", "risk", "expected"),
    [(tier, RISKS[i], d) for tier, row in EXPECTED.items() for i, d in enumerate(row)],
)
def test_tier_by_risk(tier: int, risk: str, expected: str) -> None:
    decision = decide(target(tier), f"{risk}_tool")
    assert decision.decision == expected
    assert decision.risk == risk
    assert decision.reasons
    assert (decision.policy_digest, decision.genome_digest) == ("P", "G")


@pytest.mark.parametrize(
    ("tier", "declared", "caller", "expected_risk", "expected"),
    [
        (2, "low", "critical", "critical", NEEDS_APPROVAL),  # the caller raises
        (2, "critical", "low", "critical", NEEDS_APPROVAL),  # ... never lowers
        (1, "medium", "high", "high", NEEDS_APPROVAL),
        (1, "medium", "medium", "medium", ALLOW),
        (3, "low", "critical", "critical", ALLOW),
    ],
)
def test_caller_risk_raises_never_lowers(
    tier: int, declared: str, caller: str, expected_risk: str, expected: str
) -> None:
    decision = decide(target(tier), f"{declared}_tool", risk=caller)
    assert (decision.decision, decision.risk) == (expected, expected_risk)


def test_policy_tool_risk_raises_manifest_risk() -> None:
    decision = decide(target(2, toolRisk={"low_tool": "critical"}), "low_tool")
    assert (decision.decision, decision.risk) == (NEEDS_APPROVAL, "critical")
    assert "toolRisk" in decision.reasons[0]


@pytest.mark.parametrize(
    ("tool", "reason"),
    [
        ("other_tool", "not allowed by the policy"),
        ("undeclared_risk_tool", "not allowed by the policy"),  # in the manifest, not allowed
        ("not_in_manifest", "not declared in the genome's tool manifest"),
    ],
)
def test_allow_list(tool: str, reason: str) -> None:
    decision = decide(target(5), tool)
    assert decision.decision == DENY
    assert reason in decision.reasons[0]


def test_manifest_by_hash_only_judges_unknown_risk_critical() -> None:
    t = compile_target(
        "s",
        {"autonomyTier": 2, "allowedTools": ["x"]},
        {"toolManifestHash": "sha256:0"},
        policy_digest="P",
        genome_digest="G",
    )
    assert (decide(t, "x").decision, decide(t, "x").risk) == (NEEDS_APPROVAL, "critical")


@pytest.mark.parametrize(
    ("usage", "expected", "reason"),
    [
        ({"daily_tokens_used": 999}, ALLOW, None),
        ({"daily_tokens_used": 1000}, DENY, "daily tokens used up"),
        ({"monthly_cost_used": 90, "estimated_cost": 10}, ALLOW, None),
        ({"monthly_cost_used": 90, "estimated_cost": 10.01}, DENY, "monthly cost exceeded"),
        ({"monthly_cost_used": 101}, DENY, "monthly cost exceeded"),
        ({"estimated_cost": -1}, DENY, "not negative"),
        ({"estimated_cost": float("nan")}, DENY, "not negative"),
        ({"monthly_cost_used": float("inf")}, DENY, "finite"),
        ({"daily_tokens_used": "5"}, DENY, "evaluation error"),
    ],
)
def test_cost_limits(usage: dict[str, Any], expected: str, reason: str | None) -> None:
    decision = decide(target(3), "low_tool", **usage)
    assert decision.decision == expected
    if reason is not None:
        assert reason in " ".join(decision.reasons)


def test_no_cost_limits_means_no_limit() -> None:
    decision = decide(target(3, costLimits={}), "low_tool", daily_tokens_used=10**12)
    assert decision.decision == ALLOW


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("tickets:read", ALLOW),
        ("tickets:", ALLOW),
        ("kb:read", ALLOW),
        ("kb:write", DENY),
        ("customers:read", DENY),
        (["tickets:read", "kb:read"], ALLOW),
        (["tickets:read", "billing:all"], DENY),
    ],
)
def test_data_scopes(scope: str | list[str], expected: str) -> None:
    decision = decide(target(3), "low_tool", data_scope=scope)
    assert decision.decision == expected
    if expected == DENY:
        assert "data scope outside the policy" in decision.reasons[0]


def test_every_failed_limit_is_a_reason() -> None:
    decision = decide(
        target(3), "low_tool", daily_tokens_used=5000, monthly_cost_used=500, data_scope="x"
    )
    assert decision.decision == DENY
    assert len(decision.reasons) == 3


@pytest.mark.parametrize("tier", [6, -1, None, "2", 2.0, True])
def test_unknown_tier_fails_closed(tier: Any) -> None:
    decision = decide(target(tier), "low_tool")
    assert decision.decision == DENY
    assert "unknown autonomy tier" in decision.reasons[0]


def test_unknown_caller_risk_fails_closed() -> None:
    decision = decide(target(3), "low_tool", risk="extreme")
    assert decision.decision == DENY
    assert "unknown risk" in decision.reasons[0]


def test_blocked_target_denies_everything() -> None:
    t = compile_target(
        "s",
        {"autonomyTier": 5, "allowedTools": ["low_tool"]},
        GENOME,
        policy_digest="P",
        genome_digest="G",
        blocked="instance 'x' is PAUSED",
    )
    assert decide(t, "low_tool").reasons == ("instance 'x' is PAUSED",)


def test_decision_json() -> None:
    assert decide(target(3), "low_tool").to_json()["decision"] == ALLOW
