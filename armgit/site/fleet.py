"""The registry-wide pages as data (pure): Policies, Deployments, Operators and roles."""

from __future__ import annotations

from collections import defaultdict

from armgit.core.layout import version_id
from armgit.core.models import (
    Deployment,
    Environment,
    Instance,
    Operator,
    Policy,
    Role,
    Tenant,
    Version,
)
from armgit.core.rules.state import parse_version_ref
from armgit.core.snapshot import Snapshot
from armgit.site.views import Facts, Row, instance_url, record_row, template_url, version_url


def effective_policies(facts: Facts) -> Row:
    """The effective policy of every active deployment and every instance."""
    snapshot = facts.snapshot
    deployments = []
    for entity in sorted(snapshot.of_kind("Deployment"), key=lambda e: e.id):
        d = entity.model
        assert isinstance(d, Deployment)
        tenant = entity.id.tenant
        v = snapshot.get(version_id(tenant, d.template, d.version), Version)
        if v is None:
            continue
        row = {**facts.policy(tenant, d.environment, d.template, v)}
        row.update(
            tenant=tenant,
            environment=d.environment,
            template=d.template,
            version=d.version,
            status=d.status,
            url=version_url(tenant, d.template, d.version),
        )
        deployments.append(row)
    instances = []
    for entity in sorted(snapshot.of_kind("Instance"), key=lambda e: e.id):
        i = entity.model
        assert isinstance(i, Instance)
        tenant = entity.id.tenant
        ref = parse_version_ref(i.version, tenant)
        v = snapshot.get(version_id(ref.tenant, ref.template, ref.label), Version)
        if v is None:
            continue
        row = {**facts.policy(tenant, i.environment, ref.template, v, i.policy)}
        row.update(
            tenant=tenant,
            name=entity.id.name,
            environment=i.environment,
            version=i.version,
            state=i.state,
            url=instance_url(tenant, entity.id.name),
        )
        instances.append(row)
    policies = []
    for entity in sorted(snapshot.of_kind("Policy"), key=lambda e: e.id):
        p = entity.model
        assert isinstance(p, Policy)
        policies.append(
            {
                "tenant": entity.id.tenant,
                "name": entity.id.name,
                "description": p.description or "",
                "tier": p.autonomy_tier,
                "tools": list(p.allowed_tools),
                "risk": dict(sorted(p.tool_risk.items())),
                "dailyTokens": p.cost_limits.daily_tokens,
                "monthlyCost": p.cost_limits.monthly_cost,
                "scopes": list(p.data_scopes),
                "ceiling": p.ceiling,
                "path": entity.path,
            }
        )
    return {"deployments": deployments, "instances": instances, "policies": policies}


def environments(snapshot: Snapshot) -> list[Row]:
    rows = []
    for entity in sorted(snapshot.of_kind("Environment"), key=lambda e: e.id):
        e = entity.model
        assert isinstance(e, Environment)
        rows.append(
            {
                "tenant": entity.id.tenant,
                "name": entity.id.name,
                "type": e.type,
                "protected": e.protected,
                "requiredApprovals": e.required_approvals,
                "minLifecycle": e.min_lifecycle,
                "policy": e.policy or "",
            }
        )
    return rows


def deployments(facts: Facts) -> list[Row]:
    """Per tenant and environment: each template's deployment and its timeline."""
    snap = facts.snapshot
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for entity in sorted(snap.of_kind("Deployment"), key=lambda e: e.id):
        d = entity.model
        assert isinstance(d, Deployment)
        timeline = [
            record_row(r)
            for r in facts.by_target.get(entity.id.ref, [])
            if r.type.startswith("DEPLOYMENT_")
        ]
        timeline.reverse()  # newest first
        groups[(entity.id.tenant, d.environment)].append(
            {
                "template": d.template,
                "version": d.version,
                "previous": d.previous_version or "",
                "status": d.status,
                "requestedBy": d.requested_by or "",
                "rollbackOf": d.rollback_of or "",
                "reason": d.reason or "",
                "strategy": d.rollout_policy.strategy,
                "url": version_url(entity.id.tenant, d.template, d.version),
                "templateUrl": template_url(entity.id.tenant, d.template),
                "timeline": timeline,
                "activeSince": next(
                    (t["time"] for t in timeline if t["type"] != "DEPLOYMENT_UPDATED"), ""
                ),
                "findings": facts.by_path.get(entity.path, []),
            }
        )
    envs = {(r["tenant"], r["name"]): r for r in environments(snap)}
    keys = sorted(set(groups) | set(envs))
    return [
        {
            "tenant": tenant,
            "environment": env,
            "settings": envs.get((tenant, env)),
            "deployments": groups.get((tenant, env), []),
        }
        for tenant, env in keys
    ]


def operators(snapshot: Snapshot) -> Row:
    ops = []
    for entity in sorted(snapshot.of_kind("Operator"), key=lambda e: e.id):
        o = entity.model
        assert isinstance(o, Operator)
        ops.append(
            {
                "tenant": entity.id.tenant,
                "name": entity.id.name,
                "displayName": o.display_name or "",
                "email": o.email,
                "identities": list(o.identities),
                "sshKeys": len(o.ssh_keys),
                "roles": [{"role": r.role, "expiresAt": r.expires_at or ""} for r in o.roles],
                "disabled": o.disabled,
            }
        )
    roles = []
    for entity in sorted(snapshot.of_kind("Role"), key=lambda e: e.id):
        r = entity.model
        assert isinstance(r, Role)
        roles.append(
            {
                "tenant": entity.id.tenant,
                "name": entity.id.name,
                "description": r.description or "",
                "permissions": list(r.permissions),
            }
        )
    registry = snapshot.registry
    admins = list(registry.registry_admins) if registry is not None else []
    return {"operators": ops, "roles": roles, "admins": admins}


def tenants(snapshot: Snapshot) -> list[Row]:
    rows = []
    for entity in sorted(snapshot.of_kind("Tenant"), key=lambda e: e.id):
        t = entity.model
        assert isinstance(t, Tenant)
        rows.append({"tenant": entity.id.tenant, "name": t.name, "policy": t.policy or ""})
    return rows
