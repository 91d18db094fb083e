"""Convex snapshot exports generated for the import tests: ARM and Mission Control tables in the
current ("uniform") or the older export format, as entries, a ZIP or a folder."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from armgit.importer.ids import encode_id

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "import-sample"  # the two samples
T0 = 1_768_901_400_000.0  # 2026-01-20T09:30:00Z, the seed's run
MINUTE = 60_000.0


class ExportBuilder:
    """Tables of documents with valid Convex ids; ``entries`` renders the export."""

    def __init__(self, fmt: str = "uniform", first_table: int = 10001) -> None:
        self.fmt = fmt
        self.numbers: dict[str, int] = {}
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.int64: dict[str, set[str]] = {}
        self._next = first_table
        self._clock = 0

    def table(self, name: str) -> None:
        if name not in self.numbers:
            self.numbers[name] = self._next
            self._next += 1
            self.tables[name] = []

    def new_id(self, table: str) -> str:
        self.table(table)
        self._clock += 1
        digest = hashlib.sha256(f"{table}:{self._clock}".encode()).digest()[:16]
        return encode_id(self.numbers[table], digest)

    def add(self, table: str, created: float, **fields: Any) -> str:
        doc_id = fields.pop("_id", None) or self.new_id(table)
        self.tables[table].append({"_creationTime": created, "_id": doc_id, **fields})
        return str(doc_id)

    def entries(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {"README.md": b"# Welcome to your Convex snapshot export!\n"}
        out["_tables/documents.jsonl"] = "".join(
            json.dumps({"name": n, "id": i}) + "\n" for n, i in self.numbers.items()
        ).encode()
        for name, docs in self.tables.items():
            out[f"{name}/documents.jsonl"] = "".join(
                json.dumps(self._value(name, d)) + "\n" for d in docs
            ).encode()
            out[f"{name}/generated_schema.jsonl"] = self._schema(name, docs)
        return out

    def _value(self, table: str, doc: dict[str, Any]) -> dict[str, Any]:
        if self.fmt == "uniform":
            return {k: _floats(v) if k != "_id" else v for k, v in doc.items()}
        ints = self.int64.get(table, set())
        return {k: str(v) if k in ints and isinstance(v, int) else v for k, v in doc.items()}

    def _schema(self, table: str, docs: list[dict[str, Any]]) -> bytes:
        if self.fmt == "uniform":
            return b'"uniform"\n'
        fields = sorted({k for d in docs for k in d})
        ints = self.int64.get(table, set())
        shape = ", ".join(f"{k}: {'int64' if k in ints else 'any'}" for k in fields)
        return (json.dumps("{" + shape + "}") + "\n").encode()

    def write_zip(self, path: Path) -> Path:
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in self.entries().items():
                archive.writestr(name, data)
        return path

    def write_folder(self, path: Path) -> Path:
        for name, data in self.entries().items():
            target = path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return path


def _floats(value: Any) -> Any:
    """ARM writes every number with v.number(): a Float64, printed with a point."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return value


def genome(
    model: str = "claude-3-5-sonnet-20241022", tools: tuple[str, ...] = ("search",)
) -> dict[str, Any]:
    return {
        "modelConfig": {
            "provider": "anthropic",
            "model": model,
            "temperature": 0.5,
            "maxTokens": 4096,
        },
        "promptBundleHash": "sha256:" + "0" * 63 + "1",
        "toolManifest": [
            {"toolId": t, "schemaVersion": "1.0", "requiredPermissions": [f"{t}:read"]}
            for t in tools
        ],
        "provenance": {"builtBy": "ops@acme.example", "builtAt": "2026-01-20T09:30:00.000Z"},
    }


