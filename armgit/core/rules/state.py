"""State rules: what must hold of the registry at one commit (SPEC section 4).

Every check is written from the entity that holds the reference ("outgoing"), so validating a
change means checking the changed entities and those that refer to them, not the whole registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from armgit.core.canonical import sha256_digest
from armgit.core.findings import Finding
from armgit.core.layout import (
    EntityId,
    deployment_id,
    named_id,
    template_id,
    tenant_id,
    version_id,
)
from armgit.core.models import (
    Approval,
    Deployment,
    Document,
    Environment,
    Instance,
    Operator,
    Policy,
    Registry,
    Template,
    Tenant,
    Version,
)
from armgit.core.rules.ceilings import widenings
from armgit.core.rules.lifecycle import is_deployable
from armgit.core.snapshot import Entity, Snapshot, View


@dataclass(frozen=True, slots=True)
class VersionRef:
    tenant: str
    template: str
    label: str


def parse_version_ref(ref: str, tenant: str, template: str | None = None) -> VersionRef:
    """``LABEL`` (needs ``template``), ``TEMPLATE@LABEL`` or ``TENANT/TEMPLATE@LABEL``."""
    if "@" not in ref:
        assert template is not None
        return VersionRef(tenant, template, ref)
    head, _, label = ref.partition("@")
    if "/" in head:
        other_tenant, _, other_template = head.partition("/")
        return VersionRef(other_tenant, other_template, label)
    return VersionRef(tenant, head, label)


class _Checker:
    def __init__(self, snapshot: View) -> None:
        self.snapshot = snapshot
        self.findings: list[Finding] = []
        self._acyclic: set[EntityId] = set()
        self._legacy: dict[str, dict[str, list[str]]] = {}  # tenant -> legacyAgentId -> names

    def add(self, rule: str, entity: Entity, ptr: str, message: str) -> None:
        self.findings.append(Finding(rule, entity.path, message, ptr))

    def need(self, entity: Entity, ptr: str, kind: str, name: str | None) -> Document | None:
        """Resolve a same-tenant reference by name, reporting it if it dangles."""
        if name is None:
            return None
        target_id = named_id(kind, entity.id.tenant, name)
        target = self.snapshot.entity(target_id)
        if target is None:
            if not self.snapshot.is_broken(target_id):
                self.add(
                    "dangling-reference",
                    entity,
                    ptr,
                    f"{kind.lower()} {name!r} does not exist in tenant {entity.id.tenant!r}: "
                    f"create it or correct the name",
                )
            return None
        return target.model

    def need_version(self, entity: Entity, ptr: str, ref: VersionRef) -> Version | None:
        if ref.tenant != entity.id.tenant:
            self.add(
                "cross-tenant-reference",
                entity,
                ptr,
                f"refers to tenant {ref.tenant!r}: tenants are isolated, refer only to "
                f"versions of {entity.id.tenant!r}",
            )
            return None
        target_id = version_id(ref.tenant, ref.template, ref.label)
        version = self.snapshot.get(target_id, Version)
        if version is None and not self.snapshot.is_broken(target_id):
            self.add(
                "dangling-reference",
                entity,
                ptr,
                f"version {ref.template}@{ref.label} does not exist in tenant {ref.tenant!r}",
            )
        return version

    # -- per kind -------------------------------------------------------------------------

    def registry(self, entity: Entity, model: Registry) -> None:
        for i, rule in enumerate(model.approval_rules):
            if rule.tenant is None:
                continue
            if tenant_id(rule.tenant) not in self.snapshot:
                self.add(
                    "dangling-reference",
                    entity,
                    f"/approvalRules/{i}/tenant",
                    f"tenant {rule.tenant!r} does not exist",
                )
            elif rule.environment is not None:
                self.need(
                    Entity(tenant_id(rule.tenant), entity.path, model),
                    f"/approvalRules/{i}/environment",
                    "Environment",
                    rule.environment,
                )

    def tenant(self, entity: Entity, model: Tenant) -> None:
        self.need(entity, "/policy", "Policy", model.policy)

    def environment(self, entity: Entity, model: Environment) -> None:
        self.need(entity, "/policy", "Policy", model.policy)

    def operator(self, entity: Entity, model: Operator) -> None:
        for i, assignment in enumerate(model.roles):
            self.need(entity, f"/roles/{i}/role", "Role", assignment.role)

    def template(self, entity: Entity, model: Template) -> None:
        self.need(entity, "/policy", "Policy", model.policy)
        for i, owner in enumerate(model.owners):
            self.need(entity, f"/owners/{i}", "Operator", owner)

    def version(self, entity: Entity, model: Version) -> None:
        tenant = entity.id.tenant
        template = template_id(tenant, model.template)
        if template not in self.snapshot and not self.snapshot.is_broken(template):
            self.add(
                "dangling-reference",
                entity,
                "/template",
                f"template {model.template!r} has no template.yaml: create it",
            )
        self.need(entity, "/policy", "Policy", model.policy)
        if model.parent is not None:
            parent = parse_version_ref(model.parent, tenant, model.template)
            if self.need_version(entity, "/parent", parent) is not None:
                self._lineage(entity)
        if model.artifacts is not None:
            self._artifacts(entity, model)

    def _lineage(self, entity: Entity) -> None:
        seen = [entity.id]
        current = entity.id
        while current not in self._acyclic:
            version = self.snapshot.get(current, Version)
            if version is None or version.parent is None:
                break
            ref = parse_version_ref(version.parent, current.tenant, version.template)
            current = version_id(ref.tenant, ref.template, ref.label)
            if current == entity.id:
                chain = " -> ".join(v.ref for v in [*seen, current])
                self.add(
                    "lineage-cycle",
                    entity,
                    "/parent",
                    f"lineage loops back to itself ({chain}): a parent must be older",
                )
                return
            if current in seen:
                return  # a cycle above this version; reported on its members
            seen.append(current)
        self._acyclic.update(seen)

    def _artifacts(self, entity: Entity, model: Version) -> None:
        assert model.artifacts is not None
        base = f"tenants/{entity.id.tenant}/templates/{model.template}/"
        genome = model.genome
        pairs = (
            ("promptBundle", model.artifacts.prompt_bundle, genome.prompt_bundle_hash),
            ("toolManifest", model.artifacts.tool_manifest, genome.tool_manifest_hash),
        )
        for field, rel, expected in pairs:
            if rel is None:
                continue
            ptr = f"/artifacts/{field}"
            data = self.snapshot.files.read(base + rel)
            if data is None:
                self.add(
                    "dangling-reference", entity, ptr, f"artifact file {base + rel} does not exist"
                )
            elif expected is None:
                self.add(
                    "artifact-hash-mismatch",
                    entity,
                    ptr,
                    f"the genome lists {field} inline; set genome.{field}Hash to bind this file",
                )
            elif (actual := sha256_digest(data)) != expected:
                self.add(
                    "artifact-hash-mismatch",
                    entity,
                    ptr,
                    f"{base + rel} hashes to {actual}, but the genome records {expected}: "
                    "restore the file, or make a new version for the new content",
                )

    def instance(self, entity: Entity, model: Instance) -> None:
        tenant = entity.id.tenant
        ref = parse_version_ref(model.version, tenant)
        version = self.need_version(entity, "/version", ref)
        environment = self.need(entity, "/environment", "Environment", model.environment)
        self.need(entity, "/provider", "Provider", model.provider)
        policy = self.need(entity, "/policy", "Policy", model.policy)
        if model.legacy_agent_id is not None:
            self._unique_legacy_id(entity, model.legacy_agent_id)
        if model.state == "RETIRED" or not isinstance(environment, Environment):
            return
        if version is not None and not is_deployable(version.lifecycle, environment.min_lifecycle):
            self.add(
                "not-deployable",
                entity,
                "/version",
                f"{model.version} is {version.lifecycle}; environment {model.environment!r} "
                f"runs only {environment.min_lifecycle} or later (and never RETIRED)",
            )
        if environment.require_active_deployment and version is not None:
            deployment = self.snapshot.get(
                deployment_id(tenant, model.environment, ref.template), Deployment
            )
            if (
                deployment is None
                or deployment.status != "ACTIVE"
                or (deployment.version != ref.label)
            ):
                self.add(
                    "no-active-deployment",
                    entity,
                    "/version",
                    f"environment {model.environment!r} requires an active deployment of "
                    f"{model.version}; deploy it first (armgit deploy) or bind the instance "
                    "to the deployed version",
                )
        if isinstance(policy, Policy):
            self._ceiling(entity, "/policy", model.policy, policy, environment)

    def _unique_legacy_id(self, entity: Entity, legacy: str) -> None:
        """A legacyAgentId names one instance of its tenant (retired ones included): the
        runtime resolves agents by it (SPEC 12)."""
        tenant = entity.id.tenant
        table = self._legacy.get(tenant)
        if table is None:
            table = self._legacy[tenant] = {}
        others = table.get(legacy)
        if others is None:
            # the view's candidates (a lazy view keeps them by the instances' tree id, so a
            # push does not read every instance of the tenant), each checked by its model
            others = table[legacy] = sorted(
                name
                for name in self.snapshot.legacy_ids(tenant).get(legacy, ())
                if (other := self.snapshot.get(named_id("Instance", tenant, name), Instance))
                is not None
                and other.legacy_agent_id == legacy
            )
        others = [n for n in others if n != entity.id.name]
        if others:
            self.add(
                "duplicate-legacy-id",
                entity,
                "/legacyAgentId",
                f"legacyAgentId {legacy!r} is also the id of instance {', '.join(others)}: "
                "an agent id names one instance of the tenant; give each its own",
            )

    def deployment(self, entity: Entity, model: Deployment) -> None:
        tenant = entity.id.tenant
        template = self.snapshot.get(template_id(tenant, model.template), Template)
        if template is None and not self.snapshot.is_broken(template_id(tenant, model.template)):
            self.add(
                "dangling-reference",
                entity,
                "/template",
                f"template {model.template!r} does not exist in tenant {tenant!r}",
            )
        environment = self.need(entity, "/environment", "Environment", model.environment)
        self.need(entity, "/requestedBy", "Operator", model.requested_by)
        version = self.need_version(
            entity, "/version", VersionRef(tenant, model.template, model.version)
        )
        if model.previous_version is not None:
            self.need_version(
                entity,
                "/previousVersion",
                VersionRef(tenant, model.template, model.previous_version),
            )
        if model.status == "RETIRED" or not isinstance(environment, Environment):
            return
        if version is not None:
            if not is_deployable(version.lifecycle, environment.min_lifecycle):
                self.add(
                    "not-deployable",
                    entity,
                    "/version",
                    f"{model.template}@{model.version} is {version.lifecycle}; environment "
                    f"{model.environment!r} takes {environment.min_lifecycle} or later "
                    "(and never RETIRED): promote the version first",
                )
            template_policy = template.policy if template is not None else None
            for ptr, name in (("/version", version.policy), ("/template", template_policy)):
                policy = self.snapshot.get(named_id("Policy", tenant, name or ""), Policy)
                if policy is not None:
                    self._ceiling(entity, ptr, name, policy, environment)

    def policy(self, entity: Entity, model: Policy) -> None:
        tenant = self.snapshot.get(tenant_id(entity.id.tenant), Tenant)
        if tenant is None or tenant.policy is None or tenant.policy == entity.id.name:
            return
        ceiling = self.snapshot.get(named_id("Policy", entity.id.tenant, tenant.policy), Policy)
        if ceiling is not None and ceiling.ceiling:
            reasons = widenings(model, ceiling)
            if reasons:
                self.add(
                    "ceiling-exceeded",
                    entity,
                    "",
                    f"wider than the tenant ceiling {tenant.policy!r}: {'; '.join(reasons)}",
                )

    def _ceiling(
        self,
        entity: Entity,
        ptr: str,
        name: str | None,
        policy: Policy,
        environment: Environment,
    ) -> None:
        if environment.policy is None or environment.policy == name:
            return
        ceiling = self.snapshot.get(
            named_id("Policy", entity.id.tenant, environment.policy), Policy
        )
        if ceiling is None or not ceiling.ceiling:
            return
        reasons = widenings(policy, ceiling)
        if reasons:
            self.add(
                "ceiling-exceeded",
                entity,
                ptr,
                f"policy {name!r} is wider than the ceiling {environment.policy!r} of "
                f"environment {environment.name!r}: {'; '.join(reasons)}",
            )

    def duplicate_deployments(self, entities: Iterable[Entity]) -> None:
        active: dict[tuple[str, str, str], list[Entity]] = {}
        for entity in entities:
            model = entity.model
            if isinstance(model, Deployment) and model.status == "ACTIVE":
                key = (entity.id.tenant, model.environment, model.template)
                active.setdefault(key, []).append(entity)
        for (_, environment, template), group in active.items():
            if len(group) > 1:
                files = ", ".join(e.path for e in group)
                for entity in group:
                    self.add(
                        "duplicate-active-deployment",
                        entity,
                        "/status",
                        f"{template} has {len(group)} active deployments in {environment!r} "
                        f"({files}): keep one",
                    )


_DISPATCH: dict[type[Document], Callable[[_Checker, Entity, Document], None]] = {
    Registry: _Checker.registry,  # type: ignore[dict-item]
    Tenant: _Checker.tenant,  # type: ignore[dict-item]
    Environment: _Checker.environment,  # type: ignore[dict-item]
    Operator: _Checker.operator,  # type: ignore[dict-item]
    Template: _Checker.template,  # type: ignore[dict-item]
    Version: _Checker.version,  # type: ignore[dict-item]
    Instance: _Checker.instance,  # type: ignore[dict-item]
    Deployment: _Checker.deployment,  # type: ignore[dict-item]
    Policy: _Checker.policy,  # type: ignore[dict-item]
}


def check_state(snapshot: View, scope: Iterable[EntityId] | None = None) -> list[Finding]:
    """Run every state rule for the entities in ``scope`` (all entities when ``None``, which
    needs a whole :class:`Snapshot`)."""
    checker = _Checker(snapshot)
    if scope is None:
        assert isinstance(snapshot, Snapshot)
        entities: list[Entity] = [*snapshot.entities.values(), *snapshot.misplaced]
    else:
        entities = [e for e in (snapshot.entity(i) for i in sorted(set(scope))) if e is not None]
    for entity in entities:
        if entity.id not in snapshot:
            continue  # misplaced: counted for duplicates only
        check = _DISPATCH.get(type(entity.model))
        if check is not None:
            check(checker, entity, entity.model)
    checker.duplicate_deployments(entities)
    return checker.findings


def check_identity(entity_id: EntityId, path: str, model: Document) -> list[Finding]:
    """The path says who an entity is; the content must not say otherwise."""
    expected: list[tuple[str, str, str | None]] = []  # (pointer, what the path says, content)
    tenant = entity_id.tenant
    if isinstance(model, Tenant):
        expected.append(("/slug", tenant, model.slug))
    elif isinstance(model, Version):
        expected += [("/template", entity_id.template, model.template)]
        expected += [("/label", entity_id.name, model.label), ("/tenant", tenant, model.tenant)]
    elif isinstance(model, Deployment):
        environment, _, template = entity_id.name.partition("/")
        expected += [("/environment", environment, model.environment)]
        expected += [("/template", template, model.template), ("/tenant", tenant, model.tenant)]
    elif isinstance(model, Approval):
        expected.append(("/statement/tenant", tenant, model.statement.tenant))
    elif not isinstance(model, Registry):
        expected.append(("/name", entity_id.name, getattr(model, "name", None)))
        expected.append(("/tenant", tenant, getattr(model, "tenant", None)))
    findings = []
    if type(model).__name__ != entity_id.kind:
        findings.append(
            Finding(
                "path-mismatch",
                path,
                f"this path holds a {entity_id.kind}, but the file says kind "
                f"{type(model).__name__}: move the file or correct its kind",
                "/kind",
            )
        )
        return findings
    for ptr, from_path, from_content in expected:
        if from_content is not None and from_content != from_path:
            findings.append(
                Finding(
                    "path-mismatch",
                    path,
                    f"{ptr[1:]} is {from_content!r} but the path says {from_path!r}: the path is "
                    "the identity; rename the file or correct the field",
                    ptr,
                )
            )
    return findings
