"""Effective policy, not files: which edits widen what a deployed version or an instance may do.

Each row starts from the example registry (prod: deployment customer-support@2.0.0 and instance
support-prod-1, both on support-prod under the prod and tenant ceilings), applies ``setup``
edits to make the parent, then ``change`` edits to make the commit, and lists the gates the
change must raise: target and the reasons it names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from armgit.core.canonical import genome_hash, sha256_digest, to_canonical_json
from armgit.core.index.compact import short_ref
from armgit.core.jsondata import JsonObject
from armgit.core.layout import EntityId, identify
from armgit.core.models import Version
from armgit.core.rules.change import check_change
from armgit.core.rules.policy import NO_POLICY, target_policy
from armgit.core.rules.widening import policy_widenings
from armgit.core.snapshot import Snapshot
from armgit.registry.loader import load_registry
from armgit.store.memory import MemoryTree
from tests.unit.helpers import INSTANCE, V2, T, example_files

Edit = tuple[str, str, str]  # path, old text (exactly once), new text ("" deletes the file)

POLICY = f"{T}/policies/support-prod.yaml"
WIDE = f"{T}/policies/support-wide.yaml"
PROD_CEILING = f"{T}/policies/prod-ceiling.yaml"
TENANT_CEILING = f"{T}/policies/tenant-ceiling.yaml"
TEMPLATE = f"{T}/templates/customer-support/template.yaml"
TENANT = f"{T}/tenant.yaml"
PROD = f"{T}/environments/prod.yaml"
DEPLOYMENT_REF = "arm-dev/deployment/prod/customer-support"
INSTANCE_REF = "arm-dev/instance/support-prod-1"
BOTH = (DEPLOYMENT_REF, INSTANCE_REF)

WIDE_POLICY = """apiVersion: armgit/v1
kind: Policy
name: support-wide
autonomyTier: 3
allowedTools: [zendesk_search, zendesk_reply, kb_lookup, refund_issue]
toolRisk:
  refund_issue: critical
