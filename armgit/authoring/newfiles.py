"""New registry documents (``armgit new``) as plain data, in the key order they are written.

Pure: the CLI reads files (prompt bundles, a genome) and the clock, and passes values in.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, replace

from armgit.authoring.plans import NewArtifact, NewFile, Plan, Refusal
from armgit.core.canonical import genome_hash, sha256_digest
from armgit.core.jsondata import JsonValue
from armgit.core.layout import EntityId, version_id
from armgit.core.models import Version
from armgit.core.rules.state import parse_version_ref
from armgit.core.snapshot import View
from armgit.core.yamldata import YamlDoc, parse_yaml

API = {"apiVersion": "armgit/v1"}


def document(kind: str, fields: Mapping[str, JsonValue | None]) -> dict[str, JsonValue]:
    """``apiVersion``, ``kind``, then ``fields`` without the ``None``/empty ones."""
    data: dict[str, JsonValue] = {**API, "kind": kind}
    for key, value in fields.items():
        if value is None or value in ([], {}):
            continue
        data[key] = value
    return data


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool to add to a genome's manifest."""

    tool_id: str
    risk: str
    permissions: tuple[str, ...] = ()
    schema_version: str = "1.0"

    def to_data(self) -> dict[str, JsonValue]:
        return {
            "toolId": self.tool_id,
            "schemaVersion": self.schema_version,
            "requiredPermissions": list(self.permissions),
            "risk": self.risk,
        }


