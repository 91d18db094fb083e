"""The fleet's ARM tables: templates, versions (genomes re-hashed, ARM's hash and verdict kept),
instances, and approval records as unsigned evidence. Pure; see :mod:`.mapping`."""

from __future__ import annotations

from armgit.core.canonical import CanonicalizationError, genome_hash
from armgit.core.jsondata import JsonObject, JsonValue
from armgit.core.layout import named_id, template_id, tenant_id, version_id
from armgit.importer.export import ExportError, Row
from armgit.importer.genome import hash_verdict, iso_time, map_genome
from armgit.importer.mapping import (
    API,
    EVALUATIONS,
    LIFECYCLES,
    SECRET_PATTERN,
    STATES,
    TAG_PATTERN,
    ArmMapper,
    short,
    strings,
    text,
    where,
)
from armgit.importer.model import EVIDENCE
from armgit.importer.names import slugify, to_label


def map_templates(m: ArmMapper) -> None:
    for row in m.rows("agentTemplates"):
        tenant = m.tenant_of(row)
        if tenant is None:
            continue
        doc = template_doc(m, row, tenant)
        owners = doc["owners"]
        assert isinstance(owners, list)
        name = str(doc["name"])
        operators = tuple(named_id("Operator", tenant, str(o)).path for o in owners)
        m.add(row, template_id(tenant, name).path, doc, needs=(tenant_id(tenant).path, *operators))


def template_doc(m: ArmMapper, row: Row, tenant: str) -> JsonObject:
    """The template a row of ``agentTemplates`` becomes (no side effect but its name)."""
    display = text(row, "name")
    name = m.book.name(f"{tenant}/template", row.id, slugify(display or "", "template"))
    doc: JsonObject = {
        "apiVersion": API,
        "kind": "Template",
        "name": name,
        "tenant": tenant,
    }
    doc["displayName"] = short(display)
    description = row.fields.get("description")
    if isinstance(description, str) and description:
        doc["description"] = description[:4096]
    owners = strings(row.fields.get("owners"))
    found = [_owner(m, tenant, o) for o in owners]
    doc["owners"] = list(dict.fromkeys(o for o in found if o is not None))
    tags = strings(row.fields.get("tags"))
    doc["tags"] = list(dict.fromkeys(t for t in tags if TAG_PATTERN.match(t)))
    doc["legacy"] = m.legacy(row, ("tenantId", "name", "description"))
    return doc


def _owner(m: ArmMapper, tenant: str, owner: str) -> str | None:
    for path in m.mapped.operators.values():
        doc = m.mapped.entities[path].doc
        if doc.get("tenant") == tenant and owner in (doc.get("email"), doc.get("name")):
            return str(doc["name"])
    return None


