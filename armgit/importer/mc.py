"""Mission Control ``agents`` to templates, versions and instances, by Mission Control's own
compatibility resolver's rules: per agent a template ``legacy-<slug of name>``, an APPROVED
version ``1.0.0`` and an instance named after the agent with ``legacyAgentId`` = the agent's id.
An agent some ARM instance already names in ``legacyAgentId`` is linked there, not duplicated.
Mission Control's own genome hashes are not reproducible: they are kept, never trusted. Pure."""

from __future__ import annotations

from armgit.core.canonical import canonical_digest, genome_hash
from armgit.core.jsondata import JsonObject, JsonValue
from armgit.core.layout import named_id, template_id, tenant_id, version_id
from armgit.importer.export import Export, ExportError
from armgit.importer.genome import DEFAULT_RISK, MAX_TOKENS, TEXT_MAX, iso_time, valid_tool_id
from armgit.importer.mapping import API, ArmMapper, short, text, where
from armgit.importer.model import MAPPED, NOT_IMPORTED, Entity

STATUS = {
    "ACTIVE": "ACTIVE",
    "PAUSED": "PAUSED",
    "DRAINED": "DRAINING",
    "QUARANTINED": "QUARANTINED",
    "OFFLINE": "READONLY",
}
MC_TENANT = "mission-control"
MC_ENVIRONMENT = "prod"
MC_PROVIDER = "mission-control"
_PROVIDERS = (("claude", "anthropic"), ("gpt", "openai"), ("o1", "openai"), ("gemini", "google"))


def map_mission_control(mapper: ArmMapper, export: Export) -> None:
    """Add Mission Control's agents (``export``) to ``mapper``'s result."""
    mapped = mapper.mapped
    linked = {
        str(e.doc.get("legacyAgentId")): e.path
        for e in mapped.entities.values()
        if e.doc.get("kind") == "Instance" and e.doc.get("legacyAgentId")
    }
    rows = sorted(export.rows("agents"), key=lambda r: (r.created, r.id))
    report = mapped.table("mc:agents")
    report.rows = len(rows)
    for name, table_rows in sorted(export.tables.items()):
        if name != "agents":
            other = mapped.table(f"mc:{name}")
            other.rows = len(table_rows)
            for _ in table_rows:
                other.add(NOT_IMPORTED)
    if not rows:
        return
    tenant = _tenant(mapper, min(r.created for r in rows))
    env_path = _environment(mapper, tenant, rows[0].created)
    provider_path = _provider(mapper, tenant, rows[0].created)
    agent_names: dict[str, str] = {}
    for row in rows:
        display = text(row, "name") or ""
        if row.id in linked:
            report.add(MAPPED)
            mapped.notes.append(f"mc:agents {row.id}: already an ARM instance ({linked[row.id]})")
            continue
        slug = mapper.book.name(f"{tenant}/mc-agent", row.id, _slug(display))
        tpl = mapper.book.name(
            f"{tenant}/template", "tpl:" + row.id, f"legacy-{slug}"[:63].rstrip("-")
        )
        instance = mapper.book.name(f"{tenant}/instance", row.id, slug)
        agent_names[row.id] = instance
        created = iso_time(row.created)
        metadata = row.fields.get("metadata")
        meta = metadata if isinstance(metadata, dict) else {}
        template_doc: JsonObject = {
            "apiVersion": API,
            "kind": "Template",
            "name": tpl,
            "tenant": tenant,
            "displayName": short(display),
            "description": short(f"Mission Control agent {display} (imported)"),
            "tags": ["mission-control"],
        }
        for field in _SOUL:  # hashed into the prompt bundle's digest: text or nothing
            if not isinstance(row.fields.get(field), str | None):
                raise ExportError(where(row, field), "not a string")
        tools = row.fields.get("allowedTools")
        for tool in tools if isinstance(tools, list) else []:
            if not valid_tool_id(tool):
                mapper.note(row, f"allowedTools: {tool!r} is not a tool id armgit holds: left out")
        genome = _genome(row.fields, meta, created, mapper.source)
        version_doc: JsonObject = {
            "apiVersion": API,
            "kind": "Version",
            "template": tpl,
            "label": "1.0.0",
            "tenant": tenant,
            "lifecycle": "APPROVED",
            "genome": genome,
            "genomeHash": genome_hash(genome),
            "legacy": {
                "source": mapper.source,
                "table": "agents",
                "id": row.id,
                "soulVersionHash": row.fields.get("soulVersionHash"),
                "genomeHashVerdict": "PLACEHOLDER",
                "resolver": "Mission Control compatibility resolver",
            },
        }
        status = row.fields.get("status")
        instance_doc: JsonObject = {
            "apiVersion": API,
            "kind": "Instance",
            "name": instance,
            "tenant": tenant,
            "version": f"{tpl}@1.0.0",
            "environment": MC_ENVIRONMENT,
            "provider": mapper.name_of(provider_path) or MC_PROVIDER,
            "state": STATUS.get(str(status), "PROVISIONING"),
            "legacyAgentId": row.id,
            "legacy": mapper.legacy(row, ("name", "status"), status=status),
        }
        verdict = "PLACEHOLDER"
        mapped.verdicts[verdict] = mapped.verdicts.get(verdict, 0) + 1
        t_path = template_id(tenant, tpl).path
        v_path = version_id(tenant, tpl, "1.0.0").path
        i_path = named_id("Instance", tenant, instance).path
        mapped.add(
            Entity(
                t_path,
                template_doc,
                "agents",
                "tpl:" + row.id,
                row.created,
                needs=(tenant_id(tenant).path,),
            )
        )
        mapped.add(
            Entity(
                v_path,
                version_doc,
                "agents",
                "ver:" + row.id,
                row.created,
                needs=(t_path,),
                state="lifecycle",
            )
        )
        mapped.add(
            Entity(
                i_path,
                instance_doc,
                "agents",
                row.id,
                row.created,
                needs=(v_path, env_path, provider_path),
                state="state",
            )
        )
        report.add(MAPPED)
    for row in rows:
        parent = row.fields.get("parentAgentId")
        path = mapped.paths.get(row.id)
        if isinstance(parent, str) and path is not None and row.id in agent_names:
            legacy = mapped.entities[path].doc["legacy"]
            assert isinstance(legacy, dict)
            legacy["parentAgent"] = agent_names.get(parent, parent)