def parse_tool_spec(text: str) -> ToolSpec:
    """``ID,RISK[,PERMISSION...]`` (``crm_lookup,low,crm:read``); raises ``ValueError``."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 2 or not parts[0] or parts[1] not in ("low", "medium", "high", "critical"):
        raise ValueError(
            f"{text!r}: a tool is ID,RISK[,PERMISSION...] with RISK low, medium, high or "
            "critical, e.g. crm_lookup,low,crm:read"
        )
    return ToolSpec(parts[0], parts[1], tuple(p for p in parts[2:] if p))


@dataclass(frozen=True, slots=True)
class GenomeChanges:
    """What a new version changes in the genome it starts from."""

    provider: str | None = None
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    add_tools: tuple[ToolSpec, ...] = ()
    remove_tools: tuple[str, ...] = ()
    prompt_bundle_hash: str | None = None
    tool_manifest_hash: str | None = None


def derive_genome(
    start: Mapping[str, JsonValue], changes: GenomeChanges, provenance: dict[str, JsonValue]
) -> tuple[dict[str, JsonValue], list[str]]:
    """The genome ``start`` with ``changes`` and a fresh ``provenance``, plus the problems
    (a tool to remove that is not there, one to add that already is)."""
    genome: dict[str, JsonValue] = copy.deepcopy(dict(start))
    problems: list[str] = []
    config = genome.get("modelConfig")
    config = dict(config) if isinstance(config, dict) else {}
    for key, value in (
        ("provider", changes.provider),
        ("modelId", changes.model),
        ("temperature", changes.temperature),
        ("maxTokens", changes.max_tokens),
    ):
        if value is not None:
            config[key] = value
    genome["modelConfig"] = config
    if changes.prompt_bundle_hash is not None:
        genome["promptBundleHash"] = changes.prompt_bundle_hash
    if changes.tool_manifest_hash is not None:
        genome.pop("toolManifest", None)
        genome["toolManifestHash"] = changes.tool_manifest_hash
    if changes.add_tools or changes.remove_tools:
        tools = genome.get("toolManifest")
        if not isinstance(tools, list):
            tools = []
            if "toolManifestHash" in genome:
                problems.append(
                    "this genome binds its tools by toolManifestHash: give a new --tool-manifest "
                    "file instead of --add-tool/--remove-tool"
                )
        ids = [t.get("toolId") for t in tools if isinstance(t, dict)]
        for tool_id in changes.remove_tools:
            if tool_id not in ids:
                problems.append(f"--remove-tool {tool_id}: no such tool in the manifest")
        removed = set(changes.remove_tools)
        tools = [t for t in tools if not (isinstance(t, dict) and t.get("toolId") in removed)]
        for spec in changes.add_tools:
            if spec.tool_id in ids and spec.tool_id not in changes.remove_tools:
                problems.append(f"--add-tool {spec.tool_id}: the manifest has it already")
            tools.append(spec.to_data())
        genome["toolManifest"] = tools
    ordered: dict[str, JsonValue] = {}
    for key in ("modelConfig", "promptBundleHash", "toolManifest", "toolManifestHash"):
        if key in genome:
            ordered[key] = genome.pop(key)
    genome.pop("provenance", None)
    ordered.update(genome)
    ordered["provenance"] = provenance
    return ordered, problems


def provenance(
    created_by: str, source: str, created_at: str, commit_ref: str | None = None
) -> dict[str, JsonValue]:
    data: dict[str, JsonValue] = {
        "createdBy": created_by,
        "source": source,
        "createdAt": created_at,
    }
    if commit_ref is not None:
        data["commitRef"] = commit_ref
    return data


def version_document(
    template: str,
    label: str,
    genome: dict[str, JsonValue],
    *,
    parent: str | None = None,
    policy: str | None = None,
    description: str | None = None,
    artifacts: Mapping[str, str] | None = None,
) -> dict[str, JsonValue]:
    """A DRAFT version with its genome hash computed."""
    return document(
        "Version",
        {
            "template": template,
            "label": label,
            "parent": parent,
            "lifecycle": "DRAFT",
            "evaluation": {"status": "NOT_RUN"},
            "policy": policy,
            "description": description,
            "artifacts": dict(artifacts) if artifacts else None,
            "genome": genome,
            "genomeHash": genome_hash(genome),
        },
    )


@dataclass(frozen=True, slots=True)
class ArtifactInput:
    """A file to bind into a new version: its path relative to the template directory."""

    path: str
    data: bytes


def plan_new_version(
    view: View,
    vid: EntityId,
    *,
    parent: str | None,
    start: dict[str, JsonValue] | None,
    changes: GenomeChanges,
    provenance: dict[str, JsonValue],
    prompt_bundle: ArtifactInput | None = None,
    tool_manifest: ArtifactInput | None = None,
    policy: str | None = None,
    description: str | None = None,
) -> Plan | Refusal:
    """A new DRAFT version: the parent's genome (or ``start``) with ``changes``, hashed."""
    artifacts: dict[str, str] = {}
    inherited_policy: str | None = None
    if parent is not None:
        ref = parse_version_ref(parent, vid.tenant, vid.template)
        if ref.tenant != vid.tenant:
            return Refusal(f"--parent {parent}: a parent is in the same tenant")
        pid = version_id(ref.tenant, ref.template, ref.label)
        parent_model = view.get(pid, Version)
        raw = view.files.read(pid.path)
        doc = parse_yaml(raw) if raw is not None else None
        if parent_model is None or not isinstance(doc, YamlDoc) or not isinstance(doc.data, dict):
            return Refusal(
                f"--parent {parent}: {pid.ref} does not exist or is not valid "
                f"(expected at {pid.path})"
            )
        genome = doc.data.get("genome")
        if start is None and isinstance(genome, dict):
            start = genome
        inherited_policy = parent_model.policy
        if parent_model.artifacts is not None and ref.template == vid.template:
            if parent_model.artifacts.prompt_bundle is not None:
                artifacts["promptBundle"] = parent_model.artifacts.prompt_bundle
            if parent_model.artifacts.tool_manifest is not None:
                artifacts["toolManifest"] = parent_model.artifacts.tool_manifest
    if start is None:
        start = {}
    created: list[NewArtifact] = []
    base = f"tenants/{vid.tenant}/templates/{vid.template}/"
    for key, given in (("promptBundle", prompt_bundle), ("toolManifest", tool_manifest)):
        if given is not None:
            artifacts[key] = given.path
            created.append(NewArtifact(base + given.path, given.data))
    hashes = {
        "promptBundleHash": sha256_digest(prompt_bundle.data) if prompt_bundle else None,
        "toolManifestHash": sha256_digest(tool_manifest.data) if tool_manifest else None,
    }
    changes = replace(
        changes,
        prompt_bundle_hash=hashes["promptBundleHash"] or changes.prompt_bundle_hash,
        tool_manifest_hash=hashes["toolManifestHash"] or changes.tool_manifest_hash,
    )
    genome, problems = derive_genome(start, changes, provenance)
    if "toolManifest" in artifacts and "toolManifestHash" not in genome:
        del artifacts["toolManifest"]
    if problems:
        return Refusal(f"cannot make {vid.ref}", tuple(problems))
    data = version_document(
        vid.template,
        vid.name,
        genome,
        parent=parent,
        policy=policy if policy is not None else inherited_policy,
        description=description,
        artifacts=artifacts,
    )
    what = f"new version {vid.ref}" + (f" (parent {parent})" if parent else "")
    return Plan(
        what,
        vid,
        created=(NewFile(vid.path, data),),
        artifacts=tuple(created),
        notes=(f"genomeHash {data['genomeHash']}",),
    )
