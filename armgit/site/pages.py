"""A context per entity page (pure): version, template and instance."""

from __future__ import annotations

from armgit.core.layout import EntityId, version_id
from armgit.core.models import Instance, Template, Version
from armgit.core.rules.policy import target_policy
from armgit.core.rules.state import parse_version_ref
from armgit.site.semver import semver_key
from armgit.site.views import (
    Facts,
    Row,
    instance_url,
    lineage,
    mapping,
    policy_row,
    record_row,
    template_url,
    version_url,
)


def version_page(facts: Facts, ident: EntityId, row: Row) -> Row:
    """A version: genome, integrity, lineage, where it runs, its approvals and history."""
    snap = facts.snapshot
    model = snap.get(ident, Version)
    tenant, template, label = ident.tenant, ident.template, ident.name
    key = (tenant, template, label)
    if model is not None:
        data = model.model_dump(mode="json", by_alias=True, exclude_none=True)
        actual = model.genome_hash
    else:
        data = facts.tampered[ident]["data"]
        actual = facts.tampered[ident]["actual"]
    genome = mapping(data, "genome")
    policies = []
    for env in sorted(facts.deployed.get(key, [])):
        if model is not None:
            policy = policy_row(target_policy(snap, tenant, env, template, model))
            policies.append({"environment": env, **policy})
    return {
        "kind": "version",
        "title": f"{template}@{label}",
        "ref": ident.ref,
        "tenant": tenant,
        "template": template,
        "label": label,
        "row": row,
        "data": data,
        "genome": genome,
        "tools": genome.get("toolManifest") or [],
        "config": genome.get("modelConfig") or {},
        "provenance": genome.get("provenance") or {},
        "written": str(data.get("genomeHash", "")),
        "actual": actual or "",
        "lineage": lineage(snap, ident, facts.tampered),
        "deployed": sorted(facts.deployed.get(key, [])),
        "instances": [
            {"name": name, "url": instance_url(tenant, name)}
            for name in sorted(facts.instances_of.get(key, []))
        ],
        "policies": policies,
        "approvals": facts.approvals_of.get(ident.ref, []),
        "history": [record_row(r) for r in reversed(facts.by_target.get(ident.ref, []))],
        "findings": facts.by_path.get(ident.path, []),
        "templateUrl": template_url(tenant, template),
    }


def template_page(facts: Facts, ident: EntityId, versions: list[Row]) -> Row:
    snap = facts.snapshot
    model = snap.get(ident, Template)
    assert model is not None
    own = sorted(
        (r for r in versions if r["tenant"] == ident.tenant and r["template"] == ident.name),
        key=lambda r: semver_key(r["label"]),
        reverse=True,
    )
    deployments = []
    for entity in snap.of_kind("Deployment"):
        d = entity.model
        if entity.id.tenant == ident.tenant and getattr(d, "template", None) == ident.name:
            deployments.append(
                {
                    "environment": getattr(d, "environment", ""),
                    "version": getattr(d, "version", ""),
                    "status": getattr(d, "status", ""),
                    "url": version_url(ident.tenant, ident.name, getattr(d, "version", "")),
                }
            )
    deployments.sort(key=lambda r: r["environment"])
    return {
        "kind": "template",
        "title": model.display_name or ident.name,
        "ref": ident.ref,
        "tenant": ident.tenant,
        "model": model,
        "versions": own,
        "deployments": deployments,
        "history": [record_row(r) for r in reversed(facts.by_target.get(ident.ref, []))],
        "findings": facts.by_path.get(ident.path, []),
    }


def instance_page(facts: Facts, ident: EntityId) -> Row:
    snap = facts.snapshot
    model = snap.get(ident, Instance)
    assert model is not None
    ref = parse_version_ref(model.version, ident.tenant)
    version = snap.get(version_id(ref.tenant, ref.template, ref.label), Version)
    policy = None
    if version is not None:
        policy = policy_row(
            target_policy(
                snap, ident.tenant, model.environment, ref.template, version, model.policy
            )
        )
    return {
        "kind": "instance",
        "title": ident.name,
        "ref": ident.ref,
        "tenant": ident.tenant,
        "model": model,
        "versionUrl": version_url(ref.tenant, ref.template, ref.label),
        "templateUrl": template_url(ref.tenant, ref.template),
        "policy": policy,
        "history": [record_row(r) for r in reversed(facts.by_target.get(ident.ref, []))],
        "findings": facts.by_path.get(ident.path, []),
    }