def map_versions(m: ArmMapper) -> None:
    rows = m.rows("agentVersions")
    by_id = {row.id: row for row in rows}
    for row in _parents_first(rows, by_id):
        tenant = m.tenant_of(row)
        if tenant is None:
            continue
        template_path = m.ref(row.fields.get("templateId"), "agentTemplates")
        if template_path is None:
            m.skip(row, "its template is not in the export (a version cannot stand alone)")
            continue
        template = m.mapped.entities[template_path].doc
        if template.get("tenant") != tenant:
            m.skip(row, "its template is in another tenant")
            continue
        tpl = str(template["name"])
        original = text(row, "versionLabel")
        label = m.book.name(f"{tenant}/{tpl}/version", row.id, to_label(original or ""))
        legacy_genome = row.fields.get("genome")
        created = iso_time(row.created)
        genome, notes = map_genome(legacy_genome, created, f"arm:{m.source}")
        verdict = hash_verdict(legacy_genome, row.fields.get("genomeHash"))
        m.mapped.verdicts[verdict] = m.mapped.verdicts.get(verdict, 0) + 1
        doc: JsonObject = {
            "apiVersion": API,
            "kind": "Version",
            "template": tpl,
            "label": label,
            "tenant": tenant,
        }
        extra: dict[str, JsonValue] = {
            "versionLabel": original,
            "genome": legacy_genome,
            "genomeHash": row.fields.get("genomeHash"),
            "genomeHashVerdict": verdict,
        }
        parent_path = m.ref(row.fields.get("parentVersionId"), "agentVersions")
        if parent_path is not None:
            parent = m.mapped.entities[parent_path].doc
            if parent.get("tenant") == tenant:
                same = parent.get("template") == tpl
                doc["parent"] = (
                    str(parent["label"]) if same else f"{parent['template']}@{parent['label']}"
                )
            else:
                extra["parentNotMapped"] = "in another tenant"
        elif row.fields.get("parentVersionId") is not None:
            extra["parentNotMapped"] = "not in the export"
            m.note(row, "its parent version is not in the export: the id is kept in legacy")
        lifecycle = row.fields.get("lifecycleState")
        doc["lifecycle"] = lifecycle if lifecycle in LIFECYCLES else "DRAFT"
        if lifecycle not in LIFECYCLES:
            extra["lifecycleNotMapped"] = lifecycle
        status = row.fields.get("evalStatus")
        doc["evaluation"] = {"status": status if status in EVALUATIONS else "NOT_RUN"}
        doc["genome"] = genome
        try:
            doc["genomeHash"] = genome_hash(genome)
        except CanonicalizationError as exc:
            raise ExportError(where(row, "genome"), f"cannot be hashed: {exc}") from exc
        if notes:
            extra["genomeNotes"] = list(notes)
        doc["legacy"] = m.legacy(
            row,
            (
                "tenantId",
                "templateId",
                "versionLabel",
                "genome",
                "genomeHash",
                "lifecycleState",
                "evalStatus",
                "parentVersionId",
            ),
            **extra,
        )
        path = version_id(tenant, tpl, label).path
        m.add(
            row,
            path,
            doc,
            needs=(template_path, *((parent_path,) if "parent" in doc and parent_path else ())),
            state="lifecycle",
        )


def map_instances(m: ArmMapper) -> None:
    for row in m.rows("agentInstances"):
        tenant = m.tenant_of(row)
        if tenant is None:
            continue
        version_path = m.ref(row.fields.get("versionId"), "agentVersions")
        env_path = m.ref(row.fields.get("environmentId"), "environments")
        provider_path = m.ref(row.fields.get("providerId"), "providers")
        missing = [
            w
            for w, p in (
                ("version", version_path),
                ("environment", env_path),
                ("provider", provider_path),
            )
            if p is None
        ]
        if missing or version_path is None or env_path is None or provider_path is None:
            m.skip(row, f"its {' and '.join(missing)} is not in the export")
            continue
        version = m.mapped.entities[version_path].doc
        env = str(m.mapped.entities[env_path].doc["name"])
        tpl = str(version["template"])
        wanted = slugify(f"{tpl}-{env}", "instance")
        name = m.book.name(f"{tenant}/instance", row.id, wanted)
        doc: JsonObject = {
            "apiVersion": API,
            "kind": "Instance",
            "name": name,
            "tenant": tenant,
        }
        doc["version"] = f"{tpl}@{version['label']}"
        doc["environment"] = env
        doc["provider"] = str(m.mapped.entities[provider_path].doc["name"])
        state = row.fields.get("state")
        doc["state"] = state if state in STATES else "PROVISIONING"
        used = ["tenantId", "versionId", "environmentId", "providerId", "state"]
        extra: dict[str, JsonValue] = {}
        if state not in STATES:
            extra["stateNotMapped"] = state
        principal = row.fields.get("identityPrincipal")
        if isinstance(principal, str) and principal:
            doc["identity"] = {"principal": principal}
            used.append("identityPrincipal")
        secret = row.fields.get("secretRef")
        if isinstance(secret, str) and SECRET_PATTERN.match(secret):
            doc["secretRef"] = secret
            used.append("secretRef")
        optional: list[tuple[str, str]] = []
        policy_path = m.ref(row.fields.get("policyEnvelopeId"), "policyEnvelopes")
        if policy_path is None and row.fields.get("policyEnvelopeId") is not None:
            m.note(row, "its policy is not in the export: the id is kept in legacy")
        if policy_path is not None:
            doc["policy"] = str(m.mapped.entities[policy_path].doc["name"])
            optional.append(("policy", policy_path))
            used.append("policyEnvelopeId")
        agent = row.fields.get("legacyAgentId")
        if isinstance(agent, str) and agent:
            doc["legacyAgentId"] = agent
            used.append("legacyAgentId")
        doc["legacy"] = m.legacy(row, tuple(used), **extra)
        path = named_id("Instance", tenant, name).path
        m.add(
            row,
            path,
            doc,
            needs=(version_path, env_path, provider_path),
            optional=tuple(optional),
            state="state",
        )


