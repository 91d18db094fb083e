"""A change as a reviewer reads it: what happened to each entity, in words, and the risk added.

Pure: two models in (before and after, either may be absent) and the registry after the change
(to find a new version's parent), a list of :class:`Meaning` out. ``armgit review`` prints these.
The types are the audit trail's ChangeRecord types (SPEC section 6) where one fits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from armgit.core.jsondata import JsonValue
from armgit.core.layout import EntityId, version_id
from armgit.core.models import (
    Approval,
    Deployment,
    Document,
    Instance,
    Operator,
    Policy,
    Registry,
    Role,
    Version,
)
from armgit.core.models.version import Genome
from armgit.core.rules.state import parse_version_ref
from armgit.core.rules.trust import trust_changes
from armgit.core.snapshot import View

ARROW = "->"
RISK_ORDER = ("low", "medium", "high", "critical")
TIER_MEANING = {
    0: "every tool call needs a human's approval",
    1: "high and critical risk calls need approval",
    2: "only critical risk calls need approval",
    3: "no call needs approval",
    4: "no call needs approval",
    5: "no call needs approval",
}


@dataclass(frozen=True, slots=True)
class Meaning:
    """One thing that happened to one entity."""

    type: str
    ref: str
    path: str
    summary: str
    details: tuple[str, ...] = ()
    risk: tuple[str, ...] = ()  # what the change adds in risk, in words

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "type": self.type,
            "ref": self.ref,
            "path": self.path,
            "summary": self.summary,
            "details": list(self.details),
            "risk": list(self.risk),
        }


@dataclass
class _Notes:
    details: list[str] = field(default_factory=list)
    risk: list[str] = field(default_factory=list)


Notes = _Notes  # what genome_diff and policy_diff fill in, for callers outside this module


def describe(
    entity_id: EntityId, old: Document | None, new: Document | None, head: View
) -> list[Meaning]:
    """What changed about ``entity_id`` between ``old`` and ``new``."""
    if old is None and new is None:
        return []
    model = new if new is not None else old
    assert model is not None
    describer = _DESCRIBERS.get(type(model))
    if describer is None:
        return [_generic(entity_id, old, new)]
    return describer(entity_id, old, new, head)


def _meaning(entity_id: EntityId, type_: str, summary: str, notes: _Notes | None = None) -> Meaning:
    notes = notes or _Notes()
    return Meaning(
        type_, entity_id.ref, entity_id.path, summary, tuple(notes.details), tuple(notes.risk)
    )


def _generic(entity_id: EntityId, old: Document | None, new: Document | None) -> Meaning:
    kind = entity_id.kind.upper()
    if old is None:
        return _meaning(entity_id, f"{kind}_CREATED", f"{entity_id.kind} created")
    if new is None:
        return _meaning(entity_id, f"{kind}_DELETED", f"{entity_id.kind} deleted")
    changed = _changed_fields(old, new)
    return _meaning(
        entity_id, f"{kind}_UPDATED", f"{entity_id.kind} changed: {', '.join(changed) or 'format'}"
    )


def _changed_fields(old: Document, new: Document) -> list[str]:
    a = old.model_dump(mode="json", by_alias=True)
    b = new.model_dump(mode="json", by_alias=True)
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


# -- versions -------------------------------------------------------------------------------------


def _version(
    entity_id: EntityId, old: Document | None, new: Document | None, head: View
) -> list[Meaning]:
    assert old is None or isinstance(old, Version)
    assert new is None or isinstance(new, Version)
    if new is None:
        return [
            _meaning(
                entity_id, "VERSION_DELETED", "version deleted (refused: versions are retired)"
            )
        ]
    if old is None:
        notes = _Notes()
        parent = _parent(entity_id, new, head)
        if parent is not None:
            summary = f"version created ({new.lifecycle}) from parent {parent.label}"
            genome_diff(parent.genome, new.genome, notes)
            if not notes.details:
                notes.details.append("genome as the parent's, but for provenance")
        else:
            summary = f"version created ({new.lifecycle}), no parent"
            genome_diff(None, new.genome, notes)
        notes.details.append(f"genomeHash {new.genome_hash}")
        return [_meaning(entity_id, "VERSION_CREATED", summary, notes)]
    found = []
    if old.genome != new.genome or old.genome_hash != new.genome_hash:
        notes = _Notes()
        genome_diff(old.genome, new.genome, notes)
        found.append(
            _meaning(
                entity_id,
                "GENOME_CHANGED",
                "genome rewritten (refused: genomes are write-once)",
                notes,
            )
        )
    if old.lifecycle != new.lifecycle:
        found.append(
            _meaning(
                entity_id,
                "VERSION_TRANSITIONED",
                f"lifecycle {old.lifecycle} {ARROW} {new.lifecycle}",
            )
        )
    if old.evaluation != new.evaluation:
        e = new.evaluation
        suite = f" ({e.suite})" if e.suite else ""
        found.append(
            _meaning(
                entity_id,
                "VERSION_EVALUATED",
                f"evaluation {old.evaluation.status} {ARROW} {e.status}{suite}",
            )
        )
    if old.policy != new.policy:
        found.append(
            _meaning(
                entity_id,
                "POLICY_ATTACHED",
                f"policy {old.policy or '-'} {ARROW} {new.policy or '-'}",
            )
        )
    rest = [
        f
        for f in _changed_fields(old, new)
        if f not in ("genome", "genomeHash", "lifecycle", "evaluation", "policy")
    ]
    if rest:
        found.append(_meaning(entity_id, "VERSION_UPDATED", f"changed: {', '.join(rest)}"))
    return found


def _parent(entity_id: EntityId, version: Version, head: View) -> Version | None:
    if version.parent is None:
        return None
    try:
        ref = parse_version_ref(version.parent, entity_id.tenant, version.template)
    except ValueError:
        return None
    return head.get(version_id(ref.tenant, ref.template, ref.label), Version)


def genome_diff(old: Genome | None, new: Genome, notes: _Notes) -> None:
    """Model, sampling, prompt, tools and permissions: what differs from ``old``."""
    m_new = new.model_config_
    if old is None:
        notes.details.append(f"model {m_new.provider}/{m_new.model_id}")
        tools = new.tool_manifest or ()
        if tools:
            notes.details.append("tools: " + ", ".join(f"{t.tool_id} ({t.risk})" for t in tools))
            notes.risk += [f"tool {t.tool_id} ({t.risk} risk)" for t in tools if _high(t.risk)]
        return
    m_old = old.model_config_
    if (m_old.provider, m_old.model_id) != (m_new.provider, m_new.model_id):
        notes.details.append(
            f"model {m_old.provider}/{m_old.model_id} {ARROW} {m_new.provider}/{m_new.model_id}"
        )
    for name in ("temperature", "max_tokens"):
        a, b = getattr(m_old, name), getattr(m_new, name)
        if a != b:
            label = "maxTokens" if name == "max_tokens" else name
            notes.details.append(f"{label} {_show(a)} {ARROW} {_show(b)}")
    extra_old, extra_new = m_old.model_extra or {}, m_new.model_extra or {}
    for key in sorted(extra_old.keys() | extra_new.keys()):
        if extra_old.get(key) != extra_new.get(key):
            notes.details.append(
                f"{key} {_show(extra_old.get(key))} {ARROW} {_show(extra_new.get(key))}"
            )
    if old.prompt_bundle_hash != new.prompt_bundle_hash:
        notes.details.append(
            f"prompt bundle {old.prompt_bundle_hash[:19]}... {ARROW} "
            f"{new.prompt_bundle_hash[:19]}..."
        )
    if old.tool_manifest_hash != new.tool_manifest_hash and new.tool_manifest_hash is not None:
        notes.details.append(f"tool manifest (by hash) {ARROW} {new.tool_manifest_hash[:19]}...")
    before = {t.tool_id: t for t in old.tool_manifest or ()}
    after = {t.tool_id: t for t in new.tool_manifest or ()}
    added = [after[i] for i in sorted(after.keys() - before.keys())]
    removed = [before[i] for i in sorted(before.keys() - after.keys())]
    if added:
        notes.details.append("tools added: " + ", ".join(f"{t.tool_id} ({t.risk})" for t in added))
        notes.risk += [f"new tool {t.tool_id} ({t.risk} risk)" for t in added]
    if removed:
        notes.details.append("tools removed: " + ", ".join(t.tool_id for t in removed))
    for tool_id in sorted(before.keys() & after.keys()):
        a, b = before[tool_id], after[tool_id]
        if a.risk != b.risk:
            notes.details.append(f"tool {tool_id} risk {a.risk} {ARROW} {b.risk}")
            if _rank(b.risk) < _rank(a.risk):
                notes.risk.append(f"tool {tool_id} declared less risky ({a.risk} {ARROW} {b.risk})")
    perms_old = {p for t in before.values() for p in t.required_permissions}
    perms_new = {p for t in after.values() for p in t.required_permissions}
    if perms_new - perms_old:
        gained = ", ".join(sorted(perms_new - perms_old))
        notes.details.append(f"permissions added: {gained}")
        notes.risk.append(f"new permissions: {gained}")
    if perms_old - perms_new:
        notes.details.append(f"permissions removed: {', '.join(sorted(perms_old - perms_new))}")


def _show(value: object) -> str:
    return "-" if value is None else str(value)


def _rank(risk: str) -> int:
    return RISK_ORDER.index(risk) if risk in RISK_ORDER else len(RISK_ORDER)


def _high(risk: str) -> bool:
    return _rank(risk) >= RISK_ORDER.index("high")


# -- instances, deployments -----------------------------------------------------------------------


def _instance(
    entity_id: EntityId, old: Document | None, new: Document | None, head: View
) -> list[Meaning]:
    assert old is None or isinstance(old, Instance)
    assert new is None or isinstance(new, Instance)
    if new is None:
        return [_meaning(entity_id, "INSTANCE_DELETED", "instance file deleted")]
    if old is None:
        return [
            _meaning(
                entity_id,
                "INSTANCE_CREATED",
                f"instance created ({new.state}) running {new.version} in {new.environment} "
                f"on {new.provider}",
            )
        ]
    found = []
    if old.state != new.state:
        notes = _Notes()
        if (old.state, new.state) == ("QUARANTINED", "ACTIVE"):
            notes.risk.append("a quarantined agent acts again")
        found.append(
            _meaning(
                entity_id, "INSTANCE_TRANSITIONED", f"state {old.state} {ARROW} {new.state}", notes
            )
        )
    details = [
        f"{label} {_show(getattr(old, name))} {ARROW} {_show(getattr(new, name))}"
        for name, label in (
            ("version", "version"),
            ("environment", "environment"),
            ("provider", "provider"),
            ("policy", "policy"),
        )
        if getattr(old, name) != getattr(new, name)
    ]
    if details:
        found.append(_meaning(entity_id, "INSTANCE_UPDATED", "; ".join(details)))
    return found


def _deployment(
    entity_id: EntityId, old: Document | None, new: Document | None, head: View
) -> list[Meaning]:
    assert old is None or isinstance(old, Deployment)
    assert new is None or isinstance(new, Deployment)
    if new is None:
        return [_meaning(entity_id, "DEPLOYMENT_DELETED", "deployment file deleted")]
    where = f"{new.template} in {new.environment}"
    before = old.version if old is not None else "nothing"
    notes = _Notes()
    if new.reason:
        notes.details.append(f"reason: {new.reason}")
    if new.requested_by:
        notes.details.append(f"requested by {new.requested_by}")
    if old is not None and new.rollback_of is not None and old.version != new.version:
        return [
            _meaning(
                entity_id,
                "DEPLOYMENT_ROLLED_BACK",
                f"{where}: {old.version} {ARROW} {new.version} (rollback of {new.rollback_of})",
                notes,
            )
        ]
    status = (
        f" ({old.status if old else 'new'} {ARROW} {new.status})"
        if (old is None or old.status != new.status)
        else f" ({new.status})"
    )
    if old is None:
        type_ = "DEPLOYMENT_ACTIVATED" if new.status == "ACTIVE" else "DEPLOYMENT_CREATED"
    elif new.status == "ACTIVE" and (old.status != "ACTIVE" or old.version != new.version):
        type_ = "DEPLOYMENT_ACTIVATED"
    else:
        type_ = "DEPLOYMENT_UPDATED"
    if type_ == "DEPLOYMENT_ACTIVATED":
        notes.risk.append(f"{new.version} starts serving in {new.environment}")
    return [_meaning(entity_id, type_, f"{where}: {before} {ARROW} {new.version}{status}", notes)]


# -- policies -------------------------------------------------------------------------------------


def _policy(
    entity_id: EntityId, old: Document | None, new: Document | None, head: View
) -> list[Meaning]:
    assert old is None or isinstance(old, Policy)
    assert new is None or isinstance(new, Policy)
    if new is None:
        return [_meaning(entity_id, "POLICY_DELETED", "policy deleted")]
    notes = _Notes()
    if old is None:
        notes.details.append(f"tier {new.autonomy_tier}: {TIER_MEANING[new.autonomy_tier]}")
        if new.allowed_tools:
            notes.details.append(f"allowed tools: {', '.join(new.allowed_tools)}")
        if new.data_scopes:
            notes.details.append(f"data scopes: {', '.join(new.data_scopes)}")
        if new.autonomy_tier >= 3:
            notes.risk.append(f"tier {new.autonomy_tier}: {TIER_MEANING[new.autonomy_tier]}")
        kind = "ceiling policy" if new.ceiling else "policy"
        return [_meaning(entity_id, "POLICY_CREATED", f"{kind} created", notes)]
    policy_diff(old, new, notes)
    return [_meaning(entity_id, "POLICY_UPDATED", "policy changed", notes)]


def policy_diff(old: Policy, new: Policy, notes: _Notes) -> None:
    """Tier, tools, risk overrides, limits, scopes: each difference, and which ones widen."""
    if old.autonomy_tier != new.autonomy_tier:
        line = (
            f"autonomy tier {old.autonomy_tier} {ARROW} {new.autonomy_tier}: "
            f"{TIER_MEANING[new.autonomy_tier]}"
        )
        notes.details.append(line)
        if new.autonomy_tier > old.autonomy_tier:
            notes.risk.append(
                f"more autonomy (tier {old.autonomy_tier} {ARROW} {new.autonomy_tier}): "
                f"{TIER_MEANING[new.autonomy_tier]}"
            )
    _sets("allowed tools", old.allowed_tools, new.allowed_tools, notes, risky_added=True)
    for tool in sorted(old.tool_risk.keys() | new.tool_risk.keys()):
        a, b = old.tool_risk.get(tool), new.tool_risk.get(tool)
        if a != b:
            notes.details.append(f"risk of {tool} {_show(a)} {ARROW} {_show(b)}")
            if a is not None and (b is None or _rank(b) < _rank(a)):
                notes.risk.append(f"{tool} treated as less risky ({a} {ARROW} {_show(b)})")
    for name, label in (("daily_tokens", "daily tokens"), ("monthly_cost", "monthly cost")):
        a, b = getattr(old.cost_limits, name), getattr(new.cost_limits, name)
        if a != b:
            notes.details.append(f"{label} limit {_show(a)} {ARROW} {_show(b)}")
            if a is not None and (b is None or b > a):
                notes.risk.append(f"higher {label} limit ({_show(a)} {ARROW} {_show(b)})")
    _sets("data scopes", old.data_scopes, new.data_scopes, notes, risky_added=True)
    if old.ceiling != new.ceiling:
        notes.details.append(f"ceiling {old.ceiling} {ARROW} {new.ceiling}")
        if old.ceiling:
            notes.risk.append("no longer a ceiling: policies under it are unbounded by it")


def _sets(
    label: str, old: Iterable[str], new: Iterable[str], notes: _Notes, *, risky_added: bool
) -> None:
    a, b = set(old), set(new)
    if b - a:
        notes.details.append(f"{label} added: {', '.join(sorted(b - a))}")
        if risky_added:
            notes.risk.append(f"{label} added: {', '.join(sorted(b - a))}")
    if a - b:
        notes.details.append(f"{label} removed: {', '.join(sorted(a - b))}")


# -- approvals, operators, roles ------------------------------------------------------------------


def _approval(
    entity_id: EntityId, old: Document | None, new: Document | None, head: View
) -> list[Meaning]:
    if old is not None:
        return [
            _meaning(
                entity_id,
                "APPROVAL_CHANGED",
                "approval changed or deleted (refused: approvals are written once)",
            )
        ]
    assert isinstance(new, Approval)
    s = new.statement
    change = f"{s.change.from_} {ARROW} {s.change.to}" if s.change.from_ else s.change.to or ""
    notes = _Notes()
    notes.details.append(f"content {s.digest}; valid {s.created_at} to {s.expires_at}")
    notes.details.append(f"justification: {s.justification}")
    if s.rollback_plan:
        notes.details.append(f"rollback plan: {s.rollback_plan}")
    if s.escalation_level is not None:
        notes.details.append(f"escalation level {s.escalation_level}")
    if s.review is not None:
        notes.details.append(
            f"attested {s.review.platform} review {s.review.review_id} by {s.review.login} "
            f"(attestor {s.review.attestor})"
        )
    return [
        _meaning(
            entity_id,
            "APPROVAL_DECIDED",
            f"{s.approver} {s.decision}S {s.change.type} of {s.subject.ref} ({change})",
            notes,
        )
    ]


def _operator(
    entity_id: EntityId, old: Document | None, new: Document | None, head: View
) -> list[Meaning]:
    assert old is None or isinstance(old, Operator)
    assert new is None or isinstance(new, Operator)
    if old is None or new is None:
        return [_generic(entity_id, old, new)]
    notes = _Notes()
    roles_old = {r.role + (f" until {r.expires_at}" if r.expires_at else "") for r in old.roles}
    roles_new = {r.role + (f" until {r.expires_at}" if r.expires_at else "") for r in new.roles}
    _sets("roles", roles_old, roles_new, notes, risky_added=True)
    _sets("identities", old.identities, new.identities, notes, risky_added=True)
    _sets("SSH keys", old.ssh_keys, new.ssh_keys, notes, risky_added=True)
    if old.disabled != new.disabled:
        notes.details.append(f"disabled {old.disabled} {ARROW} {new.disabled}")
    type_ = "IDENTITY_UPDATED" if old.roles == new.roles else "OPERATOR_UPDATED"
    return [_meaning(entity_id, type_, "operator changed", notes)]


def _role(
    entity_id: EntityId, old: Document | None, new: Document | None, head: View
) -> list[Meaning]:
    assert old is None or isinstance(old, Role)
    assert new is None or isinstance(new, Role)
    if old is None or new is None:
        return [_generic(entity_id, old, new)]
    notes = _Notes()
    _sets("permissions", old.permissions, new.permissions, notes, risky_added=True)
    return [_meaning(entity_id, "ROLE_UPDATED", "role changed", notes)]


def _registry(
    entity_id: EntityId, old: Document | None, new: Document | None, head: View
) -> list[Meaning]:
    if not isinstance(old, Registry) or not isinstance(new, Registry):
        return [_generic(entity_id, old, new)]
    meaning = _generic(entity_id, old, new)
    notes = _Notes()
    for change in trust_changes(old, new):
        notes.details.append(f"{change.field}: {change.summary}")
        notes.risk.append(f"what the registry trusts: {change.field} (needs a registry admin)")
    return [_meaning(entity_id, meaning.type, meaning.summary, notes)]


_Describer = Callable[[EntityId, Document | None, Document | None, View], list[Meaning]]
_DESCRIBERS: dict[type[Document], _Describer] = {
    Version: _version,
    Instance: _instance,
    Deployment: _deployment,
    Policy: _policy,
    Approval: _approval,
    Operator: _operator,
    Role: _role,
    Registry: _registry,
}
