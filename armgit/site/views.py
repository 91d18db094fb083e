"""The site's pages as data: rows for the Directory, and a context per page (pure).

Everything here reads the snapshot and the change records given to it; nothing does I/O but
reading a broken version's own file through the snapshot's file reader, to show it as TAMPERED.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from armgit.audit.records import ChangeRecord
from armgit.core.canonical import CanonicalizationError, genome_hash
from armgit.core.findings import Finding
from armgit.core.layout import EntityId, identify, version_id
from armgit.core.models import (
    Approval,
    Deployment,
    Instance,
    Template,
    Version,
)
from armgit.core.rules.policy import EffectivePolicy, policy_chain, resolve_policy
from armgit.core.rules.state import parse_version_ref
from armgit.core.snapshot import Snapshot
from armgit.core.yamldata import YamlProblem, parse_yaml
from armgit.site.semver import semver_key

Row = dict[str, Any]


def version_url(tenant: str, template: str, label: str) -> str:
    """A version's page: ``version.html`` renders the version the fragment names from its
    template's data script (one page per version, without a file per version)."""
    return f"version.html#{tenant}/{template}@{quote(label, safe='')}"


def template_data_path(tenant: str, template: str) -> str:
    """The data script of a template's page and of its versions' pages."""
    return f"data/templates/{tenant}/{template}.js"


def instance_data_path(tenant: str) -> str:
    """The data script of a tenant's instance pages."""
    return f"data/instances/{tenant}.js"


def finding_row(f: Finding) -> Row:
    return {"rule": f.rule, "path": f.path, "line": f.line, "message": f.message}


def template_url(tenant: str, template: str) -> str:
    """A template's page: ``template.html`` draws it from the template's data script."""
    return f"template.html#{tenant}/{template}"


def instance_url(tenant: str, name: str) -> str:
    """An instance's page: ``instance.html`` draws it from its tenant's data script."""
    return f"instance.html#{tenant}/{name}"


@dataclass(slots=True)
class Facts:
    """What several pages share: records by target, findings by path, deployments by version."""

    snapshot: Snapshot
    findings: list[Finding]
    records: list[ChangeRecord]
    by_target: dict[str, list[ChangeRecord]] = field(default_factory=dict)
    by_path: dict[str, list[Finding]] = field(default_factory=dict)
    deployed: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    instances_of: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    approvals_of: dict[str, list[Row]] = field(default_factory=dict)
    tampered: dict[EntityId, Row] = field(default_factory=dict)
    deployments_of: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    _policies: dict[tuple[str, tuple[str | None, ...], tuple[str | None, ...]], Row] = field(
        default_factory=dict
    )
    _links: dict[EntityId, _Link] = field(default_factory=dict)  # lineage's, kept between pages

    def policy(
        self, tenant: str, env: str, template: str, version: Version, own: str | None = None
    ) -> Row:
        """The effective policy of ``version`` in ``env`` (with an instance's ``own`` policy
        first), as a row; resolved once per target."""
        attached, ceilings = policy_chain(self.snapshot, tenant, env, template, version, own)
        # the names are the policies (one per name in a tenant): thousands of targets share a
        # few chains, resolved (and digested) once each
        key = (tenant, tuple(n for n, _ in attached), tuple(n for n, _ in ceilings))
        found = self._policies.get(key)
        if found is None:
            found = self._policies[key] = policy_row(resolve_policy(attached, ceilings))
        return found

    @classmethod
    def of(cls, snapshot: Snapshot, findings: list[Finding], records: list[ChangeRecord]) -> Facts:
        facts = cls(snapshot, findings, records)
        for record in records:
            facts.by_target.setdefault(record.target, []).append(record)
        for finding in findings:
            facts.by_path.setdefault(finding.path, []).append(finding)
        for entity in snapshot.of_kind("Deployment"):
            d = entity.model
            assert isinstance(d, Deployment)
            if d.status == "ACTIVE":
                key = (entity.id.tenant, d.template, d.version)
                facts.deployed.setdefault(key, []).append(d.environment)
            facts.deployments_of.setdefault((entity.id.tenant, d.template), []).append(
                {
                    "environment": d.environment,
                    "version": d.version,
                    "status": d.status,
                    "url": version_url(entity.id.tenant, d.template, d.version),
                }
            )
        for entity in snapshot.of_kind("Instance"):
            i = entity.model
            assert isinstance(i, Instance)
            ref = parse_version_ref(i.version, entity.id.tenant)
            facts.instances_of.setdefault((ref.tenant, ref.template, ref.label), []).append(
                entity.id.name
            )
        for entity in sorted(snapshot.of_kind("Approval"), key=lambda e: e.id):
            a = entity.model
            assert isinstance(a, Approval)
            facts.approvals_of.setdefault(a.statement.subject.ref, []).append(
                approval_row(entity.id, a)
            )
        facts.tampered = _tampered_versions(snapshot, findings)
        return facts

    def lineage(self, ident: EntityId) -> Row:
        """``ident``'s lineage (:func:`lineage`), its links worked out once per site."""
        return lineage(self.snapshot, ident, self.tampered, self._links)

    def updated(self, ref: str, default: str) -> str:
        records = self.by_target.get(ref)
        return records[-1].time if records else default

    def created(self, ref: str, default: str) -> str:
        records = self.by_target.get(ref)
        return records[0].time if records else default