def map_approvals(m: ArmMapper) -> None:
    """Approval records as unsigned evidence in their subject's ``legacy.approvals`` (the
    tenant's when the subject is gone): never an Approval file, never toward a quorum."""
    said: dict[str, JsonObject] = {}
    for record in m.export.rows("changeRecords"):
        kind = record.fields.get("type")
        payload = record.fields.get("payload")
        if kind in (
            "APPROVAL_REQUESTED",
            "APPROVAL_DECIDED",
            "APPROVAL_CANCELLED",
        ) and isinstance(payload, dict):
            entry = said.setdefault(str(record.fields.get("targetId")), {})
            for key in ("justification", "reason", "decision", "context"):
                if key in payload:
                    entry[key] = payload[key]
    for row in m.rows("approvalRecords"):
        tenant = m.tenant_of(row)
        if tenant is None:
            continue
        evidence: JsonObject = {
            "id": row.id,
            "requestType": row.fields.get("requestType"),
            "status": row.fields.get("status"),
            "requestedAt": iso_time(row.created),
            "requestedMs": row.created,
            "signed": False,
        }
        for key in ("requestedBy", "decidedBy"):
            who = m.name_of(m.mapped.operators.get(str(row.fields.get(key))))
            if who is not None:
                evidence[key] = who
            elif row.fields.get(key) is not None:
                evidence[key] = row.fields.get(key)
        evidence.update(said.get(row.id, {}))
        extra = {
            k: v
            for k, v in row.fields.items()
            if k
            not in ("tenantId", "requestType", "status", "requestedBy", "decidedBy", "targetId")
        }
        if extra:
            evidence["fields"] = extra
        target = row.fields.get("targetId")
        path = m.mapped.paths.get(str(target))
        if path is None or m.mapped.entities[path].doc.get("tenant", tenant) != tenant:
            evidence["targetId"] = target
            m.note(row, "its target is not in the export: kept in the tenant's legacy")
            path = tenant_id(tenant).path
        holder = m.mapped.entities[path].doc
        legacy = holder.setdefault("legacy", {})
        assert isinstance(legacy, dict)
        approvals = legacy.setdefault("approvals", [])
        assert isinstance(approvals, list)
        approvals.append(evidence)
        m.mapped.table("approvalRecords").add(EVIDENCE)


def _parents_first(rows: list[Row], by_id: dict[str, Row]) -> list[Row]:
    """Versions ordered so a parent is mapped before its children (cycles broken by order)."""
    out: list[Row] = []
    done: set[str] = set()
    for row in rows:
        chain = []
        current: Row | None = row
        while current is not None and current.id not in done and current not in chain:
            chain.append(current)
            parent = current.fields.get("parentVersionId")
            current = by_id.get(parent) if isinstance(parent, str) else None
        for item in reversed(chain):
            done.add(item.id)
            out.append(item)
    return out
