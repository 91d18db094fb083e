"""Effective policies: the most specific attached policy, bounded by every ceiling above it.

Resolved once, at compile time, so the runtime does no search: the index carries, per deployed
version and per instance, one policy that is never wider than any ceiling that bounds it. The
same resolution (:func:`target_policy`) serves the index builder and the widening rule
(:mod:`armgit.core.rules.widening`), so what is approved is what the index carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from armgit.core.canonical import canonical_digest
from armgit.core.jsondata import JsonObject, JsonValue
from armgit.core.layout import named_id, template_id, tenant_id
from armgit.core.models import Environment, Policy, Template, Tenant, Version
from armgit.core.rules.ceilings import RISK_ORDER, scope_covered
from armgit.core.snapshot import View
from armgit.core.timeutil import parse_duration


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    """A resolved policy. ``sources`` names the policies it came from, most specific first."""

    autonomy_tier: int
    allowed_tools: frozenset[str]
    tool_risk: dict[str, str]
    daily_tokens: int | None
    monthly_cost: float | None
    data_scopes: frozenset[str]
    sources: tuple[str, ...]
    # (count, validFor) of the policy's ``actionApprovals``; None: the runtime's defaults
    action_approvals: tuple[int, str] | None = None

    def to_json(self) -> JsonObject:
        """The index form, with ``digest`` (sha256 of the JCS of everything else)."""
        limits: JsonObject = {}
        if self.daily_tokens is not None:
            limits["dailyTokens"] = self.daily_tokens
        if self.monthly_cost is not None:
            limits["monthlyCost"] = _number(self.monthly_cost)
        tools: list[JsonValue] = [*sorted(self.allowed_tools)]
        scopes: list[JsonValue] = [*sorted(self.data_scopes)]
        risks: JsonObject = dict(sorted(self.tool_risk.items()))
        body: JsonObject = {
            "autonomyTier": self.autonomy_tier,
            "allowedTools": tools,
            "toolRisk": risks,
            "costLimits": limits,
            "dataScopes": scopes,
            "sources": list(self.sources),
        }
        if self.action_approvals is not None:  # absent keeps the digests of policies without it
            count, valid_for = self.action_approvals
            body["actionApprovals"] = {"count": count, "validFor": valid_for}
        return {**body, "digest": canonical_digest(body)}


DEFAULT_ACTION_APPROVALS = (1, "15m")  # SPEC 12: one approval, valid 15 minutes

# No policy attached anywhere: nothing is allowed (fail closed).
NO_POLICY = EffectivePolicy(0, frozenset(), {}, None, None, frozenset(), ())


def _number(value: float) -> JsonValue:
    # an integral float beyond 2^53 stays a float: as an integer JCS could not encode it
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def from_policy(name: str, policy: Policy) -> EffectivePolicy:
    return EffectivePolicy(
        autonomy_tier=policy.autonomy_tier,
        allowed_tools=frozenset(policy.allowed_tools),
        tool_risk=dict(policy.tool_risk),
        daily_tokens=policy.cost_limits.daily_tokens,
        monthly_cost=policy.cost_limits.monthly_cost,
        data_scopes=frozenset(policy.data_scopes),
        sources=(name,),
        action_approvals=(
            (policy.action_approvals.count, policy.action_approvals.valid_for)
            if policy.action_approvals is not None
            else None
        ),
    )


def _min(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def intersect_scopes(mine: frozenset[str], bound: frozenset[str]) -> frozenset[str]:
    """The scopes covered by both sets (``prefix*`` patterns cover what starts with the prefix)."""
    result = {s for s in mine if scope_covered(s, tuple(bound))}
    result |= {s for s in bound if scope_covered(s, tuple(mine))}
    return frozenset(result)


def intersect(policy: EffectivePolicy, ceiling: EffectivePolicy) -> EffectivePolicy:
    """``policy`` narrowed to ``ceiling``: the lower tier, common tools, the higher risk of each
    tool, the lower of each cost limit and the data scopes both cover."""
    risks = dict(policy.tool_risk)
    for tool, risk in ceiling.tool_risk.items():
        own = risks.get(tool)
        if own is None or RISK_ORDER.index(risk) > RISK_ORDER.index(own):
            risks[tool] = risk
    tools = policy.allowed_tools & ceiling.allowed_tools
    daily = _min(policy.daily_tokens, ceiling.daily_tokens)
    return EffectivePolicy(
        autonomy_tier=min(policy.autonomy_tier, ceiling.autonomy_tier),
        allowed_tools=tools,
        tool_risk={t: r for t, r in risks.items() if t in tools},
        daily_tokens=None if daily is None else int(daily),
        monthly_cost=_min(policy.monthly_cost, ceiling.monthly_cost),
        data_scopes=intersect_scopes(policy.data_scopes, ceiling.data_scopes),
        sources=policy.sources + tuple(s for s in ceiling.sources if s not in policy.sources),
        action_approvals=_stricter(policy.action_approvals, ceiling.action_approvals),
    )


def _stricter(
    mine: tuple[int, str] | None, bound: tuple[int, str] | None
) -> tuple[int, str] | None:
    """Action approvals narrowed to a ceiling's: the larger quorum, the shorter validity. A
    ceiling that sets none bounds nothing; a policy that sets none has the defaults (one
    approval, valid 15 minutes) for the ceiling to narrow."""
    if bound is None:
        return mine
    mine = mine or DEFAULT_ACTION_APPROVALS
    shorter = min(mine[1], bound[1], key=parse_duration)
    return max(mine[0], bound[0]), shorter


def resolve_policy(
    attached: Sequence[tuple[str | None, Policy | None]],
    ceilings: Sequence[tuple[str | None, Policy | None]],
) -> EffectivePolicy:
    """The effective policy: the first attached policy in ``attached`` (most specific first:
    instance, version, template, environment, tenant) that is not a ceiling, intersected with
    every policy of ``ceilings`` (tenant and environment policies) that is marked ``ceiling: true``.

    Ceilings bound, they never grant: with no attached policy but ceilings the result allows
    nothing (tier 0, no tools), so detaching a narrower policy never leaves a ceiling in force.
    """
    effective = NO_POLICY
    for name, policy in attached:
        if name is not None and policy is not None and not policy.ceiling:
            effective = from_policy(name, policy)
            break
    if not effective.sources:
        return NO_POLICY
    for name, ceiling in ceilings:
        if name is not None and ceiling is not None and ceiling.ceiling:
            effective = intersect(effective, from_policy(name, ceiling))
    return effective


def target_policy(
    view: View,
    tenant: str,
    environment: str,
    template: str,
    version: Version,
    instance_policy: str | None = None,
) -> EffectivePolicy:
    """The effective policy of ``version`` (of ``template``) run in ``environment``: what the
    index carries for a deployment, and, with the instance's own ``policy`` first, for an
    instance. The chain is instance, version, template, environment, tenant; the environment's
    and the tenant's policies bound it where they are ceilings."""
    chain = policy_chain(view, tenant, environment, template, version, instance_policy)
    return resolve_policy(*chain)


Named = tuple[str | None, Policy | None]


def policy_chain(
    view: View,
    tenant: str,
    environment: str,
    template: str,
    version: Version,
    instance_policy: str | None = None,
) -> tuple[list[Named], list[Named]]:
    """What :func:`target_policy` resolves: the attached policies, most specific first, and the
    ceilings, each by name (a name is one policy of the tenant, so callers that resolve many
    targets can keep results by the names)."""

    def named(name: str | None) -> Named:
        if name is None:
            return None, None
        return name, view.get(named_id("Policy", tenant, name), Policy)

    tenant_model = view.get(tenant_id(tenant), Tenant)
    template_model = view.get(template_id(tenant, template), Template)
    env_model = view.get(named_id("Environment", tenant, environment), Environment)
    env_policy = named(env_model.policy if env_model is not None else None)
    tenant_policy = named(tenant_model.policy if tenant_model is not None else None)
    attached = [
        named(instance_policy),
        named(version.policy),
        named(template_model.policy if template_model is not None else None),
        env_policy,
        tenant_policy,
    ]
    return attached, [env_policy, tenant_policy]