def arm_hash(value: Any) -> str:
    """ARM's genome hash: keys sorted, JSON.stringify, SHA-256 hex (what the seed computes)."""
    text = json.dumps(_ints(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def small_arm(
    fmt: str = "uniform", legacy_agent: str | None = None
) -> tuple[ExportBuilder, dict[str, str]]:
    """A small ARM export covering the cases real exports have: a VERIFIED, a MISMATCH and a
    PLACEHOLDER hash, a non-SemVer label, two templates whose names collide, an instance whose
    policy was deleted, rows no change record created, a record whose target is gone, an
    approval of a gone target, and an operational table."""
    b = ExportBuilder(fmt)
    for name in (
        "tenants",
        "environments",
        "operators",
        "providers",
        "agentTemplates",
        "agentVersions",
        "agentInstances",
        "changeRecords",
        "policyEnvelopes",
        "approvalRecords",
        "roles",
        "roleAssignments",
        "costLedger",
    ):
        b.table(name)
    ids: dict[str, str] = {}
    ids["tenant"] = b.add("tenants", T0 + 0.1, name="Acme Org", slug="acme")
    t = ids["tenant"]
    ids["prod"] = b.add(
        "environments",
        T0 + 0.2,
        tenantId=t,
        name="Production",
        slug="prod",
        config={"protected": True, "requiredApprovals": 1, "region": "eu"},
    )
    ids["dev"] = b.add("environments", T0 + 0.3, tenantId=t, name="Development", slug="dev")
    ids["ops"] = b.add(
        "operators",
        T0 + 0.4,
        tenantId=t,
        authIdentity="auth0|ops",
        email="ops@acme.example",
        name="Acme Ops",
        role="admin",
        consentGiven=True,
    )
    ids["sam"] = b.add(
        "operators",
        T0 + 0.5,
        tenantId=t,
        authIdentity="github|sam",
        email="sam@acme.example",
        name="Sam",
        role="operator",
    )
    ids["local"] = b.add("providers", T0 + 0.6, tenantId=t, name="Local", type="local")
    ids["support"] = b.add(
        "agentTemplates",
        T0 + 1,
        tenantId=t,
        name="Support Agent",
        owners=["ops@acme.example"],
        tags=["support", "Bad Tag!"],
    )
    ids["support2"] = b.add(
        "agentTemplates", T0 + 2, tenantId=t, name="support agent", owners=[], tags=[]
    )
    g1 = genome()
    ids["v1"] = b.add(
        "agentVersions",
        T0 + 3,
        templateId=ids["support"],
        tenantId=t,
        versionLabel="v1.0.0",
        genome=g1,
        genomeHash=arm_hash(g1),
        lifecycleState="DRAFT",
        evalStatus="PASS",
    )
    g2 = genome(tools=("search", "reply"))
    g2["provenance"]["parentVersionId"] = ids["v1"]
    ids["v2"] = b.add(
        "agentVersions",
        T0 + 4,
        templateId=ids["support"],
        tenantId=t,
        versionLabel="2",
        genome=g2,
        genomeHash="f" * 64,
        lifecycleState="APPROVED",
        evalStatus="PASS",
        parentVersionId=ids["v1"],
    )
    g3 = genome(model="claude-3-5-haiku-20241022")
    ids["v3"] = b.add(
        "agentVersions",
        T0 + 5,
        templateId=ids["support2"],
        tenantId=t,
        versionLabel="beta-3",
        genome=g3,
        genomeHash="hash_v3_1768901400000",
        lifecycleState="CANDIDATE",
        evalStatus="PASS",
    )
    ids["policy"] = b.add(
        "policyEnvelopes",
        T0 + 6,
        tenantId=t,
        name="Support Prod",
        autonomyTier=2,
        allowedTools=["search", "reply"],
        costLimits={"dailyTokens": 500000, "monthlyCost": 750},
    )
    gone_policy = b.new_id("policyEnvelopes")
    ids["inst"] = b.add(
        "agentInstances",
        T0 + 7,
        versionId=ids["v2"],
        tenantId=t,
        environmentId=ids["prod"],
        providerId=ids["local"],
        state="QUARANTINED",
        policyEnvelopeId=ids["policy"],
        heartbeatAt=T0,
    )
    ids["inst2"] = b.add(
        "agentInstances",
        T0 + 8,
        versionId=ids["v2"],
        tenantId=t,
        environmentId=ids["dev"],
        providerId=ids["local"],
        state="ACTIVE",
        policyEnvelopeId=gone_policy,
        secretRef="vault://support/dev",
        **({"legacyAgentId": legacy_agent} if legacy_agent else {}),
    )
    ids["role"] = b.add(
        "roles",
        T0 + 9,
        tenantId=t,
        name="Reviewer",
        permissions=["approve:versions", "manage:everything"],
        isSystem=False,
    )
    b.add(
        "roleAssignments",
        T0 + 10,
        tenantId=t,
        operatorId=ids["sam"],
        roleId=ids["role"],
        assignedBy=ids["ops"],
        assignedAt=T0 + 10,
        expiresAt=T0 + 100 * 24 * 60 * MINUTE,
    )
    ids["approval"] = b.add(
        "approvalRecords",
        T0 + 30 * MINUTE,
        tenantId=t,
        requestType="INSTANCE_REACTIVATION",
        targetId=ids["inst"],
        status="APPROVED",
        requestedBy=ids["ops"],
        decidedBy=ids["sam"],
    )
    b.add(
        "approvalRecords",
        T0 + 31 * MINUTE,
        tenantId=t,
        requestType="VERSION_PROMOTION",
        targetId=b.new_id("agentVersions"),
        status="DENIED",
        requestedBy=ids["ops"],
    )
    b.add("costLedger", T0 + 40 * MINUTE, tenantId=t, amount=1.5)

    def record(
        when: float,
        kind: str,
        entity: str,
        target: str,
        payload: dict[str, Any],
        operator: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {
            "tenantId": t,
            "type": kind,
            "targetEntity": entity,
            "targetId": target,
            "payload": payload,
            "timestamp": when,
        }
        if operator:
            fields["operatorId"] = operator
        b.add("changeRecords", when + 0.5, **fields)

    record(
        T0 + 1,
        "TEMPLATE_CREATED",
        "agentTemplate",
        ids["support"],
        {"name": "Support Agent"},
        ids["ops"],
    )
    record(
        T0 + 3, "VERSION_CREATED", "agentVersion", ids["v1"], {"versionLabel": "v1.0.0"}, ids["ops"]
    )
    record(
        T0 + 3,
        "TEMPLATE_UPDATED",
        "agentTemplate",
        ids["support"],
        {"description": "x"},
        ids["ops"],
    )
    record(T0 + 4, "VERSION_CREATED", "agentVersion", ids["v2"], {"versionLabel": "2"}, ids["ops"])
    record(
        T0 + 7,
        "INSTANCE_CREATED",
        "agentInstance",
        ids["inst"],
        {"versionId": ids["v2"]},
        ids["ops"],
    )
    record(
        T0 + 10 * MINUTE,
        "VERSION_TRANSITIONED",
        "agentVersion",
        ids["v2"],
        {"from": "DRAFT", "to": "TESTING"},
        ids["sam"],
    )
    record(
        T0 + 11 * MINUTE,
        "VERSION_TRANSITIONED",
        "agentVersion",
        ids["v2"],
        {"from": "TESTING", "to": "APPROVED"},
        ids["sam"],
    )
    record(
        T0 + 14 * MINUTE,
        "POLICY_CREATED",
        "policyEnvelope",
        ids["policy"],
        {"name": "Support Prod"},
        ids["ops"],
    )
    # ARM later patched 1.0.0 back to DRAFT without a record: the snapshot commit says so
    record(
        T0 + 15 * MINUTE,
        "VERSION_TRANSITIONED",
        "agentVersion",
        ids["v1"],
        {"from": "DRAFT", "to": "TESTING"},
        ids["sam"],
    )
    record(
        T0 + 12 * MINUTE,
        "INSTANCE_TRANSITIONED",
        "agentInstance",
        ids["inst"],
        {"from": "PROVISIONING", "to": "ACTIVE"},
        ids["ops"],
    )
    record(
        T0 + 20 * MINUTE,
        "INSTANCE_TRANSITIONED",
        "agentInstance",
        ids["inst"],
        {"from": "ACTIVE", "to": "QUARANTINED"},
        ids["ops"],
    )
    record(
        T0 + 25 * MINUTE,
        "POLICY_DELETED",
        "policyEnvelope",
        gone_policy,
        {"name": "Old"},
        ids["ops"],
    )
    record(
        T0 + 30 * MINUTE,
        "APPROVAL_REQUESTED",
        "approvalRecord",
        ids["approval"],
        {
            "requestType": "INSTANCE_REACTIVATION",
            "targetId": ids["inst"],
            "justification": "resume after incident",
            "context": {},
        },
        ids["ops"],
    )
    record(
        T0 + 32 * MINUTE,
        "APPROVAL_DECIDED",
        "approvalRecord",
        ids["approval"],
        {"decision": "APPROVED", "reason": "fixed"},
        ids["sam"],
    )
    # ARM let a retired instance come back: no legal edge in armgit
    record(
        T0 + 33 * MINUTE,
        "INSTANCE_TRANSITIONED",
        "agentInstance",
        ids["inst2"],
        {"from": "RETIRED", "to": "ACTIVE"},
    )
    record(
        T0 + 33 * MINUTE,
        "EVAL_RUN_COMPLETED",
        "evaluationRun",
        b.new_id("agentVersions"),
        {"passRate": 1},
    )
    return b, ids


def patched_arm(fmt: str = "uniform") -> tuple[ExportBuilder, dict[str, str]]:
    """:func:`small_arm` with update records in every shape ARM writes: a template patched
    twice (its value before the first patch unknown), a policy whose creation record gives its
    first tier and whose update names keys only, an update contradicting the snapshot, a role
    updated with before and after values, and a template whose old name armgit cannot hold."""
    b, ids = small_arm(fmt)
    t = ids["tenant"]
    rows = {d["_id"]: d for docs in b.tables.values() for d in docs}
    rows[ids["support"]]["description"] = "Answers customers"
    rows[ids["support"]]["tags"] = ["support", "tier-1"]
    for doc in b.tables["changeRecords"]:
        if doc["type"] == "POLICY_CREATED":
            doc["payload"] = {"name": "Support Prod", "autonomyTier": 1, "toolCount": 2}

    def update(when: float, kind: str, entity: str, target: str, payload: Any) -> None:
        b.add(
            "changeRecords",
            when + 0.5,
            tenantId=t,
            type=kind,
            targetEntity=entity,
            targetId=target,
            payload=payload,
            timestamp=when,
            operatorId=ids["ops"],
        )

    template, policy = "agentTemplate", "policyEnvelope"
    patch = {"description": "Answers customers", "tags": ["support", "tier-1"]}
    update(T0 + 16 * MINUTE, "TEMPLATE_UPDATED", template, ids["support"], patch)
    keys = {"changes": ["autonomyTier", "allowedTools"]}
    update(T0 + 16 * MINUTE, "POLICY_UPDATED", policy, ids["policy"], keys)
    wrong = {"changes": {"costLimits": {"from": {"dailyTokens": 1}, "to": {"dailyTokens": 2}}}}
    update(T0 + 17 * MINUTE, "POLICY_UPDATED", policy, ids["policy"], wrong)
    after = {"permissions": ["approve:versions", "manage:everything"]}
    role = {"before": {"permissions": ["read:templates"]}, "after": after}
    update(T0 + 18 * MINUTE, "ROLE_UPDATED", "role", ids["role"], role)
    renamed = {"changes": {"name": {"from": "", "to": "support agent"}}}
    update(T0 + 19 * MINUTE, "TEMPLATE_UPDATED", template, ids["support2"], renamed)
    return b, ids


def small_mc(fmt: str = "older", linked: str | None = None) -> tuple[ExportBuilder, dict[str, str]]:
    """Mission Control agents (one maybe already ``linked`` from an ARM instance) and a
    toolCalls row; Int64 budgets in the older format's strings."""
    b = ExportBuilder(fmt)
    b.table("agents")
    b.table("toolCalls")
    b.int64["agents"] = {"maxSubAgents"}
    ids = {}
    ids["atlas"] = b.add(
        "agents",
        T0 - 60 * MINUTE,
        _id=linked,
        name="Atlas",
        emoji="🗺️",
        role="LEAD",
        status="OFFLINE",
        workspacePath="agents/atlas",
        allowedTaskTypes=["TRIAGE"],
        allowedTools=["search"],
        budgetDaily=10.0,
        budgetPerRun=1.0,
        spendToday=2.5,
        canSpawn=True,
        maxSubAgents=3,
        errorStreak=0.0,
        metadata={"modelId": "gpt-4o", "temperature": 0.2, "maxTokens": 2048.0},
        soulVersionHash="sha256:a71a5",
    )
    ids["echo"] = b.add(
        "agents",
        T0 - 30 * MINUTE,
        name="Echo",
        role="INTERN",
        status="WEIRD",
        workspacePath="agents/echo",
        allowedTaskTypes=[],
        budgetDaily=1.0,
        budgetPerRun=0.1,
        spendToday=0.0,
        canSpawn=False,
        maxSubAgents=0,
        errorStreak=1.0,
        parentAgentId=ids["atlas"],
    )
    ids["echo2"] = b.add(
        "agents",
        T0 - 20 * MINUTE,
        name="ECHO",
        role="INTERN",
        status="PAUSED",
        workspacePath="agents/echo2",
        allowedTaskTypes=[],
        budgetDaily=1.0,
        budgetPerRun=0.1,
        spendToday=0.0,
        canSpawn=False,
        maxSubAgents=0,
        errorStreak=0.0,
    )
    b.add(
        "toolCalls",
        T0,
        agentId=ids["atlas"],
        toolName="search",
        riskLevel="green",
        status="SUCCEEDED",
    )
    return b, ids
