"""The data of the entity pages (pure): version, template and instance, as plain rows the
pages' scripts draw."""

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
        "history": _history(facts, ident),
        "findings": [finding_row(f) for f in facts.by_path.get(ident.path, [])],
        "templateUrl": template_url(tenant, template),
    }


def template_page(facts: Facts, ident: EntityId, own: list[Row]) -> Row:
    """A template's page, as the data ``static/template.js`` renders: about, deployments, its
    versions (``own``, its rows of the Directory) and history. A template whose file is missing
    or did not load still has its page: its versions, its history and the findings."""
    model = facts.snapshot.get(ident, Template)
    about: Row = {
        "loaded": False,
        "title": ident.name,
        "description": "",
        "owners": [],
        "tags": [],
        "policy": "",
    }
    if model is not None:
        about = {
            "loaded": True,
            "title": model.display_name or ident.name,
            "description": model.description or "",
            "owners": list(model.owners),
            "tags": list(model.tags),
            "policy": model.policy or "",
        }
    own = sorted(own, key=lambda r: semver_key(r["label"]), reverse=True)
    deployments = sorted(
        facts.deployments_of.get((ident.tenant, ident.name), []), key=lambda r: r["environment"]
    )
    return {
        "ref": ident.ref,
        "tenant": ident.tenant,
        "name": ident.name,
        **about,
        "state": own[0]["state"] if own else "",  # its latest version's, as in the Directory
        "deployments": deployments,
        "versions": [
            {
                "label": r["label"],
                "url": r["url"],
                "state": r["state"],
                "integrity": r["integrity"],
                "model": r["model"],
                "envs": r["envs"],
                "created": r["created"],
            }
            for r in own
        ],
        "history": _history(facts, ident),
        "findings": [finding_row(f) for f in facts.by_path.get(ident.path, [])],
    }


def instance_page(facts: Facts, ident: EntityId) -> Row:
    """An instance's page, as the data ``static/instance.js`` renders: its version,
    environment, provider, identity, secret reference, effective policy and history."""
    snap = facts.snapshot
    model = snap.get(ident, Instance)
    assert model is not None
    ref = parse_version_ref(model.version, ident.tenant)
    version = snap.get(version_id(ref.tenant, ref.template, ref.label), Version)
    policy = None
    if version is not None:
        policy = facts.policy(ident.tenant, model.environment, ref.template, version, model.policy)
    return {
        "ref": ident.ref,
        "tenant": ident.tenant,
        "name": ident.name,
        "state": model.state,
        "description": model.description or "",
        "version": model.version,
        "versionUrl": version_url(ref.tenant, ref.template, ref.label),
        "environment": model.environment,
        "provider": model.provider,
        "identity": model.identity.principal if model.identity else "",
        "secretRef": model.secret_ref or "",
        "policy": model.policy or "",
        "legacyAgentId": model.legacy_agent_id or "",
        "effective": policy,
        "history": _history(facts, ident),
        "findings": [finding_row(f) for f in facts.by_path.get(ident.path, [])],
    }


def _history(facts: Facts, ident: EntityId) -> list[Row]:
    """``ident``'s change records as rows, newest first."""
    return [record_row(r) for r in reversed(facts.by_target.get(ident.ref, []))]