def mapping(data: Row, key: str) -> Row:
    """``data[key]`` if it is a mapping, else an empty one (a broken file's data)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def approval_row(entity_id: EntityId, a: Approval) -> Row:
    s = a.statement
    return {
        "id": entity_id.name,
        "tenant": entity_id.tenant,
        "subjectKind": s.subject.kind,
        "subject": s.subject.ref,
        "change": s.change.type,
        "from": s.change.from_ or "",
        "to": s.change.to or "",
        "decision": s.decision,
        "approver": s.approver,
        "justification": s.justification,
        "createdAt": s.created_at,
        "expiresAt": s.expires_at,
        "review": s.review.platform + ":" + s.review.login if s.review else "",
    }


def _tampered_versions(snapshot: Snapshot, findings: list[Finding]) -> dict[EntityId, Row]:
    """Version files that did not load (a genome hash that does not match, a schema problem),
    read as written, with their genome hash recomputed."""
    found: dict[EntityId, Row] = {}
    for path in sorted({f.path for f in findings}):
        ident = identify(path)
        if not isinstance(ident, EntityId) or ident.kind != "Version" or ident in snapshot:
            continue
        data = snapshot.files.read(path)
        doc = parse_yaml(data) if data is not None else None
        value = doc.data if doc is not None and not isinstance(doc, YamlProblem) else None
        row: Row = {"data": value if isinstance(value, dict) else {}, "actual": None}
        genome = row["data"].get("genome")
        if genome is not None:
            try:
                row["actual"] = genome_hash(genome)
            except CanonicalizationError:
                row["actual"] = None
        found[ident] = row
    return found


# -- the Directory ------------------------------------------------------------------------------


def directory(facts: Facts) -> Row:
    """The data of the Directory: one row per template, version and instance."""
    snap = facts.snapshot
    tags: dict[tuple[str, str], list[str]] = {}
    for entity in snap.of_kind("Template"):
        assert isinstance(entity.model, Template)
        tags[(entity.id.tenant, entity.id.name)] = list(entity.model.tags)
    versions = [_version_row(facts, e.id, e.model, tags) for e in snap.of_kind("Version")]  # type: ignore[arg-type]
    for ident, row in facts.tampered.items():
        versions.append(_tampered_row(ident, row, tags))
    # "rank": the place in SemVer precedence across the whole registry (the Directory's sort)
    ranks = sorted(versions, key=lambda r: (semver_key(r["label"]), r["tenant"], r["template"]))
    latest: dict[tuple[str, str], Row] = {}
    for rank, row in enumerate(ranks):
        row["rank"] = rank
        latest[(row["tenant"], row["template"])] = row  # the last one seen is the highest
    for row in latest.values():
        row["latest"] = True
    by_template: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in versions:
        by_template[(row["tenant"], row["template"])].append(row)
    templates = []
    for entity in snap.of_kind("Template"):
        t = entity.model
        assert isinstance(t, Template)
        key = (entity.id.tenant, entity.id.name)
        own = by_template.get(key, [])
        newest = latest.get(key)
        created = min([r["created"] for r in own] or [""])
        updated = max([r["updated"] for r in own] or [""])
        templates.append(
            {
                "ref": entity.id.ref,
                "tenant": entity.id.tenant,
                "name": entity.id.name,
                "title": t.display_name or entity.id.name,
                "description": t.description or "",
                "tags": list(t.tags),
                "owners": list(t.owners),
                "versions": len(own),
                "latestLabel": newest["label"] if newest else "",
                "state": newest["state"] if newest else "",
                "envs": sorted({env for r in own for env in r["envs"]}),
                "created": facts.created(entity.id.ref, created),
                "updated": max(facts.updated(entity.id.ref, updated), updated),
                "rank": newest["rank"] if newest else -1,
                "url": template_url(*key),
            }
        )
    instances = []
    for entity in snap.of_kind("Instance"):
        i = entity.model
        assert isinstance(i, Instance)
        ref = parse_version_ref(i.version, entity.id.tenant)
        instances.append(
            {
                "ref": entity.id.ref,
                "tenant": entity.id.tenant,
                "name": entity.id.name,
                "version": i.version,
                "versionUrl": version_url(ref.tenant, ref.template, ref.label),
                "label": ref.label,
                "template": ref.template,
                "state": i.state,
                "envs": [i.environment],
                "provider": i.provider,
                "tags": tags.get((ref.tenant, ref.template), []),
                "legacyAgentId": i.legacy_agent_id or "",
                "created": facts.created(entity.id.ref, ""),
                "updated": facts.updated(entity.id.ref, ""),
                "rank": 0,
                "url": instance_url(entity.id.tenant, entity.id.name),
            }
        )
    for rows in (templates, versions, instances):
        rows.sort(key=lambda r: str(r["ref"]))
    rank_of = {row["ref"]: row["rank"] for row in versions}
    for row in instances:
        row["rank"] = rank_of.get(f"{row['tenant']}/{row['version']}", -1)
    return {"templates": templates, "versions": versions, "instances": instances}


def _version_row(
    facts: Facts, ident: EntityId, v: Version, tags: dict[tuple[str, str], list[str]]
) -> Row:
    created = v.genome.provenance.created_at
    key = (ident.tenant, v.template, v.label)
    return {
        "ref": ident.ref,
        "tenant": ident.tenant,
        "template": v.template,
        "label": v.label,
        "name": f"{v.template}@{v.label}",
        "state": v.lifecycle,
        "evaluation": v.evaluation.status,
        "model": v.genome.model_config_.model_id,
        "hash": v.genome_hash,
        "integrity": "VERIFIED",
        "envs": sorted(facts.deployed.get(key, [])),
        "tags": tags.get((ident.tenant, v.template), []),
        "description": v.description or "",
        "created": created,
        "updated": facts.updated(ident.ref, created),
        "latest": False,
        "url": version_url(*key),
    }


def _tampered_row(ident: EntityId, broken: Row, tags: dict[tuple[str, str], list[str]]) -> Row:
    """A version file that did not load: TAMPERED unless its genome hashes to what it says."""
    data: Row = broken["data"]
    actual, written = broken["actual"], data.get("genomeHash")
    genome = mapping(data, "genome")
    provenance = mapping(genome, "provenance")
    config = mapping(genome, "modelConfig")
    created = str(provenance.get("createdAt", ""))
    return {
        "ref": ident.ref,
        "tenant": ident.tenant,
        "template": ident.template,
        "label": ident.name,
        "name": f"{ident.template}@{ident.name}",
        "state": str(data.get("lifecycle", "DRAFT")),
        "evaluation": "",
        "model": str(config.get("modelId", "")),
        "hash": str(data.get("genomeHash", "")),
        "integrity": "VERIFIED" if actual is not None and actual == written else "TAMPERED",
        "envs": [],
        "tags": tags.get((ident.tenant, ident.template), []),
        "description": str(data.get("description", "")),
        "created": created,
        "updated": created,
        "latest": False,
        "url": version_url(ident.tenant, ident.template, ident.name),
    }


# -- lineage, history, policies -------------------------------------------------------------------


# one link of a chain: the version's step (None: nothing to show), the next version up, and
# why the chain stops here ("" for none)
_Link = tuple[Row | None, EntityId | None, str]


def lineage(
    snapshot: Snapshot,
    ident: EntityId,
    tampered: Iterable[EntityId] = (),
    links: dict[EntityId, _Link] | None = None,
) -> Row:
    """The chain from the root to ``ident`` (root first), and why it stops early if it does.

    ``links`` keeps each version's link between calls: a template's versions share their
    chains, so each link is worked out once per site rather than once per descendant."""
    broken = set(tampered)
    known: dict[EntityId, _Link] = {} if links is None else links
    steps: list[Row] = []
    seen: set[EntityId] = set()
    current: EntityId | None = ident
    problem = ""
    while current is not None:
        if current in seen:
            problem = f"lineage cycle: {current.ref} is its own ancestor"
            break
        seen.add(current)
        link = known.get(current)
        if link is None:
            link = known[current] = _link(snapshot, current, broken)
        step, current, problem = link
        if step is not None:
            steps.append(step)
    steps.reverse()
    return {"steps": steps, "problem": problem}


def _link(snapshot: Snapshot, ident: EntityId, broken: set[EntityId]) -> _Link:
    v = snapshot.get(ident, Version)
    if v is None:
        if ident in broken:
            return _step(ident, "", "TAMPERED"), None, ""
        return None, None, f"{ident.ref} does not exist"
    step = _step(ident, v.lifecycle, "VERIFIED")
    if v.parent is None:
        return step, None, ""
    ref = parse_version_ref(v.parent, ident.tenant, v.template)
    if ref.tenant != ident.tenant:
        return step, None, f"{ident.ref} names a parent in another tenant ({v.parent})"
    return step, version_id(ref.tenant, ref.template, ref.label), ""


def _step(ident: EntityId, lifecycle: str, integrity: str) -> Row:
    return {
        "ref": ident.ref,
        "label": ident.name,
        "template": ident.template,
        "state": lifecycle,
        "integrity": integrity,
        "url": version_url(ident.tenant, ident.template, ident.name),
    }


def record_row(record: ChangeRecord) -> Row:
    payload = record.payload
    change = ""
    if "from" in payload or "to" in payload:
        change = f"{payload.get('from') or '—'} → {payload.get('to') or '—'}"
    reason = payload.get("reason")
    return {
        "type": record.type,
        "time": record.time,
        "who": record.operator or record.author,
        "author": record.author,
        "commit": record.commit[:12],
        "change": change,
        "reason": reason if isinstance(reason, str) else "",
        "approvals": list(record.approvals),
    }


def policy_row(policy: EffectivePolicy) -> Row:
    body = policy.to_json()
    return {
        "tier": policy.autonomy_tier,
        "tools": sorted(policy.allowed_tools),
        "risk": dict(sorted(policy.tool_risk.items())),
        "dailyTokens": policy.daily_tokens,
        "monthlyCost": policy.monthly_cost,
        "scopes": sorted(policy.data_scopes),
        "source": policy.sources[0] if policy.sources else "",
        "ceilings": list(policy.sources[1:]),
        "digest": str(body["digest"]),
    }
