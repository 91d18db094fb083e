"""Every state rule, each with a case that fails it and the example registry passing it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from armgit.core.canonical import genome_hash
from armgit.core.yamldata import YamlDoc, parse_yaml
from tests.unit.helpers import (
    DEPLOYMENT,
    INSTANCE,
    V1,
    V2,
    T,
    edit,
    example_files,
    findings_of,
    rules_of,
)

Files = dict[str, bytes]


def rehash(files: Files, path: str) -> Files:
    """Recompute genomeHash of a version file after its genome was edited (as authors do)."""
    text = files[path].decode()
    doc = parse_yaml(text.encode())
    assert isinstance(doc, YamlDoc)
    assert isinstance(doc.data, dict)
    old = doc.data["genomeHash"]
    assert isinstance(old, str)
    return {**files, path: text.replace(old, genome_hash(doc.data["genome"])).encode()}


def new_version(files: Files, label: str, parent: str, lifecycle: str = "DRAFT") -> Files:
    text = files[V2].decode().replace("label: 2.0.0", f"label: {label}")
    text = text.replace("parent: 1.0.0", f"parent: {parent}")
    text = text.replace("lifecycle: APPROVED", f"lifecycle: {lifecycle}")
    path = f"{T}/templates/customer-support/versions/{label}.yaml"
    return {**files, path: text.encode()}


CASES: list[tuple[str, Callable[[Files], Files], list[str]]] = [
    ("example is valid", lambda f: f, []),
    # one file
    (
        "schema: wrong type",
        lambda f: edit(
            f, f"{T}/environments/prod.yaml", "requiredApprovals: 1", "requiredApprovals: '1'"
        ),
        ["schema"],
    ),
    (
        "schema: unknown field",
        lambda f: edit(f, f"{T}/providers/local.yaml", "type: local", "type: local\nregion: x"),
        ["schema"],
    ),
    (
        "schema: unknown kind",
        lambda f: edit(f, f"{T}/roles/admin.yaml", "kind: Role", "kind: Rolle"),
        ["schema"],
    ),
    (
        "yaml: duplicate key",
        lambda f: edit(f, f"{T}/roles/admin.yaml", "name: admin", "name: admin\nname: root"),
        ["yaml"],
    ),
    (
        "yaml: unquoted timestamp in the genome",
        lambda f: edit(
            f, V1, 'createdAt: "2026-01-05T10:00:00Z"', "createdAt: 2026-01-05T10:00:00Z"
        ),
        ["yaml"],
    ),
    (
        "path-mismatch: name",
        lambda f: edit(f, f"{T}/policies/support-prod.yaml", "name: support-prod", "name: other"),
        ["path-mismatch"],
    ),
    (
        "path-mismatch: kind",
        lambda f: {**f, f"{T}/roles/admin.yaml": f[f"{T}/providers/local.yaml"]},
        ["path-mismatch"],
    ),
    (
        "path-mismatch: label",
        lambda f: edit(f, V1, "label: 1.0.0", "label: 1.0.1"),
        ["path-mismatch"],
    ),
    (
        "path-mismatch: tenant slug",
        lambda f: edit(f, f"{T}/tenant.yaml", "slug: arm-dev", "slug: arm-prod"),
        ["path-mismatch"],
    ),
    (
        "genome-hash-mismatch",
        lambda f: edit(f, V2, "temperature: 0.5", "temperature: 0.7"),
        ["genome-hash-mismatch"],
    ),
    (
        "artifact-hash-mismatch",
        lambda f: {**f, f"{T}/templates/customer-support/prompts/v2.md": b"changed\n"},
        ["artifact-hash-mismatch"],
    ),
    (
        "missing artifact file",
        lambda f: {k: v for k, v in f.items() if not k.endswith("prompts/v1.md")},
        ["dangling-reference"],
    ),
    # references
    (
        "dangling-reference: policy",
        lambda f: edit(f, INSTANCE, "policy: support-prod", "policy: nope"),
        ["dangling-reference"],
    ),
    (
        "dangling-reference: role of an operator",
        lambda f: edit(f, f"{T}/operators/alice.yaml", "role: engineer", "role: chief"),
        ["dangling-reference"],
    ),
    (
        "dangling-reference: parent",
        lambda f: rehash(edit(f, V2, "parent: 1.0.0", "parent: 0.9.0"), V2),
        ["dangling-reference"],
    ),
    (
        "dangling-reference: deployed version",
        lambda f: edit(f, DEPLOYMENT, "version: 2.0.0", "version: 3.0.0"),
        ["dangling-reference", "no-active-deployment"],
    ),
    (
        "cross-tenant-reference",
        lambda f: edit(
            f, INSTANCE, "version: customer-support@2.0.0", "version: other/customer-support@2.0.0"
        ),
        ["cross-tenant-reference"],
    ),
    (
        "missing-file: tenant.yaml",
        lambda f: {k: v for k, v in f.items() if k != f"{T}/tenant.yaml"},
        ["missing-file"],
    ),
    (
        "missing-file: armgit.yaml",
        lambda f: {k: v for k, v in f.items() if k != "armgit.yaml"},
        ["missing-file"],
    ),
    # lineage
    (
        "lineage-cycle",
        lambda f: rehash(
            edit(f, V1, "lifecycle: DEPRECATED", "parent: 2.0.0\nlifecycle: DEPRECATED"), V1
        ),
        ["lineage-cycle"],
    ),
    (
        "lineage: a chain of three is fine",
        lambda f: new_version(f, "2.1.0", "2.0.0"),
        [],
    ),
    # deployability
    (
        "not-deployable: DRAFT deployed to prod",
        lambda f: edit(f, V2, "lifecycle: APPROVED", "lifecycle: CANDIDATE"),
        ["not-deployable"],
    ),
    (
        "not-deployable: RETIRED still deployed",
        lambda f: edit(f, V2, "lifecycle: APPROVED", "lifecycle: RETIRED"),
        ["not-deployable"],
    ),
    (
        "DEPRECATED keeps running where it runs",
        lambda f: edit(f, V2, "lifecycle: APPROVED", "lifecycle: DEPRECATED"),
        [],
    ),
    (
        "a RETIRED deployment of a DRAFT is fine",
        lambda f: edit(
            edit(f, V2, "lifecycle: APPROVED", "lifecycle: DRAFT"),
            DEPLOYMENT,
            "status: ACTIVE",
            "status: RETIRED",
        ),
        ["no-active-deployment", "not-deployable"],
    ),
    (
        "no-active-deployment",
        lambda f: edit(f, DEPLOYMENT, "status: ACTIVE", "status: PENDING"),
        ["no-active-deployment"],
    ),
    (
        "duplicate-legacy-id: a second instance answers to the same agent id",
        lambda f: {
            **f,
            f"{T}/instances/support-prod-2.yaml": f[INSTANCE].replace(
                b"support-prod-1", b"support-prod-2"
            ),
        },
        ["duplicate-legacy-id"],
    ),
    (
        "instances in dev need no deployment",
        lambda f: edit(f, INSTANCE, "environment: prod", "environment: dev"),
        [],
    ),
    (
        "duplicate-active-deployment",
        lambda f: {**f, f"{T}/deployments/prod/other.yaml": f[DEPLOYMENT]},
        ["duplicate-active-deployment", "path-mismatch"],
    ),
    # ceilings
    (
        "ceiling-exceeded: tenant ceiling, tier",
        lambda f: edit(
            f, f"{T}/policies/support-default.yaml", "autonomyTier: 2", "autonomyTier: 5"
        ),
        ["ceiling-exceeded"],
    ),
    (
        "ceiling-exceeded: prod ceiling, risk lowered",
        lambda f: edit(
            f, f"{T}/policies/support-prod.yaml", "refund_issue: critical", "refund_issue: high"
        ),
        ["ceiling-exceeded"],
    ),
    (
        "ceiling-exceeded: unlimited cost under a limited ceiling",
        lambda f: edit(
            f,
            f"{T}/policies/support-prod.yaml",
            "costLimits: {dailyTokens: 1000000, monthlyCost: 1500}",
            "costLimits: {dailyTokens: 1000000}",
        ),
        ["ceiling-exceeded"],
    ),
    (
        "ceiling-exceeded: data scope",
        lambda f: edit(
            f,
            f"{T}/policies/support-prod.yaml",
            '"kb:read", "customers:read"]',
            '"kb:write", "customers:read"]',
        ),
        ["ceiling-exceeded"],
    ),
    (
        "ceiling-exceeded: fewer action approvals than the ceiling asks",
        lambda f: edit(
            edit(
                f,
                f"{T}/policies/prod-ceiling.yaml",
                "autonomyTier:",
                "actionApprovals: {count: 2, validFor: 30m}\nautonomyTier:",
            ),
            f"{T}/policies/support-prod.yaml",
            "autonomyTier: 2",
            "actionApprovals: {count: 1, validFor: 1h}\nautonomyTier: 2",
        ),
        ["ceiling-exceeded"],
    ),
    (
        "more action approvals than the ceiling asks is fine",
        lambda f: edit(
            edit(
                f,
                f"{T}/policies/prod-ceiling.yaml",
                "autonomyTier:",
                "actionApprovals: {count: 2, validFor: 30m}\nautonomyTier:",
            ),
            f"{T}/policies/support-prod.yaml",
            "autonomyTier: 2",
            "actionApprovals: {count: 3, validFor: 10m}\nautonomyTier: 2",
        ),
        [],
    ),
    (
        "narrowing a ceiling is fine",
        lambda f: edit(f, f"{T}/policies/support-prod.yaml", "autonomyTier: 2", "autonomyTier: 1"),
        [],
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_state_rule(mutate: Callable[[Files], Files], expected: list[str]) -> None:
    assert rules_of(mutate(example_files())) == expected


def test_findings_carry_file_line_and_pointer() -> None:
    files = edit(example_files(), INSTANCE, "policy: support-prod", "policy: nope")
    (finding,) = findings_of(files)
    assert finding.path == INSTANCE
    assert finding.pointer == "/policy"
    assert finding.line == 11
    assert "does not exist" in finding.message


def test_every_finding_is_collected() -> None:
    files = edit(example_files(), INSTANCE, "policy: support-prod", "policy: nope")
    files = edit(files, f"{T}/providers/local.yaml", "type: local", "type: remote")
    files = edit(files, V2, "temperature: 0.5", "temperature: 0.7")
    assert rules_of(files) == ["dangling-reference", "genome-hash-mismatch", "schema"]


def test_an_invalid_target_is_not_also_reported_as_dangling() -> None:
    files = edit(example_files(), V2, "temperature: 0.5", "temperature: 0.7")
    assert [f.path for f in findings_of(files)] == [V2]
