"""A synthetic ARM export of a given size, shaped like a real one (for ``import_bench.py``).

Per tenant: environments, a provider, roles, operators with role assignments, policies,
templates with versions in lineage (every fifth version's stored hash a placeholder, every
seventh a mismatch), instances on them, approval records, and the change records that created
and moved them, each its own mutation: about a quarter of the rows are change records.
"""

from __future__ import annotations

import hashlib
import json
import random
import zipfile
from pathlib import Path
from typing import Any

from armgit.importer.ids import encode_id

T0 = 1_768_901_400_000.0
TABLES = (
    "tenants", "environments", "operators", "providers", "agentTemplates", "agentVersions",
    "agentInstances", "changeRecords", "policyEnvelopes", "approvalRecords", "roles",
    "roleAssignments",
)  # fmt: skip


class _Export:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        self.count = 0
        self.clock = T0

    def add(self, table: str, **fields: Any) -> str:
        self.count += 1
        self.clock += 1000.0
        internal = hashlib.sha256(f"{table}:{self.count}".encode()).digest()[:16]
        doc_id = encode_id(10001 + TABLES.index(table), internal)
        self.rows[table].append({"_creationTime": self.clock + 0.5, "_id": doc_id, **fields})
        return doc_id

    def record(self, tenant: str, kind: str, entity: str, target: str, **payload: Any) -> None:
        self.add(
            "changeRecords", tenantId=tenant, type=kind, targetEntity=entity, targetId=target,
            payload=payload, timestamp=self.clock + 1000.0, operatorId=self.operator,
        )  # fmt: skip

    operator = ""


def _genome(rng: random.Random, index: int, parent: str | None) -> dict[str, Any]:
    tools = [f"tool_{rng.randrange(40)}" for _ in range(rng.randrange(1, 4))]
    provenance: dict[str, Any] = {
        "builtBy": "ops@fleet.example",
        "builtAt": "2026-01-20T09:30:00.000Z",
    }
    if parent:
        provenance["parentVersionId"] = parent
    return {
        "modelConfig": {"provider": "anthropic", "model": "claude-3-5-sonnet-20241022",
                        "temperature": 0.5, "maxTokens": 4096.0},
        "promptBundleHash": "sha256:" + hashlib.sha256(str(index).encode()).hexdigest(),
        "toolManifest": [
            {"toolId": t, "schemaVersion": "1.0", "requiredPermissions": [f"{t}:read"]}
            for t in dict.fromkeys(tools)
        ],
        "provenance": provenance,
    }  # fmt: skip


def _arm_hash(genome: dict[str, Any]) -> str:
    def ints(value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, dict):
            return {k: ints(v) for k, v in value.items()}
        if isinstance(value, list):
            return [ints(v) for v in value]
        return value

    text = json.dumps(ints(genome), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def generate_export(path: Path, rows: int, seed: int = 1) -> dict[str, int]:
    """Write a ZIP export of about ``rows`` rows to ``path``; return the rows per table."""
    rng = random.Random(seed)
    x = _Export()
    per_template = 4  # versions per template
    # each template brings ~ 1 + 4 versions + 3 instances + 1 approval + ~9 records = 18 rows
    templates = max(1, rows // 18)
    tenants = max(1, templates // 200)
    for t in range(tenants):
        tenant = x.add("tenants", name=f"Tenant {t}", slug=f"tenant-{t}", settings={})
        envs = [
            x.add("environments", tenantId=tenant, name=n.title(), slug=n, config={})
            for n in ("dev", "staging", "prod")
        ]
        provider = x.add("providers", tenantId=tenant, name="local", type="local", metadata={})
        role = x.add("roles", tenantId=tenant, name="Reviewer", permissions=["approve:versions"])
        ops = []
        for o in range(5):
            op = x.add(
                "operators", tenantId=tenant, authIdentity=f"github|op{t}-{o}",
                email=f"op{o}@t{t}.example", name=f"Operator {o}", role="operator",
            )  # fmt: skip
            x.add(
                "roleAssignments", tenantId=tenant, operatorId=op, roleId=role, assignedAt=x.clock
            )
            ops.append(op)
        policies = [
            x.add("policyEnvelopes", tenantId=tenant, name=f"Policy {p}", autonomyTier=float(p % 4),
                  allowedTools=[f"tool_{i}" for i in range(p % 5)])
            for p in range(10)
        ]  # fmt: skip
        for i in range(templates // tenants):
            x.operator = ops[i % len(ops)]
            template = x.add(
                "agentTemplates", tenantId=tenant, name=f"Agent {i}", owners=[], tags=["fleet"]
            )
            x.record(tenant, "TEMPLATE_CREATED", "agentTemplate", template, name=f"Agent {i}")
            parent = None
            versions = []
            for v in range(per_template):
                genome = _genome(rng, i * per_template + v, parent)
                stored = _arm_hash(genome)
                if v % 5 == 4:
                    stored = f"hash_v{v}_{int(x.clock)}"
                elif (i + v) % 7 == 0:
                    stored = "0" * 64
                version = x.add(
                    "agentVersions", templateId=template, tenantId=tenant,
                    versionLabel=f"v{v + 1}.0.0", genome=genome, genomeHash=stored,
                    lifecycleState="APPROVED" if v < per_template - 1 else "DRAFT",
                    evalStatus="PASS", **({"parentVersionId": parent} if parent else {}),
                )  # fmt: skip
                x.record(
                    tenant, "VERSION_CREATED", "agentVersion", version, versionLabel=f"v{v + 1}"
                )
                if v < per_template - 1:
                    x.record(tenant, "VERSION_TRANSITIONED", "agentVersion", version,
                             **{"from": "DRAFT", "to": "APPROVED"})  # fmt: skip
                parent = version
                versions.append(version)
            for k, env in enumerate(envs):
                instance = x.add(
                    "agentInstances", versionId=versions[-2], tenantId=tenant, environmentId=env,
                    providerId=provider, state="ACTIVE", policyEnvelopeId=policies[i % 10],
                    heartbeatAt=x.clock,
                )  # fmt: skip
                x.record(
                    tenant, "INSTANCE_CREATED", "agentInstance", instance, versionId=versions[-2]
                )
                if k == 2:
                    approval = x.add(
                        "approvalRecords", tenantId=tenant, requestType="VERSION_PROMOTION",
                        targetId=versions[-2], status="APPROVED", requestedBy=ops[0],
                    )  # fmt: skip
                    x.record(tenant, "APPROVAL_REQUESTED", "approvalRecord", approval,
                             requestType="VERSION_PROMOTION", justification="release")  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.md", "# Welcome to your Convex snapshot export!\n")
        archive.writestr(
            "_tables/documents.jsonl",
            "".join(json.dumps({"name": n, "id": 10001 + i}) + "\n" for i, n in enumerate(TABLES)),
        )
        for name, docs in x.rows.items():
            archive.writestr(f"{name}/documents.jsonl", "".join(json.dumps(d) + "\n" for d in docs))
            archive.writestr(f"{name}/generated_schema.jsonl", '"uniform"\n')
    return {name: len(docs) for name, docs in x.rows.items()}
