"""Policy envelopes: how far an agent may act on its own."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from armgit.core.models.base import Bool, Document, Duration, Model, Name, Risk, Text
from armgit.core.patterns import described

ToolId = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(r"^[A-Za-z0-9_.:-]{1,128}$", "a tool id: letters, digits and _.:-"),
    ),
]
DataScope = Annotated[
    str,
    StringConstraints(
        strict=True,
        pattern=described(
            r"^[a-z0-9][a-z0-9._:/*-]{0,127}$", "a data scope such as tickets:read or kb:*"
        ),
    ),
]


class CostLimits(Model):
    """Spending limits; an absent limit means no limit."""

    daily_tokens: Annotated[int, Field(strict=True, ge=0)] | None = None
    monthly_cost: Annotated[float, Field(strict=True, ge=0)] | None = None


class ActionApprovals(Model):
    """How many operators (with ``approve:actions``) must approve one tool call that needs a
    human's approval, and how long an action request and its approvals stay valid (SPEC 12)."""

    count: Annotated[int, Field(strict=True, ge=1, le=16)] = 1
    valid_for: Duration = "15m"


class Policy(Document):
    """``tenants/<t>/policies/<name>.yaml``.

    A ``ceiling`` policy bounds every more specific policy under it: they may narrow it, never
    widen it (a higher tier, another tool, a looser limit, a lower risk, a wider data scope).
    """

    kind: Literal["Policy"]
    name: Name
    tenant: Name | None = None
    description: Text | None = None
    autonomy_tier: Annotated[int, Field(strict=True, ge=0, le=5)]
    allowed_tools: tuple[ToolId, ...] = ()
    tool_risk: dict[ToolId, Risk] = Field(default_factory=dict)
    # a default built without validation: importing the models builds no validator
    cost_limits: CostLimits = CostLimits.model_construct()
    data_scopes: tuple[DataScope, ...] = ()
    ceiling: Bool = False
    action_approvals: ActionApprovals | None = None
