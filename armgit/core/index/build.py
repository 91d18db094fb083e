"""Build the index payload (SPEC section 7) from a snapshot: plain JSON data, ready for JCS.

Per tenant: environments, providers, the deployed version of each template in each environment
(ACTIVE deployments only) with its effective policy and the approvals that admitted it, instances
with their desired state and effective policy, and tables that hold what would otherwise repeat,
each entry once: ``versions`` (each referenced genome, named by ``template@label``), ``parts``
(the repeated parts of those genomes), ``policies`` (each effective policy) and ``approvals``
(a compact record of each approval, named by its id; the signed statement stays in git). A
tenant's object is self-contained: it names only entries of its own tables. Refs and genome
parts: :mod:`armgit.core.index.compact`; tables of entries written as rows of fixed fields
(format 3): :mod:`armgit.core.index.tables`.
"""

from __future__ import annotations

import hashlib

from armgit.core.index.assemble import TENANTS_FIELD, IndexOptions, Source, payload_head
from armgit.core.index.compact import keep, short_ref, split_genomes
from armgit.core.index.operators import build_operators
from armgit.core.index.tables import pack_tenant
from armgit.core.jsondata import JsonObject, JsonValue
from armgit.core.layout import deployment_id, tenant_id, version_id
from armgit.core.models import (
    Approval,
    Deployment,
    Document,
    Environment,
    Instance,
    Provider,
    Tenant,
    Version,
)
from armgit.core.rules.policy import target_policy
from armgit.core.rules.state import parse_version_ref
from armgit.core.snapshot import Snapshot


def tenant_names(snapshot: Snapshot) -> list[str]:
    """The tenants of the registry (those with a valid tenant.yaml), sorted."""
    return sorted(e.id.tenant for e in snapshot.of_kind("Tenant"))


def build_tenant(snapshot: Snapshot, tenant: str) -> JsonObject:
    """One tenant's part of the payload, ``payload["tenants"][tenant]``: its entries
    (:func:`tenant_entries`) with the entry tables packed into rows.

    Reads only the tenant's own entities: the compile cache keys this fragment by the git ids of
    the tenant's directory and of armgit.yaml (see :mod:`armgit.store.compiled`), and a test
    checks that a snapshot holding just those gives the same fragment.
    """
    return pack_tenant(tenant_entries(snapshot, tenant))


def tenant_entries(snapshot: Snapshot, tenant: str) -> JsonObject:
    """One tenant's part of the payload with each table an object of entries by key (the form
    the runtime reads it back into, before genomes are put back together)."""
    return _TenantBuilder(snapshot, tenant).build()


def build_index(snapshot: Snapshot, source: Source, options: IndexOptions) -> JsonObject:
    """The index payload. Raises ``ValueError`` if ``options.tenant`` names no tenant."""
    registry = snapshot.registry
    tenants = tenant_names(snapshot)
    if options.tenant is not None:
        if options.tenant not in tenants:
            raise ValueError(f"tenant {options.tenant!r} does not exist in this registry")
        tenants = [options.tenant]
    head = payload_head(registry.name if registry is not None else "", source, options)
    return {**head, TENANTS_FIELD: {t: build_tenant(snapshot, t) for t in tenants}}


def _dump(model: Document) -> JsonObject:
    data = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {k: v for k, v in data.items() if k not in _NOT_IN_INDEX}


# identity comes from the path; ``legacy`` (what an import kept) is for people, not runtimes
_NOT_IN_INDEX = frozenset({"apiVersion", "kind", "name", "tenant", "legacy"})
# the place says template and environment, status is always ACTIVE; no consumer of the index
# reads who asked or what it replaced (the file at ``source.commit`` says), so format 3 drops them
_NOT_IN_DEPLOYMENT = ("template", "environment", "status", "previousVersion", "requestedBy")