costLimits: {dailyTokens: 2000000, monthlyCost: 2000}
dataScopes: ["tickets:*", "kb:read", "customers:read"]
"""
INSTANCE_POLICY = "policy: support-prod\n"
# the instance's own policy, the version's and the template's: what detaching leaves
DETACH_INSTANCE: Edit = (INSTANCE, INSTANCE_POLICY, "")
NO_VERSION_POLICY: Edit = (V2, "policy: support-prod           # optional attachment\n", "")
NO_TEMPLATE_POLICY: Edit = (TEMPLATE, "policy: support-default\n", "")
NEW_WIDE: Edit = (WIDE, "", WIDE_POLICY)
NO_REPLY_RISK: Edit = (POLICY, "  zendesk_reply: medium\n", "")


def _new_instance(policy: str) -> Edit:
    text = (
        "apiVersion: armgit/v1\nkind: Instance\nname: support-prod-2\n"
        "version: customer-support@2.0.0\nenvironment: prod\nprovider: local\n"
        f"state: PROVISIONING\npolicy: {policy}\n"
    )
    return (f"{T}/instances/support-prod-2.yaml", "", text)


@dataclass(frozen=True)
class Case:
    setup: tuple[Edit, ...]
    change: tuple[Edit, ...]
    gates: dict[str, tuple[str, ...]] = field(default_factory=dict)  # ref -> reasons in it


ACTION_APPROVALS = "actionApprovals: {count: 2, validFor: 10m}\n"
CASES = {
    "fewer_action_approvals_or_longer_ones_widen": Case(
        ((POLICY, "autonomyTier: 2\n", "autonomyTier: 2\n" + ACTION_APPROVALS),),
        ((POLICY, ACTION_APPROVALS, "actionApprovals: {count: 1, validFor: 1h}\n"),),
        {
            ref: ("action approvals needed 2 to 1", "action approvals valid 10m to 1h")
            for ref in BOTH
        },
    ),
    "more_action_approvals_narrow": Case(
        (),
        ((POLICY, "autonomyTier: 2\n", "autonomyTier: 2\n" + ACTION_APPROVALS),),
    ),
    "attaching_a_wider_policy_to_an_instance": Case(
        (NEW_WIDE,),
        ((INSTANCE, INSTANCE_POLICY, "policy: support-wide\n"),),
        {
            INSTANCE_REF: (
                "support-prod (wider: autonomy tier 2 to 3",
                "daily tokens 1000000 to 2000000; monthly cost 1500 to 2000",
                "data scopes added: tickets:*) -> support-wide",
            )
        },
    ),
    "attaching_a_narrower_policy_to_an_instance": Case(
        (), ((INSTANCE, INSTANCE_POLICY, "policy: support-default\n"),)
    ),
    "detaching_a_narrower_instance_policy_lets_the_version_policy_apply": Case(
        ((INSTANCE, INSTANCE_POLICY, "policy: support-default\n"),),
        ((INSTANCE, "policy: support-default\n", ""),),
        {
            INSTANCE_REF: (
                "support-default (wider: tools added: refund_issue",
                "data scopes added: customers:read) -> support-prod",
            )
        },
    ),
    "detaching_a_narrower_instance_policy_lets_the_template_policy_apply": Case(
        (
            NO_VERSION_POLICY,
            (TEMPLATE, "policy: support-default", "policy: support-prod"),
            (INSTANCE, INSTANCE_POLICY, "policy: support-default\n"),
        ),
        ((INSTANCE, "policy: support-default\n", ""),),
        {INSTANCE_REF: ("tools added: refund_issue",)},
    ),
    "detaching_the_last_plain_policy_leaves_only_ceilings_which_grant_nothing": Case(
        (NO_VERSION_POLICY, NO_TEMPLATE_POLICY), (DETACH_INSTANCE,)
    ),
    "an_environment_attaching_a_plain_policy_grants_where_only_ceilings_were": Case(
        (NO_VERSION_POLICY, NO_TEMPLATE_POLICY, DETACH_INSTANCE),
        ((PROD, "policy: prod-ceiling", "policy: support-prod"),),
        {ref: ("no policy (wider: autonomy tier 0 to 2", ") -> support-prod") for ref in BOTH},
    ),
    "an_environment_ceiling_lowering_a_tools_risk": Case(
        ((POLICY, "  refund_issue: critical\n", ""),),
        ((PROD_CEILING, "refund_issue: critical", "refund_issue: high"),),
        {ref: ("risk of refund_issue lowered from critical to high",) for ref in BOTH},
    ),
    "a_tenant_ceiling_edited_to_lower_a_tools_risk": Case(
        (
            NO_REPLY_RISK,
            (TENANT_CEILING, "refund_issue: high", "refund_issue: high\n  zendesk_reply: high"),
        ),
        ((TENANT_CEILING, "refund_issue: high\n  zendesk_reply: high", "refund_issue: high"),),
        {ref: ("risk of zendesk_reply lowered from high to medium",) for ref in BOTH},
    ),
    "a_tenant_detaching_its_ceiling": Case(
        (
            NO_REPLY_RISK,
            (TENANT_CEILING, "refund_issue: high", "refund_issue: high\n  zendesk_reply: high"),
        ),
        (
            (
                TENANT,
                "policy: tenant-ceiling   # a ceiling: no policy in this tenant may be wider\n",
                "",
            ),
        ),
        {ref: ("risk of zendesk_reply lowered from high to medium",) for ref in BOTH},
    ),
    "a_templates_policy_changed": Case(
        (NO_VERSION_POLICY, DETACH_INSTANCE),
        ((TEMPLATE, "policy: support-default", "policy: support-prod"),),
        {
            ref: ("support-default (wider: tools added: refund_issue", "monthly cost")
            for ref in BOTH
        },
    ),
    "a_versions_policy_attachment_changed": Case(
        (NEW_WIDE,),
        ((V2, "policy: support-prod ", "policy: support-wide "),),
        {DEPLOYMENT_REF: ("support-prod (wider: autonomy tier 2 to 3",)},
    ),
    "raising_a_cost_limit": Case(
        (),
        ((POLICY, "monthlyCost: 1500", "monthlyCost: 1800"),),
        {ref: ("support-prod (wider: monthly cost 1500 to 1800",) for ref in BOTH},
    ),
    "removing_a_limit": Case(
        ((PROD, "policy: prod-ceiling ", ""), (TENANT, "policy: tenant-ceiling ", "")),
        ((POLICY, "dailyTokens: 1000000, ", ""),),
        {ref: ("daily tokens 1000000 to unlimited",) for ref in BOTH},
    ),
    "removing_a_limit_a_ceiling_still_bounds": Case(
        (),
        ((POLICY, "dailyTokens: 1000000, ", ""),),
        {ref: ("daily tokens 1000000 to 2000000",) for ref in BOTH},
    ),
    "adding_a_data_scope": Case(
        (),
        ((POLICY, '"kb:read", ', '"kb:read", "tickets:admin", '),),
        {ref: ("data scopes added: tickets:admin",) for ref in BOTH},
    ),
    "adding_a_data_scope_the_ceiling_refuses_widens_nothing": Case(
        (), ((POLICY, '"kb:read", ', '"kb:read", "kb:write", '),)
    ),
    "lowering_tool_risk": Case(
        ((POLICY, "  refund_issue: critical\n", "  refund_issue: critical\n  kb_lookup: high\n"),),
        ((POLICY, "  kb_lookup: high\n", "  kb_lookup: medium\n"),),
        {ref: ("risk of kb_lookup lowered from high to medium",) for ref in BOTH},
    ),
    "lowering_tool_risk_below_the_declared_risk_changes_nothing": Case(
        (), ((POLICY, "zendesk_reply: medium", "zendesk_reply: low"),)
    ),
    "raising_the_tier_of_the_policy_that_governs_prod": Case(
        (),
        ((POLICY, "autonomyTier: 2", "autonomyTier: 3"),),
        {ref: ("autonomy tier 2 to 3",) for ref in BOTH},
    ),
    "raising_the_tier_of_a_policy_that_governs_nothing": Case(
        (), ((f"{T}/policies/support-default.yaml", "autonomyTier: 2", "autonomyTier: 3"),)
    ),
    "narrowing_everything": Case(
        (),
        (
            (POLICY, "autonomyTier: 2", "autonomyTier: 1"),
            (POLICY, "kb_lookup, refund_issue]", "kb_lookup]"),
            (POLICY, "monthlyCost: 1500", "monthlyCost: 100"),
            (POLICY, ', "customers:read"]', "]"),
            (POLICY, "zendesk_reply: medium", "zendesk_reply: high"),
        ),
    ),
}


CASES["a_new_instance_with_its_versions_policy"] = Case((), (_new_instance("support-prod"),))
CASES["a_new_instance_with_a_wider_policy_than_its_version_gets"] = Case(
    (NEW_WIDE,),
    (_new_instance("support-wide"),),
    {"arm-dev/instance/support-prod-2": ("support-prod (wider: autonomy tier 2 to 3",)},
)
CASES["a_new_deployment_is_not_a_widening_by_itself"] = Case(
    (),
    (
        (
            f"{T}/deployments/staging/customer-support.yaml",
            "",
            "apiVersion: armgit/v1\nkind: Deployment\ntemplate: customer-support\n"
            "environment: staging\nversion: 2.0.0\nstatus: ACTIVE\nrequestedBy: alice\n",
        ),
    ),
)
CASES["a_retired_instance_is_no_target"] = Case(
    ((INSTANCE, "state: ACTIVE", "state: DRAINING"), NEW_WIDE),
    (
        (INSTANCE, "state: DRAINING", "state: RETIRED"),
        (INSTANCE, INSTANCE_POLICY, "policy: support-wide\n"),
    ),
)


def apply(files: dict[str, bytes], edits: tuple[Edit, ...]) -> dict[str, bytes]:
    files = dict(files)
    for path, old, new in edits:
        if not old:
            files[path] = new.encode()
            continue
        text = files[path].decode()
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
        text = text.replace(old, new)
        if text.strip():
            files[path] = text.encode()
        else:
            del files[path]
    return files


def views(case: Case) -> tuple[Snapshot, Snapshot, list[EntityId]]:
    before = apply(example_files(), case.setup)
    after = apply(before, case.change)
    changed = []
    for path in sorted(set(before) | set(after)):
        entity_id = identify(path)
        if isinstance(entity_id, EntityId) and before.get(path) != after.get(path):
            changed.append(entity_id)
    base = load_registry(MemoryTree(before))
    head = load_registry(MemoryTree(after))
    assert base.findings == [], base.findings
    return base.snapshot, head.snapshot, changed


@pytest.mark.parametrize("name", sorted(CASES))
def test_widening(name: str) -> None:
    case = CASES[name]
    base, head, changed = views(case)
    gates = policy_widenings(base, head, changed)
    got = {gate.subject.ref: f"{gate.change_from} -> {gate.change_to}" for gate in gates}
    assert sorted(got) == sorted(case.gates), got
    for ref, reasons in case.gates.items():
        for reason in reasons:
            assert reason in got[ref], (ref, got[ref])
    for gate in gates:
        assert gate.request_type == "POLICY_AUTONOMY_INCREASE"
        assert gate.subject.kind in ("Instance", "Deployment")
        assert gate.environment == "prod"
        # the approval binds the effective policy the target runs at the commit
        assert gate.digest == running_digest(head, gate.subject)
    # check_change raises the same gates, once
    result = check_change(base, head, changed)
    assert [g for g in result.gates if g.request_type == "POLICY_AUTONOMY_INCREASE"] == gates


def running_digest(view: Snapshot, target: EntityId) -> str:
    from armgit.core.index.build import tenant_entries

    tenant = tenant_entries(view, target.tenant)
    if target.kind == "Instance":
        instances = tenant["instances"]
        assert isinstance(instances, dict)
        entry = instances[target.name]
    else:
        environment, template = target.name.split("/")
        deployments = tenant["deployments"]
        assert isinstance(deployments, dict)
        by_template = deployments[environment]
        assert isinstance(by_template, dict)
        entry = by_template[template]
    assert isinstance(entry, dict)
    policies = tenant["policies"]
    assert isinstance(policies, dict)
    digest = sha256_digest(to_canonical_json(policies[str(entry["policy"])]))
    assert short_ref(digest) == entry["policy"]  # the index names the policy by its digest
    return digest


def test_only_ceilings_left_is_the_empty_policy() -> None:
    _, head, _ = views(
        CASES["detaching_the_last_plain_policy_leaves_only_ceilings_which_grant_nothing"]
    )
    version = head.get(EntityId("Version", "arm-dev", "2.0.0", "customer-support"), Version)
    assert version is not None
    effective = target_policy(head, "arm-dev", "prod", "customer-support", version, None)
    assert effective == NO_POLICY


class CountingView:
    """A snapshot that records which kinds the rule listed: the work must follow the change."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.listed: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.snapshot, name)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self.snapshot

    def ids(self, kind: str, tenant: str, within: str = "") -> list[EntityId]:
        self.listed.append(kind)
        return self.snapshot.ids(kind, tenant, within)


