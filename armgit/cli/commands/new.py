"""``armgit new KIND ...``: valid registry files from flags."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from armgit.authoring.newfiles import (
    ArtifactInput,
    GenomeChanges,
    document,
    parse_tool_spec,
    plan_new_version,
    provenance,
)
from armgit.authoring.plans import NewFile, Plan, Refusal
from armgit.cli.authoring import authoring_options, run
from armgit.cli.refs import entity_ref
from armgit.core.jsondata import JsonValue
from armgit.core.layout import EntityId, named_id, tenant_id
from armgit.core.rules.access import Actor
from armgit.core.rules.lifecycle import LIFECYCLE_ORDER
from armgit.core.timeutil import format_time
from armgit.core.yamldata import YamlProblem, parse_yaml
from armgit.registry.lazyview import LazyView

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group(name="new")
def command() -> None:
    """Create a new registry file from flags: valid as written, in the right place.

    \b
    Examples:
      armgit new version arm-dev/customer-support@2.1.0 --parent 2.0.0 --temperature 0.3
      armgit new instance arm-dev/support-staging-1 --version customer-support@2.1.0 \\
          --env staging --provider local
    """


def _create(entity_id: EntityId, data: dict[str, Any], **run_args: Any) -> None:
    def planner(view: LazyView, actor: Actor | None, now: datetime) -> Plan | Refusal:
        if view.tree.entry(entity_id.path) is not None:
            return Refusal(f"{entity_id.ref} exists already ({entity_id.path})")
        return Plan(
            f"new {entity_id.kind.lower()} {entity_id.ref}",
            entity_id,
            created=(NewFile(entity_id.path, document(entity_id.kind, data)),),
        )

    run(planner, **run_args)


def _named(kind: str, ref: str) -> EntityId:
    """``TENANT/NAME`` or ``TENANT/KIND/NAME``."""
    parts = ref.split("/")
    if len(parts) == 2:
        ref = f"{parts[0]}/{kind.lower()}/{parts[1]}"
    entity_id = entity_ref(ref)
    if entity_id.kind != kind:
        raise click.UsageError(f"{ref!r}: expected TENANT/NAME for a new {kind.lower()}")
    return entity_id


def _list(values: tuple[str, ...]) -> list[JsonValue]:
    return list(values)


def _pairs(values: tuple[str, ...], what: str) -> dict[str, JsonValue]:
    result: dict[str, JsonValue] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"{what} {item!r}: write KEY=VALUE")
        result[key] = value
    return result


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--description", help="What it is for.")(func)
    return authoring_options(func)


@command.command(name="tenant")
@click.argument("slug")
@click.option("--name", "display", required=True, help="The display name, e.g. 'Acme Corp'.")
@click.option("--policy", help="The tenant-wide policy (often a ceiling).")
@_common
def new_tenant(
    slug: str, display: str, policy: str | None, description: str | None, **run_args: Any
) -> None:
    """A tenant: tenants/SLUG/tenant.yaml."""
    tid = tenant_id(entity_ref(slug).tenant)
    data = {"name": display, "slug": slug, "description": description, "policy": policy}
    _create(tid, data, **run_args)


@command.command(name="environment")
@click.argument("ref", metavar="TENANT/NAME")
@click.option("--type", "env_type", default="dev", show_default=True, help="dev, staging, prod...")
@click.option("--protected", is_flag=True, help="Activating a deployment needs approvals.")
@click.option("--required-approvals", type=click.IntRange(min=0), help="How many.")
@click.option("--require-active-deployment", is_flag=True, help="Instances run what is deployed.")
@click.option(
    "--min-lifecycle",
    type=click.Choice(LIFECYCLE_ORDER),
    default="DRAFT",
    show_default=True,
    help="The least mature lifecycle deployable here.",
)
@click.option("--policy", help="A policy (a ceiling) for everything here.")
@_common
def new_environment(
    ref: str,
    env_type: str,
    protected: bool,
    required_approvals: int | None,
    require_active_deployment: bool,
    min_lifecycle: str,
    policy: str | None,
    description: str | None,
    **run_args: Any,
) -> None:
    """An environment: tenants/T/environments/NAME.yaml."""
    eid = _named("Environment", ref)
    data = {
        "name": eid.name,
        "type": env_type,
        "description": description,
        "protected": True if protected else None,
        "requiredApprovals": required_approvals,
        "requireActiveDeployment": True if require_active_deployment else None,
        "minLifecycle": min_lifecycle,
        "policy": policy,
    }
    _create(eid, data, **run_args)


@command.command(name="provider")
@click.argument("ref", metavar="TENANT/NAME")
@click.option(
    "--type",
    "provider_type",
    type=click.Choice(["local", "federated"]),
    default="local",
    show_default=True,
)
@click.option("--health-endpoint", metavar="URL")
@click.option(
    "--federation",
    multiple=True,
    metavar="KEY=VALUE",
    help="Federation config (repeatable; needed for federated).",
)
@_common
def new_provider(
    ref: str,
    provider_type: str,
    health_endpoint: str | None,
    federation: tuple[str, ...],
    description: str | None,
    **run_args: Any,
) -> None:
    """A provider: tenants/T/providers/NAME.yaml."""
    pid = _named("Provider", ref)
    data = {
        "name": pid.name,
        "type": provider_type,
        "description": description,
        "federation": _pairs(federation, "--federation") or None,
        "healthEndpoint": health_endpoint,
    }
    _create(pid, data, **run_args)


@command.command(name="operator")
@click.argument("ref", metavar="TENANT/NAME")
@click.option("--email", required=True)
@click.option("--display-name")
@click.option("--identity", "identities", multiple=True, help="e.g. github:alice (repeatable).")
@click.option(
    "--ssh-key",
    "ssh_keys",
    multiple=True,
    type=FILE,
    help="A public key file, for approvals (repeatable).",
)
@click.option("--role", "roles", multiple=True, help="A role to hold (repeatable).")
@authoring_options
def new_operator(
    ref: str,
    email: str,
    display_name: str | None,
    identities: tuple[str, ...],
    ssh_keys: tuple[Path, ...],
    roles: tuple[str, ...],
    **run_args: Any,
) -> None:
    """An operator: tenants/T/operators/NAME.yaml."""
    oid = _named("Operator", ref)
    data = {
        "name": oid.name,
        "displayName": display_name,
        "email": email,
        "identities": _list(identities),
        "sshKeys": [p.read_text().strip() for p in ssh_keys],
        "roles": [{"role": r} for r in roles],
    }
    _create(oid, data, **run_args)


@command.command(name="role")
@click.argument("ref", metavar="TENANT/NAME")
@click.option(
    "--permission",
    "permissions",
    multiple=True,
    required=True,
    help="action:resource, e.g. write:versions (repeatable).",
)
@_common
def new_role(
    ref: str, permissions: tuple[str, ...], description: str | None, **run_args: Any
) -> None:
    """A role: tenants/T/roles/NAME.yaml."""
    rid = _named("Role", ref)
    data = {"name": rid.name, "description": description, "permissions": _list(permissions)}
    _create(rid, data, **run_args)


@command.command(name="policy")
@click.argument("ref", metavar="TENANT/NAME")
@click.option("--autonomy-tier", type=click.IntRange(0, 5), required=True)
@click.option("--allowed-tool", "tools", multiple=True, help="A tool id (repeatable).")
@click.option(
    "--tool-risk",
    "risks",
    multiple=True,
    metavar="TOOL=RISK",
    help="Per-tool risk override (repeatable).",
)
@click.option("--daily-tokens", type=click.IntRange(min=0))
@click.option("--monthly-cost", type=click.FloatRange(min=0))
@click.option("--data-scope", "scopes", multiple=True, help="e.g. tickets:read (repeatable).")
@click.option("--ceiling", is_flag=True, help="Bounds every more specific policy.")
@_common
def new_policy(
    ref: str,
    autonomy_tier: int,
    tools: tuple[str, ...],
    risks: tuple[str, ...],
    daily_tokens: int | None,
    monthly_cost: float | None,
    scopes: tuple[str, ...],
    ceiling: bool,
    description: str | None,
    **run_args: Any,
) -> None:
    """A policy envelope: tenants/T/policies/NAME.yaml."""
    pid = _named("Policy", ref)
    limits: dict[str, JsonValue] = {}
    if daily_tokens is not None:
        limits["dailyTokens"] = daily_tokens
    if monthly_cost is not None:
        limits["monthlyCost"] = monthly_cost
    data = {
        "name": pid.name,
        "description": description,
        "ceiling": True if ceiling else None,
        "autonomyTier": autonomy_tier,
        "allowedTools": _list(tools),
        "toolRisk": _pairs(risks, "--tool-risk"),
        "costLimits": limits,
        "dataScopes": _list(scopes),
    }
    _create(pid, data, **run_args)


@command.command(name="template")
@click.argument("ref", metavar="TENANT/TEMPLATE")
@click.option("--display-name")
@click.option("--owner", "owners", multiple=True, help="An operator who owns it (repeatable).")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--policy", help="The default policy of its versions.")
@_common
def new_template(
    ref: str,
    display_name: str | None,
    owners: tuple[str, ...],
    tags: tuple[str, ...],
    policy: str | None,
    description: str | None,
    **run_args: Any,
) -> None:
    """A template: tenants/T/templates/NAME/template.yaml."""
    tid = entity_ref(ref)
    if tid.kind != "Template":
        raise click.UsageError(f"{ref!r}: a template is TENANT/TEMPLATE")
    data = {
        "name": tid.name,
        "displayName": display_name,
        "description": description,
        "owners": _list(owners),
        "tags": _list(tags),
        "policy": policy,
    }
    _create(tid, data, **run_args)


@command.command(name="instance")
@click.argument("ref", metavar="TENANT/NAME")
@click.option("--version", "version", required=True, metavar="TEMPLATE@LABEL")
@click.option("--env", "environment", required=True)
@click.option("--provider", required=True)
@click.option("--policy")
@click.option("--principal", help="The identity it acts as at its provider.")
@click.option("--secret-ref", metavar="URI", help="vault://... (a reference, never a secret).")
@click.option("--legacy-agent-id")
@_common
def new_instance(
    ref: str,
    version: str,
    environment: str,
    provider: str,
    policy: str | None,
    principal: str | None,
    secret_ref: str | None,
    legacy_agent_id: str | None,
    description: str | None,
    **run_args: Any,
) -> None:
    """An instance, starting in PROVISIONING: tenants/T/instances/NAME.yaml."""
    iid = _named("Instance", ref)
    data = {
        "name": iid.name,
        "version": version,
        "environment": environment,
        "provider": provider,
        "state": "PROVISIONING",
        "description": description,
        "identity": {"principal": principal} if principal else None,
        "secretRef": secret_ref,
        "policy": policy,
        "legacyAgentId": legacy_agent_id,
    }
    _create(iid, data, **run_args)


@command.command(name="version")
@click.argument("ref", metavar="TENANT/TEMPLATE@LABEL")
@click.option("--parent", help="Start from this version's genome: LABEL (or TEMPLATE@LABEL).")
@click.option(
    "--from",
    "from_file",
    type=FILE,
    help="A whole genome (YAML or JSON; a version file works too).",
)
@click.option("--provider", help="genome.modelConfig.provider")
@click.option("--model", help="genome.modelConfig.modelId")
@click.option("--temperature", type=click.FloatRange(0, 2))
@click.option("--max-tokens", type=click.IntRange(min=1))
@click.option(
    "--add-tool",
    "add_tools",
    multiple=True,
    metavar="ID,RISK[,PERM...]",
    help="Add a tool, e.g. crm_lookup,low,crm:read (repeatable).",
)
@click.option(
    "--remove-tool", "remove_tools", multiple=True, metavar="ID", help="Remove a tool (repeatable)."
)
@click.option(
    "--prompt-bundle",
    type=FILE,
    help="The prompt bundle: copied beside the template, its hash in the genome.",
)
@click.option(
    "--tool-manifest",
    type=FILE,
    help="A tool manifest file: copied beside the template, bound by its hash.",
)
@click.option("--policy", help="Attach a policy (default: the parent's).")
@click.option("--source", help="provenance.source (default: the parent's).")
@click.option("--created-by", help="provenance.createdBy (default: git's user.email).")
@click.option("--created-at", metavar="TIME", help="provenance.createdAt (default: now).")
@_common
def new_version(
    ref: str,
    parent: str | None,
    from_file: Path | None,
    provider: str | None,
    model: str | None,
    temperature: float | None,
    max_tokens: int | None,
    add_tools: tuple[str, ...],
    remove_tools: tuple[str, ...],
    prompt_bundle: Path | None,
    tool_manifest: Path | None,
    policy: str | None,
    source: str | None,
    created_by: str | None,
    created_at: str | None,
    description: str | None,
    **run_args: Any,
) -> None:
    """A new version in DRAFT, its genome hash computed.

    With --parent it starts from the parent's genome, so only what you change differs (the
    parent's policy and unchanged artifacts carry over); --from gives a whole genome instead.
    Provenance is fresh: createdBy from git (or --created-by), createdAt now.

    \b
    Examples:
      armgit new version arm-dev/customer-support@2.1.0 --parent 2.0.0 \\
          --model claude-3-7-sonnet-20250219 --prompt-bundle prompts/v2.1.md
      armgit new version acme/triage@1.0.0 --provider anthropic --model claude-3-5-haiku \\
          --prompt-bundle triage.md --add-tool kb_lookup,low,kb:read --source git+https://...
    """
    vid = entity_ref(ref)
    if vid.kind != "Version":
        raise click.UsageError(f"{ref!r}: a version is TENANT/TEMPLATE@LABEL")
    try:
        tools = tuple(parse_tool_spec(t) for t in add_tools)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    start = _genome_from(from_file) if from_file is not None else None
    if parent is None and start is None:
        missing = [
            f
            for f, v in (
                ("--provider", provider),
                ("--model", model),
                ("--prompt-bundle", prompt_bundle),
            )
            if v is None
        ]
        if missing:
            raise click.UsageError(
                f"a first version needs {', '.join(missing)} (or --parent, or --from FILE)"
            )
        start = {"toolManifest": []} if tool_manifest is None else {}
    changes = GenomeChanges(provider, model, temperature, max_tokens, tools, remove_tools)
    repo = run_args["repo"]
    root = Path(repo or ".").absolute()
    template_dir = root / "tenants" / vid.tenant / "templates" / vid.template

    def planner(view: LazyView, actor: Actor | None, now: datetime) -> Plan | Refusal:
        who = created_by or (actor.names[0] if actor is not None else None)
        if who is None:
            raise click.UsageError("give --created-by (git's user.email is not set)")
        origin = source or _source_of(start) or _parent_source(view, vid, parent)
        if origin is None and parent is None:
            raise click.UsageError("give --source (where the agent's code lives)")
        return plan_new_version(
            view,
            vid,
            parent=parent,
            start=start,
            changes=changes,
            provenance=provenance(who, origin or "", created_at or format_time(now)),
            prompt_bundle=_artifact(prompt_bundle, template_dir, "prompts"),
            tool_manifest=_artifact(tool_manifest, template_dir, "tools"),
            policy=policy,
            description=description,
        )

    run(planner, **run_args)


def _genome_from(path: Path) -> dict[str, JsonValue]:
    doc = parse_yaml(path.read_bytes())
    if isinstance(doc, YamlProblem):
        raise click.UsageError(f"--from {path}: {doc.message}")
    data = doc.data
    if isinstance(data, dict) and isinstance(data.get("genome"), dict):
        data = data["genome"]
    if not isinstance(data, dict) or "modelConfig" not in data:
        raise click.UsageError(f"--from {path}: expected a genome (a mapping with modelConfig)")
    return data


def _source_of(genome: dict[str, JsonValue] | None) -> str | None:
    prov = genome.get("provenance") if genome is not None else None
    value = prov.get("source") if isinstance(prov, dict) else None
    return value if isinstance(value, str) else None


def _parent_source(view: LazyView, vid: EntityId, parent: str | None) -> str | None:
    if parent is None:
        return None
    from armgit.core.models import Version
    from armgit.core.rules.state import parse_version_ref

    ref = parse_version_ref(parent, vid.tenant, vid.template)
    model = view.get(EntityId("Version", ref.tenant, ref.label, ref.template), Version)
    return model.genome.provenance.source if model is not None else None


def _artifact(path: Path | None, template_dir: Path, folder: str) -> ArtifactInput | None:
    if path is None:
        return None
    full = path.absolute()
    try:
        relative = full.resolve().relative_to(template_dir.resolve()).as_posix()
    except ValueError:
        relative = f"{folder}/{path.name}"
    return ArtifactInput(relative, full.read_bytes())


__all__ = ["command", "named_id"]
