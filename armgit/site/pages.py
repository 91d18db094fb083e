"""A context per entity page (pure): version, template and instance."""

from __future__ import annotations

from armgit.core.layout import EntityId, version_id
from armgit.core.models import Instance, Template, Version
from armgit.core.rules.state import parse_version_ref
from armgit.site.semver import semver_key
from armgit.site.views import (
    Facts,
    Row,
    finding_row,
    instance_url,
    mapping,
    record_row,
    template_url,
    version_url,
)


def version_page(facts: Facts, ident: EntityId, row: Row) -> Row:
    """A version's page, as the data ``static/version.js`` renders: genome, integrity,
    lineage, where it runs, its approvals and history."""
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
            policies.append({"environment": env, **facts.policy(tenant, env, template, model)})
    return {
        "ref": ident.ref,
        "tenant": tenant,
        "template": template,
        "label": label,
        "state": row["state"],
        "integrity": row["integrity"],
        "evaluation": mapping(data, "evaluation"),
        "description": str(data.get("description", "")),
        "policy": str(data.get("policy", "")),
        "genome": genome,
        "written": str(data.get("genomeHash", "")),
        "actual": actual or "",
        "lineage": facts.lineage(ident),
        "deployed": sorted(facts.deployed.get(key, [])),
        "instances": [
            {"name": name, "url": instance_url(tenant, name)}
            for name in sorted(facts.instances_of.get(key, []))
        ],
        "policies": policies,
        "approvals": facts.approvals_of.get(ident.ref, []),
        "history": [record_row(r) for r in reversed(facts.by_target.get(ident.ref, []))],
        "findings": [finding_row(f) for f in facts.by_path.get(ident.path, [])],
        "templateUrl": template_url(tenant, template),
    }


def template_page(facts: Facts, ident: EntityId, own: list[Row]) -> Row:
    """A template: its versions (``own``, its rows of the Directory), deployments, history."""
    model = facts.snapshot.get(ident, Template)
    assert model is not None
    own = sorted(own, key=lambda r: semver_key(r["label"]), reverse=True)
    deployments = sorted(
        facts.deployments_of.get((ident.tenant, ident.name), []), key=lambda r: r["environment"]
    )
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
        policy = facts.policy(ident.tenant, model.environment, ref.template, version, model.policy)
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