@pytest.mark.parametrize(
    ("name", "lists"),
    [
        ("attaching_a_wider_policy_to_an_instance", False),  # an instance: itself
        ("detaching_a_narrower_instance_policy_lets_the_version_policy_apply", False),
        ("a_new_deployment_is_not_a_widening_by_itself", False),
        ("raising_a_cost_limit", True),
        # a template's or version's attachment: that template's deployments and instances,
        # found by name and through the view's instances table, not by listing the tenant's
        ("a_templates_policy_changed", False),
        ("a_versions_policy_attachment_changed", False),
    ],
)
def test_the_work_follows_the_change(name: str, lists: bool) -> None:
    base, head, changed = views(CASES[name])
    counted = CountingView(base), CountingView(head)
    policy_widenings(counted[0], counted[1], changed)  # type: ignore[arg-type]
    assert bool(counted[0].listed + counted[1].listed) == lists


# -- a new version with no parent: compared with its template's released versions -------------


def new_version(label: str, tools: dict[str, str], template: str = "customer-support") -> Edit:
    """A DRAFT version with no ``parent`` whose manifest declares ``tools`` (id -> risk)."""
    genome: JsonObject = {
        "modelConfig": {"provider": "anthropic", "modelId": "claude-3-5-sonnet-20241022"},
        "promptBundleHash": "sha256:" + "0" * 64,
        "toolManifest": [
            {"toolId": tool, "schemaVersion": "1.0", "requiredPermissions": [], "risk": risk}
            for tool, risk in tools.items()
        ],
        "provenance": {"createdBy": "alice", "source": "test", "createdAt": "2026-02-05T10:00:00Z"},
    }
    text = (
        f"apiVersion: armgit/v1\nkind: Version\ntemplate: {template}\nlabel: {label}\n"
        f"lifecycle: DRAFT\ngenome: {json.dumps(genome)}\ngenomeHash: {genome_hash(genome)}\n"
    )
    return (f"{T}/templates/{template}/versions/{label}.yaml", "", text)