def _slug(name: str) -> str:
    from armgit.importer.names import slugify

    return slugify(name, "agent")


def _tenant(mapper: ArmMapper, created: float) -> str:
    """The one ARM tenant of the import, or a ``mission-control`` tenant when there is not
    exactly one."""
    if len(mapper.tenants) == 1:
        return next(iter(mapper.tenants.values()))
    name = mapper.book.name("tenants", "mc:tenant", MC_TENANT)
    doc: JsonObject = {"apiVersion": API, "kind": "Tenant", "name": "Mission Control", "slug": name}
    mapper.mapped.add(Entity(tenant_id(name).path, doc, "agents", "mc:tenant", created))
    return name


def _environment(mapper: ArmMapper, tenant: str, created: float) -> str:
    path = named_id("Environment", tenant, MC_ENVIRONMENT).path
    if path not in mapper.mapped.entities:
        doc: JsonObject = {
            "apiVersion": API,
            "kind": "Environment",
            "name": MC_ENVIRONMENT,
            "tenant": tenant,
            "type": "prod",
            "description": "Where Mission Control's agents ran (made by the import)",
        }
        mapper.mapped.add(
            Entity(path, doc, "agents", "mc:environment", created, needs=(tenant_id(tenant).path,))
        )
    return path


def _provider(mapper: ArmMapper, tenant: str, created: float) -> str:
    for path, entity in sorted(mapper.mapped.entities.items()):
        if entity.doc.get("kind") == "Provider" and entity.doc.get("tenant") == tenant:
            return path
    path = named_id("Provider", tenant, MC_PROVIDER).path
    doc: JsonObject = {
        "apiVersion": API,
        "kind": "Provider",
        "name": MC_PROVIDER,
        "tenant": tenant,
        "type": "local",
        "description": "Mission Control (made by the import)",
    }
    mapper.mapped.add(
        Entity(path, doc, "agents", "mc:provider", created, needs=(tenant_id(tenant).path,))
    )
    return path


_SOUL = ("workspacePath", "soulVersionHash")


def _genome(
    fields: JsonObject, meta: dict[str, JsonValue], created: str, source: str
) -> JsonObject:
    model = meta.get("modelId")
    model_id = model if isinstance(model, str) and 0 < len(model) <= TEXT_MAX else "unknown"
    provider = next((p for prefix, p in _PROVIDERS if model_id.startswith(prefix)), "unknown")
    config: JsonObject = {"provider": provider, "modelId": model_id}
    temperature = meta.get("temperature")
    if (
        isinstance(temperature, (int, float))
        and not isinstance(temperature, bool)
        and 0 <= temperature <= 2
    ):
        config["temperature"] = float(temperature)
    tokens = meta.get("maxTokens")
    if (
        isinstance(tokens, (int, float))
        and not isinstance(tokens, bool)
        and float(tokens).is_integer()
        and 0 < tokens < MAX_TOKENS
    ):
        config["maxTokens"] = int(tokens)
    tools = fields.get("allowedTools")
    manifest: list[JsonValue] = [
        {"toolId": t, "schemaVersion": "1.0", "requiredPermissions": [], "risk": DEFAULT_RISK}
        for t in dict.fromkeys(tools if isinstance(tools, list) else [])
        if valid_tool_id(t)
    ]
    # the soul (prompt) files are not in the export: the bundle hash is the digest of where
    # Mission Control kept them, until the bundle is added to the registry
    soul: JsonObject = {field: fields.get(field) for field in _SOUL}
    return {
        "modelConfig": config,
        "promptBundleHash": canonical_digest(soul),
        "toolManifest": manifest,
        "provenance": {
            "createdBy": "mission-control",
            "source": f"mission-control:{source}",
            "createdAt": created,
        },
    }
