"""The decision function of SPEC section 7, shared by the compiler's tests and the runtime.

A :class:`Target` is one effective policy and genome compiled for lookups (frozensets, dicts and a
precomputed approval threshold), so :func:`decide` is a few dict lookups and comparisons. It never
raises: bad input, an unknown tier or any error is a DENY (fail closed), with the reason.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

ALLOW = "ALLOW"
DENY = "DENY"
NEEDS_APPROVAL = "NEEDS_APPROVAL"

RISKS = ("low", "medium", "high", "critical")
RISK_RANK: Mapping[str, int] = {risk: rank for rank, risk in enumerate(RISKS)}
NEVER = len(RISKS)
# autonomy tier -> lowest risk rank that needs a human's approval (NEVER: none does)
APPROVAL_THRESHOLD: Mapping[int, int] = {0: 0, 1: 2, 2: 3, 3: NEVER, 4: NEVER, 5: NEVER}


class Decision(NamedTuple):
    """The answer to "may this agent make this tool call?".

    ``decision`` is ``ALLOW``, ``DENY`` or ``NEEDS_APPROVAL``; ``risk`` the risk it was judged at
    (``None`` when the call was refused before a risk was known); ``reasons`` say why;
    ``policy_digest`` and ``genome_digest`` name the effective policy and genome it was made
    against. With ``NEEDS_APPROVAL`` from the runtime, ``request`` is the action request to have
    approved (SPEC 12, JSON form); ``approvers`` names the operators whose approvals counted.
    """

    decision: str
    risk: str | None
    reasons: tuple[str, ...]
    policy_digest: str | None
    genome_digest: str | None
    request: Mapping[str, Any] | None = None
    approvers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The decision as plain JSON data (camelCase, as in the index)."""
        data: dict[str, Any] = {
            "decision": self.decision,
            "risk": self.risk,
            "reasons": list(self.reasons),
            "policyDigest": self.policy_digest,
            "genomeDigest": self.genome_digest,
        }
        if self.request is not None:
            data["request"] = dict(self.request)
        if self.approvers:
            data["approvers"] = list(self.approvers)
        return data


class _Tool(NamedTuple):
    rank: int
    source: str  # where the risk came from, for the reasons
    decision: Decision  # the answer when the caller does not raise the risk and no limit is hit


@dataclass(frozen=True, slots=True)
class Target:
    """An effective policy and a genome, compiled for :func:`decide`."""

    subject: str
    tier: int
    threshold: int | None  # None: unknown tier
    tools: Mapping[str, _Tool]
    refused_tools: Mapping[str, str]  # tool -> why it is refused
    daily_tokens: int | float | None
    monthly_cost: int | float | None
    scopes: frozenset[str]
    scope_prefixes: tuple[str, ...]
    policy_digest: str | None
    genome_digest: str | None
    blocked: str | None = None  # set: every call is denied with this reason
    readonly: str | None = None  # set (a READONLY instance): why a caller may not raise a risk
    # tool (allowed, or allowed by the policy but not declared) -> caller's risk (None or a known
    # risk) -> the decision when no usage, cost or data scope is given: what decide() returns
    # then, computed once by decide() itself
    plain: Mapping[str, Mapping[str | None, Decision]] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )


