"""A synthetic fleet: tenants x templates x versions, simulated step by step.

Pure and deterministic: a seed gives the same files in the same order, with no I/O. Every step
leaves the registry valid under the state rules (armgit/core/rules/state.py), so any prefix of
the steps is a valid registry, and grouping steps into commits gives a valid history.

The life of a template: each version is created as a DRAFT and deployed to dev, tested, made a
CANDIDATE (evaluation PASS) and deployed to staging, APPROVED and deployed to prod together with
the prod instances that must follow the active deployment; the version it replaces becomes
DEPRECATED and the one three back RETIRED. The newest versions stop earlier (DRAFT, TESTING or
CANDIDATE). Policy edits (tighten, then relax back) are sprinkled between.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.authoring.approval_file import Decision, approval_path, new_statement, render_approval
from armgit.core.canonical import genome_hash
from armgit.core.content import parse_content
from armgit.core.jsondata import JsonValue
from armgit.core.layout import EntityId, deployment_id, named_id, version_id
from armgit.core.rules.approvals import statement_message
from armgit.core.rules.change import entity_digest
from armgit.core.rules.gates import Gate
from armgit.core.rules.widening import policy_widenings
from armgit.crypto.ed25519 import public_key_line
from armgit.crypto.sshsig import APPROVAL_NAMESPACE, sign
from armgit.registry.lazyview import LazyView
from armgit.store.cache import ContentCache
from armgit.store.tree import MODE_FILE, FileEntry, RegistryTree, SourceInfo, blob_id

BASE_TIME = datetime(2025, 1, 6, 9, 0, 0, tzinfo=UTC)
STEP_SECONDS = 97
APPROVAL_VALIDITY = timedelta(hours=48)  # the generated registry's rules allow 48 h
SOURCE = "git+https://example.invalid/agents"

_TENANT_WORDS = ("acme", "globex", "initech", "umbrella", "stark", "wayne", "wonka", "tyrell")
_DOMAINS = ("support", "sales", "ops", "finance", "research")
_ROLES = ("triage", "reply", "summarize", "route", "audit", "forecast", "onboard", "review")
_OPERATORS = ("alice", "bob", "carol", "dave", "erin", "frank")
_MODELS = (
    ("anthropic", "claude-3-5-sonnet-20241022", 8192),
    ("anthropic", "claude-3-haiku-20240307", 4096),
    ("openai", "gpt-4o-2024-08-06", 4096),
    ("local", "llama-3.1-70b-instruct", 2048),
)
_TEMPERATURES = (0.0, 0.2, 0.3, 0.5, 0.7, 1.0)
# tool id -> (permission it needs, declared risk)
_TOOLS = {
    "zendesk_search": ("zendesk:read", "low"),
    "zendesk_reply": ("zendesk:write", "medium"),
    "kb_lookup": ("kb:read", "low"),
    "crm_read": ("crm:read", "low"),
    "crm_update": ("crm:write", "medium"),
    "email_send": ("email:send", "medium"),
    "calendar_book": ("calendar:write", "medium"),
    "invoice_read": ("billing:read", "low"),
    "refund_issue": ("billing:refund", "high"),
    "payment_void": ("billing:void", "high"),
}
_CRITICAL = ("refund_issue", "payment_void")
_SCOPES = ("tickets:read", "tickets:write", "kb:read", "customers:read", "billing:read", "crm:read")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.@/+-]*\Z")
_RESERVED = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})


def scalar(value: JsonValue) -> str:
    """A JSON scalar as a YAML flow scalar (quoted whenever plain could be misread)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str) and _PLAIN.match(value) and value.lower() not in _RESERVED:
        return value
    return json.dumps(value)


