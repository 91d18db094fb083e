"""Two things side by side, as meaning (``armgit diff``): two versions, or two environments.

Pure: a registry view in, a comparison out. Two versions compare by genome (model, sampling,
prompt, tools, permissions: the words :func:`armgit.core.meaning.genome_diff` uses for a review)
and by effective policy (what the index would carry:
:func:`armgit.core.rules.policy.target_policy`).
Two environments compare by what runs in each: per template, the deployed version on each side
and, where they differ, the versions' comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

from armgit.core.jsondata import JsonObject, JsonValue
from armgit.core.layout import EntityId, deployment_id, named_id, version_id
from armgit.core.meaning import ARROW, RISK_ORDER, TIER_MEANING, Notes, genome_diff
from armgit.core.models import Deployment, Environment, Version
from armgit.core.rules.policy import EffectivePolicy, target_policy
from armgit.core.snapshot import View


@dataclass(frozen=True, slots=True)
class VersionComparison:
    """Version ``a`` against version ``b``: what differs, and what ``b`` adds in risk."""

    a: str
    b: str
    genome: tuple[str, ...]
    policy: tuple[str, ...]
    risk: tuple[str, ...]
    policy_a: EffectivePolicy
    policy_b: EffectivePolicy

    @property
    def same(self) -> bool:
        return not (self.genome or self.policy or self.risk)

    def to_json(self) -> JsonObject:
        return {
            "a": self.a,
            "b": self.b,
            "genome": list(self.genome),
            "policy": list(self.policy),
            "risk": list(self.risk),
            "effectivePolicy": {"a": self.policy_a.to_json(), "b": self.policy_b.to_json()},
        }


@dataclass(frozen=True, slots=True)
class Running:
    """What a deployment runs: the version label and the deployment's status."""

    version: str
    status: str

    def __str__(self) -> str:
        return f"{self.version} ({self.status})"

    def to_json(self) -> JsonObject:
        return {"version": self.version, "status": self.status}


@dataclass(frozen=True, slots=True)
class TemplateRow:
    """One template in two environments: what runs on each side (None: not deployed there)."""

    template: str
    a: Running | None
    b: Running | None
    comparison: VersionComparison | None  # when both sides run a version

    def to_json(self) -> JsonObject:
        return {
            "template": self.template,
            "a": self.a.to_json() if self.a else None,
            "b": self.b.to_json() if self.b else None,
            "comparison": self.comparison.to_json() if self.comparison else None,
        }


@dataclass(frozen=True, slots=True)
class EnvironmentComparison:
    """Environment ``a`` against ``b``: their settings, and every template deployed in either."""

    a: str
    b: str
    settings: tuple[str, ...]
    templates: tuple[TemplateRow, ...]

    def to_json(self) -> JsonObject:
        rows: list[JsonValue] = [row.to_json() for row in self.templates]
        return {"a": self.a, "b": self.b, "settings": list(self.settings), "templates": rows}


def compare_versions(
    view: View, a: EntityId, b: EntityId, *, env_a: str = "", env_b: str = ""
) -> VersionComparison:
    """Versions ``a`` and ``b`` (both in ``view``); each one's effective policy is resolved in
    its environment (``env_a``/``env_b``; none: the version, template and tenant policies)."""
    old, new = _version(view, a), _version(view, b)
    notes = Notes()
    genome_diff(old.genome, new.genome, notes)
    policy_a = target_policy(view, a.tenant, env_a, a.template or "", old)
    policy_b = target_policy(view, b.tenant, env_b, b.template or "", new)
    changes, widened = policy_changes(policy_a, policy_b)
    return VersionComparison(
        a.ref,
        b.ref,
        tuple(notes.details),
        tuple(changes),
        tuple(notes.risk + widened),
        policy_a,
        policy_b,
    )