def compile_target(
    subject: str,
    policy: Mapping[str, Any],
    genome: Mapping[str, Any],
    *,
    policy_digest: str | None,
    genome_digest: str | None,
    blocked: str | None = None,
    readonly: str | None = None,
) -> Target:
    """Compile an effective policy (index JSON form) and a genome (JSON) into a :class:`Target`.

    A tool is callable when the policy allows it and, if the genome lists its tools inline, the
    genome declares it. Its risk is the highest of the manifest's and the policy's ``toolRisk``;
    a tool with neither (a manifest given only by hash) is judged ``critical``. With
    ``readonly`` (a READONLY instance, SPEC 12) only tools of risk low whose manifest entry
    names required permissions, all ``*:read``, stay callable; the rest are refused with
    ``readonly`` as the reason.
    """
    tier = policy.get("autonomyTier")
    threshold = APPROVAL_THRESHOLD.get(tier) if type(tier) is int else None
    if threshold is None and blocked is None:
        blocked = f"unknown autonomy tier {tier!r}: failing closed"
    manifest_list = genome.get("toolManifest")
    manifest: dict[str, str] | None = None
    reads: set[str] = set()  # tools whose required permissions are all *:read
    if isinstance(manifest_list, list):
        manifest = {t["toolId"]: t["risk"] for t in manifest_list}
        for t in manifest_list:
            needs = t.get("requiredPermissions") or ()
            if needs and all(str(p).endswith(":read") for p in needs):
                reads.add(t["toolId"])
    overrides: Mapping[str, str] = policy.get("toolRisk") or {}
    tools: dict[str, _Tool] = {}
    refused: dict[str, str] = {}
    for tool in policy.get("allowedTools") or ():
        if manifest is not None and tool not in manifest:
            refused[tool] = (
                f"tool {tool!r} is allowed by the policy but not declared in the genome's tool "
                "manifest"
            )
            continue
        candidates = []
        if manifest is not None:
            candidates.append((RISK_RANK[manifest[tool]], "the tool manifest"))
        if tool in overrides:
            candidates.append((RISK_RANK[overrides[tool]], "the policy's toolRisk"))
        if not candidates:
            candidates.append((RISK_RANK["critical"], "no declared risk (judged critical)"))
        rank, source = max(candidates)
        if readonly is not None and (rank > 0 or tool not in reads):
            refused[tool] = f"{readonly}; {tool!r} is not a low-risk read-only tool"
            continue
        decision = _judge(
            subject, tool, tier, threshold, rank, source, policy_digest, genome_digest
        )
        tools[tool] = _Tool(rank, source, decision)
    limits = policy.get("costLimits") or {}
    scopes = tuple(policy.get("dataScopes") or ())
    target = Target(
        subject=subject,
        tier=tier if type(tier) is int else -1,
        threshold=threshold,
        tools=tools,
        refused_tools=refused,
        daily_tokens=limits.get("dailyTokens"),
        monthly_cost=limits.get("monthlyCost"),
        scopes=frozenset(s for s in scopes if not s.endswith("*")),
        scope_prefixes=tuple(s[:-1] for s in scopes if s.endswith("*")),
        policy_digest=policy_digest,
        genome_digest=genome_digest,
        blocked=blocked,
        readonly=readonly,
    )
    if blocked is not None:
        return target
    plain = {
        tool: MappingProxyType({risk: decide(target, tool, risk=risk) for risk in (None, *RISKS)})
        for tool in (*tools, *refused)
    }
    return dataclasses.replace(target, plain=MappingProxyType(plain))


def _judge(
    subject: str,
    tool: str,
    tier: object,
    threshold: int | None,
    rank: int,
    source: str,
    policy_digest: str | None,
    genome_digest: str | None,
) -> Decision:
    risk = RISKS[rank]
    if threshold is None:
        return Decision(
            DENY,
            risk,
            (f"unknown autonomy tier {tier!r}: failing closed",),
            policy_digest,
            genome_digest,
        )
    why = f"{tool}: risk {risk} (from {source})"
    if rank >= threshold:
        return Decision(
            NEEDS_APPROVAL,
            risk,
            (f"{why} needs a human's approval at autonomy tier {tier} ({subject})",),
            policy_digest,
            genome_digest,
        )
    return Decision(
        ALLOW,
        risk,
        (f"{why} is within autonomy tier {tier} ({subject})",),
        policy_digest,
        genome_digest,
    )