RELEASED = {"zendesk_search": "low", "zendesk_reply": "medium", "kb_lookup": "low"}
NEW_TEMPLATE: Edit = (
    f"{T}/templates/triage/template.yaml",
    "",
    "apiVersion: armgit/v1\nkind: Template\nname: triage\n",
)


@pytest.mark.parametrize(
    ("setup", "version", "gained"),
    [
        pytest.param((), new_version("3.0.0", RELEASED), None, id="released_tools_and_risks"),
        pytest.param(
            (),
            new_version("3.0.0", {**RELEASED, "refund_issue": "low"}),
            "risk of refund_issue high -> low",
            id="a_parentless_version_lowering_a_tools_risk",
        ),
        pytest.param(
            (),
            new_version("3.0.0", {**RELEASED, "wire_transfer": "high"}),
            "tool wire_transfer",
            id="a_parentless_version_adding_a_tool",
        ),
        pytest.param(
            (new_version("2.5.0", {**RELEASED, "wire_transfer": "high"}),),
            new_version("3.0.0", {**RELEASED, "wire_transfer": "high"}),
            "tool wire_transfer",
            id="a_draft_is_not_released",
        ),
        pytest.param(
            (NEW_TEMPLATE,),
            new_version("1.0.0", {"wire_transfer": "low"}, "triage"),
            None,
            id="the_first_version_of_a_template",
        ),
    ],
)
def test_parentless_version(setup: tuple[Edit, ...], version: Edit, gained: str | None) -> None:
    base, head, changed = views(Case(setup, (version,)))
    gates = check_change(base, head, changed).gates
    if gained is None:
        assert gates == []
        return
    (gate,) = gates
    assert gate.request_type == "PRIVILEGE_WIDENING"
    assert gate.change_from == "released 1.0.0, 2.0.0"
    assert gate.change_to is not None
    assert gained in gate.change_to