def compare_environments(
    view: View, tenant_a: str, env_a: str, tenant_b: str, env_b: str
) -> EnvironmentComparison:
    """What runs in ``tenant_a/env_a`` against ``tenant_b/env_b``, template by template."""
    settings = _settings(
        view.get(named_id("Environment", tenant_a, env_a), Environment),
        view.get(named_id("Environment", tenant_b, env_b), Environment),
    )
    runs_a, runs_b = _deployed(view, tenant_a, env_a), _deployed(view, tenant_b, env_b)
    rows = []
    for template in sorted(runs_a.keys() | runs_b.keys()):
        a, b = runs_a.get(template), runs_b.get(template)
        comparison = None
        if a is not None and b is not None:
            va, vb = (
                version_id(tenant_a, template, a.version),
                version_id(tenant_b, template, b.version),
            )
            if va in view and vb in view:
                comparison = compare_versions(view, va, vb, env_a=env_a, env_b=env_b)
        rows.append(TemplateRow(template, a, b, comparison))
    return EnvironmentComparison(
        f"{tenant_a}/{env_a}", f"{tenant_b}/{env_b}", settings, tuple(rows)
    )


def policy_changes(a: EffectivePolicy, b: EffectivePolicy) -> tuple[list[str], list[str]]:
    """How effective policy ``b`` differs from ``a``, and which of those widen it."""
    changes: list[str] = []
    wider: list[str] = []
    if a.sources != b.sources:
        changes.append(f"from {_names(a.sources)} {ARROW} {_names(b.sources)}")
    if a.autonomy_tier != b.autonomy_tier:
        line = f"autonomy tier {a.autonomy_tier} {ARROW} {b.autonomy_tier}"
        changes.append(f"{line}: {TIER_MEANING[b.autonomy_tier]}")
        if b.autonomy_tier > a.autonomy_tier:
            wider.append(f"more autonomy ({line}): {TIER_MEANING[b.autonomy_tier]}")
    for label, old, new in (
        ("allowed tools", a.allowed_tools, b.allowed_tools),
        ("data scopes", a.data_scopes, b.data_scopes),
    ):
        if new - old:
            changes.append(f"{label} added: {', '.join(sorted(new - old))}")
            wider.append(f"{label} added: {', '.join(sorted(new - old))}")
        if old - new:
            changes.append(f"{label} removed: {', '.join(sorted(old - new))}")
    for tool in sorted(a.tool_risk.keys() | b.tool_risk.keys()):
        old_risk, new_risk = a.tool_risk.get(tool), b.tool_risk.get(tool)
        if old_risk != new_risk:
            changes.append(f"risk of {tool} {old_risk or '-'} {ARROW} {new_risk or '-'}")
            looser = new_risk is None or _rank(new_risk) < _rank(old_risk or new_risk)
            if old_risk is not None and tool in b.allowed_tools and looser:
                wider.append(f"{tool} treated as less risky ({old_risk} {ARROW} {new_risk or '-'})")
    for label, x, y in (
        ("daily tokens", a.daily_tokens, b.daily_tokens),
        ("monthly cost", a.monthly_cost, b.monthly_cost),
    ):
        if x != y:
            changes.append(f"{label} limit {_show(x)} {ARROW} {_show(y)}")
            if x is not None and (y is None or y > x):
                wider.append(f"higher {label} limit ({_show(x)} {ARROW} {_show(y)})")
    return changes, wider


def _version(view: View, entity_id: EntityId) -> Version:
    version = view.get(entity_id, Version)
    if version is None:
        raise KeyError(entity_id.ref)
    return version


def _deployed(view: View, tenant: str, environment: str) -> dict[str, Running]:
    found = {}
    for entity_id in view.ids("Deployment", tenant):
        env, _, template = entity_id.name.partition("/")
        if env != environment:
            continue
        deployment = view.get(deployment_id(tenant, env, template), Deployment)
        if deployment is not None:
            found[template] = Running(deployment.version, deployment.status)
    return found


def _settings(a: Environment | None, b: Environment | None) -> tuple[str, ...]:
    if a is None or b is None:
        return ()
    x = a.model_dump(mode="json", by_alias=True, exclude={"name", "description"})
    y = b.model_dump(mode="json", by_alias=True, exclude={"name", "description"})
    return tuple(
        f"{key} {_show(x.get(key))} {ARROW} {_show(y.get(key))}"
        for key in sorted(x.keys() | y.keys())
        if x.get(key) != y.get(key)
    )


def _names(sources: tuple[str, ...]) -> str:
    return ", ".join(sources) if sources else "no policy (nothing allowed)"


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "-" if value is None else str(value)


def _rank(risk: str) -> int:
    return RISK_ORDER.index(risk) if risk in RISK_ORDER else len(RISK_ORDER)