def decide(
    target: Target,
    tool: str,
    *,
    risk: str | None = None,
    estimated_cost: float = 0,
    daily_tokens_used: int = 0,
    monthly_cost_used: float = 0,
    data_scope: str | Iterable[str] | None = None,
) -> Decision:
    """Decide one tool call against ``target`` (SPEC section 7).

    DENY when the tool is not allowed, when the daily tokens are used up
    (``daily_tokens_used >= dailyTokens``), when ``monthly_cost_used + estimated_cost`` exceeds
    ``monthlyCost``, or when a data scope is not covered by the policy's scopes (``prefix*``
    patterns cover what starts with the prefix). Otherwise the risk (the highest of the tool
    manifest's, the policy's ``toolRisk`` and the caller's ``risk``: a caller may raise it, never
    lower it) against the autonomy tier: tier 0 needs approval for everything, 1 for high and
    critical, 2 for critical, 3 to 5 for nothing. Never raises: any error is a DENY.
    """
    try:
        return _decide(
            target, tool, risk, estimated_cost, daily_tokens_used, monthly_cost_used, data_scope
        )
    except Exception as exc:  # fail closed, whatever went wrong
        return Decision(
            DENY,
            None,
            (f"evaluation error ({type(exc).__name__}): failing closed",),
            target.policy_digest,
            target.genome_digest,
        )


def _decide(
    target: Target,
    tool: str,
    risk: str | None,
    estimated_cost: float,
    daily_tokens_used: int,
    monthly_cost_used: float,
    data_scope: str | Iterable[str] | None,
) -> Decision:
    if target.blocked is not None:
        return _deny(target, None, [target.blocked])
    entry = target.tools.get(tool)
    if entry is None:
        return refuse_tool(target, tool)
    if not (estimated_cost >= 0 and daily_tokens_used >= 0 and monthly_cost_used >= 0) or (
        math.isinf(estimated_cost) or math.isinf(monthly_cost_used)
    ):
        return _deny(target, None, ["usage and cost figures must be finite and not negative"])
    reasons: list[str] | None = None
    if target.daily_tokens is not None and daily_tokens_used >= target.daily_tokens:
        reasons = [f"daily tokens used up: {daily_tokens_used} of {target.daily_tokens}"]
    if target.monthly_cost is not None and monthly_cost_used + estimated_cost > target.monthly_cost:
        reasons = reasons or []
        reasons.append(
            f"monthly cost exceeded: {monthly_cost_used} used + {estimated_cost} estimated "
            f"> {target.monthly_cost}"
        )
    if data_scope is not None:
        scopes = (data_scope,) if isinstance(data_scope, str) else tuple(data_scope)
        outside = [s for s in scopes if not _covered(target, s)]
        if outside:
            reasons = reasons or []
            reasons.append(f"data scope outside the policy: {', '.join(map(str, outside))}")
    if reasons is not None:
        return _deny(target, RISKS[entry.rank], reasons)
    if risk is None:
        return entry.decision
    rank = RISK_RANK.get(risk)
    if rank is None:
        return _deny(target, None, [f"unknown risk {risk!r}: use one of {', '.join(RISKS)}"])
    if rank <= entry.rank:
        return entry.decision
    if target.readonly is not None:
        return _deny(target, risk, [f"{target.readonly}; the call is of risk {risk}"])
    return _judge(
        target.subject,
        tool,
        target.tier,
        target.threshold,
        rank,
        "the caller",
        target.policy_digest,
        target.genome_digest,
    )


def refuse_tool(target: Target, tool: str) -> Decision:
    """The DENY for a tool ``target`` does not allow (when it is not blocked)."""
    why = target.refused_tools.get(tool) or f"tool {tool!r} is not allowed by the policy"
    reasons = (f"{why} ({target.subject})",)
    return Decision(DENY, None, reasons, target.policy_digest, target.genome_digest)


def _covered(target: Target, scope: str) -> bool:
    if scope in target.scopes:
        return True
    return any(scope.startswith(prefix) for prefix in target.scope_prefixes)


def _deny(target: Target, risk: str | None, reasons: list[str]) -> Decision:
    return Decision(DENY, risk, tuple(reasons), target.policy_digest, target.genome_digest)
