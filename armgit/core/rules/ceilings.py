"""Ceilings: a policy may narrow the ceiling above it, never widen it."""

from __future__ import annotations

from armgit.core.models import Policy
from armgit.core.timeutil import parse_duration

RISK_ORDER = ("low", "medium", "high", "critical")


def scope_covered(scope: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``scope`` is one of ``allowed``, or under an allowed ``prefix*``."""
    return any(
        scope == pattern or (pattern.endswith("*") and scope.startswith(pattern[:-1]))
        for pattern in allowed
    )


def widenings(policy: Policy, ceiling: Policy) -> list[str]:
    """Every way ``policy`` is wider than ``ceiling`` (empty when it stays within it)."""
    reasons: list[str] = []
    if policy.autonomy_tier > ceiling.autonomy_tier:
        reasons.append(f"autonomy tier {policy.autonomy_tier} > {ceiling.autonomy_tier}")
    extra_tools = sorted(set(policy.allowed_tools) - set(ceiling.allowed_tools))
    if extra_tools:
        reasons.append(f"tools not allowed by the ceiling: {', '.join(extra_tools)}")
    extra_scopes = [s for s in policy.data_scopes if not scope_covered(s, ceiling.data_scopes)]
    if extra_scopes:
        reasons.append(f"data scopes outside the ceiling: {', '.join(extra_scopes)}")
    limits, bound = policy.cost_limits, ceiling.cost_limits
    if bound.daily_tokens is not None and (
        limits.daily_tokens is None or limits.daily_tokens > bound.daily_tokens
    ):
        reasons.append(f"daily tokens {limits.daily_tokens or 'unlimited'} > {bound.daily_tokens}")
    if bound.monthly_cost is not None and (
        limits.monthly_cost is None or limits.monthly_cost > bound.monthly_cost
    ):
        reasons.append(f"monthly cost {limits.monthly_cost or 'unlimited'} > {bound.monthly_cost}")
    for tool, risk in sorted(ceiling.tool_risk.items()):
        own = policy.tool_risk.get(tool, risk)
        if RISK_ORDER.index(own) < RISK_ORDER.index(risk):
            reasons.append(f"risk of {tool} lowered from {risk} to {own}")
    # SPEC 12: fewer or longer action approvals than the ceiling's (a policy that sets none
    # gets the ceiling's in its effective policy)
    mine, most = policy.action_approvals, ceiling.action_approvals
    if mine is not None and most is not None:
        if mine.count < most.count:
            reasons.append(f"action approvals needed {mine.count} < {most.count}")
        if parse_duration(mine.valid_for) > parse_duration(most.valid_for):
            reasons.append(f"action approvals valid {mine.valid_for} > {most.valid_for}")
    return reasons