def flow(value: JsonValue) -> str:
    """JSON data as one line of YAML flow style, as the example registry writes it."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def timestamp(seq: int) -> str:
    return (BASE_TIME + timedelta(seconds=seq * STEP_SECONDS)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _header(kind: str, depth: int) -> str:
    schema = "../" * depth + "schemas/" + kind.lower() + ".json"
    return f"# yaml-language-server: $schema={schema}\napiVersion: armgit/v1\nkind: {kind}\n"


@dataclass(slots=True)
class VersionState:
    label: str
    parent: str | None
    lifecycle: str
    evaluation: str
    evaluated_at: str | None
    policy: str | None
    genome_text: str
    genome_hash: str
    description: str
    prompt: str | None
    tools: tuple[str, ...] = ()


@dataclass(slots=True)
class TemplateState:
    tenant: str
    name: str
    team: str
    owners: tuple[str, ...]
    bundled: bool
    tools: tuple[str, ...]
    model: tuple[str, str, int]
    prod_instances: int
    staging_instances: int
    versions: list[VersionState] = field(default_factory=list)
    deployed: dict[str, int] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)  # environments whose instances are ACTIVE

    @property
    def base(self) -> str:
        return f"tenants/{self.tenant}/templates/{self.name}"


@dataclass(frozen=True, slots=True)
class Step:
    """One change: ``op`` and its arguments; ``template`` indexes :attr:`Fleet.templates`."""

    op: str
    template: int = -1
    version: int = -1
    arg: str = ""


class Fleet:
    """The registry as Python state plus its rendered files (``path -> bytes``)."""

    def __init__(
        self, tenants: int, templates: int, versions: int, seed: int, *, approvals: bool = True
    ) -> None:
        # False: no approval files (nor the widening checks that find them), the rest the same:
        # a fleet to add changes to, simulated in a third of the time
        self.approvals = approvals
        self.rng = random.Random(seed)
        self.files: dict[str, bytes] = {}
        self.changed: list[str] = []
        self._before: dict[str, bytes | None] = {}  # what this step overwrote
        self.seq = 0
        self.tenants = [f"{_TENANT_WORDS[i % len(_TENANT_WORDS)]}-{i:02d}" for i in range(tenants)]
        self.policies: dict[str, dict[str, JsonValue]] = {}
        self._tightened: dict[str, int] = {}
        self._base_cost: dict[str, int] = {}
        self.templates: list[TemplateState] = []
        self.plans: list[list[Step]] = []
        self.keys: dict[str, Ed25519PrivateKey] = {}  # "tenant/operator" -> its SSH key
        self._write("armgit.yaml", _registry_yaml())
        for tenant in self.tenants:
            self._tenant(tenant)
        for t, tenant in enumerate(self.tenants):
            for j in range(templates):
                self._plan_template(tenant, t * templates + j, versions)

    # -- writing files --------------------------------------------------------------------

    def _write(self, path: str, text: str) -> None:
        self._before.setdefault(path, self.files.get(path))
        self.files[path] = text.encode()
        self.changed.append(path)

    def take_changed(self) -> list[str]:
        """The paths written since the last call, each once, in order."""
        changed = list(dict.fromkeys(self.changed))
        self.changed = []
        return changed

    # -- the skeleton of a tenant ---------------------------------------------------------

    def _tenant(self, tenant: str) -> None:
        base = f"tenants/{tenant}"
        title = tenant.split("-", maxsplit=1)[0].capitalize()
        self._write(
            f"{base}/tenant.yaml",
            _header("Tenant", 2) + f"name: {title} Corp {tenant[-2:]}\nslug: {tenant}\n"
            f"description: Synthetic tenant {tenant} of the benchmark fleet.\n"
            "policy: tenant-ceiling   # a ceiling: no policy in this tenant may be wider\n"
            f"settings:\n  region: {self.rng.choice(('eu-west-1', 'us-east-1', 'ap-south-1'))}\n",
        )
        for env, extra in (
            ("dev", "minLifecycle: DRAFT\n"),
            ("staging", "minLifecycle: CANDIDATE\n"),
            (
                "prod",
                "protected: true              # deployments here need approvals\n"
                "requiredApprovals: 1\nrequireActiveDeployment: true\nminLifecycle: APPROVED\n"
                "policy: prod-ceiling         # bounds every policy that runs in prod\n",
            ),
        ):
            self._write(
                f"{base}/environments/{env}.yaml",
                _header("Environment", 3) + f"name: {env}\ntype: {env}\n{extra}",
            )
        self._write(
            f"{base}/providers/local.yaml",
            _header("Provider", 3) + "name: local\ntype: local\n"
            "description: Agents run on the organisation's own runtime.\n"
            "healthEndpoint: http://localhost:8080/healthz\n",
        )
        self._write(
            f"{base}/providers/federated.yaml",
            _header("Provider", 3) + "name: federated\ntype: federated\n"
            f'federation: {{endpoint: "https://agents.{tenant}.example/federation", '
            "trustDomain: partner.example}\n"
            f"healthEndpoint: https://agents.{tenant}.example/healthz\n",
        )
        for role, perms in (
            ("admin", ["*:*"]),
            (
                "engineer",
                [
                    "write:templates",
                    "write:versions",
                    "transition:versions",
                    "write:instances",
                    "write:deployments",
                    "write:approvals",
                ],
            ),
            (
                "reviewer",
                [
                    "approve:versions",
                    "approve:deployments",
                    "approve:instances",
                    "approve:policies",
                    "write:approvals",
                ],
            ),
        ):
            lines = "".join(f'  - "{p}"\n' for p in perms)
            self._write(
                f"{base}/roles/{role}.yaml",
                _header("Role", 3) + f"name: {role}\npermissions:\n{lines}",
            )
        for i, name in enumerate(_OPERATORS):
            seed = hashlib.sha256(f"{tenant}/{name}".encode()).digest()
            key = self.keys[f"{tenant}/{name}"] = Ed25519PrivateKey.from_private_bytes(seed)
            roles = ("admin",) if i == 0 else ("reviewer", "engineer") if i < 3 else ("engineer",)
            role_lines = "".join(f"  - role: {r}\n" for r in roles)
            self._write(
                f"{base}/operators/{name}.yaml",
                _header("Operator", 3) + f"name: {name}\ndisplayName: {name.capitalize()} "
                f"of {tenant}\nemail: {name}@{tenant}.example\n"
                f'identities: ["github:{name}-{tenant}", "email:{name}@{tenant}.example"]\n'
                f'sshKeys: ["{public_key_line(key.public_key())} {name}"]\n'
                f"roles:\n{role_lines}",
            )
        everything: list[JsonValue] = list(sorted(_TOOLS))
        self._policy(
            tenant,
            "tenant-ceiling",
            "The widest any agent of the tenant may act.",
            {
                "ceiling": True,
                "autonomyTier": 4,
                "allowedTools": everything,
                "toolRisk": {t: "high" for t in _CRITICAL},
                "costLimits": {"dailyTokens": 50_000_000, "monthlyCost": 50_000},
                "dataScopes": ["tickets:*", "kb:*", "customers:*", "billing:*", "crm:*"],
            },
        )
        self._policy(
            tenant,
            "prod-ceiling",
            "Nothing in prod acts beyond this.",
            {
                "ceiling": True,
                "autonomyTier": 3,
                "allowedTools": everything,
                "toolRisk": {t: "critical" for t in _CRITICAL},
                "costLimits": {"dailyTokens": 20_000_000, "monthlyCost": 20_000},
                "dataScopes": ["tickets:*", "kb:read", "customers:read", "billing:read", "crm:*"],
            },
        )
        for team in _DOMAINS:
            tools = sorted(self.rng.sample(sorted(_TOOLS), self.rng.randint(3, 7)))
            scopes = sorted(self.rng.sample(_SCOPES, self.rng.randint(2, 4)))
            risk = {t: "critical" for t in tools if t in _CRITICAL}
            for suffix, tier, tokens, cost in (
                ("default", 2, 500_000, 300),
                ("prod", 3, 2_000_000, 1500),
            ):
                body: dict[str, JsonValue] = {"autonomyTier": tier, "allowedTools": list(tools)}
                if risk:
                    body["toolRisk"] = dict(risk)
                body["costLimits"] = {"dailyTokens": tokens, "monthlyCost": cost}
                body["dataScopes"] = list(scopes)
                self._policy(tenant, f"{team}-{suffix}", f"{team.capitalize()} agents.", body)

    def _policy(self, tenant: str, name: str, description: str, body: dict[str, JsonValue]) -> None:
        self.policies[f"{tenant}/{name}"] = {"description": description, **body}
        self._render_policy(tenant, name)

    def _render_policy(self, tenant: str, name: str) -> None:
        body = self.policies[f"{tenant}/{name}"]
        lines = [f"name: {name}"]
        for key, value in body.items():
            if key == "toolRisk" and isinstance(value, dict):
                lines.append("toolRisk:")
                lines.extend(f"  {tool}: {risk}" for tool, risk in value.items())
            else:
                lines.append(f"{key}: {flow(value)}")
        self._write(
            f"tenants/{tenant}/policies/{name}.yaml", _header("Policy", 3) + "\n".join(lines) + "\n"
        )

    # -- planning a template's life -------------------------------------------------------

    def _plan_template(self, tenant: str, index: int, count: int) -> None:
        rng = self.rng
        team = _DOMAINS[index % len(_DOMAINS)]
        name = f"{team}-{rng.choice(_ROLES)}-{index:04d}"
        catalog = self.policies[f"{tenant}/{team}-default"]["allowedTools"]
        assert isinstance(catalog, list)
        tools = tuple(str(t) for t in rng.sample(catalog, rng.randint(1, len(catalog))))
        owners = tuple(sorted(rng.sample(_OPERATORS[1:], 2)))
        template = TemplateState(
            tenant,
            name,
            team,
            owners,
            rng.random() < 0.3,
            tools,
            rng.choice(_MODELS),
            prod_instances=rng.choice((1, 1, 2)),
            staging_instances=rng.choice((0, 1)),
        )
        self.templates.append(template)
        pending = min(count - 1, rng.choice((0, 1, 1, 2)))
        approved = count - 1 - pending
        finals = sorted(
            (rng.choice(("DRAFT", "TESTING", "CANDIDATE")) for _ in range(pending)),
            key=("CANDIDATE", "TESTING", "DRAFT").index,
        )
        steps = [Step("template", index)]
        for i in range(approved + 1):
            steps += [Step("create", index, i), Step("deploy", index, i, "dev")]
            steps += [
                Step("lifecycle", index, i, "TESTING"),
                Step("lifecycle", index, i, "CANDIDATE"),
            ]
            steps.append(Step("deploy", index, i, "staging"))
            if i == 0 and template.staging_instances:
                steps.append(Step("activate", index, i, "staging"))
            steps.append(Step("lifecycle", index, i, "APPROVED"))
            steps.append(Step("deploy", index, i, "prod"))
            if i == 0:
                steps.append(Step("activate", index, i, "prod"))
            if i >= 1:
                steps.append(Step("lifecycle", index, i - 1, "DEPRECATED"))
            if i >= 3:
                steps.append(Step("lifecycle", index, i - 3, "RETIRED"))
        for k, final in enumerate(finals):
            i = approved + 1 + k
            steps += [Step("create", index, i), Step("deploy", index, i, "dev")]
            if final != "DRAFT":
                steps.append(Step("lifecycle", index, i, "TESTING"))
            if final == "CANDIDATE":
                steps += [
                    Step("lifecycle", index, i, "CANDIDATE"),
                    Step("deploy", index, i, "staging"),
                ]
        self.plans.append(steps)

    def schedule(self, policy_edits: int) -> list[Step]:
        """Every template's steps interleaved at random (each template's in order), with
        ``policy_edits`` tighten-then-relax pairs of policy edits sprinkled in."""
        keyed: list[tuple[float, int, Step]] = []
        for steps in self.plans:
            times = sorted(self.rng.random() for _ in steps)
            keyed.extend((t, len(keyed), s) for t, s in zip(times, steps, strict=True))
        names = sorted(k for k in self.policies if not k.endswith("ceiling"))
        for _ in range(policy_edits):
            target = self.rng.choice(names)
            first, second = sorted((self.rng.random(), self.rng.random()))
            keyed.append((first, len(keyed), Step("policy", arg=target + "|tighten")))
            keyed.append((second, len(keyed), Step("policy", arg=target + "|relax")))
        keyed.sort()
        return [step for _, _, step in keyed]

    # -- applying steps -------------------------------------------------------------------

    def apply(self, step: Step) -> str:
        """Apply one step; returns a one-line description for the commit message."""
        self.seq += 1
        self._before = {}
        if step.op == "policy":
            key, how = step.arg.split("|")
            said = self._edit_policy(key, how)
            if how == "relax":
                self._approve_widenings(self._governed_by(key))
            return said
        template = self.templates[step.template]
        if step.op == "template":
            self._render_template(template)
            return f"{template.tenant}/{template.name}: new template"
        if step.op == "create":
            self._create_version(template, step.version)
            return f"{template.tenant}/{template.name}@{template.versions[-1].label}: new version"
        if step.op == "lifecycle":
            version = template.versions[step.version]
            before = version.lifecycle
            version.lifecycle = step.arg
            if step.arg == "TESTING":
                version.evaluation = "RUNNING"
            elif step.arg == "CANDIDATE":
                version.evaluation, version.evaluated_at = "PASS", timestamp(self.seq)
            self._render_version(template, version)
            if step.arg == "APPROVED":
                self._approve(
                    template,
                    Gate(
                        "VERSION_PROMOTION",
                        version_id(template.tenant, template.name, version.label),
                        "CANDIDATE",
                        "APPROVED",
                        self._digest(f"{template.base}/versions/{version.label}.yaml"),
                        "",
                        "/lifecycle",
                    ),
                )
            return f"{template.tenant}/{template.name}@{version.label}: {before} -> {step.arg}"
        if step.op == "deploy":
            self._deploy(template, step.version, step.arg)
            # its deployment runs a version whose policies the step did not touch, and its
            # instances keep their own policy: only a new instance can be wider than its version
            new = [i for i in self._targets(template, step.arg)[1:] if self._before[i.path] is None]
            self._approve_widenings(new)
            label = template.versions[step.version].label
            return f"{template.tenant}/{template.name}@{label}: deploy to {step.arg}"
        if step.op == "activate":
            template.active.add(step.arg)
            label = template.versions[template.deployed[step.arg]].label
            self._render_instances(template, step.arg, label)
            return f"{template.tenant}/{template.name}: {step.arg} instances PROVISIONING -> ACTIVE"
        raise ValueError(f"unknown step {step.op!r}")

    def _digest(self, path: str) -> str:
        """What an approval of the subject file at ``path``, as written, binds (the rules')."""
        if not self.approvals:
            return ""
        model = parse_content(self.files[path]).model
        assert model is not None, path
        return entity_digest(model)

    def _approve(self, template: TemplateState, gate: Gate) -> None:
        """A reviewer's signed approval of ``gate`` (never the template owner's), written in
        the same commit as the change, created at the fleet's time."""
        if not self.approvals:
            return
        approver = "carol" if template.owners[0] == "bob" else "bob"
        decision = Decision(approver=approver, justification="Reviewed in the benchmark fleet.")
        when = BASE_TIME + timedelta(seconds=self.seq * STEP_SECONDS)
        statement = new_statement(gate, decision, when, APPROVAL_VALIDITY)
        key = self.keys[f"{template.tenant}/{approver}"]
        signature = sign(statement_message(statement), key, APPROVAL_NAMESPACE)
        path = approval_path(statement)
        self.files[path] = render_approval(statement, signature)
        self.changed.append(path)

    def _approve_widenings(self, targets: list[EntityId]) -> None:
        """A reviewer's approval of every POLICY_AUTONOMY_INCREASE this step raises on
        ``targets`` (a relaxed policy's, a deployment's new instances), found by the rule
        itself (armgit/core/rules/widening.py) on the files before and after the step.

        The rule judges commits, not steps; the two agree because an approval binds the
        resulting effective policy and names only the policy that grants it, whatever the
        commit's other steps did before (a tightening, say). A commit that both relaxes a
        policy and moves a deployment of the same team onto a version governed by it would
        need the commit's view; test_generated_history_is_legal says so if one appears."""
        if not self.approvals:
            return
        cache = ContentCache(None)  # in memory, for this step: both sides share most files
        before = LazyView(_FleetTree(self.files, self._before), cache)
        after = LazyView(_FleetTree(self.files, {}), cache)
        for gate in policy_widenings(before, after, targets):
            template = next(t for t in self.templates if t.tenant == gate.subject.tenant)
            self._approve(template, gate)

    def _targets(self, template: TemplateState, env: str) -> list[EntityId]:
        """The deployment of ``template`` in ``env`` and its instances there."""
        count = {"prod": template.prod_instances, "staging": template.staging_instances}.get(env, 0)
        instances = [f"{template.name}-{env}-{n}" for n in range(1, count + 1)]
        return [deployment_id(template.tenant, env, template.name)] + [
            named_id("Instance", template.tenant, name) for name in instances
        ]

    def _governed_by(self, key: str) -> list[EntityId]:
        """The deployments and instances whose chain may name the policy ``key``."""
        tenant, name = key.split("/")
        return [
            target
            for template in self.templates
            if template.tenant == tenant and name.startswith(f"{template.team}-")
            for env in template.deployed
            for target in self._targets(template, env)
        ]

    def _edit_policy(self, key: str, how: str) -> str:
        body = self.policies[key]
        limits = body["costLimits"]
        assert isinstance(limits, dict)
        assert isinstance(limits["monthlyCost"], int)
        depth = self._tightened.get(key, 0) + (1 if how == "tighten" else -1)
        self._tightened[key] = depth
        base = self._base_cost.setdefault(key, int(limits["monthlyCost"]))
        limits["monthlyCost"] = base * 10 // (10 + depth)  # back to ``base`` at depth 0
        tenant, name = key.split("/")
        self._render_policy(tenant, name)
        return f"{key}: {how} monthly cost to {limits['monthlyCost']}"

    def _render_template(self, template: TemplateState) -> None:
        self._write(
            f"{template.base}/template.yaml",
            _header("Template", 4) + f"name: {template.name}\n"
            f"displayName: {template.name.replace('-', ' ').title()}\n"
            f"description: Synthetic {template.team} agent of {template.tenant}.\n"
            f"owners: [{', '.join(template.owners)}]\n"
            f"tags: [{template.team}, synthetic]\npolicy: {template.team}-default\n",
        )

    def _create_version(
        self,
        template: TemplateState,
        index: int,
        *,
        prompt: bool = False,
        tools: tuple[str, ...] | None = None,
    ) -> None:
        rng = self.rng
        assert index == len(template.versions)
        parent = template.versions[-1].label if template.versions else None
        label = _next_label(parent, rng)
        when = timestamp(self.seq)
        text = f"You are the {template.name} agent of {template.tenant}, release {label}.\n"
        text += (
            "Answer from the knowledge base only; hand anything unsure to a human.\n"
            * rng.randint(1, 6)
        )
        stored = template.bundled or prompt
        provider, model_id, max_tokens = template.model
        if tools is None:
            tools = tuple(sorted(rng.sample(template.tools, rng.randint(1, len(template.tools)))))
        genome: dict[str, JsonValue] = {
            "modelConfig": {
                "provider": provider,
                "modelId": model_id,
                "temperature": rng.choice(_TEMPERATURES),
                "maxTokens": max_tokens,
            },
            "promptBundleHash": "sha256:" + hashlib.sha256(text.encode()).hexdigest(),
            "toolManifest": [
                {
                    "toolId": t,
                    "schemaVersion": "1.0",
                    "requiredPermissions": [_TOOLS[t][0]],
                    "risk": _TOOLS[t][1],
                }
                for t in tools
            ],
            "provenance": {
                "createdBy": f"{template.owners[0]}@{template.tenant}.example",
                "source": SOURCE,
                "createdAt": when,
            },
        }
        manifest = genome["toolManifest"]
        assert isinstance(manifest, list)
        genome_text = (
            f"genome:\n  modelConfig: {flow(genome['modelConfig'])}\n"
            f"  promptBundleHash: {genome['promptBundleHash']}\n  toolManifest:\n"
            + "".join(f"    - {flow(tool)}\n" for tool in manifest)
            + f"  provenance: {flow(genome['provenance'])}\n"
        )
        version = VersionState(
            label,
            parent,
            "DRAFT",
            "NOT_RUN",
            None,
            f"{template.team}-prod" if rng.random() < 0.5 else None,
            genome_text,
            genome_hash(genome),
            f"Release {label} of {template.name}.",
            f"prompts/{label}.md" if stored else None,
            tools,
        )
        template.versions.append(version)
        if version.prompt is not None:
            self._write(f"{template.base}/{version.prompt}", text)
        self._render_version(template, version)
        if parent is not None:
            had = template.versions[-2].tools
            gained = sorted(_privileges(tools) - _privileges(had))
            if gained:
                self._approve(
                    template,
                    Gate(
                        "PRIVILEGE_WIDENING",
                        version_id(template.tenant, template.name, label),
                        parent,
                        ", ".join(gained),
                        self._digest(f"{template.base}/versions/{label}.yaml"),
                        "",
                        "/genome/toolManifest",
                    ),
                )

    def _render_version(self, template: TemplateState, version: VersionState) -> None:
        lines = [f"template: {template.name}", f"label: {version.label}"]
        if version.parent is not None:
            lines.append(f"parent: {version.parent}")
        lines.append(f"lifecycle: {version.lifecycle}")
        lines.append(f"evaluation:\n  status: {version.evaluation}")
        if version.evaluation != "NOT_RUN":
            lines.append(f"  suite: {template.team}-regression")
        if version.evaluated_at is not None:
            lines.append(f'  evaluatedAt: "{version.evaluated_at}"')
        if version.policy is not None:
            lines.append(f"policy: {version.policy}")
        lines.append(f"description: {version.description}")
        if version.prompt is not None:
            lines.append(f"artifacts:\n  promptBundle: {version.prompt}")
        self._write(
            f"{template.base}/versions/{version.label}.yaml",
            _header("Version", 5)
            + "\n".join(lines)
            + "\n"
            + version.genome_text
            + f"genomeHash: {version.genome_hash}\n",
        )

    def _deploy(self, template: TemplateState, index: int, env: str) -> None:
        previous = template.deployed.get(env)
        template.deployed[env] = index
        label = template.versions[index].label
        lines = [f"template: {template.name}", f"environment: {env}", f"version: {label}"]
        if previous is not None:
            lines.append(f"previousVersion: {template.versions[previous].label}")
        strategy = (
            "{strategy: canary, steps: [10, 50, 100]}"
            if env == "prod"
            else "{strategy: all-at-once}"
        )
        lines += [
            "status: ACTIVE",
            f"rolloutPolicy: {strategy}",
            f"requestedBy: {template.owners[0]}",
        ]
        path = f"tenants/{template.tenant}/deployments/{env}/{template.name}.yaml"
        self._write(path, _header("Deployment", 4) + "\n".join(lines) + "\n")
        if env == "prod":  # protected: every activation is approved
            self._approve(
                template,
                Gate(
                    "DEPLOYMENT_ACTIVATION",
                    deployment_id(template.tenant, env, template.name),
                    template.versions[previous].label if previous is not None else None,
                    label,
                    self._digest(path),
                    "",
                    "/version",
                    environment=env,
                ),
            )
        self._render_instances(template, env, label)

    def _render_instances(self, template: TemplateState, env: str, label: str) -> None:
        """The instances of ``env`` bound to ``label``: PROVISIONING until activated."""
        count = {"prod": template.prod_instances, "staging": template.staging_instances}.get(env, 0)
        state = "ACTIVE" if env in template.active else "PROVISIONING"
        for n in range(1, count + 1):
            self._render_instance(template, f"{template.name}-{env}-{n}", env, label, state)

    def _render_instance(
        self, template: TemplateState, name: str, env: str, label: str, state: str
    ) -> None:
        tenant = template.tenant
        policy = f"{template.team}-prod" if env == "prod" else f"{template.team}-default"
        self._write(
            f"tenants/{tenant}/instances/{name}.yaml",
            _header("Instance", 3) + f"name: {name}\nversion: {template.name}@{label}\n"
            f"environment: {env}\nprovider: {'federated' if name.endswith('-2') else 'local'}\n"
            f'state: {state}\nidentity: {{principal: "spiffe://{tenant}.example/agents/{name}"}}\n'
            f"secretRef: vault://{tenant}/agents/{name}   # a reference, never the secret\n"
            f"policy: {policy}\nlegacyAgentId: agent_{hashlib.sha1(name.encode()).hexdigest()[:8]}\n",  # noqa: E501
        )

    # -- changes for the suite ------------------------------------------------------------

    def new_draft(self, template_index: int) -> list[str]:
        """A new DRAFT version of a template (with its prompt file), deployed to dev: the
        three-file change the push benchmarks send, legal for an engineer (the parent's tools,
        so no privilege widening to approve). Returns the paths written."""
        template = self.templates[template_index % len(self.templates)]
        self.take_changed()
        self.seq += 1
        parent = template.versions[-1].tools if template.versions else None
        self._create_version(template, len(template.versions), prompt=True, tools=parent)
        self._deploy(template, len(template.versions) - 1, "dev")
        return self.take_changed()


class _FleetTree(RegistryTree):
    """The fleet's files as a registry tree, with ``before`` (path -> bytes, ``None`` for a
    file the step added) in front: the registry as it was before a step, without a copy. Only
    what the widening rule reads of its targets is needed (no listing)."""

    def __init__(self, files: dict[str, bytes], before: dict[str, bytes | None]) -> None:
        self._files = files
        self._before = before
        self.source = SourceInfo("<fleet>")

    def read(self, path: str) -> bytes | None:
        return self._before[path] if path in self._before else self._files.get(path)

    def read_entry(self, entry: FileEntry) -> bytes:
        data = self.read(entry.path)
        assert data is not None
        return data

    def entry(self, path: str) -> FileEntry | None:
        data = self.read(path)
        return FileEntry(path, blob_id(data), MODE_FILE) if data is not None else None


def _next_label(parent: str | None, rng: random.Random) -> str:
    if parent is None:
        return "1.0.0"
    major, minor, patch = (int(p) for p in parent.split("."))
    roll = rng.random()
    if roll < 0.1:
        return f"{major + 1}.0.0"
    if roll < 0.75:
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def _privileges(tools: tuple[str, ...]) -> set[str]:
    """What a version may do, as ``armgit.core.rules.change`` counts it for widening."""
    return {f"tool {t}" for t in tools} | {f"permission {_TOOLS[t][0]}" for t in tools}


def _registry_yaml() -> str:
    rules = [
        ("VERSION_PROMOTION", "approve:versions", "48h"),
        ("DEPLOYMENT_ACTIVATION", "approve:deployments", "48h"),
        ("INSTANCE_REACTIVATION", "approve:instances", "12h"),
        ("POLICY_AUTONOMY_INCREASE", "approve:policies", "72h"),
    ]
    identity = "ARMGIT_PUSHER, GL_USERNAME, GITHUB_USER_LOGIN, GITEA_PUSHER_NAME, REMOTE_USER"
    return (
        "# yaml-language-server: $schema=schemas/registry.json\n"
        "apiVersion: armgit/v1\nkind: Registry\nname: bench-fleet\n"
        "description: A synthetic fleet generated by benchmarks/generate.py.\n"
        f"protectedBranches: [main]\nidentityEnv: [{identity}]\napprovalRules:\n"
        + "".join(
            f'  - {{requestType: {kind}, count: 1, permission: "{perm}", expiresIn: {expiry}}}\n'
            for kind, perm, expiry in rules
        )
    )


def conflict_key(step: Step) -> str:
    """Steps with the same key touch the same files: one commit holds at most one of them, so
    that every commit is a legal change on its own (a new version is a DRAFT in the commit
    that adds it, instances are PROVISIONING in the commit that adds them, ...)."""
    return f"policy {step.arg.split('|')[0]}" if step.op == "policy" else f"t{step.template}"


def plan_commits(steps: list[Step], commits: int) -> list[tuple[int, int]]:
    """Split ``steps`` into exactly ``commits`` contiguous, non-empty ranges, never two steps
    with the same :func:`conflict_key` in one range when that is possible: the longest runs
    without a conflict, then the largest halved until there are enough. With too few commits
    for that, the last ranges are merged (and those commits are not legal on their own).
    ``len(steps) >= commits``."""
    chunks: list[tuple[int, int]] = []
    start, keys = 0, set[str]()
    for i, step in enumerate(steps):
        key = conflict_key(step)
        if key in keys:
            chunks.append((start, i))
            start, keys = i, set()
        keys.add(key)
    chunks.append((start, len(steps)))
    heap = [(start - end, start, end) for start, end in chunks]
    heapq.heapify(heap)
    while len(heap) < commits:
        _, start, end = heapq.heappop(heap)
        middle = (start + end) // 2
        heapq.heappush(heap, (start - middle, start, middle))
        heapq.heappush(heap, (middle - end, middle, end))
    chunks = sorted((start, end) for _, start, end in heap)
    while len(chunks) > commits:
        (start, _), (_, end) = chunks[-2], chunks[-1]
        chunks[-2:] = [(start, end)]
    return chunks
