"""The directory: entities of one kind as rows, with the filters of ``armgit ls``.

Listing never recomputes genome hashes (as in ARM: list queries skip verification; ``show``
verifies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from armgit.core.layout import template_id
from armgit.core.models import (
    Approval,
    Deployment,
    Document,
    Environment,
    Instance,
    Operator,
    Policy,
    Provider,
    Role,
    Template,
    Tenant,
    Version,
)
from armgit.core.snapshot import Entity, Snapshot

Row = dict[str, str]

# the plural word on the command line -> kind
LISTABLE = {
    "tenants": "Tenant",
    "environments": "Environment",
    "providers": "Provider",
    "operators": "Operator",
    "roles": "Role",
    "policies": "Policy",
    "templates": "Template",
    "versions": "Version",
    "instances": "Instance",
    "deployments": "Deployment",
    "approvals": "Approval",
}


@dataclass(frozen=True, slots=True)
class Filters:
    """``--tenant``, ``--state`` (lifecycle, instance state or deployment status), ``--env``,
    ``--tag`` (of the template) and ``--search`` (a case-insensitive substring)."""

    tenant: str | None = None
    state: str | None = None
    env: str | None = None
    tag: str | None = None
    search: str | None = None


def _short(digest: str) -> str:
    return digest[:19] + "…" if len(digest) > 20 else digest


def _tenant_row(e: Entity, m: Tenant) -> Row:
    return {"ref": e.id.ref, "name": m.name, "policy": m.policy or ""}


def _environment_row(e: Entity, m: Environment) -> Row:
    return {
        "ref": e.id.ref,
        "type": m.type,
        "protected": "yes" if m.protected else "no",
        "minLifecycle": m.min_lifecycle,
        "requiredApprovals": str(m.required_approvals),
    }


def _provider_row(e: Entity, m: Provider) -> Row:
    return {"ref": e.id.ref, "type": m.type, "health": m.health_endpoint or ""}


def _operator_row(e: Entity, m: Operator) -> Row:
    roles = ",".join(a.role for a in m.roles)
    return {"ref": e.id.ref, "name": m.display_name or "", "email": m.email, "roles": roles}


def _role_row(e: Entity, m: Role) -> Row:
    return {"ref": e.id.ref, "permissions": ",".join(m.permissions)}


def _policy_row(e: Entity, m: Policy) -> Row:
    return {
        "ref": e.id.ref,
        "tier": str(m.autonomy_tier),
        "tools": ",".join(m.allowed_tools),
        "ceiling": "yes" if m.ceiling else "no",
    }


def _template_row(e: Entity, m: Template) -> Row:
    return {
        "ref": e.id.ref,
        "name": m.display_name or "",
        "owners": ",".join(m.owners),
        "tags": ",".join(m.tags),
    }


def _version_row(e: Entity, m: Version) -> Row:
    return {
        "ref": e.id.ref,
        "lifecycle": m.lifecycle,
        "evaluation": m.evaluation.status,
        "parent": m.parent or "",
        "model": m.genome.model_config_.model_id,
        "genomeHash": _short(m.genome_hash),
    }


def _instance_row(e: Entity, m: Instance) -> Row:
    return {
        "ref": e.id.ref,
        "version": m.version,
        "environment": m.environment,
        "provider": m.provider,
        "state": m.state,
    }


def _deployment_row(e: Entity, m: Deployment) -> Row:
    return {
        "ref": e.id.ref,
        "template": m.template,
        "environment": m.environment,
        "version": m.version,
        "previous": m.previous_version or "",
        "status": m.status,
    }


def _approval_row(e: Entity, m: Approval) -> Row:
    s = m.statement
    return {
        "ref": e.id.ref,
        "subject": s.subject.ref,
        "change": s.change.type,
        "decision": s.decision,
        "approver": s.approver,
        "expiresAt": s.expires_at,
    }


_ROWS: dict[str, Callable[[Entity, Document], Row]] = {
    "Tenant": _tenant_row,  # type: ignore[dict-item]
    "Environment": _environment_row,  # type: ignore[dict-item]
    "Provider": _provider_row,  # type: ignore[dict-item]
    "Operator": _operator_row,  # type: ignore[dict-item]
    "Role": _role_row,  # type: ignore[dict-item]
    "Policy": _policy_row,  # type: ignore[dict-item]
    "Template": _template_row,  # type: ignore[dict-item]
    "Version": _version_row,  # type: ignore[dict-item]
    "Instance": _instance_row,  # type: ignore[dict-item]
    "Deployment": _deployment_row,  # type: ignore[dict-item]
    "Approval": _approval_row,  # type: ignore[dict-item]
}

_STATE = {"Version": "lifecycle", "Instance": "state", "Deployment": "status"}


def list_entities(snapshot: Snapshot, kind: str, filters: Filters) -> list[Row]:
    """Rows for every valid entity of ``kind`` that passes ``filters``, ordered by reference."""
    rows = []
    deployed = _deployed_in(snapshot, filters.env) if filters.env else set()
    for entity in sorted(snapshot.of_kind(kind), key=lambda e: e.id):
        if filters.tenant and entity.id.tenant != filters.tenant:
            continue
        row = _ROWS[kind](entity, entity.model)
        if filters.state and row.get(_STATE.get(kind, ""), "").upper() != filters.state.upper():
            continue
        if filters.env and not _in_environment(entity, filters.env, deployed):
            continue
        if filters.tag and filters.tag not in _tags(snapshot, entity):
            continue
        if filters.search and not _matches(entity, row, filters.search):
            continue
        rows.append(row)
    return rows


def _deployed_in(snapshot: Snapshot, env: str) -> set[tuple[str, str, str]]:
    """(tenant, template, label) of every version with a live deployment in ``env``."""
    return {
        (d.id.tenant, d.model.template, d.model.version)
        for d in snapshot.of_kind("Deployment")
        if isinstance(d.model, Deployment)
        and d.model.environment == env
        and d.model.status != "RETIRED"
    }


def _in_environment(entity: Entity, env: str, deployed: set[tuple[str, str, str]]) -> bool:
    model = entity.model
    if isinstance(model, Instance | Deployment):
        return model.environment == env
    if isinstance(model, Environment):
        return entity.id.name == env
    if isinstance(model, Version):
        return (entity.id.tenant, model.template, model.label) in deployed
    return False


def _tags(snapshot: Snapshot, entity: Entity) -> tuple[str, ...]:
    model = entity.model
    if isinstance(model, Template):
        return model.tags
    if isinstance(model, Version | Deployment):
        template = snapshot.get(template_id(entity.id.tenant, model.template), Template)
        return template.tags if template is not None else ()
    return ()


def _matches(entity: Entity, row: Row, needle: str) -> bool:
    needle = needle.lower()
    texts = [*row.values(), getattr(entity.model, "description", None) or ""]
    return any(needle in text.lower() for text in texts)