class _TenantBuilder:
    def __init__(self, snapshot: Snapshot, tenant: str) -> None:
        self.snapshot = snapshot
        self.tenant = tenant
        self.versions: dict[str, JsonObject] = {}
        self.policies: dict[str, JsonValue] = {}
        self.used_approvals: dict[str, JsonObject] = {}
        self.approvals: dict[str, list[JsonObject]] = {}
        for entity in snapshot.of_kind("Approval"):
            model = entity.model
            if (
                entity.id.tenant == tenant
                and isinstance(model, Approval)
                and model.statement.decision == "APPROVE"
            ):
                statement = model.statement
                entry: JsonObject = {
                    "id": entity.id.name,
                    "path": entity.path,
                    "digest": statement.digest,
                    "to": statement.change.to,
                    "record": {
                        "approver": statement.approver,
                        "change": statement.change.type,
                        "createdAt": statement.created_at,
                    },
                }
                self.approvals.setdefault(statement.subject.ref, []).append(entry)

    def build(self) -> JsonObject:
        snapshot, tenant = self.snapshot, self.tenant
        model = snapshot.get(tenant_id(tenant), Tenant)
        assert model is not None
        environments: dict[str, JsonValue] = {}
        providers: dict[str, JsonValue] = {}
        for entity in snapshot.of_kind("Environment"):
            if entity.id.tenant == tenant and isinstance(entity.model, Environment):
                environments[entity.id.name] = _dump(entity.model)
        for entity in snapshot.of_kind("Provider"):
            if entity.id.tenant == tenant and isinstance(entity.model, Provider):
                providers[entity.id.name] = _dump(entity.model)
        deployments: dict[str, dict[str, JsonValue]] = {}
        for entity in snapshot.of_kind("Deployment"):
            deployment = entity.model
            if entity.id.tenant != tenant or not isinstance(deployment, Deployment):
                continue
            if deployment.status != "ACTIVE":
                continue
            built = self.deployment(deployment)
            if built is not None:
                deployments.setdefault(deployment.environment, {})[deployment.template] = built
        instances: dict[str, JsonValue] = {}
        for entity in snapshot.of_kind("Instance"):
            if entity.id.tenant == tenant and isinstance(entity.model, Instance):
                built = self.instance(entity.model)
                if built is not None:
                    instances[entity.id.name] = built
        genomes, parts = split_genomes({k: _genome(v) for k, v in self.versions.items()})
        versions: dict[str, JsonValue] = {}
        for key, entry in sorted(self.versions.items()):
            inline, refs = genomes[key]
            versions[key] = {**entry, "genome": inline, **({"parts": refs} if refs else {})}
        return {
            "name": model.name,
            "environments": dict(sorted(environments.items())),
            "providers": dict(sorted(providers.items())),
            "versions": versions,
            "parts": dict(sorted(parts.items())),
            "policies": dict(sorted(self.policies.items())),
            "approvals": dict(sorted(self.used_approvals.items())),
            "deployments": {
                env: dict(sorted(by_template.items()))
                for env, by_template in sorted(deployments.items())
            },
            "instances": dict(sorted(instances.items())),
            "operators": build_operators(snapshot, tenant),
        }

    def version(self, template: str, label: str) -> Version | None:
        version = self.snapshot.get(version_id(self.tenant, template, label), Version)
        if version is not None:
            key = f"{template}@{label}"
            if key not in self.versions:
                self.versions[key] = {
                    "lifecycle": version.lifecycle,
                    "genome": version.genome.model_dump(
                        mode="json", by_alias=True, exclude_none=True
                    ),
                    "genomeHash": version.genome_hash,
                }
        return version

    def deployment(self, deployment: Deployment) -> JsonObject | None:
        version = self.version(deployment.template, deployment.version)
        if version is None:
            return None
        refs = (
            version_id(self.tenant, deployment.template, deployment.version).ref,
            f"{deployment.template}@{deployment.version}",
            deployment_id(self.tenant, deployment.environment, deployment.template).ref,
        )
        approvals = [
            a
            for ref in refs
            for a in self.approvals.get(ref, [])
            if a["digest"] == version.genome_hash or a["to"] == deployment.version
        ]
        ids: list[JsonValue] = []
        for approval in sorted(approvals, key=lambda a: str(a["id"])):
            name = str(approval["id"])
            if name not in ids:
                ids.append(name)
                if name not in self.used_approvals:
                    self.used_approvals[name] = self.approval_record(approval)
        data = _dump(deployment)
        for redundant in _NOT_IN_DEPLOYMENT:
            data.pop(redundant, None)
        if data.get("rolloutPolicy") == _default_rollout():
            del data["rolloutPolicy"]
        return {
            **data,
            "policy": self.intern_policy(
                target_policy(
                    self.snapshot, self.tenant, deployment.environment, deployment.template, version
                ).to_json()
            ),
            "approvals": ids,
        }

    def approval_record(self, approval: JsonObject) -> JsonObject:
        """What the index keeps of an approval: who approved which change when, and the
        sha256 of its file in the commit (the signed statement: ``path`` at ``source.commit``)."""
        record = approval["record"]
        assert isinstance(record, dict)
        data = self.snapshot.files.read(str(approval["path"]))
        if data is None:
            raise ValueError(f"{approval['path']} cannot be read")
        return {**record, "file": "sha256:" + hashlib.sha256(data).hexdigest()}

    def intern_policy(self, policy: JsonObject) -> str:
        """Keep an effective policy once in the tenant's ``policies``; return its ref."""
        body = dict(policy)
        digest = body.pop("digest")
        assert isinstance(digest, str)
        return keep(self.policies, short_ref(digest), body, "effective policies")

    def instance(self, instance: Instance) -> JsonObject | None:
        ref = parse_version_ref(instance.version, self.tenant)
        version = self.version(ref.template, ref.label)
        if version is None:
            return None
        data = _dump(instance)
        return {
            **data,
            "template": ref.template,
            "version": ref.label,
            "policy": self.intern_policy(
                target_policy(
                    self.snapshot,
                    self.tenant,
                    instance.environment,
                    ref.template,
                    version,
                    instance.policy,
                ).to_json()
            ),
        }


def _genome(entry: JsonObject) -> JsonObject:
    genome = entry["genome"]
    assert isinstance(genome, dict)
    return genome


def _default_rollout() -> JsonValue:
    """A deployment's rollout when its file names none (the model's default): left out."""
    default = Deployment.model_fields["rollout_policy"].default
    return default.model_dump(mode="json", by_alias=True, exclude_none=True)  # type: ignore[no-any-return]
